//! Player checks ahead of time (spec §1.5.13; upstream's "bad Discord" report): players of
//! upcoming matches who cannot be found on Discord, or who have no linked racetime.gg account
//! (so they cannot be invited to the room), are reported to the tournament's audit channel —
//! each problem once (`tournament_player_problems`), prefixed with the tournament's
//! `audit_mention` when it has one (upstream pinged a hard-coded maintainer). A match is
//! checked when it is imported or changes, and every few hours while it is within
//! [`WINDOW`] of starting, so someone who unlinks meanwhile is caught too.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait};

use crate::db::r#match;
use crate::matches;
use crate::opener::{OpenError, Opener, Resolved};
use crate::registry::Tournament;

/// How far ahead the periodic check looks (upstream: 48 hours).
pub const WINDOW: Duration = Duration::hours(48);

/// A player problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum Problem {
    /// No Discord id on the schedule and no guild member with the tag.
    #[sea_orm(string_value = "not_found")]
    NotFound,
    /// Found on Discord, but no racetime.gg account is linked.
    #[sea_orm(string_value = "not_linked")]
    NotLinked,
}

use sea_orm::sea_query::StringLen;

/// `tournament_player_problems`: each problem reported, once.
pub mod reported {
    use sea_orm::entity::prelude::*;

    /// One reported problem of one player of one match.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tournament_player_problems")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tournament.
        pub tournament_id: i64,
        /// The match.
        pub match_id: i64,
        /// The player: their Discord id, else their lower-cased name.
        pub player_key: String,
        /// What is wrong.
        pub problem: super::Problem,
        /// When it was reported.
        pub reported_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Whether a scheduled name is a placeholder for a bracket slot ("Winner of …", "Loser of …"),
/// not a person.
pub fn placeholder(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    lower.starts_with("winner of ") || lower.starts_with("loser of ")
}

/// The problems of resolved players: `(player, problem)`.
pub fn problems(players: &[Resolved]) -> Vec<(&Resolved, Problem)> {
    players
        .iter()
        .filter(|p| !placeholder(&p.player.display_name))
        .filter(|p| p.racetime_user_id.is_none())
        .map(|p| {
            let problem = if p.player.discord_user_id.is_none() {
                Problem::NotFound
            } else {
                Problem::NotLinked
            };
            (p, problem)
        })
        .collect()
}

impl Problem {
    /// What is wrong, after the player's name.
    pub fn explanation(self) -> &'static str {
        match self {
            Problem::NotFound => {
                "cannot be found on Discord (no Discord id on the schedule, and no member of the server has the tag)"
            }
            Problem::NotLinked => {
                "cannot be invited to the race room: no linked racetime.gg account (link at the website's profile page)"
            }
        }
    }
}

/// The line a problem is reported with.
pub fn line(m: &r#match::Model, p: &Resolved, problem: Problem) -> String {
    let who = match (problem, p.player.discord_tag.as_deref()) {
        (Problem::NotFound, Some(tag)) if !tag.is_empty() => {
            format!("{} (`{tag}`)", p.player.display_name)
        }
        _ => p.player.display_name.clone(),
    };
    let what = problem.explanation();
    format!(
        "Match `{}` ({}) on {}: {who} {what}.",
        m.external_id,
        m.title,
        m.scheduled_at.format("%Y-%m-%d %H:%M UTC")
    )
}

/// Records a problem; true when it is new (not reported before).
async fn record(
    db: &DatabaseConnection,
    m: &r#match::Model,
    p: &Resolved,
    problem: Problem,
) -> Result<bool, DbErr> {
    let key = p.player.discord_user_id.map_or_else(
        || p.player.display_name.trim().to_lowercase(),
        |id| id.to_string(),
    );
    let row = reported::ActiveModel {
        tournament_id: Set(m.tournament_id),
        match_id: Set(m.id),
        player_key: Set(key.chars().take(100).collect()),
        problem: Set(problem),
        reported_at: Set(Utc::now()),
        ..Default::default()
    };
    match reported::Entity::insert(row)
        .exec_without_returning(db)
        .await
    {
        Ok(_) => Ok(true),
        Err(error) if platform::db::is_unique_violation(&error) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Checks `matches` and reports their new problems in one audit message; the number of new
/// problems.
///
/// Errors: the database, or Identity / the gateway (then nothing is recorded for the match
/// that failed and the next round tries again).
pub async fn check(
    db: &DatabaseConnection,
    opener: &Opener,
    tournament: &Tournament,
    matches: &[r#match::Model],
) -> Result<usize, OpenError> {
    let mut lines = Vec::new();
    for m in matches {
        let resolved = opener.resolve(tournament, matches::players(m)).await?;
        for (p, problem) in problems(&resolved) {
            if record(db, m, p, problem).await? {
                lines.push(line(m, p, problem));
            }
        }
    }
    if lines.is_empty() {
        return Ok(0);
    }
    let mut text = String::new();
    if let Some(mention) = tournament
        .row
        .audit_mention
        .as_deref()
        .filter(|m| !m.is_empty())
    {
        text.push_str(mention);
        text.push_str("\n\n");
    }
    text.push_str(&lines.join("\n"));
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    };
    opener
        .audit(
            tournament,
            &format!("player-check:{}:{}", tournament.row.slug, &digest[..16]),
            &text.chars().take(2000).collect::<String>(),
        )
        .await;
    Ok(lines.len())
}

/// The periodic check of every match of `tournament` starting within [`WINDOW`].
///
/// Errors: as [`check`].
pub async fn check_upcoming(
    db: &DatabaseConnection,
    opener: &Opener,
    tournament: &Tournament,
    now: DateTime<Utc>,
) -> Result<usize, OpenError> {
    let upcoming = matches::between(db, tournament.row.id, now, now + WINDOW).await?;
    check(db, opener, tournament, &upcoming).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matches::Player;

    fn resolved(name: &str, discord: Option<u64>, racetime: Option<&str>) -> Resolved {
        Resolved {
            player: Player {
                display_name: name.into(),
                discord_user_id: discord,
                discord_tag: Some(name.to_lowercase()),
                streaming_from: String::new(),
            },
            racetime_user_id: racetime.map(str::to_owned),
        }
    }

    #[test]
    fn placeholders_and_linked_players_are_fine() {
        let players = vec![
            resolved("Alice", Some(1), Some("rt1")),
            resolved("Bob", Some(2), None),
            resolved("Carol", None, None),
            resolved("Winner of Match 12", None, None),
            resolved("loser of 3", None, None),
        ];
        let found: Vec<(&str, Problem)> = problems(&players)
            .into_iter()
            .map(|(p, problem)| (p.player.display_name.as_str(), problem))
            .collect();
        assert_eq!(
            found,
            vec![("Bob", Problem::NotLinked), ("Carol", Problem::NotFound)]
        );
    }
}

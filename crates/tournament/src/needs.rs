//! The scheduling-needs embed (spec §1.5.12): one message per configured channel listing the
//! commentators, trackers and broadcasters SpeedGaming still needs for the week's episodes,
//! with sign-up links; edited in place each round (`tournament_needs_posts` remembers it), and
//! posted again only if someone deleted it. Upstream's description said "next 48 hours" over a
//! week of data; this one says a week.

use chrono::{DateTime, Duration, Utc};
use platform::db::{u64_from_db, u64_to_db};
use platform::grpc::Peers;
use proto::discord::v1 as discord;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, IntoActiveModel,
};
use tonic::Code;

use crate::registry::Tournament;
use crate::speedgaming::{Episode, SpeedGaming};

/// How far ahead needs are listed.
pub const HORIZON: Duration = Duration::days(7);

/// SpeedGaming channel ids that are not broadcasts (placeholders and restream slots).
const NOT_BROADCASTS: [i64; 7] = [0, 31, 36, 62, 63, 64, 65];

/// `tournament_needs_posts`: the embed's message per tournament.
pub mod post {
    use sea_orm::entity::prelude::*;

    /// The posted embed of one tournament.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tournament_needs_posts")]
    pub struct Model {
        /// The tournament.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tournament_id: i64,
        /// The channel.
        pub channel_id: i64,
        /// The message.
        pub message_id: i64,
        /// Bumped when the message is posted again (part of the post's key).
        pub generation: i32,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The lines of each need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Commentators.
    pub commentators: Vec<String>,
    /// Trackers.
    pub trackers: Vec<String>,
    /// Broadcasters.
    pub broadcasters: Vec<String>,
}

fn need_line(episode: &Episode, count: i64, kind: &str) -> String {
    format!(
        "*<t:{}:f>* - Need **{count}** - [Sign Up!](http://speedgaming.org/{kind}/signup/{}/)",
        episode.when.timestamp(),
        episode.id
    )
}

/// What the episodes still need in `language` (spec §1.5.12's counting).
pub fn needs(episodes: &[Episode], language: &str) -> Needs {
    let mut out = Needs::default();
    for episode in episodes {
        let channels: Vec<&str> = episode
            .channels
            .iter()
            .filter(|c| !NOT_BROADCASTS.contains(&c.id) && c.language == language)
            .map(|c| c.slug.as_str())
            .collect();
        let Some(first) = channels.first() else {
            continue;
        };
        let approved = |crew: &[crate::speedgaming::Crew], same_language: bool| {
            crew.iter()
                .filter(|c| c.approved && (!same_language || c.language == language))
                .count() as i64
        };
        let comms = 2 - approved(&episode.commentators, true);
        if comms > 0 {
            out.commentators
                .push(need_line(episode, comms, "commentator"));
        }
        let players = episode.match1.as_ref().map_or(0, |m| m.players.len());
        let trackers = if players > 2 { 2 } else { 1 } - approved(&episode.trackers, true);
        if trackers > 0 {
            out.trackers.push(need_line(episode, trackers, "tracker"));
        }
        let ours = first.eq_ignore_ascii_case("alttprandomizer")
            || (2..=6).any(|n| first.eq_ignore_ascii_case(&format!("alttprandomizer{n}")));
        if ours {
            let broadcasters = 1 - approved(&episode.broadcasters, false);
            if broadcasters > 0 {
                out.broadcasters
                    .push(need_line(episode, broadcasters, "broadcaster"));
            }
        }
    }
    out
}

/// A field's text: the lines up to Discord's 1,024 characters, or "No current needs.".
fn field_text(lines: &[String]) -> String {
    if lines.is_empty() {
        return "No current needs.".into();
    }
    let mut out = String::new();
    for line in lines {
        if out.len() + line.len() + 1 > 1000 {
            out.push_str("\n…");
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// The embed: "Scheduling Needs" with the commentator, tracker (when `trackers`) and
/// broadcaster (when any) fields.
pub fn embed(needs: &Needs, trackers: bool) -> discord::Embed {
    let field = |name: &str, lines: &[String]| discord::EmbedField {
        name: name.into(),
        value: field_text(lines),
        inline: false,
    };
    let mut fields = vec![field("Commentators Needed", &needs.commentators)];
    if trackers {
        fields.push(field("Trackers Needed", &needs.trackers));
    }
    if !needs.broadcasters.is_empty() {
        fields.push(field("Broadcasters Needed", &needs.broadcasters));
    }
    discord::Embed {
        title: "Scheduling Needs".into(),
        description: "Crew needed for the next 7 days of matches.".into(),
        color: 0x3498db,
        fields,
        ..Default::default()
    }
}

/// Refreshes `tournament`'s embed from SpeedGaming as of `now`; false when the tournament has
/// no needs channel.
///
/// Errors: SpeedGaming, the database or the gateway.
pub async fn refresh(
    db: &DatabaseConnection,
    peers: &Peers,
    sg: &SpeedGaming,
    tournament: &Tournament,
    now: DateTime<Utc>,
) -> Result<bool, anyhow::Error> {
    let (Some(channel), Some(event)) = (
        tournament.row.scheduling_needs_channel_id,
        tournament.row.speedgaming_event.as_deref(),
    ) else {
        return Ok(false);
    };
    let channel = u64_from_db(channel);
    let episodes = sg.schedule(event, now, now + HORIZON).await?;
    let language = tournament
        .row
        .scheduling_needs_language
        .as_deref()
        .unwrap_or("en");
    let embed = embed(
        &needs(&episodes, language),
        tournament.row.scheduling_needs_tracker,
    );
    let mut client = crate::notify::discord_client(peers)?;
    let existing = post::Entity::find_by_id(tournament.row.id).one(db).await?;
    if let Some(row) = existing
        .as_ref()
        .filter(|r| u64_from_db(r.channel_id) == channel)
    {
        match client
            .edit_message(discord::EditMessageRequest {
                channel_id: channel,
                message_id: u64_from_db(row.message_id),
                content: String::new(),
                embeds: vec![embed.clone()],
            })
            .await
        {
            Ok(_) => return Ok(true),
            // Deleted by someone: posted again below.
            Err(status) if status.code() == Code::NotFound => {}
            Err(status) => return Err(status.into()),
        }
    }
    let generation = existing.as_ref().map_or(0, |r| r.generation + 1);
    let sent = client
        .send_message(discord::SendMessageRequest {
            idempotency_key: format!(
                "tournament-needs:{}:{channel}:{generation}",
                tournament.row.slug
            ),
            channel_id: channel,
            content: String::new(),
            embeds: vec![embed],
        })
        .await?
        .into_inner();
    match existing {
        Some(row) => {
            let mut active = row.into_active_model();
            active.channel_id = Set(u64_to_db(channel));
            active.message_id = Set(u64_to_db(sent.message_id));
            active.generation = Set(generation);
            active.update(db).await?;
        }
        None => {
            post::ActiveModel {
                tournament_id: Set(tournament.row.id),
                channel_id: Set(u64_to_db(channel)),
                message_id: Set(u64_to_db(sent.message_id)),
                generation: Set(0),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn episode(id: i64, channel: (i64, &str), players: usize, json_crew: &str) -> Episode {
        let players: Vec<serde_json::Value> = (0..players)
            .map(|i| serde_json::json!({"displayName": format!("P{i}")}))
            .collect();
        let mut value = serde_json::json!({
            "id": id, "when": "2026-12-01T18:00:00+00:00",
            "event": {"slug": "alttpr"},
            "match1": {"title": "", "players": players},
            "channels": [{"id": channel.0, "name": channel.1, "slug": channel.1, "language": "en"}],
        });
        let crew: serde_json::Value = serde_json::from_str(json_crew).unwrap();
        for (k, v) in crew.as_object().unwrap() {
            value[k] = v.clone();
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn needs_are_counted_per_language_and_channel() {
        let episodes = vec![
            // Our channel, one approved English commentator: 1 comm, 1 tracker, 1 broadcaster.
            episode(
                1,
                (10, "ALTTPRandomizer2"),
                2,
                r#"{"commentators": [{"approved": true, "language": "en"}, {"approved": false, "language": "en"}]}"#,
            ),
            // Someone else's channel, four players, all crew there: nothing but trackers 0.
            episode(
                2,
                (11, "speedgaming"),
                4,
                r#"{"commentators": [{"approved": true, "language": "en"}, {"approved": true, "language": "en"}],
                    "trackers": [{"approved": true, "language": "en"}, {"approved": true, "language": "en"}]}"#,
            ),
            // A placeholder channel: skipped.
            episode(3, (31, "tbd"), 2, "{}"),
        ];
        let found = needs(&episodes, "en");
        assert_eq!(
            found.commentators,
            vec![
                "*<t:1796148000:f>* - Need **1** - [Sign Up!](http://speedgaming.org/commentator/signup/1/)"
            ]
        );
        assert_eq!(found.trackers.len(), 1);
        assert_eq!(
            found.broadcasters,
            vec![
                "*<t:1796148000:f>* - Need **1** - [Sign Up!](http://speedgaming.org/broadcaster/signup/1/)"
            ]
        );
        let shown = embed(&found, false);
        assert_eq!(shown.title, "Scheduling Needs");
        let names: Vec<&str> = shown.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Commentators Needed", "Broadcasters Needed"]);
        let none = embed(&Needs::default(), true);
        assert_eq!(none.fields[1].value, "No current needs.");
        assert_eq!(none.fields.len(), 2);
    }
}

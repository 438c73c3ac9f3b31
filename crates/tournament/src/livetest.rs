//! The dry run's live mode (`tournament dry-run <slug> --live-test-category <category>`): the
//! same race day for real, in a test category and compressed in time. The tournament is copied
//! as `<slug>-live-test` (its room profile, roller, helpers, channels and settings form; the
//! racetime.gg category replaced; no Discord scheduled events and no scheduling-needs embed;
//! the room lead time divided by the compression), and each match of the window becomes an
//! internal match of the copy, its start `compress` times closer to now. The running tournament
//! service then opens the rooms, invites and DMs the players, rolls the seeds and records the
//! results exactly as it will on the day. Staging twice updates the same matches.

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;

use crate::db::ScheduleSource;
use crate::matches::{self, NewMatch};
use crate::registry::{self, Actor, Tournament};

/// Time between staging and the first compressed room opening.
pub const LEAD: Duration = Duration::minutes(2);

/// The staged copy.
#[derive(Clone, Debug)]
pub struct Staged {
    /// The copy's slug.
    pub slug: String,
    /// Its matches: start and title, soonest first.
    pub matches: Vec<(DateTime<Utc>, String)>,
    /// Minutes before a match its room opens in the copy.
    pub room_open_minutes_before: u32,
}

impl Staged {
    /// What was staged, one line per match in `zone`.
    pub fn render(&self, zone: &str, category: &str) -> String {
        let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
        let mut out = format!(
            "\nLive test staged as `{}` in racetime.gg category `{category}` (rooms open {} minute(s) before each start); the running tournament service opens the rooms, invites and DMs the players and rolls the seeds:\n",
            self.slug, self.room_open_minutes_before
        );
        for (at, title) in &self.matches {
            out.push_str(&format!(
                "{}  {title}\n",
                at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %Z")
            ));
        }
        if self.matches.is_empty() {
            out.push_str("No matches in the window.\n");
        }
        out
    }
}

/// The copy's slug: `<slug>-live-test`, kept within the 40 characters a slug may have.
pub fn copy_slug(slug: &str) -> String {
    let suffix = "-live-test";
    let head: String = slug.chars().take(40 - suffix.len()).collect();
    format!("{head}{suffix}")
}

/// When a match at `at` starts in the copy: `now` + the lead + the copy's room lead time +
/// its distance from `from` divided by `compress`.
pub fn compressed(
    at: DateTime<Utc>,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    compress: u32,
    room_open_minutes: u32,
) -> DateTime<Utc> {
    let offset = (at - from).num_milliseconds().max(0) / i64::from(compress.max(1));
    now + LEAD + Duration::minutes(i64::from(room_open_minutes)) + Duration::milliseconds(offset)
}

/// Stages the live test of `t`'s matches in `[from, from + hours]` in racetime.gg category
/// `category`, `compress` times faster, as of `now`.
///
/// Errors: the category is empty, the copy's settings are refused, or the database failed.
pub async fn stage(
    db: &DatabaseConnection,
    t: &Tournament,
    category: &str,
    from: DateTime<Utc>,
    hours: u32,
    compress: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<Staged> {
    let category = category.trim();
    anyhow::ensure!(!category.is_empty(), "name the racetime.gg test category");
    anyhow::ensure!(
        category != t.row.racetime_category,
        "the test category must not be the tournament's own (`{category}`)"
    );
    let compress = compress.max(1);
    let room_open = (t.row.room_open_minutes_before.max(0) as u32 / compress).max(1);
    let mut config = crate::grpc::config_message(t);
    config.slug = copy_slug(&t.row.slug);
    config.name = format!("{} (live test)", t.row.name)
        .chars()
        .take(200)
        .collect();
    config.racetime_category = category.to_owned();
    config.schedule_source = "internal".into();
    config.speedgaming_event = String::new();
    config.active = true;
    config.starts_at = None;
    config.ends_at = None;
    config.scheduled_events = false;
    config.scheduling_needs_channel_id = 0;
    config.room_open_minutes_before = room_open;
    let settings = crate::grpc::settings(config).map_err(|s| anyhow::anyhow!("{}", s.message()))?;
    let copy = registry::upsert(db, Actor::Operator, settings).await?;
    let to = from + Duration::hours(i64::from(hours));
    let mut staged = Vec::new();
    for m in matches::between(db, t.row.id, from, to).await? {
        let start = compressed(m.scheduled_at, from, now, compress, room_open);
        let title = if m.title.is_empty() {
            "live test".to_owned()
        } else {
            format!("{} (live test)", m.title)
        };
        let new = NewMatch {
            external_id: format!("live-test-{}", m.external_id),
            title: title.clone(),
            scheduled_at: start,
            broadcast_at: None,
            players: matches::players(&m),
            channels: matches::channels(&m),
            goal_override: m.goal_override.clone(),
            invitational_override: m.invitational_override,
        };
        matches::upsert(db, copy.row.id, ScheduleSource::Internal, &new).await?;
        staged.push((start, title));
    }
    Ok(Staged {
        slug: copy.row.slug,
        matches: staged,
        room_open_minutes_before: room_open,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_keeps_a_valid_slug() {
        assert_eq!(copy_slug("alttpr"), "alttpr-live-test");
        assert_eq!(copy_slug(&"x".repeat(40)).len(), 40);
    }

    #[test]
    fn a_day_is_compressed_toward_now() {
        let from = DateTime::parse_from_rfc3339("2026-12-05T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        // 6 hours into the day, 12 times faster: 30 minutes, after the lead and the room lead.
        let at = from + Duration::hours(6);
        assert_eq!(
            compressed(at, from, now, 12, 5),
            now + LEAD + Duration::minutes(5) + Duration::minutes(30)
        );
        assert_eq!(
            compressed(from, from, now, 12, 5),
            now + LEAD + Duration::minutes(5)
        );
    }
}

//! Discord scheduled events for upcoming matches (spec §1.5.11, upstream's legacy semantics;
//! its HEAD was broken there): a tournament with `scheduled_events` gets one external event per
//! match in the next week in its guild — created once (the gateway deduplicates by the
//! idempotency key, and `tournament_scheduled_events` remembers the event), edited when the
//! match changes, recreated if someone deleted it on Discord, and deleted when the match is
//! gone or has started.
//!
//! Event: name `"{SLUG} - {title} - {A vs. B}"` (≤ 100 characters, empty parts skipped),
//! description `"Start Time: <t:{unix}:f>"`, start at the race, end two hours later, location
//! the first broadcast channel on Twitch, else a multistre.am of the players' streams, else
//! `TBD`.

use chrono::{DateTime, Duration, Utc};
use platform::db::{u64_from_db, u64_to_db};
use platform::grpc::Peers;
use proto::discord::v1 as discord;
use proto::discord::v1::discord_client::DiscordClient;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use sha2::Digest;
use tonic::{Code, Status};

use crate::db::r#match;
use crate::matches;
use crate::opener::OpenError;
use crate::registry::Tournament;

/// How far ahead events are kept (upstream: 168 hours).
pub const HORIZON: Duration = Duration::days(7);
/// How long an event lasts on Discord.
pub const LENGTH: Duration = Duration::hours(2);

/// `tournament_scheduled_events`: the Discord event of a match.
pub mod event {
    use sea_orm::entity::prelude::*;

    /// One match's event.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tournament_scheduled_events")]
    pub struct Model {
        /// The match.
        #[sea_orm(primary_key, auto_increment = false)]
        pub match_id: i64,
        /// Its tournament.
        pub tournament_id: i64,
        /// The guild.
        pub guild_id: i64,
        /// The Discord event.
        pub event_id: i64,
        /// Digest of what the event says (name, description, times, location).
        pub digest: String,
        /// Bumped when the event is recreated (part of the creation key).
        pub generation: i32,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What a match's event says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// At most 100 characters.
    pub name: String,
    /// `Start Time: <t:…:f>`.
    pub description: String,
    /// Twitch, multistre.am or `TBD`.
    pub location: String,
    /// The race start.
    pub start: DateTime<Utc>,
    /// Two hours later.
    pub end: DateTime<Utc>,
}

impl Spec {
    /// The event of match `m` of tournament `slug`.
    pub fn of(slug: &str, m: &r#match::Model) -> Self {
        let players = matches::players(m);
        let versus = players
            .iter()
            .map(|p| p.display_name.as_str())
            .collect::<Vec<_>>()
            .join(" vs. ");
        let name: String = [slug.to_uppercase(), m.title.clone(), versus]
            .into_iter()
            .filter(|part| !part.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" - ")
            .chars()
            .take(100)
            .collect();
        let streams: Vec<&str> = players
            .iter()
            .map(|p| p.streaming_from.as_str())
            .filter(|s| !s.is_empty())
            .collect();
        let location = match matches::channels(m).first() {
            Some(channel) => format!("https://twitch.tv/{channel}"),
            None if !streams.is_empty() => {
                format!("https://multistre.am/{}/layout3/", streams.join("/"))
            }
            None => "TBD".to_owned(),
        };
        Self {
            name,
            description: format!("Start Time: <t:{}:f>", m.scheduled_at.timestamp()),
            location,
            start: m.scheduled_at,
            end: m.scheduled_at + LENGTH,
        }
    }

    fn digest(&self) -> String {
        let text = format!(
            "{}\n{}\n{}\n{}\n{}",
            self.name,
            self.description,
            self.location,
            self.start.timestamp(),
            self.end.timestamp()
        );
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    }

    fn request(&self, key: String, guild: u64, event_id: u64) -> discord::ScheduledEvent {
        discord::ScheduledEvent {
            idempotency_key: key,
            guild_id: guild,
            event_id,
            name: self.name.clone(),
            description: self.description.clone(),
            location: self.location.clone(),
            start_time: Some(platform::grpc::timestamp(self.start)),
            end_time: Some(platform::grpc::timestamp(self.end)),
        }
    }
}

fn refused(status: Status) -> OpenError {
    OpenError::Peer {
        peer: "gateway",
        status,
    }
}

/// What one sync did: `(created, updated, deleted)`.
pub type Synced = (usize, usize, usize);

/// Brings the guild's events in line with `tournament`'s matches as of `now`.
///
/// Errors: the database or the gateway (what was done stays recorded; the next round
/// continues).
pub async fn sync(
    db: &DatabaseConnection,
    peers: &Peers,
    tournament: &Tournament,
    now: DateTime<Utc>,
) -> Result<Synced, OpenError> {
    let (Some(guild), true) = (tournament.row.guild_id, tournament.row.scheduled_events) else {
        return Ok((0, 0, 0));
    };
    let guild = u64_from_db(guild);
    let upcoming = matches::between(db, tournament.row.id, now, now + HORIZON).await?;
    let known = event::Entity::find()
        .filter(event::Column::TournamentId.eq(tournament.row.id))
        .all(db)
        .await?;
    let mut client = crate::notify::discord_client(peers).map_err(refused)?;
    let (mut created, mut updated, mut deleted) = (0, 0, 0);
    // Gone, cancelled or started: the event goes.
    for row in known
        .iter()
        .filter(|row| !upcoming.iter().any(|m| m.id == row.match_id))
    {
        match client
            .delete_scheduled_event(discord::DeleteScheduledEventRequest {
                guild_id: u64_from_db(row.guild_id),
                event_id: u64_from_db(row.event_id),
            })
            .await
        {
            Ok(_) => deleted += 1,
            Err(status) if status.code() == Code::NotFound => {}
            Err(status) => return Err(refused(status)),
        }
        event::Entity::delete_by_id(row.match_id).exec(db).await?;
    }
    for m in &upcoming {
        let spec = Spec::of(&tournament.row.slug, m);
        let digest = spec.digest();
        let row = known.iter().find(|row| row.match_id == m.id);
        match row {
            Some(row) if row.digest == digest => {}
            Some(row) => {
                let request = spec.request(String::new(), guild, u64_from_db(row.event_id));
                match client.update_scheduled_event(request).await {
                    Ok(_) => {
                        let mut active = row.clone().into_active_model();
                        active.digest = Set(digest);
                        active.update(db).await?;
                        updated += 1;
                    }
                    // Deleted on Discord by someone: made again.
                    Err(status) if status.code() == Code::NotFound => {
                        let generation = row.generation + 1;
                        let id =
                            create(&mut client, tournament, m, &spec, guild, generation).await?;
                        let mut active = row.clone().into_active_model();
                        active.event_id = Set(u64_to_db(id));
                        active.digest = Set(digest);
                        active.generation = Set(generation);
                        active.update(db).await?;
                        created += 1;
                    }
                    Err(status) => return Err(refused(status)),
                }
            }
            None => {
                let id = create(&mut client, tournament, m, &spec, guild, 0).await?;
                event::ActiveModel {
                    match_id: Set(m.id),
                    tournament_id: Set(tournament.row.id),
                    guild_id: Set(u64_to_db(guild)),
                    event_id: Set(u64_to_db(id)),
                    digest: Set(digest),
                    generation: Set(0),
                }
                .insert(db)
                .await?;
                created += 1;
            }
        }
    }
    Ok((created, updated, deleted))
}

/// Creates the event; the key (tournament, match, generation) makes a retry after a crash
/// return the same event instead of a second one.
async fn create(
    client: &mut DiscordClient<platform::grpc::TracedChannel>,
    tournament: &Tournament,
    m: &r#match::Model,
    spec: &Spec,
    guild: u64,
    generation: i32,
) -> Result<u64, OpenError> {
    let key = format!(
        "tournament-event:{}:{}:{generation}",
        tournament.row.slug, m.id
    );
    let created = client
        .create_scheduled_event(spec.request(key, guild, 0))
        .await
        .map_err(refused)?
        .into_inner();
    Ok(created.event_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(players: &str, channels: &str) -> r#match::Model {
        let at = DateTime::parse_from_rfc3339("2026-12-01T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        r#match::Model {
            id: 1,
            tournament_id: 1,
            source: crate::db::ScheduleSource::Speedgaming,
            external_id: "801".into(),
            title: "Round 3: Boss Shuffle".into(),
            scheduled_at: at,
            broadcast_at: None,
            players: players.into(),
            channels: channels.into(),
            goal_override: None,
            invitational_override: None,
            content_hash: String::new(),
            link_alerted: false,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_event_says_what_upstream_said() {
        let players = r#"[{"display_name":"Alice","streaming_from":"alice"},{"display_name":"Bob","streaming_from":"bob"}]"#;
        let spec = Spec::of("alttpr", &model(players, r#"["SpeedGaming"]"#));
        assert_eq!(spec.name, "ALTTPR - Round 3: Boss Shuffle - Alice vs. Bob");
        assert_eq!(spec.description, "Start Time: <t:1796148000:f>");
        assert_eq!(spec.location, "https://twitch.tv/SpeedGaming");
        assert_eq!(spec.end - spec.start, Duration::hours(2));
        let unbroadcast = Spec::of("alttpr", &model(players, "[]"));
        assert_eq!(
            unbroadcast.location,
            "https://multistre.am/alice/bob/layout3/"
        );
        let nobody = Spec::of("alttpr", &model("[]", "[]"));
        assert_eq!(nobody.location, "TBD");
        assert_eq!(nobody.name, "ALTTPR - Round 3: Boss Shuffle");
        assert_ne!(spec.digest(), unbroadcast.digest());
    }
}

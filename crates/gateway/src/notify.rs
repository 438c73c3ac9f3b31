//! Notifications: consumers that turn other services' events into posts in the channels a
//! guild configured. One generic consumer runs each [`Notification`]: it finds the guilds that
//! set the notification's key, renders a post per channel and sends it with the idempotency
//! key `notify:{event id}:{channel}`, so a redelivered event never posts twice. Tournament
//! events plug in as further `Notification`s.

use platform::events::{Contract, HandlerError, Subscriber};
use proto::events::v1::{Envelope, RaceStatusChanged, SeedGenerated};
use sea_orm::DatabaseTransaction;

use twilight_model::channel::message::Embed;

use crate::embeds::{blank, field};
use crate::grpc::DiscordApi;
use crate::guild_config::{GuildConfig, GuildSettings, Key};

/// One kind of post: which event, which guild key, what it says.
pub trait Notification: Send + Sync + 'static {
    /// Durable consumer name (`gateway-…`).
    const NAME: &'static str;
    /// Guilds that set this key are candidates.
    const KEY: Key;
    /// The event it reacts to (hence the subject).
    type Event: Contract;
    /// The posts for one guild: `(channel, embed)`; empty when this guild is not interested.
    fn render(event: &Self::Event, guild: &GuildSettings) -> Vec<(u64, Embed)>;
}

/// Runs a [`Notification`] as a durable consumer.
#[derive(Debug)]
pub struct Notifier<N> {
    api: DiscordApi,
    config: GuildConfig,
    _kind: std::marker::PhantomData<fn() -> N>,
}

impl<N: Notification> Notifier<N> {
    /// The notification posting through `api` to the guilds `config` names.
    pub fn new(api: DiscordApi, config: GuildConfig) -> Self {
        Self {
            api,
            config,
            _kind: std::marker::PhantomData,
        }
    }
}

impl<N: Notification> Subscriber for Notifier<N> {
    type Event = N::Event;

    fn name(&self) -> &str {
        N::NAME
    }

    async fn on(
        &self,
        _txn: &DatabaseTransaction,
        event: N::Event,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        for (_, settings) in self.config.guilds_with(N::KEY).await? {
            for (channel, embed) in N::render(&event, &settings) {
                let key = format!("notify:{}:{channel}", envelope.id);
                post_once(&self.api, &key, channel, embed, N::NAME).await?;
            }
        }
        Ok(())
    }
}

/// Posts `embed` to `channel` once per `key`. Discord or the network down is transient (the
/// event is tried again later); a channel that is gone or closed to the bot is logged and
/// skipped — the guild must fix its configuration, and other guilds still get theirs.
///
/// Errors: [`HandlerError::Transient`] while Discord is unavailable.
async fn post_once(
    api: &DiscordApi,
    key: &str,
    channel: u64,
    embed: Embed,
    what: &str,
) -> Result<(), HandlerError> {
    match api.send(key, channel, "", &[embed]).await {
        Ok(_) => Ok(()),
        Err(status) if status.code() == tonic::Code::Unavailable => Err(HandlerError::Transient(
            anyhow::anyhow!("posting to channel {channel}: {}", status.message()),
        )),
        Err(status) => {
            tracing::warn!(channel, error = %status.message(), notification = what, "not posted");
            Ok(())
        }
    }
}

/// `seedgen.seed.generated` → the guild's seed audit channel.
#[derive(Debug)]
pub struct SeedAudit;

impl Notification for SeedAudit {
    const NAME: &'static str = "gateway-seed-audit";
    const KEY: Key = Key::SeedAuditChannel;
    type Event = SeedGenerated;

    fn render(seed: &SeedGenerated, guild: &GuildSettings) -> Vec<(u64, Embed)> {
        let Some(channel) = guild.channel(Key::SeedAuditChannel) else {
            return Vec::new();
        };
        let mut embed = blank(
            Some("Seed generated".into()),
            None,
            Some(crate::embeds::DARK_RED),
        );
        // The permalink of a race seed is fine for an audit channel; the spoiler log is not
        // posted.
        embed.url = (!seed.permalink.is_empty()).then(|| seed.permalink.clone());
        embed.fields = [
            ("Randomizer", seed.randomizer.as_str()),
            ("Preset", &seed.preset),
            ("Kind", &seed.kind),
            ("Requested by", &seed.requested_by),
            ("Surface", &seed.surface),
            ("Race", if seed.race { "yes" } else { "no" }),
            ("Hash", &seed.hash),
        ]
        .into_iter()
        .map(|(name, value)| field(name, value, true))
        .collect();
        vec![(channel, embed)]
    }
}

/// `racetime.race.status_changed` to `in_progress` with a watched racer → the guild's race
/// watch channel (spec §1.12; upstream kept watchers in the database only).
#[derive(Debug)]
pub struct RaceWatch;

impl Notification for RaceWatch {
    const NAME: &'static str = "gateway-race-watch";
    const KEY: Key = Key::RaceWatchChannel;
    type Event = RaceStatusChanged;

    fn render(race: &RaceStatusChanged, guild: &GuildSettings) -> Vec<(u64, Embed)> {
        if race.status != "in_progress" || race.previous_status == "in_progress" {
            return Vec::new();
        }
        let Some(channel) = guild.channel(Key::RaceWatchChannel) else {
            return Vec::new();
        };
        let categories = guild.list(Key::RaceWatchCategories);
        if !categories.is_empty() && !categories.contains(&race.category.as_str()) {
            return Vec::new();
        }
        let watched = guild.list(Key::RaceWatchPlayers);
        // The profile lives on the same racetime.gg host as the room.
        let origin = url::Url::parse(&race.room_url)
            .ok()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|| "https://racetime.gg".into());
        race.entrants
            .iter()
            .filter(|e| watched.contains(&e.user_id.as_str()))
            .map(|e| {
                (
                    channel,
                    blank(
                        Some("Watchlisted Player Detected in race".into()),
                        Some(format!(
                            "Watchlisted player [{}]({origin}/user/{}) began racing in [{}]({})",
                            e.name, e.user_id, race.room, race.room_url
                        )),
                        Some(0xE74C3C),
                    ),
                )
            })
            .collect()
    }
}

/// `racetime.race.status_changed` to `in_progress` → "New Racer Detected!" in the race watch
/// channel of each guild that set `RaceWatchNewRacers` (N), for every entrant with at most N
/// finished races on racetime.gg (spec §1.12, where N was 0 and watchers were database rows).
/// The races are counted by the racetime service (`CountRaces`, which stops reading at N + 1).
#[derive(Debug)]
pub struct NewRacers {
    api: DiscordApi,
    config: GuildConfig,
    racetime: platform::grpc::Peer,
}

impl NewRacers {
    /// The notification, counting races through `racetime`.
    pub fn new(api: DiscordApi, config: GuildConfig, racetime: platform::grpc::Peer) -> Self {
        Self {
            api,
            config,
            racetime,
        }
    }

    /// How many finished races `user` has, counting up to `stop`; `None` for an unknown user.
    async fn finished(&self, user: &str, stop: u32) -> Result<Option<u32>, HandlerError> {
        use proto::racetime::v1::race_rooms_client::RaceRoomsClient;
        let request = proto::racetime::v1::CountRacesRequest {
            user_id: user.to_owned(),
            categories: Vec::new(),
            since: None,
            minimum: stop,
        };
        let peer = &self.racetime;
        match peer
            .call(|| {
                let mut client = RaceRoomsClient::new(peer.channel());
                let request = request.clone();
                async move { client.count_races(request).await }
            })
            .await
        {
            Ok(reply) => Ok(Some(reply.into_inner().count)),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
            Err(status) if status.code() == tonic::Code::InvalidArgument => Ok(None),
            Err(status) => Err(HandlerError::Transient(anyhow::anyhow!(
                "counting {user}'s races: {}",
                status.message()
            ))),
        }
    }
}

impl Subscriber for NewRacers {
    type Event = RaceStatusChanged;

    fn name(&self) -> &str {
        "gateway-new-racers"
    }

    async fn on(
        &self,
        _txn: &DatabaseTransaction,
        race: RaceStatusChanged,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        if race.status != "in_progress" || race.previous_status == "in_progress" {
            return Ok(());
        }
        let origin = url::Url::parse(&race.room_url)
            .ok()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|| "https://racetime.gg".into());
        // (channel, threshold) of each interested guild.
        let mut targets = Vec::new();
        for (_, settings) in self.config.guilds_with(Key::RaceWatchNewRacers).await? {
            let (Some(channel), Some(most)) = (
                settings.channel(Key::RaceWatchChannel),
                settings.number(Key::RaceWatchNewRacers),
            ) else {
                continue;
            };
            let categories = settings.list(Key::RaceWatchCategories);
            if categories.is_empty() || categories.contains(&race.category.as_str()) {
                targets.push((channel, most));
            }
        }
        let Some(highest) = targets.iter().map(|(_, most)| *most).max() else {
            return Ok(());
        };
        for entrant in &race.entrants {
            // One count per entrant, read far enough for the most generous guild.
            let Some(count) = self.finished(&entrant.user_id, highest + 1).await? else {
                continue;
            };
            for &(channel, most) in &targets {
                if count > most {
                    continue;
                }
                let embed = blank(
                    Some("New Racer Detected!".into()),
                    Some(format!(
                        "A new racer named [{}]({origin}/user/{}) began racing in [{}]({})",
                        entrant.name, entrant.user_id, race.room, race.room_url
                    )),
                    Some(0x2ECC71),
                );
                let key = format!("newracer:{}:{channel}:{}", envelope.id, entrant.user_id);
                post_once(&self.api, &key, channel, embed, "gateway-new-racers").await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::events::v1::RaceEntrant;

    fn settings(pairs: &[(Key, &str)]) -> GuildSettings {
        let mut s = GuildSettings::default();
        for (k, v) in pairs {
            s.insert(*k, v);
        }
        s
    }

    fn race(status: &str, category: &str) -> RaceStatusChanged {
        RaceStatusChanged {
            category: category.into(),
            status: status.into(),
            previous_status: "pending".into(),
            room: format!("{category}/cool-race-1234"),
            room_url: format!("https://racetime.gg/{category}/cool-race-1234"),
            entrants: vec![
                RaceEntrant {
                    user_id: "abc".into(),
                    name: "Watched".into(),
                    ..Default::default()
                },
                RaceEntrant {
                    user_id: "xyz".into(),
                    name: "Other".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn race_watch_posts_only_watched_players_in_watched_categories_at_start() {
        let guild = settings(&[
            (Key::RaceWatchChannel, "77"),
            (Key::RaceWatchCategories, "alttpr"),
            (Key::RaceWatchPlayers, "abc"),
        ]);
        let posts = RaceWatch::render(&race("in_progress", "alttpr"), &guild);
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].0, 77);
        assert!(
            posts[0]
                .1
                .description
                .as_deref()
                .unwrap()
                .contains("[Watched](https://racetime.gg/user/abc)")
        );
        assert!(RaceWatch::render(&race("in_progress", "smz3"), &guild).is_empty());
        assert!(RaceWatch::render(&race("finished", "alttpr"), &guild).is_empty());
    }
}

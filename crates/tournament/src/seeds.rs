//! Seed delivery (spec §1.5.6): `!tournamentrace` in a bound room reaches us as
//! `racetime.command.invoked`. The tournament's roller picks the preset, SeedGen rolls it (the
//! idempotency key is the chat message, so a redelivered event gets the same seed), racetime
//! sets the room info and marks the seed rolled (refusing rolls until `!cancel`, across
//! restarts), the audit channel gets the seed, the commentary channel the seed without its
//! permalink when the match is broadcast, each player a DM, and every entrant a whisper with the
//! permalink. A refused DM is reported in the audit channel and the room. The seed is recorded
//! on the room binding with `tournament.seed.rolled`.

use chrono::Utc;
use platform::events::{Event, HandlerError, Outbox, Subscriber};
use platform::grpc::Peers;
use proto::discord::v1 as discord;
use proto::events::v1 as ev;
use proto::racetime::v1 as rt;
use proto::racetime::v1::race_rooms_client::RaceRoomsClient;
use proto::seedgen::v1 as sg;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

use crate::config::SeedRoller;
use crate::db::match_room;
use crate::matches;
use crate::notify;
use crate::opener::Opener;
use crate::registry;
use crate::speedgaming;

/// Said when the roll starts.
pub const GENERATING: &str = "Generating game, please wait.  If nothing happens after a minute, contact a Tournament Moderator.";
/// Said when the seed is out.
pub const DELIVERED: &str = "Seed has been generated, you should have received a DM in both Discord and RaceTime.gg.  Please contact a Tournament Moderator if you haven't received the DM.";

/// How long one `!tournamentrace` may take, the provider's roll included.
pub const SEED_HANDLER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(180);

/// Said when the room already has a seed (spec §1.5.4).
pub const ALREADY_ROLLED: &str =
    "I already rolled a seed!  Use !cancel to clear the currently rolled game.";

/// Consumes `racetime.command.invoked` for `!tournamentrace`.
#[derive(Clone, Debug)]
pub struct OnTournamentRace {
    db: DatabaseConnection,
    peers: Peers,
    outbox: Outbox,
    opener: Opener,
}

impl OnTournamentRace {
    /// The consumer.
    pub fn new(db: DatabaseConnection, peers: Peers, outbox: Outbox, opener: Opener) -> Self {
        Self {
            db,
            peers,
            outbox,
            opener,
        }
    }

    /// Whether racetime says room `room` has a seed (until `!cancel`).
    ///
    /// Errors: racetime is unavailable or does not know the room.
    pub async fn room_has_seed(&self, room: &str) -> Result<bool, tonic::Status> {
        let racetime = self.peers.get("racetime")?;
        let get = rt::GetRoomRequest {
            room: room.to_owned(),
        };
        Ok(racetime
            .call(|| {
                let mut client = RaceRoomsClient::new(racetime.channel());
                let request = get.clone();
                async move { client.get_room(request).await }
            })
            .await?
            .into_inner()
            .seed_rolled)
    }

    fn transient(peer: &'static str) -> impl Fn(tonic::Status) -> HandlerError {
        move |status| HandlerError::Transient(anyhow::anyhow!("{peer}: {status}"))
    }

    async fn say(
        &self,
        key: &str,
        room: &str,
        text: &str,
        direct_to: &str,
    ) -> Result<(), HandlerError> {
        let request = rt::SendMessageRequest {
            direct_to: direct_to.to_owned(),
            ..notify::message(key.to_owned(), room, text)
        };
        notify::say(&self.peers, request)
            .await
            .map_err(Self::transient("racetime"))
    }

    /// Posts a seed embed; an outage is retried (the whole delivery, which the keys make
    /// safe), a refusal logged.
    async fn post(
        &self,
        key: String,
        channel: i64,
        embed: discord::Embed,
    ) -> Result<(), HandlerError> {
        let channel = platform::db::u64_from_db(channel);
        match notify::post(&self.peers, key, channel, "", vec![embed]).await {
            Err(status) if notify::is_outage(&status) => Err(Self::transient("gateway")(status)),
            Err(status) => {
                tracing::warn!(%status, "could not post a tournament seed");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }
}

/// The seed embed: title the room info, the settings and code, the permalink unless hidden
/// (commentary), and the room.
fn embed(
    title: &str,
    versus: &str,
    seed: &sg::GenerateReply,
    room_url: &str,
    channels: &[String],
    with_permalink: bool,
) -> discord::Embed {
    let mut fields = vec![discord::EmbedField {
        name: "RaceTime.gg".into(),
        value: room_url.to_owned(),
        inline: false,
    }];
    if !channels.is_empty() {
        fields.push(discord::EmbedField {
            name: "Broadcast Channels".into(),
            value: channels
                .iter()
                .map(|c| format!("[{c}](https://twitch.tv/{c})"))
                .collect::<Vec<_>>()
                .join(", "),
            inline: false,
        });
    }
    if !seed.file_select_code.is_empty() {
        fields.push(discord::EmbedField {
            name: "File Select Code".into(),
            value: seed.file_select_code.join(" "),
            inline: false,
        });
    }
    if with_permalink {
        fields.push(discord::EmbedField {
            name: "Permalink".into(),
            value: seed.permalink.clone(),
            inline: false,
        });
    }
    discord::Embed {
        title: title.chars().take(256).collect(),
        description: versus.to_owned(),
        url: if with_permalink {
            seed.permalink.clone()
        } else {
            String::new()
        },
        fields,
        ..Default::default()
    }
}

impl Subscriber for OnTournamentRace {
    type Event = ev::CommandInvoked;

    fn name(&self) -> &str {
        "tournament-seed-roll"
    }

    /// A seed from a provider can take a minute or more (alttpr.com under load); the roll,
    /// the deliveries and the records are one run.
    fn handler_timeout(&self) -> Option<std::time::Duration> {
        Some(SEED_HANDLER_TIMEOUT)
    }

    async fn on(
        &self,
        txn: &DatabaseTransaction,
        event: ev::CommandInvoked,
        _envelope: &ev::Envelope,
    ) -> Result<(), HandlerError> {
        if event.command != "tournamentrace" || event.tournament.is_empty() {
            return Ok(());
        }
        let key = format!("tournament-seed:{}:{}", event.room, event.message_id);
        let Ok(tournament) = registry::get(&self.db, &event.tournament).await else {
            return self
                .say(
                    &format!("{key}:unknown"),
                    &event.room,
                    "This room is not associated with a tournament.",
                    "",
                )
                .await;
        };
        // The match from the room's binding (tournament, episode); its room binding by match,
        // newest generation first (the opener may still be writing the room's name).
        let m = crate::matches::by_external(&self.db, tournament.row.id, &event.episode_id).await?;
        let binding = match &m {
            Some(m) => {
                match_room::Entity::find()
                    .filter(match_room::Column::MatchId.eq(m.id))
                    .order_by_desc(match_room::Column::Generation)
                    .one(&self.db)
                    .await?
            }
            None => None,
        };
        let (Some(binding), Some(m)) = (binding, m) else {
            return self
                .say(
                    &format!("{key}:unbound"),
                    &event.room,
                    "This room is not associated with a tournament match.",
                    "",
                )
                .await;
        };
        let preset = match tournament.roller.preset_for(&m.title) {
            Ok(Some(p)) => match crate::submissions::form_of(&tournament) {
                Some(form) => match crate::submissions::of_match(&self.db, m.id).await? {
                    Some(values) => form.resolve(&values, p),
                    None if form.required => {
                        return self
                            .say(
                                &format!("{key}:nosettings"),
                                &event.room,
                                "Missing settings: this match's settings have not been submitted. Please submit them first.",
                                "",
                            )
                            .await;
                    }
                    None => p,
                },
                None => p,
            },
            Ok(None) => {
                return self
                    .say(
                        &format!("{key}:none"),
                        &event.room,
                        "This tournament has no seed roller: roll with the usual commands.",
                        "",
                    )
                    .await;
            }
            Err(message) => {
                return self
                    .say(&format!("{key}:mode"), &event.room, &message, "")
                    .await;
            }
        };
        self.say(&format!("{key}:generating"), &event.room, GENERATING, "")
            .await?;

        let (allow_quickswap, hints, branch) = match &tournament.roller {
            SeedRoller::Preset {
                allow_quickswap,
                hints,
                branch,
                ..
            } => (*allow_quickswap, *hints, branch.clone().unwrap_or_default()),
            _ => (true, false, String::new()),
        };
        let names: Vec<String> = matches::players(&m)
            .iter()
            .map(|p| p.display_name.clone())
            .collect();
        let request = sg::GenerateRequest {
            idempotency_key: key.clone(),
            randomizer: preset.0.clone(),
            preset: preset.1.clone(),
            race: true,
            hints,
            branch,
            allow_quickswap,
            requested_by: format!("racetime:{}", event.room),
            surface: "racetime".into(),
            players: names.clone(),
            triforce_text_pool: tournament
                .roller
                .triforce_text_pool()
                .unwrap_or_default()
                .to_owned(),
            ..Default::default()
        };
        let seedgen = self
            .peers
            .get("seedgen")
            .map_err(Self::transient("seedgen"))?;
        let seed = match seedgen
            .call(|| {
                let mut client = SeedGenClient::new(seedgen.channel());
                let request = request.clone();
                async move { client.generate(request).await }
            })
            .await
        {
            Ok(reply) => reply.into_inner(),
            // Down, slow past the deadline, or still rolling this key: retried with the same
            // key, which gets the same seed.
            Err(status) if notify::is_outage(&status) => {
                return Err(Self::transient("seedgen")(status));
            }
            Err(status) => {
                let message = platform::grpc::user_message(&status)
                    .unwrap_or_else(|| status.message().to_owned());
                return self
                    .say(
                        &format!("{key}:failed"),
                        &event.room,
                        &format!("Seed generation failed: {message}  Try !tournamentrace again."),
                        "",
                    )
                    .await;
            }
        };

        // The room: info and the lock against a second roll.
        let code = if seed.file_select_code.is_empty() {
            seed.hash.clone()
        } else {
            format!("({})", seed.file_select_code.join("/"))
        };
        let racetime = self
            .peers
            .get("racetime")
            .map_err(Self::transient("racetime"))?;
        let info = rt::SetInfoRequest {
            room: event.room.clone(),
            info_bot: code.clone(),
            seed_rolled: true,
        };
        racetime
            .call(|| {
                let mut client = RaceRoomsClient::new(racetime.channel());
                let request = info.clone();
                async move { client.set_info(request).await }
            })
            .await
            .map_err(Self::transient("racetime"))?;

        // The room as it is after the roll: its entrants get the whisper, and its URL stands in
        // while the opener is still recording the binding.
        let get = rt::GetRoomRequest {
            room: event.room.clone(),
        };
        let room = racetime
            .call(|| {
                let mut client = RaceRoomsClient::new(racetime.channel());
                let request = get.clone();
                async move { client.get_room(request).await }
            })
            .await
            .map_err(Self::transient("racetime"))?
            .into_inner();
        let room_url = binding
            .room_url
            .clone()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| room.url.clone());
        let channels = matches::channels(&m);
        let versus = speedgaming::versus(&names);
        let title = speedgaming::race_info(
            &tournament.row.name,
            &names,
            &m.title,
            &channels,
            &m.external_id,
        );
        if let Some(audit) = tournament.row.audit_channel_id {
            self.post(
                format!("{key}:audit"),
                audit,
                embed(&title, &versus, &seed, &room_url, &channels, true),
            )
            .await?;
        }
        if let Some(commentary) = tournament.row.commentary_channel_id
            && !channels.is_empty()
        {
            self.post(
                format!("{key}:commentary"),
                commentary,
                embed(&title, &versus, &seed, &room_url, &channels, false),
            )
            .await?;
        }
        // DMs to the players.
        if self.peers.get("gateway").is_ok() {
            // Players the schedule names by Discord tag only are looked up in the guild.
            let players = self
                .opener
                .resolve(&tournament, matches::players(&m))
                .await
                .map_err(|e| HandlerError::Transient(anyhow::anyhow!("{e}")))?;
            for player in players.into_iter().map(|p| p.player) {
                let Some(discord_id) = player.discord_user_id else {
                    continue;
                };
                let dm = embed(&title, &versus, &seed, &room_url, &channels, true);
                let dm_key = format!("{key}:dm:{discord_id}");
                if let Err(status) = notify::dm(&self.peers, dm_key, discord_id, dm).await {
                    if notify::is_outage(&status) {
                        return Err(Self::transient("gateway")(status));
                    }
                    self.opener
                        .audit(
                            &tournament,
                            &format!("{key}:dm-failed:{discord_id}"),
                            &format!("@here could not send DM to {}", player.display_name),
                        )
                        .await;
                    self.say(
                        &format!("{key}:dm-failed:{discord_id}"),
                        &event.room,
                        &format!("Could not send DM to {}.  Please contact a Tournament Moderator for assistance.", player.display_name),
                        "",
                    )
                    .await?;
                }
            }
        }
        // Whispers to every entrant, read after the roll.
        for entrant in &room.entrants {
            self.say(
                &format!("{key}:whisper:{}", entrant.user_id),
                &event.room,
                &format!("Your seed: {} {code}", seed.permalink),
                &entrant.user_id,
            )
            .await?;
        }

        // Recorded with the event, in the consumer's transaction (committed with its inbox row).
        let mut active = binding.clone().into_active_model();
        active.seed_permalink = Set(Some(seed.permalink.clone()));
        active.seed_hash = Set(Some(code));
        active.seed_rolled_at = Set(Some(Utc::now()));
        active.updated_at = Set(Utc::now());
        active.update(txn).await?;
        self.outbox
            .write(
                txn,
                Event::of(&ev::TournamentSeedRolled {
                    tournament: tournament.row.slug.clone(),
                    episode_id: m.external_id.clone(),
                    room: event.room.clone(),
                    room_url: room_url.clone(),
                    permalink: seed.permalink.clone(),
                    file_select_code: seed.file_select_code.clone(),
                    hash: seed.hash.clone(),
                }),
            )
            .await
            .map_err(|e| HandlerError::Transient(anyhow::anyhow!("{e}")))?;
        self.outbox.wake();
        self.say(&format!("{key}:delivered"), &event.room, DELIVERED, "")
            .await
    }
}

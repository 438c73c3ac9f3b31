//! Running a chat command: the pure planner's [`Plan`](crate::commands::Plan) carried out —
//! rolls through seedgen, stream overrides, replies.

use std::time::Duration;

use chrono::Utc;
use platform::events::Event;
use proto::events::v1 as ev;
use racetime_client::{Action, ChatMessage};
use rand::RngExt;
use tokio::time::Instant;

use super::actor::RoomActor;
use super::render::*;
use crate::commands::{self, Context, Plan, RollPlan};
use crate::state::SpoilerRace;

impl RoomActor {
    pub(super) async fn handle_command(&mut self, message: &ChatMessage) {
        let Some(invocation) = commands::parse(&message.message, self.host.command_prefix()) else {
            return;
        };
        let user = message.user.clone().unwrap_or_default();
        let race = self.race.clone().unwrap_or_default();
        let mut teams = std::collections::BTreeMap::<String, Vec<String>>::new();
        for entrant in &race.entrants {
            if let (Some(team), Some(u)) = (&entrant.team, &entrant.user)
                && !u.id.is_empty()
            {
                teams
                    .entry(team.name.clone())
                    .or_default()
                    .push(u.name.clone());
            }
        }
        let ctx = Context {
            is_monitor: message.is_monitor || user.can_moderate,
            entrant_status: race.entrant(&user.id).map(|e| e.status.clone()),
            seed_rolled: self.state.seed_rolled,
            locked: self.state.locked,
            team_race: race.team_race,
            teams,
            sender_name: user.name.clone(),
            texts: self.host.texts().clone(),
        };
        let plan = commands::plan(self.category.kind, &invocation, &ctx, &mut |n| {
            rand::rng().random_range(0..n)
        });
        let key = message.id.clone();
        let mut events = Vec::new();
        match plan {
            Plan::Ignore => {}
            Plan::Reply(lines) => self.say(&key, &lines).await,
            Plan::Lock => {
                self.state.locked = true;
                self.say(
                    &key,
                    &["Lock initiated. I will now only roll seeds for race monitors.".into()],
                )
                .await;
            }
            Plan::Unlock => {
                self.state.locked = false;
                self.say(&key, &["Lock released. Anyone may now roll a seed.".into()])
                    .await;
            }
            Plan::Cancel => {
                self.state.seed_rolled = false;
                self.state.spoiler = None;
                self.set_info("New Race").await;
                self.say(&key, &[commands::RESET.into()]).await;
            }
            Plan::Roll(roll) => self.roll(&key, &user, *roll).await,
            Plan::TournamentRace => match &self.state.tournament {
                None => {
                    self.say(
                        &key,
                        &["This room is not associated with a tournament.".into()],
                    )
                    .await
                }
                Some(binding) => events.push(forwarded(
                    &self.category.slug,
                    &self.name,
                    &invocation,
                    &user,
                    ctx.is_monitor,
                    &key,
                    binding,
                )),
            },
            Plan::Konot => self.konot_start(&key).await,
            Plan::Promote => match &self.state.tournament {
                // A gatekeeper the binding names is promoted here; anyone else in a tournament
                // room is asked about (Discord helper roles, racetime.gg teams) by the
                // tournament service, which promotes through AddMonitor.
                Some(binding) if binding.gatekeepers.contains(&user.id) => {
                    if let Err(error) = self
                        .socket
                        .call(Action::AddMonitor {
                            user: user.id.clone(),
                        })
                        .await
                    {
                        self.say(&key, &[format!("I could not promote you: {error}")])
                            .await;
                    }
                }
                Some(binding) => events.push(forwarded(
                    &self.category.slug,
                    &self.name,
                    &invocation,
                    &user,
                    ctx.is_monitor,
                    &key,
                    binding,
                )),
                None => {}
            },
            Plan::Override => self.override_stream(&key, &user).await,
            Plan::Bingo => {
                self.state.bingo_on_start = true;
                self.say(&key, &["Bingo card will be rolled at race start!".into()])
                    .await;
            }
            Plan::Test { seconds } => {
                self.say(
                    &key,
                    &[format!("initated test command, waiting {seconds} seconds")],
                )
                .await;
                self.timers.push((
                    Instant::now() + Duration::from_secs(seconds),
                    "test command complete".into(),
                ));
            }
        }
        if let Some(at) = message.posted_at {
            self.state.last_chat_at = Some(at);
            self.state.last_chat_id = Some(message.id.clone());
        }
        self.persist(events).await;
    }

    pub(super) async fn override_stream(&self, key: &str, user: &racetime_client::User) {
        use crate::db::override_whitelist as wl;
        use sea_orm::EntityTrait;
        let row = wl::Entity::find_by_id((user.id.clone(), self.category.slug.clone()))
            .one(self.host.db())
            .await;
        let reply = match row {
            Ok(None) => Some(
                "You do not have permission to override the stream requirement for this category.  Please contact a category owner if you need this to be changed.",
            ),
            Ok(Some(row)) if row.expires.is_some_and(|e| e < Utc::now()) => Some(
                "Your streaming exemption has expired.  Please contact a category owner if you need this to be renewed.",
            ),
            Ok(Some(_)) => {
                if let Err(error) = self
                    .socket
                    .call(Action::OverrideStream {
                        user: user.id.clone(),
                    })
                    .await
                {
                    self.say(
                        key,
                        &[format!("racetime.gg did not accept the override: {error}")],
                    )
                    .await;
                }
                None
            }
            Err(error) => {
                tracing::error!(%error, "override whitelist lookup failed");
                Some("I could not check the stream override list right now; please try again.")
            }
        };
        if let Some(reply) = reply {
            self.say(key, &[reply.to_string()]).await;
        }
    }

    pub(super) async fn roll(&mut self, key: &str, user: &racetime_client::User, roll: RollPlan) {
        let Some(mut seedgen) = self.host.seedgen() else {
            self.say(
                key,
                &["Seed rolling is not available: the seed generator is not configured.".into()],
            )
            .await;
            return;
        };
        let request = |suffix: &str, players: Vec<String>| proto::seedgen::v1::GenerateRequest {
            idempotency_key: format!("racetime:{}:{key}{suffix}", self.name),
            randomizer: roll.randomizer.clone(),
            preset: roll.preset.clone(),
            race: true,
            spoiler: roll.spoiler.is_some(),
            spoiler_type: match &roll.spoiler {
                Some(s) if s.progression => "progression".into(),
                Some(_) => "spoiler".into(),
                None => String::new(),
            },
            hints: roll.hints,
            branch: roll.branch.clone().unwrap_or_default(),
            allow_quickswap: roll.allow_quickswap,
            requested_by: format!("racetime:{}", user.id),
            surface: "racetime".into(),
            rng_seed: roll.rng_seed,
            players,
            endpoint_prefix: roll.endpoint_prefix.clone(),
            ..Default::default()
        };
        // An unknown preset or bad flags is refused before "Generating game…" is said.
        let check = proto::seedgen::v1::GenerateRequest {
            validate_only: true,
            ..request("", Vec::new())
        };
        if let Err(status) = seedgen.generate(check).await {
            self.say(&format!("{key}:err"), &[user_error(&status)])
                .await;
            return;
        }
        self.say(&format!("{key}:gen"), &[self.host.texts().generating()])
            .await;
        if let Some(teams) = &roll.teams {
            let mut lines = Vec::new();
            for (team, players) in teams {
                match seedgen
                    .generate(request(&format!(":{team}"), players.clone()))
                    .await
                {
                    Ok(reply) => {
                        lines.push(format!("Team {team}: {}", reply.into_inner().permalink));
                        lines.push("------".into());
                    }
                    Err(status) => {
                        self.say(&format!("{key}:err"), &[user_error(&status)])
                            .await;
                        return;
                    }
                }
            }
            let label = match roll.randomizer.as_str() {
                "sm" => "SM",
                _ => "SMZ3",
            };
            self.set_info(&format!("{label} Multiworld - {}", roll.preset))
                .await;
            lines.push("Seed rolling complete.".into());
            self.say(&format!("{key}:seed"), &lines).await;
            self.state.seed_rolled = true;
            return;
        }
        let reply = match seedgen.generate(request("", Vec::new())).await {
            Ok(reply) => reply.into_inner(),
            Err(status) => {
                self.say(&format!("{key}:err"), &[user_error(&status)])
                    .await;
                return;
            }
        };
        let (info, mut lines) = seed_lines(&roll, &reply);
        if let Some(spoiler) = &roll.spoiler {
            let study_time = spoiler
                .study_time
                .unwrap_or(if reply.study_time_seconds > 0 {
                    reply.study_time_seconds
                } else {
                    900
                });
            let study_time = if spoiler.progression { 0 } else { study_time };
            if !reply.spoiler_url.is_empty() || roll.randomizer != "smdash" {
                self.state.spoiler = Some(SpoilerRace {
                    spoiler_url: reply.spoiler_url.clone(),
                    study_time,
                    ..SpoilerRace::default()
                });
                lines.push(if spoiler.progression {
                    "The progression spoiler for this race will be sent after the race begins in this room.".into()
                } else {
                    format!("The spoiler log for this race will be sent after the race begins in this room.  A {study_time}s countdown timer at that time will begin.")
                });
            }
        }
        lines.extend(roll.after.iter().cloned());
        self.set_info(&info).await;
        self.state.seed_rolled = true;
        // State first: if we die between here and the posts, the replayed command gets the same
        // seed (same idempotency key) and the same guids.
        self.persist(Vec::new()).await;
        self.say(&format!("{key}:seed"), &lines).await;
    }
}

/// `racetime.command.invoked` for a command of a tournament room that the tournament service
/// answers (`!tournamentrace`, and `!promote` from someone the binding does not name).
fn forwarded(
    category: &str,
    room: &str,
    invocation: &commands::Invocation,
    user: &racetime_client::User,
    is_monitor: bool,
    key: &str,
    binding: &crate::state::TournamentBinding,
) -> Event {
    Event::of(&ev::CommandInvoked {
        category: category.to_owned(),
        room: room.to_owned(),
        command: invocation.name.clone(),
        args: invocation.args.clone(),
        user_id: user.id.clone(),
        user_name: user.name.clone(),
        is_monitor,
        message_id: key.to_owned(),
        tournament: binding.tournament.clone(),
        episode_id: binding.episode_id.clone(),
    })
}

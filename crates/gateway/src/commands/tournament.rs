//! `/tournament`: organizers manage their tournaments from Discord. `list` and `matches` show
//! the registry and the schedule with each match's room; `open` opens a match's room now;
//! `grant` gives a Discord user the organizer or helper role; `activate` turns the automation
//! on or off. The invoker acts as their own account (their Discord id looked up in Identity);
//! the tournament service decides whether they may (organizers only). Replies are private.

use futures::future::BoxFuture;
use proto::identity::v1 as identity;
use proto::identity::v1::identity_client::IdentityClient;
use proto::tournament::v1 as pb;
use proto::tournament::v1::tournament_admin_client::TournamentAdminClient;
use proto::tournament::v1::tournaments_client::TournamentsClient;
use twilight_model::application::command::{Command, CommandType};
use twilight_util::builder::command::{
    BooleanBuilder, CommandBuilder, IntegerBuilder, StringBuilder, SubCommandBuilder, UserBuilder,
};

use super::SlashCommand;
use crate::context::{Ack, App, Call, CommandError};
use crate::discord::Reply;

/// `/tournament`.
#[derive(Debug)]
pub struct Tournament;

impl SlashCommand for Tournament {
    fn definition(&self) -> Command {
        let slug = || StringBuilder::new("tournament", "The tournament's slug.").required(true);
        CommandBuilder::new(
            "tournament",
            "Manage the tournaments you organize.",
            CommandType::ChatInput,
        )
        .option(SubCommandBuilder::new("list", "Every tournament."))
        .option(
            SubCommandBuilder::new("matches", "A tournament's matches of the coming week.")
                .option(slug()),
        )
        .option(
            SubCommandBuilder::new("open", "Open a match's race room now.")
                .option(slug())
                .option(
                    IntegerBuilder::new("match", "The match id (see /tournament matches).")
                        .required(true)
                        .min_value(1),
                ),
        )
        .option(
            SubCommandBuilder::new("grant", "Give someone a role in a tournament.")
                .option(slug())
                .option(
                    StringBuilder::new("role", "The role.")
                        .required(true)
                        .choices([("organizer", "organizer"), ("helper", "helper")]),
                )
                .option(UserBuilder::new("user", "Who.").required(true)),
        )
        .option(
            SubCommandBuilder::new("activate", "Turn a tournament's automation on or off.")
                .option(slug())
                .option(BooleanBuilder::new("on", "On or off.").required(true)),
        )
        .build()
    }

    fn ack(&self, _call: &Call) -> Ack {
        Ack::Private
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(run(app, call))
    }
}

fn unavailable() -> CommandError {
    CommandError::user("Tournaments are not available right now; try again later.")
}

/// The invoker's account as a tournament actor.
async fn actor(app: &App, discord_user_id: u64) -> Result<pb::Actor, CommandError> {
    let api = app.identity.as_ref().ok_or_else(unavailable)?;
    let request = identity::FindByDiscordIdRequest { discord_user_id };
    match api
        .call(|| {
            let mut client = IdentityClient::new(api.channel());
            async move { client.find_by_discord_id(request).await }
        })
        .await
    {
        Ok(user) => Ok(pb::Actor {
            operator: false,
            user_id: user.into_inner().id,
        }),
        Err(status) if status.code() == tonic::Code::NotFound => Err(CommandError::user(
            "SahasrahBot does not know your account yet: log in once on the website, then try again.",
        )),
        Err(status) => Err(CommandError::from_status(&status)),
    }
}

fn text(content: String) -> Reply {
    Reply::text(content.chars().take(2000).collect::<String>())
}

async fn run(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let peer = app.tournament.as_ref().ok_or_else(unavailable)?;
    let sub = call.path.get(1).map_or("", String::as_str);
    let slug = call
        .string("tournament")
        .unwrap_or_default()
        .trim()
        .to_owned();
    match sub {
        "list" => {
            let reply = peer
                .call(|| {
                    let mut client = TournamentsClient::new(peer.channel());
                    async move {
                        client
                            .list_tournaments(pb::ListTournamentsRequest { active_only: false })
                            .await
                    }
                })
                .await
                .map_err(|s| CommandError::from_status(&s))?
                .into_inner();
            if reply.tournaments.is_empty() {
                return Ok(text("There are no tournaments yet.".into()));
            }
            let lines: Vec<String> = reply
                .tournaments
                .iter()
                .map(|t| {
                    format!(
                        "`{}` — {} ({}, {}/{})",
                        t.slug,
                        t.name,
                        if t.active { "active" } else { "inactive" },
                        t.racetime_category,
                        t.racetime_goal
                    )
                })
                .collect();
            Ok(text(lines.join("\n")))
        }
        "matches" => {
            let request = pb::ListMatchesRequest {
                tournament: slug.clone(),
                ..Default::default()
            };
            let reply = peer
                .call(|| {
                    let mut client = TournamentAdminClient::new(peer.channel());
                    let request = request.clone();
                    async move { client.list_matches(request).await }
                })
                .await
                .map_err(|s| CommandError::from_status(&s))?
                .into_inner();
            if reply.matches.is_empty() {
                return Ok(text(format!("`{slug}` has no matches in the coming week.")));
            }
            let lines: Vec<String> = reply
                .matches
                .iter()
                .take(25)
                .map(|m| {
                    let at = m.scheduled_at.as_ref().map_or(0, |t| t.seconds);
                    let players: Vec<&str> =
                        m.players.iter().map(|p| p.display_name.as_str()).collect();
                    let room = m
                        .room
                        .as_ref()
                        .filter(|r| !r.room_url.is_empty())
                        .map_or_else(
                            || "no room yet".to_owned(),
                            |r| format!("{} ({})", r.room_url, r.state),
                        );
                    format!(
                        "**{}** <t:{at}:f> {} — {} — {room}",
                        m.id,
                        m.title,
                        players.join(" vs. ")
                    )
                })
                .collect();
            Ok(text(lines.join("\n")))
        }
        "open" => {
            let actor = actor(app, call.user_id).await?;
            let id = u64::try_from(call.integer("match").unwrap_or(0)).unwrap_or(0);
            let found = peer
                .call(|| {
                    let mut client = TournamentAdminClient::new(peer.channel());
                    let slug = slug.clone();
                    async move {
                        client
                            .get_match(pb::GetMatchRequest {
                                tournament: slug,
                                match_id: id,
                            })
                            .await
                    }
                })
                .await
                .map_err(|s| CommandError::from_status(&s))?
                .into_inner();
            let request = pb::OpenMatchRoomRequest {
                tournament: slug.clone(),
                episode_id: found.external_id,
                game_number: 1,
                actor: Some(actor),
            };
            let mut client = TournamentsClient::new(peer.channel());
            let opened = client
                .open_match_room(request)
                .await
                .map_err(|s| CommandError::from_status(&s))?
                .into_inner();
            Ok(text(if opened.already_open {
                format!("Match {id} already has its room: {}", opened.room_url)
            } else {
                format!("Opened the room of match {id}: {}", opened.room_url)
            }))
        }
        "grant" => {
            let actor = actor(app, call.user_id).await?;
            let target = call
                .user("user")
                .ok_or_else(|| CommandError::user("Choose a user."))?;
            let grantee = self::actor(app, target).await.map_err(|_| {
                CommandError::user(
                    "That user has no SahasrahBot account yet: they must log in once on the website.",
                )
            })?;
            let role = call.string("role").unwrap_or("helper").to_owned();
            let request = pb::GrantRoleRequest {
                actor: Some(actor),
                tournament: slug.clone(),
                role: role.clone(),
                user_id: grantee.user_id,
                discord_role_id: 0,
            };
            let mut client = TournamentAdminClient::new(peer.channel());
            client
                .grant_role(request)
                .await
                .map_err(|s| CommandError::from_status(&s))?;
            Ok(text(format!("<@{target}> is now {role} of `{slug}`.")))
        }
        "activate" => {
            let actor = actor(app, call.user_id).await?;
            let on = call.boolean("on").unwrap_or(false);
            let mut client = TournamentAdminClient::new(peer.channel());
            let mut config = client
                .get_tournament_config(pb::GetTournamentRequest { slug: slug.clone() })
                .await
                .map_err(|s| CommandError::from_status(&s))?
                .into_inner();
            config.active = on;
            client
                .upsert_tournament(pb::UpsertTournamentRequest {
                    actor: Some(actor),
                    config: Some(config),
                })
                .await
                .map_err(|s| CommandError::from_status(&s))?;
            Ok(text(format!(
                "`{slug}` is now {}.",
                if on { "active" } else { "inactive" }
            )))
        }
        other => Err(CommandError::user(format!(
            "`/tournament {other}` is not a command; see /tournament."
        ))),
    }
}

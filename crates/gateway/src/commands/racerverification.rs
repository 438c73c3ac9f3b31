//! `/racerverification` (spec `discord-and-web.md` §1.13): server managers set up a role that
//! racers earn by their racetime.gg history (`create_or_update` posts the requirements with the
//! persistent "Verify your status" button) and re-check verified racers (`reverify`). The
//! button (`verify:status`, also upstream's `racerverify:verifystatus`) asks the tournament
//! service, which counts the races and gives the role. Members without a linked racetime.gg
//! account are sent to the website's account page (`GATEWAY_WEBSITE_URL` + `/me`).

use futures::future::BoxFuture;
use proto::verification::v1 as pb;
use proto::verification::v1::racer_verification_client::RacerVerificationClient;
use twilight_model::application::command::{Command, CommandType};
use twilight_model::channel::message::Component;
use twilight_model::channel::message::component::{ActionRow, Button, ButtonStyle};
use twilight_util::builder::command::{
    BooleanBuilder, ChannelBuilder, CommandBuilder, IntegerBuilder, RoleBuilder, StringBuilder,
    SubCommandBuilder,
};

use super::SlashCommand;
use crate::components::{Answer, ComponentAck, ComponentError, ComponentHandler};
use crate::context::{Ack, App, Call, CommandError, ComponentCall};
use crate::discord::Reply;

/// `/racerverification`.
#[derive(Debug)]
pub struct RacerVerification;

fn unavailable() -> CommandError {
    CommandError::user("Racer verification is not available right now; try again later.")
}

impl SlashCommand for RacerVerification {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "racerverification",
            "Roles earned by racetime.gg race history.",
            CommandType::ChatInput,
        )
        .option(
            SubCommandBuilder::new(
                "create_or_update",
                "Set up a role racers verify for (Manage Server).",
            )
            .option(RoleBuilder::new("role", "The role earned.").required(true))
            .option(
                StringBuilder::new(
                    "racetime_categories",
                    "racetime.gg categories, comma-separated (e.g. alttpr, smz3).",
                )
                .required(true),
            )
            .option(
                IntegerBuilder::new("minimum_races", "Finished races needed.")
                    .required(true)
                    .min_value(1)
                    .max_value(1000),
            )
            .option(
                IntegerBuilder::new("time_period_days", "Over how many days (default 365).")
                    .min_value(1)
                    .max_value(3650),
            )
            .option(
                IntegerBuilder::new("reverify_period_days", "Re-check after this many days.")
                    .min_value(1)
                    .max_value(3650),
            )
            .option(BooleanBuilder::new(
                "revoke_ineligible",
                "The periodic re-check takes the role from the ineligible.",
            ))
            .option(ChannelBuilder::new(
                "audit_channel",
                "Where the periodic re-check reports.",
            ))
            .option(BooleanBuilder::new(
                "use_alttpr_ladder",
                "Also count ALTTPR Ladder races (when the bot has the ladder configured).",
            )),
        )
        .option(
            SubCommandBuilder::new("reverify", "Re-check verified racers now (Manage Server).")
                .option(BooleanBuilder::new(
                    "revoke",
                    "Take the role from those no longer eligible.",
                )),
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

/// The requirements, as the post says them.
fn requirements(v: &pb::Verification) -> String {
    let mut text = format!(
        "**Racer verification for <@&{}>**\n\nTo get this role you must:\n• Have your RaceTime.gg account linked to SahasrahBot.\n• Have at least {} race(s) played in the last {} day(s) on RaceTime.gg in the following categories: {}\n• Be a member of this server.",
        v.role_id,
        v.minimum_races,
        v.period_days,
        v.categories.join(", ")
            + if v.use_alttpr_ladder {
                " or ALTTPR Ladder races"
            } else {
                ""
            }
    );
    if v.reverify_days > 0 {
        text.push_str(&format!(
            "\n• Must reverify every {} days to keep the role.",
            v.reverify_days
        ));
    }
    text.push_str("\n\nClick the button below to verify your status.");
    text
}

async fn run(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let peer = app.tournament.as_ref().ok_or_else(unavailable)?;
    let (Some(guild), Some(channel)) = (call.guild_id, call.channel_id) else {
        return Err(CommandError::user(
            "Racer verification is set up in a server channel.",
        ));
    };
    match call.path.get(1).map(String::as_str) {
        Some("reverify") => {
            let request = pb::ReverifyRequest {
                guild_id: guild,
                actor_discord_id: call.user_id,
                manages_guild: crate::context::manages_guild(call.member_permissions),
                revoke: call.boolean("revoke").unwrap_or(false),
            };
            let reply = peer
                .call(|| {
                    let mut client = RacerVerificationClient::new(peer.channel());
                    async move { client.reverify(request).await }
                })
                .await
                .map_err(|s| CommandError::from_status(&s))?
                .into_inner();
            if reply.reports.is_empty() {
                return Ok(Reply::text(
                    "No racer verification here has a reverify period.",
                ));
            }
            let lines: Vec<&str> = reply.reports.iter().map(|r| r.summary.as_str()).collect();
            Ok(Reply::text(
                lines.join("\n").chars().take(2000).collect::<String>(),
            ))
        }
        _ => {
            let request = pb::UpsertRequest {
                actor_discord_id: call.user_id,
                manages_guild: crate::context::manages_guild(call.member_permissions),
                verification: Some(pb::Verification {
                    guild_id: guild,
                    role_id: call.id("role").unwrap_or(0),
                    channel_id: channel,
                    categories: call
                        .string("racetime_categories")
                        .unwrap_or_default()
                        .split(',')
                        .map(str::to_owned)
                        .collect(),
                    minimum_races: u32::try_from(call.integer("minimum_races").unwrap_or(1))
                        .unwrap_or(1),
                    period_days: u32::try_from(call.integer("time_period_days").unwrap_or(365))
                        .unwrap_or(365),
                    reverify_days: u32::try_from(call.integer("reverify_period_days").unwrap_or(0))
                        .unwrap_or(0),
                    revoke_ineligible: call.boolean("revoke_ineligible").unwrap_or(false),
                    use_alttpr_ladder: call.boolean("use_alttpr_ladder").unwrap_or(false),
                    audit_channel_id: call.id("audit_channel").unwrap_or(0),
                    ..Default::default()
                }),
            };
            let v = peer
                .call(|| {
                    let mut client = RacerVerificationClient::new(peer.channel());
                    let request = request.clone();
                    async move { client.upsert(request).await }
                })
                .await
                .map_err(|s| CommandError::from_status(&s))?
                .into_inner();
            let post = Reply {
                content: Some(requirements(&v)),
                components: vec![Component::ActionRow(ActionRow {
                    id: None,
                    components: vec![Component::Button(Button {
                        custom_id: Some("verify:status".into()),
                        disabled: false,
                        emoji: None,
                        label: Some("Verify your status".into()),
                        style: ButtonStyle::Primary,
                        url: None,
                        sku_id: None,
                        id: None,
                    })],
                })],
                ..Reply::default()
            };
            // One post per setup command (its interaction is the key).
            let sent = app
                .discord_api()
                .send_reply(
                    &format!("verification:{}:{}", v.id, call.interaction_id),
                    channel,
                    &post,
                )
                .await
                .map_err(|s| CommandError::from_status(&s))?;
            let request = pb::SetMessageRequest {
                verification_id: v.id,
                message_id: sent.message_id,
            };
            peer.call(|| {
                let mut client = RacerVerificationClient::new(peer.channel());
                async move { client.set_message(request).await }
            })
            .await
            .map_err(|s| CommandError::from_status(&s))?;
            Ok(Reply::text(format!(
                "Racer verification for <@&{}> is set up; its post is below.",
                v.role_id
            )))
        }
    }
}

/// The "Verify your status" button.
#[derive(Debug)]
pub struct VerifyButton;

impl ComponentHandler for VerifyButton {
    fn feature(&self) -> &'static str {
        "verify"
    }

    fn ack(&self, _call: &ComponentCall) -> ComponentAck {
        // Counting races can take a few pages of racetime.gg.
        ComponentAck::DeferredPrivate
    }

    fn handle<'a>(
        &'a self,
        app: &'a App,
        call: &'a ComponentCall,
    ) -> BoxFuture<'a, Result<Answer, ComponentError>> {
        Box::pin(async move {
            if call.id.action != "status" {
                return Err(ComponentError::Stale);
            }
            let (Some(guild), Some(message)) = (call.guild_id, call.message_id) else {
                return Err(ComponentError::Stale);
            };
            let peer = app.tournament.as_ref().ok_or_else(unavailable)?;
            let request = pb::VerifyRequest {
                guild_id: guild,
                message_id: message,
                discord_user_id: call.user_id,
            };
            let reply = peer
                .call(|| {
                    let mut client = RacerVerificationClient::new(peer.channel());
                    async move { client.verify(request).await }
                })
                .await
                .map_err(|s| CommandError::from_status(&s))?
                .into_inner();
            let v = reply.verification.unwrap_or_default();
            let text = match reply.outcome.as_str() {
                "verified" => format!(
                    "Congratulations!  You have been verified!\n\nWe counted at least **{}** races played over the last **{}** days.",
                    reply.count, v.period_days
                ),
                "not_linked" => format!(
                    "Please link your RaceTime.gg account at {}/me, then click the button again!",
                    app.settings.website_url.trim_end_matches('/')
                ),
                _ => format!(
                    "Sorry, you do not meet the requirements: we counted {} of the {} races needed over the last {} days.",
                    reply.count, v.minimum_races, v.period_days
                ),
            };
            Ok(Answer::private(text))
        })
    }
}

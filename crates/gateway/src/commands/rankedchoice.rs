//! `/rankedchoice create` (spec `discord-and-web.md` §1.9): a server manager opens a ranked-
//! choice election; the bot posts it with its vote link and the persistent "End Election"
//! button (`election:end:<id>`, the creator's), and keeps the post current as ballots arrive
//! and when it ends (`tournament.election.changed`), attaching the count's `results.txt`.
//! The tournament service owns the election and decides who may do what.

use futures::future::BoxFuture;
use platform::events::{HandlerError, Subscriber};
use proto::elections::v1 as pb;
use proto::elections::v1::elections_client::ElectionsClient;
use proto::events::v1::{ElectionChanged, Envelope};
use sea_orm::DatabaseTransaction;
use twilight_model::application::command::{Command, CommandType};
use twilight_model::channel::message::Component;
use twilight_model::channel::message::component::{ActionRow, Button, ButtonStyle};
use twilight_util::builder::command::{
    BooleanBuilder, CommandBuilder, IntegerBuilder, RoleBuilder, StringBuilder, SubCommandBuilder,
};

use super::SlashCommand;
use crate::components::{Answer, ComponentError, ComponentHandler};
use crate::context::{Ack, App, Call, CommandError, ComponentCall};
use crate::custom_id::CustomId;
use crate::discord::Reply;
use crate::embeds::{blank, field};
use crate::grpc::DiscordApi;

/// The `custom_id` feature of the End Election button.
pub const FEATURE: &str = "election";

/// `/rankedchoice`.
#[derive(Debug)]
pub struct RankedChoice;

impl SlashCommand for RankedChoice {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "rankedchoice",
            "Ranked-choice elections.",
            CommandType::ChatInput,
        )
        .option(
            SubCommandBuilder::new("create", "Open an election (Manage Server).")
                .option(StringBuilder::new("title", "The election's title.").required(true))
                .option(
                    StringBuilder::new("candidates", "The candidates, comma-separated.")
                        .required(true),
                )
                .option(
                    IntegerBuilder::new("seats", "Seats up for election (default 1).")
                        .min_value(1)
                        .max_value(24),
                )
                .option(StringBuilder::new("description", "What it is about."))
                .option(RoleBuilder::new(
                    "authorized_voters_role",
                    "Only members with this role may vote.",
                ))
                .option(BooleanBuilder::new(
                    "show_vote_count",
                    "Show how many ballots were cast (default yes).",
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
        Box::pin(create(app, call))
    }
}

fn unavailable() -> CommandError {
    CommandError::user("Elections are not available right now; try again later.")
}

/// The election's post: title, description, seats, the numbered candidates (✅ winners), the
/// voter role, the vote link, the owner, the status, the ballot count when shown; the End
/// Election button while open.
pub fn post(e: &pb::Election, website: &str) -> Reply {
    let mut embed = blank(
        Some(e.title.chars().take(256).collect()),
        (!e.description.is_empty()).then(|| e.description.chars().take(4000).collect()),
        Some(if e.active { 0x3498db } else { 0x95a5a6 }),
    );
    let candidates: Vec<String> = e
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}. {}{}", i + 1, c.name, if c.winner { " ✅" } else { "" }))
        .collect();
    let mut fields = vec![
        field("Seats up for election", e.seats.to_string(), true),
        field("Candidates", candidates.join("\n"), false),
    ];
    if e.voter_role_id != 0 {
        fields.push(field(
            "Authorized Voters Role",
            format!("<@&{}>", e.voter_role_id),
            true,
        ));
    }
    fields.push(field(
        "Vote URL",
        format!("{}/ranked_choice/{}", website.trim_end_matches('/'), e.id),
        false,
    ));
    fields.push(field("Owner", format!("<@{}>", e.owner_discord_id), true));
    fields.push(field(
        "Status",
        if e.active { "Open" } else { "Closed" },
        true,
    ));
    if e.show_vote_count {
        fields.push(field("Ballots cast", e.ballots.to_string(), true));
    }
    embed.fields = fields;
    embed.footer = Some(twilight_model::channel::message::embed::EmbedFooter {
        text: format!("ID: {}", e.id),
        icon_url: None,
        proxy_icon_url: None,
    });
    let components = if e.active {
        vec![Component::ActionRow(ActionRow {
            id: None,
            components: vec![Component::Button(Button {
                custom_id: CustomId::new(FEATURE, "end", &[&e.id.to_string()])
                    .ok()
                    .map(|id| id.to_string()),
                disabled: false,
                emoji: None,
                label: Some("End Election".into()),
                style: ButtonStyle::Danger,
                url: None,
                sku_id: None,
                id: None,
            })],
        })]
    } else {
        Vec::new()
    };
    let files = if e.active || e.results.is_empty() {
        Vec::new()
    } else {
        vec![("results.txt".to_owned(), e.results.clone().into_bytes())]
    };
    Reply {
        embeds: vec![embed],
        components,
        files,
        ..Reply::default()
    }
}

async fn create(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let peer = app.tournament.as_ref().ok_or_else(unavailable)?;
    let (Some(guild), Some(channel)) = (call.guild_id, call.channel_id) else {
        return Err(CommandError::user(
            "Elections are held in a server channel.",
        ));
    };
    let request = pb::CreateElectionRequest {
        guild_id: guild,
        channel_id: channel,
        owner_discord_id: call.user_id,
        manages_guild: crate::context::manages_guild(call.member_permissions),
        title: call.string("title").unwrap_or_default().to_owned(),
        description: call.string("description").unwrap_or_default().to_owned(),
        seats: call
            .integer("seats")
            .and_then(|s| i32::try_from(s).ok())
            .unwrap_or(1),
        candidates: call
            .string("candidates")
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect(),
        voter_role_id: call.id("authorized_voters_role").unwrap_or(0),
        show_vote_count: call.boolean("show_vote_count").unwrap_or(true),
    };
    let election = peer
        .call(|| {
            let mut client = ElectionsClient::new(peer.channel());
            let request = request.clone();
            async move { client.create_election(request).await }
        })
        .await
        .map_err(|s| CommandError::from_status(&s))?
        .into_inner();
    let api = app.discord_api();
    let sent = api
        .send_reply(
            &format!("election:{}", election.id),
            channel,
            &post(&election, &app.settings.website_url),
        )
        .await
        .map_err(|s| CommandError::from_status(&s))?;
    let request = pb::SetMessageRequest {
        election_id: election.id,
        message_id: sent.message_id,
    };
    peer.call(|| {
        let mut client = ElectionsClient::new(peer.channel());
        async move { client.set_message(request).await }
    })
    .await
    .map_err(|s| CommandError::from_status(&s))?;
    Ok(Reply::text(format!(
        "Election **{}** is open (ID {}). End it with the button on its post.",
        election.title, election.id
    )))
}

/// The End Election button.
#[derive(Debug)]
pub struct EndButton;

impl ComponentHandler for EndButton {
    fn feature(&self) -> &'static str {
        FEATURE
    }

    fn handle<'a>(
        &'a self,
        app: &'a App,
        call: &'a ComponentCall,
    ) -> BoxFuture<'a, Result<Answer, ComponentError>> {
        Box::pin(async move {
            let ("end", [id]) = (call.id.action.as_str(), call.id.args.as_slice()) else {
                return Err(ComponentError::Stale);
            };
            let id: i64 = id.parse().map_err(|_| ComponentError::Stale)?;
            let peer = app.tournament.as_ref().ok_or_else(unavailable)?;
            let request = pb::EndElectionRequest {
                election_id: id,
                actor_discord_id: call.user_id,
            };
            let ended = peer
                .call(|| {
                    let mut client = ElectionsClient::new(peer.channel());
                    async move { client.end_election(request).await }
                })
                .await
                .map_err(|s| CommandError::from_status(&s))?
                .into_inner();
            let winners: Vec<&str> = ended
                .candidates
                .iter()
                .filter(|c| c.winner)
                .map(|c| c.name.as_str())
                .collect();
            // The post itself is refreshed (with results.txt) from the election's event.
            Ok(Answer::private(format!(
                "Election ended. Elected: {}.",
                winners.join(", ")
            )))
        })
    }
}

/// Keeps each election's post current: `tournament.election.changed` → the post edited in
/// place (ballot count, status, winners) and, once ended, `results.txt` posted beside it once.
#[derive(Debug)]
pub struct OnElectionChanged {
    /// The gateway's Discord side.
    pub api: DiscordApi,
    /// The tournament service.
    pub tournament: platform::grpc::Peer,
    /// The website, for the vote link.
    pub website: String,
}

impl Subscriber for OnElectionChanged {
    type Event = ElectionChanged;

    fn name(&self) -> &str {
        "gateway-election-post"
    }

    async fn on(
        &self,
        _txn: &DatabaseTransaction,
        event: ElectionChanged,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        if event.message_id == 0 {
            return Ok(());
        }
        let peer = &self.tournament;
        let request = pb::GetElectionRequest {
            election_id: event.election_id,
            voter_discord_id: 0,
        };
        let election = peer
            .call(|| {
                let mut client = ElectionsClient::new(peer.channel());
                async move { client.get_election(request).await }
            })
            .await
            .map_err(|s| HandlerError::Transient(anyhow::anyhow!("tournament: {s}")))?
            .into_inner();
        let mut reply = post(&election, &self.website);
        let files = std::mem::take(&mut reply.files);
        match self
            .api
            .edit_message(event.channel_id, event.message_id, &reply)
            .await
        {
            Ok(()) => {}
            Err(status) if status.code() == tonic::Code::Unavailable => {
                return Err(HandlerError::Transient(anyhow::anyhow!("{status}")));
            }
            Err(status) => {
                tracing::warn!(election = event.election_id, %status, "election post not updated");
            }
        }
        if !files.is_empty() {
            let results = Reply {
                content: Some(format!("Results of **{}**:", election.title)),
                files,
                ..Reply::default()
            };
            let key = format!("election:{}:results", event.election_id);
            if let Err(status) = self.api.send_reply(&key, event.channel_id, &results).await {
                if status.code() == tonic::Code::Unavailable {
                    return Err(HandlerError::Transient(anyhow::anyhow!("{status}")));
                }
                tracing::warn!(election = event.election_id, %status, "election results not posted");
            }
        }
        let _ = envelope;
        Ok(())
    }
}

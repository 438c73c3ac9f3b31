//! `/async` and the async run buttons (spec `discord-and-web.md` §1.10): the tournament's post
//! with its persistent "Start new async run" button, the pool choice, a private thread per
//! run with Ready/Forfeit, the countdown and GO with Finish/Forfeit/Get timer, the post-race
//! form, and the organizers' commands. The tournament service decides every gate and
//! transition (`asynctournament.v1`); this module renders and talks to Discord.
//!
//! Thread buttons carry no argument (upstream's ids `sahasrahbot:async_*` still work): the run
//! is the one of the thread the button is in.

use std::time::Duration;

use futures::future::BoxFuture;
use platform::grpc::TracedChannel;
use proto::asynctournament::v1 as pb;
use proto::asynctournament::v1::async_tournaments_client::AsyncTournamentsClient;
use twilight_model::application::command::{Command, CommandOptionChoice, CommandType};
use twilight_model::channel::ChannelType;
use twilight_model::channel::message::component::{
    ButtonStyle, Label, SelectMenu, SelectMenuOption, SelectMenuType, TextInput, TextInputStyle,
};
use twilight_model::channel::message::{AllowedMentions, Component, Embed};
use twilight_model::channel::thread::AutoArchiveDuration;
use twilight_model::id::Id;
use twilight_util::builder::command::{
    BooleanBuilder, CommandBuilder, IntegerBuilder, RoleBuilder, StringBuilder, SubCommandBuilder,
    UserBuilder,
};

use super::SlashCommand;
use crate::components::{Answer, ComponentAck, ComponentError, ComponentHandler, button, row};
use crate::context::{Ack, App, Call, CommandError, ComponentCall};
use crate::custom_id::CustomId;
use crate::discord::Reply;
use crate::embeds::{blank, field};

/// The `custom_id` feature of every async component.
pub const FEATURE: &str = "async";

/// The rules posted in a run's thread before Ready (default customization).
pub const RULES_DEFAULT: &str = "⚠️ Please read these reminders before clicking Ready! ⚠️\n\n\
1. You must record your run and upload it to an **unlisted YouTube video**, or stream it to an unlisted YouTube stream.\n\
2. Do not make your video public until the qualifier closes.\n\
3. If you have technical issues, **do not forfeit**. Finish the run, then contact an admin.\n\
4. Forfeiting, even before starting, requires using your reattempt.\n\
5. Record locally as .mkv or .flv, not .mp4.\n\n\
**__DO NOT USE TWITCH.TV__**\n\nGood luck and have fun!";

/// The rules of `gmpmt2023` tournaments.
pub const RULES_GMPMT: &str = "⚠️ Please read these reminders before clicking Ready! ⚠️\n\n\
1. **DO NOT STREAM YOURSELF** playing this seed.\n\
2. At the end of your run, take a screenshot of your **IGT** and **Collection Rate**; you will submit both.\n\
3. Recording to an unlisted YouTube video is optional.\n\n\
Good luck and have fun!";

/// `/async`.
#[derive(Debug)]
pub struct AsyncCommand;

fn unavailable() -> CommandError {
    CommandError::user("Async tournaments are not available right now; try again later.")
}

fn client(app: &App) -> Result<AsyncTournamentsClient<TracedChannel>, CommandError> {
    let peer = app.tournament.as_ref().ok_or_else(unavailable)?;
    Ok(AsyncTournamentsClient::new(peer.channel()))
}

fn refused(status: tonic::Status) -> CommandError {
    CommandError::from_status(&status)
}

/// The caller as the tournament service sees them.
fn caller(app: &App, user: u64, name: &str, roles: &[u64]) -> pb::Caller {
    pb::Caller {
        discord_user_id: user,
        operator: app.settings.operators.contains(&user),
        role_ids: roles.to_vec(),
        roles_known: true,
        name: name.to_owned(),
        ..Default::default()
    }
}

fn of_call(app: &App, call: &Call) -> pb::Caller {
    caller(app, call.user_id, &call.user_name, &call.member_roles)
}

fn of_click(app: &App, call: &ComponentCall) -> pb::Caller {
    caller(app, call.user_id, &call.user_name, &call.member_roles)
}

fn here(app: &App, call: &Call) -> pb::TournamentRef {
    pb::TournamentRef {
        channel_id: call.channel_id.unwrap_or_default(),
        caller: Some(of_call(app, call)),
        ..Default::default()
    }
}

fn this_thread(app: &App, call: &Call) -> pb::RunRef {
    pb::RunRef {
        thread_id: call.channel_id.unwrap_or_default(),
        caller: Some(of_call(app, call)),
        ..Default::default()
    }
}

/// upstream's thread name: python-slugify of the username (case kept, at most 20 characters)
/// and the pool.
pub fn thread_name(username: &str, pool: &str) -> String {
    let mut slug = String::new();
    for c in username.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(20).collect();
    let slug = slug.trim_end_matches('-');
    let name = format!("{} - {pool}", if slug.is_empty() { "runner" } else { slug });
    name.chars().take(100).collect()
}

/// The tournament's post: name, owner, id, and the "Start new async run" button.
pub fn tournament_post(t: &pb::Tournament) -> Reply {
    let mut embed = blank(Some(t.name.clone()), None, Some(0x2ecc71));
    embed.fields = vec![field("Owner", format!("<@{}>", t.owner_discord_id), true)];
    embed.footer = Some(twilight_model::channel::message::embed::EmbedFooter {
        text: format!("ID: {}", t.id),
        icon_url: None,
        proxy_icon_url: None,
    });
    Reply {
        embeds: vec![embed],
        components: vec![row(vec![button(
            "async:new_run",
            "Start new async run",
            ButtonStyle::Success,
            Some("🏁"),
            false,
        )])],
        ..Reply::default()
    }
}

/// The run's embed: pool, permalink, file-select code, race id.
fn run_embed(run: &pb::Run) -> Embed {
    let mut embed = blank(Some("Tournament Async Run".into()), None, Some(0x3498db));
    embed.fields = vec![
        field("Pool", run.pool_name.clone(), false),
        field("Permalink", run.permalink_url.clone(), false),
    ];
    if !run.permalink_notes.is_empty() {
        embed
            .fields
            .push(field("Notes", run.permalink_notes.clone(), false));
    }
    embed.footer = Some(twilight_model::channel::message::embed::EmbedFooter {
        text: format!("Race ID: {}", run.id),
        icon_url: None,
        proxy_icon_url: None,
    });
    embed
}

/// The rules, the run's embed and Ready/Forfeit (disabled once used).
fn ready_post(run: &pb::Run, disabled: bool) -> Reply {
    Reply {
        content: Some(
            if run.customization == "gmpmt2023" {
                RULES_GMPMT
            } else {
                RULES_DEFAULT
            }
            .to_owned(),
        ),
        embeds: vec![run_embed(run)],
        components: vec![row(vec![
            button(
                "async:ready",
                "Ready (start countdown)",
                ButtonStyle::Success,
                Some("✅"),
                disabled,
            ),
            button(
                "async:forfeit",
                "Forfeit",
                ButtonStyle::Danger,
                Some("🏳️"),
                disabled,
            ),
        ])],
        allowed_mentions: Some(AllowedMentions::default()),
        ..Reply::default()
    }
}

/// "**GO!**" with Finish / Forfeit / Get timer (disabled once the run is over).
fn go_post(disabled: bool) -> Reply {
    Reply {
        content: Some("**GO!**".into()),
        components: vec![row(vec![
            button(
                "async:finish",
                "Finish",
                ButtonStyle::Success,
                Some("✅"),
                disabled,
            ),
            button(
                "async:forfeit",
                "Forfeit",
                ButtonStyle::Danger,
                Some("🏳️"),
                disabled,
            ),
            button(
                "async:timer",
                "Get timer",
                ButtonStyle::Secondary,
                Some("⏱️"),
                disabled,
            ),
        ])],
        ..Reply::default()
    }
}

fn finish_post(run: &pb::Run) -> Reply {
    let elapsed = &run.elapsed_time;
    let text = if run.customization == "gmpmt2023" {
        format!(
            "Your finish time of **{elapsed}** has been recorded.  Thank you for playing!\n\nDon't forget to submit your Collection Rate and IGT using the button below!"
        )
    } else {
        format!(
            "Your finish time of **{elapsed}** has been recorded.  Thank you for playing!\n\nDon't forget to submit a VoD of your run using the button below!"
        )
    };
    Reply {
        content: Some(text),
        components: vec![row(vec![button(
            "async:submit_vod",
            "Submit Run Information",
            ButtonStyle::Success,
            Some("🗒️"),
            false,
        )])],
        ..Reply::default()
    }
}

fn text_input(id: &str, label: &str, placeholder: &str, long: bool, required: bool) -> Component {
    Component::Label(Label {
        component: Box::new(Component::TextInput(TextInput {
            custom_id: id.into(),
            id: None,
            #[allow(deprecated)]
            label: None,
            max_length: Some(if long { 4000 } else { 400 }),
            min_length: None,
            placeholder: Some(placeholder.into()),
            required: Some(required),
            style: if long {
                TextInputStyle::Paragraph
            } else {
                TextInputStyle::Short
            },
            value: None,
        })),
        description: None,
        id: None,
        label: label.into(),
    })
}

fn internal(error: impl std::fmt::Display) -> CommandError {
    CommandError::Internal(anyhow::anyhow!("{error}"))
}

impl SlashCommand for AsyncCommand {
    fn definition(&self) -> Command {
        let permission = || {
            StringBuilder::new("permission", "admin or mod.")
                .required(true)
                .choices([("admin", "admin"), ("mod", "mod")])
        };
        CommandBuilder::new("async", "Async tournaments.", CommandType::ChatInput)
            .option(
                SubCommandBuilder::new(
                    "create",
                    "Create an async tournament in this channel (operators).",
                )
                .option(StringBuilder::new("name", "The tournament's name.").required(true))
                .option(
                    StringBuilder::new(
                        "permalinks",
                        "Pools: `pool,preset,count;pool,preset,count`.",
                    )
                    .required(true),
                )
                .option(
                    IntegerBuilder::new(
                        "reattempts",
                        "Reattempts each player may use (default 1).",
                    )
                    .min_value(0)
                    .max_value(10),
                )
                .option(
                    IntegerBuilder::new("runs_per_pool", "Runs per pool per player (default 1).")
                        .min_value(1)
                        .max_value(10),
                )
                .option(
                    StringBuilder::new("customization", "Rules text and post-race form.")
                        .choices([("default", "default"), ("gmpmt2023", "gmpmt2023")]),
                ),
            )
            .option(
                SubCommandBuilder::new("addseed", "Roll more seeds for a pool (operators).")
                    .option(StringBuilder::new("pool_name", "The pool.").required(true))
                    .option(
                        StringBuilder::new("preset", "The preset of a new pool.").required(true),
                    )
                    .option(
                        IntegerBuilder::new("num", "How many (default 1).")
                            .min_value(1)
                            .max_value(100),
                    ),
            )
            .option(SubCommandBuilder::new(
                "repost",
                "Post the tournament's button again (operators).",
            ))
            .option(
                SubCommandBuilder::new("permissions", "Grant admin or mod (operators).")
                    .option(permission())
                    .option(RoleBuilder::new(
                        "role",
                        "Everyone with this role, now and later.",
                    ))
                    .option(UserBuilder::new("user", "One member.")),
            )
            .option(
                SubCommandBuilder::new(
                    "whitelist",
                    "Excuse a new Discord account from the age check (admins).",
                )
                .option(UserBuilder::new("user", "The member.").required(true))
                .option(BooleanBuilder::new(
                    "remove",
                    "Take them off the whitelist.",
                )),
            )
            .option(
                SubCommandBuilder::new(
                    "extendtimeout",
                    "Give this run more time to start (admins, mods).",
                )
                .option(
                    IntegerBuilder::new("minutes", "Minutes to add.")
                        .required(true)
                        .min_value(1)
                        .max_value(1440),
                ),
            )
            .option(SubCommandBuilder::new(
                "done",
                "Finish your run in this thread.",
            ))
            .option(
                SubCommandBuilder::new(
                    "calculate_scores",
                    "Recalculate pars and scores now (admins).",
                )
                .option(BooleanBuilder::new(
                    "only_approved",
                    "Only approved runs count.",
                )),
            )
            .option(SubCommandBuilder::new(
                "close",
                "Close this tournament (its owner).",
            ))
            .option(
                SubCommandBuilder::new("update_run", "Correct the run in this thread (the owner).")
                    .option(StringBuilder::new("status", "New status.").choices([
                        ("finished", "finished"),
                        ("forfeit", "forfeit"),
                        ("disqualified", "disqualified"),
                    ]))
                    .option(StringBuilder::new("elapsed_time", "HH:MM:SS"))
                    .option(StringBuilder::new("vod_url", "VOD link")),
            )
            .option(
                SubCommandBuilder::new(
                    "live_race_create",
                    "Make a race room a live qualifier of a pool (admins, mods).",
                )
                .option(StringBuilder::new("pool_name", "The pool.").required(true))
                .option(StringBuilder::new("racetime_slug", "category/room-name").required(true))
                .option(StringBuilder::new("title", "The match title.")),
            )
            .option(
                SubCommandBuilder::new(
                    "live_race_roll",
                    "Roll the live race's seed and record its entrants (admins, mods).",
                )
                .option(
                    StringBuilder::new("racetime_slug", "category/room-name")
                        .required(true)
                        .autocomplete(true),
                ),
            )
            .option(
                SubCommandBuilder::new(
                    "live_race_record",
                    "Record a live race's results (admins, mods).",
                )
                .option(
                    StringBuilder::new("racetime_slug", "category/room-name")
                        .required(true)
                        .autocomplete(true),
                )
                .option(BooleanBuilder::new(
                    "force",
                    "Record even if it is not in progress.",
                )),
            )
            .build()
    }

    fn ack(&self, call: &Call) -> Ack {
        match call.path.get(1).map(String::as_str) {
            Some("done" | "extendtimeout" | "update_run" | "close") => Ack::Public,
            _ => Ack::Private,
        }
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(async move {
            match call.path.get(1).map(String::as_str) {
                Some("create") => create(app, call).await,
                Some("addseed") => add_seed(app, call).await,
                Some("repost") => repost(app, call).await,
                Some("permissions") => permissions(app, call).await,
                Some("whitelist") => whitelist(app, call).await,
                Some("extendtimeout") => extend(app, call).await,
                Some("done") => done(app, call).await,
                Some("calculate_scores") => calculate(app, call).await,
                Some("close") => close(app, call).await,
                Some("update_run") => update_run(app, call).await,
                Some("live_race_create") => live_create(app, call).await,
                Some("live_race_roll") => live_roll(app, call).await,
                Some("live_race_record") => live_record(app, call).await,
                _ => Err(CommandError::user("Unknown /async command.")),
            }
        })
    }

    fn autocomplete<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
        _option: &'a str,
        typed: &'a str,
    ) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
        Box::pin(async move {
            let Ok(mut client) = client(app) else {
                return Vec::new();
            };
            let Ok(reply) = client.list_live_races(here(app, call)).await else {
                return Vec::new();
            };
            reply
                .into_inner()
                .live_races
                .into_iter()
                .filter(|l| l.status != "finished" && l.racetime_slug.contains(typed))
                .take(25)
                .map(|l| CommandOptionChoice {
                    name: l.racetime_slug.clone(),
                    name_localizations: None,
                    value: twilight_model::application::command::CommandOptionChoiceValue::String(
                        l.racetime_slug,
                    ),
                })
                .collect()
        })
    }
}

/// Posts the tournament's button in its channel and records the post.
async fn post_button(app: &App, t: &pb::Tournament, key: &str) -> Result<(), CommandError> {
    let sent = app
        .discord_api()
        .send_reply(key, t.channel_id, &tournament_post(t))
        .await
        .map_err(refused)?;
    client(app)?
        .set_message(pb::SetMessageRequest {
            tournament_id: t.id,
            message_id: sent.message_id,
        })
        .await
        .map_err(refused)?;
    Ok(())
}

async fn create(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let (Some(guild), Some(channel)) = (call.guild_id, call.channel_id) else {
        return Err(CommandError::user(
            "An async tournament lives in a server channel.",
        ));
    };
    let caller = of_call(app, call);
    if !caller.operator {
        return Err(CommandError::user(
            "Only the bot's operators may create async tournaments.",
        ));
    }
    let pools = parse_pools(call.string("permalinks").unwrap_or_default())?;
    let t = client(app)?
        .create_tournament(pb::CreateTournamentRequest {
            caller: Some(caller),
            name: call.string("name").unwrap_or_default().to_owned(),
            guild_id: guild,
            channel_id: channel,
            pools,
            allowed_reattempts: call.integer("reattempts").unwrap_or(1) as i32,
            runs_per_pool: call.integer("runs_per_pool").unwrap_or(1) as i32,
            customization: call.string("customization").unwrap_or("default").to_owned(),
        })
        .await
        .map_err(refused)?
        .into_inner();
    post_button(
        app,
        &t,
        &format!("async:{}:post:{}", t.id, call.interaction_id),
    )
    .await?;
    Ok(Reply::text(format!(
        "Async tournament **{}** created (ID {}) with pools {}.",
        t.name,
        t.id,
        t.pools
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// `pool,preset,count;…` as pool specs (the service checks the values).
fn parse_pools(text: &str) -> Result<Vec<pb::PoolSpec>, CommandError> {
    let mut pools = Vec::new();
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let parts: Vec<&str> = entry.split(',').map(str::trim).collect();
        let [name, preset, count] = parts.as_slice() else {
            return Err(CommandError::user(format!(
                "`{entry}` is not `pool,preset,count` (pools are separated by `;`)."
            )));
        };
        let count = count.parse().map_err(|_| {
            CommandError::user(format!("`{count}` in `{entry}` is not a number of seeds."))
        })?;
        pools.push(pb::PoolSpec {
            name: (*name).to_owned(),
            preset: (*preset).to_owned(),
            count,
        });
    }
    if pools.is_empty() {
        return Err(CommandError::user(
            "Name at least one pool: `pool,preset,count;pool,preset,count`.",
        ));
    }
    Ok(pools)
}

async fn add_seed(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let num = call.integer("num").unwrap_or(1) as i32;
    let pool = call.string("pool_name").unwrap_or_default().to_owned();
    client(app)?
        .add_seeds(pb::AddSeedsRequest {
            tournament: Some(here(app, call)),
            pool_name: pool.clone(),
            preset: call.string("preset").unwrap_or_default().to_owned(),
            count: num,
        })
        .await
        .map_err(refused)?;
    Ok(Reply::text(format!("Added {num} seeds to pool {pool}.")))
}

async fn repost(app: &App, call: &Call) -> Result<Reply, CommandError> {
    if !app.settings.operators.contains(&call.user_id) {
        return Err(CommandError::user(
            "Only the bot's operators may repost the button.",
        ));
    }
    let t = client(app)?
        .get_tournament(pb::GetTournamentRequest {
            tournament: Some(here(app, call)),
        })
        .await
        .map_err(refused)?
        .into_inner();
    post_button(
        app,
        &t,
        &format!("async:{}:post:{}", t.id, call.interaction_id),
    )
    .await?;
    Ok(Reply::text("Posted."))
}

async fn permissions(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let permission = call.string("permission").unwrap_or_default().to_owned();
    let (role, user) = (call.id("role"), call.user("user"));
    let request = pb::GrantRequest {
        tournament: Some(here(app, call)),
        role: permission.clone(),
        discord_user_ids: user.into_iter().collect(),
        discord_role_id: role.unwrap_or_default(),
    };
    if role.is_some() == user.is_some() {
        return Err(CommandError::user("Give a role or a user (one of them)."));
    }
    client(app)?.grant(request).await.map_err(refused)?;
    Ok(Reply::text(match (role, user) {
        (Some(role), _) => {
            format!("Members of <@&{role}> now and later have {permission} permissions.")
        }
        (_, Some(user)) => format!("<@{user}> has been granted {permission} permissions."),
        _ => String::new(),
    }))
}

async fn whitelist(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let user = call
        .user("user")
        .ok_or_else(|| CommandError::user("Name the member."))?;
    let remove = call.boolean("remove").unwrap_or(false);
    client(app)?
        .set_whitelisted(pb::SetWhitelistedRequest {
            tournament: Some(here(app, call)),
            discord_user_id: user,
            whitelisted: !remove,
        })
        .await
        .map_err(refused)?;
    Ok(Reply::text(if remove {
        format!("<@{user}> is no longer whitelisted.")
    } else {
        format!("<@{user}> is whitelisted: their account's age is not checked.")
    }))
}

async fn extend(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let run = client(app)?
        .extend_timeout(pb::ExtendTimeoutRequest {
            run: Some(this_thread(app, call)),
            minutes: call.integer("minutes").unwrap_or(0) as i32,
        })
        .await
        .map_err(refused)?
        .into_inner();
    let at = run.thread_timeout_time.map_or(0, |t| t.seconds);
    Ok(Reply::text(format!(
        "Timeout extended to <t:{at}:f> (<t:{at}:R>)."
    )))
}

async fn done(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let run = client(app)?
        .finish(this_thread(app, call))
        .await
        .map_err(refused)?
        .into_inner();
    Ok(finish_post(&run))
}

async fn calculate(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let reply = client(app)?
        .recalculate_scores(pb::RecalculateScoresRequest {
            tournament: Some(here(app, call)),
            only_approved: call.boolean("only_approved").unwrap_or(false),
        })
        .await
        .map_err(refused)?
        .into_inner();
    Ok(Reply::text(format!(
        "Done! {} pars and {} scores recalculated.",
        reply.permalinks, reply.runs
    )))
}

async fn close(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let t = client(app)?
        .get_tournament(pb::GetTournamentRequest {
            tournament: Some(here(app, call)),
        })
        .await
        .map_err(refused)?
        .into_inner();
    if !t.caller_is_owner {
        return Err(CommandError::user(
            "Only the owner of this tournament may close it.",
        ));
    }
    if !t.active {
        return Err(CommandError::user("This tournament is already closed."));
    }
    Ok(Reply {
        content: Some(
            "Are you sure you want to close this tournament?\n\nThis action cannot be undone."
                .into(),
        ),
        components: vec![row(vec![button(
            &format!("async:close:{}", t.id),
            "Yes, close this tournament",
            ButtonStyle::Danger,
            Some("🔒"),
            false,
        )])],
        ..Reply::default()
    })
}

async fn update_run(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let request = pb::UpdateRunRequest {
        run: Some(this_thread(app, call)),
        status: call.string("status").unwrap_or_default().to_owned(),
        elapsed_time: call.string("elapsed_time").unwrap_or_default().to_owned(),
        vod_url: call.string("vod_url").unwrap_or_default().to_owned(),
    };
    let run = client(app)?
        .update_run(request)
        .await
        .map_err(refused)?
        .into_inner();
    // The note the service appended ends the runner's notes.
    let notes = run.runner_notes;
    let start = notes
        .rfind(" administratively updated this run:")
        .map(|at| notes[..at].rfind("\n\n").map_or(0, |p| p + 2))
        .unwrap_or(0);
    let note = notes[start..].to_owned();
    Ok(Reply::text(note))
}

async fn live_create(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let live = client(app)?
        .create_live_race(pb::CreateLiveRaceRequest {
            tournament: Some(here(app, call)),
            pool_name: call.string("pool_name").unwrap_or_default().to_owned(),
            racetime_slug: call.string("racetime_slug").unwrap_or_default().to_owned(),
            episode_id: 0,
            match_title: call.string("title").unwrap_or_default().to_owned(),
        })
        .await
        .map_err(refused)?
        .into_inner();
    Ok(Reply::text(format!(
        "`{}` is live race {} of pool {}. Roll it with `/async live_race_roll` when its entrants are in.",
        live.racetime_slug, live.id, live.pool_name
    )))
}

async fn live_roll(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let reply = client(app)?
        .roll_live_race(pb::RollLiveRaceRequest {
            racetime_slug: call.string("racetime_slug").unwrap_or_default().to_owned(),
            caller: Some(of_call(app, call)),
        })
        .await
        .map_err(refused)?
        .into_inner();
    let seed = reply.permalink.unwrap_or_default();
    Ok(Reply::text(format!(
        "Seed {} ({}) posted in the room. Eligible entrants: {}.",
        seed.url,
        seed.notes,
        if reply.eligible.is_empty() {
            "none".to_owned()
        } else {
            reply.eligible.join(", ")
        }
    )))
}

async fn live_record(app: &App, call: &Call) -> Result<Reply, CommandError> {
    let reply = client(app)?
        .record_live_race(pb::RecordLiveRaceRequest {
            racetime_slug: call.string("racetime_slug").unwrap_or_default().to_owned(),
            caller: Some(of_call(app, call)),
            force: call.boolean("force").unwrap_or(false),
        })
        .await
        .map_err(refused)?
        .into_inner();
    Ok(Reply::text(if reply.warnings.is_empty() {
        "The recording of this race finished without any warnings!".to_owned()
    } else {
        format!(
            "The race was recorded with warnings:\n{}",
            reply
                .warnings
                .iter()
                .map(|w| format!("- {w}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    }))
}

/// The async buttons, the pool select and the post-race modal.
#[derive(Debug)]
pub struct AsyncButtons;

impl ComponentHandler for AsyncButtons {
    fn feature(&self) -> &'static str {
        FEATURE
    }

    fn ack(&self, call: &ComponentCall) -> ComponentAck {
        match (call.id.action.as_str(), call.modal) {
            // Opening a thread and posting in it takes more than Discord's 3 seconds at times.
            ("confirm" | "confirm_forfeit" | "close", false) | ("vod", true) => {
                ComponentAck::DeferredPrivate
            }
            _ => ComponentAck::Immediate,
        }
    }

    fn handle<'a>(
        &'a self,
        app: &'a App,
        call: &'a ComponentCall,
    ) -> BoxFuture<'a, Result<Answer, ComponentError>> {
        Box::pin(async move {
            match (call.id.action.as_str(), call.modal) {
                ("new_run", false) => new_run(app, call).await,
                ("pool", false) => choose_pool(app, call).await,
                ("cancel", false) => Ok(Answer::Update(Reply::text(
                    "Successfully cancelled this request.  It will not be placed on your record and may be attempted at a later time.",
                ))),
                ("confirm", false) => confirm(app, call).await,
                ("ready", false) => ready(app, call).await,
                ("forfeit", false) => Ok(Answer::Message {
                    reply: Reply {
                        content: Some("Are you sure you wish to forfeit?  Think carefully, as this action **cannot be undone**.  This race will be scored as a **zero** on your record and you may not re-play the run.".into()),
                        components: vec![row(vec![button(
                            "async:confirm_forfeit",
                            "Confirm Forfeit",
                            ButtonStyle::Danger,
                            Some("🏳️"),
                            false,
                        )])],
                        ..Reply::default()
                    },
                    private: true,
                }),
                ("confirm_forfeit", false) => forfeit(app, call).await,
                ("finish", false) => finish(app, call).await,
                ("timer", false) => timer(app, call).await,
                ("submit_vod", false) => vod_form(app, call).await,
                ("vod", true) => submit_vod(app, call).await,
                ("close", false) => close_confirmed(app, call).await,
                _ => Err(ComponentError::Stale),
            }
        })
    }
}

fn thread_ref(app: &App, call: &ComponentCall) -> pb::RunRef {
    pb::RunRef {
        thread_id: call.channel_id.unwrap_or_default(),
        caller: Some(of_click(app, call)),
        ..Default::default()
    }
}

async fn new_run(app: &App, call: &ComponentCall) -> Result<Answer, ComponentError> {
    let reply = client(app)?
        .eligibility(pb::EligibilityRequest {
            tournament: Some(pb::TournamentRef {
                channel_id: call.channel_id.unwrap_or_default(),
                caller: Some(of_click(app, call)),
                ..Default::default()
            }),
        })
        .await
        .map_err(refused)?
        .into_inner();
    Ok(Answer::Message {
        reply: pool_choice(&reply.pools, None),
        private: true,
    })
}

/// The warning, the pool select and Confirm (enabled once a pool is chosen) / Cancel.
fn pool_choice(pools: &[String], chosen: Option<&str>) -> Reply {
    let select = Component::SelectMenu(SelectMenu {
        channel_types: None,
        custom_id: "async:pool".into(),
        default_values: None,
        disabled: false,
        id: None,
        kind: SelectMenuType::Text,
        max_values: Some(1),
        min_values: Some(1),
        options: Some(
            pools
                .iter()
                .take(25)
                .map(|p| SelectMenuOption {
                    default: Some(p.as_str()) == chosen,
                    description: None,
                    emoji: None,
                    label: p.chars().take(100).collect(),
                    value: p.chars().take(100).collect(),
                })
                .collect(),
        ),
        placeholder: Some("Select an async pool".into()),
        required: None,
    });
    let confirm_id = chosen
        .and_then(|p| CustomId::new(FEATURE, "confirm", &[&pool_key(p)]).ok())
        .map_or_else(|| "async:confirm".to_owned(), |id| id.to_string());
    let mut reply = Reply {
        content: Some("You must start your race within 10 minutes of clicking this button.\nFailure to do so will result in a forfeit.\n\n**Please be absolutely certain you're ready to begin.**\n\nThis dialogue box will expire in 60 seconds.  Dismiss this message to cancel.".into()),
        components: vec![
            row(vec![select]),
            row(vec![
                button(&confirm_id, "I confirm, this is the point of no return!", ButtonStyle::Success, Some("✅"), chosen.is_none()),
                button("async:cancel", "Cancel", ButtonStyle::Danger, Some("❌"), false),
            ]),
        ],
        ..Reply::default()
    };
    if let Some(pool) = chosen {
        reply.embeds = vec![blank(
            None,
            Some(format!("You have selected: {pool}")),
            None,
        )];
    }
    reply
}

/// A pool name as a `custom_id` argument (`:` is the separator; names are at most 100
/// characters, the id too, so long names are cut — the service matches on the full name
/// passed back from the select).
fn pool_key(pool: &str) -> String {
    pool.replace(':', "\u{2236}").chars().take(80).collect()
}

async fn choose_pool(app: &App, call: &ComponentCall) -> Result<Answer, ComponentError> {
    let chosen = call.values.first().ok_or(ComponentError::Stale)?;
    let reply = client(app)?
        .eligibility(pb::EligibilityRequest {
            tournament: Some(pb::TournamentRef {
                channel_id: call.channel_id.unwrap_or_default(),
                caller: Some(of_click(app, call)),
                ..Default::default()
            }),
        })
        .await
        .map_err(refused)?
        .into_inner();
    Ok(Answer::Update(pool_choice(&reply.pools, Some(chosen))))
}

async fn confirm(app: &App, call: &ComponentCall) -> Result<Answer, ComponentError> {
    let key = call.id.arg(0).ok_or(ComponentError::Stale)?;
    let channel = call.channel_id.ok_or(ComponentError::Stale)?;
    let mut client = client(app)?;
    let eligible = client
        .eligibility(pb::EligibilityRequest {
            tournament: Some(pb::TournamentRef {
                channel_id: channel,
                caller: Some(of_click(app, call)),
                ..Default::default()
            }),
        })
        .await
        .map_err(refused)?
        .into_inner();
    let tournament = eligible.tournament.unwrap_or_default();
    let pool = tournament
        .pools
        .iter()
        .map(|p| p.name.clone())
        .find(|name| pool_key(name) == key)
        .ok_or_else(|| CommandError::user("That pool no longer exists."))?;
    let run = client
        .start_run(pb::StartRunRequest {
            tournament: Some(pb::TournamentRef {
                channel_id: channel,
                caller: Some(of_click(app, call)),
                ..Default::default()
            }),
            pool_name: pool.clone(),
        })
        .await
        .map_err(refused)?
        .into_inner();
    let discord = app
        .discord
        .as_ref()
        .ok_or_else(|| CommandError::user("The bot is not connected to Discord."))?;
    let thread = discord
        .http
        .create_thread(
            Id::new(channel.max(1)),
            &thread_name(&call.user_name, &pool),
            ChannelType::PrivateThread,
        )
        .auto_archive_duration(AutoArchiveDuration::Day)
        .invitable(false)
        .await
        .map_err(internal)?
        .model()
        .await
        .map_err(internal)?;
    let run = client
        .attach_thread(pb::AttachThreadRequest {
            run_id: run.id,
            thread_id: thread.id.get(),
            caller: Some(of_click(app, call)),
        })
        .await
        .map_err(refused)?
        .into_inner();
    discord
        .http
        .add_thread_member(thread.id, Id::new(call.user_id.max(1)))
        .await
        .map_err(internal)?;
    app.discord_api()
        .send_reply(
            &format!("async:{}:rules", run.id),
            thread.id.get(),
            &ready_post(&run, false),
        )
        .await
        .map_err(refused)?;
    Ok(Answer::private(format!(
        "Successfully created <#{}>.  Please join that thread for more details.",
        thread.id
    )))
}

async fn ready(app: &App, call: &ComponentCall) -> Result<Answer, ComponentError> {
    let run = client(app)?
        .mark_ready(thread_ref(app, call))
        .await
        .map_err(refused)?
        .into_inner();
    let thread = call.channel_id.ok_or(ComponentError::Stale)?;
    let (api, step) = (
        app.discord_api(),
        Duration::from_millis(app.settings.async_countdown_ms),
    );
    let (caller, client) = (of_click(app, call), client(app)?);
    // The countdown runs on; the tournament's timer sweep starts the clock itself should this
    // process stop mid-countdown.
    tokio::spawn(countdown(api, client, caller, run.id, thread, step));
    Ok(Answer::Update(ready_post(&run, true)))
}

async fn countdown(
    api: crate::grpc::DiscordApi,
    mut client: AsyncTournamentsClient<TracedChannel>,
    caller: pb::Caller,
    run: i64,
    thread: u64,
    step: Duration,
) {
    for n in (1..=10).rev() {
        if let Err(status) = api
            .send_reply(
                &format!("async:{run}:count:{n}"),
                thread,
                &Reply::text(format!("{n}...")),
            )
            .await
        {
            tracing::warn!(run, %status, "countdown message not posted");
        }
        tokio::time::sleep(step).await;
    }
    if let Err(status) = api
        .send_reply(&format!("async:{run}:go"), thread, &go_post(false))
        .await
    {
        tracing::warn!(run, %status, "GO not posted");
    }
    let started = client
        .mark_started(pb::RunRef {
            run_id: run,
            caller: Some(caller),
            ..Default::default()
        })
        .await;
    if let Err(status) = started {
        tracing::warn!(run, %status, "the run's start was not recorded");
    }
}

async fn forfeit(app: &App, call: &ComponentCall) -> Result<Answer, ComponentError> {
    let run = client(app)?
        .forfeit(thread_ref(app, call))
        .await
        .map_err(refused)?
        .into_inner();
    let thread = call.channel_id.ok_or(ComponentError::Stale)?;
    app.discord_api()
        .send_reply(
            &format!("async:{}:forfeited", run.id),
            thread,
            &Reply {
                content: Some(format!(
                    "This run has been forfeited by <@{}>.",
                    call.user_id
                )),
                allowed_mentions: Some(AllowedMentions::default()),
                ..Reply::default()
            },
        )
        .await
        .map_err(refused)?;
    Ok(Answer::private("You have forfeited this run."))
}

async fn finish(app: &App, call: &ComponentCall) -> Result<Answer, ComponentError> {
    let run = client(app)?
        .finish(thread_ref(app, call))
        .await
        .map_err(refused)?
        .into_inner();
    let thread = call.channel_id.ok_or(ComponentError::Stale)?;
    app.discord_api()
        .send_reply(
            &format!("async:{}:finished", run.id),
            thread,
            &finish_post(&run),
        )
        .await
        .map_err(refused)?;
    Ok(Answer::Update(go_post(true)))
}

async fn timer(app: &App, call: &ComponentCall) -> Result<Answer, ComponentError> {
    let run = client(app)?
        .get_run(thread_ref(app, call))
        .await
        .map_err(refused)?
        .into_inner();
    if run.status != "in_progress" {
        return Ok(Answer::private("Race is already finished."));
    }
    // The service measures it: from GO, "N/A" while the countdown runs.
    Ok(Answer::private(format!("Timer: **{}**", run.elapsed_time)))
}

async fn vod_form(app: &App, call: &ComponentCall) -> Result<Answer, ComponentError> {
    let run = client(app)?
        .get_run(thread_ref(app, call))
        .await
        .map_err(refused)?
        .into_inner();
    if run.player.as_ref().map(|p| p.discord_user_id) != Some(call.user_id) {
        return Err(
            CommandError::user("Only the runner of this race can submit its information.").into(),
        );
    }
    let custom_id = CustomId::new(FEATURE, "vod", &[]).map_err(internal)?;
    Ok(if run.customization == "gmpmt2023" {
        Answer::Modal {
            custom_id,
            title: "Submit Collection Rate and IGT".into(),
            inputs: vec![
                text_input("run_collection_rate", "Collection Rate", "169", false, true),
                text_input("run_igt", "IGT (hh:mm:ss.mm)", "01:23:45.67", false, true),
            ],
        }
    } else {
        Answer::Modal {
            custom_id,
            title: "Submit VOD and Notes".into(),
            inputs: vec![
                text_input(
                    "runner_vod_url",
                    "VOD Link",
                    "https://www.youtube.com/watch?v=…",
                    false,
                    true,
                ),
                text_input(
                    "runner_notes",
                    "Runner Notes",
                    "Please do not include HTML, though markdown is supported.",
                    true,
                    false,
                ),
            ],
        }
    })
}

async fn submit_vod(app: &App, call: &ComponentCall) -> Result<Answer, ComponentError> {
    let get = |name: &str| call.fields.get(name).cloned().unwrap_or_default();
    let run = client(app)?
        .submit_run_info(pb::SubmitRunInfoRequest {
            run: Some(thread_ref(app, call)),
            vod_url: get("runner_vod_url"),
            notes: get("runner_notes"),
            collection_rate: get("run_collection_rate"),
            igt: get("run_igt"),
        })
        .await
        .map_err(refused)?
        .into_inner();
    let text = if run.customization == "gmpmt2023" {
        format!(
            "Collection rate and IGT saved.\n\n**Collection Rate:** {}\n**IGT:** {}",
            run.run_collection_rate, run.run_igt
        )
    } else {
        format!(
            "VOD link and runner notes saved.\n\n**URL:** {}\n**Notes:** {}",
            run.runner_vod_url,
            if run.runner_notes.is_empty() {
                "None"
            } else {
                &run.runner_notes
            }
        )
    };
    let thread = call.channel_id.ok_or(ComponentError::Stale)?;
    app.discord_api()
        .send_reply(
            &format!("async:{}:info:{}", run.id, call.interaction_id),
            thread,
            &Reply {
                content: Some(text),
                allowed_mentions: Some(AllowedMentions::default()),
                ..Reply::default()
            },
        )
        .await
        .map_err(refused)?;
    Ok(Answer::private("Saved."))
}

async fn close_confirmed(app: &App, call: &ComponentCall) -> Result<Answer, ComponentError> {
    let id: i64 = call
        .id
        .arg(0)
        .and_then(|a| a.parse().ok())
        .ok_or(ComponentError::Stale)?;
    let t = client(app)?
        .close_tournament(pb::TournamentRef {
            tournament_id: id,
            caller: Some(of_click(app, call)),
            ..Default::default()
        })
        .await
        .map_err(refused)?
        .into_inner();
    app.discord_api()
        .send_reply(
            &format!("async:{}:closed", t.id),
            t.channel_id,
            &Reply::text("This tournament has been closed."),
        )
        .await
        .map_err(refused)?;
    Ok(Answer::private("Closed."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_names_slugify_the_username_like_upstream() {
        assert_eq!(thread_name("Synack", "Pool A"), "Synack - Pool A");
        assert_eq!(thread_name("the.real  one!", "B"), "the-real-one - B");
        assert_eq!(
            thread_name("averyveryverylongusername", "B"),
            "averyveryverylonguse - B"
        );
        assert_eq!(thread_name("ü", "B"), "runner - B");
    }

    #[test]
    fn a_pool_choice_enables_confirm_only_once_chosen() {
        let pools = vec!["A".to_owned(), "B: hard".to_owned()];
        let unchosen = pool_choice(&pools, None);
        let json = serde_json::to_value(&unchosen.components).unwrap();
        assert_eq!(json[1]["components"][0]["disabled"], true);
        let chosen = pool_choice(&pools, Some("B: hard"));
        let json = serde_json::to_value(&chosen.components).unwrap();
        assert_ne!(json[1]["components"][0]["disabled"], true);
        assert_eq!(
            json[1]["components"][0]["custom_id"],
            "async:confirm:B\u{2236} hard"
        );
        assert_eq!(json[0]["components"][0]["options"][1]["default"], true);
    }

    #[test]
    fn the_pools_option_is_checked_before_asking() {
        assert_eq!(parse_pools("A,open,5;B,standard,2").unwrap().len(), 2);
        assert!(parse_pools("A,open").is_err());
        assert!(parse_pools("A,open,x").is_err());
        assert!(parse_pools("").is_err());
    }
}

//! League car numbers in Discord: `/claim`, `/release`, `/mynumbers`, `/roster` (paginated
//! with buttons), `/available`, `/check`, `/export` (CSV), `/link`, `/trade` (the partner
//! confirms with a button), `/sync`, `/syncstatus`, and for admins `/forcerelease`,
//! `/reassign`, `/auditlog` and `/league setup|config`. The tournament service owns the data
//! and decides who may do what: the gateway names the member with their roles and whether they
//! manage the server, as the interaction carries them.

use futures::future::BoxFuture;
use proto::leagues::v1 as pb;
use proto::leagues::v1::leagues_client::LeaguesClient;
use twilight_model::application::command::{
    Command, CommandOptionChoice, CommandOptionChoiceValue, CommandType,
};
use twilight_model::channel::message::Component;
use twilight_model::channel::message::component::{ActionRow, Button, ButtonStyle};
use twilight_model::guild::Permissions;
use twilight_util::builder::command::{
    ChannelBuilder, CommandBuilder, IntegerBuilder, RoleBuilder, StringBuilder, SubCommandBuilder,
    UserBuilder,
};

use super::SlashCommand;
use crate::components::{Answer, ComponentError, ComponentHandler};
use crate::context::{Ack, App, Call, CommandError, ComponentCall};
use crate::custom_id::CustomId;
use crate::discord::Reply;
use crate::embeds::blank;

/// Claims per roster page.
pub const PAGE: u32 = 20;

/// The `custom_id` feature of the roster pages and trade buttons.
pub const FEATURE: &str = "league";

/// Which league command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `/claim`.
    Claim,
    /// `/release`.
    Release,
    /// `/mynumbers`.
    MyNumbers,
    /// `/roster`.
    Roster,
    /// `/available`.
    Available,
    /// `/check`.
    Check,
    /// `/export`.
    Export,
    /// `/link`.
    Link,
    /// `/trade`.
    Trade,
    /// `/sync`.
    Sync,
    /// `/syncstatus`.
    SyncStatus,
    /// `/forcerelease`.
    ForceRelease,
    /// `/reassign`.
    Reassign,
    /// `/auditlog`.
    AuditLog,
    /// `/league setup|config`.
    League,
}

/// Every league command, for the registry.
pub const ALL: [Kind; 15] = [
    Kind::Claim,
    Kind::Release,
    Kind::MyNumbers,
    Kind::Roster,
    Kind::Available,
    Kind::Check,
    Kind::Export,
    Kind::Link,
    Kind::Trade,
    Kind::Sync,
    Kind::SyncStatus,
    Kind::ForceRelease,
    Kind::Reassign,
    Kind::AuditLog,
    Kind::League,
];

/// One league command.
#[derive(Debug)]
pub struct LeagueCommand(pub Kind);

fn league_option() -> StringBuilder {
    StringBuilder::new(
        "league",
        "The league, when this server has several (its slug).",
    )
}

fn number_option(description: &str) -> IntegerBuilder {
    IntegerBuilder::new("number", description)
        .required(true)
        .min_value(0)
        .max_value(99_999)
}

fn class_option() -> StringBuilder {
    StringBuilder::new("class", "The car class, when the league has classes.")
}

impl SlashCommand for LeagueCommand {
    fn definition(&self) -> Command {
        let command = |name: &str, description: &str| {
            CommandBuilder::new(name, description, CommandType::ChatInput)
        };
        match self.0 {
            Kind::Claim => command("claim", "Claim a car number.")
                .option(number_option("The number.").autocomplete(true))
                .option(class_option())
                .option(league_option()),
            Kind::Release => command("release", "Give up one of your car numbers.")
                .option(number_option("The number."))
                .option(class_option())
                .option(league_option()),
            Kind::MyNumbers => command("mynumbers", "Your car numbers.").option(league_option()),
            Kind::Roster => {
                command("roster", "Who holds which car number.").option(league_option())
            }
            Kind::Available => command("available", "Free car numbers.")
                .option(StringBuilder::new(
                    "starts_with",
                    "Only numbers starting with these digits.",
                ))
                .option(class_option())
                .option(league_option()),
            Kind::Check => command("check", "Who holds a car number, and who held it before.")
                .option(number_option("The number."))
                .option(class_option())
                .option(league_option()),
            Kind::Export => command("export", "The roster as a CSV file.").option(league_option()),
            Kind::Link => command("link", "Link your iRacing account (your customer id).")
                .option(
                    IntegerBuilder::new("iracing_id", "Your iRacing customer id.")
                        .required(true)
                        .min_value(1),
                )
                .option(league_option()),
            Kind::Trade => command("trade", "Offer to swap car numbers with another member.")
                .option(
                    IntegerBuilder::new("mine", "Your number.")
                        .required(true)
                        .min_value(0),
                )
                .option(UserBuilder::new("member", "Who to trade with.").required(true))
                .option(
                    IntegerBuilder::new("theirs", "Their number.")
                        .required(true)
                        .min_value(0),
                )
                .option(class_option())
                .option(StringBuilder::new("their_class", "Their number's class."))
                .option(league_option()),
            Kind::Sync => command("sync", "Check the roster against iRacing now (admins).")
                .option(league_option()),
            Kind::SyncStatus => {
                command("syncstatus", "The last iRacing roster check.").option(league_option())
            }
            Kind::ForceRelease => command("forcerelease", "Take a car number back (admins).")
                .option(number_option("The number."))
                .option(StringBuilder::new("reason", "Why (for the audit log).").required(true))
                .option(class_option())
                .option(league_option()),
            Kind::Reassign => command("reassign", "Give a car number to a member (admins).")
                .option(number_option("The number."))
                .option(UserBuilder::new("member", "Who gets it.").required(true))
                .option(class_option())
                .option(league_option()),
            Kind::AuditLog => command("auditlog", "The league's latest actions (admins).")
                .option(
                    IntegerBuilder::new("count", "How many (default 20).")
                        .min_value(1)
                        .max_value(50),
                )
                .option(league_option()),
            Kind::League => command("league", "Set up this server's car-number league.")
                .option(
                    SubCommandBuilder::new(
                        "setup",
                        "Create or change a league (Manage Server or league admin).",
                    )
                    .option(StringBuilder::new("league", "Its slug (default `main`)."))
                    .option(StringBuilder::new("name", "Its name."))
                    .option(IntegerBuilder::new("min", "Lowest number (default 1).").min_value(0))
                    .option(
                        IntegerBuilder::new("max", "Highest number (default 999).").min_value(0),
                    )
                    .option(
                        IntegerBuilder::new("per_member", "Numbers per member (default 1).")
                            .min_value(1)
                            .max_value(20),
                    )
                    .option(StringBuilder::new(
                        "classes",
                        "Car classes, comma-separated (`none` for none).",
                    ))
                    .option(StringBuilder::new(
                        "reserved",
                        "Reserved numbers, comma-separated (`none` for none).",
                    ))
                    .option(RoleBuilder::new(
                        "admin_role",
                        "Members with this role are league admins.",
                    ))
                    .option(ChannelBuilder::new(
                        "announce_channel",
                        "Where claims and releases are announced.",
                    ))
                    .option(
                        IntegerBuilder::new(
                            "iracing_league",
                            "The iRacing league id to check against.",
                        )
                        .min_value(1),
                    )
                    .option(
                        IntegerBuilder::new(
                            "sync_hours",
                            "Hours between iRacing checks (0: on demand).",
                        )
                        .min_value(0)
                        .max_value(168),
                    ),
                )
                .option(
                    SubCommandBuilder::new("config", "Show a league's settings.")
                        .option(StringBuilder::new("league", "Its slug.")),
                ),
        }
        .build()
    }

    fn ack(&self, _call: &Call) -> Ack {
        match self.0 {
            Kind::Roster | Kind::Trade => Ack::Public,
            _ => Ack::Private,
        }
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(run(self.0, app, call))
    }

    fn autocomplete<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
        option: &'a str,
        typed: &'a str,
    ) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
        Box::pin(async move {
            if self.0 != Kind::Claim || option != "number" {
                return Vec::new();
            }
            let (Some(peer), Some(guild)) = (app.tournament.as_ref(), call.guild_id) else {
                return Vec::new();
            };
            let request = pb::AvailableRequest {
                league: Some(league_ref(guild, call)),
                class: call.string("class").unwrap_or_default().to_owned(),
                prefix: typed.trim().to_owned(),
                limit: 25,
            };
            let reply = peer
                .call(|| {
                    let mut client = LeaguesClient::new(peer.channel());
                    let request = request.clone();
                    async move { client.available(request).await }
                })
                .await;
            reply
                .map(|r| r.into_inner().numbers)
                .unwrap_or_default()
                .into_iter()
                .map(|n| CommandOptionChoice {
                    name: format!("#{n}"),
                    name_localizations: None,
                    value: CommandOptionChoiceValue::Integer(i64::from(n)),
                })
                .collect()
        })
    }
}

fn unavailable() -> CommandError {
    CommandError::user("Car numbers are not available right now; try again later.")
}

fn league_ref(guild: u64, call: &Call) -> pb::LeagueRef {
    pb::LeagueRef {
        guild_id: guild,
        league: call.string("league").unwrap_or_default().trim().to_owned(),
    }
}

/// Who acts, as the interaction shows them.
fn member(user_id: u64, roles: &[u64], permissions: Option<Permissions>) -> pb::Member {
    pb::Member {
        discord_user_id: user_id,
        role_ids: roles.to_vec(),
        manages_guild: crate::context::manages_guild(permissions),
    }
}

fn number(call: &Call, name: &str) -> i32 {
    call.integer(name)
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(-1)
}

fn ids(text: &str) -> Result<Vec<i32>, CommandError> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.trim_start_matches('#').parse::<i32>().map_err(|_| {
                CommandError::user(format!(
                    "`{t}` is not a number; list numbers like `1, 7, 99`."
                ))
            })
        })
        .collect()
}

fn claim_line(c: &pb::Claim) -> String {
    let class = if c.class.is_empty() {
        String::new()
    } else {
        format!(" ({})", c.class)
    };
    let iracing = match (c.iracing_cust_id, c.iracing_name.as_str()) {
        (0, _) => " — iRacing not linked".to_owned(),
        (id, "") => format!(" — iRacing {id}"),
        (id, name) => format!(" — {name} ({id})"),
    };
    format!(
        "**#{}**{class} <@{}>{iracing}{}",
        c.number,
        c.discord_user_id,
        if c.verified { " ✅" } else { "" }
    )
}

/// A roster page with Previous/Next buttons (`league:roster:<guild>:<league>:<page>`).
fn roster_page(guild: u64, league: &str, reply: &pb::RosterReply, page: u32) -> Reply {
    let pages = reply.total.div_ceil(PAGE).max(1);
    let name = reply.league.as_ref().map_or("League", |l| l.name.as_str());
    let lines: Vec<String> = reply.claims.iter().map(claim_line).collect();
    let description = if lines.is_empty() {
        "Nobody has claimed a number yet.".to_owned()
    } else {
        lines.join("\n")
    };
    let mut embed = blank(
        Some(format!("{name} — roster")),
        Some(description),
        Some(0x2ecc71),
    );
    embed.footer = Some(twilight_model::channel::message::embed::EmbedFooter {
        text: format!(
            "Page {} of {pages} · {} numbers claimed · ✅ verified on iRacing",
            page + 1,
            reply.total
        ),
        icon_url: None,
        proxy_icon_url: None,
    });
    let slug = if league.is_empty() { "-" } else { league };
    let button = |label: &str, to: u32, disabled: bool| {
        Component::Button(Button {
            custom_id: CustomId::new(
                FEATURE,
                "roster",
                &[&guild.to_string(), slug, &to.to_string()],
            )
            .ok()
            .map(|id| id.to_string()),
            disabled,
            emoji: None,
            label: Some(label.to_owned()),
            style: ButtonStyle::Secondary,
            url: None,
            sku_id: None,
            id: None,
        })
    };
    Reply {
        embeds: vec![embed],
        components: vec![Component::ActionRow(ActionRow {
            id: None,
            components: vec![
                button("◀ Previous", page.saturating_sub(1), page == 0),
                button("Next ▶", page + 1, page + 1 >= pages),
            ],
        })],
        ..Reply::default()
    }
}

async fn roster(
    app: &App,
    guild: u64,
    league: &str,
    page: u32,
    per_page: u32,
) -> Result<pb::RosterReply, CommandError> {
    let peer = app.tournament.as_ref().ok_or_else(unavailable)?;
    let request = pb::RosterRequest {
        league: Some(pb::LeagueRef {
            guild_id: guild,
            league: league.to_owned(),
        }),
        page,
        per_page,
    };
    Ok(peer
        .call(|| {
            let mut client = LeaguesClient::new(peer.channel());
            let request = request.clone();
            async move { client.roster(request).await }
        })
        .await
        .map_err(|s| CommandError::from_status(&s))?
        .into_inner())
}

fn report_text(r: &pb::SyncReport, sync_available: bool) -> String {
    if !r.ran {
        return if sync_available {
            "The roster has not been checked against iRacing yet; an admin runs `/sync`.".into()
        } else {
            "iRacing sync is not configured in this deployment, so the roster is not checked."
                .into()
        };
    }
    let at = r.at.as_ref().map_or(0, |t| t.seconds);
    let mut out = format!("**Last iRacing check** <t:{at}:R>: {}.", r.summary);
    let section = |title: &str, findings: &[pb::Finding], line: &dyn Fn(&pb::Finding) -> String| {
        if findings.is_empty() {
            String::new()
        } else {
            let lines: Vec<String> = findings.iter().take(15).map(line).collect();
            let more = findings.len().saturating_sub(15);
            format!(
                "\n**{title}**\n{}{}",
                lines.join("\n"),
                if more > 0 {
                    format!("\n…and {more} more")
                } else {
                    String::new()
                }
            )
        }
    };
    let who = |f: &pb::Finding| {
        if f.discord_user_id == 0 {
            format!("{} ({})", f.iracing_name, f.iracing_cust_id)
        } else {
            format!("<@{}>", f.discord_user_id)
        }
    };
    out.push_str(&section(
        "Claimed here, not on the iRacing roster",
        &r.not_on_iracing,
        &|f| format!("#{} {}", f.claimed, who(f)),
    ));
    out.push_str(&section(
        "Numbered on iRacing, claimed by nobody here",
        &r.unclaimed,
        &|f| format!("#{} {}", f.on_iracing, who(f)),
    ));
    out.push_str(&section("Different number on iRacing", &r.differs, &|f| {
        format!(
            "{}: #{} here, #{} on iRacing",
            who(f),
            f.claimed,
            f.on_iracing
        )
    }));
    out.push_str(&section("No iRacing account linked", &r.unlinked, &|f| {
        format!("#{} {}", f.claimed, who(f))
    }));
    out.chars().take(2000).collect()
}

fn trade_buttons(guild: u64, league: &str, id: i64) -> Vec<Component> {
    let slug = if league.is_empty() { "-" } else { league };
    let button = |label: &str, action: &str, style: ButtonStyle| {
        Component::Button(Button {
            custom_id: CustomId::new(
                FEATURE,
                action,
                &[&guild.to_string(), slug, &id.to_string()],
            )
            .ok()
            .map(|id| id.to_string()),
            disabled: false,
            emoji: None,
            label: Some(label.to_owned()),
            style,
            url: None,
            sku_id: None,
            id: None,
        })
    };
    vec![Component::ActionRow(ActionRow {
        id: None,
        components: vec![
            button("Accept", "accept", ButtonStyle::Success),
            button("Decline", "decline", ButtonStyle::Danger),
        ],
    })]
}

async fn run(kind: Kind, app: &App, call: &Call) -> Result<Reply, CommandError> {
    let peer = app.tournament.as_ref().ok_or_else(unavailable)?;
    let Some(guild) = call.guild_id else {
        return Err(CommandError::user(
            "Car numbers belong to a server's league; use this in the server.",
        ));
    };
    let league = league_ref(guild, call);
    let who = member(call.user_id, &call.member_roles, call.member_permissions);
    let class = call.string("class").unwrap_or_default().to_owned();
    macro_rules! rpc {
        ($method:ident, $request:expr) => {{
            let request = $request;
            peer.call(|| {
                let mut client = LeaguesClient::new(peer.channel());
                let request = request.clone();
                async move { client.$method(request).await }
            })
            .await
            .map_err(|s| CommandError::from_status(&s))?
            .into_inner()
        }};
    }
    let number_request = |number: i32, reason: String| pb::NumberRequest {
        league: Some(league.clone()),
        member: Some(who.clone()),
        class: class.clone(),
        number,
        reason,
    };
    match kind {
        Kind::Claim => {
            let c = rpc!(claim, number_request(number(call, "number"), String::new()));
            Ok(Reply::text(format!(
                "You now hold **#{}**{}. Set it in iRacing too; `/link` your iRacing account so the roster check can verify it.",
                c.number,
                if c.class.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", c.class)
                }
            )))
        }
        Kind::Release => {
            let c = rpc!(
                release,
                number_request(number(call, "number"), String::new())
            );
            Ok(Reply::text(format!("You released **#{}**.", c.number)))
        }
        Kind::ForceRelease => {
            let reason = call.string("reason").unwrap_or_default().to_owned();
            let c = rpc!(
                force_release,
                number_request(number(call, "number"), reason)
            );
            Ok(Reply::text(format!(
                "**#{}** was taken back from <@{}>.",
                c.number, c.discord_user_id
            )))
        }
        Kind::Reassign => {
            let to = call.user("member").unwrap_or_default();
            let c = rpc!(
                reassign,
                pb::ReassignRequest {
                    league: Some(league.clone()),
                    member: Some(who.clone()),
                    class: class.clone(),
                    number: number(call, "number"),
                    to_discord_user_id: to,
                }
            );
            Ok(Reply::text(format!(
                "<@{}> now holds **#{}**.",
                c.discord_user_id, c.number
            )))
        }
        Kind::MyNumbers => {
            let reply = rpc!(
                my_numbers,
                pb::MemberRequest {
                    league: Some(league.clone()),
                    member: Some(who.clone()),
                }
            );
            if reply.claims.is_empty() {
                return Ok(Reply::text(
                    "You hold no car number; `/claim` one (`/available` lists free ones).",
                ));
            }
            let lines: Vec<String> = reply.claims.iter().map(claim_line).collect();
            Ok(Reply::text(format!("Your numbers:\n{}", lines.join("\n"))))
        }
        Kind::Roster => {
            let reply = roster(app, guild, &league.league, 0, PAGE).await?;
            Ok(roster_page(guild, &league.league, &reply, 0))
        }
        Kind::Available => {
            let reply = rpc!(
                available,
                pb::AvailableRequest {
                    league: Some(league.clone()),
                    class: class.clone(),
                    prefix: call.string("starts_with").unwrap_or_default().to_owned(),
                    limit: 100,
                }
            );
            if reply.numbers.is_empty() {
                return Ok(Reply::text("No free number matches."));
            }
            let list: Vec<String> = reply.numbers.iter().map(|n| format!("#{n}")).collect();
            Ok(Reply::text(format!(
                "Free numbers{}: {}",
                if reply.numbers.len() >= 100 {
                    " (the first 100)"
                } else {
                    ""
                },
                list.join(", ")
            )))
        }
        Kind::Check => {
            let n = number(call, "number");
            let reply = rpc!(check_number, number_request(n, String::new()));
            let mut out = match (&reply.holder, reply.in_range, reply.reserved) {
                (Some(c), _, _) => format!("**#{n}** is held by {}", claim_line(c)),
                (None, false, _) => format!("**#{n}** is outside this league's numbers."),
                (None, true, true) => format!("**#{n}** is reserved by the league."),
                (None, true, false) => format!("**#{n}** is free: `/claim number:{n}`."),
            };
            if !reply.history.is_empty() {
                out.push_str("\nBefore:");
                for h in &reply.history {
                    let from = h.claimed_at.as_ref().map_or(0, |t| t.seconds);
                    let until = h.released_at.as_ref().map_or(0, |t| t.seconds);
                    out.push_str(&format!(
                        "\n<@{}> <t:{from}:d>–<t:{until}:d> ({})",
                        h.discord_user_id,
                        h.reason.replace('_', " ")
                    ));
                }
            }
            Ok(Reply::text(out.chars().take(2000).collect::<String>()))
        }
        Kind::Export => {
            let export = rpc!(export_roster, league.clone());
            Ok(Reply {
                content: Some(format!("The roster: {} numbers.", export.count)),
                files: vec![("roster.csv".into(), export.csv.into_bytes())],
                ..Reply::default()
            })
        }
        Kind::Link => {
            let cust = u64::try_from(call.integer("iracing_id").unwrap_or_default()).unwrap_or(0);
            rpc!(
                link_iracing,
                pb::LinkIracingRequest {
                    league: Some(league.clone()),
                    member: Some(who.clone()),
                    iracing_cust_id: cust,
                }
            );
            Ok(Reply::text(format!(
                "Linked iRacing account {cust}. The next roster check verifies your numbers."
            )))
        }
        Kind::Trade => {
            let partner = call.user("member").unwrap_or_default();
            let t = rpc!(
                propose_trade,
                pb::ProposeTradeRequest {
                    league: Some(league.clone()),
                    member: Some(who.clone()),
                    class: class.clone(),
                    number: number(call, "mine"),
                    partner_discord_user_id: partner,
                    partner_class: call.string("their_class").unwrap_or(&class).to_owned(),
                    partner_number: number(call, "theirs"),
                }
            );
            let until = t.expires_at.as_ref().map_or(0, |e| e.seconds);
            Ok(Reply {
                content: Some(format!(
                    "<@{}>, <@{}> offers **#{}** for your **#{}**. Accept or decline by <t:{until}:f>.",
                    t.partner, t.proposer, t.proposer_number, t.partner_number
                )),
                components: trade_buttons(guild, &league.league, t.id),
                ..Reply::default()
            })
        }
        Kind::Sync => {
            let report = rpc!(
                sync,
                pb::MemberRequest {
                    league: Some(league.clone()),
                    member: Some(who.clone()),
                }
            );
            Ok(Reply::text(report_text(&report, true)))
        }
        Kind::SyncStatus => {
            let l = rpc!(get_league, league.clone());
            let report = rpc!(sync_status, league.clone());
            Ok(Reply::text(report_text(&report, l.sync_available)))
        }
        Kind::AuditLog => {
            let reply = rpc!(
                audit_log,
                pb::AuditLogRequest {
                    league: Some(league.clone()),
                    member: Some(who.clone()),
                    limit: u32::try_from(call.integer("count").unwrap_or(20)).unwrap_or(20),
                }
            );
            if reply.entries.is_empty() {
                return Ok(Reply::text("Nothing happened in this league yet."));
            }
            let lines: Vec<String> = reply
                .entries
                .iter()
                .map(|e| {
                    let at = e.at.as_ref().map_or(0, |t| t.seconds);
                    let actor = if e.actor_discord_id == 0 {
                        "the sync job".to_owned()
                    } else {
                        format!("<@{}>", e.actor_discord_id)
                    };
                    format!("<t:{at}:f> {actor}: {}", e.detail)
                })
                .collect();
            let mut text = String::new();
            for line in lines {
                if text.len() + line.len() + 1 > 1900 {
                    text.push_str("\n…");
                    break;
                }
                text.push_str(&line);
                text.push('\n');
            }
            Ok(Reply::text(text))
        }
        Kind::League => league_command(app, call, guild, who).await,
    }
}

async fn league_command(
    app: &App,
    call: &Call,
    guild: u64,
    who: pb::Member,
) -> Result<Reply, CommandError> {
    let peer = app.tournament.as_ref().ok_or_else(unavailable)?;
    let slug = call
        .string("league")
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let existing = peer
        .call(|| {
            let mut client = LeaguesClient::new(peer.channel());
            let request = pb::LeagueRef {
                guild_id: guild,
                league: slug.clone(),
            };
            async move { client.get_league(request).await }
        })
        .await;
    let existing = match existing {
        Ok(l) => Some(l.into_inner()),
        Err(status) if status.code() == tonic::Code::NotFound => None,
        Err(status) if status.code() == tonic::Code::InvalidArgument && slug.is_empty() => None,
        Err(status) => return Err(CommandError::from_status(&status)),
    };
    if call.path.get(1).map(String::as_str) == Some("config") {
        let Some(l) = existing else {
            return Err(CommandError::user(
                "No league is set up here yet: `/league setup`.",
            ));
        };
        return Ok(Reply::text(describe(&l)));
    }
    let mut l = existing.unwrap_or(pb::League {
        guild_id: guild,
        slug: if slug.is_empty() {
            "main".into()
        } else {
            slug.clone()
        },
        name: "League".into(),
        number_min: 1,
        number_max: 999,
        max_per_member: 1,
        sync_hours: 1,
        ..pb::League::default()
    });
    if let Some(name) = call.string("name") {
        l.name = name.trim().to_owned();
    }
    let int = |name: &str| call.integer(name).and_then(|v| i32::try_from(v).ok());
    if let Some(v) = int("min") {
        l.number_min = v;
    }
    if let Some(v) = int("max") {
        l.number_max = v;
    }
    if let Some(v) = int("per_member") {
        l.max_per_member = v;
    }
    if let Some(v) = int("sync_hours") {
        l.sync_hours = v;
    }
    if let Some(v) = call.integer("iracing_league") {
        l.iracing_league_id = u64::try_from(v).unwrap_or(0);
    }
    if let Some(classes) = call.string("classes") {
        l.classes = if classes.trim().eq_ignore_ascii_case("none") {
            Vec::new()
        } else {
            classes
                .split(',')
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect()
        };
    }
    if let Some(reserved) = call.string("reserved") {
        l.reserved = ids(reserved)?;
    }
    if let Some(role) = call.id("admin_role") {
        l.admin_role_id = role;
    }
    if let Some(channel) = call.id("announce_channel") {
        l.announce_channel_id = channel;
    }
    let saved = peer
        .call(|| {
            let mut client = LeaguesClient::new(peer.channel());
            let request = pb::SetupLeagueRequest {
                member: Some(who.clone()),
                league: Some(l.clone()),
            };
            async move { client.setup_league(request).await }
        })
        .await
        .map_err(|s| CommandError::from_status(&s))?
        .into_inner();
    Ok(Reply::text(format!("Saved.\n{}", describe(&saved))))
}

fn describe(l: &pb::League) -> String {
    let or_none = |v: u64, f: &dyn Fn(u64) -> String| if v == 0 { "none".to_owned() } else { f(v) };
    format!(
        "**{}** (`{}`): numbers {}–{}, {} per member; classes: {}; reserved: {}; admins: {}; announcements: {}; iRacing league: {}{}",
        l.name,
        l.slug,
        l.number_min,
        l.number_max,
        l.max_per_member,
        if l.classes.is_empty() {
            "none".into()
        } else {
            l.classes.join(", ")
        },
        if l.reserved.is_empty() {
            "none".into()
        } else {
            l.reserved
                .iter()
                .map(|n| format!("#{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        or_none(l.admin_role_id, &|r| format!("<@&{r}> and Manage Server")),
        or_none(l.announce_channel_id, &|c| format!("<#{c}>")),
        or_none(l.iracing_league_id, &|i| i.to_string()),
        if !l.sync_available {
            " (sync is not configured in this deployment)".to_owned()
        } else if l.sync_hours == 0 {
            ", checked on demand".to_owned()
        } else {
            format!(", checked every {} h", l.sync_hours)
        }
    )
}

/// The roster pages and trade buttons.
#[derive(Debug)]
pub struct LeagueButtons;

impl ComponentHandler for LeagueButtons {
    fn feature(&self) -> &'static str {
        FEATURE
    }

    fn handle<'a>(
        &'a self,
        app: &'a App,
        call: &'a ComponentCall,
    ) -> BoxFuture<'a, Result<Answer, ComponentError>> {
        Box::pin(async move {
            let [guild, slug, arg] = call.id.args.as_slice() else {
                return Err(ComponentError::Stale);
            };
            let guild: u64 = guild.parse().map_err(|_| ComponentError::Stale)?;
            let league = if slug == "-" {
                String::new()
            } else {
                slug.clone()
            };
            match call.id.action.as_str() {
                "roster" => {
                    let page: u32 = arg.parse().map_err(|_| ComponentError::Stale)?;
                    let reply = roster(app, guild, &league, page, PAGE).await?;
                    Ok(Answer::Update(roster_page(guild, &league, &reply, page)))
                }
                action @ ("accept" | "decline") => {
                    let id: i64 = arg.parse().map_err(|_| ComponentError::Stale)?;
                    let peer = app.tournament.as_ref().ok_or_else(unavailable)?;
                    let request = pb::AnswerTradeRequest {
                        league: Some(pb::LeagueRef {
                            guild_id: guild,
                            league,
                        }),
                        member: Some(member(
                            call.user_id,
                            &call.member_roles,
                            call.member_permissions,
                        )),
                        trade_id: id,
                        accept: action == "accept",
                    };
                    let t = peer
                        .call(|| {
                            let mut client = LeaguesClient::new(peer.channel());
                            let request = request.clone();
                            async move { client.answer_trade(request).await }
                        })
                        .await
                        .map_err(|s| CommandError::from_status(&s))?
                        .into_inner();
                    let text = match t.state.as_str() {
                        "done" => format!(
                            "Trade done: <@{}> now holds **#{}**, <@{}> holds **#{}**.",
                            t.partner, t.proposer_number, t.proposer, t.partner_number
                        ),
                        "declined" => format!("<@{}> declined the trade.", t.partner),
                        "cancelled" => format!("<@{}> withdrew the offer.", t.proposer),
                        other => format!("The trade is {other}."),
                    };
                    Ok(Answer::Update(Reply::text(text)))
                }
                _ => Err(ComponentError::Stale),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_lists_read_numbers_and_refuse_words() {
        assert_eq!(ids("1, #7,99").unwrap(), vec![1, 7, 99]);
        assert!(ids("none").unwrap().is_empty());
        assert!(ids("seven").is_err());
    }

    #[test]
    fn every_league_command_has_a_distinct_name() {
        let mut names: Vec<String> = ALL
            .iter()
            .map(|k| LeagueCommand(*k).definition().name)
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }
}

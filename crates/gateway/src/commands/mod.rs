//! The application commands: one module per command family, each a [`SlashCommand`]; the
//! [`Registry`] lists them, and both registration with Discord and the router's dispatch read
//! it, so a command cannot be registered without a handler or handled without being
//! registered. Names, options and descriptions follow upstream (spec `discord-and-web.md`
//! §1.1–1.5).

use std::collections::HashMap;

use futures::future::BoxFuture;
use twilight_model::application::command::{Command, CommandOptionChoice};
use twilight_model::id::Id;

use crate::DiscordSettings;
use crate::GatewaySettings;
use crate::context::{Ack, App, Call, CommandError};
use crate::discord::{Discord, Reply};

pub mod alttpr;
pub mod alttprutils;
pub mod asynctournament;
pub mod audit;
pub mod config;
pub mod dailygame;
pub mod datetime;
pub mod discordservers;
pub mod holyimage;
pub mod inquiry;
pub mod league;
pub mod options;
pub mod racerverification;
pub mod rankedchoice;
pub mod rtggadmin;
pub mod samus;
pub mod seed;
pub mod sgdaily;
pub mod tournament;
pub mod web;
pub mod welcome;
pub mod z2r;

/// Where a command is registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere the bot is (or in each `command_guilds` guild when configured).
    Global,
    /// Only in the configured `community_guilds`.
    Community,
}

/// One top-level application command and its subcommands.
pub trait SlashCommand: Send + Sync {
    /// The definition registered with Discord; its `name` routes interactions here.
    fn definition(&self) -> Command;

    /// Where it is registered.
    fn scope(&self) -> Scope {
        Scope::Global
    }

    /// How the call is acknowledged (deferred publicly unless said otherwise).
    fn ack(&self, _call: &Call) -> Ack {
        Ack::Public
    }

    /// Runs the call; a [`CommandError::User`] reaches only the caller.
    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>>;

    /// Choices for the focused `option` of an autocomplete (none by default).
    fn autocomplete<'a>(
        &'a self,
        _app: &'a App,
        _call: &'a Call,
        _option: &'a str,
        _typed: &'a str,
    ) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
        Box::pin(async { Vec::new() })
    }
}

/// Every command with its definition, in registration order, found by name.
pub struct Registry {
    commands: Vec<(Command, Box<dyn SlashCommand>)>,
    by_name: HashMap<String, usize>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.commands.iter().map(|(d, _)| &d.name))
            .finish()
    }
}

impl Registry {
    /// A registry of `commands`.
    ///
    /// Errors: two commands share a name.
    pub fn new(commands: Vec<Box<dyn SlashCommand>>) -> anyhow::Result<Self> {
        let mut registry = Self {
            commands: Vec::with_capacity(commands.len()),
            by_name: HashMap::new(),
        };
        for command in commands {
            let definition = command.definition();
            let name = definition.name.clone();
            if registry
                .by_name
                .insert(name.clone(), registry.commands.len())
                .is_some()
            {
                anyhow::bail!("two commands are named `{name}`");
            }
            registry.commands.push((definition, command));
        }
        Ok(registry)
    }

    /// Every command of the bot.
    ///
    /// Errors: the holy image base URL is not a URL.
    pub fn standard(settings: &GatewaySettings) -> anyhow::Result<Self> {
        let mut commands: Vec<Box<dyn SlashCommand>> = vec![
            Box::new(alttpr::Alttpr),
            Box::new(alttprutils::AlttprUtils),
            Box::new(z2r::Z2r),
            Box::new(datetime::Datetime),
            Box::new(config::Config),
            Box::new(holyimage::HolyImageCommand::new(&settings.holyimage_url)?),
            Box::new(samus::Samus::Sm),
            Box::new(samus::Samus::Smz3),
            Box::new(web::Ctjets),
            Box::new(web::Varia),
            Box::new(web::Dash),
            Box::new(dailygame::DailyGame),
            Box::new(welcome::Welcome),
            Box::new(welcome::Rom),
            Box::new(sgdaily::SgDaily),
            Box::new(tournament::Tournament),
            Box::new(rankedchoice::RankedChoice),
            Box::new(racerverification::RacerVerification),
            Box::new(discordservers::DiscordServers),
            Box::new(rtggadmin::RtggAdmin),
            Box::new(inquiry::Inquiry),
            Box::new(audit::AuditCommand),
            Box::new(asynctournament::AsyncCommand),
        ];
        commands.extend(
            league::ALL
                .iter()
                .map(|kind| Box::new(league::LeagueCommand(*kind)) as Box<dyn SlashCommand>),
        );
        Self::new(commands)
    }

    /// The command named `name`.
    pub fn get(&self, name: &str) -> Option<&dyn SlashCommand> {
        self.by_name
            .get(name)
            .map(|index| self.commands[*index].1.as_ref())
    }

    /// The definitions registered in `scope`.
    pub fn definitions(&self, scope: Scope) -> Vec<Command> {
        self.commands
            .iter()
            .filter(|(_, c)| c.scope() == scope)
            .map(|(d, _)| d.clone())
            .collect()
    }

    /// Registers the commands by bulk overwrite: globally, or in each `command_guilds` guild
    /// when configured; community commands go to each community guild.
    ///
    /// Errors: Discord refused a registration (a bad token or application id).
    pub async fn register(
        &self,
        discord: &Discord,
        settings: &DiscordSettings,
    ) -> anyhow::Result<()> {
        let client = discord.http.interaction(discord.application_id);
        let global = self.definitions(Scope::Global);
        if settings.command_guilds.is_empty() {
            client.set_global_commands(&global).await?;
        }
        let mut guilds: Vec<u64> = settings.command_guilds.clone();
        guilds.extend(&settings.community_guilds);
        guilds.sort_unstable();
        guilds.dedup();
        for guild in guilds {
            let Some(guild_id) = Id::new_checked(guild) else {
                continue;
            };
            let mut commands = Vec::new();
            if settings.command_guilds.contains(&guild) {
                commands.extend(global.iter().cloned());
            }
            if settings.community_guilds.contains(&guild) {
                commands.extend(self.definitions(Scope::Community));
            }
            client.set_guild_commands(guild_id, &commands).await?;
        }
        tracing::info!(
            global = settings.command_guilds.is_empty(),
            commands = global.len(),
            "application commands registered"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        use platform::Service;
        testkit::init();
        Registry::standard(&crate::GatewayService::default_settings().service).unwrap()
    }

    #[test]
    fn every_registered_command_has_its_handler() {
        let registry = registry();
        for scope in [Scope::Global, Scope::Community] {
            for definition in registry.definitions(scope) {
                assert!(
                    registry.get(&definition.name).is_some(),
                    "{}",
                    definition.name
                );
            }
        }
    }

    #[test]
    fn the_global_and_community_sets_are_upstreams_and_ours() {
        let registry = registry();
        let names = |scope| {
            registry
                .definitions(scope)
                .into_iter()
                .map(|d| d.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(Scope::Global),
            [
                "alttpr",
                "alttprutils",
                "z2r",
                "datetime",
                "config",
                "holyimage",
                "sm",
                "smz3",
                "ctjets",
                "smvaria",
                "smdash",
                "dailygame",
                "tournament",
                "rankedchoice",
                "racerverification",
                "discordservers",
                "rtggadmin",
                "inquiry",
                "audit",
                "async",
                "claim",
                "release",
                "mynumbers",
                "roster",
                "available",
                "check",
                "export",
                "link",
                "trade",
                "sync",
                "syncstatus",
                "forcerelease",
                "reassign",
                "auditlog",
                "league"
            ]
        );
        assert_eq!(names(Scope::Community), ["welcome", "rom", "sgdaily"]);
    }

    #[test]
    fn two_commands_with_one_name_are_refused() {
        let error = Registry::new(vec![Box::new(welcome::Rom), Box::new(welcome::Rom)])
            .unwrap_err()
            .to_string();
        assert!(error.contains("`rom`"), "{error}");
    }
}

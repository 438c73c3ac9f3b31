//! The tournament binary's own commands: `tournament dry-run <slug> --from <time> --hours N`
//! rehearses a race day (see [`crate::dryrun`]) against the configured database, peers and
//! SpeedGaming, and prints the timeline and its problems. Nothing is sent anywhere.

use chrono::{DateTime, Utc};
use platform::config::Settings;

use crate::TournamentSettings;

/// `tournament …`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Rehearse a race day: what would happen when, and every problem found.
    DryRun {
        /// The tournament's slug.
        slug: String,
        /// Start of the window (RFC 3339, e.g. 2026-12-05T14:00:00Z); default: now.
        #[arg(long)]
        from: Option<DateTime<Utc>>,
        /// Length of the window in hours.
        #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=336))]
        hours: u32,
    },
}

/// Runs `command`; the exit status is failure when the rehearsal found problems, so a script
/// can stop on them.
///
/// Errors: the database, a peer or SpeedGaming is unreachable, or the slug is unknown.
pub async fn run(command: Command, settings: Settings<TournamentSettings>) -> anyhow::Result<()> {
    let Command::DryRun { slug, from, hours } = command;
    let db = platform::db::connect(&settings.common.database).await?;
    platform::db::migrate::<tournament_migration::Migrator>(&db).await?;
    let peers = platform::grpc::Peers::from_settings(&settings.common.peers)?;
    // The opener only reads here (player lookups); its outbox is never written.
    let opener = crate::opener::Opener::new(
        db.clone(),
        peers.clone(),
        platform::events::Outbox::new("tournament"),
    )
    .with_website(&settings.service.website_url);
    let sg = crate::speedgaming::SpeedGaming::new(&settings.service.speedgaming_url)?;
    let tournament = crate::registry::get(&db, &slug).await?;
    let rehearsal = crate::dryrun::rehearse(
        &db,
        &peers,
        &opener,
        Some(&sg),
        &tournament,
        from.unwrap_or_else(Utc::now),
        hours,
    )
    .await?;
    print!("{}", rehearsal.render(&tournament.row.time_zone));
    if rehearsal.problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("the dry run found {} problem(s)", rehearsal.problems.len())
    }
}

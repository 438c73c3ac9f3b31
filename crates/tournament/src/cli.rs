//! The tournament binary's own commands: `tournament dry-run <slug> --from <time> --hours N`
//! rehearses a race day (see [`crate::dryrun`]) against the configured database, peers and
//! SpeedGaming, and prints the timeline and its problems. Nothing is sent anywhere — unless
//! `--live-test-category <category> [--compress N]` asks to run the day for real in a test
//! category (see [`crate::livetest`]).

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
        /// Then run the day for real in this racetime.gg category (a copy of the tournament,
        /// `<slug>-live-test`, that the running service opens rooms for).
        #[arg(long)]
        live_test_category: Option<String>,
        /// How many times faster the live test runs (12: a 12-hour day in an hour).
        #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=1440))]
        compress: u32,
    },
}

/// Runs `command`; the exit status is failure when the rehearsal found problems, so a script
/// can stop on them.
///
/// Errors: the database, a peer or SpeedGaming is unreachable, or the slug is unknown.
pub async fn run(command: Command, settings: Settings<TournamentSettings>) -> anyhow::Result<()> {
    let Command::DryRun {
        slug,
        from,
        hours,
        live_test_category,
        compress,
    } = command;
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
    if let Some(category) = live_test_category {
        let staged = crate::livetest::stage(
            &db,
            &tournament,
            &category,
            from.unwrap_or_else(Utc::now),
            hours,
            compress,
            Utc::now(),
        )
        .await?;
        print!("{}", staged.render(&tournament.row.time_zone, &category));
        return Ok(());
    }
    if rehearsal.problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("the dry run found {} problem(s)", rehearsal.problems.len())
    }
}

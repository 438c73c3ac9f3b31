//! The `seedgen` command line: the service's shared subcommands plus `roll`, which generates
//! a seed (or, with `--dry-run`, prints the request it would send) with no other service,
//! database or message bus.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use platform::Service;
use serde_json::json;

use crate::generate::{Generated, Job, Request};
use crate::{SeedgenService, build_generator};

/// `seedgen roll` arguments.
#[derive(Debug, Parser)]
#[command(
    name = "seedgen roll",
    about = "Roll a seed from a preset without any other service"
)]
pub struct RollArgs {
    /// alttpr, alttprmystery, sm, smz3, ctjets, z1r, z2r, smb3r, ff1r, aosr, smbingo, smdash,
    /// smvaria, ootr.
    pub randomizer: String,
    /// Preset or weightset name (for z1r/z2r a preset; smb3r/aosr flags; ff1r a URL).
    #[arg(default_value = "")]
    pub preset: String,
    /// Race ROM (tournament flags, no public spoiler).
    #[arg(long)]
    pub race: bool,
    /// Spoiler race: `spoiler` (full log) or `progression`; uploads the log.
    #[arg(long, value_parser = ["spoiler", "progression"])]
    pub spoilers: Option<String>,
    /// Hints on.
    #[arg(long)]
    pub hints: bool,
    /// Forbid quickswap (allowed by default, as in Discord; the preset's own setting wins).
    #[arg(long)]
    pub no_quickswap: bool,
    /// live, beeta, tournament (ALTTPR) or stable, volatile, unstable (doors).
    #[arg(long, value_parser = crate::generate::BRANCHES)]
    pub branch: Option<String>,
    /// Replay: the RNG seed of a previous roll.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Show a mystery roll's settings.
    #[arg(long)]
    pub unmasked: bool,
    /// Read the preset from this YAML file instead of the presets directory.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Print the request that would be sent (or the rolled mystery settings) and exit.
    #[arg(long)]
    pub dry_run: bool,
    /// Configuration file (also SEEDGEN_CONFIG).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let _program = args.next();
    if args.next().is_some_and(|a| a == "roll") {
        let argv = std::iter::once("seedgen roll".into()).chain(std::env::args_os().skip(2));
        let parsed = match RollArgs::try_parse_from(argv) {
            Ok(parsed) => parsed,
            Err(error) => error.exit(),
        };
        return roll_main(parsed);
    }
    platform::cli::main::<SeedgenService>()
}

fn roll_main(args: RollArgs) -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = args
        .config
        .clone()
        .or_else(|| std::env::var_os("SEEDGEN_CONFIG").map(PathBuf::from));
    let settings = match platform::config::load(
        &SeedgenService::default_settings(),
        config.as_deref(),
        SeedgenService::ENV_PREFIX,
    ) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("seedgen: invalid configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("seedgen: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        match roll(&args, &settings.service).await {
            Ok(output) => print_output(&output),
            Err(message) => {
                eprintln!("seedgen: {message}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Prints `output` and a newline. A reader that went away (`| head`) is not an error: like
/// other command-line tools we stop quietly instead of panicking in `println!`.
fn print_output(output: &str) -> ExitCode {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{output}").and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("seedgen: cannot write the output: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `seedgen roll` and returns what it prints.
pub async fn roll(args: &RollArgs, settings: &crate::SeedgenSettings) -> Result<String, String> {
    let generator = build_generator(settings, None).map_err(|e| format!("{e:#}"))?;
    let preset_yaml = match &args.file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            // An empty file would silently fall back to the named preset.
            if text.trim().is_empty() {
                return Err(format!(
                    "{} is empty; give a preset YAML file",
                    path.display()
                ));
            }
            text
        }
        None => String::new(),
    };
    let request = Request {
        randomizer: args.randomizer.clone(),
        preset: args.preset.clone(),
        preset_yaml,
        race: args.race,
        spoiler: args.spoilers.is_some(),
        spoiler_type: args.spoilers.clone().unwrap_or_default(),
        hints: args.hints,
        branch: args.branch.clone(),
        allow_quickswap: !args.no_quickswap,
        requested_by: format!("cli:{}", std::env::var("USER").unwrap_or_default()),
        surface: "cli".into(),
        rng_seed: args.seed,
        unmasked: args.unmasked,
        players: Vec::new(),
        endpoint_prefix: String::new(),
        triforce_text_pool: None,
        triforce_text_uniform: false,
    };
    let planned = generator.plan(&request).await.map_err(|e| e.to_string())?;
    if args.dry_run {
        let mut out = generator.describe(&planned.job);
        if planned.kind == "mystery" {
            out["rng_seed"] = json!(planned.rng_seed);
            out["custom_instructions"] = json!(planned.custom_instructions);
        }
        return serde_json::to_string_pretty(&out).map_err(|e| e.to_string());
    }
    let local = matches!(planned.job, Job::Local(_));
    let generated = generator
        .execute(planned)
        .await
        .map_err(|e| e.to_string())?;
    Ok(render(&generated, local))
}

/// The human summary of a seed.
pub fn render(generated: &Generated, local: bool) -> String {
    let seed = &generated.seed;
    let mut lines = vec![format!(
        "{} {} ({})",
        generated.randomizer, generated.option, generated.kind
    )];
    if local {
        lines.push(format!("Seed: {}", seed.hash));
        if let Some(notes) = &seed.notes {
            lines.push(format!("Flags: {notes}"));
        }
    } else {
        lines.push(format!("Hash: {}", seed.hash));
    }
    if !seed.url.is_empty() {
        lines.push(format!("Permalink: {}", seed.url));
    }
    if !seed.code.is_empty() {
        lines.push(format!("Code: {}", seed.code.join("/")));
    }
    if let Some(url) = &seed.spoiler_url {
        lines.push(format!("Spoiler: {url}"));
    }
    if let Some(ci) = &generated.custom_instructions {
        lines.push(format!("Instructions: {ci}"));
    }
    lines.push(format!("RNG seed: {}", generated.rng_seed));
    lines.join("\n")
}

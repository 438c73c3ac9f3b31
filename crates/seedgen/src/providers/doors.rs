//! The ALTTPR Door Randomizer pipeline (spec §2.3): run `DungeonRandomizer.py` on a settings
//! file, make a BPS patch with flips, upload the patch and the gzipped spoiler, and link the
//! patch through the web patcher. Paths are configuration; tests use stand-in scripts.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tokio::process::Command;

use super::{ProviderError, ProviderErrorKind, Seed, SeedProvider};
use crate::constants::door_code_name;
use crate::storage::ObjectStore;

const NAME: &str = "door randomizer";

/// Door Randomizer installation (`providers.doors`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DoorsSettings {
    /// Interpreter that runs the generator.
    pub python: String,
    /// Checkout used for the `stable` branch.
    pub stable_dir: PathBuf,
    /// Checkout used for `volatile` and `unstable`.
    pub unstable_dir: PathBuf,
    /// The Japanese 1.0 ROM (`ALTTP_ROM`).
    pub rom: PathBuf,
    /// EnemizerCLI (not passed for `volatile`); empty to leave it out.
    pub enemizer: Option<PathBuf>,
    /// The flips file the randomizer reads.
    pub flips: PathBuf,
    /// Seconds one generator run may take.
    pub timeout_secs: u64,
    /// Generator runs before giving up (upstream: 4).
    pub attempts: u32,
    /// The web patcher; the patch URL is appended.
    pub patcher_url: String,
}

impl Default for DoorsSettings {
    fn default() -> Self {
        Self {
            python: "python3".into(),
            stable_dir: "utils/ALttPDoorRandomizer".into(),
            unstable_dir: "utils/ALttPDoorRandomizerUnstable".into(),
            rom: "/opt/data/alttp_jp10.sfc".into(),
            enemizer: None,
            flips: "utils/linux/flips".into(),
            timeout_secs: 120,
            attempts: 4,
            patcher_url: "https://alttprpatch.synack.live/patcher.html?patch=".into(),
        }
    }
}

/// One door seed.
#[derive(Clone, Debug, PartialEq)]
pub struct DoorsRequest {
    /// Door Randomizer settings (a preset's `settings` or a mystery roll).
    pub settings: Json,
    /// Public spoiler log.
    pub spoilers: bool,
    /// A race ROM (the generator's `race` setting: no readable spoiler in the ROM). Any race,
    /// spoiler races included, gets one; upstream tied it to `spoilers == "on"`, so a spoiler
    /// race (spoilers "generate") got a race ROM but a private log, and our first port the
    /// reverse. The two are independent: a spoiler race is a race ROM with a public log.
    pub race: bool,
    /// `stable`, `volatile` or `unstable`.
    pub branch: String,
    /// The 12-character seed id (drawn by the caller so a replay names the same files).
    pub id: String,
}

/// Runs the Door Randomizer.
#[derive(Debug, Clone)]
pub struct DoorsClient {
    settings: DoorsSettings,
    store: Option<Arc<ObjectStore>>,
}

static HASH_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"Hash:*\s(.*,.*,.*,.*,.*)").unwrap_or_else(|e| panic!("{e}")));
static VERSION_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"ALttP Dungeon Randomizer Version (.*)  -  Seed: ([0-9]*)")
        .unwrap_or_else(|e| panic!("{e}"))
});

/// The file-select code and version of a Door Randomizer spoiler log.
pub fn read_spoiler(text: &str) -> (Vec<String>, Option<String>) {
    let code = HASH_LINE
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| {
            m.as_str()
                .trim()
                .split(", ")
                .take(5)
                .map(door_code_name)
                .collect()
        })
        .unwrap_or_default();
    let version = VERSION_LINE
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string());
    (code, version)
}

fn fail(kind: ProviderErrorKind, message: impl Into<String>) -> ProviderError {
    ProviderError::new(NAME, "generate", kind, message)
}

fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.trim().lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// Removes the temporary directory however the generation ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl DoorsClient {
    /// A runner storing patches in `store`.
    pub fn new(settings: DoorsSettings, store: Option<Arc<ObjectStore>>) -> Self {
        Self { settings, store }
    }

    fn checkout(&self, branch: &str) -> &Path {
        if matches!(branch, "volatile" | "unstable") {
            &self.settings.unstable_dir
        } else {
            &self.settings.stable_dir
        }
    }

    /// The settings file content for a request (what `--dry-run` shows).
    pub fn settings_file(&self, request: &DoorsRequest, output: &Path) -> Json {
        let mut settings = request.settings.clone();
        if let Json::Object(map) = &mut settings {
            map.insert(
                "outputpath".into(),
                Json::from(output.display().to_string()),
            );
            map.insert("outputname".into(), Json::from(request.id.clone()));
            map.insert("create_rom".into(), Json::Bool(true));
            map.insert("create_spoiler".into(), Json::Bool(true));
            map.insert("calc_playthrough".into(), Json::Bool(false));
            map.insert(
                "rom".into(),
                Json::from(self.settings.rom.display().to_string()),
            );
            if request.branch != "volatile"
                && let Some(enemizer) = &self.settings.enemizer
            {
                map.insert(
                    "enemizercli".into(),
                    Json::from(enemizer.display().to_string()),
                );
            }
            map.insert("count".into(), Json::from(1));
            map.insert("multi".into(), Json::from(1));
            map.insert("names".into(), Json::from(""));
            map.insert("race".into(), Json::Bool(request.race));
        }
        settings
    }

    async fn run_generator(&self, cwd: &Path, settings_path: &Path) -> Result<(), ProviderError> {
        let mut command = Command::new(&self.settings.python);
        command
            .arg("DungeonRandomizer.py")
            .arg("--settingsfile")
            .arg(settings_path)
            .current_dir(cwd)
            .kill_on_drop(true);
        let timeout = Duration::from_secs(self.settings.timeout_secs);
        match tokio::time::timeout(timeout, command.output()).await {
            Err(_) => Err(fail(
                ProviderErrorKind::Timeout,
                format!(
                    "DungeonRandomizer.py timed out after {} s",
                    self.settings.timeout_secs
                ),
            )),
            Ok(Err(error)) => Err(fail(
                ProviderErrorKind::Unavailable,
                format!("cannot run {}: {error}", self.settings.python),
            )),
            Ok(Ok(output)) if !output.status.success() => Err(fail(
                ProviderErrorKind::Rejected,
                format!("Exception while generating game: {}", tail(&output.stderr)),
            )),
            Ok(Ok(_)) => Ok(()),
        }
    }
}

impl SeedProvider for DoorsClient {
    type Request = DoorsRequest;

    fn name(&self) -> &'static str {
        NAME
    }

    async fn generate(&self, request: DoorsRequest) -> Result<Seed, ProviderError> {
        let store = self.store.clone().ok_or_else(|| {
            fail(
                ProviderErrorKind::Unavailable,
                "door seeds need patch storage (set SEEDGEN_STORAGE__BUCKET)",
            )
        })?;
        let cwd = self.checkout(&request.branch).to_path_buf();
        if !cwd.join("DungeonRandomizer.py").is_file() {
            return Err(fail(
                ProviderErrorKind::Unavailable,
                format!("the Door Randomizer is not installed at {}", cwd.display()),
            ));
        }
        let dir =
            TempDir(std::env::temp_dir().join(format!("seedgen-doors-{}", uuid::Uuid::now_v7())));
        std::fs::create_dir_all(&dir.0)
            .map_err(|e| fail(ProviderErrorKind::Unavailable, e.to_string()))?;
        let settings_path = dir.0.join("settings.json");
        let settings = self.settings_file(&request, &dir.0);
        std::fs::write(&settings_path, settings.to_string())
            .map_err(|e| fail(ProviderErrorKind::Unavailable, e.to_string()))?;

        let mut attempts = 0;
        let mut last = None;
        while attempts < self.settings.attempts.max(1) {
            attempts += 1;
            match self.run_generator(&cwd, &settings_path).await {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(error) => {
                    tracing::warn!(attempt = attempts, %error, "door randomizer run failed");
                    last = Some(error);
                }
            }
        }
        if let Some(mut error) = last {
            error.attempts = attempts;
            return Err(error);
        }

        let id = &request.id;
        let rom = dir.0.join(format!("DR_{id}.sfc"));
        let spoiler_path = dir.0.join(format!("DR_{id}_Spoiler.txt"));
        let patch_path = dir.0.join(format!("DR_{id}.bps"));
        let flips = Command::new(&self.settings.flips)
            .arg("--create")
            .arg("--bps-delta")
            .arg(&self.settings.rom)
            .arg(&rom)
            .arg(&patch_path)
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| {
                fail(
                    ProviderErrorKind::Unavailable,
                    format!("cannot run flips: {e}"),
                )
            })?;
        if !flips.status.success() {
            return Err(fail(
                ProviderErrorKind::Rejected,
                format!("Exception while creating patch: {}", tail(&flips.stderr)),
            ));
        }
        let spoiler = std::fs::read(&spoiler_path).map_err(|e| {
            fail(
                ProviderErrorKind::ResponseFormat,
                format!("no spoiler log: {e}"),
            )
        })?;
        let patch = std::fs::read(&patch_path)
            .map_err(|e| fail(ProviderErrorKind::ResponseFormat, format!("no patch: {e}")))?;
        let (code, version) = read_spoiler(&String::from_utf8_lossy(&spoiler));
        let storage =
            |e: crate::storage::StorageError| fail(ProviderErrorKind::Unavailable, e.to_string());
        let patch_url = store
            .put(
                &format!("patch/DR_{id}.bps"),
                patch,
                false,
                true,
                "application/octet-stream",
            )
            .await
            .map_err(storage)?;
        let spoiler_url = store
            .put(
                &format!("spoiler/DR_{id}_Spoiler.txt"),
                spoiler,
                true,
                request.spoilers,
                "text/plain",
            )
            .await
            .map_err(storage)?;
        Ok(Seed {
            url: format!("{}{patch_url}", self.settings.patcher_url),
            hash: id.clone(),
            code,
            spoiler_url: request.spoilers.then_some(spoiler_url),
            version,
            raw: settings,
            attempts,
            ..Seed::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoiler_lines_give_code_and_version() {
        let text = "ALttP Dungeon Randomizer Version 1.2.0.1-u  -  Seed: 12345\n\nHash: Bomb, Pearl, Bug Net, Bow, Key\n";
        let (code, version) = read_spoiler(text);
        assert_eq!(code, ["Bombs", "Moon Pearl", "Bugnet", "Bow", "Big Key"]);
        assert_eq!(version.as_deref(), Some("1.2.0.1-u"));
    }
}

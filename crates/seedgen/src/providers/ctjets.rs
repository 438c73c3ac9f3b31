//! Chrono Trigger: Jets of Time at ctjot.com (spec §2.8): read the CSRF token from the
//! options page, post the settings with the ROM as multipart, and read the share link from
//! the result page.

use std::path::PathBuf;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{HttpPolicy, HttpProvider, ProviderError, ProviderErrorKind, Seed, SeedProvider};
use crate::preset::CtjetsPreset;

const NAME: &str = "ctjot.com";

/// Where Jets of Time seeds are made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CtjetsSettings {
    /// ctjot.com's base URL.
    pub base_url: String,
    /// The Chrono Trigger ROM uploaded with every request (`CT_ROM`); without it CT:JoT seeds
    /// are refused with a message.
    pub rom: Option<PathBuf>,
}

impl Default for CtjetsSettings {
    fn default() -> Self {
        Self {
            base_url: "https://ctjot.com".into(),
            rom: None,
        }
    }
}

/// The ctjot.com client.
#[derive(Debug)]
pub struct CtjetsClient {
    http: HttpProvider,
    settings: CtjetsSettings,
}

static CSRF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"name=["']csrfmiddlewaretoken["'][^>]*value=["']([^"']+)["']|value=["']([^"']+)["'][^>]*name=["']csrfmiddlewaretoken["']"#)
        .unwrap_or_else(|e| panic!("csrf regex: {e}"))
});
static SHARE_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"<a[^>]*href=["']([^"']+)["'][^>]*>\s*Seed share link\s*</a>"#)
        .unwrap_or_else(|e| panic!("share regex: {e}"))
});

impl CtjetsClient {
    /// A client. Errors: the HTTP client cannot be built.
    pub fn new(settings: CtjetsSettings, policy: HttpPolicy) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: HttpProvider::new(NAME, policy)?,
            settings,
        })
    }
}

impl SeedProvider for CtjetsClient {
    type Request = CtjetsPreset;

    fn name(&self) -> &'static str {
        NAME
    }

    async fn generate(&self, preset: CtjetsPreset) -> Result<Seed, ProviderError> {
        let Some(rom_path) = &self.settings.rom else {
            return Err(ProviderError::new(
                NAME,
                "generate",
                ProviderErrorKind::Unavailable,
                "no Chrono Trigger ROM is configured (SEEDGEN_PROVIDERS__CTJETS__ROM)",
            ));
        };
        let rom = tokio::fs::read(rom_path).await.map_err(|error| {
            ProviderError::new(
                NAME,
                "generate",
                ProviderErrorKind::Unavailable,
                format!("cannot read the ROM {}: {error}", rom_path.display()),
            )
        })?;
        let base = self.settings.base_url.trim_end_matches('/').to_string();
        let version = preset.version.replace('.', "_");
        let options_url = format!("{base}/{version}/options/");
        let page = self.http.send("options", |c| c.get(&options_url)).await?;
        let html = page.text();
        let token = CSRF
            .captures(&html)
            .and_then(|c| c.get(1).or_else(|| c.get(2)))
            .map(|m| m.as_str().to_string())
            .ok_or_else(|| {
                ProviderError::format(
                    NAME,
                    "options",
                    "no csrfmiddlewaretoken on the options page",
                )
            })?;
        let cookies: Vec<String> = page
            .headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next().map(str::to_string))
            .collect();
        let generate_url = format!("{base}/{version}/generate-rom/");
        let reply = self
            .http
            .send("generate", |c| {
                let mut form = reqwest::multipart::Form::new()
                    .text("csrfmiddlewaretoken", token.clone())
                    .text("seed", "");
                for (k, v) in &preset.settings {
                    form = form.text(k.clone(), v.clone());
                }
                form = form.part(
                    "rom_file",
                    reqwest::multipart::Part::bytes(rom.clone()).file_name("ct.sfc"),
                );
                c.post(&generate_url)
                    .header(reqwest::header::REFERER, &options_url)
                    .header(reqwest::header::COOKIE, cookies.join("; "))
                    .multipart(form)
            })
            .await?;
        let html = reply.text();
        let href = SHARE_LINK
            .captures(&html)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
            .ok_or_else(|| {
                ProviderError::format(NAME, "generate", "no `Seed share link` on the result page")
            })?;
        let url = if href.starts_with("http") {
            href
        } else {
            format!("{base}{href}")
        };
        Ok(Seed {
            url,
            version: Some(preset.version.clone()),
            ..Seed::default()
        })
    }
}

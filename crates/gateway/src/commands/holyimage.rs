//! `/holyimage slug [game]` (spec §1.5): the community's "holy image" catalog, a JSON object of
//! games, each a list of images `{slug, aliases?, idx, title, desc?, url?, mode?, credit?}`,
//! fetched from the configured base URL (`holyimages.json` under it) and cached five minutes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;
use twilight_model::application::command::{CommandOptionChoice, CommandOptionChoiceValue};
use twilight_model::channel::message::embed::{EmbedFooter, EmbedThumbnail};

use crate::discord::Reply;
use crate::guild_config::{GuildConfig, Key};
use futures::future::BoxFuture;
use twilight_model::application::command::{Command, CommandType};
use twilight_util::builder::command::{CommandBuilder, StringBuilder};

use super::SlashCommand;
use crate::context::{App, Call, CommandError};

const SLUG: &str = "slug";
const GAME: &str = "game";

/// `/holyimage`, with its catalog client.
#[derive(Debug)]
pub struct HolyImageCommand {
    images: HolyImages,
}

impl HolyImageCommand {
    /// `base` is the catalog's folder.
    ///
    /// Errors: `base` is not a URL, or the HTTP client cannot be built.
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            images: HolyImages::new(base, http)?,
        })
    }
}

impl SlashCommand for HolyImageCommand {
    fn definition(&self) -> Command {
        definition()
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(self.images.command(call, &app.config))
    }

    fn autocomplete<'a>(
        &'a self,
        app: &'a App,
        call: &'a Call,
        option: &'a str,
        typed: &'a str,
    ) -> BoxFuture<'a, Vec<CommandOptionChoice>> {
        Box::pin(self.images.choices(call, &app.config, option, typed))
    }
}

fn definition() -> Command {
    CommandBuilder::new(
        "holyimage",
        "Retrieves a holy image from http://alttp.mymm1.com/holyimage/",
        CommandType::ChatInput,
    )
    .option(
        StringBuilder::new(SLUG, "The holy image (slug, alias or number).")
            .required(true)
            .autocomplete(true),
    )
    .option(
        StringBuilder::new(GAME, "The game (default: this server's, or z3r).").autocomplete(true),
    )
    .build()
}

const TTL: Duration = Duration::from_secs(300);
const DEFAULT_GAME: &str = "z3r";

/// One image of the catalog.
#[derive(Clone, Debug, Deserialize)]
pub struct HolyImage {
    /// The image's slug.
    pub slug: String,
    /// Other names it answers to.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Its number (text or integer).
    #[serde(default)]
    pub idx: Option<serde_json::Value>,
    /// The embed title.
    #[serde(default)]
    pub title: Option<String>,
    /// Its description (HTML).
    #[serde(default)]
    pub desc: Option<String>,
    /// The image or link, relative to the catalog.
    #[serde(default)]
    pub url: Option<String>,
    /// `redirect`: the URL is a link, not an image.
    #[serde(default)]
    pub mode: Option<String>,
    /// Who made it.
    #[serde(default)]
    pub credit: Option<String>,
}

type Catalog = std::collections::BTreeMap<String, Vec<HolyImage>>;

/// The catalog client with its cache.
#[derive(Debug)]
pub struct HolyImages {
    base: url::Url,
    http: reqwest::Client,
    cached: Mutex<Option<(Instant, Arc<Catalog>)>>,
}

impl HolyImages {
    /// `base` is the catalog's folder, e.g. `http://alttp.mymm1.com/holyimage/`.
    ///
    /// Errors: `base` is not a URL.
    pub fn new(base: &str, http: reqwest::Client) -> anyhow::Result<Self> {
        let mut base = url::Url::parse(base)?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Self {
            base,
            http,
            cached: Mutex::new(None),
        })
    }

    async fn catalog(&self) -> Result<Arc<Catalog>, CommandError> {
        let mut cached = self.cached.lock().await;
        if let Some((at, catalog)) = cached.as_ref()
            && at.elapsed() < TTL
        {
            return Ok(catalog.clone());
        }
        let url = self
            .base
            .join("holyimages.json")
            .map_err(|e| CommandError::Internal(e.into()))?;
        let fetched: Catalog = self
            .http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| {
                CommandError::user(format!(
                    "The holy image catalog is not reachable right now ({e}). Please try again later."
                ))
            })?
            .json()
            .await
            .map_err(|e| {
                CommandError::user(format!(
                    "The holy image catalog could not be read ({e}). Please try again later."
                ))
            })?;
        let catalog = Arc::new(fetched);
        *cached = Some((Instant::now(), catalog.clone()));
        Ok(catalog)
    }

    fn not_found(&self) -> CommandError {
        CommandError::user(format!(
            "That holy image does not exist.  Check out <{}>",
            self.base
        ))
    }

    /// The game to look in: the option, else the guild's `HolyImageDefaultGame`, else z3r.
    async fn game(&self, call: &Call, config: &GuildConfig) -> String {
        if let Some(game) = call.string(GAME).filter(|g| !g.trim().is_empty()) {
            return game.trim().to_owned();
        }
        if let Some(guild) = call.guild_id
            && let Ok(settings) = config.guild(guild).await
            && let Some(game) = settings.get(Key::HolyImageDefaultGame)
        {
            return game.to_owned();
        }
        DEFAULT_GAME.to_owned()
    }

    /// Runs `/holyimage`.
    pub async fn command(&self, call: &Call, config: &GuildConfig) -> Result<Reply, CommandError> {
        let slug = call
            .string("slug")
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                CommandError::user(format!(
                    "You must specify a holy image.  Check out <{}>",
                    self.base
                ))
            })?;
        let game = self.game(call, config).await;
        let catalog = self.catalog().await?;
        let image = catalog
            .get(&game)
            .and_then(|images| {
                images.iter().find(|i| {
                    i.slug == slug
                        || i.aliases.iter().any(|a| a.to_lowercase() == slug)
                        || i.idx.as_ref().is_some_and(|idx| match idx {
                            serde_json::Value::String(s) => *s == slug,
                            serde_json::Value::Number(n) => slug.parse::<u64>().ok() == n.as_u64(),
                            _ => false,
                        })
                })
            })
            .ok_or_else(|| self.not_found())?;
        let source = self
            .base
            .join(&format!("{game}-{}.html", image.slug))
            .map_err(|e| CommandError::Internal(e.into()))?;
        let mut embed = crate::embeds::blank(
            image.title.clone(),
            image.desc.as_deref().map(html_to_text),
            Some(0xFFAF00),
        );
        if let Some(url) = &image.url
            && let Ok(url) = self.base.join(url)
        {
            if image.mode.as_deref() == Some("redirect") {
                embed = crate::embeds::with_field(embed, "Link", url.to_string());
            } else {
                embed.thumbnail = Some(EmbedThumbnail {
                    height: None,
                    proxy_url: None,
                    url: url.to_string(),
                    width: None,
                });
            }
        }
        embed = crate::embeds::with_field(embed, "Source", source.to_string());
        if let Some(credit) = &image.credit {
            embed.footer = Some(EmbedFooter {
                icon_url: None,
                proxy_icon_url: None,
                text: format!("Created by {credit}"),
            });
        }
        Ok(Reply::embed(embed))
    }

    /// Autocomplete for `game` (catalog keys) and `slug` (that game's slugs), by prefix.
    pub async fn choices(
        &self,
        call: &Call,
        config: &GuildConfig,
        option: &str,
        typed: &str,
    ) -> Vec<CommandOptionChoice> {
        let Ok(catalog) = self.catalog().await else {
            return Vec::new();
        };
        let typed = typed.trim().to_lowercase();
        let mut names: Vec<String> = match option {
            GAME => catalog.keys().cloned().collect(),
            SLUG => {
                let game = self.game(call, config).await;
                catalog
                    .get(&game)
                    .map(|images| images.iter().map(|i| i.slug.clone()).collect())
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        names.retain(|n| n.to_lowercase().starts_with(&typed));
        names.sort();
        names
            .into_iter()
            .take(25)
            .map(|n| CommandOptionChoice {
                name: n.clone(),
                name_localizations: None,
                value: CommandOptionChoiceValue::String(n),
            })
            .collect()
    }
}

/// The catalog's descriptions are HTML: tags become nothing (`<br>` and `</p>` a line
/// break), the common entities their characters.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = &rest[start..];
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        if tag.starts_with("br") || tag == "/p" {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[test]
    fn html_descriptions_become_text() {
        assert_eq!(
            html_to_text("Get the <b>Bow</b> first.<br>Then &amp; only then."),
            "Get the Bow first.\nThen & only then."
        );
        assert_eq!(html_to_text("no tags"), "no tags");
        assert_eq!(html_to_text("broken <b"), "broken <b");
    }
}

//! SM VARIA randomizer (spec §2.6): fetch the default and named settings presets and the
//! skills preset, merge, then `POST /randomizerWebService` form-encoded.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::{HttpPolicy, HttpProvider, ProviderError, ProviderErrorKind, Seed, SeedProvider};

const NAME: &str = "varia";

/// Where VARIA seeds are made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VariaSettings {
    /// varia.run's base URL.
    pub base_url: String,
}

impl Default for VariaSettings {
    fn default() -> Self {
        Self {
            base_url: "https://randommetroidsolver.pythonanywhere.com".into(),
        }
    }
}

/// A VARIA seed request.
#[derive(Clone, Debug, PartialEq)]
pub struct VariaRequest {
    /// Skills preset, e.g. `Season_Races`, `regular`.
    pub skills: String,
    /// Settings preset, e.g. `Season_Races`, `default`.
    pub settings: String,
    /// A race seed.
    pub race: bool,
    /// Extra settings merged last (choozo races, league playoffs).
    pub overrides: Map<String, Json>,
}

/// The varia.run client.
#[derive(Debug)]
pub struct VariaClient {
    http: HttpProvider,
    settings: VariaSettings,
}

fn merge(into: &mut Map<String, Json>, from: &Map<String, Json>) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(Json::Object(a)), Json::Object(b)) => merge(a, b),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

fn form_value(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Array(items) => items.iter().map(form_value).collect::<Vec<_>>().join(","),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

impl VariaClient {
    /// A client. Errors: the HTTP client cannot be built.
    pub fn new(settings: VariaSettings, policy: HttpPolicy) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: HttpProvider::new(NAME, policy)?,
            settings,
        })
    }

    async fn preset(
        &self,
        operation: &'static str,
        path: &str,
        form: &[(&str, &str)],
        label: &str,
    ) -> Result<Map<String, Json>, ProviderError> {
        let url = format!("{}/{path}", self.settings.base_url.trim_end_matches('/'));
        let reply = self
            .http
            .send(operation, |c| c.post(&url).form(form))
            .await
            .map_err(|mut e| {
                if e.kind == ProviderErrorKind::Rejected {
                    e.message = format!(
                        "Unable to retrieve {label} preset. It may not exist? ({})",
                        e.message
                    );
                }
                e
            })?;
        match reply.json(NAME, operation)? {
            Json::Object(map) => Ok(map),
            _ => Err(ProviderError::format(
                NAME,
                operation,
                format!("the {label} preset is not a JSON object"),
            )),
        }
    }
}

impl SeedProvider for VariaClient {
    type Request = VariaRequest;

    fn name(&self) -> &'static str {
        NAME
    }

    async fn generate(&self, request: VariaRequest) -> Result<Seed, ProviderError> {
        let mut settings = self
            .preset(
                "settings",
                "randoPresetWebService",
                &[("randoPreset", "default"), ("origin", "extStats")],
                "settings \"default\"",
            )
            .await?;
        settings.insert("complexity".into(), Json::from("advanced"));
        settings.insert("seed".into(), Json::from("0"));
        settings.insert("logic".into(), Json::from("vanilla"));
        if request.settings != "default" {
            let label = format!("settings \"{}\"", request.settings);
            let named = self
                .preset(
                    "settings",
                    "randoPresetWebService",
                    &[("randoPreset", &request.settings), ("origin", "extStats")],
                    &label,
                )
                .await?;
            merge(&mut settings, &named);
        }
        merge(&mut settings, &request.overrides);
        let label = format!("skills \"{}\"", request.skills);
        let skills = self
            .preset(
                "skills",
                "presetWebService",
                &[("preset", &request.skills)],
                &label,
            )
            .await?;
        settings.insert(
            "paramsFileTarget".into(),
            Json::from(Json::Object(skills).to_string()),
        );
        settings.insert("preset".into(), Json::from(request.skills.clone()));
        settings.insert(
            "raceMode".into(),
            Json::from(if request.race { "on" } else { "off" }),
        );
        let form: Vec<(String, String)> = settings
            .iter()
            .map(|(k, v)| (k.clone(), form_value(v)))
            .collect();
        let base = self.settings.base_url.trim_end_matches('/').to_string();
        let url = format!("{base}/randomizerWebService");
        let reply = self
            .http
            .send("generate", |c| c.post(&url).form(&form))
            .await?;
        let json = reply.json(NAME, "generate")?;
        let key = json["seedKey"]
            .as_str()
            .and_then(|k| uuid::Uuid::parse_str(k).ok())
            .ok_or_else(|| {
                ProviderError::format(NAME, "generate", "the answer has no `seedKey`")
            })?;
        Ok(Seed {
            url: format!("{base}/customizer/{}", key.hyphenated()),
            hash: key.hyphenated().to_string(),
            notes: json["errorMsg"]
                .as_str()
                .filter(|m| !m.is_empty())
                .map(|m| m.replace("<br/>", "\n")),
            raw: json,
            ..Seed::default()
        })
    }
}

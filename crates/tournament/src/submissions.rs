//! Settings submissions (spec §1.5.10, §1.3's SMRL form): a tournament may define a form whose
//! choices pick the roller's randomizer and preset per match. Players of the match (or its
//! organizers) submit it on the website; the seed roller uses it at `!tournamentrace`; a
//! player without settings gets one reminder DM when the match is near; and when the form is
//! required, the room is not opened until settings are in (the audit channel hears it once).
//! "Submitted" means submitted — upstream's flag meant "reminder sent".

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};
use serde::{Deserialize, Serialize};

/// A tournament's form (`settings_form` JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsForm {
    /// The fields, in order; a later field's choice overrides an earlier one's roller values.
    pub fields: Vec<FormField>,
    /// No room until settings are submitted (SMRL); otherwise the roller's own preset is used
    /// for matches without a submission.
    #[serde(default = "yes")]
    pub required: bool,
    /// The reminder DM goes this many hours before the match (upstream: within the week).
    #[serde(default = "default_reminder_hours")]
    pub reminder_hours: u32,
}

fn yes() -> bool {
    true
}

fn default_reminder_hours() -> u32 {
    72
}

/// One select field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// The submitted key, e.g. `game`.
    pub key: String,
    /// What the form shows, e.g. `Game #`.
    pub label: String,
    /// The choices, in order.
    pub choices: Vec<Choice>,
    /// Must be answered.
    #[serde(default)]
    pub required: bool,
}

/// One choice and the roller values it sets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// The submitted value, e.g. `1`.
    pub value: String,
    /// What the form shows, e.g. `Power`.
    pub label: String,
    /// The randomizer this choice rolls with, if it decides it.
    #[serde(default)]
    pub randomizer: Option<String>,
    /// The preset this choice rolls, if it decides it.
    #[serde(default)]
    pub preset: Option<String>,
}

impl SettingsForm {
    /// Checks the form itself (an organizer wrote it).
    ///
    /// Errors: no fields, a field without choices, a repeated key or value.
    pub fn validate(&self) -> Result<(), String> {
        if self.fields.is_empty() || self.fields.len() > 10 {
            return Err("settings_form: 1–10 fields".into());
        }
        let mut keys = std::collections::HashSet::new();
        for field in &self.fields {
            if field.key.trim().is_empty() || !keys.insert(field.key.as_str()) {
                return Err(format!(
                    "settings_form: field keys must be present and unique (`{}`)",
                    field.key
                ));
            }
            if field.choices.is_empty() || field.choices.len() > 25 {
                return Err(format!("settings_form: `{}` needs 1–25 choices", field.key));
            }
            let mut values = std::collections::HashSet::new();
            if field
                .choices
                .iter()
                .any(|c| !values.insert(c.value.as_str()))
            {
                return Err(format!(
                    "settings_form: `{}` lists a choice twice",
                    field.key
                ));
            }
        }
        if self.reminder_hours == 0 || self.reminder_hours > 24 * 14 {
            return Err("settings_form: reminder_hours 1–336".into());
        }
        Ok(())
    }

    /// Checks a submission against the form: every required field answered, every answer one
    /// of its field's choices, no unknown keys. Blank answers are dropped.
    ///
    /// Errors: a message for the person submitting.
    pub fn check(
        &self,
        values: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        for (key, value) in values {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let Some(field) = self.fields.iter().find(|f| &f.key == key) else {
                return Err(format!("The form has no field `{key}`."));
            };
            if !field.choices.iter().any(|c| c.value == value) {
                return Err(format!("`{value}` is not a choice of {}.", field.label));
            }
            out.insert(key.clone(), value.to_owned());
        }
        for field in self.fields.iter().filter(|f| f.required) {
            if !out.contains_key(&field.key) {
                return Err(format!("{} is required.", field.label));
            }
        }
        Ok(out)
    }

    /// The roller values of a submission, over the roller's own `(randomizer, preset)`.
    pub fn resolve(
        &self,
        values: &BTreeMap<String, String>,
        default: (String, String),
    ) -> (String, String) {
        let (mut randomizer, mut preset) = default;
        for field in &self.fields {
            let Some(choice) = values
                .get(&field.key)
                .and_then(|v| field.choices.iter().find(|c| &c.value == v))
            else {
                continue;
            };
            if let Some(r) = &choice.randomizer {
                randomizer = r.clone();
            }
            if let Some(p) = &choice.preset {
                preset = p.clone();
            }
        }
        (randomizer, preset)
    }

    /// The submission in words: `Label: choice label` per answered field.
    pub fn describe(&self, values: &BTreeMap<String, String>) -> String {
        self.fields
            .iter()
            .filter_map(|f| {
                let value = values.get(&f.key)?;
                let label = f
                    .choices
                    .iter()
                    .find(|c| &c.value == value)
                    .map_or(value.as_str(), |c| c.label.as_str());
                Some(format!("{}: {label}", f.label))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `tournament_settings_submissions`: a match's submitted settings.
pub mod submission {
    use sea_orm::entity::prelude::*;

    /// The latest submission of one match.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tournament_settings_submissions")]
    pub struct Model {
        /// The match.
        #[sea_orm(primary_key, auto_increment = false)]
        pub match_id: i64,
        /// Its tournament.
        pub tournament_id: i64,
        /// The answers as a JSON object.
        #[sea_orm(column_type = "Text")]
        pub settings: String,
        /// Who submitted (Discord id).
        pub submitted_by: i64,
        /// When.
        pub submitted_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `tournament_settings_reminders`: who was reminded for which match (once each).
pub mod reminder {
    use sea_orm::entity::prelude::*;

    /// One reminder sent.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tournament_settings_reminders")]
    pub struct Model {
        /// The match.
        #[sea_orm(primary_key, auto_increment = false)]
        pub match_id: i64,
        /// The player (Discord id).
        #[sea_orm(primary_key, auto_increment = false)]
        pub discord_user_id: i64,
        /// When.
        pub sent_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A match's submitted answers, if any.
///
/// Errors: the database.
pub async fn of_match<C: ConnectionTrait>(
    conn: &C,
    match_id: i64,
) -> Result<Option<BTreeMap<String, String>>, DbErr> {
    Ok(submission::Entity::find_by_id(match_id)
        .one(conn)
        .await?
        .and_then(|row| serde_json::from_str(&row.settings).ok()))
}

/// Stores (or replaces) a match's answers.
///
/// Errors: the database.
pub async fn store<C: ConnectionTrait>(
    conn: &C,
    tournament_id: i64,
    match_id: i64,
    values: &BTreeMap<String, String>,
    by: u64,
) -> Result<(), DbErr> {
    let row = submission::ActiveModel {
        match_id: Set(match_id),
        tournament_id: Set(tournament_id),
        settings: Set(serde_json::to_string(values).unwrap_or_else(|_| "{}".into())),
        submitted_by: Set(platform::db::u64_to_db(by)),
        submitted_at: Set(Utc::now()),
    };
    submission::Entity::insert(row)
        .on_conflict(
            OnConflict::column(submission::Column::MatchId)
                .update_columns([
                    submission::Column::Settings,
                    submission::Column::SubmittedBy,
                    submission::Column::SubmittedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await
        .map(drop)
}

/// Records a reminder; true when it was not sent before.
///
/// Errors: the database.
pub async fn remember_reminder<C: ConnectionTrait>(
    conn: &C,
    match_id: i64,
    user: u64,
) -> Result<bool, DbErr> {
    let row = reminder::ActiveModel {
        match_id: Set(match_id),
        discord_user_id: Set(platform::db::u64_to_db(user)),
        sent_at: Set(Utc::now()),
    };
    match reminder::Entity::insert(row)
        .exec_without_returning(conn)
        .await
    {
        Ok(_) => Ok(true),
        Err(error) if platform::db::is_unique_violation(&error) => Ok(false),
        Err(error) => Err(error),
    }
}

/// The tournament's form, if it has one (a form that does not parse counts as none; the
/// registry refuses to store one).
pub fn form_of(t: &crate::registry::Tournament) -> Option<SettingsForm> {
    t.row
        .settings_form
        .as_deref()
        .filter(|f| !f.trim().is_empty())
        .and_then(|f| serde_json::from_str(f).ok())
}

/// The website page where a match's settings are submitted.
pub fn link(website: &str, slug: &str, match_id: i64) -> String {
    format!(
        "{}/tournaments/{slug}/matches/{match_id}/settings",
        website.trim_end_matches('/')
    )
}

/// Whether `m` may not get a room yet: its tournament requires settings and none are in.
///
/// Errors: the database.
pub async fn blocks_room<C: ConnectionTrait>(
    conn: &C,
    t: &crate::registry::Tournament,
    match_id: i64,
) -> Result<bool, DbErr> {
    match form_of(t) {
        Some(form) if form.required => Ok(of_match(conn, match_id).await?.is_none()),
        _ => Ok(false),
    }
}

/// One reminder DM per player of each match starting within the form's `reminder_hours`
/// that has no settings yet (spec §1.5.10's text); the number sent.
///
/// Errors: the database (a refused DM is logged and not retried: the player closed DMs).
pub async fn remind(
    db: &sea_orm::DatabaseConnection,
    peers: &platform::grpc::Peers,
    t: &crate::registry::Tournament,
    website: &str,
    now: chrono::DateTime<Utc>,
) -> Result<usize, DbErr> {
    let Some(form) = form_of(t) else {
        return Ok(0);
    };
    let window = chrono::Duration::hours(i64::from(form.reminder_hours));
    let mut sent = 0;
    for m in crate::matches::between(db, t.row.id, now, now + window).await? {
        if of_match(db, m.id).await?.is_some() {
            continue;
        }
        let players = crate::matches::players(&m);
        let versus = players
            .iter()
            .map(|p| p.display_name.as_str())
            .collect::<Vec<_>>()
            .join(" vs. ");
        for user in players.iter().filter_map(|p| p.discord_user_id) {
            if !remember_reminder(db, m.id, user).await? {
                continue;
            }
            let embed = proto::discord::v1::Embed {
                title: "Settings reminder".into(),
                description: format!(
                    "Greetings!  Do not forget to submit settings for your upcoming race: `{versus}`!\n\nFor your convenience, please visit {} to submit the settings.",
                    link(website, &t.row.slug, m.id)
                ),
                color: 0xf1c40f,
                ..Default::default()
            };
            match crate::notify::dm(
                peers,
                format!("settings-reminder:{}:{user}", m.id),
                user,
                embed,
            )
            .await
            {
                Ok(()) => sent += 1,
                Err(error) => tracing::info!(user, %error, "settings reminder not delivered"),
            }
        }
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upstream's SMRL form (spec §1.3) in this shape.
    fn smrl() -> SettingsForm {
        serde_json::from_value(serde_json::json!({
            "fields": [
                {"key": "game", "label": "Game #", "required": true, "choices": [
                    {"value": "1", "label": "Power", "randomizer": "smvaria", "preset": "RLS4W5"},
                    {"value": "2", "label": "Varia", "randomizer": "smdash", "preset": "recall_mm"},
                    {"value": "3", "label": "Gravity", "randomizer": "smvaria", "preset": "RLS4GS"},
                    {"value": "4", "label": "Game 4"},
                    {"value": "5", "label": "Game 5"}
                ]},
                {"key": "preset", "label": "Preset (games 4 & 5 only)", "choices": [
                    {"value": "RLS4W2", "label": "Countdown, Full Area, Vanilla Bosses (week 2)", "preset": "RLS4W2"},
                    {"value": "classic_mm", "label": "Classic DASH", "randomizer": "smdash", "preset": "classic_mm"}
                ]}
            ]
        }))
        .unwrap()
    }

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_smrl_form_maps_like_upstream() {
        let form = smrl();
        form.validate().unwrap();
        let default = ("smvaria".to_owned(), String::new());
        assert_eq!(
            form.resolve(&values(&[("game", "1")]), default.clone()),
            ("smvaria".into(), "RLS4W5".into())
        );
        assert_eq!(
            form.resolve(&values(&[("game", "2")]), default.clone()),
            ("smdash".into(), "recall_mm".into())
        );
        assert_eq!(
            form.resolve(
                &values(&[("game", "4"), ("preset", "classic_mm")]),
                default.clone()
            ),
            ("smdash".into(), "classic_mm".into())
        );
        assert_eq!(
            form.resolve(&values(&[("game", "5"), ("preset", "RLS4W2")]), default),
            ("smvaria".into(), "RLS4W2".into())
        );
        assert_eq!(
            form.describe(&values(&[("game", "4"), ("preset", "classic_mm")])),
            "Game #: Game 4\nPreset (games 4 & 5 only): Classic DASH"
        );
    }

    #[test]
    fn submissions_are_checked() {
        let form = smrl();
        assert_eq!(
            form.check(&values(&[("preset", "classic_mm")]))
                .unwrap_err(),
            "Game # is required."
        );
        assert_eq!(
            form.check(&values(&[("game", "9")])).unwrap_err(),
            "`9` is not a choice of Game #."
        );
        assert!(
            form.check(&values(&[("game", "1"), ("color", "red")]))
                .is_err()
        );
        assert_eq!(
            form.check(&values(&[("game", "1"), ("preset", " ")]))
                .unwrap(),
            values(&[("game", "1")])
        );
        let mut broken = smrl();
        broken.fields[1].key = "game".into();
        assert!(broken.validate().is_err());
    }
}

//! The tournament registry in the database (spec §1.8): tournaments are created and changed
//! at run time by operators and their organizers, never by a code change. Who may change a
//! tournament is decided here, in the service that owns it: an operator (an API key with
//! `admin`, or the bot's owner), or a user holding the tournament's `organizer` role.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, TryIntoModel,
};

use crate::config::{OpenRace, RoomProfile, SeedRoller};
use crate::db::{Role, ScheduleSource, permission, tournament};

/// Who asks for a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The operator (an API key with `admin`, the CLI).
    Operator,
    /// An api user (by id).
    User(i64),
}

/// Why a registry change failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The actor may not do this.
    #[error("only the tournament's organizers may do this")]
    Forbidden,
    /// No tournament has this slug.
    #[error("no tournament `{0}`")]
    NotFound(String),
    /// A value is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// A tournament as the rest of the service uses it: the row with its JSON parsed.
#[derive(Clone, Debug)]
pub struct Tournament {
    /// The row.
    pub row: tournament::Model,
    /// The room profile.
    pub profile: RoomProfile,
    /// The seed roller.
    pub roller: SeedRoller,
    /// Helper roles.
    pub helper_role_ids: Vec<u64>,
    /// racetime.gg teams whose members are helpers (e.g. `sg-volunteers`).
    pub helper_racetime_teams: Vec<String>,
    /// The open race series, if it is one.
    pub open_race: Option<OpenRace>,
}

impl Tournament {
    /// Parses a row.
    ///
    /// Errors: JSON that does not parse (written by hand into the database).
    pub fn from_row(row: tournament::Model) -> Result<Self, RegistryError> {
        let invalid = |what: &str, e: serde_json::Error| {
            RegistryError::Invalid(format!("tournament `{}`: {what}: {e}", row.slug))
        };
        let profile =
            serde_json::from_str(&row.room_profile).map_err(|e| invalid("room_profile", e))?;
        let roller =
            serde_json::from_str(&row.seed_roller).map_err(|e| invalid("seed_roller", e))?;
        let helpers: Vec<String> = serde_json::from_str(&row.helper_role_ids)
            .map_err(|e| invalid("helper_role_ids", e))?;
        let teams: Vec<String> = serde_json::from_str(&row.helper_racetime_teams)
            .map_err(|e| invalid("helper_racetime_teams", e))?;
        let open_race = row
            .open_race
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| invalid("open_race", e))?;
        Ok(Self {
            helper_role_ids: helpers.iter().filter_map(|h| h.parse().ok()).collect(),
            helper_racetime_teams: teams,
            open_race,
            row,
            profile,
            roller,
        })
    }

    /// Whether its jobs run at `now`: active and inside its window.
    pub fn live_at(&self, now: DateTime<Utc>) -> bool {
        self.row.active
            && self.row.starts_at.is_none_or(|s| s <= now)
            && self.row.ends_at.is_none_or(|e| now < e)
    }

    /// Minutes before the race start the room opens: `room_open_minutes_before` plus the
    /// stream delay.
    pub fn open_lead(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(
            self.row.room_open_minutes_before + self.row.stream_delay_minutes,
        ))
    }
}

/// What an organizer sets.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Slug (1–40 of `a-z0-9-_`).
    pub slug: String,
    /// Name.
    pub name: String,
    /// Active.
    pub active: bool,
    /// Window start.
    pub starts_at: Option<DateTime<Utc>>,
    /// Window end.
    pub ends_at: Option<DateTime<Utc>>,
    /// Schedule source.
    pub schedule_source: ScheduleSource,
    /// SpeedGaming event (defaults to the slug for SpeedGaming tournaments).
    pub speedgaming_event: Option<String>,
    /// racetime.gg category.
    pub racetime_category: String,
    /// racetime.gg goal.
    pub racetime_goal: String,
    /// Room profile.
    pub profile: RoomProfile,
    /// Minutes before the race the room opens (sahabot2's default 60).
    pub room_open_minutes_before: u32,
    /// Stream delay minutes.
    pub stream_delay_minutes: u32,
    /// Players need a racetime.gg link.
    pub require_racetime_link: bool,
    /// Seed roller.
    pub roller: SeedRoller,
    /// Discord guild.
    pub guild_id: Option<u64>,
    /// Audit channel.
    pub audit_channel_id: Option<u64>,
    /// Commentary channel.
    pub commentary_channel_id: Option<u64>,
    /// Announcement channel.
    pub announce_channel_id: Option<u64>,
    /// Helper roles.
    pub helper_role_ids: Vec<u64>,
    /// racetime.gg teams whose members are helpers.
    pub helper_racetime_teams: Vec<String>,
    /// The open race series, if it is one.
    pub open_race: Option<OpenRace>,
    /// IANA time zone.
    pub time_zone: String,
    /// Mention in front of player-check reports.
    pub audit_mention: Option<String>,
    /// A Discord scheduled event per upcoming match.
    pub scheduled_events: bool,
    /// Channel of the scheduling-needs embed.
    pub scheduling_needs_channel_id: Option<u64>,
    /// List tracker needs.
    pub scheduling_needs_tracker: bool,
    /// Crew language counted.
    pub scheduling_needs_language: Option<String>,
    /// The settings form, if players submit settings.
    pub settings_form: Option<crate::submissions::SettingsForm>,
}

impl Settings {
    /// Checks every field.
    ///
    /// Errors: [`RegistryError::Invalid`] naming the first bad field.
    pub fn validate(&self) -> Result<(), RegistryError> {
        let bad = |m: String| Err(RegistryError::Invalid(m));
        if self.slug.is_empty()
            || self.slug.len() > 40
            || !self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return bad("slug: 1–40 lowercase letters, digits, - and _".into());
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return bad("name: 1–200 characters".into());
        }
        if self.racetime_category.trim().is_empty() || self.racetime_goal.trim().is_empty() {
            return bad("racetime_category and racetime_goal are required".into());
        }
        if let (Some(s), Some(e)) = (self.starts_at, self.ends_at)
            && e <= s
        {
            return bad("ends_at must be after starts_at".into());
        }
        if self.room_open_minutes_before == 0 || self.room_open_minutes_before > 24 * 60 {
            return bad("room_open_minutes_before: 1–1440".into());
        }
        if self.stream_delay_minutes > 120 {
            return bad("stream_delay_minutes: 0–120".into());
        }
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return bad(format!(
                "time_zone: `{}` is not an IANA zone",
                self.time_zone
            ));
        }
        if self.helper_racetime_teams.len() > 10
            || self.helper_racetime_teams.iter().any(|t| {
                t.is_empty()
                    || t.len() > 50
                    || !t
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
        {
            return bad(
                "helper_racetime_teams: at most 10 racetime.gg team slugs such as `sg-volunteers`"
                    .into(),
            );
        }
        if let Some(open) = &self.open_race {
            open.validate().map_err(RegistryError::Invalid)?;
        }
        if self.audit_mention.as_ref().is_some_and(|m| {
            m.chars().count() > 100
                || !(m.starts_with("<@") || m.starts_with("<#"))
                || !m.ends_with('>')
        }) {
            return bad("audit_mention: a Discord mention such as <@&123> or <@456>".into());
        }
        if let Some(form) = &self.settings_form {
            form.validate().map_err(RegistryError::Invalid)?;
        }
        if self.scheduled_events && self.guild_id.is_none() {
            return bad("scheduled_events needs guild_id".into());
        }
        if self
            .scheduling_needs_language
            .as_ref()
            .is_some_and(|l| l.is_empty() || l.len() > 10)
        {
            return bad("scheduling_needs_language: a language code such as `en`".into());
        }
        self.profile.validate().map_err(RegistryError::Invalid)?;
        self.roller.validate().map_err(RegistryError::Invalid)?;
        Ok(())
    }
}

/// The tournament `slug`.
///
/// Errors: none has it, or the database failed.
pub async fn get<C: ConnectionTrait>(conn: &C, slug: &str) -> Result<Tournament, RegistryError> {
    let row = tournament::Entity::find()
        .filter(tournament::Column::Slug.eq(slug))
        .one(conn)
        .await?
        .ok_or_else(|| RegistryError::NotFound(slug.to_owned()))?;
    Tournament::from_row(row)
}

/// Every tournament (only active ones with `active_only`), by slug.
///
/// Errors: the database failed.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    active_only: bool,
) -> Result<Vec<Tournament>, RegistryError> {
    let mut query = tournament::Entity::find().order_by_asc(tournament::Column::Slug);
    if active_only {
        query = query.filter(tournament::Column::Active.eq(true));
    }
    let mut out = Vec::new();
    for row in query.all(conn).await? {
        match Tournament::from_row(row) {
            Ok(t) => out.push(t),
            Err(error) => tracing::error!(%error, "skipping a tournament with a broken row"),
        }
    }
    Ok(out)
}

/// Whether `actor` holds `role` (or organizer, which includes helper) in tournament `id`, by
/// user grant. (Discord-role grants are checked by the caller that knows the member's roles.)
///
/// Errors: the database failed.
pub async fn holds<C: ConnectionTrait>(
    conn: &C,
    tournament_id: i64,
    actor: Actor,
    role: Role,
) -> Result<bool, DbErr> {
    let Actor::User(user_id) = actor else {
        return Ok(true);
    };
    let grants = permission::Entity::find()
        .filter(permission::Column::TournamentId.eq(tournament_id))
        .filter(permission::Column::UserId.eq(user_id))
        .all(conn)
        .await?;
    Ok(grants
        .iter()
        .any(|g| g.role == role || g.role == Role::Organizer))
}

/// Creates or changes a tournament. Creating needs an operator; changing needs an organizer of
/// it (or an operator).
///
/// Errors: forbidden, invalid settings, or the database failed.
pub async fn upsert<C: ConnectionTrait>(
    conn: &C,
    actor: Actor,
    settings: Settings,
) -> Result<Tournament, RegistryError> {
    settings.validate()?;
    let now = Utc::now();
    let existing = tournament::Entity::find()
        .filter(tournament::Column::Slug.eq(&settings.slug))
        .one(conn)
        .await?;
    let mut active = match existing {
        Some(row) => {
            if !holds(conn, row.id, actor, Role::Organizer).await? {
                return Err(RegistryError::Forbidden);
            }
            row.into_active_model()
        }
        None => {
            if actor != Actor::Operator {
                return Err(RegistryError::Forbidden);
            }
            tournament::ActiveModel {
                slug: Set(settings.slug.clone()),
                created_at: Set(now),
                ..Default::default()
            }
        }
    };
    let snowflake = |v: Option<u64>| v.map(platform::db::u64_to_db);
    active.name = Set(settings.name.trim().to_owned());
    active.active = Set(settings.active);
    active.starts_at = Set(settings.starts_at);
    active.ends_at = Set(settings.ends_at);
    active.schedule_source = Set(settings.schedule_source);
    active.speedgaming_event = Set(match settings.schedule_source {
        ScheduleSource::Speedgaming => Some(
            settings
                .speedgaming_event
                .clone()
                .filter(|e| !e.trim().is_empty())
                .unwrap_or_else(|| settings.slug.clone()),
        ),
        ScheduleSource::Internal => None,
    });
    active.racetime_category = Set(settings.racetime_category.trim().to_owned());
    active.racetime_goal = Set(settings.racetime_goal.trim().to_owned());
    active.room_profile = Set(json(&settings.profile));
    active.room_open_minutes_before =
        Set(i32::try_from(settings.room_open_minutes_before).unwrap_or(60));
    active.stream_delay_minutes = Set(i32::try_from(settings.stream_delay_minutes).unwrap_or(0));
    active.require_racetime_link = Set(settings.require_racetime_link);
    active.seed_roller = Set(json(&settings.roller));
    active.guild_id = Set(snowflake(settings.guild_id));
    active.audit_channel_id = Set(snowflake(settings.audit_channel_id));
    active.commentary_channel_id = Set(snowflake(settings.commentary_channel_id));
    active.announce_channel_id = Set(snowflake(settings.announce_channel_id));
    let helpers: Vec<String> = settings
        .helper_role_ids
        .iter()
        .map(u64::to_string)
        .collect();
    active.helper_role_ids = Set(serde_json::to_string(&helpers).unwrap_or_else(|_| "[]".into()));
    active.helper_racetime_teams = Set(json(&settings.helper_racetime_teams));
    active.open_race = Set(settings.open_race.as_ref().map(json));
    active.time_zone = Set(settings.time_zone.clone());
    active.audit_mention = Set(settings.audit_mention.clone());
    active.scheduled_events = Set(settings.scheduled_events);
    active.scheduling_needs_channel_id = Set(snowflake(settings.scheduling_needs_channel_id));
    active.scheduling_needs_tracker = Set(settings.scheduling_needs_tracker);
    active.scheduling_needs_language = Set(settings.scheduling_needs_language.clone());
    active.settings_form = Set(settings.settings_form.as_ref().map(json));
    active.updated_at = Set(now);
    let row = active.save(conn).await?.try_into_model()?;
    Tournament::from_row(row)
}

/// A config value as stored JSON text (these types always serialize).
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
}

/// Grants `role` in tournament `slug` to api user `user_id` (operator or organizer only).
///
/// Errors: forbidden, unknown tournament, or the database failed.
pub async fn grant<C: ConnectionTrait>(
    conn: &C,
    actor: Actor,
    slug: &str,
    role: Role,
    user_id: Option<i64>,
    discord_role_id: Option<u64>,
) -> Result<(), RegistryError> {
    let t = get(conn, slug).await?;
    if !holds(conn, t.row.id, actor, Role::Organizer).await? {
        return Err(RegistryError::Forbidden);
    }
    if user_id.is_none() && discord_role_id.is_none() {
        return Err(RegistryError::Invalid(
            "grant to a user or a Discord role".into(),
        ));
    }
    permission::ActiveModel {
        tournament_id: Set(t.row.id),
        role: Set(role),
        user_id: Set(user_id),
        discord_role_id: Set(discord_role_id.map(platform::db::u64_to_db)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Api user ids holding `role` (or organizer) in tournament `id`.
///
/// Errors: the database failed.
pub async fn users_with<C: ConnectionTrait>(
    conn: &C,
    tournament_id: i64,
    role: Role,
) -> Result<Vec<i64>, DbErr> {
    Ok(permission::Entity::find()
        .filter(permission::Column::TournamentId.eq(tournament_id))
        .all(conn)
        .await?
        .into_iter()
        .filter(|g| g.role == role || g.role == Role::Organizer)
        .filter_map(|g| g.user_id)
        .collect())
}

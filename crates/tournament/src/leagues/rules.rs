//! The rules of car numbers: who may claim what, release, force-release, reassign, trade and
//! link, each in one transaction with its history row, audit row and event. The number's
//! uniqueness is the database's (`ux_number_claims_number`): of two members claiming one number
//! at the same instant, the second insert fails and that member is told who holds it.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use platform::db::{u64_from_db, u64_to_db};
use platform::events::{Event, Outbox};
use proto::events::v1 as ev;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait, TryIntoModel,
};

use super::db::{
    LeagueAction, ReleaseReason, TradeState, audit, claim, history, league, link, trade,
};

/// How long a trade waits for the partner.
pub const TRADE_TTL: Duration = Duration::hours(24);
/// Numbers a league may span.
pub const MAX_RANGE: i32 = 10_000;

/// Who acts, as Discord knows them in the league's guild (the gateway reads it from the
/// interaction).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Member {
    /// Their Discord id.
    pub discord_user_id: u64,
    /// Their roles in the guild.
    pub role_ids: Vec<u64>,
    /// They may manage the server (Administrator or Manage Server).
    pub manages_guild: bool,
}

/// Why a league action was refused.
#[derive(Debug, thiserror::Error)]
pub enum LeagueError {
    /// No such league (or none set up).
    #[error("{0}")]
    NotFound(String),
    /// Not an admin of the league.
    #[error("{0}")]
    Forbidden(String),
    /// A value the rules do not allow (range, reserved, class, limit, not yours).
    #[error("{0}")]
    Invalid(String),
    /// Someone holds the number.
    #[error("#{number} is already taken by <@{holder}>.")]
    Taken {
        /// The number.
        number: i32,
        /// Who holds it.
        holder: u64,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The outbox refused the event.
    #[error("events: {0}")]
    Events(String),
}

/// A league with its JSON parsed.
#[derive(Clone, Debug)]
pub struct League {
    /// The row.
    pub row: league::Model,
    /// Its classes (empty: one unnamed class).
    pub classes: Vec<String>,
    /// Numbers nobody may claim.
    pub reserved: BTreeSet<i32>,
}

impl League {
    pub(crate) fn from_row(row: league::Model) -> Self {
        Self {
            classes: serde_json::from_str(&row.classes).unwrap_or_default(),
            reserved: serde_json::from_str(&row.reserved).unwrap_or_default(),
            row,
        }
    }

    /// Whether `member` is an admin: they manage the server, or hold the league's admin role.
    pub fn is_admin(&self, member: &Member) -> bool {
        member.manages_guild
            || self
                .row
                .admin_role_id
                .is_some_and(|role| member.role_ids.contains(&u64_from_db(role)))
    }

    fn require_admin(&self, member: &Member) -> Result<(), LeagueError> {
        if self.is_admin(member) {
            Ok(())
        } else {
            Err(LeagueError::Forbidden(format!(
                "Only the league's admins may do that ({}).",
                match self.row.admin_role_id {
                    Some(role) => format!("the <@&{}> role or Manage Server", u64_from_db(role)),
                    None => "Manage Server".into(),
                }
            )))
        }
    }

    /// The class `class` names, checked: `""` for a league without classes; a league with
    /// classes needs one of them (case-insensitive).
    ///
    /// Errors: an unknown class, or none given where one is needed.
    pub fn class(&self, class: &str) -> Result<String, LeagueError> {
        let class = class.trim();
        if self.classes.is_empty() {
            return if class.is_empty() {
                Ok(String::new())
            } else {
                Err(LeagueError::Invalid(format!(
                    "This league has no car classes; leave out the class (got `{class}`)."
                )))
            };
        }
        self.classes
            .iter()
            .find(|c| c.eq_ignore_ascii_case(class))
            .cloned()
            .ok_or_else(|| {
                LeagueError::Invalid(format!("Choose a class: {}.", self.classes.join(", ")))
            })
    }

    /// Checks that `number` may be claimed at all.
    ///
    /// Errors: out of range, or reserved.
    pub fn claimable(&self, number: i32) -> Result<(), LeagueError> {
        if number < self.row.number_min || number > self.row.number_max {
            return Err(LeagueError::Invalid(format!(
                "#{number} is outside this league's numbers ({}–{}).",
                self.row.number_min, self.row.number_max
            )));
        }
        if self.reserved.contains(&number) {
            return Err(LeagueError::Invalid(format!(
                "#{number} is reserved by the league and cannot be claimed."
            )));
        }
        Ok(())
    }
}

/// A league's settings as an admin sets them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Unique in the guild.
    pub slug: String,
    /// Shown name.
    pub name: String,
    /// The iRacing league to sync with.
    pub iracing_league_id: Option<u64>,
    /// Lowest number.
    pub number_min: i32,
    /// Highest number.
    pub number_max: i32,
    /// Car classes (none: one unnamed class).
    pub classes: Vec<String>,
    /// Numbers per member.
    pub max_per_member: i32,
    /// Reserved numbers.
    pub reserved: Vec<i32>,
    /// The admin role.
    pub admin_role_id: Option<u64>,
    /// The announcement channel.
    pub announce_channel_id: Option<u64>,
    /// Hours between syncs (0: on demand only).
    pub sync_hours: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            slug: "main".into(),
            name: "League".into(),
            iracing_league_id: None,
            number_min: 1,
            number_max: 999,
            classes: Vec::new(),
            max_per_member: 1,
            reserved: Vec::new(),
            admin_role_id: None,
            announce_channel_id: None,
            sync_hours: 1,
        }
    }
}

impl Settings {
    /// Checks every field.
    ///
    /// Errors: [`LeagueError::Invalid`] naming the first bad one.
    pub fn validate(&self) -> Result<(), LeagueError> {
        let bad = |m: &str| Err(LeagueError::Invalid(m.to_owned()));
        if self.slug.is_empty()
            || self.slug.len() > 40
            || !self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return bad("league: 1–40 lowercase letters, digits and -");
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return bad("name: 1–100 characters");
        }
        if self.number_min < 0
            || self.number_max < self.number_min
            || self.number_max - self.number_min >= MAX_RANGE
        {
            return bad("numbers: min ≥ 0, max ≥ min, at most 10,000 numbers");
        }
        if !(1..=20).contains(&self.max_per_member) {
            return bad("max per member: 1–20");
        }
        if self.classes.len() > 10
            || self
                .classes
                .iter()
                .any(|c| c.trim().is_empty() || c.chars().count() > 50 || c.contains(','))
        {
            return bad("classes: at most 10 names of 1–50 characters, without commas");
        }
        if !(0..=168).contains(&self.sync_hours) {
            return bad("sync hours: 0 (on demand) to 168");
        }
        Ok(())
    }
}

/// The leagues of `guild`, by slug.
///
/// Errors: the database failed.
pub async fn list<C: ConnectionTrait>(conn: &C, guild: u64) -> Result<Vec<League>, DbErr> {
    Ok(league::Entity::find()
        .filter(league::Column::GuildId.eq(u64_to_db(guild)))
        .order_by_asc(league::Column::Slug)
        .all(conn)
        .await?
        .into_iter()
        .map(League::from_row)
        .collect())
}

/// League `slug` of `guild`, or its only league when `slug` is empty.
///
/// Errors: none set up, several and none named, or an unknown slug.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    guild: u64,
    slug: &str,
) -> Result<League, LeagueError> {
    let mut leagues = list(conn, guild).await?;
    let slug = slug.trim();
    if slug.is_empty() {
        return match leagues.len() {
            0 => Err(LeagueError::NotFound(
                "No league is set up in this server yet: an admin runs `/league setup`.".into(),
            )),
            1 => Ok(leagues.remove(0)),
            _ => Err(LeagueError::Invalid(format!(
                "This server has several leagues; name one: {}.",
                leagues
                    .iter()
                    .map(|l| format!("`{}`", l.row.slug))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        };
    }
    leagues
        .into_iter()
        .find(|l| l.row.slug == slug)
        .ok_or_else(|| LeagueError::NotFound(format!("No league `{slug}` in this server.")))
}

/// Sets up (or changes) league `settings.slug` of `guild`. A new league needs a server
/// manager; changing one needs its admin.
///
/// Errors: forbidden, invalid settings, or the database failed.
pub async fn setup(
    db: &DatabaseConnection,
    guild: u64,
    actor: &Member,
    settings: &Settings,
) -> Result<League, LeagueError> {
    settings.validate()?;
    let existing = list(db, guild)
        .await?
        .into_iter()
        .find(|l| l.row.slug == settings.slug);
    let now = Utc::now();
    let mut active = match &existing {
        Some(l) => {
            l.require_admin(actor)?;
            l.row.clone().into_active_model()
        }
        None => {
            if !actor.manages_guild {
                return Err(LeagueError::Forbidden(
                    "Setting up a league needs the Manage Server permission.".into(),
                ));
            }
            league::ActiveModel {
                guild_id: Set(u64_to_db(guild)),
                slug: Set(settings.slug.clone()),
                created_at: Set(now),
                last_sync_at: Set(None),
                last_sync_report: Set(None),
                ..Default::default()
            }
        }
    };
    let mut reserved: Vec<i32> = settings.reserved.clone();
    reserved.sort_unstable();
    reserved.dedup();
    active.name = Set(settings.name.trim().to_owned());
    active.iracing_league_id = Set(settings.iracing_league_id.map(u64_to_db));
    active.number_min = Set(settings.number_min);
    active.number_max = Set(settings.number_max);
    active.classes = Set(serde_json::to_string(&settings.classes).unwrap_or_else(|_| "[]".into()));
    active.max_per_member = Set(settings.max_per_member);
    active.reserved = Set(serde_json::to_string(&reserved).unwrap_or_else(|_| "[]".into()));
    active.admin_role_id = Set(settings.admin_role_id.map(u64_to_db));
    active.announce_channel_id = Set(settings.announce_channel_id.map(u64_to_db));
    active.sync_hours = Set(settings.sync_hours);
    active.updated_at = Set(now);
    let txn = db.begin().await?;
    let row = match active.save(&txn).await {
        Ok(saved) => saved.try_into_model()?,
        Err(error) if platform::db::is_unique_violation(&error) => {
            return Err(LeagueError::Invalid(format!(
                "A league `{}` was just set up by someone else; run the command again to change it.",
                settings.slug
            )));
        }
        Err(error) => return Err(error.into()),
    };
    record(
        &txn,
        row.id,
        actor.discord_user_id,
        LeagueAction::Configured,
        "",
        None,
        None,
        format!(
            "numbers {}–{}, {} per member, classes [{}], reserved {:?}, iRacing league {}",
            settings.number_min,
            settings.number_max,
            settings.max_per_member,
            settings.classes.join(", "),
            reserved,
            settings
                .iracing_league_id
                .map_or_else(|| "none".into(), |id| id.to_string())
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(League::from_row(row))
}

/// Writes an audit row.
#[allow(clippy::too_many_arguments)]
async fn record(
    txn: &DatabaseTransaction,
    league_id: i64,
    actor: u64,
    action: LeagueAction,
    class: &str,
    number: Option<i32>,
    subject: Option<u64>,
    detail: String,
) -> Result<(), DbErr> {
    audit::ActiveModel {
        league_id: Set(league_id),
        actor_discord_id: Set(u64_to_db(actor)),
        action: Set(action),
        class: Set(class.to_owned()),
        number: Set(number),
        subject_discord_id: Set(subject.map(u64_to_db)),
        detail: Set(detail),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map(drop)
}

/// The claim of (`class`, `number`), if someone holds it.
///
/// Errors: the database failed.
pub async fn holder<C: ConnectionTrait>(
    conn: &C,
    league: &League,
    class: &str,
    number: i32,
) -> Result<Option<claim::Model>, DbErr> {
    claim::Entity::find()
        .filter(claim::Column::LeagueId.eq(league.row.id))
        .filter(claim::Column::Class.eq(class))
        .filter(claim::Column::Number.eq(number))
        .one(conn)
        .await
}

/// The numbers `member` holds in `league`.
///
/// Errors: the database failed.
pub async fn numbers_of<C: ConnectionTrait>(
    conn: &C,
    league: &League,
    member: u64,
) -> Result<Vec<claim::Model>, DbErr> {
    claim::Entity::find()
        .filter(claim::Column::LeagueId.eq(league.row.id))
        .filter(claim::Column::DiscordUserId.eq(u64_to_db(member)))
        .order_by_asc(claim::Column::Class)
        .order_by_asc(claim::Column::Number)
        .all(conn)
        .await
}

fn claimed_event(league: &League, c: &claim::Model, by: u64) -> Event {
    Event::of(&ev::NumberClaimed {
        guild_id: u64_from_db(league.row.guild_id),
        league: league.row.slug.clone(),
        class: c.class.clone(),
        number: c.number,
        discord_user_id: u64_from_db(c.discord_user_id),
        by_discord_user_id: by,
        announce_channel_id: league.row.announce_channel_id.map_or(0, u64_from_db),
    })
}

fn released_event(league: &League, c: &claim::Model, by: u64, reason: ReleaseReason) -> Event {
    Event::of(&ev::NumberReleased {
        guild_id: u64_from_db(league.row.guild_id),
        league: league.row.slug.clone(),
        class: c.class.clone(),
        number: c.number,
        discord_user_id: u64_from_db(c.discord_user_id),
        by_discord_user_id: by,
        reason: super::wire_name(&reason),
        announce_channel_id: league.row.announce_channel_id.map_or(0, u64_from_db),
    })
}

async fn write(
    outbox: &Outbox,
    txn: &DatabaseTransaction,
    event: Event,
) -> Result<(), LeagueError> {
    outbox
        .write(txn, event)
        .await
        .map(drop)
        .map_err(|e| LeagueError::Events(e.to_string()))
}

/// Ends `c` (history row) and deletes it.
async fn end(
    txn: &DatabaseTransaction,
    c: &claim::Model,
    reason: ReleaseReason,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    history::ActiveModel {
        league_id: Set(c.league_id),
        class: Set(c.class.clone()),
        number: Set(c.number),
        discord_user_id: Set(c.discord_user_id),
        claimed_at: Set(c.claimed_at),
        released_at: Set(at),
        reason: Set(reason),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    claim::Entity::delete_by_id(c.id).exec(txn).await?;
    Ok(())
}

/// Inserts a claim; a unique violation is [`LeagueError::Taken`] with the holder.
async fn insert_claim(
    db: &DatabaseConnection,
    txn: &DatabaseTransaction,
    league: &League,
    class: &str,
    number: i32,
    member: u64,
) -> Result<claim::Model, LeagueError> {
    let row = claim::ActiveModel {
        league_id: Set(league.row.id),
        class: Set(class.to_owned()),
        number: Set(number),
        discord_user_id: Set(u64_to_db(member)),
        claimed_at: Set(Utc::now()),
        verified: Set(false),
        verified_at: Set(None),
        notes: Set(None),
        ..Default::default()
    };
    match row.insert(txn).await {
        Ok(row) => Ok(row),
        Err(error) if platform::db::is_unique_violation(&error) => {
            // Read outside the failed transaction: the winner has committed.
            let holder = holder(db, league, class, number)
                .await?
                .map_or(0, |c| u64_from_db(c.discord_user_id));
            Err(LeagueError::Taken { number, holder })
        }
        Err(error) => Err(error.into()),
    }
}

/// `member` claims (`class`, `number`).
///
/// Errors: out of range, reserved, unknown class, over the member's limit, or taken.
pub async fn claim(
    db: &DatabaseConnection,
    outbox: &Outbox,
    league: &League,
    member: &Member,
    class: &str,
    number: i32,
) -> Result<claim::Model, LeagueError> {
    let class = league.class(class)?;
    league.claimable(number)?;
    if let Some(c) = holder(db, league, &class, number).await? {
        return Err(
            if u64_from_db(c.discord_user_id) == member.discord_user_id {
                LeagueError::Invalid(format!("You already hold #{number}."))
            } else {
                LeagueError::Taken {
                    number,
                    holder: u64_from_db(c.discord_user_id),
                }
            },
        );
    }
    let held = numbers_of(db, league, member.discord_user_id).await?;
    if held.len() >= usize::try_from(league.row.max_per_member).unwrap_or(1) {
        return Err(LeagueError::Invalid(format!(
            "You already hold {} (at most {} per member); `/release` one first.",
            held.iter()
                .map(|c| format!("#{}", c.number))
                .collect::<Vec<_>>()
                .join(", "),
            league.row.max_per_member
        )));
    }
    let txn = db.begin().await?;
    let c = insert_claim(db, &txn, league, &class, number, member.discord_user_id).await?;
    record(
        &txn,
        league.row.id,
        member.discord_user_id,
        LeagueAction::Claimed,
        &class,
        Some(number),
        None,
        format!("claimed #{number}"),
    )
    .await?;
    write(
        outbox,
        &txn,
        claimed_event(league, &c, member.discord_user_id),
    )
    .await?;
    txn.commit().await?;
    outbox.wake();
    Ok(c)
}

/// `member` gives up (`class`, `number`).
///
/// Errors: they do not hold it.
pub async fn release(
    db: &DatabaseConnection,
    outbox: &Outbox,
    league: &League,
    member: &Member,
    class: &str,
    number: i32,
) -> Result<claim::Model, LeagueError> {
    let class = league.class(class)?;
    let Some(c) = holder(db, league, &class, number)
        .await?
        .filter(|c| u64_from_db(c.discord_user_id) == member.discord_user_id)
    else {
        return Err(LeagueError::Invalid(format!("You do not hold #{number}.")));
    };
    let txn = db.begin().await?;
    end(&txn, &c, ReleaseReason::Released, Utc::now()).await?;
    record(
        &txn,
        league.row.id,
        member.discord_user_id,
        LeagueAction::Released,
        &class,
        Some(number),
        None,
        format!("released #{number}"),
    )
    .await?;
    write(
        outbox,
        &txn,
        released_event(league, &c, member.discord_user_id, ReleaseReason::Released),
    )
    .await?;
    txn.commit().await?;
    outbox.wake();
    Ok(c)
}

/// An admin takes (`class`, `number`) from whoever holds it; `reason` goes to the audit log.
///
/// Errors: not an admin, or nobody holds it.
pub async fn force_release(
    db: &DatabaseConnection,
    outbox: &Outbox,
    league: &League,
    admin: &Member,
    class: &str,
    number: i32,
    reason: &str,
) -> Result<claim::Model, LeagueError> {
    league.require_admin(admin)?;
    let class = league.class(class)?;
    let Some(c) = holder(db, league, &class, number).await? else {
        return Err(LeagueError::Invalid(format!("Nobody holds #{number}.")));
    };
    let txn = db.begin().await?;
    end(&txn, &c, ReleaseReason::ForceReleased, Utc::now()).await?;
    record(
        &txn,
        league.row.id,
        admin.discord_user_id,
        LeagueAction::ForceReleased,
        &class,
        Some(number),
        Some(u64_from_db(c.discord_user_id)),
        format!("force-released #{number}: {}", reason.trim()),
    )
    .await?;
    write(
        outbox,
        &txn,
        released_event(
            league,
            &c,
            admin.discord_user_id,
            ReleaseReason::ForceReleased,
        ),
    )
    .await?;
    txn.commit().await?;
    outbox.wake();
    Ok(c)
}

/// An admin gives (`class`, `number`) to `to`, taking it from its holder if any (reserved
/// numbers included: admins assign those; the per-member limit does not bind admins).
///
/// Errors: not an admin, out of range, unknown class.
pub async fn reassign(
    db: &DatabaseConnection,
    outbox: &Outbox,
    league: &League,
    admin: &Member,
    class: &str,
    number: i32,
    to: u64,
) -> Result<claim::Model, LeagueError> {
    league.require_admin(admin)?;
    let class = league.class(class)?;
    if number < league.row.number_min || number > league.row.number_max {
        return Err(LeagueError::Invalid(format!(
            "#{number} is outside this league's numbers ({}–{}).",
            league.row.number_min, league.row.number_max
        )));
    }
    let txn = platform::db::begin_write(db).await?;
    let previous = holder(&txn, league, &class, number).await?;
    if let Some(p) = &previous {
        if u64_from_db(p.discord_user_id) == to {
            return Err(LeagueError::Invalid(format!(
                "<@{to}> already holds #{number}."
            )));
        }
        end(&txn, p, ReleaseReason::Reassigned, Utc::now()).await?;
        write(
            outbox,
            &txn,
            released_event(league, p, admin.discord_user_id, ReleaseReason::Reassigned),
        )
        .await?;
    }
    let c = insert_claim(db, &txn, league, &class, number, to).await?;
    record(
        &txn,
        league.row.id,
        admin.discord_user_id,
        LeagueAction::Reassigned,
        &class,
        Some(number),
        Some(to),
        match &previous {
            Some(p) => format!(
                "reassigned #{number} from <@{}> to <@{to}>",
                u64_from_db(p.discord_user_id)
            ),
            None => format!("assigned #{number} to <@{to}>"),
        },
    )
    .await?;
    write(
        outbox,
        &txn,
        claimed_event(league, &c, admin.discord_user_id),
    )
    .await?;
    txn.commit().await?;
    outbox.wake();
    Ok(c)
}

/// `member` links iRacing customer `cust_id` (replacing an earlier link of theirs).
///
/// Errors: another member of the league linked that account.
pub async fn link(
    db: &DatabaseConnection,
    league: &League,
    member: &Member,
    cust_id: u64,
) -> Result<link::Model, LeagueError> {
    if cust_id == 0 || cust_id > 99_999_999 {
        return Err(LeagueError::Invalid(
            "An iRacing customer id is the number on your iRacing profile (e.g. 123456).".into(),
        ));
    }
    let txn = platform::db::begin_write(db).await?;
    let cust = i64::try_from(cust_id).unwrap_or_default();
    let taken = link::Entity::find()
        .filter(link::Column::LeagueId.eq(league.row.id))
        .filter(link::Column::IracingCustId.eq(cust))
        .one(&txn)
        .await?;
    if let Some(other) = taken.filter(|l| u64_from_db(l.discord_user_id) != member.discord_user_id)
    {
        return Err(LeagueError::Invalid(format!(
            "iRacing account {cust_id} is already linked by <@{}>; an admin can sort it out.",
            u64_from_db(other.discord_user_id)
        )));
    }
    link::Entity::delete_many()
        .filter(link::Column::LeagueId.eq(league.row.id))
        .filter(link::Column::DiscordUserId.eq(u64_to_db(member.discord_user_id)))
        .exec(&txn)
        .await?;
    let row = link::ActiveModel {
        league_id: Set(league.row.id),
        discord_user_id: Set(u64_to_db(member.discord_user_id)),
        iracing_cust_id: Set(cust),
        iracing_name: Set(None),
        linked_at: Set(Utc::now()),
        ..Default::default()
    };
    let row = match row.insert(&txn).await {
        Ok(row) => row,
        Err(error) if platform::db::is_unique_violation(&error) => {
            return Err(LeagueError::Invalid(format!(
                "iRacing account {cust_id} was just linked by someone else."
            )));
        }
        Err(error) => return Err(error.into()),
    };
    // Claims wait for the next sync to be verified again.
    claim::Entity::update_many()
        .col_expr(
            claim::Column::Verified,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(claim::Column::LeagueId.eq(league.row.id))
        .filter(claim::Column::DiscordUserId.eq(u64_to_db(member.discord_user_id)))
        .exec(&txn)
        .await?;
    record(
        &txn,
        league.row.id,
        member.discord_user_id,
        LeagueAction::Linked,
        "",
        None,
        None,
        format!("linked iRacing account {cust_id}"),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A claim with its holder's iRacing link, for the roster.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The claim.
    pub claim: claim::Model,
    /// The holder's link.
    pub link: Option<link::Model>,
}

/// One page (from 0) of the roster, by class and number, and the total number of claims.
///
/// Errors: the database failed.
pub async fn roster<C: ConnectionTrait>(
    conn: &C,
    league: &League,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Entry>, u64), DbErr> {
    let query = claim::Entity::find()
        .filter(claim::Column::LeagueId.eq(league.row.id))
        .order_by_asc(claim::Column::Class)
        .order_by_asc(claim::Column::Number);
    let total = query.clone().count(conn).await?;
    let claims = query
        .offset(page.saturating_mul(per_page))
        .limit(per_page)
        .all(conn)
        .await?;
    let links = link::Entity::find()
        .filter(link::Column::LeagueId.eq(league.row.id))
        .all(conn)
        .await?;
    Ok((
        claims
            .into_iter()
            .map(|claim| Entry {
                link: links
                    .iter()
                    .find(|l| l.discord_user_id == claim.discord_user_id)
                    .cloned(),
                claim,
            })
            .collect(),
        total,
    ))
}

/// Up to `limit` free numbers of `class` whose digits start with `prefix` (all when empty).
///
/// Errors: an unknown class, or the database failed.
pub async fn available<C: ConnectionTrait>(
    conn: &C,
    league: &League,
    class: &str,
    prefix: &str,
    limit: usize,
) -> Result<Vec<i32>, LeagueError> {
    let class = league.class(class)?;
    let taken: BTreeSet<i32> = claim::Entity::find()
        .filter(claim::Column::LeagueId.eq(league.row.id))
        .filter(claim::Column::Class.eq(class))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| c.number)
        .collect();
    let prefix = prefix.trim().trim_start_matches('#');
    Ok((league.row.number_min..=league.row.number_max)
        .filter(|n| !taken.contains(n) && !league.reserved.contains(n))
        .filter(|n| n.to_string().starts_with(prefix))
        .take(limit)
        .collect())
}

/// Who held (`class`, `number`) before, newest first.
///
/// Errors: the database failed.
pub async fn past_holders<C: ConnectionTrait>(
    conn: &C,
    league: &League,
    class: &str,
    number: i32,
) -> Result<Vec<history::Model>, DbErr> {
    history::Entity::find()
        .filter(history::Column::LeagueId.eq(league.row.id))
        .filter(history::Column::Class.eq(class))
        .filter(history::Column::Number.eq(number))
        .order_by_desc(history::Column::ReleasedAt)
        .limit(20)
        .all(conn)
        .await
}

/// The newest `limit` audit rows.
///
/// Errors: not an admin, or the database failed.
pub async fn audit_log<C: ConnectionTrait>(
    conn: &C,
    league: &League,
    admin: &Member,
    limit: u64,
) -> Result<Vec<audit::Model>, LeagueError> {
    league.require_admin(admin)?;
    Ok(audit::Entity::find()
        .filter(audit::Column::LeagueId.eq(league.row.id))
        .order_by_desc(audit::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// `member` offers their (`class`, `number`) for `partner`'s (`partner_class`,
/// `partner_number`); the partner confirms with [`answer_trade`].
///
/// Errors: either number is not held by the one named, or it is the same member.
#[allow(clippy::too_many_arguments)]
pub async fn propose_trade(
    db: &DatabaseConnection,
    league: &League,
    member: &Member,
    class: &str,
    number: i32,
    partner: u64,
    partner_class: &str,
    partner_number: i32,
) -> Result<trade::Model, LeagueError> {
    if partner == member.discord_user_id {
        return Err(LeagueError::Invalid(
            "You cannot trade with yourself.".into(),
        ));
    }
    let class = league.class(class)?;
    let partner_class = league.class(partner_class)?;
    let mine = holder(db, league, &class, number).await?;
    if mine.is_none_or(|c| u64_from_db(c.discord_user_id) != member.discord_user_id) {
        return Err(LeagueError::Invalid(format!("You do not hold #{number}.")));
    }
    let theirs = holder(db, league, &partner_class, partner_number).await?;
    if theirs.is_none_or(|c| u64_from_db(c.discord_user_id) != partner) {
        return Err(LeagueError::Invalid(format!(
            "<@{partner}> does not hold #{partner_number}."
        )));
    }
    let now = Utc::now();
    let txn = db.begin().await?;
    let row = trade::ActiveModel {
        league_id: Set(league.row.id),
        proposer: Set(u64_to_db(member.discord_user_id)),
        proposer_class: Set(class.clone()),
        proposer_number: Set(number),
        partner: Set(u64_to_db(partner)),
        partner_class: Set(partner_class),
        partner_number: Set(partner_number),
        state: Set(TradeState::Proposed),
        created_at: Set(now),
        expires_at: Set(now + TRADE_TTL),
        decided_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(
        &txn,
        league.row.id,
        member.discord_user_id,
        LeagueAction::TradeProposed,
        &class,
        Some(number),
        Some(partner),
        format!("offered #{number} for #{partner_number} (trade {})", row.id),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The partner accepts or declines trade `id`, or the proposer cancels it (`accept` false).
/// Accepting swaps the two numbers in one transaction, if both are still held as offered.
///
/// Errors: not a party, already answered, expired, or a number changed hands meanwhile.
pub async fn answer_trade(
    db: &DatabaseConnection,
    outbox: &Outbox,
    league: &League,
    member: &Member,
    id: i64,
    accept: bool,
) -> Result<trade::Model, LeagueError> {
    let txn = platform::db::begin_write(db).await?;
    let Some(t) = trade::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|t| t.league_id == league.row.id)
    else {
        return Err(LeagueError::NotFound("That trade does not exist.".into()));
    };
    let me = u64_to_db(member.discord_user_id);
    if me != t.partner && me != t.proposer {
        return Err(LeagueError::Forbidden("That trade is not yours.".into()));
    }
    if t.state != TradeState::Proposed {
        return Err(LeagueError::Invalid(
            "That trade was already answered.".into(),
        ));
    }
    if accept && me != t.partner {
        return Err(LeagueError::Forbidden(
            "Only the member asked can accept a trade.".into(),
        ));
    }
    let now = Utc::now();
    let close = |state: TradeState| {
        let mut active = t.clone().into_active_model();
        active.state = Set(state);
        active.decided_at = Set(Some(now));
        active
    };
    if now > t.expires_at {
        let closed = close(TradeState::Expired).update(&txn).await?;
        txn.commit().await?;
        let _ = closed;
        return Err(LeagueError::Invalid("That trade expired.".into()));
    }
    if !accept {
        let state = if me == t.partner {
            TradeState::Declined
        } else {
            TradeState::Cancelled
        };
        let closed = close(state).update(&txn).await?;
        record(
            &txn,
            league.row.id,
            member.discord_user_id,
            LeagueAction::TradeClosed,
            &t.proposer_class,
            Some(t.proposer_number),
            None,
            format!(
                "trade {id} {}",
                if me == t.partner {
                    "declined"
                } else {
                    "cancelled"
                }
            ),
        )
        .await?;
        txn.commit().await?;
        return Ok(closed);
    }
    let a = holder(&txn, league, &t.proposer_class, t.proposer_number).await?;
    let b = holder(&txn, league, &t.partner_class, t.partner_number).await?;
    let (Some(a), Some(b)) = (
        a.filter(|c| c.discord_user_id == t.proposer),
        b.filter(|c| c.discord_user_id == t.partner),
    ) else {
        close(TradeState::Expired).update(&txn).await?;
        txn.commit().await?;
        return Err(LeagueError::Invalid(
            "One of the numbers changed hands since the offer; the trade is void.".into(),
        ));
    };
    // Swap: each number's history closes and a new claim starts for the other member.
    for (from, to) in [(&a, t.partner), (&b, t.proposer)] {
        history::ActiveModel {
            league_id: Set(from.league_id),
            class: Set(from.class.clone()),
            number: Set(from.number),
            discord_user_id: Set(from.discord_user_id),
            claimed_at: Set(from.claimed_at),
            released_at: Set(now),
            reason: Set(ReleaseReason::Traded),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut active = from.clone().into_active_model();
        active.discord_user_id = Set(to);
        active.claimed_at = Set(now);
        active.verified = Set(false);
        active.verified_at = Set(None);
        let swapped = active.update(&txn).await?;
        write(
            outbox,
            &txn,
            released_event(league, from, member.discord_user_id, ReleaseReason::Traded),
        )
        .await?;
        write(
            outbox,
            &txn,
            claimed_event(league, &swapped, member.discord_user_id),
        )
        .await?;
    }
    let done = close(TradeState::Done).update(&txn).await?;
    record(
        &txn,
        league.row.id,
        member.discord_user_id,
        LeagueAction::Traded,
        &t.proposer_class,
        Some(t.proposer_number),
        Some(u64_from_db(t.proposer)),
        format!(
            "trade {id}: <@{}> now holds #{}, <@{}> holds #{}",
            u64_from_db(t.partner),
            t.proposer_number,
            u64_from_db(t.proposer),
            t.partner_number
        ),
    )
    .await?;
    txn.commit().await?;
    outbox.wake();
    Ok(done)
}

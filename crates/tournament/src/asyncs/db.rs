//! The async tournament tables as SeaORM entities (migration
//! `m20261203_000010_async_tournaments`) and the closed sets stored in them.

use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

pub use super::access::Role;
pub use super::scoring::RunStatus;

macro_rules! closed_set {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)+ }) => {
        $(#[$meta])*
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            Serialize,
            Deserialize,
            sea_orm::EnumIter,
            sea_orm::DeriveActiveEnum,
        )]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(45))")]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $value)] $variant,)+
        }

        impl $name {
            /// The stored (and JSON) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                }
            }

            /// The value named `text`, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($value => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

closed_set! {
    /// A run's review (spec §3.6; one vocabulary — upstream also knew `accepted`, and showed
    /// `rejected` as "Pending Second Review").
    ReviewStatus {
        /// Not reviewed yet.
        Pending = "pending",
        /// The VOD checks out.
        Approved = "approved",
        /// The run does not stand.
        Rejected = "rejected",
    }
}

closed_set! {
    /// The rules text and post-race form of a tournament (spec §3.3).
    Customization {
        /// Unlisted YouTube VOD and notes.
        Default = "default",
        /// No streaming; IGT and collection rate screenshots.
        Gmpmt2023 = "gmpmt2023",
    }
}

closed_set! {
    /// A live qualifier race's state (spec §3.10).
    LiveStatus {
        /// Created; its room not started.
        Scheduled = "scheduled",
        /// The room started; its runs are in progress.
        InProgress = "in_progress",
        /// Recorded.
        Finished = "finished",
    }
}

closed_set! {
    /// What the audit log records (spec §3.12; upstream left the unaudited actions out).
    AuditAction {
        /// The tournament was created.
        Create = "create",
        /// Pools or seeds were added.
        AddSeed = "add_seed",
        /// A run's thread was opened.
        CreateThread = "create_thread",
        /// The runner pressed Ready.
        RaceReady = "race_ready",
        /// The countdown began.
        RaceCountdown = "race_countdown",
        /// The run started (after GO).
        RaceStarted = "race_started",
        /// The runner finished.
        RaceFinish = "race_finish",
        /// The runner forfeited.
        RunnerForfeit = "runner_forfeit",
        /// A timer forfeited the run.
        TimeoutForfeit = "timeout_forfeit",
        /// A run was given more time.
        ExtendTimeout = "extend_timeout",
        /// The runner reattempted a run.
        Reattempt = "reattempt",
        /// A reviewer reviewed a run.
        Review = "review",
        /// The owner corrected a run.
        UpdateRun = "update_run",
        /// The owner closed the tournament.
        Close = "close",
        /// Admin or mod granted.
        Permissions = "permissions",
        /// A live race was created or recorded.
        LiveRace = "live_race",
        /// Pars and scores were recalculated by an admin.
        CalculateScores = "calculate_scores",
    }
}

/// `async_tournaments`.
pub mod tournament {
    use sea_orm::entity::prelude::*;

    use super::Customization;

    /// An async tournament, one per Discord channel.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "async_tournaments")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Name.
        pub name: String,
        /// The guild.
        pub guild_id: i64,
        /// The channel of the "Start new async run" post (unique).
        pub channel_id: i64,
        /// The latest such post.
        pub message_id: Option<i64>,
        /// The owner (may close it and correct runs).
        pub owner_discord_id: i64,
        /// Open for runs; results are public once closed.
        pub active: bool,
        /// Reattempts per player (enforced; upstream stored it and allowed exactly one).
        pub allowed_reattempts: i32,
        /// Runs per pool per player.
        pub runs_per_pool: i32,
        /// Rules text and post-race form.
        pub customization: Customization,
        /// Created (the account-age gate counts back from it).
        pub created_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `async_pools`.
pub mod pool {
    use sea_orm::entity::prelude::*;

    /// A named pool of seeds rolled from one preset.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "async_pools")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tournament.
        pub tournament_id: i64,
        /// Name (unique in the tournament).
        pub name: String,
        /// The seedgen preset its seeds are rolled from.
        pub preset: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `async_permalinks`.
pub mod permalink {
    use sea_orm::entity::prelude::*;

    /// One seed of a pool.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "async_permalinks")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The pool.
        pub pool_id: i64,
        /// The seed's URL.
        pub url: String,
        /// The file-select code, `a/b/c/d/e`.
        pub notes: String,
        /// Raced live (never handed out for an async run).
        pub live_race: bool,
        /// Par in seconds, once calculated.
        pub par_time: Option<f64>,
        /// When par was calculated.
        pub par_updated_at: Option<ChronoDateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `async_runs`.
pub mod run {
    use sea_orm::entity::prelude::*;

    use super::{ReviewStatus, RunStatus};

    /// One attempt of a player on a permalink (a Discord thread run or a live race run).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "async_runs")]
    pub struct Model {
        /// Row id (the "Race ID").
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tournament.
        pub tournament_id: i64,
        /// The permalink's pool.
        pub pool_id: i64,
        /// The seed.
        pub permalink_id: i64,
        /// The player (api user id).
        pub user_id: i64,
        /// The player's Discord id (thread runs).
        pub discord_user_id: Option<i64>,
        /// The run's private thread (thread runs).
        pub thread_id: Option<i64>,
        /// The live race (live runs).
        pub live_race_id: Option<i64>,
        /// State.
        pub status: RunStatus,
        /// The thread was opened.
        pub thread_open_time: Option<ChronoDateTimeUtc>,
        /// A pending run is forfeited at this time.
        pub thread_timeout_time: Option<ChronoDateTimeUtc>,
        /// The pending-timeout warning was posted.
        pub warned_at: Option<ChronoDateTimeUtc>,
        /// Ready was pressed (the countdown began).
        pub ready_at: Option<ChronoDateTimeUtc>,
        /// Started (after GO).
        pub start_time: Option<ChronoDateTimeUtc>,
        /// Finished.
        pub end_time: Option<ChronoDateTimeUtc>,
        /// Replaced by a reattempt.
        pub reattempted: bool,
        /// Why.
        #[sea_orm(column_type = "Text", nullable)]
        pub reattempt_reason: Option<String>,
        /// The runner's notes (markdown).
        #[sea_orm(column_type = "Text", nullable)]
        pub runner_notes: Option<String>,
        /// The VOD.
        pub runner_vod_url: Option<String>,
        /// Collection rate (`gmpmt2023`).
        pub run_collection_rate: Option<String>,
        /// In-game time (`gmpmt2023`).
        pub run_igt: Option<String>,
        /// Review.
        pub review_status: ReviewStatus,
        /// The reviewer (api user id), set when claimed.
        pub reviewed_by: Option<i64>,
        /// Reviewed.
        pub reviewed_at: Option<ChronoDateTimeUtc>,
        /// The reviewer's notes.
        #[sea_orm(column_type = "Text", nullable)]
        pub reviewer_notes: Option<String>,
        /// Score, once calculated.
        pub score: Option<f64>,
        /// When scored.
        pub score_updated_at: Option<ChronoDateTimeUtc>,
        /// Created.
        pub created_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `async_live_races`.
pub mod live_race {
    use sea_orm::entity::prelude::*;

    use super::LiveStatus;

    /// A racetime.gg qualifier race of a pool's seed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "async_live_races")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tournament.
        pub tournament_id: i64,
        /// The pool its seed joins.
        pub pool_id: i64,
        /// Its seed, once rolled.
        pub permalink_id: Option<i64>,
        /// The race room (`category/room`).
        pub racetime_slug: Option<String>,
        /// The SpeedGaming episode.
        pub episode_id: Option<i64>,
        /// Title.
        pub match_title: Option<String>,
        /// State.
        pub status: LiveStatus,
        /// Created.
        pub created_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `async_grants`.
pub mod grant {
    use sea_orm::entity::prelude::*;

    use super::Role;

    /// Admin or mod, for a user or for everyone holding a Discord role.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "async_grants")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tournament.
        pub tournament_id: i64,
        /// The grant.
        pub role: Role,
        /// To this user (api user id) …
        pub user_id: Option<i64>,
        /// … or to this Discord role's members.
        pub discord_role_id: Option<i64>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `async_whitelist`.
pub mod whitelist {
    use sea_orm::entity::prelude::*;

    /// A player excused from the account-age gate.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "async_whitelist")]
    pub struct Model {
        /// The tournament.
        #[sea_orm(primary_key, auto_increment = false)]
        pub tournament_id: i64,
        /// The player (api user id).
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `async_audit`.
pub mod audit {
    use sea_orm::entity::prelude::*;

    use super::AuditAction;

    /// One line of a tournament's audit log.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "async_audit")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tournament.
        pub tournament_id: i64,
        /// Who (api user id); none for the system.
        pub user_id: Option<i64>,
        /// What.
        pub action: AuditAction,
        /// Details, worded as upstream worded them.
        #[sea_orm(column_type = "Text")]
        pub details: String,
        /// When.
        pub created_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `async_players`.
pub mod player {
    use sea_orm::entity::prelude::*;

    /// A player's identity as api last told it (names for the leaderboard and review pages).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "async_players")]
    pub struct Model {
        /// api user id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        /// Discord id.
        pub discord_user_id: Option<i64>,
        /// racetime.gg id.
        pub racetime_user_id: Option<String>,
        /// Display name.
        pub display_name: String,
        /// Twitch name.
        pub twitch_name: Option<String>,
        /// Last refreshed.
        pub updated_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

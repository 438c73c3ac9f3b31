//! The league tables as SeaORM entities (migration `m20261201_000004_leagues`) and the closed
//! sets stored in them.

use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};

/// Why someone stopped holding a number.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "snake_case")]
pub enum ReleaseReason {
    /// The member gave it up.
    #[sea_orm(string_value = "released")]
    Released,
    /// An admin took it away.
    #[sea_orm(string_value = "force_released")]
    ForceReleased,
    /// An admin gave it to someone else.
    #[sea_orm(string_value = "reassigned")]
    Reassigned,
    /// Swapped in a trade.
    #[sea_orm(string_value = "traded")]
    Traded,
}

/// Where a trade stands.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "snake_case")]
pub enum TradeState {
    /// Waiting for the partner.
    #[sea_orm(string_value = "proposed")]
    Proposed,
    /// Both confirmed: the numbers were swapped.
    #[sea_orm(string_value = "done")]
    Done,
    /// The partner said no.
    #[sea_orm(string_value = "declined")]
    Declined,
    /// The proposer took it back.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Nobody answered in time, or a number changed hands meanwhile.
    #[sea_orm(string_value = "expired")]
    Expired,
}

/// What an audit row records.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(30))")]
#[serde(rename_all = "snake_case")]
pub enum LeagueAction {
    /// The league was set up or its settings changed.
    #[sea_orm(string_value = "configured")]
    Configured,
    /// A member claimed a number.
    #[sea_orm(string_value = "claimed")]
    Claimed,
    /// A member released a number.
    #[sea_orm(string_value = "released")]
    Released,
    /// An admin released someone's number.
    #[sea_orm(string_value = "force_released")]
    ForceReleased,
    /// An admin gave a number to a member.
    #[sea_orm(string_value = "reassigned")]
    Reassigned,
    /// A member linked their iRacing account.
    #[sea_orm(string_value = "linked")]
    Linked,
    /// A trade was proposed.
    #[sea_orm(string_value = "trade_proposed")]
    TradeProposed,
    /// A trade was carried out.
    #[sea_orm(string_value = "traded")]
    Traded,
    /// A trade was declined, cancelled or expired.
    #[sea_orm(string_value = "trade_closed")]
    TradeClosed,
    /// The roster was checked against iRacing.
    #[sea_orm(string_value = "synced")]
    Synced,
}

/// `leagues`.
pub mod league {
    use sea_orm::entity::prelude::*;

    /// A league: a guild's numbering, with its rules.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "leagues")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The Discord guild (stored as i64 bits).
        pub guild_id: i64,
        /// Unique in the guild: `main`, `gt3`, ...
        pub slug: String,
        /// Shown name.
        pub name: String,
        /// The iRacing league whose roster is checked.
        pub iracing_league_id: Option<i64>,
        /// Lowest number.
        pub number_min: i32,
        /// Highest number.
        pub number_max: i32,
        /// Car classes as a JSON list; empty: one unnamed class.
        #[sea_orm(column_type = "Text")]
        pub classes: String,
        /// Numbers a member may hold at once (in all classes).
        pub max_per_member: i32,
        /// Numbers nobody may claim, as a JSON list.
        #[sea_orm(column_type = "Text")]
        pub reserved: String,
        /// Members holding this role are the league's admins (besides server managers).
        pub admin_role_id: Option<i64>,
        /// Where claims and releases are announced.
        pub announce_channel_id: Option<i64>,
        /// Hours between automatic syncs; 0: only on demand.
        pub sync_hours: i32,
        /// When the roster was last checked.
        pub last_sync_at: Option<ChronoDateTimeUtc>,
        /// The last check's report (JSON).
        #[sea_orm(column_type = "Text", nullable)]
        pub last_sync_report: Option<String>,
        /// Created.
        pub created_at: ChronoDateTimeUtc,
        /// Last changed.
        pub updated_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `league_links`.
pub mod link {
    use sea_orm::entity::prelude::*;

    /// A member's iRacing account in a league.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "league_links")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The league.
        pub league_id: i64,
        /// The member.
        pub discord_user_id: i64,
        /// Their iRacing customer id.
        pub iracing_cust_id: i64,
        /// Their iRacing name, once a sync saw it.
        pub iracing_name: Option<String>,
        /// When linked.
        pub linked_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `number_claims`.
pub mod claim {
    use sea_orm::entity::prelude::*;

    /// A number held now.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "number_claims")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The league.
        pub league_id: i64,
        /// The car class ("" for a league without classes).
        pub class: String,
        /// The number.
        pub number: i32,
        /// Who holds it.
        pub discord_user_id: i64,
        /// Since when.
        pub claimed_at: ChronoDateTimeUtc,
        /// iRacing shows this member with this number.
        pub verified: bool,
        /// When that was last seen.
        pub verified_at: Option<ChronoDateTimeUtc>,
        /// An admin's note.
        pub notes: Option<String>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `number_history`.
pub mod history {
    use sea_orm::entity::prelude::*;

    /// A number someone held, and until when.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "number_history")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The league.
        pub league_id: i64,
        /// The class.
        pub class: String,
        /// The number.
        pub number: i32,
        /// Who held it.
        pub discord_user_id: i64,
        /// From.
        pub claimed_at: ChronoDateTimeUtc,
        /// Until.
        pub released_at: ChronoDateTimeUtc,
        /// Why it ended.
        pub reason: super::ReleaseReason,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `number_trades`.
pub mod trade {
    use sea_orm::entity::prelude::*;

    /// Two members swapping numbers, once both agree.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "number_trades")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The league.
        pub league_id: i64,
        /// Who asked.
        pub proposer: i64,
        /// The proposer's number's class.
        pub proposer_class: String,
        /// The proposer's number.
        pub proposer_number: i32,
        /// Who is asked.
        pub partner: i64,
        /// The partner's number's class.
        pub partner_class: String,
        /// The partner's number.
        pub partner_number: i32,
        /// Where it stands.
        pub state: super::TradeState,
        /// Proposed at.
        pub created_at: ChronoDateTimeUtc,
        /// Void after.
        pub expires_at: ChronoDateTimeUtc,
        /// Answered at.
        pub decided_at: Option<ChronoDateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `league_audit`.
pub mod audit {
    use sea_orm::entity::prelude::*;

    /// One action in a league.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "league_audit")]
    pub struct Model {
        /// Row id (the order of events).
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The league.
        pub league_id: i64,
        /// Who did it (0: the sync job).
        pub actor_discord_id: i64,
        /// What.
        pub action: super::LeagueAction,
        /// The class concerned ("" when none).
        pub class: String,
        /// The number concerned.
        pub number: Option<i32>,
        /// The member concerned, when not the actor.
        pub subject_discord_id: Option<i64>,
        /// Details in words.
        #[sea_orm(column_type = "Text")]
        pub detail: String,
        /// When.
        pub at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

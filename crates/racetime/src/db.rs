//! racetime's tables as SeaORM entities (created by `racetime-migration`).

use racetime_client::RaceStatus;

/// A race status as stored: the racetime.gg wire value (`in_progress`, ...) in a string
/// column, typed in code (an unknown value is kept as [`RaceStatus::Other`]).
#[derive(Clone, Debug, PartialEq, Eq, sea_orm::DeriveValueType)]
#[sea_orm(value_type = "String")]
pub struct StoredStatus(pub RaceStatus);

impl std::fmt::Display for StoredStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl std::str::FromStr for StoredStatus {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(RaceStatus::parse(s)))
    }
}

/// `racetime_rooms`: one row per followed room; `state` is the handler state as JSON
/// ([`crate::state::RoomState`]), `data` the latest race data.
pub mod room {
    use sea_orm::entity::prelude::*;

    /// A followed room.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "racetime_rooms")]
    pub struct Model {
        /// `{category}/{slug}`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        /// The category slug.
        pub category: String,
        /// The race status as last stored.
        pub status: super::StoredStatus,
        /// The race data version last stored.
        pub version: i64,
        /// The handler state (JSON of `RoomState`).
        #[sea_orm(column_type = "Text")]
        pub state: String,
        /// The latest race data (JSON).
        #[sea_orm(column_type = "Text")]
        pub data: String,
        /// When the row was written.
        pub updated_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `racetime_konot_games`: a KONOT elimination series.
pub mod konot_game {
    use sea_orm::entity::prelude::*;

    /// One KONOT series.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "racetime_konot_games")]
    pub struct Model {
        /// The series id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Its category.
        pub category: String,
        /// When it started.
        pub created_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `racetime_override_whitelist`: who may `!override` the stream requirement, until when.
pub mod override_whitelist {
    use sea_orm::entity::prelude::*;

    /// Someone allowed to lift the stream requirement.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "racetime_override_whitelist")]
    pub struct Model {
        /// Their racetime.gg user id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub racetime_id: String,
        /// The category it applies to.
        #[sea_orm(primary_key, auto_increment = false)]
        pub category: String,
        /// When the exemption ends; none: never.
        pub expires: Option<ChronoDateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

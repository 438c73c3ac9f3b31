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

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "racetime_rooms")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        pub category: String,
        pub status: super::StoredStatus,
        pub version: i64,
        #[sea_orm(column_type = "Text")]
        pub state: String,
        #[sea_orm(column_type = "Text")]
        pub data: String,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `racetime_room_leases`: which process handles a room, until when.
pub mod lease {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "racetime_room_leases")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub room: String,
        pub owner: String,
        pub expires_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `racetime_open_requests`: OpenRoom intents, recorded before `startrace` is sent.
pub mod open_request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "racetime_open_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub idempotency_key: String,
        pub category: String,
        /// Changes with every attempt; an attempt owns the row while its marker is stored.
        pub marker: String,
        /// `pending` (startrace may be in flight or its outcome unknown) or `opened`.
        pub state: String,
        pub room: Option<String>,
        #[sea_orm(column_type = "Text")]
        pub request: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub error: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `racetime_konot_games`: a KONOT elimination series.
pub mod konot_game {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "racetime_konot_games")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub category: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `racetime_override_whitelist`: who may `!override` the stream requirement, until when.
pub mod override_whitelist {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "racetime_override_whitelist")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub racetime_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub category: String,
        pub expires: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

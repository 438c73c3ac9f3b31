//! racetime's tables as SeaORM entities (created by `racetime-migration`).

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
        pub status: String,
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

//! seedgen's tables as SeaORM entities (created by `seedgen-migration`).

/// `preset_namespaces`: one namespace per Discord user.
pub mod namespace {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "preset_namespaces")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub name: String,
        #[sea_orm(unique)]
        pub discord_user_id: i64,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `preset_namespace_collaborators`: users who may edit a namespace besides its owner.
pub mod collaborator {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "preset_namespace_collaborators")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub namespace_id: i64,
        pub discord_user_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `presets`: namespaced preset YAML as uploaded.
pub mod preset {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "presets")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub randomizer: String,
        pub preset_name: String,
        pub namespace_id: i64,
        #[sea_orm(column_type = "Text")]
        pub content: String,
        pub modified: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `audit_generated_games`: one row per generated seed.
pub mod audit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_generated_games")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub randomizer: String,
        pub hash_id: Option<String>,
        pub permalink: String,
        pub settings: Option<Json>,
        /// `preset` or `mystery`.
        pub gentype: String,
        /// Preset or weightset name (with namespace).
        pub genoption: String,
        pub namespace: Option<String>,
        pub provider: String,
        pub surface: String,
        pub requested_by: String,
        pub customizer: bool,
        pub doors: bool,
        pub avianart: bool,
        pub rng_seed: Option<i64>,
        pub spoiler_url: Option<String>,
        pub attempt_count: i32,
        pub latency_ms: i64,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `generate_requests`: `Generate` idempotency keys and their stored replies.
pub mod request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "generate_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub idempotency_key: String,
        /// `pending` or `done`.
        pub state: String,
        #[sea_orm(column_type = "Text", nullable)]
        pub reply: Option<String>,
        pub audit_id: Option<i64>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

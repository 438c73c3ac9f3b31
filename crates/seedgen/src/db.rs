//! seedgen's tables as SeaORM entities (created by `seedgen-migration`).

/// `preset_namespaces`: one namespace per Discord user.
pub mod namespace {
    use sea_orm::entity::prelude::*;

    /// A preset namespace: one per Discord user.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "preset_namespaces")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The namespace name (slug of the owner's name).
        #[sea_orm(unique)]
        pub name: String,
        /// The owner's Discord id.
        #[sea_orm(unique)]
        pub discord_user_id: i64,
        /// When it was created.
        pub created_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `preset_namespace_collaborators`: users who may edit a namespace besides its owner.
pub mod collaborator {
    use sea_orm::entity::prelude::*;

    /// Someone else allowed to save presets in a namespace.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "preset_namespace_collaborators")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The namespace.
        pub namespace_id: i64,
        /// The collaborator's Discord id.
        pub discord_user_id: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `presets`: namespaced preset YAML as uploaded.
pub mod preset {
    use sea_orm::entity::prelude::*;

    /// A preset saved in a namespace.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "presets")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The randomizer it is for.
        pub randomizer: String,
        /// Its name within the namespace.
        pub preset_name: String,
        /// The namespace.
        pub namespace_id: i64,
        /// The preset YAML.
        #[sea_orm(column_type = "Text")]
        pub content: String,
        /// When it was last saved.
        pub modified: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `audit_generated_games`: one row per generated seed.
pub mod audit {
    use sea_orm::entity::prelude::*;

    /// A generated game (the audit trail).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_generated_games")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The randomizer.
        pub randomizer: String,
        /// The provider's hash, when it has one.
        pub hash_id: Option<String>,
        /// The permalink.
        pub permalink: String,
        /// The settings sent (none for masked mystery rolls).
        pub settings: Option<Json>,
        /// `preset` or `mystery`.
        pub gentype: String,
        /// Preset or weightset name (with namespace).
        pub genoption: String,
        /// The preset's namespace, when namespaced.
        pub namespace: Option<String>,
        /// The provider that made it.
        pub provider: String,
        /// Where it was asked for: `discord`, `racetime`, `api`, ...
        pub surface: String,
        /// Who asked (`discord:<id>`, `racetime:<room>`, ...).
        pub requested_by: String,
        /// Sent to alttpr.com's customizer.
        pub customizer: bool,
        /// A Door Randomizer seed.
        pub doors: bool,
        /// An avianart seed.
        pub avianart: bool,
        /// The RNG seed of the roll (bit-cast from u64).
        pub rng_seed: Option<i64>,
        /// The stored spoiler log.
        pub spoiler_url: Option<String>,
        /// Provider attempts it took.
        pub attempt_count: i32,
        /// How long generation took, in milliseconds.
        pub latency_ms: i64,
        /// When it was generated.
        pub created_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

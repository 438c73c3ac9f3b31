//! The election tables as SeaORM entities (migration `m20261201_000005_elections`).

/// `elections`.
pub mod election {
    use sea_orm::entity::prelude::*;

    /// A ranked-choice election.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "elections")]
    pub struct Model {
        /// Row id (the election id in URLs and buttons).
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The guild.
        pub guild_id: i64,
        /// The channel of its post.
        pub channel_id: i64,
        /// Its post, once posted.
        pub message_id: Option<i64>,
        /// Who created it (only they may end it).
        pub owner_discord_id: i64,
        /// Title.
        pub title: String,
        /// Description.
        #[sea_orm(column_type = "Text")]
        pub description: String,
        /// Seats up for election.
        pub seats: i32,
        /// Only members with this role may vote (a private election).
        pub voter_role_id: Option<i64>,
        /// The post shows how many ballots were cast.
        pub show_vote_count: bool,
        /// Open for ballots.
        pub active: bool,
        /// The count's transcript, once ended.
        #[sea_orm(column_type = "Text", nullable)]
        pub results: Option<String>,
        /// Created.
        pub created_at: ChronoDateTimeUtc,
        /// Ended.
        pub ended_at: Option<ChronoDateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `election_candidates`.
pub mod candidate {
    use sea_orm::entity::prelude::*;

    /// A candidate.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "election_candidates")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The election.
        pub election_id: i64,
        /// Name (unique in the election).
        pub name: String,
        /// Order on the ballot.
        pub position: i32,
        /// Won a seat.
        pub winner: bool,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `election_ballots`.
pub mod ballot {
    use sea_orm::entity::prelude::*;

    /// One voter's ranking.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "election_ballots")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The election.
        pub election_id: i64,
        /// The voter (one ballot each).
        pub voter_discord_id: i64,
        /// Candidate ids, best first, as a JSON list.
        #[sea_orm(column_type = "Text")]
        pub ranking: String,
        /// When cast.
        pub cast_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

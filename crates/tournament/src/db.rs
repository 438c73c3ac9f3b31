//! tournament's tables as SeaORM entities (created by `tournament-migration`), and the closed
//! sets stored in them.

use serde::{Deserialize, Serialize};

/// Where a tournament's matches come from.
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
pub enum ScheduleSource {
    /// Episodes of a SpeedGaming event, imported (spec §2).
    #[sea_orm(string_value = "speedgaming")]
    Speedgaming,
    /// Matches created by the organizers.
    #[sea_orm(string_value = "internal")]
    Internal,
}

/// A permission within one tournament.
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
pub enum Role {
    /// Manages the tournament: settings, matches, rooms.
    #[sea_orm(string_value = "organizer")]
    Organizer,
    /// Gatekeeps rooms (accepted and made monitor).
    #[sea_orm(string_value = "helper")]
    Helper,
}

/// Where a match's room stands.
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
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum RoomState {
    /// The binding is written; the room is being opened (or the opener died: retried with the
    /// same idempotency key, which returns the same room).
    #[sea_orm(string_value = "opening")]
    Opening,
    /// The room exists.
    #[sea_orm(string_value = "open")]
    Open,
    /// The room was cancelled on racetime.gg; a new generation may open another.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// The race finished.
    #[sea_orm(string_value = "finished")]
    Finished,
}

use sea_orm::sea_query::StringLen;

/// `tournaments`: the registry (spec §1.8).
pub mod tournament {
    use sea_orm::entity::prelude::*;

    /// One tournament's configuration.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tournaments")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tournament's slug (and SpeedGaming event slug by default).
        #[sea_orm(unique)]
        pub slug: String,
        /// Its name.
        pub name: String,
        /// Whether its jobs run.
        pub active: bool,
        /// Active from (inclusive), if set.
        pub starts_at: Option<ChronoDateTimeUtc>,
        /// Active until (exclusive), if set.
        pub ends_at: Option<ChronoDateTimeUtc>,
        /// Where matches come from.
        pub schedule_source: super::ScheduleSource,
        /// The SpeedGaming event slug.
        pub speedgaming_event: Option<String>,
        /// racetime.gg category.
        pub racetime_category: String,
        /// racetime.gg goal (a goal outside the category's list is sent as a custom goal).
        pub racetime_goal: String,
        /// [`crate::config::RoomProfile`] as JSON.
        #[sea_orm(column_type = "Text")]
        pub room_profile: String,
        /// The room opens this long before the race start, plus the stream delay.
        pub room_open_minutes_before: i32,
        /// Minutes of stream delay.
        pub stream_delay_minutes: i32,
        /// Players must have a linked racetime.gg account.
        pub require_racetime_link: bool,
        /// [`crate::config::SeedRoller`] as JSON.
        #[sea_orm(column_type = "Text")]
        pub seed_roller: String,
        /// Discord guild.
        pub guild_id: Option<i64>,
        /// Audit channel.
        pub audit_channel_id: Option<i64>,
        /// Commentary channel.
        pub commentary_channel_id: Option<i64>,
        /// Announcement channel.
        pub announce_channel_id: Option<i64>,
        /// Helper roles (JSON list of snowflakes as strings).
        #[sea_orm(column_type = "Text")]
        pub helper_role_ids: String,
        /// racetime.gg team slugs whose members are helpers, as a JSON array.
        pub helper_racetime_teams: String,
        /// The open race series (`config::OpenRace` as JSON); none for matches between players.
        #[sea_orm(column_type = "Text", nullable)]
        pub open_race: Option<String>,
        /// IANA zone for input and display.
        pub time_zone: String,
        /// Mention in front of player-check reports (e.g. `<@&123>`).
        pub audit_mention: Option<String>,
        /// A Discord scheduled event per upcoming match.
        pub scheduled_events: bool,
        /// Channel of the scheduling-needs embed.
        pub scheduling_needs_channel_id: Option<i64>,
        /// List tracker needs.
        pub scheduling_needs_tracker: bool,
        /// Crew language counted (default `en`).
        pub scheduling_needs_language: Option<String>,
        /// The settings form (`submissions::SettingsForm` as JSON).
        #[sea_orm(column_type = "Text", nullable)]
        pub settings_form: Option<String>,
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

/// `tournament_permissions`.
pub mod permission {
    use sea_orm::entity::prelude::*;

    /// A grant of a role to a user or a Discord role.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tournament_permissions")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tournament.
        pub tournament_id: i64,
        /// The role granted.
        pub role: super::Role,
        /// An api user.
        pub user_id: Option<i64>,
        /// A Discord role.
        pub discord_role_id: Option<i64>,
        /// Created.
        pub created_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `matches`: SpeedGaming episodes and internal matches.
pub mod r#match {
    use sea_orm::entity::prelude::*;

    /// One match.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "matches")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tournament.
        pub tournament_id: i64,
        /// Where it came from.
        pub source: super::ScheduleSource,
        /// The SpeedGaming episode id, or our own id for internal matches.
        pub external_id: String,
        /// The match title.
        pub title: String,
        /// Race start (UTC).
        pub scheduled_at: ChronoDateTimeUtc,
        /// Broadcast start, when it differs.
        pub broadcast_at: Option<ChronoDateTimeUtc>,
        /// [`crate::schedule::Player`]s as JSON.
        #[sea_orm(column_type = "Text")]
        pub players: String,
        /// Broadcast channel names as JSON.
        #[sea_orm(column_type = "Text")]
        pub channels: String,
        /// Per-match goal.
        pub goal_override: Option<String>,
        /// Per-match invitational flag.
        pub invitational_override: Option<bool>,
        /// Hash of what was imported, to see changes.
        pub content_hash: String,
        /// The audit channel was told about unlinked players.
        pub link_alerted: bool,
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

/// `match_rooms`: a match's race room binding.
pub mod match_room {
    use sea_orm::entity::prelude::*;

    /// One room of one game of a match.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "match_rooms")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The tournament.
        pub tournament_id: i64,
        /// The match.
        pub match_id: i64,
        /// The game of the match (1 for one-game matches).
        pub game_number: i32,
        /// 0, then one more for each room opened after a cancelled one.
        pub generation: i32,
        /// The OpenRoom idempotency key.
        #[sea_orm(unique)]
        pub idempotency_key: String,
        /// Where it stands.
        pub state: super::RoomState,
        /// `category/slug`.
        pub room: Option<String>,
        /// The room URL.
        pub room_url: Option<String>,
        /// racetime.gg ids invited (JSON list).
        #[sea_orm(column_type = "Text")]
        pub invited: String,
        /// The last failure, if any.
        #[sea_orm(column_type = "Text", nullable)]
        pub error: Option<String>,
        /// When the room was opened.
        pub opened_at: Option<ChronoDateTimeUtc>,
        /// The tournament seed's permalink, once rolled.
        pub seed_permalink: Option<String>,
        /// Its hash or file-select code.
        pub seed_hash: Option<String>,
        /// When it was rolled.
        pub seed_rolled_at: Option<ChronoDateTimeUtc>,
        /// The race result ([`crate::results::Standing`]s as JSON), once finished.
        #[sea_orm(column_type = "Text", nullable)]
        pub results: Option<String>,
        /// When the race ended.
        pub finished_at: Option<ChronoDateTimeUtc>,
        /// When the result may be announced (end + stream delay).
        pub result_publish_at: Option<ChronoDateTimeUtc>,
        /// The result was announced.
        pub result_published: bool,
        /// The open race announcement went to the series' webhook.
        pub webhook_posted: bool,
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

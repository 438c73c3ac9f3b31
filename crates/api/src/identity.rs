//! Users and their linked accounts (spec `discord-and-web.md` §0, `tournament.md` §5.5): one
//! user per person, found by its id, its Discord id or its racetime.gg id.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter,
};

/// The `users` entity.
pub mod user {
    use sea_orm::entity::prelude::*;

    /// One person.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        /// The user id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Their Discord account (bit-cast snowflake), once they logged in with Discord.
        #[sea_orm(unique)]
        pub discord_user_id: Option<i64>,
        /// Their racetime.gg account's hashid, once linked.
        #[sea_orm(unique)]
        pub racetime_user_id: Option<String>,
        /// Their racetime.gg name.
        pub racetime_name: Option<String>,
        /// Their Twitch login.
        pub twitch_name: Option<String>,
        /// The name shown on the website (unique, 1–32 characters).
        #[sea_orm(unique)]
        pub display_name: Option<String>,
        /// When the user was created.
        pub created_at: ChronoDateTimeUtc,
        /// When the user last changed.
        pub updated_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The most Discord ids one batch lookup takes.
pub const MAX_BATCH: usize = 1000;

/// The user `id`.
///
/// Errors: the database failed.
pub async fn get<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(conn).await
}

/// The user with this Discord account.
///
/// Errors: the database failed.
pub async fn by_discord<C: ConnectionTrait>(
    conn: &C,
    discord_user_id: u64,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::DiscordUserId.eq(platform::db::u64_to_db(discord_user_id)))
        .one(conn)
        .await
}

/// The user with this racetime.gg account.
///
/// Errors: the database failed.
pub async fn by_racetime<C: ConnectionTrait>(
    conn: &C,
    racetime_user_id: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::RacetimeUserId.eq(racetime_user_id))
        .one(conn)
        .await
}

/// The user with this display name.
///
/// Errors: the database failed.
pub async fn by_display_name<C: ConnectionTrait>(
    conn: &C,
    display_name: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::DisplayName.eq(display_name))
        .one(conn)
        .await
}

/// The users with these Discord accounts (in no particular order; ids with no user are left
/// out).
///
/// Errors: the database failed.
pub async fn by_discord_ids<C: ConnectionTrait>(
    conn: &C,
    discord_user_ids: &[u64],
) -> Result<Vec<user::Model>, DbErr> {
    if discord_user_ids.is_empty() {
        return Ok(Vec::new());
    }
    user::Entity::find()
        .filter(
            user::Column::DiscordUserId.is_in(
                discord_user_ids
                    .iter()
                    .map(|id| platform::db::u64_to_db(*id)),
            ),
        )
        .all(conn)
        .await
}

/// What a new user starts with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewUser {
    /// Their Discord account.
    pub discord_user_id: Option<u64>,
    /// Their racetime.gg hashid.
    pub racetime_user_id: Option<String>,
    /// Their racetime.gg name.
    pub racetime_name: Option<String>,
    /// Their Twitch login.
    pub twitch_name: Option<String>,
    /// Their display name.
    pub display_name: Option<String>,
}

/// Creates a user.
///
/// Errors: the database failed, or an account or the display name belongs to another user
/// (a unique violation).
pub async fn create<C: ConnectionTrait>(conn: &C, new: NewUser) -> Result<user::Model, DbErr> {
    let now = Utc::now();
    user::ActiveModel {
        discord_user_id: Set(new.discord_user_id.map(platform::db::u64_to_db)),
        racetime_user_id: Set(new.racetime_user_id),
        racetime_name: Set(new.racetime_name),
        twitch_name: Set(new.twitch_name),
        display_name: Set(new.display_name),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
}

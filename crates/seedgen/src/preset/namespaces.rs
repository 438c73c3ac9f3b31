//! Namespaced presets in the database (spec §1.4): one namespace per Discord user, named
//! after them; its owner and collaborators may create, replace and delete its presets.

use chrono::Utc;
use platform::db::u64_to_db;
use rand::RngExt;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};

use super::{LoadedPreset, PresetError, load, valid_name};
use crate::db::{collaborator, namespace, preset};

/// A failed namespace operation: a user-facing preset error or a database error.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    /// The preset is not valid.
    #[error(transparent)]
    Preset(#[from] PresetError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// `python-slugify`-like slug of a Discord user name, at most 20 characters: lower case,
/// runs of other characters become one `-`, no leading or trailing `-`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_matches('-').chars().take(20).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() { "user".into() } else { slug }
}

/// The namespace owned by `user_id`, if any.
pub async fn owned_by(
    db: &DatabaseConnection,
    user_id: u64,
) -> Result<Option<namespace::Model>, DbErr> {
    namespace::Entity::find()
        .filter(namespace::Column::DiscordUserId.eq(u64_to_db(user_id)))
        .one(db)
        .await
}

/// The namespace called `name`.
pub async fn by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<namespace::Model, NamespaceError> {
    namespace::Entity::find()
        .filter(namespace::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| PresetError::NamespaceNotFound(name.to_string()).into())
}

/// The caller's namespace, created on first use from their user name. A taken slug gets a
/// number appended (upstream tried once; we try until a free one is found, up to 20 times).
pub async fn get_or_create(
    db: &DatabaseConnection,
    user_id: u64,
    user_name: &str,
) -> Result<namespace::Model, NamespaceError> {
    if let Some(existing) = owned_by(db, user_id).await? {
        return Ok(existing);
    }
    let base = slugify(user_name);
    for attempt in 0..20 {
        let name = if attempt == 0 {
            base.clone()
        } else {
            format!("{base}{}", rand::rng().random_range(0..100 * attempt))
        };
        let row = namespace::ActiveModel {
            name: Set(name),
            discord_user_id: Set(u64_to_db(user_id)),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        match namespace::Entity::insert(row).exec(db).await {
            Ok(_) => {}
            Err(error) if platform::db::is_unique_violation(&error) => {
                // Either the slug is taken or this user raced us; the latter is the answer.
                if let Some(existing) = owned_by(db, user_id).await? {
                    return Ok(existing);
                }
                continue;
            }
            Err(error) => return Err(error.into()),
        }
        if let Some(created) = owned_by(db, user_id).await? {
            return Ok(created);
        }
    }
    Err(DbErr::Custom(format!("no free namespace name for `{base}`")).into())
}

/// Whether `user_id` owns or collaborates on `ns`.
pub async fn may_edit(
    db: &DatabaseConnection,
    ns: &namespace::Model,
    user_id: u64,
) -> Result<bool, DbErr> {
    if ns.discord_user_id == u64_to_db(user_id) {
        return Ok(true);
    }
    Ok(collaborator::Entity::find()
        .filter(collaborator::Column::NamespaceId.eq(ns.id))
        .filter(collaborator::Column::DiscordUserId.eq(u64_to_db(user_id)))
        .one(db)
        .await?
        .is_some())
}

/// Namespaces `user_id` owns or collaborates on.
pub async fn editable_by(
    db: &DatabaseConnection,
    user_id: u64,
) -> Result<Vec<namespace::Model>, DbErr> {
    let shared: Vec<i64> = collaborator::Entity::find()
        .filter(collaborator::Column::DiscordUserId.eq(u64_to_db(user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.namespace_id)
        .collect();
    namespace::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(namespace::Column::DiscordUserId.eq(u64_to_db(user_id)))
                .add(namespace::Column::Id.is_in(shared)),
        )
        .order_by_asc(namespace::Column::Name)
        .all(db)
        .await
}

/// Loads `namespace/name` of `randomizer`.
pub async fn get(
    db: &DatabaseConnection,
    randomizer: &str,
    namespace_name: &str,
    name: &str,
) -> Result<(LoadedPreset, chrono::DateTime<Utc>), NamespaceError> {
    let ns = by_name(db, namespace_name).await?;
    let row = preset::Entity::find()
        .filter(preset::Column::NamespaceId.eq(ns.id))
        .filter(preset::Column::Randomizer.eq(randomizer))
        .filter(preset::Column::PresetName.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| PresetError::NotFoundInNamespace {
            randomizer: randomizer.to_string(),
            namespace: namespace_name.to_string(),
            name: name.to_string(),
        })?;
    let loaded = load(randomizer, Some(namespace_name), name, row.content)?;
    Ok((loaded, row.modified))
}

/// Presets of `randomizer` in a namespace, sorted by name.
pub async fn list(
    db: &DatabaseConnection,
    ns: &namespace::Model,
    randomizer: &str,
) -> Result<Vec<preset::Model>, DbErr> {
    preset::Entity::find()
        .filter(preset::Column::NamespaceId.eq(ns.id))
        .filter(preset::Column::Randomizer.eq(randomizer))
        .order_by_asc(preset::Column::PresetName)
        .all(db)
        .await
}

/// Creates or replaces `namespace/name` after validating the YAML against the randomizer's
/// schema. The raw text is stored as uploaded, comments included. Returns the parsed preset
/// and its modification time.
pub async fn save(
    db: &DatabaseConnection,
    ns: &namespace::Model,
    randomizer: &str,
    name: &str,
    yaml: &str,
    user_id: u64,
) -> Result<(LoadedPreset, chrono::DateTime<Utc>), NamespaceError> {
    if !valid_name(name) {
        return Err(PresetError::BadName(name.to_string()).into());
    }
    let loaded = load(randomizer, Some(&ns.name), name, yaml.to_string())?;
    if !may_edit(db, ns, user_id).await? {
        return Err(PresetError::NotAllowed(ns.name.clone()).into());
    }
    let now = Utc::now();
    let row = preset::ActiveModel {
        randomizer: Set(randomizer.to_string()),
        preset_name: Set(name.to_string()),
        namespace_id: Set(ns.id),
        content: Set(yaml.to_string()),
        modified: Set(now),
        ..Default::default()
    };
    preset::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                preset::Column::Randomizer,
                preset::Column::PresetName,
                preset::Column::NamespaceId,
            ])
            .update_columns([preset::Column::Content, preset::Column::Modified])
            .to_owned(),
        )
        .exec(db)
        .await?;
    Ok((loaded, now))
}

/// Deletes `namespace/name`. Errors: not allowed, or no such preset.
pub async fn delete(
    db: &DatabaseConnection,
    ns: &namespace::Model,
    randomizer: &str,
    name: &str,
    user_id: u64,
) -> Result<(), NamespaceError> {
    if !may_edit(db, ns, user_id).await? {
        return Err(PresetError::NotAllowed(ns.name.clone()).into());
    }
    let result = preset::Entity::delete_many()
        .filter(preset::Column::NamespaceId.eq(ns.id))
        .filter(preset::Column::Randomizer.eq(randomizer))
        .filter(preset::Column::PresetName.eq(name))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(PresetError::NotFoundInNamespace {
            randomizer: randomizer.to_string(),
            namespace: ns.name.clone(),
            name: name.to_string(),
        }
        .into());
    }
    Ok(())
}

/// Lets `collaborator_id` edit `ns`; only the owner may do this. Adding twice is a no-op.
pub async fn add_collaborator(
    db: &DatabaseConnection,
    ns: &namespace::Model,
    owner_id: u64,
    collaborator_id: u64,
) -> Result<(), NamespaceError> {
    if ns.discord_user_id != u64_to_db(owner_id) {
        return Err(PresetError::NotAllowed(ns.name.clone()).into());
    }
    let row = collaborator::ActiveModel {
        namespace_id: Set(ns.id),
        discord_user_id: Set(u64_to_db(collaborator_id)),
        ..Default::default()
    };
    collaborator::Entity::insert(row)
        .on_conflict_do_nothing_on([
            collaborator::Column::NamespaceId,
            collaborator::Column::DiscordUserId,
        ])
        .exec(db)
        .await?;
    Ok(())
}

/// Takes `collaborator_id`'s right to edit `ns`; only the owner may do this. Removing someone
/// who is not a collaborator is a no-op.
pub async fn remove_collaborator(
    db: &DatabaseConnection,
    ns: &namespace::Model,
    owner_id: u64,
    collaborator_id: u64,
) -> Result<(), NamespaceError> {
    if ns.discord_user_id != u64_to_db(owner_id) {
        return Err(PresetError::NotAllowed(ns.name.clone()).into());
    }
    collaborator::Entity::delete_many()
        .filter(collaborator::Column::NamespaceId.eq(ns.id))
        .filter(collaborator::Column::DiscordUserId.eq(u64_to_db(collaborator_id)))
        .exec(db)
        .await?;
    Ok(())
}

/// The Discord ids of `ns`'s collaborators, sorted.
pub async fn collaborators(
    db: &DatabaseConnection,
    ns: &namespace::Model,
) -> Result<Vec<u64>, DbErr> {
    let mut ids: Vec<u64> = collaborator::Entity::find()
        .filter(collaborator::Column::NamespaceId.eq(ns.id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| platform::db::u64_from_db(c.discord_user_id))
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Every preset of `ns`, sorted by randomizer then name.
pub async fn all_presets(
    db: &DatabaseConnection,
    ns: &namespace::Model,
) -> Result<Vec<preset::Model>, DbErr> {
    preset::Entity::find()
        .filter(preset::Column::NamespaceId.eq(ns.id))
        .order_by_asc(preset::Column::Randomizer)
        .order_by_asc(preset::Column::PresetName)
        .all(db)
        .await
}

/// Every namespace with at least one preset of `randomizer`, sorted by name, each with those
/// presets sorted by name.
pub async fn browse(
    db: &DatabaseConnection,
    randomizer: &str,
) -> Result<Vec<(namespace::Model, Vec<preset::Model>)>, DbErr> {
    let presets = preset::Entity::find()
        .filter(preset::Column::Randomizer.eq(randomizer))
        .order_by_asc(preset::Column::PresetName)
        .all(db)
        .await?;
    let ids: Vec<i64> = presets.iter().map(|p| p.namespace_id).collect();
    let namespaces = namespace::Entity::find()
        .filter(namespace::Column::Id.is_in(ids))
        .order_by_asc(namespace::Column::Name)
        .all(db)
        .await?;
    Ok(namespaces
        .into_iter()
        .map(|ns| {
            let own = presets
                .iter()
                .filter(|p| p.namespace_id == ns.id)
                .cloned()
                .collect();
            (ns, own)
        })
        .collect())
}

/// Deletes everything kept about Discord user `user_id`: the namespace they own with its
/// presets and collaborators, their collaborations on others' namespaces, and their name on
/// the seeds they rolled (the audit rows stay, as `purged`, so `verifygame` still knows the
/// seeds) (spec W6, through `api.user.purged`). Returns how many namespaces were deleted
/// (0 or 1).
pub async fn purge_user<C: ConnectionTrait>(conn: &C, user_id: u64) -> Result<u64, DbErr> {
    let uid = u64_to_db(user_id);
    collaborator::Entity::delete_many()
        .filter(collaborator::Column::DiscordUserId.eq(uid))
        .exec(conn)
        .await?;
    let owned = namespace::Entity::find()
        .filter(namespace::Column::DiscordUserId.eq(uid))
        .all(conn)
        .await?;
    for ns in &owned {
        preset::Entity::delete_many()
            .filter(preset::Column::NamespaceId.eq(ns.id))
            .exec(conn)
            .await?;
        collaborator::Entity::delete_many()
            .filter(collaborator::Column::NamespaceId.eq(ns.id))
            .exec(conn)
            .await?;
    }
    let result = namespace::Entity::delete_many()
        .filter(namespace::Column::DiscordUserId.eq(uid))
        .exec(conn)
        .await?;
    crate::db::audit::Entity::update_many()
        .col_expr(
            crate::db::audit::Column::RequestedBy,
            sea_orm::sea_query::Expr::value("purged"),
        )
        .filter(crate::db::audit::Column::RequestedBy.eq(format!("discord:{user_id}")))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_follow_python_slugify() {
        assert_eq!(slugify("Synack"), "synack");
        assert_eq!(slugify("  The Great_One!! "), "the-great-one");
        assert_eq!(
            slugify("a very long discord display name"),
            "a-very-long-discord"
        );
        assert_eq!(slugify("☃"), "user");
    }
}

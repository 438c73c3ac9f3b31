//! Creating and running an async tournament (spec §3.2, §3.11): a tournament per channel with
//! its pools and seeds (every seed rolled through seedgen before anything is written), more
//! seeds for a pool, the post of its button, grants to users or Discord roles, the account-age
//! whitelist, and closing.

use chrono::Utc;
use proto::asynctournament::v1 as pb;
use proto::seedgen::v1 as sg;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use super::access::{Action, Role};
use super::core::{AsyncError, Asyncs, audit};
use super::db::{AuditAction, Customization, grant, permalink, pool, tournament, whitelist};

/// The most seeds one request rolls.
pub const MAX_SEEDS: i32 = 100;

/// A rolled seed.
#[derive(Clone, Debug)]
pub(crate) struct Rolled {
    /// The seed's URL.
    pub(crate) url: String,
    /// The file-select code, `a/b/c/d/e`.
    pub(crate) code: String,
}

fn check_pool(spec: &pb::PoolSpec) -> Result<(), AsyncError> {
    if spec.name.trim().is_empty() || spec.name.chars().count() > 100 {
        return Err(AsyncError::Invalid(
            "A pool needs a name of 1 to 100 characters.".into(),
        ));
    }
    if spec.preset.trim().is_empty() {
        return Err(AsyncError::Invalid(format!(
            "Pool `{}` needs a preset.",
            spec.name
        )));
    }
    if !(1..=MAX_SEEDS).contains(&spec.count) {
        return Err(AsyncError::Invalid(format!(
            "Pool `{}`: roll 1 to {MAX_SEEDS} seeds at a time.",
            spec.name
        )));
    }
    Ok(())
}

impl Asyncs {
    /// Rolls `count` tournament seeds of ALTTPR preset `preset` for `surface` (`discord`,
    /// `racetime`), keyed `key:0..count` so a retry gets the same seeds back.
    pub(crate) async fn roll(
        &self,
        key: &str,
        preset: &str,
        count: i32,
        surface: &str,
    ) -> Result<Vec<Rolled>, AsyncError> {
        let seedgen = self.peers.get("seedgen").map_err(AsyncError::Peer)?;
        let mut seeds = Vec::new();
        for i in 0..count {
            let request = sg::GenerateRequest {
                idempotency_key: format!("{key}:{i}"),
                randomizer: "alttpr".into(),
                preset: preset.to_owned(),
                race: true,
                allow_quickswap: true,
                requested_by: "async-tournament".into(),
                surface: surface.to_owned(),
                ..Default::default()
            };
            let seed = seedgen
                .call(|| {
                    let mut client = SeedGenClient::new(seedgen.channel());
                    let request = request.clone();
                    async move { client.generate(request).await }
                })
                .await
                .map_err(AsyncError::Peer)?
                .into_inner();
            seeds.push(Rolled {
                url: seed.permalink,
                code: seed.file_select_code.join("/"),
            });
        }
        Ok(seeds)
    }

    /// `/async create` (operator only): the tournament in `r.channel_id` with `r.pools`, every
    /// seed rolled first; the audit log says `"{name} ({id}) created"`.
    ///
    /// Errors: Denied, Invalid (a pool, the name, the numbers), Exists (the channel has one),
    /// Peer (seedgen refused or is down — nothing written).
    pub async fn create(
        &self,
        r: &pb::CreateTournamentRequest,
    ) -> Result<tournament::Model, AsyncError> {
        let caller = r.caller.clone().unwrap_or_default();
        if !caller.operator {
            return Err(AsyncError::Denied(
                "Only the bot's operator may create async tournaments.".into(),
            ));
        }
        let name = r.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AsyncError::Invalid(
                "The tournament needs a name of 1 to 100 characters.".into(),
            ));
        }
        if r.guild_id == 0 || r.channel_id == 0 {
            return Err(AsyncError::Invalid(
                "An async tournament lives in a server channel.".into(),
            ));
        }
        if r.runs_per_pool < 1 || r.allowed_reattempts < 0 {
            return Err(AsyncError::Invalid(
                "runs_per_pool is at least 1 and allowed_reattempts at least 0.".into(),
            ));
        }
        let customization = if r.customization.is_empty() {
            Customization::Default
        } else {
            Customization::parse(&r.customization).ok_or_else(|| {
                AsyncError::Invalid(format!(
                    "`{}` is not a customization (default, gmpmt2023).",
                    r.customization
                ))
            })?
        };
        let mut names = std::collections::BTreeSet::new();
        for spec in &r.pools {
            check_pool(spec)?;
            if !names.insert(spec.name.trim().to_lowercase()) {
                return Err(AsyncError::Invalid(format!(
                    "Pool `{}` is named twice.",
                    spec.name
                )));
            }
        }
        let exists = tournament::Entity::find()
            .filter(tournament::Column::ChannelId.eq(r.channel_id as i64))
            .count(&self.db)
            .await?;
        if exists > 0 {
            return Err(AsyncError::Exists(
                "An async tournament is already associated with this channel.  Please create a new channel for this tournament."
                    .into(),
            ));
        }
        let mut rolled = Vec::new();
        for spec in &r.pools {
            let key = format!("async:{}:{}", r.channel_id, spec.name.trim());
            rolled.push(
                self.roll(&key, spec.preset.trim(), spec.count, "discord")
                    .await?,
            );
        }
        let user = self.player(&caller).await?.map(|p| p.user_id);
        let txn = self.db.begin().await?;
        let t = tournament::ActiveModel {
            name: Set(name.to_owned()),
            guild_id: Set(r.guild_id as i64),
            channel_id: Set(r.channel_id as i64),
            message_id: Set(None),
            owner_discord_id: Set(caller.discord_user_id as i64),
            active: Set(true),
            allowed_reattempts: Set(r.allowed_reattempts),
            runs_per_pool: Set(r.runs_per_pool),
            customization: Set(customization),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|error| match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => AsyncError::Exists(
                "An async tournament is already associated with this channel.".into(),
            ),
            _ => AsyncError::Db(error),
        })?;
        for (spec, seeds) in r.pools.iter().zip(rolled) {
            let p = pool::ActiveModel {
                tournament_id: Set(t.id),
                name: Set(spec.name.trim().to_owned()),
                preset: Set(spec.preset.trim().to_owned()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            insert_seeds(&txn, p.id, seeds).await?;
        }
        audit(
            &txn,
            t.id,
            user,
            AuditAction::Create,
            format!("{} ({}) created", t.name, t.id),
        )
        .await?;
        txn.commit().await?;
        tracing::info!(tournament = t.id, name = %t.name, "async tournament created");
        Ok(t)
    }

    /// `/async addseed` (operator only): `count` more seeds for the pool named `pool_name`,
    /// rolled from the pool's own preset (upstream ignored the preset argument too); a new
    /// pool is created with `preset`.
    ///
    /// Errors: NotFound, Denied, Invalid, Peer.
    pub async fn add_seeds(
        &self,
        r: &pb::AddSeedsRequest,
    ) -> Result<tournament::Model, AsyncError> {
        let tr = r.tournament.clone().unwrap_or_default();
        let t = self.tournament(&tr).await?;
        let who = self.who(&t, tr.caller.as_ref()).await?;
        who.require(
            Action::AddSeed,
            &t,
            false,
            "Only the bot's operator may add seeds.",
        )?;
        let existing = pool::Entity::find()
            .filter(pool::Column::TournamentId.eq(t.id))
            .filter(pool::Column::Name.eq(r.pool_name.trim()))
            .one(&self.db)
            .await?;
        let preset = existing
            .as_ref()
            .map_or_else(|| r.preset.trim().to_owned(), |p| p.preset.clone());
        let spec = pb::PoolSpec {
            name: r.pool_name.trim().to_owned(),
            preset: preset.clone(),
            count: r.count,
        };
        check_pool(&spec)?;
        let already = match &existing {
            Some(p) => {
                permalink::Entity::find()
                    .filter(permalink::Column::PoolId.eq(p.id))
                    .count(&self.db)
                    .await?
            }
            None => 0,
        };
        let key = format!("async:{}:{}:from{already}", t.channel_id, spec.name);
        let seeds = self.roll(&key, &preset, r.count, "discord").await?;
        let txn = self.db.begin().await?;
        let pool_id = match existing {
            Some(p) => p.id,
            None => {
                pool::ActiveModel {
                    tournament_id: Set(t.id),
                    name: Set(spec.name.clone()),
                    preset: Set(preset),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
                .id
            }
        };
        insert_seeds(&txn, pool_id, seeds).await?;
        audit(
            &txn,
            t.id,
            who.user_id(),
            AuditAction::AddSeed,
            format!("Added {} seeds to pool {}", r.count, spec.name),
        )
        .await?;
        txn.commit().await?;
        Ok(t)
    }

    /// Records the post carrying the button.
    ///
    /// Errors: NotFound.
    pub async fn set_message(
        &self,
        id: i64,
        message: u64,
    ) -> Result<tournament::Model, AsyncError> {
        let t = self
            .tournament(&pb::TournamentRef {
                tournament_id: id,
                ..Default::default()
            })
            .await?;
        let mut active: tournament::ActiveModel = t.into();
        active.message_id = Set(Some(message as i64));
        Ok(active.update(&self.db).await?)
    }

    /// The pools of `t` with their permalinks, in creation order.
    pub async fn pools(
        &self,
        t: &tournament::Model,
    ) -> Result<Vec<(pool::Model, Vec<permalink::Model>)>, AsyncError> {
        let pools = pool::Entity::find()
            .filter(pool::Column::TournamentId.eq(t.id))
            .order_by_asc(pool::Column::Id)
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = pools.iter().map(|p| p.id).collect();
        let links = permalink::Entity::find()
            .filter(permalink::Column::PoolId.is_in(ids))
            .order_by_asc(permalink::Column::Id)
            .all(&self.db)
            .await?;
        Ok(pools
            .into_iter()
            .map(|p| {
                let mine = links
                    .iter()
                    .filter(|l| l.pool_id == p.id)
                    .cloned()
                    .collect();
                (p, mine)
            })
            .collect())
    }

    /// Every tournament, or the active or closed ones.
    pub async fn list(&self, active: Option<bool>) -> Result<Vec<tournament::Model>, AsyncError> {
        let mut query = tournament::Entity::find().order_by_asc(tournament::Column::Id);
        if let Some(active) = active {
            query = query.filter(tournament::Column::Active.eq(active));
        }
        Ok(query.all(&self.db).await?)
    }

    /// `/async close` (the owner): no more runs; results become public.
    ///
    /// Errors: NotFound, Denied, Refused (already closed).
    pub async fn close(&self, r: &pb::TournamentRef) -> Result<tournament::Model, AsyncError> {
        let t = self.tournament(r).await?;
        let who = self.who(&t, r.caller.as_ref()).await?;
        who.require(
            Action::Close,
            &t,
            false,
            "Only the owner of this tournament may close it.",
        )?;
        if !t.active {
            return Err(AsyncError::Refused(
                "This tournament is already closed.".into(),
            ));
        }
        let txn = self.db.begin().await?;
        let mut active: tournament::ActiveModel = t.clone().into();
        active.active = Set(false);
        let t = active.update(&txn).await?;
        audit(
            &txn,
            t.id,
            who.user_id(),
            AuditAction::Close,
            format!("{} ({}) closed", t.name, t.id),
        )
        .await?;
        txn.commit().await?;
        Ok(t)
    }

    /// `/async permissions` (operator only): `role` for each of `r.discord_user_ids` (who must
    /// have a `users` row), or for a Discord role — its members now and later (upstream
    /// snapshotted the members). An identical grant is left alone.
    ///
    /// Errors: NotFound (a user without an account, named), Denied, Invalid.
    pub async fn grant(&self, r: &pb::GrantRequest) -> Result<u32, AsyncError> {
        let tr = r.tournament.clone().unwrap_or_default();
        let t = self.tournament(&tr).await?;
        let who = self.who(&t, tr.caller.as_ref()).await?;
        who.require(
            Action::Permissions,
            &t,
            false,
            "Only the bot's operator may grant permissions.",
        )?;
        let role = match r.role.as_str() {
            "admin" => Role::Admin,
            "mod" => Role::Mod,
            other => {
                return Err(AsyncError::Invalid(format!(
                    "`{other}` is not a permission (admin, mod)."
                )));
            }
        };
        if (r.discord_role_id != 0) != r.discord_user_ids.is_empty() {
            return Err(AsyncError::Invalid(
                "Grant to a role or to users, not both and not neither.".into(),
            ));
        }
        let mut rows = Vec::new();
        if r.discord_role_id != 0 {
            rows.push((None, Some(r.discord_role_id as i64)));
        }
        for discord_id in &r.discord_user_ids {
            let caller = pb::Caller {
                discord_user_id: *discord_id,
                ..Default::default()
            };
            let player = self.player(&caller).await?.ok_or_else(|| {
                AsyncError::NotFound(format!(
                    "<@{discord_id}> has no SahasrahBot account yet: they log in to the website once first."
                ))
            })?;
            rows.push((Some(player.user_id), None));
        }
        let mut granted = 0;
        let txn = self.db.begin().await?;
        for (user_id, role_id) in rows {
            let mut query = grant::Entity::find()
                .filter(grant::Column::TournamentId.eq(t.id))
                .filter(grant::Column::Role.eq(role));
            query = match (user_id, role_id) {
                (Some(u), _) => query.filter(grant::Column::UserId.eq(u)),
                (_, Some(d)) => query.filter(grant::Column::DiscordRoleId.eq(d)),
                _ => continue,
            };
            if query.count(&txn).await? > 0 {
                continue;
            }
            grant::ActiveModel {
                tournament_id: Set(t.id),
                role: Set(role),
                user_id: Set(user_id),
                discord_role_id: Set(role_id),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            audit(
                &txn,
                t.id,
                who.user_id(),
                AuditAction::Permissions,
                match (user_id, role_id) {
                    (Some(u), _) => format!("Granted {} to user {u}", role.as_str()),
                    (_, Some(d)) => format!("Granted {} to Discord role {d}", role.as_str()),
                    _ => String::new(),
                },
            )
            .await?;
            granted += 1;
        }
        txn.commit().await?;
        Ok(granted)
    }

    /// Excuses a player from the account-age gate, or stops (admins).
    ///
    /// Errors: NotFound (no account), Denied.
    pub async fn set_whitelisted(
        &self,
        r: &pb::SetWhitelistedRequest,
    ) -> Result<tournament::Model, AsyncError> {
        let tr = r.tournament.clone().unwrap_or_default();
        let t = self.tournament(&tr).await?;
        let who = self.who(&t, tr.caller.as_ref()).await?;
        who.require(
            Action::Whitelist,
            &t,
            false,
            "Only this tournament's admins may whitelist players.",
        )?;
        let player = self
            .player(&pb::Caller {
                discord_user_id: r.discord_user_id,
                ..Default::default()
            })
            .await?
            .ok_or_else(|| {
                AsyncError::NotFound(format!(
                    "<@{}> has no SahasrahBot account yet.",
                    r.discord_user_id
                ))
            })?;
        let key = (t.id, player.user_id);
        let exists = whitelist::Entity::find_by_id(key)
            .one(&self.db)
            .await?
            .is_some();
        if r.whitelisted && !exists {
            whitelist::ActiveModel {
                tournament_id: Set(t.id),
                user_id: Set(player.user_id),
            }
            .insert(&self.db)
            .await?;
        } else if !r.whitelisted && exists {
            whitelist::Entity::delete_by_id(key).exec(&self.db).await?;
        }
        Ok(t)
    }
}

async fn insert_seeds<C: sea_orm::ConnectionTrait>(
    conn: &C,
    pool_id: i64,
    seeds: Vec<Rolled>,
) -> Result<(), AsyncError> {
    for seed in seeds {
        permalink::ActiveModel {
            pool_id: Set(pool_id),
            url: Set(seed.url),
            notes: Set(seed.code),
            live_race: Set(false),
            par_time: Set(None),
            par_updated_at: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

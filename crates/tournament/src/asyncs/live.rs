//! Live qualifier races (spec §3.10): a racetime.gg race of a pool's seed whose results join
//! the async runs. Admins and mods create one for a room (upstream had no way but the
//! database), roll it — the seed is rolled once and kept as a live permalink, the eligible
//! entrants get pending runs — and the race's start and end reach the runs by themselves
//! (`racetime.race.status_changed`, `racetime.race.finished`); `/async live_race_record` stays
//! for a race whose end was missed.

use chrono::{DateTime, Duration, Utc};
use platform::events::{HandlerError, Subscriber};
use proto::asynctournament::v1 as pb;
use proto::events::v1 as ev;
use proto::identity::v1 as identity;
use proto::identity::v1::identity_client::IdentityClient;
use proto::racetime::v1 as rt;
use proto::racetime::v1::race_rooms_client::RaceRoomsClient;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, TransactionTrait,
};

use super::access::Action;
use super::core::{AsyncError, Asyncs, STAFF_ONLY, audit, remember};
use super::db::{
    AuditAction, LiveStatus, ReviewStatus, RunStatus, live_race, permalink, pool, run, tournament,
};

/// A live race with its pool's name.
#[derive(Clone, Debug)]
pub struct Live {
    /// The row.
    pub row: live_race::Model,
    /// Its pool.
    pub pool_name: String,
}

impl Asyncs {
    /// Creates a live race of pool `pool_name` for room `racetime_slug` (admins and mods).
    ///
    /// Errors: NotFound (tournament, pool), Denied, Invalid (the slug), Exists (the room has
    /// one).
    pub async fn create_live_race(
        &self,
        r: &pb::CreateLiveRaceRequest,
    ) -> Result<Live, AsyncError> {
        let tr = r.tournament.clone().unwrap_or_default();
        let t = self.tournament(&tr).await?;
        let who = self.who(&t, tr.caller.as_ref()).await?;
        who.require(Action::LiveRaceRecord, &t, false, STAFF_ONLY)?;
        let slug = r.racetime_slug.trim().trim_matches('/');
        if slug.split('/').count() != 2 || slug.split('/').any(str::is_empty) {
            return Err(AsyncError::Invalid(format!(
                "`{slug}` is not a race room; give `category/room-name`."
            )));
        }
        let pool = pool::Entity::find()
            .filter(pool::Column::TournamentId.eq(t.id))
            .filter(pool::Column::Name.eq(r.pool_name.trim()))
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                AsyncError::NotFound(format!("There is no pool named `{}`.", r.pool_name))
            })?;
        let exists = live_race::Entity::find()
            .filter(live_race::Column::RacetimeSlug.eq(slug))
            .count(&self.db)
            .await?;
        if exists > 0 {
            return Err(AsyncError::Exists(format!(
                "Room `{slug}` is already a live race."
            )));
        }
        let txn = self.db.begin().await?;
        let row = live_race::ActiveModel {
            tournament_id: Set(t.id),
            pool_id: Set(pool.id),
            permalink_id: Set(None),
            racetime_slug: Set(Some(slug.to_owned())),
            episode_id: Set((r.episode_id != 0).then_some(r.episode_id)),
            match_title: Set(Some(r.match_title.trim().to_owned()).filter(|m| !m.is_empty())),
            status: Set(LiveStatus::Scheduled),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit(
            &txn,
            t.id,
            who.user_id(),
            AuditAction::LiveRace,
            format!(
                "Live race {} created for {slug} (pool {})",
                row.id, pool.name
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(Live {
            row,
            pool_name: pool.name,
        })
    }

    /// The live races of a tournament (admins and mods).
    ///
    /// Errors: NotFound, Denied.
    pub async fn list_live_races(&self, r: &pb::TournamentRef) -> Result<Vec<Live>, AsyncError> {
        let t = self.tournament(r).await?;
        let who = self.who(&t, r.caller.as_ref()).await?;
        who.require(Action::LiveRaceRecord, &t, false, STAFF_ONLY)?;
        let rows = live_race::Entity::find()
            .filter(live_race::Column::TournamentId.eq(t.id))
            .all(&self.db)
            .await?;
        let pools = self.pools(&t).await?;
        Ok(rows
            .into_iter()
            .map(|row| Live {
                pool_name: pools
                    .iter()
                    .find(|(p, _)| p.id == row.pool_id)
                    .map(|(p, _)| p.name.clone())
                    .unwrap_or_default(),
                row,
            })
            .collect())
    }

    async fn live_by_slug(
        &self,
        slug: &str,
        caller: Option<&pb::Caller>,
    ) -> Result<(live_race::Model, tournament::Model), AsyncError> {
        let row = live_race::Entity::find()
            .filter(live_race::Column::RacetimeSlug.eq(slug.trim().trim_matches('/')))
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                AsyncError::NotFound("That room is not an async tournament live race.".into())
            })?;
        let t = tournament::Entity::find_by_id(row.tournament_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AsyncError::NotFound("That tournament no longer exists.".into()))?;
        if let Some(caller) = caller {
            let who = self.who(&t, Some(caller)).await?;
            who.require(Action::LiveRaceRecord, &t, false, STAFF_ONLY)?;
        }
        Ok((row, t))
    }

    async fn room(&self, slug: &str) -> Result<rt::Room, AsyncError> {
        let racetime = self.peers.get("racetime").map_err(AsyncError::Peer)?;
        let request = rt::GetRoomRequest {
            room: slug.to_owned(),
        };
        Ok(racetime
            .call(|| {
                let mut client = RaceRoomsClient::new(racetime.channel());
                let request = request.clone();
                async move { client.get_room(request).await }
            })
            .await
            .map_err(AsyncError::Peer)?
            .into_inner())
    }

    /// Rolls a live race's seed (once: a second roll returns the same seed) and gives every
    /// eligible entrant of the room a pending run: under the pool's limit and without an open
    /// run (spec §3.10 step 3). The seed is posted in the room. Returns the race, its seed and
    /// the eligible entrants' names.
    ///
    /// Errors: NotFound, Denied, Refused (already started), Peer.
    pub async fn roll_live_race(
        &self,
        r: &pb::RollLiveRaceRequest,
    ) -> Result<(Live, permalink::Model, Vec<String>), AsyncError> {
        let (row, t) = self
            .live_by_slug(&r.racetime_slug, r.caller.as_ref())
            .await?;
        if row.status != LiveStatus::Scheduled {
            return Err(AsyncError::Refused(
                "This live race has already started.".into(),
            ));
        }
        let pool = pool::Entity::find_by_id(row.pool_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| AsyncError::NotFound("The live race's pool is gone.".into()))?;
        let link = match row.permalink_id {
            Some(id) => permalink::Entity::find_by_id(id).one(&self.db).await?,
            None => None,
        };
        let link = match link {
            Some(link) => link,
            None => self.roll_live_seed(&row, &pool).await?,
        };
        let slug = row.racetime_slug.clone().unwrap_or_default();
        let room = self.room(&slug).await?;
        let mut eligible = Vec::new();
        for entrant in &room.entrants {
            let api = self.peers.get("api").map_err(AsyncError::Peer)?;
            let request = identity::EnsureRacetimeUserRequest {
                racetime_user_id: entrant.user_id.clone(),
                racetime_name: entrant.name.clone(),
                twitch_name: entrant.twitch_name.clone(),
            };
            let user = api
                .call(|| {
                    let mut client = IdentityClient::new(api.channel());
                    let request = request.clone();
                    async move { client.ensure_racetime_user(request).await }
                })
                .await
                .map_err(AsyncError::Peer)?
                .into_inner();
            let player = remember(&self.db, &user).await?;
            let counted = run::Entity::find()
                .filter(run::Column::PoolId.eq(pool.id))
                .filter(run::Column::UserId.eq(player.user_id))
                .filter(run::Column::Reattempted.eq(false))
                .count(&self.db)
                .await?;
            let here = run::Entity::find()
                .filter(run::Column::LiveRaceId.eq(row.id))
                .filter(run::Column::UserId.eq(player.user_id))
                .count(&self.db)
                .await?;
            if here > 0 {
                eligible.push(entrant.name.clone());
                continue;
            }
            if counted >= t.runs_per_pool.max(1) as u64
                || self.active_run(t.id, player.user_id).await?.is_some()
            {
                continue;
            }
            run::ActiveModel {
                tournament_id: Set(t.id),
                pool_id: Set(pool.id),
                permalink_id: Set(link.id),
                user_id: Set(player.user_id),
                discord_user_id: Set(player.discord_user_id),
                live_race_id: Set(Some(row.id)),
                status: Set(RunStatus::Pending),
                reattempted: Set(false),
                review_status: Set(ReviewStatus::Pending),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&self.db)
            .await?;
            eligible.push(entrant.name.clone());
        }
        let text = format!(
            "Qualifier seed ({}): {} — {}",
            pool.name,
            link.url,
            link.notes.replace('/', ", ")
        );
        if let Err(status) = crate::notify::say(
            &self.peers,
            crate::notify::message(format!("async-live:{}:seed", row.id), &slug, &text),
        )
        .await
        {
            tracing::warn!(room = %slug, %status, "could not post the live race's seed");
        }
        let row = live_race::Entity::find_by_id(row.id)
            .one(&self.db)
            .await?
            .unwrap_or(row);
        Ok((
            Live {
                row,
                pool_name: pool.name,
            },
            link,
            eligible,
        ))
    }

    async fn roll_live_seed(
        &self,
        row: &live_race::Model,
        pool: &pool::Model,
    ) -> Result<permalink::Model, AsyncError> {
        let seed = self
            .roll(
                &format!("async-live:{}", row.id),
                &pool.preset,
                1,
                "racetime",
            )
            .await?
            .remove(0);
        let txn = self.db.begin().await?;
        let link = permalink::ActiveModel {
            pool_id: Set(pool.id),
            url: Set(seed.url),
            notes: Set(seed.code),
            live_race: Set(true),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let claimed = live_race::Entity::update_many()
            .col_expr(live_race::Column::PermalinkId, Expr::value(link.id))
            .filter(live_race::Column::Id.eq(row.id))
            .filter(live_race::Column::PermalinkId.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 0 {
            // Another roll won; use its seed.
            txn.rollback().await?;
            let row = live_race::Entity::find_by_id(row.id).one(&self.db).await?;
            let id = row.and_then(|r| r.permalink_id).unwrap_or_default();
            return permalink::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .ok_or_else(|| AsyncError::NotFound("The live race's seed is gone.".into()));
        }
        txn.commit().await?;
        Ok(link)
    }

    /// The race started at `started_at` with these racetime.gg entrants: their pending runs
    /// start then, other pending runs of the race are dropped (spec §3.10 step 4).
    pub async fn live_race_started<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        row: &live_race::Model,
        started_at: DateTime<Utc>,
        entrants: &[String],
    ) -> Result<(), AsyncError> {
        let pending = run::Entity::find()
            .filter(run::Column::LiveRaceId.eq(row.id))
            .filter(run::Column::Status.eq(RunStatus::Pending))
            .all(conn)
            .await?;
        let players = self
            .players(&pending.iter().map(|r| r.user_id).collect::<Vec<_>>())
            .await?;
        for r in pending {
            let racing = players
                .get(&r.user_id)
                .and_then(|p| p.racetime_user_id.as_ref())
                .is_some_and(|id| entrants.contains(id));
            if racing {
                run::Entity::update_many()
                    .col_expr(run::Column::Status, Expr::value(RunStatus::InProgress))
                    .col_expr(run::Column::StartTime, Expr::value(started_at))
                    .filter(run::Column::Id.eq(r.id))
                    .exec(conn)
                    .await?;
            } else {
                run::Entity::delete_by_id(r.id).exec(conn).await?;
            }
        }
        live_race::Entity::update_many()
            .col_expr(
                live_race::Column::Status,
                Expr::value(LiveStatus::InProgress),
            )
            .filter(live_race::Column::Id.eq(row.id))
            .filter(live_race::Column::Status.eq(LiveStatus::Scheduled))
            .exec(conn)
            .await?;
        Ok(())
    }

    /// `/async live_race_record` (admins and mods): the race's results from racetime.gg into
    /// its runs — done → finished at `started_at + finish time`, dnf → forfeit, dq →
    /// disqualified — and the live race finished once no run is still in progress. Returns the
    /// warnings (entrants still racing, or unknown).
    ///
    /// Errors: NotFound, Denied, Refused (not in progress and not forced), Peer.
    pub async fn record_live_race(
        &self,
        r: &pb::RecordLiveRaceRequest,
    ) -> Result<(Live, Vec<String>), AsyncError> {
        let (row, t) = self
            .live_by_slug(&r.racetime_slug, r.caller.as_ref())
            .await?;
        if row.status != LiveStatus::InProgress && !r.force {
            return Err(AsyncError::Refused(
                "This live race is not in progress; record it with `force` to record it anyway."
                    .into(),
            ));
        }
        let room = self
            .room(row.racetime_slug.as_deref().unwrap_or_default())
            .await?;
        let started = platform::grpc::datetime(room.started_at.as_ref());
        let txn = self.db.begin().await?;
        let warnings = self.record(&txn, &row, started, &room.entrants).await?;
        txn.commit().await?;
        self.touched(t.id).await;
        let who_id = match r.caller.as_ref() {
            Some(c) => self.player(c).await?.map(|p| p.user_id),
            None => None,
        };
        audit(
            &self.db,
            t.id,
            who_id,
            AuditAction::LiveRace,
            format!(
                "Live race {} recorded ({} warnings)",
                row.id,
                warnings.len()
            ),
        )
        .await?;
        let pool_name = pool::Entity::find_by_id(row.pool_id)
            .one(&self.db)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        let row = live_race::Entity::find_by_id(row.id)
            .one(&self.db)
            .await?
            .unwrap_or(row);
        Ok((Live { row, pool_name }, warnings))
    }

    async fn record<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        row: &live_race::Model,
        started: Option<DateTime<Utc>>,
        entrants: &[rt::Entrant],
    ) -> Result<Vec<String>, AsyncError> {
        let runs = run::Entity::find()
            .filter(run::Column::LiveRaceId.eq(row.id))
            .all(conn)
            .await?;
        let players = self
            .players(&runs.iter().map(|r| r.user_id).collect::<Vec<_>>())
            .await?;
        let mut warnings = Vec::new();
        for entrant in entrants {
            let Some(r) = runs.iter().find(|r| {
                players
                    .get(&r.user_id)
                    .and_then(|p| p.racetime_user_id.as_ref())
                    == Some(&entrant.user_id)
            }) else {
                continue;
            };
            let end = started
                .filter(|_| entrant.finish_time_ms > 0)
                .map(|s| s + Duration::milliseconds(entrant.finish_time_ms as i64));
            let (status, end) = match entrant.status.as_str() {
                "done" => (RunStatus::Finished, end),
                "dnf" => (RunStatus::Forfeit, None),
                "dq" => (RunStatus::Disqualified, end),
                other => {
                    warnings.push(format!(
                        "{} is `{other}`: likely still in progress; record again when they are done.",
                        entrant.name
                    ));
                    continue;
                }
            };
            let mut active: run::ActiveModel = r.clone().into();
            active.status = Set(status);
            if r.start_time.is_none() {
                active.start_time = Set(started);
            }
            if end.is_some() {
                active.end_time = Set(end);
            }
            active.update(conn).await?;
        }
        let still = run::Entity::find()
            .filter(run::Column::LiveRaceId.eq(row.id))
            .filter(run::Column::Status.is_in([RunStatus::Pending, RunStatus::InProgress]))
            .count(conn)
            .await?;
        if still == 0 {
            live_race::Entity::update_many()
                .col_expr(live_race::Column::Status, Expr::value(LiveStatus::Finished))
                .filter(live_race::Column::Id.eq(row.id))
                .exec(conn)
                .await?;
        } else {
            warnings.push(format!(
                "{still} runs are still in progress; record this race again when they are done."
            ));
        }
        Ok(warnings)
    }
}

/// The live race of `room`, if it is one.
async fn live_of(
    txn: &DatabaseTransaction,
    room: &str,
) -> Result<Option<live_race::Model>, sea_orm::DbErr> {
    live_race::Entity::find()
        .filter(live_race::Column::RacetimeSlug.eq(room))
        .one(txn)
        .await
}

/// A live race room started: its runs start (`racetime.race.status_changed` → in_progress).
#[derive(Clone, Debug)]
pub struct OnLiveRaceStarted(pub Asyncs);

impl Subscriber for OnLiveRaceStarted {
    type Event = ev::RaceStatusChanged;

    fn name(&self) -> &str {
        "tournament-async-live-started"
    }

    async fn on(
        &self,
        txn: &DatabaseTransaction,
        event: ev::RaceStatusChanged,
        _envelope: &ev::Envelope,
    ) -> Result<(), HandlerError> {
        if event.status != "in_progress" {
            return Ok(());
        }
        let Some(row) = live_of(txn, &event.room).await? else {
            return Ok(());
        };
        if row.status != LiveStatus::Scheduled {
            return Ok(());
        }
        let room = self
            .0
            .room(&event.room)
            .await
            .map_err(|e| HandlerError::Transient(anyhow::anyhow!("{e}")))?;
        let started = platform::grpc::datetime(room.started_at.as_ref()).unwrap_or_else(Utc::now);
        let entrants: Vec<String> = event.entrants.iter().map(|e| e.user_id.clone()).collect();
        self.0
            .live_race_started(txn, &row, started, &entrants)
            .await
            .map_err(|e| HandlerError::Transient(anyhow::anyhow!("{e}")))
    }
}

/// A live race room finished: its results are recorded (spec §3.10's proposal).
#[derive(Clone, Debug)]
pub struct OnLiveRaceFinished(pub Asyncs);

impl Subscriber for OnLiveRaceFinished {
    type Event = ev::RaceFinished;

    fn name(&self) -> &str {
        "tournament-async-live-finished"
    }

    async fn on(
        &self,
        txn: &DatabaseTransaction,
        event: ev::RaceFinished,
        _envelope: &ev::Envelope,
    ) -> Result<(), HandlerError> {
        let Some(row) = live_of(txn, &event.room).await? else {
            return Ok(());
        };
        if row.status == LiveStatus::Finished {
            return Ok(());
        }
        let room = self
            .0
            .room(&event.room)
            .await
            .map_err(|e| HandlerError::Transient(anyhow::anyhow!("{e}")))?;
        let started = platform::grpc::datetime(room.started_at.as_ref());
        if row.status == LiveStatus::Scheduled {
            let entrants: Vec<String> = room.entrants.iter().map(|e| e.user_id.clone()).collect();
            self.0
                .live_race_started(txn, &row, started.unwrap_or_else(Utc::now), &entrants)
                .await
                .map_err(|e| HandlerError::Transient(anyhow::anyhow!("{e}")))?;
        }
        let warnings = self
            .0
            .record(txn, &row, started, &room.entrants)
            .await
            .map_err(|e| HandlerError::Transient(anyhow::anyhow!("{e}")))?;
        if !warnings.is_empty() {
            tracing::warn!(room = %event.room, ?warnings, "live race recorded with warnings");
        }
        Ok(())
    }
}

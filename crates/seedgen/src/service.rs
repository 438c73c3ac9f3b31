//! `Generate` with its guarantees: one idempotency key yields one seed (also across
//! concurrent callers, replicas and restarts), and a seed is recorded — stored reply, audit row
//! and the `seedgen.seed.generated` event — in one transaction, the only commit of a request.
//! A failed roll leaves nothing, so a retry rolls at once.
//!
//! How: a stored reply is returned as it is. Otherwise callers of one key in this process
//! share one roll (the first rolls, the others wait for it and read its stored reply). Across
//! replicas the primary key of its `idempotency_keys` row (scope `seedgen.generate`) decides: the second replica to commit a
//! reply for the key rolls back its own seed (never shown to anyone) and returns the first's.
//! There is no `pending` row any more, so nothing can be left claimed by a failed or crashed
//! call (the old design kept such keys busy for ten minutes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use platform::events::{Event, Outbox};
use platform::idempotency::{self, Inserted, KeyState};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use tokio::sync::watch;

use crate::db::audit;
use crate::generate::{GenerateError, Generated, Generator, Request};

/// The idempotency scope of `Generate` keys.
const SCOPE: &str = "seedgen.generate";

/// Keys being rolled in this process; a follower waits until the leader's sender drops.
type Flights = Arc<Mutex<HashMap<String, watch::Receiver<()>>>>;

/// The seedgen core the gRPC API serves.
#[derive(Clone)]
pub struct SeedGenCore {
    /// Makes seeds.
    pub generator: Arc<Generator>,
    /// Stored replies and the audit trail.
    pub db: DatabaseConnection,
    /// Where `seedgen.seed.generated` goes.
    pub outbox: Outbox,
    /// How long a second caller with the same key waits for the first to finish.
    pub wait: Duration,
    flights: Flights,
}

impl std::fmt::Debug for SeedGenCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedGenCore").finish_non_exhaustive()
    }
}

/// The roll of one key in this process. Dropping it — after success, an error, a panic or a
/// cancelled call — frees the key and wakes the callers waiting for it.
struct Flight {
    flights: Flights,
    key: String,
    _done: watch::Sender<()>,
}

impl Drop for Flight {
    fn drop(&mut self) {
        self.flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

enum Joined {
    Leader(Flight),
    Follower(watch::Receiver<()>),
}

impl SeedGenCore {
    /// A core over `generator` and `db`; same-key callers wait up to `wait` for each other.
    pub fn new(
        generator: Arc<Generator>,
        db: DatabaseConnection,
        outbox: Outbox,
        wait: Duration,
    ) -> Self {
        Self {
            generator,
            db,
            outbox,
            wait,
            flights: Flights::default(),
        }
    }

    /// The reply stored for `key`, if a roll of it was recorded.
    async fn stored(&self, key: &str) -> Result<Option<Generated>, GenerateError> {
        let Some(row) = idempotency::get(&self.db, SCOPE, key)
            .await?
            .filter(|row| row.state == KeyState::Done)
        else {
            return Ok(None);
        };
        let reply = row.payload.unwrap_or_default();
        serde_json::from_str(&reply).map(Some).map_err(|e| {
            GenerateError::Db(sea_orm::DbErr::Custom(format!(
                "stored reply of `{key}` is unreadable: {e}"
            )))
        })
    }

    fn join(&self, key: &str) -> Joined {
        let mut flights = self.flights.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(running) = flights.get(key) {
            return Joined::Follower(running.clone());
        }
        let (done, running) = watch::channel(());
        flights.insert(key.to_owned(), running);
        Joined::Leader(Flight {
            flights: self.flights.clone(),
            key: key.to_owned(),
            _done: done,
        })
    }

    /// Generates once per idempotency key; see the module docs.
    pub async fn generate(&self, key: &str, request: &Request) -> Result<Generated, GenerateError> {
        if key.trim().is_empty() {
            return Err(GenerateError::Invalid(
                "an idempotency key is required (e.g. the interaction id)".into(),
            ));
        }
        if key.len() > 191 {
            return Err(GenerateError::Invalid(
                "the idempotency key is longer than 191 characters".into(),
            ));
        }
        let deadline = tokio::time::Instant::now() + self.wait;
        let flight = loop {
            if let Some(done) = self.stored(key).await? {
                return Ok(done);
            }
            match self.join(key) {
                Joined::Leader(flight) => break flight,
                Joined::Follower(mut running) => {
                    // Ends when the leader's flight drops, whatever became of it; then the
                    // stored reply is read, or (the leader failed) this caller rolls.
                    if tokio::time::timeout_at(deadline, running.changed())
                        .await
                        .is_err()
                    {
                        return Err(GenerateError::InProgress);
                    }
                }
            }
        };
        let generated = self.generator.generate(request).await?;
        let result = self.record(key, request, generated).await;
        drop(flight);
        result
    }

    async fn record(
        &self,
        key: &str,
        request: &Request,
        mut generated: Generated,
    ) -> Result<Generated, GenerateError> {
        let txn = self.db.begin().await?;
        let row = audit::ActiveModel {
            randomizer: Set(generated.randomizer.clone()),
            hash_id: Set(Some(generated.seed.hash.clone()).filter(|h| !h.is_empty())),
            permalink: Set(generated.seed.url.clone()),
            settings: Set(Some(generated.settings.clone())),
            gentype: Set(generated.kind.clone()),
            genoption: Set(generated.option.clone()),
            namespace: Set(generated.namespace.clone()),
            provider: Set(generated.provider.clone()),
            surface: Set(non_empty(&request.surface, "api")),
            requested_by: Set(non_empty(&request.requested_by, "unknown")),
            customizer: Set(generated.customizer),
            doors: Set(generated.doors),
            avianart: Set(generated.avianart),
            rng_seed: Set(Some(platform::db::u64_to_db(generated.rng_seed))),
            spoiler_url: Set(generated.seed.spoiler_url.clone()),
            attempt_count: Set(i32::try_from(generated.seed.attempts).unwrap_or(i32::MAX)),
            latency_ms: Set(generated.latency_ms),
            created_at: Set(generated.generated_at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        generated.audit_id = Some(row.id);
        let event = proto::events::v1::SeedGenerated {
            randomizer: generated.randomizer.clone(),
            preset: generated.option.clone(),
            permalink: generated.seed.url.clone(),
            hash: generated.seed.hash.clone(),
            requested_by: row.requested_by.clone(),
            generated_at: Some(timestamp(generated.generated_at)),
            kind: generated.kind.clone(),
            surface: row.surface.clone(),
            race: request.race,
            spoiler_url: generated.seed.spoiler_url.clone().unwrap_or_default(),
            file_select_code: generated.seed.code.clone(),
            audit_id: u64::try_from(row.id).unwrap_or_default(),
        };
        self.outbox
            .write(&txn, Event::of(&event))
            .await
            .map_err(|e| GenerateError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        let reply = serde_json::to_string(&generated)
            .map_err(|e| GenerateError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        let recorded =
            idempotency::insert(&txn, SCOPE, key, KeyState::Done, None, None, Some(&reply)).await?;
        if recorded == Inserted::Existing {
            // Another replica recorded this key first: its seed is the answer, ours is
            // rolled back unseen.
            txn.rollback().await?;
            tracing::info!(
                key,
                "another replica recorded this key first; returning its seed"
            );
            return self.stored(key).await?.ok_or_else(|| {
                GenerateError::Db(sea_orm::DbErr::Custom(format!(
                    "the reply of `{key}` vanished after a conflicting insert"
                )))
            });
        }
        txn.commit().await?;
        self.outbox.wake();
        Ok(generated)
    }

    /// The newest audit row for a game hash.
    pub async fn verify(&self, hash: &str) -> Result<Option<audit::Model>, sea_orm::DbErr> {
        use sea_orm::QueryOrder;
        audit::Entity::find()
            .filter(audit::Column::HashId.eq(hash))
            .order_by_desc(audit::Column::Id)
            .one(&self.db)
            .await
    }
}

fn non_empty(value: &str, default: &str) -> String {
    if value.trim().is_empty() {
        default.to_string()
    } else {
        value.to_string()
    }
}

pub use platform::grpc::timestamp;

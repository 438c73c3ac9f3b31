//! `Generate` with its guarantees: one idempotency key yields one seed (also across
//! concurrent callers and restarts), and a seed is recorded — audit row, stored reply and
//! the `seedgen.seed.generated` event — in one transaction. A failed roll leaves nothing.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use platform::events::{Event, Outbox};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    SqlErr, TransactionTrait,
};

use crate::db::{audit, request};
use crate::generate::{GenerateError, Generated, Generator, Request};

/// Event subject of a generated seed.
pub const SEED_GENERATED: &str = "seedgen.seed.generated";

/// A `pending` idempotency row older than this belongs to a crashed process and is taken over.
const STALE_PENDING: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The seedgen core the gRPC API serves.
#[derive(Clone)]
pub struct SeedGenCore {
    pub generator: Arc<Generator>,
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    /// How long a second caller with the same key waits for the first to finish.
    pub wait: Duration,
}

impl std::fmt::Debug for SeedGenCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedGenCore").finish_non_exhaustive()
    }
}

enum Claim {
    /// We own the key and must generate.
    Ours,
    /// Someone already finished: here is their reply.
    Done(Box<Generated>),
    /// Someone else is generating right now.
    Busy,
}

impl SeedGenCore {
    async fn claim(&self, key: &str) -> Result<Claim, GenerateError> {
        let now = Utc::now();
        let row = request::ActiveModel {
            idempotency_key: Set(key.to_string()),
            state: Set("pending".into()),
            reply: Set(None),
            audit_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        match request::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
        {
            Ok(_) => return Ok(Claim::Ours),
            Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            }
            Err(error) => return Err(error.into()),
        }
        let Some(existing) = request::Entity::find_by_id(key.to_string())
            .one(&self.db)
            .await?
        else {
            // Deleted between our insert and read (the other roll failed): try again.
            return Ok(Claim::Busy);
        };
        if existing.state == "done" {
            let reply = existing.reply.unwrap_or_default();
            let generated: Generated = serde_json::from_str(&reply).map_err(|e| {
                GenerateError::Db(sea_orm::DbErr::Custom(format!(
                    "stored reply of `{key}` is unreadable: {e}"
                )))
            })?;
            return Ok(Claim::Done(Box::new(generated)));
        }
        if now - existing.updated_at > STALE_PENDING {
            // Take over only if nobody else did in the meantime.
            let taken = request::Entity::update_many()
                .col_expr(
                    request::Column::UpdatedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(request::Column::IdempotencyKey.eq(key))
                .filter(request::Column::State.eq("pending"))
                .filter(request::Column::UpdatedAt.eq(existing.updated_at))
                .exec(&self.db)
                .await?;
            if taken.rows_affected == 1 {
                return Ok(Claim::Ours);
            }
        }
        Ok(Claim::Busy)
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
        loop {
            match self.claim(key).await? {
                Claim::Ours => break,
                Claim::Done(generated) => return Ok(*generated),
                Claim::Busy if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Claim::Busy => return Err(GenerateError::InProgress),
            }
        }
        let result = self.generator.generate(request).await;
        let generated = match result {
            Ok(generated) => generated,
            Err(error) => {
                // Release the key so a retry can roll; nothing else was written.
                request::Entity::delete_by_id(key.to_string())
                    .exec(&self.db)
                    .await?;
                return Err(error);
            }
        };
        match self.record(key, request, generated).await {
            Ok(generated) => Ok(generated),
            Err(error) => {
                let _ = request::Entity::delete_by_id(key.to_string())
                    .exec(&self.db)
                    .await;
                Err(error)
            }
        }
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
            rng_seed: Set(Some(generated.rng_seed)),
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
            .write(&txn, Event::new(SEED_GENERATED, &event))
            .await
            .map_err(|e| GenerateError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        let reply = serde_json::to_string(&generated)
            .map_err(|e| GenerateError::Db(sea_orm::DbErr::Custom(e.to_string())))?;
        request::Entity::update_many()
            .col_expr(
                request::Column::State,
                sea_orm::sea_query::Expr::value("done"),
            )
            .col_expr(
                request::Column::Reply,
                sea_orm::sea_query::Expr::value(reply),
            )
            .col_expr(
                request::Column::AuditId,
                sea_orm::sea_query::Expr::value(row.id),
            )
            .col_expr(
                request::Column::UpdatedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(request::Column::IdempotencyKey.eq(key))
            .exec(&txn)
            .await?;
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

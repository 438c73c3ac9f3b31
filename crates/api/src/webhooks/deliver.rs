//! The delivery worker: every `webhooks.poll_ms`, takes due rows (pending, due, not leased by
//! a live worker), leases each with a conditional update (so one replica wins a row), posts
//! its stored body signed with the webhook's secret, and records the outcome: delivered on
//! 2xx; otherwise another attempt after `retry_base_secs · 2^(attempts−1)` (at most an hour),
//! and failed after `max_attempts`.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};

use super::{DeliveryState, delivery, signature, webhook};
use crate::settings::WebhookSettings;

/// Rows taken per round.
const BATCH: u64 = 20;

/// The worker.
#[derive(Clone, Debug)]
pub struct Deliverer {
    db: DatabaseConnection,
    http: reqwest::Client,
    settings: WebhookSettings,
}

/// The delay before attempt `attempts + 1`, after `attempts` failed ones.
pub fn backoff(settings: &WebhookSettings, attempts: u32) -> Duration {
    let factor = 2u64.saturating_pow(attempts.saturating_sub(1).min(20));
    Duration::from_secs(settings.retry_base_secs.saturating_mul(factor).min(3_600))
}

impl Deliverer {
    /// A worker on `db`.
    ///
    /// Errors: the HTTP client cannot be built.
    pub fn new(db: DatabaseConnection, settings: WebhookSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("SahasrahBot-Webhooks/1")
            .build()?;
        Ok(Self { db, http, settings })
    }

    /// Delivers every due row once; returns how many were attempted.
    ///
    /// Errors: the database failed.
    pub async fn round(&self) -> Result<usize, DbErr> {
        let now = Utc::now();
        let due = delivery::Entity::find()
            .filter(delivery::Column::State.eq(DeliveryState::Pending))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(delivery::Column::LeasedUntil.is_null())
                    .add(delivery::Column::LeasedUntil.lt(now)),
            )
            .order_by_asc(delivery::Column::Id)
            .limit(BATCH)
            .all(&self.db)
            .await?;
        let mut attempted = 0;
        for row in due {
            if self.lease(&row).await? {
                attempted += 1;
                self.attempt(row).await?;
            }
        }
        Ok(attempted)
    }

    /// Takes `row` for this worker; false when another worker took it first.
    async fn lease(&self, row: &delivery::Model) -> Result<bool, DbErr> {
        let now = Utc::now();
        let lease = chrono::Duration::seconds(
            i64::try_from(self.settings.timeout_secs).unwrap_or(60) * 3 + 5,
        );
        let mut condition = Condition::all()
            .add(delivery::Column::Id.eq(row.id))
            .add(delivery::Column::State.eq(DeliveryState::Pending));
        condition = match row.leased_until {
            None => condition.add(delivery::Column::LeasedUntil.is_null()),
            Some(until) => condition.add(delivery::Column::LeasedUntil.eq(until)),
        };
        let result = delivery::Entity::update_many()
            .col_expr(delivery::Column::LeasedUntil, Expr::value(now + lease))
            .filter(condition)
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn attempt(&self, row: delivery::Model) -> Result<(), DbErr> {
        let hook = webhook::Entity::find_by_id(row.webhook_id)
            .one(&self.db)
            .await?;
        let outcome = match &hook {
            Some(hook) if hook.active => self.post(hook, &row).await,
            _ => Err((None, "the webhook was removed".to_owned())),
        };
        let attempts = row.attempts + 1;
        let gone = hook.as_ref().is_none_or(|h| !h.active);
        let mut active = row.into_active_model();
        active.attempts = Set(attempts);
        active.leased_until = Set(None);
        match outcome {
            Ok(status) => {
                active.state = Set(DeliveryState::Delivered);
                active.last_status = Set(Some(i32::from(status)));
                active.last_error = Set(None);
                active.delivered_at = Set(Some(Utc::now()));
            }
            Err((status, error)) => {
                active.last_status = Set(status.map(i32::from));
                active.last_error = Set(Some(error));
                let attempts_u = u32::try_from(attempts).unwrap_or(u32::MAX);
                if gone || attempts_u >= self.settings.max_attempts {
                    active.state = Set(DeliveryState::Failed);
                } else {
                    let delay = backoff(&self.settings, attempts_u);
                    active.next_attempt_at = Set(Utc::now()
                        + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1)));
                }
            }
        }
        active.update(&self.db).await?;
        Ok(())
    }

    /// Posts one delivery; the status on 2xx, else the status (if any) and what went wrong.
    async fn post(
        &self,
        hook: &webhook::Model,
        row: &delivery::Model,
    ) -> Result<u16, (Option<u16>, String)> {
        let timestamp = Utc::now().timestamp();
        let body = row.payload.clone().into_bytes();
        let result = self
            .http
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-sahasrahbot-delivery", &row.delivery_id)
            .header("x-sahasrahbot-event", row.event_type.as_str())
            .header(
                "x-sahasrahbot-signature",
                signature(&hook.secret, timestamp, &body),
            )
            .body(body)
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
            Ok(response) => Err((
                Some(response.status().as_u16()),
                format!("the receiver answered HTTP {}", response.status()),
            )),
            Err(error) => Err((None, error.without_url().to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_an_hour() {
        let settings = WebhookSettings {
            retry_base_secs: 10,
            ..WebhookSettings::default()
        };
        let waits: Vec<u64> = (1..=10).map(|n| backoff(&settings, n).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]);
    }
}

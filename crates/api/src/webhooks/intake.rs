//! Turns events into delivery rows: one durable JetStream consumer per event type; in the
//! consumer's transaction, one row per active webhook that wants the type, unique per
//! (webhook, event), with the exact JSON body every attempt will send.

use chrono::Utc;
use platform::events::{Contract, HandlerError, Subscriber};
use proto::events::v1 as ev;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, EntityTrait};
use serde_json::{Value, json};

use super::{DeliveryState, EventType, delivery, occurred_at, subscribed};

/// An event contract that webhooks can receive, with its public JSON shape.
pub trait WebhookEvent: Contract {
    /// The type receivers see.
    const TYPE: EventType;
    /// The event as the `data` of the body.
    fn data(&self) -> Value;
}

fn time(t: Option<&prost_types::Timestamp>) -> Value {
    platform::grpc::datetime(t).map_or(Value::Null, |d| Value::String(d.to_rfc3339()))
}

impl WebhookEvent for ev::SeedGenerated {
    const TYPE: EventType = EventType::SeedGenerated;
    fn data(&self) -> Value {
        json!({
            "randomizer": self.randomizer,
            "preset": self.preset,
            "permalink": self.permalink,
            "hash": self.hash,
            "kind": self.kind,
            "surface": self.surface,
            "race": self.race,
            "spoiler_url": (!self.spoiler_url.is_empty()).then_some(&self.spoiler_url),
            "file_select_code": self.file_select_code,
            "generated_at": time(self.generated_at.as_ref()),
        })
    }
}

impl WebhookEvent for ev::RaceRoomOpened {
    const TYPE: EventType = EventType::RoomOpened;
    fn data(&self) -> Value {
        json!({
            "category": self.category,
            "room": self.room,
            "room_url": self.room_url,
        })
    }
}

impl WebhookEvent for ev::RaceFinished {
    const TYPE: EventType = EventType::RaceFinished;
    fn data(&self) -> Value {
        let entrants: Vec<Value> = self
            .entrants
            .iter()
            .map(|e| {
                json!({
                    "user_id": e.user_id,
                    "name": e.name,
                    "status": e.status,
                    "place": (e.place > 0).then_some(e.place),
                    "finish_time_ms": (e.finish_time_ms > 0).then_some(e.finish_time_ms),
                    "team": (!e.team.is_empty()).then_some(&e.team),
                })
            })
            .collect();
        json!({
            "category": self.category,
            "room": self.room,
            "room_url": self.room_url,
            "ended_at": time(self.ended_at.as_ref()),
            "entrants": entrants,
        })
    }
}

impl WebhookEvent for ev::TournamentRoomOpened {
    const TYPE: EventType = EventType::MatchRoomOpened;
    fn data(&self) -> Value {
        json!({
            "tournament": self.tournament,
            "episode_id": self.episode_id,
            "room_url": self.room_url,
            "discord_user_ids": self.discord_user_ids,
        })
    }
}

/// The consumer of one event type.
#[derive(Debug)]
pub struct Intake<E> {
    name: String,
    _event: std::marker::PhantomData<fn() -> E>,
}

impl<E: WebhookEvent> Default for Intake<E> {
    fn default() -> Self {
        Self {
            name: format!("api-webhooks-{}", E::TYPE.as_str().replace('.', "-")),
            _event: std::marker::PhantomData,
        }
    }
}

impl<E: WebhookEvent> Subscriber for Intake<E> {
    type Event = E;

    fn name(&self) -> &str {
        &self.name
    }

    async fn on(
        &self,
        txn: &DatabaseTransaction,
        event: E,
        envelope: &proto::events::v1::Envelope,
    ) -> Result<(), HandlerError> {
        let hooks = subscribed(txn, E::TYPE).await?;
        if hooks.is_empty() {
            return Ok(());
        }
        let data = event.data();
        let now = Utc::now();
        let rows: Vec<delivery::ActiveModel> = hooks
            .iter()
            .map(|hook| {
                let delivery_id = uuid::Uuid::now_v7().to_string();
                let body = json!({
                    "id": delivery_id,
                    "type": E::TYPE.as_str(),
                    "occurred_at": occurred_at(envelope).to_rfc3339(),
                    "data": data,
                });
                delivery::ActiveModel {
                    delivery_id: Set(delivery_id),
                    webhook_id: Set(hook.id),
                    event_id: Set(envelope.id.clone()),
                    event_type: Set(E::TYPE),
                    payload: Set(body.to_string()),
                    state: Set(DeliveryState::Pending),
                    attempts: Set(0),
                    next_attempt_at: Set(now),
                    leased_until: Set(None),
                    last_status: Set(None),
                    last_error: Set(None),
                    created_at: Set(now),
                    delivered_at: Set(None),
                    ..Default::default()
                }
            })
            .collect();
        delivery::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([delivery::Column::WebhookId, delivery::Column::EventId])
            .exec_without_returning(txn)
            .await?;
        Ok(())
    }
}

/// Starts one consumer per event type.
pub fn subscribe_all(ctx: &platform::ServiceContext) {
    ctx.subscribe(Intake::<ev::SeedGenerated>::default());
    ctx.subscribe(Intake::<ev::RaceRoomOpened>::default());
    ctx.subscribe(Intake::<ev::RaceFinished>::default());
    ctx.subscribe(Intake::<ev::TournamentRoomOpened>::default());
}

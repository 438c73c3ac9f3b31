//! The router's component path with a registered handler: each kind of answer reaches Discord
//! as the right interaction response, and handler refusals are answered privately.

use futures::future::BoxFuture;
use gateway::commands::Registry;
use gateway::components::{Answer, ComponentAck, ComponentError, ComponentHandler, Components};
use gateway::context::{App, CommandError, ComponentCall};
use gateway::custom_id::CustomId;
use gateway::discord::{Discord, Reply};
use gateway::router::Router;
use twilight_model::application::interaction::Interaction;

use super::*;

/// Answers `test:<action>` clicks.
struct TestFeature;

impl ComponentHandler for TestFeature {
    fn feature(&self) -> &'static str {
        "test"
    }

    fn ack(&self, call: &ComponentCall) -> ComponentAck {
        if call.id.action == "slow" {
            ComponentAck::DeferredPrivate
        } else {
            ComponentAck::Immediate
        }
    }

    fn handle<'a>(
        &'a self,
        _app: &'a App,
        call: &'a ComponentCall,
    ) -> BoxFuture<'a, Result<Answer, ComponentError>> {
        Box::pin(async move {
            match call.id.action.as_str() {
                "say" => Ok(Answer::private(format!(
                    "clicked with {}",
                    call.id.arg(0).unwrap_or("-")
                ))),
                "edit" => Ok(Answer::Update(Reply::text("edited"))),
                "form" => Ok(Answer::Modal {
                    custom_id: CustomId::new("test", "submitted", &[]).unwrap(),
                    title: "A form".into(),
                    inputs: Vec::new(),
                }),
                "submitted" => Ok(Answer::private(format!(
                    "got {}",
                    call.fields.get("note").cloned().unwrap_or_default()
                ))),
                "slow" => Ok(Answer::private("done slowly")),
                "refused" => Err(CommandError::user("You may not do that.").into()),
                _ => Err(ComponentError::Stale),
            }
        })
    }
}

async fn router(fake: &FakeDiscord) -> Router {
    let mut settings = GatewayService::default_settings().service;
    settings.discord.api_base_url = fake.url.clone();
    settings.discord.token = Some(BOT_TOKEN.to_owned().into());
    settings.discord.application_id = Some(APPLICATION_ID);
    let discord = Discord::from_settings(&settings.discord).unwrap();
    let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
    let config = gateway::guild_config::GuildConfig::new(db.clone());
    let commands = Registry::standard(&settings).unwrap();
    let app = App::new(discord, None, settings, db, config).unwrap();
    Router::new(
        app,
        commands,
        Components::new(vec![Box::new(TestFeature)]).unwrap(),
    )
}

fn interaction(payload: Json) -> Interaction {
    serde_json::from_value(payload).unwrap()
}

#[tokio::test]
async fn a_registered_handler_answers_with_each_kind_of_response() {
    testkit::init();
    let fake = FakeDiscord::start().await.unwrap();
    let router = router(&fake).await;
    let racer = Invoker::member(7, "runner");

    let (sent, payload) = fake.button_interaction(&racer, "test:say:42");
    router.handle(interaction(payload)).await;
    let callback = fake.callback(&sent, WAIT).await;
    assert_eq!(callback["type"], 4);
    assert_eq!(callback["data"]["flags"], 64);
    assert_eq!(callback["data"]["content"], "clicked with 42");

    let (sent, payload) = fake.button_interaction(&racer, "test:edit");
    router.handle(interaction(payload)).await;
    let callback = fake.callback(&sent, WAIT).await;
    assert_eq!(
        callback["type"], 7,
        "the message the button is on is updated"
    );
    assert_eq!(callback["data"]["content"], "edited");

    let (sent, payload) = fake.button_interaction(&racer, "test:form");
    router.handle(interaction(payload)).await;
    let callback = fake.callback(&sent, WAIT).await;
    assert_eq!(callback["type"], 9, "a modal opens");
    assert_eq!(callback["data"]["custom_id"], "test:submitted");

    let (sent, payload) = fake.modal_interaction(&racer, "test:submitted", &[("note", "hi")]);
    router.handle(interaction(payload)).await;
    let callback = fake.callback(&sent, WAIT).await;
    assert_eq!(callback["data"]["content"], "got hi");

    let (sent, payload) = fake.button_interaction(&racer, "test:slow");
    router.handle(interaction(payload)).await;
    let callback = fake.callback(&sent, WAIT).await;
    assert_eq!(callback["type"], 5, "deferred first");
    assert_eq!(callback["data"]["flags"], 64);
    let reply = fake
        .wait_for_reply(&sent, WAIT, |m| m["content"] == "done slowly")
        .await;
    assert_eq!(reply["content"], "done slowly");
}

#[tokio::test]
async fn handler_refusals_and_stale_actions_are_answered_privately() {
    testkit::init();
    let fake = FakeDiscord::start().await.unwrap();
    let router = router(&fake).await;
    let racer = Invoker::member(7, "runner");

    let (sent, payload) = fake.button_interaction(&racer, "test:refused");
    router.handle(interaction(payload)).await;
    let callback = fake.callback(&sent, WAIT).await;
    assert_eq!(callback["data"]["flags"], 64);
    assert_eq!(callback["data"]["content"], "You may not do that.");

    let (sent, payload) = fake.button_interaction(&racer, "test:retired_action");
    router.handle(interaction(payload)).await;
    let callback = fake.callback(&sent, WAIT).await;
    assert_eq!(
        callback["data"]["content"],
        gateway::components::STALE_BUTTON
    );
}

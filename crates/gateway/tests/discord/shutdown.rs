//! Stopping the gateway: interactions in flight are finished, not cut off.

use super::*;

#[tokio::test]
async fn an_interaction_in_flight_is_answered_before_the_service_stops() {
    let w = world().await;
    // This roll takes a while at alttpr.com.
    Mock::given(method("POST"))
        .and(path("/api/randomizer"))
        .and(body_partial_json(json!({"hints": "on"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(alttpr_seed_response("SlOwSlOw", "off"))
                .set_delay(Duration::from_millis(1_500)),
        )
        .with_priority(1)
        .mount(&w.alttpr)
        .await;
    let racer = Invoker::member(7, "runner");
    let sent = w.fake.slash_command(
        &racer,
        &["alttpr", "preset"],
        &[("preset", json!("open")), ("hints", json!("yes"))],
        &[],
    );
    let deferred = w.fake.callback(&sent, WAIT).await;
    assert_eq!(deferred["type"], 5, "the roll is under way: {deferred}");
    let World { fake, gateway, .. } = w;
    gateway.unwrap().stop().await.unwrap();
    // Already there when the stop returned: the interaction's task was waited for.
    let reply = fake
        .wait_for_reply(&sent, Duration::ZERO, |m| {
            m["embeds"].as_array().is_some_and(|e| !e.is_empty())
        })
        .await;
    assert!(reply.to_string().contains("SlOwSlOw"), "{reply}");
}

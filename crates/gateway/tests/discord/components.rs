//! Buttons, select menus and modals: every interaction gets an answer, even one nobody
//! handles any more.

use super::*;

/// The bot's first response to `sent`: an immediate private message; its text.
async fn private_answer(w: &World, sent: &SentInteraction) -> String {
    let callback = w.fake.callback(sent, WAIT).await;
    assert_eq!(callback["type"], 4, "an immediate message: {callback}");
    assert_eq!(callback["data"]["flags"], 64, "private: {callback}");
    callback["data"]["content"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn unknown_buttons_forms_and_commands_are_answered_privately() {
    let w = world().await;
    let racer = Invoker::member(7, "runner");

    // A feature nobody handles.
    let sent = w.fake.click_button(&racer, "nothing:here:1");
    let text = private_answer(&w, &sent).await;
    assert_eq!(text, gateway::components::STALE_BUTTON);

    // An id upstream posted under an old message (its feature has no handler).
    let sent = w.fake.click_button(&racer, "sahabot:delete_history");
    assert_eq!(
        private_answer(&w, &sent).await,
        gateway::components::STALE_BUTTON
    );

    // An id that is not of our scheme at all.
    let sent = w.fake.click_button(&racer, "garbage");
    assert_eq!(
        private_answer(&w, &sent).await,
        gateway::components::STALE_BUTTON
    );

    // A form submitted after its handler went away: nothing saved, and the user is told.
    let sent = w.fake.submit_modal(
        &racer,
        "async:submit_vod:12",
        &[("runner_vod_url", "https://x")],
    );
    assert_eq!(
        private_answer(&w, &sent).await,
        gateway::components::STALE_FORM
    );

    // A command Discord still lists but the bot no longer has.
    let sent = w.fake.slash_command(&racer, &["retired"], &[], &[]);
    let text = private_answer(&w, &sent).await;
    assert!(
        text.contains("I don't know the command `/retired`"),
        "{text}"
    );
}

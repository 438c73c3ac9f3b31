//! Spoiler races: the log at the start, the study countdown, restarts.

use super::*;

const LOG_URL: &str = "https://spoilers.example/log.txt";
const STUDY_OVER: &str = "Log study has finished.  Begin racing!";

/// Schedules a spoiler race with `study_time` seconds of study in `room` through the API.
async fn schedule(client: &mut RaceRoomsClient<Channel>, room: &str, study_time: u32) {
    client
        .schedule_spoiler_race(pb::ScheduleSpoilerRaceRequest {
            room: room.to_owned(),
            spoiler_url: LOG_URL.into(),
            study_time_seconds: study_time,
        })
        .await
        .unwrap();
}

/// Alice and Bob join `room` and ready up, so the race starts.
fn start_race(w: &World, room: &str, alice: &str, bob: &str) {
    w.fake.join(room, alice);
    w.fake.join(room, bob);
    w.fake.ready(room, alice);
    w.fake.ready(room, bob);
}

/// The bot's lines once the study time is over.
async fn until_study_over(w: &World, room: &str) -> Vec<String> {
    w.fake
        .wait_for_bot(room, WAIT, |l| l.iter().any(|m| m == STUDY_OVER))
        .await
}

#[tokio::test]
async fn spoiler_race_counts_down_and_status_events_follow_the_race() {
    let w = world().await;
    w.fake.set_countdown(Duration::from_millis(200));
    let (_service, mut client) = w.racetime().await;
    let alice = w.fake.add_user("Alice", &["alttpr"]);
    let bob = w.fake.add_user("Bob", &[]);
    let room = handled_room(&w, "alttpr", &alice).await;
    schedule(&mut client, &room, 3).await;
    start_race(&w, &room, &alice, &bob);
    let lines = until_study_over(&w, &room).await;
    let log = lines
        .iter()
        .position(|m| *m == format!("This race's spoiler log: {LOG_URL}"))
        .expect("log posted");
    let end = lines.iter().position(|m| m == STUDY_OVER).unwrap();
    assert!(log < end);
    assert!(
        lines
            .iter()
            .any(|m| m == "2 second(s) remain!" || m == "1 second(s) remain!"),
        "{lines:#?}"
    );
    // alttpr hides comments when the countdown starts.
    assert_eq!(w.fake.race(&room)["hide_comments"], true);

    w.fake.finish(&room, &alice);
    w.fake.forfeit(&room, &bob);
    let subjects = w.wait_outbox("racetime.race.finished", 1).await;
    let changes: Vec<&String> = subjects
        .iter()
        .filter(|s| s.ends_with("racetime.race.status_changed"))
        .collect();
    assert!(changes.len() >= 3, "{subjects:?}");
    // Undo within the window: the race is back in progress, then finishes again.
    w.fake.undo_finish(&room, &alice);
    w.fake.finish(&room, &alice);
    w.wait_outbox("racetime.race.finished", 2).await;
}

#[tokio::test]
async fn spoiler_command_rolls_a_spoiler_race_and_sends_the_log_at_the_start() {
    let w = world().await;
    w.fake.set_countdown(Duration::from_millis(200));
    let (_service, _client) = w.racetime().await;
    let alice = w.fake.add_user("Alice", &["alttpr"]);
    let bob = w.fake.add_user("Bob", &[]);
    let room = handled_room(&w, "alttpr", &alice).await;
    w.fake.chat(&room, &alice, "!spoiler open 2");
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m.starts_with("The spoiler log for this race will be sent"))
        })
        .await;
    assert!(
        lines
            .iter()
            .any(|m| m.ends_with("A 2s countdown timer at that time will begin.")),
        "{lines:#?}"
    );
    assert!(
        w.fake.race(&room)["info_bot"]
            .as_str()
            .unwrap()
            .contains("spoiler"),
        "the info says it is a spoiler race: {}",
        w.fake.race(&room)["info_bot"]
    );
    w.fake.join(&room, &alice);
    w.fake.join(&room, &bob);
    w.fake.ready(&room, &alice);
    w.fake.ready(&room, &bob);
    let lines = w
        .fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| m == "Log study has finished.  Begin racing!")
        })
        .await;
    let log = lines
        .iter()
        .find(|m| m.starts_with("This race's spoiler log: "))
        .expect("the log link is posted at the start");
    let url = log.trim_start_matches("This race's spoiler log: ");
    // The log seedgen stored is the one linked.
    let body = reqwest::get(url).await.unwrap();
    assert!(body.status().is_success(), "{url}: {}", body.status());
}

#[tokio::test]
async fn a_spoiler_countdown_resumes_on_time_after_a_restart() {
    let w = world().await;
    w.fake.set_countdown(Duration::from_millis(200));
    let (service, mut client) = w.racetime().await;
    let alice = w.fake.add_user("Alice", &["alttpr"]);
    let room = handled_room(&w, "alttpr", &alice).await;
    schedule(&mut client, &room, 8).await;
    let bob = w.fake.add_user("Bob", &[]);
    start_race(&w, &room, &alice, &bob);
    w.fake
        .wait_for_bot(&room, WAIT, |l| {
            l.iter()
                .any(|m| *m == format!("This race's spoiler log: {LOG_URL}"))
        })
        .await;
    let started = tokio::time::Instant::now();
    // Down for three seconds of the eight.
    service.stop().await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_service, _client) = w.racetime().await;
    let lines = until_study_over(&w, &room).await;
    let elapsed = started.elapsed();
    // On the original schedule (8 s after the log), not restarted from the restart.
    assert!(
        elapsed >= Duration::from_millis(7_500) && elapsed < Duration::from_millis(10_500),
        "study ended {elapsed:?} after the log"
    );
    // Each reminder at most once, even across the restart.
    for reminder in [
        "5 second(s) remain!",
        "2 second(s) remain!",
        "1 second(s) remain!",
    ] {
        assert!(count(&lines, reminder) <= 1, "{reminder} twice: {lines:#?}");
    }
}

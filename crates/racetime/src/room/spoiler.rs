//! Spoiler races and timers: the log at race start, the study countdown (resumed on time
//! after a restart: only the latest due reminder is said), `!test` timers.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::actor::RoomActor;
use crate::commands;

impl RoomActor {
    pub(super) async fn send_spoiler_log(&mut self) {
        let Some(spoiler) = self.state.spoiler.as_mut() else {
            return;
        };
        if spoiler.started_at.is_some() {
            return;
        }
        spoiler.started_at = Some(Utc::now());
        let url = spoiler.spoiler_url.clone();
        self.persist(Vec::new()).await;
        self.say(
            "spoiler-log",
            &[
                "Sending spoiler log...".into(),
                "---------------".into(),
                format!("This race's spoiler log: {url}"),
                "---------------".into(),
                "GLHF! :mudora:".into(),
            ],
        )
        .await;
    }

    /// The next spoiler reminder: when it is due and how many seconds it announces (0 = end).
    pub(super) fn spoiler_next(&self) -> Option<(DateTime<Utc>, u32)> {
        let spoiler = self.state.spoiler.as_ref()?;
        let started = spoiler.started_at?;
        if spoiler.finished {
            return None;
        }
        let last = spoiler.last_reminder.unwrap_or(u32::MAX);
        commands::REMINDERS
            .iter()
            .copied()
            .chain([0])
            .filter(|r| *r < spoiler.study_time.max(1) && *r < last)
            .map(|r| {
                (
                    started
                        + chrono::Duration::seconds(i64::from(
                            spoiler.study_time - r.min(spoiler.study_time),
                        )),
                    r,
                )
            })
            .next()
    }

    pub(super) fn spoiler_due(&self) -> Option<DateTime<Utc>> {
        self.spoiler_next().map(|(at, _)| at)
    }

    pub(super) async fn on_timer(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self
            .timers
            .iter()
            .filter(|(at, _)| *at <= now)
            .map(|(_, text)| text.clone())
            .collect();
        self.timers.retain(|(at, _)| *at > now);
        for (i, text) in due.iter().enumerate() {
            self.say(
                &format!("timer-{}-{i}", uuid::Uuid::now_v7().simple()),
                std::slice::from_ref(text),
            )
            .await;
        }
        // Spoiler countdown: after a pause (restart) only the latest reminder is sent.
        let mut latest = None;
        while let Some((at, remaining)) = self.spoiler_next() {
            if at > Utc::now() {
                break;
            }
            latest = Some(remaining);
            if let Some(spoiler) = self.state.spoiler.as_mut() {
                spoiler.last_reminder = Some(remaining);
                spoiler.finished = remaining == 0;
            }
        }
        if let Some(remaining) = latest {
            self.persist(Vec::new()).await;
            let text = if remaining == 0 {
                "Log study has finished.  Begin racing!".to_string()
            } else {
                commands::reminder_text(remaining)
            };
            self.say(&format!("spoiler-{remaining}"), &[text]).await;
        }
    }
}

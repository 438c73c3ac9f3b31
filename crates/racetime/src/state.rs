//! A room's handler state, stored as JSON in `racetime_rooms.state` and written in the same
//! transaction as the events it causes, so a restart resumes exactly where the room was.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything a room handler must remember across restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoomState {
    /// A seed was rolled in this room.
    pub seed_rolled: bool,
    /// Seed rolling is locked to monitors.
    pub locked: bool,
    /// The intro was posted.
    pub intro_sent: bool,
    /// The room was opened by this service (OpenRoom or KONOT).
    pub opened_by_us: bool,
    /// Chat handled up to this message (its `posted_at` and id): history replayed after a
    /// reconnect or restart is only handled past it.
    pub last_chat_at: Option<DateTime<Utc>>,
    /// Id of the last chat message handled.
    pub last_chat_id: Option<String>,
    /// A scheduled spoiler race.
    pub spoiler: Option<SpoilerRace>,
    /// The tournament match the room belongs to.
    pub tournament: Option<TournamentBinding>,
    /// The KONOT segment this room is.
    pub konot: Option<KonotSegment>,
    /// alttpr: comments hidden when the countdown started.
    pub comments_hidden: bool,
    /// sm: roll a bingo card at the start.
    pub bingo_on_start: bool,
    /// The bingo card was posted.
    pub bingo_sent: bool,
    /// `racetime.race.finished` published for this finish (reset if the race resumes).
    pub finish_reported: bool,
    /// Join requests already seen (published / accepted once each).
    pub requests_seen: Vec<String>,
}

/// A spoiler race: the log is posted at the start, then study time counts down.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpoilerRace {
    /// The spoiler log's URL.
    pub spoiler_url: String,
    /// Study time, in seconds.
    pub study_time: u32,
    /// When the log was posted (study time runs from here).
    pub started_at: Option<DateTime<Utc>>,
    /// The last reminder sent, in seconds remaining.
    pub last_reminder: Option<u32>,
    /// The countdown is over.
    pub finished: bool,
}

/// The tournament match a room belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TournamentBinding {
    /// The tournament slug.
    pub tournament: String,
    /// The episode (match) id.
    pub episode_id: String,
    /// racetime.gg ids of the players (their join requests are accepted).
    pub players: Vec<String>,
    /// racetime.gg ids of the gatekeepers (accepted and made monitors).
    pub gatekeepers: Vec<String>,
}

/// A room's place in a KONOT series.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KonotSegment {
    /// The series id.
    pub game_id: i64,
    /// This room's segment number (1 first).
    pub segment: u32,
    /// The next segment's room, once opened.
    pub next_room: Option<String>,
    /// "This was the final race" was said.
    pub final_announced: bool,
}

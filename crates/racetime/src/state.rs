//! A room's handler state, stored as JSON in `racetime_rooms.state` and written in the same
//! transaction as the events it causes, so a restart resumes exactly where the room was.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything a room handler must remember across restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoomState {
    pub seed_rolled: bool,
    pub locked: bool,
    pub intro_sent: bool,
    /// The room was opened by this service (OpenRoom or KONOT).
    pub opened_by_us: bool,
    /// Chat handled up to this message (its `posted_at` and id): history replayed after a
    /// reconnect or restart is only handled past it.
    pub last_chat_at: Option<DateTime<Utc>>,
    pub last_chat_id: Option<String>,
    pub spoiler: Option<SpoilerRace>,
    pub tournament: Option<TournamentBinding>,
    pub konot: Option<KonotSegment>,
    /// alttpr: comments hidden when the countdown started.
    pub comments_hidden: bool,
    /// sm: roll a bingo card at the start.
    pub bingo_on_start: bool,
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
    pub spoiler_url: String,
    pub study_time: u32,
    /// When the log was posted (study time runs from here).
    pub started_at: Option<DateTime<Utc>>,
    /// The last reminder sent, in seconds remaining.
    pub last_reminder: Option<u32>,
    pub finished: bool,
}

/// The tournament match a room belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TournamentBinding {
    pub tournament: String,
    pub episode_id: String,
    pub players: Vec<String>,
    pub gatekeepers: Vec<String>,
}

/// A room's place in a KONOT series.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KonotSegment {
    pub game_id: i64,
    pub segment: u32,
    /// The next segment's room, once opened.
    pub next_room: Option<String>,
    pub final_announced: bool,
}

//! One room's actor: applies race data, computes status transitions against the stored status,
//! runs chat commands one at a time (two quick `!race` never roll twice), drives spoiler
//! countdowns and KONOT, and persists its state with the events it causes. The socket task
//! keeps reading while a command waits for a seed.

mod actor;
mod execute;
mod host;
mod konot;
mod lifecycle;
mod outbound;
mod render;
mod spoiler;

pub(crate) use actor::{RoomActor, RoomInput};
pub(crate) use host::{CategoryBot, RoomHost, RoomRecord};
pub(crate) use render::{entrants, guid};

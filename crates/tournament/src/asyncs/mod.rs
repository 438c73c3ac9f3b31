//! Async tournaments (qualifiers; spec tournament.md §3): racers play a pool's seeds on their
//! own time in private Discord threads and are scored against the par of the fastest runs.
//!
//! - [`scoring`]: par, score and leaderboard rules (pure);
//! - [`access`]: who may do what (pure);
//! - [`alloc`]: which seed a player gets (pure);
//! - [`db`]: the tables;
//! - [`core`]: the service, its errors, the caller resolved, the audit log;
//! - [`setup`]: creating tournaments and pools, seeds, grants, the whitelist, closing;
//! - [`runs`]: a run from the button to the VOD, reattempts, corrections;
//! - [`results`]: listing runs, review, pars and scores, the leaderboard;
//! - [`timers`]: the pending and in-progress timeouts and the hourly scores;
//! - [`live`]: live qualifier races on racetime.gg;
//! - [`users`]: api's merged and purged accounts;
//! - [`grpc`]: the `asynctournament.v1.AsyncTournaments` service.

pub mod access;
pub mod alloc;
pub mod core;
pub mod db;
pub mod grpc;
pub mod live;
pub mod results;
pub mod runs;
pub mod scoring;
pub mod setup;
pub mod timers;
pub mod users;

pub use self::core::{AsyncError, Asyncs};

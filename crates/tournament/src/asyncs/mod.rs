//! Async tournaments (qualifiers; spec tournament.md §3): racers play a pool's seeds on their
//! own time and are scored against the par of the fastest runs. So far: the scoring and
//! leaderboard rules ([`scoring`]) and who may do what ([`access`]); the entities, the Discord
//! run lifecycle, review and the web pages build on them.

pub mod access;
pub mod scoring;

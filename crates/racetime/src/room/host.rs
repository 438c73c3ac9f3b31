//! What a room actor needs from the service that runs it, as a trait: the actor never calls
//! back up into the bot (the room → open → bot → room circle of the old layout), and KONOT
//! asks its host for the next room instead of opening it itself.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use platform::events::Event;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use racetime_client::{Action, RaceData, RaceSettings, RaceStatus, RacetimeHttp, TokenManager};
use sea_orm::DatabaseConnection;

use crate::commands::{HandlerKind, OperatorTexts};
use crate::state::RoomState;

/// One category's bot: its slug, command set and OAuth2 tokens.
#[derive(Debug)]
pub struct CategoryBot {
    pub slug: String,
    pub kind: HandlerKind,
    pub tokens: TokenManager,
}

/// A room's row as the actor saves it.
pub(crate) struct RoomRecord<'a> {
    pub name: &'a str,
    pub category: &'a str,
    pub status: &'a RaceStatus,
    pub version: u32,
    pub state: &'a RoomState,
    /// The race data, when it changed since the last save.
    pub data: Option<&'a RaceData>,
}

/// The service side of a room actor.
pub(crate) trait RoomHost: Send + Sync + 'static {
    /// How long a finished or cancelled room stays followed.
    fn linger(&self) -> Duration;
    /// The chat command prefix.
    fn command_prefix(&self) -> &str;
    /// The operator's contact and documentation.
    fn texts(&self) -> &Arc<OperatorTexts>;
    /// racetime.gg over HTTP.
    fn http(&self) -> &RacetimeHttp;
    /// The service's database (the override whitelist, KONOT games).
    fn db(&self) -> &DatabaseConnection;
    /// A seedgen client, when seedgen is configured.
    fn seedgen(&self) -> Option<SeedGenClient<platform::grpc::TracedChannel>>;
    /// Saves the room's row and `events` in one transaction.
    fn save_room<'a>(
        &'a self,
        record: RoomRecord<'a>,
        events: Vec<Event>,
    ) -> BoxFuture<'a, Result<(), sea_orm::DbErr>>;
    /// Sends an action to another room (handled here or elsewhere).
    fn room_call<'a>(&'a self, room: &'a str, action: Action) -> BoxFuture<'a, Result<(), String>>;
    /// Opens a room once per `key` in `category` and starts handling it; its name, or why not.
    fn open_room<'a>(
        self: Arc<Self>,
        category: &'a str,
        settings: RaceSettings,
        key: &'a str,
        initial: RoomState,
    ) -> BoxFuture<'a, Result<String, String>>;
}

//! The racetime.gg bot protocol as the racetime.gg server (racetimeGG/racetime-app)
//! implements it, with no business logic: typed messages ([`model`]), actions ([`action`]),
//! `startrace`/`edit` settings ([`settings`]), the HTTP endpoints ([`http`]), client-credentials
//! tokens ([`auth`]) and the self-healing room websocket ([`ws`]).

#![warn(missing_docs)]

pub mod action;
pub mod auth;
pub mod duration;
pub mod http;
pub mod model;
pub mod settings;
pub mod ws;

pub use action::{Action, ActionButton, OutgoingMessage, SurveyQuestion};
pub use auth::{Token, TokenManager};
pub use http::{ApiError, Credentials, RacetimeHttp};
pub use model::{
    CategoryData, ChatMessage, Entrant, EntrantStatus, RaceData, RaceStatus, ServerMessage, User,
};
pub use settings::RaceSettings;
pub use ws::{CallError, Resume, RoomSocket, SocketConfig, SocketEvent};

//! The JSON API. Every route is registered through [`utoipa_axum`]'s `routes!`, so the OpenAPI
//! 3.1 document served at `/api/openapi.json` is generated from the handlers' own
//! `#[utoipa::path]` annotations and types; `tests/openapi.rs` fails when a route is missing
//! from it. Upstream's paths (spec §3.1, §3.3) are kept under the `upstream` tag.

pub mod admin;
pub mod asyncs;
pub mod leagues;
pub mod me;
pub mod mystery;
pub mod presets;
pub mod racetime;
pub mod status;
pub mod tournaments;
pub mod webhooks;

use utoipa::openapi::security::{
    ApiKey as KeyScheme, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::AppState;

/// The document's fixed parts; the paths come from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "SahasrahBot API", version = "1", description = "Presets, mystery settings, race-room commands, your account and webhooks. Authenticate programs with `Authorization: Bearer <key>` (keys come from the operator); the website's session cookie also works for the account and preset routes."),
    modifiers(&Security),
    tags(
        (name = "health", description = "Is it up"),
        (name = "presets", description = "Global and namespaced presets"),
        (name = "mystery", description = "Mystery settings without a seed"),
        (name = "racetime", description = "Race-room commands"),
        (name = "account", description = "The caller's own account"),
        (name = "tournaments", description = "Tournaments, matches, rooms and results"),
        (name = "leagues", description = "League car-number rosters"),
        (name = "async", description = "Async tournaments (qualifiers): runs, pools, seeds and leaderboards"),
        (name = "webhooks", description = "Signed outbound webhooks"),
        (name = "admin", description = "Operator routes"),
        (name = "upstream", description = "Paths of the bot this one replaces, kept for existing tools")
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(KeyScheme::Cookie(ApiKeyValue::new(crate::sessions::COOKIE))),
        );
    }
}

/// Every JSON route, with the document describing them.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(status::status))
        .routes(routes!(status::health))
        .routes(routes!(status::healthcheck))
        .routes(routes!(racetime::command))
        .routes(routes!(racetime::upstream_command))
        .routes(routes!(mystery::posted, mystery::by_query))
        .routes(routes!(mystery::by_path))
        .routes(routes!(
            mystery::upstream_posted,
            mystery::upstream_by_query
        ))
        .routes(routes!(mystery::upstream_by_path))
        .routes(routes!(presets::list))
        .routes(routes!(presets::global))
        .routes(routes!(presets::namespace))
        .routes(routes!(presets::namespaced, presets::put, presets::delete))
        .routes(routes!(presets::upstream_download))
        .routes(routes!(presets::upstream_list))
        .routes(routes!(presets::upstream_get))
        .routes(routes!(presets::upstream_namespace))
        .routes(routes!(presets::upstream_preset))
        .routes(routes!(me::v1_me))
        .routes(routes!(me::upstream_me))
        .routes(routes!(me::display_name))
        .routes(routes!(me::unlink))
        .routes(routes!(me::purge))
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::revoke))
        .routes(routes!(
            admin::add_triforce_moderator,
            admin::remove_triforce_moderator
        ))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::remove))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(tournaments::list))
        .routes(routes!(tournaments::get, tournaments::put))
        .routes(routes!(tournaments::grant))
        .routes(routes!(tournaments::matches, tournaments::create_match))
        .routes(routes!(tournaments::results))
        .routes(routes!(tournaments::calendar))
        .routes(routes!(tournaments::room, tournaments::open_room))
        .routes(routes!(leagues::roster))
        .routes(routes!(asyncs::list))
        .routes(routes!(asyncs::get))
        .routes(routes!(asyncs::races))
        .routes(routes!(asyncs::pools))
        .routes(routes!(asyncs::permalinks))
        .routes(routes!(asyncs::leaderboard))
        .routes(routes!(asyncs::upstream_list))
        .routes(routes!(asyncs::upstream_get))
        .routes(routes!(asyncs::upstream_races))
        .routes(routes!(asyncs::upstream_pools))
        .routes(routes!(asyncs::upstream_permalinks))
        .routes(routes!(asyncs::upstream_leaderboard))
}

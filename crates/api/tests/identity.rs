//! `identity.v1.Identity` end to end: the real api service on a fresh database (MariaDB, or
//! SQLite with `TEST_DATABASE=sqlite`), users and keys written through the api library.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use api::identity::{self, NewUser};
use api::keys;
use proto::identity::v1 as pb;
use proto::identity::v1::identity_client::IdentityClient;
use sea_orm::DatabaseConnection;
use testkit::TestNats;
use tonic::Code;
use tonic::transport::Channel;

struct World {
    client: IdentityClient<Channel>,
    db: DatabaseConnection,
    _api: common::Api,
    _nats: TestNats,
}

async fn world() -> World {
    let nats = TestNats::shared();
    let api = common::start(&nats, &[]).await;
    let client = IdentityClient::connect(api.handle.grpc_url())
        .await
        .unwrap();
    World {
        client,
        db: api.db.clone(),
        _api: api,
        _nats: nats,
    }
}

async fn alice(w: &World) -> identity::user::Model {
    identity::create(
        &w.db,
        NewUser {
            discord_user_id: Some(185_198_185_990_324_225),
            racetime_user_id: Some("vOgN1DmZRxL3kA2b".into()),
            racetime_name: Some("Alice".into()),
            twitch_name: Some("alice_tv".into()),
            display_name: Some("Alice".into()),
        },
    )
    .await
    .unwrap()
}

/// The status of verifying `key`, which must be refused.
async fn refusal(w: &World, key: String) -> Code {
    w.client
        .clone()
        .verify_api_key(pb::VerifyApiKeyRequest { key })
        .await
        .unwrap_err()
        .code()
}

#[tokio::test]
async fn users_are_found_by_id_discord_id_and_racetime_id() {
    let mut w = world().await;
    let alice = alice(&w).await;
    let id = u64::try_from(alice.id).unwrap();
    let by_id = w
        .client
        .get_user(pb::GetUserRequest { id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_id.discord_user_id, 185_198_185_990_324_225);
    assert_eq!(by_id.racetime_name, "Alice");
    assert_eq!(by_id.twitch_name, "alice_tv");
    let by_discord = w
        .client
        .find_by_discord_id(pb::FindByDiscordIdRequest {
            discord_user_id: 185_198_185_990_324_225,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_discord.id, id);
    let by_racetime = w
        .client
        .find_by_racetime_id(pb::FindByRacetimeIdRequest {
            racetime_user_id: "vOgN1DmZRxL3kA2b".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_racetime.id, id);
}

#[tokio::test]
async fn unknown_ids_are_not_found_never_a_zero_user() {
    let mut w = world().await;
    let status = w
        .client
        .get_user(pb::GetUserRequest { id: 424_242 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = w
        .client
        .find_by_discord_id(pb::FindByDiscordIdRequest { discord_user_id: 7 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = w
        .client
        .find_by_racetime_id(pb::FindByRacetimeIdRequest {
            racetime_user_id: "nobody".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = w
        .client
        .find_by_discord_id(pb::FindByDiscordIdRequest { discord_user_id: 0 })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn many_discord_ids_are_looked_up_at_once() {
    let mut w = world().await;
    alice(&w).await;
    identity::create(
        &w.db,
        NewUser {
            discord_user_id: Some(2),
            display_name: Some("Bob".into()),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    let reply = w
        .client
        .find_by_discord_ids(pb::FindByDiscordIdsRequest {
            discord_user_ids: vec![2, 185_198_185_990_324_225, 3, 2],
        })
        .await
        .unwrap()
        .into_inner();
    let mut found: Vec<u64> = reply.users.iter().map(|u| u.discord_user_id).collect();
    found.sort_unstable();
    assert_eq!(found, [2, 185_198_185_990_324_225]);
    assert_eq!(reply.missing, [3]);
    // Link status, for a tournament deciding whom it can invite to a race room.
    let linked: Vec<(u64, bool)> = {
        let mut l: Vec<(u64, bool)> = reply
            .users
            .iter()
            .map(|u| (u.discord_user_id, u.racetime_linked))
            .collect();
        l.sort_unstable();
        l
    };
    assert_eq!(linked, [(2, false), (185_198_185_990_324_225, true)]);
    let too_many = w
        .client
        .find_by_discord_ids(pb::FindByDiscordIdsRequest {
            discord_user_ids: (1..=1001).collect(),
        })
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_key_is_stored_only_as_its_hash_and_verifies_with_its_owner_and_scopes() {
    let mut w = world().await;
    let alice = alice(&w).await;
    let (row, key) = keys::create(
        &w.db,
        "tracker",
        Some(alice.id),
        &["asynctournament:read".into(), "racetime:cmd:alttpr".into()],
        None,
    )
    .await
    .unwrap();
    assert!(key.starts_with(keys::PREFIX));
    assert_ne!(row.key_hash, key, "the key itself is not stored");
    assert_eq!(row.key_hash, keys::hash(&key));
    let reply = w
        .client
        .verify_api_key(pb::VerifyApiKeyRequest { key })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.owner.unwrap().racetime_name, "Alice");
    assert_eq!(
        reply.scopes,
        ["asynctournament:read", "racetime:cmd:alttpr"]
    );

    let (_, operator_key) = keys::create(&w.db, "operator", None, &["presets:write".into()], None)
        .await
        .unwrap();
    let reply = w
        .client
        .verify_api_key(pb::VerifyApiKeyRequest { key: operator_key })
        .await
        .unwrap()
        .into_inner();
    assert!(reply.owner.is_none(), "an operator's key has no owner");
}

#[tokio::test]
async fn wrong_expired_and_revoked_keys_are_unauthenticated() {
    let w = world().await;
    let (row, key) = keys::create(&w.db, "tracker", None, &["presets:write".into()], None)
        .await
        .unwrap();
    assert_eq!(refusal(&w, format!("{key}x")).await, Code::Unauthenticated);
    assert_eq!(refusal(&w, String::new()).await, Code::Unauthenticated);
    let (expired_row, expired) = keys::create(
        &w.db,
        "old",
        None,
        &["presets:write".into()],
        Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
    )
    .await
    .unwrap();
    assert_eq!(refusal(&w, expired).await, Code::Unauthenticated);
    assert!(keys::revoke(&w.db, row.id).await.unwrap());
    assert!(!keys::revoke(&w.db, row.id).await.unwrap(), "revoked once");
    assert_eq!(refusal(&w, key).await, Code::Unauthenticated);
    let listed: Vec<i64> = keys::list(&w.db)
        .await
        .unwrap()
        .iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(listed, [expired_row.id, row.id], "newest first");
}

//! Interaction latency of the gateway: the real `gateway` binary in its own process, the fake
//! Discord (REST + gateway) and a zero-latency SeedGen stand-in in this process, MariaDB and
//! NATS real. Rounds of 50 `/alttpr preset` interactions are dispatched at once; for each it
//! measures dispatch → deferred ack (the callback reaching the fake) and dispatch → final reply
//! (the edit of the original). Prints p50/p99 of both, first one interaction at a time and then
//! in the rounds, and the gateway's RSS.
//!
//! `cargo bench -p gateway` (release build). Needs MariaDB and NATS like the tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use proto::seedgen::v1 as pb;
use proto::seedgen::v1::seed_gen_server::{SeedGen, SeedGenServer};
use serde_json::json;
use testkit::bench::p50_p99;
use testkit::discord::{APPLICATION_ID, BOT_TOKEN, Invoker};
use testkit::process::ServiceProcess;
use testkit::{FakeDiscord, TestDb, TestNats};
use tonic::{Request, Response, Status};

/// Answers Generate at once with a fixed ALTTPR seed; everything else is unimplemented.
struct InstantSeedGen;

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl SeedGen for InstantSeedGen {
    async fn generate(&self, request: Request<pb::GenerateRequest>) -> Answer<pb::GenerateReply> {
        let r = request.into_inner();
        Ok(Response::new(pb::GenerateReply {
            permalink: "https://alttpr.com/h/BenchHash".into(),
            hash: "BenchHash".into(),
            file_select_code: ["Bow", "Boots", "Hookshot", "Bombs", "Lamp"]
                .map(String::from)
                .to_vec(),
            settings: [
                ("goal", "ganon"),
                ("mode", "open"),
                ("weapons", "randomized"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into(),
            randomizer: r.randomizer,
            option: r.preset,
            kind: "preset".into(),
            ..Default::default()
        }))
    }
    async fn list_presets(
        &self,
        _: Request<pb::ListPresetsRequest>,
    ) -> Answer<pb::ListPresetsReply> {
        Err(Status::unimplemented("bench"))
    }
    async fn get_preset(&self, _: Request<pb::GetPresetRequest>) -> Answer<pb::Preset> {
        Err(Status::unimplemented("bench"))
    }
    async fn save_preset(&self, _: Request<pb::SavePresetRequest>) -> Answer<pb::Preset> {
        Err(Status::unimplemented("bench"))
    }
    async fn delete_preset(
        &self,
        _: Request<pb::DeletePresetRequest>,
    ) -> Answer<pb::DeletePresetReply> {
        Err(Status::unimplemented("bench"))
    }
    async fn add_collaborator(
        &self,
        _: Request<pb::AddCollaboratorRequest>,
    ) -> Answer<pb::AddCollaboratorReply> {
        Err(Status::unimplemented("bench"))
    }
    async fn roll_mystery(
        &self,
        _: Request<pb::RollMysteryRequest>,
    ) -> Answer<pb::RollMysteryReply> {
        Err(Status::unimplemented("bench"))
    }
    async fn verify_game(&self, _: Request<pb::VerifyGameRequest>) -> Answer<pb::VerifyGameReply> {
        Err(Status::unimplemented("bench"))
    }
    async fn get_daily(&self, _: Request<pb::GetDailyRequest>) -> Answer<pb::GetDailyReply> {
        Err(Status::unimplemented("bench"))
    }
    async fn convert_customizer(
        &self,
        _: Request<pb::ConvertCustomizerRequest>,
    ) -> Answer<pb::ConvertCustomizerReply> {
        Err(Status::unimplemented("bench"))
    }
}

/// One round: `n` interactions at once; returns (ack, reply) latencies.
async fn round(fake: &FakeDiscord, n: usize, round: usize) -> (Vec<Duration>, Vec<Duration>) {
    let mut calls = fake.subscribe_calls();
    let mut pending: HashMap<String, Instant> = HashMap::new();
    for i in 0..n {
        let invoker = Invoker::member(1_000 + (round * n + i) as u64, "bench");
        let sent = fake.slash_command(
            &invoker,
            &["alttpr", "preset"],
            &[("preset", json!("open"))],
            &[],
        );
        pending.insert(sent.token.clone(), Instant::now());
    }
    let (mut acks, mut replies) = (Vec::new(), Vec::new());
    let mut acked: HashMap<String, ()> = HashMap::new();
    while replies.len() < n {
        let call = tokio::time::timeout(Duration::from_secs(30), calls.recv())
            .await
            .expect("the gateway answers in time")
            .expect("call stream");
        let segments: Vec<&str> = call.path.split('/').collect();
        match (call.method.as_str(), segments.as_slice()) {
            ("POST", ["", "interactions", _, token, "callback"]) => {
                if let Some(at) = pending.get(*token) {
                    acks.push(call.at.duration_since(*at));
                    acked.insert((*token).to_string(), ());
                }
            }
            ("PATCH", ["", "webhooks", _, token, "messages", "@original"]) => {
                if let Some(at) = pending.remove(*token) {
                    replies.push(call.at.duration_since(at));
                }
            }
            _ => {}
        }
    }
    (acks, replies)
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fake = FakeDiscord::start().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let seedgen_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(SeedGenServer::new(InstantSeedGen))
                .serve_with_incoming(tokio_stream_listener(listener)),
        );
        let db = TestDb::new().await.unwrap();
        let nats = TestNats::shared();
        let gateway = ServiceProcess::start(
            env!("CARGO_BIN_EXE_gateway"),
            "GATEWAY_",
            &db,
            &nats,
            &[
                ("GATEWAY_DISCORD__TOKEN", BOT_TOKEN.into()),
                ("GATEWAY_DISCORD__APPLICATION_ID", APPLICATION_ID.to_string()),
                ("GATEWAY_DISCORD__API_BASE_URL", fake.url.clone()),
                ("GATEWAY_DISCORD__GATEWAY_URL", fake.gateway_url.clone()),
                ("GATEWAY_PEERS__SEEDGEN__URL", seedgen_url),
            ],
        )
        .await
        .unwrap();
        fake.wait_for_session(Duration::from_secs(30)).await;
        let idle = gateway.rss_mib();
        // Warm-up: connections, caches, allocator.
        round(&fake, 50, 0).await;
        // One at a time: the latency without queueing.
        let (mut solo_acks, mut solo_replies) = (Vec::new(), Vec::new());
        for r in 0..100 {
            let (a, b) = round(&fake, 1, 10_000 + r).await;
            solo_acks.extend(a);
            solo_replies.extend(b);
        }
        solo_acks.sort();
        solo_replies.sort();
        println!(
            "gateway, 100 interactions one at a time: → deferred ack {} | → final reply {}",
            p50_p99(&solo_acks),
            p50_p99(&solo_replies),
        );
        let (mut acks, mut replies) = (Vec::new(), Vec::new());
        for r in 1..=20 {
            let (a, b) = round(&fake, 50, r).await;
            acks.extend(a);
            replies.extend(b);
        }
        acks.sort();
        replies.sort();
        println!(
            "gateway, 20 rounds of 50 concurrent /alttpr preset ({} interactions), zero-latency seedgen:",
            replies.len()
        );
        println!(
            "  interaction → deferred ack: {} | → final reply: {}",
            p50_p99(&acks),
            p50_p99(&replies),
        );
        println!(
            "  gateway RSS: {idle:.1} MiB idle, {:.1} MiB after",
            gateway.rss_mib()
        );
    });
}

/// The listener as the stream of connections tonic serves.
fn tokio_stream_listener(
    listener: tokio::net::TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    futures::stream::unfold(listener, |listener| async move {
        let accepted = listener.accept().await.map(|(stream, _)| stream);
        Some((accepted, listener))
    })
}

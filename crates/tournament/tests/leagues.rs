//! League car numbers (and ranked-choice elections, the other community feature the
//! tournament service owns) end to end: the real tournament and gateway services in-process, the
//! fake Discord and the fake iRacing. Setup from Discord, claims (two at the same instant for
//! one number: one wins), out-of-range and reserved numbers, release and force-release with
//! audit rows, a trade confirmed with a button, the roster paginated past 25 entries, the CSV
//! export, announcements, and a sync that verifies claims and reports each kind of mismatch;
//! iRacing down, rate limiting, or refusing the credentials.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use gateway::GatewayService;
use platform::Service;
use proto::leagues::v1 as pb;
use proto::leagues::v1::leagues_client::LeaguesClient;
use serde_json::{Value as Json, json};
use testkit::discord::Invoker;
use testkit::iracing::FakeIracing;
use testkit::{FakeDiscord, ServiceHandle, TestDb, TestNats};
use tonic::transport::Channel;
use tournament::TournamentService;

const WAIT: Duration = Duration::from_secs(30);
const GUILD: u64 = 1;
const ADMIN_ROLE: u64 = 5_001;
const ANNOUNCE: u64 = 5_002;
const IRACING_LEAGUE: u64 = 8_888;

struct World {
    discord: FakeDiscord,
    iracing: FakeIracing,
    tournament: ServiceHandle,
    _gateway: ServiceHandle,
    _dbs: Vec<TestDb>,
    /// Dropping it deletes the test's stream.
    nats: TestNats,
}

async fn world(with_iracing: bool) -> World {
    testkit::init();
    let nats = TestNats::shared();
    let discord = FakeDiscord::start().await.unwrap();
    let iracing = FakeIracing::start().await.unwrap();
    let tournament_listeners = testkit::bind_ephemeral().await.unwrap();
    let tournament_url = format!("http://{}", tournament_listeners.local_addrs().unwrap().0);

    let gateway_db = TestDb::new().await.unwrap();
    let mut settings = GatewayService::default_settings();
    testkit::configure(&mut settings.common, &gateway_db, &nats);
    settings.common.peers.get_mut("tournament").unwrap().url = tournament_url;
    let d = &mut settings.service.discord;
    d.token = Some(testkit::discord::BOT_TOKEN.to_string().into());
    d.application_id = Some(testkit::discord::APPLICATION_ID);
    d.api_base_url = discord.url.clone();
    d.gateway_url = discord.gateway_url.clone();
    let mut gateway =
        ServiceHandle::spawn::<GatewayService>(settings, testkit::bind_ephemeral().await.unwrap())
            .unwrap();
    gateway.wait_ready(WAIT).await.unwrap();

    let tournament_db = TestDb::new().await.unwrap();
    let mut settings = TournamentService::default_settings();
    testkit::configure(&mut settings.common, &tournament_db, &nats);
    settings.common.peers.get_mut("gateway").unwrap().url = gateway.grpc_url();
    settings.service.schedule_poll_secs = 3600;
    if with_iracing {
        let i = &mut settings.service.iracing;
        i.oauth_url = format!("{}/oauth2", iracing.url);
        i.data_url = iracing.url.clone();
        i.client_id = testkit::iracing::CLIENT_ID.into();
        i.client_secret = Some(testkit::iracing::CLIENT_SECRET.to_string().into());
        i.username = testkit::iracing::USERNAME.into();
        i.password = Some(testkit::iracing::PASSWORD.to_string().into());
    }
    let mut tournament =
        ServiceHandle::spawn::<TournamentService>(settings, tournament_listeners).unwrap();
    tournament.wait_ready(WAIT).await.unwrap();
    discord.wait_for_session(WAIT).await;
    World {
        discord,
        iracing,
        tournament,
        _gateway: gateway,
        _dbs: vec![gateway_db, tournament_db],
        nats,
    }
}

fn member(id: u64) -> Invoker {
    Invoker::member(id, &format!("member{id}"))
}

fn league_admin(id: u64) -> Invoker {
    Invoker {
        roles: vec![ADMIN_ROLE],
        ..member(id)
    }
}

impl World {
    /// An api service reaching this world's tournament service; its base URL.
    async fn api(&self) -> (ServiceHandle, TestDb, String) {
        self.api_with_login(None).await
    }

    /// Like [`World::api`], with "Log in with Discord" through `discord`'s fake OAuth2.
    async fn api_with_login(
        &self,
        discord: Option<&testkit::oauth::FakeOAuth>,
    ) -> (ServiceHandle, TestDb, String) {
        let db = TestDb::new().await.unwrap();
        let mut settings = api::ApiService::default_settings();
        testkit::configure(&mut settings.common, &db, &self.nats);
        settings.common.peers.get_mut("tournament").unwrap().url = self.tournament.grpc_url();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        settings.service.http.listen = ([127, 0, 0, 1], port).into();
        settings.service.http.public_url = format!("http://127.0.0.1:{port}");
        if let Some(d) = discord {
            let s = &mut settings.service.discord;
            s.client_id = d.client_id.clone();
            s.client_secret = Some(d.client_secret.clone().into());
            s.authorize_url = d.authorize_url();
            s.token_url = d.token_url();
            s.api_url = d.api_url();
            d.register_redirect(&format!("http://127.0.0.1:{port}/callback/discord/"));
        }
        let mut api = ServiceHandle::spawn::<api::ApiService>(
            settings,
            testkit::bind_ephemeral().await.unwrap(),
        )
        .unwrap();
        api.wait_ready(WAIT).await.unwrap();
        (api, db, format!("http://127.0.0.1:{port}"))
    }

    /// Runs a command and returns the reply's text (content, or the first embed's
    /// description).
    async fn say(&self, who: &Invoker, path: &[&str], options: &[(&str, Json)]) -> Json {
        let sent = self.discord.slash_command(who, path, options, &[]);
        self.discord
            .wait_for_reply(&sent, WAIT, |r| {
                r["content"].as_str().is_some_and(|c| !c.is_empty())
                    || r["embeds"].as_array().is_some_and(|e| !e.is_empty())
            })
            .await
    }

    async fn text(&self, who: &Invoker, path: &[&str], options: &[(&str, Json)]) -> String {
        let reply = self.say(who, path, options).await;
        reply["content"].as_str().unwrap_or_default().to_owned()
    }

    async fn client(&self) -> LeaguesClient<Channel> {
        LeaguesClient::connect(self.tournament.grpc_url())
            .await
            .unwrap()
    }

    async fn setup(&self) {
        let text = self
            .text(
                &Invoker::admin(1, "owner"),
                &["league", "setup"],
                &[
                    ("name", json!("Thursday Night Racing")),
                    ("min", json!(1)),
                    ("max", json!(60)),
                    ("reserved", json!("13, 42")),
                    ("admin_role", json!({"role": ADMIN_ROLE.to_string()})),
                    ("announce_channel", json!({"channel": ANNOUNCE.to_string()})),
                    ("iracing_league", json!(IRACING_LEAGUE)),
                ],
            )
            .await;
        assert!(text.starts_with("Saved."), "{text}");
        assert!(text.contains("numbers 1–60"), "{text}");
    }
}

#[tokio::test]
async fn members_claim_release_and_trade_numbers_from_discord() {
    let w = world(true).await;
    // Only a server manager sets up a league.
    let refused = w
        .text(&member(2), &["league", "setup"], &[("name", json!("Mine"))])
        .await;
    assert!(refused.contains("Manage Server"), "{refused}");
    w.setup().await;

    // Two members claim #7 at the same instant: exactly one wins, the other is told who.
    let a = w
        .discord
        .slash_command(&member(101), &["claim"], &[("number", json!(7))], &[]);
    let b = w
        .discord
        .slash_command(&member(102), &["claim"], &[("number", json!(7))], &[]);
    let ready = |r: &Json| r["content"].as_str().is_some_and(|c| !c.is_empty());
    let ra = w.discord.wait_for_reply(&a, WAIT, ready).await["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let rb = w.discord.wait_for_reply(&b, WAIT, ready).await["content"]
        .as_str()
        .unwrap()
        .to_owned();
    let won: Vec<&String> = [&ra, &rb]
        .into_iter()
        .filter(|r| r.starts_with("You now hold **#7**"))
        .collect();
    assert_eq!(won.len(), 1, "{ra} / {rb}");
    let lost = if won[0] == &ra { &rb } else { &ra };
    assert!(lost.contains("#7 is already taken by <@10"), "{lost}");
    let winner = if won[0] == &ra { 101 } else { 102 };
    let loser = if winner == 101 { 102 } else { 101 };

    // Out of range, reserved, and the one-number limit.
    let out = w
        .text(&member(loser), &["claim"], &[("number", json!(61))])
        .await;
    assert!(
        out.contains("outside this league's numbers (1–60)"),
        "{out}"
    );
    let reserved = w
        .text(&member(loser), &["claim"], &[("number", json!(13))])
        .await;
    assert!(reserved.contains("#13 is reserved"), "{reserved}");
    let ok = w
        .text(&member(loser), &["claim"], &[("number", json!(8))])
        .await;
    assert!(ok.starts_with("You now hold **#8**"), "{ok}");
    let limit = w
        .text(&member(loser), &["claim"], &[("number", json!(9))])
        .await;
    assert!(limit.contains("at most 1 per member"), "{limit}");

    // Autocomplete offers free numbers only.
    let typed = w
        .discord
        .autocomplete(&member(103), &["claim"], &[], ("number", "1"));
    let choices = w.discord.autocomplete_choices(&typed, WAIT).await;
    let offered: Vec<i64> = choices.iter().filter_map(|c| c["value"].as_i64()).collect();
    assert!(offered.contains(&1) && offered.contains(&10), "{offered:?}");
    assert!(
        !offered.contains(&13),
        "reserved is not offered: {offered:?}"
    );

    // A trade, confirmed by the partner's button.
    let offer = w
        .say(
            &member(winner),
            &["trade"],
            &[
                ("mine", json!(7)),
                ("member", json!({"user": loser.to_string()})),
                ("theirs", json!(8)),
            ],
        )
        .await;
    let buttons = &offer["components"][0]["components"];
    let accept = buttons[0]["custom_id"].as_str().unwrap().to_owned();
    assert!(accept.starts_with("league:accept:"), "{offer}");
    // Only the partner can accept.
    let wrong = w.discord.click_button(&member(winner), &accept);
    let answer = w.discord.callback(&wrong, WAIT).await;
    assert!(
        answer
            .to_string()
            .contains("Only the member asked can accept"),
        "{answer}"
    );
    let click = w.discord.click_button(&member(loser), &accept);
    let done = w.discord.callback(&click, WAIT).await;
    assert!(done.to_string().contains("Trade done"), "{done}");
    let mine = w.text(&member(loser), &["mynumbers"], &[]).await;
    assert!(mine.contains("**#7**"), "{mine}");

    // Release, then force-release by a league admin, each audited and announced.
    let released = w
        .text(&member(loser), &["release"], &[("number", json!(7))])
        .await;
    assert_eq!(released, "You released **#7**.");
    let not_admin = w
        .text(
            &member(103),
            &["forcerelease"],
            &[("number", json!(8)), ("reason", json!("inactive"))],
        )
        .await;
    assert!(
        not_admin.contains("Only the league's admins"),
        "{not_admin}"
    );
    let forced = w
        .text(
            &league_admin(104),
            &["forcerelease"],
            &[("number", json!(8)), ("reason", json!("inactive"))],
        )
        .await;
    assert!(
        forced.contains(&format!("**#8** was taken back from <@{winner}>")),
        "{forced}"
    );
    let log = w.text(&league_admin(104), &["auditlog"], &[]).await;
    for expected in [
        "force-released #8: inactive",
        "released #7",
        "trade",
        "claimed #8",
        "claimed #7",
    ] {
        assert!(log.contains(expected), "{expected} in {log}");
    }
    let history = w
        .text(&member(105), &["check"], &[("number", json!(7))])
        .await;
    assert!(
        history.contains("is free")
            && history.contains("(traded)")
            && history.contains("(released)"),
        "{history}"
    );
    // Announcements, one per event.
    for _ in 0..100 {
        if w.discord.channel_messages(ANNOUNCE).len() >= 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let posts: Vec<String> = w
        .discord
        .channel_messages(ANNOUNCE)
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        posts.iter().any(|p| p.contains("claimed **#7**")),
        "{posts:?}"
    );
    assert!(
        posts
            .iter()
            .any(|p| p.contains("**#8** is free again") && p.contains("taken back")),
        "{posts:?}"
    );
    assert_eq!(
        posts.len(),
        8,
        "2 claims, 2×2 for the trade, 2 releases: {posts:?}"
    );
}

#[tokio::test]
async fn the_roster_pages_past_25_exports_as_csv_and_syncs_with_iracing() {
    let w = world(true).await;
    w.setup().await;
    let mut client = w.client().await;
    // 30 members with a number each (through the service, as the commands would).
    for i in 0..30u64 {
        let user = 200 + i;
        // 14 on, stepping over reserved #42.
        let number = i32::try_from(i).unwrap() + 14;
        let number = if number >= 42 { number + 1 } else { number };
        let claim = client
            .claim(pb::NumberRequest {
                league: Some(pb::LeagueRef {
                    guild_id: GUILD,
                    league: String::new(),
                }),
                member: Some(pb::Member {
                    discord_user_id: user,
                    ..Default::default()
                }),
                number,
                ..Default::default()
            })
            .await;
        assert!(claim.is_ok(), "{claim:?}");
    }
    let page = w.say(&member(300), &["roster"], &[]).await;
    let first = page["embeds"][0]["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(first.lines().count(), 20, "{first}");
    assert!(
        page["embeds"][0]["footer"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Page 1 of 2 · 30 numbers")
    );
    let next = page["components"][0]["components"][1]["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let click = w.discord.click_button(&member(300), &next);
    let second = w.discord.callback(&click, WAIT).await;
    let text = second.to_string();
    assert!(
        text.contains("Page 2 of 2") && text.contains("**#44**"),
        "{text}"
    );

    // The CSV export has every claim.
    let export = w.discord.slash_command(&member(300), &["export"], &[], &[]);
    let call = w
        .discord
        .wait_for_call(WAIT, |c| {
            c.files.iter().any(|(name, _)| name == "roster.csv")
        })
        .await;
    let _ = export;
    let csv = String::from_utf8(call.files[0].1.clone()).unwrap();
    assert_eq!(csv.lines().count(), 31, "{csv}");
    assert!(
        csv.starts_with("number,class,discord_user_id,iracing_cust_id"),
        "{csv}"
    );

    // Links and the iRacing roster: two verified, one differing, one not on iRacing, one
    // numbered on iRacing but unclaimed, the rest unlinked.
    for (user, cust) in [(200u64, 9_000u64), (201, 9_001), (202, 9_002), (203, 9_003)] {
        let linked = w
            .text(&member(user), &["link"], &[("iracing_id", json!(cust))])
            .await;
        assert!(linked.starts_with("Linked iRacing account"), "{linked}");
    }
    let taken = w
        .text(&member(204), &["link"], &[("iracing_id", json!(9_000))])
        .await;
    assert!(taken.contains("already linked by <@200>"), "{taken}");
    w.iracing.set_roster(
        IRACING_LEAGUE,
        &[
            (9_000, "Ann Driver", Some("14")),
            (9_001, "Ben Driver", Some("15")),
            (9_002, "Cat Driver", Some("99")),
            (9_004, "Dan Driver", Some("55")),
        ],
    );
    let member_sync = w.text(&member(205), &["sync"], &[]).await;
    assert!(
        member_sync.contains("Only the league's admins"),
        "{member_sync}"
    );
    w.iracing.rate_limit(1);
    let report = w.text(&league_admin(104), &["sync"], &[]).await;
    assert!(
        report.contains("2 verified, 1 claimed but not on the iRacing roster, 1 numbered on iRacing but unclaimed, 1 with a different number, 26 not linked"),
        "{report}"
    );
    assert!(report.contains("#55 Dan Driver (9004)"), "{report}");
    assert!(
        report.contains("<@202>: #16 here, #99 on iRacing"),
        "{report}"
    );
    let status = w.text(&member(205), &["syncstatus"], &[]).await;
    assert!(status.contains("2 verified"), "{status}");
    let roster = w.say(&member(300), &["roster"], &[]).await;
    let first = roster["embeds"][0]["description"].as_str().unwrap();
    assert!(
        first.contains("**#14** <@200> — Ann Driver (9000) ✅"),
        "{first}"
    );
    assert_eq!(w.iracing.logins(), 1, "the token is reused");

    // iRacing down, then refusing the credentials: clear messages, nothing changed.
    w.iracing.set_down(true);
    let down = w.text(&league_admin(104), &["sync"], &[]).await;
    assert!(down.contains("iRacing is unavailable"), "{down}");
    w.iracing.set_down(false);
    w.iracing.refuse_logins(true);
    let refused = w.text(&league_admin(104), &["sync"], &[]).await;
    assert!(
        refused.contains("refused the bot's credentials"),
        "{refused}"
    );
    let status = w.text(&member(205), &["syncstatus"], &[]).await;
    assert!(
        status.contains("2 verified"),
        "the last good report stays: {status}"
    );

    // The public roster through api: JSON, CSV and the page.
    let (_api, _api_db, base) = w.api().await;
    let http = reqwest::Client::new();
    let json: Json = http
        .get(format!("{base}/api/v1/leagues/{GUILD}/-/roster"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["name"], "Thursday Night Racing");
    assert_eq!(json["claims"].as_array().unwrap().len(), 30, "{json}");
    assert_eq!(json["claims"][0]["number"], 14);
    assert_eq!(json["claims"][0]["iracing_name"], "Ann Driver");
    assert_eq!(json["claims"][0]["verified"], true);
    assert_eq!(json["reserved"], json!([13, 42]));
    let csv = http
        .get(format!(
            "{base}/api/v1/leagues/{GUILD}/main/roster?format=csv"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(csv.text().await.unwrap().lines().count(), 31);
    let page = http
        .get(format!("{base}/leagues/{GUILD}/main"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<h1>Thursday Night Racing</h1>"), "{page}");
    assert!(
        page.contains("<td>#14</td>") && page.contains("Ann Driver"),
        "{page}"
    );
    let missing = http
        .get(format!("{base}/api/v1/leagues/{GUILD}/nope/roster"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn without_iracing_credentials_sync_is_off_and_says_so() {
    let w = world(false).await;
    w.setup().await;
    let config = w.text(&member(2), &["league", "config"], &[]).await;
    assert!(
        config.contains("sync is not configured in this deployment"),
        "{config}"
    );
    let sync = w.text(&league_admin(3), &["sync"], &[]).await;
    assert!(sync.contains("not configured in this deployment"), "{sync}");
    let status = w.text(&member(2), &["syncstatus"], &[]).await;
    assert!(status.contains("not configured"), "{status}");
    // Outside a server.
    let dm = w
        .text(
            &Invoker {
                guild_id: None,
                ..member(2)
            },
            &["claim"],
            &[("number", json!(3))],
        )
        .await;
    assert!(dm.contains("use this in the server"), "{dm}");
}

/// Who × action: a plain member, a holder of the league's admin role and a server manager,
/// against every admin action, straight at the service (the gateway only passes them on).
#[tokio::test]
async fn admin_actions_are_checked_by_the_service_for_every_kind_of_member() {
    let w = world(false).await;
    w.setup().await;
    let mut client = w.client().await;
    let league = || {
        Some(pb::LeagueRef {
            guild_id: GUILD,
            league: String::new(),
        })
    };
    let plain = pb::Member {
        discord_user_id: 601,
        ..Default::default()
    };
    let role_admin = pb::Member {
        discord_user_id: 602,
        role_ids: vec![ADMIN_ROLE],
        ..Default::default()
    };
    let manager = pb::Member {
        discord_user_id: 603,
        manages_guild: true,
        ..Default::default()
    };
    let holder = pb::Member {
        discord_user_id: 604,
        ..Default::default()
    };
    for (who, allowed) in [(&plain, false), (&role_admin, true), (&manager, true)] {
        // Someone holds #5 and #6 for the actions to act on.
        for number in [5, 6] {
            let _ = client
                .reassign(pb::ReassignRequest {
                    league: league(),
                    member: Some(manager.clone()),
                    number,
                    to_discord_user_id: holder.discord_user_id,
                    ..Default::default()
                })
                .await;
        }
        let outcomes = [
            (
                "force release",
                client
                    .force_release(pb::NumberRequest {
                        league: league(),
                        member: Some(who.clone()),
                        number: 5,
                        reason: "test".into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
            (
                "reassign",
                client
                    .reassign(pb::ReassignRequest {
                        league: league(),
                        member: Some(who.clone()),
                        number: 6,
                        to_discord_user_id: who.discord_user_id,
                        ..Default::default()
                    })
                    .await
                    .map(drop),
            ),
            (
                "audit log",
                client
                    .audit_log(pb::AuditLogRequest {
                        league: league(),
                        member: Some(who.clone()),
                        limit: 5,
                    })
                    .await
                    .map(drop),
            ),
            (
                "change settings",
                client
                    .setup_league(pb::SetupLeagueRequest {
                        member: Some(who.clone()),
                        league: Some(pb::League {
                            guild_id: GUILD,
                            slug: "main".into(),
                            name: "Renamed".into(),
                            number_min: 1,
                            number_max: 60,
                            max_per_member: 1,
                            reserved: vec![13, 42],
                            admin_role_id: ADMIN_ROLE,
                            sync_hours: 1,
                            ..Default::default()
                        }),
                    })
                    .await
                    .map(drop),
            ),
        ];
        for (action, outcome) in outcomes {
            match (allowed, outcome) {
                (true, Ok(())) => {}
                (false, Err(status)) => {
                    assert_eq!(
                        status.code(),
                        tonic::Code::PermissionDenied,
                        "{action}: {status:?}"
                    );
                }
                (allowed, outcome) => panic!(
                    "{action} by {}: allowed {allowed}, got {outcome:?}",
                    who.discord_user_id
                ),
            }
        }
        // Creating a second league needs Manage Server, not the league's role.
        let create = client
            .setup_league(pb::SetupLeagueRequest {
                member: Some(who.clone()),
                league: Some(pb::League {
                    guild_id: GUILD,
                    slug: format!("new-{}", who.discord_user_id),
                    name: "New".into(),
                    number_min: 1,
                    number_max: 10,
                    max_per_member: 1,
                    ..Default::default()
                }),
            })
            .await;
        assert_eq!(create.is_ok(), who.manages_guild, "{create:?}");
    }
    // A member releases only their own number.
    let _ = client
        .claim(pb::NumberRequest {
            league: league(),
            member: Some(holder.clone()),
            number: 20,
            ..Default::default()
        })
        .await;
    let theft = client
        .release(pb::NumberRequest {
            league: Some(pb::LeagueRef {
                guild_id: GUILD,
                league: "main".into(),
            }),
            member: Some(plain.clone()),
            number: 20,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(theft.code(), tonic::Code::InvalidArgument);
    assert!(theft.message().contains("You do not hold #20"), "{theft:?}");
}

/// `/rankedchoice create` posts the election; ballots (one per voter, the voter role checked
/// live) update the post; only the owner's End Election click counts it — spec §4.1's worked
/// example, two seats: A and B — and `results.txt` follows the post.
#[tokio::test]
async fn a_private_election_is_posted_voted_counted_and_closed_once() {
    use proto::elections::v1 as el;
    use proto::elections::v1::elections_client::ElectionsClient;
    const VOTER_ROLE: u64 = 7_001;
    let w = world(false).await;
    let owner = Invoker::admin(1, "owner");
    let refused = w
        .text(
            &member(2),
            &["rankedchoice", "create"],
            &[("title", json!("Council")), ("candidates", json!("A, B"))],
        )
        .await;
    assert!(refused.contains("Manage Server"), "{refused}");
    let duplicate = w
        .text(
            &owner,
            &["rankedchoice", "create"],
            &[
                ("title", json!("Council")),
                ("candidates", json!("A, B, a")),
            ],
        )
        .await;
    assert!(duplicate.contains("listed twice"), "{duplicate}");
    let created = w
        .text(
            &owner,
            &["rankedchoice", "create"],
            &[
                ("title", json!("Council 2027")),
                ("candidates", json!("A, B, C, D")),
                ("seats", json!(2)),
                (
                    "authorized_voters_role",
                    json!({"role": VOTER_ROLE.to_string()}),
                ),
            ],
        )
        .await;
    assert!(
        created.starts_with("Election **Council 2027** is open (ID "),
        "{created}"
    );
    let id: i64 = created
        .split("(ID ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    let post = w.discord.channel_messages(10).last().cloned().unwrap();
    let embed = &post["embeds"][0];
    assert_eq!(embed["title"], "Council 2027");
    let text = embed.to_string();
    assert!(text.contains(&format!("/ranked_choice/{id}")), "{text}");
    assert!(text.contains(&format!("<@&{VOTER_ROLE}>")), "{text}");
    let end = post["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(end, format!("election:end:{id}"));

    // Ballots: 4×[A,B,C], 2×[B,A], 2×[C,B], 1×[D,C] from members holding the role.
    let mut client = ElectionsClient::connect(w.tournament.grpc_url())
        .await
        .unwrap();
    let candidates = client
        .get_election(el::GetElectionRequest {
            election_id: id,
            voter_discord_id: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .candidates;
    let by_name = |n: &str| candidates.iter().find(|c| c.name == n).unwrap().id;
    let ballots: Vec<Vec<&str>> = [
        vec![vec!["A", "B", "C"]; 4],
        vec![vec!["B", "A"]; 2],
        vec![vec!["C", "B"]; 2],
        vec![vec!["D", "C"]],
    ]
    .concat();
    for (i, ballot) in ballots.iter().enumerate() {
        let voter = 800 + i as u64;
        w.discord
            .add_member(GUILD, voter, &format!("voter{i}"), &[VOTER_ROLE]);
        if ballot == &vec!["D", "C"] {
            // This one is cast on the website, in a real browser.
            continue;
        }
        client
            .cast_ballot(el::CastBallotRequest {
                election_id: id,
                voter_discord_id: voter,
                ranking: ballot.iter().map(|n| by_name(n)).collect(),
            })
            .await
            .unwrap();
    }
    // The last voter logs in with Discord and ranks D first, C second on the ballot page.
    let oauth = testkit::oauth::FakeOAuth::discord().await.unwrap();
    let (_api, _api_db, site) = w.api_with_login(Some(&oauth)).await;
    oauth.sign_in_as("808", "voter8");
    let driver = testkit::browser::driver().await;
    let page = testkit::browser::browser(&driver).await;
    page.goto(&format!("{site}/login/")).await.unwrap();
    testkit::browser::wait_path(&page, "/me").await;
    page.goto(&format!("{site}/ranked_choice/{id}"))
        .await
        .unwrap();
    testkit::browser::fits_a_phone_and_is_labelled(&page, "ballot").await;
    for (name, rank) in [("D", "1"), ("C", "2")] {
        page.find(fantoccini::Locator::Id(&format!("rank-{}", by_name(name))))
            .await
            .unwrap()
            .select_by_value(rank)
            .await
            .unwrap();
    }
    testkit::browser::submit_and_reload(&page, "#ballot button").await;
    assert_eq!(
        testkit::browser::text(&page, "#my-ballot").await,
        "D\nC",
        "the ballot as cast"
    );
    page.close().await.unwrap();
    // One ballot each; the role is required; a stranger is not in the server.
    let again = client
        .cast_ballot(el::CastBallotRequest {
            election_id: id,
            voter_discord_id: 800,
            ranking: vec![by_name("D")],
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::AlreadyExists);
    w.discord.add_member(GUILD, 900, "norole", &[]);
    let no_role = client
        .cast_ballot(el::CastBallotRequest {
            election_id: id,
            voter_discord_id: 900,
            ranking: vec![by_name("A")],
        })
        .await
        .unwrap_err();
    assert_eq!(no_role.code(), tonic::Code::PermissionDenied);
    assert_eq!(
        no_role.message(),
        "You are not authorized to vote in this election."
    );
    let stranger = client
        .get_election(el::GetElectionRequest {
            election_id: id,
            voter_discord_id: 901,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!stranger.may_vote);
    assert_eq!(stranger.why_not, "Unable to find you in the server.");
    let twice = client
        .cast_ballot(el::CastBallotRequest {
            election_id: id,
            voter_discord_id: 801,
            ranking: vec![by_name("A"), by_name("A")],
        })
        .await
        .unwrap_err();
    assert!(
        twice.code() == tonic::Code::AlreadyExists
            || twice.message() == "Each rank must be unique."
    );

    // The post follows the ballots.
    let mut shown = String::new();
    for _ in 0..100 {
        shown = w
            .discord
            .channel_messages(10)
            .iter()
            .find(|m| m["id"] == post["id"])
            .unwrap()["embeds"]
            .to_string();
        if shown.contains("\"Ballots cast\",\"value\":\"9\"")
            || shown.contains("\"value\":\"9\",\"name\":\"Ballots cast\"")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        shown.contains("Ballots cast") && shown.contains("\"9\""),
        "{shown}"
    );

    // Only the owner ends it, once.
    let click = w.discord.click_button(&member(2), &end);
    let answer = w.discord.callback(&click, WAIT).await;
    assert!(
        answer
            .to_string()
            .contains("Only the election's creator may end it"),
        "{answer}"
    );
    let click = w.discord.click_button(&owner, &end);
    let answer = w.discord.callback(&click, WAIT).await;
    assert!(
        answer
            .to_string()
            .contains("Election ended. Elected: A, B."),
        "{answer}"
    );
    let again = w.discord.click_button(&owner, &end);
    let answer = w.discord.callback(&again, WAIT).await;
    assert!(answer.to_string().contains("already ended"), "{answer}");
    let results = w
        .discord
        .wait_for_call(WAIT, |c| {
            c.files.iter().any(|(name, _)| name == "results.txt")
        })
        .await;
    let transcript = String::from_utf8(results.files[0].1.clone()).unwrap();
    assert!(
        transcript.starts_with("ROUND 1\nCandidate      Votes  Status\n"),
        "{transcript}"
    );
    assert!(transcript.contains("FINAL RESULT"), "{transcript}");
    assert!(
        transcript.contains("B                  3  Elected"),
        "{transcript}"
    );
    for _ in 0..100 {
        let post = w
            .discord
            .channel_messages(10)
            .into_iter()
            .find(|m| m["id"] == post["id"])
            .unwrap();
        if post["embeds"].to_string().contains("Closed") {
            assert!(post["embeds"].to_string().contains("A ✅"), "{post}");
            assert_eq!(post["components"], json!([]), "no button once closed");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the post never showed the election closed");
}

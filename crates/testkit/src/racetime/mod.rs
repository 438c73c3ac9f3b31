//! A fake racetime.gg server (HTTP and the bot websocket) that answers like racetime-app does
//! (see `specs/racetime.md` Part 1 and `fixtures/racetime/`): client-credentials tokens that
//! expire (the socket stays open but actions get `Permission denied`), category data with
//! unlisted rooms for bots, startrace/edit with the server's form rules and strings, race data,
//! and the bot websocket with every action and error string, server pings and closes.
//! Scripted users join, ready, chat, finish and forfeit through methods on [`FakeRacetime`].

mod http;
mod socket;
mod state;

pub use state::{FakeRacetime, Posted, StartraceFault};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use serde_json::{Map, Value as Json, json};
use tokio::time::Instant;

use http::*;
use socket::*;
use state::*;

impl FakeRacetime {
    /// Starts the fake on an ephemeral port with one category, `alttpr` (bot credentials
    /// `alttpr-id`/`alttpr-secret`), and token lifetime 10 h.
    pub async fn start() -> anyhow::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            token_lifetime: Duration::from_secs(36_000),
            bot_category_cache: HashMap::new(),
            bot_category_ttl: BOT_CATEGORY_CACHE,
            ping_interval: Some(Duration::from_secs(20)),
            countdown: Duration::from_millis(300),
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        // The server lives as long as the test's runtime.
        let fake = Self {
            inner: inner.clone(),
            url,
        };
        fake.add_category(
            "alttpr",
            &["Beat the game", "Beat the game - Tournament (Solo)"],
        );
        let app = Router::new()
            .route("/o/token", post(token))
            .route("/o/{category}/data", get(bot_category_data))
            .route("/o/{category}/startrace", post(startrace))
            .route("/o/{category}/{race}/edit", post(edit))
            .route("/ws/o/bot/{slug}", get(websocket))
            .route("/user/{id}/data", get(user_data))
            .route("/team/{slug}/data", get(team_data))
            .route("/user/{id}/races/data", get(user_races))
            .route("/{category}/data", get(public_category_data))
            .route("/{category}/{race}/data", get(race_data))
            .with_state(fake.clone());
        tokio::spawn(async move {
            crate::ws::serve(listener, app).await;
        });
        Ok(fake)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a category with bot credentials `{slug}-id` / `{slug}-secret`.
    pub fn add_category(&self, slug: &str, goals: &[&str]) {
        self.lock().categories.push(Category {
            slug: slug.to_string(),
            client_id: format!("{slug}-id"),
            client_secret: format!("{slug}-secret"),
            goals: goals.iter().map(|g| g.to_string()).collect(),
        });
    }

    /// Deactivates a category's bot: its credentials and tokens stop working.
    pub fn deactivate_bot(&self, slug: &str) {
        let mut inner = self.lock();
        inner.categories.retain(|c| c.slug != slug);
        inner.tokens.retain(|_, (c, _)| c != slug);
    }

    /// Lifetime (`expires_in`) of tokens minted from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.lock().token_lifetime = lifetime;
    }

    /// Expires every token now: sockets stay open, actions get `Permission denied`.
    pub fn expire_all_tokens(&self) {
        let past = Instant::now();
        for (_, expires) in self.lock().tokens.values_mut() {
            *expires = past;
        }
    }

    /// How long `pending` lasts before `in_progress` (the real server uses `start_delay`).
    pub fn set_countdown(&self, countdown: Duration) {
        self.lock().countdown = countdown;
    }

    /// WS ping interval (`None` disables server pings).
    /// How long `/o/{category}/data` answers stay cached ([`BOT_CATEGORY_CACHE`] unless set).
    pub fn set_bot_category_cache(&self, ttl: Duration) {
        let mut inner = self.lock();
        inner.bot_category_ttl = ttl;
        inner.bot_category_cache.clear();
    }

    /// Sends a server `ping` on every socket this often (`None`: never).
    pub fn set_ping_interval(&self, interval: Option<Duration>) {
        self.lock().ping_interval = interval;
    }

    /// Makes the next `startrace` misbehave.
    pub fn set_startrace_fault(&self, fault: Option<StartraceFault>) {
        self.lock().startrace_fault = fault;
    }

    /// How many `startrace` requests arrived.
    pub fn startrace_calls(&self) -> u32 {
        self.lock().startrace_calls
    }

    /// How many token requests arrived.
    pub fn token_calls(&self) -> u32 {
        self.lock().token_calls
    }

    /// Bot actions received so far, as `(race name, action)`.
    pub fn actions(&self) -> Vec<(String, String)> {
        self.lock().actions.clone()
    }

    /// Number of open bot sockets to a race.
    pub fn socket_count(&self, race: &str) -> usize {
        self.lock().races.get(race).map_or(0, |r| {
            r.sockets.iter().filter(|s| !s.tx.is_closed()).count()
        })
    }

    /// Adds a user (moderator of the given categories); returns its hashid.
    pub fn add_user(&self, name: &str, moderator_of: &[&str]) -> String {
        let mut inner = self.lock();
        let id = inner.next_id("u");
        inner.users.insert(
            id.clone(),
            UserRec {
                id: id.clone(),
                name: name.to_string(),
                twitch: Some(name.to_lowercase()),
                moderator_of: moderator_of.iter().map(|c| c.to_string()).collect(),
                joined_races: 0,
            },
        );
        id
    }

    /// Adds (or replaces) team `slug` with `members` (user hashids); the first is its owner.
    pub fn add_team(&self, slug: &str, members: &[&str]) {
        self.lock().teams.insert(
            slug.to_string(),
            members.iter().map(|m| m.to_string()).collect(),
        );
    }

    /// Adds a past race of `user` in `category` (`status` such as `finished`, `cancelled`)
    /// opened at `opened_at`; the user's races are served newest first.
    pub fn add_past_race(
        &self,
        user: &str,
        category: &str,
        status: &str,
        opened_at: chrono::DateTime<chrono::Utc>,
    ) {
        let mut inner = self.lock();
        let name = format!("{category}/{}", inner.next_id("race"));
        let races = inner.past_races.entry(user.to_string()).or_default();
        races.push((name, status.to_string(), opened_at));
        races.sort_by_key(|r| std::cmp::Reverse(r.2));
    }

    /// Forgets `user`'s past races.
    pub fn clear_past_races(&self, user: &str) {
        self.lock().past_races.remove(user);
    }

    /// How many `/user/{id}/races/data` pages were served.
    pub fn race_pages_served(&self) -> u32 {
        self.lock().race_pages_served
    }

    /// Sets how many races a user has finished (`stats.joined`).
    pub fn set_joined_races(&self, user: &str, joined: u32) {
        if let Some(u) = self.lock().users.get_mut(user) {
            u.joined_races = joined;
        }
    }

    /// A user opens a room by hand (as the website does); returns its name.
    pub fn open_room(&self, category: &str, opened_by: &str, goal: &str, unlisted: bool) -> String {
        let mut inner = self.lock();
        let name = create_race(
            &mut inner,
            category,
            Some(opened_by.to_string()),
            goal,
            false,
            &Map::new(),
            unlisted,
        );
        let text = format!("Race opened by {}", inner.user_name(opened_by));
        inner.system(&name, &text);
        name
    }

    /// A stream of `(race, text)` for every line the bot posts (benchmarks time replies with it).
    pub fn subscribe_bot_posts(&self) -> tokio::sync::broadcast::Receiver<(String, String)> {
        let mut inner = self.lock();
        match &inner.bot_posts {
            Some(tx) => tx.subscribe(),
            None => {
                let (tx, rx) = tokio::sync::broadcast::channel(65_536);
                inner.bot_posts = Some(tx);
                rx
            }
        }
    }

    /// Every chat line of a race, oldest first.
    pub fn messages(&self, race: &str) -> Vec<Posted> {
        self.lock().races.get(race).map_or_else(Vec::new, |r| {
            r.messages
                .iter()
                .map(|m| Posted {
                    id: m["id"].as_str().unwrap_or_default().to_string(),
                    text: m["message"].as_str().unwrap_or_default().to_string(),
                    from_bot: m["is_bot"] == json!(true),
                    system: m["is_system"] == json!(true),
                    pinned: m["is_pinned"] == json!(true),
                    direct_to: m["direct_to"]["id"].as_str().map(str::to_string),
                    actions: m["actions"].clone(),
                })
                .collect()
        })
    }

    /// The bot's chat lines (including DMs), oldest first.
    pub fn bot_messages(&self, race: &str) -> Vec<String> {
        self.messages(race)
            .into_iter()
            .filter(|m| m.from_bot)
            .map(|m| m.text)
            .collect()
    }

    /// Waits until a bot line satisfies `predicate`; returns all bot lines then.
    pub async fn wait_for_bot(
        &self,
        race: &str,
        timeout: Duration,
        predicate: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines = self.bot_messages(race);
            if predicate(&lines) {
                return lines;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for the bot in {race}; bot lines so far: {lines:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The race as the server would serve it.
    pub fn race(&self, race: &str) -> Json {
        let inner = self.lock();
        inner
            .races
            .get(race)
            .map_or(Json::Null, |r| inner.race_json(r))
    }

    /// Names of all races of a category.
    pub fn race_names(&self, category: &str) -> Vec<String> {
        let inner = self.lock();
        let mut names: Vec<String> = inner
            .races
            .values()
            .filter(|r| r.category == category)
            .map(|r| format!("{}/{}", r.category, r.slug))
            .collect();
        names.sort();
        names
    }

    /// A user says something in the room.
    pub fn chat(&self, race: &str, user: &str, text: &str) {
        self.lock()
            .post(race, Some(user), false, text, false, json!({}), None);
    }

    /// A user joins the race (`not_ready`).
    pub fn join(&self, race: &str, user: &str) {
        self.set_entrant(
            race,
            user,
            "not_ready",
            &format!("{} joins the race.", self.lock().user_name(user)),
        );
    }

    /// A user asks to join an invitational race (`requested`).
    pub fn request_to_join(&self, race: &str, user: &str) {
        self.set_entrant(
            race,
            user,
            "requested",
            &format!("{} requests to join the race.", self.lock().user_name(user)),
        );
    }

    /// A user joins a team (team races).
    pub fn set_team(&self, race: &str, user: &str, team: &str) {
        let mut inner = self.lock();
        if let Some(e) = inner
            .races
            .get_mut(race)
            .and_then(|r| r.entrants.iter_mut().find(|e| e.user == user))
        {
            e.team = Some(team.to_string());
        }
        inner.bump(race);
    }

    fn set_entrant(&self, race: &str, user: &str, status: &str, text: &str) {
        let mut inner = self.lock();
        let Some(r) = inner.races.get_mut(race) else {
            return;
        };
        match r.entrants.iter_mut().find(|e| e.user == user) {
            Some(e) => e.status = status.to_string(),
            None => r.entrants.push(EntrantRec {
                user: user.to_string(),
                status: status.to_string(),
                finish_time: None,
                place: None,
                team: None,
            }),
        }
        inner.system(race, text);
        inner.bump(race);
    }

    /// A user readies; when every joined entrant is ready (≥2) the countdown starts.
    pub fn ready(&self, race: &str, user: &str) {
        self.set_entrant(
            race,
            user,
            "ready",
            &format!("{} is ready!", self.lock().user_name(user)),
        );
        let all_ready = {
            let inner = self.lock();
            inner.races.get(race).is_some_and(|r| {
                let joined: Vec<_> = r
                    .entrants
                    .iter()
                    .filter(|e| matches!(e.status.as_str(), "ready" | "not_ready"))
                    .collect();
                (r.status == "open" || r.status == "invitational")
                    && r.settings.get("auto_start") != Some(&json!(false))
                    && joined.len() >= 2
                    && joined.iter().all(|e| e.status == "ready")
            })
        };
        if all_ready {
            self.begin(race);
        }
    }

    /// Starts the countdown now (`pending`), then `in_progress` after the countdown.
    pub fn begin(&self, race: &str) {
        let countdown = {
            let mut inner = self.lock();
            let countdown = inner.countdown;
            let Some(r) = inner.races.get_mut(race) else {
                return;
            };
            r.entrants.retain(|e| {
                e.status == "ready" || matches!(e.status.as_str(), "invited" | "requested")
            });
            r.entrants.retain(|e| e.status == "ready");
            r.status = "pending".into();
            r.started_at = Some(now() + chrono::Duration::from_std(countdown).unwrap_or_default());
            inner.system(
                race,
                "Everyone is ready. The race will begin in 10 seconds!",
            );
            inner.bump(race);
            countdown
        };
        let fake = self.clone();
        let race = race.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(countdown).await;
            let mut inner = fake.lock();
            let Some(r) = inner.races.get_mut(&race) else {
                return;
            };
            if r.status != "pending" {
                return;
            }
            r.status = "in_progress".into();
            for e in &mut r.entrants {
                e.status = "in_progress".into();
            }
            inner.system(&race, "The race has begun! Good luck and have fun.");
            inner.bump(&race);
        });
    }

    /// A user finishes; the race finishes when nobody is still running.
    pub fn finish(&self, race: &str, user: &str) {
        let mut inner = self.lock();
        let Some(r) = inner.races.get_mut(race) else {
            return;
        };
        let place = r.entrants.iter().filter(|e| e.place.is_some()).count() as u32 + 1;
        let elapsed = r.started_at.map_or(Duration::from_secs(3600), |s| {
            (now() - s).to_std().unwrap_or_default() + Duration::from_secs(3600 + place as u64 * 60)
        });
        if let Some(e) = r.entrants.iter_mut().find(|e| e.user == user) {
            e.status = "done".into();
            e.place = Some(place);
            e.finish_time = Some(elapsed);
        }
        let text = format!("{} has finished in {} place!", inner.user_name(user), place);
        inner.system(race, &text);
        inner.bump(race);
        inner.maybe_finish(race);
    }

    /// A user forfeits (`dnf`).
    pub fn forfeit(&self, race: &str, user: &str) {
        let mut inner = self.lock();
        if let Some(e) = inner
            .races
            .get_mut(race)
            .and_then(|r| r.entrants.iter_mut().find(|e| e.user == user))
        {
            e.status = "dnf".into();
        }
        let text = format!("{} has forfeited from the race.", inner.user_name(user));
        inner.system(race, &text);
        inner.bump(race);
        inner.maybe_finish(race);
    }

    /// A user undoes their finish within the unfinalized window: the race is back in progress.
    pub fn undo_finish(&self, race: &str, user: &str) {
        let mut inner = self.lock();
        let Some(r) = inner.races.get_mut(race) else {
            return;
        };
        if let Some(e) = r.entrants.iter_mut().find(|e| e.user == user) {
            e.status = "in_progress".into();
            e.place = None;
            e.finish_time = None;
        }
        r.status = "in_progress".into();
        r.ended_at = None;
        inner.bump(race);
    }

    /// Sets a race's status directly (e.g. `partitioned`, `cancelled` by a moderator).
    pub fn set_status(&self, race: &str, status: &str) {
        let mut inner = self.lock();
        if let Some(r) = inner.races.get_mut(race) {
            r.status = status.to_string();
        }
        inner.bump(race);
    }

    /// Records the race: chat closes.
    pub fn record(&self, race: &str) {
        let mut inner = self.lock();
        if let Some(r) = inner.races.get_mut(race) {
            r.recorded = true;
        }
        inner.bump(race);
    }

    /// Closes every bot socket of a race with this close code (1000, 1011, ...).
    pub fn drop_sockets(&self, race: &str, code: u16) {
        let mut inner = self.lock();
        if let Some(r) = inner.races.get_mut(race) {
            for s in r.sockets.drain(..) {
                let _ = s.tx.send(Outgoing::Close(code));
            }
        }
    }
}

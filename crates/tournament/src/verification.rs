//! Racer verification (spec `discord-and-web.md` §1.13, `tournament.md` §4.3): a guild role
//! earned by racetime.gg race history. A member clicks the posted button; their linked
//! racetime.gg account (Identity) must have at least `minimum_races` finished races in the
//! listed categories over the last `period_days` (counted by racetime's `CountRaces`, which
//! stops at the minimum); then the gateway gives the role and the member is recorded.
//! Verifications with `reverify_days` are re-checked (on `/racerverification reverify`, and by
//! an hourly job on one replica for the members past their period): members no longer eligible
//! lose the role when configured, and hear why by DM; the job's report goes to the audit
//! channel.
//!
//! Upstream re-checked every holder of the role (the whole member list); here the members this
//! bot verified are re-checked — a role given by hand is left to whoever gave it.

use chrono::{Duration, Utc};
use platform::db::{u64_from_db, u64_to_db};
use platform::grpc::Peers;
use proto::discord::v1 as discord;
use proto::discord::v1::discord_client::DiscordClient;
use proto::identity::v1 as identity;
use proto::identity::v1::identity_client::IdentityClient;
use proto::racetime::v1 as rt;
use proto::racetime::v1::race_rooms_client::RaceRoomsClient;
use proto::verification::v1 as pb;
use proto::verification::v1::racer_verification_server::RacerVerification;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, TryIntoModel,
};
use tonic::{Code, Request, Response, Status};

/// `racer_verifications`: what earns each role.
pub mod config {
    use sea_orm::entity::prelude::*;

    /// What earns a role.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "racer_verifications")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// Guild.
        pub guild_id: i64,
        /// The role earned.
        pub role_id: i64,
        /// The channel of the post.
        pub channel_id: i64,
        /// The post with the button.
        pub message_id: Option<i64>,
        /// racetime.gg category slugs (JSON list).
        #[sea_orm(column_type = "Text")]
        pub categories: String,
        /// Finished races needed.
        pub minimum_races: i32,
        /// Over this many days.
        pub period_days: i32,
        /// Re-checked after this many days.
        pub reverify_days: Option<i32>,
        /// The daily re-check takes the role from the ineligible.
        pub revoke_ineligible: bool,
        /// Where the daily re-check reports.
        pub audit_channel_id: Option<i64>,
        /// Also count ALTTPR Ladder races.
        pub use_alttpr_ladder: bool,
        /// Created.
        pub created_at: ChronoDateTimeUtc,
        /// Changed.
        pub updated_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `verified_racers`.
pub mod verified {
    use sea_orm::entity::prelude::*;

    /// A member this bot verified.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "verified_racers")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The verification.
        pub verification_id: i64,
        /// The member.
        pub discord_user_id: i64,
        /// Their racetime.gg account then.
        pub racetime_user_id: String,
        /// Races counted (at least).
        pub estimated_count: i32,
        /// First verified.
        pub created_at: ChronoDateTimeUtc,
        /// Last verified.
        pub last_verified_at: ChronoDateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The service.
#[derive(Clone, Debug)]
pub struct Verifier {
    db: DatabaseConnection,
    peers: Peers,
    ladder: Option<crate::ladder::Ladder>,
}

fn db_status(e: sea_orm::DbErr) -> Status {
    Status::unavailable(format!("database: {e}"))
}

fn message(v: &config::Model) -> pb::Verification {
    pb::Verification {
        id: v.id,
        guild_id: u64_from_db(v.guild_id),
        role_id: u64_from_db(v.role_id),
        channel_id: u64_from_db(v.channel_id),
        message_id: v.message_id.map_or(0, u64_from_db),
        categories: serde_json::from_str(&v.categories).unwrap_or_default(),
        minimum_races: u32::try_from(v.minimum_races).unwrap_or(0),
        period_days: u32::try_from(v.period_days).unwrap_or(0),
        reverify_days: v.reverify_days.map_or(0, |d| u32::try_from(d).unwrap_or(0)),
        revoke_ineligible: v.revoke_ineligible,
        use_alttpr_ladder: v.use_alttpr_ladder,
        audit_channel_id: v.audit_channel_id.map_or(0, u64_from_db),
    }
}

impl Verifier {
    /// The service over `db` and `peers` (api, racetime, gateway).
    pub fn new(db: DatabaseConnection, peers: Peers) -> Self {
        Self {
            db,
            peers,
            ladder: None,
        }
    }

    /// Also counts ALTTPR Ladder races for verifications that ask for them.
    pub fn with_ladder(mut self, ladder: Option<crate::ladder::Ladder>) -> Self {
        self.ladder = ladder;
        self
    }

    /// Races of Discord member `user` (racetime.gg account `racetime_user`) counted for `v`:
    /// ALTTPR Ladder races first when `v` uses the ladder and it is configured, then finished
    /// racetime.gg races until the minimum is reached.
    ///
    /// Errors: racetime.gg, the ladder or the gateway unreachable (UNAVAILABLE).
    async fn count(
        &self,
        v: &config::Model,
        user: u64,
        racetime_user: &str,
    ) -> Result<u32, Status> {
        let minimum = u32::try_from(v.minimum_races).unwrap_or(1);
        let mut count = 0;
        if let (true, Some(ladder)) = (v.use_alttpr_ladder, &self.ladder) {
            let gateway = self.peers.get("gateway")?;
            let request = discord::GetMemberRequest {
                guild_id: u64_from_db(v.guild_id),
                user_id: user,
            };
            let member = gateway
                .call(|| {
                    let mut client = DiscordClient::new(gateway.channel());
                    async move { client.get_member(request).await }
                })
                .await?
                .into_inner();
            let now = Utc::now();
            count += ladder
                .count(
                    user,
                    &member.username,
                    now - Duration::days(i64::from(v.period_days)),
                    now,
                )
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
        }
        if count >= minimum {
            return Ok(count);
        }
        Ok(count
            + self
                .racetime_count(v, racetime_user, minimum - count)
                .await?)
    }

    /// Finished races of `racetime_user` counted for `v` (stops at `minimum`).
    async fn racetime_count(
        &self,
        v: &config::Model,
        racetime_user: &str,
        minimum: u32,
    ) -> Result<u32, Status> {
        let racetime = self.peers.get("racetime")?;
        let request = rt::CountRacesRequest {
            user_id: racetime_user.to_owned(),
            categories: serde_json::from_str(&v.categories).unwrap_or_default(),
            since: Some(platform::grpc::timestamp(
                Utc::now() - Duration::days(i64::from(v.period_days)),
            )),
            minimum,
        };
        match racetime
            .call(|| {
                let mut client = RaceRoomsClient::new(racetime.channel());
                let request = request.clone();
                async move { client.count_races(request).await }
            })
            .await
        {
            Ok(reply) => Ok(reply.into_inner().count),
            Err(status) if status.code() == Code::NotFound => Ok(0),
            Err(status) => Err(status),
        }
    }

    async fn set_role(&self, v: &config::Model, user: u64, grant: bool) -> Result<(), Status> {
        let gateway = self.peers.get("gateway")?;
        let request = discord::SetMemberRoleRequest {
            guild_id: u64_from_db(v.guild_id),
            user_id: user,
            role_id: u64_from_db(v.role_id),
            grant,
            reason: "Racer Verification".into(),
        };
        gateway
            .call(|| {
                let mut client = DiscordClient::new(gateway.channel());
                let request = request.clone();
                async move { client.set_member_role(request).await }
            })
            .await
            .map(drop)
    }

    /// The racetime.gg account linked to Discord user `user`, if any.
    async fn racetime_of(&self, user: u64) -> Result<Option<String>, Status> {
        let api = self.peers.get("api")?;
        let request = identity::FindByDiscordIdRequest {
            discord_user_id: user,
        };
        match api
            .call(|| {
                let mut client = IdentityClient::new(api.channel());
                async move { client.find_by_discord_id(request).await }
            })
            .await
        {
            Ok(u) => {
                let u = u.into_inner();
                Ok(u.racetime_linked.then_some(u.racetime_user_id))
            }
            Err(status) if status.code() == Code::NotFound => Ok(None),
            Err(status) => Err(status),
        }
    }

    /// Re-checks the members verified under `v` longer than its reverify period ago; the
    /// ineligible lose the role (and get a DM) when `revoke`.
    ///
    /// Errors: a peer or the database failed (what was done so far stays done).
    pub async fn reverify_one(
        &self,
        v: &config::Model,
        revoke: bool,
    ) -> Result<pb::RoleReport, Status> {
        let mut report = pb::RoleReport {
            role_id: u64_from_db(v.role_id),
            revoked: revoke,
            ..Default::default()
        };
        let Some(days) = v.reverify_days else {
            report.summary = report_text(&report);
            return Ok(report);
        };
        let due = Utc::now() - Duration::days(i64::from(days));
        let records = verified::Entity::find()
            .filter(verified::Column::VerificationId.eq(v.id))
            .filter(verified::Column::LastVerifiedAt.lt(due))
            .all(&self.db)
            .await
            .map_err(db_status)?;
        for r in records {
            report.checked += 1;
            let user = u64_from_db(r.discord_user_id);
            let account = self.racetime_of(user).await?;
            let count = match &account {
                Some(account) => self.count(v, user, account).await?,
                None => 0,
            };
            if count >= u32::try_from(v.minimum_races).unwrap_or(1) {
                let mut active = r.into_active_model();
                active.estimated_count = Set(i32::try_from(count).unwrap_or(i32::MAX));
                active.last_verified_at = Set(Utc::now());
                active.update(&self.db).await.map_err(db_status)?;
                continue;
            }
            report.ineligible.push(user);
            if revoke {
                match self.set_role(v, user, false).await {
                    Ok(()) => {}
                    // Gone from the server: nothing to take.
                    Err(status) if status.code() == Code::NotFound => {}
                    Err(status) => return Err(status),
                }
                verified::Entity::delete_by_id(r.id)
                    .exec(&self.db)
                    .await
                    .map_err(db_status)?;
                self.dm_expired(v, user).await;
            }
        }
        report.summary = report_text(&report);
        Ok(report)
    }

    async fn dm_expired(&self, v: &config::Model, user: u64) {
        let Ok(gateway) = self.peers.get("gateway") else {
            return;
        };
        let mut client = DiscordClient::new(gateway.channel());
        let request = discord::SendDirectMessageRequest {
            idempotency_key: format!(
                "verification:{}:{user}:expired:{}",
                v.id,
                Utc::now().date_naive()
            ),
            user_id: user,
            content: format!(
                "Your verification for the <@&{}> role has expired.  Please re-verify by clicking the button on the verification message.",
                u64_from_db(v.role_id)
            ),
            embeds: Vec::new(),
        };
        if let Err(status) = client.send_direct_message(request).await {
            tracing::info!(%status, "could not DM an expired racer verification");
        }
    }

    /// The periodic re-check of every verification with a reverify period: revokes when the
    /// verification says so and reports to its audit channel.
    pub async fn reverify_all(&self) {
        let all = match config::Entity::find()
            .filter(config::Column::ReverifyDays.is_not_null())
            .all(&self.db)
            .await
        {
            Ok(all) => all,
            Err(error) => {
                tracing::warn!(%error, "could not list racer verifications");
                return;
            }
        };
        for v in all {
            match self.reverify_one(&v, v.revoke_ineligible).await {
                Ok(report) if !report.ineligible.is_empty() => {
                    if let (Some(channel), Ok(gateway)) =
                        (v.audit_channel_id, self.peers.get("gateway"))
                    {
                        let mut client = DiscordClient::new(gateway.channel());
                        let request = discord::SendMessageRequest {
                            idempotency_key: format!(
                                "verification:{}:report:{}",
                                v.id,
                                Utc::now().date_naive()
                            ),
                            channel_id: u64_from_db(channel),
                            content: report.summary.chars().take(2000).collect(),
                            embeds: Vec::new(),
                        };
                        if let Err(status) = client.send_message(request).await {
                            tracing::warn!(%status, "could not post the racer verification report");
                        }
                    }
                }
                Ok(_) => {}
                Err(status) => {
                    tracing::warn!(verification = v.id, %status, "racer re-verification failed; tomorrow retries")
                }
            }
        }
    }
}

/// A report in words: "**N** users were revoked from the <@&role> role due to ineligibility."
pub fn report_text(r: &pb::RoleReport) -> String {
    if r.ineligible.is_empty() {
        return format!(
            "No users were revoked from the <@&{}> role ({} checked).",
            r.role_id, r.checked
        );
    }
    let who: Vec<String> = r.ineligible.iter().map(|u| format!("<@{u}>")).collect();
    format!(
        "**{}** users {} the <@&{}> role due to ineligibility: {}",
        r.ineligible.len(),
        if r.revoked {
            "were revoked from"
        } else {
            "no longer qualify for"
        },
        r.role_id,
        who.join(", ")
    )
}

#[tonic::async_trait]
impl RacerVerification for Verifier {
    async fn upsert(
        &self,
        request: Request<pb::UpsertRequest>,
    ) -> Result<Response<pb::Verification>, Status> {
        let r = request.into_inner();
        if !r.manages_guild {
            return Err(Status::permission_denied(
                "Only server managers (Manage Server) may set up racer verification.",
            ));
        }
        let v = r
            .verification
            .ok_or_else(|| Status::invalid_argument("verification is required"))?;
        let categories: Vec<String> = v
            .categories
            .iter()
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        if v.guild_id == 0 || v.role_id == 0 || v.channel_id == 0 {
            return Err(Status::invalid_argument(
                "guild, role and channel are required",
            ));
        }
        if categories.is_empty()
            || categories.len() > 20
            || categories
                .iter()
                .any(|c| !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-'))
        {
            return Err(Status::invalid_argument(
                "categories: 1–20 racetime.gg category slugs, comma-separated (e.g. `alttpr, smz3`)",
            ));
        }
        if !(1..=1000).contains(&v.minimum_races) || !(1..=3650).contains(&v.period_days) {
            return Err(Status::invalid_argument(
                "minimum races 1–1000, period 1–3650 days",
            ));
        }
        let existing = config::Entity::find()
            .filter(config::Column::GuildId.eq(u64_to_db(v.guild_id)))
            .filter(config::Column::RoleId.eq(u64_to_db(v.role_id)))
            .one(&self.db)
            .await
            .map_err(db_status)?;
        let now = Utc::now();
        let mut active = match existing {
            Some(row) => row.into_active_model(),
            None => config::ActiveModel {
                guild_id: Set(u64_to_db(v.guild_id)),
                role_id: Set(u64_to_db(v.role_id)),
                message_id: Set(None),
                created_at: Set(now),
                ..Default::default()
            },
        };
        active.channel_id = Set(u64_to_db(v.channel_id));
        active.categories = Set(serde_json::to_string(&categories).unwrap_or_else(|_| "[]".into()));
        active.minimum_races = Set(i32::try_from(v.minimum_races).unwrap_or(1));
        active.period_days = Set(i32::try_from(v.period_days).unwrap_or(365));
        active.reverify_days =
            Set((v.reverify_days > 0).then(|| i32::try_from(v.reverify_days).unwrap_or(365)));
        active.revoke_ineligible = Set(v.revoke_ineligible);
        active.use_alttpr_ladder = Set(v.use_alttpr_ladder);
        active.audit_channel_id =
            Set((v.audit_channel_id != 0).then(|| u64_to_db(v.audit_channel_id)));
        active.updated_at = Set(now);
        let saved = active
            .save(&self.db)
            .await
            .map_err(db_status)?
            .try_into_model()
            .map_err(db_status)?;
        Ok(Response::new(message(&saved)))
    }

    async fn set_message(
        &self,
        request: Request<pb::SetMessageRequest>,
    ) -> Result<Response<pb::Verification>, Status> {
        let r = request.into_inner();
        let row = config::Entity::find_by_id(r.verification_id)
            .one(&self.db)
            .await
            .map_err(db_status)?
            .ok_or_else(|| Status::not_found("no such verification"))?;
        let mut active = row.into_active_model();
        active.message_id = Set(Some(u64_to_db(r.message_id)));
        let row = active.update(&self.db).await.map_err(db_status)?;
        Ok(Response::new(message(&row)))
    }

    async fn verify(
        &self,
        request: Request<pb::VerifyRequest>,
    ) -> Result<Response<pb::VerifyReply>, Status> {
        let r = request.into_inner();
        let v = config::Entity::find()
            .filter(config::Column::GuildId.eq(u64_to_db(r.guild_id)))
            .filter(config::Column::MessageId.eq(u64_to_db(r.message_id)))
            .one(&self.db)
            .await
            .map_err(db_status)?
            .ok_or_else(|| {
                Status::not_found(
                    "This message is not a valid racer verification message. Please contact a server moderator.",
                )
            })?;
        let reply = |outcome: &str, count: u32| pb::VerifyReply {
            outcome: outcome.into(),
            count,
            verification: Some(message(&v)),
        };
        let Some(account) = self.racetime_of(r.discord_user_id).await? else {
            return Ok(Response::new(reply("not_linked", 0)));
        };
        let count = self.count(&v, r.discord_user_id, &account).await?;
        if count < u32::try_from(v.minimum_races).unwrap_or(1) {
            return Ok(Response::new(reply("not_eligible", count)));
        }
        self.set_role(&v, r.discord_user_id, true).await?;
        let now = Utc::now();
        let existing = verified::Entity::find()
            .filter(verified::Column::VerificationId.eq(v.id))
            .filter(verified::Column::DiscordUserId.eq(u64_to_db(r.discord_user_id)))
            .one(&self.db)
            .await
            .map_err(db_status)?;
        let mut active = match existing {
            Some(row) => row.into_active_model(),
            None => verified::ActiveModel {
                verification_id: Set(v.id),
                discord_user_id: Set(u64_to_db(r.discord_user_id)),
                created_at: Set(now),
                ..Default::default()
            },
        };
        active.racetime_user_id = Set(account);
        active.estimated_count = Set(i32::try_from(count).unwrap_or(i32::MAX));
        active.last_verified_at = Set(now);
        match active.save(&self.db).await {
            Ok(_) => {}
            // A double click recorded it a moment ago.
            Err(error) if platform::db::is_unique_violation(&error) => {}
            Err(error) => return Err(db_status(error)),
        }
        Ok(Response::new(reply("verified", count)))
    }

    async fn reverify(
        &self,
        request: Request<pb::ReverifyRequest>,
    ) -> Result<Response<pb::ReverifyReply>, Status> {
        let r = request.into_inner();
        if !r.manages_guild {
            return Err(Status::permission_denied(
                "Only server managers (Manage Server) may re-verify racers.",
            ));
        }
        let all = config::Entity::find()
            .filter(config::Column::GuildId.eq(u64_to_db(r.guild_id)))
            .filter(config::Column::ReverifyDays.is_not_null())
            .all(&self.db)
            .await
            .map_err(db_status)?;
        let mut reports = Vec::new();
        for v in all {
            reports.push(self.reverify_one(&v, r.revoke).await?);
        }
        Ok(Response::new(pb::ReverifyReply { reports }))
    }
}

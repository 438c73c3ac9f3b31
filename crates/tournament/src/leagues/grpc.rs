//! `leagues.v1.Leagues`: the league rules over gRPC, for the gateway's commands and api's
//! pages. Errors as the proto file says.

use platform::db::u64_from_db;
use platform::events::Outbox;
use platform::grpc::timestamp;
use proto::leagues::v1 as pb;
use proto::leagues::v1::leagues_server::Leagues;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tonic::{Request, Response, Status};

use super::db::{claim, link};
use super::iracing::{Iracing, IracingError};
use super::rules::{self, League, LeagueError, Member, Settings};
use super::sync::{self, Report, SyncError};

/// The gRPC front of the leagues.
#[derive(Clone, Debug)]
pub struct LeaguesApi {
    db: DatabaseConnection,
    outbox: Outbox,
    iracing: Option<Iracing>,
}

impl LeaguesApi {
    /// The service over `db`, with `iracing` when the deployment has credentials.
    pub fn new(db: DatabaseConnection, outbox: Outbox, iracing: Option<Iracing>) -> Self {
        Self {
            db,
            outbox,
            iracing,
        }
    }
}

fn status(error: LeagueError) -> Status {
    match error {
        LeagueError::NotFound(m) => Status::not_found(m),
        LeagueError::Forbidden(m) => Status::permission_denied(m),
        LeagueError::Invalid(m) => Status::invalid_argument(m),
        e @ LeagueError::Taken { .. } => Status::already_exists(e.to_string()),
        LeagueError::Db(e) => Status::unavailable(format!("database: {e}")),
        LeagueError::Events(e) => Status::unavailable(format!("events: {e}")),
    }
}

fn sync_status(error: SyncError) -> Status {
    match error {
        SyncError::League(e) => status(e),
        SyncError::Iracing(IracingError::Unconfigured) => Status::failed_precondition(
            "iRacing sync is not configured in this deployment (the operator sets TOURNAMENT_IRACING__* credentials).",
        ),
        SyncError::Iracing(e @ IracingError::NotFound(_)) => Status::not_found(e.to_string()),
        SyncError::Iracing(e) => Status::unavailable(e.to_string()),
    }
}

fn member(m: Option<pb::Member>) -> Result<Member, Status> {
    let m = m.ok_or_else(|| Status::invalid_argument("member is required"))?;
    if m.discord_user_id == 0 {
        return Err(Status::invalid_argument(
            "member.discord_user_id is required",
        ));
    }
    Ok(Member {
        discord_user_id: m.discord_user_id,
        role_ids: m.role_ids,
        manages_guild: m.manages_guild,
    })
}

fn nonzero(v: u64) -> Option<u64> {
    (v != 0).then_some(v)
}

impl LeaguesApi {
    async fn league(&self, r: Option<pb::LeagueRef>) -> Result<League, Status> {
        let r = r.ok_or_else(|| Status::invalid_argument("league is required"))?;
        if r.guild_id == 0 {
            return Err(Status::invalid_argument(
                "Car numbers are managed per server; use this in a server.",
            ));
        }
        rules::get(&self.db, r.guild_id, &r.league)
            .await
            .map_err(status)
    }

    fn league_message(&self, l: &League) -> pb::League {
        pb::League {
            guild_id: u64_from_db(l.row.guild_id),
            slug: l.row.slug.clone(),
            name: l.row.name.clone(),
            iracing_league_id: l.row.iracing_league_id.map_or(0, u64_from_db),
            number_min: l.row.number_min,
            number_max: l.row.number_max,
            classes: l.classes.clone(),
            max_per_member: l.row.max_per_member,
            reserved: l.reserved.iter().copied().collect(),
            admin_role_id: l.row.admin_role_id.map_or(0, u64_from_db),
            announce_channel_id: l.row.announce_channel_id.map_or(0, u64_from_db),
            sync_hours: l.row.sync_hours,
            last_sync_at: l.row.last_sync_at.map(timestamp),
            sync_available: self.iracing.is_some(),
        }
    }

    /// The iRacing link of member `discord_user_id` (stored bits) in league `league_id`.
    async fn link_of(
        &self,
        league_id: i64,
        discord_user_id: i64,
    ) -> Result<Option<link::Model>, Status> {
        link::Entity::find()
            .filter(link::Column::LeagueId.eq(league_id))
            .filter(link::Column::DiscordUserId.eq(discord_user_id))
            .one(&self.db)
            .await
            .map_err(|e| status(e.into()))
    }

    async fn claim_message(&self, c: &claim::Model) -> Result<pb::Claim, Status> {
        Ok(entry_message(&rules::Entry {
            claim: c.clone(),
            link: self.link_of(c.league_id, c.discord_user_id).await?,
        }))
    }
}

fn entry_message(e: &rules::Entry) -> pb::Claim {
    pb::Claim {
        class: e.claim.class.clone(),
        number: e.claim.number,
        discord_user_id: u64_from_db(e.claim.discord_user_id),
        claimed_at: Some(timestamp(e.claim.claimed_at)),
        verified: e.claim.verified,
        iracing_cust_id: e
            .link
            .as_ref()
            .map_or(0, |l| u64::try_from(l.iracing_cust_id).unwrap_or_default()),
        iracing_name: e
            .link
            .as_ref()
            .and_then(|l| l.iracing_name.clone())
            .unwrap_or_default(),
    }
}

fn report_message(report: Option<Report>) -> pb::SyncReport {
    let Some(report) = report else {
        return pb::SyncReport::default();
    };
    let findings = |f: &[sync::Finding]| {
        f.iter()
            .map(|f| pb::Finding {
                discord_user_id: f.discord_user_id,
                iracing_cust_id: f.cust_id,
                iracing_name: f.iracing_name.clone(),
                claimed: f.claimed,
                on_iracing: f.on_iracing,
            })
            .collect()
    };
    pb::SyncReport {
        at: report.at.map(timestamp),
        verified: findings(&report.verified),
        not_on_iracing: findings(&report.not_on_iracing),
        unclaimed: findings(&report.unclaimed),
        differs: findings(&report.differs),
        unlinked: findings(&report.unlinked),
        roster_count: u32::try_from(report.roster_count).unwrap_or(u32::MAX),
        summary: report.summary(),
        ran: true,
    }
}

fn limit(value: u32, default: u32) -> u32 {
    if value == 0 { default } else { value.min(100) }
}

#[tonic::async_trait]
impl Leagues for LeaguesApi {
    async fn setup_league(
        &self,
        request: Request<pb::SetupLeagueRequest>,
    ) -> Result<Response<pb::League>, Status> {
        let r = request.into_inner();
        let actor = member(r.member)?;
        let l = r
            .league
            .ok_or_else(|| Status::invalid_argument("league is required"))?;
        if l.guild_id == 0 {
            return Err(Status::invalid_argument("league.guild_id is required"));
        }
        let settings = Settings {
            slug: if l.slug.trim().is_empty() {
                "main".into()
            } else {
                l.slug.trim().to_lowercase()
            },
            name: l.name,
            iracing_league_id: nonzero(l.iracing_league_id),
            number_min: l.number_min,
            number_max: l.number_max,
            classes: l
                .classes
                .iter()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .collect(),
            max_per_member: l.max_per_member,
            reserved: l.reserved,
            admin_role_id: nonzero(l.admin_role_id),
            announce_channel_id: nonzero(l.announce_channel_id),
            sync_hours: l.sync_hours,
        };
        let league = rules::setup(&self.db, l.guild_id, &actor, &settings)
            .await
            .map_err(status)?;
        Ok(Response::new(self.league_message(&league)))
    }

    async fn get_league(
        &self,
        request: Request<pb::LeagueRef>,
    ) -> Result<Response<pb::League>, Status> {
        let league = self.league(Some(request.into_inner())).await?;
        Ok(Response::new(self.league_message(&league)))
    }

    async fn list_leagues(
        &self,
        request: Request<pb::ListLeaguesRequest>,
    ) -> Result<Response<pb::ListLeaguesReply>, Status> {
        let leagues = rules::list(&self.db, request.into_inner().guild_id)
            .await
            .map_err(|e| status(e.into()))?;
        Ok(Response::new(pb::ListLeaguesReply {
            leagues: leagues.iter().map(|l| self.league_message(l)).collect(),
        }))
    }

    async fn claim(
        &self,
        request: Request<pb::NumberRequest>,
    ) -> Result<Response<pb::Claim>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let who = member(r.member)?;
        let c = rules::claim(&self.db, &self.outbox, &league, &who, &r.class, r.number)
            .await
            .map_err(status)?;
        Ok(Response::new(self.claim_message(&c).await?))
    }

    async fn release(
        &self,
        request: Request<pb::NumberRequest>,
    ) -> Result<Response<pb::Claim>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let who = member(r.member)?;
        let c = rules::release(&self.db, &self.outbox, &league, &who, &r.class, r.number)
            .await
            .map_err(status)?;
        Ok(Response::new(entry_message(&rules::Entry {
            claim: c,
            link: None,
        })))
    }

    async fn force_release(
        &self,
        request: Request<pb::NumberRequest>,
    ) -> Result<Response<pb::Claim>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let who = member(r.member)?;
        let c = rules::force_release(
            &self.db,
            &self.outbox,
            &league,
            &who,
            &r.class,
            r.number,
            &r.reason,
        )
        .await
        .map_err(status)?;
        Ok(Response::new(entry_message(&rules::Entry {
            claim: c,
            link: None,
        })))
    }

    async fn reassign(
        &self,
        request: Request<pb::ReassignRequest>,
    ) -> Result<Response<pb::Claim>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let who = member(r.member)?;
        if r.to_discord_user_id == 0 {
            return Err(Status::invalid_argument("to_discord_user_id is required"));
        }
        let c = rules::reassign(
            &self.db,
            &self.outbox,
            &league,
            &who,
            &r.class,
            r.number,
            r.to_discord_user_id,
        )
        .await
        .map_err(status)?;
        Ok(Response::new(self.claim_message(&c).await?))
    }

    async fn link_iracing(
        &self,
        request: Request<pb::LinkIracingRequest>,
    ) -> Result<Response<pb::LinkIracingReply>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let who = member(r.member)?;
        rules::link(&self.db, &league, &who, r.iracing_cust_id)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::LinkIracingReply {}))
    }

    async fn roster(
        &self,
        request: Request<pb::RosterRequest>,
    ) -> Result<Response<pb::RosterReply>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let (entries, total) = rules::roster(
            &self.db,
            &league,
            u64::from(r.page),
            u64::from(limit(r.per_page, 20)),
        )
        .await
        .map_err(|e| status(e.into()))?;
        Ok(Response::new(pb::RosterReply {
            claims: entries.iter().map(entry_message).collect(),
            total: u32::try_from(total).unwrap_or(u32::MAX),
            league: Some(self.league_message(&league)),
        }))
    }

    async fn export_roster(
        &self,
        request: Request<pb::LeagueRef>,
    ) -> Result<Response<pb::ExportRosterReply>, Status> {
        let league = self.league(Some(request.into_inner())).await?;
        let (entries, total) = rules::roster(&self.db, &league, 0, u64::from(u32::MAX))
            .await
            .map_err(|e| status(e.into()))?;
        let claims: Vec<pb::Claim> = entries.iter().map(entry_message).collect();
        Ok(Response::new(pb::ExportRosterReply {
            csv: roster_csv(&claims).map_err(|e| Status::internal(e.to_string()))?,
            count: u32::try_from(total).unwrap_or(u32::MAX),
            league: Some(self.league_message(&league)),
            claims,
        }))
    }

    async fn my_numbers(
        &self,
        request: Request<pb::MemberRequest>,
    ) -> Result<Response<pb::RosterReply>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let who = member(r.member)?;
        let claims = rules::numbers_of(&self.db, &league, who.discord_user_id)
            .await
            .map_err(|e| status(e.into()))?;
        // One member: one link for all their claims.
        let link = self
            .link_of(league.row.id, platform::db::u64_to_db(who.discord_user_id))
            .await?;
        let out: Vec<pb::Claim> = claims
            .into_iter()
            .map(|claim| {
                entry_message(&rules::Entry {
                    claim,
                    link: link.clone(),
                })
            })
            .collect();
        Ok(Response::new(pb::RosterReply {
            total: u32::try_from(out.len()).unwrap_or(u32::MAX),
            claims: out,
            league: Some(self.league_message(&league)),
        }))
    }

    async fn available(
        &self,
        request: Request<pb::AvailableRequest>,
    ) -> Result<Response<pb::AvailableReply>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let numbers = rules::available(
            &self.db,
            &league,
            &r.class,
            &r.prefix,
            limit(r.limit, 25) as usize,
        )
        .await
        .map_err(status)?;
        Ok(Response::new(pb::AvailableReply { numbers }))
    }

    async fn check_number(
        &self,
        request: Request<pb::NumberRequest>,
    ) -> Result<Response<pb::CheckNumberReply>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let class = league.class(&r.class).map_err(status)?;
        let current = rules::holder(&self.db, &league, &class, r.number)
            .await
            .map_err(|e| status(e.into()))?;
        let holder = match &current {
            Some(c) => Some(self.claim_message(c).await?),
            None => None,
        };
        let history = rules::past_holders(&self.db, &league, &class, r.number)
            .await
            .map_err(|e| status(e.into()))?;
        Ok(Response::new(pb::CheckNumberReply {
            holder,
            reserved: league.reserved.contains(&r.number),
            in_range: (league.row.number_min..=league.row.number_max).contains(&r.number),
            history: history
                .iter()
                .map(|h| pb::PastHolder {
                    discord_user_id: u64_from_db(h.discord_user_id),
                    claimed_at: Some(timestamp(h.claimed_at)),
                    released_at: Some(timestamp(h.released_at)),
                    reason: super::wire_name(&h.reason),
                })
                .collect(),
        }))
    }

    async fn propose_trade(
        &self,
        request: Request<pb::ProposeTradeRequest>,
    ) -> Result<Response<pb::Trade>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let who = member(r.member)?;
        let t = rules::propose_trade(
            &self.db,
            &league,
            &who,
            &r.class,
            r.number,
            r.partner_discord_user_id,
            &r.partner_class,
            r.partner_number,
        )
        .await
        .map_err(status)?;
        Ok(Response::new(trade_message(&t)))
    }

    async fn answer_trade(
        &self,
        request: Request<pb::AnswerTradeRequest>,
    ) -> Result<Response<pb::Trade>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let who = member(r.member)?;
        let t = rules::answer_trade(&self.db, &self.outbox, &league, &who, r.trade_id, r.accept)
            .await
            .map_err(status)?;
        Ok(Response::new(trade_message(&t)))
    }

    async fn sync(
        &self,
        request: Request<pb::MemberRequest>,
    ) -> Result<Response<pb::SyncReport>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let who = member(r.member)?;
        if !league.is_admin(&who) {
            return Err(Status::permission_denied(
                "Only the league's admins may sync the roster.",
            ));
        }
        let iracing = self
            .iracing
            .as_ref()
            .ok_or_else(|| sync_status(SyncError::Iracing(IracingError::Unconfigured)))?;
        let report = sync::sync(&self.db, iracing, &league, who.discord_user_id)
            .await
            .map_err(sync_status)?;
        Ok(Response::new(report_message(Some(report))))
    }

    async fn sync_status(
        &self,
        request: Request<pb::LeagueRef>,
    ) -> Result<Response<pb::SyncReport>, Status> {
        let league = self.league(Some(request.into_inner())).await?;
        Ok(Response::new(report_message(sync::last_report(&league))))
    }

    async fn audit_log(
        &self,
        request: Request<pb::AuditLogRequest>,
    ) -> Result<Response<pb::AuditLogReply>, Status> {
        let r = request.into_inner();
        let league = self.league(r.league).await?;
        let who = member(r.member)?;
        let rows = rules::audit_log(&self.db, &league, &who, u64::from(limit(r.limit, 20)))
            .await
            .map_err(status)?;
        Ok(Response::new(pb::AuditLogReply {
            entries: rows
                .iter()
                .map(|a| pb::AuditEntry {
                    at: Some(timestamp(a.at)),
                    actor_discord_id: u64_from_db(a.actor_discord_id),
                    action: super::wire_name(&a.action),
                    class: a.class.clone(),
                    number: a.number.unwrap_or(0),
                    subject_discord_id: a.subject_discord_id.map_or(0, u64_from_db),
                    detail: a.detail.clone(),
                })
                .collect(),
        }))
    }
}

/// The roster as CSV: a header, then `number,class,discord_user_id,iracing_cust_id,
/// iracing_name,verified,claimed_at` per claim (ids as decimal strings, the time RFC 3339).
///
/// Errors: the CSV writer failed (it writes to memory, so only on a bug).
pub fn roster_csv(claims: &[pb::Claim]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "number",
        "class",
        "discord_user_id",
        "iracing_cust_id",
        "iracing_name",
        "verified",
        "claimed_at",
    ])?;
    for c in claims {
        let claimed_at = c
            .claimed_at
            .as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        writer.write_record([
            c.number.to_string(),
            c.class.clone(),
            c.discord_user_id.to_string(),
            if c.iracing_cust_id == 0 {
                String::new()
            } else {
                c.iracing_cust_id.to_string()
            },
            c.iracing_name.clone(),
            c.verified.to_string(),
            claimed_at,
        ])?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn trade_message(t: &super::db::trade::Model) -> pb::Trade {
    pb::Trade {
        id: t.id,
        proposer: u64_from_db(t.proposer),
        proposer_number: t.proposer_number,
        partner: u64_from_db(t.partner),
        partner_number: t.partner_number,
        state: super::wire_name(&t.state),
        expires_at: Some(timestamp(t.expires_at)),
        proposer_class: t.proposer_class.clone(),
        partner_class: t.partner_class.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_has_a_header_and_a_row_per_claim_with_quoting() {
        let csv = roster_csv(&[pb::Claim {
            class: "GT3".into(),
            number: 7,
            discord_user_id: 42,
            iracing_cust_id: 123,
            iracing_name: "Ann, Driver".into(),
            verified: true,
            claimed_at: None,
        }])
        .unwrap();
        assert_eq!(
            csv,
            "number,class,discord_user_id,iracing_cust_id,iracing_name,verified,claimed_at\n7,GT3,42,123,\"Ann, Driver\",true,\n"
        );
    }
}

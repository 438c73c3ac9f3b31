//! Ranked-choice elections (spec `tournament.md` §4.1): created by a server manager from
//! Discord, voted on the website — one ballot per voter, private elections only for members
//! holding the voter role (asked of the gateway at the time of voting) — and counted by
//! [`stv`] when the owner ends them. Candidate names are unique per election (upstream let
//! duplicates collapse into one candidate). Every change is published as
//! `tournament.election.changed` for the gateway to refresh the post.

pub mod db;
pub mod grpc;
pub mod stv;

use chrono::Utc;
use platform::db::{u64_from_db, u64_to_db};
use platform::events::{Event, Outbox};
use platform::grpc::Peers;
use proto::discord::v1 as discord;
use proto::discord::v1::discord_client::DiscordClient;
use proto::events::v1 as ev;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use db::{ballot, candidate, election};

/// Why an election action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ElectionError {
    /// No such election, or not open.
    #[error("{0}")]
    NotFound(String),
    /// Not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// A second ballot.
    #[error("You have already voted in this election.")]
    AlreadyVoted,
    /// Already ended.
    #[error("This election has already ended.")]
    Ended,
    /// The gateway could not say who holds the voter role.
    #[error("{0}")]
    Unavailable(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// An election with its candidates and ballot count.
#[derive(Clone, Debug)]
pub struct Full {
    /// The row.
    pub row: election::Model,
    /// By position.
    pub candidates: Vec<candidate::Model>,
    /// Ballots cast.
    pub ballots: u64,
}

/// What a new election needs.
#[derive(Clone, Debug, Default)]
pub struct NewElection {
    /// Guild.
    pub guild_id: u64,
    /// Channel of the post.
    pub channel_id: u64,
    /// Creator.
    pub owner: u64,
    /// The creator manages the server.
    pub manages_guild: bool,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Seats.
    pub seats: i32,
    /// Candidates in ballot order.
    pub candidates: Vec<String>,
    /// Voter role (private election).
    pub voter_role_id: Option<u64>,
    /// Show the ballot count on the post.
    pub show_vote_count: bool,
}

/// The elections' rules; cheap to clone.
#[derive(Clone, Debug)]
pub struct Elections {
    db: DatabaseConnection,
    outbox: Outbox,
    peers: Peers,
}

impl Elections {
    /// Elections over `db`, publishing through `outbox`, asking the gateway (in `peers`)
    /// about voter roles.
    pub fn new(db: DatabaseConnection, outbox: Outbox, peers: Peers) -> Self {
        Self { db, outbox, peers }
    }

    /// Election `id` with its candidates.
    ///
    /// Errors: no such election.
    pub async fn get(&self, id: i64) -> Result<Full, ElectionError> {
        let row = election::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| ElectionError::NotFound("Election not found.".into()))?;
        let candidates = candidate::Entity::find()
            .filter(candidate::Column::ElectionId.eq(id))
            .order_by_asc(candidate::Column::Position)
            .all(&self.db)
            .await?;
        let ballots = ballot::Entity::find()
            .filter(ballot::Column::ElectionId.eq(id))
            .count(&self.db)
            .await?;
        Ok(Full {
            row,
            candidates,
            ballots,
        })
    }

    async fn changed(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        e: &election::Model,
    ) -> Result<(), ElectionError> {
        self.outbox
            .write(
                txn,
                Event::of(&ev::ElectionChanged {
                    election_id: e.id,
                    guild_id: u64_from_db(e.guild_id),
                    channel_id: u64_from_db(e.channel_id),
                    message_id: e.message_id.map_or(0, u64_from_db),
                    active: e.active,
                }),
            )
            .await
            .map(drop)
            .map_err(|e| ElectionError::Unavailable(format!("events: {e}")))
    }

    /// Creates an election (server managers only).
    ///
    /// Errors: forbidden, or a bad title, seat count or candidate list.
    pub async fn create(&self, new: NewElection) -> Result<Full, ElectionError> {
        if !new.manages_guild {
            return Err(ElectionError::Forbidden(
                "Only server managers (Manage Server) may create an election.".into(),
            ));
        }
        let title = new.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(ElectionError::Invalid(
                "The title needs 1–200 characters.".into(),
            ));
        }
        let names: Vec<String> = new
            .candidates
            .iter()
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect();
        let mut unique = std::collections::HashSet::new();
        if let Some(dup) = names.iter().find(|n| !unique.insert(n.to_lowercase())) {
            return Err(ElectionError::Invalid(format!(
                "`{dup}` is listed twice; each candidate once."
            )));
        }
        if names.len() < 2 || names.len() > 25 || names.iter().any(|n| n.chars().count() > 100) {
            return Err(ElectionError::Invalid(
                "List 2–25 candidates, comma-separated, each at most 100 characters.".into(),
            ));
        }
        if new.seats < 1 || usize::try_from(new.seats).unwrap_or(0) >= names.len() {
            return Err(ElectionError::Invalid(format!(
                "Seats must be at least 1 and fewer than the {} candidates.",
                names.len()
            )));
        }
        let txn = self.db.begin().await?;
        let row = election::ActiveModel {
            guild_id: Set(u64_to_db(new.guild_id)),
            channel_id: Set(u64_to_db(new.channel_id)),
            message_id: Set(None),
            owner_discord_id: Set(u64_to_db(new.owner)),
            title: Set(title.to_owned()),
            description: Set(new.description.trim().chars().take(2000).collect()),
            seats: Set(new.seats),
            voter_role_id: Set(new.voter_role_id.map(u64_to_db)),
            show_vote_count: Set(new.show_vote_count),
            active: Set(true),
            results: Set(None),
            created_at: Set(Utc::now()),
            ended_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for (position, name) in names.iter().enumerate() {
            candidate::ActiveModel {
                election_id: Set(row.id),
                name: Set(name.clone()),
                position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                winner: Set(false),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        self.get(row.id).await
    }

    /// Records the post of election `id`.
    ///
    /// Errors: no such election.
    pub async fn set_message(&self, id: i64, message: u64) -> Result<Full, ElectionError> {
        let full = self.get(id).await?;
        let mut active = full.row.into_active_model();
        active.message_id = Set(Some(u64_to_db(message)));
        active.update(&self.db).await?;
        self.get(id).await
    }

    /// Whether `voter` may vote in `e` now, and why not.
    ///
    /// Errors: the gateway could not be asked about a private election's role.
    pub async fn may_vote(
        &self,
        e: &election::Model,
        voter: u64,
    ) -> Result<Result<(), String>, ElectionError> {
        if !e.active {
            return Ok(Err("This election has ended.".into()));
        }
        let Some(role) = e.voter_role_id.map(u64_from_db) else {
            return Ok(Ok(()));
        };
        let gateway = self
            .peers
            .get("gateway")
            .map_err(|s| ElectionError::Unavailable(s.message().to_owned()))?;
        let request = discord::GetMemberRequest {
            guild_id: u64_from_db(e.guild_id),
            user_id: voter,
        };
        match gateway
            .call(|| {
                let mut client = DiscordClient::new(gateway.channel());
                async move { client.get_member(request).await }
            })
            .await
        {
            Ok(member) if member.get_ref().role_ids.contains(&role) => Ok(Ok(())),
            Ok(_) => Ok(Err(
                "You are not authorized to vote in this election.".into()
            )),
            Err(status) if status.code() == tonic::Code::NotFound => {
                Ok(Err("Unable to find you in the server.".into()))
            }
            Err(status) => Err(ElectionError::Unavailable(format!(
                "Discord could not be asked about your roles right now ({}); try again in a minute.",
                status.message()
            ))),
        }
    }

    /// `voter`'s ballot in election `id`, if cast.
    ///
    /// Errors: the database failed.
    pub async fn ballot_of(&self, id: i64, voter: u64) -> Result<Option<Vec<i64>>, ElectionError> {
        Ok(ballot::Entity::find()
            .filter(ballot::Column::ElectionId.eq(id))
            .filter(ballot::Column::VoterDiscordId.eq(u64_to_db(voter)))
            .one(&self.db)
            .await?
            .map(|b| serde_json::from_str(&b.ranking).unwrap_or_default()))
    }

    /// `voter` ranks candidates `ranking` (ids, best first) in election `id`: once.
    ///
    /// Errors: not open, not allowed (role), already voted, or a bad ranking.
    pub async fn cast(&self, id: i64, voter: u64, ranking: &[i64]) -> Result<Full, ElectionError> {
        let full = self.get(id).await?;
        if !full.row.active {
            return Err(ElectionError::NotFound("Election is inactive.".into()));
        }
        if let Err(why) = self.may_vote(&full.row, voter).await? {
            return Err(ElectionError::Forbidden(why));
        }
        if ranking.is_empty() {
            return Err(ElectionError::Invalid(
                "Rank at least one candidate.".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for c in ranking {
            if !full.candidates.iter().any(|k| k.id == *c) {
                return Err(ElectionError::Invalid(format!("Invalid candidate {c}.")));
            }
            if !seen.insert(*c) {
                return Err(ElectionError::Invalid("Each rank must be unique.".into()));
            }
        }
        let txn = self.db.begin().await?;
        let inserted = ballot::ActiveModel {
            election_id: Set(id),
            voter_discord_id: Set(u64_to_db(voter)),
            ranking: Set(serde_json::to_string(ranking).unwrap_or_else(|_| "[]".into())),
            cast_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await;
        match inserted {
            Ok(_) => {}
            Err(error) if platform::db::is_unique_violation(&error) => {
                return Err(ElectionError::AlreadyVoted);
            }
            Err(error) => return Err(error.into()),
        }
        self.changed(&txn, &full.row).await?;
        txn.commit().await?;
        self.outbox.wake();
        self.get(id).await
    }

    /// Counts and closes election `id` (its owner only): winners marked, transcript stored.
    ///
    /// Errors: not the owner, already ended, or the count failed.
    pub async fn end(&self, id: i64, actor: u64) -> Result<Full, ElectionError> {
        let full = self.get(id).await?;
        if u64_from_db(full.row.owner_discord_id) != actor {
            return Err(ElectionError::Forbidden(
                "Only the election's creator may end it.".into(),
            ));
        }
        if !full.row.active {
            return Err(ElectionError::Ended);
        }
        let ballots = ballot::Entity::find()
            .filter(ballot::Column::ElectionId.eq(id))
            .order_by_asc(ballot::Column::Id)
            .all(&self.db)
            .await?;
        let index = |cid: i64| full.candidates.iter().position(|c| c.id == cid);
        let rankings: Vec<Vec<usize>> = ballots
            .iter()
            .map(|b| {
                serde_json::from_str::<Vec<i64>>(&b.ranking)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(index)
                    .collect()
            })
            .collect();
        let names: Vec<String> = full.candidates.iter().map(|c| c.name.clone()).collect();
        let seats = usize::try_from(full.row.seats).unwrap_or(1);
        let outcome = stv::count(&names, &rankings, seats, u64::try_from(id).unwrap_or(0))
            .map_err(|e| ElectionError::Invalid(e.to_string()))?;
        let txn = platform::db::begin_write(&self.db).await?;
        // Closed only by the first of two simultaneous clicks.
        let closed = election::Entity::update_many()
            .col_expr(
                election::Column::Active,
                sea_orm::sea_query::Expr::value(false),
            )
            .col_expr(
                election::Column::Results,
                sea_orm::sea_query::Expr::value(Some(outcome.transcript())),
            )
            .col_expr(
                election::Column::EndedAt,
                sea_orm::sea_query::Expr::value(Some(Utc::now())),
            )
            .filter(election::Column::Id.eq(id))
            .filter(election::Column::Active.eq(true))
            .exec(&txn)
            .await?;
        if closed.rows_affected == 0 {
            return Err(ElectionError::Ended);
        }
        for &w in &outcome.winners {
            let mut c = full.candidates[w].clone().into_active_model();
            c.winner = Set(true);
            c.update(&txn).await?;
        }
        let row = election::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| ElectionError::NotFound("Election not found.".into()))?;
        self.changed(&txn, &row).await?;
        txn.commit().await?;
        self.outbox.wake();
        self.get(id).await
    }
}

//! `elections.v1.Elections` over [`super::Elections`].

use platform::db::u64_from_db;
use platform::grpc::timestamp;
use proto::elections::v1 as pb;
use proto::elections::v1::elections_server::Elections as ElectionsRpc;
use tonic::{Request, Response, Status};

use super::{ElectionError, Elections, Full, NewElection};

/// The gRPC front.
#[derive(Clone, Debug)]
pub struct ElectionsApi(pub Elections);

fn status(error: ElectionError) -> Status {
    match error {
        ElectionError::NotFound(m) => Status::not_found(m),
        ElectionError::Forbidden(m) => Status::permission_denied(m),
        ElectionError::Invalid(m) => Status::invalid_argument(m),
        e @ ElectionError::AlreadyVoted => Status::already_exists(e.to_string()),
        e @ ElectionError::Ended => Status::failed_precondition(e.to_string()),
        ElectionError::Unavailable(m) => Status::unavailable(m),
        ElectionError::Db(e) => Status::unavailable(format!("database: {e}")),
    }
}

fn message(full: &Full) -> pb::Election {
    let e = &full.row;
    pb::Election {
        id: e.id,
        guild_id: u64_from_db(e.guild_id),
        channel_id: u64_from_db(e.channel_id),
        message_id: e.message_id.map_or(0, u64_from_db),
        owner_discord_id: u64_from_db(e.owner_discord_id),
        title: e.title.clone(),
        description: e.description.clone(),
        seats: e.seats,
        voter_role_id: e.voter_role_id.map_or(0, u64_from_db),
        show_vote_count: e.show_vote_count,
        active: e.active,
        candidates: full
            .candidates
            .iter()
            .map(|c| pb::Candidate {
                id: c.id,
                name: c.name.clone(),
                winner: c.winner,
            })
            .collect(),
        ballots: u32::try_from(full.ballots).unwrap_or(u32::MAX),
        results: e.results.clone().unwrap_or_default(),
        ended_at: e.ended_at.map(timestamp),
        my_ranking: Vec::new(),
        may_vote: false,
        why_not: String::new(),
    }
}

#[tonic::async_trait]
impl ElectionsRpc for ElectionsApi {
    async fn create_election(
        &self,
        request: Request<pb::CreateElectionRequest>,
    ) -> Result<Response<pb::Election>, Status> {
        let r = request.into_inner();
        let full = self
            .0
            .create(NewElection {
                guild_id: r.guild_id,
                channel_id: r.channel_id,
                owner: r.owner_discord_id,
                manages_guild: r.manages_guild,
                title: r.title,
                description: r.description,
                seats: r.seats,
                candidates: r.candidates,
                voter_role_id: (r.voter_role_id != 0).then_some(r.voter_role_id),
                show_vote_count: r.show_vote_count,
            })
            .await
            .map_err(status)?;
        Ok(Response::new(message(&full)))
    }

    async fn set_message(
        &self,
        request: Request<pb::SetMessageRequest>,
    ) -> Result<Response<pb::Election>, Status> {
        let r = request.into_inner();
        let full = self
            .0
            .set_message(r.election_id, r.message_id)
            .await
            .map_err(status)?;
        Ok(Response::new(message(&full)))
    }

    async fn get_election(
        &self,
        request: Request<pb::GetElectionRequest>,
    ) -> Result<Response<pb::Election>, Status> {
        let r = request.into_inner();
        let full = self.0.get(r.election_id).await.map_err(status)?;
        let mut out = message(&full);
        if r.voter_discord_id != 0 {
            out.my_ranking = self
                .0
                .ballot_of(r.election_id, r.voter_discord_id)
                .await
                .map_err(status)?
                .unwrap_or_default();
            let verdict = if out.my_ranking.is_empty() {
                self.0
                    .may_vote(&full.row, r.voter_discord_id)
                    .await
                    .map_err(status)?
            } else {
                Err("You have already voted in this election.".to_owned())
            };
            out.may_vote = verdict.is_ok();
            out.why_not = verdict.err().unwrap_or_default();
        }
        Ok(Response::new(out))
    }

    async fn cast_ballot(
        &self,
        request: Request<pb::CastBallotRequest>,
    ) -> Result<Response<pb::Election>, Status> {
        let r = request.into_inner();
        let full = self
            .0
            .cast(r.election_id, r.voter_discord_id, &r.ranking)
            .await
            .map_err(status)?;
        Ok(Response::new(message(&full)))
    }

    async fn end_election(
        &self,
        request: Request<pb::EndElectionRequest>,
    ) -> Result<Response<pb::Election>, Status> {
        let r = request.into_inner();
        let full = self
            .0
            .end(r.election_id, r.actor_discord_id)
            .await
            .map_err(status)?;
        Ok(Response::new(message(&full)))
    }
}

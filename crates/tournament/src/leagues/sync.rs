//! Checking the roster against iRacing (read-only: iRacing has no write API, so numbers are
//! set there by hand and checked here). A claim is verified when its holder's linked iRacing
//! account is on the league's iRacing roster with the same car number. The report lists the
//! mismatches: claimed here but the member is not on the iRacing roster, numbered on iRacing but
//! claimed by nobody here, and numbers that differ; and claims whose holder linked no account.
//! It is stored on the league (`/syncstatus`) and audited. The job syncs each league every
//! `sync_hours`, on one replica at a time (a lease).

use chrono::{DateTime, Duration, Utc};
use platform::db::u64_from_db;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use super::db::{LeagueAction, audit, claim, league, link};
use super::iracing::{Iracing, IracingError, RosterMember};
use super::rules::{League, LeagueError};

/// A claim and what iRacing shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The member (0 when nobody here holds it).
    pub discord_user_id: u64,
    /// Their iRacing customer id (0 when not linked).
    pub cust_id: u64,
    /// Their iRacing name, when iRacing showed one.
    pub iracing_name: String,
    /// The number claimed here (0: none).
    pub claimed: i32,
    /// The number on iRacing (0: none).
    pub on_iracing: i32,
}

/// What one sync found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// When it ran.
    pub at: Option<DateTime<Utc>>,
    /// Claims confirmed by iRacing.
    pub verified: Vec<Finding>,
    /// Claimed here, but the member is not on the iRacing roster.
    pub not_on_iracing: Vec<Finding>,
    /// A number on iRacing that nobody here claimed.
    pub unclaimed: Vec<Finding>,
    /// The member's number on iRacing differs from their claim.
    pub differs: Vec<Finding>,
    /// Claims whose holder linked no iRacing account (cannot be checked).
    pub unlinked: Vec<Finding>,
    /// Members on the iRacing roster.
    pub roster_count: usize,
}

impl Report {
    /// One line per kind, for Discord.
    pub fn summary(&self) -> String {
        format!(
            "{} verified, {} claimed but not on the iRacing roster, {} numbered on iRacing but unclaimed, {} with a different number, {} not linked",
            self.verified.len(),
            self.not_on_iracing.len(),
            self.unclaimed.len(),
            self.differs.len(),
            self.unlinked.len()
        )
    }
}

/// Compares the claims (with their holders' links) with the iRacing roster.
pub fn compare(claims: &[claim::Model], links: &[link::Model], roster: &[RosterMember]) -> Report {
    let mut report = Report {
        roster_count: roster.len(),
        ..Report::default()
    };
    for c in claims {
        let member = u64_from_db(c.discord_user_id);
        let Some(l) = links
            .iter()
            .find(|l| l.discord_user_id == c.discord_user_id)
        else {
            report.unlinked.push(Finding {
                discord_user_id: member,
                claimed: c.number,
                ..Finding::default()
            });
            continue;
        };
        let cust = u64::try_from(l.iracing_cust_id).unwrap_or_default();
        let finding = |r: Option<&RosterMember>| Finding {
            discord_user_id: member,
            cust_id: cust,
            iracing_name: r.map(|r| r.display_name.clone()).unwrap_or_default(),
            claimed: c.number,
            on_iracing: r.and_then(RosterMember::number).unwrap_or(0),
        };
        match roster.iter().find(|r| r.cust_id == cust) {
            None => report.not_on_iracing.push(finding(None)),
            Some(r) if r.number() == Some(c.number) => report.verified.push(finding(Some(r))),
            Some(r) => {
                // A member with several claims matches on any of them.
                let other_claim_matches = claims.iter().any(|o| {
                    o.discord_user_id == c.discord_user_id && Some(o.number) == r.number()
                });
                if !other_claim_matches {
                    report.differs.push(finding(Some(r)));
                }
            }
        }
    }
    for r in roster {
        let Some(number) = r.number() else {
            continue;
        };
        let holder = links
            .iter()
            .find(|l| u64::try_from(l.iracing_cust_id).ok() == Some(r.cust_id));
        let claimed_by_them = holder.is_some_and(|l| {
            claims
                .iter()
                .any(|c| c.discord_user_id == l.discord_user_id && c.number == number)
        });
        let differs_reported = report
            .differs
            .iter()
            .any(|f| f.cust_id == r.cust_id && f.on_iracing == number);
        if !claimed_by_them && !differs_reported {
            report.unclaimed.push(Finding {
                discord_user_id: holder.map_or(0, |l| u64_from_db(l.discord_user_id)),
                cust_id: r.cust_id,
                iracing_name: r.display_name.clone(),
                claimed: 0,
                on_iracing: number,
            });
        }
    }
    report
}

/// Syncs `league` now: reads the iRacing roster, marks claims verified or not, stores the
/// report and audits it. `actor` 0 is the job.
///
/// Errors: no iRacing league set, iRacing failed (nothing is changed), or the database failed.
pub async fn sync(
    db: &DatabaseConnection,
    iracing: &Iracing,
    league: &League,
    actor: u64,
) -> Result<Report, SyncError> {
    let Some(iracing_league) = league.row.iracing_league_id else {
        return Err(SyncError::League(LeagueError::Invalid(
            "This league has no iRacing league id: set one with `/league config`.".into(),
        )));
    };
    let roster = iracing.roster(u64_from_db(iracing_league)).await?;
    let claims = claim::Entity::find()
        .filter(claim::Column::LeagueId.eq(league.row.id))
        .all(db)
        .await
        .map_err(LeagueError::from)?;
    let links = link::Entity::find()
        .filter(link::Column::LeagueId.eq(league.row.id))
        .all(db)
        .await
        .map_err(LeagueError::from)?;
    let now = Utc::now();
    let report = Report {
        at: Some(now),
        ..compare(&claims, &links, &roster)
    };
    let txn = db.begin().await.map_err(LeagueError::from)?;
    for c in &claims {
        let verified = report
            .verified
            .iter()
            .any(|f| f.discord_user_id == u64_from_db(c.discord_user_id) && f.claimed == c.number);
        if verified != c.verified || verified {
            let mut active = c.clone().into_active_model();
            active.verified = Set(verified);
            if verified {
                active.verified_at = Set(Some(now));
            }
            active.update(&txn).await.map_err(LeagueError::from)?;
        }
    }
    // The names iRacing shows, for the roster.
    for l in &links {
        let name = roster
            .iter()
            .find(|r| u64::try_from(l.iracing_cust_id).ok() == Some(r.cust_id))
            .map(|r| r.display_name.clone());
        if name.is_some() && name != l.iracing_name {
            let mut active = l.clone().into_active_model();
            active.iracing_name = Set(name);
            active.update(&txn).await.map_err(LeagueError::from)?;
        }
    }
    let mut active: league::ActiveModel = league.row.clone().into_active_model();
    active.last_sync_at = Set(Some(now));
    active.last_sync_report = Set(Some(serde_json::to_string(&report).unwrap_or_default()));
    active.update(&txn).await.map_err(LeagueError::from)?;
    audit::ActiveModel {
        league_id: Set(league.row.id),
        actor_discord_id: Set(platform::db::u64_to_db(actor)),
        action: Set(LeagueAction::Synced),
        class: Set(String::new()),
        number: Set(None),
        subject_discord_id: Set(None),
        detail: Set(report.summary()),
        at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(LeagueError::from)?;
    txn.commit().await.map_err(LeagueError::from)?;
    Ok(report)
}

/// The last report of `league`, if it was ever synced.
pub fn last_report(league: &League) -> Option<Report> {
    league
        .row
        .last_sync_report
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
}

/// Whether `league` is due for its periodic sync at `now`.
pub fn due(league: &League, now: DateTime<Utc>) -> bool {
    league.row.sync_hours > 0
        && league.row.iracing_league_id.is_some()
        && league
            .row
            .last_sync_at
            .is_none_or(|at| now - at >= Duration::hours(i64::from(league.row.sync_hours)))
}

/// Why a sync did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The league's rules or the database.
    #[error(transparent)]
    League(#[from] LeagueError),
    /// iRacing.
    #[error(transparent)]
    Iracing(#[from] IracingError),
}

/// The periodic job: every league due, one after another; failures are logged.
pub async fn sync_due(db: &DatabaseConnection, iracing: &Iracing) {
    let leagues = match league::Entity::find().all(db).await {
        Ok(rows) => rows,
        Err(error) => {
            tracing::warn!(%error, "could not list leagues to sync");
            return;
        }
    };
    let now = Utc::now();
    for row in leagues {
        let league = League::from_row(row);
        if !due(&league, now) {
            continue;
        }
        match sync(db, iracing, &league, 0).await {
            Ok(report) => {
                tracing::info!(league = %league.row.slug, summary = %report.summary(), "league synced with iRacing");
            }
            Err(error) => {
                tracing::warn!(league = %league.row.slug, %error, "league sync failed; next round retries");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(id: i64, member: i64, number: i32) -> claim::Model {
        claim::Model {
            id,
            league_id: 1,
            class: String::new(),
            number,
            discord_user_id: member,
            claimed_at: Utc::now(),
            verified: false,
            verified_at: None,
            notes: None,
        }
    }

    fn link(member: i64, cust: i64) -> link::Model {
        link::Model {
            id: member,
            league_id: 1,
            discord_user_id: member,
            iracing_cust_id: cust,
            iracing_name: None,
            linked_at: Utc::now(),
        }
    }

    fn on_roster(cust: u64, number: Option<&str>) -> RosterMember {
        RosterMember {
            cust_id: cust,
            display_name: format!("Driver {cust}"),
            car_number: number.map(str::to_owned),
        }
    }

    #[test]
    fn each_kind_of_mismatch_is_reported_once() {
        let claims = [
            claim(1, 10, 7),  // verified
            claim(2, 11, 8),  // verified
            claim(3, 12, 9),  // differs: iRacing says 19
            claim(4, 13, 10), // member not on the iRacing roster
            claim(5, 14, 11), // not linked
        ];
        let links = [link(10, 100), link(11, 101), link(12, 102), link(13, 103)];
        let roster = [
            on_roster(100, Some("7")),
            on_roster(101, Some("008")),
            on_roster(102, Some("19")),
            on_roster(104, Some("42")), // numbered on iRacing, unclaimed here
            on_roster(105, None),       // no number: nothing to say
        ];
        let report = compare(&claims, &links, &roster);
        let numbers = |f: &[Finding]| {
            f.iter()
                .map(|f| (f.claimed, f.on_iracing))
                .collect::<Vec<_>>()
        };
        assert_eq!(numbers(&report.verified), [(7, 7), (8, 8)]);
        assert_eq!(numbers(&report.differs), [(9, 19)]);
        assert_eq!(numbers(&report.not_on_iracing), [(10, 0)]);
        assert_eq!(numbers(&report.unlinked), [(11, 0)]);
        assert_eq!(numbers(&report.unclaimed), [(0, 42)]);
        assert_eq!(report.unclaimed[0].cust_id, 104);
        assert_eq!(report.roster_count, 5);
        assert!(report.summary().starts_with("2 verified, 1 claimed but not on the iRacing roster, 1 numbered on iRacing but unclaimed, 1 with a different number, 1 not linked"));
    }
}

//! Par, scores and the leaderboard of an async tournament (spec §3.7–§3.9), as pure functions
//! over runs, so they are computed the same on demand, hourly and after a review.
//!
//! - **Par** of a permalink: the mean of its five fastest finished, non-reattempted runs (all
//!   finished ones when fewer), computed like Python's `timedelta` mean (integer microseconds,
//!   the division rounded half to even).
//! - **Score** of a finished run: `clamp((2 − t/par) × 100, 0, 105)` in `f64`, bit for bit as
//!   upstream (6600 s against a 6000 s par is `89.99999999999999`); forfeits and
//!   disqualifications score 0.
//! - **Leaderboard**: every participant (anyone with a run of any status), each pool's best
//!   `runs_per_pool` closed, non-reattempted runs (sahabot2's best-N; upstream took the first N
//!   in database order), the mean over all slots (a missing slot counts 0) and the estimate
//!   (mean of the scored finished slots); ties broken explicitly by score, estimate, finished
//!   count, then the user id (upstream's order was arbitrary).

use sea_orm::sea_query::StringLen;
use std::collections::BTreeMap;

/// The best score (5 % or more under par).
pub const MAX_SCORE: f64 = 105.0;
/// The worst score (twice the par or slower).
pub const MIN_SCORE: f64 = 0.0;

/// A run's state (stored as `pending`, `in_progress`, `finished`, `forfeit`, `disqualified`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Thread open, not started.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Started.
    #[sea_orm(string_value = "in_progress")]
    InProgress,
    /// Done with a time.
    #[sea_orm(string_value = "finished")]
    Finished,
    /// Given up.
    #[sea_orm(string_value = "forfeit")]
    Forfeit,
    /// Disqualified by a reviewer.
    #[sea_orm(string_value = "disqualified")]
    Disqualified,
}

impl RunStatus {
    /// The stored (and JSON) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Finished => "finished",
            Self::Forfeit => "forfeit",
            Self::Disqualified => "disqualified",
        }
    }

    /// The status named `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::InProgress,
            Self::Finished,
            Self::Forfeit,
            Self::Disqualified,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Finished, forfeit or disqualified.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            RunStatus::Finished | RunStatus::Forfeit | RunStatus::Disqualified
        )
    }
}

/// The score of a finished run of `elapsed` seconds against `par` seconds.
pub fn qualifier_score(par: f64, elapsed: f64) -> f64 {
    let raw = (2.0 - elapsed / par) * 100.0;
    raw.clamp(MIN_SCORE, MAX_SCORE)
}

/// Python's `timedelta` mean of durations given in microseconds: the sum divided by the count,
/// rounded half to even to a microsecond. `None` for no durations.
pub fn mean_micros(durations: &[i64]) -> Option<i64> {
    let n = i64::try_from(durations.len()).ok().filter(|n| *n > 0)?;
    let sum: i64 = durations.iter().sum();
    let (q, r) = (sum.div_euclid(n), sum.rem_euclid(n));
    // Half to even on the remainder.
    let up = match (2 * r).cmp(&n) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => q % 2 != 0,
        std::cmp::Ordering::Less => false,
    };
    Some(if up { q + 1 } else { q })
}

/// The par of a permalink in seconds from its finished, non-reattempted runs' times (in
/// microseconds, any order): the mean of the five fastest. `None` when nobody finished.
pub fn par_seconds(finished_micros: &[i64]) -> Option<f64> {
    let mut times = finished_micros.to_vec();
    times.sort_unstable();
    times.truncate(5);
    mean_micros(&times).map(|m| m as f64 / 1_000_000.0)
}

/// A score as shown: three decimals (`88.8888` → `88.889`), `N/A` before the run is closed,
/// `not calculated` for a closed run without a score yet.
pub fn format_score(score: Option<f64>, status: RunStatus) -> String {
    match (score, status.is_closed()) {
        (Some(s), _) => format!("{s:.3}"),
        (None, false) => "N/A".into(),
        (None, true) => "not calculated".into(),
    }
}

/// A duration as `HH:MM:SS` (fractions truncated). Upstream dropped whole days (90061 s showed
/// as `01:01:01`); hours here count on past 24.
pub fn format_hms(seconds: f64) -> String {
    let whole = seconds.max(0.0).trunc() as u64;
    format!(
        "{:02}:{:02}:{:02}",
        whole / 3600,
        whole / 60 % 60,
        whole % 60
    )
}

/// A run as the leaderboard sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Run id.
    pub id: i64,
    /// The racer.
    pub user: i64,
    /// Its pool.
    pub pool: i64,
    /// Its state.
    pub status: RunStatus,
    /// Replaced by a reattempt (does not count).
    pub reattempted: bool,
    /// Its score, once calculated.
    pub score: Option<f64>,
}

/// One line of the leaderboard.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// 1 for the best.
    pub rank: usize,
    /// The racer.
    pub user: i64,
    /// Mean over every slot (missing slots count 0).
    pub score: f64,
    /// Mean over the scored finished slots (0 when none).
    pub estimate: f64,
    /// Run ids per slot, pool by pool (`None`: not played).
    pub slots: Vec<Option<i64>>,
    /// Finished slots.
    pub finished: usize,
    /// Forfeited or disqualified slots.
    pub forfeited: usize,
    /// Empty slots.
    pub unplayed: usize,
}

/// The leaderboard of a tournament with `pools` (in order) and `runs_per_pool` slots each.
pub fn leaderboard(pools: &[i64], runs_per_pool: usize, runs: &[Run]) -> Vec<Entry> {
    let mut by_user: BTreeMap<i64, Vec<&Run>> = BTreeMap::new();
    for run in runs {
        by_user.entry(run.user).or_default().push(run);
    }
    let slots_total = pools.len() * runs_per_pool;
    let mut entries: Vec<Entry> = by_user
        .into_iter()
        .map(|(user, runs)| {
            let mut slots = Vec::with_capacity(slots_total);
            let (mut sum, mut scored_sum, mut scored) = (0.0, 0.0, 0usize);
            let (mut finished, mut forfeited, mut unplayed) = (0, 0, 0);
            for pool in pools {
                let mut counted: Vec<&&Run> = runs
                    .iter()
                    .filter(|r| r.pool == *pool && r.status.is_closed() && !r.reattempted)
                    .collect();
                // Best first; equal scores by the older run.
                counted.sort_by(|a, b| {
                    b.score
                        .unwrap_or(0.0)
                        .total_cmp(&a.score.unwrap_or(0.0))
                        .then(a.id.cmp(&b.id))
                });
                for i in 0..runs_per_pool {
                    match counted.get(i) {
                        Some(run) => {
                            slots.push(Some(run.id));
                            sum += run.score.unwrap_or(0.0);
                            if run.status == RunStatus::Finished {
                                finished += 1;
                                if let Some(s) = run.score {
                                    scored_sum += s;
                                    scored += 1;
                                }
                            } else {
                                forfeited += 1;
                            }
                        }
                        None => {
                            slots.push(None);
                            unplayed += 1;
                        }
                    }
                }
            }
            Entry {
                rank: 0,
                user,
                score: if slots_total == 0 {
                    0.0
                } else {
                    sum / slots_total as f64
                },
                estimate: if scored == 0 {
                    0.0
                } else {
                    scored_sum / scored as f64
                },
                slots,
                finished,
                forfeited,
                unplayed,
            }
        })
        .collect();
    entries.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.estimate.total_cmp(&a.estimate))
            .then(b.finished.cmp(&a.finished))
            .then(a.user.cmp(&b.user))
    });
    for (i, e) in entries.iter_mut().enumerate() {
        e.rank = i + 1;
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn scores_match_the_spec_table() {
        for (par, elapsed, score) in [
            (3600.0, 3600.0, 100.0),
            (3600.0, 5400.0, 50.0),
            (3600.0, 4500.0, 75.0),
            (3600.0, 7200.0, 0.0),
            (3600.0, 10800.0, 0.0),
            (3600.0, 1800.0, 105.0),
            (2000.0, 1800.0, 105.0),
        ] {
            assert_eq!(qualifier_score(par, elapsed), score, "{par} {elapsed}");
        }
        // Bit for bit with upstream's f64.
        assert_eq!(qualifier_score(6000.0, 6600.0), 89.99999999999999);
        assert_eq!(
            format_score(Some(89.99999999999999), RunStatus::Finished),
            "90.000"
        );
    }

    #[test]
    fn means_and_formats_match_the_spec() {
        assert_eq!(mean_micros(&[10 * S, 20 * S, 30 * S]), Some(20 * S));
        assert_eq!(mean_micros(&[42 * S]), Some(42 * S));
        assert_eq!(mean_micros(&[10 * S, 11 * S]), Some(10_500_000));
        assert_eq!(mean_micros(&[]), None);
        // Half to even at the microsecond: 1.5 µs → 2, 2.5 µs → 2.
        assert_eq!(mean_micros(&[1, 2]), Some(2));
        assert_eq!(mean_micros(&[2, 3]), Some(2));
        assert_eq!(format_score(Some(99.123456), RunStatus::Finished), "99.123");
        assert_eq!(format_score(Some(88.8888), RunStatus::Finished), "88.889");
        assert_eq!(format_score(None, RunStatus::Pending), "N/A");
        assert_eq!(format_score(None, RunStatus::Finished), "not calculated");
        assert_eq!(format_hms(3661.0), "01:01:01");
        assert_eq!(format_hms(3661.9), "01:01:01");
        assert_eq!(format_hms(90061.0), "25:01:01", "days are not dropped");
        assert!(RunStatus::Disqualified.is_closed() && !RunStatus::InProgress.is_closed());
    }

    #[test]
    fn the_worked_example_par_scores_and_leaderboard() {
        let finished: Vec<i64> = [5400, 5700, 6000, 6300, 6600, 7200, 9000]
            .iter()
            .map(|s| s * S)
            .collect();
        let par = par_seconds(&finished).unwrap();
        assert_eq!(par, 6000.0);
        assert_eq!(format_hms(par), "01:40:00");
        let scores: Vec<f64> = [5400.0, 5700.0, 6000.0, 6300.0, 6600.0, 7200.0, 9000.0]
            .iter()
            .map(|t| qualifier_score(par, *t))
            .collect();
        assert_eq!(
            scores,
            vec![105.0, 105.0, 100.0, 95.0, 89.99999999999999, 80.0, 50.0]
        );
        assert_eq!(par_seconds(&[]), None);
        // Pools A (1) and B (2), one run each. X: A=95, B forfeit. Y: A=100, B unplayed.
        let (x, y) = (7, 8);
        let run = |id, user, pool, status, score| Run {
            id,
            user,
            pool,
            status,
            reattempted: false,
            score,
        };
        let runs = vec![
            run(1, x, 1, RunStatus::Finished, Some(95.0)),
            run(2, x, 2, RunStatus::Forfeit, Some(0.0)),
            run(3, y, 1, RunStatus::Finished, Some(100.0)),
            // A reattempted run and a pending one do not count.
            Run {
                reattempted: true,
                ..run(4, y, 2, RunStatus::Finished, Some(105.0))
            },
            run(5, 9, 1, RunStatus::Pending, None),
        ];
        let board = leaderboard(&[1, 2], 1, &runs);
        let line = |u: i64| board.iter().find(|e| e.user == u).unwrap().clone();
        assert_eq!(line(y).rank, 1);
        assert_eq!(line(y).score, 50.0);
        assert_eq!(line(y).estimate, 100.0);
        assert_eq!(
            (line(y).finished, line(y).forfeited, line(y).unplayed),
            (1, 0, 1)
        );
        assert_eq!(line(x).rank, 2);
        assert_eq!(line(x).score, 47.5);
        assert_eq!(line(x).estimate, 95.0);
        assert_eq!(line(x).slots, vec![Some(1), Some(2)]);
        // Only pending runs: listed with every slot empty and 0.
        assert_eq!(line(9).score, 0.0);
        assert_eq!(line(9).unplayed, 2);
        assert_eq!(line(9).rank, 3);
    }

    #[test]
    fn the_best_runs_count_and_ties_are_broken_explicitly() {
        let run = |id, user, score| Run {
            id,
            user,
            pool: 1,
            status: RunStatus::Finished,
            reattempted: false,
            score: Some(score),
        };
        // Two slots: user 1's best two of three runs count.
        let board = leaderboard(
            &[1],
            2,
            &[run(1, 1, 50.0), run(2, 1, 90.0), run(3, 1, 80.0)],
        );
        assert_eq!(board[0].slots, vec![Some(2), Some(3)]);
        assert_eq!(board[0].score, 85.0);
        // Equal scores: the lower user id first, every time.
        let board = leaderboard(&[1], 1, &[run(1, 20, 70.0), run(2, 10, 70.0)]);
        assert_eq!(
            board.iter().map(|e| e.user).collect::<Vec<_>>(),
            vec![10, 20]
        );
    }
}

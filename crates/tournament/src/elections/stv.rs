//! Single transferable vote, counted exactly as the bot we replace counted (pyrankvote 2.0.6's
//! `single_transferable_vote`, spec `tournament.md` §4.1), so a re-count gives the same winners:
//!
//! - quota = non-blank ballots / (seats + 1), a float computed once (not the Droop quota);
//!   a candidate with at least the quota (1e-6 tolerance) is elected;
//! - candidates are ordered by votes, ties (within 0.001) broken by "most second-choice votes":
//!   how often each is the 2nd, then 3rd, … still-hopeful choice over all ballots;
//! - each round elects everyone at the quota, or else rejects the batch at the bottom that even
//!   together cannot overtake the candidate above them; surpluses are transferred before
//!   anyone is rejected; a transfer spreads the amount evenly over the ballots the candidate
//!   holds, each to its next hopeful choice (or to the blank pile);
//! - the one deviation: where pyrankvote picks at random after every tie-break, this count
//!   draws lots deterministically from the election's seed, and the transcript says so.
//!
//! [`count`] returns the rounds and the final standing; [`Outcome::transcript`] renders them
//! as pyrankvote's `str(ElectionResults)` (`tabulate`'s "simple" tables).

use std::cmp::Ordering;

/// Where a candidate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Still in the race.
    Hopeful,
    /// Won a seat.
    Elected,
    /// Out.
    Rejected,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Self::Hopeful => "Hopeful",
            Self::Elected => "Elected",
            Self::Rejected => "Rejected",
        }
    }
}

/// One line of a round's table.
#[derive(Clone, Debug, PartialEq)]
pub struct Standing {
    /// The candidate's index in the candidate list.
    pub candidate: usize,
    /// Votes held.
    pub votes: f64,
    /// Status.
    pub status: Status,
}

/// A round: elected (in order of election), then hopefuls (by votes), then rejected (the
/// latest first); and the blank votes so far.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    /// The table.
    pub standings: Vec<Standing>,
    /// Votes on exhausted ballots.
    pub blank: f64,
}

/// A finished count.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The candidates' names, as given.
    pub names: Vec<String>,
    /// Every round; the last is the final result.
    pub rounds: Vec<Round>,
    /// The winners' indices, in order of election.
    pub winners: Vec<usize>,
    /// Whether a tie survived every tie-break and lots were drawn.
    pub lots_drawn: bool,
    /// The seed of the lots.
    pub seed: u64,
}

/// Why a count could not run.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    /// No seats, or no candidates.
    #[error("an election needs at least one seat and one candidate")]
    Empty,
    /// A ballot names a candidate twice, or one that does not exist.
    #[error("ballot {0} names a candidate twice or one that does not exist")]
    BadBallot(usize),
    /// The algorithm's own consistency check failed (pyrankvote's "Illegal state").
    #[error("the count reached an illegal state")]
    IllegalState,
}

struct Candidate {
    votes: f64,
    status: Status,
    /// Ballots this candidate holds (indices).
    holds: Vec<usize>,
}

struct Count<'a> {
    ballots: &'a [Vec<usize>],
    candidates: Vec<Candidate>,
    /// In the race, sorted best first.
    in_race: Vec<usize>,
    elected: Vec<usize>,
    /// Latest first.
    rejected: Vec<usize>,
    blank: f64,
    seed: u64,
    lots_drawn: bool,
}

impl Count<'_> {
    /// How often `c` is the `x`-th (0-based) hopeful choice over all ballots.
    fn nth_choice_votes(&self, c: usize, x: usize) -> usize {
        self.ballots
            .iter()
            .filter(|ballot| {
                ballot
                    .iter()
                    .filter(|&&b| self.candidates[b].status == Status::Hopeful)
                    .nth(x)
                    == Some(&c)
            })
            .count()
    }

    /// Best first: more votes; then more 2nd, 3rd, … choices; then lots.
    fn compare(&mut self, a: usize, b: usize) -> Ordering {
        let (va, vb) = (self.candidates[a].votes, self.candidates[b].votes);
        if (va - vb).abs() >= 0.001 {
            return vb.partial_cmp(&va).unwrap_or(Ordering::Equal);
        }
        for x in 1..self.candidates.len() {
            let (ca, cb) = (self.nth_choice_votes(a, x), self.nth_choice_votes(b, x));
            if ca != cb {
                return cb.cmp(&ca);
            }
        }
        self.lots_drawn = true;
        lot(self.seed, a, b)
    }

    fn sort(&mut self) {
        let mut order = std::mem::take(&mut self.in_race);
        // Insertion sort: stable, and `compare` may draw lots (needs `&mut self`).
        for i in 1..order.len() {
            let mut j = i;
            while j > 0 && self.compare(order[j - 1], order[j]) == Ordering::Greater {
                order.swap(j - 1, j);
                j -= 1;
            }
        }
        self.in_race = order;
    }

    fn transfer(&mut self, c: usize, amount: f64) {
        if (amount * 10_000.0).round() == 0.0 {
            return;
        }
        let held = std::mem::take(&mut self.candidates[c].holds);
        if held.is_empty() {
            return;
        }
        let share = amount / held.len() as f64;
        for ballot in held {
            let next = self.ballots[ballot]
                .iter()
                .copied()
                .find(|&n| self.candidates[n].status == Status::Hopeful);
            match next {
                Some(n) => {
                    self.candidates[n].votes += share;
                    self.candidates[n].holds.push(ballot);
                }
                None => self.blank += share,
            }
        }
        self.candidates[c].votes -= amount;
        self.sort();
    }

    fn elect(&mut self, c: usize) {
        self.candidates[c].status = Status::Elected;
        self.in_race.retain(|&x| x != c);
        self.elected.push(c);
    }

    fn reject(&mut self, c: usize) {
        self.candidates[c].status = Status::Rejected;
        self.in_race.retain(|&x| x != c);
        self.rejected.insert(0, c);
    }

    fn round(&self) -> Round {
        let line = |&c: &usize| Standing {
            candidate: c,
            votes: self.candidates[c].votes,
            status: self.candidates[c].status,
        };
        Round {
            standings: self
                .elected
                .iter()
                .chain(&self.in_race)
                .chain(&self.rejected)
                .map(line)
                .collect(),
            blank: self.blank,
        }
    }
}

/// A deterministic coin for candidates `a` and `b` under `seed` (SplitMix64 of the three).
fn lot(seed: u64, a: usize, b: usize) -> Ordering {
    let (lo, hi) = (a.min(b) as u64, a.max(b) as u64);
    let mut z = seed ^ lo.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ hi.rotate_left(32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // The coin says whether the lower index goes first.
    let lower_first = z & 1 == 0;
    match (a < b, lower_first) {
        (true, true) | (false, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// Counts `ballots` (each a list of candidate indices, best first; an empty ballot is blank)
/// for `seats` seats among `candidates`, drawing any lots from `seed`.
///
/// Errors: no seats or candidates, a bad ballot, or an illegal state.
pub fn count(
    candidates: &[String],
    ballots: &[Vec<usize>],
    seats: usize,
    seed: u64,
) -> Result<Outcome, CountError> {
    if seats == 0 || candidates.is_empty() {
        return Err(CountError::Empty);
    }
    for (i, ballot) in ballots.iter().enumerate() {
        let mut seen = std::collections::HashSet::new();
        if ballot
            .iter()
            .any(|&c| c >= candidates.len() || !seen.insert(c))
        {
            return Err(CountError::BadBallot(i));
        }
    }
    let mut state = Count {
        ballots,
        candidates: candidates
            .iter()
            .map(|_| Candidate {
                votes: 0.0,
                status: Status::Hopeful,
                holds: Vec::new(),
            })
            .collect(),
        in_race: (0..candidates.len()).collect(),
        elected: Vec::new(),
        rejected: Vec::new(),
        blank: 0.0,
        seed,
        lots_drawn: false,
    };
    let mut counted = 0usize;
    for (i, ballot) in ballots.iter().enumerate() {
        match ballot.first() {
            Some(&first) => {
                state.candidates[first].votes += 1.0;
                state.candidates[first].holds.push(i);
                counted += 1;
            }
            None => state.blank += 1.0,
        }
    }
    state.sort();
    let quota = counted as f64 / (seats as f64 + 1.0);
    let mut rounds = Vec::new();
    loop {
        let seats_left = seats - state.elected.len();
        let order = state.in_race.clone();
        let mut remaining: f64 = order.iter().map(|&c| state.candidates[c].votes).sum();
        let mut last_votes = 0.0;
        let (mut to_elect, mut to_reject) = (Vec::new(), Vec::new());
        for (i, &c) in order.iter().enumerate() {
            let votes = state.candidates[c].votes;
            if votes - 1e-6 >= quota {
                to_elect.push(c);
            } else if i >= seats_left && remaining - 1e-6 <= last_votes {
                if !to_elect.is_empty() {
                    break;
                }
                to_reject.push(c);
            } else if i + 1 == order.len() {
                return Err(CountError::IllegalState);
            }
            last_votes = votes;
            remaining -= votes;
        }
        for &c in &to_elect {
            state.elect(c);
        }
        for &c in to_reject.iter().rev() {
            state.reject(c);
        }
        if state.in_race.len() <= seats - state.elected.len() {
            for c in state.in_race.clone() {
                state.elect(c);
            }
        }
        if seats == state.elected.len() {
            for c in state.in_race.clone().into_iter().rev() {
                state.reject(c);
            }
        }
        rounds.push(state.round());
        if state.in_race.is_empty() {
            break;
        }
        for &c in &to_elect {
            let surplus = state.candidates[c].votes - quota;
            state.transfer(c, surplus);
        }
        for &c in &to_reject {
            let all = state.candidates[c].votes;
            state.transfer(c, all);
        }
        if rounds.len() > candidates.len() * 2 + 2 {
            return Err(CountError::IllegalState);
        }
    }
    Ok(Outcome {
        names: candidates.to_vec(),
        winners: state.elected.clone(),
        rounds,
        lots_drawn: state.lots_drawn,
        seed,
    })
}

impl Outcome {
    /// pyrankvote's transcript: `ROUND n` tables, then `FINAL RESULT`, each a `tabulate`
    /// "simple" table (`Candidate`, `Votes`, `Status`; votes with no decimals when every one is
    /// whole, else two; a `Blank Votes` row when there are any); a note when lots were drawn.
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        let last = self.rounds.len().saturating_sub(1);
        for (i, round) in self.rounds.iter().enumerate() {
            if i == last {
                out.push_str("FINAL RESULT\n");
            } else {
                out.push_str(&format!("ROUND {}\n", i + 1));
            }
            out.push_str(&self.table(round));
            out.push_str("\n\n");
        }
        if self.lots_drawn {
            out.push_str(&format!(
                "A tie survived every tie-break; it was settled by lot (seed {}).\n",
                self.seed
            ));
        }
        out.trim_end().to_owned() + "\n"
    }

    fn table(&self, round: &Round) -> String {
        let mut rows: Vec<(String, f64, String)> = round
            .standings
            .iter()
            .map(|s| {
                (
                    self.names[s.candidate].clone(),
                    s.votes,
                    s.status.label().to_owned(),
                )
            })
            .collect();
        if round.blank != 0.0 {
            rows.push(("Blank Votes".into(), round.blank, String::new()));
        }
        let whole = rows.iter().all(|(_, v, _)| (v - v.round()).abs() < 1e-9);
        let votes: Vec<String> = rows
            .iter()
            .map(|(_, v, _)| {
                if whole {
                    format!("{v:.0}")
                } else {
                    format!("{v:.2}")
                }
            })
            .collect();
        // tabulate pads the header by two; a longer cell widens the column to itself.
        let width = |header: &str, cells: &mut dyn Iterator<Item = usize>| {
            cells.fold(header.chars().count() + 2, usize::max)
        };
        let w1 = width("Candidate", &mut rows.iter().map(|r| r.0.chars().count()));
        let w2 = width("Votes", &mut votes.iter().map(String::len));
        let w3 = width("Status", &mut rows.iter().map(|r| r.2.len()));
        let line = |a: &str, b: &str, c: &str| {
            format!("{a:<w1$}  {b:>w2$}  {c:<w3$}")
                .trim_end()
                .to_owned()
        };
        let mut lines = vec![
            line("Candidate", "Votes", "Status"),
            format!("{}  {}  {}", "-".repeat(w1), "-".repeat(w2), "-".repeat(w3)),
        ];
        for ((name, _, status), v) in rows.iter().zip(&votes) {
            lines.push(line(name, v, status));
        }
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Spec §4.1's worked example: 4×[A,B,C], 2×[B,A], 2×[C,B], 1×[D,C].
    fn example() -> (Vec<String>, Vec<Vec<usize>>) {
        let (a, b, c, d) = (0, 1, 2, 3);
        let mut ballots = Vec::new();
        ballots.extend(std::iter::repeat_n(vec![a, b, c], 4));
        ballots.extend(std::iter::repeat_n(vec![b, a], 2));
        ballots.extend(std::iter::repeat_n(vec![c, b], 2));
        ballots.push(vec![d, c]);
        (names(&["A", "B", "C", "D"]), ballots)
    }

    #[test]
    fn two_seats_elect_a_then_b_on_as_surplus() {
        let (candidates, ballots) = example();
        let outcome = count(&candidates, &ballots, 2, 1).unwrap();
        assert_eq!(outcome.winners, [0, 1]);
        let first = &outcome.rounds[0];
        // Round 1: A elected with 4; B above C on second choices (6 vs 1).
        let line = |s: &Standing| (outcome.names[s.candidate].as_str(), s.votes, s.status);
        assert_eq!(
            first.standings.iter().map(line).collect::<Vec<_>>(),
            [
                ("A", 4.0, Status::Elected),
                ("B", 2.0, Status::Hopeful),
                ("C", 2.0, Status::Hopeful),
                ("D", 1.0, Status::Hopeful)
            ]
        );
        let last = outcome.rounds.last().unwrap();
        assert_eq!(
            last.standings.iter().map(line).collect::<Vec<_>>(),
            [
                ("A", 3.0, Status::Elected),
                ("B", 3.0, Status::Elected),
                ("C", 2.0, Status::Rejected),
                ("D", 1.0, Status::Rejected)
            ]
        );
        assert!(!outcome.lots_drawn);
    }

    #[test]
    fn one_seat_rejects_d_then_b_and_elects_a() {
        let (candidates, ballots) = example();
        let outcome = count(&candidates, &ballots, 1, 1).unwrap();
        assert_eq!(outcome.winners, [0]);
        let line = |s: &Standing| (outcome.names[s.candidate].as_str(), s.votes, s.status);
        let table = |r: &Round| r.standings.iter().map(line).collect::<Vec<_>>();
        // Quota 4.5: nobody; only D (1) cannot catch the one above it.
        assert_eq!(
            table(&outcome.rounds[0]),
            [
                ("A", 4.0, Status::Hopeful),
                ("B", 2.0, Status::Hopeful),
                ("C", 2.0, Status::Hopeful),
                ("D", 1.0, Status::Rejected)
            ]
        );
        // D's vote went to C (3): now B (2) is out.
        assert_eq!(
            table(&outcome.rounds[1]),
            [
                ("A", 4.0, Status::Hopeful),
                ("C", 3.0, Status::Hopeful),
                ("B", 2.0, Status::Rejected),
                ("D", 0.0, Status::Rejected)
            ]
        );
        // B's two ballots went to A (6 ≥ 4.5): A wins, C is out.
        assert_eq!(
            table(outcome.rounds.last().unwrap()),
            [
                ("A", 6.0, Status::Elected),
                ("C", 3.0, Status::Rejected),
                ("B", 0.0, Status::Rejected),
                ("D", 0.0, Status::Rejected)
            ]
        );
    }

    #[test]
    fn exactly_half_is_enough_for_one_seat_and_blank_ballots_are_shown() {
        // quota = 4 / 2 = 2: two first preferences elect A. B is C's second choice, so B
        // ranks above C at 1 vote each.
        let outcome = count(
            &names(&["A", "B", "C"]),
            &[vec![0], vec![0], vec![1], vec![2, 1], vec![]],
            1,
            7,
        )
        .unwrap();
        assert_eq!(outcome.winners, [0]);
        assert!(!outcome.lots_drawn);
        let text = outcome.transcript();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "FINAL RESULT");
        // As in spec §4.1's sample: columns as wide as their header plus two, or their widest
        // cell ("Blank Votes", "Rejected").
        assert_eq!(lines[1], "Candidate      Votes  Status");
        assert_eq!(lines[2], "-----------  -------  --------");
        assert_eq!(lines[3], "A                  2  Elected");
        assert_eq!(lines[4], "B                  1  Rejected");
        assert_eq!(lines[5], "C                  1  Rejected");
        assert_eq!(lines[6], "Blank Votes        1");
        assert_eq!(lines.len(), 7);
    }

    #[test]
    fn fractions_print_with_two_decimals() {
        let (candidates, ballots) = example();
        let text = count(&candidates, &ballots, 2, 1).unwrap().transcript();
        assert!(
            text.starts_with("ROUND 1\nCandidate      Votes  Status\n"),
            "{text}"
        );
        assert!(text.contains("FINAL RESULT\n"), "{text}");
        assert!(text.contains("A                  4  Elected"), "{text}");
    }

    #[test]
    fn a_perfect_tie_is_settled_by_a_recorded_lot_the_same_way_every_time() {
        let candidates = names(&["A", "B"]);
        let ballots = vec![vec![0, 1], vec![1, 0]];
        let first = count(&candidates, &ballots, 1, 42).unwrap();
        let again = count(&candidates, &ballots, 1, 42).unwrap();
        assert_eq!(first.winners, again.winners);
        assert!(first.lots_drawn);
        assert!(first.transcript().contains("settled by lot (seed 42)"));
    }

    #[test]
    fn bad_ballots_and_empty_elections_are_refused() {
        let candidates = names(&["A", "B"]);
        assert_eq!(
            count(&candidates, &[vec![0, 0]], 1, 0),
            Err(CountError::BadBallot(0))
        );
        assert_eq!(
            count(&candidates, &[vec![5]], 1, 0),
            Err(CountError::BadBallot(0))
        );
        assert_eq!(count(&candidates, &[], 0, 0), Err(CountError::Empty));
    }
}

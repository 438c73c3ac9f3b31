//! Which seed of a pool a player gets (spec §3.4): never one they already played (reattempts
//! included, so a reattempt gets a different seed), never a live race's; when the pool's play
//! counts drift more than [`MAX_POOL_IMBALANCE`] apart, the least-played seed if the player may
//! have it. Upstream crashed on an exhausted pool; here it is a typed answer.

/// How far apart the play counts of a pool's seeds may drift before the least-played is forced.
pub const MAX_POOL_IMBALANCE: u64 = 3;

/// A seed of the pool with how often it was played (by anyone, any state, reattempts too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seed {
    /// Permalink id.
    pub id: i64,
    /// Runs on it.
    pub plays: u64,
}

/// Why no seed can be handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exhausted {
    /// The pool has no async seeds at all.
    Empty,
    /// The player has played every one of them.
    AllPlayed,
}

/// The seed for a player among `seeds` (in pool order, live seeds left out) who played
/// `played`; `pick` chooses among the eligible ones (random in service, fixed in tests).
pub fn choose(
    seeds: &[Seed],
    played: &[i64],
    pick: impl FnOnce(&[i64]) -> i64,
) -> Result<i64, Exhausted> {
    if seeds.is_empty() {
        return Err(Exhausted::Empty);
    }
    let eligible: Vec<i64> = seeds
        .iter()
        .map(|s| s.id)
        .filter(|id| !played.contains(id))
        .collect();
    if eligible.is_empty() {
        return Err(Exhausted::AllPlayed);
    }
    let max = seeds.iter().map(|s| s.plays).max().unwrap_or(0);
    let min = seeds.iter().map(|s| s.plays).min().unwrap_or(0);
    if max - min > MAX_POOL_IMBALANCE {
        // The first least-played seed, in pool order.
        if let Some(forced) = seeds.iter().find(|s| s.plays == min)
            && eligible.contains(&forced.id)
        {
            return Ok(forced.id);
        }
    }
    Ok(pick(&eligible))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds(plays: &[u64]) -> Vec<Seed> {
        plays
            .iter()
            .enumerate()
            .map(|(i, p)| Seed {
                id: i as i64 + 1,
                plays: *p,
            })
            .collect()
    }

    #[test]
    fn a_balanced_pool_picks_among_the_unplayed() {
        let got = choose(&seeds(&[2, 3, 2]), &[1], |eligible| {
            assert_eq!(eligible, [2, 3]);
            eligible[1]
        });
        assert_eq!(got, Ok(3));
    }

    #[test]
    fn an_imbalanced_pool_forces_the_least_played_when_eligible() {
        assert_eq!(choose(&seeds(&[5, 1, 1]), &[], |_| panic!("forced")), Ok(2));
        // The least played was played by this player: random among the rest.
        assert_eq!(choose(&seeds(&[5, 1, 3]), &[2], |e| e[0]), Ok(1));
        // Exactly the imbalance allowed: not forced.
        assert_eq!(choose(&seeds(&[4, 1]), &[], |e| e[0]), Ok(1));
    }

    #[test]
    fn an_exhausted_pool_is_an_answer_not_a_crash() {
        assert_eq!(choose(&[], &[], |e| e[0]), Err(Exhausted::Empty));
        assert_eq!(
            choose(&seeds(&[1, 1]), &[1, 2], |e| e[0]),
            Err(Exhausted::AllPlayed)
        );
    }
}

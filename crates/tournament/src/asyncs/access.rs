//! Who may do what in an async tournament (spec §3.11), as one policy the RPCs, the Discord
//! buttons and the web pages all ask. The caller's grants are resolved first (a user grant, or
//! a grant to one of the member's current Discord roles in the tournament's guild) into a
//! [`Subject`]; [`allowed`] decides. The operator (upstream's bot owner) may do everything.

use sea_orm::sea_query::StringLen;

/// A grant in an async tournament (stored as `admin`, `mod`).
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
pub enum Role {
    /// Runs it: scores, reviews, timeouts.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// Reviews runs and extends timeouts.
    #[sea_orm(string_value = "mod")]
    Mod,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Mod => "mod",
        }
    }
}

/// The caller, resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// The operator (an `admin` API key, the CLI).
    pub operator: bool,
    /// The tournament's owner.
    pub owner: bool,
    /// Grants held (directly or through a Discord role).
    pub roles: Vec<Role>,
    /// Logged in with a linked account (a `users` row).
    pub linked: bool,
    /// The run or player data in question is the caller's own.
    pub own: bool,
    /// An API key with the `asynctournament:read` scope: reads every tournament's results.
    pub reader: bool,
}

/// What the caller wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create a tournament.
    Create,
    /// Add pools and seeds.
    AddSeed,
    /// Post the "Start new async run" button again.
    Repost,
    /// Grant admin or mod.
    Permissions,
    /// Close the tournament.
    Close,
    /// Correct a run's data.
    UpdateRun,
    /// Give a run more time.
    ExtendTimeout,
    /// Record a live qualifier race.
    LiveRaceRecord,
    /// The review queue, a run's review, submitting a review.
    Review,
    /// Recompute pars and scores.
    CalculateScores,
    /// Excuse a player from the account-age gate.
    Whitelist,
    /// The tournament's info and leaderboard, pools, a player's runs.
    ViewResults,
    /// A permalink's runs (`live`: a live race's seed, always public).
    ViewPermalink {
        /// The permalink was raced live.
        live: bool,
    },
    /// A player's own dashboard and reattempt form.
    OwnRuns,
}

/// Whether `subject` may do `action` in a tournament that is `active` (results become public
/// once it is closed).
pub fn allowed(action: Action, subject: &Subject, active: bool) -> bool {
    if subject.operator {
        return true;
    }
    let staff = !subject.roles.is_empty();
    match action {
        Action::Create | Action::AddSeed | Action::Repost | Action::Permissions => false,
        Action::Close | Action::UpdateRun => subject.owner,
        Action::ExtendTimeout | Action::LiveRaceRecord | Action::Review => staff,
        Action::CalculateScores | Action::Whitelist => subject.roles.contains(&Role::Admin),
        Action::ViewResults => staff || subject.reader || !active,
        Action::ViewPermalink { live } => live || staff || subject.reader || !active,
        Action::OwnRuns => subject.linked && subject.own,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The permission matrix: every kind of caller × every action, while the tournament runs
    /// and after it closed.
    #[test]
    fn the_permission_matrix() {
        let stranger = Subject::default();
        let player = Subject {
            linked: true,
            own: true,
            ..Subject::default()
        };
        let other_player = Subject {
            linked: true,
            ..Subject::default()
        };
        let moderator = Subject {
            linked: true,
            roles: vec![Role::Mod],
            ..Subject::default()
        };
        let admin = Subject {
            linked: true,
            roles: vec![Role::Admin],
            ..Subject::default()
        };
        let owner = Subject {
            linked: true,
            owner: true,
            ..Subject::default()
        };
        let operator = Subject {
            operator: true,
            ..Subject::default()
        };
        let who = [
            ("stranger", &stranger),
            ("player", &player),
            ("other player", &other_player),
            ("mod", &moderator),
            ("admin", &admin),
            ("owner", &owner),
            ("operator", &operator),
        ];
        use Action::*;
        // (action, active, allowed for: stranger, player, other, mod, admin, owner, operator)
        let matrix: [(Action, bool, [bool; 7]); 16] = [
            (
                Create,
                true,
                [false, false, false, false, false, false, true],
            ),
            (
                AddSeed,
                true,
                [false, false, false, false, false, false, true],
            ),
            (
                Repost,
                true,
                [false, false, false, false, false, false, true],
            ),
            (
                Permissions,
                true,
                [false, false, false, false, false, false, true],
            ),
            (Close, true, [false, false, false, false, false, true, true]),
            (
                UpdateRun,
                true,
                [false, false, false, false, false, true, true],
            ),
            (
                ExtendTimeout,
                true,
                [false, false, false, true, true, false, true],
            ),
            (
                LiveRaceRecord,
                true,
                [false, false, false, true, true, false, true],
            ),
            (Review, true, [false, false, false, true, true, false, true]),
            (
                CalculateScores,
                true,
                [false, false, false, false, true, false, true],
            ),
            (
                ViewResults,
                true,
                [false, false, false, true, true, false, true],
            ),
            (
                ViewResults,
                false,
                [true, true, true, true, true, true, true],
            ),
            (
                ViewPermalink { live: false },
                true,
                [false, false, false, true, true, false, true],
            ),
            (
                ViewPermalink { live: true },
                true,
                [true, true, true, true, true, true, true],
            ),
            (
                OwnRuns,
                true,
                [false, true, false, false, false, false, true],
            ),
            (
                OwnRuns,
                false,
                [false, true, false, false, false, false, true],
            ),
        ];
        for (action, active, expected) in matrix {
            for ((name, subject), want) in who.iter().zip(expected) {
                assert_eq!(
                    allowed(action, subject, active),
                    want,
                    "{name} × {action:?} (active: {active})"
                );
            }
        }
    }

    /// An API key with the read scope reads results and seeds, and nothing else.
    #[test]
    fn an_api_key_reader_reads_and_only_reads() {
        let reader = Subject {
            reader: true,
            ..Subject::default()
        };
        for action in [Action::ViewResults, Action::ViewPermalink { live: false }] {
            assert!(allowed(action, &reader, true), "{action:?}");
        }
        for action in [
            Action::Review,
            Action::CalculateScores,
            Action::Whitelist,
            Action::Close,
            Action::OwnRuns,
            Action::ExtendTimeout,
        ] {
            assert!(!allowed(action, &reader, true), "{action:?}");
        }
        let admin = Subject {
            roles: vec![Role::Admin],
            ..Subject::default()
        };
        let moderator = Subject {
            roles: vec![Role::Mod],
            ..Subject::default()
        };
        assert!(allowed(Action::Whitelist, &admin, true));
        assert!(!allowed(Action::Whitelist, &moderator, true));
    }
}

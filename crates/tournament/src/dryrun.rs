//! A dry run of a race day: the schedule of a window replayed against the tournament's rules,
//! printing what would happen when — reminders, Discord events, rooms opened and who is
//! invited, seeds rolled with which roller and settings, race starts — and every problem found
//! on the way (players who cannot be found or invited, settings missing where the room needs
//! them, a roller seedgen refuses). Nothing is sent: no racetime.gg room, no Discord message;
//! players are looked up (Identity, the guild's members) and the roll is checked by seedgen's
//! `validate_only`, which calls no provider. `tournament dry-run <slug> --from <time> --hours N`
//! prints it; organizers get the same from the `DryRun` RPC and the website.

use chrono::{DateTime, Duration, Utc};
use platform::grpc::Peers;
use proto::seedgen::v1 as sg;
use proto::seedgen::v1::seed_gen_client::SeedGenClient;
use sea_orm::DatabaseConnection;

use crate::matches::{self, NewMatch};
use crate::opener::{OpenError, Opener};
use crate::registry::Tournament;
use crate::speedgaming::SpeedGaming;

/// One thing that would happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// When.
    pub at: DateTime<Utc>,
    /// What, in words.
    pub what: String,
}

/// The rehearsal: the timeline and the problems.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rehearsal {
    /// In time order.
    pub steps: Vec<Step>,
    /// What would go wrong, in words.
    pub problems: Vec<String>,
}

impl Rehearsal {
    /// The rehearsal as text: one line per step in the tournament's time zone, then problems.
    pub fn render(&self, zone: &str) -> String {
        let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
        let mut out = String::new();
        for step in &self.steps {
            out.push_str(&format!(
                "{}  {}\n",
                step.at.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
                step.what
            ));
        }
        if self.steps.is_empty() {
            out.push_str("Nothing is scheduled in this window.\n");
        }
        if self.problems.is_empty() {
            out.push_str("\nNo problems found.\n");
        } else {
            out.push_str(&format!("\n{} problem(s):\n", self.problems.len()));
            for p in &self.problems {
                out.push_str(&format!("- {p}\n"));
            }
        }
        out
    }
}

/// A match of the window: stored, or (for a SpeedGaming tournament) only on the schedule.
struct Planned {
    id: Option<i64>,
    external_id: String,
    title: String,
    at: DateTime<Utc>,
    players: Vec<matches::Player>,
    channels: Vec<String>,
}

/// Rehearses `t` from `from` for `hours`.
///
/// Errors: the database, SpeedGaming, Identity or the gateway failed (a seedgen refusal is a
/// problem, not an error).
pub async fn rehearse(
    db: &DatabaseConnection,
    peers: &Peers,
    opener: &Opener,
    sg_client: Option<&SpeedGaming>,
    t: &Tournament,
    from: DateTime<Utc>,
    hours: u32,
) -> Result<Rehearsal, anyhow::Error> {
    let to = from + Duration::hours(i64::from(hours));
    let mut planned: Vec<Planned> = matches::between(db, t.row.id, from, to)
        .await?
        .into_iter()
        .map(|m| Planned {
            id: Some(m.id),
            players: matches::players(&m),
            channels: matches::channels(&m),
            external_id: m.external_id,
            title: m.title,
            at: m.scheduled_at,
        })
        .collect();
    // Episodes beyond the imported week (or not imported yet) come from SpeedGaming itself.
    if let (Some(sg_client), Some(event)) = (sg_client, t.row.speedgaming_event.as_deref()) {
        for episode in sg_client.schedule(event, from, to).await? {
            let new = NewMatch::from_episode(&episode);
            if new.scheduled_at < from
                || new.scheduled_at > to
                || planned.iter().any(|p| p.external_id == new.external_id)
            {
                continue;
            }
            planned.push(Planned {
                id: None,
                external_id: new.external_id,
                title: new.title,
                at: new.scheduled_at,
                players: new.players,
                channels: new.channels,
            });
        }
    }
    let mut out = Rehearsal::default();
    let form = crate::submissions::form_of(t);
    for m in &planned {
        let versus = m
            .players
            .iter()
            .map(|p| p.display_name.as_str())
            .collect::<Vec<_>>()
            .join(" vs. ");
        let name = format!(
            "`{}` {}{}",
            m.external_id,
            versus,
            if m.title.is_empty() {
                String::new()
            } else {
                format!(" ({})", m.title)
            }
        );
        let submitted = match (&form, m.id) {
            (Some(_), Some(id)) => crate::submissions::of_match(db, id).await?,
            _ => None,
        };
        if let Some(form) = &form {
            let at = (m.at - Duration::hours(i64::from(form.reminder_hours))).max(from);
            if submitted.is_none() {
                out.steps.push(Step {
                    at,
                    what: format!("remind the players of {name} to submit their settings (DM)"),
                });
                if form.required {
                    out.problems.push(format!(
                        "{name}: no settings submitted yet; its room will not open until they are"
                    ));
                }
            }
        }
        if t.row.scheduled_events {
            out.steps.push(Step {
                at: from.max(m.at - crate::scheduled_events::HORIZON),
                what: format!(
                    "create the Discord event \"{}\"",
                    format!("{} - {} - {versus}", t.row.slug.to_uppercase(), m.title)
                        .chars()
                        .take(100)
                        .collect::<String>()
                ),
            });
        }
        // Who would be invited.
        let resolved = match opener.resolve(t, m.players.clone()).await {
            Ok(r) => r,
            Err(OpenError::Peer { peer, status }) => {
                out.problems.push(format!(
                    "{name}: players not checked ({peer}: {})",
                    status.message()
                ));
                Vec::new()
            }
            Err(error) => return Err(error.into()),
        };
        let invited: Vec<&str> = resolved
            .iter()
            .filter(|p| p.racetime_user_id.is_some())
            .map(|p| p.player.display_name.as_str())
            .collect();
        for (p, problem) in crate::player_checks::problems(&resolved) {
            out.problems.push(format!(
                "{name}: {} {}",
                p.player.display_name,
                problem.explanation()
            ));
        }
        let opens = m.at - t.open_lead();
        out.steps.push(Step {
            at: opens,
            what: format!(
                "open a room in {} (\"{}\") for {name}; invite {}",
                t.row.racetime_category,
                t.row.racetime_goal,
                if invited.is_empty() {
                    "nobody".to_owned()
                } else {
                    invited.join(", ")
                }
            ),
        });
        if opens < Utc::now() && m.id.is_none() {
            out.problems.push(format!(
                "{name}: its room is already due but the match is not imported yet"
            ));
        }
        // The roll, checked by seedgen without rolling.
        match t.roller.preset_for(&m.title) {
            Ok(None) => {}
            Err(message) => out.problems.push(format!("{name}: {message}")),
            Ok(Some(default)) => {
                let (randomizer, preset) = match (&form, &submitted) {
                    (Some(form), Some(values)) => form.resolve(values, default),
                    _ => default,
                };
                let check = check_roll(peers, t, &randomizer, &preset).await;
                let roll_at = m.at - Duration::minutes(5);
                match check {
                    Ok(()) => out.steps.push(Step {
                        at: roll_at,
                        what: format!("roll {randomizer} `{preset}` at !tournamentrace (about 5 minutes before the start)"),
                    }),
                    Err(problem) => out.problems.push(format!(
                        "{name}: the seed cannot be rolled with {randomizer} `{preset}`: {problem}"
                    )),
                }
            }
        }
        if m.channels.is_empty() {
            out.steps.push(Step {
                at: m.at,
                what: format!("{name} starts"),
            });
        } else {
            out.steps.push(Step {
                at: m.at,
                what: format!("{name} starts, on {}", m.channels.join(", ")),
            });
        }
    }
    out.steps.sort_by_key(|s| s.at);
    Ok(out)
}

/// Whether seedgen would roll `randomizer` / `preset` (`validate_only`: no provider call).
async fn check_roll(
    peers: &Peers,
    t: &Tournament,
    randomizer: &str,
    preset: &str,
) -> Result<(), String> {
    let seedgen = peers.get("seedgen").map_err(|s| s.message().to_owned())?;
    let request = sg::GenerateRequest {
        idempotency_key: format!("dry-run:{}", t.row.slug),
        randomizer: randomizer.to_owned(),
        preset: preset.to_owned(),
        race: true,
        validate_only: true,
        requested_by: "dry-run".into(),
        surface: "cli".into(),
        ..Default::default()
    };
    seedgen
        .call(|| {
            let mut client = SeedGenClient::new(seedgen.channel());
            let request = request.clone();
            async move { client.generate(request).await }
        })
        .await
        .map(drop)
        .map_err(|s| s.message().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeline_reads_in_the_tournament_zone() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T18:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let rehearsal = Rehearsal {
            steps: vec![Step {
                at,
                what: "`1` Alice vs. Bob starts".into(),
            }],
            problems: vec!["`2`: Nobody cannot be found".into()],
        };
        let text = rehearsal.render("America/New_York");
        assert!(
            text.starts_with("2026-12-01 13:00 EST  `1` Alice vs. Bob starts\n"),
            "{text}"
        );
        assert!(
            text.contains("1 problem(s):\n- `2`: Nobody cannot be found\n"),
            "{text}"
        );
        assert!(
            Rehearsal::default()
                .render("UTC")
                .contains("No problems found.")
        );
    }
}

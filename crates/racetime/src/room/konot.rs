//! KONOT series: a new segment's room opened through the host when a race finishes, and
//! who advances invited.

use chrono::Utc;
use racetime_client::{Action, RaceData, RaceSettings};

use super::actor::RoomActor;
use crate::state::{KonotSegment, RoomState};

impl RoomActor {
    pub(super) async fn konot_start(&mut self, key: &str) {
        if let Some(segment) = &self.state.konot {
            let text = format!(
                "This room is already segment #{} of a KONOT series.",
                segment.segment
            );
            self.say(key, &[text]).await;
            return;
        }
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        let game = crate::db::konot_game::ActiveModel {
            category: Set(self.category.slug.clone()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.host.db())
        .await;
        let game = match game {
            Ok(game) => game,
            Err(error) => {
                tracing::error!(%error, "could not create a KONOT game");
                self.say(
                    key,
                    &["I could not start a KONOT series right now; please try again.".into()],
                )
                .await;
                return;
            }
        };
        self.state.konot = Some(KonotSegment {
            game_id: game.id,
            segment: 1,
            ..KonotSegment::default()
        });
        self.persist(Vec::new()).await;
        self.say(key, &["Setting up new KONOT race series!  The last player(s) to finish will be eliminated.  Once this race finishes, a new race will be created and the players advancing will be invited to the new room.".into()]).await;
        self.set_info("KONOT Series, Segment #1").await;
    }

    pub(super) async fn konot_next(&mut self, race: &RaceData) {
        let Some(segment) = self.state.konot.clone() else {
            return;
        };
        if segment.next_room.is_some() || segment.final_announced {
            return;
        }
        if race.entrants_count <= 2 {
            if let Some(k) = self.state.konot.as_mut() {
                k.final_announced = true;
            }
            self.persist(Vec::new()).await;
            self.say("konot-final", &["This was the final race!  GG".into()])
                .await;
            return;
        }
        let next = segment.segment + 1;
        let mut settings = RaceSettings::from_race(race);
        settings.invitational = true;
        settings.unlisted = false;
        settings.info_user = format!("KONOT Series, Segment #{next}");
        settings.info_bot = String::new();
        settings.start_delay = 15;
        settings.time_limit = 24;
        settings.chat_message_delay = 0;
        settings.team_race = false;
        settings.hide_entrants = false;
        let initial = RoomState {
            konot: Some(KonotSegment {
                game_id: segment.game_id,
                segment: next,
                ..KonotSegment::default()
            }),
            ..RoomState::default()
        };
        let key = format!("konot:{}:{next}", segment.game_id);
        let room = match self
            .host
            .clone()
            .open_room(&self.category.slug, settings, &key, initial)
            .await
        {
            Ok(room) => room,
            Err(error) => {
                tracing::error!(room = %self.name, %error, "could not open the next KONOT room");
                self.say(
                    "konot-error",
                    &[format!("I could not open the next KONOT room: {error}")],
                )
                .await;
                return;
            }
        };
        // Everyone placed advances except the last entrant in server order.
        let count = race.entrants.len();
        let advancing: Vec<String> = race
            .entrants
            .iter()
            .take(count.saturating_sub(1))
            .filter(|e| e.place.is_some())
            .filter_map(|e| e.user_id().map(str::to_string))
            .collect();
        for user in advancing {
            if let Err(error) = self
                .host
                .room_call(&room, Action::Invite { user: user.clone() })
                .await
            {
                tracing::warn!(%room, %user, %error, "could not invite a KONOT player");
            }
        }
        if let Some(k) = self.state.konot.as_mut() {
            k.next_room = Some(room.clone());
        }
        self.persist(Vec::new()).await;
        let url = self.host.http().url(&format!("/{room}"));
        self.say("konot-next", &[format!("Next race room at {url}")])
            .await;
    }
}

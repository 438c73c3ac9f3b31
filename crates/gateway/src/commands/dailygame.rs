//! `/dailygame` (spec §1.4): today's alttpr.com daily challenge.

use futures::future::BoxFuture;
use proto::seedgen::v1 as pb;
use twilight_model::application::command::{Command, CommandType};
use twilight_util::builder::command::CommandBuilder;

use super::SlashCommand;
use super::seed::client;
use crate::context::{App, Call, CommandError};
use crate::discord::Reply;

/// `/dailygame`.
#[derive(Debug)]
pub struct DailyGame;

impl SlashCommand for DailyGame {
    fn definition(&self) -> Command {
        CommandBuilder::new(
            "dailygame",
            "Returns the current daily game from alttpr.com.",
            CommandType::ChatInput,
        )
        .build()
    }

    fn run<'a>(
        &'a self,
        app: &'a App,
        _call: &'a Call,
    ) -> BoxFuture<'a, Result<Reply, CommandError>> {
        Box::pin(async move {
            let emoji = &app.settings.item_emoji;
            let mut seedgen = client(app)?;
            let daily = seedgen
                .get_daily(pb::GetDailyRequest {})
                .await
                .map_err(|_| {
                    CommandError::user(
                        "Unable to fetch the daily challenge right now.  Please try again shortly.",
                    )
                })?
                .into_inner();
            let e = crate::daily::embed(&daily, emoji);
            Ok(Reply::embed(e))
        })
    }
}

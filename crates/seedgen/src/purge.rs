//! Consumes `api.user.purged` (spec W6): a person asked for their data to be deleted, so their
//! preset namespace, its presets and their collaborations go too.

use platform::events::consumer::HandlerError;
use platform::events::contract::Subscriber;
use proto::events::v1::{Envelope, UserPurged};
use sea_orm::DatabaseTransaction;

use crate::preset::namespaces;

/// Deletes a purged user's namespaces and collaborations.
#[derive(Debug)]
pub struct OnUserPurged;

impl Subscriber for OnUserPurged {
    type Event = UserPurged;

    fn name(&self) -> &str {
        "seedgen-user-purged"
    }

    async fn on(
        &self,
        txn: &DatabaseTransaction,
        event: UserPurged,
        _envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        if event.discord_user_id == 0 {
            return Ok(());
        }
        let deleted = namespaces::purge_user(txn, event.discord_user_id).await?;
        tracing::info!(
            user_id = event.user_id,
            namespaces = deleted,
            "purged a user's presets"
        );
        Ok(())
    }
}

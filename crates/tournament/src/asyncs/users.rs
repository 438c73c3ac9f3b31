//! api's account events for async tournament data (spec `tournament.md` §5.6): a merged user's
//! runs, reviews, grants, whitelist entries and audit lines move to the account that was kept
//! (upstream moved all but the whitelist); a purged user's runs, grants, whitelist entries and
//! cached names are deleted, and the audit lines and reviews they wrote lose their name.

use platform::events::{HandlerError, Subscriber};
use proto::events::v1 as ev;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::db::{audit, grant, player, run, whitelist};

/// `api.user.merged`: re-points every reference to the merged-away user.
#[derive(Clone, Copy, Debug, Default)]
pub struct OnUserMerged;

impl Subscriber for OnUserMerged {
    type Event = ev::UserMerged;

    fn name(&self) -> &str {
        "tournament-async-user-merged"
    }

    async fn on(
        &self,
        txn: &DatabaseTransaction,
        event: ev::UserMerged,
        _envelope: &ev::Envelope,
    ) -> Result<(), HandlerError> {
        let (from, into) = (event.from_user_id as i64, event.into_user_id as i64);
        if from == 0 || into == 0 || from == into {
            return Ok(());
        }
        run::Entity::update_many()
            .col_expr(run::Column::UserId, Expr::value(into))
            .filter(run::Column::UserId.eq(from))
            .exec(txn)
            .await?;
        run::Entity::update_many()
            .col_expr(run::Column::ReviewedBy, Expr::value(into))
            .filter(run::Column::ReviewedBy.eq(from))
            .exec(txn)
            .await?;
        grant::Entity::update_many()
            .col_expr(grant::Column::UserId, Expr::value(into))
            .filter(grant::Column::UserId.eq(from))
            .exec(txn)
            .await?;
        audit::Entity::update_many()
            .col_expr(audit::Column::UserId, Expr::value(into))
            .filter(audit::Column::UserId.eq(from))
            .exec(txn)
            .await?;
        // A whitelist entry moves unless the kept account has one in that tournament.
        for entry in whitelist::Entity::find()
            .filter(whitelist::Column::UserId.eq(from))
            .all(txn)
            .await?
        {
            whitelist::Entity::delete_by_id((entry.tournament_id, from))
                .exec(txn)
                .await?;
            if whitelist::Entity::find_by_id((entry.tournament_id, into))
                .one(txn)
                .await?
                .is_none()
            {
                whitelist::Entity::insert(whitelist::ActiveModel {
                    tournament_id: sea_orm::ActiveValue::Set(entry.tournament_id),
                    user_id: sea_orm::ActiveValue::Set(into),
                })
                .exec_without_returning(txn)
                .await?;
            }
        }
        player::Entity::delete_by_id(from).exec(txn).await?;
        Ok(())
    }
}

/// `api.user.purged`: deletes what async tournaments keep of the user.
#[derive(Clone, Copy, Debug, Default)]
pub struct OnUserPurged;

impl Subscriber for OnUserPurged {
    type Event = ev::UserPurged;

    fn name(&self) -> &str {
        "tournament-async-user-purged"
    }

    async fn on(
        &self,
        txn: &DatabaseTransaction,
        event: ev::UserPurged,
        _envelope: &ev::Envelope,
    ) -> Result<(), HandlerError> {
        let user = event.user_id as i64;
        if user == 0 {
            return Ok(());
        }
        run::Entity::delete_many()
            .filter(run::Column::UserId.eq(user))
            .exec(txn)
            .await?;
        run::Entity::update_many()
            .col_expr(run::Column::ReviewedBy, Expr::value(Option::<i64>::None))
            .filter(run::Column::ReviewedBy.eq(user))
            .exec(txn)
            .await?;
        grant::Entity::delete_many()
            .filter(grant::Column::UserId.eq(user))
            .exec(txn)
            .await?;
        whitelist::Entity::delete_many()
            .filter(whitelist::Column::UserId.eq(user))
            .exec(txn)
            .await?;
        audit::Entity::update_many()
            .col_expr(audit::Column::UserId, Expr::value(Option::<i64>::None))
            .filter(audit::Column::UserId.eq(user))
            .exec(txn)
            .await?;
        player::Entity::delete_by_id(user).exec(txn).await?;
        Ok(())
    }
}

//! Triforce texts (spec tournament.md §4.4, W22–W24): racers submit three-line end-credit
//! texts to a pool, the pool's moderators approve or reject them, and seeds rolled for the
//! pool carry one approved text (`settings.texts.end_triforce = "{NOBORDER}\n" + text`).
//!
//! Deliberate fixes: the allowed character set is the listed characters only (upstream's class
//! `,-…` was a range that let in `@`, `[`, Latin-1 and more), and a moderator can moderate only
//! the texts of the pool they moderate (upstream took any text id).

use chrono::Utc;
use platform::db::{u64_from_db, u64_to_db};
use proto::triforce::v1 as pb;
use proto::triforce::v1::triforce_texts_server::TriforceTexts;
use rand::RngExt as _;
use sea_orm::sea_query::StringLen;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use tonic::{Request, Response, Status};

/// Longest line, in characters (what fits the credits screen).
pub const MAX_LINE: usize = 19;

/// A text's moderation state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum TextStatus {
    /// Waiting for a moderator.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// May go into seeds.
    #[sea_orm(string_value = "approved")]
    Approved,
    /// Never used.
    #[sea_orm(string_value = "rejected")]
    Rejected,
}

impl TextStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TextStatus::Pending => "pending",
            TextStatus::Approved => "approved",
            TextStatus::Rejected => "rejected",
        }
    }

    /// A filter from its name: `None` for `all`.
    ///
    /// Errors: an unknown name.
    pub fn filter(name: &str) -> Result<Option<Self>, String> {
        match name {
            "" | "pending" => Ok(Some(TextStatus::Pending)),
            "approved" | "true" => Ok(Some(TextStatus::Approved)),
            "rejected" | "false" => Ok(Some(TextStatus::Rejected)),
            "all" => Ok(None),
            other => Err(format!(
                "unknown status `{other}`; use pending, approved, rejected or all"
            )),
        }
    }
}

/// `seedgen_triforce_texts`.
pub mod text {
    use sea_orm::entity::prelude::*;

    /// One submitted text.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "seedgen_triforce_texts")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The pool (e.g. `alttpr2024`).
        pub pool: String,
        /// Three lines joined by `\n`.
        pub text: String,
        /// The submitter.
        pub discord_user_id: i64,
        /// The submitter's Discord username then.
        pub author: String,
        /// Moderation state.
        pub status: super::TextStatus,
        /// When submitted.
        pub created_at: ChronoDateTimeUtc,
        /// Who approved or rejected it.
        pub moderated_by: Option<i64>,
        /// When.
        pub moderated_at: Option<ChronoDateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `seedgen_triforce_moderators`.
pub mod moderator {
    use sea_orm::entity::prelude::*;

    /// A pool moderator.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "seedgen_triforce_moderators")]
    pub struct Model {
        /// The pool.
        #[sea_orm(primary_key, auto_increment = false)]
        pub pool: String,
        /// The moderator's Discord id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub discord_user_id: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Whether `c` may appear in a line: ASCII letters and digits, space, `? ! , - … . ~ ～ ' ’`,
/// the four arrows, hiragana and katakana.
pub fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || " ?!,-….~～'’↑↓→←".contains(c)
        || ('\u{3040}'..='\u{309F}').contains(&c)
        || ('\u{30A0}'..='\u{30FF}').contains(&c)
}

/// Checks the three lines (upstream's names `first_line`, `second_line`, `third_line`) and
/// joins them with `\n`.
///
/// Errors: not three lines, or a line with a character outside [`allowed`] or longer than
/// [`MAX_LINE`] (the message names the line).
pub fn validate(lines: &[String]) -> Result<String, String> {
    const NAMES: [&str; 3] = ["first_line", "second_line", "third_line"];
    if lines.len() != 3 {
        return Err("A triforce text has exactly three lines.".into());
    }
    for (line, name) in lines.iter().zip(NAMES) {
        if line.chars().count() > MAX_LINE || !line.chars().all(allowed) {
            return Err(format!(
                "Invalid characters in {name}. Max {MAX_LINE} characters from the allowed set."
            ));
        }
    }
    if lines.iter().all(|l| l.trim().is_empty()) {
        return Err("A triforce text needs at least one line of text.".into());
    }
    Ok(lines.join("\n"))
}

/// Picks an approved text of `pool`: balanced, a random submitter first and then one of their
/// texts (so prolific submitters are not favoured); else uniformly. `None`: no approved text.
///
/// Errors: the database.
pub async fn pick<R: rand::Rng + ?Sized>(
    db: &DatabaseConnection,
    pool: &str,
    balanced: bool,
    rng: &mut R,
) -> Result<Option<String>, DbErr> {
    let approved = || {
        text::Entity::find()
            .filter(text::Column::Pool.eq(pool))
            .filter(text::Column::Status.eq(TextStatus::Approved))
    };
    let candidates: Vec<text::Model> = if balanced {
        let mut submitters: Vec<i64> = approved()
            .select_only()
            .column(text::Column::DiscordUserId)
            .distinct()
            .into_tuple()
            .all(db)
            .await?;
        if submitters.is_empty() {
            return Ok(None);
        }
        submitters.sort_unstable();
        let who = submitters[rng.random_range(0..submitters.len())];
        approved()
            .filter(text::Column::DiscordUserId.eq(who))
            .order_by_asc(text::Column::Id)
            .all(db)
            .await?
    } else {
        approved().order_by_asc(text::Column::Id).all(db).await?
    };
    if candidates.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        candidates[rng.random_range(0..candidates.len())]
            .text
            .clone(),
    ))
}

/// The value of `settings.texts.end_triforce` for a text.
pub fn end_triforce(text: &str) -> String {
    format!("{{NOBORDER}}\n{text}")
}

fn db_error(error: DbErr) -> Status {
    Status::unavailable(format!("database: {error}"))
}

fn to_pb(row: text::Model) -> pb::Text {
    pb::Text {
        id: row.id,
        pool: row.pool,
        text: row.text,
        author: row.author,
        discord_user_id: u64_from_db(row.discord_user_id),
        status: row.status.as_str().into(),
        created_at: Some(platform::grpc::timestamp(row.created_at)),
    }
}

/// A pool name: 1–45 letters, digits, `-` or `_`.
fn pool_name(pool: &str) -> Result<String, Status> {
    let pool = pool.trim();
    if pool.is_empty()
        || pool.len() > 45
        || !pool
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Status::invalid_argument(
            "pool: 1–45 letters, digits, `-` or `_`",
        ));
    }
    Ok(pool.to_owned())
}

/// The `triforce.v1.TriforceTexts` service.
#[derive(Clone, Debug)]
pub struct TriforceTextsApi {
    /// seedgen's database.
    pub db: DatabaseConnection,
}

impl TriforceTextsApi {
    async fn moderates(&self, pool: &str, who: u64) -> Result<bool, Status> {
        Ok(
            moderator::Entity::find_by_id((pool.to_owned(), u64_to_db(who)))
                .one(&self.db)
                .await
                .map_err(db_error)?
                .is_some(),
        )
    }

    async fn require_moderator(&self, pool: &str, who: u64) -> Result<(), Status> {
        if who == 0 || !self.moderates(pool, who).await? {
            return Err(Status::permission_denied("Access denied."));
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl TriforceTexts for TriforceTextsApi {
    async fn submit(
        &self,
        request: Request<pb::SubmitRequest>,
    ) -> Result<Response<pb::Text>, Status> {
        let r = request.into_inner();
        let pool = pool_name(&r.pool)?;
        if r.discord_user_id == 0 {
            return Err(Status::invalid_argument("discord_user_id is required"));
        }
        let joined = validate(&r.lines).map_err(Status::invalid_argument)?;
        let row = text::ActiveModel {
            pool: Set(pool),
            text: Set(joined),
            discord_user_id: Set(u64_to_db(r.discord_user_id)),
            author: Set(r.author.chars().take(100).collect()),
            status: Set(TextStatus::Pending),
            created_at: Set(Utc::now()),
            moderated_by: Set(None),
            moderated_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(db_error)?;
        Ok(Response::new(to_pb(row)))
    }

    async fn list(
        &self,
        request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListReply>, Status> {
        let r = request.into_inner();
        let pool = pool_name(&r.pool)?;
        self.require_moderator(&pool, r.actor_discord_id).await?;
        let status = TextStatus::filter(r.status.trim()).map_err(Status::invalid_argument)?;
        let mut query = text::Entity::find().filter(text::Column::Pool.eq(pool.as_str()));
        if let Some(status) = status {
            query = query.filter(text::Column::Status.eq(status));
        }
        let rows = query
            .order_by_asc(text::Column::Id)
            .all(&self.db)
            .await
            .map_err(db_error)?;
        Ok(Response::new(pb::ListReply {
            pool,
            status: status.map_or("all", TextStatus::as_str).into(),
            texts: rows.into_iter().map(to_pb).collect(),
        }))
    }

    async fn moderate(
        &self,
        request: Request<pb::ModerateRequest>,
    ) -> Result<Response<pb::Text>, Status> {
        let r = request.into_inner();
        let pool = pool_name(&r.pool)?;
        self.require_moderator(&pool, r.actor_discord_id).await?;
        let row = text::Entity::find_by_id(r.text_id)
            .one(&self.db)
            .await
            .map_err(db_error)?
            // Another pool's text is not this moderator's to judge.
            .filter(|t| t.pool == pool)
            .ok_or_else(|| Status::not_found(format!("pool {pool} has no text {}", r.text_id)))?;
        let mut active = row.into_active_model();
        active.status = Set(if r.approve {
            TextStatus::Approved
        } else {
            TextStatus::Rejected
        });
        active.moderated_by = Set(Some(u64_to_db(r.actor_discord_id)));
        active.moderated_at = Set(Some(Utc::now()));
        let row = active.update(&self.db).await.map_err(db_error)?;
        Ok(Response::new(to_pb(row)))
    }

    async fn set_moderator(
        &self,
        request: Request<pb::SetModeratorRequest>,
    ) -> Result<Response<pb::SetModeratorReply>, Status> {
        let r = request.into_inner();
        if !r.operator {
            return Err(Status::permission_denied(
                "Only operators choose a pool's moderators.",
            ));
        }
        let pool = pool_name(&r.pool)?;
        if r.discord_user_id == 0 {
            return Err(Status::invalid_argument("discord_user_id is required"));
        }
        let present = self.moderates(&pool, r.discord_user_id).await?;
        let changed = match (r.moderator, present) {
            (true, false) => {
                let row = moderator::ActiveModel {
                    pool: Set(pool),
                    discord_user_id: Set(u64_to_db(r.discord_user_id)),
                };
                match moderator::Entity::insert(row)
                    .exec_without_returning(&self.db)
                    .await
                {
                    Ok(_) => true,
                    Err(e) if platform::db::is_unique_violation(&e) => false,
                    Err(e) => return Err(db_error(e)),
                }
            }
            (false, true) => {
                moderator::Entity::delete_by_id((pool, u64_to_db(r.discord_user_id)))
                    .exec(&self.db)
                    .await
                    .map_err(db_error)?
                    .rows_affected
                    > 0
            }
            _ => false,
        };
        Ok(Response::new(pb::SetModeratorReply { changed }))
    }

    async fn is_moderator(
        &self,
        request: Request<pb::IsModeratorRequest>,
    ) -> Result<Response<pb::IsModeratorReply>, Status> {
        let r = request.into_inner();
        let pool = pool_name(&r.pool)?;
        Ok(Response::new(pb::IsModeratorReply {
            moderator: r.discord_user_id != 0 && self.moderates(&pool, r.discord_user_id).await?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(a: &str, b: &str, c: &str) -> Vec<String> {
        vec![a.into(), b.into(), c.into()]
    }

    #[test]
    fn lines_are_checked_against_the_listed_characters() {
        assert_eq!(
            validate(&lines("Thanks for", "playing!", "")).as_deref(),
            Ok("Thanks for\nplaying!\n")
        );
        assert!(validate(&lines("ありがとう ゼルダ", "↑↓→← ～…", "it's ok?")).is_ok());
        // Upstream's range `,-…` let these in; the listed set does not.
        for bad in ["mail@me", "[x]", "café", "nope#%@"] {
            let error = validate(&lines(bad, "", "")).unwrap_err();
            assert_eq!(
                error,
                "Invalid characters in first_line. Max 19 characters from the allowed set."
            );
        }
        assert!(
            validate(&lines("", "", "twenty characters!!!"))
                .unwrap_err()
                .contains("third_line")
        );
        assert!(validate(&lines("", "nineteen characters", "")).is_ok());
        assert!(validate(&lines("", "", "")).is_err());
        assert!(validate(&["one".to_string()]).is_err());
    }

    #[test]
    fn status_filters() {
        assert_eq!(TextStatus::filter(""), Ok(Some(TextStatus::Pending)));
        assert_eq!(TextStatus::filter("true"), Ok(Some(TextStatus::Approved)));
        assert_eq!(TextStatus::filter("all"), Ok(None));
        assert!(TextStatus::filter("maybe").is_err());
        assert_eq!(end_triforce("a\nb\nc"), "{NOBORDER}\na\nb\nc");
    }
}

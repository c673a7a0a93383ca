//! Reviews (avis) of committee reviewers: one row per reviewer and dossier, kept unique
//! by an index, so that two assignments of one reviewer at once make one review (the
//! other is a conflict on both backends). A review changes only from the version it was
//! read at: of a score and a conflict declared at the same instant, one wins and the
//! other is told the review moved on (on PostgreSQL, the second `UPDATE` waits on the
//! first's row lock, then finds the version gone).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::access::{AccountId, ReviewerStanding};
use domain::grants::{Review, ReviewStatus, Scores};
use domain::{DossierId, ReviewId};

use super::{corrupt, stale};
use crate::db::DbConnection;
use crate::error::PersistenceError;
use crate::schema::dossier_reviews;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dossier_reviews)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
struct ReviewRow {
    id: String,
    dossier_id: String,
    reviewer_id: String,
    status: String,
    scores: String,
    comment: Option<String>,
    conflict_reason: Option<String>,
    assigned_by: String,
    assigned_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl ReviewRow {
    fn new(review: &Review) -> Result<Self, PersistenceError> {
        Ok(Self {
            id: review.id.to_string(),
            dossier_id: review.dossier_id.to_string(),
            reviewer_id: review.reviewer_id.to_string(),
            status: review.status.as_str().to_owned(),
            scores: serde_json::to_string(&review.scores)?,
            comment: review.comment.clone(),
            conflict_reason: review.conflict_reason.clone(),
            assigned_by: review.assigned_by.to_string(),
            assigned_at: review.assigned_at.naive_utc(),
            updated_at: review.updated_at.naive_utc(),
            version: review.version,
        })
    }
}

impl TryFrom<ReviewRow> for Review {
    type Error = PersistenceError;

    fn try_from(row: ReviewRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        let bad =
            |field: &str, e: &dyn std::fmt::Display| corrupt(&format!("review {field}"), id, e);
        let scores: Scores = serde_json::from_str(&row.scores).map_err(|e| bad("scores", &e))?;
        Ok(Review {
            id: row.id.parse().map_err(|e| bad("id", &e))?,
            dossier_id: row.dossier_id.parse().map_err(|e| bad("dossier", &e))?,
            reviewer_id: row.reviewer_id.parse().map_err(|e| bad("reviewer", &e))?,
            status: ReviewStatus::parse(&row.status).map_err(|e| bad("status", &e))?,
            scores,
            comment: row.comment,
            conflict_reason: row.conflict_reason,
            assigned_by: row.assigned_by.parse().map_err(|e| bad("assigner", &e))?,
            assigned_at: row.assigned_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

/// A unique violation on assignment: the reviewer has this dossier already.
fn already_assigned(error: PersistenceError) -> PersistenceError {
    match error {
        PersistenceError::Conflict { .. } => PersistenceError::Conflict {
            constraint: "dossier_reviews.reviewer_once".into(),
        },
        other => other,
    }
}

/// Stores a new assignment; a conflict if the reviewer holds one for the dossier.
pub fn assign(conn: &mut DbConnection, review: &Review) -> Result<(), PersistenceError> {
    diesel::insert_into(dossier_reviews::table)
        .values(ReviewRow::new(review)?)
        .execute(conn)
        .map_err(|e| already_assigned(e.into()))?;
    Ok(())
}

/// The review `id` of `dossier`.
pub fn find(
    conn: &mut DbConnection,
    dossier: DossierId,
    id: ReviewId,
) -> Result<Review, PersistenceError> {
    dossier_reviews::table
        .filter(dossier_reviews::id.eq(id.to_string()))
        .filter(dossier_reviews::dossier_id.eq(dossier.to_string()))
        .select(ReviewRow::as_select())
        .first(conn)?
        .try_into()
}

/// Where `reviewer` stands on `dossier`: no review, one, or a declared conflict.
pub fn standing(
    conn: &mut DbConnection,
    dossier: DossierId,
    reviewer: AccountId,
) -> Result<Option<ReviewerStanding>, PersistenceError> {
    let status: Option<String> = dossier_reviews::table
        .filter(dossier_reviews::dossier_id.eq(dossier.to_string()))
        .filter(dossier_reviews::reviewer_id.eq(reviewer.to_string()))
        .select(dossier_reviews::status)
        .first(conn)
        .optional()?;
    status
        .map(|status| match ReviewStatus::parse(&status) {
            Ok(ReviewStatus::Conflicted) => Ok(ReviewerStanding::Conflicted),
            Ok(_) => Ok(ReviewerStanding::Assigned),
            Err(e) => Err(corrupt("review status", &dossier.to_string(), e)),
        })
        .transpose()
}

/// Every review of a dossier, in the order they were assigned (a dossier has a
/// committee's worth of them, never a page's).
pub fn of_dossier(
    conn: &mut DbConnection,
    dossier: DossierId,
) -> Result<Vec<Review>, PersistenceError> {
    dossier_reviews::table
        .filter(dossier_reviews::dossier_id.eq(dossier.to_string()))
        .order(dossier_reviews::id.asc())
        .select(ReviewRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Review::try_from)
        .collect()
}

/// Writes `updated` over `current` if the row is still at `current`'s version.
pub fn replace(
    conn: &mut DbConnection,
    current: &Review,
    updated: &Review,
) -> Result<(), PersistenceError> {
    let id = current.id.to_string();
    let changed = diesel::update(
        dossier_reviews::table
            .filter(dossier_reviews::id.eq(&id))
            .filter(dossier_reviews::version.eq(current.version)),
    )
    .set(&ReviewRow::new(updated)?)
    .execute(conn)?;
    if changed == 0 {
        let version = dossier_reviews::table
            .find(&id)
            .select(dossier_reviews::version)
            .first(conn)
            .optional()?;
        return Err(stale(version));
    }
    Ok(())
}

/// Takes an assignment back if it is still at the version read.
pub fn unassign(conn: &mut DbConnection, current: &Review) -> Result<(), PersistenceError> {
    let id = current.id.to_string();
    let deleted = diesel::delete(
        dossier_reviews::table
            .filter(dossier_reviews::id.eq(&id))
            .filter(dossier_reviews::version.eq(current.version)),
    )
    .execute(conn)?;
    if deleted == 0 {
        let version = dossier_reviews::table
            .find(&id)
            .select(dossier_reviews::version)
            .first(conn)
            .optional()?;
        return Err(stale(version));
    }
    Ok(())
}

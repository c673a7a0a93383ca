//! `/v1/dossiers/{id}/reviews`: committee reviewers' reviews (avis) of a dossier.
//!
//! Staff assign a reviewer (an account with the agency role `reviewer`) to a submitted
//! dossier or one in review, see every review with its summary, and take back one not
//! yet scored. The reviewer reads the dossier, scores it against its programme's
//! criteria with a comment, or declares a conflict of interest, after which it sees
//! nothing of the dossier any more (404 everywhere, its review included). A reviewer
//! sees its own review only, never another's nor the staff's notes.
//!
//! Reviews do not exist for the applicant's side: every route here is a 404 to its
//! members and API clients, so that neither scores nor reviewers' identities reach
//! it. The assigned reviewer is refused staff's actions (403).

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use domain::access::{AccountId, AgencyRole, Principal, ReviewerStanding};
use domain::grants::{
    Dossier, Review, ReviewError, ReviewStatus, ReviewSummary, check_scores, reviewable, summarize,
};
use domain::text::multi_line;
use domain::{DossierId, FieldProblem, ReviewId, ValidationError};
use persistence::clock::storable_now;
use persistence::db::write_transaction;
use persistence::grants::{programmes, reviews};
use persistence::{DbConnection, PersistenceError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::GrantsProblem;
use super::dossiers::readable_dossier;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::enums;
use crate::http::caching::item_response;
use crate::http::conditional::{check_if_match, etag, if_match};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId};
use crate::http::idempotency::{self, Reply};

/// An assignment: the reviewer's account.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignReviewer {
    /// An active account with the agency role `reviewer`.
    pub reviewer_id: uuid::Uuid,
}

/// One score (`0` to the criterion's `max_score`).
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct Score(#[serde(deserialize_with = "crate::http::extract::integer")] i64);

/// A reviewer's scores: one per criterion of the programme, each from 0 to its
/// `max_score`, and a comment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scores": {"ancrage_territorial": 8, "qualite_artistique": 7, "budget_realiste": 4}, "comment": "Projet solide."}))]
pub struct ScoreReview {
    /// Criterion key → score; every criterion of the programme is required.
    #[schema(value_type = BTreeMap<String, i64>)]
    pub scores: BTreeMap<String, Score>,
    #[schema(
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$",
        max_length = 10000
    )]
    pub comment: Option<String>,
}

/// A declared conflict of interest, and why.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Je suis administrateur de la compagnie."}))]
pub struct DeclareConflict {
    #[schema(
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$",
        max_length = 2000
    )]
    pub reason: String,
}

/// A reviewer's review of a dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: uuid::Uuid,
    pub dossier_id: uuid::Uuid,
    pub reviewer_id: uuid::Uuid,
    #[schema(value_type = enums::ReviewStatus)]
    pub status: ReviewStatus,
    /// Criterion key → score; empty until scored, and once a conflict is declared.
    pub scores: BTreeMap<String, u32>,
    pub comment: Option<String>,
    pub conflict_reason: Option<String>,
    /// The staff account that assigned it.
    pub assigned_by: uuid::Uuid,
    pub assigned_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; also sent as the `ETag`.
    pub version: i64,
}

impl From<&Review> for ReviewView {
    fn from(review: &Review) -> Self {
        Self {
            id: review.id.as_uuid(),
            dossier_id: review.dossier_id.as_uuid(),
            reviewer_id: review.reviewer_id.as_uuid(),
            status: review.status,
            scores: review
                .scores
                .iter()
                .map(|(key, score)| (key.to_string(), *score))
                .collect(),
            comment: review.comment.clone(),
            conflict_reason: review.conflict_reason.clone(),
            assigned_by: review.assigned_by.as_uuid(),
            assigned_at: review.assigned_at,
            updated_at: review.updated_at,
            version: review.version,
        }
    }
}

/// The mean of one criterion over the scored reviews.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriterionMeanView {
    pub key: String,
    pub max_score: u32,
    pub weight: u32,
    /// Null while no review is scored; rounded to two decimals.
    pub mean: Option<f64>,
}

/// A dossier's reviews at a glance, against its programme's criteria as they are now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewSummaryView {
    /// Every review assigned, whatever its state.
    pub reviews: usize,
    pub scored: usize,
    /// Reviews ended by a declared conflict of interest.
    pub conflicts: usize,
    pub criteria: Vec<CriterionMeanView>,
    /// The sum of each criterion's mean times its weight (null while nothing is
    /// scored), out of `weighted_max`.
    pub weighted_total: Option<f64>,
    pub weighted_max: u64,
}

impl From<ReviewSummary> for ReviewSummaryView {
    fn from(summary: ReviewSummary) -> Self {
        Self {
            reviews: summary.reviews,
            scored: summary.scored,
            conflicts: summary.conflicts,
            criteria: summary
                .criteria
                .into_iter()
                .map(|c| CriterionMeanView {
                    key: c.key.to_string(),
                    max_score: c.max_score,
                    weight: c.weight,
                    mean: c.mean,
                })
                .collect(),
            weighted_total: summary.weighted_total,
            weighted_max: summary.weighted_max,
        }
    }
}

/// A dossier's reviews: all of them and their summary for staff, its own alone (and no
/// summary) for a reviewer. A dossier has a committee's worth of reviews: one list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewList {
    pub data: Vec<ReviewView>,
    pub summary: Option<ReviewSummaryView>,
}

/// Who the caller is to a dossier's reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reviewing {
    Staff,
    /// A reviewer assigned to the dossier, with no conflict declared.
    Reviewer(AccountId),
}

/// The dossier and who the caller is to its reviews; a 404 for anyone else (the
/// applicant's side included: reviews do not exist for it).
fn reviewing(
    conn: &mut DbConnection,
    principal: &Principal,
    id: DossierId,
) -> Result<(Dossier, Reviewing), ApiError> {
    let (dossier, _) = readable_dossier(conn, principal, id)?;
    match principal {
        p if p.is_staff() => Ok((dossier, Reviewing::Staff)),
        Principal::Account {
            id: account,
            agency_role: Some(AgencyRole::Reviewer),
        } if reviews::standing(conn, id, *account)? == Some(ReviewerStanding::Assigned) => {
            Ok((dossier, Reviewing::Reviewer(*account)))
        }
        _ => Err(ApiError::NotFound),
    }
}

/// Staff's actions: 403 for the reviewer.
fn staff_only(reviewing: Reviewing) -> Result<(), ApiError> {
    match reviewing {
        Reviewing::Staff => Ok(()),
        Reviewing::Reviewer(_) => Err(ApiError::Forbidden),
    }
}

/// The review `review` of the dossier as the caller sees it: any for staff, its own for
/// a reviewer (another's is a 404).
fn visible_review(
    conn: &mut DbConnection,
    reviewing: Reviewing,
    dossier: DossierId,
    review: ReviewId,
) -> Result<Review, ApiError> {
    let review = reviews::find(conn, dossier, review)?;
    match reviewing {
        Reviewing::Reviewer(account) if review.reviewer_id != account => Err(ApiError::NotFound),
        _ => Ok(review),
    }
}

/// The reviewer's own review: staff do not score nor declare conflicts (403).
fn own_review(
    conn: &mut DbConnection,
    principal: &Principal,
    dossier: DossierId,
    review: ReviewId,
) -> Result<(Dossier, Review), ApiError> {
    let (found, reviewing) = reviewing(conn, principal, dossier)?;
    let review = visible_review(conn, reviewing, dossier, review)?;
    match reviewing {
        Reviewing::Staff => Err(ApiError::Forbidden),
        Reviewing::Reviewer(_) => Ok((found, review)),
    }
}

fn review_error(error: ReviewError) -> ApiError {
    match error {
        ReviewError::Conflicted => GrantsProblem::ReviewConflicted.into(),
        ReviewError::NotUnassignable => GrantsProblem::ReviewNotUnassignable.into(),
        ReviewError::DossierNotReviewable => GrantsProblem::DossierNotReviewable.into(),
    }
}

/// A review written over meanwhile: a 409 telling to read it again.
fn changed(error: PersistenceError) -> ApiError {
    match error {
        PersistenceError::VersionMismatch { .. } | PersistenceError::NotFound => {
            GrantsProblem::ReviewChanged.into()
        }
        other => other.into(),
    }
}

/// The account named as reviewer, if it is an active one with the agency role
/// `reviewer`; any other is a 422 naming `reviewer_id`.
fn reviewer_account(conn: &mut DbConnection, id: uuid::Uuid) -> Result<AccountId, ApiError> {
    let unknown = || ValidationError::single("reviewer_id", FieldProblem::UnknownReference).into();
    let id: AccountId = id.to_string().parse().map_err(|_| unknown())?;
    match persistence::identity::accounts::find(conn, id) {
        Ok(account)
            if account.agency_role == Some(AgencyRole::Reviewer)
                && account.status == domain::access::AccountStatus::Active =>
        {
            Ok(account.id)
        }
        Ok(_) | Err(PersistenceError::NotFound) => Err(unknown()),
        Err(other) => Err(other.into()),
    }
}

/// Assign a reviewer to a dossier.
///
/// By agency staff, to a submitted dossier or one in review (409
/// `dossier_not_reviewable` otherwise). `reviewer_id` must be an active account with
/// the agency role `reviewer` (422 otherwise); a reviewer already assigned, even by a
/// request at the same instant, is a 409 (`reviewer_already_assigned`). The applicant's
/// side gets a 404, the dossier's own reviewer a 403. Send an `Idempotency-Key` to
/// retry safely.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = AssignReviewer,
    responses(
        (status = 201, description = "The review, assigned.", body = ReviewView, headers(
            ("Location" = String, description = "URL of the review."),
            ("ETag" = String, description = "Current version."),
        )),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/dossiers/{id}/reviews")]
pub async fn assign_dossier_reviewer(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<DossierId>,
    body: JsonBody<AssignReviewer>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                let (_, reviewing) = reviewing(conn, &principal, id)?;
                staff_only(reviewing)
            })
            .await?;
            return Err(problem);
        }
    };
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let mut event = audit::event(&caller, "review.assign", "review", "", &["reviewer_id"]);
        Ok(move |conn: &mut DbConnection| {
            write_transaction(conn, |conn| {
                let principal = caller.principal(conn)?;
                let (dossier, reviewing) = reviewing(conn, &principal, id)?;
                staff_only(reviewing)?;
                let Principal::Account { id: assigner, .. } = principal else {
                    return Err(ApiError::Forbidden);
                };
                if !reviewable(dossier.status) {
                    return Err(GrantsProblem::DossierNotReviewable.into());
                }
                let reviewer = reviewer_account(conn, value.reviewer_id)?;
                let review = Review::assign(id, dossier.status, reviewer, assigner, storable_now())
                    .map_err(review_error)?;
                event.object_id = review.id.to_string();
                persistence::audit::recorded(
                    conn,
                    |conn| reviews::assign(conn, &review),
                    |_| event,
                )
                .map_err(|error| match error {
                    PersistenceError::Conflict { .. } => {
                        GrantsProblem::ReviewerAlreadyAssigned.into()
                    }
                    other => ApiError::from(other),
                })?;
                let location = format!("/v1/dossiers/{id}/reviews/{}", review.id);
                Ok(
                    Reply::json(StatusCode::CREATED, &ReviewView::from(&review))?
                        .header(header::LOCATION, location)
                        .header(header::ETAG, etag(review.version)),
                )
            })
        })
    })
    .await
}

/// List a dossier's reviews.
///
/// For agency staff, every review with the summary (each criterion's mean, the weighted
/// total, the counts of reviews and conflicts); for an assigned reviewer, its own review
/// alone and no summary. A 404 for anyone else, the applicant's side included.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    responses(
        (status = 200, description = "The reviews.", body = ReviewList),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/reviews")]
pub async fn list_dossier_reviews(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<DossierId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let list = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let (dossier, reviewing) = reviewing(conn, &principal, id)?;
        let all = reviews::of_dossier(conn, id)?;
        Ok::<_, ApiError>(match reviewing {
            Reviewing::Staff => {
                let programme = programmes::find(conn, dossier.programme_id)?;
                ReviewList {
                    data: all.iter().map(ReviewView::from).collect(),
                    summary: Some(summarize(&programme.data.review_criteria, &all).into()),
                }
            }
            Reviewing::Reviewer(account) => ReviewList {
                data: all
                    .iter()
                    .filter(|r| r.reviewer_id == account)
                    .map(ReviewView::from)
                    .collect(),
                summary: None,
            },
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Get a review.
///
/// Any of the dossier's for agency staff; its own for a reviewer, until it declares a
/// conflict of interest. A 404 for anyone else.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("review_id" = uuid::Uuid, Path, description = "Review id."),
    ),
    responses(
        (status = 200, description = "The review.", body = ReviewView,
            headers(("ETag" = String, description = "Current version."))),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/reviews/{review_id}")]
pub async fn get_dossier_review(
    caller: Caller,
    pool: web::Data<Db>,
    PathId((id, review_id)): PathId<(DossierId, ReviewId)>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let review = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let (_, reviewing) = reviewing(conn, &principal, id)?;
        visible_review(conn, reviewing, id, review_id)
    })
    .await?;
    Ok(item_response(
        HttpResponse::Ok(),
        review.version,
        &ReviewView::from(&review),
    ))
}

/// Score a dossier.
///
/// By its reviewer, on its own review, while the dossier is submitted or in review (409
/// `dossier_not_reviewable` otherwise): a score for every criterion of the programme,
/// each from 0 to its `max_score` (every problem named under `scores.{key}`), and a
/// comment. Scoring again replaces the scores. A review with a conflict declared is
/// gone for its reviewer (404); staff do not score (403). Send `If-Match` with the
/// `ETag` you read to refuse lost updates (412); a conflict declared at the same
/// instant makes one of the two a 409 (`review_changed`).
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("review_id" = uuid::Uuid, Path, description = "Review id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the review changed since."),
    ),
    request_body = ScoreReview,
    responses(
        (status = 200, description = "The review, scored.", body = ReviewView,
            headers(("ETag" = String, description = "New version."))),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[put("/dossiers/{id}/reviews/{review_id}")]
pub async fn score_dossier_review(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId((id, review_id)): PathId<(DossierId, ReviewId)>,
    body: JsonBody<ScoreReview>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let asked = body.open().and_then(|Opened { value, .. }| {
        let comment = value
            .comment
            .as_deref()
            .map(|c| multi_line(c, domain::grants::review::COMMENT_MAX))
            .transpose()
            .map_err(|p| ValidationError::single("comment", p))?;
        Ok((value.scores, comment))
    });
    let (sent, comment) = match asked {
        Ok(asked) => asked,
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                own_review(conn, &principal, id, review_id).map(|_| ())
            })
            .await?;
            return Err(problem);
        }
    };
    let event = audit::event(
        &caller,
        "review.score",
        "review",
        review_id,
        &["scores", "comment"],
    );
    let review = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let (dossier, current) = own_review(conn, &principal, id, review_id)?;
            let programme = programmes::find(conn, dossier.programme_id)?;
            let sent: BTreeMap<String, i64> = sent
                .into_iter()
                .map(|(key, Score(score))| (key, score))
                .collect();
            let scores = check_scores(&programme.data.review_criteria, &sent)?;
            check_if_match(condition.as_ref(), current.version)?;
            let updated = current
                .scored(dossier.status, scores, comment, storable_now())
                .map_err(review_error)?;
            persistence::audit::recorded(
                conn,
                |conn| reviews::replace(conn, &current, &updated),
                |_| event,
            )
            .map_err(changed)?;
            Ok(updated)
        })
    })
    .await?;
    Ok(item_response(
        HttpResponse::Ok(),
        review.version,
        &ReviewView::from(&review),
    ))
}

/// Declare a conflict of interest.
///
/// By the reviewer, on its own review, with a `reason`, whatever the dossier's state:
/// the review's scores are cleared, and from then on the reviewer sees nothing of the
/// dossier (404 everywhere, this review included). Staff see the conflict and its
/// reason. Staff do not declare conflicts for a reviewer (403); a score given at the
/// same instant makes one of the two a 409 (`review_changed`).
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("review_id" = uuid::Uuid, Path, description = "Review id."),
    ),
    request_body = DeclareConflict,
    responses(
        (status = 200, description = "The review, ended by the conflict: the last you see of it.", body = ReviewView),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/dossiers/{id}/reviews/{review_id}/conflict")]
pub async fn declare_review_conflict(
    caller: Caller,
    pool: web::Data<Db>,
    PathId((id, review_id)): PathId<(DossierId, ReviewId)>,
    body: JsonBody<DeclareConflict>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let asked = body.open().and_then(|Opened { value, .. }| {
        multi_line(&value.reason, domain::grants::review::CONFLICT_REASON_MAX)
            .map_err(|p| ValidationError::single("reason", p).into())
    });
    let reason = match asked {
        Ok(reason) => reason,
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                own_review(conn, &principal, id, review_id).map(|_| ())
            })
            .await?;
            return Err(problem);
        }
    };
    let event = audit::event(
        &caller,
        "review.conflict",
        "review",
        review_id,
        &["status", "conflict_reason"],
    );
    let review = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let (_, current) = own_review(conn, &principal, id, review_id)?;
            let updated = current
                .conflicted(reason, storable_now())
                .map_err(review_error)?;
            persistence::audit::recorded(
                conn,
                |conn| reviews::replace(conn, &current, &updated),
                |_| event,
            )
            .map_err(changed)?;
            Ok(updated)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(ReviewView::from(&review)))
}

/// Unassign a reviewer.
///
/// By agency staff, while the review is neither scored nor ended by a conflict (409
/// `review_not_unassignable` otherwise: what was said in it stays). A 404 for anyone
/// but staff and the dossier's reviewer (403).
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("review_id" = uuid::Uuid, Path, description = "Review id."),
    ),
    responses(
        (status = 204, description = "Unassigned."),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
    )
)]
#[delete("/dossiers/{id}/reviews/{review_id}")]
pub async fn unassign_dossier_review(
    caller: Caller,
    pool: web::Data<Db>,
    PathId((id, review_id)): PathId<(DossierId, ReviewId)>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let event = audit::event(&caller, "review.unassign", "review", review_id, &[]);
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let (_, reviewing) = reviewing(conn, &principal, id)?;
            let current = visible_review(conn, reviewing, id, review_id)?;
            staff_only(reviewing)?;
            current.check_unassignable().map_err(review_error)?;
            persistence::audit::recorded(conn, |conn| reviews::unassign(conn, &current), |_| event)
                .map_err(changed)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

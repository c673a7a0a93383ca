//! `POST /v1/dossiers/{id}/{submit,request-changes,…}`: a dossier's life, driven by the
//! domain's table (`domain::grants::TRANSITIONS`). Each transition reads, authorizes and
//! writes in one transaction: who may act is judged at the moment of the write. It
//! records who, when and why (`GET /v1/dossiers/{id}/history`), its audit event, and a
//! change in the change log as its last statement.
//!
//! An approval locks the programme's row, then the call's (`persistence::grants::
//! programmes::lock`, `calls::lock`), before it reads what the yearly caps count and
//! what is left of the envelope, so that concurrent approvals on any number of
//! instances never award more than the envelope holds nor than a presenter's or an
//! applicant's yearly cap allows, even across the programme's calls. Closing reads the
//! final report and the payments: both only move towards closing (an accepted report is
//! final, a complete award takes no more payment), and a payment written meanwhile
//! takes the dossier a version on, so that the close's write fails rather than close
//! over it.

use std::sync::Arc;

use actix_web::{HttpResponse, post, web};
use domain::DossierId;
use domain::access::{GrantsAction, MembershipRole, Principal, may_grants};
use domain::changes::{ChangeAction, ChangeCause, ChangedObject};
use domain::grants::{
    AidComputation, ApprovalError, DEFAULT_ADVANCE, Dossier, DossierAction, DossierActor,
    FundedPerformance, Rate, SubmissionCheck, TRANSITIONS, TransitionContext, TransitionError,
    awarded_per_performance, check_award, payments_complete, transition,
};
use domain::{FieldProblem, ValidationError};
use persistence::clock::storable_now;
use persistence::db::write_transaction;
use persistence::grants::awards::{self, Award};
use persistence::grants::events::{self, DossierEvent};
use persistence::grants::payments::{self, Payment};
use persistence::grants::{calls, dossiers, programmes};
use persistence::reference::ReferenceGeography;
use serde::Deserialize;
use utoipa::ToSchema;

use super::GrantsProblem;
use super::dossier_dto::{DOSSIER_LISTING, DossierView, problem_field};
use super::dossiers::{judge, judged, readable_dossier};
use super::final_reports::final_report_accepted;
use crate::audit;
use crate::auth::Caller;
use crate::changes;
use crate::db::{self, Db};
use crate::http::caching::item_response;
use crate::http::error::{ApiError, FieldIssue, Issue, responses};
use crate::http::extract::{JsonBody, PathId};
use crate::mail::Mailer;

/// Why a transition is made: required to reopen a decision, kept in the history.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Budget à préciser"}))]
pub struct TransitionBody {
    #[schema(
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$",
        max_length = 2000
    )]
    pub reason: Option<String>,
}

/// An approval: the amount awarded, never above the computed maximum nor what is left
/// of the call's envelope, and how it is to be paid.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"awarded_cents": 150000, "advance_basis_points": 5000}))]
pub struct ApproveBody {
    /// In euro cents.
    #[serde(deserialize_with = "crate::http::extract::integer")]
    #[schema(minimum = 1, maximum = 10_000_000_000i64)]
    pub awarded_cents: i64,
    /// The advance's share of the award in basis points (the balance is the rest): 5000
    /// (half) when not given, 0 for a single payment of the balance, 10000 for a
    /// single advance. Staff may replace it later (`PUT …/payments/schedule`).
    #[serde(default, deserialize_with = "crate::http::extract::optional_integer")]
    #[schema(minimum = 0, maximum = 10000)]
    pub advance_basis_points: Option<i64>,
    #[schema(
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$",
        max_length = 2000
    )]
    pub reason: Option<String>,
}

/// Whose side takes `action`: the applicant's for its actions when the caller files for
/// it, the agency's for staff; a caller of neither side is refused (403).
fn actor_for(
    principal: &Principal,
    role: Option<MembershipRole>,
    action: DossierAction,
) -> Result<DossierActor, ApiError> {
    let applicant_action = TRANSITIONS
        .iter()
        .any(|(_, a, who, _)| *a == action && *who == DossierActor::Applicant);
    let files = may_grants(principal, GrantsAction::WriteDossier, role);
    let actor = if applicant_action && files {
        DossierActor::Applicant
    } else if may_grants(principal, GrantsAction::Instruct, role) {
        DossierActor::Staff
    } else if files {
        DossierActor::Applicant
    } else {
        return Err(GrantsProblem::TransitionNotPermitted.into());
    };
    if TRANSITIONS
        .iter()
        .any(|(_, a, who, _)| *a == action && *who == actor)
    {
        Ok(actor)
    } else {
        Err(GrantsProblem::TransitionNotPermitted.into())
    }
}

fn transition_error(error: TransitionError) -> ApiError {
    match error {
        TransitionError::NotPermitted { .. } => GrantsProblem::TransitionNotPermitted.into(),
        TransitionError::NotFromStatus { .. } => GrantsProblem::TransitionNotFromStatus.into(),
        TransitionError::Reason { problem } => ValidationError::single("reason", problem).into(),
        TransitionError::FinalReportNotAccepted => GrantsProblem::FinalReportNotAccepted.into(),
        TransitionError::PaymentsIncomplete => GrantsProblem::PaymentsIncomplete.into(),
    }
}

fn award_error(error: ApprovalError) -> ApiError {
    match error {
        ApprovalError::NotPositive { .. } => ValidationError::single(
            "awarded_cents",
            FieldProblem::OutOfRange {
                min: 1,
                max: domain::programming::performance::FEE_MAX,
            },
        )
        .into(),
        ApprovalError::AboveMaximum { awarded, maximum } => {
            GrantsProblem::AwardAboveMaximum { awarded, maximum }.into()
        }
        ApprovalError::AboveEnvelope { awarded, remaining } => {
            GrantsProblem::AwardAboveEnvelope { awarded, remaining }.into()
        }
    }
}

/// A refused submission: a 422 listing every problem.
fn submission_refused(check: &SubmissionCheck) -> ApiError {
    ApiError::Validation(
        check
            .problems
            .iter()
            .map(|problem| {
                FieldIssue::new(
                    problem_field(problem).unwrap_or_default(),
                    Issue::Rule {
                        code: problem.code(),
                        message: problem.to_string(),
                    },
                )
            })
            .collect(),
    )
}

fn audit_action(action: DossierAction) -> &'static str {
    match action {
        DossierAction::Submit => "dossier.submit",
        DossierAction::RequestChanges => "dossier.request_changes",
        DossierAction::StartReview => "dossier.start_review",
        DossierAction::Approve => "dossier.approve",
        DossierAction::Reject => "dossier.reject",
        DossierAction::Withdraw => "dossier.withdraw",
        DossierAction::Dismiss => "dossier.dismiss",
        DossierAction::Reopen => "dossier.reopen",
        DossierAction::Close => "dossier.close",
    }
}

/// What an award of `awarded` gives each of `performances`, where and when, for the
/// yearly caps ([`awarded_per_performance`]).
fn awards_of(
    maximum: &AidComputation,
    performances: &[FundedPerformance],
    awarded: i64,
) -> Vec<Award> {
    awarded_per_performance(maximum, awarded)
        .into_iter()
        .filter_map(|(id, cents)| {
            let performance = performances.iter().find(|p| p.id == id)?;
            Some(Award {
                performance_id: id,
                presenter_id: performance.presenter,
                year: performance.year(),
                aid_cents: cents,
            })
        })
        .collect()
}

/// What a transition request says.
struct Asked {
    reason: Option<String>,
    awarded_cents: Option<i64>,
    /// The advance's share of an award.
    advance: Option<Rate>,
}

/// Runs a transition: authorization, the table, the action's own rules and the write,
/// in one transaction.
async fn transit(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    mailer: web::Data<Mailer>,
    id: DossierId,
    action: DossierAction,
    asked: Result<Asked, ApiError>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let asked = match asked {
        Ok(asked) => asked,
        // What is wrong with the body is told only to those who may take the action.
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                let (_, role) = readable_dossier(conn, &principal, id)?;
                actor_for(&principal, role, action).map(|_| ())
            })
            .await?;
            return Err(problem);
        }
    };
    let geography = Arc::clone(&geography);
    let mut event = audit::event(&caller, audit_action(action), "dossier", id, &["status"]);
    let (actor_kind, actor_id) = caller.actor();
    let dossier = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let (current, role) = readable_dossier(conn, &principal, id)?;
            let actor = actor_for(&principal, role, action)?;
            let closing = action == DossierAction::Close;
            let context = TransitionContext {
                reason: asked.reason.clone(),
                // What closing asks, read only then.
                final_report_accepted: closing && final_report_accepted(conn, id)?,
                payments_complete: closing && {
                    let recorded: Vec<_> = payments::list(conn, id)?
                        .iter()
                        .map(Payment::recorded)
                        .collect();
                    payments_complete(current.awarded_cents.unwrap_or(0), &recorded)
                },
            };
            let to =
                transition(current.status, action, actor, &context).map_err(transition_error)?;
            let now = storable_now();
            let mut updated = dossiers::moved(&current, to, now);
            let mut awarded = None;
            match action {
                DossierAction::Submit => {
                    let check = judge(conn, &geography, &current)?;
                    if !check.is_submittable() {
                        return Err(submission_refused(&check));
                    }
                    updated.submitted_at = Some(now);
                }
                DossierAction::Approve => {
                    let asked_cents = asked.awarded_cents.unwrap_or(0);
                    let advance = asked.advance.unwrap_or(DEFAULT_ADVANCE);
                    let cents = award(conn, &geography, &current, |_| asked_cents, advance, now)?;
                    updated.awarded_cents = Some(cents);
                    updated.decided_at = Some(now);
                    awarded = Some(cents);
                    event.changed_fields.push("awarded_cents".into());
                }
                DossierAction::Reject | DossierAction::Dismiss => updated.decided_at = Some(now),
                DossierAction::Reopen => {
                    // A decision paid in part stays: reopening it would unpay it.
                    if payments::any(conn, id)? {
                        return Err(GrantsProblem::PaymentsRecorded.into());
                    }
                    // A reopened approval gives its award back to the envelope, and
                    // no longer counts towards the yearly caps.
                    awards::remove(conn, id)?;
                    if let Some(cents) = current.awarded_cents {
                        let call = calls::lock(conn, current.call_id)?;
                        calls::award(conn, &call, -cents)?;
                        updated.awarded_cents = None;
                        event.changed_fields.push("awarded_cents".into());
                    }
                    updated.decided_at = None;
                }
                _ => {}
            }
            dossiers::replace(conn, &current, &updated, &DOSSIER_LISTING)?;
            // The applicant's members are told, and staff of a submission, if it commits.
            mailer.dossier_transition(conn, &updated, action, asked.reason.as_deref())?;
            events::record(
                conn,
                &DossierEvent {
                    id: String::new(),
                    dossier_id: id,
                    action,
                    from: current.status,
                    to,
                    actor_kind: actor_kind.as_str().to_owned(),
                    actor_id,
                    reason: asked.reason,
                    awarded_cents: awarded,
                    occurred_at: now,
                },
            )?;
            persistence::audit::record(conn, event)?;
            record(conn, &caller, &updated)?;
            Ok(updated)
        })
    })
    .await?;
    Ok(item_response(
        HttpResponse::Ok(),
        dossier.version,
        &DossierView::of(&dossier, None),
    ))
}

/// Awards `current` what `choose` picks given the maximum the rules compute, inside
/// the approval's write transaction: checked against that maximum and what is left of
/// the call's envelope, added to the call, counted for the yearly caps, and paid by the
/// schedule `advance` makes. Returns the amount.
///
/// Locked first, always the programme before the call: what the programme's yearly
/// caps count and what is left of the envelope are read by one approval at a time.
pub(crate) fn award(
    conn: &mut persistence::DbConnection,
    geography: &ReferenceGeography,
    current: &Dossier,
    choose: impl FnOnce(i64) -> i64,
    advance: Rate,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, ApiError> {
    programmes::lock(conn, current.programme_id)?;
    let call = calls::lock(conn, current.call_id)?;
    let (check, performances) = judged(conn, geography, current)?;
    let maximum = check.maximum.total_cents;
    let cents = choose(maximum);
    check_award(cents, maximum, call.remaining_cents()).map_err(award_error)?;
    calls::award(conn, &call, cents)?;
    awards::record(
        conn,
        current,
        &awards_of(&check.maximum, &performances, cents),
    )?;
    payments::set_plan(conn, current.id, advance, now)?;
    Ok(cents)
}

/// Records a dossier's change, as the last statement of its transaction: it concerns its
/// applicant, and is never public. The view holds nothing staff keep to themselves.
pub(crate) fn record(
    conn: &mut persistence::DbConnection,
    caller: &Caller,
    dossier: &Dossier,
) -> Result<(), ApiError> {
    record_caused(conn, caller, dossier, None)
}

/// [`record`], naming why the dossier changed when its new version alone does not say
/// it (a payment recorded): webhooks carry the event under that name.
pub(crate) fn record_caused(
    conn: &mut persistence::DbConnection,
    caller: &Caller,
    dossier: &Dossier,
    cause: Option<ChangeCause>,
) -> Result<(), ApiError> {
    let action = if dossier.version == 1 {
        ChangeAction::Created
    } else {
        ChangeAction::Updated
    };
    let mut change = changes::described(
        caller,
        ChangedObject::Dossier,
        dossier.id,
        action,
        dossier.version,
        Some(&DossierView::of(dossier, None)),
        vec![dossier.applicant_id],
        false,
    )?;
    change.cause = cause;
    persistence::changes::record(conn, change)?;
    Ok(())
}

macro_rules! transition_handler {
    ($name:ident, $path:literal, $action:expr, $summary:literal, $who:literal) => {
        #[doc = $summary]
        ///
        #[doc = $who]
        /// A caller of neither side is refused (403), an action the dossier's state does
        /// not allow is a 409 (`transition_not_from_status`). Recorded in the history
        /// with who, when and the `reason` given.
        #[utoipa::path(
            tag = "grants",
            security(("oauth2" = [])),
            params(
                ("id" = uuid::Uuid, Path, description = "Dossier id."),
            ),
            request_body = TransitionBody,
            responses(
                (status = 200, description = "The dossier in its new state.", body = DossierView,
                    headers(("ETag" = String, description = "New version."))),
                responses::Forbidden,
                responses::NotFound,
                responses::Conflict,
                responses::PayloadTooLarge,
                responses::UnsupportedMediaType,
                responses::Unprocessable,
            )
        )]
        #[post($path)]
        pub async fn $name(
            caller: Caller,
            pool: web::Data<Db>,
            geography: web::Data<Arc<ReferenceGeography>>,
            mailer: web::Data<Mailer>,
            PathId(id): PathId<DossierId>,
            body: JsonBody<TransitionBody>,
        ) -> Result<HttpResponse, ApiError> {
            let asked = body.open().map(|opened| Asked {
                reason: opened.value.reason,
                awarded_cents: None,
                advance: None,
            });
            transit(caller, pool, geography, mailer, id, $action, asked).await
        }
    };
}

transition_handler!(
    submit_dossier,
    "/dossiers/{id}/submit",
    DossierAction::Submit,
    "Submit a dossier.",
    "By those who file for its applicant, from `draft` or `changes_requested`, while its call is open: every problem `POST /v1/dossiers/{id}/check` would list is a 422 listing them all."
);
transition_handler!(
    request_dossier_changes,
    "/dossiers/{id}/request-changes",
    DossierAction::RequestChanges,
    "Ask for changes to a submitted dossier.",
    "By agency staff: the applicant edits it again and resubmits."
);
transition_handler!(
    start_dossier_review,
    "/dossiers/{id}/start-review",
    DossierAction::StartReview,
    "Start the review of a submitted dossier.",
    "By agency staff."
);
transition_handler!(
    reject_dossier,
    "/dossiers/{id}/reject",
    DossierAction::Reject,
    "Reject a dossier in review.",
    "By agency staff."
);
transition_handler!(
    withdraw_dossier,
    "/dossiers/{id}/withdraw",
    DossierAction::Withdraw,
    "Withdraw a dossier.",
    "By those who file for its applicant, before a decision."
);
transition_handler!(
    dismiss_dossier,
    "/dossiers/{id}/dismiss",
    DossierAction::Dismiss,
    "Dismiss a dossier (classé sans suite).",
    "By agency staff, before a decision."
);
transition_handler!(
    reopen_dossier,
    "/dossiers/{id}/reopen",
    DossierAction::Reopen,
    "Reopen a decision.",
    "By agency staff, with a `reason`: the dossier goes back to review, and an approval's award back to the call's envelope and out of the yearly caps. A decision with payments recorded stays (409 `payments_recorded`)."
);
transition_handler!(
    close_dossier,
    "/dossiers/{id}/close",
    DossierAction::Close,
    "Close an approved dossier.",
    "By agency staff, once its final report is accepted (409 `final_report_not_accepted` until then) and every cent awarded paid (409 `payments_incomplete`)."
);

/// Approve a dossier in review.
///
/// By agency staff, awarding `awarded_cents`: above the maximum the rules compute (the
/// yearly caps counting the programme's other approved dossiers) is a 422
/// (`award_above_maximum`), beyond what is left of the call's envelope a 409
/// (`award_above_envelope`), even with many approvals at once. The payment schedule
/// follows from `advance_basis_points` (`GET …/payments`). A caller of neither side
/// is refused (403), a dossier not in review is a 409.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    request_body = ApproveBody,
    responses(
        (status = 200, description = "The dossier, approved.", body = DossierView,
            headers(("ETag" = String, description = "New version."))),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/dossiers/{id}/approve")]
pub async fn approve_dossier(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    mailer: web::Data<Mailer>,
    PathId(id): PathId<DossierId>,
    body: JsonBody<ApproveBody>,
) -> Result<HttpResponse, ApiError> {
    let asked = body.open().and_then(|opened| {
        let advance = opened
            .value
            .advance_basis_points
            .map(Rate::basis_points)
            .transpose()
            .map_err(|problem| ValidationError::single("advance_basis_points", problem))?;
        Ok(Asked {
            reason: opened.value.reason,
            awarded_cents: Some(opened.value.awarded_cents),
            advance,
        })
    });
    transit(
        caller,
        pool,
        geography,
        mailer,
        id,
        DossierAction::Approve,
        asked,
    )
    .await
}

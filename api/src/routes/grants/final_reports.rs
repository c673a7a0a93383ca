//! `/v1/dossiers/{id}/final-report`: an approved dossier's final report (bilan). Those
//! who file for the applicant send it (the performances actually held, their
//! attendance, the final budget), again while staff ask for changes; staff accept it,
//! which is one of the two conditions of closing the dossier, or ask for changes. Each
//! action locks the dossier's row, so that a report is never changed under a decision.

use actix_web::{HttpResponse, get, post, put, web};
use domain::DossierId;
use domain::grants::{
    Dossier, DossierStatus, FinalReportAction, FinalReportContent, FinalReportError,
    FinalReportInput, report_transition,
};
use persistence::DbConnection;
use persistence::clock::storable_now;
use persistence::db::write_transaction;
use persistence::grants::dossiers;
use persistence::grants::final_reports::{self, FinalReport, FinalReportEvent};

use super::GrantsProblem;
use super::dossiers::{check_applicant, readable_dossier};
use super::money_dto::{FinalReportView, PutFinalReport};
use super::payments::check_staff;
use super::transitions::TransitionBody;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, PathId};

fn report_error(error: FinalReportError) -> ApiError {
    match error {
        FinalReportError::AlreadyAccepted => GrantsProblem::FinalReportAccepted.into(),
        FinalReportError::NotSubmitted => GrantsProblem::FinalReportNotSubmitted.into(),
    }
}

/// The dossier, locked, if it is approved: a final report is an approved dossier's.
fn locked_approved(conn: &mut DbConnection, id: DossierId) -> Result<Dossier, ApiError> {
    let dossier = dossiers::lock(conn, id)?;
    if dossier.status != DossierStatus::Approved {
        return Err(GrantsProblem::DossierNotApproved.into());
    }
    Ok(dossier)
}

fn audit_action(action: FinalReportAction) -> &'static str {
    match action {
        FinalReportAction::Submit => "dossier.submit_final_report",
        FinalReportAction::Accept => "dossier.accept_final_report",
        FinalReportAction::RequestChanges => "dossier.request_final_report_changes",
    }
}

/// Whether the dossier's final report was accepted: a condition of closing it.
pub(crate) fn final_report_accepted(
    conn: &mut DbConnection,
    dossier: DossierId,
) -> Result<bool, ApiError> {
    Ok(final_reports::find(conn, dossier)?
        .is_some_and(|r| r.status == domain::grants::FinalReportStatus::Accepted))
}

/// Writes `report`, its history row and its audit event.
fn saved(
    conn: &mut DbConnection,
    caller: &Caller,
    current: Option<&FinalReport>,
    report: FinalReport,
    action: FinalReportAction,
    reason: Option<String>,
) -> Result<FinalReport, ApiError> {
    final_reports::save(conn, current, &report)?;
    let (actor_kind, actor_id) = caller.actor();
    final_reports::record_event(
        conn,
        &FinalReportEvent {
            id: String::new(),
            dossier_id: report.dossier_id,
            action,
            actor_kind: actor_kind.as_str().to_owned(),
            actor_id,
            reason,
            occurred_at: report.updated_at,
        },
    )?;
    let fields: &[&str] = match action {
        FinalReportAction::Submit => &["held", "budget", "comment", "status"],
        _ => &["status"],
    };
    persistence::audit::record(
        conn,
        audit::event(
            caller,
            audit_action(action),
            "dossier",
            report.dossier_id,
            fields,
        ),
    )?;
    Ok(report)
}

/// Get a dossier's final report.
///
/// For whoever reads the dossier; a 404 until one is sent.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    responses(
        (status = 200, description = "The final report.", body = FinalReportView),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/final-report")]
pub async fn get_final_report(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<DossierId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let report = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        readable_dossier(conn, &principal, id)?;
        final_reports::find(conn, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(FinalReportView::from(&report)))
}

/// Send a dossier's final report.
///
/// By those who file for its applicant (owners and editors, API clients with
/// `dossiers:write`), on an approved dossier (409 `dossier_not_approved` otherwise),
/// whole each time: the performances actually held, some of the dossier's (another is a
/// 422 naming it), each once, with its attendance; the final budget; a comment. Sent
/// again while it waits or after staff asked for changes; once accepted it is final
/// (409 `final_report_accepted`).
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    request_body = PutFinalReport,
    responses(
        (status = 200, description = "The final report, submitted.", body = FinalReportView),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[put("/dossiers/{id}/final-report")]
pub async fn put_final_report(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<DossierId>,
    body: JsonBody<PutFinalReport>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let applicant_only = move |conn: &mut DbConnection| {
        let principal = caller.principal(conn)?;
        let (_, role) = readable_dossier(conn, &principal, id)?;
        check_applicant(&principal, role)
    };
    let input = match body.open() {
        Ok(opened) => FinalReportInput::from(opened.value),
        Err(problem) => {
            db::run(&pool, applicant_only).await?;
            return Err(problem);
        }
    };
    let report = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            applicant_only(conn)?;
            let dossier = locked_approved(conn, id)?;
            let current = final_reports::find(conn, id)?;
            let status = report_transition(
                current.as_ref().map(|r| r.status),
                FinalReportAction::Submit,
            )
            .map_err(report_error)?;
            let content = FinalReportContent::parse(&input, &dossier.content.performance_ids)?;
            let now = storable_now();
            let report = FinalReport {
                dossier_id: id,
                status,
                content,
                submitted_at: now,
                decided_at: None,
                updated_at: now,
                version: current.as_ref().map_or(1, |r| r.version + 1),
            };
            saved(
                conn,
                &caller,
                current.as_ref(),
                report,
                FinalReportAction::Submit,
                None,
            )
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(FinalReportView::from(&report)))
}

/// Staff's decision on a submitted final report.
async fn decide(
    caller: Caller,
    pool: web::Data<Db>,
    id: DossierId,
    body: JsonBody<TransitionBody>,
    action: FinalReportAction,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let staff_only = move |conn: &mut DbConnection| {
        let principal = caller.principal(conn)?;
        let (_, role) = readable_dossier(conn, &principal, id)?;
        check_staff(&principal, role)
    };
    let reason = match body.open() {
        Ok(opened) => opened.value.reason,
        Err(problem) => {
            db::run(&pool, staff_only).await?;
            return Err(problem);
        }
    };
    let reason = reason
        .map(|r| domain::text::multi_line(&r, domain::grants::dossier::REASON_MAX))
        .transpose()
        .map_err(|problem| domain::ValidationError::single("reason", problem));
    let report = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            staff_only(conn)?;
            let reason = reason?;
            locked_approved(conn, id)?;
            let current = final_reports::find(conn, id)?;
            let status = report_transition(current.as_ref().map(|r| r.status), action)
                .map_err(report_error)?;
            let Some(current) = current else {
                return Err(GrantsProblem::FinalReportNotSubmitted.into());
            };
            let now = storable_now();
            let report = FinalReport {
                status,
                decided_at: Some(now),
                updated_at: now,
                version: current.version + 1,
                ..current.clone()
            };
            saved(conn, &caller, Some(&current), report, action, reason)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(FinalReportView::from(&report)))
}

/// Accept a dossier's final report.
///
/// By agency staff, on a submitted report (409 `final_report_not_submitted`
/// otherwise): it becomes final, and the dossier may be closed once its payments are
/// complete.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    request_body = TransitionBody,
    responses(
        (status = 200, description = "The final report, accepted.", body = FinalReportView),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/dossiers/{id}/final-report/accept")]
pub async fn accept_final_report(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<DossierId>,
    body: JsonBody<TransitionBody>,
) -> Result<HttpResponse, ApiError> {
    decide(caller, pool, id, body, FinalReportAction::Accept).await
}

/// Ask for changes to a dossier's final report.
///
/// By agency staff, on a submitted report (409 `final_report_not_submitted`
/// otherwise), with an optional `reason`: the applicant sends it again.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    request_body = TransitionBody,
    responses(
        (status = 200, description = "The final report, changes requested.", body = FinalReportView),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/dossiers/{id}/final-report/request-changes")]
pub async fn request_final_report_changes(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<DossierId>,
    body: JsonBody<TransitionBody>,
) -> Result<HttpResponse, ApiError> {
    decide(caller, pool, id, body, FinalReportAction::RequestChanges).await
}

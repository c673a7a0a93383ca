//! `/v1/dossiers/{id}/payments`: an approved dossier's payments (versements). The
//! schedule (an advance and a balance, or a single payment) follows from the award and
//! the plan set at approval, which staff may replace; staff record the payments made,
//! never more than awarded in total.
//!
//! A payment locks its dossier's row (`persistence::grants::dossiers::lock`) before it
//! reads what was paid, so that concurrent payments on any number of instances never
//! pay more than the award. A payment is a change of the dossier: it takes the
//! dossier a version on and enters the change log.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use domain::access::{GrantsAction, MembershipRole, Principal, may_grants};
use domain::changes::ChangeCause;
use domain::grants::{
    DEFAULT_ADVANCE, Dossier, DossierStatus, NewPayment, PaymentError, PaymentInput,
    PaymentSchedule, Rate, check_scheduled_payment,
};
use domain::{DossierId, ValidationError};
use persistence::DbConnection;
use persistence::clock::storable_now;
use persistence::db::write_transaction;
use persistence::grants::dossiers;
use persistence::grants::payments::{self, Payment};

use super::GrantsProblem;
use super::dossier_dto::DOSSIER_LISTING;
use super::dossiers::readable_dossier;
use super::money_dto::{PaymentsView, RecordPayment, ReplaceSchedule};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId};
use crate::http::idempotency::{self, Reply};

/// The agency's side of a dossier: 403 for the applicant's.
pub(crate) fn check_staff(
    principal: &Principal,
    role: Option<MembershipRole>,
) -> Result<(), ApiError> {
    if may_grants(principal, GrantsAction::Instruct, role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The schedule of a decided dossier's award: its plan's advance (the default one for a
/// dossier approved before plans were kept), the balance the rest.
fn schedule_of(
    conn: &mut DbConnection,
    dossier: &Dossier,
) -> Result<Option<(Rate, PaymentSchedule)>, ApiError> {
    let Some(awarded) = dossier.awarded_cents else {
        return Ok(None);
    };
    let advance = payments::plan(conn, dossier.id)?.unwrap_or(DEFAULT_ADVANCE);
    Ok(Some((
        advance,
        PaymentSchedule::advance_and_balance(awarded, advance),
    )))
}

/// What `GET …/payments` shows of a dossier.
pub(crate) fn payments_view(
    conn: &mut DbConnection,
    dossier: &Dossier,
) -> Result<PaymentsView, ApiError> {
    let schedule = schedule_of(conn, dossier)?;
    let recorded = payments::list(conn, dossier.id)?;
    Ok(PaymentsView::of(
        dossier.awarded_cents,
        schedule
            .as_ref()
            .map(|(rate, s)| (rate.as_basis_points(), s)),
        &recorded,
    ))
}

fn payment_error(error: PaymentError) -> ApiError {
    match error {
        PaymentError::AboveAwarded {
            amount,
            paid,
            awarded,
        } => GrantsProblem::PaymentAboveAwarded {
            amount,
            paid,
            awarded,
        }
        .into(),
        other => ValidationError::single(other.field(), other.problem()).into(),
    }
}

/// The dossier, locked, if it is approved (payments are for approved dossiers only).
fn locked_approved(conn: &mut DbConnection, id: DossierId) -> Result<Dossier, ApiError> {
    let dossier = dossiers::lock(conn, id)?;
    if dossier.status != DossierStatus::Approved || dossier.awarded_cents.is_none() {
        return Err(GrantsProblem::DossierNotApproved.into());
    }
    Ok(dossier)
}

/// Get a dossier's payments.
///
/// The schedule (the advance and the balance of the award, or a single payment), the
/// payments recorded, what was paid and what is left; for whoever reads the dossier.
/// Before a decision, an empty schedule.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    responses(
        (status = 200, description = "The dossier's payments.", body = PaymentsView),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/payments")]
pub async fn get_dossier_payments(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<DossierId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let view = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let (dossier, _) = readable_dossier(conn, &principal, id)?;
        payments_view(conn, &dossier)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Record a payment.
///
/// By agency staff, on an approved dossier (409 `dossier_not_approved` otherwise):
/// `amount_cents` paid on `paid_on` under the transfer's `reference`, optionally for one
/// item of the schedule (`kind`, 422 if the schedule has none of that kind). Payments
/// never add up to more than the award, even many at once: beyond it is a 409
/// (`payment_above_awarded`) naming the award and what was paid. Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = RecordPayment,
    responses(
        (status = 201, description = "Recorded: the dossier's payments.", body = PaymentsView),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/dossiers/{id}/payments")]
pub async fn record_dossier_payment(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<DossierId>,
    body: JsonBody<RecordPayment>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let staff_only = move |conn: &mut DbConnection| {
        let principal = caller.principal(conn)?;
        let (_, role) = readable_dossier(conn, &principal, id)?;
        check_staff(&principal, role)
    };
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        // What is wrong with the body is told only to those who may record.
        Err(problem) => {
            db::run(&pool, staff_only).await?;
            return Err(problem);
        }
    };
    let parsed = NewPayment::parse(&PaymentInput::from(value));
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let event = audit::event(
            &caller,
            "dossier.record_payment",
            "dossier",
            id,
            &["payments"],
        );
        let (actor_kind, actor_id) = caller.actor();
        Ok(move |conn: &mut DbConnection| {
            write_transaction(conn, |conn| {
                staff_only(conn)?;
                let payment = parsed?;
                // Locked first: what was paid is read by one payment at a time.
                let current = locked_approved(conn, id)?;
                let awarded = current.awarded_cents.unwrap_or(0);
                let schedule = PaymentSchedule::advance_and_balance(
                    awarded,
                    payments::plan(conn, id)?.unwrap_or(DEFAULT_ADVANCE),
                );
                let recorded: Vec<_> = payments::list(conn, id)?
                    .iter()
                    .map(Payment::recorded)
                    .collect();
                check_scheduled_payment(
                    &schedule,
                    awarded,
                    &recorded,
                    payment.kind,
                    payment.amount_cents,
                )
                .map_err(payment_error)?;
                let now = storable_now();
                payments::record(
                    conn,
                    Payment {
                        id: String::new(),
                        dossier_id: id,
                        kind: payment.kind,
                        amount_cents: payment.amount_cents,
                        paid_on: payment.paid_on,
                        reference: payment.reference,
                        actor_kind: actor_kind.as_str().to_owned(),
                        actor_id,
                        recorded_at: now,
                    },
                )?;
                let updated = dossiers::moved(&current, current.status, now);
                dossiers::replace(conn, &current, &updated, &DOSSIER_LISTING)?;
                persistence::audit::record(conn, event)?;
                let view = payments_view(conn, &updated)?;
                // Last: the change log's numbering is held until the commit.
                super::transitions::record_caused(
                    conn,
                    &caller,
                    &updated,
                    Some(ChangeCause::PaymentRecorded),
                )?;
                Reply::json(StatusCode::CREATED, &view)
            })
        })
    })
    .await
}

/// Replace a dossier's payment schedule.
///
/// By agency staff, on an approved dossier (409 `dossier_not_approved` otherwise): the
/// advance's share of the award (`advance_basis_points`), the balance the rest. The
/// payments already recorded stay.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    request_body = ReplaceSchedule,
    responses(
        (status = 200, description = "The dossier's payments under the new schedule.", body = PaymentsView),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[put("/dossiers/{id}/payments/schedule")]
pub async fn replace_dossier_payment_schedule(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<DossierId>,
    body: JsonBody<ReplaceSchedule>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let staff_only = move |conn: &mut DbConnection| {
        let principal = caller.principal(conn)?;
        let (_, role) = readable_dossier(conn, &principal, id)?;
        check_staff(&principal, role)
    };
    let value = match body.open() {
        Ok(opened) => opened.value,
        Err(problem) => {
            db::run(&pool, staff_only).await?;
            return Err(problem);
        }
    };
    let advance = Rate::basis_points(value.advance_basis_points)
        .map_err(|problem| ValidationError::single("advance_basis_points", problem));
    let event = audit::event(
        &caller,
        "dossier.replace_payment_schedule",
        "dossier",
        id,
        &["payment_schedule"],
    );
    let view = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            staff_only(conn)?;
            let advance = advance?;
            let current = locked_approved(conn, id)?;
            payments::set_plan(conn, id, advance, storable_now())?;
            persistence::audit::record(conn, event)?;
            payments_view(conn, &current)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

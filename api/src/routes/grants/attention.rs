//! `/v1/dossiers/{id}/attention`: what staff should look at on a dossier (à examiner),
//! raised when a performance it funds, or asks to fund, is cancelled or deleted (in the
//! same transaction, by whichever path: `PATCH /v1/performances/{id}`, a partner's sync,
//! one at a time or in a batch). The applicant sees them too: they are its own
//! performances. Staff clear them.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::grants::{AttentionKind, is_cancellation};
use domain::programming::Performance;
use domain::{AttentionFlagId, DossierId};
use persistence::DbConnection;
use persistence::clock::storable_now;
use persistence::db::write_transaction;
use persistence::grants::attention;

use super::dossiers::readable_dossier;
use super::money_dto::{AttentionFlagView, AttentionList};
use super::payments::check_staff;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::PathId;

/// Flags the dossiers naming a performance that a write cancels (`after` is `None`
/// when it is deleted), inside the write's transaction. Nothing for any other change.
pub(crate) fn flag_if_cancelled(
    conn: &mut DbConnection,
    before: &Performance,
    after: Option<&Performance>,
) -> Result<(), persistence::PersistenceError> {
    let kind = match after {
        None => AttentionKind::PerformanceDeleted,
        Some(after) if is_cancellation(before.data.status, after.data.status) => {
            AttentionKind::PerformanceCancelled
        }
        Some(_) => return Ok(()),
    };
    attention::raise(conn, before.id, kind, storable_now())?;
    Ok(())
}

/// List a dossier's attention flags.
///
/// Oldest first, cleared ones too (with `cleared_at`); for whoever reads the dossier.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    responses(
        (status = 200, description = "The dossier's flags.", body = AttentionList),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/attention")]
pub async fn list_dossier_attention(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<DossierId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let flags = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        readable_dossier(conn, &principal, id)?;
        Ok::<_, ApiError>(attention::list(conn, id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AttentionList {
        data: flags.iter().map(AttentionFlagView::from).collect(),
    }))
}

/// Clear an attention flag.
///
/// By agency staff, once they have looked: it stays in the list with `cleared_at`.
/// Clearing it again changes nothing.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("flag_id" = uuid::Uuid, Path, description = "Flag id."),
    ),
    responses(
        (status = 200, description = "The flag, cleared.", body = AttentionFlagView),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[post("/dossiers/{id}/attention/{flag_id}/clear")]
pub async fn clear_dossier_attention(
    caller: Caller,
    pool: web::Data<Db>,
    PathId((dossier, flag)): PathId<(DossierId, AttentionFlagId)>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let event = audit::event(
        &caller,
        "dossier.clear_attention",
        "dossier",
        dossier,
        &["attention"],
    );
    let (actor_kind, actor_id) = caller.actor();
    let cleared_by = format!("{}:{}", actor_kind.as_str(), actor_id.unwrap_or_default());
    let cleared = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let (_, role) = readable_dossier(conn, &principal, dossier)?;
            check_staff(&principal, role)?;
            let at: DateTime<Utc> = storable_now();
            let cleared = attention::clear(conn, dossier, flag, &cleared_by, at)?;
            persistence::audit::record(conn, event)?;
            Ok(cleared)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(AttentionFlagView::from(&cleared)))
}

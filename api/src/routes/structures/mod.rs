//! `/v1/structures`: every organisation the agency works with.
//!
//! The pattern every resource follows: `mod.rs` registers the handlers and holds the
//! resource's guards, `dto.rs` the wire types, `query.rs` the list's query string and
//! cursor, `handlers.rs` the handlers.

mod dto;
mod handlers;
mod problems;
mod query;

use actix_web::HttpResponse;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use domain::Structure;
use domain::StructureId;
use domain::access::{MembershipRole, Principal, StructureAction, may};
use domain::changes::{ChangeAction, ChangedObject};
use persistence::DbConnection;

pub use dto::*;
pub use handlers::*;
pub use problems::StructureProblem;
pub use query::*;

use crate::auth::Caller;
use crate::changes;
use crate::db::{self, Db};
use crate::http::conditional::etag;
use crate::http::error::ApiError;
use crate::routes::shared::role_in;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_structures)
        .service(create_structure)
        .service(get_structure)
        .service(update_structure)
        .service(archive_structure);
}

fn visibility(principal: &Principal, membership: Option<MembershipRole>) -> Visibility {
    if may(principal, StructureAction::ReadPrivate, membership) {
        Visibility::Full
    } else {
        Visibility::Public
    }
}

/// 401 for anonymous callers, 403 for signed-in ones the policy refuses.
fn authorize(
    principal: &Principal,
    action: StructureAction,
    membership: Option<MembershipRole>,
) -> Result<(), ApiError> {
    if *principal == Principal::Anonymous {
        return Err(ApiError::Unauthenticated);
    }
    if may(principal, action, membership) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// A SIRET conflict names the structure holding it only to a caller who may see that
/// structure's private view (a member, one of its API clients, staff): to anyone else,
/// naming it would tie a private SIRET to a public structure.
async fn disclose_siret_holder(pool: &Db, caller: &Caller, error: ApiError) -> ApiError {
    let Some(StructureProblem::DuplicateSiret {
        existing,
        named: false,
    }) = error.area::<StructureProblem>()
    else {
        return error;
    };
    let Ok(holder) = existing.parse::<StructureId>() else {
        return error;
    };
    let caller = *caller;
    let may_see = db::run(pool, move |conn| {
        let principal = caller.principal(conn)?;
        let membership = role_in(conn, &principal, holder)?;
        Ok::<_, ApiError>(may(&principal, StructureAction::ReadPrivate, membership))
    })
    .await;
    match may_see {
        Ok(true) => StructureProblem::DuplicateSiret {
            existing: existing.clone(),
            named: true,
        }
        .into(),
        Ok(false) => error,
        Err(other) => other,
    }
}

fn structure_response(
    mut response: actix_web::HttpResponseBuilder,
    structure: Structure,
    visibility: Visibility,
) -> HttpResponse {
    response
        .insert_header(header::ETag(etag(structure.version)))
        // What a caller sees depends on its token: shared caches must not keep it.
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::NoCache,
        ]))
        .insert_header((header::VARY, "Authorization"))
        .json(StructureView::new(structure, visibility))
}

/// Records a change of `structure` in the change log, inside the write's transaction
/// and as its last statement (the log's numbering is held until the commit). An
/// archived structure leaves lists: its change is a `deleted`, without the object.
fn record_change(
    conn: &mut DbConnection,
    caller: &Caller,
    structure: &Structure,
    action: ChangeAction,
) -> Result<(), ApiError> {
    // An archived structure leaves lists: followers learn of it as a deletion.
    let live = structure.archived_at.is_none();
    let view = StructureView::new(structure.clone(), Visibility::Full);
    changes::record(
        conn,
        caller,
        ChangedObject::Structure,
        structure.id,
        if live { action } else { ChangeAction::Deleted },
        structure.version,
        live.then_some(&view),
        vec![structure.id],
        live,
    )
}

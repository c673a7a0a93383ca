//! `/v1/productions`, `/v1/tours`, `/v1/performances`: programming data, kept by the
//! companies that tour and the venues that host; `/v1/sync/performances`: the same
//! performances, kept by partners' systems under their own ids.
//!
//! Who may do what is `domain::access::may_program`, given the caller's role in the
//! structure an item belongs to: a production's and its tours' structure, or for a
//! performance either side (the production's structure, the venue structure). An
//! unpublished item the caller may not read is a 404; one it reads but may not change
//! is a 403. A creation naming something the caller may not edit is a 422 naming the
//! field (`not_editable`), so that the body of a refused request is never judged apart
//! from it.

pub(crate) mod exports;
mod performances;
mod problems;
mod productions;
mod sync;
mod tours;

use domain::StructureId;
use domain::access::{MembershipRole, Principal, ProgrammingAction, may_program, programming_role};
use persistence::DbConnection;
use persistence::programming::Reader;

pub use exports::{
    EventGraphLd, EventLd, EventType, OfferLd, OrganizationLd, PlaceLd, PostalAddressLd,
    export_performances_csv, export_performances_ics,
};
pub use performances::*;
pub use problems::ProgrammingProblem;
pub use productions::*;
pub use sync::*;
pub use tours::*;

use crate::http::error::ApiError;

/// `/v1/productions`.
pub fn configure_productions(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_productions)
        .service(create_production)
        .service(get_production)
        .service(update_production)
        .service(delete_production);
}

/// `/v1/tours`.
pub fn configure_tours(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_tours)
        .service(create_tour)
        .service(get_tour)
        .service(update_tour)
        .service(delete_tour);
}

/// `/v1/performances`.
pub fn configure_performances(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_performances)
        .service(create_performance)
        .service(get_performance)
        .service(update_performance)
        .service(delete_performance);
}

/// `/v1/performances.ics` and `/v1/performances.csv`: beside the collection, not in it.
pub fn configure_exports(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(export_performances_ics)
        .service(export_performances_csv);
}

/// `/v1/sync/performances`.
pub fn configure_sync(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(sync_performances_batch)
        .service(sync_performance)
        .service(unsync_performance);
}

/// The caller's programming role in `structure`: its membership for an account, the
/// role its scopes give an API client there, none for anonymous callers.
pub(crate) fn role_in(
    conn: &mut DbConnection,
    principal: &Principal,
    structure: StructureId,
) -> Result<Option<MembershipRole>, ApiError> {
    match principal {
        Principal::Anonymous => Ok(None),
        Principal::Client {
            structures, scopes, ..
        } => Ok(programming_role(structures, scopes, structure)),
        Principal::Account { id, .. } => Ok(persistence::structures::memberships::membership(
            conn, *id, structure,
        )?),
    }
}

/// Whose eyes a list is for.
pub(crate) fn reader(principal: &Principal) -> Reader {
    if may_program(principal, ProgrammingAction::ReadUnpublished, None) {
        return Reader::Everything;
    }
    match principal {
        Principal::Anonymous => Reader::Public,
        Principal::Account { id, .. } => Reader::Member(*id),
        Principal::Client {
            structures, scopes, ..
        } => Reader::Acting(
            structures
                .iter()
                .copied()
                .filter(|s| programming_role(structures, scopes, *s).is_some())
                .collect(),
        ),
    }
}

/// Reading an item: published ones are everyone's; an unpublished one the caller may
/// not read does not exist for it.
pub(crate) fn check_readable(
    principal: &Principal,
    published: bool,
    role: Option<MembershipRole>,
) -> Result<(), ApiError> {
    if published || may_program(principal, ProgrammingAction::ReadUnpublished, role) {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Changing an item the caller reads: 401 anonymous, 403 without the right.
pub(crate) fn check_writable(
    principal: &Principal,
    published: bool,
    role: Option<MembershipRole>,
) -> Result<(), ApiError> {
    check_readable(principal, published, role)?;
    if *principal == Principal::Anonymous {
        return Err(ApiError::Unauthenticated);
    }
    if may_program(principal, ProgrammingAction::Write, role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// A 422 naming `field`: it names nothing the caller may edit.
pub(crate) fn not_editable(field: &str) -> ApiError {
    domain::ValidationError::single(field, domain::FieldProblem::NotEditable).into()
}

/// An instant given as a query parameter (RFC 3339), named in the problem if bad.
pub(crate) fn instant_param(
    invalid: &mut domain::ValidationError,
    name: &str,
    value: Option<&str>,
) -> Option<chrono::NaiveDateTime> {
    value.and_then(|v| {
        invalid
            .check(name, domain::programming::performance::instant(v))
            .map(|t| t.naive_utc())
    })
}

/// Parameter problems as a 400.
pub(crate) fn parameters(invalid: domain::ValidationError) -> Result<(), ApiError> {
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidParameters(
            ApiError::from(invalid).into_issues(),
        ))
    }
}

//! `/v1/webhooks`: subscriptions to the events of the change log, delivered signed to a
//! partner's endpoint (`crate::webhooks` delivers them).
//!
//! A subscription belongs to whoever made it, an account or an API client, and is told
//! what its maker may read (`domain::access::may_on_webhook`); another caller's
//! subscription is a 404. Its secret is shown once and sealed at rest.

mod dto;
mod handlers;

use domain::access::{Principal, StructureAction, WebhookAction, may, may_on_webhook};
use domain::{FieldProblem, StructureId, WebhookId};
use persistence::DbConnection;
use persistence::webhooks::{self, Owner, Webhook};

pub use dto::*;
pub use handlers::*;

use crate::http::error::{ApiError, FieldIssue, Issue};
use crate::routes::shared::{find_live, role_in};
use crate::routes::structures::StructureProblem;
use crate::webhooks::Sealer;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_webhook_secret)
        .service(ping_webhook)
        .service(list_webhook_deliveries)
        .service(replay_webhook_delivery);
}

/// What the handlers need beside the pool: the key of secrets, and whether insecure
/// targets are allowed (development).
pub struct Context {
    pub sealer: Sealer,
    pub allow_insecure: bool,
}

/// How long the secret before a rotation keeps signing beside the new one.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// The owner a new subscription of `principal` gets.
fn owner_of(principal: &Principal) -> Result<Owner, ApiError> {
    match principal {
        Principal::Account { id, .. } => Ok(Owner::Account(*id)),
        Principal::Client { id, .. } => Ok(Owner::Client(*id)),
        Principal::Anonymous => Err(ApiError::Unauthenticated),
    }
}

/// The subscription, if `principal` may do `action` to it: a 404 otherwise, as if it did
/// not exist.
pub(crate) fn authorized(
    conn: &mut DbConnection,
    principal: &Principal,
    id: WebhookId,
    action: WebhookAction,
) -> Result<Webhook, ApiError> {
    let webhook = webhooks::find(conn, id)?;
    let made_it = owner_of(principal).is_ok_and(|owner| owner == webhook.owner);
    if may_on_webhook(principal, action, None, made_it) {
        Ok(webhook)
    } else {
        Err(ApiError::NotFound)
    }
}

/// 422 naming the first of `structures` that `principal` may not subscribe for (a live
/// structure it owns, or acts for as an API client; any live one for staff); an empty
/// list is for staff only.
pub(crate) fn check_structures(
    conn: &mut DbConnection,
    principal: &Principal,
    structures: &[StructureId],
) -> Result<(), ApiError> {
    if structures.is_empty() && !principal.is_staff() {
        return Err(ApiError::Validation(vec![FieldIssue::new(
            "structure_ids",
            Issue::Domain(FieldProblem::Required),
        )]));
    }
    for (i, &structure) in structures.iter().enumerate() {
        let allowed = match find_live(conn, structure) {
            Ok(_) => {
                let role = role_in(conn, principal, structure)?;
                may_on_webhook(principal, WebhookAction::Subscribe, role, false)
                    && may(principal, StructureAction::ReadPrivate, role)
            }
            Err(ApiError::NotFound) => false,
            Err(error) if error.area() == Some(&StructureProblem::Archived) => false,
            Err(other) => return Err(other),
        };
        if !allowed {
            return Err(ApiError::Validation(vec![FieldIssue::new(
                format!("structure_ids[{i}]"),
                Issue::Domain(FieldProblem::NotOneOf {
                    allowed: "a live structure whose events you may receive".into(),
                }),
            )]));
        }
    }
    Ok(())
}

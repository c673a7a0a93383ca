//! `/v1/audit-events`: the audit log, for agency staff. Read-only: nothing edits or
//! deletes it.

mod dto;
mod handlers;

pub use dto::*;
pub use handlers::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit_events);
}

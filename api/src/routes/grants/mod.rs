//! `/v1/programmes`, `/v1/calls`: the agency's grant programmes (dispositifs d'aide)
//! and their calls (appels à candidatures); `/v1/dossiers`: the applications filed for
//! them, their messages, the agency's private notes and the committee's reviews, and
//! after the decision their payments (versements), final report (bilan) and the flags
//! staff should look at (à examiner).
//!
//! Programmes and calls are the agency's: staff (`staff`, `admin`) write them; the
//! published programmes and their calls are everyone's, an unpublished one is a 404
//! but for staff. The rules are `domain::grants`'s: nothing here re-reads them.

mod attention;
mod calls;
mod documents;
mod dossier_dto;
mod dossiers;
mod dto;
mod exports;
mod final_reports;
mod history;
mod instruction;
mod money_dto;
mod payments;
mod problems;
mod programmes;
mod reviews;
mod transitions;
mod upload;

use domain::access::{GrantsAction, Principal, may_grants};
use persistence::PersistenceError;

pub use attention::*;
pub use calls::*;
pub use documents::*;
pub use dossier_dto::*;
pub use dossiers::*;
pub use dto::*;
pub use exports::*;
pub use final_reports::*;
pub use history::*;
pub use instruction::*;
pub use money_dto::*;
pub use payments::*;
pub use problems::GrantsProblem;
pub use programmes::*;
pub use reviews::*;
pub use transitions::*;

use crate::http::error::ApiError;

/// `/v1/programmes`.
pub fn configure_programmes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_programmes)
        .service(create_programme)
        .service(get_programme)
        .service(get_programme_form_schema)
        .service(update_programme);
}

/// `/v1/calls`, with the committee's CSV of a call's dossiers.
pub fn configure_calls(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_calls)
        .service(create_call)
        .service(get_call)
        .service(update_call)
        .service(export_call_dossiers_csv);
}

/// `/v1/awarded-grants.csv`: beside the collections, in none.
pub fn configure_exports(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(export_awarded_grants_scdl);
}

/// `/v1/dossiers` and everything under a dossier.
pub fn configure_dossiers(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_dossiers)
        .service(create_dossier)
        .service(get_dossier)
        .service(update_dossier)
        .service(check_dossier)
        .service(submit_dossier)
        .service(request_dossier_changes)
        .service(start_dossier_review)
        .service(approve_dossier)
        .service(reject_dossier)
        .service(withdraw_dossier)
        .service(dismiss_dossier)
        .service(reopen_dossier)
        .service(close_dossier)
        .service(get_dossier_history)
        .service(get_dossier_payments)
        .service(record_dossier_payment)
        .service(replace_dossier_payment_schedule)
        .service(get_final_report)
        .service(put_final_report)
        .service(accept_final_report)
        .service(request_final_report_changes)
        .service(list_dossier_attention)
        .service(clear_dossier_attention)
        .service(upload_document)
        .service(list_documents)
        .service(get_document)
        .service(download_document)
        .service(delete_document)
        .service(post_dossier_message)
        .service(list_dossier_messages)
        .service(post_dossier_note)
        .service(list_dossier_notes)
        .service(assign_dossier_reviewer)
        .service(list_dossier_reviews)
        .service(get_dossier_review)
        .service(score_dossier_review)
        .service(declare_review_conflict)
        .service(unassign_dossier_review);
}

/// Whether the caller sees unpublished programmes and their calls.
pub(crate) fn staff_sees(principal: &Principal) -> bool {
    may_grants(principal, GrantsAction::ManageProgrammes, None)
}

/// Managing programmes and calls: 401 anonymous, 403 but for staff.
pub(crate) fn manage(principal: &Principal) -> Result<(), ApiError> {
    if *principal == Principal::Anonymous {
        Err(ApiError::Unauthenticated)
    } else if staff_sees(principal) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// A unique violation when writing a programme: its code is another's.
pub(crate) fn code_taken(error: PersistenceError) -> ApiError {
    match error {
        PersistenceError::Conflict { .. } => GrantsProblem::ProgrammeCodeTaken.into(),
        other => other.into(),
    }
}

//! `/v1/changes`: the change feed. Every create, update and delete of the objects
//! followed (structures; productions, tours and performances as they arrive), in the
//! order the writes committed, each as the caller may see it. Writes record their
//! changes with `crate::changes` in their own transaction; this module only reads.

mod dto;
mod handlers;

use domain::access::{Principal, StructureAction, client_role, may};
use domain::changes::ChangedObject;
use persistence::changes::Reader;

pub use dto::*;
pub use handlers::*;

use crate::http::error::ApiError;
use crate::routes::structures::StructureView;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_changes);
}

/// Which changes a caller may see in full: those concerning a structure whose private
/// data the structures policy lets it read (staff: all; a member: those of its
/// structures, whatever its role; an API client: those it acts for with `read`).
fn reader_of(principal: &Principal) -> Reader {
    match principal {
        _ if may(principal, StructureAction::ReadPrivate, None) => Reader::Everything,
        Principal::Anonymous => Reader::Public,
        Principal::Account { id, .. } => Reader::Member(*id),
        Principal::Client {
            structures, scopes, ..
        } => Reader::RelatedTo(
            structures
                .iter()
                .copied()
                .filter(|s| {
                    may(
                        principal,
                        StructureAction::ReadPrivate,
                        client_role(structures, scopes, *s),
                    )
                })
                .collect(),
        ),
    }
}

/// The object of a change as the caller sees it: the full view kept in the log, or
/// its public part. Each type followed has its arm.
fn shown(
    object_type: ChangedObject,
    snapshot: &str,
    private: bool,
) -> Result<serde_json::Value, ApiError> {
    let corrupt = |e: serde_json::Error| ApiError::Internal(format!("{object_type} snapshot: {e}"));
    if private {
        return serde_json::from_str(snapshot).map_err(corrupt);
    }
    match object_type {
        ChangedObject::Structure => {
            let view: StructureView = serde_json::from_str(snapshot).map_err(corrupt)?;
            serde_json::to_value(view.redacted()).map_err(corrupt)
        }
        // Productions and tours have no private field.
        ChangedObject::Production | ChangedObject::Tour => {
            serde_json::from_str(snapshot).map_err(corrupt)
        }
        // A performance's fee is for its company, its venue and staff only.
        ChangedObject::Performance => {
            let mut view: serde_json::Value = serde_json::from_str(snapshot).map_err(corrupt)?;
            if let Some(fields) = view.as_object_mut() {
                fields.remove("fee_cents");
            }
            Ok(view)
        }
        // Never public: a dossier's changes are for its applicant and staff only, who
        // read the full view; anyone else learns nothing of it.
        ChangedObject::Dossier => Ok(serde_json::Value::Object(serde_json::Map::new())),
    }
}

#[cfg(test)]
mod tests {
    use domain::access::{AccountId, AgencyRole, MembershipRole};

    use super::*;

    #[test]
    fn every_membership_role_reads_private_data_as_the_member_reader_assumes() {
        let member = Principal::Account {
            id: AccountId::generate(),
            agency_role: None,
        };
        for role in MembershipRole::ALL {
            assert!(may(&member, StructureAction::ReadPrivate, Some(*role)));
        }
        assert!(!may(&member, StructureAction::ReadPrivate, None));
        assert_eq!(reader_of(&Principal::Anonymous), Reader::Public);
        let staff = Principal::Account {
            id: AccountId::generate(),
            agency_role: Some(AgencyRole::Staff),
        };
        assert_eq!(reader_of(&staff), Reader::Everything);
    }
}

//! `/v1/changes`: the change feed. Every create, update and delete of the objects
//! followed (structures; productions, tours and performances as they arrive), in the
//! order the writes committed, each as the caller may see it. Writes record their
//! changes with `crate::changes` in their own transaction; this module only reads.

mod dto;
mod handlers;

pub use dto::*;
pub use handlers::*;

use crate::changes::{reader_of, shown};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_changes);
}

#[cfg(test)]
mod tests {
    use domain::access::{AccountId, AgencyRole, MembershipRole, Principal, StructureAction, may};
    use persistence::changes::Reader;

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

//! The change log: what a follower of the change feed learns of each write, and what a
//! given caller may be told of it.

use crate::validation::FieldProblem;

string_enum!(
    /// The kind of object a change is about.
    ChangedObject {
        Structure = "structure",
        Production = "production",
        Tour = "tour",
        Performance = "performance",
        Dossier = "dossier",
    }
);

string_enum!(
    /// What happened to the object: `deleted` also when it left public view for good
    /// (an archived structure).
    ChangeAction {
        Created = "created",
        Updated = "updated",
        Deleted = "deleted",
    }
);

string_enum!(
    /// Why an object changed, when its action alone does not say it: the name of the
    /// event its webhooks carry (`payment.recorded`: a payment entered on a dossier,
    /// which changes the dossier).
    ChangeCause {
        PaymentRecorded = "payment.recorded",
    }
);

/// One change as recorded, seen from one caller: whether the object was public at
/// that version or at an earlier one, and whether the caller is related (may read
/// private data: a member or API client, staff) to a structure this version concerns,
/// or to one that an earlier version concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub action: ChangeAction,
    pub public: bool,
    pub was_public: bool,
    pub related_now: bool,
    pub related_before: bool,
}

/// What a caller is told of one change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    /// The object as it is after the change, with its private fields when `private`.
    Object { private: bool },
    /// `deleted`, without the object: the caller may not see this version but may
    /// hold an earlier one, which it must drop.
    Tombstone,
    /// Nothing: the caller could see neither this version nor any earlier one.
    Omitted,
}

/// The feed's rule. A caller sees a version that is public, or that concerns a
/// structure it is related to; it is told of a version it may not see by a tombstone
/// when it may have seen an earlier one, and not at all otherwise. So a follower that
/// applies every entry in order holds, for each object, exactly its last version the
/// caller may see, or nothing when the caller may not see the last one.
///
/// | action  | public | related now | was public or related before | disclosure          |
/// |---------|--------|-------------|------------------------------|---------------------|
/// | live    | yes    | no          | any                          | object, public part |
/// | live    | any    | yes         | any                          | object, in full     |
/// | live    | no     | no          | yes                          | tombstone           |
/// | live    | no     | no          | no                           | omitted             |
/// | deleted | -      | yes         | any                          | tombstone           |
/// | deleted | -      | no          | yes                          | tombstone           |
/// | deleted | -      | no          | no                           | omitted             |
pub fn disclose(seen: Seen) -> Disclosure {
    let live = seen.action != ChangeAction::Deleted;
    if live && (seen.public || seen.related_now) {
        Disclosure::Object {
            private: seen.related_now,
        }
    } else if seen.related_now || seen.was_public || seen.related_before {
        Disclosure::Tombstone
    } else {
        Disclosure::Omitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_of_the_rule() {
        use ChangeAction::*;
        use Disclosure::*;
        for action in ChangeAction::ALL {
            for bits in 0..16u8 {
                let seen = Seen {
                    action: *action,
                    public: bits & 1 != 0,
                    was_public: bits & 2 != 0,
                    related_now: bits & 4 != 0,
                    related_before: bits & 8 != 0,
                };
                let expected = match (action, seen.public, seen.related_now) {
                    (Created | Updated, _, true) => Object { private: true },
                    (Created | Updated, true, false) => Object { private: false },
                    _ if seen.related_now || seen.was_public || seen.related_before => Tombstone,
                    _ => Omitted,
                };
                assert_eq!(disclose(seen), expected, "{seen:?}");
            }
        }
    }

    #[test]
    fn an_object_that_leaves_public_view_becomes_a_tombstone_for_the_public() {
        let archived = Seen {
            action: ChangeAction::Deleted,
            public: false,
            was_public: true,
            related_now: false,
            related_before: false,
        };
        assert_eq!(disclose(archived), Disclosure::Tombstone);
        let never_shown = Seen {
            action: ChangeAction::Updated,
            was_public: false,
            ..archived
        };
        assert_eq!(disclose(never_shown), Disclosure::Omitted);
    }
}

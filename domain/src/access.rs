//! Accounts, roles and the access policy: who may do what to which object.
//!
//! The policy is a pure function of the principal, the action and the principal's
//! membership in the object's structure (read from the database on every request, so a
//! removed membership takes effect at once).

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use uuid::Uuid;

use crate::text::{self, compile};
use crate::validation::{FieldProblem, ValidationError};

/// Identifier of an account (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(Uuid);

impl AccountId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl FromStr for AccountId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

/// The same pattern as structures' emails: the contract states it.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| compile(crate::structures::EMAIL_PATTERN));

/// An email address, kept as typed and compared in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    as_typed: String,
}

impl Email {
    pub fn parse(value: &str) -> Result<Self, FieldProblem> {
        text::matching(
            value,
            &EMAIL,
            crate::structures::EMAIL_MAX,
            FieldProblem::Email,
        )
        .map(|as_typed| Self { as_typed })
    }

    /// The form accounts are looked up and kept unique by.
    pub fn normalized(&self) -> String {
        self.as_typed.to_lowercase()
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.as_typed
    }
}

/// Shortest and longest passwords. OWASP asks for at least 8 characters with
/// multi-factor authentication and 15 without; accounts here have a password only.
pub const PASSWORD_MIN: usize = 15;
pub const PASSWORD_MAX: usize = 128;
pub const DISPLAY_NAME_MAX: usize = 100;

/// A password that meets the length policy (no composition rules, as NIST advises).
pub fn check_password(password: &str) -> Result<(), FieldProblem> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        Err(FieldProblem::TooShort { min: PASSWORD_MIN })
    } else if length > PASSWORD_MAX {
        Err(FieldProblem::TooLong { max: PASSWORD_MAX })
    } else {
        Ok(())
    }
}

string_enum!(
    /// A role in the agency itself.
    AgencyRole {
        Admin = "admin",
        Staff = "staff",
        /// Membre de commission.
        Reviewer = "reviewer",
    }
);

string_enum!(
    AccountStatus {
        Active = "active",
        Disabled = "disabled",
    }
);

string_enum!(
    /// Who did something recorded in the audit log.
    ActorKind {
        Account = "account",
        Client = "client",
        Anonymous = "anonymous",
    }
);

string_enum!(
    /// A member's role in a structure.
    MembershipRole {
        Owner = "owner",
        Editor = "editor",
        Viewer = "viewer",
    }
);

/// An account whose fields have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub email: Email,
    pub display_name: String,
}

impl NewAccount {
    pub fn parse(email: &str, display_name: &str, password: &str) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let email = errors.check("email", Email::parse(email));
        let display_name = errors.check(
            "display_name",
            text::single_line(display_name, DISPLAY_NAME_MAX),
        );
        errors.check("password", check_password(password));
        errors.into_result()?;
        match (email, display_name) {
            (Some(email), Some(display_name)) => Ok(Self {
                email,
                display_name,
            }),
            _ => Err(ValidationError::single("email", FieldProblem::Required)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub email: Email,
    pub display_name: String,
    pub status: AccountStatus,
    pub agency_role: Option<AgencyRole>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// Moves on whenever every sign-in must end (a password reset): access tokens carry
    /// the epoch they were issued in, and one from an older epoch no longer works.
    pub session_epoch: i64,
}

string_enum!(
    /// What an API client may do for its structures.
    Scope {
        /// Read the private data of its structures.
        Read = "read",
        /// Edit its structures' profiles.
        StructuresWrite = "structures:write",
        /// Push productions, tours and performances (arrives with programming).
        ProgrammingWrite = "programming:write",
        /// File and follow dossiers (arrives with grant programmes).
        DossiersWrite = "dossiers:write",
    }
);

/// Identifier of an API client (its `client_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(Uuid);

impl ClientId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl FromStr for ClientId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    Account {
        id: AccountId,
        agency_role: Option<AgencyRole>,
    },
    /// A partner system or script, acting for its structures within its scopes.
    Client {
        id: ClientId,
        structures: Vec<crate::StructureId>,
        scopes: Vec<Scope>,
    },
}

impl Principal {
    /// Agency staff or administrator.
    pub fn is_staff(&self) -> bool {
        matches!(
            self,
            Self::Account {
                agency_role: Some(AgencyRole::Admin | AgencyRole::Staff),
                ..
            }
        )
    }
}

/// What may be done to a structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StructureAction {
    /// Name, kind, disciplines, commune, website: open to everyone.
    ReadPublic,
    /// Everything else: SIRET, licences, street, email, phone.
    ReadPrivate,
    Create,
    Update,
    Archive,
    /// Who the members are, and pending requests to join.
    ReadMembers,
    /// Invite, change and remove members; answer requests to join.
    ManageMembers,
}

/// The policy for structures, given the principal's membership in the structure.
///
/// | action       | anonymous | signed in | viewer | editor | owner | staff, admin |
/// |--------------|-----------|-----------|--------|--------|-------|--------------|
/// | read public  | yes       | yes       | yes    | yes    | yes   | yes          |
/// | read private | no        | no        | yes    | yes    | yes   | yes          |
/// | create       | no        | yes       | yes    | yes    | yes   | yes          |
/// | update       | no        | no        | no     | yes    | yes   | yes          |
/// | archive      | no        | no        | no     | no     | yes   | yes          |
/// | read members | no        | no        | yes    | yes    | yes   | yes          |
/// | manage them  | no        | no        | no     | no     | yes   | yes          |
pub fn may(
    principal: &Principal,
    action: StructureAction,
    membership: Option<MembershipRole>,
) -> bool {
    use MembershipRole::*;
    use StructureAction::*;
    if action == ReadPublic {
        return true;
    }
    if *principal == Principal::Anonymous {
        return false;
    }
    if principal.is_staff() {
        return true;
    }
    if let Principal::Client { .. } = principal {
        // A client's "membership" comes from its scopes (see `client_role`); it never
        // creates, archives, or manages members.
        return match action {
            ReadPublic => true,
            ReadPrivate => membership.is_some(),
            Update => membership == Some(Editor),
            Create | Archive | ReadMembers | ManageMembers => false,
        };
    }
    match action {
        ReadPublic | Create => true,
        ReadPrivate | ReadMembers => membership.is_some(),
        Update => matches!(membership, Some(Owner | Editor)),
        Archive | ManageMembers => membership == Some(Owner),
    }
}

/// What may be done to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    List,
    Read,
    Rename,
    /// Enable or disable.
    SetStatus,
    /// Give or take an agency role.
    SetRole,
    /// Make a password reset token.
    ResetPassword,
}

/// The policy for accounts. Staff manage members' accounts and read everyone's;
/// administrators also manage agency accounts and roles; nobody changes their own
/// status or role (the agency cannot lock itself out); clients never touch accounts.
///
/// | action         | own account | other member | other staff | an admin (as staff) | as admin |
/// |----------------|-------------|--------------|-------------|---------------------|----------|
/// | list           | staff only  |              |             |                     |          |
/// | read, rename   | yes         | staff        | staff       | read only           | yes      |
/// | status         | no          | staff        | staff       | no                  | yes      |
/// | role           | no          | admin        | admin       | no                  | yes      |
/// | reset password | staff       | staff        | staff       | no                  | yes      |
pub fn may_on_account(
    principal: &Principal,
    action: AccountAction,
    target: AccountId,
    target_role: Option<AgencyRole>,
) -> bool {
    use AccountAction::*;
    let Principal::Account { id, agency_role } = principal else {
        return false;
    };
    let own = *id == target;
    let staff = principal.is_staff();
    let admin = *agency_role == Some(AgencyRole::Admin);
    // Staff do not act on administrators; administrators act on anyone.
    let outranks = admin || target_role != Some(AgencyRole::Admin);
    match action {
        List => staff,
        Read => own || staff,
        Rename => own || (staff && outranks),
        SetStatus => !own && staff && outranks,
        SetRole => !own && admin,
        ResetPassword => staff && outranks,
    }
}

/// Who reads the audit log: agency staff and administrators.
pub fn may_read_audit_log(principal: &Principal) -> bool {
    principal.is_staff()
}

/// Who manages an API client: the account that made it, and agency staff.
pub fn may_manage_client(principal: &Principal, made_by: AccountId) -> bool {
    principal.is_staff() || matches!(principal, Principal::Account { id, .. } if *id == made_by)
}

/// The role a client holds in `structure`: editor with `structures:write`, viewer with
/// `read`, none for a structure it does not act for.
pub fn client_role(
    structures: &[crate::StructureId],
    scopes: &[Scope],
    structure: crate::StructureId,
) -> Option<MembershipRole> {
    if !structures.contains(&structure) {
        None
    } else if scopes.contains(&Scope::StructuresWrite) {
        Some(MembershipRole::Editor)
    } else if scopes.contains(&Scope::Read) {
        Some(MembershipRole::Viewer)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(role: Option<AgencyRole>) -> Principal {
        Principal::Account {
            id: AccountId::generate(),
            agency_role: role,
        }
    }

    /// Every cell of the table in `may`'s documentation.
    #[test]
    fn the_structure_policy_is_the_documented_table() {
        use StructureAction::*;
        let anonymous = (Principal::Anonymous, None);
        let signed_in = (account(None), None);
        let viewer = (account(None), Some(MembershipRole::Viewer));
        let editor = (account(None), Some(MembershipRole::Editor));
        let owner = (account(None), Some(MembershipRole::Owner));
        let reviewer = (account(Some(AgencyRole::Reviewer)), None);
        let staff = (account(Some(AgencyRole::Staff)), None);
        let admin = (account(Some(AgencyRole::Admin)), None);
        let columns = [
            &anonymous, &signed_in, &viewer, &editor, &owner, &reviewer, &staff, &admin,
        ];
        let table: [(StructureAction, [bool; 8]); 7] = [
            (ReadPublic, [true, true, true, true, true, true, true, true]),
            (
                ReadPrivate,
                [false, false, true, true, true, false, true, true],
            ),
            (Create, [false, true, true, true, true, true, true, true]),
            (Update, [false, false, false, true, true, false, true, true]),
            (
                Archive,
                [false, false, false, false, true, false, true, true],
            ),
            (
                ReadMembers,
                [false, false, true, true, true, false, true, true],
            ),
            (
                ManageMembers,
                [false, false, false, false, true, false, true, true],
            ),
        ];
        for (action, expected) in table {
            for (column, allowed) in columns.iter().zip(expected) {
                assert_eq!(
                    may(&column.0, action, column.1),
                    allowed,
                    "{action:?} for {column:?}"
                );
            }
        }
    }

    #[test]
    fn a_client_acts_for_its_structures_within_its_scopes() {
        use StructureAction::*;
        let own = crate::StructureId::generate();
        let foreign = crate::StructureId::generate();
        let client = |scopes: Vec<Scope>| Principal::Client {
            id: ClientId::generate(),
            structures: vec![own],
            scopes,
        };
        let writer = client(vec![Scope::StructuresWrite]);
        let reader = client(vec![Scope::Read]);
        let role = |p: &Principal, s| match p {
            Principal::Client {
                structures, scopes, ..
            } => client_role(structures, scopes, s),
            _ => None,
        };
        assert!(may(&writer, Update, role(&writer, own)));
        assert!(may(&writer, ReadPrivate, role(&writer, own)));
        assert!(!may(&writer, Update, role(&writer, foreign)));
        assert!(!may(&writer, ReadPrivate, role(&writer, foreign)));
        assert!(may(&reader, ReadPrivate, role(&reader, own)));
        assert!(!may(&reader, Update, role(&reader, own)));
        for action in [Create, Archive, ReadMembers, ManageMembers] {
            assert!(!may(&writer, action, role(&writer, own)), "{action:?}");
        }
        let programming_only = client(vec![Scope::ProgrammingWrite]);
        assert!(!may(
            &programming_only,
            ReadPrivate,
            role(&programming_only, own)
        ));
    }

    #[test]
    fn the_account_policy_is_the_documented_table() {
        use AccountAction::*;
        let member = AccountId::generate();
        let other = AccountId::generate();
        let staff_id = AccountId::generate();
        let admin_id = AccountId::generate();
        let as_member = Principal::Account {
            id: member,
            agency_role: None,
        };
        let as_staff = Principal::Account {
            id: staff_id,
            agency_role: Some(AgencyRole::Staff),
        };
        let as_admin = Principal::Account {
            id: admin_id,
            agency_role: Some(AgencyRole::Admin),
        };
        let staff_role = Some(AgencyRole::Staff);
        let admin_role = Some(AgencyRole::Admin);

        assert!(!may_on_account(&as_member, List, member, None));
        assert!(may_on_account(&as_staff, List, staff_id, staff_role));
        assert!(may_on_account(&as_member, Read, member, None));
        assert!(may_on_account(&as_member, Rename, member, None));
        assert!(!may_on_account(&as_member, Read, other, None));
        for action in [SetStatus, SetRole] {
            assert!(
                !may_on_account(&as_member, action, member, None),
                "{action:?}"
            );
            assert!(
                !may_on_account(&as_staff, action, staff_id, staff_role),
                "{action:?}"
            );
            assert!(
                !may_on_account(&as_admin, action, admin_id, admin_role),
                "{action:?}"
            );
        }
        assert!(may_on_account(&as_staff, SetStatus, member, None));
        assert!(!may_on_account(&as_staff, SetRole, member, None));
        assert!(may_on_account(&as_admin, SetRole, member, None));
        assert!(may_on_account(&as_staff, Read, admin_id, admin_role));
        for action in [Rename, SetStatus, ResetPassword] {
            assert!(
                !may_on_account(&as_staff, action, admin_id, admin_role),
                "{action:?}"
            );
            assert!(
                may_on_account(&as_admin, action, staff_id, staff_role),
                "{action:?}"
            );
        }
        let client = Principal::Client {
            id: ClientId::generate(),
            structures: vec![],
            scopes: vec![Scope::Read],
        };
        assert!(!may_on_account(&client, Read, member, None));
        assert!(!may_read_audit_log(&as_member) && may_read_audit_log(&as_staff));
        assert!(may_manage_client(&as_member, member) && !may_manage_client(&as_member, other));
        assert!(may_manage_client(&as_staff, other) && !may_manage_client(&client, member));
    }

    #[test]
    fn emails_compare_case_insensitively() {
        let email = Email::parse("Claire.Dupont@Example.ORG").unwrap();
        assert_eq!(email.as_ref(), "Claire.Dupont@Example.ORG");
        assert_eq!(email.normalized(), "claire.dupont@example.org");
    }

    #[test]
    fn passwords_follow_the_length_policy() {
        assert_eq!(
            check_password("short"),
            Err(FieldProblem::TooShort { min: PASSWORD_MIN })
        );
        assert!(check_password("correct horse battery").is_ok());
        // The bounds themselves are allowed, counted in characters, not bytes.
        assert_eq!(check_password(&"é".repeat(PASSWORD_MIN)), Ok(()));
        assert_eq!(
            check_password(&"é".repeat(PASSWORD_MIN - 1)),
            Err(FieldProblem::TooShort { min: PASSWORD_MIN })
        );
        assert_eq!(check_password(&"é".repeat(PASSWORD_MAX)), Ok(()));
        assert_eq!(
            check_password(&"x".repeat(PASSWORD_MAX + 1)),
            Err(FieldProblem::TooLong { max: PASSWORD_MAX })
        );
    }

    #[test]
    fn a_new_account_reports_every_bad_field() {
        let error = NewAccount::parse("nope", " ", "short").unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "display_name", "password"]);
    }
}

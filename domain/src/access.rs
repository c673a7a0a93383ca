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
        /// The server itself (a webhook disabled after its endpoint failed).
        System = "system",
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
    /// French unless the holder chose English.
    pub language: crate::mail::Language,
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
                language: crate::mail::Language::default(),
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
    /// The language of the mails it receives.
    pub language: crate::mail::Language,
    /// When its holder proved the email theirs (the link mailed at sign-up).
    pub email_verified_at: Option<DateTime<Utc>>,
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

/// The account answerable for an API client (its maker, or the owner who took it over),
/// as it stands now: the client never acts beyond what this account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientMaker {
    pub id: AccountId,
    pub status: AccountStatus,
    pub agency_role: Option<AgencyRole>,
}

/// One structure an API client was made for, with its maker's role there now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientStructure {
    pub structure: crate::StructureId,
    pub maker_role: Option<MembershipRole>,
}

/// Whether an API client may act, and for which of its structures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientStanding {
    /// It acts for these of its structures (never an empty list).
    Active {
        acts_for: Vec<crate::StructureId>,
    },
    /// Its maker is disabled, or owns none of its structures any more: no tokens, no
    /// requests, until an owner of all its structures takes it over.
    Suspended,
    Revoked,
}

/// What an API client may do now, decided again at every request and token grant.
///
/// | maker                    | structure the maker owns | any other structure of it |
/// |--------------------------|--------------------------|---------------------------|
/// | active member, reviewer  | acts                     | does not act              |
/// | active staff, admin      | acts                     | acts                      |
/// | disabled                 | suspended                | suspended                 |
///
/// A client that acts for none of its structures is suspended; a revoked one stays
/// revoked.
pub fn client_standing(
    revoked: bool,
    maker: &ClientMaker,
    structures: &[ClientStructure],
) -> ClientStanding {
    if revoked {
        return ClientStanding::Revoked;
    }
    if maker.status != AccountStatus::Active {
        return ClientStanding::Suspended;
    }
    let staff = matches!(
        maker.agency_role,
        Some(AgencyRole::Admin | AgencyRole::Staff)
    );
    let acts_for: Vec<_> = structures
        .iter()
        .filter(|s| staff || s.maker_role == Some(MembershipRole::Owner))
        .map(|s| s.structure)
        .collect();
    if acts_for.is_empty() {
        ClientStanding::Suspended
    } else {
        ClientStanding::Active { acts_for }
    }
}

/// How an account stands towards an API client's structures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientStake {
    /// Owns none of them (whether or not it made the client).
    None,
    /// Owns some of them, not all.
    OwnsSome,
    /// Owns every one of them.
    OwnsAll,
}

impl ClientStake {
    /// The stake of an account that owns `owned` of a client's `total` structures.
    pub fn of(owned: usize, total: usize) -> Self {
        if owned == 0 {
            Self::None
        } else if owned < total {
            Self::OwnsSome
        } else {
            Self::OwnsAll
        }
    }
}

/// What may be done to an API client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAction {
    /// See it, in lists and by id.
    Read,
    Revoke,
    /// Get a new secret, and with it the client's powers.
    RotateSecret,
    /// Become the account answerable for it (which lifts a suspension).
    TakeOver,
}

/// The policy for API clients: a client belongs to the structures it acts for, so their
/// owners and agency staff manage it, and its maker only while an owner. Whoever gets
/// its secret or answers for it owns every one of its structures, so that nobody gains
/// through a client a power over a structure they do not own.
///
/// | action        | no stake | owns some | owns all | staff, admin |
/// |---------------|----------|-----------|----------|--------------|
/// | read          | no       | yes       | yes      | yes          |
/// | revoke        | no       | yes       | yes      | yes          |
/// | rotate secret | no       | no        | yes      | yes          |
/// | take over     | no       | no        | yes      | yes          |
///
/// Anonymous callers and API clients manage no API client.
pub fn may_on_client(principal: &Principal, action: ClientAction, stake: ClientStake) -> bool {
    use ClientAction::*;
    if !matches!(principal, Principal::Account { .. }) {
        return false;
    }
    if principal.is_staff() {
        return true;
    }
    match action {
        Read | Revoke => stake != ClientStake::None,
        RotateSecret | TakeOver => stake == ClientStake::OwnsAll,
    }
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

/// What may be done to programming data: productions, their tours and performances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgrammingAction {
    /// Published productions and performances, and the tours of a readable production.
    ReadPublished,
    /// Unpublished ones.
    ReadUnpublished,
    /// A performance's fee (prix de cession).
    ReadFee,
    /// Create, edit and delete.
    Write,
}

/// The policy for programming data, given the principal's role in the structure the item
/// belongs to (for a performance, the stronger of its roles in the production's structure
/// and in the venue structure). API clients hold the role [`programming_role`] gives them.
///
/// | action           | anonymous | signed in | viewer | editor | owner | reviewer | staff, admin |
/// |------------------|-----------|-----------|--------|--------|-------|----------|--------------|
/// | read published   | yes       | yes       | yes    | yes    | yes   | yes      | yes          |
/// | read unpublished | no        | no        | yes    | yes    | yes   | yes      | yes          |
/// | read fee         | no        | no        | yes    | yes    | yes   | no       | yes          |
/// | write            | no        | no        | no     | yes    | yes   | no       | yes          |
pub fn may_program(
    principal: &Principal,
    action: ProgrammingAction,
    role: Option<MembershipRole>,
) -> bool {
    use MembershipRole::*;
    use ProgrammingAction::*;
    if action == ReadPublished {
        return true;
    }
    if principal.is_staff() {
        return true;
    }
    let reviewer = matches!(
        principal,
        Principal::Account {
            agency_role: Some(AgencyRole::Reviewer),
            ..
        }
    );
    match action {
        ReadPublished => true,
        ReadUnpublished => role.is_some() || reviewer,
        ReadFee => role.is_some(),
        Write => matches!(role, Some(Owner | Editor)),
    }
}

/// The role an API client holds in `structure` for programming data: editor with
/// `programming:write`, viewer with `read` or `structures:write` (it reads the
/// structure's private data already), none for a structure it does not act for.
pub fn programming_role(
    structures: &[crate::StructureId],
    scopes: &[Scope],
    structure: crate::StructureId,
) -> Option<MembershipRole> {
    if !structures.contains(&structure) {
        None
    } else if scopes.contains(&Scope::ProgrammingWrite) {
        Some(MembershipRole::Editor)
    } else if scopes.contains(&Scope::Read) || scopes.contains(&Scope::StructuresWrite) {
        Some(MembershipRole::Viewer)
    } else {
        None
    }
}

/// The stronger of two roles (owner, then editor, then viewer).
pub fn stronger(a: Option<MembershipRole>, b: Option<MembershipRole>) -> Option<MembershipRole> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// What one may do with grants. Programmes and calls are the agency's: staff write
/// them, everyone reads the published ones. A dossier is its applicant structure's:
/// its members (any role) and API clients read it, owners and editors and clients with
/// `dossiers:write` file and edit it; staff read and instruct every dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantsAction {
    /// Create and change programmes and calls; read unpublished ones.
    ManageProgrammes,
    ReadDossier,
    /// File a dossier for the structure, edit it, submit or withdraw it.
    WriteDossier,
    /// The agency's side of a dossier's life: review, decide, close.
    Instruct,
}

/// Whether `principal`, holding `role` in a dossier's applicant structure (see
/// [`dossier_role`] for API clients), may do `action`.
pub fn may_grants(
    principal: &Principal,
    action: GrantsAction,
    role: Option<MembershipRole>,
) -> bool {
    use GrantsAction::*;
    use MembershipRole::*;
    let staff = principal.is_staff();
    match action {
        ManageProgrammes | Instruct => staff,
        ReadDossier => staff || role.is_some(),
        WriteDossier => matches!(role, Some(Owner | Editor)),
    }
}

/// Where a committee reviewer stands on one dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewerStanding {
    /// Staff assigned the dossier to them (scored or not).
    Assigned,
    /// They declared a conflict of interest on it.
    Conflicted,
}

/// Whether `principal` reads a dossier as its reviewer: an account with the agency role
/// `reviewer` assigned to it, as long as it declared no conflict of interest. It reads
/// the dossier, its history and its messages, and its own review; never the notes,
/// nor other reviews.
///
/// | principal                       | not assigned | assigned | conflicted |
/// |---------------------------------|--------------|----------|------------|
/// | reviewer                        | no           | yes      | no         |
/// | anyone else (staff included)    | no           | no       | no         |
///
/// (Staff read every dossier by [`may_grants`] anyway.)
pub fn reads_as_reviewer(principal: &Principal, standing: Option<ReviewerStanding>) -> bool {
    matches!(
        principal,
        Principal::Account {
            agency_role: Some(AgencyRole::Reviewer),
            ..
        }
    ) && standing == Some(ReviewerStanding::Assigned)
}

/// The role an API client acting for `structures` with `scopes` holds in `structure`
/// for its dossiers: an editor with `dossiers:write`, a reader with any other scope.
pub fn dossier_role(
    structures: &[crate::StructureId],
    scopes: &[Scope],
    structure: crate::StructureId,
) -> Option<MembershipRole> {
    if !structures.contains(&structure) {
        None
    } else if scopes.contains(&Scope::DossiersWrite) {
        Some(MembershipRole::Editor)
    } else if scopes.is_empty() {
        None
    } else {
        Some(MembershipRole::Viewer)
    }
}

/// What may be done about webhook subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAction {
    /// Subscribe to the events of a structure (given the principal's role in it).
    Subscribe,
    /// See a subscription and its deliveries (given whether the principal made it).
    Read,
    /// Edit, delete, rotate its secret, ping, replay.
    Manage,
}

/// The policy for webhook subscriptions. A subscription belongs to whoever made it (an
/// account or an API client) and is told what its maker may read; it concerns
/// structures its maker owns (an account) or acts for with `read` or
/// `structures:write` (an API client: [`client_role`] gives it a role there). Staff
/// subscribe for any structure and manage every subscription. Another caller's
/// subscription is not found.
///
/// `role` is the principal's role in the structure for `Subscribe`; `made_it` whether
/// the principal made the subscription for `Read` and `Manage`.
///
/// | action    | anonymous | account: owner of it / maker | account: other role / not maker | client: with a role / maker | client: none / not maker | staff, admin |
/// |-----------|-----------|------------------------------|---------------------------------|-----------------------------|--------------------------|--------------|
/// | subscribe | no        | yes                          | no                              | yes                         | no                       | yes          |
/// | read      | no        | yes                          | no                              | yes                         | no                       | yes          |
/// | manage    | no        | yes                          | no                              | yes                         | no                       | yes          |
pub fn may_on_webhook(
    principal: &Principal,
    action: WebhookAction,
    role: Option<MembershipRole>,
    made_it: bool,
) -> bool {
    if principal.is_staff() {
        return true;
    }
    match (principal, action) {
        (Principal::Anonymous, _) => false,
        (Principal::Account { .. }, WebhookAction::Subscribe) => {
            role == Some(MembershipRole::Owner)
        }
        (Principal::Client { .. }, WebhookAction::Subscribe) => role.is_some(),
        (_, WebhookAction::Read | WebhookAction::Manage) => made_it,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhooks_policy_is_the_documented_table() {
        use MembershipRole::*;
        use WebhookAction::*;
        let account = |agency_role| Principal::Account {
            id: AccountId::generate(),
            agency_role,
        };
        let client = Principal::Client {
            id: ClientId::generate(),
            structures: vec![],
            scopes: vec![Scope::Read],
        };
        let member = account(None);
        let reviewer = account(Some(AgencyRole::Reviewer));
        let staff = account(Some(AgencyRole::Staff));
        let admin = account(Some(AgencyRole::Admin));
        // (principal, role or made it, [Subscribe, Read, Manage])
        let roles = [None, Some(Viewer), Some(Editor), Some(Owner)];
        for principal in [
            &Principal::Anonymous,
            &member,
            &reviewer,
            &client,
            &staff,
            &admin,
        ] {
            for role in roles {
                for made_it in [false, true] {
                    let staff_like = principal.is_staff();
                    let expected_subscribe = staff_like
                        || match principal {
                            Principal::Account { .. } => role == Some(Owner),
                            Principal::Client { .. } => role.is_some(),
                            Principal::Anonymous => false,
                        };
                    let expected_own =
                        staff_like || (made_it && *principal != Principal::Anonymous);
                    for (action, expected) in [
                        (Subscribe, expected_subscribe),
                        (Read, expected_own),
                        (Manage, expected_own),
                    ] {
                        assert_eq!(
                            may_on_webhook(principal, action, role, made_it),
                            expected,
                            "{principal:?} {action:?} {role:?} made it: {made_it}"
                        );
                    }
                }
            }
        }
        // The rows of the table, spelt out.
        assert!(!may_on_webhook(
            &Principal::Anonymous,
            Subscribe,
            Some(Owner),
            true
        ));
        assert!(may_on_webhook(&member, Subscribe, Some(Owner), false));
        assert!(!may_on_webhook(&member, Subscribe, Some(Editor), false));
        assert!(!may_on_webhook(&member, Read, Some(Owner), false));
        assert!(may_on_webhook(&client, Subscribe, Some(Viewer), false));
        assert!(!may_on_webhook(&client, Subscribe, None, false));
        assert!(may_on_webhook(&client, Manage, None, true));
        assert!(may_on_webhook(&staff, Manage, None, false));
        assert!(!may_on_webhook(&reviewer, Subscribe, None, false));
    }

    #[test]
    fn the_grants_policy_is_the_documented_table() {
        use GrantsAction::*;
        use MembershipRole::*;
        let account = |agency_role| Principal::Account {
            id: AccountId::generate(),
            agency_role,
        };
        let staff = account(Some(AgencyRole::Staff));
        let admin = account(Some(AgencyRole::Admin));
        let reviewer = account(Some(AgencyRole::Reviewer));
        let member = account(None);
        // (principal, role, [ManageProgrammes, ReadDossier, WriteDossier, Instruct])
        let rows: [(&Principal, Option<MembershipRole>, [bool; 4]); 9] = [
            (&Principal::Anonymous, None, [false, false, false, false]),
            (&member, None, [false, false, false, false]),
            (&member, Some(Viewer), [false, true, false, false]),
            (&member, Some(Editor), [false, true, true, false]),
            (&member, Some(Owner), [false, true, true, false]),
            (&reviewer, None, [false, false, false, false]),
            (&staff, None, [true, true, false, true]),
            (&admin, None, [true, true, false, true]),
            (&staff, Some(Owner), [true, true, true, true]),
        ];
        for (principal, role, expected) in rows {
            for (action, allowed) in [ManageProgrammes, ReadDossier, WriteDossier, Instruct]
                .into_iter()
                .zip(expected)
            {
                assert_eq!(
                    may_grants(principal, action, role),
                    allowed,
                    "{principal:?} {role:?} {action:?}"
                );
            }
        }
        let s = crate::StructureId::generate();
        assert_eq!(dossier_role(&[s], &[Scope::DossiersWrite], s), Some(Editor));
        assert_eq!(dossier_role(&[s], &[Scope::Read], s), Some(Viewer));
        assert_eq!(dossier_role(&[], &[Scope::DossiersWrite], s), None);
    }

    #[test]
    fn a_reviewer_reads_an_assigned_dossier_until_a_conflict_is_declared() {
        use ReviewerStanding::*;
        let account = |agency_role| Principal::Account {
            id: AccountId::generate(),
            agency_role,
        };
        let client = Principal::Client {
            id: ClientId::generate(),
            structures: vec![],
            scopes: vec![Scope::Read],
        };
        // (principal, [not assigned, assigned, conflicted])
        let rows: [(Principal, [bool; 3]); 6] = [
            (account(Some(AgencyRole::Reviewer)), [false, true, false]),
            (Principal::Anonymous, [false, false, false]),
            (account(None), [false, false, false]),
            (account(Some(AgencyRole::Staff)), [false, false, false]),
            (account(Some(AgencyRole::Admin)), [false, false, false]),
            (client, [false, false, false]),
        ];
        for (principal, expected) in rows {
            for (standing, reads) in [None, Some(Assigned), Some(Conflicted)]
                .into_iter()
                .zip(expected)
            {
                assert_eq!(
                    reads_as_reviewer(&principal, standing),
                    reads,
                    "{principal:?} {standing:?}"
                );
            }
        }
    }

    /// Every cell of the table in `may_program`'s documentation.
    #[test]
    fn the_programming_policy_is_the_documented_table() {
        use ProgrammingAction::*;
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
        let table: [(ProgrammingAction, [bool; 8]); 4] = [
            (ReadPublished, [true; 8]),
            (
                ReadUnpublished,
                [false, false, true, true, true, true, true, true],
            ),
            (ReadFee, [false, false, true, true, true, false, true, true]),
            (Write, [false, false, false, true, true, false, true, true]),
        ];
        for (action, expected) in table {
            for (column, allowed) in columns.iter().zip(expected) {
                assert_eq!(
                    may_program(&column.0, action, column.1),
                    allowed,
                    "{action:?} for {column:?}"
                );
            }
        }
    }

    #[test]
    fn a_client_programs_for_its_structures_with_programming_write() {
        use ProgrammingAction::*;
        let own = crate::StructureId::generate();
        let foreign = crate::StructureId::generate();
        let client = |scopes: Vec<Scope>| Principal::Client {
            id: ClientId::generate(),
            structures: vec![own],
            scopes,
        };
        let cases = [
            (vec![Scope::ProgrammingWrite], [true, true, true]),
            (vec![Scope::Read], [true, true, false]),
            (vec![Scope::StructuresWrite], [true, true, false]),
            (vec![Scope::DossiersWrite], [false, false, false]),
        ];
        for (scopes, [unpublished, fee, write]) in cases {
            let principal = client(scopes.clone());
            let role = programming_role(&[own], &scopes, own);
            assert_eq!(may_program(&principal, ReadUnpublished, role), unpublished);
            assert_eq!(may_program(&principal, ReadFee, role), fee);
            assert_eq!(may_program(&principal, Write, role), write, "{scopes:?}");
            let elsewhere = programming_role(&[own], &scopes, foreign);
            assert_eq!(elsewhere, None);
            for action in [ReadUnpublished, ReadFee, Write] {
                assert!(!may_program(&principal, action, elsewhere));
            }
        }
    }

    #[test]
    fn the_stronger_role_wins() {
        use MembershipRole::*;
        assert_eq!(stronger(Some(Viewer), Some(Editor)), Some(Editor));
        assert_eq!(stronger(Some(Owner), Some(Viewer)), Some(Owner));
        assert_eq!(stronger(None, Some(Viewer)), Some(Viewer));
        assert_eq!(stronger(Some(Editor), None), Some(Editor));
        assert_eq!(stronger(None, None), None);
    }

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
    }

    /// Every cell of the table in `may_on_client`'s documentation.
    #[test]
    fn the_api_client_policy_is_the_documented_table() {
        use ClientAction::*;
        use ClientStake::{OwnsAll, OwnsSome};
        let member = account(None);
        let reviewer = account(Some(AgencyRole::Reviewer));
        let staff = account(Some(AgencyRole::Staff));
        let admin = account(Some(AgencyRole::Admin));
        let table: [(ClientAction, [bool; 4]); 4] = [
            (Read, [false, true, true, true]),
            (Revoke, [false, true, true, true]),
            (RotateSecret, [false, false, true, true]),
            (TakeOver, [false, false, true, true]),
        ];
        for (action, expected) in table {
            let stakes = [ClientStake::None, OwnsSome, OwnsAll];
            for (stake, allowed) in stakes.iter().zip(expected) {
                for person in [&member, &reviewer] {
                    assert_eq!(
                        may_on_client(person, action, *stake),
                        allowed,
                        "{action:?} for {person:?} with {stake:?}"
                    );
                }
            }
            for agency in [&staff, &admin] {
                for stake in stakes {
                    assert_eq!(
                        may_on_client(agency, action, stake),
                        expected[3],
                        "{action:?} for {agency:?} with {stake:?}"
                    );
                }
            }
            let client = Principal::Client {
                id: ClientId::generate(),
                structures: vec![],
                scopes: vec![Scope::Read],
            };
            for stake in stakes {
                assert!(!may_on_client(&Principal::Anonymous, action, stake));
                assert!(!may_on_client(&client, action, stake));
            }
        }
    }

    #[test]
    fn a_stake_counts_owned_structures() {
        assert_eq!(ClientStake::of(0, 2), ClientStake::None);
        assert_eq!(ClientStake::of(1, 2), ClientStake::OwnsSome);
        assert_eq!(ClientStake::of(2, 2), ClientStake::OwnsAll);
    }

    /// Every cell of the table in `client_standing`'s documentation.
    #[test]
    fn a_client_acts_only_where_its_maker_may_still_act() {
        let owned = crate::StructureId::generate();
        let edited = crate::StructureId::generate();
        let left = crate::StructureId::generate();
        let structures = [
            ClientStructure {
                structure: owned,
                maker_role: Some(MembershipRole::Owner),
            },
            ClientStructure {
                structure: edited,
                maker_role: Some(MembershipRole::Editor),
            },
            ClientStructure {
                structure: left,
                maker_role: None,
            },
        ];
        let maker = |status, agency_role| ClientMaker {
            id: AccountId::generate(),
            status,
            agency_role,
        };
        use AccountStatus::*;
        for role in [None, Some(AgencyRole::Reviewer)] {
            assert_eq!(
                client_standing(false, &maker(Active, role), &structures),
                ClientStanding::Active {
                    acts_for: vec![owned]
                }
            );
        }
        for role in [Some(AgencyRole::Staff), Some(AgencyRole::Admin)] {
            assert_eq!(
                client_standing(false, &maker(Active, role), &structures),
                ClientStanding::Active {
                    acts_for: vec![owned, edited, left]
                }
            );
        }
        for role in [
            None,
            Some(AgencyRole::Reviewer),
            Some(AgencyRole::Staff),
            Some(AgencyRole::Admin),
        ] {
            assert_eq!(
                client_standing(false, &maker(Disabled, role), &structures),
                ClientStanding::Suspended
            );
            assert_eq!(
                client_standing(true, &maker(Active, role), &structures),
                ClientStanding::Revoked
            );
        }
        // A maker who owns none of them any more: suspended, not acting for nothing.
        assert_eq!(
            client_standing(false, &maker(Active, None), &structures[1..]),
            ClientStanding::Suspended
        );
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

//! Wire types of members and requests to join.

use chrono::{DateTime, Utc};
use domain::access::MembershipRole;
use persistence::structures::join_requests::JoinRequest;
use persistence::structures::memberships::Member;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums;
use crate::http::pagination::Page;

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub account_id: uuid::Uuid,
    #[schema(example = "claire@compagnie.example")]
    pub email: String,
    #[schema(example = "Claire Dupont")]
    pub display_name: String,
    #[schema(value_type = enums::MembershipRole)]
    pub role: MembershipRole,
    pub since: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(member: Member) -> Self {
        Self {
            account_id: member.account.as_uuid(),
            email: member.email,
            display_name: member.display_name,
            role: member.role,
            since: member.since,
        }
    }
}

/// The members of a structure (a handful: one page holds them all).
pub type MemberPage = Page<MemberView>;

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestView {
    pub account_id: uuid::Uuid,
    pub email: String,
    pub display_name: String,
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<JoinRequest> for JoinRequestView {
    fn from(request: JoinRequest) -> Self {
        Self {
            account_id: request.account.as_uuid(),
            email: request.email,
            display_name: request.display_name,
            message: request.message,
            created_at: request.created_at,
        }
    }
}

/// Pending requests to join (one page holds them all).
pub type JoinRequestPage = Page<JoinRequestView>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeMember {
    #[schema(value_type = enums::MembershipRole)]
    pub(crate) role: MembershipRole,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskToJoin {
    /// A word for the owners.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 500
    )]
    pub(crate) message: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptJoinRequest {
    /// The role given (default `viewer`).
    #[schema(value_type = Option<enums::MembershipRole>)]
    pub(crate) role: Option<MembershipRole>,
}

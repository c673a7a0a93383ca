//! The wire types of invitations.

use chrono::{DateTime, Utc};
use domain::access::MembershipRole;
use persistence::structures::invitations::{Invitation, ReceivedInvitation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums;
use crate::http::pagination::Page;

/// An invitation, as the structure's owners see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: uuid::Uuid,
    pub structure_id: uuid::Uuid,
    /// The invited email, in lower case.
    #[schema(example = "claire@compagnie.example")]
    pub email: String,
    #[schema(value_type = enums::MembershipRole)]
    pub role: MembershipRole,
    /// The account that sent it.
    pub invited_by: uuid::Uuid,
    pub created_at: DateTime<Utc>,
    /// After this instant it can no longer be accepted.
    pub expires_at: DateTime<Utc>,
}

impl From<Invitation> for InvitationView {
    fn from(invitation: Invitation) -> Self {
        Self {
            id: invitation.id.as_uuid(),
            structure_id: invitation.structure.as_uuid(),
            email: invitation.email,
            role: invitation.role,
            invited_by: invitation.invited_by.as_uuid(),
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
        }
    }
}

/// A structure's pending invitations (a handful: one page holds them all).
pub type InvitationPage = Page<InvitationView>;

/// An invitation, as the invited person sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedInvitationView {
    pub id: uuid::Uuid,
    pub structure_id: uuid::Uuid,
    #[schema(example = "Compagnie du Vent Debout")]
    pub structure_name: String,
    /// The role you get by accepting.
    #[schema(value_type = enums::MembershipRole)]
    pub role: MembershipRole,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<ReceivedInvitation> for ReceivedInvitationView {
    fn from(received: ReceivedInvitation) -> Self {
        let invitation = received.invitation;
        Self {
            id: invitation.id.as_uuid(),
            structure_id: invitation.structure.as_uuid(),
            structure_name: received.structure_name,
            role: invitation.role,
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
        }
    }
}

/// Your pending invitations (one page holds them all).
pub type ReceivedInvitationPage = Page<ReceivedInvitationView>;

/// The membership an accepted invitation made.
#[derive(Debug, Serialize, ToSchema)]
pub struct JoinedStructure {
    pub structure_id: uuid::Uuid,
    #[schema(value_type = enums::MembershipRole)]
    pub role: MembershipRole,
}

/// Invites a person, by email, to become a member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteMember {
    #[schema(
        pattern = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
        max_length = 254
    )]
    pub(crate) email: String,
    /// The role the person gets by accepting.
    #[schema(value_type = enums::MembershipRole)]
    pub(crate) role: MembershipRole,
}

//! Invitations to join a structure: an owner names an email and a role; the person
//! holding an account with that email accepts or declines. Nothing about the account
//! (whether it exists, its id, its name) reaches the owner.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// How long an invitation waits for its answer.
pub const INVITATION_VALIDITY: Duration = Duration::days(14);

/// Identifier of an invitation (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InvitationId(Uuid);

impl InvitationId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl FromStr for InvitationId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for InvitationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

/// When an invitation made at `created_at` stops being open.
pub fn expiry(created_at: DateTime<Utc>) -> DateTime<Utc> {
    created_at + INVITATION_VALIDITY
}

/// An invitation can be answered (or cancelled) until it expires.
pub fn is_open(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < expires_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_is_open_for_fourteen_days() {
        let made = Utc::now();
        let expires = expiry(made);
        assert_eq!(expires - made, Duration::days(14));
        assert!(is_open(expires, made));
        assert!(is_open(expires, expires - Duration::seconds(1)));
        assert!(!is_open(expires, expires));
        assert!(!is_open(expires, expires + Duration::days(1)));
    }
}

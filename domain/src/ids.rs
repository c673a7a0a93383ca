use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Identifier of a structure: a UUIDv7, so that ids sort in creation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StructureId(Uuid);

impl StructureId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for StructureId {
    fn from(value: Uuid) -> Self {
        Self(value)
    }
}

impl FromStr for StructureId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for StructureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hyphenated lowercase: fixed width, so text comparison matches creation order.
        write!(f, "{}", self.0.hyphenated())
    }
}

/// Typed UUIDv7 ids of the programming resources, made alike.
macro_rules! uuid_id {
    ($($(#[doc = $doc:literal])* $name:ident),+ $(,)?) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0.hyphenated())
            }
        }
    )+};
}

uuid_id!(
    /// Identifier of a production (spectacle).
    ProductionId,
    /// Identifier of a tour (tournée).
    TourId,
    /// Identifier of a performance (représentation).
    PerformanceId,
    /// Identifier of a grant programme (dispositif d'aide).
    ProgrammeId,
    /// Identifier of a call (appel à candidatures, session).
    CallId,
    /// Identifier of a dossier (dossier de demande d'aide).
    DossierId,
    /// Identifier of a flag asking staff to look at a dossier.
    AttentionFlagId,
    /// Identifier of a document of a dossier (pièce justificative).
    DocumentId,
    /// Identifier of a reviewer's review of a dossier (avis).
    ReviewId,
    /// Identifier of a webhook subscription.
    WebhookId,
    /// Identifier of one delivery of an event to a webhook.
    DeliveryId,
);

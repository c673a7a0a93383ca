//! Pure types and rules of the OES API: no I/O, no database, no HTTP.
//!
//! Values validate when they are made (`Siret::parse`, `LicenceNumber::parse`…), so code
//! holding one never checks it again. Validation failures are collected field by field
//! into a [`ValidationError`] so a client learns about every bad field at once.

/// Enums whose values travel as fixed strings (`company`, `owner`…), parsed into a
/// `FieldProblem::NotOneOf` that lists what is allowed. They serialize as those strings,
/// and describe themselves ([`ClosedSet`]) so that the contract is generated from them.
#[macro_use]
mod string_enum {
    macro_rules! string_enum {
        ($(#[doc = $doc:literal])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
            $(#[doc = $doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub enum $name { $($(#[$vmeta])* $variant),+ }

            impl $name {
                pub const ALL: &'static [$name] = &[$($name::$variant),+];

                pub fn as_str(self) -> &'static str {
                    match self { $($name::$variant => $text),+ }
                }

                pub fn parse(value: &str) -> Result<Self, FieldProblem> {
                    match value {
                        $($text => Ok($name::$variant),)+
                        _ => Err(FieldProblem::NotOneOf {
                            allowed: Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                        }),
                    }
                }
            }

            impl $crate::ClosedSet for $name {
                const NAME: &'static str = stringify!($name);
                const DESCRIPTION: &'static str = concat!($($doc, "\n"),*);

                fn values() -> Vec<&'static str> {
                    Self::ALL.iter().map(|v| v.as_str()).collect()
                }
            }

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl serde::Serialize for $name {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                    Self::parse(&text).map_err(|_| {
                        serde::de::Error::unknown_variant(&text, &[$($text),+])
                    })
                }
            }
        };
    }
}

/// A closed set of values, as the contract states it: its name, what it means, and the
/// strings it travels as.
pub trait ClosedSet: Copy + 'static {
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    fn values() -> Vec<&'static str>;
}

pub mod access;
pub mod changes;
pub mod geography;
pub mod grants;
pub mod ids;
pub mod mail;
pub mod programming;
pub mod search;
pub mod structures;
pub mod text;
pub mod validation;
pub mod webhooks;

pub use geography::{Commune, Department, Geography};
pub use ids::{
    AttentionFlagId, CallId, DeliveryId, DocumentId, DossierId, PerformanceId, ProductionId,
    ProgrammeId, ReviewId, StructureId, TourId, WebhookId,
};
pub use structures::licence::{Licence, LicenceCategory, LicenceNumber};
pub use structures::siret::Siret;
pub use structures::{
    Address, AddressInput, Discipline, NewStructure, Structure, StructureInput, StructureKind,
    StructurePatch,
};
pub use validation::{FieldError, FieldProblem, ValidationError};

#[cfg(test)]
mod tests {
    use serde::de::value::{Error, StrDeserializer};
    use serde::de::{Deserialize, IntoDeserializer};

    use super::ClosedSet;
    use crate::access::{ActorKind, MembershipRole};
    use crate::{Discipline, StructureKind};

    fn from_text<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, Error> {
        let deserializer: StrDeserializer<'_, Error> = text.into_deserializer();
        T::deserialize(deserializer)
    }

    #[test]
    fn closed_sets_travel_as_their_strings_and_refuse_others() {
        for kind in StructureKind::ALL {
            assert_eq!(from_text::<StructureKind>(kind.as_str()).ok(), Some(*kind));
        }
        assert_eq!(
            StructureKind::values(),
            [
                "company",
                "venue",
                "festival",
                "network",
                "local_authority",
                "other"
            ]
        );
        assert_eq!(Discipline::values()[4], "street_arts");
        assert_eq!(ActorKind::NAME, "ActorKind");
        let refused = from_text::<MembershipRole>("Owner")
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("owner, editor, viewer") || refused.contains("`owner`"),
            "{refused}"
        );
        assert!(from_text::<Discipline>("").is_err());
        assert!(StructureKind::DESCRIPTION.contains("organisation"));
    }
}

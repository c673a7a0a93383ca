//! Pure types and rules of the OES API: no I/O, no database, no HTTP.
//!
//! Values validate when they are made (`Siret::parse`, `LicenceNumber::parse`…), so code
//! holding one never checks it again. Validation failures are collected field by field
//! into a [`ValidationError`] so a client learns about every bad field at once.

/// Enums whose values travel as fixed strings (`company`, `owner`…), parsed into a
/// `FieldProblem::NotOneOf` that lists what is allowed.
#[macro_use]
mod string_enum {
    macro_rules! string_enum {
        ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
            $(#[$meta])*
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

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        };
    }
}

pub mod access;
pub mod geography;
pub mod ids;
pub mod invitation;
pub mod licence;
pub mod search;
pub mod siret;
pub mod structure;
pub mod text;
pub mod validation;

pub use geography::{Commune, Department, Geography};
pub use ids::StructureId;
pub use licence::{Licence, LicenceCategory, LicenceNumber};
pub use siret::Siret;
pub use structure::{
    Address, AddressInput, Discipline, NewStructure, Structure, StructureInput, StructureKind,
    StructurePatch,
};
pub use validation::{FieldError, FieldProblem, ValidationError};

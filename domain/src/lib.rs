//! Pure types and rules of the OES API: no I/O, no database, no HTTP.
//!
//! Values validate when they are made (`Siret::parse`, `LicenceNumber::parse`…), so code
//! holding one never checks it again. Validation failures are collected field by field
//! into a [`ValidationError`] so a client learns about every bad field at once.

pub mod access;
pub mod geography;
pub mod ids;
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

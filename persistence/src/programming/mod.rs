//! Storage of programming data: productions, their tours, and performances.

pub mod performances;
pub mod productions;
pub mod sync;
pub mod tours;

use domain::StructureId;
use domain::access::AccountId;

use crate::error::PersistenceError;

/// Whose eyes a list is for: what unpublished items it may hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Reader {
    /// Published items only.
    #[default]
    Public,
    /// Published items, and those of the structures the account belongs to.
    Member(AccountId),
    /// Published items, and those of these structures (an API client's).
    Acting(Vec<StructureId>),
    /// Everything (agency staff and reviewers).
    Everything,
}

impl Reader {
    /// The structures of an API client, as stored.
    fn acting(structures: &[StructureId]) -> Vec<String> {
        structures.iter().map(ToString::to_string).collect()
    }
}

/// A set stored as a sorted, comma-framed text (",a,b,"), so that a row reads whole.
fn framed<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let inner: Vec<&str> = values.into_iter().collect();
    format!(",{},", inner.join(","))
}

fn unframed(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').filter(|value| !value.is_empty())
}

fn corrupt(what: &str, id: &str, detail: impl std::fmt::Display) -> PersistenceError {
    PersistenceError::Corrupt(format!("{what} of {id}: {detail}"))
}

/// A delete that a row still points at: performances hold their production and tour.
fn referenced(error: PersistenceError) -> PersistenceError {
    match error {
        PersistenceError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _,
        )) => PersistenceError::HasPerformances,
        other => other,
    }
}

//! Storage of grants: programmes (dispositifs d'aide) and their calls (appels à
//! candidatures), dossiers, their messages, notes and reviews. The rules are the
//! domain's; rows only carry them.

pub mod attention;
pub mod awards;
pub mod calls;
pub mod context;
pub mod documents;
pub mod dossiers;
pub mod events;
pub mod final_reports;
pub mod messages;
pub mod payments;
pub mod programmes;
pub mod reviews;

use crate::error::PersistenceError;

fn corrupt(what: &str, id: &str, detail: impl std::fmt::Display) -> PersistenceError {
    PersistenceError::Corrupt(format!("{what} of {id}: {detail}"))
}

/// A stale write: the row is gone, or at another version than the one read.
fn stale(current: Option<i64>) -> PersistenceError {
    match current {
        None => PersistenceError::NotFound,
        Some(current) => PersistenceError::VersionMismatch { current },
    }
}

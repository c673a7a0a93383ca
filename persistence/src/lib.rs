//! Storage for the OES API: one code path over SQLite and PostgreSQL (diesel
//! `MultiConnection`), pooled by r2d2, with migrations embedded per backend.

pub mod audit;
pub mod changes;
pub mod clock;
pub mod db;
pub mod error;
pub mod grants;
pub mod idempotency;
pub mod identity;
pub mod mail;
pub mod page;
pub mod programming;
pub mod reference;
mod schema;
pub mod structures;
pub mod webhooks;

pub use db::{Backend, DbConnection, Pool};
pub use error::PersistenceError;

//! The OES API server: actix-web routes, the contract (utoipa) and the `oes` binary's
//! commands.

pub mod audit;
pub mod auth;
pub mod conditional;
pub mod config;
pub mod context;
pub mod db;
pub mod error;
pub mod extract;
pub mod fallback;
pub mod i18n;
pub mod idempotency;
pub mod limits;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod pagination;
pub mod passwords;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod tokens;

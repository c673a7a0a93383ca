//! The OES API server: actix-web routes, the contract (utoipa) and the `oes` binary's
//! commands.
//!
//! - `http/`: what every resource shares (problem details, extractors, pagination,
//!   conditional requests, idempotency, languages, observation, limits);
//! - `auth/`: the caller, access tokens, password hashing;
//! - `routes/<area>/`: one folder per business area (`mod.rs` registers the handlers
//!   and holds the area's guards, `dto.rs` the wire types, then the handlers).

pub mod audit;
pub mod auth;
pub mod changes;
pub mod config;
pub mod crypto;
pub mod db;
pub mod enums;
pub mod http;
pub mod mail;
pub mod memory;
pub mod openapi;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod storage;
pub mod webhooks;

//! End-to-end tests: the real server on a random port against a fresh database
//! (SQLite by default, PostgreSQL when `OES_TEST_DATABASE_URL` is set).
//!
//! `routes/` mirrors `api/src/routes/` (one file per resource), `http/` the
//! cross-cutting conventions (problems, limits, the contract, the authorization matrix),
//! `storage/` what is checked against the database itself.

// The whole crate is test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod helpers;
mod http;
mod routes;
mod storage;

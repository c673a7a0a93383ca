//! End-to-end tests: the real server on a random port against a fresh database
//! (SQLite by default, PostgreSQL when `OES_TEST_DATABASE_URL` is set).

// The whole crate is test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod accounts;
mod api_clients;
mod audit;
mod auth;
mod authorization;
mod contract;
mod errors;
mod gdpr;
mod helpers;
mod jwks;
mod limits;
mod members;
mod migrations;
mod operations;
mod reference;
mod structures;

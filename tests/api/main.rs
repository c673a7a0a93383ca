//! End-to-end tests: the real server on a random port against a fresh database
//! (SQLite by default, PostgreSQL when `OES_TEST_DATABASE_URL` is set).

mod contract;
mod errors;
mod helpers;
mod migrations;
mod operations;
mod structures;

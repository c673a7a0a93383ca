pub mod accounts;
pub mod auth;
pub mod operations;
pub mod structures;

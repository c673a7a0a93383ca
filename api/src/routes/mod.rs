pub mod accounts;
pub mod auth;
pub mod members;
pub mod operations;
pub mod structures;

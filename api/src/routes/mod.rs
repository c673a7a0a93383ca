pub mod accounts;
pub mod api_clients;
pub mod audit_events;
pub mod auth;
pub mod members;
pub mod operations;
pub mod shared;
pub mod structures;

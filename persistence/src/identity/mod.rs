//! Identity: accounts, their tokens, and API clients.

pub mod accounts;
pub mod api_clients;
pub mod tokens;

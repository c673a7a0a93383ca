//! `/v1/performances`: dates, at venues or inline places.

mod dto;
mod handlers;

pub use dto::*;
pub use handlers::*;

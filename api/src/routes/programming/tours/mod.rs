//! `/v1/tours`: named runs of a production's performances.

mod dto;
mod handlers;

pub use dto::*;
pub use handlers::*;

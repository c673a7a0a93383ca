//! `/v1/productions`: what companies tour.

mod dto;
mod handlers;

pub use dto::*;
pub use handlers::*;

//! `/v1/sync/performances`: a partner's system (an API client with `programming:write`)
//! keeps its season here by its own ids. Only API clients sync: an account has no
//! system of its own to mirror, and edits performances by their ids
//! (`/v1/performances`); it gets a 403 here, an anonymous caller a 401.

mod batch;
mod dto;
mod handlers;

pub use batch::*;
pub use dto::*;
pub use handlers::*;

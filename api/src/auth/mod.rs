//! Who is calling and how they prove it: the caller extractor, access tokens,
//! password hashing and the random secrets the server hands out.

pub mod caller;
pub mod passwords;
pub mod secrets;
pub mod tokens;

pub use caller::{CLIENT_SUBJECT, Caller};

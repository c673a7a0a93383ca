//! Who is calling and how they prove it: the caller extractor, access tokens and
//! password hashing.

pub mod caller;
pub mod passwords;
pub mod tokens;

pub use caller::{CLIENT_SUBJECT, Caller};

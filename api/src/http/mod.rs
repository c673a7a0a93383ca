//! The cross-cutting parts of HTTP handling that every resource shares: errors as
//! problem details, extractors, pagination, conditional requests, idempotency,
//! languages, the fallback for unknown routes, request observation and limits.

pub mod caching;
pub mod conditional;
pub mod context;
pub mod error;
pub mod extract;
pub mod fallback;
pub mod i18n;
pub mod idempotency;
pub mod limits;
pub mod metrics;
pub mod negotiate;
pub mod observe;
pub mod pagination;
pub mod problem;
pub mod streaming;

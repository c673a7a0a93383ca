//! The one clock of persistence.

use chrono::{DateTime, Utc};

/// An instant as both backends store it: microseconds, so a value read back compares
/// equal to the one written (cursors depend on it).
pub fn storable_now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

//! The one clock of persistence.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

use crate::db::MultiBackend;

/// An instant as both backends store it: microseconds, so a value read back compares
/// equal to the one written (cursors depend on it).
pub fn storable_now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// An instant read from a `Timestamp` column, for the rows read by the page (structures,
/// productions, tours, performances, the change log) and those every dossier read judges
/// (dossiers, calls, programmes).
///
/// SQLite keeps timestamps as text (`2026-12-03 10:47:38.123456`, as diesel writes
/// them), which diesel reads by trying chrono format strings one after another: 6 % of
/// the CPU of a list of 50 structures (three timestamps a row). This reads that one form
/// directly and leaves anything else to diesel. PostgreSQL's binary timestamps go
/// straight to diesel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub(crate) struct StoredTimestamp(NaiveDateTime);

impl From<StoredTimestamp> for NaiveDateTime {
    fn from(stored: StoredTimestamp) -> Self {
        stored.0
    }
}

impl FromSql<Timestamp, Sqlite> for StoredTimestamp {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if let Some(instant) = parse_sqlite_timestamp(value.read_text()) {
            return Ok(Self(instant));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, Pg> for StoredTimestamp {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, MultiBackend> for StoredTimestamp {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of up to nine digits, as diesel
/// writes a `NaiveDateTime` to SQLite; `None` for any other form.
fn parse_sqlite_timestamp(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[10] != b' ' {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes[range].iter().try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    let nanos = match &bytes[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let value = number(20..bytes.len())?;
            value * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11..13)?, number(14..16)?, number(17..19)?, nanos)?;
    Some(NaiveDateTime::new(date, time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_timestamps_read_as_diesel_writes_them() {
        let written = |text: &str| NaiveDateTime::parse_from_str(text, "%F %T%.f").ok();
        for text in [
            "2026-12-03 10:47:38",
            "2026-12-03 10:47:38.1",
            "2026-12-03 10:47:38.123456",
            "2026-12-03 10:47:38.123456789",
            "1999-02-28 00:00:00.000001",
            "2024-02-29 23:59:59.999999",
        ] {
            assert_eq!(parse_sqlite_timestamp(text), written(text), "{text}");
            assert!(parse_sqlite_timestamp(text).is_some(), "{text}");
        }
        let now = storable_now().naive_utc();
        let text = now.format("%F %T%.f").to_string();
        assert_eq!(parse_sqlite_timestamp(&text), Some(now));
    }

    #[test]
    fn other_forms_are_left_to_diesel() {
        for text in [
            "",
            "2026-12-03",
            "2026-12-03T10:47:38",
            "2026-12-03 10:47:38Z",
            "2026-12-03 10:47:38.",
            "2026-12-03 10:47:38.1234567890",
            "2026-13-03 10:47:38",
            "2026-02-30 10:47:38",
            "2026-12-03 24:00:00",
            "2026-12-03 10:4a:38",
            "+026-12-03 10:47:38",
            "2461008.5",
        ] {
            assert_eq!(parse_sqlite_timestamp(text), None, "{text}");
        }
    }
}

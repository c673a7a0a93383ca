//! Programming data: productions (spectacles), their tours (tournées) and performances
//! (représentations), as companies and venues keep them up to date.

pub mod performance;
pub mod production;
pub mod sync;
pub mod tour;

use chrono::NaiveDate;

use crate::validation::{FieldProblem, ValidationError};

pub use performance::{
    Accessibility, Booking, Location, NewPerformance, Performance, PerformanceInput,
    PerformancePatch, PerformanceStatus, Place, PlaceInput, ProductionRef, References, Show,
    ShowInput, TourRef, VenueRef,
};
pub use production::{
    Audience, NewProduction, Production, ProductionInput, ProductionPatch, Space,
};
pub use sync::{ExternalId, SyncAction, SyncResult};
pub use tour::{NewTour, Tour, TourInput, TourPatch};

/// Pattern of a calendar date, as the contract states it.
pub const DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

/// A date written `YYYY-MM-DD`.
pub fn date(value: &str) -> Result<NaiveDate, FieldProblem> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(FieldProblem::Date);
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| FieldProblem::Date)
}

/// A whole number within `min..=max`.
pub fn within(value: i64, min: i64, max: i64) -> Result<i64, FieldProblem> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(FieldProblem::OutOfRange { min, max })
    }
}

pub(crate) fn optional<T, V: ?Sized>(
    errors: &mut ValidationError,
    field: &str,
    value: Option<&V>,
    parse: impl FnOnce(&V) -> Result<T, FieldProblem>,
) -> Option<T> {
    value.and_then(|v| errors.check(field, parse(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_full() {
        assert_eq!(
            date("2027-03-01"),
            NaiveDate::from_ymd_opt(2027, 3, 1).ok_or(FieldProblem::Date)
        );
        for bad in [
            "2027-3-1",
            "2027-02-30",
            "27-03-01",
            "2027-03-01T00:00:00",
            "",
        ] {
            assert_eq!(date(bad), Err(FieldProblem::Date), "{bad}");
        }
    }

    #[test]
    fn numbers_stay_within_their_bounds() {
        assert_eq!(within(0, 0, 18), Ok(0));
        assert_eq!(within(18, 0, 18), Ok(18));
        assert_eq!(
            within(19, 0, 18),
            Err(FieldProblem::OutOfRange { min: 0, max: 18 })
        );
        assert_eq!(
            within(-1, 0, 18),
            Err(FieldProblem::OutOfRange { min: 0, max: 18 })
        );
    }
}

//! Calls (appels à candidatures, sessions de commission): when dossiers may be
//! submitted, as Europe/Paris wall-clock times, and the budget envelope.

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};

use crate::ids::ProgrammeId;
use crate::programming::performance::{FEE_MAX, PARIS};
use crate::text;
use crate::validation::{FieldProblem, ValidationError};

pub const CALL_TITLE_MAX: usize = 200;

string_enum!(
    /// Where a call stands at an instant.
    CallState {
        /// Not open yet.
        Upcoming = "upcoming",
        Open = "open",
        Closed = "closed",
    }
);

/// Which end of a window a wall-clock time is: an opening takes the earlier of two
/// instants a Paris time may mean, a closing the later, so the window is as wide as
/// the wall clock says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Opening,
    Closing,
}

/// The instant a Paris wall-clock time means. In the autumn hour that happens twice
/// (25 October 2026, 02:00–03:00) it is the earlier for an opening, the later for a
/// closing; in the spring hour that never happens (29 March 2026, 02:00–03:00) it is
/// shifted forward by the gap's length (02:30 is read as 03:30 CEST), as
/// `java.time` does.
pub fn paris_instant(local: NaiveDateTime, end: End) -> DateTime<Utc> {
    match PARIS.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, later) => match end {
            End::Opening => earlier.with_timezone(&Utc),
            End::Closing => later.with_timezone(&Utc),
        },
        LocalResult::None => {
            // The offset in force before the gap (gaps last less than a day).
            let before = local - TimeDelta::days(1);
            let offset = PARIS
                .offset_from_local_datetime(&before)
                .earliest()
                .map(|o| chrono::Offset::fix(&o).local_minus_utc())
                .unwrap_or(3600);
            (local - TimeDelta::seconds(i64::from(offset))).and_utc()
        }
    }
}

/// When a call takes submissions: from `opens_at` (included) to `closes_at`
/// (excluded: the first instant it refuses them), `opens_at` before `closes_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallWindow {
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
}

impl CallWindow {
    pub fn new(opens_at: DateTime<Utc>, closes_at: DateTime<Utc>) -> Result<Self, ValidationError> {
        if closes_at <= opens_at {
            return Err(ValidationError::single(
                "closes_at",
                FieldProblem::BeforeOther {
                    other: "opens_at".to_owned(),
                },
            ));
        }
        Ok(Self {
            opens_at,
            closes_at,
        })
    }

    /// A window given as Paris wall-clock times (see [`paris_instant`]): a deadline of
    /// « 31 mars 2026 à minuit » is `2026-04-01T00:00`, which is 2026-03-31T22:00Z.
    pub fn paris(opens: NaiveDateTime, closes: NaiveDateTime) -> Result<Self, ValidationError> {
        Self::new(
            paris_instant(opens, End::Opening),
            paris_instant(closes, End::Closing),
        )
    }

    pub fn opens_at(&self) -> DateTime<Utc> {
        self.opens_at
    }

    pub fn closes_at(&self) -> DateTime<Utc> {
        self.closes_at
    }

    pub fn state(&self, now: DateTime<Utc>) -> CallState {
        if now < self.opens_at {
            CallState::Upcoming
        } else if now < self.closes_at {
            CallState::Open
        } else {
            CallState::Closed
        }
    }
}

/// A call as staff write it; times are Paris wall-clock (`2026-04-01T00:00:00`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInput {
    pub title: String,
    pub opens_at: String,
    pub closes_at: String,
    pub committee_date: Option<String>,
    pub envelope_cents: i64,
}

/// A call whose every field has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall {
    pub programme_id: ProgrammeId,
    pub title: String,
    pub window: CallWindow,
    pub committee_date: Option<NaiveDate>,
    /// The budget envelope (enveloppe) the call's approvals share.
    pub envelope_cents: i64,
}

/// A Paris wall-clock time `YYYY-MM-DDTHH:MM[:SS]`, without offset.
pub fn paris_wall_clock(value: &str) -> Result<NaiveDateTime, FieldProblem> {
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .ok_or(FieldProblem::Instant)
}

impl NewCall {
    pub fn parse(programme_id: ProgrammeId, input: &CallInput) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let title = errors.check("title", text::single_line(&input.title, CALL_TITLE_MAX));
        let opens = errors.check("opens_at", paris_wall_clock(&input.opens_at));
        let closes = errors.check("closes_at", paris_wall_clock(&input.closes_at));
        let committee_date = input
            .committee_date
            .as_deref()
            .and_then(|d| errors.check("committee_date", crate::programming::date(d)));
        let envelope = errors.check(
            "envelope_cents",
            crate::programming::within(input.envelope_cents, 0, FEE_MAX),
        );
        let window = match (opens, closes) {
            (Some(opens), Some(closes)) => match CallWindow::paris(opens, closes) {
                Ok(window) => Some(window),
                Err(problems) => {
                    errors.errors.extend(problems.errors);
                    None
                }
            },
            _ => None,
        };
        errors.into_result()?;
        match (title, window, envelope) {
            (Some(title), Some(window), Some(envelope_cents)) => Ok(Self {
                programme_id,
                title,
                window,
                committee_date,
                envelope_cents,
            }),
            _ => Err(ValidationError::single("title", FieldProblem::Required)),
        }
    }
}

/// Changes to a call, as staff send them: absent fields stay; `committee_date:
/// Some(None)` clears the date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallPatch {
    pub title: Option<String>,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub committee_date: Option<Option<String>>,
    pub envelope_cents: Option<i64>,
}

impl NewCall {
    /// The call with `patch` applied, every field checked at once. A time not given
    /// keeps its instant (re-reading its wall-clock time could move it in the autumn's
    /// repeated hour); the envelope never goes below what was already awarded.
    pub fn patched(&self, patch: &CallPatch, awarded_cents: i64) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let title = match &patch.title {
            Some(title) => errors.check("title", text::single_line(title, CALL_TITLE_MAX)),
            None => Some(self.title.clone()),
        };
        let instant =
            |field: &str, value: &Option<String>, end, current, errors: &mut ValidationError| {
                match value {
                    Some(value) => errors.check(
                        field,
                        paris_wall_clock(value).map(|local| paris_instant(local, end)),
                    ),
                    None => Some(current),
                }
            };
        let opens = instant(
            "opens_at",
            &patch.opens_at,
            End::Opening,
            self.window.opens_at(),
            &mut errors,
        );
        let closes = instant(
            "closes_at",
            &patch.closes_at,
            End::Closing,
            self.window.closes_at(),
            &mut errors,
        );
        let committee_date = match &patch.committee_date {
            None => self.committee_date,
            Some(None) => None,
            Some(Some(date)) => errors.check("committee_date", crate::programming::date(date)),
        };
        let envelope = match patch.envelope_cents {
            Some(cents) => errors.check(
                "envelope_cents",
                crate::programming::within(cents, awarded_cents.max(0), FEE_MAX),
            ),
            None => Some(self.envelope_cents),
        };
        let window = match (opens, closes) {
            (Some(opens), Some(closes)) => match CallWindow::new(opens, closes) {
                Ok(window) => Some(window),
                Err(problems) => {
                    errors.errors.extend(problems.errors);
                    None
                }
            },
            _ => None,
        };
        errors.into_result()?;
        match (title, window, envelope) {
            (Some(title), Some(window), Some(envelope_cents)) => Ok(Self {
                programme_id: self.programme_id,
                title,
                window,
                committee_date,
                envelope_cents,
            }),
            _ => Err(ValidationError::single("title", FieldProblem::Required)),
        }
    }
}

/// A call as stored: its data, what its approved dossiers were awarded so far, and its
/// version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub id: crate::ids::CallId,
    pub data: NewCall,
    /// The sum awarded to the call's approved dossiers: never above the envelope.
    pub awarded_cents: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Call {
    /// What is left of the envelope.
    pub fn remaining_cents(&self) -> i64 {
        self.data.envelope_cents.saturating_sub(self.awarded_cents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a_call() -> NewCall {
        NewCall::parse(
            ProgrammeId::generate(),
            &CallInput {
                title: "Session d'automne".into(),
                opens_at: "2026-09-01T00:00".into(),
                closes_at: "2026-10-25T02:30".into(),
                committee_date: Some("2026-11-15".into()),
                envelope_cents: 1_000_000,
            },
        )
        .unwrap()
    }

    #[test]
    fn a_patch_changes_what_it_names_and_keeps_the_rest_to_the_instant() {
        let call = a_call();
        // Unchanged, the autumn deadline keeps its later 02:30 (CET).
        let same = call.patched(&CallPatch::default(), 0).unwrap();
        assert_eq!(same, call);
        assert_eq!(
            same.window.closes_at().to_rfc3339(),
            "2026-10-25T01:30:00+00:00"
        );
        let moved = call
            .patched(
                &CallPatch {
                    closes_at: Some("2026-11-01T00:00".into()),
                    committee_date: Some(None),
                    ..Default::default()
                },
                0,
            )
            .unwrap();
        assert_eq!(
            moved.window.closes_at().to_rfc3339(),
            "2026-10-31T23:00:00+00:00"
        );
        assert_eq!(moved.window.opens_at(), call.window.opens_at());
        assert_eq!(moved.committee_date, None);
        assert_eq!(moved.title, call.title);
    }

    #[test]
    fn a_patch_names_every_bad_field_and_never_shrinks_the_envelope_below_the_awards() {
        let call = a_call();
        let refused = call
            .patched(
                &CallPatch {
                    title: Some(" ".into()),
                    closes_at: Some("2026-08-01T00:00".into()),
                    committee_date: Some(Some("demain".into())),
                    envelope_cents: Some(400_000),
                    ..Default::default()
                },
                500_000,
            )
            .unwrap_err();
        let fields: Vec<&str> = refused.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["title", "committee_date", "envelope_cents", "closes_at"]
        );
        let shrunk = call
            .patched(
                &CallPatch {
                    envelope_cents: Some(500_000),
                    ..Default::default()
                },
                500_000,
            )
            .unwrap();
        assert_eq!(shrunk.envelope_cents, 500_000);
    }

    fn local(value: &str) -> NaiveDateTime {
        paris_wall_clock(value).unwrap()
    }

    fn utc(value: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(value)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn paris_midnight_is_utc_23_00_in_winter_and_22_00_in_summer() {
        let winter = paris_instant(local("2026-01-16T00:00"), End::Closing);
        assert_eq!(winter, utc("2026-01-15T23:00:00Z"));
        let summer = paris_instant(local("2026-04-01T00:00"), End::Closing);
        assert_eq!(summer, utc("2026-03-31T22:00:00Z"));
    }

    #[test]
    fn the_spring_change_of_29_march_2026() {
        // Midnight before the change is still winter time.
        let midnight = paris_instant(local("2026-03-29T00:00"), End::Closing);
        assert_eq!(midnight, utc("2026-03-28T23:00:00Z"));
        // 02:30 never happens: read as 03:30 CEST.
        for end in [End::Opening, End::Closing] {
            let gap = paris_instant(local("2026-03-29T02:30"), end);
            assert_eq!(gap, utc("2026-03-29T01:30:00Z"));
        }
        let after = paris_instant(local("2026-03-29T03:00"), End::Closing);
        assert_eq!(after, utc("2026-03-29T01:00:00Z"));
        let next_midnight = paris_instant(local("2026-03-30T00:00"), End::Closing);
        assert_eq!(next_midnight, utc("2026-03-29T22:00:00Z"));
    }

    #[test]
    fn the_autumn_change_of_25_october_2026() {
        let midnight = paris_instant(local("2026-10-25T00:00"), End::Closing);
        assert_eq!(midnight, utc("2026-10-24T22:00:00Z"));
        // 02:30 happens twice: an opening takes the first, a closing the second.
        let opening = paris_instant(local("2026-10-25T02:30"), End::Opening);
        assert_eq!(opening, utc("2026-10-25T00:30:00Z"));
        let closing = paris_instant(local("2026-10-25T02:30"), End::Closing);
        assert_eq!(closing, utc("2026-10-25T01:30:00Z"));
        let next_midnight = paris_instant(local("2026-10-26T00:00"), End::Closing);
        assert_eq!(next_midnight, utc("2026-10-25T23:00:00Z"));
    }

    #[test]
    fn a_call_opens_at_its_opening_and_refuses_from_its_closing() {
        let window =
            CallWindow::paris(local("2026-03-01T09:00"), local("2026-04-01T00:00")).unwrap();
        let at = |s| window.state(utc(s));
        assert_eq!(at("2026-03-01T07:59:59Z"), CallState::Upcoming);
        assert_eq!(at("2026-03-01T08:00:00Z"), CallState::Open);
        assert_eq!(at("2026-03-31T21:59:59Z"), CallState::Open);
        assert_eq!(at("2026-03-31T22:00:00Z"), CallState::Closed);
        assert!(CallWindow::paris(local("2026-04-01T00:00"), local("2026-04-01T00:00")).is_err());
    }

    #[test]
    fn a_call_reports_every_bad_field() {
        let input = CallInput {
            title: "".into(),
            opens_at: "2026-03-01T09:00:00+01:00".into(),
            closes_at: "2026-04-01T00:00".into(),
            committee_date: Some("2026-13-01".into()),
            envelope_cents: -5,
        };
        let error = NewCall::parse(ProgrammeId::generate(), &input).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["title", "opens_at", "committee_date", "envelope_cents"]
        );
        let good = CallInput {
            title: "Session de printemps".into(),
            opens_at: "2026-03-01T09:00".into(),
            committee_date: Some("2026-05-12".into()),
            envelope_cents: 5_000_000,
            ..input
        };
        let call = NewCall::parse(ProgrammeId::generate(), &good).unwrap();
        assert_eq!(call.window.closes_at(), utc("2026-03-31T22:00:00Z"));
    }
}

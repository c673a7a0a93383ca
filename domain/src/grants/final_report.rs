//! The final report (bilan) of an approved dossier: the performances actually held,
//! with their attendance, and the final budget. The applicant writes it; staff accept
//! it (which lets them close the dossier) or ask for changes.

use std::collections::HashSet;

use super::budget::{Budget, BudgetInput};
use crate::ids::PerformanceId;
use crate::text;
use crate::validation::{FieldProblem, ValidationError};

/// The most spectators one performance is credited with (a stadium, not a typo).
pub const ATTENDANCE_MAX: i64 = 1_000_000;
pub const COMMENT_MAX: usize = 5000;

string_enum!(
    /// Where a final report stands.
    FinalReportStatus {
        /// Sent by the applicant, waiting for staff.
        Submitted = "submitted",
        /// Staff asked for changes: the applicant sends it again.
        ChangesRequested = "changes_requested",
        /// Accepted by staff: final, and what lets them close the dossier.
        Accepted = "accepted",
    }
);

string_enum!(
    /// What happened to a final report (its history).
    FinalReportAction {
        Submit = "submit",
        Accept = "accept",
        RequestChanges = "request_changes",
    }
);

/// One performance held, as a client writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldInput {
    pub performance_id: PerformanceId,
    pub attendance: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinalReportInput {
    pub held: Vec<HeldInput>,
    pub budget: BudgetInput,
    pub comment: Option<String>,
}

/// One performance actually held, and how many came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub performance_id: PerformanceId,
    pub attendance: i64,
}

/// A checked final report's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalReportContent {
    pub held: Vec<Held>,
    pub budget: Budget,
    pub comment: Option<String>,
}

impl FinalReportContent {
    /// Checks every field at once: each performance held is one the dossier funds
    /// (`held[i].performance_id`, `not_allowed`), named once (`duplicate`), with an
    /// attendance within 0..=[`ATTENDANCE_MAX`]; the budget as a dossier's; the comment
    /// as free text.
    pub fn parse(
        input: &FinalReportInput,
        funded: &[PerformanceId],
    ) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        if input.held.len() > funded.len() {
            errors.push("held", FieldProblem::TooMany { max: funded.len() });
        }
        let mut seen = HashSet::new();
        for (i, held) in input.held.iter().enumerate() {
            if !funded.contains(&held.performance_id) {
                errors.push(
                    format!("held[{i}].performance_id"),
                    FieldProblem::NotAllowed,
                );
            } else if !seen.insert(held.performance_id) {
                errors.push(format!("held[{i}].performance_id"), FieldProblem::Duplicate);
            }
            if !(0..=ATTENDANCE_MAX).contains(&held.attendance) {
                errors.push(
                    format!("held[{i}].attendance"),
                    FieldProblem::OutOfRange {
                        min: 0,
                        max: ATTENDANCE_MAX,
                    },
                );
            }
        }
        let comment = input
            .comment
            .as_deref()
            .and_then(|c| errors.check("comment", text::multi_line(c, COMMENT_MAX)));
        let budget = match Budget::parse(&input.budget) {
            Ok(budget) => Some(budget),
            Err(problems) => {
                errors.errors.extend(problems.errors);
                None
            }
        };
        errors.into_result()?;
        let budget =
            budget.ok_or_else(|| ValidationError::single("budget", FieldProblem::Required))?;
        Ok(Self {
            held: input
                .held
                .iter()
                .map(|h| Held {
                    performance_id: h.performance_id,
                    attendance: h.attendance,
                })
                .collect(),
            budget,
            comment,
        })
    }

    /// Spectators over every performance held.
    pub fn total_attendance(&self) -> i64 {
        self.held.iter().map(|h| h.attendance).sum()
    }
}

/// Why an action on a final report is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FinalReportError {
    #[error("an accepted final report is final")]
    AlreadyAccepted,
    #[error("staff decide on a submitted final report only")]
    NotSubmitted,
}

impl FinalReportError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyAccepted => "final_report_accepted",
            Self::NotSubmitted => "final_report_not_submitted",
        }
    }
}

/// The status a report moves to by `action` from `current` (`None`: no report yet).
/// The applicant (re)sends it until it is accepted; staff accept it or ask for changes
/// while it is submitted.
pub fn report_transition(
    current: Option<FinalReportStatus>,
    action: FinalReportAction,
) -> Result<FinalReportStatus, FinalReportError> {
    use FinalReportStatus::*;
    match (current, action) {
        (Some(Accepted), _) => Err(FinalReportError::AlreadyAccepted),
        (_, FinalReportAction::Submit) => Ok(Submitted),
        (Some(Submitted), FinalReportAction::Accept) => Ok(Accepted),
        (Some(Submitted), FinalReportAction::RequestChanges) => Ok(ChangesRequested),
        (None | Some(ChangesRequested), _) => Err(FinalReportError::NotSubmitted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::budget::LineInput;

    fn ids(n: usize) -> Vec<PerformanceId> {
        (0..n).map(|_| PerformanceId::generate()).collect()
    }

    fn budget() -> BudgetInput {
        BudgetInput {
            expenses: vec![LineInput {
                category: "travel".into(),
                label: None,
                amount_cents: 100_000,
            }],
            incomes: vec![LineInput {
                category: "agency_request".into(),
                label: None,
                amount_cents: 100_000,
            }],
        }
    }

    fn fields(error: ValidationError) -> Vec<(String, &'static str)> {
        error
            .errors
            .into_iter()
            .map(|e| (e.field, e.problem.code()))
            .collect()
    }

    #[test]
    fn a_report_names_a_subset_of_the_funded_performances() {
        let funded = ids(3);
        let input = FinalReportInput {
            held: vec![
                HeldInput {
                    performance_id: funded[2],
                    attendance: 120,
                },
                HeldInput {
                    performance_id: funded[0],
                    attendance: 0,
                },
            ],
            budget: budget(),
            comment: Some("Deux dates sur trois, la troisième annulée (intempéries).".into()),
        };
        let report = FinalReportContent::parse(&input, &funded).unwrap();
        assert_eq!(report.held.len(), 2);
        assert_eq!(report.total_attendance(), 120);
        let none_held = FinalReportInput {
            held: vec![],
            ..input
        };
        assert!(FinalReportContent::parse(&none_held, &funded).is_ok());
    }

    #[test]
    fn every_bad_field_of_a_report_is_named_at_once() {
        let funded = ids(2);
        let stranger = PerformanceId::generate();
        let input = FinalReportInput {
            held: vec![
                HeldInput {
                    performance_id: stranger,
                    attendance: -1,
                },
                HeldInput {
                    performance_id: funded[0],
                    attendance: ATTENDANCE_MAX,
                },
                HeldInput {
                    performance_id: funded[0],
                    attendance: ATTENDANCE_MAX + 1,
                },
            ],
            budget: BudgetInput {
                expenses: vec![LineInput {
                    category: "yachts".into(),
                    label: None,
                    amount_cents: 1,
                }],
                incomes: vec![],
            },
            comment: Some("nul\0byte".into()),
        };
        let error = FinalReportContent::parse(&input, &funded).unwrap_err();
        let found = fields(error);
        for expected in [
            ("held", "too_many"),
            ("held[0].performance_id", "not_allowed"),
            ("held[0].attendance", "out_of_range"),
            ("held[2].performance_id", "duplicate"),
            ("held[2].attendance", "out_of_range"),
            ("comment", "control_character"),
        ] {
            assert!(
                found.contains(&(expected.0.to_owned(), expected.1)),
                "{expected:?} in {found:?}"
            );
        }
        assert!(
            found
                .iter()
                .any(|(f, _)| f.starts_with("budget.expenses[0]"))
        );
        assert!(!found.iter().any(|(f, _)| f == "held[1].attendance"));
    }

    #[test]
    fn a_report_is_sent_until_accepted_and_decided_only_when_submitted() {
        use FinalReportAction::*;
        use FinalReportStatus::*;
        let cells = [
            (None, Submit, Ok(Submitted)),
            (None, Accept, Err(FinalReportError::NotSubmitted)),
            (None, RequestChanges, Err(FinalReportError::NotSubmitted)),
            (Some(Submitted), Submit, Ok(Submitted)),
            (Some(Submitted), Accept, Ok(Accepted)),
            (Some(Submitted), RequestChanges, Ok(ChangesRequested)),
            (Some(ChangesRequested), Submit, Ok(Submitted)),
            (
                Some(ChangesRequested),
                Accept,
                Err(FinalReportError::NotSubmitted),
            ),
            (
                Some(ChangesRequested),
                RequestChanges,
                Err(FinalReportError::NotSubmitted),
            ),
            (
                Some(Accepted),
                Submit,
                Err(FinalReportError::AlreadyAccepted),
            ),
            (
                Some(Accepted),
                Accept,
                Err(FinalReportError::AlreadyAccepted),
            ),
            (
                Some(Accepted),
                RequestChanges,
                Err(FinalReportError::AlreadyAccepted),
            ),
        ];
        for (from, action, expected) in cells {
            assert_eq!(
                report_transition(from, action),
                expected,
                "{from:?} {action:?}"
            );
        }
    }
}

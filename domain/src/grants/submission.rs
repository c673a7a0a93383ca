//! Whether a dossier may be submitted: every failure at once, with warnings, the same
//! whether asked as a dry run (`/check`) or at `/submit`.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::aid::{AidComputation, AlreadyApproved, Limit, compute_aid};
use super::budget::Budget;
use super::call::{CallState, CallWindow};
use super::eligibility::{Applicant, FundedPerformance, Ineligibility, ineligibilities};
use super::form::{QuestionKey, unanswered_optional, validate_answers};
use super::rules::{DocumentKind, Rules};
use crate::ids::PerformanceId;
use crate::validation::FieldProblem;

/// How long before its closing a call warns that it closes soon.
pub const CLOSES_SOON: TimeDelta = TimeDelta::hours(48);

/// Everything a submission is checked against.
#[derive(Debug, Clone, Copy)]
pub struct SubmissionInput<'a> {
    pub now: DateTime<Utc>,
    pub window: &'a CallWindow,
    pub rules: &'a Rules,
    pub applicant: &'a Applicant,
    pub performances: &'a [FundedPerformance],
    /// What the yearly caps count (dossiers already approved under the programme).
    pub approved: &'a AlreadyApproved,
    pub answers: &'a Value,
    /// The kinds of the documents attached.
    pub documents: &'a [DocumentKind],
    pub budget: &'a Budget,
}

/// One reason a dossier cannot be submitted. The `code` is stable and machine-readable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionProblem {
    #[error("the call opens at {opens_at}")]
    CallNotOpenYet { opens_at: DateTime<Utc> },
    #[error("the call closed at {closed_at}")]
    CallClosed { closed_at: DateTime<Utc> },
    /// A bad or missing answer, at `answers.<key>`.
    #[error("{field} {problem}")]
    Answer {
        field: String,
        problem: FieldProblem,
    },
    #[error("a document of kind {kind} is required")]
    DocumentMissing { kind: DocumentKind },
    #[error(
        "the budget is not balanced: {expenses_cents} cents of expenses, {incomes_cents} of incomes"
    )]
    BudgetUnbalanced {
        expenses_cents: i64,
        incomes_cents: i64,
    },
    #[error("the budget requests nothing of the agency (no agency_request income line)")]
    RequestMissing,
    #[error("{0}")]
    Ineligible(Ineligibility),
    #[error(
        "{requested_cents} cents requested; the rules allow at most {maximum_cents} ({limited_by})"
    )]
    AboveMaximum {
        requested_cents: i64,
        maximum_cents: i64,
        limited_by: Limit,
    },
}

impl SubmissionProblem {
    pub fn code(&self) -> &'static str {
        match self {
            Self::CallNotOpenYet { .. } => "call_not_open_yet",
            Self::CallClosed { .. } => "call_closed",
            Self::Answer {
                problem: FieldProblem::Required,
                ..
            } => "answer_missing",
            Self::Answer { .. } => "answer_invalid",
            Self::DocumentMissing { .. } => "document_missing",
            Self::BudgetUnbalanced { .. } => "budget_unbalanced",
            Self::RequestMissing => "request_missing",
            Self::Ineligible(reason) => reason.code(),
            Self::AboveMaximum { .. } => "above_maximum",
        }
    }
}

/// Something worth knowing that does not stop a submission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionWarning {
    #[error("the call closes at {closes_at}")]
    CallClosesSoon { closes_at: DateTime<Utc> },
    #[error("performance {performance} gets no aid ({limited_by})")]
    PerformanceUnfunded {
        performance: PerformanceId,
        limited_by: Limit,
    },
    #[error("optional question {question} is not answered")]
    OptionalQuestionUnanswered { question: QuestionKey },
}

impl SubmissionWarning {
    pub fn code(&self) -> &'static str {
        match self {
            Self::CallClosesSoon { .. } => "call_closes_soon",
            Self::PerformanceUnfunded { .. } => "performance_unfunded",
            Self::OptionalQuestionUnanswered { .. } => "optional_question_unanswered",
        }
    }
}

/// The outcome of a check: submittable when there is no problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionCheck {
    pub problems: Vec<SubmissionProblem>,
    pub warnings: Vec<SubmissionWarning>,
    /// The maximum aid the rules compute (the envelope is the decision's business).
    pub maximum: AidComputation,
}

impl SubmissionCheck {
    pub fn is_submittable(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Every reason the dossier cannot be submitted now, in this order: the call's dates
/// (Paris wall-clock, see [`CallWindow::paris`]), answers, documents, budget,
/// eligibility, requested amount within the computed maximum; and warnings.
pub fn submission_problems(input: &SubmissionInput<'_>) -> SubmissionCheck {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let window = input.window;
    match window.state(input.now) {
        CallState::Upcoming => problems.push(SubmissionProblem::CallNotOpenYet {
            opens_at: window.opens_at(),
        }),
        CallState::Closed => problems.push(SubmissionProblem::CallClosed {
            closed_at: window.closes_at(),
        }),
        CallState::Open => {
            if window.closes_at() - input.now <= CLOSES_SOON {
                warnings.push(SubmissionWarning::CallClosesSoon {
                    closes_at: window.closes_at(),
                });
            }
        }
    }
    let questions = input.rules.questions();
    if let Err(bad) = validate_answers(questions, input.answers) {
        problems.extend(bad.errors.into_iter().map(|e| SubmissionProblem::Answer {
            field: e.field,
            problem: e.problem,
        }));
    }
    for kind in input.rules.documents() {
        if !input.documents.contains(kind) {
            problems.push(SubmissionProblem::DocumentMissing { kind: *kind });
        }
    }
    let budget = input.budget;
    if !budget.is_balanced() {
        problems.push(SubmissionProblem::BudgetUnbalanced {
            expenses_cents: budget.total_expenses_cents(),
            incomes_cents: budget.total_incomes_cents(),
        });
    }
    let requested = budget.requested_cents().filter(|cents| *cents > 0);
    if requested.is_none() {
        problems.push(SubmissionProblem::RequestMissing);
    }
    let reasons = ineligibilities(input.rules, input.applicant, input.performances);
    problems.extend(reasons.into_iter().map(SubmissionProblem::Ineligible));
    let maximum = compute_aid(input.rules, input.performances, input.approved, None);
    if let Some(requested_cents) = requested
        && requested_cents > maximum.total_cents
    {
        problems.push(SubmissionProblem::AboveMaximum {
            requested_cents,
            maximum_cents: maximum.total_cents,
            limited_by: maximum.limited_by,
        });
    }
    for aid in &maximum.performances {
        // Ineligible ones are problems already.
        if aid.aid_cents == 0 && aid.limited_by != Limit::NotEligible {
            warnings.push(SubmissionWarning::PerformanceUnfunded {
                performance: aid.performance,
                limited_by: aid.limited_by,
            });
        }
    }
    for question in unanswered_optional(questions, input.answers) {
        warnings.push(SubmissionWarning::OptionalQuestionUnanswered {
            question: question.clone(),
        });
    }
    SubmissionCheck {
        problems,
        warnings,
        maximum,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde_json::json;

    use super::*;
    use crate::grants::budget::{BudgetInput, LineInput};
    use crate::grants::call::paris_wall_clock;
    use crate::grants::occitanie::diffusion_de_proximite;
    use crate::ids::StructureId;
    use crate::programming::Location;
    use crate::structures::StructureKind;

    struct Fixture {
        rules: Rules,
        window: CallWindow,
        applicant: Applicant,
        performances: Vec<FundedPerformance>,
        approved: AlreadyApproved,
        answers: Value,
        documents: Vec<DocumentKind>,
        budget: Budget,
    }

    fn budget(expenses: i64, fees: i64, request: Option<i64>) -> Budget {
        let line = |category: &str, amount_cents| LineInput {
            category: category.into(),
            label: None,
            amount_cents,
        };
        let mut incomes = vec![line("fees", fees)];
        incomes.extend(request.map(|r| line("agency_request", r)));
        Budget::parse(&BudgetInput {
            expenses: vec![line("artistic_pay", expenses)],
            incomes,
        })
        .unwrap()
    }

    /// A good dossier under the Occitanie scheme: two performances at 3,000 € (1,500 €
    /// each), 3,000 € requested, call closing at « 31 mars 2026 minuit ».
    fn fixture() -> Fixture {
        let venue = StructureId::generate();
        let performance = |day| FundedPerformance {
            id: PerformanceId::generate(),
            fee_cents: Some(300_000),
            location: Location {
                commune_code: Some("12145".into()),
                department_code: Some("12".into()),
                region_code: Some("76".into()),
                country_code: Some("FR".into()),
            },
            commune_population: Some(4_000),
            presenter: Some(venue),
            date: NaiveDate::from_ymd_opt(2026, 6, day).unwrap(),
            cancelled: false,
        };
        Fixture {
            rules: diffusion_de_proximite().rules,
            window: CallWindow::paris(
                paris_wall_clock("2026-01-05T09:00").unwrap(),
                paris_wall_clock("2026-04-01T00:00").unwrap(),
            )
            .unwrap(),
            applicant: Applicant {
                id: StructureId::generate(),
                kind: StructureKind::Company,
                region_code: Some("76".into()),
            },
            performances: vec![performance(12), performance(13)],
            approved: AlreadyApproved::none(),
            answers: json!({ "audience": "tout public", "cultural_action": true,
                "expected_attendance": 150 }),
            documents: vec![DocumentKind::BankDetails, DocumentKind::CessionContract],
            budget: budget(800_000, 500_000, Some(300_000)),
        }
    }

    fn check(f: &Fixture, now: &str) -> SubmissionCheck {
        let now = DateTime::parse_from_rfc3339(now)
            .unwrap()
            .with_timezone(&Utc);
        submission_problems(&SubmissionInput {
            now,
            window: &f.window,
            rules: &f.rules,
            applicant: &f.applicant,
            performances: &f.performances,
            approved: &f.approved,
            answers: &f.answers,
            documents: &f.documents,
            budget: &f.budget,
        })
    }

    fn codes(check: &SubmissionCheck) -> Vec<&'static str> {
        check.problems.iter().map(|p| p.code()).collect()
    }

    #[test]
    fn a_complete_dossier_may_be_submitted() {
        let result = check(&fixture(), "2026-02-10T10:00:00Z");
        assert_eq!(codes(&result), Vec::<&str>::new());
        assert!(result.is_submittable());
        assert!(result.warnings.is_empty(), "{:?}", result.warnings);
        assert_eq!(result.maximum.total_cents, 300_000);
    }

    #[test]
    fn the_deadline_is_paris_midnight_in_summer_time() {
        let f = fixture();
        let last_second = check(&f, "2026-03-31T21:59:59Z");
        assert!(last_second.is_submittable());
        assert_eq!(last_second.warnings[0].code(), "call_closes_soon");
        let at_midnight = check(&f, "2026-03-31T22:00:00Z");
        assert_eq!(codes(&at_midnight), ["call_closed"]);
        let too_early = check(&f, "2026-01-05T07:59:59Z");
        assert_eq!(codes(&too_early), ["call_not_open_yet"]);
        assert!(check(&f, "2026-01-05T08:00:00Z").is_submittable());
    }

    #[test]
    fn deadlines_on_the_days_the_clocks_change() {
        let mut f = fixture();
        let window = |opens, closes| {
            CallWindow::paris(
                paris_wall_clock(opens).unwrap(),
                paris_wall_clock(closes).unwrap(),
            )
            .unwrap()
        };
        // Closing at midnight at the end of 29 March: summer time already.
        f.window = window("2026-03-01T00:00", "2026-03-30T00:00");
        assert!(check(&f, "2026-03-29T21:59:59Z").is_submittable());
        assert_eq!(codes(&check(&f, "2026-03-29T22:00:00Z")), ["call_closed"]);
        // Closing at midnight at the start of 29 March: still winter time.
        f.window = window("2026-03-01T00:00", "2026-03-29T00:00");
        assert!(check(&f, "2026-03-28T22:59:59Z").is_submittable());
        assert_eq!(codes(&check(&f, "2026-03-28T23:00:00Z")), ["call_closed"]);
        // Closing at midnight at the end of 25 October: winter time again.
        f.window = window("2026-03-01T00:00", "2026-10-26T00:00");
        assert!(check(&f, "2026-10-25T22:59:59Z").is_submittable());
        assert_eq!(codes(&check(&f, "2026-10-25T23:00:00Z")), ["call_closed"]);
        // Closing at 02:30 on 25 October, which happens twice: the later one.
        f.window = window("2026-03-01T00:00", "2026-10-25T02:30");
        assert!(check(&f, "2026-10-25T01:29:59Z").is_submittable());
        assert_eq!(codes(&check(&f, "2026-10-25T01:30:00Z")), ["call_closed"]);
    }

    #[test]
    fn every_failure_is_listed_at_once() {
        let mut f = fixture();
        f.answers = json!({ "audience": "adultes", "colour": "bleu" });
        f.documents = vec![DocumentKind::BankDetails];
        f.budget = budget(800_000, 400_000, Some(350_000));
        f.performances[1].commune_population = Some(20_000);
        let result = check(&f, "2026-04-02T10:00:00Z");
        assert_eq!(
            codes(&result),
            [
                "call_closed",
                "answer_invalid",
                "answer_invalid",
                "answer_missing",
                "document_missing",
                "budget_unbalanced",
                "commune_population",
                "above_maximum",
            ]
        );
        assert_eq!(
            result.problems.last(),
            Some(&SubmissionProblem::AboveMaximum {
                requested_cents: 350_000,
                maximum_cents: 150_000,
                limited_by: Limit::NotEligible,
            })
        );
        assert!(!result.is_submittable());
        assert_eq!(
            result.warnings.iter().map(|w| w.code()).collect::<Vec<_>>(),
            ["optional_question_unanswered"]
        );
    }

    #[test]
    fn a_budget_without_a_request_and_unfunded_performances_are_named() {
        let mut f = fixture();
        f.budget = budget(500_000, 500_000, None);
        f.performances
            .iter_mut()
            .for_each(|p| p.fee_cents = Some(90_000));
        let result = check(&f, "2026-02-10T10:00:00Z");
        assert_eq!(codes(&result), ["request_missing"]);
        let warnings: Vec<_> = result.warnings.iter().map(|w| w.code()).collect();
        assert_eq!(warnings, ["performance_unfunded", "performance_unfunded"]);
        assert_eq!(
            result.warnings[0],
            SubmissionWarning::PerformanceUnfunded {
                performance: f.performances[0].id,
                limited_by: Limit::Floor
            }
        );
    }
}

//! A dossier's life (dossier de demande d'aide): its states, the actions that move it
//! and who may take them, as one table.

use crate::text;
use crate::validation::FieldProblem;

string_enum!(
    /// Where a dossier stands.
    DossierStatus {
        /// Brouillon: the applicant is writing it.
        Draft = "draft",
        /// Déposé: waiting for the agency.
        Submitted = "submitted",
        /// The agency asked the applicant to complete it (demande de compléments).
        ChangesRequested = "changes_requested",
        /// En instruction.
        InReview = "in_review",
        /// Accordé.
        Approved = "approved",
        /// Refusé.
        Rejected = "rejected",
        /// Retiré by the applicant before a decision.
        Withdrawn = "withdrawn",
        /// Classé sans suite by the agency.
        Dismissed = "dismissed",
        /// Soldé: final report accepted and every payment made.
        Closed = "closed",
    }
);

string_enum!(
    /// What moves a dossier from one state to another; each is a sub-resource
    /// (`POST /v1/dossiers/{id}/submit`…).
    DossierAction {
        Submit = "submit",
        RequestChanges = "request_changes",
        StartReview = "start_review",
        Approve = "approve",
        Reject = "reject",
        Withdraw = "withdraw",
        Dismiss = "dismiss",
        Reopen = "reopen",
        Close = "close",
    }
);

string_enum!(
    /// Who takes an action on a dossier.
    DossierActor {
        /// A member of the applicant structure, or an API client acting for it with
        /// `dossiers:write`.
        Applicant = "applicant",
        /// Agency staff or administrator.
        Staff = "staff",
    }
);

use DossierAction::*;
use DossierActor::{Applicant, Staff};
use DossierStatus::*;

/// Every transition there is; anything else is refused.
///
/// | from              | action          | by        | to                |
/// |-------------------|-----------------|-----------|-------------------|
/// | draft             | submit          | applicant | submitted         |
/// | changes_requested | submit          | applicant | submitted         |
/// | submitted         | request_changes | staff     | changes_requested |
/// | submitted         | start_review    | staff     | in_review         |
/// | in_review         | approve         | staff     | approved          |
/// | in_review         | reject          | staff     | rejected          |
/// | draft … in_review | withdraw        | applicant | withdrawn         |
/// | submitted … in_review | dismiss     | staff     | dismissed         |
/// | approved          | close           | staff     | closed (report accepted, payments complete) |
/// | approved, rejected, dismissed | reopen | staff | in_review (with a reason) |
pub const TRANSITIONS: &[(DossierStatus, DossierAction, DossierActor, DossierStatus)] = &[
    (Draft, Submit, Applicant, Submitted),
    (ChangesRequested, Submit, Applicant, Submitted),
    (Submitted, RequestChanges, Staff, ChangesRequested),
    (Submitted, StartReview, Staff, InReview),
    (InReview, Approve, Staff, Approved),
    (InReview, Reject, Staff, Rejected),
    (Draft, Withdraw, Applicant, Withdrawn),
    (Submitted, Withdraw, Applicant, Withdrawn),
    (ChangesRequested, Withdraw, Applicant, Withdrawn),
    (InReview, Withdraw, Applicant, Withdrawn),
    (Submitted, Dismiss, Staff, Dismissed),
    (ChangesRequested, Dismiss, Staff, Dismissed),
    (InReview, Dismiss, Staff, Dismissed),
    (Approved, Close, Staff, Closed),
    (Approved, Reopen, Staff, InReview),
    (Rejected, Reopen, Staff, InReview),
    (Dismissed, Reopen, Staff, InReview),
];

/// Longest reason given with a transition.
pub const REASON_MAX: usize = 2000;

/// What a transition's guards look at, beyond the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitionContext {
    /// Why (a note shown in the dossier's history). Mandatory to reopen.
    pub reason: Option<String>,
    /// The final report (bilan) has been accepted. Needed to close.
    pub final_report_accepted: bool,
    /// Every cent awarded has been paid ([`super::payments_complete`]). Needed to close.
    pub payments_complete: bool,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// This actor never takes this action, from any state (a 403).
    #[error("{actor} may not {action} a dossier")]
    NotPermitted {
        action: DossierAction,
        actor: DossierActor,
    },
    /// The action exists for this actor, but not from this state (a 409).
    #[error("a dossier that is {status} cannot be {action}")]
    NotFromStatus {
        status: DossierStatus,
        action: DossierAction,
    },
    /// The reason is missing or not a valid text (mandatory to reopen).
    #[error("the reason {problem}")]
    Reason { problem: FieldProblem },
    #[error("the final report has not been accepted")]
    FinalReportNotAccepted,
    #[error("payments are not complete")]
    PaymentsIncomplete,
}

impl TransitionError {
    /// Stable code sent to clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotPermitted { .. } => "transition_not_permitted",
            Self::NotFromStatus { .. } => "transition_not_from_status",
            Self::Reason { .. } => "transition_reason",
            Self::FinalReportNotAccepted => "final_report_not_accepted",
            Self::PaymentsIncomplete => "payments_incomplete",
        }
    }
}

/// The state `action` by `actor` leads to from `status`, per [`TRANSITIONS`], once its
/// guards hold: a reason to reopen, an accepted final report and complete payments to
/// close. A reason given with any other action is checked as text too.
pub fn transition(
    status: DossierStatus,
    action: DossierAction,
    actor: DossierActor,
    context: &TransitionContext,
) -> Result<DossierStatus, TransitionError> {
    let Some(to) = target(status, action, actor) else {
        let permitted = TRANSITIONS
            .iter()
            .any(|(_, a, who, _)| *a == action && *who == actor);
        return Err(if permitted {
            TransitionError::NotFromStatus { status, action }
        } else {
            TransitionError::NotPermitted { action, actor }
        });
    };
    match (&context.reason, action) {
        (None, Reopen) => {
            return Err(TransitionError::Reason {
                problem: FieldProblem::Required,
            });
        }
        (Some(reason), _) => {
            text::multi_line(reason, REASON_MAX)
                .map_err(|problem| TransitionError::Reason { problem })?;
        }
        (None, _) => {}
    }
    if action == Close {
        if !context.final_report_accepted {
            return Err(TransitionError::FinalReportNotAccepted);
        }
        if !context.payments_complete {
            return Err(TransitionError::PaymentsIncomplete);
        }
    }
    Ok(to)
}

/// The table's cell, guards aside.
pub fn target(
    status: DossierStatus,
    action: DossierAction,
    actor: DossierActor,
) -> Option<DossierStatus> {
    TRANSITIONS
        .iter()
        .find(|(from, a, who, _)| *from == status && *a == action && *who == actor)
        .map(|(_, _, _, to)| *to)
}

/// The applicant edits the dossier's content (answers, budget, performances,
/// documents) only while it is a draft or changes are requested.
pub fn editable_by_applicant(status: DossierStatus) -> bool {
    matches!(status, Draft | ChangesRequested)
}

pub const DOSSIER_TITLE_MAX: usize = 200;
pub const DOSSIER_SUMMARY_MAX: usize = 10_000;

/// What an applicant writes in a dossier, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DossierContentInput {
    pub title: String,
    pub summary: Option<String>,
    pub performance_ids: Vec<crate::ids::PerformanceId>,
    pub answers: serde_json::Value,
    pub budget: super::budget::BudgetInput,
}

/// A dossier's content, checked: its texts, its answers as far as given (a draft may
/// leave required questions for later: [`super::submission_problems`] asks for them),
/// its budget. Whether its performances are the applicant's is for whoever reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierContent {
    pub title: String,
    pub summary: Option<String>,
    pub performance_ids: Vec<crate::ids::PerformanceId>,
    pub answers: serde_json::Value,
    pub budget: super::budget::Budget,
}

impl DossierContent {
    /// Checks everything, reporting every bad field at once.
    pub fn parse(
        input: &DossierContentInput,
        questions: &[super::form::Question],
    ) -> Result<Self, crate::validation::ValidationError> {
        let mut errors = crate::validation::ValidationError::default();
        let title = errors.check("title", text::single_line(&input.title, DOSSIER_TITLE_MAX));
        let summary = input
            .summary
            .as_deref()
            .and_then(|s| errors.check("summary", text::multi_line(s, DOSSIER_SUMMARY_MAX)));
        if input.performance_ids.len() > super::rules::PERFORMANCES_MAX as usize {
            errors.push(
                "performance_ids",
                FieldProblem::TooMany {
                    max: super::rules::PERFORMANCES_MAX as usize,
                },
            );
        }
        errors
            .errors
            .extend(super::form::answer_problems(questions, &input.answers).errors);
        let budget = match super::budget::Budget::parse(&input.budget) {
            Ok(budget) => Some(budget),
            Err(problems) => {
                errors.errors.extend(problems.errors);
                None
            }
        };
        errors.into_result()?;
        match (title, budget) {
            (Some(title), Some(budget)) => Ok(Self {
                title,
                summary,
                performance_ids: input.performance_ids.clone(),
                answers: input.answers.clone(),
                budget,
            }),
            _ => Err(crate::validation::ValidationError::single(
                "title",
                FieldProblem::Required,
            )),
        }
    }
}

/// A dossier as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dossier {
    pub id: crate::ids::DossierId,
    pub reference: super::programme::DossierReference,
    pub call_id: crate::ids::CallId,
    pub programme_id: crate::ids::ProgrammeId,
    pub applicant_id: crate::ids::StructureId,
    pub status: DossierStatus,
    pub content: DossierContent,
    /// Set by approval.
    pub awarded_cents: Option<i64>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> TransitionContext {
        TransitionContext {
            reason: Some("Erreur d'instruction".to_owned()),
            final_report_accepted: true,
            payments_complete: true,
        }
    }

    /// Every (state, action, actor) cell. Columns: submit, request_changes,
    /// start_review, approve, reject, withdraw, dismiss, reopen, close; `--` is refused.
    #[test]
    fn every_cell_of_the_table_is_as_documented() {
        let code = |s: DossierStatus| match s {
            Draft => "dr",
            Submitted => "su",
            ChangesRequested => "ch",
            InReview => "ir",
            Approved => "ap",
            Rejected => "rj",
            Withdrawn => "wd",
            Dismissed => "di",
            Closed => "cl",
        };
        #[rustfmt::skip]
        let expected: [(DossierStatus, [&str; 9], [&str; 9]); 9] = [
            //                  applicant                                              staff
            (Draft,            ["su","--","--","--","--","wd","--","--","--"], ["--","--","--","--","--","--","--","--","--"]),
            (Submitted,        ["--","--","--","--","--","wd","--","--","--"], ["--","ch","ir","--","--","--","di","--","--"]),
            (ChangesRequested, ["su","--","--","--","--","wd","--","--","--"], ["--","--","--","--","--","--","di","--","--"]),
            (InReview,         ["--","--","--","--","--","wd","--","--","--"], ["--","--","--","ap","rj","--","di","--","--"]),
            (Approved,         ["--","--","--","--","--","--","--","--","--"], ["--","--","--","--","--","--","--","ir","cl"]),
            (Rejected,         ["--","--","--","--","--","--","--","--","--"], ["--","--","--","--","--","--","--","ir","--"]),
            (Withdrawn,        ["--","--","--","--","--","--","--","--","--"], ["--","--","--","--","--","--","--","--","--"]),
            (Dismissed,        ["--","--","--","--","--","--","--","--","--"], ["--","--","--","--","--","--","--","ir","--"]),
            (Closed,           ["--","--","--","--","--","--","--","--","--"], ["--","--","--","--","--","--","--","--","--"]),
        ];
        assert_eq!(expected.len(), DossierStatus::ALL.len());
        let mut cells = 0;
        for (status, by_applicant, by_staff) in expected {
            for (actor, row) in [(Applicant, by_applicant), (Staff, by_staff)] {
                for (action, cell) in DossierAction::ALL.iter().zip(row) {
                    let got = transition(status, *action, actor, &ok());
                    let shown = got.as_ref().map(|s| code(*s)).unwrap_or("--");
                    assert_eq!(shown, cell, "{status} {action} by {actor}: {got:?}");
                    assert_eq!(target(status, *action, actor).is_some(), cell != "--");
                    cells += 1;
                }
            }
        }
        assert_eq!(cells, 9 * 9 * 2);
    }

    #[test]
    fn a_refusal_says_whether_the_actor_or_the_state_is_wrong() {
        assert_eq!(
            transition(InReview, Approve, Applicant, &ok()),
            Err(TransitionError::NotPermitted {
                action: Approve,
                actor: Applicant
            })
        );
        assert_eq!(
            transition(Draft, Approve, Staff, &ok()),
            Err(TransitionError::NotFromStatus {
                status: Draft,
                action: Approve
            })
        );
        assert_eq!(
            transition(Approved, Withdraw, Applicant, &ok()),
            Err(TransitionError::NotFromStatus {
                status: Approved,
                action: Withdraw
            })
        );
        assert_eq!(
            transition(Draft, Submit, Staff, &ok())
                .map_err(|e| e.code())
                .unwrap_err(),
            "transition_not_permitted"
        );
    }

    #[test]
    fn reopening_needs_a_reason() {
        let none = TransitionContext::default();
        assert_eq!(
            transition(Rejected, Reopen, Staff, &none),
            Err(TransitionError::Reason {
                problem: FieldProblem::Required
            })
        );
        let blank = TransitionContext {
            reason: Some("  \n".to_owned()),
            ..none.clone()
        };
        assert_eq!(
            transition(Dismissed, Reopen, Staff, &blank),
            Err(TransitionError::Reason {
                problem: FieldProblem::Blank
            })
        );
        let long = TransitionContext {
            reason: Some("x".repeat(REASON_MAX + 1)),
            ..none.clone()
        };
        assert_eq!(
            transition(Submitted, RequestChanges, Staff, &long),
            Err(TransitionError::Reason {
                problem: FieldProblem::TooLong { max: REASON_MAX }
            })
        );
        // Other actions do not need one.
        assert_eq!(
            transition(Submitted, RequestChanges, Staff, &none),
            Ok(ChangesRequested)
        );
    }

    #[test]
    fn closing_needs_an_accepted_report_and_complete_payments() {
        let mut context = TransitionContext::default();
        assert_eq!(
            transition(Approved, Close, Staff, &context),
            Err(TransitionError::FinalReportNotAccepted)
        );
        context.final_report_accepted = true;
        assert_eq!(
            transition(Approved, Close, Staff, &context),
            Err(TransitionError::PaymentsIncomplete)
        );
        context.payments_complete = true;
        assert_eq!(transition(Approved, Close, Staff, &context), Ok(Closed));
    }

    #[test]
    fn the_applicant_edits_only_a_draft_or_when_changes_are_requested() {
        for status in DossierStatus::ALL {
            assert_eq!(
                editable_by_applicant(*status),
                matches!(status, Draft | ChangesRequested),
                "{status}"
            );
        }
    }
}

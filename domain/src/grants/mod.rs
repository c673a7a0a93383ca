//! Grants: programmes (dispositifs d'aide) and their rules, calls (appels à
//! candidatures), dossiers (dossiers de demande d'aide) from draft to payment.
//!
//! Everything here is pure: the rules are data a programme carries, evaluated by
//! functions that take what the database knows (the dossier's performances, what is
//! already approved this year, what is left of the envelope) as plain input.

pub mod aid;
pub mod attention;
pub mod budget;
pub mod call;
pub mod document;
pub mod dossier;
pub mod eligibility;
pub mod final_report;
pub mod form;
pub mod occitanie;
pub mod payment;
pub mod programme;
pub mod review;
pub mod rules;
pub mod submission;

pub use aid::{
    AidComputation, AlreadyApproved, Limit, PerformanceAid, Tally, awarded_per_performance,
    compute_aid,
};
pub use attention::{AttentionKind, is_cancellation};
pub use budget::{Budget, BudgetInput, BudgetLine, ExpenseCategory, IncomeCategory, LineInput};
pub use call::{
    Call, CallInput, CallPatch, CallState, CallWindow, End, NewCall, paris_instant,
    paris_wall_clock,
};
pub use document::{Document, DocumentFileName, DocumentFormat};
pub use dossier::{
    Dossier, DossierAction, DossierActor, DossierContent, DossierContentInput, DossierStatus,
    TRANSITIONS, TransitionContext, TransitionError, editable_by_applicant, transition,
};
pub use eligibility::{
    Applicant, FundedPerformance, Ineligibility, ineligibilities, performance_ineligibilities,
};
pub use final_report::{
    FinalReportAction, FinalReportContent, FinalReportError, FinalReportInput, FinalReportStatus,
    Held, HeldInput, report_transition,
};
pub use form::{
    AnswerKind, Question, QuestionKey, answer_problems, form_schema, unanswered_optional,
    validate_answers,
};
pub use payment::{
    ApprovalError, DEFAULT_ADVANCE, NewPayment, PaymentError, PaymentInput, PaymentKind,
    PaymentSchedule, RecordedPayment, ScheduledPayment, check_award, check_payment,
    check_scheduled_payment, payments_complete, total_paid,
};
pub use programme::{
    DossierReference, NewProgramme, Programme, ProgrammeCode, ProgrammeInput, ProgrammeKind,
};
pub use review::{
    CriterionInput, CriterionKey, CriterionMean, MessageSide, Review, ReviewCriterion, ReviewError,
    ReviewStatus, ReviewSummary, Scores, check_scores, message_text, reviewable, summarize,
};
pub use rules::{
    AmountRule, ApplicantRule, CapHolder, DocumentKind, EligibleBase, PerformanceRule, PlaceRule,
    Rate, RegionCode, Rules, RulesInput, YearlyCap,
};
pub use submission::{
    SubmissionCheck, SubmissionInput, SubmissionProblem, SubmissionWarning, submission_problems,
};

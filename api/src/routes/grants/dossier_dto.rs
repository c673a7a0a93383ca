//! Wire types of `/v1/dossiers`.

use chrono::{DateTime, Utc};
use domain::grants::{
    AidComputation, Budget, BudgetInput, CapHolder, Dossier, DossierStatus, Limit, LineInput,
    SubmissionCheck, SubmissionProblem, SubmissionWarning,
};
use persistence::grants::dossiers::Listing;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::enums;
use crate::http::pagination::Page;

/// One line of a budget.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetLineInput {
    /// An expense category (`artistic_pay`, `travel`…) or an income category
    /// (`agency_request`, `fees`…), as the side says.
    #[schema(pattern = "^[a-z_]{1,40}$")]
    pub category: String,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    pub label: Option<String>,
    /// In euro cents.
    #[schema(minimum = 0, maximum = 10_000_000_000i64)]
    pub amount_cents: i64,
}

/// A budget: expense and income lines; the request to the agency is the
/// `agency_request` income line.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetInputDto {
    #[serde(default)]
    #[schema(max_items = 100)]
    pub expenses: Vec<BudgetLineInput>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub incomes: Vec<BudgetLineInput>,
}

fn line_inputs(lines: Vec<BudgetLineInput>) -> Vec<LineInput> {
    lines
        .into_iter()
        .map(|l| LineInput {
            category: l.category,
            label: l.label,
            amount_cents: l.amount_cents,
        })
        .collect()
}

impl From<BudgetInputDto> for BudgetInput {
    fn from(dto: BudgetInputDto) -> Self {
        Self {
            expenses: line_inputs(dto.expenses),
            incomes: line_inputs(dto.incomes),
        }
    }
}

/// A new dossier, a draft: for an open call, for a structure you file for. Required
/// answers and a balanced budget may wait for the submission; what is given is
/// checked now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "call_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10",
    "applicant_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d11",
    "title": "Tournée d'hiver en Aveyron",
    "performance_ids": ["01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d12"],
    "answers": {"audience": "tout public", "cultural_action": true},
    "budget": {
        "expenses": [{"category": "artistic_pay", "amount_cents": 300000}],
        "incomes": [{"category": "fees", "amount_cents": 200000}, {"category": "agency_request", "amount_cents": 100000}]
    }
}))]
pub struct CreateDossier {
    #[schema(value_type = uuid::Uuid)]
    pub call_id: domain::CallId,
    /// The structure that applies: one you file for.
    #[schema(value_type = uuid::Uuid)]
    pub applicant_id: domain::StructureId,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    pub title: String,
    #[schema(
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$",
        max_length = 10000
    )]
    pub summary: Option<String>,
    /// Performances of the applicant's productions.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 1000)]
    pub performance_ids: Vec<domain::PerformanceId>,
    /// Answers to the programme's questions (`GET /v1/programmes/{id}/form-schema`).
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    #[serde(default)]
    pub budget: BudgetInputDto,
}

pub(crate) fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// Changes to a dossier, as a JSON merge patch: absent fields stay, `null` clears the
/// summary; `answers` merge key by key (`null` removes an answer); each side of the
/// budget, when given, replaces that side whole.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Tournée d'hiver", "answers": {"expected_attendance": 120}}))]
pub struct UpdateDossier {
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$", max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$", max_length = 10000)]
    pub summary: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 1000)]
    pub performance_ids: Option<Vec<domain::PerformanceId>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Object)]
    pub answers: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    pub budget: Option<BudgetPatch>,
}

/// The sides of a budget to replace.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetPatch {
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Vec<BudgetLineInput>, max_items = 100)]
    pub expenses: Option<Vec<BudgetLineInput>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Vec<BudgetLineInput>, max_items = 100)]
    pub incomes: Option<Vec<BudgetLineInput>>,
}

/// A budget line as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetLineView {
    pub category: String,
    pub label: Option<String>,
    pub amount_cents: i64,
}

/// A dossier's budget and its totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetView {
    pub expenses: Vec<BudgetLineView>,
    pub incomes: Vec<BudgetLineView>,
    pub total_expenses_cents: i64,
    pub total_incomes_cents: i64,
    /// Expenses equal incomes, to the cent.
    pub balanced: bool,
}

impl From<&Budget> for BudgetView {
    fn from(budget: &Budget) -> Self {
        Self {
            expenses: budget
                .expenses()
                .iter()
                .map(|l| BudgetLineView {
                    category: l.category().as_str().to_owned(),
                    label: l.label().map(str::to_owned),
                    amount_cents: l.amount_cents(),
                })
                .collect(),
            incomes: budget
                .incomes()
                .iter()
                .map(|l| BudgetLineView {
                    category: l.category().as_str().to_owned(),
                    label: l.label().map(str::to_owned),
                    amount_cents: l.amount_cents(),
                })
                .collect(),
            total_expenses_cents: budget.total_expenses_cents(),
            total_incomes_cents: budget.total_incomes_cents(),
            balanced: budget.is_balanced(),
        }
    }
}

/// What the rules allow for one performance.
#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceAidView {
    pub performance_id: uuid::Uuid,
    /// The eligible base (the prix de cession), in cents.
    pub base_cents: i64,
    pub aid_cents: i64,
    #[schema(value_type = enums::AidLimit)]
    pub limited_by: Limit,
    /// Whose yearly cap limited it (`presenter` or `applicant`), when a yearly cap did.
    #[schema(value_type = Option<enums::CapHolder>)]
    pub cap_holder: Option<CapHolder>,
}

/// The maximum aid the programme's rules compute for the dossier, and the rule that
/// limited it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AidView {
    pub total_cents: i64,
    #[schema(value_type = enums::AidLimit)]
    pub limited_by: Limit,
    pub performances: Vec<PerformanceAidView>,
}

impl From<&AidComputation> for AidView {
    fn from(aid: &AidComputation) -> Self {
        Self {
            total_cents: aid.total_cents,
            limited_by: aid.limited_by,
            performances: aid
                .performances
                .iter()
                .map(|p| PerformanceAidView {
                    performance_id: p.performance.as_uuid(),
                    base_cents: p.base_cents,
                    aid_cents: p.aid_cents,
                    limited_by: p.limited_by,
                    cap_holder: p.cap_holder,
                })
                .collect(),
        }
    }
}

/// A dossier (dossier de demande d'aide).
// It borrows the dossier's text and answers rather than copying them: cloning the
// answers was 6 % of a list's time (perf).
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierView<'a> {
    pub id: uuid::Uuid,
    /// `{PROGRAMME}-{YEAR}-{NNNN}`, unique.
    #[schema(example = "DIFF-PROX-2027-0042")]
    pub reference: String,
    pub call_id: uuid::Uuid,
    pub programme_id: uuid::Uuid,
    pub applicant_id: uuid::Uuid,
    #[schema(value_type = enums::DossierStatus)]
    pub status: DossierStatus,
    pub title: &'a str,
    pub summary: Option<&'a str>,
    pub performance_ids: Vec<uuid::Uuid>,
    #[schema(value_type = Object)]
    pub answers: &'a serde_json::Value,
    pub budget: BudgetView,
    /// The `agency_request` income line, in cents.
    pub requested_cents: Option<i64>,
    /// The maximum aid the rules allow, as computed now (in a dossier's own answers;
    /// not in lists).
    pub maximum: Option<AidView>,
    /// Set by approval.
    pub awarded_cents: Option<i64>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(example = 1)]
    pub version: i64,
}

impl<'a> DossierView<'a> {
    pub fn of(dossier: &'a Dossier, maximum: Option<&AidComputation>) -> Self {
        let content = &dossier.content;
        Self {
            id: dossier.id.as_uuid(),
            reference: dossier.reference.to_string(),
            call_id: dossier.call_id.as_uuid(),
            programme_id: dossier.programme_id.as_uuid(),
            applicant_id: dossier.applicant_id.as_uuid(),
            status: dossier.status,
            title: &content.title,
            summary: content.summary.as_deref(),
            performance_ids: content
                .performance_ids
                .iter()
                .map(|p| p.as_uuid())
                .collect(),
            answers: &content.answers,
            budget: BudgetView::from(&content.budget),
            requested_cents: content.budget.requested_cents(),
            maximum: maximum.map(AidView::from),
            awarded_cents: dossier.awarded_cents,
            submitted_at: dossier.submitted_at,
            decided_at: dossier.decided_at,
            created_at: dossier.created_at,
            updated_at: dossier.updated_at,
            version: dossier.version,
        }
    }
}

/// One reason a dossier cannot be submitted yet, or a warning.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckItem {
    /// Stable, machine-readable (`call_closed`, `answer_missing`, `document_missing`,
    /// `budget_unbalanced`, `above_maximum`, `commune_population`…).
    #[schema(example = "answer_missing")]
    pub code: &'static str,
    /// The field it is about, where there is one.
    #[schema(example = "answers.audience")]
    pub field: Option<String>,
    pub message: String,
}

/// What a submission would say now: every problem and warning.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    /// No problem: the dossier may be submitted.
    pub submittable: bool,
    pub problems: Vec<CheckItem>,
    pub warnings: Vec<CheckItem>,
    pub maximum: AidView,
}

/// The field a submission problem is about.
pub(crate) fn problem_field(problem: &SubmissionProblem) -> Option<String> {
    use domain::grants::Ineligibility as I;
    Some(match problem {
        SubmissionProblem::CallNotOpenYet { .. } | SubmissionProblem::CallClosed { .. } => {
            "call_id".to_owned()
        }
        SubmissionProblem::Answer { field, .. } => field.clone(),
        SubmissionProblem::DocumentMissing { .. } => "documents".to_owned(),
        SubmissionProblem::BudgetUnbalanced { .. } => "budget".to_owned(),
        SubmissionProblem::RequestMissing => "budget.incomes".to_owned(),
        SubmissionProblem::AboveMaximum { .. } => "budget.incomes".to_owned(),
        SubmissionProblem::Ineligible(I::ApplicantKind { .. } | I::ApplicantRegion { .. }) => {
            "applicant_id".to_owned()
        }
        SubmissionProblem::Ineligible(_) => "performance_ids".to_owned(),
    })
}

impl From<&SubmissionCheck> for CheckView {
    fn from(check: &SubmissionCheck) -> Self {
        Self {
            submittable: check.is_submittable(),
            problems: check
                .problems
                .iter()
                .map(|p| CheckItem {
                    code: p.code(),
                    field: problem_field(p),
                    message: p.to_string(),
                })
                .collect(),
            warnings: check
                .warnings
                .iter()
                .map(|w: &SubmissionWarning| CheckItem {
                    code: w.code(),
                    field: None,
                    message: w.to_string(),
                })
                .collect(),
            maximum: AidView::from(&check.maximum),
        }
    }
}

/// One page of dossiers.
pub type DossierPage<'a> = Page<DossierView<'a>>;

/// How lists show a dossier: its [`DossierView`] without `maximum`, rendered at every
/// write and kept with the dossier (see [`Listing`]).
pub const DOSSIER_LISTING: Listing = Listing {
    // Change it with the rendering: rows of the former one are then rendered again.
    format: 1,
    render: listed_view,
};

fn listed_view(dossier: &Dossier) -> Result<String, serde_json::Error> {
    serde_json::to_string(&DossierView::of(dossier, None))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListDossiersParams {
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page, with the same filters.
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    #[param(value_type = Option<enums::DossierStatus>)]
    pub status: Option<DossierStatus>,
    /// Dossiers of this call.
    pub call_id: Option<uuid::Uuid>,
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};
    use utoipa::PartialSchema;

    use super::*;

    /// Stored list renderings ([`DOSSIER_LISTING`]) are made again only when their format
    /// changes: a change to what a dossier's view holds must come with a new format.
    #[test]
    fn the_listing_format_changes_with_the_dossier_view() {
        let schemas = [
            DossierView::schema(),
            BudgetView::schema(),
            BudgetLineView::schema(),
        ];
        let digest = Sha256::digest(serde_json::to_vec(&schemas).unwrap());
        assert_eq!(
            (DOSSIER_LISTING.format, format!("{digest:x}")),
            (
                1,
                String::from("0714e7cd0c52aa4911ed136a698d894a1abb4c4629fd8d4d6fb77970df1aca95")
            ),
            "the dossier's view changed: give DOSSIER_LISTING a new format, and pin the new digest here"
        );
    }
}

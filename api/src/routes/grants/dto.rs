//! Wire types of `/v1/programmes` and `/v1/calls`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use domain::grants::{
    Call, CriterionInput, NewProgramme, Programme, ProgrammeKind, ReviewCriterion,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::enums;
use crate::http::pagination::Page;

/// A grant programme (dispositif d'aide) and the rules the domain evaluates for it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeView {
    #[schema(example = "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10")]
    pub id: uuid::Uuid,
    /// The first part of its dossiers' references.
    #[schema(example = "DIFF-PROX")]
    pub code: String,
    #[schema(example = "Aide à la diffusion de proximité")]
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = enums::ProgrammeKind)]
    pub kind: ProgrammeKind,
    /// Unpublished programmes (and their calls) are seen by agency staff only.
    pub published: bool,
    /// Who may apply, what is funded, how much, what is attached and asked.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
    /// What committee reviewers score its dossiers against, in order.
    pub review_criteria: Vec<ReviewCriterionView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; also sent as the `ETag`.
    #[schema(example = 1)]
    pub version: i64,
}

/// A criterion reviewers score a dossier against (critère d'évaluation), from 0 to
/// `max_score`; it counts `weight` times in the weighted total.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"key": "ancrage_territorial", "label": "Ancrage territorial", "max_score": 10, "weight": 1}))]
pub struct ReviewCriterionView {
    pub key: String,
    pub label: String,
    pub max_score: u32,
    pub weight: u32,
}

impl From<&ReviewCriterion> for ReviewCriterionView {
    fn from(criterion: &ReviewCriterion) -> Self {
        Self {
            key: criterion.key.to_string(),
            label: criterion.label.clone(),
            max_score: criterion.max_score,
            weight: criterion.weight,
        }
    }
}

/// A criterion as staff write it: keys unique within the programme.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewCriterionInput {
    /// 1 to 64 lower-case letters, digits and underscores, starting with a letter.
    #[schema(pattern = "^[a-z][a-z0-9_]{0,63}$", max_length = 64)]
    pub key: String,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    pub label: String,
    #[serde(deserialize_with = "crate::http::extract::integer")]
    #[schema(minimum = 1, maximum = 1000)]
    pub max_score: i64,
    /// 1 by default.
    #[serde(default = "one", deserialize_with = "crate::http::extract::integer")]
    #[schema(minimum = 1, maximum = 100, default = 1)]
    pub weight: i64,
}

fn one() -> i64 {
    1
}

pub(crate) fn criteria_input(criteria: Vec<ReviewCriterionInput>) -> Vec<CriterionInput> {
    criteria
        .into_iter()
        .map(|c| CriterionInput {
            key: c.key,
            label: c.label,
            max_score: c.max_score,
            weight: Some(c.weight),
        })
        .collect()
}

/// The criteria a programme holds, as a patch that leaves them would give them back.
pub(crate) fn criteria_as_input(criteria: &[ReviewCriterion]) -> Vec<CriterionInput> {
    criteria
        .iter()
        .map(|c| CriterionInput {
            key: c.key.to_string(),
            label: c.label.clone(),
            max_score: i64::from(c.max_score),
            weight: Some(i64::from(c.weight)),
        })
        .collect()
}

impl From<Programme> for ProgrammeView {
    fn from(programme: Programme) -> Self {
        let data = programme.data;
        Self {
            id: programme.id.as_uuid(),
            code: data.code.to_string(),
            name: data.name,
            description: data.description,
            kind: data.kind,
            published: data.published,
            // Rules serialize as plain data; a failure cannot happen.
            rules: serde_json::to_value(&data.rules).unwrap_or(serde_json::Value::Null),
            review_criteria: data.review_criteria.iter().map(Into::into).collect(),
            created_at: programme.created_at,
            updated_at: programme.updated_at,
            version: programme.version,
        }
    }
}

/// A new programme. `rules` is checked by the domain: every bad rule is named.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "DIFF-PROX",
    "name": "Aide à la diffusion de proximité",
    "kind": "diffusion",
    "published": true,
    "rules": {
        "applicants": {"kinds": ["company"], "based_in_region": "76"},
        "performances": {"places": [{"area": "in_region", "region": "76"}], "commune_population_below": 15000},
        "amounts": {"base": "fee", "rate_basis_points": 5000, "floor_cents": 50000, "cap_per_performance_cents": 200000}
    }
}))]
pub struct CreateProgramme {
    /// 2 to 20 capital letters, digits and inner hyphens; unique.
    #[schema(pattern = "^[A-Z0-9]+(-[A-Z0-9]+)*$", min_length = 2, max_length = 20)]
    pub code: String,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    pub name: String,
    #[schema(
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$",
        max_length = 10000
    )]
    pub description: Option<String>,
    #[schema(value_type = enums::ProgrammeKind)]
    pub kind: String,
    #[serde(default)]
    pub published: bool,
    /// The programme's rules (see the example).
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
    /// What reviewers score its dossiers against (none by default), at most 20.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub review_criteria: Vec<ReviewCriterionInput>,
}

/// Changes to a programme, as a JSON merge patch: absent fields stay, `null` clears the
/// description; `rules`, when given, replace the rules whole. The result is checked as
/// a whole.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"published": false}))]
pub struct UpdateProgramme {
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = "^[A-Z0-9]+(-[A-Z0-9]+)*$", min_length = 2, max_length = 20)]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$", max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$", max_length = 10000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = enums::ProgrammeKind)]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = bool)]
    pub published: Option<bool>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Object)]
    pub rules: Option<serde_json::Value>,
    /// When given, replace the criteria whole (`[]` removes them).
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Vec<ReviewCriterionInput>, max_items = 20)]
    pub review_criteria: Option<Vec<ReviewCriterionInput>>,
}

/// What a programme's data was, as the patch overlays it.
pub(crate) fn programme_fields(
    data: &NewProgramme,
) -> (String, String, Option<String>, String, bool) {
    (
        data.code.to_string(),
        data.name.clone(),
        data.description.clone(),
        data.kind.as_str().to_owned(),
        data.published,
    )
}

/// One page of programmes.
pub type ProgrammePage = Page<ProgrammeView>;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListProgrammesParams {
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// A call (appel à candidatures, session) of a programme.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    #[schema(example = "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10")]
    pub id: uuid::Uuid,
    pub programme_id: uuid::Uuid,
    #[schema(example = "Session de printemps 2027")]
    pub title: String,
    /// When it opens, as Europe/Paris wall-clock time.
    #[schema(value_type = String, example = "2027-01-04T09:00:00")]
    pub opens_at: NaiveDateTime,
    /// When it closes, as Europe/Paris wall-clock time.
    #[schema(value_type = String, example = "2027-03-01T00:00:00")]
    pub closes_at: NaiveDateTime,
    /// `opens_at` as an instant.
    pub opens_at_utc: DateTime<Utc>,
    /// `closes_at` as an instant: dossiers are submitted strictly before.
    pub closes_at_utc: DateTime<Utc>,
    #[schema(example = "Europe/Paris")]
    pub time_zone: &'static str,
    #[schema(value_type = enums::CallState)]
    pub state: domain::grants::CallState,
    pub committee_date: Option<NaiveDate>,
    /// The budget envelope, in euro cents.
    #[schema(example = 5_000_000)]
    pub envelope_cents: i64,
    /// What its approved dossiers were awarded so far, in euro cents.
    #[schema(example = 0)]
    pub awarded_cents: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(example = 1)]
    pub version: i64,
}

impl CallView {
    pub fn of(call: Call, now: DateTime<Utc>) -> Self {
        let paris = |at: DateTime<Utc>| {
            at.with_timezone(&domain::programming::performance::PARIS)
                .naive_local()
        };
        let window = call.data.window;
        Self {
            id: call.id.as_uuid(),
            programme_id: call.data.programme_id.as_uuid(),
            title: call.data.title,
            opens_at: paris(window.opens_at()),
            closes_at: paris(window.closes_at()),
            opens_at_utc: window.opens_at(),
            closes_at_utc: window.closes_at(),
            time_zone: "Europe/Paris",
            state: window.state(now),
            committee_date: call.data.committee_date,
            envelope_cents: call.data.envelope_cents,
            awarded_cents: call.awarded_cents,
            created_at: call.created_at,
            updated_at: call.updated_at,
            version: call.version,
        }
    }
}

/// A new call. Its times are Europe/Paris wall-clock times without offset
/// (`2027-03-01T00:00`): in the autumn's repeated hour a call opens at the first and
/// closes at the second; a time in the spring's missing hour moves an hour later.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "programme_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10",
    "title": "Session de printemps 2027",
    "opens_at": "2027-01-04T09:00",
    "closes_at": "2027-03-01T00:00",
    "committee_date": "2027-04-15",
    "envelope_cents": 5000000
}))]
pub struct CreateCall {
    #[schema(value_type = uuid::Uuid)]
    pub programme_id: domain::ProgrammeId,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    pub title: String,
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")]
    pub opens_at: String,
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")]
    pub closes_at: String,
    #[schema(value_type = Option<NaiveDate>)]
    pub committee_date: Option<String>,
    /// In euro cents.
    #[schema(minimum = 0, maximum = 10_000_000_000i64)]
    pub envelope_cents: i64,
}

/// Changes to a call, as a JSON merge patch: absent fields stay, `null` clears the
/// committee date. Times are Paris wall-clock, as at creation; the envelope never goes
/// below what the call has already awarded.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"closes_at": "2027-04-01T00:00", "envelope_cents": 40000000}))]
pub struct UpdateCall {
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$", max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")]
    pub opens_at: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")]
    pub closes_at: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub committee_date: Option<Option<String>>,
    /// In euro cents.
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = i64, minimum = 0, maximum = 10_000_000_000i64)]
    pub envelope_cents: Option<i64>,
}

impl From<UpdateCall> for domain::grants::CallPatch {
    fn from(dto: UpdateCall) -> Self {
        Self {
            title: dto.title,
            opens_at: dto.opens_at,
            closes_at: dto.closes_at,
            committee_date: dto.committee_date,
            envelope_cents: dto.envelope_cents,
        }
    }
}

impl From<CreateCall> for domain::grants::CallInput {
    fn from(dto: CreateCall) -> Self {
        Self {
            title: dto.title,
            opens_at: dto.opens_at,
            closes_at: dto.closes_at,
            committee_date: dto.committee_date,
            envelope_cents: dto.envelope_cents,
        }
    }
}

/// One page of calls.
pub type CallPage = Page<CallView>;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListCallsParams {
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page, with the same filters.
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Calls of this programme.
    pub programme_id: Option<uuid::Uuid>,
    /// Only the calls open now (`true`).
    pub open: Option<bool>,
}

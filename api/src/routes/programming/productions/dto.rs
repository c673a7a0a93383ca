//! Wire types of `/v1/productions`.

use chrono::{DateTime, NaiveDate, Utc};
use domain::programming::{Audience, Production, ProductionInput, ProductionPatch, Space};
use domain::{Discipline, StructureId};
use serde::{Deserialize, Serialize};
use utoipa::openapi::Ref;
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};

use crate::enums;
use crate::http::pagination::Page;

/// A production (spectacle), owned by a structure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductionView {
    #[schema(example = "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10")]
    pub id: uuid::Uuid,
    /// The structure that owns it (usually a company); never changes.
    pub structure_id: uuid::Uuid,
    #[schema(example = "Les Oiseaux de passage")]
    pub title: String,
    #[schema(value_type = Vec<enums::Discipline>)]
    pub disciplines: Vec<Discipline>,
    #[schema(value_type = enums::Audience)]
    pub audience: Audience,
    /// For a young audience only.
    #[schema(example = 6)]
    pub minimum_age: Option<i64>,
    #[schema(example = 55)]
    pub duration_minutes: i64,
    #[schema(value_type = enums::Space)]
    pub space: Space,
    pub premiere_date: Option<NaiveDate>,
    /// People on tour.
    #[schema(example = 4)]
    pub team_size: Option<i64>,
    pub description: Option<String>,
    pub links: Vec<String>,
    /// Unpublished productions are seen only by the structure's members and API clients
    /// and by agency staff.
    pub published: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented on every change; also sent as the `ETag`.
    #[schema(example = 1)]
    pub version: i64,
}

impl From<Production> for ProductionView {
    fn from(production: Production) -> Self {
        let data = production.data;
        Self {
            id: production.id.as_uuid(),
            structure_id: production.structure_id.as_uuid(),
            title: data.title,
            disciplines: data.disciplines,
            audience: data.audience,
            minimum_age: data.minimum_age,
            duration_minutes: data.duration_minutes,
            space: data.space,
            premiere_date: data.premiere_date,
            team_size: data.team_size,
            description: data.description,
            links: data.links,
            published: data.published,
            created_at: production.created_at,
            updated_at: production.updated_at,
            version: production.version,
        }
    }
}

pub(crate) const LINK: &str =
    r"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?(/[^\x00-\x20\x7F]*)?$";

/// A new production. A young audience needs a `minimum_age`, and only it takes one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "structure_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10",
    "title": "Les Oiseaux de passage",
    "disciplines": ["theatre", "puppetry"],
    "audience": "young_audience",
    "minimum_age": 6,
    "duration_minutes": 55,
    "space": "stage",
    "premiere_date": "2026-10-02",
    "team_size": 4,
    "links": ["https://oiseaux.example/teaser"],
    "published": true
}))]
pub struct CreateProduction {
    /// A structure you edit.
    #[schema(value_type = uuid::Uuid)]
    pub structure_id: StructureId,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    title: String,
    #[schema(schema_with = disciplines)]
    disciplines: Vec<String>,
    #[schema(value_type = enums::Audience)]
    audience: String,
    #[schema(minimum = 0, maximum = 18)]
    minimum_age: Option<i64>,
    #[schema(minimum = 1, maximum = 1440)]
    duration_minutes: i64,
    #[schema(value_type = enums::Space)]
    space: String,
    #[schema(value_type = Option<NaiveDate>)]
    premiere_date: Option<String>,
    #[schema(minimum = 1, maximum = 500)]
    team_size: Option<i64>,
    #[schema(
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$",
        max_length = 10000
    )]
    description: Option<String>,
    #[serde(default)]
    #[schema(schema_with = links)]
    links: Vec<String>,
    #[serde(default)]
    published: bool,
}

impl From<CreateProduction> for ProductionInput {
    fn from(dto: CreateProduction) -> Self {
        Self {
            title: dto.title,
            disciplines: dto.disciplines,
            audience: dto.audience,
            minimum_age: dto.minimum_age,
            duration_minutes: dto.duration_minutes,
            space: dto.space,
            premiere_date: dto.premiere_date,
            team_size: dto.team_size,
            description: dto.description,
            links: dto.links,
            published: dto.published,
        }
    }
}

/// Disciplines: a set of 1 to 5.
pub(crate) fn disciplines() -> Array {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(
            <enums::Discipline as utoipa::ToSchema>::name(),
        ))
        .min_items(Some(1))
        .max_items(Some(domain::programming::production::DISCIPLINES_MAX))
        .unique_items(true)
        .build()
}

/// Links: at most 10 http(s) URLs.
fn links() -> Array {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .pattern(Some(LINK))
                .max_length(Some(domain::structures::WEBSITE_MAX)),
        )
        .max_items(Some(domain::programming::production::LINKS_MAX))
        .build()
}

/// Changes to a production, as a JSON merge patch: absent fields stay, `null` clears an
/// optional one. The result is checked as a whole. Its structure never changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"published": true, "team_size": null}))]
pub struct UpdateProduction {
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$", max_length = 200)]
    title: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(schema_with = disciplines)]
    disciplines: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = enums::Audience)]
    audience: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 18)]
    minimum_age: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = i64, minimum = 1, maximum = 1440)]
    duration_minutes: Option<i64>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = enums::Space)]
    space: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    premiere_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 500)]
    team_size: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$", max_length = 10000)]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(schema_with = links)]
    links: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = bool)]
    published: Option<bool>,
}

impl From<UpdateProduction> for ProductionPatch {
    fn from(dto: UpdateProduction) -> Self {
        Self {
            title: dto.title,
            disciplines: dto.disciplines,
            audience: dto.audience,
            minimum_age: dto.minimum_age,
            duration_minutes: dto.duration_minutes,
            space: dto.space,
            premiere_date: dto.premiere_date,
            team_size: dto.team_size,
            description: dto.description,
            links: dto.links,
            published: dto.published,
        }
    }
}

/// One page of productions.
pub type ProductionPage = Page<ProductionView>;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListProductionsParams {
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page, with the same filters.
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Productions of this structure.
    pub structure: Option<uuid::Uuid>,
    #[param(value_type = Option<enums::Discipline>)]
    pub discipline: Option<Discipline>,
    /// Young-audience productions only (`true`) or none of them (`false`).
    pub young_audience: Option<bool>,
    /// Changed at or after this instant (RFC 3339); orders the list by last change.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub updated_since: Option<String>,
}

//! Wire types of `/v1/tours`.

use chrono::{DateTime, NaiveDate, Utc};
use domain::ProductionId;
use domain::programming::{Tour, TourInput, TourPatch};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::pagination::Page;

/// A tour (tournée): a named run of one production's performances over a period. Seen
/// and changed by whoever sees and changes its production.
#[derive(Debug, Serialize, ToSchema)]
pub struct TourView {
    pub id: uuid::Uuid,
    pub production_id: uuid::Uuid,
    #[schema(example = "Tournée d'hiver 2027")]
    pub name: String,
    pub starts_on: NaiveDate,
    /// Not before `starts_on`.
    pub ends_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(example = 1)]
    pub version: i64,
}

impl From<Tour> for TourView {
    fn from(tour: Tour) -> Self {
        Self {
            id: tour.id.as_uuid(),
            production_id: tour.production_id.as_uuid(),
            name: tour.data.name,
            starts_on: tour.data.starts_on,
            ends_on: tour.data.ends_on,
            created_at: tour.created_at,
            updated_at: tour.updated_at,
            version: tour.version,
        }
    }
}

/// A new tour of a production you edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "production_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10",
    "name": "Tournée d'hiver 2027",
    "starts_on": "2027-01-10",
    "ends_on": "2027-02-28"
}))]
pub struct CreateTour {
    #[schema(value_type = uuid::Uuid)]
    pub production_id: ProductionId,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200
    )]
    name: String,
    #[schema(value_type = NaiveDate)]
    starts_on: String,
    /// Not before `starts_on`.
    #[schema(value_type = NaiveDate)]
    ends_on: String,
}

impl From<CreateTour> for TourInput {
    fn from(dto: CreateTour) -> Self {
        Self {
            name: dto.name,
            starts_on: dto.starts_on,
            ends_on: dto.ends_on,
        }
    }
}

/// Changes to a tour, as a JSON merge patch; its production never changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ends_on": "2027-03-15"}))]
pub struct UpdateTour {
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$", max_length = 200)]
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = NaiveDate)]
    starts_on: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = NaiveDate)]
    ends_on: Option<String>,
}

impl From<UpdateTour> for TourPatch {
    fn from(dto: UpdateTour) -> Self {
        Self {
            name: dto.name,
            starts_on: dto.starts_on,
            ends_on: dto.ends_on,
        }
    }
}

/// One page of tours.
pub type TourPage = Page<TourView>;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListToursParams {
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page, with the same filters.
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Tours of this production.
    pub production: Option<uuid::Uuid>,
}

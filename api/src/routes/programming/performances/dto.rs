//! Wire types of `/v1/performances`.

use chrono::{DateTime, Utc};
use domain::programming::{
    Accessibility, Booking, Performance, PerformanceInput, PerformancePatch, PerformanceStatus,
    Place, PlaceInput, Show, ShowInput,
};
use domain::{Discipline, ProductionId, StructureId, TourId};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Array, ArrayBuilder, OneOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::enums;
use crate::http::pagination::Page;

/// A show from outside the system, as a performance holds it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutsideShow {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200,
        example = "Le Grand Bal"
    )]
    pub title: String,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200,
        example = "Compagnie d'ailleurs"
    )]
    pub company_name: String,
    #[schema(value_type = enums::Discipline)]
    pub discipline: String,
}

/// An inline place as stored: a French commune, or a city abroad.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceView {
    #[schema(example = "Salle des fêtes")]
    pub name: String,
    /// Abroad only (French places are named by `commune_code`).
    pub city: Option<String>,
}

/// An inline place as a client writes it (see the two schemas).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceInputDto {
    name: String,
    commune_code: Option<String>,
    city: Option<String>,
    country_code: Option<String>,
}

/// A place in France: its commune by INSEE code (département and region are derived).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct FrenchPlaceInput {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200,
        example = "Salle des fêtes"
    )]
    name: String,
    #[schema(pattern = "^(2[AB]|[0-9]{2})[0-9]{3}$", example = "34301")]
    commune_code: String,
}

/// A place abroad: a city and an ISO 3166-1 alpha-2 country other than `FR`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ForeignPlaceInput {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 200,
        example = "Théâtre National"
    )]
    name: String,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 100,
        example = "Bruxelles"
    )]
    city: String,
    #[schema(pattern = "^([A-EG-Z][A-Z]|F[A-QS-Z])$", example = "BE")]
    country_code: String,
}

impl PartialSchema for PlaceInputDto {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Ref::from_schema_name(FrenchPlaceInput::name()))
            .item(Ref::from_schema_name(ForeignPlaceInput::name()))
            .into()
    }
}

impl ToSchema for PlaceInputDto {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((FrenchPlaceInput::name().into(), FrenchPlaceInput::schema()));
        schemas.push((
            ForeignPlaceInput::name().into(),
            ForeignPlaceInput::schema(),
        ));
    }
}

impl From<PlaceInputDto> for PlaceInput {
    fn from(dto: PlaceInputDto) -> Self {
        Self {
            name: dto.name,
            commune_code: dto.commune_code,
            city: dto.city,
            country_code: dto.country_code,
        }
    }
}

impl From<OutsideShow> for ShowInput {
    fn from(dto: OutsideShow) -> Self {
        Self {
            title: dto.title,
            company_name: dto.company_name,
            discipline: dto.discipline,
        }
    }
}

/// A performance (représentation). `fee_cents` is present only for the production's
/// structure, the venue structure (their members and API clients) and agency staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceView {
    pub id: uuid::Uuid,
    /// The production shown, or null for an outside show (`show`).
    pub production_id: Option<uuid::Uuid>,
    /// The production's structure (the company side), with `production_id`.
    pub company_structure_id: Option<uuid::Uuid>,
    pub show: Option<OutsideShow>,
    /// The venue structure, or null for an inline `place`.
    pub venue_structure_id: Option<uuid::Uuid>,
    pub place: Option<PlaceView>,
    /// INSEE code of the commune, derived from the venue's address or the place.
    #[schema(example = "34301")]
    pub commune_code: Option<String>,
    #[schema(example = "34")]
    pub department_code: Option<String>,
    /// `76`: Occitanie.
    #[schema(example = "76")]
    pub region_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "FR")]
    pub country_code: Option<String>,
    pub starts_at: DateTime<Utc>,
    /// `starts_at` in the place's time zone.
    #[schema(example = "2027-03-01T20:30:00+01:00")]
    pub local_starts_at: String,
    /// IANA name.
    #[schema(example = "Europe/Paris")]
    pub time_zone: String,
    #[schema(value_type = enums::PerformanceStatus)]
    pub status: PerformanceStatus,
    #[schema(value_type = enums::Booking)]
    pub booking: Booking,
    /// Prix de cession, in euro cents: only for the company, the venue and staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>, example = 250000)]
    pub fee_cents: Option<Option<i64>>,
    pub capacity: Option<i64>,
    /// Once held.
    pub attendance: Option<i64>,
    pub ticketing_url: Option<String>,
    #[schema(value_type = Vec<enums::Accessibility>)]
    pub accessibility: Vec<Accessibility>,
    pub tour_id: Option<uuid::Uuid>,
    pub published: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(example = 1)]
    pub version: i64,
}

impl PerformanceView {
    pub fn new(performance: Performance, fee: bool) -> Self {
        let data = performance.data;
        let (production_id, company_structure_id, show) = match data.show {
            Show::Production { id, structure_id } => {
                (Some(id.as_uuid()), Some(structure_id.as_uuid()), None)
            }
            Show::Outside {
                title,
                company_name,
                discipline,
            } => (
                None,
                None,
                Some(OutsideShow {
                    title,
                    company_name,
                    discipline: discipline.as_str().to_owned(),
                }),
            ),
        };
        let (venue_structure_id, place) = match data.place {
            Place::Venue { structure_id } => (Some(structure_id.as_uuid()), None),
            Place::Commune { name } => (None, Some(PlaceView { name, city: None })),
            Place::Abroad { name, city } => (
                None,
                Some(PlaceView {
                    name,
                    city: Some(city),
                }),
            ),
        };
        Self {
            id: performance.id.as_uuid(),
            production_id,
            company_structure_id,
            show,
            venue_structure_id,
            place,
            commune_code: data.location.commune_code,
            department_code: data.location.department_code,
            region_code: data.location.region_code,
            country_code: data.location.country_code,
            starts_at: data.starts_at,
            local_starts_at: data.starts_at.with_timezone(&data.time_zone).to_rfc3339(),
            time_zone: data.time_zone.name().to_owned(),
            status: data.status,
            booking: data.booking,
            fee_cents: fee.then_some(data.fee_cents),
            capacity: data.capacity,
            attendance: data.attendance,
            ticketing_url: data.ticketing_url,
            accessibility: data.accessibility,
            tour_id: data.tour_id.map(|t| t.as_uuid()),
            published: data.published,
            created_at: performance.created_at,
            updated_at: performance.updated_at,
            version: performance.version,
        }
    }
}

/// A new performance: `production_id` or an outside `show`, and `venue_structure_id` or
/// an inline `place`, exactly one of each. You must edit the production's structure or
/// the venue (an outside show needs a venue you edit).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "production_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10",
    "place": {"name": "Salle des fêtes", "commune_code": "34301"},
    "starts_at": "2027-03-01T20:30:00+01:00",
    "booking": "confirmed",
    "fee_cents": 250000,
    "capacity": 300,
    "accessibility": ["wheelchair"],
    "published": true
}))]
pub struct CreatePerformance {
    #[schema(value_type = Option<uuid::Uuid>)]
    production_id: Option<ProductionId>,
    show: Option<OutsideShow>,
    #[schema(value_type = Option<uuid::Uuid>)]
    venue_structure_id: Option<StructureId>,
    place: Option<PlaceInputDto>,
    /// RFC 3339, with an offset; stored in UTC.
    #[schema(value_type = DateTime<Utc>)]
    starts_at: String,
    /// IANA name; Europe/Paris (or the overseas département's) by default for French places.
    #[schema(max_length = 64, example = "Europe/Paris")]
    time_zone: Option<String>,
    /// `scheduled` by default.
    #[schema(value_type = Option<enums::PerformanceStatus>)]
    status: Option<String>,
    /// `confirmed` by default.
    #[schema(value_type = Option<enums::Booking>)]
    booking: Option<String>,
    #[schema(minimum = 0, maximum = 10_000_000_000_i64)]
    fee_cents: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    capacity: Option<i64>,
    /// Only once the performance has started.
    #[schema(minimum = 0, maximum = 1_000_000)]
    attendance: Option<i64>,
    #[schema(
        pattern = r"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?(/[^\x00-\x20\x7F]*)?$",
        max_length = 2048
    )]
    ticketing_url: Option<String>,
    #[serde(default)]
    #[schema(schema_with = accessibility_set)]
    accessibility: Vec<String>,
    /// A tour of the same production.
    #[schema(value_type = Option<uuid::Uuid>)]
    tour_id: Option<TourId>,
    #[serde(default)]
    published: bool,
}

impl From<CreatePerformance> for PerformanceInput {
    fn from(dto: CreatePerformance) -> Self {
        Self {
            production_id: dto.production_id,
            show: dto.show.map(Into::into),
            venue_structure_id: dto.venue_structure_id,
            place: dto.place.map(Into::into),
            starts_at: dto.starts_at,
            time_zone: dto.time_zone,
            status: dto.status,
            booking: dto.booking,
            fee_cents: dto.fee_cents,
            capacity: dto.capacity,
            attendance: dto.attendance,
            ticketing_url: dto.ticketing_url,
            accessibility: dto.accessibility,
            tour_id: dto.tour_id,
            published: dto.published,
        }
    }
}

/// Accessibility: a set.
fn accessibility_set() -> Array {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(
            <enums::Accessibility as ToSchema>::name(),
        ))
        .max_items(Some(Accessibility::ALL.len()))
        .unique_items(true)
        .build()
}

/// Changes to a performance, as a JSON merge patch: absent fields stay, `null` clears.
/// The result is checked as a whole: to swap `production_id` for a `show` (or
/// `venue_structure_id` for a `place`), send the new one and `null` for the other.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "cancelled", "fee_cents": null}))]
pub struct UpdatePerformance {
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<uuid::Uuid>)]
    production_id: Option<Option<ProductionId>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<OutsideShow>)]
    show: Option<Option<OutsideShow>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<uuid::Uuid>)]
    venue_structure_id: Option<Option<StructureId>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<PlaceInputDto>)]
    place: Option<Option<PlaceInputDto>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = DateTime<Utc>)]
    starts_at: Option<String>,
    /// `null`: back to the place's default zone.
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 64)]
    time_zone: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = enums::PerformanceStatus)]
    status: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = enums::Booking)]
    booking: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000_000_i64)]
    fee_cents: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000)]
    capacity: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000)]
    attendance: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, pattern = r"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?(/[^\x00-\x20\x7F]*)?$", max_length = 2048)]
    ticketing_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(schema_with = accessibility_set)]
    accessibility: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<uuid::Uuid>)]
    tour_id: Option<Option<TourId>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = bool)]
    published: Option<bool>,
}

impl From<UpdatePerformance> for PerformancePatch {
    fn from(dto: UpdatePerformance) -> Self {
        Self {
            production_id: dto.production_id,
            show: dto.show.map(|s| s.map(Into::into)),
            venue_structure_id: dto.venue_structure_id,
            place: dto.place.map(|p| p.map(Into::into)),
            starts_at: dto.starts_at,
            time_zone: dto.time_zone,
            status: dto.status,
            booking: dto.booking,
            fee_cents: dto.fee_cents,
            capacity: dto.capacity,
            attendance: dto.attendance,
            ticketing_url: dto.ticketing_url,
            accessibility: dto.accessibility,
            tour_id: dto.tour_id,
            published: dto.published,
        }
    }
}

/// One page of performances.
pub type PerformancePage = Page<PerformanceView>;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPerformancesParams {
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page, with the same filters.
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Performances of this production.
    pub production: Option<uuid::Uuid>,
    /// Performances of this structure, on either side: its productions, or at it.
    pub structure: Option<uuid::Uuid>,
    /// Performances at this venue structure.
    pub venue: Option<uuid::Uuid>,
    /// INSEE code of a département (`34`, `2A`, `971`).
    #[param(pattern = "^(2[AB]|[0-9]{2,3})$", max_length = 3, example = "34")]
    pub department: Option<String>,
    /// INSEE code of a commune (`34172`: Montpellier).
    #[param(
        pattern = "^(2[AB]|[0-9]{2})[0-9]{3}$",
        max_length = 5,
        example = "34172"
    )]
    pub commune: Option<String>,
    /// INSEE code of a region (`76`: Occitanie).
    #[param(pattern = "^[0-9]{2}$", max_length = 2, example = "76")]
    pub region: Option<String>,
    /// Outside `region` (Occitanie, `76`, when none is given), abroad included.
    pub outside_region: Option<bool>,
    #[param(value_type = Option<enums::Discipline>)]
    pub discipline: Option<Discipline>,
    /// Starting at or after this instant (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub from: Option<String>,
    /// Starting before this instant (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub to: Option<String>,
    #[param(value_type = Option<enums::PerformanceStatus>)]
    pub status: Option<PerformanceStatus>,
    /// Of young-audience productions (`true`), or not (`false`).
    pub young_audience: Option<bool>,
    /// In French communes of at most this many inhabitants.
    #[param(minimum = 0, example = 15000)]
    pub max_commune_population: Option<i64>,
    /// Changed at or after this instant (RFC 3339); orders the list by last change.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub updated_since: Option<String>,
    pub published: Option<bool>,
}

/// The filters of the list, for the exports (every matching performance, no pages).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PerformanceFilters {
    /// Performances of this production.
    pub production: Option<uuid::Uuid>,
    /// Performances of this structure, on either side: its productions, or at it.
    pub structure: Option<uuid::Uuid>,
    /// Performances at this venue structure.
    pub venue: Option<uuid::Uuid>,
    /// INSEE code of a département (`34`, `2A`, `971`).
    #[param(pattern = "^(2[AB]|[0-9]{2,3})$", max_length = 3, example = "34")]
    pub department: Option<String>,
    /// INSEE code of a commune (`34172`: Montpellier).
    #[param(
        pattern = "^(2[AB]|[0-9]{2})[0-9]{3}$",
        max_length = 5,
        example = "34172"
    )]
    pub commune: Option<String>,
    /// INSEE code of a region (`76`: Occitanie).
    #[param(pattern = "^[0-9]{2}$", max_length = 2, example = "76")]
    pub region: Option<String>,
    /// Outside `region` (Occitanie, `76`, when none is given), abroad included.
    pub outside_region: Option<bool>,
    #[param(value_type = Option<enums::Discipline>)]
    pub discipline: Option<Discipline>,
    /// Starting at or after this instant (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub from: Option<String>,
    /// Starting before this instant (RFC 3339).
    #[param(value_type = Option<DateTime<Utc>>)]
    pub to: Option<String>,
    #[param(value_type = Option<enums::PerformanceStatus>)]
    pub status: Option<PerformanceStatus>,
    /// Of young-audience productions (`true`), or not (`false`).
    pub young_audience: Option<bool>,
    /// In French communes of at most this many inhabitants.
    #[param(minimum = 0, example = 15000)]
    pub max_commune_population: Option<i64>,
    /// Changed at or after this instant (RFC 3339); orders the list by last change.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub updated_since: Option<String>,
}

impl ListPerformancesParams {
    /// Its filters, its `published` flag and its page (`limit`, `cursor`).
    pub fn split(
        self,
    ) -> (
        PerformanceFilters,
        Option<bool>,
        Option<u32>,
        Option<String>,
    ) {
        (
            PerformanceFilters {
                production: self.production,
                structure: self.structure,
                venue: self.venue,
                department: self.department,
                commune: self.commune,
                region: self.region,
                outside_region: self.outside_region,
                discipline: self.discipline,
                from: self.from,
                to: self.to,
                status: self.status,
                young_audience: self.young_audience,
                max_commune_population: self.max_commune_population,
                updated_since: self.updated_since,
            },
            self.published,
            self.limit,
            self.cursor,
        )
    }
}

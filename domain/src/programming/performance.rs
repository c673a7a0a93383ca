//! Performances (représentations, dates): a production, or a show from outside, at a
//! venue or an inline place, at an instant.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use regex::Regex;

use super::{optional, within};
use crate::geography::Geography;
use crate::ids::{PerformanceId, ProductionId, StructureId, TourId};
use crate::structures::{
    Address, CITY_MAX, COMMUNE_CODE_PATTERN, COUNTRY_PATTERN, Discipline, FRANCE, WEBSITE_MAX,
    WEBSITE_PATTERN,
};
use crate::text::{self, compile};
use crate::validation::{FieldProblem, ValidationError};

string_enum!(
    /// Where a performance stands, as schema.org's `EventStatusType` says it.
    PerformanceStatus {
        Scheduled = "scheduled",
        Cancelled = "cancelled",
        Postponed = "postponed",
        Rescheduled = "rescheduled",
        MovedOnline = "moved_online",
    }
);

string_enum!(
    /// How far the booking went.
    Booking {
        /// Pre-booked (option posée).
        Option = "option",
        Confirmed = "confirmed",
    }
);

string_enum!(
    /// What the performance offers for access.
    Accessibility {
        Wheelchair = "wheelchair",
        HearingLoop = "hearing_loop",
        AudioDescription = "audio_description",
        Surtitles = "surtitles",
        SignLanguage = "sign_language",
        /// Séance relax.
        Relaxed = "relaxed",
    }
);

pub const SHOW_TITLE_MAX: usize = 200;
pub const COMPANY_NAME_MAX: usize = 200;
pub const PLACE_NAME_MAX: usize = 200;
pub const TIME_ZONE_MAX: usize = 64;
/// A hundred million euros.
pub const FEE_MAX: i64 = 10_000_000_000;
pub const CAPACITY_MAX: i64 = 1_000_000;
/// The zone of a French place, but overseas.
pub const PARIS: Tz = chrono_tz::Europe::Paris;

static LINK: LazyLock<Regex> = LazyLock::new(|| compile(WEBSITE_PATTERN));
static COMMUNE_CODE: LazyLock<Regex> = LazyLock::new(|| compile(COMMUNE_CODE_PATTERN));
static COUNTRY: LazyLock<Regex> = LazyLock::new(|| compile(COUNTRY_PATTERN));

/// A show from outside the system, given inline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShowInput {
    pub title: String,
    pub company_name: String,
    pub discipline: String,
}

/// An inline place: a French commune by INSEE code, or a foreign city and country.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaceInput {
    pub name: String,
    pub commune_code: Option<String>,
    pub city: Option<String>,
    pub country_code: Option<String>,
}

/// A performance as a client writes it, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerformanceInput {
    pub production_id: Option<ProductionId>,
    pub show: Option<ShowInput>,
    pub venue_structure_id: Option<StructureId>,
    pub place: Option<PlaceInput>,
    pub starts_at: String,
    pub time_zone: Option<String>,
    pub status: Option<String>,
    pub booking: Option<String>,
    pub fee_cents: Option<i64>,
    pub capacity: Option<i64>,
    pub attendance: Option<i64>,
    pub ticketing_url: Option<String>,
    pub accessibility: Vec<String>,
    pub tour_id: Option<TourId>,
    pub published: bool,
}

/// What the ids of an input name, as read for the caller: `None` where there is no such
/// thing the caller may use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    pub production: Option<ProductionRef>,
    pub venue: Option<VenueRef>,
    pub tour: Option<TourRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionRef {
    pub id: ProductionId,
    pub structure_id: StructureId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueRef {
    pub id: StructureId,
    pub address: Option<Address>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TourRef {
    pub id: TourId,
    pub production_id: ProductionId,
}

/// What is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Show {
    Production {
        id: ProductionId,
        /// The production's structure: the company side.
        structure_id: StructureId,
    },
    Outside {
        title: String,
        company_name: String,
        discipline: Discipline,
    },
}

/// Where it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A venue structure: the venue side.
    Venue { structure_id: StructureId },
    /// A French place; its commune is in the [`Location`].
    Commune { name: String },
    /// A place abroad; its country is in the [`Location`].
    Abroad { name: String, city: String },
}

/// Where a performance is, derived at each write from its venue or place and stored, so
/// that territorial questions are one indexed query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub commune_code: Option<String>,
    pub department_code: Option<String>,
    pub region_code: Option<String>,
    pub country_code: Option<String>,
}

/// A performance whose every field has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerformance {
    pub show: Show,
    pub place: Place,
    pub location: Location,
    pub starts_at: DateTime<Utc>,
    pub time_zone: Tz,
    pub status: PerformanceStatus,
    pub booking: Booking,
    pub fee_cents: Option<i64>,
    pub capacity: Option<i64>,
    /// Only once the performance has started.
    pub attendance: Option<i64>,
    pub ticketing_url: Option<String>,
    /// Sorted, no duplicates.
    pub accessibility: Vec<Accessibility>,
    /// A tour of the same production.
    pub tour_id: Option<TourId>,
    pub published: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Performance {
    pub id: PerformanceId,
    pub data: NewPerformance,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A JSON merge patch of a performance: `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerformancePatch {
    pub production_id: Option<Option<ProductionId>>,
    pub show: Option<Option<ShowInput>>,
    pub venue_structure_id: Option<Option<StructureId>>,
    pub place: Option<Option<PlaceInput>>,
    pub starts_at: Option<String>,
    /// `Some(None)`: back to the place's default zone.
    pub time_zone: Option<Option<String>>,
    pub status: Option<String>,
    pub booking: Option<String>,
    pub fee_cents: Option<Option<i64>>,
    pub capacity: Option<Option<i64>>,
    pub attendance: Option<Option<i64>>,
    pub ticketing_url: Option<Option<String>>,
    pub accessibility: Option<Vec<String>>,
    pub tour_id: Option<Option<TourId>>,
    pub published: Option<bool>,
}

/// An RFC 3339 instant, kept to the microsecond (what both databases store).
pub fn instant(value: &str) -> Result<DateTime<Utc>, FieldProblem> {
    let parsed = DateTime::parse_from_rfc3339(value).map_err(|_| FieldProblem::Instant)?;
    let utc = parsed.with_timezone(&Utc);
    DateTime::from_timestamp_micros(utc.timestamp_micros()).ok_or(FieldProblem::Instant)
}

/// An IANA time zone name.
pub fn time_zone(value: &str) -> Result<Tz, FieldProblem> {
    if value.chars().count() > TIME_ZONE_MAX {
        return Err(FieldProblem::TooLong { max: TIME_ZONE_MAX });
    }
    value.parse::<Tz>().map_err(|_| FieldProblem::TimeZone)
}

/// The zone of a French département: Paris's, but overseas.
pub fn french_zone(department: Option<&str>) -> Tz {
    use chrono_tz::{America, Indian};
    match department {
        Some("971") => America::Guadeloupe,
        Some("972") => America::Martinique,
        Some("973") => America::Cayenne,
        Some("974") => Indian::Reunion,
        Some("976") => Indian::Mayotte,
        _ => PARIS,
    }
}

impl NewPerformance {
    /// Checks every field, reporting all problems at once. `references` holds what the
    /// input's ids name (read for the caller); `now` says whether it has started.
    pub fn parse(
        input: &PerformanceInput,
        references: &References,
        geography: &dyn Geography,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let show = show(&mut errors, input, references);
        let place = place(&mut errors, input, references, geography);
        let starts_at = errors.check("starts_at", instant(&input.starts_at));
        let time_zone = match (&input.time_zone, &place) {
            (Some(zone), _) => errors.check("time_zone", time_zone(zone)),
            (None, Some((_, location))) if location.country_code.as_deref() == Some(FRANCE) => {
                Some(french_zone(location.department_code.as_deref()))
            }
            (None, Some(_)) => {
                errors.push("time_zone", FieldProblem::Required);
                None
            }
            (None, None) => None,
        };
        let status = match &input.status {
            Some(status) => errors.check("status", PerformanceStatus::parse(status)),
            None => Some(PerformanceStatus::Scheduled),
        };
        let booking = match &input.booking {
            Some(booking) => errors.check("booking", Booking::parse(booking)),
            None => Some(Booking::Confirmed),
        };
        let fee_cents = optional(&mut errors, "fee_cents", input.fee_cents.as_ref(), |n| {
            within(*n, 0, FEE_MAX)
        });
        let capacity = optional(&mut errors, "capacity", input.capacity.as_ref(), |n| {
            within(*n, 0, CAPACITY_MAX)
        });
        let attendance = optional(&mut errors, "attendance", input.attendance.as_ref(), |n| {
            let n = within(*n, 0, CAPACITY_MAX)?;
            match starts_at {
                Some(starts_at) if starts_at > now => Err(FieldProblem::NotYetHeld),
                _ => Ok(n),
            }
        });
        let ticketing_url = optional(
            &mut errors,
            "ticketing_url",
            input.ticketing_url.as_deref(),
            |v| text::matching(v, &LINK, WEBSITE_MAX, FieldProblem::Website),
        );
        let accessibility = accessibility(&mut errors, &input.accessibility);
        let tour_id = input.tour_id.and_then(|tour| match &show {
            Some(Show::Outside { .. }) => {
                errors.push("tour_id", FieldProblem::NotAllowed);
                None
            }
            _ => match &references.tour {
                Some(found) if found.id == tour => match &show {
                    Some(Show::Production { id, .. }) if *id != found.production_id => {
                        errors.push("tour_id", FieldProblem::OtherProduction);
                        None
                    }
                    _ => Some(tour),
                },
                _ => {
                    errors.push("tour_id", FieldProblem::UnknownReference);
                    None
                }
            },
        });
        errors.into_result()?;
        match (show, place, starts_at, time_zone, status, booking) {
            (
                Some(show),
                Some((place, location)),
                Some(starts_at),
                Some(time_zone),
                Some(status),
                Some(booking),
            ) => Ok(Self {
                show,
                place,
                location,
                starts_at,
                time_zone,
                status,
                booking,
                fee_cents,
                capacity,
                attendance,
                ticketing_url,
                accessibility,
                tour_id,
                published: input.published,
            }),
            // Unreachable: a missing value always left an error behind.
            _ => Err(ValidationError::single("starts_at", FieldProblem::Required)),
        }
    }

    /// The production's structure, when it shows a production of the system.
    pub fn company_structure(&self) -> Option<StructureId> {
        match self.show {
            Show::Production { structure_id, .. } => Some(structure_id),
            Show::Outside { .. } => None,
        }
    }

    /// The venue structure, when it happens at one.
    pub fn venue_structure(&self) -> Option<StructureId> {
        match self.place {
            Place::Venue { structure_id } => Some(structure_id),
            _ => None,
        }
    }

    pub fn production_id(&self) -> Option<ProductionId> {
        match self.show {
            Show::Production { id, .. } => Some(id),
            Show::Outside { .. } => None,
        }
    }

    /// The input that would produce this performance: the base a patch applies to.
    pub fn to_input(&self) -> PerformanceInput {
        let (production_id, show) = match &self.show {
            Show::Production { id, .. } => (Some(*id), None),
            Show::Outside {
                title,
                company_name,
                discipline,
            } => (
                None,
                Some(ShowInput {
                    title: title.clone(),
                    company_name: company_name.clone(),
                    discipline: discipline.as_str().to_owned(),
                }),
            ),
        };
        let (venue_structure_id, place) = match &self.place {
            Place::Venue { structure_id } => (Some(*structure_id), None),
            Place::Commune { name } => (
                None,
                Some(PlaceInput {
                    name: name.clone(),
                    commune_code: self.location.commune_code.clone(),
                    ..Default::default()
                }),
            ),
            Place::Abroad { name, city } => (
                None,
                Some(PlaceInput {
                    name: name.clone(),
                    city: Some(city.clone()),
                    country_code: self.location.country_code.clone(),
                    ..Default::default()
                }),
            ),
        };
        PerformanceInput {
            production_id,
            show,
            venue_structure_id,
            place,
            starts_at: self.starts_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            time_zone: Some(self.time_zone.name().to_owned()),
            status: Some(self.status.as_str().to_owned()),
            booking: Some(self.booking.as_str().to_owned()),
            fee_cents: self.fee_cents,
            capacity: self.capacity,
            attendance: self.attendance,
            ticketing_url: self.ticketing_url.clone(),
            accessibility: self
                .accessibility
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            tour_id: self.tour_id,
            published: self.published,
        }
    }

    /// Names of the fields that differ from `before` (every field for a creation).
    pub fn changed_fields(&self, before: Option<&NewPerformance>) -> Vec<&'static str> {
        let differs = |same: &dyn Fn(&NewPerformance) -> bool| before.is_none_or(|b| !same(b));
        let fields: [(&'static str, bool); 14] = [
            ("show", differs(&|b| b.show == self.show)),
            ("place", differs(&|b| b.place == self.place)),
            ("location", differs(&|b| b.location == self.location)),
            ("starts_at", differs(&|b| b.starts_at == self.starts_at)),
            ("time_zone", differs(&|b| b.time_zone == self.time_zone)),
            ("status", differs(&|b| b.status == self.status)),
            ("booking", differs(&|b| b.booking == self.booking)),
            ("fee_cents", differs(&|b| b.fee_cents == self.fee_cents)),
            ("capacity", differs(&|b| b.capacity == self.capacity)),
            ("attendance", differs(&|b| b.attendance == self.attendance)),
            (
                "ticketing_url",
                differs(&|b| b.ticketing_url == self.ticketing_url),
            ),
            (
                "accessibility",
                differs(&|b| b.accessibility == self.accessibility),
            ),
            ("tour_id", differs(&|b| b.tour_id == self.tour_id)),
            ("published", differs(&|b| b.published == self.published)),
        ];
        fields
            .into_iter()
            .filter(|(_, changed)| *changed)
            .map(|(name, _)| name)
            .collect()
    }
}

impl PerformancePatch {
    /// The input `current` becomes with this patch, to check as a whole (once the ids it
    /// names are read).
    pub fn merge(self, current: &NewPerformance) -> PerformanceInput {
        let mut input = current.to_input();
        if let Some(production_id) = self.production_id {
            input.production_id = production_id;
        }
        if let Some(show) = self.show {
            input.show = show;
        }
        if let Some(venue) = self.venue_structure_id {
            input.venue_structure_id = venue;
        }
        if let Some(place) = self.place {
            input.place = place;
        }
        if let Some(starts_at) = self.starts_at {
            input.starts_at = starts_at;
        }
        if let Some(zone) = self.time_zone {
            input.time_zone = zone;
        }
        if let Some(status) = self.status {
            input.status = Some(status);
        }
        if let Some(booking) = self.booking {
            input.booking = Some(booking);
        }
        if let Some(fee) = self.fee_cents {
            input.fee_cents = fee;
        }
        if let Some(capacity) = self.capacity {
            input.capacity = capacity;
        }
        if let Some(attendance) = self.attendance {
            input.attendance = attendance;
        }
        if let Some(url) = self.ticketing_url {
            input.ticketing_url = url;
        }
        if let Some(accessibility) = self.accessibility {
            input.accessibility = accessibility;
        }
        if let Some(tour) = self.tour_id {
            input.tour_id = tour;
        }
        if let Some(published) = self.published {
            input.published = published;
        }
        input
    }
}

const SHOW_OR_PRODUCTION: &str = "production_id, show";
const VENUE_OR_PLACE: &str = "venue_structure_id, place";

fn show(
    errors: &mut ValidationError,
    input: &PerformanceInput,
    references: &References,
) -> Option<Show> {
    let exactly_one = || FieldProblem::ExactlyOne {
        fields: SHOW_OR_PRODUCTION.into(),
    };
    match (input.production_id, &input.show) {
        (Some(_), Some(_)) => {
            errors.push("show", exactly_one());
            None
        }
        (None, None) => {
            errors.push("production_id", exactly_one());
            None
        }
        (Some(id), None) => match &references.production {
            Some(found) if found.id == id => Some(Show::Production {
                id,
                structure_id: found.structure_id,
            }),
            _ => {
                errors.push("production_id", FieldProblem::UnknownReference);
                None
            }
        },
        (None, Some(show)) => {
            let title = errors.check("show.title", text::single_line(&show.title, SHOW_TITLE_MAX));
            let company_name = errors.check(
                "show.company_name",
                text::single_line(&show.company_name, COMPANY_NAME_MAX),
            );
            let discipline = errors.check("show.discipline", Discipline::parse(&show.discipline));
            Some(Show::Outside {
                title: title?,
                company_name: company_name?,
                discipline: discipline?,
            })
        }
    }
}

fn place(
    errors: &mut ValidationError,
    input: &PerformanceInput,
    references: &References,
    geography: &dyn Geography,
) -> Option<(Place, Location)> {
    let exactly_one = || FieldProblem::ExactlyOne {
        fields: VENUE_OR_PLACE.into(),
    };
    match (input.venue_structure_id, &input.place) {
        (Some(_), Some(_)) => {
            errors.push("place", exactly_one());
            None
        }
        (None, None) => {
            errors.push("venue_structure_id", exactly_one());
            None
        }
        (Some(id), None) => match &references.venue {
            Some(found) if found.id == id => {
                let address = found.address.as_ref();
                Some((
                    Place::Venue { structure_id: id },
                    Location {
                        commune_code: address.and_then(|a| a.commune_code.clone()),
                        department_code: address.and_then(|a| a.department.clone()),
                        region_code: address.and_then(|a| a.region.clone()),
                        country_code: address.map(|a| a.country.clone()),
                    },
                ))
            }
            _ => {
                errors.push("venue_structure_id", FieldProblem::UnknownReference);
                None
            }
        },
        (None, Some(place)) => {
            let name = errors.check("place.name", text::single_line(&place.name, PLACE_NAME_MAX));
            if let Some(code) = &place.commune_code {
                for (field, value) in [
                    ("place.city", &place.city),
                    ("place.country_code", &place.country_code),
                ] {
                    if value.is_some() {
                        errors.push(field, FieldProblem::NotAllowed);
                    }
                }
                let code = errors.check(
                    "place.commune_code",
                    text::matching(code, &COMMUNE_CODE, 5, FieldProblem::CommuneCodeFormat),
                )?;
                let Some(commune) = geography.commune(&code) else {
                    errors.push("place.commune_code", FieldProblem::UnknownCommune { code });
                    return None;
                };
                Some((
                    Place::Commune { name: name? },
                    Location {
                        commune_code: Some(commune.insee_code.to_string()),
                        department_code: Some(commune.department.to_string()),
                        region_code: Some(commune.region.to_string()),
                        country_code: Some(FRANCE.to_owned()),
                    },
                ))
            } else {
                let city = match &place.city {
                    Some(city) => errors.check("place.city", text::single_line(city, CITY_MAX)),
                    None => {
                        errors.push("place.city", FieldProblem::Required);
                        None
                    }
                };
                let country = match &place.country_code {
                    Some(country) if country == FRANCE => {
                        errors.push("place.country_code", FieldProblem::FranceNeedsCommune);
                        None
                    }
                    Some(country) => errors.check(
                        "place.country_code",
                        text::matching(country, &COUNTRY, 2, FieldProblem::Country),
                    ),
                    None => {
                        errors.push("place.country_code", FieldProblem::Required);
                        None
                    }
                };
                Some((
                    Place::Abroad {
                        name: name?,
                        city: city?,
                    },
                    Location {
                        country_code: Some(country?),
                        ..Default::default()
                    },
                ))
            }
        }
    }
}

fn accessibility(errors: &mut ValidationError, inputs: &[String]) -> Vec<Accessibility> {
    let max = Accessibility::ALL.len();
    if inputs.len() > max {
        errors.push("accessibility", FieldProblem::TooMany { max });
        return Vec::new();
    }
    let mut parsed: Vec<Accessibility> = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            errors.check(|| format!("accessibility[{i}]"), Accessibility::parse(a))
        })
        .collect();
    if inputs.iter().collect::<HashSet<_>>().len() != inputs.len() {
        errors.push("accessibility", FieldProblem::Duplicate);
    }
    parsed.sort();
    parsed
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::TimeZone;

    use super::*;
    use crate::geography::{Commune, Department};

    struct TestGeography(HashMap<String, Commune>);

    impl Geography for TestGeography {
        fn commune(&self, insee_code: &str) -> Option<&Commune> {
            self.0.get(insee_code)
        }
        fn department(&self, _code: &str) -> Option<&Department> {
            None
        }
        fn region_exists(&self, code: &str) -> bool {
            code == "76"
        }
    }

    fn geography() -> TestGeography {
        let sete = Commune {
            insee_code: "34301".into(),
            name: "Sète".into(),
            department: "34".into(),
            region: "76".into(),
            postal_codes: vec!["34200".into()],
            population: 44_000,
        };
        TestGeography(HashMap::from([("34301".to_owned(), sete)]))
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, 1, 12, 0, 0).unwrap()
    }

    fn production() -> ProductionRef {
        ProductionRef {
            id: ProductionId::generate(),
            structure_id: StructureId::generate(),
        }
    }

    fn at_a_commune(production: &ProductionRef) -> PerformanceInput {
        PerformanceInput {
            production_id: Some(production.id),
            place: Some(PlaceInput {
                name: "Salle des fêtes".into(),
                commune_code: Some("34301".into()),
                ..Default::default()
            }),
            starts_at: "2027-03-01T20:30:00+01:00".into(),
            ..Default::default()
        }
    }

    fn references(production: &ProductionRef) -> References {
        References {
            production: Some(production.clone()),
            ..Default::default()
        }
    }

    #[test]
    fn a_performance_in_a_french_commune_is_located_and_in_paris_time() {
        let made = production();
        let performance = NewPerformance::parse(
            &at_a_commune(&made),
            &references(&made),
            &geography(),
            now(),
        )
        .unwrap();
        assert_eq!(performance.location.department_code.as_deref(), Some("34"));
        assert_eq!(performance.location.region_code.as_deref(), Some("76"));
        assert_eq!(performance.location.country_code.as_deref(), Some("FR"));
        assert_eq!(performance.time_zone, PARIS);
        assert_eq!(
            performance.starts_at,
            Utc.with_ymd_and_hms(2027, 3, 1, 19, 30, 0).unwrap()
        );
        assert_eq!(performance.status, PerformanceStatus::Scheduled);
        assert_eq!(performance.company_structure(), Some(made.structure_id));
        // What it reads back as is what it was.
        let again = NewPerformance::parse(
            &performance.to_input(),
            &references(&made),
            &geography(),
            now(),
        )
        .unwrap();
        assert_eq!(again, performance);
    }

    #[test]
    fn exactly_one_show_and_one_place() {
        let made = production();
        let mut input = at_a_commune(&made);
        input.show = Some(ShowInput {
            title: "Autre".into(),
            company_name: "Cie".into(),
            discipline: "dance".into(),
        });
        input.venue_structure_id = Some(StructureId::generate());
        let error =
            NewPerformance::parse(&input, &references(&made), &geography(), now()).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["show", "place"]);
        assert_eq!(error.errors[0].problem.code(), "exactly_one");

        input.show = None;
        input.production_id = None;
        input.place = None;
        input.venue_structure_id = None;
        let error =
            NewPerformance::parse(&input, &references(&made), &geography(), now()).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["production_id", "venue_structure_id"]);
    }

    #[test]
    fn ids_that_name_nothing_usable_are_refused_by_name() {
        let made = production();
        let mut input = at_a_commune(&made);
        input.tour_id = Some(TourId::generate());
        let error =
            NewPerformance::parse(&input, &References::default(), &geography(), now()).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["production_id", "tour_id"]);
        assert!(
            error
                .errors
                .iter()
                .all(|e| e.problem == FieldProblem::UnknownReference)
        );

        let other = TourRef {
            id: input.tour_id.unwrap(),
            production_id: ProductionId::generate(),
        };
        let refs = References {
            tour: Some(other),
            ..references(&made)
        };
        let error = NewPerformance::parse(&input, &refs, &geography(), now()).unwrap_err();
        assert_eq!(error.errors[0].problem, FieldProblem::OtherProduction);
    }

    #[test]
    fn attendance_waits_for_the_performance() {
        let made = production();
        let mut input = at_a_commune(&made);
        input.attendance = Some(120);
        let error =
            NewPerformance::parse(&input, &references(&made), &geography(), now()).unwrap_err();
        assert_eq!(error.errors[0].field, "attendance");
        assert_eq!(error.errors[0].problem, FieldProblem::NotYetHeld);
        input.starts_at = "2026-12-01T20:30:00Z".into();
        assert!(NewPerformance::parse(&input, &references(&made), &geography(), now()).is_ok());
    }

    #[test]
    fn abroad_needs_a_city_a_country_other_than_france_and_a_zone() {
        let made = production();
        let mut input = at_a_commune(&made);
        input.place = Some(PlaceInput {
            name: "Théâtre National".into(),
            city: Some("Bruxelles".into()),
            country_code: Some("FR".into()),
            ..Default::default()
        });
        let error =
            NewPerformance::parse(&input, &references(&made), &geography(), now()).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["place.country_code"]);
        input.place.as_mut().unwrap().country_code = Some("BE".into());
        let error =
            NewPerformance::parse(&input, &references(&made), &geography(), now()).unwrap_err();
        assert_eq!(error.errors[0].field, "time_zone");
        assert_eq!(error.errors[0].problem, FieldProblem::Required);
        input.time_zone = Some("Europe/Brussels".into());
        let performance =
            NewPerformance::parse(&input, &references(&made), &geography(), now()).unwrap();
        assert_eq!(performance.location.country_code.as_deref(), Some("BE"));
        assert_eq!(performance.location.region_code, None);
        input.time_zone = Some("Europe/Bruxelles".into());
        let error =
            NewPerformance::parse(&input, &references(&made), &geography(), now()).unwrap_err();
        assert_eq!(error.errors[0].problem, FieldProblem::TimeZone);
    }

    #[test]
    fn overseas_departments_keep_their_own_time() {
        assert_eq!(french_zone(Some("974")), chrono_tz::Indian::Reunion);
        assert_eq!(french_zone(Some("34")), PARIS);
        assert_eq!(french_zone(None), PARIS);
    }

    #[test]
    fn a_patch_merges_into_the_current_input() {
        let made = production();
        let current = NewPerformance::parse(
            &at_a_commune(&made),
            &references(&made),
            &geography(),
            now(),
        )
        .unwrap();
        let patch = PerformancePatch {
            status: Some("cancelled".into()),
            fee_cents: Some(Some(150_000)),
            ..Default::default()
        };
        let merged = patch.merge(&current);
        let updated =
            NewPerformance::parse(&merged, &references(&made), &geography(), now()).unwrap();
        assert_eq!(updated.status, PerformanceStatus::Cancelled);
        assert_eq!(updated.fee_cents, Some(150_000));
        assert_eq!(
            updated.changed_fields(Some(&current)),
            ["status", "fee_cents"]
        );
    }
}

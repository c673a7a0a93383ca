//! Who and what a programme's rules accept: every reason a dossier is not eligible.

use chrono::{Datelike, NaiveDate};

use super::rules::{CapHolder, EligibleBase, PlaceRule, RegionCode, Rules};
use crate::geography::Geography;
use crate::ids::{PerformanceId, StructureId};
use crate::programming::{Location, Performance, PerformanceStatus, Place};
use crate::structures::{FRANCE, Structure, StructureKind};

/// The applicant structure, as the rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    pub id: StructureId,
    pub kind: StructureKind,
    /// INSEE region of its address.
    pub region_code: Option<String>,
}

impl Applicant {
    pub fn of(structure: &Structure) -> Self {
        Self {
            id: structure.id,
            kind: structure.data.kind,
            region_code: structure
                .data
                .address
                .as_ref()
                .and_then(|a| a.region.clone()),
        }
    }
}

/// A performance of a dossier, as the rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundedPerformance {
    pub id: PerformanceId,
    /// The eligible base: prix de cession, travel excluded.
    pub fee_cents: Option<i64>,
    pub location: Location,
    /// INSEE population of its commune (French places only).
    pub commune_population: Option<i64>,
    /// The venue presenting it (lieu, diffuseur), when it is a structure.
    pub presenter: Option<StructureId>,
    /// Its date where it happens: the calendar year of the yearly caps.
    pub date: NaiveDate,
    pub cancelled: bool,
}

impl FundedPerformance {
    /// Reads a stored performance, its commune's population from the reference data.
    pub fn of(performance: &Performance, geography: &dyn Geography) -> Self {
        let data = &performance.data;
        let commune_population = data
            .location
            .commune_code
            .as_deref()
            .and_then(|code| geography.commune(code))
            .map(|commune| commune.population);
        Self {
            id: performance.id,
            fee_cents: data.fee_cents,
            location: data.location.clone(),
            commune_population,
            presenter: match data.place {
                Place::Venue { structure_id } => Some(structure_id),
                Place::Commune { .. } | Place::Abroad { .. } => None,
            },
            date: data.starts_at.with_timezone(&data.time_zone).date_naive(),
            cancelled: data.status == PerformanceStatus::Cancelled,
        }
    }

    pub fn year(&self) -> i32 {
        self.date.year()
    }
}

/// One reason a dossier is not eligible. The `code` is stable and machine-readable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ineligibility {
    #[error("the applicant is a {kind}; the programme accepts {}", list(.allowed))]
    ApplicantKind {
        kind: StructureKind,
        allowed: Vec<StructureKind>,
    },
    #[error("the applicant must be based in region {required}")]
    ApplicantRegion {
        region: Option<String>,
        required: RegionCode,
    },
    #[error("{count} performances; at least {min} needed")]
    TooFewPerformances { count: usize, min: u32 },
    #[error("{count} performances; at most {max} allowed")]
    TooManyPerformances { count: usize, max: u32 },
    #[error("performance {performance} is listed twice")]
    DuplicatePerformance { performance: PerformanceId },
    #[error("performance {performance} is cancelled")]
    PerformanceCancelled { performance: PerformanceId },
    #[error("performance {performance} has no prix de cession")]
    FeeMissing { performance: PerformanceId },
    #[error("performance {performance} is not at a place the programme funds")]
    Place { performance: PerformanceId },
    #[error(
        "performance {performance} is in a commune of {population} inhabitants; fewer than {below} needed"
    )]
    CommunePopulation {
        performance: PerformanceId,
        population: i64,
        below: i64,
    },
    #[error("performance {performance} is not in a French commune of known population")]
    CommunePopulationUnknown { performance: PerformanceId },
    #[error("performance {performance} has no presenting venue, which the yearly caps count by")]
    PresenterMissing { performance: PerformanceId },
}

impl Ineligibility {
    pub fn code(&self) -> &'static str {
        match self {
            Self::ApplicantKind { .. } => "applicant_kind",
            Self::ApplicantRegion { .. } => "applicant_region",
            Self::TooFewPerformances { .. } => "too_few_performances",
            Self::TooManyPerformances { .. } => "too_many_performances",
            Self::DuplicatePerformance { .. } => "duplicate_performance",
            Self::PerformanceCancelled { .. } => "performance_cancelled",
            Self::FeeMissing { .. } => "fee_missing",
            Self::Place { .. } => "performance_place",
            Self::CommunePopulation { .. } => "commune_population",
            Self::CommunePopulationUnknown { .. } => "commune_population_unknown",
            Self::PresenterMissing { .. } => "presenter_missing",
        }
    }

    /// The performance it is about, if any.
    pub fn performance(&self) -> Option<PerformanceId> {
        match self {
            Self::DuplicatePerformance { performance }
            | Self::PerformanceCancelled { performance }
            | Self::FeeMissing { performance }
            | Self::Place { performance }
            | Self::CommunePopulation { performance, .. }
            | Self::CommunePopulationUnknown { performance }
            | Self::PresenterMissing { performance } => Some(*performance),
            Self::ApplicantKind { .. }
            | Self::ApplicantRegion { .. }
            | Self::TooFewPerformances { .. }
            | Self::TooManyPerformances { .. } => None,
        }
    }
}

fn list(kinds: &[StructureKind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    names.join(", ")
}

/// Every reason the rules refuse this applicant and these performances; empty when
/// the dossier is eligible.
pub fn ineligibilities(
    rules: &Rules,
    applicant: &Applicant,
    performances: &[FundedPerformance],
) -> Vec<Ineligibility> {
    let mut reasons = Vec::new();
    let who = rules.applicants();
    if !who.kinds.is_empty() && !who.kinds.contains(&applicant.kind) {
        reasons.push(Ineligibility::ApplicantKind {
            kind: applicant.kind,
            allowed: who.kinds.clone(),
        });
    }
    if let Some(required) = &who.based_in_region
        && applicant.region_code.as_deref() != Some(required.as_ref())
    {
        reasons.push(Ineligibility::ApplicantRegion {
            region: applicant.region_code.clone(),
            required: required.clone(),
        });
    }
    let what = rules.performances();
    let count = performances.len();
    if count < what.min_performances as usize {
        let min = what.min_performances;
        reasons.push(Ineligibility::TooFewPerformances { count, min });
    }
    if let Some(max) = what.max_performances
        && count > max as usize
    {
        reasons.push(Ineligibility::TooManyPerformances { count, max });
    }
    for (i, performance) in performances.iter().enumerate() {
        if performances[..i].iter().any(|p| p.id == performance.id) {
            reasons.push(Ineligibility::DuplicatePerformance {
                performance: performance.id,
            });
            continue;
        }
        reasons.extend(performance_ineligibilities(rules, performance));
    }
    reasons
}

/// Why the rules fund no aid for this one performance, whoever applies.
pub fn performance_ineligibilities(
    rules: &Rules,
    performance: &FundedPerformance,
) -> Vec<Ineligibility> {
    let id = performance.id;
    let mut reasons = Vec::new();
    if performance.cancelled {
        reasons.push(Ineligibility::PerformanceCancelled { performance: id });
    }
    match rules.amounts().base {
        EligibleBase::Fee => {
            if performance.fee_cents.is_none() {
                reasons.push(Ineligibility::FeeMissing { performance: id });
            }
        }
    }
    let what = rules.performances();
    if !what.places.is_empty()
        && !what
            .places
            .iter()
            .any(|rule| is_at(rule, &performance.location))
    {
        reasons.push(Ineligibility::Place { performance: id });
    }
    if let Some(below) = what.commune_population_below {
        let french = performance.location.country_code.as_deref() == Some(FRANCE);
        match performance.commune_population.filter(|_| french) {
            Some(population) if population >= below => {
                reasons.push(Ineligibility::CommunePopulation {
                    performance: id,
                    population,
                    below,
                });
            }
            Some(_) => {}
            None => reasons.push(Ineligibility::CommunePopulationUnknown { performance: id }),
        }
    }
    let by_presenter = rules
        .amounts()
        .yearly_caps
        .iter()
        .any(|cap| cap.per == CapHolder::Presenter);
    if by_presenter && performance.presenter.is_none() {
        reasons.push(Ineligibility::PresenterMissing { performance: id });
    }
    reasons
}

/// Whether a place is of this kind; an unknown country or region is of none.
fn is_at(rule: &PlaceRule, location: &Location) -> bool {
    let country = location.country_code.as_deref();
    let region = location.region_code.as_deref();
    match rule {
        PlaceRule::InRegion { region: wanted } => {
            country == Some(FRANCE) && region == Some(wanted.as_ref())
        }
        PlaceRule::OutsideRegion { region: home } => {
            country == Some(FRANCE) && region.is_some_and(|r| r != home.as_ref())
        }
        PlaceRule::Abroad => country.is_some_and(|c| c != FRANCE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(country: &str, region: Option<&str>) -> Location {
        Location {
            country_code: Some(country.into()),
            region_code: region.map(Into::into),
            ..Location::default()
        }
    }

    #[test]
    fn places_are_matched_by_country_and_region() {
        let occitanie = RegionCode::occitanie();
        let in_region = PlaceRule::InRegion {
            region: occitanie.clone(),
        };
        let outside = PlaceRule::OutsideRegion { region: occitanie };
        let cases = [
            (location("FR", Some("76")), [true, false, false]),
            (location("FR", Some("75")), [false, true, false]),
            (location("BE", None), [false, false, true]),
            (location("FR", None), [false, false, false]),
            (Location::default(), [false, false, false]),
        ];
        for (place, expected) in cases {
            let got = [
                is_at(&in_region, &place),
                is_at(&outside, &place),
                is_at(&PlaceRule::Abroad, &place),
            ];
            assert_eq!(got, expected, "{place:?}");
        }
    }
}

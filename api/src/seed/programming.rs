//! Seasons of productions and performances for the demo and for benchmarks: the
//! companies' productions, played at venues across the region, elsewhere in France and
//! abroad, with the mix of statuses, bookings and fees a real season has. The same
//! random seed gives the same season.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use domain::changes::{ChangeAction, ChangedObject};
use domain::programming::performance::{Accessibility, Booking, PerformanceStatus};
use domain::programming::production::{Audience, Space};
use domain::programming::{
    Location, NewPerformance, NewProduction, Performance, Place, Production, Show,
};
use domain::{Commune, Discipline, Structure, StructureKind};
use persistence::changes::{self, NewChange};
use persistence::db::write_transaction;
use persistence::programming::{performances, productions};
use persistence::{DbConnection, PersistenceError};
use rand::Rng;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;

use crate::routes::programming::{PerformanceView, ProductionView};

/// Rows written per transaction.
const BATCH: usize = 10_000;

const TITLE_FIRST: &[&str] = &[
    "Les Veilleurs",
    "Hors-Champ",
    "La Traversée",
    "Fil d'Ariane",
    "Les Oiseaux de passage",
    "Sous la peau",
    "L'Envol",
    "Terres rouges",
    "Le Grand Large",
    "Nos Cabanes",
    "La Nuit des pierres",
    "Échappée belle",
    "Les Inséparables",
    "Vents contraires",
    "Le Banquet",
    "Mille Lunes",
    "Rivages",
    "La Fabrique",
    "Contre-jour",
    "L'Île aux songes",
];
const TITLE_SECOND: &[&str] = &[
    "",
    "",
    "",
    " (création)",
    " — petite forme",
    " — version rue",
    " — solo",
    " — duo",
];

/// Places abroad where the region's companies tour: city, country, its time zone.
const ABROAD: &[(&str, &str, Tz)] = &[
    ("Barcelona", "ES", chrono_tz::Europe::Madrid),
    ("Bruxelles", "BE", chrono_tz::Europe::Brussels),
    ("Genève", "CH", chrono_tz::Europe::Zurich),
    ("Torino", "IT", chrono_tz::Europe::Rome),
    ("Montréal", "CA", chrono_tz::America::Toronto),
    ("Edinburgh", "GB", chrono_tz::Europe::London),
];

/// What a season is made from.
pub struct Cast<'a> {
    pub companies: &'a [Structure],
    pub venues: &'a [Structure],
    /// Communes for performances in a place that is not a venue of the directory.
    pub communes: &'a [&'a Commune],
}

/// Productions for `count` companies taken in turn, one to three each.
pub fn productions_for(cast: &Cast<'_>, count: usize, rng: &mut SmallRng) -> Vec<Production> {
    let mut made = Vec::with_capacity(count);
    let now = Utc::now();
    for company in cast.companies.iter().cycle().take(count) {
        let disciplines: Vec<Discipline> = if company.data.disciplines.is_empty() {
            vec![Discipline::Theatre]
        } else {
            let mut some = company.data.disciplines.clone();
            some.truncate(2);
            some
        };
        let young = rng.random_bool(0.25);
        let title = format!(
            "{}{}",
            TITLE_FIRST.choose(rng).copied().unwrap_or("Création"),
            TITLE_SECOND.choose(rng).copied().unwrap_or("")
        );
        let data = NewProduction {
            title,
            disciplines,
            audience: if young {
                Audience::YoungAudience
            } else {
                Audience::AllAudiences
            },
            minimum_age: young.then(|| rng.random_range(3..=12)),
            duration_minutes: rng.random_range(9..=24) * 5,
            space: *[
                Space::Stage,
                Space::Stage,
                Space::Stage,
                Space::PublicSpace,
                Space::CircusRing,
            ]
            .choose(rng)
            .unwrap_or(&Space::Stage),
            premiere_date: NaiveDate::from_ymd_opt(2024, 1, 1)
                .map(|d| d + Duration::days(rng.random_range(0..1_000))),
            team_size: Some(rng.random_range(1..=12)),
            description: None,
            links: Vec::new(),
            published: rng.random_bool(0.9),
        };
        made.push(Production {
            id: domain::ProductionId::generate(),
            structure_id: company.id,
            data,
            created_at: now,
            updated_at: now,
            version: 1,
        });
    }
    made
}

/// One performance of `production`: at a venue of the directory four times in five,
/// otherwise in a French commune or abroad; an evening of the season that starts in
/// September 2026.
pub fn performance_of(production: &Production, cast: &Cast<'_>, rng: &mut SmallRng) -> Performance {
    let roll: f64 = rng.random();
    let (place, location, zone) = match cast.venues.choose(rng) {
        Some(venue) if roll < 0.8 => {
            let address = venue.data.address.as_ref();
            let department = address.and_then(|a| a.department.clone());
            (
                Place::Venue {
                    structure_id: venue.id,
                },
                Location {
                    commune_code: address.and_then(|a| a.commune_code.clone()),
                    region_code: address.and_then(|a| a.region.clone()),
                    country_code: Some(address.map_or("FR".into(), |a| a.country.clone())),
                    department_code: department.clone(),
                },
                domain::programming::performance::french_zone(department.as_deref()),
            )
        }
        _ if roll < 0.95 || cast.communes.is_empty() => {
            let commune = cast.communes.choose(rng).copied();
            (
                Place::Commune {
                    name: commune.map_or("Salle des fêtes".into(), |c| {
                        format!("Salle des fêtes de {}", c.name)
                    }),
                },
                Location {
                    commune_code: commune.map(|c| c.insee_code.to_string()),
                    department_code: commune.map(|c| c.department.to_string()),
                    region_code: commune.map(|c| c.region.to_string()),
                    country_code: Some("FR".into()),
                },
                domain::programming::performance::french_zone(
                    commune.map(|c| c.department.as_str()),
                ),
            )
        }
        _ => {
            let (city, country, zone) = ABROAD.choose(rng).copied().unwrap_or(ABROAD[0]);
            (
                Place::Abroad {
                    name: "Festival international".into(),
                    city: city.into(),
                },
                Location {
                    country_code: Some(country.into()),
                    ..Location::default()
                },
                zone,
            )
        }
    };
    let day = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap_or_default()
        + Duration::days(rng.random_range(0..300));
    let evening = day
        .and_hms_opt(if rng.random_bool(0.2) { 15 } else { 20 }, 30, 0)
        .unwrap_or_default();
    let starts_at: DateTime<Utc> = zone
        .from_local_datetime(&evening)
        .earliest()
        .map_or_else(|| evening.and_utc(), |local| local.with_timezone(&Utc));
    let now = Utc::now();
    let status = match rng.random_range(0..100) {
        0..=2 => PerformanceStatus::Cancelled,
        3..=4 => PerformanceStatus::Postponed,
        _ => PerformanceStatus::Scheduled,
    };
    let capacity = rng.random_range(8..=80) * 10;
    let mut accessibility: Vec<Accessibility> = [
        Accessibility::Wheelchair,
        Accessibility::HearingLoop,
        Accessibility::Surtitles,
        Accessibility::Relaxed,
    ]
    .into_iter()
    .filter(|_| rng.random_bool(0.3))
    .collect();
    accessibility.sort();
    Performance {
        id: domain::PerformanceId::generate(),
        data: NewPerformance {
            show: Show::Production {
                id: production.id,
                structure_id: production.structure_id,
            },
            place,
            location,
            starts_at,
            time_zone: zone,
            status,
            booking: if rng.random_bool(0.85) {
                Booking::Confirmed
            } else {
                Booking::Option
            },
            fee_cents: Some(rng.random_range(1_500..=12_000) * 100),
            capacity: Some(capacity),
            attendance: (starts_at < now && status == PerformanceStatus::Scheduled)
                .then(|| rng.random_range(capacity / 2..=capacity)),
            ticketing_url: rng.random_bool(0.5).then(|| {
                format!(
                    "https://billetterie.example/{}",
                    rng.random_range(1_000..99_999)
                )
            }),
            accessibility,
            tour_id: None,
            published: production.data.published && rng.random_bool(0.95),
        },
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

fn system_change(
    object_type: ChangedObject,
    id: String,
    object: serde_json::Value,
    structures: Vec<domain::StructureId>,
    public: bool,
) -> NewChange {
    NewChange {
        object_type,
        object_id: id,
        action: ChangeAction::Created,
        version: 1,
        actor_kind: "system",
        actor_id: None,
        object: Some(object),
        structures,
        public,
        cause: None,
    }
}

/// Stores productions with their creations in the change log, in one transaction.
pub fn insert_productions(
    conn: &mut DbConnection,
    batch: &[Production],
) -> Result<(), PersistenceError> {
    let created = batch
        .iter()
        .map(|p| {
            Ok(system_change(
                ChangedObject::Production,
                p.id.to_string(),
                serde_json::to_value(ProductionView::from(p.clone()))?,
                vec![p.structure_id],
                p.data.published,
            ))
        })
        .collect::<Result<Vec<_>, PersistenceError>>()?;
    write_transaction(conn, |conn| {
        productions::insert_many(conn, batch)?;
        changes::record_created(conn, created)
    })
}

/// Stores performances with their creations in the change log, in one transaction.
pub fn insert_performances(
    conn: &mut DbConnection,
    batch: &[Performance],
) -> Result<(), PersistenceError> {
    let created = batch
        .iter()
        .map(|p| {
            let structures = [p.data.company_structure(), p.data.venue_structure()]
                .into_iter()
                .flatten()
                .collect();
            Ok(system_change(
                ChangedObject::Performance,
                p.id.to_string(),
                serde_json::to_value(PerformanceView::new(p.clone(), true))?,
                structures,
                p.data.published,
            ))
        })
        .collect::<Result<Vec<_>, PersistenceError>>()?;
    write_transaction(conn, |conn| {
        performances::insert_many(conn, batch)?;
        changes::record_created(conn, created)
    })
}

/// A season: `production_count` productions of `cast`'s companies and `count`
/// performances of them, in batches; `progress` hears of each batch stored.
pub fn season(
    conn: &mut DbConnection,
    cast: &Cast<'_>,
    production_count: usize,
    count: u64,
    rng: &mut SmallRng,
    mut progress: impl FnMut(u64),
) -> Result<(), PersistenceError> {
    if cast.companies.is_empty() {
        return Ok(());
    }
    let made = productions_for(cast, production_count.max(1), rng);
    for batch in made.chunks(BATCH) {
        insert_productions(conn, batch)?;
    }
    let mut done = 0;
    while done < count {
        let size = (count - done).min(BATCH as u64);
        let batch: Vec<Performance> = (0..size)
            .filter_map(|_| made.choose(rng).map(|p| performance_of(p, cast, rng)))
            .collect();
        insert_performances(conn, &batch)?;
        done += size;
        progress(done);
    }
    Ok(())
}

/// Companies and venues of the directory, for a season in a database seeded before.
pub fn cast_from_directory(
    conn: &mut DbConnection,
    limit: usize,
) -> Result<(Vec<Structure>, Vec<Structure>), PersistenceError> {
    let of_kind = |conn: &mut DbConnection, kind: StructureKind| {
        let mut found = Vec::new();
        let mut after = None;
        while found.len() < limit {
            let page = persistence::structures::list(
                conn,
                &persistence::structures::ListQuery {
                    kind: Some(kind),
                    department: None,
                    region: None,
                    discipline: None,
                    q: None,
                    include_archived: false,
                    sort: persistence::structures::Sort::default(),
                    after,
                    limit: 200,
                },
            )?;
            found.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        found.truncate(limit);
        Ok::<_, PersistenceError>(found)
    };
    Ok((
        of_kind(conn, StructureKind::Company)?,
        of_kind(conn, StructureKind::Venue)?,
    ))
}

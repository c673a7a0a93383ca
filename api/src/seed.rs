//! Demo and benchmark data.
//!
//! `--demo` fills an empty database with a few structures in each of Occitanie's 13
//! départements, in real communes; `--scale N` adds N structures of realistic variety
//! for benchmarks. Names, places and kinds come from a seeded generator; SIRETs are
//! offset by the clock so that successive runs never collide.

use chrono::{Duration, Utc};
use domain::geography::OCCITANIE;
use domain::structures::siret::with_check_digit;
use domain::{
    Address, Commune, Discipline, Licence, LicenceCategory, LicenceNumber, NewStructure, Siret,
    Structure, StructureId, StructureKind,
};
use persistence::reference::ReferenceGeography;
use persistence::structures::{self, ListQuery};
use persistence::{DbConnection, PersistenceError};
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

const COMPANY_WORDS: [&str; 16] = [
    "Hasard",
    "Lune Rousse",
    "Vent Debout",
    "Fil Tendu",
    "Grand Écart",
    "Petits Pas",
    "Mistral",
    "Cirque Éphémère",
    "Garance",
    "Tramontane",
    "Envolée",
    "Ô Cerises",
    "Mains Nues",
    "Cri du Chœur",
    "Pierre Sèche",
    "Oiseau Lyre",
];
const VENUE_PREFIXES: [&str; 5] = [
    "Théâtre",
    "Scène nationale",
    "Salle des fêtes",
    "La Chapelle",
    "Espace culturel",
];
const FESTIVAL_PREFIXES: [&str; 4] = [
    "Festival d'été",
    "Les Nuits",
    "Rencontres",
    "Printemps des arts",
];

/// "Théâtre de Nîmes", "Théâtre d'Albi": French elides "de" before a vowel.
fn of_place(prefix: &str, place: &str) -> String {
    let elided = place
        .chars()
        .next()
        .is_some_and(|c| "AEIOUYÂÊÎÔÛÉÈHaeiouy".contains(c));
    if elided {
        format!("{prefix} d'{place}")
    } else {
        format!("{prefix} de {place}")
    }
}

/// The 13 départements of Occitanie.
pub const OCCITANIE_DEPARTMENTS: [&str; 13] = [
    "09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82",
];

fn address(commune: &Commune, rng: &mut SmallRng) -> Option<Address> {
    let postal_code = commune.postal_codes.choose(rng)?.clone();
    Some(Address {
        street: Some(format!(
            "{} {}",
            rng.random_range(1..120),
            [
                "rue de la République",
                "place du Marché",
                "avenue Jean Jaurès",
                "chemin des Vignes",
                "rue Victor Hugo"
            ]
            .choose(rng)
            .copied()
            .unwrap_or("rue de la République")
        )),
        postal_code: Some(postal_code),
        city: commune.name.clone(),
        commune_code: Some(commune.insee_code.clone()),
        department: Some(commune.department.clone()),
        region: Some(commune.region.clone()),
        country: "FR".into(),
    })
}

fn structure_in(commune: &Commune, serial: u64, rng: &mut SmallRng) -> Option<Structure> {
    let kind = *[
        StructureKind::Company,
        StructureKind::Company,
        StructureKind::Company,
        StructureKind::Venue,
        StructureKind::Festival,
        StructureKind::Network,
        StructureKind::LocalAuthority,
    ]
    .choose(rng)?;
    let name = match kind {
        StructureKind::Venue => of_place(VENUE_PREFIXES.choose(rng)?, &commune.name),
        StructureKind::Festival => of_place(FESTIVAL_PREFIXES.choose(rng)?, &commune.name),
        StructureKind::Network => of_place("Réseau spectacle vivant", &commune.name),
        StructureKind::LocalAuthority => of_place("Mairie", &commune.name),
        _ => format!("Compagnie {} {}", COMPANY_WORDS.choose(rng)?, serial % 1000),
    };
    let how_many = rng.random_range(1..=3);
    let mut disciplines: Vec<Discipline> = Discipline::ALL
        .choose_multiple(rng, how_many)
        .copied()
        .collect();
    disciplines.sort();
    // Distinct serials give distinct SIRETs: a fictitious SIREN range, valid Luhn keys.
    let siret = Siret::parse(&with_check_digit(&format!("9{:012}", serial))).ok();
    let licences = if matches!(kind, StructureKind::Company | StructureKind::Venue) {
        vec![Licence {
            category: LicenceCategory::new(if kind == StructureKind::Venue { 1 } else { 2 })
                .ok()?,
            number: LicenceNumber::parse(&format!(
                "PLATESV-D-{}-{:06}",
                rng.random_range(2019..=2026),
                serial % 1_000_000
            ))
            .ok()?,
        }]
    } else {
        Vec::new()
    };
    let slug: String = commune
        .name
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let created_at =
        persistence::clock::storable_now() - Duration::minutes(rng.random_range(0..500_000));
    Some(Structure {
        id: StructureId::generate(),
        data: NewStructure {
            kind,
            legal_name: None,
            siret,
            licences,
            address: address(commune, rng),
            disciplines,
            website: Some(format!("https://{slug}-{serial}.example")),
            email: Some(format!("contact{serial}@{slug}.example")),
            phone: Some(format!(
                "+33 5 61 {:02} {:02} {:02}",
                serial % 100,
                (serial / 100) % 100,
                (serial / 10_000) % 100
            )),
            name,
        },
        archived_at: None,
        created_at,
        updated_at: created_at,
        version: 1,
    })
}

/// Fills an empty database with a handful of structures per Occitanie département.
/// Returns how many were created (none when structures already exist).
pub fn demo(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
) -> Result<usize, PersistenceError> {
    let existing = structures::list(
        conn,
        &ListQuery {
            limit: 1,
            include_archived: true,
            ..Default::default()
        },
    )?;
    if !existing.items.is_empty() {
        return Ok(0);
    }
    let mut rng = SmallRng::seed_from_u64(34);
    let mut batch = Vec::new();
    for department in OCCITANIE_DEPARTMENTS {
        let mut communes: Vec<&Commune> = geography
            .communes()
            .filter(|c| c.department == department && !c.postal_codes.is_empty())
            .collect();
        // The largest communes: where venues and companies are.
        communes.sort_by(|a, b| {
            b.population
                .cmp(&a.population)
                .then(a.insee_code.cmp(&b.insee_code))
        });
        for commune in communes.iter().take(5) {
            let serial = batch.len() as u64 + 1;
            if let Some(structure) = structure_in(commune, serial, &mut rng) {
                batch.push(structure);
            }
        }
    }
    structures::insert_many(conn, &batch)?;
    Ok(batch.len())
}

/// Adds `count` structures: three in four in Occitanie, the rest anywhere in France.
pub fn scale(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    count: u64,
    mut progress: impl FnMut(u64),
) -> Result<(), PersistenceError> {
    let mut rng = SmallRng::seed_from_u64(2026);
    let mut occitanie: Vec<&Commune> = geography
        .communes()
        .filter(|c| c.region == OCCITANIE && !c.postal_codes.is_empty())
        .collect();
    let mut elsewhere: Vec<&Commune> = geography
        .communes()
        .filter(|c| c.region != OCCITANIE && !c.postal_codes.is_empty())
        .collect();
    occitanie.sort_by(|a, b| a.insee_code.cmp(&b.insee_code));
    elsewhere.sort_by(|a, b| a.insee_code.cmp(&b.insee_code));
    // Serials start past what exists, so SIRETs stay unique across runs.
    let offset = Utc::now().timestamp_millis() as u64 % 1_000_000_000 * 1_000;
    let mut done = 0;
    while done < count {
        let size = (count - done).min(1_000);
        let batch: Vec<Structure> = (0..size)
            .filter_map(|i| {
                let pool = if rng.random_bool(0.75) {
                    &occitanie
                } else {
                    &elsewhere
                };
                let commune = pool.choose(&mut rng)?;
                structure_in(commune, offset + done + i + 1_000, &mut rng)
            })
            .collect();
        structures::insert_many(conn, &batch)?;
        done += size;
        progress(done);
    }
    persistence::db::analyze(conn)
}

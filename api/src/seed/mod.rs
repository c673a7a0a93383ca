//! Demo and benchmark data.
//!
//! `--demo` fills an empty database with a season's directory of Occitanie: in each of
//! its 13 départements the département's council, a town, venues, companies, festivals
//! and a network, in real communes (the largest, and villages among the next fifty).
//! `--scale N` adds N structures made the same way, `--performances M` a season's worth
//! of performances for them and `--dossiers D` grant dossiers, for benchmarks.
//!
//! Names come from [`names`], numbers from [`numbers`], all drawn from seeded
//! generators: the demo is the same on every run. Web sites and e-mails live under the
//! reserved `.example` domain and phone numbers in the blocks kept for fiction, so
//! that nothing in the demo points at a real organisation.

mod grants;
pub mod names;
pub mod numbers;
pub mod programming;

use std::collections::HashSet;

use chrono::{Duration, Utc};
use domain::changes::{ChangeAction, ChangedObject};
use domain::geography::OCCITANIE;
use domain::{Address, Commune, NewStructure, Structure, StructureId, StructureKind};
use persistence::changes::{self, NewChange};
use persistence::db::write_transaction;
use persistence::reference::ReferenceGeography;
use persistence::structures::{self, ListQuery};
use persistence::{DbConnection, PersistenceError};
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use names::{Named, Pattern};

use crate::routes::structures::{StructureView, Visibility};

/// The domain every demo web site and e-mail address lives under (RFC 2606).
pub const DOMAIN: &str = "example";

/// The 13 départements of Occitanie.
pub const OCCITANIE_DEPARTMENTS: [&str; 13] = [
    "09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82",
];

/// Where each département's council sits (INSEE codes of the préfectures).
const PREFECTURES: [&str; 13] = [
    "09122", "11069", "12202", "30189", "31555", "32013", "34172", "46042", "48095", "65440",
    "66136", "81004", "82121",
];

/// Towns of this size or more have a "Ville de", a theatre rather than a village hall.
const TOWN: i64 = 10_000;

const STREETS: [&str; 14] = [
    "rue de la République",
    "place du Marché",
    "avenue Jean Jaurès",
    "chemin des Vignes",
    "rue Victor Hugo",
    "boulevard Gambetta",
    "allée des Platanes",
    "rue des Écoles",
    "avenue de la Gare",
    "rue du Théâtre",
    "quai du Port",
    "rue Paul Riquet",
    "place de l'Église",
    "rue des Arts",
];

fn mailboxes(kind: StructureKind) -> &'static [&'static str] {
    match kind {
        StructureKind::Company => &["contact", "diffusion", "administration", "production"],
        StructureKind::Venue => &["billetterie", "accueil", "programmation", "contact"],
        StructureKind::Festival => &["contact", "programmation", "benevoles", "presse"],
        StructureKind::Network => &["contact", "coordination"],
        _ => &["culture", "accueil", "service.culture"],
    }
}

fn address(commune: &Commune, kind: StructureKind, rng: &mut SmallRng) -> Option<Address> {
    let postal_code = commune.postal_codes.choose(rng)?.to_string();
    let street = if kind == StructureKind::LocalAuthority {
        "1 place de l'Hôtel de Ville".to_owned()
    } else {
        format!(
            "{} {}",
            rng.random_range(1..90),
            STREETS.choose(rng).copied().unwrap_or("rue des Arts")
        )
    };
    Some(Address {
        street: Some(street),
        postal_code: Some(postal_code),
        city: commune.name.to_string(),
        commune_code: Some(commune.insee_code.to_string()),
        department: Some(commune.department.to_string()),
        region: Some(commune.region.to_string()),
        country: "FR".into(),
    })
}

/// A structure of `kind` named `named`, in `commune`; `serial` makes its numbers.
fn structure(
    kind: StructureKind,
    named: Named,
    commune: &Commune,
    serial: u64,
    rng: &mut SmallRng,
) -> Structure {
    let host = format!("{}.{DOMAIN}", named.host);
    let mailbox = mailboxes(kind).choose(rng).copied().unwrap_or("contact");
    // Every town and network has a site; a few small structures do without.
    let always = matches!(kind, StructureKind::LocalAuthority | StructureKind::Network);
    let website = (always || rng.random_bool(0.85)).then(|| format!("https://{host}"));
    let phone = rng
        .random_bool(0.85)
        .then(|| numbers::phone(&commune.department, serial));
    let created_at =
        persistence::clock::storable_now() - Duration::minutes(rng.random_range(0..500_000));
    Structure {
        id: StructureId::generate(),
        data: NewStructure {
            kind,
            name: named.name,
            legal_name: named.legal_name,
            siret: numbers::siret(serial),
            licences: numbers::licences(kind, serial, rng),
            address: address(commune, kind, rng),
            disciplines: named.disciplines,
            website,
            email: Some(format!("{mailbox}@{host}")),
            phone,
        },
        archived_at: None,
        created_at,
        updated_at: created_at,
        version: 1,
    }
}

/// Where in a département a structure of the demo goes.
#[derive(Clone, Copy)]
enum Spot {
    Prefecture,
    Largest,
    /// The second, third and fourth largest communes, in turn.
    Town,
    /// One of the next fifty.
    Village,
}

/// One département's share of the demo: what, named how, where.
const PLAN: [(StructureKind, &[Pattern], Spot); 14] = {
    use StructureKind::*;
    [
        (
            LocalAuthority,
            std::slice::from_ref(&names::DEPARTMENT_COUNCIL),
            Spot::Prefecture,
        ),
        (
            LocalAuthority,
            std::slice::from_ref(&names::CITY),
            Spot::Largest,
        ),
        (
            LocalAuthority,
            &[names::TOWN_HALL, names::COMMUNITY],
            Spot::Village,
        ),
        (Network, names::NETWORKS, Spot::Prefecture),
        (Venue, names::VENUES, Spot::Largest),
        (Venue, names::VENUES, Spot::Town),
        (Festival, names::FESTIVALS, Spot::Town),
        (Company, names::COMPANIES, Spot::Town),
        (Company, names::COMPANIES, Spot::Town),
        (Company, names::COMPANIES, Spot::Largest),
        (Company, names::COMPANIES, Spot::Largest),
        (Venue, names::VILLAGE_VENUES, Spot::Village),
        (Company, names::COMPANIES, Spot::Village),
        (Festival, names::FESTIVALS, Spot::Village),
    ]
};

/// The demo directory: the same structures (but for ids and dates) on every run.
pub fn demo_structures(geography: &ReferenceGeography) -> Vec<Structure> {
    let mut rng = SmallRng::seed_from_u64(34);
    let mut taken = HashSet::new();
    let mut themes = HashSet::new();
    let mut batch = Vec::new();
    for (department, prefecture) in OCCITANIE_DEPARTMENTS.iter().zip(PREFECTURES) {
        let mut communes: Vec<&Commune> = geography
            .communes()
            .filter(|c| c.department == *department && !c.postal_codes.is_empty())
            .collect();
        // The largest communes first: where venues and companies are.
        communes.sort_by(|a, b| {
            b.population
                .cmp(&a.population)
                .then(a.insee_code.cmp(&b.insee_code))
        });
        let Some(&largest) = communes.first() else {
            continue;
        };
        let prefecture = domain::Geography::commune(geography, prefecture).unwrap_or(largest);
        let towns = &communes[1.min(communes.len())..communes.len().min(4)];
        let villages = &communes[communes.len().min(4)..communes.len().min(54)];
        let of_department = names::of_department(department);
        let mut turn = 0;
        for (kind, patterns, spot) in PLAN {
            if matches!(spot, Spot::Town) {
                turn += 1;
            }
            // A name already in the directory is drawn again (a few times at most).
            for _ in 0..20 {
                let commune = match spot {
                    Spot::Prefecture => prefecture,
                    Spot::Largest => largest,
                    Spot::Town if !towns.is_empty() => towns[(turn - 1) % towns.len()],
                    Spot::Village => villages.choose(&mut rng).copied().unwrap_or(largest),
                    Spot::Town => largest,
                };
                let Some(pattern) = names::draw(patterns, &mut rng) else {
                    break;
                };
                let named = names::fill(pattern, &commune.name, of_department, &mut rng);
                // Nor two companies of one name with different first words.
                let fresh = named
                    .theme
                    .as_ref()
                    .is_none_or(|theme| !themes.contains(theme));
                if fresh && taken.insert(named.name.clone()) {
                    themes.extend(named.theme.clone());
                    let serial = batch.len() as u64 + 1;
                    batch.push(structure(kind, named, commune, serial, &mut rng));
                    break;
                }
            }
        }
    }
    batch
}

/// Stores structures with their creations in the change log, in one transaction: a
/// follower of the change feed learns of seeded structures as of any other.
fn insert_followed(conn: &mut DbConnection, batch: &[Structure]) -> Result<(), PersistenceError> {
    let created = batch
        .iter()
        .map(|structure| {
            Ok(NewChange {
                object_type: ChangedObject::Structure,
                object_id: structure.id.to_string(),
                action: ChangeAction::Created,
                version: structure.version,
                actor_kind: "system",
                actor_id: None,
                object: Some(serde_json::to_value(StructureView::new(
                    structure.clone(),
                    Visibility::Full,
                ))?),
                structures: vec![structure.id],
                public: structure.archived_at.is_none(),
                cause: None,
            })
        })
        .collect::<Result<Vec<_>, PersistenceError>>()?;
    write_transaction(conn, |conn| {
        structures::insert_many(conn, batch)?;
        changes::record_created(conn, created)
    })
}

/// Fills an empty database with the demo directory. Returns how many structures were
/// created (none when structures already exist).
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
    let batch = demo_structures(geography);
    insert_followed(conn, &batch)?;
    // A season: two productions per company, some 600 performances.
    let kinds = |kind: StructureKind| -> Vec<Structure> {
        batch
            .iter()
            .filter(|s| s.data.kind == kind)
            .cloned()
            .collect()
    };
    let (companies, venues) = (kinds(StructureKind::Company), kinds(StructureKind::Venue));
    let communes = elsewhere_in_france(geography);
    let cast = programming::Cast {
        companies: &companies,
        venues: &venues,
        communes: &communes,
    };
    let mut rng = SmallRng::seed_from_u64(2027);
    programming::season(conn, &cast, companies.len() * 2, 600, &mut rng, |_| {})?;
    grants::demo(conn, geography, &companies)?;
    Ok(batch.len())
}

/// French communes with a postal code, in a stable order: places of performances that
/// are not venues of the directory.
fn elsewhere_in_france(geography: &ReferenceGeography) -> Vec<&Commune> {
    let mut communes: Vec<&Commune> = geography
        .communes()
        .filter(|c| !c.postal_codes.is_empty())
        .collect();
    communes.sort_by(|a, b| a.insee_code.cmp(&b.insee_code));
    communes
}

/// Adds `count` performances (and a production for every ten of them) to the companies
/// and venues already in the database, for benchmarks.
pub fn scale_performances(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    count: u64,
    progress: impl FnMut(u64),
) -> Result<(), PersistenceError> {
    persistence::db::prepare_bulk_load(conn)?;
    let (companies, venues) = programming::cast_from_directory(conn, 20_000)?;
    let communes = elsewhere_in_france(geography);
    let cast = programming::Cast {
        companies: &companies,
        venues: &venues,
        communes: &communes,
    };
    let mut rng = SmallRng::seed_from_u64(2028);
    let productions = usize::try_from(count / 10).unwrap_or(usize::MAX).max(1);
    programming::season(conn, &cast, productions, count, &mut rng, progress)?;
    persistence::db::analyze(conn)
}

/// Adds `count` dossiers of the companies already in the database (with their
/// performances), in a call of their own, for benchmarks.
pub fn scale_dossiers(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    count: u64,
    progress: impl FnMut(u64),
) -> Result<(), PersistenceError> {
    grants::scale(conn, geography, count, progress)
}

/// A structure of any kind in `commune`, for benchmarks.
fn any_structure(commune: &Commune, serial: u64, rng: &mut SmallRng) -> Option<Structure> {
    use StructureKind::*;
    let town = commune.population >= TOWN;
    let (kind, patterns): (StructureKind, &[Pattern]) = match rng.random_range(0..7) {
        0..=2 => (Company, names::COMPANIES),
        3 if town => (Venue, names::VENUES),
        3 => (Venue, names::VILLAGE_VENUES),
        4 => (Festival, names::FESTIVALS),
        5 => (Network, names::NETWORKS),
        _ if town => (LocalAuthority, std::slice::from_ref(&names::CITY)),
        _ => (LocalAuthority, &[names::TOWN_HALL, names::COMMUNITY]),
    };
    let pattern = names::draw(patterns, rng)?;
    let named = names::fill(
        pattern,
        &commune.name,
        names::of_department(&commune.department),
        rng,
    );
    Some(structure(kind, named, commune, serial, rng))
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
    // Serials (hence SIRETs) start at a point given by the clock, past the demo's, so
    // that successive runs into one database do not collide.
    let span = (numbers::SERIALS - numbers::DEMO_SERIALS)
        .saturating_sub(count)
        .max(1);
    let start = numbers::DEMO_SERIALS + (Utc::now().timestamp_millis() as u64 * 1_000) % span;
    persistence::db::prepare_bulk_load(conn)?;
    let mut done = 0;
    while done < count {
        let size = (count - done).min(10_000);
        let batch: Vec<Structure> = (0..size)
            .filter_map(|i| {
                let pool = if rng.random_bool(0.75) {
                    &occitanie
                } else {
                    &elsewhere
                };
                let commune = pool.choose(&mut rng)?;
                any_structure(commune, start + done + i, &mut rng)
            })
            .collect();
        insert_followed(conn, &batch)?;
        done += size;
        progress(done);
    }
    persistence::db::analyze(conn)
}

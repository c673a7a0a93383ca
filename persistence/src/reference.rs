//! Reference geography: INSEE communes, départements and regions.
//!
//! The CSV files ship inside the binary (open data, Licence Ouverte 2.0) and are loaded
//! into an empty database on first start. INSEE publishes a new vintage every year: an
//! administrator loads it with `oes reference --dir DIR` (or the binary's own copy with
//! `oes reference --embedded`); a start never replaces what an administrator loaded.

use std::collections::{HashMap, HashSet};

use domain::geography::GeoText;

use chrono::Utc;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::{DbConnection, on_backend, write_transaction};
use crate::error::PersistenceError;
use crate::schema::{communes, departments, reference_datasets, regions};

pub const EMBEDDED_REGIONS: &str = include_str!("../reference/regions.csv");
pub const EMBEDDED_DEPARTMENTS: &str = include_str!("../reference/departments.csv");
pub const EMBEDDED_COMMUNES: &str = include_str!("../reference/communes.csv");

const DATASET: &str = "geography";
/// Rows per INSERT: well under SQLite's limit of 32,766 bound parameters.
const BATCH: usize = 2_000;

#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub regions: &'a str,
    pub departments: &'a str,
    pub communes: &'a str,
}

impl Sources<'static> {
    pub fn embedded() -> Self {
        Self {
            regions: EMBEDDED_REGIONS,
            departments: EMBEDDED_DEPARTMENTS,
            communes: EMBEDDED_COMMUNES,
        }
    }
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = regions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct RegionRow {
    code: String,
    name: String,
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = departments)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct DepartmentRow {
    code: String,
    name: String,
    region_code: String,
    population: Option<i64>,
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = communes)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct CommuneRow {
    insee_code: String,
    name: String,
    department_code: String,
    region_code: String,
    postal_codes: String,
    population: Option<i64>,
}

fn parse_csv<T>(
    text: &str,
    file: &str,
    row: impl Fn(&csv::StringRecord) -> Option<T>,
) -> Result<Vec<T>, PersistenceError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .enumerate()
        .map(|(line, record)| {
            let record = record.map_err(|e| PersistenceError::Corrupt(format!("{file}: {e}")))?;
            row(&record)
                .ok_or_else(|| PersistenceError::Corrupt(format!("{file}: bad row {}", line + 2)))
        })
        .collect()
}

fn population(field: &str) -> Option<i64> {
    field.parse().ok()
}

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadReport {
    pub loaded: bool,
    pub communes: usize,
    pub departments: usize,
}

/// True once a geography has been loaded.
pub fn is_loaded(conn: &mut DbConnection) -> Result<bool, PersistenceError> {
    Ok(reference_datasets::table
        .find(DATASET)
        .select(reference_datasets::name)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// Loads the sources in place of the stored geography, unless the same data is there.
pub fn load(conn: &mut DbConnection, sources: Sources<'_>) -> Result<LoadReport, PersistenceError> {
    let checksum = {
        let mut hasher = Sha256::new();
        for part in [sources.regions, sources.departments, sources.communes] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        format!("{:x}", hasher.finalize())
    };
    let regions_rows = parse_csv(sources.regions, "regions.csv", |r| {
        Some(RegionRow {
            code: r.get(0)?.to_owned(),
            name: r.get(1)?.to_owned(),
        })
    })?;
    let department_rows = parse_csv(sources.departments, "departments.csv", |r| {
        Some(DepartmentRow {
            code: r.get(0)?.to_owned(),
            name: r.get(1)?.to_owned(),
            region_code: r.get(2)?.to_owned(),
            population: population(r.get(3)?),
        })
    })?;
    let commune_rows = parse_csv(sources.communes, "communes.csv", |r| {
        Some(CommuneRow {
            insee_code: r.get(0)?.to_owned(),
            name: r.get(1)?.to_owned(),
            department_code: r.get(2)?.to_owned(),
            region_code: r.get(3)?.to_owned(),
            postal_codes: r.get(4)?.to_owned(),
            population: population(r.get(5)?),
        })
    })?;
    let report = LoadReport {
        loaded: true,
        communes: commune_rows.len(),
        departments: department_rows.len(),
    };

    write_transaction(conn, |conn| {
        let stored: Option<String> = reference_datasets::table
            .find(DATASET)
            .select(reference_datasets::checksum)
            .first(conn)
            .optional()?;
        if stored.as_deref() == Some(checksum.as_str()) {
            return Ok(LoadReport {
                loaded: false,
                ..report.clone()
            });
        }
        diesel::delete(communes::table).execute(conn)?;
        diesel::delete(departments::table).execute(conn)?;
        diesel::delete(regions::table).execute(conn)?;
        on_backend!(conn, |c| {
            diesel::insert_into(regions::table)
                .values(&regions_rows)
                .execute(c)?;
            diesel::insert_into(departments::table)
                .values(&department_rows)
                .execute(c)?;
            for chunk in commune_rows.chunks(BATCH) {
                diesel::insert_into(communes::table)
                    .values(chunk)
                    .execute(c)?;
            }
        });
        diesel::delete(reference_datasets::table.find(DATASET)).execute(conn)?;
        diesel::insert_into(reference_datasets::table)
            .values((
                reference_datasets::name.eq(DATASET),
                reference_datasets::checksum.eq(&checksum),
                reference_datasets::row_count.eq(commune_rows.len() as i64),
                reference_datasets::loaded_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn)?;
        Ok(report.clone())
    })
}

/// The reference geography held in memory: address checks run on every write and
/// must not cost a query each.
#[derive(Debug, Default)]
pub struct ReferenceGeography {
    communes: HashMap<GeoText, domain::Commune>,
    departments: HashMap<GeoText, domain::Department>,
    regions: HashSet<String>,
}

impl ReferenceGeography {
    pub fn read(conn: &mut DbConnection) -> Result<Self, PersistenceError> {
        let regions = regions::table
            .select(RegionRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|r| r.code)
            .collect();
        let departments = departments::table
            .select(DepartmentRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|d| {
                let code = GeoText::from(d.code);
                let department = domain::Department {
                    code: code.clone(),
                    name: d.name.into(),
                    region: d.region_code.into(),
                    population: d.population.unwrap_or(0),
                };
                (code, department)
            })
            .collect();
        let communes = communes::table
            .select(CommuneRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|c| {
                let code = GeoText::from(c.insee_code);
                let commune = domain::Commune {
                    insee_code: code.clone(),
                    name: c.name.into(),
                    department: c.department_code.into(),
                    region: c.region_code.into(),
                    postal_codes: c
                        .postal_codes
                        .split_whitespace()
                        .map(GeoText::from)
                        .collect(),
                    population: c.population.unwrap_or(0),
                };
                (code, commune)
            })
            .collect();
        Ok(Self {
            communes,
            departments,
            regions,
        })
    }

    pub fn communes(&self) -> impl Iterator<Item = &domain::Commune> {
        self.communes.values()
    }

    pub fn commune_count(&self) -> usize {
        self.communes.len()
    }
}

impl domain::Geography for ReferenceGeography {
    fn commune(&self, insee_code: &str) -> Option<&domain::Commune> {
        self.communes.get(insee_code)
    }

    fn department(&self, code: &str) -> Option<&domain::Department> {
        self.departments.get(code)
    }

    fn region_exists(&self, code: &str) -> bool {
        self.regions.contains(code)
    }
}

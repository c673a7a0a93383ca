//! What each approved (or closed) dossier gives each of its performances: written by the
//! approval, removed by a reopening, and summed by the yearly caps (per presenter and
//! per applicant, per calendar year, within a programme) through the two indexes of
//! `dossier_awards`.

use std::collections::HashMap;

use diesel::prelude::*;
use domain::grants::{AlreadyApproved, Dossier, Tally};
use domain::{DossierId, PerformanceId, ProgrammeId, StructureId};

use crate::db::{DbConnection, on_backend};
use crate::error::PersistenceError;
use crate::schema::dossier_awards;

/// The aid one funded performance of an approved dossier counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Award {
    pub performance_id: PerformanceId,
    pub presenter_id: Option<StructureId>,
    /// Calendar year of the performance, where it happens.
    pub year: i32,
    pub aid_cents: i64,
}

/// Records what an approval gives each performance (those with some aid).
pub fn record(
    conn: &mut DbConnection,
    dossier: &Dossier,
    awards: &[Award],
) -> Result<(), PersistenceError> {
    for award in awards.iter().filter(|a| a.aid_cents > 0) {
        diesel::insert_into(dossier_awards::table)
            .values((
                dossier_awards::dossier_id.eq(dossier.id.to_string()),
                dossier_awards::performance_id.eq(award.performance_id.to_string()),
                dossier_awards::programme_id.eq(dossier.programme_id.to_string()),
                dossier_awards::applicant_id.eq(dossier.applicant_id.to_string()),
                dossier_awards::presenter_id.eq(award.presenter_id.map(|p| p.to_string())),
                dossier_awards::year.eq(award.year),
                dossier_awards::aid_cents.eq(award.aid_cents),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Forgets what a dossier's approval gave (a reopening).
pub fn remove(conn: &mut DbConnection, dossier: DossierId) -> Result<(), PersistenceError> {
    diesel::delete(
        dossier_awards::table.filter(dossier_awards::dossier_id.eq(dossier.to_string())),
    )
    .execute(conn)?;
    Ok(())
}

/// Awards of the programme's other dossiers, of every year, read with the dossier being
/// judged (on PostgreSQL, by `context::dossier_for_account`).
#[derive(Debug, Clone)]
pub struct AwardsRead {
    /// To its applicant: (year, cents).
    pub by_applicant: Vec<(i32, i64)>,
    /// To the venues presenting its performances (a superset of the presenters the
    /// caps ask for is fine): (presenter, year, cents).
    pub by_presenter: Vec<(Option<String>, i32, i64)>,
}

/// What the programme's other approved dossiers gave, in `years`, to `presenters` and
/// to `applicant` (`None`: no cap counts per applicant): the yearly caps' input,
/// `excluding` the dossier being judged. Awards are read here unless `read` holds them.
pub fn already_approved(
    conn: &mut DbConnection,
    programme: ProgrammeId,
    applicant: Option<StructureId>,
    presenters: &[StructureId],
    years: &[i32],
    excluding: DossierId,
    read: Option<&AwardsRead>,
) -> Result<AlreadyApproved, PersistenceError> {
    let programme = programme.to_string();
    let excluding = excluding.to_string();
    // Statements of a fixed shape (one presenter, a span of years), which each
    // connection prepares once: `IN (…)` lists are prepared anew at every call, and
    // this runs at every read of a dossier. The span is narrowed to `years` here.
    let (Some(&first), Some(&last)) = (years.iter().min(), years.iter().max()) else {
        return Ok(AlreadyApproved::none());
    };
    let awards = match read {
        Some(read) => read.by_presenter.clone(),
        None => presenter_awards(conn, &programme, presenters, (first, last), &excluding)?,
    };
    let by_applicant: Vec<(i32, i64)> = match (applicant, read) {
        (None, _) => Vec::new(),
        (Some(_), Some(read)) => read.by_applicant.clone(),
        (Some(applicant), None) => {
            let applicant = applicant.to_string();
            on_backend!(conn, |c| dossier_awards::table
                .filter(dossier_awards::programme_id.eq(&programme))
                .filter(dossier_awards::applicant_id.eq(&applicant))
                .filter(dossier_awards::year.between(first, last))
                .filter(dossier_awards::dossier_id.ne(&excluding))
                .select((dossier_awards::year, dossier_awards::aid_cents))
                .load(c)?)
        }
    };
    tallied(awards, by_applicant, presenters, years)
}

/// The awards of the programme's other dossiers (`excluding` the one judged) to
/// `presenters` in the span of years: (presenter, year, cents), as [`tallied`] takes
/// them.
fn presenter_awards(
    conn: &mut DbConnection,
    programme: &str,
    presenters: &[StructureId],
    (first, last): (i32, i32),
    excluding: &str,
) -> Result<Vec<(Option<String>, i32, i64)>, PersistenceError> {
    let keys: Vec<String> = presenters.iter().map(ToString::to_string).collect();
    // The presenters' awards, of those `$presenters` keeps.
    macro_rules! awards_of {
        ($presenters:expr) => {
            dossier_awards::table
                .filter(dossier_awards::programme_id.eq(programme))
                .filter($presenters)
                .filter(dossier_awards::year.between(first, last))
                .filter(dossier_awards::dossier_id.ne(excluding))
                .select((
                    dossier_awards::presenter_id,
                    dossier_awards::year,
                    dossier_awards::aid_cents,
                ))
        };
    }
    // PostgreSQL takes every presenter in one statement (`= ANY($1)`, of a fixed text);
    // SQLite one at a time, as its `IN (…)` would be prepared anew at every call.
    Ok(match conn {
        DbConnection::Postgres(_) if keys.is_empty() => Vec::new(),
        DbConnection::Postgres(c) => {
            awards_of!(dossier_awards::presenter_id.eq_any(&keys)).load(c)?
        }
        DbConnection::Sqlite(c) => {
            let mut awards = Vec::new();
            for key in &keys {
                awards.extend(awards_of!(dossier_awards::presenter_id.eq(key)).load(c)?);
            }
            awards
        }
    })
}

/// The yearly caps' input from awards already read (of the programme's other approved
/// dossiers): those `by_presenter` that went to one of `presenters`, and those
/// `by_applicant`, each counted in the years of `years`.
fn tallied(
    by_presenter: impl IntoIterator<Item = (Option<String>, i32, i64)>,
    by_applicant: impl IntoIterator<Item = (i32, i64)>,
    presenters: &[StructureId],
    years: &[i32],
) -> Result<AlreadyApproved, PersistenceError> {
    let mut tallies: HashMap<(StructureId, i32), Tally> = HashMap::new();
    for (presenter, year, cents) in by_presenter {
        let Some(presenter) = presenter else { continue };
        let presenter = presenter
            .parse::<StructureId>()
            .map_err(|e| super::corrupt("award presenter", &presenter, e))?;
        if presenters.contains(&presenter) && years.contains(&year) {
            add(tallies.entry((presenter, year)).or_default(), cents);
        }
    }
    let mut approved = AlreadyApproved::none();
    for ((presenter, year), tally) in tallies {
        approved = approved.with_presenter(presenter, year, tally);
    }
    let mut yearly: HashMap<i32, Tally> = HashMap::new();
    for (year, cents) in by_applicant {
        if years.contains(&year) {
            add(yearly.entry(year).or_default(), cents);
        }
    }
    for (year, tally) in yearly {
        approved = approved.with_applicant(year, tally);
    }
    Ok(approved)
}

fn add(tally: &mut Tally, cents: i64) {
    tally.amount_cents = tally.amount_cents.saturating_add(cents);
    tally.performances = tally.performances.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallied_counts_only_the_presenters_and_years_asked_for_and_refuses_a_corrupt_id() {
        let (asked, other) = (StructureId::generate(), StructureId::generate());
        let by_presenter = vec![
            (Some(asked.to_string()), 2027, 150_000),
            (Some(asked.to_string()), 2027, 50_000),
            (Some(asked.to_string()), 2026, 70_000),
            (Some(other.to_string()), 2027, 90_000),
            (None, 2027, 10_000),
        ];
        let by_applicant = vec![(2027, 30_000), (2028, 40_000)];
        let approved = tallied(by_presenter, by_applicant, &[asked], &[2027]).unwrap();
        let expected = AlreadyApproved::none()
            .with_presenter(
                asked,
                2027,
                Tally {
                    amount_cents: 200_000,
                    performances: 2,
                },
            )
            .with_applicant(
                2027,
                Tally {
                    amount_cents: 30_000,
                    performances: 1,
                },
            );
        assert_eq!(approved, expected);
        let corrupt = vec![(Some("not-an-id".to_owned()), 2027, 1)];
        assert!(matches!(
            tallied(corrupt, Vec::new(), &[asked], &[2027]),
            Err(PersistenceError::Corrupt(_))
        ));
    }
}

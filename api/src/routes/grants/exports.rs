//! The grants' files: a call's dossiers for its committee (CSV, staff only), and the
//! awarded grants in the SCDL "Subventions" open-data format that French public bodies
//! publish (schema `scdl/subventions` 2.1.1 on schema.data.gouv.fr). Both are read in
//! keyset pages and streamed (`crate::http::streaming`).

use std::collections::hash_map::Entry;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Paris;
use domain::grants::{Call, Dossier, End, PaymentSchedule, Rate, paris_instant};
use domain::structures::Structure;
use domain::{CallId, Siret, StructureId};
use persistence::DbConnection;
use persistence::grants::dossiers::{self, ListQuery, Reader};
use persistence::grants::{calls, payments, programmes};
use persistence::reference::ReferenceGeography;
use serde::Deserialize;
use utoipa::IntoParams;

use super::dossiers::judge;
use super::manage;
use crate::auth::Caller;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::enums;
use crate::http::caching;
use crate::http::error::{ApiError, FieldIssue, Issue, responses};
use crate::http::extract::{PathId, QueryParams};
use crate::http::streaming::{self, Rendered};
use crate::routes::programming::exports::csv::{self as sheet, inert};

/// Dossiers read from the database per page of an export.
const PAGE_SIZE: i64 = 200;

/// The agency as its awarded grants name it.
#[derive(Debug, Clone)]
pub struct Agency {
    pub name: String,
    pub siret: Siret,
}

impl Agency {
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let siret = Siret::parse(&settings.agency_siret)
            .map_err(|problem| format!("OES_AGENCY_SIRET: {problem}"))?;
        let name = settings.agency_name.trim();
        if name.is_empty() {
            return Err("OES_AGENCY_NAME is empty".into());
        }
        Ok(Self {
            name: name.to_owned(),
            siret,
        })
    }
}

fn csv_error(error: csv::Error) -> ApiError {
    ApiError::Internal(format!("writing CSV: {error}"))
}

fn instant(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_default()
}

fn number(value: Option<i64>) -> String {
    value.map(|n| n.to_string()).unwrap_or_default()
}

/// The structures of a page's dossiers, by id.
fn applicants(
    conn: &mut DbConnection,
    page: &[Dossier],
) -> Result<std::collections::HashMap<StructureId, Structure>, ApiError> {
    let mut ids: Vec<StructureId> = page.iter().map(|d| d.applicant_id).collect();
    ids.sort();
    ids.dedup();
    Ok(persistence::structures::find_many(conn, &ids)?
        .into_iter()
        .map(|s| (s.id, s))
        .collect())
}

/// The query of the page after `page`, if there is one.
fn next_query(mut query: ListQuery, page: &persistence::page::Page<Dossier>) -> Option<ListQuery> {
    if !page.more {
        return None;
    }
    query.after = page.items.last().map(|d| d.id);
    Some(query)
}

/// The columns of the committee's file, in order.
pub const COMMITTEE_COLUMNS: [&str; 18] = [
    "reference",
    "id",
    "status",
    "applicant_id",
    "applicant_name",
    "applicant_department_code",
    "title",
    "performance_count",
    "total_expenses_cents",
    "total_incomes_cents",
    "balanced",
    "requested_cents",
    "maximum_cents",
    "maximum_limited_by",
    "awarded_cents",
    "submitted_at",
    "decided_at",
    "updated_at",
];

/// A page of a call's dossiers for its committee, with the maximum the rules compute
/// for each now.
fn committee_page(
    conn: &mut DbConnection,
    geography: &ReferenceGeography,
    query: ListQuery,
) -> Result<Rendered<ListQuery>, ApiError> {
    let page = dossiers::list(conn, &query)?;
    let structures = applicants(conn, &page.items)?;
    let mut writer = sheet::writer();
    for dossier in &page.items {
        let maximum = judge(conn, geography, dossier)?.maximum;
        let applicant = structures.get(&dossier.applicant_id);
        let budget = &dossier.content.budget;
        writer
            .write_record([
                dossier.reference.to_string(),
                dossier.id.to_string(),
                dossier.status.as_str().to_owned(),
                dossier.applicant_id.to_string(),
                inert(&applicant.map(|s| s.data.name.clone())),
                applicant
                    .and_then(|s| s.data.address.as_ref())
                    .and_then(|a| a.department.clone())
                    .unwrap_or_default(),
                inert(&Some(dossier.content.title.clone())),
                dossier.content.performance_ids.len().to_string(),
                budget.total_expenses_cents().to_string(),
                budget.total_incomes_cents().to_string(),
                budget.is_balanced().to_string(),
                number(budget.requested_cents()),
                maximum.total_cents.to_string(),
                maximum.limited_by.as_str().to_owned(),
                number(dossier.awarded_cents),
                instant(dossier.submitted_at),
                instant(dossier.decided_at),
                instant(Some(dossier.updated_at)),
            ])
            .map_err(csv_error)?;
    }
    let bytes = sheet::done(writer).map_err(csv_error)?;
    Ok(Rendered {
        next: next_query(query, &page),
        bytes,
    })
}

/// What the committee's file of a call may hold.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommitteeParams {
    /// Only the dossiers in this state.
    #[param(value_type = Option<enums::DossierStatus>)]
    pub status: Option<domain::grants::DossierStatus>,
}

/// CSV of a call's dossiers, for its committee.
///
/// Agency staff only: every dossier of the call (those in `status` if given), in
/// creation order, one row each with its applicant, its budget's totals, the amount
/// requested, the maximum the programme's rules compute for it now (and the rule that
/// limited it) and what was awarded. RFC 4180, UTF-8, CRLF, a header row; text that a
/// spreadsheet would run as a formula is prefixed with `'`. Streamed, however many.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Call id."),
        CommitteeParams,
    ),
    responses(
        (status = 200, description = "The call's dossiers, a header row first.", content_type = "text/csv", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"…\"`."))),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[get("/calls/{id}/dossiers.csv")]
pub async fn export_call_dossiers_csv(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    PathId(id): PathId<CallId>,
    QueryParams(params): QueryParams<CommitteeParams>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let query = ListQuery {
        reader: Reader::Everything,
        status: params.status,
        call: Some(id),
        limit: PAGE_SIZE,
        ..ListQuery::default()
    };
    let geo = Arc::clone(&geography);
    let (call, first): (Call, _) = db::run(&pool, move |conn| {
        manage(&caller.principal(conn)?)?;
        let call = calls::find(conn, id)?;
        let first = committee_page(conn, &geo, query)?;
        Ok::<_, ApiError>((call, first))
    })
    .await?;
    let mut head = sheet::writer();
    head.write_record(COMMITTEE_COLUMNS).map_err(csv_error)?;
    let head = sheet::done(head).map_err(csv_error)?;
    let geography = Arc::clone(&geography);
    let fetch =
        move |conn: &mut DbConnection, query: ListQuery| committee_page(conn, &geography, query);
    let body = streaming::keyset_body(pool.get_ref().clone(), head, first, fetch, b"");
    let mut response = HttpResponse::Ok();
    caching::cache_headers(&mut response, false, caching::VARY_AUTHORIZATION);
    Ok(response
        .content_type(sheet::MEDIA_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"call-{}-dossiers.csv\"", call.id),
        ))
        .streaming(body))
}

/// The SCDL "Subventions" 2.1.1 columns, in the schema's order.
pub const SCDL_COLUMNS: [&str; 16] = [
    "nomAttribuant",
    "idAttribuant",
    "dateConvention",
    "referenceDecision",
    "nomBeneficiaire",
    "idBeneficiaire",
    "rnaBeneficiaire",
    "objet",
    "montant",
    "nature",
    "conditionsVersement",
    "datesPeriodeVersement",
    "idRAE",
    "notificationUE",
    "pourcentageSubvention",
    "dispositifAide",
];

/// `objet` holds fewer than 256 characters.
const SCDL_OBJECT_MAX: usize = 255;

/// Euros with a `.` before the cents, as the schema's numbers are written.
fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The day an instant falls on in Paris.
fn paris_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Paris).date_naive()
}

/// How an award is paid, as SCDL says it.
struct Paying {
    /// In one payment (`unique`) or several (`échelonné`), as scheduled.
    staggered: bool,
    /// The days payments were made, in order.
    paid_on: Vec<NaiveDate>,
}

impl Paying {
    fn read(conn: &mut DbConnection, dossier: &Dossier) -> Result<Self, ApiError> {
        let awarded = dossier.awarded_cents.unwrap_or(0);
        let advance = payments::plan(conn, dossier.id)?.unwrap_or(Rate::HALF);
        let schedule = PaymentSchedule::advance_and_balance(awarded, advance);
        let mut paid_on: Vec<NaiveDate> = payments::list(conn, dossier.id)?
            .into_iter()
            .map(|p| p.paid_on)
            .collect();
        paid_on.sort_unstable();
        Ok(Self {
            staggered: schedule.payments().len() > 1 || paid_on.len() > 1,
            paid_on,
        })
    }

    fn conditions(&self) -> &'static str {
        if self.staggered {
            "échelonné"
        } else {
            "unique"
        }
    }

    /// The day of a single payment, or the period from the first to the last; the
    /// decision's day while nothing is paid.
    fn dates(&self, decided: NaiveDate) -> String {
        match (self.paid_on.first(), self.paid_on.last()) {
            (Some(first), Some(last)) if first != last => format!("{first}/{last}"),
            (Some(day), _) => day.to_string(),
            _ => decided.to_string(),
        }
    }
}

/// One awarded grant's row.
fn scdl_row(
    agency: &Agency,
    dossier: &Dossier,
    applicant: Option<&Structure>,
    programme_code: &str,
    paying: &Paying,
) -> [String; SCDL_COLUMNS.len()] {
    let decided = dossier.decided_at.map(paris_date).unwrap_or_default();
    let beneficiary = applicant
        .map(|s| {
            s.data
                .legal_name
                .clone()
                .unwrap_or_else(|| s.data.name.clone())
        })
        .unwrap_or_default();
    let object: String = dossier
        .content
        .title
        .chars()
        .take(SCDL_OBJECT_MAX)
        .collect();
    [
        agency.name.clone(),
        agency.siret.to_string(),
        decided.to_string(),
        dossier.reference.to_string(),
        inert(&Some(beneficiary)),
        applicant
            .and_then(|s| s.data.siret.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default(),
        String::new(),
        inert(&Some(object)),
        euros(dossier.awarded_cents.unwrap_or(0)),
        "aide en numéraire".to_owned(),
        paying.conditions().to_owned(),
        paying.dates(decided),
        String::new(),
        "non".to_owned(),
        "1.00".to_owned(),
        programme_code.to_owned(),
    ]
}

/// A page of awarded grants, rendered.
fn scdl_page(
    conn: &mut DbConnection,
    agency: &Agency,
    query: ListQuery,
) -> Result<Rendered<ListQuery>, ApiError> {
    let page = dossiers::list(conn, &query)?;
    let structures = applicants(conn, &page.items)?;
    let mut codes = std::collections::HashMap::new();
    let mut writer = sheet::writer();
    for dossier in &page.items {
        let code = match codes.entry(dossier.programme_id) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => {
                let programme = programmes::find(conn, dossier.programme_id)?;
                slot.insert(programme.data.code.to_string())
            }
        };
        let paying = Paying::read(conn, dossier)?;
        writer
            .write_record(scdl_row(
                agency,
                dossier,
                structures.get(&dossier.applicant_id),
                code.as_str(),
                &paying,
            ))
            .map_err(csv_error)?;
    }
    let bytes = sheet::done(writer).map_err(csv_error)?;
    Ok(Rendered {
        next: next_query(query, &page),
        bytes,
    })
}

/// Which awarded grants to publish.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AwardedGrantsParams {
    /// Only the grants decided in this calendar year (Europe/Paris).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i64>,
}

/// Awarded grants, as open data (SCDL "Subventions").
///
/// Every grant the agency awarded (dossiers approved or closed), in the SCDL
/// "Subventions" format (version 2.1.1) that French public bodies publish: one row per
/// grant, UTF-8, comma-separated, a header row with the schema's column names in its
/// order. `dateConvention` is the day of the decision in Paris, `referenceDecision` the
/// dossier's reference, `montant` the award in euros, `conditionsVersement` `unique` or
/// `échelonné` as its payments are scheduled, `datesPeriodeVersement` the day of its
/// payment or the period of its payments (the decision's day while nothing is paid),
/// `pourcentageSubvention` `1.00`
/// (one beneficiary per grant), `dispositifAide` the programme's code. Public, the same
/// for everyone. Streamed, however many.
#[utoipa::path(
    tag = "grants",
    security((), ("oauth2" = [])),
    params(AwardedGrantsParams),
    responses(
        (status = 200, description = "The awarded grants, a header row first.", content_type = "text/csv", body = String,
            headers(
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization`."),
            )),
    )
)]
#[get("/awarded-grants.csv")]
pub async fn export_awarded_grants_scdl(
    caller: Caller,
    pool: web::Data<Db>,
    agency: web::Data<Agency>,
    QueryParams(params): QueryParams<AwardedGrantsParams>,
) -> Result<HttpResponse, ApiError> {
    let decided = params.year.map(decided_in).transpose()?;
    let anonymous = caller.is_anonymous();
    let query = ListQuery {
        reader: Reader::Everything,
        awarded: true,
        decided,
        limit: PAGE_SIZE,
        ..ListQuery::default()
    };
    let first_agency = agency.clone();
    let first = db::run(&pool, move |conn| {
        // The same for everyone: the caller's token only has to be a valid one.
        caller.principal(conn)?;
        scdl_page(conn, &first_agency, query)
    })
    .await?;
    let mut head = sheet::writer();
    head.write_record(SCDL_COLUMNS).map_err(csv_error)?;
    let head = sheet::done(head).map_err(csv_error)?;
    let fetch = move |conn: &mut DbConnection, query: ListQuery| scdl_page(conn, &agency, query);
    let body = streaming::keyset_body(pool.get_ref().clone(), head, first, fetch, b"");
    let mut response = HttpResponse::Ok();
    caching::cache_headers(&mut response, anonymous, caching::VARY_AUTHORIZATION);
    Ok(response
        .content_type("text/csv; charset=utf-8; header=present")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"subventions.csv\"",
        ))
        .streaming(body))
}

/// The instants a Paris calendar year spans.
fn decided_in(year: i64) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let out_of_range = || {
        ApiError::InvalidParameters(vec![FieldIssue::new(
            "year",
            Issue::InvalidValue("must be between 2000 and 2100".into()),
        )])
    };
    let year = i32::try_from(year)
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(out_of_range)?;
    let start = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|local| paris_instant(local, End::Opening))
    };
    match (start(year), start(year + 1)) {
        (Some(from), Some(to)) => Ok((from, to)),
        _ => Err(out_of_range()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn amounts_are_euros_with_a_point_and_two_decimals() {
        assert_eq!(euros(150_000), "1500.00");
        assert_eq!(euros(5), "0.05");
        assert_eq!(euros(123_456), "1234.56");
    }

    #[test]
    fn a_year_is_paris_midnight_to_paris_midnight() {
        let (from, to) = decided_in(2027).unwrap();
        assert_eq!(from.to_rfc3339(), "2026-12-31T23:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2027-12-31T23:00:00+00:00");
        assert_eq!(from.with_timezone(&Paris).year(), 2027);
        assert!(decided_in(1999).is_err());
        assert!(decided_in(i64::MAX).is_err());
    }

    #[test]
    fn a_decision_late_on_new_years_eve_in_utc_is_dated_in_paris() {
        let at = "2026-12-31T23:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(paris_date(at).to_string(), "2027-01-01");
    }

    #[test]
    fn the_placeholder_siret_passes_the_checksum() {
        let settings = Settings::for_database("sqlite://:memory:");
        let agency = Agency::from_settings(&settings).unwrap();
        assert_eq!(
            agency.siret.to_string(),
            crate::config::DEFAULT_AGENCY_SIRET
        );
    }
}

//! Exports of performances in the formats people and tools already use: iCalendar
//! feeds (`GET /v1/performances.ics`), CSV (`GET /v1/performances.csv`) and schema.org
//! JSON-LD (`Accept: application/ld+json` on the performance and the list).
//!
//! The files are paths of their own rather than other `Accept`s of the list: a calendar
//! subscription or a spreadsheet's link cannot choose its `Accept` header. Both take the
//! list's filters and hold every matching performance, read in keyset pages of
//! [`PAGE_SIZE`] and streamed (`crate::http::streaming`).

pub(crate) mod csv;
mod ical;
mod jsonld;
mod listing;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use domain::access::Principal;
use futures_util::stream::Stream;
use persistence::DbConnection;
use persistence::programming::performances::{self, ListQuery};
use persistence::reference::ReferenceGeography;

pub use jsonld::{
    EventGraphLd, EventLd, EventType, OfferLd, OrganizationLd, PlaceLd, PostalAddressLd,
};
pub use listing::{Listing, listings};

use super::performances::{PerformanceFilters, list_query, roles_among};
use super::reader;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::caching;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::streaming::{self, Rendered};

/// Rows per page read from the database.
pub const PAGE_SIZE: i64 = 1_000;

/// A page of `query` for `principal`, rendered, with the query of the next page.
fn page(
    conn: &mut DbConnection,
    principal: &Principal,
    geography: &ReferenceGeography,
    render: Render,
    mut query: ListQuery,
) -> Result<Rendered<ListQuery>, ApiError> {
    let page = performances::list(conn, &query)?;
    let roles = roles_among(conn, principal, &page.items)?;
    let listings = listings(conn, principal, &roles, geography, page.items)?;
    let bytes = render(&listings)?;
    let next = page.next.map(|position| {
        query.after = Some(position);
        query
    });
    Ok(Rendered { bytes, next })
}

/// Renders a page into the body's bytes.
type Render = fn(&[Listing]) -> Result<Vec<u8>, ApiError>;

/// Starts an export: the caller and the first page in one trip, then the stream.
#[allow(clippy::too_many_arguments)]
async fn start(
    caller: Caller,
    pool: &Db,
    geography: &Arc<ReferenceGeography>,
    mut query: ListQuery,
    public: bool,
    render: Render,
    head: Vec<u8>,
    tail: &'static [u8],
) -> Result<impl Stream<Item = Result<Bytes, ApiError>> + use<>, ApiError> {
    query.limit = PAGE_SIZE;
    let geo = Arc::clone(geography);
    let (principal, first) = db::run(pool, move |conn| {
        let principal = caller.principal(conn)?;
        // A public export shows what everyone sees, whoever asks.
        let shown_as = if public {
            Principal::Anonymous
        } else {
            principal
        };
        query.reader = reader(&shown_as);
        let first = page(conn, &shown_as, &geo, render, query)?;
        Ok::<_, ApiError>((shown_as, first))
    })
    .await?;
    let geography = Arc::clone(geography);
    let fetch = move |conn: &mut DbConnection, query: ListQuery| {
        page(conn, &principal, &geography, render, query)
    };
    Ok(streaming::keyset_body(
        pool.clone(),
        head,
        first,
        fetch,
        tail,
    ))
}

fn render_ical(listings: &[Listing]) -> Result<Vec<u8>, ApiError> {
    ical::events(listings)
        .map(String::into_bytes)
        .map_err(|e| ApiError::Internal(format!("writing iCalendar: {e}")))
}

fn render_csv(listings: &[Listing]) -> Result<Vec<u8>, ApiError> {
    csv::rows(listings).map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))
}

/// iCalendar feed of performances.
///
/// The published performances the list's filters select (a production's, a
/// structure's, a venue's, a département's, a date range…), as an iCalendar (RFC 5545)
/// calendar to subscribe to: one `VEVENT` per performance, with the UID
/// `{performance id}@oes`, instants in UTC, a `SEQUENCE` that rises with every change,
/// `STATUS:CANCELLED` for a cancelled performance (`TENTATIVE` while only an option is
/// held or while postponed, `CONFIRMED` otherwise) and the ticketing `URL`. Never a fee.
/// Open to everyone and the same for everyone; anonymous answers may be cached by shared
/// caches for a minute. Streamed: every matching performance, however many.
#[utoipa::path(
    tag = "programming",
    security((), ("oauth2" = [])),
    params(PerformanceFilters),
    responses(
        (status = 200, description = "The calendar.", content_type = "text/calendar", body = String,
            headers(
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization`."),
            )),
    )
)]
#[get("/performances.ics")]
pub async fn export_performances_ics(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    QueryParams(filters): QueryParams<PerformanceFilters>,
) -> Result<HttpResponse, ApiError> {
    let anonymous = caller.is_anonymous();
    let query = list_query(filters)?;
    let body = start(
        caller,
        &pool,
        geography.get_ref(),
        query,
        true,
        render_ical,
        ical::HEAD.as_bytes().to_vec(),
        ical::TAIL.as_bytes(),
    )
    .await?;
    let mut response = HttpResponse::Ok();
    caching::cache_headers(&mut response, anonymous, caching::VARY_AUTHORIZATION);
    Ok(response
        .content_type(ical::MEDIA_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"performances.ics\"",
        ))
        .streaming(body))
}

/// CSV of performances.
///
/// Every performance the list's filters select that you may see (published ones, and
/// the unpublished ones of your structures; all of them for agency staff and
/// reviewers), as CSV (RFC 4180, UTF-8, CRLF, a header row). `fee_cents` is filled only
/// where you may see the fee (the company, the venue, staff), empty elsewhere. Text that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return (titles, names, places)
/// is prefixed with `'`, so that a spreadsheet shows it rather than running it. For
/// signed-in callers only. Streamed: every matching performance, however many.
#[utoipa::path(
    tag = "programming",
    security(("oauth2" = [])),
    params(PerformanceFilters),
    responses(
        (status = 200, description = "The performances, a header row first.", content_type = "text/csv", body = String),
    )
)]
#[get("/performances.csv")]
pub async fn export_performances_csv(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    QueryParams(filters): QueryParams<PerformanceFilters>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let query = list_query(filters)?;
    let head = csv::header().map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
    let body = start(
        caller,
        &pool,
        geography.get_ref(),
        query,
        false,
        render_csv,
        head,
        b"",
    )
    .await?;
    let mut response = HttpResponse::Ok();
    caching::cache_headers(&mut response, false, caching::VARY_AUTHORIZATION);
    Ok(response
        .content_type(csv::MEDIA_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"performances.csv\"",
        ))
        .streaming(body))
}

/// The JSON-LD of a page of public performances: `@graph` and `next_cursor`.
pub fn graph(listings: Vec<Listing>, next_cursor: Option<String>) -> EventGraphLd {
    EventGraphLd {
        context: jsonld::CONTEXT,
        graph: listings
            .into_iter()
            .map(|listing| EventLd::new(listing, false))
            .collect(),
        next_cursor,
    }
}

/// The JSON-LD of one public performance.
pub fn event(listing: Listing) -> EventLd {
    EventLd::new(listing, true)
}

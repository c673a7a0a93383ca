//! Exports of performances in the formats people and tools already use: iCalendar
//! feeds (`GET /v1/performances.ics`), CSV (`GET /v1/performances.csv`) and schema.org
//! JSON-LD (`Accept: application/ld+json` on the performance and the list).
//!
//! The files are paths of their own rather than other `Accept`s of the list: a calendar
//! subscription or a spreadsheet's link cannot choose its `Accept` header. Both take the
//! list's filters and hold every matching performance, read in keyset pages of
//! [`PAGE_SIZE`], each in a blocking task of its own, and sent as a streaming body as
//! they come: however many rows match, one page sits in memory at a time.

mod csv;
mod ical;
mod jsonld;
mod listing;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, get, web};
use domain::access::Principal;
use futures_util::stream::{self, Stream};
use persistence::DbConnection;
use persistence::programming::performances::{self, ListQuery, Position};
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

/// Rows per page read from the database.
pub const PAGE_SIZE: i64 = 1_000;

/// One page of an export, with what the exports say of each performance.
struct Batch {
    listings: Vec<Listing>,
    next: Option<Position>,
}

/// A page of `query` for `principal`, in the caller's database trip.
fn batch(
    conn: &mut DbConnection,
    principal: &Principal,
    geography: &ReferenceGeography,
    query: &ListQuery,
) -> Result<Batch, ApiError> {
    let page = performances::list(conn, query)?;
    let roles = roles_among(conn, principal, &page.items)?;
    let listings = listings(conn, principal, &roles, geography, page.items)?;
    Ok(Batch {
        listings,
        next: page.next,
    })
}

/// Renders a page into the body's bytes.
type Render = fn(&[Listing]) -> Result<Vec<u8>, ApiError>;

/// What the pages after the first need, shared by the stream's steps.
#[derive(Clone)]
struct Export {
    pool: Db,
    principal: Principal,
    geography: Arc<ReferenceGeography>,
    render: Render,
    tail: &'static [u8],
}

enum Step {
    /// The first page, read before the answer started (so that its errors are problems).
    First(Vec<u8>, Batch),
    Fetch(ListQuery),
    Tail,
    Done,
}

/// The body: `head`, the pages of `query` from `first` on, each read when the client
/// has taken the previous one, then the export's tail. A failure after the first page
/// can only cut the body short (the status is sent): it is logged.
fn body(
    export: Export,
    query: ListQuery,
    head: Vec<u8>,
    first: Batch,
) -> impl Stream<Item = Result<Bytes, ApiError>> {
    let after = move |mut query: ListQuery, next: Option<Position>| match next {
        Some(position) => {
            query.after = Some(position);
            Step::Fetch(query)
        }
        None => Step::Tail,
    };
    stream::unfold(
        (export, Step::First(head, first), query),
        move |(export, step, query)| async move {
            match step {
                Step::First(mut head, batch) => {
                    let chunk = (export.render)(&batch.listings).map(|rows| {
                        head.extend_from_slice(&rows);
                        Bytes::from(head)
                    });
                    let next = after(query.clone(), batch.next);
                    Some((chunk, (export, next, query)))
                }
                Step::Fetch(query) => {
                    let (pool, principal, geography) = (
                        export.pool.clone(),
                        export.principal.clone(),
                        Arc::clone(&export.geography),
                    );
                    let read = query.clone();
                    let fetched = db::run(&pool, move |conn| {
                        batch(conn, &principal, &geography, &read)
                    })
                    .await;
                    match fetched.and_then(|batch| {
                        let rows = (export.render)(&batch.listings)?;
                        Ok((rows, batch.next))
                    }) {
                        Ok((rows, next)) => {
                            let next = after(query.clone(), next);
                            Some((Ok(Bytes::from(rows)), (export, next, query)))
                        }
                        Err(error) => {
                            tracing::error!(error = %error, "export cut short");
                            Some((Err(error), (export, Step::Done, query)))
                        }
                    }
                }
                Step::Tail => Some((
                    Ok(Bytes::from_static(export.tail)),
                    (export, Step::Done, query),
                )),
                Step::Done => None,
            }
        },
    )
}

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
    let (read, geo) = (query.clone(), Arc::clone(geography));
    let (principal, first) = db::run(pool, move |conn| {
        let principal = caller.principal(conn)?;
        // A public export shows what everyone sees, whoever asks.
        let shown_as = if public {
            Principal::Anonymous
        } else {
            principal
        };
        let mut read = read;
        read.reader = reader(&shown_as);
        let first = batch(conn, &shown_as, &geo, &read)?;
        Ok::<_, ApiError>((shown_as, first))
    })
    .await?;
    query.reader = reader(&principal);
    let export = Export {
        pool: pool.clone(),
        principal,
        geography: Arc::clone(geography),
        render,
        tail,
    };
    Ok(body(export, query, head, first))
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

//! Handlers of `/v1/performances`.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{NaiveDateTime, Utc};
use domain::access::{
    MembershipRole, Principal, ProgrammingAction, may_program, programming_role, stronger,
};
use domain::programming::{
    NewPerformance, Performance, PerformanceInput, PerformancePatch, ProductionRef, References,
    TourRef, VenueRef,
};
use domain::{PerformanceId, ProductionId, StructureId, TourId};
use persistence::changes::NewChange;
use persistence::db::write_transaction;
use persistence::programming::performances::{self, ListQuery, Position};
use persistence::programming::{productions, tours};
use persistence::reference::ReferenceGeography;
use persistence::{DbConnection, PersistenceError};
use serde::{Deserialize, Serialize};

use super::dto::*;
use crate::audit;
use crate::auth::Caller;
use crate::changes;
use crate::db::{self, Db};
use crate::http::caching::{item_response, read_item};
use crate::http::conditional::{self, check_if_match, etag, if_match};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId, QueryParams};
use crate::http::idempotency::{self, Reply};
use crate::http::pagination::{self, Page};
use crate::http::{caching, negotiate};
use crate::routes::programming::{EventGraphLd, EventLd, ProgrammingProblem};
use crate::routes::programming::{
    check_readable, check_writable, exports, instant_param, not_editable, parameters, reader,
    role_in,
};
use domain::changes::{ChangeAction, ChangedObject};

/// Records a performance's change: it concerns both its sides, public once published;
/// the fee is in the full view only, for those related to a side.
pub(crate) fn record(
    conn: &mut DbConnection,
    caller: &Caller,
    performance: &Performance,
    action: ChangeAction,
) -> Result<(), ApiError> {
    let change = change(caller, performance, action)?;
    persistence::changes::record(conn, change)?;
    Ok(())
}

/// The change [`record`] records, for a write that records its changes later (with
/// others, at the end of its transaction).
pub(crate) fn change(
    caller: &Caller,
    performance: &Performance,
    action: ChangeAction,
) -> Result<NewChange, ApiError> {
    let view = PerformanceView::new(performance.clone(), true);
    let structures = [
        performance.data.company_structure(),
        performance.data.venue_structure(),
    ]
    .into_iter()
    .flatten()
    .collect();
    changes::described(
        caller,
        ChangedObject::Performance,
        performance.id,
        action,
        performance.version,
        (action != ChangeAction::Deleted).then_some(&view),
        structures,
        performance.data.published,
    )
}

/// The caller's role in a performance: the stronger of its roles on the company side
/// (the production's structure) and on the venue side.
pub(crate) fn performance_role(
    conn: &mut DbConnection,
    principal: &Principal,
    data: &NewPerformance,
) -> Result<Option<MembershipRole>, ApiError> {
    let company = match data.company_structure() {
        Some(structure) => role_in(conn, principal, structure)?,
        None => None,
    };
    let venue = match data.venue_structure() {
        Some(structure) => role_in(conn, principal, structure)?,
        None => None,
    };
    Ok(stronger(company, venue))
}

fn performance_with_role(
    conn: &mut DbConnection,
    principal: &Principal,
    id: PerformanceId,
) -> Result<(Performance, Option<MembershipRole>), ApiError> {
    let performance = performances::find(conn, id)?;
    let role = performance_role(conn, principal, &performance.data)?;
    Ok((performance, role))
}

/// The caller's principal, a performance and the caller's role in it, for a read: an
/// account's standing and roles come in the same query as the performance, so a
/// signed-in read costs one round trip, as an anonymous one does.
fn caller_and_performance(
    conn: &mut DbConnection,
    caller: &Caller,
    id: PerformanceId,
) -> Result<(Principal, Performance, Option<MembershipRole>), ApiError> {
    let Some(account) = caller.account_id() else {
        let principal = caller.principal(conn)?;
        let (performance, role) = performance_with_role(conn, &principal, id)?;
        return Ok((principal, performance, role));
    };
    let (principal, found) =
        caller.judged_with(performances::find_for_account(conn, id, account)?)?;
    Ok((
        principal,
        found.performance,
        stronger(found.company_role, found.venue_role),
    ))
}

pub(crate) fn absent_as_none<T>(found: Result<T, PersistenceError>) -> Result<Option<T>, ApiError> {
    match found {
        Ok(value) => Ok(Some(value)),
        Err(PersistenceError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// What the ids of `input` name, as the caller may use them: a production it may see,
/// a live venue structure, a tour.
pub(crate) fn references(
    conn: &mut DbConnection,
    principal: &Principal,
    input: &PerformanceInput,
) -> Result<References, ApiError> {
    references_with(conn, principal, input, &mut Lookups::default())
}

/// What [`references`] read for one caller, kept for its next writes in the same
/// transaction: a sync batch's items name the same few productions, venues and tours,
/// each read once. What the lookups tell is what a single write reading just before
/// them would have been told.
#[derive(Default)]
pub(crate) struct Lookups {
    productions: HashMap<ProductionId, Option<ProductionRef>>,
    venues: HashMap<StructureId, Option<VenueRef>>,
    tours: HashMap<TourId, Option<TourRef>>,
}

/// [`references`], through `lookups`.
pub(crate) fn references_with(
    conn: &mut DbConnection,
    principal: &Principal,
    input: &PerformanceInput,
    lookups: &mut Lookups,
) -> Result<References, ApiError> {
    let production = match input.production_id {
        Some(id) => match lookups.productions.get(&id) {
            Some(known) => known.clone(),
            None => {
                let found = production_ref(conn, principal, id)?;
                lookups.productions.insert(id, found.clone());
                found
            }
        },
        None => None,
    };
    let venue = match input.venue_structure_id {
        Some(id) => match lookups.venues.get(&id) {
            Some(known) => known.clone(),
            None => {
                let found = absent_as_none(persistence::structures::find(conn, id))?
                    .filter(|venue| venue.archived_at.is_none())
                    .map(|venue| VenueRef {
                        id,
                        address: venue.data.address,
                    });
                lookups.venues.insert(id, found.clone());
                found
            }
        },
        None => None,
    };
    let tour = match input.tour_id {
        Some(id) => match lookups.tours.get(&id) {
            Some(known) => known.clone(),
            None => {
                let found = absent_as_none(tours::find(conn, id))?.map(|tour| TourRef {
                    id,
                    production_id: tour.production_id,
                });
                lookups.tours.insert(id, found.clone());
                found
            }
        },
        None => None,
    };
    Ok(References {
        production,
        venue,
        tour,
    })
}

/// The production `id`, if the caller may see it.
fn production_ref(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ProductionId,
) -> Result<Option<ProductionRef>, ApiError> {
    let Some(found) = absent_as_none(productions::find(conn, id))? else {
        return Ok(None);
    };
    let role = role_in(conn, principal, found.structure_id)?;
    Ok(
        (found.data.published || may_program(principal, ProgrammingAction::ReadUnpublished, role))
            .then_some(ProductionRef {
                id,
                structure_id: found.structure_id,
            }),
    )
}

/// Checks `input` whole and that the caller edits one of its sides; a performance
/// nobody may edit for it is a 422 naming the side it gave.
fn checked(
    conn: &mut DbConnection,
    principal: &Principal,
    input: &PerformanceInput,
    geography: &ReferenceGeography,
) -> Result<NewPerformance, ApiError> {
    let references = references(conn, principal, input)?;
    let data = NewPerformance::parse(input, &references, geography, Utc::now())?;
    let role = performance_role(conn, principal, &data)?;
    if !may_program(principal, ProgrammingAction::Write, role) {
        return Err(not_editable(if data.company_structure().is_some() {
            "production_id"
        } else {
            "venue_structure_id"
        }));
    }
    Ok(data)
}

fn sees_fee(principal: &Principal, role: Option<MembershipRole>) -> bool {
    may_program(principal, ProgrammingAction::ReadFee, role)
}

#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    /// `s` when ordered by start, `u` by last change.
    by: char,
    key: String,
    id: String,
}

const CURSOR_INSTANT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

impl Cursor {
    fn of(position: Position) -> Self {
        match position {
            Position::Starts { starts_at, id } => Self {
                by: 's',
                key: starts_at.format(CURSOR_INSTANT).to_string(),
                id,
            },
            Position::Updated { updated_at, id } => Self {
                by: 'u',
                key: updated_at.format(CURSOR_INSTANT).to_string(),
                id,
            },
        }
    }

    fn position(self, by_update: bool) -> Result<Position, ApiError> {
        let key = NaiveDateTime::parse_from_str(&self.key, CURSOR_INSTANT)
            .map_err(|_| pagination::invalid_cursor())?;
        match (self.by, by_update) {
            ('s', false) => Ok(Position::Starts {
                starts_at: key,
                id: self.id,
            }),
            ('u', true) => Ok(Position::Updated {
                updated_at: key,
                id: self.id,
            }),
            _ => Err(pagination::invalid_cursor()),
        }
    }
}

/// The roles of the caller in the structures of a page's performances.
pub(crate) fn roles_among(
    conn: &mut DbConnection,
    principal: &Principal,
    page: &[Performance],
) -> Result<HashMap<StructureId, MembershipRole>, ApiError> {
    let structures: Vec<StructureId> = page
        .iter()
        .flat_map(|p| [p.data.company_structure(), p.data.venue_structure()])
        .flatten()
        .collect();
    Ok(match principal {
        Principal::Anonymous => HashMap::new(),
        Principal::Account { id, .. } => {
            persistence::structures::memberships::memberships_among(conn, *id, &structures)?
        }
        Principal::Client {
            structures: acts_for,
            scopes,
            ..
        } => structures
            .into_iter()
            .filter_map(|s| programming_role(acts_for, scopes, s).map(|role| (s, role)))
            .collect(),
    })
}

/// List performances.
///
/// Published performances, and the unpublished ones you may see (those of your
/// structures, on either side; all of them for agency staff and reviewers), ordered by
/// start (`starts_at`, then `id`), or by last change with `updated_since`. Pages
/// follow `next_cursor`; any page costs what the first costs.
///
/// The public agenda: anonymous callers see published performances without fees
/// (`status=scheduled` for those still to come as planned); their answers may be kept
/// by shared caches (a CDN) for a minute. With `Accept: application/ld+json`, the page
/// is schema.org `Event`s (published performances only, as everyone sees them, never a
/// fee). `If-None-Match` with the page's `ETag`: 304 if it did not change.
#[utoipa::path(
    tag = "programming",
    security((), ("oauth2" = [])),
    params(
        ListPerformancesParams,
        ("If-None-Match" = Option<String>, Header, description = "The page's ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "One page of performances.",
            content(
                (PerformancePage = "application/json"),
                (EventGraphLd = "application/ld+json"),
            ),
            headers(
                ("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."),
                ("ETag" = String, description = "A digest of the page."),
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization, Accept`."),
            )),
        (status = 304, description = "Not modified: your copy of the page is current."),
    )
)]
#[get("/performances")]
pub async fn list_performances(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    req: HttpRequest,
    QueryParams(params): QueryParams<ListPerformancesParams>,
) -> Result<HttpResponse, ApiError> {
    let (filters, published, limit, cursor) = params.split();
    let limit = pagination::limit(limit)?;
    let mut query = list_query(filters)?;
    query.after = cursor
        .as_deref()
        .map(|cursor| pagination::decode::<Cursor>(cursor)?.position(query.updated_since.is_some()))
        .transpose()?;
    query.published = published;
    query.limit = limit;
    let anonymous = caller.is_anonymous();
    if wants_json_ld(&req) {
        return list_as_json_ld(caller, &pool, &geography, query, &req, anonymous).await;
    }
    let (principal, page, roles) = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        query.reader = reader(&principal);
        let page = performances::list(conn, &query)?;
        let roles = roles_among(conn, &principal, &page.items)?;
        Ok::<_, ApiError>((principal, page, roles))
    })
    .await?;
    let role_of = |structure: Option<StructureId>| structure.and_then(|s| roles.get(&s).copied());
    Page {
        data: page
            .items
            .into_iter()
            .map(|performance| {
                let role = stronger(
                    role_of(performance.data.company_structure()),
                    role_of(performance.data.venue_structure()),
                );
                PerformanceView::new(performance, sees_fee(&principal, role))
            })
            .collect(),
        next_cursor: page.next.map(|p| pagination::encode(&Cursor::of(p))),
    }
    .respond_cached(&req, anonymous, caching::VARY_AUTHORIZATION_ACCEPT)
}

/// The query of the performances `filters` select (the reader, page and `published`
/// flag left to the caller); bad values are a 400 naming each parameter.
pub(crate) fn list_query(filters: PerformanceFilters) -> Result<ListQuery, ApiError> {
    let mut invalid = domain::ValidationError::default();
    if let Some(department) = &filters.department {
        invalid.check("department", domain::geography::department_code(department));
    }
    if let Some(commune) = &filters.commune {
        invalid.check("commune", domain::geography::commune_code(commune));
    }
    if let Some(region) = &filters.region {
        invalid.check("region", domain::geography::region_code(region));
    }
    let from = instant_param(&mut invalid, "from", filters.from.as_deref());
    let to = instant_param(&mut invalid, "to", filters.to.as_deref());
    let updated_since = instant_param(
        &mut invalid,
        "updated_since",
        filters.updated_since.as_deref(),
    );
    if let Some(population) = filters.max_commune_population {
        invalid.check(
            "max_commune_population",
            domain::programming::within(population, 0, i64::MAX),
        );
    }
    parameters(invalid)?;
    let outside_region = filters.outside_region.unwrap_or(false);
    let region = match (filters.region, outside_region) {
        (None, true) => Some(domain::geography::OCCITANIE.to_owned()),
        (region, _) => region,
    };
    Ok(ListQuery {
        production: filters.production.map(Into::into),
        structure: filters.structure.map(Into::into),
        venue: filters.venue.map(Into::into),
        department: filters.department,
        commune: filters.commune,
        region,
        outside_region,
        discipline: filters.discipline,
        from,
        to,
        status: filters.status,
        young_audience: filters.young_audience,
        max_commune_population: filters.max_commune_population,
        updated_since,
        ..Default::default()
    })
}

/// Create a performance.
///
/// Exactly one of `production_id` and `show`, and one of `venue_structure_id` and
/// `place` (a 422 names the field otherwise). You must edit the production's structure
/// or the venue structure: a performance of someone else's production at your venue, of
/// your production anywhere, an outside show at your venue. Send an `Idempotency-Key`
/// to retry safely.
#[utoipa::path(
    tag = "programming",
    security(("oauth2" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreatePerformance,
    responses(
        (status = 201, description = "Created.", body = PerformanceView, headers(
            ("Location" = String, description = "URL of the new performance."),
            ("ETag" = String, description = "Current version."),
        )),
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/performances")]
pub async fn create_performance(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    req: HttpRequest,
    body: JsonBody<CreatePerformance>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        Err(problem) => {
            caller.resolve(&pool).await?;
            return Err(problem);
        }
    };
    let geography = Arc::clone(geography.get_ref());
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let input = PerformanceInput::from(value);
        let mut event = audit::event(&caller, "performance.create", "performance", "", &[]);
        Ok(move |conn: &mut DbConnection| {
            let principal = caller.principal(conn)?;
            let data = checked(conn, &principal, &input, &geography)?;
            event.changed_fields = data
                .changed_fields(None)
                .iter()
                .map(|field| (*field).to_owned())
                .collect();
            let created = persistence::audit::recorded(
                conn,
                |conn| performances::create(conn, data),
                move |created| {
                    event.object_id = created.id.to_string();
                    event
                },
            )?;
            // Last: the change log's numbering is held until the commit.
            record(conn, &caller, &created, ChangeAction::Created)?;
            let (location, version) = (format!("/v1/performances/{}", created.id), created.version);
            Ok(
                Reply::json(StatusCode::CREATED, &PerformanceView::new(created, true))?
                    .header(header::LOCATION, location)
                    .header(header::ETAG, etag(version)),
            )
        })
    })
    .await
}

/// Get a performance.
///
/// An unpublished performance you may not see is a 404. `fee_cents` is present only for
/// the company, the venue and staff. With `Accept: application/ld+json`, a schema.org
/// `Event` (never a fee; 406 `not_public` for an unpublished performance). Anonymous
/// answers may be kept by shared caches for a minute.
#[utoipa::path(
    tag = "programming",
    security((), ("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Performance id."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "The performance.",
            content(
                (PerformanceView = "application/json"),
                (EventLd = "application/ld+json"),
            ),
            headers(
                ("ETag" = String, description = "Current version (JSON only)."),
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization, Accept`."),
            )),
        (status = 304, description = "Not modified: your copy is current."),
        responses::NotFound,
        responses::NotAcceptable,
    )
)]
#[get("/performances/{id}")]
pub async fn get_performance(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    req: HttpRequest,
    PathId(id): PathId<PerformanceId>,
) -> Result<HttpResponse, ApiError> {
    let anonymous = caller.is_anonymous();
    if wants_json_ld(&req) {
        let geography = Arc::clone(geography.get_ref());
        let listing = db::run(&pool, move |conn| {
            let principal = caller.principal(conn)?;
            let (performance, role) = performance_with_role(conn, &principal, id)?;
            check_readable(&principal, performance.data.published, role)?;
            // Public performances only, shown as to everyone.
            if !performance.data.published {
                return Err(ProgrammingProblem::NotPublic.into());
            }
            let listings = exports::listings(
                conn,
                &Principal::Anonymous,
                &HashMap::new(),
                &geography,
                vec![performance],
            )?;
            listings
                .into_iter()
                .next()
                .ok_or_else(|| ApiError::Internal("a listing went missing".into()))
        })
        .await?;
        let mut response = HttpResponse::Ok();
        caching::cache_headers(&mut response, anonymous, caching::VARY_AUTHORIZATION_ACCEPT);
        return Ok(response
            .content_type(negotiate::JSON_LD)
            .json(exports::event(listing)));
    }
    let (performance, fee) = db::run(&pool, move |conn| {
        let (principal, performance, role) = caller_and_performance(conn, &caller, id)?;
        check_readable(&principal, performance.data.published, role)?;
        Ok::<_, ApiError>((performance, sees_fee(&principal, role)))
    })
    .await?;
    read_item(
        &req,
        anonymous,
        caching::VARY_AUTHORIZATION_ACCEPT,
        performance.version,
        &PerformanceView::new(performance, fee),
    )
}

/// Whether the client prefers schema.org JSON-LD to the API's JSON.
fn wants_json_ld(req: &HttpRequest) -> bool {
    negotiate::preferred(req, &[negotiate::JSON, negotiate::JSON_LD]) == 1
}

/// A page of the list as schema.org events: published performances only, shown as to
/// everyone.
async fn list_as_json_ld(
    caller: Caller,
    pool: &Db,
    geography: &Arc<ReferenceGeography>,
    mut query: ListQuery,
    req: &HttpRequest,
    anonymous: bool,
) -> Result<HttpResponse, ApiError> {
    let geography = Arc::clone(geography);
    let (listings, next) = db::run(pool, move |conn| {
        caller.principal(conn)?;
        query.reader = reader(&Principal::Anonymous);
        let page = performances::list(conn, &query)?;
        let listings = exports::listings(
            conn,
            &Principal::Anonymous,
            &HashMap::new(),
            &geography,
            page.items,
        )?;
        Ok::<_, ApiError>((listings, page.next))
    })
    .await?;
    let next_cursor = next.map(|p| pagination::encode(&Cursor::of(p)));
    let items = listings.len();
    pagination::cached_page(
        req,
        &exports::graph(listings, next_cursor.clone()),
        items,
        negotiate::JSON_LD,
        next_cursor.as_deref(),
        anonymous,
        caching::VARY_AUTHORIZATION_ACCEPT,
    )
}

/// Update a performance.
///
/// A JSON merge patch, checked as a whole; you must edit one of its sides before and
/// after the change. Send `If-Match` with the `ETag` you read to refuse lost updates.
#[utoipa::path(
    tag = "programming",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Performance id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the performance changed since."),
    ),
    request_body = UpdatePerformance,
    responses(
        (status = 200, description = "The updated performance.", body = PerformanceView,
            headers(("ETag" = String, description = "New version."))),
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[patch("/performances/{id}")]
pub async fn update_performance(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    req: HttpRequest,
    PathId(id): PathId<PerformanceId>,
    body: JsonBody<UpdatePerformance>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let patch = match body.open() {
        Ok(opened) => PerformancePatch::from(opened.value),
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                let (performance, role) = performance_with_role(conn, &principal, id)?;
                check_writable(&principal, performance.data.published, role)
            })
            .await?;
            return Err(problem);
        }
    };
    let geography = Arc::clone(geography.get_ref());
    let result = conditional::merging(condition.as_ref(), |locking| {
        let (precondition, patch, geography) =
            (condition.clone(), patch.clone(), Arc::clone(&geography));
        let mut event = audit::event(&caller, "performance.update", "performance", id, &[]);
        db::run(&pool, move |conn| {
            write_transaction::<_, ApiError>(conn, |conn| {
                let principal = caller.principal(conn)?;
                locking.apply(conn, persistence::db::Versioned::Performances, id)?;
                let (current, role) = performance_with_role(conn, &principal, id)?;
                check_writable(&principal, current.data.published, role)?;
                let input = patch.merge(&current.data);
                let data = checked(conn, &principal, &input, &geography)?;
                check_if_match(precondition.as_ref(), current.version)?;
                if data == current.data {
                    return Ok(current);
                }
                event.changed_fields = data
                    .changed_fields(Some(&current.data))
                    .iter()
                    .map(|field| (*field).to_owned())
                    .collect();
                let updated = persistence::audit::recorded(
                    conn,
                    |conn| performances::update(conn, &current, data),
                    |_| event,
                )?;
                crate::routes::grants::flag_if_cancelled(conn, &current, Some(&updated))?;
                record(conn, &caller, &updated, ChangeAction::Updated)?;
                Ok(updated)
            })
        })
    })
    .await;
    let updated = result?;
    Ok(item_response(
        HttpResponse::Ok(),
        updated.version,
        &PerformanceView::new(updated, true),
    ))
}

/// Delete a performance.
#[utoipa::path(
    tag = "programming",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Performance id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the performance changed since."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
    )
)]
#[delete("/performances/{id}")]
pub async fn delete_performance(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<PerformanceId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let event = audit::event(&caller, "performance.delete", "performance", id, &[]);
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let (current, role) = performance_with_role(conn, &principal, id)?;
            check_writable(&principal, current.data.published, role)?;
            check_if_match(condition.as_ref(), current.version)?;
            persistence::audit::recorded(
                conn,
                |conn| performances::delete(conn, &current),
                |_| event,
            )?;
            crate::routes::grants::flag_if_cancelled(conn, &current, None)?;
            let gone = Performance {
                version: current.version + 1,
                ..current
            };
            record(conn, &caller, &gone, ChangeAction::Deleted)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

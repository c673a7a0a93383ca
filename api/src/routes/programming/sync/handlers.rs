//! Handlers of `/v1/sync/performances`.
//!
//! A single write (an upsert or a delete) is one top-level transaction that reads the
//! caller's external id, checks, writes the performance, then its audit event and its
//! change, and commits. Two requests for one new external id race to link it: the
//! loser's link finds the winner's (on PostgreSQL it waits for the winner's commit),
//! rolls back and starts again, and so finds the performance the winner made. A version
//! changed meanwhile is retried the same way.
//!
//! A batch of such writes is one transaction with a savepoint per item: see
//! `batch`.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, IfMatch};
use actix_web::{HttpRequest, HttpResponse, delete, put, web};
use chrono::Utc;
use domain::PerformanceId;
use domain::access::{ClientId, Principal, ProgrammingAction, Scope, may_program};
use domain::changes::ChangeAction;
use domain::programming::{ExternalId, NewPerformance, Performance, PerformanceInput, SyncResult};
use domain::{FieldProblem, ValidationError};
use persistence::audit::NewEvent;
use persistence::changes::NewChange;
use persistence::db::{savepoint, write_transaction};
use persistence::programming::{performances, sync};
use persistence::reference::ReferenceGeography;
use persistence::{DbConnection, PersistenceError};

use super::dto::*;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::caching::item_response;
use crate::http::conditional::{check_if_match, if_match};
use crate::http::context;
use crate::http::error::{ApiError, PROBLEM_JSON, Problem, ProblemField, responses};
use crate::http::extract::{ExternalIdPath, JsonBody, prefixed};
use crate::http::i18n;
use crate::routes::programming::performances::{
    Lookups, change, performance_role, references_with,
};
use crate::routes::programming::{CreatePerformance, PerformanceView};

/// How many times a write starts again after losing a race (see the module's
/// documentation) before answering 503.
pub(super) const ATTEMPTS: usize = 16;

/// Why a sync write did not happen.
#[derive(Debug)]
pub(crate) enum SyncError {
    Api(ApiError),
    /// The caller edits neither side of the performance it sent: a 403 naming the
    /// fields that name those sides.
    NotYours(Vec<String>),
    /// A concurrent request linked the external id first, or changed or deleted its
    /// performance: roll back and start again.
    Race,
    /// PostgreSQL broke a deadlock by failing a statement of this transaction: roll it
    /// back whole and start again.
    Deadlock,
}

impl From<ApiError> for SyncError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<PersistenceError> for SyncError {
    fn from(error: PersistenceError) -> Self {
        match error {
            PersistenceError::VersionMismatch { .. } => Self::Race,
            PersistenceError::Deadlock => Self::Deadlock,
            other => Self::Api(other.into()),
        }
    }
}

impl From<ValidationError> for SyncError {
    fn from(error: ValidationError) -> Self {
        Self::Api(error.into())
    }
}

impl SyncError {
    /// The same refusal with its fields named under `prefix` (`items[3].performance`).
    pub(super) fn under(self, prefix: &str) -> Self {
        match self {
            Self::Api(error) => Self::Api(prefixed(error, prefix)),
            Self::NotYours(fields) => Self::NotYours(
                fields
                    .into_iter()
                    .map(|field| format!("{prefix}.{field}"))
                    .collect(),
            ),
            Self::Race => Self::Race,
            Self::Deadlock => Self::Deadlock,
        }
    }

    /// The problem this refusal answers; made where the request's context is known.
    pub(super) fn problem(&self) -> Problem {
        match self {
            Self::Api(error) => {
                // A batch item's 500 is shown in the batch's 200: logged here.
                if let ApiError::Internal(cause) = error {
                    tracing::error!(%cause, "internal error in a batch item");
                }
                error.problem()
            }
            Self::NotYours(fields) => {
                let lang = context::current().lang;
                let mut problem = ApiError::Forbidden.problem();
                problem.errors = fields
                    .iter()
                    .map(|field| ProblemField {
                        field: field.clone(),
                        code: FieldProblem::NotEditable.code().to_owned(),
                        message: i18n::field_problem(&FieldProblem::NotEditable, lang),
                    })
                    .collect();
                problem
            }
            Self::Race => too_many_races().problem(),
            Self::Deadlock => ApiError::from(PersistenceError::Deadlock).problem(),
        }
    }

    fn into_response(self) -> Result<HttpResponse, ApiError> {
        match self {
            Self::Api(error) => Err(error),
            Self::Race => Err(too_many_races()),
            Self::Deadlock => Err(PersistenceError::Deadlock.into()),
            refusal @ Self::NotYours(_) => Ok(HttpResponse::Forbidden()
                .content_type(PROBLEM_JSON)
                .json(refusal.problem())),
        }
    }
}

pub(super) fn too_many_races() -> ApiError {
    ApiError::Unavailable("too many concurrent writes of one external id".into())
}

/// The API client that syncs: anonymous callers 401; accounts, and clients without
/// `programming:write`, 403.
pub(super) fn syncing_client(principal: &Principal) -> Result<ClientId, ApiError> {
    match principal {
        Principal::Client { id, scopes, .. } if scopes.contains(&Scope::ProgrammingWrite) => {
            Ok(*id)
        }
        Principal::Anonymous => Err(ApiError::Unauthenticated),
        _ => Err(ApiError::Forbidden),
    }
}

/// Refuses a caller who may not sync, in a database trip of its own: for a request
/// whose body is bad, which only a caller who may sync is told about.
pub(super) async fn may_sync(pool: &Db, caller: Caller) -> Result<(), ApiError> {
    db::run(pool, move |conn| {
        let principal = caller.principal(conn)?;
        syncing_client(&principal).map(|_| ())
    })
    .await
}

/// The audit events of sync writes, made where the request's id is known.
#[derive(Clone)]
pub(super) struct Events {
    create: NewEvent,
    update: NewEvent,
    delete: NewEvent,
}

impl Events {
    pub(super) fn of(caller: &Caller) -> Self {
        let event = |action| audit::event(caller, action, "performance", "", &[]);
        Self {
            create: event("performance.create"),
            update: event("performance.update"),
            delete: event("performance.delete"),
        }
    }
}

/// Who writes, and what every write needs.
pub(super) struct Writer {
    pub(super) caller: Caller,
    pub(super) principal: Principal,
    pub(super) client: ClientId,
    pub(super) geography: Arc<ReferenceGeography>,
    pub(super) events: Events,
}

fn field_names(fields: Vec<&'static str>) -> Vec<String> {
    fields.into_iter().map(str::to_owned).collect()
}

/// What a write leaves to record after it, last: its audit event and its change (by a
/// single request right away, by a batch at its end with its other items').
pub(super) struct Trace {
    pub(super) event: NewEvent,
    pub(super) change: NewChange,
}

/// What a write may take as read already: a batch's links and performances, read at its
/// start for the first attempt of each item (a retry reads afresh); what the writer
/// looked up of productions, venues and tours.
#[derive(Default)]
pub(super) struct Known {
    read: Option<Read>,
    lookups: Lookups,
}

struct Read {
    links: HashMap<String, PerformanceId>,
    performances: HashMap<PerformanceId, Performance>,
}

impl Known {
    /// Reads what `externals` name, in a few queries.
    pub(super) fn of_batch(
        conn: &mut DbConnection,
        client: ClientId,
        externals: &[&ExternalId],
    ) -> Result<Self, PersistenceError> {
        let links = sync::find_many(conn, client, externals)?;
        let ids: Vec<PerformanceId> = links.values().copied().collect();
        let performances = performances::find_many(conn, &ids)?;
        Ok(Self {
            read: Some(Read {
                links,
                performances,
            }),
            lookups: Lookups::default(),
        })
    }
}

/// Checks `input` whole, and that the writer edits one of its sides.
fn checked(
    conn: &mut DbConnection,
    writer: &Writer,
    input: &PerformanceInput,
    lookups: &mut Lookups,
) -> Result<NewPerformance, SyncError> {
    let references = references_with(conn, &writer.principal, input, lookups)?;
    let data = NewPerformance::parse(input, &references, writer.geography.as_ref(), Utc::now())?;
    let role = performance_role(conn, &writer.principal, &data)?;
    if may_program(&writer.principal, ProgrammingAction::Write, role) {
        return Ok(data);
    }
    let mut fields = Vec::new();
    if data.company_structure().is_some() {
        fields.push("production_id".to_owned());
    }
    if data.venue_structure().is_some() || fields.is_empty() {
        // An outside show needs a venue the writer acts for.
        fields.push("venue_structure_id".to_owned());
    }
    Err(SyncError::NotYours(fields))
}

/// The performance an external id names, when the writer may change it; from `read`
/// when given (a batch's first attempt). A retry (`fresh`) locks its row before reading
/// it, so that it cannot lose the race it lost again.
fn linked(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    read: Option<&Read>,
    fresh: bool,
) -> Result<Option<Performance>, SyncError> {
    let id = match read {
        Some(read) => read.links.get(external.as_ref()).copied(),
        None => sync::find(conn, writer.client, external)?,
    };
    let Some(id) = id else {
        return Ok(None);
    };
    if fresh {
        persistence::db::lock_row(
            conn,
            persistence::db::Versioned::Performances,
            &id.to_string(),
        )?;
    }
    let current = match read.and_then(|read| read.performances.get(&id)) {
        Some(current) => current.clone(),
        None => match performances::find(conn, id) {
            // Deleted since the link was read (PostgreSQL reads each statement afresh).
            Err(PersistenceError::NotFound) => return Err(SyncError::Race),
            found => found?,
        },
    };
    let role = performance_role(conn, &writer.principal, &current.data)?;
    if !may_program(&writer.principal, ProgrammingAction::Write, role) {
        // Its own external id, of a performance it no longer edits (a venue it no
        // longer acts for): no secret to keep, so a 403.
        return Err(ApiError::Forbidden.into());
    }
    Ok(Some(current))
}

/// A write that found its performance gone since it was read: start again (an upsert
/// then creates it anew, a delete answers 404).
fn vanished(error: PersistenceError) -> SyncError {
    match error {
        PersistenceError::NotFound => SyncError::Race,
        other => other.into(),
    }
}

pub(super) type Upserted = (SyncResult, Performance, Option<Trace>);

pub(super) fn upsert_once(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    input: &PerformanceInput,
    condition: Option<&IfMatch>,
    known: &mut Known,
    fresh: bool,
) -> Result<Upserted, SyncError> {
    let read = known.read.as_ref().filter(|_| !fresh);
    let Some(current) = linked(conn, writer, external, read, fresh)? else {
        // No current version for If-Match to match, not even `*` (RFC 9110 §13.1.1).
        if condition.is_some() {
            return Err(ApiError::PreconditionFailed.into());
        }
        let data = checked(conn, writer, input, &mut known.lookups)?;
        let mut event = writer.events.create.clone();
        event.changed_fields = field_names(data.changed_fields(None));
        let created = performances::create(conn, data)?;
        if !sync::link(conn, writer.client, external, created.id)? {
            return Err(SyncError::Race);
        }
        event.object_id = created.id.to_string();
        let change = change(&writer.caller, &created, ChangeAction::Created)?;
        return Ok((SyncResult::Created, created, Some(Trace { event, change })));
    };
    let data = checked(conn, writer, input, &mut known.lookups)?;
    check_if_match(condition, current.version)?;
    if data == current.data {
        return Ok((SyncResult::Unchanged, current, None));
    }
    let mut event = writer.events.update.clone();
    event.object_id = current.id.to_string();
    event.changed_fields = field_names(data.changed_fields(Some(&current.data)));
    let updated = performances::update(conn, &current, data).map_err(vanished)?;
    crate::routes::grants::flag_if_cancelled(conn, &current, Some(&updated))?;
    let change = change(&writer.caller, &updated, ChangeAction::Updated)?;
    Ok((SyncResult::Updated, updated, Some(Trace { event, change })))
}

pub(super) fn delete_once(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    condition: Option<&IfMatch>,
    known: &Known,
    fresh: bool,
) -> Result<Trace, SyncError> {
    let read = known.read.as_ref().filter(|_| !fresh);
    let current = linked(conn, writer, external, read, fresh)?.ok_or(ApiError::NotFound)?;
    check_if_match(condition, current.version)?;
    let mut event = writer.events.delete.clone();
    event.object_id = current.id.to_string();
    // The link goes with the performance (ON DELETE CASCADE).
    performances::delete(conn, &current).map_err(vanished)?;
    crate::routes::grants::flag_if_cancelled(conn, &current, None)?;
    let gone = Performance {
        version: current.version + 1,
        ..current
    };
    let change = change(&writer.caller, &gone, ChangeAction::Deleted)?;
    Ok(Trace { event, change })
}

/// Records a single write's trace, last in its transaction.
fn traced(conn: &mut DbConnection, trace: Option<Trace>) -> Result<(), SyncError> {
    if let Some(Trace { event, change }) = trace {
        persistence::audit::record(conn, event)?;
        // Last: the change log's numbering is held until the commit.
        persistence::changes::record(conn, change)?;
    }
    Ok(())
}

/// Where a write runs: a top-level transaction of its own (a single request), or a
/// savepoint of the batch's transaction.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Within {
    Transaction,
    Savepoint,
}

/// Runs `once` until it does not lose a race, each attempt in `within`; `once` is told
/// whether it is a retry. A deadlock is retried here only in a transaction of its own:
/// in a savepoint the batch's earlier items keep their locks, so the whole batch starts
/// again instead.
pub(super) fn retried<T>(
    conn: &mut DbConnection,
    within: Within,
    mut once: impl FnMut(&mut DbConnection, bool) -> Result<T, SyncError>,
) -> Result<T, SyncError> {
    for attempt in 0..ATTEMPTS {
        let fresh = attempt > 0;
        let done = match within {
            Within::Transaction => write_transaction(conn, |conn| once(conn, fresh)),
            Within::Savepoint => savepoint(conn, |conn| once(conn, fresh)),
        };
        match done {
            Err(SyncError::Race) => continue,
            Err(SyncError::Deadlock) if within == Within::Transaction => continue,
            done => return done,
        }
    }
    Err(SyncError::Race)
}

fn upsert(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    input: &PerformanceInput,
    condition: Option<&IfMatch>,
) -> Result<(SyncResult, Performance), SyncError> {
    retried(conn, Within::Transaction, |conn, fresh| {
        let mut known = Known::default();
        let (result, performance, trace) =
            upsert_once(conn, writer, external, input, condition, &mut known, fresh)?;
        traced(conn, trace)?;
        Ok((result, performance))
    })
}

fn remove(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    condition: Option<&IfMatch>,
) -> Result<(), SyncError> {
    retried(conn, Within::Transaction, |conn, fresh| {
        let trace = delete_once(conn, writer, external, condition, &Known::default(), fresh)?;
        traced(conn, Some(trace))
    })
}

/// Create or replace the performance you keep as `external_id`.
///
/// For API clients with `programming:write` (accounts: 403): the body is a performance
/// as `POST /v1/performances` takes it, and replaces whatever you sent before under this
/// id. The answer says what happened: `created` (201, with `Location`), `updated`, or
/// `unchanged` (200: the same performance again, nothing written: no new version, no
/// change in the feed, no audit event). Your external ids are yours: another client's
/// same id names another performance. The performance must be of a production of a
/// structure you act for, or at a venue you act for (403 naming the field otherwise).
/// `If-Match` is honoured when sent (412 if the id names nothing yet). An external id
/// holding `/`, `%` or `+` travels percent-encoded; the id `batch` travels in batch
/// items only (`/v1/sync/performances/batch` is the batch's path).
#[utoipa::path(
    tag = "sync",
    security(("oauth2" = ["programming:write"])),
    params(
        ("external_id" = String, Path, min_length = 1, max_length = 200,
            pattern = r"^[^\x00-\x1F\x7F-\x9F]+$",
            description = "Your id of the performance: 1 to 200 printable characters."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the performance changed since, or does not exist."),
    ),
    request_body = CreatePerformance,
    responses(
        (status = 201, description = "Created.", body = SyncedPerformance, headers(
            ("Location" = String, description = "URL of the new performance."),
            ("ETag" = String, description = "Current version."),
        )),
        (status = 200, description = "Updated, or unchanged (`result` says which).",
            body = SyncedPerformance,
            headers(("ETag" = String, description = "Current version."))),
        responses::Forbidden,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[put("/sync/performances/{external_id}")]
pub async fn sync_performance(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    req: HttpRequest,
    ExternalIdPath(external): ExternalIdPath,
    body: JsonBody<CreatePerformance>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let input = match body.open() {
        Ok(opened) => PerformanceInput::from(opened.value),
        Err(problem) => {
            may_sync(&pool, caller).await?;
            return Err(problem);
        }
    };
    let geography = Arc::clone(geography.get_ref());
    let events = Events::of(&caller);
    let outcome = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let client = syncing_client(&principal)?;
        let writer = Writer {
            caller,
            principal,
            client,
            geography,
            events,
        };
        Ok::<_, ApiError>(upsert(conn, &writer, &external, &input, condition.as_ref()))
    })
    .await?;
    let (result, performance) = match outcome {
        Ok(done) => done,
        Err(refusal) => return refusal.into_response(),
    };
    let mut response = HttpResponse::build(if result == SyncResult::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    });
    if result == SyncResult::Created {
        response.insert_header((
            header::LOCATION,
            format!("/v1/performances/{}", performance.id),
        ));
    }
    let version = performance.version;
    Ok(item_response(
        response,
        version,
        &SyncedPerformance {
            result,
            performance: PerformanceView::new(performance, true),
        },
    ))
}

/// Delete the performance you keep as `external_id`.
///
/// 404 if you keep nothing under this id (another client's ids are not yours to see).
#[utoipa::path(
    tag = "sync",
    security(("oauth2" = ["programming:write"])),
    params(
        ("external_id" = String, Path, min_length = 1, max_length = 200,
            pattern = r"^[^\x00-\x1F\x7F-\x9F]+$",
            description = "Your id of the performance."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the performance changed since."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
    )
)]
#[delete("/sync/performances/{external_id}")]
pub async fn unsync_performance(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    req: HttpRequest,
    ExternalIdPath(external): ExternalIdPath,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let geography = Arc::clone(geography.get_ref());
    let events = Events::of(&caller);
    let outcome = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let client = syncing_client(&principal)?;
        let writer = Writer {
            caller,
            principal,
            client,
            geography,
            events,
        };
        Ok::<_, ApiError>(remove(conn, &writer, &external, condition.as_ref()))
    })
    .await?;
    match outcome {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(refusal) => refusal.into_response(),
    }
}

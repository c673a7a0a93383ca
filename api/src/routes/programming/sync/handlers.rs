//! Handlers of `/v1/sync/performances`.
//!
//! A single write (an upsert or a delete) is one top-level transaction that reads the
//! caller's external id, checks, writes the performance, then its audit event and its
//! change, and commits. Two requests for one new external id race to link it: the
//! loser's link finds the winner's (on PostgreSQL it waits for the winner's commit),
//! rolls back and starts again, and so finds the performance the winner made. A version
//! changed meanwhile is retried the same way.
//!
//! A batch is one transaction too (`BEGIN IMMEDIATE` on SQLite), with a savepoint per
//! item: an item refused, or failing in the database (a unique violation), is rolled
//! back to its savepoint and answered on its own, and the others commit together, in
//! one WAL flush. An item that loses a race rolls back to its savepoint and starts
//! again the same way. The items' audit events and changes are collected and recorded
//! at the end, after every write: the change log's numbering lock
//! (`persistence::changes`) is taken once, by the last statements, and held only to
//! the commit. Holding it while writing rows would deadlock against single writers,
//! which lock their row first and then wait for it.
//!
//! Between row locks, nothing deadlocks: single writers lock one performance (and its
//! external id), and batches lock theirs in one order, that of their external ids
//! (items are done in that order and answered in theirs), so two batches of one client
//! over the same ids, in whatever order sent, meet in the same order. Should PostgreSQL
//! still report a deadlock, the whole batch is rolled back and done again.
//!
//! The batch reads its items' links and performances at its start, and each production,
//! venue and tour once; an item that finds them changed since (by a version check, or
//! a link made meanwhile) starts again from fresh reads.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, IfMatch};
use actix_web::{HttpRequest, HttpResponse, delete, post, put, web};
use chrono::Utc;
use domain::PerformanceId;
use domain::access::{ClientId, Principal, ProgrammingAction, Scope, may_program};
use domain::changes::ChangeAction;
use domain::programming::sync::BATCH_MAX;
use domain::programming::{
    ExternalId, NewPerformance, Performance, PerformanceInput, SyncAction, SyncResult,
};
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
use crate::http::conditional::{check_if_match, if_match};
use crate::http::context;
use crate::http::error::{ApiError, PROBLEM_JSON, Problem, ProblemField, responses};
use crate::http::extract::{Batch, ExternalIdPath, JsonBody, parse_value, prefixed};
use crate::http::i18n;
use crate::routes::programming::performances::{
    Lookups, change, performance_role, references_with,
};
use crate::routes::programming::{CreatePerformance, PerformanceView, item_response};

/// How many times a write starts again after losing a race (see the module's
/// documentation) before answering 503.
const ATTEMPTS: usize = 16;

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
    fn under(self, prefix: &str) -> Self {
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
    fn problem(&self) -> Problem {
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

fn too_many_races() -> ApiError {
    ApiError::Unavailable("too many concurrent writes of one external id".into())
}

/// The API client that syncs: anonymous callers 401; accounts, and clients without
/// `programming:write`, 403.
fn syncing_client(principal: &Principal) -> Result<ClientId, ApiError> {
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
async fn may_sync(pool: &Db, caller: Caller) -> Result<(), ApiError> {
    db::run(pool, move |conn| {
        let principal = caller.principal(conn)?;
        syncing_client(&principal).map(|_| ())
    })
    .await
}

/// The audit events of sync writes, made where the request's id is known.
#[derive(Clone)]
struct Events {
    create: NewEvent,
    update: NewEvent,
    delete: NewEvent,
}

impl Events {
    fn of(caller: &Caller) -> Self {
        let event = |action| audit::event(caller, action, "performance", "", &[]);
        Self {
            create: event("performance.create"),
            update: event("performance.update"),
            delete: event("performance.delete"),
        }
    }
}

/// Who writes, and what every write needs.
struct Writer {
    caller: Caller,
    principal: Principal,
    client: ClientId,
    geography: Arc<ReferenceGeography>,
    events: Events,
}

fn field_names(fields: Vec<&'static str>) -> Vec<String> {
    fields.into_iter().map(str::to_owned).collect()
}

/// What a write leaves to record after it, last: its audit event and its change (by a
/// single request right away, by a batch at its end with its other items').
struct Trace {
    event: NewEvent,
    change: NewChange,
}

/// What a write may take as read already: a batch's links and performances, read at its
/// start for the first attempt of each item (a retry reads afresh); what the writer
/// looked up of productions, venues and tours.
#[derive(Default)]
struct Known {
    read: Option<Read>,
    lookups: Lookups,
}

struct Read {
    links: HashMap<String, PerformanceId>,
    performances: HashMap<PerformanceId, Performance>,
}

impl Known {
    /// Reads what `externals` name, in a few queries.
    fn of_batch(
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
/// when given (a batch's first attempt).
fn linked(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    read: Option<&Read>,
) -> Result<Option<Performance>, SyncError> {
    let id = match read {
        Some(read) => read.links.get(external.as_ref()).copied(),
        None => sync::find(conn, writer.client, external)?,
    };
    let Some(id) = id else {
        return Ok(None);
    };
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

type Upserted = (SyncResult, Performance, Option<Trace>);

fn upsert_once(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    input: &PerformanceInput,
    condition: Option<&IfMatch>,
    known: &mut Known,
    fresh: bool,
) -> Result<Upserted, SyncError> {
    let read = known.read.as_ref().filter(|_| !fresh);
    let Some(current) = linked(conn, writer, external, read)? else {
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
    let change = change(&writer.caller, &updated, ChangeAction::Updated)?;
    Ok((SyncResult::Updated, updated, Some(Trace { event, change })))
}

fn delete_once(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    condition: Option<&IfMatch>,
    known: &Known,
    fresh: bool,
) -> Result<Trace, SyncError> {
    let read = known.read.as_ref().filter(|_| !fresh);
    let current = linked(conn, writer, external, read)?.ok_or(ApiError::NotFound)?;
    check_if_match(condition, current.version)?;
    let mut event = writer.events.delete.clone();
    event.object_id = current.id.to_string();
    // The link goes with the performance (ON DELETE CASCADE).
    performances::delete(conn, &current).map_err(vanished)?;
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
enum Within {
    Transaction,
    Savepoint,
}

/// Runs `once` until it does not lose a race, each attempt in `within`; `once` is told
/// whether it is a retry. A deadlock is retried here only in a transaction of its own:
/// in a savepoint the batch's earlier items keep their locks, so the whole batch starts
/// again instead.
fn retried<T>(
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

/// A batch item as read: its external id as sent, and what to do, or why not.
struct Item {
    external_id: Option<String>,
    work: Result<(ExternalId, Work), SyncError>,
}

enum Work {
    Upsert(Box<PerformanceInput>),
    Delete,
}

/// Reads every item on its own; a batch over the limit, or naming one external id
/// twice, is refused whole (422 naming the field).
fn read_items(items: Vec<serde_json::Value>) -> Result<Vec<Item>, ApiError> {
    if items.len() > BATCH_MAX {
        return Err(
            ValidationError::single("items", FieldProblem::TooMany { max: BATCH_MAX }).into(),
        );
    }
    let mut seen = HashSet::new();
    let mut duplicates = ValidationError::default();
    let external_ids: Vec<Option<String>> = items
        .iter()
        .map(|item| {
            item.get("external_id")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                // Shown back only when valid (the contract says no text holds a NUL).
                .filter(|id| ExternalId::parse(id).is_ok())
        })
        .collect();
    for (i, external_id) in external_ids.iter().enumerate() {
        if let Some(id) = external_id
            && !seen.insert(id.as_str())
        {
            duplicates.push(format!("items[{i}].external_id"), FieldProblem::Duplicate);
        }
    }
    duplicates.into_result()?;
    Ok(items
        .into_iter()
        .zip(external_ids)
        .enumerate()
        .map(|(i, (value, external_id))| Item {
            external_id,
            work: read_item(value, i),
        })
        .collect())
}

fn read_item(value: serde_json::Value, i: usize) -> Result<(ExternalId, Work), SyncError> {
    let at = format!("items[{i}]");
    let item: SyncBatchItem = parse_value(value, &at)?;
    let external = ExternalId::parse(&item.external_id)
        .map_err(|problem| ValidationError::single(format!("{at}.external_id"), problem))?;
    let work = match (item.action, item.performance) {
        (SyncAction::Upsert, Some(performance)) => {
            Work::Upsert(Box::new(PerformanceInput::from(performance)))
        }
        (SyncAction::Delete, None) => Work::Delete,
        (SyncAction::Upsert, None) => {
            return Err(ValidationError::single(
                format!("{at}.performance"),
                FieldProblem::Required,
            )
            .into());
        }
        (SyncAction::Delete, Some(_)) => {
            return Err(ValidationError::single(
                format!("{at}.performance"),
                FieldProblem::NotAllowed,
            )
            .into());
        }
    };
    Ok((external, work))
}

/// What a batch item came to, before it is shown.
type Outcome = Result<(SyncResult, Option<Performance>), SyncError>;

/// A batch item to do: its place in the batch, its external id, what to do.
type Job = (usize, ExternalId, Work);

/// An item done: what happened, the performance as it is now (none when deleted), and
/// what to record of it.
type Done = (SyncResult, Option<Performance>, Option<Trace>);

/// One attempt at an item, in its savepoint.
fn item_once(
    conn: &mut DbConnection,
    writer: &Writer,
    (i, external, work): &Job,
    known: &mut Known,
    fresh: bool,
) -> Result<Done, SyncError> {
    match work {
        Work::Upsert(input) => upsert_once(conn, writer, external, input, None, known, fresh)
            .map(|(result, performance, trace)| (result, Some(performance), trace))
            .map_err(|refusal| refusal.under(&format!("items[{i}].performance"))),
        Work::Delete => delete_once(conn, writer, external, None, known, fresh)
            .map(|trace| (SyncResult::Deleted, None, Some(trace))),
    }
}

/// One attempt at a whole batch, in its transaction: `jobs` in the order of their
/// external ids (see the module's documentation), each in savepoints until it does not
/// lose a race, then every audit event and change of those done. A deadlock anywhere
/// ends the attempt.
fn batch_once(
    conn: &mut DbConnection,
    writer: &Writer,
    jobs: &[Job],
) -> Result<Vec<(usize, Outcome)>, SyncError> {
    let externals: Vec<&ExternalId> = jobs.iter().map(|(_, external, _)| external).collect();
    let mut known = Known::of_batch(conn, writer.client, &externals)?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut events = Vec::new();
    let mut changes = Vec::new();
    for job in jobs {
        let done = retried(conn, Within::Savepoint, |conn, fresh| {
            item_once(conn, writer, job, &mut known, fresh)
        });
        let outcome = match done {
            Err(SyncError::Deadlock) => return Err(SyncError::Deadlock),
            Err(refusal) => Err(refusal),
            Ok((result, performance, trace)) => {
                if let Some(Trace { event, change }) = trace {
                    events.push(event);
                    changes.push(change);
                }
                Ok((result, performance))
            }
        };
        outcomes.push((job.0, outcome));
    }
    persistence::audit::record_many(conn, events)?;
    // Last: the change log's numbering is held from here to the commit.
    persistence::changes::record_many(conn, changes)?;
    Ok(outcomes)
}

/// Runs a batch's `jobs` in one transaction, started again whole after a deadlock.
fn run_batch(
    conn: &mut DbConnection,
    writer: &Writer,
    jobs: &[Job],
) -> Result<Vec<(usize, Outcome)>, ApiError> {
    for _ in 0..ATTEMPTS {
        match write_transaction(conn, |conn| batch_once(conn, writer, jobs)) {
            Ok(outcomes) => return Ok(outcomes),
            Err(SyncError::Deadlock) => {
                tracing::warn!("a sync batch met a deadlock: rolled back, done again");
                continue;
            }
            Err(SyncError::Api(error)) => return Err(error),
            Err(SyncError::NotYours(_)) => return Err(ApiError::Forbidden),
            Err(SyncError::Race) => return Err(too_many_races()),
        }
    }
    Err(PersistenceError::Deadlock.into())
}

/// Create, replace or delete up to 1,000 performances by your external ids.
///
/// Each item is done on its own, as `PUT` or `DELETE` on its external id would do it:
/// the answer (200) holds one result per item, in the order of the items: `created`,
/// `updated`, `unchanged`, `deleted`, or `failed` with the problem the item met (its
/// status and code, and its bad fields named from the batch:
/// `items[3].performance.starts_at`). A refused item does not stop the others, and the
/// items done are committed together when the answer is sent (they appear in the change
/// feed together; items are done in the order of their external ids). Only a batch of
/// more than 1,000 items, or naming an external id twice, is refused whole (422).
/// Sending a batch again is safe: what it already did comes back `unchanged`.
#[utoipa::path(
    tag = "sync",
    security(("oauth2" = ["programming:write"])),
    request_body = SyncBatch,
    responses(
        (status = 200, description = "One result per item.", body = SyncBatchResults),
        responses::Forbidden,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/sync/performances/batch")]
pub async fn sync_performances_batch(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    body: JsonBody<SyncBatch, Batch>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let batch = match body.open() {
        Ok(opened) => opened.value,
        Err(problem) => {
            may_sync(&pool, caller).await?;
            return Err(problem);
        }
    };
    let geography = Arc::clone(geography.get_ref());
    let events = Events::of(&caller);
    let outcomes = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let client = syncing_client(&principal)?;
        let items = read_items(batch.items)?;
        let writer = Writer {
            caller,
            principal,
            client,
            geography,
            events,
        };
        let mut outcomes: Vec<(Option<String>, Option<Outcome>)> = Vec::with_capacity(items.len());
        let mut jobs: Vec<Job> = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match item.work {
                Ok((external, work)) => {
                    jobs.push((i, external, work));
                    outcomes.push((item.external_id, None));
                }
                Err(refusal) => outcomes.push((item.external_id, Some(Err(refusal)))),
            }
        }
        // Done in the order of their external ids, answered in theirs.
        jobs.sort_by(|(_, a, _), (_, b, _)| a.as_ref().cmp(b.as_ref()));
        for (i, outcome) in run_batch(conn, &writer, &jobs)? {
            outcomes[i].1 = Some(outcome);
        }
        outcomes
            .into_iter()
            .map(|(external_id, outcome)| {
                outcome
                    .map(|outcome| (external_id, outcome))
                    .ok_or_else(|| ApiError::Internal("a batch item was not done".into()))
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await?;
    let results = outcomes
        .into_iter()
        .map(|(external_id, outcome)| match outcome {
            Ok((result, performance)) => SyncBatchItemResult {
                external_id,
                result,
                performance: performance.map(|p| PerformanceView::new(p, true)),
                problem: None,
            },
            Err(refusal) => SyncBatchItemResult {
                external_id,
                result: SyncResult::Failed,
                performance: None,
                problem: Some(refusal.problem()),
            },
        })
        .collect();
    Ok(HttpResponse::Ok().json(SyncBatchResults { results }))
}

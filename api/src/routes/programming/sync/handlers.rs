//! Handlers of `/v1/sync/performances`.
//!
//! Every write (an upsert or a delete, alone or as a batch item) is one top-level
//! transaction that reads the caller's external id, checks, writes the performance,
//! its audit event and its change, and commits. Two requests for one new external id
//! race to link it: the loser's link finds the winner's (on PostgreSQL it waits for the
//! winner's commit), rolls back and starts again, and so finds the performance the
//! winner made. A version changed meanwhile is retried the same way.

use std::collections::HashSet;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, IfMatch};
use actix_web::{HttpRequest, HttpResponse, delete, post, put, web};
use chrono::Utc;
use domain::access::{ClientId, Principal, ProgrammingAction, Scope, may_program};
use domain::changes::ChangeAction;
use domain::programming::sync::BATCH_MAX;
use domain::programming::{
    ExternalId, NewPerformance, Performance, PerformanceInput, SyncAction, SyncResult,
};
use domain::{FieldProblem, ValidationError};
use persistence::audit::NewEvent;
use persistence::db::write_transaction;
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
use crate::routes::programming::performances::{performance_role, record, references};
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
        }
    }

    /// The problem this refusal answers; made where the request's context is known.
    fn problem(&self) -> Problem {
        match self {
            Self::Api(error) => error.problem(),
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
        }
    }

    fn into_response(self) -> Result<HttpResponse, ApiError> {
        match self {
            Self::Api(error) => Err(error),
            Self::Race => Err(too_many_races()),
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

/// Checks `input` whole, and that the writer edits one of its sides.
fn checked(
    conn: &mut DbConnection,
    writer: &Writer,
    input: &PerformanceInput,
) -> Result<NewPerformance, SyncError> {
    let references = references(conn, &writer.principal, input)?;
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

/// The performance an external id names, when the writer may change it.
fn linked(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
) -> Result<Option<Performance>, SyncError> {
    let Some(id) = sync::find(conn, writer.client, external)? else {
        return Ok(None);
    };
    let current = match performances::find(conn, id) {
        // Deleted since the link was read (PostgreSQL reads each statement afresh).
        Err(PersistenceError::NotFound) => return Err(SyncError::Race),
        found => found?,
    };
    let role = performance_role(conn, &writer.principal, &current.data)?;
    if !may_program(&writer.principal, ProgrammingAction::Write, role) {
        // Its own external id, of a performance it no longer edits (a venue it no
        // longer acts for): no secret to keep, so a 403.
        return Err(ApiError::Forbidden.into());
    }
    Ok(Some(current))
}

fn upsert_once(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    input: &PerformanceInput,
    condition: Option<&IfMatch>,
) -> Result<(SyncResult, Performance), SyncError> {
    let Some(current) = linked(conn, writer, external)? else {
        // No current version for If-Match to match, not even `*` (RFC 9110 §13.1.1).
        if condition.is_some() {
            return Err(ApiError::PreconditionFailed.into());
        }
        let data = checked(conn, writer, input)?;
        let mut event = writer.events.create.clone();
        event.changed_fields = field_names(data.changed_fields(None));
        let created = persistence::audit::recorded(
            conn,
            |conn| performances::create(conn, data),
            move |created| {
                event.object_id = created.id.to_string();
                event
            },
        )?;
        if !sync::link(conn, writer.client, external, created.id)? {
            return Err(SyncError::Race);
        }
        // Last: the change log's numbering is held until the commit.
        record(conn, &writer.caller, &created, ChangeAction::Created)?;
        return Ok((SyncResult::Created, created));
    };
    let data = checked(conn, writer, input)?;
    check_if_match(condition, current.version)?;
    if data == current.data {
        return Ok((SyncResult::Unchanged, current));
    }
    let mut event = writer.events.update.clone();
    event.object_id = current.id.to_string();
    event.changed_fields = field_names(data.changed_fields(Some(&current.data)));
    let updated = persistence::audit::recorded(
        conn,
        |conn| performances::update(conn, &current, data),
        |_| event,
    )?;
    record(conn, &writer.caller, &updated, ChangeAction::Updated)?;
    Ok((SyncResult::Updated, updated))
}

fn delete_once(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    condition: Option<&IfMatch>,
) -> Result<(), SyncError> {
    let current = linked(conn, writer, external)?.ok_or(ApiError::NotFound)?;
    check_if_match(condition, current.version)?;
    let mut event = writer.events.delete.clone();
    event.object_id = current.id.to_string();
    // The link goes with the performance (ON DELETE CASCADE).
    persistence::audit::recorded(conn, |conn| performances::delete(conn, &current), |_| event)?;
    let gone = Performance {
        version: current.version + 1,
        ..current
    };
    record(conn, &writer.caller, &gone, ChangeAction::Deleted)?;
    Ok(())
}

/// Runs `once` in top-level transactions until it does not lose a race.
fn retried<T>(
    conn: &mut DbConnection,
    mut once: impl FnMut(&mut DbConnection) -> Result<T, SyncError>,
) -> Result<T, SyncError> {
    for _ in 0..ATTEMPTS {
        match write_transaction(conn, &mut once) {
            Err(SyncError::Race) => continue,
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
    retried(conn, |conn| {
        upsert_once(conn, writer, external, input, condition)
    })
}

fn remove(
    conn: &mut DbConnection,
    writer: &Writer,
    external: &ExternalId,
    condition: Option<&IfMatch>,
) -> Result<(), SyncError> {
    retried(conn, |conn| delete_once(conn, writer, external, condition))
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

fn run_item(
    conn: &mut DbConnection,
    writer: &Writer,
    i: usize,
    item: Item,
) -> (Option<String>, Outcome) {
    let outcome = item.work.and_then(|(external, work)| match work {
        Work::Upsert(input) => upsert(conn, writer, &external, &input, None)
            .map(|(result, performance)| (result, Some(performance)))
            .map_err(|refusal| refusal.under(&format!("items[{i}].performance"))),
        Work::Delete => remove(conn, writer, &external, None).map(|()| (SyncResult::Deleted, None)),
    });
    (item.external_id, outcome)
}

/// Create, replace or delete up to 1,000 performances by your external ids.
///
/// Each item is done on its own, in order, as `PUT` or `DELETE` on its external id would
/// do it: the answer (200) holds one result per item, in the order of the items:
/// `created`, `updated`, `unchanged`, `deleted`, or `failed` with the problem the item
/// met (its status and code, and its bad fields named from the batch:
/// `items[3].performance.starts_at`). A refused item does not stop the others, and
/// items done stay done. Only a batch of more than 1,000 items, or naming an external id
/// twice, is refused whole (422). Sending a batch again is safe: what it already did
/// comes back `unchanged`.
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
        Ok::<_, ApiError>(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| run_item(conn, &writer, i, item))
                .collect::<Vec<_>>(),
        )
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

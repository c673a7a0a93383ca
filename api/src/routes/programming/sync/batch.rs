//! `POST /v1/sync/performances/batch`: up to 1,000 upserts and deletes, each done as
//! its single request would do it (see `handlers`).
//!
//! A batch is one transaction (`BEGIN IMMEDIATE` on SQLite), with a savepoint per
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

use std::collections::HashSet;
use std::sync::Arc;

use actix_web::{HttpResponse, post, web};
use domain::programming::sync::BATCH_MAX;
use domain::programming::{ExternalId, Performance, PerformanceInput, SyncAction, SyncResult};
use domain::{FieldProblem, ValidationError};
use persistence::db::write_transaction;
use persistence::reference::ReferenceGeography;
use persistence::{DbConnection, PersistenceError};

use super::dto::*;
use super::handlers::{
    ATTEMPTS, Events, Known, SyncError, Trace, Within, Writer, delete_once, may_sync, retried,
    syncing_client, too_many_races, upsert_once,
};
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{Batch, JsonBody, parse_value};
use crate::routes::programming::PerformanceView;

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

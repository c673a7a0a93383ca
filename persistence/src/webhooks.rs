//! Webhook subscriptions, their deliveries and the dispatcher's position in the change
//! log.
//!
//! # How nothing is lost
//!
//! The dispatcher follows the change log (see [`crate::changes`]: numbers commit in
//! order, so a position is safe to keep) from the position kept in `webhook_dispatch`,
//! and writes a delivery row for each change a subscription is told of, moving the
//! position on in the same transaction: a change is fanned out once or, if the
//! transaction fails, not at all and again later. [`dispatch_position`] locks the
//! position's row (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the writing
//! transaction holds the file), so two dispatchers never fan out the same change.
//!
//! Delivery workers [`claim`] due deliveries with a lease (`claimed_until`): on
//! PostgreSQL `FOR UPDATE SKIP LOCKED`, so that workers of several instances take
//! different rows without waiting; on SQLite the same select and lease under
//! `BEGIN IMMEDIATE`. They send outside any transaction and record the outcome. A
//! worker killed meanwhile leaves its lease to run out, after which the delivery is
//! claimed again: at least once, with the same `message_id` (`webhook-id`).
//!
//! A delivery is not claimable while an older pending one of the same subscription and
//! object (`object_key`, ordered by the change's number) waits: one object's events
//! reach an endpoint in version order.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use domain::access::{AccountId, ClientId};
use domain::{DeliveryId, StructureId, WebhookId};

use crate::clock::{StoredTimestamp, storable_now};
use crate::db::{DbConnection, MultiBackend, in_transaction, write_transaction};
use crate::error::PersistenceError;
use crate::page::{self, Page};
use crate::schema::{changes, webhook_deliveries, webhook_dispatch, webhooks};

/// Whose subscription it is: what it is told is what its owner may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    Account(AccountId),
    Client(ClientId),
}

impl Owner {
    fn parts(&self) -> (&'static str, String) {
        match self {
            Self::Account(id) => ("account", id.to_string()),
            Self::Client(id) => ("client", id.to_string()),
        }
    }
}

/// A subscription as stored; the secrets are sealed (the API opens them).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: WebhookId,
    pub owner: Owner,
    pub url: String,
    pub event_types: Vec<String>,
    /// Empty: every structure (agency staff only).
    pub structure_ids: Vec<StructureId>,
    pub description: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret_sealed: String,
    pub previous_secret_sealed: Option<String>,
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Changes up to this number happened before the subscription.
    pub from_seq: i64,
    pub failed_in_a_row: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct WebhookRow {
    id: String,
    owner_kind: String,
    owner_id: String,
    url: String,
    event_types: String,
    structure_ids: String,
    description: Option<String>,
    enabled: bool,
    disabled_reason: Option<String>,
    secret_sealed: String,
    previous_secret_sealed: Option<String>,
    previous_secret_until: Option<NaiveDateTime>,
    from_seq: i64,
    failed_in_a_row: i64,
    #[diesel(deserialize_as = StoredTimestamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimestamp)]
    updated_at: NaiveDateTime,
    version: i64,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = PersistenceError;

    fn try_from(row: WebhookRow) -> Result<Self, Self::Error> {
        let corrupt = |what: &str| PersistenceError::Corrupt(format!("webhook {}: {what}", row.id));
        let owner = match row.owner_kind.as_str() {
            "account" => Owner::Account(row.owner_id.parse().map_err(|_| corrupt("owner"))?),
            "client" => Owner::Client(row.owner_id.parse().map_err(|_| corrupt("owner"))?),
            _ => return Err(corrupt("owner kind")),
        };
        let structure_ids: Vec<String> = serde_json::from_str(&row.structure_ids)?;
        Ok(Self {
            id: row.id.parse().map_err(|_| corrupt("id"))?,
            owner,
            url: row.url,
            event_types: serde_json::from_str(&row.event_types)?,
            structure_ids: structure_ids
                .iter()
                .map(|s| s.parse())
                .collect::<Result<_, _>>()
                .map_err(|_| corrupt("structure ids"))?,
            description: row.description,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            secret_sealed: row.secret_sealed,
            previous_secret_sealed: row.previous_secret_sealed,
            previous_secret_until: row.previous_secret_until.map(|t| t.and_utc()),
            from_seq: row.from_seq,
            failed_in_a_row: row.failed_in_a_row,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

/// A subscription to make (its id is the associated data of its sealed secret, so the
/// caller makes it).
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub id: WebhookId,
    pub owner: Owner,
    pub url: String,
    pub event_types: Vec<String>,
    pub structure_ids: Vec<StructureId>,
    pub description: Option<String>,
    pub secret_sealed: String,
}

/// What an edit sets (the caller merged the patch into the current values).
#[derive(Debug, Clone)]
pub struct WebhookEdit {
    pub url: String,
    pub event_types: Vec<String>,
    pub structure_ids: Vec<StructureId>,
    pub description: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
}

fn ids_json(ids: &[StructureId]) -> Result<String, PersistenceError> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    Ok(serde_json::to_string(&ids)?)
}

/// Makes a subscription, told of the changes that commit after it.
pub fn create(conn: &mut DbConnection, new: NewWebhook) -> Result<Webhook, PersistenceError> {
    let now = storable_now().naive_utc();
    let (owner_kind, owner_id) = new.owner.parts();
    let from_seq: Option<i64> = changes::table
        .select(diesel::dsl::max(changes::seq))
        .first(conn)?;
    let row = WebhookRow {
        id: new.id.to_string(),
        owner_kind: owner_kind.into(),
        owner_id,
        url: new.url,
        event_types: serde_json::to_string(&new.event_types)?,
        structure_ids: ids_json(&new.structure_ids)?,
        description: new.description,
        enabled: true,
        disabled_reason: None,
        secret_sealed: new.secret_sealed,
        previous_secret_sealed: None,
        previous_secret_until: None,
        from_seq: from_seq.unwrap_or(0),
        failed_in_a_row: 0,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(webhooks::table)
        .values(&row)
        .execute(conn)?;
    row.try_into()
}

pub fn find(conn: &mut DbConnection, id: WebhookId) -> Result<Webhook, PersistenceError> {
    webhooks::table
        .find(id.to_string())
        .select(WebhookRow::as_select())
        .first(conn)?
        .try_into()
}

/// One page of subscriptions, oldest first: an owner's, or every one (`None`, staff).
pub fn list(
    conn: &mut DbConnection,
    owner: Option<Owner>,
    after: Option<WebhookId>,
    limit: i64,
) -> Result<Page<Webhook>, PersistenceError> {
    let mut select = webhooks::table
        .select(WebhookRow::as_select())
        .order(webhooks::id.asc())
        .into_boxed::<MultiBackend>();
    if let Some(owner) = owner {
        let (kind, id) = owner.parts();
        select = select
            .filter(webhooks::owner_kind.eq(kind))
            .filter(webhooks::owner_id.eq(id));
    }
    if let Some(after) = after {
        select = select.filter(webhooks::id.gt(after.to_string()));
    }
    page::fetch(limit, |limit| select.limit(limit).load(conn))?.try_map(Webhook::try_from)
}

/// Every enabled subscription (the dispatcher's).
pub fn enabled(conn: &mut DbConnection) -> Result<Vec<Webhook>, PersistenceError> {
    webhooks::table
        .filter(webhooks::enabled.eq(true))
        .select(WebhookRow::as_select())
        .order(webhooks::id.asc())
        .load(conn)?
        .into_iter()
        .map(Webhook::try_from)
        .collect()
}

/// Writes `edit` over `current`, a version on; a version mismatch when another write
/// came first. Enabling again forgets the failures counted.
pub fn update(
    conn: &mut DbConnection,
    current: &Webhook,
    edit: WebhookEdit,
) -> Result<Webhook, PersistenceError> {
    let now = storable_now().naive_utc();
    let failed_in_a_row = if edit.enabled && !current.enabled {
        0
    } else {
        current.failed_in_a_row
    };
    let changed = diesel::update(
        webhooks::table
            .find(current.id.to_string())
            .filter(webhooks::version.eq(current.version)),
    )
    .set((
        webhooks::url.eq(&edit.url),
        webhooks::event_types.eq(serde_json::to_string(&edit.event_types)?),
        webhooks::structure_ids.eq(ids_json(&edit.structure_ids)?),
        webhooks::description.eq(&edit.description),
        webhooks::enabled.eq(edit.enabled),
        webhooks::disabled_reason.eq(&edit.disabled_reason),
        webhooks::failed_in_a_row.eq(failed_in_a_row),
        webhooks::updated_at.eq(now),
        webhooks::version.eq(current.version + 1),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(PersistenceError::VersionMismatch {
            current: find(conn, current.id)?.version,
        });
    }
    find(conn, current.id)
}

/// A new sealed secret; the one it replaces signs beside it until `until`.
pub fn rotate(
    conn: &mut DbConnection,
    current: &Webhook,
    secret_sealed: String,
    until: DateTime<Utc>,
) -> Result<Webhook, PersistenceError> {
    let now = storable_now().naive_utc();
    diesel::update(webhooks::table.find(current.id.to_string()))
        .set((
            webhooks::secret_sealed.eq(secret_sealed),
            webhooks::previous_secret_sealed.eq(&current.secret_sealed),
            webhooks::previous_secret_until.eq(until.naive_utc()),
            webhooks::updated_at.eq(now),
            webhooks::version.eq(webhooks::version + 1),
        ))
        .execute(conn)?;
    find(conn, current.id)
}

/// Deletes a subscription and its deliveries.
pub fn delete(conn: &mut DbConnection, id: WebhookId) -> Result<(), PersistenceError> {
    write_transaction(conn, |conn| {
        diesel::delete(
            webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id.to_string())),
        )
        .execute(conn)?;
        let deleted = diesel::delete(webhooks::table.find(id.to_string())).execute(conn)?;
        if deleted == 0 {
            return Err(PersistenceError::NotFound);
        }
        Ok(())
    })
}

/// Disables an enabled subscription with `reason`, a version on; false when it was
/// disabled already (or is gone).
pub fn disable(
    conn: &mut DbConnection,
    id: WebhookId,
    reason: &str,
) -> Result<bool, PersistenceError> {
    let now = storable_now().naive_utc();
    let changed = diesel::update(
        webhooks::table
            .find(id.to_string())
            .filter(webhooks::enabled.eq(true)),
    )
    .set((
        webhooks::enabled.eq(false),
        webhooks::disabled_reason.eq(reason),
        webhooks::updated_at.eq(now),
        webhooks::version.eq(webhooks::version + 1),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Counts a delivery given up; returns how many were given up in a row.
pub fn count_failure(conn: &mut DbConnection, id: WebhookId) -> Result<i64, PersistenceError> {
    diesel::update(webhooks::table.find(id.to_string()))
        .set(webhooks::failed_in_a_row.eq(webhooks::failed_in_a_row + 1))
        .execute(conn)?;
    Ok(webhooks::table
        .find(id.to_string())
        .select(webhooks::failed_in_a_row)
        .first(conn)?)
}

/// Forgets the failures counted, after a success.
pub fn count_success(conn: &mut DbConnection, id: WebhookId) -> Result<(), PersistenceError> {
    diesel::update(
        webhooks::table
            .find(id.to_string())
            .filter(webhooks::failed_in_a_row.ne(0)),
    )
    .set(webhooks::failed_in_a_row.eq(0))
    .execute(conn)?;
    Ok(())
}

// ---- deliveries ------------------------------------------------------------------

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self, PersistenceError> {
        match text {
            "pending" => Ok(Self::Pending),
            "delivered" => Ok(Self::Delivered),
            "failed" => Ok(Self::Failed),
            other => Err(PersistenceError::Corrupt(format!(
                "delivery status {other}"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    /// `webhook-id`: the same for every attempt and replay.
    pub message_id: String,
    pub event_type: String,
    pub object_key: String,
    pub seq: i64,
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<i64>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct DeliveryRow {
    id: String,
    webhook_id: String,
    message_id: String,
    event_type: String,
    object_key: String,
    seq: i64,
    payload: String,
    status: String,
    attempts: i64,
    #[diesel(deserialize_as = StoredTimestamp)]
    next_attempt_at: NaiveDateTime,
    claimed_until: Option<NaiveDateTime>,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    last_latency_ms: Option<i64>,
    last_attempt_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = StoredTimestamp)]
    created_at: NaiveDateTime,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = PersistenceError;

    fn try_from(row: DeliveryRow) -> Result<Self, Self::Error> {
        let corrupt =
            |what: &str| PersistenceError::Corrupt(format!("delivery {}: {what}", row.id));
        Ok(Self {
            id: row.id.parse().map_err(|_| corrupt("id"))?,
            webhook_id: row.webhook_id.parse().map_err(|_| corrupt("webhook id"))?,
            message_id: row.message_id,
            event_type: row.event_type,
            object_key: row.object_key,
            seq: row.seq,
            payload: row.payload,
            status: DeliveryStatus::parse(&row.status)?,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.and_utc(),
            last_status_code: row.last_status_code,
            last_error: row.last_error,
            last_latency_ms: row.last_latency_ms,
            last_attempt_at: row.last_attempt_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
        })
    }
}

/// An event to deliver to one subscription.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub webhook_id: WebhookId,
    pub event_type: String,
    /// `{object_type}:{object_id}` for a change; `None` for an event that waits for no
    /// other (a ping): the delivery's own id.
    pub object_key: Option<String>,
    /// The change's number (0 for a ping).
    pub seq: i64,
    pub payload: String,
}

fn new_row(new: NewDelivery, message_id: Option<String>, now: NaiveDateTime) -> DeliveryRow {
    let id = DeliveryId::generate().to_string();
    DeliveryRow {
        message_id: message_id.unwrap_or_else(|| format!("msg_{}", id.replace('-', ""))),
        object_key: new.object_key.unwrap_or_else(|| id.clone()),
        id,
        webhook_id: new.webhook_id.to_string(),
        event_type: new.event_type,
        seq: new.seq,
        payload: new.payload,
        status: DeliveryStatus::Pending.as_str().into(),
        attempts: 0,
        next_attempt_at: now,
        claimed_until: None,
        last_status_code: None,
        last_error: None,
        last_latency_ms: None,
        last_attempt_at: None,
        created_at: now,
    }
}

/// Queues deliveries, due now.
pub fn enqueue(
    conn: &mut DbConnection,
    new: Vec<NewDelivery>,
) -> Result<Vec<Delivery>, PersistenceError> {
    let now = storable_now().naive_utc();
    let mut made = Vec::with_capacity(new.len());
    for delivery in new {
        let row = new_row(delivery, None, now);
        diesel::insert_into(webhook_deliveries::table)
            .values(&row)
            .execute(conn)?;
        made.push(Delivery::try_from(row)?);
    }
    Ok(made)
}

/// Queues `delivery` again as a new delivery, due now, with its `message_id` (so a
/// receiver that has it already may drop it), waiting for no other.
pub fn replay(conn: &mut DbConnection, delivery: &Delivery) -> Result<Delivery, PersistenceError> {
    let now = storable_now().naive_utc();
    let row = new_row(
        NewDelivery {
            webhook_id: delivery.webhook_id,
            event_type: delivery.event_type.clone(),
            object_key: None,
            seq: delivery.seq,
            payload: delivery.payload.clone(),
        },
        Some(delivery.message_id.clone()),
        now,
    );
    diesel::insert_into(webhook_deliveries::table)
        .values(&row)
        .execute(conn)?;
    row.try_into()
}

/// One page of a subscription's deliveries, newest first.
pub fn deliveries(
    conn: &mut DbConnection,
    webhook: WebhookId,
    before: Option<DeliveryId>,
    limit: i64,
) -> Result<Page<Delivery>, PersistenceError> {
    let mut select = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook.to_string()))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.desc())
        .into_boxed::<MultiBackend>();
    if let Some(before) = before {
        select = select.filter(webhook_deliveries::id.lt(before.to_string()));
    }
    page::fetch(limit, |limit| select.limit(limit).load(conn))?.try_map(Delivery::try_from)
}

pub fn find_delivery(
    conn: &mut DbConnection,
    webhook: WebhookId,
    id: DeliveryId,
) -> Result<Delivery, PersistenceError> {
    webhook_deliveries::table
        .find(id.to_string())
        .filter(webhook_deliveries::webhook_id.eq(webhook.to_string()))
        .select(DeliveryRow::as_select())
        .first(conn)?
        .try_into()
}

/// The number of the last change fanned out, its row locked until the end of the
/// caller's write transaction (see the module's documentation).
pub fn dispatch_position(conn: &mut DbConnection) -> Result<i64, PersistenceError> {
    if !in_transaction(conn)? {
        return Err(PersistenceError::Corrupt(
            "the dispatch position is read inside a write transaction".into(),
        ));
    }
    let position = match conn {
        DbConnection::Postgres(c) => webhook_dispatch::table
            .find("changes")
            .select(webhook_dispatch::after_seq)
            .for_update()
            .first(c)?,
        DbConnection::Sqlite(c) => webhook_dispatch::table
            .find("changes")
            .select(webhook_dispatch::after_seq)
            .first(c)?,
    };
    Ok(position)
}

pub fn set_dispatch_position(conn: &mut DbConnection, after: i64) -> Result<(), PersistenceError> {
    diesel::update(webhook_dispatch::table.find("changes"))
        .set(webhook_dispatch::after_seq.eq(after))
        .execute(conn)?;
    Ok(())
}

/// Takes up to `limit` due deliveries of enabled subscriptions for `lease`, each the
/// oldest pending of its subscription and object (see the module's documentation).
pub fn claim(
    conn: &mut DbConnection,
    lease: chrono::Duration,
    limit: i64,
) -> Result<Vec<Delivery>, PersistenceError> {
    #[derive(QueryableByName)]
    struct Claimed {
        #[diesel(sql_type = Text)]
        id: String,
    }
    const DUE: &str = "FROM webhook_deliveries d \
        WHERE d.status = 'pending' AND d.next_attempt_at <= {now} \
        AND (d.claimed_until IS NULL OR d.claimed_until < {now}) \
        AND d.webhook_id IN (SELECT w.id FROM webhooks w WHERE w.enabled) \
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o \
            WHERE o.webhook_id = d.webhook_id AND o.object_key = d.object_key \
            AND o.status = 'pending' AND o.seq < d.seq) \
        ORDER BY d.next_attempt_at, d.seq";
    let now = storable_now().naive_utc();
    write_transaction(conn, |conn| {
        let ids: Vec<Claimed> = match conn {
            DbConnection::Postgres(c) => diesel::sql_query(format!(
                "SELECT d.id {} LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
                DUE.replace("{now}", "$1")
            ))
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load(c)?,
            DbConnection::Sqlite(c) => {
                diesel::sql_query(format!("SELECT d.id {} LIMIT ?", DUE.replace("{now}", "?")))
                    .bind::<Timestamp, _>(now)
                    .bind::<Timestamp, _>(now)
                    .bind::<BigInt, _>(limit)
                    .load(c)?
            }
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.into_iter().map(|c| c.id).collect();
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
            .set(webhook_deliveries::claimed_until.eq(now + lease))
            .execute(conn)?;
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq_any(&ids))
            .select(DeliveryRow::as_select())
            .order((
                webhook_deliveries::next_attempt_at.asc(),
                webhook_deliveries::seq.asc(),
            ))
            .load(conn)?
            .into_iter()
            .map(Delivery::try_from)
            .collect()
    })
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub latency_ms: i64,
    /// `Delivered`, `Failed` (given up), or `Pending` with the next attempt's time.
    pub status: DeliveryStatus,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Records an attempt at a pending delivery and frees its lease; false when it was no
/// longer pending (another worker recorded it first after this one's lease ran out).
pub fn record_attempt(
    conn: &mut DbConnection,
    id: DeliveryId,
    attempt: &Attempt,
) -> Result<bool, PersistenceError> {
    let now = storable_now().naive_utc();
    let next = attempt.next_attempt_at.map_or(now, |t| t.naive_utc());
    let changed = diesel::update(
        webhook_deliveries::table
            .find(id.to_string())
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str())),
    )
    .set((
        webhook_deliveries::status.eq(attempt.status.as_str()),
        webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        webhook_deliveries::next_attempt_at.eq(next),
        webhook_deliveries::claimed_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::last_status_code.eq(attempt.status_code),
        webhook_deliveries::last_error.eq(&attempt.error),
        webhook_deliveries::last_latency_ms.eq(attempt.latency_ms),
        webhook_deliveries::last_attempt_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

//! Webhook delivery: the dispatcher that fans changes out to subscriptions, and the
//! workers that send them (see `persistence::webhooks` for how nothing is lost and how
//! several instances share the work). Both run in `oes serve` (unless
//! `OES_WEBHOOK_WORKERS=0`) and in `oes worker`.
//!
//! What a subscription is told of a change is what the change feed tells its owner
//! (`crate::changes::reader_of`, `domain::changes::disclose`, `crate::changes::shown`),
//! read with the owner's rights as they stand at dispatch: staff see everything, an
//! account what its memberships let it read, an API client what it acts for.

pub mod sealing;
pub mod sender;
pub mod signing;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use domain::access::{ActorKind, Principal, StructureAction, may};
use domain::changes::{ChangeAction, ChangedObject, Disclosure, disclose};
use domain::grants::DossierStatus;
use domain::webhooks::{self as rules, Disabling, EventFilter};
use persistence::changes::{self, Change, Reader};
use persistence::db::write_transaction;
use persistence::identity::{accounts, api_clients};
use persistence::webhooks::{self, Attempt, Delivery, DeliveryStatus, NewDelivery, Owner, Webhook};
use persistence::{DbConnection, PersistenceError, Pool};
use rand::Rng;
use secrecy::SecretString;
use serde_json::json;

use crate::changes::{reader_of, shown};
use crate::config::Settings;
use crate::http::error::ApiError;
use crate::mail::Mailer;
use crate::routes::shared::role_in;
pub use sealing::Sealer;
use sender::{Sender, Sent};

/// Changes fanned out in one transaction at most.
const DISPATCH_BATCH: i64 = 500;
/// Deliveries one worker claims at once.
const CLAIM_BATCH: i64 = 8;

/// How webhooks are delivered (from the `OES_WEBHOOK_*` settings).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `http://` URLs and reserved addresses allowed (development only).
    pub allow_insecure: bool,
    /// Delivery workers (concurrent sends) per process.
    pub workers: usize,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// The first retry's delay (see `domain::webhooks::retry_delay`).
    pub retry_base: Duration,
    /// How long a claimed delivery is a worker's before another may take it.
    pub lease: Duration,
    /// Pause between polls when there is nothing to do.
    pub poll: Duration,
}

impl WebhookSettings {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            allow_insecure: settings.webhook_allow_insecure,
            workers: settings.webhook_workers,
            connect_timeout: Duration::from_secs(settings.webhook_connect_timeout_secs),
            timeout: Duration::from_secs(settings.webhook_timeout_secs),
            retry_base: Duration::from_millis(settings.webhook_retry_base_ms),
            lease: Duration::from_secs(settings.webhook_lease_secs),
            poll: Duration::from_millis(settings.webhook_poll_ms),
        }
    }
}

/// Why the webhook machinery could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("database: {0}")]
    Database(#[from] PersistenceError),
    #[error("{0}")]
    Api(String),
    #[error("{0}")]
    Setup(String),
}

impl From<ApiError> for WebhookError {
    fn from(error: ApiError) -> Self {
        Self::Api(error.to_string())
    }
}

/// Starts the dispatcher and `settings.workers` delivery workers on a thread of their
/// own (with its own runtime), for `oes serve`; they run as long as the process.
pub fn spawn(
    pool: Pool,
    sealer: Sealer,
    mailer: Mailer,
    settings: WebhookSettings,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("webhooks".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    tracing::error!("webhooks: no runtime: {e}");
                    return;
                }
            };
            if let Err(e) = runtime.block_on(run(pool, sealer, mailer, settings)) {
                tracing::error!("webhooks stopped: {e}");
            }
        })
        .map(|_| ())
}

/// Runs the dispatcher and the delivery workers until the process ends (`oes worker`).
pub async fn run(
    pool: Pool,
    sealer: Sealer,
    mailer: Mailer,
    settings: WebhookSettings,
) -> Result<(), WebhookError> {
    if settings.lease <= settings.timeout {
        tracing::warn!(
            lease = ?settings.lease,
            timeout = ?settings.timeout,
            "OES_WEBHOOK_LEASE_SECS is not above OES_WEBHOOK_TIMEOUT_SECS: a slow endpoint may get an event twice, out of order"
        );
    }
    let engine = Arc::new(Engine::new(pool, sealer, mailer, settings)?);
    let mut tasks = tokio::task::JoinSet::new();
    {
        let engine = engine.clone();
        tasks.spawn(async move {
            loop {
                let idle = match engine.dispatch_once().await {
                    Ok(0) => true,
                    Ok(_) => {
                        // New deliveries: workers waiting out their poll take them now.
                        engine.dispatched.notify_waiters();
                        false
                    }
                    Err(e) => {
                        tracing::warn!("webhook dispatch: {e}");
                        true
                    }
                };
                if idle {
                    tokio::time::sleep(engine.settings.poll).await;
                }
            }
        });
    }
    for _ in 0..engine.settings.workers.max(1) {
        let engine = engine.clone();
        tasks.spawn(async move {
            loop {
                let idle = match engine.deliver_once().await {
                    Ok(count) => count == 0,
                    Err(e) => {
                        tracing::warn!("webhook delivery: {e}");
                        true
                    }
                };
                if idle {
                    // Retries fall due with time: the poll still bounds the wait.
                    tokio::select! {
                        () = tokio::time::sleep(engine.settings.poll) => {}
                        () = engine.dispatched.notified() => {}
                    }
                }
            }
        });
    }
    // The tasks loop for ever: one that ends has panicked.
    let ended = tasks.join_next().await;
    Err(WebhookError::Setup(format!(
        "a webhook task ended: {ended:?}"
    )))
}

/// What the dispatcher and the workers share.
pub struct Engine {
    pub pool: Pool,
    pub sealer: Sealer,
    /// Tells owners of the subscriptions the engine disables.
    mailer: Mailer,
    sender: Sender,
    /// Woken when the dispatcher has fanned changes out.
    dispatched: tokio::sync::Notify,
    pub settings: WebhookSettings,
}

impl Engine {
    pub fn new(
        pool: Pool,
        sealer: Sealer,
        mailer: Mailer,
        settings: WebhookSettings,
    ) -> Result<Self, WebhookError> {
        let sender = Sender::new(
            settings.connect_timeout,
            settings.timeout,
            settings.allow_insecure,
        )
        .map_err(WebhookError::Setup)?;
        Ok(Self {
            pool,
            sealer,
            mailer,
            sender,
            dispatched: tokio::sync::Notify::new(),
            settings,
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, WebhookError> + Send + 'static,
    ) -> Result<T, WebhookError> {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(PersistenceError::from)?;
            work(&mut conn)
        })
        .await
        .map_err(|e| WebhookError::Setup(format!("blocking task: {e}")))?
    }

    /// Fans the next changes out; returns how many changes it went past.
    pub async fn dispatch_once(&self) -> Result<i64, WebhookError> {
        self.blocking(dispatch).await
    }

    /// Claims due deliveries and sends them; returns how many it claimed.
    pub async fn deliver_once(&self) -> Result<usize, WebhookError> {
        let lease = chrono::Duration::from_std(self.settings.lease)
            .map_err(|e| WebhookError::Setup(e.to_string()))?;
        let claimed = self
            .blocking(move |conn| Ok(webhooks::claim(conn, lease, CLAIM_BATCH)?))
            .await?;
        let count = claimed.len();
        // A claim holds at most one delivery per subscription and object (the oldest
        // pending), so sending them side by side keeps every object's order.
        futures_util::future::join_all(claimed.into_iter().map(|d| self.deliver(d)))
            .await
            .into_iter()
            .collect::<Result<Vec<()>, _>>()?;
        Ok(count)
    }

    /// Claims due deliveries and forgets them, as a worker killed right after its claim
    /// would (tests of leases).
    pub async fn claim_and_die(&self, lease: Duration) -> Result<usize, WebhookError> {
        let lease =
            chrono::Duration::from_std(lease).map_err(|e| WebhookError::Setup(e.to_string()))?;
        Ok(self
            .blocking(move |conn| Ok(webhooks::claim(conn, lease, CLAIM_BATCH)?))
            .await?
            .len())
    }

    async fn deliver(&self, delivery: Delivery) -> Result<(), WebhookError> {
        let webhook_id = delivery.webhook_id;
        let webhook = match self
            .blocking(move |conn| match webhooks::find(conn, webhook_id) {
                Ok(webhook) => Ok(Some(webhook)),
                Err(PersistenceError::NotFound) => Ok(None),
                Err(other) => Err(other.into()),
            })
            .await?
        {
            Some(webhook) => webhook,
            // Deleted meanwhile: its deliveries went with it.
            None => return Ok(()),
        };
        let secrets = signing_secrets(&self.sealer, &webhook).map_err(WebhookError::Setup)?;
        let timestamp = Utc::now().timestamp();
        let signature = signing::signature(
            &secrets,
            &delivery.message_id,
            timestamp,
            delivery.payload.as_bytes(),
        )
        .map_err(WebhookError::Setup)?;
        let headers = vec![
            ("webhook-id", delivery.message_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        let (sent, latency) = self
            .sender
            .send(&webhook.url, headers, delivery.payload.clone())
            .await;
        let jitter: f64 = rand::rng().random();
        let attempt = judge(&delivery, &sent, latency, self.settings.retry_base, jitter);
        let gone = matches!(sent, Sent::Answered { status: 410 });
        tracing::debug!(delivery = %delivery.id, ?sent, "webhook attempt");
        let delivery_id = delivery.id;
        let mailer = self.mailer.clone();
        self.blocking(move |conn| {
            write_transaction::<_, WebhookError>(conn, |conn| {
                if !webhooks::record_attempt(conn, delivery_id, &attempt)? {
                    return Ok(());
                }
                match attempt.status {
                    DeliveryStatus::Delivered => webhooks::count_success(conn, webhook_id)?,
                    DeliveryStatus::Failed if gone => {
                        disable(conn, &mailer, &webhook, Disabling::Gone)?;
                    }
                    DeliveryStatus::Failed => {
                        if webhooks::count_failure(conn, webhook_id)?
                            >= rules::FAILED_IN_A_ROW_TO_DISABLE
                        {
                            disable(conn, &mailer, &webhook, Disabling::Failing)?;
                        }
                    }
                    DeliveryStatus::Pending => {}
                }
                Ok(())
            })
        })
        .await
    }
}

/// The secrets a delivery is signed with now: the current one, and the one before it
/// while its overlap lasts.
pub fn signing_secrets(sealer: &Sealer, webhook: &Webhook) -> Result<Vec<SecretString>, String> {
    let mut secrets = vec![sealer.open_secret(webhook.id, &webhook.secret_sealed)?];
    if let (Some(previous), Some(until)) = (
        &webhook.previous_secret_sealed,
        webhook.previous_secret_until,
    ) && until > Utc::now()
    {
        secrets.push(sealer.open_secret(webhook.id, previous)?);
    }
    Ok(secrets)
}

/// What an attempt comes to: delivered on a 2xx; given up on a 410, a refused target or
/// the last attempt; else tried again after the backoff.
fn judge(
    delivery: &Delivery,
    sent: &Sent,
    latency: Duration,
    base: Duration,
    jitter: f64,
) -> Attempt {
    let attempts = delivery.attempts + 1;
    let latency_ms = i64::try_from(latency.as_millis()).unwrap_or(i64::MAX);
    let (status_code, error, permanent) = match sent {
        Sent::Answered { status } if (200..300).contains(status) => {
            return Attempt {
                status_code: Some(i64::from(*status)),
                error: None,
                latency_ms,
                status: DeliveryStatus::Delivered,
                next_attempt_at: None,
            };
        }
        Sent::Answered { status } => (
            Some(i64::from(*status)),
            Some(format!("answered {status}")),
            *status == 410,
        ),
        Sent::Failed { error, permanent } => (None, Some(error.clone()), *permanent),
    };
    if permanent || attempts >= rules::MAX_ATTEMPTS {
        return Attempt {
            status_code,
            error,
            latency_ms,
            status: DeliveryStatus::Failed,
            next_attempt_at: None,
        };
    }
    let delay = rules::retry_delay(attempts, base, jitter);
    Attempt {
        status_code,
        error,
        latency_ms,
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(
            Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(8)),
        ),
    }
}

/// Disables a subscription, records why in the audit log (the server acting) and mails
/// its owner, in one transaction; its owner also sees it on the subscription
/// (`enabled`, `disabled_reason`). Nothing when it was disabled already.
fn disable(
    conn: &mut DbConnection,
    mailer: &Mailer,
    webhook: &Webhook,
    why: Disabling,
) -> Result<(), WebhookError> {
    if webhooks::disable(conn, webhook.id, why.reason())? {
        tracing::warn!(webhook = %webhook.id, reason = why.reason(), "webhook disabled");
        persistence::audit::record(
            conn,
            persistence::audit::NewEvent {
                actor_kind: ActorKind::System.as_str(),
                actor_id: None,
                action: "webhook.disable",
                object_type: "webhook",
                object_id: webhook.id.to_string(),
                request_id: String::new(),
                changed_fields: vec!["enabled".into(), "disabled_reason".into()],
            },
        )?;
        mailer.webhook_disabled(conn, webhook, why)?;
    }
    Ok(())
}

/// The reader a subscription reads the log as: its owner's rights as they stand now,
/// narrowed to the structures it concerns (`None`: its owner may no longer act, and it
/// is told nothing).
fn reader_for(conn: &mut DbConnection, webhook: &Webhook) -> Result<Option<Reader>, WebhookError> {
    let principal = match webhook.owner {
        Owner::Account(id) => match accounts::standing(conn, id) {
            Ok(standing) if standing.status == domain::access::AccountStatus::Active => {
                Principal::Account {
                    id,
                    agency_role: standing.agency_role,
                }
            }
            Ok(_) | Err(PersistenceError::NotFound) => return Ok(None),
            Err(other) => return Err(other.into()),
        },
        Owner::Client(id) => match api_clients::find(conn, id) {
            Ok((client, _)) => match client.standing() {
                domain::access::ClientStanding::Active { acts_for } => Principal::Client {
                    id,
                    structures: acts_for,
                    scopes: client.scopes,
                },
                _ => return Ok(None),
            },
            Err(PersistenceError::NotFound) => return Ok(None),
            Err(other) => return Err(other.into()),
        },
    };
    if webhook.structure_ids.is_empty() {
        // Every structure: staff only (checked when made); the feed's own reader.
        return Ok(principal.is_staff().then(|| reader_of(&principal)));
    }
    let mut readable = Vec::new();
    for &structure in &webhook.structure_ids {
        if may(
            &principal,
            StructureAction::ReadPrivate,
            role_in(conn, &principal, structure)?,
        ) {
            readable.push(structure);
        }
    }
    Ok(Some(Reader::RelatedTo(readable)))
}

/// One dispatch: the changes after the dispatch position (up to [`DISPATCH_BATCH`]) fanned
/// out to the enabled subscriptions as deliveries, and the position moved past them, in
/// one transaction. Returns how many changes it went past.
pub fn dispatch(conn: &mut DbConnection) -> Result<i64, WebhookError> {
    write_transaction::<_, WebhookError>(conn, |conn| {
        let after = webhooks::dispatch_position(conn)?;
        let highest = changes::highest(conn)?;
        if highest <= after {
            return Ok(0);
        }
        let upto = highest.min(after + DISPATCH_BATCH);
        let mut statuses: HashMap<i64, (Option<DossierStatus>, Option<DossierStatus>)> =
            HashMap::new();
        let mut new = Vec::new();
        // Only subscriptions the stretch can reach: without any (a server nobody
        // subscribes to), the position moves on without reading the log.
        let listening: Vec<Webhook> = webhooks::enabled(conn)?
            .into_iter()
            .filter(|webhook| webhook.from_seq < upto)
            .collect();
        if listening.is_empty() {
            webhooks::set_dispatch_position(conn, upto)?;
            return Ok(upto - after);
        }
        let stretch = changes::stretch(conn, after, upto)?;
        let mut readers: HashMap<(Owner, Vec<domain::StructureId>), Option<Reader>> =
            HashMap::new();
        for webhook in listening {
            // Subscriptions of one owner to the same structures read alike: their
            // owner's rights are read once.
            let key = (webhook.owner, webhook.structure_ids.clone());
            let reader = match readers.get(&key) {
                Some(reader) => reader.clone(),
                None => {
                    let reader = reader_for(conn, &webhook)?;
                    readers.insert(key, reader.clone());
                    reader
                }
            };
            let Some(reader) = reader else {
                continue;
            };
            let filter = EventFilter::stored(webhook.event_types.clone());
            let narrowed = !webhook.structure_ids.is_empty();
            for change in stretch.told_to(after.max(webhook.from_seq), &reader)? {
                // A subscription for some structures hears of what concerns them (now,
                // or before: then it learns the object left them).
                if narrowed && !(change.seen.related_now || change.seen.related_before) {
                    continue;
                }
                let (action, object) = match disclose(change.seen) {
                    Disclosure::Omitted => continue,
                    Disclosure::Tombstone => (ChangeAction::Deleted, None),
                    Disclosure::Object { private } => {
                        let snapshot = change.snapshot.as_deref().ok_or_else(|| {
                            WebhookError::Api(format!("change {} has no snapshot", change.seq))
                        })?;
                        (
                            change.seen.action,
                            Some(shown(change.object_type, snapshot, private)?),
                        )
                    }
                };
                let (status, previous) = match statuses.get(&change.seq) {
                    Some(known) => *known,
                    None => {
                        let known = dossier_statuses(conn, &change)?;
                        statuses.insert(change.seq, known);
                        known
                    }
                };
                let event =
                    rules::event_name(change.object_type, action, change.cause, status, previous);
                if !filter.matches(&event) {
                    continue;
                }
                new.push(NewDelivery {
                    webhook_id: webhook.id,
                    object_key: Some(format!("{}:{}", change.object_type, change.object_id)),
                    seq: change.seq,
                    payload: payload(&event, &change, action, object)?,
                    event_type: event,
                });
            }
        }
        webhooks::enqueue(conn, new)?;
        webhooks::set_dispatch_position(conn, upto)?;
        Ok(upto - after)
    })
}

/// A dossier's status at this change and at the change before (for the event's name).
fn dossier_statuses(
    conn: &mut DbConnection,
    change: &Change,
) -> Result<(Option<DossierStatus>, Option<DossierStatus>), WebhookError> {
    if change.object_type != ChangedObject::Dossier || change.seen.action != ChangeAction::Updated {
        return Ok((None, None));
    }
    let status_of = |snapshot: Option<&str>| {
        snapshot
            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(str::to_owned))
            .and_then(|s| DossierStatus::parse(&s).ok())
    };
    let previous =
        changes::previous_snapshot(conn, change.object_type, &change.object_id, change.seq)?;
    Ok((
        status_of(change.snapshot.as_deref()),
        status_of(previous.as_deref()),
    ))
}

/// The body of an event, as Standard Webhooks suggests: `type`, `timestamp` and `data`.
fn payload(
    event: &str,
    change: &Change,
    action: ChangeAction,
    object: Option<serde_json::Value>,
) -> Result<String, WebhookError> {
    serde_json::to_string(&json!({
        "type": event,
        "timestamp": change.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": {
            "seq": change.seq,
            "object_type": change.object_type,
            "object_id": change.object_id,
            "action": action,
            "version": change.version,
            "object": object,
        }
    }))
    .map_err(|e| WebhookError::Api(format!("event body: {e}")))
}

/// The body of a ping.
pub fn ping_payload(webhook: domain::WebhookId) -> String {
    json!({
        "type": rules::PING,
        "timestamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": { "webhook_id": webhook },
    })
    .to_string()
}

//! The handlers of `/v1/webhooks`.

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::Utc;
use domain::access::WebhookAction;
use domain::webhooks::{self as rules, EventFilter, WebhookUrl};
use domain::{DeliveryId, FieldProblem, StructureId, ValidationError, WebhookId};
use persistence::DbConnection;
use persistence::db::write_transaction;
use persistence::webhooks::{self, NewDelivery, NewWebhook, WebhookEdit};

use super::*;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::caching::item_response;
use crate::http::conditional::{self, check_if_match, if_match};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId, QueryParams};
use crate::http::idempotency::{self, Reply};
use crate::http::pagination;
use crate::webhooks::{ping_payload, signing};

/// What a body asks for, checked: every bad field reported at once.
struct Checked {
    url: WebhookUrl,
    filter: EventFilter,
    structures: Vec<StructureId>,
    description: Option<String>,
}

fn check(
    url: &str,
    event_types: &[String],
    structure_ids: &[uuid::Uuid],
    description: Option<&str>,
    allow_insecure: bool,
) -> Result<Checked, ApiError> {
    let mut errors = ValidationError::default();
    let url = errors.check("url", WebhookUrl::parse(url, allow_insecure));
    let filter = match EventFilter::parse(event_types) {
        Ok(filter) => Some(filter),
        Err(invalid) => {
            errors.errors.extend(invalid.errors);
            None
        }
    };
    if structure_ids.len() > rules::STRUCTURES_MAX {
        errors.push(
            "structure_ids",
            FieldProblem::TooMany {
                max: rules::STRUCTURES_MAX,
            },
        );
    }
    if structure_ids.iter().collect::<HashSet<_>>().len() != structure_ids.len() {
        errors.push("structure_ids", FieldProblem::Duplicate);
    }
    let description = match description {
        Some(text) => errors
            .check(
                "description",
                domain::text::single_line(text, rules::DESCRIPTION_MAX),
            )
            .map(Some),
        None => Some(None),
    };
    errors.into_result()?;
    match (url, filter, description) {
        (Some(url), Some(filter), Some(description)) => Ok(Checked {
            url,
            filter,
            structures: structure_ids.iter().map(|&id| id.into()).collect(),
            description,
        }),
        _ => Err(ApiError::Internal("a checked webhook lost a field".into())),
    }
}

/// Subscribe to events.
///
/// Events about the structures named (those you own; those an API client acts for;
/// any, or all with an empty list, for agency staff) that commit from now on are POSTed
/// to `url`, signed per the Standard Webhooks specification (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`), each with what you may read of the object
/// (`GET` on it would show you the same: a performance's fee only to its company, its
/// venue and staff). The answer holds the signing secret, shown this once; a replay
/// (same `Idempotency-Key` and body) returns the subscription without it.
///
/// Deliveries are retried with exponential backoff over about a day (ten attempts); a
/// `410 Gone` answer disables the subscription, and so do five deliveries in a row given
/// up. Redirects are not followed. Each object's events arrive in version order.
#[utoipa::path(
    tag = "webhooks",
    security(("oauth2" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Created; the secret is in this answer only (not in a replay).", body = WebhookWithSecret,
            headers(("ETag" = String, description = "Version 1."))),
        responses::Forbidden,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    caller: Caller,
    pool: web::Data<Db>,
    context: web::Data<Context>,
    req: HttpRequest,
    body: JsonBody<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        Err(problem) => {
            caller.resolve(&pool).await?;
            return Err(problem);
        }
    };
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let checked = check(
            &value.url,
            &value.event_types,
            &value.structure_ids,
            value.description.as_deref(),
            context.allow_insecure,
        )?;
        let id = WebhookId::generate();
        let secret = signing::new_secret();
        let sealed = context
            .sealer
            .seal(id, &secret)
            .map_err(ApiError::Internal)?;
        let event = audit::event(
            &caller,
            "webhook.create",
            "webhook",
            id,
            &[
                "url",
                "event_types",
                "structure_ids",
                "description",
                "secret",
            ],
        );
        Ok(move |conn: &mut DbConnection| {
            write_transaction::<_, ApiError>(conn, |conn| {
                let principal = caller.principal(conn)?;
                let owner = owner_of(&principal)?;
                check_structures(conn, &principal, &checked.structures)?;
                let webhook = persistence::audit::recorded(
                    conn,
                    |conn| {
                        webhooks::create(
                            conn,
                            NewWebhook {
                                id,
                                owner,
                                url: checked.url.as_ref().to_owned(),
                                event_types: checked.filter.patterns().to_vec(),
                                structure_ids: checked.structures,
                                description: checked.description,
                                secret_sealed: sealed,
                            },
                        )
                    },
                    |_| event,
                )?;
                let version = webhook.version;
                let view = WebhookView::from(webhook);
                // The secret is shown once and never kept in clear: a replay gets the
                // subscription without it.
                Reply::json(
                    StatusCode::CREATED,
                    &WebhookWithSecret {
                        webhook: view.clone(),
                        secret: Some(secret),
                    },
                )?
                .header(actix_web::http::header::ETAG, conditional::etag(version))
                .header(
                    actix_web::http::header::LOCATION,
                    format!("/v1/webhooks/{}", view.id),
                )
                .replayed_as(&WebhookWithSecret {
                    webhook: view,
                    secret: None,
                })
            })
        })
    })
    .await
}

fn cursor_of(cursor: Option<&str>) -> Result<Option<uuid::Uuid>, ApiError> {
    cursor
        .map(|c| pagination::decode::<ListCursor>(c).map(|c| c.id))
        .transpose()
}

/// List your subscriptions (every one, for agency staff).
#[utoipa::path(
    tag = "webhooks",
    security(("oauth2" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "Oldest first.", body = WebhookPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        responses::Forbidden,
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let limit = pagination::limit(params.limit)?;
    let after = cursor_of(params.cursor.as_deref())?.map(WebhookId::from);
    let page = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let owner = if principal.is_staff() {
            None
        } else {
            Some(owner_of(&principal)?)
        };
        Ok::<_, ApiError>(webhooks::list(conn, owner, after, limit)?)
    })
    .await?;
    let next_cursor = page
        .more
        .then(|| {
            page.items
                .last()
                .map(|w| pagination::encode(&ListCursor { id: w.id.as_uuid() }))
        })
        .flatten();
    Ok(WebhookPage {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor,
    }
    .respond(&req))
}

/// Get a subscription.
#[utoipa::path(
    tag = "webhooks",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Subscription id.")),
    responses(
        (status = 200, description = "The subscription.", body = WebhookView,
            headers(("ETag" = String, description = "Its version."))),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let webhook = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        authorized(conn, &principal, id, WebhookAction::Read)
    })
    .await?;
    Ok(item_response(
        HttpResponse::Ok(),
        webhook.version,
        &WebhookView::from(webhook),
    ))
}

/// Update a subscription.
///
/// A JSON merge patch. `enabled: false` pauses deliveries (changes made meanwhile are
/// not queued for it), `true` resumes them (also after the server disabled the
/// subscription). Send `If-Match` with the `ETag` you read
/// to refuse lost updates (412).
#[utoipa::path(
    tag = "webhooks",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Subscription id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the subscription changed since."),
    ),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The updated subscription.", body = WebhookView,
            headers(("ETag" = String, description = "New version."))),
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    caller: Caller,
    pool: web::Data<Db>,
    context: web::Data<Context>,
    req: HttpRequest,
    PathId(id): PathId<WebhookId>,
    body: JsonBody<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let patch = match body.open() {
        Ok(opened) => opened.value,
        // What is wrong with the body is told only to those who may see it.
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                authorized(conn, &principal, id, WebhookAction::Manage).map(|_| ())
            })
            .await?;
            return Err(problem);
        }
    };
    let allow_insecure = context.allow_insecure;
    let updated = conditional::merging(condition.as_ref(), |locking| {
        let (precondition, patch) = (condition.clone(), patch.clone());
        let mut event = audit::event(&caller, "webhook.update", "webhook", id, &[]);
        db::run(&pool, move |conn| {
            write_transaction::<_, ApiError>(conn, |conn| {
                let principal = caller.principal(conn)?;
                locking.apply(conn, persistence::db::Versioned::Webhooks, id)?;
                let current = authorized(conn, &principal, id, WebhookAction::Manage)?;
                let structure_ids: Vec<uuid::Uuid> = match &patch.structure_ids {
                    Some(ids) => ids.clone(),
                    None => current.structure_ids.iter().map(|s| s.as_uuid()).collect(),
                };
                let checked = check(
                    patch.url.as_deref().unwrap_or(&current.url),
                    patch.event_types.as_deref().unwrap_or(&current.event_types),
                    &structure_ids,
                    match &patch.description {
                        Some(description) => description.as_deref(),
                        None => current.description.as_deref(),
                    },
                    allow_insecure,
                )?;
                if patch.structure_ids.is_some() {
                    check_structures(conn, &principal, &checked.structures)?;
                }
                check_if_match(precondition.as_ref(), current.version)?;
                let enabled = patch.enabled.unwrap_or(current.enabled);
                let disabled_reason = match (enabled, patch.enabled) {
                    (true, _) => None,
                    (false, Some(false)) if current.enabled => {
                        Some(rules::disabled::BY_OWNER.to_owned())
                    }
                    (false, _) => current.disabled_reason.clone(),
                };
                event.changed_fields = [
                    ("url", patch.url.is_some()),
                    ("event_types", patch.event_types.is_some()),
                    ("structure_ids", patch.structure_ids.is_some()),
                    ("description", patch.description.is_some()),
                    ("enabled", patch.enabled.is_some()),
                ]
                .iter()
                .filter(|(_, changed)| *changed)
                .map(|(field, _)| (*field).to_owned())
                .collect();
                let updated = persistence::audit::recorded(
                    conn,
                    |conn| {
                        webhooks::update(
                            conn,
                            &current,
                            WebhookEdit {
                                url: checked.url.as_ref().to_owned(),
                                event_types: checked.filter.patterns().to_vec(),
                                structure_ids: checked.structures,
                                description: checked.description,
                                enabled,
                                disabled_reason,
                            },
                        )
                    },
                    |_| event,
                )?;
                Ok(updated)
            })
        })
    })
    .await?;
    Ok(item_response(
        HttpResponse::Ok(),
        updated.version,
        &WebhookView::from(updated),
    ))
}

/// Delete a subscription.
///
/// Its pending deliveries go with it.
#[utoipa::path(
    tag = "webhooks",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Subscription id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the subscription changed since."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let event = audit::event(&caller, "webhook.delete", "webhook", id, &[]);
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let current = authorized(conn, &principal, id, WebhookAction::Manage)?;
            check_if_match(condition.as_ref(), current.version)?;
            Ok(persistence::audit::recorded(
                conn,
                |conn| webhooks::delete(conn, id),
                |_| event,
            )?)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a subscription's secret.
///
/// The answer holds the new secret, shown this once. For 24 hours the old secret keeps
/// signing beside it (`webhook-signature` then carries two signatures, space-separated;
/// Standard Webhooks libraries accept a message when one matches), so you can switch
/// your endpoint over without losing an event. Rotating again within those hours ends
/// the older secret's overlap at once.
#[utoipa::path(
    tag = "webhooks",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Subscription id.")),
    responses(
        (status = 200, description = "The new secret, shown once.", body = WebhookWithSecret),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    caller: Caller,
    pool: web::Data<Db>,
    context: web::Data<Context>,
    PathId(id): PathId<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let secret = signing::new_secret();
    let sealed = context
        .sealer
        .seal(id, &secret)
        .map_err(ApiError::Internal)?;
    let event = audit::event(&caller, "webhook.rotate_secret", "webhook", id, &["secret"]);
    let until = Utc::now() + chrono::Duration::hours(ROTATION_OVERLAP_HOURS);
    let rotated = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let current = authorized(conn, &principal, id, WebhookAction::Manage)?;
            Ok(persistence::audit::recorded(
                conn,
                |conn| webhooks::rotate(conn, &current, sealed, until),
                |_| event,
            )?)
        })
    })
    .await?;
    Ok(item_response(
        HttpResponse::Ok(),
        rotated.version,
        &WebhookWithSecret {
            webhook: WebhookView::from(rotated),
            secret: Some(secret),
        },
    ))
}

/// Send a test event.
///
/// Queues a `webhook.ping` event, delivered, signed and retried like any other (also to
/// a disabled subscription once it is enabled again).
#[utoipa::path(
    tag = "webhooks",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Subscription id.")),
    responses(
        (status = 202, description = "Queued.", body = DeliveryView),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[post("/webhooks/{id}/ping")]
pub async fn ping_webhook(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let queued = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            authorized(conn, &principal, id, WebhookAction::Manage)?;
            let mut queued = webhooks::enqueue(
                conn,
                vec![NewDelivery {
                    webhook_id: id,
                    event_type: rules::PING.into(),
                    object_key: None,
                    seq: 0,
                    payload: ping_payload(id),
                }],
            )?;
            queued
                .pop()
                .ok_or_else(|| ApiError::Internal("a ping was not queued".into()))
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::from(queued)))
}

/// List a subscription's deliveries.
///
/// Newest first: each event sent or to send, with its status, attempts, the last
/// answer's status code and latency, and when the next attempt is due.
#[utoipa::path(
    tag = "webhooks",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Subscription id."), ListParams),
    responses(
        (status = 200, description = "Newest first.", body = DeliveryPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<WebhookId>,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let limit = pagination::limit(params.limit)?;
    let before = cursor_of(params.cursor.as_deref())?.map(DeliveryId::from);
    let page = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        authorized(conn, &principal, id, WebhookAction::Read)?;
        Ok::<_, ApiError>(webhooks::deliveries(conn, id, before, limit)?)
    })
    .await?;
    let next_cursor = page
        .more
        .then(|| {
            page.items
                .last()
                .map(|d| pagination::encode(&ListCursor { id: d.id.as_uuid() }))
        })
        .flatten();
    Ok(DeliveryPage {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor,
    }
    .respond(&req))
}

/// Send a delivery again.
///
/// Queues a new delivery of the same event with the same `webhook-id` (a receiver that
/// has it already may drop it), due now and waiting for no other.
#[utoipa::path(
    tag = "webhooks",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Subscription id."),
        ("delivery_id" = uuid::Uuid, Path, description = "Delivery id."),
    ),
    responses(
        (status = 202, description = "Queued.", body = DeliveryView),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/replay")]
pub async fn replay_webhook_delivery(
    caller: Caller,
    pool: web::Data<Db>,
    PathId((id, delivery_id)): PathId<(WebhookId, DeliveryId)>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let event = audit::event(&caller, "webhook.replay", "webhook", id, &[]);
    let queued = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            authorized(conn, &principal, id, WebhookAction::Manage)?;
            let delivery = webhooks::find_delivery(conn, id, delivery_id)?;
            Ok(persistence::audit::recorded(
                conn,
                |conn| webhooks::replay(conn, &delivery),
                |_| event,
            )?)
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(DeliveryView::from(queued)))
}

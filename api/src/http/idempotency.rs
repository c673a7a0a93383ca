//! `Idempotency-Key` on creating POSTs: the same key and body replay the first response
//! byte for byte; the same key with another body is a 422; a key whose first request is
//! still running is a 409.

use actix_web::body::MessageBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use persistence::idempotency::{self, Claim, StoredResponse};
use sha2::{Digest, Sha256};

use crate::db::{self, Db};
use crate::http::error::ApiError;

pub const HEADER: &str = "Idempotency-Key";
pub const KEY_PATTERN: &str = "^[\\x21-\\x7E]{1,255}$";
/// Response headers worth replaying (the rest are set again by the server).
const REPLAYED_HEADERS: [&str; 3] = ["content-type", "location", "etag"];

/// The key sent by the client, if any; a malformed one is a 400.
pub fn key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let valid = value.to_str().ok().filter(|v| {
        !v.is_empty() && v.len() <= 255 && v.bytes().all(|b| (0x21..=0x7e).contains(&b))
    });
    match valid {
        Some(key) => Ok(Some(key.to_owned())),
        None => Err(ApiError::InvalidHeader { header: HEADER }),
    }
}

/// What identifies a request body under a key.
pub fn fingerprint(body: &[u8]) -> String {
    format!("{:x}", Sha256::digest(body))
}

/// Runs `create` at most once per key: with no key, simply runs it.
pub async fn once<F, Fut>(
    db: &Db,
    req: &HttpRequest,
    body: &[u8],
    create: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    let Some(key) = key(req)? else {
        return create().await;
    };
    // Keys are per operation (and, once accounts exist, per principal).
    let scope = format!("{} {}", req.method(), req.path());
    let hash = fingerprint(body);
    let claim = {
        let (scope, key) = (scope.clone(), key.clone());
        db::run(db, move |conn| {
            idempotency::claim(conn, &scope, &key, &hash)
        })
        .await?
    };
    match claim {
        Claim::Replay(stored) => Ok(replay(stored)),
        Claim::Mismatch => Err(ApiError::IdempotencyMismatch),
        Claim::InFlight => Err(ApiError::IdempotencyInFlight),
        Claim::New => {
            let response = match create().await {
                Ok(response) => response,
                Err(error) => error.error_response(),
            };
            if response.status().is_server_error() {
                db::run(db, move |conn| idempotency::release(conn, &scope, &key)).await?;
                return Ok(response);
            }
            let (response, stored) = capture(response)?;
            db::run(db, move |conn| {
                idempotency::complete(conn, &scope, &key, &stored)
            })
            .await?;
            Ok(response)
        }
    }
}

fn capture(response: HttpResponse) -> Result<(HttpResponse, StoredResponse), ApiError> {
    let status = response.status();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| REPLAYED_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let (head, body) = response.into_parts();
    let bytes = body
        .try_into_bytes()
        .map_err(|_| ApiError::Internal("streaming body under an idempotency key".into()))?;
    let stored = StoredResponse {
        status: status.as_u16(),
        headers,
        body: bytes.to_vec(),
    };
    Ok((head.set_body(bytes).map_into_boxed_body(), stored))
}

fn replay(stored: StoredResponse) -> HttpResponse {
    let mut response = HttpResponse::build(
        StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(&value),
        ) {
            response.insert_header((name, value));
        }
    }
    response.insert_header(("Idempotent-Replayed", "true"));
    response.body(stored.body)
}

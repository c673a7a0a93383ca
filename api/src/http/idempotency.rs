//! `Idempotency-Key` on creating POSTs: the same key and body from the same caller replay
//! the first answer; the same key with another body is a 422.
//!
//! A key belongs to its caller (an account or an API client) and to its operation; an
//! anonymous caller's key also to the exact body it came with, so that nobody is ever
//! handed another person's answer. The key is recorded with the answer in the
//! transaction of the write itself: a crash before the commit leaves neither, and the
//! retry creates. Concurrent first uses of one key: one writes, the others wait for it
//! and replay its answer. Only creations are recorded: a refused request changed nothing
//! and may be sent again, with the same key, once fixed.
//!
//! A handler runs its creation through [`once`]: `prepare` does what comes before the
//! write (validation, password hashing…) and returns the write, which runs in the
//! transaction that records the key and makes the answer:
//!
//! ```ignore
//! idempotency::once(&pool, &req, &caller, &raw, || async {
//!     let new = NewThing::parse(&value)?;
//!     Ok(move |conn: &mut DbConnection| {
//!         let created = persistence::audit::recorded(conn, |conn| things::create(conn, new), …)?;
//!         Reply::json(StatusCode::CREATED, &ThingView::from(created))
//!     })
//! })
//! .await
//! ```

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use domain::access::ActorKind;
use persistence::DbConnection;
use persistence::idempotency::{self, Earlier, Key, Once, StoredResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::ApiError;

pub const HEADER: &str = "Idempotency-Key";
pub const KEY_PATTERN: &str = "^[\\x21-\\x7E]{1,255}$";
/// Says that an answer is a replay.
pub const REPLAYED: &str = "Idempotent-Replayed";

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

/// Where a caller's keys live for this operation: one caller never sees another's.
/// Anonymous callers cannot be told apart, so their keys are filed under the body too:
/// only the very same request (a sign-up holds its password) gets its answer again.
fn scope(req: &HttpRequest, caller: &Caller, body: &[u8]) -> String {
    let caller = match caller.actor() {
        (ActorKind::Account, Some(id)) => format!("account:{id}"),
        (ActorKind::Client, Some(id)) => format!("client:{id}"),
        _ => format!("anonymous:{}", fingerprint(body)),
    };
    format!("{} {} {caller}", req.method(), req.path())
}

/// Runs a creation at most once per key: replays what the key holds already, or runs
/// `prepare`, then the write it returns, in one transaction with the key and its answer.
/// With no key, simply runs them.
pub async fn once<P, Fut, W>(
    db: &Db,
    req: &HttpRequest,
    caller: &Caller,
    body: &[u8],
    prepare: P,
) -> Result<HttpResponse, ApiError>
where
    P: FnOnce() -> Fut,
    Fut: Future<Output = Result<W, ApiError>>,
    W: FnOnce(&mut DbConnection) -> Result<Reply, ApiError> + Send + 'static,
{
    let key = match key(req)? {
        None => None,
        Some(key) => {
            let key = Key {
                scope: scope(req, caller, body),
                key,
                request_hash: fingerprint(body),
            };
            let found = {
                let (key, caller) = (key.clone(), *caller);
                // A replay is for a caller who may still act.
                db::run(db, move |conn| {
                    caller.principal(conn)?;
                    Ok::<_, ApiError>(idempotency::find(conn, &key)?)
                })
                .await?
            };
            if let Some(earlier) = found {
                return answer_of(earlier);
            }
            Some(key)
        }
    };
    let write = prepare().await?;
    // Another request with the key may commit while this one prepares: then nothing is
    // written here and its answer is replayed.
    let outcome = db::run(db, move |conn| {
        idempotency::once(conn, key.as_ref(), |conn| {
            let reply = write(conn)?;
            let recorded = reply.recorded();
            Ok::<_, ApiError>((reply.sent, recorded))
        })
    })
    .await?;
    match outcome {
        Once::Done(sent) => Ok(response(sent, false)),
        Once::Earlier(earlier) => answer_of(earlier),
    }
}

fn answer_of(earlier: Earlier) -> Result<HttpResponse, ApiError> {
    match earlier {
        Earlier::Replay(stored) => Ok(response(stored, true)),
        Earlier::Mismatch => Err(ApiError::IdempotencyMismatch),
    }
}

/// The answer to a creation, made inside its transaction so that it is recorded with
/// the write.
#[derive(Debug)]
pub struct Reply {
    sent: StoredResponse,
    /// What a replay gets when it is not what is sent now.
    replayed_body: Option<Vec<u8>>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: StatusCode, body: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Self {
            sent: StoredResponse {
                status: status.as_u16(),
                headers: vec![(header::CONTENT_TYPE.to_string(), "application/json".into())],
                body: to_json(body)?,
            },
            replayed_body: None,
        })
    }

    pub fn header(mut self, name: HeaderName, value: impl ToString) -> Self {
        self.sent
            .headers
            .push((name.to_string(), value.to_string()));
        self
    }

    /// The body a replay gets instead of this one: for what is shown once only (a
    /// secret), which is never recorded.
    pub fn replayed_as(mut self, body: &impl Serialize) -> Result<Self, ApiError> {
        self.replayed_body = Some(to_json(body)?);
        Ok(self)
    }

    fn recorded(&self) -> StoredResponse {
        StoredResponse {
            body: self
                .replayed_body
                .clone()
                .unwrap_or_else(|| self.sent.body.clone()),
            ..self.sent.clone()
        }
    }
}

fn to_json(body: &impl Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body).map_err(|e| ApiError::Internal(format!("answer to JSON: {e}")))
}

fn response(stored: StoredResponse, replayed: bool) -> HttpResponse {
    let mut response = HttpResponse::build(
        StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(&value),
        ) {
            response.append_header((name, value));
        }
    }
    if replayed {
        response.insert_header((REPLAYED, "true"));
    }
    response.body(stored.body)
}

//! Per-request observation: request id, language, one log line, metrics.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

use crate::http::context::{self, RequestContext};
use crate::http::fallback::as_problem;
use crate::http::i18n::Lang;
use crate::http::metrics::{DURATION, REQUESTS};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's request id is kept if it is short and plain; otherwise one is made.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let context = RequestContext {
        request_id: request_id(&req),
        path: req.path().to_owned(),
        lang: Lang::of(req.request()),
    };
    let method = req.method().to_string();
    let request_id = context.request_id.clone();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        path = %context.path
    );
    // Handlers, extractors and the fallback answer every error as problem+json; the
    // bare refusals of the CORS middleware and the docs service become problems here,
    // in the request's context. What could still come back as an error (a
    // middleware's) is logged and passed on.
    let mut response = context::scope(context, async move {
        next.call(req)
            .await
            .map(|response| as_problem(response.map_into_boxed_body()))
    })
    .instrument(span.clone())
    .await
    .inspect_err(|error| span.in_scope(|| tracing::warn!(%error, "middleware error")))?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let labels = [
        ("method", method),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(DURATION, &labels).record(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    span.in_scope(|| {
        tracing::info!(
            target: "oes::http",
            route = %route,
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        )
    });
    Ok(response)
}

//! Request extractors that turn every malformed input into a problem naming the field.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::http::error::{ApiError, FieldIssue, Issue};

/// Largest request body accepted, in bytes (`OES_BODY_LIMIT`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Largest body of a sync batch, in bytes (`OES_BATCH_BODY_LIMIT`).
#[derive(Debug, Clone, Copy)]
pub struct BatchBodyLimit(pub usize);

/// Largest file uploaded to a dossier, in bytes (`OES_UPLOAD_LIMIT_BYTES`).
#[derive(Debug, Clone, Copy)]
pub struct UploadLimit(pub usize);

/// What kind of body an operation reads: the limit it is read within, and whether it
/// holds items that are each judged on their own.
pub trait BodyKind {
    fn limit(req: &HttpRequest) -> usize;
    /// A top-level array whose elements are judged one by one ([`parse_value`]), NUL
    /// characters included: the whole body is not refused for one item's.
    const ITEMS: Option<&'static str> = None;
}

/// `OES_BODY_LIMIT`: every body but a sync batch.
pub struct Standard;

impl BodyKind for Standard {
    fn limit(req: &HttpRequest) -> usize {
        req.app_data::<BodyLimit>()
            .copied()
            .unwrap_or(BodyLimit(1 << 20))
            .0
    }
}

/// `OES_BATCH_BODY_LIMIT`: a sync batch of up to 1,000 items.
pub struct Batch;

impl BodyKind for Batch {
    const ITEMS: Option<&'static str> = Some("items");

    fn limit(req: &HttpRequest) -> usize {
        req.app_data::<BatchBodyLimit>()
            .copied()
            .unwrap_or(BatchBodyLimit(8 << 20))
            .0
    }
}

/// A JSON body, read within the body limit but judged only when the handler opens it,
/// after authenticating and authorizing the caller: a caller who may not do the request
/// gets its 401, 403 or 404, never what is wrong with the body (413, 415, 400, 422).
#[must_use = "open the body once the caller is authorized"]
pub struct JsonBody<T, L = Standard> {
    read: Result<web::Bytes, ApiError>,
    _value: PhantomData<fn() -> (T, L)>,
}

/// An opened JSON body: the value, deserialized with the path of any bad field, and the
/// raw bytes (idempotency keys compare requests by them).
pub struct Opened<T> {
    pub value: T,
    pub raw: web::Bytes,
}

impl<T: DeserializeOwned, L: BodyKind> JsonBody<T, L> {
    pub fn open(self) -> Result<Opened<T>, ApiError> {
        let raw = self.read?;
        let value = parse_json_with_items(&raw, L::ITEMS)?;
        Ok(Opened { value, raw })
    }
}

/// The media type of the body, lower case, without parameters.
fn media_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    )
}

fn is_json(req: &HttpRequest) -> bool {
    media_type(req).is_some_and(|essence| {
        essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"))
    })
}

fn is_form(req: &HttpRequest) -> bool {
    media_type(req).is_some_and(|essence| essence == "application/x-www-form-urlencoded")
}

/// Reads the whole body within the configured limit; 415 unless `accepted`, naming the
/// `expected` media type.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
    accepted: bool,
    expected: &'static str,
) -> LocalBoxFuture<'static, Result<web::Bytes, ApiError>> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if declared.is_some_and(|length| length > limit) {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::MalformedJson(e.to_string()))?;
            if body.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        if !accepted {
            return Err(ApiError::UnsupportedMediaType { expected });
        }
        Ok(body.freeze())
    })
}

/// The name serde puts between backticks in "unknown field `x`" and "missing field `x`".
fn quoted_name(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(&message[start..end])
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Classifies a deserialization failure at `path`.
pub(crate) fn issue_at(path: String, message: String) -> FieldIssue {
    let path = if path == "." { String::new() } else { path };
    if message.starts_with("unknown field") {
        let name = quoted_name(&message).unwrap_or_default();
        let field = if path.ends_with(name) {
            path
        } else {
            join(&path, name)
        };
        FieldIssue::new(field, Issue::UnknownField)
    } else if message.starts_with("missing field") {
        let name = quoted_name(&message).unwrap_or_default();
        FieldIssue::new(join(&path, name), Issue::Missing)
    } else {
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_owned();
        FieldIssue::new(
            if path.is_empty() { "body".into() } else { path },
            Issue::InvalidValue(message),
        )
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    parse_json_with_items(bytes, None)
}

/// [`parse_json`], leaving the elements of the top-level array `items` (if any) for
/// [`parse_value`] to check.
fn parse_json_with_items<T: DeserializeOwned>(
    bytes: &[u8],
    items: Option<&str>,
) -> Result<T, ApiError> {
    // Every body this API reads is an object; serde would also read a struct from an
    // array, field by position, which no client means.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'[')) {
        return Err(ApiError::Validation(vec![issue_at(
            String::new(),
            "expected a JSON object, found an array".into(),
        )]));
    }
    // A NUL can only come escaped (`\u0000`); look for where only when it may be there.
    if bytes.windows(6).any(|w| w == b"\\u0000")
        && let Ok(mut document) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(field) = {
            if let Some(items) = items.and_then(|name| document.get_mut(name))
                && items.is_array()
            {
                *items = serde_json::Value::Array(Vec::new());
            }
            json_path_with_nul(&document, "")
        }
    {
        return Err(ApiError::Validation(vec![nul_issue(if field.is_empty() {
            "body".into()
        } else {
            field
        })]));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_data() {
            ApiError::Validation(vec![issue_at(path, inner.to_string())])
        } else {
            ApiError::MalformedJson(inner.to_string())
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// Deserializes one part of a body already read as JSON (an item of a batch), naming
/// bad fields under `prefix` (`items[3]`): the same problems as [`parse_json`] gives a
/// whole body, NUL characters included.
pub fn parse_value<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::Validation(vec![issue_at(
            prefix.to_owned(),
            "expected a JSON object".into(),
        )]));
    }
    if let Some(field) = json_path_with_nul(&value, prefix) {
        return Err(ApiError::Validation(vec![nul_issue(field)]));
    }
    serde_path_to_error::deserialize::<_, T>(value).map_err(|error| {
        let path = error.path().to_string();
        let at = if path == "." || path.is_empty() {
            prefix.to_owned()
        } else {
            join(prefix, &path)
        };
        ApiError::Validation(vec![issue_at(at, error.into_inner().to_string())])
    })
}

/// Names every field of a validation or parameter problem under `prefix`: `starts_at`
/// of the third item becomes `items[2].performance.starts_at`.
pub fn prefixed(error: ApiError, prefix: &str) -> ApiError {
    let rename = |issues: Vec<FieldIssue>| {
        issues
            .into_iter()
            .map(|mut issue| {
                issue.field = if issue.field.is_empty() || issue.field == "body" {
                    prefix.to_owned()
                } else {
                    join(prefix, &issue.field)
                };
                issue
            })
            .collect()
    };
    match error {
        ApiError::Validation(issues) => ApiError::Validation(rename(issues)),
        ApiError::InvalidParameters(issues) => ApiError::InvalidParameters(rename(issues)),
        other => other,
    }
}

impl<T: 'static, L: BodyKind + 'static> FromRequest for JsonBody<T, L> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    /// Never fails: what is wrong with the body waits for [`JsonBody::open`].
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(
            req,
            payload,
            L::limit(req),
            is_json(req),
            "application/json",
        );
        Box::pin(async move {
            Ok(Self {
                read: body.await,
                _value: PhantomData,
            })
        })
    }
}

/// An `application/x-www-form-urlencoded` body (the OAuth 2.0 token endpoints).
pub struct FormBody<T>(pub T);

/// The fields a form reads. OAuth 2.0 ignores parameters it does not know (RFC 6749
/// §3.1), so only these are checked for what the server cannot store.
pub trait FormFields {
    const FIELDS: &'static [&'static str];
}

impl<T: DeserializeOwned + FormFields + 'static> FromRequest for FormBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(
            req,
            payload,
            <Standard as BodyKind>::limit(req),
            is_form(req),
            "application/x-www-form-urlencoded",
        );
        Box::pin(async move {
            let raw = body.await?;
            let read_with_nul = url_pairs(&raw)
                .find(|(name, value)| T::FIELDS.contains(&name.as_ref()) && value.contains('\0'));
            if let Some((field, _)) = read_with_nul {
                return Err(ApiError::Validation(vec![nul_issue(field.into_owned())]));
            }
            let deserializer = serde_urlencoded::Deserializer::new(url_pairs(&raw));
            serde_path_to_error::deserialize(deserializer)
                .map(FormBody)
                .map_err(|error| {
                    let path = error.path().to_string();
                    ApiError::Validation(vec![issue_at(path, error.into_inner().to_string())])
                })
        })
    }
}

/// Query parameters, deserialized with the name of any bad one.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let query = req.query_string();
        if let Some(field) = pair_with_nul(query.as_bytes()) {
            return std::future::ready(Err(ApiError::InvalidParameters(vec![nul_issue(field)])));
        }
        let deserializer = serde_urlencoded::Deserializer::new(url_pairs(query.as_bytes()));
        std::future::ready(
            serde_path_to_error::deserialize(deserializer)
                .map(QueryParams)
                .map_err(|error| {
                    let path = error.path().to_string();
                    let message = error.into_inner().to_string();
                    let mut issue = issue_at(path, message.clone());
                    // serde_urlencoded reports a bad value at the root: name the parameter from
                    // its message when it can.
                    if issue.field == "body" {
                        issue.field = "query".into();
                    }
                    ApiError::InvalidParameters(vec![issue])
                }),
        )
    }
}

fn url_pairs(query: &[u8]) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query)
}

/// The name of the first decoded pair whose name or value holds a NUL character: no
/// text this API stores or looks up may (PostgreSQL refuses it in text).
fn pair_with_nul(encoded: &[u8]) -> Option<String> {
    url_pairs(encoded)
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| name.replace('\0', "\\u0000"))
}

fn nul_issue(field: String) -> FieldIssue {
    FieldIssue::new(field, Issue::Domain(domain::FieldProblem::ControlCharacter))
}

/// The path of the first string (or key) in a JSON document that holds a NUL character.
fn json_path_with_nul(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::String(text) => text.contains('\0').then(|| path.to_owned()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| json_path_with_nul(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            let at = join(path, &name.replace('\0', "\\u0000"));
            if name.contains('\0') {
                Some(at)
            } else {
                json_path_with_nul(item, &at)
            }
        }),
        _ => None,
    }
}

/// A field that may be absent (unchanged) but never null.
pub fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A field that may be absent (unchanged), null (cleared) or set.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The ids in a request's path, typed: `PathId<StructureId>` for `/structures/{id}`,
/// `PathId<(StructureId, AccountId)>` for `/structures/{id}/members/{account_id}`. One
/// that does not parse is a 400 naming the path parameter.
pub struct PathId<T>(pub T);

/// An id type that a path parameter holds.
pub trait PathParam: Sized {
    fn from_param(name: &str, value: &str) -> Result<Self, ApiError>;
}

macro_rules! uuid_path_params {
    ($($id:ty),+) => {$(
        impl PathParam for $id {
            fn from_param(name: &str, value: &str) -> Result<Self, ApiError> {
                value.parse().map_err(|_| {
                    ApiError::InvalidParameters(vec![FieldIssue::new(
                        name,
                        Issue::InvalidValue("not a UUID".into()),
                    )])
                })
            }
        }
    )+};
}

uuid_path_params!(
    domain::StructureId,
    domain::access::AccountId,
    domain::access::ClientId,
    domain::structures::invitation::InvitationId,
    domain::ProductionId,
    domain::TourId,
    domain::PerformanceId,
    domain::ProgrammeId,
    domain::CallId,
    domain::DossierId,
    domain::AttentionFlagId,
    domain::DocumentId,
    domain::ReviewId,
    domain::WebhookId,
    domain::DeliveryId
);

/// A partner's own id for a performance, from its path segment as sent (see
/// [`ExternalIdPath`]): every `%XX` escape decoded, so that any printable id, `/`
/// included, can travel in a path.
impl PathParam for domain::programming::ExternalId {
    fn from_param(name: &str, value: &str) -> Result<Self, ApiError> {
        let invalid = |issue| ApiError::InvalidParameters(vec![FieldIssue::new(name, issue)]);
        let decoded = percent_decoded(value)
            .ok_or_else(|| invalid(Issue::InvalidValue("not UTF-8 once decoded".into())))?;
        Self::parse(&decoded).map_err(|problem| invalid(Issue::Domain(problem)))
    }
}

/// A partner's external id, the last segment of the path, decoded here from the raw
/// path: the router's own decoding turns bytes that are not UTF-8 into U+FFFD, which
/// would make two different ids one. A bad one is a 400 naming `external_id`.
pub struct ExternalIdPath(pub domain::programming::ExternalId);

impl FromRequest for ExternalIdPath {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let raw = req.uri().path().rsplit('/').next().unwrap_or_default();
        let parsed = domain::programming::ExternalId::from_param("external_id", raw);
        std::future::ready(match parsed {
            // `/v1/sync/performances/batch` is the batch's own path (OpenAPI matches a
            // concrete path before a templated one): `batch` travels in batch items only.
            Ok(id) if id.as_ref() == "batch" => Err(ApiError::MethodNotAllowed {
                allowed: vec!["POST"],
            }),
            other => other.map(ExternalIdPath),
        })
    }
}

/// `value` with its `%XX` escapes decoded; `None` if the bytes are not UTF-8. A `%` not
/// followed by two hex digits stays as it is.
fn percent_decoded(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).ok()
}

/// What a route's path parameters parse into, in the order they appear.
pub trait PathParams: Sized {
    fn from_path(params: &[(&str, &str)]) -> Result<Self, ApiError>;
}

fn nth_param<'a>(params: &[(&'a str, &'a str)], n: usize) -> Result<(&'a str, &'a str), ApiError> {
    params
        .get(n)
        .copied()
        .ok_or_else(|| ApiError::Internal(format!("route has no path parameter #{n}")))
}

impl<A: PathParam> PathParams for A {
    fn from_path(params: &[(&str, &str)]) -> Result<Self, ApiError> {
        let (name, value) = nth_param(params, 0)?;
        A::from_param(name, value)
    }
}

impl<A: PathParam, B: PathParam> PathParams for (A, B) {
    fn from_path(params: &[(&str, &str)]) -> Result<Self, ApiError> {
        let (first, second) = (nth_param(params, 0)?, nth_param(params, 1)?);
        Ok((
            A::from_param(first.0, first.1)?,
            B::from_param(second.0, second.1)?,
        ))
    }
}

impl<T: PathParams> FromRequest for PathId<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let params: Vec<(&str, &str)> = req.match_info().iter().collect();
        std::future::ready(T::from_path(&params).map(PathId))
    }
}

/// An optional [`integer`]: absent or `null` is `None` (with `#[serde(default)]`).
pub fn optional_integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Integer(#[serde(deserialize_with = "integer")] i64);
    Ok(Option::<Integer>::deserialize(d)?.map(|Integer(value)| value))
}

/// An integer as JSON Schema counts them: `161` or `161.0` (a number whose fraction is
/// zero), within `i64`. serde alone refuses the second, which the contract allows.
pub fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    use serde::de::Error;
    match serde_json::Number::deserialize(d)? {
        n if n.is_i64() => n.as_i64().ok_or_else(|| D::Error::custom("not an integer")),
        n => match n.as_f64() {
            // Exactly representable: below 2^53 every integer is.
            Some(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => Ok(f as i64),
            _ => Err(D::Error::custom("invalid type: expected an integer")),
        },
    }
}

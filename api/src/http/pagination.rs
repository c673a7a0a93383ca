//! Cursor pagination: `?limit=&cursor=`, `next_cursor` in the body and a
//! `Link: <…>; rel="next"` header. Cursors are opaque to clients: base64url JSON of the
//! sort order and the last item's keyset position.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::ResponseError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::http::error::{ApiError, FieldIssue, Issue};
use crate::http::{caching, conditional};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

pub fn limit(requested: Option<u32>) -> Result<i64, ApiError> {
    match requested {
        None => Ok(i64::from(DEFAULT_LIMIT)),
        Some(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(i64::from(limit)),
        Some(_) => Err(ApiError::InvalidParameters(vec![FieldIssue::new(
            "limit",
            Issue::InvalidValue(format!("must be between 1 and {MAX_LIMIT}")),
        )])),
    }
}

pub fn encode<T: Serialize>(position: &T) -> String {
    // Serializing a plain struct of strings cannot fail.
    let json = serde_json::to_vec(position).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// The cursor of the page after `page`, from its last item's position; `None` on the
/// last page.
pub fn next_cursor<T, P: Serialize>(
    page: &persistence::page::Page<T>,
    position: impl Fn(&T) -> P,
) -> Option<String> {
    page.more
        .then(|| page.items.last().map(|last| encode(&position(last))))
        .flatten()
}

pub fn decode<T: for<'de> Deserialize<'de>>(cursor: &str) -> Result<T, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        // A cursor this API made never holds a NUL (a forged one would reach the
        // database, which refuses it in text).
        .filter(|bytes| !bytes.windows(6).any(|w| w == b"\\u0000"))
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(invalid_cursor)
}

/// The problem of a cursor this API did not make (or made for another query).
pub fn invalid_cursor() -> ApiError {
    ApiError::InvalidParameters(vec![FieldIssue::new(
        "cursor",
        Issue::InvalidValue("not a cursor returned by this API for this sort order".into()),
    )])
}

/// A 200 for a page: with the `Link: rel="next"` header when another page follows.
pub fn page_response(
    req: &HttpRequest,
    next_cursor: Option<&str>,
) -> actix_web::HttpResponseBuilder {
    let mut response = actix_web::HttpResponse::Ok();
    if let Some(cursor) = next_cursor {
        response.insert_header((actix_web::http::header::LINK, next_link(req, cursor)));
    }
    response
}

/// The URL of the next page: the request's own, with `cursor` replaced.
pub fn next_link(req: &HttpRequest, cursor: &str) -> String {
    link_with(req, "cursor", cursor)
}

/// The request's own URL with query parameter `name` set to `cursor`, as a
/// `Link: rel="next"` value.
pub fn link_with(req: &HttpRequest, name: &str, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(param, _)| param != name)
        .map(|(param, value)| (param.into_owned(), value.into_owned()))
        .collect();
    pairs.push((name.into(), cursor.to_owned()));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("<{}?{}>; rel=\"next\"", req.path(), query)
}

/// One page of a list: its items, and the cursor of the next page (null on the last).
/// Every list answers this shape; the contract names it after its items
/// (`StructurePage` for `StructureView`).
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> PartialSchema for Page<T> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(format!(
                "One page of `{}` items, and `next_cursor` to fetch the next one.",
                T::name()
            )))
            .property(
                "data",
                ArrayBuilder::new().items(Ref::from_schema_name(T::name())),
            )
            .required("data")
            .property(
                "next_cursor",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some(
                        "Cursor of the next page (also in the `Link` header); null on the last page.",
                    )),
            )
            .required("next_cursor")
            .into()
    }
}

impl<T: ToSchema> ToSchema for Page<T> {
    fn name() -> Cow<'static, str> {
        let item = T::name();
        Cow::Owned(format!(
            "{}Page",
            item.strip_suffix("View").unwrap_or(&item)
        ))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}

impl<T: Serialize> Page<T> {
    /// A 200 with this page, and the `Link: rel="next"` header when another page follows.
    pub fn respond(self, req: &HttpRequest) -> HttpResponse {
        match page_json(&self, self.data.len()) {
            Ok(bytes) => page_response(req, self.next_cursor.as_deref())
                .content_type(crate::http::negotiate::JSON)
                .body(bytes),
            Err(error) => error.error_response(),
        }
    }

    /// A read of a public list: this page as JSON with its `ETag` and the caching fit for
    /// the caller (see [`caching`]), or a 304 when the client holds it already.
    pub fn respond_cached(
        self,
        req: &HttpRequest,
        anonymous: bool,
        vary: &'static str,
    ) -> Result<HttpResponse, ApiError> {
        let next = self.next_cursor.clone();
        let items = self.data.len();
        cached_page(
            req,
            &self,
            items,
            crate::http::negotiate::JSON,
            next.as_deref(),
            anonymous,
            vary,
        )
    }
}

/// A 200 with a page whose items are JSON rendered already (this API's own renderings,
/// kept with their rows), written as [`Page::respond`] writes a page.
pub fn respond_rendered<'a>(
    req: &HttpRequest,
    items: impl ExactSizeIterator<Item = &'a str>,
    next_cursor: Option<&str>,
) -> HttpResponse {
    let mut bytes = Vec::with_capacity(256 + ITEM_JSON_BYTES * items.len());
    bytes.extend_from_slice(b"{\"data\":[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        bytes.extend_from_slice(item.as_bytes());
    }
    bytes.extend_from_slice(b"],\"next_cursor\":");
    if let Err(error) = serde_json::to_writer(&mut bytes, &next_cursor) {
        return ApiError::Internal(format!("serializing a cursor: {error}")).error_response();
    }
    bytes.push(b'}');
    page_response(req, next_cursor)
        .content_type(crate::http::negotiate::JSON)
        .body(bytes)
}

/// Room for one item of a page's JSON. Serializing into a buffer that already holds the
/// page spares the copies of a buffer that doubles as it grows (a page of 50 structures
/// is about 20 KB: a dozen reallocations, 7 % of a list's CPU in `memmove`).
const ITEM_JSON_BYTES: usize = 512;

/// A page as JSON, in a buffer sized for its `items`.
fn page_json(page: &impl Serialize, items: usize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::with_capacity(256 + ITEM_JSON_BYTES * items);
    serde_json::to_writer(&mut bytes, page)
        .map_err(|e| ApiError::Internal(format!("serializing a page: {e}")))?;
    Ok(bytes)
}

/// A page of a public list in `content_type`: its body's digest as a weak `ETag`,
/// `Link: rel="next"` when another page follows, the caching fit for the caller; a 304
/// with the tag and caching when `If-None-Match` holds it.
pub fn cached_page(
    req: &HttpRequest,
    body: &impl Serialize,
    items: usize,
    content_type: &str,
    next_cursor: Option<&str>,
    anonymous: bool,
    vary: &'static str,
) -> Result<HttpResponse, ApiError> {
    let bytes = page_json(body, items)?;
    let tag = caching::page_etag(&bytes);
    let not_modified = conditional::holds(req, &tag)?;
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        page_response(req, next_cursor)
    };
    caching::cache_headers(&mut response, anonymous, vary);
    response.insert_header(actix_web::http::header::ETag(tag));
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response.content_type(content_type.to_owned()).body(bytes))
}

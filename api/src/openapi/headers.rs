//! Response headers as reusable components, so that generated clients read them with
//! their types and formats instead of hand-written code. Handlers declare `ETag` and
//! `Link` where they send them; this pass points every such declaration at the one
//! component and adds the headers the server sends everywhere: `X-Request-Id` on
//! every answer, `Retry-After` and the RateLimit headers on 429 (`Retry-After` on 503
//! too), `ETag` on every 304, `Link` on every paged list and `Idempotent-Replayed` on
//! what an `Idempotency-Key` may replay. The conditional request headers (`If-Match`,
//! `If-None-Match`) become reusable parameters too, with the grammar the server reads.

use utoipa::openapi::Required;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi, Ref, RefOr, Response};

pub const ETAG: &str = "ETag";
/// The `ETag` of a page of a list (a digest of its body), as a component.
pub const PAGE_ETAG: &str = "PageETag";
/// The `ETag` of a stored file (a dossier document's content): its SHA-256.
pub const DIGEST_ETAG: &str = "DigestETag";
pub const LINK: &str = "Link";
pub const RETRY_AFTER: &str = "Retry-After";
pub const RATE_LIMIT: &str = "RateLimit";
pub const RATE_LIMIT_POLICY: &str = "RateLimit-Policy";
pub const REQUEST_ID: &str = "X-Request-Id";
pub const IDEMPOTENT_REPLAYED: &str = "Idempotent-Replayed";

/// The format of every `ETag`: `crate::http::conditional::etag` makes it.
pub const ETAG_PATTERN: &str = "^\"v[0-9]+\"$";

/// The format of a page's `ETag`: `crate::http::caching::page_etag` makes it.
pub const PAGE_ETAG_PATTERN: &str = "^W/\"p[0-9a-f]{32}\"$";

/// The format of a stored file's `ETag`: the lower-case hex SHA-256 of its content.
pub const DIGEST_ETAG_PATTERN: &str = "^\"[0-9a-f]{64}\"$";

pub const IF_MATCH: &str = "If-Match";
pub const IF_NONE_MATCH: &str = "If-None-Match";

/// `*` or a comma-separated list of entity tags (RFC 9110 §13.1.1), as
/// `crate::http::conditional` reads them: any other value is a 400. A comma inside a
/// tag, which RFC 9110 allows, is left out: the server splits the list on commas first
/// (and its own tags have none).
pub const ENTITY_TAGS_PATTERN: &str =
    r#"^(\*|(W/)?"[\x21\x23-\x2B\x2D-\x7E]*"( *, *(W/)?"[\x21\x23-\x2B\x2D-\x7E]*")*)$"#;

fn conditional(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(string().pattern(Some(ENTITY_TAGS_PATTERN))))
        .example(Some(serde_json::json!("\"v3\"")))
        .build()
}

/// The reusable parameters, by name.
fn reusable_parameters() -> [(&'static str, Parameter); 2] {
    [
        (
            IF_MATCH,
            conditional(
                IF_MATCH,
                "Write only over what you read: the `ETag` you read (`\"v3\"`, or build it from \
                 `version`), several separated by commas, or `*`. 412 if the resource's current \
                 `ETag` is not one of them (weak tags never match).",
            ),
        ),
        (
            IF_NONE_MATCH,
            conditional(
                IF_NONE_MATCH,
                "Read only if it changed: the `ETag` you hold (`\"v3\"`), several separated by \
                 commas, or `*`. 304 with no body if the current `ETag` is one of them.",
            ),
        ),
    ]
}

fn parameter_ref(name: &str) -> RefOr<Parameter> {
    RefOr::Ref(Ref::new(format!("#/components/parameters/{name}")))
}

/// Points every inline `If-Match` / `If-None-Match` header parameter at its component.
fn share_conditional_parameters(openapi: &mut OpenApi) {
    for (_, operation) in operations(openapi) {
        for parameter in operation.parameters.iter_mut().flatten() {
            let name = match parameter {
                RefOr::T(p) if p.parameter_in == ParameterIn::Header => p.name.clone(),
                _ => continue,
            };
            if name == IF_MATCH || name == IF_NONE_MATCH {
                *parameter = parameter_ref(&name);
            }
        }
    }
}

fn header(description: &str, schema: ObjectBuilder, example: serde_json::Value) -> Header {
    HeaderBuilder::new()
        .description(Some(description))
        .schema(Some(schema))
        .example(Some(example))
        .build()
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// The reusable headers, by name.
fn reusable() -> [(&'static str, Header); 9] {
    [
        (
            DIGEST_ETAG,
            header(
                "The SHA-256 of the file's content, lower-case hexadecimal, as a strong entity \
                 tag (the `sha256` of its metadata, in double quotes). Send it back in \
                 `If-None-Match` to download it only if it changed (304 otherwise).",
                string().pattern(Some(DIGEST_ETAG_PATTERN)),
                serde_json::json!(
                    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\""
                ),
            ),
        ),
        (
            PAGE_ETAG,
            header(
                "A digest of the page's body, as a weak entity tag (`W/\"p` and 32 hexadecimal \
                 digits `\"`). Send it back in `If-None-Match` to fetch the page only if it \
                 changed (304 otherwise).",
                string().pattern(Some(PAGE_ETAG_PATTERN)),
                serde_json::json!("W/\"p3f2a9c0d1e4b5a69788796a5b4c3d2e1\""),
            ),
        ),
        (
            ETAG,
            header(
                "The resource's `version` as a strong entity tag: `\"v\"` then the version, in \
                 double quotes (`\"v3\"` for version 3). A client holding `version` builds it \
                 itself. Send it back in `If-Match` to write only over what you read (412 \
                 otherwise), in `If-None-Match` to read only if it changed (304 otherwise).",
                string().pattern(Some(ETAG_PATTERN)),
                serde_json::json!("\"v3\""),
            ),
        ),
        (
            LINK,
            header(
                "`<URL>; rel=\"next\"` (RFC 8288) when another page follows: the request's own \
                 URL with `cursor` set to `next_cursor`. Absent on the last page.",
                string(),
                serde_json::json!(
                    "</v1/structures?limit=50&cursor=eyJpZCI6IjAxOTM…>; rel=\"next\""
                ),
            ),
        ),
        (
            RETRY_AFTER,
            header(
                "Seconds to wait before trying again.",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
                serde_json::json!(12),
            ),
        ),
        (
            RATE_LIMIT,
            header(
                "The limit reached (IETF RateLimit header fields draft): `limit`, `remaining` \
                 (0) and `reset` (seconds until a request is accepted again).",
                string(),
                serde_json::json!("limit=30, remaining=0, reset=12"),
            ),
        ),
        (
            RATE_LIMIT_POLICY,
            header(
                "The quota (IETF RateLimit header fields draft): requests per window `w` in \
                 seconds.",
                string(),
                serde_json::json!("30;w=60"),
            ),
        ),
        (
            REQUEST_ID,
            header(
                "This request's id, on every answer: the one you sent in `X-Request-Id` if it \
                 is plain (1 to 128 letters, digits, `-_.:`), otherwise one the server made. \
                 Problems quote it as `request_id`.",
                string().min_length(Some(1)).max_length(Some(128)),
                serde_json::json!("01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10"),
            ),
        ),
        (
            IDEMPOTENT_REPLAYED,
            header(
                "`true` when this answer is the stored first answer to an earlier request with \
                 the same `Idempotency-Key` and body, replayed byte for byte; absent otherwise.",
                string().enum_values(Some(["true"])),
                serde_json::json!("true"),
            ),
        ),
    ]
}

fn to(name: &str) -> RefOr<Header> {
    RefOr::Ref(Ref::new(format!("#/components/headers/{name}")))
}

fn operations(openapi: &mut OpenApi) -> impl Iterator<Item = (&str, &mut Operation)> {
    openapi.paths.paths.iter_mut().flat_map(|(path, item)| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        .map(move |operation| (path.as_str(), operation))
    })
}

fn has_parameter(operation: &Operation, location: ParameterIn, name: &str) -> bool {
    operation.parameters.iter().flatten().any(|parameter| {
        matches!(parameter, RefOr::T(p) if p.parameter_in == location && p.name == name)
    })
}

/// Runs `change` on every response of every operation with its status and what matters
/// of the operation. A response shared as a component (`$ref: #/components/responses/…`:
/// the problems common to `/v1` operations) is changed once, in the components, as a
/// `/v1` answer of neither a list nor a creation.
fn for_each_response(openapi: &mut OpenApi, change: impl Fn(&str, Traits, &mut Response)) {
    let mut shared = std::collections::BTreeMap::<String, String>::new();
    for (path, operation) in operations(openapi) {
        let traits = Traits {
            api: path.starts_with("/v1/"),
            paged: has_parameter(operation, ParameterIn::Query, "cursor"),
            idempotent: has_parameter(
                operation,
                ParameterIn::Header,
                crate::http::idempotency::HEADER,
            ),
            file: serves_a_file(operation),
        };
        for (status, response) in operation.responses.responses.iter_mut() {
            match response {
                RefOr::T(response) => change(status, traits, response),
                RefOr::Ref(reference) => {
                    shared.insert(reference.ref_location.clone(), status.clone());
                }
            }
        }
    }
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for (location, status) in shared {
        let name = location.trim_start_matches("#/components/responses/");
        if let Some(RefOr::T(response)) = components.responses.get_mut(name) {
            let traits = Traits {
                api: true,
                ..Traits::default()
            };
            change(&status, traits, response);
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Traits {
    /// Under `/v1`: answered by the API's handlers (the operational routes are not).
    api: bool,
    /// A paged list: it takes a `cursor`.
    paged: bool,
    /// It takes an `Idempotency-Key`.
    idempotent: bool,
    /// Its answer is a stored file, in none of the JSON types (a document's content).
    file: bool,
}

/// Whether the operation's 200 is a file: it has content, none of it JSON.
fn serves_a_file(operation: &Operation) -> bool {
    match operation.responses.responses.get("200") {
        Some(RefOr::T(response)) => {
            !response.content.is_empty() && !response.content.keys().any(|t| t.contains("json"))
        }
        _ => false,
    }
}

pub struct ResponseHeaders;

impl utoipa::Modify for ResponseHeaders {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, header) in reusable() {
            components.headers.insert(name.to_owned(), RefOr::T(header));
        }
        for (name, parameter) in reusable_parameters() {
            components
                .parameters
                .insert(name.to_owned(), RefOr::T(parameter));
        }
        share_conditional_parameters(openapi);
        for_each_response(openapi, |status, traits, response| {
            let headers = &mut response.headers;
            // A page's tag is a digest of its body; a file's, of its content; an item's,
            // its version.
            let etag = if traits.paged {
                PAGE_ETAG
            } else if traits.file {
                DIGEST_ETAG
            } else {
                ETAG
            };
            // Declared by the handler: the one description instead.
            for (name, component) in [(ETAG, etag), (LINK, LINK)] {
                if let Some(declared) = headers.get_mut(name) {
                    *declared = to(component);
                }
            }
            if status == "304" {
                headers.insert(ETAG.to_owned(), to(etag));
            }
            if status == "200" && traits.paged {
                headers.insert(LINK.to_owned(), to(LINK));
            }
            if status == "429" {
                for name in [RETRY_AFTER, RATE_LIMIT, RATE_LIMIT_POLICY] {
                    headers.insert(name.to_owned(), to(name));
                }
            }
            if status == "503" && traits.api {
                headers.insert(RETRY_AFTER.to_owned(), to(RETRY_AFTER));
            }
            if traits.idempotent && status.starts_with('2') {
                headers.insert(IDEMPOTENT_REPLAYED.to_owned(), to(IDEMPOTENT_REPLAYED));
            }
            headers.insert(REQUEST_ID.to_owned(), to(REQUEST_ID));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_etag_format_is_the_one_the_server_makes() {
        let pattern = regex::Regex::new(ETAG_PATTERN).unwrap();
        for version in [1, 42, i64::MAX] {
            let tag = crate::http::conditional::etag(version).to_string();
            assert!(pattern.is_match(&tag), "{tag}");
        }
        assert!(!pattern.is_match("W/\"v1\""));
    }

    /// Whatever the contract lets a client send in `If-Match` or `If-None-Match`, the
    /// server reads; the rest it refuses with a 400.
    #[test]
    fn every_documented_conditional_header_is_one_the_server_reads() {
        use actix_web::test::TestRequest;

        let pattern = regex::Regex::new(ENTITY_TAGS_PATTERN).unwrap();
        for value in [
            "*",
            "\"v3\"",
            "W/\"v3\"",
            "\"\"",
            "\"v1\", \"v2\"",
            "\"v1\",W/\"x!#~\"",
        ] {
            assert!(pattern.is_match(value), "{value}");
            let req = |name| {
                TestRequest::default()
                    .insert_header((name, value))
                    .to_http_request()
            };
            assert!(
                crate::http::conditional::if_match(&req(IF_MATCH)).is_ok(),
                "{value}"
            );
            assert!(
                crate::http::conditional::not_modified(&req(IF_NONE_MATCH), 3).is_ok(),
                "{value}"
            );
        }
        for value in [
            "null",
            "v3",
            "\"v3",
            "\"a\"b\"",
            "W/v3",
            "\"v1\" \"v2\"",
            "",
        ] {
            assert!(!pattern.is_match(value), "{value}");
        }
    }
}

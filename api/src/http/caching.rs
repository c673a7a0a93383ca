//! Caching of public reads (the agenda): a shared cache such as a CDN may keep an
//! anonymous answer for a minute, and serve it a while longer while it fetches a fresh
//! one; an answer to a token stays private to its holder. Every answer varies with the
//! token (and with `Accept` where the operation offers several representations).

use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::http::error::ApiError;

/// Seconds a shared cache may serve an anonymous answer as fresh.
pub const MAX_AGE: u32 = 60;
/// Seconds more it may serve it stale while it revalidates in the background.
pub const STALE_WHILE_REVALIDATE: u32 = 300;

/// `Vary` of a read that depends on the token only.
pub const VARY_AUTHORIZATION: &str = "Authorization";
/// `Vary` of a read that also offers several representations.
pub const VARY_AUTHORIZATION_ACCEPT: &str = "Authorization, Accept";

/// Sets `Cache-Control` and `Vary` on a successful read (200 or 304).
pub fn cache_headers(response: &mut HttpResponseBuilder, anonymous: bool, vary: &'static str) {
    let directives = if anonymous {
        vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(MAX_AGE),
            CacheDirective::Extension(
                "stale-while-revalidate".into(),
                Some(STALE_WHILE_REVALIDATE.to_string()),
            ),
        ]
    } else {
        vec![CacheDirective::Private, CacheDirective::NoCache]
    };
    response
        .insert_header(CacheControl(directives))
        .insert_header((header::VARY, vary));
}

/// The entity tag of a page: a digest of its body, weak since the body may travel
/// compressed (`W/"p` and 32 hexadecimal digits `"`).
pub fn page_etag(body: &[u8]) -> EntityTag {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    EntityTag::new_weak(format!("p{hex}"))
}

/// A 200 (or 201) with an item, its ETag, and caching fit for what depends on the token.
pub(crate) fn item_response(
    mut response: actix_web::HttpResponseBuilder,
    version: i64,
    body: &impl Serialize,
) -> HttpResponse {
    response
        .insert_header(header::ETag(crate::http::conditional::etag(version)))
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::NoCache,
        ]))
        .insert_header((header::VARY, "Authorization"))
        .json(body)
}

/// A read of an item: 200 with its ETag, or 304 for a client holding the current
/// version; cached by shared caches when anonymous, private otherwise (see
/// this module).
pub(crate) fn read_item(
    req: &HttpRequest,
    anonymous: bool,
    vary: &'static str,
    version: i64,
    body: &impl Serialize,
) -> Result<HttpResponse, ApiError> {
    let not_modified = crate::http::conditional::not_modified(req, version)?;
    let mut response = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    cache_headers(&mut response, anonymous, vary);
    response.insert_header(header::ETag(crate::http::conditional::etag(version)));
    if not_modified {
        return Ok(response.finish());
    }
    Ok(response.json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_tag_follows_its_body() {
        let tag = page_etag(b"{\"data\":[]}");
        assert!(tag.weak);
        assert_eq!(tag.tag().len(), 33);
        assert_eq!(tag, page_etag(b"{\"data\":[]}"));
        assert_ne!(tag.tag(), page_etag(b"{\"data\":[1]}").tag());
        let pattern = regex::Regex::new(crate::openapi::PAGE_ETAG_PATTERN).unwrap();
        assert!(pattern.is_match(&tag.to_string()), "{tag}");
    }

    #[test]
    fn anonymous_answers_are_public_and_others_private() {
        let mut public = actix_web::HttpResponse::Ok();
        cache_headers(&mut public, true, VARY_AUTHORIZATION_ACCEPT);
        let public = public.finish();
        assert_eq!(
            public.headers().get(header::CACHE_CONTROL).unwrap(),
            "public, max-age=60, stale-while-revalidate=300"
        );
        assert_eq!(
            public.headers().get(header::VARY).unwrap(),
            "Authorization, Accept"
        );
        let mut private = actix_web::HttpResponse::Ok();
        cache_headers(&mut private, false, VARY_AUTHORIZATION);
        assert_eq!(
            private
                .finish()
                .headers()
                .get(header::CACHE_CONTROL)
                .unwrap(),
            "private, no-cache"
        );
    }
}

//! Optimistic concurrency: a resource's `version` is its `ETag`; writes honour
//! `If-Match` (412 on mismatch) and reads honour `If-None-Match` (304).

use actix_web::HttpRequest;
use actix_web::http::header::{self, EntityTag, Header, IfMatch, IfNoneMatch};

use crate::http::error::ApiError;

pub fn etag(version: i64) -> EntityTag {
    EntityTag::new_strong(format!("v{version}"))
}

/// The If-Match header, if any; a malformed one is a 400.
pub fn if_match(req: &HttpRequest) -> Result<Option<IfMatch>, ApiError> {
    if !req.headers().contains_key(header::IF_MATCH) {
        return Ok(None);
    }
    IfMatch::parse(req)
        .map(Some)
        .map_err(|_| ApiError::InvalidHeader { header: "If-Match" })
}

/// Fails with 412 unless the precondition holds for `version`. Weak tags never match
/// (RFC 9110 uses the strong comparison for If-Match).
pub fn check_if_match(condition: Option<&IfMatch>, version: i64) -> Result<(), ApiError> {
    match condition {
        None | Some(IfMatch::Any) => Ok(()),
        Some(IfMatch::Items(tags)) if tags.iter().any(|t| t.strong_eq(&etag(version))) => Ok(()),
        Some(IfMatch::Items(_)) => Err(ApiError::PreconditionFailed),
    }
}

/// True when the client already holds `version` (If-None-Match, weak comparison).
pub fn not_modified(req: &HttpRequest, version: i64) -> Result<bool, ApiError> {
    if !req.headers().contains_key(header::IF_NONE_MATCH) {
        return Ok(false);
    }
    match IfNoneMatch::parse(req) {
        Ok(IfNoneMatch::Any) => Ok(true),
        Ok(IfNoneMatch::Items(tags)) => Ok(tags.iter().any(|t| t.weak_eq(&etag(version)))),
        Err(_) => Err(ApiError::InvalidHeader {
            header: "If-None-Match",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_current_strong_tag_satisfies_if_match() {
        let current = IfMatch::Items(vec![etag(3)]);
        assert!(check_if_match(Some(&current), 3).is_ok());
        assert!(check_if_match(Some(&current), 4).is_err());
        let weak = IfMatch::Items(vec![EntityTag::new_weak("v3".into())]);
        assert!(check_if_match(Some(&weak), 3).is_err());
        assert!(check_if_match(Some(&IfMatch::Any), 9).is_ok());
        assert!(check_if_match(None, 9).is_ok());
    }
}

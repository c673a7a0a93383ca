//! Optimistic concurrency: a resource's `version` is its `ETag`; writes honour
//! `If-Match` (412 on mismatch) and reads honour `If-None-Match` (304).

use actix_web::HttpRequest;
use actix_web::http::header::{self, EntityTag, Header, IfMatch, IfNoneMatch};

use crate::http::error::ApiError;

pub fn etag(version: i64) -> EntityTag {
    EntityTag::new_strong(format!("v{version}"))
}

/// True when every value of the header is `*` or a list of entity tags. actix's own
/// parsers skip the items they cannot read, which would turn a malformed `If-Match`
/// (`v1` unquoted) into a 412 and a malformed `If-None-Match` into a silent 200.
fn well_formed(req: &HttpRequest, name: header::HeaderName) -> bool {
    req.headers().get_all(name).all(|value| {
        value.to_str().is_ok_and(|text| {
            let mut items = text
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty());
            text.trim() == "*"
                || items
                    .clone()
                    .next()
                    .is_some_and(|_| items.all(|item| item.parse::<EntityTag>().is_ok()))
        })
    })
}

/// The If-Match header, if any; a malformed one is a 400.
pub fn if_match(req: &HttpRequest) -> Result<Option<IfMatch>, ApiError> {
    if !req.headers().contains_key(header::IF_MATCH) {
        return Ok(None);
    }
    let invalid = ApiError::InvalidHeader { header: "If-Match" };
    if !well_formed(req, header::IF_MATCH) {
        return Err(invalid);
    }
    IfMatch::parse(req).map(Some).map_err(|_| invalid)
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
    holds(req, &etag(version))
}

/// True when the client already holds the representation tagged `current`
/// (If-None-Match, weak comparison).
pub fn holds(req: &HttpRequest, current: &EntityTag) -> Result<bool, ApiError> {
    if !req.headers().contains_key(header::IF_NONE_MATCH) {
        return Ok(false);
    }
    if !well_formed(req, header::IF_NONE_MATCH) {
        return Err(ApiError::InvalidHeader {
            header: "If-None-Match",
        });
    }
    match IfNoneMatch::parse(req) {
        Ok(IfNoneMatch::Any) => Ok(true),
        Ok(IfNoneMatch::Items(tags)) => Ok(tags.iter().any(|t| t.weak_eq(current))),
        Err(_) => Err(ApiError::InvalidHeader {
            header: "If-None-Match",
        }),
    }
}

/// Runs a read-merge-write until it does not lose a race. With `If-Match` the version
/// the client read decides (a 412 at once); without it, a change committed meanwhile is
/// merged by trying again on the new version. `attempt` is told whether to lock the row
/// before reading it (`persistence::db::lock_row`): not the first time, as most writes
/// meet no one, but after a lost race, so that the second attempt cannot lose.
pub async fn merging<T, F, Fut>(condition: Option<&IfMatch>, mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut(Locking) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    match attempt(Locking::Optimistic).await {
        Err(ApiError::PreconditionFailed) if condition.is_none() => {
            attempt(Locking::RowLocked).await
        }
        result => result,
    }
}

/// How an attempt of [`merging`] reads the row it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locking {
    /// Read as is; the write checks the version read.
    Optimistic,
    /// Lock the row first: nobody writes it until the attempt commits.
    RowLocked,
}

impl Locking {
    /// Locks `id` of `table` when this attempt must.
    pub fn apply(
        self,
        conn: &mut persistence::db::DbConnection,
        table: persistence::db::Versioned,
        id: impl std::fmt::Display,
    ) -> Result<(), persistence::PersistenceError> {
        match self {
            Self::Optimistic => Ok(()),
            Self::RowLocked => persistence::db::lock_row(conn, table, &id.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_current_strong_tag_satisfies_if_match() {
        let current = IfMatch::Items(vec![etag(3)]);
        assert!(check_if_match(Some(&current), 3).is_ok());
        let refused = |result| matches!(result, Err(ApiError::PreconditionFailed));
        assert!(refused(check_if_match(Some(&current), 4)));
        let weak = IfMatch::Items(vec![EntityTag::new_weak("v3".into())]);
        assert!(refused(check_if_match(Some(&weak), 3)));
        assert!(check_if_match(Some(&IfMatch::Any), 9).is_ok());
        assert!(check_if_match(None, 9).is_ok());
    }

    #[test]
    fn conditional_headers_are_tags_or_a_star() {
        use actix_web::test::TestRequest;
        let with = |value: &str| {
            TestRequest::default()
                .insert_header((header::IF_MATCH, value))
                .to_http_request()
        };
        for good in ["\"v1\"", "W/\"v1\"", "\"v1\", \"v2\"", "*", " \"v1\" ,"] {
            assert!(well_formed(&with(good), header::IF_MATCH), "{good}");
        }
        for bad in ["v1", "\"v1\", v2", "", " , ", "**", "\"v1"] {
            assert!(!well_formed(&with(bad), header::IF_MATCH), "{bad}");
            assert!(
                matches!(
                    if_match(&with(bad)),
                    Err(ApiError::InvalidHeader { header: "If-Match" })
                ),
                "{bad}"
            );
        }
    }

    /// A lost race is tried again once, row locked; with If-Match it is the client's 412.
    #[actix_web::test]
    async fn a_lost_race_is_tried_again_with_the_row_locked_and_if_match_decides_at_once() {
        let mut seen = Vec::new();
        let result = merging(None, |locking| {
            seen.push(locking);
            async move {
                match locking {
                    Locking::Optimistic => Err(ApiError::PreconditionFailed),
                    Locking::RowLocked => Ok(7),
                }
            }
        })
        .await;
        assert!(matches!(result, Ok(7)));
        assert_eq!(seen, [Locking::Optimistic, Locking::RowLocked]);

        let mut attempts = 0;
        let result: Result<(), _> = merging(Some(&IfMatch::Items(vec![etag(1)])), |_| {
            attempts += 1;
            async { Err(ApiError::PreconditionFailed) }
        })
        .await;
        assert!(matches!(result, Err(ApiError::PreconditionFailed)));
        assert_eq!(attempts, 1);
    }
}

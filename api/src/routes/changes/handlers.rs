//! The handler of `/v1/changes`.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, get, web};
use domain::changes::{ChangeAction, Disclosure, disclose};
use persistence::changes;

use super::*;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, FieldIssue, Issue};
use crate::http::extract::QueryParams;
use crate::http::pagination;

/// Follow changes.
///
/// Every create, update and delete of structures (productions, tours and performances
/// as they arrive), oldest first, in the order the writes committed: a change never
/// appears before one that committed earlier, so a follower that starts from the
/// beginning (no `after`) and keeps asking with `next_cursor` misses nothing and applies
/// nothing out of order, however many writers commit at once.
///
/// Apply each entry to your copy: `created` and `updated` put `object` under
/// `object_type` and `object_id`, `deleted` removes it. You then hold exactly the
/// current data you may see. What you may see is that of `GET` on each object: anyone
/// sees public objects (an archived structure is no longer one: its archiving comes as
/// `deleted`) with their public fields; private fields (a structure's SIRET, licences,
/// email, phone, street…) only go to those who may read them (members and API clients
/// of the structures concerned, agency staff). A change to an object you may not see
/// at that version comes as `deleted` without the object when you may have seen an
/// earlier version, and not at all otherwise. What you see is decided by your rights
/// when you read: after yours change (you join or leave a structure), follow again from
/// the beginning to hold exactly what they let you see.
///
/// `next_cursor` (also in the `Link` header) is always present, also on an empty page:
/// keep it and poll with it. A page with fewer entries than `limit` means you are up to
/// date; wait a little before the next poll. Each entry's `cursor` resumes right after
/// it.
#[utoipa::path(
    tag = "changes",
    security((), ("oauth2" = [])),
    params(ChangeParams),
    responses(
        (status = 200, description = "One page of changes.", body = ChangeFeed,
            headers(("Link" = String, description = "`<…>; rel=\"next\"`: where to poll next (always sent)."))),
    )
)]
#[get("/changes")]
pub async fn list_changes(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    QueryParams(params): QueryParams<ChangeParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(params.limit)?;
    let after = match params.after.as_deref() {
        None => 0,
        Some(cursor) => match pagination::decode::<FeedCursor>(cursor) {
            Ok(FeedCursor { after }) if after >= 0 => after,
            _ => {
                return Err(ApiError::InvalidParameters(vec![FieldIssue::new(
                    "after",
                    Issue::InvalidValue("not a cursor returned by this feed".into()),
                )]));
            }
        },
    };
    let feed = db::run(&pool, move |conn| {
        let reader = reader_of(&caller.principal(conn)?);
        Ok::<_, ApiError>(changes::list(conn, after, limit, &reader)?)
    })
    .await?;
    let mut data = Vec::with_capacity(feed.changes.len());
    for change in feed.changes {
        let (action, object) = match disclose(change.seen) {
            Disclosure::Omitted => continue,
            Disclosure::Tombstone => (ChangeAction::Deleted, None),
            Disclosure::Object { private } => {
                let snapshot = change.snapshot.as_deref().ok_or_else(|| {
                    ApiError::Internal(format!("change {} has no snapshot", change.seq))
                })?;
                (
                    change.seen.action,
                    Some(shown(change.object_type, snapshot, private)?),
                )
            }
        };
        data.push(ChangeView {
            seq: change.seq,
            cursor: pagination::encode(&FeedCursor { after: change.seq }),
            object_type: change.object_type,
            object_id: change.object_id.parse().map_err(|e| {
                ApiError::Internal(format!("change {}: object id: {e}", change.seq))
            })?,
            action,
            version: change.version,
            occurred_at: change.occurred_at,
            object,
        });
    }
    let next_cursor = pagination::encode(&FeedCursor { after: feed.next });
    Ok(HttpResponse::Ok()
        .insert_header((
            header::LINK,
            pagination::link_with(&req, "after", &next_cursor),
        ))
        // What a caller sees depends on its token: shared caches must not keep it.
        .insert_header(CacheControl(vec![
            CacheDirective::Private,
            CacheDirective::NoCache,
        ]))
        .insert_header((header::VARY, "Authorization"))
        .json(ChangeFeed { data, next_cursor }))
}

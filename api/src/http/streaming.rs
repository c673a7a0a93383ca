//! Streamed exports read in keyset pages: however many rows match, one page sits in
//! memory at a time, each read in a blocking task of its own when the client has taken
//! the previous one.
//!
//! The first page is read before the answer starts, so that its errors (a forbidden
//! caller, a bad filter) are still problems with their status; a failure after it can
//! only cut the body short, and is logged.

use actix_web::web::Bytes;
use futures_util::stream::{self, Stream};
use persistence::DbConnection;

use crate::db::{self, Db};
use crate::http::error::ApiError;

/// A page, rendered: its bytes, and where the next page starts (`None` after the last).
pub struct Rendered<C> {
    pub bytes: Vec<u8>,
    pub next: Option<C>,
}

enum Step<C> {
    First(Vec<u8>, Option<C>),
    Fetch(C),
    Tail,
    Done,
}

fn after<C>(next: Option<C>) -> Step<C> {
    match next {
        Some(cursor) => Step::Fetch(cursor),
        None => Step::Tail,
    }
}

/// The body: `head` and the `first` page, then the page `fetch` reads and renders from
/// each cursor in turn, then `tail`.
pub fn keyset_body<C, F>(
    pool: Db,
    mut head: Vec<u8>,
    first: Rendered<C>,
    fetch: F,
    tail: &'static [u8],
) -> impl Stream<Item = Result<Bytes, ApiError>> + use<C, F>
where
    C: Send + 'static,
    F: Fn(&mut DbConnection, C) -> Result<Rendered<C>, ApiError> + Clone + Send + 'static,
{
    head.extend_from_slice(&first.bytes);
    stream::unfold(
        (pool, fetch, Step::First(head, first.next)),
        move |(pool, fetch, step)| async move {
            match step {
                Step::First(bytes, next) => {
                    Some((Ok(Bytes::from(bytes)), (pool, fetch, after(next))))
                }
                Step::Fetch(cursor) => {
                    let read = fetch.clone();
                    match db::run(&pool, move |conn| read(conn, cursor)).await {
                        Ok(page) => {
                            let next = after(page.next);
                            Some((Ok(Bytes::from(page.bytes)), (pool, fetch, next)))
                        }
                        Err(error) => {
                            tracing::error!(error = %error, "export cut short");
                            Some((Err(error), (pool, fetch, Step::Done)))
                        }
                    }
                }
                Step::Tail => Some((Ok(Bytes::from_static(tail)), (pool, fetch, Step::Done))),
                Step::Done => None,
            }
        },
    )
}

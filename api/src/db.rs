//! Database work runs on the blocking thread pool, never on the async executor.

use persistence::{DbConnection, PersistenceError, Pool};
use tracing::Instrument;

use crate::http::error::ApiError;

pub type Db = Pool;

/// Runs `work` with a pooled connection on a blocking thread, inside the caller's span.
/// `work` fails with a `PersistenceError`, or with an `ApiError` when it checks rights
/// or rules itself (so that reading, authorizing and writing take one trip).
pub async fn run<T, E, F>(pool: &Db, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: From<PersistenceError> + Send + 'static,
    ApiError: From<E>,
    F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    actix_web::web::block(move || {
        let _entered = span.enter();
        let mut conn = pool.get().map_err(PersistenceError::from)?;
        work(&mut conn)
    })
    .in_current_span()
    .await
    .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
    .map_err(ApiError::from)
}

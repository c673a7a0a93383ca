//! Database work runs on the blocking thread pool, never on the async executor.

use persistence::{DbConnection, PersistenceError, Pool};
use tracing::Instrument;

use crate::http::error::ApiError;

pub type Db = Pool;

/// Runs `work` with a pooled connection on a blocking thread, inside the caller's span.
pub async fn run<T, F>(pool: &Db, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, PersistenceError> + Send + 'static,
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

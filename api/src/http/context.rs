//! What every part of a request's handling may need to know about the request itself:
//! its id, its path and the client's language. Set once by the observing middleware.

use crate::http::i18n::Lang;

#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: String,
    pub path: String,
    pub lang: Lang,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// Runs `future` with `context` available to [`current`].
pub async fn scope<F: Future>(context: RequestContext, future: F) -> F::Output {
    CONTEXT.scope(context, future).await
}

/// The current request's context; an empty one outside a request.
pub fn current() -> RequestContext {
    CONTEXT.try_with(Clone::clone).unwrap_or_default()
}

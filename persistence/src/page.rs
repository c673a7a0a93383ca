//! Keyset pages: fetch one row more than asked, to learn whether another page follows.

use crate::error::PersistenceError;

/// One page of items; `more` is set when another page follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub more: bool,
}

impl<T> Page<T> {
    /// Converts every item, failing on the first that does not convert.
    pub fn try_map<U, E>(self, convert: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(convert)
                .collect::<Result<_, _>>()?,
            more: self.more,
        })
    }
}

/// Runs `load` with `limit + 1` and cuts the extra row off.
pub fn fetch<R>(
    limit: i64,
    load: impl FnOnce(i64) -> Result<Vec<R>, diesel::result::Error>,
) -> Result<Page<R>, PersistenceError> {
    let mut items = load(limit + 1)?;
    let keep = usize::try_from(limit).unwrap_or(0);
    let more = items.len() > keep;
    items.truncate(keep);
    Ok(Page { items, more })
}

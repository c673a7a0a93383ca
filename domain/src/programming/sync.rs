//! Partner sync: an API client keeps its season here by its own ids ("external ids"),
//! one per performance, unique for that client only.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::text::compile;
use crate::validation::FieldProblem;

/// Longest external id, in characters (Unicode scalar values, as JSON Schema counts).
pub const EXTERNAL_ID_MAX: usize = 200;

/// Pattern of an external id: printable characters only (no C0 or C1 control character,
/// no DEL), at least one. Written with `\x` escapes, so JSON Schema, Python and Rust
/// read it alike.
pub const EXTERNAL_ID_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]+$";

/// Most items in one batch.
pub const BATCH_MAX: usize = 1_000;

static EXTERNAL_ID: LazyLock<Regex> = LazyLock::new(|| compile(EXTERNAL_ID_PATTERN));

/// A performance's id in a partner's own system: 1 to 200 printable characters, kept as
/// sent (no trimming, no case folding).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(value: &str) -> Result<Self, FieldProblem> {
        if value.is_empty() {
            return Err(FieldProblem::Required);
        }
        if value.chars().count() > EXTERNAL_ID_MAX {
            return Err(FieldProblem::TooLong {
                max: EXTERNAL_ID_MAX,
            });
        }
        if !EXTERNAL_ID.is_match(value) {
            return Err(FieldProblem::ControlCharacter);
        }
        Ok(Self(value.to_owned()))
    }
}

impl AsRef<str> for ExternalId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_enum!(
    /// What a batch item does with its external id.
    SyncAction {
        /// Create the performance, or replace it with the one given.
        Upsert = "upsert",
        Delete = "delete",
    }
);

string_enum!(
    /// What a sync write did.
    SyncResult {
        Created = "created",
        /// Replaced by what was sent.
        Updated = "updated",
        /// What was sent is what was there: nothing written (no new version, no change
        /// in the feed, no audit event).
        Unchanged = "unchanged",
        Deleted = "deleted",
        /// Refused (a batch item): its `problem` says why.
        Failed = "failed",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_external_id_is_one_to_two_hundred_printable_characters() {
        for good in [
            "1",
            "SAISON-2027/42",
            "spectacle 12 – séance de 20 h 30",
            "%2F+?#&",
            &"é".repeat(EXTERNAL_ID_MAX),
        ] {
            assert_eq!(ExternalId::parse(good).unwrap().as_ref(), good);
        }
        assert_eq!(ExternalId::parse(""), Err(FieldProblem::Required));
        assert_eq!(
            ExternalId::parse(&"x".repeat(EXTERNAL_ID_MAX + 1)),
            Err(FieldProblem::TooLong {
                max: EXTERNAL_ID_MAX
            })
        );
        for bad in ["a\0b", "tab\there", "line\n", "del\u{7f}", "c1\u{85}"] {
            assert_eq!(
                ExternalId::parse(bad),
                Err(FieldProblem::ControlCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_pattern_and_the_parser_agree() {
        let pattern = compile(EXTERNAL_ID_PATTERN);
        for value in ["a", " ", "a\u{9f}", "\u{a0}", "x\u{1f}", "日本"] {
            assert_eq!(
                pattern.is_match(value),
                ExternalId::parse(value).is_ok(),
                "{value:?}"
            );
        }
    }
}

//! Free-text fields. The rules here are the ones the OpenAPI document states as
//! patterns, so a value the contract allows is a value the server accepts.

use std::sync::LazyLock;

use regex::Regex;

use crate::validation::FieldProblem;

/// Pattern of a one-line text: no control characters, at least one visible character.
/// Written with `\x` escapes only, so JSON Schema (ECMA-262), Python and Rust read it alike.
pub const SINGLE_LINE_PATTERN: &str = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$";

/// Pattern of a text of several lines: line breaks and tabs allowed, no other control
/// character, at least one visible character (what [`multi_line`] accepts).
pub const MULTI_LINE_PATTERN: &str =
    r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$";

static SINGLE_LINE: LazyLock<Regex> = LazyLock::new(|| compile(SINGLE_LINE_PATTERN));

pub(crate) fn compile(pattern: &str) -> Regex {
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("patterns are constants checked by tests")
}

/// A one-line text of at most `max` characters (Unicode scalar values, as JSON Schema counts).
pub fn single_line(value: &str, max: usize) -> Result<String, FieldProblem> {
    if value.chars().count() > max {
        return Err(FieldProblem::TooLong { max });
    }
    if value.chars().any(|c| c <= '\u{1f}' || c == '\u{7f}') {
        return Err(FieldProblem::ControlCharacter);
    }
    if !SINGLE_LINE.is_match(value) {
        return Err(FieldProblem::Blank);
    }
    Ok(value.to_owned())
}

/// A text of several lines (line breaks and tabs allowed, no other control character)
/// of at most `max` characters, with at least one visible character.
pub fn multi_line(value: &str, max: usize) -> Result<String, FieldProblem> {
    if value.chars().count() > max {
        return Err(FieldProblem::TooLong { max });
    }
    if value
        .chars()
        .any(|c| (c <= '\u{1f}' && !matches!(c, '\n' | '\r' | '\t')) || c == '\u{7f}')
    {
        return Err(FieldProblem::ControlCharacter);
    }
    // As the contract's pattern says it: something other than ASCII blanks.
    if !value.chars().any(|c| c > ' ' && c != '\u{7f}') {
        return Err(FieldProblem::Blank);
    }
    Ok(value.to_owned())
}

/// Checks `value` against a contract pattern, with a length ceiling.
pub fn matching(
    value: &str,
    regex: &Regex,
    max: usize,
    problem: FieldProblem,
) -> Result<String, FieldProblem> {
    if value.chars().count() > max {
        return Err(FieldProblem::TooLong { max });
    }
    if regex.is_match(value) {
        Ok(value.to_owned())
    } else {
        Err(problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visible_line_is_kept_as_given() {
        assert_eq!(single_line(" Théâtre ", 10), Ok(" Théâtre ".to_owned()));
    }

    #[test]
    fn blank_and_control_characters_are_refused() {
        assert_eq!(single_line("   ", 10), Err(FieldProblem::Blank));
        assert_eq!(single_line("", 10), Err(FieldProblem::Blank));
        assert_eq!(single_line("a\nb", 10), Err(FieldProblem::ControlCharacter));
        assert_eq!(
            single_line("a\u{0}b", 10),
            Err(FieldProblem::ControlCharacter)
        );
    }

    #[test]
    fn the_multi_line_pattern_says_what_multi_line_accepts() {
        let pattern = compile(MULTI_LINE_PATTERN);
        for value in [
            "Deux dates\nen itinérance",
            "\tindenté\r\n",
            " a ",
            "",
            " \n\t",
            "a\u{0}b",
            "a\u{7f}",
            "\u{b}x",
            "é",
        ] {
            assert_eq!(
                pattern.is_match(value),
                multi_line(value, 100).is_ok(),
                "{value:?}"
            );
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(single_line("ééééé", 5).is_ok());
        assert_eq!(
            single_line("éééééé", 5),
            Err(FieldProblem::TooLong { max: 5 })
        );
    }
}

//! Licence d'entrepreneur de spectacles vivants.
//!
//! Since the 2019 reform, licences are declared on the PLATESV platform and numbered
//! `PLATESV-D-2021-001234` (D: déclaration, R: renouvellement); numbers issued in the
//! transition read `L-D-19-1172`. Older licences (before 2019) had other forms; they
//! are accepted and marked `legacy`.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::text::compile;
use crate::validation::FieldProblem;

/// Post-2019 forms.
pub const MODERN_LICENCE_PATTERN: &str =
    r"^(PLATESV-[DR]-(2019|20[2-9][0-9])-[0-9]{6}|L-[DR]-(19|[2-9][0-9])-[0-9]{1,6})$";
/// Anything a pre-2019 licence may look like: upper-case letters and digits with
/// separators, such as `2-1056789`.
pub const LEGACY_LICENCE_PATTERN: &str = r"^[A-Z0-9][A-Z0-9./-]{1,38}[A-Z0-9]$";
/// What the contract accepts: either form (the modern forms are a subset of the legacy shape).
pub const LICENCE_NUMBER_PATTERN: &str = LEGACY_LICENCE_PATTERN;

static MODERN: LazyLock<Regex> = LazyLock::new(|| compile(MODERN_LICENCE_PATTERN));
static LEGACY: LazyLock<Regex> = LazyLock::new(|| compile(LEGACY_LICENCE_PATTERN));

/// Licence categories: 1 venue operators, 2 producers and touring companies,
/// 3 presenters (diffuseurs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct LicenceCategory(u8);

impl LicenceCategory {
    pub fn new(value: i64) -> Result<Self, FieldProblem> {
        match value {
            1..=3 => Ok(Self(value as u8)),
            _ => Err(FieldProblem::LicenceCategory),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for LicenceCategory {
    type Error = FieldProblem;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(i64::from(value))
    }
}

impl From<LicenceCategory> for u8 {
    fn from(value: LicenceCategory) -> Self {
        value.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LicenceNumber {
    number: String,
    legacy: bool,
}

impl LicenceNumber {
    pub fn parse(value: &str) -> Result<Self, FieldProblem> {
        if MODERN.is_match(value) {
            Ok(Self {
                number: value.to_owned(),
                legacy: false,
            })
        } else if LEGACY.is_match(value) {
            Ok(Self {
                number: value.to_owned(),
                legacy: true,
            })
        } else {
            Err(FieldProblem::LicenceNumberFormat)
        }
    }

    /// True for numbers issued before the 2019 reform.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }
}

impl AsRef<str> for LicenceNumber {
    fn as_ref(&self) -> &str {
        &self.number
    }
}

impl fmt::Display for LicenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.number)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Licence {
    pub category: LicenceCategory,
    pub number: LicenceNumber,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn post_2019_numbers_are_not_legacy() {
        for number in [
            "PLATESV-D-2021-001234",
            "PLATESV-R-2024-000123",
            "L-D-19-1172",
            "L-R-20-001234",
        ] {
            let parsed = LicenceNumber::parse(number).unwrap();
            assert!(!parsed.is_legacy(), "{number}");
        }
    }

    #[test]
    fn older_numbers_are_kept_as_legacy() {
        for number in [
            "2-1056789",
            "1-123456",
            "PLATESV-D-2018-001234",
            "L-D-18-1172",
        ] {
            let parsed = LicenceNumber::parse(number).unwrap();
            assert!(parsed.is_legacy(), "{number}");
        }
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for number in [
            "",
            "x",
            "platesv-d-2021-001234",
            "PLATESV D 2021",
            "-123",
            "12-",
        ] {
            assert_eq!(
                LicenceNumber::parse(number),
                Err(FieldProblem::LicenceNumberFormat),
                "{number}"
            );
        }
    }

    #[test]
    fn categories_are_one_to_three() {
        assert!(LicenceCategory::new(1).is_ok());
        assert!(LicenceCategory::new(3).is_ok());
        assert_eq!(LicenceCategory::new(0), Err(FieldProblem::LicenceCategory));
        assert_eq!(LicenceCategory::new(4), Err(FieldProblem::LicenceCategory));
    }

    #[test]
    fn the_contract_pattern_is_the_union_of_both_forms() {
        let contract = compile(LICENCE_NUMBER_PATTERN);
        for number in [
            "PLATESV-D-2021-001234",
            "L-D-19-1172",
            "2-1056789",
            "nope",
            "A",
        ] {
            assert_eq!(
                contract.is_match(number),
                LicenceNumber::parse(number).is_ok(),
                "{number}"
            );
        }
    }

    proptest! {
        #[test]
        fn every_platesv_number_from_2019_parses_as_modern(kind in "[DR]", year in 2019u32..2100, serial in 0u32..1_000_000) {
            let number = format!("PLATESV-{kind}-{year}-{serial:06}");
            prop_assert!(!LicenceNumber::parse(&number).unwrap().is_legacy());
        }
    }
}

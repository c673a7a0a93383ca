//! Programmes (dispositifs d'aide): what staff define, and the references of the
//! dossiers filed under them.

use std::fmt;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::review::{CriterionInput, ReviewCriterion};
use super::rules::{Rules, RulesInput};
use crate::ids::ProgrammeId;
use crate::text::{self, compile};
use crate::validation::{FieldProblem, ValidationError};

/// Pattern of a programme code: capital letters and digits, hyphens inside.
pub const PROGRAMME_CODE_PATTERN: &str = "^[A-Z0-9]+(-[A-Z0-9]+)*$";
pub const PROGRAMME_CODE_MIN: usize = 2;
pub const PROGRAMME_CODE_MAX: usize = 20;
pub const PROGRAMME_NAME_MAX: usize = 200;
pub const PROGRAMME_DESCRIPTION_MAX: usize = 10_000;

static PROGRAMME_CODE: LazyLock<Regex> = LazyLock::new(|| compile(PROGRAMME_CODE_PATTERN));

/// The short code of a programme (`DIFF-PROX`), the first part of its dossiers'
/// references.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProgrammeCode(pub(super) String);

impl ProgrammeCode {
    pub fn parse(value: &str) -> Result<Self, FieldProblem> {
        if value.chars().count() < PROGRAMME_CODE_MIN {
            return Err(FieldProblem::ProgrammeCodeFormat);
        }
        text::matching(
            value,
            &PROGRAMME_CODE,
            PROGRAMME_CODE_MAX,
            FieldProblem::ProgrammeCodeFormat,
        )
        .map(Self)
    }
}

impl AsRef<str> for ProgrammeCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProgrammeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ProgrammeCode {
    type Error = FieldProblem;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ProgrammeCode> for String {
    fn from(value: ProgrammeCode) -> Self {
        value.0
    }
}

string_enum!(
    /// What a programme supports.
    ProgrammeKind {
        /// Aide à la diffusion: performances bought by presenters.
        Diffusion = "diffusion",
        /// Aide à la mobilité: touring outside the region.
        Mobility = "mobility",
        /// Aide à l'export: touring abroad.
        Export = "export",
        /// Coopération between structures or territories.
        Cooperation = "cooperation",
        /// Résidence de création.
        Residency = "residency",
        Other = "other",
    }
);

/// A programme as staff write it, before any check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeInput {
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    pub kind: String,
    pub published: bool,
    pub rules: RulesInput,
    /// What reviewers score its dossiers against (none by default).
    pub review_criteria: Vec<CriterionInput>,
}

/// A programme whose every field has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProgramme {
    pub code: ProgrammeCode,
    pub name: String,
    pub description: Option<String>,
    pub kind: ProgrammeKind,
    pub published: bool,
    pub rules: Rules,
    /// What reviewers score its dossiers against, in order.
    pub review_criteria: Vec<ReviewCriterion>,
}

impl NewProgramme {
    /// Checks every field, the rules' under `rules.` and the criteria's under
    /// `review_criteria[i].`, reporting all problems at once.
    pub fn parse(input: &ProgrammeInput) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let code = errors.check("code", ProgrammeCode::parse(&input.code));
        let name = errors.check("name", text::single_line(&input.name, PROGRAMME_NAME_MAX));
        let description = input.description.as_deref().and_then(|d| {
            errors.check(
                "description",
                text::multi_line(d, PROGRAMME_DESCRIPTION_MAX),
            )
        });
        let kind = errors.check("kind", ProgrammeKind::parse(&input.kind));
        let rules = match Rules::new(input.rules.clone()) {
            Ok(rules) => Some(rules),
            Err(problems) => {
                errors.errors.extend(problems.errors);
                None
            }
        };
        let review_criteria = match ReviewCriterion::parse_all(&input.review_criteria) {
            Ok(criteria) => Some(criteria),
            Err(problems) => {
                errors.errors.extend(problems.errors);
                None
            }
        };
        errors.into_result()?;
        match (code, name, kind, rules, review_criteria) {
            (Some(code), Some(name), Some(kind), Some(rules), Some(review_criteria)) => Ok(Self {
                code,
                name,
                description,
                kind,
                published: input.published,
                rules,
                review_criteria,
            }),
            _ => Err(ValidationError::single("code", FieldProblem::Required)),
        }
    }
}

/// A stored programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programme {
    pub id: ProgrammeId,
    pub data: NewProgramme,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The human-readable reference of a dossier, `{PROGRAMME}-{YEAR}-{NNNN}`
/// (`DIFF-PROX-2026-0042`): the programme's code, the year it was created in, and its
/// number in that programme and year, from 1, on at least four digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DossierReference {
    programme: ProgrammeCode,
    year: i32,
    number: u32,
}

impl DossierReference {
    /// `None` for a year outside 1000–9999 or a number of 0.
    pub fn new(programme: ProgrammeCode, year: i32, number: u32) -> Option<Self> {
        ((1000..=9999).contains(&year) && number >= 1).then_some(Self {
            programme,
            year,
            number,
        })
    }

    /// Reads a reference as [`Display`](fmt::Display) writes it.
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.rsplitn(3, '-');
        let number = parts.next()?;
        let year = parts.next()?;
        let programme = ProgrammeCode::parse(parts.next()?).ok()?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(number) || number.len() < 4 || year.len() != 4 || !digits(year) {
            return None;
        }
        let reference = Self::new(programme, year.parse().ok()?, number.parse().ok()?)?;
        // One spelling per reference: `0042`, never `00042`.
        (reference.to_string() == value).then_some(reference)
    }

    pub fn programme(&self) -> &ProgrammeCode {
        &self.programme
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn number(&self) -> u32 {
        self.number
    }
}

impl fmt::Display for DossierReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:04}", self.programme, self.year, self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programme_codes_are_capitals_digits_and_inner_hyphens() {
        for good in ["DIFF-PROX", "AD", "EXPORT2026", "A-B-C"] {
            assert_eq!(
                ProgrammeCode::parse(good).map(String::from),
                Ok(good.into())
            );
        }
        for bad in [
            "",
            "A",
            "diff",
            "DIFF_PROX",
            "-DIFF",
            "DIFF-",
            "DIFF--X",
            "É1",
        ] {
            assert_eq!(
                ProgrammeCode::parse(bad),
                Err(FieldProblem::ProgrammeCodeFormat),
                "{bad}"
            );
        }
        assert_eq!(
            ProgrammeCode::parse(&"A".repeat(PROGRAMME_CODE_MAX + 1)),
            Err(FieldProblem::TooLong {
                max: PROGRAMME_CODE_MAX
            })
        );
    }

    #[test]
    fn a_reference_reads_back_as_it_is_written() {
        let code = ProgrammeCode::parse("DIFF-PROX").unwrap();
        let reference = DossierReference::new(code.clone(), 2026, 42).unwrap();
        assert_eq!(reference.to_string(), "DIFF-PROX-2026-0042");
        assert_eq!(
            DossierReference::parse("DIFF-PROX-2026-0042"),
            Some(reference)
        );
        let big = DossierReference::new(code.clone(), 2026, 12345).unwrap();
        assert_eq!(big.to_string(), "DIFF-PROX-2026-12345");
        assert_eq!(DossierReference::parse("DIFF-PROX-2026-12345"), Some(big));
        for bad in [
            "DIFF-PROX-2026-42",
            "DIFF-PROX-2026-00042",
            "DIFF-PROX-2026-0000",
            "DIFF-PROX-26-0042",
            "diff-2026-0042",
            "2026-0042",
            "DIFF-PROX-2026-+042",
        ] {
            assert_eq!(DossierReference::parse(bad), None, "{bad}");
        }
        assert_eq!(DossierReference::new(code, 2026, 0), None);
    }

    #[test]
    fn a_programme_reports_every_bad_field_including_its_rules() {
        let mut rules = super::super::occitanie::diffusion_de_proximite()
            .rules
            .input()
            .clone();
        rules.amounts.floor_cents = Some(-1);
        let input = ProgrammeInput {
            code: "diff prox".into(),
            name: " ".into(),
            description: Some("Aide".into()),
            kind: "touring".into(),
            published: false,
            rules,
            review_criteria: vec![CriterionInput {
                key: "quality".into(),
                label: "Qualité".into(),
                max_score: 0,
                weight: None,
            }],
        };
        let error = NewProgramme::parse(&input).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "code",
                "name",
                "kind",
                "rules.amounts.floor_cents",
                "review_criteria[0].max_score"
            ]
        );
    }
}

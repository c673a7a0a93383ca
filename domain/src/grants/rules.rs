//! A programme's rules, as data: who may apply, what it funds, how much, what must be
//! attached and asked. They serialize to JSON (stored so, and sent over the API) and
//! are checked whenever they are made, deserialized included.

use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::form::{self, Question};
use crate::geography;
use crate::programming::performance::FEE_MAX;
use crate::structures::StructureKind;
use crate::validation::{FieldProblem, ValidationError};

/// Most performances a programme may ask for in one dossier.
pub const PERFORMANCES_MAX: u32 = 1000;

/// An INSEE region code (`76`: Occitanie).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(value: &str) -> Result<Self, FieldProblem> {
        geography::region_code(value).map(Self)
    }

    pub fn occitanie() -> Self {
        Self(geography::OCCITANIE.to_owned())
    }
}

impl AsRef<str> for RegionCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = FieldProblem;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RegionCode> for String {
    fn from(value: RegionCode) -> Self {
        value.0
    }
}

/// A share in basis points: 5000 is 50 %, 10000 the whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Rate(u16);

impl Rate {
    pub const MAX_BASIS_POINTS: i64 = 10_000;
    pub const HALF: Rate = Rate(5_000);
    pub const FULL: Rate = Rate(10_000);

    pub fn basis_points(value: i64) -> Result<Self, FieldProblem> {
        u16::try_from(value)
            .ok()
            .filter(|v| i64::from(*v) <= Self::MAX_BASIS_POINTS)
            .map(Self)
            .ok_or(FieldProblem::OutOfRange {
                min: 0,
                max: Self::MAX_BASIS_POINTS,
            })
    }

    pub fn as_basis_points(self) -> i64 {
        i64::from(self.0)
    }

    /// This share of `cents`, rounded down to the cent (an aid never exceeds its rate).
    pub fn of(self, cents: i64) -> i64 {
        let share = i128::from(cents.max(0)) * i128::from(self.0) / 10_000;
        i64::try_from(share).unwrap_or(i64::MAX)
    }
}

impl TryFrom<i64> for Rate {
    type Error = FieldProblem;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::basis_points(value)
    }
}

impl From<Rate> for i64 {
    fn from(value: Rate) -> Self {
        value.as_basis_points()
    }
}

/// Who may apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantRule {
    /// The structure kinds that may apply; empty: any.
    #[serde(default)]
    pub kinds: Vec<StructureKind>,
    /// The region the applicant's address must be in; `None`: anywhere.
    #[serde(default)]
    pub based_in_region: Option<RegionCode>,
}

/// A kind of place a performance may be at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "area", rename_all = "snake_case")]
pub enum PlaceRule {
    /// In France, in this region.
    InRegion { region: RegionCode },
    /// In France, outside this region.
    OutsideRegion { region: RegionCode },
    /// Outside France.
    Abroad,
}

/// What a programme funds: performances (représentations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceRule {
    /// Each performance must be at one of these kinds of place; empty: anywhere.
    #[serde(default)]
    pub places: Vec<PlaceRule>,
    /// Each performance must be in a French commune of fewer inhabitants than this
    /// (INSEE population of the reference data); a performance whose commune is not
    /// known (abroad, or a venue without an address) is then not eligible.
    #[serde(default)]
    pub commune_population_below: Option<i64>,
    #[serde(default = "one")]
    pub min_performances: u32,
    #[serde(default)]
    pub max_performances: Option<u32>,
}

fn one() -> u32 {
    1
}

impl Default for PerformanceRule {
    fn default() -> Self {
        Self {
            places: Vec::new(),
            commune_population_below: None,
            min_performances: 1,
            max_performances: None,
        }
    }
}

string_enum!(
    /// What the rate of a programme applies to.
    EligibleBase {
        /// The prix de cession of each performance (`fee_cents`), travel excluded.
        Fee = "fee",
    }
);

string_enum!(
    /// Whose yearly total a cap bounds.
    CapHolder {
        /// The presenter of the performance: its venue (lieu, diffuseur).
        Presenter = "presenter",
        /// The applicant structure.
        Applicant = "applicant",
    }
);

/// A bound on what one holder receives in a calendar year (the year of the
/// performances), counting dossiers already approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearlyCap {
    pub per: CapHolder,
    /// Most aid in cents over the year.
    #[serde(default)]
    pub amount_cents: Option<i64>,
    /// Most funded performances over the year.
    #[serde(default)]
    pub performances: Option<u32>,
}

/// How much a programme gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountRule {
    pub base: EligibleBase,
    /// The share of the base, in basis points.
    pub rate_basis_points: Rate,
    /// The minimum aid per performance: a threshold, not a top-up (see
    /// [`super::aid::compute_aid`]).
    #[serde(default)]
    pub floor_cents: Option<i64>,
    #[serde(default)]
    pub cap_per_performance_cents: Option<i64>,
    #[serde(default)]
    pub cap_per_dossier_cents: Option<i64>,
    #[serde(default)]
    pub yearly_caps: Vec<YearlyCap>,
}

string_enum!(
    /// Kinds of pièces justificatives a programme may require.
    DocumentKind {
        /// Contrat de cession.
        CessionContract = "cession_contract",
        /// Dossier artistique.
        ArtisticDossier = "artistic_dossier",
        /// Budget prévisionnel signé.
        Budget = "budget",
        /// RIB.
        BankDetails = "bank_details",
        /// Avis de situation SIRENE.
        SireneNotice = "sirene_notice",
        /// Récépissé de licence d'entrepreneur de spectacles.
        Licence = "licence",
        /// Statuts.
        Statutes = "statutes",
        /// Lettre d'engagement du lieu.
        PresenterLetter = "presenter_letter",
        /// Bilan.
        FinalReport = "final_report",
        /// Facture.
        Invoice = "invoice",
        Other = "other",
    }
);

/// The rules as they travel, before the checks that span several fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesInput {
    #[serde(default)]
    pub applicants: ApplicantRule,
    #[serde(default)]
    pub performances: PerformanceRule,
    pub amounts: AmountRule,
    /// Document kinds every dossier must attach.
    #[serde(default)]
    pub documents: Vec<DocumentKind>,
    /// Extra questions of the form, in order.
    #[serde(default)]
    pub questions: Vec<Question>,
}

/// A programme's rules, checked: amounts within bounds, floor not above the cap, no
/// duplicates, questions well formed. Deserializing checks them too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RulesInput", into = "RulesInput")]
pub struct Rules(RulesInput);

impl Rules {
    /// Checks the rules, reporting every problem under `rules.`.
    pub fn new(input: RulesInput) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        no_duplicates(
            &mut errors,
            "rules.applicants.kinds",
            &input.applicants.kinds,
        );
        let performances = &input.performances;
        no_duplicates(
            &mut errors,
            "rules.performances.places",
            &performances.places,
        );
        if let Some(below) = performances.commune_population_below {
            within(
                &mut errors,
                "rules.performances.commune_population_below",
                below,
                1,
                i64::MAX,
            );
        }
        let max_count = i64::from(PERFORMANCES_MAX);
        let min = i64::from(performances.min_performances);
        within(
            &mut errors,
            "rules.performances.min_performances",
            min,
            0,
            max_count,
        );
        if let Some(max) = performances.max_performances {
            within(
                &mut errors,
                "rules.performances.max_performances",
                i64::from(max),
                min.max(1),
                max_count,
            );
        }
        let amounts = &input.amounts;
        let cents = [
            ("floor_cents", amounts.floor_cents),
            (
                "cap_per_performance_cents",
                amounts.cap_per_performance_cents,
            ),
            ("cap_per_dossier_cents", amounts.cap_per_dossier_cents),
        ];
        for (name, value) in cents {
            if let Some(value) = value {
                within(
                    &mut errors,
                    &format!("rules.amounts.{name}"),
                    value,
                    0,
                    FEE_MAX,
                );
            }
        }
        if let (Some(floor), Some(cap)) = (amounts.floor_cents, amounts.cap_per_performance_cents)
            && floor > cap
            && cap >= 0
        {
            errors.push(
                "rules.amounts.floor_cents",
                FieldProblem::OutOfRange { min: 0, max: cap },
            );
        }
        let holders: Vec<CapHolder> = amounts.yearly_caps.iter().map(|c| c.per).collect();
        no_duplicates(&mut errors, "rules.amounts.yearly_caps", &holders);
        for (i, cap) in amounts.yearly_caps.iter().enumerate() {
            let field = format!("rules.amounts.yearly_caps[{i}]");
            match (cap.amount_cents, cap.performances) {
                (None, None) => {
                    errors.push(format!("{field}.amount_cents"), FieldProblem::Required)
                }
                (amount, count) => {
                    if let Some(amount) = amount {
                        within(
                            &mut errors,
                            &format!("{field}.amount_cents"),
                            amount,
                            0,
                            FEE_MAX,
                        );
                    }
                    if let Some(count) = count {
                        let field = format!("{field}.performances");
                        within(&mut errors, &field, i64::from(count), 1, max_count);
                    }
                }
            }
        }
        no_duplicates(&mut errors, "rules.documents", &input.documents);
        form::check_questions(&mut errors, "rules.questions", &input.questions);
        errors.into_result()?;
        Ok(Self(input))
    }

    /// Rules written in code (the schemes shipped in [`super::occitanie`]), each with a
    /// test that [`Rules::new`] accepts them.
    pub(super) fn unchecked(input: RulesInput) -> Self {
        Self(input)
    }

    /// The rules as data.
    pub fn input(&self) -> &RulesInput {
        &self.0
    }

    pub fn applicants(&self) -> &ApplicantRule {
        &self.0.applicants
    }

    pub fn performances(&self) -> &PerformanceRule {
        &self.0.performances
    }

    pub fn amounts(&self) -> &AmountRule {
        &self.0.amounts
    }

    pub fn documents(&self) -> &[DocumentKind] {
        &self.0.documents
    }

    pub fn questions(&self) -> &[Question] {
        &self.0.questions
    }
}

impl TryFrom<RulesInput> for Rules {
    type Error = ValidationError;

    fn try_from(value: RulesInput) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Rules> for RulesInput {
    fn from(value: Rules) -> Self {
        value.0
    }
}

fn within(errors: &mut ValidationError, field: &str, value: i64, min: i64, max: i64) {
    if !(min..=max).contains(&value) {
        errors.push(field, FieldProblem::OutOfRange { min, max });
    }
}

/// Marks the second and later occurrences of each value.
pub(super) fn no_duplicates<T: Eq + Hash>(errors: &mut ValidationError, field: &str, items: &[T]) {
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if !seen.insert(item) {
            errors.push(format!("{field}[{i}]"), FieldProblem::Duplicate);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rates_are_basis_points_rounded_down() {
        assert_eq!(Rate::basis_points(5000), Ok(Rate::HALF));
        assert_eq!(Rate::HALF.of(99_999), 49_999);
        assert_eq!(Rate::FULL.of(FEE_MAX), FEE_MAX);
        assert_eq!(Rate::HALF.of(-10), 0);
        for bad in [-1, 10_001, 70_000] {
            assert_eq!(
                Rate::basis_points(bad),
                Err(FieldProblem::OutOfRange {
                    min: 0,
                    max: 10_000
                })
            );
        }
    }

    #[test]
    fn rules_travel_as_json_and_are_checked_when_read() {
        let json = json!({
            "applicants": { "kinds": ["company"], "based_in_region": "76" },
            "performances": {
                "places": [{ "area": "in_region", "region": "76" }, { "area": "abroad" }],
                "commune_population_below": 15000
            },
            "amounts": { "base": "fee", "rate_basis_points": 5000, "floor_cents": 50000 },
            "documents": ["cession_contract"],
            "questions": [{ "key": "audience", "label": "Public visé", "type": "text" }]
        });
        let rules: Rules = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(rules.performances().min_performances, 1);
        assert_eq!(
            rules.applicants().based_in_region,
            Some(RegionCode::occitanie())
        );
        let back = serde_json::to_value(&rules).unwrap();
        assert_eq!(serde_json::from_value::<Rules>(back).unwrap(), rules);

        let mut bad = json;
        bad["amounts"]["cap_per_performance_cents"] = json!(10000);
        let error = serde_json::from_value::<Rules>(bad)
            .unwrap_err()
            .to_string();
        assert!(error.contains("rules.amounts.floor_cents"), "{error}");
        let region = json!({ "amounts": { "base": "fee", "rate_basis_points": 5000 },
            "applicants": { "based_in_region": "Occitanie" } });
        assert!(serde_json::from_value::<Rules>(region).is_err());
    }

    #[test]
    fn every_cross_field_problem_is_reported() {
        let input = RulesInput {
            applicants: ApplicantRule {
                kinds: vec![StructureKind::Company, StructureKind::Company],
                based_in_region: None,
            },
            performances: PerformanceRule {
                places: vec![PlaceRule::Abroad, PlaceRule::Abroad],
                commune_population_below: Some(0),
                min_performances: 3,
                max_performances: Some(2),
            },
            amounts: AmountRule {
                base: EligibleBase::Fee,
                rate_basis_points: Rate::HALF,
                floor_cents: Some(300_000),
                cap_per_performance_cents: Some(200_000),
                cap_per_dossier_cents: Some(-1),
                yearly_caps: vec![
                    YearlyCap {
                        per: CapHolder::Presenter,
                        amount_cents: None,
                        performances: None,
                    },
                    YearlyCap {
                        per: CapHolder::Presenter,
                        amount_cents: Some(1),
                        performances: Some(0),
                    },
                ],
            },
            documents: vec![DocumentKind::Budget, DocumentKind::Budget],
            questions: vec![],
        };
        let error = Rules::new(input).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "rules.applicants.kinds[1]",
                "rules.performances.places[1]",
                "rules.performances.commune_population_below",
                "rules.performances.max_performances",
                "rules.amounts.cap_per_dossier_cents",
                "rules.amounts.floor_cents",
                "rules.amounts.yearly_caps[1]",
                "rules.amounts.yearly_caps[0].amount_cents",
                "rules.amounts.yearly_caps[1].performances",
                "rules.documents[1]",
            ]
        );
    }
}

//! Structures: every organisation the agency works with (compagnie, lieu, festival,
//! réseau, collectivité…).

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

use crate::geography::Geography;
use crate::ids::StructureId;
pub mod invitation;
pub mod licence;
pub mod siret;

use crate::text::{self, compile};
use crate::validation::{FieldProblem, ValidationError};
use licence::{Licence, LicenceCategory, LicenceNumber};
use siret::Siret;

string_enum!(
    /// What kind of organisation a structure is.
    StructureKind {
        /// Compagnie, ensemble, groupe.
        Company = "company",
        /// Lieu, salle, théâtre.
        Venue = "venue",
        Festival = "festival",
        /// Réseau, fédération.
        Network = "network",
        /// Collectivité territoriale.
        LocalAuthority = "local_authority",
        Other = "other",
    }
);

string_enum!(
    /// Artistic disciplines.
    Discipline {
        /// Cirque.
        Circus = "circus",
        /// Danse.
        Dance = "dance",
        /// Musique.
        Music = "music",
        /// Théâtre.
        Theatre = "theatre",
        /// Arts de la rue.
        StreetArts = "street_arts",
        /// Marionnette.
        Puppetry = "puppetry",
        Multidisciplinary = "multidisciplinary",
        Other = "other",
    }
);

pub const NAME_MAX: usize = 200;
pub const STREET_MAX: usize = 200;
pub const CITY_MAX: usize = 100;
pub const WEBSITE_MAX: usize = 2048;
pub const EMAIL_MAX: usize = 254;
pub const PHONE_MAX: usize = 20;
pub const FOREIGN_POSTAL_CODE_MAX: usize = 16;
pub const LICENCES_MAX: usize = 6;
pub const DISCIPLINES_MAX: usize = Discipline::ALL.len();

pub const EMAIL_PATTERN: &str = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$";
pub const WEBSITE_PATTERN: &str =
    r"^https?://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?(/[^\x00-\x20\x7F]*)?$";
pub const PHONE_PATTERN: &str = r"^\+?[0-9][0-9 .-]{4,17}[0-9]$";
pub const COUNTRY_PATTERN: &str = "^[A-Z]{2}$";
pub const FRENCH_POSTAL_CODE_PATTERN: &str = "^[0-9]{5}$";
pub const COMMUNE_CODE_PATTERN: &str = "^(2[AB]|[0-9]{2})[0-9]{3}$";
pub const FRANCE: &str = "FR";

static EMAIL: LazyLock<Regex> = LazyLock::new(|| compile(EMAIL_PATTERN));
static WEBSITE: LazyLock<Regex> = LazyLock::new(|| compile(WEBSITE_PATTERN));
static PHONE: LazyLock<Regex> = LazyLock::new(|| compile(PHONE_PATTERN));
static COUNTRY: LazyLock<Regex> = LazyLock::new(|| compile(COUNTRY_PATTERN));
static FRENCH_POSTAL_CODE: LazyLock<Regex> = LazyLock::new(|| compile(FRENCH_POSTAL_CODE_PATTERN));
static COMMUNE_CODE: LazyLock<Regex> = LazyLock::new(|| compile(COMMUNE_CODE_PATTERN));

/// A structure's input as a client writes it, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StructureInput {
    pub kind: String,
    pub name: String,
    pub legal_name: Option<String>,
    pub siret: Option<String>,
    pub licences: Vec<LicenceInput>,
    pub address: Option<AddressInput>,
    pub disciplines: Vec<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LicenceInput {
    pub category: i64,
    pub number: String,
}

/// An address as a client writes it. French addresses name their commune by INSEE
/// code; the city, département and region are derived from it, never taken on trust.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressInput {
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub commune_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub street: Option<String>,
    pub postal_code: Option<String>,
    pub city: String,
    /// INSEE code of the commune (French addresses only).
    pub commune_code: Option<String>,
    pub department: Option<String>,
    pub region: Option<String>,
    pub country: String,
}

/// A structure whose every field has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStructure {
    pub kind: StructureKind,
    pub name: String,
    pub legal_name: Option<String>,
    pub siret: Option<Siret>,
    pub licences: Vec<Licence>,
    pub address: Option<Address>,
    pub disciplines: Vec<Discipline>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A stored structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Structure {
    pub id: StructureId,
    pub data: NewStructure,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A partial update (JSON merge patch): `None` leaves a field as it is,
/// `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StructurePatch {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub legal_name: Option<Option<String>>,
    pub siret: Option<Option<String>>,
    pub licences: Option<Vec<LicenceInput>>,
    pub address: Option<Option<AddressInput>>,
    pub disciplines: Option<Vec<String>>,
    pub website: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
}

impl NewStructure {
    /// Checks every field, reporting all problems at once.
    pub fn parse(
        input: &StructureInput,
        geography: &dyn Geography,
    ) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let kind = errors.check("kind", StructureKind::parse(&input.kind));
        let name = errors.check("name", text::single_line(&input.name, NAME_MAX));
        let legal_name = optional(&mut errors, "legal_name", &input.legal_name, |v| {
            text::single_line(v, NAME_MAX)
        });
        let siret = optional(&mut errors, "siret", &input.siret, Siret::parse);
        let licences = parse_licences(&mut errors, &input.licences);
        let address = match &input.address {
            Some(address) => Address::parse(&mut errors, address, geography),
            None => None,
        };
        let disciplines = parse_disciplines(&mut errors, &input.disciplines);
        let website = optional(&mut errors, "website", &input.website, |v| {
            text::matching(v, &WEBSITE, WEBSITE_MAX, FieldProblem::Website)
        });
        let email = optional(&mut errors, "email", &input.email, |v| {
            text::matching(v, &EMAIL, EMAIL_MAX, FieldProblem::Email)
        });
        let phone = optional(&mut errors, "phone", &input.phone, |v| {
            text::matching(v, &PHONE, PHONE_MAX, FieldProblem::Phone)
        });
        errors.into_result()?;
        match (kind, name) {
            (Some(kind), Some(name)) => Ok(Self {
                kind,
                name,
                legal_name,
                siret,
                licences,
                address,
                disciplines,
                website,
                email,
                phone,
            }),
            // Unreachable: a missing value always left an error behind.
            _ => Err(ValidationError::single("name", FieldProblem::Required)),
        }
    }

    /// The input that would produce this structure: the base a patch applies to.
    pub fn to_input(&self) -> StructureInput {
        StructureInput {
            kind: self.kind.as_str().to_owned(),
            name: self.name.clone(),
            legal_name: self.legal_name.clone(),
            siret: self.siret.as_ref().map(|s| s.to_string()),
            licences: self
                .licences
                .iter()
                .map(|l| LicenceInput {
                    category: i64::from(l.category.get()),
                    number: l.number.to_string(),
                })
                .collect(),
            address: self.address.as_ref().map(|a| AddressInput {
                street: a.street.clone(),
                postal_code: a.postal_code.clone(),
                commune_code: a.commune_code.clone(),
                city: if a.commune_code.is_some() {
                    None
                } else {
                    Some(a.city.clone())
                },
                country: Some(a.country.clone()),
            }),
            disciplines: self
                .disciplines
                .iter()
                .map(|d| d.as_str().to_owned())
                .collect(),
            website: self.website.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
        }
    }
}

impl NewStructure {
    /// Names of the fields that differ from `before` (every filled field for a creation),
    /// for the audit log.
    pub fn changed_fields(&self, before: Option<&NewStructure>) -> Vec<&'static str> {
        let fields: [(&'static str, bool, bool); 10] = [
            ("kind", true, before.is_none_or(|b| b.kind != self.kind)),
            ("name", true, before.is_none_or(|b| b.name != self.name)),
            (
                "legal_name",
                self.legal_name.is_some(),
                before.is_none_or(|b| b.legal_name != self.legal_name),
            ),
            (
                "siret",
                self.siret.is_some(),
                before.is_none_or(|b| b.siret != self.siret),
            ),
            (
                "licences",
                !self.licences.is_empty(),
                before.is_none_or(|b| b.licences != self.licences),
            ),
            (
                "address",
                self.address.is_some(),
                before.is_none_or(|b| b.address != self.address),
            ),
            (
                "disciplines",
                !self.disciplines.is_empty(),
                before.is_none_or(|b| b.disciplines != self.disciplines),
            ),
            (
                "website",
                self.website.is_some(),
                before.is_none_or(|b| b.website != self.website),
            ),
            (
                "email",
                self.email.is_some(),
                before.is_none_or(|b| b.email != self.email),
            ),
            (
                "phone",
                self.phone.is_some(),
                before.is_none_or(|b| b.phone != self.phone),
            ),
        ];
        fields
            .into_iter()
            // A creation names what it filled; an update names what differs.
            .filter(|(_, filled, differs)| *differs && (before.is_some() || *filled))
            .map(|(name, _, _)| name)
            .collect()
    }
}

impl StructurePatch {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Applies the patch to `current` and checks the result as a whole.
    pub fn apply(
        self,
        current: &NewStructure,
        geography: &dyn Geography,
    ) -> Result<NewStructure, ValidationError> {
        let mut input = current.to_input();
        if let Some(kind) = self.kind {
            input.kind = kind;
        }
        if let Some(name) = self.name {
            input.name = name;
        }
        if let Some(legal_name) = self.legal_name {
            input.legal_name = legal_name;
        }
        if let Some(siret) = self.siret {
            input.siret = siret;
        }
        if let Some(licences) = self.licences {
            input.licences = licences;
        }
        if let Some(address) = self.address {
            input.address = address;
        }
        if let Some(disciplines) = self.disciplines {
            input.disciplines = disciplines;
        }
        if let Some(website) = self.website {
            input.website = website;
        }
        if let Some(email) = self.email {
            input.email = email;
        }
        if let Some(phone) = self.phone {
            input.phone = phone;
        }
        NewStructure::parse(&input, geography)
    }
}

impl Address {
    fn parse(
        errors: &mut ValidationError,
        input: &AddressInput,
        geography: &dyn Geography,
    ) -> Option<Self> {
        let before = errors.errors.len();
        let street = optional(errors, "address.street", &input.street, |v| {
            text::single_line(v, STREET_MAX)
        });
        let country = match &input.country {
            Some(country) => errors.check(
                "address.country",
                text::matching(country, &COUNTRY, 2, FieldProblem::Country),
            )?,
            None => FRANCE.to_owned(),
        };
        if country == FRANCE {
            if input.city.is_some() {
                errors.push("address.city", FieldProblem::NotAllowed);
            }
            let postal_code = required(errors, "address.postal_code", &input.postal_code, |v| {
                text::matching(v, &FRENCH_POSTAL_CODE, 5, FieldProblem::PostalCodeFormat)
            });
            let commune_code = required(errors, "address.commune_code", &input.commune_code, |v| {
                text::matching(v, &COMMUNE_CODE, 5, FieldProblem::CommuneCodeFormat)
            });
            let (postal_code, commune_code) = (postal_code?, commune_code?);
            let Some(commune) = geography.commune(&commune_code) else {
                errors.push(
                    "address.commune_code",
                    FieldProblem::UnknownCommune { code: commune_code },
                );
                return None;
            };
            if !commune.postal_codes.iter().any(|code| *code == postal_code) {
                errors.push(
                    "address.postal_code",
                    FieldProblem::PostalCodeMismatch {
                        postal_code,
                        commune: commune.name.to_string(),
                        expected: commune.postal_codes.join(", "),
                    },
                );
                return None;
            }
            if errors.errors.len() > before {
                return None;
            }
            Some(Self {
                street,
                postal_code: Some(postal_code),
                city: commune.name.to_string(),
                commune_code: Some(commune_code),
                department: Some(commune.department.to_string()),
                region: Some(commune.region.to_string()),
                country,
            })
        } else {
            if input.commune_code.is_some() {
                errors.push("address.commune_code", FieldProblem::NotAllowed);
            }
            let postal_code = optional(errors, "address.postal_code", &input.postal_code, |v| {
                text::single_line(v, FOREIGN_POSTAL_CODE_MAX)
            });
            let city = required(errors, "address.city", &input.city, |v| {
                text::single_line(v, CITY_MAX)
            })?;
            if errors.errors.len() > before {
                return None;
            }
            Some(Self {
                street,
                postal_code,
                city,
                commune_code: None,
                department: None,
                region: None,
                country,
            })
        }
    }
}

fn optional<T>(
    errors: &mut ValidationError,
    field: &str,
    value: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, FieldProblem>,
) -> Option<T> {
    value.as_deref().and_then(|v| errors.check(field, parse(v)))
}

fn required<T>(
    errors: &mut ValidationError,
    field: &str,
    value: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, FieldProblem>,
) -> Option<T> {
    match value.as_deref() {
        Some(v) => errors.check(field, parse(v)),
        None => {
            errors.push(field, FieldProblem::Required);
            None
        }
    }
}

fn parse_licences(errors: &mut ValidationError, inputs: &[LicenceInput]) -> Vec<Licence> {
    if inputs.len() > LICENCES_MAX {
        errors.push("licences", FieldProblem::TooMany { max: LICENCES_MAX });
        return Vec::new();
    }
    if inputs.iter().collect::<HashSet<_>>().len() != inputs.len() {
        errors.push("licences", FieldProblem::Duplicate);
    }
    inputs
        .iter()
        .enumerate()
        .filter_map(|(i, input)| {
            let category = errors.check(
                format!("licences[{i}].category"),
                LicenceCategory::new(input.category),
            );
            let number = errors.check(
                format!("licences[{i}].number"),
                LicenceNumber::parse(&input.number),
            );
            Some(Licence {
                category: category?,
                number: number?,
            })
        })
        .collect()
}

fn parse_disciplines(errors: &mut ValidationError, inputs: &[String]) -> Vec<Discipline> {
    if inputs.len() > DISCIPLINES_MAX {
        errors.push(
            "disciplines",
            FieldProblem::TooMany {
                max: DISCIPLINES_MAX,
            },
        );
        return Vec::new();
    }
    let mut disciplines: Vec<Discipline> = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, d)| errors.check(|| format!("disciplines[{i}]"), Discipline::parse(d)))
        .collect();
    if inputs.iter().collect::<HashSet<_>>().len() != inputs.len() {
        errors.push("disciplines", FieldProblem::Duplicate);
    }
    disciplines.sort();
    disciplines
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::geography::{Commune, Department};

    struct TestGeography(HashMap<String, Commune>);

    impl Geography for TestGeography {
        fn commune(&self, insee_code: &str) -> Option<&Commune> {
            self.0.get(insee_code)
        }
        fn department(&self, _code: &str) -> Option<&Department> {
            None
        }
        fn region_exists(&self, code: &str) -> bool {
            code == "76"
        }
    }

    fn geography() -> TestGeography {
        let montpellier = Commune {
            insee_code: "34172".into(),
            name: "Montpellier".into(),
            department: "34".into(),
            region: "76".into(),
            postal_codes: vec![
                "34000".into(),
                "34070".into(),
                "34080".into(),
                "34090".into(),
            ],
            population: 302_454,
        };
        TestGeography(HashMap::from([("34172".to_owned(), montpellier)]))
    }

    fn company() -> StructureInput {
        StructureInput {
            kind: "company".into(),
            name: "Compagnie du Hasard".into(),
            siret: Some("73282932000074".into()),
            licences: vec![LicenceInput {
                category: 2,
                number: "PLATESV-D-2021-001234".into(),
            }],
            address: Some(AddressInput {
                street: Some("2 rue de la Loge".into()),
                postal_code: Some("34000".into()),
                commune_code: Some("34172".into()),
                ..Default::default()
            }),
            disciplines: vec!["theatre".into(), "circus".into()],
            email: Some("contact@hasard.example".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_company_is_accepted_with_its_derived_address() {
        let structure = NewStructure::parse(&company(), &geography()).unwrap();
        let address = structure.address.unwrap();
        assert_eq!(address.city, "Montpellier");
        assert_eq!(address.department.as_deref(), Some("34"));
        assert_eq!(address.region.as_deref(), Some("76"));
        assert_eq!(address.country, "FR");
        assert_eq!(
            structure.disciplines,
            vec![Discipline::Circus, Discipline::Theatre]
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut input = company();
        input.kind = "circus".into();
        input.name = " ".into();
        input.siret = Some("73282932000075".into());
        input.email = Some("not an email".into());
        input.disciplines = vec!["opera".into()];
        input.licences[0].category = 4;
        let error = NewStructure::parse(&input, &geography()).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "kind",
                "name",
                "siret",
                "licences[0].category",
                "disciplines[0]",
                "email"
            ]
        );
    }

    #[test]
    fn a_postal_code_must_belong_to_its_commune() {
        let mut input = company();
        input.address.as_mut().unwrap().postal_code = Some("31000".into());
        let error = NewStructure::parse(&input, &geography()).unwrap_err();
        assert_eq!(error.errors[0].field, "address.postal_code");
        assert_eq!(error.errors[0].problem.code(), "postal_code_mismatch");
    }

    #[test]
    fn an_unknown_commune_is_refused() {
        let mut input = company();
        input.address.as_mut().unwrap().commune_code = Some("34999".into());
        let error = NewStructure::parse(&input, &geography()).unwrap_err();
        assert_eq!(error.errors.len(), 1);
        assert_eq!(error.errors[0].field, "address.commune_code");
        assert_eq!(error.errors[0].problem.code(), "unknown_commune");
    }

    #[test]
    fn french_addresses_take_no_city_and_foreign_ones_need_one() {
        let mut input = company();
        input.address.as_mut().unwrap().city = Some("Paris".into());
        let error = NewStructure::parse(&input, &geography()).unwrap_err();
        assert_eq!(error.errors.len(), 1);
        assert_eq!(error.errors[0].field, "address.city");

        input.address = Some(AddressInput {
            country: Some("BE".into()),
            postal_code: Some("1000".into()),
            ..Default::default()
        });
        let error = NewStructure::parse(&input, &geography()).unwrap_err();
        assert_eq!(error.errors[0].field, "address.city");
        assert_eq!(error.errors[0].problem, FieldProblem::Required);

        input.address.as_mut().unwrap().city = Some("Bruxelles".into());
        let address = NewStructure::parse(&input, &geography())
            .unwrap()
            .address
            .unwrap();
        assert_eq!(address.department, None);
    }

    #[test]
    fn duplicates_in_sets_are_refused() {
        let mut input = company();
        input.disciplines = vec!["dance".into(), "dance".into()];
        let error = NewStructure::parse(&input, &geography()).unwrap_err();
        assert_eq!(error.errors.len(), 1);
        assert_eq!(error.errors[0].field, "disciplines");
        assert_eq!(error.errors[0].problem, FieldProblem::Duplicate);
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_is_checked_whole() {
        let current = NewStructure::parse(&company(), &geography()).unwrap();
        let patch = StructurePatch {
            name: Some("Compagnie du Hasard bis".into()),
            email: Some(None),
            ..Default::default()
        };
        let updated = patch.apply(&current, &geography()).unwrap();
        assert_eq!(updated.name, "Compagnie du Hasard bis");
        assert_eq!(updated.email, None);
        assert_eq!(updated.siret, current.siret);
        assert_eq!(updated.address, current.address);

        let bad = StructurePatch {
            phone: Some(Some("call me".into())),
            ..Default::default()
        };
        assert_eq!(
            bad.apply(&current, &geography()).unwrap_err().errors[0].field,
            "phone"
        );
    }

    #[test]
    fn changed_fields_name_what_differs() {
        let current = NewStructure::parse(&company(), &geography()).unwrap();
        let mut edited = current.clone();
        edited.email = None;
        edited.name = "Autre".into();
        assert_eq!(edited.changed_fields(Some(&current)), ["name", "email"]);
        assert!(current.changed_fields(Some(&current)).is_empty());
        let created = current.changed_fields(None);
        assert_eq!(
            created,
            [
                "kind",
                "name",
                "siret",
                "licences",
                "address",
                "disciplines",
                "email"
            ]
        );
    }

    /// Each contract pattern takes what the domain takes and refuses what it refuses:
    /// compiling alone would pass for a pattern that accepts anything.
    #[test]
    fn contract_patterns_take_good_values_and_refuse_bad_ones() {
        let cases: [(&str, &[&str], &[&str]); 6] = [
            (
                EMAIL_PATTERN,
                &["contact@theatre-sete.example", "a.b+c@d.fr"],
                &["nobody", "a@b", "a b@c.fr", "a@b..fr"],
            ),
            (
                WEBSITE_PATTERN,
                &[
                    "https://www.theatre-sete.example",
                    "http://a.fr:8080/saison?x=1",
                ],
                &["ftp://a.fr", "https://", "https://a b.fr", "www.a.fr"],
            ),
            (
                PHONE_PATTERN,
                &["+33 4 67 00 00 00", "04.67.00.00.00", "0467000000"],
                &["call me", "+33", "04 67 00 00 00 00 00 00 00"],
            ),
            (COUNTRY_PATTERN, &["FR", "ES"], &["fr", "FRA", ""]),
            (
                FRENCH_POSTAL_CODE_PATTERN,
                &["34000", "09000"],
                &["3400", "34 000", "340000"],
            ),
            (
                COMMUNE_CODE_PATTERN,
                &["34172", "2A004", "97411"],
                &["3417", "2C004", "341722"],
            ),
        ];
        for (pattern, good, bad) in cases {
            let regex = Regex::new(pattern).unwrap();
            for value in good {
                assert!(regex.is_match(value), "{pattern} refuses {value}");
            }
            for value in bad {
                assert!(!regex.is_match(value), "{pattern} takes {value}");
            }
        }
    }
}

use std::fmt;

/// What is wrong with one field. The `code` is stable and machine-readable; the API
/// turns each variant into a message in the client's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    #[error("is required")]
    Required,
    #[error("is not allowed here")]
    NotAllowed,
    #[error("must not be blank")]
    Blank,
    #[error("must not contain control characters")]
    ControlCharacter,
    #[error("must be at most {max} characters long")]
    TooLong { max: usize },
    #[error("must be one of: {allowed}")]
    NotOneOf { allowed: String },
    #[error("must be at least {min} characters long")]
    TooShort { min: usize },
    #[error("must not contain duplicates")]
    Duplicate,
    #[error("must hold at most {max} items")]
    TooMany { max: usize },
    #[error("must be exactly 14 digits")]
    SiretFormat,
    #[error("fails the SIRET checksum")]
    SiretChecksum,
    #[error("is not a licence number (PLATESV-D-2021-001234, L-R-19-1172 or a legacy number)")]
    LicenceNumberFormat,
    #[error("must be 1, 2 or 3")]
    LicenceCategory,
    #[error("is not a valid email address")]
    Email,
    #[error("must be an http or https address")]
    Website,
    #[error("is not a valid phone number")]
    Phone,
    #[error("must be an ISO 3166-1 alpha-2 country code")]
    Country,
    #[error("must be a five-digit French postal code")]
    PostalCodeFormat,
    #[error("must be an INSEE commune code")]
    CommuneCodeFormat,
    #[error("must be an INSEE département code")]
    DepartmentCodeFormat,
    #[error("must be an INSEE region code")]
    RegionCodeFormat,
    #[error("no commune has the INSEE code {code}")]
    UnknownCommune { code: String },
    #[error("postal code {postal_code} does not belong to {commune} (expected one of {expected})")]
    PostalCodeMismatch {
        postal_code: String,
        commune: String,
        expected: String,
    },
    #[error("must be between {min} and {max}")]
    OutOfRange { min: i64, max: i64 },
    #[error("must be an RFC 3339 instant with an offset (2027-03-01T20:30:00+01:00)")]
    Instant,
    #[error("must be a date (YYYY-MM-DD)")]
    Date,
    #[error("must be an IANA time zone name (Europe/Paris)")]
    TimeZone,
    #[error("give exactly one of {fields}")]
    ExactlyOne { fields: String },
    #[error("must not be before {other}")]
    BeforeOther { other: String },
    #[error("can only be given once the performance has started")]
    NotYetHeld,
    #[error("names nothing you may use")]
    UnknownReference,
    #[error("is a tour of another production")]
    OtherProduction,
    #[error("is FR: give the place's commune_code instead")]
    FranceNeedsCommune,
    #[error("names nothing you may edit")]
    NotEditable,
    /// The JSON value is of another type than the one asked (`string`, `integer`,
    /// `boolean`, `object`, `array`): the code is the one the API gives a body field of
    /// the wrong type.
    #[error("must be of type {expected}")]
    InvalidValue { expected: &'static str },
    #[error("must be 2 to 20 capital letters, digits and inner hyphens (DIFF-PROX)")]
    ProgrammeCodeFormat,
    #[error("must be 1 to 64 lower-case letters, digits and underscores, starting with a letter")]
    QuestionKeyFormat,
    #[error("must be an absolute https address without credentials")]
    WebhookUrl,
    #[error("names a loopback, private, link-local or otherwise reserved address")]
    ReservedAddress,
    #[error("must be an event type such as performance.updated or production.*")]
    EventType,
}

impl FieldProblem {
    /// Stable code sent to clients in `errors[].code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::NotAllowed => "not_allowed",
            Self::Blank => "blank",
            Self::ControlCharacter => "control_character",
            Self::TooLong { .. } => "too_long",
            Self::NotOneOf { .. } => "not_one_of",
            Self::TooShort { .. } => "too_short",
            Self::Duplicate => "duplicate",
            Self::TooMany { .. } => "too_many",
            Self::SiretFormat => "siret_format",
            Self::SiretChecksum => "siret_checksum",
            Self::LicenceNumberFormat => "licence_number_format",
            Self::LicenceCategory => "licence_category",
            Self::Email => "email",
            Self::Website => "website",
            Self::Phone => "phone",
            Self::Country => "country",
            Self::PostalCodeFormat => "postal_code_format",
            Self::CommuneCodeFormat => "commune_code_format",
            Self::DepartmentCodeFormat => "department_code_format",
            Self::RegionCodeFormat => "region_code_format",
            Self::UnknownCommune { .. } => "unknown_commune",
            Self::PostalCodeMismatch { .. } => "postal_code_mismatch",
            Self::OutOfRange { .. } => "out_of_range",
            Self::Instant => "instant_format",
            Self::Date => "date_format",
            Self::TimeZone => "time_zone",
            Self::ExactlyOne { .. } => "exactly_one",
            Self::BeforeOther { .. } => "before_other",
            Self::NotYetHeld => "not_yet_held",
            Self::UnknownReference => "unknown_reference",
            Self::OtherProduction => "other_production",
            Self::FranceNeedsCommune => "france_needs_commune",
            Self::NotEditable => "not_editable",
            Self::InvalidValue { .. } => "invalid_value",
            Self::ProgrammeCodeFormat => "programme_code_format",
            Self::QuestionKeyFormat => "question_key_format",
            Self::WebhookUrl => "webhook_url",
            Self::ReservedAddress => "reserved_address",
            Self::EventType => "event_type",
        }
    }
}

/// One bad field: a JSON path such as `address.postal_code` or `licences[1].number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: FieldProblem,
}

/// Every bad field of one input, collected so a client can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    pub errors: Vec<FieldError>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<String> = self
            .errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.problem))
            .collect();
        write!(f, "invalid input: {}", fields.join("; "))
    }
}

/// The name of a checked field: a string, or a closure that builds it (`|| format!(…)`)
/// only when there is a problem to record. Stored rows are parsed again on every read (a
/// list of 50 dossiers checks some 600 fields), and each name was formatted before its
/// check, though only an error uses it.
pub trait FieldName {
    fn into_field_name(self) -> String;
}

impl FieldName for &str {
    fn into_field_name(self) -> String {
        self.to_owned()
    }
}

impl FieldName for String {
    fn into_field_name(self) -> String {
        self
    }
}

impl<F: FnOnce() -> String> FieldName for F {
    fn into_field_name(self) -> String {
        self()
    }
}

impl ValidationError {
    pub fn single(field: impl Into<String>, problem: FieldProblem) -> Self {
        Self {
            errors: vec![FieldError {
                field: field.into(),
                problem,
            }],
        }
    }

    pub fn push(&mut self, field: impl Into<String>, problem: FieldProblem) {
        self.errors.push(FieldError {
            field: field.into(),
            problem,
        });
    }

    /// Runs a parse, keeping its value or recording its problem under `field`.
    pub fn check<T>(
        &mut self,
        field: impl FieldName,
        result: Result<T, FieldProblem>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                self.push(field.into_field_name(), problem);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn into_result(self) -> Result<(), ValidationError> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_name_is_built_only_for_a_problem() {
        let mut errors = ValidationError::default();
        let built = std::cell::Cell::new(0);
        let name = |i: usize| {
            built.set(built.get() + 1);
            format!("lines[{i}].amount")
        };
        assert_eq!(errors.check(|| name(0), Ok::<_, FieldProblem>(7)), Some(7));
        assert_eq!(built.get(), 0);
        assert_eq!(
            errors.check(|| name(1), Err::<i64, _>(FieldProblem::Required)),
            None
        );
        assert_eq!(
            errors.check("title", Err::<i64, _>(FieldProblem::Required)),
            None
        );
        assert_eq!(built.get(), 1);
        let fields: Vec<&str> = errors.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["lines[1].amount", "title"]);
    }
}

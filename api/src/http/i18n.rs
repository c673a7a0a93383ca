//! Messages in French (the default) and English, chosen by `Accept-Language`.

use actix_web::HttpRequest;
use actix_web::http::header::{AcceptLanguage, Header};
use domain::FieldProblem;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    /// The client's preferred language among those we speak; French when none fits.
    pub fn of(req: &HttpRequest) -> Self {
        let Ok(accept) = AcceptLanguage::parse(req) else {
            return Self::Fr;
        };
        for tag in accept.ranked() {
            match tag.item().map(|l| l.primary_language()) {
                Some("fr") => return Self::Fr,
                Some("en") => return Self::En,
                _ => {}
            }
        }
        Self::Fr
    }

    pub fn pick(self, fr: impl Into<String>, en: impl Into<String>) -> String {
        match self {
            Self::Fr => fr.into(),
            Self::En => en.into(),
        }
    }
}

/// The message for one field problem.
pub fn field_problem(problem: &FieldProblem, lang: Lang) -> String {
    use FieldProblem as P;
    match problem {
        P::Required => lang.pick("est obligatoire", "is required"),
        P::NotAllowed => lang.pick("n'est pas admis ici", "is not allowed here"),
        P::Blank => lang.pick("ne doit pas être vide", "must not be blank"),
        P::ControlCharacter => lang.pick(
            "ne doit pas contenir de caractères de contrôle",
            "must not contain control characters",
        ),
        P::TooLong { max } => lang.pick(
            format!("doit compter au plus {max} caractères"),
            format!("must be at most {max} characters long"),
        ),
        P::NotOneOf { allowed } => lang.pick(
            format!("doit valoir l'un de : {allowed}"),
            format!("must be one of: {allowed}"),
        ),
        P::TooShort { min } => lang.pick(
            format!("doit compter au moins {min} caractères"),
            format!("must be at least {min} characters long"),
        ),
        P::Duplicate => lang.pick("ne doit pas contenir de doublons", "must not contain duplicates"),
        P::TooMany { max } => lang.pick(
            format!("doit compter au plus {max} éléments"),
            format!("must hold at most {max} items"),
        ),
        P::SiretFormat => lang.pick("doit compter exactement 14 chiffres", "must be exactly 14 digits"),
        P::SiretChecksum => lang.pick(
            "n'est pas un SIRET valide (clé de contrôle)",
            "fails the SIRET checksum",
        ),
        P::LicenceNumberFormat => lang.pick(
            "n'est pas un numéro de licence (PLATESV-D-2021-001234, L-R-19-1172 ou ancien numéro)",
            "is not a licence number (PLATESV-D-2021-001234, L-R-19-1172 or a legacy number)",
        ),
        P::LicenceCategory => lang.pick("doit valoir 1, 2 ou 3", "must be 1, 2 or 3"),
        P::Email => lang.pick("n'est pas une adresse électronique valide", "is not a valid email address"),
        P::Website => lang.pick("doit être une adresse http ou https", "must be an http or https address"),
        P::Phone => lang.pick("n'est pas un numéro de téléphone valide", "is not a valid phone number"),
        P::Country => lang.pick(
            "doit être un code pays ISO 3166-1 alpha-2",
            "must be an ISO 3166-1 alpha-2 country code",
        ),
        P::PostalCodeFormat => lang.pick(
            "doit être un code postal français à cinq chiffres",
            "must be a five-digit French postal code",
        ),
        P::CommuneCodeFormat => lang.pick("doit être un code commune INSEE", "must be an INSEE commune code"),
        P::DepartmentCodeFormat => lang.pick(
            "doit être un code département INSEE",
            "must be an INSEE département code",
        ),
        P::RegionCodeFormat => lang.pick("doit être un code région INSEE", "must be an INSEE region code"),
        P::UnknownCommune { code } => lang.pick(
            format!("aucune commune n'a le code INSEE {code}"),
            format!("no commune has the INSEE code {code}"),
        ),
        P::PostalCodeMismatch {
            postal_code,
            commune,
            expected,
        } => lang.pick(
            format!("le code postal {postal_code} n'est pas celui de {commune} (attendu : {expected})"),
            format!("postal code {postal_code} does not belong to {commune} (expected one of {expected})"),
        ),
        P::OutOfRange { min, max } => lang.pick(
            format!("doit être compris entre {min} et {max}"),
            format!("must be between {min} and {max}"),
        ),
        P::Instant => lang.pick(
            "doit être un instant RFC 3339 avec décalage (2027-03-01T20:30:00+01:00)",
            "must be an RFC 3339 instant with an offset (2027-03-01T20:30:00+01:00)",
        ),
        P::Date => lang.pick("doit être une date (AAAA-MM-JJ)", "must be a date (YYYY-MM-DD)"),
        P::TimeZone => lang.pick(
            "doit être un nom de fuseau horaire IANA (Europe/Paris)",
            "must be an IANA time zone name (Europe/Paris)",
        ),
        P::ExactlyOne { fields } => lang.pick(
            format!("donnez exactement l'un de : {fields}"),
            format!("give exactly one of {fields}"),
        ),
        P::BeforeOther { other } => lang.pick(
            format!("ne doit pas précéder {other}"),
            format!("must not be before {other}"),
        ),
        P::NotYetHeld => lang.pick(
            "ne peut être donné qu'une fois la représentation commencée",
            "can only be given once the performance has started",
        ),
        P::UnknownReference => lang.pick(
            "ne désigne rien que vous puissiez utiliser",
            "names nothing you may use",
        ),
        P::OtherProduction => lang.pick(
            "est une tournée d'un autre spectacle",
            "is a tour of another production",
        ),
        P::FranceNeedsCommune => lang.pick(
            "vaut FR : donnez plutôt le code commune du lieu (commune_code)",
            "is FR: give the place's commune_code instead",
        ),
        P::NotEditable => lang.pick(
            "ne désigne rien que vous puissiez modifier",
            "names nothing you may edit",
        ),
        P::InvalidValue { expected } => lang.pick(
            format!("doit être de type {expected}"),
            format!("must be of type {expected}"),
        ),
        P::ProgrammeCodeFormat => lang.pick(
            "doit compter 2 à 20 majuscules, chiffres et tirets intérieurs (DIFF-PROX)",
            "must be 2 to 20 capital letters, digits and inner hyphens (DIFF-PROX)",
        ),
        P::QuestionKeyFormat => lang.pick(
            "doit compter 1 à 64 minuscules, chiffres et soulignés, en commençant par une lettre",
            "must be 1 to 64 lower-case letters, digits and underscores, starting with a letter",
        ),
        P::WebhookUrl => lang.pick(
            "doit être une adresse https absolue, sans identifiants",
            "must be an absolute https address without credentials",
        ),
        P::ReservedAddress => lang.pick(
            "désigne une adresse de bouclage, privée, lien-local ou autrement réservée",
            "names a loopback, private, link-local or otherwise reserved address",
        ),
        P::EventType => lang.pick(
            "doit être un type d'événement tel que performance.updated ou production.*",
            "must be an event type such as performance.updated or production.*",
        ),
    }
}

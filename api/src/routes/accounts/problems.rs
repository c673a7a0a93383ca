//! What can go wrong with an account.

use actix_web::http::StatusCode;

use crate::http::error::AreaProblem;
use crate::http::i18n::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountProblem {
    /// Another account has this e-mail.
    EmailTaken,
    /// An email verification token that is unknown, spent or expired.
    VerificationTokenInvalid,
}

impl AccountProblem {
    /// Every code this area answers with, for the contract.
    pub const CODES: &'static [&'static str] = &["email_taken", "verification_token_invalid"];
}

impl AreaProblem for AccountProblem {
    fn status(&self) -> StatusCode {
        match self {
            Self::EmailTaken => StatusCode::CONFLICT,
            Self::VerificationTokenInvalid => StatusCode::BAD_REQUEST,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::EmailTaken => "email_taken",
            Self::VerificationTokenInvalid => "verification_token_invalid",
        }
    }

    fn title_and_detail(&self, lang: Lang) -> (String, String) {
        match self {
            Self::EmailTaken => (
                lang.pick("Adresse déjà enregistrée", "Email already registered"),
                lang.pick(
                    "Un compte existe déjà avec cette adresse.",
                    "An account already exists with this email.",
                ),
            ),
            Self::VerificationTokenInvalid => (
                lang.pick("Lien de vérification invalide", "Invalid verification link"),
                lang.pick(
                    "Ce lien de vérification est inconnu, a déjà servi ou a expiré.",
                    "This verification link is unknown, already used or expired.",
                ),
            ),
        }
    }
}

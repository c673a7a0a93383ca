//! What can go wrong with an account.

use actix_web::http::StatusCode;

use crate::http::error::AreaProblem;
use crate::http::i18n::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountProblem {
    /// Another account has this e-mail.
    EmailTaken,
}

impl AccountProblem {
    /// Every code this area answers with, for the contract.
    pub const CODES: &'static [&'static str] = &["email_taken"];
}

impl AreaProblem for AccountProblem {
    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }

    fn code(&self) -> &'static str {
        "email_taken"
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
        }
    }
}

//! What can go wrong with grants, in the agency's words.

use actix_web::http::StatusCode;

use crate::http::error::AreaProblem;
use crate::http::i18n::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantsProblem {
    /// Another programme holds this code.
    ProgrammeCodeTaken,
}

impl GrantsProblem {
    /// Every code this area answers with, for the contract.
    pub const CODES: &'static [&'static str] = &["programme_code_taken"];
}

impl AreaProblem for GrantsProblem {
    fn status(&self) -> StatusCode {
        match self {
            Self::ProgrammeCodeTaken => StatusCode::CONFLICT,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::ProgrammeCodeTaken => "programme_code_taken",
        }
    }

    fn title_and_detail(&self, lang: Lang) -> (String, String) {
        match self {
            Self::ProgrammeCodeTaken => (
                lang.pick("Code déjà pris", "Code taken"),
                lang.pick(
                    "Un autre dispositif porte déjà ce code : choisissez-en un autre.",
                    "Another programme holds this code already: choose another.",
                ),
            ),
        }
    }
}

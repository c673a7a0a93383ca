//! What can go wrong with grants, in the agency's words.

use actix_web::http::StatusCode;

use crate::http::error::AreaProblem;
use crate::http::i18n::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantsProblem {
    /// Another programme holds this code.
    ProgrammeCodeTaken,
    /// A dossier is filed for an open call only.
    CallNotOpen,
    /// The applicant edits a dossier only while it is a draft or changes are requested.
    DossierNotEditable,
}

impl GrantsProblem {
    /// Every code this area answers with, for the contract.
    pub const CODES: &'static [&'static str] = &[
        "programme_code_taken",
        "call_not_open",
        "dossier_not_editable",
    ];
}

impl AreaProblem for GrantsProblem {
    fn status(&self) -> StatusCode {
        match self {
            Self::ProgrammeCodeTaken | Self::DossierNotEditable => StatusCode::CONFLICT,
            Self::CallNotOpen => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::ProgrammeCodeTaken => "programme_code_taken",
            Self::CallNotOpen => "call_not_open",
            Self::DossierNotEditable => "dossier_not_editable",
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
            Self::CallNotOpen => (
                lang.pick("Appel fermé", "Call not open"),
                lang.pick(
                    "Cet appel à candidatures n'est pas ouvert : un dossier se dépose pendant qu'il l'est (heure de Paris).",
                    "This call is not open: a dossier is filed while it is (Paris time).",
                ),
            ),
            Self::DossierNotEditable => (
                lang.pick("Dossier non modifiable", "Dossier not editable"),
                lang.pick(
                    "Le dossier ne se modifie qu'en brouillon ou quand des compléments sont demandés.",
                    "A dossier is edited only as a draft or when changes are requested.",
                ),
            ),
        }
    }
}

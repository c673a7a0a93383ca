//! What can go wrong with programming data, in the agency's words.

use actix_web::http::StatusCode;

use crate::http::error::AreaProblem;
use crate::http::i18n::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgrammingProblem {
    /// A production or tour that performances still point at cannot be deleted.
    HasPerformances,
    /// Asked as schema.org JSON-LD, which is for public (published) performances only.
    NotPublic,
}

impl ProgrammingProblem {
    /// Every code this area answers with, for the contract.
    pub const CODES: &'static [&'static str] = &["has_performances", "not_public"];
}

impl AreaProblem for ProgrammingProblem {
    fn status(&self) -> StatusCode {
        match self {
            Self::HasPerformances => StatusCode::CONFLICT,
            Self::NotPublic => StatusCode::NOT_ACCEPTABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::HasPerformances => "has_performances",
            Self::NotPublic => "not_public",
        }
    }

    fn title_and_detail(&self, lang: Lang) -> (String, String) {
        match self {
            Self::HasPerformances => (
                lang.pick("Représentations liées", "Performances attached"),
                lang.pick(
                    "Des représentations y sont encore rattachées : supprimez-les ou rattachez-les ailleurs d'abord.",
                    "Performances still point at it: delete them or move them elsewhere first.",
                ),
            ),
            Self::NotPublic => (
                lang.pick("Pas encore public", "Not public yet"),
                lang.pick(
                    "Le JSON-LD schema.org ne décrit que les représentations publiées : demandez application/json.",
                    "schema.org JSON-LD describes published performances only: ask for application/json.",
                ),
            ),
        }
    }
}

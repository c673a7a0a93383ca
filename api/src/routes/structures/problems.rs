//! What can go wrong with a structure, in the agency's words.

use actix_web::http::StatusCode;

use crate::http::error::AreaProblem;
use crate::http::i18n::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StructureProblem {
    /// Archived structures answer 404 by id.
    Archived,
    /// Another structure holds this SIRET; `named` when the caller may see that
    /// structure's private data, otherwise the answer does not name it.
    DuplicateSiret { existing: String, named: bool },
}

impl StructureProblem {
    /// Every code this area answers with, for the contract.
    pub const CODES: &'static [&'static str] = &["archived", "duplicate_siret"];
}

impl AreaProblem for StructureProblem {
    fn status(&self) -> StatusCode {
        match self {
            Self::Archived => StatusCode::NOT_FOUND,
            Self::DuplicateSiret { .. } => StatusCode::CONFLICT,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Archived => "archived",
            Self::DuplicateSiret { .. } => "duplicate_siret",
        }
    }

    fn title_and_detail(&self, lang: Lang) -> (String, String) {
        let pick = |fr: &str, en: &str| lang.pick(fr, en);
        match self {
            Self::Archived => (
                pick("Archivée", "Archived"),
                pick(
                    "Cette structure est archivée ; elle reste listée avec include_archived=true.",
                    "This structure is archived; it is still listed with include_archived=true.",
                ),
            ),
            Self::DuplicateSiret {
                existing,
                named: true,
            } => (
                pick("SIRET déjà enregistré", "SIRET already registered"),
                lang.pick(
                    format!("Ce SIRET est déjà celui de la structure {existing}."),
                    format!("This SIRET already belongs to structure {existing}."),
                ),
            ),
            Self::DuplicateSiret { named: false, .. } => (
                pick("SIRET déjà enregistré", "SIRET already registered"),
                pick(
                    "Ce SIRET est déjà enregistré pour une autre structure. Si vous en faites partie, demandez à ses propriétaires de vous inviter ; sinon, contactez l'agence.",
                    "This SIRET is already registered for another structure. If you belong to it, ask its owners to invite you; otherwise, contact the agency.",
                ),
            ),
        }
    }
}

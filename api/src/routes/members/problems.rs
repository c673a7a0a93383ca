//! What can go wrong with memberships and requests to join.

use actix_web::http::StatusCode;

use crate::http::error::AreaProblem;
use crate::http::i18n::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberProblem {
    /// The change would leave a structure without an owner.
    LastOwner,
    /// Already a member, or a request to join is pending.
    AlreadyMember,
}

impl MemberProblem {
    /// Every code this area answers with, for the contract.
    pub const CODES: &'static [&'static str] = &["last_owner", "already_member"];
}

impl AreaProblem for MemberProblem {
    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }

    fn code(&self) -> &'static str {
        match self {
            Self::LastOwner => "last_owner",
            Self::AlreadyMember => "already_member",
        }
    }

    fn title_and_detail(&self, lang: Lang) -> (String, String) {
        let pick = |fr: &str, en: &str| lang.pick(fr, en);
        match self {
            Self::LastOwner => (
                pick("Dernier propriétaire", "Last owner"),
                pick(
                    "Une structure garde au moins un propriétaire : nommez-en un autre d'abord.",
                    "A structure keeps at least one owner: name another one first.",
                ),
            ),
            Self::AlreadyMember => (
                pick("Déjà membre", "Already a member"),
                pick(
                    "Ce compte est déjà membre de la structure, ou sa demande est en attente.",
                    "This account is already a member of the structure, or has a pending request.",
                ),
            ),
        }
    }
}

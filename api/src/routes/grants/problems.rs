//! What can go wrong with grants, in the agency's words.

use actix_web::http::StatusCode;

use crate::http::error::{AreaProblem, FieldIssue, Issue};
use crate::http::i18n::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantsProblem {
    /// Another programme holds this code.
    ProgrammeCodeTaken,
    /// A dossier is filed for an open call only.
    CallNotOpen,
    /// The applicant edits a dossier only while it is a draft or changes are requested.
    DossierNotEditable,
    /// The state machine lets no one of the caller's side take this action.
    TransitionNotPermitted,
    /// The action is not one the dossier's state allows.
    TransitionNotFromStatus,
    FinalReportNotAccepted,
    PaymentsIncomplete,
    /// What is left of the call's envelope is less than the award.
    AwardAboveEnvelope {
        awarded: i64,
        remaining: i64,
    },
    /// The award is above the maximum the programme's rules compute.
    AwardAboveMaximum {
        awarded: i64,
        maximum: i64,
    },
    /// Payments and final reports are for approved dossiers only.
    DossierNotApproved,
    /// The payment would bring what was paid beyond the award.
    PaymentAboveAwarded {
        amount: i64,
        paid: i64,
        awarded: i64,
    },
    /// A decision whose award was paid in part stays: reopening it would unpay it.
    PaymentsRecorded,
    /// An accepted final report is final.
    FinalReportAccepted,
    /// Staff decide on a submitted final report only.
    FinalReportNotSubmitted,
    /// The content of an uploaded `file` is none of the formats a document may have.
    DocumentTypeNotAllowed,
    /// A dossier holds at most so many documents at once.
    TooManyDocuments {
        max: i64,
    },
    /// The reviewer holds a review of this dossier already.
    ReviewerAlreadyAssigned,
    /// Reviewers are assigned to, and score, submitted dossiers and those in review only.
    DossierNotReviewable,
    /// The review ended with a declared conflict of interest.
    ReviewConflicted,
    /// Only a review not yet scored, with no conflict declared, is unassigned.
    ReviewNotUnassignable,
    /// The review changed between its read and this write (a score and a conflict at the
    /// same instant): read it again.
    ReviewChanged,
}

impl GrantsProblem {
    /// Every code this area answers with, for the contract.
    pub const CODES: &'static [&'static str] = &[
        "programme_code_taken",
        "call_not_open",
        "dossier_not_editable",
        "transition_not_permitted",
        "transition_not_from_status",
        "final_report_not_accepted",
        "payments_incomplete",
        "award_above_envelope",
        "award_above_maximum",
        "dossier_not_approved",
        "payment_above_awarded",
        "payments_recorded",
        "final_report_accepted",
        "final_report_not_submitted",
        "document_type_not_allowed",
        "too_many_documents",
        "reviewer_already_assigned",
        "dossier_not_reviewable",
        "review_conflicted",
        "review_not_unassignable",
        "review_changed",
    ];
}

impl AreaProblem for GrantsProblem {
    fn status(&self) -> StatusCode {
        match self {
            Self::ProgrammeCodeTaken
            | Self::DossierNotEditable
            | Self::TransitionNotFromStatus
            | Self::FinalReportNotAccepted
            | Self::PaymentsIncomplete
            | Self::AwardAboveEnvelope { .. }
            | Self::DossierNotApproved
            | Self::PaymentAboveAwarded { .. }
            | Self::PaymentsRecorded
            | Self::FinalReportAccepted
            | Self::FinalReportNotSubmitted
            | Self::TooManyDocuments { .. }
            | Self::ReviewerAlreadyAssigned
            | Self::DossierNotReviewable
            | Self::ReviewConflicted
            | Self::ReviewNotUnassignable
            | Self::ReviewChanged => StatusCode::CONFLICT,
            Self::CallNotOpen | Self::AwardAboveMaximum { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TransitionNotPermitted => StatusCode::FORBIDDEN,
            Self::DocumentTypeNotAllowed => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::ProgrammeCodeTaken => "programme_code_taken",
            Self::CallNotOpen => "call_not_open",
            Self::DossierNotEditable => "dossier_not_editable",
            Self::TransitionNotPermitted => "transition_not_permitted",
            Self::TransitionNotFromStatus => "transition_not_from_status",
            Self::FinalReportNotAccepted => "final_report_not_accepted",
            Self::PaymentsIncomplete => "payments_incomplete",
            Self::AwardAboveEnvelope { .. } => "award_above_envelope",
            Self::AwardAboveMaximum { .. } => "award_above_maximum",
            Self::DossierNotApproved => "dossier_not_approved",
            Self::PaymentAboveAwarded { .. } => "payment_above_awarded",
            Self::PaymentsRecorded => "payments_recorded",
            Self::FinalReportAccepted => "final_report_accepted",
            Self::FinalReportNotSubmitted => "final_report_not_submitted",
            Self::DocumentTypeNotAllowed => "document_type_not_allowed",
            Self::TooManyDocuments { .. } => "too_many_documents",
            Self::ReviewerAlreadyAssigned => "reviewer_already_assigned",
            Self::DossierNotReviewable => "dossier_not_reviewable",
            Self::ReviewConflicted => "review_conflicted",
            Self::ReviewNotUnassignable => "review_not_unassignable",
            Self::ReviewChanged => "review_changed",
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
            Self::TransitionNotPermitted => (
                lang.pick("Action non permise", "Action not permitted"),
                lang.pick(
                    "Cette action sur un dossier n'est pas de votre ressort.",
                    "This action on a dossier is not yours to take.",
                ),
            ),
            Self::TransitionNotFromStatus => (
                lang.pick("État incompatible", "Wrong state"),
                lang.pick(
                    "L'état actuel du dossier ne permet pas cette action.",
                    "The dossier's current state does not allow this action.",
                ),
            ),
            Self::FinalReportNotAccepted => (
                lang.pick("Bilan non accepté", "Final report not accepted"),
                lang.pick(
                    "Le dossier se clôt une fois son bilan accepté.",
                    "A dossier is closed once its final report is accepted.",
                ),
            ),
            Self::PaymentsIncomplete => (
                lang.pick("Versements incomplets", "Payments incomplete"),
                lang.pick(
                    "Le dossier se clôt une fois tous ses versements faits.",
                    "A dossier is closed once all its payments are made.",
                ),
            ),
            Self::AwardAboveEnvelope { awarded, remaining } => (
                lang.pick("Enveloppe dépassée", "Envelope exceeded"),
                lang.pick(
                    format!("{awarded} centimes attribués : il reste {remaining} centimes dans l'enveloppe de l'appel."),
                    format!("{awarded} cents awarded: the call's envelope has {remaining} cents left."),
                ),
            ),
            Self::AwardAboveMaximum { awarded, maximum } => (
                lang.pick("Au-delà du maximum", "Above the maximum"),
                lang.pick(
                    format!("{awarded} centimes attribués : les règles du dispositif permettent au plus {maximum} centimes."),
                    format!("{awarded} cents awarded: the programme's rules allow at most {maximum} cents."),
                ),
            ),
            Self::DossierNotApproved => (
                lang.pick("Dossier non accordé", "Dossier not approved"),
                lang.pick(
                    "Versements et bilan ne concernent qu'un dossier accordé.",
                    "Payments and final reports concern an approved dossier only.",
                ),
            ),
            Self::PaymentAboveAwarded {
                amount,
                paid,
                awarded,
            } => (
                lang.pick("Au-delà de l'aide accordée", "Above the award"),
                lang.pick(
                    format!("Un versement de {amount} centimes dépasserait les {awarded} centimes accordés ({paid} centimes déjà versés)."),
                    format!("A payment of {amount} cents would go beyond the {awarded} cents awarded ({paid} cents paid already)."),
                ),
            ),
            Self::PaymentsRecorded => (
                lang.pick("Versements enregistrés", "Payments recorded"),
                lang.pick(
                    "Des versements ont été faits sur cette aide : la décision ne se rouvre plus.",
                    "Payments were made on this award: the decision can no longer be reopened.",
                ),
            ),
            Self::FinalReportAccepted => (
                lang.pick("Bilan accepté", "Final report accepted"),
                lang.pick(
                    "Le bilan a été accepté : il ne se modifie plus.",
                    "The final report was accepted: it no longer changes.",
                ),
            ),
            Self::FinalReportNotSubmitted => (
                lang.pick("Bilan non transmis", "Final report not submitted"),
                lang.pick(
                    "L'agence statue sur un bilan transmis, en attente de sa décision.",
                    "The agency decides on a submitted final report awaiting its decision.",
                ),
            ),
            Self::DocumentTypeNotAllowed => (
                lang.pick("Type de fichier refusé", "File type not allowed"),
                lang.pick(
                    "Le contenu de `file` n'est ni un PDF, ni une image PNG ou JPEG, ni un document OpenDocument (odt, ods, odp) ou Office (docx, xlsx, pptx). Le type est lu dans le contenu, pas dans le nom.",
                    "The content of `file` is not a PDF, a PNG or JPEG image, an OpenDocument (odt, ods, odp) or Office (docx, xlsx, pptx) file. The type is read from the content, not the name.",
                ),
            ),
            Self::TooManyDocuments { max } => (
                lang.pick("Trop de pièces", "Too many documents"),
                lang.pick(
                    format!("Un dossier porte au plus {max} pièces : retirez-en avant d'en ajouter."),
                    format!("A dossier holds at most {max} documents: remove some before adding more."),
                ),
            ),
            Self::ReviewerAlreadyAssigned => (
                lang.pick("Déjà désigné", "Already assigned"),
                lang.pick(
                    "Ce membre de commission évalue déjà ce dossier.",
                    "This reviewer reviews this dossier already.",
                ),
            ),
            Self::DossierNotReviewable => (
                lang.pick("Dossier hors instruction", "Dossier not under review"),
                lang.pick(
                    "Un dossier s'évalue une fois déposé et jusqu'à la décision.",
                    "A dossier is reviewed once submitted and until the decision.",
                ),
            ),
            Self::ReviewConflicted => (
                lang.pick("Conflit d'intérêts déclaré", "Conflict of interest declared"),
                lang.pick(
                    "Un conflit d'intérêts a été déclaré sur cette évaluation : elle ne change plus.",
                    "A conflict of interest was declared on this review: it changes no more.",
                ),
            ),
            Self::ReviewNotUnassignable => (
                lang.pick("Évaluation engagée", "Review under way"),
                lang.pick(
                    "Une évaluation se retire tant qu'elle n'est ni notée ni close par un conflit d'intérêts.",
                    "A review is unassigned only before it is scored or a conflict of interest declared.",
                ),
            ),
            Self::ReviewChanged => (
                lang.pick("Évaluation modifiée entre-temps", "Review changed meanwhile"),
                lang.pick(
                    "L'évaluation a changé pendant votre demande : relisez-la.",
                    "The review changed while your request ran: read it again.",
                ),
            ),
        }
    }

    fn field_issues(&self) -> Vec<FieldIssue> {
        match self {
            Self::DocumentTypeNotAllowed => vec![FieldIssue::new(
                "file",
                Issue::Rule {
                    code: "document_type_not_allowed",
                    message: "pdf, png, jpeg, odt, ods, odp, docx, xlsx, pptx".into(),
                },
            )],
            _ => Vec::new(),
        }
    }
}

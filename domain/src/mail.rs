//! Mails: the language an account reads them in, what each one says (in French and in
//! English), and when a mail that could not be sent is tried again.
//!
//! Templates are plain text and pure: they get everything they say as arguments, so
//! nothing reaches a mail that its caller did not choose to put there (never a staff
//! note, never a review).

use chrono::TimeDelta;

use crate::grants::DossierAction;
use crate::validation::FieldProblem;
use crate::webhooks::Disabling;

string_enum!(
    /// The language of the mails an account receives.
    Language {
        Fr = "fr",
        En = "en",
    }
);

// string_enum! derives a fixed list of traits: Default is written out.
#[allow(clippy::derivable_impls)]
impl Default for Language {
    fn default() -> Self {
        Self::Fr
    }
}

/// How long an email verification link works.
pub const VERIFICATION_VALIDITY: TimeDelta = TimeDelta::days(7);

/// Attempts at sending a mail before it is given up as failed.
pub const MAX_ATTEMPTS: u32 = 12;

/// No wait between two attempts is longer than this many times the first.
const LONGEST_WAIT_FACTOR: i32 = 360;

/// The wait before the next attempt at a mail that failed `attempts` times (1 or more),
/// `None` once it has had its [`MAX_ATTEMPTS`]. Exponential from `first` (doubling, up
/// to 360 times `first`), spread by `jitter` (in `[0, 1)`) over ±25 % so that mails
/// failing together are not all tried again together. With `first` a minute, the
/// attempts span about 20 hours.
pub fn retry_delay(attempts: u32, first: TimeDelta, jitter: f64) -> Option<TimeDelta> {
    if attempts == 0 || attempts >= MAX_ATTEMPTS {
        return None;
    }
    let factor = 2_i32.saturating_pow(attempts - 1).min(LONGEST_WAIT_FACTOR);
    let wait = first * factor;
    let spread = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    let millis = (wait.num_milliseconds() as f64 * spread).round() as i64;
    Some(TimeDelta::milliseconds(millis.max(1)))
}

/// What a mail is about: recorded with it, for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    EmailVerification,
    PasswordReset,
    DossierTransition,
    DossierMessage,
    DossierSubmitted,
    WebhookDisabled,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailVerification => "email_verification",
            Self::PasswordReset => "password_reset",
            Self::DossierTransition => "dossier_transition",
            Self::DossierMessage => "dossier_message",
            Self::DossierSubmitted => "dossier_submitted",
            Self::WebhookDisabled => "webhook_disabled",
        }
    }
}

/// A mail's words, before it has a recipient and a sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub kind: MailKind,
    pub subject: String,
    pub body: String,
}

/// Which dossier a mail is about, as its applicant and staff know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierLabel {
    /// `ADD-2026-0001`.
    pub reference: String,
    pub title: String,
}

const SIGNATURE_FR: &str = "\n-- \nOccitanie en scène\n";
const SIGNATURE_EN: &str = "\n-- \nOccitanie en scène\n";

fn signed(lang: Language, body: String) -> String {
    match lang {
        Language::Fr => body + SIGNATURE_FR,
        Language::En => body + SIGNATURE_EN,
    }
}

/// The link that verifies an account's email, sent at sign-up.
pub fn email_verification(lang: Language, display_name: &str, link: &str) -> Mail {
    let (subject, body) = match lang {
        Language::Fr => (
            "Confirmez votre adresse électronique".to_owned(),
            format!(
                "Bonjour {display_name},\n\nPour confirmer votre adresse électronique, ouvrez ce lien \
                 (valable 7 jours, une seule fois) :\n\n{link}\n\nSi vous n'avez pas créé de compte, \
                 ignorez ce message.\n"
            ),
        ),
        Language::En => (
            "Confirm your email address".to_owned(),
            format!(
                "Hello {display_name},\n\nTo confirm your email address, open this link \
                 (it works once, for 7 days):\n\n{link}\n\nIf you did not sign up, ignore this \
                 message.\n"
            ),
        ),
    };
    Mail {
        kind: MailKind::EmailVerification,
        subject,
        body: signed(lang, body),
    }
}

/// A password reset link, made by the agency's staff for the account's holder.
pub fn password_reset(lang: Language, display_name: &str, link: &str) -> Mail {
    let (subject, body) = match lang {
        Language::Fr => (
            "Réinitialisation de votre mot de passe".to_owned(),
            format!(
                "Bonjour {display_name},\n\nL'équipe d'Occitanie en scène a préparé la \
                 réinitialisation de votre mot de passe. Choisissez-en un nouveau avec ce lien \
                 (valable une heure, une seule fois) :\n\n{link}\n\nVos sessions en cours seront \
                 fermées.\n"
            ),
        ),
        Language::En => (
            "Resetting your password".to_owned(),
            format!(
                "Hello {display_name},\n\nThe Occitanie en scène team has prepared a reset of your \
                 password. Choose a new one with this link (it works once, for one hour):\n\n\
                 {link}\n\nYou will be signed out everywhere.\n"
            ),
        ),
    };
    Mail {
        kind: MailKind::PasswordReset,
        subject,
        body: signed(lang, body),
    }
}

fn what_happened(lang: Language, action: DossierAction) -> &'static str {
    use DossierAction as A;
    match (lang, action) {
        (Language::Fr, A::Submit) => "a été déposé",
        (Language::Fr, A::RequestChanges) => "appelle des compléments de votre part",
        (Language::Fr, A::StartReview) => "est en cours d'instruction",
        (Language::Fr, A::Approve) => "a été accepté",
        (Language::Fr, A::Reject) => "n'a pas été retenu",
        (Language::Fr, A::Withdraw) => "a été retiré",
        (Language::Fr, A::Dismiss) => "a été classé sans suite",
        (Language::Fr, A::Reopen) => "a été rouvert",
        (Language::Fr, A::Close) => "a été clôturé",
        (Language::En, A::Submit) => "has been submitted",
        (Language::En, A::RequestChanges) => "needs changes from you",
        (Language::En, A::StartReview) => "is in review",
        (Language::En, A::Approve) => "has been approved",
        (Language::En, A::Reject) => "has been rejected",
        (Language::En, A::Withdraw) => "has been withdrawn",
        (Language::En, A::Dismiss) => "has been dismissed",
        (Language::En, A::Reopen) => "has been reopened",
        (Language::En, A::Close) => "has been closed",
    }
}

/// A dossier's transition, told to the members of its applicant. `reason` is the one
/// given with the transition, which the applicant reads in the dossier's history anyway.
pub fn dossier_transition(
    lang: Language,
    dossier: &DossierLabel,
    action: DossierAction,
    reason: Option<&str>,
) -> Mail {
    let DossierLabel { reference, title } = dossier;
    let what = what_happened(lang, action);
    let (subject, mut body) = match lang {
        Language::Fr => (
            format!("Dossier {reference} : {what}"),
            format!("Bonjour,\n\nVotre dossier {reference} « {title} » {what}.\n"),
        ),
        Language::En => (
            format!("Dossier {reference} {what}"),
            format!("Hello,\n\nYour dossier {reference} \"{title}\" {what}.\n"),
        ),
    };
    if let Some(reason) = reason {
        body += &match lang {
            Language::Fr => format!("\nMotif :\n{reason}\n"),
            Language::En => format!("\nReason:\n{reason}\n"),
        };
    }
    body += match lang {
        Language::Fr => "\nSon historique est consultable avec votre compte.\n",
        Language::En => "\nIts history is there for you to read with your account.\n",
    };
    Mail {
        kind: MailKind::DossierTransition,
        subject,
        body: signed(lang, body),
    }
}

/// A message the agency wrote to the applicant of a dossier.
pub fn dossier_message(lang: Language, dossier: &DossierLabel, message: &str) -> Mail {
    let DossierLabel { reference, title } = dossier;
    let (subject, body) = match lang {
        Language::Fr => (
            format!("Dossier {reference} : nouveau message de l'agence"),
            format!(
                "Bonjour,\n\nL'agence vous a écrit au sujet de votre dossier {reference} « {title} » :\n\n\
                 {message}\n\nRépondez avec votre compte, dans les messages du dossier.\n"
            ),
        ),
        Language::En => (
            format!("Dossier {reference}: a new message from the agency"),
            format!(
                "Hello,\n\nThe agency wrote to you about your dossier {reference} \"{title}\":\n\n\
                 {message}\n\nAnswer with your account, in the dossier's messages.\n"
            ),
        ),
    };
    Mail {
        kind: MailKind::DossierMessage,
        subject,
        body: signed(lang, body),
    }
}

/// A new submission, told to the agency's staff.
pub fn dossier_submitted(lang: Language, dossier: &DossierLabel, applicant: &str) -> Mail {
    let DossierLabel { reference, title } = dossier;
    let (subject, body) = match lang {
        Language::Fr => (
            format!("Nouveau dossier déposé : {reference}"),
            format!(
                "Bonjour,\n\n{applicant} a déposé le dossier {reference} « {title} ». Il attend \
                 son instruction.\n"
            ),
        ),
        Language::En => (
            format!("New dossier submitted: {reference}"),
            format!(
                "Hello,\n\n{applicant} submitted the dossier {reference} \"{title}\". It awaits \
                 review.\n"
            ),
        ),
    };
    Mail {
        kind: MailKind::DossierSubmitted,
        subject,
        body: signed(lang, body),
    }
}

/// A webhook subscription the server disabled, told to its owner (for an API client's
/// subscription, the account that made the client): which one, why, and how to take it
/// up again.
pub fn webhook_disabled(
    lang: Language,
    display_name: &str,
    webhook_id: &str,
    url: &str,
    why: Disabling,
) -> Mail {
    let (subject, body) = match lang {
        Language::Fr => {
            let why = match why {
                Disabling::Gone => "l'adresse a répondu 410 Gone",
                Disabling::Failing => "ses livraisons échouent depuis plusieurs jours",
            };
            (
                "Votre webhook a été désactivé".to_owned(),
                format!(
                    "Bonjour {display_name},\n\nNous avons désactivé l'abonnement webhook \
                     {webhook_id}, vers {url} : {why}. Aucun événement ne lui est plus envoyé.\n\n\
                     Une fois l'adresse réparée, réactivez-le (PATCH /v1/webhooks/{webhook_id}, \
                     \"enabled\": true) ; ses livraisons échouées se rejouent une à une \
                     (GET /v1/webhooks/{webhook_id}/deliveries, puis …/replay).\n"
                ),
            )
        }
        Language::En => {
            let why = match why {
                Disabling::Gone => "the endpoint answered 410 Gone",
                Disabling::Failing => "its deliveries have failed for days",
            };
            (
                "Your webhook was disabled".to_owned(),
                format!(
                    "Hello {display_name},\n\nWe disabled the webhook subscription {webhook_id}, \
                     to {url}: {why}. No event is sent to it any more.\n\nOnce the endpoint is \
                     fixed, enable it again (PATCH /v1/webhooks/{webhook_id}, \"enabled\": true); \
                     its failed deliveries can be replayed one by one \
                     (GET /v1/webhooks/{webhook_id}/deliveries, then …/replay).\n"
                ),
            )
        }
    };
    Mail {
        kind: MailKind::WebhookDisabled,
        subject,
        body: signed(lang, body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label() -> DossierLabel {
        DossierLabel {
            reference: "ADD-2026-0001".into(),
            title: "Tournée d'hiver".into(),
        }
    }

    #[test]
    fn french_is_the_default_language_and_both_parse() {
        assert_eq!(Language::default(), Language::Fr);
        assert_eq!(Language::parse("en"), Ok(Language::En));
        assert!(Language::parse("de").is_err());
    }

    #[test]
    fn every_template_speaks_the_recipients_language() {
        let fr = email_verification(Language::Fr, "Claire", "https://x.example/v?token=T");
        let en = email_verification(Language::En, "Claire", "https://x.example/v?token=T");
        assert!(fr.subject.contains("Confirmez"), "{}", fr.subject);
        assert!(en.subject.contains("Confirm your"), "{}", en.subject);
        assert!(fr.body.contains("https://x.example/v?token=T"));
        let fr = password_reset(Language::Fr, "Claire", "L");
        let en = password_reset(Language::En, "Claire", "L");
        assert!(fr.body.contains("mot de passe") && en.body.contains("password"));
        for action in DossierAction::ALL {
            let fr = dossier_transition(Language::Fr, &label(), *action, None);
            let en = dossier_transition(Language::En, &label(), *action, None);
            assert!(fr.subject.contains("ADD-2026-0001") && en.subject.contains("ADD-2026-0001"));
            assert_ne!(fr.subject, en.subject);
            assert_eq!(fr.kind, MailKind::DossierTransition);
        }
        let fr = dossier_message(Language::Fr, &label(), "Merci d'ajouter le budget.");
        assert!(fr.body.contains("Merci d'ajouter le budget."));
        let en = dossier_submitted(Language::En, &label(), "Compagnie du Sud");
        assert!(en.body.contains("Compagnie du Sud") && en.subject.starts_with("New dossier"));
        let url = "https://hooks.example.org/oes";
        let fr = webhook_disabled(Language::Fr, "Claire", "W1", url, Disabling::Gone);
        let en = webhook_disabled(Language::En, "Claire", "W1", url, Disabling::Failing);
        assert!(
            fr.body.contains(url) && fr.body.contains("410 Gone"),
            "{}",
            fr.body
        );
        assert!(en.body.contains("failed for days") && en.body.contains("/v1/webhooks/W1"));
        assert_eq!(en.kind, MailKind::WebhookDisabled);
    }

    #[test]
    fn a_reason_is_told_only_when_given() {
        let with = dossier_transition(
            Language::En,
            &label(),
            DossierAction::RequestChanges,
            Some("Budget to detail"),
        );
        assert!(with.body.contains("Reason:\nBudget to detail"));
        let without = dossier_transition(Language::En, &label(), DossierAction::Approve, None);
        assert!(!without.body.contains("Reason"));
    }

    #[test]
    fn retries_double_with_jitter_and_stop_after_about_a_day() {
        let minute = TimeDelta::minutes(1);
        assert_eq!(retry_delay(1, minute, 0.5), Some(minute));
        assert_eq!(retry_delay(2, minute, 0.5), Some(minute * 2));
        assert_eq!(retry_delay(1, minute, 0.0), Some(TimeDelta::seconds(45)));
        assert_eq!(retry_delay(1, minute, 1.0), Some(TimeDelta::seconds(75)));
        assert_eq!(retry_delay(11, minute, 0.5), Some(minute * 360));
        assert_eq!(retry_delay(0, minute, 0.5), None);
        assert_eq!(retry_delay(MAX_ATTEMPTS, minute, 0.5), None);
        let total: TimeDelta = (1..MAX_ATTEMPTS)
            .filter_map(|n| retry_delay(n, minute, 0.5))
            .sum();
        assert!(
            total > TimeDelta::hours(16) && total < TimeDelta::hours(30),
            "{total}"
        );
    }
}

//! Mail: what the API mails and to whom, enqueued in the transaction of the write that
//! causes it ([`Mailer`]), and the worker that sends the outbox ([`worker`]).
//!
//! The words are the domain's (`domain::mail`); this module picks the recipients, makes
//! the links, and seals each body with the server's key before it is stored, so that a
//! token link never lies in clear in the database.

pub mod worker;

use domain::DossierId;
use domain::access::{Account, MembershipRole};
use domain::grants::{Dossier, DossierAction};
use domain::mail::{self, DossierLabel, Language, Mail};
use persistence::DbConnection;
use persistence::mail::{NewMail, Recipient};
use secrecy::{ExposeSecret, SecretString};

use crate::config::Settings;
use crate::crypto::SealingKey;
use crate::http::error::ApiError;

/// What handlers need to enqueue mails: the sealing key and the base of links.
#[derive(Debug, Clone)]
pub struct Mailer {
    key: SealingKey,
    public_url: String,
}

impl Mailer {
    pub fn new(key: SealingKey, settings: &Settings) -> Self {
        Self {
            key,
            public_url: settings.public_url.trim_end_matches('/').to_owned(),
        }
    }

    pub fn key(&self) -> &SealingKey {
        &self.key
    }

    /// `{OES_PUBLIC_URL}/{page}?token=…`.
    fn link(&self, page: &str, token: &SecretString) -> String {
        format!("{}/{page}?token={}", self.public_url, token.expose_secret())
    }

    /// Seals `mail` and adds it to the outbox for each recipient, in the caller's
    /// transaction.
    fn enqueue(
        &self,
        conn: &mut DbConnection,
        recipients: &[Recipient],
        words: impl Fn(Language) -> Mail,
    ) -> Result<(), ApiError> {
        let mails = recipients
            .iter()
            .map(|recipient| {
                let mail = words(recipient.language);
                let id = uuid::Uuid::now_v7().to_string();
                let sealed_body = self
                    .key
                    .seal(mail.body.as_bytes(), id.as_bytes())
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                Ok(NewMail {
                    id,
                    kind: mail.kind.as_str(),
                    recipient: recipient.email.clone(),
                    subject: mail.subject,
                    sealed_body,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        persistence::mail::enqueue(conn, mails)?;
        Ok(())
    }

    /// Makes a verification token for `account`, stores its hash and mails the link;
    /// in the sign-up's transaction.
    pub fn email_verification(
        &self,
        conn: &mut DbConnection,
        account: &Account,
    ) -> Result<(), ApiError> {
        let token = crate::auth::secrets::random_secret();
        let expires_at = persistence::clock::storable_now() + mail::VERIFICATION_VALIDITY;
        persistence::mail::create_email_verification(
            conn,
            account.id,
            &crate::auth::secrets::lookup_hash(&token),
            expires_at,
        )?;
        let link = self.link("email-verification", &token);
        self.enqueue(conn, &[recipient_of(account)], |lang| {
            mail::email_verification(lang, &account.display_name, &link)
        })
    }

    /// Mails a password reset link to the account's holder, in the transaction that
    /// stores the token.
    pub fn password_reset(
        &self,
        conn: &mut DbConnection,
        account: &Account,
        token: &SecretString,
    ) -> Result<(), ApiError> {
        let link = self.link("password-reset", token);
        self.enqueue(conn, &[recipient_of(account)], |lang| {
            mail::password_reset(lang, &account.display_name, &link)
        })
    }

    /// Tells a dossier's transition to its applicant's owners and editors, and a
    /// submission to the agency's staff too; in the transition's transaction. Only what
    /// the applicant reads anyway goes in: the dossier's reference and title, what
    /// happened, the reason given.
    pub fn dossier_transition(
        &self,
        conn: &mut DbConnection,
        dossier: &Dossier,
        action: DossierAction,
        reason: Option<&str>,
    ) -> Result<(), ApiError> {
        let label = label_of(dossier);
        let members = applicant_members(conn, dossier)?;
        self.enqueue(conn, &members, |lang| {
            mail::dossier_transition(lang, &label, action, reason)
        })?;
        if action == DossierAction::Submit {
            let applicant = persistence::structures::find(conn, dossier.applicant_id)?
                .data
                .name;
            let staff = persistence::mail::agency_staff(conn)?;
            self.enqueue(conn, &staff, |lang| {
                mail::dossier_submitted(lang, &label, &applicant)
            })?;
        }
        Ok(())
    }

    /// Forwards a message the agency wrote on a dossier to its applicant's owners and
    /// editors, in the message's transaction. Messages from the applicant's side are not
    /// mailed.
    pub fn dossier_message(
        &self,
        conn: &mut DbConnection,
        dossier: DossierId,
        text: &str,
    ) -> Result<(), ApiError> {
        let dossier = persistence::grants::dossiers::find(conn, dossier)?;
        let label = label_of(&dossier);
        let members = applicant_members(conn, &dossier)?;
        self.enqueue(conn, &members, |lang| {
            mail::dossier_message(lang, &label, text)
        })
    }

    /// Tells the owner of a subscription the server disabled why, in the transaction
    /// that disables it. Nobody is mailed when that owner is no longer active.
    pub fn webhook_disabled(
        &self,
        conn: &mut DbConnection,
        webhook: &persistence::webhooks::Webhook,
        why: domain::webhooks::Disabling,
    ) -> Result<(), ApiError> {
        let Some(owner) = persistence::mail::webhook_owner(conn, &webhook.owner)? else {
            return Ok(());
        };
        let id = webhook.id.to_string();
        self.enqueue(conn, std::slice::from_ref(&owner), |lang| {
            mail::webhook_disabled(lang, &owner.display_name, &id, &webhook.url, why)
        })
    }
}

fn recipient_of(account: &Account) -> Recipient {
    Recipient {
        email: account.email.as_ref().to_owned(),
        display_name: account.display_name.clone(),
        language: account.language,
    }
}

fn label_of(dossier: &Dossier) -> DossierLabel {
    DossierLabel {
        reference: dossier.reference.to_string(),
        title: dossier.content.title.clone(),
    }
}

/// Those who file for the applicant: its owners and editors.
fn applicant_members(
    conn: &mut DbConnection,
    dossier: &Dossier,
) -> Result<Vec<Recipient>, ApiError> {
    Ok(persistence::mail::structure_members(
        conn,
        dossier.applicant_id,
        &[MembershipRole::Owner, MembershipRole::Editor],
    )?)
}

//! Mail: the outbox, who receives what, and email verification tokens.
//!
//! A mail is enqueued in the transaction of the write that causes it ([`enqueue`] takes
//! the caller's connection and opens no transaction of its own): a rolled-back write
//! sends nothing, a committed one is sent at least once. Workers [`claim`] due mails
//! under a lease (`claimed_until`), send them outside any transaction, then record the
//! outcome; a worker killed mid-send leaves a lease that expires, and the mail is
//! claimed again. On PostgreSQL the claim locks the rows it picks with `FOR UPDATE SKIP
//! LOCKED`, so several instances claim different mails at once; on SQLite the claim is
//! one `BEGIN IMMEDIATE` transaction, which writers take one at a time.
//!
//! Bodies are stored sealed by the caller (the API's key): nothing here reads them.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use domain::access::{AccountId, AccountStatus, AgencyRole, MembershipRole};
use domain::mail::Language;

use crate::clock::storable_now;
use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::schema::{accounts, api_clients, email_verifications, mail_outbox, memberships};
use crate::webhooks::Owner;

const PENDING: &str = "pending";
const SENT: &str = "sent";
const FAILED: &str = "failed";

/// A mail to send, its body already sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// UUIDv7, made by the caller: the sealed body is bound to it.
    pub id: String,
    pub kind: &'static str,
    pub recipient: String,
    pub subject: String,
    pub sealed_body: Vec<u8>,
}

#[derive(Insertable)]
#[diesel(table_name = mail_outbox)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct NewMailRow {
    id: String,
    kind: &'static str,
    recipient: String,
    subject: String,
    body: Vec<u8>,
    status: &'static str,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    claimed_until: Option<NaiveDateTime>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    sent_at: Option<NaiveDateTime>,
}

/// Adds mails to the outbox, in the caller's transaction.
pub fn enqueue(conn: &mut DbConnection, mails: Vec<NewMail>) -> Result<(), PersistenceError> {
    let now = storable_now().naive_utc();
    for mail in mails {
        diesel::insert_into(mail_outbox::table)
            .values(NewMailRow {
                id: mail.id,
                kind: mail.kind,
                recipient: mail.recipient,
                subject: mail.subject,
                body: mail.sealed_body,
                status: PENDING,
                attempts: 0,
                next_attempt_at: now,
                claimed_until: None,
                last_error: None,
                created_at: now,
                sent_at: None,
            })
            .execute(conn)?;
    }
    Ok(())
}

/// A mail a worker holds until its lease ends.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct ClaimedMail {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    #[diesel(column_name = body)]
    pub sealed_body: Vec<u8>,
    /// Attempts, this one included.
    pub attempts: i32,
}

/// Whether any mail is due: a plain read, so that an idle worker takes no write lock.
pub fn any_due(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<bool, PersistenceError> {
    let at = now.naive_utc();
    Ok(diesel::select(diesel::dsl::exists(
        mail_outbox::table
            .filter(mail_outbox::status.eq(PENDING))
            .filter(mail_outbox::next_attempt_at.le(at))
            .filter(
                mail_outbox::claimed_until
                    .is_null()
                    .or(mail_outbox::claimed_until.le(at)),
            ),
    ))
    .get_result(conn)?)
}

/// Claims up to `limit` due mails for `lease`, oldest due first: no other worker
/// claims them until the lease ends (or the mail is settled). Each claim counts as an
/// attempt, so that a mail whose sending kills its worker is given up in the end.
pub fn claim(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    lease: TimeDelta,
    limit: i64,
) -> Result<Vec<ClaimedMail>, PersistenceError> {
    let at = now.naive_utc();
    let until = (now + lease).naive_utc();
    write_transaction(conn, |conn| {
        let due = mail_outbox::table
            .filter(mail_outbox::status.eq(PENDING))
            .filter(mail_outbox::next_attempt_at.le(at))
            .filter(
                mail_outbox::claimed_until
                    .is_null()
                    .or(mail_outbox::claimed_until.le(at)),
            )
            .order((mail_outbox::next_attempt_at, mail_outbox::id))
            .limit(limit)
            .select(mail_outbox::id);
        let ids: Vec<String> = match conn {
            // Rows another instance is claiming are skipped, not waited for.
            DbConnection::Postgres(c) => due.for_update().skip_locked().load(c)?,
            // Writers are serialized by BEGIN IMMEDIATE: nobody else is claiming.
            DbConnection::Sqlite(c) => due.load(c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(&ids)))
            .set((
                mail_outbox::claimed_until.eq(Some(until)),
                mail_outbox::attempts.eq(mail_outbox::attempts + 1),
            ))
            .execute(conn)?;
        Ok(mail_outbox::table
            .filter(mail_outbox::id.eq_any(&ids))
            .order((mail_outbox::next_attempt_at, mail_outbox::id))
            .select(ClaimedMail::as_select())
            .load(conn)?)
    })
}

/// The mail went out.
pub fn mark_sent(conn: &mut DbConnection, id: &str) -> Result<(), PersistenceError> {
    let now = storable_now().naive_utc();
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq(SENT),
            mail_outbox::sent_at.eq(Some(now)),
            mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sending failed for now: tried again at `at`.
pub fn retry_at(
    conn: &mut DbConnection,
    id: &str,
    at: DateTime<Utc>,
    error: &str,
) -> Result<(), PersistenceError> {
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::next_attempt_at.eq(at.naive_utc()),
            mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
            mail_outbox::last_error.eq(Some(truncated(error))),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sending failed for good (refused by the server, or out of attempts).
pub fn mark_failed(conn: &mut DbConnection, id: &str, error: &str) -> Result<(), PersistenceError> {
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq(FAILED),
            mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
            mail_outbox::last_error.eq(Some(truncated(error))),
        ))
        .execute(conn)?;
    Ok(())
}

fn truncated(error: &str) -> String {
    error.chars().take(500).collect()
}

/// Deletes the mails sent before `before`: the outbox keeps addresses, not an archive.
pub fn purge_sent(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
) -> Result<usize, PersistenceError> {
    Ok(diesel::delete(
        mail_outbox::table
            .filter(mail_outbox::status.eq(SENT))
            .filter(mail_outbox::sent_at.lt(before.naive_utc())),
    )
    .execute(conn)?)
}

/// What an erased account leaves in the outbox and its verification tokens: nothing.
/// In the caller's transaction.
pub fn forget(
    conn: &mut DbConnection,
    account: AccountId,
    email: &str,
) -> Result<(), PersistenceError> {
    diesel::delete(mail_outbox::table.filter(mail_outbox::recipient.eq(email))).execute(conn)?;
    diesel::delete(
        email_verifications::table.filter(email_verifications::account_id.eq(account.to_string())),
    )
    .execute(conn)?;
    Ok(())
}

/// Who receives a mail, in their language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: String,
    pub display_name: String,
    pub language: Language,
}

#[derive(Queryable)]
struct RecipientRow {
    email: String,
    display_name: String,
    language: String,
}

impl TryFrom<RecipientRow> for Recipient {
    type Error = PersistenceError;

    fn try_from(row: RecipientRow) -> Result<Self, Self::Error> {
        Ok(Self {
            language: Language::parse(&row.language)
                .map_err(|e| PersistenceError::Corrupt(format!("account language: {e}")))?,
            email: row.email,
            display_name: row.display_name,
        })
    }
}

/// The active members of a structure who hold one of `roles`.
pub fn structure_members(
    conn: &mut DbConnection,
    structure: domain::StructureId,
    roles: &[MembershipRole],
) -> Result<Vec<Recipient>, PersistenceError> {
    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    memberships::table
        .inner_join(accounts::table)
        .filter(memberships::structure_id.eq(structure.to_string()))
        .filter(memberships::role.eq_any(roles))
        .filter(accounts::status.eq(AccountStatus::Active.as_str()))
        .order(accounts::id)
        .select((accounts::email, accounts::display_name, accounts::language))
        .load::<RecipientRow>(conn)?
        .into_iter()
        .map(Recipient::try_from)
        .collect()
}

/// Who answers for a webhook subscription: the account that made it, or, for an API
/// client's, the account that made the client; `None` when that account is no longer
/// active (or the client is gone).
pub fn webhook_owner(
    conn: &mut DbConnection,
    owner: &Owner,
) -> Result<Option<Recipient>, PersistenceError> {
    let account = match owner {
        Owner::Account(id) => id.to_string(),
        Owner::Client(id) => match api_clients::table
            .find(id.to_string())
            .select(api_clients::created_by)
            .first::<String>(conn)
            .optional()?
        {
            Some(maker) => maker,
            None => return Ok(None),
        },
    };
    accounts::table
        .find(account)
        .filter(accounts::status.eq(AccountStatus::Active.as_str()))
        .select((accounts::email, accounts::display_name, accounts::language))
        .first::<RecipientRow>(conn)
        .optional()?
        .map(Recipient::try_from)
        .transpose()
}

/// The agency's active staff and administrators.
pub fn agency_staff(conn: &mut DbConnection) -> Result<Vec<Recipient>, PersistenceError> {
    accounts::table
        .filter(
            accounts::agency_role.eq_any([AgencyRole::Staff.as_str(), AgencyRole::Admin.as_str()]),
        )
        .filter(accounts::status.eq(AccountStatus::Active.as_str()))
        .order(accounts::id)
        .select((accounts::email, accounts::display_name, accounts::language))
        .load::<RecipientRow>(conn)?
        .into_iter()
        .map(Recipient::try_from)
        .collect()
}

/// Stores an email verification token by its hash, in the caller's transaction.
pub fn create_email_verification(
    conn: &mut DbConnection,
    account: AccountId,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    diesel::insert_into(email_verifications::table)
        .values((
            email_verifications::token_hash.eq(token_hash),
            email_verifications::account_id.eq(account.to_string()),
            email_verifications::expires_at.eq(expires_at.naive_utc()),
            email_verifications::created_at.eq(storable_now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Spends a verification token and marks its account's email verified; `None` for an
/// unknown, spent or expired token.
///
/// The token is spent by one conditional update, so of simultaneous presentations
/// exactly one succeeds: on PostgreSQL the others wait on the winner's row lock and then
/// find it spent; on SQLite writers are serialized by `BEGIN IMMEDIATE`.
pub fn verify_email(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<AccountId>, PersistenceError> {
    let now = storable_now().naive_utc();
    write_transaction(conn, |conn| {
        let spent = diesel::update(
            email_verifications::table
                .find(token_hash)
                .filter(email_verifications::used_at.is_null())
                .filter(email_verifications::expires_at.gt(now)),
        )
        .set(email_verifications::used_at.eq(Some(now)))
        .execute(conn)?;
        if spent == 0 {
            return Ok(None);
        }
        let account: String = email_verifications::table
            .find(token_hash)
            .select(email_verifications::account_id)
            .first(conn)?;
        diesel::update(
            accounts::table
                .find(&account)
                .filter(accounts::email_verified_at.is_null()),
        )
        .set((
            accounts::email_verified_at.eq(Some(now)),
            accounts::updated_at.eq(now),
            accounts::version.eq(accounts::version + 1),
        ))
        .execute(conn)?;
        account
            .parse()
            .map(Some)
            .map_err(|e| PersistenceError::Corrupt(format!("email verification account: {e}")))
    })
}

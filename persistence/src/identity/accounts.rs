//! Accounts: who signs in, their status and agency role, their personal data.

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use domain::StructureId;
use domain::access::{
    Account, AccountId, AccountStatus, AgencyRole, Email, MembershipRole, NewAccount,
};

use crate::clock::storable_now;
use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::page::{self, Page};
use crate::schema::{accounts, join_requests, memberships, refresh_tokens};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct AccountRow {
    id: String,
    email: String,
    email_normalized: String,
    display_name: String,
    password_hash: String,
    status: String,
    agency_role: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
    session_epoch: i64,
    language: String,
    email_verified_at: Option<NaiveDateTime>,
}

fn corrupt(id: &str, detail: impl std::fmt::Display) -> PersistenceError {
    PersistenceError::Corrupt(format!("account {id}: {detail}"))
}

impl AccountRow {
    fn into_account(self) -> Result<(Account, String), PersistenceError> {
        let id = self.id.clone();
        let account = Account {
            id: self.id.parse().map_err(|e| corrupt(&id, e))?,
            email: Email::parse(&self.email).map_err(|e| corrupt(&id, e))?,
            display_name: self.display_name,
            status: AccountStatus::parse(&self.status).map_err(|e| corrupt(&id, e))?,
            agency_role: self
                .agency_role
                .as_deref()
                .map(AgencyRole::parse)
                .transpose()
                .map_err(|e| corrupt(&id, e))?,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            version: self.version,
            session_epoch: self.session_epoch,
            language: domain::mail::Language::parse(&self.language).map_err(|e| corrupt(&id, e))?,
            email_verified_at: self.email_verified_at.map(|at| at.and_utc()),
        };
        Ok((account, self.password_hash))
    }
}

/// Stores a new account; a taken email is a `Conflict`.
pub fn create(
    conn: &mut DbConnection,
    new: NewAccount,
    password_hash: String,
    agency_role: Option<AgencyRole>,
) -> Result<Account, PersistenceError> {
    let now = storable_now();
    let row = AccountRow {
        id: AccountId::generate().to_string(),
        email: new.email.as_ref().to_owned(),
        email_normalized: new.email.normalized(),
        display_name: new.display_name,
        password_hash,
        status: AccountStatus::Active.as_str().to_owned(),
        agency_role: agency_role.map(|r| r.as_str().to_owned()),
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
        version: 1,
        session_epoch: 0,
        language: new.language.as_str().to_owned(),
        email_verified_at: None,
    };
    diesel::insert_into(accounts::table)
        .values(&row)
        .execute(conn)?;
    Ok(row.into_account()?.0)
}

/// An account and its password hash, by email (case-insensitive).
pub fn find_by_email(
    conn: &mut DbConnection,
    email: &str,
) -> Result<(Account, String), PersistenceError> {
    accounts::table
        .filter(accounts::email_normalized.eq(email.to_lowercase()))
        .select(AccountRow::as_select())
        .first(conn)?
        .into_account()
}

pub fn find(conn: &mut DbConnection, id: AccountId) -> Result<Account, PersistenceError> {
    Ok(accounts::table
        .find(id.to_string())
        .select(AccountRow::as_select())
        .first(conn)?
        .into_account()?
        .0)
}

/// What a signed-in request needs to know of its account: status, agency role and
/// session epoch (no password hash, no personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountStanding {
    pub status: AccountStatus,
    pub agency_role: Option<AgencyRole>,
    pub session_epoch: i64,
}

/// An object read in the same query as its reader's standing: `None` when the account
/// does not exist, else its standing and the object when that exists.
pub type WithStanding<T> = Option<(AccountStanding, Option<T>)>;

/// The columns of an [`AccountStanding`], to be read beside an object in the same query
/// (see [`into_standing`]).
pub(crate) type StandingColumns = (
    accounts::status,
    accounts::agency_role,
    accounts::session_epoch,
);

pub(crate) const STANDING_COLUMNS: StandingColumns = (
    accounts::status,
    accounts::agency_role,
    accounts::session_epoch,
);

/// An account's standing as read from its columns.
pub(crate) type StandingRow = (String, Option<String>, i64);

pub(crate) fn into_standing(
    id: AccountId,
    (status, agency_role, session_epoch): StandingRow,
) -> Result<AccountStanding, PersistenceError> {
    let key = || id.to_string();
    Ok(AccountStanding {
        status: AccountStatus::parse(&status).map_err(|e| corrupt(&key(), e))?,
        agency_role: agency_role
            .as_deref()
            .map(AgencyRole::parse)
            .transpose()
            .map_err(|e| corrupt(&key(), e))?,
        session_epoch,
    })
}

/// An account's standing, read by primary key.
pub fn standing(
    conn: &mut DbConnection,
    id: AccountId,
) -> Result<AccountStanding, PersistenceError> {
    let row: StandingRow = accounts::table
        .find(id.to_string())
        .select(STANDING_COLUMNS)
        .first(conn)?;
    into_standing(id, row)
}

/// Enables or disables an account; disabling also revokes its refresh tokens.
pub fn set_status(
    conn: &mut DbConnection,
    id: AccountId,
    status: AccountStatus,
) -> Result<(), PersistenceError> {
    let now = storable_now().naive_utc();
    write_transaction(conn, |conn| {
        let changed = diesel::update(accounts::table.find(id.to_string()))
            .set((
                accounts::status.eq(status.as_str()),
                accounts::updated_at.eq(now),
                accounts::version.eq(accounts::version + 1),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Err(PersistenceError::NotFound);
        }
        if status == AccountStatus::Disabled {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::account_id.eq(id.to_string()))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(Some(now)))
            .execute(conn)?;
        }
        Ok(())
    })
}

/// Everything stored about an account, for `GET /v1/me/export`.
#[derive(Debug, Clone)]
pub struct PersonalData {
    pub account: Account,
    pub memberships: Vec<(StructureId, MembershipRole, DateTime<chrono::Utc>)>,
    pub join_requests: Vec<(StructureId, Option<String>, DateTime<chrono::Utc>)>,
    pub refresh_tokens: Vec<(DateTime<chrono::Utc>, DateTime<chrono::Utc>, bool)>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = memberships)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct HeldMembership {
    structure_id: String,
    role: String,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = join_requests)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct SentJoinRequest {
    structure_id: String,
    message: Option<String>,
    created_at: NaiveDateTime,
}

pub fn personal_data(
    conn: &mut DbConnection,
    id: AccountId,
) -> Result<PersonalData, PersistenceError> {
    let account = find(conn, id)?;
    let corrupt = |e: uuid::Error| PersistenceError::Corrupt(format!("export: {e}"));
    let memberships = memberships::table
        .filter(memberships::account_id.eq(id.to_string()))
        .order(memberships::created_at.asc())
        .select(HeldMembership::as_select())
        .load(conn)?
        .into_iter()
        .map(|row: HeldMembership| {
            Ok((
                row.structure_id.parse().map_err(corrupt)?,
                MembershipRole::parse(&row.role)
                    .map_err(|e| PersistenceError::Corrupt(format!("export: {e}")))?,
                row.created_at.and_utc(),
            ))
        })
        .collect::<Result<_, PersistenceError>>()?;
    let join_requests = join_requests::table
        .filter(join_requests::account_id.eq(id.to_string()))
        .select(SentJoinRequest::as_select())
        .load(conn)?
        .into_iter()
        .map(|row: SentJoinRequest| {
            Ok((
                row.structure_id.parse().map_err(corrupt)?,
                row.message,
                row.created_at.and_utc(),
            ))
        })
        .collect::<Result<_, PersistenceError>>()?;
    let refresh_tokens = refresh_tokens::table
        .filter(refresh_tokens::account_id.eq(id.to_string()))
        .order(refresh_tokens::created_at.asc())
        .select((
            refresh_tokens::created_at,
            refresh_tokens::expires_at,
            refresh_tokens::revoked_at,
        ))
        .load::<(NaiveDateTime, NaiveDateTime, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .map(|(created, expires, revoked)| {
            (created.and_utc(), expires.and_utc(), revoked.is_some())
        })
        .collect();
    Ok(PersonalData {
        account,
        memberships,
        join_requests,
        refresh_tokens,
    })
}

/// Erases an account's personal data and keeps a pseudonymous shell: its id stays so
/// that the records the agency must retain (audit log, and later decisions and
/// payments) still point at something, but nothing in it identifies a person.
pub fn erase(
    conn: &mut DbConnection,
    id: AccountId,
    unusable_hash: String,
) -> Result<(), PersistenceError> {
    let now = storable_now().naive_utc();
    let key = id.to_string();
    write_transaction(conn, |conn| {
        let (email, exact_email): (String, String) = accounts::table
            .find(&key)
            .select((accounts::email_normalized, accounts::email))
            .first(conn)?;
        // Mails not yet sent to it, and its verification tokens, go too.
        crate::mail::forget(conn, id, &exact_email)?;
        // Invitations to the erased email hold it: they go with it.
        diesel::delete(
            crate::schema::invitations::table
                .filter(crate::schema::invitations::email_normalized.eq(&email)),
        )
        .execute(conn)?;
        let changed = diesel::update(accounts::table.find(&key))
            .set((
                accounts::email.eq(format!("erased-{key}@erased.invalid")),
                accounts::email_normalized.eq(format!("erased-{key}@erased.invalid")),
                accounts::display_name.eq("Compte supprimé"),
                accounts::password_hash.eq(unusable_hash),
                accounts::status.eq(AccountStatus::Disabled.as_str()),
                accounts::updated_at.eq(now),
                accounts::version.eq(accounts::version + 1),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Err(PersistenceError::NotFound);
        }
        diesel::delete(memberships::table.filter(memberships::account_id.eq(&key)))
            .execute(conn)?;
        diesel::delete(join_requests::table.filter(join_requests::account_id.eq(&key)))
            .execute(conn)?;
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::account_id.eq(&key)))
            .execute(conn)?;
        diesel::update(
            crate::schema::api_clients::table
                .filter(crate::schema::api_clients::created_by.eq(&key))
                .filter(crate::schema::api_clients::revoked_at.is_null()),
        )
        .set(crate::schema::api_clients::revoked_at.eq(Some(now)))
        .execute(conn)?;
        Ok(())
    })
}

/// Accounts by id (creation order), after `after`, optionally by status and role.
pub fn list(
    conn: &mut DbConnection,
    status: Option<AccountStatus>,
    agency_role: Option<AgencyRole>,
    after: Option<AccountId>,
    limit: i64,
) -> Result<Page<Account>, PersistenceError> {
    let mut query = accounts::table
        .select(AccountRow::as_select())
        .into_boxed::<crate::db::MultiBackend>();
    if let Some(status) = status {
        query = query.filter(accounts::status.eq(status.as_str()));
    }
    if let Some(role) = agency_role {
        query = query.filter(accounts::agency_role.eq(role.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(accounts::id.gt(after.to_string()));
    }
    let query = query.order(accounts::id.asc());
    page::fetch(limit, |limit| query.limit(limit).load::<AccountRow>(conn))?
        .try_map(|row| row.into_account().map(|(account, _)| account))
}

/// Changes what staff and administrators manage: name, status, agency role.
pub fn update(
    conn: &mut DbConnection,
    id: AccountId,
    display_name: Option<String>,
    status: Option<AccountStatus>,
    agency_role: Option<Option<AgencyRole>>,
) -> Result<Account, PersistenceError> {
    let now = storable_now().naive_utc();
    let key = id.to_string();
    write_transaction(conn, |conn| {
        let current = find(conn, id)?;
        diesel::update(accounts::table.find(&key))
            .set((
                accounts::display_name.eq(display_name.unwrap_or(current.display_name)),
                accounts::status.eq(status.unwrap_or(current.status).as_str()),
                accounts::agency_role.eq(agency_role
                    .unwrap_or(current.agency_role)
                    .map(|r| r.as_str().to_owned())),
                accounts::updated_at.eq(now),
                accounts::version.eq(accounts::version + 1),
            ))
            .execute(conn)?;
        if status == Some(AccountStatus::Disabled) {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::account_id.eq(&key))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(Some(now)))
            .execute(conn)?;
        }
        find(conn, id)
    })
}

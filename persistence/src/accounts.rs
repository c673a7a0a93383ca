//! Accounts, memberships and refresh tokens.

use chrono::{DateTime, Duration, NaiveDateTime};
use diesel::prelude::*;
use domain::StructureId;
use domain::access::{
    Account, AccountId, AccountStatus, AgencyRole, Email, MembershipRole, NewAccount,
};

use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::schema::{accounts, join_requests, memberships, password_resets, refresh_tokens};
use crate::structures::storable_now;

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

/// The account's role in a structure, if it is a member.
pub fn membership(
    conn: &mut DbConnection,
    account: AccountId,
    structure: StructureId,
) -> Result<Option<MembershipRole>, PersistenceError> {
    let role: Option<String> = memberships::table
        .find((account.to_string(), structure.to_string()))
        .select(memberships::role)
        .first(conn)
        .optional()?;
    role.map(|r| {
        MembershipRole::parse(&r)
            .map_err(|e| PersistenceError::Corrupt(format!("membership role: {e}")))
    })
    .transpose()
}

pub fn add_membership(
    conn: &mut DbConnection,
    account: AccountId,
    structure: StructureId,
    role: MembershipRole,
) -> Result<(), PersistenceError> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::account_id.eq(account.to_string()),
            memberships::structure_id.eq(structure.to_string()),
            memberships::role.eq(role.as_str()),
            memberships::created_at.eq(storable_now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn remove_membership(
    conn: &mut DbConnection,
    account: AccountId,
    structure: StructureId,
) -> Result<(), PersistenceError> {
    let removed =
        diesel::delete(memberships::table.find((account.to_string(), structure.to_string())))
            .execute(conn)?;
    if removed == 0 {
        return Err(PersistenceError::NotFound);
    }
    Ok(())
}

/// What a refresh token stood for when it was presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// Valid: it is now spent and the new token (same family) is stored.
    Rotated { account: AccountId },
    /// Spent before: someone replayed it, so its whole family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Stores a refresh token (by its hash) in a new family or in `family`.
pub fn store_refresh_token(
    conn: &mut DbConnection,
    account: AccountId,
    token_hash: &str,
    family: Option<&str>,
    lifetime: Duration,
) -> Result<(), PersistenceError> {
    let now = storable_now();
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(&id),
            refresh_tokens::family_id.eq(family.unwrap_or(&id)),
            refresh_tokens::account_id.eq(account.to_string()),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::expires_at.eq((now + lifetime).naive_utc()),
            refresh_tokens::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

type TokenRecord = (
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

/// Spends a refresh token and stores its successor, atomically.
pub fn rotate_refresh_token(
    conn: &mut DbConnection,
    presented_hash: &str,
    successor_hash: &str,
    lifetime: Duration,
    now: DateTime<chrono::Utc>,
) -> Result<Refresh, PersistenceError> {
    write_transaction(conn, |conn| {
        let record: Option<TokenRecord> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(presented_hash))
            .select((
                refresh_tokens::family_id,
                refresh_tokens::account_id,
                refresh_tokens::expires_at,
                refresh_tokens::used_at,
                refresh_tokens::revoked_at,
            ))
            .first(conn)
            .optional()?;
        let Some((family, account, expires_at, used_at, revoked_at)) = record else {
            return Ok(Refresh::Invalid);
        };
        if used_at.is_some() {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::family_id.eq(&family))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(Some(now.naive_utc())))
            .execute(conn)?;
            return Ok(Refresh::Reused);
        }
        if revoked_at.is_some() || expires_at <= now.naive_utc() {
            return Ok(Refresh::Invalid);
        }
        diesel::update(refresh_tokens::table.filter(refresh_tokens::token_hash.eq(presented_hash)))
            .set(refresh_tokens::used_at.eq(Some(now.naive_utc())))
            .execute(conn)?;
        let account: AccountId = account
            .parse()
            .map_err(|e| PersistenceError::Corrupt(format!("refresh token account: {e}")))?;
        store_refresh_token(conn, account, successor_hash, Some(&family), lifetime)?;
        Ok(Refresh::Rotated { account })
    })
}

/// Revokes the family of a refresh token (RFC 7009: unknown tokens are not an error).
pub fn revoke_refresh_token(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<(), PersistenceError> {
    let now = storable_now().naive_utc();
    write_transaction(conn, |conn| {
        let family: Option<String> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .select(refresh_tokens::family_id)
            .first(conn)
            .optional()?;
        if let Some(family) = family {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::family_id.eq(family))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(Some(now)))
            .execute(conn)?;
        }
        Ok(())
    })
}

/// The account's roles in each of `structures` it belongs to.
pub fn memberships_among(
    conn: &mut DbConnection,
    account: AccountId,
    structures: &[StructureId],
) -> Result<std::collections::HashMap<StructureId, MembershipRole>, PersistenceError> {
    let ids: Vec<String> = structures.iter().map(ToString::to_string).collect();
    let rows: Vec<(String, String)> = memberships::table
        .filter(memberships::account_id.eq(account.to_string()))
        .filter(memberships::structure_id.eq_any(ids))
        .select((memberships::structure_id, memberships::role))
        .load(conn)?;
    rows.into_iter()
        .map(|(structure, role)| {
            let structure = structure
                .parse()
                .map_err(|e| PersistenceError::Corrupt(format!("membership structure: {e}")))?;
            let role = MembershipRole::parse(&role)
                .map_err(|e| PersistenceError::Corrupt(format!("membership role: {e}")))?;
            Ok((structure, role))
        })
        .collect()
}

/// A member of a structure, as its owners see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account: AccountId,
    pub email: String,
    pub display_name: String,
    pub role: MembershipRole,
    pub since: DateTime<chrono::Utc>,
}

fn parse_member(
    (account, email, display_name, role, since): (String, String, String, String, NaiveDateTime),
) -> Result<Member, PersistenceError> {
    Ok(Member {
        account: account
            .parse()
            .map_err(|e| PersistenceError::Corrupt(format!("member account: {e}")))?,
        email,
        display_name,
        role: MembershipRole::parse(&role)
            .map_err(|e| PersistenceError::Corrupt(format!("member role: {e}")))?,
        since: since.and_utc(),
    })
}

/// Members of a structure, oldest first.
pub fn members(
    conn: &mut DbConnection,
    structure: StructureId,
) -> Result<Vec<Member>, PersistenceError> {
    memberships::table
        .inner_join(accounts::table)
        .filter(memberships::structure_id.eq(structure.to_string()))
        .order((memberships::created_at.asc(), memberships::account_id.asc()))
        .select((
            memberships::account_id,
            accounts::email,
            accounts::display_name,
            memberships::role,
            memberships::created_at,
        ))
        .load(conn)?
        .into_iter()
        .map(parse_member)
        .collect()
}

/// Refuses a change that would leave the structure without an owner.
fn keep_an_owner(
    conn: &mut DbConnection,
    account: AccountId,
    structure: StructureId,
) -> Result<(), PersistenceError> {
    let owners: Vec<String> = memberships::table
        .filter(memberships::structure_id.eq(structure.to_string()))
        .filter(memberships::role.eq(MembershipRole::Owner.as_str()))
        .select(memberships::account_id)
        .load(conn)?;
    if owners == [account.to_string()] {
        return Err(PersistenceError::LastOwner);
    }
    Ok(())
}

/// Changes a member's role; the last owner stays an owner.
pub fn change_role(
    conn: &mut DbConnection,
    account: AccountId,
    structure: StructureId,
    role: MembershipRole,
) -> Result<(), PersistenceError> {
    write_transaction(conn, |conn| {
        if role != MembershipRole::Owner {
            keep_an_owner(conn, account, structure)?;
        }
        let changed =
            diesel::update(memberships::table.find((account.to_string(), structure.to_string())))
                .set(memberships::role.eq(role.as_str()))
                .execute(conn)?;
        if changed == 0 {
            return Err(PersistenceError::NotFound);
        }
        Ok(())
    })
}

/// Removes a member; the last owner cannot be removed.
pub fn remove_member(
    conn: &mut DbConnection,
    account: AccountId,
    structure: StructureId,
) -> Result<(), PersistenceError> {
    write_transaction(conn, |conn| {
        keep_an_owner(conn, account, structure)?;
        remove_membership(conn, account, structure)
    })
}

/// A request to join a structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    pub account: AccountId,
    pub email: String,
    pub display_name: String,
    pub message: Option<String>,
    pub created_at: DateTime<chrono::Utc>,
}

pub fn request_to_join(
    conn: &mut DbConnection,
    account: AccountId,
    structure: StructureId,
    message: Option<String>,
) -> Result<(), PersistenceError> {
    write_transaction(conn, |conn| {
        if membership(conn, account, structure)?.is_some() {
            return Err(PersistenceError::Conflict {
                constraint: "already a member".into(),
            });
        }
        diesel::insert_into(join_requests::table)
            .values((
                join_requests::account_id.eq(account.to_string()),
                join_requests::structure_id.eq(structure.to_string()),
                join_requests::message.eq(message),
                join_requests::created_at.eq(storable_now().naive_utc()),
            ))
            .execute(conn)?;
        Ok(())
    })
}

pub fn join_requests(
    conn: &mut DbConnection,
    structure: StructureId,
) -> Result<Vec<JoinRequest>, PersistenceError> {
    let rows: Vec<(String, String, String, Option<String>, NaiveDateTime)> = join_requests::table
        .inner_join(accounts::table)
        .filter(join_requests::structure_id.eq(structure.to_string()))
        .order((
            join_requests::created_at.asc(),
            join_requests::account_id.asc(),
        ))
        .select((
            join_requests::account_id,
            accounts::email,
            accounts::display_name,
            join_requests::message,
            join_requests::created_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(account, email, display_name, message, created_at)| {
            Ok(JoinRequest {
                account: account
                    .parse()
                    .map_err(|e| PersistenceError::Corrupt(format!("join request account: {e}")))?,
                email,
                display_name,
                message,
                created_at: created_at.and_utc(),
            })
        })
        .collect()
}

/// Accepts (with `role`) or declines a pending request.
pub fn answer_join_request(
    conn: &mut DbConnection,
    account: AccountId,
    structure: StructureId,
    accept_as: Option<MembershipRole>,
) -> Result<(), PersistenceError> {
    write_transaction(conn, |conn| {
        let removed =
            diesel::delete(join_requests::table.find((structure.to_string(), account.to_string())))
                .execute(conn)?;
        if removed == 0 {
            return Err(PersistenceError::NotFound);
        }
        if let Some(role) = accept_as {
            add_membership(conn, account, structure, role)?;
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

pub fn personal_data(
    conn: &mut DbConnection,
    id: AccountId,
) -> Result<PersonalData, PersistenceError> {
    let account = find(conn, id)?;
    let corrupt = |e: uuid::Error| PersistenceError::Corrupt(format!("export: {e}"));
    let memberships = memberships::table
        .filter(memberships::account_id.eq(id.to_string()))
        .order(memberships::created_at.asc())
        .select((
            memberships::structure_id,
            memberships::role,
            memberships::created_at,
        ))
        .load::<(String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(structure, role, since)| {
            Ok((
                structure.parse().map_err(corrupt)?,
                MembershipRole::parse(&role)
                    .map_err(|e| PersistenceError::Corrupt(format!("export: {e}")))?,
                since.and_utc(),
            ))
        })
        .collect::<Result<_, PersistenceError>>()?;
    let join_requests = join_requests::table
        .filter(join_requests::account_id.eq(id.to_string()))
        .select((
            join_requests::structure_id,
            join_requests::message,
            join_requests::created_at,
        ))
        .load::<(String, Option<String>, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(structure, message, at)| {
            Ok((structure.parse().map_err(corrupt)?, message, at.and_utc()))
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
) -> Result<(Vec<Account>, bool), PersistenceError> {
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
    let mut rows = query
        .order(accounts::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let accounts = rows
        .into_iter()
        .map(|row| row.into_account().map(|(account, _)| account))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((accounts, more))
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

pub fn create_password_reset(
    conn: &mut DbConnection,
    id: AccountId,
    token_hash: &str,
    expires_at: DateTime<chrono::Utc>,
) -> Result<(), PersistenceError> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::token_hash.eq(token_hash),
            password_resets::account_id.eq(id.to_string()),
            password_resets::expires_at.eq(expires_at.naive_utc()),
            password_resets::created_at.eq(storable_now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Spends a reset token and sets the new password hash; every sign-in of the account
/// is revoked. `false` for an unknown, spent or expired token.
pub fn reset_password(
    conn: &mut DbConnection,
    token_hash: &str,
    password_hash: String,
) -> Result<Option<AccountId>, PersistenceError> {
    let now = storable_now().naive_utc();
    write_transaction(conn, |conn| {
        let found: Option<(String, NaiveDateTime, Option<NaiveDateTime>)> = password_resets::table
            .find(token_hash)
            .select((
                password_resets::account_id,
                password_resets::expires_at,
                password_resets::used_at,
            ))
            .first(conn)
            .optional()?;
        let Some((account, expires_at, None)) = found else {
            return Ok(None);
        };
        if expires_at <= now {
            return Ok(None);
        }
        diesel::update(password_resets::table.find(token_hash))
            .set(password_resets::used_at.eq(Some(now)))
            .execute(conn)?;
        diesel::update(accounts::table.find(&account))
            .set((
                accounts::password_hash.eq(password_hash),
                accounts::updated_at.eq(now),
                accounts::version.eq(accounts::version + 1),
            ))
            .execute(conn)?;
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::account_id.eq(&account))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(Some(now)))
        .execute(conn)?;
        account
            .parse()
            .map(Some)
            .map_err(|e| PersistenceError::Corrupt(format!("password reset account: {e}")))
    })
}

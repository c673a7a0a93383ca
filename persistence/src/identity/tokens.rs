//! Single-use secrets of accounts: refresh tokens (rotated, by family) and password
//! reset tokens. Only their hashes are stored.

use chrono::{DateTime, Duration, NaiveDateTime};
use diesel::prelude::*;
use domain::access::{Account, AccountId};

use crate::clock::storable_now;
use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::schema::{accounts, password_resets, refresh_tokens};

/// What a refresh token stood for when it was presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// Valid: it is now spent and the new token (same family) is stored. The account
    /// as it was in that transaction (its status and session epoch decide the rest).
    Rotated { account: Account },
    /// Spent before: someone replayed it, so its whole family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// What a presented refresh token says about itself once looked up.
#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct PresentedToken {
    family_id: String,
    account_id: String,
    used_at: Option<NaiveDateTime>,
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

/// Spends a refresh token and stores its successor, atomically.
///
/// The token is spent by one conditional update (`used_at` still null, not revoked, not
/// expired): of many simultaneous presentations exactly one changes the row, the others
/// find it spent and count as replays, which revoke the family. On PostgreSQL the losers
/// wait on the winner's row lock and then re-check the condition; on SQLite writers are
/// serialized by `BEGIN IMMEDIATE`.
pub fn rotate_refresh_token(
    conn: &mut DbConnection,
    presented_hash: &str,
    successor_hash: &str,
    lifetime: Duration,
    now: DateTime<chrono::Utc>,
) -> Result<Refresh, PersistenceError> {
    let at = now.naive_utc();
    write_transaction(conn, |conn| {
        let spent = diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(presented_hash))
                .filter(refresh_tokens::used_at.is_null())
                .filter(refresh_tokens::revoked_at.is_null())
                .filter(refresh_tokens::expires_at.gt(at)),
        )
        .set(refresh_tokens::used_at.eq(Some(at)))
        .execute(conn)?;
        let record: Option<PresentedToken> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(presented_hash))
            .select(PresentedToken::as_select())
            .first(conn)
            .optional()?;
        let Some(PresentedToken {
            family_id: family,
            account_id: account,
            used_at,
        }) = record
        else {
            return Ok(Refresh::Invalid);
        };
        if spent == 0 {
            if used_at.is_none() {
                // Revoked or expired, never used.
                return Ok(Refresh::Invalid);
            }
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::family_id.eq(&family))
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::revoked_at.eq(Some(at)))
            .execute(conn)?;
            return Ok(Refresh::Reused);
        }
        let account: AccountId = account
            .parse()
            .map_err(|e| PersistenceError::Corrupt(format!("refresh token account: {e}")))?;
        store_refresh_token(conn, account, successor_hash, Some(&family), lifetime)?;
        // Read in the same transaction: a password reset that commits after this one
        // moves the epoch on, and the access token issued now is refused from then on.
        let account = crate::identity::accounts::find(conn, account)?;
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

/// The account a reset token is for, if the token is unspent and unexpired. A check
/// before the slow work (hashing the new password); [`reset_password`] decides.
pub fn password_reset_account(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<AccountId>, PersistenceError> {
    let now = storable_now().naive_utc();
    let account: Option<String> = password_resets::table
        .find(token_hash)
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(now))
        .select(password_resets::account_id)
        .first(conn)
        .optional()?;
    account
        .map(|account| {
            account
                .parse()
                .map_err(|e| PersistenceError::Corrupt(format!("password reset account: {e}")))
        })
        .transpose()
}

/// Spends a reset token and sets the new password hash; every sign-in of the account
/// ends: its refresh tokens are revoked and its session epoch moves on, so access tokens
/// issued before no longer work. `None` for an unknown, spent or expired token.
///
/// The token is spent by one conditional update, so of simultaneous redemptions exactly
/// one succeeds.
pub fn reset_password(
    conn: &mut DbConnection,
    token_hash: &str,
    password_hash: String,
) -> Result<Option<AccountId>, PersistenceError> {
    let now = storable_now().naive_utc();
    write_transaction(conn, |conn| {
        let spent = diesel::update(
            password_resets::table
                .find(token_hash)
                .filter(password_resets::used_at.is_null())
                .filter(password_resets::expires_at.gt(now)),
        )
        .set(password_resets::used_at.eq(Some(now)))
        .execute(conn)?;
        if spent == 0 {
            return Ok(None);
        }
        let account: String = password_resets::table
            .find(token_hash)
            .select(password_resets::account_id)
            .first(conn)?;
        diesel::update(accounts::table.find(&account))
            .set((
                accounts::password_hash.eq(password_hash),
                accounts::updated_at.eq(now),
                accounts::version.eq(accounts::version + 1),
                accounts::session_epoch.eq(accounts::session_epoch + 1),
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

//! Single-use secrets of accounts: refresh tokens (rotated, by family) and password
//! reset tokens. Only their hashes are stored.

use chrono::{DateTime, Duration, NaiveDateTime};
use diesel::prelude::*;
use domain::access::AccountId;

use crate::clock::storable_now;
use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::schema::{accounts, password_resets, refresh_tokens};

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

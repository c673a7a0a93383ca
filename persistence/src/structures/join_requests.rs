//! Requests to join a structure, and their answers.

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use domain::StructureId;
use domain::access::{AccountId, MembershipRole};

use crate::clock::storable_now;
use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::schema::{accounts, join_requests};
use crate::structures::memberships::{add_membership, membership};

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

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
    join_requests::table
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
        .load::<JoinRequestRow>(conn)?
        .into_iter()
        .map(JoinRequest::try_from)
        .collect()
}

/// A request to join joined with its account, as read.
#[derive(Queryable)]
struct JoinRequestRow {
    account_id: String,
    email: String,
    display_name: String,
    message: Option<String>,
    created_at: NaiveDateTime,
}

impl TryFrom<JoinRequestRow> for JoinRequest {
    type Error = PersistenceError;

    fn try_from(row: JoinRequestRow) -> Result<Self, Self::Error> {
        Ok(JoinRequest {
            account: row
                .account_id
                .parse()
                .map_err(|e| PersistenceError::Corrupt(format!("join request account: {e}")))?,
            email: row.email,
            display_name: row.display_name,
            message: row.message,
            created_at: row.created_at.and_utc(),
        })
    }
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

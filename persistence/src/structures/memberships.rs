//! Memberships: who belongs to a structure, and with which role.

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use domain::StructureId;
use domain::access::{AccountId, MembershipRole};

use crate::clock::storable_now;
use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::schema::{accounts, memberships};

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

/// A membership joined with its account, as read.
#[derive(Queryable)]
struct MemberRow {
    account_id: String,
    email: String,
    display_name: String,
    role: String,
    since: NaiveDateTime,
}

impl TryFrom<MemberRow> for Member {
    type Error = PersistenceError;

    fn try_from(row: MemberRow) -> Result<Self, Self::Error> {
        Ok(Member {
            account: row
                .account_id
                .parse()
                .map_err(|e| PersistenceError::Corrupt(format!("member account: {e}")))?,
            email: row.email,
            display_name: row.display_name,
            role: MembershipRole::parse(&row.role)
                .map_err(|e| PersistenceError::Corrupt(format!("member role: {e}")))?,
            since: row.since.and_utc(),
        })
    }
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
        .load::<MemberRow>(conn)?
        .into_iter()
        .map(Member::try_from)
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

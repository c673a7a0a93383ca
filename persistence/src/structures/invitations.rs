//! Invitations to join a structure, addressed to an email and answered by the account
//! that has it (now or once it signs up).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::StructureId;
use domain::access::{AccountId, MembershipRole};
use domain::structures::invitation::{InvitationId, expiry};

use crate::clock::storable_now;
use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::schema::{accounts, invitations, join_requests, memberships, structures};
use crate::structures::memberships::add_membership;

/// An invitation as its structure's owners see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub structure: StructureId,
    /// Lower case.
    pub email: String,
    pub role: MembershipRole,
    pub invited_by: AccountId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An invitation as the invited person sees it: with the structure's (public) name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedInvitation {
    pub invitation: Invitation,
    pub structure_name: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = invitations)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct InvitationRow {
    id: String,
    structure_id: String,
    email_normalized: String,
    role: String,
    invited_by: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

fn corrupt(detail: impl std::fmt::Display) -> PersistenceError {
    PersistenceError::Corrupt(format!("invitation: {detail}"))
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = PersistenceError;

    fn try_from(row: InvitationRow) -> Result<Self, PersistenceError> {
        Ok(Self {
            id: row.id.parse().map_err(corrupt)?,
            structure: row.structure_id.parse().map_err(corrupt)?,
            email: row.email_normalized,
            role: MembershipRole::parse(&row.role).map_err(corrupt)?,
            invited_by: row.invited_by.parse().map_err(corrupt)?,
            created_at: row.created_at.and_utc(),
            expires_at: row.expires_at.and_utc(),
        })
    }
}

/// Invites `email` (already normalized) into `structure` with `role`; an invitation
/// already sent to that email for that structure is replaced. Refused (conflict) when
/// the email's account is already a member: the inviting owners see members' emails.
pub fn invite(
    conn: &mut DbConnection,
    structure: StructureId,
    email: String,
    role: MembershipRole,
    invited_by: AccountId,
) -> Result<Invitation, PersistenceError> {
    let now = storable_now();
    let invitation = Invitation {
        id: InvitationId::generate(),
        structure,
        email,
        role,
        invited_by,
        created_at: now,
        expires_at: expiry(now),
    };
    let key = structure.to_string();
    write_transaction(conn, |conn| {
        let member: i64 = memberships::table
            .inner_join(accounts::table)
            .filter(memberships::structure_id.eq(&key))
            .filter(accounts::email_normalized.eq(&invitation.email))
            .count()
            .get_result(conn)?;
        if member > 0 {
            return Err(PersistenceError::Conflict {
                constraint: "already a member".into(),
            });
        }
        diesel::delete(
            invitations::table
                .filter(invitations::structure_id.eq(&key))
                .filter(invitations::email_normalized.eq(&invitation.email)),
        )
        .execute(conn)?;
        diesel::insert_into(invitations::table)
            .values((
                invitations::id.eq(invitation.id.to_string()),
                invitations::structure_id.eq(&key),
                invitations::email_normalized.eq(&invitation.email),
                invitations::role.eq(role.as_str()),
                invitations::invited_by.eq(invited_by.to_string()),
                invitations::created_at.eq(invitation.created_at.naive_utc()),
                invitations::expires_at.eq(invitation.expires_at.naive_utc()),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    Ok(invitation)
}

/// A structure's open invitations, oldest first.
pub fn of_structure(
    conn: &mut DbConnection,
    structure: StructureId,
) -> Result<Vec<Invitation>, PersistenceError> {
    invitations::table
        .filter(invitations::structure_id.eq(structure.to_string()))
        .filter(invitations::expires_at.gt(storable_now().naive_utc()))
        .order(invitations::id.asc())
        .select(InvitationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// Withdraws an invitation of `structure` (expired or not).
pub fn cancel(
    conn: &mut DbConnection,
    structure: StructureId,
    id: InvitationId,
) -> Result<(), PersistenceError> {
    let removed = diesel::delete(
        invitations::table
            .filter(invitations::id.eq(id.to_string()))
            .filter(invitations::structure_id.eq(structure.to_string())),
    )
    .execute(conn)?;
    if removed == 0 {
        return Err(PersistenceError::NotFound);
    }
    Ok(())
}

/// Open invitations to `email` (normalized) into live structures, oldest first.
pub fn to_email(
    conn: &mut DbConnection,
    email: &str,
) -> Result<Vec<ReceivedInvitation>, PersistenceError> {
    let rows: Vec<(InvitationRow, String)> = invitations::table
        .inner_join(structures::table)
        .filter(invitations::email_normalized.eq(email))
        .filter(invitations::expires_at.gt(storable_now().naive_utc()))
        .filter(structures::archived_at.is_null())
        .order(invitations::id.asc())
        .select((InvitationRow::as_select(), structures::name))
        .load(conn)?;
    rows.into_iter()
        .map(|(row, structure_name)| {
            Ok(ReceivedInvitation {
                invitation: row.try_into()?,
                structure_name,
            })
        })
        .collect()
}

/// The open invitation `id` addressed to `email`, removed: whoever removes it answers it.
fn take_open(
    conn: &mut DbConnection,
    id: InvitationId,
    email: &str,
) -> Result<Invitation, PersistenceError> {
    let open = invitations::table
        .filter(invitations::id.eq(id.to_string()))
        .filter(invitations::email_normalized.eq(email))
        .filter(invitations::expires_at.gt(storable_now().naive_utc()));
    let invitation: Invitation = open
        .clone()
        .select(InvitationRow::as_select())
        .first(conn)?
        .try_into()?;
    // Of simultaneous answers, only one deletes the row; the others find nothing.
    if diesel::delete(open).execute(conn)? == 0 {
        return Err(PersistenceError::NotFound);
    }
    Ok(invitation)
}

/// Accepts an open invitation to `email` for `account`: the account becomes a member
/// with the invited role (its request to join, if any, is answered with it). Of many
/// simultaneous acceptances, exactly one succeeds; the others find no invitation.
pub fn accept(
    conn: &mut DbConnection,
    id: InvitationId,
    account: AccountId,
    email: &str,
) -> Result<Invitation, PersistenceError> {
    write_transaction(conn, |conn| {
        let invitation = take_open(conn, id, email)?;
        let archived: Option<NaiveDateTime> = structures::table
            .find(invitation.structure.to_string())
            .select(structures::archived_at)
            .first(conn)?;
        if archived.is_some() {
            return Err(PersistenceError::Archived);
        }
        add_membership(conn, account, invitation.structure, invitation.role)?;
        diesel::delete(
            join_requests::table.find((invitation.structure.to_string(), account.to_string())),
        )
        .execute(conn)?;
        Ok(invitation)
    })
}

/// Declines an open invitation to `email`.
pub fn decline(
    conn: &mut DbConnection,
    id: InvitationId,
    email: &str,
) -> Result<Invitation, PersistenceError> {
    write_transaction(conn, |conn| take_open(conn, id, email))
}

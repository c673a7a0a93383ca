//! API clients: partner systems and scripts with a secret, scopes and structures.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::StructureId;
use domain::access::{AccountId, ClientId, Scope};

use crate::clock::storable_now;
use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::schema::{api_client_structures, api_clients};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    pub id: ClientId,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub structures: Vec<StructureId>,
    pub created_by: AccountId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

type ClientRow = (
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

fn corrupt(detail: impl std::fmt::Display) -> PersistenceError {
    PersistenceError::Corrupt(format!("api client: {detail}"))
}

fn structures_of(conn: &mut DbConnection, id: &str) -> Result<Vec<StructureId>, PersistenceError> {
    api_client_structures::table
        .filter(api_client_structures::client_id.eq(id))
        .order(api_client_structures::structure_id.asc())
        .select(api_client_structures::structure_id)
        .load::<String>(conn)?
        .into_iter()
        .map(|s| s.parse().map_err(corrupt))
        .collect()
}

fn to_client(
    conn: &mut DbConnection,
    row: ClientRow,
) -> Result<(ApiClient, String), PersistenceError> {
    let (id, name, secret_hash, scopes, created_by, created_at, last_used_at, revoked_at) = row;
    let structures = structures_of(conn, &id)?;
    let client = ApiClient {
        id: id.parse().map_err(corrupt)?,
        name,
        scopes: scopes
            .split_whitespace()
            .map(|s| Scope::parse(s).map_err(corrupt))
            .collect::<Result<_, _>>()?,
        structures,
        created_by: created_by.parse().map_err(corrupt)?,
        created_at: created_at.and_utc(),
        last_used_at: last_used_at.map(|t| t.and_utc()),
        revoked_at: revoked_at.map(|t| t.and_utc()),
    };
    Ok((client, secret_hash))
}

pub fn create(
    conn: &mut DbConnection,
    name: String,
    secret_hash: String,
    scopes: &[Scope],
    structures: &[StructureId],
    created_by: AccountId,
) -> Result<ApiClient, PersistenceError> {
    let id = ClientId::generate();
    let now = storable_now().naive_utc();
    let scopes_text = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    write_transaction::<_, PersistenceError>(conn, |conn| {
        diesel::insert_into(api_clients::table)
            .values((
                api_clients::id.eq(id.to_string()),
                api_clients::name.eq(&name),
                api_clients::secret_hash.eq(&secret_hash),
                api_clients::scopes.eq(&scopes_text),
                api_clients::created_by.eq(created_by.to_string()),
                api_clients::created_at.eq(now),
            ))
            .execute(conn)?;
        for structure in structures {
            diesel::insert_into(api_client_structures::table)
                .values((
                    api_client_structures::client_id.eq(id.to_string()),
                    api_client_structures::structure_id.eq(structure.to_string()),
                ))
                .execute(conn)?;
        }
        Ok(())
    })?;
    Ok(find(conn, id)?.0)
}

/// A client and its secret's hash, revoked or not.
pub fn find(
    conn: &mut DbConnection,
    id: ClientId,
) -> Result<(ApiClient, String), PersistenceError> {
    let row: ClientRow = api_clients::table
        .find(id.to_string())
        .select(api_clients::all_columns)
        .first(conn)?;
    to_client(conn, row)
}

/// Clients made by `account`, or every client for agency staff; newest first.
pub fn list(
    conn: &mut DbConnection,
    made_by: Option<AccountId>,
) -> Result<Vec<ApiClient>, PersistenceError> {
    let mut query = api_clients::table
        .select(api_clients::all_columns)
        .into_boxed::<crate::db::MultiBackend>();
    if let Some(account) = made_by {
        query = query.filter(api_clients::created_by.eq(account.to_string()));
    }
    let rows: Vec<ClientRow> = query.order(api_clients::id.desc()).limit(200).load(conn)?;
    rows.into_iter()
        .map(|row| to_client(conn, row).map(|(client, _)| client))
        .collect()
}

pub fn rotate_secret(
    conn: &mut DbConnection,
    id: ClientId,
    secret_hash: String,
) -> Result<(), PersistenceError> {
    let changed = diesel::update(
        api_clients::table
            .find(id.to_string())
            .filter(api_clients::revoked_at.is_null()),
    )
    .set(api_clients::secret_hash.eq(secret_hash))
    .execute(conn)?;
    if changed == 0 {
        return Err(PersistenceError::NotFound);
    }
    Ok(())
}

pub fn revoke(conn: &mut DbConnection, id: ClientId) -> Result<(), PersistenceError> {
    let changed = diesel::update(
        api_clients::table
            .find(id.to_string())
            .filter(api_clients::revoked_at.is_null()),
    )
    .set(api_clients::revoked_at.eq(Some(storable_now().naive_utc())))
    .execute(conn)?;
    if changed == 0 {
        return Err(PersistenceError::NotFound);
    }
    Ok(())
}

pub fn mark_used(conn: &mut DbConnection, id: ClientId) -> Result<(), PersistenceError> {
    diesel::update(api_clients::table.find(id.to_string()))
        .set(api_clients::last_used_at.eq(Some(storable_now().naive_utc())))
        .execute(conn)?;
    Ok(())
}

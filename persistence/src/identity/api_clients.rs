//! API clients: partner systems and scripts with a secret, scopes and structures.
//!
//! A client is read with its maker's standing (status, agency role, and role in each
//! of its structures), so that the policy decides at every request what it may do.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::StructureId;
use domain::access::{
    AccountId, AccountStatus, AgencyRole, ClientId, ClientMaker, ClientStanding, ClientStructure,
    MembershipRole, Scope, client_standing,
};

use crate::clock::storable_now;
use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::schema::{accounts, api_client_structures, api_clients, memberships};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    pub id: ClientId,
    pub name: String,
    pub scopes: Vec<Scope>,
    /// The structures it was made for, with its maker's role in each now.
    pub structures: Vec<ClientStructure>,
    /// The account answerable for it: its maker, or the owner who took it over.
    pub maker: ClientMaker,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiClient {
    /// Whether it may act now, and for which structures.
    pub fn standing(&self) -> ClientStanding {
        client_standing(self.revoked_at.is_some(), &self.maker, &self.structures)
    }

    pub fn structure_ids(&self) -> Vec<StructureId> {
        self.structures.iter().map(|s| s.structure).collect()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_clients)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ClientRow {
    id: String,
    name: String,
    secret_hash: String,
    scopes: String,
    created_by: String,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

/// The maker's account, as the policy needs it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = accounts)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct MakerRow {
    status: String,
    agency_role: Option<String>,
}

/// One structure of a client, with its maker's role there (none if not a member).
#[derive(Queryable)]
struct LinkRow {
    client_id: String,
    structure_id: String,
    maker_role: Option<String>,
}

fn corrupt(detail: impl std::fmt::Display) -> PersistenceError {
    PersistenceError::Corrupt(format!("api client: {detail}"))
}

/// The links of the clients `$clients` selects, each with its maker's role there.
macro_rules! links_where {
    ($clients:expr) => {
        api_client_structures::table
            .inner_join(api_clients::table)
            .left_join(
                memberships::table.on(memberships::structure_id
                    .eq(api_client_structures::structure_id)
                    .and(memberships::account_id.eq(api_clients::created_by))),
            )
            .filter($clients)
            .order((
                api_client_structures::client_id.asc(),
                api_client_structures::structure_id.asc(),
            ))
            .select((
                api_client_structures::client_id,
                api_client_structures::structure_id,
                memberships::role.nullable(),
            ))
    };
}

/// The structures of `clients`, each with its maker's role there: one query for any
/// number of clients. For one client (every request an API client makes resolves it)
/// the query compares with `=`: SQLite's `IN (…)` has as many parameters as ids, so
/// diesel prepares it anew at each call, 5 % of a dossier POST's CPU.
fn links_of(
    conn: &mut DbConnection,
    clients: &[&str],
) -> Result<HashMap<String, Vec<ClientStructure>>, PersistenceError> {
    let rows: Vec<LinkRow> = match clients {
        [client] => links_where!(api_client_structures::client_id.eq(*client)).load(conn)?,
        _ => links_where!(api_client_structures::client_id.eq_any(clients)).load(conn)?,
    };
    let mut links: HashMap<String, Vec<ClientStructure>> = HashMap::new();
    for row in rows {
        links
            .entry(row.client_id)
            .or_default()
            .push(ClientStructure {
                structure: row.structure_id.parse().map_err(corrupt)?,
                maker_role: row
                    .maker_role
                    .as_deref()
                    .map(MembershipRole::parse)
                    .transpose()
                    .map_err(corrupt)?,
            });
    }
    Ok(links)
}

fn into_client(
    (row, maker): (ClientRow, MakerRow),
    links: &mut HashMap<String, Vec<ClientStructure>>,
) -> Result<(ApiClient, String), PersistenceError> {
    let client = ApiClient {
        structures: links.remove(&row.id).unwrap_or_default(),
        id: row.id.parse().map_err(corrupt)?,
        name: row.name,
        scopes: row
            .scopes
            .split_whitespace()
            .map(|s| Scope::parse(s).map_err(corrupt))
            .collect::<Result<_, _>>()?,
        maker: ClientMaker {
            id: row.created_by.parse().map_err(corrupt)?,
            status: AccountStatus::parse(&maker.status).map_err(corrupt)?,
            agency_role: maker
                .agency_role
                .as_deref()
                .map(AgencyRole::parse)
                .transpose()
                .map_err(corrupt)?,
        },
        created_at: row.created_at.and_utc(),
        last_used_at: row.last_used_at.map(|t| t.and_utc()),
        revoked_at: row.revoked_at.map(|t| t.and_utc()),
    };
    Ok((client, row.secret_hash))
}

/// Clients with their makers; the structures come in one more query.
fn load(
    conn: &mut DbConnection,
    rows: Vec<(ClientRow, MakerRow)>,
) -> Result<Vec<(ApiClient, String)>, PersistenceError> {
    let ids: Vec<&str> = rows.iter().map(|(row, _)| row.id.as_str()).collect();
    let mut links = links_of(conn, &ids)?;
    rows.into_iter()
        .map(|row| into_client(row, &mut links))
        .collect()
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

/// A client with its maker's standing, and its secret's hash; revoked or not.
pub fn find(
    conn: &mut DbConnection,
    id: ClientId,
) -> Result<(ApiClient, String), PersistenceError> {
    let row: (ClientRow, MakerRow) = api_clients::table
        .inner_join(accounts::table.on(accounts::id.eq(api_clients::created_by)))
        .filter(api_clients::id.eq(id.to_string()))
        .select((ClientRow::as_select(), MakerRow::as_select()))
        .first(conn)?;
    load(conn, vec![row])?
        .pop()
        .ok_or(PersistenceError::NotFound)
}

/// Clients acting for a structure `owner` owns, or every client when `owner` is `None`
/// (agency staff); newest first.
pub fn list(
    conn: &mut DbConnection,
    owner: Option<AccountId>,
) -> Result<Vec<ApiClient>, PersistenceError> {
    let mut query = api_clients::table
        .inner_join(accounts::table.on(accounts::id.eq(api_clients::created_by)))
        .select((ClientRow::as_select(), MakerRow::as_select()))
        .into_boxed::<crate::db::MultiBackend>();
    if let Some(owner) = owner {
        let owned = api_client_structures::table
            .inner_join(
                memberships::table
                    .on(memberships::structure_id.eq(api_client_structures::structure_id)),
            )
            .filter(memberships::account_id.eq(owner.to_string()))
            .filter(memberships::role.eq(MembershipRole::Owner.as_str()))
            .select(api_client_structures::client_id);
        query = query.filter(api_clients::id.eq_any(owned));
    }
    let rows = query.order(api_clients::id.desc()).limit(200).load(conn)?;
    Ok(load(conn, rows)?
        .into_iter()
        .map(|(client, _)| client)
        .collect())
}

/// How many of `client`'s structures `account` owns.
pub fn owned_by(
    conn: &mut DbConnection,
    account: AccountId,
    client: &ApiClient,
) -> Result<usize, PersistenceError> {
    let ids: Vec<String> = client
        .structures
        .iter()
        .map(|s| s.structure.to_string())
        .collect();
    let owned: i64 = memberships::table
        .filter(memberships::account_id.eq(account.to_string()))
        .filter(memberships::structure_id.eq_any(ids))
        .filter(memberships::role.eq(MembershipRole::Owner.as_str()))
        .count()
        .get_result(conn)?;
    usize::try_from(owned).map_err(corrupt)
}

/// The rows a change to a live client touches: a revoked client is not found.
macro_rules! live {
    ($id:expr) => {
        api_clients::table
            .filter(api_clients::id.eq($id.to_string()))
            .filter(api_clients::revoked_at.is_null())
    };
}

fn changed_one(changed: usize) -> Result<(), PersistenceError> {
    if changed == 0 {
        return Err(PersistenceError::NotFound);
    }
    Ok(())
}

pub fn rotate_secret(
    conn: &mut DbConnection,
    id: ClientId,
    secret_hash: String,
) -> Result<(), PersistenceError> {
    changed_one(
        diesel::update(live!(id))
            .set(api_clients::secret_hash.eq(secret_hash))
            .execute(conn)?,
    )
}

pub fn revoke(conn: &mut DbConnection, id: ClientId) -> Result<(), PersistenceError> {
    changed_one(
        diesel::update(live!(id))
            .set(api_clients::revoked_at.eq(Some(storable_now().naive_utc())))
            .execute(conn)?,
    )
}

/// Makes `account` the one answerable for the client; returns it as it now stands.
pub fn take_over(
    conn: &mut DbConnection,
    id: ClientId,
    account: AccountId,
) -> Result<ApiClient, PersistenceError> {
    changed_one(
        diesel::update(live!(id))
            .set(api_clients::created_by.eq(account.to_string()))
            .execute(conn)?,
    )?;
    Ok(find(conn, id)?.0)
}

pub fn mark_used(conn: &mut DbConnection, id: ClientId) -> Result<(), PersistenceError> {
    diesel::update(api_clients::table.find(id.to_string()))
        .set(api_clients::last_used_at.eq(Some(storable_now().naive_utc())))
        .execute(conn)?;
    Ok(())
}

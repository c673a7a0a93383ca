//! Every column a query filters on leads an index, and no index repeats another.

use diesel::RunQueryDsl;
use persistence::db::{self, Backend, DbConnection};

use crate::helpers::TestDatabase;

/// The columns queries filter on (or join or sort on, first), by table: `persistence`'s
/// `.filter(…)`s. A new filter goes here, with its index in a migration.
const FILTERED: &[(&str, &[&str])] = &[
    (
        "accounts",
        &["id", "email_normalized", "status", "agency_role"],
    ),
    ("refresh_tokens", &["token_hash", "family_id", "account_id"]),
    ("password_resets", &["token_hash"]),
    ("memberships", &["account_id", "structure_id"]),
    ("join_requests", &["structure_id", "account_id"]),
    ("api_clients", &["id", "created_by"]),
    ("api_client_structures", &["client_id", "structure_id"]),
    ("audit_events", &["id", "action", "actor_id", "object_type"]),
    (
        "structures",
        &[
            "id",
            "siret",
            "name_folded",
            "created_at",
            "kind",
            "department_code",
            "region_code",
        ],
    ),
    ("structure_disciplines", &["structure_id", "discipline"]),
    ("idempotency_keys", &["scope", "created_at"]),
    (
        "productions",
        &["id", "structure_id", "updated_at", "audience", "published"],
    ),
    ("production_disciplines", &["production_id", "discipline"]),
    ("tours", &["id", "production_id"]),
    (
        "performances",
        &[
            "id",
            "starts_at",
            "updated_at",
            "production_id",
            "company_structure_id",
            "venue_structure_id",
            "department_code",
            "region_code",
            "commune_code",
            "status",
            "published",
            "show_discipline",
            "tour_id",
        ],
    ),
    ("performance_external_ids", &["client_id", "performance_id"]),
    ("communes", &["insee_code", "population"]),
];

#[derive(diesel::QueryableByName, Debug)]
struct IndexColumns {
    #[diesel(sql_type = diesel::sql_types::Text)]
    index_name: String,
    /// The indexed columns in order, comma-separated.
    #[diesel(sql_type = diesel::sql_types::Text)]
    columns: String,
}

/// Every index of `table` (primary keys and unique constraints included).
fn indexes(conn: &mut DbConnection, table: &str) -> Vec<IndexColumns> {
    let query = match db::backend(conn) {
        Backend::Sqlite => format!(
            "SELECT il.name AS index_name,
                    (SELECT group_concat(name, ',')
                       FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno))
                        AS columns
               FROM pragma_index_list('{table}') AS il"
        ),
        Backend::Postgres => format!(
            "SELECT i.indexrelid::regclass::text AS index_name,
                    (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                       FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
                        AS columns
               FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
              WHERE t.relname = '{table}'"
        ),
    };
    diesel::sql_query(query).load(conn).unwrap()
}

#[test]
fn every_filtered_column_leads_an_index_and_no_index_repeats_another() {
    let database = TestDatabase::new();
    let pool = crate::helpers::pool(database.url(), 1);
    let mut conn = pool.get().unwrap();
    db::run_migrations(&mut conn).unwrap();
    let mut problems = Vec::new();
    for (table, columns) in FILTERED {
        let indexes = indexes(&mut conn, table);
        assert!(!indexes.is_empty(), "{table} has no index at all");
        for column in *columns {
            let led = indexes
                .iter()
                .any(|index| index.columns.split(',').next() == Some(column));
            if !led {
                problems.push(format!("no index on {table} starts with {column}"));
            }
        }
        for (i, index) in indexes.iter().enumerate() {
            for other in &indexes[i + 1..] {
                if index.columns == other.columns {
                    problems.push(format!(
                        "{} and {} both index {table} ({})",
                        index.index_name, other.index_name, index.columns
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

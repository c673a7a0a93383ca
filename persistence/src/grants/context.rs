//! What the rules read of a dossier besides the dossier itself: its call, the call's
//! programme and the applicant structure, in one statement (a dossier's `GET`,
//! `/check`, submission and approval judge it every time; three round trips were a
//! third of a `GET`'s). A signed-in account's read takes the dossier, its context, the
//! account's standing and its role in the applicant in that one statement too; on
//! PostgreSQL, where each statement is a round trip to another process, it also takes
//! what the judging reads next ([`JudgingReads`]): the dossier's performances, its
//! documents' kinds and the awards to its applicant and presenters, as JSON of
//! correlated subqueries.

use std::collections::HashMap;

use diesel::prelude::*;
use domain::access::{AccountId, MembershipRole};
use domain::grants::{Call, DocumentKind, Dossier, Programme};
use domain::programming::Performance;
use domain::{CallId, DossierId, PerformanceId, Structure, StructureId};

use super::awards::AwardsRead;
use super::calls::CallRow;
use super::corrupt;
use super::dossiers::DossierRow;
use super::programmes::ProgrammeRow;
use crate::db::{DbConnection, on_backend};
use crate::error::PersistenceError;
use crate::identity::accounts::{STANDING_COLUMNS, StandingRow, WithStanding, into_standing};
use crate::schema::{accounts, calls, dossiers, memberships, programmes, structures};
use crate::structures::StructureRow;

/// A dossier's call, the call's programme and the applicant structure.
#[derive(Debug, Clone)]
pub struct Context {
    pub call: Call,
    pub programme: Programme,
    pub applicant: Structure,
}

/// A dossier with its [`Context`] and the reader's role in its applicant.
#[derive(Debug, Clone)]
pub struct DossierInContext {
    pub dossier: Dossier,
    pub context: Context,
    pub role: Option<MembershipRole>,
    /// What judging the dossier reads, when the same statement read it (PostgreSQL).
    pub reads: Option<JudgingReads>,
}

/// What judging a dossier reads besides the dossier and its context, read at once.
#[derive(Debug, Clone, Default)]
pub struct JudgingReads {
    /// Those of its performances that still exist.
    pub performances: HashMap<PerformanceId, Performance>,
    /// The kinds of its live documents.
    pub document_kinds: Vec<DocumentKind>,
    /// The awards of the programme's other dossiers to its applicant and to the venues
    /// presenting its performances, as `awards::already_approved` takes them; `None`:
    /// not read yet.
    pub awards: Option<AwardsRead>,
}

/// A column of PostgreSQL SQL of a fixed text (a correlated subquery on the dossier
/// read), of a type of its own so that diesel's statement cache knows the statement by
/// its type rather than by building its SQL at every call.
macro_rules! pg_column {
    ($(#[$doc:meta])* $name:ident = $sql:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
        struct $name;
        impl diesel::expression::Expression for $name {
            type SqlType = diesel::sql_types::Nullable<diesel::sql_types::Text>;
        }
        impl<QS> diesel::expression::AppearsOnTable<QS> for $name {}
        impl<QS> diesel::expression::SelectableExpression<QS> for $name {}
        impl<GB> diesel::expression::ValidGrouping<GB> for $name {
            type IsAggregate = diesel::expression::is_aggregate::Never;
        }
        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> QueryResult<()> {
                out.push_sql($sql);
                Ok(())
            }
        }
    };
}

/// The ids of the read dossier's performances, as an array (its column is a JSON array):
/// `= ANY` of an array lets the planner take the primary key's index for each.
macro_rules! performance_ids_sql {
    () => {
        r#"ARRAY(SELECT json_array_elements_text("dossiers"."performance_ids"::json))"#
    };
}

pg_column!(
    /// The dossier's existing performances, their rows as a JSON array.
    PerformancesJson = concat!(
        "(SELECT json_agg(p)::text FROM performances p WHERE p.id = ANY(",
        performance_ids_sql!(),
        "))"
    )
);
pg_column!(
    /// The kinds of the dossier's live documents, as a JSON array.
    DocumentKindsJson = r#"(SELECT json_agg(DISTINCT k.kind)::text FROM dossier_documents k WHERE k.dossier_id = "dossiers"."id" AND k.deleted_at IS NULL)"#
);
pg_column!(
    /// The awards of the programme's other dossiers to the dossier's applicant, as a
    /// JSON array of `[year, cents]`.
    ApplicantAwardsJson = concat!(
        "(SELECT json_agg(json_build_array(a.year, a.aid_cents))::text ",
        r#"FROM dossier_awards a WHERE a.programme_id = "dossiers"."programme_id" "#,
        r#"AND a.applicant_id = "dossiers"."applicant_id" AND a.dossier_id <> "dossiers"."id")"#
    )
);
pg_column!(
    /// The awards of the programme's other dossiers to the venues presenting the
    /// dossier's performances, as a JSON array of `[presenter, year, cents]`. Joined
    /// from the distinct venues, so that an award counts once however many of the
    /// performances its venue presents, and so that the planner probes
    /// `dossier_awards_presenter_idx` once per venue (a filter of `dossier_awards` by
    /// an array of the venues was planned as a scan of the whole table).
    PresenterAwardsJson = concat!(
        "(SELECT json_agg(json_build_array(a.presenter_id, a.year, a.aid_cents))::text ",
        "FROM (SELECT DISTINCT p.venue_structure_id AS presenter FROM performances p ",
        "WHERE p.id = ANY(",
        performance_ids_sql!(),
        ") AND p.venue_structure_id IS NOT NULL) v ",
        "JOIN dossier_awards a ON a.presenter_id = v.presenter ",
        r#"AND a.programme_id = "dossiers"."programme_id" WHERE a.dossier_id <> "dossiers"."id")"#
    )
);

impl JudgingReads {
    /// From the JSON of [`PerformancesJson`], [`DocumentKindsJson`],
    /// [`ApplicantAwardsJson`] and [`PresenterAwardsJson`] (`None`: an empty array).
    fn from_json(json: Json) -> Result<Self, PersistenceError> {
        fn parsed<T: serde::de::DeserializeOwned>(
            json: Option<String>,
        ) -> Result<Vec<T>, PersistenceError> {
            Ok(match json {
                Some(json) => serde_json::from_str(&json)?,
                None => Vec::new(),
            })
        }
        let (performances, kinds, by_applicant, by_presenter) = json;
        let performances = match performances {
            Some(json) => crate::programming::performances::from_json_rows(&json)?,
            None => Vec::new(),
        };
        let document_kinds = parsed::<String>(kinds)?
            .iter()
            .map(|k| DocumentKind::parse(k).map_err(|e| corrupt("dossier document kind", k, e)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            performances: performances.into_iter().map(|p| (p.id, p)).collect(),
            document_kinds,
            awards: Some(AwardsRead {
                by_applicant: parsed(by_applicant)?,
                by_presenter: parsed(by_presenter)?,
            }),
        })
    }
}

/// What [`dossier_for_account`] reads as JSON on PostgreSQL, in [`JudgingReads`]' order.
type Json = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The call, its programme and the applicant, archived or not; not found when any of
/// them is missing.
pub fn find(
    conn: &mut DbConnection,
    call: CallId,
    applicant: StructureId,
) -> Result<Context, PersistenceError> {
    let call = call.to_string();
    let applicant = applicant.to_string();
    // On each backend's own connection: through the multi-backend one, diesel keys its
    // statement cache by the SQL text, which it then builds at every call.
    let (call, programme, applicant): (CallRow, ProgrammeRow, StructureRow) =
        on_backend!(conn, |c| calls::table
            .inner_join(programmes::table)
            .inner_join(structures::table.on(structures::id.eq(&applicant)))
            .filter(calls::id.eq(&call))
            .select((
                CallRow::as_select(),
                ProgrammeRow::as_select(),
                StructureRow::as_select(),
            ))
            .first(c)?);
    Ok(Context {
        call: call.try_into()?,
        programme: programme.try_into()?,
        applicant: applicant.try_into()?,
    })
}

/// What a signed-in account's read of a dossier needs, in one statement: the account's
/// standing (`None`: no such account) and, when the dossier exists, the dossier with its
/// context and the account's role in its applicant.
pub fn dossier_for_account(
    conn: &mut DbConnection,
    id: DossierId,
    account: AccountId,
) -> Result<WithStanding<DossierInContext>, PersistenceError> {
    let id = id.to_string();
    let account_key = account.to_string();
    // The row both backends read, with what PostgreSQL adds.
    macro_rules! found_row {
        ($($more:ty),*) => {
            (
                StandingRow,
                Option<DossierRow>,
                Option<CallRow>,
                Option<ProgrammeRow>,
                Option<StructureRow>,
                Option<String>,
                $($more),*
            )
        };
    }
    type Found = found_row!();
    // The one join both backends read; PostgreSQL adds what the judging reads.
    macro_rules! dossier_read {
        () => {
            accounts::table
                .left_join(dossiers::table.on(dossiers::id.eq(id.clone())))
                .left_join(calls::table.on(calls::id.eq(dossiers::call_id)))
                .left_join(programmes::table.on(programmes::id.eq(calls::programme_id)))
                .left_join(structures::table.on(structures::id.eq(dossiers::applicant_id)))
                .left_join(
                    memberships::table.on(memberships::structure_id
                        .eq(dossiers::applicant_id)
                        .and(memberships::account_id.eq(accounts::id))),
                )
                .filter(accounts::id.eq(&account_key))
        };
    }
    macro_rules! found_columns {
        ($($more:expr),*) => {
            (
                STANDING_COLUMNS,
                Option::<DossierRow>::as_select(),
                Option::<CallRow>::as_select(),
                Option::<ProgrammeRow>::as_select(),
                Option::<StructureRow>::as_select(),
                memberships::role.nullable(),
                $($more),*
            )
        };
    }
    // No `LIMIT` (the account's id is unique): nothing to bind besides the two ids.
    let found: Option<(Found, Option<Json>)> = match conn {
        DbConnection::Postgres(c) => dossier_read!()
            .select(found_columns!((
                PerformancesJson,
                DocumentKindsJson,
                ApplicantAwardsJson,
                PresenterAwardsJson
            )))
            .get_result::<found_row!(Json)>(c)
            .optional()?
            .map(|(s, d, c, p, a, r, json)| ((s, d, c, p, a, r), Some(json))),
        DbConnection::Sqlite(c) => dossier_read!()
            .select(found_columns!())
            .get_result::<Found>(c)
            .optional()?
            .map(|found| (found, None)),
    };
    let Some(((standing, dossier, call, programme, applicant, role), json)) = found else {
        return Ok(None);
    };
    let standing = into_standing(account, standing)?;
    let Some(dossier) = dossier else {
        return Ok(Some((standing, None)));
    };
    let (Some(call), Some(programme), Some(applicant)) = (call, programme, applicant) else {
        return Err(corrupt(
            "dossier",
            &id,
            "its call, programme or applicant is missing",
        ));
    };
    let role = role
        .as_deref()
        .map(MembershipRole::parse)
        .transpose()
        .map_err(|e| corrupt("membership role", &id, e))?;
    let dossier: Dossier = dossier.try_into()?;
    let reads = json.map(JudgingReads::from_json).transpose()?;
    Ok(Some((
        standing,
        Some(DossierInContext {
            dossier,
            context: Context {
                call: call.try_into()?,
                programme: programme.try_into()?,
                applicant: applicant.try_into()?,
            },
            role,
            reads,
        }),
    )))
}

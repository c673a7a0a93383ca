//! What the rules read of a dossier besides the dossier itself: its call, the call's
//! programme and the applicant structure, in one statement (a dossier's `GET`,
//! `/check`, submission and approval judge it every time; three round trips were a
//! third of a `GET`'s). A signed-in account's read takes the dossier, its context, the
//! account's standing and its role in the applicant in that one statement too.

use diesel::prelude::*;
use domain::access::{AccountId, MembershipRole};
use domain::grants::{Call, Dossier, Programme};
use domain::{CallId, DossierId, Structure, StructureId};

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
}

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
    type Found = (
        StandingRow,
        Option<DossierRow>,
        Option<CallRow>,
        Option<ProgrammeRow>,
        Option<StructureRow>,
        Option<String>,
    );
    let found: Option<Found> = on_backend!(conn, |c| accounts::table
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
        .select((
            STANDING_COLUMNS,
            Option::<DossierRow>::as_select(),
            Option::<CallRow>::as_select(),
            Option::<ProgrammeRow>::as_select(),
            Option::<StructureRow>::as_select(),
            memberships::role.nullable(),
        ))
        .first(c)
        .optional()?);
    let Some((standing, dossier, call, programme, applicant, role)) = found else {
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
    Ok(Some((
        standing,
        Some(DossierInContext {
            dossier: dossier.try_into()?,
            context: Context {
                call: call.try_into()?,
                programme: programme.try_into()?,
                applicant: applicant.try_into()?,
            },
            role,
        }),
    )))
}

//! What the rules read of a dossier besides the dossier itself: its call, the call's
//! programme and the applicant structure, in one statement (a dossier's `GET`,
//! `/check`, submission and approval judge it every time; three round trips were a
//! third of a `GET`'s).

use diesel::prelude::*;
use domain::grants::{Call, Programme};
use domain::{CallId, Structure, StructureId};

use super::calls::CallRow;
use super::programmes::ProgrammeRow;
use crate::db::DbConnection;
use crate::error::PersistenceError;
use crate::schema::{calls, programmes, structures};
use crate::structures::StructureRow;

/// The call, its programme and the applicant, archived or not; not found when any of
/// them is missing.
pub fn find(
    conn: &mut DbConnection,
    call: CallId,
    applicant: StructureId,
) -> Result<(Call, Programme, Structure), PersistenceError> {
    let (call, programme, applicant): (CallRow, ProgrammeRow, StructureRow) = calls::table
        .inner_join(programmes::table)
        .inner_join(structures::table.on(structures::id.eq(applicant.to_string())))
        .filter(calls::id.eq(call.to_string()))
        .select((
            CallRow::as_select(),
            ProgrammeRow::as_select(),
            StructureRow::as_select(),
        ))
        .first(conn)?;
    Ok((
        call.try_into()?,
        programme.try_into()?,
        applicant.try_into()?,
    ))
}

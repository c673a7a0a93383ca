//! The demo's grants: Région Occitanie's aide à la diffusion de proximité, as the
//! domain expresses it, and one call open from a month ago to two months ahead.

use chrono::{DurationRound, TimeDelta, Utc};
use domain::grants::{CallWindow, NewCall, occitanie};
use persistence::db::write_transaction;
use persistence::grants::{calls, programmes};
use persistence::{DbConnection, PersistenceError};

/// Adds the Occitanie programme and its open call.
pub fn demo(conn: &mut DbConnection) -> Result<(), PersistenceError> {
    let now = Utc::now()
        .duration_trunc(TimeDelta::hours(1))
        .unwrap_or_else(|_| Utc::now());
    let window = CallWindow::new(now - TimeDelta::days(30), now + TimeDelta::days(60))
        .map_err(|e| PersistenceError::Corrupt(format!("demo call window: {e:?}")))?;
    write_transaction(conn, |conn| {
        let programme = programmes::create(conn, occitanie::diffusion_de_proximite())?;
        calls::create(
            conn,
            NewCall {
                programme_id: programme.id,
                title: "Diffusion de proximité : session en cours".to_owned(),
                window,
                committee_date: Some((now + TimeDelta::days(75)).date_naive()),
                envelope_cents: 30_000_000,
            },
        )?;
        Ok(())
    })
}

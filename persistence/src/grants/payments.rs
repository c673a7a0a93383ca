//! A dossier's payments (versements) and their plan: the advance's share of the award,
//! from which the schedule is computed, and one row per payment made.
//!
//! # Never more than awarded, under concurrency
//!
//! A payment is recorded with its dossier's row locked ([`super::dossiers::lock`]) before
//! what was paid is read: on PostgreSQL `SELECT … FOR UPDATE` makes concurrent payments
//! of one dossier, on any number of instances, read the total one after the other; on
//! SQLite the writing transaction holds the file (`BEGIN IMMEDIATE`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::DossierId;
use domain::grants::{PaymentKind, Rate, RecordedPayment};

use super::corrupt;
use crate::db::DbConnection;
use crate::error::PersistenceError;
use crate::schema::{dossier_payment_plans, dossier_payments};

/// One payment made, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: String,
    pub dossier_id: DossierId,
    pub kind: Option<PaymentKind>,
    pub amount_cents: i64,
    pub paid_on: NaiveDate,
    pub reference: String,
    /// `account` or `client`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl Payment {
    pub fn recorded(&self) -> RecordedPayment {
        RecordedPayment {
            kind: self.kind,
            amount_cents: self.amount_cents,
            paid_on: self.paid_on,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_payments)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct PaymentRow {
    id: String,
    dossier_id: String,
    kind: Option<String>,
    amount_cents: i64,
    paid_on: NaiveDate,
    reference: String,
    actor_kind: String,
    actor_id: Option<String>,
    recorded_at: NaiveDateTime,
}

impl TryFrom<PaymentRow> for Payment {
    type Error = PersistenceError;

    fn try_from(row: PaymentRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        let bad =
            |field: &str, e: &dyn std::fmt::Display| corrupt(&format!("payment {field}"), id, e);
        Ok(Self {
            dossier_id: row.dossier_id.parse().map_err(|e| bad("dossier", &e))?,
            kind: row
                .kind
                .as_deref()
                .map(PaymentKind::parse)
                .transpose()
                .map_err(|e| bad("kind", &e))?,
            id: row.id,
            amount_cents: row.amount_cents,
            paid_on: row.paid_on,
            reference: row.reference,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            recorded_at: row.recorded_at.and_utc(),
        })
    }
}

/// Records a payment (its `id` is made here, a UUIDv7: the list's order); returns it.
/// The caller holds the dossier's lock and has checked the total.
pub fn record(conn: &mut DbConnection, payment: Payment) -> Result<Payment, PersistenceError> {
    let payment = Payment {
        id: uuid::Uuid::now_v7().to_string(),
        ..payment
    };
    diesel::insert_into(dossier_payments::table)
        .values(PaymentRow {
            id: payment.id.clone(),
            dossier_id: payment.dossier_id.to_string(),
            kind: payment.kind.map(|k| k.as_str().to_owned()),
            amount_cents: payment.amount_cents,
            paid_on: payment.paid_on,
            reference: payment.reference.clone(),
            actor_kind: payment.actor_kind.clone(),
            actor_id: payment.actor_id.clone(),
            recorded_at: payment.recorded_at.naive_utc(),
        })
        .execute(conn)?;
    Ok(payment)
}

/// A dossier's payments, in the order they were recorded (with `recorded_at`, for the
/// dossier's history).
pub fn list(conn: &mut DbConnection, dossier: DossierId) -> Result<Vec<Payment>, PersistenceError> {
    dossier_payments::table
        .filter(dossier_payments::dossier_id.eq(dossier.to_string()))
        .order(dossier_payments::id.asc())
        .select(PaymentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Payment::try_from)
        .collect()
}

/// Whether any payment was recorded for the dossier.
pub fn any(conn: &mut DbConnection, dossier: DossierId) -> Result<bool, PersistenceError> {
    Ok(diesel::select(diesel::dsl::exists(
        dossier_payments::table.filter(dossier_payments::dossier_id.eq(dossier.to_string())),
    ))
    .get_result(conn)?)
}

/// The advance's share of the dossier's award, when a plan was set (at approval).
pub fn plan(conn: &mut DbConnection, dossier: DossierId) -> Result<Option<Rate>, PersistenceError> {
    let stored: Option<i32> = dossier_payment_plans::table
        .find(dossier.to_string())
        .select(dossier_payment_plans::advance_basis_points)
        .first(conn)
        .optional()?;
    stored
        .map(|bp| {
            Rate::basis_points(i64::from(bp))
                .map_err(|e| corrupt("payment plan", &dossier.to_string(), e))
        })
        .transpose()
}

/// Sets (or replaces) the dossier's plan, inside the caller's write transaction.
pub fn set_plan(
    conn: &mut DbConnection,
    dossier: DossierId,
    advance: Rate,
    at: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    let id = dossier.to_string();
    let basis_points =
        i32::try_from(advance.as_basis_points()).map_err(|e| corrupt("payment plan", &id, e))?;
    // Portable upsert: the dossier's row is locked (or the file held), so nothing
    // slips between the two statements.
    diesel::delete(dossier_payment_plans::table.find(&id)).execute(conn)?;
    diesel::insert_into(dossier_payment_plans::table)
        .values((
            dossier_payment_plans::dossier_id.eq(&id),
            dossier_payment_plans::advance_basis_points.eq(basis_points),
            dossier_payment_plans::updated_at.eq(at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

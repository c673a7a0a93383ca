//! The decision's amount and its payments (versements): never above what the rules
//! allow nor what the envelope holds; never paid beyond what was awarded.

use chrono::NaiveDate;

use super::rules::Rate;
use crate::programming::performance::FEE_MAX;
use crate::text;
use crate::validation::{FieldProblem, ValidationError};

/// The advance's share of an award when the approval does not say: half now, half
/// once the final report is in.
pub const DEFAULT_ADVANCE: Rate = Rate::HALF;
pub const PAYMENT_REFERENCE_MAX: usize = 100;

string_enum!(
    /// A payment's place in the schedule.
    PaymentKind {
        /// Acompte.
        Advance = "advance",
        /// Solde, once the final report (bilan) is in.
        Balance = "balance",
    }
);

/// Why an awarded amount is refused. The `code` is stable and machine-readable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error("the awarded amount must be positive ({awarded} cents)")]
    NotPositive { awarded: i64 },
    #[error("{awarded} cents awarded; the rules allow at most {maximum}")]
    AboveMaximum { awarded: i64, maximum: i64 },
    #[error("{awarded} cents awarded; the call's envelope has {remaining} left")]
    AboveEnvelope { awarded: i64, remaining: i64 },
}

impl ApprovalError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotPositive { .. } => "award_not_positive",
            Self::AboveMaximum { .. } => "award_above_maximum",
            Self::AboveEnvelope { .. } => "award_above_envelope",
        }
    }
}

/// An awarded amount within the computed maximum and what is left of the envelope
/// (read in the approval's own transaction). Above both, it names the maximum: the
/// rules speak before the money left.
pub fn check_award(awarded: i64, maximum: i64, remaining: i64) -> Result<(), ApprovalError> {
    if awarded <= 0 {
        Err(ApprovalError::NotPositive { awarded })
    } else if awarded > maximum {
        Err(ApprovalError::AboveMaximum { awarded, maximum })
    } else if awarded > remaining {
        Err(ApprovalError::AboveEnvelope { awarded, remaining })
    } else {
        Ok(())
    }
}

/// One planned payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledPayment {
    pub kind: PaymentKind,
    pub amount_cents: i64,
}

/// The planned payments of an award: an advance and a balance that add up to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSchedule {
    payments: Vec<ScheduledPayment>,
}

impl PaymentSchedule {
    /// An advance of `advance` of the award (rounded down to the cent), the balance
    /// the rest; without an advance (0 %), the balance alone, and without a balance
    /// (100 %), the advance alone.
    pub fn advance_and_balance(awarded_cents: i64, advance: Rate) -> Self {
        let awarded = awarded_cents.max(0);
        let first = advance.of(awarded);
        let payments = [
            (PaymentKind::Advance, first),
            (PaymentKind::Balance, awarded - first),
        ]
        .into_iter()
        .filter(|(_, cents)| *cents > 0)
        .map(|(kind, amount_cents)| ScheduledPayment { kind, amount_cents })
        .collect();
        Self { payments }
    }

    pub fn payments(&self) -> &[ScheduledPayment] {
        &self.payments
    }

    pub fn total_cents(&self) -> i64 {
        self.payments.iter().map(|p| p.amount_cents).sum()
    }
}

/// A payment made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedPayment {
    /// The scheduled item it pays, when the agency says which.
    pub kind: Option<PaymentKind>,
    pub amount_cents: i64,
    pub paid_on: NaiveDate,
}

/// A payment as staff write it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentInput {
    pub kind: Option<String>,
    pub amount_cents: i64,
    pub paid_on: String,
    pub reference: String,
}

/// A checked payment, not yet weighed against the award.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub kind: Option<PaymentKind>,
    pub amount_cents: i64,
    pub paid_on: NaiveDate,
    /// The transfer's reference (numéro de mandat), one line.
    pub reference: String,
}

impl NewPayment {
    /// Every bad field at once: `kind` one of the schedule's kinds, `amount_cents`
    /// within 1..=[`FEE_MAX`], `paid_on` a date, `reference` one line.
    pub fn parse(input: &PaymentInput) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let kind = match &input.kind {
            None => Some(None),
            Some(kind) => errors.check("kind", PaymentKind::parse(kind)).map(Some),
        };
        if !(1..=FEE_MAX).contains(&input.amount_cents) {
            errors.push(
                "amount_cents",
                FieldProblem::OutOfRange {
                    min: 1,
                    max: FEE_MAX,
                },
            );
        }
        let paid_on = errors.check("paid_on", crate::programming::date(&input.paid_on));
        let reference = errors.check(
            "reference",
            text::single_line(&input.reference, PAYMENT_REFERENCE_MAX),
        );
        errors.into_result()?;
        match (kind, paid_on, reference) {
            (Some(kind), Some(paid_on), Some(reference)) => Ok(Self {
                kind,
                amount_cents: input.amount_cents,
                paid_on,
                reference,
            }),
            _ => Err(ValidationError::single("reference", FieldProblem::Required)),
        }
    }
}

/// Why a payment cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("a payment must be positive ({amount} cents)")]
    NotPositive { amount: i64 },
    #[error("the schedule has no {kind} payment")]
    NotScheduled { kind: PaymentKind },
    #[error("{amount} cents would bring payments to more than the {awarded} awarded ({paid} paid)")]
    AboveAwarded {
        amount: i64,
        paid: i64,
        awarded: i64,
    },
}

impl PaymentError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotPositive { .. } => "payment_not_positive",
            Self::NotScheduled { .. } => "payment_not_scheduled",
            Self::AboveAwarded { .. } => "payment_above_awarded",
        }
    }

    /// The field a refusal names: the scheduled item's `kind`, or `amount_cents`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::NotScheduled { .. } => "kind",
            _ => "amount_cents",
        }
    }

    /// The problem to report at [`Self::field`].
    pub fn problem(&self) -> FieldProblem {
        match self {
            Self::NotScheduled { .. } => FieldProblem::NotAllowed,
            Self::NotPositive { .. } => FieldProblem::OutOfRange {
                min: 1,
                max: i64::MAX,
            },
            Self::AboveAwarded { paid, awarded, .. } => FieldProblem::OutOfRange {
                min: 1,
                max: awarded - paid,
            },
        }
    }
}

pub fn total_paid(recorded: &[RecordedPayment]) -> i64 {
    recorded.iter().map(|p| p.amount_cents).sum()
}

/// A new payment of `amount` keeps the total paid within the award.
pub fn check_payment(
    awarded: i64,
    recorded: &[RecordedPayment],
    amount: i64,
) -> Result<(), PaymentError> {
    if amount <= 0 {
        return Err(PaymentError::NotPositive { amount });
    }
    let paid = total_paid(recorded);
    if paid.saturating_add(amount) > awarded {
        return Err(PaymentError::AboveAwarded {
            amount,
            paid,
            awarded,
        });
    }
    Ok(())
}

/// A new payment of a scheduled item: the item is in the schedule, and the total paid
/// stays within the award. An item may be paid in several parts; only the award bounds
/// the total (the schedule is the plan, the award the promise).
pub fn check_scheduled_payment(
    schedule: &PaymentSchedule,
    awarded: i64,
    recorded: &[RecordedPayment],
    kind: Option<PaymentKind>,
    amount: i64,
) -> Result<(), PaymentError> {
    if let Some(kind) = kind
        && !schedule.payments().iter().any(|p| p.kind == kind)
    {
        return Err(PaymentError::NotScheduled { kind });
    }
    check_payment(awarded, recorded, amount)
}

/// Every cent awarded has been paid: the guard of closing a dossier.
pub fn payments_complete(awarded: i64, recorded: &[RecordedPayment]) -> bool {
    awarded > 0 && total_paid(recorded) == awarded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_award_stays_within_the_maximum_and_the_envelope() {
        assert_eq!(check_award(150_000, 200_000, 150_000), Ok(()));
        assert_eq!(
            check_award(150_001, 200_000, 150_000),
            Err(ApprovalError::AboveEnvelope {
                awarded: 150_001,
                remaining: 150_000
            })
        );
        assert_eq!(
            check_award(200_001, 200_000, 1_000_000),
            Err(ApprovalError::AboveMaximum {
                awarded: 200_001,
                maximum: 200_000
            })
        );
        // Above both: the maximum is named.
        assert_eq!(
            check_award(300_000, 200_000, 0).map_err(|e| e.code()),
            Err("award_above_maximum")
        );
        assert_eq!(
            check_award(0, 200_000, 200_000),
            Err(ApprovalError::NotPositive { awarded: 0 })
        );
    }

    #[test]
    fn a_schedule_adds_up_to_the_award() {
        let rate = |bp| Rate::basis_points(bp).unwrap();
        let schedule = PaymentSchedule::advance_and_balance(300_001, rate(5000));
        assert_eq!(
            schedule.payments(),
            [
                ScheduledPayment {
                    kind: PaymentKind::Advance,
                    amount_cents: 150_000
                },
                ScheduledPayment {
                    kind: PaymentKind::Balance,
                    amount_cents: 150_001
                },
            ]
        );
        assert_eq!(schedule.total_cents(), 300_001);
        let balance_only = PaymentSchedule::advance_and_balance(1000, rate(0));
        assert_eq!(balance_only.payments()[0].kind, PaymentKind::Balance);
        assert_eq!(balance_only.payments().len(), 1);
        let advance_only = PaymentSchedule::advance_and_balance(1000, Rate::FULL);
        assert_eq!(advance_only.payments()[0].kind, PaymentKind::Advance);
        assert_eq!(advance_only.payments().len(), 1);
    }

    #[test]
    fn payments_never_exceed_the_award() {
        let day = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let advance = RecordedPayment {
            kind: Some(PaymentKind::Advance),
            amount_cents: 150_000,
            paid_on: day,
        };
        assert_eq!(check_payment(300_000, &[advance], 150_000), Ok(()));
        let error = check_payment(300_000, &[advance], 150_001).unwrap_err();
        assert_eq!(
            error,
            PaymentError::AboveAwarded {
                amount: 150_001,
                paid: 150_000,
                awarded: 300_000
            }
        );
        assert_eq!(
            error.problem(),
            FieldProblem::OutOfRange {
                min: 1,
                max: 150_000
            }
        );
        assert_eq!(
            check_payment(300_000, &[], 0),
            Err(PaymentError::NotPositive { amount: 0 })
        );
        assert!(!payments_complete(300_000, &[advance]));
        let balance = RecordedPayment {
            kind: Some(PaymentKind::Balance),
            ..advance
        };
        assert!(payments_complete(300_000, &[advance, balance]));
        assert!(!payments_complete(0, &[]));
    }

    #[test]
    fn a_payment_input_names_every_bad_field() {
        let good = PaymentInput {
            kind: Some("advance".into()),
            amount_cents: 150_000,
            paid_on: "2027-03-01".into(),
            reference: "MANDAT-2027-0042".into(),
        };
        let payment = NewPayment::parse(&good).unwrap();
        assert_eq!(payment.kind, Some(PaymentKind::Advance));
        assert_eq!(
            payment.paid_on,
            NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()
        );
        assert!(
            NewPayment::parse(&PaymentInput {
                kind: None,
                ..good.clone()
            })
            .is_ok()
        );
        let bad = PaymentInput {
            kind: Some("bonus".into()),
            amount_cents: 0,
            paid_on: "01/03/2027".into(),
            reference: "a\0b".into(),
        };
        let fields: Vec<(String, &str)> = NewPayment::parse(&bad)
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| (e.field, e.problem.code()))
            .collect();
        assert_eq!(
            fields,
            [
                ("kind".to_owned(), "not_one_of"),
                ("amount_cents".to_owned(), "out_of_range"),
                ("paid_on".to_owned(), "date_format"),
                ("reference".to_owned(), "control_character"),
            ]
        );
        let huge = PaymentInput {
            amount_cents: FEE_MAX + 1,
            reference: "x".repeat(PAYMENT_REFERENCE_MAX + 1),
            ..good
        };
        assert_eq!(NewPayment::parse(&huge).unwrap_err().errors.len(), 2);
    }

    #[test]
    fn a_payment_names_an_item_of_the_schedule_or_none() {
        let single = PaymentSchedule::advance_and_balance(1000, Rate::FULL);
        assert_eq!(
            check_scheduled_payment(&single, 1000, &[], Some(PaymentKind::Balance), 10),
            Err(PaymentError::NotScheduled {
                kind: PaymentKind::Balance
            })
        );
        assert_eq!(
            PaymentError::NotScheduled {
                kind: PaymentKind::Balance
            }
            .field(),
            "kind"
        );
        assert_eq!(
            check_scheduled_payment(&single, 1000, &[], Some(PaymentKind::Advance), 1000),
            Ok(())
        );
        assert_eq!(
            check_scheduled_payment(&single, 1000, &[], None, 1000),
            Ok(())
        );
        assert_eq!(
            check_scheduled_payment(&single, 1000, &[], None, 1001).map_err(|e| e.field()),
            Err("amount_cents")
        );
    }
}

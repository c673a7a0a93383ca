//! The decision's amount and its payments (versements): never above what the rules
//! allow nor what the envelope holds; never paid beyond what was awarded.

use chrono::NaiveDate;

use super::rules::Rate;
use crate::validation::FieldProblem;

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
    pub kind: PaymentKind,
    pub amount_cents: i64,
    pub paid_on: NaiveDate,
}

/// Why a payment cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("a payment must be positive ({amount} cents)")]
    NotPositive { amount: i64 },
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
            Self::AboveAwarded { .. } => "payment_above_awarded",
        }
    }

    /// The problem to report at the payment's `amount_cents`.
    pub fn problem(&self) -> FieldProblem {
        match self {
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
            kind: PaymentKind::Advance,
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
            kind: PaymentKind::Balance,
            ..advance
        };
        assert!(payments_complete(300_000, &[advance, balance]));
        assert!(!payments_complete(0, &[]));
    }
}

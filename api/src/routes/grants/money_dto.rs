//! Wire types of a dossier's payments (versements), final report (bilan) and attention
//! flags.

use chrono::{DateTime, NaiveDate, Utc};
use domain::PerformanceId;
use domain::grants::{
    AttentionKind, FinalReportInput, FinalReportStatus, HeldInput, PaymentInput, PaymentKind,
    PaymentSchedule, payments_complete, total_paid,
};
use persistence::grants::attention::Flag;
use persistence::grants::final_reports::FinalReport;
use persistence::grants::payments::Payment;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dossier_dto::{BudgetInputDto, BudgetView};
use crate::enums;

/// A payment staff record: never more than awarded in total.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "advance", "amount_cents": 75000, "paid_on": "2027-03-01",
    "reference": "MANDAT-2027-0042"
}))]
pub struct RecordPayment {
    /// The scheduled item it pays, if any: one the schedule holds.
    #[schema(value_type = Option<enums::PaymentKind>)]
    pub kind: Option<String>,
    /// In euro cents.
    #[serde(deserialize_with = "crate::http::extract::integer")]
    #[schema(minimum = 1, maximum = 10_000_000_000i64)]
    pub amount_cents: i64,
    #[schema(value_type = NaiveDate)]
    pub paid_on: String,
    /// The transfer's reference (numéro de mandat).
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 100
    )]
    pub reference: String,
}

impl From<RecordPayment> for PaymentInput {
    fn from(dto: RecordPayment) -> Self {
        Self {
            kind: dto.kind,
            amount_cents: dto.amount_cents,
            paid_on: dto.paid_on,
            reference: dto.reference,
        }
    }
}

/// The plan of an award's payments: the advance's share, the balance the rest.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"advance_basis_points": 3000}))]
pub struct ReplaceSchedule {
    /// The advance's share of the award in basis points (5000 = 50 %); 0 pays the
    /// whole award as the balance, 10000 as the advance.
    #[serde(deserialize_with = "crate::http::extract::integer")]
    #[schema(minimum = 0, maximum = 10000)]
    pub advance_basis_points: i64,
}

/// One planned payment, and what was paid against it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduledPaymentView {
    #[schema(value_type = enums::PaymentKind)]
    pub kind: PaymentKind,
    pub amount_cents: i64,
    /// The payments recorded for this item.
    pub paid_cents: i64,
}

/// One payment made.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: String,
    #[schema(value_type = Option<enums::PaymentKind>)]
    pub kind: Option<PaymentKind>,
    pub amount_cents: i64,
    pub paid_on: NaiveDate,
    pub reference: String,
    pub recorded_at: DateTime<Utc>,
}

/// A dossier's payments: the schedule, what was paid, and what is left.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentsView {
    /// What the approval awarded; null before a decision.
    pub awarded_cents: Option<i64>,
    /// The advance's share of the award, in basis points; null before a decision.
    pub advance_basis_points: Option<i64>,
    pub schedule: Vec<ScheduledPaymentView>,
    /// Oldest first.
    pub payments: Vec<PaymentView>,
    pub paid_cents: i64,
    pub remaining_cents: i64,
    /// Every cent awarded was paid: one of the two conditions of closing.
    pub complete: bool,
}

impl PaymentsView {
    pub fn of(
        awarded: Option<i64>,
        schedule: Option<(i64, &PaymentSchedule)>,
        payments: &[Payment],
    ) -> Self {
        let recorded: Vec<_> = payments.iter().map(Payment::recorded).collect();
        let paid = total_paid(&recorded);
        let awarded_cents = awarded.unwrap_or(0);
        Self {
            awarded_cents: awarded,
            advance_basis_points: schedule.map(|(bp, _)| bp),
            schedule: schedule
                .map(|(_, s)| {
                    s.payments()
                        .iter()
                        .map(|item| ScheduledPaymentView {
                            kind: item.kind,
                            amount_cents: item.amount_cents,
                            paid_cents: payments
                                .iter()
                                .filter(|p| p.kind == Some(item.kind))
                                .map(|p| p.amount_cents)
                                .sum(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            payments: payments
                .iter()
                .map(|p| PaymentView {
                    id: p.id.clone(),
                    kind: p.kind,
                    amount_cents: p.amount_cents,
                    paid_on: p.paid_on,
                    reference: p.reference.clone(),
                    recorded_at: p.recorded_at,
                })
                .collect(),
            paid_cents: paid,
            remaining_cents: (awarded_cents - paid).max(0),
            complete: payments_complete(awarded_cents, &recorded),
        }
    }
}

/// One performance actually held.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeldPerformanceInput {
    /// One of the dossier's performances.
    #[schema(value_type = uuid::Uuid)]
    pub performance_id: PerformanceId,
    /// Spectators.
    #[serde(deserialize_with = "crate::http::extract::integer")]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub attendance: i64,
}

/// A dossier's final report (bilan), sent whole: the performances actually held (some
/// of the dossier's), their attendance, the final budget and a comment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "held": [{"performance_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d12", "attendance": 180}],
    "budget": {
        "expenses": [{"category": "artistic_pay", "amount_cents": 300000}],
        "incomes": [{"category": "fees", "amount_cents": 200000}, {"category": "agency_request", "amount_cents": 100000}]
    },
    "comment": "Salle comble à Millau."
}))]
pub struct PutFinalReport {
    #[schema(max_items = 1000)]
    pub held: Vec<HeldPerformanceInput>,
    #[serde(default)]
    pub budget: BudgetInputDto,
    #[schema(
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$",
        max_length = 5000
    )]
    pub comment: Option<String>,
}

impl From<PutFinalReport> for FinalReportInput {
    fn from(dto: PutFinalReport) -> Self {
        Self {
            held: dto
                .held
                .into_iter()
                .map(|h| HeldInput {
                    performance_id: h.performance_id,
                    attendance: h.attendance,
                })
                .collect(),
            budget: dto.budget.into(),
            comment: dto.comment,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeldPerformanceView {
    pub performance_id: uuid::Uuid,
    pub attendance: i64,
}

/// A dossier's final report.
#[derive(Debug, Serialize, ToSchema)]
pub struct FinalReportView {
    pub dossier_id: uuid::Uuid,
    #[schema(value_type = enums::FinalReportStatus)]
    pub status: FinalReportStatus,
    pub held: Vec<HeldPerformanceView>,
    pub total_attendance: i64,
    pub budget: BudgetView,
    pub comment: Option<String>,
    pub submitted_at: DateTime<Utc>,
    /// When staff accepted it or asked for changes.
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl From<&FinalReport> for FinalReportView {
    fn from(report: &FinalReport) -> Self {
        Self {
            dossier_id: report.dossier_id.as_uuid(),
            status: report.status,
            held: report
                .content
                .held
                .iter()
                .map(|h| HeldPerformanceView {
                    performance_id: h.performance_id.as_uuid(),
                    attendance: h.attendance,
                })
                .collect(),
            total_attendance: report.content.total_attendance(),
            budget: BudgetView::from(&report.content.budget),
            comment: report.content.comment.clone(),
            submitted_at: report.submitted_at,
            decided_at: report.decided_at,
            version: report.version,
        }
    }
}

/// Something staff should look at on a dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionFlagView {
    pub id: uuid::Uuid,
    #[schema(value_type = enums::AttentionKind)]
    pub kind: AttentionKind,
    pub performance_id: uuid::Uuid,
    pub raised_at: DateTime<Utc>,
    /// When staff cleared it; null while it stands.
    pub cleared_at: Option<DateTime<Utc>>,
}

impl From<&Flag> for AttentionFlagView {
    fn from(flag: &Flag) -> Self {
        Self {
            id: flag.id.as_uuid(),
            kind: flag.kind,
            performance_id: flag.performance_id.as_uuid(),
            raised_at: flag.raised_at,
            cleared_at: flag.cleared_at,
        }
    }
}

/// A dossier's attention flags, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionList {
    pub data: Vec<AttentionFlagView>,
}

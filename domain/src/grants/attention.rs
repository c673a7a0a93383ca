//! What staff should look at on a dossier (à examiner), raised by events elsewhere.

use crate::programming::PerformanceStatus;
use crate::validation::FieldProblem;

string_enum!(
    /// Why a dossier asks for staff's attention.
    AttentionKind {
        /// A performance it funds, or asks to fund, was cancelled.
        PerformanceCancelled = "performance_cancelled",
        /// A performance it funds, or asks to fund, was deleted.
        PerformanceDeleted = "performance_deleted",
    }
);

/// Whether a performance's change of status is a cancellation its dossiers should be
/// flagged for: it becomes `cancelled` (and was not already).
pub fn is_cancellation(before: PerformanceStatus, after: PerformanceStatus) -> bool {
    before != PerformanceStatus::Cancelled && after == PerformanceStatus::Cancelled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_becoming_cancelled_is_a_cancellation() {
        for before in PerformanceStatus::ALL {
            for after in PerformanceStatus::ALL {
                let expected = *before != PerformanceStatus::Cancelled
                    && *after == PerformanceStatus::Cancelled;
                assert_eq!(
                    is_cancellation(*before, *after),
                    expected,
                    "{before} → {after}"
                );
            }
        }
    }
}

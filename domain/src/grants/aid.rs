//! The maximum aid the rules give a dossier, per performance and in total, and which
//! rule limited it.

use std::collections::HashMap;

use super::eligibility::{FundedPerformance, performance_ineligibilities};
use super::rules::{CapHolder, EligibleBase, Rules};
use crate::ids::{PerformanceId, StructureId};
use crate::validation::FieldProblem;

string_enum!(
    /// The rule that set an aid where it is.
    Limit {
        /// The rate of the eligible base: no cap was reached.
        Rate = "rate",
        /// The rate gives less than the minimum aid, so the performance gets none.
        Floor = "floor",
        CapPerPerformance = "cap_per_performance",
        CapPerDossier = "cap_per_dossier",
        /// A yearly cap in euros (of the presenter or of the applicant).
        YearlyCapAmount = "yearly_cap_amount",
        /// A yearly cap in number of performances.
        YearlyCapCount = "yearly_cap_count",
        /// What is left of the call's budget envelope.
        Envelope = "envelope",
        /// The performance is not one the programme funds (see the eligibility).
        NotEligible = "not_eligible",
    }
);

impl Limit {
    /// How strongly a limit speaks for the total: the total names the strongest limit
    /// met anywhere (the envelope over the dossier cap over the yearly caps, and so on
    /// down to the plain rate).
    fn strength(self) -> u8 {
        match self {
            Self::Envelope => 7,
            Self::CapPerDossier => 6,
            Self::YearlyCapAmount => 5,
            Self::YearlyCapCount => 4,
            Self::CapPerPerformance => 3,
            Self::Floor => 2,
            Self::NotEligible => 1,
            Self::Rate => 0,
        }
    }
}

/// What one holder has already received in one calendar year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub amount_cents: i64,
    pub performances: u32,
}

impl Tally {
    fn add(&mut self, cents: i64) {
        self.amount_cents = self.amount_cents.saturating_add(cents);
        self.performances = self.performances.saturating_add(1);
    }
}

/// What the yearly caps count: aid and performances of the dossiers already approved
/// under the programme, per presenter and per year, and for the applicant per year
/// (the caller sums them from its records; the dossier being computed is not in them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlreadyApproved {
    presenters: HashMap<(StructureId, i32), Tally>,
    applicant: HashMap<i32, Tally>,
}

impl AlreadyApproved {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn with_presenter(mut self, presenter: StructureId, year: i32, tally: Tally) -> Self {
        self.presenters.insert((presenter, year), tally);
        self
    }

    pub fn with_applicant(mut self, year: i32, tally: Tally) -> Self {
        self.applicant.insert(year, tally);
        self
    }
}

/// What an award of `awarded` cents gives each performance, as the yearly caps count
/// it once approved: each performance's computed aid in turn, in the dossier's order,
/// until the award is spent (an award below the maximum funds the first performances
/// first). Performances left with nothing are not listed.
pub fn awarded_per_performance(
    maximum: &AidComputation,
    awarded: i64,
) -> Vec<(PerformanceId, i64)> {
    let mut left = awarded.max(0);
    maximum
        .performances
        .iter()
        .filter_map(|aid| {
            let cents = aid.aid_cents.min(left);
            left -= cents;
            (cents > 0).then_some((aid.performance, cents))
        })
        .collect()
}

/// The aid one performance may receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerformanceAid {
    pub performance: PerformanceId,
    /// The eligible base (the fee), 0 when unknown.
    pub base_cents: i64,
    pub aid_cents: i64,
    pub limited_by: Limit,
    /// Whose yearly cap it was, when `limited_by` is a yearly cap.
    pub cap_holder: Option<CapHolder>,
}

/// The maximum aid of a dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AidComputation {
    /// In the order the performances were given.
    pub performances: Vec<PerformanceAid>,
    /// The sum of the performances' aids, bounded by the envelope.
    pub total_cents: i64,
    /// The envelope when it bounded the total; otherwise the strongest limit any
    /// performance met ([`Limit::NotEligible`] for a dossier without performances).
    pub limited_by: Limit,
}

/// Lowers the aid to `ceiling` if above it, naming the limit.
fn cut(aid: &mut PerformanceAid, ceiling: i64, limit: Limit, holder: Option<CapHolder>) {
    if aid.aid_cents > ceiling {
        aid.aid_cents = ceiling.max(0);
        aid.limited_by = limit;
        aid.cap_holder = holder;
    }
}

/// The maximum aid the rules give these performances of the applicant whose approved
/// aid `approved` holds.
///
/// Performances are taken in date order (the given order among those of one day), so
/// that the yearly caps fund the earliest first. For each eligible performance:
///
/// 1. the rate of the base (rounded down to the cent): limit `rate`;
/// 2. at most the cap per performance: `cap_per_performance`;
/// 3. for each yearly cap, counting what is already approved and the earlier
///    performances of this dossier: none once the holder has its number of funded
///    performances (`yearly_cap_count`), at most what is left of its amount
///    (`yearly_cap_amount`);
/// 4. at most what is left of the cap per dossier: `cap_per_dossier`;
/// 5. **the floor is a threshold, not a top-up**: an aid below it is no aid. Région
///    Occitanie's scheme reads "up to 50 % of the cession contract, at least 500 € and
///    at most 2,000 € per performance": a performance whose aid comes to 499 € gets
///    nothing (`floor` when the rate gave too little; the cap's name when a cap cut it
///    below the floor), and raising it to 500 € would fund more than 50 % of the
///    contract. A performance that gets nothing counts towards no yearly cap.
///
/// A performance the rules do not fund (place, population, no fee, cancelled…) gets
/// nothing: `not_eligible`. Finally the total is bounded by `envelope_remaining`
/// when given: `envelope` (the performances keep what the rules give them).
pub fn compute_aid(
    rules: &Rules,
    performances: &[FundedPerformance],
    approved: &AlreadyApproved,
    envelope_remaining: Option<i64>,
) -> AidComputation {
    let amounts = rules.amounts();
    let mut order: Vec<usize> = (0..performances.len()).collect();
    order.sort_by_key(|&i| performances[i].date);
    let mut presenters = approved.presenters.clone();
    let mut by_applicant = approved.applicant.clone();
    let mut dossier_total: i64 = 0;
    let mut aids: Vec<Option<PerformanceAid>> = vec![None; performances.len()];
    let mut seen: Vec<PerformanceId> = Vec::new();
    for i in order {
        let performance = &performances[i];
        let base = match amounts.base {
            EligibleBase::Fee => performance.fee_cents.unwrap_or(0).max(0),
        };
        let mut aid = PerformanceAid {
            performance: performance.id,
            base_cents: base,
            aid_cents: 0,
            limited_by: Limit::NotEligible,
            cap_holder: None,
        };
        let duplicate = seen.contains(&performance.id);
        seen.push(performance.id);
        if duplicate || !performance_ineligibilities(rules, performance).is_empty() {
            aids[i] = Some(aid);
            continue;
        }
        aid.aid_cents = amounts.rate_basis_points.of(base);
        aid.limited_by = Limit::Rate;
        if let Some(cap) = amounts.cap_per_performance_cents {
            cut(&mut aid, cap, Limit::CapPerPerformance, None);
        }
        let year = performance.year();
        for cap in &amounts.yearly_caps {
            let tally = match (cap.per, performance.presenter) {
                (CapHolder::Presenter, Some(presenter)) => presenters
                    .get(&(presenter, year))
                    .copied()
                    .unwrap_or_default(),
                // Refused above: performance_ineligibilities asks for a presenter.
                (CapHolder::Presenter, None) => continue,
                (CapHolder::Applicant, _) => by_applicant.get(&year).copied().unwrap_or_default(),
            };
            let holder = Some(cap.per);
            if let Some(count) = cap.performances
                && tally.performances >= count
            {
                cut(&mut aid, 0, Limit::YearlyCapCount, holder);
            }
            if let Some(amount) = cap.amount_cents {
                let left = amount.saturating_sub(tally.amount_cents);
                cut(&mut aid, left, Limit::YearlyCapAmount, holder);
            }
        }
        if let Some(cap) = amounts.cap_per_dossier_cents {
            cut(
                &mut aid,
                cap.saturating_sub(dossier_total),
                Limit::CapPerDossier,
                None,
            );
        }
        if let Some(floor) = amounts.floor_cents
            && aid.aid_cents < floor
        {
            aid.aid_cents = 0;
            if aid.limited_by == Limit::Rate {
                aid.limited_by = Limit::Floor;
            }
        }
        if aid.aid_cents > 0 {
            dossier_total = dossier_total.saturating_add(aid.aid_cents);
            by_applicant.entry(year).or_default().add(aid.aid_cents);
            if let Some(presenter) = performance.presenter {
                presenters
                    .entry((presenter, year))
                    .or_default()
                    .add(aid.aid_cents);
            }
        }
        aids[i] = Some(aid);
    }
    let performances: Vec<PerformanceAid> = aids.into_iter().flatten().collect();
    let mut limited_by = performances
        .iter()
        .map(|p| p.limited_by)
        .max_by_key(|l| l.strength())
        .unwrap_or(Limit::NotEligible);
    let mut total_cents = dossier_total;
    if let Some(remaining) = envelope_remaining
        && total_cents > remaining
    {
        total_cents = remaining.max(0);
        limited_by = Limit::Envelope;
    }
    AidComputation {
        performances,
        total_cents,
        limited_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aid(cents: i64) -> PerformanceAid {
        PerformanceAid {
            performance: PerformanceId::generate(),
            base_cents: cents * 2,
            aid_cents: cents,
            limited_by: Limit::Rate,
            cap_holder: None,
        }
    }

    #[test]
    fn an_award_below_the_maximum_funds_the_first_performances_first() {
        let maximum = AidComputation {
            performances: vec![aid(150_000), aid(0), aid(150_000), aid(100_000)],
            total_cents: 400_000,
            limited_by: Limit::Rate,
        };
        let ids: Vec<PerformanceId> = maximum.performances.iter().map(|p| p.performance).collect();
        assert_eq!(
            awarded_per_performance(&maximum, 200_000),
            [(ids[0], 150_000), (ids[2], 50_000)]
        );
        assert_eq!(
            awarded_per_performance(&maximum, 400_000),
            [(ids[0], 150_000), (ids[2], 150_000), (ids[3], 100_000)]
        );
        assert!(awarded_per_performance(&maximum, 0).is_empty());
        assert!(awarded_per_performance(&maximum, -5).is_empty());
    }
}

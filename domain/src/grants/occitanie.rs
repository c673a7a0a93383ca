//! Real schemes, written as data: what the demo seed ships.

use super::form::{AnswerKind, Question, QuestionKey};
use super::programme::{NewProgramme, ProgrammeCode, ProgrammeKind};
use super::review::{CriterionKey, ReviewCriterion};
use super::rules::{
    AmountRule, ApplicantRule, CapHolder, DocumentKind, EligibleBase, PerformanceRule, PlaceRule,
    Rate, RegionCode, Rules, RulesInput, YearlyCap,
};
use crate::structures::StructureKind;

/// Région Occitanie's « aide à la diffusion de proximité »: up to 50 % of the cession
/// contract, at least 500 € and at most 2,000 € per performance, at most 4,000 € and 5
/// performances per presenter (the venue) and calendar year, for a venue in an
/// Occitanie commune of fewer than 15,000 inhabitants presenting a company based in
/// Occitanie. The company applies; the venue is the presenter of each performance.
pub fn diffusion_de_proximite() -> NewProgramme {
    let occitanie = RegionCode::occitanie();
    let question = |key: &str, label: &str, required, answer| Question {
        key: QuestionKey(key.to_owned()),
        label: label.to_owned(),
        help: None,
        required,
        answer,
    };
    NewProgramme {
        code: ProgrammeCode("DIFF-PROX".to_owned()),
        name: "Aide à la diffusion de proximité".to_owned(),
        description: Some(
            "Région Occitanie : jusqu'à 50 % du contrat de cession, au moins 500 € et au plus \
             2 000 € par représentation, au plus 4 000 € et 5 représentations par lieu et par \
             an, pour un lieu situé dans une commune de moins de 15 000 habitants qui accueille \
             une compagnie implantée en Occitanie."
                .to_owned(),
        ),
        kind: ProgrammeKind::Diffusion,
        published: true,
        rules: Rules::unchecked(RulesInput {
            applicants: ApplicantRule {
                kinds: vec![StructureKind::Company],
                based_in_region: Some(occitanie.clone()),
            },
            performances: PerformanceRule {
                places: vec![PlaceRule::InRegion { region: occitanie }],
                commune_population_below: Some(15_000),
                min_performances: 1,
                max_performances: None,
            },
            amounts: AmountRule {
                base: EligibleBase::Fee,
                rate_basis_points: Rate::HALF,
                floor_cents: Some(50_000),
                cap_per_performance_cents: Some(200_000),
                cap_per_dossier_cents: None,
                yearly_caps: vec![YearlyCap {
                    per: CapHolder::Presenter,
                    amount_cents: Some(400_000),
                    performances: Some(5),
                }],
            },
            documents: vec![DocumentKind::CessionContract, DocumentKind::BankDetails],
            questions: vec![
                question(
                    "audience",
                    "Public visé",
                    true,
                    AnswerKind::Choice {
                        options: vec![
                            "tout public".to_owned(),
                            "jeune public".to_owned(),
                            "scolaire".to_owned(),
                        ],
                    },
                ),
                question(
                    "cultural_action",
                    "Une action culturelle accompagne-t-elle la représentation ?",
                    true,
                    AnswerKind::YesNo,
                ),
                question(
                    "expected_attendance",
                    "Fréquentation attendue",
                    false,
                    AnswerKind::Number {
                        min: Some(0),
                        max: Some(100_000),
                    },
                ),
            ],
        }),
        // What the committee scores: the venue's roots in its territory, the artistic
        // quality, a realistic budget (the artistic quality counts twice).
        review_criteria: vec![
            criterion("ancrage_territorial", "Ancrage territorial", 10, 1),
            criterion("qualite_artistique", "Qualité artistique", 10, 2),
            criterion("budget_realiste", "Budget réaliste", 5, 1),
        ],
    }
}

fn criterion(key: &str, label: &str, max_score: u32, weight: u32) -> ReviewCriterion {
    ReviewCriterion {
        key: CriterionKey(key.to_owned()),
        label: label.to_owned(),
        max_score,
        weight,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::grants::aid::{AidComputation, AlreadyApproved, Limit, Tally, compute_aid};
    use crate::grants::eligibility::{
        Applicant, FundedPerformance, Ineligibility, ineligibilities,
    };
    use crate::ids::{PerformanceId, StructureId};
    use crate::programming::Location;

    fn rules() -> Rules {
        diffusion_de_proximite().rules
    }

    #[test]
    fn its_review_criteria_pass_their_own_checks() {
        let criteria = diffusion_de_proximite().review_criteria;
        let inputs: Vec<crate::grants::CriterionInput> = criteria
            .iter()
            .map(|c| crate::grants::CriterionInput {
                key: c.key.to_string(),
                label: c.label.clone(),
                max_score: i64::from(c.max_score),
                weight: Some(i64::from(c.weight)),
            })
            .collect();
        assert_eq!(ReviewCriterion::parse_all(&inputs), Ok(criteria));
    }

    fn company(region: &str) -> Applicant {
        Applicant {
            id: StructureId::generate(),
            kind: StructureKind::Company,
            region_code: Some(region.to_owned()),
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A performance in an Occitanie commune of `population`, at `venue`.
    fn at(
        venue: StructureId,
        fee_euros: f64,
        population: i64,
        date: NaiveDate,
    ) -> FundedPerformance {
        FundedPerformance {
            id: PerformanceId::generate(),
            fee_cents: Some((fee_euros * 100.0).round() as i64),
            location: Location {
                commune_code: Some("34172".to_owned()),
                department_code: Some("34".to_owned()),
                region_code: Some("76".to_owned()),
                country_code: Some("FR".to_owned()),
            },
            commune_population: Some(population),
            presenter: Some(venue),
            date,
            cancelled: false,
        }
    }

    fn one(performance: FundedPerformance) -> AidComputation {
        compute_aid(&rules(), &[performance], &AlreadyApproved::none(), None)
    }

    fn aid_and_limit(computation: &AidComputation) -> Vec<(i64, Limit)> {
        computation
            .performances
            .iter()
            .map(|p| (p.aid_cents, p.limited_by))
            .collect()
    }

    #[test]
    fn the_scheme_passes_its_own_checks_and_travels_as_json() {
        let scheme = diffusion_de_proximite();
        assert_eq!(
            Rules::new(scheme.rules.input().clone()),
            Ok(scheme.rules.clone())
        );
        assert_eq!(ProgrammeCode::parse("DIFF-PROX"), Ok(scheme.code.clone()));
        for question in scheme.rules.questions() {
            assert_eq!(
                QuestionKey::parse(question.key.as_ref()),
                Ok(question.key.clone())
            );
        }
        let json = serde_json::to_value(&scheme.rules).unwrap();
        assert_eq!(json["amounts"]["rate_basis_points"], 5000);
        assert_eq!(json["amounts"]["yearly_caps"][0]["per"], "presenter");
        assert_eq!(json["performances"]["places"][0]["area"], "in_region");
        assert_eq!(serde_json::from_value::<Rules>(json).unwrap(), scheme.rules);
    }

    #[test]
    fn an_aid_of_499_euros_is_below_the_floor_and_gives_nothing() {
        let venue = StructureId::generate();
        let computation = one(at(venue, 998.0, 800, day(2026, 6, 1)));
        assert_eq!(aid_and_limit(&computation), [(0, Limit::Floor)]);
        assert_eq!(computation.total_cents, 0);
        assert_eq!(computation.limited_by, Limit::Floor);
        // A cent short of 500 € is short all the same.
        let just_below = one(at(venue, 999.98, 800, day(2026, 6, 1)));
        assert_eq!(aid_and_limit(&just_below), [(0, Limit::Floor)]);
    }

    #[test]
    fn an_aid_of_500_euros_is_the_floor_and_is_given() {
        let computation = one(at(StructureId::generate(), 1000.0, 800, day(2026, 6, 1)));
        assert_eq!(aid_and_limit(&computation), [(50_000, Limit::Rate)]);
        assert_eq!(computation.total_cents, 50_000);
        assert_eq!(computation.limited_by, Limit::Rate);
        // Odd cents round down: 50 % of 1,000.01 € is 500.00 €.
        let odd = one(at(StructureId::generate(), 1000.01, 800, day(2026, 6, 1)));
        assert_eq!(aid_and_limit(&odd), [(50_000, Limit::Rate)]);
    }

    #[test]
    fn an_aid_of_2000_euros_is_the_rate_and_above_it_the_cap() {
        let venue = StructureId::generate();
        let exactly = one(at(venue, 4000.0, 800, day(2026, 6, 1)));
        assert_eq!(aid_and_limit(&exactly), [(200_000, Limit::Rate)]);
        let above = one(at(venue, 4000.02, 800, day(2026, 6, 1)));
        assert_eq!(aid_and_limit(&above), [(200_000, Limit::CapPerPerformance)]);
        assert_eq!(above.limited_by, Limit::CapPerPerformance);
        let far_above = one(at(venue, 12_000.0, 800, day(2026, 6, 1)));
        assert_eq!(
            aid_and_limit(&far_above),
            [(200_000, Limit::CapPerPerformance)]
        );
    }

    #[test]
    fn the_fifth_performance_at_a_presenter_in_a_year_is_funded_and_the_sixth_is_not() {
        let venue = StructureId::generate();
        let dates = (1..=6).map(|d| day(2026, 3, d));
        let performances: Vec<_> = dates.map(|d| at(venue, 1200.0, 800, d)).collect();
        let computation = compute_aid(&rules(), &performances, &AlreadyApproved::none(), None);
        let mut expected = vec![(60_000, Limit::Rate); 5];
        expected.push((0, Limit::YearlyCapCount));
        assert_eq!(aid_and_limit(&computation), expected);
        assert_eq!(
            computation.performances[5].cap_holder,
            Some(CapHolder::Presenter)
        );
        assert_eq!(computation.total_cents, 300_000);
        assert_eq!(computation.limited_by, Limit::YearlyCapCount);

        // Four already approved this year: this dossier's first is the 5th, its second
        // the 6th.
        let approved = AlreadyApproved::none().with_presenter(
            venue,
            2026,
            Tally {
                amount_cents: 200_000,
                performances: 4,
            },
        );
        let two = [
            at(venue, 1200.0, 800, day(2026, 9, 2)),
            at(venue, 1200.0, 800, day(2026, 9, 1)),
        ];
        let computation = compute_aid(&rules(), &two, &approved, None);
        // Given in this order, counted in date order: 1 September is the 5th.
        assert_eq!(
            aid_and_limit(&computation),
            [(0, Limit::YearlyCapCount), (60_000, Limit::Rate)]
        );

        // The next calendar year starts afresh, and another venue has its own count.
        let other_venue = StructureId::generate();
        let elsewhere = [
            at(venue, 1200.0, 800, day(2027, 1, 4)),
            at(other_venue, 1200.0, 800, day(2026, 9, 3)),
        ];
        let computation = compute_aid(&rules(), &elsewhere, &approved, None);
        assert_eq!(
            aid_and_limit(&computation),
            [(60_000, Limit::Rate), (60_000, Limit::Rate)]
        );
    }

    #[test]
    fn a_commune_of_14999_inhabitants_is_eligible_and_one_of_15000_is_not() {
        let applicant = company("76");
        let venue = StructureId::generate();
        let small = at(venue, 2000.0, 14_999, day(2026, 5, 5));
        assert_eq!(
            ineligibilities(&rules(), &applicant, std::slice::from_ref(&small)),
            []
        );
        assert_eq!(aid_and_limit(&one(small)), [(100_000, Limit::Rate)]);

        let large = at(venue, 2000.0, 15_000, day(2026, 5, 5));
        assert_eq!(
            ineligibilities(&rules(), &applicant, std::slice::from_ref(&large)),
            [Ineligibility::CommunePopulation {
                performance: large.id,
                population: 15_000,
                below: 15_000
            }]
        );
        let computation = one(large);
        assert_eq!(aid_and_limit(&computation), [(0, Limit::NotEligible)]);
        assert_eq!(computation.limited_by, Limit::NotEligible);
    }

    #[test]
    fn the_yearly_cap_of_4000_euros_per_presenter_holds() {
        let venue = StructureId::generate();
        let three: Vec<_> = (1..=3)
            .map(|d| at(venue, 5000.0, 800, day(2026, 4, d)))
            .collect();
        let computation = compute_aid(&rules(), &three, &AlreadyApproved::none(), None);
        assert_eq!(
            aid_and_limit(&computation),
            [
                (200_000, Limit::CapPerPerformance),
                (200_000, Limit::CapPerPerformance),
                (0, Limit::YearlyCapAmount)
            ]
        );
        assert_eq!(computation.total_cents, 400_000);
        assert_eq!(computation.limited_by, Limit::YearlyCapAmount);

        let approved = |cents| {
            AlreadyApproved::none().with_presenter(
                venue,
                2026,
                Tally {
                    amount_cents: cents,
                    performances: 1,
                },
            )
        };
        let next = [at(venue, 5000.0, 800, day(2026, 10, 1))];
        // 3,000 € approved: 1,000 € left, above the floor, given.
        let computation = compute_aid(&rules(), &next, &approved(300_000), None);
        assert_eq!(
            aid_and_limit(&computation),
            [(100_000, Limit::YearlyCapAmount)]
        );
        // 3,500 € approved: exactly the 500 € floor left.
        let computation = compute_aid(&rules(), &next, &approved(350_000), None);
        assert_eq!(
            aid_and_limit(&computation),
            [(50_000, Limit::YearlyCapAmount)]
        );
        // 3,600 € approved: 400 € left is below the floor, so nothing, named by the cap.
        let computation = compute_aid(&rules(), &next, &approved(360_000), None);
        assert_eq!(aid_and_limit(&computation), [(0, Limit::YearlyCapAmount)]);
        assert_eq!(
            computation.performances[0].cap_holder,
            Some(CapHolder::Presenter)
        );
    }

    #[test]
    fn the_envelope_bounds_the_total() {
        let venue = StructureId::generate();
        let two: Vec<_> = (1..=2)
            .map(|d| at(venue, 4000.0, 800, day(2026, 4, d)))
            .collect();
        let computation = compute_aid(&rules(), &two, &AlreadyApproved::none(), Some(300_000));
        assert_eq!(computation.total_cents, 300_000);
        assert_eq!(computation.limited_by, Limit::Envelope);
        assert_eq!(
            aid_and_limit(&computation),
            [(200_000, Limit::Rate), (200_000, Limit::Rate)]
        );
        let roomy = compute_aid(&rules(), &two, &AlreadyApproved::none(), Some(400_000));
        assert_eq!(
            (roomy.total_cents, roomy.limited_by),
            (400_000, Limit::Rate)
        );
    }

    #[test]
    fn every_reason_a_dossier_is_ineligible_is_listed() {
        let venue = Applicant {
            kind: StructureKind::Venue,
            region_code: Some("75".to_owned()),
            ..company("76")
        };
        let presenter = StructureId::generate();
        let mut outside = at(presenter, 2000.0, 800, day(2026, 5, 5));
        outside.location.region_code = Some("75".to_owned());
        let mut inline = at(presenter, 2000.0, 800, day(2026, 5, 6));
        inline.presenter = None;
        inline.fee_cents = None;
        let mut abroad = at(presenter, 2000.0, 800, day(2026, 5, 7));
        abroad.location = Location {
            country_code: Some("ES".to_owned()),
            ..Location::default()
        };
        abroad.commune_population = None;
        let mut cancelled = at(presenter, 2000.0, 800, day(2026, 5, 8));
        cancelled.cancelled = true;
        let performances = [
            outside.clone(),
            inline.clone(),
            abroad.clone(),
            cancelled.clone(),
            outside.clone(),
        ];
        let codes: Vec<(&str, Option<PerformanceId>)> =
            ineligibilities(&rules(), &venue, &performances)
                .iter()
                .map(|r| (r.code(), r.performance()))
                .collect();
        assert_eq!(
            codes,
            [
                ("applicant_kind", None),
                ("applicant_region", None),
                ("performance_place", Some(outside.id)),
                ("fee_missing", Some(inline.id)),
                ("presenter_missing", Some(inline.id)),
                ("performance_place", Some(abroad.id)),
                ("commune_population_unknown", Some(abroad.id)),
                ("performance_cancelled", Some(cancelled.id)),
                ("duplicate_performance", Some(outside.id)),
            ]
        );
        let computation = compute_aid(&rules(), &performances, &AlreadyApproved::none(), None);
        assert!(
            computation
                .performances
                .iter()
                .all(|p| p.limited_by == Limit::NotEligible)
        );
        assert_eq!(computation.total_cents, 0);
        assert_eq!(
            ineligibilities(&rules(), &company("76"), &[]),
            [Ineligibility::TooFewPerformances { count: 0, min: 1 }]
        );
        let none = compute_aid(&rules(), &[], &AlreadyApproved::none(), None);
        assert_eq!((none.total_cents, none.limited_by), (0, Limit::NotEligible));
    }
}

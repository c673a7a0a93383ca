//! Instruction: the review criteria (critères d'évaluation) a programme scores its
//! dossiers against, the reviews (avis) committee reviewers give, and the summary staff
//! read; the messages and private staff notes (notes internes) kept on a dossier.
//!
//! A review is assigned by staff while its dossier is submitted or in review. Its
//! reviewer then scores it (again as often as they like while the dossier is still
//! reviewable) or declares a conflict of interest (conflit d'intérêts): that is final,
//! it clears any score given, and from then on the reviewer sees nothing of the dossier.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::dossier::DossierStatus;
use crate::access::AccountId;
use crate::ids::{DossierId, ReviewId};
use crate::text::{self, compile};
use crate::validation::{FieldProblem, ValidationError};

/// At most this many criteria per programme.
pub const CRITERIA_MAX: usize = 20;
pub const CRITERION_LABEL_MAX: usize = 200;
/// The highest `max_score` a criterion may have.
pub const MAX_SCORE_CEILING: i64 = 1000;
/// The highest weight a criterion may have (the default is 1).
pub const WEIGHT_CEILING: i64 = 100;
/// Longest review comment, conflict reason, message and note, in characters.
pub const COMMENT_MAX: usize = 10_000;
pub const CONFLICT_REASON_MAX: usize = 2000;
pub const MESSAGE_MAX: usize = 10_000;

static CRITERION_KEY: LazyLock<Regex> =
    LazyLock::new(|| compile(super::form::QUESTION_KEY_PATTERN));

/// The key of a criterion (`ancrage_territorial`), spelt like a form question's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CriterionKey(pub(super) String);

impl CriterionKey {
    pub fn parse(value: &str) -> Result<Self, FieldProblem> {
        text::matching(value, &CRITERION_KEY, 64, FieldProblem::QuestionKeyFormat).map(Self)
    }
}

impl AsRef<str> for CriterionKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CriterionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CriterionKey {
    type Error = FieldProblem;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CriterionKey> for String {
    fn from(value: CriterionKey) -> Self {
        value.0
    }
}

/// A criterion as staff write it, before any check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionInput {
    pub key: String,
    pub label: String,
    pub max_score: i64,
    pub weight: Option<i64>,
}

/// One criterion a dossier is scored against, from 0 to `max_score`, counting `weight`
/// times in the weighted total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCriterion {
    pub key: CriterionKey,
    pub label: String,
    pub max_score: u32,
    pub weight: u32,
}

impl ReviewCriterion {
    /// Checks every criterion, naming each bad field under `review_criteria[i].`.
    pub fn parse_all(inputs: &[CriterionInput]) -> Result<Vec<Self>, ValidationError> {
        let mut errors = ValidationError::default();
        if inputs.len() > CRITERIA_MAX {
            return Err(ValidationError::single(
                "review_criteria",
                FieldProblem::TooMany { max: CRITERIA_MAX },
            ));
        }
        let mut criteria = Vec::with_capacity(inputs.len());
        for (i, input) in inputs.iter().enumerate() {
            let field = |name: &str| format!("review_criteria[{i}].{name}");
            let mut key = errors.check(|| field("key"), CriterionKey::parse(&input.key));
            if key
                .as_ref()
                .is_some_and(|k| criteria.iter().any(|c: &ReviewCriterion| c.key == *k))
            {
                errors.push(field("key"), FieldProblem::Duplicate);
                key = None;
            }
            let label = errors.check(
                || field("label"),
                text::single_line(&input.label, CRITERION_LABEL_MAX),
            );
            let max_score = errors.check(
                || field("max_score"),
                within(input.max_score, 1, MAX_SCORE_CEILING),
            );
            let weight = errors.check(
                || field("weight"),
                within(input.weight.unwrap_or(1), 1, WEIGHT_CEILING),
            );
            if let (Some(key), Some(label), Some(max_score), Some(weight)) =
                (key, label, max_score, weight)
            {
                criteria.push(Self {
                    key,
                    label,
                    max_score,
                    weight,
                });
            }
        }
        errors.into_result().map(|()| criteria)
    }
}

fn within(value: i64, min: i64, max: i64) -> Result<u32, FieldProblem> {
    if (min..=max).contains(&value) {
        u32::try_from(value).map_err(|_| FieldProblem::OutOfRange { min, max })
    } else {
        Err(FieldProblem::OutOfRange { min, max })
    }
}

/// A review's scores, one per criterion of its programme, each within its range.
pub type Scores = BTreeMap<CriterionKey, u32>;

/// The scores a reviewer sent, checked against the programme's criteria: every
/// criterion is required, each score within 0..=`max_score`, no other key; every
/// problem named under `scores.{key}`.
pub fn check_scores(
    criteria: &[ReviewCriterion],
    sent: &BTreeMap<String, i64>,
) -> Result<Scores, ValidationError> {
    let mut errors = ValidationError::default();
    let mut scores = Scores::new();
    for criterion in criteria {
        let field = format!("scores.{}", criterion.key);
        match sent.get(criterion.key.as_ref()) {
            None => errors.push(field, FieldProblem::Required),
            Some(score) => {
                if let Some(score) =
                    errors.check(field, within(*score, 0, i64::from(criterion.max_score)))
                {
                    scores.insert(criterion.key.clone(), score);
                }
            }
        }
    }
    for key in sent.keys() {
        if !criteria.iter().any(|c| c.key.as_ref() == key.as_str()) {
            // The key is echoed only once it is known to be plain: no odd bytes in a
            // field path.
            let shown = if CRITERION_KEY.is_match(key) {
                key.as_str()
            } else {
                "*"
            };
            errors.push(format!("scores.{shown}"), FieldProblem::NotAllowed);
        }
    }
    errors.into_result().map(|()| scores)
}

string_enum!(
    /// Where a review stands.
    ReviewStatus {
        /// Assigned by staff, not scored yet.
        Assigned = "assigned",
        /// Scored by its reviewer (who may score it again while the dossier is reviewable).
        Scored = "scored",
        /// Its reviewer declared a conflict of interest: final.
        Conflicted = "conflicted",
    }
);

/// Whether reviewers are assigned to a dossier in `status`, and score it.
pub fn reviewable(status: DossierStatus) -> bool {
    matches!(status, DossierStatus::Submitted | DossierStatus::InReview)
}

/// What a review's reviewer or staff may not do to it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// The reviewer declared a conflict of interest: nothing changes it any more.
    #[error("the review ended with a declared conflict of interest")]
    Conflicted,
    /// Only a review not scored yet, and with no conflict declared, is unassigned.
    #[error("a review is unassigned only before it is scored or a conflict declared")]
    NotUnassignable,
    /// The dossier is no longer (or not yet) submitted or in review.
    #[error("the dossier is not under review")]
    DossierNotReviewable,
}

/// A reviewer's review of one dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub id: ReviewId,
    pub dossier_id: DossierId,
    pub reviewer_id: AccountId,
    pub status: ReviewStatus,
    /// Empty until scored, and again once a conflict is declared.
    pub scores: Scores,
    pub comment: Option<String>,
    pub conflict_reason: Option<String>,
    /// The staff member who assigned it.
    pub assigned_by: AccountId,
    pub assigned_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Review {
    /// A new assignment of `reviewer` to a dossier in `status`.
    pub fn assign(
        dossier_id: DossierId,
        status: DossierStatus,
        reviewer_id: AccountId,
        assigned_by: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Self, ReviewError> {
        if !reviewable(status) {
            return Err(ReviewError::DossierNotReviewable);
        }
        Ok(Self {
            id: ReviewId::generate(),
            dossier_id,
            reviewer_id,
            status: ReviewStatus::Assigned,
            scores: Scores::new(),
            comment: None,
            conflict_reason: None,
            assigned_by,
            assigned_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// The review scored (or scored again), a version on.
    pub fn scored(
        &self,
        dossier: DossierStatus,
        scores: Scores,
        comment: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Self, ReviewError> {
        if self.status == ReviewStatus::Conflicted {
            return Err(ReviewError::Conflicted);
        }
        if !reviewable(dossier) {
            return Err(ReviewError::DossierNotReviewable);
        }
        Ok(Self {
            status: ReviewStatus::Scored,
            scores,
            comment,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// The review ended by a declared conflict of interest, its scores cleared. A
    /// reviewer may always step back, whatever the dossier's state.
    pub fn conflicted(&self, reason: String, now: DateTime<Utc>) -> Result<Self, ReviewError> {
        if self.status == ReviewStatus::Conflicted {
            return Err(ReviewError::Conflicted);
        }
        Ok(Self {
            status: ReviewStatus::Conflicted,
            scores: Scores::new(),
            comment: None,
            conflict_reason: Some(reason),
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// Whether staff may take the review back: only before anything was said in it.
    pub fn check_unassignable(&self) -> Result<(), ReviewError> {
        if self.status == ReviewStatus::Assigned {
            Ok(())
        } else {
            Err(ReviewError::NotUnassignable)
        }
    }
}

/// The mean score of one criterion over the scored reviews.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionMean {
    pub key: CriterionKey,
    pub max_score: u32,
    pub weight: u32,
    /// `None` while no review is scored; rounded to two decimals.
    pub mean: Option<f64>,
}

/// What staff read of a dossier's reviews at a glance.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewSummary {
    /// Every review assigned, whatever its state.
    pub reviews: usize,
    pub scored: usize,
    pub conflicts: usize,
    pub criteria: Vec<CriterionMean>,
    /// The sum of each criterion's mean times its weight (`None` while nothing is
    /// scored), out of `weighted_max`.
    pub weighted_total: Option<f64>,
    pub weighted_max: u64,
}

fn two_decimals(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The summary of `reviews` against the programme's `criteria` as they are now: a score
/// for a criterion since removed is left out, a criterion added since counts only the
/// reviews that scored it.
pub fn summarize(criteria: &[ReviewCriterion], reviews: &[Review]) -> ReviewSummary {
    let scored: Vec<&Review> = reviews
        .iter()
        .filter(|r| r.status == ReviewStatus::Scored)
        .collect();
    let means: Vec<CriterionMean> = criteria
        .iter()
        .map(|c| {
            let given: Vec<u32> = scored
                .iter()
                .filter_map(|r| r.scores.get(&c.key).copied())
                .collect();
            let mean = (!given.is_empty())
                .then(|| f64::from(given.iter().sum::<u32>()) / given.len() as f64);
            CriterionMean {
                key: c.key.clone(),
                max_score: c.max_score,
                weight: c.weight,
                mean,
            }
        })
        .collect();
    let weighted_total = means
        .iter()
        .filter_map(|m| m.mean.map(|mean| mean * f64::from(m.weight)))
        .reduce(|a, b| a + b)
        .map(two_decimals);
    ReviewSummary {
        reviews: reviews.len(),
        scored: scored.len(),
        conflicts: reviews
            .iter()
            .filter(|r| r.status == ReviewStatus::Conflicted)
            .count(),
        weighted_max: criteria
            .iter()
            .map(|c| u64::from(c.max_score) * u64::from(c.weight))
            .sum(),
        criteria: means
            .into_iter()
            .map(|m| CriterionMean {
                mean: m.mean.map(two_decimals),
                ..m
            })
            .collect(),
        weighted_total,
    }
}

string_enum!(
    /// Who wrote a message on a dossier: its applicant's side or the agency's.
    MessageSide {
        Applicant = "applicant",
        Staff = "staff",
    }
);

/// The text of a message or a note: several lines, no other control character (NUL
/// included), something visible, at most [`MESSAGE_MAX`] characters.
pub fn message_text(value: &str) -> Result<String, FieldProblem> {
    text::multi_line(value, MESSAGE_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(key: &str, max_score: i64, weight: Option<i64>) -> CriterionInput {
        CriterionInput {
            key: key.into(),
            label: format!("Critère {key}"),
            max_score,
            weight,
        }
    }

    fn criteria() -> Vec<ReviewCriterion> {
        ReviewCriterion::parse_all(&[input("quality", 10, Some(2)), input("budget", 5, None)])
            .unwrap()
    }

    #[test]
    fn criteria_default_to_a_weight_of_one() {
        let criteria = criteria();
        assert_eq!(criteria[0].weight, 2);
        assert_eq!(criteria[1].weight, 1);
        assert_eq!(criteria[1].max_score, 5);
    }

    #[test]
    fn every_bad_criterion_field_is_named() {
        let error = ReviewCriterion::parse_all(&[
            input("quality", 10, None),
            input("quality", 0, Some(0)),
            CriterionInput {
                key: "Bad Key".into(),
                label: "\u{0}".into(),
                max_score: MAX_SCORE_CEILING + 1,
                weight: Some(WEIGHT_CEILING + 1),
            },
        ])
        .unwrap_err();
        let fields: Vec<(&str, &FieldProblem)> = error
            .errors
            .iter()
            .map(|e| (e.field.as_str(), &e.problem))
            .collect();
        assert_eq!(
            fields,
            [
                ("review_criteria[1].key", &FieldProblem::Duplicate),
                (
                    "review_criteria[1].max_score",
                    &FieldProblem::OutOfRange { min: 1, max: 1000 }
                ),
                (
                    "review_criteria[1].weight",
                    &FieldProblem::OutOfRange { min: 1, max: 100 }
                ),
                ("review_criteria[2].key", &FieldProblem::QuestionKeyFormat),
                ("review_criteria[2].label", &FieldProblem::ControlCharacter),
                (
                    "review_criteria[2].max_score",
                    &FieldProblem::OutOfRange { min: 1, max: 1000 }
                ),
                (
                    "review_criteria[2].weight",
                    &FieldProblem::OutOfRange { min: 1, max: 100 }
                ),
            ]
        );
        let many: Vec<CriterionInput> = (0..=CRITERIA_MAX)
            .map(|i| input(&format!("c{i}"), 5, None))
            .collect();
        assert_eq!(
            ReviewCriterion::parse_all(&many).unwrap_err().errors[0].field,
            "review_criteria"
        );
    }

    #[test]
    fn scores_need_every_criterion_within_its_range_and_nothing_else() {
        let criteria = criteria();
        let sent = BTreeMap::from([
            ("quality".to_owned(), 11),
            ("other".to_owned(), 1),
            ("\u{0}x".to_owned(), 1),
        ]);
        let error = check_scores(&criteria, &sent).unwrap_err();
        let fields: Vec<(&str, &FieldProblem)> = error
            .errors
            .iter()
            .map(|e| (e.field.as_str(), &e.problem))
            .collect();
        assert_eq!(
            fields,
            [
                (
                    "scores.quality",
                    &FieldProblem::OutOfRange { min: 0, max: 10 }
                ),
                ("scores.budget", &FieldProblem::Required),
                ("scores.*", &FieldProblem::NotAllowed),
                ("scores.other", &FieldProblem::NotAllowed),
            ]
        );
        let good = BTreeMap::from([("quality".to_owned(), 0), ("budget".to_owned(), 5)]);
        let scores = check_scores(&criteria, &good).unwrap();
        assert_eq!(scores.len(), 2);
        assert_eq!(check_scores(&[], &BTreeMap::new()), Ok(Scores::new()));
        assert!(
            check_scores(
                &criteria,
                &BTreeMap::from([("quality".into(), -1), ("budget".into(), 0)])
            )
            .is_err()
        );
    }

    fn review(status: DossierStatus) -> Result<Review, ReviewError> {
        Review::assign(
            DossierId::generate(),
            status,
            AccountId::generate(),
            AccountId::generate(),
            Utc::now(),
        )
    }

    #[test]
    fn reviewers_are_assigned_to_submitted_dossiers_and_those_in_review_only() {
        for status in DossierStatus::ALL {
            assert_eq!(
                review(*status).is_ok(),
                matches!(status, DossierStatus::Submitted | DossierStatus::InReview),
                "{status}"
            );
        }
    }

    #[test]
    fn a_conflict_is_final_and_clears_the_scores() {
        let now = Utc::now();
        let assigned = review(DossierStatus::InReview).unwrap();
        let scores = Scores::from([(CriterionKey::parse("quality").unwrap(), 3)]);
        let scored = assigned
            .scored(
                DossierStatus::InReview,
                scores.clone(),
                Some("Bien".into()),
                now,
            )
            .unwrap();
        assert_eq!(scored.status, ReviewStatus::Scored);
        assert_eq!(scored.version, 2);
        assert_eq!(
            scored.check_unassignable(),
            Err(ReviewError::NotUnassignable)
        );
        assert_eq!(
            scored
                .scored(DossierStatus::Approved, scores.clone(), None, now)
                .unwrap_err(),
            ReviewError::DossierNotReviewable
        );
        let conflicted = scored.conflicted("Ma sœur joue".into(), now).unwrap();
        assert_eq!(conflicted.status, ReviewStatus::Conflicted);
        assert!(conflicted.scores.is_empty());
        assert_eq!(conflicted.comment, None);
        assert_eq!(
            conflicted
                .scored(DossierStatus::InReview, scores, None, now)
                .unwrap_err(),
            ReviewError::Conflicted
        );
        assert_eq!(
            conflicted.conflicted("Encore".into(), now).unwrap_err(),
            ReviewError::Conflicted
        );
        assert_eq!(assigned.check_unassignable(), Ok(()));
        // A reviewer steps back whatever the dossier's state.
        assert!(assigned.conflicted("Après coup".into(), now).is_ok());
    }

    #[test]
    fn the_summary_gives_each_mean_the_weighted_total_and_the_counts() {
        let criteria = criteria();
        let now = Utc::now();
        let key = |k: &str| CriterionKey::parse(k).unwrap();
        let base = review(DossierStatus::InReview).unwrap();
        let score = |q: u32, b: u32| {
            base.scored(
                DossierStatus::InReview,
                Scores::from([(key("quality"), q), (key("budget"), b)]),
                None,
                now,
            )
            .unwrap()
        };
        let reviews = vec![
            score(8, 4),
            score(7, 1),
            base.clone(),
            base.conflicted("Conflit".into(), now).unwrap(),
        ];
        let summary = summarize(&criteria, &reviews);
        assert_eq!(
            (summary.reviews, summary.scored, summary.conflicts),
            (4, 2, 1)
        );
        assert_eq!(summary.criteria[0].mean, Some(7.5));
        assert_eq!(summary.criteria[1].mean, Some(2.5));
        // 7.5 × 2 + 2.5 × 1, out of 10 × 2 + 5 × 1.
        assert_eq!(summary.weighted_total, Some(17.5));
        assert_eq!(summary.weighted_max, 25);
        let nothing = summarize(&criteria, std::slice::from_ref(&base));
        assert_eq!(nothing.weighted_total, None);
        assert_eq!(nothing.criteria[0].mean, None);
        // Means are rounded to two decimals: 1, 1 and 2 give 1.33.
        let thirds = summarize(&criteria, &[score(1, 0), score(1, 0), score(2, 0)]);
        assert_eq!(thirds.criteria[0].mean, Some(1.33));
    }

    #[test]
    fn messages_refuse_nul_and_control_characters_but_keep_lines() {
        assert_eq!(
            message_text("Bonjour,\n\tmerci"),
            Ok("Bonjour,\n\tmerci".into())
        );
        assert_eq!(message_text("a\u{0}b"), Err(FieldProblem::ControlCharacter));
        assert_eq!(
            message_text("a\u{1b}b"),
            Err(FieldProblem::ControlCharacter)
        );
        assert_eq!(message_text(" \n "), Err(FieldProblem::Blank));
        assert_eq!(
            message_text(&"é".repeat(MESSAGE_MAX + 1)),
            Err(FieldProblem::TooLong { max: MESSAGE_MAX })
        );
    }
}

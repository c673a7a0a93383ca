//! Productions (spectacles, créations): what a company tours.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;

use super::{date, optional, within};
use crate::ids::{ProductionId, StructureId};
use crate::structures::{Discipline, WEBSITE_MAX, WEBSITE_PATTERN};
use crate::text::{self, compile};
use crate::validation::{FieldProblem, ValidationError};

string_enum!(
    /// Whom a production is for.
    Audience {
        /// Tout public.
        AllAudiences = "all_audiences",
        /// Jeune public: comes with a minimum age.
        YoungAudience = "young_audience",
    }
);

string_enum!(
    /// Where a production plays.
    Space {
        /// Salle, plateau.
        Stage = "stage",
        /// Espace public (arts de la rue).
        PublicSpace = "public_space",
        /// Piste, chapiteau.
        CircusRing = "circus_ring",
        Other = "other",
    }
);

pub const TITLE_MAX: usize = 200;
pub const DISCIPLINES_MAX: usize = 5;
pub const DESCRIPTION_MAX: usize = 10_000;
pub const LINKS_MAX: usize = 10;
pub const MINIMUM_AGE_MAX: i64 = 18;
pub const DURATION_MAX: i64 = 1_440;
pub const TEAM_SIZE_MAX: i64 = 500;

static LINK: LazyLock<Regex> = LazyLock::new(|| compile(WEBSITE_PATTERN));

/// A production as a client writes it, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductionInput {
    pub title: String,
    pub disciplines: Vec<String>,
    pub audience: String,
    pub minimum_age: Option<i64>,
    pub duration_minutes: i64,
    pub space: String,
    pub premiere_date: Option<String>,
    pub team_size: Option<i64>,
    pub description: Option<String>,
    pub links: Vec<String>,
    pub published: bool,
}

/// A production whose every field has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduction {
    pub title: String,
    /// Sorted, no duplicates, 1 to 5.
    pub disciplines: Vec<Discipline>,
    pub audience: Audience,
    /// Set for, and only for, a young audience.
    pub minimum_age: Option<i64>,
    pub duration_minutes: i64,
    pub space: Space,
    pub premiere_date: Option<NaiveDate>,
    /// People on tour.
    pub team_size: Option<i64>,
    pub description: Option<String>,
    pub links: Vec<String>,
    pub published: bool,
}

/// A stored production, owned by a structure (usually a company) for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Production {
    pub id: ProductionId,
    pub structure_id: StructureId,
    pub data: NewProduction,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A JSON merge patch: `None` leaves a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductionPatch {
    pub title: Option<String>,
    pub disciplines: Option<Vec<String>>,
    pub audience: Option<String>,
    pub minimum_age: Option<Option<i64>>,
    pub duration_minutes: Option<i64>,
    pub space: Option<String>,
    pub premiere_date: Option<Option<String>>,
    pub team_size: Option<Option<i64>>,
    pub description: Option<Option<String>>,
    pub links: Option<Vec<String>>,
    pub published: Option<bool>,
}

impl NewProduction {
    /// Checks every field, reporting all problems at once.
    pub fn parse(input: &ProductionInput) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let title = errors.check("title", text::single_line(&input.title, TITLE_MAX));
        let disciplines = disciplines(&mut errors, &input.disciplines);
        let audience = errors.check("audience", Audience::parse(&input.audience));
        let minimum_age = match (audience, input.minimum_age) {
            (Some(Audience::YoungAudience), None) => {
                errors.push("minimum_age", FieldProblem::Required);
                None
            }
            (Some(Audience::AllAudiences), Some(_)) => {
                errors.push("minimum_age", FieldProblem::NotAllowed);
                None
            }
            (_, Some(age)) => errors.check("minimum_age", within(age, 0, MINIMUM_AGE_MAX)),
            (_, None) => None,
        };
        let duration_minutes = errors.check(
            "duration_minutes",
            within(input.duration_minutes, 1, DURATION_MAX),
        );
        let space = errors.check("space", Space::parse(&input.space));
        let premiere_date = optional(
            &mut errors,
            "premiere_date",
            input.premiere_date.as_deref(),
            date,
        );
        let team_size = optional(&mut errors, "team_size", input.team_size.as_ref(), |n| {
            within(*n, 1, TEAM_SIZE_MAX)
        });
        let description = optional(
            &mut errors,
            "description",
            input.description.as_deref(),
            |v| text::multi_line(v, DESCRIPTION_MAX),
        );
        let links = links(&mut errors, &input.links);
        errors.into_result()?;
        match (title, audience, duration_minutes, space) {
            (Some(title), Some(audience), Some(duration_minutes), Some(space)) => Ok(Self {
                title,
                disciplines,
                audience,
                minimum_age,
                duration_minutes,
                space,
                premiere_date,
                team_size,
                description,
                links,
                published: input.published,
            }),
            // Unreachable: a missing value always left an error behind.
            _ => Err(ValidationError::single("title", FieldProblem::Required)),
        }
    }

    /// The input that would produce this production: the base a patch applies to.
    pub fn to_input(&self) -> ProductionInput {
        ProductionInput {
            title: self.title.clone(),
            disciplines: self
                .disciplines
                .iter()
                .map(|d| d.as_str().to_owned())
                .collect(),
            audience: self.audience.as_str().to_owned(),
            minimum_age: self.minimum_age,
            duration_minutes: self.duration_minutes,
            space: self.space.as_str().to_owned(),
            premiere_date: self.premiere_date.map(|d| d.format("%Y-%m-%d").to_string()),
            team_size: self.team_size,
            description: self.description.clone(),
            links: self.links.clone(),
            published: self.published,
        }
    }

    /// Names of the fields that differ from `before` (every field for a creation).
    pub fn changed_fields(&self, before: Option<&NewProduction>) -> Vec<&'static str> {
        let differs = |same: &dyn Fn(&NewProduction) -> bool| before.is_none_or(|b| !same(b));
        let fields: [(&'static str, bool); 11] = [
            ("title", differs(&|b| b.title == self.title)),
            (
                "disciplines",
                differs(&|b| b.disciplines == self.disciplines),
            ),
            ("audience", differs(&|b| b.audience == self.audience)),
            (
                "minimum_age",
                differs(&|b| b.minimum_age == self.minimum_age),
            ),
            (
                "duration_minutes",
                differs(&|b| b.duration_minutes == self.duration_minutes),
            ),
            ("space", differs(&|b| b.space == self.space)),
            (
                "premiere_date",
                differs(&|b| b.premiere_date == self.premiere_date),
            ),
            ("team_size", differs(&|b| b.team_size == self.team_size)),
            (
                "description",
                differs(&|b| b.description == self.description),
            ),
            ("links", differs(&|b| b.links == self.links)),
            ("published", differs(&|b| b.published == self.published)),
        ];
        fields
            .into_iter()
            .filter(|(_, changed)| *changed)
            .map(|(name, _)| name)
            .collect()
    }
}

impl ProductionPatch {
    /// Applies the patch to `current` and checks the result as a whole.
    pub fn apply(self, current: &NewProduction) -> Result<NewProduction, ValidationError> {
        let mut input = current.to_input();
        if let Some(title) = self.title {
            input.title = title;
        }
        if let Some(disciplines) = self.disciplines {
            input.disciplines = disciplines;
        }
        if let Some(audience) = self.audience {
            input.audience = audience;
        }
        if let Some(minimum_age) = self.minimum_age {
            input.minimum_age = minimum_age;
        }
        if let Some(duration) = self.duration_minutes {
            input.duration_minutes = duration;
        }
        if let Some(space) = self.space {
            input.space = space;
        }
        if let Some(premiere_date) = self.premiere_date {
            input.premiere_date = premiere_date;
        }
        if let Some(team_size) = self.team_size {
            input.team_size = team_size;
        }
        if let Some(description) = self.description {
            input.description = description;
        }
        if let Some(links) = self.links {
            input.links = links;
        }
        if let Some(published) = self.published {
            input.published = published;
        }
        NewProduction::parse(&input)
    }
}

fn disciplines(errors: &mut ValidationError, inputs: &[String]) -> Vec<Discipline> {
    if inputs.is_empty() {
        errors.push("disciplines", FieldProblem::Required);
        return Vec::new();
    }
    if inputs.len() > DISCIPLINES_MAX {
        errors.push(
            "disciplines",
            FieldProblem::TooMany {
                max: DISCIPLINES_MAX,
            },
        );
        return Vec::new();
    }
    let mut disciplines: Vec<Discipline> = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, d)| errors.check(|| format!("disciplines[{i}]"), Discipline::parse(d)))
        .collect();
    if inputs.iter().collect::<HashSet<_>>().len() != inputs.len() {
        errors.push("disciplines", FieldProblem::Duplicate);
    }
    disciplines.sort();
    disciplines
}

fn links(errors: &mut ValidationError, inputs: &[String]) -> Vec<String> {
    if inputs.len() > LINKS_MAX {
        errors.push("links", FieldProblem::TooMany { max: LINKS_MAX });
        return Vec::new();
    }
    inputs
        .iter()
        .enumerate()
        .filter_map(|(i, link)| {
            errors.check(
                format!("links[{i}]"),
                text::matching(link, &LINK, WEBSITE_MAX, FieldProblem::Website),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn show() -> ProductionInput {
        ProductionInput {
            title: "Les Oiseaux de passage".into(),
            disciplines: vec!["theatre".into(), "puppetry".into()],
            audience: "young_audience".into(),
            minimum_age: Some(6),
            duration_minutes: 55,
            space: "stage".into(),
            premiere_date: Some("2026-10-02".into()),
            team_size: Some(4),
            description: Some("Un conte.\nPour les petits.".into()),
            links: vec!["https://oiseaux.example/teaser".into()],
            published: false,
        }
    }

    #[test]
    fn a_complete_production_is_accepted_with_sorted_disciplines() {
        let production = NewProduction::parse(&show()).unwrap();
        assert_eq!(
            production.disciplines,
            [Discipline::Theatre, Discipline::Puppetry]
        );
        assert_eq!(production.minimum_age, Some(6));
        assert_eq!(
            production.description.as_deref(),
            Some("Un conte.\nPour les petits.")
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut input = show();
        input.title = "a\nb".into();
        input.disciplines = vec![];
        input.minimum_age = Some(19);
        input.duration_minutes = 0;
        input.space = "arena".into();
        input.premiere_date = Some("02/10/2026".into());
        input.team_size = Some(501);
        input.description = Some("\u{0}".into());
        input.links = vec!["ftp://a.example".into()];
        let error = NewProduction::parse(&input).unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "disciplines",
                "minimum_age",
                "duration_minutes",
                "space",
                "premiere_date",
                "team_size",
                "description",
                "links[0]"
            ]
        );
    }

    #[test]
    fn a_minimum_age_goes_with_a_young_audience_only() {
        let mut input = show();
        input.minimum_age = None;
        let error = NewProduction::parse(&input).unwrap_err();
        assert_eq!(error.errors[0].field, "minimum_age");
        assert_eq!(error.errors[0].problem, FieldProblem::Required);
        input.audience = "all_audiences".into();
        input.minimum_age = Some(3);
        let error = NewProduction::parse(&input).unwrap_err();
        assert_eq!(error.errors[0].problem, FieldProblem::NotAllowed);
        input.minimum_age = None;
        assert!(NewProduction::parse(&input).is_ok());
    }

    #[test]
    fn disciplines_are_a_set_of_one_to_five() {
        let mut input = show();
        input.disciplines = vec!["dance".into(), "dance".into()];
        assert_eq!(
            NewProduction::parse(&input).unwrap_err().errors[0].problem,
            FieldProblem::Duplicate
        );
        input.disciplines = ["dance", "music", "circus", "theatre", "puppetry", "other"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            NewProduction::parse(&input).unwrap_err().errors[0].problem,
            FieldProblem::TooMany { max: 5 }
        );
    }

    #[test]
    fn a_patch_changes_what_it_names_and_is_checked_whole() {
        let current = NewProduction::parse(&show()).unwrap();
        let patch = ProductionPatch {
            audience: Some("all_audiences".into()),
            minimum_age: Some(None),
            team_size: Some(None),
            ..Default::default()
        };
        let updated = patch.apply(&current).unwrap();
        assert_eq!(updated.audience, Audience::AllAudiences);
        assert_eq!(updated.team_size, None);
        assert_eq!(updated.title, current.title);
        assert_eq!(
            updated.changed_fields(Some(&current)),
            ["audience", "minimum_age", "team_size"]
        );
        // Changing the audience alone leaves a minimum age behind: refused.
        let patch = ProductionPatch {
            audience: Some("all_audiences".into()),
            ..Default::default()
        };
        assert_eq!(
            patch.apply(&current).unwrap_err().errors[0].field,
            "minimum_age"
        );
    }
}

//! Tours (tournées): a named run of one production's performances over a period.

use chrono::{DateTime, NaiveDate, Utc};

use super::date;
use crate::ids::{ProductionId, TourId};
use crate::text;
use crate::validation::{FieldProblem, ValidationError};

pub const NAME_MAX: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TourInput {
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTour {
    pub name: String,
    pub starts_on: NaiveDate,
    /// Not before `starts_on`.
    pub ends_on: NaiveDate,
}

/// A stored tour; its production never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tour {
    pub id: TourId,
    pub production_id: ProductionId,
    pub data: NewTour,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TourPatch {
    pub name: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
}

impl NewTour {
    pub fn parse(input: &TourInput) -> Result<Self, ValidationError> {
        let mut errors = ValidationError::default();
        let name = errors.check("name", text::single_line(&input.name, NAME_MAX));
        let starts_on = errors.check("starts_on", date(&input.starts_on));
        let ends_on = errors.check("ends_on", date(&input.ends_on));
        if let (Some(starts_on), Some(ends_on)) = (starts_on, ends_on)
            && ends_on < starts_on
        {
            errors.push(
                "ends_on",
                FieldProblem::BeforeOther {
                    other: "starts_on".into(),
                },
            );
        }
        errors.into_result()?;
        match (name, starts_on, ends_on) {
            (Some(name), Some(starts_on), Some(ends_on)) => Ok(Self {
                name,
                starts_on,
                ends_on,
            }),
            _ => Err(ValidationError::single("name", FieldProblem::Required)),
        }
    }

    pub fn to_input(&self) -> TourInput {
        TourInput {
            name: self.name.clone(),
            starts_on: self.starts_on.format("%Y-%m-%d").to_string(),
            ends_on: self.ends_on.format("%Y-%m-%d").to_string(),
        }
    }

    pub fn changed_fields(&self, before: Option<&NewTour>) -> Vec<&'static str> {
        [
            ("name", before.is_none_or(|b| b.name != self.name)),
            (
                "starts_on",
                before.is_none_or(|b| b.starts_on != self.starts_on),
            ),
            ("ends_on", before.is_none_or(|b| b.ends_on != self.ends_on)),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| name)
        .collect()
    }
}

impl TourPatch {
    pub fn apply(self, current: &NewTour) -> Result<NewTour, ValidationError> {
        let mut input = current.to_input();
        if let Some(name) = self.name {
            input.name = name;
        }
        if let Some(starts_on) = self.starts_on {
            input.starts_on = starts_on;
        }
        if let Some(ends_on) = self.ends_on {
            input.ends_on = ends_on;
        }
        NewTour::parse(&input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tour_ends_on_or_after_its_start() {
        let input = TourInput {
            name: "Tournée d'hiver".into(),
            starts_on: "2027-01-10".into(),
            ends_on: "2027-01-10".into(),
        };
        assert!(NewTour::parse(&input).is_ok());
        let error = NewTour::parse(&TourInput {
            ends_on: "2027-01-09".into(),
            ..input.clone()
        })
        .unwrap_err();
        assert_eq!(error.errors[0].field, "ends_on");
        assert_eq!(error.errors[0].problem.code(), "before_other");
        let error = NewTour::parse(&TourInput {
            name: "".into(),
            starts_on: "soon".into(),
            ..input
        })
        .unwrap_err();
        let fields: Vec<&str> = error.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "starts_on"]);
    }
}

//! The list's query string, its sort orders and its cursor codec.

use chrono::NaiveDateTime;
use domain::{Discipline, StructureKind};
use persistence::structures::{Position, Sort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::enums;
use crate::http::error::{ApiError, FieldIssue, Issue};

/// Sort order of a list: by name (accents and case ignored) or by creation; `-` for
/// descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum StructureSort {
    #[default]
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

impl From<StructureSort> for Sort {
    fn from(sort: StructureSort) -> Self {
        match sort {
            StructureSort::Name => Self::NameAsc,
            StructureSort::NameDesc => Self::NameDesc,
            StructureSort::CreatedAt => Self::CreatedAsc,
            StructureSort::CreatedAtDesc => Self::CreatedDesc,
        }
    }
}

/// Longest search text, in characters.
pub(crate) const SEARCH_MAX: usize = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListStructuresParams {
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page, with the same filters and sort.
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    #[param(value_type = Option<enums::StructureKind>)]
    pub kind: Option<StructureKind>,
    /// INSEE code of a département (`34`, `2A`, `971`).
    #[param(pattern = "^(2[AB]|[0-9]{2,3})$", max_length = 3, example = "34")]
    pub department: Option<String>,
    /// INSEE code of a region (`76`: Occitanie).
    #[param(pattern = "^[0-9]{2}$", max_length = 2, example = "76")]
    pub region: Option<String>,
    #[param(value_type = Option<enums::Discipline>)]
    pub discipline: Option<Discipline>,
    /// Words in the name; case and accents are ignored (`theatre` finds `Théâtre`).
    #[param(min_length = 1, max_length = 100, example = "theatre")]
    pub q: Option<String>,
    pub sort: Option<StructureSort>,
    /// Also list archived structures.
    #[param(default = false)]
    pub include_archived: Option<bool>,
}

/// Where a page ended, as carried in a cursor.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CursorPosition {
    sort: StructureSort,
    key: String,
    id: String,
}

impl CursorPosition {
    pub(crate) fn new(sort: StructureSort, position: Position) -> Self {
        match position {
            Position::Name { name_folded, id } => Self {
                sort,
                key: name_folded,
                id,
            },
            Position::Created { created_at, id } => Self {
                sort,
                key: created_at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
                id,
            },
        }
    }

    pub(crate) fn into_position(self, sort: StructureSort) -> Result<Position, ApiError> {
        let invalid = || {
            ApiError::InvalidParameters(vec![FieldIssue::new(
                "cursor",
                Issue::InvalidValue("the cursor was made for another sort order".into()),
            )])
        };
        if self.sort != sort {
            return Err(invalid());
        }
        Ok(match sort {
            StructureSort::Name | StructureSort::NameDesc => Position::Name {
                name_folded: self.key,
                id: self.id,
            },
            StructureSort::CreatedAt | StructureSort::CreatedAtDesc => Position::Created {
                created_at: NaiveDateTime::parse_from_str(&self.key, "%Y-%m-%dT%H:%M:%S%.f")
                    .map_err(|_| invalid())?,
                id: self.id,
            },
        })
    }
}

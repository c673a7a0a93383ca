use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Everything persistence can fail with, mapped once from diesel and r2d2.
#[derive(Debug, thiserror::Error)]
pub enum PersistenceError {
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; `constraint` names it when the backend says.
    #[error("unique constraint violated: {constraint}")]
    Conflict { constraint: String },
    /// Another structure already holds this SIRET.
    #[error("SIRET already registered by structure {existing}")]
    DuplicateSiret { existing: String },
    /// The change would leave a structure without an owner.
    #[error("a structure keeps at least one owner")]
    LastOwner,
    /// The structure is archived.
    #[error("archived")]
    Archived,
    /// Performances still point at what was to be deleted.
    #[error("performances still point at it")]
    HasPerformances,
    /// PostgreSQL broke a deadlock by failing this transaction's statement: the whole
    /// transaction may be started again.
    #[error("deadlock detected")]
    Deadlock,
    /// The stored version is not the one the caller read.
    #[error("version mismatch: current version is {current}")]
    VersionMismatch { current: i64 },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Query(DieselError),
    #[error(transparent)]
    Migration(Box<dyn std::error::Error + Send + Sync>),
}

impl From<DieselError> for PersistenceError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Self::Conflict {
                    constraint: info
                        .constraint_name()
                        .map(str::to_owned)
                        .unwrap_or_else(|| info.message().to_owned()),
                }
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            // SQLSTATE 40P01, which diesel does not expose: known by its message (the
            // server's lc_messages is English on the clusters this runs on).
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if info.message().starts_with("deadlock detected") =>
            {
                Self::Deadlock
            }
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if info.message().contains("database is locked") =>
            {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Query(other),
        }
    }
}

impl From<r2d2::Error> for PersistenceError {
    fn from(error: r2d2::Error) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<serde_json::Error> for PersistenceError {
    fn from(error: serde_json::Error) -> Self {
        Self::Corrupt(error.to_string())
    }
}

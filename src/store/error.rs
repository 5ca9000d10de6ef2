//! The store's own error: what callers can act on, in terms of this schema, never of a driver.

use std::sync::Arc;

/// Why a statement or a unit of work failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A constraint refused the write: a concurrent or repeated write, named by what it broke.
    #[error("the write conflicts with stored data ({0:?})")]
    Conflict(Constraint),
    /// The database is busy or unreachable for now; retrying later may succeed.
    #[error("the database is unavailable: {0}")]
    Unavailable(Arc<str>),
    /// Anything else: a bug or a broken database, logged and not shown to clients.
    #[error("database error: {0}")]
    Other(Arc<str>),
}

/// The constraints a caller may meet, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// `sources.url`: another source has this URL.
    SourceUrl,
    /// `sources.import_key`: an import already stored this file.
    SourceImportKey,
    /// `passages (source_id, version, start_cp, end_cp)`.
    PassageSpan,
    /// `evidence (claim_id, passage_id)`: the passage is already evidence for the claim.
    EvidencePassage,
    /// `rating_scales.id`.
    ScaleId,
    /// `audit_log.seq`: another writer appended first.
    AuditSeq,
    /// `people.handle`: the handle is taken.
    PersonHandle,
    /// A reference to a row that does not exist.
    ForeignKey,
    /// Any other uniqueness or check constraint, with the database's words for it.
    Other(String),
}

impl StoreError {
    pub(crate) fn other(message: impl std::fmt::Display) -> StoreError {
        StoreError::Other(message.to_string().into())
    }
}

/// Names PostgreSQL's constraint (its default names: `<table>_<columns>_key`/`_pkey`).
fn postgres_constraint(name: &str) -> Constraint {
    match name {
        "sources_url_key" | "source_urls_pkey" => Constraint::SourceUrl,
        "sources_import_key_key" => Constraint::SourceImportKey,
        "passages_source_id_version_start_cp_end_cp_key" => Constraint::PassageSpan,
        "evidence_claim_id_passage_id_key" => Constraint::EvidencePassage,
        "rating_scales_pkey" => Constraint::ScaleId,
        "audit_log_pkey" => Constraint::AuditSeq,
        "people_handle_key" => Constraint::PersonHandle,
        other => Constraint::Other(other.to_owned()),
    }
}

/// Names SQLite's constraint from its message (`UNIQUE constraint failed: t.a, t.b`).
fn sqlite_constraint(message: &str) -> Constraint {
    let columns = message
        .split_once("constraint failed: ")
        .map_or(message, |(_, c)| c);
    match columns {
        "sources.url" | "source_urls.url_key" => Constraint::SourceUrl,
        "sources.import_key" => Constraint::SourceImportKey,
        "passages.source_id, passages.version, passages.start_cp, passages.end_cp" => {
            Constraint::PassageSpan
        }
        "evidence.claim_id, evidence.passage_id" => Constraint::EvidencePassage,
        "rating_scales.id" => Constraint::ScaleId,
        "audit_log.seq" => Constraint::AuditSeq,
        "people.handle" => Constraint::PersonHandle,
        other => Constraint::Other(other.to_owned()),
    }
}

pub(crate) fn sqlite_error(e: &rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    let Some(code) = e.sqlite_error() else {
        return StoreError::other(e);
    };
    let message = e.to_string();
    match code.extended_code {
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::Conflict(Constraint::ForeignKey),
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            StoreError::Conflict(sqlite_constraint(&message))
        }
        _ => match code.code {
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                StoreError::Unavailable(message.into())
            }
            _ => StoreError::Other(message.into()),
        },
    }
}

pub(crate) fn postgres_error(e: &sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) => {
            if db.is_foreign_key_violation() {
                return StoreError::Conflict(Constraint::ForeignKey);
            }
            if db.is_unique_violation() {
                return StoreError::Conflict(postgres_constraint(db.constraint().unwrap_or("")));
            }
            match db.code().as_deref() {
                // Too many connections, cannot connect now, shutting down; a lock not granted
                // in time, a deadlock or serialization failure (the client may retry), a
                // statement cancelled.
                Some(
                    "53300" | "57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006" | "55P03"
                    | "40P01" | "40001" | "57014",
                ) => StoreError::Unavailable(db.message().into()),
                _ => StoreError::other(e),
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string().into())
        }
        _ => StoreError::other(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_their_constraint() {
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: sources.url"),
            Constraint::SourceUrl
        );
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: evidence.claim_id, evidence.passage_id"),
            Constraint::EvidencePassage
        );
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: t.n"),
            Constraint::Other("t.n".into())
        );
    }
}

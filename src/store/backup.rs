//! Online backups: a consistent copy of the database while the server writes.
//!
//! - SQLite: `VACUUM INTO` on a connection of its own. It reads one snapshot (WAL mode lets
//!   the writer carry on meanwhile) and writes a compact, self-contained database file: every
//!   unit of work committed before the snapshot, none after, and no `-wal` file to forget
//!   (a plain copy of the main file misses what is still in the WAL).
//! - PostgreSQL: `pg_dump --format=custom` (one repeatable-read snapshot), the password handed
//!   over as `PGPASSWORD`, never on its command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::StoreError;
use super::connect::{self, Scheme};

/// What a backup holds.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    /// Audit entries in the copy (SQLite; `None` for a PostgreSQL dump, read it by restoring).
    pub audit_entries: Option<i64>,
}

/// Copies the database named by `url` to `dest`, which must not exist yet. `pg_dump` is the
/// program run for PostgreSQL.
pub async fn backup(url: &str, dest: &Path, pg_dump: &str) -> Result<BackupReport, StoreError> {
    if dest.exists() {
        return Err(StoreError::other(format!(
            "{} exists already; a backup never overwrites a file",
            dest.display()
        )));
    }
    let out = match connect::scheme(url)? {
        Scheme::Sqlite => {
            let path = super::sqlite::path_of(url)?;
            if !path.is_file() {
                return Err(StoreError::other(format!(
                    "there is no SQLite database at {}",
                    path.display()
                )));
            }
            let dest = dest.to_owned();
            tokio::task::spawn_blocking(move || sqlite_backup(&path, &dest))
                .await
                .map_err(StoreError::other)?
        }
        Scheme::Postgres => postgres_backup(url, dest, pg_dump).await,
    };
    out.map_err(|e| connect::scrubbed(e, url))
}

fn sqlite_backup(path: &Path, dest: &Path) -> Result<BackupReport, StoreError> {
    use rusqlite::OpenFlags;
    let err = |e: rusqlite::Error| super::error::sqlite_error(&e);
    let source = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    source.busy_timeout(Duration::from_secs(30)).map_err(err)?;
    let target = dest
        .to_str()
        .ok_or_else(|| StoreError::other("the backup path is not UTF-8"))?;
    source.execute("VACUUM INTO ?1", [target]).map_err(err)?;
    drop(source);
    // The copy is checked before it is called a backup.
    let copy = rusqlite::Connection::open_with_flags(dest, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(err)?;
    let check: String = copy
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(err)?;
    if check != "ok" {
        return Err(StoreError::other(format!(
            "the copy at {} failed its check: {check}",
            dest.display()
        )));
    }
    let entries: i64 = copy
        .query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
        .map_err(err)?;
    let bytes = std::fs::metadata(dest).map_err(StoreError::other)?.len();
    Ok(BackupReport {
        path: dest.to_owned(),
        bytes,
        audit_entries: Some(entries),
    })
}

async fn postgres_backup(
    url: &str,
    dest: &Path,
    pg_dump: &str,
) -> Result<BackupReport, StoreError> {
    let mut parsed = url::Url::parse(url)
        .map_err(|e| StoreError::other(format!("the PostgreSQL URL is not valid: {e}")))?;
    let password = parsed.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    let _ = parsed.set_password(None);
    // libpq knows `postgresql://` and `postgres://`, but not sqlx's own query options.
    let mut cmd = std::process::Command::new(pg_dump);
    cmd.arg("--format=custom")
        .arg("--no-owner")
        .arg("--file")
        .arg(dest)
        .arg("--dbname")
        .arg(parsed.as_str())
        .stdin(std::process::Stdio::null());
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .map_err(StoreError::other)?
        .map_err(|e| {
            StoreError::other(format!(
                "cannot run {pg_dump} (PostgreSQL's pg_dump, of the server's major version or \
             newer; set CLAIMTRAIL_PG_DUMP to its path): {e}"
            ))
        })?;
    if !output.status.success() {
        let _ = std::fs::remove_file(dest);
        return Err(StoreError::other(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let bytes = std::fs::metadata(dest).map_err(StoreError::other)?.len();
    Ok(BackupReport {
        path: dest.to_owned(),
        bytes,
        audit_entries: None,
    })
}

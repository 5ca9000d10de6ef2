//! Storage: one API over SQLite (the embedded default) and PostgreSQL, chosen by URL scheme.
//!
//! Queries are written once, with `$n` placeholders that both engines accept, and run through
//! runtime `query_as` (the checked `query!` macros can check one database only). The
//! [`on_pool!`] and [`in_write_tx!`] macros expand each body once per backend, so each is
//! type-checked against its own driver while the SQL stays in one place.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::OffsetDateTime;

pub type Result<T> = std::result::Result<T, sqlx::Error>;

/// The configured database.
#[derive(Clone, Debug)]
pub enum Store {
    /// sqlx's pool of readers, and what runs beside it (see [`Direct`]).
    Sqlite(SqlitePool, Direct),
    Postgres(PgPool),
}

/// PostgreSQL advisory lock held by every write transaction, so that audit entries are
/// appended in one order across all API nodes.
pub(crate) const WRITE_LOCK: i64 = 0x636c_6169_6d74;

/// Runs `$body` with `$pool` bound to the concrete pool of either backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool, _) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` in a write transaction bound to `$tx`, committing when it succeeds. Writers
/// are serialized (see [`Direct::begin`] and [`WRITE_LOCK`]): every write appends to the one
/// audit chain, which must stay linear. With `lock_later`, PostgreSQL's lock is not taken at
/// the start: `$body` takes it with [`LockWrites::lock_writes`] (see there for when that is safe).
macro_rules! in_write_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        in_write_tx!(@ $store, $tx, true, $body)
    };
    ($store:expr, $tx:ident, lock_later => $body:expr) => {
        in_write_tx!(@ $store, $tx, false, $body)
    };
    (@ $store:expr, $tx:ident, $lock_first:expr, $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite(_, direct) => {
                let mut $tx = direct.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::store::Store::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                if $lock_first {
                    $crate::store::LockWrites::lock_writes(&mut *$tx).await?;
                }
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

/// Takes [`WRITE_LOCK`] for the rest of the PostgreSQL transaction; nothing on SQLite, where
/// the gate is held from the transaction's start.
///
/// Most writes lock first. The review workflow's writes (the busiest) lock only after their
/// row writes, just before what depends on other writers (the chain's head, the claim's one
/// verdict), so the lock is held for fewer round trips. That cannot deadlock as long as no
/// write that locks first updates or deletes rows that the late ones lock: reviews, review
/// events, and (through foreign keys) claims and ratings. Today the lock-first writes update
/// only sources and API keys; a new one that touches those tables must lock later too, or
/// PostgreSQL aborts one side of a deadlock. Once they hold the lock, late writes only read
/// and append audit entries. Locking late is only safe for writes whose row writes do not
/// depend on reads of other writers' rows: a write that reads, then writes what it read about,
/// must lock first.
pub(crate) trait LockWrites {
    fn lock_writes(&mut self) -> impl Future<Output = Result<()>> + Send;
}

impl LockWrites for sqlx::SqliteConnection {
    async fn lock_writes(&mut self) -> Result<()> {
        Ok(())
    }
}

impl LockWrites for sqlx::PgConnection {
    async fn lock_writes(&mut self) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK)
            .execute(self)
            .await
            .map(drop)
    }
}

/// Appends an audit entry for `$event` by `$actor` inside the write transaction `$tx`.
macro_rules! append_audit {
    ($tx:ident, $actor:expr, $event:expr) => {{
        let head: Option<(i64, String)> = sqlx::query_as($crate::store::AUDIT_HEAD)
            .fetch_optional(&mut *$tx)
            .await?;
        let entry = $crate::domain::audit::seal(
            head,
            $crate::store::timestamp_text($crate::store::now()),
            $actor,
            $event,
        );
        sqlx::query($crate::store::AUDIT_INSERT)
            .bind(entry.seq)
            .bind(&entry.at)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.entity)
            .bind(&entry.entity_id)
            .bind(&entry.changes)
            .bind(&entry.prev_hash)
            .bind(&entry.hash)
            .execute(&mut *$tx)
            .await?;
    }};
}

/// The newest audit entry's sequence number and hash, which the next entry links to.
pub(crate) const AUDIT_HEAD: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";

pub(crate) const AUDIT_INSERT: &str = "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, changes, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Fixed-width UTC text (`2026-01-02T03:04:05.678901Z`), so that text order is time order.
pub fn timestamp_text(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .expect("formats any date in range")
}

pub(crate) fn now() -> OffsetDateTime {
    // Microseconds: both engines store them exactly, so values read back compare equal.
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or(t)
}

/// `migrations/<backend>/`, in order; the version is the position.
const SQLITE_MIGRATIONS: &[(&str, &str)] = &[
    (
        "provenance",
        include_str!("../../migrations/sqlite/0001_provenance.sql"),
    ),
    (
        "audit",
        include_str!("../../migrations/sqlite/0002_audit.sql"),
    ),
    (
        "api_keys",
        include_str!("../../migrations/sqlite/0003_api_keys.sql"),
    ),
    (
        "reviews",
        include_str!("../../migrations/sqlite/0004_reviews.sql"),
    ),
    (
        "review_indexes",
        include_str!("../../migrations/sqlite/0005_review_indexes.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(&str, &str)] = &[
    (
        "provenance",
        include_str!("../../migrations/postgres/0001_provenance.sql"),
    ),
    (
        "audit",
        include_str!("../../migrations/postgres/0002_audit.sql"),
    ),
    (
        "api_keys",
        include_str!("../../migrations/postgres/0003_api_keys.sql"),
    ),
    (
        "reviews",
        include_str!("../../migrations/postgres/0004_reviews.sql"),
    ),
    (
        "review_indexes",
        include_str!("../../migrations/postgres/0005_review_indexes.sql"),
    ),
];

fn embedded(migrations: &[(&'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .zip(1..)
            .map(|(&(name, sql), version)| {
                Migration::new(
                    version,
                    name.into(),
                    MigrationType::Simple,
                    SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    )
}

impl Store {
    /// Opens the database named by `url`: `postgres://…` or `postgresql://…` for PostgreSQL,
    /// otherwise SQLite (`sqlite://path`, `sqlite::memory:` is refused, or a plain file path).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Store::Postgres(pool));
        }
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        // The pool's connections and the direct writer must open the same database: an
        // in-memory one would be a different, empty database for each.
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Err(sqlx::Error::Configuration(
                "an in-memory SQLite database is not supported; give a file path".into(),
            ));
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // A local file cannot drop a connection: skip the ping before every acquire, which
        // costs as much as a query.
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        let direct = Direct::connect(options, max_connections).await?;
        Ok(Store::Sqlite(pool, direct))
    }

    /// The backend's name, for logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(..) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Applies the migrations of `migrations/<backend>/` (embedded in the binary).
    pub async fn migrate(&self) -> std::result::Result<(), sqlx::migrate::MigrateError> {
        match self {
            Store::Sqlite(pool, _) => embedded(SQLITE_MIGRATIONS).run(pool).await,
            Store::Postgres(pool) => embedded(POSTGRES_MIGRATIONS).run(pool).await,
        }
    }

    pub async fn close(&self) {
        if let Store::Sqlite(_, direct) = self {
            direct.close().await;
        }
        on_pool!(self, pool => pool.close().await)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))
    }

    /// Rows per table, to show that a refused request wrote nothing.
    pub async fn row_counts(&self) -> Result<Vec<(String, i64)>> {
        // Every table in the catalogue, so that a new one is counted without being listed.
        let tables: Vec<String> = match self {
            Store::Sqlite(pool, _) => sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations' ORDER BY name",
            )
            .fetch_all(pool)
            .await?,
            Store::Postgres(pool) => sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 AND table_name <> '_sqlx_migrations' ORDER BY table_name",
            )
            .fetch_all(pool)
            .await?,
        };
        let mut counts = Vec::with_capacity(tables.len());
        for table in tables {
            let sql = format!("SELECT COUNT(*) FROM \"{}\"", table.replace('"', "\"\""));
            let n: i64 = on_pool!(self, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await?);
            counts.push((table, n));
        }
        Ok(counts)
    }

    pub async fn source_count(&self) -> Result<i64> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM sources").fetch_one(pool).await)
    }
}

/// Whether an error is a unique-constraint violation (a concurrent or repeated write).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

// Declared after the macros above, which they use.
mod audit;
mod direct;
mod keys;
mod provenance;
mod reviews;

pub use audit::AuditFilter;
pub use direct::Direct;
pub use keys::StoredKey;
pub use provenance::{NewPassage, NewSource, NewVersion, Outcome};
pub use reviews::{NewReview, ReviewContent, Step, Transitioned};

#[cfg(test)]
mod tests {
    use super::*;

    /// Each connection would get its own empty in-memory database: refused, with what to do.
    #[tokio::test]
    async fn in_memory_sqlite_is_refused() {
        for url in [
            "sqlite::memory:",
            "sqlite://file:x?mode=memory&cache=shared",
        ] {
            match Store::connect(url, 2).await {
                Err(sqlx::Error::Configuration(e)) => {
                    assert!(e.to_string().contains("give a file path"), "{url}: {e}")
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }
}

//! Storage: one API over SQLite (the embedded default) and PostgreSQL, chosen by URL scheme.
//!
//! # How a write flows
//! A use case (in `crate::app`) calls [`Store::write`] with a closure over a [`Tx`], the unit
//! of work. Inside it, the use case reads what it decides on, asks the domain, and writes
//! through this module's functions (`store::reviews::set_state(tx, …)`, …), ending with
//! [`audit::append`] for its audit entry. Everything in the closure commits together or not
//! at all; an `Err` from it rolls the unit back. The backends differ only in how [`Tx`] runs
//! a statement ([`exec`]):
//! - SQLite: the closure is sent to the one writer thread ([`sqlite`]), which runs the writes
//!   queued at the time in one transaction, each in its own savepoint (group commit). There is
//!   no other way to write, so one write runs at a time per process by construction.
//! - PostgreSQL: the closure runs in a transaction of its own; [`Tx::lock_writes`] (taken by
//!   the audit append, or earlier by a write that decides on what others may change) orders
//!   the writers of all API nodes on the one audit chain.
//!
//! Reads go through [`Store::read`] (one snapshot: a read transaction) or [`Store::fetch`]
//! (statements that need no shared snapshot; on PostgreSQL straight from the pool).
//!
//! # Adding a write
//! Write its statements once, as constants in the module of its topic (`$n` placeholders,
//! which both engines accept), with a named row struct implementing [`exec::FromRow`] for
//! what it reads. Add a function over `&mut Tx` here, and call it from the use case inside
//! `store.write(…)`. Store values as the other columns do (UUIDs as 16-byte blobs on SQLite,
//! times as RFC 3339 text, JSON as text): [`exec::Value`] does it. Nothing else is needed for
//! either backend; the API tests run every scenario on both.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use time::OffsetDateTime;

pub mod audit;
pub mod backup;
pub mod claim_list;
pub mod claims;
pub mod cms;
pub mod connect;
pub mod derivations;
mod error;
pub(crate) mod exec;
pub mod idempotency;
pub mod keys;
pub mod ops;
pub mod passages;
pub mod placements;
pub mod reviews;
pub mod search;
pub mod sources;
mod sqlite;
pub mod statistics;
pub mod tlog;
pub mod touches;
pub mod webhooks;

pub use error::{Constraint, StoreError};
use exec::stmt;
pub use exec::{BoxFuture, Json, Tx, WRITE_LOCK};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The configured database.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// See [`exec::AuditHead`].
    head: exec::AuditHead,
    /// Who hears of committed changes (see [`touches`]).
    touches: std::sync::Arc<touches::Touches>,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(PgPool),
}

/// `migrations/<backend>/`, in order; the version is the position.
pub const SQLITE_MIGRATIONS: &[(&str, &str)] = &[
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
    (
        "placements",
        include_str!("../../migrations/sqlite/0006_placements.sql"),
    ),
    (
        "mentions",
        include_str!("../../migrations/sqlite/0007_mentions.sql"),
    ),
    (
        "derivations",
        include_str!("../../migrations/sqlite/0008_derivations.sql"),
    ),
    ("cms", include_str!("../../migrations/sqlite/0009_cms.sql")),
    (
        "idempotency",
        include_str!("../../migrations/sqlite/0010_idempotency.sql"),
    ),
    (
        "webhooks",
        include_str!("../../migrations/sqlite/0011_webhooks.sql"),
    ),
    (
        "review_lists",
        include_str!("../../migrations/sqlite/0012_review_lists.sql"),
    ),
    (
        "people",
        include_str!("../../migrations/sqlite/0013_people.sql"),
    ),
    (
        "withdrawn",
        include_str!("../../migrations/sqlite/0014_withdrawn.sql"),
    ),
    (
        "records",
        include_str!("../../migrations/sqlite/0015_records.sql"),
    ),
    (
        "search",
        include_str!("../../migrations/sqlite/0016_search.sql"),
    ),
    (
        "claim_review",
        include_str!("../../migrations/sqlite/0017_claim_review.sql"),
    ),
    (
        "cms_markup",
        include_str!("../../migrations/sqlite/0018_cms_markup.sql"),
    ),
    (
        "desk_quotes",
        include_str!("../../migrations/sqlite/0019_desk_quotes.sql"),
    ),
    (
        "claim_view_order",
        include_str!("../../migrations/sqlite/0020_claim_view_order.sql"),
    ),
    (
        "claim_keys",
        include_str!("../../migrations/sqlite/0021_claim_keys.sql"),
    ),
    (
        "transparency_log",
        include_str!("../../migrations/sqlite/0022_transparency_log.sql"),
    ),
    (
        "required_columns",
        include_str!("../../migrations/sqlite/0023_required_columns.sql"),
    ),
    (
        "review_events_order",
        include_str!("../../migrations/sqlite/0024_review_events_order.sql"),
    ),
];
pub const POSTGRES_MIGRATIONS: &[(&str, &str)] = &[
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
    (
        "placements",
        include_str!("../../migrations/postgres/0006_placements.sql"),
    ),
    (
        "mentions",
        include_str!("../../migrations/postgres/0007_mentions.sql"),
    ),
    (
        "derivations",
        include_str!("../../migrations/postgres/0008_derivations.sql"),
    ),
    (
        "cms",
        include_str!("../../migrations/postgres/0009_cms.sql"),
    ),
    (
        "idempotency",
        include_str!("../../migrations/postgres/0010_idempotency.sql"),
    ),
    (
        "webhooks",
        include_str!("../../migrations/postgres/0011_webhooks.sql"),
    ),
    (
        "review_lists",
        include_str!("../../migrations/postgres/0012_review_lists.sql"),
    ),
    (
        "people",
        include_str!("../../migrations/postgres/0013_people.sql"),
    ),
    (
        "withdrawn",
        include_str!("../../migrations/postgres/0014_withdrawn.sql"),
    ),
    (
        "records",
        include_str!("../../migrations/postgres/0015_records.sql"),
    ),
    (
        "search",
        include_str!("../../migrations/postgres/0016_search.sql"),
    ),
    (
        "claim_review",
        include_str!("../../migrations/postgres/0017_claim_review.sql"),
    ),
    (
        "cms_markup",
        include_str!("../../migrations/postgres/0018_cms_markup.sql"),
    ),
    (
        "desk_quotes",
        include_str!("../../migrations/postgres/0019_desk_quotes.sql"),
    ),
    (
        "claim_view_order",
        include_str!("../../migrations/postgres/0020_claim_view_order.sql"),
    ),
    (
        "claim_keys",
        include_str!("../../migrations/postgres/0021_claim_keys.sql"),
    ),
    (
        "transparency_log",
        include_str!("../../migrations/postgres/0022_transparency_log.sql"),
    ),
    (
        "required_columns",
        include_str!("../../migrations/postgres/0023_required_columns.sql"),
    ),
    (
        "review_events_order",
        include_str!("../../migrations/postgres/0024_review_events_order.sql"),
    ),
];

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

impl Store {
    /// Opens the database named by `url`: `postgres://…` or `postgresql://…` for PostgreSQL,
    /// otherwise SQLite (`sqlite://path` or a plain file path; in-memory is refused).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        Store::connect_with(url, max_connections, Duration::from_secs(10)).await
    }

    /// [`Store::connect`], with how long a statement waits for a lock another writer holds
    /// (another process on SQLite, another transaction on PostgreSQL) before the request gets
    /// a 503 `unavailable` with `Retry-After`.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        lock_wait: Duration,
    ) -> Result<Store> {
        // No message from here on holds the URL's password.
        Store::open(url, max_connections, lock_wait)
            .await
            .map_err(|e| connect::scrubbed(e, url))
    }

    async fn open(url: &str, max_connections: u32, lock_wait: Duration) -> Result<Store> {
        let head = exec::AuditHead::default();
        let touches;
        let backend = match connect::scheme(url)? {
            connect::Scheme::Postgres => {
                let options: PgConnectOptions = url.parse().map_err(|e| {
                    StoreError::other(format!("the PostgreSQL URL is not valid: {e}"))
                })?;
                let wait = format!("{}ms", lock_wait.as_millis().max(1));
                let options = options.options([("lock_timeout", wait.as_str())]);
                // One plain connection first: a refusal is named at once (the pool would
                // retry a refused connection until its timeout, then say only that).
                connect::probe_postgres(&options).await?;
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(|e| error::postgres_error(&e))?;
                // Incomplete until the listener hears other nodes.
                touches = touches::Touches::new(false);
                touches::listen(pool.clone(), touches.clone());
                Backend::Postgres(pool)
            }
            connect::Scheme::Sqlite => {
                let path = sqlite::path_of(url)?;
                let new = connect::check_sqlite_path(&path)?;
                touches = touches::Touches::new(true);
                let db = sqlite::Sqlite::open(
                    &path,
                    max_connections,
                    head.clone(),
                    lock_wait,
                    touches.clone(),
                )?;
                if new {
                    tracing::info!(path = %path.display(), "created a new SQLite database");
                }
                Backend::Sqlite(db)
            }
        };
        Ok(Store {
            backend,
            head,
            touches,
        })
    }

    /// Why the database does not answer, in words an operator can act on (PostgreSQL: one
    /// fresh connection tried, so a refusal, failed authentication or a missing database is
    /// named; never a credential). `None` when it answers.
    pub async fn diagnose(&self) -> Option<String> {
        match &self.backend {
            Backend::Postgres(pool) => connect::probe_postgres(&pool.connect_options())
                .await
                .err()
                .map(|e| describe_unavailable(&e)),
            Backend::Sqlite(_) => self.ping().await.err().map(|e| describe_unavailable(&e)),
        }
    }

    /// Who hears of committed changes, for readers that keep answers in memory.
    pub fn touches(&self) -> &touches::Touches {
        &self.touches
    }

    /// The backend's name, for logs.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Applies the migrations of `migrations/<backend>/` (embedded in the binary).
    pub async fn migrate(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(db) => db.migrate(SQLITE_MIGRATIONS).await,
            Backend::Postgres(pool) => {
                use sqlx::migrate::{Migration, MigrationType, Migrator};
                let migrations = POSTGRES_MIGRATIONS
                    .iter()
                    .zip(1..)
                    .map(|(&(name, sql), version)| {
                        Migration::new(
                            version,
                            name.into(),
                            MigrationType::Simple,
                            sqlx::SqlStr::from_static(sql),
                            false,
                        )
                    })
                    .collect();
                Migrator::with_migrations(migrations)
                    .run(pool)
                    .await
                    .map_err(StoreError::other)
            }
        }
    }

    /// Finishes queued writes and closes every connection.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(db) => db.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }

    /// Runs `write` as one unit of work: committed when it returns `Ok`, rolled back
    /// otherwise. See the module doc for how each backend runs it.
    pub async fn write<T, E, F>(&self, write: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    {
        let mut measured = crate::metrics::WriteInFlight::start(self.backend());
        let out = match &self.backend {
            Backend::Sqlite(db) => db.write(write).await,
            Backend::Postgres(pool) => self.in_postgres_tx(pool, "BEGIN", write).await,
        };
        if let (Some(m), true) = (measured.as_mut(), out.is_ok()) {
            m.succeeded();
        }
        out
    }

    /// Runs `read` on one snapshot of the database.
    pub async fn read<T, E, F>(&self, read: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>>,
    {
        self.reading(true, read).await
    }

    /// Runs `read` with no shared snapshot: for one statement, or statements whose results do
    /// not depend on each other. Cheaper than [`Store::read`] on PostgreSQL (no transaction);
    /// the same on SQLite, whose readers always read in a transaction.
    pub async fn fetch<T, E, F>(&self, read: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>>,
    {
        self.reading(false, read).await
    }

    /// As [`Store::fetch`], for a read that may run long (a batch of the audit trail's walk,
    /// a search, a trace): SQLite reads run on the caller's thread, so this one runs on the
    /// blocking pool and the async threads keep serving other requests meanwhile.
    pub async fn fetch_long<T, E, F>(&self, read: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite(db) => {
                let db = db.clone();
                tokio::task::spawn_blocking(move || db.read(read))
                    .await
                    .map_err(|e| StoreError::other(format!("a long read failed: {e}")))?
            }
            Backend::Postgres(_) => self.reading(false, read).await,
        }
    }

    async fn reading<T, E, F>(&self, snapshot: bool, read: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>>,
    {
        match &self.backend {
            Backend::Sqlite(db) => db.read(read),
            Backend::Postgres(pool) if snapshot => {
                let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
                self.in_postgres_tx(pool, begin, read).await
            }
            Backend::Postgres(pool) => {
                read(&mut Tx::postgres_pool(pool.clone(), self.head.clone())).await
            }
        }
    }

    /// Runs `work` in a PostgreSQL transaction begun with `begin`: committed when it returns
    /// `Ok`; on `Err` the transaction is dropped, which rolls it back.
    async fn in_postgres_tx<T, E, F>(
        &self,
        pool: &PgPool,
        begin: &'static str,
        work: F,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>>,
    {
        let tx = pool
            .begin_with(begin)
            .await
            .map_err(|e| error::postgres_error(&e))?;
        let mut tx = Tx::postgres(tx, self.head.clone());
        let out = work(&mut tx).await?;
        let touched = tx.take_touched();
        tx.commit().await?;
        // Before the caller answers: a client that reads after its write sees the change here.
        self.touches.publish(&touched);
        Ok(out)
    }

    /// Checks that the database answers, to reads and to writes (on SQLite, that the writer
    /// thread runs).
    pub async fn ping(&self) -> Result<()> {
        fn answer(tx: &mut Tx) -> BoxFuture<'_, Result<()>> {
            Box::pin(async move {
                tx.scalar::<i64>(stmt!("SELECT CAST(1 AS BIGINT)"))
                    .await
                    .map(drop)
            })
        }
        self.write(answer).await?;
        self.fetch(answer).await
    }

    /// Rows in every table of the schema (from the database's own catalogue, so a new table
    /// is counted too), to show that a refused request wrote nothing.
    pub async fn row_counts(&self) -> Result<Vec<(String, i64)>> {
        self.read(|tx| {
            Box::pin(async move {
                let tables = tx.table_names().await?;
                let mut counts = Vec::with_capacity(tables.len());
                for table in tables {
                    let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
                    let count = tx
                        .scalar::<i64>(exec::Statement {
                            sql: sql.into(),
                            args: Vec::new(),
                        })
                        .await?
                        .unwrap_or(0);
                    counts.push((table, count));
                }
                Ok(counts)
            })
        })
        .await
    }
}

/// The message of a store error without its category's prefix.
fn describe_unavailable(e: &StoreError) -> String {
    match e {
        StoreError::Unavailable(m) | StoreError::Other(m) => m.to_string(),
        StoreError::Conflict(_) => e.to_string(),
    }
}

/// `EXPLAIN QUERY PLAN` of a statement on a fresh SQLite database with every migration, each
/// parameter bound to the same 16-byte id: the plan tests assert on its steps, never on time.
#[cfg(test)]
pub(crate) fn sqlite_plan(statement: &str) -> String {
    let conn = rusqlite::Connection::open_in_memory().expect("memory");
    sqlite::stable_plans(&conn).expect("stable plans");
    for (_, migration) in SQLITE_MIGRATIONS {
        conn.execute_batch(migration).expect("migration");
    }
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {statement}"))
        .expect("explain");
    for i in 1..=stmt.parameter_count() {
        stmt.raw_bind_parameter(i, [7u8; 16].as_slice())
            .expect("bind");
    }
    let mut rows = stmt.raw_query();
    let mut plan = Vec::new();
    while let Some(row) = rows.next().expect("row") {
        plan.push(row.get::<_, String>(3).expect("detail"));
    }
    plan.join("; ")
}

#[cfg(test)]
mod list_plans;

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
                Err(StoreError::Other(e)) => assert!(e.contains("give a file path"), "{url}: {e}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    /// A long SQLite read leaves the async thread free: it runs on another thread, while a
    /// plain read runs on the caller's.
    #[tokio::test]
    async fn a_long_sqlite_read_runs_off_the_callers_thread() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::connect(&url, 2).await.expect("store");
        let here = std::thread::current().id();
        fn thread(_: &mut Tx) -> BoxFuture<'_, Result<std::thread::ThreadId>> {
            Box::pin(async { Ok(std::thread::current().id()) })
        }
        assert_eq!(store.fetch(thread).await.unwrap(), here);
        assert_ne!(store.fetch_long(thread).await.unwrap(), here);
    }

    /// The embedded lists are exactly the files of `migrations/<backend>/`, in order, with
    /// the same text: a file added to a folder but not to its list (or the reverse) fails here.
    #[test]
    fn embedded_migrations_match_their_folders() {
        for (folder, list) in [
            ("sqlite", SQLITE_MIGRATIONS),
            ("postgres", POSTGRES_MIGRATIONS),
        ] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(folder);
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .expect("migrations folder")
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .collect();
            files.sort();
            let on_disk: Vec<(String, String)> = files
                .iter()
                .map(|p| {
                    let stem = p.file_stem().expect("name").to_string_lossy();
                    let name = stem.split_once('_').map_or(&*stem, |(_, n)| n).to_owned();
                    (name, std::fs::read_to_string(p).expect("read"))
                })
                .collect();
            let embedded: Vec<(String, String)> = list
                .iter()
                .map(|&(n, sql)| (n.to_owned(), sql.to_owned()))
                .collect();
            assert_eq!(
                on_disk.iter().map(|m| &m.0).collect::<Vec<_>>(),
                embedded.iter().map(|m| &m.0).collect::<Vec<_>>(),
                "{folder}"
            );
            assert!(on_disk == embedded, "{folder}: a migration's text differs");
            for (i, f) in files.iter().enumerate() {
                let number = format!("{:04}_", i + 1);
                assert!(
                    f.file_name()
                        .expect("name")
                        .to_string_lossy()
                        .starts_with(&number),
                    "{folder}: {} is not numbered {number}",
                    f.display()
                );
            }
        }
    }
}

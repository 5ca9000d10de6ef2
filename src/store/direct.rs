//! SQLite's busiest statements run directly on SQLite's C API (through rusqlite), on the
//! caller's thread: API keys (every request), reviews and their workflow, rating scales.
//!
//! Through sqlx every statement is a round trip to its connection's worker thread: 40-70 µs
//! of CPU, and far more wall time on a busy machine. A review transition made ten of them, and
//! the write held the one writer across six, so round trips, not SQLite, capped transitions
//! at about 1,000/s. Run directly, the same statements take a few microseconds each.
//!
//! Direct writes go to one writer thread, which runs whatever has queued up in one
//! transaction, each write in its own savepoint (group commit). An async lock handed from
//! task to task left the writer idle between holders while the next one waited for a worker
//! thread; a thread that only writes does not wait, and one commit serves many writes. The SQL
//! is the PostgreSQL path's (`$n` placeholders); the control flow is repeated for each
//! backend, and the API tests run every scenario on both to keep the two in step.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rusqlite::{CachedStatement, Connection, Row, ToSql, TransactionBehavior};
use serde::de::DeserializeOwned;
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{AUDIT_HEAD, AUDIT_INSERT, Result, now, timestamp_text};
use crate::domain::audit::{Event, seal};

/// What an SQLite store runs beside sqlx's pool of readers.
#[derive(Clone)]
pub struct Direct {
    /// sqlx's writer connection, for the writes that go through sqlx.
    sqlx_writer: SqlitePool,
    /// Held by every writer of this process, so that it has one writer at a time: SQLite
    /// admits only one, and writers that wait on its busy handler sleep in steps of
    /// milliseconds while this hands over at once. Readers never wait for it (WAL).
    gate: Arc<tokio::sync::Mutex<()>>,
    /// The queue of the direct writer thread (see [`run_writer`]).
    jobs: mpsc::Sender<Command>,
    /// Idle direct readers, at most `max_readers`; more are opened when all are busy.
    readers: Arc<Mutex<Vec<Connection>>>,
    max_readers: usize,
    path: Arc<Path>,
}

/// A direct write: runs in its own savepoint (or hears why its batch could not run it) and
/// says whether it succeeded, with what to tell its caller once the batch's commit has
/// succeeded (`None`) or failed.
type Job =
    Box<dyn FnOnce(std::result::Result<&Connection, &rusqlite::Error>) -> (bool, Reply) + Send>;
type Reply = Box<dyn FnOnce(Option<&rusqlite::Error>) + Send>;

enum Command {
    Write(Job),
    /// Finish the writes before this, close the connection and stop; then say so.
    Close(tokio::sync::oneshot::Sender<()>),
}

/// Most writes committed together.
const MAX_BATCH: usize = 256;

impl fmt::Debug for Direct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Direct").field("path", &self.path).finish()
    }
}

/// A write transaction through sqlx that holds the gate until it has ended. sqlx rolls a
/// dropped transaction back later, on its worker thread; the gate must not open before that,
/// or the next writer would find SQLite's lock still taken and sleep in its busy handler.
pub(super) struct SqlxWrite {
    tx: Option<sqlx::Transaction<'static, sqlx::Sqlite>>,
    gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl SqlxWrite {
    pub(super) async fn commit(mut self) -> Result<()> {
        match self.tx.take() {
            Some(tx) => tx.commit().await,
            None => Ok(()),
        }
    }
}

impl std::ops::Deref for SqlxWrite {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &Self::Target {
        self.tx.as_deref().expect("open until committed or dropped")
    }
}

impl std::ops::DerefMut for SqlxWrite {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.tx
            .as_deref_mut()
            .expect("open until committed or dropped")
    }
}

impl Drop for SqlxWrite {
    fn drop(&mut self) {
        if let (Some(tx), Some(gate)) = (self.tx.take(), self.gate.take())
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = tx.rollback().await;
                drop(gate);
            });
        }
    }
}

/// Opens a direct connection with the settings of sqlx's (which has already put the database
/// in WAL mode; that is stored in the file).
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// The direct writer: takes the queued writes, up to [`MAX_BATCH`], and runs them in one
/// transaction while holding the gate; then tells each caller.
fn run_writer(
    mut conn: Connection,
    queue: mpsc::Receiver<Command>,
    gate: Arc<tokio::sync::Mutex<()>>,
) {
    let mut closed = None;
    while closed.is_none() {
        let Ok(first) = queue.recv() else { break };
        let mut batch = Vec::new();
        for command in std::iter::once(first).chain(queue.try_iter()) {
            match command {
                Command::Write(job) => batch.push(job),
                Command::Close(done) => {
                    closed = Some(done);
                    break;
                }
            }
            if batch.len() == MAX_BATCH {
                break;
            }
        }
        if !batch.is_empty() {
            let _gate = gate.blocking_lock();
            commit_batch(&mut conn, batch);
        }
    }
    drop(conn);
    if let Some(done) = closed {
        let _ = done.send(());
    }
}

/// Runs each write in its own savepoint within one transaction, commits, and tells each
/// caller how it ended: its own error, the batch's error, or success once committed.
fn commit_batch(conn: &mut Connection, batch: Vec<Job>) {
    let mut replies = Vec::with_capacity(batch.len());
    let mut pending = batch.into_iter();
    let committed = (|| {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        while pending.len() > 0 {
            let savepoint = tx.savepoint()?;
            let Some(job) = pending.next() else { break };
            // A panicking write is rolled back like a failed one; its caller sees its reply
            // dropped.
            match std::panic::catch_unwind(AssertUnwindSafe(|| job(Ok(&savepoint)))) {
                Ok((ok, reply)) => {
                    replies.push(reply);
                    if ok {
                        savepoint.commit()?;
                    } else {
                        // Rolls back to the savepoint and releases it.
                        savepoint.finish()?;
                    }
                }
                Err(_) => savepoint.finish()?,
            }
        }
        tx.commit()
    })();
    if let Err(e) = &committed {
        tracing::error!(error = %e, "a batch of direct writes failed as a whole");
        // The writes the batch never reached hear why.
        replies.extend(pending.map(|job| job(Err(e)).1));
        if !conn.is_autocommit() {
            // The transaction's rollback on drop failed: try once more, or the next batch's
            // BEGIN fails too.
            if let Err(e) = conn.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "the direct writer could not roll back");
            }
        }
    }
    for reply in replies {
        reply(committed.as_ref().err());
    }
}

impl Direct {
    pub(super) async fn connect(options: SqliteConnectOptions, max_readers: u32) -> Result<Direct> {
        let path: Arc<Path> = options.get_filename().into();
        let sqlx_writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let writer = open(&path).map_err(into_sqlx)?;
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        let (jobs, queue) = mpsc::channel();
        let thread_gate = gate.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(writer, queue, thread_gate))
            .map_err(sqlx::Error::Io)?;
        Ok(Direct {
            sqlx_writer,
            gate,
            jobs,
            readers: Arc::default(),
            max_readers: max_readers as usize,
            path,
        })
    }

    /// Begins a write through sqlx (`BEGIN IMMEDIATE`), holding the gate until it has ended.
    pub(super) async fn begin(&self) -> Result<SqlxWrite> {
        let gate = self.gate.clone().lock_owned().await;
        let tx = self.sqlx_writer.begin_with("BEGIN IMMEDIATE").await?;
        Ok(SqlxWrite {
            tx: Some(tx),
            gate: Some(gate),
        })
    }

    /// Runs `write` on the direct writer thread, in one transaction with the other writes
    /// queued beside it; all of it is undone when it fails. Returns once the transaction has
    /// committed.
    pub(super) async fn write<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tell, told) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let out = match conn {
                Ok(conn) => write(conn).map_err(into_sqlx),
                Err(e) => Err(into_sqlx_ref(e)),
            };
            let ok = out.is_ok();
            let reply: Reply = Box::new(move |commit| {
                let out = match commit {
                    None => out,
                    Some(e) => out.and(Err(into_sqlx_ref(e))),
                };
                let _ = tell.send(out);
            });
            (ok, reply)
        });
        let stopped = || sqlx::Error::WorkerCrashed;
        self.jobs.send(Command::Write(job)).map_err(|_| stopped())?;
        told.await.map_err(|_| stopped())?
    }

    /// Runs `read` on a direct reader. Meant for short indexed reads: it runs on the
    /// caller's thread.
    pub(super) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let idle = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.path).map_err(into_sqlx)?,
        };
        // One transaction, so that a read of several statements sees one snapshot.
        let out = conn
            .unchecked_transaction()
            .and_then(|tx| read(&tx))
            .map_err(into_sqlx);
        let mut idle = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        // A connection left inside a transaction (its rollback failed) would hold back the
        // write-ahead log's checkpoints: it is closed instead.
        if idle.len() < self.max_readers && conn.is_autocommit() {
            idle.push(conn);
        }
        out
    }

    /// Finishes the queued writes and closes every connection; later writes fail.
    pub(super) async fn close(&self) {
        let (done, closed) = tokio::sync::oneshot::channel();
        if self.jobs.send(Command::Close(done)).is_ok() {
            let _ = closed.await;
        }
        self.sqlx_writer.close().await;
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Prepares (or takes from the cache) `sql` with `$1`, `$2`, ... bound to `args`. SQLite
/// numbers parameters by first appearance, not by their names, so each is looked up by name.
pub(super) fn statement<'c>(
    conn: &'c Connection,
    sql: &str,
    args: &[&dyn ToSql],
) -> rusqlite::Result<CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql)?;
    debug_assert_eq!(stmt.parameter_count(), args.len(), "arguments of {sql}");
    for (i, arg) in args.iter().enumerate() {
        if let Some(index) = stmt.parameter_index(&format!("${}", i + 1))? {
            stmt.raw_bind_parameter(index, arg)?;
        }
    }
    Ok(stmt)
}

/// Runs a statement that returns no rows; the number of rows it changed.
pub(super) fn execute(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
) -> rusqlite::Result<usize> {
    statement(conn, sql, args)?.raw_execute()
}

/// The first row of a query, if any.
pub(super) fn first<T: FromRow>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
) -> rusqlite::Result<Option<T>> {
    let mut stmt = statement(conn, sql, args)?;
    let mut rows = stmt.raw_query();
    rows.next()?.map(T::from_row).transpose()
}

/// Every row of a query.
pub(super) fn all<T: FromRow>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = statement(conn, sql, args)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(T::from_row(row)?);
    }
    Ok(out)
}

/// The first column of the first row, if any (sqlx's `query_scalar`).
pub(super) fn scalar<T: Column>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
) -> rusqlite::Result<Option<T>> {
    Ok(first::<(T,)>(conn, sql, args)?.map(|(value,)| value))
}

/// The first column of every row.
pub(super) fn scalars<T: Column>(
    conn: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
) -> rusqlite::Result<Vec<T>> {
    Ok(all::<(T,)>(conn, sql, args)?
        .into_iter()
        .map(|(value,)| value)
        .collect())
}

/// A row read as a tuple of [`Column`]s, as sqlx's `query_as` reads the same tuple types.
pub(super) trait FromRow: Sized {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self>;
}

/// One column's value, decoded the way sqlx decodes it from SQLite.
pub(super) trait Column: Sized {
    fn column(row: &Row<'_>, i: usize) -> rusqlite::Result<Self>;
}

macro_rules! plain_columns {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn column(row: &Row<'_>, i: usize) -> rusqlite::Result<Self> {
                row.get(i)
            }
        }
    )*};
}

plain_columns!(String, i64, f64, bool, uuid::Uuid);

impl<T: Column> Column for Option<T> {
    fn column(row: &Row<'_>, i: usize) -> rusqlite::Result<Self> {
        match row.get_ref(i)? {
            rusqlite::types::ValueRef::Null => Ok(None),
            _ => T::column(row, i).map(Some),
        }
    }
}

/// A time stored as sqlx stores it (see [`time_text`]).
impl Column for OffsetDateTime {
    fn column(row: &Row<'_>, i: usize) -> rusqlite::Result<Self> {
        let text: String = row.get(i)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(|e| conversion(i, e))
    }
}

impl<T: DeserializeOwned> Column for sqlx::types::Json<T> {
    fn column(row: &Row<'_>, i: usize) -> rusqlite::Result<Self> {
        let text: String = row.get(i)?;
        serde_json::from_str(&text)
            .map(sqlx::types::Json)
            .map_err(|e| conversion(i, e))
    }
}

fn conversion(i: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

macro_rules! tuple_rows {
    ($($i:tt $t:ident),+) => {
        impl<$($t: Column),+> FromRow for ($($t,)+) {
            fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
                Ok(($($t::column(row, $i)?,)+))
            }
        }
    };
}

tuple_rows!(0 A);
tuple_rows!(0 A, 1 B);
tuple_rows!(0 A, 1 B, 2 C);
tuple_rows!(0 A, 1 B, 2 C, 3 D);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L, 12 M);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L, 12 M, 13 N);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L, 12 M, 13 N, 14 O);
tuple_rows!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L, 12 M, 13 N, 14 O, 15 P);

/// A time as sqlx writes it to SQLite (RFC 3339), so both paths store the same text.
pub(super) fn time_text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("formats any date in range")
}

/// Appends the audit entry for `event`: the direct twin of `append_audit!`.
pub(super) fn append_audit(conn: &Connection, actor: &str, event: Event) -> rusqlite::Result<()> {
    let head = first(conn, AUDIT_HEAD, &[])?;
    let e = seal(head, timestamp_text(now()), actor, event);
    execute(
        conn,
        AUDIT_INSERT,
        &[
            &e.seq,
            &e.at,
            &e.actor,
            &e.action,
            &e.entity,
            &e.entity_id,
            &e.changes,
            &e.prev_hash,
            &e.hash,
        ],
    )?;
    Ok(())
}

/// A rusqlite error as the store's error type, keeping what `is_unique_violation` and the
/// other constraint checks look at.
fn into_sqlx(err: rusqlite::Error) -> sqlx::Error {
    into_sqlx_ref(&err)
}

fn into_sqlx_ref(err: &rusqlite::Error) -> sqlx::Error {
    sqlx::Error::Database(Box::new(DirectError {
        message: err.to_string(),
        code: err.sqlite_error().map(|e| e.extended_code),
    }))
}

#[derive(Debug)]
struct DirectError {
    message: String,
    /// SQLite's extended result code.
    code: Option<std::ffi::c_int>,
}

impl fmt::Display for DirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DirectError {}

impl DatabaseError for DirectError {
    fn message(&self) -> &str {
        &self.message
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.code.map(|c| c.to_string().into())
    }

    fn kind(&self) -> ErrorKind {
        use rusqlite::ffi;
        match self.code {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                ErrorKind::UniqueViolation
            }
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => ErrorKind::ForeignKeyViolation,
            Some(ffi::SQLITE_CONSTRAINT_NOTNULL) => ErrorKind::NotNullViolation,
            Some(ffi::SQLITE_CONSTRAINT_CHECK) => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Direct) {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("t.db"))
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let direct = Direct::connect(options, 2).await.expect("connect");
        direct
            .write(|c| c.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
            .await
            .expect("table");
        (dir, direct)
    }

    fn stored(direct: &Direct) -> Vec<i64> {
        direct
            .read(|c| scalars(c, "SELECT n FROM t ORDER BY n", &[]))
            .expect("read")
    }

    /// Writes queued together share a transaction, yet a failing or panicking one is undone
    /// alone: its rows are gone, the others' are stored, and each caller hears how its own ended.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_in_a_batch_is_undone_alone() {
        let (_dir, direct) = store().await;
        // While the gate is held, the writes queue up and then run as one batch.
        let gate = direct.gate.lock().await;
        let writes = (1..=60i64).map(|n| {
            let direct = direct.clone();
            tokio::spawn(async move {
                direct
                    .write(move |c| {
                        execute(c, "INSERT INTO t (n) VALUES ($1)", &[&n])?;
                        match n % 3 {
                            // Fails after writing: the row must not stay.
                            1 => execute(c, "INSERT INTO t (n) VALUES ($1)", &[&n]).map(drop),
                            2 if n == 2 => panic!("a write that panics"),
                            _ => Ok(()),
                        }
                    })
                    .await
            })
        });
        let writes: Vec<_> = writes.collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(gate);
        let mut outcomes = Vec::new();
        for (n, write) in (1..=60i64).zip(writes) {
            let outcome = write.await.expect("task");
            outcomes.push((n, outcome));
        }
        for (n, outcome) in &outcomes {
            match (n % 3, outcome) {
                (1, Err(e)) => assert!(
                    e.as_database_error()
                        .is_some_and(|e| e.is_unique_violation()),
                    "{n}: {e}"
                ),
                (2, Err(sqlx::Error::WorkerCrashed)) if *n == 2 => {}
                (_, Ok(())) if n % 3 != 1 && *n != 2 => {}
                (_, other) => panic!("write {n} ended as {other:?}"),
            }
        }
        let expected: Vec<i64> = (1..=60).filter(|n| n % 3 != 1 && *n != 2).collect();
        assert_eq!(stored(&direct), expected);
    }

    /// A sqlx write that ends without commit (an early `?`) keeps the gate until its rollback
    /// has run, so the next writer never finds SQLite's lock still taken.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_gate_opens_only_after_a_dropped_write_rolled_back() {
        let (dir, direct) = store().await;
        let probe = Connection::open(dir.path().join("t.db")).expect("probe");
        probe.busy_timeout(Duration::ZERO).expect("no waiting");
        for n in 0..100i64 {
            {
                let mut tx = direct.begin().await.expect("begin");
                sqlx::query("INSERT INTO t (n) VALUES ($1)")
                    .bind(n)
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
            }
            let _gate = direct.gate.lock().await;
            probe
                .execute_batch("BEGIN IMMEDIATE; ROLLBACK")
                .unwrap_or_else(|e| panic!("round {n}: the lock was still taken: {e}"));
        }
        assert_eq!(stored(&direct), Vec::<i64>::new());
    }

    /// When the batch cannot even begin (another process holds the lock past the timeout),
    /// each caller hears that, not a vanished worker; the next write goes through.
    #[tokio::test]
    async fn a_batch_that_cannot_begin_tells_each_caller_why() {
        let (dir, direct) = store().await;
        direct
            .write(|c| c.busy_timeout(Duration::from_millis(50)))
            .await
            .expect("short timeout");
        let other = Connection::open(dir.path().join("t.db")).expect("other process");
        other
            .execute_batch("BEGIN IMMEDIATE")
            .expect("hold the lock");
        let refused = direct
            .write(|c| execute(c, "INSERT INTO t (n) VALUES (1)", &[]).map(drop))
            .await;
        match refused {
            Err(sqlx::Error::Database(e)) => assert!(e.message().contains("locked"), "{e}"),
            other => panic!("{other:?}"),
        }
        other.execute_batch("ROLLBACK").expect("release");
        direct
            .write(|c| execute(c, "INSERT INTO t (n) VALUES (2)", &[]).map(drop))
            .await
            .expect("write after the lock is free");
        assert_eq!(stored(&direct), vec![2]);
    }

    #[tokio::test]
    async fn close_finishes_queued_writes_then_refuses_more() {
        let (_dir, direct) = store().await;
        let queued = {
            let direct = direct.clone();
            tokio::spawn(async move {
                direct
                    .write(|c| execute(c, "INSERT INTO t (n) VALUES (7)", &[]).map(drop))
                    .await
            })
        };
        queued.await.expect("task").expect("write before close");
        direct.close().await;
        let late = direct
            .write(|c| execute(c, "INSERT INTO t (n) VALUES (8)", &[]).map(drop))
            .await;
        assert!(matches!(late, Err(sqlx::Error::WorkerCrashed)), "{late:?}");
        assert_eq!(stored(&direct), vec![7]);
    }
}

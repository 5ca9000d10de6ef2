//! SQLite: one writer thread with group commit, and readers on the caller's thread. Both run
//! statements directly on SQLite's C API (rusqlite): a statement costs a few microseconds,
//! where a round trip to an async driver's worker thread cost 40-70 µs of CPU.
//!
//! Every write goes to the writer thread, which takes whatever has queued up (up to
//! [`MAX_BATCH`]), runs each write in its own savepoint within one transaction, commits once
//! and then answers each caller. A failed or panicking write is rolled back alone. There is
//! no other way to write, so there is one writer per process by construction; the file's own
//! lock (with a busy timeout) orders this process against others.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::config::DbConfig;

use super::error::{StoreError, sqlite_error};
use super::exec::{AuditHead, BoxFuture, Tx, run_now};

/// Most writes committed together.
const MAX_BATCH: usize = 256;

#[derive(Clone)]
pub(super) struct Sqlite {
    /// The queue of the writer thread (see [`run_writer`]).
    jobs: mpsc::Sender<Command>,
    /// Idle readers, at most `max_readers`; more are opened when all are busy.
    readers: Arc<Mutex<Vec<Connection>>>,
    max_readers: usize,
    path: Arc<Path>,
    head: AuditHead,
    /// How long a statement waits for another process's lock (then: a 503).
    lock_wait: Duration,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("path", &self.path).finish()
    }
}

/// A write: runs on the writer's unit of work (or hears why its batch could not run it), says
/// whether it succeeded, and what to tell its caller once the commit succeeded or failed.
type Job = Box<dyn FnOnce(Result<&mut Tx, &StoreError>) -> (bool, Reply) + Send>;
type Reply = Box<dyn FnOnce(Option<&StoreError>) + Send>;

enum Command {
    Write(Job),
    /// Finish the writes before this, close the connection and stop; then say so.
    Close(tokio::sync::oneshot::Sender<()>),
}

/// Page cache of the writer connection, in KiB (SQLite's default is 2 MiB).
const WRITER_CACHE_KIB: i64 = 256 * 1024;

fn open(path: &Path, lock_wait: Duration) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| sqlite_error(&e))?;
    conn.busy_timeout(lock_wait)
        .and_then(|()| conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())))
        .and_then(|()| conn.pragma_update(None, "synchronous", "NORMAL"))
        .and_then(|()| conn.pragma_update(None, "foreign_keys", "ON"))
        .map_err(|e| sqlite_error(&e))?;
    stable_plans(&conn).map_err(|e| sqlite_error(&e))?;
    // Every statement the service runs stays prepared (rusqlite keeps 16 by default, fewer
    // than a request's statements plus a write's: they would be parsed again and again).
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// Keeps each statement's plan whatever is bound to it (SQLite's QPSG). Otherwise a statement
/// whose plan may depend on a bound value (`LIMIT $n`; a range, with STAT4) is parsed and
/// planned again at its first step after every new binding: 35 % of the claim list's CPU.
/// The service's plans do not rest on bound values; the plan tests open their connections
/// with this too, so that they see the plans the service runs.
pub(super) fn stable_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map(drop)
}

/// The path of a `sqlite://path` (percent-encoded, as in any URL), `sqlite:path` or plain
/// path. Options in a query string are refused rather than ignored: the service sets its own.
pub(super) fn path_of(url: &str) -> Result<PathBuf, StoreError> {
    // Each connection would get its own, empty in-memory database.
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(StoreError::other(
            "an in-memory SQLite database is not supported; give a file path",
        ));
    }
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(PathBuf::from(url));
    };
    if let Some((_, options)) = rest.split_once('?') {
        return Err(StoreError::other(format!(
            "SQLite URL options are not supported ({options}); give the file's path only"
        )));
    }
    let path = percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .map_err(|e| StoreError::other(format!("the SQLite URL's path is not UTF-8: {e}")))?;
    if path.is_empty() {
        return Err(StoreError::other(
            "the SQLite URL has no path; give a file path",
        ));
    }
    Ok(PathBuf::from(path.into_owned()))
}

impl Sqlite {
    pub(super) fn open(
        path: &Path,
        max_readers: u32,
        head: AuditHead,
        lock_wait: Duration,
        touches: Arc<super::touches::Touches>,
    ) -> Result<Sqlite, StoreError> {
        let writer = open(path, lock_wait)?;
        // The writer updates every index of a growing store (each figure of a version goes to
        // the value index, at a random place): its inner and recent pages stay in memory.
        writer
            .pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
            .map_err(|e| sqlite_error(&e))?;
        let (jobs, queue) = mpsc::channel();
        let writer_head = head.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(writer, queue, writer_head, touches))
            .map_err(StoreError::other)?;
        Ok(Sqlite {
            jobs,
            readers: Arc::default(),
            max_readers: max_readers as usize,
            path: path.into(),
            head,
            lock_wait,
        })
    }

    /// Runs `write` on the writer thread, in one transaction with the writes queued beside
    /// it; all of it is undone when it fails. Returns once the transaction has committed.
    pub(super) async fn write<T, E, F>(&self, write: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
    {
        let (tell, told) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |tx| {
            let out = match tx {
                // A panicking write is rolled back like a failed one.
                Ok(tx) => match std::panic::catch_unwind(AssertUnwindSafe(|| run_now(write(tx)))) {
                    Ok(Some(out)) => out,
                    Ok(None) => {
                        Err(StoreError::other("a SQLite write waited for something else").into())
                    }
                    Err(_) => Err(StoreError::other("the write panicked (see the log)").into()),
                },
                Err(e) => Err(e.clone().into()),
            };
            let ok = out.is_ok();
            let reply: Reply = Box::new(move |commit| {
                let out = match commit {
                    None => out,
                    Some(e) => out.and(Err(e.clone().into())),
                };
                let _ = tell.send(out);
            });
            (ok, reply)
        });
        let stopped = || StoreError::Unavailable("the SQLite writer has stopped".into());
        self.jobs.send(Command::Write(job)).map_err(|_| stopped())?;
        // A write queued as the writer closed is dropped unrun.
        told.await.map_err(|_| stopped())?
    }

    /// Runs `read` on a reader, in one read transaction (one snapshot), on the caller's
    /// thread: reads are short and indexed.
    pub(super) fn read<T, E, F>(&self, read: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, Result<T, E>>,
    {
        let idle = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.path, self.lock_wait)?,
        };
        // Cached statements: `execute_batch` would parse them on every read.
        let run = |conn: &Connection, sql: &str| conn.prepare_cached(sql)?.execute([]);
        run(&conn, "BEGIN").map_err(|e| sqlite_error(&e))?;
        let mut tx = Tx::sqlite(conn, self.head.clone());
        let out = run_now(read(&mut tx)).unwrap_or_else(|| {
            Err(StoreError::other("a SQLite read waited for something else").into())
        });
        let conn = tx.into_sqlite().expect("an SQLite unit of work");
        let ended = run(&conn, "COMMIT").is_ok();
        let mut idle = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        // A connection left inside a transaction would hold back the write-ahead log's
        // checkpoints: it is closed instead.
        if ended && idle.len() < self.max_readers && conn.is_autocommit() {
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
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Applies `migrations` (name, SQL), numbered by position, in one transaction, recorded in
    /// `_sqlx_migrations` as sqlx's migrator recorded them (so databases it migrated carry
    /// on). Refused: a changed migration that was applied already, a migration that failed
    /// earlier, and a database migrated by a newer version of the service.
    pub(super) async fn migrate(
        &self,
        migrations: &'static [(&'static str, &'static str)],
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            Box::pin(async move {
                let conn = tx.sqlite_conn().expect("an SQLite unit of work");
                migrate(conn, migrations).map_err(|e| match e {
                    MigrateError::Sqlite(e) => sqlite_error(&e),
                    MigrateError::Changed(v) => StoreError::other(format!(
                        "migration {v} was changed after it was applied to this database"
                    )),
                    MigrateError::Dirty(v) => StoreError::other(format!(
                        "migration {v} failed earlier on this database; repair it by hand"
                    )),
                    MigrateError::Newer(v) => StoreError::other(format!(
                        "this database was migrated to version {v} by a newer claimtrail; run that version"
                    )),
                })
            })
        })
        .await
    }
}

enum MigrateError {
    Sqlite(rusqlite::Error),
    Changed(i64),
    Dirty(i64),
    Newer(i64),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

fn migrate(conn: &Connection, migrations: &[(&str, &str)]) -> Result<(), MigrateError> {
    use sha2::{Digest, Sha384};
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, \
         description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
         success BOOLEAN NOT NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
    )?;
    let (newest, dirty): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT MAX(version), MIN(CASE WHEN success THEN NULL ELSE version END) FROM _sqlx_migrations",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if let Some(v) = dirty {
        return Err(MigrateError::Dirty(v));
    }
    if let Some(v) = newest.filter(|&v| v > migrations.len() as i64) {
        return Err(MigrateError::Newer(v));
    }
    for (&(name, sql), version) in migrations.iter().zip(1i64..) {
        let checksum = Sha384::digest(sql).to_vec();
        let applied: Option<Vec<u8>> = conn
            .query_row(
                "SELECT checksum FROM _sqlx_migrations WHERE version = ?1",
                [version],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?;
        match applied {
            Some(stored) if stored == checksum => continue,
            Some(_) => return Err(MigrateError::Changed(version)),
            None => {}
        }
        let started = Instant::now();
        // A failed migration is undone with the writer's savepoint around this write.
        conn.execute_batch(sql)?;
        conn.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, ?4)",
            rusqlite::params![
                version,
                name,
                checksum,
                started.elapsed().as_nanos() as i64
            ],
        )?;
    }
    Ok(())
}

/// The writer: takes the queued writes, up to [`MAX_BATCH`], and runs them in one
/// transaction; then tells each caller.
/// How often an idle writer looks for other processes' commits.
const EXTERNAL_POLL: Duration = Duration::from_millis(200);

fn run_writer(
    conn: Connection,
    queue: mpsc::Receiver<Command>,
    head: AuditHead,
    touches: Arc<super::touches::Touches>,
) {
    // Another process's commits (the CLI revoking a key, a second server on the file) show
    // as a new `data_version` on this connection, which its own commits leave alone: readers
    // that keep answers then forget them all, within `EXTERNAL_POLL`.
    let data_version = |conn: &Connection| {
        conn.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))
            .ok()
    };
    let mut seen = data_version(&conn);
    let mut conn = Some(conn);
    let mut closed = None;
    while closed.is_none() {
        let next = queue.recv_timeout(EXTERNAL_POLL);
        if let Some(c) = &conn {
            let now = data_version(c);
            if now != seen {
                seen = now;
                touches.publish(&[super::touches::Touch::All]);
            }
        }
        let first = match next {
            Ok(first) => first,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
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
            let Some(c) = conn.take() else { break };
            let (units, started) = (batch.len(), std::time::Instant::now());
            conn = Some(commit_batch(c, batch, &head, &touches));
            crate::metrics::sqlite_batch(units, started.elapsed());
        }
    }
    drop(conn);
    // Writes sent from now on fail at once.
    drop(queue);
    if let Some(done) = closed {
        let _ = done.send(());
    }
}

/// Runs each write in its own savepoint within one transaction, commits, and tells each
/// caller how it ended: its own error, the batch's error, or success once committed.
fn commit_batch(
    conn: Connection,
    batch: Vec<Job>,
    head: &AuditHead,
    touches: &super::touches::Touches,
) -> Connection {
    let mut replies = Vec::with_capacity(batch.len());
    let mut pending = batch.into_iter();
    let mut tx = Tx::sqlite(conn, head.clone());
    let exec = |tx: &mut Tx, sql: &str| {
        tx.sqlite_conn()
            .expect("an SQLite unit of work")
            .execute_batch(sql)
            .map_err(|e| sqlite_error(&e))
    };
    let committed = (|| {
        exec(&mut tx, "BEGIN IMMEDIATE")?;
        for job in pending.by_ref() {
            exec(&mut tx, "SAVEPOINT write")?;
            let mark = tx.touched_len();
            let (ok, reply) = job(Ok(&mut tx));
            replies.push(reply);
            if ok {
                exec(&mut tx, "RELEASE write")?;
            } else {
                exec(&mut tx, "ROLLBACK TO write; RELEASE write")?;
                tx.forget_touched_after(mark);
            }
        }
        exec(&mut tx, "COMMIT")
    })();
    let touched = tx.take_touched();
    let conn = tx.into_sqlite().expect("an SQLite unit of work");
    if committed.is_ok() {
        // Before any caller hears back: a client that reads after its write sees the change.
        touches.publish(&touched);
    }
    if let Err(e) = &committed {
        tracing::error!(error = %e, "a batch of writes failed as a whole");
        // The writes the batch never reached hear why.
        replies.extend(pending.map(|job| job(Err(e)).1));
        if !conn.is_autocommit()
            && let Err(e) = conn.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %e, "the SQLite writer could not roll back");
        }
    }
    for reply in replies {
        reply(committed.as_ref().err());
    }
    conn
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::exec::stmt;

    fn store() -> (tempfile::TempDir, Sqlite) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Sqlite::open(
            &dir.path().join("t.db"),
            2,
            AuditHead::default(),
            Duration::from_secs(10),
            crate::store::touches::Touches::new(true),
        )
        .expect("open");
        (dir, db)
    }

    async fn table(db: &Sqlite) {
        db.write(|tx| {
            Box::pin(async move {
                tx.execute(stmt!("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
                    .await
                    .map(drop)
            })
        })
        .await
        .expect("table");
    }

    fn stored(db: &Sqlite) -> Vec<i64> {
        db.read(|tx| {
            Box::pin(async move {
                let rows: Vec<(i64,)> = tx.fetch_all(stmt!("SELECT n FROM t ORDER BY n")).await?;
                Ok::<_, StoreError>(rows.into_iter().map(|(n,)| n).collect())
            })
        })
        .expect("read")
    }

    async fn insert(db: &Sqlite, n: i64) -> Result<(), StoreError> {
        db.write(move |tx| {
            Box::pin(async move {
                tx.execute(stmt!("INSERT INTO t (n) VALUES ($1)", n))
                    .await
                    .map(drop)
            })
        })
        .await
    }

    /// Writes queued together share a transaction, yet a failing or panicking one is undone
    /// alone: its rows are gone, the others' are stored, and each caller hears how its own ended.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_in_a_batch_is_undone_alone() {
        let (_dir, db) = store();
        table(&db).await;
        // Holding the writer busy makes the next writes queue up and run as one batch.
        let (hold, release) = std::sync::mpsc::channel::<()>();
        let blocker = {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(move |_tx| {
                    Box::pin(async move {
                        let _ = release.recv();
                        Ok::<_, StoreError>(())
                    })
                })
                .await
            })
        };
        let writes: Vec<_> = (1..=60i64)
            .map(|n| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write(move |tx| {
                        Box::pin(async move {
                            tx.execute(stmt!("INSERT INTO t (n) VALUES ($1)", n))
                                .await?;
                            match n % 3 {
                                // Fails after writing: the row must not stay.
                                1 => tx
                                    .execute(stmt!("INSERT INTO t (n) VALUES ($1)", n))
                                    .await
                                    .map(drop),
                                2 if n == 2 => panic!("a write that panics"),
                                _ => Ok(()),
                            }
                        })
                    })
                    .await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        hold.send(()).expect("release");
        blocker.await.expect("task").expect("blocker");
        for (n, write) in (1..=60i64).zip(writes) {
            match (n % 3, write.await.expect("task")) {
                (1, Err(StoreError::Conflict(_))) => {}
                (2, Err(StoreError::Other(_))) if n == 2 => {}
                (_, Ok(())) if n % 3 != 1 && n != 2 => {}
                (_, other) => panic!("write {n} ended as {other:?}"),
            }
        }
        let expected: Vec<i64> = (1..=60).filter(|n| n % 3 != 1 && *n != 2).collect();
        assert_eq!(stored(&db), expected);
    }

    /// When the batch cannot even begin (another process holds the lock past the timeout),
    /// each caller hears that it may retry, not a vanished worker; the next write goes through.
    #[tokio::test]
    async fn a_batch_that_cannot_begin_tells_each_caller_why() {
        let (dir, db) = store();
        table(&db).await;
        db.write(|tx| {
            Box::pin(async move {
                tx.sqlite_conn()
                    .expect("sqlite")
                    .busy_timeout(Duration::from_millis(50))
                    .map_err(|e| sqlite_error(&e))
            })
        })
        .await
        .expect("short timeout");
        let other = Connection::open(dir.path().join("t.db")).expect("other process");
        other
            .execute_batch("BEGIN IMMEDIATE")
            .expect("hold the lock");
        match insert(&db, 1).await {
            Err(StoreError::Unavailable(e)) => assert!(e.contains("locked"), "{e}"),
            other => panic!("{other:?}"),
        }
        other.execute_batch("ROLLBACK").expect("release");
        insert(&db, 2).await.expect("write after the lock is free");
        assert_eq!(stored(&db), vec![2]);
    }

    #[tokio::test]
    async fn close_finishes_queued_writes_then_refuses_more() {
        let (_dir, db) = store();
        table(&db).await;
        insert(&db, 7).await.expect("write before close");
        db.close().await;
        let late = insert(&db, 8).await;
        assert!(matches!(late, Err(StoreError::Unavailable(_))), "{late:?}");
        assert_eq!(stored(&db), vec![7]);
    }

    #[test]
    fn urls_name_files_and_refuse_options() {
        let p = |u: &str| path_of(u).map_err(|e| e.to_string());
        assert_eq!(
            p("sqlite://my%20db.sqlite"),
            Ok(PathBuf::from("my db.sqlite"))
        );
        assert_eq!(p("sqlite:///tmp/x.db"), Ok(PathBuf::from("/tmp/x.db")));
        assert_eq!(p("data/x.db"), Ok(PathBuf::from("data/x.db")));
        assert!(p("sqlite://x.db?mode=ro").is_err_and(|e| e.contains("mode=ro")));
        assert!(p("sqlite://").is_err());
    }

    /// Migrations run once; a changed one, or a database a newer version migrated, is refused
    /// rather than silently skipped.
    #[tokio::test]
    async fn migrations_run_once_and_changes_are_refused() {
        let (_dir, db) = store();
        static ONE: &[(&str, &str)] = &[("t", "CREATE TABLE t (n INTEGER PRIMARY KEY)")];
        static CHANGED: &[(&str, &str)] = &[("t", "CREATE TABLE t (m INTEGER PRIMARY KEY)")];
        static TWO: &[(&str, &str)] = &[
            ("t", "CREATE TABLE t (n INTEGER PRIMARY KEY)"),
            ("u", "CREATE TABLE u (n INTEGER PRIMARY KEY)"),
        ];
        db.migrate(ONE).await.expect("first run");
        db.migrate(ONE).await.expect("second run does nothing");
        insert(&db, 1).await.expect("table exists");
        let refused = db.migrate(CHANGED).await;
        assert!(
            matches!(&refused, Err(StoreError::Other(m)) if m.contains("changed")),
            "{refused:?}"
        );
        db.migrate(TWO).await.expect("a new migration is applied");
        let older = db.migrate(ONE).await;
        assert!(
            matches!(&older, Err(StoreError::Other(m)) if m.contains("newer")),
            "{older:?}"
        );
    }

    /// A page read again with new bindings runs the plan it has: SQLite would otherwise
    /// parse and plan `LIMIT $n` (and ranges, under STAT4) again at every step.
    #[test]
    fn statements_keep_their_plan_across_bindings() {
        let dir = tempfile::tempdir().expect("temp dir");
        let conn = open(&dir.path().join("p.db"), Duration::from_secs(1)).expect("open");
        for (_, migration) in super::super::SQLITE_MIGRATIONS {
            conn.execute_batch(migration).expect("migration");
        }
        let mut page = conn
            .prepare(crate::store::claims::sql::LIST_CLAIMS)
            .expect("prepare");
        for limit in [50i64, 20, 50, 1] {
            let rows = page
                .query_map(
                    rusqlite::params![[limit as u8; 16].as_slice(), limit],
                    |_| Ok(()),
                )
                .expect("query")
                .count();
            assert_eq!(rows, 0);
        }
        assert_eq!(
            page.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "the list statement was planned again"
        );
    }

    /// Migration 14 rebuilds `reviews` and `review_events` (SQLite's CHECK of states) with
    /// foreign keys on: rows, links and indexes survive, and the new state is accepted.
    #[test]
    fn the_withdrawn_rebuild_keeps_reviews_and_their_history() {
        let dir = tempfile::tempdir().expect("temp dir");
        let conn = Connection::open(dir.path().join("m.db")).expect("open");
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        let before = super::super::SQLITE_MIGRATIONS
            .iter()
            .position(|(name, _)| *name == "withdrawn")
            .expect("the migration is listed");
        let tx = conn.unchecked_transaction().unwrap();
        migrate(&tx, &super::super::SQLITE_MIGRATIONS[..before])
            .unwrap_or_else(|_| panic!("migrations before"));
        tx.execute_batch(
            "INSERT INTO claims (id, text, created_at) VALUES (X'01', 'c', 't');
             INSERT INTO reviews (id, claim_id, author, state, scale_id, rating, summary, revision, created_at, updated_at, published_at)
                 VALUES (X'0A', X'01', 'ana', 'published', 'default', 'true', 's', 3, 't', 't', 't');
             INSERT INTO reviews (id, claim_id, author, state, scale_id, rating, summary, corrects, revision, created_at, updated_at)
                 VALUES (X'0B', X'01', 'ana', 'draft', 'default', 'false', 's', X'0A', 1, 't', 't');
             INSERT INTO review_events (id, review_id, from_state, to_state, actor, second_person_rule, at)
                 VALUES (X'E1', X'0A', NULL, 'draft', 'ana', 1, 't'), (X'E2', X'0B', NULL, 'draft', 'ana', 1, 't');",
        )
        .expect("rows as stored before");
        migrate(&tx, super::super::SQLITE_MIGRATIONS).unwrap_or_else(|_| panic!("migration 14"));
        tx.commit().unwrap();
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(count("SELECT count(*) FROM reviews"), 2);
        assert_eq!(count("SELECT count(*) FROM review_events"), 2);
        assert_eq!(
            count("SELECT count(*) FROM reviews WHERE corrects = X'0A'"),
            1
        );
        assert_eq!(count("SELECT count(*) FROM pragma_foreign_key_check"), 0);
        assert_eq!(
            count("SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%reviews_new%'"),
            0,
            "no reference to the temporary name is left"
        );
        conn.execute(
            "UPDATE reviews SET state = 'withdrawn' WHERE id = X'0B'",
            [],
        )
        .expect("the new state");
        assert!(
            conn.execute("UPDATE reviews SET state = 'lost' WHERE id = X'0B'", [])
                .is_err()
        );
        // A history step for a review that does not exist is still refused.
        assert!(
            conn.execute(
                "INSERT INTO review_events (id, review_id, to_state, actor, second_person_rule, at) \
                 VALUES (X'E3', X'FF', 'draft', 'x', 1, 't')",
                []
            )
            .is_err()
        );
        for index in [
            "review_events_order",
            "reviews_corrects",
            "reviews_claim_state",
            "reviews_published_url",
            "reviews_claim_newest",
        ] {
            let sql = format!("SELECT count(*) FROM sqlite_schema WHERE name = '{index}'");
            assert_eq!(count(&sql), 1, "{index}");
        }
    }
}

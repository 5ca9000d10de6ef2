//! The executor: the one place where the two backends differ in how a statement runs.
//!
//! A [`Statement`] is SQL written once (`$n` placeholders, which both engines accept) with its
//! arguments as [`Value`]s. A [`Tx`] runs statements inside one unit of work: on SQLite a
//! connection that the writer thread (or a reader) lends it, on PostgreSQL a sqlx transaction
//! or the pool. Rows decode into named structs through [`FromRow`], written once per struct;
//! each column type says once per backend how it is read ([`Column`]).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row as _;
use sqlx::postgres::{PgPool, PgRow, Postgres};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::error::{StoreError, postgres_error, sqlite_error};
use crate::domain::ids::{ClaimId, EvidenceId, KeyId, PassageId, PersonId, ReviewId, SourceId};

/// A future a unit of work returns; `Send` so that PostgreSQL's can cross await points.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One argument, typed so that a NULL has a type on PostgreSQL.
#[derive(Debug, Clone)]
pub enum Value {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    I64(Option<i64>),
    F64(Option<f64>),
    Bool(bool),
    Time(Option<OffsetDateTime>),
    Json(Option<serde_json::Value>),
    /// `BYTEA` on PostgreSQL, a BLOB on SQLite.
    Bytes(Option<Vec<u8>>),
    /// An argument that could not be encoded: the statement fails with this message.
    Invalid(String),
}

/// What can be bound as an argument.
pub trait Arg {
    fn value(self) -> Value;
}

macro_rules! args {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl Arg for $t {
            fn value(self) -> Value {
                Value::$variant(Some(self.into()))
            }
        }
        impl Arg for Option<$t> {
            fn value(self) -> Value {
                Value::$variant(self.map(Into::into))
            }
        }
    )*};
}

args!(Uuid => Uuid, String => Text, &str => Text, &String => Text, i64 => I64, f64 => F64, Vec<u8> => Bytes);

/// Ids are stored as their UUID.
macro_rules! id_columns {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn value(self) -> Value {
                Value::Uuid(Some(self.uuid()))
            }
        }
        impl Arg for Option<$t> {
            fn value(self) -> Value {
                Value::Uuid(self.map(<$t>::uuid))
            }
        }
        impl Column for $t {
            fn sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
                Uuid::sqlite(row, i).map(<$t>::from_uuid)
            }
            fn postgres(row: &PgRow, i: usize) -> sqlx::Result<Self> {
                Uuid::postgres(row, i).map(<$t>::from_uuid)
            }
        }
    )*};
}

id_columns!(
    SourceId, PassageId, ClaimId, EvidenceId, ReviewId, KeyId, PersonId
);

impl Arg for bool {
    fn value(self) -> Value {
        Value::Bool(self)
    }
}

impl Arg for OffsetDateTime {
    fn value(self) -> Value {
        Value::Time(Some(self))
    }
}

impl Arg for Option<OffsetDateTime> {
    fn value(self) -> Value {
        Value::Time(self)
    }
}

/// JSON stored as `jsonb` on PostgreSQL and as text on SQLite.
#[derive(Debug, Clone, PartialEq)]
pub struct Json<T>(pub T);

/// A value that does not serialize fails its statement (it is never stored as `null`).
impl<T: Serialize> Arg for Json<T> {
    fn value(self) -> Value {
        serde_json::to_value(&self.0)
            .map(|v| Value::Json(Some(v)))
            .unwrap_or_else(|e| Value::Invalid(format!("a JSON argument does not serialize: {e}")))
    }
}

impl<T: Serialize> Arg for Option<Json<T>> {
    fn value(self) -> Value {
        match self {
            Some(json) => json.value(),
            None => Value::Json(None),
        }
    }
}

/// SQL and its arguments.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: Cow<'static, str>,
    pub args: Vec<Value>,
}

impl Statement {
    /// Refuses a statement with an argument that could not be encoded.
    fn check(&self) -> Result<(), StoreError> {
        match self.args.iter().find_map(|a| match a {
            Value::Invalid(why) => Some(why),
            _ => None,
        }) {
            Some(why) => Err(StoreError::other(why)),
            None => Ok(()),
        }
    }
}

/// `stmt!(SQL, a, b)`: a [`Statement`] with its arguments bound in order (`$1`, `$2`, ...).
macro_rules! stmt {
    ($sql:expr $(, $arg:expr)* $(,)?) => {
        $crate::store::exec::Statement {
            sql: ::std::borrow::Cow::Borrowed($sql),
            args: vec![$($crate::store::exec::Arg::value($arg)),*],
        }
    };
}
pub(crate) use stmt;

/// A row's columns, read in order.
pub struct Cols<'r, 's> {
    row: RawRow<'r, 's>,
    next: usize,
}

enum RawRow<'r, 's> {
    Sqlite(&'r rusqlite::Row<'s>),
    Postgres(&'r PgRow),
}

impl Cols<'_, '_> {
    /// The next column.
    pub fn get<T: Column>(&mut self) -> Result<T, StoreError> {
        let i = self.next;
        self.next += 1;
        match self.row {
            RawRow::Sqlite(row) => T::sqlite(row, i).map_err(|e| sqlite_error(&e)),
            RawRow::Postgres(row) => T::postgres(row, i).map_err(|e| postgres_error(&e)),
        }
    }

    /// Whether the next column is NULL (as a LEFT JOIN leaves a missing row), without
    /// reading past it.
    pub fn next_is_null(&self) -> Result<bool, StoreError> {
        match self.row {
            RawRow::Sqlite(row) => row
                .get_ref(self.next)
                .map(|v| v == rusqlite::types::ValueRef::Null)
                .map_err(|e| sqlite_error(&e)),
            RawRow::Postgres(row) => {
                use sqlx::{Row, ValueRef};
                row.try_get_raw(self.next)
                    .map(|v| v.is_null())
                    .map_err(|e| postgres_error(&e))
            }
        }
    }
}

/// A row type: its decoder is written once, over [`Cols`].
pub trait FromRow: Sized {
    fn from_row(cols: &mut Cols<'_, '_>) -> Result<Self, StoreError>;
}

/// A column type, read the way each backend stores it.
pub trait Column: Sized {
    fn sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self>;
    fn postgres(row: &PgRow, i: usize) -> sqlx::Result<Self>;
}

macro_rules! plain_columns {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
                row.get(i)
            }
            fn postgres(row: &PgRow, i: usize) -> sqlx::Result<Self> {
                row.try_get(i)
            }
        }
    )*};
}

plain_columns!(String, i64, f64, bool, Uuid, Vec<u8>);

impl<T: Column> Column for Option<T> {
    fn sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        match row.get_ref(i)? {
            rusqlite::types::ValueRef::Null => Ok(None),
            _ => T::sqlite(row, i).map(Some),
        }
    }

    fn postgres(row: &PgRow, i: usize) -> sqlx::Result<Self> {
        use sqlx::ValueRef;
        if row.try_get_raw(i)?.is_null() {
            return Ok(None);
        }
        T::postgres(row, i).map(Some)
    }
}

/// SQLite keeps times as RFC 3339 text ([`time_text`]).
impl Column for OffsetDateTime {
    fn sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        // Read in place: a page of a list reads one or two per row.
        let text = row.get_ref(i)?.as_str().map_err(|e| conversion(i, e))?;
        OffsetDateTime::parse(text, &Rfc3339).map_err(|e| conversion(i, e))
    }

    fn postgres(row: &PgRow, i: usize) -> sqlx::Result<Self> {
        row.try_get(i)
    }
}

impl<T: DeserializeOwned> Column for Json<T> {
    fn sqlite(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        let text = row.get_ref(i)?.as_str().map_err(|e| conversion(i, e))?;
        serde_json::from_str(text)
            .map(Json)
            .map_err(|e| conversion(i, e))
    }

    fn postgres(row: &PgRow, i: usize) -> sqlx::Result<Self> {
        row.try_get::<sqlx::types::Json<T>, _>(i).map(|j| Json(j.0))
    }
}

fn conversion(i: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

/// One-column rows (`SELECT id ...`).
impl<T: Column> FromRow for (T,) {
    fn from_row(cols: &mut Cols<'_, '_>) -> Result<Self, StoreError> {
        Ok((cols.get()?,))
    }
}

impl<A: Column, B: Column> FromRow for (A, B) {
    fn from_row(cols: &mut Cols<'_, '_>) -> Result<Self, StoreError> {
        Ok((cols.get()?, cols.get()?))
    }
}

/// A time as SQLite stores it (RFC 3339 text, as sqlx wrote it before).
pub fn time_text(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("formats any date in range")
}

/// A unit of work: statements that run in one transaction (or, for [`super::Store::fetch`],
/// one statement on its own).
pub struct Tx {
    inner: Inner,
    /// Whether PostgreSQL's write lock is held (see [`Tx::lock_writes`]).
    locked: bool,
    /// The audit chain's head as this process last appended it (see `audit::append`).
    head: AuditHead,
    /// What the unit of work changed for in-memory readers (see `touches`).
    touched: Vec<super::touches::Touch>,
}

/// The newest audit entry this process appended: a hint, checked by the append that uses
/// it, so a stale one (another node appended, or a rollback) costs a read.
pub type AuditHead = std::sync::Arc<std::sync::Mutex<Option<Head>>>;

/// The audit chain's head and the transparency log's right edge after it.
#[derive(Debug, Clone)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    /// The tree of entries 1 to `seq` (see `store::tlog`).
    pub frontier: crate::domain::tlog::Frontier,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(sqlx::Transaction<'static, Postgres>),
    PostgresPool(PgPool),
}

impl Tx {
    pub(super) fn sqlite(conn: rusqlite::Connection, head: AuditHead) -> Tx {
        Tx {
            inner: Inner::Sqlite(conn),
            locked: false,
            head,
            touched: Vec::new(),
        }
    }

    pub(super) fn postgres(tx: sqlx::Transaction<'static, Postgres>, head: AuditHead) -> Tx {
        Tx {
            inner: Inner::Postgres(tx),
            locked: false,
            head,
            touched: Vec::new(),
        }
    }

    pub(super) fn postgres_pool(pool: PgPool, head: AuditHead) -> Tx {
        Tx {
            inner: Inner::PostgresPool(pool),
            locked: false,
            head,
            touched: Vec::new(),
        }
    }

    pub(super) fn note_touched(&mut self, touched: Vec<super::touches::Touch>) {
        self.touched.extend(touched);
    }

    /// What was touched so far: a mark to [`Tx::forget_touched_after`] when a write's
    /// savepoint rolls back.
    pub(super) fn touched_len(&self) -> usize {
        self.touched.len()
    }

    pub(super) fn forget_touched_after(&mut self, mark: usize) {
        self.touched.truncate(mark);
    }

    pub(super) fn take_touched(&mut self) -> Vec<super::touches::Touch> {
        std::mem::take(&mut self.touched)
    }

    pub(super) fn audit_head_hint(&self) -> Option<Head> {
        self.head.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(super) fn note_audit_head(&mut self, head: Head) {
        *self.head.lock().unwrap_or_else(|e| e.into_inner()) = Some(head);
    }

    /// The SQLite connection, for the writer's own statements (savepoints, migrations).
    pub(super) fn sqlite_conn(&mut self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(conn) => Some(conn),
            _ => None,
        }
    }

    /// The SQLite connection back, once the unit of work is done.
    pub(super) fn into_sqlite(self) -> Option<rusqlite::Connection> {
        match self.inner {
            Inner::Sqlite(conn) => Some(conn),
            _ => None,
        }
    }

    pub(super) async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            Inner::Postgres(tx) => tx.commit().await.map_err(|e| postgres_error(&e)),
            Inner::Sqlite(_) | Inner::PostgresPool(_) => Ok(()),
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&mut self, s: Statement) -> Result<u64, StoreError> {
        s.check()?;
        match &mut self.inner {
            Inner::Sqlite(conn) => sqlite_execute(conn, &s).map_err(|e| sqlite_error(&e)),
            Inner::Postgres(tx) => pg_query(s)
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| postgres_error(&e)),
            Inner::PostgresPool(pool) => pg_query(s)
                .execute(&*pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(|e| postgres_error(&e)),
        }
    }

    /// Every row of a query.
    pub async fn fetch_all<R: FromRow>(&mut self, s: Statement) -> Result<Vec<R>, StoreError> {
        s.check()?;
        match &mut self.inner {
            Inner::Sqlite(conn) => sqlite_fetch(conn, &s, usize::MAX),
            Inner::Postgres(tx) => {
                let rows = pg_query(s)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(|e| postgres_error(&e))?;
                pg_rows(&rows)
            }
            Inner::PostgresPool(pool) => {
                let rows = pg_query(s)
                    .fetch_all(&*pool)
                    .await
                    .map_err(|e| postgres_error(&e))?;
                pg_rows(&rows)
            }
        }
    }

    /// The first row of a query, if any.
    pub async fn fetch_optional<R: FromRow>(
        &mut self,
        s: Statement,
    ) -> Result<Option<R>, StoreError> {
        s.check()?;
        match &mut self.inner {
            Inner::Sqlite(conn) => Ok(sqlite_fetch(conn, &s, 1)?.into_iter().next()),
            Inner::Postgres(tx) => {
                let row = pg_query(s)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(|e| postgres_error(&e))?;
                row.as_ref().map(pg_row).transpose()
            }
            Inner::PostgresPool(pool) => {
                let row = pg_query(s)
                    .fetch_optional(&*pool)
                    .await
                    .map_err(|e| postgres_error(&e))?;
                row.as_ref().map(pg_row).transpose()
            }
        }
    }

    /// The first column of the first row, if any.
    pub async fn scalar<T: Column>(&mut self, s: Statement) -> Result<Option<T>, StoreError> {
        Ok(self.fetch_optional::<(T,)>(s).await?.map(|(v,)| v))
    }

    /// Takes the write lock on PostgreSQL, once per unit of work: every writer on every API
    /// node appends to the one audit chain, which must stay linear. On SQLite the one writer
    /// thread already runs one write at a time.
    ///
    /// The audit append takes it, so every write holds it before its entry; most writes write
    /// their rows first and take it late, so it is held for few round trips. A write that reads
    /// and then decides on what other writers may change (a rival verdict, a source's versions)
    /// takes it before that read.
    ///
    /// Deadlock freedom: a write that takes the lock late takes no new row locks once it holds
    /// it (it only reads and appends audit entries). A write that takes it early and then
    /// writes rows (today `add_version`: sources, versions, mentions, placements and the search
    /// index; `update_source`: sources, source URLs and the search index;
    /// `create_passage`: passages and placements; `decide_placement`: placements) must not
    /// touch rows that late writes lock: reviews and their events, and through foreign keys
    /// claims and ratings (these take only KEY SHARE locks on sources and passages). A new early-locking write that does must lock late instead, or PostgreSQL
    /// aborts one side of a deadlock (a 503 the client may retry). Waits end after the
    /// connection's `lock_timeout` (10 s), also as a 503.
    pub async fn lock_writes(&mut self) -> Result<(), StoreError> {
        if self.locked {
            return Ok(());
        }
        match self.inner {
            Inner::Postgres(_) => {
                self.execute(stmt!("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK))
                    .await?;
            }
            // A read without a transaction has nothing to hold the lock for.
            Inner::PostgresPool(_) => {
                return Err(StoreError::other("the write lock is for writes"));
            }
            Inner::Sqlite(_) => {}
        }
        self.locked = true;
        Ok(())
    }

    /// Whether statements run on PostgreSQL. Only for what cannot be written once: full-text
    /// search (FTS5 on SQLite, `tsvector` on PostgreSQL; `store::search`).
    pub(super) fn is_postgres(&self) -> bool {
        !matches!(self.inner, Inner::Sqlite(_))
    }

    /// The schema's tables, from the database's own catalogue.
    pub(super) async fn table_names(&mut self) -> Result<Vec<String>, StoreError> {
        let sql = match self.inner {
            // `type = 'table'` leaves out FTS5's virtual tables and their shadow tables: they
            // are the search index (like an index, derived), and every write to them goes
            // with a row of `source_search` or `claim_search`, which are counted.
            Inner::Sqlite(_) => {
                "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY 1"
            }
            Inner::Postgres(_) | Inner::PostgresPool(_) => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
                 AND table_name <> '_sqlx_migrations' ORDER BY 1"
            }
        };
        let rows: Vec<(String,)> = self.fetch_all(stmt!(sql)).await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }
}

/// PostgreSQL advisory lock id held by every write transaction (see [`Tx::lock_writes`]).
pub const WRITE_LOCK: i64 = 0x636c_6169_6d74;

/// Marks where a work-queue query takes its rows (`… LIMIT n /*skip-locked*/`): PostgreSQL
/// locks them and skips rows another node holds; SQLite, with its one writer, reads a comment.
pub const SKIP_LOCKED: &str = "/*skip-locked*/";

/// Marks a statement PostgreSQL must plan for its arguments every time (`/*custom-plan*/`):
/// it is sent unnamed (not kept as a prepared statement), so a generic plan never serves it.
/// For statements whose best plan depends on the values: a full-text search for a rare word
/// reads the GIN index, one for a word most rows hold walks the newest rows. SQLite reads a
/// comment.
pub const CUSTOM_PLAN: &str = "/*custom-plan*/";

fn pg_query(s: Statement) -> sqlx::query::Query<'static, Postgres, sqlx::postgres::PgArguments> {
    let custom_plan = s.sql.contains(CUSTOM_PLAN);
    let sql = if s.sql.contains(SKIP_LOCKED) {
        Cow::Owned(s.sql.replace(SKIP_LOCKED, "FOR UPDATE SKIP LOCKED"))
    } else {
        s.sql
    };
    let mut q = match sql {
        Cow::Borrowed(sql) => sqlx::query(sql),
        Cow::Owned(sql) => sqlx::query(sqlx::AssertSqlSafe(sql)),
    };
    if custom_plan {
        q = q.persistent(false);
    }
    for v in s.args {
        q = match v {
            Value::Uuid(x) => q.bind(x),
            Value::Text(x) => q.bind(x),
            Value::I64(x) => q.bind(x),
            Value::F64(x) => q.bind(x),
            Value::Bool(x) => q.bind(x),
            Value::Time(x) => q.bind(x),
            Value::Json(x) => q.bind(x.map(sqlx::types::Json)),
            Value::Bytes(x) => q.bind(x),
            // Refused by `Statement::check` before any statement runs.
            Value::Invalid(_) => q.bind(None::<String>),
        };
    }
    q
}

fn pg_row<R: FromRow>(row: &PgRow) -> Result<R, StoreError> {
    R::from_row(&mut Cols {
        row: RawRow::Postgres(row),
        next: 0,
    })
}

fn pg_rows<R: FromRow>(rows: &[PgRow]) -> Result<Vec<R>, StoreError> {
    rows.iter().map(pg_row).collect()
}

/// Prepares (or takes from the cache) the statement and binds its arguments.
fn sqlite_prepare<'c>(
    conn: &'c rusqlite::Connection,
    s: &Statement,
) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    use rusqlite::types::ToSqlOutput;
    let mut stmt = conn.prepare_cached(&s.sql)?;
    // SQLite numbers `$n` parameters by first appearance, not by `n`: each slot is bound from
    // the argument its name gives (read from the statement; formatting "$n" and looking it
    // up for every argument was a third of the cost of storing an import's figures).
    for index in 1..=stmt.parameter_count() {
        let Some(arg) = stmt
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$')?.parse::<usize>().ok())
            .and_then(|n| s.args.get(n.checked_sub(1)?))
        else {
            continue;
        };
        let null = || ToSqlOutput::Owned(rusqlite::types::Value::Null);
        let value: ToSqlOutput<'_> = match arg {
            Value::Uuid(x) => x
                .as_ref()
                .map_or_else(null, |u| u.as_bytes().as_slice().into()),
            Value::Text(x) => x.as_deref().map_or_else(null, Into::into),
            Value::I64(x) => x.map_or_else(null, Into::into),
            Value::F64(x) => x.map_or_else(null, Into::into),
            Value::Bool(x) => (*x).into(),
            Value::Time(x) => x.map_or_else(null, |t| time_text(t).into()),
            Value::Json(x) => x.as_ref().map_or_else(null, |j| j.to_string().into()),
            Value::Bytes(x) => x.as_ref().map_or_else(null, |b| b.as_slice().into()),
            // Refused by `Statement::check` before any statement runs.
            Value::Invalid(_) => null(),
        };
        stmt.raw_bind_parameter(index, value)?;
    }
    Ok(stmt)
}

fn sqlite_execute(conn: &rusqlite::Connection, s: &Statement) -> rusqlite::Result<u64> {
    let mut stmt = sqlite_prepare(conn, s)?;
    // `raw_execute` refuses statements that return rows; `UPDATE … RETURNING` is run by
    // `fetch_*` instead.
    stmt.raw_execute().map(|n| n as u64)
}

fn sqlite_fetch<R: FromRow>(
    conn: &rusqlite::Connection,
    s: &Statement,
    max: usize,
) -> Result<Vec<R>, StoreError> {
    let mut stmt = sqlite_prepare(conn, s).map_err(|e| sqlite_error(&e))?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while out.len() < max {
        let Some(row) = rows.next().map_err(|e| sqlite_error(&e))? else {
            break;
        };
        out.push(R::from_row(&mut Cols {
            row: RawRow::Sqlite(row),
            next: 0,
        })?);
    }
    // A statement with side effects (`UPDATE … RETURNING`) runs to its end even when only the
    // first row is read.
    while max != usize::MAX && rows.next().map_err(|e| sqlite_error(&e))?.is_some() {}
    Ok(out)
}

/// Polls a future once: units of work on SQLite never wait (their statements run in place),
/// so they finish in one poll. `None` if it would have waited.
pub(super) fn run_now<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

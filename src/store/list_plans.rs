//! Each list page seeks to its cursor (issue 7): `GET /v1/claims`, `GET /v1/sources` and
//! `GET /v1/audit` read one page with a range on the key (`id > $n`, `seq > $n`), so a late
//! page costs what the first one does. A shape such as `($2 IS NULL OR id > $2)` makes SQLite
//! (and PostgreSQL's generic plans) walk the key from the start instead.
//!
//! The tests run the service's own statements ([`claims::sql::LIST_CLAIMS`], [`sources::sql::LIST_SOURCES`],
//! the audit list) with the arguments the store binds, on 100,000 rows per table, and assert
//! on the plan and on the work done (SQLite's VM steps, PostgreSQL's rows read), never on time.
//! `scripts/bench-pages.sh` gives the timings.

use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use sqlx::{Connection as _, Executor as _, Row as _};
use uuid::Uuid;

use super::{claims, sources};
use crate::store::audit::LIST_SQL as AUDIT_LIST;
use crate::store::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

/// Rows per table.
const ROWS: usize = 100_000;
/// The page size (the API's default).
const LIMIT: i64 = crate::domain::DEFAULT_LIMIT as i64;
/// The late cursor is this many rows from the end, so its page is full.
const FROM_END: usize = 100;

/// One list statement, with what its page must seek on.
struct List {
    name: &'static str,
    sql: &'static str,
    /// The table the page walks (its alias in the statement, if any).
    table: &'static str,
    /// SQLite's range in `EXPLAIN QUERY PLAN`.
    sqlite_range: &'static str,
    /// PostgreSQL's `Index Cond` starts with this.
    pg_cond: &'static str,
    /// PostgreSQL's parameter types, as the store binds them (`Option<String>` is text).
    pg_types: &'static str,
}

const LISTS: [List; 3] = [
    List {
        name: "LIST_CLAIMS",
        sql: claims::sql::LIST_CLAIMS,
        table: "c",
        sqlite_range: "(id>?)",
        pg_cond: "(id >",
        pg_types: "uuid, bigint",
    },
    List {
        name: "LIST_SOURCES",
        sql: sources::sql::LIST_SOURCES,
        table: "s",
        sqlite_range: "(id>?)",
        pg_cond: "(id >",
        pg_types: "text, uuid, bigint",
    },
    List {
        name: "audit LIST",
        sql: AUDIT_LIST,
        table: "audit_log",
        sqlite_range: "(rowid>?)",
        pg_cond: "(seq >",
        pg_types: "text, text, text, text, text, bigint, bigint",
    },
];

/// A cursor: the last id of the page before, or the last `seq`.
#[derive(Clone, Copy)]
enum After {
    Id(Uuid),
    Seq(i64),
}

/// The arguments `store::sources::list_sources`, `store::claims::list_claims` and `store::audit::list` bind (no filters).
fn args(list: &List, after: After) -> Vec<Option<After>> {
    match list.name {
        "LIST_CLAIMS" => vec![Some(after)],
        "LIST_SOURCES" => vec![None, Some(after)],
        _ => vec![None, None, None, None, None, Some(after)],
    }
}

/// The ids the tables are filled with, in key order: UUIDv7, as the service makes them.
fn sorted_ids() -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = (0..ROWS).map(|_| Uuid::now_v7()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), ROWS, "UUIDv7 ids are unique");
    ids
}

/// The first page's cursor and a late one, per list, as the store passes them.
fn cursors(list: &List, claims: &[Uuid], sources: &[Uuid]) -> [(&'static str, After); 2] {
    let late = ROWS - FROM_END;
    match list.name {
        "LIST_CLAIMS" => [
            ("first", After::Id(Uuid::nil())),
            ("late", After::Id(claims[late - 1])),
        ],
        "LIST_SOURCES" => [
            ("first", After::Id(Uuid::nil())),
            ("late", After::Id(sources[late - 1])),
        ],
        _ => [
            ("first", After::Seq(i64::MIN)),
            ("late", After::Seq(late as i64)),
        ],
    }
}

// ---------------------------------------------------------------------------------------
// SQLite

fn sqlite_fill(conn: &mut Connection, claims: &[Uuid], sources: &[Uuid]) {
    for (_, migration) in SQLITE_MIGRATIONS {
        conn.execute_batch(migration).expect("migration");
    }
    let at = "2026-01-02T03:04:05.678901Z";
    let tx = conn.transaction().expect("begin");
    {
        let mut claim = tx
            .prepare(
                "INSERT INTO claims (id, text, claimant, created_at) VALUES (?1, ?2, NULL, ?3)",
            )
            .expect("prepare");
        for (i, id) in claims.iter().enumerate() {
            claim
                .execute(rusqlite::params![
                    &id.as_bytes()[..],
                    format!("Claim {i}"),
                    at
                ])
                .expect("insert claim");
        }
        let mut source = tx
            .prepare(
                "INSERT INTO sources (id, title, url, authors, latest_version, created_at) \
                 VALUES (?1, ?2, ?3, '[]', 1, ?4)",
            )
            .expect("prepare");
        let mut version = tx
            .prepare(
                "INSERT INTO source_versions (source_id, number, sha256, length, text, captured_at) \
                 VALUES (?1, 1, ?2, ?3, ?4, ?5)",
            )
            .expect("prepare");
        for (i, id) in sources.iter().enumerate() {
            let id = &id.as_bytes()[..];
            let text = format!("The text of source {i}.");
            source
                .execute(rusqlite::params![
                    id,
                    format!("Source {i}"),
                    format!("https://example.org/{i}"),
                    at
                ])
                .expect("insert source");
            version
                .execute(rusqlite::params![
                    id,
                    format!("{i:064x}"),
                    text.len() as i64,
                    text,
                    at
                ])
                .expect("insert version");
        }
        let mut entry = tx
            .prepare(
                "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, changes, prev_hash, hash) \
                 VALUES (?1, ?2, 'key:bench', 'create', 'claim', ?3, '{}', ?4, ?5)",
            )
            .expect("prepare");
        for seq in 1..=ROWS as i64 {
            entry
                .execute(rusqlite::params![
                    seq,
                    at,
                    claims[seq as usize - 1].to_string(),
                    format!("{:064x}", seq - 1),
                    format!("{seq:064x}")
                ])
                .expect("insert entry");
        }
    }
    tx.commit().expect("commit");
}

/// Binds as `store::exec` does: by the name `$n`, UUIDs as 16-byte blobs, then `LIMIT`.
fn sqlite_bind(stmt: &mut rusqlite::Statement<'_>, args: &[Option<After>]) {
    let values = args
        .iter()
        .map(|a| match a {
            None => Sql::Null,
            Some(After::Id(id)) => Sql::Blob(id.as_bytes().to_vec()),
            Some(After::Seq(seq)) => Sql::Integer(*seq),
        })
        .chain([Sql::Integer(LIMIT)]);
    for (i, value) in values.enumerate() {
        let index = stmt
            .parameter_index(&format!("${}", i + 1))
            .expect("parameter name")
            .expect("the statement has this parameter");
        stmt.raw_bind_parameter(index, value).expect("bind");
    }
}

/// `EXPLAIN QUERY PLAN` lines of the statement with these arguments.
fn sqlite_plan(conn: &Connection, list: &List, args: &[Option<After>]) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", list.sql))
        .expect("prepare plan");
    sqlite_bind(&mut stmt, args);
    let mut rows = stmt.raw_query();
    let mut plan = Vec::new();
    while let Some(row) = rows.next().expect("plan row") {
        plan.push(row.get::<_, String>(3).expect("detail"));
    }
    plan
}

/// Runs the page: its row count and the virtual machine steps it took (the work done).
fn sqlite_run(conn: &Connection, list: &List, args: &[Option<After>]) -> (usize, i32) {
    let mut stmt = conn.prepare(list.sql).expect("prepare");
    sqlite_bind(&mut stmt, args);
    let mut rows = stmt.raw_query();
    let mut n = 0;
    while rows.next().expect("row").is_some() {
        n += 1;
    }
    drop(rows);
    (n, stmt.get_status(rusqlite::StatementStatus::VmStep))
}

/// On SQLite, a late page of each list SEARCHes its key range (no SCAN, no sort), returns a
/// full page, and takes no more VM steps than the first page (give or take a little): the
/// work does not grow with the rows before the cursor.
#[test]
fn list_pages_seek_to_the_cursor_on_sqlite() {
    let (claims, sources) = (sorted_ids(), sorted_ids());
    let mut conn = Connection::open_in_memory().expect("open");
    crate::store::sqlite::stable_plans(&conn).expect("stable plans");
    sqlite_fill(&mut conn, &claims, &sources);

    let mut failures = Vec::new();
    for list in &LISTS {
        let [first, late] = cursors(list, &claims, &sources);
        let plan = sqlite_plan(&conn, list, &args(list, late.1));
        let outer = plan.first().map(String::as_str).unwrap_or_default();
        let seeks = outer.starts_with(&format!("SEARCH {} ", list.table))
            && outer.ends_with(list.sqlite_range);
        let scans = plan
            .iter()
            .any(|line| line.starts_with("SCAN") || line.contains("TEMP B-TREE"));
        if !seeks || scans {
            failures.push(format!(
                "{}: the late page's plan does not seek to the cursor with a SEARCH on \
                 {} {}: {plan:?}",
                list.name, list.table, list.sqlite_range
            ));
        }

        let (first_rows, first_steps) = sqlite_run(&conn, list, &args(list, first.1));
        let (late_rows, late_steps) = sqlite_run(&conn, list, &args(list, late.1));
        assert_eq!(first_rows as i64, LIMIT, "{}: first page", list.name);
        assert_eq!(late_rows as i64, LIMIT, "{}: late page", list.name);
        // Seeking costs a few steps more than starting at the beginning; walking the 99,900
        // rows before the cursor costs hundreds of thousands.
        if late_steps > 2 * first_steps + 1_000 {
            failures.push(format!(
                "{}: the late page took {late_steps} VM steps, the first page {first_steps}",
                list.name
            ));
        }
        eprintln!(
            "sqlite {}: plan {plan:?}; VM steps: first page {first_steps}, late page {late_steps}",
            list.name
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

/// A fresh database on the test server (`CLAIMTRAIL_TEST_PG_URL`, set by `scripts/pg.sh`).
async fn pg_fresh_database() -> (String, String) {
    let admin = std::env::var("CLAIMTRAIL_TEST_PG_URL").expect(
        "CLAIMTRAIL_TEST_PG_URL is not set: run the suite with scripts/test.sh, which starts PostgreSQL",
    );
    let name = format!(
        "ct_plans_{}_{}",
        std::process::id(),
        Uuid::now_v7().simple()
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to test PostgreSQL");
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    conn.close().await.ok();
    let (base, _) = admin.rsplit_once('/').expect("admin URL has a database");
    (admin.clone(), format!("{base}/{name}"))
}

/// The schema, then `ROWS` claims, sources with their versions and audit entries, analyzed.
async fn pg_fill(conn: &mut sqlx::PgConnection) {
    for &(_, migration) in POSTGRES_MIGRATIONS {
        conn.execute(sqlx::raw_sql(migration))
            .await
            .expect("migration");
    }
    let fill = format!(
        "INSERT INTO claims (id, text, created_at) \
           SELECT md5('c' || i)::uuid, 'Claim ' || i, now() FROM generate_series(1, {ROWS}) i; \
         INSERT INTO sources (id, title, url, latest_version, created_at) \
           SELECT md5('s' || i)::uuid, 'Source ' || i, 'https://example.org/' || i, 1, now() \
           FROM generate_series(1, {ROWS}) i; \
         INSERT INTO source_versions (source_id, number, sha256, length, text, captured_at) \
           SELECT md5('s' || i)::uuid, 1, md5(i::text) || md5(i::text), 24, \
                  'The text of source ' || i || '.', now() FROM generate_series(1, {ROWS}) i; \
         INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, changes, prev_hash, hash) \
           SELECT i, '2026-01-02T03:04:05.678901Z', 'key:bench', 'create', 'claim', \
                  md5('c' || i)::uuid::text, '{{}}', md5((i - 1)::text), md5(i::text) \
           FROM generate_series(1, {ROWS}) i; \
         ANALYZE"
    );
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(fill)))
        .await
        .expect("fill");
}

/// The id `FROM_END` rows before the end of `table`, for the late cursor.
async fn pg_late_id(conn: &mut sqlx::PgConnection, table: &str) -> Uuid {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM {table} ORDER BY id OFFSET {} LIMIT 1",
        ROWS - FROM_END - 1
    )))
    .fetch_one(&mut *conn)
    .await
    .expect("late id")
    .get(0)
}

fn pg_literal(a: &Option<After>) -> String {
    match a {
        None => "NULL".into(),
        Some(After::Id(id)) => format!("'{id}'"),
        Some(After::Seq(seq)) => seq.to_string(),
    }
}

/// Every node of a JSON plan.
fn pg_nodes<'p>(node: &'p serde_json::Value, out: &mut Vec<&'p serde_json::Value>) {
    out.push(node);
    for child in node["Plans"].as_array().into_iter().flatten() {
        pg_nodes(child, out);
    }
}

/// On PostgreSQL, with custom and with generic plans (a prepared statement gets a generic one
/// after five runs), a late page of each list is an Index Scan whose index condition is the
/// key range, with no Seq Scan, and it reads no more rows than the page holds.
#[tokio::test]
async fn list_pages_seek_to_the_cursor_on_postgres() {
    let (admin, url) = pg_fresh_database().await;
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    pg_fill(&mut conn).await;
    let claim = pg_late_id(&mut conn, "claims").await;
    let source = pg_late_id(&mut conn, "sources").await;

    let mut failures = Vec::new();
    for (i, list) in LISTS.iter().enumerate() {
        let late = match list.name {
            "LIST_CLAIMS" => After::Id(claim),
            "LIST_SOURCES" => After::Id(source),
            _ => After::Seq((ROWS - FROM_END) as i64),
        };
        let statement = format!("list_{i}");
        conn.execute(sqlx::AssertSqlSafe(format!(
            "PREPARE {statement} ({}) AS {}",
            list.pg_types, list.sql
        )))
        .await
        .expect("prepare");
        let values: Vec<String> = args(list, late)
            .iter()
            .map(pg_literal)
            .chain([LIMIT.to_string()])
            .collect();
        for mode in ["force_custom_plan", "force_generic_plan"] {
            conn.execute(sqlx::AssertSqlSafe(format!("SET plan_cache_mode = {mode}")))
                .await
                .expect("set plan_cache_mode");
            let explained: serde_json::Value = sqlx::query(sqlx::AssertSqlSafe(format!(
                "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) EXECUTE {statement} ({})",
                values.join(", ")
            )))
            .fetch_one(&mut conn)
            .await
            .expect("explain")
            .get(0);
            let mut nodes = Vec::new();
            pg_nodes(&explained[0]["Plan"], &mut nodes);
            let seek = nodes.iter().find(|n| {
                n["Alias"] == list.table
                    && matches!(
                        n["Node Type"].as_str(),
                        Some("Index Scan" | "Index Only Scan")
                    )
                    && n["Index Cond"]
                        .as_str()
                        .is_some_and(|c| c.starts_with(list.pg_cond))
            });
            // On the listed table only: the claim list joins each claim's newest review,
            // and the test fills no reviews, so PostgreSQL rightly scans those empty tables.
            let seq_scan = nodes
                .iter()
                .any(|n| n["Node Type"] == "Seq Scan" && n["Alias"] == list.table);
            let read = seek.map(|n| {
                n["Actual Rows"].as_f64().unwrap_or(f64::MAX)
                    + n["Rows Removed by Filter"].as_f64().unwrap_or(0.0)
            });
            let returned = explained[0]["Plan"]["Actual Rows"].as_f64();
            let ok = seek.is_some()
                && !seq_scan
                && read.is_some_and(|r| r <= LIMIT as f64)
                && returned == Some(LIMIT as f64);
            eprintln!(
                "postgres {} ({mode}): seek {:?}, rows read on {} {read:?}, returned {returned:?}",
                list.name,
                seek.map(|n| &n["Index Cond"]),
                list.table
            );
            if !ok {
                failures.push(format!(
                    "{} ({mode}): the late page does not seek to the cursor (an Index Scan on \
                     {} with Index Cond {}…, no Seq Scan, at most {LIMIT} rows read): {explained:#}",
                    list.name, list.table, list.pg_cond
                ));
            }
        }
    }
    conn.close().await.ok();
    if let Ok(mut admin) = sqlx::PgConnection::connect(&admin).await {
        let name = url.rsplit_once('/').map(|(_, n)| n).unwrap_or_default();
        let _ = admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! The baseline for the write figures of `scripts/bench.sh`: a minimal axum server that stores
//! one row per request with one INSERT (its own commit), on SQLite or PostgreSQL, with the
//! durability settings the real service uses. No authentication, no middleware, no audit:
//! what a simple durable write costs on this machine, measured in the same run as the review
//! transitions (`examples/loadtest --minimal` drives it with the same clients).
//!
//! SQLite: one rusqlite connection in WAL mode with `synchronous=NORMAL`, a busy timeout and
//! foreign keys on, as `store::sqlite` opens its writer; each INSERT commits on its own (the
//! service groups commits, which is its own work, not the baseline's). PostgreSQL: an sqlx
//! pool of 8 connections (the service's default) with the same `lock_timeout`; the server's
//! own settings (`fsync`, `synchronous_commit`) are the same for both.
//!
//! ```sh
//! cargo build --release --examples
//! target/release/examples/minimal_write --database-url /tmp/minimal-write.db --port 0
//! # listening on http://127.0.0.1:41234
//! curl -s -XPOST -H 'content-type: application/json' -d '{"text":"x"}' 127.0.0.1:41234/rows
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

struct Args {
    database_url: String,
    port: u16,
}

fn args() -> Args {
    let mut args = Args {
        database_url: String::new(),
        port: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => args.database_url = value,
            "--port" => args.port = value.parse().expect("--port N"),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        !args.database_url.is_empty(),
        "--database-url is required (an SQLite path, recreated, or postgres://…)"
    );
    args
}

#[derive(Clone)]
enum Db {
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    Postgres(sqlx::PgPool),
}

#[derive(Deserialize)]
struct NewRow {
    text: String,
}

#[derive(Serialize)]
struct Row {
    id: Uuid,
    text: String,
    created_at: String,
}

const CREATE: &str = "CREATE TABLE rows (id BYTEA PRIMARY KEY NOT NULL, text TEXT NOT NULL, \
                      created_at TEXT NOT NULL)";
const INSERT: &str = "INSERT INTO rows (id, text, created_at) VALUES ($1, $2, $3)";

async fn add_row(
    State(db): State<Db>,
    Json(new): Json<NewRow>,
) -> Result<(StatusCode, Json<Row>), StatusCode> {
    let row = Row {
        id: Uuid::now_v7(),
        text: new.text,
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?,
    };
    match db {
        Db::Sqlite(conn) => {
            let (id, text, at) = (row.id, row.text.clone(), row.created_at.clone());
            tokio::task::spawn_blocking(move || {
                let conn = conn.lock().expect("writer");
                conn.prepare_cached(INSERT)?.execute(rusqlite::params![
                    id.as_bytes().as_slice(),
                    text,
                    at
                ])
            })
            .await
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        }
        Db::Postgres(pool) => {
            sqlx::query(INSERT)
                .bind(row.id.as_bytes().as_slice())
                .bind(&row.text)
                .bind(&row.created_at)
                .execute(&pool)
                .await
                .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
        }
    }
    Ok((StatusCode::CREATED, Json(row)))
}

async fn open(url: &str) -> Db {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options: sqlx::postgres::PgConnectOptions = url.parse().expect("a PostgreSQL URL");
        let options = options.options([("lock_timeout", "10000ms")]);
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query("DROP TABLE IF EXISTS rows")
            .execute(&pool)
            .await
            .expect("drop");
        sqlx::query(CREATE).execute(&pool).await.expect("create");
        return Db::Postgres(pool);
    }
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let conn = rusqlite::Connection::open(path).expect("open the SQLite file");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy");
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
        .expect("WAL");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("synchronous");
    conn.pragma_update(None, "foreign_keys", "ON")
        .expect("foreign keys");
    conn.execute(&CREATE.replace("BYTEA", "BLOB"), [])
        .expect("create");
    Db::Sqlite(Arc::new(Mutex::new(conn)))
}

#[tokio::main]
async fn main() {
    let args = args();
    let db = open(&args.database_url).await;
    let app = Router::new().route("/rows", post(add_row)).with_state(db);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port)))
        .await
        .expect("bind");
    eprintln!(
        "listening on http://{}",
        listener.local_addr().expect("address")
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .await
        .expect("serve");
}

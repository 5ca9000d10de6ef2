//! The baseline for `scripts/bench-read.sh`: a minimal axum + sqlx server that returns one
//! SQLite row by key as JSON. No authentication, no middleware, one query per request: what a
//! simple server achieves on this machine, measured in the same run as `GET /v1/claims/{id}`.
//!
//! It creates (or recreates) an SQLite file with one claims-like table (UUID key as a 16-byte
//! blob, as sqlx stores it, text, claimant, created_at), inserts `--rows` rows, prints one of
//! their ids and then its address, and serves `GET /rows/{id}` on 127.0.0.1 until Ctrl-C or
//! SIGTERM. The pool is set up like the real service's (WAL, synchronous=NORMAL, busy timeout,
//! 8 connections, no ping before acquire).
//!
//! ```sh
//! cargo build --release --examples
//! target/release/examples/minimal_read --database /tmp/minimal.db --port 0
//! # id 0194…
//! # listening on http://127.0.0.1:41234
//! curl -s 127.0.0.1:41234/rows/0194…
//! ```

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Serialize;
use uuid::Uuid;

// Every database name this example uses is imported here. Should the project drop sqlx's
// `sqlite` feature, only these lines change (e.g. to an `sqlx` dev-dependency with `sqlite`).
use sqlx::sqlite::{
    SqliteConnectOptions as ConnectOptions, SqliteJournalMode as JournalMode, SqlitePool as Pool,
    SqlitePoolOptions as PoolOptions, SqliteSynchronous as Synchronous,
};
use sqlx::{query, query_as};

struct Args {
    database: String,
    port: u16,
    rows: u32,
    max_connections: u32,
}

fn args() -> Args {
    let mut args = Args {
        database: String::new(),
        port: 0,
        rows: 1_000,
        max_connections: 8,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--database" => args.database = value,
            "--port" => args.port = value.parse().expect("--port N"),
            "--rows" => args.rows = value.parse().expect("--rows N"),
            "--max-connections" => {
                args.max_connections = value.parse().expect("--max-connections N")
            }
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        !args.database.is_empty(),
        "--database PATH is required (an SQLite file; it is recreated)"
    );
    args
}

#[derive(Serialize)]
struct Row {
    id: Uuid,
    text: String,
    claimant: String,
    created_at: String,
}

async fn get_row(State(pool): State<Pool>, Path(id): Path<Uuid>) -> Result<Json<Row>, StatusCode> {
    let row: Option<(Uuid, String, String, String)> =
        query_as("SELECT id, text, claimant, created_at FROM claims WHERE id = $1")
            .bind(id)
            .fetch_optional(&pool)
            .await
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let (id, text, claimant, created_at) = row.ok_or(StatusCode::NOT_FOUND)?;
    Ok(Json(Row {
        id,
        text,
        claimant,
        created_at,
    }))
}

async fn open(args: &Args) -> Result<Pool, sqlx::Error> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", args.database));
    }
    let options = ConnectOptions::from_str(&format!("sqlite://{}", args.database))?
        .create_if_missing(true)
        .journal_mode(JournalMode::Wal)
        .synchronous(Synchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    PoolOptions::new()
        .max_connections(args.max_connections)
        .test_before_acquire(false)
        .connect_with(options)
        .await
}

/// Creates the table and inserts `rows` rows; returns the id of the middle one.
async fn seed(pool: &Pool, rows: u32) -> Result<Uuid, sqlx::Error> {
    query(
        "CREATE TABLE claims (
            id BLOB PRIMARY KEY NOT NULL,
            text TEXT NOT NULL,
            claimant TEXT NOT NULL,
            created_at TEXT NOT NULL
        )",
    )
    .execute(pool)
    .await?;
    let mut tx = pool.begin().await?;
    let mut middle = Uuid::nil();
    for i in 0..rows.max(1) {
        let id = Uuid::now_v7();
        if i == rows / 2 {
            middle = id;
        }
        query("INSERT INTO claims (id, text, claimant, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(format!(
                "The bridge will cost $4 billion, and the council approved it on Tuesday ({i})."
            ))
            .bind("Mayor of Riverton")
            .bind("2024-05-01T09:30:00Z")
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(middle)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args();
    // The same runtime as `claimtrail serve`: multi-threaded, one worker per core.
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let pool = open(&args).await?;
        let id = seed(&pool, args.rows).await?;
        let app = Router::new()
            .route("/rows/{id}", get(get_row))
            .with_state(pool.clone());
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
        println!("id {id}");
        println!("listening on http://{}", listener.local_addr()?);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        pool.close().await;
        Ok(())
    })
}

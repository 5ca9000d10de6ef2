//! Bad input of every kind: a clear problem, never a 500, and nothing written.

use claimtrail::http::HttpConfig;
use claimtrail::http::error::Kind;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, assert_problem, spawn_app, spawn_app_with, spawn_app_with_lock_wait,
};

/// (path, content type, body, expected status, expected problem slug)
type RawCase = (
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    StatusCode,
    &'static str,
);

async fn malformed_bodies_are_problems_and_write_nothing(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t.source("Existing", "some text").await;
    let id = source["id"].as_str().unwrap();
    let before = t.row_counts().await;
    let json_ct = Some("application/json");
    let cases: Vec<RawCase> = vec![
        (
            "/v1/sources",
            json_ct,
            b"{\"title\": \"x\", ".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid-json",
        ),
        (
            "/v1/sources",
            json_ct,
            b"not json".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid-json",
        ),
        (
            "/v1/sources",
            json_ct,
            b"{\"title\":\"a\",\"text\":\"b\"} trailing".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid-json",
        ),
        (
            "/v1/sources",
            json_ct,
            b"".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid-json",
        ),
        (
            "/v1/sources",
            json_ct,
            b"{\"title\": \"caf\xe9\", \"text\": \"x\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid-utf8",
        ),
        (
            "/v1/sources",
            None,
            br#"{"title":"a","text":"b"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            "/v1/sources",
            Some("text/plain"),
            br#"{"title":"a","text":"b"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            "/v1/claims",
            json_ct,
            b"[1, 2]".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
        ),
    ];
    for (path, ct, body, status, slug) in cases {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let res = t.post_raw(path, ct, body).await;
        assert_eq!(res.status(), status, "{path} {shown}");
        assert_problem(res, status, slug).await;
    }
    let p = assert_problem(
        t.post_raw("/v1/sources", json_ct, b"{\n\"title\": }".to_vec())
            .await,
        StatusCode::BAD_REQUEST,
        "invalid-json",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("line 2"), "{p}");

    // Shape errors name the field.
    let shape: Vec<(String, Value, &str)> = vec![
        (
            "/v1/sources".into(),
            json!({"title": 5, "text": "x"}),
            "title",
        ),
        ("/v1/sources".into(), json!({"title": "t"}), ""),
        (
            "/v1/sources".into(),
            json!({"title": "t", "text": "x", "colour": "red"}),
            "colour",
        ),
        (
            "/v1/sources".into(),
            json!({"title": "t", "text": null}),
            "text",
        ),
        (
            "/v1/sources".into(),
            json!({"title": "t", "text": "x", "authors": ["a", 3]}),
            "authors/1",
        ),
        (
            format!("/v1/sources/{id}/passages"),
            json!({"quote": "some", "start": "0", "end": 2}),
            "start",
        ),
        (
            format!("/v1/sources/{id}/passages"),
            json!({"quote": ["some"]}),
            "quote",
        ),
        (
            format!("/v1/sources/{id}/versions"),
            json!({"body": "x"}),
            "body",
        ),
        (
            "/v1/claims".into(),
            json!({"text": "x", "appearances": "p"}),
            "appearances",
        ),
    ];
    for (path, body, field) in shape {
        let p = assert_problem(
            t.post(&path, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
        let message = p["errors"][0]["message"].as_str().unwrap();
        assert!(!message.is_empty());
        if body.get("colour").is_some() {
            assert!(message.contains("colour"), "{p}");
        }
        if body.get("text").is_none() && path == "/v1/sources" {
            assert!(message.contains("missing field `text`"), "{p}");
        }
    }

    // Domain validation lists every invalid field at once.
    let p = assert_problem(
        t.post("/v1/sources", &json!({"title": "  ", "text": " \n\t ", "url": "ftp://x.org/a", "published_at": "May 1", "authors": [""]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    let mut fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        ["authors/0", "published_at", "text", "title", "url"]
    );
    assert_problem(
        t.post(
            &format!("/v1/sources/{id}/versions"),
            &json!({"text": "   "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;

    assert_eq!(
        t.row_counts().await,
        before,
        "no refused request wrote anything"
    );
}

async fn bodies_over_the_limit_are_413(backend: Backend) {
    let t = spawn_app_with(
        backend,
        HttpConfig {
            max_body_bytes: 1024,
            ..HttpConfig::default()
        },
    )
    .await;
    let before = t.row_counts().await;
    let big = "x".repeat(2048);
    let res = t
        .post("/v1/sources", &json!({"title": "big", "text": big}))
        .await;
    let p = assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "body-too-large").await;
    assert!(
        p["hint"]
            .as_str()
            .unwrap()
            .contains("CLAIMTRAIL_MAX_BODY_BYTES")
    );
    assert_eq!(t.row_counts().await, before);
    // Under the limit still works.
    t.source("small", "fits").await;
}

async fn bad_queries_cursors_and_paths_are_problems(backend: Backend) {
    let t = spawn_app(backend).await;
    t.source("One", "text").await;
    assert_problem(
        t.get("/v1/sources?cursor=garbage").await,
        StatusCode::BAD_REQUEST,
        "invalid-cursor",
    )
    .await;
    assert_problem(
        t.get("/v1/claims?cursor=AAAA").await,
        StatusCode::BAD_REQUEST,
        "invalid-cursor",
    )
    .await;
    // PostgreSQL cannot store (or compare with) a NUL: bad input, not a 500.
    let p = assert_problem(
        t.get("/v1/audit?actor=a%00b").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "actor");
    assert_problem(
        t.get("/v1/sources?limit=0").await,
        StatusCode::BAD_REQUEST,
        "invalid-query",
    )
    .await;
    assert_problem(
        t.get("/v1/sources?limit=1000").await,
        StatusCode::BAD_REQUEST,
        "invalid-query",
    )
    .await;
    assert_problem(
        t.get("/v1/sources?limit=ten").await,
        StatusCode::BAD_REQUEST,
        "invalid-query",
    )
    .await;
    assert_problem(
        t.get("/v1/sources?colour=red").await,
        StatusCode::BAD_REQUEST,
        "invalid-query",
    )
    .await;
    assert_problem(
        t.get("/v1/sources?url=not-a-url").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_problem(
        t.get("/v1/nothing-here").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        t.get("/v1/claims/12345").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    let res = t.client.delete(t.url("/v1/sources")).send().await.unwrap();
    let allow = res
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed").await;
}

async fn problem_types_are_documented_at_their_uri(backend: Backend) {
    let t = spawn_app(backend).await;
    let res = t.get("/problems/ambiguous-quote").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["type"], "/problems/ambiguous-quote");
    assert_eq!(doc["status"], 422);
    assert!(doc["hint"].as_str().unwrap().contains("candidates"));
    assert!(doc["cause"].as_str().unwrap().contains("more than once"));
    // The catalogue serves every kind of problem the API answers with.
    for kind in Kind::ALL {
        let uri = format!("/problems/{}", kind.slug());
        let res = t.get(&uri).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        let doc: Value = res.json().await.unwrap();
        assert_eq!(
            (&doc["type"], &doc["title"], &doc["status"], &doc["hint"]),
            (
                &json!(uri),
                &json!(kind.title()),
                &json!(kind.status().as_u16()),
                &json!(kind.hint())
            ),
            "{kind:?}"
        );
        let cause = doc["cause"].as_str().unwrap();
        assert!(
            cause.len() > 20 && cause != doc["hint"],
            "{kind:?} says why it happens"
        );
    }
    assert_problem(
        t.get("/problems/no-such-thing").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
}

/// "A refused request writes nothing" is checked with `row_counts`: it must cover every table,
/// so that a write that only appends to the audit log (or to a table added later) shows.
/// SQLite's FTS5 tables (`*_search_fts` and their shadow tables) are left out on purpose: they
/// are the search index, written only with a row of `source_search` or `claim_search`.
async fn row_counts_cover_every_table_audit_log_included(backend: Backend) {
    let t = spawn_app(backend).await;
    let counts = t.row_counts().await;
    let mut tables: Vec<&str> = counts.iter().map(|(table, _)| table.as_str()).collect();
    tables.sort_unstable();
    assert_eq!(
        tables,
        [
            "api_keys",
            "audit_log",
            "audit_tree",
            "changes",
            "claim_appearances",
            "claim_search",
            "claims",
            "derivations",
            "evidence",
            "idempotency_keys",
            "mention_extractions",
            "mentions",
            "passages",
            "people",
            "placements",
            "rating_scales",
            "ratings",
            "review_events",
            "reviews",
            "source_search",
            "source_urls",
            "source_versions",
            "sources",
            "url_rule",
            "webhook_attempts",
            "webhook_deliveries",
            "webhook_endpoints",
            "webhook_subscriptions",
        ]
    );
    // Revoking a key adds no row but its audit entry.
    let key: Value = t
        .post(
            "/v1/keys",
            &json!({"name": "short-lived", "role": "auditor", "person": "test-admin"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let before = t.row_counts().await;
    let res = t
        .post(
            &format!("/v1/keys/{}/revoke", key["key"]["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Vec<(String, i64, i64)> = before
        .iter()
        .zip(t.row_counts().await)
        .filter(|((_, a), (_, b))| a != b)
        .map(|((table, a), (_, b))| (table.clone(), *a, b))
        .collect();
    let audit = before
        .iter()
        .find(|(table, _)| table == "audit_log")
        .unwrap()
        .1;
    // The entry and its transparency-log row.
    assert_eq!(
        changed,
        [
            ("audit_log".to_owned(), audit, audit + 1),
            ("audit_tree".to_owned(), audit, audit + 1)
        ]
    );
}

/// The lock every writer needs, held by someone else: another process's write transaction on
/// SQLite, the write lock in another session on PostgreSQL.
enum LockHolder {
    Sqlite(rusqlite::Connection),
    Postgres(sqlx::PgConnection),
}

impl LockHolder {
    async fn take(t: &crate::helpers::TestApp) -> LockHolder {
        match t.backend {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(&t.db_url).expect("open");
                conn.execute_batch("BEGIN IMMEDIATE")
                    .expect("take the lock");
                LockHolder::Sqlite(conn)
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&t.db_url)
                    .await
                    .expect("connect");
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(claimtrail::store::WRITE_LOCK)
                    .execute(&mut conn)
                    .await
                    .expect("take the lock");
                LockHolder::Postgres(conn)
            }
        }
    }

    async fn release(self) {
        match self {
            LockHolder::Sqlite(conn) => conn.execute_batch("ROLLBACK").expect("release"),
            LockHolder::Postgres(conn) => {
                use sqlx::Connection;
                conn.close().await.expect("release");
            }
        }
    }
}

/// A write that cannot get the database's lock in time is a 503 `unavailable` with
/// `Retry-After`, never a 500, and leaves nothing behind; once the lock is free it goes through.
async fn a_busy_database_is_503_with_retry_after(backend: Backend) {
    let t = spawn_app_with_lock_wait(backend, std::time::Duration::from_millis(300)).await;
    let before = t.row_counts().await;
    let holder = LockHolder::take(&t).await;
    let body = json!({"title": "Busy", "text": "Written while the database is busy."});
    let res = t.post("/v1/sources", &body).await;
    let retry_after = res.headers().get("retry-after").cloned();
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    let seconds: u64 = retry_after
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!(seconds >= 1);
    holder.release().await;
    assert_eq!(t.row_counts().await, before);
    let res = t.post("/v1/sources", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

crate::both_backends!(
    a_busy_database_is_503_with_retry_after,
    malformed_bodies_are_problems_and_write_nothing,
    bodies_over_the_limit_are_413,
    bad_queries_cursors_and_paths_are_problems,
    problem_types_are_documented_at_their_uri,
    row_counts_cover_every_table_audit_log_included,
);

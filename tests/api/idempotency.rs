//! `Idempotency-Key` on POSTs: a retry replays, another request with the key is refused, a
//! running first request makes a retry wait, keys belong to one API key.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::helpers::{Backend, assert_problem, client_with_key, spawn_app};
use claimtrail::domain::access::Role;

async fn a_retried_post_makes_one_claim_and_one_audit_entry(backend: Backend) {
    let t = spawn_app(backend).await;
    let body = json!({"text": "The bridge cost $4 billion.", "claimant": "The mayor"});
    let send = |client: reqwest::Client, key: &'static str, body: Value| {
        let url = t.url("/v1/claims");
        async move {
            client
                .post(url)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let before = t.row_counts().await;
    let first = send(t.client.clone(), "\"retry-1\"", body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    let again = send(t.client.clone(), "\"retry-1\"", body.clone()).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], location);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    let after = t.row_counts().await;
    let grew = |table: &str| {
        let n = |rows: &[(String, i64)]| rows.iter().find(|r| r.0 == table).unwrap().1;
        n(&after) - n(&before)
    };
    assert_eq!(grew("claims"), 1);
    assert_eq!(grew("audit_log"), 1);
    assert_eq!(grew("idempotency_keys"), 1);

    // The same key with another body: refused, nothing written.
    let before = t.row_counts().await;
    let other = send(
        t.client.clone(),
        "\"retry-1\"",
        json!({"text": "Another claim."}),
    )
    .await;
    assert_problem(
        other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    )
    .await;
    assert_eq!(t.row_counts().await, before);

    // Keys belong to an API key: another key's "retry-1" is its own request.
    let writer = client_with_key(&t.key(Role::FactChecker).await);
    let res = send(writer, "\"retry-1\"", body.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers().get("idempotent-replayed").is_none());

    // A malformed key is a problem.
    let res = send(t.client.clone(), "bad key with spaces", body.clone()).await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid-header").await;

    // A refused request is kept too: its retry gets the same problem.
    let bad = json!({"text": ""});
    let first = send(t.client.clone(), "\"bad-1\"", bad.clone()).await;
    assert_eq!(first.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let again = send(t.client.clone(), "\"bad-1\"", bad).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["content-type"], "application/problem+json");
}

async fn a_retry_while_the_first_runs_is_a_409(backend: Backend) {
    let t = spawn_app(backend).await;
    let token = t.key(Role::Editor).await;
    let actor = t.app.authenticate(&token).await.unwrap();
    let body = json!({"text": "The bridge cost $4 billion."});
    let bytes = serde_json::to_vec(&body).unwrap();
    let mut hash = sha2::Sha256::new();
    hash.update(b"POST\n/v1/claims\n");
    hash.update(&bytes);
    // The first request has claimed the key and not answered yet.
    t.app
        .idempotency_begin(
            &actor,
            "slow-1",
            hex::encode(hash.finalize()),
            std::time::Duration::from_secs(3600),
        )
        .await
        .unwrap();
    let res = client_with_key(&token)
        .post(t.url("/v1/claims"))
        .header("idempotency-key", "slow-1")
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "idempotency-key-in-use").await;
}

crate::both_backends!(
    a_retried_post_makes_one_claim_and_one_audit_entry,
    a_retry_while_the_first_runs_is_a_409,
);

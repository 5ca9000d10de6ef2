//! Sources and versions.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{Backend, TestApp, assert_problem, spawn_app};

async fn version_numbers(t: &TestApp, source_id: &str) -> Vec<i64> {
    let versions = t
        .get_json(&format!("/v1/sources/{source_id}/versions?limit=200"))
        .await;
    assert_eq!(versions["next_cursor"], Value::Null);
    versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect()
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

async fn create_source_returns_it_with_version_1(backend: Backend) {
    let t = spawn_app(backend).await;
    let text = "Caf\u{00E9} owners said \u{201C}prices rose 12%\u{201D}.\nSecond line.";
    let res = t
        .post(
            "/v1/sources",
            &json!({"title": "  Sample source ", "url": "HTTPS://Example.org/a#top", "publisher": "Gazette",
                    "authors": ["Ana", "Bo"], "published_at": "2024-05-01", "text": text}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    let id = body["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/sources/{id}"));
    assert_eq!(body["title"], "Sample source");
    assert_eq!(body["url"], "https://example.org/a");
    assert_eq!(body["authors"], json!(["Ana", "Bo"]));
    assert_eq!(body["published_at"], "2024-05-01");
    assert_eq!(body["version"]["number"], 1);
    assert_eq!(body["version"]["sha256"], sha256(text));
    assert_eq!(body["version"]["length"], text.chars().count());
    assert!(
        body["version"]["captured_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    // A read is the answer without the storing's `warnings`.
    let got: Value = t.get_json(&location).await;
    let mut stored = body.clone();
    assert_eq!(stored["warnings"], json!([]));
    stored.as_object_mut().unwrap().remove("warnings");
    assert_eq!(got, stored);
    let version: Value = t.get_json(&format!("{location}/versions/1")).await;
    assert_eq!(version["text"], text);
    assert_eq!(version["sha256"], sha256(text));
    assert_eq!(version["source_id"], id);
}

async fn new_versions_are_numbered_and_identical_text_is_not_stored_twice(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t.source("Versions", "first text").await;
    let id = source["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/v1/sources/{id}/versions"),
            &json!({"text": "second text"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.headers()["location"],
        format!("/v1/sources/{id}/versions/2").as_str()
    );
    let v2: Value = res.json().await.unwrap();
    assert_eq!(v2["number"], 2);
    assert_eq!(v2["sha256"], sha256("second text"));

    // The same text again (even an older one) is the existing version, not a new one.
    let before = t.row_counts().await;
    let res = t
        .post(
            &format!("/v1/sources/{id}/versions"),
            &json!({"text": "first text"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["number"], 1);
    assert_eq!(t.row_counts().await, before);

    let latest: Value = t.get_json(&format!("/v1/sources/{id}")).await;
    assert_eq!(latest["version"]["number"], 2);
    let numbers = version_numbers(&t, id).await;
    assert_eq!(numbers, [1, 2]);
    let v1: Value = t.get_json(&format!("/v1/sources/{id}/versions/1")).await;
    assert_eq!(v1["text"], "first text");
}

async fn concurrent_captures_get_consecutive_numbers(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t.source("Busy", "v1").await;
    let id = source["id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (client, url) = (
            t.client.clone(),
            t.url(&format!("/v1/sources/{id}/versions")),
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"text": format!("capture {i}")}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    let numbers = version_numbers(&t, &id).await;
    assert_eq!(numbers, (1..=13).collect::<Vec<_>>());
}

async fn stored_versions_cannot_be_changed_even_with_sql(backend: Backend) {
    let t = spawn_app(backend).await;
    t.source("Immutable", "original words").await;
    let err = t
        .execute_sql("UPDATE source_versions SET text = 'rewritten'")
        .await
        .expect_err("the update must be refused");
    assert!(err.to_string().contains("immutable"), "{err}");
    let deleted = t.execute_sql("DELETE FROM source_versions").await;
    assert!(deleted.is_err());
    let list: Value = t.get_json("/v1/sources").await;
    let id = list["items"][0]["id"].as_str().unwrap();
    let v: Value = t.get_json(&format!("/v1/sources/{id}/versions/1")).await;
    assert_eq!(v["text"], "original words");
}

async fn list_is_cursor_paginated_and_filters_by_url(backend: Backend) {
    let t = spawn_app(backend).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let res = t
            .post("/v1/sources", &json!({"title": format!("S{i}"), "url": format!("https://example.org/{i}"), "text": "x"}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut seen = Vec::new();
    let mut path = "/v1/sources?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page: Value = t.get_json(&path).await;
        pages += 1;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/sources?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every source once, oldest first");
    assert_eq!(pages, 3);

    let page: Value = t
        .get_json("/v1/sources?url=https://EXAMPLE.org/3%23frag")
        .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[3].as_str());
    let none: Value = t.get_json("/v1/sources?url=https://example.org/none").await;
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["next_cursor"], Value::Null);
}

async fn a_url_names_one_source(backend: Backend) {
    let t = spawn_app(backend).await;
    let body = json!({"title": "First", "url": "https://example.org/story", "text": "one"});
    let first: Value = t.post("/v1/sources", &body).await.json().await.unwrap();
    let before = t.row_counts().await;
    let res = t
        .post(
            "/v1/sources",
            &json!({"title": "Again", "url": "https://EXAMPLE.org/story", "text": "two"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::CONFLICT, "source-exists").await;
    assert_eq!(problem["existing_id"], first["id"]);
    assert_eq!(t.row_counts().await, before);
}

async fn unknown_source_and_version_are_404(backend: Backend) {
    let t = spawn_app(backend).await;
    let missing = uuid::Uuid::now_v7();
    assert_problem(
        t.get(&format!("/v1/sources/{missing}")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        t.get(&format!("/v1/sources/{missing}/versions")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        t.get(&format!("/v1/sources/{missing}/versions/1")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    let res = t
        .post(
            &format!("/v1/sources/{missing}/versions"),
            &json!({"text": "t"}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not-found").await;
    let source = t.source("One version", "text").await;
    let id = source["id"].as_str().unwrap();
    let p = assert_problem(
        t.get(&format!("/v1/sources/{id}/versions/2")).await,
        StatusCode::NOT_FOUND,
        "unknown-version",
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("versions 1 to 1"),
        "{p}"
    );
    assert_problem(
        t.get(&format!("/v1/sources/{id}/versions/0")).await,
        StatusCode::NOT_FOUND,
        "unknown-version",
    )
    .await;
    assert_problem(
        t.get("/v1/sources/not-a-uuid").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        t.get(&format!("/v1/sources/{id}/versions/two")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
}

crate::both_backends!(
    create_source_returns_it_with_version_1,
    new_versions_are_numbered_and_identical_text_is_not_stored_twice,
    concurrent_captures_get_consecutive_numbers,
    stored_versions_cannot_be_changed_even_with_sql,
    list_is_cursor_paginated_and_filters_by_url,
    a_url_names_one_source,
    unknown_source_and_version_are_404,
);

//! People behind keys: the second-person rule compares people, not key names; records and the
//! audit trail name the person and the key used.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, client_with_key, spawn_app};

async fn person(t: &TestApp, handle: &str, name: &str) {
    let res = t
        .post(
            "/v1/people",
            &json!({"handle": handle, "display_name": name}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// A key for `person`; returns its id and a client that sends it.
async fn key(t: &TestApp, person: &str, role: &str, name: &str) -> (String, Client) {
    let res = t
        .post(
            "/v1/keys",
            &json!({"person": person, "role": role, "name": name}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["key"]["person"], person);
    (
        body["key"]["id"].as_str().unwrap().to_owned(),
        client_with_key(body["token"].as_str().unwrap()),
    )
}

async fn submitted_draft(t: &TestApp, author: &Client, text: &str) -> Value {
    let claim: Value = t
        .post("/v1/claims", &json!({"text": text}))
        .await
        .json()
        .await
        .unwrap();
    let id = claim["id"].as_str().unwrap();
    let draft: Value = author
        .post(t.url(&format!("/v1/claims/{id}/reviews")))
        .json(&json!({"rating": "false", "summary": "No."}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    step(t, author, &draft, "in_review")
        .await
        .json()
        .await
        .unwrap()
}

async fn step(t: &TestApp, who: &Client, review: &Value, to: &str) -> reqwest::Response {
    let body = json!({"to": to, "note": "Checked."});
    crate::helpers::transition(who, t, review, body).await
}

async fn the_second_person_rule_compares_people(backend: Backend) {
    let t = spawn_app(backend).await;
    person(&t, "ana", "Ana Souza").await;
    person(&t, "bo", "Bo Lindqvist").await;
    // Two people whose keys carry the same name.
    let (_, ana) = key(&t, "ana", "fact_checker", "desk").await;
    let (bo_key, bo) = key(&t, "bo", "editor", "desk").await;
    let first = submitted_draft(&t, &ana, "The bridge costs $4 billion.").await;
    assert_eq!(first["author"], "ana");
    let res = step(&t, &bo, &first, "approved").await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "a namesake key is another person"
    );
    let approved: Value = res.json().await.unwrap();
    let history: Vec<&str> = approved["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["ana", "ana", "bo"]);
    // The audit entry of the approval names the person and the key used.
    let entries = t
        .get_json(&format!(
            "/v1/audit?entity=review&entity_id={}",
            first["id"].as_str().unwrap()
        ))
        .await;
    let last = entries["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["actor"], &last["key_id"]),
        (&json!("bo"), &json!(bo_key))
    );

    // One person with a second key, named otherwise, is still the author.
    let (_, ana_as_editor) = key(&t, "ana", "editor", "ana-editor").await;
    let second = submitted_draft(&t, &ana, "The tunnel costs $1 billion.").await;
    let before = t.row_counts().await;
    assert_problem(
        step(&t, &ana_as_editor, &second, "approved").await,
        StatusCode::FORBIDDEN,
        "second-person-required",
    )
    .await;
    assert_eq!(t.row_counts().await, before);
    let reviewing = t
        .get_json(&format!("/v1/reviews/{}", second["id"].as_str().unwrap()))
        .await;
    let steps: Vec<&str> = reviewing["allowed_transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["to"].as_str().unwrap())
        .collect();
    assert!(
        steps.contains(&"approved"),
        "the admin may approve: {reviewing}"
    );
    let as_ana: Value = ana_as_editor
        .get(t.url(&format!("/v1/reviews/{}", second["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let steps: Vec<&str> = as_ana["allowed_transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["to"].as_str().unwrap())
        .collect();
    assert!(!steps.contains(&"approved"), "{as_ana}");

    // The queue filters by person, whichever key they used.
    let by_ana = t.get_json("/v1/reviews?author=ana").await;
    assert_eq!(by_ana["items"].as_array().unwrap().len(), 2);
    let keys = t.get_json("/v1/people/ana/keys").await["items"].clone();
    assert_eq!(keys.as_array().unwrap().len(), 2);
    let ana_person = t.get_json("/v1/people/ana").await;
    assert_eq!(ana_person["display_name"], "Ana Souza");
    let people = t.get_json("/v1/people?limit=200").await;
    let handles: Vec<&str> = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["handle"].as_str().unwrap())
        .collect();
    assert!(
        handles.contains(&"ana") && handles.contains(&"bo"),
        "{people}"
    );
}

async fn handles_are_unique_and_checked(backend: Backend) {
    let t = spawn_app(backend).await;
    person(&t, "ana", "Ana Souza").await;
    let before = t.row_counts().await;
    let p = assert_problem(
        t.post(
            "/v1/people",
            &json!({"handle": "ana", "display_name": "Another Ana"}),
        )
        .await,
        StatusCode::CONFLICT,
        "person-exists",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("ana"), "{p}");
    for bad in ["Ana", "ana souza", "-ana", "cli", ""] {
        let p = assert_problem(
            t.post("/v1/people", &json!({"handle": bad, "display_name": "x"}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "handle", "{bad:?}: {p}");
    }
    assert_problem(
        t.get("/v1/people/nobody").await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_eq!(t.row_counts().await, before);
}

crate::both_backends!(
    the_second_person_rule_compares_people,
    handles_are_unique_and_checked,
);

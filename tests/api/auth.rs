//! API keys and roles: 401 without a valid key, 403 for the wrong role, on every endpoint.

use claimtrail::domain::access::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, client_with_key, spawn_app};

async fn requests_without_a_valid_key_are_401(backend: Backend) {
    let t = spawn_app(backend).await;
    let anonymous = crate::helpers::anonymous_client();
    let token = t.key(Role::Editor).await;
    let before = t.row_counts().await;
    let audit_before = t.get_json("/v1/audit/verify").await["length"].clone();
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "no Authorization header"),
        (Some("Basic dXNlcjpwYXNz".into()), "must be `Bearer <key>`"),
        (Some("Bearer not-a-key".into()), "not a claimtrail API key"),
        (
            Some(format!(
                "Bearer ct_{}_{}",
                uuid::Uuid::now_v7().simple(),
                "A".repeat(43)
            )),
            "not known",
        ),
    ];
    for (header, why) in cases {
        let mut req = anonymous
            .post(t.url("/v1/sources"))
            .json(&json!({"title": "t", "text": "x"}));
        if let Some(h) = &header {
            req = req.header("authorization", h);
        }
        let res = req.send().await.unwrap();
        assert_eq!(
            res.headers()["www-authenticate"],
            "Bearer realm=\"claimtrail\""
        );
        let p = assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
        assert!(p["detail"].as_str().unwrap().contains(why), "{p}");
    }
    // A right key id with a wrong secret is not known either.
    let forged = format!(
        "{}{}",
        &token[..token.len() - 1],
        if token.ends_with('A') { 'B' } else { 'A' }
    );
    let res = client_with_key(&forged)
        .get(t.url("/v1/sources"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Health, the OpenAPI document and the docs need no key.
    for open in [
        "/health",
        "/ready",
        "/openapi.json",
        "/docs/",
        "/problems/unauthorized",
    ] {
        assert_eq!(
            anonymous.get(t.url(open)).send().await.unwrap().status(),
            StatusCode::OK,
            "{open}"
        );
    }
    assert_eq!(t.row_counts().await, before);
    assert_eq!(
        t.get_json("/v1/audit/verify").await["length"],
        audit_before,
        "refused writes leave no audit entry"
    );
}

async fn keys_are_created_shown_once_and_revoked(backend: Backend) {
    let t = spawn_app(backend).await;
    // A key needs its person first.
    let before = t.row_counts().await;
    let res = t
        .post(
            "/v1/keys",
            &json!({"name": "desk-ana", "role": "fact_checker", "person": "ana"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation-failed").await;
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("POST /v1/people"),
        "{problem}"
    );
    assert_eq!(t.row_counts().await, before);
    let res = t
        .post(
            "/v1/people",
            &json!({"handle": "ana", "display_name": "Ana Souza"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["location"], "/v1/people/ana");
    let res = t
        .post(
            "/v1/keys",
            &json!({"name": "desk-ana", "role": "fact_checker", "person": "ana"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ct_"));
    let id = created["key"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["key"]["role"], "fact_checker");
    assert_eq!(created["key"]["created_by"], "test-admin");
    assert_eq!(created["key"]["person"], "ana");

    let ana = client_with_key(&token);
    let res = ana
        .post(t.url("/v1/sources"))
        .json(&json!({"title": "By Ana", "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let source: Value = res.json().await.unwrap();
    // The write is recorded under the person, with the key used.
    let entries = t
        .get_json(&format!(
            "/v1/audit?entity=source&entity_id={}",
            source["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(entries["items"][0]["actor"], "ana");
    assert_eq!(entries["items"][0]["key_id"], id.as_str());

    let listed = t.get_json("/v1/keys").await["items"].clone();
    let listed = listed.as_array().unwrap();
    assert!(
        listed
            .iter()
            .all(|k| k.get("token").is_none() && k.get("secret_hash").is_none())
    );
    assert!(listed.iter().any(|k| k["id"] == id.as_str()));

    // Reads keep who a key is in memory: a revocation forgets it at its commit.
    let res = ana.get(t.url("/v1/sources")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = t.post(&format!("/v1/keys/{id}/revoke"), &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.json::<Value>().await.unwrap()["revoked_at"].is_string());
    let res = ana.get(t.url("/v1/sources")).send().await.unwrap();
    let p = assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(p["detail"].as_str().unwrap().contains("revoked"), "{p}");

    let p = assert_problem(
        t.post(
            "/v1/keys",
            &json!({"name": "x", "role": "root", "person": "test-admin"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "role");
    assert_problem(
        t.post(
            "/v1/keys",
            &json!({"name": " ", "role": "editor", "person": "test-admin"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    let missing = uuid::Uuid::now_v7();
    assert_problem(
        t.post(&format!("/v1/keys/{missing}/revoke"), &json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
}

async fn a_key_cannot_revoke_itself(backend: Backend) {
    let t = spawn_app(backend).await;
    let keys = t.get_json("/v1/keys").await["items"].clone();
    let own = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "test-admin")
        .expect("the test's own key is listed")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let audit_before = t.get_json("/v1/audit/verify").await["length"].clone();

    let p = assert_problem(
        t.post(&format!("/v1/keys/{own}/revoke"), &json!({})).await,
        StatusCode::CONFLICT,
        "own-key",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains(&own), "{p}");
    // Nothing was written and the key still works.
    let keys = t.get_json("/v1/keys").await["items"].clone();
    let listed = keys.as_array().unwrap();
    let me = listed.iter().find(|k| k["id"] == own.as_str()).unwrap();
    assert!(me["revoked_at"].is_null(), "{me}");
    assert_eq!(
        t.get_json("/v1/audit/verify").await["length"],
        audit_before,
        "a refused revocation writes no audit entry"
    );
    let described = t.get_json("/problems/own-key").await;
    assert_eq!(described["status"], 409, "{described}");

    // Another admin key may revoke it; after that it is refused.
    let other = client_with_key(&t.key(Role::Admin).await);
    let res = other
        .post(t.url(&format!("/v1/keys/{own}/revoke")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.json::<Value>().await.unwrap()["revoked_at"].is_string());
    assert_problem(
        t.get("/v1/keys").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

/// Fixtures the endpoints refer to.
struct Ids {
    review: String,
    source: String,
    passage: String,
    /// Another passage of the same source.
    other: String,
    claim: String,
    key: String,
    /// Evidence for the claim (on `other`).
    evidence: String,
}

async fn fixtures(t: &TestApp) -> Ids {
    let source = t
        .source("Roles", "The council met on Monday. It voted on Tuesday.")
        .await;
    let source_id = source["id"].as_str().unwrap().to_owned();
    let passage = t
        .passage(&source_id, json!({"quote": "met on Monday"}))
        .await;
    let other = t.passage(&source_id, json!({"quote": "It voted"})).await;
    let claim: Value = t
        .post("/v1/claims", &json!({"text": "It met on Monday."}))
        .await
        .json()
        .await
        .unwrap();
    let evidence: Value = t
        .post(
            &format!("/v1/claims/{}/evidence", claim["id"].as_str().unwrap()),
            &json!({"passage_id": other["id"], "stance": "context"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let key: Value = t
        .post(
            "/v1/keys",
            &json!({"name": "victim", "role": "integration", "person": "test-admin"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let review: Value = t
        .post(
            &format!("/v1/claims/{}/reviews", claim["id"].as_str().unwrap()),
            &json!({"rating": "true", "summary": "Draft."}),
        )
        .await
        .json()
        .await
        .unwrap();
    Ids {
        review: review["id"].as_str().unwrap().to_owned(),
        source: source_id,
        passage: passage["id"].as_str().unwrap().to_owned(),
        other: other["id"].as_str().unwrap().to_owned(),
        claim: claim["id"].as_str().unwrap().to_owned(),
        key: key["key"]["id"].as_str().unwrap().to_owned(),
        evidence: evidence["id"].as_str().unwrap().to_owned(),
    }
}

async fn every_endpoint_against_every_role(backend: Backend) {
    let t = spawn_app(backend).await;
    let ids = fixtures(&t).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        tokens.push((role, t.key(role).await));
    }
    let (s, p, c, k, r) = (&ids.source, &ids.passage, &ids.claim, &ids.key, &ids.review);
    // The body of a write is fresh per role so that each allowed write succeeds.
    let body = |role: Role| -> Value { json!({"role": role.as_str()}) };
    type Case = (Method, String, fn(Role, &Ids, Value) -> Value, [u16; 5]);
    // Expected status for [admin, editor, fact_checker, auditor, integration].
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            "/v1/sources".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            "/v1/sources?q=text&publisher=x".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::POST,
            "/v1/sources".into(),
            |r, _, _| json!({"title": format!("by {}", r.as_str()), "text": "x"}),
            [201, 201, 201, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/sources/{s}"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::PATCH,
            format!("/v1/sources/{s}"),
            |r, _, _| json!({"publisher": format!("by {}", r.as_str())}),
            [200, 200, 200, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/sources/{s}/versions"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::POST,
            format!("/v1/sources/{s}/versions"),
            |r, _, _| json!({"text": format!("v by {}", r.as_str())}),
            [201, 201, 201, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/sources/{s}/versions/1"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::POST,
            format!("/v1/sources/{s}/passages"),
            |_, _, _| json!({"quote": "voted", "version": 1}),
            [201, 200, 200, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/passages/{p}"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/passages/{p}/placements"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        // The three captures above made version 4, where the passage is lost.
        (
            Method::PUT,
            format!("/v1/passages/{p}/placements/4"),
            |r, _, _| json!({"confirm": true, "note": format!("gone, says {}", r.as_str())}),
            [200, 200, 200, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/sources/{s}/versions/4/placements"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/sources/{s}/versions/1/statistics"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            "/v1/trace?q=%244bn".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::POST,
            "/v1/trace".into(),
            |_, _, _| json!({"q": "15 percent"}),
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            "/v1/trace/annotations?q=6%2C000".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        // Auditors may record citation links; the first wins, the others find it recorded.
        (
            Method::POST,
            format!("/v1/passages/{p}/derivations"),
            |_, ids, _| json!({"from_passage_id": ids.other, "relation": "quotes"}),
            [201, 409, 409, 409, 403],
        ),
        (
            Method::GET,
            format!("/v1/passages/{p}/lineage"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/passages/{p}/lineage/prov"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            "/v1/claims".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            "/v1/claims?q=claim".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            "/v1/claims/similar?text=the%20claim".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::POST,
            "/v1/claims".into(),
            |_, _, b| json!({"text": b["role"]}),
            [201, 201, 201, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/claims/{c}"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::POST,
            format!("/v1/claims/{c}/evidence"),
            |_, ids, _| json!({"passage_id": ids.passage, "stance": "supports"}),
            [201, 409, 409, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/claims/{c}/reviews"),
            |_, _, _| json!({"rating": "false", "summary": "x"}),
            [201, 201, 201, 403, 403],
        ),
        (
            Method::PATCH,
            format!("/v1/claims/{c}"),
            |r, _, _| json!({"claimant": format!("by {}", r.as_str())}),
            [200, 200, 200, 403, 403],
        ),
        // The first adds it; then it is one already.
        (
            Method::POST,
            format!("/v1/claims/{c}/appearances"),
            |_, ids, _| json!({"passage_id": ids.passage}),
            [201, 200, 200, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/claims/{c}/evidence/{}", ids.evidence),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::POST,
            format!("/v1/claims/{c}/evidence/{}/withdraw", ids.evidence),
            |_, _, _| json!({"note": "withdrawn"}),
            [200, 200, 200, 403, 403],
        ),
        // A draft: integrations see published verdicts only.
        (
            Method::GET,
            format!("/v1/reviews/{r}"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 404],
        ),
        (
            Method::GET,
            format!("/v1/reviews/{r}/evidence"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 404],
        ),
        // Without a revision, roles that may write get 428.
        (
            Method::PATCH,
            format!("/v1/reviews/{r}"),
            |_, _, _| json!({"summary": "y"}),
            [428, 428, 428, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/reviews/{r}/transitions"),
            |_, _, _| json!({"to": "in_review"}),
            [428, 428, 428, 403, 403],
        ),
        // The draft has no markup: editorial roles learn why, integrations see nothing.
        (
            Method::GET,
            format!("/v1/reviews/{r}/claimreview"),
            |_, _, _| Value::Null,
            [409, 409, 409, 409, 404],
        ),
        (
            Method::GET,
            format!("/v1/reviews/{r}/claimreview/check"),
            |_, _, _| Value::Null,
            [409, 409, 409, 409, 404],
        ),
        // Editors decide where verdicts are published (no revision sent: 428 once allowed).
        (
            Method::PUT,
            format!("/v1/reviews/{r}/published-url"),
            |_, _, _| json!({"published_url": "https://desk.example.org/checks/1"}),
            [428, 428, 403, 403, 403],
        ),
        (
            Method::GET,
            "/v1/lookup?url=https%3A%2F%2Fexample.org%2Fnews".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::POST,
            format!("/v1/sources/{s}/aliases"),
            |r, _, _| json!({"url": format!("https://amp.example.org/{}", r.as_str())}),
            [200, 200, 200, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/sources/{s}/aliases"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            "/v1/changes".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 200],
        ),
        // Webhooks are for admins. Each role's attempt names an endpoint that does not exist
        // (404 once allowed), except creating one.
        (
            Method::POST,
            "/v1/webhooks".into(),
            |_, _, _| json!({"url": "http://127.0.0.1:9/hook", "events": ["review.published"]}),
            [422, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/v1/webhooks".into(),
            |_, _, _| Value::Null,
            [200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/webhooks/{k}"),
            |_, _, _| Value::Null,
            [404, 403, 403, 403, 403],
        ),
        (
            Method::DELETE,
            format!("/v1/webhooks/{k}"),
            |_, _, _| Value::Null,
            [404, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/webhooks/{k}/rotate-secret"),
            |_, _, _| json!({}),
            [404, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/webhooks/{k}/enable"),
            |_, _, _| json!({}),
            [404, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/webhooks/{k}/test"),
            |_, _, _| json!({}),
            [404, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            format!("/v1/webhooks/{k}/deliveries"),
            |_, _, _| Value::Null,
            [404, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/webhooks/{k}/deliveries/msg_x/replay"),
            |_, _, _| json!({}),
            [404, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/v1/reviews".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/claims/{c}/reviews"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            format!("/v1/sources/{s}/passages"),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            "/v1/rating-scales".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::POST,
            "/v1/rating-scales".into(),
            |r, _, _| {
                json!({"id": format!("s-{}", r.as_str().replace('_', "-")), "name": "S",
                       "ratings": [{"key": "a", "label": "A", "value": 1}, {"key": "b", "label": "B", "value": 0}]})
            },
            [201, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/v1/keys".into(),
            |_, _, _| Value::Null,
            [200, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            "/v1/keys".into(),
            |r, _, _| json!({"name": format!("made by {}", r.as_str()), "role": "auditor", "person": "test-admin"}),
            [201, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            "/v1/people".into(),
            |r, _, _| json!({"handle": format!("made-by-{}", r.as_str()), "display_name": "x"}),
            [201, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/v1/people".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            "/v1/people/test-admin".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 403],
        ),
        (
            Method::GET,
            "/v1/people/test-admin/keys".into(),
            |_, _, _| Value::Null,
            [200, 403, 403, 403, 403],
        ),
        (
            Method::POST,
            format!("/v1/keys/{k}/revoke"),
            |_, _, _| json!({}),
            [200, 403, 403, 403, 403],
        ),
        (
            Method::GET,
            "/v1/audit".into(),
            |_, _, _| Value::Null,
            [200, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/v1/audit/verify".into(),
            |_, _, _| Value::Null,
            [200, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/v1/audit/checkpoint".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/v1/audit/key".into(),
            |_, _, _| Value::Null,
            [200, 200, 200, 200, 200],
        ),
        (
            Method::GET,
            "/v1/audit/proof/inclusion?seq=1".into(),
            |_, _, _| Value::Null,
            [200, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/v1/audit/proof/consistency?from=1&to=2".into(),
            |_, _, _| Value::Null,
            [200, 403, 403, 200, 403],
        ),
        (
            Method::GET,
            "/v1/audit/tile/0/000.p/1".into(),
            |_, _, _| Value::Null,
            [200, 403, 403, 200, 403],
        ),
    ];
    for (method, path, make_body, expected) in &cases {
        for ((role, token), want) in tokens.iter().zip(expected) {
            let client = client_with_key(token);
            let mut req = client.request(method.clone(), t.url(path));
            if *method != Method::GET {
                req = req.json(&make_body(*role, &ids, body(*role)));
            }
            let res = req.send().await.unwrap();
            let got = res.status().as_u16();
            let text = res.text().await.unwrap();
            assert_eq!(got, *want, "{method} {path} as {}: {text}", role.as_str());
            // The contract's "Roles" line says exactly who is not refused.
            let op = documented(method.as_str(), path);
            // An operation that lists no role needs no key: every role may call it.
            assert_eq!(
                got != 403,
                op.allows(*role),
                "{method} {path} as {}: the contract says {:?}",
                role.as_str(),
                op.roles()
            );
            if got == 403 {
                let p: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(p["type"], "/problems/forbidden");
                assert!(p["detail"].as_str().unwrap().contains(role.as_str()), "{p}");
            }
        }
    }
    // Every route under /v1 in the contract is in the table.
    let doc: Value = serde_json::from_str(&claimtrail::http::openapi_json()).unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for method in ops.as_object().unwrap().keys() {
            let covered = cases.iter().any(|(m, p, _, _)| {
                m.as_str().eq_ignore_ascii_case(method) && route_matches(path, p)
            });
            assert!(covered, "{method} {path} is missing from the role table");
        }
    }
}

/// Members that carry internal editorial data (workflow history and its notes, key names,
/// revisions, evidence notes): never in what an integration reads.
const INTERNAL_MEMBERS: [&str; 8] = [
    "history",
    "note",
    "actor",
    "author",
    "created_by",
    "revision",
    "second_person_rule",
    "updated_at",
];

/// Every member name in a JSON value, at any depth.
fn member_names(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                names.push(k.clone());
                member_names(v, names);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| member_names(v, names)),
        _ => {}
    }
}

/// Asserts that `body` (read by an integration at `what`) holds no internal editorial data.
fn assert_public(what: &str, body: &Value) {
    let mut names = Vec::new();
    member_names(body, &mut names);
    for internal in INTERNAL_MEMBERS {
        assert!(
            !names.iter().any(|n| n == internal),
            "{what} shows `{internal}` to an integration: {body}"
        );
    }
    let text = body.to_string();
    for secret in ["PRIVATE", "test-"] {
        assert!(
            !text.contains(secret),
            "{what} shows {secret:?} to an integration: {body}"
        );
    }
}

async fn integrations_read_public_fields_only(backend: Backend) {
    let t = spawn_app(backend).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        tokens.push((role, client_with_key(&t.key(role).await)));
    }
    let as_role = |role: Role| &tokens.iter().find(|(r, _)| *r == role).unwrap().1;
    // A published verdict whose history and evidence carry the desk's private remarks.
    let source = t
        .source(
            "Council minutes",
            "The council met on Monday. It voted on Tuesday.",
        )
        .await;
    let sid = source["id"].as_str().unwrap().to_owned();
    let passage = t
        .passage(&sid, json!({"quote": "It voted on Tuesday."}))
        .await;
    let pid = passage["id"].as_str().unwrap().to_owned();
    let claim: Value = t
        .post(
            "/v1/claims",
            &json!({"text": "The council voted on Tuesday.", "claimant": "The mayor", "appearances": [pid]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let cid = claim["id"].as_str().unwrap().to_owned();
    let evidence: Value = t
        .post(
            &format!("/v1/claims/{cid}/evidence"),
            &json!({"passage_id": pid, "stance": "supports", "note": "PRIVATE: the clerk is our cousin"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let eid = evidence["id"].as_str().unwrap().to_owned();
    let mut review: Value = as_role(Role::FactChecker)
        .post(t.url(&format!("/v1/claims/{cid}/reviews")))
        .json(&json!({"rating": "true", "summary": "The minutes say so.", "evidence": [eid]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rid = review["id"].as_str().unwrap().to_owned();
    for (role, to, note) in [
        (Role::FactChecker, "in_review", None),
        (
            Role::Editor,
            "changes_requested",
            Some("PRIVATE: call the clerk first"),
        ),
        (Role::FactChecker, "in_review", None),
        (
            Role::Editor,
            "approved",
            Some("PRIVATE: the desk doubts this source"),
        ),
        (Role::Editor, "published", None),
    ] {
        let res = as_role(role)
            .post(t.url(&format!("/v1/reviews/{rid}/transitions")))
            .header("if-match", format!("\"{}\"", review["revision"]))
            .json(&json!({"to": to, "note": note}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{to}");
        review = res.json().await.unwrap();
    }

    for (role, client) in &tokens {
        let res = client
            .get(t.url(&format!("/v1/reviews/{rid}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{role:?}");
        let etag = res.headers().get("etag").cloned();
        let got: Value = res.json().await.unwrap();
        let evidence: Value = client
            .get(t.url(&format!("/v1/reviews/{rid}/evidence")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if *role == Role::Integration {
            assert_public("GET /v1/reviews/{id}", &got);
            assert_public("GET /v1/reviews/{id}/evidence", &evidence);
            // The body's ETag (for If-None-Match), never a revision for If-Match.
            let etag = etag.expect("a GET answer has an ETag");
            assert_eq!(etag.len(), 34, "{etag:?}");
            // What a CMS needs: the claim, the rating, why, when, on what evidence.
            assert_eq!(
                got,
                json!({
                    "id": rid,
                    "claim": {"id": cid, "text": "The council voted on Tuesday.", "claimant": "The mayor", "claimant_kind": "person"},
                    "state": "published",
                    "scale": "default",
                    "rating": review["rating"],
                    "summary": "The minutes say so.",
                    "evidence": [eid],
                    "corrects": null,
                    "superseded_by": null,
                    "published_at": review["published_at"],
                    "published_url": null,
                })
            );
            assert_eq!(evidence.as_array().unwrap().len(), 1, "{evidence}");
            assert_eq!(evidence[0]["id"], eid.as_str());
            assert_eq!(evidence[0]["stance"], "supports");
            assert_eq!(evidence[0]["passage"]["exact"], "It voted on Tuesday.");
            assert_eq!(evidence[0]["passage"]["start"], passage["start"]);
            assert_eq!(evidence[0]["source"]["title"], "Council minutes");
        } else {
            // Editorial roles still see the whole record.
            assert_eq!(got["author"], "test-fact_checker", "{role:?}");
            assert_eq!(got["revision"], review["revision"], "{role:?}");
            assert_eq!(
                etag.unwrap(),
                format!("\"{}\"", review["revision"]).as_str()
            );
            let history = got["history"].as_array().unwrap();
            assert_eq!(history.len(), 6, "{got}");
            assert_eq!(history[2]["note"], "PRIVATE: call the clerk first");
            assert_eq!(history[4]["note"], "PRIVATE: the desk doubts this source");
            assert_eq!(history[4]["actor"], "test-editor");
            assert_eq!(
                evidence[0]["note"], "PRIVATE: the clerk is our cousin",
                "{role:?}"
            );
        }
    }

    // Every other GET an integration may make shows nothing internal either; the ones it may
    // make are exactly these (a new one must be added here, with its public view).
    let integration = as_role(Role::Integration);
    let doc: Value = serde_json::from_str(&claimtrail::http::openapi_json()).unwrap();
    let mut readable = Vec::new();
    for (template, ops) in doc["paths"].as_object().unwrap() {
        if !template.starts_with("/v1/") || ops.get("get").is_none() {
            continue;
        }
        let id = match template.split('/').nth(2) {
            Some("sources") => &sid,
            Some("passages") => &pid,
            Some("claims") => &cid,
            _ => &rid,
        };
        let mut path = template
            .replace("{evidence_id}", &eid)
            .replace("{id}", id)
            .replace("{number}", "1")
            .replace("{handle}", "test-admin")
            .replace("{path}", "0/000.p/1");
        assert!(!path.contains('{'), "{template}: fill in its parameters");
        if template.starts_with("/v1/trace") {
            path.push_str("?q=%244bn");
        }
        if template == "/v1/claims/similar" {
            path.push_str("?text=bridge");
        }
        if template == "/v1/lookup" {
            path.push_str("?url=https%3A%2F%2Fexample.org%2F");
        }
        let res = integration.get(t.url(&path)).send().await.unwrap();
        match res.status() {
            // The log's checkpoint and verifier key: public by design, text, nothing of any
            // entry but the log's size and root.
            StatusCode::OK if template.starts_with("/v1/audit/") => {
                let text = res.text().await.unwrap();
                assert!(
                    serde_json::from_str::<Value>(&text).is_err(),
                    "{template}: {text}"
                );
                readable.push(template.as_str());
            }
            StatusCode::OK if template == "/v1/changes" => {
                // NDJSON: each line is a public view.
                for line in res.text().await.unwrap().lines() {
                    assert_public(template, &serde_json::from_str(line).unwrap());
                }
                readable.push(template.as_str());
            }
            StatusCode::OK if template.contains("/claimreview") => {
                // schema.org's `author`s are the publishing organisation and the claimant
                // (public by nature), never a key's name; the rest is checked as usual.
                let mut got: Value = res.json().await.unwrap();
                let doc = match got.get_mut("claim_review") {
                    Some(doc) => doc,
                    None => &mut got,
                };
                assert_eq!(doc["author"]["name"], "Test Desk");
                assert_eq!(doc["itemReviewed"]["author"]["name"], "The mayor");
                doc.as_object_mut().unwrap().remove("author");
                doc["itemReviewed"]
                    .as_object_mut()
                    .unwrap()
                    .remove("author");
                assert_public(template, &got);
                readable.push(template.as_str());
            }
            StatusCode::OK => {
                assert_public(template, &res.json().await.unwrap());
                readable.push(template.as_str());
            }
            StatusCode::FORBIDDEN => {}
            other => panic!("GET {path} as an integration: {other}"),
        }
    }
    assert_eq!(
        readable,
        [
            "/v1/audit/checkpoint",
            "/v1/audit/key",
            "/v1/changes",
            "/v1/lookup",
            "/v1/rating-scales",
            "/v1/reviews/{id}",
            "/v1/reviews/{id}/claimreview",
            "/v1/reviews/{id}/claimreview/check",
            "/v1/reviews/{id}/evidence"
        ]
    );
}

/// A role that may not call an operation is refused before its body is read: the same 403
/// whether the body is valid, invalid or not JSON, and nothing written.
async fn forbidden_is_decided_before_the_body(backend: Backend) {
    let t = spawn_app(backend).await;
    let auditor = client_with_key(&t.key(Role::Auditor).await);
    let before = t.row_counts().await;
    for body in [
        "{\"title\": \"x\", \"text\": \"y\"}",
        "{\"title\": 7}",
        "not json",
    ] {
        let res = auditor
            .post(t.url("/v1/sources"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let p = assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("auditor") && detail.contains("POST /v1/sources"),
            "{detail}"
        );
    }
    assert_eq!(t.row_counts().await, before);
}

/// The operations table's entry for a concrete path: the template that fits it with the most
/// literal segments (`/v1/claims/similar` before `/v1/claims/{id}`).
fn documented(method: &str, path: &str) -> &'static claimtrail::http::operations::Operation {
    claimtrail::http::operations::OPERATIONS
        .iter()
        .filter(|o| o.method.eq_ignore_ascii_case(method) && route_matches(o.path, path))
        .min_by_key(|o| o.path.matches('{').count())
        .unwrap_or_else(|| panic!("{method} {path} is not in the operations table"))
}

/// Whether a concrete path fits an OpenAPI path template.
fn route_matches(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    // `{path}` at the end (a tile) takes the rest of the path, slashes included.
    if let Some(prefix) = template.strip_suffix("{path}") {
        return path.starts_with(prefix) && path.len() > prefix.len();
    }
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b)
}

crate::both_backends!(
    forbidden_is_decided_before_the_body,
    requests_without_a_valid_key_are_401,
    keys_are_created_shown_once_and_revoked,
    a_key_cannot_revoke_itself,
    every_endpoint_against_every_role,
    integrations_read_public_fields_only,
);

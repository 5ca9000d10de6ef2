//! Webhooks end to end: a real receiver on loopback checks every delivery's signature with the
//! `standardwebhooks` crate; retries after failures, 410 and a used-up schedule disable an
//! endpoint, a rotation signs with both secrets, a refused write announces nothing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn_app, spawn_with_webhooks};

/// What the receiver got: headers and body of each request.
type Got = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver on a loopback port: answers each request with the next scripted status (then
/// 204), and records what it got.
pub async fn receiver(script: Vec<u16>) -> (String, Got) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    receiver_on(listener, script)
}

/// [`receiver`] on a listener the caller bound.
pub fn receiver_on(listener: tokio::net::TcpListener, script: Vec<u16>) -> (String, Got) {
    let got: Got = Arc::default();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let state = (got.clone(), script);
    async fn hook(
        State((got, script)): State<(Got, Arc<Mutex<VecDeque<u16>>>)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> AxumStatus {
        got.lock().unwrap().push((headers, body));
        let status = script.lock().unwrap().pop_front().unwrap_or(204);
        AxumStatus::from_u16(status).unwrap()
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(state);
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

/// Waits (at most 15 s) until `check` holds.
async fn eventually<F: FnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 15 s");
}

async fn create_endpoint(t: &TestApp, url: &str, events: &[&str]) -> Value {
    let res = t
        .post(
            "/v1/webhooks",
            &json!({"url": url, "events": events, "description": "CMS"}),
        )
        .await;
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["secret"].as_str().unwrap().starts_with("whsec_"));
    body
}

/// A published verdict on a fresh claim (a one-person desk).
async fn publish_a_verdict(t: &TestApp) -> String {
    let res = t
        .post(
            "/v1/claims",
            &json!({"text": "The bridge cost $4 billion."}),
        )
        .await;
    let claim: Value = res.json().await.unwrap();
    let cid = claim["id"].as_str().unwrap();
    let draft = json!({"rating": "false", "summary": "No."});
    let review = crate::helpers::publish_alone(t, cid, draft, None).await;
    review["id"].as_str().unwrap().to_owned()
}

/// Checks a delivery with the `standardwebhooks` crate (an implementation we did not write).
pub fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    standardwebhooks::Webhook::new(secret)
        .map_err(|e| e.to_string())?
        .verify(body, headers)
        .map_err(|e| e.to_string())
}

/// The endpoint's newest delivery once it reaches `state` (at most 15 s).
async fn delivery_in_state(t: &TestApp, endpoint: &str, state: &str) -> Value {
    let mut deliveries = Value::Null;
    for _ in 0..300 {
        deliveries = t
            .get_json(&format!("/v1/webhooks/{endpoint}/deliveries"))
            .await["items"]
            .clone();
        if deliveries[0]["state"] == state {
            return deliveries[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no delivery reached {state} within 15 s: {deliveries}");
}

async fn deliveries_are_signed_retried_and_recorded(backend: Backend) {
    let t = spawn_with_webhooks(backend, &[Duration::from_millis(100); 7]).await;
    let (url, got) = receiver(vec![500, 503]).await;
    let endpoint = create_endpoint(&t, &url, &["review.published"]).await;
    let (eid, secret) = (
        endpoint["id"].as_str().unwrap(),
        endpoint["secret"].as_str().unwrap(),
    );
    let rid = publish_a_verdict(&t).await;
    eventually("three attempts", || got.lock().unwrap().len() >= 3).await;
    let requests = got.lock().unwrap().clone();
    let ids: Vec<&[u8]> = requests
        .iter()
        .map(|(h, _)| h["webhook-id"].as_bytes())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "the same webhook-id on every attempt"
    );
    for (headers, body) in &requests {
        verify(secret, headers, body).unwrap();
        assert_eq!(headers["content-type"], "application/json");
        let payload: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(payload["type"], "review.published");
        assert_eq!(payload["data"]["id"], rid);
        assert_eq!(
            payload["data"]["links"]["claimreview"],
            format!("/v1/reviews/{rid}/claimreview")
        );
        // A thin payload: no rating, no summary.
        assert!(payload["data"].get("rating").is_none());
    }
    // A signature by another secret does not verify.
    let (h, b) = &requests[0];
    assert!(verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, b).is_err());
    // Every attempt is visible.
    let delivery = delivery_in_state(&t, eid, "delivered").await;
    let statuses: Vec<i64> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 503, 204]);
    assert!(delivery["attempts"][0]["latency_ms"].is_i64());
    assert_eq!(delivery["attempts"][0]["error"], "answered 500");
    assert_eq!(delivery["message_id"], std::str::from_utf8(ids[0]).unwrap());
    // A replay sends the same message again.
    let res = t
        .post(
            &format!(
                "/v1/webhooks/{eid}/deliveries/{}/replay",
                delivery["message_id"].as_str().unwrap()
            ),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    eventually("the replay", || got.lock().unwrap().len() >= 4).await;
    let (headers, body) = got.lock().unwrap()[3].clone();
    assert_eq!(headers["webhook-id"].as_bytes(), ids[0]);
    verify(secret, &headers, &body).unwrap();
}

async fn gone_and_failing_endpoints_are_disabled(backend: Backend) {
    let t = spawn_with_webhooks(backend, &[Duration::from_millis(50); 2]).await;
    let (gone_url, gone) = receiver(vec![410]).await;
    let (failing_url, failing) = receiver(vec![500; 10]).await;
    let g = create_endpoint(&t, &gone_url, &["review.published"]).await;
    let f = create_endpoint(&t, &failing_url, &["review.published", "review.retracted"]).await;
    publish_a_verdict(&t).await;
    let delivery = delivery_in_state(&t, g["id"].as_str().unwrap(), "failed").await;
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(gone.lock().unwrap().len(), 1);
    let endpoint = t
        .get_json(&format!("/v1/webhooks/{}", g["id"].as_str().unwrap()))
        .await;
    assert_eq!(endpoint["enabled"], false);
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410"),
        "{endpoint}"
    );
    // Failing for the whole schedule (1 + 2 attempts): failed, and the endpoint disabled.
    let fid = f["id"].as_str().unwrap();
    let delivery = delivery_in_state(&t, fid, "failed").await;
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(failing.lock().unwrap().len(), 3);
    let endpoint = t.get_json(&format!("/v1/webhooks/{fid}")).await;
    assert_eq!(endpoint["enabled"], false, "{endpoint}");
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("schedule"),
        "{endpoint}"
    );
    // A disabled endpoint gets nothing new; enabled again, it does.
    publish_a_verdict(&t).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(failing.lock().unwrap().len(), 3);
    let res = t
        .post(&format!("/v1/webhooks/{fid}/enable"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    publish_a_verdict(&t).await;
    eventually("a delivery after enabling", || {
        failing.lock().unwrap().len() >= 4
    })
    .await;
}

async fn a_rotation_signs_with_both_secrets_for_a_day(backend: Backend) {
    let t = spawn_with_webhooks(backend, &[Duration::from_millis(50); 3]).await;
    let (url, got) = receiver(vec![]).await;
    let created = create_endpoint(&t, &url, &["review.published"]).await;
    let (eid, old) = (
        created["id"].as_str().unwrap(),
        created["secret"].as_str().unwrap(),
    );
    let res = t
        .post(&format!("/v1/webhooks/{eid}/rotate-secret"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let rotated: Value = res.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_until"].is_string(), "{rotated}");
    // The listing never shows a secret.
    let listed = t.get_json("/v1/webhooks").await;
    assert!(listed[0].get("secret").is_none(), "{listed}");
    let res = t
        .post(&format!("/v1/webhooks/{eid}/test"), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    eventually("the test message", || !got.lock().unwrap().is_empty()).await;
    let (headers, body) = got.lock().unwrap()[0].clone();
    assert_eq!(
        headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        2
    );
    verify(new, &headers, &body).unwrap();
    verify(old, &headers, &body).unwrap();
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["type"], "webhook.test");
}

async fn a_refused_write_announces_nothing_and_private_urls_are_refused(backend: Backend) {
    let t = spawn_with_webhooks(backend, &[Duration::from_millis(50)]).await;
    let (url, _) = receiver(vec![]).await;
    create_endpoint(&t, &url, &["review.published", "review.corrected"]).await;
    // A second verdict on a claim that has one is refused at publication: rolled back whole.
    let rid = publish_a_verdict(&t).await;
    let review = t.get_json(&format!("/v1/reviews/{rid}")).await;
    let cid = review["claim_id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/v1/claims/{cid}/reviews"),
            &json!({"rating": "true", "summary": "Yes."}),
        )
        .await;
    let mut rival: Value = res.json().await.unwrap();
    let rival_id = rival["id"].as_str().unwrap().to_owned();
    for to in ["in_review", "approved"] {
        let res = t
            .post(
                &format!("/v1/reviews/{rival_id}/transitions"),
                &json!({"to": to, "revision": rival["revision"]}),
            )
            .await;
        rival = res.json().await.unwrap();
    }
    let before = t.row_counts().await;
    let res = t
        .post(
            &format!("/v1/reviews/{rival_id}/transitions"),
            &json!({"to": "published", "revision": rival["revision"]}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "verdict-exists").await;
    assert_eq!(t.row_counts().await, before, "no change, no delivery");
    // Unknown events and (on a node that does not allow them) private addresses are refused.
    assert_problem(
        t.post(
            "/v1/webhooks",
            &json!({"url": url, "events": ["review.deleted"]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    let strict = spawn_app(backend).await;
    for private in [
        "http://127.0.0.1:9/hook",
        "http://[::1]/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest",
        "http://localhost:8080/x",
    ] {
        let p = assert_problem(
            strict
                .post(
                    "/v1/webhooks",
                    &json!({"url": private, "events": ["review.published"]}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
        )
        .await;
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("private"),
            "{private}: {p}"
        );
    }
}

/// Two nodes over one database, each with its delivery worker: every message goes out once.
async fn two_nodes_deliver_each_message_once(backend: Backend) {
    let settings = claimtrail::app::WebhookSettings {
        schedule: vec![Duration::from_millis(100); 5],
        allow_private: true,
    };
    let t = spawn_with_webhooks(backend, &settings.schedule).await;
    let store = claimtrail::store::Store::connect(&t.db_url, 5)
        .await
        .unwrap();
    let other = claimtrail::app::App::new(store, 1 << 20).with_webhooks(settings);
    let (_stop_other, _) = claimtrail::delivery::spawn(other);
    let (url, got) = receiver(vec![]).await;
    let endpoint = create_endpoint(&t, &url, &["review.published"]).await;
    const VERDICTS: usize = 12;
    for _ in 0..VERDICTS {
        publish_a_verdict(&t).await;
    }
    eventually("every verdict announced", || {
        got.lock().unwrap().len() >= VERDICTS
    })
    .await;
    // Time for a duplicate to show, had a message gone out from both nodes.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let requests = got.lock().unwrap().clone();
    let mut ids: Vec<Vec<u8>> = requests
        .iter()
        .map(|(h, _)| h["webhook-id"].as_bytes().to_vec())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), VERDICTS);
    assert_eq!(requests.len(), VERDICTS, "a message was delivered twice");
    // The deliveries list pages newest first, each message once, with its attempt.
    let eid = endpoint["id"].as_str().unwrap();
    let mut listed = Vec::new();
    let mut url = format!("/v1/webhooks/{eid}/deliveries?limit=5");
    loop {
        let page = t.get_json(&url).await;
        for d in page["items"].as_array().unwrap() {
            assert_eq!(d["attempts"].as_array().unwrap().len(), 1, "{d}");
            listed.push(d["message_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/v1/webhooks/{eid}/deliveries?limit=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(listed.len(), VERDICTS);
    let mut newest_first = listed.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(listed, newest_first);
}

crate::both_backends!(
    two_nodes_deliver_each_message_once,
    deliveries_are_signed_retried_and_recorded,
    gone_and_failing_endpoints_are_disabled,
    a_rotation_signs_with_both_secrets_for_a_day,
    a_refused_write_announces_nothing_and_private_urls_are_refused,
);

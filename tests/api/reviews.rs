//! Reviews: the workflow, the second-person rule, corrections and optimistic concurrency.

use claimtrail::domain::access::Role;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, assert_problem, client_with_key, spawn_app, spawn_one_person_desk,
};

/// A claim with one piece of evidence; returns (claim id, evidence id).
async fn claim_with_evidence(t: &TestApp) -> (String, String) {
    let source = t
        .source(
            "Budget",
            "The bridge will cost $4 billion. Engineers estimate $2.1 billion.",
        )
        .await;
    let sid = source["id"].as_str().unwrap();
    let said = t
        .passage(sid, json!({"quote": "will cost $4 billion"}))
        .await;
    let estimate = t
        .passage(sid, json!({"quote": "Engineers estimate $2.1 billion."}))
        .await;
    t.claim_with_evidence("It costs $4 billion.", &said, &estimate, "contradicts")
        .await
}

struct Desk {
    checker: Client,
    editor: Client,
    other_editor: Client,
}

async fn desk(t: &TestApp) -> Desk {
    Desk {
        checker: client_with_key(&t.key(Role::FactChecker).await),
        editor: client_with_key(&t.key(Role::Editor).await),
        other_editor: client_with_key(&t.person_key("second-editor", Role::Editor).await),
    }
}

async fn create(t: &TestApp, client: &Client, claim: &str, body: Value) -> Response {
    client
        .post(t.url(&format!("/v1/claims/{claim}/reviews")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Sends a transition with the revision as `If-Match`.
async fn step(
    t: &TestApp,
    client: &Client,
    review: &Value,
    to: &str,
    note: Option<&str>,
) -> Response {
    let id = review["id"].as_str().unwrap();
    client
        .post(t.url(&format!("/v1/reviews/{id}/transitions")))
        .header("if-match", format!("\"{}\"", review["revision"]))
        .json(&json!({"to": to, "note": note}))
        .send()
        .await
        .unwrap()
}

async fn ok(res: Response) -> Value {
    let status = res.status();
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    assert_eq!(
        etag,
        Some(format!("\"{}\"", body["revision"])),
        "ETag is the revision"
    );
    body
}

async fn a_verdict_is_drafted_reviewed_approved_and_published(backend: Backend) {
    let t = spawn_app(backend).await;
    let (claim, evidence) = claim_with_evidence(&t).await;
    let d = desk(&t).await;
    let res = create(&t, &d.checker, &claim, json!({"rating": "mostly_false", "summary": "Construction is $2.1 billion.", "evidence": [evidence]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let draft = ok(res).await;
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["revision"], 1);
    assert_eq!(draft["author"], "test-fact_checker");
    assert_eq!(
        draft["rating"],
        json!({"key": "mostly_false", "label": "Mostly false", "value": 2.0})
    );
    let submitted = ok(step(&t, &d.checker, &draft, "in_review", None).await).await;
    // A fact-checker cannot approve.
    let p = assert_problem(
        step(&t, &d.checker, &submitted, "approved", None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("fact_checker"));
    let approved = ok(step(
        &t,
        &d.editor,
        &submitted,
        "approved",
        Some("Checked the estimate."),
    )
    .await)
    .await;
    let published = ok(step(&t, &d.other_editor, &approved, "published", None).await).await;
    assert_eq!(published["state"], "published");
    assert_eq!(published["revision"], 4);
    assert!(published["published_at"].is_string());
    let history: Vec<(Value, String, String)> = published["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].clone(),
                e["to"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            (Value::Null, "draft".into(), "test-fact_checker".into()),
            (
                json!("draft"),
                "in_review".into(),
                "test-fact_checker".into()
            ),
            (json!("in_review"), "approved".into(), "test-editor".into()),
            (
                json!("approved"),
                "published".into(),
                "second-editor".into()
            ),
        ]
    );
    assert_eq!(published["history"][2]["note"], "Checked the estimate.");
    assert!(
        published["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["second_person_rule"] == true)
    );

    let view = t.get_json(&format!("/v1/claims/{claim}")).await;
    assert_eq!(view["verdict"]["id"], published["id"], "{view}");
    assert_eq!(view["reviews"].as_array().unwrap().len(), 1);
    // The audit trail has every step, by who made it.
    let audit = t
        .get_json(&format!(
            "/v1/audit?entity=review&entity_id={}",
            published["id"].as_str().unwrap()
        ))
        .await;
    let actors: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(
        actors,
        [
            "test-fact_checker",
            "test-fact_checker",
            "test-editor",
            "second-editor"
        ]
    );
    assert_eq!(t.get_json("/v1/audit/verify").await["valid"], true);
    // An integration reads the published verdict.
    let cms = client_with_key(&t.key(Role::Integration).await);
    let res = cms
        .get(t.url(&format!(
            "/v1/reviews/{}",
            published["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let evidence: Value = cms
        .get(t.url(&format!(
            "/v1/reviews/{}/evidence",
            published["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(evidence.as_array().unwrap().len(), 1, "{evidence}");
    assert_eq!(evidence[0]["stance"], "contradicts");
    assert_eq!(
        evidence[0]["passage"]["exact"],
        "Engineers estimate $2.1 billion."
    );
}

async fn the_author_cannot_approve_their_own_review(backend: Backend) {
    let t = spawn_app(backend).await;
    let (claim, _) = claim_with_evidence(&t).await;
    let d = desk(&t).await;
    let draft = ok(create(
        &t,
        &d.editor,
        &claim,
        json!({"rating": "false", "summary": "No."}),
    )
    .await)
    .await;
    let submitted = ok(step(&t, &d.editor, &draft, "in_review", None).await).await;
    let before = t.row_counts().await;
    let p = assert_problem(
        step(&t, &d.editor, &submitted, "approved", None).await,
        StatusCode::FORBIDDEN,
        "second-person-required",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("another editor"));
    assert_eq!(
        t.row_counts().await,
        before,
        "nothing written, no audit entry"
    );
    ok(step(&t, &d.other_editor, &submitted, "approved", None).await).await;
}

async fn a_one_person_desk_can_turn_the_rule_off_and_the_trail_says_so(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    let (claim, _) = claim_with_evidence(&t).await;
    let editor = client_with_key(&t.key(Role::Editor).await);
    let draft = ok(create(
        &t,
        &editor,
        &claim,
        json!({"rating": "false", "summary": "No."}),
    )
    .await)
    .await;
    let submitted = ok(step(&t, &editor, &draft, "in_review", None).await).await;
    let approved = ok(step(&t, &editor, &submitted, "approved", None).await).await;
    assert_eq!(approved["history"][2]["second_person_rule"], false);
    let audit = t
        .get_json(&format!(
            "/v1/audit?entity=review&entity_id={}",
            approved["id"].as_str().unwrap()
        ))
        .await;
    let last = audit["items"].as_array().unwrap().last().unwrap().clone();
    let changes: Value = last["changes"].clone();
    assert_eq!(changes["to"], "approved");
    assert_eq!(changes["second_person_rule"], false);
}

async fn refused_steps_name_what_is_allowed_and_write_nothing(backend: Backend) {
    let t = spawn_app(backend).await;
    let (claim, _) = claim_with_evidence(&t).await;
    let d = desk(&t).await;
    let draft = ok(create(
        &t,
        &d.checker,
        &claim,
        json!({"rating": "false", "summary": "No."}),
    )
    .await)
    .await;
    let id = draft["id"].as_str().unwrap().to_owned();
    let before = t.row_counts().await;
    let p = assert_problem(
        step(&t, &d.editor, &draft, "published", None).await,
        StatusCode::CONFLICT,
        "invalid-transition",
    )
    .await;
    assert_eq!(p["allowed"], json!(["in_review", "withdrawn"]));
    let p = assert_problem(
        step(&t, &d.editor, &draft, "deleted", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "to");
    // PostgreSQL cannot store a NUL: refused as bad input, not a 500.
    let p = assert_problem(
        step(&t, &d.checker, &draft, "in_review", Some("bad\u{0}note")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "note");
    // Revisions: missing, malformed, stale.
    let url = t.url(&format!("/v1/reviews/{id}/transitions"));
    let res = d
        .checker
        .post(&url)
        .json(&json!({"to": "in_review"}))
        .send()
        .await
        .unwrap();
    assert_problem(
        res,
        StatusCode::PRECONDITION_REQUIRED,
        "precondition-required",
    )
    .await;
    let res = d
        .checker
        .post(&url)
        .header("if-match", "three")
        .json(&json!({"to": "in_review"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid-header").await;
    // A weak ETag never matches in If-Match (RFC 9110, section 13.1.1), even the right one.
    let res = d
        .checker
        .post(&url)
        .header("if-match", "W/\"1\"")
        .json(&json!({"to": "in_review"}))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, StatusCode::PRECONDITION_FAILED, "precondition-failed").await;
    assert!(p["detail"].as_str().unwrap().contains("\"1\""), "{p}");
    let res = d
        .checker
        .post(&url)
        .json(&json!({"to": "in_review", "revision": 7}))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, StatusCode::CONFLICT, "stale-revision").await;
    assert_eq!(
        p["detail"],
        "The revision you sent is not the review's current one: the review is at revision 1 \
         (draft). Read it again (`current` holds it) and send revision 1 if your change still \
         applies."
    );
    assert_eq!(p["current"]["revision"], 1);
    assert_eq!(p["current"]["state"], "draft");
    // Ratings not in the scale, evidence from elsewhere.
    let p = assert_problem(
        create(
            &t,
            &d.checker,
            &claim,
            json!({"rating": "pants_on_fire", "summary": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "rating");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("mostly_false")
    );
    let stranger = uuid::Uuid::now_v7();
    let p = assert_problem(
        create(
            &t,
            &d.checker,
            &claim,
            json!({"rating": "false", "summary": "x", "evidence": [stranger]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "evidence/0");
    assert_problem(
        create(
            &t,
            &d.checker,
            &claim,
            json!({"rating": "false", "summary": " "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_problem(
        create(
            &t,
            &d.checker,
            &claim,
            json!({"rating": "false", "summary": "x", "corrects": id}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    let auditor = client_with_key(&t.key(Role::Auditor).await);
    let before_auditor = t.row_counts().await;
    assert_problem(
        create(
            &t,
            &auditor,
            &claim,
            json!({"rating": "false", "summary": "x"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(t.row_counts().await, before_auditor);
    let _ = before;
    // Retraction needs a note.
    let submitted = ok(step(&t, &d.checker, &draft, "in_review", None).await).await;
    let approved = ok(step(&t, &d.editor, &submitted, "approved", None).await).await;
    let published = ok(step(&t, &d.editor, &approved, "published", None).await).await;
    let before = t.row_counts().await;
    let p = assert_problem(
        step(&t, &d.editor, &published, "retracted", Some("  ")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "note");
    assert_eq!(t.row_counts().await, before);
    let retracted = ok(step(
        &t,
        &d.editor,
        &published,
        "retracted",
        Some("The estimate was withdrawn."),
    )
    .await)
    .await;
    let p = assert_problem(
        step(&t, &d.editor, &retracted, "published", None).await,
        StatusCode::CONFLICT,
        "invalid-transition",
    )
    .await;
    assert_eq!(p["allowed"], json!([]));
    assert_problem(
        d.editor
            .get(t.url(&format!("/v1/reviews/{}", uuid::Uuid::now_v7())))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
}

async fn drafts_are_edited_with_their_revision(backend: Backend) {
    let t = spawn_app(backend).await;
    let (claim, evidence) = claim_with_evidence(&t).await;
    let d = desk(&t).await;
    let draft = ok(create(
        &t,
        &d.checker,
        &claim,
        json!({"rating": "false", "summary": "First take."}),
    )
    .await)
    .await;
    let url = t.url(&format!("/v1/reviews/{}", draft["id"].as_str().unwrap()));
    let res = d
        .checker
        .patch(&url)
        .header("if-match", "\"1\"")
        .json(&json!({"rating": "mostly_false", "evidence": [evidence]}))
        .send()
        .await
        .unwrap();
    let edited = ok(res).await;
    assert_eq!(
        (edited["revision"].clone(), edited["rating"]["key"].clone()),
        (json!(2), json!("mostly_false"))
    );
    assert_eq!(edited["summary"], "First take.");
    let res = d
        .checker
        .patch(&url)
        .header("if-match", "\"1\"")
        .json(&json!({"summary": "Lost update"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "stale-revision").await;
    let submitted = ok(step(&t, &d.checker, &edited, "in_review", None).await).await;
    let res = d
        .checker
        .patch(&url)
        .json(&json!({"summary": "Too late", "revision": submitted["revision"]}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, "not-editable").await;
    // Sent back, it is editable again.
    let back = ok(step(
        &t,
        &d.editor,
        &submitted,
        "changes_requested",
        Some("Cite the report."),
    )
    .await)
    .await;
    let res = d
        .checker
        .patch(&url)
        .json(&json!({"summary": "Cites the report.", "revision": back["revision"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok(res).await["summary"], "Cites the report.");
}

async fn a_correction_supersedes_the_published_verdict(backend: Backend) {
    let t = spawn_app(backend).await;
    let (claim, _) = claim_with_evidence(&t).await;
    let d = desk(&t).await;
    let publish = |review: Value| {
        let (t, d) = (&t, &d);
        async move {
            let r = ok(step(t, &d.checker, &review, "in_review", None).await).await;
            let r = ok(step(t, &d.editor, &r, "approved", None).await).await;
            ok(step(t, &d.editor, &r, "published", None).await).await
        }
    };
    let first = publish(
        ok(create(
            &t,
            &d.checker,
            &claim,
            json!({"rating": "false", "summary": "Wrong."}),
        )
        .await)
        .await,
    )
    .await;
    // A second verdict must be a correction.
    let rival = ok(create(
        &t,
        &d.checker,
        &claim,
        json!({"rating": "true", "summary": "Right."}),
    )
    .await)
    .await;
    let r = ok(step(&t, &d.checker, &rival, "in_review", None).await).await;
    let r = ok(step(&t, &d.editor, &r, "approved", None).await).await;
    let p = assert_problem(
        step(&t, &d.editor, &r, "published", None).await,
        StatusCode::CONFLICT,
        "verdict-exists",
    )
    .await;
    assert_eq!(p["existing_id"], first["id"]);

    let correction = ok(create(
        &t,
        &d.checker,
        &claim,
        json!({"rating": "mostly_false", "summary": "Mostly wrong.", "corrects": first["id"]}),
    )
    .await)
    .await;
    let corrected = publish(correction).await;
    assert_eq!(corrected["corrects"], first["id"]);
    let old = t
        .get_json(&format!("/v1/reviews/{}", first["id"].as_str().unwrap()))
        .await;
    assert_eq!(old["state"], "superseded");
    assert_eq!(old["superseded_by"], corrected["id"]);
    assert_eq!(
        old["summary"], "Wrong.",
        "the corrected verdict stays readable, unchanged"
    );
    let last = old["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["from"].clone(), last["to"].clone()),
        (json!("published"), json!("superseded"))
    );
    let view = t.get_json(&format!("/v1/claims/{claim}")).await;
    assert_eq!(view["verdict"]["id"], corrected["id"]);
    assert_eq!(view["reviews"].as_array().unwrap().len(), 3);
    assert_eq!(t.get_json("/v1/audit/verify").await["valid"], true);
    // Integrations see published verdicts only.
    let cms = client_with_key(&t.key(Role::Integration).await);
    let res = cms
        .get(t.url(&format!("/v1/reviews/{}", rival["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, "not-found").await;
}

/// Of concurrent writes from one revision, exactly one succeeded and the others were stale.
fn assert_one_won(statuses: &[StatusCode]) {
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
}

async fn of_many_concurrent_identical_steps_exactly_one_wins(backend: Backend) {
    let t = spawn_app(backend).await;
    let (claim, _) = claim_with_evidence(&t).await;
    let d = desk(&t).await;
    let draft = ok(create(
        &t,
        &d.checker,
        &claim,
        json!({"rating": "false", "summary": "No."}),
    )
    .await)
    .await;
    let submitted = ok(step(&t, &d.checker, &draft, "in_review", None).await).await;
    let audit_before = t.get_json("/v1/audit/verify").await["length"]
        .as_i64()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let (client, url) = (
            d.editor.clone(),
            t.url(&format!(
                "/v1/reviews/{}/transitions",
                submitted["id"].as_str().unwrap()
            )),
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("if-match", "\"2\"")
                .json(&json!({"to": "approved"}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_one_won(&statuses);
    let report = t.get_json("/v1/audit/verify").await;
    assert_eq!(report["valid"], true);
    assert_eq!(report["length"].as_i64().unwrap(), audit_before + 1);
    let review = t
        .get_json(&format!(
            "/v1/reviews/{}",
            submitted["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(review["revision"], 3);
    assert_eq!(review["history"].as_array().unwrap().len(), 3);
}

/// Edits and workflow steps of one review race each other and unrelated writes (which take
/// the write lock in another order on PostgreSQL): one review write wins, the others are
/// stale, nothing fails, and the chain holds exactly one entry per write.
async fn racing_edits_steps_and_other_writes_all_end_cleanly(backend: Backend) {
    let t = spawn_app(backend).await;
    let (claim, _) = claim_with_evidence(&t).await;
    let d = desk(&t).await;
    let draft = ok(create(
        &t,
        &d.checker,
        &claim,
        json!({"rating": "false", "summary": "No."}),
    )
    .await)
    .await;
    let audit_before = t.get_json("/v1/audit/verify").await["length"]
        .as_i64()
        .unwrap();
    let review_url = t.url(&format!("/v1/reviews/{}", draft["id"].as_str().unwrap()));
    let mut review_writes = Vec::new();
    let mut other_writes = Vec::new();
    for i in 0..8 {
        let (checker, url) = (d.checker.clone(), review_url.clone());
        review_writes.push(tokio::spawn(async move {
            let request = if i % 2 == 0 {
                checker
                    .patch(url)
                    .json(&json!({"summary": format!("Edit {i}.")}))
            } else {
                checker
                    .post(format!("{url}/transitions"))
                    .json(&json!({"to": "in_review"}))
            };
            request
                .header("if-match", "\"1\"")
                .send()
                .await
                .unwrap()
                .status()
        }));
        let (client, url) = (t.client.clone(), t.url("/v1/sources"));
        other_writes.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"title": format!("Racing {i}"), "text": format!("Text {i}.")}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for task in review_writes {
        statuses.push(task.await.unwrap());
    }
    for task in other_writes {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    assert_one_won(&statuses);
    let report = t.get_json("/v1/audit/verify").await;
    assert_eq!(report["valid"], true);
    assert_eq!(report["length"].as_i64().unwrap(), audit_before + 1 + 8);
    let review = t
        .get_json(&format!("/v1/reviews/{}", draft["id"].as_str().unwrap()))
        .await;
    assert_eq!(review["revision"], 2);
}

async fn two_reviews_published_at_once_make_one_verdict(backend: Backend) {
    let t = spawn_app(backend).await;
    let (claim, _) = claim_with_evidence(&t).await;
    let d = desk(&t).await;
    let mut approved = Vec::new();
    for rating in ["true", "false"] {
        let r = ok(create(
            &t,
            &d.checker,
            &claim,
            json!({"rating": rating, "summary": "s"}),
        )
        .await)
        .await;
        let r = ok(step(&t, &d.checker, &r, "in_review", None).await).await;
        approved.push(ok(step(&t, &d.editor, &r, "approved", None).await).await);
    }
    let (a, b) = (approved[0].clone(), approved[1].clone());
    let (ra, rb) = tokio::join!(
        step(&t, &d.editor, &a, "published", None),
        step(&t, &d.other_editor, &b, "published", None)
    );
    let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let view = t.get_json(&format!("/v1/claims/{claim}")).await;
    let published = view["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "published")
        .count();
    assert_eq!(published, 1);
}

async fn rating_scales_are_data(backend: Backend) {
    let t = spawn_app(backend).await;
    let scales = t.get_json("/v1/rating-scales").await["items"].clone();
    let default = scales
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "default")
        .unwrap()
        .clone();
    assert_eq!(
        (
            default["best_rating"].clone(),
            default["worst_rating"].clone()
        ),
        (json!(5.0), json!(1.0))
    );
    let keys: Vec<&str> = default["ratings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "true",
            "mostly_true",
            "half_true",
            "mostly_false",
            "false",
            "misleading",
            "unproven"
        ]
    );
    assert_eq!(default["ratings"][5]["value"], Value::Null);
    let body = json!({"id": "three", "name": "Three-way", "ratings": [
        {"key": "correct", "label": "Correct", "value": 1}, {"key": "disputed", "label": "Disputed", "value": 0},
        {"key": "incorrect", "label": "Incorrect", "value": -1}, {"key": "satire", "label": "Satire", "value": null}]});
    let res = t.post("/v1/rating-scales", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let scale: Value = res.json().await.unwrap();
    assert_eq!(
        (scale["best_rating"].clone(), scale["worst_rating"].clone()),
        (json!(1.0), json!(-1.0))
    );
    assert_problem(
        t.post("/v1/rating-scales", &body).await,
        StatusCode::CONFLICT,
        "scale-exists",
    )
    .await;
    let bad = json!({"id": "Bad Id", "name": "x", "ratings": [{"key": "a", "label": "A", "value": 1}, {"key": "a", "label": "", "value": null}]});
    let p = assert_problem(
        t.post("/v1/rating-scales", &bad).await,
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
        ["id", "ratings", "ratings/1/key", "ratings/1/label"]
    );
    // A review on the new scale.
    let (claim, _) = claim_with_evidence(&t).await;
    let res = t
        .post(
            &format!("/v1/claims/{claim}/reviews"),
            &json!({"scale": "three", "rating": "disputed", "summary": "Experts disagree."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let review: Value = res.json().await.unwrap();
    assert_eq!(
        review["rating"],
        json!({"key": "disputed", "label": "Disputed", "value": 0.0})
    );
}

crate::both_backends!(
    a_verdict_is_drafted_reviewed_approved_and_published,
    the_author_cannot_approve_their_own_review,
    a_one_person_desk_can_turn_the_rule_off_and_the_trail_says_so,
    refused_steps_name_what_is_allowed_and_write_nothing,
    drafts_are_edited_with_their_revision,
    a_correction_supersedes_the_published_verdict,
    of_many_concurrent_identical_steps_exactly_one_wins,
    racing_edits_steps_and_other_writes_all_end_cleanly,
    two_reviews_published_at_once_make_one_verdict,
    rating_scales_are_data,
);

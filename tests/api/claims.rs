//! Claims, where they appeared, and evidence.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn_app};

/// A source with two passages: (source id, passage a, passage b).
async fn setup(t: &TestApp) -> (String, String, String) {
    let source = t
        .source(
            "Claims source",
            "The mayor said the bridge costs $4 billion. The report says $2.1 billion.",
        )
        .await;
    let id = source["id"].as_str().unwrap().to_owned();
    let a = t
        .passage(&id, json!({"quote": "the bridge costs $4 billion"}))
        .await;
    let b = t
        .passage(&id, json!({"quote": "The report says $2.1 billion."}))
        .await;
    (
        id,
        a["id"].as_str().unwrap().to_owned(),
        b["id"].as_str().unwrap().to_owned(),
    )
}

async fn a_claim_shows_its_appearances_and_evidence_with_sources(backend: Backend) {
    let t = spawn_app(backend).await;
    let (source_id, a, b) = setup(&t).await;
    let res = t.post("/v1/claims", &json!({"text": " The bridge costs $4 billion. ", "claimant": "The mayor", "appearances": [a]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let claim: Value = res.json().await.unwrap();
    assert_eq!(claim["text"], "The bridge costs $4 billion.");
    assert_eq!(claim["claimant"], "The mayor");
    assert_eq!(claim["appearances"][0]["passage"]["id"], a.as_str());
    assert_eq!(
        claim["appearances"][0]["passage"]["exact"],
        "the bridge costs $4 billion"
    );
    assert_eq!(claim["appearances"][0]["source"]["id"], source_id.as_str());
    assert_eq!(claim["appearances"][0]["source"]["title"], "Claims source");
    assert_eq!(claim["evidence"], json!([]));
    let claim_id = claim["id"].as_str().unwrap();

    let res = t
        .post(
            &format!("/v1/claims/{claim_id}/evidence"),
            &json!({"passage_id": b, "stance": "contradicts", "note": "Report figure"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let evidence: Value = res.json().await.unwrap();
    assert_eq!(evidence["stance"], "contradicts");
    assert_eq!(evidence["note"], "Report figure");
    assert_eq!(evidence["passage"]["id"], b.as_str());
    assert_eq!(evidence["source"]["id"], source_id.as_str());
    let res = t
        .post(
            &format!("/v1/claims/{claim_id}/evidence"),
            &json!({"passage_id": a, "stance": "supports"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let view: Value = t.get_json(&location).await;
    let stances: Vec<&str> = view["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["stance"].as_str().unwrap())
        .collect();
    assert_eq!(stances, ["contradicts", "supports"]);
    assert_eq!(
        view["evidence"][0]["passage"]["exact"],
        "The report says $2.1 billion."
    );
    assert_eq!(view["appearances"].as_array().unwrap().len(), 1);
}

async fn evidence_is_refused_when_unknown_or_repeated(backend: Backend) {
    let t = spawn_app(backend).await;
    let (_, a, b) = setup(&t).await;
    let claim: Value = t
        .post("/v1/claims", &json!({"text": "A claim"}))
        .await
        .json()
        .await
        .unwrap();
    let claim_id = claim["id"].as_str().unwrap();
    let path = format!("/v1/claims/{claim_id}/evidence");
    let first: Value = t
        .post(&path, &json!({"passage_id": a, "stance": "supports"}))
        .await
        .json()
        .await
        .unwrap();
    let before = t.row_counts().await;
    let p = assert_problem(
        t.post(&path, &json!({"passage_id": a, "stance": "context"}))
            .await,
        StatusCode::CONFLICT,
        "evidence-exists",
    )
    .await;
    assert_eq!(p["existing_id"], first["id"]);
    let p = assert_problem(
        t.post(&path, &json!({"passage_id": b, "stance": "refutes"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "stance");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("supports"),
        "{p}"
    );
    let missing = uuid::Uuid::now_v7();
    let p = assert_problem(
        t.post(&path, &json!({"passage_id": missing, "stance": "supports"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown-passage",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "passage_id");
    assert_problem(
        t.post(
            &format!("/v1/claims/{missing}/evidence"),
            &json!({"passage_id": b, "stance": "supports"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        t.post(
            &path,
            &json!({"passage_id": b, "stance": "supports", "note": "  "}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(t.row_counts().await, before);
}

async fn claims_with_bad_appearances_write_nothing(backend: Backend) {
    let t = spawn_app(backend).await;
    let (_, a, _) = setup(&t).await;
    let before = t.row_counts().await;
    let missing = uuid::Uuid::now_v7();
    let p = assert_problem(
        t.post(
            "/v1/claims",
            &json!({"text": "x", "appearances": [a, missing]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown-passage",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains(&missing.to_string()));
    let p = assert_problem(
        t.post("/v1/claims", &json!({"text": "x", "appearances": [a, a]}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "appearances/1");
    assert_problem(
        t.post("/v1/claims", &json!({"text": " \n "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_problem(
        t.post("/v1/claims", &json!({"text": "x", "appearances": ["nope"]}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(t.row_counts().await, before);
    assert_problem(
        t.get(&format!("/v1/claims/{missing}")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
}

async fn claims_are_cursor_paginated(backend: Backend) {
    let t = spawn_app(backend).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let c: Value = t
            .post("/v1/claims", &json!({"text": format!("claim {i}")}))
            .await
            .json()
            .await
            .unwrap();
        ids.push(c["id"].clone());
    }
    let page1: Value = t.get_json("/v1/claims?limit=2").await;
    assert_eq!(
        page1["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect::<Vec<_>>(),
        ids[..2]
    );
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2: Value = t
        .get_json(&format!("/v1/claims?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(page2["items"][0]["id"], ids[2]);
    assert_eq!(page2["next_cursor"], Value::Null);
}

/// A claim read while evidence is being added is read in one snapshot: every answer is
/// whole (each piece of evidence with its passage and source), never a 500, and a reader
/// never sees evidence disappear.
async fn a_claim_read_while_evidence_is_added_is_whole(backend: Backend) {
    let t = std::sync::Arc::new(spawn_app(backend).await);
    let text: String = (0..40)
        .map(|i| format!("Sentence number {i} says something. "))
        .collect();
    let source = t.source("Many sentences", &text).await;
    let source_id = source["id"].as_str().unwrap().to_owned();
    let mut passages = Vec::new();
    for i in 0..40 {
        let p = t
            .passage(
                &source_id,
                json!({"quote": format!("Sentence number {i} says")}),
            )
            .await;
        passages.push(p["id"].as_str().unwrap().to_owned());
    }
    let claim: Value = t
        .post(
            "/v1/claims",
            &json!({"text": "Something was said.", "appearances": [passages[0]]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let claim_id = claim["id"].as_str().unwrap().to_owned();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (t, done, claim_id) = (t.clone(), done.clone(), claim_id.clone());
            tokio::spawn(async move {
                let (mut reads, mut seen) = (0, 0);
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let res = t.get(&format!("/v1/claims/{claim_id}")).await;
                    assert_eq!(res.status(), StatusCode::OK);
                    let view: Value = res.json().await.unwrap();
                    let evidence = view["evidence"].as_array().unwrap();
                    assert!(evidence.len() >= seen, "evidence disappeared: {view}");
                    seen = evidence.len();
                    for e in evidence {
                        assert!(
                            e["passage"]["id"].is_string() && e["source"]["id"].is_string(),
                            "{e}"
                        );
                    }
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for p in &passages[1..] {
        let res = t
            .post(
                &format!("/v1/claims/{claim_id}/evidence"),
                &json!({"passage_id": p, "stance": "supports"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut reads = 0;
    for r in readers {
        reads += r.await.expect("reader");
    }
    assert!(reads > 0);
    let view = t.get_json(&format!("/v1/claims/{claim_id}")).await;
    assert_eq!(view["evidence"].as_array().unwrap().len(), 39);
}

/// A claim with the same text as another (white space, case and quote marks aside) is
/// recorded with a warning naming the other; a claim's own appearance as its supporting
/// evidence is recorded with a warning.
async fn duplicate_claims_and_self_support_are_recorded_with_warnings(backend: Backend) {
    let t = spawn_app(backend).await;
    let (_, a, b) = setup(&t).await;
    let first: Value = t
        .post(
            "/v1/claims",
            &json!({"text": "The bridge costs \u{201C}$4 billion\u{201D}.", "claimant": "The mayor", "appearances": [a]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["warnings"], json!([]));
    let other: Value = t
        .post("/v1/claims", &json!({"text": "A bridge costs $5 billion"}))
        .await
        .json()
        .await
        .unwrap();
    let res = t
        .post(
            "/v1/claims",
            &json!({"text": "  the BRIDGE costs\n\"$4 billion\"", "claimant": "A councillor"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let second: Value = res.json().await.unwrap();
    assert_ne!(second["id"], first["id"]);
    let warnings = second["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["code"], "duplicate-claim");
    assert_eq!(warnings[0]["claim_id"], first["id"]);
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains(first["id"].as_str().unwrap())
    );
    let similar: Vec<&str> = warnings[0]["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert!(
        similar.contains(&"A bridge costs $5 billion"),
        "{similar:?}"
    );
    // Reading the claim again carries no warnings.
    let got: Value = t
        .get_json(&format!("/v1/claims/{}", second["id"].as_str().unwrap()))
        .await;
    assert!(got.get("warnings").is_none());

    let claim_id = first["id"].as_str().unwrap();
    let path = format!("/v1/claims/{claim_id}/evidence");
    let res = t
        .post(&path, &json!({"passage_id": a, "stance": "supports"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let evidence: Value = res.json().await.unwrap();
    assert_eq!(evidence["warnings"][0]["code"], "self-support");
    let res = t
        .post(&path, &json!({"passage_id": b, "stance": "supports"}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["warnings"], json!([]));

    // A text changed by PATCH is compared as it now reads.
    let other_id = other["id"].as_str().unwrap();
    let res = t
        .patch(
            &format!("/v1/claims/{other_id}"),
            &json!({"text": "Unemployment fell by half."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = t
        .post("/v1/claims", &json!({"text": "unemployment fell by  half"}))
        .await;
    let third: Value = res.json().await.unwrap();
    assert_eq!(third["warnings"][0]["code"], "duplicate-claim");
    assert_eq!(third["warnings"][0]["claim_id"], other["id"]);
    let res = t
        .post("/v1/claims", &json!({"text": "A bridge costs $5 billion"}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["warnings"], json!([]));
}

crate::both_backends!(
    duplicate_claims_and_self_support_are_recorded_with_warnings,
    a_claim_read_while_evidence_is_added_is_whole,
    a_claim_shows_its_appearances_and_evidence_with_sources,
    evidence_is_refused_when_unknown_or_repeated,
    claims_with_bad_appearances_write_nothing,
    claims_are_cursor_paginated,
);

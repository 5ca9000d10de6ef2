//! Records that can be maintained: claims corrected (audited before and after), appearances
//! added, evidence withdrawn with a note and kept.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, publish_verdict, spawn_app};

async fn audit_of(t: &TestApp, entity: &str, id: &str) -> Vec<Value> {
    t.get_json(&format!("/v1/audit?entity={entity}&entity_id={id}"))
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn a_claim_is_corrected_with_before_and_after_in_the_audit(backend: Backend) {
    let t = spawn_app(backend).await;
    let res = t
        .post(
            "/v1/claims",
            &json!({"text": "The bridge cost $4 bilion.", "claimant": "The mayr"}),
        )
        .await;
    let claim: Value = res.json().await.unwrap();
    let id = claim["id"].as_str().unwrap();
    let path = format!("/v1/claims/{id}");
    let res = t
        .patch(&path, &json!({"text": "The bridge cost $4 billion."}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let now: Value = res.json().await.unwrap();
    assert_eq!(now["text"], "The bridge cost $4 billion.");
    assert_eq!(now["claimant"], "The mayr", "absent fields stay");
    let entries = audit_of(&t, "claim", id).await;
    let last = entries.last().unwrap();
    assert_eq!(last["action"], "update");
    assert_eq!(
        last["changes"],
        json!({"before": {"text": "The bridge cost $4 bilion."}, "after": {"text": "The bridge cost $4 billion."}})
    );
    // `null` removes the claimant; a patch that changes nothing writes nothing.
    let res = t.patch(&path, &json!({"claimant": null})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["claimant"], Value::Null);
    let before = t.row_counts().await;
    let res = t
        .patch(&path, &json!({"text": "The bridge cost $4 billion."}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(t.row_counts().await, before);
    for (body, slug) in [
        (json!({"text": "  "}), "validation-failed"),
        (
            json!({"text": "x", "title": "no such field"}),
            "validation-failed",
        ),
    ] {
        assert_problem(
            t.patch(&path, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            slug,
        )
        .await;
    }
    let missing = uuid::Uuid::now_v7();
    assert_problem(
        t.patch(&format!("/v1/claims/{missing}"), &json!({"text": "x"}))
            .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_eq!(t.row_counts().await, before);
}

async fn appearances_are_added_once(backend: Backend) {
    let t = spawn_app(backend).await;
    let a = t
        .source("First", "The bridge cost $4 billion, the mayor said.")
        .await;
    let b = t
        .source("Second", "Again: the bridge cost $4 billion.")
        .await;
    let pa = t
        .passage(
            a["id"].as_str().unwrap(),
            json!({"quote": "bridge cost $4 billion"}),
        )
        .await;
    let pb = t
        .passage(
            b["id"].as_str().unwrap(),
            json!({"quote": "bridge cost $4 billion"}),
        )
        .await;
    let claim: Value = t
        .post(
            "/v1/claims",
            &json!({"text": "The bridge cost $4 billion.", "appearances": [pa["id"]]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = claim["id"].as_str().unwrap();
    let path = format!("/v1/claims/{id}/appearances");
    let res = t.post(&path, &json!({"passage_id": pb["id"]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let now: Value = res.json().await.unwrap();
    let order: Vec<&Value> = now["appearances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["passage"]["id"])
        .collect();
    assert_eq!(order, [&pa["id"], &pb["id"]]);
    let before = t.row_counts().await;
    let res = t.post(&path, &json!({"passage_id": pb["id"]})).await;
    assert_eq!(res.status(), StatusCode::OK, "already an appearance");
    assert_problem(
        t.post(&path, &json!({"passage_id": uuid::Uuid::now_v7()}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown-passage",
    )
    .await;
    assert_eq!(t.row_counts().await, before);
    // The claim list by source now finds it through either source.
    let by_b = t
        .get_json(&format!(
            "/v1/claims?source_id={}",
            b["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(by_b["items"][0]["id"], id);
}

async fn evidence_is_withdrawn_with_a_note_and_kept(backend: Backend) {
    let t = spawn_app(backend).await;
    let s = t
        .source("Report", "Construction is estimated at $2.1 billion.")
        .await;
    let p = t
        .passage(
            s["id"].as_str().unwrap(),
            json!({"quote": "estimated at $2.1 billion"}),
        )
        .await;
    let claim: Value = t
        .post(
            "/v1/claims",
            &json!({"text": "The bridge cost $4 billion."}),
        )
        .await
        .json()
        .await
        .unwrap();
    let cid = claim["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/v1/claims/{cid}/evidence"),
            &json!({"passage_id": p["id"], "stance": "contradicts"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let evidence: Value = res.json().await.unwrap();
    let eid = evidence["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/claims/{cid}/evidence/{eid}"));
    assert_eq!(t.get_json(&location).await["id"], eid);
    assert_eq!(evidence["withdrawn"], Value::Null);
    // Evidence is found under its own claim only.
    let other: Value = t
        .post("/v1/claims", &json!({"text": "Another claim."}))
        .await
        .json()
        .await
        .unwrap();
    let oid = other["id"].as_str().unwrap();
    assert_problem(
        t.get(&format!("/v1/claims/{oid}/evidence/{eid}")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    let withdraw = format!("{location}/withdraw");
    let before = t.row_counts().await;
    assert_problem(
        t.post(&withdraw, &json!({"note": " "})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_problem(
        t.post(
            &format!("/v1/claims/{oid}/evidence/{eid}/withdraw"),
            &json!({"note": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_eq!(t.row_counts().await, before);
    let res = t
        .post(
            &withdraw,
            &json!({"note": "The report was withdrawn by its publisher."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let withdrawn: Value = res.json().await.unwrap();
    assert_eq!(withdrawn["withdrawn"]["by"], "test-admin");
    assert_eq!(
        withdrawn["withdrawn"]["note"],
        "The report was withdrawn by its publisher."
    );
    let audit_len = audit_of(&t, "evidence", eid).await.len();
    let again = t.post(&withdraw, &json!({"note": "Again."})).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        again["withdrawn"]["note"],
        "The report was withdrawn by its publisher."
    );
    assert_eq!(
        audit_of(&t, "evidence", eid).await.len(),
        audit_len,
        "nothing written"
    );
    // Kept on the claim, shown withdrawn; a new review may not rest on it.
    let view = t.get_json(&format!("/v1/claims/{cid}")).await;
    assert_eq!(view["evidence"][0]["id"], eid);
    assert!(view["evidence"][0]["withdrawn"].is_object());
    let p = assert_problem(
        t.post(
            &format!("/v1/claims/{cid}/reviews"),
            &json!({"rating": "false", "summary": "No.", "evidence": [eid]}),
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
            .contains("withdrawn"),
        "{p}"
    );
}

async fn a_source_is_corrected_and_its_lookup_follows(backend: Backend) {
    let t = spawn_app(backend).await;
    let res = t
        .post(
            "/v1/sources",
            &json!({"title": "Bridge vote", "url": "https://news.example/bridge",
                    "publisher": "Gazete", "text": "The council voted 7-2.", "kind": "news"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let source: Value = res.json().await.unwrap();
    assert_eq!(source["kind"], "news");
    assert_eq!(source["warnings"], json!([]));
    let id = source["id"].as_str().unwrap();
    // A published verdict on a claim in it: the lookup shows the article.
    let passage = t.passage(id, json!({"quote": "voted 7-2"})).await;
    let claim: Value = t
        .post(
            "/v1/claims",
            &json!({"text": "The council voted 7-2.", "appearances": [passage["id"]]}),
        )
        .await
        .json()
        .await
        .unwrap();
    publish_verdict(&t, claim["id"].as_str().unwrap(), None).await;
    let path = format!("/v1/sources/{id}");
    let res = t.patch(
        &path,
        &json!({"publisher": "Gazette", "url": "https://news.example/2024/bridge", "kind": "opinion",
                "authors": ["A. Writer"], "published_at": "2024-05-01"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let now: Value = res.json().await.unwrap();
    assert_eq!(
        (&now["publisher"], &now["url"], &now["kind"], &now["title"]),
        (
            &json!("Gazette"),
            &json!("https://news.example/2024/bridge"),
            &json!("opinion"),
            &json!("Bridge vote")
        )
    );
    assert_eq!(now["version"]["number"], 1, "no new version");
    let last = audit_of(&t, "source", id).await.last().unwrap().clone();
    assert_eq!(last["changes"]["before"]["publisher"], "Gazete");
    assert_eq!(last["changes"]["after"]["publisher"], "Gazette");
    assert_eq!(last["changes"]["before"]["authors"], json!([]));
    assert!(
        last["changes"]["before"].get("title").is_none(),
        "unchanged fields are left out"
    );
    // The lookup follows the URL.
    let found = t
        .get_json("/v1/lookup?url=https%3A%2F%2Fnews.example%2F2024%2Fbridge")
        .await;
    assert_eq!(found["sources"][0]["id"], id, "{found}");
    let old = t
        .get_json("/v1/lookup?url=https%3A%2F%2Fnews.example%2Fbridge")
        .await;
    assert_eq!(old["sources"], json!([]), "{old}");
    // `null` clears; nothing changed writes nothing; a taken URL or a bad kind writes nothing.
    let res = t.patch(&path, &json!({"kind": null})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["kind"], Value::Null);
    let other = t.source("Other", "Another text.").await;
    let before = t.row_counts().await;
    assert_eq!(
        t.patch(&path, &json!({"publisher": "Gazette"}))
            .await
            .status(),
        StatusCode::OK
    );
    let p = assert_problem(
        t.patch(
            &format!("/v1/sources/{}", other["id"].as_str().unwrap()),
            &json!({"url": "https://news.example/2024/bridge"}),
        )
        .await,
        StatusCode::CONFLICT,
        "source-exists",
    )
    .await;
    assert_eq!(p["existing_id"], id);
    for body in [
        json!({"kind": "Op-Ed"}),
        json!({"text": "a new text"}),
        json!({"title": " "}),
    ] {
        assert_problem(
            t.patch(&path, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
        )
        .await;
    }
    assert_eq!(t.row_counts().await, before);
}

async fn a_source_with_known_text_is_stored_with_a_warning(backend: Backend) {
    let t = spawn_app(backend).await;
    let first = t
        .source("Wire story", "The same wire text, syndicated.")
        .await;
    let res = t
        .post(
            "/v1/sources",
            &json!({"title": "Wire story (copy)", "url": "https://other.example/wire",
                    "text": "The same wire text, syndicated."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "accepted");
    let copy: Value = res.json().await.unwrap();
    let w = copy["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{copy}");
    assert_eq!(w[0]["code"], "duplicate-text");
    assert_eq!(w[0]["source_id"], first["id"]);
    assert_eq!(w[0]["version"], 1);
    assert!(w[0]["message"].as_str().unwrap().contains("aliases"));
    // Reading the source later carries no warnings.
    let again = t
        .get_json(&format!("/v1/sources/{}", copy["id"].as_str().unwrap()))
        .await;
    assert!(again.get("warnings").is_none(), "{again}");
}

crate::both_backends!(
    a_source_is_corrected_and_its_lookup_follows,
    a_source_with_known_text_is_stored_with_a_warning,
    a_claim_is_corrected_with_before_and_after_in_the_audit,
    appearances_are_added_once,
    evidence_is_withdrawn_with_a_note_and_kept,
);

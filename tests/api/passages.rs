//! Passages: quotes and positions resolved to exact spans.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, assert_problem, cp_span, spawn_app};

const TEXT: &str = "The mayor said \u{201C}the bridge will cost $4 billion\u{201D} \u{2014} twice.\n\
Critics said the bridge will cost\nless. The mayor\u{2019}s office disagreed.";

async fn a_pasted_quote_resolves_to_the_exact_span(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t.source("Quotes", TEXT).await;
    let id = source["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": "  \"the bridge will cost $4 billion\" - twice. "}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let p: Value = res.json().await.unwrap();
    let exact = "\u{201C}the bridge will cost $4 billion\u{201D} \u{2014} twice.";
    let (start, end) = cp_span(TEXT, exact, 0);
    assert_eq!(
        (
            p["start"].as_u64().unwrap() as usize,
            p["end"].as_u64().unwrap() as usize
        ),
        (start, end)
    );
    assert_eq!(p["exact"], exact);
    assert_eq!(p["prefix"], "The mayor said ");
    assert_eq!(p["suffix"], "\nCritics said the bridge will co");
    assert_eq!(p["version"], 1);
    assert_eq!(p["source_id"], id);
    assert_eq!(
        location,
        format!("/v1/passages/{}", p["id"].as_str().unwrap())
    );
    let got: Value = t.get_json(&location).await;
    assert_eq!(got, p);

    // The same span again is the same passage.
    let before = t.row_counts().await;
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"start": start, "end": end}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["id"], p["id"]);
    assert_eq!(t.row_counts().await, before);
}

async fn positions_select_code_points(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t.source("Positions", TEXT).await;
    let id = source["id"].as_str().unwrap();
    let (start, end) = cp_span(TEXT, "mayor\u{2019}s office", 0);
    let p = t.passage(id, json!({"start": start, "end": end})).await;
    assert_eq!(p["exact"], "mayor\u{2019}s office");
    // Quote plus positions: the quote must be there.
    let p2 = t
        .passage(
            id,
            json!({"quote": "mayor's office", "start": start, "end": end}),
        )
        .await;
    assert_eq!(p2["id"], p["id"]);
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": "mayor's office", "start": 0, "end": 5}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "position-mismatch").await;
    assert_eq!(problem["candidates"][0]["start"], start);
}

async fn an_ambiguous_quote_lists_candidates_then_context_resolves_it(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t.source("Twice", TEXT).await;
    let id = source["id"].as_str().unwrap();
    let before = t.row_counts().await;
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": "the bridge will cost"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "ambiguous-quote").await;
    assert_eq!(t.row_counts().await, before);
    assert_eq!(problem["candidate_count"], 2);
    let candidates = problem["candidates"].as_array().unwrap();
    let first = cp_span(TEXT, "the bridge will cost", 0);
    let second_at = TEXT.find("Critics").unwrap();
    let second = cp_span(TEXT, "the bridge will cost", second_at);
    assert_eq!(
        (
            candidates[0]["start"].as_u64().unwrap() as usize,
            candidates[0]["end"].as_u64().unwrap() as usize
        ),
        first
    );
    assert_eq!(
        (
            candidates[1]["start"].as_u64().unwrap() as usize,
            candidates[1]["end"].as_u64().unwrap() as usize
        ),
        second
    );
    assert_eq!(
        candidates[1]["suffix"],
        "\nless. The mayor\u{2019}s office disagr"
    );

    let p = t
        .passage(
            id,
            json!({"quote": "the bridge will cost", "suffix": "less."}),
        )
        .await;
    assert_eq!(
        (
            p["start"].as_u64().unwrap() as usize,
            p["end"].as_u64().unwrap() as usize
        ),
        second
    );
    let p = t
        .passage(
            id,
            json!({"quote": "the bridge will cost", "prefix": "mayor said \""}),
        )
        .await;
    assert_eq!(
        (
            p["start"].as_u64().unwrap() as usize,
            p["end"].as_u64().unwrap() as usize
        ),
        first
    );
    // Context that matches neither occurrence.
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": "the bridge will cost", "suffix": "more"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "quote-not-found").await;
    assert_eq!(problem["candidate_count"], 2);
    // The hint is about the context, not about a `near_match` this answer does not have.
    assert!(problem.get("near_match").is_none(), "{problem}");
    let hint = problem["hint"].as_str().unwrap();
    assert!(
        hint.contains("candidates") && !hint.contains("near_match"),
        "{hint}"
    );
}

async fn a_missing_quote_says_where_the_closest_text_differs(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t.source("Near", TEXT).await;
    let id = source["id"].as_str().unwrap();
    let before = t.row_counts().await;
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": "the bridge will cost $5 billion"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "quote-not-found").await;
    let near = &problem["near_match"];
    assert_eq!(near["matched_part"], "start");
    assert_eq!(near["exact"], "the bridge will cost $");
    assert!(
        near["quote_reads"]
            .as_str()
            .unwrap()
            .starts_with("5 billion"),
        "{near}"
    );
    assert!(
        near["document_reads"]
            .as_str()
            .unwrap()
            .starts_with("4 billion"),
        "{near}"
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("4 billion"),
        "{problem}"
    );
    // Accents and case stay significant.
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": "THE MAYOR"}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "quote-not-found").await;
    assert_eq!(t.row_counts().await, before);
}

async fn bad_positions_and_selectors_are_refused(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t.source("Bounds", "short text").await;
    let id = source["id"].as_str().unwrap();
    let before = t.row_counts().await;
    let path = format!("/v1/sources/{id}/passages");
    for (start, end) in [(3, 3), (5, 2), (0, 11), (20, 30)] {
        let p = assert_problem(
            t.post(&path, &json!({"start": start, "end": end})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-position",
        )
        .await;
        assert_eq!(p["length"], 10);
    }
    let p = assert_problem(
        t.post(&path, &json!({"start": -1, "end": 2})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "start");
    let p = assert_problem(
        t.post(&path, &json!({"start": 1})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert!(
        p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "end"),
        "{p}"
    );
    assert_problem(
        t.post(&path, &json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    for blank in ["", "   ", "\n\t\u{00A0}"] {
        let p = assert_problem(
            t.post(&path, &json!({"quote": blank})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "quote");
    }
    assert_problem(
        t.post(&path, &json!({"quote": "short", "version": 2}))
            .await,
        StatusCode::NOT_FOUND,
        "unknown-version",
    )
    .await;
    assert_problem(
        t.post(&path, &json!({"quote": "short", "version": 0}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    let missing = uuid::Uuid::now_v7();
    assert_problem(
        t.post(
            &format!("/v1/sources/{missing}/passages"),
            &json!({"quote": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_problem(
        t.get(&format!("/v1/passages/{missing}")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
    assert_eq!(t.row_counts().await, before);
}

async fn passages_stay_bound_to_their_version(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t
        .source("Changing", "The rate was 5 percent last year.")
        .await;
    let id = source["id"].as_str().unwrap();
    let old = t.passage(id, json!({"quote": "5 percent"})).await;
    assert_eq!(old["version"], 1);
    let res = t
        .post(
            &format!("/v1/sources/{id}/versions"),
            &json!({"text": "Correction: the rate was 6 percent last year."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Default is the latest version, where the old quote no longer occurs.
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": "5 percent"}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "quote-not-found").await;
    let new = t.passage(id, json!({"quote": "6 percent"})).await;
    assert_eq!(new["version"], 2);
    assert_eq!(new["start"], 25);
    // An explicit older version still resolves.
    let again = t
        .passage(id, json!({"quote": "5 percent", "version": 1}))
        .await;
    assert_eq!(again["id"], old["id"]);
    let stored: Value = t
        .get(&format!("/v1/passages/{}", old["id"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["version"], 1);
    assert_eq!(stored["exact"], "5 percent");
}

/// Two ways to place an elided quote's parts is ambiguous, with both; occurrences whose context
/// is the same get a hint that asks for positions or a longer quote, not a prefix or suffix.
async fn elided_and_twin_quotes_stay_explicitly_ambiguous(backend: Backend) {
    let t = spawn_app(backend).await;
    let text = "the cost was high, the cost was four billion dollars";
    let source = t.source("Elided", text).await;
    let id = source["id"].as_str().unwrap();
    let before = t.row_counts().await;
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": "the cost \u{2026} billion"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "ambiguous-quote").await;
    assert_eq!(problem["candidate_count"], 2);
    let starts: Vec<u64> = problem["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["start"].as_u64().unwrap())
        .collect();
    assert_eq!(starts, [0, 19]);
    assert!(problem["hint"].as_str().unwrap().contains("prefix"));
    assert_eq!(t.row_counts().await, before);
    let p = t
        .passage(
            id,
            json!({"quote": "the cost \u{2026} billion", "prefix": "high,"}),
        )
        .await;
    assert_eq!(p["exact"], "the cost was four billion");
    assert_eq!(p["pasted"], "the cost \u{2026} billion");

    let pad = "p".repeat(40);
    let twins = format!("{pad} twin words {pad} twin words {pad}");
    let source = t.source("Twins", &twins).await;
    let id = source["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": "twin words"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "ambiguous-quote").await;
    let hint = problem["hint"].as_str().unwrap();
    assert!(
        hint.contains("`start` and `end`") && hint.contains("longer quote"),
        "{hint}"
    );
    assert!(!hint.contains("Send again with `prefix`"), "{hint}");
    // A passage chosen by positions keeps no pasted quote.
    let (start, end) = cp_span(&twins, "twin words", 50);
    let p = t.passage(id, json!({"start": start, "end": end})).await;
    assert_eq!(p["pasted"], Value::Null);
}

crate::both_backends!(
    elided_and_twin_quotes_stay_explicitly_ambiguous,
    a_pasted_quote_resolves_to_the_exact_span,
    positions_select_code_points,
    an_ambiguous_quote_lists_candidates_then_context_resolves_it,
    a_missing_quote_says_where_the_closest_text_differs,
    bad_positions_and_selectors_are_refused,
    passages_stay_bound_to_their_version,
);

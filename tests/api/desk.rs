//! The fact-checker's desk: the review queue with its filters, a claim's reviews, a source's
//! passages, and the steps a caller may take on a review.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, client_with_key, spawn_app};
use claimtrail::domain::access::Role;

async fn claim(t: &TestApp, text: &str) -> String {
    t.claim(json!({"text": text})).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn draft(client: &reqwest::Client, t: &TestApp, claim: &str) -> Value {
    let res = client
        .post(t.url(&format!("/v1/claims/{claim}/reviews")))
        .json(&json!({"rating": "false", "summary": "No."}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_review_queue_filters_and_pages(backend: Backend) {
    let t = spawn_app(backend).await;
    let checker = client_with_key(&t.key(Role::FactChecker).await);
    let (a, b) = (claim(&t, "Claim A.").await, claim(&t, "Claim B.").await);
    let r1 = draft(&checker, &t, &a).await;
    let r2 = draft(&t.client, &t, &a).await;
    let r3 = draft(&checker, &t, &b).await;
    let submitted = checker
        .post(t.url(&format!(
            "/v1/reviews/{}/transitions",
            r3["id"].as_str().unwrap()
        )))
        .json(&json!({"to": "in_review", "revision": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), StatusCode::OK);
    let all = t.get_json("/v1/reviews").await;
    assert_eq!(
        ids(&all),
        [&r1["id"], &r2["id"], &r3["id"]].map(|v| v.as_str().unwrap().to_owned())
    );
    assert!(all["items"][0].get("history").is_some());
    let queue = t.get_json("/v1/reviews?state=in_review").await;
    assert_eq!(ids(&queue), [r3["id"].as_str().unwrap()]);
    // Queue items say what they are about.
    assert_eq!(queue["items"][0]["claim_text"], "Claim B.");
    assert_eq!(queue["items"][0]["claimant"], Value::Null);
    assert_eq!(all["items"][0]["claim_text"], "Claim A.");
    // Several states: comma-separated or repeated, the same answer.
    let everything = ids(&all);
    for query in [
        "state=draft,in_review",
        "state=draft&state=in_review",
        "state=in_review&state=draft&state=draft",
    ] {
        let got = t.get_json(&format!("/v1/reviews?{query}")).await;
        assert_eq!(ids(&got), everything, "{query}");
    }
    let drafts = t.get_json("/v1/reviews?state=draft&state=approved").await;
    assert_eq!(ids(&drafts).len(), 2);
    let claims = t.get_json("/v1/claims?state=draft&state=in_review").await;
    assert_eq!(claims["items"].as_array().unwrap().len(), 2);
    let claims = t.get_json("/v1/claims?state=in_review,published").await;
    assert_eq!(ids(&claims), [b.as_str()]);
    assert_problem(
        t.get("/v1/reviews?state=draft,lost").await,
        StatusCode::BAD_REQUEST,
        "invalid-query",
    )
    .await;
    let by = t.get_json("/v1/reviews?author=test-fact_checker").await;
    assert_eq!(ids(&by).len(), 2);
    let of_a = t.get_json(&format!("/v1/reviews?claim_id={a}")).await;
    assert_eq!(ids(&of_a).len(), 2);
    let later = t
        .get_json(&format!(
            "/v1/reviews?updated_since={}",
            submitted.json::<Value>().await.unwrap()["updated_at"]
                .as_str()
                .unwrap()
        ))
        .await;
    assert_eq!(ids(&later), [r3["id"].as_str().unwrap()]);
    // A date is its first instant in UTC: everything changed since the first review's day,
    // nothing from the day after the last change.
    let first_at = r1["created_at"].as_str().unwrap();
    let today = time::Date::parse(
        &first_at[..10],
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    let since_today = t
        .get_json(&format!("/v1/reviews?updated_since={today}"))
        .await;
    assert_eq!(ids(&since_today).len(), 3);
    let last_at = t.get_json("/v1/reviews").await["items"][2]["updated_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let tomorrow = time::Date::parse(
        &last_at[..10],
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap()
    .next_day()
    .unwrap();
    let since_tomorrow = t
        .get_json(&format!("/v1/reviews?updated_since={tomorrow}"))
        .await;
    assert_eq!(ids(&since_tomorrow), Vec::<String>::new());
    // Pages of one.
    let first = t.get_json("/v1/reviews?limit=1").await;
    assert_eq!(ids(&first), [r1["id"].as_str().unwrap()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = t
        .get_json(&format!("/v1/reviews?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(ids(&second), [r2["id"].as_str().unwrap()]);
    assert_problem(
        t.get("/v1/reviews?updated_since=yesterday").await,
        StatusCode::BAD_REQUEST,
        "invalid-query",
    )
    .await;
    assert_problem(
        t.get("/v1/reviews?state=lost").await,
        StatusCode::BAD_REQUEST,
        "invalid-query",
    )
    .await;
    // A claim's reviews, with history.
    let reviews = t.get_json(&format!("/v1/claims/{b}/reviews")).await;
    assert_eq!(ids(&reviews), [r3["id"].as_str().unwrap()]);
    assert_eq!(reviews["items"][0]["history"].as_array().unwrap().len(), 2);
    assert_eq!(reviews["next_cursor"], Value::Null);
    let missing = "01a21f00-0000-7000-8000-000000000000";
    assert_problem(
        t.get(&format!("/v1/claims/{missing}/reviews")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
}

async fn a_review_says_which_steps_the_caller_may_take(backend: Backend) {
    let t = spawn_app(backend).await;
    let checker_key = t.key(Role::FactChecker).await;
    let checker = client_with_key(&checker_key);
    let editor = client_with_key(&t.key(Role::Editor).await);
    let c = claim(&t, "Claim C.").await;
    let review = draft(&checker, &t, &c).await;
    let id = review["id"].as_str().unwrap();
    let steps = |client: reqwest::Client| {
        let url = t.url(&format!("/v1/reviews/{id}"));
        async move {
            let r: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            r["allowed_transitions"].clone()
        }
    };
    assert_eq!(
        steps(checker.clone()).await,
        json!([{"to": "in_review", "needs_note": false}, {"to": "withdrawn", "needs_note": true}])
    );
    let res = checker
        .post(t.url(&format!("/v1/reviews/{id}/transitions")))
        .json(&json!({"to": "in_review", "revision": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The author may not decide, only withdraw; another editor may approve, send it back or
    // withdraw it (with a note).
    assert_eq!(
        steps(checker.clone()).await,
        json!([{"to": "withdrawn", "needs_note": true}])
    );
    assert_eq!(
        steps(editor.clone()).await,
        json!([
            {"to": "changes_requested", "needs_note": true},
            {"to": "approved", "needs_note": false},
            {"to": "withdrawn", "needs_note": true}
        ])
    );
}

use crate::helpers::transition as step;

/// A review of a claim that has a published verdict, and is not its correction, cannot be
/// published: it is warned of at drafting and at submission, and can be withdrawn.
async fn a_rival_review_is_warned_of_and_withdrawn(backend: Backend) {
    let t = crate::helpers::spawn_one_person_desk(backend).await;
    let c = claim(&t, "The bridge cost $4 billion.").await;
    let mut verdict = draft(&t.client, &t, &c).await;
    assert_eq!(verdict["warnings"], json!([]), "nothing published yet");
    for to in ["in_review", "approved", "published"] {
        let res = step(&t.client, &t, &verdict, json!({"to": to})).await;
        assert_eq!(res.status(), StatusCode::OK);
        verdict = res.json().await.unwrap();
    }
    let published = verdict["id"].as_str().unwrap().to_owned();
    let checker = client_with_key(&t.key(Role::FactChecker).await);
    let rival = draft(&checker, &t, &c).await;
    let warning = |r: &Value| r["warnings"].as_array().unwrap().clone();
    assert_eq!(warning(&rival).len(), 1, "{rival}");
    assert_eq!(warning(&rival)[0]["code"], "verdict-exists");
    assert_eq!(warning(&rival)[0]["review_id"], published.as_str());
    assert!(
        warning(&rival)[0]["message"]
            .as_str()
            .unwrap()
            .contains("corrects")
    );
    let res = step(&checker, &t, &rival, json!({"to": "in_review"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let rival: Value = res.json().await.unwrap();
    assert_eq!(
        warning(&rival)[0]["code"],
        "verdict-exists",
        "warned at submission too"
    );
    let rid = rival["id"].as_str().unwrap().to_owned();
    assert_eq!(
        warning(&t.get_json(&format!("/v1/reviews/{rid}")).await).len(),
        1
    );
    // A correction of the verdict is not warned of.
    let res = checker
        .post(t.url(&format!("/v1/claims/{c}/reviews")))
        .json(&json!({"rating": "true", "summary": "Corrected.", "corrects": published}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["warnings"], json!([]));
    // Withdrawing needs a note, and only the author or an editor may do it.
    let other = client_with_key(&t.person_key("other-checker", Role::FactChecker).await);
    let before = t.row_counts().await;
    assert_problem(
        step(&checker, &t, &rival, json!({"to": "withdrawn"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_problem(
        step(
            &other,
            &t,
            &rival,
            json!({"to": "withdrawn", "note": "not mine"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert_eq!(t.row_counts().await, before);
    let res = step(
        &checker,
        &t,
        &rival,
        json!({"to": "withdrawn", "note": "Already checked; drafting a correction instead."}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let withdrawn: Value = res.json().await.unwrap();
    assert_eq!(withdrawn["state"], "withdrawn");
    assert_eq!(withdrawn["warnings"], json!([]));
    let last = withdrawn["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["note"],
        "Already checked; drafting a correction instead."
    );
    let now = t.get_json(&format!("/v1/reviews/{rid}")).await;
    assert_eq!(now["allowed_transitions"], json!([]), "withdrawn is final");
    let queue = t.get_json("/v1/reviews?state=withdrawn").await;
    assert_eq!(ids(&queue), [rid.as_str()]);
    // The claim still shows its published verdict.
    let item = t.get_json("/v1/claims?state=published").await;
    assert_eq!(item["items"][0]["review"]["id"], published.as_str());
}

async fn a_sources_passages_are_listed(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t.source("Minutes", "One. Two. Three.").await;
    let sid = source["id"].as_str().unwrap();
    let mut made = Vec::new();
    for q in ["One.", "Two.", "Three."] {
        made.push(
            t.passage(sid, json!({"quote": q})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let first = t
        .get_json(&format!("/v1/sources/{sid}/passages?limit=2"))
        .await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = t
        .get_json(&format!(
            "/v1/sources/{sid}/passages?limit=2&cursor={cursor}"
        ))
        .await;
    let mut all = ids(&first);
    all.extend(ids(&rest));
    assert_eq!(all, made);
    assert_eq!(first["items"][1]["exact"], "Two.");
    assert_eq!(rest["next_cursor"], Value::Null);
    let missing = "01a21f00-0000-7000-8000-000000000000";
    assert_problem(
        t.get(&format!("/v1/sources/{missing}/passages")).await,
        StatusCode::NOT_FOUND,
        "not-found",
    )
    .await;
}

async fn claims_are_filtered_and_carry_their_current_review(backend: Backend) {
    let t = crate::helpers::spawn_one_person_desk(backend).await;
    let source = t
        .source("Minutes", "The bridge cost $4 billion. The road cost less.")
        .await;
    let sid = source["id"].as_str().unwrap();
    let passage = t
        .passage(sid, json!({"quote": "The bridge cost $4 billion."}))
        .await;
    let res = t
        .post(
            "/v1/claims",
            &json!({"text": "The bridge cost $4 billion.", "appearances": [passage["id"]]}),
        )
        .await;
    let on_source: Value = res.json().await.unwrap();
    let on_source = on_source["id"].as_str().unwrap().to_owned();
    let drafted = claim(&t, "The road cost less.").await;
    let bare = claim(&t, "Nobody checked this.").await;
    // Publish a verdict on the first, draft a review of the second.
    let mut review = draft(&t.client, &t, &on_source).await;
    let rid = review["id"].as_str().unwrap().to_owned();
    for to in ["in_review", "approved", "published"] {
        let res = t
            .post(
                &format!("/v1/reviews/{rid}/transitions"),
                &json!({"to": to, "revision": review["revision"]}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        review = res.json().await.unwrap();
    }
    let draft_of_second = draft(&t.client, &t, &drafted).await;
    let all = t.get_json("/v1/claims").await;
    assert_eq!(
        ids(&all),
        [&on_source, &drafted, &bare].map(|s| s.to_string())
    );
    assert_eq!(all["items"][0]["review"]["id"], rid.as_str());
    assert_eq!(all["items"][0]["review"]["state"], "published");
    assert_eq!(all["items"][0]["review"]["rating"]["key"], "false");
    assert_eq!(all["items"][1]["review"]["state"], "draft");
    assert_eq!(all["items"][1]["review"]["id"], draft_of_second["id"]);
    assert_eq!(all["items"][2]["review"], Value::Null);
    let of_source = t.get_json(&format!("/v1/claims?source_id={sid}")).await;
    assert_eq!(ids(&of_source), [on_source.as_str()]);
    let checked = t.get_json("/v1/claims?has_verdict=true").await;
    assert_eq!(ids(&checked), [on_source.as_str()]);
    let unchecked = t.get_json("/v1/claims?has_verdict=false").await;
    assert_eq!(ids(&unchecked), [drafted.as_str(), bare.as_str()]);
    let drafts = t.get_json("/v1/claims?state=draft").await;
    assert_eq!(ids(&drafts), [drafted.as_str()]);
    let both = t
        .get_json(&format!("/v1/claims?source_id={sid}&has_verdict=false"))
        .await;
    assert_eq!(ids(&both), Vec::<String>::new());
    let paged = t.get_json("/v1/claims?has_verdict=false&limit=1").await;
    assert_eq!(ids(&paged), [drafted.as_str()]);
    let cursor = paged["next_cursor"].as_str().unwrap();
    let next = t
        .get_json(&format!(
            "/v1/claims?has_verdict=false&limit=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(ids(&next), [bare.as_str()]);
}

/// Every list in the contract takes `cursor` and `limit` (1 to 200) and answers
/// `{items, next_cursor}`; walking pages of one gives what one large page gives.
async fn every_list_pages_the_same_way(backend: Backend) {
    let t = crate::helpers::spawn_one_person_desk(backend).await;
    // Two of everything a list shows.
    let s = t.source("Paged", "One fact. Another fact.").await;
    let sid = s["id"].as_str().unwrap().to_owned();
    t.post(
        &format!("/v1/sources/{sid}/versions"),
        &json!({"text": "One fact. Another fact, revised."}),
    )
    .await;
    let p = t
        .passage(&sid, json!({"quote": "One fact.", "version": 1}))
        .await;
    let pid = p["id"].as_str().unwrap().to_owned();
    t.passage(&sid, json!({"quote": "Another fact", "version": 1}))
        .await;
    t.source("Paged too", "A second source.").await;
    t.post(
        &format!("/v1/sources/{sid}/versions"),
        &json!({"text": "One fact. A third text."}),
    )
    .await;
    for i in 0..2 {
        let c = claim(&t, &format!("Paged claim {i}.")).await;
        draft(&t.client, &t, &c).await;
    }
    t.person_key("paged-a", Role::Editor).await;
    t.person_key("paged-a", Role::Auditor).await;
    let scale = json!({"id": "paged", "name": "Paged", "ratings": [
        {"key": "yes", "label": "Yes", "value": 1.0}, {"key": "no", "label": "No", "value": 0.0}]});
    assert_eq!(
        t.post("/v1/rating-scales", &scale).await.status(),
        StatusCode::CREATED
    );
    let doc: Value = serde_json::from_str(&claimtrail::http::openapi_json()).unwrap();
    let mut checked = Vec::new();
    let mut ordered = Vec::new();
    for (template, ops) in doc["paths"].as_object().unwrap() {
        let Some(get) = ops.get("get") else { continue };
        let params = get["parameters"].as_array().cloned().unwrap_or_default();
        let Some(limit) = params.iter().find(|p| p["name"] == "limit") else {
            continue;
        };
        // The feed pages by sequence number (tests/api/cms.rs); endpoints and their deliveries
        // need a receiver (tests/api/webhooks.rs), and page as keys do.
        // Similar claims are the best `limit` (up to 50), a ranking rather than a list.
        if template == "/v1/changes"
            || template.starts_with("/v1/webhooks")
            || template == "/v1/claims/similar"
        {
            continue;
        }
        assert_eq!(limit["schema"]["minimum"], 1, "{template}");
        assert_eq!(limit["schema"]["maximum"], 200, "{template}");
        assert!(params.iter().any(|p| p["name"] == "cursor"), "{template}");
        let path = template
            .replace(
                "{id}",
                if template.starts_with("/v1/passages") {
                    &pid
                } else {
                    &sid
                },
            )
            .replace("{handle}", "paged-a");
        let joiner = if path.contains('?') { '&' } else { '?' };
        let whole = t.get_json(&format!("{path}{joiner}limit=200")).await;
        let all = whole["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: {whole}"))
            .clone();
        assert!(whole["next_cursor"].is_null(), "{path}");
        assert!(all.len() >= 2, "{path} needs two items to page: {whole}");
        let mut walked = Vec::new();
        let mut url = format!("{path}{joiner}limit=1");
        loop {
            let page = t.get_json(&url).await;
            walked.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => url = format!("{path}{joiner}limit=1&cursor={c}"),
                None => break,
            }
            assert!(walked.len() <= all.len(), "{path} pages past its end");
        }
        assert_eq!(walked, all, "{path}");
        // Newest first: the same items, the other way round, page by page too.
        if params.iter().any(|p| p["name"] == "order") {
            let mut walked = Vec::new();
            let mut url = format!("{path}{joiner}order=desc&limit=1");
            loop {
                let page = t.get_json(&url).await;
                walked.extend(page["items"].as_array().unwrap().iter().cloned());
                match page["next_cursor"].as_str() {
                    Some(c) => url = format!("{path}{joiner}order=desc&limit=1&cursor={c}"),
                    None => break,
                }
                assert!(walked.len() <= all.len(), "{path} pages past its end");
            }
            walked.reverse();
            assert_eq!(walked, all, "{path} newest first");
            ordered.push(template.clone());
        }
        for bad in ["limit=0", "limit=201", "cursor=%21%21", "order=sideways"] {
            let res = t.get(&format!("{path}{joiner}{bad}")).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path} {bad}");
        }
        checked.push(template.clone());
    }
    for list in [
        "/v1/keys",
        "/v1/rating-scales",
        "/v1/sources/{id}/versions",
        "/v1/passages/{id}/placements",
        "/v1/people/{handle}/keys",
        "/v1/reviews",
        "/v1/people",
        "/v1/audit",
        "/v1/sources",
        "/v1/claims",
    ] {
        assert!(
            checked.iter().any(|c| c == list),
            "{list} was not checked: {checked:?}"
        );
        assert!(ordered.iter().any(|c| c == list), "{list} has no `order`");
    }
}

crate::both_backends!(
    every_list_pages_the_same_way,
    claims_are_filtered_and_carry_their_current_review,
    the_review_queue_filters_and_pages,
    a_review_says_which_steps_the_caller_may_take,
    a_sources_passages_are_listed,
    a_rival_review_is_warned_of_and_withdrawn,
);

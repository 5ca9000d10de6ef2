//! What a newsroom's CMS (an integration key) can obtain: only what is published, and every
//! change to it announced, so that a cache keyed on the feed's items is exact.

use std::collections::BTreeMap;
use std::time::Duration;

use claimtrail::domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, client_with_key, publish_verdict, spawn_app, spawn_with_webhooks,
};

/// Carried by everything the desk has not published.
const MARK: &str = "UNPUBLISHED-7Q";

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

fn encode(url: &str) -> String {
    percent_encoding::utf8_percent_encode(url, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.expect("JSON");
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// A source with a URL, a passage quoting `quote`, and a claim appearing there.
async fn claim_in(t: &TestApp, title: &str, url: &str, text: &str, claim: &str) -> [String; 3] {
    let source = created(
        t.post(
            "/v1/sources",
            &json!({"title": title, "url": url, "publisher": title, "text": text}),
        )
        .await,
    )
    .await;
    let passage = t.passage(&id(&source), json!({"quote": text})).await;
    let claim = created(
        t.post(
            "/v1/claims",
            &json!({"text": claim, "claimant": title, "appearances": [passage["id"]]}),
        )
        .await,
    )
    .await;
    [id(&source), id(&passage), id(&claim)]
}

/// Takes a review to `to` through the workflow (a one-person desk).
async fn step(t: &TestApp, review: &str, to: &str, note: Option<&str>) -> Value {
    let current = t.get_json(&format!("/v1/reviews/{review}")).await;
    let body = json!({"to": to, "note": note});
    created(crate::helpers::transition(&t.client, t, &current, body).await).await
}

/// Drafts a review of `claim` with `summary`.
async fn draft(t: &TestApp, claim: &str, summary: &str, corrects: Option<&str>) -> String {
    let review = created(
        t.post(
            &format!("/v1/claims/{claim}/reviews"),
            &json!({"rating": "false", "summary": summary, "corrects": corrects}),
        )
        .await,
    )
    .await;
    id(&review)
}

/// Seeds unpublished work carrying [`MARK`] everywhere the desk can write text (claims,
/// claimants, sources, URLs, reviews at every unpublished stage, step notes, evidence notes,
/// people and key names) beside one published verdict, then walks every operation an
/// integration may call with every id and URL there is: no answer holds the mark. Webhook
/// deliveries are read as a receiver gets them.
async fn integrations_never_see_unpublished_work(backend: Backend) {
    let t = spawn_with_webhooks(backend, &[Duration::from_millis(50)]).await;
    let (hook, got) = crate::webhooks::receiver(vec![]).await;
    let events: Vec<&str> = claimtrail::domain::webhooks::event_types();
    created(
        t.post("/v1/webhooks", &json!({"url": hook, "events": events}))
            .await,
    )
    .await;

    // Published: a verdict on a claim in a public article, at a fact-check page.
    let [s1, p1, c1] = claim_in(
        &t,
        "Public article",
        "https://public.example/a",
        "The bridge cost $4 billion.",
        "The bridge cost $4 billion.",
    )
    .await;
    let page = "https://desk.example.org/checks/bridge";
    let r1 = id(&publish_verdict(&t, &c1, Some(page)).await);

    // Unpublished, all marked.
    let mark_url = format!("https://news.example/{MARK}");
    let [s2, p2, c2] = claim_in(
        &t,
        &format!("{MARK} source"),
        &mark_url,
        &format!("The {MARK} figure is 12."),
        &format!("The {MARK} figure is 12."),
    )
    .await;
    let alias = format!("https://amp.example/{MARK}/amp-copy");
    created(
        t.post(&format!("/v1/sources/{s2}/aliases"), &json!({"url": alias}))
            .await,
    )
    .await;
    // Claims in the public article, at every unpublished stage.
    let mut unpublished = Vec::new();
    let mut marked_claims = Vec::new();
    for (n, stage) in [
        "draft",
        "in_review",
        "changes_requested",
        "approved",
        "withdrawn",
    ]
    .iter()
    .enumerate()
    {
        let claim = created(
            t.post(
                "/v1/claims",
                &json!({"text": format!("{MARK} claim {n}"), "claimant": format!("{MARK} person"),
                        "appearances": [p1]}),
            )
            .await,
        )
        .await;
        let review = draft(&t, &id(&claim), &format!("{MARK} summary {n}"), None).await;
        let path: &[(&str, Option<String>)] = match *stage {
            "draft" => &[],
            "in_review" => &[("in_review", None)],
            "changes_requested" => &[
                ("in_review", None),
                ("changes_requested", Some(format!("{MARK} note"))),
            ],
            "approved" => &[
                ("in_review", None),
                ("approved", Some(format!("{MARK} approval"))),
            ],
            _ => &[("withdrawn", Some(format!("{MARK} withdrawal")))],
        };
        for (to, note) in path {
            step(&t, &review, to, note.as_deref()).await;
        }
        marked_claims.push(id(&claim));
        unpublished.push(review);
    }
    // A correction in progress of the published verdict, and a note on its evidence.
    let correction = draft(&t, &c1, &format!("{MARK} correction"), Some(&r1)).await;
    step(&t, &correction, "in_review", Some(&format!("{MARK} step"))).await;
    unpublished.push(correction);
    created(
        t.post(
            &format!("/v1/claims/{c1}/evidence"),
            &json!({"passage_id": p1, "stance": "supports", "note": format!("{MARK} evidence")}),
        )
        .await,
    )
    .await;
    // A review of the unpublished claim, and people and keys named with the mark.
    unpublished.push(draft(&t, &c2, &format!("{MARK} other"), None).await);
    created(
        t.post(
            "/v1/people",
            &json!({"handle": "marked-person", "display_name": format!("{MARK} name")}),
        )
        .await,
    )
    .await;
    created(
        t.post(
            "/v1/keys",
            &json!({"name": format!("{MARK} key"), "role": "editor", "person": "marked-person"}),
        )
        .await,
    )
    .await;

    // Every GET an integration may call, with every id and URL there is.
    let cms = client_with_key(&t.key(Role::Integration).await);
    let mut reviews = unpublished.clone();
    reviews.push(r1.clone());
    let urls = [
        "https://public.example/a".to_owned(),
        page.to_owned(),
        mark_url.clone(),
        alias.clone(),
    ];
    let mut walked = Vec::new();
    let mut answers = Vec::new();
    for op in claimtrail::http::operations::OPERATIONS {
        if op.method != "get" || op.permission.is_none() || !op.allows(Role::Integration) {
            continue;
        }
        let paths: Vec<String> = if op.path.contains("{id}") {
            assert!(op.path.starts_with("/v1/reviews/"), "{}: fill in", op.path);
            reviews.iter().map(|r| op.path.replace("{id}", r)).collect()
        } else if op.path == "/v1/lookup" {
            urls.iter()
                .map(|u| format!("/v1/lookup?url={}", encode(u)))
                .collect()
        } else if op.path == "/v1/changes" {
            vec!["/v1/changes?since=0&limit=200".into()]
        } else {
            vec![op.path.to_owned()]
        };
        assert!(!paths.iter().any(|p| p.contains('{')), "{}", op.path);
        for path in paths {
            let res = cms.get(t.url(&path)).send().await.unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            // The lookup names the URL it was asked, in lookup form: that is the caller's own.
            let shown = match serde_json::from_str::<Value>(&body) {
                Ok(Value::Object(mut answer)) if op.path == "/v1/lookup" => {
                    answer.remove("url");
                    Value::Object(answer).to_string()
                }
                _ => body.clone(),
            };
            assert!(
                !shown.contains(MARK),
                "GET {path} ({status}) shows unpublished work to an integration: {body}"
            );
            answers.push((path, status, body));
        }
        walked.push(op.path);
    }
    assert_eq!(
        walked,
        [
            "/v1/reviews/{id}",
            "/v1/reviews/{id}/evidence",
            "/v1/reviews/{id}/claimreview",
            "/v1/reviews/{id}/claimreview/check",
            "/v1/rating-scales",
            "/v1/lookup",
            "/v1/changes",
        ]
    );
    // The walk reached the published verdict (an answer that hides everything would pass).
    let public = |path: &str| {
        answers
            .iter()
            .find(|(p, _, _)| p == path)
            .map(|(_, s, b)| (*s, b.clone()))
            .unwrap()
    };
    let (status, body) = public(&format!("/v1/lookup?url={}", encode(&urls[0])));
    assert_eq!(status, StatusCode::OK);
    let lookup: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(lookup["sources"][0]["id"], s1.as_str(), "{lookup}");
    assert_eq!(lookup["claims"].as_array().unwrap().len(), 1, "{lookup}");
    assert_eq!(lookup["claims"][0]["claim"]["id"], c1.as_str());
    assert_eq!(lookup["claims"][0]["verdict"]["review_id"], r1.as_str());
    let (status, _) = public(&format!("/v1/reviews/{r1}/claimreview"));
    assert_eq!(status, StatusCode::OK);
    for review in &unpublished {
        let (status, _) = public(&format!("/v1/reviews/{review}"));
        assert_eq!(status, StatusCode::NOT_FOUND, "{review}");
    }
    let (_, feed) = public("/v1/changes?since=0&limit=200");
    assert!(feed.contains(&r1), "{feed}");
    // Editorial roles still see the desk's work in the lookup's sources (the lookup is the
    // public view for every role) and through their own endpoints.
    let view = t
        .get_json(&format!("/v1/claims/{}", marked_claims[0]))
        .await;
    assert!(view.to_string().contains(MARK));
    let _ = (s2, p2);

    // Webhook deliveries: every one a receiver got (the publication at least) is clean.
    for _ in 0..300 {
        if !got.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered = got.lock().unwrap().clone();
    assert!(!delivered.is_empty(), "no delivery within 15 s");
    for (_, body) in delivered {
        let body = String::from_utf8_lossy(&body).into_owned();
        assert!(
            !body.contains(MARK),
            "a webhook carries unpublished work: {body}"
        );
    }
}

/// What an integration obtains: the lookup of each URL and each review's ClaimReview (status
/// and body).
type Answers = BTreeMap<String, (u16, Value)>;

struct World {
    cms: reqwest::Client,
    token: String,
    urls: Vec<String>,
    reviews: Vec<String>,
}

impl World {
    /// The answers as served (through the node's in-memory answers), and as a node that
    /// keeps nothing reads them from the database: the two must agree.
    async fn answers(&self, t: &TestApp) -> Answers {
        let store = claimtrail::store::Store::connect(&t.db_url, 2)
            .await
            .expect("a second node");
        let fresh = claimtrail::app::App::new(store, 1 << 20);
        let mut out = Answers::new();
        for url in &self.urls {
            let res = self
                .cms
                .get(t.url(&format!("/v1/lookup?url={}", encode(url))))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let served: Value = res.json().await.unwrap();
            let (_, truth) = fresh.lookup_as(&self.token, url).await.expect("lookup");
            let truth: Value = serde_json::from_slice(&truth.json).unwrap();
            assert_eq!(served, truth, "the served lookup of {url} is stale");
            out.insert(format!("lookup {url}"), (status, served));
        }
        fresh.close().await;
        for review in &self.reviews {
            let res = self
                .cms
                .get(t.url(&format!("/v1/reviews/{review}/claimreview")))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            out.insert(format!("claimreview {review}"), (status, body));
        }
        out
    }

    /// The integration's feed after `seq`, and its newest seq.
    async fn feed(&self, t: &TestApp, seq: i64) -> (Vec<Value>, i64) {
        let res = self
            .cms
            .get(t.url(&format!("/v1/changes?since={seq}&limit=200")))
            .send()
            .await
            .unwrap();
        let head: i64 = res.headers()["changes-head"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let items = res
            .text()
            .await
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (items, head)
    }
}

/// Every write operation of the contract, done once against a world with a published
/// verdict: every integration answer (lookup of each URL, each ClaimReview) that changed is
/// named by a new feed item (its URL in lookup form in `data.urls`, the review as the item's
/// entity or in `data.reviews`), and the served lookups equal what a node that keeps nothing
/// reads.
async fn every_change_integrations_can_see_is_announced(backend: Backend) {
    let t = spawn_app(backend).await;
    let token = t.key(Role::Integration).await;
    let [s1, p1, c1] = claim_in(
        &t,
        "Bridge article",
        "https://news.example/bridge",
        "The bridge cost $4 billion.",
        "The bridge cost $4 billion.",
    )
    .await;
    let r1 = id(&publish_verdict(&t, &c1, Some("https://desk.example.org/checks/1")).await);
    let [s2, p2, c2] = claim_in(
        &t,
        "Roads article",
        "https://news.example/roads",
        "Roads cost $2 billion.",
        "Roads cost $2 billion.",
    )
    .await;
    let mut world = World {
        cms: client_with_key(&token),
        token,
        urls: [
            "https://news.example/bridge",
            "https://news.example/roads",
            "https://news.example/bridge-2026",
            "https://amp.example/bridge",
            "https://desk.example.org/checks/1",
            "https://desk.example.org/checks/2",
            "https://news.example/new",
        ]
        .map(str::to_owned)
        .to_vec(),
        reviews: vec![r1.clone()],
    };
    let editor = client_with_key(&t.key(Role::Editor).await);
    let checker = client_with_key(&t.key(Role::FactChecker).await);
    let (_, mut seq) = world.feed(&t, 0).await;
    let mut answers = world.answers(&t).await;
    let mut done: Vec<(&str, String)> = Vec::new();
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    // (method, template, path, body, client): each write as a CMS's desk makes it.
    let mut correction = String::new();
    for n in 0..40 {
        let (method, template, path, body, who): (&str, &str, String, Value, &reqwest::Client) =
            match n {
                0 => (
                    "post",
                    "/v1/sources",
                    "/v1/sources".into(),
                    json!({"title": "New", "url": "https://news.example/new", "text": "New text."}),
                    &t.client,
                ),
                1 => (
                    "patch",
                    "/v1/sources/{id}",
                    format!("/v1/sources/{s1}"),
                    json!({"title": "Bridge article, updated"}),
                    &t.client,
                ),
                2 => (
                    "patch",
                    "/v1/sources/{id}",
                    format!("/v1/sources/{s1}"),
                    json!({"url": "https://news.example/bridge-2026"}),
                    &t.client,
                ),
                3 => (
                    "post",
                    "/v1/sources/{id}/aliases",
                    format!("/v1/sources/{s1}/aliases"),
                    json!({"url": "https://amp.example/bridge"}),
                    &t.client,
                ),
                4 => (
                    "post",
                    "/v1/sources/{id}/versions",
                    format!("/v1/sources/{s1}/versions"),
                    json!({"text": "The bridge cost $4 billion, officials said."}),
                    &t.client,
                ),
                5 => (
                    "put",
                    "/v1/passages/{id}/placements/{number}",
                    format!("/v1/passages/{p1}/placements/2"),
                    json!({"confirm": true}),
                    &t.client,
                ),
                6 => (
                    "post",
                    "/v1/sources/{id}/passages",
                    format!("/v1/sources/{s2}/passages"),
                    json!({"quote": "Roads"}),
                    &t.client,
                ),
                7 => (
                    "post",
                    "/v1/passages/{id}/derivations",
                    format!("/v1/passages/{p2}/derivations"),
                    json!({"from_passage_id": p1, "relation": "quotes"}),
                    &t.client,
                ),
                8 => (
                    "post",
                    "/v1/claims",
                    "/v1/claims".into(),
                    json!({"text": "Another claim.", "appearances": [p2]}),
                    &t.client,
                ),
                9 => (
                    "patch",
                    "/v1/claims/{id}",
                    format!("/v1/claims/{c1}"),
                    json!({"text": "The bridge cost four billion dollars."}),
                    &t.client,
                ),
                10 => (
                    "patch",
                    "/v1/claims/{id}",
                    format!("/v1/claims/{c1}"),
                    json!({"claimant": "The governor"}),
                    &t.client,
                ),
                11 => (
                    "post",
                    "/v1/claims/{id}/appearances",
                    format!("/v1/claims/{c1}/appearances"),
                    json!({"passage_id": p2}),
                    &t.client,
                ),
                12 => (
                    "post",
                    "/v1/claims/{id}/evidence",
                    format!("/v1/claims/{c1}/evidence"),
                    json!({"passage_id": p2, "stance": "supports"}),
                    &t.client,
                ),
                13 => (
                    "post",
                    "/v1/claims/{id}/evidence/{evidence_id}/withdraw",
                    format!("/v1/claims/{c1}/evidence/{}/withdraw", ids["evidence"]),
                    json!({"note": "Wrong passage."}),
                    &t.client,
                ),
                14 => (
                    "post",
                    "/v1/claims/{id}/reviews",
                    format!("/v1/claims/{c1}/reviews"),
                    json!({"rating": "true", "summary": "Corrected.", "corrects": r1}),
                    &checker,
                ),
                15 => (
                    "patch",
                    "/v1/reviews/{id}",
                    format!("/v1/reviews/{correction}"),
                    json!({"summary": "Corrected, with sources."}),
                    &checker,
                ),
                16 => (
                    "post",
                    "/v1/reviews/{id}/transitions",
                    format!("/v1/reviews/{correction}/transitions"),
                    json!({"to": "in_review"}),
                    &checker,
                ),
                17 => (
                    "post",
                    "/v1/reviews/{id}/transitions",
                    format!("/v1/reviews/{correction}/transitions"),
                    json!({"to": "approved"}),
                    &editor,
                ),
                18 => (
                    "post",
                    "/v1/reviews/{id}/transitions",
                    format!("/v1/reviews/{correction}/transitions"),
                    json!({"to": "published", "published_url": "https://desk.example.org/checks/2"}),
                    &editor,
                ),
                19 => (
                    "put",
                    "/v1/reviews/{id}/published-url",
                    format!("/v1/reviews/{r1}/published-url"),
                    json!({"published_url": null}),
                    &editor,
                ),
                20 => (
                    "put",
                    "/v1/reviews/{id}/published-url",
                    format!("/v1/reviews/{correction}/published-url"),
                    json!({"published_url": "https://desk.example.org/checks/1"}),
                    &editor,
                ),
                21 => (
                    "post",
                    "/v1/reviews/{id}/transitions",
                    format!("/v1/reviews/{correction}/transitions"),
                    json!({"to": "retracted", "note": "Published in error."}),
                    &editor,
                ),
                22 => (
                    "post",
                    "/v1/rating-scales",
                    "/v1/rating-scales".into(),
                    json!({"id": "yes-no", "name": "Yes or no", "ratings": [{"key": "yes", "label": "Yes", "value": 1}, {"key": "no", "label": "No", "value": 0}]}),
                    &t.client,
                ),
                23 => (
                    "post",
                    "/v1/trace",
                    "/v1/trace".into(),
                    json!({"q": "$4 billion"}),
                    &t.client,
                ),
                24 => (
                    "post",
                    "/v1/webhooks",
                    "/v1/webhooks".into(),
                    json!({"url": "https://93.184.215.14/in", "events": ["review.published"]}),
                    &t.client,
                ),
                25 => (
                    "post",
                    "/v1/webhooks/{id}/rotate-secret",
                    format!("/v1/webhooks/{}/rotate-secret", ids["webhook"]),
                    Value::Null,
                    &t.client,
                ),
                26 => (
                    "post",
                    "/v1/webhooks/{id}/enable",
                    format!("/v1/webhooks/{}/enable", ids["webhook"]),
                    Value::Null,
                    &t.client,
                ),
                27 => (
                    "post",
                    "/v1/webhooks/{id}/test",
                    format!("/v1/webhooks/{}/test", ids["webhook"]),
                    Value::Null,
                    &t.client,
                ),
                28 => (
                    "post",
                    "/v1/webhooks/{id}/deliveries/{message_id}/replay",
                    format!(
                        "/v1/webhooks/{}/deliveries/{}/replay",
                        ids["webhook"], ids["message"]
                    ),
                    Value::Null,
                    &t.client,
                ),
                29 => (
                    "delete",
                    "/v1/webhooks/{id}",
                    format!("/v1/webhooks/{}", ids["webhook"]),
                    Value::Null,
                    &t.client,
                ),
                30 => (
                    "post",
                    "/v1/people",
                    "/v1/people".into(),
                    json!({"handle": "new-person", "display_name": "New"}),
                    &t.client,
                ),
                31 => (
                    "post",
                    "/v1/keys",
                    "/v1/keys".into(),
                    json!({"name": "cms-2", "role": "integration", "person": "new-person"}),
                    &t.client,
                ),
                32 => (
                    "post",
                    "/v1/keys/{id}/revoke",
                    format!("/v1/keys/{}/revoke", ids["key"]),
                    Value::Null,
                    &t.client,
                ),
                33 => (
                    "patch",
                    "/v1/claims/{id}",
                    format!("/v1/claims/{c2}"),
                    json!({"text": "Roads cost two billion."}),
                    &t.client,
                ),
                _ => break,
            };
        let res = match method {
            "post" => who.post(t.url(&path)).json(&body),
            "put" => who.put(t.url(&path)).json(&body),
            "patch" => who.patch(t.url(&path)).json(&body),
            _ => who.delete(t.url(&path)),
        };
        // Steps of a review carry its revision.
        let res = if template.starts_with("/v1/reviews/{id}") {
            let rid = path.split('/').nth(3).unwrap();
            let current = t.get_json(&format!("/v1/reviews/{rid}")).await;
            res.header("if-match", format!("\"{}\"", current["revision"]))
        } else {
            res
        };
        let res = res.send().await.unwrap();
        let status = res.status();
        let out: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{method} {path}: {status} {out}");
        match n {
            12 => {
                ids.insert("evidence", id(&out));
            }
            14 => {
                correction = id(&out);
                world.reviews.push(correction.clone());
            }
            24 => {
                ids.insert("webhook", id(&out));
            }
            27 => {
                ids.insert("message", out["message_id"].as_str().unwrap().to_owned());
            }
            31 => {
                ids.insert("key", id(&out["key"]));
            }
            _ => {}
        }
        done.push((method, template.to_owned()));
        let after = world.answers(&t).await;
        let (items, head) = world.feed(&t, seq).await;
        for (what, answer) in &after {
            // A review made by this write was a 404 to integrations before it existed.
            let unseen = !answers.contains_key(what) && answer.0 == 404;
            if unseen || answers.get(what) == Some(answer) {
                continue;
            }
            let named = items.iter().any(|item| {
                let data = &item["data"];
                match what.split_once(' ') {
                    Some(("lookup", _)) => {
                        let form = &answer.1["url"];
                        data["urls"].as_array().is_some_and(|u| u.contains(form))
                    }
                    Some((_, review)) => {
                        item["entity_id"] == review
                            || data["reviews"]
                                .as_array()
                                .is_some_and(|r| r.contains(&json!(review)))
                    }
                    None => false,
                }
            });
            assert!(
                named,
                "{method} {path} changed what an integration reads ({what}) without a feed item naming it; items: {items:?}"
            );
        }
        answers = after;
        seq = head;
    }
    // Every write operation of the contract was made.
    for op in claimtrail::http::operations::OPERATIONS {
        if op.method == "get" || op.permission.is_none() {
            continue;
        }
        assert!(
            done.iter().any(|(m, p)| *m == op.method && p == op.path),
            "{} {} is not exercised",
            op.method,
            op.path
        );
    }
    let _ = (s2, c2);
}

/// Two API nodes over one database: a node that kept an answer (or who a key is) stops
/// serving it once the other node retracts the verdict (or revokes the key), and never serves
/// it again. On PostgreSQL the news travels by `NOTIFY`; on SQLite the second node sees the
/// first's commits as another process's.
async fn a_second_node_never_serves_a_retracted_verdict_or_a_revoked_key(backend: Backend) {
    let t = spawn_app(backend).await;
    let [_, _, claim] = claim_in(
        &t,
        "Bridge article",
        "https://news.example/bridge",
        "The bridge cost $4 billion.",
        "The bridge cost $4 billion.",
    )
    .await;
    let review = id(&publish_verdict(&t, &claim, None).await);
    let (token, other) = (
        t.key(Role::Integration).await,
        t.key(Role::Integration).await,
    );
    let store = claimtrail::store::Store::connect(&t.db_url, 2)
        .await
        .expect("the second node's database");
    let b = claimtrail::app::App::new(store, 1 << 20);
    for _ in 0..100 {
        if b.answers_from_memory() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(b.answers_from_memory(), "the second node hears the first");
    let url = "https://news.example/bridge";
    // The current verdict, else the newest stub of a corrected or retracted one.
    let verdict = |answer: &claimtrail::app::LookupAnswer| {
        let claim = &answer.lookup.claims[0];
        let shown = claim.verdict.as_ref().or(claim.earlier.last());
        serde_json::to_value(shown).unwrap()
    };
    for token in [&token, &other] {
        let (_, kept) = b.lookup_as(token, url).await.expect("lookup on B");
        assert_eq!(verdict(&kept)["state"], "published");
    }
    // The first node retracts the verdict and revokes the other key.
    let current = t.get_json(&format!("/v1/reviews/{review}")).await;
    let editor = client_with_key(&t.key(Role::Editor).await);
    let res = editor
        .post(t.url(&format!("/v1/reviews/{review}/transitions")))
        .json(&json!({"to": "retracted", "revision": current["revision"], "note": "Wrong figure."}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut heard = false;
    for _ in 0..100 {
        let (_, now) = b.lookup_as(&token, url).await.expect("lookup on B");
        if verdict(&now)["state"] == "retracted" {
            heard = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(heard, "B still serves the retracted verdict after 5 s");
    let key_id = claimtrail::domain::access::parse_token(&other)
        .expect("a token")
        .0
        .uuid();
    let res = t
        .post(&format!("/v1/keys/{key_id}/revoke"), &Value::Null)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // B hears of both within a bound, and from then on never serves the old answers.
    heard = false;
    for _ in 0..100 {
        let (_, now) = b.lookup_as(&token, url).await.expect("lookup on B");
        let revoked = b.lookup_as(&other, url).await.is_err();
        if verdict(&now)["state"] == "retracted" && revoked {
            heard = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        heard,
        "B still serves the retracted verdict or the revoked key after 5 s"
    );
    for _ in 0..20 {
        let (_, now) = b.lookup_as(&token, url).await.expect("lookup on B");
        assert_eq!(verdict(&now)["state"], "retracted");
        assert_eq!(verdict(&now)["rating"], Value::Null);
        assert!(b.lookup_as(&other, url).await.is_err());
    }
    b.close().await;
}

crate::both_backends!(
    integrations_never_see_unpublished_work,
    every_change_integrations_can_see_is_announced,
    a_second_node_never_serves_a_retracted_verdict_or_a_revoked_key,
);

//! A newsroom CMS's path: ClaimReview markup, lookup by article URL (with aliases, stubs of
//! corrected and retracted verdicts, ETags), the change feed and CORS.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, client_with_key, spawn_one_person_desk};
use claimtrail::domain::access::Role;

/// Checks a ClaimReview against the project's JSON Schema of Google's documented fields, and
/// that a numeric rating lies within its scale.
pub(crate) fn assert_valid_claimreview(doc: &Value) {
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/claimreview.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    let rating = &doc["reviewRating"];
    if let Some(value) = rating["ratingValue"].as_f64() {
        let (worst, best) = (
            rating["worstRating"].as_f64().unwrap(),
            rating["bestRating"].as_f64().unwrap(),
        );
        assert!(worst <= value && value <= best, "{rating}");
    }
}

pub(crate) const TEXT: &str = "The mayor said the new bridge cost $4 billion. Engineers disagree.";

/// A source with a URL, a claim appearing in it with evidence, and a draft review of it.
pub(crate) async fn claim_in_article(t: &TestApp, claim_text: &str) -> (String, String, String) {
    let res = t
        .post(
            "/v1/sources",
            &json!({"title": "Bridge debate", "text": TEXT, "publisher": "Daily Example",
                    "url": "https://News.Example.org/politics/bridge/?utm_source=feed",
                    "published_at": "2026-05-01", "authors": ["A. Reporter"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let source: Value = res.json().await.unwrap();
    let sid = source["id"].as_str().unwrap().to_owned();
    // Stored in lookup form: scheme and host lower-cased, tracking and trailing slash gone.
    assert_eq!(source["url"], "https://news.example.org/politics/bridge");
    let passage = t
        .passage(&sid, json!({"quote": "the new bridge cost $4 billion"}))
        .await;
    let pid = passage["id"].as_str().unwrap();
    let claim = t
        .claim(json!({"text": claim_text, "claimant": "The mayor", "appearances": [pid]}))
        .await;
    let cid = claim["id"].as_str().unwrap().to_owned();
    t.evidence(&cid, &passage, "contradicts").await;
    (sid, cid, pid.to_owned())
}

/// Drafts, approves and publishes a verdict (a one-person desk); returns the review.
pub(crate) async fn publish(
    t: &TestApp,
    claim: &str,
    rating: &str,
    corrects: Option<&str>,
    url: &str,
) -> Value {
    let draft = json!({"rating": rating, "summary": "Construction was $2.1 billion.", "corrects": corrects});
    crate::helpers::publish_alone(t, claim, draft, Some(url)).await
}

async fn claimreview_is_complete_and_marks_the_exact_passage(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    let (_, cid, pid) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let review = publish(
        &t,
        &cid,
        "mostly_false",
        None,
        "https://desk.example.org/checks/bridge",
    )
    .await;
    assert_eq!(
        review["published_url"],
        "https://desk.example.org/checks/bridge"
    );
    let rid = review["id"].as_str().unwrap();
    let res = t.get(&format!("/v1/reviews/{rid}/claimreview")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/ld+json");
    let doc: Value = res.json().await.unwrap();
    assert_valid_claimreview(&doc);
    // The schema refuses what Google does not document (outside the `ct:` extension).
    let mut stray = doc.clone();
    stray["reviewRating"]["note"] = json!("x");
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/claimreview.schema.json")).unwrap();
    assert!(!jsonschema::is_valid(&schema, &stray));
    assert_eq!(doc["@context"][0], "https://schema.org");
    assert_eq!(doc["@type"], "ClaimReview");
    assert_eq!(doc["url"], "https://desk.example.org/checks/bridge");
    assert_eq!(doc["claimReviewed"], "The new bridge cost $4 billion.");
    assert_eq!(doc["datePublished"], review["published_at"]);
    assert_eq!(doc["author"]["@type"], "Organization");
    assert_eq!(doc["author"]["name"], "Test Desk");
    assert_eq!(
        doc["author"]["logo"]["url"],
        "https://desk.example.org/logo.png"
    );
    let rating = &doc["reviewRating"];
    assert_eq!(rating["@type"], "Rating");
    assert_eq!(rating["alternateName"], "Mostly false");
    let (worst, value, best) = (
        rating["worstRating"].as_f64().unwrap(),
        rating["ratingValue"].as_f64().unwrap(),
        rating["bestRating"].as_f64().unwrap(),
    );
    assert!(worst <= value && value <= best, "{rating}");
    assert_eq!((worst, value, best), (1.0, 2.0, 5.0));
    let item = &doc["itemReviewed"];
    assert_eq!(item["@type"], "Claim");
    assert_eq!(item["author"]["name"], "The mayor");
    assert_eq!(item["datePublished"], "2026-05-01");
    let first = &item["firstAppearance"];
    assert_eq!(first["@type"], "CreativeWork");
    assert_eq!(first["url"], "https://news.example.org/politics/bridge");
    assert_eq!(first["headline"], "Bridge debate");
    assert_eq!(first["publisher"]["name"], "Daily Example");
    assert_eq!(first["author"][0]["name"], "A. Reporter");
    assert_eq!(item["appearance"].as_array().unwrap().len(), 1);
    // The extension: the exact span of the exact version.
    let passage = &first["ct:passage"];
    assert_eq!(passage["@id"], format!("urn:uuid:{pid}"));
    assert_eq!(passage["ct:version"], 1);
    assert_eq!(passage["ct:sha256"].as_str().unwrap().len(), 64);
    let quote = &passage["oa:hasSelector"][0];
    assert_eq!(quote["@type"], "oa:TextQuoteSelector");
    assert_eq!(quote["oa:exact"], "the new bridge cost $4 billion");
    let position = &passage["oa:hasSelector"][1];
    let start = TEXT.find("the new bridge").unwrap();
    assert_eq!(position["oa:start"], start);
    assert_eq!(
        position["oa:end"],
        start + "the new bridge cost $4 billion".len()
    );
    // No warnings for a short claim on the organisation's own host.
    let checked = t
        .get_json(&format!("/v1/reviews/{rid}/claimreview/check"))
        .await;
    assert_eq!(checked["warnings"], json!([]));
    assert_eq!(checked["claim_review"], doc);
    // An integration reads the same markup.
    let cms = client_with_key(&t.key(Role::Integration).await);
    let res = cms
        .get(t.url(&format!("/v1/reviews/{rid}/claimreview")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn warnings_name_long_claims_and_foreign_hosts(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    let long = "The new bridge, which the council approved after three years of debate, cost the city $4 billion.";
    let (_, cid, _) = claim_in_article(&t, long).await;
    let review = publish(
        &t,
        &cid,
        "misleading",
        None,
        "https://elsewhere.example.com/x",
    )
    .await;
    let rid = review["id"].as_str().unwrap();
    let checked = t
        .get_json(&format!("/v1/reviews/{rid}/claimreview/check"))
        .await;
    let warnings: Vec<&str> = checked["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains(&format!(
            "claimReviewed is {} characters",
            long.chars().count()
        )),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("elsewhere.example.com"),
        "{warnings:?}"
    );
    // A rating outside the numeric range: its label, no ratingValue.
    assert_valid_claimreview(&checked["claim_review"]);
    let rating = &checked["claim_review"]["reviewRating"];
    assert_eq!(rating["alternateName"], "Misleading");
    assert!(rating.get("ratingValue").is_none(), "{rating}");
    // Moving the page to the organisation's host is an audited edit that clears the warning.
    let res = t
        .client
        .put(t.url(&format!("/v1/reviews/{rid}/published-url")))
        .json(&json!({"published_url": "https://desk.example.org/checks/long", "revision": review["revision"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let checked = t
        .get_json(&format!("/v1/reviews/{rid}/claimreview/check"))
        .await;
    assert_eq!(checked["warnings"].as_array().unwrap().len(), 1);
    let audit = t
        .get_json(&format!("/v1/audit?entity=review&entity_id={rid}"))
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "set_published_url")
            .count(),
        2,
        "{actions:?}"
    );
}

async fn lookup_finds_claims_verdicts_and_stubs_by_any_spelling_of_the_url(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    let (sid, cid, pid) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let cms = client_with_key(&t.key(Role::Integration).await);
    let lookup = |url: &str| {
        let (cms, url, full) = (cms.clone(), url.to_owned(), t.url("/v1/lookup"));
        async move {
            let q = percent_encoding::utf8_percent_encode(&url, percent_encoding::NON_ALPHANUMERIC);
            let res = cms.get(format!("{full}?url={q}")).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    // Before any verdict the article shows nothing: the desk's work is not public.
    let spelling = "HTTPS://NEWS.example.org:443/politics/bridge?fbclid=1#top";
    let found = lookup(spelling).await;
    assert_eq!(found["url"], "https://news.example.org/politics/bridge");
    assert_eq!(found["sources"], json!([]), "{found}");
    assert_eq!(found["claims"], json!([]), "{found}");
    let first = publish(
        &t,
        &cid,
        "false",
        None,
        "https://desk.example.org/checks/bridge",
    )
    .await;
    let fid = first["id"].as_str().unwrap();
    let correction = publish(
        &t,
        &cid,
        "mostly_false",
        Some(fid),
        "https://desk.example.org/checks/bridge-corrected",
    )
    .await;
    let rid = correction["id"].as_str().unwrap();
    let found = lookup(spelling).await;
    assert_eq!(found["sources"][0]["id"], sid);
    assert_eq!(found["claims"][0]["claim"]["id"], cid);
    assert_eq!(found["claims"][0]["passages"][0]["id"], pid);
    let found = lookup("https://news.example.org/politics/bridge/").await;
    let claim = &found["claims"][0];
    assert_eq!(claim["verdict"]["review_id"], rid);
    assert_eq!(claim["verdict"]["rating"]["key"], "mostly_false");
    assert_eq!(
        claim["verdict"]["claimreview"],
        format!("/v1/reviews/{rid}/claimreview")
    );
    assert_eq!(claim["verdict"]["corrects"], fid);
    // The corrected verdict stays findable as a stub.
    let stub = &claim["earlier"][0];
    assert_eq!(stub["review_id"], fid);
    assert_eq!(stub["state"], "superseded");
    assert_eq!(stub["superseded_by"], rid);
    assert_eq!(stub["rating"], Value::Null);
    assert!(stub["ended_at"].is_string(), "{stub}");
    // The old markup says what replaced it.
    let old = t.get_json(&format!("/v1/reviews/{fid}/claimreview")).await;
    assert_valid_claimreview(&old);
    assert_eq!(old["correction"]["@type"], "CorrectionComment");
    assert_eq!(
        old["correction"]["url"],
        "https://desk.example.org/checks/bridge-corrected"
    );
    // The service's own links need its public base URL (not set here): left out, never
    // relative.
    assert!(old.get("ct:supersededBy").is_none(), "{old}");
    // A fact-check page's URL finds its verdict.
    let page = lookup("https://desk.example.org/checks/bridge-corrected?utm_medium=x").await;
    assert_eq!(page["reviews"][0]["verdict"]["review_id"], rid);
    assert_eq!(page["claims"], json!([]));
    // An alias (an AMP copy) matches too; an unknown URL is an empty answer.
    let res = t
        .post(
            &format!("/v1/sources/{sid}/aliases"),
            &json!({"url": "https://amp.example.org/bridge/"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let aliases: Value = res.json().await.unwrap();
    assert_eq!(
        aliases["aliases"],
        json!(["https://amp.example.org/bridge"])
    );
    assert_eq!(
        lookup("https://amp.example.org/bridge").await["claims"][0]["claim"]["id"],
        cid
    );
    let nothing = lookup("https://unknown.example.net/a").await;
    assert_eq!(nothing["claims"], json!([]));
    assert_eq!(nothing["sources"], json!([]));
    // An alias that is another source's URL is refused, and writes nothing.
    let other = t
        .post(
            "/v1/sources",
            &json!({"title": "Other", "text": "x", "url": "https://other.example.org/a"}),
        )
        .await;
    assert_eq!(other.status(), StatusCode::CREATED);
    let before = t.row_counts().await;
    assert_problem(
        t.post(
            &format!("/v1/sources/{sid}/aliases"),
            &json!({"url": "https://other.example.org/a/"}),
        )
        .await,
        StatusCode::CONFLICT,
        "source-exists",
    )
    .await;
    assert_eq!(t.row_counts().await, before);
    // A retracted verdict: 410 for its markup, a stub with the public note for a CMS.
    let current = t.get_json(&format!("/v1/reviews/{rid}")).await;
    let res = t
        .post(&format!("/v1/reviews/{rid}/transitions"), &json!({"to": "retracted", "note": "The figure was misread.", "revision": current["revision"]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = cms
        .get(t.url(&format!("/v1/reviews/{rid}/claimreview")))
        .send()
        .await
        .unwrap();
    let p = assert_problem(res, StatusCode::GONE, "retracted").await;
    assert!(p["detail"].as_str().unwrap().contains("misread"), "{p}");
    let stub: Value = cms
        .get(t.url(&format!("/v1/reviews/{rid}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stub["state"], "retracted");
    assert_eq!(stub["public_note"], "The figure was misread.");
    assert_eq!(stub["rating"], Value::Null);
    assert!(stub.get("history").is_none(), "{stub}");
    let found = lookup("https://news.example.org/politics/bridge").await;
    assert_eq!(found["claims"][0]["verdict"], Value::Null);
    assert_eq!(found["claims"][0]["earlier"].as_array().unwrap().len(), 2);
}

async fn lookups_carry_an_etag_and_answer_304(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    let (_, cid, _) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let url = t.url("/v1/lookup?url=https://news.example.org/politics/bridge");
    let res = t.client.get(&url).send().await.unwrap();
    let tag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = t
        .client
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), tag);
    assert!(res.bytes().await.unwrap().is_empty());
    // Answers are kept between writes; a revoked key is a write, so it is refused at once.
    let operator = claimtrail::domain::access::Actor::operator("test");
    t.app.ensure_person(&operator, "cms", "CMS").await.unwrap();
    let (key, token) = t
        .app
        .create_key(&operator, "cms", Role::Integration, "cms")
        .await
        .unwrap();
    let cms = client_with_key(&token);
    assert_eq!(cms.get(&url).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(cms.get(&url).send().await.unwrap().status(), StatusCode::OK);
    let res = t
        .post(&format!("/v1/keys/{}/revoke", key.id), &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(
        cms.get(&url).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // A publication changes the answer, so the old tag no longer matches.
    publish(&t, &cid, "false", None, "https://desk.example.org/c").await;
    let res = t
        .client
        .get(&url)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_ne!(res.headers()["etag"].to_str().unwrap(), tag);
}

/// Lines of an NDJSON answer.
async fn feed(client: &reqwest::Client, url: String) -> (Vec<Value>, i64) {
    let res = client.get(url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    let head = res.headers()["changes-head"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let text = res.text().await.unwrap();
    (
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        head,
    )
}

async fn the_change_feed_resumes_without_gaps_and_shows_integrations_public_changes(
    backend: Backend,
) {
    let t = spawn_one_person_desk(backend).await;
    let (sid, cid, _) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let cms = client_with_key(&t.key(Role::Integration).await);
    let (_, start) = feed(&cms, t.url("/v1/changes?since=now")).await;
    let first = publish(&t, &cid, "false", None, "https://desk.example.org/a").await;
    let fid = first["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/v1/sources/{sid}/versions"),
            &json!({"text": format!("{TEXT} Updated.")}),
        )
        .await;
    assert!(res.status().is_success());
    let second = publish(
        &t,
        &cid,
        "mostly_false",
        Some(fid),
        "https://desk.example.org/b",
    )
    .await;
    let sec = second["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/v1/reviews/{sec}/transitions"),
            &json!({"to": "retracted", "note": "Wrong.", "revision": second["revision"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // An integration: publication, correction, retraction (a tombstone); not the new version.
    let (lines, head) = feed(&cms, t.url(&format!("/v1/changes?since={start}"))).await;
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["review.published", "review.corrected", "review.retracted"]
    );
    assert_eq!(lines[1]["data"]["supersedes"], fid);
    assert_eq!(lines[2]["tombstone"], true);
    assert_eq!(lines[2]["entity_id"], sec);
    // An editor sees the version too; seqs increase.
    let (all, _) = feed(&t.client, t.url(&format!("/v1/changes?since={start}"))).await;
    assert_eq!(all.len(), 4);
    assert_eq!(all[1]["type"], "source.version_added");
    let seqs: Vec<i64> = all.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(head, *seqs.last().unwrap());
    // Resuming page by page gives every change once.
    let mut after = start;
    let mut seen = Vec::new();
    loop {
        let (page, _) = feed(
            &t.client,
            t.url(&format!("/v1/changes?since={after}&limit=1")),
        )
        .await;
        let Some(line) = page.first() else { break };
        after = line["seq"].as_i64().unwrap();
        seen.push(after);
    }
    assert_eq!(seen, seqs);
    // Server-Sent Events from a Last-Event-ID.
    let mut res = t
        .client
        .get(t.url("/v1/changes"))
        .header("accept", "text/event-stream")
        .header("last-event-id", seqs[1].to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut text = String::new();
    while text.matches("\n\n").count() < 2 {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), res.chunk())
            .await
            .expect("events within 10 s")
            .unwrap()
            .expect("open stream");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains(&format!("id: {}", seqs[2])), "{text}");
    assert!(text.contains("event: review.corrected"), "{text}");
    assert!(!text.contains(&format!("id: {}\n", seqs[1])), "{text}");
    // Malformed positions are problems.
    assert_problem(
        t.get("/v1/changes?since=yesterday").await,
        StatusCode::BAD_REQUEST,
        "invalid-query",
    )
    .await;
}

async fn browsers_of_configured_origins_may_call(backend: Backend) {
    let config = claimtrail::http::HttpConfig {
        cors_origins: vec!["https://cms.example.org".into()],
        ..Default::default()
    };
    let t = crate::helpers::spawn_app_with(backend, config).await;
    let res = crate::helpers::anonymous_client()
        .request(
            reqwest::Method::OPTIONS,
            t.url("/v1/lookup?url=https://a.example/"),
        )
        .header("origin", "https://cms.example.org")
        .header("access-control-request-method", "GET")
        .header(
            "access-control-request-headers",
            "authorization,if-none-match",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://cms.example.org"
    );
    let allowed = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("if-none-match"),
        "{allowed}"
    );
    let res = t
        .client
        .get(t.url("/v1/changes"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

crate::both_backends!(
    claimreview_is_complete_and_marks_the_exact_passage,
    warnings_name_long_claims_and_foreign_hosts,
    lookup_finds_claims_verdicts_and_stubs_by_any_spelling_of_the_url,
    lookups_carry_an_etag_and_answer_304,
    the_change_feed_resumes_without_gaps_and_shows_integrations_public_changes,
    browsers_of_configured_origins_may_call,
);

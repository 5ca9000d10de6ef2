//! Issue 16, parts 2 and 3: one article under all its spellings (and stored keys recomputed
//! when the URL rule changes), and ClaimReview markup that says what is true (claimant kind,
//! stated headlines only, absolute links, what a correction corrects, a warning while a
//! published verdict has no page).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::cms::{TEXT, assert_valid_claimreview, claim_in_article, publish};
use crate::helpers::{
    Backend, TestApp, assert_problem, client_with_key, spawn_one_person_desk,
    spawn_one_person_desk_with,
};
use claimtrail::app::App;
use claimtrail::domain::access::Role;
use claimtrail::domain::urls::UrlRule;

/// `GET /v1/lookup?url=…` as an integration.
async fn lookup(cms: &reqwest::Client, t: &TestApp, url: &str) -> Value {
    let q = percent_encoding::utf8_percent_encode(url, percent_encoding::NON_ALPHANUMERIC);
    let res = cms
        .get(t.url(&format!("/v1/lookup?url={q}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    res.json().await.unwrap()
}

fn with_extra_tracking(app: App) -> App {
    app.with_url_rule(UrlRule::new(["src", "promo_*"]).unwrap())
}

async fn a_verdict_is_found_under_every_spelling_of_its_article(backend: Backend) {
    let t = spawn_one_person_desk_with(backend, with_extra_tracking).await;
    let (sid, cid, _) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let review = publish(
        &t,
        &cid,
        "false",
        None,
        "https://desk.example.org/checks/bridge",
    )
    .await;
    let rid = review["id"].as_str().unwrap();
    let cms = client_with_key(&t.key(Role::Integration).await);
    for spelling in [
        "https://news.example.org/politics/bridge",
        "http://news.example.org/politics/bridge",
        "https://www.news.example.org/politics/bridge",
        "http://WWW.news.example.org/politics/bridge/",
        "https://news.example.org/politics/bridge?outputType=amp",
        "https://news.example.org/politics/bridge?amp=1",
        "https://news.example.org/politics/bridge/amp",
        "https://www.news.example.org/politics/bridge/amp/?utm_source=tw",
        "https://news.example.org/politics/bridge?mc_cid=a&mc_eid=b&ocid=c&cmpid=d&smid=e&igshid=f&_ga=g&ref_src=h",
        // The deployment's own tracking parameters (a name and a prefix).
        "https://news.example.org/politics/bridge?src=newsletter&promo_slot=3",
    ] {
        let found = lookup(&cms, &t, spelling).await;
        assert_eq!(found["url"], "https://news.example.org/politics/bridge");
        assert_eq!(found["sources"][0]["id"], sid, "{spelling}");
        assert_eq!(
            found["claims"][0]["verdict"]["review_id"], rid,
            "{spelling}"
        );
    }
    // The verdict's own page under its spellings.
    for page in [
        "http://desk.example.org/checks/bridge",
        "https://www.desk.example.org/checks/bridge/amp?fbclid=1",
    ] {
        let found = lookup(&cms, &t, page).await;
        assert_eq!(found["reviews"][0]["verdict"]["review_id"], rid, "{page}");
    }
    // Other paths and meaningful parameters are other articles.
    for other in [
        "https://news.example.org/politics/bridge-2",
        "https://news.example.org/politics/bridge?page=2",
        "https://news.example.org/politics/bridge?amp=0",
        "https://m.news.example.org/politics/bridge",
        "https://news.example.org/amp/politics/bridge",
    ] {
        let found = lookup(&cms, &t, other).await;
        assert_eq!(found["sources"], json!([]), "{other}");
        assert_eq!(found["claims"], json!([]), "{other}");
    }
    // A second source under another spelling of the same article is the same URL.
    let before = t.row_counts().await;
    let res = t
        .post(
            "/v1/sources",
            &json!({"title": "Copy", "text": "x", "url": "http://www.news.example.org/politics/bridge/amp"}),
        )
        .await;
    let p = assert_problem(res, StatusCode::CONFLICT, "source-exists").await;
    assert!(p.to_string().contains(&sid), "{p}");
    assert_eq!(t.row_counts().await, before);
    // An alias spelled as given is listed as given (cleaned), and found under its spellings.
    let res = t
        .post(
            &format!("/v1/sources/{sid}/aliases"),
            &json!({"url": "https://www.partner.example.net/syndicated/bridge?utm_source=x"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let aliases: Value = res.json().await.unwrap();
    assert_eq!(
        aliases["aliases"],
        json!(["https://www.partner.example.net/syndicated/bridge"])
    );
    let found = lookup(&cms, &t, "http://partner.example.net/syndicated/bridge/amp").await;
    assert_eq!(found["claims"][0]["claim"]["id"], cid);
}

async fn stored_keys_follow_a_new_url_rule_once(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    let post = |body: Value| {
        let t = &t;
        async move {
            let res = t.post("/v1/sources", &body).await;
            assert_eq!(res.status(), StatusCode::CREATED);
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let a = post(json!({"title": "A", "text": "a", "url": "https://www.example.org/a"})).await;
    let b = post(json!({"title": "B", "text": "b", "url": "http://example.org/b"})).await;
    let c = post(json!({"title": "C", "text": "c", "url": "https://example.org/c"})).await;
    // Each carries a published verdict, so that the lookup shows it.
    for (source, text) in [(&a, "a"), (&b, "b"), (&c, "c")] {
        let passage = t.passage(source, json!({"quote": text})).await;
        let res = t
            .post(
                "/v1/claims",
                &json!({"text": format!("Claim {text}."), "appearances": [passage["id"]]}),
            )
            .await;
        let claim: Value = res.json().await.unwrap();
        let page = format!("https://desk.example.org/{text}");
        publish(&t, claim["id"].as_str().unwrap(), "false", None, &page).await;
    }
    let res = t
        .post(
            &format!("/v1/sources/{b}/aliases"),
            &json!({"url": "https://amp.example.org/b/amp"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A verdict published on a page given as `http://www.`.
    let (_, cid, _) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let review = publish(&t, &cid, "false", None, "http://www.desk.example.org/v").await;
    let rid = review["id"].as_str().unwrap().to_owned();
    // Back to what the rule of issue 8 stored: keys equal to the cleaned URLs, no record of
    // the rule, and C's URL turned into the same article as A's (stored apart back then).
    for sql in [
        "UPDATE source_urls SET url_key = url",
        "UPDATE reviews SET published_url_key = published_url WHERE published_url IS NOT NULL",
        "DELETE FROM url_rule",
        "UPDATE sources SET url = 'https://example.org/a' WHERE url = 'https://example.org/c'",
        "UPDATE source_urls SET url = 'https://example.org/a', url_key = 'https://example.org/a' WHERE url_key = 'https://example.org/c'",
    ] {
        t.execute_sql(sql).await.unwrap();
    }
    let cms = client_with_key(&t.key(Role::Integration).await);
    // Under the old keys the new rule misses them.
    let missed = lookup(&cms, &t, "https://example.org/b").await;
    assert_eq!(missed["sources"], json!([]));
    let done = t
        .app
        .recompute_url_keys()
        .await
        .unwrap()
        .expect("a rule not recorded yet");
    assert_eq!(done.previous, None);
    // A's (www.), B's (http) and B's alias (AMP) moved; C's is now A's article: the older
    // source, A, keeps it.
    assert_eq!(done.source_urls, 3, "{done:?}");
    assert_eq!(done.published_urls, 1, "{done:?}");
    assert_eq!(done.dropped.len(), 1, "{done:?}");
    let (url, dropped, kept) = &done.dropped[0];
    assert_eq!(url, "https://example.org/a");
    assert_eq!(
        (dropped.to_string(), kept.to_string()),
        (c.clone(), a.clone())
    );
    for (spelling, source) in [
        ("http://example.org/a", &a),
        ("https://www.example.org/a/amp", &a),
        ("https://example.org/b", &b),
        ("https://www.example.org/b?amp=1", &b),
        ("https://amp.example.org/b", &b),
    ] {
        let found = lookup(&cms, &t, spelling).await;
        let ids: Vec<&str> = found["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [source.as_str()], "{spelling}");
    }
    let page = lookup(&cms, &t, "https://desk.example.org/v").await;
    assert_eq!(page["reviews"][0]["verdict"]["review_id"], rid);
    // Audited once, as the operator's migration step.
    let audit = t.get_json("/v1/audit?entity=url_rule&limit=10").await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["action"], "recompute_url_keys");
    assert_eq!(entries[0]["changes"]["dropped"][0]["kept_by"], a.as_str());
    // Once: the rule is recorded, and the next start changes nothing.
    let before = t.row_counts().await;
    assert_eq!(t.app.recompute_url_keys().await.unwrap(), None);
    assert_eq!(t.row_counts().await, before);
    // Another rule (an extra tracking parameter) recomputes again; nothing moves here.
    let other = t.app.clone().with_url_rule(UrlRule::new(["src"]).unwrap());
    let again = other
        .recompute_url_keys()
        .await
        .unwrap()
        .expect("a new rule");
    assert_eq!(again.previous.as_deref(), Some("rule 2; extra: "));
    assert_eq!(
        (again.source_urls, again.published_urls, again.dropped.len()),
        (0, 0, 0)
    );
    assert_eq!(other.recompute_url_keys().await.unwrap(), None);
}

/// Every string of a document that names a place is an absolute URL or URN, never a path.
fn assert_links_absolute(doc: &Value) {
    fn walk(v: &Value, at: &str) {
        match v {
            Value::String(s) => assert!(!s.starts_with('/'), "{at}: {s}"),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| walk(x, &format!("{at}/{i}"))),
            Value::Object(o) => {
                for (k, x) in o {
                    if matches!(k.as_str(), "url" | "@id") || k.starts_with("ct:") && x.is_string()
                    {
                        let s = x.as_str().unwrap_or_default();
                        if k != "ct:sha256" {
                            assert!(
                                s.starts_with("https://")
                                    || s.starts_with("http://")
                                    || s.starts_with("urn:"),
                                "{at}/{k}: {s}"
                            );
                        }
                    }
                    walk(x, &format!("{at}/{k}"));
                }
            }
            _ => {}
        }
    }
    walk(doc, "");
}

async fn markup_links_are_absolute_or_absent(backend: Backend) {
    // Without a public base URL: no links to the service's own documents.
    let t = spawn_one_person_desk(backend).await;
    let (_, cid, _) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let first = publish(&t, &cid, "false", None, "https://desk.example.org/a").await;
    let fid = first["id"].as_str().unwrap();
    let second = publish(
        &t,
        &cid,
        "mostly_false",
        Some(fid),
        "https://desk.example.org/b",
    )
    .await;
    let sid = second["id"].as_str().unwrap();
    for id in [fid, sid] {
        let doc = t.get_json(&format!("/v1/reviews/{id}/claimreview")).await;
        assert_valid_claimreview(&doc);
        assert_links_absolute(&doc);
        for own in ["ct:review", "ct:corrects", "ct:supersededBy"] {
            assert!(doc.get(own).is_none(), "{own}: {doc}");
        }
    }
    // The correction names what it corrects: the earlier verdict's page and date.
    let doc = t.get_json(&format!("/v1/reviews/{sid}/claimreview")).await;
    assert_eq!(
        doc["isBasedOn"],
        json!({"@type": "ClaimReview", "url": "https://desk.example.org/a",
               "datePublished": first["published_at"]})
    );
    // With one: absolute links under it.
    let t = spawn_one_person_desk_with(backend, |app| {
        app.with_public_url(Some("https://claims.example.org/".into()))
    })
    .await;
    let (_, cid, _) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let first = publish(&t, &cid, "false", None, "https://desk.example.org/a").await;
    let fid = first["id"].as_str().unwrap();
    let second = publish(
        &t,
        &cid,
        "mostly_false",
        Some(fid),
        "https://desk.example.org/b",
    )
    .await;
    let sid = second["id"].as_str().unwrap();
    let base = "https://claims.example.org/v1/reviews";
    let old = t.get_json(&format!("/v1/reviews/{fid}/claimreview")).await;
    assert_valid_claimreview(&old);
    assert_links_absolute(&old);
    assert_eq!(old["ct:review"], format!("{base}/{fid}"));
    assert_eq!(old["ct:supersededBy"], format!("{base}/{sid}/claimreview"));
    assert_eq!(old["correction"]["url"], "https://desk.example.org/b");
    let new = t.get_json(&format!("/v1/reviews/{sid}/claimreview")).await;
    assert_valid_claimreview(&new);
    assert_links_absolute(&new);
    assert_eq!(new["ct:review"], format!("{base}/{sid}"));
    assert_eq!(new["ct:corrects"], format!("{base}/{fid}/claimreview"));
    assert_eq!(new["isBasedOn"]["@id"], format!("{base}/{fid}/claimreview"));
    assert_eq!(new["isBasedOn"]["url"], "https://desk.example.org/a");
}

async fn the_claimant_is_typed_by_its_kind(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    let (sid, _, pid) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let _ = sid;
    let res = t
        .post(
            "/v1/claims",
            &json!({"text": "The bridge is the longest in the state.", "claimant": "Washington Post",
                    "claimant_kind": "organization", "appearances": [pid]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let claim: Value = res.json().await.unwrap();
    assert_eq!(claim["claimant_kind"], "organization");
    let cid = claim["id"].as_str().unwrap().to_owned();
    let res = t
        .post(
            &format!("/v1/claims/{cid}/evidence"),
            &json!({"passage_id": pid, "stance": "context"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let review = publish(&t, &cid, "false", None, "https://desk.example.org/wp").await;
    let rid = review["id"].as_str().unwrap();
    let path = format!("/v1/reviews/{rid}/claimreview");
    let markup = || {
        let (t, path) = (&t, path.clone());
        async move {
            let doc = t.get_json(&path).await;
            assert_valid_claimreview(&doc);
            doc["itemReviewed"]["author"].clone()
        }
    };
    assert_eq!(
        markup().await,
        json!({"@type": "Organization", "name": "Washington Post"})
    );
    // The public view says it too.
    let cms = client_with_key(&t.key(Role::Integration).await);
    let public: Value = cms
        .get(t.url(&format!("/v1/reviews/{rid}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["claim"]["claimant_kind"], "organization");
    // PATCH (JSON Merge Patch): a kind, then `null` for the default, `person`.
    let patch = |body: Value| {
        let (t, path) = (&t, format!("/v1/claims/{cid}"));
        async move {
            t.client
                .patch(t.url(&path))
                .header("content-type", "application/merge-patch+json")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
        }
    };
    let res = patch(json!({"claimant": "Jane Doe", "claimant_kind": "person"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap()["claimant_kind"],
        "person"
    );
    assert_eq!(
        markup().await,
        json!({"@type": "Person", "name": "Jane Doe"})
    );
    let res = patch(json!({"claimant": "City of Example", "claimant_kind": "organization"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = patch(json!({"claimant_kind": null})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let now: Value = res.json().await.unwrap();
    assert_eq!(now["claimant_kind"], "person");
    assert_eq!(now["claimant"], "City of Example");
    // Audited with before and after.
    let audit = t
        .get_json(&format!("/v1/audit?entity=claim&entity_id={cid}"))
        .await;
    let last = audit["items"].as_array().unwrap().last().unwrap().clone();
    let changes = &last["changes"];
    let changes = if changes.is_string() {
        serde_json::from_str(changes.as_str().unwrap()).unwrap()
    } else {
        changes.clone()
    };
    assert_eq!(changes["after"]["claimant_kind"], "person", "{last}");
    assert_eq!(changes["before"]["claimant_kind"], "organization", "{last}");
    // Not a kind: a field error, nothing written; absent: a person.
    let before = t.row_counts().await;
    let res = patch(json!({"claimant_kind": "robot"})).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation-failed").await;
    let res = t
        .post(
            "/v1/claims",
            &json!({"text": "x", "claimant": "y", "claimant_kind": "robot"}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation-failed").await;
    assert_eq!(t.row_counts().await, before);
    let res = t
        .post("/v1/claims", &json!({"text": "x", "claimant": "y"}))
        .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["claimant_kind"],
        "person"
    );
}

async fn headlines_are_stated_titles_only(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    // An article imported without a title: the import names it by its first sentence, and
    // marks that title as made up.
    let dir = t.dir().join("import");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bridge.txt"), TEXT).unwrap();
    let operator = claimtrail::domain::access::Actor::operator("test");
    let summary = claimtrail::import::import_paths(&t.app, &operator, &[dir])
        .await
        .unwrap();
    assert_eq!(summary.created, 1);
    let sources = t.get_json("/v1/sources").await;
    let imported = sources["items"][0].clone();
    assert_eq!(
        imported["title"],
        "The mayor said the new bridge cost $4 billion."
    );
    let iid = imported["id"].as_str().unwrap();
    let passage = t
        .passage(iid, json!({"quote": "the new bridge cost $4 billion"}))
        .await;
    // The same claim in an article with a stated title.
    let (_, cid, _) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let res = t
        .post(
            &format!("/v1/claims/{cid}/appearances"),
            &json!({"passage_id": passage["id"]}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let review = publish(&t, &cid, "false", None, "https://desk.example.org/h").await;
    let rid = review["id"].as_str().unwrap();
    let path = format!("/v1/reviews/{rid}/claimreview");
    let headlines = |doc: &Value| -> Vec<Option<String>> {
        doc["itemReviewed"]["appearance"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.get("headline").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    let doc = t.get_json(&path).await;
    assert_valid_claimreview(&doc);
    let mut got = headlines(&doc);
    got.sort();
    assert_eq!(got, [None, Some("Bridge debate".to_owned())], "{doc:#}");
    // A title a person sets is stated: it becomes the headline.
    let res = t
        .client
        .patch(t.url(&format!("/v1/sources/{iid}")))
        .header("content-type", "application/merge-patch+json")
        .body(json!({"title": "Mayor's bridge figure"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc = t.get_json(&path).await;
    assert_valid_claimreview(&doc);
    let mut got = headlines(&doc);
    got.sort();
    assert_eq!(
        got,
        [
            Some("Bridge debate".to_owned()),
            Some("Mayor's bridge figure".to_owned())
        ]
    );
}

async fn publishing_without_a_page_is_warned_about_until_it_is_set(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    let (_, cid, _) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    let res = t
        .post(
            &format!("/v1/claims/{cid}/reviews"),
            &json!({"rating": "false", "summary": "Construction was $2.1 billion."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut review: Value = res.json().await.unwrap();
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
        if to != "published" {
            assert_eq!(review["warnings"], json!([]), "{to}");
        }
    }
    let expect_warning = |r: &Value| {
        let w = r["warnings"].as_array().unwrap();
        assert_eq!(w.len(), 1, "{r}");
        assert_eq!(w[0]["code"], "published-url-missing");
        assert_eq!(w[0]["review_id"], rid.as_str());
        let message = w[0]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("PUT /v1/reviews/{rid}/published-url")),
            "{message}"
        );
    };
    expect_warning(&review);
    let got = t.get_json(&format!("/v1/reviews/{rid}")).await;
    expect_warning(&got);
    // The markup has no `url` meanwhile, and `check` says so too.
    let checked = t
        .get_json(&format!("/v1/reviews/{rid}/claimreview/check"))
        .await;
    assert!(checked["claim_review"].get("url").is_none());
    // Setting the page clears it, in the answer and afterwards.
    let res = t
        .client
        .put(t.url(&format!("/v1/reviews/{rid}/published-url")))
        .json(&json!({"published_url": "https://desk.example.org/checks/bridge", "revision": review["revision"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let set: Value = res.json().await.unwrap();
    assert_eq!(set["warnings"], json!([]), "{set}");
    let got = t.get_json(&format!("/v1/reviews/{rid}")).await;
    assert_eq!(got["warnings"], json!([]), "{got}");
    let doc = t.get_json(&format!("/v1/reviews/{rid}/claimreview")).await;
    assert_valid_claimreview(&doc);
}

crate::both_backends!(
    a_verdict_is_found_under_every_spelling_of_its_article,
    stored_keys_follow_a_new_url_rule_once,
    markup_links_are_absolute_or_absent,
    the_claimant_is_typed_by_its_kind,
    headlines_are_stated_titles_only,
    publishing_without_a_page_is_warned_about_until_it_is_set,
);

/// Two API nodes over one PostgreSQL starting at once with a new URL rule: one recomputes,
/// the other waits for it and finds the rule recorded (no failed start, no key written twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_starting_with_a_new_rule_recompute_once() {
    let t = spawn_one_person_desk(Backend::Postgres).await;
    let (sid, cid, _) = claim_in_article(&t, "The new bridge cost $4 billion.").await;
    publish(&t, &cid, "false", None, "https://desk.example.org/z").await;
    let res = t
        .post(
            &format!("/v1/sources/{sid}/aliases"),
            &json!({"url": "https://partner.example.net/bridge?src=feed"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let node = || async {
        let store = claimtrail::store::Store::connect(&t.db_url, 4)
            .await
            .unwrap();
        App::new(store, 0).with_url_rule(UrlRule::new(["src"]).unwrap())
    };
    let (a, b) = (node().await, node().await);
    let (ra, rb) = tokio::join!(a.recompute_url_keys(), b.recompute_url_keys());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let done: Vec<_> = [ra, rb].into_iter().flatten().collect();
    // The first recorded the rule (the test server never ran a recomputation: none before).
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].source_urls, 1, "{done:?}");
    let cms = client_with_key(&t.key(Role::Integration).await);
    // The alias is stored under the new rule's key now.
    let found = lookup(&cms, &t, "https://partner.example.net/bridge").await;
    assert_eq!(found["sources"][0]["id"], sid.as_str());
    let keyed = a
        .lookup_form("https://partner.example.net/bridge?src=x")
        .unwrap();
    assert_eq!(keyed, "https://partner.example.net/bridge");
}

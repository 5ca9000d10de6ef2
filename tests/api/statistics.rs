//! Numeric mentions: extracted when a version is stored, listed per version.

use serde_json::{Value, json};

use crate::corpus::corpus_dir;
use crate::helpers::{Backend, spawn_app};

const TEXT: &str = "In 2021 remittances reached roughly $19\nbillion, about 15 percent of \
    Guatemala\u{2019}s economy, according to the central bank. The program offers 4,000 to 6,000 \
    visas \u{1F600} a year; more than 700,000 people were displaced.";

fn quantities(stats: &Value) -> Vec<(String, String, String)> {
    stats["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "quantity")
        .map(|m| {
            (
                m["exact"].as_str().unwrap().to_owned(),
                m["value"].as_str().unwrap().to_owned(),
                m["unit"]["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn a_versions_figures_are_listed_with_exact_values_and_spans(backend: Backend) {
    let t = spawn_app(backend).await;
    let source = t.source("Figures", TEXT).await;
    let sid = source["id"].as_str().unwrap().to_owned();
    let stats = t
        .get_json(&format!("/v1/sources/{sid}/versions/1/statistics"))
        .await;
    assert_eq!(
        quantities(&stats),
        [
            (
                "roughly $19\nbillion".into(),
                "19000000000".into(),
                "currency".into()
            ),
            ("about 15 percent".into(), "15".into(), "percent".into()),
            ("4,000 to 6,000".into(), "4000".into(), "count".into()),
            ("more than 700,000".into(), "700000".into(), "count".into()),
        ]
    );
    let mentions = stats["mentions"].as_array().unwrap();
    assert_eq!(mentions[0]["kind"], "year");
    let dollars = &mentions[1];
    assert_eq!(dollars["unit"], json!({"type": "currency", "code": "USD"}));
    assert_eq!(dollars["qualifier"], "approximate");
    assert_eq!(dollars["scale"], "billion");
    let share = &mentions[2];
    assert_eq!(share["of"], "of Guatemala\u{2019}s economy");
    assert_eq!(share["attribution"], "according to the central bank");
    let range = &mentions[3];
    assert_eq!(range["high"], "6000");
    // Positions are code points (and UTF-16 units) of the stored text.
    let units: Vec<u16> = TEXT.encode_utf16().collect();
    for m in mentions {
        let (s, e) = (
            m["start"].as_u64().unwrap() as usize,
            m["end"].as_u64().unwrap() as usize,
        );
        let at: String = TEXT.chars().skip(s).take(e - s).collect();
        assert_eq!(at, m["exact"].as_str().unwrap());
        let (s16, e16) = (
            m["start_utf16"].as_u64().unwrap() as usize,
            m["end_utf16"].as_u64().unwrap() as usize,
        );
        assert_eq!(String::from_utf16(&units[s16..e16]).unwrap(), at);
    }
    assert_eq!(
        mentions[4]["start_utf16"].as_u64().unwrap(),
        mentions[4]["start"].as_u64().unwrap() + 1,
        "the emoji before counts twice in UTF-16"
    );

    // A new version has its own figures; the first keeps its.
    let res = t
        .post(
            &format!("/v1/sources/{sid}/versions"),
            &json!({"text": TEXT.replace("$19\nbillion", "$21 billion")}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let v2 = t
        .get_json(&format!("/v1/sources/{sid}/versions/2/statistics"))
        .await;
    assert_eq!(quantities(&v2)[0].1, "21000000000");
    let v1 = t
        .get_json(&format!("/v1/sources/{sid}/versions/1/statistics"))
        .await;
    assert_eq!(quantities(&v1)[0].1, "19000000000");
    let missing = t
        .get(&format!("/v1/sources/{sid}/versions/3/statistics"))
        .await;
    crate::helpers::assert_problem(missing, reqwest::StatusCode::NOT_FOUND, "unknown-version")
        .await;
}

async fn versions_extracted_by_an_older_extractor_are_extracted_again(backend: Backend) {
    let t = spawn_app(backend).await;
    claimtrail::import::import_paths(
        &t.app,
        &claimtrail::domain::access::Actor::operator("test-import"),
        &[corpus_dir()],
    )
    .await
    .unwrap();
    let before = t.row_counts().await;
    let count = |counts: &[(String, i64)], table: &str| {
        counts.iter().find(|(name, _)| name == table).unwrap().1
    };
    let stored = count(&before, "mentions");
    assert!(stored > 50, "the corpus states many figures: {stored}");
    assert_eq!(count(&before, "mention_extractions"), 5);
    // As an older extractor left them: a revision below this one's, and fewer figures.
    t.execute_sql("DELETE FROM mentions WHERE ordinal % 2 = 1")
        .await
        .unwrap();
    t.execute_sql("UPDATE mention_extractions SET extractor = 0")
        .await
        .unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let done = t
        .app
        .reextract_mentions(|done, total| seen.lock().unwrap().push((done, total)))
        .await
        .unwrap();
    assert_eq!(done, 5);
    assert_eq!(seen.lock().unwrap().last(), Some(&(5, 5)));
    assert_eq!(t.row_counts().await, before);
    // Nothing left to do the next time.
    assert_eq!(t.app.reextract_mentions(|_, _| ()).await.unwrap(), 0);
}

async fn source_on(
    t: &crate::helpers::TestApp,
    title: &str,
    publisher: &str,
    date: Option<&str>,
    text: &str,
) -> String {
    let res = t
        .post(
            "/v1/sources",
            &json!({"title": title, "publisher": publisher, "published_at": date, "text": text}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn a_figure_is_traced_through_every_source_and_chains_are_recorded(backend: Backend) {
    let t = spawn_app(backend).await;
    let report = source_on(
        &t,
        "Bank report",
        "Central Bank",
        Some("2018-06-01"),
        "Remittances reached $4 billion in 2017, a record.",
    )
    .await;
    let daily = source_on(
        &t,
        "Daily story",
        "The Daily",
        Some("2019-03-02"),
        "According to the central bank, remittances reached 4 billion dollars.",
    )
    .await;
    let weekly = source_on(
        &t,
        "Weekly column",
        "The Weekly",
        Some("2020-01-15"),
        "Some $4bn was sent home, the Daily reported.",
    )
    .await;
    source_on(
        &t,
        "Undated estimate",
        "The Daily",
        None,
        "It was roughly $4.1 billion.",
    )
    .await;
    source_on(
        &t,
        "Range",
        "Think tank",
        Some("2021-01-01"),
        "Between $3 billion and $5 billion a year.",
    )
    .await;
    source_on(
        &t,
        "Other figure",
        "The Daily",
        Some("2017-01-01"),
        "A $4 million grant and 4 billion pesos.",
    )
    .await;

    let traced = t.get_json("/v1/trace?q=%244bn").await;
    assert_eq!(traced["query"]["value"], "4000000000");
    assert_eq!(
        traced["query"]["unit"],
        json!({"type": "currency", "code": "USD"})
    );
    let hits = traced["hits"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = hits
        .iter()
        .map(|h| {
            (
                h["source"]["title"].as_str().unwrap(),
                h["match"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("Bank report", "exact"),
            ("Daily story", "exact"),
            ("Weekly column", "exact"),
            ("Range", "in_range"),
            ("Undated estimate", "approximate"),
        ],
        "earliest first, undated last: {traced}"
    );
    assert_eq!(
        hits[1]["mention"]["attribution"],
        "According to the central bank"
    );
    assert_eq!(
        hits[1]["mention"]["sentence"],
        "According to the central bank, remittances reached 4 billion dollars."
    );
    assert_eq!(hits[0]["source"]["published_at"], "2018-06-01");
    assert_eq!(
        traced["publishers"][0],
        json!({"publisher": "The Daily", "hits": 2})
    );
    assert_eq!(traced["tolerance_percent"], 5);
    assert!(hits.iter().all(|h| h["in_chain"] == false));

    // The same trace from a value and unit, and from a passage.
    let by_value: Value = t
        .post(
            "/v1/trace",
            &json!({"value": "4000000000", "unit": {"type": "currency", "code": "USD"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    // The undated source states an approximation itself, so it still matches.
    assert_eq!(by_value["hits"], traced["hits"]);
    let pa = t
        .passage(
            &report,
            json!({"quote": "Remittances reached $4 billion in 2017"}),
        )
        .await;
    let by_passage: Value = t
        .post("/v1/trace", &json!({"passage_id": pa["id"]}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_passage["hits"], traced["hits"]);
    let before = t.row_counts().await;
    let res = t.get("/v1/trace?q=no%20figure%20at%20all").await;
    crate::helpers::assert_problem(res, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "no-figure")
        .await;
    // A year is not traced, and the answer says that it is a year.
    let res = t.get("/v1/trace?q=in%202019").await;
    let problem =
        crate::helpers::assert_problem(res, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "no-figure")
            .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("a year"),
        "{problem}"
    );
    assert_eq!(
        problem["errors"][0]["message"],
        "holds a year, not a quantity"
    );
    let res = t
        .post("/v1/trace", &json!({"q": "$4bn", "value": "4"}))
        .await;
    crate::helpers::assert_problem(
        res,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;

    // A chain: the weekly derives from the daily, which quotes the bank's report.
    let pb = t
        .passage(
            &daily,
            json!({"quote": "remittances reached 4 billion dollars"}),
        )
        .await;
    let pc = t
        .passage(&weekly, json!({"quote": "Some $4bn was sent home"}))
        .await;
    let link =
        |from: &Value, relation: &str| json!({"from_passage_id": from["id"], "relation": relation});
    let path = |p: &Value| format!("/v1/passages/{}/derivations", p["id"].as_str().unwrap());
    let res = t.post(&path(&pb), &link(&pa, "quotes")).await;
    assert_eq!(res.status(), 201);
    let res = t.post(&path(&pc), &link(&pb, "derived_from")).await;
    assert_eq!(res.status(), 201);
    let lineage = t
        .get_json(&format!(
            "/v1/passages/{}/lineage",
            pc["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(lineage["hops"].as_array().unwrap().len(), 2, "{lineage}");
    assert_eq!(lineage["hops"][0]["relation"], "derived_from");
    assert_eq!(lineage["hops"][1]["from"]["source"]["title"], "Bank report");
    assert_eq!(lineage["origins"], json!([pa["id"]]));
    assert_eq!(lineage["status"], "open");
    // The bank's passage names its primary source: the chain is closed.
    let survey = source_on(
        &t,
        "Survey",
        "Statistics office",
        Some("2018-01-01"),
        "Households received $4 billion.",
    )
    .await;
    let ps = t
        .passage(&survey, json!({"quote": "Households received $4 billion."}))
        .await;
    assert_eq!(
        t.post(&path(&pa), &link(&ps, "primary_source"))
            .await
            .status(),
        201
    );
    let lineage = t
        .get_json(&format!(
            "/v1/passages/{}/lineage",
            pc["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (
            lineage["status"].as_str(),
            lineage["hops"].as_array().unwrap().len()
        ),
        (Some("closed"), 3)
    );
    assert_eq!(lineage["origins"], json!([ps["id"]]));

    // Links that would close a cycle, repeat one, or name no passage write nothing.
    let before_links = t.row_counts().await;
    let res = t.post(&path(&ps), &link(&pc, "quotes")).await;
    let problem =
        crate::helpers::assert_problem(res, reqwest::StatusCode::CONFLICT, "derivation-cycle")
            .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(ps["id"].as_str().unwrap())
    );
    let res = t.post(&path(&pc), &link(&pc, "quotes")).await;
    crate::helpers::assert_problem(res, reqwest::StatusCode::CONFLICT, "derivation-cycle").await;
    let res = t.post(&path(&pb), &link(&pa, "derived_from")).await;
    crate::helpers::assert_problem(res, reqwest::StatusCode::CONFLICT, "derivation-exists").await;
    let res = t
        .post(&path(&pb), &json!({"from_passage_id": "01000000-0000-7000-8000-000000000000", "relation": "quotes"}))
        .await;
    crate::helpers::assert_problem(
        res,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "unknown-passage",
    )
    .await;
    assert_eq!(t.row_counts().await, before_links);
    let audit = t
        .get_json(&format!(
            "/v1/audit?entity=passage&entity_id={}",
            pc["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "add_derivation")
    );

    // The trace marks the hits a chain holds.
    let traced = t.get_json("/v1/trace?q=%244bn").await;
    let chained: Vec<&str> = traced["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["in_chain"] == true)
        .map(|h| h["source"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        chained,
        ["Survey", "Bank report", "Daily story", "Weekly column"]
    );
    assert!(before.len() == t.row_counts().await.len());

    // Exports: Web Annotations for the trace, PROV-O for the lineage.
    let res = t.get("/v1/trace/annotations?q=%244bn").await;
    assert_eq!(res.headers()["content-type"], "application/ld+json");
    let annotations: Value = res.json().await.unwrap();
    assert_eq!(annotations["type"], "AnnotationCollection");
    let items = annotations["first"]["items"].as_array().unwrap();
    assert_eq!(items.len(), traced["hits"].as_array().unwrap().len());
    let selector = &items[0]["target"]["selector"];
    assert_eq!(selector[0]["type"], "TextQuoteSelector");
    assert_eq!(selector[0]["exact"], traced["hits"][0]["mention"]["exact"]);
    assert_eq!(selector[1]["start"], traced["hits"][0]["mention"]["start"]);
    let res = t
        .get(&format!(
            "/v1/passages/{}/lineage/prov",
            pc["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(res.headers()["content-type"], "application/ld+json");
    let prov: Value = res.json().await.unwrap();
    let graph = prov["@graph"].as_array().unwrap();
    assert_eq!(graph.len(), 4);
    let node = |p: &Value| {
        graph
            .iter()
            .find(|g| g["@id"] == format!("urn:claimtrail:passage:{}", p["id"].as_str().unwrap()))
            .unwrap()
            .clone()
    };
    assert_eq!(
        node(&pc)["prov:wasDerivedFrom"]["@id"],
        format!("urn:claimtrail:passage:{}", pb["id"].as_str().unwrap())
    );
    assert_eq!(
        node(&pb)["prov:wasQuotedFrom"]["@id"],
        format!("urn:claimtrail:passage:{}", pa["id"].as_str().unwrap())
    );
    assert_eq!(
        node(&pa)["prov:hadPrimarySource"]["@id"],
        format!("urn:claimtrail:passage:{}", ps["id"].as_str().unwrap())
    );
}

async fn the_corpus_figures_are_traced_across_articles(backend: Backend) {
    let t = spawn_app(backend).await;
    claimtrail::import::import_paths(
        &t.app,
        &claimtrail::domain::access::Actor::operator("test-import"),
        &[corpus_dir()],
    )
    .await
    .unwrap();
    // Each figure is stated in at least two articles; those that state it word for word are
    // counted from the corpus itself, and every hit's mention holds the figure's number (its
    // value never comes from a neighbour).
    let texts: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for (query, number) in [
        ("$4 billion", "4"),
        ("15 percent", "15"),
        ("6,000 visas", "6,000"),
    ] {
        let verbatim = texts.iter().filter(|t| t.contains(query)).count();
        let least = verbatim.max(2);
        let traced = t
            .get_json(&format!(
                "/v1/trace?q={}",
                query
                    .replace('$', "%24")
                    .replace(' ', "%20")
                    .replace(',', "%2C")
            ))
            .await;
        let sources: std::collections::BTreeSet<&str> = traced["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["source"]["id"].as_str().unwrap())
            .collect();
        assert!(sources.len() >= least, "{query}: {traced}");
        for hit in traced["hits"].as_array().unwrap() {
            let exact = hit["mention"]["exact"].as_str().unwrap();
            assert!(exact.contains(number), "{query}: a hit reads {exact:?}");
        }
    }
}

/// The batch write path of imports: all of a batch or none of it.
async fn sources_are_created_in_batches_whole_or_not_at_all(backend: Backend) {
    use claimtrail::app::SourceInput;
    let t = spawn_app(backend).await;
    let actor = claimtrail::domain::access::Actor::operator("test-batch");
    let input = |n: usize, url: Option<&str>| {
        (
            SourceInput {
                title: format!("Batch {n}"),
                url: url.map(str::to_owned),
                text: format!("It says {},000 visas and about 15 percent.", n + 1),
                ..SourceInput::default()
            },
            None,
        )
    };
    let before = t.row_counts().await;
    let ids = t
        .app
        .create_sources(&actor, (0..3).map(|n| input(n, None)).collect())
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    let after = t.row_counts().await;
    let grew = |table: &str| {
        let at = |c: &[(String, i64)]| c.iter().find(|(n, _)| n == table).unwrap().1;
        at(&after) - at(&before)
    };
    assert_eq!(
        (
            grew("sources"),
            grew("source_versions"),
            grew("audit_log"),
            grew("mentions")
        ),
        (3, 3, 3, 6)
    );
    let stats = t
        .get_json(&format!("/v1/sources/{}/versions/1/statistics", ids[2]))
        .await;
    assert_eq!(stats["mentions"][0]["value"], "3000");
    // A URL another source has fails the whole batch, which writes nothing.
    t.app
        .create_sources(&actor, vec![input(9, Some("https://example.org/taken"))])
        .await
        .unwrap();
    let before = t.row_counts().await;
    let failed = t
        .app
        .create_sources(
            &actor,
            vec![
                input(10, None),
                input(11, Some("https://example.org/taken")),
            ],
        )
        .await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(t.row_counts().await, before);
}

crate::both_backends!(
    an_import_batch_that_fails_falls_back_to_one_file_at_a_time,
    sources_are_created_in_batches_whole_or_not_at_all,
    a_versions_figures_are_listed_with_exact_values_and_spans,
    versions_extracted_by_an_older_extractor_are_extracted_again,
    a_figure_is_traced_through_every_source_and_chains_are_recorded,
    the_corpus_figures_are_traced_across_articles,
    a_revised_source_counts_once,
    a_measure_is_traced_in_its_unit,
);

/// A length written three ways is one figure in one unit; another unit of the same dimension
/// is not the same figure; a unit the lexicon does not know is refused, not searched for.
async fn a_measure_is_traced_in_its_unit(backend: Backend) {
    let t = spawn_app(backend).await;
    for (title, text) in [
        (
            "Wall",
            "Officials said the new wall runs 5 km along the river.",
        ),
        (
            "Run",
            "The charity run, a 5-kilometre loop, drew 800 people.",
        ),
        (
            "Glued",
            "Locals call the 5km path the longest in the region.",
        ),
        ("Miles", "The path is 5 miles long, the council said."),
    ] {
        t.source(title, text).await;
    }
    let report = t.get_json("/v1/trace?q=5%20kilometres").await;
    assert_eq!(
        report["query"]["unit"],
        json!({"type": "length", "code": "kilometre"})
    );
    let mut found: Vec<&str> = report["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["mention"]["exact"].as_str().unwrap())
        .collect();
    found.sort();
    assert_eq!(found, ["5 km", "5-kilometre", "5km"], "{report}");
    let before = t.row_counts().await;
    let res = t
        .post(
            "/v1/trace",
            &json!({"value": "5", "unit": {"type": "length", "code": "furlongs of road"}}),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("unit")
            || problem.to_string().contains("furlongs"),
        "{problem}"
    );
    assert_eq!(t.row_counts().await, before);
}

/// Two versions of one article that state a figure are one hit, the latest version's, naming
/// the earlier one; a source with one version names none.
async fn a_revised_source_counts_once(backend: Backend) {
    let t = spawn_app(backend).await;
    let revised = t
        .source("Remittances", "Remittances reached $19 billion last year.")
        .await;
    let sid = revised["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/v1/sources/{sid}/versions"),
            &json!({"text": "Correction: remittances reached $19 billion last year, the bank said."}),
        )
        .await;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let other = t
        .source("Weekly", "The weekly repeated the $19 billion figure.")
        .await;
    let report = t.get_json("/v1/trace?q=%2419%20billion").await;
    let hits = report["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "{report}");
    let of = |source: &Value| {
        hits.iter()
            .find(|h| h["source"]["id"] == source["id"])
            .unwrap()
            .clone()
    };
    assert_eq!(of(&revised)["version"], 2);
    assert_eq!(of(&revised)["earlier_versions"], json!([1]));
    assert_eq!(of(&other)["earlier_versions"], json!([]));
    assert_eq!(
        report["publishers"].as_array().unwrap().len(),
        1,
        "both without a publisher"
    );
    assert_eq!(report["publishers"][0]["hits"], 2);
}

/// New files go in one batch; a batch the store refuses (two files claim one URL) is imported
/// file by file, as before batches, so nothing is lost and nothing doubles.
async fn an_import_batch_that_fails_falls_back_to_one_file_at_a_time(backend: Backend) {
    let t = spawn_app(backend).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "First capture: 6,000 visas.").unwrap();
    std::fs::write(dir.path().join("b.txt"), "Second capture: 7,000 visas.").unwrap();
    std::fs::write(dir.path().join("c.txt"), "Another article: 15 percent.").unwrap();
    std::fs::write(
        dir.path().join("manifest.json"),
        r#"{"documents": [
            {"file": "a.txt", "url": "https://example.org/same"},
            {"file": "b.txt", "url": "https://example.org/same"}
        ]}"#,
    )
    .unwrap();
    let summary = claimtrail::import::import_paths(
        &t.app,
        &claimtrail::domain::access::Actor::operator("test-import"),
        &[dir.path().to_path_buf()],
    )
    .await
    .unwrap();
    assert_eq!(
        (summary.created, summary.new_versions, summary.failed.len()),
        (2, 1, 0),
        "{summary:?}"
    );
    let counts = t.row_counts().await;
    let at = |table: &str| counts.iter().find(|(n, _)| n == table).unwrap().1;
    assert_eq!(
        (
            at("sources"),
            at("source_versions"),
            at("mention_extractions")
        ),
        (2, 3, 3)
    );
}

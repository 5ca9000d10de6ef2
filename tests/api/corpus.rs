//! The real articles in ../shared/corpus (read from there, never copied into the repo).

use std::path::PathBuf;

use claimtrail::domain::access::Actor;
use claimtrail::import;
use reqwest::StatusCode;
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

use crate::helpers::{Backend, TestApp, assert_problem, cp_span, spawn_app};

pub fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

fn read(prefix: &str) -> (String, String) {
    let dir = corpus_dir();
    let entry = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus must be at {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .expect("corpus file");
    let name = entry.file_name().to_string_lossy().into_owned();
    (name, std::fs::read_to_string(entry.path()).unwrap())
}

/// Imports the corpus and returns the source id of the file starting with `prefix`.
async fn imported(t: &TestApp, prefix: &str) -> (String, String) {
    import::import_paths(&t.app, &Actor::operator("test-import"), &[corpus_dir()])
        .await
        .unwrap();
    let (name, text) = read(prefix);
    let list: Value = t.get_json("/v1/sources?limit=10").await;
    let sha = claimtrail::domain::sha256_hex(&text);
    let source = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["version"]["sha256"] == sha.as_str())
        .unwrap_or_else(|| panic!("{name} imported"));
    (source["id"].as_str().unwrap().to_owned(), text)
}

fn span_of(p: &Value) -> (usize, usize) {
    (
        p["start"].as_u64().unwrap() as usize,
        p["end"].as_u64().unwrap() as usize,
    )
}

async fn importing_the_corpus_twice_stores_each_text_once(backend: Backend) {
    let t = spawn_app(backend).await;
    let first = import::import_paths(&t.app, &Actor::operator("test-import"), &[corpus_dir()])
        .await
        .unwrap();
    assert_eq!(
        (
            first.created,
            first.new_versions,
            first.unchanged,
            first.failed.len()
        ),
        (5, 0, 0, 0)
    );
    let counts = t.row_counts().await;
    let again = import::import_paths(&t.app, &Actor::operator("test-import"), &[corpus_dir()])
        .await
        .unwrap();
    assert_eq!(
        (again.created, again.new_versions, again.unchanged),
        (0, 0, 5)
    );
    assert_eq!(t.row_counts().await, counts);

    let list: Value = t.get_json("/v1/sources").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus_dir().join("manifest.json")).unwrap())
            .unwrap();
    for doc in manifest["documents"].as_array().unwrap() {
        let text =
            std::fs::read_to_string(corpus_dir().join(doc["file"].as_str().unwrap())).unwrap();
        let sha = claimtrail::domain::sha256_hex(&text);
        let source = items
            .iter()
            .find(|s| s["version"]["sha256"] == sha.as_str())
            .expect("imported");
        assert_eq!(source["authors"], doc["authors"]);
        assert_eq!(source["publisher"], doc["publisher"]);
        // The manifest's kind is kept (absent or null stays null).
        assert_eq!(
            source["kind"],
            doc.get("kind").cloned().unwrap_or(Value::Null)
        );
        if let Some(title) = doc["title"].as_str() {
            assert_eq!(source["title"], title);
        }
        assert_eq!(source["version"]["length"], text.chars().count());
        let id = source["id"].as_str().unwrap();
        let v: Value = t.get_json(&format!("/v1/sources/{id}/versions/1")).await;
        assert_eq!(v["text"].as_str().unwrap(), text, "byte-exact");
    }
}

async fn quotes_across_hard_line_wraps_resolve(backend: Backend) {
    let t = spawn_app(backend).await;
    let (id, text) = imported(&t, "003_").await;
    let pasted = "deploying thousands of troops to the southern border, using tear gas against women and children";
    let p = t.passage(&id, json!({"quote": pasted})).await;
    let start = text.find("deploying thousands").unwrap();
    let end = text.find("women and children").unwrap() + "women and children".len();
    let exact = &text[start..end];
    assert!(exact.contains('\n'), "the stored text wraps here");
    assert_eq!(p["exact"], exact);
    assert_eq!(span_of(&p), cp_span(&text, exact, 0));
}

async fn straight_quotes_match_typographic_ones(backend: Backend) {
    let t = spawn_app(backend).await;
    let (id, text) = imported(&t, "002_").await;
    let p = t.passage(&id, json!({"quote": "she described as the \"acute causes\" of the spike in migration - hurricanes"})).await;
    let exact = "she described as the \u{201C}acute causes\u{201D} of the spike in migration \u{2013} hurricanes";
    assert_eq!(p["exact"], exact);
    assert_eq!(span_of(&p), cp_span(&text, exact, 0));
    let p = t
        .passage(&id, json!({"quote": "the US government's commitment"}))
        .await;
    assert_eq!(p["exact"], "the US government\u{2019}s commitment");
    assert_eq!(
        span_of(&p),
        cp_span(&text, "the US government\u{2019}s commitment", 0)
    );

    let (id, text) = imported(&t, "001_").await;
    let p = t
        .passage(
            &id,
            json!({"quote": "around 15 percent of Guatemala's economy-and more than one-fifth"}),
        )
        .await;
    // The text has no-break spaces here, and an em dash.
    let exact = "around\u{00A0}15 percent\u{00A0}of Guatemala\u{2019}s economy\u{2014}and more than\u{00A0}one-fifth";
    assert_eq!(p["exact"], exact);
    assert_eq!(span_of(&p), cp_span(&text, exact, 0));
}

async fn a_quote_in_nfd_matches_the_nfc_text(backend: Backend) {
    let t = spawn_app(backend).await;
    let (id, text) = imported(&t, "001_").await;
    let nfc = "In the villages around Patz\u{00FA}n, the houses are generally well built";
    assert!(text.contains(nfc));
    let nfd: String = nfc.nfd().collect();
    assert_ne!(nfd, nfc);
    let p = t.passage(&id, json!({"quote": nfd})).await;
    assert_eq!(p["exact"], nfc);
    assert_eq!(span_of(&p), cp_span(&text, nfc, 0));
}

async fn accents_tell_the_two_captions_apart(backend: Backend) {
    let t = spawn_app(backend).await;
    let (id, text) = imported(&t, "001_").await;
    let plain = t
        .passage(&id, json!({"quote": "highlands town of Cajola, Guatemala"}))
        .await;
    assert_eq!(
        span_of(&plain),
        cp_span(&text, "highlands town of Cajola, Guatemala", 0)
    );
    let accented = t
        .passage(
            &id,
            json!({"quote": "highlands town of Cajol\u{00E1}, Guatemala"}),
        )
        .await;
    assert_eq!(
        span_of(&accented),
        cp_span(&text, "highlands town of Cajol\u{00E1}, Guatemala", 0)
    );
    assert_ne!(plain["start"], accented["start"]);
}

async fn a_repeated_pull_quote_is_ambiguous_until_a_suffix_picks_one(backend: Backend) {
    let t = spawn_app(backend).await;
    let (id, text) = imported(&t, "001_").await;
    let quote = "Even in places where violence is severe, labor pathways could help the vast majority of people whose motives for moving are perhaps more mixed.";
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": quote}),
        )
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "ambiguous-quote").await;
    assert_eq!(p["candidate_count"], 2);
    let first = cp_span(&text, quote, 0);
    let second = cp_span(&text, quote, text.find(quote).unwrap() + 1);
    let got: Vec<(usize, usize)> = p["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(span_of)
        .collect();
    assert_eq!(got, [first, second]);
    let resolved = t
        .passage(
            &id,
            json!({"quote": quote, "suffix": "But for those in imminent danger"}),
        )
        .await;
    assert_eq!(span_of(&resolved), second);
    assert_eq!(resolved["exact"], quote);
    // The client can also send back a candidate's positions.
    let by_position = t
        .passage(&id, json!({"start": first.0, "end": first.1}))
        .await;
    assert_eq!(by_position["exact"], quote);
}

/// Quotes as people cut and paste them (issue 19): with ellipses, and inside quote marks.
async fn elided_and_quoted_pastes_resolve_on_the_corpus(backend: Backend) {
    let t = spawn_app(backend).await;
    let (id, text) = imported(&t, "001_").await;
    let pasted = "Remittances are as important \u{2026} country\u{2019}s exports";
    let p = t.passage(&id, json!({"quote": pasted})).await;
    let start = text.find("Remittances are as important").unwrap();
    let end = text.find("country\u{2019}s exports").unwrap() + "country\u{2019}s exports".len();
    assert_eq!(p["exact"], &text[start..end]);
    assert_eq!(span_of(&p), cp_span(&text, &text[start..end], 0));
    assert_eq!(p["pasted"], pasted);
    let got: Value = t
        .get_json(&format!("/v1/passages/{}", p["id"].as_str().unwrap()))
        .await;
    assert_eq!(got["pasted"], pasted);
    // The audit entry keeps it too.
    let audit: Value = t
        .get_json(&format!(
            "/v1/audit?entity=passage&entity_id={}",
            p["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(audit["items"][0]["changes"]["pasted"], pasted);

    // Straight dots; the first part occurs twice in the text, but only once before the second.
    let p = t
        .passage(
            &id,
            json!({"quote": "\"Remittances ... now make up around 15 percent\""}),
        )
        .await;
    let start = text.find("Remittances, the money").unwrap();
    let end = text[start..].find("15 percent").unwrap() + start + "15 percent".len();
    assert_eq!(p["exact"], &text[start..end]);

    // Curly marks around a quote the text does not hold in marks are dropped.
    let p = t
        .passage(
            &id,
            json!({"quote": "\u{201C}Remittances are as important to the Guatemalan economy\u{201D}"}),
        )
        .await;
    assert_eq!(
        p["exact"],
        "Remittances are as important to the Guatemalan economy"
    );

    // A part found nowhere is named, and nothing is written.
    let before = t.row_counts().await;
    let res = t
        .post(
            &format!("/v1/sources/{id}/passages"),
            &json!({"quote": "Remittances are as important [...] country's imports"}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "quote-not-found").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("part 2") && detail.contains("country's imports"),
        "{detail}"
    );
    assert_eq!(t.row_counts().await, before);
}

/// Two imports of the same file at once (the lookup of each finds nothing, then both insert):
/// both succeed, one stores the source and the other finds its text stored, never an error.
async fn imports_of_one_file_racing_store_it_once(backend: Backend) {
    let t = spawn_app(backend).await;
    let actor = Actor::operator("test-import");
    for n in 0..10 {
        let name = format!("race-{n}.txt");
        let text = format!("A text imported twice at once, number {n}.");
        let (a, b) = tokio::join!(
            import::import_text(&t.app, &actor, &name, text.clone(), None),
            import::import_text(&t.app, &actor, &name, text.clone(), None),
        );
        let outcomes = [a.expect("first import"), b.expect("second import")];
        let created = outcomes
            .iter()
            .filter(|o| matches!(o, import::Imported::Created { .. }))
            .count();
        assert_eq!(created, 1, "{n}: {outcomes:?}");
    }
    let list: Value = t.get_json("/v1/sources?limit=50").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 10);
}

crate::both_backends!(
    imports_of_one_file_racing_store_it_once,
    importing_the_corpus_twice_stores_each_text_once,
    quotes_across_hard_line_wraps_resolve,
    straight_quotes_match_typographic_ones,
    a_quote_in_nfd_matches_the_nfc_text,
    accents_tell_the_two_captions_apart,
    a_repeated_pull_quote_is_ambiguous_until_a_suffix_picks_one,
    elided_and_quoted_pastes_resolve_on_the_corpus,
);

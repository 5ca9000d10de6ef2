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

async fn versions_stored_before_extraction_are_backfilled(backend: Backend) {
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
    t.execute_sql("DELETE FROM mentions").await.unwrap();
    t.execute_sql("DELETE FROM mention_extractions")
        .await
        .unwrap();
    let seen = std::sync::Mutex::new(Vec::new());
    let done = t
        .app
        .backfill_mentions(|done, total| seen.lock().unwrap().push((done, total)))
        .await
        .unwrap();
    assert_eq!(done, 5);
    assert_eq!(seen.lock().unwrap().last(), Some(&(5, 5)));
    assert_eq!(t.row_counts().await, before);
    // Nothing left to do the next time.
    assert_eq!(t.app.backfill_mentions(|_, _| ()).await.unwrap(), 0);
}

crate::both_backends!(
    a_versions_figures_are_listed_with_exact_values_and_spans,
    versions_stored_before_extraction_are_backfilled,
);

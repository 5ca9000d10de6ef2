//! Re-anchoring: a new version of a source places every passage of the version before.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::corpus::corpus_dir;
use crate::helpers::{Backend, TestApp, assert_problem, cp_span, spawn_one_person_desk};

const P_FIGURE: &str = "Remittances reached $19 billion last year, about 15 percent of the \
    economy, the central bank said in its annual report.";
const P_VISAS: &str = "The program offers 6,000 visas a year to workers from the region. \
    Officials expect the number to grow.";
const P_TYPO: &str = "A third paragraph describes the goverment response in detail, with \
    quotes from ministers.";
const P_DELETED: &str = "This paragraph will be deleted entirely from the next version of \
    the article.";
const P_REPEATED: &str = "The mayor said the plan would work. Critics disagreed with the mayor.";
const P_QUOTE: &str = "\u{201C}We will not stop,\u{201D} she said, and left the room.";

/// Breaks lines at `width` characters, as a page's rendering or a re-capture does.
fn reflow(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for paragraph in text.split("\n\n") {
        if !out.is_empty() {
            out.push_str("\n\n");
            line = 0;
        }
        for word in paragraph.split_whitespace() {
            if line > 0 && line + 1 + word.chars().count() > width {
                out.push('\n');
                line = 0;
            } else if line > 0 {
                out.push(' ');
                line += 1;
            }
            out.push_str(word);
            line += word.chars().count();
        }
    }
    out
}

fn chars(text: &str, start: u64, end: u64) -> String {
    text.chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect()
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.replace(['\u{201C}', '\u{201D}'], "\""))
        .collect()
}

async fn add_version(t: &TestApp, source: &str, text: &str) -> Value {
    let res = t
        .post(
            &format!("/v1/sources/{source}/versions"),
            &json!({"text": text}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn put(t: &TestApp, client: &Client, path: &str, body: &Value) -> reqwest::Response {
    client.put(t.url(path)).json(body).send().await.unwrap()
}

/// Drafts, submits, approves and publishes a verdict (one-person desk).
async fn publish(t: &TestApp, claim: &str) -> Value {
    let draft = json!({"rating": "false", "summary": "The bank's figure is lower."});
    crate::helpers::publish_alone(t, claim, draft, None).await
}

fn placement_of<'a>(report: &'a Value, passage: &Value) -> &'a Value {
    report["placements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["passage_id"] == passage["id"])
        .unwrap_or_else(|| panic!("{} has a placement: {report}", passage["id"]))
}

async fn a_revision_places_moves_flags_and_orphans_passages(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    let paragraphs = [P_FIGURE, P_VISAS, P_DELETED, P_TYPO, P_REPEATED, P_QUOTE];
    let v1 = paragraphs.join("\n\n");
    let source = t.source("Revised article", &v1).await;
    let sid = source["id"].as_str().unwrap().to_owned();
    let quote = |q: &str| json!({ "quote": q });
    let figure = t
        .passage(&sid, quote("Remittances reached $19 billion last year"))
        .await;
    let visas = t
        .passage(&sid, quote("The program offers 6,000 visas a year"))
        .await;
    let typo = t
        .passage(&sid, quote("describes the goverment response in detail"))
        .await;
    let deleted = t.passage(&sid, quote("will be deleted entirely")).await;
    let repeated = t
        .passage(&sid, quote("The mayor said the plan would work."))
        .await;
    let speech = t
        .passage(&sid, quote("\"We will not stop,\" she said"))
        .await;

    // One claim rests on the figure (evidence) and has a published verdict; another only
    // appeared in the visas paragraph.
    let (cid, _) = t
        .claim_with_evidence("Remittances are $19 billion.", &visas, &figure, "supports")
        .await;
    let other: Value = t
        .post(
            "/v1/claims",
            &json!({"text": "The program offers 6,000 visas.", "appearances": [visas["id"]]}),
        )
        .await
        .json()
        .await
        .unwrap();
    publish(&t, &cid).await;
    assert_eq!(
        t.get_json("/v1/claims?attention=true").await["items"],
        json!([])
    );

    // Version 2: a note on top, every line re-wrapped, a figure changed, a typo fixed, a
    // paragraph deleted, a sentence repeated right after itself, straight quotes.
    let v2_paragraphs = [
        "Editor's note: figures were updated on 2 March.",
        &P_FIGURE.replace("$19 billion", "$21 billion"),
        P_VISAS,
        &P_TYPO.replace("goverment", "government"),
        &P_REPEATED.replace(
            "would work.",
            "would work. The mayor said the plan would work.",
        ),
        &P_QUOTE.replace(['\u{201C}', '\u{201D}'], "\""),
    ];
    let v2 = reflow(&v2_paragraphs.join("\n\n"), 38);
    let before = t.row_counts().await;
    let version = add_version(&t, &sid, &v2).await;
    assert_eq!(version["number"], 2);

    let report = t
        .get_json(&format!("/v1/sources/{sid}/versions/2/placements"))
        .await;
    assert_eq!(
        (
            &report["previous"],
            &report["placed"],
            &report["changed"],
            &report["orphaned"]
        ),
        (&json!(1), &json!(2), &json!(2), &json!(2)),
        "{report}"
    );
    for (passage, state) in [
        (&visas, "placed"),
        (&speech, "placed"),
        (&figure, "changed"),
        (&typo, "changed"),
        (&deleted, "orphaned"),
        (&repeated, "orphaned"),
    ] {
        let p = placement_of(&report, passage);
        assert_eq!(p["state"], state, "{} in {p}", passage["exact"]);
        assert_eq!(p["version"], 2);
        if state == "orphaned" {
            assert!(p["start"].is_null() && p["exact"].is_null(), "{p}");
            continue;
        }
        // The positions name the text in version 2, in code points and in UTF-16.
        let (start, end) = (p["start"].as_u64().unwrap(), p["end"].as_u64().unwrap());
        assert_eq!(chars(&v2, start, end), p["exact"].as_str().unwrap(), "{p}");
        assert_eq!(p["start_utf16"], p["start"], "no astral characters here");
        if state == "placed" {
            assert_eq!(p["score"], 1.0);
            assert_eq!(
                words(p["exact"].as_str().unwrap()),
                words(passage["exact"].as_str().unwrap())
            );
            assert!(p["change"].is_null());
        }
    }
    let moved = placement_of(&report, &visas);
    assert_ne!(moved["start"], visas["start"], "the note above moved it");
    assert_eq!(placement_of(&report, &visas)["method"], "diff");
    let changed = placement_of(&report, &figure);
    assert_eq!(
        changed["change"]["numbers"],
        json!({"removed": ["$19 billion"], "added": ["$21 billion"]})
    );
    assert_eq!(changed["change"]["before"], figure["exact"]);
    assert_eq!(
        words(changed["exact"].as_str().unwrap()),
        words("Remittances reached $21 billion last year")
    );
    let fixed = placement_of(&report, &typo);
    assert!(fixed["change"]["numbers"].is_null(), "{fixed}");
    assert!(
        fixed["change"]["words"]
            .as_array()
            .unwrap()
            .contains(&json!({"op": "delete", "text": "goverment"})),
        "{fixed}"
    );
    assert!(fixed["score"].as_f64().unwrap() > 0.5 && fixed["score"].as_f64().unwrap() < 1.0);
    assert_eq!(
        placement_of(&report, &repeated)["orphan"],
        json!({"reason": "ambiguous", "candidates": 2})
    );
    assert_eq!(
        placement_of(&report, &deleted)["orphan"]["reason"],
        "not_found"
    );

    // The passage itself never moves; its placements say where it stands.
    assert_eq!(
        t.get_json(&format!("/v1/passages/{}", figure["id"].as_str().unwrap()))
            .await["version"],
        1
    );
    let history = t
        .get_json(&format!(
            "/v1/passages/{}/placements",
            figure["id"].as_str().unwrap()
        ))
        .await["items"]
        .clone();
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["state"], "changed");

    // The write added one version (with its figures), six placements, two audit entries and
    // five changes in the feed (the version, and the two changed and two orphaned passages),
    // nothing else.
    let after = t.row_counts().await;
    let grew: Vec<(String, i64)> = after
        .iter()
        .zip(&before)
        .filter(|(a, b)| a.1 != b.1 && a.0 != "mentions")
        .map(|(a, b)| (a.0.clone(), a.1 - b.1))
        .collect();
    assert_eq!(
        grew,
        [
            ("audit_log".to_owned(), 2),
            ("audit_tree".to_owned(), 2),
            ("changes".to_owned(), 5),
            ("mention_extractions".to_owned(), 1),
            ("placements".to_owned(), 6),
            ("source_versions".to_owned(), 1)
        ]
    );
    // Editorial roles hear of each changed or lost passage in the change feed.
    let feed = t.get("/v1/changes").await.text().await.unwrap();
    let mut announced: Vec<(String, String)> = feed
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|c| c["type"] == "passage.changed")
        .map(|c| {
            (
                c["entity_id"].as_str().unwrap().to_owned(),
                c["data"]["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    announced.sort();
    let mut expected: Vec<(String, String)> = [
        (&figure, "changed"),
        (&typo, "changed"),
        (&deleted, "orphaned"),
        (&repeated, "orphaned"),
    ]
    .iter()
    .map(|(p, s)| (p["id"].as_str().unwrap().to_owned(), (*s).to_owned()))
    .collect();
    expected.sort();
    assert_eq!(announced, expected);
    let audit = t
        .get_json(&format!("/v1/audit?entity=source&entity_id={sid}"))
        .await;
    let placed = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "place_passages")
        .expect("the placements are audited");
    let changes: Value = placed["changes"].clone();
    assert_eq!(
        (
            &changes["placed"],
            &changes["changed"],
            &changes["orphaned"]
        ),
        (&json!(2), &json!(2), &json!(2))
    );

    // The claim resting on the changed figure needs attention; the verdict is flagged, not
    // altered; the claim that only appeared in a placed passage does not.
    let listed = t.get_json("/v1/claims?attention=true").await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "{listed} (not {})",
        other["id"]
    );
    assert_eq!(listed["items"][0]["id"], cid.as_str());
    let view = t.get_json(&format!("/v1/claims/{cid}")).await;
    assert_eq!(view["verdict_needs_recheck"], true);
    assert_eq!(view["verdict"]["state"], "published");
    assert_eq!(view["attention"].as_array().unwrap().len(), 1);
    assert_eq!(view["attention"][0]["role"], "evidence");
    assert_eq!(view["attention"][0]["passage_id"], figure["id"]);
    assert_eq!(view["attention"][0]["placement"]["state"], "changed");

    // A fact-checker confirms the new figure: the claim leaves the list, the trail says who.
    let path = format!(
        "/v1/passages/{}/placements/2",
        figure["id"].as_str().unwrap()
    );
    let res = put(
        &t,
        &t.client,
        &path,
        &json!({"confirm": true, "note": "The bank revised the figure."}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let confirmed: Value = res.json().await.unwrap();
    assert_eq!(confirmed["state"], "changed");
    assert!(confirmed["reviewed_by"].is_string() && confirmed["reviewed_at"].is_string());
    assert_eq!(
        t.get_json("/v1/claims?attention=true").await["items"],
        json!([])
    );
    let view = t.get_json(&format!("/v1/claims/{cid}")).await;
    assert_eq!(view["verdict_needs_recheck"], false);
    let audit = t
        .get_json(&format!(
            "/v1/audit?entity=passage&entity_id={}",
            figure["id"].as_str().unwrap()
        ))
        .await;
    let last = audit["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "decide_placement");

    // A placed passage has nothing to confirm; a confirmed text is the new baseline, so a
    // re-capture that keeps it places it.
    let res = put(
        &t,
        &t.client,
        &format!(
            "/v1/passages/{}/placements/2",
            visas["id"].as_str().unwrap()
        ),
        &json!({"confirm": true}),
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation-failed").await;
    add_version(&t, &sid, &format!("{v2}\n\nA closing line.")).await;
    let report = t
        .get_json(&format!("/v1/sources/{sid}/versions/3/placements"))
        .await;
    assert_eq!(
        placement_of(&report, &figure)["state"],
        "placed",
        "{report}"
    );
    assert_eq!(placement_of(&report, &typo)["state"], "changed");
    assert_eq!(placement_of(&report, &deleted)["state"], "orphaned");
    // Version 2 is no longer the one to decide on.
    let res = put(&t, &t.client, &path, &json!({"confirm": true})).await;
    assert_problem(res, StatusCode::CONFLICT, "not-latest-version").await;
}

async fn offsets_in_utf16_and_placing_by_hand(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    // 😀 and 𠀀 are two UTF-16 units each; 漢字 one each.
    let v1 = "Intro 😀 line. 漢字 said the quoted words 𠀀 here. Tail.";
    let source = t.source("Emoji", v1).await;
    let sid = source["id"].as_str().unwrap().to_owned();
    let units: Vec<u16> = v1.encode_utf16().collect();
    let (start, end) = cp_span(v1, "the quoted words 𠀀", 0);
    let utf16 = |cp: usize| v1.chars().take(cp).map(char::len_utf16).sum::<usize>();
    let res = t
        .post(
            &format!("/v1/sources/{sid}/passages?offsets=utf16"),
            &json!({"start": utf16(start), "end": utf16(end)}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let passage: Value = res.json().await.unwrap();
    assert_eq!(passage["exact"], "the quoted words 𠀀");
    assert_eq!(
        (passage["start"].as_u64(), passage["end"].as_u64()),
        (Some(start as u64), Some(end as u64))
    );
    let (s16, e16) = (
        passage["start_utf16"].as_u64().unwrap() as usize,
        passage["end_utf16"].as_u64().unwrap() as usize,
    );
    assert_eq!((s16, e16), (utf16(start), utf16(end)));
    assert_eq!(
        String::from_utf16(&units[s16..e16]).unwrap(),
        "the quoted words 𠀀"
    );
    assert_eq!(e16 - s16, end - start + 1, "𠀀 counts twice in UTF-16");
    // A UTF-16 offset inside the emoji's surrogate pair names no character.
    let inside = v1.find('😀').unwrap() + 1;
    let before = t.row_counts().await;
    let res = t
        .post(
            &format!("/v1/sources/{sid}/passages?offsets=utf16"),
            &json!({"start": inside, "end": inside + 4}),
        )
        .await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation-failed").await;
    assert_eq!(problem["errors"][0]["field"], "start", "{problem}");
    assert_eq!(t.row_counts().await, before);

    // The sentence is rewritten out of version 2: orphaned; a person places it by hand.
    let v2 = "Intro 😀 line. 漢字 nothing of it remains 𠀀 here. Tail.";
    add_version(&t, &sid, v2).await;
    let pid = passage["id"].as_str().unwrap().to_owned();
    let placements = t.get_json(&format!("/v1/passages/{pid}/placements")).await["items"].clone();
    assert_eq!(placements[0]["state"], "orphaned", "{placements}");
    let res = put(
        &t,
        &t.client,
        &format!("/v1/passages/{pid}/placements/2"),
        &json!({"quote": "the quoted words"}),
    )
    .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "quote-not-found").await;
    let res = put(
        &t,
        &t.client,
        &format!("/v1/passages/{pid}/placements/1"),
        &json!({"confirm": true}),
    )
    .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not-found").await;
    let units2: Vec<u16> = v2.encode_utf16().collect();
    let (s2, e2) = cp_span(v2, "nothing of it remains 𠀀", 0);
    let utf16_2 = |cp: usize| v2.chars().take(cp).map(char::len_utf16).sum::<usize>();
    let res = put(
        &t,
        &t.client,
        &format!("/v1/passages/{pid}/placements/2?offsets=utf16"),
        &json!({"start": utf16_2(s2), "end": utf16_2(e2), "note": "Reworded."}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let placed: Value = res.json().await.unwrap();
    assert_eq!(placed["method"], "manual");
    assert_eq!(placed["state"], "changed");
    assert_eq!(placed["exact"], "nothing of it remains 𠀀");
    assert_eq!(placed["note"], "Reworded.");
    let (ps, pe) = (
        placed["start_utf16"].as_u64().unwrap() as usize,
        placed["end_utf16"].as_u64().unwrap() as usize,
    );
    assert_eq!(
        String::from_utf16(&units2[ps..pe]).unwrap(),
        "nothing of it remains 𠀀"
    );
    assert_eq!(placed["start"], s2 as u64);
    assert_eq!(
        t.get_json(&format!("/v1/passages/{pid}/placements")).await["items"][0]["method"],
        "manual"
    );

    // A passage made on an old version is placed on every later one at once.
    let old = t
        .passage(&sid, json!({"quote": "Intro 😀 line.", "version": 1}))
        .await;
    let placements = t
        .get_json(&format!(
            "/v1/passages/{}/placements",
            old["id"].as_str().unwrap()
        ))
        .await["items"]
        .clone();
    assert_eq!(placements.as_array().unwrap().len(), 1);
    assert_eq!(placements[0]["version"], 2);
    assert_eq!(placements[0]["state"], "placed");
    assert_eq!(placements[0]["start_utf16"], 0);
}

/// Runs of ten words that occur once in a text, spread over it, two of them around figures.
fn quotable(text: &str, most: usize) -> Vec<String> {
    const WORDS: usize = 10;
    let words: Vec<&str> = text.split_whitespace().collect();
    let folded = words.join(" ");
    let figures = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.contains(|c: char| c.is_ascii_digit()))
        .map(|(i, _)| i.saturating_sub(3));
    let spread = (0..most).map(|k| k * words.len().saturating_sub(WORDS) / most);
    let mut starts: Vec<usize> = figures.step_by(5).take(2).chain(spread).collect();
    starts.sort_unstable();
    let mut out: Vec<(usize, String)> = Vec::new();
    for start in starts {
        let end = (start + WORDS).min(words.len());
        let run = words[start..end].join(" ");
        let apart = out.last().is_none_or(|(s, _)| start >= s + WORDS);
        if apart && folded.matches(run.as_str()).count() == 1 {
            out.push((start, run));
        }
    }
    out.into_iter().map(|(_, run)| run).collect()
}

async fn corpus_revisions_keep_passages_and_flag_changed_figures(backend: Backend) {
    let t = spawn_one_person_desk(backend).await;
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".txt"))
        .collect();
    files.sort_by_key(|e| e.file_name());
    assert!(files.len() >= 5);
    let mut changed_figures = 0;
    for file in files {
        let name = file.file_name().to_string_lossy().into_owned();
        let v1 = std::fs::read_to_string(file.path()).unwrap();
        let source = t.source(&name, &v1).await;
        let sid = source["id"].as_str().unwrap().to_owned();
        let mut passages = Vec::new();
        for sentence in quotable(&v1, 8) {
            passages.push(t.passage(&sid, json!({ "quote": sentence })).await);
        }
        assert!(passages.len() >= 3, "{name}: {} passages", passages.len());

        // A note on top and every line re-wrapped: every passage stays, its text unchanged.
        let v2 = reflow(
            &format!("Update: this article was re-published.\n\n{v1}"),
            50,
        );
        add_version(&t, &sid, &v2).await;
        let report = t
            .get_json(&format!("/v1/sources/{sid}/versions/2/placements"))
            .await;
        assert_eq!(report["placed"], passages.len(), "{name}: {report}");
        for p in &passages {
            let placed = placement_of(&report, p);
            let (s, e) = (
                placed["start"].as_u64().unwrap(),
                placed["end"].as_u64().unwrap(),
            );
            assert_eq!(chars(&v2, s, e), placed["exact"].as_str().unwrap());
            assert_eq!(
                words(placed["exact"].as_str().unwrap()),
                words(p["exact"].as_str().unwrap()),
                "{name}"
            );
        }

        // Version 3: a figure changed inside one passage, another passage's sentence deleted.
        let with_digit = passages.iter().position(|p| {
            p["exact"]
                .as_str()
                .unwrap()
                .contains(|c: char| c.is_ascii_digit())
        });
        let mut v3 = v2.clone();
        let mut expect: Vec<(usize, &str)> = Vec::new();
        if let Some(i) = with_digit {
            let placed = placement_of(&report, &passages[i]);
            let exact = placed["exact"].as_str().unwrap();
            let digit = exact.find(|c: char| c.is_ascii_digit()).unwrap();
            let d = exact[digit..].chars().next().unwrap().to_digit(10).unwrap();
            let edited = format!("{}{}{}", &exact[..digit], (d + 1) % 10, &exact[digit + 1..]);
            v3 = v3.replacen(exact, &edited, 1);
            expect.push((i, "changed"));
            changed_figures += 1;
        }
        let gone = (0..passages.len())
            .find(|&i| Some(i) != with_digit)
            .unwrap();
        let gone_text = placement_of(&report, &passages[gone])["exact"]
            .as_str()
            .unwrap()
            .to_owned();
        v3 = v3.replacen(&gone_text, "", 1);
        add_version(&t, &sid, &v3).await;
        let report = t
            .get_json(&format!("/v1/sources/{sid}/versions/3/placements"))
            .await;
        for (i, p) in passages.iter().enumerate() {
            let placed = placement_of(&report, p);
            let state = placed["state"].as_str().unwrap();
            if i == gone {
                // Never placed elsewhere: lost, or flagged when a lookalike remains.
                assert_ne!(state, "placed", "{name}: {placed}");
            } else if let Some((_, want)) = expect.iter().find(|(k, _)| *k == i) {
                assert_eq!(state, *want, "{name}: {placed}");
                let numbers = &placed["change"]["numbers"];
                assert!(
                    !numbers["removed"].as_array().unwrap().is_empty()
                        && !numbers["added"].as_array().unwrap().is_empty(),
                    "{name}: {placed}"
                );
            } else {
                assert_eq!(state, "placed", "{name}: {placed}");
            }
        }
    }
    assert!(changed_figures >= 3, "the corpus quotes figures");
}

crate::both_backends!(
    a_revision_places_moves_flags_and_orphans_passages,
    offsets_in_utf16_and_placing_by_hand,
    corpus_revisions_keep_passages_and_flag_changed_figures,
);

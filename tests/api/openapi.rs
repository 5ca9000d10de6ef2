//! The OpenAPI document is the contract: the committed file, the served document and the code
//! must agree, and the interactive docs must work offline.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, spawn_app};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
const REGENERATE: &str =
    "regenerate it with `cargo run -- openapi --out openapi/openapi.json` and review the diff";

/// Lines of context around a difference, and most lines shown per side.
const CONTEXT: usize = 3;
const MAX_LINES: usize = 40;

/// A short line diff: the region from the first to the last differing line (after the common
/// beginning and end), with a few lines of context, each side cut at `MAX_LINES`. Empty when
/// the texts are equal.
fn line_diff(old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (gone, came) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut out = format!(
        "@@ line {}: {} line(s) of the committed file, {} of the code's @@\n",
        head + 1,
        gone.len(),
        came.len()
    );
    let side = |out: &mut String, mark: char, lines: &[&str]| {
        for line in lines.iter().take(MAX_LINES) {
            out.push_str(&format!("{mark}{line}\n"));
        }
        if lines.len() > MAX_LINES {
            out.push_str(&format!("{mark}... {} more\n", lines.len() - MAX_LINES));
        }
    };
    side(&mut out, ' ', &a[head.saturating_sub(CONTEXT)..head]);
    side(&mut out, '-', gone);
    side(&mut out, '+', came);
    side(&mut out, ' ', &a[a.len() - tail..][..tail.min(CONTEXT)]);
    out
}

#[test]
fn committed_document_matches_the_code() {
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    let generated = claimtrail::http::openapi_json();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from the code (- committed, + code): {REGENERATE}\n{}",
        line_diff(&committed, &generated)
    );
}

/// Every `$ref` names a schema the document defines (a type used only as a parameter is
/// easy to leave out of the components).
#[test]
fn every_reference_resolves() {
    fn walk(v: &Value, refs: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => refs.push(r.clone()),
                        _ => walk(v, refs),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let doc: Value = serde_json::from_str(&claimtrail::http::openapi_json()).unwrap();
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r} is not a schema reference"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
}

#[test]
fn a_mismatch_shows_only_where_the_documents_differ() {
    let old: String = (0..5000).map(|i| format!("line {i}\n")).collect();
    let new = old.replace("line 2500\n", "line 2500 changed\nline 2500 added\n");
    let diff = line_diff(&old, &new);
    assert_eq!(
        diff,
        "@@ line 2501: 1 line(s) of the committed file, 2 of the code's @@\n \
         line 2497\n line 2498\n line 2499\n-line 2500\n+line 2500 changed\n+line 2500 added\n \
         line 2501\n line 2502\n line 2503\n"
    );
    // A long change is cut; a change at the very end has no trailing context.
    let long = line_diff(&old, &old.replace("line 1", "LINE 1"));
    assert!(long.lines().count() < 2 * MAX_LINES + 10, "{long}");
    assert!(long.contains("... "), "{long}");
    assert_eq!(
        line_diff("a\nb\n", "a\nc\n"),
        "@@ line 2: 1 line(s) of the committed file, 1 of the code's @@\n a\n-b\n+c\n"
    );
    assert_eq!(line_diff(&old, &old), "");
}

#[test]
fn every_error_response_is_a_problem_and_every_operation_documents_errors() {
    let doc: Value = serde_json::from_str(&claimtrail::http::openapi_json()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10);
    for (path, ops) in paths {
        for (method, op) in ops.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status} is not documented as problem+json"
                    );
                }
            }
            if path.starts_with("/v1/") {
                // Those that need no key (the log's checkpoint and key) can fail only on the
                // server's side.
                assert!(
                    responses
                        .keys()
                        .any(|s| s.starts_with('4') || s.starts_with('5')),
                    "{method} {path} documents no error"
                );
            }
        }
    }
}

async fn served_document_and_offline_docs(backend: Backend) {
    let t = spawn_app(backend).await;
    let served: Value = t.get_json("/openapi.json").await;
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(COMMITTED).unwrap()).unwrap();
    assert!(
        served == committed,
        "served /openapi.json differs from openapi/openapi.json (- committed, + served): {REGENERATE}\n{}",
        line_diff(
            &serde_json::to_string_pretty(&committed).unwrap(),
            &serde_json::to_string_pretty(&served).unwrap()
        )
    );

    let res = t.get("/docs/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Every script and stylesheet comes from this server, none from a CDN.
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for piece in html.split(attr).skip(1) {
            let target = piece.split('"').next().unwrap();
            assert!(!target.contains("://"), "docs load {target} from elsewhere");
            assets.push(target.trim_start_matches("./").to_owned());
        }
    }
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{assets:?}");
    for asset in &assets {
        let res = t.get(&format!("/docs/{asset}")).await;
        assert_eq!(res.status(), StatusCode::OK, "/docs/{asset}");
        assert!(!res.bytes().await.unwrap().is_empty());
    }
    let init = t
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/openapi.json"), "{init}");
}

crate::both_backends!(served_document_and_offline_docs);

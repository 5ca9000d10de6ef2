//! The OpenAPI document is the contract: the committed file, the served document and the code
//! must agree, and the interactive docs must work offline.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, spawn_app};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
const REGENERATE: &str =
    "regenerate it with `cargo run -- openapi --out openapi/openapi.json` and review the diff";

#[test]
fn committed_document_matches_the_code() {
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    let generated = claimtrail::http::openapi_json();
    assert!(
        committed == generated,
        "openapi/openapi.json differs from the code: {REGENERATE}"
    );
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
                assert!(
                    responses.keys().any(|s| s.starts_with('4')),
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
        "served /openapi.json differs from openapi/openapi.json: {REGENERATE}"
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

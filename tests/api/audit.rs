//! The audit trail: one hash-chained entry per write, verifiable, and tampering is named.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, assert_problem, spawn_app};

/// Writes one of each kind through the API; returns the number of writes.
async fn one_of_each(t: &TestApp) -> usize {
    let source = t
        .source("Audited", "Alpha beta gamma. Delta epsilon.")
        .await;
    let id = source["id"].as_str().unwrap();
    let res = t
        .post(
            &format!("/v1/sources/{id}/versions"),
            &json!({"text": "Alpha beta gamma. Delta zeta."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let passage = t.passage(id, json!({"quote": "beta gamma"})).await;
    t.claim_with_evidence("Beta is gamma.", &passage, &passage, "supports")
        .await;
    5
}

async fn audit_entries(t: &TestApp) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = "/v1/audit?limit=200".to_owned();
    loop {
        let page = t.get_json(&path).await;
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/audit?limit=200&cursor={c}"),
            None => return all,
        }
    }
}

async fn every_write_appends_one_chained_entry(backend: Backend) {
    let t = spawn_app(backend).await;
    let before = audit_entries(&t).await.len();
    assert_eq!(before, 2, "the test's admin and their key");
    let writes = one_of_each(&t).await;
    // Repeating a write that changes nothing adds no entry.
    let list = t.get_json("/v1/sources").await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let res = t
        .post(
            &format!("/v1/sources/{id}/versions"),
            &json!({"text": "Alpha beta gamma. Delta epsilon."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let entries = audit_entries(&t).await;
    assert_eq!(entries.len(), before + writes);
    let actions: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap(),
                e["entity"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            "create person",
            "create api_key",
            "create source",
            "add_version source",
            "create passage",
            "create claim",
            "create evidence"
        ]
    );
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1);
        assert_eq!(e["actor"], if i < 2 { "test" } else { "test-admin" });
        // Writes through the API name the key used; the operator's have none.
        assert_eq!(e["key_id"].is_string(), i >= 2, "{e}");
        if i > 0 {
            assert_eq!(e["prev_hash"], entries[i - 1]["hash"]);
        }
    }
    let version_entry: Value = entries[3]["changes"].clone();
    assert_eq!(version_entry["number"], 2);
    let report = t.get_json("/v1/audit/verify").await;
    assert_eq!(
        report,
        json!({"valid": true, "length": entries.len(), "head": entries.last().unwrap()["hash"], "first_break": null})
    );

    // Filters.
    let only = t
        .get_json(&format!("/v1/audit?entity=source&entity_id={id}"))
        .await;
    assert_eq!(only["items"].as_array().unwrap().len(), 2);
    let by_actor = t.get_json("/v1/audit?actor=test").await;
    assert_eq!(by_actor["items"].as_array().unwrap().len(), 2);
    let future = t.get_json("/v1/audit?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future["items"], json!([]));
    let past = t
        .get_json("/v1/audit?until=2000-01-01T00:00:00%2B02:00")
        .await;
    assert_eq!(past["items"], json!([]));
    let all_time = t
        .get_json("/v1/audit?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(all_time["items"].as_array().unwrap().len(), entries.len());
    // A date means its first instant in UTC.
    let today = &entries[0]["at"].as_str().unwrap()[..10];
    let from_today = t
        .get_json(&format!("/v1/audit?since={today}&limit=200"))
        .await;
    assert_eq!(from_today["items"].as_array().unwrap().len(), entries.len());
    let before_today = t.get_json(&format!("/v1/audit?until={today}")).await;
    assert_eq!(before_today["items"], json!([]));
    assert_problem(
        t.get("/v1/audit?since=yesterday").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation-failed",
    )
    .await;
    assert_problem(
        t.get("/v1/audit?cursor=%%%").await,
        StatusCode::BAD_REQUEST,
        "invalid-cursor",
    )
    .await;
}

async fn the_database_refuses_to_change_audit_entries(backend: Backend) {
    let t = spawn_app(backend).await;
    one_of_each(&t).await;
    let err = t
        .execute_sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
    assert!(
        t.execute_sql("DELETE FROM audit_log WHERE seq = 2")
            .await
            .is_err()
    );
    assert_eq!(t.get_json("/v1/audit/verify").await["valid"], true);
}

/// Lifts the database's own protection, as someone with the database owner's rights could.
async fn disable_protection(t: &TestApp, backend: Backend) {
    match backend {
        Backend::Sqlite => {
            for sql in [
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
                "DROP TRIGGER audit_tree_no_delete",
            ] {
                t.execute_sql(sql).await.unwrap();
            }
        }
        Backend::Postgres => {
            for sql in [
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable",
                "ALTER TABLE audit_tree DISABLE TRIGGER audit_tree_immutable",
            ] {
                t.execute_sql(sql).await.unwrap();
            }
        }
    }
}

async fn verify_names_a_changed_entry(backend: Backend) {
    let t = spawn_app(backend).await;
    one_of_each(&t).await;
    disable_protection(&t, backend).await;
    assert_eq!(
        t.execute_sql(
            "UPDATE audit_log SET changes = '{\"text\":\"Beta is not gamma.\"}' WHERE seq = 5"
        )
        .await
        .unwrap(),
        1
    );
    let report = t.get_json("/v1/audit/verify").await;
    assert_eq!(report["valid"], false);
    assert_eq!(report["length"], 4);
    assert_eq!(report["first_break"], json!({"kind": "altered", "seq": 5}));
}

async fn verify_names_a_gap(backend: Backend) {
    let t = spawn_app(backend).await;
    one_of_each(&t).await;
    disable_protection(&t, backend).await;
    // The entry's transparency-log row goes with it (it refers to the entry).
    t.execute_sql("DELETE FROM audit_tree WHERE seq = 3")
        .await
        .unwrap();
    assert_eq!(
        t.execute_sql("DELETE FROM audit_log WHERE seq = 3")
            .await
            .unwrap(),
        1
    );
    let report = t.get_json("/v1/audit/verify").await;
    assert_eq!(report["valid"], false);
    assert_eq!(report["length"], 2);
    assert_eq!(
        report["first_break"],
        json!({"kind": "gap", "expected": 3, "found": 4})
    );
}

/// A tail cut off with SQL leaves a chain that verifies on its own; the checkpoint an auditor
/// kept from an earlier report shows the cut.
async fn a_checkpoint_shows_a_cut_off_tail(backend: Backend) {
    let t = spawn_app(backend).await;
    one_of_each(&t).await;
    let earlier = t.get_json("/v1/audit/verify").await;
    let (length, head) = (
        earlier["length"].as_i64().unwrap(),
        earlier["head"].as_str().unwrap().to_owned(),
    );
    let against = format!("/v1/audit/verify?checkpoint_seq={length}&checkpoint_hash={head}");
    let now = t.get_json(&against).await;
    assert_eq!(
        (now["valid"].clone(), now["length"].clone()),
        (json!(true), json!(length))
    );

    disable_protection(&t, backend).await;
    t.execute_sql("DELETE FROM audit_tree WHERE seq > (SELECT MAX(seq) - 2 FROM audit_log)")
        .await
        .unwrap();
    let cut = "DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) - 2 FROM audit_log)";
    assert_eq!(t.execute_sql(cut).await.unwrap(), 2);
    let alone = t.get_json("/v1/audit/verify").await;
    assert_eq!(
        (alone["valid"].clone(), alone["length"].clone()),
        (json!(true), json!(length - 2))
    );
    let report = t.get_json(&against).await;
    assert_eq!(report["valid"], false);
    assert_eq!(report["length"], length - 2);
    assert_eq!(
        report["first_break"],
        json!({"kind": "checkpoint", "seq": length, "expected": head, "found": null})
    );
}

async fn a_malformed_checkpoint_is_refused(backend: Backend) {
    let t = spawn_app(backend).await;
    for (query, field) in [
        ("checkpoint_seq=3", "checkpoint_hash"),
        ("checkpoint_hash=00", "checkpoint_seq"),
        (
            "checkpoint_seq=0&checkpoint_hash=0000000000000000000000000000000000000000000000000000000000000000",
            "checkpoint_seq",
        ),
        ("checkpoint_seq=3&checkpoint_hash=ABC", "checkpoint_hash"),
    ] {
        let res = t
            .client
            .get(t.url(&format!("/v1/audit/verify?{query}")))
            .send()
            .await
            .unwrap();
        let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation-failed").await;
        assert_eq!(p["errors"][0]["field"], field, "{query}: {p}");
    }
    let res = t
        .client
        .get(t.url("/v1/audit/verify?checkpoint=3"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid-query").await;
}

async fn concurrent_writers_keep_the_chain_linear(backend: Backend) {
    let t = spawn_app(backend).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (client, url) = (t.client.clone(), t.url("/v1/claims"));
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"text": format!("claim {i}")}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::CREATED);
    }
    let report = t.get_json("/v1/audit/verify").await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["length"], 42);
    let claims: Vec<Value> = audit_entries(&t)
        .await
        .into_iter()
        .filter(|e| e["entity"] == "claim")
        .collect();
    let mut ids: Vec<&str> = claims
        .iter()
        .map(|e| e["entity_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "no lost or duplicated entry");
}

/// An auditor recomputes every hash from the API's answers alone, as the contract and the
/// README describe it: `changes` re-serialized compactly with sorted keys and unescaped
/// non-ASCII, the fields as a JSON array (with `key_id` last when present), SHA-256 of
/// `prev_hash`, a line feed and that array.
async fn an_auditor_recomputes_every_hash_from_the_answers(backend: Backend) {
    use sha2::{Digest, Sha256};
    let t = spawn_app(backend).await;
    one_of_each(&t).await;
    // Text beyond ASCII, quotes, a backslash, a tab and a number in what is hashed.
    let res = t
        .post(
            "/v1/claims",
            &json!({"text": "Café “quoted” \\ path\twith tab 😀", "claimant": "Zoë 5.0"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let entries = audit_entries(&t).await;
    let mut prev = "0".repeat(64);
    for e in &entries {
        assert!(e["changes"].is_object(), "changes is an object: {e}");
        let changes = serde_json::to_string(&e["changes"]).unwrap();
        let mut fields = vec![
            e["seq"].clone(),
            e["at"].clone(),
            e["actor"].clone(),
            e["action"].clone(),
            e["entity"].clone(),
            e["entity_id"].clone(),
            Value::String(changes),
        ];
        if !e["key_id"].is_null() {
            fields.push(e["key_id"].clone());
        }
        let canonical = serde_json::to_string(&fields).unwrap();
        let hash = hex::encode(Sha256::digest(format!("{prev}\n{canonical}").as_bytes()));
        assert_eq!(e["prev_hash"], prev.as_str());
        assert_eq!(e["hash"], hash.as_str(), "entry {}", e["seq"]);
        prev = hash;
    }
    let report = t.get_json("/v1/audit/verify").await;
    assert_eq!(report["head"], prev.as_str());
    // The contract's Python recipe, run by Python, gives the same hashes.
    let file = t.dir().join("entries.json");
    std::fs::write(&file, serde_json::to_vec(&entries).unwrap()).unwrap();
    let script = format!(
        "{}\nimport sys\nfor e in json.load(open(sys.argv[1], encoding='utf-8')):\n    print(entry_hash(e))\n",
        claimtrail::domain::audit::PYTHON_RECOMPUTE
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .arg(&file)
        .output()
        .expect("python3 runs (scripts/test.sh needs it for schemathesis too)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_python: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let stored: Vec<String> = entries
        .iter()
        .map(|e| e["hash"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(by_python, stored);
}

crate::both_backends!(
    an_auditor_recomputes_every_hash_from_the_answers,
    every_write_appends_one_chained_entry,
    the_database_refuses_to_change_audit_entries,
    verify_names_a_changed_entry,
    verify_names_a_gap,
    a_checkpoint_shows_a_cut_off_tail,
    a_malformed_checkpoint_is_refused,
    concurrent_writers_keep_the_chain_linear,
);

//! The transparency log over the audit trail: checkpoints that verify with the published key,
//! proofs and tiles checked with an RFC 6962 implementation the service does not use
//! (ct-merkle), clear problems for bad requests, and tampering caught on both backends.

use claimtrail::domain::access::{Actor, Role};
use claimtrail::domain::tlog::{self, CheckpointError, LogKey};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, LOG_ORIGIN, TestApp, anonymous_client, assert_problem, client_with_key, spawn_app,
};

type Tree = MemoryBackedTree<ct_sha2::Sha256, [u8; 32]>;

/// `n` writes through the API (one audit entry each).
async fn writes(t: &TestApp, n: usize) {
    static PEOPLE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    for _ in 0..n {
        let i = PEOPLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let res = t
            .post(
                "/v1/people",
                &json!({"handle": format!("person-{i}"), "display_name": format!("Person {i}")}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
}

/// Every entry's hash, as the audit list shows them, as leaf inputs.
async fn leaves(t: &TestApp) -> Vec<[u8; 32]> {
    let mut all = Vec::new();
    let mut path = "/v1/audit?limit=200".to_owned();
    loop {
        let page = t.get_json(&path).await;
        for e in page["items"].as_array().unwrap() {
            let raw = hex::decode(e["hash"].as_str().unwrap()).unwrap();
            all.push(raw.try_into().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/audit?limit=200&cursor={c}"),
            None => return all,
        }
    }
}

fn tree_of(leaves: &[[u8; 32]]) -> Tree {
    let mut tree = Tree::new();
    for l in leaves {
        tree.push(*l);
    }
    tree
}

fn b64(s: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.as_str().unwrap())
        .unwrap()
}

fn proof_bytes(proof: &Value) -> Vec<u8> {
    proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(b64)
        .collect()
}

async fn checkpoint_text(t: &TestApp) -> String {
    let res = anonymous_client()
        .get(t.url("/v1/audit/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; charset=utf-8",
        "a signed note is text"
    );
    res.text().await.unwrap()
}

/// A checkpoint of the test servers' log, its signature checked.
fn signed_head(note: &str) -> tlog::SignedHead {
    let key = crate::helpers::test_log_key();
    tlog::verify_checkpoint(note.as_bytes(), key.verifier_key(), LOG_ORIGIN).unwrap()
}

/// The server refuses to sign the log as it now stands.
async fn refused_to_sign(t: &TestApp) {
    let res = anonymous_client()
        .get(t.url("/v1/audit/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::INTERNAL_SERVER_ERROR, "internal").await;
}

async fn the_checkpoint_is_public_and_signs_the_trees_root(backend: Backend) {
    let t = spawn_app(backend).await;
    writes(&t, 5).await;
    let note = checkpoint_text(&t).await;
    let key = anonymous_client()
        .get(t.url("/v1/audit/key"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(key.trim(), crate::helpers::test_log_key().verifier_key());
    let head = tlog::verify_checkpoint(note.as_bytes(), key.trim(), LOG_ORIGIN).unwrap();
    let leaves = leaves(&t).await;
    assert_eq!(head.size, leaves.len() as u64);
    // The root, computed by another implementation from the entries' hashes.
    assert_eq!(
        head.root.0.as_slice(),
        tree_of(&leaves).root().as_bytes().as_slice()
    );
    // The note's form: origin, size, base64 root, blank line, one signature line.
    let lines: Vec<&str> = note.lines().collect();
    assert_eq!(lines[0], LOG_ORIGIN);
    assert_eq!(lines[1], leaves.len().to_string());
    assert_eq!(lines[3], "");
    assert!(lines[4].starts_with(&format!("— {LOG_ORIGIN} ")), "{note}");
    assert_eq!(lines.len(), 5);
    // The log grows with every write; the checkpoint follows.
    writes(&t, 1).await;
    let later = checkpoint_text(&t).await;
    let later = tlog::verify_checkpoint(later.as_bytes(), key.trim(), LOG_ORIGIN).unwrap();
    assert_eq!(later.size, head.size + 1);
}

async fn proofs_check_with_another_implementation(backend: Backend) {
    let t = spawn_app(backend).await;
    writes(&t, 7).await;
    let leaves = leaves(&t).await;
    let n = leaves.len();
    for size in 1..=n {
        let tree = tree_of(&leaves[..size]);
        let root: RootHash<ct_sha2::Sha256> = tree.root();
        for seq in 1..=size {
            let proof = t
                .get_json(&format!("/v1/audit/proof/inclusion?seq={seq}&size={size}"))
                .await;
            assert_eq!(proof["leaf_index"], seq - 1);
            assert_eq!(proof["tree_size"], size);
            let bytes = proof_bytes(&proof);
            assert_eq!(bytes, tree.prove_inclusion(seq - 1).as_bytes());
            root.verify_inclusion(
                &leaves[seq - 1],
                seq as u64 - 1,
                &InclusionProof::from_bytes(bytes),
            )
            .unwrap();
        }
        for from in 1..size {
            let proof = t
                .get_json(&format!(
                    "/v1/audit/proof/consistency?from={from}&to={size}"
                ))
                .await;
            assert_eq!(
                (proof["from"].clone(), proof["to"].clone()),
                (json!(from), json!(size))
            );
            let old = tree_of(&leaves[..from]).root();
            root.verify_consistency(
                &old,
                &ConsistencyProof::try_from_bytes(proof_bytes(&proof)).unwrap(),
            )
            .unwrap();
        }
    }
    // Without `size`, the proof is in the log as it stands.
    let proof = t.get_json("/v1/audit/proof/inclusion?seq=1").await;
    assert_eq!(proof["tree_size"], n);
}

async fn bad_proof_requests_are_clear_problems(backend: Backend) {
    let t = spawn_app(backend).await;
    writes(&t, 2).await;
    let n = leaves(&t).await.len();
    let before = t.row_counts().await;
    for (path, field) in [
        (format!("/v1/audit/proof/inclusion?seq={}", n + 1), "seq"),
        ("/v1/audit/proof/inclusion?seq=0".to_owned(), "seq"),
        (
            format!("/v1/audit/proof/inclusion?seq=1&size={}", n + 1),
            "size",
        ),
        ("/v1/audit/proof/inclusion?seq=3&size=2".to_owned(), "size"),
        (
            format!("/v1/audit/proof/consistency?from=1&to={}", n + 1),
            "to",
        ),
        ("/v1/audit/proof/consistency?from=3&to=2".to_owned(), "from"),
        ("/v1/audit/proof/consistency?from=0&to=2".to_owned(), "from"),
    ] {
        let body = assert_problem(
            t.get(&path).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
        )
        .await;
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
    }
    for path in [
        "/v1/audit/proof/inclusion",
        "/v1/audit/proof/inclusion?seq=x",
        "/v1/audit/proof/inclusion?seq=1&sise=2",
        "/v1/audit/proof/consistency?from=1",
    ] {
        assert_problem(t.get(path).await, StatusCode::BAD_REQUEST, "invalid-query").await;
    }
    for path in [
        "/v1/audit/tile/0/000",
        "/v1/audit/tile/0/000.p/0",
        "/v1/audit/tile/0/1",
        "/v1/audit/tile/64/000",
        "/v1/audit/tile/entries/x",
        "/v1/audit/tile/",
    ] {
        assert_problem(t.get(path).await, StatusCode::NOT_FOUND, "not-found").await;
    }
    // Proofs and tiles are the auditors' (and admins'); an integration key is refused.
    let integration = client_with_key(&t.key(Role::Integration).await);
    for path in [
        "/v1/audit/proof/inclusion?seq=1",
        "/v1/audit/tile/0/000.p/1",
    ] {
        let res = integration.get(t.url(path)).send().await.unwrap();
        assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
        let res = anonymous_client().get(t.url(path)).send().await.unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let auditor = client_with_key(&t.key(Role::Auditor).await);
    let res = auditor
        .get(t.url("/v1/audit/proof/inclusion?seq=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Two keys were made since; nothing else was written.
    let after = t.row_counts().await;
    let changed: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(b, _)| b.0.as_str())
        .collect();
    assert!(
        changed
            .iter()
            .all(|t| ["api_keys", "audit_log", "audit_tree", "people"].contains(t)),
        "{changed:?}"
    );
}

async fn tiles_hold_the_trees_hashes_and_entries(backend: Backend) {
    let t = spawn_app(backend).await;
    writes(&t, 260).await;
    let leaves = leaves(&t).await;
    let n = leaves.len();
    assert!(n > 256);
    let leaf_hashes: Vec<u8> = leaves
        .iter()
        .flat_map(|l| tlog_tiles::record_hash(l).0)
        .collect();

    let full = t.get("/v1/audit/tile/0/000").await;
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(
        full.headers()["cache-control"],
        "max-age=31536000, immutable"
    );
    assert_eq!(full.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        full.bytes().await.unwrap().as_ref(),
        &leaf_hashes[..256 * 32]
    );

    let rest = n - 256;
    let partial = t.get(&format!("/v1/audit/tile/0/001.p/{rest}")).await;
    assert_eq!(partial.status(), StatusCode::OK);
    assert_eq!(partial.headers()["cache-control"], "no-cache");
    assert_eq!(
        partial.bytes().await.unwrap().as_ref(),
        &leaf_hashes[256 * 32..]
    );
    let beyond = t.get(&format!("/v1/audit/tile/0/001.p/{}", rest + 1)).await;
    assert_problem(beyond, StatusCode::NOT_FOUND, "not-found").await;

    // Level 1 holds the roots of 256-leaf subtrees: the first is the tree of 256's root.
    let level1 = t.get("/v1/audit/tile/1/000.p/1").await;
    assert_eq!(level1.status(), StatusCode::OK);
    assert_eq!(
        level1.bytes().await.unwrap().as_ref(),
        tree_of(&leaves[..256]).root().as_bytes().as_slice()
    );

    // Entry bundles: each entry a 16-bit length and the 32 bytes of its hash.
    let bundle = t.get("/v1/audit/tile/entries/000").await;
    assert_eq!(bundle.status(), StatusCode::OK);
    let bundle = bundle.bytes().await.unwrap();
    assert_eq!(bundle.len(), 256 * 34);
    for (i, chunk) in bundle.chunks(34).enumerate() {
        assert_eq!(&chunk[..2], &[0, 32]);
        assert_eq!(&chunk[2..], &leaves[i]);
    }
    let last = t.get(&format!("/v1/audit/tile/entries/001.p/{rest}")).await;
    assert_eq!(last.bytes().await.unwrap().len(), rest * 34);
}

/// Lifts the database's protection of the log, as the database owner could.
async fn disable_protection(t: &TestApp, backend: Backend) {
    let statements: &[&'static str] = match backend {
        Backend::Sqlite => &[
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete",
            "DROP TRIGGER audit_tree_no_update",
            "DROP TRIGGER audit_tree_no_delete",
        ],
        Backend::Postgres => &[
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_immutable",
            "ALTER TABLE audit_tree DISABLE TRIGGER audit_tree_immutable",
        ],
    };
    for sql in statements {
        t.execute_sql(sql).await.unwrap();
    }
}

async fn verify_log(t: &TestApp, note: &str) -> Result<(), claimtrail::app::LogBreak> {
    t.app
        .verify_log(&Actor::operator("test"), note.as_bytes(), None)
        .await
        .unwrap()
        .map(|_| ())
}

async fn a_saved_checkpoint_catches_a_cut_tail(backend: Backend) {
    let t = spawn_app(backend).await;
    writes(&t, 4).await;
    let saved = checkpoint_text(&t).await;
    writes(&t, 2).await;
    verify_log(&t, &saved).await.unwrap();

    disable_protection(&t, backend).await;
    let cut = [
        "DELETE FROM audit_tree WHERE seq > (SELECT MAX(seq) - 3 FROM audit_log)",
        "DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) - 3 FROM audit_log)",
    ];
    for sql in cut {
        assert_eq!(t.execute_sql(sql).await.unwrap(), 3);
    }
    // The chain alone still verifies; the checkpoint shows the cut.
    assert_eq!(t.get_json("/v1/audit/verify").await["valid"], true);
    let size = signed_head(&saved).size;
    assert_eq!(
        verify_log(&t, &saved).await,
        Err(claimtrail::app::LogBreak::CutTail {
            size: size - 1,
            checkpoint_size: size
        })
    );
    // Nor does the server sign the cut log: it signed a larger tree before.
    refused_to_sign(&t).await;
}

async fn a_saved_checkpoint_catches_a_rewritten_history(backend: Backend) {
    let t = spawn_app(backend).await;
    writes(&t, 4).await;
    let saved = checkpoint_text(&t).await;
    disable_protection(&t, backend).await;
    // Entry 3 changed and every later entry chained anew, the tree rebuilt to match: the
    // chain verifies, only a checkpoint kept from before can tell.
    t.execute_sql("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        .await
        .unwrap();
    let entries = t.get_json("/v1/audit?limit=200").await;
    let mut prev = entries["items"][1]["hash"].as_str().unwrap().to_owned();
    for e in &entries["items"].as_array().unwrap()[2..] {
        let mut entry = claimtrail::domain::audit::Entry {
            seq: e["seq"].as_i64().unwrap(),
            at: e["at"].as_str().unwrap().to_owned(),
            actor: e["actor"].as_str().unwrap().to_owned(),
            key_id: e["key_id"].as_str().map(str::to_owned),
            action: e["action"].as_str().unwrap().to_owned(),
            entity: e["entity"].as_str().unwrap().to_owned(),
            entity_id: e["entity_id"].as_str().unwrap().to_owned(),
            changes: serde_json::to_string(&e["changes"]).unwrap(),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        entry.hash = entry.expected_hash();
        let sql = format!(
            "UPDATE audit_log SET prev_hash = '{}', hash = '{}' WHERE seq = {}",
            entry.prev_hash, entry.hash, entry.seq
        );
        t.execute_sql(Box::leak(sql.into_boxed_str()))
            .await
            .unwrap();
        prev = entry.hash;
    }
    t.execute_sql("DELETE FROM audit_tree WHERE seq >= 3")
        .await
        .unwrap();
    assert!(t.app.backfill_log().await.unwrap() > 0);
    assert_eq!(t.get_json("/v1/audit/verify").await["valid"], true);
    let checkpoint_size = signed_head(&saved).size;
    assert_eq!(
        verify_log(&t, &saved).await,
        Err(claimtrail::app::LogBreak::Rewritten { checkpoint_size })
    );
    // The server does not sign the rewritten tree: a size once signed keeps its note, and a
    // larger tree that does not extend it is refused (C2SP: never two inconsistent heads).
    assert_eq!(checkpoint_text(&t).await, saved);
    writes(&t, 1).await;
    refused_to_sign(&t).await;
}

async fn a_saved_checkpoint_catches_altered_tree_hashes(backend: Backend) {
    let t = spawn_app(backend).await;
    writes(&t, 3).await;
    let saved = checkpoint_text(&t).await;
    verify_log(&t, &saved).await.unwrap();
    disable_protection(&t, backend).await;
    // The entries left as they are, a tree row replaced.
    t.execute_sql("UPDATE audit_tree SET hashes = (SELECT hashes FROM audit_tree WHERE seq = 1) WHERE seq = 2")
        .await
        .unwrap();
    assert!(matches!(
        verify_log(&t, &saved).await,
        Err(claimtrail::app::LogBreak::TreeAltered { .. })
    ));
}

async fn a_checkpoint_of_another_key_or_altered_is_refused(backend: Backend) {
    let t = spawn_app(backend).await;
    writes(&t, 2).await;
    let saved = checkpoint_text(&t).await;
    let other_secret = LogKey::secret_text(LOG_ORIGIN, [9; 32]).unwrap();
    let other = LogKey::from_secret(&other_secret, LOG_ORIGIN, LOG_ORIGIN).unwrap();
    let size = saved.lines().nth(1).unwrap().parse().unwrap();
    let root = tlog::Hash::parse_hash(saved.lines().nth(2).unwrap()).unwrap();
    let forged = other.checkpoint(size, root);
    assert!(matches!(
        verify_log(&t, &forged).await,
        Err(claimtrail::app::LogBreak::Checkpoint(
            CheckpointError::OtherKey { .. }
        ))
    ));
    let altered = saved.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size - 1), 1);
    assert_eq!(
        verify_log(&t, &altered).await,
        Err(claimtrail::app::LogBreak::Checkpoint(
            CheckpointError::BadSignature
        ))
    );
    // With the other key named, its checkpoint's signature holds; the log is still checked.
    let verdict = t
        .app
        .verify_log(
            &Actor::operator("test"),
            forged.as_bytes(),
            Some(other.verifier_key()),
        )
        .await
        .unwrap();
    assert!(verdict.is_ok(), "{verdict:?}");
}

/// The command line: `audit verify --checkpoint` holds a saved checkpoint and names a cut;
/// `audit prove` writes a proof that the README's Python checks offline.
async fn the_command_line_verifies_and_proves(backend: Backend) {
    let t = spawn_app(backend).await;
    writes(&t, 3).await;
    let key_file = t.dir().join("log.key");
    std::fs::write(
        &key_file,
        LogKey::secret_text(LOG_ORIGIN, [42; 32]).unwrap(),
    )
    .unwrap();
    let cli = |args: &[&str]| {
        crate::lifecycle::claimtrail(&t.db_url)
            .env("CLAIMTRAIL_LOG_KEY_FILE", &key_file)
            .env("CLAIMTRAIL_LOG_ORIGIN", LOG_ORIGIN)
            .args(args)
            .output()
            .unwrap()
    };
    let saved = t.dir().join("checkpoint");
    std::fs::write(&saved, checkpoint_text(&t).await).unwrap();
    let saved_arg = saved.to_str().unwrap();
    let ok = cli(&["audit", "verify", "--checkpoint", saved_arg]);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{out} {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(out.contains("log verified"), "{out}");

    let proved = cli(&["audit", "prove", "--seq", "3"]);
    assert!(
        proved.status.success(),
        "{}",
        String::from_utf8_lossy(&proved.stderr)
    );
    let proof = t.dir().join("entry.tlog-proof");
    std::fs::write(&proof, &proved.stdout).unwrap();
    let script = format!(
        "{}\n{}\nimport sys\nentry = verify_proof(open(sys.argv[1]).read(), sys.argv[2])\nprint(entry[\"seq\"])\n",
        claimtrail::domain::audit::PYTHON_RECOMPUTE,
        tlog::PYTHON_VERIFY_PROOF
    );
    let python = std::env::var("CLAIMTRAIL_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let key = crate::helpers::test_log_key().verifier_key().to_owned();
    let run = |file: &std::path::Path| {
        std::process::Command::new(&python)
            .arg("-c")
            .arg(&script)
            .arg(file)
            .arg(&key)
            .output()
            .expect("python runs (scripts/test.sh installs its packages)")
    };
    let checked = run(&proof);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&checked.stdout).trim(), "3");
    // A proof whose entry was altered fails the same check.
    let text = String::from_utf8(proved.stdout.clone()).unwrap();
    let extra_line = text.lines().nth(1).unwrap();
    let entry: Value =
        serde_json::from_slice(&b64(&json!(extra_line.trim_start_matches("extra ")))).unwrap();
    let mut altered_entry = entry.clone();
    altered_entry["actor"] = json!("mallory");
    use base64::Engine;
    let altered = text.replacen(
        extra_line,
        &format!(
            "extra {}",
            base64::engine::general_purpose::STANDARD
                .encode(serde_json::to_vec(&altered_entry).unwrap())
        ),
        1,
    );
    let bad = t.dir().join("altered.tlog-proof");
    std::fs::write(&bad, altered).unwrap();
    let refused = run(&bad);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not hash"));

    disable_protection(&t, backend).await;
    t.execute_sql("DELETE FROM audit_tree WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .await
        .unwrap();
    t.execute_sql("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .await
        .unwrap();
    let cut = cli(&["audit", "verify", "--checkpoint", saved_arg]);
    let out = String::from_utf8_lossy(&cut.stdout);
    assert_eq!(cut.status.code(), Some(1), "{out}");
    assert!(out.contains("the log was cut"), "{out}");
}

/// Two nodes on one database append in turn: each finds the other's entries (its kept right
/// edge of the tree is stale) and reads the tree's edge back, so the tree stays whole.
async fn two_nodes_append_to_one_tree(backend: Backend) {
    let t = spawn_app(backend).await;
    let store = claimtrail::store::Store::connect(&t.db_url, 5)
        .await
        .unwrap();
    let other = claimtrail::app::App::new(store, 1 << 20);
    let operator = Actor::operator("test");
    for i in 0..6 {
        writes(&t, i % 3 + 1).await;
        other
            .create_person(&operator, &format!("other-{i}"), "Other")
            .await
            .unwrap();
    }
    let leaves = leaves(&t).await;
    let note = checkpoint_text(&t).await;
    let head = signed_head(&note);
    assert_eq!(head.size, leaves.len() as u64);
    assert_eq!(
        head.root.0.as_slice(),
        tree_of(&leaves).root().as_bytes().as_slice()
    );
    // Every stored hash is the one the entries give.
    verify_log(&t, &note).await.unwrap();
}

/// A server started without a signing key says which setting it needs.
async fn without_a_key_the_log_is_not_configured(backend: Backend) {
    let t = spawn_app(backend).await;
    let store = claimtrail::store::Store::connect(&t.db_url, 2)
        .await
        .unwrap();
    let unkeyed = claimtrail::app::App::new(store, 1 << 20);
    for answer in [
        unkeyed.checkpoint().await.map(|_| ()),
        unkeyed.log_verifier_key().map(|_| ()),
    ] {
        assert!(
            matches!(&answer, Err(claimtrail::app::AppError::NotConfigured(what)) if what.contains("CLAIMTRAIL_LOG_KEY_FILE")),
            "{answer:?}"
        );
    }
}

crate::both_backends!(
    without_a_key_the_log_is_not_configured,
    two_nodes_append_to_one_tree,
    the_command_line_verifies_and_proves,
    the_checkpoint_is_public_and_signs_the_trees_root,
    proofs_check_with_another_implementation,
    bad_proof_requests_are_clear_problems,
    tiles_hold_the_trees_hashes_and_entries,
    a_saved_checkpoint_catches_a_cut_tail,
    a_saved_checkpoint_catches_a_rewritten_history,
    a_saved_checkpoint_catches_altered_tree_hashes,
    a_checkpoint_of_another_key_or_altered_is_refused,
);

//! The real binary: serve with the demo dataset, stop cleanly on SIGTERM, import from the
//! command line.

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::corpus::corpus_dir;
use crate::helpers::{Backend, fresh_database};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_claimtrail");

pub(crate) fn claimtrail(database_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    // One log key per database, outside the working tree.
    let key_file = std::env::temp_dir().join(format!("claimtrail-test-{:016x}.key", {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        database_url.hash(&mut h);
        h.finish()
    }));
    cmd.env("DATABASE_URL", database_url)
        .env("CLAIMTRAIL_LOG_KEY_FILE", key_file)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .env("CLAIMTRAIL_ORG_NAME", "Test Desk")
        .env("CLAIMTRAIL_ORG_URL", "https://desk.example.org/");
    cmd
}

/// A server process on a free loopback port: the child, its address, the rest of its log
/// and the log so far.
pub(crate) fn start_server(
    url: &str,
    extra: &[&str],
) -> (Child, String, Lines<BufReader<ChildStderr>>, String) {
    let mut child = claimtrail(url)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        log.push_str(&line);
        log.push('\n');
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == ':')
                .collect::<String>();
        }
    };
    (child, addr, lines, log)
}

/// Creates a key through the command line and returns its token.
pub(crate) fn cli_key(url: &str, name: &str, role: &str) -> String {
    let created = claimtrail(url)
        .args(["keys", "create", "--person", name, "--role", role])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    String::from_utf8(created.stdout).unwrap().trim().to_owned()
}

async fn serve_demo_then_stop_on_sigterm(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let token = cli_key(&url, "lifecycle-auditor", "auditor");
    let (mut child, addr, lines, mut log) = start_server(&url, &["--demo"]);
    let client = crate::helpers::client_with_key(&token);
    let claims: Value = client
        .get(format!("http://{addr}/v1/claims"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claim_id = claims["items"][0]["id"]
        .as_str()
        .expect("the demo dataset has a claim")
        .to_owned();
    let claim: Value = client
        .get(format!("http://{addr}/v1/claims/{claim_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(claim["evidence"].as_array().unwrap().len(), 2, "{claim}");
    assert_eq!(claim["verdict"]["state"], "published", "{claim}");
    assert_eq!(claim["verdict"]["rating"]["key"], "misleading");
    // The demo holds a citation chain ending at the engineering report.
    let traced: Value = client
        .get(format!("http://{addr}/v1/trace?q=%244%20billion"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let chained = traced["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["in_chain"] == true)
        .count();
    assert!(chained >= 3, "{traced}");
    // The sample report was revised after publication: the changed figure is flagged.
    assert_eq!(claim["verdict_needs_recheck"], true, "{claim}");
    assert_eq!(
        claim["attention"][0]["placement"]["change"]["numbers"],
        json!({"removed": ["$2.1 billion"], "added": ["$2.4 billion"]}),
        "{claim}"
    );
    assert!(
        claim["appearances"][0]["passage"]["exact"]
            .as_str()
            .unwrap()
            .contains("$4 billion")
    );
    let ready = client
        .get(format!("http://{addr}/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    // A client following the change feed (Server-Sent Events) does not hold the shutdown up.
    let mut stream = client
        .get(format!("http://{addr}/v1/changes?since=0"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let first = stream.chunk().await.unwrap().expect("an event");
    assert!(String::from_utf8_lossy(&first).contains("id: "));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for line in lines {
        log.push_str(&line.unwrap());
        log.push('\n');
    }
    assert!(exit.success(), "{exit:?}\n{log}");
    assert!(log.contains("stopped"), "{log}");
}

async fn command_line_import_is_idempotent(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let first = claimtrail(&url)
        .arg("import")
        .arg(corpus_dir())
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(
        out.contains("5 new sources, 0 new versions, 0 unchanged, 0 failed"),
        "{out}"
    );
    let second = claimtrail(&url)
        .arg("import")
        .arg(corpus_dir())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(
        out.contains("0 new sources, 0 new versions, 5 unchanged, 0 failed"),
        "{out}"
    );

    // The trace reads the same store from the command line.
    let traced = claimtrail(&url).args(["trace", "$4bn"]).output().unwrap();
    let out = String::from_utf8_lossy(&traced.stdout);
    assert!(traced.status.success(), "{out}");
    assert!(out.starts_with("4000000000 currency:USD ("), "{out}");
    assert!(
        out.lines().filter(|l| l.contains("$4 billion")).count() >= 2,
        "{out}"
    );
    let nothing = claimtrail(&url)
        .args(["trace", "no figure"])
        .output()
        .unwrap();
    assert!(!nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no figure"));

    let verified = claimtrail(&url).args(["audit", "verify"]).output().unwrap();
    let out = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{out}");
    assert!(out.contains("audit chain verified: 5 entries"), "{out}");
    // The head it printed is a checkpoint that a later run checks against.
    let head = out.trim().rsplit(' ').next().unwrap().to_owned();
    let checked = claimtrail(&url)
        .args([
            "audit",
            "verify",
            "--checkpoint-seq",
            "5",
            "--checkpoint-hash",
            &head,
        ])
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
    let beyond = claimtrail(&url)
        .args([
            "audit",
            "verify",
            "--checkpoint-seq",
            "6",
            "--checkpoint-hash",
            &head,
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&beyond.stdout);
    assert!(!beyond.status.success(), "{out}");
    assert!(
        out.contains("\"kind\":\"checkpoint\"") && out.contains("\"found\":null"),
        "{out}"
    );

    // A file that is not UTF-8 fails alone, with a reason, and the exit status says so.
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, b"caf\xe9 latin-1").unwrap();
    let third = claimtrail(&url).arg("import").arg(&bad).output().unwrap();
    assert!(!third.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&third.stdout),
        String::from_utf8_lossy(&third.stderr)
    );
    assert!(
        all.contains("not UTF-8") && all.contains("1 failed"),
        "{all}"
    );
}

/// Kills the server (SIGKILL) while clients are making review transitions, restarts it, and
/// checks that every transition is there with its history event and audit entry, or none is.
async fn a_crash_mid_transition_leaves_all_or_nothing(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let editor = crate::helpers::client_with_key(&cli_key(&url, "crash-editor", "editor"));
    let auditor = crate::helpers::client_with_key(&cli_key(&url, "crash-auditor", "auditor"));
    let (mut child, addr, lines, _) = start_server(&url, &[]);
    std::thread::spawn(move || lines.for_each(drop));
    let base = format!("http://{addr}");
    let post = |path: String, body: Value| {
        let editor = editor.clone();
        async move {
            editor
                .post(path)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let claim = post(
        format!("{base}/v1/claims"),
        json!({"text": "Crash test claim."}),
    )
    .await;
    let mut reviews = Vec::new();
    for _ in 0..8 {
        let path = format!("{base}/v1/claims/{}/reviews", claim["id"].as_str().unwrap());
        let r = post(path, json!({"rating": "unproven", "summary": "s"})).await;
        reviews.push(r["id"].as_str().unwrap().to_owned());
    }
    let mut tasks = Vec::new();
    for id in reviews.clone() {
        let (client, base) = (editor.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let (mut revision, mut to_review, mut made) = (1, true, 0u32);
            // Bounded: stops at the crash (a failed request) or after 10,000 steps.
            while made < 10_000 {
                let (to, note) = if to_review {
                    ("in_review", None)
                } else {
                    ("changes_requested", Some("again"))
                };
                let sent = client
                    .post(format!("{base}/v1/reviews/{id}/transitions"))
                    .header("if-match", format!("\"{revision}\""))
                    .json(&json!({"to": to, "note": note}))
                    .send()
                    .await;
                let Ok(res) = sent else { break };
                let Ok(body) = res.json::<Value>().await else {
                    break;
                };
                revision = body["revision"].as_i64().unwrap();
                to_review = !to_review;
                made += 1;
            }
            made
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let mut acknowledged = 0;
    for task in tasks {
        acknowledged += task.await.unwrap();
    }
    assert!(acknowledged > 0, "no transition happened before the crash");

    let (mut child, addr, lines, _) = start_server(&url, &[]);
    std::thread::spawn(move || lines.for_each(drop));
    let base = format!("http://{addr}");
    let get = |path: String| {
        let auditor = auditor.clone();
        async move {
            auditor
                .get(path)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let report = get(format!("{base}/v1/audit/verify")).await;
    assert_eq!(report["valid"], true, "{report}");
    let mut stored = 0;
    for id in &reviews {
        let review = get(format!("{base}/v1/reviews/{id}")).await;
        let history = review["history"].as_array().unwrap().len() as i64;
        assert_eq!(
            history,
            review["revision"].as_i64().unwrap(),
            "one event per revision: {review}"
        );
        let audit = get(format!(
            "{base}/v1/audit?entity=review&entity_id={id}&limit=200"
        ))
        .await;
        assert_eq!(
            audit["items"].as_array().unwrap().len() as i64,
            history,
            "one audit entry per event"
        );
        stored += history - 1;
    }
    // Every acknowledged transition survived; at most one in flight per client was kept.
    let acknowledged = i64::from(acknowledged);
    assert!(
        (acknowledged..=acknowledged + 8).contains(&stored),
        "{stored} stored, {acknowledged} acknowledged"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
}

/// A publication committed just before the server is killed (SIGKILL, no shutdown) is
/// delivered by the next start: the outbox row committed with it. The receiver is down at
/// first, so nothing can be delivered before the kill.
async fn a_publication_before_a_crash_is_delivered_after_restart(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let token = cli_key(&url, "crash-admin", "admin");
    // A port with nothing listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = format!("http://127.0.0.1:{port}/hook");
    let settings = [
        "--allow-self-approval",
        "--webhook-allow-private",
        "--webhook-schedule",
        "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
    ];
    let (mut child, addr, _lines, _log) = start_server(&url, &settings);
    let client = crate::helpers::client_with_key(&token);
    let post = |path: String, body: Value| {
        let (client, url) = (client.clone(), format!("http://{addr}{path}"));
        async move {
            let res = client.post(url).json(&body).send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            assert!(status.is_success(), "{status}: {body}");
            body
        }
    };
    let endpoint = post(
        "/v1/webhooks".into(),
        json!({"url": hook, "events": ["review.published"]}),
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    let claim = post(
        "/v1/claims".into(),
        json!({"text": "The bridge cost $4 billion."}),
    )
    .await;
    let cid = claim["id"].as_str().unwrap();
    let mut review = post(
        format!("/v1/claims/{cid}/reviews"),
        json!({"rating": "false", "summary": "No."}),
    )
    .await;
    let rid = review["id"].as_str().unwrap().to_owned();
    for to in ["in_review", "approved", "published"] {
        review = post(
            format!("/v1/reviews/{rid}/transitions"),
            json!({"to": to, "revision": review["revision"]}),
        )
        .await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let (_, got) = crate::webhooks::receiver_on(listener, vec![]);
    let (mut child, _addr, _lines, _log) = start_server(&url, &settings);
    let mut waited = 0;
    while got.lock().unwrap().is_empty() {
        assert!(waited < 300, "no delivery within 15 s of the restart");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        waited += 1;
    }
    let (headers, body) = got.lock().unwrap()[0].clone();
    crate::webhooks::verify(&secret, &headers, &body).unwrap();
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["type"], "review.published");
    assert_eq!(payload["data"]["id"], rid);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// Without the publishing organisation (and without --demo) the server does not start, and
/// says what to set.
async fn serve_without_an_organisation_says_what_to_set(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let out = claimtrail(&url)
        .env_remove("CLAIMTRAIL_ORG_NAME")
        .env_remove("CLAIMTRAIL_ORG_URL")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CLAIMTRAIL_ORG_NAME") && stderr.contains("CLAIMTRAIL_ORG_URL"),
        "{stderr}"
    );
    let out = claimtrail(&url)
        .env("CLAIMTRAIL_ORG_URL", "not a url")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CLAIMTRAIL_ORG_URL"));
}

crate::both_backends!(
    serve_without_an_organisation_says_what_to_set,
    a_publication_before_a_crash_is_delivered_after_restart,
    serve_demo_then_stop_on_sigterm,
    command_line_import_is_idempotent,
    a_crash_mid_transition_leaves_all_or_nothing,
);

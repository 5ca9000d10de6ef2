//! The real binary: serve with the demo dataset, stop cleanly on SIGTERM, import from the
//! command line.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::corpus::corpus_dir;
use crate::helpers::{Backend, fresh_database};

const BIN: &str = env!("CARGO_BIN_EXE_claimtrail");

fn claimtrail(database_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("DATABASE_URL", database_url)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info");
    cmd
}

async fn serve_demo_then_stop_on_sigterm(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let created = claimtrail(&url)
        .args([
            "keys",
            "create",
            "--name",
            "lifecycle-auditor",
            "--role",
            "auditor",
        ])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let mut child = claimtrail(&url)
        .args(["serve", "--bind", "127.0.0.1:0", "--demo"])
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

    let verified = claimtrail(&url).args(["audit", "verify"]).output().unwrap();
    let out = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{out}");
    assert!(out.contains("audit chain verified: 5 entries"), "{out}");

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

crate::both_backends!(
    serve_demo_then_stop_on_sigterm,
    command_line_import_is_idempotent
);

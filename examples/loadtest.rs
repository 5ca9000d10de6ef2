//! Load test of review transitions with the audit chain, against the real server on loopback.
//!
//! Starts `claimtrail serve` (the release binary) on a fresh database. Each client repeatedly
//! drafts a review (as a fact-checker) and takes it through a realistic workflow: submitted,
//! sent back with a note by an editor, resubmitted, approved by the editor (not the author).
//! Every step is a real transition with its history event and audit entry, sent with the
//! ETag it saw. Afterwards it verifies the audit chain and checks that it holds exactly one
//! entry per write. Bounded in time and count; loopback only.
//!
//! With `--minimal BINARY` it drives `examples/minimal_write` instead (one INSERT per
//! request, the baseline `scripts/bench.sh` divides by), with the same clients and the same
//! JSON handling, and prints that rate.
//!
//! ```sh
//! cargo build --release --bins --examples
//! target/release/examples/loadtest --database-url /tmp/load.db --clients 32 --seconds 10
//! target/release/examples/loadtest --database-url /tmp/min.db --clients 16 --seconds 3 \
//!     --minimal target/release/examples/minimal_write
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Args {
    database_url: String,
    clients: usize,
    seconds: u64,
    max_transitions: u64,
    binary: String,
    minimal: Option<String>,
}

/// `claimtrail` beside this example's own directory, wherever the target directory is
/// (`CARGO_TARGET_DIR` honoured): `…/release/examples/loadtest` -> `…/release/claimtrail`.
fn default_binary() -> String {
    let exe = std::env::current_exe().expect("own path");
    let release = exe
        .parent()
        .and_then(|examples| examples.parent())
        .expect("examples directory");
    release.join("claimtrail").to_string_lossy().into_owned()
}

fn args() -> Args {
    let mut args = Args {
        database_url: String::new(),
        clients: 32,
        seconds: 10,
        max_transitions: 2_000_000,
        binary: default_binary(),
        minimal: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--database-url" => args.database_url = value,
            "--clients" => args.clients = value.parse().expect("--clients N"),
            "--seconds" => args.seconds = value.parse::<u64>().expect("--seconds N").min(120),
            "--max-transitions" => {
                args.max_transitions = value.parse().expect("--max-transitions N")
            }
            "--binary" => args.binary = value,
            "--minimal" => args.minimal = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(
        !args.database_url.is_empty(),
        "--database-url is required (an SQLite path or postgres://…)"
    );
    args
}

/// Starts the server and returns it with its address. The organisation settings `serve`
/// needs are a sample desk's unless the environment names one.
fn serve(args: &Args) -> (Child, String) {
    let org = |name: &str, sample: &str| std::env::var(name).unwrap_or_else(|_| sample.into());
    let mut command = match &args.minimal {
        Some(minimal) => {
            let mut c = Command::new(minimal);
            c.args(["--database-url", &args.database_url, "--port", "0"]);
            c
        }
        None => {
            let mut c = Command::new(&args.binary);
            c.args(["serve", "--bind", "127.0.0.1:0"])
                .env("DATABASE_URL", &args.database_url)
                .env(
                    "CLAIMTRAIL_ORG_NAME",
                    org("CLAIMTRAIL_ORG_NAME", "Load Desk"),
                )
                .env(
                    "CLAIMTRAIL_ORG_URL",
                    org("CLAIMTRAIL_ORG_URL", "https://desk.example.org/"),
                );
            c
        }
    };
    let mut child = command
        .env("NO_COLOR", "1")
        // LOADTEST_SERVER_LOG sets the server's RUST_LOG (scripts/bench-observe.sh compares
        // runs with and without access lines).
        .env(
            "RUST_LOG",
            std::env::var("LOADTEST_SERVER_LOG").unwrap_or_else(|_| "warn,claimtrail=info".into()),
        )
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start claimtrail serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .expect("log line");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == ':')
                .collect();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

fn key(args: &Args, role: &str) -> String {
    let out = Command::new(&args.binary)
        .args([
            "keys",
            "create",
            "--person",
            &format!("load-{role}"),
            "--role",
            role,
        ])
        .env("DATABASE_URL", &args.database_url)
        .output()
        .expect("claimtrail keys create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}

fn client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("token"),
    );
    claimtrail::delivery::install_default_crypto();
    reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(1024)
        .build()
        .expect("client")
}

async fn post(c: &reqwest::Client, url: String, body: Value) -> Value {
    let res = c.post(url).json(&body).send().await.expect("request");
    let status = res.status();
    let body: Value = res.json().await.expect("JSON");
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// The baseline: `clients` clients posting one row each, one request after another.
async fn minimal(args: &Args) {
    let (mut server, addr) = serve(args);
    let url = format!("http://{addr}/rows");
    let c = client("none");
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for i in 0..args.clients {
        let (c, url, done) = (c.clone(), url.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t0 = Instant::now();
                post(
                    &c,
                    url.clone(),
                    json!({"text": format!("Row of client {i}.")}),
                )
                .await;
                latencies.push(t0.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client task"));
    }
    let elapsed = started.elapsed();
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    latencies.sort();
    let p99 = latencies
        .get((latencies.len() as f64 * 0.99) as usize)
        .copied()
        .unwrap_or_default();
    let n = done.load(Ordering::Relaxed);
    println!(
        "minimal_write clients={} seconds={:.1} inserts={n} ({:.0}/s) p99={:.2}ms",
        args.clients,
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        p99.as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let args = args();
    if args.minimal.is_some() {
        return minimal(&args).await;
    }
    // Keys are created before the server starts, through the command line.
    let editor = client(&key(&args, "editor"));
    let checker = client(&key(&args, "fact_checker"));
    let auditor = client(&key(&args, "auditor"));
    let (mut server, addr) = serve(&args);
    let base = format!("http://{addr}");
    let c = editor;

    let source = post(
        &c,
        format!("{base}/v1/sources"),
        json!({"title": "Load", "text": "The load test claim is here."}),
    )
    .await;
    let sid = source["id"].as_str().expect("id");
    let passage = post(
        &c,
        format!("{base}/v1/sources/{sid}/passages"),
        json!({"quote": "load test claim"}),
    )
    .await;
    let claim = post(
        &c,
        format!("{base}/v1/claims"),
        json!({"text": "A claim under load.", "appearances": [passage["id"]]}),
    )
    .await;
    let cid = claim["id"].as_str().expect("id").to_owned();
    let before: Value = auditor
        .get(format!("{base}/v1/audit/verify"))
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("JSON");
    let entries_before = before["length"].as_i64().expect("length");

    let done = Arc::new(AtomicU64::new(0));
    let drafted = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (checker, editor, base, cid) = (checker.clone(), c.clone(), base.clone(), cid.clone());
        let (done, drafted, failed, max) = (
            done.clone(),
            drafted.clone(),
            failed.clone(),
            args.max_transitions,
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            // (who, to, note) for each step after the draft.
            let steps = [
                (&checker, "in_review", None),
                (&editor, "changes_requested", Some("Cite the source.")),
                (&checker, "in_review", None),
                (&editor, "approved", None),
            ];
            'reviews: while Instant::now() < deadline && done.load(Ordering::Relaxed) < max {
                let draft = post(
                    &checker,
                    format!("{base}/v1/claims/{cid}/reviews"),
                    json!({"rating": "unproven", "summary": "Under load."}),
                )
                .await;
                drafted.fetch_add(1, Ordering::Relaxed);
                let id = draft["id"].as_str().expect("id").to_owned();
                let mut revision = draft["revision"].as_i64().expect("revision");
                for (who, to, note) in steps {
                    if Instant::now() >= deadline {
                        break 'reviews;
                    }
                    let t0 = Instant::now();
                    let res = who
                        .post(format!("{base}/v1/reviews/{id}/transitions"))
                        .header("if-match", format!("\"{revision}\""))
                        .json(&json!({"to": to, "note": note}))
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status().is_success() => {
                            let body: Value = r.json().await.expect("JSON");
                            revision = body["revision"].as_i64().expect("revision");
                            latencies.push(t0.elapsed());
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(r) => {
                            eprintln!(
                                "transition refused: {} {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                            failed.fetch_add(1, Ordering::Relaxed);
                            break 'reviews;
                        }
                        Err(e) => {
                            eprintln!("request failed: {e}");
                            failed.fetch_add(1, Ordering::Relaxed);
                            break 'reviews;
                        }
                    }
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client task"));
    }
    let elapsed = started.elapsed();
    let transitions = done.load(Ordering::Relaxed);
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };

    let verify_started = Instant::now();
    let report: Value = auditor
        .get(format!("{base}/v1/audit/verify"))
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("JSON");
    let verify_time = verify_started.elapsed();
    let length = report["length"].as_i64().expect("length");
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();

    let backend = if args.database_url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    println!(
        "backend={backend} clients={} seconds={:.1} transitions={transitions} ({:.0}/s) drafts={} writes={:.0}/s failed={} p50={:.2}ms p99={:.2}ms",
        args.clients,
        elapsed.as_secs_f64(),
        transitions as f64 / elapsed.as_secs_f64(),
        drafted.load(Ordering::Relaxed),
        (transitions + drafted.load(Ordering::Relaxed)) as f64 / elapsed.as_secs_f64(),
        failed.load(Ordering::Relaxed),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
    let drafts = drafted.load(Ordering::Relaxed);
    let exact = length == entries_before + (transitions + drafts) as i64;
    println!(
        "audit: valid={} length={length} (before {entries_before} + {drafts} drafts + {transitions} transitions: {}) verify={:.0}ms head={}",
        report["valid"],
        if exact {
            "no lost or duplicated entry"
        } else {
            "MISMATCH"
        },
        verify_time.as_secs_f64() * 1e3,
        report["head"].as_str().unwrap_or("?"),
    );
    if report["valid"] != true || !exact || failed.load(Ordering::Relaxed) > 0 {
        std::process::exit(1);
    }
}

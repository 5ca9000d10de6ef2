//! Running it in production, with the real binary: database settings whose errors say what is
//! wrong and never print a credential, request ids and access lines, log formats, and online
//! backups that restore every committed entry.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, fresh_database, pg_admin_url};
use crate::lifecycle::{claimtrail, cli_key};

const SECRET: &str = "S3cretPW";

/// Runs a command to its end: whether it succeeded, its stderr, how long it took.
fn run(mut cmd: Command) -> (bool, String, Duration) {
    let started = Instant::now();
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

fn migrate(url: &str) -> (bool, String, Duration) {
    let mut cmd = claimtrail(url);
    cmd.arg("migrate");
    run(cmd)
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `url` (`postgres://user@host/db`) with `SECRET` as the user's password.
fn with_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').unwrap();
    format!("{scheme}://{user}:{SECRET}@{host}")
}

/// Mistakes in the database setting are named, quickly, and the password never shows.
#[test]
fn database_url_mistakes_are_named_without_the_password() {
    let dir = tempfile::tempdir().unwrap();

    // A mistyped scheme was taken for an SQLite file name.
    let (ok, err, _) = migrate("postgress://admin:S3cretPW@db.internal/claimtrail");
    assert!(!ok);
    assert!(
        err.contains("unknown database URL scheme \"postgress\"")
            && err.contains("postgres://")
            && err.contains("sqlite://"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");

    // An SQLite file in a directory that does not exist: named, and nothing made.
    let missing = dir.path().join("no/such/dir/claimtrail.db");
    let (ok, err, _) = migrate(missing.to_str().unwrap());
    assert!(!ok);
    assert!(
        err.contains("does not exist") && err.contains("no/such/dir"),
        "{err}"
    );
    assert!(!dir.path().join("no").exists());

    // A new SQLite file is made, and its path logged.
    let new = dir.path().join("new.db");
    let (ok, err, _) = migrate(new.to_str().unwrap());
    assert!(ok, "{err}");
    assert!(
        err.contains("created a new SQLite database") && err.contains(new.to_str().unwrap()),
        "{err}"
    );
    let (ok, err, _) = migrate(new.to_str().unwrap());
    assert!(ok, "{err}");
    assert!(!err.contains("created a new SQLite database"), "{err}");

    // Nothing listens: refused, named at once (the pool would retry for its 10 s timeout).
    let url = format!(
        "postgres://admin:{SECRET}@127.0.0.1:{}/claimtrail",
        closed_port()
    );
    let (ok, err, took) = migrate(&url);
    assert!(!ok);
    assert!(err.contains("refused the connection"), "{err}");
    assert!(err.contains("postgres://admin:***@127.0.0.1"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
    assert!(!err.contains("pool timed out"), "{err}");
    assert!(took < Duration::from_secs(9), "{took:?}");

    // A password given as a query option is kept out too.
    let url = format!(
        "postgres://admin@127.0.0.1:{}/claimtrail?password={SECRET}",
        closed_port()
    );
    let (ok, err, _) = migrate(&url);
    assert!(!ok);
    assert!(!err.contains(SECRET), "{err}");
}

/// PostgreSQL's refusals are named at start (authentication, a missing database) and in
/// `/ready` (the database dropped under a running server), never with the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refusals_are_named_at_start_and_in_ready() {
    let admin = pg_admin_url();
    let (base, _) = admin.rsplit_once('/').unwrap();

    let (_, host) = base.split_once('@').unwrap();
    let url = format!("postgres://no_such_role_ct:{SECRET}@{host}/postgres");
    let (ok, err, took) = migrate(&url);
    assert!(!ok);
    assert!(
        err.contains("authentication failed for user \"no_such_role_ct\""),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");
    assert!(took < Duration::from_secs(9), "{took:?}");

    let url = with_password(&format!("{base}/ct_no_such_database"));
    let (ok, err, _) = migrate(&url);
    assert!(!ok);
    assert!(
        err.contains("the database \"ct_no_such_database\" does not exist"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");

    // A running server whose database goes away says so in /ready.
    let dir = tempfile::tempdir().unwrap();
    let plain = fresh_database(Backend::Postgres, dir.path()).await;
    let name = plain.rsplit_once('/').unwrap().1.to_owned();
    let url = with_password(&plain);
    let server = spawn_server(&url, &[]);
    let addr = server.addr.clone();
    let client = crate::helpers::anonymous_client();
    let ready = client
        .get(format!("http://{addr}/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let started = Instant::now();
    let ready = client
        .get(format!("http://{addr}/ready"))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(6));
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("the database \"{name}\" does not exist")),
        "{body}"
    );
    assert!(!body.to_string().contains(SECRET), "{body}");
    let log = stop(server);
    assert!(log.contains("database=postgres://postgres:***@"), "{log}");
    assert!(!log.contains(SECRET), "{log}");
}

/// A server process and its log.
struct Server {
    child: Child,
    addr: String,
    /// The log up to the listening line.
    head: String,
    lines: std::sync::mpsc::Receiver<String>,
}

/// A server on `url`, started with `env` set (logs as they would be in a file: not a
/// terminal, no NO_COLOR).
fn spawn_server(url: &str, env: &[(&str, &str)]) -> Server {
    let mut cmd = claimtrail(url);
    cmd.env_remove("NO_COLOR")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (send, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut head = String::new();
    let addr = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server exited before listening: {head}"));
        head.push_str(&line);
        head.push('\n');
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == ':')
                .collect::<String>();
        }
    };
    Server {
        child,
        addr,
        head,
        lines,
    }
}

/// SIGTERM, wait, and the whole log.
fn stop(mut server: Server) -> String {
    let child = &mut server.child;
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.wait();
    let rest: Vec<String> = server.lines.iter().collect();
    format!("{}{}", server.head, rest.join("\n"))
}

/// Makes a key at the command line: (its id, its token).
fn key_with_id(url: &str, person: &str, role: &str) -> (String, String) {
    let out = claimtrail(url)
        .args(["keys", "create", "--person", person, "--role", role])
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let id = stderr
        .split("created key ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the key's id")
        .to_owned();
    (id, token)
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Request ids: echoed when sent, made when absent; every line of the request carries it, and
/// its one access line names the route template, status, duration and key id (not the token).
/// Written to a pipe, the log has no colour codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_their_id_and_end_in_one_access_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let (key_id, token) = key_with_id(&url, "ops-reader", "auditor");
    let server = spawn_server(&url, &[("RUST_LOG", "info")]);
    let addr = server.addr.clone();
    let client = crate::helpers::client_with_key(&token);

    let res = client
        .get(format!("http://{addr}/v1/claims"))
        .header("x-request-id", "ops-req-1")
        .header("traceparent", TRACEPARENT)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-request-id"], "ops-req-1");

    let missing = uuid::Uuid::now_v7();
    let res = client
        .get(format!("http://{addr}/v1/claims/{missing}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let made = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
    // An id that could forge log lines is replaced.
    let res = client
        .get(format!("http://{addr}/health"))
        .header("x-request-id", "a b\"c")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "a b\"c");

    let log = stop(server);
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a piped log: {log}"
    );
    assert!(!log.contains(&token), "{log}");
    let first: Vec<&str> = log.lines().filter(|l| l.contains("ops-req-1")).collect();
    let access: Vec<&&str> = first.iter().filter(|l| l.contains("answered")).collect();
    assert_eq!(access.len(), 1, "{log}");
    let line = access[0];
    for part in [
        "method=GET",
        "route=/v1/claims",
        "status=200",
        "duration_ms=",
        "trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
        &format!("key_id={key_id}"),
    ] {
        assert!(line.contains(part), "{part} not in {line}");
    }
    let second: Vec<&str> = log.lines().filter(|l| l.contains(&made)).collect();
    assert!(
        second.iter().any(|l| l.contains("answered")
            && l.contains("route=/v1/claims/{id}")
            && l.contains("status=404")),
        "{log}"
    );
    assert!(
        !log.contains(&missing.to_string()),
        "a raw id in the log: {log}"
    );
}

/// `CLAIMTRAIL_LOG_FORMAT=json`: one JSON object per line, the request's fields in its span.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let token = cli_key(&url, "ops-json", "auditor");
    let server = spawn_server(
        &url,
        &[("RUST_LOG", "info"), ("CLAIMTRAIL_LOG_FORMAT", "json")],
    );
    let addr = server.addr.clone();
    let res = crate::helpers::client_with_key(&token)
        .get(format!("http://{addr}/v1/sources"))
        .header("x-request-id", "ops-json-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let log = stop(server);
    let objects: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let access = objects
        .iter()
        .find(|o| o["message"] == "answered")
        .expect("an access line");
    assert_eq!(access["status"], 200, "{access}");
    assert_eq!(access["span"]["request_id"], "ops-json-1", "{access}");
    assert_eq!(access["span"]["route"], "/v1/sources", "{access}");
    assert!(
        objects
            .iter()
            .any(|o| o["message"].as_str().unwrap_or("").contains("listening on"))
    );
}

/// A failing webhook endpoint: every failed attempt, and the endpoint being disabled, logged
/// at warn with the endpoint, the attempt and the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_failures_and_disabling_are_logged_at_warn() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let token = cli_key(&url, "ops-hooks", "admin");
    let (hook, got) = crate::webhooks::receiver(vec![500, 500]).await;
    let server = spawn_server(
        &url,
        &[
            ("CLAIMTRAIL_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("CLAIMTRAIL_WEBHOOK_SCHEDULE", "0"),
        ],
    );
    let addr = server.addr.clone();
    let client = crate::helpers::client_with_key(&token);
    let res = client
        .post(format!("http://{addr}/v1/webhooks"))
        .json(&json!({"url": hook, "events": ["review.published"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let endpoint: Value = res.json().await.unwrap();
    let eid = endpoint["id"].as_str().unwrap().to_owned();
    let res = client
        .post(format!("http://{addr}/v1/webhooks/{eid}/test"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let mut log = String::new();
    let started = Instant::now();
    while !log.contains("webhook endpoint disabled") {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not disabled: {log}"
        );
        if let Ok(line) = server.lines.recv_timeout(Duration::from_millis(200)) {
            log.push_str(&line);
            log.push('\n');
        }
    }
    assert_eq!(got.lock().unwrap().len(), 2);
    let failed: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("webhook delivery failed"))
        .collect();
    assert_eq!(failed.len(), 2, "{log}");
    assert!(
        failed.iter().all(|l| l.contains("WARN")
            && l.contains(&format!("endpoint={eid}"))
            && l.contains("status=500")),
        "{log}"
    );
    let disabled = log
        .lines()
        .find(|l| l.contains("webhook endpoint disabled"))
        .unwrap();
    assert!(
        disabled.contains("WARN") && disabled.contains("every attempt"),
        "{disabled}"
    );
    stop(server);
}

/// A backup taken while the server writes restores to a database whose audit chain verifies
/// and which holds every write acknowledged before the backup began.
async fn a_backup_during_writes_restores_every_committed_entry(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let token = cli_key(&url, "ops-writer", "fact_checker");
    let server = spawn_server(&url, &[]);
    let addr = server.addr.clone();
    let client = crate::helpers::client_with_key(&token);

    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (stop_writes, writes_stopped) = tokio::sync::watch::channel(false);
    let writer = {
        let (client, addr, acked) = (client.clone(), addr.clone(), acked.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !*writes_stopped.borrow() {
                n += 1;
                let res = client
                    .post(format!("http://{addr}/v1/sources"))
                    .json(&json!({"title": format!("Backup {n}"), "text": format!("Text number {n} of the backup test.")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                let body: Value = res.json().await.unwrap();
                acked
                    .lock()
                    .unwrap()
                    .push(body["id"].as_str().unwrap().to_owned());
            }
        })
    };
    while acked.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<String> = acked.lock().unwrap().clone();
    let copy = dir.path().join(match backend {
        Backend::Sqlite => "backup.db",
        Backend::Postgres => "backup.dump",
    });
    let (ok, err, _) = {
        let mut cmd = claimtrail(&url);
        cmd.arg("backup").arg(&copy);
        tokio::task::spawn_blocking(move || run(cmd)).await.unwrap()
    };
    assert!(ok, "{err}");
    stop_writes.send(true).unwrap();
    writer.await.unwrap();
    assert!(acked.lock().unwrap().len() > before.len());
    // A second backup to the same path is refused, not overwritten.
    let mut again = claimtrail(&url);
    again.arg("backup").arg(&copy);
    let (ok, err, _) = run(again);
    assert!(!ok && err.contains("exists already"), "{err}");
    stop(server);

    // Restore as docs/operations.md says.
    let restored = match backend {
        Backend::Sqlite => {
            let target = dir.path().join("restored.db");
            std::fs::copy(&copy, &target).unwrap();
            target.display().to_string()
        }
        Backend::Postgres => {
            let restore_dir = tempfile::tempdir().unwrap();
            let target = fresh_database(backend, restore_dir.path()).await;
            let out = Command::new("pg_restore")
                .args(["--no-owner", "--exit-on-error", "--dbname"])
                .arg(&target)
                .arg(&copy)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            target
        }
    };
    let out = claimtrail(&restored)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("audit chain verified"),
        "{said}"
    );
    let server = spawn_server(&restored, &[]);
    let addr = server.addr.clone();
    for id in &before {
        let res = client
            .get(format!("http://{addr}/v1/sources/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            200,
            "source {id}, acknowledged before the backup"
        );
    }
    stop(server);
}

/// `GET /metrics` on its own listener: the OpenTelemetry HTTP metrics by route template, our
/// own figures; the API's port does not serve it.
async fn metrics_are_served_on_their_own_listener(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(backend, dir.path()).await;
    let token = cli_key(&url, "ops-metrics", "fact_checker");
    let server = spawn_server(&url, &[("CLAIMTRAIL_METRICS_BIND", "127.0.0.1:0")]);
    let addr = server.addr.clone();
    let metrics_url = server
        .head
        .split("metrics=")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the start line names the metrics address")
        .to_owned();
    let client = crate::helpers::client_with_key(&token);
    let missing = uuid::Uuid::now_v7();
    let res = client
        .get(format!("http://{addr}/v1/claims/{missing}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = client
        .post(format!("http://{addr}/v1/sources"))
        .json(&json!({"title": "Measured", "text": "A text that is measured."}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let on_api = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_api.status(), 404);

    let res = crate::helpers::anonymous_client()
        .get(&metrics_url)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    let has = |parts: &[&str]| {
        text.lines()
            .any(|l| !l.starts_with('#') && parts.iter().all(|p| l.contains(p)))
    };
    assert!(
        has(&[
            "http_server_request_duration_seconds_bucket{",
            "http_request_method=\"GET\"",
            "http_route=\"/v1/claims/{id}\"",
            "http_response_status_code=\"404\"",
        ]),
        "{text}"
    );
    assert!(
        has(&[
            "http_server_request_duration_seconds_count{",
            "http_route=\"/v1/sources\"",
            "http_response_status_code=\"201\"",
        ]),
        "{text}"
    );
    assert!(has(&["http_server_active_requests{"]), "{text}");
    assert!(
        has(&[
            "claimtrail_writes_total{",
            "use_case=\"POST /v1/sources\"",
            "} 1"
        ]),
        "{text}"
    );
    assert!(
        has(&["claimtrail_problems_total{", "type=\"not-found\""]),
        "{text}"
    );
    assert!(
        has(&["claimtrail_store_write_duration_seconds_bucket{"]),
        "{text}"
    );
    assert!(has(&["claimtrail_store_writes_in_flight{"]), "{text}");
    // The key made at the command line and the source: two audit entries.
    assert!(has(&["claimtrail_audit_log_entries "]), "{text}");
    assert!(has(&["claimtrail_changes_head_seq "]), "{text}");
    assert!(
        has(&["claimtrail_webhook_oldest_pending_age_seconds 0"]),
        "{text}"
    );
    match backend {
        Backend::Sqlite => assert!(
            has(&["claimtrail_sqlite_writer_batch_size_count "]),
            "{text}"
        ),
        Backend::Postgres => {
            assert!(
                has(&["claimtrail_db_pool_connections{", "state=\"idle\""]),
                "{text}"
            )
        }
    }
    assert!(!text.contains(&missing.to_string()), "a raw id in a label");
    stop(server);
}

crate::both_backends!(
    a_backup_during_writes_restores_every_committed_entry,
    metrics_are_served_on_their_own_listener,
);

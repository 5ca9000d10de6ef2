//! `spawn_app()`: a fresh database and the real server on 127.0.0.1 with port 0.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use claimtrail::app::App;
use claimtrail::domain::access::{Actor, Role};
use claimtrail::domain::claimreview::Organization;
use claimtrail::http::{self, HttpConfig};
use claimtrail::store::Store;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub backend: Backend,
    /// The database's URL (a file path on SQLite), for raw SQL that bypasses the API.
    pub db_url: String,
    pub base: String,
    pub client: reqwest::Client,
    pub app: App,
    /// Keeps the webhook delivery worker running while the test runs.
    _delivery: Option<tokio::sync::watch::Sender<bool>>,
    _dir: tempfile::TempDir,
}

static DB_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Where the test PostgreSQL server is; scripts/test.sh starts one and sets it.
pub fn pg_admin_url() -> String {
    std::env::var("CLAIMTRAIL_TEST_PG_URL").expect(
        "CLAIMTRAIL_TEST_PG_URL is not set: run the suite with scripts/test.sh, which starts PostgreSQL",
    )
}

/// A database URL for a new, empty database on `backend`.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => dir.join("test.db").display().to_string(),
        Backend::Postgres => {
            let admin = pg_admin_url();
            let name = format!(
                "ct_{}_{}_{}",
                std::process::id(),
                DB_COUNTER.fetch_add(1, Ordering::Relaxed),
                uuid::Uuid::now_v7().simple()
            );
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to test PostgreSQL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            conn.close().await.ok();
            let (base, _) = admin.rsplit_once('/').expect("admin URL has a database");
            format!("{base}/{name}")
        }
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, HttpConfig::default()).await
}

pub async fn spawn_app_with(backend: Backend, config: HttpConfig) -> TestApp {
    spawn(backend, config, true, LOCK_WAIT, None).await
}

/// A one-person desk whose `App` is configured further (a URL rule, a public base URL).
pub async fn spawn_one_person_desk_with(backend: Backend, configure: fn(App) -> App) -> TestApp {
    spawn_configured(
        backend,
        HttpConfig::default(),
        false,
        LOCK_WAIT,
        None,
        configure,
    )
    .await
}

/// A one-person desk whose webhooks may go to loopback, retried after `schedule`, with the
/// delivery worker running.
pub async fn spawn_with_webhooks(backend: Backend, schedule: &[Duration]) -> TestApp {
    let settings = claimtrail::app::WebhookSettings {
        schedule: schedule.to_vec(),
        allow_private: true,
    };
    spawn(
        backend,
        HttpConfig::default(),
        false,
        LOCK_WAIT,
        Some(settings),
    )
    .await
}

/// An instance with the second-person rule turned off (a one-person desk).
pub async fn spawn_one_person_desk(backend: Backend) -> TestApp {
    spawn(backend, HttpConfig::default(), false, LOCK_WAIT, None).await
}

/// An instance whose writes wait only `lock_wait` for a lock someone else holds.
pub async fn spawn_app_with_lock_wait(backend: Backend, lock_wait: Duration) -> TestApp {
    spawn(backend, HttpConfig::default(), true, lock_wait, None).await
}

/// The service's default.
const LOCK_WAIT: Duration = Duration::from_secs(10);

async fn spawn(
    backend: Backend,
    config: HttpConfig,
    second_person_rule: bool,
    lock_wait: Duration,
    webhooks: Option<claimtrail::app::WebhookSettings>,
) -> TestApp {
    spawn_configured(
        backend,
        config,
        second_person_rule,
        lock_wait,
        webhooks,
        |app| app,
    )
    .await
}

async fn spawn_configured(
    backend: Backend,
    config: HttpConfig,
    second_person_rule: bool,
    lock_wait: Duration,
    webhooks: Option<claimtrail::app::WebhookSettings>,
    configure: fn(App) -> App,
) -> TestApp {
    // Server-side errors show up in a failing test's output.
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database(backend, dir.path()).await;
    let store = Store::connect_with(&url, 5, lock_wait)
        .await
        .expect("open database");
    store.migrate().await.expect("migrate");
    let mut app = configure(
        App::new(store, 64 << 20)
            .with_second_person_rule(second_person_rule)
            .with_organization(ORG.clone())
            .with_log_key(test_log_key()),
    );
    let mut delivery = None;
    if let Some(settings) = webhooks {
        app = app.with_webhooks(settings);
        delivery = Some(claimtrail::delivery::spawn(app.clone()).0);
    }
    app.create_person(&Actor::operator("test"), "test-admin", "Test admin")
        .await
        .expect("admin person");
    let (_, admin) = app
        .create_key(
            &Actor::operator("test"),
            "test-admin",
            Role::Admin,
            "test-admin",
        )
        .await
        .expect("admin key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let served = app.clone();
    tokio::spawn(async move { http::serve(listener, served, &config).await });
    TestApp {
        backend,
        db_url: url,
        base: format!("http://{addr}"),
        client: client_with_key(&admin),
        app,
        _delivery: delivery,
        _dir: dir,
    }
}

/// The origin of the test servers' transparency logs.
pub const LOG_ORIGIN: &str = "test.claimtrail.example/audit";

/// The test servers' log signing key (one fixed key: tests that need another make it).
pub fn test_log_key() -> claimtrail::domain::tlog::LogKey {
    let secret = claimtrail::domain::tlog::LogKey::secret_text(LOG_ORIGIN, [42; 32]).unwrap();
    claimtrail::domain::tlog::LogKey::from_secret(&secret, LOG_ORIGIN, LOG_ORIGIN).unwrap()
}

/// A client that sends `Authorization: Bearer <token>` with every request.
pub fn client_with_key(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value =
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("ASCII token");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    claimtrail::delivery::install_default_crypto();
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

impl TestApp {
    /// A directory of the test's own, removed with it.
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// A new key with `role` for the person `test-<role>` (one person per role); returns its
    /// token.
    pub async fn key(&self, role: Role) -> String {
        self.person_key(&format!("test-{}", role.as_str()), role)
            .await
    }

    /// A new key with `role` for the person `handle` (made if new); returns its token.
    pub async fn person_key(&self, handle: &str, role: Role) -> String {
        let operator = Actor::operator("test");
        self.app
            .ensure_person(&operator, handle, &format!("Person {handle}"))
            .await
            .expect("person");
        let (_, token) = self
            .app
            .create_key(&operator, &format!("test-{}", role.as_str()), role, handle)
            .await
            .expect("key");
        token
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// GETs a path that must answer with JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.json().await.expect("JSON body")
    }

    /// Runs raw SQL on the test database, bypassing the API (to test what the database itself
    /// refuses).
    pub async fn execute_sql(&self, sql: &'static str) -> Result<u64, String> {
        match self.backend {
            Backend::Sqlite => {
                let conn = rusqlite::Connection::open(&self.db_url).map_err(|e| e.to_string())?;
                conn.execute(sql, [])
                    .map(|n| n as u64)
                    .map_err(|e| e.to_string())
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&self.db_url)
                    .await
                    .map_err(|e| e.to_string())?;
                let out = sqlx::query(sql)
                    .execute(&mut conn)
                    .await
                    .map(|r| r.rows_affected())
                    .map_err(|e| e.to_string());
                conn.close().await.ok();
                out
            }
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// PATCHes a JSON Merge Patch.
    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .header("content-type", "application/merge-patch+json")
            .json(body)
            .send()
            .await
            .expect("PATCH")
    }

    /// POSTs raw bytes with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        let mut req = self.client.post(self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.expect("POST")
    }

    /// Creates a source and returns its JSON.
    pub async fn source(&self, title: &str, text: &str) -> Value {
        let res = self
            .post("/v1/sources", &json!({"title": title, "text": text}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.expect("json")
    }

    /// Resolves a passage and returns its JSON (201 or 200 expected).
    pub async fn passage(&self, source_id: &str, body: Value) -> Value {
        let res = self
            .post(&format!("/v1/sources/{source_id}/passages"), &body)
            .await;
        let status = res.status();
        let json: Value = res.json().await.expect("json");
        assert!(status.is_success(), "{status}: {json}");
        json
    }

    /// Makes a claim (201 expected) and returns its JSON.
    pub async fn claim(&self, body: Value) -> Value {
        let res = self.post("/v1/claims", &body).await;
        let status = res.status();
        let json: Value = res.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{json}");
        json
    }

    /// Adds a passage as evidence for or against a claim (201 expected); its JSON.
    pub async fn evidence(&self, claim_id: &str, passage: &Value, stance: &str) -> Value {
        let res = self
            .post(
                &format!("/v1/claims/{claim_id}/evidence"),
                &json!({"passage_id": passage["id"], "stance": stance}),
            )
            .await;
        let status = res.status();
        let json: Value = res.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{json}");
        json
    }

    /// A claim stated in the passage `appeared`, with the passage `evidence` taken as
    /// evidence with `stance`; the claim's id and the evidence's.
    pub async fn claim_with_evidence(
        &self,
        text: &str,
        appeared: &Value,
        evidence: &Value,
        stance: &str,
    ) -> (String, String) {
        let claim = self
            .claim(json!({"text": text, "appearances": [appeared["id"]]}))
            .await;
        let cid = claim["id"].as_str().expect("claim id").to_owned();
        let ev = self.evidence(&cid, evidence, stance).await;
        (cid, ev["id"].as_str().expect("evidence id").to_owned())
    }

    /// Rows in every table, the audit log included.
    pub async fn row_counts(&self) -> Vec<(String, i64)> {
        self.app.row_counts().await.expect("row counts")
    }
}

/// Asserts a problem+json answer with this status and type slug; returns its body.
pub async fn assert_problem(res: Response, status: StatusCode, slug: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(ct, "application/problem+json", "content type");
    let body: Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["type"], format!("/problems/{slug}"), "{body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["hint"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    body
}

/// Code point offsets of `needle` in `text` (its first occurrence at or after `from`).
pub fn cp_span(text: &str, needle: &str, from_byte: usize) -> (usize, usize) {
    let at = from_byte + text[from_byte..].find(needle).expect("needle in text");
    let start = text[..at].chars().count();
    (start, start + needle.chars().count())
}

/// Runs each listed `async fn(Backend)` test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::helpers::Backend::Postgres).await })*
        }
    };
}

/// The publishing organisation every test server is configured with.
pub static ORG: std::sync::LazyLock<Organization> = std::sync::LazyLock::new(|| Organization {
    name: "Test Desk".into(),
    url: "https://desk.example.org/".into(),
    logo: Some("https://desk.example.org/logo.png".into()),
});

/// A client without a key.
pub fn anonymous_client() -> reqwest::Client {
    claimtrail::delivery::install_default_crypto();
    reqwest::Client::new()
}

/// Sends a workflow step (`{"to": …, "note": …}`) on `review` with `client`, the review's
/// revision in the body.
pub async fn transition(
    client: &reqwest::Client,
    t: &TestApp,
    review: &Value,
    mut body: Value,
) -> Response {
    body["revision"] = review["revision"].clone();
    let id = review["id"].as_str().expect("a review id");
    client
        .post(t.url(&format!("/v1/reviews/{id}/transitions")))
        .json(&body)
        .send()
        .await
        .expect("POST")
}

/// A verdict on `claim` drafted from `draft` (its rating, summary, ...) and taken through
/// review to publication by the test's admin alone (a one-person desk:
/// `spawn_one_person_desk`), at the page `url` if given; returns the published review.
pub async fn publish_alone(t: &TestApp, claim: &str, draft: Value, url: Option<&str>) -> Value {
    let res = t.post(&format!("/v1/claims/{claim}/reviews"), &draft).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut review: Value = res.json().await.expect("JSON");
    let id = review["id"].as_str().expect("id").to_owned();
    for (to, page) in [("in_review", None), ("approved", None), ("published", url)] {
        let res = t
            .post(
                &format!("/v1/reviews/{id}/transitions"),
                &json!({"to": to, "revision": review["revision"], "published_url": page}),
            )
            .await;
        let status = res.status();
        review = res.json().await.expect("JSON");
        assert_eq!(status, StatusCode::OK, "{to}: {review}");
    }
    review
}

/// A verdict on `claim` drafted by a fact-checker, approved and published by an editor (two
/// people, so it works with the second-person rule on), at the page `url` if given; returns
/// the published review.
pub async fn publish_verdict(t: &TestApp, claim: &str, url: Option<&str>) -> Value {
    let checker = client_with_key(&t.key(Role::FactChecker).await);
    let editor = client_with_key(&t.key(Role::Editor).await);
    let res = checker
        .post(t.url(&format!("/v1/claims/{claim}/reviews")))
        .json(&json!({"rating": "false", "summary": "The record says otherwise."}))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut review: Value = res.json().await.expect("JSON");
    let id = review["id"].as_str().expect("id").to_owned();
    for (client, to, page) in [
        (&checker, "in_review", None),
        (&editor, "approved", None),
        (&editor, "published", url),
    ] {
        let res = client
            .post(t.url(&format!("/v1/reviews/{id}/transitions")))
            .json(&json!({"to": to, "revision": review["revision"], "published_url": page}))
            .send()
            .await
            .expect("POST");
        let status = res.status();
        review = res.json().await.expect("JSON");
        assert_eq!(status, StatusCode::OK, "{to}: {review}");
    }
    review
}

//! Prometheus metrics: recorded here, served by `http::metrics` on a listener of its own
//! (`CLAIMTRAIL_METRICS_BIND`), never on the API's port, so that a load balancer or the public internet never sees it and
//! no key is needed to scrape it. Without the setting no recorder is installed and every
//! `metrics::…!` call is a no-op (and the HTTP layer is not added at all).
//!
//! HTTP metrics follow the OpenTelemetry HTTP semantic conventions (Prometheus names):
//! `http_server_request_duration_seconds` (histogram: `http_request_method`, `http_route`,
//! the matched template, never a raw id, `http_response_status_code`) and
//! `http_server_active_requests` (gauge: `http_request_method`). Our own are prefixed
//! `claimtrail_`; docs/operations.md lists each and the alerts worth setting.

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// OpenTelemetry's recommended boundaries for `http.server.request.duration`, in seconds.
const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
/// For store and quote timings (finer at the low end: most take well under a millisecond).
const FINE_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same handle).
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_server_request_duration_seconds".into()),
                    HTTP_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Prefix("claimtrail_".into()), FINE_BUCKETS)
                })
                .expect("non-empty buckets")
                .install_recorder()
                .expect("no other metrics recorder is installed")
        })
        .clone()
}

/// Whether a recorder is installed (metrics are on).
pub fn enabled() -> bool {
    HANDLE.get().is_some()
}

/// The methods OpenTelemetry names; any other is `_OTHER` (unbounded label values otherwise).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

/// The problem type of an error answer (set by `Problem::into_response`).
#[derive(Clone, Copy, Debug)]
pub struct ProblemType(pub &'static str);

/// The HTTP layer: request duration and active requests per the OpenTelemetry conventions,
/// successful writes per use case (method and route) and error answers per problem type.
pub async fn track(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route: Cow<'static, str> = match request.extensions().get::<MatchedPath>() {
        Some(p) => Cow::Owned(p.as_str().to_owned()),
        // OpenTelemetry: no route when none matched (a 404 of the fallback).
        None => Cow::Borrowed(""),
    };
    let active = metrics::gauge!("http_server_active_requests", "http_request_method" => method);
    active.increment(1.0);
    let started = Instant::now();
    let response = next.run(request).await;
    let took = started.elapsed();
    active.decrement(1.0);
    let status = response.status();
    metrics::histogram!(
        "http_server_request_duration_seconds",
        "http_request_method" => method,
        "http_route" => route.clone(),
        "http_response_status_code" => status.as_u16().to_string(),
    )
    .record(took.as_secs_f64());
    if status.is_success() && !matches!(method, "GET" | "HEAD" | "OPTIONS") {
        let use_case = format!("{method} {route}");
        metrics::counter!("claimtrail_writes_total", "use_case" => use_case).increment(1);
    }
    if let Some(ProblemType(kind)) = response.extensions().get::<ProblemType>() {
        metrics::counter!("claimtrail_problems_total", "type" => *kind, "http_route" => route)
            .increment(1);
    }
    response
}

/// A unit of work asked for and not yet answered (on SQLite: waiting for or inside the one
/// writer: its queue); dropped when answered (or abandoned), recording how long it took.
pub struct WriteInFlight {
    started: Instant,
    backend: &'static str,
    ok: bool,
}

impl WriteInFlight {
    /// `None` when metrics are off (nothing is measured).
    pub fn start(backend: &'static str) -> Option<WriteInFlight> {
        if !enabled() {
            return None;
        }
        metrics::gauge!("claimtrail_store_writes_in_flight", "backend" => backend).increment(1.0);
        Some(WriteInFlight {
            started: Instant::now(),
            backend,
            ok: false,
        })
    }

    pub fn succeeded(&mut self) {
        self.ok = true;
    }
}

impl Drop for WriteInFlight {
    fn drop(&mut self) {
        metrics::gauge!("claimtrail_store_writes_in_flight", "backend" => self.backend)
            .decrement(1.0);
        let outcome = if self.ok { "ok" } else { "error" };
        metrics::histogram!(
            "claimtrail_store_write_duration_seconds",
            "backend" => self.backend,
            "outcome" => outcome
        )
        .record(self.started.elapsed().as_secs_f64());
    }
}

/// One group commit of the SQLite writer: how many units of work it held and how long it
/// took from `BEGIN` to `COMMIT` (every unit's statements and the commit).
pub fn sqlite_batch(units: usize, commit: Duration) {
    if !enabled() {
        return;
    }
    metrics::histogram!("claimtrail_sqlite_writer_batch_size").record(units as f64);
    metrics::histogram!("claimtrail_sqlite_writer_batch_seconds").record(commit.as_secs_f64());
}

/// How long a CPU-heavy task took, waiting for a slot included (`app::cpu_bound`); quote
/// resolution also as `claimtrail_quote_resolution_seconds`.
pub fn cpu_task(task: &'static str, took: Duration) {
    if !enabled() {
        return;
    }
    let seconds = took.as_secs_f64();
    metrics::histogram!("claimtrail_cpu_task_seconds", "task" => task).record(seconds);
    if task == "resolving the quote" {
        metrics::histogram!("claimtrail_quote_resolution_seconds").record(seconds);
    }
}

/// A webhook attempt's outcome: `delivered`, `retrying` or `failed` (given up).
pub fn webhook_attempt(outcome: &'static str) {
    if !enabled() {
        return;
    }
    metrics::counter!("claimtrail_webhook_attempts_total", "outcome" => outcome).increment(1);
}

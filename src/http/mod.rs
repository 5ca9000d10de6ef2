//! The HTTP API: routes, the OpenAPI document, middleware and graceful shutdown.

// A `Problem` is built once per refused request: boxing it in every `Result` would only add
// noise.
#![allow(clippy::result_large_err)]

pub mod audit;
pub mod claims;
pub mod cms;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod keys;
pub mod metrics;
pub mod observe;
pub mod operations;
pub mod passages;
pub mod people;
pub mod reviews;
pub mod schema;
pub mod sources;
pub mod statistics;
pub mod tlog;
pub mod webhooks;

use std::time::Duration;

use axum::Json;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::App;
use error::{Kind, Problem};
use extract::ApiPath;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Origins whose browser code may call the API (CORS), like `https://cms.example.org`.
    pub cors_origins: Vec<String>,
    /// How long a response to an `Idempotency-Key` is kept.
    pub idempotency_ttl: Duration,
    /// Whether requests are measured for `/metrics` (served on a listener of its own: see
    /// [`crate::metrics`]).
    pub metrics: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 32 * 1024 * 1024,
            cors_origins: Vec::new(),
            idempotency_ttl: Duration::from_secs(24 * 3600),
            metrics: false,
        }
    }
}

/// CORS for the configured origins: preflights answered, the headers a CMS sends allowed,
/// `ETag` (and the change feed's head) readable.
fn cors(origins: &[String]) -> Result<tower_http::cors::CorsLayer, String> {
    use axum::http::{HeaderName, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins = origins
        .iter()
        .map(|o| {
            axum::http::HeaderValue::from_str(o.trim_end_matches('/'))
                .map_err(|_| format!("CORS origin {o:?} is not a valid header value"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if origins.iter().any(|o| o == "*") {
        return Err("CORS origins must be listed; `*` is not accepted".into());
    }
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            HeaderName::from_static("changes-head"),
            HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(Duration::from_secs(600)))
}

/// Gives `GET` answers (JSON, JSON-LD) an ETag of their body and answers `If-None-Match` with
/// 304: a CMS that renders a page on every visit re-reads nothing unchanged. Answers that carry
/// their own ETag (a review's revision) keep it; streams are left alone.
async fn etags(request: Request, next: axum::middleware::Next) -> Response {
    if !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) {
        return next.run(request).await;
    }
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            let v = v.as_bytes();
            v.starts_with(b"application/json") || v.starts_with(b"application/ld+json")
        });
    if response.status() != StatusCode::OK || !json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    if let Some(tag) = parts.headers.get(header::ETAG).cloned() {
        if matches_tag(if_none_match.as_ref(), &tag) {
            return not_modified(tag);
        }
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Problem::internal("reading a response body", &"body").into_response();
    };
    let tag =
        axum::http::HeaderValue::from_str(&crate::app::body_tag(&bytes)).expect("hex and quotes");
    if matches_tag(if_none_match.as_ref(), &tag) {
        return not_modified(tag);
    }
    parts.headers.insert(header::ETAG, tag);
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

pub(crate) fn not_modified(tag: axum::http::HeaderValue) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    response.headers_mut().insert(header::ETAG, tag);
    response
}

/// `If-None-Match` compares weakly: `*`, or any listed tag with or without `W/`.
pub(crate) fn matches_tag(
    if_none_match: Option<&axum::http::HeaderValue>,
    tag: &axum::http::HeaderValue,
) -> bool {
    let Some(Ok(list)) = if_none_match.map(|v| v.to_str()) else {
        return false;
    };
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = strip(tag.to_str().unwrap_or_default());
    list.split(',').any(|t| t.trim() == "*" || strip(t) == ours)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "claimtrail",
        description = "A trustworthy record of claims: sources stored as immutable hashed versions, \
exact passages addressed the W3C Web Annotation way, claims and the evidence for and against them.\n\n\
Every error is an RFC 9457 problem (`application/problem+json`) whose `type` is a stable `/problems/{slug}` URI; \
`GET` on it describes the problem.",
        license(name = "Apache-2.0")
    ),
    paths(tlog::tile),
    components(schemas(
        schema::Cursor,
        schema::AuditCursor,
        schema::Checkpoint,
        schema::Sha256Hex,
        crate::domain::Order,
        crate::domain::webhooks::Payload,
        crate::domain::changes::ChangeData,
    )),
    tags(
        (name = "sources", description = "Articles, reports and transcripts, as immutable versions of their text"),
        (name = "passages", description = "Exact spans of one version, resolved from pasted quotes or positions"),
        (name = "claims", description = "Checkable statements with where they appeared and the evidence about them"),
        (name = "reviews", description = "Verdicts on claims, their workflow and rating scales"),
        (name = "statistics", description = "Figures in sources: trace one to everywhere it is stated, and record who cites whom"),
        (name = "cms", description = "For a newsroom's CMS: ClaimReview markup, lookup by article URL, the change feed"),
        (name = "admin", description = "API keys"),
        (name = "audit", description = "The tamper-evident audit trail and its transparency log"),
        (name = "meta", description = "Health and problem types"),
    )
)]
struct ApiDoc;

/// Applied once the routes are in: declares bearer keys and, on every `/v1` operation, the 401 and 403 problems they bring, and on every operation with a body its 400 and 415.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key: `ct_…`"))
                    .build(),
            ),
        );
        let problem = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/v1/") {
                continue;
            }
            // Every operation with a body answers these the same way.
            for op in [&mut item.post, &mut item.put, &mut item.patch]
                .into_iter()
                .flatten()
                .filter(|op| op.request_body.is_some())
            {
                for (status, description) in [
                    ("400", "Body is not JSON or not UTF-8"),
                    ("415", "Body is not sent as JSON"),
                ] {
                    op.responses
                        .responses
                        .entry(status.into())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(description)
                                .content("application/problem+json", problem())
                                .build()
                                .into()
                        });
                }
            }
            if let Some(op) = item.post.as_mut() {
                idempotent(op, &problem);
            }
            for (method, op) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ] {
                let Some(op) = op.as_mut() else { continue };
                // The few `/v1` operations that need no key (the log's checkpoint and key).
                if operations::find(method, path).is_some_and(|o| o.permission.is_none()) {
                    continue;
                }
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
                let responses = &mut op.responses.responses;
                responses.insert(
                    "401".into(),
                    ResponseBuilder::new()
                        .description("Missing, unknown or revoked key (`unauthorized`)")
                        .content("application/problem+json", problem())
                        .build()
                        .into(),
                );
                responses.insert(
                    "403".into(),
                    ResponseBuilder::new()
                        .description("The key's role may not do this (`forbidden`)")
                        .content("application/problem+json", problem())
                        .build()
                        .into(),
                );
            }
        }
    }
}

/// Every POST takes an `Idempotency-Key` (see `idempotency`).
fn idempotent(
    op: &mut utoipa::openapi::path::Operation,
    problem: &dyn Fn() -> utoipa::openapi::Content,
) {
    use utoipa::openapi::ResponseBuilder;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    type ResponsesMap = std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    >;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let parameter = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .description(Some(
            "Makes a retry safe: the same key with the same request (within 24 h, per API key) \
             replays the first response with `Idempotent-Replayed: true` and writes nothing. \
             The same key with another request is a 422 (`idempotency-key-reused`); while the \
             first is running, a 409 (`idempotency-key-in-use`).",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(idempotency::MAX_KEY))
                .pattern(Some("^[!-~]+$")),
        ))
        .build();
    op.parameters
        .get_or_insert_with(Vec::new)
        .push(parameter.into());
    let responses = &mut op.responses.responses;
    let add = |responses: &mut ResponsesMap, code: &str, what: &str| {
        let text = match responses.get(code) {
            Some(utoipa::openapi::RefOr::T(r)) => format!("{}; or {what}", r.description),
            _ => what.to_owned(),
        };
        responses.insert(
            code.into(),
            ResponseBuilder::new()
                .description(text)
                .content("application/problem+json", problem())
                .build()
                .into(),
        );
    };
    add(responses, "409", "`idempotency-key-in-use`");
    add(responses, "422", "`idempotency-key-reused`");
    add(
        responses,
        "400",
        "a malformed Idempotency-Key (`invalid-header`)",
    );
}

fn api_router() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(sources::create_source, sources::list_sources))
        .routes(routes!(sources::get_source, sources::update_source))
        .routes(routes!(sources::add_version, sources::list_versions))
        .routes(routes!(sources::get_version))
        .routes(routes!(sources::revision_report))
        .routes(routes!(sources::version_statistics))
        .routes(routes!(
            passages::create_passage,
            passages::list_source_passages
        ))
        .routes(routes!(passages::get_passage))
        .routes(routes!(passages::list_placements))
        .routes(routes!(passages::decide_placement))
        .routes(routes!(statistics::trace, statistics::trace_post))
        .routes(routes!(statistics::trace_annotations))
        .routes(routes!(statistics::add_derivation))
        .routes(routes!(statistics::lineage))
        .routes(routes!(statistics::lineage_prov))
        .routes(routes!(claims::create_claim, claims::list_claims))
        .routes(routes!(claims::similar_claims))
        .routes(routes!(claims::get_claim, claims::update_claim))
        .routes(routes!(claims::add_evidence))
        .routes(routes!(claims::add_appearance))
        .routes(routes!(claims::get_evidence))
        .routes(routes!(claims::withdraw_evidence))
        .routes(routes!(reviews::create_review, reviews::list_claim_reviews))
        .routes(routes!(reviews::list_reviews))
        .routes(routes!(reviews::get_review, reviews::edit_review))
        .routes(routes!(reviews::transition))
        .routes(routes!(reviews::review_evidence))
        .routes(routes!(cms::claim_review))
        .routes(routes!(cms::check_claim_review))
        .routes(routes!(cms::set_published_url))
        .routes(routes!(cms::lookup))
        .routes(routes!(cms::add_alias, cms::list_aliases))
        .routes(routes!(cms::changes))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(webhooks::get_webhook, webhooks::delete_webhook))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::enable_webhook))
        .routes(routes!(webhooks::test_webhook))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::replay_delivery))
        .routes(routes!(reviews::list_scales, reviews::create_scale))
        .routes(routes!(people::create_person, people::list_people))
        .routes(routes!(people::get_person))
        .routes(routes!(people::person_keys))
        .routes(routes!(keys::create_key, keys::list_keys))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(tlog::checkpoint))
        .routes(routes!(tlog::verifier_key))
        .routes(routes!(tlog::inclusion_proof))
        .routes(routes!(tlog::consistency_proof))
        // Documented in `ApiDoc` as `{path}`: a tile's path holds slashes.
        .route("/v1/audit/tile/{*path}", axum::routing::get(tlog::tile))
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(problem_type))
}

/// The OpenAPI document, derived from the handlers.
pub fn openapi() -> OpenApiDoc {
    let mut doc = api_router().into_openapi();
    complete(&mut doc);
    doc
}

/// What is added once the routes are in: security, the constraints and links of `schema`.
fn complete(doc: &mut OpenApiDoc) {
    utoipa::Modify::modify(&Security, doc);
    utoipa::Modify::modify(&schema::Constraints, doc);
    utoipa::Modify::modify(&schema::Links, doc);
    utoipa::Modify::modify(&webhooks::Webhooks, doc);
    utoipa::Modify::modify(&operations::Summaries, doc);
}

/// The OpenAPI document as committed under `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut json = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// The whole service as one router.
pub fn router(app: App, config: &HttpConfig) -> axum::Router {
    let idempotency = idempotency::Settings {
        app: app.clone(),
        ttl: config.idempotency_ttl,
        max_body_bytes: config.max_body_bytes,
    };
    let (router, mut api) = api_router().with_state(app).split_for_parts();
    complete(&mut api);
    let router = router
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(etags))
        .layer(axum::middleware::from_fn_with_state(
            idempotency,
            idempotency::layer,
        ))
        .layer(axum::middleware::map_response(problem_for_bare_errors))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| {
            Problem::internal("handler panicked", &"panic").into_response()
        }));
    let router = if config.metrics {
        router.layer(axum::middleware::from_fn(crate::metrics::track))
    } else {
        router
    };
    let router = router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(observe::span)
                .on_response(observe::access_line),
        )
        // Outside the span: the id is in the request before the span is made.
        .layer(axum::middleware::from_fn(observe::request_id));
    if config.cors_origins.is_empty() {
        return router;
    }
    match cors(&config.cors_origins) {
        Ok(layer) => router.layer(layer),
        Err(why) => {
            tracing::error!(%why, "CORS is off");
            router
        }
    }
}

/// Checks CORS origins (for a clear error at startup).
pub fn check_cors_origins(origins: &[String]) -> Result<(), String> {
    cors(origins).map(|_| ())
}

/// Answers that axum makes itself (405 from method routing) become problems too.
async fn problem_for_bare_errors(response: Response) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem || !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    let allow = response
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match response.status() {
        StatusCode::METHOD_NOT_ALLOWED => Problem::method_not_allowed(allow).into_response(),
        StatusCode::PAYLOAD_TOO_LARGE => {
            Problem::new(Kind::BodyTooLarge, "The body is over the limit.").into_response()
        }
        StatusCode::NOT_FOUND => Problem::new(
            Kind::NotFound,
            "There is no resource here. See /docs for the API.",
        )
        .into_response(),
        status => {
            tracing::warn!(%status, "non-problem error response rewritten");
            Problem::internal("unexpected bare error response", &status).into_response()
        }
    }
}

#[derive(Serialize, ToSchema)]
struct Health {
    status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "meta",
    responses((status = 200, description = "The process is up", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "meta",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    ))]
async fn ready(State(app): State<App>) -> Result<Json<Health>, Problem> {
    let outcome = tokio::time::timeout(Duration::from_secs(2), app.ping()).await;
    if let Ok(Ok(())) = outcome {
        return Ok(Json(Health { status: "ready" }));
    }
    // Named within the probe's own bound (a fresh connection, no pool wait): refused,
    // authentication, a missing database. Never a credential.
    // Within 5 s in all: 2 s for the ping, 3 s for naming why.
    let why = match tokio::time::timeout(Duration::from_secs(3), app.diagnose_database()).await {
        Ok(Some(why)) => why,
        Ok(None) => match outcome {
            Ok(Err(e)) => e.to_string(),
            _ => "it did not answer within 2 s".to_owned(),
        },
        Err(_) => "it did not answer within 5 s".to_owned(),
    };
    tracing::warn!(why = %why, "readiness check failed");
    Err(Problem::new(
        Kind::Unavailable,
        format!("The database does not answer: {why}"),
    ))
}

/// Describes a problem type.
#[derive(Serialize, ToSchema)]
struct ProblemType {
    #[serde(rename = "type")]
    kind_uri: String,
    title: &'static str,
    status: u16,
    /// When it happens: the usual causes.
    cause: &'static str,
    /// What a client can do when it gets this problem.
    hint: &'static str,
}

/// What a problem `type` means.
#[utoipa::path(get, path = "/problems/{slug}", tag = "meta",
    params(("slug" = String, Path, description = "The last part of a problem's `type`", example = "ambiguous-quote")),
    responses(
        (status = 200, description = "The problem type", body = ProblemType),
        (status = 404, description = "No such problem type", body = Problem, content_type = "application/problem+json"),
    ))]
async fn problem_type(ApiPath(slug): ApiPath<String>) -> Result<Json<ProblemType>, Problem> {
    let kind = Kind::from_slug(&slug).ok_or_else(|| {
        Problem::new(
            Kind::NotFound,
            format!("There is no problem type {slug:?}."),
        )
    })?;
    Ok(Json(ProblemType {
        kind_uri: format!("{}{}", error::PROBLEM_PATH, kind.slug()),
        title: kind.title(),
        status: kind.status().as_u16(),
        cause: kind.cause(),
        hint: kind.hint(),
    }))
}

/// Turns true when the server begins to shut down.
#[derive(Clone)]
pub struct Stopping(pub tokio::sync::watch::Receiver<bool>);

/// Serves until SIGTERM or Ctrl-C, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    config: &HttpConfig,
) -> std::io::Result<()> {
    // Long-lived answers (the change feed's event streams) end when shutdown begins, so that
    // the graceful shutdown does not wait on them forever.
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let router = router(app, config).layer(axum::Extension(Stopping(stop)));
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            stopping.send_replace(true);
        })
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

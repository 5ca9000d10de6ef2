//! For a newsroom's CMS: ClaimReview markup, lookup by article URL, alias URLs, where a
//! verdict is published, and the change feed (NDJSON or Server-Sent Events).

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{Kind, Problem};
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use super::reviews::{revision, with_etag};
use crate::app::{App, FeedItem, Since};
use crate::domain::MAX_LIMIT;
use crate::domain::ids::{ReviewId, SourceId};
use crate::domain::public::Lookup;
use crate::domain::review::Review;

#[utoipa::path(get, path = "/v1/reviews/{id}/claimreview", tag = "cms",
    params(("id" = Uuid, Path, description = "Review id")),
    responses(
        (status = 200, description = "schema.org ClaimReview (JSON-LD) of a published verdict, or of a superseded one with the `correction` that replaced it. \
Each appearance carries the exact passage under the `ct:` extension (see the README).", body = Object, content_type = "application/ld+json"),
        (status = 404, description = "No such review (or, for integrations, never published)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not-published`: the review is not published yet", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`retracted`: remove the markup", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`not-configured`: the publishing organisation is not set", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn claim_review(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ReviewId>,
) -> Result<Response, Problem> {
    let doc = app.claim_review(&actor, id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/ld+json")],
        Json(doc.document),
    )
        .into_response())
}

/// A ClaimReview with what a newsroom should fix before search engines show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckedClaimReview {
    /// The document `GET /v1/reviews/{id}/claimreview` serves.
    pub claim_review: serde_json::Value,
    /// Not errors: `claimReviewed` over 75 characters, no `published_url`, or a page on
    /// another host than the organisation's.
    pub warnings: Vec<String>,
}

#[utoipa::path(get, path = "/v1/reviews/{id}/claimreview/check", tag = "cms",
    params(("id" = Uuid, Path, description = "Review id")),
    responses(
        (status = 200, description = "The ClaimReview and its warnings", body = CheckedClaimReview),
        (status = 404, description = "No such review (or, for integrations, never published)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not-published`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`retracted`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`not-configured`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn check_claim_review(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ReviewId>,
) -> Result<Json<CheckedClaimReview>, Problem> {
    let doc = app.claim_review(&actor, id).await?;
    Ok(Json(CheckedClaimReview {
        claim_review: doc.document,
        warnings: doc.warnings,
    }))
}

/// Where a verdict is published.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"published_url": "https://factdesk.example/checks/bridge-cost", "revision": 5}))]
pub struct PublishedUrl {
    /// The newsroom page; `null` clears it.
    #[schema(value_type = Option<super::schema::WebUrl>)]
    pub published_url: Option<String>,
    /// The revision you saw, if not sent as `If-Match`.
    #[schema(minimum = 1)]
    pub revision: Option<i64>,
}

#[utoipa::path(put, path = "/v1/reviews/{id}/published-url", tag = "cms",
    params(("id" = Uuid, Path, description = "Review id"), ("If-Match" = Option<String>, Header, description = "ETag from GET (or the `revision` field)", pattern = "^\"[0-9]+\"$")),
    request_body = PublishedUrl,
    responses(
        (status = 200, description = "The review with its page (audited), and its `warnings` (`published-url-missing` while the page is cleared)", body = Review, headers(("ETag" = String, description = "The new revision"))),
        (status = 400, description = "Malformed body or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition-failed`: If-Match holds a weak ETag, which never matches", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not-published` or `stale-revision`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a web address", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No revision given", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_published_url(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ReviewId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PublishedUrl>,
) -> Result<Response, Problem> {
    let revision = revision(&headers, body.revision)?;
    let review: Review = app
        .set_published_url(&actor, id, revision, body.published_url.as_deref())
        .await?;
    Ok(with_etag(StatusCode::OK, review))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// The article's URL (or a fact-check page's), compared in lookup form.
    #[param(example = "https://example.org/news/bridge-budget?utm_source=x")]
    pub url: String,
}

#[utoipa::path(get, path = "/v1/lookup", tag = "cms",
    params(LookupParams),
    responses(
        (status = 200, description = "Claims in the article with their verdicts and spans, and verdicts published at the URL; empty lists for an unknown URL. \
With an ETag: send it back as If-None-Match for a 304.", body = Lookup, headers(("ETag" = String, description = "Of the body"))),
        (status = 304, description = "Not modified since the ETag sent in If-None-Match"),
        (status = 400, description = "Missing `url`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`url` is not a web address", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lookup(
    State(app): State<App>,
    headers: HeaderMap,
    p: Result<ApiQuery<LookupParams>, Problem>,
) -> Result<Response, Problem> {
    // The hot read authenticates within the use case (one statement for key and answer when
    // nothing changed): a missing key is still a 401 before a malformed query is a 400.
    let token = super::extract::bearer_token(&headers)?;
    let (actor, found) = app.lookup_as(token, &p?.0.url).await?;
    let span = tracing::Span::current();
    span.record("actor", tracing::field::display(&actor.person));
    span.record("key_id", tracing::field::display(actor.key_id));
    let etag =
        header::HeaderValue::from_str(&found.etag).map_err(|e| Problem::internal("an ETag", &e))?;
    if let Some(sent) = headers.get(header::IF_NONE_MATCH)
        && super::matches_tag(Some(sent), &etag)
    {
        return Ok(super::not_modified(etag));
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag),
        ],
        found.json.clone(),
    )
        .into_response())
}

/// Another URL of the same article (a syndicated copy, an AMP page).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://amp.example.org/news/bridge-budget"}))]
pub struct CreateAlias {
    #[schema(value_type = super::schema::WebUrl)]
    pub url: String,
}

/// A source's alias URLs, in lookup form.
#[derive(Debug, Serialize, ToSchema)]
pub struct Aliases {
    pub source_id: SourceId,
    pub aliases: Vec<String>,
}

#[utoipa::path(post, path = "/v1/sources/{id}/aliases", tag = "cms",
    params(("id" = Uuid, Path, description = "Source id")),
    request_body = CreateAlias,
    responses(
        (status = 200, description = "The source's aliases (adding one it has is a no-op)", body = Aliases),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`source-exists`: the URL names another source", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a web address", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_alias(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(source_id): ApiPath<SourceId>,
    ApiJson(body): ApiJson<CreateAlias>,
) -> Result<Json<Aliases>, Problem> {
    let aliases = app.add_alias(&actor, source_id, &body.url).await?;
    Ok(Json(Aliases { source_id, aliases }))
}

#[utoipa::path(get, path = "/v1/sources/{id}/aliases", tag = "cms",
    params(("id" = Uuid, Path, description = "Source id")),
    responses(
        (status = 200, description = "The source's aliases", body = Aliases),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_aliases(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(source_id): ApiPath<SourceId>,
) -> Result<Json<Aliases>, Problem> {
    let aliases = app.aliases(&actor, source_id).await?;
    Ok(Json(Aliases { source_id, aliases }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// The last `seq` you processed (0 for everything), or `now` for only what comes next.
    /// With Server-Sent Events, `Last-Event-ID` takes precedence.
    #[param(example = "0", pattern = "^([0-9]{1,18}|now)$")]
    pub since: Option<String>,
    /// Lines per response (NDJSON), 1 to 200; default 100.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// How often the event stream looks for new changes, and sends a comment when idle.
const POLL: Duration = Duration::from_secs(1);
const HEARTBEAT: Duration = Duration::from_secs(15);

#[utoipa::path(get, path = "/v1/changes", tag = "cms",
    params(ChangesParams, ("Last-Event-ID" = Option<String>, Header, description = "Server-Sent Events: resume after this `seq`")),
    responses(
        (status = 200, description = "`application/x-ndjson`: one `FeedItem` per line, oldest first; `Changes-Head` names the newest `seq`. \
With `Accept: text/event-stream`: the same as Server-Sent Events (`id:` is the `seq`, event name the type), kept open with heartbeats. \
Integrations see publications, corrections and retractions (retractions as tombstones).", body = FeedItem, content_type = "application/x-ndjson",
            headers(("Changes-Head" = i64, description = "The newest change's seq"))),
        (status = 400, description = "Malformed `since`, `limit` or `Last-Event-ID`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn changes(
    State(app): State<App>,
    Auth(actor): Auth,
    stopping: Option<axum::Extension<super::Stopping>>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<ChangesParams>,
) -> Result<Response, Problem> {
    let bad = |what: &str, value: &str| {
        Problem::new(
            Kind::InvalidQuery,
            format!("{what} is {value:?}; send a seq from the feed (a whole number) or `now`."),
        )
    };
    let parse = |what: &str, value: &str| -> Result<Since, Problem> {
        match value {
            "now" => Ok(Since::Now),
            v => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .map(Since::Seq)
                .ok_or_else(|| bad(what, v)),
        }
    };
    let limit = p.limit.unwrap_or(100);
    let mut since = match &p.since {
        Some(s) => parse("`since`", s)?,
        None => Since::Seq(0),
    };
    let sse = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if sse {
        if let Some(last) = headers.get("last-event-id") {
            let last = last.to_str().unwrap_or_default();
            since = parse("Last-Event-ID", last)?;
        }
        // Resolve `now` once, so the stream resumes from a number.
        let (_, head) = app.changes(&actor, Since::Now, 1).await?;
        let start = match since {
            Since::Now => head,
            Since::Seq(s) => s,
        };
        let stopping = stopping.map(|s| s.0.0);
        return Ok(event_stream(app, actor, start, stopping).into_response());
    }
    let (changes, head) = app.changes(&actor, since, limit).await?;
    let mut body = String::new();
    for c in &changes {
        body.push_str(&serde_json::to_string(c).map_err(|e| Problem::internal("encode", &e))?);
        body.push('\n');
    }
    let mut response = ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response();
    response.headers_mut().insert(
        "changes-head",
        HeaderValue::from_str(&head.to_string()).expect("digits"),
    );
    Ok(response)
}

fn event_stream(
    app: App,
    actor: crate::domain::access::Actor,
    start: i64,
    stopping: Option<tokio::sync::watch::Receiver<bool>>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let stream = async_stream(app, actor, start, stopping);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
}

/// Polls the feed and yields each change once, in order; ends on an error or when the server
/// shuts down (the client reconnects with `Last-Event-ID`).
fn async_stream(
    app: App,
    actor: crate::domain::access::Actor,
    start: i64,
    stopping: Option<tokio::sync::watch::Receiver<bool>>,
) -> impl futures_util::Stream<Item = Result<Event, Infallible>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(16);
    tokio::spawn(async move {
        // Without a server (a router in a test), nothing stops the stream but its client.
        let mut stopping = stopping;
        let mut after = start;
        loop {
            if stopping.as_ref().is_some_and(|s| *s.borrow()) {
                return;
            }
            let batch = match app.changes(&actor, Since::Seq(after), MAX_LIMIT).await {
                Ok((batch, _)) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "change stream stopped");
                    return;
                }
            };
            let full = batch.len() == MAX_LIMIT as usize;
            for c in batch {
                after = c.seq;
                let Ok(data) = serde_json::to_string(&c) else {
                    return;
                };
                let event = Event::default()
                    .id(c.seq.to_string())
                    .event(c.kind.clone())
                    .data(data);
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            if !full {
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {}
                    _ = tx.closed() => return,
                    // Shutdown began, or the server is gone.
                    _ = stopped(&mut stopping) => return,
                }
            }
        }
    });
    tokio_stream_of(rx)
}

/// Resolves when the server begins to shut down; never without a server.
async fn stopped(stopping: &mut Option<tokio::sync::watch::Receiver<bool>>) {
    match stopping {
        Some(s) => {
            let _ = s.wait_for(|stop| *stop).await;
        }
        None => std::future::pending().await,
    }
}

/// A receiver as a stream.
fn tokio_stream_of<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

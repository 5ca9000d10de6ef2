//! `Idempotency-Key` on every POST (IETF httpapi draft): a retry with the same key and the same
//! request gets the first response again (marked `Idempotent-Replayed: true`) and writes
//! nothing; the same key with another request is a 422; while the first is running, a 409.
//! Keys are scoped to the API key and kept for a configurable time (24 h by default).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::Digest;

use super::error::{Kind, Problem};
use super::extract::bearer_token;
use crate::app::App;
use crate::domain::idempotency::{Begin, Kept};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";
/// Longest key accepted.
pub const MAX_KEY: usize = 255;

/// What the middleware needs.
#[derive(Clone)]
pub struct Settings {
    pub app: App,
    pub ttl: Duration,
    pub max_body_bytes: usize,
}

/// Headers of a response worth replaying.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// The key as sent: a structured-field string (`"abc"`) or bare; 1 to 255 visible ASCII
/// characters.
fn parse_key(value: &HeaderValue) -> Result<String, Problem> {
    let bad = || {
        Problem::new(
            Kind::InvalidHeader,
            format!(
                "Idempotency-Key must be 1 to {MAX_KEY} visible ASCII characters, like \"8e03978e-40d5-43e8-bc93-6894a57f9324\"."
            ),
        )
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    let key = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(key.to_owned())
}

pub async fn layer(State(s): State<Settings>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match parse_key(value) {
        Ok(k) => k,
        Err(p) => return p.into_response(),
    };
    // Without a valid API key the handler answers 401; nothing to keep.
    let actor = match bearer_token(request.headers()) {
        Ok(token) => match s.app.authenticate(token).await {
            Ok(actor) => actor,
            Err(_) => return next.run(request).await,
        },
        Err(_) => return next.run(request).await,
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, s.max_body_bytes).await else {
        return Problem::new(Kind::BodyTooLarge, "The body is over the limit.").into_response();
    };
    let mut hash = sha2::Sha256::new();
    hash.update(parts.method.as_str());
    hash.update(b"\n");
    hash.update(parts.uri.path_and_query().map_or("", |p| p.as_str()));
    hash.update(b"\n");
    hash.update(&bytes);
    let fingerprint = hex::encode(hash.finalize());
    match s
        .app
        .idempotency_begin(&actor, &key, fingerprint, s.ttl)
        .await
    {
        Err(e) => Problem::from(e).into_response(),
        Ok(Begin::Running) => Problem::new(
            Kind::IdempotencyKeyInUse,
            format!("A request with Idempotency-Key {key:?} is still being processed."),
        )
        .into_response(),
        Ok(Begin::Mismatch) => Problem::new(
            Kind::IdempotencyKeyReused,
            format!(
                "Idempotency-Key {key:?} was used with another request (method, path or body)."
            ),
        )
        .into_response(),
        Ok(Begin::Done(kept)) => replay(kept),
        Ok(Begin::First) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            let (parts, body) = response.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
                let _ = s.app.idempotency_forget(&actor, &key).await;
                return Problem::internal("reading a response body", &"body").into_response();
            };
            let kept = Kept {
                status: parts.status.as_u16(),
                headers: KEPT_HEADERS
                    .iter()
                    .filter_map(|h| {
                        let v = parts.headers.get(h)?.to_str().ok()?;
                        Some((h.as_str().to_owned(), v.to_owned()))
                    })
                    .collect(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            };
            // A server-side failure wrote nothing: let a retry run again.
            let kept_or_forgotten = if parts.status.is_server_error() {
                s.app.idempotency_forget(&actor, &key).await
            } else {
                s.app.idempotency_finish(&actor, &key, kept).await
            };
            if let Err(e) = kept_or_forgotten {
                tracing::error!(error = %e, "an idempotency key's response was not kept");
            }
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}

fn replay(kept: Kept) -> Response {
    let mut response = Response::new(Body::from(kept.body));
    *response.status_mut() = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    for (name, value) in kept.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(n, v);
        }
    }
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

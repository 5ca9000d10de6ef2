//! What an operator sees of each request: its id (`x-request-id`, made when absent, echoed),
//! a W3C `traceparent`'s trace id, and one access line when it is answered.
//!
//! The request span (made by the `TraceLayer` in [`super::router`]) carries `method`, `route`
//! (the matched template, never a raw id), `request_id`, `trace_id`, and once the caller is
//! known `actor` (the person) and `key_id` (the key's id, never its token); every log line of
//! the request is inside it, the access line included.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Response};
use axum::middleware::Next;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id of a request: taken from `x-request-id` when it is a sane token (at most
/// 128 characters of letters, digits and `-_.:/+=@`), else made here (a UUID v7).
#[derive(Clone, Debug)]
pub struct RequestId(pub HeaderValue);

fn acceptable(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.:/+=@".contains(c))
}

/// Gives the request its id (kept, or made) before the span is made, and echoes it on the
/// answer.
pub async fn request_id(mut request: Request, next: Next) -> axum::response::Response {
    let id = match request.headers().get(&REQUEST_ID) {
        Some(v) if acceptable(v) => v.clone(),
        _ => HeaderValue::from_str(&uuid::Uuid::now_v7().to_string()).expect("a UUID is ASCII"),
    };
    request.headers_mut().insert(REQUEST_ID.clone(), id.clone());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID.clone(), id);
    response
}

/// The trace id of a valid W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`, ids not all
/// zero), lower-case.
pub fn trace_id(traceparent: Option<&HeaderValue>) -> Option<&str> {
    let s = traceparent?.to_str().ok()?.trim();
    let mut parts = s.split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |p: &str, n: usize| {
        p.len() == n
            && p.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    };
    let valid = hex(version, 2)
        && version != "ff"
        && (version != "00" || parts.next().is_none())
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && trace.bytes().any(|c| c != b'0')
        && parent.bytes().any(|c| c != b'0');
    valid.then_some(trace)
}

/// The span of one request.
pub fn span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let trace_id = trace_id(request.headers().get("traceparent"));
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        request_id = %request_id,
        trace_id = trace_id.map(tracing::field::display),
        actor = tracing::field::Empty,
        key_id = tracing::field::Empty,
    )
}

/// The access line, inside the request's span (which names the method, route, request id and
/// key): the status and how long the answer took.
pub fn access_line<B>(response: &Response<B>, latency: Duration, _span: &tracing::Span) {
    tracing::info!(
        target: "claimtrail::access",
        status = response.status().as_u16(),
        duration_ms = latency.as_secs_f64() * 1000.0,
        "answered"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_read_per_the_w3c_format() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        let good = v("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert_eq!(
            trace_id(Some(&good)),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "garbage",
        ] {
            assert_eq!(trace_id(Some(&v(bad))), None, "{bad}");
        }
        assert_eq!(trace_id(None), None);
    }

    #[test]
    fn only_sane_request_ids_are_kept() {
        assert!(acceptable(&HeaderValue::from_static("req-1.2_3:abc")));
        assert!(!acceptable(&HeaderValue::from_static("a b")));
        assert!(!acceptable(&HeaderValue::from_static("")));
        let long = "x".repeat(129);
        assert!(!acceptable(&HeaderValue::from_str(&long).unwrap()));
    }
}

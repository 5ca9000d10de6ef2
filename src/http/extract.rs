//! Extractors that answer bad input with problems instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::{Kind, Problem};
use crate::domain::FieldError;

/// A JSON body: `Content-Type: application/json`, UTF-8, one value, matching `T` exactly.
pub struct ApiJson<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(content_type) {
            let got = if content_type.is_empty() {
                "no Content-Type".to_owned()
            } else {
                format!("Content-Type {content_type:?}")
            };
            return Err(Problem::new(
                Kind::UnsupportedMediaType,
                format!("The body was sent with {got}; this endpoint takes application/json."),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    Kind::BodyTooLarge,
                    format!("The body is over the limit: {}.", rejection.body_text()),
                )
            } else {
                Problem::new(
                    Kind::InvalidJson,
                    format!("The body could not be read: {}.", rejection.body_text()),
                )
            }
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            Problem::new(
                Kind::InvalidUtf8,
                format!(
                    "The body is not valid UTF-8: the byte at offset {} is not.",
                    e.valid_up_to()
                ),
            )
        })?;
        let de = &mut serde_json::Deserializer::from_str(text);
        let value: T = serde_path_to_error::deserialize(&mut *de)
            .map_err(|e| body_problem(pointer(e.path()), e.into_inner()))?;
        de.end().map_err(|e| body_problem(String::new(), e))?;
        Ok(ApiJson(value))
    }
}

fn body_problem(path: String, error: serde_json::Error) -> Problem {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => Problem::new(
            Kind::InvalidJson,
            format!("The body is not valid JSON: {error}."),
        ),
        Category::Data => {
            let field = path;
            let message = strip_position(&error.to_string());
            let detail = if field.is_empty() {
                format!("The body is invalid: {message}.")
            } else {
                format!("Field `{field}` is invalid: {message}.")
            };
            // One problem type for every invalid field, whether serde or the domain finds it.
            Problem::new(Kind::ValidationFailed, detail)
                .with_errors(vec![FieldError { field, message }])
        }
    }
}

/// A field path in the same `a/b/1` form as validation errors; empty for the whole body.
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let parts: Vec<String> = path
        .iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect();
    parts.join("/")
}

/// serde_json appends " at line 1 column 9"; the field path says more to a client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Path parameters; a malformed id is a 404 problem, since no resource has it.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Problem))]
pub struct ApiPath<T>(pub T);

/// For JSON Merge Patch fields that may be cleared: a field that is present (even as `null`)
/// is `Some`; an absent one is `None` (with `#[serde(default)]`).
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// `cursor` and `limit`, for lists that take nothing else.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// `next_cursor` of the previous page, unchanged (with the same `order`).
    pub cursor: Option<String>,
    /// `asc` (oldest first, the default) or `desc` (newest first).
    pub order: Option<crate::domain::Order>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Query parameters; a malformed one is a 400 problem.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Problem))]
pub struct ApiQuery<T>(pub T);

/// Query parameters of a list whose enum filters take several values: a filter named in
/// [`REPEATABLE`] may be repeated (`state=draft&state=in_review`), which is read as its values
/// joined by commas (`state=draft,in_review`). Otherwise as [`ApiQuery`].
pub struct ListQuery<T>(pub T);

/// The list filters that may be repeated.
const REPEATABLE: &[&str] = &["state"];

/// The query string with each [`REPEATABLE`] parameter's values joined into one.
fn merge_repeated(query: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut merged: Vec<(&str, Vec<&str>)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if REPEATABLE.contains(&key) {
            match merged.iter_mut().find(|(k, _)| *k == key) {
                Some((_, values)) => values.push(value),
                None => merged.push((key, vec![value])),
            }
        } else {
            out.push(pair.to_owned());
        }
    }
    for (key, values) in merged {
        out.push(format!("{key}={}", values.join(",")));
    }
    out.join("&")
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ListQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Problem> {
        let merged = merge_repeated(parts.uri.query().unwrap_or(""));
        let uri: axum::http::Uri = format!("/?{merged}").parse().map_err(|_| {
            Problem::new(
                Kind::InvalidQuery,
                "The query string is not a valid URI query.",
            )
        })?;
        let axum::extract::Query(value) = axum::extract::Query::<T>::try_from_uri(&uri)?;
        Ok(ListQuery(value))
    }
}

/// Deserializes a list filter of review states: `draft` or `draft,in_review`.
pub fn review_states<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<crate::domain::review::State>, D::Error> {
    let list = <String as serde::Deserialize>::deserialize(d)?;
    crate::domain::review::parse_states(&list).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod list_query_tests {
    use super::merge_repeated;

    #[test]
    fn repeated_filters_are_joined_and_the_rest_kept() {
        assert_eq!(
            merge_repeated("state=draft&limit=5&state=in_review&author=a"),
            "limit=5&author=a&state=draft,in_review"
        );
        assert_eq!(
            merge_repeated("state=draft,approved"),
            "state=draft,approved"
        );
        assert_eq!(merge_repeated(""), "");
    }
}

/// The token of `Authorization: Bearer <key>`.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Result<&str, Problem> {
    let unauthorized =
        |why: &str| Problem::new(Kind::Unauthorized, format!("Not authenticated: {why}."));
    let header = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("the request has no Authorization header"))?;
    let value = header
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not ASCII"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(unauthorized(
            "the Authorization header must be `Bearer <key>`",
        )),
    }
}

/// The authenticated caller: `Authorization: Bearer <key>`. Records the person in the
/// request's tracing span. A role without the permission the operation's entry in
/// `operations::OPERATIONS` names (`Role::can`) is refused here, before the body is read, so
/// that a 403 never depends on the body (the use case checks its permission again).
pub struct Auth(pub crate::domain::access::Actor);

impl FromRequestParts<crate::app::App> for Auth {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        app: &crate::app::App,
    ) -> Result<Self, Problem> {
        let token = bearer_token(&parts.headers)?;
        // Reads take the actor from memory while no key changed; writes read the key.
        let actor = if parts.method.is_safe() {
            app.authenticate_read(token).await?
        } else {
            app.authenticate(token).await?
        };
        let span = tracing::Span::current();
        span.record("actor", tracing::field::display(&actor.person));
        span.record("key_id", tracing::field::display(actor.key_id));
        let route = parts.extensions.get::<axum::extract::MatchedPath>();
        if let Some(op) =
            route.and_then(|r| super::operations::find(parts.method.as_str(), r.as_str()))
            && !op.allows(actor.role)
        {
            let allowed: Vec<&str> = op.roles().iter().map(|r| r.as_str()).collect();
            return Err(Problem::new(
                Kind::Forbidden,
                format!(
                    "A key with the role {} may not {} (`{} {}`); it takes one of: {}.",
                    actor.role.as_str(),
                    lower_first(op.summary),
                    parts.method,
                    op.path,
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Auth(actor))
    }
}

/// "Store a source" as "store a source", leaving "API" and "ClaimReview" alone.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }

    #[test]
    fn position_suffix_is_dropped() {
        assert_eq!(
            strip_position("missing field `text` at line 1 column 2"),
            "missing field `text`"
        );
        assert_eq!(strip_position("plain"), "plain");
    }
}

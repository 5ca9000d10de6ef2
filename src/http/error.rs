//! Every error answer is an RFC 9457 problem (`application/problem+json`). Domain errors and
//! axum's own rejections are mapped here, once. Internal errors are logged, never shown.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::AppError;
use crate::domain::FieldError;
use crate::domain::anchor::{AnchorError, MAX_CANDIDATES, NearMatch, Span};

/// Problem `type` URIs are `/problems/{slug}`, resolved against the API's address; a GET on
/// one describes it.
pub const PROBLEM_PATH: &str = "/problems/";

/// Declares `Kind` and `Kind::ALL` from one list of variants, so that the catalogue (served at
/// `/problems/{slug}`, looked up in `ALL`) cannot leave a kind out; `Kind::info` matches
/// exhaustively, so no kind lacks its entry either.
macro_rules! kinds {
    ($($kind:ident),+ $(,)?) => {
        /// Every kind of problem the API answers with. The slug is the stable part of `type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Kind {
            $($kind),+
        }

        impl Kind {
            /// Every kind, in declaration order: the catalogue of problem types.
            pub const ALL: [Kind; [$(stringify!($kind)),+].len()] = [$(Kind::$kind),+];
        }
    };
}

kinds![
    InvalidJson,
    InvalidUtf8,
    UnsupportedMediaType,
    BodyTooLarge,
    ValidationFailed,
    InvalidQuery,
    InvalidCursor,
    InvalidSearch,
    NotFound,
    MethodNotAllowed,
    UnknownVersion,
    UnknownPassage,
    QuoteNotFound,
    AmbiguousQuote,
    InvalidPosition,
    PositionMismatch,
    SourceExists,
    EvidenceExists,
    Unauthorized,
    Forbidden,
    PreconditionRequired,
    InvalidHeader,
    PreconditionFailed,
    InvalidTransition,
    SecondPersonRequired,
    StaleRevision,
    NotEditable,
    VerdictExists,
    ScaleExists,
    PersonExists,
    OwnKey,
    NotLatestVersion,
    NoFigure,
    DerivationCycle,
    DerivationExists,
    NotPublished,
    Retracted,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    NotConfigured,
    Unavailable,
    Internal,
];

impl Kind {
    /// When this problem happens: the usual causes.
    pub fn cause(self) -> &'static str {
        match self {
            Kind::InvalidJson => {
                "The body is not one well-formed JSON value: a syntax error, a truncated body, or trailing text after the value."
            }
            Kind::InvalidUtf8 => {
                "The body contains bytes that are not UTF-8, often text saved in Latin-1 or Windows-1252."
            }
            Kind::UnsupportedMediaType => {
                "A request with a body was sent without `Content-Type: application/json` (or `application/merge-patch+json` for PATCH), e.g. as form data."
            }
            Kind::BodyTooLarge => {
                "The body is over the server's size limit (CLAIMTRAIL_MAX_BODY_BYTES, 32 MiB by default), usually a whole archive sent as one source."
            }
            Kind::ValidationFailed => {
                "A field has the wrong type, is missing, is not part of the schema, or holds a value the server refuses (blank text, a bad URL or date, a NUL character, a text over its length limit). `errors` names each field."
            }
            Kind::InvalidQuery => {
                "A query parameter is malformed or out of range: an unknown state or order, a limit outside 1 to 200, a date that is neither a date nor an RFC 3339 date-time, a bad search query."
            }
            Kind::InvalidCursor => {
                "The `cursor` was not a `next_cursor` this list returned, was changed, or belongs to another list or order."
            }
            Kind::NotFound => {
                "No resource has this id (or path), or the caller's role may not see it (integrations see published verdicts only)."
            }
            Kind::MethodNotAllowed => {
                "The path exists, but not with this HTTP method; the `Allow` header lists the ones it takes."
            }
            Kind::UnknownVersion => {
                "The request names a version number the source does not have (yet)."
            }
            Kind::UnknownPassage => {
                "A passage id in the body (an appearance, evidence, a derivation) does not exist."
            }
            Kind::QuoteNotFound => {
                "The pasted quote does not occur in the version, even after folding white space, quotes, dashes and Unicode forms; or it occurs, but not with the given `prefix`/`suffix`."
            }
            Kind::AmbiguousQuote => {
                "The quote occurs more than once in the version and nothing says which occurrence is meant."
            }
            Kind::InvalidPosition => {
                "`start`/`end` are outside the text, reversed, or split a character."
            }
            Kind::PositionMismatch => {
                "The quote was sent with `start`/`end`, and the text at those positions is not the quote."
            }
            Kind::SourceExists => {
                "Another source already has this URL (its own or an alias): one URL names one source."
            }
            Kind::EvidenceExists => "The passage is already evidence for this claim.",
            Kind::Unauthorized => {
                "The request has no `Authorization: Bearer <key>` header, or the key is unknown or revoked."
            }
            Kind::Forbidden => {
                "The key's role may not call this operation (see the operation's Roles line), or may not make this workflow step."
            }
            Kind::PreconditionRequired => {
                "A write to a review did not say which revision it is based on (`If-Match` or `revision`)."
            }
            Kind::InvalidHeader => {
                "A header is malformed, e.g. an `If-Match` that is not one ETag, or a bad `Idempotency-Key`."
            }
            Kind::PreconditionFailed => {
                "`If-Match` held a weak ETag (`W/\"3\"`); If-Match compares strongly, so a weak tag never matches (RFC 9110, section 13.1.1)."
            }
            Kind::InvalidTransition => {
                "The review's workflow has no step from its current state to the requested one (e.g. publishing a draft)."
            }
            Kind::SecondPersonRequired => {
                "The person approving the review is the person who wrote it, with whatever key, and the second-person rule is on."
            }
            Kind::StaleRevision => {
                "The review changed since the caller read it: the revision sent is not the current one."
            }
            Kind::NotEditable => {
                "The review's content can only change while it is a draft or sent back for changes."
            }
            Kind::VerdictExists => {
                "The claim already has a published verdict, and this review is not a correction of it."
            }
            Kind::ScaleExists => {
                "A rating scale with this id exists; scales never change once created."
            }
            Kind::PersonExists => {
                "A person with this handle exists; handles are unique and never change."
            }
            Kind::OwnKey => "An admin tried to revoke the key making the request.",
            Kind::NotLatestVersion => {
                "Placements are decided on the source's latest version, and the request named an older one."
            }
            Kind::NoFigure => "The trace query or text holds no number the extractor recognizes.",
            Kind::DerivationCycle => {
                "Recording this derivation would make a passage derive, through the chain, from itself."
            }
            Kind::DerivationExists => {
                "This derivation between the two passages is recorded already."
            }
            Kind::NotPublished => {
                "The operation needs a published verdict (e.g. ClaimReview), and the review is in another state."
            }
            Kind::Retracted => {
                "The verdict was retracted; it stays on record but is no longer offered as a verdict."
            }
            Kind::IdempotencyKeyInUse => "A request with this `Idempotency-Key` is still running.",
            Kind::IdempotencyKeyReused => {
                "This `Idempotency-Key` was used with another method, path or body."
            }
            Kind::NotConfigured => {
                "The server lacks a setting this operation needs (e.g. the organisation for ClaimReview)."
            }
            Kind::Unavailable => {
                "The database is busy or unreachable: a lock not granted in time, or the server is shutting down."
            }
            Kind::InvalidSearch => {
                "The search query is empty, has no word, leaves a quote open, or is too long (too many characters or words)."
            }
            Kind::Internal => {
                "A fault in the server. Nothing was written; the server log has the details."
            }
        }
    }

    /// (slug, status, title, what the client can do)
    fn info(self) -> (&'static str, StatusCode, &'static str, &'static str) {
        use StatusCode as S;
        match self {
            Kind::InvalidJson => (
                "invalid-json",
                S::BAD_REQUEST,
                "Body is not valid JSON",
                "Send one JSON value; the detail gives the line and column of the syntax error.",
            ),
            Kind::InvalidUtf8 => (
                "invalid-utf8",
                S::BAD_REQUEST,
                "Body is not valid UTF-8",
                "Encode the request body as UTF-8; the detail gives the offset of the first bad byte.",
            ),
            Kind::UnsupportedMediaType => (
                "unsupported-media-type",
                S::UNSUPPORTED_MEDIA_TYPE,
                "Body must be JSON",
                "Send the body with `Content-Type: application/json`.",
            ),
            Kind::BodyTooLarge => (
                "body-too-large",
                S::PAYLOAD_TOO_LARGE,
                "Body is too large",
                "Send a smaller body, or ask the operator to raise CLAIMTRAIL_MAX_BODY_BYTES.",
            ),
            Kind::ValidationFailed => (
                "validation-failed",
                S::UNPROCESSABLE_ENTITY,
                "Some fields are invalid",
                "Fix every field listed in `errors` (a wrong type, a missing or unknown field, or a value out of range; see /docs) and send the request again.",
            ),
            Kind::InvalidQuery => (
                "invalid-query",
                S::BAD_REQUEST,
                "Query string is invalid",
                "Fix the query parameter named in the detail; see /docs for the accepted ones.",
            ),
            Kind::InvalidCursor => (
                "invalid-cursor",
                S::BAD_REQUEST,
                "Cursor is not valid",
                "Pass back `next_cursor` from a previous page unchanged, or omit `cursor` to start over.",
            ),
            Kind::InvalidSearch => (
                "invalid-search",
                S::UNPROCESSABLE_ENTITY,
                "Search query is not valid",
                "Write words (all must occur) and \"phrases in quotes\"; close every quote. There are no operators: punctuation, `*`, `-`, `OR` or `NEAR` are not special.",
            ),
            Kind::NotFound => (
                "not-found",
                S::NOT_FOUND,
                "Not found",
                "Check the id or path; list the collection to find existing ids.",
            ),
            Kind::MethodNotAllowed => (
                "method-not-allowed",
                S::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "Use one of the methods in the `Allow` header.",
            ),
            Kind::UnknownVersion => (
                "unknown-version",
                S::NOT_FOUND,
                "Version does not exist",
                "Use a version number from 1 to the source's latest (GET /v1/sources/{id}/versions).",
            ),
            Kind::UnknownPassage => (
                "unknown-passage",
                S::UNPROCESSABLE_ENTITY,
                "Passage does not exist",
                "Create the passage first (POST /v1/sources/{id}/passages) and use the id it returns.",
            ),
            Kind::QuoteNotFound => (
                "quote-not-found",
                S::UNPROCESSABLE_ENTITY,
                "Quote not found in the source",
                "Check the quote against the version's text; `near_match` shows where the closest text differs.",
            ),
            Kind::AmbiguousQuote => (
                "ambiguous-quote",
                S::UNPROCESSABLE_ENTITY,
                "Quote occurs more than once",
                "Send again with `prefix` or `suffix` from one of the `candidates`, or with its `start` and `end`.",
            ),
            Kind::InvalidPosition => (
                "invalid-position",
                S::UNPROCESSABLE_ENTITY,
                "Positions are outside the text",
                "Use 0 <= start < end <= the version's `length` (code points).",
            ),
            Kind::PositionMismatch => (
                "position-mismatch",
                S::UNPROCESSABLE_ENTITY,
                "Quote is not at the given positions",
                "Drop `start`/`end` to search for the quote, or use positions from `candidates`.",
            ),
            Kind::SourceExists => (
                "source-exists",
                S::CONFLICT,
                "A source with this URL exists",
                "Add a new version to the existing source (POST /v1/sources/{existing_id}/versions).",
            ),
            Kind::EvidenceExists => (
                "evidence-exists",
                S::CONFLICT,
                "Passage is already evidence for this claim",
                "Use the existing evidence (`existing_id`).",
            ),
            Kind::Unauthorized => (
                "unauthorized",
                S::UNAUTHORIZED,
                "Authentication required",
                "Send `Authorization: Bearer <key>` with a valid, unrevoked API key (admins create them with `claimtrail keys create`).",
            ),
            Kind::Forbidden => (
                "forbidden",
                S::FORBIDDEN,
                "Your role may not do this",
                "Use a key whose role allows this action; the detail names the role and the action.",
            ),
            Kind::PreconditionRequired => (
                "precondition-required",
                S::PRECONDITION_REQUIRED,
                "Revision required",
                "Send the revision you last saw, as `If-Match` with the ETag from GET or as the `revision` field.",
            ),
            Kind::PreconditionFailed => (
                "precondition-failed",
                S::PRECONDITION_FAILED,
                "The precondition does not hold",
                "If-Match compares strong ETags only: send the ETag exactly as GET returned it, without `W/`.",
            ),
            Kind::InvalidHeader => (
                "invalid-header",
                S::BAD_REQUEST,
                "A header is malformed",
                "Fix the header named in the detail; `If-Match` takes the ETag exactly as GET returned it.",
            ),
            Kind::InvalidTransition => (
                "invalid-transition",
                S::CONFLICT,
                "The workflow does not allow this step",
                "Choose one of the states in `allowed` (an empty list means the review is final).",
            ),
            Kind::SecondPersonRequired => (
                "second-person-required",
                S::FORBIDDEN,
                "The author cannot approve their own review",
                "Ask another editor to approve it.",
            ),
            Kind::StaleRevision => (
                "stale-revision",
                S::CONFLICT,
                "The review changed since you read it",
                "Look at `current` (the review as it is now) and send your change again with its revision.",
            ),
            Kind::NotEditable => (
                "not-editable",
                S::CONFLICT,
                "The review can no longer be edited",
                "Only drafts and reviews sent back with changes requested are editable; publish a correction instead.",
            ),
            Kind::VerdictExists => (
                "verdict-exists",
                S::CONFLICT,
                "The claim already has a published verdict",
                "Publish a correction of the existing verdict (`corrects`: `existing_id`) instead.",
            ),
            Kind::ScaleExists => (
                "scale-exists",
                S::CONFLICT,
                "A rating scale with this id exists",
                "Choose another id; scales are never changed once created.",
            ),
            Kind::PersonExists => (
                "person-exists",
                S::CONFLICT,
                "A person with this handle exists",
                "Handles are unique and never change: make the key for the existing person (`person` in POST /v1/keys), or choose another handle.",
            ),
            Kind::OwnKey => (
                "own-key",
                S::CONFLICT,
                "A key cannot revoke itself",
                "Revoke it with another admin key, or on the server with `claimtrail keys revoke <id>`; an admin cannot lock themselves out.",
            ),
            Kind::NotLatestVersion => (
                "not-latest-version",
                S::CONFLICT,
                "Placements are decided on the latest version",
                "Decide on the source's latest version (named in the detail); placements on earlier versions are kept as they were.",
            ),
            Kind::NoFigure => (
                "no-figure",
                S::UNPROCESSABLE_ENTITY,
                "No figure to trace",
                "Send a text with a number in it (\"$4bn\", \"about 15 per cent\", \"6,000 visas\"); years, dates and ordinals are not traced.",
            ),
            Kind::DerivationCycle => (
                "derivation-cycle",
                S::CONFLICT,
                "The link would close a cycle",
                "A passage cannot derive, at any depth, from itself: check the direction of the link (`from_passage_id` is the earlier source).",
            ),
            Kind::DerivationExists => (
                "derivation-exists",
                S::CONFLICT,
                "The link is recorded already",
                "Nothing to do; `GET /v1/passages/{id}/lineage` shows the recorded links.",
            ),
            Kind::NotPublished => (
                "not-published",
                S::CONFLICT,
                "The review is not published",
                "Publish the review first (`POST /v1/reviews/{id}/transitions` with `to: published`); markup and published pages belong to published verdicts.",
            ),
            Kind::Retracted => (
                "retracted",
                S::GONE,
                "The verdict was retracted",
                "Remove the verdict and its ClaimReview markup from your pages; `GET /v1/reviews/{id}` shows the retraction's note.",
            ),
            Kind::IdempotencyKeyInUse => (
                "idempotency-key-in-use",
                S::CONFLICT,
                "The first request with this Idempotency-Key is still running",
                "Wait a moment and retry with the same key and request: you then get its response.",
            ),
            Kind::IdempotencyKeyReused => (
                "idempotency-key-reused",
                S::UNPROCESSABLE_ENTITY,
                "The Idempotency-Key was used with another request",
                "Use a new key for a new request; a key stands for one request (method, path and body) for 24 hours.",
            ),
            Kind::NotConfigured => (
                "not-configured",
                S::SERVICE_UNAVAILABLE,
                "The server is missing a setting",
                "Ask the operator to set what the detail names and restart the server.",
            ),
            Kind::Unavailable => (
                "unavailable",
                S::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable",
                "Retry after a short wait; nothing was written.",
            ),
            Kind::Internal => (
                "internal",
                S::INTERNAL_SERVER_ERROR,
                "Internal error",
                "Retry later; if it persists, report the time of the request to the operator. Nothing was written.",
            ),
        }
    }

    pub fn slug(self) -> &'static str {
        self.info().0
    }

    pub fn status(self) -> StatusCode {
        self.info().1
    }

    pub fn title(self) -> &'static str {
        self.info().2
    }

    pub fn hint(self) -> &'static str {
        self.info().3
    }

    pub fn from_slug(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == slug)
    }
}

/// One place a quote occurs, for the client to choose from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Candidate {
    pub start: usize,
    pub end: usize,
    /// `start` and `end` in UTF-16 code units, as DOM ranges count.
    pub start_utf16: usize,
    pub end_utf16: usize,
    pub prefix: String,
    pub suffix: String,
}

impl From<&Span> for Candidate {
    fn from(s: &Span) -> Self {
        Candidate {
            start: s.start,
            end: s.end,
            start_utf16: s.start_utf16,
            end_utf16: s.end_utf16,
            prefix: s.prefix.clone(),
            suffix: s.suffix.clone(),
        }
    }
}

/// Where part of an unmatched quote does occur, and where it stops matching.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NearMatchView {
    /// The part of the document that matches part of the quote.
    pub start: usize,
    pub end: usize,
    pub exact: String,
    /// Code points of the quote that matched, of `quote_length`.
    pub matched: usize,
    pub quote_length: usize,
    /// `start` when the beginning of the quote matched, `end` when its end did.
    pub matched_part: String,
    /// The quote's text where it stops matching.
    pub quote_reads: String,
    /// The document's text at the same place.
    pub document_reads: String,
}

/// An RFC 9457 problem. Extension members appear only when they apply.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/ambiguous-quote", "title": "Quote occurs more than once", "status": 422,
    "detail": "The quote occurs 2 times in version 1; choose one.",
    "hint": "Send again with `prefix` or `suffix` from one of the `candidates`, or with its `start` and `end`.",
    "candidates": [{"start": 4, "end": 14, "prefix": "The ", "suffix": ". Critics said"},
                   {"start": 33, "end": 43, "prefix": "Critics said the ", "suffix": " poorly."}],
    "candidate_count": 2
}))]
pub struct Problem {
    /// Stable identifier of the kind of problem: `/problems/{slug}`.
    #[serde(rename = "type")]
    pub kind_uri: String,
    pub title: String,
    pub status: u16,
    /// What went wrong with this request, for a person.
    pub detail: String,
    /// What the client can do about it.
    pub hint: String,
    /// Field-level errors, one per invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For `ambiguous-quote`, `position-mismatch` and narrowed `quote-not-found`: the occurrences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Vec<Candidate>>,
    /// How many occurrences there are (the list stops at 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub near_match: Option<NearMatchView>,
    /// For conflicts: the id of what already exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<Uuid>,
    /// For `invalid-transition`: the states the review may move to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<crate::domain::review::State>>,
    /// For `stale-revision`: the review as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<Box<crate::domain::review::Review>>,
    /// For `invalid-position`: the version's length in code points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
    #[serde(skip)]
    allow: Option<String>,
}

impl Problem {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Problem {
        Problem {
            kind_uri: format!("{PROBLEM_PATH}{}", kind.slug()),
            title: kind.title().to_owned(),
            status: kind.status().as_u16(),
            detail: detail.into(),
            hint: kind.hint().to_owned(),
            errors: Vec::new(),
            candidates: None,
            candidate_count: None,
            near_match: None,
            existing_id: None,
            length: None,
            allowed: None,
            current: None,
            allow: None,
        }
    }

    /// A hint for this case, where the problem type's general one would mislead.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Problem {
        self.hint = hint.into();
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors;
        self
    }

    fn with_candidates(mut self, spans: &[Span], count: usize) -> Problem {
        self.candidates = Some(spans.iter().map(Candidate::from).collect());
        self.candidate_count = Some(count);
        self
    }

    pub fn method_not_allowed(allow: Option<String>) -> Problem {
        let detail = match &allow {
            Some(a) => format!("This path accepts only {a}."),
            None => "This path does not accept this method.".to_owned(),
        };
        let mut p = Problem::new(Kind::MethodNotAllowed, detail);
        p.allow = allow;
        p
    }

    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Problem {
        tracing::error!(%error, "{context}");
        Problem::new(Kind::Internal, "The server failed to handle this request.")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let allow = self.allow.clone();
        // For the metrics of failures by problem type.
        let kind = Kind::from_slug(self.kind_uri.trim_start_matches(PROBLEM_PATH)).map(Kind::slug);
        let mut response = (status, Json(self)).into_response();
        if let Some(kind) = kind {
            response
                .extensions_mut()
                .insert(crate::metrics::ProblemType(kind));
        }
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(allow) = allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
            headers.insert(header::ALLOW, allow);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // A busy database usually frees up within a second or two.
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"claimtrail\""),
            );
        }
        response
    }
}

fn near_match_view(near: &NearMatch) -> NearMatchView {
    NearMatchView {
        start: near.span.start,
        end: near.span.end,
        exact: near.span.exact.clone(),
        matched: near.matched_chars,
        quote_length: near.quote_chars,
        matched_part: if near.from_start { "start" } else { "end" }.to_owned(),
        quote_reads: near.quote_continues.clone(),
        document_reads: near.document_continues.clone(),
    }
}

fn anchor_problem(error: AnchorError, version: i64) -> Problem {
    match error {
        AnchorError::EmptyQuote => Problem::new(Kind::ValidationFailed, "The quote has no visible characters.")
            .with_errors(vec![FieldError {
                field: "quote".into(),
                message: "must contain visible characters".into(),
            }]),
        AnchorError::NoSelector => Problem::new(
            Kind::ValidationFailed,
            "Give a quote (with optional prefix and suffix), or both start and end.",
        ),
        AnchorError::InvalidPosition { start, end, length } => {
            let why = if start >= end {
                "start must be less than end".to_owned()
            } else {
                format!("end must be at most the text's length, {length}")
            };
            let mut p = Problem::new(
                Kind::InvalidPosition,
                format!("start {start}, end {end} do not select a span of version {version} ({length} code points): {why}."),
            );
            p.length = Some(length);
            p
        }
        AnchorError::NotFound { near, unnarrowed, unnarrowed_count } => {
            if unnarrowed_count > 0 {
                return Problem::new(
                    Kind::QuoteNotFound,
                    format!(
                        "The quote occurs {unnarrowed_count} time(s) in version {version}, but none with the given prefix/suffix; `candidates` lists them."
                    ),
                )
                .with_candidates(&unnarrowed, unnarrowed_count)
                .with_hint(
                    "The quote itself is found: compare `prefix`/`suffix` with the `prefix` and \
                     `suffix` of the occurrences in `candidates` (they must touch the quote, \
                     without a gap), or pick one by its `start` and `end`.",
                );
            }
            let detail = match &near {
                Some(n) => format!(
                    "The quote does not occur in version {version}. Its {} {} of {} characters match at {}..{}; there the quote reads \u{201C}{}\u{201D} but the text reads \u{201C}{}\u{201D}.",
                    if n.from_start { "first" } else { "last" },
                    n.matched_chars,
                    n.quote_chars,
                    n.span.start,
                    n.span.end,
                    n.quote_continues,
                    n.document_continues,
                ),
                None => format!("The quote does not occur in version {version}, and neither does its beginning or its end (8 characters or more)."),
            };
            let mut p = Problem::new(Kind::QuoteNotFound, detail);
            p.near_match = near.as_deref().map(near_match_view);
            p
        }
        AnchorError::Ambiguous { candidates, count } => {
            let listed = if count > MAX_CANDIDATES {
                format!(" (the first {MAX_CANDIDATES} are listed)")
            } else {
                String::new()
            };
            let p = Problem::new(
                Kind::AmbiguousQuote,
                format!("The quote occurs {count} times in version {version}{listed}; choose one."),
            );
            let p = if crate::domain::anchor::context_cannot_choose(&candidates) {
                p.with_hint(
                    "Occurrences in `candidates` have the same `prefix` and `suffix`, so context                      cannot choose between them: send the `start` and `end` of the one you mean                      (from `candidates`), or a longer quote.",
                )
            } else {
                p
            };
            p.with_candidates(&candidates, count)
        }
        AnchorError::PartNotFound { part, index, parts, near } => {
            let mut p = Problem::new(
                Kind::QuoteNotFound,
                format!(
                    "The quote has {parts} parts around ellipses; part {index}, \u{201C}{part}\u{201D}, does not occur in version {version}."
                ),
            )
            .with_hint(
                "Check that part against the version's text (`near_match` shows where the closest \
                 text differs); the other parts are found.",
            );
            p.near_match = near.as_deref().map(near_match_view);
            p
        }
        AnchorError::PartsApart { parts } => Problem::new(
            Kind::QuoteNotFound,
            format!(
                "Each of the quote's {parts} parts around ellipses occurs in version {version}, but never in order with at most {} characters between one part and the next.",
                crate::domain::anchor::MAX_ELIDED_GAP
            ),
        )
        .with_hint(
            "Quote the parts in the order the text has them, from one stretch of the text; or \
             make two passages.",
        ),
        AnchorError::PositionMismatch { found, count } => Problem::new(
            Kind::PositionMismatch,
            format!("The quote occurs {count} time(s) in version {version}, but not at the given start and end."),
        )
        .with_candidates(&found, count),
    }
}

fn transition_problem(refusal: crate::domain::review::Refusal) -> Problem {
    use crate::domain::review::Refusal;
    match refusal {
        Refusal::NotAllowed { from, to, allowed } => {
            let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
            let options = if names.is_empty() {
                "none: it is final".to_owned()
            } else {
                names.join(", ")
            };
            let mut p = Problem::new(
                Kind::InvalidTransition,
                format!(
                    "A review cannot go from {} to {}; from {} it may go to {options}.",
                    from.as_str(),
                    to.as_str(),
                    from.as_str()
                ),
            );
            p.allowed = Some(allowed.to_vec());
            p
        }
        Refusal::SelfApproval => Problem::new(
            Kind::SecondPersonRequired,
            "You wrote this review; another editor must approve it (the second-person rule is on).",
        ),
        Refusal::NoteRequired { to } => Problem::new(
            Kind::ValidationFailed,
            format!(
                "Moving a review to {} needs a note saying why.",
                to.as_str()
            ),
        )
        .with_errors(vec![FieldError {
            field: "note".into(),
            message: "must say why".into(),
        }]),
        Refusal::Forbidden => Problem::new(
            Kind::Forbidden,
            "Your role may not make this workflow step.",
        ),
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Problem {
        match error {
            AppError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                Problem::new(
                    Kind::ValidationFailed,
                    format!("Invalid fields: {}.", fields.join(", ")),
                )
                .with_errors(errors)
            }
            AppError::NotFound { entity, id } => {
                Problem::new(Kind::NotFound, format!("No {entity} has id {id}."))
            }
            AppError::UnknownVersion {
                source_id,
                number,
                latest,
            } => Problem::new(
                Kind::UnknownVersion,
                format!(
                    "Source {source_id} has versions 1 to {latest}; there is no version {number}."
                ),
            ),
            AppError::UnknownPassages { field, ids } => {
                let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
                Problem::new(
                    Kind::UnknownPassage,
                    format!("No passage has id {}.", list.join(", ")),
                )
                .with_errors(
                    ids.iter()
                        .map(|id| FieldError {
                            field: field.to_owned(),
                            message: format!("no passage has id {id}"),
                        })
                        .collect(),
                )
            }
            AppError::SourceExists { id, url } => {
                let mut p = Problem::new(
                    Kind::SourceExists,
                    format!("Source {id} already has the URL {url}."),
                );
                p.existing_id = Some(id.into());
                p
            }
            AppError::EvidenceExists { id } => {
                let mut p = Problem::new(
                    Kind::EvidenceExists,
                    format!("This passage is already evidence {id} for the claim."),
                );
                p.existing_id = Some(id.into());
                p
            }
            AppError::InvalidCursor => Problem::new(
                Kind::InvalidCursor,
                "The `cursor` parameter was not issued by this API.",
            ),
            AppError::InvalidLimit(n) => Problem::new(
                Kind::InvalidQuery,
                format!(
                    "`limit` is {n}; it must be from 1 to {}.",
                    crate::domain::MAX_LIMIT
                ),
            ),
            AppError::Anchor { error, version } => anchor_problem(error, version),
            AppError::Transition(refusal) => transition_problem(refusal),
            AppError::Stale { current } => {
                let mut p = Problem::new(
                    Kind::StaleRevision,
                    format!(
                        "The revision you sent is not the review's current one: the review is at revision {} ({}). Read it again (`current` holds it) and send revision {} if your change still applies.",
                        current.revision,
                        current.state.as_str(),
                        current.revision
                    ),
                );
                p.current = Some(current);
                p
            }
            AppError::RevisionRequired => Problem::new(
                Kind::PreconditionRequired,
                "This write needs the revision you last saw.",
            ),
            AppError::NotEditable(state) => Problem::new(
                Kind::NotEditable,
                format!(
                    "The review is {}; it can no longer be edited.",
                    state.as_str()
                ),
            ),
            AppError::VerdictExists { id } => {
                let mut p = Problem::new(
                    Kind::VerdictExists,
                    format!("Review {id} is the claim's published verdict."),
                );
                p.existing_id = Some(id.into());
                p
            }
            AppError::InvalidSearch { field, error } => {
                Problem::new(Kind::InvalidSearch, format!("`{field}`: {error}.")).with_errors(vec![
                    FieldError {
                        field: field.to_owned(),
                        message: error.to_string(),
                    },
                ])
            }
            AppError::NoFigure { field, text } => Problem::new(
                Kind::NoFigure,
                format!("{text:?} holds no number that can be traced."),
            )
            .with_errors(vec![FieldError {
                field: field.to_owned(),
                message: "holds no figure".into(),
            }]),
            AppError::DerivationCycle { path } => {
                let path: Vec<String> = path.iter().map(ToString::to_string).collect();
                Problem::new(
                    Kind::DerivationCycle,
                    format!("The link would make a cycle: {}.", path.join(" ← ")),
                )
            }
            AppError::DerivationExists { passage_id, from } => Problem::new(
                Kind::DerivationExists,
                format!("Passage {passage_id} is already recorded as deriving from {from}."),
            ),
            AppError::NotLatest { version, latest } => Problem::new(
                Kind::NotLatestVersion,
                format!(
                    "Version {version} is not the source's latest; decide on version {latest}."
                ),
            ),
            AppError::OwnKey { id } => Problem::new(
                Kind::OwnKey,
                format!("Key {id} is the key making this request; a key cannot revoke itself."),
            ),
            AppError::PersonExists { handle } => Problem::new(
                Kind::PersonExists,
                format!("A person with the handle {handle:?} exists."),
            ),
            AppError::ScaleExists { id } => {
                Problem::new(Kind::ScaleExists, format!("A rating scale {id:?} exists."))
            }
            AppError::Unauthorized(why) => {
                Problem::new(Kind::Unauthorized, format!("Not authenticated: {why}."))
            }
            AppError::Forbidden { role, action } => Problem::new(
                Kind::Forbidden,
                format!("A key with the role {} may not {action}.", role.as_str()),
            ),
            AppError::NotPublished { id, state } => Problem::new(
                Kind::NotPublished,
                format!("Review {id} is {}, not published.", state.as_str()),
            ),
            AppError::Retracted { id, note } => Problem::new(
                Kind::Retracted,
                match note {
                    Some(n) => format!("Review {id} was retracted: {n}"),
                    None => format!("Review {id} was retracted."),
                },
            ),
            AppError::NotConfigured(what) => {
                Problem::new(Kind::NotConfigured, format!("The server needs {what}."))
            }
            AppError::Unavailable(why) => {
                tracing::error!(error = %why, "database unavailable");
                Problem::new(
                    Kind::Unavailable,
                    "The database is busy or did not answer in time; retry after a few seconds.",
                )
            }
            AppError::Store(e) => Problem::internal("database error", &e),
            AppError::Internal(e) => Problem::internal("internal error", &e),
        }
    }
}

impl From<PathRejection> for Problem {
    fn from(rejection: PathRejection) -> Problem {
        match rejection {
            PathRejection::FailedToDeserializePathParams(e) => Problem::new(
                Kind::NotFound,
                format!(
                    "No such resource: {}. Ids are UUIDs and version numbers are integers.",
                    e.body_text()
                ),
            ),
            other => Problem::internal("path extraction failed", &other),
        }
    }
}

impl From<QueryRejection> for Problem {
    fn from(rejection: QueryRejection) -> Problem {
        Problem::new(Kind::InvalidQuery, rejection.body_text())
    }
}

/// Answers unknown paths.
pub async fn not_found(uri: axum::http::Uri) -> Problem {
    Problem::new(
        Kind::NotFound,
        format!(
            "There is no resource at {}. See /docs for the API.",
            uri.path()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_lists_every_kind_once() {
        // Variants have the discriminants 0, 1, 2, ... in declaration order: a kind left out of
        // `ALL` (or listed twice) shifts every later one.
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(
                kind as usize, i,
                "{kind:?} is not where it belongs in Kind::ALL"
            );
        }
        for kind in Kind::ALL {
            assert_eq!(Kind::from_slug(kind.slug()), Some(kind), "{kind:?}");
            assert!(
                kind.status().is_client_error() || kind.status().is_server_error(),
                "{kind:?}"
            );
            assert!(
                !kind.title().is_empty() && !kind.hint().is_empty(),
                "{kind:?}"
            );
        }
        let mut slugs: Vec<&str> = Kind::ALL.into_iter().map(Kind::slug).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), Kind::ALL.len(), "slugs are unique");
    }
}

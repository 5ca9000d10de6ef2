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

/// The problem catalogue, one entry per kind: its `slug` (the stable part of `type`), HTTP
/// status, title, `hint` (what the client can do) and `cause` (when it happens, served at
/// `/problems/{slug}`). Declares `Kind`, `Kind::ALL` and the lookups, so a kind cannot lack any
/// of its parts.
macro_rules! problems {
    ($($kind:ident {
        slug: $slug:literal,
        status: $status:ident,
        title: $title:literal,
        hint: $hint:literal,
        cause: $cause:literal $(,)?
    }),+ $(,)?) => {
        /// Every kind of problem the API answers with. The slug is the stable part of `type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Kind {
            $($kind),+
        }

        impl Kind {
            /// Every kind, in declaration order: the catalogue of problem types.
            pub const ALL: [Kind; [$(stringify!($kind)),+].len()] = [$(Kind::$kind),+];

            pub fn slug(self) -> &'static str {
                match self { $(Kind::$kind => $slug),+ }
            }

            pub fn status(self) -> StatusCode {
                match self { $(Kind::$kind => StatusCode::$status),+ }
            }

            pub fn title(self) -> &'static str {
                match self { $(Kind::$kind => $title),+ }
            }

            /// What the client can do about it.
            pub fn hint(self) -> &'static str {
                match self { $(Kind::$kind => $hint),+ }
            }

            /// When this problem happens: the usual causes.
            pub fn cause(self) -> &'static str {
                match self { $(Kind::$kind => $cause),+ }
            }
        }
    };
}

problems! {
    InvalidJson {
        slug: "invalid-json",
        status: BAD_REQUEST,
        title: "Body is not valid JSON",
        hint: "Send one JSON value; the detail gives the line and column of the syntax error.",
        cause: "The body is not one well-formed JSON value: a syntax error, a truncated body, or trailing text after the value.",
    },
    InvalidUtf8 {
        slug: "invalid-utf8",
        status: BAD_REQUEST,
        title: "Body is not valid UTF-8",
        hint: "Encode the request body as UTF-8; the detail gives the offset of the first bad byte.",
        cause: "The body contains bytes that are not UTF-8, often text saved in Latin-1 or Windows-1252.",
    },
    UnsupportedMediaType {
        slug: "unsupported-media-type",
        status: UNSUPPORTED_MEDIA_TYPE,
        title: "Body must be JSON",
        hint: "Send the body with `Content-Type: application/json`.",
        cause: "A request with a body was sent without `Content-Type: application/json` (or `application/merge-patch+json` for PATCH), e.g. as form data.",
    },
    BodyTooLarge {
        slug: "body-too-large",
        status: PAYLOAD_TOO_LARGE,
        title: "Body is too large",
        hint: "Send a smaller body, or ask the operator to raise CLAIMTRAIL_MAX_BODY_BYTES.",
        cause: "The body is over the server's size limit (CLAIMTRAIL_MAX_BODY_BYTES, 32 MiB by default), usually a whole archive sent as one source.",
    },
    ValidationFailed {
        slug: "validation-failed",
        status: UNPROCESSABLE_ENTITY,
        title: "Some fields are invalid",
        hint: "Fix every field listed in `errors` (a wrong type, a missing or unknown field, or a value out of range; see /docs) and send the request again.",
        cause: "A field has the wrong type, is missing, is not part of the schema, or holds a value the server refuses (blank text, a bad URL or date, a NUL character, a text over its length limit). `errors` names each field.",
    },
    InvalidQuery {
        slug: "invalid-query",
        status: BAD_REQUEST,
        title: "Query string is invalid",
        hint: "Fix the query parameter named in the detail; see /docs for the accepted ones.",
        cause: "A query parameter is malformed or out of range: an unknown state or order, a limit outside 1 to 200, a date that is neither a date nor an RFC 3339 date-time, a bad search query.",
    },
    InvalidCursor {
        slug: "invalid-cursor",
        status: BAD_REQUEST,
        title: "Cursor is not valid",
        hint: "Pass back `next_cursor` from a previous page unchanged, or omit `cursor` to start over.",
        cause: "The `cursor` was not a `next_cursor` this list returned, was changed, or belongs to another list or order.",
    },
    InvalidSearch {
        slug: "invalid-search",
        status: UNPROCESSABLE_ENTITY,
        title: "Search query is not valid",
        hint: "Write words (all must occur) and \"phrases in quotes\"; close every quote. There are no operators: punctuation, `*`, `-`, `OR` or `NEAR` are not special.",
        cause: "The search query is empty, has no word, leaves a quote open, or is too long (too many characters or words).",
    },
    NotFound {
        slug: "not-found",
        status: NOT_FOUND,
        title: "Not found",
        hint: "Check the id or path; list the collection to find existing ids.",
        cause: "No resource has this id (or path), or the caller's role may not see it (integrations see published verdicts only).",
    },
    MethodNotAllowed {
        slug: "method-not-allowed",
        status: METHOD_NOT_ALLOWED,
        title: "Method not allowed",
        hint: "Use one of the methods in the `Allow` header.",
        cause: "The path exists, but not with this HTTP method; the `Allow` header lists the ones it takes.",
    },
    UnknownVersion {
        slug: "unknown-version",
        status: NOT_FOUND,
        title: "Version does not exist",
        hint: "Use a version number from 1 to the source's latest (GET /v1/sources/{id}/versions).",
        cause: "The request names a version number the source does not have (yet).",
    },
    UnknownPassage {
        slug: "unknown-passage",
        status: UNPROCESSABLE_ENTITY,
        title: "Passage does not exist",
        hint: "Create the passage first (POST /v1/sources/{id}/passages) and use the id it returns.",
        cause: "A passage id in the body (an appearance, evidence, a derivation) does not exist.",
    },
    QuoteNotFound {
        slug: "quote-not-found",
        status: UNPROCESSABLE_ENTITY,
        title: "Quote not found in the source",
        hint: "Check the quote against the version's text; `near_match` shows where the closest text differs.",
        cause: "The pasted quote does not occur in the version, even after folding white space, quotes, dashes and Unicode forms; or it occurs, but not with the given `prefix`/`suffix`.",
    },
    AmbiguousQuote {
        slug: "ambiguous-quote",
        status: UNPROCESSABLE_ENTITY,
        title: "Quote occurs more than once",
        hint: "Send again with `prefix` or `suffix` from one of the `candidates`, or with its `start` and `end`.",
        cause: "The quote occurs more than once in the version and nothing says which occurrence is meant.",
    },
    InvalidPosition {
        slug: "invalid-position",
        status: UNPROCESSABLE_ENTITY,
        title: "Positions are outside the text",
        hint: "Use 0 <= start < end <= the version's `length` (code points).",
        cause: "`start`/`end` are outside the text, reversed, or split a character.",
    },
    PositionMismatch {
        slug: "position-mismatch",
        status: UNPROCESSABLE_ENTITY,
        title: "Quote is not at the given positions",
        hint: "Drop `start`/`end` to search for the quote, or use positions from `candidates`.",
        cause: "The quote was sent with `start`/`end`, and the text at those positions is not the quote.",
    },
    SourceExists {
        slug: "source-exists",
        status: CONFLICT,
        title: "A source with this URL exists",
        hint: "Add a new version to the existing source (POST /v1/sources/{existing_id}/versions).",
        cause: "Another source already has this URL (its own or an alias): one URL names one source.",
    },
    EvidenceExists {
        slug: "evidence-exists",
        status: CONFLICT,
        title: "Passage is already evidence for this claim",
        hint: "Use the existing evidence (`existing_id`).",
        cause: "The passage is already evidence for this claim.",
    },
    Unauthorized {
        slug: "unauthorized",
        status: UNAUTHORIZED,
        title: "Authentication required",
        hint: "Send `Authorization: Bearer <key>` with a valid, unrevoked API key (admins create them with `claimtrail keys create`).",
        cause: "The request has no `Authorization: Bearer <key>` header, or the key is unknown or revoked.",
    },
    Forbidden {
        slug: "forbidden",
        status: FORBIDDEN,
        title: "Your role may not do this",
        hint: "Use a key whose role allows this action; the detail names the role and the action.",
        cause: "The key's role may not call this operation (see the operation's Roles line), or may not make this workflow step.",
    },
    PreconditionRequired {
        slug: "precondition-required",
        status: PRECONDITION_REQUIRED,
        title: "Revision required",
        hint: "Send the revision you last saw, as `If-Match` with the ETag from GET or as the `revision` field.",
        cause: "A write to a review did not say which revision it is based on (`If-Match` or `revision`).",
    },
    InvalidHeader {
        slug: "invalid-header",
        status: BAD_REQUEST,
        title: "A header is malformed",
        hint: "Fix the header named in the detail; `If-Match` takes the ETag exactly as GET returned it.",
        cause: "A header is malformed, e.g. an `If-Match` that is not one ETag, or a bad `Idempotency-Key`.",
    },
    PreconditionFailed {
        slug: "precondition-failed",
        status: PRECONDITION_FAILED,
        title: "The precondition does not hold",
        hint: "If-Match compares strong ETags only: send the ETag exactly as GET returned it, without `W/`.",
        cause: "`If-Match` held a weak ETag (`W/\"3\"`); If-Match compares strongly, so a weak tag never matches (RFC 9110, section 13.1.1).",
    },
    InvalidTransition {
        slug: "invalid-transition",
        status: CONFLICT,
        title: "The workflow does not allow this step",
        hint: "Choose one of the states in `allowed` (an empty list means the review is final).",
        cause: "The review's workflow has no step from its current state to the requested one (e.g. publishing a draft).",
    },
    SecondPersonRequired {
        slug: "second-person-required",
        status: FORBIDDEN,
        title: "The author cannot approve their own review",
        hint: "Ask another editor to approve it.",
        cause: "The person approving the review is the person who wrote it, with whatever key, and the second-person rule is on.",
    },
    StaleRevision {
        slug: "stale-revision",
        status: CONFLICT,
        title: "The review changed since you read it",
        hint: "Look at `current` (the review as it is now) and send your change again with its revision.",
        cause: "The review changed since the caller read it: the revision sent is not the current one.",
    },
    NotEditable {
        slug: "not-editable",
        status: CONFLICT,
        title: "The review can no longer be edited",
        hint: "Only drafts and reviews sent back with changes requested are editable; publish a correction instead.",
        cause: "The review's content can only change while it is a draft or sent back for changes.",
    },
    VerdictExists {
        slug: "verdict-exists",
        status: CONFLICT,
        title: "The claim already has a published verdict",
        hint: "Publish a correction of the existing verdict (`corrects`: `existing_id`) instead.",
        cause: "The claim already has a published verdict, and this review is not a correction of it.",
    },
    ScaleExists {
        slug: "scale-exists",
        status: CONFLICT,
        title: "A rating scale with this id exists",
        hint: "Choose another id; scales are never changed once created.",
        cause: "A rating scale with this id exists; scales never change once created.",
    },
    PersonExists {
        slug: "person-exists",
        status: CONFLICT,
        title: "A person with this handle exists",
        hint: "Handles are unique and never change: make the key for the existing person (`person` in POST /v1/keys), or choose another handle.",
        cause: "A person with this handle exists; handles are unique and never change.",
    },
    OwnKey {
        slug: "own-key",
        status: CONFLICT,
        title: "A key cannot revoke itself",
        hint: "Revoke it with another admin key, or on the server with `claimtrail keys revoke <id>`; an admin cannot lock themselves out.",
        cause: "An admin tried to revoke the key making the request.",
    },
    NotLatestVersion {
        slug: "not-latest-version",
        status: CONFLICT,
        title: "Placements are decided on the latest version",
        hint: "Decide on the source's latest version (named in the detail); placements on earlier versions are kept as they were.",
        cause: "Placements are decided on the source's latest version, and the request named an older one.",
    },
    NoFigure {
        slug: "no-figure",
        status: UNPROCESSABLE_ENTITY,
        title: "No figure to trace",
        hint: "Send a text with a number in it (\"$4bn\", \"about 15 per cent\", \"6,000 visas\"); years, dates and ordinals are not traced.",
        cause: "The trace query or text holds no number the extractor recognizes.",
    },
    DerivationCycle {
        slug: "derivation-cycle",
        status: CONFLICT,
        title: "The link would close a cycle",
        hint: "A passage cannot derive, at any depth, from itself: check the direction of the link (`from_passage_id` is the earlier source).",
        cause: "Recording this derivation would make a passage derive, through the chain, from itself.",
    },
    DerivationExists {
        slug: "derivation-exists",
        status: CONFLICT,
        title: "The link is recorded already",
        hint: "Nothing to do; `GET /v1/passages/{id}/lineage` shows the recorded links.",
        cause: "This derivation between the two passages is recorded already.",
    },
    NotPublished {
        slug: "not-published",
        status: CONFLICT,
        title: "The review is not published",
        hint: "Publish the review first (`POST /v1/reviews/{id}/transitions` with `to: published`); markup and published pages belong to published verdicts.",
        cause: "The operation needs a published verdict (e.g. ClaimReview), and the review is in another state.",
    },
    Retracted {
        slug: "retracted",
        status: GONE,
        title: "The verdict was retracted",
        hint: "Remove the verdict and its ClaimReview markup from your pages; `GET /v1/reviews/{id}` shows the retraction's note.",
        cause: "The verdict was retracted; it stays on record but is no longer offered as a verdict.",
    },
    IdempotencyKeyInUse {
        slug: "idempotency-key-in-use",
        status: CONFLICT,
        title: "The first request with this Idempotency-Key is still running",
        hint: "Wait a moment and retry with the same key and request: you then get its response.",
        cause: "A request with this `Idempotency-Key` is still running.",
    },
    IdempotencyKeyReused {
        slug: "idempotency-key-reused",
        status: UNPROCESSABLE_ENTITY,
        title: "The Idempotency-Key was used with another request",
        hint: "Use a new key for a new request; a key stands for one request (method, path and body) for 24 hours.",
        cause: "This `Idempotency-Key` was used with another method, path or body.",
    },
    NotConfigured {
        slug: "not-configured",
        status: SERVICE_UNAVAILABLE,
        title: "The server is missing a setting",
        hint: "Ask the operator to set what the detail names and restart the server.",
        cause: "The server lacks a setting this operation needs (e.g. the organisation for ClaimReview).",
    },
    Unavailable {
        slug: "unavailable",
        status: SERVICE_UNAVAILABLE,
        title: "Service temporarily unavailable",
        hint: "Retry after a short wait; nothing was written.",
        cause: "The database is busy or unreachable: a lock not granted in time, or the server is shutting down.",
    },
    Internal {
        slug: "internal",
        status: INTERNAL_SERVER_ERROR,
        title: "Internal error",
        hint: "Retry later; if it persists, report the time of the request to the operator. Nothing was written.",
        cause: "A fault in the server. Nothing was written; the server log has the details.",
    },
}

impl Kind {
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
            AppError::NoFigure {
                field,
                text,
                instead,
            } => {
                // "2019" is a year: say so rather than that there is no number.
                let what = instead.map(crate::domain::statistics::Kind::described);
                let (detail, message) = match what {
                    Some(what) => (
                        format!("{text:?} holds {what}, which is not traced: only quantities are."),
                        format!("holds {what}, not a quantity"),
                    ),
                    None => (
                        format!("{text:?} holds no number that can be traced."),
                        "holds no figure".to_owned(),
                    ),
                };
                Problem::new(Kind::NoFigure, detail).with_errors(vec![FieldError {
                    field: field.to_owned(),
                    message,
                }])
            }
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

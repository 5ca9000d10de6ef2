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
    InvalidBody,
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
    InvalidTransition,
    SecondPersonRequired,
    StaleRevision,
    NotEditable,
    VerdictExists,
    ScaleExists,
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
            Kind::InvalidBody => (
                "invalid-body",
                S::UNPROCESSABLE_ENTITY,
                "Body does not match the schema",
                "Fix the field named in `errors` (wrong type, missing, or not part of the schema); see /docs.",
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
                "Fix every field listed in `errors` and send the request again.",
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
        let mut response = (status, Json(self)).into_response();
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
                .with_candidates(&unnarrowed, unnarrowed_count);
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
                None => format!("The quote does not occur in version {version}, and no large part of it does."),
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
            Problem::new(
                Kind::AmbiguousQuote,
                format!("The quote occurs {count} times in version {version}{listed}; choose one."),
            )
            .with_candidates(&candidates, count)
        }
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
                        "You sent revision of an older state; the review is at revision {} ({}).",
                        current.revision,
                        current.state.as_str()
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

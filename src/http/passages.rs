//! Passages: exact spans of one version of a source.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::Problem;
use super::extract::{ApiJson, ApiPath, Auth};
use crate::app::{App, PassageInput};
use crate::domain::Outcome;
use crate::domain::Passage;
use crate::domain::ids::{PassageId, SourceId};

/// Selects a passage by quote (W3C TextQuoteSelector) or by positions (TextPositionSelector).
///
/// A quote matches the text with white space runs, quote marks, dashes, ellipses and Unicode
/// normalization forms made equal; letters, case and accents stay significant. Give both a
/// quote and `start`/`end` to require the quote at exactly those positions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"quote": "it will cost $4 billion", "suffix": "."}))]
pub struct CreatePassage {
    /// The text as pasted; it must have a character other than white space, soft hyphens
    /// and zero-width spaces.
    #[schema(
        nullable = false,
        min_length = 1,
        pattern = "[^\\s\\u00AD\\u200B\\u2060\\uFEFF]"
    )]
    pub quote: Option<String>,
    /// Text right before the quote, to choose between occurrences.
    pub prefix: Option<String>,
    /// Text right after the quote, to choose between occurrences.
    pub suffix: Option<String>,
    /// First code point, from 0; with `end`.
    #[schema(nullable = false, minimum = 0)]
    pub start: Option<i64>,
    /// Code point after the last one (exclusive), more than `start` and at most the version's
    /// `length`; with `start`.
    #[schema(nullable = false, minimum = 1)]
    pub end: Option<i64>,
    /// Version number; default the latest.
    #[schema(minimum = 1)]
    pub version: Option<i64>,
}

#[utoipa::path(post, path = "/v1/sources/{id}/passages", tag = "passages",
    params(("id" = Uuid, Path, description = "Source id")),
    request_body = CreatePassage,
    responses(
        (status = 201, description = "Passage resolved and stored", body = Passage),
        (status = 200, description = "The same span was already a passage; it is returned", body = Passage),
        (status = 400, description = "Body is not JSON or not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such source or version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`quote-not-found` (with `near_match`), `ambiguous-quote` (with `candidates`), `invalid-position`, `position-mismatch` or invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_passage(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(source_id): ApiPath<SourceId>,
    ApiJson(body): ApiJson<CreatePassage>,
) -> Result<impl IntoResponse, Problem> {
    let input = PassageInput {
        quote: body.quote,
        prefix: body.prefix,
        suffix: body.suffix,
        start: body.start,
        end: body.end,
        version: body.version,
    };
    let (passage, outcome) = app.create_passage(&actor, source_id, input).await?;
    let status = match outcome {
        Outcome::Created => StatusCode::CREATED,
        Outcome::Existing => StatusCode::OK,
    };
    Ok((
        status,
        [(header::LOCATION, format!("/v1/passages/{}", passage.id))],
        Json(passage),
    ))
}

#[utoipa::path(get, path = "/v1/passages/{id}", tag = "passages",
    params(("id" = Uuid, Path, description = "Passage id")),
    responses(
        (status = 200, description = "The passage", body = Passage),
        (status = 404, description = "No such passage", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_passage(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<PassageId>,
) -> Result<Json<Passage>, Problem> {
    Ok(Json(app.get_passage(&actor, id).await?))
}

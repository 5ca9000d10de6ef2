//! Passages: exact spans of one version of a source.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::Problem;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::app::{App, Offsets, PassageInput, PlacementDecision};
use crate::domain::ids::{PassageId, SourceId};
use crate::domain::{Outcome, Passage, Placement};

/// How positions in a request count; answers always carry both (`start`/`end` in code points,
/// `start_utf16`/`end_utf16` in UTF-16 code units).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OffsetUnit {
    /// Unicode code points, as the W3C `TextPositionSelector`.
    CodePoints,
    /// UTF-16 code units, as DOM ranges in browsers count.
    Utf16,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PositionUnits {
    /// How `start` and `end` in the body count (default `code_points`).
    #[param(inline)]
    pub offsets: Option<OffsetUnit>,
}

impl PositionUnits {
    fn offsets(&self) -> Offsets {
        match self.offsets {
            Some(OffsetUnit::Utf16) => Offsets::Utf16,
            _ => Offsets::CodePoints,
        }
    }
}

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
    params(("id" = Uuid, Path, description = "Source id"), PositionUnits),
    request_body = CreatePassage,
    responses(
        (status = 201, description = "Passage resolved and stored", body = Passage),
        (status = 200, description = "The same span was already a passage; it is returned", body = Passage),
        (status = 404, description = "No such source or version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`quote-not-found` (with `near_match`), `ambiguous-quote` (with `candidates`), `invalid-position`, `position-mismatch` or invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_passage(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(source_id): ApiPath<SourceId>,
    ApiQuery(units): ApiQuery<PositionUnits>,
    ApiJson(body): ApiJson<CreatePassage>,
) -> Result<impl IntoResponse, Problem> {
    let input = PassageInput {
        quote: body.quote,
        prefix: body.prefix,
        suffix: body.suffix,
        start: body.start,
        end: body.end,
        version: body.version,
        offsets: units.offsets(),
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

#[utoipa::path(get, path = "/v1/passages/{id}/placements", tag = "passages",
    params(("id" = Uuid, Path, description = "Passage id"), crate::http::extract::PageParams),
    responses(
        (status = 200, description = "Where the passage stands in each version after its own, oldest first", body = crate::domain::Page<Placement>),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such passage", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_placements(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<PassageId>,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<
        crate::http::extract::PageParams,
    >,
) -> Result<Json<crate::domain::Page<Placement>>, Problem> {
    let placements = app.passage_placements(&actor, id).await?;
    Ok(Json(crate::app::page_of(
        placements,
        q.order.unwrap_or_default(),
        q.cursor.as_deref(),
        q.limit,
    )?))
}

/// A person's decision on a placement: confirm it as it stands, or place the passage by hand
/// with a quote or positions (resolved as for a new passage).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"confirm": true, "note": "The figure was corrected by the publisher."}))]
pub struct DecidePlacement {
    /// `true` accepts a `changed` or `orphaned` placement as it stands and takes it off the
    /// attention list.
    #[serde(default)]
    pub confirm: bool,
    #[schema(nullable = false, min_length = 1)]
    pub quote: Option<String>,
    #[schema(nullable = false)]
    pub prefix: Option<String>,
    #[schema(nullable = false)]
    pub suffix: Option<String>,
    #[schema(nullable = false, minimum = 0)]
    pub start: Option<i64>,
    #[schema(nullable = false, minimum = 1)]
    pub end: Option<i64>,
    /// Why; kept in the audit trail.
    #[schema(nullable = false, max_length = 16384)]
    pub note: Option<String>,
}

#[utoipa::path(put, path = "/v1/passages/{id}/placements/{number}", tag = "passages",
    params(("id" = Uuid, Path, description = "Passage id"), ("number" = i64, Path, description = "The source's latest version number"), PositionUnits),
    request_body = DecidePlacement,
    responses(
        (status = 200, description = "The placement as decided (`method` is `manual` when placed by hand)", body = Placement),
        (status = 404, description = "No such passage or placement", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not-latest-version`: placements are decided on the latest version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a quote that does not resolve (as for a new passage)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decide_placement(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, version)): ApiPath<(PassageId, i64)>,
    ApiQuery(units): ApiQuery<PositionUnits>,
    ApiJson(body): ApiJson<DecidePlacement>,
) -> Result<Json<Placement>, Problem> {
    let places = body.quote.is_some()
        || body.prefix.is_some()
        || body.suffix.is_some()
        || body.start.is_some()
        || body.end.is_some();
    let decision = PlacementDecision {
        confirm: body.confirm,
        selector: places.then(|| PassageInput {
            quote: body.quote,
            prefix: body.prefix,
            suffix: body.suffix,
            start: body.start,
            end: body.end,
            version: Some(version),
            offsets: units.offsets(),
        }),
        note: body.note,
    };
    Ok(Json(
        app.decide_placement(&actor, id, version, decision).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPassages {
    /// `asc` (oldest first, the default) or `desc` (newest first).
    pub order: Option<crate::domain::Order>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<super::schema::Cursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/sources/{id}/passages", tag = "passages",
    params(("id" = Uuid, Path, description = "Source id"), ListPassages),
    responses(
        (status = 200, description = "A page of the source's passages (on any of its versions), oldest first", body = crate::domain::Page<Passage>),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_source_passages(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(source_id): ApiPath<SourceId>,
    ApiQuery(q): ApiQuery<ListPassages>,
) -> Result<Json<crate::domain::Page<Passage>>, Problem> {
    Ok(Json(
        app.source_passages(
            &actor,
            source_id,
            q.order.unwrap_or_default(),
            q.cursor.as_deref(),
            q.limit,
        )
        .await?,
    ))
}

//! Sources and their versions.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::Problem;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use super::schema::{BodyText, Cursor, ShortText, WebUrl};
use crate::app::{App, SourceInput, SourceQuery, VersionStatistics};
use crate::domain::Outcome;
use crate::domain::ids::SourceId;
use crate::domain::search::SourceItem;
use crate::domain::{Page, RevisionReport, Source, Version, VersionText};

/// A new source with the text of its first version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Sample: Council approves bridge budget",
    "url": "https://example.org/news/bridge-budget",
    "publisher": "Example Gazette",
    "authors": ["A. Reporter"],
    "published_at": "2024-05-01",
    "text": "The council approved the bridge budget on Tuesday. The mayor said it will cost $4 billion."
}))]
pub struct CreateSource {
    /// Non-blank; trimmed.
    #[schema(value_type = ShortText)]
    pub title: String,
    /// Absolute http(s) URL; unique among sources.
    #[schema(value_type = Option<WebUrl>)]
    pub url: Option<String>,
    #[schema(value_type = Option<ShortText>)]
    pub publisher: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<ShortText>)]
    pub authors: Vec<String>,
    /// A date (`2024-05-01`) or an RFC 3339 date-time.
    #[schema(schema_with = published_at_schema)]
    pub published_at: Option<String>,
    /// What it is: a lower-case label such as `news`, `opinion`, `report`, `transcript`.
    #[schema(pattern = "^[a-z][a-z0-9_]{0,31}$", max_length = 32)]
    pub kind: Option<String>,
    /// The text of version 1, stored byte-exact. Must not be blank.
    #[schema(value_type = BodyText)]
    pub text: String,
}

/// Corrections to a source's metadata (JSON Merge Patch: absent fields stay, `null` clears a
/// field; the title cannot be cleared). The text changes only by a new version.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Council approves bridge budget", "publisher": "Riverton Gazette", "kind": "news"}))]
pub struct UpdateSource {
    #[schema(value_type = Option<ShortText>)]
    pub title: Option<String>,
    /// Unique among sources; the lookup finds the source by the new URL (aliases stay).
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(value_type = Option<WebUrl>)]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(value_type = Option<ShortText>)]
    pub publisher: Option<Option<String>>,
    #[schema(value_type = Option<Vec<ShortText>>)]
    pub authors: Option<Vec<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(schema_with = published_at_schema)]
    pub published_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(pattern = "^[a-z][a-z0-9_]{0,31}$", max_length = 32)]
    pub kind: Option<Option<String>>,
}

#[utoipa::path(patch, path = "/v1/sources/{id}",  tag = "sources",
    description = "Corrects a source's metadata: title, URL, publisher, authors, publication date \
        and kind (JSON Merge Patch). The text itself only ever changes by a new version. The audit \
        entry records each changed field's value before and after; a patch that changes nothing \
        writes nothing.",
    params(("id" = Uuid, Path, description = "Source id")),
    request_body(content = UpdateSource, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The source as it is now", body = Source),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another source has this URL (`existing_id`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_source(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SourceId>,
    ApiJson(body): ApiJson<UpdateSource>,
) -> Result<Json<Source>, Problem> {
    let patch = crate::app::SourcePatch {
        title: body.title,
        url: body.url,
        publisher: body.publisher,
        authors: body.authors,
        published_at: body.published_at,
        kind: body.kind,
    };
    Ok(Json(app.update_source(&actor, id, patch).await?))
}

/// A new capture of a source's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "The council approved the bridge budget on Tuesday. The mayor said it will cost $4.2 billion."}))]
pub struct CreateVersion {
    #[schema(value_type = BodyText)]
    pub text: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListSources {
    /// Search: words (all must occur, in the title or the text of the latest version) and
    /// `"phrases in quotes"`, case-insensitive, no stemming, no operators. Items are then
    /// ranked by relevance and carry `match`; a query with no word or an unclosed quote is a
    /// 422 `invalid-search`.
    #[param(value_type = Option<String>, max_length = 1000, example = "\"bridge budget\" mayor")]
    pub q: Option<String>,
    /// Only the source with this URL (normalized like stored URLs).
    #[param(value_type = Option<WebUrl>)]
    pub url: Option<String>,
    /// Only sources of this publisher (exact match).
    #[param(value_type = Option<ShortText>)]
    pub publisher: Option<String>,
    /// `asc` (oldest first, the default) or `desc` (newest first); not with `q`, whose
    /// results are ranked best first.
    pub order: Option<crate::domain::Order>,
    /// `next_cursor` of the previous page. With `q` it is an offset into the ranked results
    /// (at most 5,000 deep; without other filters only the 5,000 newest matches are ranked):
    /// stable while nothing is added, it may repeat or skip an item
    /// when sources are added between pages.
    #[param(value_type = Option<Cursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// `published_at`: a calendar date or an RFC 3339 date-time, or null.
fn published_at_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let string = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    AnyOfBuilder::new()
        .item(string(KnownFormat::Date))
        .item(string(KnownFormat::DateTime))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some("A date (`2024-05-01`) or an RFC 3339 date-time."))
        .build()
        .into()
}

fn location(path: String) -> [(header::HeaderName, String); 1] {
    [(header::LOCATION, path)]
}

#[utoipa::path(post, path = "/v1/sources", tag = "sources",
    request_body = CreateSource,
    responses(
        (status = 201, description = "Source created with version 1", body = Source),
        (status = 409, description = "A source with this URL exists (`existing_id`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_source(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateSource>,
) -> Result<impl IntoResponse, Problem> {
    let source = app
        .create_source(
            &actor,
            SourceInput {
                title_derived: false,
                title: body.title,
                url: body.url,
                publisher: body.publisher,
                authors: body.authors,
                published_at: body.published_at,
                kind: body.kind,
                text: body.text,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        location(format!("/v1/sources/{}", source.id)),
        Json(source),
    ))
}

/// List or search sources
///
/// Without `q`: sources oldest first. With `q`: full-text search over each source's title and
/// the text of its **latest** version (earlier versions are not searched), best first (SQLite:
/// FTS5 `bm25`, title words weighing four times; PostgreSQL: `ts_rank`, title words weight
/// A). Each item then carries `match`: the version searched, `start`/`end` (code points, as
/// passages count them; `start_utf16`/`end_utf16` for DOM ranges) of the first phrase or the
/// shortest span holding every word, `exact` (the text between them, so
/// `POST /v1/sources/{id}/passages` with `{"start", "end"}` makes it a passage), and `snippet`:
/// that span in context, HTML-escaped, with the query's words in `<mark>…</mark>`. Without
/// `publisher`/`url`, only the 5,000 newest matches are ranked (bounded cost for words most
/// texts hold).
#[utoipa::path(get, path = "/v1/sources", tag = "sources",
    params(ListSources),
    responses(
        (status = 200, description = "A page of sources: oldest first, or with `q` best first with `match`", body = Page<SourceItem>),
        (status = 400, description = "Bad cursor, limit or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`url` is not a web address, or `q` is not a valid query (`invalid-search`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_sources(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListSources>,
) -> Result<Json<Page<SourceItem>>, Problem> {
    let filter = SourceQuery {
        url: q.url,
        publisher: q.publisher,
        q: q.q,
        order: q.order.unwrap_or_default(),
    };
    Ok(Json(
        app.list_sources(&actor, filter, q.cursor.as_deref(), q.limit)
            .await?,
    ))
}

#[utoipa::path(get, path = "/v1/sources/{id}", tag = "sources",
    params(("id" = Uuid, Path, description = "Source id")),
    responses(
        (status = 200, description = "The source with its latest version", body = Source),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_source(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SourceId>,
) -> Result<Json<Source>, Problem> {
    Ok(Json(app.get_source(&actor, id).await?))
}

#[utoipa::path(post, path = "/v1/sources/{id}/versions", tag = "sources",
    params(("id" = Uuid, Path, description = "Source id")),
    request_body = CreateVersion,
    responses(
        (status = 201, description = "New version stored", body = Version),
        (status = 200, description = "A version with this exact text already exists; it is returned", body = Version),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_version(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SourceId>,
    ApiJson(body): ApiJson<CreateVersion>,
) -> Result<impl IntoResponse, Problem> {
    let (version, outcome) = app.add_version(&actor, id, &body.text).await?;
    let status = match outcome {
        Outcome::Created => StatusCode::CREATED,
        Outcome::Existing => StatusCode::OK,
    };
    Ok((
        status,
        location(format!("/v1/sources/{id}/versions/{}", version.number)),
        Json(version),
    ))
}

#[utoipa::path(get, path = "/v1/sources/{id}/versions", tag = "sources",
    params(("id" = Uuid, Path, description = "Source id"), crate::http::extract::PageParams),
    responses(
        (status = 200, description = "Versions, oldest first, without text", body = crate::domain::Page<Version>),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_versions(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<SourceId>,
    ApiQuery(q): ApiQuery<crate::http::extract::PageParams>,
) -> Result<Json<crate::domain::Page<Version>>, Problem> {
    let versions = app.list_versions(&actor, id).await?;
    Ok(Json(crate::app::page_of(
        versions,
        q.order.unwrap_or_default(),
        q.cursor.as_deref(),
        q.limit,
    )?))
}

#[utoipa::path(get, path = "/v1/sources/{id}/versions/{number}", tag = "sources",
    params(("id" = Uuid, Path, description = "Source id"), ("number" = i64, Path, description = "Version number, from 1")),
    responses(
        (status = 200, description = "The version with its text", body = VersionText),
        (status = 404, description = "No such source or version", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_version(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, number)): ApiPath<(SourceId, i64)>,
) -> Result<Json<VersionText>, Problem> {
    Ok(Json(app.get_version(&actor, id, number).await?))
}

#[utoipa::path(get, path = "/v1/sources/{id}/versions/{number}/placements", tag = "sources",
    params(("id" = Uuid, Path, description = "Source id"), ("number" = i64, Path, description = "Version number, from 1")),
    responses(
        (status = 200, description = "How the passages of the version before were placed on this one, with counts per state", body = RevisionReport),
        (status = 404, description = "No such source or version", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revision_report(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, number)): ApiPath<(SourceId, i64)>,
) -> Result<Json<RevisionReport>, Problem> {
    Ok(Json(app.revision_report(&actor, id, number).await?))
}

#[utoipa::path(get, path = "/v1/sources/{id}/versions/{number}/statistics", tag = "sources",
    params(("id" = Uuid, Path, description = "Source id"), ("number" = i64, Path, description = "Version number, from 1")),
    responses(
        (status = 200, description = "The version's numeric mentions, in text order", body = VersionStatistics),
        (status = 404, description = "No such source or version", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn version_statistics(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, number)): ApiPath<(SourceId, i64)>,
) -> Result<Json<VersionStatistics>, Problem> {
    Ok(Json(app.version_statistics(&actor, id, number).await?))
}

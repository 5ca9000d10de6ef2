//! Reviews (verdicts) and their workflow, with optimistic concurrency through ETags.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{Kind, Problem};
use super::extract::{ApiJson, ApiPath, Auth};
use super::schema::{ShortText, Slug};
use crate::app::{App, ReviewInput, ReviewPatch};
use crate::domain::ids::{ClaimId, EvidenceId, ReviewId};
use crate::domain::public::{EvidenceView, ReviewView};
use crate::domain::review::{self, Rating, RatingScale, Review};

/// A new draft review of a claim.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rating": "mostly_false", "summary": "Construction is estimated at $2.1 billion; $4 billion includes 30 years of maintenance.", "evidence": []}))]
pub struct CreateReview {
    /// Rating scale id; default `default`.
    #[schema(value_type = Option<Slug>)]
    pub scale: Option<String>,
    /// A rating key of the scale.
    #[schema(value_type = Slug)]
    pub rating: String,
    /// Why: the reasoning behind the rating. Not blank; stored trimmed; at most 16,384
    /// characters.
    #[schema(
        min_length = 1,
        max_length = 16384,
        pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    )]
    pub summary: String,
    /// Ids of the claim's evidence that the review rests on, each at most once.
    #[serde(default)]
    pub evidence: Vec<EvidenceId>,
    /// For a correction: the published review it corrects.
    pub corrects: Option<ReviewId>,
}

/// Changes to a draft (or a review sent back); absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rating": "false", "revision": 1}))]
pub struct EditReview {
    /// Rating scale id.
    #[schema(value_type = Option<Slug>)]
    pub scale: Option<String>,
    /// A rating key of the scale.
    #[schema(value_type = Option<Slug>)]
    pub rating: Option<String>,
    /// Not blank; stored trimmed; at most 16,384 characters.
    #[schema(
        min_length = 1,
        max_length = 16384,
        pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    )]
    pub summary: Option<String>,
    /// Ids of the claim's evidence, each at most once.
    pub evidence: Option<Vec<EvidenceId>>,
    /// The revision you saw, if not sent as `If-Match` (the same one if both are sent).
    #[schema(minimum = 1)]
    pub revision: Option<i64>,
}

/// A workflow step.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "approved", "note": "Sources check out.", "revision": 2}))]
pub struct Transition {
    pub to: review::State,
    /// Why; required (and not blank) to retract or to request changes. Stored trimmed; at
    /// most 16,384 characters, no NUL.
    #[schema(max_length = 16384)]
    pub note: Option<String>,
    /// The revision you saw, if not sent as `If-Match` (the same one if both are sent).
    #[schema(minimum = 1)]
    pub revision: Option<i64>,
    /// With `to: published`: the newsroom page that publishes the verdict (ClaimReview `url`).
    #[schema(value_type = Option<super::schema::WebUrl>)]
    pub published_url: Option<String>,
}

/// A new rating scale.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"id": "pants", "name": "Truth-o-meter style", "ratings": [
    {"key": "true", "label": "True", "value": 3}, {"key": "half", "label": "Half true", "value": 2},
    {"key": "false", "label": "False", "value": 1}, {"key": "satire", "label": "Satire", "value": null}]}))]
pub struct CreateScale {
    #[schema(value_type = Slug)]
    pub id: String,
    #[schema(value_type = ShortText)]
    pub name: String,
    /// In display order; keys unique within the scale; at least two with a numeric `value`.
    pub ratings: Vec<Rating>,
}

pub(super) fn etag(revision: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\"")).expect("digits and quotes")
}

pub(super) fn with_etag(status: StatusCode, review: Review) -> Response {
    let tag = etag(review.revision);
    let mut response = (status, Json(review)).into_response();
    response.headers_mut().insert(header::ETAG, tag);
    response
}

/// The revision a write is based on: `If-Match` (an ETag from GET) or the body's `revision`.
pub(super) fn revision(headers: &HeaderMap, body: Option<i64>) -> Result<Option<i64>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(body);
    };
    let bad = |why: &str| {
        Problem::new(
            Kind::InvalidHeader,
            format!("If-Match {why}; send the ETag that GET returned, like \"3\"."),
        )
    };
    let text = value.to_str().map_err(|_| bad("is not ASCII"))?.trim();
    // RFC 9110 §13.1.1: If-Match compares strongly, and a weak tag never matches.
    if let Some(strong) = text.strip_prefix("W/") {
        return Err(Problem::new(
            Kind::PreconditionFailed,
            format!(
                "If-Match is the weak ETag {text}, and If-Match never matches a weak one \
                 (RFC 9110, section 13.1.1); send the ETag as GET returned it, {strong}."
            ),
        ));
    }
    let number = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| bad(&format!("is {text:?}, not one ETag")))?;
    match body {
        Some(b) if b != number => Err(Problem::new(
            Kind::ValidationFailed,
            format!("If-Match says revision {number} but the body says {b}; send one."),
        )),
        _ => Ok(Some(number)),
    }
}

#[utoipa::path(post, path = "/v1/claims/{id}/reviews", tag = "reviews",
    params(("id" = Uuid, Path, description = "Claim id")),
    request_body = CreateReview,
    responses(
        (status = 201, description = "Draft review created", body = Review, headers(("ETag" = String, description = "The revision, for If-Match"))),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields: rating not in the scale, evidence not of this claim, `corrects` not the published verdict", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_review(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(claim_id): ApiPath<ClaimId>,
    ApiJson(body): ApiJson<CreateReview>,
) -> Result<Response, Problem> {
    let input = ReviewInput {
        scale: body.scale,
        rating: body.rating,
        summary: body.summary,
        evidence: body.evidence,
        corrects: body.corrects,
    };
    let review = app.create_review(&actor, claim_id, input).await?;
    let location = HeaderValue::from_str(&format!("/v1/reviews/{}", review.id)).expect("ASCII");
    let mut response = with_etag(StatusCode::CREATED, review);
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

#[utoipa::path(get, path = "/v1/reviews/{id}", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id")),
    responses(
        (status = 200, description = "Editorial roles: the review with its history (`Review`, with an ETag). \
Integrations: the published verdict's public fields (`PublicReview`, no ETag).", body = ReviewView, headers(("ETag" = String, description = "The revision, for If-Match (editorial roles)"))),
        (status = 404, description = "No such review (or, for integrations, not published)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_review(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ReviewId>,
) -> Result<Response, Problem> {
    Ok(match app.review_view(&actor, id).await? {
        ReviewView::Review(review) => with_etag(StatusCode::OK, review),
        public => Json(public).into_response(),
    })
}

#[utoipa::path(get, path = "/v1/reviews/{id}/evidence", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id")),
    responses(
        (status = 200, description = "The evidence the review rests on, each with its passage and source: \
`Evidence` for editorial roles, `PublicEvidence` (without the desk's notes) for integrations", body = EvidenceView),
        (status = 404, description = "No such review (or, for integrations, not published)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn review_evidence(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ReviewId>,
) -> Result<Json<EvidenceView>, Problem> {
    Ok(Json(app.review_evidence(&actor, id).await?))
}

#[utoipa::path(patch, path = "/v1/reviews/{id}", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id"), ("If-Match" = Option<String>, Header, description = "ETag from GET (or the `revision` field; the same revision if both are sent)", pattern = "^\"[0-9]+\"$")),
    request_body = EditReview,
    responses(
        (status = 200, description = "The edited review", body = Review, headers(("ETag" = String, description = "The new revision"))),
        (status = 400, description = "Malformed body or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition-failed`: If-Match holds a weak ETag, which never matches", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`stale-revision` (with `current`) or `not-editable`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No revision given", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn edit_review(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ReviewId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<EditReview>,
) -> Result<Response, Problem> {
    let revision = revision(&headers, body.revision)?;
    let patch = ReviewPatch {
        scale: body.scale,
        rating: body.rating,
        summary: body.summary,
        evidence: body.evidence,
    };
    Ok(with_etag(
        StatusCode::OK,
        app.edit_review(&actor, id, revision, patch).await?,
    ))
}

#[utoipa::path(post, path = "/v1/reviews/{id}/transitions", tag = "reviews",
    params(("id" = Uuid, Path, description = "Review id"), ("If-Match" = Option<String>, Header, description = "ETag from GET (or the `revision` field; the same revision if both are sent)", pattern = "^\"[0-9]+\"$")),
    request_body = Transition,
    responses(
        (status = 200, description = "The review in its new state, with `warnings` (a verdict published without `published_url` carries `published-url-missing` until `PUT /v1/reviews/{id}/published-url` sets it)", body = Review, headers(("ETag" = String, description = "The new revision"))),
        (status = 400, description = "Malformed body or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition-failed`: If-Match holds a weak ETag, which never matches", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden` for the role, or `second-person-required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid-transition` (with `allowed`), `stale-revision` (with `current`) or `verdict-exists`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown state, or a note is missing", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No revision given", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn transition(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ReviewId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Transition>,
) -> Result<Response, Problem> {
    let revision = revision(&headers, body.revision)?;
    let review = app
        .transition_review(
            &actor,
            id,
            body.to,
            body.note.as_deref(),
            revision,
            body.published_url.as_deref(),
        )
        .await?;
    Ok(with_etag(StatusCode::OK, review))
}

#[utoipa::path(get, path = "/v1/rating-scales", tag = "reviews",
    params(crate::http::extract::PageParams),
    responses(
        (status = 200, description = "Rating scales, oldest first", body = crate::domain::Page<RatingScale>),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_scales(
    State(app): State<App>,
    Auth(actor): Auth,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<
        crate::http::extract::PageParams,
    >,
) -> Result<Json<crate::domain::Page<RatingScale>>, Problem> {
    let scales = app.list_scales(&actor).await?;
    Ok(Json(crate::app::page_of(
        scales,
        q.order.unwrap_or_default(),
        q.cursor.as_deref(),
        q.limit,
    )?))
}

#[utoipa::path(post, path = "/v1/rating-scales", tag = "reviews",
    request_body = CreateScale,
    responses(
        (status = 201, description = "Scale created", body = RatingScale),
        (status = 409, description = "A scale with this id exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_scale(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateScale>,
) -> Result<impl IntoResponse, Problem> {
    let scale = app
        .create_scale(&actor, &body.id, &body.name, body.ratings)
        .await?;
    Ok((StatusCode::CREATED, Json(scale)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListReviews {
    /// Only reviews in these states (`in_review` is the queue of a second reader): one,
    /// several separated by commas (`state=draft,in_review`), or the parameter repeated.
    #[param(value_type = Option<Vec<review::State>>, style = Form, explode = true)]
    #[serde(default, deserialize_with = "crate::http::extract::review_states")]
    pub state: Vec<review::State>,
    /// Only reviews by this author (a person's handle).
    #[param(max_length = 1024)]
    pub author: Option<String>,
    /// Only reviews of this claim.
    pub claim_id: Option<ClaimId>,
    /// Only reviews changed at or after this time: an RFC 3339 date-time, or a date
    /// (`2026-11-27`, from midnight UTC).
    #[param(value_type = Option<String>, example = "2026-11-27")]
    pub updated_since: Option<String>,
    /// `asc` (oldest first, the default) or `desc` (newest first).
    pub order: Option<crate::domain::Order>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<super::schema::Cursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/reviews", tag = "reviews",
    params(ListReviews),
    responses(
        (status = 200, description = "The review queue: a page of reviews (without their history), oldest first, each with its claim's `claim_text` and `claimant`", body = crate::domain::Page<review::QueueItem>),
        (status = 400, description = "Bad cursor, limit, state or time", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_reviews(
    State(app): State<App>,
    Auth(actor): Auth,
    crate::http::extract::ListQuery(q): crate::http::extract::ListQuery<ListReviews>,
) -> Result<Json<crate::domain::Page<review::QueueItem>>, Problem> {
    let updated_since = match q.updated_since.as_deref() {
        None => None,
        Some(t) => Some(
            crate::domain::validate::instant(t)
                .map_err(|m| Problem::new(Kind::InvalidQuery, format!("`updated_since` {m}.")))?,
        ),
    };
    let filter = crate::app::ReviewFilter {
        states: q.state,
        author: q.author,
        claim_id: q.claim_id,
        updated_since,
    };
    Ok(Json(
        app.list_reviews(
            &actor,
            filter,
            q.order.unwrap_or_default(),
            q.cursor.as_deref(),
            q.limit,
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/v1/claims/{id}/reviews", tag = "reviews",
    params(("id" = Uuid, Path, description = "Claim id")),
    responses(
        (status = 200, description = "Every review of the claim, oldest first, with its history (one page)", body = crate::domain::Page<Review>),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_claim_reviews(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(claim_id): ApiPath<ClaimId>,
) -> Result<Json<crate::domain::Page<Review>>, Problem> {
    Ok(Json(app.claim_reviews(&actor, claim_id).await?))
}

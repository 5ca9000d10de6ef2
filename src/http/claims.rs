//! Claims and the evidence about them.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::error::Problem;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use super::schema::{BodyText, Cursor, ShortText};
use crate::app::{App, SimilarClaims};
use crate::domain::ids::{ClaimId, EvidenceId, PassageId};
use crate::domain::{ClaimItem, ClaimView, ClaimantKind, Evidence, Page, Stance};

/// A checkable statement and the passages it appeared in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "The bridge will cost $4 billion.", "claimant": "The mayor", "claimant_kind": "person", "appearances": ["0190a4c2-6f1e-7cc2-9f3e-2b1d4c5e6f70"]}))]
pub struct CreateClaim {
    /// Stored trimmed.
    #[schema(value_type = BodyText)]
    pub text: String,
    #[schema(value_type = Option<ShortText>)]
    pub claimant: Option<String>,
    /// Whether the claimant is a person or an organization (ClaimReview types the claim's
    /// author with it); `person` when absent.
    #[serde(default)]
    pub claimant_kind: Option<ClaimantKind>,
    /// Passage ids, each at most once.
    #[serde(default)]
    pub appearances: Vec<PassageId>,
}

/// A passage offered as evidence about a claim.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"passage_id": "0190a4c2-6f1e-7cc2-9f3e-2b1d4c5e6f70", "stance": "contradicts", "note": "The budget document gives $2.1 billion."}))]
pub struct CreateEvidence {
    pub passage_id: PassageId,
    pub stance: Stance,
    #[schema(value_type = Option<ShortText>)]
    pub note: Option<String>,
}

/// Corrections to a claim (JSON Merge Patch: absent fields stay, `"claimant": null` removes it,
/// `"claimant_kind": null` sets the default, `person`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "The bridge will cost $4.2 billion.", "claimant": "City of Example", "claimant_kind": "organization"}))]
pub struct UpdateClaim {
    #[schema(value_type = Option<BodyText>)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(value_type = Option<ShortText>)]
    pub claimant: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(value_type = Option<ClaimantKind>)]
    pub claimant_kind: Option<Option<ClaimantKind>>,
}

/// Another passage a claim appeared in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddAppearance {
    pub passage_id: PassageId,
}

/// Why evidence is withdrawn.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "The report was retracted by its publisher."}))]
pub struct WithdrawEvidence {
    /// Why; at most 16,384 characters, not blank.
    #[schema(min_length = 1, max_length = 16384)]
    pub note: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListClaims {
    /// Search: words (all must occur in the claim's text) and `"phrases in quotes"`,
    /// case-insensitive, no stemming, no operators. Items are then ranked by relevance and
    /// carry `match`; a query with no word or an unclosed quote is a 422 `invalid-search`.
    #[param(value_type = Option<String>, max_length = 1000, example = "\"4 billion\" bridge")]
    pub q: Option<String>,
    /// Only claims with an appearance or evidence that a new version of its source changed
    /// or lost, not yet confirmed by a person (see `attention` in the claim).
    pub attention: Option<bool>,
    /// Only claims that appear in, or cite, this source.
    pub source_id: Option<crate::domain::ids::SourceId>,
    /// Only claims with (`true`) or without (`false`) a published verdict.
    pub has_verdict: Option<bool>,
    /// Only claims whose current review is in one of these states: one, several separated by
    /// commas (`state=draft,in_review`), or the parameter repeated.
    #[param(value_type = Option<Vec<crate::domain::review::State>>, style = Form, explode = true)]
    #[serde(default, deserialize_with = "crate::http::extract::review_states")]
    pub state: Vec<crate::domain::review::State>,
    /// `asc` (oldest first, the default) or `desc` (newest first); not with `q`, whose
    /// results are ranked best first.
    pub order: Option<crate::domain::Order>,
    /// `next_cursor` of the previous page. With `q` it is an offset into the ranked results
    /// (at most 5,000 deep; without other filters only the 5,000 newest matches are ranked):
    /// stable while nothing is added, it may repeat or skip an item
    /// when claims are added between pages.
    #[param(value_type = Option<Cursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// The text to compare with (a claim as heard or read), up to 2,048 characters.
    #[param(value_type = String, min_length = 1, max_length = 2048, example = "The bridge will cost $4 billion")]
    pub text: String,
    /// How many claims, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

#[utoipa::path(post, path = "/v1/claims", tag = "claims",
    request_body = CreateClaim,
    responses(
        (status = 201, description = "Claim created", body = ClaimView),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `unknown-passage`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_claim(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateClaim>,
) -> Result<impl IntoResponse, Problem> {
    let claim = app
        .create_claim_by(
            &actor,
            &body.text,
            body.claimant.as_deref(),
            body.claimant_kind.unwrap_or_default(),
            &body.appearances,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/claims/{}", claim.claim.id))],
        Json(claim),
    ))
}

/// List or search claims
///
/// Without `q`: claims oldest first. With `q`: full-text search over the claims' text, best
/// first (SQLite: FTS5 `bm25`; PostgreSQL: `ts_rank`), each item with `match`: `start`/`end`
/// in code points of the claim's text (`start_utf16`/`end_utf16` too), `exact` and a `snippet`
/// (HTML-escaped, the query's words in `<mark>…</mark>`). The filters apply either way;
/// without them only the 5,000 newest matches are ranked.
#[utoipa::path(get, path = "/v1/claims", tag = "claims",
    params(ListClaims),
    responses(
        (status = 200, description = "A page of claims, oldest first (with `q`: best first, with `match`), each with its current review's state and rating", body = Page<ClaimItem>),
        (status = 400, description = "Bad cursor, limit or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`q` is not a valid query (`invalid-search`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_claims(
    State(app): State<App>,
    Auth(actor): Auth,
    crate::http::extract::ListQuery(q): crate::http::extract::ListQuery<ListClaims>,
) -> Result<Json<Page<ClaimItem>>, Problem> {
    let filter = crate::app::ClaimFilter {
        attention: q.attention.unwrap_or(false),
        source_id: q.source_id,
        has_verdict: q.has_verdict,
        states: q.state,
    };
    Ok(Json(
        app.list_claims(
            &actor,
            filter,
            q.q.as_deref(),
            q.order.unwrap_or_default(),
            q.cursor.as_deref(),
            q.limit,
        )
        .await?,
    ))
}

/// Has this been checked already?
///
/// Existing claims most like a text. Candidates are the claims sharing any of its words (the
/// 200 best by full-text rank), re-scored by word overlap: `score` is the cosine of the two
/// sets of distinct words (lowercased, no stemming), from 0 to 1. Figures are never matched
/// fuzzily: the figures of text and claim are read as the statistics trace reads them (value,
/// range, unit; "$4bn" = "4 billion dollars") and a claim whose figures differ from the
/// text's ("$5 billion" for "$4 billion", or a figure on one side only) has
/// `figures_differ: true` with both sets, and comes after every claim whose figures agree,
/// whatever its score. Each item carries the claim's current review, as in the list.
#[utoipa::path(get, path = "/v1/claims/similar", tag = "claims",
    params(SimilarQuery),
    responses(
        (status = 200, description = "The most similar claims, best first", body = SimilarClaims),
        (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`text` holds no word (`invalid-search`), is too long, or `limit` is out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn similar_claims(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<SimilarQuery>,
) -> Result<Json<SimilarClaims>, Problem> {
    Ok(Json(app.similar_claims(&actor, &q.text, q.limit).await?))
}

#[utoipa::path(get, path = "/v1/claims/{id}", tag = "claims",
    params(("id" = Uuid, Path, description = "Claim id")),
    responses(
        (status = 200, description = "The claim with its appearances and evidence", body = ClaimView),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_claim(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ClaimId>,
) -> Result<Json<ClaimView>, Problem> {
    Ok(Json(app.get_claim(&actor, id).await?))
}

#[utoipa::path(post, path = "/v1/claims/{id}/evidence", tag = "claims",
    params(("id" = Uuid, Path, description = "Claim id")),
    request_body = CreateEvidence,
    responses(
        (status = 201, description = "Evidence added", body = Evidence),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The passage is already evidence for this claim (`existing_id`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (e.g. unknown stance), or `unknown-passage`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_evidence(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ClaimId>,
    ApiJson(body): ApiJson<CreateEvidence>,
) -> Result<impl IntoResponse, Problem> {
    let evidence = app
        .add_evidence(
            &actor,
            id,
            body.passage_id,
            body.stance,
            body.note.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/v1/claims/{id}/evidence/{}", evidence.id),
        )],
        Json(evidence),
    ))
}

#[utoipa::path(patch, path = "/v1/claims/{id}", tag = "claims",
    description = "Changes the claim's text, claimant or claimant kind (JSON Merge Patch: absent \
        fields stay as they are, `\"claimant\": null` removes it, `\"claimant_kind\": null` sets \
        the default, `person`). The audit entry records each changed \
        field's value before and after; a patch that changes nothing writes nothing. A published \
        ClaimReview shows the current text.",
    params(("id" = Uuid, Path, description = "Claim id")),
    request_body(content = UpdateClaim, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The claim as it is now", body = ClaimView),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_claim(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ClaimId>,
    ApiJson(body): ApiJson<UpdateClaim>,
) -> Result<Json<ClaimView>, Problem> {
    let patch = crate::app::ClaimPatch {
        text: body.text,
        claimant: body.claimant,
        claimant_kind: body.claimant_kind,
    };
    Ok(Json(app.update_claim(&actor, id, patch).await?))
}

#[utoipa::path(post, path = "/v1/claims/{id}/appearances", tag = "claims",
    description = "Adds a passage the claim appeared in, after its others. A passage that is \
        one already changes nothing (200).",
    params(("id" = Uuid, Path, description = "Claim id")),
    request_body = AddAppearance,
    responses(
        (status = 201, description = "Appearance added; the claim as it is now", body = ClaimView),
        (status = 200, description = "The passage was an appearance already", body = ClaimView),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `unknown-passage`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_appearance(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ClaimId>,
    ApiJson(body): ApiJson<AddAppearance>,
) -> Result<impl IntoResponse, Problem> {
    let (claim, outcome) = app.add_appearance(&actor, id, body.passage_id).await?;
    let status = match outcome {
        crate::domain::Outcome::Created => StatusCode::CREATED,
        crate::domain::Outcome::Existing => StatusCode::OK,
    };
    Ok((status, Json(claim)))
}

#[utoipa::path(get, path = "/v1/claims/{id}/evidence/{evidence_id}", tag = "claims",
    params(("id" = Uuid, Path, description = "Claim id"), ("evidence_id" = Uuid, Path, description = "Evidence id")),
    responses(
        (status = 200, description = "The evidence with its passage and source", body = Evidence),
        (status = 404, description = "No such evidence for this claim", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_evidence(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, evidence_id)): ApiPath<(ClaimId, EvidenceId)>,
) -> Result<Json<Evidence>, Problem> {
    Ok(Json(app.get_evidence(&actor, id, evidence_id).await?))
}

#[utoipa::path(post, path = "/v1/claims/{id}/evidence/{evidence_id}/withdraw", tag = "claims",
    description = "Marks the evidence withdrawn, with a note: it is kept and shown as withdrawn \
        (reviews that rest on it still name it), never deleted, and new reviews may not rest on \
        it. Withdrawing it again changes nothing.",
    params(("id" = Uuid, Path, description = "Claim id"), ("evidence_id" = Uuid, Path, description = "Evidence id")),
    request_body = WithdrawEvidence,
    responses(
        (status = 200, description = "The evidence, withdrawn", body = Evidence),
        (status = 404, description = "No such evidence for this claim", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No note, or an invalid one", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn withdraw_evidence(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, evidence_id)): ApiPath<(ClaimId, EvidenceId)>,
    ApiJson(body): ApiJson<WithdrawEvidence>,
) -> Result<Json<Evidence>, Problem> {
    Ok(Json(
        app.withdraw_evidence(&actor, id, evidence_id, &body.note)
            .await?,
    ))
}

//! API keys and the audit trail.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::Problem;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use super::schema::{AuditCursor, Checkpoint, ShortText};
use crate::app::{App, AuditQuery, AuditReport, CheckpointQuery};
use crate::domain::Page;
use crate::domain::access::{ApiKey, Role};
use crate::domain::audit::Entry;
use crate::domain::ids::KeyId;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "desk-editor-ana", "role": "editor"}))]
pub struct CreateKey {
    /// Recorded as the actor of every write made with the key.
    #[schema(value_type = ShortText)]
    pub name: String,
    pub role: Role,
}

/// A new key. `token` is shown only in this answer; store it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub token: String,
}

#[utoipa::path(post, path = "/v1/keys", tag = "admin",
    request_body = CreateKey,
    responses(
        (status = 201, description = "Key created; the token is shown once", body = CreatedKey),
        (status = 400, description = "Body is not JSON or not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (e.g. unknown role)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_key(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<impl IntoResponse, Problem> {
    let (key, token) = app.create_key(&actor, &body.name, body.role).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/keys/{}", key.id))],
        Json(CreatedKey { key, token }),
    ))
}

#[utoipa::path(get, path = "/v1/keys", tag = "admin",
    responses((status = 200, description = "Every key, without secrets", body = Vec<ApiKey>)))]
pub async fn list_keys(
    State(app): State<App>,
    Auth(actor): Auth,
) -> Result<Json<Vec<ApiKey>>, Problem> {
    Ok(Json(app.list_keys(&actor).await?))
}

#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "admin",
    params(("id" = Uuid, Path, description = "Key id")),
    responses(
        (status = 200, description = "The key, now revoked (revoking twice changes nothing)", body = ApiKey),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`own-key`: the key is the one making this request; revoke it with another admin key", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_key(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<KeyId>,
) -> Result<Json<ApiKey>, Problem> {
    Ok(Json(app.revoke_key(&actor, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAudit {
    /// `source`, `passage`, `claim`, `evidence`, `api_key`, ...
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// A key name.
    pub actor: Option<String>,
    /// RFC 3339; entries at or after.
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<String>,
    /// RFC 3339; entries before.
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<AuditCursor>)]
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/audit", tag = "audit",
    params(ListAudit),
    responses(
        (status = 200, description = "Audit entries, oldest first", body = Page<Entry>),
        (status = 400, description = "Bad cursor, limit or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`since`/`until` are not RFC 3339", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_audit(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ListAudit>,
) -> Result<Json<Page<Entry>>, Problem> {
    let query = AuditQuery {
        entity: q.entity,
        entity_id: q.entity_id,
        actor: q.actor,
        since: q.since,
        until: q.until,
    };
    Ok(Json(
        app.list_audit(&actor, query, q.cursor.as_deref(), q.limit)
            .await?,
    ))
}

/// A checkpoint published earlier: a verify report's `length` and `head`. A cut-off tail, or
/// a history rewritten and chained anew, still verifies on its own; against a checkpoint kept
/// elsewhere it does not.
/// In the document as one optional object parameter whose two members are both required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyAudit {
    /// The checkpoint's entry (`length` of the earlier report).
    pub checkpoint_seq: Option<i64>,
    /// That entry's hash (`head` of the earlier report), lowercase hex.
    pub checkpoint_hash: Option<String>,
}

#[utoipa::path(get, path = "/v1/audit/verify", tag = "audit",
    params(("checkpoint" = Option<Checkpoint>, Query, style = Form, explode,
        description = "A checkpoint published earlier, sent as `checkpoint_seq=…&checkpoint_hash=…`: both or neither")),
    responses(
        (status = 200, description = "The chain's length and head hash, or its first break (including a checkpoint it no longer holds)", body = AuditReport),
        (status = 400, description = "Unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Half a checkpoint, or a malformed one", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_audit(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<VerifyAudit>,
) -> Result<Json<AuditReport>, Problem> {
    let checkpoint = CheckpointQuery {
        seq: q.checkpoint_seq,
        hash: q.checkpoint_hash,
    };
    Ok(Json(app.verify_audit(&actor, checkpoint).await?))
}

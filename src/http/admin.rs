//! API keys and the audit trail.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::Problem;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth, PageParams};
use super::schema::{AuditCursor, Checkpoint, ShortText};
use crate::app::{App, AuditQuery, AuditReport, CheckpointQuery, page_of};
use crate::domain::Page;
use crate::domain::access::{ApiKey, Person, Role};
use crate::domain::audit::Entry;
use crate::domain::ids::KeyId;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person": "ana", "role": "editor", "name": "ana-laptop"}))]
pub struct CreateKey {
    /// Handle of the person the key belongs to (see `POST /v1/people`). Every write made with
    /// the key records this person, and the key's id, as its actor.
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{0,63}$", max_length = 64)]
    pub person: String,
    pub role: Role,
    /// A label for the key (default: the handle and the role). Not unique.
    #[schema(value_type = Option<ShortText>)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"handle": "ana", "display_name": "Ana Souza"}))]
pub struct CreatePerson {
    /// Unique, never changed: lower-case letters a-z, digits, `.`, `_` and `-`, starting with
    /// a letter or digit. `cli`, `demo`, `migration`, `system` and `test` are reserved.
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{0,63}$", max_length = 64)]
    pub handle: String,
    #[schema(value_type = ShortText)]
    pub display_name: String,
}

#[utoipa::path(post, path = "/v1/people", tag = "admin",
    description = "Adds a person, the human behind one or more API keys: the workflow's \
        second-person rule compares people, and the audit trail and every `author`/`actor` \
        field record their handle.",
    request_body = CreatePerson,
    responses(
        (status = 201, description = "Person added", body = Person),
        (status = 400, description = "Body is not JSON or not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`person-exists`: the handle is taken", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid handle or display name", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_person(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreatePerson>,
) -> Result<impl IntoResponse, Problem> {
    let person = app
        .create_person(&actor, &body.handle, &body.display_name)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/people/{}", person.handle))],
        Json(person),
    ))
}

#[utoipa::path(get, path = "/v1/people", tag = "admin",
    description = "People in the order they were added.",
    params(PageParams),
    responses(
        (status = 200, description = "A page of people", body = Page<Person>),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_people(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<PageParams>,
) -> Result<Json<Page<Person>>, Problem> {
    Ok(Json(
        app.list_people(
            &actor,
            q.order.unwrap_or_default(),
            q.cursor.as_deref(),
            q.limit,
        )
        .await?,
    ))
}

#[utoipa::path(get, path = "/v1/people/{handle}", tag = "admin",
    params(("handle" = String, Path, description = "The person's handle")),
    responses(
        (status = 200, description = "The person", body = Person),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_person(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(handle): ApiPath<String>,
) -> Result<Json<Person>, Problem> {
    Ok(Json(app.get_person(&actor, &handle).await?))
}

#[utoipa::path(get, path = "/v1/people/{handle}/keys", tag = "admin",
    description = "Without secrets.",
    params(("handle" = String, Path, description = "The person's handle"), PageParams),
    responses(
        (status = 200, description = "The person's keys, revoked ones included, oldest first", body = Page<ApiKey>),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn person_keys(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(handle): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> Result<Json<Page<ApiKey>>, Problem> {
    let keys = app.person_keys(&actor, &handle).await?;
    Ok(Json(page_of(
        keys,
        q.order.unwrap_or_default(),
        q.cursor.as_deref(),
        q.limit,
    )?))
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
        (status = 422, description = "Invalid fields (e.g. unknown role, or no person with that handle)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_key(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<impl IntoResponse, Problem> {
    let name = body
        .name
        .unwrap_or_else(|| format!("{}-{}", body.person, body.role.as_str()));
    let (key, token) = app
        .create_key(&actor, &name, body.role, &body.person)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/keys/{}", key.id))],
        Json(CreatedKey { key, token }),
    ))
}

#[utoipa::path(get, path = "/v1/keys", tag = "admin",
    params(PageParams),
    responses(
        (status = 200, description = "Keys, oldest first, without secrets", body = Page<ApiKey>),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_keys(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<PageParams>,
) -> Result<Json<Page<ApiKey>>, Problem> {
    let keys = app.list_keys(&actor).await?;
    Ok(Json(page_of(
        keys,
        q.order.unwrap_or_default(),
        q.cursor.as_deref(),
        q.limit,
    )?))
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
    /// A person's handle (or, for entries written before people existed, a key name).
    pub actor: Option<String>,
    /// Entries at or after: an RFC 3339 date-time, or a date (`2026-11-27`, from midnight UTC).
    #[param(value_type = Option<String>, example = "2026-11-27")]
    pub since: Option<String>,
    /// Entries before: an RFC 3339 date-time, or a date (from midnight UTC).
    #[param(value_type = Option<String>, example = "2026-11-28T00:00:00Z")]
    pub until: Option<String>,
    /// `asc` (oldest first, the default) or `desc` (newest first).
    pub order: Option<crate::domain::Order>,
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
        (status = 422, description = "`since`/`until` are neither RFC 3339 date-times nor dates", body = Problem, content_type = "application/problem+json"),
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
        order: q.order.unwrap_or_default(),
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

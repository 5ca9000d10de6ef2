//! API keys: made for a person with one role, shown once, revoked.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::Problem;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth, PageParams};
use super::schema::ShortText;
use crate::app::{App, page_of};
use crate::domain::Page;
use crate::domain::access::{ApiKey, Role};
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

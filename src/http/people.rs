//! People: who writes (every key belongs to one, and the audit trail names them).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::Problem;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth, PageParams};
use super::schema::ShortText;
use crate::app::{App, page_of};
use crate::domain::Page;
use crate::domain::access::{ApiKey, Person};

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
        (status = 409, description = "`person-exists`: the handle is taken", body = Problem, content_type = "application/problem+json"),
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

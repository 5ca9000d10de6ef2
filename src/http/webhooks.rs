//! Webhook endpoints (admins): create (the secret is shown once), list, get, delete, rotate
//! the secret, enable again, send a test, see deliveries and replay one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::Problem;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::app::{App, CreatedWebhook, WebhookDelivery, WebhookEndpoint};

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://cms.example.org/hooks/claimtrail", "events": ["review.published", "review.corrected", "review.retracted"], "description": "Newsroom CMS"}))]
pub struct CreateWebhook {
    /// Where deliveries are POSTed; it must resolve to a public address.
    #[schema(value_type = super::schema::WebUrl)]
    pub url: String,
    /// Event types: `review.published`, `review.corrected`, `review.retracted`,
    /// `source.version_added`, `passage.changed`.
    #[schema(min_items = 1)]
    pub events: Vec<String>,
    #[schema(value_type = Option<super::schema::ShortText>)]
    pub description: Option<String>,
}

#[utoipa::path(post, path = "/v1/webhooks", tag = "cms",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Endpoint created; `secret` is shown only now", body = CreatedWebhook),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown event, or a URL that is not public", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_webhook(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<impl IntoResponse, Problem> {
    let created = app
        .create_webhook(&actor, &body.url, body.events, body.description)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/v1/webhooks", tag = "cms",
    params(crate::http::extract::PageParams),
    responses(
        (status = 200, description = "Endpoints, oldest first (without secrets)", body = crate::domain::Page<WebhookEndpoint>),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_webhooks(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<crate::http::extract::PageParams>,
) -> Result<Json<crate::domain::Page<WebhookEndpoint>>, Problem> {
    let endpoints = app.list_webhooks(&actor).await?;
    Ok(Json(crate::app::page_of(
        endpoints,
        q.order.unwrap_or_default(),
        q.cursor.as_deref(),
        q.limit,
    )?))
}

#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "cms",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint; `enabled: false` with the reason once disabled", body = WebhookEndpoint),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_webhook(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<WebhookEndpoint>, Problem> {
    Ok(Json(app.get_webhook(&actor, id).await?))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "cms",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted; pending deliveries cancelled"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_webhook(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, Problem> {
    app.delete_webhook(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "cms",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The new secret, shown only now; for 24 hours deliveries carry signatures by both", body = CreatedWebhook),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rotate_secret(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CreatedWebhook>, Problem> {
    Ok(Json(app.rotate_webhook_secret(&actor, id).await?))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/enable", tag = "cms",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "Enabled again", body = WebhookEndpoint),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn enable_webhook(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<WebhookEndpoint>, Problem> {
    Ok(Json(app.enable_webhook(&actor, id).await?))
}

/// A queued message.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// Its `webhook-id`; `GET /v1/webhooks/{id}/deliveries` shows its attempts.
    pub message_id: String,
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "cms",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 202, description = "A `webhook.test` message is queued", body = Queued),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn test_webhook(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<impl IntoResponse, Problem> {
    let message_id = app.test_webhook(&actor, id).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { message_id })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesParams {
    /// `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
    /// Newest first, 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "cms",
    params(("id" = Uuid, Path, description = "Endpoint id"), DeliveriesParams),
    responses(
        (status = 200, description = "Deliveries, newest first, each with every attempt (time, status code, latency, error)", body = crate::domain::Page<WebhookDelivery>),
        (status = 400, description = "Bad cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_deliveries(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(p): ApiQuery<DeliveriesParams>,
) -> Result<Json<crate::domain::Page<WebhookDelivery>>, Problem> {
    Ok(Json(
        app.webhook_deliveries(&actor, id, p.cursor.as_deref(), p.limit)
            .await?,
    ))
}

#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries/{message_id}/replay", tag = "cms",
    params(("id" = Uuid, Path, description = "Endpoint id"), ("message_id" = String, Path, description = "The delivery's `webhook-id`")),
    responses(
        (status = 202, description = "Queued again as a new series of attempts", body = Queued),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replay_delivery(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath((id, message_id)): ApiPath<(Uuid, String)>,
) -> Result<impl IntoResponse, Problem> {
    app.replay_delivery(&actor, id, &message_id).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { message_id })))
}

/// The document's `webhooks`: one entry per event type, each a signed POST of a
/// `WebhookPayload` (`domain::webhooks::Payload`).
pub struct Webhooks;

impl utoipa::Modify for Webhooks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{
            HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
        };
        use utoipa::openapi::request_body::RequestBodyBuilder;
        use utoipa::openapi::{ContentBuilder, PathsBuilder, Ref, Required, ResponseBuilder};
        let header = |name: &str, what: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(what))
                .schema(Some(
                    utoipa::openapi::schema::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::String),
                ))
                .build()
        };
        let mut paths = PathsBuilder::new();
        let mut kinds: Vec<&str> = crate::domain::webhooks::event_types();
        kinds.push(crate::domain::webhooks::TEST_EVENT);
        for kind in kinds {
            let when = crate::domain::changes::ChangeKind::parse(kind)
                .map_or("A test ping (`POST /v1/webhooks/{id}/test`).", |k| {
                    k.describe()
                });
            let op = OperationBuilder::new()
                .operation_id(Some(kind.replace('.', "_")))
                .summary(Some(format!("`{kind}`")))
                .description(Some(
                    when.to_owned()
                        + "\n\nStandard Webhooks: verify `webhook-signature` (`v1,` + base64 HMAC-SHA256 of \
                     `webhook-id.webhook-timestamp.body` with the key of your `whsec_` secret; \
                     during a rotation two signatures, space-separated). Answer 2xx within 15 s; \
                     anything else (3xx included) is retried on a schedule of about a day, \
                     `Retry-After` honoured; 410 disables the endpoint.",
                ))
                .parameter(header(
                    "webhook-id",
                    "The message id, the same on every attempt",
                ))
                .parameter(header("webhook-timestamp", "Unix seconds of this attempt"))
                .parameter(header("webhook-signature", "`v1,<base64>` signatures"))
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("WebhookPayload")))
                                .build(),
                        )
                        .build(),
                ))
                .response(
                    "2XX",
                    ResponseBuilder::new().description("Delivered").build(),
                )
                .response(
                    "410",
                    ResponseBuilder::new()
                        .description("Stop: the endpoint is disabled")
                        .build(),
                );
            paths = paths.path(kind, PathItem::new(HttpMethod::Post, op));
        }
        openapi.webhooks = Some(paths.build());
    }
}

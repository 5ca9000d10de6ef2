//! The audit trail: its entries and the chain's verification (the transparency log over it
//! is in `tlog`).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::Problem;
use super::extract::{ApiQuery, Auth};
use super::schema::{AuditCursor, Checkpoint};
use crate::app::{App, AuditQuery, AuditReport, CheckpointQuery};
use crate::domain::Page;
use crate::domain::audit::Entry;

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

//! The transparency log: checkpoints, the verifier key, proofs and tiles.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::Problem;
use super::extract::{ApiPath, ApiQuery, Auth};
use crate::app::{App, ConsistencyProof, InclusionProof};

const TEXT: &str = "text/plain; charset=utf-8";

#[utoipa::path(get, path = "/v1/audit/checkpoint", tag = "audit",
    responses(
        (status = 200, description = "The log's signed checkpoint (C2SP `tlog-checkpoint` in a \
            `signed-note`): the origin, the number of entries, the base64 RFC 6962 root of the \
            tree whose leaf `seq - 1` is SHA-256(0x00 ‖ the 32 bytes of entry `seq`'s hash), a \
            blank line, and an Ed25519 signature line `— <key name> <base64(key id ‖ signature)>`. \
            Public: it discloses the log's size and a root, none of the entries.",
            body = String, content_type = "text/plain"),
        (status = 503, description = "No signing key is configured (`not-configured`: `CLAIMTRAIL_LOG_KEY_FILE`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn checkpoint(State(app): State<App>) -> Result<Response, Problem> {
    let note = app.checkpoint().await?;
    Ok((
        [
            (header::CONTENT_TYPE, TEXT),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        note.to_string(),
    )
        .into_response())
}

#[utoipa::path(get, path = "/v1/audit/key", tag = "audit",
    responses(
        (status = 200, description = "The verifier key of the log's checkpoints, in signed-note \
            form: `<name>+<8 hex digits of key id>+<base64(0x01 ‖ Ed25519 public key)>`. Publish \
            it where readers of your checkpoints find it (it is what they trust).",
            body = String, content_type = "text/plain"),
        (status = 503, description = "No signing key is configured (`not-configured`: `CLAIMTRAIL_LOG_KEY_FILE`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verifier_key(State(app): State<App>) -> Result<Response, Problem> {
    let key = app.log_verifier_key()?;
    Ok(([(header::CONTENT_TYPE, TEXT)], format!("{key}\n")).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The entry's `seq` (its leaf index is `seq - 1`).
    #[param(minimum = 1)]
    pub seq: i64,
    /// The tree size to prove it in (a checkpoint's size); default the log's size now.
    #[param(minimum = 1)]
    pub size: Option<u64>,
}

#[utoipa::path(get, path = "/v1/audit/proof/inclusion", tag = "audit",
    params(InclusionQuery),
    responses(
        (status = 200, description = "The RFC 6962 audit path of the entry's leaf in the tree of `size` entries", body = InclusionProof),
        (status = 400, description = "Unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such entry, or a size beyond the log or below the entry", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn inclusion_proof(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionProof>, Problem> {
    Ok(Json(app.inclusion_proof(&actor, q.seq, q.size).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree's size (a checkpoint kept earlier).
    #[param(minimum = 1)]
    pub from: u64,
    /// The newer tree's size, at most the log's.
    #[param(minimum = 1)]
    pub to: u64,
}

#[utoipa::path(get, path = "/v1/audit/proof/consistency", tag = "audit",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The RFC 6962 consistency proof that the tree of `to` entries extends the tree of `from`", body = ConsistencyProof),
        (status = 400, description = "Unknown or malformed parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`to` beyond the log, or `from` not in 1..=`to`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn consistency_proof(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, Problem> {
    Ok(Json(app.consistency_proof(&actor, q.from, q.to).await?))
}

/// Routed as `/v1/audit/tile/{*path}`: the path holds slashes.
#[utoipa::path(get, path = "/v1/audit/tile/{path}", tag = "audit",
    params(("path" = String, Path, description = "A C2SP `tlog-tiles` path (tile height 8): \
        `<L>/<N>[.p/<W>]` for hashes of level 8·L, `entries/<N>[.p/<W>]` for entry bundles \
        (each entry: a big-endian 16-bit length, 32, and the 32 bytes of an entry's hash). \
        `N` is written in groups of three digits, all but the last prefixed `x`: `x001/234`.",
        example = "0/000.p/5")),
    responses(
        (status = 200, description = "The tile's bytes. A full tile never changes and is sent \
            with `Cache-Control: max-age=31536000, immutable`; a partial one with `no-cache`.",
            body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 404, description = "Not a tile path, or a tile the log does not hold yet", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn tile(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(path): ApiPath<String>,
) -> Result<Response, Problem> {
    let tile = app.tile(&actor, &path).await?;
    let cache = if tile.full {
        "max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        tile.bytes,
    )
        .into_response())
}

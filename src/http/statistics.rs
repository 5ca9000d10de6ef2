//! Statistics: trace a figure through every source that states it; citation chains.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::error::Problem;
use super::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::app::{App, Derivation, Lineage, Relation, TraceInput, TraceReport};
use crate::domain::ids::PassageId;
use crate::domain::statistics::Unit;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TraceParams {
    /// A text holding the figure: "$4bn", "4 billion dollars", "about 15 per cent".
    #[param(example = "$4bn", min_length = 1)]
    pub q: String,
}

#[utoipa::path(get, path = "/v1/trace", tag = "statistics",
    params(TraceParams),
    responses(
        (status = 200, description = "Every mention of the figure, earliest appearance first, with counts per publisher", body = TraceReport),
        (status = 400, description = "Missing or malformed `q`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`no-figure`: the text holds no number to trace", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn trace(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<TraceParams>,
) -> Result<Json<TraceReport>, Problem> {
    Ok(Json(app.trace(&actor, TraceInput::Text(p.q)).await?))
}

/// What to trace: a text, the first figure of a passage, or a value and unit. One of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"value": "4000000000", "unit": {"type": "currency", "code": "USD"}}))]
pub struct TraceRequest {
    #[schema(nullable = false)]
    pub q: Option<String>,
    #[schema(nullable = false)]
    pub passage_id: Option<PassageId>,
    /// An exact value as the trace writes them ("4000000000", "0.1", "2/3"); with `unit`.
    #[schema(nullable = false)]
    pub value: Option<String>,
    #[schema(nullable = false)]
    pub unit: Option<Unit>,
}

#[utoipa::path(post, path = "/v1/trace", tag = "statistics",
    request_body = TraceRequest,
    responses(
        (status = 200, description = "Every mention of the figure, earliest appearance first", body = TraceReport),
        (status = 404, description = "No such passage", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not exactly one of `q`, `passage_id`, `value` + `unit`; or `no-figure`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn trace_post(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<TraceRequest>,
) -> Result<Json<TraceReport>, Problem> {
    let input = match (body.q, body.passage_id, body.value, body.unit) {
        (Some(q), None, None, None) => TraceInput::Text(q),
        (None, Some(id), None, None) => TraceInput::Passage(id),
        (None, None, Some(value), Some(unit)) => TraceInput::Figure { value, unit },
        _ => {
            return Err(crate::app::AppError::field(
                "q",
                "give exactly one of `q`, `passage_id`, or `value` with `unit`",
            )
            .into());
        }
    };
    Ok(Json(app.trace(&actor, input).await?))
}

/// The trace as W3C Web Annotations: one per hit, on the source's URL (or its id) and version.
fn annotations(report: &TraceReport) -> Value {
    let items: Vec<Value> = report
        .hits
        .iter()
        .map(|h| {
            let m = &h.mention;
            let source = h
                .source
                .url
                .clone()
                .unwrap_or_else(|| format!("urn:claimtrail:source:{}", h.source.id));
            json!({
                "id": format!("urn:claimtrail:mention:{}:{}:{}", h.source.id, h.version, m.start),
                "type": "Annotation",
                "motivation": "identifying",
                "body": {
                    "type": "TextualBody",
                    "purpose": "tagging",
                    "value": format!("{} {}", m.value, m.unit.key()),
                },
                "target": {
                    "source": source,
                    "claimtrail:sourceId": h.source.id,
                    "claimtrail:version": h.version,
                    "selector": [
                        {"type": "TextQuoteSelector", "exact": m.exact, "prefix": m.prefix, "suffix": m.suffix},
                        {"type": "TextPositionSelector", "start": m.start, "end": m.end},
                    ],
                },
            })
        })
        .collect();
    json!({
        "@context": ["http://www.w3.org/ns/anno.jsonld", {"claimtrail": "urn:claimtrail:"}],
        "type": "AnnotationCollection",
        "label": format!("Mentions of {} {}", report.query.value, report.query.unit.key()),
        "total": items.len(),
        "first": {"type": "AnnotationPage", "startIndex": 0, "items": items},
    })
}

#[utoipa::path(get, path = "/v1/trace/annotations", tag = "statistics",
    params(TraceParams),
    responses(
        (status = 200, description = "The trace as a W3C Web Annotation collection (JSON-LD): one annotation per hit with TextQuoteSelector and TextPositionSelector", body = Object, content_type = "application/ld+json"),
        (status = 400, description = "Missing or malformed `q`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`no-figure`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn trace_annotations(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<TraceParams>,
) -> Result<impl IntoResponse, Problem> {
    let report = app.trace(&actor, TraceInput::Text(p.q)).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/ld+json")],
        Json(annotations(&report)),
    ))
}

/// A link from this passage to the one it derives from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDerivation {
    /// The earlier passage this one quotes, restates or has as its primary source.
    pub from_passage_id: PassageId,
    pub relation: Relation,
}

#[utoipa::path(post, path = "/v1/passages/{id}/derivations", tag = "statistics",
    params(("id" = Uuid, Path, description = "The passage that derives from another")),
    request_body = CreateDerivation,
    responses(
        (status = 201, description = "Link recorded (and audited)", body = Derivation),
        (status = 404, description = "No such passage", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`derivation-cycle` or `derivation-exists`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the size limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or `unknown-passage`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_derivation(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<PassageId>,
    ApiJson(body): ApiJson<CreateDerivation>,
) -> Result<impl IntoResponse, Problem> {
    let link = app
        .add_derivation(&actor, id, body.from_passage_id, body.relation)
        .await?;
    Ok((StatusCode::CREATED, Json(link)))
}

#[utoipa::path(get, path = "/v1/passages/{id}/lineage", tag = "statistics",
    params(("id" = Uuid, Path, description = "Passage id")),
    responses(
        (status = 200, description = "The links back to the origin, and whether it is a primary source", body = Lineage),
        (status = 404, description = "No such passage", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lineage(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<PassageId>,
) -> Result<Json<Lineage>, Problem> {
    Ok(Json(app.lineage(&actor, id).await?))
}

/// A lineage in PROV-O terms: each passage a `prov:Entity` at its source, linked by
/// `prov:wasQuotedFrom`, `prov:wasDerivedFrom` or `prov:hadPrimarySource`.
fn prov(lineage: &Lineage) -> Value {
    let entity = |p: &crate::domain::SourcedPassage| {
        json!({
            "@id": format!("urn:claimtrail:passage:{}", p.passage.id),
            "@type": "prov:Entity",
            "prov:value": p.passage.exact,
            "prov:atLocation": p.source.url.clone().unwrap_or_else(|| format!("urn:claimtrail:source:{}", p.source.id)),
            "dcterms:title": p.source.title,
        })
    };
    let mut graph = vec![entity(&lineage.passage)];
    for hop in &lineage.hops {
        if !graph
            .iter()
            .any(|g| g["@id"] == format!("urn:claimtrail:passage:{}", hop.from.passage.id))
        {
            graph.push(entity(&hop.from));
        }
    }
    for hop in &lineage.hops {
        let id = format!("urn:claimtrail:passage:{}", hop.passage_id);
        if let Some(node) = graph.iter_mut().find(|g| g["@id"] == id) {
            let link = json!({"@id": format!("urn:claimtrail:passage:{}", hop.from.passage.id)});
            let key = hop.relation.prov();
            match node.get_mut(key) {
                Some(Value::Array(list)) => list.push(link),
                Some(one) => *one = Value::Array(vec![one.clone(), link]),
                None => {
                    node[key] = link;
                }
            }
        }
    }
    json!({
        "@context": {
            "prov": "http://www.w3.org/ns/prov#",
            "dcterms": "http://purl.org/dc/terms/",
        },
        "@graph": graph,
    })
}

#[utoipa::path(get, path = "/v1/passages/{id}/lineage/prov", tag = "statistics",
    params(("id" = Uuid, Path, description = "Passage id")),
    responses(
        (status = 200, description = "The lineage as PROV-O (JSON-LD)", body = Object, content_type = "application/ld+json"),
        (status = 404, description = "No such passage", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lineage_prov(
    State(app): State<App>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<PassageId>,
) -> Result<impl IntoResponse, Problem> {
    let lineage = app.lineage(&actor, id).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/ld+json")],
        Json(prov(&lineage)),
    ))
}

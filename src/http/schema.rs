//! What the OpenAPI document says about inputs beyond their Rust types: the limits the server
//! enforces (lengths, patterns, formats, ranges, fields that go together), so that a client
//! generated from the document sends requests the server accepts; and the links from each
//! create operation to the operations that take the id it returns.
//!
//! The string types below exist only for the document (`value_type = …` on request fields);
//! the checks themselves are in `domain::validate` and the use cases.

use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{RefOr, Schema};

/// At least one character that is not white space, and no NUL (`validate::short_text`).
pub const NOT_BLANK: &str = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$";

/// A short text (title, name, publisher, claimant, label, note): not blank, no NUL
/// characters; surrounding white space is trimmed; at most 1,024 characters once trimmed.
#[derive(ToSchema)]
#[schema(
    min_length = 1,
    max_length = 1024,
    pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
)]
pub struct ShortText(#[allow(dead_code)] String);

/// A body of text, stored byte-exact: not blank, no NUL characters. Only the request size
/// limit bounds it.
#[derive(ToSchema)]
#[schema(min_length = 1, pattern = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")]
pub struct BodyText(#[allow(dead_code)] String);

/// An identifier chosen by a client (rating scale id, rating key): 1 to 64 of `a-z`, `0-9`,
/// `_` and `-`.
#[derive(ToSchema)]
#[schema(
    min_length = 1,
    max_length = 64,
    pattern = "^[a-z0-9_-]{1,64}$",
    example = "mostly_false"
)]
pub struct Slug(#[allow(dead_code)] String);

/// An absolute `http` or `https` URL with a host. Stored normalized: lower-case scheme and
/// host, no fragment.
#[derive(ToSchema)]
#[schema(
    format = "uri",
    max_length = 2048,
    pattern = "^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,4})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?(\\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?(#[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?$",
    example = "https://example.org/news/bridge-budget"
)]
pub struct WebUrl(#[allow(dead_code)] String);

/// `next_cursor` of the previous page of a list of sources or claims, unchanged.
#[derive(ToSchema)]
#[schema(
    pattern = "^[A-Za-z0-9_-]{21}[AQgw]$",
    example = "AZCkwm8efMKfPisdTF5vcA"
)]
pub struct Cursor(#[allow(dead_code)] String);

/// `next_cursor` of the previous page of the audit trail, unchanged.
#[derive(ToSchema)]
#[schema(
    pattern = "^[A-Za-z0-9_-]{10}[AEIMQUYcgkosw048]$",
    example = "AAAAAAAAADI"
)]
pub struct AuditCursor(#[allow(dead_code)] String);

/// A SHA-256 in lowercase hex, as in a verify report's `head`.
#[derive(ToSchema)]
#[schema(pattern = "^[0-9a-f]{64}$")]
pub struct Sha256Hex(#[allow(dead_code)] String);

/// A checkpoint published earlier: a verify report's `length` and `head`. Both or neither.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Checkpoint {
    /// The checkpoint's entry (`length` of the earlier report).
    #[schema(minimum = 1)]
    checkpoint_seq: i64,
    /// That entry's hash (`head` of the earlier report).
    #[schema(value_type = Sha256Hex)]
    checkpoint_hash: String,
}

/// The schema of a component, to add keywords utoipa has no attribute for.
fn component<'a>(doc: &'a mut OpenApiDoc, name: &str) -> &'a mut utoipa::openapi::schema::Object {
    let components = doc.components.as_mut().expect("components");
    match components.schemas.get_mut(name) {
        Some(RefOr::T(Schema::Object(object))) => object,
        _ => panic!("component {name} is not an object schema"),
    }
}

/// Adds JSON Schema keywords (e.g. `anyOf`) to an object schema. utoipa writes extensions as
/// they are, next to the schema's own keywords; they are kept in a hash map, so one keyword
/// per schema keeps the document's order stable (more go under `allOf`).
fn add_keywords(doc: &mut OpenApiDoc, name: &str, keywords: Value) {
    assert_eq!(
        keywords.as_object().map(|o| o.len()),
        Some(1),
        "one keyword"
    );
    let object = component(doc, name);
    let extensions = object.extensions.get_or_insert_with(Extensions::default);
    for (k, v) in keywords.as_object().expect("an object").clone() {
        extensions.insert(k, v);
    }
}

/// Keywords about which fields go together.
pub struct Constraints;

impl utoipa::Modify for Constraints {
    fn modify(&self, doc: &mut OpenApiDoc) {
        // A quote, or both positions; `start` and `end` always together.
        add_keywords(
            doc,
            "CreatePassage",
            json!({
                "allOf": [
                    {"anyOf": [{"required": ["quote"]}, {"required": ["start", "end"]}]},
                    {"dependentRequired": {"start": ["end"], "end": ["start"]}},
                ],
            }),
        );
        // Retracting and requesting changes must say why.
        add_keywords(
            doc,
            "Transition",
            json!({
                "anyOf": [
                    {"properties": {"to": {"enum": ["draft", "in_review", "approved", "published", "superseded"]}}},
                    {"required": ["note"], "properties": {"note": {"type": "string", "pattern": NOT_BLANK}}},
                ],
            }),
        );
        // Lists of ids name each id once.
        for (name, property) in [
            ("CreateClaim", "appearances"),
            ("CreateReview", "evidence"),
            ("EditReview", "evidence"),
        ] {
            match component(doc, name).properties.get_mut(property) {
                Some(RefOr::T(Schema::Array(array))) => array.unique_items = true,
                _ => panic!("{name}.{property} is not an array"),
            }
        }
        // Rating keys are slugs, labels short texts (a scale's ratings are checked like this
        // when it is created).
        {
            use utoipa::openapi::Ref;
            let rating = component(doc, "Rating");
            rating
                .properties
                .insert("key".into(), Ref::from_schema_name("Slug").into());
            rating
                .properties
                .insert("label".into(), Ref::from_schema_name("ShortText").into());
        }
        // bestRating and worstRating need two numeric ratings.
        match component(doc, "CreateScale").properties.get_mut("ratings") {
            Some(RefOr::T(Schema::Array(ratings))) => {
                ratings.extensions = Some(Extensions::from_iter([(
                    "allOf",
                    json!([{
                        "contains": {"required": ["value"], "properties": {"value": {"type": "number"}}},
                        "minContains": 2,
                    }]),
                )]));
            }
            _ => panic!("CreateScale.ratings is not an array"),
        }
    }
}

/// One link: from `operationId` answering `status`, to `target`.
struct LinkSpec {
    from: &'static str,
    statuses: &'static [&'static str],
    name: &'static str,
    target: &'static str,
    parameters: Value,
    body: Option<Value>,
    description: &'static str,
}

fn links() -> Vec<LinkSpec> {
    let l = |from, statuses, name, target, parameters, body, description| LinkSpec {
        from,
        statuses,
        name,
        target,
        parameters,
        body,
        description,
    };
    const CREATED: &[&str] = &["201"];
    const CREATED_OR_FOUND: &[&str] = &["201", "200"];
    const OK: &[&str] = &["200"];
    let review_writes = |from: &'static str, statuses: &'static [&'static str]| {
        vec![
            l(
                from,
                statuses,
                "GetReview",
                "get_review",
                json!({"id": "$response.body#/id"}),
                None,
                "The review",
            ),
            l(
                from,
                statuses,
                "ReviewEvidence",
                "review_evidence",
                json!({"id": "$response.body#/id"}),
                None,
                "The evidence the review rests on",
            ),
            l(
                from,
                statuses,
                "EditReview",
                "edit_review",
                json!({"id": "$response.body#/id", "If-Match": "$response.header.ETag"}),
                Some(json!({"revision": "$response.body#/revision"})),
                "Edit the review at this revision",
            ),
            l(
                from,
                statuses,
                "Transition",
                "transition",
                json!({"id": "$response.body#/id", "If-Match": "$response.header.ETag"}),
                Some(json!({"revision": "$response.body#/revision"})),
                "The next workflow step from this revision",
            ),
            l(
                from,
                statuses,
                "GetClaim",
                "get_claim",
                json!({"id": "$response.body#/claim_id"}),
                None,
                "The claim reviewed",
            ),
            l(
                from,
                statuses,
                "ClaimReview",
                "claim_review",
                json!({"id": "$response.body#/id"}),
                None,
                "Its schema.org ClaimReview, once published",
            ),
            l(
                from,
                statuses,
                "CheckClaimReview",
                "check_claim_review",
                json!({"id": "$response.body#/id"}),
                None,
                "Its ClaimReview with warnings, once published",
            ),
            l(
                from,
                statuses,
                "SetPublishedUrl",
                "set_published_url",
                json!({"id": "$response.body#/id", "If-Match": "$response.header.ETag"}),
                Some(json!({"revision": "$response.body#/revision"})),
                "Where it is published, once published",
            ),
        ]
    };
    let mut all = vec![
        // Sources and their versions.
        l(
            "create_source",
            CREATED,
            "GetSource",
            "get_source",
            json!({"id": "$response.body#/id"}),
            None,
            "The source",
        ),
        l(
            "create_source",
            CREATED,
            "AddAlias",
            "add_alias",
            json!({"id": "$response.body#/id"}),
            None,
            "Another URL of the same article",
        ),
        l(
            "create_source",
            CREATED,
            "ListAliases",
            "list_aliases",
            json!({"id": "$response.body#/id"}),
            None,
            "Its alias URLs",
        ),
        l(
            "create_source",
            CREATED,
            "ListVersions",
            "list_versions",
            json!({"id": "$response.body#/id"}),
            None,
            "Its versions",
        ),
        l(
            "create_source",
            CREATED,
            "AddVersion",
            "add_version",
            json!({"id": "$response.body#/id"}),
            None,
            "A new capture of its text",
        ),
        l(
            "create_source",
            CREATED,
            "GetVersion",
            "get_version",
            json!({"id": "$response.body#/id", "number": "$response.body#/version/number"}),
            None,
            "Version 1 with its text",
        ),
        l(
            "create_source",
            CREATED,
            "CreatePassage",
            "create_passage",
            json!({"id": "$response.body#/id"}),
            Some(json!({"start": 0, "end": "$response.body#/version/length"})),
            "A passage of it: the whole text",
        ),
        l(
            "add_version",
            CREATED_OR_FOUND,
            "GetVersion",
            "get_version",
            json!({"id": "$request.path.id", "number": "$response.body#/number"}),
            None,
            "This version with its text",
        ),
        l(
            "add_version",
            CREATED_OR_FOUND,
            "CreatePassage",
            "create_passage",
            json!({"id": "$request.path.id"}),
            Some(
                json!({"version": "$response.body#/number", "start": 0, "end": "$response.body#/length"}),
            ),
            "A passage of this version: its whole text",
        ),
        l(
            "add_version",
            CREATED_OR_FOUND,
            "RevisionReport",
            "revision_report",
            json!({"id": "$request.path.id", "number": "$response.body#/number"}),
            None,
            "How the passages of the version before were placed on this one",
        ),
        l(
            "revision_report",
            OK,
            "DecidePlacement",
            "decide_placement",
            json!({"id": "$response.body#/placements/0/passage_id", "number": "$response.body#/version"}),
            Some(json!({"confirm": true})),
            "Confirm the first placement of the revision",
        ),
        l(
            "create_passage",
            CREATED_OR_FOUND,
            "ListPlacements",
            "list_placements",
            json!({"id": "$response.body#/id"}),
            None,
            "Where the passage stands in later versions",
        ),
        // Passages.
        l(
            "create_passage",
            CREATED_OR_FOUND,
            "GetPassage",
            "get_passage",
            json!({"id": "$response.body#/id"}),
            None,
            "The passage",
        ),
        l(
            "create_passage",
            CREATED_OR_FOUND,
            "GetSource",
            "get_source",
            json!({"id": "$response.body#/source_id"}),
            None,
            "Its source",
        ),
        l(
            "create_passage",
            CREATED_OR_FOUND,
            "CreateClaim",
            "create_claim",
            json!({}),
            Some(json!({"appearances": ["$response.body#/id"]})),
            "A claim that appeared in this passage",
        ),
        // Claims and evidence.
        l(
            "create_claim",
            CREATED,
            "GetClaim",
            "get_claim",
            json!({"id": "$response.body#/id"}),
            None,
            "The claim",
        ),
        l(
            "create_claim",
            CREATED,
            "AddEvidence",
            "add_evidence",
            json!({"id": "$response.body#/id"}),
            Some(json!({"passage_id": "$response.body#/appearances/0/passage/id"})),
            "Evidence about the claim: the passage it appeared in",
        ),
        l(
            "create_claim",
            CREATED,
            "CreateReview",
            "create_review",
            json!({"id": "$response.body#/id"}),
            Some(json!({"scale": "default", "rating": "true"})),
            "A draft review of the claim",
        ),
        l(
            "add_evidence",
            CREATED,
            "GetClaim",
            "get_claim",
            json!({"id": "$response.body#/claim_id"}),
            None,
            "The claim with this evidence",
        ),
        l(
            "add_evidence",
            CREATED,
            "CreateReview",
            "create_review",
            json!({"id": "$response.body#/claim_id"}),
            Some(
                json!({"scale": "default", "rating": "false", "evidence": ["$response.body#/id"]}),
            ),
            "A draft review resting on this evidence",
        ),
        // Keys.
        l(
            "create_key",
            CREATED,
            "RevokeKey",
            "revoke_key",
            json!({"id": "$response.body#/key/id"}),
            None,
            "Revoke the new key",
        ),
        // Rating scales: reviews take a scale's id and one of its rating keys in the body.
        l(
            "create_scale",
            CREATED,
            "ListScales",
            "list_scales",
            json!({}),
            None,
            "Every scale, this one included",
        ),
    ];
    all.extend(review_writes("create_review", CREATED));
    all.extend(review_writes("get_review", OK));
    all.extend(review_writes("edit_review", OK));
    all.extend(review_writes("transition", OK));
    all
}

/// Adds the links of `links()` to the responses of their operations.
pub struct Links;

impl utoipa::Modify for Links {
    fn modify(&self, doc: &mut OpenApiDoc) {
        for spec in links() {
            let op = doc
                .paths
                .paths
                .values_mut()
                .flat_map(|item| {
                    [
                        &mut item.get,
                        &mut item.post,
                        &mut item.put,
                        &mut item.patch,
                        &mut item.delete,
                    ]
                })
                .flatten()
                .find(|op| op.operation_id.as_deref() == Some(spec.from))
                .unwrap_or_else(|| panic!("no operation {}", spec.from));
            for status in spec.statuses {
                let Some(RefOr::T(response)) = op.responses.responses.get_mut(*status) else {
                    panic!("{} has no {status} response", spec.from);
                };
                let mut link = LinkBuilder::new()
                    .operation_id(spec.target)
                    .description(spec.description)
                    .request_body(spec.body.clone());
                for (name, value) in spec.parameters.as_object().expect("an object") {
                    link = link.parameter(name, value.clone());
                }
                response
                    .links
                    .insert(spec.name.to_owned(), link.build().into());
            }
        }
    }
}

//! Every operation's summary and the roles that may call it, in one table. `complete` writes
//! them into the OpenAPI document (the summary, and a "Roles" line at the end of the
//! description); a unit test checks that the table and the routes match one for one, and the
//! API tests check the roles against what the server answers each role.

use crate::domain::access::Role::{self, Admin, Auditor, Editor, FactChecker, Integration};

/// One operation of the API.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// The roles that may call it; empty for the few that need no key.
    pub roles: &'static [Role],
    /// What some roles see or may do differently.
    pub note: Option<&'static str>,
}

const EVERYONE: &[Role] = &[Admin, Editor, FactChecker, Auditor, Integration];
const READERS: &[Role] = &[Admin, Editor, FactChecker, Auditor];
const WRITERS: &[Role] = &[Admin, Editor, FactChecker];
const DECIDERS: &[Role] = &[Admin, Editor];
const AUDITORS: &[Role] = &[Admin, Auditor];
const ADMIN: &[Role] = &[Admin];
const NO_KEY: &[Role] = &[];

const PUBLISHED_ONLY: Option<&str> =
    Some("Integrations see published verdicts only, in their public view (404 otherwise).");

macro_rules! op {
    ($method:literal $path:literal, $summary:literal, $roles:expr) => {
        op!($method $path, $summary, $roles, None)
    };
    ($method:literal $path:literal, $summary:literal, $roles:expr, $note:expr) => {
        Operation { method: $method, path: $path, summary: $summary, roles: $roles, note: $note }
    };
}

pub const OPERATIONS: &[Operation] = &[
    op!("get" "/health", "Liveness: the process answers", NO_KEY),
    op!("get" "/ready", "Readiness: the database (reads and the writer) answers", NO_KEY),
    op!("get" "/problems/{slug}", "What a problem `type` means, its causes and fixes", NO_KEY),
    // Sources, versions and passages.
    op!("get" "/v1/sources", "List or search sources", READERS),
    op!("post" "/v1/sources", "Store a source with its first version", WRITERS),
    op!("get" "/v1/sources/{id}", "Get a source with its latest version", READERS),
    op!("patch" "/v1/sources/{id}", "Correct a source's metadata", WRITERS),
    op!("get" "/v1/sources/{id}/versions", "List a source's versions", READERS),
    op!("post" "/v1/sources/{id}/versions", "Add a version (a new capture) and re-anchor the passages", WRITERS),
    op!("get" "/v1/sources/{id}/versions/{number}", "Get one version with its text", READERS),
    op!("get" "/v1/sources/{id}/versions/{number}/placements", "Where the passages stand on a version", READERS),
    op!("get" "/v1/sources/{id}/versions/{number}/statistics", "The figures a version states", READERS),
    op!("get" "/v1/sources/{id}/passages", "List a source's passages", READERS),
    op!("post" "/v1/sources/{id}/passages", "Resolve a pasted quote (or positions) to a passage", WRITERS),
    op!("get" "/v1/sources/{id}/aliases", "List the other URLs a source is known by", READERS),
    op!("post" "/v1/sources/{id}/aliases", "Add a URL the source is known by", WRITERS),
    op!("get" "/v1/passages/{id}", "Get a passage with its source", READERS),
    op!("get" "/v1/passages/{id}/placements", "Where a passage stands on each later version", READERS),
    op!("put" "/v1/passages/{id}/placements/{number}", "Confirm or correct a passage's placement", WRITERS),
    op!("post" "/v1/passages/{id}/derivations", "Record that a passage derives from another", &[Admin, Editor, FactChecker, Auditor]),
    op!("get" "/v1/passages/{id}/lineage", "Walk a passage's citation chain back to its origin", READERS),
    op!("get" "/v1/passages/{id}/lineage/prov", "A passage's lineage as PROV-O JSON-LD", READERS),
    // Statistics.
    op!("get" "/v1/trace", "Trace a figure through every source that states it", READERS),
    op!("post" "/v1/trace", "Trace a figure (query in the body)", READERS),
    op!("get" "/v1/trace/annotations", "A trace as W3C Web Annotations", READERS),
    // Claims and evidence.
    op!("get" "/v1/claims", "List or search claims, with their current review", READERS),
    op!("get" "/v1/claims/similar", "Has this been checked already? Claims most like a text", READERS),
    op!("post" "/v1/claims", "Record a claim and where it appeared", WRITERS),
    op!("get" "/v1/claims/{id}", "Get a claim with its appearances, evidence and reviews", READERS),
    op!("patch" "/v1/claims/{id}", "Correct a claim's text, claimant or claimant kind", WRITERS),
    op!("post" "/v1/claims/{id}/appearances", "Record another passage a claim appeared in", WRITERS),
    op!("post" "/v1/claims/{id}/evidence", "Offer a passage as evidence about a claim", WRITERS),
    op!("get" "/v1/claims/{id}/evidence/{evidence_id}", "Get one piece of evidence", READERS),
    op!("post" "/v1/claims/{id}/evidence/{evidence_id}/withdraw", "Withdraw evidence, with a note", WRITERS),
    // Reviews.
    op!("get" "/v1/claims/{id}/reviews", "List a claim's reviews", READERS),
    op!("post" "/v1/claims/{id}/reviews", "Draft a review (a verdict) of a claim", WRITERS),
    op!("get" "/v1/reviews", "The review queue: reviews filtered by state, author, claim and time", READERS),
    op!("get" "/v1/reviews/{id}", "Get a review with its history and the steps you may take", EVERYONE, PUBLISHED_ONLY),
    op!("patch" "/v1/reviews/{id}", "Edit a draft (or a review sent back for changes)", WRITERS),
    op!("post" "/v1/reviews/{id}/transitions", "Move a review through its workflow", WRITERS,
        Some("Which steps each role may take is in the review state machine (see the API description): fact-checkers submit and withdraw their own; editors decide.")),
    op!("get" "/v1/reviews/{id}/evidence", "The evidence a review rests on", EVERYONE, PUBLISHED_ONLY),
    op!("get" "/v1/reviews/{id}/claimreview", "A published verdict as schema.org ClaimReview", EVERYONE, PUBLISHED_ONLY),
    op!("get" "/v1/reviews/{id}/claimreview/check", "A ClaimReview with warnings about what search engines need", EVERYONE, PUBLISHED_ONLY),
    op!("put" "/v1/reviews/{id}/published-url", "Set the newsroom page that publishes a verdict", DECIDERS),
    op!("get" "/v1/rating-scales", "List rating scales", EVERYONE),
    op!("post" "/v1/rating-scales", "Create a rating scale", ADMIN),
    // Newsroom CMSs.
    op!("get" "/v1/lookup", "Claims and verdicts about the article at a URL", EVERYONE,
        Some("Integrations see published verdicts only.")),
    op!("get" "/v1/changes", "The change feed (NDJSON, or server-sent events)", EVERYONE,
        Some("Integrations see publications, corrections and retractions only.")),
    op!("get" "/v1/webhooks", "List webhook endpoints", ADMIN),
    op!("post" "/v1/webhooks", "Register a webhook endpoint", ADMIN),
    op!("get" "/v1/webhooks/{id}", "Get a webhook endpoint", ADMIN),
    op!("delete" "/v1/webhooks/{id}", "Delete a webhook endpoint", ADMIN),
    op!("post" "/v1/webhooks/{id}/rotate-secret", "Rotate an endpoint's signing secret", ADMIN),
    op!("post" "/v1/webhooks/{id}/enable", "Enable a disabled endpoint again", ADMIN),
    op!("post" "/v1/webhooks/{id}/test", "Send a test ping to an endpoint", ADMIN),
    op!("get" "/v1/webhooks/{id}/deliveries", "List an endpoint's deliveries and attempts", ADMIN),
    op!("post" "/v1/webhooks/{id}/deliveries/{message_id}/replay", "Deliver a message again", ADMIN),
    // People, keys and the audit trail.
    op!("get" "/v1/people", "List people", READERS),
    op!("post" "/v1/people", "Add a person", ADMIN),
    op!("get" "/v1/people/{handle}", "Get a person", READERS),
    op!("get" "/v1/people/{handle}/keys", "List a person's keys", ADMIN),
    op!("get" "/v1/keys", "List API keys", ADMIN),
    op!("post" "/v1/keys", "Create an API key for a person", ADMIN),
    op!("post" "/v1/keys/{id}/revoke", "Revoke an API key", ADMIN),
    op!("get" "/v1/audit", "Read the audit trail", AUDITORS),
    op!("get" "/v1/audit/verify", "Verify the audit chain (optionally against a checkpoint)", AUDITORS),
    op!("get" "/v1/audit/checkpoint", "The transparency log's signed checkpoint", NO_KEY),
    op!("get" "/v1/audit/key", "The verifier key of the log's checkpoints", NO_KEY),
    op!("get" "/v1/audit/proof/inclusion", "Prove that an entry is in the log", AUDITORS),
    op!("get" "/v1/audit/proof/consistency", "Prove that the log extends an earlier checkpoint", AUDITORS),
    op!("get" "/v1/audit/tile/{path}", "A tile of the log (C2SP tlog-tiles)", AUDITORS),
];

/// The table's entry for an operation.
pub fn find(method: &str, path: &str) -> Option<&'static Operation> {
    // A route that matches the rest of the path (`{*path}`) is documented as `{path}`.
    let path = match path.contains("{*") {
        true => std::borrow::Cow::Owned(path.replace("{*", "{")),
        false => std::borrow::Cow::Borrowed(path),
    };
    OPERATIONS
        .iter()
        .find(|o| o.method.eq_ignore_ascii_case(method) && o.path == path)
}

/// The "Roles" line of an operation's description.
pub fn roles_line(op: &Operation) -> String {
    let mut line = if op.roles.is_empty() {
        "**Roles:** none needed (no API key).".to_owned()
    } else {
        let names: Vec<String> = op
            .roles
            .iter()
            .map(|r| format!("`{}`", r.as_str()))
            .collect();
        format!("**Roles:** {}.", names.join(", "))
    };
    if let Some(note) = op.note {
        line.push(' ');
        line.push_str(note);
    }
    line
}

/// Writes each operation's summary and roles into the document.
pub struct Summaries;

/// The parts of the API description that are generated from the domain, so that they cannot
/// drift from it: the review state machine and the audit hash recipe (the README holds the
/// same text; a test compares them).
pub fn guide() -> String {
    format!(
        "### The review workflow\n\n{}\nEvery step is recorded in the review's `history` with \
         who took it, when and why. `GET /v1/reviews/{{id}}` lists the steps the caller may take \
         now (`allowed_transitions`).\n\n### Recomputing audit hashes\n\n{}\n\n```python\n{}```\n\n\
         ### Verifying the log\n\n{}\n\n```python\n{}```\n",
        crate::domain::review::state_machine_table(),
        crate::domain::audit::HASH_SPEC,
        crate::domain::audit::PYTHON_RECOMPUTE,
        crate::domain::tlog::LOG_SPEC,
        crate::domain::tlog::PYTHON_VERIFY_PROOF
    )
}

impl utoipa::Modify for Summaries {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let info = doc.info.description.get_or_insert_with(String::new);
        info.push_str("\n\n");
        info.push_str(&guide());
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops = [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ];
            for (method, op) in ops {
                let (Some(op), Some(entry)) = (op, find(method, path)) else {
                    continue;
                };
                op.summary = Some(entry.summary.to_owned());
                let roles = roles_line(entry);
                op.description = Some(match op.description.take() {
                    Some(d) if !d.trim().is_empty() => format!("{}\n\n{roles}", d.trim_end()),
                    _ => roles,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README carries the generated guide word for word.
    #[test]
    fn the_readme_carries_the_guide() {
        let readme = include_str!("../../README.md");
        let (start, end) = (
            "<!-- guide: generated by http::operations::guide -->\n",
            "<!-- /guide -->",
        );
        let from = readme.find(start).expect("the README marks the guide") + start.len();
        let to = readme[from..].find(end).expect("the guide's end") + from;
        assert!(
            readme[from..to] == guide(),
            "README.md's guide differs from the code's; replace it with `cargo run -- openapi --guide`"
        );
    }

    /// The table and the routes match one for one.
    #[test]
    fn every_operation_has_one_entry() {
        let doc = crate::http::openapi();
        let mut seen = Vec::new();
        for (path, item) in &doc.paths.paths {
            let ops = [
                ("get", item.get.as_ref()),
                ("post", item.post.as_ref()),
                ("put", item.put.as_ref()),
                ("patch", item.patch.as_ref()),
                ("delete", item.delete.as_ref()),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                assert!(find(method, path).is_some(), "{method} {path} has no entry");
                let description = op.description.as_deref().unwrap_or_default();
                assert!(description.contains("**Roles:**"), "{method} {path}");
                assert!(op.summary.as_deref().is_some_and(|s| !s.is_empty()));
                seen.push((method, path.clone()));
            }
        }
        for o in OPERATIONS {
            assert!(
                seen.iter().any(|(m, p)| *m == o.method && p == o.path),
                "{} {} is not a route",
                o.method,
                o.path
            );
        }
        assert_eq!(seen.len(), OPERATIONS.len());
    }
}

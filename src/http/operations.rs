//! Every operation's summary and the permission it needs, in one table. Who holds a
//! permission is `Role::can` (the one authorization table); `Auth` refuses a role without it
//! before the body is read, and `complete` writes the summary and a "Roles" line (the roles
//! that hold it) into the OpenAPI document. A unit test checks that the table and the routes
//! match one for one, and the API tests check the roles against what the server answers each
//! role.

use crate::domain::access::{Permission, Role};

/// One operation of the API.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// What the caller's role must hold; `None` for the few that need no key.
    pub permission: Option<Permission>,
    /// What some roles see or may do differently.
    pub note: Option<&'static str>,
}

impl Operation {
    /// Whether a key with `role` may call it.
    pub fn allows(&self, role: Role) -> bool {
        self.permission.is_none_or(|p| role.can(p))
    }

    /// The roles that may call it, in `Role::ALL`'s order.
    pub fn roles(&self) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| self.allows(*r)).collect()
    }
}

const EVERYONE: Option<Permission> = Some(Permission::ReadPublished);
const READERS: Option<Permission> = Some(Permission::ReadRecords);
const WRITERS: Option<Permission> = Some(Permission::WriteRecords);
const DECIDERS: Option<Permission> = Some(Permission::DecideReviews);
const AUDITORS: Option<Permission> = Some(Permission::ReadAudit);
const KEYS: Option<Permission> = Some(Permission::ManageKeys);
const WEBHOOKS: Option<Permission> = Some(Permission::ManageWebhooks);
const SCALES: Option<Permission> = Some(Permission::ManageScales);
const REVIEWING: Option<Permission> = Some(Permission::DraftReviews);
const NO_KEY: Option<Permission> = None;

const PUBLISHED_ONLY: Option<&str> =
    Some("Integrations see published verdicts only, in their public view (404 otherwise).");

macro_rules! op {
    ($method:literal $path:literal, $summary:literal, $permission:expr) => {
        op!($method $path, $summary, $permission, None)
    };
    ($method:literal $path:literal, $summary:literal, $permission:expr, $note:expr) => {
        Operation { method: $method, path: $path, summary: $summary, permission: $permission, note: $note }
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
    op!("post" "/v1/passages/{id}/derivations", "Record that a passage derives from another", Some(Permission::RecordDerivations)),
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
    op!("post" "/v1/claims/{id}/reviews", "Draft a review (a verdict) of a claim", REVIEWING),
    op!("get" "/v1/reviews", "The review queue: reviews filtered by state, author, claim and time", READERS),
    op!("get" "/v1/reviews/{id}", "Get a review with its history and the steps you may take", EVERYONE, PUBLISHED_ONLY),
    op!("patch" "/v1/reviews/{id}", "Edit a draft (or a review sent back for changes)", REVIEWING),
    op!("post" "/v1/reviews/{id}/transitions", "Move a review through its workflow", REVIEWING,
        Some("Which steps each role may take is in the review state machine (see the API description): fact-checkers submit and withdraw their own; editors decide.")),
    op!("get" "/v1/reviews/{id}/evidence", "The evidence a review rests on", EVERYONE, PUBLISHED_ONLY),
    op!("get" "/v1/reviews/{id}/claimreview", "A published verdict as schema.org ClaimReview", EVERYONE, PUBLISHED_ONLY),
    op!("get" "/v1/reviews/{id}/claimreview/check", "A ClaimReview with warnings about what search engines need", EVERYONE, PUBLISHED_ONLY),
    op!("put" "/v1/reviews/{id}/published-url", "Set the newsroom page that publishes a verdict", DECIDERS),
    op!("get" "/v1/rating-scales", "List rating scales", EVERYONE),
    op!("post" "/v1/rating-scales", "Create a rating scale", SCALES),
    // Newsroom CMSs.
    op!("get" "/v1/lookup", "Claims and verdicts about the article at a URL", EVERYONE,
        Some("Integrations see published verdicts only.")),
    op!("get" "/v1/changes", "The change feed (NDJSON, or server-sent events)", EVERYONE,
        Some("Integrations see publications, corrections and retractions only.")),
    op!("get" "/v1/webhooks", "List webhook endpoints", WEBHOOKS),
    op!("post" "/v1/webhooks", "Register a webhook endpoint", WEBHOOKS),
    op!("get" "/v1/webhooks/{id}", "Get a webhook endpoint", WEBHOOKS),
    op!("delete" "/v1/webhooks/{id}", "Delete a webhook endpoint", WEBHOOKS),
    op!("post" "/v1/webhooks/{id}/rotate-secret", "Rotate an endpoint's signing secret", WEBHOOKS),
    op!("post" "/v1/webhooks/{id}/enable", "Enable a disabled endpoint again", WEBHOOKS),
    op!("post" "/v1/webhooks/{id}/test", "Send a test ping to an endpoint", WEBHOOKS),
    op!("get" "/v1/webhooks/{id}/deliveries", "List an endpoint's deliveries and attempts", WEBHOOKS),
    op!("post" "/v1/webhooks/{id}/deliveries/{message_id}/replay", "Deliver a message again", WEBHOOKS),
    // People, keys and the audit trail.
    op!("get" "/v1/people", "List people", READERS),
    op!("post" "/v1/people", "Add a person", KEYS),
    op!("get" "/v1/people/{handle}", "Get a person", READERS),
    op!("get" "/v1/people/{handle}/keys", "List a person's keys", KEYS),
    op!("get" "/v1/keys", "List API keys", KEYS),
    op!("post" "/v1/keys", "Create an API key for a person", KEYS),
    op!("post" "/v1/keys/{id}/revoke", "Revoke an API key", KEYS),
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
    let mut line = if op.permission.is_none() {
        "**Roles:** none needed (no API key).".to_owned()
    } else {
        let names: Vec<String> = op
            .roles()
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
/// drift from it: the review state machine and the audit hash recipe (docs/api.md holds the
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

    /// The API guide (docs/api.md) carries the generated guide word for word.
    #[test]
    fn the_readme_carries_the_guide() {
        let readme = include_str!("../../docs/api.md");
        let (start, end) = (
            "<!-- guide: generated by http::operations::guide -->\n",
            "<!-- /guide -->",
        );
        let from = readme.find(start).expect("docs/api.md marks the guide") + start.len();
        let to = readme[from..].find(end).expect("the guide's end") + from;
        assert!(
            readme[from..to] == guide(),
            "docs/api.md's guide differs from the code's; replace it with `cargo run -- openapi --guide`"
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

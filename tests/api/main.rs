//! Integration tests: the real server on a loopback port, on SQLite and on PostgreSQL.
//! Every test in a module listed in `both_backends!` runs once per backend.

mod helpers;

mod audit;
mod auth;
mod claims;
mod cms;
mod corpus;
mod desk;
mod errors;
mod idempotency;
mod lifecycle;
mod markup;
mod newsroom;
mod openapi;
mod operations;
mod passages;
mod people;
mod placements;
mod records;
mod reviews;
mod search;
mod sources;
mod statistics;
mod tlog;
mod webhooks;

/// A scenario runs only when its file lists it in `both_backends!(…)`: every
/// `async fn name(backend: Backend)` of these files must be listed there (and only those), or
/// it would silently never run.
#[test]
fn every_scenario_is_registered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api");
    let mut unlisted = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // `async fn name(backend: Backend)`, the one parameter on the same line or the next.
        let defined: std::collections::BTreeSet<&str> = text
            .split("\nasync fn ")
            .skip(1)
            .filter_map(|rest| rest.split_once('('))
            .filter(|(_, after)| {
                let params = after.split(')').next().unwrap_or_default().trim();
                params.trim_end_matches(',') == "backend: Backend"
            })
            .map(|(name, _)| name)
            .collect();
        const LIST: &str = "\ncrate::both_backends!(";
        let listed: std::collections::BTreeSet<&str> = match text.find(LIST) {
            Some(at) => text[at + LIST.len()..]
                .split(')')
                .next()
                .unwrap()
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect(),
            None => Default::default(),
        };
        for name in defined.symmetric_difference(&listed) {
            unlisted.push(format!("{}: {name}", path.display()));
        }
    }
    assert!(
        unlisted.is_empty(),
        "scenarios defined but not in both_backends!, or listed but not defined: {unlisted:#?}"
    );
}

//! What each write records in the audit trail: the event's action, entity and changes are
//! decided here, once, whatever backend stores them.

use serde_json::json;

use super::anchor::reanchor::PlacementState;
use super::audit::Event;
use super::ids::{ClaimId, EvidenceId, KeyId, PassageId, ReviewId, SourceId};
use super::review::{RatingScale, State};
use super::{NewSource, NewVersion, Passage, Placement, Stance, Version};

pub fn source_created(id: SourceId, new: &NewSource, version: &NewVersion) -> Event {
    let changes = json!({
        "title": new.title, "url": new.url, "publisher": new.publisher, "authors": new.authors,
        "published_at": new.published_at, "import_key": new.import_key, "kind": new.kind,
        "version": {"number": 1, "sha256": version.sha256, "length": version.length},
    });
    let mut changes = changes;
    if new.title_derived {
        // Only then, so entries of stated titles keep their shape.
        changes["title_derived"] = json!(true);
    }
    Event::new("create", "source", id, changes)
}

pub fn version_added(source_id: SourceId, v: &Version) -> Event {
    let changes = json!({"number": v.number, "sha256": v.sha256, "length": v.length});
    Event::new("add_version", "source", source_id, changes)
}

pub fn passage_created(p: &Passage) -> Event {
    let mut changes = json!({
        "source_id": p.source_id, "version": p.version, "start": p.start, "end": p.end, "exact": p.exact,
    });
    // The quote as pasted, when it was (kept with the passage, so covered by the chain too).
    if let Some(pasted) = &p.pasted {
        changes["pasted"] = json!(pasted);
    }
    Event::new("create", "passage", p.id, changes)
}

/// Every automatic placement made when a version was added, in one entry.
pub fn passages_placed(source_id: SourceId, version: i64, placements: &[Placement]) -> Event {
    let count = |state| placements.iter().filter(|p| p.state == state).count();
    let each: Vec<_> = placements
        .iter()
        .map(|p| {
            json!({
                "passage_id": p.passage_id, "state": p.state, "method": p.method,
                "start": p.start, "end": p.end, "score": p.score,
                "numbers": p.change.as_ref().and_then(|c| c.numbers.as_ref()),
                "orphan": p.orphan,
            })
        })
        .collect();
    let changes = json!({
        "version": version,
        "placed": count(PlacementState::Placed),
        "changed": count(PlacementState::Changed),
        "orphaned": count(PlacementState::Orphaned),
        "placements": each,
    });
    Event::new("place_passages", "source", source_id, changes)
}

/// A person confirmed a placement or placed the passage by hand.
pub fn placement_decided(p: &Placement, confirmed: bool) -> Event {
    let changes = json!({
        "version": p.version, "decision": if confirmed { "confirm" } else { "place" },
        "state": p.state, "start": p.start, "end": p.end, "exact": p.exact, "note": p.note,
    });
    Event::new("decide_placement", "passage", p.passage_id, changes)
}

/// A citation link between two passages.
pub fn derivation_added(passage_id: PassageId, from: PassageId, relation: &str) -> Event {
    let changes = json!({"from_passage_id": from, "relation": relation});
    Event::new("add_derivation", "passage", passage_id, changes)
}

pub fn claim_created(
    id: ClaimId,
    text: &str,
    claimant: Option<&str>,
    claimant_kind: super::ClaimantKind,
    appearances: &[PassageId],
) -> Event {
    let changes = json!({"text": text, "claimant": claimant, "claimant_kind": claimant_kind,
                         "appearances": appearances});
    Event::new("create", "claim", id, changes)
}

/// The fields that changed, each with its value before and after:
/// `{"before": {...}, "after": {...}}`.
pub fn before_after(before: &serde_json::Value, after: &serde_json::Value) -> serde_json::Value {
    let (mut was, mut now) = (serde_json::Map::new(), serde_json::Map::new());
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (field, value) in a {
            let old = b.get(field).cloned().unwrap_or(serde_json::Value::Null);
            if &old != value {
                was.insert(field.clone(), old);
                now.insert(field.clone(), value.clone());
            }
        }
    }
    json!({"before": was, "after": now})
}

pub fn source_updated(before: &super::Source, after: &super::Source) -> Event {
    let fields = |s: &super::Source| {
        json!({"title": s.title, "url": s.url, "publisher": s.publisher, "authors": s.authors,
               "published_at": s.published_at, "kind": s.kind})
    };
    Event::new(
        "update",
        "source",
        after.id,
        before_after(&fields(before), &fields(after)),
    )
}

pub fn claim_updated(before: &super::Claim, after: &super::Claim) -> Event {
    let fields = |c: &super::Claim| json!({"text": c.text, "claimant": c.claimant, "claimant_kind": c.claimant_kind});
    Event::new(
        "update",
        "claim",
        after.id,
        before_after(&fields(before), &fields(after)),
    )
}

pub fn appearance_added(claim_id: ClaimId, passage_id: PassageId) -> Event {
    Event::new(
        "add_appearance",
        "claim",
        claim_id,
        json!({"passage_id": passage_id}),
    )
}

pub fn evidence_withdrawn(id: EvidenceId, claim_id: ClaimId, note: &str) -> Event {
    Event::new(
        "withdraw",
        "evidence",
        id,
        json!({"claim_id": claim_id, "note": note}),
    )
}

pub fn evidence_added(
    id: EvidenceId,
    claim_id: ClaimId,
    passage_id: PassageId,
    stance: Stance,
    note: Option<&str>,
) -> Event {
    let changes = json!({"claim_id": claim_id, "passage_id": passage_id, "stance": stance.as_str(), "note": note});
    Event::new("create", "evidence", id, changes)
}

pub fn scale_created(scale: &RatingScale) -> Event {
    let changes = json!({"name": scale.name, "ratings": scale.ratings});
    Event::new("create", "rating_scale", &scale.id, changes)
}

/// The content of a review as drafted or edited.
pub struct ReviewContent<'a> {
    pub scale: &'a str,
    pub rating: &'a str,
    pub summary: &'a str,
    pub evidence: &'a [EvidenceId],
}

pub fn review_created(
    id: ReviewId,
    claim_id: ClaimId,
    c: &ReviewContent<'_>,
    corrects: Option<ReviewId>,
) -> Event {
    let changes = json!({
        "claim_id": claim_id, "scale": c.scale, "rating": c.rating, "summary": c.summary,
        "evidence": c.evidence, "corrects": corrects, "state": State::Draft.as_str(), "revision": 1,
    });
    Event::new("create", "review", id, changes)
}

pub fn review_edited(id: ReviewId, c: &ReviewContent<'_>, revision: i64) -> Event {
    let changes = json!({
        "scale": c.scale, "rating": c.rating, "summary": c.summary, "evidence": c.evidence, "revision": revision,
    });
    Event::new("edit", "review", id, changes)
}

/// One review's move in a workflow step (`revision`: the review's revision after it).
pub fn review_moved(
    id: ReviewId,
    from: State,
    to: State,
    note: Option<&str>,
    revision: i64,
    second_person_rule: bool,
) -> Event {
    let changes = json!({
        "from": from.as_str(), "to": to.as_str(), "note": note,
        "revision": revision, "second_person_rule": second_person_rule,
    });
    Event::new("transition", "review", id, changes)
}

/// Where a verdict is published, set when publishing or later by an editor.
pub fn published_url_set(id: ReviewId, url: Option<&str>, revision: i64) -> Event {
    let changes = json!({"published_url": url, "revision": revision});
    Event::new("set_published_url", "review", id, changes)
}

pub fn source_alias_added(source_id: SourceId, url: &str) -> Event {
    Event::new("add_alias", "source", source_id, json!({"url": url}))
}

pub fn webhook_created(id: uuid::Uuid, url: &str, events: &[String]) -> Event {
    Event::new(
        "create",
        "webhook",
        id,
        json!({"url": url, "events": events}),
    )
}

pub fn webhook_deleted(id: uuid::Uuid) -> Event {
    Event::new("delete", "webhook", id, json!({}))
}

pub fn webhook_secret_rotated(id: uuid::Uuid, old_valid_until: time::OffsetDateTime) -> Event {
    let until = old_valid_until
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Event::new(
        "rotate_secret",
        "webhook",
        id,
        json!({"previous_valid_until": until}),
    )
}

pub fn webhook_enabled(id: uuid::Uuid) -> Event {
    Event::new("enable", "webhook", id, json!({}))
}

pub fn key_created(key: &super::access::ApiKey) -> Event {
    Event::new(
        "create",
        "api_key",
        key.id,
        json!({"name": key.name, "role": key.role.as_str(), "person": key.person}),
    )
}

pub fn person_created(p: &super::access::Person) -> Event {
    Event::new(
        "create",
        "person",
        &p.handle,
        json!({"handle": p.handle, "display_name": p.display_name}),
    )
}

pub fn key_revoked(id: KeyId) -> Event {
    Event::new("revoke", "api_key", id, json!({}))
}

/// Stored URL keys recomputed under a new lookup-form rule (at start).
pub fn url_keys_recomputed(
    previous: Option<&str>,
    fingerprint: &str,
    source_urls: usize,
    dropped: &[(String, SourceId, SourceId)],
    published_urls: usize,
) -> Event {
    let dropped: Vec<_> = dropped
        .iter()
        .map(|(url, source, kept)| json!({"url": url, "source_id": source, "kept_by": kept}))
        .collect();
    let changes = json!({
        "before": previous, "after": fingerprint, "source_urls": source_urls,
        "dropped": dropped, "published_urls": published_urls,
    });
    Event::new("recompute_url_keys", "url_rule", 1, changes)
}

//! The tamper-evident audit trail: each entry's hash covers a canonical encoding of the entry
//! and the previous entry's hash, so changing, removing or reordering any entry breaks every
//! hash after it.

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a write did, before it is sealed into the chain.
#[derive(Debug, Clone)]
pub struct Event {
    /// `create`, `add_version`, `transition`, `revoke`, ...
    pub action: &'static str,
    /// `source`, `passage`, `claim`, `evidence`, `review`, `api_key`, ...
    pub entity: &'static str,
    pub entity_id: String,
    /// What changed, as JSON.
    pub changes: serde_json::Value,
}

impl Event {
    pub fn new(
        action: &'static str,
        entity: &'static str,
        entity_id: impl ToString,
        changes: serde_json::Value,
    ) -> Event {
        Event {
            action,
            entity,
            entity_id: entity_id.to_string(),
            changes,
        }
    }
}

/// One stored entry of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Entry {
    /// 1, 2, 3, ... without gaps.
    pub seq: i64,
    /// RFC 3339, UTC, microseconds.
    pub at: String,
    /// Name of the API key (or `cli`, `demo`) that made the change.
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// What changed: a JSON document, kept as the exact text that was hashed.
    pub changes: String,
    pub prev_hash: String,
    /// SHA-256 (hex) of `prev_hash`, a newline and the canonical encoding of the other fields.
    pub hash: String,
}

/// The canonical encoding: a JSON array of the fields in a fixed order.
fn canonical(
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    changes: &str,
) -> String {
    serde_json::to_string(&(seq, at, actor, action, entity, entity_id, changes))
        .expect("strings and numbers serialize")
}

fn chain_hash(prev_hash: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

impl Entry {
    /// The hash this entry should have, given its fields.
    pub fn expected_hash(&self) -> String {
        let c = canonical(
            self.seq,
            &self.at,
            &self.actor,
            &self.action,
            &self.entity,
            &self.entity_id,
            &self.changes,
        );
        chain_hash(&self.prev_hash, &c)
    }
}

/// Seals an event as the entry after `head` (the last entry's `seq` and `hash`, if any).
pub fn seal(head: Option<(i64, String)>, at: String, actor: &str, event: Event) -> Entry {
    let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS.to_owned()));
    let mut entry = Entry {
        seq: prev_seq + 1,
        at,
        actor: actor.to_owned(),
        action: event.action.to_owned(),
        entity: event.entity.to_owned(),
        entity_id: event.entity_id,
        changes: event.changes.to_string(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry.expected_hash();
    entry
}

/// Where a chain stops verifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Break {
    /// An entry is missing: `expected` was the next sequence number, `found` came instead.
    Gap { expected: i64, found: i64 },
    /// The entry's stored hash does not match its contents (it was changed).
    Altered { seq: i64 },
    /// The entry does not point at the hash of the entry before it.
    Unlinked { seq: i64 },
}

/// Checks entries one by one, in `seq` order.
#[derive(Debug, Clone)]
pub struct Verifier {
    next_seq: i64,
    head_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            next_seq: 1,
            head_hash: GENESIS.to_owned(),
        }
    }
}

impl Verifier {
    pub fn push(&mut self, entry: &Entry) -> Result<(), Break> {
        if entry.seq != self.next_seq {
            return Err(Break::Gap {
                expected: self.next_seq,
                found: entry.seq,
            });
        }
        if entry.prev_hash != self.head_hash {
            return Err(Break::Unlinked { seq: entry.seq });
        }
        if entry.hash != entry.expected_hash() {
            return Err(Break::Altered { seq: entry.seq });
        }
        self.next_seq += 1;
        self.head_hash = entry.hash.clone();
        Ok(())
    }

    /// Entries verified so far.
    pub fn length(&self) -> i64 {
        self.next_seq - 1
    }

    /// Hash of the last verified entry (`GENESIS` for an empty chain).
    pub fn head(&self) -> &str {
        &self.head_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: usize) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        for i in 0..n {
            let head = entries.last().map(|e| (e.seq, e.hash.clone()));
            let event = Event::new("create", "claim", i, json!({"text": format!("claim {i}")}));
            entries.push(seal(
                head,
                format!("2026-01-01T00:00:0{i}Z"),
                "alice",
                event,
            ));
        }
        entries
    }

    fn verify(entries: &[Entry]) -> Result<(i64, String), Break> {
        let mut v = Verifier::default();
        for e in entries {
            v.push(e)?;
        }
        Ok((v.length(), v.head().to_owned()))
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let entries = chain(5);
        assert_eq!(entries[0].prev_hash, GENESIS);
        assert_eq!(entries[3].prev_hash, entries[2].hash);
        assert_eq!(verify(&entries), Ok((5, entries[4].hash.clone())));
        assert_eq!(verify(&[]), Ok((0, GENESIS.to_owned())));
    }

    #[test]
    fn any_changed_field_is_named() {
        for field in 0..6 {
            let mut entries = chain(4);
            let e = &mut entries[2];
            match field {
                0 => e.at.push('1'),
                1 => e.actor = "mallory".into(),
                2 => e.action = "delete".into(),
                3 => e.entity = "source".into(),
                4 => e.entity_id = "x".into(),
                _ => e.changes = "{}".into(),
            }
            assert_eq!(
                verify(&entries),
                Err(Break::Altered { seq: 3 }),
                "field {field}"
            );
        }
    }

    #[test]
    fn a_removed_entry_is_a_gap_and_a_rehashed_one_is_unlinked() {
        let mut entries = chain(4);
        entries.remove(1);
        assert_eq!(
            verify(&entries),
            Err(Break::Gap {
                expected: 2,
                found: 3
            })
        );

        // Rewriting an entry and its own hash still breaks the link from the next one.
        let mut entries = chain(4);
        entries[1].changes = "{\"text\":\"forged\"}".into();
        entries[1].hash = entries[1].expected_hash();
        assert_eq!(verify(&entries), Err(Break::Unlinked { seq: 3 }));
    }

    #[test]
    fn canonical_encoding_separates_fields() {
        // Moving characters between fields must change the hash.
        let a = canonical(1, "t", "ab", "c", "e", "i", "{}");
        let b = canonical(1, "t", "a", "bc", "e", "i", "{}");
        assert_ne!(chain_hash(GENESIS, &a), chain_hash(GENESIS, &b));
    }
}

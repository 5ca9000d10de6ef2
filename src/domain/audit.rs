//! The tamper-evident audit trail: each entry's hash covers a canonical encoding of the entry
//! and the previous entry's hash, so changing, removing or reordering any entry breaks every
//! hash after it.

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::access::Who;

/// How an auditor recomputes an entry's hash, for the contract and the README.
pub const HASH_SPEC: &str = "Each audit entry's `hash` is the lower-case hex SHA-256 of its \
`prev_hash`, a line feed, and the entry's canonical encoding: the compact JSON array \
`[seq, at, actor, action, entity, entity_id, changes]`, with `key_id` as an eighth element when \
the entry has one. `changes` goes into the array as a JSON string: the entry's `changes` object \
written compactly (no white space), object keys in code point order, characters beyond ASCII \
as themselves (UTF-8), and only `\"`, `\\` and control characters escaped (`\\n`, `\\t`, \
`\\u001f`, ...). The first entry's `prev_hash` is 64 zeros; each later entry's is the hash \
of the entry before. In Python:";

/// The recomputation in Python: `entry_hash(e)` for an entry `e` as the API shows it. The API
/// tests run it.
pub const PYTHON_RECOMPUTE: &str = r#"import hashlib, json

def entry_hash(e):
    changes = json.dumps(e["changes"], separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    fields = [e["seq"], e["at"], e["actor"], e["action"], e["entity"], e["entity_id"], changes]
    if e.get("key_id") is not None:
        fields.append(e["key_id"])
    canonical = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((e["prev_hash"] + "\n" + canonical).encode("utf-8")).hexdigest()
"#;

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
    /// Handle of the person who made the change (or the operator: `cli`, `demo`, ...).
    pub actor: String,
    /// The API key they used; absent for the operator and for entries written before people
    /// existed (their `actor` is then the key's name).
    pub key_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// What changed, as a JSON object: the exact text that was hashed, embedded as it is
    /// (compact, object keys sorted, non-ASCII characters unescaped). Only an entry whose
    /// stored text is not JSON (tampered with) shows it as a string.
    #[serde(serialize_with = "verbatim_json")]
    #[schema(value_type = Object)]
    pub changes: String,
    pub prev_hash: String,
    /// SHA-256 (hex) of `prev_hash`, a newline and the canonical encoding of the other fields.
    pub hash: String,
}

/// Writes stored JSON text into the answer as it is (so its bytes are the hashed ones).
fn verbatim_json<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::value::RawValue::from_string(text.to_owned()) {
        Ok(raw) => raw.serialize(s),
        Err(_) => s.serialize_str(text),
    }
}

/// The canonical encoding: a JSON array of the fields in a fixed order,
/// `[seq, at, actor, action, entity, entity_id, changes]`, with `key_id` as an eighth element
/// when the entry has one (so entries written before keys were recorded keep their hashes).
fn canonical(e: &Entry) -> String {
    let fields = (
        e.seq,
        &e.at,
        &e.actor,
        &e.action,
        &e.entity,
        &e.entity_id,
        &e.changes,
    );
    match &e.key_id {
        None => serde_json::to_string(&fields),
        Some(key) => {
            let (a, b, c, d, f, g, h) = fields;
            serde_json::to_string(&(a, b, c, d, f, g, h, key))
        }
    }
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
        chain_hash(&self.prev_hash, &canonical(self))
    }
}

/// Seals an event as the entry after `head` (the last entry's `seq` and `hash`, if any).
pub fn seal(head: Option<(i64, String)>, at: String, who: &Who, event: Event) -> Entry {
    let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS.to_owned()));
    let mut entry = Entry {
        seq: prev_seq + 1,
        at,
        actor: who.person.clone(),
        key_id: who.key.map(|k| k.to_string()),
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
    /// A checkpoint published earlier is not in the chain: entry `seq` now has another hash
    /// (`found`: history was rewritten and chained anew), or the chain ends before it
    /// (`found` is null: its tail was cut off). Neither shows from inside the chain.
    Checkpoint {
        seq: i64,
        expected: String,
        found: Option<String>,
    },
}

/// An entry's sequence number and hash as published earlier (from a verify report's `length`
/// and `head`), which the chain must still hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
}

/// Checks entries one by one, in `seq` order.
#[derive(Debug, Clone)]
pub struct Verifier {
    next_seq: i64,
    head_hash: String,
    checkpoint: Option<Checkpoint>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            next_seq: 1,
            head_hash: GENESIS.to_owned(),
            checkpoint: None,
        }
    }
}

impl Verifier {
    /// A verifier that also requires the chain to hold `checkpoint` (see [`Verifier::finish`]).
    pub fn expecting(checkpoint: Checkpoint) -> Self {
        Verifier {
            checkpoint: Some(checkpoint),
            ..Verifier::default()
        }
    }

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
        if let Some(c) = &self.checkpoint
            && c.seq == entry.seq
            && c.hash != entry.hash
        {
            return Err(Break::Checkpoint {
                seq: c.seq,
                expected: c.hash.clone(),
                found: Some(entry.hash.clone()),
            });
        }
        self.next_seq += 1;
        self.head_hash = entry.hash.clone();
        Ok(())
    }

    /// After the last entry: whether the chain reached the checkpoint, if there is one.
    pub fn finish(&self) -> Result<(), Break> {
        match &self.checkpoint {
            Some(c) if c.seq > self.length() => Err(Break::Checkpoint {
                seq: c.seq,
                expected: c.hash.clone(),
                found: None,
            }),
            _ => Ok(()),
        }
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
            // Every other entry names the key used: both encodings in one chain.
            let who = Who {
                person: "alice".into(),
                key: (i % 2 == 1).then(|| crate::domain::KeyId::from_uuid(uuid::Uuid::nil())),
            };
            entries.push(seal(head, format!("2026-01-01T00:00:0{i}Z"), &who, event));
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
    fn the_encoding_is_the_documented_one() {
        // What an auditor recomputes: SHA-256 of prev_hash, "\n", and the JSON array.
        let e = &chain(2)[1];
        let array = json!([
            e.seq,
            e.at,
            e.actor,
            e.action,
            e.entity,
            e.entity_id,
            e.changes,
            e.key_id
        ]);
        let mut h = Sha256::new();
        h.update(format!("{}\n{}", e.prev_hash, array).as_bytes());
        assert_eq!(e.hash, hex::encode(h.finalize()));
        // Without a key the array has seven elements (entries from before keys were recorded).
        let first = &chain(1)[0];
        assert_eq!(first.key_id, None);
        let array = json!([
            first.seq,
            first.at,
            first.actor,
            first.action,
            first.entity,
            first.entity_id,
            first.changes
        ]);
        let mut h = Sha256::new();
        h.update(format!("{GENESIS}\n{array}").as_bytes());
        assert_eq!(first.hash, hex::encode(h.finalize()));
        // The key is covered: another key breaks the entry's hash.
        let mut forged = e.clone();
        forged.key_id = Some(crate::domain::KeyId::new().to_string());
        assert_ne!(forged.expected_hash(), e.hash);
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let entries = chain(5);
        assert_eq!(entries[0].prev_hash, GENESIS);
        assert_eq!(entries[3].prev_hash, entries[2].hash);
        assert_eq!(verify(&entries), Ok((5, entries[4].hash.clone())));
        assert_eq!(verify(&[]), Ok((0, GENESIS.to_owned())));
    }

    fn verify_against(entries: &[Entry], checkpoint: Checkpoint) -> Result<i64, Break> {
        let mut v = Verifier::expecting(checkpoint);
        for e in entries {
            v.push(e)?;
        }
        v.finish().map(|()| v.length())
    }

    #[test]
    fn a_checkpoint_catches_a_cut_tail_and_a_rewritten_history() {
        let entries = chain(5);
        let published = Checkpoint {
            seq: 4,
            hash: entries[3].hash.clone(),
        };
        assert_eq!(verify_against(&entries, published.clone()), Ok(5));
        // The last two entries deleted: the rest is a valid chain of 3.
        assert_eq!(verify(&entries[..3]), Ok((3, entries[2].hash.clone())));
        assert_eq!(
            verify_against(&entries[..3], published.clone()),
            Err(Break::Checkpoint {
                seq: 4,
                expected: published.hash.clone(),
                found: None
            })
        );
        // Entry 2 changed and every hash after it recomputed: valid, but not what was published.
        let mut rewritten = chain(5);
        rewritten[1].actor = "mallory".into();
        for i in 1..rewritten.len() {
            rewritten[i].prev_hash = rewritten[i - 1].hash.clone();
            rewritten[i].hash = rewritten[i].expected_hash();
        }
        assert!(verify(&rewritten).is_ok());
        assert_eq!(
            verify_against(&rewritten, published.clone()),
            Err(Break::Checkpoint {
                seq: 4,
                expected: published.hash,
                found: Some(rewritten[3].hash.clone())
            })
        );
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
        let mut a = chain(1).remove(0);
        a.actor = "ab".into();
        a.action = "c".into();
        let mut b = a.clone();
        b.actor = "a".into();
        b.action = "bc".into();
        assert_ne!(canonical(&a), canonical(&b));
        assert_ne!(a.expected_hash(), b.expected_hash());
    }
}

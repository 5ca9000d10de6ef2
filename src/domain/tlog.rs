//! The transparency log over the audit trail: an RFC 6962 Merkle tree whose leaves are the
//! chain's entry hashes, checkpoints as C2SP signed notes, proofs and tiles in the formats of
//! Certificate Transparency and Go's checksum database, so that their verifiers check ours.
//!
//! Plain computation: the store keeps each entry's tree hashes (Go's `sumdb/tlog` layout:
//! entry `seq` stores the leaf and the subtrees it completes), the app reads what a proof
//! needs. The tree arithmetic is `tlog_tiles`'s (a port of Go's `sumdb/tlog`), the notes
//! `signed_note`'s.

use std::cell::RefCell;
use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use signed_note::{Note, Signature, Signer, StandardSigner, StandardVerifier, VerifierList};
pub use tlog_tiles::Hash;
use tlog_tiles::{HashReader, Tile, node_hash, record_hash, split_stored_hash_index};

/// How an auditor checks the log, for the contract and the README.
pub const LOG_SPEC: &str = "The audit trail is also a transparency log (RFC 6962, C2SP \
`tlog-tiles`): leaf `seq - 1` is the SHA-256 of the byte 0x00 and the 32 bytes of entry `seq`'s \
`hash`, and each inner node the SHA-256 of the byte 0x01, its left and its right child. \
`GET /v1/audit/checkpoint` is a C2SP signed note (origin, size and base64 root, a blank line, then \
`— <key name> <base64(4-byte key id, Ed25519 signature)>`) by the key `GET /v1/audit/key` \
publishes: publish that key where your readers find it. Keep checkpoints: \
`claimtrail audit verify --checkpoint FILE` shows later that the log still extends one, and \
names a cut tail or a rewritten history. `claimtrail audit prove --seq S` writes a C2SP \
`tlog-proof` (the entry, its inclusion proof, the signed checkpoint) that anyone checks offline \
with the verifier key; in Python with the `cryptography` package and `entry_hash` above:";

/// The offline check of a `claimtrail audit prove` file in Python: `verify_proof(text, key)`
/// returns the entry. The API tests run it.
pub const PYTHON_VERIFY_PROOF: &str = r#"import base64, hashlib, json
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()

def root_from_inclusion(index, size, leaf, path):
    # RFC 9162, section 2.1.3.2
    if index >= size:
        raise ValueError("the index is beyond the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("the proof is too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("the proof is too short")
    return r

def checked_checkpoint(note, vkey):
    # vkey as GET /v1/audit/key gives it: name+key id+base64(0x01, public key)
    name, key_id, key = vkey.strip().split("+", 2)
    key = base64.b64decode(key)
    if key[0] != 1 or hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex() != key_id:
        raise ValueError("not an Ed25519 verifier key")
    text, signatures = note.split("\n\n", 1)
    text += "\n"
    for line in signatures.splitlines():
        signer, sig = line.removeprefix("\u2014 ").split(" ", 1)
        sig = base64.b64decode(sig)
        if signer == name and sig[:4].hex() == key_id:
            # Raises InvalidSignature for a checkpoint that was altered.
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(sig[4:], text.encode())
            origin, size, root = text.splitlines()[:3]
            return origin, int(size), base64.b64decode(root)
    raise ValueError("the checkpoint is not signed by this key")

def verify_proof(proof, vkey):
    head, checkpoint = proof.split("\n\n", 1)
    lines = head.splitlines()
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise ValueError("not a tlog-proof")
    entry = json.loads(base64.b64decode(lines[1].removeprefix("extra ")))
    index = int(lines[2].removeprefix("index "))
    path = [base64.b64decode(h) for h in lines[3:]]
    origin, size, root = checked_checkpoint(checkpoint, vkey)
    if entry_hash(entry) != entry["hash"] or entry["seq"] != index + 1:
        raise ValueError("the entry does not hash to its hash")
    leaf = hashlib.sha256(b"\x00" + bytes.fromhex(entry["hash"])).digest()
    if root_from_inclusion(index, size, leaf, path) != root:
        raise ValueError("the entry is not in the checkpoint's tree")
    return entry
"#;

/// Tile height of C2SP `tlog-tiles`: 256 hashes a tile.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// The leaf of the entry whose `hash` is `hex`: SHA-256 of 0x00 and the hash's 32 raw bytes.
/// `None` for text that is not 64 hex digits (a tampered entry).
pub fn leaf_hash(hex: &str) -> Option<Hash> {
    let raw: [u8; 32] = hex::decode(hex).ok()?.try_into().ok()?;
    Some(record_hash(&raw))
}

/// Where stored hash `index` is kept: in the tree row of entry `seq`, at position `pos` (that
/// entry's list is its leaf, then each subtree it completes, level by level).
pub fn stored_at(index: u64) -> (i64, usize) {
    let (level, k) = split_stored_hash_index(index);
    let record = ((k + 1) << level) - 1;
    (record as i64 + 1, usize::from(level))
}

/// The right edge of a tree: the roots of the perfect subtrees that make it up, left to right
/// (one per set bit of its size). Enough to append and to compute the root, in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Frontier {
    size: u64,
    roots: Vec<Hash>,
}

impl Frontier {
    pub fn empty() -> Frontier {
        Frontier {
            size: 0,
            roots: Vec::new(),
        }
    }

    /// The stored hashes a tree of `size` leaves is made of, in the order
    /// [`Frontier::from_hashes`] takes them.
    pub fn indexes(size: u64) -> Vec<u64> {
        if size == 0 {
            return Vec::new();
        }
        tlog_tiles::sub_tree_index(0, size, Vec::new())
    }

    /// The frontier of a tree of `size` leaves from the hashes at [`Frontier::indexes`].
    pub fn from_hashes(size: u64, roots: Vec<Hash>) -> Frontier {
        debug_assert_eq!(roots.len(), size.count_ones() as usize);
        Frontier { size, roots }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf and returns the hashes its entry stores: the leaf, then the root of each
    /// subtree it completes (what `tlog::stored_hashes` computes, without reading).
    pub fn push(&mut self, leaf: Hash) -> Vec<Hash> {
        let completes = self.size.trailing_ones();
        let mut stored = Vec::with_capacity(1 + completes as usize);
        stored.push(leaf);
        let mut h = leaf;
        for _ in 0..completes {
            let left = self.roots.pop().expect("a root per set bit of the size");
            h = node_hash(left, h);
            stored.push(h);
        }
        self.roots.push(h);
        self.size += 1;
        stored
    }

    /// The tree's root (RFC 6962's MTH); the hash of the empty string for an empty tree.
    pub fn root(&self) -> Hash {
        let mut roots = self.roots.iter().rev();
        let Some(&last) = roots.next() else {
            return tlog_tiles::EMPTY_HASH;
        };
        roots.fold(last, |right, &left| node_hash(left, right))
    }
}

/// A reader that only notes which hashes a computation asks for. The tree functions choose
/// their hashes from the sizes alone, so a first run with it tells the store what to read.
#[derive(Default)]
pub struct Asked(RefCell<Vec<u64>>);

impl HashReader for Asked {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        self.0.borrow_mut().extend_from_slice(indexes);
        // Stops the computation: its answer would be made of zeros.
        Err(tlog_tiles::Error::IndexesNotInTree)
    }
}

/// The stored hashes `f` needs.
pub fn asked<T>(f: impl FnOnce(&Asked) -> Result<T, tlog_tiles::Error>) -> Vec<u64> {
    let asked = Asked::default();
    let _ = f(&asked);
    asked.0.into_inner()
}

/// Hashes read from the store, by stored index.
pub struct Known(pub HashMap<u64, Hash>);

impl HashReader for Known {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|i| {
                self.0
                    .get(i)
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// A tile of C2SP `tlog-tiles`, as asked for under `tile/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileRequest {
    /// `<L>/<N>[.p/<W>]`: `width` hashes of level `8 L`, from the `index`th tile.
    Hashes(Tile),
    /// `entries/<N>[.p/<W>]`: `width` entries (each the 32 bytes of an entry's hash).
    Entries { index: u64, width: u64 },
}

impl TileRequest {
    /// Parses the path after `tile/`; `None` when it is not a tile path.
    pub fn parse(path: &str) -> Option<TileRequest> {
        // `Tile::from_path` panics on a width of 0 or a level of 64 or more: refused first.
        if let Some((_, width)) = path.rsplit_once(".p/")
            && width.parse::<u32>().is_ok_and(|w| w == 0)
        {
            return None;
        }
        if let Some(level) = path.split('/').next()
            && level.parse::<u64>().is_ok_and(|l| l >= 64)
        {
            return None;
        }
        // The C2SP path is Go's without the height; the parser checks the number's form.
        let go = match path.strip_prefix("entries/") {
            Some(rest) => format!("tile/{TILE_HEIGHT}/data/{rest}"),
            None => format!("tile/{TILE_HEIGHT}/{path}"),
        };
        let tile = Tile::from_path(&go).ok()?;
        if tile.width() == 0 {
            return None;
        }
        Some(if tile.is_data() {
            TileRequest::Entries {
                index: tile.level_index(),
                width: u64::from(tile.width()),
            }
        } else {
            TileRequest::Hashes(tile)
        })
    }

    /// The tree size the tile needs: its last hash (or entry) exists from then on.
    pub fn needs_size(&self) -> Option<u64> {
        let (level, index, width) = match self {
            TileRequest::Hashes(t) => (t.level(), t.level_index(), u64::from(t.width())),
            TileRequest::Entries { index, width } => (0, *index, *width),
        };
        let last = index.checked_mul(TILE_WIDTH)?.checked_add(width)?;
        // `last` hashes of level 8 L cover `last << 8 L` leaves.
        let shift = u32::from(level) * u32::from(TILE_HEIGHT);
        if shift >= 64 || last.leading_zeros() < shift {
            return None;
        }
        Some(last << shift)
    }

    /// A full tile never changes; a partial one is replaced by a wider one as the log grows.
    pub fn is_full(&self) -> bool {
        match self {
            TileRequest::Hashes(t) => u64::from(t.width()) == TILE_WIDTH,
            TileRequest::Entries { width, .. } => *width == TILE_WIDTH,
        }
    }
}

/// An entry bundle: each entry as a big-endian 16-bit length and its bytes (here the 32 raw
/// bytes of the entry's hash, the leaf input).
pub fn entry_bundle(hashes: &[String]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(hashes.len() * 34);
    for hex in hashes {
        let raw = hex::decode(hex).ok().filter(|r| r.len() == 32)?;
        out.extend_from_slice(&32u16.to_be_bytes());
        out.extend_from_slice(&raw);
    }
    Some(out)
}

/// Why a signing key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("is not a signed-note signer key (PRIVATE+KEY+<name>+<id>+<key>, Ed25519)")]
    Malformed,
    #[error(
        "names the key {found:?} but the log's key name is {expected:?}: a key's name is part of its id, so a new name needs a new key (see \"Rotating the log key\")"
    )]
    OtherName { found: String, expected: String },
    #[error("the key name {0:?} is not valid: it must be non-empty, without spaces or '+'")]
    BadName(String),
    #[error(
        "the origin {0:?} is not valid: it must be one non-empty line, like `claims.example.org/audit`"
    )]
    BadOrigin(String),
}

/// The log's signing key and what it signs as.
pub struct LogKey {
    signer: StandardSigner,
    origin: String,
    verifier_key: String,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKey")
            .field("origin", &self.origin)
            .field("verifier_key", &self.verifier_key)
            .finish_non_exhaustive()
    }
}

impl LogKey {
    /// A signer key (the file's text) for a new key named `name`, from a random seed.
    pub fn secret_text(name: &str, seed: [u8; 32]) -> Result<String, KeyError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(KeyError::BadName(name.to_owned()));
        }
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public = [&[1u8][..], signing.verifying_key().as_bytes()].concat();
        let private = [&[1u8][..], &seed[..]].concat();
        Ok(format!(
            "PRIVATE+KEY+{name}+{:08x}+{}\n",
            signed_note::key_id(name, &public),
            BASE64.encode(private)
        ))
    }

    /// The key from its file's text, checked to carry the expected name.
    pub fn from_secret(text: &str, name: &str, origin: &str) -> Result<LogKey, KeyError> {
        if !signed_note::is_key_name_valid(name) {
            return Err(KeyError::BadName(name.to_owned()));
        }
        if origin.trim().is_empty() || origin.chars().any(char::is_control) {
            return Err(KeyError::BadOrigin(origin.to_owned()));
        }
        let signer = StandardSigner::new(text.trim()).map_err(|_| KeyError::Malformed)?;
        if signer.name() != name {
            return Err(KeyError::OtherName {
                found: signer.name().to_owned(),
                expected: name.to_owned(),
            });
        }
        let public = ed25519_verifying_key(text.trim()).ok_or(KeyError::Malformed)?;
        let verifier_key = signed_note::new_ed25519_verifier_key(name, &public);
        Ok(LogKey {
            signer,
            origin: origin.to_owned(),
            verifier_key,
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `<name>+<key id>+<base64(0x01 ‖ public key)>`: what a verifier is given.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The signed checkpoint of a tree: origin, size and root, then the signature line.
    pub fn checkpoint(&self, size: u64, root: Hash) -> String {
        let body = tlog_tiles::Checkpoint::new(&self.origin, size, root, "")
            .expect("the origin was checked at start")
            .to_bytes();
        let mut note = Note::new(&body, &[]).expect("a checkpoint is a well-formed note text");
        note.add_sigs(&[&self.signer as &dyn Signer])
            .expect("Ed25519 signing does not fail");
        String::from_utf8(note.to_bytes()).expect("a note is UTF-8")
    }
}

fn ed25519_verifying_key(secret: &str) -> Option<ed25519_dalek::VerifyingKey> {
    // `PRIVATE+KEY+<name>+<id>+<base64>`: the base64 may itself hold '+'.
    let key = BASE64.decode(secret.splitn(5, '+').nth(4)?).ok()?;
    let seed: [u8; 32] = key.get(1..)?.try_into().ok()?;
    Some(ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key())
}

/// Why a saved checkpoint is not the log's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("is not a signed checkpoint (origin, size and root lines, a blank line, signatures)")]
    Malformed,
    #[error(
        "is not signed by the log's key {expected} (signed by {found}): a checkpoint of another log, or of a key since replaced"
    )]
    OtherKey { expected: String, found: String },
    #[error(
        "carries a signature by the log's key that does not verify: the checkpoint was altered"
    )]
    BadSignature,
    #[error("is for the log {found:?}, not {expected:?}")]
    OtherOrigin { expected: String, found: String },
}

/// A checkpoint, verified.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedHead {
    pub size: u64,
    pub root: Hash,
}

/// Checks a checkpoint's signature with the verifier key `vkey` and its origin.
pub fn verify_checkpoint(
    note: &[u8],
    vkey: &str,
    origin: &str,
) -> Result<SignedHead, CheckpointError> {
    let verifier = StandardVerifier::new(vkey).map_err(|_| CheckpointError::Malformed)?;
    let parsed = Note::from_bytes(note).map_err(|_| CheckpointError::Malformed)?;
    let known = VerifierList::new(vec![Box::new(verifier)]);
    match parsed.verify(&known) {
        Ok(_) => {}
        Err(signed_note::NoteError::UnverifiedNote) => {
            return Err(CheckpointError::OtherKey {
                expected: key_label(vkey),
                found: signers(note).join(", "),
            });
        }
        Err(signed_note::NoteError::InvalidSignature { .. }) => {
            return Err(CheckpointError::BadSignature);
        }
        Err(_) => return Err(CheckpointError::Malformed),
    }
    let head = tlog_tiles::Checkpoint::from_bytes(parsed.text())
        .map_err(|_| CheckpointError::Malformed)?;
    if head.origin() != origin {
        return Err(CheckpointError::OtherOrigin {
            expected: origin.to_owned(),
            found: head.origin().to_owned(),
        });
    }
    Ok(SignedHead {
        size: head.size(),
        root: *head.hash(),
    })
}

/// `name+id` of a verifier key.
fn key_label(vkey: &str) -> String {
    vkey.rsplit_once('+')
        .map_or(vkey, |(label, _)| label)
        .to_owned()
}

/// `name+id` of each signature line of a note.
fn signers(note: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(note);
    let Some((_, sigs)) = text.rsplit_once("\n\n") else {
        return Vec::new();
    };
    sigs.lines()
        .filter_map(|l| Signature::from_bytes(l.as_bytes()).ok())
        .map(|s| format!("{}+{:08x}", s.name(), s.id()))
        .collect()
}

/// A C2SP `tlog-proof`: that leaf `index` is in the tree a checkpoint signs, checkable offline.
/// `extra` carries what rebuilds the leaf (here the audit entry as the API shows it).
pub fn proof_text(extra: &[u8], index: u64, proof: &[Hash], checkpoint: &str) -> String {
    let mut out = String::from("c2sp.org/tlog-proof@v1\n");
    out.push_str(&format!("extra {}\n", BASE64.encode(extra)));
    out.push_str(&format!("index {index}\n"));
    for h in proof {
        out.push_str(&format!("{h}\n"));
    }
    out.push('\n');
    out.push_str(checkpoint);
    out
}

/// Base64 of each hash, as the proofs' JSON carries them.
pub fn base64_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tlog_tiles::{check_record, check_tree, prove_record, prove_tree, stored_hash_index};

    /// Stores leaves as the store does and reads hashes back by stored index.
    struct Rows(Vec<Vec<Hash>>);

    impl HashReader for Rows {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
            Ok(indexes
                .iter()
                .map(|&i| {
                    let (seq, pos) = stored_at(i);
                    self.0[seq as usize - 1][pos]
                })
                .collect())
        }
    }

    fn leaf(i: u64) -> Hash {
        record_hash(&i.to_be_bytes())
    }

    fn grown(n: u64) -> (Frontier, Rows) {
        let mut f = Frontier::empty();
        let mut rows = Rows(Vec::new());
        for i in 0..n {
            rows.0.push(f.push(leaf(i)));
        }
        (f, rows)
    }

    #[test]
    fn the_frontier_stores_what_tlog_stores_and_lands_where_tlog_reads() {
        let (_, rows) = grown(300);
        let mut check = Rows(Vec::new());
        for n in 0..300u64 {
            let expected = tlog_tiles::stored_hashes_for_record_hash(n, leaf(n), &check).unwrap();
            assert_eq!(rows.0[n as usize], expected, "record {n}");
            check.0.push(expected);
            // Each stored hash sits at the position `stored_at` names.
            for (level, _) in rows.0[n as usize].iter().enumerate() {
                let index = stored_hash_index(level as u8, n >> level);
                assert_eq!(stored_at(index), (n as i64 + 1, level));
            }
        }
    }

    #[test]
    fn the_root_is_tlogs_tree_hash_at_every_size() {
        let (_, rows) = grown(130);
        let mut f = Frontier::empty();
        assert_eq!(f.root(), tlog_tiles::EMPTY_HASH);
        for n in 0..130u64 {
            f.push(leaf(n));
            assert_eq!(f.root(), tlog_tiles::tree_hash(n + 1, &rows).unwrap());
            // And the frontier read back from the rows is the same.
            let read = rows.read_hashes(&Frontier::indexes(n + 1)).unwrap();
            assert_eq!(Frontier::from_hashes(n + 1, read), f);
        }
    }

    #[test]
    fn rfc_6962_test_vectors() {
        // The eight leaves of RFC 6962's reference tests (certificate-transparency's
        // merkle_tree_test) and the roots of the trees of 1 to 8 of them.
        let leaves: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let mut f = Frontier::empty();
        for (data, root) in leaves.iter().zip(roots) {
            f.push(record_hash(data));
            assert_eq!(hex::encode(f.root().0), root, "size {}", f.size());
        }
    }

    #[test]
    fn proofs_from_the_rows_check_at_every_leaf_and_size() {
        let (_, rows) = grown(70);
        for size in 1..=70u64 {
            let root = tlog_tiles::tree_hash(size, &rows).unwrap();
            for n in 0..size {
                // The two passes the app makes: learn the indexes, then prove with them.
                let wanted = asked(|r| prove_record(size, n, r));
                let known = Known(
                    wanted
                        .iter()
                        .map(|&i| (i, rows.read_hashes(&[i]).unwrap()[0]))
                        .collect(),
                );
                let proof = prove_record(size, n, &known).unwrap();
                check_record(&proof, size, root, n, leaf(n)).unwrap();
            }
            for old in 1..=size {
                let old_root = tlog_tiles::tree_hash(old, &rows).unwrap();
                let proof = prove_tree(size, old, &rows).unwrap();
                check_tree(&proof, size, root, old, old_root).unwrap();
            }
        }
    }

    /// Every leaf of every size from 1 to 70, and every consistency pair, against ct-merkle
    /// (an RFC 6962 implementation written apart from Go's tlog and its port).
    #[test]
    fn proofs_match_a_second_implementation() {
        let leaves: Vec<[u8; 32]> = (0..70u64)
            .map(|i| <ct_sha2::Sha256 as ct_sha2::Digest>::digest(i.to_be_bytes()).into())
            .collect();
        let (_, rows) = {
            let mut f = Frontier::empty();
            let mut rows = Rows(Vec::new());
            for l in &leaves {
                rows.0.push(f.push(record_hash(l)));
            }
            (f, rows)
        };
        let mut other =
            ct_merkle::mem_backed_tree::MemoryBackedTree::<ct_sha2::Sha256, [u8; 32]>::new();
        for (i, l) in leaves.iter().enumerate() {
            other.push(*l);
            let size = i as u64 + 1;
            let root = tlog_tiles::tree_hash(size, &rows).unwrap();
            assert_eq!(
                root.0.as_slice(),
                other.root().as_bytes().as_slice(),
                "root at {size}"
            );
            for n in 0..size {
                let ours: Vec<u8> = prove_record(size, n, &rows)
                    .unwrap()
                    .iter()
                    .flat_map(|h| h.0)
                    .collect();
                let theirs = other.prove_inclusion(n as usize);
                assert_eq!(ours, theirs.as_bytes(), "leaf {n} of {size}");
                other
                    .root()
                    .verify_inclusion(&leaves[n as usize], n, &theirs)
                    .unwrap();
            }
            for old in 1..size {
                let ours: Vec<u8> = prove_tree(size, old, &rows)
                    .unwrap()
                    .iter()
                    .flat_map(|h| h.0)
                    .collect();
                let theirs = other.prove_consistency((size - old) as usize);
                assert_eq!(ours, theirs.as_bytes(), "{old} to {size}");
            }
        }
    }

    #[test]
    fn tile_paths_as_c2sp_writes_them() {
        let t = TileRequest::parse("0/000").unwrap();
        assert!(t.is_full());
        assert_eq!(t.needs_size(), Some(256));
        let t = TileRequest::parse("0/x001/234.p/5").unwrap();
        assert!(!t.is_full());
        assert_eq!(t.needs_size(), Some(1234 * 256 + 5));
        let t = TileRequest::parse("1/000.p/2").unwrap();
        assert_eq!(t.needs_size(), Some(2 << 8));
        assert_eq!(
            TileRequest::parse("entries/001.p/7"),
            Some(TileRequest::Entries { index: 1, width: 7 })
        );
        for bad in [
            "0/1",
            "0/0001",
            "0/000.p/256",
            "0/000.p/0",
            "0/000.p/00",
            "64/000",
            "255/000",
            "x/000",
            "0/x000/001",
            "",
        ] {
            assert_eq!(TileRequest::parse(bad), None, "{bad}");
        }
        // A level so high that its first tile covers more leaves than a size can hold.
        assert_eq!(TileRequest::parse("9/000").unwrap().needs_size(), None);
    }

    #[test]
    fn every_made_key_loads_back() {
        // Base64 holds '+' in about one key in six: a parse that splits on it fails them.
        for i in 0..64u8 {
            let secret = LogKey::secret_text("a.example/log", [i; 32]).unwrap();
            let key = LogKey::from_secret(&secret, "a.example/log", "a.example/log").unwrap();
            let note = key.checkpoint(1, leaf(0));
            verify_checkpoint(note.as_bytes(), key.verifier_key(), "a.example/log").unwrap();
        }
    }

    #[test]
    fn a_checkpoint_verifies_with_its_key_only() {
        let secret = LogKey::secret_text("log.example/audit", [7; 32]).unwrap();
        let key = LogKey::from_secret(&secret, "log.example/audit", "log.example/audit").unwrap();
        let note = key.checkpoint(5, leaf(1));
        assert!(note.starts_with(&format!(
            "log.example/audit\n5\n{}\n\n— log.example/audit ",
            leaf(1)
        )));
        let head = verify_checkpoint(note.as_bytes(), key.verifier_key(), key.origin()).unwrap();
        assert_eq!(
            head,
            SignedHead {
                size: 5,
                root: leaf(1)
            }
        );

        let other_secret = LogKey::secret_text("log.example/audit", [8; 32]).unwrap();
        let other =
            LogKey::from_secret(&other_secret, "log.example/audit", "log.example/audit").unwrap();
        assert!(matches!(
            verify_checkpoint(note.as_bytes(), other.verifier_key(), other.origin()),
            Err(CheckpointError::OtherKey { .. })
        ));
        let altered = note.replacen("\n5\n", "\n6\n", 1);
        assert!(matches!(
            verify_checkpoint(altered.as_bytes(), key.verifier_key(), key.origin()),
            Err(CheckpointError::BadSignature)
        ));
        assert!(matches!(
            verify_checkpoint(note.as_bytes(), key.verifier_key(), "elsewhere"),
            Err(CheckpointError::OtherOrigin { .. })
        ));
        assert!(matches!(
            LogKey::from_secret(&secret, "renamed", "log.example/audit"),
            Err(KeyError::OtherName { .. })
        ));
        assert!(matches!(
            LogKey::from_secret("PRIVATE+KEY+x+00000000+AAAA", "x", "x"),
            Err(KeyError::Malformed)
        ));
        for origin in ["", " ", "two\nlines"] {
            assert!(matches!(
                LogKey::from_secret(&secret, "log.example/audit", origin),
                Err(KeyError::BadOrigin(_))
            ));
        }
    }
}

//! The transparency log over the audit trail: signed checkpoints, proofs and tiles (see
//! `domain::tlog`).

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;
use crate::domain::tlog::{
    self as tl, CheckpointError, Frontier, Hash, LogKey, SignedHead, TileRequest, asked,
};

/// The log's key and the checkpoint last signed with it.
pub(super) struct LogState {
    key: LogKey,
    /// The largest tree this process signed: the same tree signs to the same note (Ed25519
    /// is deterministic), so it is signed once; and a tree that it does not extend (or that is
    /// not a prefix of it) is never signed (C2SP: a log MUST NOT sign inconsistent checkpoints).
    signed: Mutex<Option<Signed>>,
}

#[derive(Clone)]
struct Signed {
    size: u64,
    root: Hash,
    note: Arc<str>,
}

/// That leaf `leaf_index` is in the tree of `tree_size` leaves (RFC 6962 audit path).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct InclusionProof {
    /// The entry's `seq` − 1.
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Base64 SHA-256 hashes, from the leaf's sibling up to the root's child.
    pub hashes: Vec<String>,
}

/// That the tree of `to` leaves extends the tree of `from` leaves (RFC 6962 consistency proof).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    /// Base64 SHA-256 hashes.
    pub hashes: Vec<String>,
}

/// A tile's bytes, and whether it is full (and so never changes).
#[derive(Debug, Clone)]
pub struct TileData {
    pub bytes: Vec<u8>,
    pub full: bool,
}

/// Why a saved checkpoint does not hold for the log (`claimtrail audit verify --checkpoint`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LogBreak {
    #[error("the checkpoint {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("the log was cut: it holds {size} entries, and the checkpoint saw {checkpoint_size}")]
    CutTail { size: u64, checkpoint_size: u64 },
    #[error(
        "the log was rewritten: its first {checkpoint_size} entries no longer hash to the checkpoint's root"
    )]
    Rewritten { checkpoint_size: u64 },
    #[error("the audit chain does not verify: {0}")]
    Chain(String),
    #[error(
        "the tree hashes stored with entry {seq} do not match the entries: they were altered or removed"
    )]
    TreeAltered { seq: i64 },
}

/// A saved checkpoint checked against the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogReport {
    pub checkpoint: SignedHead,
    /// Entries in the log now.
    pub size: u64,
    pub root: Hash,
}

fn invalid(field: &str, message: String) -> AppError {
    let mut v = Validator::new();
    v.error(field, message);
    AppError::Validation(v.finish(|| ()).expect_err("one error"))
}

impl App {
    /// Signs checkpoints with `key`.
    pub fn with_log_key(mut self, key: LogKey) -> App {
        self.log = Some(Arc::new(LogState {
            key,
            signed: Mutex::new(None),
        }));
        self
    }

    fn log(&self) -> Result<&LogState> {
        self.log.as_deref().ok_or(AppError::NotConfigured(
            "CLAIMTRAIL_LOG_KEY_FILE (the transparency log's signing key)",
        ))
    }

    /// The verifier key of the log, in signed-note form.
    pub fn log_verifier_key(&self) -> Result<String> {
        Ok(self.log()?.key.verifier_key().to_owned())
    }

    /// The entries the tree holds.
    async fn tree_size(&self) -> Result<u64> {
        let size = self
            .store
            .fetch(|tx| Box::pin(store::tlog::size(tx)))
            .await?;
        Ok(size as u64)
    }

    /// The signed checkpoint of the log as it stands. Public: it discloses the number of
    /// entries and a root hash, nothing of their content, and anyone comparing heads (a
    /// witness, a reader of an auditor's proof) needs it without an API key.
    pub async fn checkpoint(&self) -> Result<Arc<str>> {
        let log = self.log()?;
        let size = self.tree_size().await?;
        self.checkpoint_at(log, size).await
    }

    async fn checkpoint_at(&self, log: &LogState, size: u64) -> Result<Arc<str>> {
        let last = log.signed.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(last) = &last
            && last.size == size
        {
            return Ok(last.note.clone());
        }
        let frontier = self
            .store
            .fetch(move |tx| Box::pin(store::tlog::frontier(tx, size)))
            .await?;
        let root = frontier.root();
        if let Some(last) = &last
            && size > 0
            && !self
                .consistent((last.size, last.root), (size, root))
                .await?
        {
            tracing::error!(
                signed = last.size,
                now = size,
                "refusing to sign the log: it is not consistent with the checkpoint signed before (the database was altered)"
            );
            return Err(AppError::Internal(format!(
                "the log of {size} entries is not consistent with the checkpoint of {} entries signed before: the database was altered; it is not signed",
                last.size
            )));
        }
        let note: Arc<str> = log.key.checkpoint(size, root).into();
        let mut signed = log.signed.lock().unwrap_or_else(|e| e.into_inner());
        if signed.as_ref().is_none_or(|s| s.size < size) {
            *signed = Some(Signed {
                size,
                root,
                note: note.clone(),
            });
        }
        Ok(note)
    }

    /// Whether one of two trees (size, root) extends the other, by a consistency proof from
    /// the stored hashes.
    async fn consistent(&self, a: (u64, Hash), b: (u64, Hash)) -> Result<bool> {
        let ((small, small_root), (big, big_root)) = if a.0 <= b.0 { (a, b) } else { (b, a) };
        if small == 0 || small == big {
            return Ok(small == 0 || small_root == big_root);
        }
        let wanted = asked(|r| tlog_tiles::prove_tree(big, small, r));
        let known = match self
            .store
            .fetch(move |tx| Box::pin(async move { store::tlog::read(tx, &wanted).await }))
            .await
        {
            Ok(known) => known,
            // The larger tree's hashes are gone: the log was cut below it.
            Err(e) => {
                return match self.tree_size().await? < big {
                    true => Ok(false),
                    false => Err(e.into()),
                };
            }
        };
        let Ok(proof) = tlog_tiles::prove_tree(big, small, &known) else {
            return Ok(false);
        };
        Ok(tlog_tiles::check_tree(&proof, big, big_root, small, small_root).is_ok())
    }

    /// Checks a size against the tree: 1 to its size.
    fn check_size(field: &str, value: u64, size: u64) -> Result<()> {
        if value == 0 || value > size {
            return Err(invalid(
                field,
                format!(
                    "must be from 1 to the log's size, {size} (the `size` line of GET /v1/audit/checkpoint)"
                ),
            ));
        }
        Ok(())
    }

    /// That entry `seq` is in the tree of `size` entries (default: the tree as it stands).
    pub async fn inclusion_proof(
        &self,
        actor: &Actor,
        seq: i64,
        size: Option<u64>,
    ) -> Result<InclusionProof> {
        require(actor, Permission::ReadAudit, "read the audit trail")?;
        let held = self.tree_size().await?;
        if seq < 1 || seq as u64 > held {
            return Err(invalid(
                "seq",
                format!("must be an entry of the log: 1 to {held}"),
            ));
        }
        let size = size.unwrap_or(held);
        Self::check_size("size", size, held)?;
        let leaf = seq as u64 - 1;
        if leaf >= size {
            return Err(invalid(
                "size",
                format!(
                    "must be at least the entry's seq, {seq}: a tree of fewer entries does not hold it"
                ),
            ));
        }
        let wanted = asked(|r| tlog_tiles::prove_record(size, leaf, r));
        let known = self
            .store
            .fetch(move |tx| Box::pin(async move { store::tlog::read(tx, &wanted).await }))
            .await?;
        let hashes = tlog_tiles::prove_record(size, leaf, &known)
            .map_err(|e| StoreError::other(format!("an inclusion proof: {e}")))?;
        Ok(InclusionProof {
            leaf_index: leaf,
            tree_size: size,
            hashes: tl::base64_hashes(&hashes),
        })
    }

    /// That the tree of `to` entries extends the tree of `from` entries.
    pub async fn consistency_proof(
        &self,
        actor: &Actor,
        from: u64,
        to: u64,
    ) -> Result<ConsistencyProof> {
        require(actor, Permission::ReadAudit, "read the audit trail")?;
        let held = self.tree_size().await?;
        Self::check_size("to", to, held)?;
        if from == 0 || from > to {
            return Err(invalid(
                "from",
                format!("must be from 1 to `to` ({to}): the size of the older tree"),
            ));
        }
        let wanted = asked(|r| tlog_tiles::prove_tree(to, from, r));
        let known = self
            .store
            .fetch(move |tx| Box::pin(async move { store::tlog::read(tx, &wanted).await }))
            .await?;
        let hashes = tlog_tiles::prove_tree(to, from, &known)
            .map_err(|e| StoreError::other(format!("a consistency proof: {e}")))?;
        Ok(ConsistencyProof {
            from,
            to,
            hashes: tl::base64_hashes(&hashes),
        })
    }

    /// A C2SP tile (`path` as after `tile/`), once the log holds all of it.
    pub async fn tile(&self, actor: &Actor, path: &str) -> Result<TileData> {
        require(actor, Permission::ReadAudit, "read the audit trail")?;
        let not_found = || AppError::NotFound {
            entity: "tile",
            id: path.to_owned(),
        };
        let tile = TileRequest::parse(path).ok_or_else(not_found)?;
        let needs = tile.needs_size().ok_or_else(not_found)?;
        if needs > self.tree_size().await? {
            return Err(not_found());
        }
        let bytes = match tile {
            TileRequest::Hashes(t) => {
                let wanted = asked(|r| t.read_data(r));
                let known = self
                    .store
                    .fetch(move |tx| Box::pin(async move { store::tlog::read(tx, &wanted).await }))
                    .await?;
                t.read_data(&known)
                    .map_err(|e| StoreError::other(format!("a tile: {e}")))?
            }
            TileRequest::Entries { index, width } => {
                let after = (index * tl::TILE_WIDTH) as i64;
                let hashes = self
                    .store
                    .fetch(move |tx| {
                        Box::pin(async move {
                            store::audit::hashes_after(tx, after, width as i64).await
                        })
                    })
                    .await?;
                if hashes.len() as u64 != width {
                    return Err(not_found());
                }
                tl::entry_bundle(&hashes)
                    .ok_or_else(|| StoreError::other("an audit entry has a malformed hash"))?
            }
        };
        Ok(TileData {
            bytes,
            full: tile.is_full(),
        })
    }

    /// A C2SP `tlog-proof` of entry `seq` in the log as it stands: the entry (as the API shows
    /// it) as extra data, its inclusion proof and the signed checkpoint, checkable offline.
    pub async fn prove_entry(&self, actor: &Actor, seq: i64) -> Result<String> {
        let log = self.log()?;
        let proof = self.inclusion_proof(actor, seq, None).await?;
        let checkpoint = self.checkpoint_at(log, proof.tree_size).await?;
        let entry = self
            .store
            .fetch(move |tx| Box::pin(async move { store::audit::get(tx, seq).await }))
            .await?
            .ok_or(AppError::NotFound {
                entity: "audit entry",
                id: seq.to_string(),
            })?;
        let extra = serde_json::to_vec(&entry).expect("an entry serializes");
        let hashes: Vec<Hash> = proof
            .hashes
            .iter()
            .map(|h| Hash::parse_hash(h).expect("hashes it encoded"))
            .collect();
        Ok(tl::proof_text(
            &extra,
            proof.leaf_index,
            &hashes,
            &checkpoint,
        ))
    }

    /// Checks a saved checkpoint against the log: its signature (by `verifier_key`, default
    /// the log's own), then the log's entries: the chain recomputed, the tree rebuilt from
    /// the entries' hashes and compared with the checkpoint's root at its size and with the
    /// stored tree now. Catches a cut tail and a history rewritten and chained anew, which
    /// the chain alone cannot.
    pub async fn verify_log(
        &self,
        actor: &Actor,
        note: &[u8],
        verifier_key: Option<&str>,
    ) -> Result<std::result::Result<LogReport, LogBreak>> {
        require(actor, Permission::ReadAudit, "read the audit trail")?;
        let log = self.log()?;
        let vkey = verifier_key.unwrap_or(log.key.verifier_key());
        let checkpoint = match tl::verify_checkpoint(note, vkey, log.key.origin()) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e.into())),
        };
        let report = self.verify_audit(actor, CheckpointQuery::default()).await?;
        if let Some(b) = report.first_break {
            return Ok(Err(LogBreak::Chain(
                serde_json::to_string(&b).expect("a break serializes"),
            )));
        }
        let size = report.length as u64;
        if size < checkpoint.size {
            return Ok(Err(LogBreak::CutTail {
                size,
                checkpoint_size: checkpoint.size,
            }));
        }
        // The tree rebuilt from the entries themselves, each stored hash compared with it.
        let mut rebuilt = Frontier::empty();
        while rebuilt.size() < size {
            let after = rebuilt.size() as i64;
            let batch = self
                .store
                .fetch_long(move |tx| {
                    Box::pin(async move { store::tlog::entries_with_tree(tx, after, 1000).await })
                })
                .await?;
            if batch.is_empty() {
                break;
            }
            for (seq, hash, stored) in batch {
                let leaf = tl::leaf_hash(&hash)
                    .ok_or_else(|| StoreError::other("an audit entry has a malformed hash"))?;
                let expected: Vec<u8> = rebuilt.push(leaf).iter().flat_map(|h| h.0).collect();
                if rebuilt.size() == checkpoint.size && rebuilt.root() != checkpoint.root {
                    return Ok(Err(LogBreak::Rewritten {
                        checkpoint_size: checkpoint.size,
                    }));
                }
                if stored.as_deref() != Some(expected.as_slice()) {
                    return Ok(Err(LogBreak::TreeAltered { seq }));
                }
            }
        }
        Ok(Ok(LogReport {
            checkpoint,
            size,
            root: rebuilt.root(),
        }))
    }

    /// Fills in the tree hashes of entries written before the log existed, in batches; the
    /// number of entries filled in.
    pub async fn backfill_log(&self) -> Result<u64> {
        let before = self.tree_size().await?;
        loop {
            let size = self
                .store
                .write(|tx| {
                    Box::pin(async move {
                        let head = store::audit::head_seq(tx).await?;
                        let f = store::tlog::catch_up(tx, head, 10_000).await?;
                        Ok::<_, StoreError>((f.size(), head as u64))
                    })
                })
                .await?;
            if size.0 >= size.1 {
                return Ok(size.0 - before);
            }
        }
    }
}

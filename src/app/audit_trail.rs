//! Reading and verifying the audit trail.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;

/// The outcome of recomputing the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditReport {
    /// Whether every entry matched.
    pub valid: bool,
    /// Entries verified (up to the first break).
    pub length: i64,
    /// Hash of the last verified entry; publish it elsewhere to detect a truncated tail later.
    pub head: String,
    /// The first entry that does not match, if any.
    pub first_break: Option<audit::Break>,
}

/// Query of the audit list, before validation.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Oldest first (the default) or newest first.
    pub order: domain::Order,
}

/// A checkpoint to verify against, before validation: both parts or neither.
#[derive(Debug, Clone, Default)]
pub struct CheckpointQuery {
    pub seq: Option<i64>,
    pub hash: Option<String>,
}

impl CheckpointQuery {
    fn validate(self) -> Result<Option<audit::Checkpoint>> {
        let mut v = Validator::new();
        let checkpoint = match (self.seq, self.hash) {
            (None, None) => None,
            (Some(seq), Some(hash)) => {
                if seq < 1 {
                    v.error("checkpoint_seq", "must be 1 or more (an entry's `seq`)");
                }
                if hash.len() != 64
                    || !hash
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    v.error("checkpoint_hash", "must be a SHA-256 in lowercase hex (64 characters), as in a report's `head`");
                }
                Some(audit::Checkpoint { seq, hash })
            }
            (seq, _) => {
                let missing = if seq.is_some() {
                    "checkpoint_hash"
                } else {
                    "checkpoint_seq"
                };
                v.error(missing, "give both checkpoint_seq and checkpoint_hash (a report's `length` and `head`), or neither");
                None
            }
        };
        v.finish(|| checkpoint).map_err(AppError::Validation)
    }
}

fn audit_cursor(seq: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seq.to_be_bytes())
}

fn audit_after(cursor: &str) -> Option<i64> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    Some(i64::from_be_bytes(bytes.try_into().ok()?))
}

impl App {
    /// Audit entries, oldest first, filtered by entity, actor and time.
    pub async fn list_audit(
        &self,
        actor: &Actor,
        query: AuditQuery,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<audit::Entry>> {
        require(actor, Permission::ReadAudit, "read the audit trail")?;
        let after = match cursor {
            None => None,
            Some(c) => Some(audit_after(c).ok_or(AppError::InvalidCursor)?),
        };
        let limit = limit.unwrap_or(domain::DEFAULT_LIMIT);
        if !(1..=domain::MAX_LIMIT).contains(&limit) {
            return Err(AppError::InvalidLimit(limit));
        }
        let mut v = Validator::new();
        let time = |field: &str, value: Option<String>, v: &mut Validator| {
            value.and_then(|t| v.check(field, validate::instant(&t).map(store::timestamp_text)))
        };
        // Names are compared as given; a NUL cannot be stored, so none can match one.
        for (field, value) in [
            ("entity", &query.entity),
            ("entity_id", &query.entity_id),
            ("actor", &query.actor),
        ] {
            if let Some(value) = value {
                v.check(field, validate::no_nul(value));
            }
        }
        let since = time("since", query.since, &mut v);
        let until = time("until", query.until, &mut v);
        v.finish(|| ()).map_err(AppError::Validation)?;
        let filter = store::audit::AuditFilter {
            entity: query.entity,
            entity_id: query.entity_id,
            actor: query.actor,
            since,
            until,
        };
        let order = query.order;
        let items = self
            .store
            .fetch(move |tx| {
                Box::pin(async move {
                    store::audit::list_ordered(tx, &filter, after, limit, order).await
                })
            })
            .await?;
        let next_cursor = if items.len() == limit as usize {
            items.last().map(|e| audit_cursor(e.seq))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Recomputes the whole chain, in batches, and reports its head or its first break. With
    /// a checkpoint published earlier, also checks that the chain still holds it.
    pub async fn verify_audit(
        &self,
        actor: &Actor,
        checkpoint: CheckpointQuery,
    ) -> Result<AuditReport> {
        require(actor, Permission::ReadAudit, "read the audit trail")?;
        let mut verifier = match checkpoint.validate()? {
            Some(c) => audit::Verifier::expecting(c),
            None => audit::Verifier::default(),
        };
        let mut after = None;
        loop {
            let batch = self
                .store
                .fetch_long(move |tx| {
                    Box::pin(async move {
                        let all = store::audit::AuditFilter::default();
                        store::audit::list(tx, &all, after, 1000).await
                    })
                })
                .await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.seq);
            for entry in &batch {
                if let Err(first_break) = verifier.push(entry) {
                    return Ok(AuditReport {
                        valid: false,
                        length: verifier.length(),
                        head: verifier.head().to_owned(),
                        first_break: Some(first_break),
                    });
                }
            }
        }
        let first_break = verifier.finish().err();
        Ok(AuditReport {
            valid: first_break.is_none(),
            length: verifier.length(),
            head: verifier.head().to_owned(),
            first_break,
        })
    }
}

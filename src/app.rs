//! Use cases shared by the HTTP API, the importer and the demo loader: validation, anchoring
//! and storage put together. Knows nothing of HTTP.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use uuid::Uuid;

use crate::domain::access::{self, Actor, ApiKey, Permission, Role};
use crate::domain::anchor::{AnchorError, AnchorIndex, Selector};
use crate::domain::audit;
use crate::domain::review::{self, Rating, RatingScale, Review, State};
use crate::domain::{
    self, ClaimView, Cursor, Evidence, FieldError, Page, Passage, Source, Stance, Validator,
    Version, VersionText, validate,
};
use crate::store::{self, NewPassage, NewSource, NewVersion, Outcome, Store};

/// Everything a use case can refuse, in domain terms. The HTTP layer maps each to a problem.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("no {entity} has id {id}")]
    NotFound { entity: &'static str, id: String },
    #[error("source {source_id} has no version {number}")]
    UnknownVersion {
        source_id: Uuid,
        number: i64,
        latest: i64,
    },
    #[error("unknown passages")]
    UnknownPassages { field: &'static str, ids: Vec<Uuid> },
    #[error("a source with this URL exists")]
    SourceExists { id: Uuid, url: String },
    #[error("this passage is already evidence for the claim")]
    EvidenceExists { id: Uuid },
    #[error("the cursor is not valid")]
    InvalidCursor,
    #[error("the limit is out of range")]
    InvalidLimit(u32),
    #[error("passage could not be resolved")]
    Anchor { error: AnchorError, version: i64 },
    #[error("not authenticated: {0}")]
    Unauthorized(&'static str),
    #[error("the role {role:?} may not {action}")]
    Forbidden {
        role: access::Role,
        action: &'static str,
    },
    #[error("transition refused")]
    Transition(review::Refusal),
    #[error("stale revision")]
    Stale { current: Box<Review> },
    #[error("a revision is required")]
    RevisionRequired,
    #[error("the review is not editable in state {0:?}")]
    NotEditable(review::State),
    #[error("the claim already has a published verdict")]
    VerdictExists { id: Uuid },
    #[error("a rating scale with this id exists")]
    ScaleExists { id: String },
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, AppError>;

/// Validated input for a new source.
#[derive(Debug, Clone, Default)]
pub struct SourceInput {
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
    pub authors: Vec<String>,
    pub published_at: Option<String>,
    pub text: String,
}

/// What a client sent to select a passage, before validation.
#[derive(Debug, Clone, Default)]
pub struct PassageInput {
    pub quote: Option<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub version: Option<i64>,
}

/// The application: the store plus in-memory state that is safe to lose.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    anchors: Arc<AnchorCache>,
    /// Whether an approver must differ from the review's author (on unless a one-person desk
    /// turns it off; every workflow step records the setting).
    second_person_rule: bool,
}

/// Folded views of recently used versions. Versions are immutable, so entries never go stale;
/// each API node keeps its own and the budget bounds memory.
struct AnchorCache {
    entries: Mutex<LruCache<(Uuid, i64), Arc<AnchorIndex>>>,
    budget_bytes: usize,
}

impl AnchorCache {
    fn get(&self, key: (Uuid, i64)) -> Option<Arc<AnchorIndex>> {
        self.lock().get(&key).cloned()
    }

    fn insert(&self, key: (Uuid, i64), index: Arc<AnchorIndex>) {
        let mut entries = self.lock();
        entries.put(key, index);
        let mut total: usize = entries.iter().map(|(_, i)| i.heap_bytes()).sum();
        while total > self.budget_bytes && entries.len() > 1 {
            if let Some((_, evicted)) = entries.pop_lru() {
                total -= evicted.heap_bytes();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<(Uuid, i64), Arc<AnchorIndex>>> {
        // A panic while holding the lock leaves a cache that is still consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn optional(
    v: &mut Validator,
    field: &str,
    value: Option<&str>,
    check: fn(&str) -> std::result::Result<String, String>,
) -> Option<String> {
    value.and_then(|s| v.check(field, check(s)))
}

fn page_args(cursor: Option<&str>, limit: Option<u32>) -> Result<(Option<Uuid>, u32)> {
    let after = match cursor {
        None => None,
        Some(c) => Some(Cursor::decode(c).ok_or(AppError::InvalidCursor)?.0),
    };
    let limit = limit.unwrap_or(domain::DEFAULT_LIMIT);
    if !(1..=domain::MAX_LIMIT).contains(&limit) {
        return Err(AppError::InvalidLimit(limit));
    }
    Ok((after, limit))
}

fn page<T>(items: Vec<T>, limit: u32, id: impl Fn(&T) -> Uuid) -> Page<T> {
    let next_cursor = if items.len() == limit as usize {
        items.last().map(|last| Cursor(id(last)).encode())
    } else {
        None
    };
    Page { items, next_cursor }
}

impl App {
    /// `anchor_budget_bytes` bounds the memory of cached folded texts.
    pub fn new(store: Store, anchor_budget_bytes: usize) -> App {
        App {
            store,
            anchors: Arc::new(AnchorCache {
                entries: Mutex::new(LruCache::new(NonZeroUsize::new(4096).expect("non-zero"))),
                budget_bytes: anchor_budget_bytes,
            }),
            second_person_rule: true,
        }
    }

    /// Turns the second-person rule on or off for this instance.
    pub fn with_second_person_rule(mut self, on: bool) -> App {
        self.second_person_rule = on;
        self
    }

    pub async fn create_source(&self, actor: &str, input: SourceInput) -> Result<Source> {
        self.create_source_keyed(actor, input, None).await
    }

    /// Creates a source; `import_key` marks where an import found it.
    pub async fn create_source_keyed(
        &self,
        actor: &str,
        input: SourceInput,
        import_key: Option<String>,
    ) -> Result<Source> {
        let mut v = Validator::new();
        let title = v.check("title", validate::short_text(&input.title));
        let url = optional(&mut v, "url", input.url.as_deref(), validate::web_url);
        let publisher = optional(
            &mut v,
            "publisher",
            input.publisher.as_deref(),
            validate::short_text,
        );
        let published_at = optional(
            &mut v,
            "published_at",
            input.published_at.as_deref(),
            validate::published_at,
        );
        let authors = validate::authors(&input.authors, &mut v);
        let text = v.check("text", validate::body_text(&input.text));
        let (new, text) = v
            .finish(|| {
                let source = NewSource {
                    title: title.unwrap_or_default(),
                    url,
                    publisher,
                    authors,
                    published_at,
                    import_key,
                };
                (source, text.unwrap_or_default())
            })
            .map_err(AppError::Validation)?;
        if let Some(url) = &new.url
            && let Some(id) = self.store.find_source_id(Some(url), None).await?
        {
            return Err(AppError::SourceExists {
                id,
                url: url.clone(),
            });
        }
        let version = NewVersion::new(text);
        match self.store.insert_source(actor, &new, &version).await {
            Ok(source) => Ok(source),
            // Another request stored the same URL between our check and our write.
            Err(e) if store::is_unique_violation(&e) && new.url.is_some() => {
                let url = new.url.unwrap_or_default();
                match self.store.find_source_id(Some(&url), None).await? {
                    Some(id) => Err(AppError::SourceExists { id, url }),
                    None => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_source(&self, id: Uuid) -> Result<Source> {
        self.store
            .get_source(id)
            .await?
            .ok_or_else(|| not_found("source", id))
    }

    pub async fn list_sources(
        &self,
        url: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Source>> {
        let (after, limit) = page_args(cursor, limit)?;
        let url = match url {
            None => None,
            Some(u) => Some(validate::web_url(u).map_err(|m| {
                AppError::Validation(vec![FieldError {
                    field: "url".into(),
                    message: m,
                }])
            })?),
        };
        let items = self
            .store
            .list_sources(url.as_deref(), after, limit)
            .await?;
        Ok(page(items, limit, |s| s.id))
    }

    /// Adds a version; an identical text already stored for the source is returned instead.
    pub async fn add_version(
        &self,
        actor: &str,
        source_id: Uuid,
        text: &str,
    ) -> Result<(Version, Outcome)> {
        let mut v = Validator::new();
        let text = v.check("text", validate::body_text(text));
        let text = v
            .finish(|| text.unwrap_or_default())
            .map_err(AppError::Validation)?;
        self.store
            .add_version(actor, source_id, &NewVersion::new(text))
            .await?
            .ok_or_else(|| not_found("source", source_id))
    }

    pub async fn list_versions(&self, source_id: Uuid) -> Result<Vec<Version>> {
        let versions = self.store.list_versions(source_id).await?;
        if versions.is_empty() {
            return Err(not_found("source", source_id));
        }
        Ok(versions)
    }

    pub async fn get_version(&self, source_id: Uuid, number: i64) -> Result<VersionText> {
        if let Some(v) = self.store.get_version(source_id, number).await? {
            return Ok(v);
        }
        let source = self.get_source(source_id).await?;
        Err(AppError::UnknownVersion {
            source_id,
            number,
            latest: source.version.number,
        })
    }

    /// The folded view of a version, from the cache or built off the async threads.
    async fn anchor_index(&self, source_id: Uuid, number: i64) -> Result<Arc<AnchorIndex>> {
        if let Some(index) = self.anchors.get((source_id, number)) {
            return Ok(index);
        }
        let version = self.get_version(source_id, number).await?;
        let index = tokio::task::spawn_blocking(move || AnchorIndex::new(version.text))
            .await
            .map_err(|e| AppError::Internal(format!("building the anchor index failed: {e}")))?;
        let index = Arc::new(index);
        self.anchors.insert((source_id, number), index.clone());
        Ok(index)
    }

    /// Resolves a quote or positions on a version (default: latest) and stores the passage.
    pub async fn create_passage(
        &self,
        actor: &str,
        source_id: Uuid,
        input: PassageInput,
    ) -> Result<(Passage, Outcome)> {
        let mut v = Validator::new();
        let position = |field: &str, value: Option<i64>, v: &mut Validator| {
            value.and_then(|n| {
                v.check(
                    field,
                    usize::try_from(n).map_err(|_| "must be 0 or more".to_owned()),
                )
            })
        };
        let start = position("start", input.start, &mut v);
        let end = position("end", input.end, &mut v);
        if input.quote.is_none() && (input.start.is_none() || input.end.is_none()) {
            v.error(
                "quote",
                "give a quote (with optional prefix and suffix), or both start and end",
            );
        }
        if input.start.is_some() != input.end.is_some() {
            let missing = if input.start.is_none() {
                "start"
            } else {
                "end"
            };
            v.error(missing, "start and end go together: give both or neither");
        }
        if let Some(q) = &input.quote
            && domain::anchor::fold(q).is_empty()
        {
            v.error("quote", "must contain visible characters");
        }
        if let Some(n) = input.version
            && n < 1
        {
            v.error("version", "version numbers start at 1");
        }
        v.finish(|| ()).map_err(AppError::Validation)?;

        let source = self.get_source(source_id).await?;
        let number = input.version.unwrap_or(source.version.number);
        if number > source.version.number {
            return Err(AppError::UnknownVersion {
                source_id,
                number,
                latest: source.version.number,
            });
        }
        let index = self.anchor_index(source_id, number).await?;
        let selector = Selector {
            quote: input.quote.as_deref(),
            prefix: input.prefix.as_deref(),
            suffix: input.suffix.as_deref(),
            start,
            end,
        };
        let span = index.resolve(&selector).map_err(|error| AppError::Anchor {
            error,
            version: number,
        })?;
        let new = NewPassage {
            source_id,
            version: number,
            start: span.start as i64,
            end: span.end as i64,
            exact: span.exact,
            prefix: span.prefix,
            suffix: span.suffix,
        };
        Ok(self.store.insert_passage(actor, &new).await?)
    }

    pub async fn get_passage(&self, id: Uuid) -> Result<Passage> {
        self.store
            .get_passage(id)
            .await?
            .ok_or_else(|| not_found("passage", id))
    }

    pub async fn create_claim(
        &self,
        actor: &str,
        text: &str,
        claimant: Option<&str>,
        appearances: &[Uuid],
    ) -> Result<ClaimView> {
        let mut v = Validator::new();
        let text = v.check(
            "text",
            validate::body_text(text).map(|t| t.trim().to_owned()),
        );
        let claimant = optional(&mut v, "claimant", claimant, validate::short_text);
        for (i, id) in appearances.iter().enumerate() {
            if appearances[..i].contains(id) {
                v.error(
                    format!("appearances/{i}"),
                    format!("passage {id} is listed twice"),
                );
            }
        }
        let text = v
            .finish(|| text.unwrap_or_default())
            .map_err(AppError::Validation)?;
        let missing = self.store.missing_passages(appearances).await?;
        if !missing.is_empty() {
            return Err(AppError::UnknownPassages {
                field: "appearances",
                ids: missing,
            });
        }
        let id = self
            .store
            .insert_claim(actor, &text, claimant.as_deref(), appearances)
            .await?;
        self.get_claim(id).await
    }

    /// A claim with its appearances, evidence, reviews and current verdict.
    pub async fn get_claim(&self, id: Uuid) -> Result<ClaimView> {
        let mut view = self
            .store
            .get_claim(id)
            .await?
            .ok_or_else(|| not_found("claim", id))?;
        view.reviews = self.store.claim_reviews(id).await?;
        view.verdict = view
            .reviews
            .iter()
            .rev()
            .find(|r| r.state == State::Published)
            .cloned();
        Ok(view)
    }

    pub async fn list_claims(
        &self,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<domain::Claim>> {
        let (after, limit) = page_args(cursor, limit)?;
        let items = self.store.list_claims(after, limit).await?;
        Ok(page(items, limit, |c| c.id))
    }

    pub async fn add_evidence(
        &self,
        actor: &str,
        claim_id: Uuid,
        passage_id: Uuid,
        stance: Stance,
        note: Option<&str>,
    ) -> Result<Evidence> {
        let mut v = Validator::new();
        let note = optional(&mut v, "note", note, validate::short_text);
        v.finish(|| ()).map_err(AppError::Validation)?;
        if !self.store.claim_exists(claim_id).await? {
            return Err(not_found("claim", claim_id));
        }
        if !self.store.missing_passages(&[passage_id]).await?.is_empty() {
            return Err(AppError::UnknownPassages {
                field: "passage_id",
                ids: vec![passage_id],
            });
        }
        let id = match self
            .store
            .insert_evidence(actor, claim_id, passage_id, stance, note.as_deref())
            .await
        {
            Ok(id) => id,
            Err(e) if store::is_unique_violation(&e) => {
                let id = self
                    .store
                    .evidence_id_for(claim_id, passage_id)
                    .await?
                    .ok_or(e)?;
                return Err(AppError::EvidenceExists { id });
            }
            Err(e) => return Err(e.into()),
        };
        let view = self.get_claim(claim_id).await?;
        view.evidence
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| {
                AppError::Internal(format!("evidence {id} vanished after it was written"))
            })
    }
}

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
        query: AuditQuery,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<audit::Entry>> {
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
            value.and_then(|t| {
                v.check(
                    field,
                    time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
                        .map(store::timestamp_text)
                        .map_err(|_| {
                            "must be an RFC 3339 date-time, e.g. 2026-01-31T09:00:00Z".to_owned()
                        }),
                )
            })
        };
        let since = time("since", query.since, &mut v);
        let until = time("until", query.until, &mut v);
        v.finish(|| ()).map_err(AppError::Validation)?;
        let filter = store::AuditFilter {
            entity: query.entity,
            entity_id: query.entity_id,
            actor: query.actor,
            since,
            until,
        };
        let items = self.store.list_audit(&filter, after, limit).await?;
        let next_cursor = if items.len() == limit as usize {
            items.last().map(|e| audit_cursor(e.seq))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// Recomputes the whole chain, in batches, and reports its head or its first break.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let mut verifier = audit::Verifier::default();
        let mut after = None;
        loop {
            let batch = self
                .store
                .list_audit(&store::AuditFilter::default(), after, 1000)
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
        Ok(AuditReport {
            valid: true,
            length: verifier.length(),
            head: verifier.head().to_owned(),
            first_break: None,
        })
    }
}

impl App {
    /// Creates a key and returns it with its token, which is shown only this once.
    pub async fn create_key(
        &self,
        actor: &str,
        name: &str,
        role: Role,
    ) -> Result<(ApiKey, String)> {
        let mut v = Validator::new();
        let name = v.check("name", validate::short_text(name));
        let name = v
            .finish(|| name.unwrap_or_default())
            .map_err(AppError::Validation)?;
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
        // The id is chosen before the row exists, so the token can carry it.
        let key = self
            .store
            .insert_key(
                actor,
                &name,
                role,
                &access::secret_hash(&token_secret(&secret)),
            )
            .await?;
        let token = access::token(key.id, &secret);
        Ok((key, token))
    }

    pub async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        Ok(self.store.list_keys().await?)
    }

    pub async fn revoke_key(&self, actor: &str, id: Uuid) -> Result<ApiKey> {
        self.store
            .revoke_key(actor, id)
            .await?
            .ok_or_else(|| not_found("API key", id))
    }

    /// The actor behind a bearer token. Every failure looks the same to the caller.
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        let (id, secret) = access::parse_token(token).ok_or(AppError::Unauthorized(
            "the token is not a claimtrail API key",
        ))?;
        let stored = self
            .store
            .get_key(id)
            .await?
            .ok_or(AppError::Unauthorized("the key is not known"))?;
        if !access::secret_matches(secret, &stored.secret_hash) {
            return Err(AppError::Unauthorized("the key is not known"));
        }
        if stored.key.revoked_at.is_some() {
            return Err(AppError::Unauthorized("the key has been revoked"));
        }
        Ok(Actor {
            key_id: stored.key.id,
            name: stored.key.name,
            role: stored.key.role,
        })
    }
}

/// A new review, before validation.
#[derive(Debug, Clone, Default)]
pub struct ReviewInput {
    pub scale: Option<String>,
    pub rating: String,
    pub summary: String,
    pub evidence: Vec<Uuid>,
    pub corrects: Option<Uuid>,
}

/// Changes to an editable review; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ReviewPatch {
    pub scale: Option<String>,
    pub rating: Option<String>,
    pub summary: Option<String>,
    pub evidence: Option<Vec<Uuid>>,
}

/// Longest accepted review summary, in bytes.
const MAX_SUMMARY: usize = 64 * 1024;

fn summary_text(value: &str) -> std::result::Result<String, String> {
    let text = validate::body_text(value)?.trim().to_owned();
    if text.len() > MAX_SUMMARY {
        return Err(format!("must be at most {MAX_SUMMARY} bytes long"));
    }
    Ok(text)
}

impl App {
    pub async fn list_scales(&self) -> Result<Vec<RatingScale>> {
        Ok(self.store.list_scales().await?)
    }

    /// Adds a rating scale; `best`/`worst` come from its numeric values.
    pub async fn create_scale(
        &self,
        actor: &str,
        id: &str,
        name: &str,
        ratings: Vec<Rating>,
    ) -> Result<RatingScale> {
        let mut v = Validator::new();
        let is_slug = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        if !is_slug(id) {
            v.error("id", "must be 1 to 64 of a-z, 0-9, `_` and `-`");
        }
        let name = v.check("name", validate::short_text(name));
        let mut cleaned = Vec::new();
        for (i, r) in ratings.iter().enumerate() {
            if !is_slug(&r.key) {
                v.error(
                    format!("ratings/{i}/key"),
                    "must be 1 to 64 of a-z, 0-9, `_` and `-`",
                );
            } else if ratings[..i].iter().any(|o| o.key == r.key) {
                v.error(
                    format!("ratings/{i}/key"),
                    format!("{:?} is listed twice", r.key),
                );
            }
            let label = v.check(
                &format!("ratings/{i}/label"),
                validate::short_text(&r.label),
            );
            if r.value.is_some_and(|x| !x.is_finite()) {
                v.error(
                    format!("ratings/{i}/value"),
                    "must be a finite number or null",
                );
            }
            cleaned.push(Rating {
                key: r.key.clone(),
                label: label.unwrap_or_default(),
                value: r.value,
            });
        }
        let numeric: Vec<f64> = cleaned
            .iter()
            .filter_map(|r| r.value)
            .filter(|x| x.is_finite())
            .collect();
        if numeric.len() < 2 {
            v.error(
                "ratings",
                "needs at least two ratings with numeric values (for bestRating and worstRating)",
            );
        }
        let scale = v
            .finish(|| RatingScale {
                id: id.to_owned(),
                name: name.unwrap_or_default(),
                best_rating: numeric.iter().copied().fold(f64::MIN, f64::max),
                worst_rating: numeric.iter().copied().fold(f64::MAX, f64::min),
                ratings: cleaned,
            })
            .map_err(AppError::Validation)?;
        match self.store.insert_scale(actor, &scale).await {
            Ok(()) => Ok(scale),
            Err(e) if store::is_unique_violation(&e) => Err(AppError::ScaleExists { id: scale.id }),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks a rating against its scale and evidence against the claim.
    async fn check_review_content(
        &self,
        v: &mut Validator,
        claim_evidence: &[Uuid],
        scale: &str,
        rating: &str,
        evidence: &[Uuid],
    ) -> Result<()> {
        let scales = self.store.list_scales().await?;
        match scales.iter().find(|s| s.id == scale) {
            None => v.error("scale", format!("no rating scale has id {scale:?}")),
            Some(s) if s.rating(rating).is_none() => {
                let keys: Vec<&str> = s.ratings.iter().map(|r| r.key.as_str()).collect();
                v.error(
                    "rating",
                    format!(
                        "{rating:?} is not in scale {:?}; use one of {}",
                        s.id,
                        keys.join(", ")
                    ),
                );
            }
            Some(_) => {}
        }
        for (i, id) in evidence.iter().enumerate() {
            if !claim_evidence.contains(id) {
                v.error(
                    format!("evidence/{i}"),
                    format!("{id} is not evidence of this claim"),
                );
            } else if evidence[..i].contains(id) {
                v.error(format!("evidence/{i}"), format!("{id} is listed twice"));
            }
        }
        Ok(())
    }

    /// Creates a draft review (a correction when `corrects` names the published verdict).
    pub async fn create_review(
        &self,
        actor: &Actor,
        claim_id: Uuid,
        input: ReviewInput,
    ) -> Result<Review> {
        require(actor, Permission::DraftReviews, "write reviews")?;
        let claim_evidence = self
            .store
            .claim_evidence_ids(claim_id)
            .await?
            .ok_or_else(|| not_found("claim", claim_id))?;
        let mut v = Validator::new();
        let scale = input.scale.unwrap_or_else(|| "default".to_owned());
        let summary = v.check("summary", summary_text(&input.summary));
        self.check_review_content(
            &mut v,
            &claim_evidence,
            &scale,
            &input.rating,
            &input.evidence,
        )
        .await?;
        let corrected = match input.corrects {
            Some(old) => self.store.get_review_head(old).await?,
            None => None,
        };
        if let Some(old) = input.corrects
            && !corrected.is_some_and(|r| r.claim_id == claim_id && r.state == State::Published)
        {
            v.error(
                "corrects",
                format!("{old} is not the published verdict of this claim"),
            );
        }
        let new = v
            .finish(|| store::NewReview {
                claim_id,
                scale,
                rating: input.rating,
                summary: summary.unwrap_or_default(),
                evidence: input.evidence,
                corrects: input.corrects,
            })
            .map_err(AppError::Validation)?;
        let id = self
            .store
            .insert_review(&actor.name, &new, self.second_person_rule)
            .await?;
        self.load_review(id).await
    }

    async fn load_review(&self, id: Uuid) -> Result<Review> {
        self.store
            .get_review(id)
            .await?
            .ok_or_else(|| not_found("review", id))
    }

    /// A review; roles that read only published verdicts see only those.
    pub async fn get_review(&self, actor: &Actor, id: Uuid) -> Result<Review> {
        require(actor, Permission::ReadPublished, "read reviews")?;
        let review = self.load_review(id).await?;
        if !actor.may(Permission::ReadRecords) && review.state != State::Published {
            return Err(not_found("review", id));
        }
        Ok(review)
    }

    fn fresh(review: Review, revision: Option<i64>) -> Result<Review> {
        match revision {
            None => Err(AppError::RevisionRequired),
            Some(r) if r != review.revision => Err(AppError::Stale {
                current: Box::new(review),
            }),
            Some(_) => Ok(review),
        }
    }

    /// Changes an editable review, if `revision` is the current one.
    pub async fn edit_review(
        &self,
        actor: &Actor,
        id: Uuid,
        revision: Option<i64>,
        patch: ReviewPatch,
    ) -> Result<Review> {
        require(actor, Permission::DraftReviews, "write reviews")?;
        let review = Self::fresh(self.load_review(id).await?, revision)?;
        if !review.state.is_editable() {
            return Err(AppError::NotEditable(review.state));
        }
        let claim_evidence = self
            .store
            .claim_evidence_ids(review.claim_id)
            .await?
            .unwrap_or_default();
        let mut v = Validator::new();
        let scale = patch.scale.unwrap_or(review.scale.clone());
        let rating = patch.rating.unwrap_or(review.rating.key.clone());
        let evidence = patch.evidence.unwrap_or(review.evidence.clone());
        let summary = match &patch.summary {
            Some(s) => v.check("summary", summary_text(s)),
            None => Some(review.summary.clone()),
        };
        self.check_review_content(&mut v, &claim_evidence, &scale, &rating, &evidence)
            .await?;
        let summary = v
            .finish(|| summary.unwrap_or_default())
            .map_err(AppError::Validation)?;
        if !self
            .store
            .edit_review(
                &actor.name,
                id,
                review.revision,
                &store::ReviewContent {
                    scale,
                    rating,
                    summary,
                    evidence,
                },
            )
            .await?
        {
            return Err(AppError::Stale {
                current: Box::new(self.load_review(id).await?),
            });
        }
        self.load_review(id).await
    }

    /// Moves a review through its workflow, if `revision` is the current one. Of many
    /// concurrent attempts from the same revision, exactly one succeeds.
    pub async fn transition_review(
        &self,
        actor: &Actor,
        id: Uuid,
        to: State,
        note: Option<&str>,
        revision: Option<i64>,
    ) -> Result<Review> {
        require(
            actor,
            Permission::DraftReviews,
            "move reviews through the workflow",
        )?;
        // The check needs the review's state, not its history; a stale client gets it whole.
        let head = self
            .store
            .get_review_head(id)
            .await?
            .ok_or_else(|| not_found("review", id))?;
        let review = match revision {
            Some(r) if r != head.revision => Self::fresh(self.load_review(id).await?, revision)?,
            _ => Self::fresh(head, revision)?,
        };
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        review::check(
            review.state,
            to,
            &review.author,
            actor,
            note,
            self.second_person_rule,
        )
        .map_err(|refusal| match refusal {
            review::Refusal::Forbidden => AppError::Forbidden {
                role: actor.role,
                action: "make this workflow step",
            },
            other => AppError::Transition(other),
        })?;
        let step = store::Step {
            review_id: id,
            revision: review.revision,
            from: review.state,
            to,
            note,
            second_person_rule: self.second_person_rule,
            supersedes: if to == State::Published {
                review.corrects
            } else {
                None
            },
        };
        match self.store.transition_review(&actor.name, &step).await? {
            store::Transitioned::Done => self.load_review(id).await,
            store::Transitioned::Stale => Err(AppError::Stale {
                current: Box::new(self.load_review(id).await?),
            }),
            store::Transitioned::VerdictExists(id) => Err(AppError::VerdictExists { id }),
        }
    }
}

/// Refuses an actor whose role lacks `permission`; `action` says what was attempted.
pub fn require(actor: &Actor, permission: Permission, action: &'static str) -> Result<()> {
    if actor.may(permission) {
        Ok(())
    } else {
        Err(AppError::Forbidden {
            role: actor.role,
            action,
        })
    }
}

fn token_secret(secret: &[u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
}

fn not_found(entity: &'static str, id: Uuid) -> AppError {
    AppError::NotFound {
        entity,
        id: id.to_string(),
    }
}

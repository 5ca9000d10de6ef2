//! Use cases shared by the HTTP API, the importer and the demo loader. Each takes the acting
//! key ([`Actor`]) and checks its permission here, validates, asks the domain to decide, and
//! runs its reads and writes (with the audit entry) through the store in one unit of work.
//! Knows nothing of HTTP; front ends only translate.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use uuid::Uuid;

use crate::domain::access::{self, Actor, ApiKey, Handle, Permission, Person, Role, Who};
use crate::domain::anchor::{AnchorError, AnchorIndex, Selector, Span};
use crate::domain::audit;
use crate::domain::checked::{BodyText, PublishedAt, ShortText, SourceKind, WebUrl};
use crate::domain::ids::{ClaimId, EvidenceId, KeyId, PassageId, PersonId, ReviewId, SourceId};
use crate::domain::review::{self, Rating, RatingScale, Review, State};
use crate::domain::{
    self, ClaimView, Cursor, Evidence, FieldError, NewSource, NewVersion, Outcome, Page, Passage,
    Source, Stance, Validator, Version, VersionText, events, validate,
};
use crate::store::{self, Constraint, Store, StoreError};

/// Everything a use case can refuse, in domain terms. The HTTP layer maps each to a problem.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("no {entity} has id {id}")]
    NotFound { entity: &'static str, id: String },
    #[error("source {source_id} has no version {number}")]
    UnknownVersion {
        source_id: SourceId,
        number: i64,
        latest: i64,
    },
    #[error("unknown passages")]
    UnknownPassages {
        field: &'static str,
        ids: Vec<PassageId>,
    },
    #[error("a source with this URL exists")]
    SourceExists { id: SourceId, url: String },
    #[error("this passage is already evidence for the claim")]
    EvidenceExists { id: EvidenceId },
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
    VerdictExists { id: ReviewId },
    #[error("a key cannot revoke itself")]
    OwnKey { id: KeyId },
    #[error("the text holds no figure to trace")]
    NoFigure {
        field: &'static str,
        text: String,
        /// What the text holds instead (a year, a date, an age…), when it holds a number.
        instead: Option<crate::domain::statistics::Kind>,
    },
    #[error("the link would close a cycle")]
    DerivationCycle { path: Vec<PassageId> },
    #[error("the link is recorded already")]
    DerivationExists {
        passage_id: PassageId,
        from: PassageId,
    },
    #[error("placements are decided on the latest version")]
    NotLatest { version: i64, latest: i64 },
    #[error("a rating scale with this id exists")]
    ScaleExists { id: String },
    #[error("a person with this handle exists")]
    PersonExists { handle: String },
    #[error("the review is not published")]
    NotPublished { id: ReviewId, state: State },
    #[error("the verdict was retracted")]
    Retracted { id: ReviewId, note: Option<String> },
    #[error("the search query is not valid: {error}")]
    InvalidSearch {
        field: &'static str,
        error: crate::domain::search::QueryError,
    },
    #[error("the server is missing a setting: {0}")]
    NotConfigured(&'static str),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T> = std::result::Result<T, AppError>;

impl AppError {
    /// One invalid field.
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Unavailable(why) => AppError::Unavailable(why.to_string()),
            other => AppError::Store(other),
        }
    }
}

/// The application: the store plus in-memory state that is safe to lose.
#[derive(Clone)]
pub struct App {
    store: Store,
    /// Rating scales read so far, by id (see `App::scale`).
    scales: Arc<std::sync::RwLock<std::collections::HashMap<String, RatingScale>>>,
    anchors: Arc<AnchorCache>,
    /// Whether an approver must differ from the review's author (on unless a one-person desk
    /// turns it off; every workflow step records the setting).
    second_person_rule: bool,
    /// The organisation that publishes verdicts (ClaimReview `author`).
    organization: Option<Arc<domain::claimreview::Organization>>,
    webhooks: Arc<webhooks::WebhookSettings>,
    /// The CMS's hot read between writes (see `cms::ReadCache`).
    reads: Arc<cms::ReadCache>,
    /// The lookup-form rule in force (`urls`).
    url_rule: Arc<domain::urls::UrlRule>,
    /// Where the service is reachable from outside, for the absolute links of public
    /// documents (ClaimReview); `None` leaves those links out.
    public_url: Option<Arc<str>>,
    /// The transparency log's signing key (see `tlog`).
    log: Option<Arc<tlog::LogState>>,
}

/// Folded views of recently used versions. Versions are immutable, so entries never go stale;
/// each API node keeps its own and the budget bounds memory.
struct AnchorCache {
    entries: Mutex<CachedIndexes>,
    budget_bytes: usize,
}

struct CachedIndexes {
    lru: LruCache<(SourceId, i64), Arc<AnchorIndex>>,
    /// Sum of the entries' `heap_bytes`, kept as they come and go.
    bytes: usize,
}

impl AnchorCache {
    fn get(&self, key: (SourceId, i64)) -> Option<Arc<AnchorIndex>> {
        self.lock().lru.get(&key).cloned()
    }

    fn insert(&self, key: (SourceId, i64), index: Arc<AnchorIndex>) {
        let mut cache = self.lock();
        cache.bytes += index.heap_bytes();
        // `push` hands back the entry it replaced or evicted for capacity.
        if let Some((_, old)) = cache.lru.push(key, index) {
            cache.bytes -= old.heap_bytes();
        }
        while cache.bytes > self.budget_bytes && cache.lru.len() > 1 {
            match cache.lru.pop_lru() {
                Some((_, evicted)) => cache.bytes -= evicted.heap_bytes(),
                None => break,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CachedIndexes> {
        // A panic while holding the lock leaves a cache that is still consistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn optional<T>(
    v: &mut Validator,
    field: &str,
    value: Option<&str>,
    check: fn(&str) -> std::result::Result<T, String>,
) -> Option<T> {
    value.and_then(|s| v.check(field, check(s)))
}

fn page_args(cursor: Option<&str>, limit: Option<u32>) -> Result<(Option<Uuid>, u32)> {
    let after = match cursor {
        None => None,
        Some(c) => Some(Cursor::decode(c).ok_or(AppError::InvalidCursor)?.0),
    };
    Ok((after, check_limit(limit.unwrap_or(domain::DEFAULT_LIMIT))?))
}

/// One page of a short list read whole (keys, scales, endpoints, a source's versions, a
/// passage's placements), in the list's order: the cursor holds the position of the next
/// item, so these lists page like the others. Lists that only grow page stably; one whose
/// items are deleted between two pages may skip an item.
pub fn page_of<T>(
    mut all: Vec<T>,
    order: domain::Order,
    cursor: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<T>> {
    if order.is_desc() {
        all.reverse();
    }
    let from = match cursor {
        None => 0,
        Some(c) => usize::try_from(
            Cursor::decode(c)
                .ok_or(AppError::InvalidCursor)?
                .0
                .as_u128(),
        )
        .map_err(|_| AppError::InvalidCursor)?,
    };
    let limit = check_limit(limit.unwrap_or(domain::DEFAULT_LIMIT))? as usize;
    let total = all.len();
    let items: Vec<T> = all.into_iter().skip(from).take(limit).collect();
    let next = from + items.len();
    let next_cursor = (next < total).then(|| Cursor(Uuid::from_u128(next as u128)).encode());
    Ok(Page { items, next_cursor })
}

/// Search results come best first: asking for another order is an error, not ignored.
fn ranked_only(order: domain::Order) -> Result<()> {
    if order.is_desc() {
        return Err(AppError::field(
            "order",
            "results of `q` are ranked best first; `order` applies to lists without `q`",
        ));
    }
    Ok(())
}

/// A page size the API accepts (1 to [`domain::MAX_LIMIT`]).
fn check_limit(limit: u32) -> Result<u32> {
    if !(1..=domain::MAX_LIMIT).contains(&limit) {
        return Err(AppError::InvalidLimit(limit));
    }
    Ok(limit)
}

fn page<T, I: Into<Uuid>>(items: Vec<T>, limit: u32, id: impl Fn(&T) -> I) -> Page<T> {
    let next_cursor = if items.len() == limit as usize {
        items.last().map(|last| Cursor(id(last).into()).encode())
    } else {
        None
    };
    Page { items, next_cursor }
}

impl App {
    /// `anchor_budget_bytes` bounds the memory of cached folded texts.
    pub fn new(store: Store, anchor_budget_bytes: usize) -> App {
        let reads = cms::ReadCache::new(store.touches());
        App {
            store,
            scales: Arc::default(),
            anchors: Arc::new(AnchorCache {
                entries: Mutex::new(CachedIndexes {
                    lru: LruCache::new(NonZeroUsize::new(4096).expect("non-zero")),
                    bytes: 0,
                }),
                budget_bytes: anchor_budget_bytes,
            }),
            second_person_rule: true,
            organization: None,
            webhooks: Arc::new(webhooks::WebhookSettings::default()),
            reads,
            url_rule: Arc::default(),
            public_url: None,
            log: None,
        }
    }

    /// The backend's name, for logs.
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Finishes queued writes and closes the database.
    pub async fn close(&self) {
        self.store.close().await
    }

    /// Whether the database answers (for `/health`).
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    /// What the metrics endpoint reports of the database (see [`store::ops::Figures`]).
    pub async fn operational_figures(&self) -> Result<store::ops::Figures> {
        Ok(self.store.figures().await?)
    }

    /// Why the database does not answer, named (see [`Store::diagnose`]); `None` if it does.
    pub async fn diagnose_database(&self) -> Option<String> {
        self.store.diagnose().await
    }

    /// Rows per table (every table, the audit log included): lets tests show that a refused
    /// request wrote nothing.
    pub async fn row_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(self.store.row_counts().await?)
    }

    /// Turns the second-person rule on or off for this instance.
    pub fn with_second_person_rule(mut self, on: bool) -> App {
        self.second_person_rule = on;
        self
    }
}

/// 32 bytes from the operating system's random source (key tokens, webhook secrets).
fn random_bytes() -> Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// Refuses an actor whose role lacks `permission`; `action` says what was attempted.
fn require(actor: &Actor, permission: Permission, action: &'static str) -> Result<()> {
    if actor.may(permission) {
        Ok(())
    } else {
        Err(AppError::Forbidden {
            role: actor.role,
            action,
        })
    }
}

/// A body's ETag: its length and its 64-bit rapidhash (v3), 32 hex digits in quotes. A
/// validator only has to change when the body does; it is no integrity proof (the audit chain
/// is). It was a SHA-256, which the `sha2` crate computes in software on this machine (270
/// MB/s): 22 µs for a 6 KB claim view, a sixth of the request (issue 17); then SipHash, about
/// four times as fast but still 5 % of a 16 KB claim list. rapidhash v3 is portable and fixed
/// by its specification, so every node and every build gives the same tag. Here, not in
/// `http`, because the lookup makes its tag once, with the answer it keeps.
pub fn body_tag(bytes: &[u8]) -> String {
    format!(
        "\"{:016x}{:016x}\"",
        bytes.len(),
        rapidhash::v3::rapidhash_v3(bytes)
    )
}

/// How many CPU-heavy tasks run at once: one CPU fewer than the machine has (at least one),
/// so that one stays for the async threads and every other request.
fn heavy_slots() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// Runs CPU-heavy work (building a folded index, resolving a quote) on tokio's blocking pool,
/// at most [`heavy_slots`] at a time, so that the async threads keep a CPU for other requests
/// and a burst of large resolutions queues instead of piling up threads. The permit goes with
/// the task: a caller that gives up does not let more run at once. A panic is an internal error.
async fn cpu_bound<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    static SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> =
        std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(heavy_slots()));
    let permit = SLOTS
        .acquire()
        .await
        .map_err(|e| AppError::Internal(format!("{what}: {e}")))?;
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|e| AppError::Internal(format!("{what} failed: {e}")));
    crate::metrics::cpu_task(what, started.elapsed());
    out
}

fn not_found(entity: &'static str, id: impl std::fmt::Display) -> AppError {
    AppError::NotFound {
        entity,
        id: id.to_string(),
    }
}

mod audit_trail;
mod claims;
mod cms;
mod idempotency;
mod keys;
mod passages;
mod placements;
mod reviews;
mod search;
mod sources;
mod statistics;
mod tlog;
mod urls;
mod webhooks;

pub use crate::domain::filters::{ClaimFilter, ReviewFilter};
pub use audit_trail::{AuditQuery, AuditReport, CheckpointQuery};
pub use claims::ClaimPatch;
pub use cms::{ClaimReviewDoc, FeedItem, LookupAnswer, Since};
pub use passages::PassageInput;
use placements::PLACING_ATTEMPTS;
pub use placements::{Offsets, PlacementDecision};
pub use reviews::{ReviewInput, ReviewPatch};
pub use search::{SIMILAR_DEFAULT, SIMILAR_MAX, SimilarClaims};
pub use sources::{SourceInput, SourcePatch, SourceQuery};
pub use statistics::{
    ChainStatus, Derivation, Hop, Lineage, PublisherCount, Relation, TraceHit, TraceInput,
    TraceReport, TraceSource, VersionStatistics,
};
pub use tlog::{ConsistencyProof, InclusionProof, LogBreak, LogReport, TileData};
pub use urls::UrlRekeying;
pub use webhooks::{
    AttemptResult, CreatedWebhook, DeliveryAttempt, Target, WebhookDelivery, WebhookEndpoint,
    WebhookSettings,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(budget_bytes: usize) -> AnchorCache {
        AnchorCache {
            entries: Mutex::new(CachedIndexes {
                lru: LruCache::new(NonZeroUsize::new(3).expect("non-zero")),
                bytes: 0,
            }),
            budget_bytes,
        }
    }

    fn index(len: usize) -> Arc<AnchorIndex> {
        Arc::new(AnchorIndex::new("x".repeat(len)))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cpu_bound_work_leaves_a_cpu_free_and_a_panic_is_an_internal_error() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let slots = heavy_slots();
        assert!(
            slots >= 1 && (cpus == 1 || slots < cpus),
            "{slots} of {cpus}"
        );
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..3 * cpus)
            .map(|i| {
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(cpu_bound("test work", move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                }))
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap().unwrap(), i);
        }
        let most = most.load(Ordering::SeqCst);
        assert!(
            (1..=slots).contains(&most),
            "{most} ran at once with {slots} slots"
        );
        let panicked = cpu_bound("test work", || -> usize { panic!("boom") }).await;
        assert!(
            matches!(&panicked, Err(AppError::Internal(m)) if m.contains("test work")),
            "{panicked:?}"
        );
        // The permit came back: work still runs.
        assert_eq!(cpu_bound("test work", || 7).await.unwrap(), 7);
    }

    #[test]
    fn anchor_cache_stays_within_its_budget_and_counts_replacements_once() {
        let one = index(1000).heap_bytes();
        let c = cache(one * 5 / 2);
        let s = SourceId::from_uuid(Uuid::nil());
        let (a, b, d) = ((s, 1), (s, 2), (s, 3));
        c.insert(a, index(1000));
        c.insert(b, index(1000));
        c.insert(b, index(1000));
        assert_eq!(
            c.lock().bytes,
            2 * one,
            "a replaced entry is not counted twice"
        );
        c.get(a);
        c.insert(d, index(1000));
        assert!(
            c.get(b).is_none(),
            "the least recently used entry goes first"
        );
        assert!(c.get(a).is_some() && c.get(d).is_some());
        assert_eq!(c.lock().bytes, 2 * one);
        // Capacity evictions are counted too.
        let roomy = cache(usize::MAX);
        for n in 0..5 {
            roomy.insert((s, n), index(1000));
        }
        assert_eq!(roomy.lock().bytes, 3 * one);
    }
}

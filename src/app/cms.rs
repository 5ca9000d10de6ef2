//! What a newsroom CMS needs: ClaimReview markup, the lookup by article URL, alias URLs,
//! where a verdict is published, and the change feed.

use std::collections::HashMap;

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;
use crate::domain::changes::{Affected, ChangeKind};
use crate::domain::claimreview::{self, Appearance, Markup, Organization};
use crate::domain::public::{Lookup, LookupClaim, LookupReview, PublicSource, PublicVerdict};
use crate::store::cms as db;
use crate::store::reviews as review_db;
use crate::store::touches::Touch;

/// Answers of the CMS's hot read (who a token is, what a URL finds) kept in memory until a
/// commit changes them. Writes name what they change ([`store::touches::Touch`]): this node's
/// commits are heard before their callers get an answer, other nodes' through PostgreSQL's
/// `NOTIFY`. While those notices may be missing (the listener is down) nothing is answered
/// from memory.
pub(super) struct ReadCache {
    kept: Mutex<Kept>,
}

struct Kept {
    /// Counts what was forgotten: an answer read from the database is kept only if nothing
    /// was forgotten while it was read (else it may predate the change).
    generation: u64,
    keys: lru::LruCache<[u8; 32], Actor>,
    lookups: lru::LruCache<String, Arc<LookupAnswer>>,
}

/// The lookup's answer for one URL, with its JSON body and that body's ETag (made once, as it
/// is served many times).
#[derive(Debug)]
pub struct LookupAnswer {
    pub lookup: Lookup,
    pub json: bytes::Bytes,
    /// A strong ETag of `json`, quoted.
    pub etag: String,
}

impl LookupAnswer {
    fn new(lookup: Lookup) -> Result<LookupAnswer> {
        let json = serde_json::to_vec(&lookup).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(LookupAnswer {
            etag: body_tag(&json),
            json: json.into(),
            lookup,
        })
    }
}

impl ReadCache {
    pub(super) fn new(touches: &store::touches::Touches) -> Arc<ReadCache> {
        let size = std::num::NonZeroUsize::new(4096).expect("non-zero");
        let cache = Arc::new(ReadCache {
            kept: Mutex::new(Kept {
                generation: 0,
                keys: lru::LruCache::new(size),
                lookups: lru::LruCache::new(size),
            }),
        });
        let weak = Arc::downgrade(&cache);
        touches.subscribe(move |touched| {
            if let Some(cache) = weak.upgrade() {
                cache.forget(touched);
            }
        });
        cache
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A panic while holding the lock leaves maps that are still consistent.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn forget(&self, touched: &[Touch]) {
        let mut kept = self.lock();
        kept.generation += 1;
        for t in touched {
            match t {
                Touch::Lookup(url) => {
                    kept.lookups.pop(url);
                }
                Touch::Keys => kept.keys.clear(),
                Touch::All => {
                    kept.keys.clear();
                    kept.lookups.clear();
                }
            }
        }
    }
}

/// A review's ClaimReview document, and what a newsroom should fix in it.
#[derive(Debug, Clone)]
pub struct ClaimReviewDoc {
    pub document: serde_json::Value,
    pub warnings: Vec<String>,
}

/// Where a change feed starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    Seq(i64),
    /// The newest change: only what comes next.
    Now,
}

/// One line of the change feed.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct FeedItem {
    /// Increases with every change; resume after the last one you processed.
    pub seq: i64,
    /// The change's id (also the `webhook-id` of its deliveries).
    pub id: uuid::Uuid,
    /// `review.published`, `review.corrected`, `review.retracted`, `review.updated`,
    /// `claim.updated`, `source.updated`; for editorial roles also `source.version_added` and
    /// `passage.changed`. The public ones name in `data.urls` every lookup URL whose answer
    /// changed, and in `data.reviews` every review whose ClaimReview changed.
    #[serde(rename = "type")]
    pub kind: String,
    /// The review or source changed.
    pub entity_id: uuid::Uuid,
    /// The entity left public view (a retraction).
    pub tombstone: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    /// Ids and links; fetch the rest with your key.
    pub data: serde_json::Value,
}

impl App {
    /// Sets the organisation that publishes verdicts.
    pub fn with_organization(mut self, org: Organization) -> App {
        self.organization = Some(Arc::new(org));
        self
    }

    fn organization(&self) -> Result<Arc<Organization>> {
        self.organization.clone().ok_or(AppError::NotConfigured(
            "CLAIMTRAIL_ORG_NAME and CLAIMTRAIL_ORG_URL (the organisation that publishes verdicts)",
        ))
    }

    /// Sets (or clears, with `None`) the newsroom page that publishes a verdict.
    pub async fn set_published_url(
        &self,
        actor: &Actor,
        id: ReviewId,
        revision: Option<i64>,
        url: Option<&str>,
    ) -> Result<Review> {
        require(
            actor,
            Permission::DecideReviews,
            "set where verdicts are published",
        )?;
        let page = url
            .map(|u| reviews::published_page(u, &self.url_rule))
            .transpose()?;
        let review = self.load_review(id).await?;
        let review = Self::fresh(review, revision)?;
        if !matches!(review.state, State::Published | State::Superseded) {
            return Err(AppError::NotPublished {
                id,
                state: review.state,
            });
        }
        let (name, from, claim_id) = (actor.who(), review.revision, review.claim_id);
        let at = store::now();
        let set = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let page = page.as_ref().map(|(u, k)| (u.as_str(), k.as_str()));
                    // The page it leaves and the page it goes to both change.
                    let before = db::claim_urls(tx, claim_id).await?;
                    if !review_db::set_published_url(tx, id, from, page, at).await? {
                        return Ok(false);
                    }
                    let event = events::published_url_set(id, page.map(|p| p.0), from + 1);
                    store::audit::append(tx, &name, event).await?;
                    // The claim's other verdicts name this one's page (a correction and the
                    // verdict it superseded point at each other).
                    let affected = Affected::default()
                        .with_urls(before)
                        .with_urls(db::claim_urls(tx, claim_id).await?)
                        .with_reviews([id])
                        .with_reviews(db::public_reviews(tx, claim_id).await?);
                    let kind = ChangeKind::ReviewUpdated;
                    let data = domain::changes::review_data(kind, id, None);
                    db::announce(tx, kind, id.uuid(), data, affected, at).await?;
                    Ok::<_, AppError>(true)
                })
            })
            .await?;
        let mut current = self.load_review(id).await?;
        if !set {
            return Err(AppError::Stale {
                current: Box::new(current),
            });
        }
        self.with_warnings(&mut current).await?;
        Ok(current)
    }

    /// What a newsroom should fix before a published verdict's markup is shown.
    pub fn claimreview_warnings(&self, review: &Review, claim_text: &str) -> Vec<String> {
        match (&self.organization, review.state) {
            (Some(org), State::Published | State::Superseded) => {
                claimreview::warnings(claim_text, review.published_url.as_deref(), org)
            }
            _ => Vec::new(),
        }
    }

    /// The schema.org ClaimReview of a published (or superseded) verdict. A retracted one is
    /// `Retracted` (410), so a CMS removes its markup.
    pub async fn claim_review(&self, actor: &Actor, id: ReviewId) -> Result<ClaimReviewDoc> {
        require(actor, Permission::ReadPublished, "read verdicts")?;
        let org = self.organization()?;
        let snapshot = self
            .store
            .read(|tx| {
                Box::pin(async move {
                    let Some(review) = review_db::get_review(tx, id, true).await? else {
                        return Ok(None);
                    };
                    let Some(claim) = store::claims::get_claim(tx, review.claim_id).await? else {
                        return Ok(None);
                    };
                    let (appearances, _) =
                        store::claims::claim_passages(tx, review.claim_id).await?;
                    let mut sources = HashMap::new();
                    let mut versions = HashMap::new();
                    for a in &appearances {
                        let sid = a.passage.source_id;
                        if let std::collections::hash_map::Entry::Vacant(e) = sources.entry(sid) {
                            let source = store::sources::get_source(tx, sid).await?;
                            let derived = store::sources::title_derived(tx, sid).await?;
                            e.insert(source.map(|s| (s, derived)));
                            versions.insert(sid, store::sources::list_versions(tx, sid).await?);
                        }
                    }
                    let superseded_by = match review.superseded_by {
                        Some(by) => review_db::get_review(tx, by, false).await?,
                        None => None,
                    };
                    let corrects = match review.corrects {
                        Some(old) => review_db::get_review(tx, old, false).await?,
                        None => None,
                    };
                    Ok::<_, AppError>(Some((
                        review,
                        claim,
                        appearances,
                        sources,
                        versions,
                        (superseded_by, corrects),
                    )))
                })
            })
            .await?;
        let Some((review, claim, appearances, sources, versions, (superseded_by, corrects))) =
            snapshot
        else {
            return Err(not_found("review", id));
        };
        match review.state {
            State::Published | State::Superseded => {}
            State::Retracted => {
                let note = review
                    .history
                    .iter()
                    .rev()
                    .find(|e| e.to == State::Retracted)
                    .and_then(|e| e.note.clone());
                return Err(AppError::Retracted { id, note });
            }
            state if actor.may(Permission::ReadRecords) => {
                return Err(AppError::NotPublished { id, state });
            }
            _ => return Err(not_found("review", id)),
        }
        let scale = self
            .scale(&review.scale)
            .await?
            .ok_or_else(|| AppError::Internal(format!("scale {} vanished", review.scale)))?;
        let appearances: Vec<Appearance> = appearances
            .into_iter()
            .map(|a| {
                let sid = a.passage.source_id;
                let source = sources.get(&sid).cloned().flatten();
                let sha = versions
                    .get(&sid)
                    .and_then(|vs| vs.iter().find(|v| v.number == a.passage.version))
                    .map(|v| v.sha256.clone())
                    .unwrap_or_default();
                Appearance {
                    // The title as stored, unless an import made it up from the text.
                    headline: match &source {
                        Some((s, false)) => Some(s.title.clone()),
                        _ => None,
                    },
                    source_published_at: source.as_ref().and_then(|(s, _)| s.published_at.clone()),
                    authors: source.map(|(s, _)| s.authors).unwrap_or_default(),
                    version_sha256: sha,
                    passage: a.passage,
                    source: a.source,
                }
            })
            .collect();
        let markup = Markup {
            review: &review,
            claim: &claim,
            scale: &scale,
            org: &org,
            appearances: &appearances,
            superseded_by: superseded_by.as_ref(),
            corrects: corrects.as_ref(),
            public_base: self.public_url(),
        };
        Ok(ClaimReviewDoc {
            document: claimreview::claim_review(&markup),
            warnings: self.claimreview_warnings(&review, &claim.text),
        })
    }

    /// Whether this node may answer the lookup from memory now: every change, its own and
    /// other nodes', reaches it (on PostgreSQL, while its listener is connected).
    pub fn answers_from_memory(&self) -> bool {
        self.store.touches().complete()
    }

    /// The actor behind a bearer token, for a read: from [`ReadCache`] when no key changed
    /// since it was read (a revocation is heard at its commit on this node, through `NOTIFY`
    /// on the others, and nothing is answered from memory while those notices may be missing).
    /// Writes use [`App::authenticate`], which always reads the key.
    pub async fn authenticate_read(&self, token: &str) -> Result<Actor> {
        let token_key: [u8; 32] = {
            use sha2::Digest;
            sha2::Sha256::digest(token.as_bytes()).into()
        };
        let from_memory = self.store.touches().complete();
        let (generation, kept_actor) = {
            let mut kept = self.reads.lock();
            let actor = from_memory
                .then(|| kept.keys.get(&token_key).cloned())
                .flatten();
            (kept.generation, actor)
        };
        if let Some(actor) = kept_actor {
            return Ok(actor);
        }
        let actor = self.authenticate(token).await?;
        let mut kept = self.reads.lock();
        if from_memory && kept.generation == generation {
            kept.keys.put(token_key, actor.clone());
        }
        Ok(actor)
    }

    /// The lookup by article URL for a bearer token: the read a CMS makes on every page
    /// render. Answered from [`ReadCache`] when nothing it depends on changed since it was
    /// read, with no database read.
    pub async fn lookup_as(&self, token: &str, url: &str) -> Result<(Actor, Arc<LookupAnswer>)> {
        let key = self.lookup_form(url);
        let from_memory = self.store.touches().complete();
        let (generation, found) = {
            let mut kept = self.reads.lock();
            let found = match &key {
                Ok(key) if from_memory => kept.lookups.get(key).cloned(),
                _ => None,
            };
            (kept.generation, found)
        };
        let actor = self.authenticate_read(token).await?;
        require(&actor, Permission::ReadPublished, "look up articles")?;
        let key = key.map_err(|m| AppError::field("url", m))?;
        if let Some(found) = found {
            return Ok((actor, found));
        }
        let found = Arc::new(LookupAnswer::new(self.read_lookup(key.clone()).await?)?);
        let mut kept = self.reads.lock();
        if from_memory && kept.generation == generation {
            kept.lookups.put(key, found.clone());
        }
        Ok((actor, found))
    }

    /// What a CMS needs for the article at a URL in lookup form: the claims with a published
    /// verdict (or the stub of a corrected or retracted one) that appear in any version of the
    /// sources known by that URL, each with its spans and verdicts, those sources, and the
    /// verdicts published at that URL, read in one snapshot. Nothing else: a claim still in
    /// the desk's hands, and a source it is studying, are not public.
    async fn read_lookup(&self, key: String) -> Result<Lookup> {
        let wanted = key.clone();
        let (sources, claims, published) = self
            .store
            .read(|tx| {
                Box::pin(async move {
                    let ids = db::sources_by_url(tx, &wanted).await?;
                    let mut sources = Vec::new();
                    let mut claims: Vec<LookupClaim> = Vec::new();
                    for sid in &ids {
                        let Some(s) = store::sources::get_source(tx, *sid).await? else {
                            continue;
                        };
                        let mut shown = claims
                            .iter()
                            .any(|c| c.passages.iter().any(|p| p.source_id == *sid));
                        for claim_id in db::claims_of_source(tx, *sid).await? {
                            if claims.iter().any(|c| c.claim.id == claim_id) {
                                continue;
                            }
                            let reviews = review_db::claim_reviews(tx, claim_id).await?;
                            if !reviews.iter().any(|r| PublicVerdict::of(r).is_some()) {
                                continue;
                            }
                            let Some(claim) = store::claims::get_claim(tx, claim_id).await? else {
                                continue;
                            };
                            let (appearances, _) =
                                store::claims::claim_passages(tx, claim_id).await?;
                            claims.push(lookup_claim(&claim, &appearances, &reviews, &ids));
                            shown = true;
                        }
                        if shown {
                            sources.push(PublicSource {
                                id: s.id,
                                title: s.title,
                                url: s.url,
                                publisher: s.publisher,
                            });
                        }
                    }
                    let mut published = Vec::new();
                    for rid in review_db::by_published_url(tx, &wanted).await? {
                        let Some(review) = review_db::get_review(tx, rid, true).await? else {
                            continue;
                        };
                        let Some(verdict) = PublicVerdict::of(&review) else {
                            continue;
                        };
                        if let Some(claim) = store::claims::get_claim(tx, review.claim_id).await? {
                            published.push(LookupReview {
                                claim: (&claim).into(),
                                verdict,
                            });
                        }
                    }
                    claims.sort_by_key(|c| c.claim.id);
                    Ok::<_, AppError>((sources, claims, published))
                })
            })
            .await?;
        Ok(Lookup {
            url: key,
            sources,
            claims,
            reviews: published,
        })
    }

    /// Adds an alias URL (a syndicated copy, an AMP page) that the lookup also matches.
    /// Returns the source's aliases.
    pub async fn add_alias(
        &self,
        actor: &Actor,
        source_id: SourceId,
        url: &str,
    ) -> Result<Vec<String>> {
        require(actor, Permission::WriteRecords, "add source URLs")?;
        let key = self
            .lookup_form(url)
            .map_err(|m| AppError::field("url", m))?;
        let stored =
            crate::domain::urls::stored_form(url).map_err(|m| AppError::field("url", m))?;
        self.load_source(source_id).await?;
        let (name, at, written_key) = (actor.who(), store::now(), key.clone());
        let written = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    db::insert_url(tx, &written_key, source_id, &stored, true, at).await?;
                    let event = events::source_alias_added(source_id, &stored);
                    store::audit::append(tx, &name, event).await?;
                    announce_source(tx, source_id, Vec::new(), at).await
                })
            })
            .await;
        match written {
            Ok(()) => {}
            Err(StoreError::Conflict(Constraint::SourceUrl)) => {
                let lookup_key = key.clone();
                let holder = self
                    .store
                    .fetch(move |tx| {
                        Box::pin(async move { db::sources_by_url(tx, &lookup_key).await })
                    })
                    .await?;
                return match holder.first() {
                    // Already an alias (or the URL) of this source: nothing to add.
                    Some(id) if *id == source_id => self.read_aliases(source_id).await,
                    Some(id) => Err(AppError::SourceExists { id: *id, url: key }),
                    None => Err(AppError::Internal("a URL conflicts yet is absent".into())),
                };
            }
            Err(e) => return Err(e.into()),
        }
        self.read_aliases(source_id).await
    }

    /// A source's alias URLs, in lookup form.
    pub async fn aliases(&self, actor: &Actor, source_id: SourceId) -> Result<Vec<String>> {
        require(actor, Permission::ReadRecords, "read sources")?;
        self.load_source(source_id).await?;
        self.read_aliases(source_id).await
    }

    async fn read_aliases(&self, source_id: SourceId) -> Result<Vec<String>> {
        Ok(self
            .store
            .fetch(move |tx| Box::pin(db::aliases(tx, source_id)))
            .await?)
    }

    /// Changes after `since`, oldest first (at most `limit`), and the newest `seq`.
    /// Integrations see publications, corrections and retractions only.
    pub async fn changes(
        &self,
        actor: &Actor,
        since: Since,
        limit: u32,
    ) -> Result<(Vec<FeedItem>, i64)> {
        require(actor, Permission::ReadPublished, "read the change feed")?;
        let limit = check_limit(limit)?;
        let all = actor.may(Permission::ReadRecords);
        let (rows, head) = self
            .store
            .read(|tx| {
                Box::pin(async move {
                    let head = db::head(tx).await?;
                    let after = match since {
                        Since::Seq(s) => s,
                        Since::Now => head,
                    };
                    let rows = db::changes(tx, after, all, limit).await?;
                    Ok::<_, AppError>((rows, head))
                })
            })
            .await?;
        let changes = rows
            .into_iter()
            .map(|r| FeedItem {
                tombstone: domain::changes::ChangeKind::parse(&r.kind)
                    .is_some_and(|k| k.is_tombstone()),
                seq: r.seq,
                id: r.id,
                kind: r.kind,
                entity_id: r.entity_id,
                at: r.at,
                data: r.data,
            })
            .collect();
        Ok((changes, head))
    }
}

/// Announces a change to a claim that integrations see, naming every lookup that may show it
/// (and `also`: URLs that showed it before the write) and its public reviews. A claim without
/// a public verdict is not shown to integrations, so its changes announce nothing.
pub(super) async fn announce_claim(
    tx: &mut store::Tx,
    claim_id: ClaimId,
    also: Vec<String>,
    at: time::OffsetDateTime,
) -> std::result::Result<(), StoreError> {
    let reviews = db::public_reviews(tx, claim_id).await?;
    if reviews.is_empty() {
        return Ok(());
    }
    let affected = Affected::default()
        .with_urls(also)
        .with_urls(db::claim_urls(tx, claim_id).await?)
        .with_reviews(reviews);
    let data = domain::changes::claim_data(claim_id);
    db::announce(
        tx,
        ChangeKind::ClaimUpdated,
        claim_id.uuid(),
        data,
        affected,
        at,
    )
    .await
}

/// Announces a change to what integrations see of a source (its URLs, title, publisher):
/// nothing unless a claim with a public verdict appears in it. `before` holds the source's
/// lookup URLs before the write.
pub(super) async fn announce_source(
    tx: &mut store::Tx,
    source_id: SourceId,
    before: Vec<String>,
    at: time::OffsetDateTime,
) -> std::result::Result<(), StoreError> {
    let claims = db::public_claims_of_source(tx, source_id).await?;
    if claims.is_empty() {
        return Ok(());
    }
    let mut affected = Affected::default()
        .with_urls(before)
        .with_urls(db::source_urls(tx, source_id).await?);
    for claim_id in claims {
        affected = affected.with_reviews(db::public_reviews(tx, claim_id).await?);
    }
    let data = domain::changes::source_data(source_id);
    let kind = ChangeKind::SourceUpdated;
    db::announce(tx, kind, source_id.uuid(), data, affected, at).await
}

/// A claim as the lookup shows it: its spans in the sources looked up, and its verdicts.
fn lookup_claim(
    claim: &domain::Claim,
    appearances: &[domain::SourcedPassage],
    reviews: &[Review],
    sources: &[SourceId],
) -> LookupClaim {
    let verdicts: Vec<PublicVerdict> = reviews.iter().filter_map(PublicVerdict::of).collect();
    let (current, earlier): (Vec<_>, Vec<_>) = verdicts
        .into_iter()
        .partition(|v| v.state == State::Published);
    LookupClaim {
        claim: claim.into(),
        passages: appearances
            .iter()
            .filter(|a| sources.contains(&a.passage.source_id))
            .map(|a| (&a.passage).into())
            .collect(),
        verdict: current.into_iter().last(),
        earlier,
    }
}

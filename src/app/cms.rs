//! What a newsroom CMS needs: ClaimReview markup, the lookup by article URL, alias URLs,
//! where a verdict is published, and the change feed.

use std::collections::HashMap;

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;
use crate::domain::claimreview::{self, Appearance, Markup, Organization};
use crate::domain::public::{Lookup, LookupClaim, LookupReview, PublicSource, PublicVerdict};
use crate::store::cms as db;
use crate::store::provenance as records;
use crate::store::reviews as review_db;

/// Answers of the CMS's hot read (who a token is, what a URL finds) kept between writes. Each
/// is valid while the audit chain's head is the one it was read at: every write to the
/// records appends to the chain, on whichever node made it, so one indexed read tells whether
/// anything changed. A revoked key is a write too.
pub(super) struct ReadCache {
    keys: Mutex<lru::LruCache<[u8; 32], (i64, Actor)>>,
    lookups: Mutex<lru::LruCache<String, (i64, Arc<Lookup>)>>,
}

impl ReadCache {
    pub(super) fn new() -> ReadCache {
        let size = std::num::NonZeroUsize::new(4096).expect("non-zero");
        ReadCache {
            keys: Mutex::new(lru::LruCache::new(size)),
            lookups: Mutex::new(lru::LruCache::new(size)),
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
    /// `review.published`, `review.corrected`, `review.retracted`; for editorial roles also
    /// `source.version_added` and `passage.changed`.
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
        let (name, from) = (actor.who(), review.revision);
        let at = store::now();
        let set = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let page = page.as_ref().map(|(u, k)| (u.as_str(), k.as_str()));
                    if !review_db::set_published_url(tx, id, from, page, at).await? {
                        return Ok(false);
                    }
                    let event = events::published_url_set(id, page.map(|p| p.0), from + 1);
                    store::audit::append(tx, &name, event).await?;
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
                    let Some(claim) = records::get_claim(tx, review.claim_id).await? else {
                        return Ok(None);
                    };
                    let (appearances, _) = records::claim_passages(tx, review.claim_id).await?;
                    let mut sources = HashMap::new();
                    let mut versions = HashMap::new();
                    for a in &appearances {
                        let sid = a.passage.source_id;
                        if let std::collections::hash_map::Entry::Vacant(e) = sources.entry(sid) {
                            let source = records::get_source(tx, sid).await?;
                            let derived = records::title_derived(tx, sid).await?;
                            e.insert(source.map(|s| (s, derived)));
                            versions.insert(sid, records::list_versions(tx, sid).await?);
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

    /// [`App::lookup`] for a bearer token: the read a CMS makes on every page render. While
    /// nothing was written since, the key and the answer come from [`ReadCache`], so the read
    /// costs one indexed statement (the audit head).
    pub async fn lookup_as(&self, token: &str, url: &str) -> Result<(Actor, Arc<Lookup>)> {
        let head = self
            .store
            .fetch(|tx| Box::pin(store::audit::head_seq(tx)))
            .await?;
        let token_key: [u8; 32] = {
            use sha2::Digest;
            sha2::Sha256::digest(token.as_bytes()).into()
        };
        let known = {
            let mut keys = self.reads.keys.lock().unwrap_or_else(|e| e.into_inner());
            keys.get(&token_key)
                .filter(|(at, _)| *at == head)
                .map(|(_, a)| a.clone())
        };
        let actor = match known {
            Some(actor) => actor,
            None => {
                let actor = self.authenticate(token).await?;
                let mut keys = self.reads.keys.lock().unwrap_or_else(|e| e.into_inner());
                keys.put(token_key, (head, actor.clone()));
                actor
            }
        };
        require(&actor, Permission::ReadPublished, "look up articles")?;
        let key = self
            .lookup_form(url)
            .map_err(|m| AppError::field("url", m))?;
        {
            let mut lookups = self.reads.lookups.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, found)) = lookups.get(&key)
                && *at == head
            {
                return Ok((actor, found.clone()));
            }
        }
        let (at, found) = self.read_lookup(key.clone()).await?;
        let found = Arc::new(found);
        let mut lookups = self.reads.lookups.lock().unwrap_or_else(|e| e.into_inner());
        lookups.put(key, (at, found.clone()));
        Ok((actor, found))
    }

    /// What a CMS needs for the article at a URL in lookup form: the claims that appear in any
    /// version of the sources known by that URL, each with its spans and verdicts, and the
    /// verdicts published at that URL (an unknown URL finds nothing), with the audit head it
    /// was read at (one snapshot).
    async fn read_lookup(&self, key: String) -> Result<(i64, Lookup)> {
        let wanted = key.clone();
        let (head, sources, claims, published) = self
            .store
            .read(|tx| {
                Box::pin(async move {
                    let head = store::audit::head_seq(tx).await?;
                    let ids = db::sources_by_url(tx, &wanted).await?;
                    let mut sources = Vec::new();
                    let mut claims: Vec<LookupClaim> = Vec::new();
                    for sid in &ids {
                        let Some(s) = records::get_source(tx, *sid).await? else {
                            continue;
                        };
                        sources.push(PublicSource {
                            id: s.id,
                            title: s.title,
                            url: s.url,
                            publisher: s.publisher,
                        });
                        for claim_id in db::claims_of_source(tx, *sid).await? {
                            if claims.iter().any(|c| c.claim.id == claim_id) {
                                continue;
                            }
                            let Some(claim) = records::get_claim(tx, claim_id).await? else {
                                continue;
                            };
                            let (appearances, _) = records::claim_passages(tx, claim_id).await?;
                            let reviews = review_db::claim_reviews(tx, claim_id).await?;
                            claims.push(lookup_claim(&claim, &appearances, &reviews, &ids));
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
                        if let Some(claim) = records::get_claim(tx, review.claim_id).await? {
                            published.push(LookupReview {
                                claim: (&claim).into(),
                                verdict,
                            });
                        }
                    }
                    claims.sort_by_key(|c| c.claim.id);
                    Ok::<_, AppError>((head, sources, claims, published))
                })
            })
            .await?;
        Ok((
            head,
            Lookup {
                url: key,
                sources,
                claims,
                reviews: published,
            },
        ))
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
                    store::audit::append(tx, &name, event).await
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

    /// Gives sources stored before URLs were kept in lookup form their `source_urls` row. A
    /// URL that two old sources share in lookup form stays with the older one (logged).
    pub async fn backfill_source_urls(&self) -> Result<usize> {
        let mut filled = 0;
        loop {
            let rows = self
                .store
                .fetch(|tx| Box::pin(db::without_url_row(tx)))
                .await?;
            if rows.is_empty() {
                return Ok(filled);
            }
            let at = store::now();
            let mut skipped = 0;
            for (source_id, url) in rows {
                let key = self.lookup_form(&url).unwrap_or(url.clone());
                let written = self
                    .store
                    .write(move |tx| {
                        Box::pin(async move {
                            db::insert_url(tx, &key, source_id, &url, false, at).await
                        })
                    })
                    .await;
                match written {
                    Ok(()) => filled += 1,
                    Err(StoreError::Conflict(Constraint::SourceUrl)) => {
                        tracing::warn!(%source_id, "its URL names another source in lookup form; not matched by the lookup");
                        skipped += 1;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if skipped > 0 {
                // Those rows stay without a URL row; stop rather than read them again.
                return Ok(filled);
            }
        }
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

//! What a newsroom CMS reads: sources by every URL they are known by, claims that appear in
//! them, and the change feed.

use time::OffsetDateTime;

use super::Result;
use super::exec::{Cols, FromRow, Json, Tx, stmt};
use super::touches::Touch;
use crate::domain::changes::{Affected, ChangeData, ChangeKind};
use crate::domain::ids::{ClaimId, ReviewId, SourceId};
use crate::domain::urls::StoredUrl;

mod sql {
    pub const INSERT_URL: &str = "INSERT INTO source_urls (url_key, source_id, url, alias, created_at) \
         VALUES ($1, $2, $3, $4, $5)";
    pub const DELETE_OWN_URL: &str = "DELETE FROM source_urls WHERE source_id = $1 AND alias = $2";
    pub const SOURCES_BY_URL: &str =
        "SELECT source_id FROM source_urls WHERE url_key = $1 ORDER BY source_id";
    pub const ALIASES: &str = "SELECT url FROM source_urls WHERE source_id = $1 AND alias = $2 ORDER BY created_at, url_key";
    pub const CLAIMS_OF_SOURCE: &str = "SELECT DISTINCT a.claim_id FROM passages p \
         JOIN claim_appearances a ON a.passage_id = p.id WHERE p.source_id = $1";
    pub const INSERT_CHANGE: &str = "INSERT INTO changes (id, type, entity_id, public, data, at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub const CHANGES: &str = "SELECT seq, id, type, entity_id, data, at FROM changes \
         WHERE seq > $1 AND (public = $2 OR public = $3) ORDER BY seq LIMIT $4";
    pub const HEAD: &str = "SELECT seq FROM changes ORDER BY seq DESC LIMIT 1";
    /// Every lookup key that may show the claim: its sources' URLs and aliases, and the
    /// pages its verdicts are published at.
    pub const CLAIM_URLS: &str = "SELECT u.url_key FROM claim_appearances a \
         JOIN passages p ON p.id = a.passage_id JOIN source_urls u ON u.source_id = p.source_id \
         WHERE a.claim_id = $1 \
         UNION SELECT r.published_url_key FROM reviews r \
         WHERE r.claim_id = $1 AND r.published_url_key IS NOT NULL";
    pub const SOURCE_URLS: &str = "SELECT url_key FROM source_urls WHERE source_id = $1";
    /// The claim's reviews integrations see: published, superseded or retracted.
    pub const PUBLIC_REVIEWS: &str = "SELECT id FROM reviews WHERE claim_id = $1 \
         AND state IN ('published', 'superseded', 'retracted') ORDER BY id";
    /// Claims with a verdict integrations see that appear in the source.
    pub const PUBLIC_CLAIMS_OF_SOURCE: &str = "SELECT DISTINCT a.claim_id FROM passages p \
         JOIN claim_appearances a ON a.passage_id = p.id \
         WHERE p.source_id = $1 AND EXISTS (SELECT 1 FROM reviews r WHERE r.claim_id = a.claim_id \
         AND r.state IN ('published', 'superseded', 'retracted'))";
    pub const URL_RULE: &str = "SELECT fingerprint FROM url_rule WHERE id = 1";
    /// The row that serializes recomputations ('' until a rule is recorded).
    pub const URL_RULE_ROW: &str = "INSERT INTO url_rule (id, fingerprint, recomputed_at) VALUES (1, '', $1) \
         ON CONFLICT (id) DO NOTHING";
    /// Locks it on PostgreSQL (another node's recomputation waits for this one's commit).
    pub const LOCK_URL_RULE: &str =
        "UPDATE url_rule SET recomputed_at = recomputed_at WHERE id = 1";
    pub const SET_URL_RULE: &str = "INSERT INTO url_rule (id, fingerprint, recomputed_at) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, recomputed_at = excluded.recomputed_at";
    pub const ALL_URLS: &str = "SELECT url_key, source_id, url, alias, created_at FROM source_urls \
         ORDER BY created_at, url_key";
    pub const DELETE_URL: &str = "DELETE FROM source_urls WHERE url_key = $1";
    pub const PUBLISHED_URLS: &str = "SELECT id, published_url, published_url_key FROM reviews \
         WHERE published_url IS NOT NULL ORDER BY id";
    pub const SET_PUBLISHED_URL_KEY: &str =
        "UPDATE reviews SET published_url_key = $2 WHERE id = $1";
}

/// Records that `url` (in lookup form `key`) names the source; an alias when it is not the
/// source's own URL. A URL that names another source is a `SourceUrl` conflict.
pub async fn insert_url(
    tx: &mut Tx,
    key: &str,
    source_id: SourceId,
    url: &str,
    alias: bool,
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(stmt!(sql::INSERT_URL, key, source_id, url, alias, at))
        .await?;
    Ok(())
}

/// Forgets the source's own URL (its aliases stay), before a new one is recorded.
pub async fn delete_own_url(tx: &mut Tx, source_id: SourceId) -> Result<()> {
    tx.execute(stmt!(sql::DELETE_OWN_URL, source_id, false))
        .await
        .map(drop)
}

pub async fn sources_by_url(tx: &mut Tx, key: &str) -> Result<Vec<SourceId>> {
    let rows: Vec<(SourceId,)> = tx.fetch_all(stmt!(sql::SOURCES_BY_URL, key)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn aliases(tx: &mut Tx, source_id: SourceId) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = tx.fetch_all(stmt!(sql::ALIASES, source_id, true)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn claims_of_source(tx: &mut Tx, source_id: SourceId) -> Result<Vec<ClaimId>> {
    let rows: Vec<(ClaimId,)> = tx
        .fetch_all(stmt!(sql::CLAIMS_OF_SOURCE, source_id))
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// One entry of the change feed.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub seq: i64,
    pub id: uuid::Uuid,
    pub kind: String,
    pub entity_id: uuid::Uuid,
    pub data: serde_json::Value,
    pub at: OffsetDateTime,
}

impl FromRow for ChangeRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(ChangeRow {
            seq: c.get()?,
            id: c.get()?,
            kind: c.get()?,
            entity_id: c.get()?,
            data: c.get::<Json<serde_json::Value>>()?.0,
            at: c.get()?,
        })
    }
}

/// Appends a change and its webhook deliveries. Takes the write lock first, so that changes
/// commit in `seq` order and a reader resuming after a `seq` never misses one committed later
/// with a smaller number.
pub async fn record_change(
    tx: &mut Tx,
    kind: &str,
    entity_id: uuid::Uuid,
    public: bool,
    data: &ChangeData,
    at: OffsetDateTime,
) -> Result<()> {
    tx.lock_writes().await?;
    let id = uuid::Uuid::now_v7();
    tx.execute(stmt!(
        sql::INSERT_CHANGE,
        id,
        kind,
        entity_id,
        public,
        Json(data),
        at
    ))
    .await?;
    // The outbox: its deliveries commit (or roll back) with the change.
    let payload = crate::domain::webhooks::payload(kind, at, data);
    let message = crate::domain::webhooks::message_id(id);
    super::webhooks::fan_out(tx, &message, kind, &payload, at).await?;
    Ok(())
}

/// Every lookup key (URL in lookup form) whose answer may show the claim.
pub async fn claim_urls(tx: &mut Tx, claim_id: ClaimId) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = tx.fetch_all(stmt!(sql::CLAIM_URLS, claim_id)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The lookup keys of a source: its own URL and its aliases.
pub async fn source_urls(tx: &mut Tx, source_id: SourceId) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = tx.fetch_all(stmt!(sql::SOURCE_URLS, source_id)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The claim's reviews that integrations see (published, superseded, retracted).
pub async fn public_reviews(tx: &mut Tx, claim_id: ClaimId) -> Result<Vec<ReviewId>> {
    let rows: Vec<(ReviewId,)> = tx.fetch_all(stmt!(sql::PUBLIC_REVIEWS, claim_id)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The claims in the source that integrations see (they carry a public verdict).
pub async fn public_claims_of_source(tx: &mut Tx, source_id: SourceId) -> Result<Vec<ClaimId>> {
    let rows: Vec<(ClaimId,)> = tx
        .fetch_all(stmt!(sql::PUBLIC_CLAIMS_OF_SOURCE, source_id))
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Records a change integrations see, naming what it affects in its payload, and tells the
/// nodes' in-memory readers which lookups to forget (the same URLs: the feed and the caches
/// are exact together).
pub async fn announce(
    tx: &mut Tx,
    kind: ChangeKind,
    entity_id: uuid::Uuid,
    data: ChangeData,
    affected: Affected,
    at: OffsetDateTime,
) -> Result<()> {
    let touched = affected.urls.iter().cloned().map(Touch::Lookup).collect();
    let data = affected.into_data(data);
    record_change(tx, kind.as_str(), entity_id, kind.is_public(), &data, at).await?;
    super::touches::touch(tx, touched).await
}

/// Changes after `since`, oldest first; only public ones unless `all`.
pub async fn changes(tx: &mut Tx, since: i64, all: bool, limit: u32) -> Result<Vec<ChangeRow>> {
    tx.fetch_all(stmt!(sql::CHANGES, since, true, !all, i64::from(limit)))
        .await
}

/// The newest change's `seq` (0 when there is none).
pub async fn head(tx: &mut Tx) -> Result<i64> {
    Ok(tx.scalar::<i64>(stmt!(sql::HEAD)).await?.unwrap_or(0))
}

/// The fingerprint of the URL rule the stored keys were computed with (`None` before any),
/// read under the `url_rule` row's lock: API nodes that start at once with a new rule
/// recompute one after the other, and the later one finds the rule recorded. (A row lock,
/// not the write lock: the recomputation then writes reviews, which writes holding the
/// write lock must not.)
pub async fn url_rule(tx: &mut Tx, at: OffsetDateTime) -> Result<Option<String>> {
    tx.execute(stmt!(sql::URL_RULE_ROW, at)).await?;
    tx.execute(stmt!(sql::LOCK_URL_RULE)).await?;
    let recorded = tx.scalar::<String>(stmt!(sql::URL_RULE)).await?;
    Ok(recorded.filter(|f| !f.is_empty()))
}

/// Records the URL rule the stored keys now follow.
pub async fn set_url_rule(tx: &mut Tx, fingerprint: &str, at: OffsetDateTime) -> Result<()> {
    tx.execute(stmt!(sql::SET_URL_RULE, fingerprint, at))
        .await
        .map(drop)
}

impl FromRow for StoredUrl {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(StoredUrl {
            key: c.get()?,
            source_id: c.get()?,
            url: c.get()?,
            alias: c.get()?,
            created_at: c.get()?,
        })
    }
}

/// Every row of `source_urls`, oldest first.
pub async fn all_urls(tx: &mut Tx) -> Result<Vec<StoredUrl>> {
    tx.fetch_all(stmt!(sql::ALL_URLS)).await
}

/// Forgets the URL stored under `key`.
pub async fn delete_url(tx: &mut Tx, key: &str) -> Result<()> {
    tx.execute(stmt!(sql::DELETE_URL, key)).await.map(drop)
}

/// A review's published URL and its stored key.
#[derive(Debug, Clone)]
pub struct PublishedUrl {
    pub id: ReviewId,
    pub url: String,
    pub key: Option<String>,
}

impl FromRow for PublishedUrl {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(PublishedUrl {
            id: c.get()?,
            url: c.get()?,
            key: c.get()?,
        })
    }
}

/// Every review with a published URL.
pub async fn published_urls(tx: &mut Tx) -> Result<Vec<PublishedUrl>> {
    tx.fetch_all(stmt!(sql::PUBLISHED_URLS)).await
}

/// Sets a review's published URL key (the URL itself stays).
pub async fn set_published_url_key(tx: &mut Tx, id: ReviewId, key: &str) -> Result<()> {
    tx.execute(stmt!(sql::SET_PUBLISHED_URL_KEY, id, key))
        .await
        .map(drop)
}

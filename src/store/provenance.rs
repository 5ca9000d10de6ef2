//! Sources, versions, passages, claims and evidence.

use time::OffsetDateTime;
use uuid::Uuid;

use super::exec::{Cols, FromRow, Json, Tx, stmt};
use super::{Result, StoreError};
use crate::domain::ids::{ClaimId, EvidenceId, PassageId, SourceId};
use crate::domain::{
    Claim, ClaimItem, ClaimantKind, Evidence, NewSource, NewVersion, Passage, ReviewSummary,
    Source, SourceRef, SourcedPassage, Stance, Version, VersionText, Withdrawal,
};

/// A claim with its current review: the published one, else the newest not ended.
macro_rules! claim_item_select {
    () => {
        "SELECT c.id, c.text, c.claimant, c.created_at, c.claimant_kind, r.id, r.state, r.rating, g.label, g.value \
         FROM claims c LEFT JOIN reviews r ON r.id = c.review_id \
         LEFT JOIN ratings g ON g.scale_id = r.scale_id AND g.key = r.rating"
    };
}
/// The claim list's filters, after a `WHERE …`: appearing in or cited from a source (`$3`),
/// with a published verdict or not (`$4`: 1 or 0), current review in one of some states
/// (`$5`, as `domain::review::states_param` writes them), needing
/// attention (`$6`).
macro_rules! claim_filters {
    () => {
        " AND ($3 IS NULL OR c.id IN (SELECT a.claim_id FROM claim_appearances a JOIN passages p ON p.id = a.passage_id WHERE p.source_id = $3 \
              UNION SELECT e.claim_id FROM evidence e JOIN passages p2 ON p2.id = e.passage_id WHERE p2.source_id = $3)) \
         AND ($4 IS NULL OR $4 = CASE WHEN EXISTS (SELECT 1 FROM reviews r4 WHERE r4.claim_id = c.id AND r4.state = 'published') THEN 1 ELSE 0 END) \
         AND ($5 IS NULL OR $5 LIKE '%,' || r.state || ',%') \
         AND ($6 IS NULL OR c.id IN ( \
              SELECT ca.claim_id FROM placements pl JOIN claim_appearances ca ON ca.passage_id = pl.passage_id \
              WHERE pl.latest AND pl.state <> 'placed' AND pl.reviewed_at IS NULL \
              UNION SELECT e3.claim_id FROM placements pl3 JOIN evidence e3 ON e3.passage_id = pl3.passage_id \
              WHERE pl3.latest AND pl3.state <> 'placed' AND pl3.reviewed_at IS NULL))"
    };
}
pub(super) use {claim_filters, claim_item_select};

mod sql {
    macro_rules! source_select {
        () => {
            "SELECT s.id, s.title, s.url, s.publisher, s.authors, s.published_at, s.kind, s.created_at, \
             v.number, v.sha256, v.length, v.captured_at FROM sources s \
             JOIN source_versions v ON v.source_id = s.id AND v.number = s.latest_version"
        };
    }
    macro_rules! passage_columns {
        () => {
            "p.id, p.source_id, p.version, p.start_cp, p.end_cp, p.exact, p.prefix, p.suffix, \
             p.start_utf16, p.end_utf16, p.created_at, p.pasted"
        };
    }

    /// Evidence rows joined to their passages and sources ([`super::EvidenceWithPassage`]).
    macro_rules! evidence_select {
        () => {
            concat!(
                "SELECT e.id, e.stance, e.note, e.created_at, e.withdrawn_at, e.withdrawn_by, \
                 e.withdrawn_note, ",
                passage_columns!(),
                ", s.title, s.url, s.publisher FROM evidence e JOIN passages p ON p.id = e.passage_id \
                 JOIN sources s ON s.id = p.source_id"
            )
        };
    }

    pub const INSERT_SOURCE: &str = "INSERT INTO sources (id, title, url, publisher, authors, published_at, import_key, latest_version, created_at, kind, title_derived) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10)";
    /// A new title is a stated one: `title_derived` stays only while the title does.
    pub const UPDATE_SOURCE: &str = "UPDATE sources SET title = $2, url = $3, publisher = $4, authors = $5, \
         published_at = $6, kind = $7, title_derived = (title_derived AND title = $2) WHERE id = $1";
    /// Which of these sources' titles an import made up.
    pub const TITLE_DERIVED: &str = "SELECT title_derived FROM sources WHERE id = $1";
    /// Other sources with a version of this text.
    pub const SAME_TEXT: &str = "SELECT source_id, number FROM source_versions WHERE sha256 = $1 AND source_id <> $2 \
         ORDER BY source_id, number LIMIT 5";
    pub const INSERT_VERSION: &str = "INSERT INTO source_versions (source_id, number, sha256, length, text, captured_at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub const VERSION_WITH_HASH: &str = "SELECT number, sha256, length, captured_at FROM source_versions \
         WHERE source_id = $1 AND sha256 = $2 ORDER BY number LIMIT 1";
    /// Taking the next number with an UPDATE locks the source row on PostgreSQL, so
    /// concurrent captures get consecutive numbers instead of colliding.
    pub const NEXT_VERSION: &str = "UPDATE sources SET latest_version = latest_version + 1 WHERE id = $1 RETURNING latest_version";
    pub const SOURCE_TITLE: &str = "SELECT title FROM sources WHERE id = $1";
    pub const SOURCE_BY_ID: &str = concat!(source_select!(), " WHERE s.id = $1");
    /// By a URL in lookup form (the source's own or an alias; `url` itself is in stored form,
    /// which a key equals when nothing was folded) or by where an import found it.
    pub const FIND_SOURCE: &str = "SELECT id FROM sources WHERE ($1 IS NOT NULL AND url = $1) \
         OR ($2 IS NOT NULL AND import_key = $2) \
         OR id IN (SELECT source_id FROM source_urls WHERE url_key = $1) ORDER BY id LIMIT 1";
    /// `s.id > $2` with the nil UUID for the first page: a plain range that seeks to the
    /// cursor (`$2 IS NULL OR …` makes SQLite scan from the start).
    pub const LIST_SOURCES: &str = concat!(
        source_select!(),
        " WHERE ($1 IS NULL OR s.url = $1) AND s.id > $2 ORDER BY s.id LIMIT $3"
    );
    /// The same, only sources of publisher `$4` (exact; seeks the `sources_publisher` index).
    pub const LIST_SOURCES_OF_PUBLISHER: &str = concat!(
        source_select!(),
        " WHERE s.publisher = $4 AND ($1 IS NULL OR s.url = $1) AND s.id > $2 \
         ORDER BY s.id LIMIT $3"
    );
    /// Newest first: `s.id < $2`.
    pub const LIST_SOURCES_DESC: &str = concat!(
        source_select!(),
        " WHERE ($1 IS NULL OR s.url = $1) AND s.id < $2 ORDER BY s.id DESC LIMIT $3"
    );
    pub const LIST_SOURCES_OF_PUBLISHER_DESC: &str = concat!(
        source_select!(),
        " WHERE s.publisher = $4 AND ($1 IS NULL OR s.url = $1) AND s.id < $2 \
         ORDER BY s.id DESC LIMIT $3"
    );
    pub const VERSIONS: &str = "SELECT number, sha256, length, captured_at FROM source_versions WHERE source_id = $1 ORDER BY number";
    pub const VERSION_TEXT: &str = "SELECT source_id, number, sha256, length, captured_at, text FROM source_versions \
         WHERE source_id = $1 AND number = $2";
    pub const INSERT_PASSAGE: &str = "INSERT INTO passages (id, source_id, version, start_cp, end_cp, exact, prefix, suffix, \
         start_utf16, end_utf16, created_at, pasted) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (source_id, version, start_cp, end_cp) DO NOTHING";
    pub const PASSAGE_AT: &str = concat!(
        "SELECT ",
        passage_columns!(),
        " FROM passages p WHERE p.source_id = $1 AND p.version = $2 AND p.start_cp = $3 AND p.end_cp = $4"
    );
    pub const PASSAGE_BY_ID: &str = concat!(
        "SELECT ",
        passage_columns!(),
        " FROM passages p WHERE p.id = $1"
    );
    pub const SOURCED_PASSAGE: &str = concat!(
        "SELECT ",
        passage_columns!(),
        ", s.title, s.url, s.publisher FROM passages p JOIN sources s ON s.id = p.source_id WHERE p.id = $1"
    );
    pub const PASSAGE_EXISTS: &str = "SELECT id FROM passages WHERE id = $1";
    pub const INSERT_CLAIM: &str = "INSERT INTO claims (id, text, claimant, created_at, claimant_kind) VALUES ($1, $2, $3, $4, $5)";
    pub const INSERT_APPEARANCE: &str =
        "INSERT INTO claim_appearances (claim_id, passage_id, position) VALUES ($1, $2, $3)";
    pub const CLAIM_BY_ID: &str =
        "SELECT id, text, claimant, created_at, claimant_kind FROM claims WHERE id = $1";
    pub const SOURCE_PASSAGES: &str = concat!(
        "SELECT ",
        passage_columns!(),
        " FROM passages p WHERE p.source_id = $1 AND p.id > $2 ORDER BY p.id LIMIT $3"
    );
    pub const SOURCE_PASSAGES_DESC: &str = concat!(
        "SELECT ",
        passage_columns!(),
        " FROM passages p WHERE p.source_id = $1 AND p.id < $2 ORDER BY p.id DESC LIMIT $3"
    );
    pub const LIST_CLAIMS: &str = concat!(
        claim_item_select!(),
        " WHERE c.id > $1 ORDER BY c.id LIMIT $2"
    );
    /// With filters: appearing in or cited from a source (`$3`), with a published verdict or
    /// not (`$4`: 1 or 0), current review in a state (`$5`), needing attention (`$6`).
    pub const LIST_CLAIMS_FILTERED: &str = concat!(
        claim_item_select!(),
        " WHERE c.id > $1",
        claim_filters!(),
        " ORDER BY c.id LIMIT $2"
    );
    /// Newest first: `c.id < $1`.
    pub const LIST_CLAIMS_DESC: &str = concat!(
        claim_item_select!(),
        " WHERE c.id < $1 ORDER BY c.id DESC LIMIT $2"
    );
    pub const LIST_CLAIMS_FILTERED_DESC: &str = concat!(
        claim_item_select!(),
        " WHERE c.id < $1",
        claim_filters!(),
        " ORDER BY c.id DESC LIMIT $2"
    );
    pub const INSERT_EVIDENCE: &str = "INSERT INTO evidence (id, claim_id, passage_id, stance, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub const EVIDENCE_FOR: &str =
        "SELECT id FROM evidence WHERE claim_id = $1 AND passage_id = $2";
    /// The claim (a row even without evidence) and its evidence ids.
    pub const CLAIM_EVIDENCE_IDS: &str = "SELECT c.id, e.id FROM claims c LEFT JOIN evidence e ON e.claim_id = c.id \
         WHERE c.id = $1 ORDER BY e.id";
    /// A claim's appearances with their passages and sources, in order; the index
    /// `claim_appearances_order` gives the order without a sort (issue 17).
    pub const CLAIM_APPEARANCES: &str = concat!(
        "SELECT ",
        passage_columns!(),
        ", s.title, s.url, s.publisher FROM claim_appearances a JOIN passages p ON p.id = a.passage_id \
         JOIN sources s ON s.id = p.source_id WHERE a.claim_id = $1 ORDER BY a.position"
    );
    /// A claim's evidence with its passages and sources, in id order (`evidence_claim`).
    pub const CLAIM_EVIDENCE: &str =
        concat!(evidence_select!(), " WHERE e.claim_id = $1 ORDER BY e.id");
    pub const EVIDENCE_BY_ID: &str =
        concat!(evidence_select!(), " WHERE e.id = $1 AND e.claim_id = $2");
    /// Evidence that new reviews may rest on: not withdrawn.
    pub const CLAIM_EVIDENCE_IDS_LIVE: &str = "SELECT c.id, e.id FROM claims c LEFT JOIN evidence e ON e.claim_id = c.id \
         AND e.withdrawn_at IS NULL WHERE c.id = $1 ORDER BY e.id";
    pub const WITHDRAW_EVIDENCE: &str = "UPDATE evidence SET withdrawn_at = $3, withdrawn_by = $4, withdrawn_note = $5 \
         WHERE id = $1 AND claim_id = $2 AND withdrawn_at IS NULL";
    pub const UPDATE_CLAIM: &str =
        "UPDATE claims SET text = $2, claimant = $3, claimant_kind = $4 WHERE id = $1";
    pub const APPEARANCE_POSITION: &str = "SELECT CAST(position AS BIGINT) FROM claim_appearances WHERE claim_id = $1 AND passage_id = $2";
    pub const NEXT_APPEARANCE: &str = "SELECT CAST(COALESCE(MAX(position) + 1, 0) AS BIGINT) FROM claim_appearances WHERE claim_id = $1";
}

#[cfg(test)]
mod list_plans;

#[cfg(test)]
mod view_plans {
    use crate::store::sqlite_plan;

    /// A claim view reads its appearances and evidence in order from the indexes, without a
    /// sort or a temporary table per read (issue 17).
    #[test]
    fn a_claims_passages_come_in_order_without_a_sort() {
        let appearances = sqlite_plan(super::sql::CLAIM_APPEARANCES);
        assert!(
            appearances.contains("claim_appearances_order (claim_id=?)"),
            "{appearances}"
        );
        let evidence = sqlite_plan(super::sql::CLAIM_EVIDENCE);
        assert!(
            evidence.contains("evidence_claim (claim_id=?)"),
            "{evidence}"
        );
        for plan in [appearances, evidence] {
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
}

impl FromRow for Version {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(Version {
            number: c.get()?,
            sha256: c.get()?,
            length: c.get()?,
            captured_at: c.get()?,
        })
    }
}

impl FromRow for Source {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(Source {
            id: c.get()?,
            title: c.get()?,
            url: c.get()?,
            publisher: c.get()?,
            authors: c.get::<Json<Vec<String>>>()?.0,
            published_at: c.get()?,
            kind: c.get()?,
            created_at: c.get()?,
            version: Version::from_row(c)?,
            warnings: None,
        })
    }
}

impl FromRow for VersionText {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(VersionText {
            source_id: c.get()?,
            version: Version::from_row(c)?,
            text: c.get()?,
        })
    }
}

impl FromRow for Passage {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(Passage {
            id: c.get()?,
            source_id: c.get()?,
            version: c.get()?,
            start: c.get()?,
            end: c.get()?,
            exact: c.get()?,
            prefix: c.get()?,
            suffix: c.get()?,
            start_utf16: c.get()?,
            end_utf16: c.get()?,
            created_at: c.get()?,
            pasted: c.get()?,
        })
    }
}

impl FromRow for SourcedPassage {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let passage = Passage::from_row(c)?;
        let source = SourceRef {
            id: passage.source_id,
            title: c.get()?,
            url: c.get()?,
            publisher: c.get()?,
        };
        Ok(SourcedPassage { passage, source })
    }
}

impl FromRow for Claim {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let (id, text, claimant, created_at) = (c.get()?, c.get()?, c.get()?, c.get()?);
        let kind: String = c.get()?;
        Ok(Claim {
            id,
            text,
            claimant,
            claimant_kind: ClaimantKind::parse(&kind)
                .ok_or_else(|| StoreError::other(format!("unknown claimant kind {kind:?}")))?,
            created_at,
        })
    }
}

/// An evidence row, before its passage is joined in.
struct EvidenceRow {
    id: EvidenceId,
    stance: Stance,
    note: Option<String>,
    created_at: OffsetDateTime,
    withdrawn: Option<Withdrawal>,
}

impl FromRow for EvidenceRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let id = c.get()?;
        let stance: String = c.get()?;
        Ok(EvidenceRow {
            id,
            stance: Stance::parse(&stance)
                .ok_or_else(|| StoreError::other(format!("unknown stance {stance:?}")))?,
            note: c.get()?,
            created_at: c.get()?,
            withdrawn: {
                let at: Option<OffsetDateTime> = c.get()?;
                let by: Option<String> = c.get()?;
                let note: Option<String> = c.get()?;
                at.map(|at| Withdrawal {
                    at,
                    by: by.unwrap_or_default(),
                    note: note.unwrap_or_default(),
                })
            },
        })
    }
}

/// An evidence row with its passage and source ([`sql::evidence_select`]).
struct EvidenceWithPassage(EvidenceRow, SourcedPassage);

impl FromRow for EvidenceWithPassage {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(EvidenceWithPassage(
            EvidenceRow::from_row(c)?,
            SourcedPassage::from_row(c)?,
        ))
    }
}

impl EvidenceRow {
    fn with(self, claim_id: ClaimId, p: SourcedPassage) -> Evidence {
        Evidence {
            id: self.id,
            claim_id,
            stance: self.stance,
            note: self.note,
            created_at: self.created_at,
            passage: p.passage,
            source: p.source,
            withdrawn: self.withdrawn,
            warnings: None,
        }
    }
}

/// Writes a source's metadata (its text changes only by a new version); a new title is
/// indexed for search with the latest version's words.
pub async fn update_source(tx: &mut Tx, before: &Source, s: &Source) -> Result<()> {
    tx.execute(stmt!(
        sql::UPDATE_SOURCE,
        s.id,
        &s.title,
        s.url.as_deref(),
        s.publisher.as_deref(),
        Json(&s.authors),
        s.published_at.as_deref(),
        s.kind.as_deref()
    ))
    .await?;
    if s.title != before.title {
        let number = s.version.number;
        let text = get_version(tx, s.id, number)
            .await?
            .ok_or_else(|| StoreError::other("a source's latest version is missing"))?
            .text;
        let words = crate::domain::search::index_text(&text);
        super::search::index_source(tx, s.id, number, &s.title, &words).await?;
    }
    Ok(())
}

/// Versions of other sources with the text whose SHA-256 is `sha256` (at most five).
pub async fn same_text(
    tx: &mut Tx,
    sha256: &str,
    except: SourceId,
) -> Result<Vec<(SourceId, i64)>> {
    tx.fetch_all(stmt!(sql::SAME_TEXT, sha256, except)).await
}

/// Writes a source and its version 1.
pub async fn insert_source(
    tx: &mut Tx,
    id: SourceId,
    new: &NewSource,
    version: &NewVersion,
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_SOURCE,
        id,
        new.title.as_str(),
        new.url.as_ref().map(|u| u.as_str()),
        new.publisher.as_ref().map(|p| p.as_str()),
        Json(&new.authors),
        new.published_at.as_ref().map(|p| p.as_str()),
        new.import_key.as_deref(),
        at,
        new.kind.as_ref().map(|k| k.as_str()),
        new.title_derived
    ))
    .await?;
    if let Some(url) = &new.url {
        let key = new.url_key.as_deref().unwrap_or(url.as_str());
        super::cms::insert_url(tx, key, id, url.as_str(), false, at).await?;
    }
    insert_version(tx, id, 1, version, at).await?;
    super::search::index_source(tx, id, 1, new.title.as_str(), &version.index_text).await
}

async fn insert_version(
    tx: &mut Tx,
    source_id: SourceId,
    number: i64,
    version: &NewVersion,
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_VERSION,
        source_id,
        number,
        &version.sha256,
        version.length,
        version.text.as_str(),
        at
    ))
    .await?;
    super::statistics::store(tx, source_id, number, at, &version.mentions).await
}

/// The source's earliest version with this text's hash, if any.
pub async fn version_with_hash(
    tx: &mut Tx,
    source_id: SourceId,
    sha256: &str,
) -> Result<Option<Version>> {
    tx.fetch_optional(stmt!(sql::VERSION_WITH_HASH, source_id, sha256))
        .await
}

/// Stores the next version of a source; `None` when the source does not exist.
pub async fn append_version(
    tx: &mut Tx,
    source_id: SourceId,
    version: &NewVersion,
    at: OffsetDateTime,
) -> Result<Option<Version>> {
    let Some(number) = tx
        .scalar::<i64>(stmt!(sql::NEXT_VERSION, source_id))
        .await?
    else {
        return Ok(None);
    };
    insert_version(tx, source_id, number, version, at).await?;
    // The latest version is what search finds.
    let title = tx
        .scalar::<String>(stmt!(sql::SOURCE_TITLE, source_id))
        .await?
        .unwrap_or_default();
    super::search::index_source(tx, source_id, number, &title, &version.index_text).await?;
    Ok(Some(Version {
        number,
        sha256: version.sha256.clone(),
        length: version.length,
        captured_at: at,
    }))
}

/// Whether an import made the source's title up (it has no stated title).
pub async fn title_derived(tx: &mut Tx, id: SourceId) -> Result<bool> {
    Ok(tx
        .scalar::<bool>(stmt!(sql::TITLE_DERIVED, id))
        .await?
        .unwrap_or(false))
}

pub async fn get_source(tx: &mut Tx, id: SourceId) -> Result<Option<Source>> {
    tx.fetch_optional(stmt!(sql::SOURCE_BY_ID, id)).await
}

/// The source stored under this URL or import key.
pub async fn find_source_id(
    tx: &mut Tx,
    url: Option<&str>,
    import_key: Option<&str>,
) -> Result<Option<SourceId>> {
    tx.scalar(stmt!(sql::FIND_SOURCE, url, import_key)).await
}

/// Sources in id order after `after`, optionally only the one with `url` or those of
/// `publisher`.
pub async fn list_sources(
    tx: &mut Tx,
    url: Option<&str>,
    publisher: Option<&str>,
    after: Option<Uuid>,
    limit: u32,
    order: crate::domain::Order,
) -> Result<Vec<Source>> {
    let after = after.unwrap_or(order.start());
    if let Some(publisher) = publisher {
        let sql = if order.is_desc() {
            sql::LIST_SOURCES_OF_PUBLISHER_DESC
        } else {
            sql::LIST_SOURCES_OF_PUBLISHER
        };
        return tx
            .fetch_all(stmt!(sql, url, after, i64::from(limit), publisher))
            .await;
    }
    let sql = if order.is_desc() {
        sql::LIST_SOURCES_DESC
    } else {
        sql::LIST_SOURCES
    };
    tx.fetch_all(stmt!(sql, url, after, i64::from(limit))).await
}

pub async fn list_versions(tx: &mut Tx, source_id: SourceId) -> Result<Vec<Version>> {
    tx.fetch_all(stmt!(sql::VERSIONS, source_id)).await
}

pub async fn get_version(
    tx: &mut Tx,
    source_id: SourceId,
    number: i64,
) -> Result<Option<VersionText>> {
    tx.fetch_optional(stmt!(sql::VERSION_TEXT, source_id, number))
        .await
}

/// Stores a passage unless the same span is stored; the stored one, and whether it is new.
pub async fn insert_passage(tx: &mut Tx, p: &Passage) -> Result<(Passage, bool)> {
    let inserted = tx
        .execute(stmt!(
            sql::INSERT_PASSAGE,
            p.id,
            p.source_id,
            p.version,
            p.start,
            p.end,
            &p.exact,
            &p.prefix,
            &p.suffix,
            p.start_utf16,
            p.end_utf16,
            p.created_at,
            p.pasted.as_deref()
        ))
        .await?;
    if inserted == 1 {
        return Ok((p.clone(), true));
    }
    let stored = tx
        .fetch_optional(stmt!(
            sql::PASSAGE_AT,
            p.source_id,
            p.version,
            p.start,
            p.end
        ))
        .await?
        .ok_or_else(|| StoreError::other("a passage vanished after it was written"))?;
    Ok((stored, false))
}

/// A passage with its source, in short.
pub async fn sourced_passage(tx: &mut Tx, id: PassageId) -> Result<Option<SourcedPassage>> {
    tx.fetch_optional(stmt!(sql::SOURCED_PASSAGE, id)).await
}

pub async fn get_passage(tx: &mut Tx, id: PassageId) -> Result<Option<Passage>> {
    tx.fetch_optional(stmt!(sql::PASSAGE_BY_ID, id)).await
}

/// Which of `ids` name no stored passage.
pub async fn missing_passages(tx: &mut Tx, ids: &[PassageId]) -> Result<Vec<PassageId>> {
    let mut missing = Vec::new();
    for &id in ids {
        if tx
            .scalar::<PassageId>(stmt!(sql::PASSAGE_EXISTS, id))
            .await?
            .is_none()
        {
            missing.push(id);
        }
    }
    Ok(missing)
}

/// Writes a claim with the passages it appeared in (which must exist).
pub async fn insert_claim(tx: &mut Tx, claim: &Claim, appearances: &[PassageId]) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_CLAIM,
        claim.id,
        &claim.text,
        claim.claimant.as_deref(),
        claim.created_at,
        claim.claimant_kind.as_str()
    ))
    .await?;
    super::search::index_claim(tx, claim.id, &claim.text).await?;
    for (position, passage) in appearances.iter().enumerate() {
        tx.execute(stmt!(
            sql::INSERT_APPEARANCE,
            claim.id,
            *passage,
            position as i64
        ))
        .await?;
    }
    Ok(())
}

pub async fn get_claim(tx: &mut Tx, id: ClaimId) -> Result<Option<Claim>> {
    tx.fetch_optional(stmt!(sql::CLAIM_BY_ID, id)).await
}

/// Writes a claim's text and claimant, and indexes the text for search again.
pub async fn update_claim(tx: &mut Tx, claim: &Claim) -> Result<()> {
    tx.execute(stmt!(
        sql::UPDATE_CLAIM,
        claim.id,
        &claim.text,
        claim.claimant.as_deref(),
        claim.claimant_kind.as_str()
    ))
    .await?;
    super::search::index_claim(tx, claim.id, &claim.text).await
}

/// Adds an appearance after the claim's others; `false` when the passage is one already.
/// Whether the passage is one of the claim's appearances.
pub async fn is_appearance(tx: &mut Tx, claim_id: ClaimId, passage_id: PassageId) -> Result<bool> {
    let at: Option<i64> = tx
        .scalar(stmt!(sql::APPEARANCE_POSITION, claim_id, passage_id))
        .await?;
    Ok(at.is_some())
}

pub async fn add_appearance(tx: &mut Tx, claim_id: ClaimId, passage_id: PassageId) -> Result<bool> {
    let at: Option<i64> = tx
        .scalar(stmt!(sql::APPEARANCE_POSITION, claim_id, passage_id))
        .await?;
    if at.is_some() {
        return Ok(false);
    }
    let position: i64 = tx
        .scalar(stmt!(sql::NEXT_APPEARANCE, claim_id))
        .await?
        .unwrap_or(0);
    tx.execute(stmt!(
        sql::INSERT_APPEARANCE,
        claim_id,
        passage_id,
        position
    ))
    .await?;
    Ok(true)
}

/// Withdraws evidence; `false` when it was withdrawn already (or is not the claim's).
pub async fn withdraw_evidence(
    tx: &mut Tx,
    claim_id: ClaimId,
    id: EvidenceId,
    at: OffsetDateTime,
    by: &str,
    note: &str,
) -> Result<bool> {
    Ok(tx
        .execute(stmt!(sql::WITHDRAW_EVIDENCE, id, claim_id, at, by, note))
        .await?
        == 1)
}

/// Filters of the claim list.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    /// Changed or lost in a new version of a source, not confirmed since.
    pub attention: bool,
    pub source_id: Option<SourceId>,
    pub has_verdict: Option<bool>,
    /// The current review in any of these states (none: no filter).
    pub states: Vec<crate::domain::review::State>,
}

impl ClaimFilter {
    pub(crate) fn is_empty(&self) -> bool {
        !self.attention
            && self.source_id.is_none()
            && self.has_verdict.is_none()
            && self.states.is_empty()
    }
}

impl FromRow for ClaimItem {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let claim = Claim::from_row(c)?;
        let id: Option<crate::domain::ids::ReviewId> = c.get()?;
        let state: Option<String> = c.get()?;
        let key: Option<String> = c.get()?;
        let label: Option<String> = c.get()?;
        let value: Option<f64> = c.get()?;
        let review = match (id, state, key, label) {
            (Some(id), Some(state), Some(key), Some(label)) => Some(ReviewSummary {
                id,
                state: crate::domain::review::State::parse(&state)
                    .ok_or_else(|| StoreError::other(format!("unknown review state {state:?}")))?,
                rating: crate::domain::review::Rating { key, label, value },
            }),
            _ => None,
        };
        Ok(ClaimItem {
            claim,
            review,
            matched: None,
        })
    }
}

/// Claims in id order after `after`, each with its current review.
pub async fn list_claims(
    tx: &mut Tx,
    filter: &ClaimFilter,
    after: Option<Uuid>,
    limit: u32,
    order: crate::domain::Order,
) -> Result<Vec<ClaimItem>> {
    let after = after.unwrap_or(order.start());
    let (plain, filtered) = if order.is_desc() {
        (sql::LIST_CLAIMS_DESC, sql::LIST_CLAIMS_FILTERED_DESC)
    } else {
        (sql::LIST_CLAIMS, sql::LIST_CLAIMS_FILTERED)
    };
    if filter.is_empty() {
        return tx.fetch_all(stmt!(plain, after, i64::from(limit))).await;
    }
    tx.fetch_all(stmt!(
        filtered,
        after,
        i64::from(limit),
        filter.source_id,
        filter.has_verdict.map(i64::from),
        crate::domain::review::states_param(&filter.states),
        filter.attention.then_some(1i64)
    ))
    .await
}

/// Adds evidence to a claim; [`super::Constraint::EvidencePassage`] when the passage is
/// evidence for the claim already.
pub async fn insert_evidence(
    tx: &mut Tx,
    id: EvidenceId,
    claim_id: ClaimId,
    passage_id: PassageId,
    stance: Stance,
    note: Option<&str>,
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_EVIDENCE,
        id,
        claim_id,
        passage_id,
        stance.as_str(),
        note,
        at
    ))
    .await
    .map(drop)
}

pub async fn evidence_id_for(
    tx: &mut Tx,
    claim_id: ClaimId,
    passage_id: PassageId,
) -> Result<Option<EvidenceId>> {
    tx.scalar(stmt!(sql::EVIDENCE_FOR, claim_id, passage_id))
        .await
}

/// One piece of evidence with its passage and source.
pub async fn get_evidence(
    tx: &mut Tx,
    claim_id: ClaimId,
    id: EvidenceId,
) -> Result<Option<Evidence>> {
    let row: Option<EvidenceWithPassage> = tx
        .fetch_optional(stmt!(sql::EVIDENCE_BY_ID, id, claim_id))
        .await?;
    Ok(row.map(|EvidenceWithPassage(e, p)| e.with(claim_id, p)))
}

/// Ids of a claim's evidence (withdrawn evidence too, unless `live_only`); `None` when the
/// claim does not exist.
pub async fn claim_evidence_ids(
    tx: &mut Tx,
    claim_id: ClaimId,
    live_only: bool,
) -> Result<Option<Vec<EvidenceId>>> {
    let sql = if live_only {
        sql::CLAIM_EVIDENCE_IDS_LIVE
    } else {
        sql::CLAIM_EVIDENCE_IDS
    };
    let rows: Vec<(ClaimId, Option<EvidenceId>)> = tx.fetch_all(stmt!(sql, claim_id)).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(rows.into_iter().filter_map(|(_, e)| e).collect()))
}

/// A claim's appearances (in order) and evidence (in id order), each joined to its passage
/// and source. Run it within one snapshot ([`super::Store::read`]) so that both reads see the
/// same claim.
pub async fn claim_passages(
    tx: &mut Tx,
    claim_id: ClaimId,
) -> Result<(Vec<SourcedPassage>, Vec<Evidence>)> {
    let appearances: Vec<SourcedPassage> = tx
        .fetch_all(stmt!(sql::CLAIM_APPEARANCES, claim_id))
        .await?;
    let evidence: Vec<EvidenceWithPassage> =
        tx.fetch_all(stmt!(sql::CLAIM_EVIDENCE, claim_id)).await?;
    let evidence = evidence
        .into_iter()
        .map(|EvidenceWithPassage(e, p)| e.with(claim_id, p))
        .collect();
    Ok((appearances, evidence))
}

/// A source's passages (on any version) in id order after `after`.
pub async fn source_passages(
    tx: &mut Tx,
    source_id: SourceId,
    after: Option<Uuid>,
    limit: u32,
    order: crate::domain::Order,
) -> Result<Vec<Passage>> {
    let sql = if order.is_desc() {
        sql::SOURCE_PASSAGES_DESC
    } else {
        sql::SOURCE_PASSAGES
    };
    tx.fetch_all(stmt!(
        sql,
        source_id,
        after.unwrap_or(order.start()),
        i64::from(limit)
    ))
    .await
}

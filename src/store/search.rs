//! The full-text index: sources (title and latest version) and claims.
//!
//! The one topic written twice: SQLite searches with FTS5 (`MATCH`, `bm25`), PostgreSQL with a
//! `tsvector` and a GIN index (`@@`, `ts_rank`). Both index the words
//! `domain::search` finds and take queries it rendered, so they find the same rows; only
//! their ranking formulas differ. Each statement is a pair, picked by [`Tx::is_postgres`].
//! PostgreSQL plans the searches for their arguments every time (`exec::CUSTOM_PLAN`): the
//! best plan for a rare word (the GIN index) is the worst for a common one (the newest rows).

use time::OffsetDateTime;

use super::Result;
use super::exec::{Cols, FromRow, Tx, stmt};
use crate::domain::filters::ClaimFilter;
use crate::domain::ids::{ClaimId, SourceId};
use crate::domain::search::{self, SearchQuery};
use crate::domain::{ClaimItem, Source, Version};

/// A statement per backend.
struct Pair {
    sqlite: &'static str,
    postgres: &'static str,
}

fn pick(tx: &Tx, pair: &Pair) -> &'static str {
    if tx.is_postgres() {
        pair.postgres
    } else {
        pair.sqlite
    }
}

mod sql {
    use super::Pair;
    use crate::store::claim_list::{claim_filters, claim_item_select};

    macro_rules! source_columns {
        () => {
            "s.id, s.title, s.url, s.publisher, s.authors, s.published_at, s.kind, s.created_at, \
             v.number, v.sha256, v.length, v.captured_at, v.text"
        };
    }

    /// SQLite: the FTS row of a source, kept under a stable number (`doc`).
    pub const SOURCE_DOC: &str = "INSERT INTO source_search (source_id, version) VALUES ($1, $2) \
         ON CONFLICT (source_id) DO UPDATE SET version = excluded.version RETURNING doc";
    pub const DELETE_SOURCE_FTS: &str = "DELETE FROM source_search_fts WHERE rowid = $1";
    pub const INSERT_SOURCE_FTS: &str =
        "INSERT INTO source_search_fts (rowid, title, body) VALUES ($1, $2, $3)";
    pub const UPSERT_SOURCE_PG: &str = "INSERT INTO source_search (source_id, version, document) \
         VALUES ($1, $2, CAST($3 AS tsvector)) ON CONFLICT (source_id) DO UPDATE \
         SET version = excluded.version, document = excluded.document";

    pub const CLAIM_DOC: &str = "INSERT INTO claim_search (claim_id, text_key) VALUES ($1, $2) \
         ON CONFLICT (claim_id) DO UPDATE SET text_key = excluded.text_key RETURNING doc";
    pub const DELETE_CLAIM_FTS: &str = "DELETE FROM claim_search_fts WHERE rowid = $1";
    pub const INSERT_CLAIM_FTS: &str = "INSERT INTO claim_search_fts (rowid, text) VALUES ($1, $2)";
    pub const UPSERT_CLAIM_PG: &str = "INSERT INTO claim_search (claim_id, document, text_key) \
         VALUES ($1, CAST($2 AS tsvector), $3) ON CONFLICT (claim_id) \
         DO UPDATE SET document = excluded.document, text_key = excluded.text_key";
    /// The oldest claim with the same text key (`claim_search_text_key`).
    pub const SAME_TEXT: &str = "SELECT c.id, c.text, c.claimant, c.created_at, c.claimant_kind \
         FROM claim_search m JOIN claims c ON c.id = m.claim_id WHERE m.text_key = $1 \
         ORDER BY c.id LIMIT 1";

    /// Sources matching `$1`, best first, page `$2` rows after `$3`; each with the text of its
    /// latest version. PostgreSQL's `ts_rank` weighs title words (A) 4 times body words (D),
    /// as SQLite's `bm25(4.0, 1.0)` does, and divides by 1 + the log of the document's length
    /// (normalization 1), as bm25 discounts long texts: on the corpus both put the same
    /// article first (`both_backends_rank_the_corpus_alike`). Only the newest `$4` matches (by when they were first indexed) are
    /// ranked: ranking every match of a word most texts hold costs ~0.5 ms per thousand on
    /// SQLite. Ranked inside the index alone; only the page is joined.
    pub const SEARCH_SOURCES: Pair = Pair {
        sqlite: concat!(
            "SELECT ",
            source_columns!(),
            " FROM (SELECT m.source_id AS sid, h.r AS rank, h.doc AS doc FROM \
               (SELECT doc, r FROM (SELECT rowid AS doc, rank AS r FROM source_search_fts \
                  WHERE source_search_fts MATCH $1 ORDER BY rowid DESC LIMIT $4) \
                ORDER BY r, doc LIMIT $2 OFFSET $3) h \
               JOIN source_search m ON m.doc = h.doc) hit \
             JOIN sources s ON s.id = hit.sid \
             JOIN source_versions v ON v.source_id = s.id AND v.number = s.latest_version \
             ORDER BY hit.rank, hit.doc"
        ),
        postgres: concat!(
            "/*custom-plan*/ ",
            "SELECT ",
            source_columns!(),
            " FROM (SELECT w.source_id AS sid, ts_rank(CAST('{0.25,0.25,0.25,1.0}' AS real[]), w.document, CAST($1 AS tsquery), 1) AS rank \
               FROM (SELECT m.source_id, m.document FROM source_search m \
                 WHERE m.document @@ CAST($1 AS tsquery) ORDER BY m.source_id DESC LIMIT $4) w \
               ORDER BY rank DESC, w.source_id LIMIT $2 OFFSET $3) hit \
             JOIN sources s ON s.id = hit.sid \
             JOIN source_versions v ON v.source_id = s.id AND v.number = s.latest_version \
             ORDER BY hit.rank DESC, s.id"
        ),
    };
    /// The same, only the source with URL `$4` and/or those of publisher `$5`; every match
    /// that passes them is ranked.
    pub const SEARCH_SOURCES_FILTERED: Pair = Pair {
        sqlite: concat!(
            "SELECT ",
            source_columns!(),
            " FROM (SELECT m.source_id AS sid, f.rank AS rank, f.rowid AS doc \
               FROM source_search_fts f JOIN source_search m ON m.doc = f.rowid \
               JOIN sources s2 ON s2.id = m.source_id \
               WHERE source_search_fts MATCH $1 AND ($4 IS NULL OR s2.url = $4) \
               AND ($5 IS NULL OR s2.publisher = $5) \
               ORDER BY f.rank, f.rowid LIMIT $2 OFFSET $3) hit \
             JOIN sources s ON s.id = hit.sid \
             JOIN source_versions v ON v.source_id = s.id AND v.number = s.latest_version \
             ORDER BY hit.rank, hit.doc"
        ),
        postgres: concat!(
            "/*custom-plan*/ ",
            "SELECT ",
            source_columns!(),
            " FROM (SELECT m.source_id AS sid, ts_rank(CAST('{0.25,0.25,0.25,1.0}' AS real[]), m.document, CAST($1 AS tsquery), 1) AS rank \
               FROM source_search m JOIN sources s2 ON s2.id = m.source_id \
               WHERE m.document @@ CAST($1 AS tsquery) \
               AND ($4 IS NULL OR s2.url = $4) AND ($5 IS NULL OR s2.publisher = $5) \
               ORDER BY rank DESC, m.source_id LIMIT $2 OFFSET $3) hit \
             JOIN sources s ON s.id = hit.sid \
             JOIN source_versions v ON v.source_id = s.id AND v.number = s.latest_version \
             ORDER BY hit.rank DESC, s.id"
        ),
    };

    /// Claims matching `$7`, best first, with the list's filters (`$3`…`$6`), page `$2` rows
    /// after `$1`.
    pub const SEARCH_CLAIMS: Pair = Pair {
        sqlite: concat!(
            claim_item_select!(),
            " JOIN (SELECT m.claim_id AS cid, f.rank AS rank FROM claim_search_fts f \
               JOIN claim_search m ON m.doc = f.rowid WHERE claim_search_fts MATCH $7) h \
             ON h.cid = c.id WHERE 1 = 1",
            claim_filters!(),
            " ORDER BY h.rank, c.id LIMIT $2 OFFSET $1"
        ),
        postgres: concat!(
            "/*custom-plan*/ ",
            claim_item_select!(),
            " JOIN (SELECT m.claim_id AS cid, ts_rank(m.document, CAST($7 AS tsquery)) AS rank \
               FROM claim_search m WHERE m.document @@ CAST($7 AS tsquery)) h \
             ON h.cid = c.id WHERE 1 = 1",
            claim_filters!(),
            " ORDER BY h.rank DESC, c.id LIMIT $2 OFFSET $1"
        ),
    };

    /// [`SEARCH_CLAIMS`] without filters: only the newest `$4` matches are ranked (query `$3`).
    pub const SEARCH_CLAIMS_RECENT: Pair = Pair {
        sqlite: concat!(
            claim_item_select!(),
            " JOIN (SELECT m.claim_id AS cid, h.r AS rank, h.doc AS doc FROM \
               (SELECT doc, r FROM (SELECT rowid AS doc, rank AS r FROM claim_search_fts \
                  WHERE claim_search_fts MATCH $3 ORDER BY rowid DESC LIMIT $4) \
                ORDER BY r, doc LIMIT $2 OFFSET $1) h \
               JOIN claim_search m ON m.doc = h.doc) hit ON hit.cid = c.id \
             ORDER BY hit.rank, hit.doc"
        ),
        postgres: concat!(
            "/*custom-plan*/ ",
            claim_item_select!(),
            " JOIN (SELECT w.claim_id AS cid, ts_rank(w.document, CAST($3 AS tsquery)) AS rank \
               FROM (SELECT m.claim_id, m.document FROM claim_search m \
                 WHERE m.document @@ CAST($3 AS tsquery) ORDER BY m.claim_id DESC LIMIT $4) w \
               ORDER BY rank DESC, w.claim_id LIMIT $2 OFFSET $1) hit ON hit.cid = c.id \
             ORDER BY hit.rank DESC, c.id"
        ),
    };
}

/// Indexes a source's title and the words of its latest version (`number`), replacing what
/// was indexed for it before.
pub async fn index_source(
    tx: &mut Tx,
    id: SourceId,
    number: i64,
    title: &str,
    body_index: &str,
) -> Result<()> {
    index_sources(tx, &[(id, number, title, body_index)]).await
}

/// [`index_source`] for many sources, in one go. On SQLite the FTS5 rows come last, all
/// together: FTS5 writes its pending terms out as a new segment at the start of any later
/// statement that may need undoing (a statement savepoint), so index rows interleaved with
/// other rows wrote, and then merged, one segment per source (a fifth of an import's writer).
pub async fn index_sources(tx: &mut Tx, sources: &[(SourceId, i64, &str, &str)]) -> Result<()> {
    let mut rows = Vec::with_capacity(sources.len());
    for &(id, number, title, body_index) in sources {
        let title_index = search::index_text(title);
        if tx.is_postgres() {
            let document = search::tsvector(&title_index, body_index);
            tx.execute(stmt!(sql::UPSERT_SOURCE_PG, id, number, document))
                .await?;
            continue;
        }
        let doc = tx
            .scalar::<i64>(stmt!(sql::SOURCE_DOC, id, number))
            .await?
            .ok_or_else(|| super::StoreError::other("no search row for the source"))?;
        rows.push((doc, title_index, body_index));
    }
    for (doc, _, _) in &rows {
        tx.execute(stmt!(sql::DELETE_SOURCE_FTS, *doc)).await?;
    }
    for (doc, title_index, body_index) in rows {
        tx.execute(stmt!(sql::INSERT_SOURCE_FTS, doc, title_index, body_index))
            .await?;
    }
    Ok(())
}

/// Indexes a claim's text.
pub async fn index_claim(tx: &mut Tx, id: ClaimId, text: &str) -> Result<()> {
    let words = search::index_text(text);
    let key = search::claim_key_digest(text);
    if tx.is_postgres() {
        let document = search::tsvector("", &words);
        tx.execute(stmt!(sql::UPSERT_CLAIM_PG, id, document, key))
            .await?;
        return Ok(());
    }
    let doc = tx
        .scalar::<i64>(stmt!(sql::CLAIM_DOC, id, key))
        .await?
        .ok_or_else(|| super::StoreError::other("no search row for the claim"))?;
    tx.execute(stmt!(sql::DELETE_CLAIM_FTS, doc)).await?;
    tx.execute(stmt!(sql::INSERT_CLAIM_FTS, doc, words)).await?;
    Ok(())
}

fn rendered(tx: &Tx, query: &SearchQuery) -> String {
    if tx.is_postgres() {
        query.tsquery()
    } else {
        query.fts5()
    }
}

/// A source found by a search, with the text of its latest version.
pub struct SourceHit {
    pub source: Source,
    pub text: String,
}

impl FromRow for SourceHit {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let id = c.get()?;
        let title = c.get()?;
        let url = c.get()?;
        let publisher = c.get()?;
        let authors = c.get::<super::Json<Vec<String>>>()?.0;
        let published_at = c.get()?;
        let kind = c.get()?;
        let created_at: OffsetDateTime = c.get()?;
        let version = Version::from_row(c)?;
        Ok(SourceHit {
            source: Source {
                id,
                title,
                url,
                publisher,
                authors,
                published_at,
                kind,
                created_at,
                version,
                warnings: None,
            },
            text: c.get()?,
        })
    }
}

/// Sources matching `query`, best first: `limit` of them after the first `offset`; only the
/// one with `url` and those of `publisher` when given. Without filters only the newest
/// [`search::RANK_WINDOW`] matches are ranked.
pub async fn search_sources(
    tx: &mut Tx,
    query: &SearchQuery,
    url: Option<&str>,
    publisher: Option<&str>,
    offset: u32,
    limit: u32,
) -> Result<Vec<SourceHit>> {
    let q = rendered(tx, query);
    if url.is_none() && publisher.is_none() {
        let sql = pick(tx, &sql::SEARCH_SOURCES);
        return tx
            .fetch_all(stmt!(
                sql,
                q,
                i64::from(limit),
                i64::from(offset),
                i64::from(search::RANK_WINDOW)
            ))
            .await;
    }
    let sql = pick(tx, &sql::SEARCH_SOURCES_FILTERED);
    tx.fetch_all(stmt!(
        sql,
        q,
        i64::from(limit),
        i64::from(offset),
        url,
        publisher
    ))
    .await
}

/// Claims matching `query` (and the list's filters), best first. Without filters (and for
/// an all-words query) only the newest [`search::RANK_WINDOW`] matches are ranked; similar
/// claims rank every candidate.
pub async fn search_claims(
    tx: &mut Tx,
    query: &SearchQuery,
    filter: &ClaimFilter,
    offset: u32,
    limit: u32,
) -> Result<Vec<ClaimItem>> {
    let q = rendered(tx, query);
    if filter.is_empty() && !query.is_any() {
        let sql = pick(tx, &sql::SEARCH_CLAIMS_RECENT);
        return tx
            .fetch_all(stmt!(
                sql,
                i64::from(offset),
                i64::from(limit),
                q,
                i64::from(search::RANK_WINDOW)
            ))
            .await;
    }
    let sql = pick(tx, &sql::SEARCH_CLAIMS);
    tx.fetch_all(stmt!(
        sql,
        i64::from(offset),
        i64::from(limit),
        filter.source_id,
        filter.has_verdict.map(i64::from),
        crate::domain::review::states_param(&filter.states),
        filter.attention.then_some(1i64),
        q
    ))
    .await
}

/// The oldest claim whose text is the same as `text` once white space, case and quote marks
/// are normalized ([`search::claim_key`]), by one indexed read.
pub async fn same_text_claim(tx: &mut Tx, text: &str) -> Result<Option<crate::domain::Claim>> {
    tx.fetch_optional(stmt!(sql::SAME_TEXT, search::claim_key_digest(text)))
        .await
}

#[cfg(test)]
mod plans {
    /// A new claim's twin is found by its indexed text key, not by a walk of the claims.
    #[test]
    fn a_twin_is_sought_by_its_text_key() {
        let plan = crate::store::sqlite_plan(super::sql::SAME_TEXT);
        assert!(
            plan.contains("claim_search_text_key (text_key=?)"),
            "{plan}"
        );
    }
}

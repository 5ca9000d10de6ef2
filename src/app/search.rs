//! Full-text search over sources and claims, and similar claims.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;
use crate::domain::search::{
    self, RankCursor, SearchQuery, SimilarClaim, SourceItem, SourceMatch, TextMatch,
};
use crate::store::search as db;

/// How many candidates the index proposes for similar claims before they are re-scored.
const SIMILAR_CANDIDATES: u32 = 200;
/// Similar claims answered by default, and at most.
pub const SIMILAR_DEFAULT: u32 = 10;
pub const SIMILAR_MAX: u32 = 50;
/// Longest text for similar claims, in characters. A claim is a sentence or a few; the bound also keeps the query string well under the
/// server's URI limit (a character can take 12 bytes percent-encoded).
const SIMILAR_MAX_CHARS: usize = 2_048;
/// Above this many bytes of text in a page, hits are placed on the blocking pool.
const INLINE_BYTES: usize = 2 << 20;

/// The claims most like a text.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SimilarClaims {
    /// Best first: claims whose figures agree with the text's, by score; then those whose
    /// figures differ, by score.
    pub items: Vec<SimilarClaim>,
}

/// Parses `q` (field `field`) or says why not.
pub(super) fn parse_query(field: &'static str, q: &str) -> Result<SearchQuery> {
    SearchQuery::parse(q).map_err(|error| AppError::InvalidSearch { field, error })
}

/// Offset and page size of a ranked list.
fn ranked_page_args(cursor: Option<&str>, limit: Option<u32>) -> Result<(u32, u32)> {
    let offset = match cursor {
        None => 0,
        Some(c) => RankCursor::decode(c).ok_or(AppError::InvalidCursor)?.0,
    };
    let limit = check_limit(limit.unwrap_or(domain::DEFAULT_LIMIT))?;
    // Never past the ranked window (and at least one row, so that the page says it ended).
    Ok((
        offset,
        limit.min(search::MAX_RANKED.saturating_sub(offset)).max(1),
    ))
}

fn ranked_page<T>(items: Vec<T>, rows: usize, offset: u32, limit: u32) -> Page<T> {
    let next = offset.saturating_add(limit);
    let next_cursor =
        (rows == limit as usize && next < search::MAX_RANKED).then(|| RankCursor(next).encode());
    Page { items, next_cursor }
}

/// Runs `work` in place when it is small, else on the blocking pool.
async fn place_hits<T: Send + 'static>(
    bytes: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    if bytes <= INLINE_BYTES {
        Ok(work())
    } else {
        cpu_bound("placing search hits", work).await
    }
}

impl App {
    /// Sources matching `query`, best first (after `url`/`publisher` filters), each with where
    /// it matched in its latest version.
    pub(super) async fn search_sources(
        &self,
        query: SearchQuery,
        url: Option<String>,
        publisher: Option<String>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<SourceItem>> {
        let (offset, limit) = ranked_page_args(cursor, limit)?;
        let q = query.clone();
        let hits = self
            .store
            .fetch_long(move |tx| {
                Box::pin(async move {
                    db::search_sources(tx, &q, url.as_deref(), publisher.as_deref(), offset, limit)
                        .await
                })
            })
            .await?;
        let rows = hits.len();
        let bytes = hits.iter().map(|h| h.text.len()).sum();
        let items = place_hits(bytes, move || {
            hits.into_iter()
                .filter_map(|h| {
                    let m = SourceMatch::new(
                        &query,
                        h.source.version.number,
                        &h.source.title,
                        &h.text,
                    )?;
                    Some(SourceItem {
                        source: h.source,
                        matched: Some(m),
                    })
                })
                .collect()
        })
        .await?;
        Ok(ranked_page(items, rows, offset, limit))
    }

    /// Claims matching `query` (and the list's filters), best first, each with where it
    /// matched.
    pub(super) async fn search_claims(
        &self,
        query: SearchQuery,
        filter: ClaimFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<domain::ClaimItem>> {
        let (offset, limit) = ranked_page_args(cursor, limit)?;
        let q = query.clone();
        let hits = self
            .store
            .fetch_long(move |tx| {
                Box::pin(async move { db::search_claims(tx, &q, &filter, offset, limit).await })
            })
            .await?;
        let rows = hits.len();
        let items = hits
            .into_iter()
            .filter_map(|mut item| {
                let m: TextMatch = search::find_all(&query, &item.claim.text)?;
                item.matched = Some(m);
                Some(item)
            })
            .collect();
        Ok(ranked_page(items, rows, offset, limit))
    }

    /// Existing claims most like `text`: the index proposes claims sharing any of its words
    /// (best [`SIMILAR_CANDIDATES`] by rank), re-scored by word overlap, those with differing
    /// figures after those without.
    pub async fn similar_claims(
        &self,
        actor: &Actor,
        text: &str,
        limit: Option<u32>,
    ) -> Result<SimilarClaims> {
        require(actor, Permission::ReadRecords, "read claims")?;
        let limit = limit.unwrap_or(SIMILAR_DEFAULT);
        if !(1..=SIMILAR_MAX).contains(&limit) {
            return Err(AppError::field(
                "limit",
                format!("must be from 1 to {SIMILAR_MAX}"),
            ));
        }
        let chars = text.chars().count();
        if chars > SIMILAR_MAX_CHARS {
            return Err(AppError::field(
                "text",
                format!("has {chars} characters; at most {SIMILAR_MAX_CHARS}"),
            ));
        }
        if text.trim().is_empty() {
            return Err(AppError::InvalidSearch {
                field: "text",
                error: search::QueryError::Empty,
            });
        }
        let query = SearchQuery::any_word_of(text).ok_or(AppError::InvalidSearch {
            field: "text",
            error: search::QueryError::NoWords,
        })?;
        let items = self.rank_similar(text.to_owned(), query, limit).await?;
        Ok(SimilarClaims { items })
    }

    /// The existing claims closest to a text (at most [`SIMILAR_DEFAULT`]), as
    /// [`App::similar_claims`] ranks them; none when the text has no word to search by.
    pub(super) async fn close_claims(&self, text: &str) -> Result<Vec<search::SimilarClaim>> {
        let text: String = text.chars().take(SIMILAR_MAX_CHARS).collect();
        let Some(query) = SearchQuery::any_word_of(&text) else {
            return Ok(Vec::new());
        };
        self.rank_similar(text, query, SIMILAR_DEFAULT).await
    }

    /// The claims that `query` finds, ranked by their closeness to `text`; the first `limit`.
    async fn rank_similar(
        &self,
        text: String,
        query: SearchQuery,
        limit: u32,
    ) -> Result<Vec<search::SimilarClaim>> {
        let filter = ClaimFilter::default();
        let candidates = self
            .store
            .fetch_long(move |tx| {
                Box::pin(async move {
                    db::search_claims(tx, &query, &filter, 0, SIMILAR_CANDIDATES).await
                })
            })
            .await?;
        place_hits(text.len() * 4, move || {
            search::rank_similar(&text, candidates, limit as usize)
        })
        .await
    }
}

//! Sources and their versions.

use time::OffsetDateTime;
use uuid::Uuid;

use super::exec::{Cols, FromRow, Json, Tx, stmt};
use super::{Result, StoreError};
use crate::domain::ids::SourceId;
use crate::domain::{NewSource, NewVersion, Source, Version, VersionText};

pub(super) mod sql {
    macro_rules! source_select {
        () => {
            "SELECT s.id, s.title, s.url, s.publisher, s.authors, s.published_at, s.kind, s.created_at, \
             v.number, v.sha256, v.length, v.captured_at FROM sources s \
             JOIN source_versions v ON v.source_id = s.id AND v.number = s.latest_version"
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
    /// The source list, written once: `$1` a URL (or null: any), `$2` the cursor, `$3` the
    /// page size, and in the `_OF_PUBLISHER` variants `$4` the publisher (exact; that
    /// condition seeks the `sources_publisher` index). `s.id > $2` (or `<` newest first) with
    /// the nil (or the largest) UUID for the first page: a plain range that seeks to the
    /// cursor (`$2 IS NULL OR …` makes SQLite scan from the start).
    macro_rules! list_sources {
        ($publisher:literal, $after:literal, $order:literal) => {
            concat!(
                source_select!(),
                " WHERE ",
                $publisher,
                "($1 IS NULL OR s.url = $1) AND s.id ",
                $after,
                " $2 ORDER BY s.id",
                $order,
                " LIMIT $3"
            )
        };
    }
    pub const LIST_SOURCES: &str = list_sources!("", ">", "");
    pub const LIST_SOURCES_OF_PUBLISHER: &str = list_sources!("s.publisher = $4 AND ", ">", "");
    pub const LIST_SOURCES_DESC: &str = list_sources!("", "<", " DESC");
    pub const LIST_SOURCES_OF_PUBLISHER_DESC: &str =
        list_sources!("s.publisher = $4 AND ", "<", " DESC");
    pub const VERSIONS: &str = "SELECT number, sha256, length, captured_at FROM source_versions WHERE source_id = $1 ORDER BY number";
    pub const VERSION_TEXT: &str = "SELECT source_id, number, sha256, length, captured_at, text FROM source_versions \
         WHERE source_id = $1 AND number = $2";
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
    insert_version(tx, id, 1, version, at).await
}

/// Indexes new sources' first versions for search. Run it after the write's other
/// statements (see [`super::search::index_sources`]).
pub async fn index_new_sources<'a>(
    tx: &mut Tx,
    sources: impl IntoIterator<Item = (SourceId, &'a NewSource, &'a NewVersion)>,
) -> Result<()> {
    let rows: Vec<(SourceId, i64, &str, &str)> = sources
        .into_iter()
        .map(|(id, new, version)| (id, 1, new.title.as_str(), version.index_text.as_str()))
        .collect();
    super::search::index_sources(tx, &rows).await
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

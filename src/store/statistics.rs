//! Numeric mentions of versions.

use std::borrow::Cow;
use std::fmt::Write as _;

use time::OffsetDateTime;

use super::exec::{Arg, Cols, FromRow, Statement, Tx, stmt};
use super::{Result, StoreError};
use crate::domain::SourceRef;
use crate::domain::ids::SourceId;
use crate::domain::statistics::{EXTRACTOR_REVISION, Kind, Mention, Qualifier, TraceQuery, Unit};

mod sql {
    pub const COLUMNS: &str = "source_id, version, ordinal, start_cp, end_cp, start_utf16, end_utf16, exact, \
         kind, unit, value, high, value_key, high_key, scale, qualifier, of_text, attribution, \
         prefix, suffix, sentence, captured_at, range_unit";
    pub const PER_ROW: usize = 23;
    pub const OF_VERSION: &str = "SELECT start_cp, end_cp, start_utf16, end_utf16, exact, kind, unit, value, high, \
         scale, qualifier, of_text, attribution, prefix, suffix, sentence FROM mentions \
         WHERE source_id = $1 AND version = $2 ORDER BY ordinal";
    pub const MARK: &str = "INSERT INTO mention_extractions (source_id, version, extractor) VALUES ($1, $2, $3) \
         ON CONFLICT (source_id, version) DO UPDATE SET extractor = excluded.extractor";
    pub const CLEAR: &str = "DELETE FROM mentions WHERE source_id = $1 AND version = $2";
    /// A hit of the trace: the mention, its source, and whether a recorded chain holds it.
    macro_rules! hit {
        ($where:literal) => {
            concat!(
                "SELECT m.source_id, s.title, s.url, s.publisher, s.published_at, m.version, m.captured_at, \
                 m.start_cp, m.end_cp, m.start_utf16, m.end_utf16, m.exact, m.kind, m.unit, m.value, m.high, \
                 m.scale, m.qualifier, m.of_text, m.attribution, m.prefix, m.suffix, m.sentence, \
                 EXISTS (SELECT 1 FROM passages p WHERE p.source_id = m.source_id AND p.version = m.version \
                         AND p.start_cp <= m.start_cp AND p.end_cp >= m.end_cp \
                         AND (EXISTS (SELECT 1 FROM derivations d WHERE d.passage_id = p.id) \
                              OR EXISTS (SELECT 1 FROM derivations d WHERE d.from_passage_id = p.id))) \
                 FROM mentions m JOIN sources s ON s.id = m.source_id ",
                $where
            )
        };
    }
    /// Quantities of a unit with exactly this value.
    pub const BY_KEY: &str =
        hit!("WHERE m.kind = 'quantity' AND m.unit = $1 AND m.value_key = $2 LIMIT $3");
    /// Approximate quantities of a unit with a value between two keys.
    pub const APPROXIMATE: &str = hit!(
        "WHERE m.kind = 'quantity' AND m.qualifier = 'approximate' AND m.unit = $1 \
         AND m.value_key >= $2 AND m.value_key <= $3 LIMIT $4"
    );
    /// Quantities of a unit with a value between two keys.
    pub const BY_VALUE: &str = hit!(
        "WHERE m.kind = 'quantity' AND m.unit = $1 AND m.value_key >= $2 AND m.value_key <= $3 \
         ORDER BY m.value_key LIMIT $4"
    );
    /// Ranges of a unit that hold a value.
    pub const BY_RANGE: &str = hit!(
        "WHERE m.range_unit = $1 AND m.kind = 'quantity' AND m.value_key <= $2 \
         AND m.high_key >= $2 LIMIT $3"
    );
    pub const NOT_EXTRACTED: &str = "SELECT v.source_id, v.number FROM source_versions v \
         LEFT JOIN mention_extractions x ON x.source_id = v.source_id AND x.version = v.number \
         WHERE x.extractor IS NULL OR x.extractor < $1 ORDER BY v.source_id, v.number";
}

/// Rows per INSERT statement: fewer round trips, under both engines' parameter limits.
const BATCH: usize = 200;

impl FromRow for Mention {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let bad = |what: &str, v: &str| {
            StoreError::other(format!("stored mention has a bad {what}: {v:?}"))
        };
        let (start, end, start_utf16, end_utf16): (i64, i64, i64, i64) =
            (c.get()?, c.get()?, c.get()?, c.get()?);
        let exact = c.get()?;
        let kind: String = c.get()?;
        let unit: String = c.get()?;
        let value: String = c.get()?;
        let high: Option<String> = c.get()?;
        let scale = c.get()?;
        let qualifier: String = c.get()?;
        Ok(Mention {
            start: start as usize,
            end: end as usize,
            start_utf16: start_utf16 as usize,
            end_utf16: end_utf16 as usize,
            exact,
            kind: Kind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
            unit: Unit::from_key(&unit).ok_or_else(|| bad("unit", &unit))?,
            value: value.parse().map_err(|_| bad("value", &value))?,
            high: high
                .map(|h| h.parse().map_err(|_| bad("high", &h)))
                .transpose()?,
            scale,
            qualifier: Qualifier::parse(&qualifier).ok_or_else(|| bad("qualifier", &qualifier))?,
            of: c.get()?,
            attribution: c.get()?,
            prefix: c.get()?,
            suffix: c.get()?,
            sentence: c.get()?,
        })
    }
}

/// The INSERT of `rows` mentions.
fn insert_text(rows: usize) -> String {
    let mut text = format!("INSERT INTO mentions ({}) VALUES ", sql::COLUMNS);
    for k in 0..rows {
        if k > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for n in 1..=sql::PER_ROW {
            if n > 1 {
                text.push_str(", ");
            }
            let _ = write!(text, "${}", k * sql::PER_ROW + n);
        }
        text.push(')');
    }
    text
}

static ONE_ROW: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| insert_text(1));

/// Stores a version's mentions (replacing any) and marks it extracted.
pub async fn store(
    tx: &mut Tx,
    source_id: SourceId,
    version: i64,
    captured_at: OffsetDateTime,
    mentions: &[Mention],
) -> Result<()> {
    tx.execute(stmt!(sql::CLEAR, source_id, version)).await?;
    // SQLite runs one single-row statement per mention, prepared once and cached: a multi-row
    // INSERT has a new text for each row count, which SQLite prepared anew and which pushed
    // other statements out of the connection's cache (issue 17: a tenth of an import's time).
    // PostgreSQL takes batches, one round trip each.
    let batch = if tx.is_postgres() { BATCH } else { 1 };
    for (chunk_no, chunk) in mentions.chunks(batch).enumerate() {
        let text = match chunk.len() {
            1 => Cow::Borrowed(ONE_ROW.as_str()),
            n => Cow::Owned(insert_text(n)),
        };
        let mut args = Vec::with_capacity(chunk.len() * sql::PER_ROW);
        for (k, m) in chunk.iter().enumerate() {
            let ordinal = (chunk_no * batch + k) as i64;
            args.extend([
                source_id.value(),
                version.value(),
                ordinal.value(),
                (m.start as i64).value(),
                (m.end as i64).value(),
                (m.start_utf16 as i64).value(),
                (m.end_utf16 as i64).value(),
                m.exact.as_str().value(),
                m.kind.as_str().value(),
                m.unit.key().value(),
                m.value.to_string().value(),
                m.high.map(|h| h.to_string()).value(),
                m.value.sort_key().value(),
                m.high.map(|h| h.sort_key()).value(),
                m.scale.as_deref().value(),
                m.qualifier.as_str().value(),
                m.of.as_deref().value(),
                m.attribution.as_deref().value(),
                m.prefix.as_str().value(),
                m.suffix.as_str().value(),
                m.sentence.as_str().value(),
                captured_at.value(),
                m.high.map(|_| m.unit.key()).value(),
            ]);
        }
        tx.execute(Statement { sql: text, args }).await?;
    }
    tx.execute(stmt!(sql::MARK, source_id, version, EXTRACTOR_REVISION))
        .await
        .map(drop)
}

/// One mention found by the trace, with where it stands.
#[derive(Debug, Clone)]
pub struct Hit {
    pub source: SourceRef,
    pub published_at: Option<String>,
    pub version: i64,
    pub captured_at: OffsetDateTime,
    pub mention: Mention,
    pub in_chain: bool,
}

impl FromRow for Hit {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let source = SourceRef {
            id: c.get()?,
            title: c.get()?,
            url: c.get()?,
            publisher: c.get()?,
        };
        Ok(Hit {
            source,
            published_at: c.get()?,
            version: c.get()?,
            captured_at: c.get()?,
            mention: Mention::from_row(c)?,
            in_chain: c.get()?,
        })
    }
}

/// The mentions that may match a traced figure (each kind of match from its own index
/// range, so that many near values never crowd out the equal ones), at most `limit` of each.
pub async fn candidates(tx: &mut Tx, q: &TraceQuery, limit: i64) -> Result<Vec<Hit>> {
    let unit = q.unit.key();
    let (low, high) = q.bounds();
    let (low, high) = (low.sort_key(), high.sort_key());
    if q.high.is_some() || q.qualifier == Qualifier::Approximate {
        // Everything in the window may match: values in the traced range, or near an
        // approximate figure.
        return tx
            .fetch_all(stmt!(sql::BY_VALUE, unit.as_str(), low, high, limit))
            .await;
    }
    let mut hits: Vec<Hit> = tx
        .fetch_all(stmt!(sql::BY_KEY, unit.as_str(), q.value.sort_key(), limit))
        .await?;
    hits.extend(
        tx.fetch_all::<Hit>(stmt!(sql::APPROXIMATE, unit.as_str(), low, high, limit))
            .await?
            .into_iter()
            .filter(|h| h.mention.value != q.value),
    );
    hits.extend(
        tx.fetch_all::<Hit>(stmt!(
            sql::BY_RANGE,
            unit.as_str(),
            q.value.sort_key(),
            limit
        ))
        .await?,
    );
    Ok(hits)
}

pub async fn of_version(tx: &mut Tx, source_id: SourceId, version: i64) -> Result<Vec<Mention>> {
    tx.fetch_all(stmt!(sql::OF_VERSION, source_id, version))
        .await
}

/// Versions whose mentions were never extracted, or by an older extractor.
pub async fn not_extracted(tx: &mut Tx) -> Result<Vec<(SourceId, i64)>> {
    tx.fetch_all(stmt!(sql::NOT_EXTRACTED, EXTRACTOR_REVISION))
        .await
}

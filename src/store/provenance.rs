//! Sources, versions, passages, claims and evidence.

use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Result, Store, now};
use crate::domain::audit::Event;
use crate::domain::{
    Claim, ClaimView, Evidence, Passage, Source, SourceRef, SourcedPassage, Stance, Version,
    VersionText,
};

const SOURCE_COLUMNS: &str = "s.id, s.title, s.url, s.publisher, s.authors, s.published_at, s.created_at, \
     v.number, v.sha256, v.length, v.captured_at";

type SourceRow = (
    Uuid,
    String,
    Option<String>,
    Option<String>,
    Json<Vec<String>>,
    Option<String>,
    OffsetDateTime,
    i64,
    String,
    i64,
    OffsetDateTime,
);

fn source_from_row(r: SourceRow) -> Source {
    Source {
        id: r.0,
        title: r.1,
        url: r.2,
        publisher: r.3,
        authors: r.4.0,
        published_at: r.5,
        created_at: r.6,
        version: Version {
            number: r.7,
            sha256: r.8,
            length: r.9,
            captured_at: r.10,
        },
    }
}

type VersionRow = (i64, String, i64, OffsetDateTime);

fn version_from_row(r: VersionRow) -> Version {
    Version {
        number: r.0,
        sha256: r.1,
        length: r.2,
        captured_at: r.3,
    }
}

type PassageRow = (
    Uuid,
    Uuid,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    OffsetDateTime,
);

const PASSAGE_COLUMNS: &str =
    "p.id, p.source_id, p.version, p.start_cp, p.end_cp, p.exact, p.prefix, p.suffix, p.created_at";

fn passage_from_row(r: PassageRow) -> Passage {
    Passage {
        id: r.0,
        source_id: r.1,
        version: r.2,
        start: r.3,
        end: r.4,
        exact: r.5,
        prefix: r.6,
        suffix: r.7,
        created_at: r.8,
    }
}

/// A passage row joined with its source's short form.
type SourcedPassageRow = (
    Uuid,
    Uuid,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    OffsetDateTime,
    String,
    Option<String>,
    Option<String>,
);

fn sourced_passage_from_row(r: SourcedPassageRow) -> SourcedPassage {
    let source = SourceRef {
        id: r.1,
        title: r.9,
        url: r.10,
        publisher: r.11,
    };
    SourcedPassage {
        passage: passage_from_row((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8)),
        source,
    }
}

type ClaimRow = (Uuid, String, Option<String>, OffsetDateTime);

fn claim_from_row(r: ClaimRow) -> Claim {
    Claim {
        id: r.0,
        text: r.1,
        claimant: r.2,
        created_at: r.3,
    }
}

pub(super) const CLAIM_EXISTS: &str = "SELECT id FROM claims WHERE id = $1";

/// A validated source ready to be written with its first version.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
    pub authors: Vec<String>,
    pub published_at: Option<String>,
    pub import_key: Option<String>,
}

/// A version's text with what is computed from it once.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub text: String,
    pub sha256: String,
    pub length: i64,
}

impl NewVersion {
    pub fn new(text: String) -> Self {
        NewVersion {
            sha256: crate::domain::sha256_hex(&text),
            length: text.chars().count() as i64,
            text,
        }
    }
}

/// A resolved span to be stored as a passage.
#[derive(Debug, Clone)]
pub struct NewPassage {
    pub source_id: Uuid,
    pub version: i64,
    pub start: i64,
    pub end: i64,
    pub exact: String,
    pub prefix: String,
    pub suffix: String,
}

/// Whether a write made something new or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Existing,
}

impl Store {
    /// Writes a source and its version 1 in one transaction.
    pub async fn insert_source(
        &self,
        actor: &str,
        new: &NewSource,
        version: &NewVersion,
    ) -> Result<Source> {
        let id = crate::domain::new_id();
        let at = now();
        in_write_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO sources (id, title, url, publisher, authors, published_at, import_key, latest_version, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
            )
            .bind(id)
            .bind(&new.title)
            .bind(&new.url)
            .bind(&new.publisher)
            .bind(Json(&new.authors))
            .bind(&new.published_at)
            .bind(&new.import_key)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO source_versions (source_id, number, sha256, length, text, captured_at) \
                 VALUES ($1, 1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(&version.sha256)
            .bind(version.length)
            .bind(&version.text)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let changes = serde_json::json!({
                "title": new.title, "url": new.url, "publisher": new.publisher, "authors": new.authors,
                "published_at": new.published_at, "import_key": new.import_key,
                "version": {"number": 1, "sha256": version.sha256, "length": version.length},
            });
            append_audit!(tx, actor, Event::new("create", "source", id, changes));
        });
        Ok(Source {
            id,
            title: new.title.clone(),
            url: new.url.clone(),
            publisher: new.publisher.clone(),
            authors: new.authors.clone(),
            published_at: new.published_at.clone(),
            created_at: at,
            version: Version {
                number: 1,
                sha256: version.sha256.clone(),
                length: version.length,
                captured_at: at,
            },
        })
    }

    /// Adds the next version of a source, unless one of its versions already has this text,
    /// which is then returned. `None` when the source does not exist.
    pub async fn add_version(
        &self,
        actor: &str,
        source_id: Uuid,
        version: &NewVersion,
    ) -> Result<Option<(Version, Outcome)>> {
        let at = now();
        Ok(in_write_tx!(self, tx => {
            let same: Option<VersionRow> = sqlx::query_as(
                "SELECT number, sha256, length, captured_at FROM source_versions \
                 WHERE source_id = $1 AND sha256 = $2 ORDER BY number LIMIT 1",
            )
            .bind(source_id)
            .bind(&version.sha256)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = same {
                Some((version_from_row(row), Outcome::Existing))
            } else {
                // Taking the next number with an UPDATE locks the source row on PostgreSQL, so
                // concurrent captures get consecutive numbers instead of colliding.
                let number: Option<i64> = sqlx::query_scalar(
                    "UPDATE sources SET latest_version = latest_version + 1 WHERE id = $1 RETURNING latest_version",
                )
                .bind(source_id)
                .fetch_optional(&mut *tx)
                .await?;
                match number {
                    None => None,
                    Some(number) => {
                        sqlx::query(
                            "INSERT INTO source_versions (source_id, number, sha256, length, text, captured_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(source_id)
                        .bind(number)
                        .bind(&version.sha256)
                        .bind(version.length)
                        .bind(&version.text)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                        let changes = serde_json::json!({"number": number, "sha256": version.sha256, "length": version.length});
                        append_audit!(tx, actor, Event::new("add_version", "source", source_id, changes));
                        let v = Version {
                            number,
                            sha256: version.sha256.clone(),
                            length: version.length,
                            captured_at: at,
                        };
                        Some((v, Outcome::Created))
                    }
                }
            }
        }))
    }

    pub async fn get_source(&self, id: Uuid) -> Result<Option<Source>> {
        let sql = format!(
            "SELECT {SOURCE_COLUMNS} FROM sources s \
             JOIN source_versions v ON v.source_id = s.id AND v.number = s.latest_version WHERE s.id = $1"
        );
        let row: Option<SourceRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?);
        Ok(row.map(source_from_row))
    }

    /// The source that an import or a client already stored under this URL or import key.
    pub async fn find_source_id(
        &self,
        url: Option<&str>,
        import_key: Option<&str>,
    ) -> Result<Option<Uuid>> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM sources WHERE ($1 IS NOT NULL AND url = $1) OR ($2 IS NOT NULL AND import_key = $2) \
             ORDER BY id LIMIT 1",
        )
        .bind(url)
        .bind(import_key)
        .fetch_optional(pool)
        .await)
    }

    /// Sources in id order after `after`, optionally only the one with `url`.
    pub async fn list_sources(
        &self,
        url: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Source>> {
        let sql = format!(
            "SELECT {SOURCE_COLUMNS} FROM sources s \
             JOIN source_versions v ON v.source_id = s.id AND v.number = s.latest_version \
             WHERE ($1 IS NULL OR s.url = $1) AND ($2 IS NULL OR s.id > $2) ORDER BY s.id LIMIT $3"
        );
        let rows: Vec<SourceRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(url)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(source_from_row).collect())
    }

    pub async fn list_versions(&self, source_id: Uuid) -> Result<Vec<Version>> {
        let rows: Vec<VersionRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT number, sha256, length, captured_at FROM source_versions WHERE source_id = $1 ORDER BY number",
        )
        .bind(source_id)
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(version_from_row).collect())
    }

    pub async fn get_version(&self, source_id: Uuid, number: i64) -> Result<Option<VersionText>> {
        let row: Option<(i64, String, i64, OffsetDateTime, String)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT number, sha256, length, captured_at, text FROM source_versions WHERE source_id = $1 AND number = $2",
        )
        .bind(source_id)
        .bind(number)
        .fetch_optional(pool)
        .await?);
        Ok(row.map(|(n, sha, len, at, text)| VersionText {
            source_id,
            version: version_from_row((n, sha, len, at)),
            text,
        }))
    }

    /// Stores a passage, or finds the identical one (same version and positions) already stored.
    pub async fn insert_passage(
        &self,
        actor: &str,
        new: &NewPassage,
    ) -> Result<(Passage, Outcome)> {
        let id = crate::domain::new_id();
        let at = now();
        let sql = format!(
            "SELECT {PASSAGE_COLUMNS} FROM passages p \
             WHERE p.source_id = $1 AND p.version = $2 AND p.start_cp = $3 AND p.end_cp = $4"
        );
        in_write_tx!(self, tx => {
            let inserted = sqlx::query(
                "INSERT INTO passages (id, source_id, version, start_cp, end_cp, exact, prefix, suffix, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (source_id, version, start_cp, end_cp) DO NOTHING",
            )
            .bind(id)
            .bind(new.source_id)
            .bind(new.version)
            .bind(new.start)
            .bind(new.end)
            .bind(&new.exact)
            .bind(&new.prefix)
            .bind(&new.suffix)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let row: PassageRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(new.source_id)
                .bind(new.version)
                .bind(new.start)
                .bind(new.end)
                .fetch_one(&mut *tx)
                .await?;
            let passage = passage_from_row(row);
            let outcome = if inserted == 1 {
                let changes = serde_json::json!({
                    "source_id": passage.source_id, "version": passage.version,
                    "start": passage.start, "end": passage.end, "exact": passage.exact,
                });
                append_audit!(tx, actor, Event::new("create", "passage", passage.id, changes));
                Outcome::Created
            } else {
                Outcome::Existing
            };
            Ok((passage, outcome))
        })
    }

    pub async fn get_passage(&self, id: Uuid) -> Result<Option<Passage>> {
        let sql = format!("SELECT {PASSAGE_COLUMNS} FROM passages p WHERE p.id = $1");
        let row: Option<PassageRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?);
        Ok(row.map(passage_from_row))
    }

    /// Which of `ids` name no stored passage.
    pub async fn missing_passages(&self, ids: &[Uuid]) -> Result<Vec<Uuid>> {
        let mut missing = Vec::new();
        for &id in ids {
            let found: Option<Uuid> = on_pool!(self, pool => sqlx::query_scalar("SELECT id FROM passages WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?);
            if found.is_none() {
                missing.push(id);
            }
        }
        Ok(missing)
    }

    /// Writes a claim with the passages it appeared in (which must exist).
    pub async fn insert_claim(
        &self,
        actor: &str,
        text: &str,
        claimant: Option<&str>,
        appearances: &[Uuid],
    ) -> Result<Uuid> {
        let id = crate::domain::new_id();
        let at = now();
        in_write_tx!(self, tx => {
            sqlx::query("INSERT INTO claims (id, text, claimant, created_at) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(text)
                .bind(claimant)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            for (position, passage) in appearances.iter().enumerate() {
                sqlx::query("INSERT INTO claim_appearances (claim_id, passage_id, position) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(passage)
                    .bind(position as i32)
                    .execute(&mut *tx)
                    .await?;
            }
            let changes = serde_json::json!({"text": text, "claimant": claimant, "appearances": appearances});
            append_audit!(tx, actor, Event::new("create", "claim", id, changes));
        });
        Ok(id)
    }

    pub async fn claim_exists(&self, id: Uuid) -> Result<bool> {
        let found: Option<Uuid> = on_pool!(self, pool => sqlx::query_scalar(CLAIM_EXISTS)
            .bind(id)
            .fetch_optional(pool)
            .await?);
        Ok(found.is_some())
    }

    /// Adds evidence to a claim. A unique violation means this passage is already evidence
    /// for the claim; see [`Store::evidence_id_for`].
    pub async fn insert_evidence(
        &self,
        actor: &str,
        claim_id: Uuid,
        passage_id: Uuid,
        stance: Stance,
        note: Option<&str>,
    ) -> Result<Uuid> {
        let id = crate::domain::new_id();
        let at = now();
        in_write_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO evidence (id, claim_id, passage_id, stance, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(claim_id)
            .bind(passage_id)
            .bind(stance.as_str())
            .bind(note)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let changes = serde_json::json!({"claim_id": claim_id, "passage_id": passage_id, "stance": stance.as_str(), "note": note});
            append_audit!(tx, actor, Event::new("create", "evidence", id, changes));
        });
        Ok(id)
    }

    pub async fn evidence_id_for(&self, claim_id: Uuid, passage_id: Uuid) -> Result<Option<Uuid>> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT id FROM evidence WHERE claim_id = $1 AND passage_id = $2")
            .bind(claim_id)
            .bind(passage_id)
            .fetch_optional(pool)
            .await)
    }

    /// A claim with its appearances and evidence, each with its passage and source.
    pub async fn get_claim(&self, id: Uuid) -> Result<Option<ClaimView>> {
        let claim: Option<ClaimRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, text, claimant, created_at FROM claims WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        let Some(claim) = claim else { return Ok(None) };
        let sql = format!(
            "SELECT {PASSAGE_COLUMNS}, s.title, s.url, s.publisher FROM passages p JOIN sources s ON s.id = p.source_id \
             WHERE p.id IN (SELECT passage_id FROM claim_appearances WHERE claim_id = $1 \
                            UNION SELECT passage_id FROM evidence WHERE claim_id = $1)"
        );
        let passages: Vec<SourcedPassageRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_all(pool).await?);
        let passages: std::collections::HashMap<Uuid, SourcedPassage> = passages
            .into_iter()
            .map(|r| (r.0, sourced_passage_from_row(r)))
            .collect();
        let appearance_ids: Vec<Uuid> = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT passage_id FROM claim_appearances WHERE claim_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(pool)
        .await?);
        let evidence_rows: Vec<(Uuid, Uuid, String, Option<String>, OffsetDateTime)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, passage_id, stance, note, created_at FROM evidence WHERE claim_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(pool)
        .await?);
        let sourced = |pid: &Uuid| {
            passages.get(pid).cloned().ok_or_else(|| {
                sqlx::Error::Protocol(format!("passage {pid} of claim {id} is missing"))
            })
        };
        let appearances = appearance_ids
            .iter()
            .map(sourced)
            .collect::<Result<Vec<_>>>()?;
        let evidence = evidence_rows
            .into_iter()
            .map(|(eid, pid, stance, note, created_at)| {
                let SourcedPassage { passage, source } = sourced(&pid)?;
                let stance = Stance::parse(&stance)
                    .ok_or_else(|| sqlx::Error::Protocol(format!("unknown stance {stance:?}")))?;
                Ok(Evidence {
                    id: eid,
                    claim_id: id,
                    stance,
                    note,
                    created_at,
                    passage,
                    source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(ClaimView {
            claim: claim_from_row(claim),
            appearances,
            evidence,
            verdict: None,
            reviews: Vec::new(),
        }))
    }

    pub async fn list_claims(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<Claim>> {
        let rows: Vec<ClaimRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, text, claimant, created_at FROM claims WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(claim_from_row).collect())
    }
}

//! Storage: one API over SQLite (the embedded default) and PostgreSQL, chosen by URL scheme.
//!
//! Queries are written once, with `$n` placeholders that both engines accept, and run through
//! runtime `query_as` (the checked `query!` macros can check one database only). The
//! [`on_pool!`] and [`in_write_tx!`] macros expand each body once per backend, so each is
//! type-checked against its own driver while the SQL stays in one place.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::access::{ApiKey, Role};
use crate::domain::audit::{self, Entry, Event};
use crate::domain::review::{Rating, RatingScale, Review, ReviewEvent, State};
use crate::domain::{
    Claim, ClaimView, Evidence, Passage, Source, SourceRef, SourcedPassage, Stance, Version,
    VersionText,
};

pub type Result<T> = std::result::Result<T, sqlx::Error>;

/// The configured database.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool, WriteGate),
    Postgres(PgPool),
}

/// This process's one SQLite writer connection. SQLite admits one writer at a time; writers
/// that wait on its busy handler sleep in steps of milliseconds, while the pool's queue hands
/// the connection over at once, and readers never hold it up.
#[derive(Clone, Debug)]
pub struct WriteGate(SqlitePool);

/// PostgreSQL advisory lock held by every write transaction, so that audit entries are
/// appended in one order across all API nodes.
const WRITE_LOCK: i64 = 0x636c_6169_6d74;

/// Runs `$body` with `$pool` bound to the concrete pool of either backend.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite($pool, _) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` in a write transaction bound to `$tx`, committing when it succeeds. Writers
/// are serialized (see [`WriteGate`] and [`WRITE_LOCK`]): every write appends to the one
/// audit chain, which must stay linear.
macro_rules! in_write_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        match $store {
            Store::Sqlite(_, writer) => {
                let mut $tx = writer.0.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            Store::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(WRITE_LOCK)
                    .execute(&mut *$tx)
                    .await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}

/// Appends an audit entry for `$event` by `$actor` inside the write transaction `$tx`.
macro_rules! append_audit {
    ($tx:ident, $actor:expr, $event:expr) => {{
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *$tx)
                .await?;
        let entry = audit::seal(head, timestamp_text(now()), $actor, $event);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, changes, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(entry.seq)
        .bind(&entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.entity)
        .bind(&entry.entity_id)
        .bind(&entry.changes)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut *$tx)
        .await?;
    }};
}

type EntryRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

fn entry_from_row(r: EntryRow) -> Entry {
    Entry {
        seq: r.0,
        at: r.1,
        actor: r.2,
        action: r.3,
        entity: r.4,
        entity_id: r.5,
        changes: r.6,
        prev_hash: r.7,
        hash: r.8,
    }
}

const ENTRY_COLUMNS: &str = "seq, at, actor, action, entity, entity_id, changes, prev_hash, hash";

/// Fixed-width UTC text (`2026-01-02T03:04:05.678901Z`), so that text order is time order.
pub fn timestamp_text(t: OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .expect("formats any date in range")
}

/// Filters of the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    /// Inclusive lower bound, as [`timestamp_text`].
    pub since: Option<String>,
    /// Exclusive upper bound, as [`timestamp_text`].
    pub until: Option<String>,
}

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

fn now() -> OffsetDateTime {
    // Microseconds: both engines store them exactly, so values read back compare equal.
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or(t)
}

/// `migrations/<backend>/`, in order; the version is the position.
const SQLITE_MIGRATIONS: &[(&str, &str)] = &[
    (
        "provenance",
        include_str!("../../migrations/sqlite/0001_provenance.sql"),
    ),
    (
        "audit",
        include_str!("../../migrations/sqlite/0002_audit.sql"),
    ),
    (
        "api_keys",
        include_str!("../../migrations/sqlite/0003_api_keys.sql"),
    ),
    (
        "reviews",
        include_str!("../../migrations/sqlite/0004_reviews.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(&str, &str)] = &[
    (
        "provenance",
        include_str!("../../migrations/postgres/0001_provenance.sql"),
    ),
    (
        "audit",
        include_str!("../../migrations/postgres/0002_audit.sql"),
    ),
    (
        "api_keys",
        include_str!("../../migrations/postgres/0003_api_keys.sql"),
    ),
    (
        "reviews",
        include_str!("../../migrations/postgres/0004_reviews.sql"),
    ),
];

fn embedded(migrations: &[(&'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .zip(1..)
            .map(|(&(name, sql), version)| {
                Migration::new(
                    version,
                    name.into(),
                    MigrationType::Simple,
                    SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    )
}

impl Store {
    /// Opens the database named by `url`: `postgres://…` or `postgresql://…` for PostgreSQL,
    /// otherwise SQLite (`sqlite://path`, `sqlite::memory:` is refused, or a plain file path).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Store::Postgres(pool));
        }
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // A local file cannot drop a connection: skip the ping before every acquire, which
        // costs as much as a query.
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Store::Sqlite(pool, WriteGate(writer)))
    }

    /// The backend's name, for logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(..) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Applies the migrations of `migrations/<backend>/` (embedded in the binary).
    pub async fn migrate(&self) -> std::result::Result<(), sqlx::migrate::MigrateError> {
        match self {
            Store::Sqlite(pool, _) => embedded(SQLITE_MIGRATIONS).run(pool).await,
            Store::Postgres(pool) => embedded(POSTGRES_MIGRATIONS).run(pool).await,
        }
    }

    pub async fn close(&self) {
        if let Store::Sqlite(_, writer) = self {
            writer.0.close().await;
        }
        on_pool!(self, pool => pool.close().await)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))
    }

    /// Rows per table, to show that a refused request wrote nothing.
    pub async fn row_counts(&self) -> Result<Vec<(&'static str, i64)>> {
        const TABLES: [&str; 6] = [
            "sources",
            "source_versions",
            "passages",
            "claims",
            "claim_appearances",
            "evidence",
        ];
        let mut counts = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let n: i64 = on_pool!(self, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await?);
            counts.push((table, n));
        }
        Ok(counts)
    }

    pub async fn source_count(&self) -> Result<i64> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM sources").fetch_one(pool).await)
    }

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
        let found: Option<Uuid> = on_pool!(self, pool => sqlx::query_scalar("SELECT id FROM claims WHERE id = $1")
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

impl Store {
    /// Audit entries in `seq` order after `after`, filtered.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Entry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE ($1 IS NULL OR entity = $1) AND ($2 IS NULL OR entity_id = $2) \
             AND ($3 IS NULL OR actor = $3) AND ($4 IS NULL OR at >= $4) AND ($5 IS NULL OR at < $5) \
             AND ($6 IS NULL OR seq > $6) ORDER BY seq LIMIT $7"
        );
        let rows: Vec<EntryRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&filter.entity)
            .bind(&filter.entity_id)
            .bind(&filter.actor)
            .bind(&filter.since)
            .bind(&filter.until)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(entry_from_row).collect())
    }
}

type KeyRow = (
    Uuid,
    String,
    String,
    String,
    String,
    OffsetDateTime,
    Option<OffsetDateTime>,
);

/// A key with its stored secret hash.
pub struct StoredKey {
    pub key: ApiKey,
    pub secret_hash: String,
}

fn key_from_row(r: KeyRow) -> Result<StoredKey> {
    let role = Role::parse(&r.2)
        .ok_or_else(|| sqlx::Error::Protocol(format!("unknown role {:?}", r.2)))?;
    Ok(StoredKey {
        key: ApiKey {
            id: r.0,
            name: r.1,
            role,
            created_by: r.4,
            created_at: r.5,
            revoked_at: r.6,
        },
        secret_hash: r.3,
    })
}

const KEY_COLUMNS: &str = "id, name, role, secret_hash, created_by, created_at, revoked_at";

impl Store {
    pub async fn insert_key(
        &self,
        actor: &str,
        name: &str,
        role: Role,
        secret_hash: &str,
    ) -> Result<ApiKey> {
        let id = crate::domain::new_id();
        let at = now();
        in_write_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO api_keys (id, name, role, secret_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(name)
            .bind(role.as_str())
            .bind(secret_hash)
            .bind(actor)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let changes = serde_json::json!({"name": name, "role": role.as_str()});
            append_audit!(tx, actor, Event::new("create", "api_key", id, changes));
        });
        Ok(ApiKey {
            id,
            name: name.to_owned(),
            role,
            created_by: actor.to_owned(),
            created_at: at,
            revoked_at: None,
        })
    }

    pub async fn get_key(&self, id: Uuid) -> Result<Option<StoredKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1");
        let row: Option<KeyRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?);
        row.map(key_from_row).transpose()
    }

    pub async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY id");
        let rows: Vec<KeyRow> =
            on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?);
        rows.into_iter()
            .map(|r| key_from_row(r).map(|k| k.key))
            .collect()
    }

    /// Revokes a key; `None` when it does not exist, the key unchanged when already revoked.
    pub async fn revoke_key(&self, actor: &str, id: Uuid) -> Result<Option<ApiKey>> {
        let at = now();
        in_write_tx!(self, tx => {
            let revoked = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if revoked == 1 {
                append_audit!(tx, actor, Event::new("revoke", "api_key", id, serde_json::json!({})));
            }
        });
        Ok(self.get_key(id).await?.map(|k| k.key))
    }
}

/// Whether an error is a unique-constraint violation (a concurrent or repeated write).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

/// A review ready to be written as a draft.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub claim_id: Uuid,
    pub scale: String,
    pub rating: String,
    pub summary: String,
    pub evidence: Vec<Uuid>,
    pub corrects: Option<Uuid>,
}

/// How a requested workflow step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transitioned {
    Done,
    /// The review is no longer at the revision (and state) the client saw.
    Stale,
    /// Publishing would give the claim a second verdict: this review is published already.
    VerdictExists(Uuid),
}

/// What an edit of a review may change.
#[derive(Debug, Clone)]
pub struct ReviewContent {
    pub scale: String,
    pub rating: String,
    pub summary: String,
    pub evidence: Vec<Uuid>,
}

/// A requested workflow step, checked by the domain before it is written.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub review_id: Uuid,
    /// The revision the client saw; the write happens only if it is still current.
    pub revision: i64,
    pub from: State,
    pub to: State,
    pub note: Option<&'a str>,
    pub second_person_rule: bool,
    /// A published review that this step (a correction's publication) supersedes.
    pub supersedes: Option<Uuid>,
}

type ReviewRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    String,
    String,
    Json<Vec<Uuid>>,
    Option<Uuid>,
    i64,
    OffsetDateTime,
    OffsetDateTime,
    Option<OffsetDateTime>,
    String,
    Option<f64>,
    Option<Uuid>,
);

const REVIEW_SELECT: &str = "SELECT r.id, r.claim_id, r.author, r.state, r.scale_id, r.rating, r.summary, r.evidence_ids, \
     r.corrects, r.revision, r.created_at, r.updated_at, r.published_at, g.label, g.value, \
     (SELECT c.id FROM reviews c WHERE c.corrects = r.id AND c.published_at IS NOT NULL ORDER BY c.id LIMIT 1) \
     FROM reviews r JOIN ratings g ON g.scale_id = r.scale_id AND g.key = r.rating";

/// An event row with its review's id.
type ClaimEventRow = (
    Uuid,
    Option<String>,
    String,
    String,
    Option<String>,
    bool,
    OffsetDateTime,
);

type EventRow = (
    Option<String>,
    String,
    String,
    Option<String>,
    bool,
    OffsetDateTime,
);

fn state(s: &str) -> Result<State> {
    State::parse(s).ok_or_else(|| sqlx::Error::Protocol(format!("unknown review state {s:?}")))
}

fn review_from_row(r: ReviewRow, events: Vec<EventRow>) -> Result<Review> {
    let history = events
        .into_iter()
        .map(|(from, to, actor, note, second_person_rule, at)| {
            Ok(ReviewEvent {
                from: from.as_deref().map(state).transpose()?,
                to: state(&to)?,
                actor,
                note,
                second_person_rule,
                at,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Review {
        id: r.0,
        claim_id: r.1,
        author: r.2,
        state: state(&r.3)?,
        scale: r.4,
        rating: Rating {
            key: r.5,
            label: r.13,
            value: r.14,
        },
        summary: r.6,
        evidence: r.7.0,
        corrects: r.8,
        superseded_by: r.15,
        revision: r.9,
        created_at: r.10,
        updated_at: r.11,
        published_at: r.12,
        history,
    })
}

impl Store {
    pub async fn list_scales(&self) -> Result<Vec<RatingScale>> {
        let scales: Vec<(String, String, f64, f64)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT id, name, best_rating, worst_rating FROM rating_scales ORDER BY created_at, id",
        )
        .fetch_all(pool)
        .await?);
        let ratings: Vec<(String, String, String, Option<f64>)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT scale_id, key, label, value FROM ratings ORDER BY scale_id, position",
        )
        .fetch_all(pool)
        .await?);
        Ok(scales
            .into_iter()
            .map(|(id, name, best_rating, worst_rating)| RatingScale {
                ratings: ratings
                    .iter()
                    .filter(|r| r.0 == id)
                    .map(|r| Rating {
                        key: r.1.clone(),
                        label: r.2.clone(),
                        value: r.3,
                    })
                    .collect(),
                id,
                name,
                best_rating,
                worst_rating,
            })
            .collect())
    }

    pub async fn insert_scale(&self, actor: &str, scale: &RatingScale) -> Result<()> {
        let at = now();
        in_write_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO rating_scales (id, name, best_rating, worst_rating, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&scale.id)
            .bind(&scale.name)
            .bind(scale.best_rating)
            .bind(scale.worst_rating)
            .bind(actor)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            for (position, r) in scale.ratings.iter().enumerate() {
                sqlx::query("INSERT INTO ratings (scale_id, key, label, value, position) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&scale.id)
                    .bind(&r.key)
                    .bind(&r.label)
                    .bind(r.value)
                    .bind(position as i32 + 1)
                    .execute(&mut *tx)
                    .await?;
            }
            let changes = serde_json::json!({"name": scale.name, "ratings": scale.ratings});
            append_audit!(tx, actor, Event::new("create", "rating_scale", &scale.id, changes));
        });
        Ok(())
    }

    pub async fn insert_review(
        &self,
        actor: &str,
        new: &NewReview,
        second_person_rule: bool,
    ) -> Result<Uuid> {
        let id = crate::domain::new_id();
        let at = now();
        in_write_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO reviews (id, claim_id, author, state, scale_id, rating, summary, evidence_ids, corrects, revision, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, 1, $9, $9)",
            )
            .bind(id)
            .bind(new.claim_id)
            .bind(actor)
            .bind(&new.scale)
            .bind(&new.rating)
            .bind(&new.summary)
            .bind(Json(&new.evidence))
            .bind(new.corrects)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO review_events (id, review_id, from_state, to_state, actor, note, second_person_rule, at) \
                 VALUES ($1, $2, NULL, 'draft', $3, NULL, $4, $5)",
            )
            .bind(crate::domain::new_id())
            .bind(id)
            .bind(actor)
            .bind(second_person_rule)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let changes = serde_json::json!({
                "claim_id": new.claim_id, "scale": new.scale, "rating": new.rating, "summary": new.summary,
                "evidence": new.evidence, "corrects": new.corrects, "state": "draft", "revision": 1,
            });
            append_audit!(tx, actor, Event::new("create", "review", id, changes));
        });
        Ok(id)
    }

    /// A review without its history (`history` is empty): enough to check a write.
    pub async fn get_review_head(&self, id: Uuid) -> Result<Option<Review>> {
        let sql = format!("{REVIEW_SELECT} WHERE r.id = $1");
        let row: Option<ReviewRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?);
        row.map(|r| review_from_row(r, Vec::new())).transpose()
    }

    pub async fn get_review(&self, id: Uuid) -> Result<Option<Review>> {
        let sql = format!("{REVIEW_SELECT} WHERE r.id = $1");
        let row: Option<ReviewRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?);
        let Some(row) = row else { return Ok(None) };
        let events: Vec<EventRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT from_state, to_state, actor, note, second_person_rule, at FROM review_events WHERE review_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(pool)
        .await?);
        review_from_row(row, events).map(Some)
    }

    /// Every review of a claim, oldest first, each with its history (two queries in all).
    pub async fn claim_reviews(&self, claim_id: Uuid) -> Result<Vec<Review>> {
        let sql = format!("{REVIEW_SELECT} WHERE r.claim_id = $1 ORDER BY r.id");
        let rows: Vec<ReviewRow> = on_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(claim_id).fetch_all(pool).await?);
        let events: Vec<ClaimEventRow> = on_pool!(self, pool => sqlx::query_as(
            "SELECT e.review_id, e.from_state, e.to_state, e.actor, e.note, e.second_person_rule, e.at \
             FROM review_events e JOIN reviews r ON r.id = e.review_id WHERE r.claim_id = $1 ORDER BY e.id",
        )
        .bind(claim_id)
        .fetch_all(pool)
        .await?);
        let mut by_review: std::collections::HashMap<Uuid, Vec<EventRow>> =
            std::collections::HashMap::new();
        for (review, from, to, actor, note, rule, at) in events {
            by_review
                .entry(review)
                .or_default()
                .push((from, to, actor, note, rule, at));
        }
        rows.into_iter()
            .map(|row| {
                let events = by_review.remove(&row.0).unwrap_or_default();
                review_from_row(row, events)
            })
            .collect()
    }

    /// Ids of a claim's evidence; `None` when the claim does not exist.
    pub async fn claim_evidence_ids(&self, claim_id: Uuid) -> Result<Option<Vec<Uuid>>> {
        if !self.claim_exists(claim_id).await? {
            return Ok(None);
        }
        let ids = on_pool!(self, pool => sqlx::query_scalar("SELECT id FROM evidence WHERE claim_id = $1 ORDER BY id")
            .bind(claim_id)
            .fetch_all(pool)
            .await?);
        Ok(Some(ids))
    }

    /// Changes an editable review's content if `revision` is still current. `false` when not.
    pub async fn edit_review(
        &self,
        actor: &str,
        id: Uuid,
        revision: i64,
        content: &ReviewContent,
    ) -> Result<bool> {
        let ReviewContent {
            scale,
            rating,
            summary,
            evidence,
        } = content;
        let at = now();
        in_write_tx!(self, tx => {
            let changed = sqlx::query(
                "UPDATE reviews SET scale_id = $3, rating = $4, summary = $5, evidence_ids = $6, revision = revision + 1, updated_at = $7 \
                 WHERE id = $1 AND revision = $2 AND state IN ('draft', 'changes_requested')",
            )
            .bind(id)
            .bind(revision)
            .bind(scale)
            .bind(rating)
            .bind(summary)
            .bind(Json(evidence))
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                let changes = serde_json::json!({
                    "scale": scale, "rating": rating, "summary": summary, "evidence": evidence, "revision": revision + 1,
                });
                append_audit!(tx, actor, Event::new("edit", "review", id, changes));
            }
            Ok(changed == 1)
        })
    }

    /// Makes a workflow step if the review is still at `step.revision` and `step.from`, with its
    /// history event, audit entry and (for a correction) the superseding of the old verdict, all
    /// in one transaction. `false` when the revision is stale.
    pub async fn transition_review(&self, actor: &str, step: &Step<'_>) -> Result<Transitioned> {
        let at = now();
        in_write_tx!(self, tx => {
            if step.to == State::Published {
                // Checked inside the serialized write, so two reviews cannot both become the
                // claim's verdict; the one a correction replaces does not count.
                let rival: Option<Uuid> = sqlx::query_scalar(
                    "SELECT r.id FROM reviews r WHERE r.claim_id = (SELECT claim_id FROM reviews WHERE id = $1) \
                     AND r.state = 'published' AND r.id <> $1 AND ($2 IS NULL OR r.id <> $2) ORDER BY r.id LIMIT 1",
                )
                .bind(step.review_id)
                .bind(step.supersedes)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(rival) = rival {
                    return Ok(Transitioned::VerdictExists(rival));
                }
            }
            let changed = sqlx::query(
                "UPDATE reviews SET state = $4, revision = revision + 1, updated_at = $5, \
                 published_at = CASE WHEN $4 = 'published' THEN $5 ELSE published_at END \
                 WHERE id = $1 AND revision = $2 AND state = $3",
            )
            .bind(step.review_id)
            .bind(step.revision)
            .bind(step.from.as_str())
            .bind(step.to.as_str())
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                let mut moves = vec![(step.review_id, step.from, step.to, step.note.map(str::to_owned), step.revision + 1)];
                if let Some(old) = step.supersedes {
                    let revision: Option<i64> = sqlx::query_scalar(
                        "UPDATE reviews SET state = 'superseded', revision = revision + 1, updated_at = $2 \
                         WHERE id = $1 AND state = 'published' RETURNING revision",
                    )
                    .bind(old)
                    .bind(at)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(revision) = revision {
                        let note = format!("superseded by correction {}", step.review_id);
                        moves.push((old, State::Published, State::Superseded, Some(note), revision));
                    }
                }
                for (review, from, to, note, revision) in moves {
                    sqlx::query(
                        "INSERT INTO review_events (id, review_id, from_state, to_state, actor, note, second_person_rule, at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(crate::domain::new_id())
                    .bind(review)
                    .bind(from.as_str())
                    .bind(to.as_str())
                    .bind(actor)
                    .bind(&note)
                    .bind(step.second_person_rule)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                    let changes = serde_json::json!({
                        "from": from.as_str(), "to": to.as_str(), "note": note, "revision": revision,
                        "second_person_rule": step.second_person_rule,
                    });
                    append_audit!(tx, actor, Event::new("transition", "review", review, changes));
                }
            }
            Ok(if changed == 1 { Transitioned::Done } else { Transitioned::Stale })
        })
    }
}

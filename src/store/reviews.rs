//! Reviews, their history and rating scales.

use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::provenance::CLAIM_EXISTS;
use super::{LockWrites, Result, Store, direct, now};
use crate::domain::audit::Event;
use crate::domain::review::{Rating, RatingScale, Review, ReviewEvent, State};

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
pub struct Step {
    pub review_id: Uuid,
    /// The revision the client saw; the write happens only if it is still current.
    pub revision: i64,
    pub from: State,
    pub to: State,
    pub note: Option<String>,
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

const SCALES: &str =
    "SELECT id, name, best_rating, worst_rating FROM rating_scales ORDER BY created_at, id";

const RATINGS: &str = "SELECT scale_id, key, label, value FROM ratings ORDER BY scale_id, position";

const REVIEW_EVENTS: &str = "SELECT from_state, to_state, actor, note, second_person_rule, at FROM review_events \
     WHERE review_id = $1 ORDER BY id";

const CLAIM_EVIDENCE: &str = "SELECT id FROM evidence WHERE claim_id = $1 ORDER BY id";

/// The columns of a [`ReviewRow`], for `concat!`.
macro_rules! review_select {
    () => {
        "SELECT r.id, r.claim_id, r.author, r.state, r.scale_id, r.rating, r.summary, r.evidence_ids, \
     r.corrects, r.revision, r.created_at, r.updated_at, r.published_at, g.label, g.value, \
     (SELECT c.id FROM reviews c WHERE c.corrects = r.id AND c.published_at IS NOT NULL ORDER BY c.id LIMIT 1) \
     FROM reviews r JOIN ratings g ON g.scale_id = r.scale_id AND g.key = r.rating"
    };
}

const REVIEW_BY_ID: &str = concat!(review_select!(), " WHERE r.id = $1");

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
        type ScaleRow = (String, String, f64, f64);
        type RatingRow = (String, String, String, Option<f64>);
        let (scales, ratings): (Vec<ScaleRow>, Vec<RatingRow>) = match self {
            Store::Sqlite(_, lite) => {
                lite.read(|c| Ok((direct::all(c, SCALES, &[])?, direct::all(c, RATINGS, &[])?)))?
            }
            Store::Postgres(pool) => (
                sqlx::query_as(SCALES).fetch_all(pool).await?,
                sqlx::query_as(RATINGS).fetch_all(pool).await?,
            ),
        };
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
        let event_id = crate::domain::new_id();
        let at = now();
        let changes = serde_json::json!({
            "claim_id": new.claim_id, "scale": new.scale, "rating": new.rating, "summary": new.summary,
            "evidence": new.evidence, "corrects": new.corrects, "state": "draft", "revision": 1,
        });
        let event = Event::new("create", "review", id, changes);
        let draft = State::Draft.as_str();
        match self {
            Store::Sqlite(_, lite) => {
                let (at, evidence) = (
                    direct::time_text(at),
                    serde_json::to_string(&new.evidence)
                        .map_err(|e| sqlx::Error::Encode(e.into()))?,
                );
                let (actor, new) = (actor.to_owned(), new.clone());
                lite.write(move |c| {
                    direct::execute(
                        c,
                        INSERT_REVIEW,
                        &[
                            &id,
                            &new.claim_id,
                            &actor,
                            &new.scale,
                            &new.rating,
                            &new.summary,
                            &evidence,
                            &new.corrects,
                            &at,
                        ],
                    )?;
                    direct::execute(
                        c,
                        INSERT_EVENT,
                        &[
                            &event_id,
                            &id,
                            &None::<&str>,
                            &draft,
                            &actor,
                            &None::<&str>,
                            &second_person_rule,
                            &at,
                        ],
                    )?;
                    direct::append_audit(c, &actor, event)
                })
                .await?;
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(INSERT_REVIEW)
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
                sqlx::query(INSERT_EVENT)
                    .bind(event_id)
                    .bind(id)
                    .bind(None::<&str>)
                    .bind(draft)
                    .bind(actor)
                    .bind(None::<&str>)
                    .bind(second_person_rule)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                // Rows first, then the lock (see `LockWrites`).
                tx.lock_writes().await?;
                append_audit!(tx, actor, event);
                tx.commit().await?;
            }
        }
        Ok(id)
    }

    /// A review without its history (`history` is empty): enough to check a write.
    pub async fn get_review_head(&self, id: Uuid) -> Result<Option<Review>> {
        let row: Option<ReviewRow> = match self {
            Store::Sqlite(_, lite) => lite.read(|c| direct::first(c, REVIEW_BY_ID, &[&id]))?,
            Store::Postgres(pool) => {
                sqlx::query_as(REVIEW_BY_ID)
                    .bind(id)
                    .fetch_optional(pool)
                    .await?
            }
        };
        row.map(|r| review_from_row(r, Vec::new())).transpose()
    }

    pub async fn get_review(&self, id: Uuid) -> Result<Option<Review>> {
        let (row, events): (Option<ReviewRow>, Vec<EventRow>) = match self {
            Store::Sqlite(_, lite) => lite.read(|c| {
                let Some(row) = direct::first(c, REVIEW_BY_ID, &[&id])? else {
                    return Ok((None, Vec::new()));
                };
                let events = direct::all(c, REVIEW_EVENTS, &[&id])?;
                Ok((Some(row), events))
            })?,
            Store::Postgres(pool) => {
                let row = sqlx::query_as(REVIEW_BY_ID)
                    .bind(id)
                    .fetch_optional(pool)
                    .await?;
                if row.is_none() {
                    return Ok(None);
                }
                (
                    row,
                    sqlx::query_as(REVIEW_EVENTS)
                        .bind(id)
                        .fetch_all(pool)
                        .await?,
                )
            }
        };
        row.map(|row| review_from_row(row, events)).transpose()
    }

    /// Every review of a claim, oldest first, each with its history (two queries in all).
    pub async fn claim_reviews(&self, claim_id: Uuid) -> Result<Vec<Review>> {
        const SQL: &str = concat!(review_select!(), " WHERE r.claim_id = $1 ORDER BY r.id");
        let rows: Vec<ReviewRow> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(claim_id).fetch_all(pool).await?);
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
        match self {
            Store::Sqlite(_, lite) => lite.read(|c| {
                if direct::scalar::<Uuid>(c, CLAIM_EXISTS, &[&claim_id])?.is_none() {
                    return Ok(None);
                }
                direct::scalars(c, CLAIM_EVIDENCE, &[&claim_id]).map(Some)
            }),
            Store::Postgres(pool) => {
                if sqlx::query(CLAIM_EXISTS)
                    .bind(claim_id)
                    .fetch_optional(pool)
                    .await?
                    .is_none()
                {
                    return Ok(None);
                }
                Ok(Some(
                    sqlx::query_scalar(CLAIM_EVIDENCE)
                        .bind(claim_id)
                        .fetch_all(pool)
                        .await?,
                ))
            }
        }
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
        in_write_tx!(self, tx, lock_later => {
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
                tx.lock_writes().await?;
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
    /// in one transaction.
    pub async fn transition_review(&self, actor: &str, step: &Step) -> Result<Transitioned> {
        let at = now();
        match self {
            Store::Sqlite(_, lite) => {
                let at = direct::time_text(at);
                let (actor, step) = (actor.to_owned(), step.clone());
                lite.write(move |c| {
                    // Staleness first, then the rival verdict, as on PostgreSQL (where the
                    // update comes first), so both backends refuse the same step the same way.
                    let current: Option<(i64, String)> =
                        direct::first(c, REVISION_AND_STATE, &[&step.review_id])?;
                    if current != Some((step.revision, step.from.as_str().to_owned())) {
                        return Ok(Transitioned::Stale);
                    }
                    if step.to == State::Published
                        && let Some(rival) =
                            direct::scalar(c, RIVAL_VERDICT, &[&step.review_id, &step.supersedes])?
                    {
                        return Ok(Transitioned::VerdictExists(rival));
                    }
                    let changed = direct::execute(
                        c,
                        SET_STATE,
                        &[
                            &step.review_id,
                            &step.revision,
                            &step.from.as_str(),
                            &step.to.as_str(),
                            &at,
                        ],
                    )?;
                    if changed != 1 {
                        return Ok(Transitioned::Stale);
                    }
                    let mut moves = vec![Move::of(&step)];
                    if let Some(old) = step.supersedes
                        && let Some(revision) = direct::scalar(c, SUPERSEDE, &[&old, &at])?
                    {
                        moves.push(Move::superseded(old, step.review_id, revision));
                    }
                    for m in moves {
                        let (from, to) = (m.from.as_str(), m.to.as_str());
                        direct::execute(
                            c,
                            INSERT_EVENT,
                            &[
                                &crate::domain::new_id(),
                                &m.review,
                                &from,
                                &to,
                                &actor,
                                &m.note,
                                &step.second_person_rule,
                                &at,
                            ],
                        )?;
                        direct::append_audit(c, &actor, m.event(step.second_person_rule))?;
                    }
                    Ok(Transitioned::Done)
                })
                .await
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let changed = sqlx::query(SET_STATE)
                    .bind(step.review_id)
                    .bind(step.revision)
                    .bind(step.from.as_str())
                    .bind(step.to.as_str())
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if changed != 1 {
                    return Ok(Transitioned::Stale);
                }
                let mut moves = vec![Move::of(step)];
                if let Some(old) = step.supersedes {
                    let revision: Option<i64> = sqlx::query_scalar(SUPERSEDE)
                        .bind(old)
                        .bind(at)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(revision) = revision {
                        moves.push(Move::superseded(old, step.review_id, revision));
                    }
                }
                for m in &moves {
                    sqlx::query(INSERT_EVENT)
                        .bind(crate::domain::new_id())
                        .bind(m.review)
                        .bind(m.from.as_str())
                        .bind(m.to.as_str())
                        .bind(actor)
                        .bind(&m.note)
                        .bind(step.second_person_rule)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
                // Rows first, then the lock (see `LockWrites`): what follows depends on other
                // writers, whose commits this now waits for.
                tx.lock_writes().await?;
                if step.to == State::Published {
                    // Two reviews cannot both become the claim's verdict; the one a correction
                    // replaces does not count.
                    let rival: Option<Uuid> = sqlx::query_scalar(RIVAL_VERDICT)
                        .bind(step.review_id)
                        .bind(step.supersedes)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(rival) = rival {
                        return Ok(Transitioned::VerdictExists(rival));
                    }
                }
                for m in moves {
                    append_audit!(tx, actor, m.event(step.second_person_rule));
                }
                tx.commit().await?;
                Ok(Transitioned::Done)
            }
        }
    }
}

const INSERT_REVIEW: &str = "INSERT INTO reviews (id, claim_id, author, state, scale_id, rating, summary, evidence_ids, corrects, revision, created_at, updated_at) \
     VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, 1, $9, $9)";

const INSERT_EVENT: &str = "INSERT INTO review_events (id, review_id, from_state, to_state, actor, note, second_person_rule, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Another review of the same claim that is its published verdict (`$2`: the one a correction
/// replaces, which does not count).
const RIVAL_VERDICT: &str = "SELECT r.id FROM reviews r WHERE r.claim_id = (SELECT claim_id FROM reviews WHERE id = $1) \
     AND r.state = 'published' AND r.id <> $1 AND ($2 IS NULL OR r.id <> $2) ORDER BY r.id LIMIT 1";

const REVISION_AND_STATE: &str = "SELECT revision, state FROM reviews WHERE id = $1";

/// Moves a review from `$3` to `$4` if it is still at revision `$2`.
const SET_STATE: &str = "UPDATE reviews SET state = $4, revision = revision + 1, updated_at = $5, \
     published_at = CASE WHEN $4 = 'published' THEN $5 ELSE published_at END \
     WHERE id = $1 AND revision = $2 AND state = $3";

const SUPERSEDE: &str = "UPDATE reviews SET state = 'superseded', revision = revision + 1, updated_at = $2 \
     WHERE id = $1 AND state = 'published' RETURNING revision";

/// One review's move in a workflow step: the step itself, or the verdict a correction supersedes.
struct Move {
    review: Uuid,
    from: State,
    to: State,
    note: Option<String>,
    /// The review's revision after the move.
    revision: i64,
}

impl Move {
    fn of(step: &Step) -> Move {
        Move {
            review: step.review_id,
            from: step.from,
            to: step.to,
            note: step.note.clone(),
            revision: step.revision + 1,
        }
    }

    fn superseded(old: Uuid, by: Uuid, revision: i64) -> Move {
        Move {
            review: old,
            from: State::Published,
            to: State::Superseded,
            note: Some(format!("superseded by correction {by}")),
            revision,
        }
    }

    fn event(&self, second_person_rule: bool) -> Event {
        let changes = serde_json::json!({
            "from": self.from.as_str(), "to": self.to.as_str(), "note": self.note,
            "revision": self.revision, "second_person_rule": second_person_rule,
        });
        Event::new("transition", "review", self.review, changes)
    }
}

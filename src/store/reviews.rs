//! Reviews, their history and rating scales.

use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Result, Store, now};
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

//! Reviews, their history and rating scales.

use time::OffsetDateTime;

use super::exec::{Cols, FromRow, Json, Tx, stmt};
use super::{Result, StoreError};
use crate::domain::filters::ReviewFilter;
use crate::domain::ids::{ClaimId, EvidenceId, ReviewId};
use crate::domain::review::{Rating, RatingScale, Review, ReviewEvent, State};

mod sql {
    /// The columns of a [`super::Review`], for `concat!`. A review has at most one published
    /// correction (publishing needs the corrected verdict still published), so its
    /// `superseded_by` needs no `ORDER BY`: with one, SQLite built a sorter for every row.
    macro_rules! review_columns {
        () => {
            "r.id, r.claim_id, r.author, r.state, r.scale_id, r.rating, g.label, g.value, r.summary, \
             r.evidence_ids, r.corrects, \
             (SELECT c.id FROM reviews c WHERE c.corrects = r.id AND c.published_at IS NOT NULL LIMIT 1), \
             r.revision, r.created_at, r.updated_at, r.published_at, r.published_url"
        };
    }
    /// The columns of an event of a review's history.
    macro_rules! event_columns {
        () => {
            "e.from_state, e.to_state, e.actor, e.note, e.second_person_rule, e.at"
        };
    }
    /// A review row with one event's columns (a `LEFT JOIN review_events e` follows).
    macro_rules! review_select {
        () => {
            concat!(
                "SELECT ",
                review_columns!(),
                ", ",
                event_columns!(),
                " FROM reviews r JOIN ratings g ON g.scale_id = r.scale_id AND g.key = r.rating"
            )
        };
    }

    pub const SCALES: &str =
        "SELECT id, name, best_rating, worst_rating FROM rating_scales ORDER BY created_at, id";
    pub const RATINGS: &str =
        "SELECT scale_id, key, label, value FROM ratings ORDER BY scale_id, position";
    pub const INSERT_SCALE: &str = "INSERT INTO rating_scales (id, name, best_rating, worst_rating, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub const INSERT_RATING: &str =
        "INSERT INTO ratings (scale_id, key, label, value, position) VALUES ($1, $2, $3, $4, $5)";
    /// A review without its history (the event columns are NULL).
    pub const REVIEW_BY_ID: &str = concat!(
        review_select!(),
        " LEFT JOIN review_events e ON 1 = 0 WHERE r.id = $1"
    );
    /// A review with its history in one statement: a row per event.
    pub const REVIEW_WITH_EVENTS: &str = concat!(
        review_select!(),
        " LEFT JOIN review_events e ON e.review_id = r.id WHERE r.id = $1 ORDER BY e.id"
    );
    /// The queue: `r.id > $1` seeks to the cursor; the filters are optional.
    macro_rules! review_filters {
        () => {
            " AND ($2 IS NULL OR $2 LIKE '%,' || r.state || ',%') \
             AND ($3 IS NULL OR r.author = $3) AND ($4 IS NULL OR r.claim_id = $4) \
             AND ($5 IS NULL OR r.updated_at >= $5)"
        };
    }
    pub const LIST_REVIEWS: &str = concat!(
        review_select!(),
        " LEFT JOIN review_events e ON 1 = 0 WHERE r.id > $1",
        review_filters!(),
        " ORDER BY r.id LIMIT $6"
    );
    /// Newest first: `r.id < $1`.
    pub const LIST_REVIEWS_DESC: &str = concat!(
        review_select!(),
        " LEFT JOIN review_events e ON 1 = 0 WHERE r.id < $1",
        review_filters!(),
        " ORDER BY r.id DESC LIMIT $6"
    );
    /// A claim's reviews without their histories, in order (from `reviews_claim_newest`)...
    pub const CLAIM_REVIEWS: &str = concat!(
        "SELECT ",
        review_columns!(),
        " FROM reviews r JOIN ratings g ON g.scale_id = r.scale_id AND g.key = r.rating \
         WHERE r.claim_id = $1 ORDER BY r.id"
    );
    /// ...and their events, in the same order (from `review_events_order`): two statements, so
    /// that a review's columns and its `superseded_by` are read once, not once per event.
    /// (`IN`, not a join: SQLite cannot tell that a claim's review ids are distinct in
    /// `reviews_claim_newest`, and sorted each review's events again.)
    pub const CLAIM_REVIEW_EVENTS: &str = concat!(
        "SELECT e.review_id, ",
        event_columns!(),
        " FROM review_events e \
         WHERE e.review_id IN (SELECT r.id FROM reviews r WHERE r.claim_id = $1) \
         ORDER BY e.review_id, e.id"
    );
    /// The claim's current review: the published one, else the newest not ended. Written
    /// only when it changes: most steps keep it, and an unchanged row is not locked, so that
    /// concurrent steps of one claim's reviews do not queue on its row (PostgreSQL).
    pub const REFRESH_CURRENT: &str = "UPDATE claims SET review_id = current.id FROM (SELECT COALESCE( \
           (SELECT r2.id FROM reviews r2 WHERE r2.claim_id = $1 AND r2.state = 'published' LIMIT 1), \
           (SELECT r3.id FROM reviews r3 WHERE r3.claim_id = $1 \
            AND r3.state NOT IN ('superseded', 'retracted', 'withdrawn') ORDER BY r3.id DESC LIMIT 1)) AS id) current \
         WHERE claims.id = $1 AND claims.review_id IS DISTINCT FROM current.id";
    pub const INSERT_REVIEW: &str = "INSERT INTO reviews (id, claim_id, author, state, scale_id, rating, summary, evidence_ids, corrects, revision, created_at, updated_at) \
         VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, 1, $9, $9)";
    pub const INSERT_EVENT: &str = "INSERT INTO review_events (id, review_id, from_state, to_state, actor, note, second_person_rule, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    /// Changes an editable review if it is still at revision `$2`.
    pub const SET_CONTENT: &str = "UPDATE reviews SET scale_id = $3, rating = $4, summary = $5, evidence_ids = $6, \
         revision = revision + 1, updated_at = $7 \
         WHERE id = $1 AND revision = $2 AND state IN ('draft', 'changes_requested')";
    /// Moves a review from `$3` to `$4` if it is still at revision `$2`.
    pub const SET_STATE: &str = "UPDATE reviews SET state = $4, revision = revision + 1, updated_at = $5, \
         published_at = CASE WHEN $4 = 'published' THEN $5 ELSE published_at END \
         WHERE id = $1 AND revision = $2 AND state = $3";
    pub const SUPERSEDE: &str = "UPDATE reviews SET state = 'superseded', revision = revision + 1, updated_at = $2 \
         WHERE id = $1 AND state = 'published' RETURNING revision";
    /// Sets where a published (or superseded) review is published, if still at revision `$2`.
    pub const SET_PUBLISHED_URL: &str = "UPDATE reviews SET published_url = $3, published_url_key = $4, \
         revision = revision + 1, updated_at = $5 \
         WHERE id = $1 AND revision = $2 AND state IN ('published', 'superseded')";
    /// Where a review being published is published (the step itself counts the revision).
    pub const PUBLISH_AT: &str =
        "UPDATE reviews SET published_url = $2, published_url_key = $3 WHERE id = $1";
    /// Reviews published at a page, by the page's lookup form.
    pub const BY_PUBLISHED_URL: &str =
        "SELECT id FROM reviews WHERE published_url_key = $1 ORDER BY id";
    /// No `ORDER BY id` (the caller sorts): with it, SQLite walks `reviews_claim_newest`
    /// through every review of the claim to skip the sort of the one or two published ones,
    /// instead of seeking `reviews_claim_state` to them (issue 17: a transition then cost a scan
    /// of the claim's whole history).
    pub const PUBLISHED_OF_CLAIM: &str =
        "SELECT id FROM reviews WHERE claim_id = $1 AND state = 'published'";
}

fn state(s: &str) -> Result<State> {
    State::parse(s).ok_or_else(|| StoreError::other(format!("unknown review state {s:?}")))
}

/// A review row, with one event of its history when joined with them.
struct ReviewRow {
    review: Review,
    event: Option<ReviewEvent>,
}

impl FromRow for ReviewRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(ReviewRow {
            review: review_columns(c)?,
            event: event_columns(c)?,
        })
    }
}

/// One event of a review's history, with the review it belongs to.
struct EventRow {
    review: ReviewId,
    event: ReviewEvent,
}

impl FromRow for EventRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let review = c.get()?;
        let event = event_columns(c)?
            .ok_or_else(|| StoreError::other("a review event without its state"))?;
        Ok(EventRow { review, event })
    }
}

/// The columns of `event_columns!`: none when a `LEFT JOIN` found no event.
fn event_columns(c: &mut Cols<'_, '_>) -> Result<Option<ReviewEvent>> {
    let from: Option<String> = c.get()?;
    let Some(to) = c.get::<Option<String>>()? else {
        return Ok(None);
    };
    Ok(Some(ReviewEvent {
        from: from.as_deref().map(state).transpose()?,
        to: state(&to)?,
        actor: c.get()?,
        note: c.get()?,
        second_person_rule: c.get()?,
        at: c.get()?,
    }))
}

impl FromRow for Review {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        review_columns(c)
    }
}

/// Folds rows of reviews joined with their events (ordered by review) into reviews.
fn with_history(rows: Vec<ReviewRow>) -> Vec<Review> {
    let mut reviews: Vec<Review> = Vec::new();
    for row in rows {
        match reviews.last_mut() {
            Some(last) if last.id == row.review.id => last.history.extend(row.event),
            _ => {
                let mut review = row.review;
                review.history.extend(row.event);
                reviews.push(review);
            }
        }
    }
    reviews
}

fn review_columns(c: &mut Cols<'_, '_>) -> Result<Review> {
    Ok(Review {
        id: c.get()?,
        claim_id: c.get()?,
        author: c.get()?,
        state: state(&c.get::<String>()?)?,
        scale: c.get()?,
        rating: Rating {
            key: c.get()?,
            label: c.get()?,
            value: c.get()?,
        },
        summary: c.get()?,
        evidence: c.get::<Json<Vec<EvidenceId>>>()?.0,
        corrects: c.get()?,
        superseded_by: c.get()?,
        revision: c.get()?,
        created_at: c.get()?,
        updated_at: c.get()?,
        published_at: c.get()?,
        published_url: c.get()?,
        history: Vec::new(),
        allowed_transitions: None,
        warnings: None,
    })
}

struct ScaleRow {
    id: String,
    name: String,
    best_rating: f64,
    worst_rating: f64,
}

impl FromRow for ScaleRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(ScaleRow {
            id: c.get()?,
            name: c.get()?,
            best_rating: c.get()?,
            worst_rating: c.get()?,
        })
    }
}

struct RatingRow {
    scale_id: String,
    rating: Rating,
}

impl FromRow for RatingRow {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(RatingRow {
            scale_id: c.get()?,
            rating: Rating {
                key: c.get()?,
                label: c.get()?,
                value: c.get()?,
            },
        })
    }
}

pub async fn list_scales(tx: &mut Tx) -> Result<Vec<RatingScale>> {
    let scales: Vec<ScaleRow> = tx.fetch_all(stmt!(sql::SCALES)).await?;
    let ratings: Vec<RatingRow> = tx.fetch_all(stmt!(sql::RATINGS)).await?;
    Ok(scales
        .into_iter()
        .map(|s| RatingScale {
            ratings: ratings
                .iter()
                .filter(|r| r.scale_id == s.id)
                .map(|r| r.rating.clone())
                .collect(),
            id: s.id,
            name: s.name,
            best_rating: s.best_rating,
            worst_rating: s.worst_rating,
        })
        .collect())
}

/// Writes a scale; [`super::Constraint::ScaleId`] when its id is taken.
pub async fn insert_scale(
    tx: &mut Tx,
    scale: &RatingScale,
    created_by: &str,
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_SCALE,
        &scale.id,
        &scale.name,
        scale.best_rating,
        scale.worst_rating,
        created_by,
        at
    ))
    .await?;
    for (position, r) in scale.ratings.iter().enumerate() {
        tx.execute(stmt!(
            sql::INSERT_RATING,
            &scale.id,
            &r.key,
            &r.label,
            r.value,
            position as i64 + 1
        ))
        .await?;
    }
    Ok(())
}

/// A review with its history, or only its head (`history` empty) when that is enough; one
/// statement either way.
pub async fn get_review(tx: &mut Tx, id: ReviewId, history: bool) -> Result<Option<Review>> {
    let sql = if history {
        sql::REVIEW_WITH_EVENTS
    } else {
        sql::REVIEW_BY_ID
    };
    let rows: Vec<ReviewRow> = tx.fetch_all(stmt!(sql, id)).await?;
    Ok(with_history(rows).pop())
}

/// Every review of a claim, oldest first, each with its history. Both statements read in
/// review order, so the events are handed out in one pass.
pub async fn claim_reviews(tx: &mut Tx, claim_id: ClaimId) -> Result<Vec<Review>> {
    let mut reviews: Vec<Review> = tx.fetch_all(stmt!(sql::CLAIM_REVIEWS, claim_id)).await?;
    if reviews.is_empty() {
        return Ok(reviews);
    }
    let events: Vec<EventRow> = tx
        .fetch_all(stmt!(sql::CLAIM_REVIEW_EVENTS, claim_id))
        .await?;
    let mut open = reviews.iter_mut();
    let mut review = open.next();
    for row in events {
        while review.as_ref().is_some_and(|r| r.id != row.review) {
            review = open.next();
        }
        match review.as_mut() {
            Some(r) => r.history.push(row.event),
            None => return Err(StoreError::other("review events out of the reviews' order")),
        }
    }
    Ok(reviews)
}

/// Writes a new review as a draft (at revision 1).
pub async fn insert_review(tx: &mut Tx, r: &Review) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_REVIEW,
        r.id,
        r.claim_id,
        &r.author,
        &r.scale,
        &r.rating.key,
        &r.summary,
        Json(&r.evidence),
        r.corrects,
        r.created_at
    ))
    .await
    .map(drop)
}

/// Sets the claim's current review after a review of it was written. Call it before
/// `Tx::lock_writes`: when the current review changes, it locks the claim's row.
pub async fn refresh_current(tx: &mut Tx, claim_id: ClaimId) -> Result<()> {
    tx.execute(stmt!(sql::REFRESH_CURRENT, claim_id))
        .await
        .map(drop)
}

/// Appends a step to a review's history.
pub async fn insert_event(tx: &mut Tx, review_id: ReviewId, e: &ReviewEvent) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_EVENT,
        crate::domain::new_id(),
        review_id,
        e.from.map(State::as_str),
        e.to.as_str(),
        &e.actor,
        e.note.as_deref(),
        e.second_person_rule,
        e.at
    ))
    .await
    .map(drop)
}

/// What an edit of a review may change.
pub struct Content<'a> {
    pub scale: &'a str,
    pub rating: &'a str,
    pub summary: &'a str,
    pub evidence: &'a [EvidenceId],
}

/// Changes an editable review if it is still at `revision`; whether it did.
pub async fn set_content(
    tx: &mut Tx,
    id: ReviewId,
    revision: i64,
    c: &Content<'_>,
    at: OffsetDateTime,
) -> Result<bool> {
    let changed = tx
        .execute(stmt!(
            sql::SET_CONTENT,
            id,
            revision,
            c.scale,
            c.rating,
            c.summary,
            Json(c.evidence),
            at
        ))
        .await?;
    Ok(changed == 1)
}

/// Moves a review from `from` to `to` if it is still at `revision` and `from`; whether it did.
pub async fn set_state(
    tx: &mut Tx,
    id: ReviewId,
    revision: i64,
    from: State,
    to: State,
    at: OffsetDateTime,
) -> Result<bool> {
    let changed = tx
        .execute(stmt!(
            sql::SET_STATE,
            id,
            revision,
            from.as_str(),
            to.as_str(),
            at
        ))
        .await?;
    Ok(changed == 1)
}

/// Marks a published review superseded; its new revision, or `None` if it was not published.
pub async fn supersede(tx: &mut Tx, id: ReviewId, at: OffsetDateTime) -> Result<Option<i64>> {
    tx.scalar(stmt!(sql::SUPERSEDE, id, at)).await
}

/// The claim's published reviews.
pub async fn published_of_claim(tx: &mut Tx, claim_id: ClaimId) -> Result<Vec<ReviewId>> {
    let rows: Vec<(ReviewId,)> = tx
        .fetch_all(stmt!(sql::PUBLISHED_OF_CLAIM, claim_id))
        .await?;
    let mut ids: Vec<ReviewId> = rows.into_iter().map(|(id,)| id).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Sets (or clears) the page that publishes a review, if `revision` is current and the review
/// is published; false otherwise.
pub async fn set_published_url(
    tx: &mut Tx,
    id: ReviewId,
    revision: i64,
    url: Option<(&str, &str)>,
    at: OffsetDateTime,
) -> Result<bool> {
    let (url, key) = (url.map(|u| u.0), url.map(|u| u.1));
    Ok(tx
        .execute(stmt!(sql::SET_PUBLISHED_URL, id, revision, url, key, at))
        .await?
        == 1)
}

/// Reviews whose published page has this lookup form.
pub async fn by_published_url(tx: &mut Tx, key: &str) -> Result<Vec<ReviewId>> {
    let rows: Vec<(ReviewId,)> = tx.fetch_all(stmt!(sql::BY_PUBLISHED_URL, key)).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Records the page a review is being published at, within its publishing step.
pub async fn publish_at(tx: &mut Tx, id: ReviewId, url: &str, key: &str) -> Result<()> {
    tx.execute(stmt!(sql::PUBLISH_AT, id, url, key)).await?;
    Ok(())
}

pub async fn list_reviews(
    tx: &mut Tx,
    filter: &ReviewFilter,
    after: Option<uuid::Uuid>,
    limit: u32,
    order: crate::domain::Order,
) -> Result<Vec<Review>> {
    let sql = if order.is_desc() {
        sql::LIST_REVIEWS_DESC
    } else {
        sql::LIST_REVIEWS
    };
    let rows: Vec<ReviewRow> = tx
        .fetch_all(stmt!(
            sql,
            after.unwrap_or(order.start()),
            crate::domain::review::states_param(&filter.states),
            filter.author.clone(),
            filter.claim_id,
            filter.updated_since,
            i64::from(limit)
        ))
        .await?;
    Ok(with_history(rows))
}

/// Plans of the statements every review write runs (issue 17), on a claim with many reviews:
/// asserted on the plan and the rows written, never on time (`scripts/bench.sh` times them).
#[cfg(test)]
mod plans {
    use rusqlite::Connection;

    use super::sql;
    use crate::store::SQLITE_MIGRATIONS;

    const CLAIM: [u8; 16] = [1; 16];

    /// A claim with 2,000 reviews in review, its current review the newest.
    fn claim_with_reviews() -> Connection {
        let mut conn = Connection::open_in_memory().expect("memory");
        crate::store::sqlite::stable_plans(&conn).expect("stable plans");
        for (_, migration) in SQLITE_MIGRATIONS {
            conn.execute_batch(migration).expect("migration");
        }
        let tx = conn.transaction().expect("begin");
        tx.execute(
            "INSERT INTO claims (id, text, created_at) VALUES (?1, 'A claim.', '2026-01-01T00:00:00Z')",
            [CLAIM.as_slice()],
        )
        .expect("claim");
        let mut newest = [0u8; 16];
        for i in 0..2_000u32 {
            let mut id = [0u8; 16];
            id[12..].copy_from_slice(&i.to_be_bytes());
            tx.execute(
                "INSERT INTO reviews (id, claim_id, author, state, scale_id, rating, summary, revision, \
                 created_at, updated_at) VALUES (?1, ?2, 'a', 'in_review', 'default', 'unproven', 's', 1, \
                 '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                [id.as_slice(), CLAIM.as_slice()],
            )
            .expect("review");
            newest = id;
        }
        tx.execute(
            "UPDATE claims SET review_id = ?1 WHERE id = ?2",
            [newest.as_slice(), CLAIM.as_slice()],
        )
        .expect("current");
        tx.commit().expect("commit");
        conn
    }

    fn plan(conn: &Connection, statement: &str) -> String {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {statement}"))
            .expect("explain");
        stmt.raw_bind_parameter(1, CLAIM.as_slice()).expect("bind");
        let mut rows = stmt.raw_query();
        let mut plan = Vec::new();
        while let Some(row) = rows.next().expect("row") {
            plan.push(row.get::<_, String>(3).expect("detail"));
        }
        plan.join("; ")
    }

    /// The published verdicts are sought by claim and state, not found by walking every review
    /// of the claim in id order (which made each write cost a scan of the claim's history).
    #[test]
    fn published_verdicts_are_sought_by_claim_and_state() {
        let conn = claim_with_reviews();
        let plan = plan(&conn, sql::PUBLISHED_OF_CLAIM);
        assert!(
            plan.contains("reviews_claim_state (claim_id=? AND state=?)"),
            "{plan}"
        );
    }

    /// A claim's reviews and their events come in review order from the indexes, without a
    /// sort per read (issue 17: the claim view sorted its reviews' events on every read).
    #[test]
    fn a_claims_reviews_and_their_events_come_in_order_without_a_sort() {
        let conn = claim_with_reviews();
        let reviews = plan(&conn, sql::CLAIM_REVIEWS);
        assert!(
            reviews.contains("reviews_claim_newest (claim_id=?)"),
            "{reviews}"
        );
        let events = plan(&conn, sql::CLAIM_REVIEW_EVENTS);
        assert!(
            events.contains("review_events_order (review_id=?)"),
            "{events}"
        );
        let one = plan(&conn, sql::REVIEW_WITH_EVENTS);
        assert!(one.contains("review_events_order (review_id=?)"), "{one}");
        for plan in [reviews, events, one] {
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }

    /// An unchanged current review writes (and so locks) nothing.
    #[test]
    fn an_unchanged_current_review_is_not_written() {
        let conn = claim_with_reviews();
        let written = conn
            .execute(sql::REFRESH_CURRENT, [CLAIM.as_slice()])
            .expect("refresh");
        assert_eq!(written, 0);
        conn.execute(
            "UPDATE reviews SET state = 'withdrawn' WHERE id = (SELECT review_id FROM claims)",
            [],
        )
        .expect("withdraw");
        let written = conn
            .execute(sql::REFRESH_CURRENT, [CLAIM.as_slice()])
            .expect("refresh");
        assert_eq!(written, 1, "the newest live review becomes current");
    }
}

//! Reviews, their workflow and rating scales.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;
use crate::domain::changes;
use crate::domain::public::{
    EvidenceView, PublicEvidence, PublicReview, PublicVerdict, ReviewView,
};
use crate::store::reviews as db;

/// A new review, before validation.
#[derive(Debug, Clone, Default)]
pub struct ReviewInput {
    pub scale: Option<String>,
    pub rating: String,
    pub summary: String,
    pub evidence: Vec<EvidenceId>,
    pub corrects: Option<ReviewId>,
}

/// Changes to an editable review; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ReviewPatch {
    pub scale: Option<String>,
    pub rating: Option<String>,
    pub summary: Option<String>,
    pub evidence: Option<Vec<EvidenceId>>,
}

impl App {
    pub async fn list_scales(&self, actor: &Actor) -> Result<Vec<RatingScale>> {
        require(actor, Permission::ReadPublished, "read rating scales")?;
        self.load_scales().await
    }

    async fn load_scales(&self) -> Result<Vec<RatingScale>> {
        Ok(self.store.fetch(|tx| Box::pin(db::list_scales(tx))).await?)
    }

    /// Adds a rating scale; `best`/`worst` come from its numeric values.
    pub async fn create_scale(
        &self,
        actor: &Actor,
        id: &str,
        name: &str,
        ratings: Vec<Rating>,
    ) -> Result<RatingScale> {
        require(actor, Permission::ManageScales, "manage rating scales")?;
        let mut v = Validator::new();
        let is_slug = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        if !is_slug(id) {
            v.error("id", "must be 1 to 64 of a-z, 0-9, `_` and `-`");
        }
        let name = v.check("name", validate::short_text(name));
        let mut cleaned = Vec::new();
        for (i, r) in ratings.iter().enumerate() {
            if !is_slug(&r.key) {
                v.error(
                    format!("ratings/{i}/key"),
                    "must be 1 to 64 of a-z, 0-9, `_` and `-`",
                );
            } else if ratings[..i].iter().any(|o| o.key == r.key) {
                v.error(
                    format!("ratings/{i}/key"),
                    format!("{:?} is listed twice", r.key),
                );
            }
            let label = v.check(
                &format!("ratings/{i}/label"),
                validate::short_text(&r.label),
            );
            if r.value.is_some_and(|x| !x.is_finite()) {
                v.error(
                    format!("ratings/{i}/value"),
                    "must be a finite number or null",
                );
            }
            cleaned.push(Rating {
                key: r.key.clone(),
                label: label.unwrap_or_default(),
                value: r.value,
            });
        }
        let numeric: Vec<f64> = cleaned
            .iter()
            .filter_map(|r| r.value)
            .filter(|x| x.is_finite())
            .collect();
        if numeric.len() < 2 {
            v.error(
                "ratings",
                "needs at least two ratings with numeric values (for bestRating and worstRating)",
            );
        }
        let scale = v
            .finish(|| RatingScale {
                id: id.to_owned(),
                name: name.unwrap_or_default(),
                best_rating: numeric.iter().copied().fold(f64::MIN, f64::max),
                worst_rating: numeric.iter().copied().fold(f64::MAX, f64::min),
                ratings: cleaned,
            })
            .map_err(AppError::Validation)?;
        let (name, written) = (actor.who(), scale.clone());
        let at = store::now();
        let stored = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    db::insert_scale(tx, &written, &name.person, at).await?;
                    store::audit::append(tx, &name, events::scale_created(&written)).await
                })
            })
            .await;
        match stored {
            Ok(()) => Ok(scale),
            Err(StoreError::Conflict(Constraint::ScaleId)) => {
                Err(AppError::ScaleExists { id: scale.id })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A rating scale by id. Scales never change once created, so each API node keeps the ones
    /// it has read; an id it does not know sends it to the database again (another node may
    /// have created it).
    pub(super) async fn scale(&self, id: &str) -> Result<Option<RatingScale>> {
        if let Some(scale) = self
            .scales
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            return Ok(Some(scale.clone()));
        }
        let scales = self.load_scales().await?;
        let found = scales.iter().find(|s| s.id == id).cloned();
        let mut known = self.scales.write().unwrap_or_else(|e| e.into_inner());
        known.extend(scales.into_iter().map(|s| (s.id.clone(), s)));
        Ok(found)
    }

    /// Checks a rating against its scale and evidence against the claim; the rating, when
    /// it is in its scale.
    async fn check_review_content(
        &self,
        v: &mut Validator,
        claim_evidence: &[EvidenceId],
        scale: &str,
        rating: &str,
        evidence: &[EvidenceId],
    ) -> Result<Option<Rating>> {
        let found = self.scale(scale).await?;
        let checked = found.as_ref().and_then(|s| s.rating(rating)).cloned();
        match &found {
            None => v.error("scale", format!("no rating scale has id {scale:?}")),
            Some(s) if checked.is_none() => {
                let keys: Vec<&str> = s.ratings.iter().map(|r| r.key.as_str()).collect();
                v.error(
                    "rating",
                    format!(
                        "{rating:?} is not in scale {:?}; use one of {}",
                        s.id,
                        keys.join(", ")
                    ),
                );
            }
            Some(_) => {}
        }
        for (i, id) in evidence.iter().enumerate() {
            if !claim_evidence.contains(id) {
                v.error(
                    format!("evidence/{i}"),
                    format!("{id} is not evidence of this claim, or was withdrawn"),
                );
            } else if evidence[..i].contains(id) {
                v.error(format!("evidence/{i}"), format!("{id} is listed twice"));
            }
        }
        Ok(checked)
    }

    /// Creates a draft review (a correction when `corrects` names the published verdict).
    pub async fn create_review(
        &self,
        actor: &Actor,
        claim_id: ClaimId,
        input: ReviewInput,
    ) -> Result<Review> {
        require(actor, Permission::DraftReviews, "write reviews")?;
        // The claim's published verdicts come with its evidence (one read): the draft's
        // warnings are decided on them.
        let (claim_evidence, published) = self
            .store
            .fetch(|tx| {
                Box::pin(async move {
                    let ids = store::claims::claim_evidence_ids(tx, claim_id, true).await?;
                    let published = match ids {
                        Some(_) => db::published_of_claim(tx, claim_id).await?,
                        None => Vec::new(),
                    };
                    Ok::<_, AppError>((ids, published))
                })
            })
            .await?;
        let claim_evidence = claim_evidence.ok_or_else(|| not_found("claim", claim_id))?;
        let mut v = Validator::new();
        let scale = input.scale.unwrap_or_else(|| "default".to_owned());
        let summary = v.check("summary", validate::note_text(&input.summary));
        let rating = self
            .check_review_content(
                &mut v,
                &claim_evidence,
                &scale,
                &input.rating,
                &input.evidence,
            )
            .await?;
        let corrected = match input.corrects {
            Some(old) => self.review_head(old).await?,
            None => None,
        };
        if let Some(old) = input.corrects
            && !corrected.is_some_and(|r| r.claim_id == claim_id && r.state == State::Published)
        {
            v.error(
                "corrects",
                format!("{old} is not the published verdict of this claim"),
            );
        }
        let (summary, rating) = v
            .finish(|| (summary.unwrap_or_default(), rating))
            .map_err(AppError::Validation)?;
        let rating =
            rating.ok_or_else(|| AppError::Internal("a checked rating vanished".into()))?;
        let at = store::now();
        let draft = Review {
            id: ReviewId::new(),
            claim_id,
            author: actor.person.clone(),
            state: State::Draft,
            scale,
            rating,
            summary,
            evidence: input.evidence,
            corrects: input.corrects,
            superseded_by: None,
            revision: 1,
            created_at: at,
            updated_at: at,
            published_at: None,
            published_url: None,
            allowed_transitions: None,
            warnings: None,
            history: vec![review::ReviewEvent {
                from: None,
                to: State::Draft,
                actor: actor.person.clone(),
                note: None,
                second_person_rule: self.second_person_rule,
                at,
            }],
        };
        let (written, who) = (draft.clone(), actor.who());
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let r = &written;
                    // The corrected verdict may have changed since it was checked above.
                    if let Some(old) = r.corrects
                        && !db::get_review(tx, old, false).await?.is_some_and(|c| {
                            c.claim_id == r.claim_id && c.state == State::Published
                        })
                    {
                        return Err(AppError::field(
                            "corrects",
                            format!("{old} is not the published verdict of this claim"),
                        ));
                    }
                    db::insert_review(tx, r).await?;
                    db::insert_event(tx, r.id, &r.history[0]).await?;
                    db::refresh_current(tx, r.claim_id).await?;
                    let content = events::ReviewContent {
                        scale: &r.scale,
                        rating: &r.rating.key,
                        summary: &r.summary,
                        evidence: &r.evidence,
                    };
                    let event = events::review_created(r.id, r.claim_id, &content, r.corrects);
                    store::audit::append(tx, &who, event).await?;
                    Ok(())
                })
            })
            .await?;
        let mut draft = draft;
        draft.warnings = Some(review::warnings(&draft, &published));
        Ok(draft)
    }

    /// Ids of the evidence a review of the claim may rest on (not withdrawn); not found when
    /// the claim does not exist.
    async fn claim_evidence_ids(&self, claim_id: ClaimId) -> Result<Vec<EvidenceId>> {
        self.store
            .fetch(|tx| Box::pin(store::claims::claim_evidence_ids(tx, claim_id, true)))
            .await?
            .ok_or_else(|| not_found("claim", claim_id))
    }

    /// A review without its history: enough to check a write.
    async fn review_head(&self, id: ReviewId) -> Result<Option<Review>> {
        Ok(self
            .store
            .fetch(|tx| Box::pin(db::get_review(tx, id, false)))
            .await?)
    }

    pub(super) async fn load_review(&self, id: ReviewId) -> Result<Review> {
        self.store
            .read(|tx| Box::pin(db::get_review(tx, id, true)))
            .await?
            .ok_or_else(|| not_found("review", id))
    }

    /// A review; roles that read only published verdicts see only those.
    pub async fn get_review(&self, actor: &Actor, id: ReviewId) -> Result<Review> {
        self.visible_review(actor, id, true).await
    }

    /// A review with the steps the actor may take now (`allowed_transitions`).
    pub async fn review_for(&self, actor: &Actor, id: ReviewId) -> Result<Review> {
        let mut review = self.get_review(actor, id).await?;
        review.allowed_transitions = Some(review::allowed_steps(
            review.state,
            &review.author,
            actor,
            self.second_person_rule,
        ));
        if actor.may(Permission::ReadEditorial) {
            self.with_warnings(&mut review).await?;
        }
        Ok(review)
    }

    /// Adds what will stop the review later (`warnings`).
    pub(super) async fn with_warnings(&self, review: &mut Review) -> Result<()> {
        let claim_id = review.claim_id;
        let published = self
            .store
            .read(move |tx| Box::pin(db::published_of_claim(tx, claim_id)))
            .await?;
        review.warnings = Some(review::warnings(review, &published));
        Ok(())
    }

    /// The review queue: reviews in id order after the cursor, filtered by state, author,
    /// claim and last change (without their history).
    pub async fn list_reviews(
        &self,
        actor: &Actor,
        filter: ReviewFilter,
        order: crate::domain::Order,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<review::QueueItem>> {
        require(actor, Permission::ReadEditorial, "list reviews")?;
        let (after, limit) = page_args(cursor, limit)?;
        let items = self
            .store
            .read(move |tx| {
                Box::pin(async move {
                    let reviews = db::list_reviews(tx, &filter, after, limit, order).await?;
                    // Each claim once, in the same snapshot as its reviews.
                    let mut claims: std::collections::HashMap<ClaimId, domain::Claim> =
                        std::collections::HashMap::new();
                    for r in &reviews {
                        if !claims.contains_key(&r.claim_id)
                            && let Some(c) = store::claims::get_claim(tx, r.claim_id).await?
                        {
                            claims.insert(r.claim_id, c);
                        }
                    }
                    Ok::<_, AppError>((reviews, claims))
                })
            })
            .await?;
        let (reviews, claims) = items;
        let page = page(reviews, limit, |r| r.id);
        Ok(Page {
            next_cursor: page.next_cursor,
            items: page
                .items
                .into_iter()
                .map(|review| {
                    let claim = claims.get(&review.claim_id);
                    review::QueueItem {
                        claim_text: claim.map(|c| c.text.clone()).unwrap_or_default(),
                        claimant: claim.and_then(|c| c.claimant.clone()),
                        review,
                    }
                })
                .collect(),
        })
    }

    /// Every review of a claim, oldest first, with its history (one page).
    pub async fn claim_reviews(&self, actor: &Actor, claim_id: ClaimId) -> Result<Page<Review>> {
        require(actor, Permission::ReadEditorial, "list reviews")?;
        let found = self
            .store
            .read(|tx| {
                Box::pin(async move {
                    if store::claims::get_claim(tx, claim_id).await?.is_none() {
                        return Ok(None);
                    }
                    Ok::<_, AppError>(Some(db::claim_reviews(tx, claim_id).await?))
                })
            })
            .await?;
        let items = found.ok_or_else(|| not_found("claim", claim_id))?;
        Ok(Page {
            items,
            next_cursor: None,
        })
    }

    /// A review the actor may see (roles that read only published verdicts see only those),
    /// with its history or not.
    async fn visible_review(&self, actor: &Actor, id: ReviewId, history: bool) -> Result<Review> {
        require(actor, Permission::ReadPublished, "read reviews")?;
        let review = if history {
            self.load_review(id).await?
        } else {
            self.review_head(id)
                .await?
                .ok_or_else(|| not_found("review", id))?
        };
        if !actor.may(Permission::ReadRecords) && review.state != State::Published {
            return Err(not_found("review", id));
        }
        Ok(review)
    }

    /// A review as the caller's role may see it: whole for editorial roles, its public view
    /// for integrations.
    /// A verdict that was corrected or retracted stays visible to integrations as a stub.
    pub async fn review_view(&self, actor: &Actor, id: ReviewId) -> Result<ReviewView> {
        if actor.may(Permission::ReadEditorial) {
            return Ok(ReviewView::Review(self.review_for(actor, id).await?));
        }
        require(actor, Permission::ReadPublished, "read reviews")?;
        let review = self.load_review(id).await?;
        match review.state {
            State::Published => Ok(ReviewView::PublicReview(
                self.public_review(actor, id).await?,
            )),
            _ => PublicVerdict::of(&review)
                .map(ReviewView::PublicVerdict)
                .ok_or_else(|| not_found("review", id)),
        }
    }

    /// The evidence a review rests on, with passages and sources: what a CMS shows beside a
    /// published verdict. Visible to whoever may see the review; integrations get the public
    /// view (without the desk's notes).
    pub async fn review_evidence(&self, actor: &Actor, id: ReviewId) -> Result<EvidenceView> {
        let review = self.visible_review(actor, id, false).await?;
        let claim_id = review.claim_id;
        let (_, evidence) = self
            .store
            .read(|tx| Box::pin(store::claims::claim_passages(tx, claim_id)))
            .await?;
        let evidence = evidence
            .into_iter()
            .filter(|e| review.evidence.contains(&e.id));
        Ok(if actor.may(Permission::ReadEditorial) {
            EvidenceView::Evidence(evidence.collect())
        } else {
            EvidenceView::PublicEvidence(evidence.map(PublicEvidence::from).collect())
        })
    }

    /// A review in its public view, with its claim: what an integration is shown.
    async fn public_review(&self, actor: &Actor, id: ReviewId) -> Result<PublicReview> {
        let review = self.visible_review(actor, id, false).await?;
        let claim_id = review.claim_id;
        let claim = self
            .store
            .fetch(|tx| Box::pin(store::claims::get_claim(tx, claim_id)))
            .await?
            .ok_or_else(|| not_found("claim", claim_id))?;
        Ok(PublicReview::new(review, claim))
    }

    pub(super) fn fresh(review: Review, revision: Option<i64>) -> Result<Review> {
        match revision {
            None => Err(AppError::RevisionRequired),
            Some(r) if r != review.revision => Err(AppError::Stale {
                current: Box::new(review),
            }),
            Some(_) => Ok(review),
        }
    }

    /// Changes an editable review, if `revision` is the current one.
    pub async fn edit_review(
        &self,
        actor: &Actor,
        id: ReviewId,
        revision: Option<i64>,
        patch: ReviewPatch,
    ) -> Result<Review> {
        require(actor, Permission::DraftReviews, "write reviews")?;
        let review = Self::fresh(self.load_review(id).await?, revision)?;
        if !review.state.is_editable() {
            return Err(AppError::NotEditable(review.state));
        }
        let claim_evidence = self.claim_evidence_ids(review.claim_id).await?;
        let mut v = Validator::new();
        let scale = patch.scale.unwrap_or(review.scale.clone());
        let rating = patch.rating.unwrap_or(review.rating.key.clone());
        let evidence = patch.evidence.unwrap_or(review.evidence.clone());
        let summary = match &patch.summary {
            Some(s) => v.check("summary", validate::note_text(s)),
            None => Some(review.summary.clone()),
        };
        self.check_review_content(&mut v, &claim_evidence, &scale, &rating, &evidence)
            .await?;
        let summary = v
            .finish(|| summary.unwrap_or_default())
            .map_err(AppError::Validation)?;
        let (name, revision) = (actor.who(), review.revision);
        let at = store::now();
        let edited = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let content = db::Content {
                        scale: &scale,
                        rating: &rating,
                        summary: &summary,
                        evidence: &evidence,
                    };
                    if !db::set_content(tx, id, revision, &content, at).await? {
                        return Ok(false);
                    }
                    let content = events::ReviewContent {
                        scale: &scale,
                        rating: &rating,
                        summary: &summary,
                        evidence: &evidence,
                    };
                    let event = events::review_edited(id, &content, revision + 1);
                    store::audit::append(tx, &name, event).await?;
                    Ok::<_, AppError>(true)
                })
            })
            .await?;
        if !edited {
            return Err(AppError::Stale {
                current: Box::new(self.load_review(id).await?),
            });
        }
        self.load_review(id).await
    }

    /// Moves a review through its workflow, if `revision` is the current one (of many
    /// concurrent attempts from the same revision, exactly one succeeds), publishing at
    /// `published_url` (the newsroom's page) when the step publishes.
    pub async fn transition_review(
        &self,
        actor: &Actor,
        id: ReviewId,
        to: State,
        note: Option<&str>,
        revision: Option<i64>,
        published_url: Option<&str>,
    ) -> Result<Review> {
        let published_url = match published_url {
            None => None,
            Some(_) if to != State::Published => {
                return Err(AppError::field(
                    "published_url",
                    "is set when publishing (`to: published`) or later with PUT /v1/reviews/{id}/published-url",
                ));
            }
            Some(u) => Some(published_page(u, &self.url_rule)?),
        };
        require(
            actor,
            Permission::DraftReviews,
            "move reviews through the workflow",
        )?;
        // No snapshot needed: the guarded write below refuses as stale if a step landed since.
        // The claim's published verdicts come with it (one read): the answer's warnings are
        // decided on them (a step that publishes, or ends the review, has none).
        let (review, published) = self
            .store
            .fetch(|tx| {
                Box::pin(async move {
                    let Some(review) = db::get_review(tx, id, true).await? else {
                        return Ok::<_, AppError>(None);
                    };
                    let published = db::published_of_claim(tx, review.claim_id).await?;
                    Ok(Some((review, published)))
                })
            })
            .await?
            .ok_or_else(|| not_found("review", id))?;
        let review = Self::fresh(review, revision)?;
        // A blank note is no note (refused below where a step needs one).
        let note = match note.filter(|n| !n.trim().is_empty()) {
            None => None,
            Some(n) => Some(validate::note_text(n).map_err(|m| AppError::field("note", m))?),
        };
        let note = note.as_deref();
        review::check(
            review.state,
            to,
            &review.author,
            actor,
            note,
            self.second_person_rule,
        )
        .map_err(|refusal| match refusal {
            review::Refusal::Forbidden => AppError::Forbidden {
                role: actor.role,
                action: "make this workflow step",
            },
            other => AppError::Transition(other),
        })?;
        let at = store::now();
        let step = review::ReviewEvent {
            from: Some(review.state),
            to,
            actor: actor.person.clone(),
            note: note.map(str::to_owned),
            second_person_rule: self.second_person_rule,
            at,
        };
        // Publishing a correction supersedes the verdict it corrects.
        let supersedes = review.corrects.filter(|_| to == State::Published);
        let announce = changes::for_transition(to, review.corrects);
        let page = published_url.clone();
        let (claim_id, from_revision, written) = (review.claim_id, review.revision, step.clone());
        let from_state = review.state;
        let who = actor.who();
        let moved = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let step = &written;
                    if !db::set_state(tx, id, from_revision, review.state, to, at).await? {
                        return Ok(None);
                    }
                    db::insert_event(tx, id, step).await?;
                    let mut moves =
                        vec![(id, review.state, to, step.note.clone(), from_revision + 1)];
                    if let Some(old) = supersedes
                        && let Some(revision) = db::supersede(tx, old, at).await?
                    {
                        let superseded =
                            review::superseded(&step.actor, id, at, step.second_person_rule);
                        db::insert_event(tx, old, &superseded).await?;
                        moves.push((
                            old,
                            State::Published,
                            State::Superseded,
                            superseded.note,
                            revision,
                        ));
                    }
                    // Row locks first: the claim's row, before the write lock below. A step
                    // between two live states keeps the claim's current review as it is.
                    if !(is_live(from_state) && is_live(to)) {
                        db::refresh_current(tx, claim_id).await?;
                    }
                    if to == State::Published {
                        // What follows decides on other writers' verdicts: wait for them.
                        tx.lock_writes().await?;
                        let published = db::published_of_claim(tx, claim_id).await?;
                        if let Some(rival) = review::rival_verdict(&published, id, supersedes) {
                            return Err(AppError::VerdictExists { id: rival });
                        }
                    }
                    for (review_id, from, to, note, revision) in moves {
                        let event = events::review_moved(
                            review_id,
                            from,
                            to,
                            note.as_deref(),
                            revision,
                            step.second_person_rule,
                        );
                        store::audit::append(tx, &who, event).await?;
                    }
                    if let Some((url, key)) = &page {
                        db::publish_at(tx, id, url, key).await?;
                        let event = events::published_url_set(id, Some(url), from_revision + 1);
                        store::audit::append(tx, &who, event).await?;
                    }
                    if let Some(kind) = announce {
                        let data = changes::review_data(kind, id, supersedes);
                        let affected = changes::Affected::default()
                            .with_urls(store::cms::claim_urls(tx, claim_id).await?)
                            .with_reviews(std::iter::once(id).chain(supersedes));
                        store::cms::announce(tx, kind, id.uuid(), data, affected, at).await?;
                    }
                    Ok(Some(()))
                })
            })
            .await?;
        if moved.is_none() {
            return Err(AppError::Stale {
                current: Box::new(self.load_review(id).await?),
            });
        }
        // The write changed exactly what it checked (its revision matched): the result is
        // the review read before, moved.
        let mut review = review;
        review.state = to;
        review.revision += 1;
        review.updated_at = at;
        if to == State::Published {
            review.published_at = Some(at);
            if let Some((url, _)) = published_url {
                review.published_url = Some(url);
            }
        }
        review.history.push(step);
        review.warnings = Some(review::warnings(&review, &published));
        Ok(review)
    }
}

/// Whether a review in `state` can be its claim's current review without being published
/// (the newest such is, when none is published). A step from one live state to another cannot
/// change which review is current, so it leaves `claims.review_id` alone.
fn is_live(state: State) -> bool {
    matches!(
        state,
        State::Draft | State::InReview | State::ChangesRequested | State::Approved
    )
}

/// A newsroom page's URL as given (checked) and in lookup form.
pub(super) fn published_page(
    url: &str,
    rule: &crate::domain::urls::UrlRule,
) -> Result<(String, String)> {
    let given = validate::web_url(url).map_err(|m| AppError::field("published_url", m))?;
    let key = crate::domain::urls::lookup_form(&given, rule)
        .map_err(|m| AppError::field("published_url", m))?;
    Ok((given, key))
}

//! Claims, where they appeared and the evidence for and against them.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::search;
use super::*;
use crate::store::claims as db;

impl App {
    /// A claim whose claimant (if any) is a person: [`App::create_claim_by`].
    pub async fn create_claim(
        &self,
        actor: &Actor,
        text: &str,
        claimant: Option<&str>,
        appearances: &[PassageId],
    ) -> Result<ClaimView> {
        self.create_claim_by(
            actor,
            text,
            claimant,
            domain::ClaimantKind::Person,
            appearances,
        )
        .await
    }

    /// Records a claim, who made it and what kind of agent they are, and the passages it
    /// appeared in.
    pub async fn create_claim_by(
        &self,
        actor: &Actor,
        text: &str,
        claimant: Option<&str>,
        claimant_kind: domain::ClaimantKind,
        appearances: &[PassageId],
    ) -> Result<ClaimView> {
        require(actor, Permission::WriteRecords, "create claims")?;
        let mut v = Validator::new();
        let text = v.check(
            "text",
            BodyText::parse(text).map(|t| t.as_str().trim().to_owned()),
        );
        let claimant = optional(&mut v, "claimant", claimant, ShortText::parse);
        for (i, id) in appearances.iter().enumerate() {
            if appearances[..i].contains(id) {
                v.error(
                    format!("appearances/{i}"),
                    format!("passage {id} is listed twice"),
                );
            }
        }
        let claim = v
            .finish(|| domain::Claim {
                id: ClaimId::new(),
                text: text.unwrap_or_default(),
                claimant: claimant.map(ShortText::into_inner),
                claimant_kind,
                created_at: store::now(),
            })
            .map_err(AppError::Validation)?;
        let id = claim.id;
        // Read before the write: the new claim is not among them. A claim written at the same
        // moment may be missed; the warning is advice, never a refusal. The twin is found by
        // its indexed text key; the similar claims are ranked only when there is one.
        let text = claim.text.clone();
        let same = self
            .store
            .fetch(move |tx| {
                Box::pin(async move { store::search::same_text_claim(tx, &text).await })
            })
            .await?;
        let duplicate = match same {
            Some(same) => {
                let close = self.close_claims(&claim.text).await?;
                Some(crate::domain::search::duplicate_claim_warning(&same, close))
            }
            None => None,
        };
        let (actor, appearances) = (actor.clone(), appearances.to_vec());
        let name = actor.who();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let missing = store::passages::missing_passages(tx, &appearances).await?;
                    if !missing.is_empty() {
                        return Err(AppError::UnknownPassages {
                            field: "appearances",
                            ids: missing,
                        });
                    }
                    db::insert_claim(tx, &claim, &appearances).await?;
                    let event = events::claim_created(
                        claim.id,
                        &claim.text,
                        claim.claimant.as_deref(),
                        claim.claimant_kind,
                        &appearances,
                    );
                    store::audit::append(tx, &name, event).await?;
                    Ok(())
                })
            })
            .await?;
        let mut view = self.get_claim(&actor, id).await?;
        view.warnings = Some(duplicate.into_iter().collect());
        Ok(view)
    }

    /// A claim with its appearances, evidence, reviews and current verdict, read in one
    /// snapshot.
    pub async fn get_claim(&self, actor: &Actor, id: ClaimId) -> Result<ClaimView> {
        require(actor, Permission::ReadRecords, "read claims")?;
        self.load_claim(id).await
    }

    pub(super) async fn load_claim(&self, id: ClaimId) -> Result<ClaimView> {
        self.store
            .read(|tx| {
                Box::pin(async move {
                    let Some(claim) = db::get_claim(tx, id).await? else {
                        return Err(not_found("claim", id));
                    };
                    let (appearances, evidence) = db::claim_passages(tx, id).await?;
                    let reviews = store::reviews::claim_reviews(tx, id).await?;
                    let verdict = reviews
                        .iter()
                        .rev()
                        .find(|r| r.state == State::Published)
                        .cloned();
                    let attention = store::placements::claim_attention(tx, id).await?;
                    let verdict_needs_recheck = verdict.is_some()
                        && attention
                            .iter()
                            .any(|a| a.role == domain::PassageRole::Evidence);
                    Ok(ClaimView {
                        claim,
                        appearances,
                        evidence,
                        verdict,
                        reviews,
                        attention,
                        verdict_needs_recheck,
                        warnings: None,
                    })
                })
            })
            .await
    }

    /// Claims in creation order, or with `q` ranked by relevance; with the list's filters.
    pub async fn list_claims(
        &self,
        actor: &Actor,
        filter: ClaimFilter,
        q: Option<&str>,
        order: domain::Order,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<domain::ClaimItem>> {
        require(actor, Permission::ReadRecords, "read claims")?;
        if let Some(q) = q {
            ranked_only(order)?;
            let query = search::parse_query("q", q)?;
            return self.search_claims(query, filter, cursor, limit).await;
        }
        let (after, limit) = page_args(cursor, limit)?;
        let items = self
            .store
            .fetch(move |tx| {
                Box::pin(async move { db::list_claims(tx, &filter, after, limit, order).await })
            })
            .await?;
        Ok(page(items, limit, |c| c.claim.id))
    }

    pub async fn add_evidence(
        &self,
        actor: &Actor,
        claim_id: ClaimId,
        passage_id: PassageId,
        stance: Stance,
        note: Option<&str>,
    ) -> Result<Evidence> {
        require(actor, Permission::WriteRecords, "add evidence")?;
        let note = note
            .map(|n| ShortText::parse(n).map_err(|m| AppError::field("note", m)))
            .transpose()?
            .map(ShortText::into_inner);
        let id = EvidenceId::new();
        let at = store::now();
        let name = actor.who();
        let written = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    claim_and_passage_exist(tx, claim_id, passage_id).await?;
                    let appeared = db::is_appearance(tx, claim_id, passage_id).await?;
                    db::insert_evidence(tx, id, claim_id, passage_id, stance, note.as_deref(), at)
                        .await?;
                    let event =
                        events::evidence_added(id, claim_id, passage_id, stance, note.as_deref());
                    store::audit::append(tx, &name, event).await?;
                    let mut evidence =
                        db::get_evidence(tx, claim_id, id).await?.ok_or_else(|| {
                            AppError::Internal(format!("evidence {id} vanished as it was written"))
                        })?;
                    evidence.warnings = Some(
                        domain::RecordWarning::self_support(claim_id, stance, appeared)
                            .into_iter()
                            .collect(),
                    );
                    Ok(evidence)
                })
            })
            .await;
        match written {
            Ok(evidence) => Ok(evidence),
            Err(AppError::Store(StoreError::Conflict(Constraint::EvidencePassage))) => {
                let existing = self
                    .store
                    .fetch(|tx| Box::pin(db::evidence_id_for(tx, claim_id, passage_id)))
                    .await?;
                Err(match existing {
                    Some(id) => AppError::EvidenceExists { id },
                    None => AppError::Internal("evidence conflicts yet is absent".into()),
                })
            }
            Err(e) => Err(e),
        }
    }
}

/// Refuses a write about a claim and a passage unless both exist (in the write's snapshot).
async fn claim_and_passage_exist(
    tx: &mut store::Tx,
    claim_id: ClaimId,
    passage_id: PassageId,
) -> Result<()> {
    if db::get_claim(tx, claim_id).await?.is_none() {
        return Err(not_found("claim", claim_id));
    }
    if !store::passages::missing_passages(tx, &[passage_id])
        .await?
        .is_empty()
    {
        return Err(AppError::UnknownPassages {
            field: "passage_id",
            ids: vec![passage_id],
        });
    }
    Ok(())
}

/// Changes to a claim; absent fields stay as they are (`claimant: Some(None)` removes it,
/// `claimant_kind: Some(None)` sets the default, `person`).
#[derive(Debug, Clone, Default)]
pub struct ClaimPatch {
    pub text: Option<String>,
    pub claimant: Option<Option<String>>,
    pub claimant_kind: Option<Option<domain::ClaimantKind>>,
}

impl App {
    /// Corrects a claim's text or claimant; audited with the values before and after. A
    /// patch that changes nothing writes nothing.
    pub async fn update_claim(
        &self,
        actor: &Actor,
        id: ClaimId,
        patch: ClaimPatch,
    ) -> Result<ClaimView> {
        require(actor, Permission::WriteRecords, "edit claims")?;
        let mut v = Validator::new();
        let text = patch.text.as_deref().and_then(|t| {
            v.check(
                "text",
                BodyText::parse(t).map(|t| t.as_str().trim().to_owned()),
            )
        });
        let claimant = match &patch.claimant {
            Some(Some(c)) => v
                .check("claimant", ShortText::parse(c))
                .map(|c| Some(c.into_inner())),
            Some(None) => Some(None),
            None => None,
        };
        v.finish(|| ()).map_err(AppError::Validation)?;
        let claimant_kind = patch.claimant_kind;
        let who = actor.who();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let Some(before) = db::get_claim(tx, id).await? else {
                        return Err(not_found("claim", id));
                    };
                    let mut after = before.clone();
                    if let Some(text) = text {
                        after.text = text;
                    }
                    if let Some(claimant) = claimant {
                        after.claimant = claimant;
                    }
                    if let Some(kind) = claimant_kind {
                        after.claimant_kind = kind.unwrap_or_default();
                    }
                    if after == before {
                        return Ok(());
                    }
                    db::update_claim(tx, &after).await?;
                    store::audit::append(tx, &who, events::claim_updated(&before, &after)).await?;
                    super::cms::announce_claim(tx, id, Vec::new(), store::now()).await?;
                    Ok(())
                })
            })
            .await?;
        self.load_claim(id).await
    }

    /// Records another passage the claim appeared in; `Outcome::Existing` when it is one
    /// already (nothing written).
    pub async fn add_appearance(
        &self,
        actor: &Actor,
        claim_id: ClaimId,
        passage_id: PassageId,
    ) -> Result<(ClaimView, Outcome)> {
        require(actor, Permission::WriteRecords, "edit claims")?;
        let who = actor.who();
        let added = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    claim_and_passage_exist(tx, claim_id, passage_id).await?;
                    if !db::add_appearance(tx, claim_id, passage_id).await? {
                        return Ok::<_, AppError>(false);
                    }
                    let event = events::appearance_added(claim_id, passage_id);
                    store::audit::append(tx, &who, event).await?;
                    super::cms::announce_claim(tx, claim_id, Vec::new(), store::now()).await?;
                    Ok(true)
                })
            })
            .await?;
        let outcome = if added {
            Outcome::Created
        } else {
            Outcome::Existing
        };
        Ok((self.load_claim(claim_id).await?, outcome))
    }

    /// One piece of a claim's evidence.
    pub async fn get_evidence(
        &self,
        actor: &Actor,
        claim_id: ClaimId,
        id: EvidenceId,
    ) -> Result<Evidence> {
        require(actor, Permission::ReadRecords, "read evidence")?;
        self.store
            .fetch(move |tx| Box::pin(db::get_evidence(tx, claim_id, id)))
            .await?
            .ok_or_else(|| not_found("evidence", id))
    }

    /// Withdraws evidence with a note: kept and shown as withdrawn, never deleted; new
    /// reviews may no longer rest on it. Withdrawing it again changes nothing.
    pub async fn withdraw_evidence(
        &self,
        actor: &Actor,
        claim_id: ClaimId,
        id: EvidenceId,
        note: &str,
    ) -> Result<Evidence> {
        require(actor, Permission::WriteRecords, "withdraw evidence")?;
        let note = validate::note_text(note).map_err(|m| AppError::field("note", m))?;
        let (who, at) = (actor.who(), store::now());
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    if db::withdraw_evidence(tx, claim_id, id, at, &who.person, &note).await? {
                        let event = events::evidence_withdrawn(id, claim_id, &note);
                        store::audit::append(tx, &who, event).await?;
                    }
                    db::get_evidence(tx, claim_id, id)
                        .await?
                        .ok_or_else(|| not_found("evidence", id))
                })
            })
            .await
    }
}

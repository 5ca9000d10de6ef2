//! Re-anchoring: placing a source's passages on each new version, and people's decisions
//! about what the search could not settle.

use super::*;
use crate::domain::anchor::Span;
use crate::domain::anchor::reanchor::{self, PlacementMethod, PlacementState, Prior, Reanchored};
use crate::domain::{Placement, RevisionReport};
use crate::store::placements as db;
use crate::store::sources;
use time::OffsetDateTime;

/// How often a write that raced with another (a version or passage added meanwhile) is
/// prepared again before the client is told to retry.
pub(super) const PLACING_ATTEMPTS: usize = 5;

/// How a client counts positions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Offsets {
    /// Unicode code points, as the W3C `TextPositionSelector`.
    #[default]
    CodePoints,
    /// UTF-16 code units, as DOM ranges in browsers.
    Utf16,
}

/// What a person decides about a placement on the latest version.
#[derive(Debug, Clone, Default)]
pub struct PlacementDecision {
    /// Accept the placement as it is (changed text, or a loss).
    pub confirm: bool,
    /// Or place the passage by hand, resolved like a new passage.
    pub selector: Option<PassageInput>,
    pub note: Option<String>,
}

/// The placements of a version about to be added, and what they were computed from.
pub(super) struct Plan {
    source_id: SourceId,
    previous: i64,
    passages: i64,
    /// People's decisions on `previous` when the plan was made (count, last time).
    decided: (i64, Option<OffsetDateTime>),
    placements: Vec<Placement>,
}

impl Plan {
    /// Whether the source still has the versions and passages the plan was made from. A
    /// source without passages has nothing to place, whatever its latest version.
    pub(super) async fn still_current(
        &self,
        tx: &mut store::Tx,
        source_id: SourceId,
    ) -> Result<bool> {
        if db::passage_count(tx, source_id).await? != self.passages {
            return Ok(false);
        }
        if self.passages == 0 {
            return Ok(true);
        }
        let latest = sources::get_source(tx, source_id)
            .await?
            .map(|s| s.version.number);
        // A decision made meanwhile is carried forward only by placing again.
        Ok(latest == Some(self.previous)
            && db::decisions(tx, source_id, self.previous).await? == self.decided)
    }

    /// Stores the placements with one audit entry for all of them.
    pub(super) async fn write(&self, tx: &mut store::Tx, actor: &Who) -> Result<()> {
        if self.placements.is_empty() {
            return Ok(());
        }
        db::retire(tx, self.source_id, self.previous + 1).await?;
        for p in &self.placements {
            db::insert(tx, p).await?;
        }
        let event = events::passages_placed(self.source_id, self.previous + 1, &self.placements);
        store::audit::append(tx, actor, event).await?;
        // Each passage whose words changed or that was lost is announced (editorial roles).
        let kind = domain::changes::ChangeKind::PassageChanged;
        for p in self
            .placements
            .iter()
            .filter(|p| p.state != PlacementState::Placed)
        {
            let data = domain::changes::passage_data(
                p.passage_id,
                p.source_id,
                p.version,
                p.state.as_str(),
            );
            store::cms::record_change(
                tx,
                kind.as_str(),
                p.passage_id.uuid(),
                kind.is_public(),
                &data,
                p.placed_at,
            )
            .await?;
        }
        Ok(())
    }
}

/// The placement a re-anchoring result becomes.
fn placement(
    passage_id: PassageId,
    source_id: SourceId,
    version: i64,
    r: Reanchored,
    baseline: String,
    at: OffsetDateTime,
) -> Placement {
    let span = r.span.as_ref();
    Placement {
        passage_id,
        source_id,
        version,
        state: r.state,
        method: r.method,
        start: span.map(|s| s.start as i64),
        end: span.map(|s| s.end as i64),
        start_utf16: span.map(|s| s.start_utf16 as i64),
        end_utf16: span.map(|s| s.end_utf16 as i64),
        exact: r.span.map(|s| s.exact),
        score: r.score,
        change: r.change,
        orphan: r.orphan,
        reviewed_by: None,
        reviewed_at: None,
        note: None,
        placed_at: at,
        baseline,
    }
}

/// Where to start from on the version before, and the text the passage must still have.
fn prior_of<'p>(p: &'p db::Prior, previous: i64) -> (Prior<'p>, String) {
    let lost = Prior::Lost {
        exact: &p.exact,
        prefix: &p.prefix,
        suffix: &p.suffix,
    };
    match &p.placement {
        None if p.version == previous => (
            Prior::At {
                start: p.start as usize,
                end: p.end as usize,
            },
            p.exact.clone(),
        ),
        // Made before placements were kept: found again by its quote.
        None => (lost, p.exact.clone()),
        Some(pl) => {
            // A text a person confirmed becomes what later versions are compared with.
            let baseline = match (&pl.reviewed_at, &pl.exact) {
                (Some(_), Some(exact)) => exact.clone(),
                _ => pl.baseline.clone(),
            };
            match (pl.start, pl.end) {
                (Some(start), Some(end)) => (
                    Prior::At {
                        start: start as usize,
                        end: end as usize,
                    },
                    baseline,
                ),
                _ => (lost, baseline),
            }
        }
    }
}

impl App {
    /// Places every passage of version `previous` (and before) on the version that follows.
    pub(super) async fn plan_placements(
        &self,
        source_id: SourceId,
        previous: i64,
        new: Arc<AnchorIndex>,
    ) -> Result<Plan> {
        let (priors, passages, decided) = self
            .store
            .read(move |tx| {
                Box::pin(async move {
                    let priors = db::priors(tx, source_id, previous).await?;
                    let count = db::passage_count(tx, source_id).await?;
                    let decided = db::decisions(tx, source_id, previous).await?;
                    Ok::<_, AppError>((priors, count, decided))
                })
            })
            .await?;
        let mut plan = Plan {
            source_id,
            previous,
            passages,
            decided,
            placements: Vec::new(),
        };
        if priors.is_empty() {
            return Ok(plan);
        }
        let old = self.anchor_index(source_id, previous).await?;
        let at = store::now();
        plan.placements = cpu_bound("placing passages on a new version", move || {
            let mut revision = reanchor::Revision::new(&old, &new);
            priors
                .iter()
                .map(|p| {
                    let (prior, baseline) = prior_of(p, previous);
                    let r = revision.place(&prior, &baseline);
                    placement(p.passage_id, source_id, previous + 1, r, baseline, at)
                })
                .collect()
        })
        .await?;
        Ok(plan)
    }

    /// A new passage's placements on each version after its own, up to `latest`.
    pub(super) async fn place_through(
        &self,
        passage: &Passage,
        latest: i64,
    ) -> Result<Vec<Placement>> {
        let mut out: Vec<Placement> = Vec::new();
        for version in passage.version + 1..=latest {
            let old = self.anchor_index(passage.source_id, version - 1).await?;
            let new = self.anchor_index(passage.source_id, version).await?;
            let (p, last) = (passage.clone(), out.last().cloned());
            let at = store::now();
            let placed = cpu_bound("placing a passage on later versions", move || {
                let prior = match last.as_ref().map(|l| (l.start, l.end)) {
                    None => Prior::At {
                        start: p.start as usize,
                        end: p.end as usize,
                    },
                    Some((Some(start), Some(end))) => Prior::At {
                        start: start as usize,
                        end: end as usize,
                    },
                    Some(_) => Prior::Lost {
                        exact: &p.exact,
                        prefix: &p.prefix,
                        suffix: &p.suffix,
                    },
                };
                let r = reanchor::Revision::new(&old, &new).place(&prior, &p.exact);
                placement(p.id, p.source_id, version, r, p.exact.clone(), at)
            })
            .await?;
            out.push(placed);
        }
        Ok(out)
    }

    /// Where a passage stands in each version after its own.
    pub async fn passage_placements(&self, actor: &Actor, id: PassageId) -> Result<Vec<Placement>> {
        require(actor, Permission::ReadRecords, "read passages")?;
        self.store
            .read(move |tx| {
                Box::pin(async move {
                    if store::passages::get_passage(tx, id).await?.is_none() {
                        return Err(not_found("passage", id));
                    }
                    Ok(db::of_passage(tx, id).await?)
                })
            })
            .await
    }

    /// Every placement made on a version, with counts per state.
    pub async fn revision_report(
        &self,
        actor: &Actor,
        source_id: SourceId,
        version: i64,
    ) -> Result<RevisionReport> {
        require(actor, Permission::ReadRecords, "read sources")?;
        let latest = self.load_source(source_id).await?.version.number;
        if !(1..=latest).contains(&version) {
            return Err(AppError::UnknownVersion {
                source_id,
                number: version,
                latest,
            });
        }
        let placements = self
            .store
            .fetch(move |tx| Box::pin(db::of_version(tx, source_id, version)))
            .await?;
        let count = |state| placements.iter().filter(|p| p.state == state).count();
        Ok(RevisionReport {
            source_id,
            version,
            previous: version - 1,
            placed: count(PlacementState::Placed),
            changed: count(PlacementState::Changed),
            orphaned: count(PlacementState::Orphaned),
            placements,
        })
    }

    /// A person confirms a placement on the latest version, or places the passage by hand.
    pub async fn decide_placement(
        &self,
        actor: &Actor,
        passage_id: PassageId,
        version: i64,
        decision: PlacementDecision,
    ) -> Result<Placement> {
        require(actor, Permission::WriteRecords, "place passages")?;
        let note = decision
            .note
            .as_deref()
            .map(|n| validate::note_text(n).map_err(|m| AppError::field("note", m)))
            .transpose()?;
        let selector = match (decision.confirm, decision.selector) {
            (true, None) => None,
            (false, Some(selector)) => Some(selector),
            (true, Some(_)) => {
                return Err(AppError::field(
                    "confirm",
                    "either confirm the placement or give a quote or positions, not both",
                ));
            }
            (false, None) => {
                return Err(AppError::field(
                    "confirm",
                    "confirm the placement (true), or give a quote or positions to place the passage",
                ));
            }
        };
        // Decided on the placement as read; written only if nobody changed it meanwhile, else
        // decided again on what is there now.
        for _ in 0..PLACING_ATTEMPTS {
            let current = self
                .store
                .fetch(move |tx| Box::pin(db::get(tx, passage_id, version)))
                .await?
                .ok_or_else(|| {
                    not_found("placement", format!("{passage_id} on version {version}"))
                })?;
            let latest = self.load_source(current.source_id).await?.version.number;
            if version != latest {
                return Err(AppError::NotLatest { version, latest });
            }
            let decided = self
                .decide(actor, &current, selector.clone(), note.clone())
                .await?;
            let (name, stored, confirmed) = (actor.who(), decided.clone(), selector.is_none());
            let written = self
                .store
                .write(move |tx| {
                    Box::pin(async move {
                        // The latest version must still be the one decided on.
                        tx.lock_writes().await?;
                        let latest = sources::get_source(tx, stored.source_id)
                            .await?
                            .map_or(0, |s| s.version.number);
                        if latest != stored.version {
                            return Err(AppError::NotLatest {
                                version: stored.version,
                                latest,
                            });
                        }
                        let now = db::get(tx, stored.passage_id, stored.version).await?;
                        let unchanged = now.as_ref().is_some_and(|n| {
                            (n.state, n.start, n.end, n.reviewed_at)
                                == (
                                    current.state,
                                    current.start,
                                    current.end,
                                    current.reviewed_at,
                                )
                        });
                        if !unchanged {
                            return Ok(false);
                        }
                        db::update(tx, &stored).await?;
                        let event = events::placement_decided(&stored, confirmed);
                        store::audit::append(tx, &name, event).await?;
                        Ok(true)
                    })
                })
                .await?;
            if written {
                return Ok(decided);
            }
        }
        Err(AppError::Unavailable(
            "the placement kept changing while it was decided".into(),
        ))
    }

    /// The placement a person's decision makes of `current`.
    async fn decide(
        &self,
        actor: &Actor,
        current: &Placement,
        selector: Option<PassageInput>,
        note: Option<String>,
    ) -> Result<Placement> {
        let now = store::now();
        Ok(match selector {
            None => {
                if current.state == PlacementState::Placed {
                    return Err(AppError::field(
                        "confirm",
                        "the passage is placed with its text unchanged: there is nothing to confirm",
                    ));
                }
                Placement {
                    reviewed_by: Some(actor.person.clone()),
                    reviewed_at: Some(now),
                    note,
                    ..current.clone()
                }
            }
            Some(mut selector) => {
                selector.version = Some(current.version);
                let span: Span = self
                    .resolve_selector(current.source_id, current.version, &selector)
                    .await?;
                let r = reanchor::judge(span, PlacementMethod::Manual, None, &current.baseline);
                Placement {
                    reviewed_by: Some(actor.person.clone()),
                    reviewed_at: Some(now),
                    note,
                    ..placement(
                        current.passage_id,
                        current.source_id,
                        current.version,
                        r,
                        current.baseline.clone(),
                        current.placed_at,
                    )
                }
            }
        })
    }
}

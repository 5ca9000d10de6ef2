//! Statistics: the numeric mentions of each version, and the trace of one figure.

use super::*;
use crate::domain::statistics::{self, Match, Mention, TraceQuery, Unit};
use crate::store::statistics as db;

/// A version's numeric mentions.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct VersionStatistics {
    pub source_id: SourceId,
    pub version: i64,
    /// In text order. Only `kind: quantity` mentions are traced; years, dates, ordinals,
    /// list numbers and vague magnitudes are listed so that they are not mistaken for them.
    pub mentions: Vec<Mention>,
}

impl App {
    pub async fn version_statistics(
        &self,
        actor: &Actor,
        source_id: SourceId,
        version: i64,
    ) -> Result<VersionStatistics> {
        require(actor, Permission::ReadRecords, "read sources")?;
        // The version must exist (a clear 404 names the versions there are).
        self.load_version(source_id, version).await?;
        let mentions = self
            .store
            .fetch(move |tx| Box::pin(db::of_version(tx, source_id, version)))
            .await?;
        Ok(VersionStatistics {
            source_id,
            version,
            mentions,
        })
    }

    /// Extracts again the figures of versions an older extractor read (a revision below
    /// `statistics::EXTRACTOR_REVISION`): the upgrade step a better extractor needs, run at
    /// start. `progress` is told the total, then each version done.
    pub async fn reextract_mentions(&self, progress: impl Fn(usize, usize)) -> Result<usize> {
        let pending = self
            .store
            .fetch(|tx| Box::pin(db::not_extracted(tx)))
            .await?;
        let total = pending.len();
        for (done, (source_id, number)) in pending.into_iter().enumerate() {
            progress(done, total);
            let version = self.load_version(source_id, number).await?;
            let captured_at = version.version.captured_at;
            let mentions = cpu_bound("extracting figures", move || {
                statistics::extract(&version.text)
            })
            .await?;
            self.store
                .write(move |tx| {
                    Box::pin(async move {
                        db::store(tx, source_id, number, captured_at, &mentions).await?;
                        Ok::<_, AppError>(())
                    })
                })
                .await?;
        }
        progress(total, total);
        Ok(total)
    }
}

/// At most this many hits are answered (the report says when there were more).
pub const MAX_HITS: usize = 500;
/// How many hops a lineage walks at most.
pub const MAX_DEPTH: usize = 32;

/// What to trace.
#[derive(Debug, Clone)]
pub enum TraceInput {
    /// A text holding the figure ("$4bn", "about 15 per cent").
    Text(String),
    /// The first figure of a passage.
    Passage(PassageId),
    /// A value and unit as the trace answers them.
    Figure { value: String, unit: Unit },
}

/// The source of a hit, with its date.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TraceSource {
    pub id: SourceId,
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
    /// As the source states it.
    pub published_at: Option<String>,
}

/// One mention of the traced figure.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TraceHit {
    #[serde(rename = "match")]
    pub matched: Match,
    pub source: TraceSource,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub captured_at: time::OffsetDateTime,
    pub mention: Mention,
    /// Whether a recorded citation chain holds a passage around this mention (or around the
    /// figure in an earlier version that states it).
    pub in_chain: bool,
    /// Earlier versions of the source that state the figure too: a revised source counts
    /// once, by the latest version that states it.
    pub earlier_versions: Vec<i64>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PublisherCount {
    /// `null` for sources with no publisher.
    pub publisher: Option<String>,
    pub hits: usize,
}

/// Every source that states a figure, earliest appearance first.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TraceReport {
    pub query: TraceQuery,
    /// How far an approximate match may be from the traced value, in percent of it.
    pub tolerance_percent: i64,
    /// Ordered by the source's published date (undated last), then capture time.
    pub hits: Vec<TraceHit>,
    /// Hits per publisher, most first.
    pub publishers: Vec<PublisherCount>,
    /// More than the hits shown matched.
    pub truncated: bool,
}

/// How one passage derives from another (PROV-O).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// `prov:wasQuotedFrom`: the passage quotes the other.
    Quotes,
    /// `prov:wasDerivedFrom`: it restates or reworks the other.
    DerivedFrom,
    /// `prov:hadPrimarySource`: the other is where it came from first.
    PrimarySource,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Quotes => "quotes",
            Relation::DerivedFrom => "derived_from",
            Relation::PrimarySource => "primary_source",
        }
    }

    pub fn parse(s: &str) -> Option<Relation> {
        [
            Relation::Quotes,
            Relation::DerivedFrom,
            Relation::PrimarySource,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// The PROV-O property.
    pub fn prov(self) -> &'static str {
        match self {
            Relation::Quotes => "prov:wasQuotedFrom",
            Relation::DerivedFrom => "prov:wasDerivedFrom",
            Relation::PrimarySource => "prov:hadPrimarySource",
        }
    }
}

/// A recorded link.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Derivation {
    pub passage_id: PassageId,
    pub from_passage_id: PassageId,
    pub relation: Relation,
}

/// One step back along a citation chain.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Hop {
    /// 1 for the passage's own links, 2 for theirs, …
    pub depth: usize,
    pub passage_id: PassageId,
    pub relation: Relation,
    pub from: domain::SourcedPassage,
}

/// Where a passage comes from, back to the origin.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Lineage {
    pub passage: domain::SourcedPassage,
    /// Breadth first, each passage once (a cycle ends where it closes).
    pub hops: Vec<Hop>,
    /// The passages the walk ends at: nothing recorded before them.
    pub origins: Vec<PassageId>,
    /// Whether every origin is marked as a primary source (`closed`) or not yet (`open`).
    pub status: ChainStatus,
    /// The walk stopped at [`MAX_DEPTH`] hops.
    pub truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChainStatus {
    Closed,
    Open,
}

impl App {
    /// Every mention of a figure in the store.
    pub async fn trace(&self, actor: &Actor, input: TraceInput) -> Result<TraceReport> {
        require(actor, Permission::ReadRecords, "trace statistics")?;
        let query = match input {
            TraceInput::Text(text) => {
                TraceQuery::parse_or_kind(&text).map_err(|instead| AppError::NoFigure {
                    field: "q",
                    text: text.chars().take(80).collect(),
                    instead,
                })?
            }
            TraceInput::Passage(id) => {
                let passage = self.get_passage(actor, id).await?;
                TraceQuery::parse_or_kind(&passage.exact).map_err(|instead| AppError::NoFigure {
                    field: "passage_id",
                    text: passage.exact.chars().take(80).collect(),
                    instead,
                })?
            }
            TraceInput::Figure { value, unit } => TraceQuery {
                unit: match unit.measure() {
                    Some((dimension, name))
                        if statistics::units::by_name(dimension, name).is_none() =>
                    {
                        return Err(AppError::field(
                            "unit",
                            format!(
                                "{name:?} is not a {} unit the extractor knows; use a unit's name \
                                 as a figure of that dimension shows it (e.g. \"kilometre\")",
                                dimension.as_str()
                            ),
                        ));
                    }
                    _ => unit,
                },
                value: value
                    .parse()
                    .map_err(|m: String| AppError::field("value", m))?,
                high: None,
                qualifier: statistics::Qualifier::Exact,
            },
        };
        let asked = query.clone();
        let found = self
            .store
            .fetch_long(move |tx| {
                Box::pin(async move { db::candidates(tx, &asked, (MAX_HITS + 1) as i64).await })
            })
            .await?;
        let mut hits: Vec<TraceHit> = Vec::new();
        for h in found {
            let Some(matched) = query.matches(&h.mention) else {
                continue;
            };
            hits.push(TraceHit {
                matched,
                source: TraceSource {
                    id: h.source.id,
                    title: h.source.title,
                    url: h.source.url,
                    publisher: h.source.publisher,
                    published_at: h.published_at,
                },
                version: h.version,
                captured_at: h.captured_at,
                mention: h.mention,
                in_chain: h.in_chain,
                earlier_versions: Vec::new(),
            });
        }
        let mut hits = fold_revisions(hits);
        hits.sort_by(|a, b| {
            let date = |h: &TraceHit| {
                (
                    h.source.published_at.is_none(),
                    h.source.published_at.clone(),
                )
            };
            date(a)
                .cmp(&date(b))
                .then(a.captured_at.cmp(&b.captured_at))
                .then(a.version.cmp(&b.version))
                .then(a.mention.start.cmp(&b.mention.start))
        });
        let truncated = hits.len() > MAX_HITS;
        hits.truncate(MAX_HITS);
        let mut publishers: Vec<PublisherCount> = Vec::new();
        for h in &hits {
            match publishers
                .iter_mut()
                .find(|p| p.publisher == h.source.publisher)
            {
                Some(p) => p.hits += 1,
                None => publishers.push(PublisherCount {
                    publisher: h.source.publisher.clone(),
                    hits: 1,
                }),
            }
        }
        publishers.sort_by(|a, b| b.hits.cmp(&a.hits).then(a.publisher.cmp(&b.publisher)));
        Ok(TraceReport {
            query,
            tolerance_percent: statistics::TOLERANCE_PERCENT as i64,
            hits,
            publishers,
            truncated,
        })
    }

    /// Records that a passage derives from another; refused if it would close a cycle.
    pub async fn add_derivation(
        &self,
        actor: &Actor,
        passage_id: PassageId,
        from: PassageId,
        relation: Relation,
    ) -> Result<Derivation> {
        require(actor, Permission::RecordDerivations, "record derivations")?;
        if passage_id == from {
            return Err(AppError::DerivationCycle {
                path: vec![passage_id, from],
            });
        }
        let name = actor.who();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    if store::passages::get_passage(tx, passage_id)
                        .await?
                        .is_none()
                    {
                        return Err(not_found("passage", passage_id));
                    }
                    if !store::passages::missing_passages(tx, &[from])
                        .await?
                        .is_empty()
                    {
                        return Err(AppError::UnknownPassages {
                            field: "from_passage_id",
                            ids: vec![from],
                        });
                    }
                    // Decides on the links, which other writers may add to.
                    tx.lock_writes().await?;
                    if store::derivations::parents(tx, passage_id)
                        .await?
                        .iter()
                        .any(|(p, _)| *p == from)
                    {
                        return Err(AppError::DerivationExists { passage_id, from });
                    }
                    // A cycle: the new source already derives (at any depth) from this passage.
                    let mut seen = vec![from];
                    let mut trail: Vec<(PassageId, usize)> = vec![(from, 0)];
                    let mut at = 0;
                    while at < trail.len() {
                        let (p, depth) = trail[at];
                        at += 1;
                        for (parent, _) in store::derivations::parents(tx, p).await? {
                            if parent == passage_id {
                                let mut path = vec![passage_id, from];
                                if p != from {
                                    path.push(p);
                                }
                                path.push(passage_id);
                                return Err(AppError::DerivationCycle { path });
                            }
                            if !seen.contains(&parent) && depth < 4 * MAX_DEPTH {
                                seen.push(parent);
                                trail.push((parent, depth + 1));
                            }
                        }
                    }
                    store::derivations::insert(
                        tx,
                        passage_id,
                        from,
                        relation.as_str(),
                        store::now(),
                    )
                    .await?;
                    let event = events::derivation_added(passage_id, from, relation.as_str());
                    store::audit::append(tx, &name, event).await?;
                    Ok(Derivation {
                        passage_id,
                        from_passage_id: from,
                        relation,
                    })
                })
            })
            .await
    }

    /// Walks a passage's links back to where they end.
    pub async fn lineage(&self, actor: &Actor, id: PassageId) -> Result<Lineage> {
        require(actor, Permission::ReadRecords, "read passages")?;
        self.store
            .read(move |tx| {
                Box::pin(async move {
                    let passage = store::passages::sourced_passage(tx, id)
                        .await?
                        .ok_or_else(|| not_found("passage", id))?;
                    let mut hops = Vec::new();
                    let mut seen = vec![id];
                    let mut frontier = vec![id];
                    let mut origins = Vec::new();
                    let mut closed = true;
                    let mut truncated = false;
                    for depth in 1..=MAX_DEPTH + 1 {
                        if frontier.is_empty() {
                            break;
                        }
                        let mut next = Vec::new();
                        for p in std::mem::take(&mut frontier) {
                            let parents = store::derivations::parents(tx, p).await?;
                            if parents.is_empty() {
                                origins.push(p);
                                let via_primary = hops.iter().any(|h: &Hop| {
                                    h.from.passage.id == p && h.relation == Relation::PrimarySource
                                });
                                closed &=
                                    via_primary || store::derivations::is_primary(tx, p).await?;
                                continue;
                            }
                            if depth > MAX_DEPTH {
                                truncated = true;
                                closed = false;
                                continue;
                            }
                            for (parent, relation) in parents {
                                let from = store::passages::sourced_passage(tx, parent)
                                    .await?
                                    .ok_or_else(|| not_found("passage", parent))?;
                                hops.push(Hop {
                                    depth,
                                    passage_id: p,
                                    relation: Relation::parse(&relation).ok_or_else(|| {
                                        AppError::Internal(format!("unknown relation {relation:?}"))
                                    })?,
                                    from,
                                });
                                if !seen.contains(&parent) {
                                    seen.push(parent);
                                    next.push(parent);
                                }
                            }
                        }
                        frontier = next;
                    }
                    Ok(Lineage {
                        passage,
                        hops,
                        origins,
                        status: if closed {
                            ChainStatus::Closed
                        } else {
                            ChainStatus::Open
                        },
                        truncated,
                    })
                })
            })
            .await
    }
}

/// A revised source counts once: the hits of the latest version that states the figure stay,
/// each naming the earlier versions that stated it too; the earlier versions' hits go.
fn fold_revisions(hits: Vec<TraceHit>) -> Vec<TraceHit> {
    use std::collections::{BTreeSet, HashMap};
    let mut versions: HashMap<SourceId, (BTreeSet<i64>, bool)> = HashMap::new();
    for h in &hits {
        let (stated, chained) = versions.entry(h.source.id).or_default();
        stated.insert(h.version);
        *chained |= h.in_chain;
    }
    hits.into_iter()
        .filter_map(|mut h| {
            let (stated, chained) = &versions[&h.source.id];
            (stated.last() == Some(&h.version)).then(|| {
                h.earlier_versions = stated.range(..h.version).copied().collect();
                h.in_chain |= *chained;
                h
            })
        })
        .collect()
}

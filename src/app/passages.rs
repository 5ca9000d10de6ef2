//! Passages: pasted quotes (or positions) resolved to exact spans of one version.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;
use crate::store::passages as db;

/// What a client sent to select a passage, before validation.
#[derive(Debug, Clone, Default)]
pub struct PassageInput {
    pub quote: Option<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub version: Option<i64>,
    /// How `start` and `end` count.
    pub offsets: Offsets,
}

impl App {
    /// The folded view of a version, from the cache or built off the async threads.
    pub(super) async fn anchor_index(
        &self,
        source_id: SourceId,
        number: i64,
    ) -> Result<Arc<AnchorIndex>> {
        if let Some(index) = self.anchors.get((source_id, number)) {
            return Ok(index);
        }
        let version = self.load_version(source_id, number).await?;
        let index = cpu_bound("building the anchor index", move || {
            Arc::new(AnchorIndex::new(version.text))
        })
        .await?;
        self.anchors.insert((source_id, number), index.clone());
        Ok(index)
    }

    /// Resolves a selector on a version of a source, after checking its fields.
    pub(super) async fn resolve_selector(
        &self,
        source_id: SourceId,
        number: i64,
        input: &PassageInput,
    ) -> Result<Span> {
        let mut v = Validator::new();
        let position = |field: &str, value: Option<i64>, v: &mut Validator| {
            value.and_then(|n| {
                v.check(
                    field,
                    usize::try_from(n).map_err(|_| "must be 0 or more".to_owned()),
                )
            })
        };
        let start = position("start", input.start, &mut v);
        let end = position("end", input.end, &mut v);
        if input.quote.is_none() && (input.start.is_none() || input.end.is_none()) {
            v.error(
                "quote",
                "give a quote (with optional prefix and suffix), or both start and end",
            );
        }
        if input.start.is_some() != input.end.is_some() {
            let missing = if input.start.is_none() {
                "start"
            } else {
                "end"
            };
            v.error(missing, "start and end go together: give both or neither");
        }
        if let Some(q) = &input.quote
            && domain::anchor::fold(q).is_empty()
        {
            v.error("quote", "must contain visible characters");
        }
        v.finish(|| ()).map_err(AppError::Validation)?;
        let index = self.anchor_index(source_id, number).await?;
        // UTF-16 positions become code points; one inside a surrogate pair names no character.
        let (start, end) = match input.offsets {
            Offsets::CodePoints => (start, end),
            Offsets::Utf16 => {
                let mut v = Validator::new();
                let mut convert = |field: &str, unit: Option<usize>| {
                    unit.and_then(|u| {
                        v.check(
                            field,
                            index.cp_of_utf16(u).ok_or_else(|| {
                                format!(
                                    "UTF-16 offset {u} is inside a character or past the end of version {number}"
                                )
                            }),
                        )
                    })
                };
                let converted = (convert("start", start), convert("end", end));
                v.finish(|| converted).map_err(AppError::Validation)?
            }
        };
        let (quote, prefix, suffix) = (
            input.quote.clone(),
            input.prefix.clone(),
            input.suffix.clone(),
        );
        cpu_bound("resolving the quote", move || {
            index.resolve(&Selector {
                quote: quote.as_deref(),
                prefix: prefix.as_deref(),
                suffix: suffix.as_deref(),
                start,
                end,
            })
        })
        .await?
        .map_err(|error| AppError::Anchor {
            error,
            version: number,
        })
    }

    /// Resolves a quote or positions on a version (default: latest) and stores the passage,
    /// with its placements on the later versions when it was made on an earlier one.
    pub async fn create_passage(
        &self,
        actor: &Actor,
        source_id: SourceId,
        input: PassageInput,
    ) -> Result<(Passage, Outcome)> {
        require(actor, Permission::WriteRecords, "create passages")?;
        if let Some(n) = input.version
            && n < 1
        {
            return Err(AppError::field("version", "version numbers start at 1"));
        }
        for _ in 0..PLACING_ATTEMPTS {
            let latest = self.load_source(source_id).await?.version.number;
            let number = input.version.unwrap_or(latest);
            if number > latest {
                return Err(AppError::UnknownVersion {
                    source_id,
                    number,
                    latest,
                });
            }
            let span = self.resolve_selector(source_id, number, &input).await?;
            let passage = Passage {
                id: PassageId::new(),
                source_id,
                version: number,
                start: span.start as i64,
                end: span.end as i64,
                start_utf16: span.start_utf16 as i64,
                end_utf16: span.end_utf16 as i64,
                exact: span.exact,
                prefix: span.prefix,
                suffix: span.suffix,
                created_at: store::now(),
                pasted: input.quote.clone(),
            };
            let later = self.place_through(&passage, latest).await?;
            let actor = actor.who();
            let written = self
                .store
                .write(move |tx| {
                    Box::pin(async move {
                        // Placements are made up to the latest version, which must not change.
                        tx.lock_writes().await?;
                        let now_latest = store::sources::get_source(tx, source_id)
                            .await?
                            .map(|s| s.version.number);
                        if now_latest != Some(latest) {
                            return Ok(None);
                        }
                        let (stored, created) = db::insert_passage(tx, &passage).await?;
                        if !created {
                            return Ok(Some((stored, Outcome::Existing)));
                        }
                        store::audit::append(tx, &actor, events::passage_created(&stored)).await?;
                        for placement in &later {
                            store::placements::insert(tx, placement).await?;
                            let event = events::passages_placed(
                                source_id,
                                placement.version,
                                std::slice::from_ref(placement),
                            );
                            store::audit::append(tx, &actor, event).await?;
                        }
                        store::placements::retire(tx, source_id, latest).await?;
                        Ok::<_, AppError>(Some((stored, Outcome::Created)))
                    })
                })
                .await?;
            if let Some(done) = written {
                return Ok(done);
            }
        }
        Err(AppError::Unavailable(
            "the source kept changing while the passage was placed on its later versions".into(),
        ))
    }

    pub async fn get_passage(&self, actor: &Actor, id: PassageId) -> Result<Passage> {
        require(actor, Permission::ReadRecords, "read passages")?;
        self.store
            .fetch(|tx| Box::pin(db::get_passage(tx, id)))
            .await?
            .ok_or_else(|| not_found("passage", id))
    }

    /// Claims in id order; with `attention`, only those with a passage that a new version
    /// of its source changed or lost and that nobody has confirmed since.
    /// A source's passages, on any of its versions, in id order.
    pub async fn source_passages(
        &self,
        actor: &Actor,
        source_id: SourceId,
        order: domain::Order,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Passage>> {
        require(actor, Permission::ReadRecords, "read passages")?;
        let (after, limit) = page_args(cursor, limit)?;
        self.load_source(source_id).await?;
        let items = self
            .store
            .fetch(move |tx| Box::pin(db::source_passages(tx, source_id, after, limit, order)))
            .await?;
        Ok(page(items, limit, |p| p.id))
    }
}

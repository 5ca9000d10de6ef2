//! Sources, versions, passages, claims and evidence.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::search;
use super::*;
use crate::domain::search::SourceItem;
use crate::store::provenance as db;

/// Filters of the source list.
#[derive(Debug, Clone, Default)]
pub struct SourceQuery {
    /// Only the source with this URL.
    pub url: Option<String>,
    /// Only sources of this publisher (exact).
    pub publisher: Option<String>,
    /// A search query: ranked by relevance instead of creation order.
    pub q: Option<String>,
    /// Without `q`: oldest or newest first.
    pub order: domain::Order,
}

/// Input for a new source, before validation.
#[derive(Debug, Clone, Default)]
pub struct SourceInput {
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
    pub authors: Vec<String>,
    pub published_at: Option<String>,
    pub kind: Option<String>,
    pub text: String,
    /// `title` was made up from the text, not stated (an import's file without one).
    pub title_derived: bool,
}

/// Changes to a source's metadata; absent fields stay as they are, `Some(None)` clears one.
#[derive(Debug, Clone, Default)]
pub struct SourcePatch {
    pub title: Option<String>,
    pub url: Option<Option<String>>,
    pub publisher: Option<Option<String>>,
    pub authors: Option<Vec<String>>,
    pub published_at: Option<Option<String>>,
    pub kind: Option<Option<String>>,
}

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
    pub async fn create_source(&self, actor: &Actor, input: SourceInput) -> Result<Source> {
        self.create_source_keyed(actor, input, None).await
    }

    /// Creates a source; `import_key` marks where an import found it.
    pub async fn create_source_keyed(
        &self,
        actor: &Actor,
        input: SourceInput,
        import_key: Option<String>,
    ) -> Result<Source> {
        require(actor, Permission::WriteRecords, "create sources")?;
        let (new, text) = checked_source(input, import_key, &self.url_rule)?;
        let version = cpu_bound("hashing and extracting figures", move || {
            NewVersion::new(text)
        })
        .await?;
        let actor = actor.who();
        let id = SourceId::new();
        let at = store::now();
        let (url, url_key, key) = (new.url.clone(), new.url_key.clone(), new.import_key.clone());
        let written = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    db::insert_source(tx, id, &new, &version, at).await?;
                    store::audit::append(tx, &actor, events::source_created(id, &new, &version))
                        .await
                })
            })
            .await;
        match written {
            Ok(()) => {}
            // The URL (or the file an import stores) is taken, maybe by a request that won a
            // race with this one: the source that has it.
            Err(StoreError::Conflict(
                taken @ (Constraint::SourceUrl | Constraint::SourceImportKey),
            )) => {
                let url = url.map(WebUrl::into_inner);
                let (by_url, by_key) = match taken {
                    Constraint::SourceUrl => (url_key, None),
                    _ => (None, key),
                };
                let found = self
                    .store
                    .fetch(move |tx| {
                        Box::pin(async move {
                            db::find_source_id(tx, by_url.as_deref(), by_key.as_deref()).await
                        })
                    })
                    .await?;
                return Err(match found {
                    Some(id) => AppError::SourceExists {
                        id,
                        url: url.unwrap_or_default(),
                    },
                    None => AppError::Internal(format!("{taken:?} conflicts yet is absent")),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let mut source = self.load_source(id).await?;
        source.warnings = Some(self.same_text_warnings(&source).await?);
        Ok(source)
    }

    /// Other sources that have this source's latest text: accepted (syndicated copies are
    /// real), but the desk is told which source it may be a copy of.
    async fn same_text_warnings(&self, source: &Source) -> Result<Vec<domain::SourceWarning>> {
        let (sha, id) = (source.version.sha256.clone(), source.id);
        let same = self
            .store
            .fetch(move |tx| Box::pin(async move { db::same_text(tx, &sha, id).await }))
            .await?;
        Ok(same
            .into_iter()
            .map(|(other, version)| domain::SourceWarning {
                code: "duplicate-text".into(),
                message: format!(
                    "Source {other} has exactly this text (its version {version}). It was stored \
                     anyway; if it is the same article under another URL, record that URL as an \
                     alias of {other} (POST /v1/sources/{other}/aliases) instead."
                ),
                source_id: other,
                version,
            })
            .collect())
    }

    /// Corrects a source's metadata (the text changes only by a new version); audited with
    /// the values before and after. A patch that changes nothing writes nothing.
    pub async fn update_source(
        &self,
        actor: &Actor,
        id: SourceId,
        patch: SourcePatch,
    ) -> Result<Source> {
        require(actor, Permission::WriteRecords, "edit sources")?;
        let mut v = Validator::new();
        let title = optional(&mut v, "title", patch.title.as_deref(), ShortText::parse);
        let cleared = |v: &mut Validator, field: &str, value: &Option<Option<String>>, check| {
            value.as_ref().map(|inner| {
                inner
                    .as_deref()
                    .and_then(|s| optional(v, field, Some(s), check))
            })
        };
        let url = cleared(&mut v, "url", &patch.url, |s| {
            WebUrl::parse(s).map(WebUrl::into_inner)
        });
        let publisher = cleared(&mut v, "publisher", &patch.publisher, |s| {
            ShortText::parse(s).map(ShortText::into_inner)
        });
        let published_at = cleared(&mut v, "published_at", &patch.published_at, |s| {
            PublishedAt::parse(s).map(PublishedAt::into_inner)
        });
        let kind = cleared(&mut v, "kind", &patch.kind, |s| {
            SourceKind::parse(s).map(SourceKind::into_inner)
        });
        let authors = patch.authors.as_ref().map(|authors| {
            authors
                .iter()
                .enumerate()
                .filter_map(|(i, a)| v.check(&format!("authors/{i}"), ShortText::parse(a)))
                .map(ShortText::into_inner)
                .collect::<Vec<_>>()
        });
        v.finish(|| ()).map_err(AppError::Validation)?;
        let who = actor.who();
        let new_url = url.clone();
        let rule = self.url_rule.clone();
        let written = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    // Early, as `add_version` does: both write the source's row, and a write
                    // that waits for the lock while holding that row could deadlock with it.
                    tx.lock_writes().await?;
                    let Some(before) = db::get_source(tx, id).await? else {
                        return Err(not_found("source", id));
                    };
                    let mut after = before.clone();
                    if let Some(title) = title {
                        after.title = title.into_inner();
                    }
                    if let Some(url) = url {
                        after.url = url;
                    }
                    if let Some(publisher) = publisher {
                        after.publisher = publisher;
                    }
                    if let Some(authors) = authors {
                        after.authors = authors;
                    }
                    if let Some(published_at) = published_at {
                        after.published_at = published_at;
                    }
                    if let Some(kind) = kind {
                        after.kind = kind;
                    }
                    let event = events::source_updated(&before, &after);
                    if event.changes["after"]
                        .as_object()
                        .is_some_and(|m| m.is_empty())
                    {
                        return Ok(());
                    }
                    let urls_before = store::cms::source_urls(tx, id).await?;
                    db::update_source(tx, &before, &after).await?;
                    if after.url != before.url {
                        store::cms::delete_own_url(tx, id).await?;
                        if let Some(url) = &after.url {
                            let key = domain::urls::lookup_form(url, &rule)
                                .unwrap_or_else(|_| url.clone());
                            store::cms::insert_url(tx, &key, id, url, false, store::now()).await?;
                        }
                    }
                    store::audit::append(tx, &who, event).await?;
                    super::cms::announce_source(tx, id, urls_before, store::now()).await?;
                    Ok(())
                })
            })
            .await;
        match written {
            Ok(()) => self.load_source(id).await,
            Err(AppError::Store(StoreError::Conflict(Constraint::SourceUrl))) => {
                let url = new_url.flatten().unwrap_or_default();
                let lookup = self.lookup_form(&url).unwrap_or_else(|_| url.clone());
                let found = self
                    .store
                    .fetch(move |tx| {
                        Box::pin(async move { db::find_source_id(tx, Some(&lookup), None).await })
                    })
                    .await?;
                Err(match found {
                    Some(other) => AppError::SourceExists { id: other, url },
                    None => AppError::Internal("a URL conflicts yet is absent".into()),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Creates many sources in one unit of work, as an import does: one commit for the batch,
    /// so the index pages their figures go to are written once per batch, not once per source.
    /// The batch succeeds or fails whole (a URL another source has fails it: the caller can
    /// then create them one by one).
    pub async fn create_sources(
        &self,
        actor: &Actor,
        inputs: Vec<(SourceInput, Option<String>)>,
    ) -> Result<Vec<SourceId>> {
        require(actor, Permission::WriteRecords, "create sources")?;
        let checked = inputs
            .into_iter()
            .map(|(input, key)| checked_source(input, key, &self.url_rule))
            .collect::<Result<Vec<_>>>()?;
        let prepared: Vec<(SourceId, NewSource, NewVersion)> =
            cpu_bound("hashing and extracting figures", move || {
                checked
                    .into_iter()
                    .map(|(new, text)| (SourceId::new(), new, NewVersion::new(text)))
                    .collect()
            })
            .await?;
        let ids = prepared.iter().map(|(id, _, _)| *id).collect();
        let (actor, at) = (actor.who(), store::now());
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    for (id, new, version) in &prepared {
                        db::insert_source(tx, *id, new, version, at).await?;
                        let event = events::source_created(*id, new, version);
                        store::audit::append(tx, &actor, event).await?;
                    }
                    Ok::<_, AppError>(())
                })
            })
            .await?;
        Ok(ids)
    }

    pub(super) async fn load_source(&self, id: SourceId) -> Result<Source> {
        self.store
            .fetch(|tx| Box::pin(db::get_source(tx, id)))
            .await?
            .ok_or_else(|| not_found("source", id))
    }

    /// The source that an import stored under this URL (any spelling of it: compared in
    /// lookup form) or import key.
    pub async fn find_source(
        &self,
        actor: &Actor,
        url: Option<&str>,
        import_key: Option<&str>,
    ) -> Result<Option<SourceId>> {
        require(actor, Permission::ReadRecords, "read sources")?;
        let url = url
            .map(|u| self.lookup_form(u).map_err(|m| AppError::field("url", m)))
            .transpose()?;
        Ok(self
            .store
            .fetch(|tx| {
                let key = import_key.map(str::to_owned);
                Box::pin(
                    async move { db::find_source_id(tx, url.as_deref(), key.as_deref()).await },
                )
            })
            .await?)
    }

    pub async fn get_source(&self, actor: &Actor, id: SourceId) -> Result<Source> {
        require(actor, Permission::ReadRecords, "read sources")?;
        self.load_source(id).await
    }

    /// Sources in creation order, or with `q` ranked by relevance (see
    /// [`crate::domain::search`]), optionally only the one with a URL or a publisher's.
    pub async fn list_sources(
        &self,
        actor: &Actor,
        filter: SourceQuery,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<SourceItem>> {
        require(actor, Permission::ReadRecords, "read sources")?;
        let url = filter
            .url
            .as_deref()
            .map(|u| validate::web_url(u).map_err(|m| AppError::field("url", m)))
            .transpose()?;
        let publisher = filter.publisher;
        if let Some(q) = &filter.q {
            ranked_only(filter.order)?;
            let query = search::parse_query("q", q)?;
            return self
                .search_sources(query, url, publisher, cursor, limit)
                .await;
        }
        let (after, limit) = page_args(cursor, limit)?;
        let order = filter.order;
        let items = self
            .store
            .fetch(move |tx| {
                Box::pin(async move {
                    db::list_sources(
                        tx,
                        url.as_deref(),
                        publisher.as_deref(),
                        after,
                        limit,
                        order,
                    )
                    .await
                })
            })
            .await?;
        let page = page(items, limit, |s| s.id);
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|source| SourceItem {
                    source,
                    matched: None,
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Adds a version and places every passage of the version before on it; an identical
    /// text already stored for the source is returned instead.
    pub async fn add_version(
        &self,
        actor: &Actor,
        source_id: SourceId,
        text: &str,
    ) -> Result<(Version, Outcome)> {
        require(actor, Permission::WriteRecords, "add versions")?;
        let text = BodyText::parse(text).map_err(|m| AppError::field("text", m))?;
        let version = Arc::new(
            cpu_bound("hashing and extracting figures", move || {
                NewVersion::new(text)
            })
            .await?,
        );
        let hash = version.sha256.clone();
        let same = self
            .store
            .fetch(move |tx| {
                Box::pin(async move { db::version_with_hash(tx, source_id, &hash).await })
            })
            .await?;
        if let Some(same) = same {
            return Ok((same, Outcome::Existing));
        }
        self.load_source(source_id).await?;
        let new_index = {
            let text = version.text.as_str().to_owned();
            cpu_bound("building the anchor index", move || {
                Arc::new(AnchorIndex::new(text))
            })
            .await?
        };
        // Placing runs before the write (it is CPU work); the write checks that neither the
        // versions nor the passages changed meanwhile, and places again if they did.
        for _ in 0..PLACING_ATTEMPTS {
            let previous = self.load_source(source_id).await?.version.number;
            let plan = self
                .plan_placements(source_id, previous, new_index.clone())
                .await?;
            let (actor, version) = (actor.who(), version.clone());
            let written = self
                .store
                .write(move |tx| {
                    Box::pin(async move {
                        // Decides on the source's versions, which other writers may add to.
                        tx.lock_writes().await?;
                        if let Some(same) =
                            db::version_with_hash(tx, source_id, &version.sha256).await?
                        {
                            return Ok(Some((same, Outcome::Existing)));
                        }
                        if !plan.still_current(tx, source_id).await? {
                            return Ok(None);
                        }
                        let stored = db::append_version(tx, source_id, &version, store::now())
                            .await?
                            .ok_or_else(|| not_found("source", source_id))?;
                        store::audit::append(tx, &actor, events::version_added(source_id, &stored))
                            .await?;
                        plan.write(tx, &actor).await?;
                        let kind = domain::changes::ChangeKind::SourceVersionAdded;
                        let data = domain::changes::version_data(source_id, stored.number);
                        store::cms::record_change(
                            tx,
                            kind.as_str(),
                            source_id.uuid(),
                            kind.is_public(),
                            &data,
                            stored.captured_at,
                        )
                        .await?;
                        Ok::<_, AppError>(Some((stored, Outcome::Created)))
                    })
                })
                .await?;
            if let Some((stored, outcome)) = written {
                if outcome == Outcome::Created {
                    self.anchors
                        .insert((source_id, stored.number), new_index.clone());
                }
                return Ok((stored, outcome));
            }
        }
        Err(AppError::Unavailable(
            "the source kept changing while its passages were placed on the new version".into(),
        ))
    }

    pub async fn list_versions(&self, actor: &Actor, source_id: SourceId) -> Result<Vec<Version>> {
        require(actor, Permission::ReadRecords, "read sources")?;
        let versions = self
            .store
            .fetch(|tx| Box::pin(db::list_versions(tx, source_id)))
            .await?;
        if versions.is_empty() {
            return Err(not_found("source", source_id));
        }
        Ok(versions)
    }

    pub async fn get_version(
        &self,
        actor: &Actor,
        source_id: SourceId,
        number: i64,
    ) -> Result<VersionText> {
        require(actor, Permission::ReadRecords, "read sources")?;
        self.load_version(source_id, number).await
    }

    pub(super) async fn load_version(
        &self,
        source_id: SourceId,
        number: i64,
    ) -> Result<VersionText> {
        let found = self
            .store
            .fetch(|tx| Box::pin(db::get_version(tx, source_id, number)))
            .await?;
        if let Some(v) = found {
            return Ok(v);
        }
        let source = self.load_source(source_id).await?;
        Err(AppError::UnknownVersion {
            source_id,
            number,
            latest: source.version.number,
        })
    }

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
                start_utf16: Some(span.start_utf16 as i64),
                end_utf16: Some(span.end_utf16 as i64),
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
                        let now_latest = db::get_source(tx, source_id)
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
                    let missing = db::missing_passages(tx, &appearances).await?;
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

    /// Claims in creation order, or with `q` ranked by relevance; with the list's filters.
    pub async fn list_claims(
        &self,
        actor: &Actor,
        filter: db::ClaimFilter,
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
    if !db::missing_passages(tx, &[passage_id]).await?.is_empty() {
        return Err(AppError::UnknownPassages {
            field: "passage_id",
            ids: vec![passage_id],
        });
    }
    Ok(())
}

/// Search results come best first: asking for another order is an error, not ignored.
fn ranked_only(order: domain::Order) -> Result<()> {
    if order.is_desc() {
        return Err(AppError::field(
            "order",
            "results of `q` are ranked best first; `order` applies to lists without `q`",
        ));
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

/// A new source's fields, checked; the text apart (its version is computed off the async
/// threads).
fn checked_source(
    input: SourceInput,
    import_key: Option<String>,
    rule: &domain::urls::UrlRule,
) -> Result<(NewSource, BodyText)> {
    let mut v = Validator::new();
    let title = v.check("title", ShortText::parse(&input.title));
    let url = optional(&mut v, "url", input.url.as_deref(), WebUrl::parse);
    let publisher = optional(
        &mut v,
        "publisher",
        input.publisher.as_deref(),
        ShortText::parse,
    );
    let published_at = optional(
        &mut v,
        "published_at",
        input.published_at.as_deref(),
        PublishedAt::parse,
    );
    let kind = optional(&mut v, "kind", input.kind.as_deref(), SourceKind::parse);
    let authors: Vec<ShortText> = input
        .authors
        .iter()
        .enumerate()
        .filter_map(|(i, a)| v.check(&format!("authors/{i}"), ShortText::parse(a)))
        .collect();
    let text = v.check("text", BodyText::parse(&input.text));
    let (Some(title), Some(text)) = (title, text) else {
        return Err(AppError::Validation(
            v.finish(|| ()).err().unwrap_or_default(),
        ));
    };
    let url_key = url
        .as_ref()
        .and_then(|u| domain::urls::lookup_form(u.as_str(), rule).ok());
    let new = v
        .finish(|| NewSource {
            title,
            title_derived: input.title_derived,
            url_key,
            url,
            publisher,
            authors,
            published_at,
            kind,
            import_key,
        })
        .map_err(AppError::Validation)?;
    Ok((new, text))
}

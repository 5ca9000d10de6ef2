//! Sources and their versions: storing them, correcting their metadata, finding and listing them.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::search;
use super::*;
use crate::domain::search::SourceItem;
use crate::store::sources as db;

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
                        .await?;
                    db::index_new_sources(tx, [(id, &new, &version)]).await
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
                let url = url.map(WebUrl::into_inner).unwrap_or_default();
                let (by_url, by_key) = match taken {
                    Constraint::SourceUrl => (url_key, None),
                    _ => (None, key),
                };
                return Err(self.source_exists(url, by_url, by_key).await);
            }
            Err(e) => return Err(e.into()),
        }
        let mut source = self.load_source(id).await?;
        source.warnings = Some(self.same_text_warnings(&source).await?);
        Ok(source)
    }

    /// After a write was refused because a URL (in lookup form) or an import key is taken,
    /// maybe by a request that won a race: the source that has it, as the conflict the
    /// client can act on.
    async fn source_exists(
        &self,
        url: String,
        by_url: Option<String>,
        by_key: Option<String>,
    ) -> AppError {
        let found = self
            .store
            .fetch(move |tx| {
                Box::pin(async move {
                    db::find_source_id(tx, by_url.as_deref(), by_key.as_deref()).await
                })
            })
            .await;
        match found {
            Ok(Some(id)) => AppError::SourceExists { id, url },
            Ok(None) => {
                AppError::Internal("a URL or import key conflicts, yet no source has it".into())
            }
            Err(e) => e.into(),
        }
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
                    if after.same_metadata(&before) {
                        return Ok(());
                    }
                    let event = events::source_updated(&before, &after);
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
                Err(self.source_exists(url, Some(lookup), None).await)
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
                    // Last, all together (see `store::search::index_sources`).
                    db::index_new_sources(tx, prepared.iter().map(|(id, n, v)| (*id, n, v)))
                        .await?;
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

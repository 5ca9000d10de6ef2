//! Sources, versions, passages, claims and evidence.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;

/// Validated input for a new source.
#[derive(Debug, Clone, Default)]
pub struct SourceInput {
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
    pub authors: Vec<String>,
    pub published_at: Option<String>,
    pub text: String,
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
}

impl App {
    pub async fn create_source(&self, actor: &str, input: SourceInput) -> Result<Source> {
        self.create_source_keyed(actor, input, None).await
    }

    /// Creates a source; `import_key` marks where an import found it.
    pub async fn create_source_keyed(
        &self,
        actor: &str,
        input: SourceInput,
        import_key: Option<String>,
    ) -> Result<Source> {
        let mut v = Validator::new();
        let title = v.check("title", validate::short_text(&input.title));
        let url = optional(&mut v, "url", input.url.as_deref(), validate::web_url);
        let publisher = optional(
            &mut v,
            "publisher",
            input.publisher.as_deref(),
            validate::short_text,
        );
        let published_at = optional(
            &mut v,
            "published_at",
            input.published_at.as_deref(),
            validate::published_at,
        );
        let authors = validate::authors(&input.authors, &mut v);
        let text = v.check("text", validate::body_text(&input.text));
        let (new, text) = v
            .finish(|| {
                let source = NewSource {
                    title: title.unwrap_or_default(),
                    url,
                    publisher,
                    authors,
                    published_at,
                    import_key,
                };
                (source, text.unwrap_or_default())
            })
            .map_err(AppError::Validation)?;
        if let Some(url) = &new.url
            && let Some(id) = self.store.find_source_id(Some(url), None).await?
        {
            return Err(AppError::SourceExists {
                id,
                url: url.clone(),
            });
        }
        let version = NewVersion::new(text);
        match self.store.insert_source(actor, &new, &version).await {
            Ok(source) => Ok(source),
            // Another request stored the same URL between our check and our write.
            Err(e) if store::is_unique_violation(&e) && new.url.is_some() => {
                let url = new.url.unwrap_or_default();
                match self.store.find_source_id(Some(&url), None).await? {
                    Some(id) => Err(AppError::SourceExists { id, url }),
                    None => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_source(&self, id: Uuid) -> Result<Source> {
        self.store
            .get_source(id)
            .await?
            .ok_or_else(|| not_found("source", id))
    }

    pub async fn list_sources(
        &self,
        url: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Source>> {
        let (after, limit) = page_args(cursor, limit)?;
        let url = match url {
            None => None,
            Some(u) => Some(validate::web_url(u).map_err(|m| {
                AppError::Validation(vec![FieldError {
                    field: "url".into(),
                    message: m,
                }])
            })?),
        };
        let items = self
            .store
            .list_sources(url.as_deref(), after, limit)
            .await?;
        Ok(page(items, limit, |s| s.id))
    }

    /// Adds a version; an identical text already stored for the source is returned instead.
    pub async fn add_version(
        &self,
        actor: &str,
        source_id: Uuid,
        text: &str,
    ) -> Result<(Version, Outcome)> {
        let mut v = Validator::new();
        let text = v.check("text", validate::body_text(text));
        let text = v
            .finish(|| text.unwrap_or_default())
            .map_err(AppError::Validation)?;
        self.store
            .add_version(actor, source_id, &NewVersion::new(text))
            .await?
            .ok_or_else(|| not_found("source", source_id))
    }

    pub async fn list_versions(&self, source_id: Uuid) -> Result<Vec<Version>> {
        let versions = self.store.list_versions(source_id).await?;
        if versions.is_empty() {
            return Err(not_found("source", source_id));
        }
        Ok(versions)
    }

    pub async fn get_version(&self, source_id: Uuid, number: i64) -> Result<VersionText> {
        if let Some(v) = self.store.get_version(source_id, number).await? {
            return Ok(v);
        }
        let source = self.get_source(source_id).await?;
        Err(AppError::UnknownVersion {
            source_id,
            number,
            latest: source.version.number,
        })
    }

    /// The folded view of a version, from the cache or built off the async threads.
    async fn anchor_index(&self, source_id: Uuid, number: i64) -> Result<Arc<AnchorIndex>> {
        if let Some(index) = self.anchors.get((source_id, number)) {
            return Ok(index);
        }
        let version = self.get_version(source_id, number).await?;
        let index = cpu_bound("building the anchor index", move || {
            Arc::new(AnchorIndex::new(version.text))
        })
        .await?;
        self.anchors.insert((source_id, number), index.clone());
        Ok(index)
    }

    /// Resolves a quote or positions on a version (default: latest) and stores the passage.
    pub async fn create_passage(
        &self,
        actor: &str,
        source_id: Uuid,
        input: PassageInput,
    ) -> Result<(Passage, Outcome)> {
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
        if let Some(n) = input.version
            && n < 1
        {
            v.error("version", "version numbers start at 1");
        }
        v.finish(|| ()).map_err(AppError::Validation)?;

        let source = self.get_source(source_id).await?;
        let number = input.version.unwrap_or(source.version.number);
        if number > source.version.number {
            return Err(AppError::UnknownVersion {
                source_id,
                number,
                latest: source.version.number,
            });
        }
        let index = self.anchor_index(source_id, number).await?;
        let span = cpu_bound("resolving the quote", move || {
            index.resolve(&Selector {
                quote: input.quote.as_deref(),
                prefix: input.prefix.as_deref(),
                suffix: input.suffix.as_deref(),
                start,
                end,
            })
        })
        .await?
        .map_err(|error| AppError::Anchor {
            error,
            version: number,
        })?;
        let new = NewPassage {
            source_id,
            version: number,
            start: span.start as i64,
            end: span.end as i64,
            exact: span.exact,
            prefix: span.prefix,
            suffix: span.suffix,
        };
        Ok(self.store.insert_passage(actor, &new).await?)
    }

    pub async fn get_passage(&self, id: Uuid) -> Result<Passage> {
        self.store
            .get_passage(id)
            .await?
            .ok_or_else(|| not_found("passage", id))
    }

    pub async fn create_claim(
        &self,
        actor: &str,
        text: &str,
        claimant: Option<&str>,
        appearances: &[Uuid],
    ) -> Result<ClaimView> {
        let mut v = Validator::new();
        let text = v.check(
            "text",
            validate::body_text(text).map(|t| t.trim().to_owned()),
        );
        let claimant = optional(&mut v, "claimant", claimant, validate::short_text);
        for (i, id) in appearances.iter().enumerate() {
            if appearances[..i].contains(id) {
                v.error(
                    format!("appearances/{i}"),
                    format!("passage {id} is listed twice"),
                );
            }
        }
        let text = v
            .finish(|| text.unwrap_or_default())
            .map_err(AppError::Validation)?;
        let missing = self.store.missing_passages(appearances).await?;
        if !missing.is_empty() {
            return Err(AppError::UnknownPassages {
                field: "appearances",
                ids: missing,
            });
        }
        let id = self
            .store
            .insert_claim(actor, &text, claimant.as_deref(), appearances)
            .await?;
        self.get_claim(id).await
    }

    /// A claim with its appearances, evidence, reviews and current verdict.
    pub async fn get_claim(&self, id: Uuid) -> Result<ClaimView> {
        let mut view = self
            .store
            .get_claim(id)
            .await?
            .ok_or_else(|| not_found("claim", id))?;
        view.reviews = self.store.claim_reviews(id).await?;
        view.verdict = view
            .reviews
            .iter()
            .rev()
            .find(|r| r.state == State::Published)
            .cloned();
        Ok(view)
    }

    pub async fn list_claims(
        &self,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<domain::Claim>> {
        let (after, limit) = page_args(cursor, limit)?;
        let items = self.store.list_claims(after, limit).await?;
        Ok(page(items, limit, |c| c.id))
    }

    pub async fn add_evidence(
        &self,
        actor: &str,
        claim_id: Uuid,
        passage_id: Uuid,
        stance: Stance,
        note: Option<&str>,
    ) -> Result<Evidence> {
        let mut v = Validator::new();
        let note = optional(&mut v, "note", note, validate::short_text);
        v.finish(|| ()).map_err(AppError::Validation)?;
        if !self.store.claim_exists(claim_id).await? {
            return Err(not_found("claim", claim_id));
        }
        if !self.store.missing_passages(&[passage_id]).await?.is_empty() {
            return Err(AppError::UnknownPassages {
                field: "passage_id",
                ids: vec![passage_id],
            });
        }
        let id = match self
            .store
            .insert_evidence(actor, claim_id, passage_id, stance, note.as_deref())
            .await
        {
            Ok(id) => id,
            Err(e) if store::is_unique_violation(&e) => {
                let id = self
                    .store
                    .evidence_id_for(claim_id, passage_id)
                    .await?
                    .ok_or(e)?;
                return Err(AppError::EvidenceExists { id });
            }
            Err(e) => return Err(e.into()),
        };
        let view = self.get_claim(claim_id).await?;
        view.evidence
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(|| {
                AppError::Internal(format!("evidence {id} vanished after it was written"))
            })
    }
}

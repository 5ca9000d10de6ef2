//! The lookup-form rule in force ([`UrlRule`]: the built-in rule and the deployment's extra
//! tracking parameters), and recomputing stored keys when it changes.

use super::*;
use crate::domain::urls::{self, UrlRule};
use crate::store::cms as db;

/// What recomputing the stored URL keys did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlRekeying {
    /// The rule's fingerprint recorded before (`None` on a database older than the record).
    pub previous: Option<String>,
    /// Source URLs (own and aliases) whose key changed.
    pub source_urls: usize,
    /// Source URLs dropped because an older one of another source now has their key:
    /// (dropped URL, its source, the source that keeps the key).
    pub dropped: Vec<(String, SourceId, SourceId)>,
    /// Reviews whose published URL key changed.
    pub published_urls: usize,
}

impl App {
    /// Sets the lookup-form rule (the extra tracking parameters of the settings).
    pub fn with_url_rule(mut self, rule: UrlRule) -> App {
        self.url_rule = Arc::new(rule);
        self
    }

    /// Sets the service's public base URL (`https://claims.example.org`, no trailing slash),
    /// for the absolute links of public documents; `None` leaves those links out.
    pub fn with_public_url(mut self, base: Option<String>) -> App {
        self.public_url = base.map(|b| Arc::from(b.trim_end_matches('/')));
        self
    }

    /// The service's public base URL, if set.
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    /// The lookup-form rule in force.
    pub fn url_rule(&self) -> &UrlRule {
        &self.url_rule
    }

    /// `url` in lookup form under the rule in force ([`urls::lookup_form`]); the message says
    /// what is wrong with it.
    pub fn lookup_form(&self, url: &str) -> std::result::Result<String, String> {
        urls::lookup_form(url, &self.url_rule)
    }

    /// Recomputes every stored lookup form (`source_urls.url_key`,
    /// `reviews.published_url_key`) when the rule in force differs from the one they were
    /// computed with, in one write that then records the rule. Runs at every start
    /// (`serve`, `migrate`), before the other upgrade steps. When two URLs now fold to one key,
    /// the older row keeps it and the other is dropped, with a warning naming both sources
    /// (add the URL as an alias of the source it belongs to, or correct it). `None` when the
    /// rule is the one recorded.
    pub async fn recompute_url_keys(&self) -> Result<Option<UrlRekeying>> {
        let rule = self.url_rule.clone();
        let fingerprint = rule.fingerprint();
        let at = store::now();
        let done = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let previous = db::url_rule(tx, at).await?;
                    if previous.as_deref() == Some(fingerprint.as_str()) {
                        return Ok::<_, AppError>(None);
                    }
                    let plan = urls::rekey(db::all_urls(tx).await?, &rule);
                    for (old_key, _) in &plan.moved {
                        db::delete_url(tx, old_key).await?;
                    }
                    for (row, _) in &plan.dropped {
                        db::delete_url(tx, &row.key).await?;
                    }
                    for (_, row) in &plan.moved {
                        db::insert_url(
                            tx,
                            &row.key,
                            row.source_id,
                            &row.url,
                            row.alias,
                            row.created_at,
                        )
                        .await?;
                    }
                    let mut published = 0;
                    for review in db::published_urls(tx).await? {
                        let Ok(key) = urls::lookup_form(&review.url, &rule) else {
                            continue;
                        };
                        if review.key.as_deref() != Some(key.as_str()) {
                            db::set_published_url_key(tx, review.id, &key).await?;
                            published += 1;
                        }
                    }
                    db::set_url_rule(tx, &fingerprint, at).await?;
                    // Every node's kept lookups were keyed by the old rule.
                    store::touches::touch(tx, vec![store::touches::Touch::All]).await?;
                    let report = UrlRekeying {
                        previous,
                        source_urls: plan.moved.len(),
                        dropped: plan
                            .dropped
                            .iter()
                            .map(|(row, kept)| (row.url.clone(), row.source_id, kept.source_id))
                            .collect(),
                        published_urls: published,
                    };
                    if report.source_urls + report.dropped.len() + published > 0 {
                        // What the lookup answers changed: the audit chain says so (and the
                        // lookup's kept answers go stale).
                        let event = events::url_keys_recomputed(
                            report.previous.as_deref(),
                            &fingerprint,
                            report.source_urls,
                            &report.dropped,
                            published,
                        );
                        store::audit::append(tx, &Who::operator("migration"), event).await?;
                    }
                    Ok(Some(report))
                })
            })
            .await?;
        if let Some(report) = &done {
            for (url, source, kept) in &report.dropped {
                tracing::warn!(
                    %url, %source, kept_by = %kept,
                    "under the new URL rule this URL of source {source} is the same article as a URL of the older source {kept}: \
                     the lookup now finds {kept} there; the URL row of {source} was dropped"
                );
            }
        }
        Ok(done)
    }
}

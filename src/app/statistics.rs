//! Statistics: the numeric mentions of each version, and the trace of one figure.

use super::*;
use crate::domain::statistics::{self, Mention};
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

    /// Extracts the mentions of versions stored before extraction existed (or by an older
    /// extractor); `progress` is told the total, then each version done.
    pub async fn backfill_mentions(&self, progress: impl Fn(usize, usize)) -> Result<usize> {
        let pending = self
            .store
            .fetch(|tx| Box::pin(db::not_extracted(tx)))
            .await?;
        let total = pending.len();
        for (done, (source_id, number)) in pending.into_iter().enumerate() {
            progress(done, total);
            let version = self.load_version(source_id, number).await?;
            let mentions = cpu_bound("extracting figures", move || {
                statistics::extract(&version.text)
            })
            .await?;
            self.store
                .write(move |tx| {
                    Box::pin(async move {
                        db::store(tx, source_id, number, &mentions).await?;
                        Ok::<_, AppError>(())
                    })
                })
                .await?;
        }
        progress(total, total);
        Ok(total)
    }
}

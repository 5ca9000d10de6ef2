//! Bookkeeping for idempotent POSTs: which key a request claimed and the response it got. Not
//! audited: it records requests, not the newsroom's records (the write a request makes is
//! audited as usual, once).

use std::time::Duration;

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;
use crate::domain::idempotency::{Begin, Decision, Kept, decide};
use crate::store::idempotency as db;

/// A first attempt still "running" after this long died with its process: a retry takes it
/// over (the write it made, if it committed, then happens again).
const ABANDONED_AFTER: Duration = Duration::from_secs(300);

impl App {
    /// Claims `key` for a request of `actor` with this fingerprint, kept for `ttl`.
    pub async fn idempotency_begin(
        &self,
        actor: &Actor,
        key: &str,
        fingerprint: String,
        ttl: Duration,
    ) -> Result<Begin> {
        let (key_id, key) = (actor.key_id, key.to_owned());
        let now = store::now();
        let expires = now + ttl;
        let abandoned_before = now - ABANDONED_AFTER;
        Ok(self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if db::claim(tx, key_id, &key, &fingerprint, now, expires).await? {
                        return Ok::<_, StoreError>(Begin::First);
                    }
                    let Some(earlier) = db::earlier(tx, key_id, &key).await? else {
                        // Claimed, and gone already (expired between the two statements).
                        return Ok(Begin::Running);
                    };
                    Ok(match decide(earlier, &fingerprint, abandoned_before) {
                        Decision::Answer(begin) => begin,
                        Decision::TakeOver => {
                            let taken =
                                db::take_over(tx, key_id, &key, abandoned_before, now, expires)
                                    .await?;
                            if taken { Begin::First } else { Begin::Running }
                        }
                    })
                })
            })
            .await?)
    }

    /// Keeps the response to a claimed key.
    pub async fn idempotency_finish(&self, actor: &Actor, key: &str, kept: Kept) -> Result<()> {
        let (key_id, key) = (actor.key_id, key.to_owned());
        Ok(self
            .store
            .write(move |tx| Box::pin(async move { db::finish(tx, key_id, &key, &kept).await }))
            .await?)
    }

    /// Releases a claimed key (the request failed on the server's side: a retry runs again).
    pub async fn idempotency_forget(&self, actor: &Actor, key: &str) -> Result<()> {
        let (key_id, key) = (actor.key_id, key.to_owned());
        Ok(self
            .store
            .write(move |tx| Box::pin(async move { db::forget(tx, key_id, &key).await }))
            .await?)
    }
}

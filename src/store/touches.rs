//! What a committed write changed for readers that keep answers in memory (the CMS lookup
//! and the keys behind it). A write names what it changed with [`Tx::touch`]; once its unit
//! of work commits, every subscriber of this process hears of it before the writer's caller
//! gets its answer, and on PostgreSQL the other API nodes hear of it through `NOTIFY`, sent in
//! the same transaction (so only committed changes are announced, in commit order).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use super::Result;
use super::exec::{Tx, stmt};

/// The PostgreSQL channel of these notices.
pub const CHANNEL: &str = "claimtrail_touched";

/// A notice larger than this goes out as [`Touch::All`] (PostgreSQL's limit is 8,000 bytes).
const MAX_NOTICE: usize = 7_000;

/// Something a write changed that a reader may keep in memory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", content = "v")]
pub enum Touch {
    /// What the lookup answers for this URL (in lookup form).
    Lookup(String),
    /// A key was revoked (or otherwise changed): who a token is must be read again.
    Keys,
    /// Anything: forget everything kept.
    All,
}

type Subscriber = Arc<dyn Fn(&[Touch]) + Send + Sync>;

/// The subscribers of one process, and whether every change made elsewhere reaches them.
#[derive(Default)]
pub struct Touches {
    subscribers: RwLock<Vec<Subscriber>>,
    /// Whether notices from other processes are known to arrive (always on SQLite, whose
    /// writes all go through this process's writer; on PostgreSQL while the listener is
    /// connected). A reader must not answer from memory when this is false.
    complete: AtomicBool,
}

impl std::fmt::Debug for Touches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Touches")
            .field("complete", &self.complete())
            .finish_non_exhaustive()
    }
}

impl Touches {
    pub(super) fn new(complete: bool) -> Arc<Touches> {
        let touches = Touches::default();
        touches.complete.store(complete, Ordering::SeqCst);
        Arc::new(touches)
    }

    /// Calls `f` with what every later commit changed, on the committing thread.
    pub fn subscribe(&self, f: impl Fn(&[Touch]) + Send + Sync + 'static) {
        self.subscribers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::new(f));
    }

    /// Whether memory may answer (see the field).
    pub fn complete(&self) -> bool {
        self.complete.load(Ordering::SeqCst)
    }

    pub(super) fn set_complete(&self, on: bool) {
        self.complete.store(on, Ordering::SeqCst);
    }

    pub(super) fn publish(&self, touched: &[Touch]) {
        if touched.is_empty() {
            return;
        }
        let subscribers = self
            .subscribers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for s in subscribers {
            s(touched);
        }
    }
}

/// Names what this unit of work changes for in-memory readers; heard once it commits.
pub async fn touch(tx: &mut Tx, touched: Vec<Touch>) -> Result<()> {
    if touched.is_empty() {
        return Ok(());
    }
    if tx.is_postgres() {
        let mut notice = serde_json::to_string(&touched).map_err(super::StoreError::other)?;
        if notice.len() > MAX_NOTICE {
            notice = serde_json::to_string(&[Touch::All]).map_err(super::StoreError::other)?;
        }
        tx.execute(stmt!("SELECT pg_notify($1, $2)", CHANNEL, notice))
            .await?;
    }
    tx.note_touched(touched);
    Ok(())
}

/// Keeps `touches` told of other nodes' commits: listens on [`CHANNEL`] while the pool is
/// open. While the connection is down the touches are marked incomplete (readers go to the
/// database); once it is back everything kept is forgotten, since notices sent meanwhile are
/// lost.
pub(super) fn listen(pool: sqlx::PgPool, touches: Arc<Touches>) {
    tokio::spawn(async move {
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(l) => l,
                Err(_) if pool.is_closed() => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other nodes' changes; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "cannot listen for other nodes' changes; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
            touches.publish(&[Touch::All]);
            touches.set_complete(true);
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => {
                        let touched: Vec<Touch> =
                            serde_json::from_str(n.payload()).unwrap_or_else(|_| vec![Touch::All]);
                        touches.publish(&touched);
                    }
                    // The connection was lost (and made again): notices may be lost.
                    Ok(None) => {
                        touches.set_complete(false);
                        touches.publish(&[Touch::All]);
                        touches.set_complete(true);
                    }
                    Err(e) => {
                        touches.set_complete(false);
                        touches.publish(&[Touch::All]);
                        if pool.is_closed() {
                            return;
                        }
                        tracing::warn!(error = %e, "lost the listener for other nodes' changes; reconnecting");
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        break;
                    }
                }
            }
        }
    });
}

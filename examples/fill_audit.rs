//! Fills a database's audit trail for the transparency log's benchmark (`scripts/bench-log.sh`):
//! `--count` entries appended as every write appends them (`store::audit::append`: chained,
//! with their tree hashes), a thousand to a transaction.
//!
//! ```sh
//! cargo run --release --example fill_audit -- --database-url /tmp/log.db --count 1000000
//! ```

use std::time::Instant;

use claimtrail::domain::access::Who;
use claimtrail::domain::audit::Event;
use claimtrail::store::{self, Store, StoreError};

const BATCH: u64 = 1000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut url = None;
    let mut count = 1_000_000u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--database-url" => url = args.next(),
            "--count" => count = args.next().expect("a count").parse()?,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let url = url.ok_or_else(|| anyhow::anyhow!("--database-url is required"))?;
    let store = Store::connect(&url, 4).await?;
    store.migrate().await?;
    let started = Instant::now();
    let mut done = 0;
    while done < count {
        let n = BATCH.min(count - done);
        let first = done;
        store
            .write(move |tx| {
                Box::pin(async move {
                    for i in first..first + n {
                        let event = Event::new(
                            "create",
                            "bench",
                            i,
                            serde_json::json!({"n": i, "text": "an entry of the benchmark's log"}),
                        );
                        store::audit::append(tx, &Who::operator("bench"), event).await?;
                    }
                    Ok::<_, StoreError>(())
                })
            })
            .await?;
        done += n;
    }
    store.close().await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{count} audit entries in {secs:.1} s ({:.0}/s)",
        count as f64 / secs
    );
    Ok(())
}

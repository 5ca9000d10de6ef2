//! Fills a database with claims for the search benchmark (`scripts/bench-search.sh`): short
//! statements in the style of the synthetic articles of `scale_trace` (an organisation, a
//! topic, a figure), each through `App::create_claim` (validated, indexed, audited), many
//! writes in flight. Deterministic (fixed seed).
//!
//! ```sh
//! cargo run --release --example fill_claims -- --database-url /tmp/search.db --count 100000
//! ```

use std::sync::Arc;
use std::time::Instant;

use claimtrail::app::App;
use claimtrail::domain::access::Actor;
use claimtrail::store::Store;

const WORKERS: usize = 32;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next() % words.len() as u64) as usize]
    }
}

const WHO: &[&str] = &[
    "The mayor",
    "The minister",
    "The central bank",
    "The opposition leader",
    "A senator",
    "The governor",
    "The World Bank",
    "The statistics office",
];
const WHAT: &[&str] = &[
    "remittances",
    "aid",
    "exports",
    "the budget",
    "migration",
    "unemployment",
    "the bridge",
    "school funding",
    "crime",
    "housing costs",
];
const VERB: &[&str] = &[
    "rose to",
    "fell to",
    "reached",
    "will cost",
    "doubled to",
    "stayed at",
];
const WHEN: &[&str] = &[
    "last year",
    "since 2019",
    "this decade",
    "in the first quarter",
    "under the new policy",
    "according to officials",
];

fn claim_text(n: usize, rng: &mut Rng) -> String {
    let figure = match rng.next() % 3 {
        0 => format!("${}.{} billion", 1 + n % 97, n % 10),
        1 => format!("{} percent", 1 + n % 60),
        _ => format!("{},{:03} people", 1 + n % 90, n % 1000),
    };
    format!(
        "{} said {} {} {} {} (claim {n}).",
        rng.pick(WHO),
        rng.pick(WHAT),
        rng.pick(VERB),
        figure,
        rng.pick(WHEN)
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut db, mut count) = (None, 100_000usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--database-url" => db = args.next(),
            "--count" => count = args.next().unwrap_or_default().parse()?,
            _ => anyhow::bail!("unknown argument {a}"),
        }
    }
    let db = db.ok_or_else(|| anyhow::anyhow!("--database-url URL"))?;
    let store = Store::connect(&db, 16).await?;
    store.migrate().await?;
    let app = Arc::new(App::new(store.clone(), 0));
    let mut rng = Rng(0x5EA2_C411);
    let texts: Arc<Vec<String>> = Arc::new((0..count).map(|n| claim_text(n, &mut rng)).collect());
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let (app, texts, next) = (app.clone(), texts.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let actor = Actor::operator("bench");
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(text) = texts.get(n) else { break };
                app.create_claim(&actor, text, None, &[])
                    .await
                    .map_err(|e| anyhow::anyhow!("claim {n}: {e}"))?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    store.close().await;
    eprintln!("{count} claims in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

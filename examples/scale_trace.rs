//! Scale of the statistics trace: a synthetic corpus imported through the batch write path
//! (`App::create_sources`: each source checked, extracted, stored and audited), then the trace timed at 10k, 100k and 1M
//! mentions.
//!
//! The generator is deterministic (fixed seed): articles of about 5 KB, where ten sentences
//! (among four times as many without a figure) each hold one figure
//! drawn from a pool of 10,000 statistics written in varied forms ("$4.5 billion", "4.5 billion
//! dollars", "about 15 percent", "6,000 visas") with citation cues ("according to …", "… said").
//! One planted statistic ("$7.77 billion") appears in exactly 100 sources among the first
//! thousand, so its trace has 100 hits at every size: its latency shows what the lookup costs
//! as the store grows. A pool statistic (its hits grow with the store) is timed too.
//!
//! Traces run through `App::trace` (the same use case as `GET /v1/trace`, without HTTP).
//!
//! ```sh
//! cargo run --release --example scale_trace -- --database-url /tmp/scale.db
//! cargo run --release --example scale_trace -- --database-url postgres://…/empty_db
//! ```
//!
//! `--write-files DIR` writes the same 100,000 articles as text files with a `manifest.json`
//! instead, to time `claimtrail import DIR` itself (`--count N`: the first N of them, as
//! `scripts/bench.sh` does for its short import).

use std::sync::Arc;
use std::time::{Duration, Instant};

use claimtrail::app::{App, SourceInput, TraceInput};
use claimtrail::domain::access::Actor;
use claimtrail::store::Store;

const SENTENCES: usize = 10;
/// Sentences without a figure before each one with a figure (about 5 KB per article).
const FILLER_SENTENCES: usize = 4;
const POOL: usize = 10_000;
const CHECKPOINTS: [usize; 3] = [1_000, 10_000, 100_000];
const TRACES: usize = 200;
/// Sources per unit of work, and batches written at once.
const BATCH: usize = 5000;
const WRITERS: usize = 2;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const ORGS: &[&str] = &[
    "the central bank",
    "the World Bank",
    "the statistics office",
    "the development bank",
    "the ministry",
    "UNHCR",
];
const TOPICS: &[&str] = &[
    "remittances",
    "aid",
    "exports",
    "the budget",
    "migration",
    "displacement",
];

/// One statistic of the pool, written in one of its forms.
fn figure(k: usize, rng: &mut Rng) -> String {
    let whole = 1 + k % 97;
    let tenth = (k / 97) % 10;
    match k % 4 {
        0 => match rng.below(3) {
            0 => format!("${whole}.{tenth} billion"),
            1 => format!("{whole}.{tenth} billion dollars"),
            _ => format!("${whole}.{tenth}bn"),
        },
        1 => format!("about {whole}.{tenth} percent"),
        2 => format!("{},{:03} visas", whole, k % 1000),
        _ => format!("more than {whole},{tenth}00 people"),
    }
}

fn sentence(fig: &str, rng: &mut Rng) -> String {
    let org = ORGS[rng.below(ORGS.len())];
    let topic = TOPICS[rng.below(TOPICS.len())];
    match rng.below(3) {
        0 => format!("According to {org}, {topic} reached {fig} last year."),
        1 => format!("The report put {topic} at {fig}, {org} said."),
        _ => format!("Data from {org} show {fig} in {topic} since 2019."),
    }
}

/// Words for the sentences between figures: articles state a figure every few sentences.
const FILLER: &[&str] = &[
    "officials",
    "families",
    "the region",
    "border",
    "program",
    "community",
    "workers",
    "government",
    "policy",
    "reported",
    "described",
    "returned",
    "across",
    "during",
    "while",
    "although",
    "residents",
    "schools",
    "roads",
    "harvest",
    "season",
    "church",
    "market",
];

fn filler(rng: &mut Rng) -> String {
    let words: Vec<&str> = (0..12 + rng.below(10))
        .map(|_| FILLER[rng.below(FILLER.len())])
        .collect();
    let mut s = words.join(" ");
    s[..1].make_ascii_uppercase();
    s.push('.');
    s
}

fn source_text(n: usize, rng: &mut Rng) -> String {
    let mut text = format!("Synthetic article {n}.\n\n");
    for s in 0..SENTENCES {
        for _ in 0..FILLER_SENTENCES {
            text.push_str(&filler(rng));
            text.push(' ');
        }
        let fig = if s == 0 && n < 1_000 && n.is_multiple_of(10) {
            "$7.77 billion".to_owned()
        } else {
            figure(rng.below(POOL), rng)
        };
        text.push_str(&sentence(&fig, rng));
        text.push(if s % 3 == 2 { '\n' } else { ' ' });
    }
    text
}

/// The metadata the database run gives each source.
fn meta(n: usize) -> (String, String, String) {
    (
        format!("Synthetic article {n}"),
        format!("Publisher {}", n % 50),
        format!("20{:02}-01-01", 10 + n % 15),
    )
}

/// The corpus as files for `claimtrail import`: one text per source and a manifest with the
/// same metadata the database run uses.
/// `count` is the number of articles (the first ones of the full run: the same texts).
fn write_files(dir: &std::path::Path, count: Option<usize>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng(0x2026_1127);
    let last = count.unwrap_or(*CHECKPOINTS.last().expect("checkpoints"));
    let mut documents = Vec::with_capacity(last);
    let mut bytes = 0usize;
    for n in 0..last {
        let text = source_text(n, &mut rng);
        bytes += text.len();
        let file = format!("article-{n:06}.txt");
        std::fs::write(dir.join(&file), text)?;
        let (title, publisher, published_at) = meta(n);
        documents.push(serde_json::json!({
            "file": file, "title": title, "publisher": publisher, "published_at": published_at,
        }));
    }
    let manifest = serde_json::json!({ "documents": documents });
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&manifest)?)?;
    println!(
        "{last} files, {:.1} MB of text, in {}",
        bytes as f64 / 1e6,
        dir.display()
    );
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut files = None;
    let mut count = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--database-url" => url = args.next(),
            "--write-files" => files = args.next(),
            "--count" => count = Some(args.next().unwrap_or_default().parse()?),
            _ => anyhow::bail!("unknown argument {a}"),
        }
    }
    if let Some(dir) = files {
        return write_files(std::path::Path::new(&dir), count);
    }
    let url = url.ok_or_else(|| anyhow::anyhow!("--database-url URL (an empty database)"))?;
    let store = Store::connect(&url, 16).await?;
    store.migrate().await?;
    let app = Arc::new(App::new(store.clone(), 64 << 20));
    let actor = Actor::operator("scale");
    let mut rng = Rng(0x2026_1127);
    let mut made = 0usize;
    let mut bytes = 0usize;
    let mut import_time = Duration::ZERO;
    println!("backend {}, {} writers", app.backend(), WRITERS);
    for checkpoint in CHECKPOINTS {
        let texts: Vec<String> = (made..checkpoint)
            .map(|n| source_text(n, &mut rng))
            .collect();
        let batch: usize = texts.iter().map(String::len).sum();
        let started = Instant::now();
        // Batches of sources, each written in one unit of work (as an import does); two at a
        // time, so one batch's extraction overlaps the other's write.
        let inputs: Vec<(SourceInput, Option<String>)> = texts
            .into_iter()
            .enumerate()
            .map(|(k, text)| {
                let n = made + k;
                let (title, publisher, published_at) = meta(n);
                let input = SourceInput {
                    title,
                    publisher: Some(publisher),
                    published_at: Some(published_at),
                    text,
                    ..SourceInput::default()
                };
                (input, None)
            })
            .collect();
        let queue = Arc::new(std::sync::Mutex::new(
            inputs.chunks(BATCH).map(<[_]>::to_vec).collect::<Vec<_>>(),
        ));
        let mut tasks = Vec::new();
        for _ in 0..WRITERS {
            let (app, actor, queue) = (app.clone(), actor.clone(), queue.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let Some(batch) = queue.lock().unwrap().pop() else {
                        return Ok::<_, anyhow::Error>(());
                    };
                    app.create_sources(&actor, batch)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
            }));
        }
        for t in tasks {
            t.await??;
        }
        let took = started.elapsed();
        import_time += took;
        bytes += batch;
        made = checkpoint;
        let counts = app.row_counts().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let mentions = counts
            .iter()
            .find(|(t, _)| t == "mentions")
            .map_or(0, |c| c.1);
        println!(
            "{checkpoint} sources, {mentions} mentions: imported {:.1} MB in {:.1} s ({:.1} MB/s; {:.1} MB/s overall)",
            batch as f64 / 1e6,
            took.as_secs_f64(),
            batch as f64 / 1e6 / took.as_secs_f64(),
            bytes as f64 / 1e6 / import_time.as_secs_f64(),
        );
        for query in ["$7.77bn", "$3.2 billion"] {
            let mut times = Vec::with_capacity(TRACES);
            let mut hits = 0;
            for _ in 0..TRACES {
                let t0 = Instant::now();
                let report = app
                    .trace(&actor, TraceInput::Text(query.to_owned()))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                times.push(t0.elapsed());
                hits = report.hits.len();
            }
            times.sort();
            println!(
                "  trace {query:<13} {hits:>4} hits: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                percentile(&times, 0.50).as_secs_f64() * 1e3,
                percentile(&times, 0.99).as_secs_f64() * 1e3,
                times.last().unwrap().as_secs_f64() * 1e3,
            );
        }
    }
    store.close().await;
    Ok(())
}

//! Fills a database for the lookup benchmark (`scripts/bench-lookup.sh`): 100,000 articles
//! with URLs (imported in batches), and 10,000 of them with a claim whose verdict is published
//! at the newsroom's page, each through the use cases (`App`), audited as usual. Prints the
//! article URL the benchmark looks up.
//!
//! ```sh
//! cargo run --release --example fill_lookup -- --database-url /tmp/lookup.db
//! ```

use std::sync::Arc;
use std::time::Instant;

use claimtrail::app::{App, PassageInput, ReviewInput, SourceInput};
use claimtrail::domain::access::Actor;
use claimtrail::domain::review::State;
use claimtrail::store::Store;

const SOURCES: usize = 100_000;
const REVIEWED: usize = 10_000;
const WORKERS: usize = 16;

fn url(n: usize) -> String {
    format!("https://news.example.org/{}/story-{n}", 2015 + n % 10)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut db = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--database-url" => db = args.next(),
            _ => anyhow::bail!("unknown argument {a}"),
        }
    }
    let db = db.ok_or_else(|| anyhow::anyhow!("--database-url URL (an empty database)"))?;
    let store = Store::connect(&db, 16).await?;
    store.migrate().await?;
    let app = Arc::new(App::new(store.clone(), 64 << 20).with_second_person_rule(false));
    let actor = Actor::operator("bench");
    let started = Instant::now();
    let inputs: Vec<(SourceInput, Option<String>)> = (0..SOURCES)
        .map(|n| {
            let text = format!(
                "Story {n}. The council said the new bridge cost ${n} million in total. \
                 Engineers disagreed with the figure and asked for the invoices.\n"
            );
            let input = SourceInput {
                title: format!("Story {n}"),
                url: Some(url(n)),
                publisher: Some(format!("Publisher {}", n % 50)),
                published_at: Some(format!("20{:02}-01-01", 15 + n % 10)),
                text,
                ..SourceInput::default()
            };
            (input, None)
        })
        .collect();
    let mut ids = Vec::with_capacity(SOURCES);
    for batch in inputs.chunks(5000) {
        ids.extend(
            app.create_sources(&actor, batch.to_vec())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    eprintln!(
        "{SOURCES} sources in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let queue = Arc::new(std::sync::Mutex::new((0..REVIEWED).collect::<Vec<_>>()));
    let ids = Arc::new(ids);
    let mut tasks = Vec::new();
    for _ in 0..WORKERS {
        let (app, actor, queue, ids) = (app.clone(), actor.clone(), queue.clone(), ids.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(n) = queue.lock().unwrap().pop() else {
                    return Ok::<_, anyhow::Error>(());
                };
                let err = |e: claimtrail::app::AppError| anyhow::anyhow!("{e}");
                let input = PassageInput {
                    quote: Some(format!("the new bridge cost ${n} million")),
                    ..PassageInput::default()
                };
                let (passage, _) = app
                    .create_passage(&actor, ids[n], input)
                    .await
                    .map_err(err)?;
                let claim = app
                    .create_claim(
                        &actor,
                        &format!("The new bridge cost ${n} million."),
                        Some("The council"),
                        &[passage.id],
                    )
                    .await
                    .map_err(err)?;
                let review = ReviewInput {
                    rating: "mostly_false".into(),
                    summary: "The invoices show a lower figure.".into(),
                    ..ReviewInput::default()
                };
                let mut r = app
                    .create_review(&actor, claim.claim.id, review)
                    .await
                    .map_err(err)?;
                for to in [State::InReview, State::Approved] {
                    r = app
                        .transition_review(&actor, r.id, to, None, Some(r.revision), None)
                        .await
                        .map_err(err)?;
                }
                let page = format!("https://factdesk.example/checks/{n}");
                app.transition_review(
                    &actor,
                    r.id,
                    State::Published,
                    None,
                    Some(r.revision),
                    Some(&page),
                )
                .await
                .map_err(err)?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    eprintln!(
        "{REVIEWED} claims with published verdicts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    println!("{}", url(REVIEWED / 2));
    Ok(())
}

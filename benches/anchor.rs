//! Quote resolution throughput on a large document, beside a plain `memchr::memmem` scan.
//!
//! The text is at least 10 MiB, built at start-up by repeating the five articles of
//! `../shared/corpus` (never copied into the repository) and ending with one sentinel sentence
//! written with typographic quotes, an em dash and a line break. `resolve` is given that
//! sentence as a person would paste it from a rendered page (straight quotes, a hyphen, spaces),
//! so it must fold the quote and scan the whole folded text for every occurrence; the baseline
//! is `memmem` looking for the sentence's exact original bytes in the same text, in the same run
//! and group, with the same `Throughput::Bytes`. The target is for `resolve` to reach at
//! least 0.3x the baseline's throughput. A quote that does not occur (full scan plus the
//! near-match search) is measured separately, as is building the index (`AnchorIndex::new`),
//! which happens once per stored version. `resolve_elided` is the sentinel as people cut it
//! (an ellipsis in the middle, curly quote marks around it).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use claimtrail::domain::anchor::{AnchorError, AnchorIndex, Selector, fold};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use memchr::memmem;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");
const MIN_LEN: usize = 10 * 1024 * 1024;

/// Occurs once, at the very end of the text, in its stored (typographic, hard-wrapped) form.
const SENTINEL: &str = "Sentinel passage \u{2014} \u{201C}written for the benchmark,\u{201D} \
                        it\u{2019}s\nhere once and nowhere else.";
/// The sentinel as pasted from a rendered page.
const PASTED: &str =
    "Sentinel passage - \"written for the benchmark,\" it's here once and nowhere else.";
/// The sentinel cut with an ellipsis, inside curly quote marks, as people paste quotes: it is
/// not in the text as it is, so `resolve` looks for it as it is, then without the marks, then
/// part by part.
const ELIDED: &str = "\u{201C}Sentinel passage - \u{2026} it's here once and nowhere else.\u{201D}";
/// Differs from the sentinel in its middle, so it is not found but has a near match.
const MISSING: &str =
    "Sentinel passage - \"written for the benchmark,\" it's here twice and nowhere else.";

/// The corpus articles, repeated until the text is at least [`MIN_LEN`], then the sentinel.
fn large_text() -> String {
    let mut paths: Vec<_> = std::fs::read_dir(CORPUS)
        .unwrap_or_else(|e| panic!("cannot read {CORPUS}: {e}"))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 5, "expected five *.txt files in {CORPUS}");
    let articles: Vec<String> = paths.iter().map(|p| read(p)).collect();
    let mut text = String::with_capacity(MIN_LEN + 64 * 1024);
    while text.len() < MIN_LEN {
        for article in &articles {
            text.push_str(article);
            text.push_str("\n\n");
        }
    }
    text.push_str(SENTINEL);
    text
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn quote(q: &str) -> Selector<'_> {
    Selector {
        quote: Some(q),
        ..Selector::default()
    }
}

fn search(c: &mut Criterion) {
    let text = large_text();
    let index = AnchorIndex::new(text.clone());
    let needle = SENTINEL.as_bytes();
    let finder = memmem::Finder::new(needle);
    let at = text.len() - SENTINEL.len();

    // Check what is measured before measuring it.
    assert_eq!(fold(PASTED), fold(SENTINEL));
    assert_eq!(memmem::find(text.as_bytes(), needle), Some(at));
    assert_eq!(finder.find(text.as_bytes()), Some(at));
    let span = index
        .resolve(&quote(PASTED))
        .expect("the pasted sentinel resolves");
    assert_eq!(span.exact, SENTINEL);
    assert_eq!(span.end, index.char_len());
    let elided = index
        .resolve(&quote(ELIDED))
        .expect("the elided sentinel resolves");
    assert_eq!(elided.exact, SENTINEL);
    match index.resolve(&quote(MISSING)) {
        Err(AnchorError::NotFound { near: Some(_), .. }) => {}
        other => panic!("expected NotFound with a near match, got {other:?}"),
    }

    // `scripts/bench.sh` sets CLAIMTRAIL_BENCH_SHORT: fewer samples, the same comparison.
    let short = std::env::var_os("CLAIMTRAIL_BENCH_SHORT").is_some();
    let mut group = c.benchmark_group("anchor_search");
    group
        .throughput(Throughput::Bytes(text.len() as u64))
        .sample_size(if short { 20 } else { 50 })
        .warm_up_time(Duration::from_millis(if short { 500 } else { 2000 }))
        .measurement_time(Duration::from_secs(if short { 2 } else { 5 }));
    group.bench_function("memmem_find", |b| {
        b.iter(|| memmem::find(black_box(text.as_bytes()), black_box(needle)))
    });
    group.bench_function("memmem_finder_prebuilt", |b| {
        b.iter(|| finder.find(black_box(text.as_bytes())))
    });
    group.bench_function("resolve_found", |b| {
        b.iter(|| {
            let _ = black_box(index.resolve(black_box(&quote(PASTED))));
        })
    });
    group.bench_function("resolve_elided", |b| {
        b.iter(|| {
            let _ = black_box(index.resolve(black_box(&quote(ELIDED))));
        })
    });
    group.bench_function("resolve_not_found", |b| {
        b.iter(|| {
            let _ = black_box(index.resolve(black_box(&quote(MISSING))));
        })
    });
    group.finish();

    let mut group = c.benchmark_group("anchor_index");
    group
        .throughput(Throughput::Bytes(text.len() as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("index_new", |b| {
        b.iter_batched(|| text.clone(), AnchorIndex::new, BatchSize::LargeInput)
    });
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);

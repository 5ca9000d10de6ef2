//! Re-anchoring 1,000 passages of a 1 MB version onto an edited successor, beside a plain
//! exact re-search of every quote (with its prefix and suffix) in the same run.
//!
//! The text is generated from the words of `../shared/corpus` (read from there, never copied
//! into the repository) by a fixed-seed generator: sentences of 8 to 24 words with figures
//! ("$4.5 billion", "6,000", "15 percent") mixed in, paragraphs of 3 to 6 sentences,
//! hard-wrapped at 72 columns, until it is at least 1 MiB. The successor has 300 scattered
//! edits (a word replaced, a figure changed, a sentence inserted, words deleted) and every line
//! re-wrapped at 60 columns. Both measurements include building the new version's folded index,
//! as adding a version does; the old version's index is built once (the app keeps it cached).
//! The target: re-anchoring in under 200 ms. The counts of each outcome are printed.

use std::hint::black_box;
use std::time::Duration;

use claimtrail::domain::anchor::reanchor::{PlacementState, Prior, Revision};
use claimtrail::domain::anchor::{AnchorIndex, Selector, Span};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus");
const TARGET_BYTES: usize = 1 << 20;
const PASSAGES: usize = 1000;
const EDITS: usize = 300;

/// A fixed-seed xorshift generator: the same text on every run and machine.
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

fn vocabulary() -> Vec<String> {
    let mut words: Vec<String> = std::fs::read_dir(CORPUS)
        .unwrap_or_else(|e| panic!("cannot read {CORPUS}: {e}"))
        .map(|e| e.expect("corpus entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .flat_map(|p| {
            std::fs::read_to_string(&p)
                .expect("corpus text")
                .split_whitespace()
                .filter(|w| !w.contains(|c: char| c.is_ascii_digit()))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

fn figure(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("${}.{} billion", 1 + rng.below(20), rng.below(10)),
        1 => format!("{},{:03}", 1 + rng.below(900), rng.below(1000)),
        _ => format!("{} percent", 1 + rng.below(99)),
    }
}

fn sentence(rng: &mut Rng, vocab: &[String], len: usize) -> Vec<String> {
    let mut words: Vec<String> = (0..len)
        .map(|_| match rng.below(12) {
            0 => figure(rng),
            _ => vocab[rng.below(vocab.len())].clone(),
        })
        .collect();
    if let Some(last) = words.last_mut() {
        last.push('.');
    }
    words
}

/// Paragraphs of words (a figure such as "$4.5 billion" counts as one word here).
fn document(rng: &mut Rng, vocab: &[String]) -> Vec<Vec<String>> {
    let mut doc = Vec::new();
    let mut bytes = 0;
    while bytes < TARGET_BYTES {
        let mut paragraph = Vec::new();
        for _ in 0..3 + rng.below(4) {
            let len = 8 + rng.below(17);
            paragraph.extend(sentence(rng, vocab, len));
        }
        bytes += paragraph.iter().map(|w| w.len() + 1).sum::<usize>();
        doc.push(paragraph);
    }
    doc
}

/// The text wrapped at `width` columns, and each word's first code point.
fn render(doc: &[Vec<String>], width: usize) -> (String, Vec<usize>) {
    let (mut text, mut starts) = (String::new(), Vec::new());
    let mut cps = 0;
    for paragraph in doc {
        if !text.is_empty() {
            text.push_str("\n\n");
            cps += 2;
        }
        let mut line = 0;
        for word in paragraph {
            let len = word.chars().count();
            if line > 0 {
                text.push(if line + 1 + len > width { '\n' } else { ' ' });
                line = if line + 1 + len > width { 0 } else { line + 1 };
                cps += 1;
            }
            starts.push(cps);
            text.push_str(word);
            cps += len;
            line += len;
        }
    }
    (text, starts)
}

/// 300 scattered edits of four kinds.
fn edit(doc: &[Vec<String>], rng: &mut Rng, vocab: &[String]) -> Vec<Vec<String>> {
    let mut doc = doc.to_vec();
    for _ in 0..EDITS {
        let p = rng.below(doc.len());
        let paragraph = &mut doc[p];
        let w = rng.below(paragraph.len());
        match rng.below(4) {
            0 => paragraph[w] = vocab[rng.below(vocab.len())].clone(),
            1 => {
                let at = (w..paragraph.len())
                    .find(|&i| paragraph[i].contains(|c: char| c.is_ascii_digit()))
                    .unwrap_or(w);
                paragraph[at] = figure(rng);
            }
            2 => {
                let inserted = sentence(rng, vocab, 10);
                paragraph.splice(w..w, inserted);
            }
            _ => {
                let end = (w + 1 + rng.below(3)).min(paragraph.len());
                if end - w < paragraph.len() {
                    paragraph.drain(w..end);
                }
            }
        }
    }
    doc
}

struct Setup {
    old: AnchorIndex,
    new_text: String,
    passages: Vec<Span>,
}

fn setup() -> Setup {
    let vocab = vocabulary();
    let mut rng = Rng(0x2026_1127);
    let doc = document(&mut rng, &vocab);
    let (old_text, starts) = render(&doc, 72);
    let (new_text, _) = render(&edit(&doc, &mut rng, &vocab), 60);
    let old = AnchorIndex::new(old_text);
    let words = starts.len();
    let passages = (0..PASSAGES)
        .map(|_| {
            let first = rng.below(words - 30);
            let last = first + 5 + rng.below(15);
            let end = starts[last + 1] - 1;
            old.resolve(&Selector {
                start: Some(starts[first]),
                end: Some(end),
                ..Selector::default()
            })
            .expect("a span of whole words")
        })
        .collect();
    Setup {
        old,
        new_text,
        passages,
    }
}

fn reanchor(s: &Setup, new_text: String) -> [usize; 3] {
    let new = AnchorIndex::new(new_text);
    let mut revision = Revision::new(&s.old, &new);
    let mut counts = [0; 3];
    for p in &s.passages {
        let r = revision.place(
            &Prior::At {
                start: p.start,
                end: p.end,
            },
            &p.exact,
        );
        counts[match r.state {
            PlacementState::Placed => 0,
            PlacementState::Changed => 1,
            PlacementState::Orphaned => 2,
        }] += 1;
    }
    counts
}

fn exact_research(s: &Setup, new_text: String) -> [usize; 2] {
    let new = AnchorIndex::new(new_text);
    let mut counts = [0; 2];
    for p in &s.passages {
        let found = new.resolve(&Selector {
            quote: Some(&p.exact),
            prefix: Some(&p.prefix),
            suffix: Some(&p.suffix),
            ..Selector::default()
        });
        counts[usize::from(found.is_err())] += 1;
    }
    counts
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let [placed, changed, orphaned] = reanchor(&s, s.new_text.clone());
    let [found, lost] = exact_research(&s, s.new_text.clone());
    eprintln!(
        "{} bytes -> {} bytes, {PASSAGES} passages, {EDITS} edits: re-anchoring placed {placed}, \
         changed {changed}, orphaned {orphaned}; exact re-search found {found}, lost {lost}",
        s.old.text().len(),
        s.new_text.len()
    );
    // `scripts/bench.sh` sets CLAIMTRAIL_BENCH_SHORT: fewer seconds, the same comparison.
    let short = std::env::var_os("CLAIMTRAIL_BENCH_SHORT").is_some();
    let mut group = c.benchmark_group("reanchor_1mb");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(if short { 500 } else { 3000 }))
        .measurement_time(Duration::from_secs(if short { 2 } else { 10 }));
    group.bench_function("reanchor_1000_passages", |b| {
        b.iter_batched(
            || s.new_text.clone(),
            |text| black_box(reanchor(&s, text)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("exact_research_1000_quotes", |b| {
        b.iter_batched(
            || s.new_text.clone(),
            |text| black_box(exact_research(&s, text)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Re-anchoring: where a passage of one version stands in the next version of its source.
//!
//! Both versions are compared in their folded form (see [`super::fold`]), split into words,
//! so a reflow, typographic quotes or dashes change nothing. Methods are tried in order, and a
//! later one only runs when the earlier ones settle nothing:
//!
//! 1. **diff**: the passage's boundaries are mapped through a word diff of the two versions
//!    (imara-diff, histogram). If the words between them are the passage's words, it is found.
//! 2. **quote**: its folded text is searched in the new version (a moved paragraph).
//! 3. **diff** again, for edited text: if the diff maps both boundaries onto unchanged words
//!    right beside them, or the mapped text keeps at least [`CHANGED_MIN`] of its words, the
//!    passage is there with other words.
//! 4. **fuzzy**: windows of the new version that share the passage's rarer words are scored
//!    `0.7 * words + 0.1 * prefix + 0.1 * suffix + 0.1 * position` (each from 0 to 1; words is
//!    `2 * common / (old + new)` over a word diff, prefix and suffix the share of the context
//!    that still adjoins, position how close the relative offset stayed). The best window is
//!    taken if it scores at least [`FUZZY_MIN`] and beats the next by [`FUZZY_MARGIN`].
//!
//! Whenever the text occurs more than once in the new version, the diff alone settles nothing:
//! the passage's own prefix and suffix must single one occurrence out (its context must match
//! at least [`CONTEXT_MARGIN`] characters more there than at any other), or it is orphaned.
//! Nothing is ever guessed: an unclear case is `orphaned` and says why.
//!
//! A placement is `placed` only when its text folds to the passage's text, so a changed figure
//! is always `changed` and the numbers that differ are named, whatever the scores say.

use super::{AnchorIndex, CONTEXT_CHARS, SPACE, Span, fold};
use crate::domain::statistics::{Mention, extract};
use imara_diff::{Algorithm, Diff, Hunk, InternedInput, Token};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// The word maps' hasher: rapidhash with a random seed. std's SipHash was a fifth of the time
/// of re-anchoring 1,000 passages (`benches/reanchor.rs`).
type Words = rapidhash::fast::RandomState;

/// Characters of context by which one occurrence must beat every other to be chosen.
pub const CONTEXT_MARGIN: usize = 8;
/// Share of its words an edited passage must keep for the diff to place it without anchors.
pub const CHANGED_MIN: f64 = 0.5;
/// Lowest fuzzy score that places a passage.
pub const FUZZY_MIN: f64 = 0.6;
/// By how much the best fuzzy window must beat the next one.
pub const FUZZY_MARGIN: f64 = 0.1;
/// A quote of this many words found verbatim is a moved sentence, not a lookalike, even when
/// its context changed.
const WHOLE_SENTENCE: usize = 8;
/// Fuzzy windows scored per passage.
const FUZZY_WINDOWS: usize = 4;
/// Words that occur more often than this in the new version do not propose fuzzy windows.
const COMMON_WORD: usize = 64;

/// Where a passage stands in a later version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlacementState {
    /// Found exactly once with the same text (positions may have moved).
    Placed,
    /// Found, but its text differs.
    Changed,
    /// Not found, or not singled out from other candidates.
    Orphaned,
}

impl PlacementState {
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementState::Placed => "placed",
            PlacementState::Changed => "changed",
            PlacementState::Orphaned => "orphaned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Placed, Self::Changed, Self::Orphaned]
            .into_iter()
            .find(|state| state.as_str() == s)
    }
}

/// How a placement was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlacementMethod {
    Diff,
    Quote,
    Fuzzy,
    /// A person placed or confirmed it.
    Manual,
}

impl PlacementMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementMethod::Diff => "diff",
            PlacementMethod::Quote => "quote",
            PlacementMethod::Fuzzy => "fuzzy",
            PlacementMethod::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Diff, Self::Quote, Self::Fuzzy, Self::Manual]
            .into_iter()
            .find(|method| method.as_str() == s)
    }
}

/// Why a passage is orphaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrphanReason {
    /// Nothing in the new version is close enough.
    NotFound,
    /// Several candidates, none singled out by the passage's context.
    Ambiguous,
}

/// What is known of a passage on the version before.
#[derive(Debug, Clone, Copy)]
pub enum Prior<'a> {
    /// Its span there, in code points (its own span, or where it was placed).
    At { start: usize, end: usize },
    /// It was orphaned there: only its own quote and context are known.
    Lost {
        exact: &'a str,
        prefix: &'a str,
        suffix: &'a str,
    },
}

/// How a changed passage's text differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Change {
    /// The passage's text (or the text last confirmed by a person).
    pub before: String,
    /// The text now at the placement.
    pub after: String,
    /// Word-level diff from `before` to `after`.
    pub words: Vec<WordEdit>,
    /// Figures that differ, if any: numbers are never matched fuzzily.
    pub numbers: Option<NumberChange>,
}

/// One run of the word diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WordEdit {
    pub op: WordOp,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WordOp {
    Equal,
    Delete,
    Insert,
}

/// Figures of the old text missing from the new one, and the new ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NumberChange {
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

/// The result of placing one passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Reanchored {
    pub state: PlacementState,
    /// `None` when orphaned.
    pub method: Option<PlacementMethod>,
    /// `None` when orphaned.
    pub span: Option<Span>,
    /// 1 when placed; the word similarity (or fuzzy score) when changed; the best fuzzy score
    /// when orphaned.
    pub score: f64,
    pub change: Option<Change>,
    pub orphan: Option<Orphan>,
}

/// Why a passage is orphaned, with the number of candidates weighed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Orphan {
    pub reason: OrphanReason,
    pub candidates: usize,
}

/// One old token maps to a new one, or lies inside a changed hunk.
#[derive(Debug, Clone, Copy)]
enum Mapped {
    Same(u32),
    Hunk(u32),
}

/// What is searched for: a passage's folded text and context.
struct Query {
    needle: Vec<u8>,
    prefix: Vec<u8>,
    suffix: Vec<u8>,
    /// Its folded range on the old version, when known.
    at: Option<(usize, usize)>,
    /// Relative position on the old version (0 to 1), when known.
    rel: Option<f64>,
}

/// Two versions compared once; [`Revision::place`] then places each passage.
pub struct Revision<'a> {
    old: &'a AnchorIndex,
    new: &'a AnchorIndex,
    old_tokens: Vec<(u32, u32)>,
    new_tokens: Vec<(u32, u32)>,
    /// Word ids of the new version, in order.
    after: Vec<Token>,
    /// Id of each distinct word of either version.
    ids: HashMap<&'a [u8], Token, Words>,
    map: Vec<Mapped>,
    hunks: Vec<Hunk>,
    /// Positions of each word in the new version (compressed rows by token id).
    post_start: Vec<u32>,
    post: Vec<u32>,
}

/// Word ranges of a folded text (white space is one ASCII space there).
fn tokens(folded: &[u8]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(folded.len() / 6);
    let mut start = None;
    for (i, &b) in folded.iter().enumerate() {
        match (b == SPACE as u8, start) {
            (true, Some(s)) => {
                out.push((s as u32, i as u32));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s as u32, folded.len() as u32));
    }
    out
}

fn is_char_start(b: u8) -> bool {
    b & 0xC0 != 0x80
}

/// Characters that end both `a` and `b`.
fn common_suffix_chars(a: &[u8], b: &[u8]) -> usize {
    let n = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    a[a.len() - n..]
        .iter()
        .filter(|&&b| is_char_start(b))
        .count()
}

/// Characters that begin both `a` and `b`.
fn common_prefix_chars(a: &[u8], b: &[u8]) -> usize {
    let n = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    a[..n].iter().filter(|&&b| is_char_start(b)).count()
}

fn char_count(s: &[u8]) -> usize {
    s.iter().filter(|&&b| is_char_start(b)).count()
}

/// The last [`CONTEXT_CHARS`] characters before `at` and the first after `end`, white space
/// next to the span left out (clients trim it).
fn context(folded: &[u8], at: usize, end: usize) -> (Vec<u8>, Vec<u8>) {
    let before = &folded[..at];
    let before = before.strip_suffix(b" ").unwrap_or(before);
    let mut from = before.len();
    let mut chars = 0;
    while from > 0 && chars < CONTEXT_CHARS {
        from -= 1;
        if is_char_start(before[from]) {
            chars += 1;
        }
    }
    let after = &folded[end..];
    let after = after.strip_prefix(b" ").unwrap_or(after);
    let mut to = 0;
    let mut chars = 0;
    while to < after.len() && chars <= CONTEXT_CHARS {
        if is_char_start(after[to]) {
            chars += 1;
            if chars > CONTEXT_CHARS {
                break;
            }
        }
        to += 1;
    }
    (before[from..].to_vec(), after[..to].to_vec())
}

impl<'a> Revision<'a> {
    /// Compares two versions: linear in their length plus the diff.
    pub fn new(old: &'a AnchorIndex, new: &'a AnchorIndex) -> Self {
        let old_tokens = tokens(&old.folded);
        let new_tokens = tokens(&new.folded);
        let mut ids: HashMap<&'a [u8], Token, Words> = HashMap::with_capacity_and_hasher(
            old_tokens.len().max(new_tokens.len()),
            Words::default(),
        );
        let mut intern = |word: &'a [u8]| {
            let next = Token(ids.len() as u32);
            *ids.entry(word).or_insert(next)
        };
        let before: Vec<Token> = old_tokens
            .iter()
            .map(|&(s, e)| intern(&old.folded[s as usize..e as usize]))
            .collect();
        let after: Vec<Token> = new_tokens
            .iter()
            .map(|&(s, e)| intern(&new.folded[s as usize..e as usize]))
            .collect();
        let mut diff = Diff::default();
        diff.compute_with(Algorithm::Histogram, &before, &after, ids.len() as u32);
        let hunks: Vec<Hunk> = diff.hunks().collect();
        let mut map = Vec::with_capacity(old_tokens.len());
        let (mut i, mut j) = (0u32, 0u32);
        for (k, h) in hunks.iter().enumerate() {
            while i < h.before.start {
                map.push(Mapped::Same(j));
                i += 1;
                j += 1;
            }
            map.extend(h.before.clone().map(|_| Mapped::Hunk(k as u32)));
            (i, j) = (h.before.end, h.after.end);
        }
        while (i as usize) < old_tokens.len() {
            map.push(Mapped::Same(j));
            i += 1;
            j += 1;
        }
        let mut post_start = vec![0u32; ids.len() + 1];
        for t in &after {
            post_start[t.0 as usize + 1] += 1;
        }
        for k in 1..post_start.len() {
            post_start[k] += post_start[k - 1];
        }
        let mut fill = post_start.clone();
        let mut post = vec![0u32; after.len()];
        for (pos, t) in after.iter().enumerate() {
            post[fill[t.0 as usize] as usize] = pos as u32;
            fill[t.0 as usize] += 1;
        }
        Revision {
            old,
            new,
            old_tokens,
            new_tokens,
            after,
            ids,
            map,
            hunks,
            post_start,
            post,
        }
    }

    /// Places one passage on the new version. `baseline` is the text it must still have to
    /// count as `placed`: the passage's own, or the one a person last confirmed.
    pub fn place(&mut self, prior: &Prior<'_>, baseline: &str) -> Reanchored {
        let q = self.query(prior);
        if q.needle.is_empty() {
            return orphaned(OrphanReason::NotFound, 0, 0.0);
        }
        let mut region = None;
        if let Some((fs, fe)) = q.at
            && let (Some((ns, left)), Some((ne, right))) = (self.map_left(fs), self.map_right(fe))
            && ns < ne
        {
            let (ns, ne) = self.widen(ns, ne);
            if self.new.folded[ns..ne] == q.needle[..] {
                let found = self.occurrences(&q.needle);
                return match self.single_out(&found, &q) {
                    Some(i) if found[i] == (ns, ne) => {
                        self.found((ns, ne), PlacementMethod::Diff, None, baseline)
                    }
                    _ => orphaned(OrphanReason::Ambiguous, found.len(), 0.0),
                };
            }
            region = Some((ns, ne, left && right));
        }
        // Where the diff puts the passage, edited: its boundaries sit on unchanged words right
        // beside them, or it keeps enough of its words.
        let edited = region.and_then(|(ns, ne, anchored)| {
            let similar = similarity(&q.needle, &self.new.folded[ns..ne]);
            let bounded = ne - ns <= 3 * q.needle.len() + 64;
            (similar >= CHANGED_MIN || (anchored && bounded)).then_some((ns, ne))
        });
        let found = self.occurrences(&q.needle);
        if let Some(at) = edited {
            // The same words elsewhere (a lookalike, a pull-quote) are taken over the place the
            // diff points at only when their context beats it by the margin.
            let best = found
                .iter()
                .map(|&hit| (self.context_score(hit, &q), hit))
                .max();
            return match best {
                Some((score, hit)) if score >= self.context_score(at, &q) + CONTEXT_MARGIN => {
                    self.found(hit, PlacementMethod::Quote, None, baseline)
                }
                _ => self.found(at, PlacementMethod::Diff, None, baseline),
            };
        }
        if !found.is_empty() {
            return match self.single_out(&found, &q) {
                // Nothing from the diff supports it: its context must, unless it is a sentence
                // long enough not to be a lookalike.
                Some(i)
                    if self.context_score(found[i], &q) >= CONTEXT_MARGIN
                        || tokens(&q.needle).len() >= WHOLE_SENTENCE =>
                {
                    self.found(found[i], PlacementMethod::Quote, None, baseline)
                }
                Some(_) => orphaned(OrphanReason::NotFound, found.len(), 0.0),
                None => orphaned(OrphanReason::Ambiguous, found.len(), 0.0),
            };
        }
        match self.fuzzy(&q) {
            Ok((range, score)) => self.found(range, PlacementMethod::Fuzzy, Some(score), baseline),
            Err((why, score)) => orphaned(why.reason, why.candidates, score),
        }
    }

    fn query(&self, prior: &Prior<'_>) -> Query {
        match *prior {
            Prior::At { start, end } => {
                let end = end.min(self.old.char_len());
                let start = start.min(end);
                let (fs, fe) = self.old.folded_range(start, end);
                let (prefix, suffix) = context(&self.old.folded, fs, fe);
                Query {
                    needle: self.old.folded[fs..fe].to_vec(),
                    prefix,
                    suffix,
                    at: Some((fs, fe)),
                    rel: Some(fs as f64 / self.old.folded.len().max(1) as f64),
                }
            }
            Prior::Lost {
                exact,
                prefix,
                suffix,
            } => Query {
                needle: fold(exact).into_bytes(),
                prefix: fold(prefix).into_bytes(),
                suffix: fold(suffix).into_bytes(),
                at: None,
                rel: None,
            },
        }
    }

    /// The new position of a passage's first folded byte, and whether the words on its left
    /// are unchanged right up to it.
    fn map_left(&self, fs: usize) -> Option<(usize, bool)> {
        let t = self.old_tokens.partition_point(|&(_, e)| e as usize <= fs);
        let &(ts, _) = self.old_tokens.get(t)?;
        let offset = fs.saturating_sub(ts as usize);
        Some(match self.map[t] {
            Mapped::Same(u) => (self.new_tokens[u as usize].0 as usize + offset, true),
            Mapped::Hunk(h) => {
                let h = &self.hunks[h as usize];
                let at = self
                    .new_tokens
                    .get(h.after.start as usize)
                    .map_or(self.new.folded.len(), |&(s, _)| s as usize);
                (at, offset == 0 && t as u32 == h.before.start)
            }
        })
    }

    /// The new position of a passage's end, and whether the words on its right are unchanged
    /// from there on.
    fn map_right(&self, fe: usize) -> Option<(usize, bool)> {
        let t = self
            .old_tokens
            .partition_point(|&(s, _)| (s as usize) < fe)
            .checked_sub(1)?;
        let (ts, te) = self.old_tokens[t];
        let within = fe.min(te as usize) - ts as usize;
        Some(match self.map[t] {
            Mapped::Same(u) => (self.new_tokens[u as usize].0 as usize + within, true),
            Mapped::Hunk(h) => {
                let h = &self.hunks[h as usize];
                let at = match h.after.end {
                    0 => 0,
                    n => self.new_tokens[n as usize - 1].1 as usize,
                };
                (at, fe >= te as usize && t as u32 + 1 == h.before.end)
            }
        })
    }

    /// Grows a folded range until it starts and ends on whole original characters.
    fn widen(&self, mut s: usize, mut e: usize) -> (usize, usize) {
        let origin = &self.new.origin;
        while s > 0 && origin[s - 1] == origin[s] {
            s -= 1;
        }
        while e < self.new.folded.len() && !self.new.is_whole(s, e) {
            e += 1;
        }
        (s, e)
    }

    /// Where a word occurs in the new version.
    fn postings(&self, word: &[u8]) -> &[u32] {
        match self.ids.get(word) {
            Some(&Token(id)) => {
                &self.post[self.post_start[id as usize] as usize
                    ..self.post_start[id as usize + 1] as usize]
            }
            None => &[],
        }
    }

    /// Every occurrence of a folded text in the new version. Texts of three words or more are
    /// found through the positions of their rarest inner word, shorter ones by a scan.
    fn occurrences(&self, needle: &[u8]) -> Vec<(usize, usize)> {
        let words = tokens(needle);
        if words.len() < 3 {
            return self.new.occurrences(needle);
        }
        let (offset, positions) = words[1..words.len() - 1]
            .iter()
            .map(|&(s, e)| (s as usize, self.postings(&needle[s as usize..e as usize])))
            .min_by_key(|(_, p)| p.len())
            .expect("three words have an inner one");
        let folded = &self.new.folded;
        positions
            .iter()
            .filter_map(|&p| {
                let at = (self.new_tokens[p as usize].0 as usize).checked_sub(offset)?;
                let end = at + needle.len();
                (end <= folded.len() && folded[at..end] == *needle && self.new.is_whole(at, end))
                    .then_some((at, end))
            })
            .collect()
    }

    /// The one occurrence whose surroundings match the passage's context best by at least
    /// [`CONTEXT_MARGIN`] characters, if any.
    fn single_out(&self, found: &[(usize, usize)], q: &Query) -> Option<usize> {
        if let [_] = found {
            return Some(0);
        }
        let mut scores: Vec<(usize, usize)> = found
            .iter()
            .enumerate()
            .map(|(i, &hit)| (self.context_score(hit, q), i))
            .collect();
        scores.sort_unstable_by(|a, b| b.cmp(a));
        let (best, i) = scores[0];
        let second = scores.get(1).map_or(0, |s| s.0);
        (best >= second + CONTEXT_MARGIN).then_some(i)
    }

    /// Characters of the passage's context that still adjoin a range of the new version.
    fn context_score(&self, (s, e): (usize, usize), q: &Query) -> usize {
        let folded = &self.new.folded;
        let before = &folded[..s];
        let before = before.strip_suffix(b" ").unwrap_or(before);
        let after = &folded[e..];
        let after = after.strip_prefix(b" ").unwrap_or(after);
        common_suffix_chars(before, &q.prefix) + common_prefix_chars(after, &q.suffix)
    }

    /// Scores windows of the new version that share the passage's rarer words: the best one,
    /// or why there is none (with the best score seen).
    fn fuzzy(&self, q: &Query) -> Result<((usize, usize), f64), (Orphan, f64)> {
        // Words absent from both versions share one id that matches nothing in the window.
        let absent = Token(self.ids.len() as u32);
        let words: Vec<&[u8]> = tokens(&q.needle)
            .iter()
            .map(|&(s, e)| &q.needle[s as usize..e as usize])
            .collect();
        let ids: Vec<Token> = words
            .iter()
            .map(|w| self.ids.get(w).copied().unwrap_or(absent))
            .collect();
        let n = ids.len();
        let mut votes: HashMap<i64, u32, Words> = HashMap::default();
        for (k, word) in words.iter().enumerate() {
            let positions = self.postings(word);
            if positions.len() > COMMON_WORD {
                continue;
            }
            for &p in positions {
                *votes.entry(p as i64 - k as i64).or_default() += 1;
            }
        }
        // Insertions and deletions inside the passage split its votes over nearby alignments.
        let mut aligned: Vec<(i64, u32)> = votes.into_iter().collect();
        aligned.sort_unstable();
        let reach = (n / 4 + 1) as i64;
        let mut summed: Vec<(u32, i64)> = aligned
            .iter()
            .map(|&(a, _)| {
                let lo = aligned.partition_point(|&(b, _)| b < a - reach);
                let hi = aligned.partition_point(|&(b, _)| b <= a + reach);
                (aligned[lo..hi].iter().map(|&(_, v)| v).sum(), a)
            })
            .collect();
        summed.sort_unstable_by(|a, b| b.cmp(a));
        let least = (n as u32 * 3).div_ceil(10).max(2).min(n as u32);
        let mut windows: Vec<i64> = Vec::new();
        for &(sum, a) in &summed {
            if sum < least || windows.len() == FUZZY_WINDOWS {
                break;
            }
            if windows.iter().all(|&w| (w - a).unsigned_abs() as usize > n) {
                windows.push(a);
            }
        }
        let mut scored: Vec<((usize, usize), f64)> = windows
            .into_iter()
            .filter_map(|a| self.score_window(q, &ids, a))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.dedup_by(|a, b| a.0 == b.0);
        match scored.as_slice() {
            [] => Err((orphan(OrphanReason::NotFound, 0), 0.0)),
            [(range, best), rest @ ..] => {
                let close = rest.iter().filter(|(_, s)| best - s < FUZZY_MARGIN).count();
                if *best < FUZZY_MIN {
                    Err((orphan(OrphanReason::NotFound, scored.len()), *best))
                } else if close > 0 {
                    Err((orphan(OrphanReason::Ambiguous, close + 1), *best))
                } else {
                    Ok((*range, *best))
                }
            }
        }
    }

    fn score_window(&self, q: &Query, ids: &[Token], align: i64) -> Option<((usize, usize), f64)> {
        let n = ids.len();
        let slack = (n / 4 + 2) as i64;
        let total = self.new_tokens.len() as i64;
        let lo = (align - slack).clamp(0, total) as usize;
        let hi = (align + n as i64 + slack).clamp(0, total) as usize;
        let window = &self.after[lo..hi];
        let mut diff = Diff::default();
        diff.compute_with(Algorithm::Myers, ids, window, self.ids.len() as u32 + 1);
        let matched: Vec<usize> = (0..window.len())
            .filter(|&j| !diff.is_added(j as u32))
            .collect();
        let (&first, &last) = (matched.first()?, matched.last()?);
        let m = last - first + 1;
        let words = 2.0 * matched.len() as f64 / (n + m) as f64;
        let (ns, ne) = (
            self.new_tokens[lo + first].0 as usize,
            self.new_tokens[lo + last].1 as usize,
        );
        let (prefix, suffix) = context(&self.new.folded, ns, ne);
        let share = |common: usize, of: &[u8]| match char_count(of) {
            0 => 0.5,
            total => common as f64 / total as f64,
        };
        let prefix = share(common_suffix_chars(&prefix, &q.prefix), &q.prefix);
        let suffix = share(common_prefix_chars(&suffix, &q.suffix), &q.suffix);
        let position = q.rel.map_or(0.5, |rel| {
            1.0 - (ns as f64 / self.new.folded.len().max(1) as f64 - rel).abs()
        });
        let score = 0.7 * words + 0.1 * prefix + 0.1 * suffix + 0.1 * position;
        Some(((ns, ne), score))
    }

    fn found(
        &self,
        range: (usize, usize),
        method: PlacementMethod,
        score: Option<f64>,
        baseline: &str,
    ) -> Reanchored {
        let span = self.new.span_from_folded(range);
        judge(span, method, score, baseline)
    }
}

/// Decides `placed` or `changed` for a span found by any method (a person's included).
pub fn judge(
    span: Span,
    method: PlacementMethod,
    score: Option<f64>,
    baseline: &str,
) -> Reanchored {
    let (before, after) = (fold(baseline), fold(&span.exact));
    if before == after {
        return Reanchored {
            state: PlacementState::Placed,
            method: Some(method),
            span: Some(span),
            score: 1.0,
            change: None,
            orphan: None,
        };
    }
    let score = score.unwrap_or_else(|| similarity(before.as_bytes(), after.as_bytes()));
    Reanchored {
        state: PlacementState::Changed,
        method: Some(method),
        change: Some(change(baseline, &span.exact)),
        span: Some(span),
        score,
        orphan: None,
    }
}

fn orphan(reason: OrphanReason, candidates: usize) -> Orphan {
    Orphan { reason, candidates }
}

fn orphaned(reason: OrphanReason, candidates: usize, score: f64) -> Reanchored {
    Reanchored {
        state: PlacementState::Orphaned,
        method: None,
        span: None,
        score,
        change: None,
        orphan: Some(Orphan { reason, candidates }),
    }
}

/// `2 * common / (a + b)` over the words of two folded texts.
fn similarity(a: &[u8], b: &[u8]) -> f64 {
    let (ta, tb) = (tokens(a), tokens(b));
    if ta.is_empty() && tb.is_empty() {
        return 1.0;
    }
    let mut input = InternedInput::default();
    input.update_before(ta.iter().map(|&(s, e)| &a[s as usize..e as usize]));
    input.update_after(tb.iter().map(|&(s, e)| &b[s as usize..e as usize]));
    let diff = Diff::compute(Algorithm::Myers, &input);
    let common = ta.len() - diff.count_removals() as usize;
    2.0 * common as f64 / (ta.len() + tb.len()) as f64
}

/// The word diff and the changed figures between two texts.
pub fn change(before: &str, after: &str) -> Change {
    let (wa, wb): (Vec<&str>, Vec<&str>) = (
        before.split_whitespace().collect(),
        after.split_whitespace().collect(),
    );
    let mut input = InternedInput::default();
    input.update_before(wa.iter().map(|w| fold(w)));
    input.update_after(wb.iter().map(|w| fold(w)));
    let diff = Diff::compute(Algorithm::Myers, &input);
    let mut words: Vec<WordEdit> = Vec::new();
    let mut push = |op: WordOp, text: &[&str]| {
        if text.is_empty() {
            return;
        }
        match words.last_mut() {
            Some(last) if last.op == op => {
                last.text.push(' ');
                last.text.push_str(&text.join(" "));
            }
            _ => words.push(WordEdit {
                op,
                text: text.join(" "),
            }),
        }
    };
    let mut j = 0usize;
    for h in diff.hunks() {
        push(WordOp::Equal, &wb[j..h.after.start as usize]);
        push(
            WordOp::Delete,
            &wa[h.before.start as usize..h.before.end as usize],
        );
        push(
            WordOp::Insert,
            &wb[h.after.start as usize..h.after.end as usize],
        );
        j = h.after.end as usize;
    }
    push(WordOp::Equal, &wb[j..]);
    Change {
        before: before.to_owned(),
        after: after.to_owned(),
        words,
        numbers: number_change(before, after),
    }
}

/// Figures of `before` missing from `after` and the reverse, compared by value, range, unit
/// and kind as the statistics extractor reads them ("0.3%" is "0.3 per cent"; "-0.3%" is not),
/// each named as written.
fn number_change(before: &str, after: &str) -> Option<NumberChange> {
    let key = |m: &Mention| (m.value, m.high, m.unit.clone(), m.kind);
    let as_written = |m: &Mention| m.exact.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut added: Vec<Mention> = extract(after);
    let removed: Vec<String> = extract(before)
        .iter()
        .filter(|m| match added.iter().position(|n| key(n) == key(m)) {
            Some(k) => {
                added.remove(k);
                false
            }
            None => true,
        })
        .map(as_written)
        .collect();
    let added: Vec<String> = added.iter().map(as_written).collect();
    (!removed.is_empty() || !added.is_empty()).then_some(NumberChange { removed, added })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "Remittances rose sharply last year. The central bank said that \
        remittances reached $19 billion, about 15 percent of the economy. Officials expect \
        the figure to grow.\n\nA second paragraph talks about visas. The program offers \
        6,000 visas a year to workers from the region.\n\nA third paragraph closes the \
        article with a quote: \u{201C}We will not stop,\u{201D} she said.";

    fn index(text: &str) -> AnchorIndex {
        AnchorIndex::new(text.to_owned())
    }

    /// Places the passage that `quote` selects in OLD onto `new`.
    fn place_quote(old: &str, new: &str, quote: &str) -> Reanchored {
        let (a, b) = (index(old), index(new));
        let span = a
            .resolve(&super::super::Selector {
                quote: Some(quote),
                ..Default::default()
            })
            .expect("quote is in the old text");
        let mut revision = Revision::new(&a, &b);
        revision.place(
            &Prior::At {
                start: span.start,
                end: span.end,
            },
            &span.exact,
        )
    }

    const QUOTE: &str = "remittances reached $19 billion, about 15 percent of the economy";

    #[test]
    fn unchanged_text_is_placed_by_the_diff() {
        let r = place_quote(OLD, OLD, QUOTE);
        assert_eq!(r.state, PlacementState::Placed);
        assert_eq!(r.method, Some(PlacementMethod::Diff));
        assert_eq!(r.span.unwrap().exact, QUOTE);
    }

    #[test]
    fn a_reflow_and_typographic_changes_are_placed() {
        let reflowed: String = OLD
            .replace(' ', "\n")
            .replace(['\u{201C}', '\u{201D}'], "\"");
        let r = place_quote(OLD, &reflowed, QUOTE);
        assert_eq!(r.state, PlacementState::Placed, "{r:?}");
        assert_eq!(r.span.as_ref().unwrap().exact, QUOTE.replace(' ', "\n"));
        let r = place_quote(OLD, &reflowed, "\u{201C}We will not stop,\u{201D} she said");
        assert_eq!(r.state, PlacementState::Placed, "{r:?}");
        assert_eq!(r.span.unwrap().exact, "\"We\nwill\nnot\nstop,\"\nshe\nsaid");
    }

    #[test]
    fn a_sentence_inserted_above_moves_the_offsets() {
        let new = format!("Editor's note: this article was updated. {OLD}");
        let r = place_quote(OLD, &new, QUOTE);
        assert_eq!(r.state, PlacementState::Placed);
        let span = r.span.unwrap();
        assert_eq!(span.exact, QUOTE);
        assert_eq!(
            span.start,
            new.chars().count() - OLD.chars().count() + OLD.find(QUOTE).unwrap()
        );
    }

    #[test]
    fn a_moved_paragraph_is_placed_by_its_quote() {
        let paragraphs: Vec<&str> = OLD.split("\n\n").collect();
        let new = format!(
            "{}\n\n{}\n\n{}",
            paragraphs[2], paragraphs[1], paragraphs[0]
        );
        let r = place_quote(OLD, &new, QUOTE);
        assert_eq!(r.state, PlacementState::Placed, "{r:?}");
        assert!(matches!(
            r.method,
            Some(PlacementMethod::Quote | PlacementMethod::Diff)
        ));
        assert_eq!(r.span.unwrap().exact, QUOTE);
    }

    #[test]
    fn a_changed_figure_is_changed_and_named() {
        let new = OLD.replace("$19 billion", "$21 billion");
        let r = place_quote(OLD, &new, QUOTE);
        assert_eq!(r.state, PlacementState::Changed, "{r:?}");
        assert_eq!(r.method, Some(PlacementMethod::Diff));
        let change = r.change.unwrap();
        assert_eq!(change.after, QUOTE.replace("$19", "$21"));
        assert_eq!(
            change.numbers,
            Some(NumberChange {
                removed: vec!["$19 billion".into()],
                added: vec!["$21 billion".into()],
            })
        );
        assert!(change.words.contains(&WordEdit {
            op: WordOp::Delete,
            text: "$19".into()
        }));
        // A lone figure that changes is still found, through the words around it.
        let r = place_quote(OLD, &new, "$19 billion");
        assert_eq!(r.state, PlacementState::Changed, "{r:?}");
        assert_eq!(r.span.unwrap().exact, "$21 billion");
        let r = place_quote(OLD, &OLD.replace("15 percent", "2.7 percent"), "15");
        assert_eq!(r.state, PlacementState::Changed, "{r:?}");
        assert_eq!(
            r.change.unwrap().numbers,
            Some(NumberChange {
                removed: vec!["15".into()],
                added: vec!["2.7".into()],
            })
        );
    }

    #[test]
    fn a_fixed_typo_is_changed_with_a_word_diff() {
        let old = OLD.replace("remittances reached", "remitances reached");
        let quote = QUOTE.replace("remittances", "remitances");
        let r = place_quote(&old, OLD, &quote);
        assert_eq!(r.state, PlacementState::Changed, "{r:?}");
        let change = r.change.unwrap();
        assert_eq!(change.after, QUOTE);
        assert_eq!(change.numbers, None);
        assert_eq!(
            change.words[..2],
            [
                WordEdit {
                    op: WordOp::Delete,
                    text: "remitances".into()
                },
                WordEdit {
                    op: WordOp::Insert,
                    text: "remittances".into()
                }
            ]
        );
    }

    #[test]
    fn a_deleted_paragraph_orphans_its_passages() {
        let paragraphs: Vec<&str> = OLD.split("\n\n").collect();
        let new = format!("{}\n\n{}", paragraphs[0], paragraphs[2]);
        let r = place_quote(OLD, &new, "The program offers 6,000 visas a year");
        assert_eq!(r.state, PlacementState::Orphaned, "{r:?}");
        assert_eq!(r.orphan.unwrap().reason, OrphanReason::NotFound);
        assert!(r.span.is_none());
    }

    #[test]
    fn a_duplicated_sentence_is_orphaned_unless_the_context_decides() {
        let sentence = "Officials expect the figure to grow.";
        // Right after itself: the prefix fits one copy and the suffix the other.
        let new = OLD.replace(sentence, &format!("{sentence} {sentence}"));
        let r = place_quote(OLD, &new, sentence);
        assert_eq!(r.state, PlacementState::Orphaned, "{r:?}");
        assert_eq!(
            r.orphan.unwrap(),
            Orphan {
                reason: OrphanReason::Ambiguous,
                candidates: 2
            }
        );
        // Repeated far away (a pull-quote): the passage's context singles its copy out.
        let new = format!("{OLD}\n\n{sentence}");
        let r = place_quote(OLD, &new, sentence);
        assert_eq!(r.state, PlacementState::Placed, "{r:?}");
        assert_eq!(r.span.unwrap().start, OLD.find(sentence).unwrap());
    }

    #[test]
    fn an_edited_and_moved_passage_is_found_by_the_fuzzy_search() {
        let paragraphs: Vec<&str> = OLD.split("\n\n").collect();
        let edited = paragraphs[1].replace("offers", "now offers");
        // The diff keeps the two longer paragraphs and sees this one deleted and inserted.
        let new = format!("{}\n\n{}\n\n{}", edited, paragraphs[0], paragraphs[2]);
        let r = place_quote(
            OLD,
            &new,
            "The program offers 6,000 visas a year to workers",
        );
        assert_eq!(r.state, PlacementState::Changed, "{r:?}");
        assert_eq!(r.method, Some(PlacementMethod::Fuzzy));
        assert!(r.score >= FUZZY_MIN);
        assert_eq!(
            r.span.unwrap().exact,
            "The program now offers 6,000 visas a year to workers"
        );
    }

    #[test]
    fn a_lost_passage_is_found_again_by_its_quote() {
        let (a, b) = (index("nothing here"), index(OLD));
        let mut revision = Revision::new(&a, &b);
        let r = revision.place(
            &Prior::Lost {
                exact: "The program offers 6,000 visas",
                prefix: "talks about visas.",
                suffix: "a year",
            },
            "The program offers 6,000 visas",
        );
        assert_eq!(r.state, PlacementState::Placed);
        assert_eq!(r.method, Some(PlacementMethod::Quote));
    }

    #[test]
    fn the_baseline_decides_placed_or_changed() {
        // Found unchanged since the last version, but it differs from the passage's own text.
        let (a, b) = (index(OLD), index(OLD));
        let start = OLD.find(QUOTE).unwrap();
        let mut revision = Revision::new(&a, &b);
        let r = revision.place(
            &Prior::At {
                start,
                end: start + QUOTE.chars().count(),
            },
            &QUOTE.replace("$19", "$18"),
        );
        assert_eq!(r.state, PlacementState::Changed);
        assert_eq!(
            r.change.unwrap().numbers.unwrap().removed,
            vec!["$18 billion"]
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const WORDS: &[&str] = &[
            "the",
            "mayor",
            "said",
            "$4",
            "billion",
            "15%",
            "caf\u{e9}",
            "cafe\u{301}",
            "\u{201C}quoted\u{201D}",
            "\"quoted\"",
            "😀",
            "漢字",
            "it\u{2019}s",
            "\u{2014}",
            "-",
            "soft\u{ad}hyphen",
            "6,000",
            "visas.",
        ];

        fn text() -> impl Strategy<Value = Vec<(usize, u8)>> {
            // Word index and the white space after it: space, line break or paragraph.
            prop::collection::vec((0..WORDS.len(), 0u8..6), 1..60)
        }

        fn render(words: &[(usize, u8)]) -> String {
            words
                .iter()
                .map(|&(w, sep)| {
                    let sep = match sep {
                        0 => "\n",
                        1 => "\n\n",
                        _ => " ",
                    };
                    format!("{}{sep}", WORDS[w])
                })
                .collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]

            /// Whatever the texts and the edit, placing never panics, a found span is the new
            /// text at its positions (in code points and UTF-16), and `placed` means the same
            /// folded text.
            #[test]
            fn placements_are_exact_spans_of_the_new_text(
                old in text(),
                edits in prop::collection::vec((0usize..60, 0..WORDS.len(), 0u8..3), 0..8),
                from in 0usize..60,
                len in 1usize..12,
            ) {
                let mut new = old.clone();
                for &(at, w, kind) in &edits {
                    let at = at % (new.len() + 1);
                    match kind {
                        0 => new.insert(at, (w, 2)),
                        1 if at < new.len() && new.len() > 1 => { new.remove(at); }
                        _ if at < new.len() => new[at].0 = w,
                        _ => {}
                    }
                }
                let (old_text, new_text) = (render(&old), render(&new));
                let a = AnchorIndex::new(old_text.clone());
                let b = AnchorIndex::new(new_text.clone());
                let start = from % a.char_len();
                let end = (start + len).min(a.char_len());
                let exact: String = old_text.chars().skip(start).take(end - start).collect();
                let mut revision = Revision::new(&a, &b);
                let r = revision.place(&Prior::At { start, end }, &exact);
                match (&r.state, &r.span) {
                    (PlacementState::Orphaned, None) => prop_assert!(r.orphan.is_some()),
                    (PlacementState::Orphaned, Some(_)) => prop_assert!(false, "orphaned with a span"),
                    (_, None) => prop_assert!(false, "found without a span"),
                    (state, Some(span)) => {
                        let chars: Vec<char> = new_text.chars().collect();
                        let at: String = chars[span.start..span.end].iter().collect();
                        prop_assert_eq!(&at, &span.exact);
                        let units: Vec<u16> = new_text.encode_utf16().collect();
                        prop_assert_eq!(
                            String::from_utf16(&units[span.start_utf16..span.end_utf16]).unwrap(),
                            at
                        );
                        let same = fold(&span.exact) == fold(&exact);
                        prop_assert_eq!(*state == PlacementState::Placed, same);
                        prop_assert!((0.0..=1.0).contains(&r.score));
                    }
                }
                // The same text again: a passage whose text occurs once stays where it was
                // (a passage as the service makes them: it never splits a character from its
                // combining marks; one that does is placed on the whole character, changed).
                let mut same = Revision::new(&a, &a);
                let again = same.place(&Prior::At { start, end }, &exact);
                let needle = fold(&exact);
                let old_chars: Vec<char> = old_text.chars().collect();
                let splits = |at: usize| {
                    old_chars
                        .get(at)
                        .is_some_and(|c| unicode_normalization::char::is_combining_mark(*c))
                };
                if !needle.is_empty()
                    && !splits(start)
                    && !splits(end)
                    && a.occurrences(needle.as_bytes()).len() == 1
                {
                    let span = again.span.expect("found in the same text");
                    prop_assert_eq!(again.state, PlacementState::Placed);
                    prop_assert_eq!(fold(&span.exact), needle);
                }
            }
        }
    }

    #[test]
    fn numbers_that_differ_are_named_by_value_and_unit() {
        let named = |a: &str, b: &str| number_change(a, b);
        assert_eq!(named("15 percent", "15\npercent"), None);
        assert_eq!(named("grew 0.3%", "grew 0.3 per cent"), None);
        assert_eq!(
            named("shrank by 0.3%", "shrank by -0.3%"),
            Some(NumberChange {
                removed: vec!["0.3%".into()],
                added: vec!["-0.3%".into()],
            })
        );
        assert_eq!(
            named(
                "$4.5 billion and 6,000 visas",
                "$4.5 billion and 7,000 visas"
            ),
            Some(NumberChange {
                removed: vec!["6,000".into()],
                added: vec!["7,000".into()],
            })
        );
        assert_eq!(
            named("$4 billion", "$4 million").unwrap().added,
            vec!["$4 million"]
        );
    }

    #[test]
    fn a_changed_figure_is_not_placed_on_a_lookalike_elsewhere() {
        let old = "Remittances reached $19 billion in 2023, the bank said. Trade was flat.";
        let new = "Remittances reached $21 billion in 2023, up from $19 billion in 2022, the bank \
                   said. Trade was flat.";
        let r = place_quote(old, new, "$19 billion");
        assert_eq!(r.state, PlacementState::Changed, "{r:?}");
        assert_eq!(r.span.unwrap().exact, "$21 billion");
        // A pull-quote repeats the sentence; the body copy's figure changes.
        let body = "The minister said remittances were 15 percent of the economy last year.";
        let old =
            format!("Intro line here.\n\n{body}\n\nMore text follows.\n\n\u{201C}{body}\u{201D}");
        let new = old.replacen("were 15 percent", "were 5 percent", 1);
        let (a, b) = (index(&old), index(&new));
        let start = "Intro line here.\n\nThe minister said ".chars().count();
        let quote = "remittances were 15 percent of the economy";
        let end = start + quote.chars().count();
        let r = Revision::new(&a, &b).place(&Prior::At { start, end }, quote);
        assert_eq!(r.state, PlacementState::Changed, "{r:?}");
        assert_eq!(r.span.unwrap().start, start);
    }

    #[test]
    fn a_short_quote_left_without_its_context_is_not_guessed() {
        // The sentence with the figure is gone; the same figure stands elsewhere, in other words.
        let old =
            "Intro. The fund lost $4 billion last year. Other news: a bridge will cost $4 billion.";
        let new = "Intro. Other news: a bridge will cost $4 billion.";
        let (a, b) = (index(old), index(new));
        let start = old.find("$4").unwrap();
        let r = Revision::new(&a, &b).place(
            &Prior::At {
                start,
                end: start + 10,
            },
            "$4 billion",
        );
        assert_eq!(r.state, PlacementState::Orphaned, "{r:?}");
    }

    #[test]
    fn an_unclean_end_does_not_widen_the_start() {
        // A span that ends between "cafe" and its combining accent.
        let text = "Some words before the cafe\u{301} and after.";
        let (a, b) = (index(text), index(text));
        let end = "Some words before the cafe".chars().count();
        let r = Revision::new(&a, &b).place(&Prior::At { start: 5, end }, "words before the cafe");
        let span = r.span.expect("found");
        assert_eq!(span.start, 5, "{span:?}");
    }
}

//! Full-text search, decided in plain Rust so that both backends find, place and show hits
//! alike.
//!
//! - **Words.** A word is a run of letters, digits and combining marks (`char::is_alphanumeric`
//!   or a combining mark), lowercased, without its accents (NFD, combining marks dropped, NFC)
//!   and stemmed as English (Snowball, `rust-stemmers`): "Remittances" and "remittance" are
//!   one word, and so are "Cajolá" and "Cajola" (quote resolution keeps accents significant;
//!   only search folds them). Everything else separates words: "well-known"
//!   is "well" "known", "$4.5bn" is "4" "5bn". Documents are indexed as these words (the
//!   database never tokenizes text itself: SQLite's FTS5 gets them space-separated, PostgreSQL
//!   a `tsvector` built here), and queries are split the same way, so both backends agree.
//! - **Queries** ([`SearchQuery::parse`]): words are AND-ed; `"a phrase"` (straight or curly
//!   quotes) must occur as consecutive words; a word holding punctuation ("well-known") is a
//!   phrase of its parts. There are no operators: `OR`, `NEAR`, `*`, `-`, `:` or parentheses
//!   are words or separators like any other. A query is rendered to an FTS5 `MATCH` expression
//!   ([`SearchQuery::fts5`]) and to a `tsquery` ([`SearchQuery::tsquery`]) with every word
//!   quoted, so user input never reaches either syntax.
//! - **Hits** ([`find`]): the span of the first phrase, or the shortest window holding every
//!   clause, in code points of the text, and a snippet around it with the matched words in
//!   `<mark>…</mark>` and everything else HTML-escaped.

use std::collections::HashMap;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use utoipa::ToSchema;

/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Most words in a query (all clauses together).
pub const MAX_QUERY_WORDS: usize = 32;
/// Words longer than this (in bytes) are not indexed nor searched (PostgreSQL refuses lexemes
/// of 2 KiB; no real word comes near).
pub const MAX_WORD_BYTES: usize = 200;
/// How many matches are ranked when nothing else narrows a search: the newest ones (by when
/// they were first indexed). Ranking every match of a word most texts hold costs about 0.5 ms
/// per thousand texts on SQLite (56 ms at 100,000); this bounds it.
pub const RANK_WINDOW: u32 = 5_000;
/// Ranked lists page through at most this many results.
pub const MAX_RANKED: u32 = RANK_WINDOW;

/// One word of a text: where it is and what it is compared as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
    /// Code point range in the text.
    pub start_cp: usize,
    pub end_cp: usize,
    /// As search compares it: lowercased, accents removed, stemmed (see [`normalize`]).
    pub norm: String,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// The English Snowball stemmer (Porter 2), the same for indexed words and query words.
static STEMMER: std::sync::LazyLock<rust_stemmers::Stemmer> =
    std::sync::LazyLock::new(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English));

/// A word as search compares it: lower case, accents removed (`Cajolá` is `cajola`), then
/// stemmed as English (`Remittances` is `remitt`, as is `remittance`).
fn normalize(word: &str) -> String {
    let folded = if word.is_ascii() {
        // Most words: no accents, and lowercase is ASCII's (a quarter of the cost).
        word.to_ascii_lowercase()
    } else {
        word.nfd()
            .filter(|&c| !is_combining_mark(c))
            .flat_map(char::to_lowercase)
            .nfc()
            .collect()
    };
    if folded.is_empty() {
        return folded;
    }
    stem(folded)
}

/// Most stems a thread keeps (about 2 MB): the words news text repeats most fit many times.
const MAX_KEPT_STEMS: usize = 32_768;

std::thread_local! {
    /// Stems of the words this thread met lately. Texts repeat a small vocabulary, and finding
    /// a kept stem costs a fraction of stemming the word again: stemming every word had made
    /// `claimtrail import` more than twice as slow (issue 17). Emptied when full.
    static STEMS: std::cell::RefCell<HashMap<String, String>> =
        std::cell::RefCell::new(HashMap::new());
}

/// The Snowball stem of a lowercased, unaccented word.
fn stem(folded: String) -> String {
    STEMS.with_borrow_mut(|kept| {
        if let Some(stem) = kept.get(&folded) {
            return stem.clone();
        }
        let stem = match STEMMER.stem(&folded) {
            std::borrow::Cow::Borrowed(_) => folded.clone(),
            std::borrow::Cow::Owned(stem) => stem,
        };
        if kept.len() >= MAX_KEPT_STEMS {
            kept.clear();
        }
        kept.insert(folded, stem.clone());
        stem
    })
}

/// The words of `text`, in order (words over [`MAX_WORD_BYTES`] left out).
pub fn words(text: &str) -> Vec<Word> {
    words_where(text, |_| true)
}

/// The words of `text`, normalized only where `may_match` says the word may be wanted: the
/// others keep an empty `norm`, which no query word is. Placing a hit needs the norm of the
/// few words that may equal a query word, not of every word of a long text (issue 17: stemming
/// them all doubled the time of a search).
fn words_where(text: &str, may_match: impl Fn(&str) -> bool) -> Vec<Word> {
    let mut out = Vec::new();
    let mut cp = 0usize;
    let mut current: Option<(usize, usize)> = None;
    let mut push = |start: usize, end: usize, start_cp: usize, end_cp: usize| {
        let raw = &text[start..end];
        if raw.len() > MAX_WORD_BYTES {
            return;
        }
        out.push(Word {
            start,
            end,
            start_cp,
            end_cp,
            norm: if may_match(raw) {
                normalize(raw)
            } else {
                String::new()
            },
        });
    };
    for (i, c) in text.char_indices() {
        if is_word_char(c) {
            if current.is_none() {
                current = Some((i, cp));
            }
        } else if let Some((start, start_cp)) = current.take() {
            push(start, i, start_cp, cp);
        }
        cp += 1;
    }
    if let Some((start, start_cp)) = current {
        push(start, text.len(), start_cp, cp);
    }
    out
}

/// Whether an ASCII word may normalize to a word starting with one of `firsts`: lowercasing
/// and the English stemmer keep a word's first letter (Snowball changes endings only, and its
/// exceptions, like "dying" to "die", keep it too). A word with other characters may lose its
/// accents, so it may always match.
fn may_start_with(word: &str, firsts: &[u8]) -> bool {
    match word.as_bytes().first() {
        Some(b) if word.is_ascii() => firsts.contains(&b.to_ascii_lowercase()),
        _ => true,
    }
}

/// The text as the index sees it: its normalized words separated by single spaces.
pub fn index_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for w in words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w.norm);
    }
    out
}

/// PostgreSQL's limits on a `tsvector`: positions up to 16,383, 256 positions per lexeme,
/// under 1 MiB in all.
const PG_MAX_POS: usize = 16_383;
const PG_MAX_POSITIONS: usize = 256;
const PG_MAX_BYTES: usize = 1_000_000;

/// A `tsvector` literal (cast with `::tsvector`, which takes lexemes as written) of a title
/// and a body, both given as [`index_text`]s. Title words carry weight A; the body starts one
/// position after the title's end so that no phrase spans the two. Within PostgreSQL's limits:
/// positions past 16,383 count as 16,383 and a word keeps its first 256 positions (so on
/// PostgreSQL a phrase is found within the first 16,383 words of a text, and every word of it
/// anywhere), and lexemes stop being added near 1 MB.
pub fn tsvector(title_index: &str, body_index: &str) -> String {
    let mut lexemes: Vec<(&str, Vec<(usize, bool)>)> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut bytes = 0usize;
    let mut pos = 0usize;
    let title_words: Vec<&str> = title_index.split(' ').filter(|w| !w.is_empty()).collect();
    let body_words = body_index.split(' ').filter(|w| !w.is_empty());
    let all = title_words
        .iter()
        .map(|w| (*w, true))
        .chain(std::iter::once(("", false)))
        .chain(body_words.map(|w| (w, false)));
    for (word, title) in all {
        pos += 1;
        if word.is_empty() {
            continue;
        }
        let p = pos.min(PG_MAX_POS);
        match at.get(word) {
            Some(&k) => {
                let positions = &mut lexemes[k].1;
                if positions.len() < PG_MAX_POSITIONS && positions.last().map(|l| l.0) != Some(p) {
                    positions.push((p, title));
                    bytes += 2;
                }
            }
            None => {
                if bytes + word.len() + 8 > PG_MAX_BYTES {
                    continue;
                }
                bytes += word.len() + 8;
                at.insert(word, lexemes.len());
                lexemes.push((word, vec![(p, title)]));
            }
        }
    }
    let mut out = String::with_capacity(bytes + lexemes.len() * 4);
    for (word, positions) in &lexemes {
        if !out.is_empty() {
            out.push(' ');
        }
        quote_pg(&mut out, word);
        out.push(':');
        for (i, (p, title)) in positions.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{p}");
            if *title {
                out.push('A');
            }
        }
    }
    out
}

/// A lexeme in single quotes, quotes and backslashes doubled (`tsvector`/`tsquery` input).
fn quote_pg(out: &mut String, word: &str) {
    out.push('\'');
    for c in word.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// Nothing but white space.
    Empty,
    /// No word at all (only punctuation or symbols).
    NoWords,
    /// A `"` with no partner; `at` is its position in characters.
    UnbalancedQuote {
        at: usize,
    },
    TooLong {
        chars: usize,
    },
    TooManyWords {
        words: usize,
    },
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Empty => write!(f, "the query is empty"),
            QueryError::NoWords => write!(
                f,
                "the query holds no word (letters or digits); punctuation and symbols are not searched"
            ),
            QueryError::UnbalancedQuote { at } => write!(
                f,
                "the quote at character {at} is not closed: a phrase is written \"like this\""
            ),
            QueryError::TooLong { chars } => write!(
                f,
                "the query has {chars} characters; at most {MAX_QUERY_CHARS} are searched"
            ),
            QueryError::TooManyWords { words } => write!(
                f,
                "the query has {words} words; at most {MAX_QUERY_WORDS} are searched"
            ),
        }
    }
}

/// A parsed query: clauses that must all occur, each a sequence of consecutive words (one word
/// or a phrase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    clauses: Vec<Vec<String>>,
    /// Any clause instead of all (similar-claim candidates).
    any: bool,
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

impl SearchQuery {
    /// Parses what a person typed (see the module doc).
    pub fn parse(input: &str) -> Result<SearchQuery, QueryError> {
        let chars = input.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong { chars });
        }
        if input.trim().is_empty() {
            return Err(QueryError::Empty);
        }
        let mut clauses: Vec<Vec<String>> = Vec::new();
        let mut push = |part: &str| {
            let ws: Vec<String> = words(part).into_iter().map(|w| w.norm).collect();
            if !ws.is_empty() && !clauses.contains(&ws) {
                clauses.push(ws);
            }
        };
        let mut open: Option<(usize, usize)> = None; // (byte after the quote, char index)
        let mut plain_from = 0usize;
        for (cp, (i, c)) in input.char_indices().enumerate() {
            if !is_quote(c) {
                continue;
            }
            match open.take() {
                None => {
                    for word in input[plain_from..i].split_whitespace() {
                        push(word);
                    }
                    open = Some((i + c.len_utf8(), cp));
                }
                Some((from, _)) => {
                    push(&input[from..i]);
                    plain_from = i + c.len_utf8();
                }
            }
        }
        if let Some((_, at)) = open {
            return Err(QueryError::UnbalancedQuote { at });
        }
        for word in input[plain_from..].split_whitespace() {
            push(word);
        }
        let n: usize = clauses.iter().map(Vec::len).sum();
        if n == 0 {
            return Err(QueryError::NoWords);
        }
        if n > MAX_QUERY_WORDS {
            return Err(QueryError::TooManyWords { words: n });
        }
        Ok(SearchQuery {
            clauses,
            any: false,
        })
    }

    /// Any of the distinct words of `text` (at most [`MAX_QUERY_WORDS`] * 2, in order of
    /// first occurrence): candidates for similar claims. `None` when the text has no word.
    pub fn any_word_of(text: &str) -> Option<SearchQuery> {
        let mut clauses: Vec<Vec<String>> = Vec::new();
        for w in words(text) {
            if clauses.len() == MAX_QUERY_WORDS * 2 {
                break;
            }
            if !clauses.iter().any(|c| c[0] == w.norm) {
                clauses.push(vec![w.norm]);
            }
        }
        (!clauses.is_empty()).then_some(SearchQuery { clauses, any: true })
    }

    /// Whether any clause is enough (similar-claim candidates).
    pub fn is_any(&self) -> bool {
        self.any
    }

    /// The clauses, each one word or a phrase, normalized.
    pub fn clauses(&self) -> &[Vec<String>] {
        &self.clauses
    }

    /// An FTS5 `MATCH` expression: each clause a quoted string (`"a b"` is a phrase), joined
    /// by `AND` (or `OR`). Words hold no quote (they are letters and digits), and quotes are
    /// doubled anyway.
    pub fn fts5(&self) -> String {
        let join = if self.any { " OR " } else { " AND " };
        let mut out = String::new();
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                out.push_str(join);
            }
            out.push('"');
            for (j, w) in clause.iter().enumerate() {
                if j > 0 {
                    out.push(' ');
                }
                out.push_str(&w.replace('"', "\"\""));
            }
            out.push('"');
        }
        out
    }

    /// A `tsquery` literal (cast with `::tsquery`, which takes lexemes as written): quoted
    /// lexemes, phrases with `<->`, clauses joined by `&` (or `|`).
    pub fn tsquery(&self) -> String {
        let join = if self.any { " | " } else { " & " };
        let mut out = String::new();
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                out.push_str(join);
            }
            if clause.len() > 1 {
                out.push('(');
            }
            for (j, w) in clause.iter().enumerate() {
                if j > 0 {
                    out.push_str(" <-> ");
                }
                quote_pg(&mut out, w);
            }
            if clause.len() > 1 {
                out.push(')');
            }
        }
        out
    }
}

/// Where a query matched in a text: code points (as passages count them), UTF-16 code units
/// (as DOM ranges count them), the text between, and a snippet around it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TextMatch {
    /// First code point of the matched span (the phrase, or the shortest window holding every
    /// word and phrase of the query).
    pub start: usize,
    /// Code point after the span's last one.
    pub end: usize,
    pub start_utf16: usize,
    pub end_utf16: usize,
    /// The text from `start` to `end`, exactly as stored.
    pub exact: String,
    /// The span with up to about 80 characters around it (`…` where cut), HTML-escaped, with
    /// every occurrence of the query's words and phrases in `<mark>…</mark>`.
    pub snippet: String,
}

/// A source found by a search, with where the query matched.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceItem {
    #[serde(flatten)]
    pub source: crate::domain::Source,
    /// With `q`: where the query matched; else `null`.
    #[serde(rename = "match")]
    pub matched: Option<SourceMatch>,
}

/// Where a query matched in a source: in the text of its latest version (the one searched),
/// and whether in its title.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SourceMatch {
    /// The version searched (the latest); `start`/`end` are positions in its text, ready for
    /// `POST /v1/sources/{id}/passages` with `{"start", "end"}`.
    pub version: i64,
    /// Whether words of the query occur in the title.
    pub title: bool,
    /// First code point of the matched span in the version's text; `null` when the query
    /// matched in the title only.
    pub start: Option<usize>,
    /// Code point after the span.
    pub end: Option<usize>,
    pub start_utf16: Option<usize>,
    pub end_utf16: Option<usize>,
    /// The text from `start` to `end`, exactly as stored.
    pub exact: Option<String>,
    /// The span in context, HTML-escaped, the query's words and phrases in `<mark>…</mark>`
    /// (the title's when the text holds none).
    pub snippet: String,
}

impl SourceMatch {
    /// Where `query` matched in a source's title and text; `None` unless every clause occurs
    /// in one or the other (what the database proposed is checked again: PostgreSQL's
    /// positions stop at 16,383).
    pub fn new(query: &SearchQuery, version: i64, title: &str, text: &str) -> Option<Self> {
        let (in_title, found_t) = find_in(query, title);
        let (in_text, found_b) = find_in(query, text);
        let all = found_t.iter().zip(&found_b).all(|(a, b)| *a || *b);
        if !all && !query.any {
            return None;
        }
        let title = in_title.is_some();
        Some(match (in_text, in_title) {
            (Some(m), _) => SourceMatch {
                version,
                title,
                start: Some(m.start),
                end: Some(m.end),
                start_utf16: Some(m.start_utf16),
                end_utf16: Some(m.end_utf16),
                exact: Some(m.exact),
                snippet: m.snippet,
            },
            (None, Some(t)) => SourceMatch {
                version,
                title,
                start: None,
                end: None,
                start_utf16: None,
                end_utf16: None,
                exact: None,
                snippet: t.snippet,
            },
            (None, None) => return None,
        })
    }
}

/// A claim like a text, with how alike.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarClaim {
    #[serde(flatten)]
    pub item: crate::domain::ClaimItem,
    /// Word overlap with the text, from 0 to 1 ([`similarity`]).
    pub score: f64,
    /// Whether the figures of the claim and of the text differ (a figure on one side that the
    /// other lacks, compared by value and unit, never approximately).
    pub figures_differ: bool,
    /// The figures of the text, as written.
    pub text_figures: Vec<String>,
    /// The figures of the claim, as written.
    pub claim_figures: Vec<String>,
}

/// Ranks candidate claims by likeness to `text`: same figures before differing ones, then by
/// score, then by id; at most `limit`.
pub fn rank_similar(
    text: &str,
    candidates: Vec<crate::domain::ClaimItem>,
    limit: usize,
) -> Vec<SimilarClaim> {
    let mut out: Vec<SimilarClaim> = candidates
        .into_iter()
        .map(|item| {
            let score = similarity(text, &item.claim.text);
            let (text_figures, claim_figures, figures_differ) = figures(text, &item.claim.text);
            SimilarClaim {
                item,
                score: (score * 1e4).round() / 1e4,
                figures_differ,
                text_figures,
                claim_figures,
            }
        })
        .filter(|s| s.score > 0.0)
        .collect();
    out.sort_by(|a, b| {
        a.figures_differ
            .cmp(&b.figures_differ)
            .then(b.score.total_cmp(&a.score))
            .then(a.item.claim.id.uuid().cmp(&b.item.claim.id.uuid()))
    });
    out.truncate(limit);
    out
}

/// [`find`] when every clause of the query occurs in the text (or any, for an any-word
/// query); else `None`.
pub fn find_all(query: &SearchQuery, text: &str) -> Option<TextMatch> {
    let (m, found) = find_in(query, text);
    if query.any || found.iter().all(|f| *f) {
        m
    } else {
        None
    }
}

/// Occurrences considered for the span and the snippet (the first ones in the text).
const MAX_OCCURRENCES: usize = 4_096;
/// Characters of context on each side of a snippet.
const CONTEXT: usize = 80;
/// A span longer than this is shown as its beginning and its end.
const LONG_SPAN: usize = 240;

/// Where the query's clauses occur in `text` and the best span; `None` when none of them does.
/// Clauses that do not occur (a word found only in a source's title) are left out of the span.
pub fn find(query: &SearchQuery, text: &str) -> Option<TextMatch> {
    find_in(query, text).0
}

/// [`find`], and which clauses occur in the text.
fn find_in(query: &SearchQuery, text: &str) -> (Option<TextMatch>, Vec<bool>) {
    let firsts: Vec<u8> = query
        .clauses
        .iter()
        .flatten()
        .filter_map(|w| w.bytes().next())
        .collect();
    place(
        query,
        text,
        words_where(text, |w| may_start_with(w, &firsts)),
    )
}

/// [`find_in`] over the words of `text` (those that may match normalized).
fn place(query: &SearchQuery, text: &str, ws: Vec<Word>) -> (Option<TextMatch>, Vec<bool>) {
    let mut found = vec![false; query.clauses.len()];
    // Occurrences: (first word, last word, clause).
    let mut occ: Vec<(usize, usize, usize)> = Vec::new();
    for (k, clause) in query.clauses.iter().enumerate() {
        let n = clause.len();
        if ws.len() < n {
            continue;
        }
        for i in 0..=ws.len() - n {
            if (0..n).all(|j| ws[i + j].norm == clause[j]) {
                occ.push((i, i + n - 1, k));
                found[k] = true;
            }
        }
    }
    if occ.is_empty() {
        return (None, found);
    }
    occ.sort_unstable();
    // Bounded work on long texts full of common words.
    occ.truncate(MAX_OCCURRENCES);
    let wanted: Vec<usize> = {
        let mut ks: Vec<usize> = occ.iter().map(|o| o.2).collect();
        ks.sort_unstable();
        ks.dedup();
        ks
    };
    let (first, last) = if query.any {
        (occ[0].0, occ[0].1)
    } else {
        shortest_window(&occ, &wanted, &ws)
    };
    let (start, end) = (ws[first].start, ws[last].end);
    let (start_cp, end_cp) = (ws[first].start_cp, ws[last].end_cp);
    let utf16 = |byte: usize| text[..byte].encode_utf16().count();
    let snippet = snippet(text, &ws, &occ, (start, end), (start_cp, end_cp));
    let m = TextMatch {
        start: start_cp,
        end: end_cp,
        start_utf16: utf16(start),
        end_utf16: utf16(end),
        exact: text[start..end].to_owned(),
        snippet,
    };
    (Some(m), found)
}

/// The shortest run of occurrences (by code points) holding each wanted clause; ties go to the
/// earliest.
fn shortest_window(occ: &[(usize, usize, usize)], wanted: &[usize], ws: &[Word]) -> (usize, usize) {
    let mut count: HashMap<usize, usize> = HashMap::new();
    let mut have = 0usize;
    let mut best: Option<(usize, usize, usize)> = None; // (length, first, last)
    let mut lo = 0usize;
    for hi in 0..occ.len() {
        let c = count.entry(occ[hi].2).or_insert(0);
        *c += 1;
        if *c == 1 {
            have += 1;
        }
        while have == wanted.len() {
            let first = occ[lo].0;
            let last = occ[lo..=hi].iter().map(|o| o.1).max().unwrap_or(occ[hi].1);
            let len = ws[last].end_cp - ws[first].start_cp;
            if best.is_none_or(|b| len < b.0) {
                best = Some((len, first, last));
            }
            let c = count.get_mut(&occ[lo].2).expect("counted");
            *c -= 1;
            if *c == 0 {
                have -= 1;
            }
            lo += 1;
        }
    }
    best.map(|b| (b.1, b.2)).unwrap_or((occ[0].0, occ[0].1))
}

fn snippet(
    text: &str,
    ws: &[Word],
    occ: &[(usize, usize, usize)],
    (start, end): (usize, usize),
    (start_cp, end_cp): (usize, usize),
) -> String {
    let pieces: Vec<(usize, usize)> = if end_cp - start_cp <= LONG_SPAN {
        vec![(back(text, start, CONTEXT), forward(text, end, CONTEXT))]
    } else {
        vec![
            (
                back(text, start, CONTEXT / 2),
                forward(text, start, LONG_SPAN / 2),
            ),
            (
                back(text, end, LONG_SPAN / 2),
                forward(text, end, CONTEXT / 2),
            ),
        ]
    };
    let mut out = String::new();
    for (n, &(a, b)) in pieces.iter().enumerate() {
        if n > 0 {
            out.push_str(" … ");
        } else if a > 0 {
            out.push('…');
        }
        let mut at = a;
        for &(f, l, _) in occ {
            let (ms, me) = (ws[f].start, ws[l].end);
            if ms < at || me > b {
                continue;
            }
            escape_into(&mut out, &text[at..ms]);
            out.push_str("<mark>");
            escape_into(&mut out, &text[ms..me]);
            out.push_str("</mark>");
            at = me;
        }
        escape_into(&mut out, &text[at..b]);
        if n + 1 == pieces.len() && b < text.len() {
            out.push('…');
        }
    }
    out
}

/// About `n` characters back from byte `at`, then forward to the start of a word, so that no
/// word is cut.
fn back(text: &str, at: usize, n: usize) -> usize {
    let mut from = at;
    for (i, _) in text[..at].char_indices().rev().take(n) {
        from = i;
    }
    if from == 0 {
        return 0;
    }
    // Skip the partial word at the cut.
    match text[from..at].find(|c: char| c.is_whitespace()) {
        Some(k) => {
            let after = from + k;
            let ws = text[after..at]
                .char_indices()
                .find(|(_, c)| !c.is_whitespace())
                .map_or(at, |(j, _)| after + j);
            ws.min(at)
        }
        None => from,
    }
}

/// About `n` characters forward from byte `at`, then back to the end of a word.
fn forward(text: &str, at: usize, n: usize) -> usize {
    let mut to = at;
    for (i, c) in text[at..].char_indices().take(n) {
        to = at + i + c.len_utf8();
    }
    if to == text.len() {
        return to;
    }
    match text[at..to].rfind(|c: char| c.is_whitespace()) {
        Some(k) => {
            let cut = at + k;
            text[at..cut].trim_end().len() + at
        }
        None => to,
    }
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A position in a ranked list: how many results come before. Opaque to clients, and not
/// interchangeable with the id cursors of unranked lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankCursor(pub u32);

impl RankCursor {
    pub fn encode(self) -> String {
        let mut bytes = vec![b'r'];
        bytes.extend_from_slice(&self.0.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
        match bytes.as_slice() {
            [b'r', a, b, c, d] => {
                let offset = u32::from_be_bytes([*a, *b, *c, *d]);
                (offset <= MAX_RANKED).then_some(RankCursor(offset))
            }
            _ => None,
        }
    }
}

/// How similar a claim is to a text: the words both use over the geometric mean of their
/// numbers of distinct words (cosine of their word sets), from 0 to 1.
pub fn similarity(a: &str, b: &str) -> f64 {
    let set = |t: &str| {
        let mut v: Vec<String> = words(t).into_iter().map(|w| w.norm).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (x, y) = (set(a), set(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let common = x.iter().filter(|w| y.binary_search(w).is_ok()).count();
    common as f64 / ((x.len() * y.len()) as f64).sqrt()
}

/// The figures of two texts as the statistics extractor reads them (value, range, unit,
/// kind), each as written; and whether they differ (one side has a figure the other lacks).
/// Numbers are never matched fuzzily: "$4 billion" and "$5 billion" differ, "$4bn" and
/// "4 billion dollars" do not.
pub fn figures(a: &str, b: &str) -> (Vec<String>, Vec<String>, bool) {
    use crate::domain::statistics::{Mention, extract};
    let key = |m: &Mention| (m.value, m.high, m.unit.clone(), m.kind);
    let written = |m: &Mention| m.exact.split_whitespace().collect::<Vec<_>>().join(" ");
    let (ma, mb) = (extract(a), extract(b));
    let mut rest: Vec<_> = mb.iter().map(key).collect();
    let mut differ = false;
    for m in &ma {
        match rest.iter().position(|k| *k == key(m)) {
            Some(i) => {
                rest.remove(i);
            }
            None => differ = true,
        }
    }
    differ |= !rest.is_empty();
    (
        ma.iter().map(written).collect(),
        mb.iter().map(written).collect(),
        differ,
    )
}

/// A claim's text as compared for duplicates: folded as quotes are (white space runs, typographic
/// quotes and dashes, Unicode forms; [`crate::domain::anchor::fold`]), in lower case, without
/// double quote marks (straight, curly, guillemets) and without a final full stop.
pub fn claim_key(text: &str) -> String {
    let folded = crate::domain::anchor::fold(text).to_lowercase();
    let kept: String = folded
        .chars()
        .filter(|c| !matches!(c, '"' | '\u{00AB}' | '\u{00BB}'))
        .collect();
    let kept = kept
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    kept.trim_end_matches('.').trim().to_owned()
}

/// [`claim_key`] as the store keeps and indexes it: its SHA-256 in hex, so that a claim of
/// any length fits an index.
pub fn claim_key_digest(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(claim_key(text).as_bytes()))
}

/// The `duplicate-claim` warning for a new claim whose text is `same`'s (by [`claim_key`]),
/// with the closest existing claims (best first).
pub fn duplicate_claim_warning(
    same: &crate::domain::Claim,
    similar: Vec<SimilarClaim>,
) -> crate::domain::RecordWarning {
    let id = same.id;
    let claimant = match &same.claimant {
        Some(c) => format!(" (claimant: {c})"),
        None => String::new(),
    };
    crate::domain::RecordWarning {
        code: "duplicate-claim".into(),
        message: format!(
            "Claim {id}{claimant} has the same text once white space, case and quote marks are \
             normalized. This claim was recorded anyway (two claimants may say the same thing); \
             if it is the same claim, add this appearance to {id} \
             (POST /v1/claims/{id}/appearances) and withdraw this one from use. `similar` lists \
             the closest claims."
        ),
        claim_id: Some(id),
        similar: Some(similar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_keys_ignore_space_case_and_quote_marks() {
        assert_eq!(
            claim_key("  The wall \u{201C}works\u{201D}\n well. "),
            claim_key("the WALL \"works\" well")
        );
        assert_eq!(
            claim_key("It\u{2019}s $4 billion"),
            claim_key("it's $4 billion.")
        );
        assert_ne!(
            claim_key("It costs $4 billion"),
            claim_key("It costs $5 billion")
        );
        assert_ne!(claim_key("Cajol\u{00E1} grew"), claim_key("Cajola grew"));
    }

    fn clauses(q: &str) -> Vec<Vec<String>> {
        SearchQuery::parse(q).unwrap().clauses
    }

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    /// Normalizing keeps an ASCII word's first letter (lowercased), which lets a hit be placed
    /// without normalizing words that start otherwise: on the stemmer's exceptions, on tricky
    /// endings, and on every word of the real articles in `../shared/corpus`.
    #[test]
    fn normalizing_keeps_the_first_letter() {
        let mut all: Vec<String> = [
            "dying", "lying", "tying", "skies", "skis", "idly", "gently", "ugly", "early", "only",
            "singly", "news", "howe", "atlas", "cosmos", "bias", "andes", "Yelling", "yes", "y",
            "ies", "eed", "ying", "Ying", "sses", "e", "s", "x1", "1990s", "ABOUT",
        ]
        .iter()
        .map(|w| w.to_string())
        .collect();
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        for entry in std::fs::read_dir(&corpus).expect("../shared/corpus") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "txt") {
                let text = std::fs::read_to_string(&path).expect("article");
                all.extend(
                    words(&text)
                        .into_iter()
                        .map(|w| text[w.start..w.end].to_owned()),
                );
            }
        }
        assert!(all.len() > 5_000, "{} words", all.len());
        for w in all.iter().filter(|w| w.is_ascii()) {
            let norm = normalize(w);
            assert_eq!(
                norm.bytes().next(),
                w.bytes().next().map(|b| b.to_ascii_lowercase()),
                "{w} -> {norm}"
            );
            assert!(may_start_with(w, norm.as_bytes()));
        }
    }

    /// A hit is placed as it would be with every word normalized.
    #[test]
    fn hits_are_placed_as_with_every_word_normalized() {
        let text = "The officials said remittances rose; Dying industries, \u{201C}officially\u{201D} \
                    dead, cost the Remittance office $4 billion. Cajol\u{00E1} grew.";
        for q in [
            "officials",
            "remittance office",
            "\"remittance office\"",
            "die",
            "cajola grew",
            "4 billion",
            "absent",
        ] {
            let query = SearchQuery::parse(q).expect(q);
            assert_eq!(
                find_in(&query, text),
                place(&query, text, words(text)),
                "{q}"
            );
        }
    }

    /// A kept stem is the stemmer's own, before and after the kept stems are emptied.
    #[test]
    fn kept_stems_are_the_stemmers_own() {
        let real = [
            "remittances",
            "running",
            "generously",
            "nationalization",
            "cost",
        ];
        let made = (0..MAX_KEPT_STEMS + 50).map(|i| format!("worded{i}ness"));
        let all: Vec<String> = real.iter().map(|w| w.to_string()).chain(made).collect();
        for _ in 0..2 {
            for w in all.iter().chain(all.iter().take(5)) {
                assert_eq!(stem(w.clone()), STEMMER.stem(w).into_owned(), "{w}");
            }
        }
        assert!(STEMS.with_borrow(|kept| kept.len()) <= MAX_KEPT_STEMS);
    }

    #[test]
    fn words_are_letters_and_digits_lowercased() {
        let ws: Vec<String> = words("The Mayor's \u{201C}$4.5bn\u{201D} well-known CAFÉ")
            .into_iter()
            .map(|w| w.norm)
            .collect();
        assert_eq!(
            ws,
            v(&["the", "mayor", "s", "4", "5bn", "well", "known", "cafe"])
        );
        // NFD and NFC are the same word, and accents are folded: search only.
        assert_eq!(words("Cajola\u{301}")[0].norm, "cajola");
        assert_eq!(words("Cajolá")[0].norm, "cajola");
        // English stems: the plural and the singular are one word.
        assert_eq!(words("Remittances")[0].norm, words("remittance")[0].norm);
        assert_eq!(words("costs")[0].norm, "cost");
        // Code points, not bytes.
        let w = &words("😀 é x")[1];
        assert_eq!((w.start_cp, w.end_cp, w.start), (4, 5, 8));
    }

    #[test]
    fn queries_are_words_and_phrases() {
        assert_eq!(
            clauses("bridge  Budget"),
            vec![v(&["bridg"]), v(&["budget"])]
        );
        assert_eq!(
            clauses("\"will cost\" mayor"),
            vec![v(&["will", "cost"]), v(&["mayor"])]
        );
        assert_eq!(
            clauses("\u{201C}will cost\u{201D}"),
            vec![v(&["will", "cost"])]
        );
        assert_eq!(clauses("well-known"), vec![v(&["well", "known"])]);
        // Repeats count once; case folds.
        assert_eq!(clauses("Mayor mayor MAYOR"), vec![v(&["mayor"])]);
        assert_eq!(clauses("ÉTÉ"), vec![v(&["ete"])]);
        // Operators of either engine are plain words or separators.
        assert_eq!(
            clauses("a OR b NEAR(c) -d *e f:g 'h'"),
            vec![
                v(&["a"]),
                v(&["or"]),
                v(&["b"]),
                v(&["near", "c"]),
                v(&["d"]),
                v(&["e"]),
                v(&["f", "g"]),
                v(&["h"])
            ]
        );
        // An empty phrase is nothing.
        assert_eq!(clauses("\"\" x"), vec![v(&["x"])]);
    }

    #[test]
    fn bad_queries_are_refused() {
        assert_eq!(SearchQuery::parse(""), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse("  \t"), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse("*** -- ()"), Err(QueryError::NoWords));
        assert_eq!(
            SearchQuery::parse("a \"b c"),
            Err(QueryError::UnbalancedQuote { at: 2 })
        );
        assert_eq!(
            SearchQuery::parse("\"a\" \"b"),
            Err(QueryError::UnbalancedQuote { at: 4 })
        );
        let long = "a ".repeat(600);
        assert!(matches!(
            SearchQuery::parse(&long),
            Err(QueryError::TooLong { .. })
        ));
        let many: String = (0..40).map(|i| format!("w{i} ")).collect();
        assert_eq!(
            SearchQuery::parse(&many),
            Err(QueryError::TooManyWords { words: 40 })
        );
        for e in [QueryError::Empty, QueryError::UnbalancedQuote { at: 3 }] {
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn renderings_quote_every_word() {
        let q = SearchQuery::parse("\"will cost\" mayor's").unwrap();
        assert_eq!(q.fts5(), "\"will cost\" AND \"mayor s\"");
        assert_eq!(q.tsquery(), "('will' <-> 'cost') & ('mayor' <-> 's')");
        let any = SearchQuery::any_word_of("Cost, cost and more").unwrap();
        assert_eq!(any.fts5(), "\"cost\" OR \"and\" OR \"more\"");
        assert_eq!(any.tsquery(), "'cost' | 'and' | 'more'");
        assert_eq!(SearchQuery::any_word_of("!!"), None);
    }

    #[test]
    fn tsvector_weights_the_title_and_keeps_phrases_apart() {
        let t = tsvector("bridge budget", "the budget of the bridge");
        assert_eq!(
            t, "'bridge':1A,8 'budget':2A,5 'the':4,7 'of':6",
            "body starts after a gap"
        );
        assert_eq!(tsvector("x", ""), "'x':1A");
        // Clamped and capped positions.
        let body = "w ".repeat(20_000);
        let t = tsvector("", body.trim());
        assert_eq!(t.matches(',').count(), PG_MAX_POSITIONS - 1);
        let far: String = (0..17_000).map(|i| format!("u{i} ")).collect();
        assert!(tsvector("", far.trim()).ends_with("'u16999':16383"));
    }

    #[test]
    fn index_text_is_the_words() {
        assert_eq!(index_text("The “Mayor” said: $4bn!"), "the mayor said 4bn");
    }

    #[test]
    fn find_places_a_phrase_in_code_points() {
        let text = "😀 Ünïcode first. The mayor said it will cost $4 billion.";
        let q = SearchQuery::parse("\"WILL cost\"").unwrap();
        let m = find(&q, text).unwrap();
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(
            chars[m.start..m.end].iter().collect::<String>(),
            "will cost"
        );
        assert_eq!(m.exact, "will cost");
        let utf16: Vec<u16> = text.encode_utf16().collect();
        assert_eq!(
            String::from_utf16(&utf16[m.start_utf16..m.end_utf16]).unwrap(),
            "will cost"
        );
        assert!(
            m.snippet.contains("<mark>will cost</mark>"),
            "{}",
            m.snippet
        );
        assert!(m.snippet.starts_with("😀"), "{}", m.snippet);
    }

    #[test]
    fn find_takes_the_shortest_window_holding_every_clause() {
        let text = "budget talk. Then the bridge, long after. The bridge budget passed.";
        let q = SearchQuery::parse("budget bridge").unwrap();
        let m = find(&q, text).unwrap();
        assert_eq!(m.exact, "bridge budget");
        // Only the words present count (a word found in a title only).
        let q = SearchQuery::parse("budget zebra").unwrap();
        assert_eq!(find(&q, text).unwrap().exact, "budget");
        assert_eq!(find(&SearchQuery::parse("zebra").unwrap(), text), None);
        assert_eq!(
            find_all(&SearchQuery::parse("budget zebra").unwrap(), text),
            None
        );
        assert!(find_all(&SearchQuery::parse("budget bridge").unwrap(), text).is_some());
        // A source: each clause in the title or in the text.
        let q = SearchQuery::parse("report budget").unwrap();
        let m = SourceMatch::new(&q, 1, "Report", text).unwrap();
        assert!(m.title && m.exact.as_deref() == Some("budget"));
        assert!(SourceMatch::new(&q, 1, "Other", text).is_none());
    }

    #[test]
    fn snippets_escape_html_and_mark_every_hit() {
        let text = "<b>Cost</b> & cost: \"it will cost\"";
        let m = find(&SearchQuery::parse("cost").unwrap(), text).unwrap();
        assert_eq!(
            m.snippet,
            "&lt;b&gt;<mark>Cost</mark>&lt;/b&gt; &amp; <mark>cost</mark>: &quot;it will <mark>cost</mark>&quot;"
        );
        // Long texts are cut at word boundaries, with an ellipsis.
        let long = format!("{} needle {}", "word ".repeat(100), "more ".repeat(100));
        let m = find(&SearchQuery::parse("needle").unwrap(), &long).unwrap();
        assert!(m.snippet.starts_with('…') && m.snippet.ends_with('…'));
        assert!(m.snippet.contains(" <mark>needle</mark> "));
        assert!(!m.snippet.contains("wor…") && !m.snippet.contains("…ord"));
        assert!(
            m.snippet.chars().count() < 2 * CONTEXT + 20,
            "{}",
            m.snippet
        );
        // A long span shows its two ends.
        let spread = format!("alpha {} omega", "filler ".repeat(60));
        let m = find(&SearchQuery::parse("alpha omega").unwrap(), &spread).unwrap();
        assert!(m.snippet.contains(" … "));
        assert!(
            m.snippet.contains("<mark>alpha</mark>") && m.snippet.contains("<mark>omega</mark>")
        );
        assert_eq!(m.exact, spread);
    }

    #[test]
    fn rank_cursors_round_trip_and_are_bounded() {
        assert_eq!(
            RankCursor::decode(&RankCursor(40).encode()),
            Some(RankCursor(40))
        );
        assert_eq!(
            RankCursor::decode(&RankCursor(MAX_RANKED + 1).encode()),
            None
        );
        assert_eq!(RankCursor::decode("garbage"), None);
        // An id cursor is not a rank cursor.
        let id = crate::domain::Cursor(uuid::Uuid::now_v7()).encode();
        assert_eq!(RankCursor::decode(&id), None);
    }

    #[test]
    fn similarity_and_figures() {
        assert!((similarity("The bridge costs", "the BRIDGE costs") - 1.0).abs() < 1e-9);
        assert_eq!(similarity("a b", "c d"), 0.0);
        let s = similarity("bridge will cost", "the bridge will cost a lot");
        assert!(s > 0.5 && s < 1.0, "{s}");
        let (a, b, differ) = figures("It costs $4 billion", "It costs $5 billion");
        assert!(differ);
        assert_eq!((a, b), (v(&["$4 billion"]), v(&["$5 billion"])));
        assert!(!figures("It costs $4bn", "costs 4 billion dollars").2);
        assert!(!figures("no figure", "none here").2);
        assert!(figures("It costs $4bn", "It costs a lot").2);
    }
}

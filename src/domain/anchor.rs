//! Quote anchoring: resolving what a person pasted to one exact span of a stored text.
//!
//! People copy quotes from rendered pages, so line breaks, typographic quotes, dashes and
//! Unicode normalization forms differ from the stored text. Both the document and the quote
//! are *folded* with the same rules (see [`fold_char`]) and the quote is searched in the
//! folded document. The fold is computed once per stored version ([`AnchorIndex::new`]) and
//! kept with a byte-to-byte map back into the original text, so each request costs one
//! `memchr::memmem` scan of the folded bytes, not a renormalization of the document.
//!
//! Positions in answers are Unicode code points from 0, end exclusive, as in the W3C Web
//! Annotation `TextPositionSelector`.

pub mod reanchor;

use memchr::memmem;
use unicode_normalization::char::{canonical_combining_class, decompose_canonical};

/// How many code points of context go into `prefix` and `suffix`.
pub const CONTEXT_CHARS: usize = 32;
/// At most this many candidates are listed for an ambiguous quote (the count is always exact).
pub const MAX_CANDIDATES: usize = 100;
/// Bytes per block of the code point index: a lookup scans at most this many bytes.
const CP_BLOCK: usize = 4096;
/// An elided quote's parts must follow each other with at most this many code points of the
/// text between two consecutive parts (what the ellipsis stands for).
pub const MAX_ELIDED_GAP: usize = 1000;

/// A folded, searchable view of one immutable text.
#[derive(Debug)]
pub struct AnchorIndex {
    text: String,
    /// The document after folding, as UTF-8.
    folded: Vec<u8>,
    /// For each folded byte, the byte offset in `text` of the character it came from.
    origin: Vec<u32>,
    /// Code points in `text[..k * CP_BLOCK]`, for each block `k`.
    cp_blocks: Vec<u32>,
    /// Characters outside the Basic Multilingual Plane in `text[..k * CP_BLOCK]`: each is two
    /// UTF-16 code units, so the UTF-16 offset of a code point adds these.
    astral_blocks: Vec<u32>,
    char_len: usize,
}

/// An exact span of the document, with its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// First code point (inclusive).
    pub start: usize,
    /// Last code point (exclusive).
    pub end: usize,
    /// The document's own characters in the span.
    pub exact: String,
    /// Up to [`CONTEXT_CHARS`] code points before the span.
    pub prefix: String,
    /// Up to [`CONTEXT_CHARS`] code points after the span.
    pub suffix: String,
    /// `start` in UTF-16 code units, as browsers' DOM ranges count.
    pub start_utf16: usize,
    /// `end` in UTF-16 code units.
    pub end_utf16: usize,
}

/// What a client sent to select a passage.
#[derive(Debug, Clone, Default)]
pub struct Selector<'a> {
    pub quote: Option<&'a str>,
    pub prefix: Option<&'a str>,
    pub suffix: Option<&'a str>,
    pub start: Option<usize>,
    pub end: Option<usize>,
}

/// Where the longest part of an unmatched quote does occur.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMatch {
    /// The span of the document that matches part of the quote.
    pub span: Span,
    /// How many code points of the (folded) quote matched.
    pub matched_chars: usize,
    /// Code points in the (folded) quote.
    pub quote_chars: usize,
    /// Whether the matched part is the beginning of the quote (else its end).
    pub from_start: bool,
    /// The quote's text right after (or before) the matched part.
    pub quote_continues: String,
    /// The document's text right after (or before) the matched part.
    pub document_continues: String,
}

/// Why a selector did not resolve to one span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorError {
    /// The quote is empty or only white space once folded.
    EmptyQuote,
    /// Neither a quote nor a complete `start`/`end` pair was given.
    NoSelector,
    /// `start`/`end` are outside the text or not increasing.
    InvalidPosition {
        start: usize,
        end: usize,
        length: usize,
    },
    /// The quote does not occur. `unnarrowed` lists occurrences that a prefix or suffix ruled out.
    NotFound {
        near: Option<Box<NearMatch>>,
        unnarrowed: Vec<Span>,
        unnarrowed_count: usize,
    },
    /// The quote occurs more than once; `candidates` lists up to [`MAX_CANDIDATES`].
    Ambiguous { candidates: Vec<Span>, count: usize },
    /// Both a quote and positions were given and the quote is not at those positions.
    PositionMismatch { found: Vec<Span>, count: usize },
    /// A part of an elided quote occurs nowhere. `part` is the part (folded, then NFC),
    /// `index` counts parts from 1.
    PartNotFound {
        part: String,
        index: usize,
        parts: usize,
        near: Option<Box<NearMatch>>,
    },
    /// Every part of an elided quote occurs, but never in order with at most
    /// [`MAX_ELIDED_GAP`] code points between two consecutive parts.
    PartsApart { parts: usize },
}

/// Whether the listed occurrences cannot be told apart by their context: two of them have the
/// same `prefix` and `suffix` (as far as [`CONTEXT_CHARS`] reach), so a client must give
/// positions or a longer quote.
pub fn context_cannot_choose(candidates: &[Span]) -> bool {
    candidates.iter().enumerate().any(|(i, a)| {
        candidates[i + 1..]
            .iter()
            .any(|b| fold(&a.prefix) == fold(&b.prefix) && fold(&a.suffix) == fold(&b.suffix))
    })
}

/// Quote marks a person may paste around a whole quote: openers and closers. Any opener may
/// go with any closer (people mix straight and curly marks).
const OPENING_MARKS: &[char] = &[
    '"', '\'', '\u{201C}', '\u{201D}', '\u{201E}', '\u{2018}', '\u{2019}', '\u{201A}', '\u{00AB}',
    '\u{00BB}', '\u{2039}', '\u{203A}',
];
const CLOSING_MARKS: &[char] = &[
    '"', '\'', '\u{201C}', '\u{201D}', '\u{2018}', '\u{2019}', '\u{00AB}', '\u{00BB}', '\u{2039}',
    '\u{203A}',
];

/// The quote inside a pair of quote marks around all of it (white space around the marks
/// ignored), with the two marks; `None` when the quote is not so wrapped.
fn strip_quote_marks(quote: &str) -> Option<(char, &str, char)> {
    let trimmed = quote.trim();
    let mut chars = trimmed.chars();
    let open = chars.next()?;
    let close = chars.next_back()?;
    if !OPENING_MARKS.contains(&open) || !CLOSING_MARKS.contains(&close) {
        return None;
    }
    let inner = &trimmed[open.len_utf8()..trimmed.len() - close.len_utf8()];
    Some((open, inner, close))
}

/// Splits a folded quote at its ellipses ("...", ". . .", "[...]", with "…" already folded to
/// "..."), trimming each part; empty parts (an ellipsis at either end) are dropped.
fn elided_parts(folded: &str) -> Vec<&str> {
    let b = folded.as_bytes();
    // Length of an ellipsis starting at `i`: three or more dots, single spaces allowed
    // between them; or such dots in square brackets.
    let dots = |i: usize| -> Option<usize> {
        let mut j = i;
        let mut count = 0;
        while j < b.len() && b[j] == b'.' {
            count += 1;
            j += 1;
            if j + 1 < b.len() && b[j] == b' ' && b[j + 1] == b'.' {
                j += 1;
            }
        }
        (count >= 3).then_some(j - i)
    };
    let marker = |i: usize| -> Option<usize> {
        match b[i] {
            b'.' => dots(i),
            b'[' => {
                let mut j = i + 1;
                if b.get(j) == Some(&b' ') {
                    j += 1;
                }
                let n = (j < b.len()).then(|| dots(j)).flatten()?;
                j += n;
                if b.get(j) == Some(&b' ') {
                    j += 1;
                }
                (b.get(j) == Some(&b']')).then_some(j + 1 - i)
            }
            _ => None,
        }
    };
    let mut parts = Vec::new();
    let (mut from, mut i) = (0, 0);
    while i < b.len() {
        match marker(i) {
            Some(n) => {
                parts.push(&folded[from..i]);
                i += n;
                from = i;
            }
            None => i += 1,
        }
    }
    parts.push(&folded[from..]);
    parts
        .into_iter()
        .map(|p| p.trim_matches(SPACE))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Where a quote occurs, before any prefix, suffix or positions narrow it.
struct Located {
    /// Folded byte ranges, in order.
    ranges: Vec<(usize, usize)>,
    /// The folded quote the near-match hint works from when nothing is found.
    needle: String,
}

/// The character a folded text uses for every white space run.
const SPACE: char = ' ';

/// Maps one character to its folded form, calling `emit` for each output character.
/// White space is handled by the caller, which collapses runs into one space.
fn fold_char(c: char, emit: &mut impl FnMut(char)) {
    match c {
        // Invisible characters that pages insert or drop freely.
        '\u{00AD}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}' => {}
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{FF07}' => emit('\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{FF02}' => emit('"'),
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => emit('-'),
        '\u{2026}' => {
            emit('.');
            emit('.');
            emit('.');
        }
        _ => decompose_canonical(c, emit),
    }
}

/// Folds `text`, calling `out(folded_char, origin_byte)` in order, with combining marks put in
/// canonical order so that every canonically equivalent input folds the same way.
fn fold_with_origin(text: &str, mut out: impl FnMut(char, u32)) {
    // The current starter and its combining marks, reordered before they are written.
    let mut segment: Vec<(char, u32)> = Vec::with_capacity(8);
    let mut in_space = false;
    let flush = |segment: &mut Vec<(char, u32)>, out: &mut dyn FnMut(char, u32)| {
        // Stable sort of marks by combining class; starters (class 0) stay where they are.
        if segment.len() > 2 {
            segment[1..].sort_by_key(|&(c, _)| canonical_combining_class(c));
        }
        for &(c, o) in segment.iter() {
            out(c, o);
        }
        segment.clear();
    };
    for (offset, c) in text.char_indices() {
        let offset = offset as u32;
        if c.is_whitespace() {
            if !in_space {
                flush(&mut segment, &mut out);
                out(SPACE, offset);
                in_space = true;
            }
            continue;
        }
        let mut emitted = false;
        fold_char(c, &mut |d| {
            emitted = true;
            if canonical_combining_class(d) == 0 {
                flush(&mut segment, &mut out);
            }
            segment.push((d, offset));
        });
        if emitted {
            in_space = false;
        }
    }
    flush(&mut segment, &mut out);
}

/// Folds a short piece of client text (a quote, prefix or suffix) and trims its white space.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    fold_with_origin(text, |c, _| folded.push(c));
    folded.trim_matches(SPACE).to_owned()
}

fn is_mark(c: char) -> bool {
    canonical_combining_class(c) != 0
}

impl AnchorIndex {
    /// Builds the folded view of `text`. Linear in the text; done once per stored version.
    pub fn new(text: String) -> Self {
        assert!(
            text.len() < u32::MAX as usize,
            "texts over 4 GiB are refused earlier"
        );
        let mut folded = String::with_capacity(text.len() + text.len() / 16);
        let mut origin = Vec::with_capacity(text.len() + text.len() / 16);
        fold_with_origin(&text, |c, o| {
            folded.push(c);
            origin.resize(folded.len(), o);
        });
        let mut cp_blocks = Vec::with_capacity(text.len() / CP_BLOCK + 1);
        let mut astral_blocks = Vec::with_capacity(text.len() / CP_BLOCK + 1);
        let (mut count, mut astral) = (0u32, 0u32);
        for block in text.as_bytes().chunks(CP_BLOCK) {
            cp_blocks.push(count);
            astral_blocks.push(astral);
            count += block.iter().filter(|&&b| !is_continuation(b)).count() as u32;
            astral += block.iter().filter(|&&b| is_astral_lead(b)).count() as u32;
        }
        cp_blocks.push(count);
        astral_blocks.push(astral);
        AnchorIndex {
            char_len: count as usize,
            text,
            folded: folded.into_bytes(),
            origin,
            cp_blocks,
            astral_blocks,
        }
    }

    /// The original text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Length of the original text in code points.
    pub fn char_len(&self) -> usize {
        self.char_len
    }

    /// Approximate heap size, for cache budgets.
    pub fn heap_bytes(&self) -> usize {
        self.text.len() + self.folded.len() + self.origin.len() * 4 + self.cp_blocks.len() * 8
    }

    /// Resolves a selector to exactly one span, or says why it cannot.
    pub fn resolve(&self, selector: &Selector<'_>) -> Result<Span, AnchorError> {
        let positions = match (selector.start, selector.end) {
            (Some(start), Some(end)) => Some(self.check_positions(start, end)?),
            (None, None) => None,
            _ => return Err(AnchorError::NoSelector),
        };
        let Some(quote) = selector.quote else {
            let (start, end) = positions.ok_or(AnchorError::NoSelector)?;
            return Ok(self.span_from_cps(start, end));
        };
        let Located {
            ranges: all,
            needle,
        } = self.locate(quote)?;
        let prefix = selector.prefix.map(fold).unwrap_or_default();
        let suffix = selector.suffix.map(fold).unwrap_or_default();
        let narrowed: Vec<(usize, usize)> = all
            .iter()
            .copied()
            .filter(|&(fs, fe)| self.context_matches(fs, fe, &prefix, &suffix))
            .collect();
        if let Some((start, end)) = positions {
            let spans: Vec<Span> = narrowed.iter().map(|&r| self.span_from_folded(r)).collect();
            return match spans.iter().find(|s| s.start == start && s.end == end) {
                Some(span) => Ok(span.clone()),
                None => Err(AnchorError::PositionMismatch {
                    count: spans.len(),
                    found: spans.into_iter().take(MAX_CANDIDATES).collect(),
                }),
            };
        }
        match narrowed.as_slice() {
            [one] => Ok(self.span_from_folded(*one)),
            [] => Err(AnchorError::NotFound {
                near: if all.is_empty() {
                    self.near_match(needle.as_bytes()).map(Box::new)
                } else {
                    None
                },
                unnarrowed_count: all.len(),
                unnarrowed: self.spans(&all),
            }),
            many => Err(AnchorError::Ambiguous {
                count: many.len(),
                candidates: self.spans(many),
            }),
        }
    }

    /// Finds a pasted quote: as it is; else without quote marks around it (each mark kept
    /// where the text holds it at that place); else, when it has ellipses, as parts in order.
    fn locate(&self, quote: &str) -> Result<Located, AnchorError> {
        let needle = fold(quote);
        if needle.is_empty() {
            return Err(AnchorError::EmptyQuote);
        }
        let stripped = strip_quote_marks(quote)
            .map(|(open, inner, close)| (open, fold(inner), close))
            .filter(|(_, inner, _)| !inner.is_empty());
        let base = stripped
            .as_ref()
            .map_or(needle.as_str(), |(_, inner, _)| inner);
        let parts = elided_parts(base);
        if stripped.is_none() && parts == [needle.as_str()] {
            // Nothing to fall back to: one scan.
            let ranges = self.occurrences(needle.as_bytes());
            return Ok(Located { ranges, needle });
        }
        // Every reading of the quote (as it is, without its marks, its parts) holds its longest
        // part: the text is scanned once for that part, and each reading is checked where it
        // occurs; only the other parts of an elided quote are scanned for again.
        let key = parts
            .iter()
            .copied()
            .max_by_key(|p| p.len())
            .unwrap_or(base);
        let raw = self.raw_positions(key.as_bytes());
        let found = |reading: &str| -> Vec<(usize, usize)> {
            let Some(at) = reading.find(key) else {
                return self.occurrences(reading.as_bytes());
            };
            raw.iter()
                .filter_map(|&p| p.checked_sub(at))
                .filter(|&s| self.folded[s..].starts_with(reading.as_bytes()))
                .map(|s| (s, s + reading.len()))
                .filter(|&(s, e)| self.is_whole(s, e))
                .collect()
        };
        let ranges = found(&needle);
        if !ranges.is_empty() {
            return Ok(Located { ranges, needle });
        }
        let marks = stripped.as_ref().map(|&(open, _, close)| (open, close));
        let widen = |ranges: Vec<(usize, usize)>| match marks {
            Some((open, close)) => self.with_marks(ranges, open, close),
            None => ranges,
        };
        if stripped.is_some() {
            let ranges = found(base);
            if !ranges.is_empty() {
                return Ok(Located {
                    ranges: widen(ranges),
                    needle: base.to_owned(),
                });
            }
        }
        if parts.len() == 1 && parts[0] != base {
            // An ellipsis only at the start or the end: the quote is the one part.
            return Ok(Located {
                ranges: widen(found(parts[0])),
                needle: parts[0].to_owned(),
            });
        }
        if parts.len() < 2 {
            return Ok(Located {
                ranges: Vec::new(),
                needle: base.to_owned(),
            });
        }
        let ranges = self.elided(&parts, (key, found(key)))?;
        Ok(Located {
            ranges: widen(ranges),
            needle: base.to_owned(),
        })
    }

    /// Every position where `needle` starts in the folded text (overlapping ones too), whole
    /// or not.
    fn raw_positions(&self, needle: &[u8]) -> Vec<usize> {
        let finder = memmem::Finder::new(needle);
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(pos) = finder.find(&self.folded[from..]) {
            found.push(from + pos);
            from += pos + 1;
        }
        found
    }

    /// Widens each range over the quote marks that the text holds right around it.
    fn with_marks(
        &self,
        ranges: Vec<(usize, usize)>,
        open: char,
        close: char,
    ) -> Vec<(usize, usize)> {
        let (open, close) = (fold(&open.to_string()), fold(&close.to_string()));
        let mut out: Vec<(usize, usize)> = ranges
            .into_iter()
            .map(|(mut fs, mut fe)| {
                if self.folded[..fs].ends_with(open.as_bytes())
                    && self.is_whole(fs - open.len(), fe)
                {
                    fs -= open.len();
                }
                if self.folded[fe..].starts_with(close.as_bytes())
                    && self.is_whole(fs, fe + close.len())
                {
                    fe += close.len();
                }
                (fs, fe)
            })
            .collect();
        out.dedup();
        out
    }

    /// Every placement of an elided quote's parts in order, each part after the previous one
    /// with at most [`MAX_ELIDED_GAP`] code points between them, as the folded range from the
    /// first part's start to the last part's end (distinct ranges, in order).
    fn elided(
        &self,
        parts: &[&str],
        (known, known_found): (&str, Vec<(usize, usize)>),
    ) -> Result<Vec<(usize, usize)>, AnchorError> {
        let mut each = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let found = if *part == known {
                known_found.clone()
            } else {
                self.occurrences(part.as_bytes())
            };
            if found.is_empty() {
                use unicode_normalization::UnicodeNormalization;
                return Err(AnchorError::PartNotFound {
                    part: part.nfc().collect(),
                    index: i + 1,
                    parts: parts.len(),
                    near: self.near_match(part.as_bytes()).map(Box::new),
                });
            }
            each.push(found);
        }
        let mut placements = Vec::new();
        for &(first_start, first_end) in &each[0] {
            // The ends of the occurrences reachable for the part just placed.
            let mut frontier = vec![first_end];
            for occurrences in &each[1..] {
                let lowest = frontier[0];
                let from = occurrences.partition_point(|&(fs, _)| fs < lowest);
                let mut next = Vec::new();
                for &(fs, fe) in &occurrences[from..] {
                    let reachable = frontier
                        .iter()
                        .any(|&end| end <= fs && self.gap_fits(end, fs));
                    if reachable {
                        next.push(fe);
                    } else if frontier.iter().all(|&end| {
                        self.origin[fs] as usize > self.original_end(end) + 4 * MAX_ELIDED_GAP
                    }) {
                        break;
                    }
                }
                frontier = next;
                if frontier.is_empty() {
                    break;
                }
            }
            placements.extend(frontier.into_iter().map(|end| (first_start, end)));
        }
        placements.sort_unstable();
        placements.dedup();
        if placements.is_empty() {
            return Err(AnchorError::PartsApart { parts: parts.len() });
        }
        Ok(placements)
    }

    /// The original byte offset where a folded range ending at `fe` ends.
    fn original_end(&self, fe: usize) -> usize {
        let last = self.origin[fe - 1] as usize;
        last + self.text[last..].chars().next().map_or(0, char::len_utf8)
    }

    /// Whether at most [`MAX_ELIDED_GAP`] code points lie between a part ending at folded
    /// byte `end` and one starting at folded byte `start`.
    fn gap_fits(&self, end: usize, start: usize) -> bool {
        let (a, b) = (self.original_end(end), self.origin[start] as usize);
        if b < a {
            return false;
        }
        b - a <= MAX_ELIDED_GAP
            || (b - a <= 4 * MAX_ELIDED_GAP && self.text[a..b].chars().count() <= MAX_ELIDED_GAP)
    }

    fn spans(&self, ranges: &[(usize, usize)]) -> Vec<Span> {
        ranges
            .iter()
            .take(MAX_CANDIDATES)
            .map(|&r| self.span_from_folded(r))
            .collect()
    }

    fn check_positions(&self, start: usize, end: usize) -> Result<(usize, usize), AnchorError> {
        if start >= end || end > self.char_len {
            return Err(AnchorError::InvalidPosition {
                start,
                end,
                length: self.char_len,
            });
        }
        Ok((start, end))
    }

    /// Every occurrence of `needle` in the folded text that starts and ends on whole
    /// characters of the original, as folded byte ranges.
    fn occurrences(&self, needle: &[u8]) -> Vec<(usize, usize)> {
        self.occurrences_up_to(needle, usize::MAX)
    }

    fn occurrences_up_to(&self, needle: &[u8], limit: usize) -> Vec<(usize, usize)> {
        let finder = memmem::Finder::new(needle);
        let mut found = Vec::new();
        let mut from = 0;
        while found.len() < limit
            && let Some(pos) = finder.find(&self.folded[from..])
        {
            let fs = from + pos;
            let fe = fs + needle.len();
            if self.is_whole(fs, fe) {
                found.push((fs, fe));
            }
            from = fs + 1;
        }
        found
    }

    /// The first whole occurrence only: enough for a hint, and it stops scanning early.
    fn first_occurrence(&self, needle: &[u8]) -> Option<(usize, usize)> {
        self.occurrences_up_to(needle, 1).first().copied()
    }

    /// A match must not cut an original character in two (an `é` folded to `e` + accent), nor
    /// stop before a combining mark (`Cajola` is not `Cajolá`).
    fn is_whole(&self, fs: usize, fe: usize) -> bool {
        let starts_clean = fs == 0 || self.origin[fs - 1] != self.origin[fs];
        let ends_clean = fe == self.folded.len()
            || (self.origin[fe] != self.origin[fe - 1]
                && !self.folded_char_at(fe).is_some_and(is_mark));
        starts_clean && ends_clean
    }

    fn folded_char_at(&self, at: usize) -> Option<char> {
        // Folded bytes are valid UTF-8 and `at` is a character boundary.
        std::str::from_utf8(&self.folded[at..self.folded.len().min(at + 4)])
            .or_else(|e| std::str::from_utf8(&self.folded[at..at + e.valid_up_to()]))
            .ok()
            .and_then(|s| s.chars().next())
    }

    /// Whether the folded text around a match agrees with a folded prefix and suffix. The
    /// white space between context and quote is optional, as clients trim either.
    fn context_matches(&self, fs: usize, fe: usize, prefix: &str, suffix: &str) -> bool {
        let before = &self.folded[..fs];
        let before = before.strip_suffix(b" ").unwrap_or(before);
        let after = &self.folded[fe..];
        let after = after.strip_prefix(b" ").unwrap_or(after);
        before.ends_with(prefix.as_bytes()) && after.starts_with(suffix.as_bytes())
    }

    /// Original byte range of a folded byte range that satisfies [`Self::is_whole`].
    fn original_bytes(&self, (fs, fe): (usize, usize)) -> (usize, usize) {
        let start = self.origin[fs] as usize;
        let last = self.origin[fe - 1] as usize;
        let last_len = self.text[last..].chars().next().map_or(0, char::len_utf8);
        (start, last + last_len)
    }

    fn span_from_folded(&self, range: (usize, usize)) -> Span {
        let (bs, be) = self.original_bytes(range);
        self.span_from_bytes(bs, be)
    }

    fn span_from_cps(&self, start: usize, end: usize) -> Span {
        self.span_from_bytes(self.byte_of_cp(start), self.byte_of_cp(end))
    }

    fn span_from_bytes(&self, bs: usize, be: usize) -> Span {
        let prefix_start = self.text[..bs]
            .char_indices()
            .rev()
            .nth(CONTEXT_CHARS - 1)
            .map_or(0, |(i, _)| i);
        let suffix_end = self.text[be..]
            .char_indices()
            .nth(CONTEXT_CHARS)
            .map_or(self.text.len(), |(i, _)| be + i);
        Span {
            start: self.cp_of_byte(bs),
            end: self.cp_of_byte(be),
            exact: self.text[bs..be].to_owned(),
            prefix: self.text[prefix_start..bs].to_owned(),
            suffix: self.text[be..suffix_end].to_owned(),
            start_utf16: self.utf16_of_byte(bs),
            end_utf16: self.utf16_of_byte(be),
        }
    }

    /// UTF-16 offset of a byte offset that is a character boundary.
    fn utf16_of_byte(&self, byte: usize) -> usize {
        let block = byte / CP_BLOCK;
        let astral = self.text.as_bytes()[block * CP_BLOCK..byte]
            .iter()
            .filter(|&&b| is_astral_lead(b))
            .count();
        self.cp_of_byte(byte) + self.astral_blocks[block] as usize + astral
    }

    /// The code point at a UTF-16 offset, or `None` past the end or inside a surrogate pair
    /// (a position no DOM range of whole characters has).
    pub fn cp_of_utf16(&self, unit: usize) -> Option<usize> {
        let units = |k: usize| (self.cp_blocks[k] + self.astral_blocks[k]) as usize;
        // The last block that starts at or before `unit`.
        let (mut lo, mut hi) = (0, self.cp_blocks.len());
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if units(mid) <= unit {
                lo = mid
            } else {
                hi = mid
            }
        }
        let (mut cp, mut at) = (self.cp_blocks[lo] as usize, units(lo));
        // Continuation bytes at the block's start belong to a character counted before it.
        for &b in &self.text.as_bytes()[(lo * CP_BLOCK).min(self.text.len())..] {
            if is_continuation(b) {
                continue;
            }
            if at >= unit {
                break;
            }
            at += if is_astral_lead(b) { 2 } else { 1 };
            cp += 1;
        }
        (at == unit).then_some(cp)
    }

    /// UTF-16 offset of a code point index (`cp <= char_len`).
    pub fn utf16_of_cp(&self, cp: usize) -> usize {
        self.utf16_of_byte(self.byte_of_cp(cp))
    }

    /// The folded byte range of a code point range, without white space at either end.
    fn folded_range(&self, start: usize, end: usize) -> (usize, usize) {
        let (bs, be) = (self.byte_of_cp(start), self.byte_of_cp(end));
        let fs = self.origin.partition_point(|&o| (o as usize) < bs);
        let fe = self.origin.partition_point(|&o| (o as usize) < be);
        reanchor_trim(fs, fe, &self.folded)
    }

    /// Code point index of a byte offset that is a character boundary.
    fn cp_of_byte(&self, byte: usize) -> usize {
        let block = byte / CP_BLOCK;
        let from = block * CP_BLOCK;
        let within = self.text.as_bytes()[from..byte]
            .iter()
            .filter(|&&b| !is_continuation(b))
            .count();
        self.cp_blocks[block] as usize + within
    }

    /// Byte offset of a code point index (`cp <= char_len`).
    fn byte_of_cp(&self, cp: usize) -> usize {
        let block = self.cp_blocks.partition_point(|&c| c as usize <= cp) - 1;
        let mut count = self.cp_blocks[block] as usize;
        let bytes = self.text.as_bytes();
        for (i, &b) in bytes.iter().enumerate().skip(block * CP_BLOCK) {
            if !is_continuation(b) {
                if count == cp {
                    return i;
                }
                count += 1;
            }
        }
        bytes.len()
    }

    /// The longest beginning or end of an unmatched quote that does occur, if it is long
    /// enough to be a useful hint. Binary search: if a beginning occurs, every shorter one does.
    fn near_match(&self, needle: &[u8]) -> Option<NearMatch> {
        let quote = std::str::from_utf8(needle).ok()?;
        let bounds: Vec<usize> = quote.char_indices().map(|(i, _)| i).skip(1).collect();
        let quote_chars = bounds.len() + 1;
        let longest = |from_start: bool| -> Option<(usize, (usize, usize))> {
            let part = |k: usize| {
                if from_start {
                    &needle[..bounds[k]]
                } else {
                    &needle[bounds[bounds.len() - 1 - k]..]
                }
            };
            let (mut lo, mut hi, mut best) = (0usize, bounds.len(), None);
            while lo < hi {
                let mid = (lo + hi) / 2;
                let piece = part(mid);
                match self.first_occurrence(piece) {
                    Some(r) => {
                        best = Some((mid, r, piece.len()));
                        lo = mid + 1;
                    }
                    None => hi = mid,
                }
            }
            best.map(|(k, r, _)| (k + 1, r))
        };
        let (chars, range, from_start) = match (longest(true), longest(false)) {
            (Some(a), Some(b)) if b.0 > a.0 => (b.0, b.1, false),
            (Some(a), _) => (a.0, a.1, true),
            (None, Some(b)) => (b.0, b.1, false),
            (None, None) => return None,
        };
        if chars < 8.min(quote_chars / 2).max(3) {
            return None;
        }
        let span = self.span_from_folded(range);
        let folded_str =
            |r: std::ops::Range<usize>| String::from_utf8_lossy(&self.folded[r]).into_owned();
        let (quote_continues, document_continues) = if from_start {
            let q: String = quote[bounds[chars - 1]..].chars().take(16).collect();
            let d = folded_str(range.1..self.folded.len().min(range.1 + 48));
            (q, d.chars().take(16).collect())
        } else {
            let q = &quote[..bounds[bounds.len() - chars]];
            let q: String = q
                .chars()
                .rev()
                .take(16)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let d = folded_str(range.0.saturating_sub(48)..range.0);
            let d: Vec<char> = d.chars().collect();
            (q, d[d.len().saturating_sub(16)..].iter().collect())
        };
        Some(NearMatch {
            span,
            matched_chars: chars,
            quote_chars,
            from_start,
            quote_continues,
            document_continues,
        })
    }
}

fn reanchor_trim(s: usize, e: usize, folded: &[u8]) -> (usize, usize) {
    let space = SPACE as u8;
    let s = s + folded[s..e].iter().take_while(|&&b| b == space).count();
    let e = e - folded[s..e]
        .iter()
        .rev()
        .take_while(|&&b| b == space)
        .count();
    (s, e)
}

/// The first byte of a four-byte UTF-8 sequence: a character outside the BMP.
fn is_astral_lead(b: u8) -> bool {
    b >= 0xF0
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quote(q: &str) -> Selector<'_> {
        Selector {
            quote: Some(q),
            ..Selector::default()
        }
    }

    fn resolve(text: &str, q: &str) -> Result<Span, AnchorError> {
        AnchorIndex::new(text.to_owned()).resolve(&quote(q))
    }

    #[test]
    fn utf16_offsets_count_astral_characters_twice() {
        // 😀 (U+1F600) and 𠀀 (U+20000, CJK extension B) are two UTF-16 units each; 漢 is one.
        let text = format!("{}😀 漢字 a 𠀀b end", "x".repeat(CP_BLOCK));
        let index = AnchorIndex::new(text.clone());
        let span = index.resolve(&quote("漢字 a 𠀀b")).unwrap();
        let before = CP_BLOCK + 2;
        assert_eq!((span.start, span.end), (before, before + 7));
        assert_eq!((span.start_utf16, span.end_utf16), (before + 1, before + 9));
        let utf16: Vec<u16> = text.encode_utf16().collect();
        assert_eq!(
            String::from_utf16(&utf16[span.start_utf16..span.end_utf16]).unwrap(),
            span.exact
        );
        assert_eq!(index.cp_of_utf16(span.end_utf16), Some(span.end));
        assert_eq!(
            index.cp_of_utf16(CP_BLOCK + 1),
            None,
            "inside the emoji's pair"
        );
        assert_eq!(index.cp_of_utf16(utf16.len()), Some(index.char_len()));
        assert_eq!(index.cp_of_utf16(utf16.len() + 1), None);
        for cp in [0, CP_BLOCK, CP_BLOCK + 1, before + 6, index.char_len()] {
            assert_eq!(index.cp_of_utf16(index.utf16_of_cp(cp)), Some(cp));
        }
    }

    #[test]
    fn white_space_runs_match_one_space() {
        let span = resolve(
            "the cost was\n  $4\tbillion\u{00A0}dollars.",
            "was $4 billion dollars",
        )
        .unwrap();
        assert_eq!(span.exact, "was\n  $4\tbillion\u{00A0}dollars");
        assert_eq!((span.start, span.end), (9, 33));
    }

    #[test]
    fn leading_and_trailing_white_space_in_quote_is_ignored() {
        let span = resolve("alpha beta gamma", "  \n beta\t ").unwrap();
        assert_eq!((span.start, span.end, span.exact.as_str()), (6, 10, "beta"));
    }

    #[test]
    fn typographic_quotes_and_apostrophes_match_straight_ones() {
        let text = "He said \u{201C}it\u{2019}s over\u{201D} today.";
        let span = resolve(text, "\"it's over\"").unwrap();
        assert_eq!(span.exact, "\u{201C}it\u{2019}s over\u{201D}");
        assert_eq!((span.start, span.end), (8, 19));
        // and the other way round
        let span = resolve("say \"don't\" now", "\u{201C}don\u{2019}t\u{201D}").unwrap();
        assert_eq!(span.exact, "\"don't\"");
    }

    #[test]
    fn dashes_and_minus_match_hyphen() {
        for dash in ['\u{2013}', '\u{2014}', '\u{2212}', '-'] {
            let text = format!("from 2018{dash}2019 onward");
            let span = resolve(&text, "2018-2019").unwrap();
            assert_eq!(span.exact, format!("2018{dash}2019"));
            let span = resolve(&text, "2018\u{2014}2019").unwrap();
            assert_eq!((span.start, span.end), (5, 14));
        }
    }

    #[test]
    fn ellipsis_matches_three_dots() {
        let span = resolve("wait\u{2026} what", "wait... what").unwrap();
        assert_eq!(
            (span.start, span.end, span.exact.as_str()),
            (0, 10, "wait\u{2026} what")
        );
        let span = resolve("wait... what", "wait\u{2026}").unwrap();
        assert_eq!(span.exact, "wait...");
    }

    #[test]
    fn a_quote_may_not_end_inside_an_ellipsis() {
        let err = resolve("wait\u{2026} what", "wait.").unwrap_err();
        assert!(matches!(err, AnchorError::NotFound { .. }), "{err:?}");
    }

    #[test]
    fn nfc_and_nfd_are_equal() {
        let nfc = "in Patz\u{00FA}n today";
        let nfd = "in Patzu\u{0301}n today";
        let span = resolve(nfc, "Patzu\u{0301}n").unwrap();
        assert_eq!(
            (span.start, span.end, span.exact.as_str()),
            (3, 9, "Patz\u{00FA}n")
        );
        let span = resolve(nfd, "Patz\u{00FA}n").unwrap();
        assert_eq!(
            (span.start, span.end, span.exact.as_str()),
            (3, 10, "Patzu\u{0301}n")
        );
    }

    #[test]
    fn accents_and_case_stay_significant() {
        // "Cajola" must not match the first five letters plus the "a" of "Cajolá".
        let span = resolve("in Cajol\u{00E1} and in Cajola", "Cajola").unwrap();
        assert_eq!(span.start, 17);
        let span = resolve("in Cajola and in Cajol\u{00E1}", "Cajol\u{00E1}").unwrap();
        assert_eq!(span.start, 17);
        // NFD document: the accent is a separate code point after the "a".
        let span = resolve("Cajola\u{0301}, Cajola", "Cajola").unwrap();
        assert_eq!(span.start, 9);
        assert!(matches!(
            resolve("Cajola says", "cajola"),
            Err(AnchorError::NotFound { .. })
        ));
    }

    #[test]
    fn combining_marks_in_either_order_are_equal() {
        // dot below (220) and acute (230) in both orders are canonically equivalent
        let text = "x e\u{0323}\u{0301} y";
        let span = resolve(text, "e\u{0301}\u{0323}").unwrap();
        assert_eq!((span.start, span.end), (2, 5));
    }

    #[test]
    fn quote_found_twice_is_ambiguous_then_narrowed_by_context() {
        let text = "The wall works. Critics said the wall works poorly.";
        let err = resolve(text, "wall works").unwrap_err();
        let AnchorError::Ambiguous { candidates, count } = err else {
            panic!("{err:?}")
        };
        assert_eq!(count, 2);
        assert_eq!((candidates[0].start, candidates[0].end), (4, 14));
        assert_eq!((candidates[1].start, candidates[1].end), (33, 43));
        assert_eq!(candidates[1].prefix, "he wall works. Critics said the ");
        assert_eq!(candidates[1].suffix, " poorly.");
        let index = AnchorIndex::new(text.to_owned());
        let by_suffix = Selector {
            quote: Some("wall works"),
            suffix: Some(" poorly"),
            ..Selector::default()
        };
        assert_eq!(index.resolve(&by_suffix).unwrap().start, 33);
        let by_prefix = Selector {
            quote: Some("wall works"),
            prefix: Some("The"),
            ..Selector::default()
        };
        assert_eq!(index.resolve(&by_prefix).unwrap().start, 4);
        let by_position = Selector {
            quote: Some("wall works"),
            start: Some(33),
            end: Some(43),
            ..Selector::default()
        };
        assert_eq!(index.resolve(&by_position).unwrap().start, 33);
    }

    #[test]
    fn context_that_rules_out_every_occurrence_is_not_found_with_the_occurrences() {
        let index = AnchorIndex::new("a cat, a cat".to_owned());
        let err = index
            .resolve(&Selector {
                quote: Some("cat"),
                prefix: Some("the"),
                ..Selector::default()
            })
            .unwrap_err();
        let AnchorError::NotFound {
            unnarrowed_count, ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!(unnarrowed_count, 2);
    }

    #[test]
    fn overlapping_occurrences_are_all_counted() {
        let err = resolve("aaaa", "aaa").unwrap_err();
        assert!(
            matches!(err, AnchorError::Ambiguous { count: 2, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn positions_select_exact_code_points() {
        let index =
            AnchorIndex::new("L\u{00F3}pez Obrador \u{2014} Q\u{2019}anjob\u{2019}al".to_owned());
        let sel = Selector {
            start: Some(16),
            end: Some(26),
            ..Selector::default()
        };
        let span = index.resolve(&sel).unwrap();
        assert_eq!(span.exact, "Q\u{2019}anjob\u{2019}al");
        assert_eq!(span.prefix, "L\u{00F3}pez Obrador \u{2014} ");
        assert_eq!(span.suffix, "");
    }

    #[test]
    fn bad_positions_are_refused() {
        let index = AnchorIndex::new("short".to_owned());
        for (start, end) in [(3, 3), (4, 2), (0, 6), (9, 12)] {
            let sel = Selector {
                start: Some(start),
                end: Some(end),
                ..Selector::default()
            };
            assert_eq!(
                index.resolve(&sel),
                Err(AnchorError::InvalidPosition {
                    start,
                    end,
                    length: 5
                })
            );
        }
        let half = Selector {
            start: Some(1),
            ..Selector::default()
        };
        assert_eq!(index.resolve(&half), Err(AnchorError::NoSelector));
    }

    #[test]
    fn blank_quote_is_refused() {
        assert_eq!(resolve("text", " \n\t"), Err(AnchorError::EmptyQuote));
        assert_eq!(resolve("text", "\u{00AD}"), Err(AnchorError::EmptyQuote));
    }

    #[test]
    fn near_match_points_at_the_first_difference() {
        let text = "Remittances make up around 15 percent of the economy of Guatemala.";
        let err = resolve(text, "make up roughly 15 percent").unwrap_err();
        let AnchorError::NotFound {
            near: Some(near), ..
        } = err
        else {
            panic!("{err:?}")
        };
        // "make up " (8 chars) or " 15 percent" (11 chars): the end is longer.
        assert!(!near.from_start);
        assert_eq!(near.span.exact, " 15 percent");
        assert_eq!(near.matched_chars, 11);
        assert!(near.quote_continues.ends_with("roughly"), "{near:?}");
        assert!(near.document_continues.ends_with("around"), "{near:?}");
    }

    const ELIDED: &str = "Remittances, the money sent home, now make up around 15 percent of the \
        economy. Remittances are as important to the economy as the value of all of the \
        country\u{2019}s exports and more.\n\nOther things follow.";

    #[test]
    fn an_elided_quote_spans_its_parts() {
        for sep in ["\u{2026}", "...", ". . .", "[\u{2026}]", "[...]"] {
            let q = format!("Remittances are as important {sep} country's exports");
            let span = resolve(ELIDED, &q).unwrap_or_else(|e| panic!("{sep}: {e:?}"));
            let at = ELIDED.find("Remittances are").unwrap();
            let end = ELIDED.find(" and more").unwrap();
            assert_eq!(span.exact, ELIDED[at..end], "{sep}");
        }
        // The first "Remittances" is the only one before the second part.
        let span = resolve(ELIDED, "Remittances \u{2026} now make up around 15 percent").unwrap();
        assert_eq!(span.start, 0);
        assert!(span.exact.ends_with("15 percent"));
        // An ellipsis at either end only says the quote is cut there.
        let span = resolve(ELIDED, "\u{2026} now make up around 15 percent \u{2026}").unwrap();
        assert_eq!(span.exact, "now make up around 15 percent");
    }

    #[test]
    fn an_ellipsis_the_text_holds_is_matched_as_it_is() {
        let text = "wait... what. wait, then what";
        let span = resolve(text, "wait... what").unwrap();
        assert_eq!((span.start, span.end), (0, 12));
    }

    #[test]
    fn elided_parts_are_ambiguous_when_placed_two_ways() {
        let text = "the cost was high, the cost was four billion dollars";
        let err = resolve(text, "the cost ... billion").unwrap_err();
        let AnchorError::Ambiguous { candidates, count } = err else {
            panic!("{err:?}")
        };
        assert_eq!(count, 2);
        assert_eq!(candidates[0].exact, text[..text.find(" dollars").unwrap()]);
        assert_eq!(candidates[1].exact, "the cost was four billion");
        // Context chooses, over the whole span.
        let index = AnchorIndex::new(text.to_owned());
        let narrowed = index
            .resolve(&Selector {
                quote: Some("the cost ... billion"),
                prefix: Some("high,"),
                ..Selector::default()
            })
            .unwrap();
        assert_eq!(narrowed.exact, "the cost was four billion");
    }

    #[test]
    fn a_missing_part_is_named_and_distant_parts_are_refused() {
        let err = resolve(
            ELIDED,
            "Remittances are as important \u{2026} country's imports",
        )
        .unwrap_err();
        let AnchorError::PartNotFound {
            part, index, parts, ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!((part.as_str(), index, parts), ("country's imports", 2, 2));
        let far = format!("alpha beta {} gamma delta", "x ".repeat(MAX_ELIDED_GAP));
        let err = resolve(&far, "alpha beta \u{2026} gamma delta").unwrap_err();
        assert_eq!(err, AnchorError::PartsApart { parts: 2 });
        let near = format!(
            "alpha beta {} gamma delta",
            "x ".repeat(MAX_ELIDED_GAP / 2 - 2)
        );
        assert!(resolve(&near, "alpha beta \u{2026} gamma delta").is_ok());
        // Out of order is not a placement.
        let err = resolve("gamma delta, alpha beta", "alpha beta ... gamma delta").unwrap_err();
        assert_eq!(err, AnchorError::PartsApart { parts: 2 });
    }

    #[test]
    fn quote_marks_around_a_quote_are_dropped_where_the_text_lacks_them() {
        let text = "He said the bridge will cost $4 billion, and left.";
        for (open, close) in [
            ("\"", "\""),
            ("\u{201C}", "\u{201D}"),
            ("\u{00AB}", "\u{00BB}"),
            ("\u{201E}", "\u{201C}"),
            ("'", "'"),
        ] {
            let q = format!("{open}the bridge will cost $4 billion{close}");
            let span = resolve(text, &q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
            assert_eq!(span.exact, "the bridge will cost $4 billion");
        }
        // Where the text holds a mark, it stays in the span.
        let text = "He said \u{201C}the bridge will cost $4 billion\u{201D} \u{2014} twice.";
        let span = resolve(text, "\u{201C}will cost $4 billion\u{201D}").unwrap();
        assert_eq!(span.exact, "will cost $4 billion\u{201D}");
        let span = resolve(text, "\"the bridge will cost $4 billion\"").unwrap();
        assert_eq!(
            span.exact,
            "\u{201C}the bridge will cost $4 billion\u{201D}"
        );
        // Marks and an ellipsis together.
        let span = resolve(
            ELIDED,
            "\u{201C}Remittances are as important \u{2026} country\u{2019}s exports\u{201D}",
        )
        .unwrap();
        assert!(span.exact.starts_with("Remittances are") && span.exact.ends_with("exports"));
    }

    #[test]
    fn context_cannot_choose_between_twins() {
        let text = "x. The same words. y The same words. x. The same words. y";
        let err = resolve(text, "same words").unwrap_err();
        let AnchorError::Ambiguous { candidates, .. } = err else {
            panic!("{err:?}")
        };
        assert!(!context_cannot_choose(&candidates[..2]));
        let pad = "p".repeat(CONTEXT_CHARS);
        let text = format!("{pad} twin {pad} twin {pad}");
        let AnchorError::Ambiguous { candidates, .. } = resolve(&text, "twin").unwrap_err() else {
            panic!()
        };
        assert!(context_cannot_choose(&candidates));
    }

    #[test]
    fn no_near_match_for_unrelated_text() {
        let err = resolve("alpha beta", "zzzz qqqq").unwrap_err();
        assert!(matches!(err, AnchorError::NotFound { near: None, .. }));
    }

    #[test]
    fn large_offsets_cross_index_blocks() {
        let mut text = "\u{00E9}".repeat(5000);
        text.push_str("needle");
        text.push_str(&"x".repeat(5000));
        let span = resolve(&text, "needle").unwrap();
        assert_eq!((span.start, span.end), (5000, 5006));
        let index = AnchorIndex::new(text);
        let sel = Selector {
            start: Some(5000),
            end: Some(5006),
            ..Selector::default()
        };
        assert_eq!(index.resolve(&sel).unwrap().exact, "needle");
    }

    /// Rewrites text the way a rendered page or a person's paste may differ from the store.
    fn reformat(s: &str, choices: &[u8]) -> String {
        use unicode_normalization::UnicodeNormalization;
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            let pick = choices[i % choices.len()];
            match c {
                c if c.is_whitespace() => {
                    out.push_str(["\n", "  ", "\u{00A0}", " \t"][pick as usize % 4])
                }
                '\u{2018}' | '\u{2019}' => out.push('\''),
                '\u{201C}' | '\u{201D}' => out.push('"'),
                '\u{2013}' | '\u{2014}' => out.push(['-', '\u{2212}'][pick as usize % 2]),
                '\u{2026}' => out.push_str("..."),
                c => out.push(c),
            }
        }
        if choices[0].is_multiple_of(2) {
            out.nfd().collect()
        } else {
            out.nfc().collect()
        }
    }

    fn text_strategy() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a",
            "b",
            "the",
            " ",
            "\n",
            "  ",
            "\u{00E9}",
            "e\u{0301}",
            "\u{2019}",
            "'",
            "\u{201C}",
            "\u{201D}",
            "\u{2014}",
            "-",
            "\u{2026}",
            ".",
            "L\u{00F3}pez",
            "Q\u{2019}anjob\u{2019}al",
            "15",
            "%",
            "\u{00A0}",
            "\t",
            "x",
            "y",
            "\u{00FA}",
        ]);
        prop::collection::vec(pieces, 1..120).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { max_global_rejects: 1_000_000, ..ProptestConfig::default() })]

        /// A span cut from any text and reformatted by the rules resolves back to a span whose
        /// fold equals the quote's, and that contains the original span's first occurrence.
        #[test]
        fn cut_and_reformatted_spans_resolve_back(
            text in text_strategy(),
            a in 0usize..400,
            b in 0usize..400,
            choices in prop::collection::vec(any::<u8>(), 1..8),
        ) {
            let chars: Vec<char> = text.chars().collect();
            let (lo, hi) = (a.min(b) % chars.len(), (a.max(b) % chars.len()) + 1);
            let original: String = chars[lo..hi.max(lo + 1)].iter().collect();
            prop_assume!(!fold(&original).is_empty());
            let index = AnchorIndex::new(text.clone());
            let pasted = reformat(&original, &choices);
            // Only when the cut separated a letter from its accent is the cut not a whole span
            // of the text under the rules ("Cajola" is not "Cajolá").
            let after: String = chars[hi.max(lo + 1)..].iter().collect();
            let splits = after.chars().next().is_some_and(is_mark)
                || original.chars().next().is_some_and(is_mark);
            let folded = fold(&pasted);
            let elided = elided_parts(&folded) != [folded.as_str()];
            match index.resolve(&quote(&pasted)) {
                Ok(span) => {
                    let got: String = chars[span.start..span.end].iter().collect();
                    prop_assert_eq!(&got, &span.exact);
                    if fold(&span.exact) != fold(&original) {
                        // A cut holding an ellipsis that is not found as it is is read as
                        // an elided quote, which may then be placed elsewhere.
                        prop_assert!(splits && elided, "{:?} -> {:?}", pasted, span.exact);
                    }
                }
                Err(AnchorError::Ambiguous { candidates, .. }) => {
                    for c in candidates {
                        prop_assert!(
                            fold(&c.exact) == fold(&original) || (splits && elided),
                            "{:?} -> {:?}", pasted, c.exact
                        );
                    }
                }
                Err(AnchorError::NotFound { .. }) => {
                    prop_assert!(splits, "not found: {:?} in {:?}", pasted, text);
                }
                Err(AnchorError::PartNotFound { .. } | AnchorError::PartsApart { .. }) => {
                    prop_assert!(splits && elided, "{:?} in {:?}", pasted, text);
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }

        /// Positions always round-trip: the span at start..end is exactly those code points.
        #[test]
        fn positions_round_trip(text in text_strategy(), a in 0usize..400, b in 0usize..400) {
            let chars: Vec<char> = text.chars().collect();
            let (start, end) = (a.min(b) % chars.len(), a.max(b) % chars.len() + 1);
            prop_assume!(start < end);
            let index = AnchorIndex::new(text.clone());
            let span = index.resolve(&Selector { start: Some(start), end: Some(end), ..Selector::default() }).unwrap();
            let want: String = chars[start..end].iter().collect();
            prop_assert_eq!(span.exact, want);
            prop_assert_eq!((span.start, span.end), (start, end));
        }
    }
}

//! Numeric mentions in a text: the figures an auditor traces from source to source.
//!
//! [`extract`] finds each figure with its span (code points, as passages), its exact value
//! (a [`Ratio`], never a float), range, unit, scale word, qualifier, kind, what it is "of" and
//! the attribution cue of its sentence. White space of any kind (a hard wrap, a no-break
//! space) between a figure and its scale or unit is one gap, as in passages.

pub mod ratio;

pub use ratio::Ratio;

/// Bumped when the extractor changes what it finds, so stored versions are extracted again.
pub const EXTRACTOR_REVISION: i64 = 1;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a figure measures.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "code", rename_all = "snake_case")]
pub enum Unit {
    /// A currency, by ISO 4217 code where one is known (`USD`, `EUR`, `GBP`, `MXN`, `GTQ`,
    /// `HNL`), else the word as written.
    Currency(String),
    Percent,
    /// Kept apart from percent: "rose 2 percentage points" is not "rose 2%".
    PercentagePoints,
    /// A plain count.
    Count,
}

impl Unit {
    /// As stored: `count`, `percent`, `percentage_points`, `currency:USD`.
    pub fn key(&self) -> String {
        match self {
            Unit::Currency(code) => format!("currency:{code}"),
            Unit::Percent => "percent".into(),
            Unit::PercentagePoints => "percentage_points".into(),
            Unit::Count => "count".into(),
        }
    }

    pub fn from_key(key: &str) -> Option<Unit> {
        Some(match key {
            "percent" => Unit::Percent,
            "percentage_points" => Unit::PercentagePoints,
            "count" => Unit::Count,
            _ => Unit::Currency(key.strip_prefix("currency:")?.to_owned()),
        })
    }
}

/// How the text hedges a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Qualifier {
    Exact,
    /// "about", "around", "roughly", "nearly", "almost", "some", "an estimated", "~".
    Approximate,
    /// "more than", "over", "at least".
    LowerBound,
    /// "fewer than", "less than", "under", "up to".
    UpperBound,
}

/// Names for storage, both ways, from one list per enum.
macro_rules! names {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some(<$t>::$v),)* _ => None }
            }
        }
    };
}

names!(Qualifier {
    Exact => "exact",
    Approximate => "approximate",
    LowerBound => "lower_bound",
    UpperBound => "upper_bound",
});

names!(Kind {
    Quantity => "quantity",
    Vague => "vague",
    Year => "year",
    Date => "date",
    Ordinal => "ordinal",
    ListNumber => "list_number",
});

/// What kind of number it is: only quantities are traced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Quantity,
    /// "hundreds of thousands", "millions of": a magnitude, not a value.
    Vague,
    Year,
    Date,
    Ordinal,
    /// A numbered list item at the start of a line ("1.", "2)").
    ListNumber,
}

/// One figure found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Mention {
    /// First code point (inclusive), as for passages.
    pub start: usize,
    /// Code point after the last one.
    pub end: usize,
    /// `start` and `end` in UTF-16 code units, as DOM ranges count.
    pub start_utf16: usize,
    pub end_utf16: usize,
    pub exact: String,
    /// The exact value after folding in the scale word, as text ("4000000000", "0.1", "2/3");
    /// the low end of a range.
    #[schema(value_type = String, example = "4000000000")]
    pub value: Ratio,
    /// The high end of a range ("4,000 to 6,000"); `null` for a single value.
    #[schema(value_type = Option<String>)]
    pub high: Option<Ratio>,
    pub unit: Unit,
    /// The scale word as written ("billion", "bn", "m"), folded into `value`.
    pub scale: Option<String>,
    pub qualifier: Qualifier,
    pub kind: Kind,
    /// The words right after the figure when they say what it is of ("of Guatemala's economy").
    pub of: Option<String>,
    /// An attribution cue in the figure's sentence ("according to the World Bank").
    pub attribution: Option<String>,
    /// Up to [`CONTEXT_CHARS`] code points before and after, as for passages.
    pub prefix: String,
    pub suffix: String,
    /// The sentence the figure stands in (at most [`SENTENCE_CHARS`] code points each side).
    pub sentence: String,
}

/// Context kept with each mention, as passages keep theirs.
pub const CONTEXT_CHARS: usize = 32;
/// How far a mention's sentence reaches each way at most.
pub const SENTENCE_CHARS: usize = 300;

/// Where the sentence around `start..end` begins and ends (code points): after the last `.`,
/// `!` or `?` followed by white space, or a blank line, before it; through the first after it.
fn sentence_bounds(chars: &[char], start: usize, end: usize) -> (usize, usize) {
    let stops = |i: usize| {
        matches!(chars[i], '.' | '!' | '?') && chars.get(i + 1).is_none_or(|c| c.is_whitespace())
            || chars[i] == '\n' && chars.get(i + 1) == Some(&'\n')
    };
    let mut a = start;
    while a > 0 && start - a < SENTENCE_CHARS && !stops(a - 1) {
        a -= 1;
    }
    while a < start && chars[a].is_whitespace() {
        a += 1;
    }
    let mut b = end;
    while b < chars.len() && b - end < SENTENCE_CHARS && !stops(b) {
        b += 1;
    }
    if b < chars.len() && matches!(chars[b], '.' | '!' | '?') {
        b += 1;
    }
    (a, b)
}

/// A piece of the text: a run of letters and digits (with the separators numbers and names
/// keep inside: `6,000`, `4.5`, `H-2B`, `it's`), or one other visible character.
#[derive(Debug, Clone, Copy)]
struct Tok<'t> {
    text: &'t str,
    /// Code points.
    start: usize,
    end: usize,
    /// White space before it (none, or a run of any kind).
    space_before: bool,
    /// The white space before it holds a line break.
    line_before: bool,
}

fn is_inner_joiner(c: char) -> bool {
    matches!(c, ',' | '.' | '-' | '\'' | '\u{2019}' | '\u{2011}')
}

fn tokenize(text: &str) -> Vec<Tok<'_>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut out = Vec::new();
    let (mut i, mut space, mut line) = (0, false, true);
    while i < chars.len() {
        let c = chars[i].1;
        if c.is_whitespace() {
            space = true;
            line |= c == '\n';
            i += 1;
            continue;
        }
        let start = i;
        if c.is_alphanumeric() {
            i += 1;
            while i < chars.len() {
                let d = chars[i].1;
                let joins = is_inner_joiner(d)
                    && chars.get(i + 1).is_some_and(|&(_, n)| n.is_alphanumeric())
                    // "2017-2020" and "4,000-6,000" are ranges, not one word.
                    && !(d == '-' && chars[i - 1].1.is_ascii_digit() && chars[i + 1].1.is_ascii_digit());
                if d.is_alphanumeric() || joins {
                    i += 1;
                } else {
                    break;
                }
            }
        } else {
            i += 1;
        }
        out.push(Tok {
            text: &text[byte_at(start)..byte_at(i)],
            start,
            end: i,
            space_before: space,
            line_before: line,
        });
        space = false;
        line = false;
    }
    out
}

const UNITS: &[(&str, u32)] = &[
    ("hundred", 2),
    ("thousand", 3),
    ("million", 6),
    ("billion", 9),
    ("trillion", 12),
];

/// A scale word and its power of ten ("bn" and "m" as newsrooms abbreviate).
fn scale_of(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    let w = w.strip_suffix('s').filter(|_| w != "bns").unwrap_or(&w);
    match w {
        "k" | "thousand" => Some(3),
        "m" | "mn" | "mln" | "million" => Some(6),
        "b" | "bn" | "billion" => Some(9),
        "tn" | "trillion" => Some(12),
        "hundred" => Some(2),
        _ => None,
    }
}

fn word_number(w: &str) -> Option<i128> {
    const SMALL: &[&str] = &[
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: &[&str] = &[
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    let w = w.to_lowercase();
    if let Some(n) = SMALL.iter().position(|s| *s == w) {
        return Some(n as i128);
    }
    if let Some(n) = TENS.iter().position(|s| !s.is_empty() && *s == w) {
        return Some(10 * n as i128);
    }
    let (tens, ones) = w.split_once('-')?;
    let t = TENS.iter().position(|s| !s.is_empty() && *s == tens)?;
    let o = SMALL[1..10].iter().position(|s| *s == ones)? + 1;
    Some((10 * t + o) as i128)
}

/// "half", "a quarter", "two-thirds", "one-fifth", "three-quarters".
fn fraction_word(w: &str) -> Option<Ratio> {
    let w = w.to_lowercase();
    if w == "half" {
        return Ratio::new(1, 2);
    }
    let (count, part) = w.split_once('-').unwrap_or(("one", &w));
    let n = word_number(count)?;
    let part = part.strip_suffix('s').unwrap_or(part);
    let d = match part {
        "half" => 2,
        "third" => 3,
        "quarter" | "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "eighth" => 8,
        "tenth" => 10,
        _ => return None,
    };
    Ratio::new(n, d)
}

fn currency_word(w: &str) -> Option<&'static str> {
    match w.to_lowercase().as_str() {
        "dollar" | "dollars" => Some("USD"),
        "euro" | "euros" => Some("EUR"),
        "pound" | "pounds" => Some("GBP"),
        "peso" | "pesos" => Some("MXN"),
        "quetzal" | "quetzales" | "quetzals" => Some("GTQ"),
        "lempira" | "lempiras" => Some("HNL"),
        _ => None,
    }
}

fn currency_sign(s: &str) -> Option<&'static str> {
    match s {
        "$" | "US$" | "USD" => Some("USD"),
        "€" | "EUR" => Some("EUR"),
        "£" | "GBP" => Some("GBP"),
        "¥" => Some("JPY"),
        "Q" => Some("GTQ"),
        _ => None,
    }
}

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];

fn is_month(w: &str) -> bool {
    let w = w.trim_end_matches('.').to_lowercase();
    MONTHS.contains(&w.as_str())
}

/// A numeral with thousands separators or a decimal point, as the value it writes: "6,000",
/// "4.5", "1,234.5". `None` for separators in the wrong places ("1,23", a phone number).
fn numeral(s: &str) -> Option<Ratio> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
    {
        return None;
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.contains([',', '.']) {
        return None;
    }
    if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let ok = (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return None;
        }
    }
    Ratio::parse_decimal(format!("{}.{frac}", int.replace(',', "")).trim_end_matches('.'))
}

/// The digits and an attached scale or sign: "4bn" → (4, Some("bn")), "15%" stays apart.
fn split_attached(s: &str) -> (&str, Option<&str>) {
    let cut = s
        .char_indices()
        .find(|&(_, c)| c.is_alphabetic())
        .map(|(i, _)| i);
    match cut {
        Some(i) if i > 0 && scale_of(&s[i..]).is_some() => (&s[..i], Some(&s[i..])),
        _ => (s, None),
    }
}

/// A scale word as written and its power of ten.
type Scale = (String, u32);

/// What the figure's core is.
enum Core {
    Value(Ratio),
    /// "hundreds", "millions" (of …): a magnitude.
    Vague,
}

/// Reads a number at token `i`: digits (maybe with an attached scale), a number word, a
/// fraction word, "a dozen", "a quarter". Returns the core, an attached scale, and the index
/// after it.
fn core_at(toks: &[Tok<'_>], i: usize) -> Option<(Core, Option<Scale>, usize)> {
    let t = toks[i].text;
    let lower = t.to_lowercase();
    if t.starts_with(|c: char| c.is_ascii_digit()) {
        let (digits, attached) = split_attached(t);
        let value = numeral(digits)?;
        let scale = attached.and_then(|a| scale_of(a).map(|p| (a.to_owned(), p)));
        return Some((Core::Value(value), scale, i + 1));
    }
    if lower == "a" || lower == "an" {
        let next = toks.get(i + 1)?;
        let nl = next.text.to_lowercase();
        if nl == "dozen" {
            return Some((Core::Value(Ratio::integer(12)), None, i + 2));
        }
        if nl == "quarter" || nl == "third" || nl == "fifth" || nl == "half" {
            return Some((Core::Value(fraction_word(&nl)?), None, i + 2));
        }
        if let Some((_, p)) = UNITS.iter().find(|(w, _)| *w == nl) {
            // "a million people", "a billion dollars"
            return Some((Core::Value(Ratio::integer(1)), Some((nl, *p)), i + 2));
        }
        return None;
    }
    if [
        "hundreds",
        "thousands",
        "millions",
        "billions",
        "dozens",
        "tens",
    ]
    .contains(&lower.as_str())
        && toks
            .get(i + 1)
            .is_some_and(|n| n.text.eq_ignore_ascii_case("of"))
    {
        return Some((Core::Vague, None, i + 1));
    }
    if let Some(n) = word_number(t) {
        // "one of the reasons", "the one played by", "two of them": a pronoun or a part, not a
        // figure; "one million", "one percent" are figures.
        let next = toks.get(i + 1).map(|n| n.text.to_lowercase());
        let sized = next.as_deref().is_some_and(|n| {
            scale_of(n).is_some() || n == "percent" || n == "per" || currency_word(n).is_some()
        });
        if (n == 1 || next.as_deref() == Some("of")) && !sized {
            return None;
        }
        return Some((Core::Value(Ratio::integer(n)), None, i + 1));
    }
    if lower == "dozen" {
        return Some((Core::Value(Ratio::integer(12)), None, i + 1));
    }
    if lower.contains('-') || lower == "half" {
        return fraction_word(t).map(|r| (Core::Value(r), None, i + 1));
    }
    None
}

/// Words before a figure that hedge it, longest first.
const QUALIFIERS: &[(&[&str], Qualifier)] = &[
    (&["an", "estimated"], Qualifier::Approximate),
    (&["more", "than"], Qualifier::LowerBound),
    (&["at", "least"], Qualifier::LowerBound),
    (&["upwards", "of"], Qualifier::LowerBound),
    (&["fewer", "than"], Qualifier::UpperBound),
    (&["less", "than"], Qualifier::UpperBound),
    (&["up", "to"], Qualifier::UpperBound),
    (&["at", "most"], Qualifier::UpperBound),
    (&["about"], Qualifier::Approximate),
    (&["around"], Qualifier::Approximate),
    (&["roughly"], Qualifier::Approximate),
    (&["nearly"], Qualifier::Approximate),
    (&["almost"], Qualifier::Approximate),
    (&["approximately"], Qualifier::Approximate),
    (&["some"], Qualifier::Approximate),
    (&["estimated"], Qualifier::Approximate),
    (&["~"], Qualifier::Approximate),
    (&["over"], Qualifier::LowerBound),
    (&["above"], Qualifier::LowerBound),
    (&["under"], Qualifier::UpperBound),
    (&["below"], Qualifier::UpperBound),
];

/// The qualifier ending right before token `i`, and the index where it starts.
fn qualifier_before(toks: &[Tok<'_>], i: usize) -> (Qualifier, usize) {
    for (words, q) in QUALIFIERS {
        let n = words.len();
        if i >= n
            && toks[i - n..i]
                .iter()
                .zip(words.iter())
                .all(|(t, w)| t.text.eq_ignore_ascii_case(w))
        {
            return (*q, i - n);
        }
    }
    (Qualifier::Exact, i)
}

/// Scale and unit words after the core, from token `i`: returns the scale (word, power),
/// the unit, and the index after them.
fn tail_at(
    toks: &[Tok<'_>],
    mut i: usize,
    mut scale: Option<Scale>,
) -> (Option<Scale>, Option<Unit>, usize) {
    let mut unit = None;
    if scale.is_none()
        && let Some(t) = toks.get(i)
        && let Some(p) = scale_of(t.text)
        // "5 m" is metres as often as millions: a lone "m"/"k"/"b" must be attached.
        && t.text.chars().count() > 1
    {
        scale = Some((t.text.to_owned(), p));
        i += 1;
    }
    if let Some(t) = toks.get(i) {
        let lower = t.text.to_lowercase();
        let next = toks.get(i + 1).map(|n| n.text.to_lowercase());
        if t.text == "%" && !t.space_before || lower == "percent" {
            unit = Some(Unit::Percent);
            i += 1;
        } else if lower == "per" && next.as_deref() == Some("cent") {
            unit = Some(Unit::Percent);
            i += 2;
        } else if lower == "percentage"
            && next
                .as_deref()
                .is_some_and(|n| n == "points" || n == "point")
        {
            unit = Some(Unit::PercentagePoints);
            i += 2;
        } else if let Some(code) = currency_word(&lower) {
            unit = Some(Unit::Currency(code.to_owned()));
            i += 1;
        }
    }
    (scale, unit, i)
}

/// The power of ten a scale adds, as a ratio.
fn pow10(p: u32) -> Ratio {
    Ratio::integer(10i128.pow(p))
}

/// Every numeric mention of `text`, in order.
pub fn extract(text: &str) -> Vec<Mention> {
    let toks = tokenize(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match mention_at(text, &toks, i) {
            Some((m, next)) => {
                out.push(m);
                i = next;
            }
            None => i += 1,
        }
    }
    if !out.is_empty() {
        let chars: Vec<char> = text.chars().collect();
        let mut utf16 = Vec::with_capacity(chars.len() + 1);
        let mut at = 0;
        for c in &chars {
            utf16.push(at);
            at += c.len_utf16();
        }
        utf16.push(at);
        let piece = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
        for m in &mut out {
            (m.start_utf16, m.end_utf16) = (utf16[m.start], utf16[m.end]);
            m.prefix = piece(m.start.saturating_sub(CONTEXT_CHARS), m.start);
            m.suffix = piece(m.end, (m.end + CONTEXT_CHARS).min(chars.len()));
            let (a, b) = sentence_bounds(&chars, m.start, m.end);
            m.sentence = piece(a, b);
        }
    }
    out
}

fn mention_at(text: &str, toks: &[Tok<'_>], i: usize) -> Option<(Mention, usize)> {
    let t = toks[i];
    // Letters and digits in one word are a name ("H-2B", "COVID-19", "G20"), not a figure;
    // so is a number glued to a letter before it.
    let starts_digit = t.text.starts_with(|c: char| c.is_ascii_digit());
    if starts_digit {
        let (digits, attached) = split_attached(t.text);
        let named = digits.contains(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
            || attached.is_none() && t.text.contains(|c: char| c.is_alphabetic());
        // "x2", or "2020-17" (a dash between two words); "-0.3" alone is a sign.
        let glued = i > 0
            && !t.space_before
            && (toks[i - 1].text.ends_with(char::is_alphanumeric)
                || toks[i - 1].text == "-"
                    && !toks[i - 1].space_before
                    && i > 1
                    && toks[i - 2].text.ends_with(char::is_alphanumeric));
        if named && !is_ordinal(t.text) || glued && !is_currency_tok(toks[i - 1].text) {
            return None;
        }
    }
    // Phone numbers and codes: digit groups joined by dashes or dots ("555-123-4567").
    if starts_digit && is_digit_chain(toks, i) {
        return None;
    }
    if starts_digit && is_ordinal(t.text) {
        return Some((simple(text, toks, i, i + 1, Kind::Ordinal), i + 1));
    }
    let (core, attached, after_core) = core_at(toks, i)?;
    // A currency sign right before ("$4", "US$ 4", "€5").
    let mut first = i;
    let mut unit = None;
    if i > 0
        && let Some(code) = currency_sign(toks[i - 1].text)
    {
        first = i - 1;
        unit = Some(Unit::Currency(code.to_owned()));
        if i > 1 && toks[i - 2].text == "US" && toks[i - 1].text == "$" && !toks[i - 1].space_before
        {
            first = i - 2;
        }
    }
    // A sign written against the figure ("-0.3%", "−3"), not a dash between words.
    let mut negative = false;
    if first > 0
        && matches!(toks[first - 1].text, "-" | "\u{2212}")
        && !toks[first].space_before
        && (first == 1
            || toks[first - 1].space_before
            || !toks[first - 2].text.ends_with(char::is_alphanumeric))
    {
        negative = true;
        first -= 1;
    }
    let (qualifier, qstart) = qualifier_before(toks, first);
    let between =
        qstart == first && first > 0 && toks[first - 1].text.eq_ignore_ascii_case("between");
    if let Core::Vague = core {
        // "hundreds of thousands", "millions of": through the "of" and a following scale.
        let mut end = after_core + 1;
        if toks
            .get(end)
            .is_some_and(|n| scale_of(n.text).is_some() && n.text.len() > 1)
        {
            end += 1;
        }
        let mut m = simple(text, toks, qstart, end, Kind::Vague);
        m.qualifier = qualifier;
        return Some((m, end));
    }
    let Core::Value(mut value) = core else {
        unreachable!()
    };
    let (scale, tail_unit, mut end) = tail_at(toks, after_core, attached);
    if let Some((_, p)) = &scale {
        value = value.checked_mul(pow10(*p))?;
    }
    if negative {
        value = value.checked_mul(Ratio::integer(-1))?;
    }
    let unit = unit.or(tail_unit);
    // A range: "4,000 to 6,000", "4,000-6,000", "between 2 and 5", "$10,000 to $15,000".
    let mut high = None;
    if let Some(sep) = toks.get(end) {
        let word = sep.text.to_lowercase();
        let joins =
            word == "to" || (word == "and" && between) || matches!(sep.text, "-" | "–" | "—");
        let mut j = end + 1;
        if joins && toks.get(j).is_some_and(|n| currency_sign(n.text).is_some()) {
            j += 1;
        }
        if joins
            && j < toks.len()
            && toks[j]
                .text
                .starts_with(|c: char| c.is_ascii_digit() || c.is_alphabetic())
            && let Some((Core::Value(mut h), attached2, after2)) = core_at(toks, j)
        {
            let (scale2, unit2, end2) = tail_at(toks, after2, attached2);
            // "4 to 6 billion": the scale of the high end covers the low end.
            if let Some((_, p)) = scale2.as_ref().or(scale.as_ref()) {
                h = h.checked_mul(pow10(*p))?;
                if let (None, Some((_, p2))) = (&scale, &scale2) {
                    value = value.checked_mul(pow10(*p2))?;
                }
            }
            if h > value && (unit2.is_none() || unit2 == unit || unit.is_none()) {
                high = Some(h);
                end = end2;
                if unit.is_none() && unit2.is_some() {
                    return Some((
                        finish(
                            text,
                            toks,
                            qstart,
                            end,
                            value,
                            high,
                            unit2,
                            scale.or(scale2),
                            qualifier,
                        ),
                        end,
                    ));
                }
            }
        }
    }
    // "1 in 10": one ratio.
    if high.is_none()
        && scale.is_none()
        && unit.is_none()
        && toks.get(end).is_some_and(|t| t.text == "in")
        && let Some(d) = toks.get(end + 1)
        && d.text.bytes().all(|b| b.is_ascii_digit())
        && d.text.len() < 4
        && let Some(den) = numeral(d.text)
        && den > value
        && let Some(ratio) = Ratio::new(value.numer() * den.denom(), value.denom() * den.numer())
    {
        value = ratio;
        end += 2;
    }
    let kind = kind_of(toks, i, after_core, &unit, &scale, value);
    let mut m = finish(text, toks, qstart, end, value, high, unit, scale, qualifier);
    m.kind = kind;
    if kind == Kind::Date {
        // The day and month (and year) are one date.
        let (s, e) = date_extent(toks, i, after_core);
        m = simple(text, toks, s, e, Kind::Date);
        return Some((m, e));
    }
    Some((m, end))
}

fn is_currency_tok(s: &str) -> bool {
    currency_sign(s).is_some()
}

fn is_ordinal(s: &str) -> bool {
    let digits = s.trim_end_matches(|c: char| c.is_alphabetic());
    let suffix = &s[digits.len()..].to_lowercase();
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && ["st", "nd", "rd", "th"].contains(&suffix.as_str())
}

/// Three or more digit groups joined by `-` or `.` with no space ("555-123-4567").
fn is_digit_chain(toks: &[Tok<'_>], i: usize) -> bool {
    let mut groups = 1;
    let mut j = i;
    while j + 2 < toks.len()
        && matches!(toks[j + 1].text, "-" | ".")
        && !toks[j + 1].space_before
        && !toks[j + 2].space_before
        && toks[j + 2].text.bytes().all(|b| b.is_ascii_digit())
    {
        groups += 1;
        j += 2;
    }
    groups >= 3 || toks[i].text.matches('.').count() >= 2
}

/// Years, dates and list numbers are told apart from quantities by their form and neighbours.
fn kind_of(
    toks: &[Tok<'_>],
    i: usize,
    after: usize,
    unit: &Option<Unit>,
    scale: &Option<Scale>,
    value: Ratio,
) -> Kind {
    let t = toks[i].text;
    let plain = t.bytes().all(|b| b.is_ascii_digit());
    // "Dec. 29": the abbreviation's period is a token of its own.
    let prev = match i.checked_sub(1).map(|p| toks[p].text) {
        Some(".") if i >= 2 => Some(toks[i - 2].text),
        other => other,
    };
    let next = toks.get(after).map(|n| n.text);
    if plain && (prev.is_some_and(is_month) || next.is_some_and(is_month)) && t.len() <= 2 {
        return Kind::Date;
    }
    if plain
        && t.len() == 4
        && unit.is_none()
        && scale.is_none()
        && (1800..=2100).contains(&value.numer())
    {
        return Kind::Year;
    }
    if plain
        && toks[i].line_before
        && next.is_some_and(|n| n == "." || n == ")")
        && toks.get(after + 1).is_some_and(|n| n.space_before)
        && t.len() <= 2
    {
        return Kind::ListNumber;
    }
    Kind::Quantity
}

/// The tokens of a date around a day number: "March 3", "3 March", "March 3, 2021".
fn date_extent(toks: &[Tok<'_>], i: usize, after: usize) -> (usize, usize) {
    let mut s = i;
    let mut e = after;
    if i > 0 && is_month(toks[i - 1].text) {
        s = i - 1;
    } else if toks.get(after).is_some_and(|n| is_month(n.text)) {
        e = after + 1;
    }
    if toks.get(e).is_some_and(|n| n.text == ",")
        && toks
            .get(e + 1)
            .is_some_and(|n| n.text.len() == 4 && n.text.bytes().all(|b| b.is_ascii_digit()))
    {
        e += 2;
    }
    (s, e)
}

fn span_text(text: &str, toks: &[Tok<'_>], s: usize, e: usize) -> (usize, usize, String) {
    let (start, end) = (toks[s].start, toks[e - 1].end);
    let exact: String = text.chars().skip(start).take(end - start).collect();
    (start, end, exact)
}

fn simple(text: &str, toks: &[Tok<'_>], s: usize, e: usize, kind: Kind) -> Mention {
    let (start, end, exact) = span_text(text, toks, s, e);
    let value = toks[s..e]
        .iter()
        .find_map(|t| numeral(t.text.trim_end_matches(|c: char| c.is_alphabetic())))
        .unwrap_or(Ratio::ZERO);
    Mention {
        start,
        end,
        start_utf16: 0,
        end_utf16: 0,
        exact,
        value,
        high: None,
        unit: Unit::Count,
        scale: None,
        qualifier: Qualifier::Exact,
        kind,
        of: None,
        attribution: None,
        prefix: String::new(),
        suffix: String::new(),
        sentence: String::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    text: &str,
    toks: &[Tok<'_>],
    s: usize,
    e: usize,
    value: Ratio,
    high: Option<Ratio>,
    unit: Option<Unit>,
    scale: Option<Scale>,
    qualifier: Qualifier,
) -> Mention {
    let (start, end, exact) = span_text(text, toks, s, e);
    Mention {
        start,
        end,
        start_utf16: 0,
        end_utf16: 0,
        exact,
        value,
        high,
        unit: unit.unwrap_or(Unit::Count),
        scale: scale.map(|(w, _)| w),
        qualifier,
        kind: Kind::Quantity,
        of: of_phrase(toks, e),
        attribution: attribution(toks, s, e),
        prefix: String::new(),
        suffix: String::new(),
        sentence: String::new(),
    }
}

/// "of Guatemala's economy": "of" and up to five words after, to the next punctuation.
fn of_phrase(toks: &[Tok<'_>], e: usize) -> Option<String> {
    let first = toks.get(e)?;
    if !first.text.eq_ignore_ascii_case("of") {
        return None;
    }
    // Up to the punctuation, a conjunction or a relative word that starts another clause.
    const ENDS: &[&str] = &[
        "and", "or", "but", "that", "which", "who", "while", "in", "to",
    ];
    let words: Vec<&str> = toks[e..]
        .iter()
        .take(6)
        .enumerate()
        .take_while(|(k, t)| {
            t.text.chars().any(char::is_alphanumeric)
                && (*k == 0 || !ENDS.contains(&t.text.to_lowercase().as_str()))
        })
        .map(|(_, t)| t.text)
        .collect();
    (words.len() > 1).then(|| words.join(" "))
}

/// Where the figure's sentence starts and ends (token indices).
fn sentence(toks: &[Tok<'_>], s: usize, e: usize) -> (usize, usize) {
    let ends = |t: &Tok<'_>| matches!(t.text, "." | "!" | "?");
    let mut a = s;
    while a > 0 && !ends(&toks[a - 1]) {
        a -= 1;
    }
    let mut b = e;
    while b < toks.len() && !ends(&toks[b]) {
        b += 1;
    }
    (a, b)
}

/// The attribution cue of the figure's sentence, as written.
fn attribution(toks: &[Tok<'_>], s: usize, e: usize) -> Option<String> {
    let (a, b) = sentence(toks, s, e);
    let words = &toks[a..b];
    let lower: Vec<String> = words.iter().map(|t| t.text.to_lowercase()).collect();
    // The name after a cue: up to the figure or punctuation; when it has capitalized words,
    // without the lower-case ones after the last ("… Development Bank found").
    let figure = s.saturating_sub(a);
    let name_after = |k: usize| -> Option<String> {
        let stop = if k < figure { figure } else { words.len() };
        let mut name: Vec<&str> = words[k..stop]
            .iter()
            .take_while(|t| t.text.chars().any(char::is_alphanumeric))
            .take(8)
            .map(|t| t.text)
            .collect();
        if name.iter().any(|w| w.starts_with(char::is_uppercase)) {
            while name
                .last()
                .is_some_and(|w| !w.starts_with(char::is_uppercase))
            {
                name.pop();
            }
        }
        (!name.is_empty()).then(|| name.join(" "))
    };
    let cues: &[&[&str]] = &[
        &["according", "to"],
        &["a", "report", "by"],
        &["a", "survey", "by"],
        &["a", "study", "by"],
        &["data", "from"],
        &["figures", "from"],
        &["estimates", "by"],
        &["estimated", "by"],
    ];
    for k in 0..lower.len() {
        for cue in cues {
            if lower[k..].starts_with(&cue.iter().map(|c| c.to_string()).collect::<Vec<_>>()) {
                let name = name_after(k + cue.len())?;
                let cue_text: Vec<&str> = words[k..k + cue.len()].iter().map(|t| t.text).collect();
                return Some(format!("{} {name}", cue_text.join(" ")));
            }
        }
    }
    // "X said", "X estimates": the capitalized words before the verb.
    for k in 1..lower.len() {
        if matches!(
            lower[k].as_str(),
            "said" | "says" | "estimates" | "estimated" | "reported" | "reports"
        ) {
            let mut j = k;
            while j > 0 && words[j - 1].text.starts_with(char::is_uppercase) {
                j -= 1;
            }
            if j < k {
                let who: Vec<&str> = words[j..=k].iter().map(|t| t.text).collect();
                return Some(who.join(" "));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;

/// A figure to trace: what [`TraceQuery::parse`] reads from a query, or a value and unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TraceQuery {
    #[schema(value_type = String, example = "4000000000")]
    pub value: Ratio,
    #[schema(value_type = Option<String>)]
    pub high: Option<Ratio>,
    pub unit: Unit,
    pub qualifier: Qualifier,
}

/// How a mention matches a traced figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    /// The same value after scale folding ("$4bn" is "4 billion dollars").
    Exact,
    /// One side states an approximation ("about", "roughly", …) and the values differ by at
    /// most [`TOLERANCE_PERCENT`] percent of the traced value.
    Approximate,
    /// A range that holds the value, or a value inside the traced range.
    InRange,
}

/// The tolerance of an approximate match, in percent of the traced value.
pub const TOLERANCE_PERCENT: i128 = 5;

impl TraceQuery {
    /// The first figure of a text that can be traced (a quantity), if any.
    pub fn parse(text: &str) -> Option<TraceQuery> {
        extract(text)
            .into_iter()
            .find(|m| m.kind == Kind::Quantity)
            .map(|m| TraceQuery {
                value: m.value,
                high: m.high,
                unit: m.unit,
                qualifier: m.qualifier,
            })
    }

    /// The lowest and highest values a match can have (for an index range scan).
    pub fn bounds(&self) -> (Ratio, Ratio) {
        let high = self.high.unwrap_or(self.value);
        let tol = |v: Ratio, pct: i128| {
            v.checked_mul(Ratio::new(100 + pct, 100).expect("non-zero"))
                .unwrap_or(v)
        };
        let (lo, hi) = (
            tol(self.value, -TOLERANCE_PERCENT),
            tol(high, TOLERANCE_PERCENT),
        );
        if lo <= hi { (lo, hi) } else { (hi, lo) }
    }

    /// Whether `m` states this figure, and how.
    pub fn matches(&self, m: &Mention) -> Option<Match> {
        if m.kind != Kind::Quantity || m.unit != self.unit {
            return None;
        }
        match (m.high, self.high) {
            (Some(mh), Some(qh)) if m.value == self.value && mh == qh => Some(Match::Exact),
            (Some(mh), None) if m.value <= self.value && self.value <= mh => Some(Match::InRange),
            (None, Some(qh)) if self.value <= m.value && m.value <= qh => Some(Match::InRange),
            (None, None) if m.value == self.value => Some(Match::Exact),
            (None, None)
                if (m.qualifier == Qualifier::Approximate
                    || self.qualifier == Qualifier::Approximate)
                    && within_tolerance(m.value, self.value) =>
            {
                Some(Match::Approximate)
            }
            _ => None,
        }
    }
}

/// `|a - b| <= TOLERANCE_PERCENT% of |b|`, exactly.
fn within_tolerance(a: Ratio, b: Ratio) -> bool {
    let (Some(diff), Some(limit)) = (
        a.checked_add(b.checked_mul(Ratio::integer(-1)).unwrap_or(b)),
        b.checked_mul(Ratio::new(TOLERANCE_PERCENT, 100).expect("non-zero")),
    ) else {
        return false;
    };
    let abs = |r: Ratio| {
        if r < Ratio::ZERO {
            r.checked_mul(Ratio::integer(-1)).unwrap_or(r)
        } else {
            r
        }
    };
    abs(diff) <= abs(limit)
}

//! Numeric mentions in a text: the figures an auditor traces from source to source.
//!
//! [`extract`] finds each figure with its span (code points, as passages), its exact value
//! (a [`Ratio`], never a float), range, unit, scale word, qualifier, kind, what it is "of" and
//! the attribution cue of its sentence. White space of any kind (a hard wrap, a no-break
//! space) between a figure and its scale or unit is one gap, as in passages.

mod context;
mod numbers;
pub mod ratio;
mod trace;
pub mod units;

use context::*;
use numbers::*;
pub use ratio::Ratio;
pub use trace::*;

/// Bumped when the extractor changes what it finds, so stored versions are extracted again.
pub const EXTRACTOR_REVISION: i64 = 3;
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
    /// A length of time, by its unit: `year`, `month`, `week`, `day`, `hour`, `minute`,
    /// `decade`, `century` ("over the past two months", "a two-day trip").
    Duration(String),
    /// A physical quantity, by its unit's name in the units lexicon (`statistics::units`):
    /// "5 km" is `length` `kilometre`, "50mph" `speed` `mile per hour`, "256GB" `data_size`
    /// `gigabyte`.
    Length(String),
    Area(String),
    Volume(String),
    Mass(String),
    Speed(String),
    Temperature(String),
    DataSize(String),
    Energy(String),
}

impl Unit {
    /// As stored: `count`, `percent`, `percentage_points`, `currency:USD`.
    pub fn key(&self) -> String {
        match self {
            Unit::Currency(code) => format!("currency:{code}"),
            Unit::Percent => "percent".into(),
            Unit::PercentagePoints => "percentage_points".into(),
            Unit::Count => "count".into(),
            Unit::Duration(code) => format!("duration:{code}"),
            _ => {
                let (dimension, name) = self.measure().expect("the other units are measures");
                format!("{}:{name}", dimension.as_str())
            }
        }
    }

    /// A unit of the lexicon as a `Unit`.
    pub fn of_measure(u: &units::MeasureUnit) -> Unit {
        use units::Dimension as D;
        let name = u.name.to_owned();
        match u.dimension {
            D::Length => Unit::Length(name),
            D::Area => Unit::Area(name),
            D::Volume => Unit::Volume(name),
            D::Mass => Unit::Mass(name),
            D::Speed => Unit::Speed(name),
            D::Temperature => Unit::Temperature(name),
            D::DataSize => Unit::DataSize(name),
            D::Energy => Unit::Energy(name),
        }
    }

    /// The dimension and unit name of a physical quantity.
    pub fn measure(&self) -> Option<(units::Dimension, &str)> {
        use units::Dimension as D;
        Some(match self {
            Unit::Length(n) => (D::Length, n),
            Unit::Area(n) => (D::Area, n),
            Unit::Volume(n) => (D::Volume, n),
            Unit::Mass(n) => (D::Mass, n),
            Unit::Speed(n) => (D::Speed, n),
            Unit::Temperature(n) => (D::Temperature, n),
            Unit::DataSize(n) => (D::DataSize, n),
            Unit::Energy(n) => (D::Energy, n),
            _ => return None,
        })
    }

    pub fn from_key(key: &str) -> Option<Unit> {
        Some(match key {
            "percent" => Unit::Percent,
            "percentage_points" => Unit::PercentagePoints,
            "count" => Unit::Count,
            _ => match key.split_once(':')? {
                ("currency", code) => Unit::Currency(code.to_owned()),
                ("duration", code) => Unit::Duration(code.to_owned()),
                (dimension, name) => {
                    Unit::of_measure(units::by_name(units::Dimension::parse(dimension)?, name)?)
                }
            },
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
    Age => "age",
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
    /// A person's age ("the 78-year-old", "aged 78", "78 years old"), in years: kept apart
    /// from durations and not traced.
    Age,
}

impl Kind {
    /// In a sentence: "2019 holds a year".
    pub fn described(self) -> &'static str {
        match self {
            Kind::Quantity => "a quantity",
            Kind::Vague => "a vague amount, with no value",
            Kind::Year => "a year",
            Kind::Date => "a date",
            Kind::Ordinal => "an ordinal",
            Kind::ListNumber => "a list number",
            Kind::Age => "an age",
        }
    }
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
    // "4 hundred million": the two scale words multiply.
    if let Some((w, 2)) = &scale
        && let Some(t) = toks.get(i)
        && let Some(p) = scale_of(t.text).filter(|&p| p > 2 && t.text.chars().count() > 1)
    {
        scale = Some((format!("{w} {}", t.text), 2 + p));
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
        } else if let Some(code) = duration_word(&lower) {
            unit = Some(Unit::Duration(code.to_owned()));
            i += 1;
        } else if let Some((u, next)) = units::after(toks, i) {
            unit = Some(Unit::of_measure(u));
            i = next;
        }
    }
    (scale, unit, i)
}

/// Every numeric mention of `text`, in order.
pub fn extract(text: &str) -> Vec<Mention> {
    let toks = tokenize(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some(next) = not_a_figure(&toks, i) {
            i = next;
            continue;
        }
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

/// A number and its unit in one word: a duration ("a two-day trip", "10-year",
/// "twenty-eight-day"), an age ("the 78-year-old") or a measure ("a 10-mile run").
fn hyphened(text: &str, toks: &[Tok<'_>], i: usize) -> Option<Mention> {
    let t = toks[i].text;
    if !t.contains('-') {
        return None;
    }
    let parts: Vec<&str> = t.split('-').collect();
    let (value, unit, age) = hyphened_duration(&parts).or_else(|| hyphened_measure(&parts))?;
    let (qualifier, qstart) = qualifier_before(toks, i);
    let mut m = finish(
        text,
        toks,
        qstart,
        i + 1,
        value,
        None,
        Some(unit),
        None,
        qualifier,
    );
    if age {
        m.kind = Kind::Age;
    }
    Some(m)
}

/// The parts of a hyphened word as a duration, and whether it is an age ("78-year-old").
fn hyphened_duration(parts: &[&str]) -> Option<(Ratio, Unit, bool)> {
    let at = parts.iter().position(|p| duration_word(p).is_some())?;
    let rest = &parts[at + 1..];
    let age = rest == ["old"];
    if at == 0 || !(rest.is_empty() || age) {
        return None;
    }
    let head = parts[..at].join("-");
    let value = numeral(&head).or_else(|| word_number(&head).map(Ratio::integer))?;
    let unit = Unit::Duration(duration_word(parts[at])?.to_owned());
    Some((value, unit, age))
}

/// The parts of a hyphened word as a measure: "10-mile", "3,000-square-foot", "20-foot-high"
/// (the shape word after the unit is left out of the meaning, not of the span's text).
fn hyphened_measure(parts: &[&str]) -> Option<(Ratio, Unit, bool)> {
    let (head, mut rest) = parts.split_first()?;
    if let Some((last, before)) = rest.split_last()
        && ["long", "tall", "wide", "high", "deep", "thick"].contains(last)
    {
        rest = before;
    }
    if rest.is_empty() {
        return None;
    }
    let value = numeral(head).or_else(|| word_number(head).map(Ratio::integer))?;
    Some((value, Unit::of_measure(units::hyphened(rest)?), false))
}

/// Numbers that are not figures, from token `i`: a time of day ("9:35"), a score or vote
/// ("2-1", "7-2"), a product or index name ("iPhone 11", "S&P 500"). The index after them.
fn not_a_figure(toks: &[Tok<'_>], i: usize) -> Option<usize> {
    let digits = |k: usize, most: usize| {
        toks.get(k).is_some_and(|t| {
            (1..=most).contains(&t.text.len()) && t.text.bytes().all(|b| b.is_ascii_digit())
        })
    };
    let tight = |k: usize| toks.get(k).is_some_and(|t| !t.space_before);
    if toks[i].text.starts_with(|c: char| c.is_ascii_digit())
        && let Some(end) = digit_chain_end(toks, i)
    {
        return Some(end);
    }
    if !digits(i, 4) {
        return None;
    }
    // 9:35, 21:05
    if toks.get(i + 1).is_some_and(|t| t.text == ":")
        && tight(i + 1)
        && tight(i + 2)
        && digits(i + 2, 2)
        && toks[i + 2].text.len() == 2
        && toks[i].text.len() <= 2
    {
        return Some(i + 3);
    }
    // 2-1, 7-2: a dash between two small counts, the second no larger (a range ascends).
    if toks.get(i + 1).is_some_and(|t| matches!(t.text, "-" | "–"))
        && tight(i + 1)
        && tight(i + 2)
        && digits(i + 2, 3)
        && toks[i].text.len() <= 3
        && toks[i + 2].text.parse::<u32>().ok()? <= toks[i].text.parse::<u32>().ok()?
        && !(i > 0 && currency_sign(toks[i - 1].text).is_some())
        && !toks.get(i + 3).is_some_and(|t| {
            t.text == "%" || t.text.eq_ignore_ascii_case("percent") || scale_of(t.text).is_some()
        })
    {
        return Some(i + 3);
    }
    // iPhone 11, eBay 2: a name written in camel case; S&P 500.
    let prev = i.checked_sub(1).map(|p| toks[p].text)?;
    let camel =
        prev.starts_with(|c: char| c.is_lowercase()) && prev.chars().any(char::is_uppercase);
    let ampersand = i >= 3
        && toks[i - 2].text == "&"
        && [toks[i - 1].text, toks[i - 3].text]
            .iter()
            .all(|w| w.chars().all(|c| c.is_uppercase()) && w.chars().count() <= 2);
    (camel || ampersand).then_some(i + 1)
}

fn mention_at(text: &str, toks: &[Tok<'_>], i: usize) -> Option<(Mention, usize)> {
    let t = toks[i];
    if let Some(m) = hyphened(text, toks, i) {
        return Some((m, i + 1));
    }
    // Digits glued to a currency code before them or "pc" after ("USD10m", "RM79", "1.38pc").
    let glued = glued_currency(t.text)
        .map(|(code, rest)| (Unit::Currency(code.to_owned()), rest))
        .or_else(|| {
            t.text
                .strip_suffix("pc")
                .filter(|d| numeral(d).is_some())
                .map(|d| (Unit::Percent, d))
        })
        .or_else(|| {
            // A unit symbol glued to the number ("256GB", "50mph", "1.5km"); a scale ("5m",
            // "2bn") is read as one before.
            let cut = t.text.find(char::is_alphabetic).filter(|&c| c > 0)?;
            let (digits, symbol) = t.text.split_at(cut);
            if scale_of(symbol).is_some() || numeral(digits).is_none() {
                return None;
            }
            units::glued(symbol).map(|u| (Unit::of_measure(u), digits))
        })
        .filter(|(_, rest)| rest.starts_with(|c: char| c.is_ascii_digit()));
    // Letters and digits in one word are a name ("H-2B", "COVID-19", "G20"), not a figure;
    // so is a number glued to a letter before it.
    let starts_digit = t.text.starts_with(|c: char| c.is_ascii_digit());
    if starts_digit && glued.is_none() {
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
    if starts_digit && digit_chain_end(toks, i).is_some() {
        return None;
    }
    if starts_digit && is_ordinal(t.text) {
        return Some((simple(text, toks, i, i + 1, Kind::Ordinal), i + 1));
    }
    // ".001 per cent": a decimal written without its leading zero.
    let leading_dot = i > 0
        && toks[i - 1].text == "."
        && !t.space_before
        && t.text.bytes().all(|b| b.is_ascii_digit())
        && (i == 1
            || toks[i - 1].space_before
            || !toks[i - 2].text.ends_with(char::is_alphanumeric));
    let (core, attached, after_core) = match &glued {
        Some((_, rest)) => {
            let (digits, attached) = split_attached(rest);
            if digits.contains(char::is_alphabetic) {
                return None;
            }
            let scale = attached.and_then(|a| scale_of(a).map(|p| (a.to_owned(), p)));
            (Core::Value(numeral(digits)?), scale, i + 1)
        }
        None => core_at(toks, i)?,
    };
    // A currency sign right before ("$4", "US$ 4", "HK$3.7", "€5", "$US113").
    let mut first = i;
    let mut unit = None;
    if let Some((u, _)) = &glued {
        unit = Some(u.clone());
        if i > 0 && toks[i - 1].text == "$" && !t.space_before {
            first = i - 1;
        }
    } else if i > 0
        && let Some(code) = currency_sign(toks[i - 1].text)
    {
        first = i - 1;
        unit = Some(Unit::Currency(code.to_owned()));
        if i > 1
            && toks[i - 1].text == "$"
            && !toks[i - 1].space_before
            && let Some(code) = dollar_prefix(toks[i - 2].text)
        {
            first = i - 2;
            unit = Some(Unit::Currency(code.to_owned()));
        }
    }
    if leading_dot {
        first = i - 1;
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
    // "minus 387" (a word, so not written against the figure).
    if !negative && first > 0 && toks[first - 1].text.eq_ignore_ascii_case("minus") {
        negative = true;
        first -= 1;
    }
    let (qualifier, qstart) = qualifier_before(toks, first);
    // "between 2 and 5", "between the ages of 15 and 25".
    let between = qstart == first
        && toks[first.saturating_sub(4)..first]
            .iter()
            .rev()
            .take_while(|t| !t.text.starts_with(|c: char| c.is_ascii_digit()))
            .any(|t| t.text.eq_ignore_ascii_case("between"));
    if let Core::Vague = core {
        // "hundreds of thousands of doses", "millions of dollars": the order of magnitude (the
        // least the words can mean) and the currency when one is named, never a value.
        let power = |w: &str| match w.to_lowercase().as_str() {
            "tens" => Some(1),
            "dozens" => Some(1),
            w => scale_of(w),
        };
        let mut magnitude = pow10(power(t.text)?);
        if t.text.eq_ignore_ascii_case("dozens") {
            magnitude = Ratio::integer(12);
        }
        let mut end = after_core + 1;
        if let Some(p) = toks
            .get(end)
            .filter(|n| n.text.len() > 1)
            .and_then(|n| scale_of(n.text))
        {
            magnitude = magnitude.checked_mul(pow10(p))?;
            end += 1;
            if toks
                .get(end)
                .is_some_and(|n| n.text.eq_ignore_ascii_case("of"))
            {
                end += 1;
            }
        }
        let unit = toks.get(end).and_then(|n| currency_word(n.text));
        let mut m = if unit.is_some() {
            end += 1;
            simple(text, toks, qstart, end, Kind::Vague)
        } else {
            // The span ends before the "of" it read past.
            let e = if toks[end - 1].text.eq_ignore_ascii_case("of") {
                end - 1
            } else {
                end
            };
            simple(text, toks, qstart, e, Kind::Vague)
        };
        m.value = magnitude;
        m.unit = unit.map_or(Unit::Count, |c| Unit::Currency(c.to_owned()));
        m.qualifier = qualifier;
        return Some((m, end));
    }
    let Core::Value(mut value) = core else {
        unreachable!()
    };
    if leading_dot {
        value = Ratio::parse_decimal(&format!("0.{}", t.text))?;
    }
    let (mut scale, mut tail_unit, mut end) = tail_at(toks, after_core, attached);
    // "1/2 pound" weighs: a fraction is not an amount of money.
    if after_core == i + 3 && matches!(tail_unit, Some(Unit::Currency(_))) {
        tail_unit = None;
        end -= 1;
    }
    // "37m (121ft)-long": metres beside their conversion, not millions.
    if unit.is_none()
        && scale.as_ref().is_some_and(|(w, _)| w == "m")
        && toks.get(end).is_some_and(|n| n.text == "(")
        && toks.get(end + 1).is_some_and(|n| {
            n.text.starts_with(|c: char| c.is_ascii_digit())
                && n.text.ends_with(char::is_alphabetic)
        })
    {
        scale = None;
        tail_unit = units::glued("m").map(Unit::of_measure);
    }
    if let Some((_, p)) = &scale {
        value = value.checked_mul(pow10(*p))?;
    }
    if negative {
        value = value.checked_mul(Ratio::integer(-1))?;
    }
    let unit = unit.or(tail_unit);
    // A range: "4,000 to 6,000", "4,000-6,000", "between 2 and 5", "$10,000 to $15,000",
    // "seven or eight". A refused one leaves both ends as figures of their own: neither end's
    // scale or unit ever reaches the other ("dropped 7% to $2.3 billion").
    let mut high = None;
    if let Some(r) = range_after(
        toks,
        end,
        between,
        RangeLow {
            value,
            unit: &unit,
            scale: &scale,
        },
    )
    .filter(|_| !changes_from(toks, qstart))
    {
        value = r.low;
        high = Some(r.high);
        end = r.end;
        if unit.is_none() && r.unit.is_some() {
            return Some((
                finish(
                    text,
                    toks,
                    qstart,
                    end,
                    value,
                    high,
                    r.unit,
                    scale.or(r.scale),
                    qualifier,
                ),
                end,
            ));
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
    let mut kind = kind_of(toks, i, after_core, &unit, &scale, value);
    // "78 years old", "aged 78": an age.
    let year = Some(Unit::Duration("year".into()));
    let aged =
        qstart > 0 && ["aged", "age"].contains(&toks[qstart - 1].text.to_lowercase().as_str());
    let mut unit = unit;
    if high.is_none()
        && scale.is_none()
        && (unit == year
            && toks
                .get(end)
                .is_some_and(|n| n.text.eq_ignore_ascii_case("old"))
            || aged && unit.is_none())
    {
        if unit == year {
            end += 1;
        }
        unit = year;
        kind = Kind::Age;
    }
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

/// A range's low end as read so far.
struct RangeLow<'a> {
    value: Ratio,
    unit: &'a Option<Unit>,
    scale: &'a Option<Scale>,
}

/// A range's ends, the high end's own unit and scale, and the token after it.
struct Range {
    low: Ratio,
    high: Ratio,
    unit: Option<Unit>,
    scale: Option<Scale>,
    end: usize,
}

/// The high end of a range starting at the separator `toks[sep]`, when the two ends make one
/// expression: ascending, in one unit, and not two years. The high end's scale covers a low
/// end written without one only when that keeps it the low end ("4 to 6 billion"); a low end
/// written in full is kept as written when both ends name their unit ("$800,000 to $1.3
/// million").
fn range_after(toks: &[Tok<'_>], sep: usize, between: bool, low: RangeLow<'_>) -> Option<Range> {
    let word = toks.get(sep)?.text.to_lowercase();
    let joins = word == "to"
        || word == "or"
        || (word == "and" && between)
        || matches!(toks[sep].text, "-" | "–" | "—");
    if !joins {
        return None;
    }
    let mut j = sep + 1;
    let mut sign = None;
    if let Some(code) = toks.get(j).and_then(|n| currency_sign(n.text)) {
        sign = Some(Unit::Currency(code.to_owned()));
        j += 1;
    }
    let first = toks.get(j)?;
    if !first
        .text
        .starts_with(|c: char| c.is_ascii_digit() || c.is_alphabetic())
    {
        return None;
    }
    let (Core::Value(mut high), attached, after) = core_at(toks, j)? else {
        return None;
    };
    let (scale, tail, end) = tail_at(toks, after, attached);
    let unit = sign.or(tail);
    if let Some((_, p)) = scale.as_ref().or(low.scale.as_ref()) {
        high = high.checked_mul(pow10(*p))?;
    }
    let same_unit = match (low.unit, &unit) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    let mut value = low.value;
    if let (None, Some((_, p))) = (low.scale, &scale) {
        let scaled = value.checked_mul(pow10(*p))?;
        if scaled < high {
            value = scaled;
        } else if low.unit.is_none() || unit.is_none() {
            // "in 2018 to 3.9 million": not one expression.
            return None;
        }
    }
    let year = |r: Ratio| r.denom() == 1 && (1000..=2100).contains(&r.numer());
    let years = low.unit.is_none()
        && unit.is_none()
        && low.scale.is_none()
        && scale.is_none()
        && year(low.value)
        && year(high);
    // "seven or eight hours", "2 or 3 percent": one range; "or" joins only a figure at most
    // twice the first ("3 or 300" are two).
    let near = word != "or"
        || value
            .checked_mul(Ratio::integer(2))
            .is_some_and(|v| high <= v);
    (high > value && same_unit && !years && near).then_some(Range {
        low: value,
        high,
        unit,
        scale,
        end,
    })
}

/// "rose from 4 to 6", "was cut from $2,415 to $2,315": a change between two figures, not a
/// range. A "from … to" after a word of change is one; "costs anywhere from $10,000 to
/// $15,000" is a range.
fn changes_from(toks: &[Tok<'_>], first: usize) -> bool {
    const CHANGE: &[&str] = &[
        "rose",
        "rise",
        "rises",
        "risen",
        "rising",
        "fell",
        "fall",
        "falls",
        "fallen",
        "falling",
        "increased",
        "increase",
        "increases",
        "increasing",
        "decreased",
        "decrease",
        "decreases",
        "decreasing",
        "dropped",
        "drop",
        "drops",
        "dropping",
        "grew",
        "grow",
        "grows",
        "grown",
        "growing",
        "jumped",
        "jump",
        "jumps",
        "climbed",
        "climb",
        "climbs",
        "declined",
        "decline",
        "declines",
        "went",
        "go",
        "goes",
        "gone",
        "cut",
        "cuts",
        "raised",
        "raise",
        "raises",
        "lowered",
        "reduced",
        "shrank",
        "shrunk",
        "surged",
        "soared",
        "plunged",
        "slid",
        "dipped",
        "tumbled",
        "doubled",
        "tripled",
        "up",
        "down",
        "moved",
        "changed",
        "shifted",
        "revised",
        "boosted",
        "expanded",
        "swelled",
        "slashed",
    ];
    first > 0
        && toks[first - 1].text.eq_ignore_ascii_case("from")
        && toks[first.saturating_sub(4)..first - 1]
            .iter()
            .any(|t| CHANGE.contains(&t.text.to_lowercase().as_str()))
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
    // A year: 1800 to 2100 alone, or from 1000 after a word that introduces one ("in 1600").
    let introduced = prev.is_some_and(|p| {
        ["in", "since", "until", "between", "circa", "around", "by"]
            .contains(&p.to_lowercase().as_str())
    });
    if plain
        && t.len() == 4
        && unit.is_none()
        && scale.is_none()
        && ((1800..=2100).contains(&value.numer())
            || introduced && (1000..=2100).contains(&value.numer()))
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
    } else if i > 1 && toks[i - 1].text == "." && is_month(toks[i - 2].text) {
        // "Dec. 28"
        s = i - 2;
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

/// A number that is not traced (a date, an ordinal, a vague amount): its span and first
/// numeral, as a count, with no "of" or attribution.
fn simple(text: &str, toks: &[Tok<'_>], s: usize, e: usize, kind: Kind) -> Mention {
    let value = toks[s..e]
        .iter()
        .find_map(|t| numeral(t.text.trim_end_matches(|c: char| c.is_alphabetic())))
        .unwrap_or(Ratio::ZERO);
    let (start, end, exact) = span_text(text, toks, s, e);
    Mention {
        kind,
        of: None,
        attribution: None,
        ..blank(start, end, exact, value)
    }
}

/// A mention of `value` at a span, exact, as a count; the rest filled in by its caller.
fn blank(start: usize, end: usize, exact: String, value: Ratio) -> Mention {
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
        kind: Kind::Quantity,
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
        high,
        of: of_phrase(toks, e, &unit),
        unit: unit.unwrap_or(Unit::Count),
        scale: scale.map(|(w, _)| w),
        qualifier,
        attribution: attribution(toks, s, e),
        ..blank(start, end, exact, value)
    }
}

#[cfg(test)]
mod tests;

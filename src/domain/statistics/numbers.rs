//! The first stage: words and numerals into tokens, and the number a run of them states
//! (digits, number words, fractions, scale words, currency signs and words).

use super::*;

/// A piece of the text: a run of letters and digits (with the separators numbers and names
/// keep inside: `6,000`, `4.5`, `H-2B`, `it's`), or one other visible character.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tok<'t> {
    pub(super) text: &'t str,
    /// Code points.
    pub(super) start: usize,
    pub(super) end: usize,
    /// White space before it (none, or a run of any kind).
    pub(super) space_before: bool,
    /// The white space before it holds a line break.
    pub(super) line_before: bool,
}

pub(super) fn is_inner_joiner(c: char) -> bool {
    matches!(c, ',' | '.' | '-' | '\'' | '\u{2019}' | '\u{2011}')
}

pub(super) fn tokenize(text: &str) -> Vec<Tok<'_>> {
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

pub(super) const UNITS: &[(&str, u32)] = &[
    ("hundred", 2),
    ("thousand", 3),
    ("million", 6),
    ("billion", 9),
    ("trillion", 12),
];

/// A scale word and its power of ten ("bn" and "m" as newsrooms abbreviate).
pub(super) fn scale_of(word: &str) -> Option<u32> {
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

pub(super) fn word_number(w: &str) -> Option<i128> {
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
pub(super) fn fraction_word(w: &str) -> Option<Ratio> {
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

pub(super) fn currency_word(w: &str) -> Option<&'static str> {
    match w.to_lowercase().as_str() {
        "dollar" | "dollars" => Some("USD"),
        "euro" | "euros" => Some("EUR"),
        "pound" | "pounds" => Some("GBP"),
        "peso" | "pesos" => Some("MXN"),
        "quetzal" | "quetzales" | "quetzals" => Some("GTQ"),
        "lempira" | "lempiras" => Some("HNL"),
        "yen" => Some("JPY"),
        "yuan" | "renminbi" => Some("CNY"),
        "rupee" | "rupees" => Some("INR"),
        "ruble" | "rubles" | "rouble" | "roubles" => Some("RUB"),
        "franc" | "francs" => Some("CHF"),
        "rand" => Some("ZAR"),
        "naira" => Some("NGN"),
        "ringgit" => Some("MYR"),
        "shekel" | "shekels" => Some("ILS"),
        "colón" | "colones" => Some("CRC"),
        "córdoba" | "córdobas" | "cordoba" | "cordobas" => Some("NIO"),
        _ => None,
    }
}

pub(super) fn currency_sign(s: &str) -> Option<&'static str> {
    match s {
        "$" | "US$" | "USD" => Some("USD"),
        "€" | "EUR" => Some("EUR"),
        "£" | "GBP" => Some("GBP"),
        "¥" => Some("JPY"),
        "Q" => Some("GTQ"),
        _ => None,
    }
}

/// The currency of a country prefix written against "$" ("HK$", "A$", "NZ$").
pub(super) fn dollar_prefix(s: &str) -> Option<&'static str> {
    match s {
        "US" => Some("USD"),
        "HK" => Some("HKD"),
        "A" | "AU" => Some("AUD"),
        "C" | "CA" => Some("CAD"),
        "NZ" => Some("NZD"),
        "S" => Some("SGD"),
        "NT" => Some("TWD"),
        "R" => Some("BRL"),
        "MX" => Some("MXN"),
        _ => None,
    }
}

/// An ISO code or sign written against the digits ("USD10m", "RM79", "EUR5bn"): the
/// currency and the rest of the token.
pub(super) fn glued_currency(s: &str) -> Option<(&'static str, &str)> {
    let cut = s.find(|c: char| c.is_ascii_digit())?;
    let (code, rest) = s.split_at(cut);
    let code = match code {
        "USD" | "US" => "USD",
        "EUR" => "EUR",
        "GBP" => "GBP",
        "JPY" => "JPY",
        "CNY" | "RMB" => "CNY",
        "HKD" => "HKD",
        "AUD" => "AUD",
        "CAD" => "CAD",
        "CHF" => "CHF",
        "INR" | "Rs" => "INR",
        "RM" | "MYR" => "MYR",
        "MXN" => "MXN",
        "GTQ" => "GTQ",
        "HNL" => "HNL",
        _ => return None,
    };
    Some((code, rest))
}

/// A time unit word ("years", "yr", "days"), as the duration's code.
pub(super) fn duration_word(w: &str) -> Option<&'static str> {
    Some(match w.to_lowercase().as_str() {
        "year" | "years" | "yr" | "yrs" => "year",
        "month" | "months" => "month",
        "week" | "weeks" => "week",
        "day" | "days" => "day",
        "hour" | "hours" | "hr" | "hrs" => "hour",
        "minute" | "minutes" => "minute",
        "decade" | "decades" => "decade",
        "century" | "centuries" => "century",
        _ => return None,
    })
}

pub(super) const MONTHS: &[&str] = &[
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

pub(super) fn is_month(w: &str) -> bool {
    let w = w.trim_end_matches('.').to_lowercase();
    MONTHS.contains(&w.as_str())
}

/// A numeral with thousands separators or a decimal point, as the value it writes: "6,000",
/// "4.5", "1,234.5". `None` for separators in the wrong places ("1,23", a phone number).
pub(super) fn numeral(s: &str) -> Option<Ratio> {
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
pub(super) fn split_attached(s: &str) -> (&str, Option<&str>) {
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
pub(super) type Scale = (String, u32);

/// What the figure's core is.
pub(super) enum Core {
    Value(Ratio),
    /// "hundreds", "millions" (of …): a magnitude.
    Vague,
}

/// Reads a number at token `i`: digits (maybe with an attached scale), a number word, a
/// fraction word, "a dozen", "a quarter". Returns the core, an attached scale, and the index
/// after it.
pub(super) fn core_at(toks: &[Tok<'_>], i: usize) -> Option<(Core, Option<Scale>, usize)> {
    let t = toks[i].text;
    let lower = t.to_lowercase();
    if t.starts_with(|c: char| c.is_ascii_digit()) {
        let (digits, attached) = split_attached(t);
        let value = numeral(digits)?;
        // "2/3 of voters", "1/2": one fraction, proper and over a common denominator ("24/7"
        // and "9/11" are names).
        if attached.is_none()
            && let Some([slash, den]) = toks.get(i + 1..i + 3)
            && slash.text == "/"
            && !slash.space_before
            && !den.space_before
            && digits.bytes().all(|b| b.is_ascii_digit())
            && den.text.bytes().all(|b| b.is_ascii_digit())
            && let (Ok(n), Ok(d)) = (digits.parse::<i128>(), den.text.parse::<i128>())
            && n < d
            && [2, 3, 4, 5, 6, 8, 10, 100].contains(&d)
            && let Some(r) = Ratio::new(n, d)
        {
            return Some((Core::Value(r), None, i + 3));
        }
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
        if let Some((value, end)) = compound_words(toks, i, n) {
            return Some((Core::Value(Ratio::integer(value)), None, end));
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

/// "twenty-eight thousand six hundred forty-two", "one hundred and five": number words that
/// make one number, read when a number word follows "hundred" or a scale word (else "two
/// million" keeps its scale word as the scale). The value and the index after it.
fn compound_words(toks: &[Tok<'_>], i: usize, first: i128) -> Option<(i128, usize)> {
    let (mut total, mut current, mut j) = (0i128, first, i + 1);
    let (mut multiplied, mut compound, mut end) = (false, false, i + 1);
    while let Some(t) = toks.get(j) {
        let w = t.text.to_lowercase();
        if w == "hundred" && (1..100).contains(&current) {
            current *= 100;
            multiplied = true;
        } else if let Some(p) = scale_of(&w).filter(|&p| p >= 3 && w.len() > 1 && !w.ends_with('s'))
        {
            if current == 0 {
                break;
            }
            total = total.checked_add(current.checked_mul(10i128.checked_pow(p)?)?)?;
            current = 0;
            multiplied = true;
        } else if let Some(n) = word_number(&w).filter(|&n| n > 0) {
            // After a multiplier ("six hundred forty"), or ones after tens ("twenty eight").
            let after_tens = current % 100 >= 20 && current % 10 == 0 && n < 10 && !multiplied;
            if !(multiplied && n < 100 || after_tens) {
                break;
            }
            current += n;
            compound = true;
            multiplied = false;
            end = j + 1;
        } else if w == "and"
            && multiplied
            && toks
                .get(j + 1)
                .is_some_and(|n| word_number(n.text).is_some())
        {
            // "one hundred and five"
        } else {
            break;
        }
        j += 1;
        if multiplied && compound {
            end = j;
        }
    }
    compound.then_some((total + current, end))
}

/// The power of ten a scale adds, as a ratio.
pub(super) fn pow10(p: u32) -> Ratio {
    Ratio::integer(10i128.pow(p))
}

pub(super) fn is_currency_tok(s: &str) -> bool {
    currency_sign(s).is_some()
}

pub(super) fn is_ordinal(s: &str) -> bool {
    let digits = s.trim_end_matches(|c: char| c.is_alphabetic());
    let suffix = &s[digits.len()..].to_lowercase();
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && ["st", "nd", "rd", "th"].contains(&suffix.as_str())
}

/// Three or more digit groups joined by `-`, `.` or `/` with no space ("555-123-4567",
/// "12/25/2020"), or a numeral with two dots: the index after the chain.
pub(super) fn digit_chain_end(toks: &[Tok<'_>], i: usize) -> Option<usize> {
    let mut groups = 1;
    let mut j = i;
    while j + 2 < toks.len()
        && matches!(toks[j + 1].text, "-" | "." | "/")
        && !toks[j + 1].space_before
        && !toks[j + 2].space_before
        && toks[j + 2].text.bytes().all(|b| b.is_ascii_digit())
    {
        groups += 1;
        j += 2;
    }
    (groups >= 3 || toks[i].text.matches('.').count() >= 2).then_some(j + 1)
}

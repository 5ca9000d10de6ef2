//! The last stage: what surrounds a figure: its sentence, the qualifier before it, what it
//! is "of", and who its sentence attributes it to.

use super::*;

/// Context kept with each mention, as passages keep theirs.
pub const CONTEXT_CHARS: usize = 32;

/// How far a mention's sentence reaches each way at most.
pub const SENTENCE_CHARS: usize = 300;

/// Where the sentence around `start..end` begins and ends (code points): after the last `.`,
/// `!` or `?` followed by white space, or a blank line, before it; through the first after it.
pub(super) fn sentence_bounds(chars: &[char], start: usize, end: usize) -> (usize, usize) {
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

/// Words before a figure that hedge it, longest first.
pub(super) const QUALIFIERS: &[(&[&str], Qualifier)] = &[
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
pub(super) fn qualifier_before(toks: &[Tok<'_>], i: usize) -> (Qualifier, usize) {
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

/// What a figure counts or pays for: "of Guatemala's economy" ("of" and up to five words after,
/// to the next punctuation); for a count without "of", the words it counts ("6,000 H-2B
/// visas"); for an amount, what it is "in" or "for" ("$310 million in aid").
pub(super) fn of_phrase(toks: &[Tok<'_>], e: usize, unit: &Option<Unit>) -> Option<String> {
    let first = toks.get(e)?;
    if !first.text.eq_ignore_ascii_case("of") {
        return match unit {
            None => counted(toks, e),
            Some(Unit::Currency(_)) => {
                let word = first.text.to_lowercase();
                if !(word == "in" || word == "for") {
                    return None;
                }
                counted(toks, e + 1).map(|c| format!("{} {c}", first.text))
            }
            _ => None,
        };
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

/// Up to three words after a figure that name what it counts: words of letters (and the
/// digits inside a name such as "H-2B"), no function word or verb form among them, none glued
/// to the figure ("5km" is not counting "km").
fn counted(toks: &[Tok<'_>], e: usize) -> Option<String> {
    const STOP: &[&str] = &[
        "a", "an", "the", "and", "or", "but", "of", "in", "on", "at", "to", "for", "from", "by",
        "with", "as", "than", "that", "which", "who", "whom", "whose", "while", "is", "are", "was",
        "were", "be", "been", "being", "has", "have", "had", "will", "would", "could", "should",
        "may", "might", "can", "must", "do", "does", "did", "said", "says", "say", "more", "less",
        "fewer", "each", "per", "ago", "earlier", "later", "last", "next", "this", "these",
        "those", "it", "its", "they", "their", "he", "she", "his", "her", "we", "our", "you",
        "your", "i", "not", "no", "so", "up", "down", "over", "under", "about", "into", "out",
        "times", "percent", "cent", "points",
    ];
    let words: Vec<&str> = toks
        .get(e..)?
        .iter()
        .take(3)
        .enumerate()
        .take_while(|(k, t)| {
            t.space_before
                && t.text.starts_with(char::is_alphabetic)
                && t.text
                    .chars()
                    .any(|c| c.is_lowercase() || c.is_ascii_digit())
                && !(*k == 0 && t.text.ends_with("ly"))
                && !STOP.contains(&t.text.to_lowercase().as_str())
        })
        .map(|(_, t)| t.text)
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Where the figure's sentence starts and ends (token indices).
pub(super) fn sentence(toks: &[Tok<'_>], s: usize, e: usize) -> (usize, usize) {
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
pub(super) fn attribution(toks: &[Tok<'_>], s: usize, e: usize) -> Option<String> {
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

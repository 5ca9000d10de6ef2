//! A trace query: the figure an auditor looks for, and how a mention matches it.

use super::*;

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
        Self::parse_or_kind(text).ok()
    }

    /// As [`TraceQuery::parse`]; without a quantity, the kind of the first number the text
    /// holds instead ("2019" is a year), so that the answer can say why nothing is traced.
    pub fn parse_or_kind(text: &str) -> Result<TraceQuery, Option<Kind>> {
        let mentions = extract(text);
        mentions
            .iter()
            .find(|m| m.kind == Kind::Quantity)
            .map(|m| TraceQuery {
                value: m.value,
                high: m.high,
                unit: m.unit.clone(),
                qualifier: m.qualifier,
            })
            .ok_or_else(|| mentions.first().map(|m| m.kind))
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

//! Exact numbers for figures: a reduced fraction of 128-bit integers. Figures are decimals
//! ("0.1" stays one tenth) or simple fractions ("two-thirds"); no binary floating point.

use std::cmp::Ordering;
use std::fmt;

/// `num / den`, reduced, `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    num: i128,
    den: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

impl Ratio {
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };

    /// `None` when `den` is zero.
    pub fn new(num: i128, den: i128) -> Option<Ratio> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        let sign = if den < 0 { -1 } else { 1 };
        Some(Ratio {
            num: sign * num / g,
            den: sign * den / g,
        })
    }

    pub fn integer(n: i128) -> Ratio {
        Ratio { num: n, den: 1 }
    }

    /// Parses a decimal numeral: digits, an optional `.` fraction, thousands separators `,`
    /// already removed ("4.5", "6000", "0.1"). `None` if it is anything else or too long.
    pub fn parse_decimal(s: &str) -> Option<Ratio> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || int.len() + frac.len() > 30
        {
            return None;
        }
        let digits: i128 = format!("{int}{frac}").parse().ok()?;
        Ratio::new(digits, 10i128.checked_pow(frac.len() as u32)?)
    }

    pub fn checked_mul(self, other: Ratio) -> Option<Ratio> {
        Ratio::new(
            self.num.checked_mul(other.num)?,
            self.den.checked_mul(other.den)?,
        )
    }

    pub fn checked_add(self, other: Ratio) -> Option<Ratio> {
        Ratio::new(
            self.num
                .checked_mul(other.den)?
                .checked_add(other.num.checked_mul(self.den)?)?,
            self.den.checked_mul(other.den)?,
        )
    }

    pub fn is_integer(self) -> bool {
        self.den == 1
    }

    pub fn numer(self) -> i128 {
        self.num
    }

    pub fn denom(self) -> i128 {
        self.den
    }

    /// Whether the value has a finite decimal expansion (its denominator has no prime factor
    /// but 2 and 5).
    fn terminates(self) -> bool {
        let mut d = self.den;
        for p in [2, 5] {
            while d % p == 0 {
                d /= p;
            }
        }
        d == 1
    }
}

impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        // Both denominators are positive; the products fit for the figures text holds.
        (self.num * other.den).cmp(&(other.num * self.den))
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Written as its text ("0.1", "2/3"), so that no client reads it as a binary float.
impl serde::Serialize for Ratio {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::str::FromStr for Ratio {
    type Err = String;

    /// Reads what `Display` writes: a decimal or `num/den`.
    fn from_str(s: &str) -> Result<Ratio, String> {
        let bad = || format!("not a number: {s:?}");
        match s.split_once('/') {
            Some((n, d)) => {
                Ratio::new(n.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?)
                    .ok_or_else(bad)
            }
            None => match s.strip_prefix('-') {
                Some(rest) => Ratio::parse_decimal(rest)
                    .and_then(|r| r.checked_mul(Ratio::integer(-1)))
                    .ok_or_else(bad),
                None => Ratio::parse_decimal(s).ok_or_else(bad),
            },
        }
    }
}

impl Ratio {
    /// A text key whose byte order is the numeric order of non-negative values: a biased
    /// decimal exponent, then 24 significant digits. For range scans in an index; equality
    /// is always decided on the exact value.
    pub fn sort_key(self) -> String {
        if self.num <= 0 {
            return "000".to_owned();
        }
        let (n, d) = (self.num, self.den);
        // Exponent: the power of ten of the first significant digit.
        let mut exp: i32 = 0;
        let (mut a, mut b) = (n, d);
        while a >= b.saturating_mul(10) {
            b = b.saturating_mul(10);
            exp += 1;
        }
        while a < b {
            a = a.saturating_mul(10);
            exp -= 1;
        }
        let mut digits = String::with_capacity(24);
        let mut rest = a;
        for _ in 0..24 {
            digits.push(char::from(b'0' + (rest / b) as u8));
            rest = (rest % b).saturating_mul(10);
        }
        format!("{:03}{digits}", exp + 500)
    }
}

/// A decimal ("4000000000", "0.1", "-2.5") when it terminates, else `num/den` ("2/3").
impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.terminates() {
            return write!(f, "{}/{}", self.num, self.den);
        }
        let sign = if self.num < 0 { "-" } else { "" };
        let (n, d) = (self.num.abs(), self.den);
        let int = n / d;
        let mut rest = n % d;
        if rest == 0 {
            return write!(f, "{sign}{int}");
        }
        let mut digits = String::new();
        while rest != 0 {
            rest *= 10;
            digits.push(char::from(b'0' + (rest / d) as u8));
            rest %= d;
        }
        write!(f, "{sign}{int}.{digits}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_stay_exact_and_print_as_written() {
        let tenth = Ratio::parse_decimal("0.1").unwrap();
        assert_eq!(tenth.to_string(), "0.1");
        assert_eq!(
            tenth.checked_add(Ratio::parse_decimal("0.2").unwrap()),
            Ratio::parse_decimal("0.3")
        );
        let four_billion = Ratio::parse_decimal("4")
            .unwrap()
            .checked_mul(Ratio::integer(1_000_000_000))
            .unwrap();
        assert_eq!(four_billion.to_string(), "4000000000");
        assert_eq!(Ratio::new(2, 3).unwrap().to_string(), "2/3");
        assert_eq!(Ratio::new(1, 4).unwrap().to_string(), "0.25");
        assert_eq!(Ratio::parse_decimal("4.50"), Ratio::parse_decimal("4.5"));
        assert!(Ratio::parse_decimal("4.5.1").is_none());
        assert!(Ratio::parse_decimal("").is_none());
        assert!(Ratio::new(1, 3).unwrap() < Ratio::new(34, 100).unwrap());
        for r in [
            tenth,
            four_billion,
            Ratio::new(2, 3).unwrap(),
            Ratio::new(-5, 2).unwrap(),
        ] {
            assert_eq!(r.to_string().parse::<Ratio>(), Ok(r));
        }
    }

    #[test]
    fn sort_keys_order_as_the_values() {
        let values: Vec<Ratio> = [
            "0",
            "0.001",
            "0.1",
            "2/3",
            "1",
            "9.99",
            "10",
            "15",
            "6000",
            "4000000000",
        ]
        .iter()
        .map(|s| match s.split_once('/') {
            Some((n, d)) => Ratio::new(n.parse().unwrap(), d.parse().unwrap()).unwrap(),
            None => Ratio::parse_decimal(s).unwrap(),
        })
        .collect();
        let keys: Vec<String> = values.iter().map(|v| v.sort_key()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(
            Ratio::parse_decimal("4.5").unwrap().sort_key(),
            Ratio::parse_decimal("4.50").unwrap().sort_key()
        );
    }
}

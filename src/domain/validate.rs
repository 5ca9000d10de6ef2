//! Validated input types. Values of these types are known to be acceptable, so the storage
//! and HTTP layers never re-check them.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer-like path of the field, e.g. `title` or `authors/2`.
    pub field: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

/// Collects every field error of a request, so the client can fix them all at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records the outcome of a check and returns its value if it passed.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|m| self.error(field, m)).ok()
    }

    /// Ends validation: `Ok(value)` only when no error was recorded.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value())
        } else {
            Err(self.errors)
        }
    }
}

/// Longest accepted short text (titles, names, notes on evidence), in characters: what the
/// OpenAPI document states (`maxLength` counts characters).
pub const MAX_SHORT_TEXT: usize = 1024;

/// Longest accepted note (a review's summary, a workflow step's note), in characters.
pub const MAX_NOTE: usize = 16 * 1024;

/// A short single-purpose text (title, publisher, claimant, note): trimmed, never blank.
pub fn short_text(value: &str) -> Result<String, String> {
    bounded(value, MAX_SHORT_TEXT)
}

/// A longer text (a review's summary, a step's note): trimmed, never blank.
pub fn note_text(value: &str) -> Result<String, String> {
    bounded(value, MAX_NOTE)
}

fn bounded(value: &str, max_chars: usize) -> Result<String, String> {
    let trimmed = body_text(value)?.trim().to_owned();
    if trimmed.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters long"));
    }
    Ok(trimmed)
}

/// A body of text kept byte-exact (a source version, a claim): only refused when blank.
pub fn body_text(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("must not be empty or only white space".into());
    }
    no_nul(value)?;
    Ok(value.to_owned())
}

/// No NUL character: PostgreSQL cannot store one in text, so none is taken anywhere.
pub fn no_nul(value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    Ok(())
}

/// Longest accepted URL, in characters.
pub const MAX_URL: usize = 2048;

/// An absolute http(s) URL, normalized (lower-case host, no fragment) so that lookups by URL
/// find a source however its address was spelled.
pub fn web_url(value: &str) -> Result<String, String> {
    if value.trim().chars().count() > MAX_URL {
        return Err(format!("must be at most {MAX_URL} characters long"));
    }
    let mut url = url::Url::parse(value.trim())
        .map_err(|e| format!("must be an absolute http or https URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("must be an absolute http or https URL".into());
    }
    url.set_fragment(None);
    Ok(url.into())
}

/// A publication date: an RFC 3339 date-time, or a calendar date `YYYY-MM-DD` when the source
/// states only the day.
pub fn published_at(value: &str) -> Result<String, String> {
    let value = value.trim();
    if OffsetDateTime::parse(value, &Rfc3339).is_ok() {
        return Ok(value.to_owned());
    }
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, &date_only)
        .map(|_| value.to_owned())
        .map_err(|_| {
            "must be a date (2024-05-01) or an RFC 3339 date-time (2024-05-01T09:30:00Z)".into()
        })
}

/// A source's kind: a lower-case label such as `news`, `opinion`, `report`, `transcript`,
/// `press_release` or `social_post` (newsrooms use their own; the label is kept as given).
pub fn source_kind(value: &str) -> Result<String, String> {
    let value = value.trim();
    let ok = !value.is_empty()
        && value.len() <= 32
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(
            "must be a lower-case label of at most 32 characters (a-z, 0-9, _), such as \
             news, opinion, report or transcript"
                .into(),
        )
    }
}

/// A point in time in a query (`since`, `until`, `updated_since`): an RFC 3339 date-time, or a
/// calendar date `YYYY-MM-DD`, which means its first instant in UTC.
pub fn instant(value: &str) -> Result<OffsetDateTime, String> {
    let value = value.trim();
    if let Ok(t) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(t);
    }
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(value, &date_only)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| {
            format!(
                "is {value:?}: send a date (2026-11-27, from midnight UTC) or an RFC 3339 \
                 date-time (2026-11-27T09:00:00Z)"
            )
        })
}

/// A list of author names: each trimmed and non-blank.
pub fn authors(values: &[String], v: &mut Validator) -> Vec<String> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, a)| v.check(&format!("authors/{i}"), short_text(a)))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_take_dates_as_midnight_utc() {
        let day = instant("2026-11-27").unwrap();
        assert_eq!(day, time::macros::datetime!(2026-11-27 00:00 UTC));
        let t = instant("2026-11-27T09:30:00+02:00").unwrap();
        assert_eq!(t, time::macros::datetime!(2026-11-27 07:30 UTC));
        for bad in ["yesterday", "2026-13-01", "27/11/2026", ""] {
            assert!(instant(bad).is_err(), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn short_text_is_trimmed_and_never_blank() {
        assert_eq!(short_text("  A title \n").unwrap(), "A title");
        assert!(short_text(" \t\n").is_err());
        assert!(short_text(&"x".repeat(MAX_SHORT_TEXT + 1)).is_err());
        assert!(short_text("a\0b").is_err());
    }

    #[test]
    fn body_text_is_kept_byte_exact() {
        assert_eq!(body_text("  two\nlines  ").unwrap(), "  two\nlines  ");
        assert!(body_text("\u{00A0}\n").is_err());
        assert!(body_text("a\0b").is_err());
    }

    #[test]
    fn urls_are_normalized_and_must_be_web_addresses() {
        assert_eq!(
            web_url("HTTPS://Example.ORG/a/b?x=1#frag").unwrap(),
            "https://example.org/a/b?x=1"
        );
        assert!(web_url("ftp://example.org/x").is_err());
        assert!(web_url("/relative/path").is_err());
        assert!(web_url("mailto:a@example.org").is_err());
    }

    #[test]
    fn dates_accept_day_or_date_time() {
        assert!(published_at("2019-06-21").is_ok());
        assert!(published_at("2019-06-21T08:00:00-05:00").is_ok());
        assert!(published_at("21/06/2019").is_err());
        assert!(published_at("2019-02-30").is_err());
    }

    #[test]
    fn validator_collects_every_error() {
        let mut v = Validator::new();
        let names = authors(&["Ana".into(), " ".into(), "".into()], &mut v);
        assert_eq!(names, vec!["Ana".to_owned()]);
        let errors = v.finish(|| ()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["authors/1", "authors/2"]);
    }
}

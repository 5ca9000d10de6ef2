//! Checked values: a field that passed its validation, so that a record built from them
//! (a [`crate::domain::NewSource`], …) can only hold valid values.

use serde::Serialize;

use super::validate;

macro_rules! checked {
    ($(#[$doc:meta] $name:ident => $check:path),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks `value`; the message says what is wrong.
            pub fn parse(value: &str) -> Result<Self, String> {
                $check(value).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

checked! {
    /// A trimmed, non-blank text of at most [`validate::MAX_SHORT_TEXT`] characters.
    ShortText => validate::short_text,
    /// A byte-exact, non-blank text without NUL characters.
    BodyText => validate::body_text,
    /// An absolute http(s) URL in stored form ([`super::urls::stored_form`]): cleaned of tracking parameters, fragment and trailing slash; the lookup compares [`super::urls::lookup_form`]s.
    WebUrl => super::urls::stored_form,
    /// A date or an RFC 3339 date-time.
    PublishedAt => validate::published_at,
    /// A source's kind (`news`, `opinion`, `report`, ...).
    SourceKind => validate::source_kind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_values_are_built() {
        assert_eq!(ShortText::parse("  A title ").unwrap().as_str(), "A title");
        assert!(ShortText::parse("  ").is_err());
        assert_eq!(
            WebUrl::parse("HTTPS://Example.org/x#y").unwrap().as_str(),
            "https://example.org/x"
        );
        assert!(BodyText::parse("a\0b").is_err());
        assert!(PublishedAt::parse("31/12/2024").is_err());
    }
}

//! Article URLs as a newsroom's CMS knows them, compared after normalization: the same page
//! reached through a share link, with a tracking parameter, a trailing slash or an upper-case
//! host is the same article. (Groundwork for the CMS lookup by article URL, issue 8.)

use url::Url;

/// Query parameters that say where a reader came from, not which page they read.
fn is_tracking(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || matches!(name.as_str(), "fbclid" | "gclid")
}

/// The form two URLs of the same article share: scheme and host in lower case, no default
/// port, no fragment, no trailing slash (and `/` for an empty path), tracking parameters
/// (`utm_*`, `fbclid`, `gclid`) dropped, the other query parameters kept and sorted (by name,
/// then value; repeated ones stay). Paths keep their case: servers may tell them apart.
pub fn lookup_form(value: &str) -> Result<String, String> {
    // A valid web URL, without fragment; `Url` lower-cases scheme and host and drops a
    // default port.
    let mut url = Url::parse(&super::validate::web_url(value)?)
        .map_err(|e| format!("must be an absolute http or https URL ({e})"))?;
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !is_tracking(name))
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    if params.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(params);
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(if path.is_empty() { "/" } else { &path });
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) {
        assert_eq!(
            lookup_form(a).unwrap(),
            lookup_form(b).unwrap(),
            "{a} ~ {b}"
        );
    }

    #[test]
    fn spellings_of_one_article_meet() {
        same(
            "HTTPS://News.Example.ORG:443/politics/bridge/",
            "https://news.example.org/politics/bridge",
        );
        same("http://example.org:80", "http://example.org/");
        same(
            "https://example.org/a?utm_source=x&id=7&fbclid=abc&UTM_Medium=y#comments",
            "https://example.org/a?id=7",
        );
        same(
            "https://example.org/a?b=2&a=1&gclid=z",
            "https://example.org/a?a=1&b=2",
        );
        assert_eq!(
            lookup_form("https://example.org/a?utm_campaign=x").unwrap(),
            "https://example.org/a"
        );
    }

    #[test]
    fn what_tells_articles_apart_is_kept() {
        let differ = |a: &str, b: &str| {
            assert_ne!(
                lookup_form(a).unwrap(),
                lookup_form(b).unwrap(),
                "{a} vs {b}"
            )
        };
        differ("https://example.org/a?id=7", "https://example.org/a?id=8");
        differ("https://example.org/Story", "https://example.org/story");
        differ("http://example.org/a", "https://example.org/a");
        differ("https://example.org:8443/a", "https://example.org/a");
        differ(
            "https://example.org/a?page=2&page=3",
            "https://example.org/a?page=2",
        );
    }

    #[test]
    fn only_web_addresses_are_taken() {
        assert!(lookup_form("ftp://example.org/a").is_err());
        assert!(lookup_form("/relative").is_err());
        assert!(lookup_form("mailto:desk@example.org").is_err());
    }
}

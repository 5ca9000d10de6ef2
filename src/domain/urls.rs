//! Article URLs as a newsroom's CMS knows them, compared after normalization: the same page
//! reached over `http` or `https`, with or without `www.`, as its AMP copy, through a share
//! link with tracking parameters, with a trailing slash or an upper-case host is the same
//! article. Two forms:
//!
//! - the **stored form** ([`stored_form`], what [`super::checked::WebUrl`] keeps): the URL as
//!   given, cleaned (scheme and host in lower case, no default port, no fragment, no trailing
//!   slash, tracking parameters dropped, the others sorted); still the address of the page;
//! - the **lookup form** ([`lookup_form`], `source_urls.url_key`, `reviews.published_url_key`):
//!   the stored form folded further (`https`, no `www.`, no AMP marker, the configured extra
//!   tracking parameters dropped), so that every spelling of one article meets on one key. It
//!   is a key, not necessarily an address that answers.
//!
//! The rule in force has a [`UrlRule::fingerprint`]; stored keys are recomputed at start when
//! it changes (`App::recompute_url_keys`).

use time::OffsetDateTime;
use url::Url;

use super::ids::SourceId;

/// Revision of the lookup-form rule. Raise it whenever [`lookup_form`] would fold a URL
/// differently, so that stored keys are recomputed at the next start. 1: issue 8 (case,
/// port, fragment, slash, `utm_*`/`fbclid`/`gclid`); 2: scheme, `www.`, AMP, the longer
/// tracking list and configurable extras.
pub const RULE_REVISION: u32 = 2;

/// Query parameters that say where a reader came from, not which page they read (compared in
/// lower case), after ClearURLs' global rules and Firefox's query-stripping list, limited to
/// what news links carry: ad click ids, newsletter and social share markers, analytics
/// linkers, and the campaign codes of news sites (`ocid` MSN, `cmpid`/`cmp` many publishers and
/// the Guardian's `CMP`, `smid`/`smtyp` the New York Times, `xtor` AT Internet, `ns_*`
/// comScore/BBC).
pub const TRACKING_PARAMS: &[&str] = &[
    // Ad and social click ids.
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "ysclid",
    "twclid",
    "ttclid",
    "li_fat_id",
    "igshid",
    "igsh",
    "fb_action_ids",
    "fb_action_types",
    "fb_ref",
    "fb_source",
    "ref_src",
    "ref_url",
    "__twitter_impression",
    // Newsletters and marketing automation.
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "__hssc",
    "__hstc",
    "__hsfp",
    "hsctatracking",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "vero_conv",
    "wickedid",
    "s_cid",
    "_openstat",
    // Analytics linkers.
    "_ga",
    "_gl",
    // News sites' campaign codes.
    "ocid",
    "cmpid",
    "cmp",
    "smid",
    "smtyp",
    "sr_share",
    "xtor",
    "at_medium",
    "at_campaign",
    "wt.mc_id",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "ns_linkname",
    "ns_fee",
];

/// Prefixes of tracking parameters (`utm_source`, `utm_medium`, …).
const TRACKING_PREFIXES: &[&str] = &["utm_"];

/// One extra tracking parameter from the settings: a name, or a prefix (`name*`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Pattern {
    Name(String),
    Prefix(String),
}

impl Pattern {
    fn matches(&self, name: &str) -> bool {
        match self {
            Pattern::Name(n) => n == name,
            Pattern::Prefix(p) => name.starts_with(p.as_str()),
        }
    }

    fn spelled(&self) -> String {
        match self {
            Pattern::Name(n) => n.clone(),
            Pattern::Prefix(p) => format!("{p}*"),
        }
    }
}

/// The lookup-form rule in force: the built-in rule plus the extra tracking parameters a
/// deployment names (`CLAIMTRAIL_TRACKING_PARAMS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlRule {
    extra: Vec<Pattern>,
}

impl UrlRule {
    /// The built-in rule with these extra tracking parameters: names (compared in lower case)
    /// or prefixes written `name*`. Blank entries are ignored; a name holding `=`, `&`, `#`,
    /// `?`, whitespace or a `*` other than a final one is refused.
    pub fn new<I, S>(extra: I) -> Result<UrlRule, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut patterns = Vec::new();
        for raw in extra {
            let name = raw.as_ref().trim().to_ascii_lowercase();
            if name.is_empty() {
                continue;
            }
            let (stem, prefix) = match name.strip_suffix('*') {
                Some(stem) => (stem.to_owned(), true),
                None => (name.clone(), false),
            };
            if stem.is_empty()
                || stem
                    .chars()
                    .any(|c| c.is_whitespace() || "=&#?*".contains(c))
            {
                return Err(format!(
                    "{:?} is not a query parameter name (or a prefix written `name*`)",
                    raw.as_ref()
                ));
            }
            patterns.push(if prefix {
                Pattern::Prefix(stem)
            } else {
                Pattern::Name(stem)
            });
        }
        patterns.sort();
        patterns.dedup();
        Ok(UrlRule { extra: patterns })
    }

    /// What decides every stored key: the rule's revision and the extra parameters. Stored
    /// keys are recomputed when it differs from the one recorded.
    pub fn fingerprint(&self) -> String {
        let extra: Vec<String> = self.extra.iter().map(Pattern::spelled).collect();
        format!("rule {RULE_REVISION}; extra: {}", extra.join(","))
    }

    /// The extra tracking parameters, as configured (`name` or `name*`).
    pub fn extra(&self) -> Vec<String> {
        self.extra.iter().map(Pattern::spelled).collect()
    }

    fn is_extra(&self, lower: &str) -> bool {
        self.extra.iter().any(|p| p.matches(lower))
    }
}

/// Whether a query parameter is one of the built-in tracking parameters.
pub fn is_tracking(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    TRACKING_PREFIXES.iter().any(|p| name.starts_with(p)) || TRACKING_PARAMS.contains(&&*name)
}

/// An AMP marker in the query: `amp=1`/`amp=true`/`amp`, `outputType=amp`.
fn is_amp_param(name: &str, value: &str) -> bool {
    let name = name.to_ascii_lowercase();
    (name == "amp" && matches!(value.to_ascii_lowercase().as_str(), "" | "1" | "true"))
        || (name == "outputtype" && value.eq_ignore_ascii_case("amp"))
}

/// Parses, cleans and (for a key) folds a URL.
fn normalize(value: &str, fold: Option<&UrlRule>) -> Result<Url, String> {
    // A valid web URL, without fragment; `Url` lower-cases scheme and host and drops a
    // default port.
    let mut url = Url::parse(&super::validate::web_url(value)?)
        .map_err(|e| format!("must be an absolute http or https URL ({e})"))?;
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, value)| {
            !is_tracking(name)
                && fold.is_none_or(|rule| {
                    !rule.is_extra(&name.to_ascii_lowercase()) && !is_amp_param(name, value)
                })
        })
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    if params.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(params);
    }
    let mut path = url.path().trim_end_matches('/').to_owned();
    if fold.is_some() {
        // A final `/amp` segment (`/politics/bridge/amp`, `/politics/bridge/amp/`).
        if let Some(stem) = path.strip_suffix("/amp") {
            path = stem.trim_end_matches('/').to_owned();
        }
        if url.scheme() == "http" {
            url.set_scheme("https")
                .map_err(|()| "cannot be read as an https URL".to_owned())?;
        }
        if let Some(url::Host::Domain(host)) = url.host()
            && let Some(bare) = host.strip_prefix("www.")
            && bare.contains('.')
        {
            let bare = bare.to_owned();
            url.set_host(Some(&bare))
                .map_err(|e| format!("has a host that cannot lose its `www.` ({e})"))?;
        }
    }
    url.set_path(if path.is_empty() { "/" } else { &path });
    Ok(url)
}

/// The stored form of a URL: scheme and host in lower case, no default port, no fragment, no
/// trailing slash (and `/` for an empty path), the built-in tracking parameters
/// ([`TRACKING_PARAMS`], `utm_*`) dropped, the other query parameters kept and sorted (by
/// name, then value; repeated ones stay). Paths keep their case: servers may tell them apart.
pub fn stored_form(value: &str) -> Result<String, String> {
    normalize(value, None).map(String::from)
}

/// The lookup form two spellings of one article share: the [`stored_form`], then `https`
/// for `http`, the host without a leading `www.`, AMP markers gone (`amp=1`, `amp=true`, a
/// bare `amp`, `outputType=amp`, a final `/amp` path segment), and `rule`'s extra tracking
/// parameters dropped. Other paths and query parameters keep articles apart.
pub fn lookup_form(value: &str, rule: &UrlRule) -> Result<String, String> {
    normalize(value, Some(rule)).map(String::from)
}

/// One stored URL of a source (a row of `source_urls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUrl {
    /// Its lookup form as stored.
    pub key: String,
    pub source_id: SourceId,
    /// The URL it was recorded from (the source's own, or an alias).
    pub url: String,
    pub alias: bool,
    pub created_at: OffsetDateTime,
}

/// What recomputing the stored keys under a rule changes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rekeying {
    /// Rows whose key changes: the key they had, and the row with its new key.
    pub moved: Vec<(String, StoredUrl)>,
    /// Rows that now fold to a key an older row keeps: dropped (the lookup finds the older
    /// row's source under that URL), each with the row that keeps the key.
    pub dropped: Vec<(StoredUrl, StoredUrl)>,
}

/// Recomputes every stored URL's key under `rule`. Rows are taken oldest first (by
/// `created_at`, then key), so when two now fold to one key the older keeps it. A URL that no
/// longer parses keeps its key. Deleting every moved and dropped row by its old key, then
/// inserting the moved rows, leaves each key once.
pub fn rekey(mut rows: Vec<StoredUrl>, rule: &UrlRule) -> Rekeying {
    rows.sort_by(|a, b| (a.created_at, &a.key).cmp(&(b.created_at, &b.key)));
    let mut kept: std::collections::HashMap<String, StoredUrl> = Default::default();
    let mut out = Rekeying::default();
    for row in rows {
        let key = lookup_form(&row.url, rule).unwrap_or_else(|_| row.key.clone());
        if let Some(holder) = kept.get(&key) {
            out.dropped.push((row, holder.clone()));
            continue;
        }
        let new = StoredUrl {
            key: key.clone(),
            ..row.clone()
        };
        if key != row.key {
            out.moved.push((row.key, new.clone()));
        }
        kept.insert(key, new);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(a: &str) -> String {
        lookup_form(a, &UrlRule::default()).unwrap()
    }

    fn same(a: &str, b: &str) {
        assert_eq!(key(a), key(b), "{a} ~ {b}");
    }

    fn differ(a: &str, b: &str) {
        assert_ne!(key(a), key(b), "{a} vs {b}");
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
            key("https://example.org/a?utm_campaign=x"),
            "https://example.org/a"
        );
    }

    #[test]
    fn scheme_www_and_amp_spellings_meet() {
        let canonical = "https://news.example.org/politics/bridge";
        for spelling in [
            "http://news.example.org/politics/bridge",
            "https://www.news.example.org/politics/bridge",
            "http://WWW.news.example.org/politics/bridge/",
            "https://news.example.org/politics/bridge?outputType=amp",
            "https://news.example.org/politics/bridge?OUTPUTTYPE=AMP",
            "https://news.example.org/politics/bridge?amp=1",
            "https://news.example.org/politics/bridge?amp=true",
            "https://news.example.org/politics/bridge?amp",
            "https://news.example.org/politics/bridge/amp",
            "https://news.example.org/politics/bridge/amp/",
            "http://www.news.example.org/politics/bridge/amp?amp=1&utm_source=tw",
        ] {
            assert_eq!(key(spelling), canonical, "{spelling}");
        }
        same("http://www.example.org", "https://example.org/");
        same("https://www.example.org/amp", "https://example.org/");
        // Query parameters that stay are kept beside a dropped AMP marker.
        same(
            "https://example.org/story?id=7&outputType=amp",
            "https://example.org/story?id=7",
        );
    }

    #[test]
    fn the_news_tracking_parameters_are_dropped() {
        for p in [
            "mc_cid", "mc_eid", "ocid", "cmpid", "CMP", "smid", "smtyp", "igshid", "_ga", "_gl",
            "ref_src", "msclkid", "twclid", "xtor", "WT.mc_id", "_hsenc", "mkt_tok", "s_cid",
        ] {
            assert_eq!(
                key(&format!("https://example.org/a?{p}=x&id=7")),
                "https://example.org/a?id=7",
                "{p}"
            );
        }
    }

    #[test]
    fn what_tells_articles_apart_is_kept() {
        differ("https://example.org/a?id=7", "https://example.org/a?id=8");
        differ("https://example.org/Story", "https://example.org/story");
        differ("https://example.org:8443/a", "https://example.org/a");
        differ(
            "https://example.org/a?page=2&page=3",
            "https://example.org/a?page=2",
        );
        differ("https://example.org/a", "https://example.org/b");
        differ("https://example.org/a/amp", "https://example.org/a/b");
        // Not AMP markers: another value, `amp` inside a segment, a leading `/amp/`.
        differ("https://example.org/a?amp=0", "https://example.org/a");
        differ(
            "https://example.org/a?outputType=print",
            "https://example.org/a",
        );
        differ("https://example.org/lamp", "https://example.org/l");
        differ("https://example.org/amp/a", "https://example.org/a");
        // Other subdomains, and a host that is only `www.` and a name, stay.
        differ("https://m.example.org/a", "https://example.org/a");
        differ("https://www2.example.org/a", "https://example.org/a");
        assert_eq!(key("https://www.localhost/a"), "https://www.localhost/a");
        // `ref` alone, `id`, `page`: meaningful.
        differ("https://example.org/a?ref=1", "https://example.org/a");
    }

    #[test]
    fn extra_tracking_parameters_come_from_the_settings() {
        let rule = UrlRule::new(["  Src ", "", "promo_*"]).unwrap();
        assert_eq!(rule.extra(), ["src", "promo_*"]);
        assert_eq!(
            lookup_form("https://example.org/a?SRC=nl&promo_x=1&promo=2", &rule).unwrap(),
            "https://example.org/a?promo=2"
        );
        assert_eq!(
            key("https://example.org/a?src=nl"),
            "https://example.org/a?src=nl"
        );
        assert!(UrlRule::new(["a=b"]).is_err());
        assert!(UrlRule::new(["*"]).is_err());
        assert!(UrlRule::new(["a b"]).is_err());
        assert!(UrlRule::new(["a*b"]).is_err());
    }

    #[test]
    fn the_fingerprint_names_the_revision_and_the_extras_in_order() {
        assert_eq!(UrlRule::default().fingerprint(), "rule 2; extra: ");
        assert_eq!(
            UrlRule::new(["b", "a", "b"]).unwrap().fingerprint(),
            UrlRule::new(["a", "b"]).unwrap().fingerprint()
        );
        assert_ne!(
            UrlRule::new(["a"]).unwrap().fingerprint(),
            UrlRule::default().fingerprint()
        );
    }

    #[test]
    fn the_stored_form_keeps_the_address() {
        assert_eq!(
            stored_form("HTTP://WWW.Example.org/a/amp/?utm_source=x&mc_cid=1&id=7#c").unwrap(),
            "http://www.example.org/a/amp?id=7"
        );
    }

    #[test]
    fn only_web_addresses_are_taken() {
        let rule = UrlRule::default();
        assert!(lookup_form("ftp://example.org/a", &rule).is_err());
        assert!(lookup_form("/relative", &rule).is_err());
        assert!(lookup_form("mailto:desk@example.org", &rule).is_err());
        assert!(stored_form("/relative").is_err());
    }

    #[test]
    fn rekeying_moves_changed_keys_and_keeps_the_older_of_two_that_meet() {
        let at = |s: i64| OffsetDateTime::from_unix_timestamp(s).unwrap();
        let row = |key: &str, url: &str, t: i64| StoredUrl {
            key: key.into(),
            source_id: SourceId::new(),
            url: url.into(),
            alias: false,
            created_at: at(t),
        };
        let same = row("https://a.example/x", "https://a.example/x", 1);
        let old_https = row("https://b.example/y", "https://b.example/y", 2);
        let old_http = row("http://b.example/y", "http://b.example/y", 1);
        let www = row("https://www.c.example/z", "https://www.c.example/z", 3);
        let rules = rekey(
            vec![
                old_https.clone(),
                www.clone(),
                same.clone(),
                old_http.clone(),
            ],
            &UrlRule::default(),
        );
        // The http row is older: it keeps the folded key; the https one is dropped.
        let moved_http = StoredUrl {
            key: "https://b.example/y".into(),
            ..old_http.clone()
        };
        let moved_www = StoredUrl {
            key: "https://c.example/z".into(),
            ..www.clone()
        };
        assert_eq!(
            rules.moved,
            vec![
                ("http://b.example/y".to_owned(), moved_http.clone()),
                ("https://www.c.example/z".to_owned(), moved_www)
            ]
        );
        assert_eq!(rules.dropped, vec![(old_https, moved_http)]);
        // Under the rule it was computed with, nothing moves.
        let again = rekey(vec![same], &UrlRule::default());
        assert_eq!(again, Rekeying::default());
    }
}

//! schema.org ClaimReview markup for a published verdict, as Google's fact-check documentation
//! describes its fields, plus what schema.org cannot say: the exact passage each appearance
//! quotes (W3C Web Annotation selectors, the version and its SHA-256), under the `ct:` and
//! `oa:` prefixes declared in `@context`, which schema.org consumers ignore.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::model::{Claim, Passage, SourceRef};
use super::review::{RatingScale, Review, State};

/// Namespace of the extension terms (`ct:`), documented in the README.
pub const EXTENSION_NS: &str = "https://claimtrail.dev/ns#";
/// Longest `claimReviewed` Google shows in full.
pub const CLAIM_REVIEWED_MAX: usize = 75;

/// The organisation that publishes verdicts (ClaimReview `author`), from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub name: String,
    pub url: String,
    pub logo: Option<String>,
}

/// Where a claim appeared: a passage, its source and what the source says of itself.
#[derive(Debug, Clone)]
pub struct Appearance {
    pub passage: Passage,
    pub source: SourceRef,
    /// The source's title as a person or its metadata stated it; `None` when an import made
    /// the title up from the text (the markup then has no `headline`).
    pub headline: Option<String>,
    pub source_published_at: Option<String>,
    pub authors: Vec<String>,
    /// SHA-256 of the version the passage is on.
    pub version_sha256: String,
}

/// A published (or superseded) verdict with what its markup needs.
pub struct Markup<'a> {
    pub review: &'a Review,
    pub claim: &'a Claim,
    pub scale: &'a RatingScale,
    pub org: &'a Organization,
    /// Where the claim appeared, in the order to show them; the earliest is taken as the
    /// first appearance.
    pub appearances: &'a [Appearance],
    /// For a superseded verdict: the correction that replaced it (its `published_url` is its
    /// public page).
    pub superseded_by: Option<&'a Review>,
    /// For a correction: the verdict it corrects.
    pub corrects: Option<&'a Review>,
    /// The service's public base URL (`https://claims.example.org`), for the `ct:` links to
    /// its own documents; without it they are left out, since every URL in the document is
    /// absolute.
    pub public_base: Option<&'a str>,
}

/// An absolute link to a review's document under the service's public base URL.
fn own_link(base: Option<&str>, review: impl std::fmt::Display, tail: &str) -> Option<String> {
    base.map(|b| format!("{}/v1/reviews/{review}{tail}", b.trim_end_matches('/')))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Sort key of a stated publication date: dates and date-times compare as text once both are
/// RFC 3339 or `YYYY-MM-DD`; unknown dates go last.
fn date_key(a: &Appearance) -> (bool, String) {
    (
        a.source_published_at.is_none(),
        a.source_published_at.clone().unwrap_or_default(),
    )
}

fn creative_work(a: &Appearance) -> Value {
    let mut work = Map::new();
    work.insert("@type".into(), json!("CreativeWork"));
    if let Some(url) = &a.source.url {
        work.insert("url".into(), json!(url));
    }
    if let Some(headline) = &a.headline {
        work.insert("headline".into(), json!(headline));
    }
    if let Some(p) = &a.source.publisher {
        work.insert(
            "publisher".into(),
            json!({"@type": "Organization", "name": p}),
        );
    }
    if let Some(d) = &a.source_published_at {
        work.insert("datePublished".into(), json!(d));
    }
    if !a.authors.is_empty() {
        let authors: Vec<Value> = a
            .authors
            .iter()
            .map(|n| json!({"@type": "Person", "name": n}))
            .collect();
        work.insert("author".into(), Value::Array(authors));
    }
    let p = &a.passage;
    work.insert(
        "ct:passage".into(),
        json!({
            "@id": format!("urn:uuid:{}", p.id),
            "ct:version": p.version,
            "ct:sha256": a.version_sha256,
            "oa:hasSelector": [
                {"@type": "oa:TextQuoteSelector", "oa:exact": p.exact, "oa:prefix": p.prefix, "oa:suffix": p.suffix},
                {"@type": "oa:TextPositionSelector", "oa:start": p.start, "oa:end": p.end},
            ],
        }),
    );
    Value::Object(work)
}

/// The rating: `ratingValue` only for a numeric rating inside the scale's range; the label
/// always, as `alternateName`.
fn rating(review: &Review, scale: &RatingScale) -> Value {
    let mut r = Map::new();
    r.insert("@type".into(), json!("Rating"));
    let (lo, hi) = (
        scale.worst_rating.min(scale.best_rating),
        scale.worst_rating.max(scale.best_rating),
    );
    if let Some(v) = review.rating.value.filter(|v| (lo..=hi).contains(v)) {
        r.insert("ratingValue".into(), json!(v));
    }
    r.insert("bestRating".into(), json!(scale.best_rating));
    r.insert("worstRating".into(), json!(scale.worst_rating));
    r.insert("alternateName".into(), json!(review.rating.label));
    Value::Object(r)
}

/// The ClaimReview document.
pub fn claim_review(m: &Markup<'_>) -> Value {
    let review = m.review;
    let mut doc = Map::new();
    doc.insert(
        "@context".into(),
        json!(["https://schema.org", {"ct": EXTENSION_NS, "oa": "http://www.w3.org/ns/oa#"}]),
    );
    doc.insert("@type".into(), json!("ClaimReview"));
    if let Some(url) = &review.published_url {
        doc.insert("url".into(), json!(url));
    }
    doc.insert("claimReviewed".into(), json!(m.claim.text));
    if let Some(at) = review.published_at {
        doc.insert("datePublished".into(), json!(rfc3339(at)));
    }
    let mut author = json!({"@type": "Organization", "name": m.org.name, "url": m.org.url});
    if let Some(logo) = &m.org.logo {
        author["logo"] = json!({"@type": "ImageObject", "url": logo});
    }
    doc.insert("author".into(), author);
    doc.insert("reviewRating".into(), rating(review, m.scale));
    let mut item = Map::new();
    item.insert("@type".into(), json!("Claim"));
    if let Some(who) = &m.claim.claimant {
        let kind = m.claim.claimant_kind.schema_type();
        item.insert("author".into(), json!({"@type": kind, "name": who}));
    }
    let mut sorted: Vec<&Appearance> = m.appearances.iter().collect();
    sorted.sort_by_key(|a| date_key(a));
    if let Some(first) = sorted.first() {
        if let Some(d) = &first.source_published_at {
            item.insert("datePublished".into(), json!(d));
        }
        item.insert("firstAppearance".into(), creative_work(first));
        item.insert(
            "appearance".into(),
            Value::Array(sorted.iter().map(|a| creative_work(a)).collect()),
        );
    }
    doc.insert("itemReviewed".into(), Value::Object(item));
    if let Some(link) = own_link(m.public_base, review.id, "") {
        doc.insert("ct:review".into(), json!(link));
    }
    if let Some(old) = review.corrects {
        // schema.org: the verdict this one is a modification of. Its page (`url`) when it has
        // one, and its own markup under the public base URL (`@id`).
        let mut based_on = Map::new();
        based_on.insert("@type".into(), json!("ClaimReview"));
        if let Some(link) = own_link(m.public_base, old, "/claimreview") {
            based_on.insert("@id".into(), json!(link));
            doc.insert("ct:corrects".into(), json!(link));
        }
        if let Some(corrected) = m.corrects.filter(|c| c.id == old) {
            if let Some(url) = &corrected.published_url {
                based_on.insert("url".into(), json!(url));
            }
            if let Some(at) = corrected.published_at {
                based_on.insert("datePublished".into(), json!(rfc3339(at)));
            }
        }
        doc.insert("isBasedOn".into(), Value::Object(based_on));
    }
    if review.state == State::Superseded
        && let Some(by) = m.superseded_by
    {
        let mut correction = json!({
            "@type": "CorrectionComment",
            "text": format!("This verdict was corrected; the correction rates the claim {:?}.", by.rating.label),
        });
        if let Some(url) = &by.published_url {
            correction["url"] = json!(url);
        }
        if let Some(at) = by.published_at {
            correction["datePublished"] = json!(rfc3339(at));
        }
        doc.insert("correction".into(), correction);
        if let Some(link) = own_link(m.public_base, by.id, "/claimreview") {
            doc.insert("ct:supersededBy".into(), json!(link));
        }
    }
    Value::Object(doc)
}

/// What a newsroom should fix before the markup is shown in search results: not errors,
/// since the verdict stands either way.
pub fn warnings(claim_text: &str, published_url: Option<&str>, org: &Organization) -> Vec<String> {
    let mut out = Vec::new();
    let n = claim_text.chars().count();
    if n > CLAIM_REVIEWED_MAX {
        out.push(format!(
            "claimReviewed is {n} characters; Google shows at most {CLAIM_REVIEWED_MAX}: state the claim more briefly"
        ));
    }
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    };
    match published_url {
        None => out.push(
            "no published_url: ClaimReview needs the URL of the page that publishes the verdict"
                .into(),
        ),
        Some(u) => {
            let (page, org_host) = (host(u), host(&org.url));
            if page != org_host {
                out.push(format!(
                    "published_url's host {} differs from the organisation's ({}): search engines expect the fact-check on the publisher's own site",
                    page.unwrap_or_default(),
                    org_host.unwrap_or_default()
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Organization {
        Organization {
            name: "Desk".into(),
            url: "https://desk.example.org/".into(),
            logo: None,
        }
    }

    #[test]
    fn long_claims_and_foreign_hosts_are_warned_about() {
        assert!(warnings("short", Some("https://desk.example.org/fc/1"), &org()).is_empty());
        let w = warnings(&"x".repeat(76), Some("https://other.example/fc/1"), &org());
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("76 characters"));
        assert!(w[1].contains("other.example"));
        assert_eq!(warnings(&"x".repeat(75), None, &org()).len(), 1);
    }
}

//! What the change feed and webhooks announce: which changes, to whom, with what payload.
//! Payloads are thin (ids and links): a receiver fetches the rest with its own key, so it never
//! sees more than its role may.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ids::{ReviewId, SourceId};
use super::review::State;

/// A kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ChangeKind {
    /// A verdict was published (not a correction).
    #[serde(rename = "review.published")]
    ReviewPublished,
    /// A correction was published; it names the verdict it superseded.
    #[serde(rename = "review.corrected")]
    ReviewCorrected,
    /// A published verdict was retracted (a tombstone in the feed).
    #[serde(rename = "review.retracted")]
    ReviewRetracted,
    /// A new version of a source was stored.
    #[serde(rename = "source.version_added")]
    SourceVersionAdded,
    /// A passage's words changed, or it was lost, in a new version of its source.
    #[serde(rename = "passage.changed")]
    PassageChanged,
    /// A published verdict's page (`published_url`) was set, changed or cleared.
    #[serde(rename = "review.updated")]
    ReviewUpdated,
    /// A claim with a published verdict was corrected (text, claimant) or found in another
    /// article.
    #[serde(rename = "claim.updated")]
    ClaimUpdated,
    /// An article carrying a published verdict's claim changed what the lookup shows of it:
    /// its URL, an alias, its title or publisher.
    #[serde(rename = "source.updated")]
    SourceUpdated,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 8] = [
        ChangeKind::ReviewPublished,
        ChangeKind::ReviewCorrected,
        ChangeKind::ReviewRetracted,
        ChangeKind::ReviewUpdated,
        ChangeKind::ClaimUpdated,
        ChangeKind::SourceUpdated,
        ChangeKind::SourceVersionAdded,
        ChangeKind::PassageChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::ReviewPublished => "review.published",
            ChangeKind::ReviewCorrected => "review.corrected",
            ChangeKind::ReviewRetracted => "review.retracted",
            ChangeKind::SourceVersionAdded => "source.version_added",
            ChangeKind::PassageChanged => "passage.changed",
            ChangeKind::ReviewUpdated => "review.updated",
            ChangeKind::ClaimUpdated => "claim.updated",
            ChangeKind::SourceUpdated => "source.updated",
        }
    }

    /// When it is sent, and what its payload names (the contract's `webhooks` section).
    pub fn describe(self) -> &'static str {
        match self {
            ChangeKind::ReviewPublished => "A verdict was published (not a correction).",
            ChangeKind::ReviewCorrected => {
                "A correction was published; `supersedes` names the verdict it replaced."
            }
            ChangeKind::ReviewRetracted => {
                "A published verdict was retracted: remove its markup (a tombstone)."
            }
            ChangeKind::ReviewUpdated => {
                "A published verdict's page (`published_url`) was set, changed or cleared."
            }
            ChangeKind::ClaimUpdated => {
                "A claim with a published verdict was corrected (text, claimant) or recorded in \
                 another article."
            }
            ChangeKind::SourceUpdated => {
                "An article that carries a published verdict's claim changed what the lookup \
                 shows: its URL, an alias, its title or publisher."
            }
            ChangeKind::SourceVersionAdded => {
                "A new version of a source was stored (editorial roles only)."
            }
            ChangeKind::PassageChanged => {
                "A passage's words changed, or it was lost, in a new version of its source \
                 (editorial roles only)."
            }
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Integrations see publications, corrections and retractions; editorial roles see all.
    pub fn is_public(self) -> bool {
        !matches!(
            self,
            ChangeKind::SourceVersionAdded | ChangeKind::PassageChanged
        )
    }

    /// Whether the feed shows it as a tombstone: the entity is gone from public view.
    pub fn is_tombstone(self) -> bool {
        self == ChangeKind::ReviewRetracted
    }
}

/// The change a workflow step announces, if any.
pub fn for_transition(to: State, corrects: Option<ReviewId>) -> Option<ChangeKind> {
    match (to, corrects) {
        (State::Published, None) => Some(ChangeKind::ReviewPublished),
        (State::Published, Some(_)) => Some(ChangeKind::ReviewCorrected),
        (State::Retracted, _) => Some(ChangeKind::ReviewRetracted),
        _ => None,
    }
}

/// What a public change affects, named in its payload so that a CMS cache keyed on them is
/// exact: every lookup URL (in lookup form) whose answer changed, and every review whose
/// ClaimReview changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Affected {
    pub urls: Vec<String>,
    pub reviews: Vec<ReviewId>,
}

impl Affected {
    /// Adds `urls` (kept sorted, once each).
    pub fn with_urls(mut self, urls: impl IntoIterator<Item = String>) -> Affected {
        self.urls.extend(urls);
        self.urls.sort();
        self.urls.dedup();
        self
    }

    pub fn with_reviews(mut self, reviews: impl IntoIterator<Item = ReviewId>) -> Affected {
        self.reviews.extend(reviews);
        self.reviews.sort();
        self.reviews.dedup();
        self
    }

    /// Writes `urls` and `reviews` into a payload.
    pub fn into_data(self, mut data: ChangeData) -> ChangeData {
        data.urls = Some(self.urls);
        data.reviews = Some(self.reviews.into_iter().map(ReviewId::uuid).collect());
        data
    }
}

/// The changed entity's id and links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = WebhookData)]
pub struct ChangeData {
    /// The review (for `review.*`), the claim (`claim.updated`), the source
    /// (`source.updated`, `source.version_added`), the passage (`passage.changed`) or the
    /// endpoint (`webhook.test`).
    pub id: Uuid,
    /// Where to read it: `review`, `claimreview`; `claim`; `source`, `version`, `placements`.
    #[schema(value_type = Object)]
    pub links: BTreeMap<&'static str, String>,
    /// `review.*`, `claim.updated`, `source.updated`: every URL (in lookup form) whose
    /// `GET /v1/lookup` answer changed. A cache keyed on lookup URLs drops these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    /// `review.*`, `claim.updated`, `source.updated`: every review whose ClaimReview (or
    /// public view) changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews: Option<Vec<Uuid>>,
    /// `review.corrected`: the verdict the correction superseded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<Uuid>,
    /// `source.version_added`, `passage.changed`: the new version's number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// `passage.changed`: the passage's source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<Uuid>,
    /// `passage.changed`: `changed` or `orphaned` on the new version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl ChangeData {
    /// An entity's id and its links (name, path).
    pub fn new(id: Uuid, links: &[(&'static str, String)]) -> ChangeData {
        ChangeData {
            id,
            links: links.iter().cloned().collect(),
            urls: None,
            reviews: None,
            supersedes: None,
            version: None,
            source_id: None,
            state: None,
        }
    }
}

/// The payload of a claim change: the claim's id and link.
pub fn claim_data(id: super::ids::ClaimId) -> ChangeData {
    ChangeData::new(id.uuid(), &[("claim", format!("/v1/claims/{id}"))])
}

/// The payload of a source change: the source's id and link.
pub fn source_data(id: SourceId) -> ChangeData {
    ChangeData::new(id.uuid(), &[("source", format!("/v1/sources/{id}"))])
}

/// The payload of a review change: its id, links, and for a correction the verdict it
/// superseded.
pub fn review_data(kind: ChangeKind, id: ReviewId, corrects: Option<ReviewId>) -> ChangeData {
    let mut links = vec![("review", format!("/v1/reviews/{id}"))];
    if kind != ChangeKind::ReviewRetracted {
        links.push(("claimreview", format!("/v1/reviews/{id}/claimreview")));
    }
    let mut data = ChangeData::new(id.uuid(), &links);
    if let (ChangeKind::ReviewCorrected, Some(old)) = (kind, corrects) {
        data.supersedes = Some(old.uuid());
    }
    data
}

pub fn version_data(source_id: SourceId, number: i64) -> ChangeData {
    let mut data = ChangeData::new(
        source_id.uuid(),
        &[
            ("source", format!("/v1/sources/{source_id}")),
            (
                "version",
                format!("/v1/sources/{source_id}/versions/{number}"),
            ),
            (
                "placements",
                format!("/v1/sources/{source_id}/versions/{number}/placements"),
            ),
        ],
    );
    data.version = Some(number);
    data
}

/// The payload of a passage whose placement on a new version is `changed` or `orphaned`.
pub fn passage_data(
    passage_id: super::ids::PassageId,
    source_id: SourceId,
    version: i64,
    state: &str,
) -> ChangeData {
    let mut data = ChangeData::new(
        passage_id.uuid(),
        &[
            ("passage", format!("/v1/passages/{passage_id}")),
            (
                "placements",
                format!("/v1/passages/{passage_id}/placements"),
            ),
        ],
    );
    data.source_id = Some(source_id.uuid());
    data.version = Some(version);
    data.state = Some(state.to_owned());
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_announce_publication_correction_and_retraction_only() {
        let old = ReviewId::new();
        assert_eq!(
            for_transition(State::Published, None),
            Some(ChangeKind::ReviewPublished)
        );
        assert_eq!(
            for_transition(State::Published, Some(old)),
            Some(ChangeKind::ReviewCorrected)
        );
        assert_eq!(
            for_transition(State::Retracted, None),
            Some(ChangeKind::ReviewRetracted)
        );
        for quiet in [State::InReview, State::Approved, State::ChangesRequested] {
            assert_eq!(for_transition(quiet, None), None);
        }
        let data = review_data(ChangeKind::ReviewCorrected, ReviewId::new(), Some(old));
        assert_eq!(data.supersedes, Some(old.uuid()));
        // A payload names only what its kind has (no `null` members).
        let json = serde_json::to_value(&data).unwrap();
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["id", "links", "supersedes"]
        );
        for k in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
        }
        assert!(!ChangeKind::SourceVersionAdded.is_public());
        for k in [
            ChangeKind::ReviewUpdated,
            ChangeKind::ClaimUpdated,
            ChangeKind::SourceUpdated,
        ] {
            assert!(k.is_public(), "{k:?}");
        }
    }

    #[test]
    fn affected_urls_and_reviews_are_named_once_each_in_order() {
        let (a, b) = (ReviewId::new(), ReviewId::new());
        let data = Affected::default()
            .with_urls([
                "https://b.example/x".to_owned(),
                "https://a.example/".to_owned(),
            ])
            .with_urls(["https://a.example/".to_owned()])
            .with_reviews([b, a, b])
            .into_data(claim_data(super::super::ids::ClaimId::new()));
        assert_eq!(
            data.urls.unwrap(),
            ["https://a.example/", "https://b.example/x"]
        );
        let mut both = vec![a.uuid(), b.uuid()];
        both.sort();
        assert_eq!(data.reviews.unwrap(), both);
    }
}

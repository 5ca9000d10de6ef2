//! The records claimtrail keeps, as the API shows them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::domain::anchor::reanchor::{Change, Orphan, PlacementMethod, PlacementState};
use uuid::Uuid;

use super::checked::{BodyText, PublishedAt, ShortText, WebUrl};
use super::ids::{ClaimId, EvidenceId, PassageId, SourceId};

/// One stored version of a source's text. Immutable once written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Version {
    /// 1 for the first capture, then 2, 3, ...
    #[schema(example = 1)]
    pub number: i64,
    /// SHA-256 of the UTF-8 text, lower-case hex.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    /// Length of the text in Unicode code points (the unit of passage positions).
    #[schema(example = 5120)]
    pub length: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub captured_at: OffsetDateTime,
}

/// A version with its text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionText {
    pub source_id: SourceId,
    #[serde(flatten)]
    pub version: Version,
    /// The text exactly as stored.
    pub text: String,
}

/// An article, report or transcript, with its latest version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Source {
    pub id: SourceId,
    #[schema(example = "Sample: Town council budget debate")]
    pub title: String,
    /// Normalized absolute URL, unique among sources.
    #[schema(example = "https://example.org/news/budget-debate")]
    pub url: Option<String>,
    pub publisher: Option<String>,
    pub authors: Vec<String>,
    /// As the source states it: a date or an RFC 3339 date-time.
    #[schema(example = "2024-05-01")]
    pub published_at: Option<String>,
    /// What it is: `news`, `opinion`, `report`, `transcript`, ... (a lower-case label).
    #[schema(example = "news", pattern = "^[a-z][a-z0-9_]{0,31}$")]
    pub kind: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The latest version.
    pub version: Version,
    /// When storing a source: what the desk should know (another source with the same text).
    /// Absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<SourceWarning>>,
}

impl Source {
    /// Whether the metadata a client may correct (title, URL, publisher, authors, date, kind)
    /// is the same: a correction that changes none of it writes nothing.
    pub fn same_metadata(&self, other: &Source) -> bool {
        (
            &self.title,
            &self.url,
            &self.publisher,
            &self.authors,
            &self.published_at,
            &self.kind,
        ) == (
            &other.title,
            &other.url,
            &other.publisher,
            &other.authors,
            &other.published_at,
            &other.kind,
        )
    }
}

/// Something worth knowing about a source just stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceWarning {
    /// `duplicate-text`: another source has a version with exactly this text.
    #[schema(example = "duplicate-text")]
    pub code: String,
    pub message: String,
    /// The other source.
    pub source_id: SourceId,
    /// Its version with the same text.
    pub version: i64,
}

/// The source a passage belongs to, in short.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceRef {
    pub id: SourceId,
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
}

/// An exact span of one version of a source (W3C Web Annotation text selectors).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Passage {
    pub id: PassageId,
    pub source_id: SourceId,
    /// The version number the positions refer to.
    pub version: i64,
    /// First code point, counted from 0 (TextPositionSelector `start`).
    pub start: i64,
    /// Code point after the last one (TextPositionSelector `end`, exclusive).
    pub end: i64,
    /// The document's own characters in the span (TextQuoteSelector `exact`).
    pub exact: String,
    /// Up to 32 code points before the span.
    pub prefix: String,
    /// Up to 32 code points after the span.
    pub suffix: String,
    /// `start` in UTF-16 code units, as DOM ranges count.
    pub start_utf16: i64,
    /// `end` in UTF-16 code units.
    pub end_utf16: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The quote as the person pasted it (ellipses, quote marks and all), when the passage
    /// was made from a quote; `exact` is the source's own text. `null` for a passage selected
    /// by positions or stored before this was kept.
    pub pasted: Option<String>,
}

/// A passage with the source it comes from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourcedPassage {
    pub passage: Passage,
    pub source: SourceRef,
}

/// How a piece of evidence bears on a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    Supports,
    Contradicts,
    Context,
}

impl Stance {
    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Supports => "supports",
            Stance::Contradicts => "contradicts",
            Stance::Context => "context",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Stance::Supports, Stance::Contradicts, Stance::Context]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// A passage offered for or against a claim.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Evidence {
    pub id: EvidenceId,
    pub claim_id: ClaimId,
    pub stance: Stance,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub passage: Passage,
    pub source: SourceRef,
    /// Set when the evidence was withdrawn: it stays on record (reviews that cited it still
    /// name it) but new reviews may not rest on it.
    pub withdrawn: Option<Withdrawal>,
    /// When adding evidence: what the desk should know (`self-support`: the passage is where
    /// the claim itself appeared). Absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<RecordWarning>>,
}

/// Something worth knowing about a claim or evidence just recorded: it was recorded anyway.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordWarning {
    /// `duplicate-claim` (another claim has the same text once white space, case and quote
    /// marks are normalized) or `self-support` (a claim's own appearance as its supporting
    /// evidence).
    #[schema(example = "duplicate-claim")]
    pub code: String,
    pub message: String,
    /// For `duplicate-claim`: the existing claim with the same text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<ClaimId>,
    /// For `duplicate-claim`: the closest existing claims (as `GET /v1/claims/similar` ranks
    /// them), the same-text one included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similar: Option<Vec<crate::domain::search::SimilarClaim>>,
}

/// Who withdrew a record, when and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Withdrawal {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Handle of the person who withdrew it.
    pub by: String,
    pub note: String,
}

impl RecordWarning {
    /// The `self-support` warning: a claim's own appearance offered as evidence that supports
    /// it (a claim cannot support itself). `None` for other stances or other passages.
    pub fn self_support(
        claim_id: ClaimId,
        stance: Stance,
        appeared: bool,
    ) -> Option<RecordWarning> {
        (appeared && stance == Stance::Supports).then(|| RecordWarning {
            code: "self-support".into(),
            message: format!(
                "This passage is where claim {claim_id} itself appeared: a claim cannot support \
                 itself. The evidence was recorded anyway; give a passage from another source \
                 (or withdraw this evidence), or record it as `context`."
            ),
            claim_id: None,
            similar: None,
        })
    }
}

/// A checkable statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Claim {
    pub id: ClaimId,
    #[schema(example = "The new bridge cost $4 billion.")]
    pub text: String,
    /// Who made the claim, as a name.
    pub claimant: Option<String>,
    /// Whether the claimant is a person or an organization (ClaimReview's `Person` or
    /// `Organization`); `person` unless said.
    pub claimant_kind: ClaimantKind,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What kind of agent a claimant is: schema.org requires a type for the claim's author, and
/// "Washington Post" is not a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimantKind {
    /// A person (schema.org `Person`); the default, as every claimant was before it could be
    /// told apart.
    #[default]
    Person,
    /// A newspaper, a ministry, a company, a party (schema.org `Organization`).
    Organization,
}

impl ClaimantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimantKind::Person => "person",
            ClaimantKind::Organization => "organization",
        }
    }

    pub fn parse(s: &str) -> Option<ClaimantKind> {
        match s {
            "person" => Some(ClaimantKind::Person),
            "organization" => Some(ClaimantKind::Organization),
            _ => None,
        }
    }

    /// The schema.org type of such an agent.
    pub fn schema_type(self) -> &'static str {
        match self {
            ClaimantKind::Person => "Person",
            ClaimantKind::Organization => "Organization",
        }
    }
}

/// A claim as lists show it, with its current review: the published verdict if there is one,
/// else the newest review in progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimItem {
    #[serde(flatten)]
    pub claim: Claim,
    pub review: Option<ReviewSummary>,
    /// With `q`: where the query matched in the claim's text; else `null`.
    #[serde(rename = "match")]
    pub matched: Option<crate::domain::search::TextMatch>,
}

/// A review's state and rating, for lists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewSummary {
    pub id: crate::domain::ids::ReviewId,
    pub state: crate::domain::review::State,
    pub rating: crate::domain::review::Rating,
}

/// A claim with where it appeared and the evidence about it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClaimView {
    #[serde(flatten)]
    pub claim: Claim,
    pub appearances: Vec<SourcedPassage>,
    pub evidence: Vec<Evidence>,
    /// The current published verdict, if any.
    pub verdict: Option<crate::domain::review::Review>,
    /// Every review of the claim, oldest first, with its history.
    pub reviews: Vec<crate::domain::review::Review>,
    /// Appearances and evidence whose passage changed or was lost in the latest version of
    /// its source, and that nobody has confirmed since.
    pub attention: Vec<Attention>,
    /// Whether the published verdict rests on evidence listed in `attention`: flagged for a
    /// fact-checker, never altered.
    pub verdict_needs_recheck: bool,
    /// When creating a claim: what the desk should know (`duplicate-claim`). Absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<RecordWarning>>,
}

/// A passage of a claim that a new version of its source changed or lost.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attention {
    pub passage_id: PassageId,
    /// Whether the passage is where the claim appeared or evidence for it.
    pub role: PassageRole,
    pub placement: Placement,
}

// Ordered as listed: a claim's attention lists appearances first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PassageRole {
    Appearance,
    Evidence,
}

/// Where a passage stands in a later version of its source. A passage never moves: it stays
/// on the version it was made on, and placements follow the source's revisions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Placement {
    pub passage_id: PassageId,
    pub source_id: SourceId,
    pub version: i64,
    pub state: PlacementState,
    /// How it was found; `null` when orphaned by the search.
    pub method: Option<PlacementMethod>,
    /// Code points, as for passages; `null` when orphaned.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub start_utf16: Option<i64>,
    pub end_utf16: Option<i64>,
    /// The text now at the placement; `null` when orphaned.
    pub exact: Option<String>,
    /// 1 when placed; how much of the text remains (0 to 1) when changed; see the README.
    pub score: f64,
    /// What differs, when changed.
    pub change: Option<Change>,
    /// Why, when orphaned.
    pub orphan: Option<Orphan>,
    /// The key that confirmed or placed it by hand.
    pub reviewed_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub reviewed_at: Option<OffsetDateTime>,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub placed_at: OffsetDateTime,
    /// The text a placement must still have to be `placed`.
    #[serde(skip)]
    pub baseline: String,
}

impl Placement {
    /// Whether a person should look at it: changed or orphaned, and not yet confirmed.
    pub fn needs_attention(&self) -> bool {
        self.state != PlacementState::Placed && self.reviewed_at.is_none()
    }
}

/// Every placement made when a version was added, with counts per state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionReport {
    pub source_id: SourceId,
    pub version: i64,
    /// The version the passages were placed from.
    pub previous: i64,
    pub placed: usize,
    pub changed: usize,
    pub orphaned: usize,
    pub placements: Vec<Placement>,
}

/// One page of a list. Pass `next_cursor` back as `cursor` for the next page; it is `null`
/// on the last page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The order of a list: oldest first (the default) or newest first. Ids are UUIDv7, so id
/// order is creation order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Oldest first.
    #[default]
    Asc,
    /// Newest first.
    Desc,
}

impl Order {
    /// Where the first page starts: before every id, or after every id.
    pub fn start(self) -> Uuid {
        match self {
            Order::Asc => Uuid::nil(),
            Order::Desc => Uuid::max(),
        }
    }

    pub fn is_desc(self) -> bool {
        self == Order::Desc
    }
}

/// A position in a list ordered by id (ids are UUIDv7, so by creation time). Opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub Uuid);

impl Cursor {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    pub fn decode(s: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
        Uuid::from_slice(&bytes).ok().map(Cursor)
    }
}

/// A validated source ready to be written with its first version.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub title: ShortText,
    pub url: Option<WebUrl>,
    pub publisher: Option<ShortText>,
    pub authors: Vec<ShortText>,
    pub published_at: Option<PublishedAt>,
    pub kind: Option<super::checked::SourceKind>,
    /// Where an import found it (e.g. `file:003_x.txt`), so re-imports add no duplicate.
    pub import_key: Option<String>,
    /// `url` in lookup form under the rule in force ([`super::urls::lookup_form`]).
    pub url_key: Option<String>,
    /// The title was made up from the text (an import without one): ClaimReview leaves
    /// `headline` out.
    pub title_derived: bool,
}

/// A version's text with what is computed from it once.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub text: BodyText,
    pub sha256: String,
    pub length: i64,
    /// Its numeric mentions, stored with it.
    pub mentions: Vec<crate::domain::statistics::Mention>,
    /// Its words as the search index takes them ([`crate::domain::search::index_text`]).
    pub index_text: String,
}

impl NewVersion {
    pub fn new(text: BodyText) -> Self {
        NewVersion {
            sha256: sha256_hex(text.as_str()),
            length: text.as_str().chars().count() as i64,
            mentions: crate::domain::statistics::extract(text.as_str()),
            index_text: crate::domain::search::index_text(text.as_str()),
            text,
        }
    }
}

/// Whether a write made something new or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Existing,
}

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// SHA-256 of a text, lower-case hex.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A new id: UUIDv7, so that ids sort by creation time and serve as cursors.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let id = new_id();
        assert_eq!(Cursor::decode(&Cursor(id).encode()), Some(Cursor(id)));
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode("AAAA"), None);
    }

    #[test]
    fn sha256_is_of_the_utf8_bytes() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn stance_names_round_trip() {
        for s in [Stance::Supports, Stance::Contradicts, Stance::Context] {
            assert_eq!(Stance::parse(s.as_str()), Some(s));
        }
        assert_eq!(Stance::parse("refutes"), None);
    }
}

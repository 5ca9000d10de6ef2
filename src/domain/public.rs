//! What integrations (a CMS) see: published facts only. No workflow history, notes, key names,
//! revisions or other internal editorial data; each view is built field by field from the
//! full record, so a field added to the record stays internal until it is added here.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::ids::{ClaimId, EvidenceId, PassageId, ReviewId, SourceId};
use super::model::{Claim, Evidence, Stance};
use super::review::{Rating, Review, State};

/// The claim a verdict is about.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicClaim {
    pub id: ClaimId,
    #[schema(example = "The new bridge cost $4 billion.")]
    pub text: String,
    /// Who made the claim, as a name.
    pub claimant: Option<String>,
    /// Whether the claimant is a person or an organization.
    pub claimant_kind: super::model::ClaimantKind,
}

/// A published verdict as an integration sees it (schema.org `ClaimReview` material): the
/// claim, the rating, the reasoning, when it was published, the evidence it rests on and the
/// verdict it corrects.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicReview {
    pub id: ReviewId,
    pub claim: PublicClaim,
    /// Always `published`: integrations read published verdicts only.
    pub state: State,
    /// The rating scale's id (`GET /v1/rating-scales` has its values).
    pub scale: String,
    pub rating: Rating,
    /// Why: the reasoning behind the rating.
    pub summary: String,
    /// Ids of the evidence the verdict rests on (`GET /v1/reviews/{id}/evidence` shows it).
    pub evidence: Vec<EvidenceId>,
    /// The earlier verdict this one corrects.
    pub corrects: Option<ReviewId>,
    /// The correction that superseded this verdict.
    pub superseded_by: Option<ReviewId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// The newsroom page that publishes the verdict.
    pub published_url: Option<String>,
}

impl PublicReview {
    pub fn new(review: Review, claim: Claim) -> PublicReview {
        PublicReview {
            id: review.id,
            claim: PublicClaim {
                id: claim.id,
                text: claim.text,
                claimant: claim.claimant,
                claimant_kind: claim.claimant_kind,
            },
            state: review.state,
            scale: review.scale,
            rating: review.rating,
            summary: review.summary,
            evidence: review.evidence,
            corrects: review.corrects,
            superseded_by: review.superseded_by,
            published_at: review.published_at,
            published_url: review.published_url,
        }
    }
}

/// A verdict as a CMS shows it beside an article. A published verdict in full; one that was
/// corrected or retracted as a stub (state, dates, the public note, what replaced it), so a
/// page can say "corrected" or "retracted" rather than lose it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicVerdict {
    pub review_id: ReviewId,
    /// `published`, `superseded` (a correction replaced it) or `retracted`.
    pub state: State,
    /// The rating; `null` in a stub.
    pub rating: Option<Rating>,
    /// The reasoning; `null` in a stub.
    pub summary: Option<String>,
    pub published_url: Option<String>,
    /// Where its schema.org ClaimReview is served; `null` once retracted.
    pub claimreview: Option<String>,
    /// The earlier verdict this one corrects.
    pub corrects: Option<ReviewId>,
    /// The correction that replaced this verdict.
    pub superseded_by: Option<ReviewId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// When it was corrected or retracted.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// Why it was retracted, or which correction replaced it (the step's note, public).
    pub public_note: Option<String>,
}

impl PublicVerdict {
    /// The public view of a review once published; `None` for one that never was.
    pub fn of(review: &Review) -> Option<PublicVerdict> {
        let full = review.state == State::Published;
        if !matches!(
            review.state,
            State::Published | State::Superseded | State::Retracted
        ) {
            return None;
        }
        let ended = review
            .history
            .iter()
            .rev()
            .find(|e| e.to == review.state && !full);
        Some(PublicVerdict {
            review_id: review.id,
            state: review.state,
            rating: full.then(|| review.rating.clone()),
            summary: full.then(|| review.summary.clone()),
            published_url: review.published_url.clone(),
            claimreview: (review.state != State::Retracted)
                .then(|| format!("/v1/reviews/{}/claimreview", review.id)),
            corrects: review.corrects,
            superseded_by: review.superseded_by,
            published_at: review.published_at,
            ended_at: ended.map(|e| e.at),
            public_note: ended.and_then(|e| e.note.clone()),
        })
    }
}

/// What the lookup by article URL finds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Lookup {
    /// The URL as compared (lookup form: see the README).
    pub url: String,
    /// Sources known by this URL (their own or an alias).
    pub sources: Vec<PublicSource>,
    /// Claims that appear in any version of those sources.
    pub claims: Vec<LookupClaim>,
    /// Verdicts published at this URL (when it is a fact-check page).
    pub reviews: Vec<LookupReview>,
}

/// A claim found in the article, with the spans to highlight and its verdicts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LookupClaim {
    pub claim: PublicClaim,
    /// Where it appears in the article (exact spans of a version).
    pub passages: Vec<PublicPassage>,
    /// The current published verdict, if any.
    pub verdict: Option<PublicVerdict>,
    /// Verdicts that were corrected or retracted, oldest first.
    pub earlier: Vec<PublicVerdict>,
}

/// A verdict published at the URL looked up.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LookupReview {
    pub claim: PublicClaim,
    pub verdict: PublicVerdict,
}

impl From<&Claim> for PublicClaim {
    fn from(c: &Claim) -> PublicClaim {
        PublicClaim {
            id: c.id,
            text: c.text.clone(),
            claimant: c.claimant.clone(),
            claimant_kind: c.claimant_kind,
        }
    }
}

impl From<&super::model::Passage> for PublicPassage {
    fn from(p: &super::model::Passage) -> PublicPassage {
        PublicPassage {
            id: p.id,
            source_id: p.source_id,
            version: p.version,
            start: p.start,
            end: p.end,
            exact: p.exact.clone(),
            prefix: p.prefix.clone(),
            suffix: p.suffix.clone(),
        }
    }
}

/// The exact span a piece of evidence quotes (W3C Web Annotation text selectors).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicPassage {
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
}

/// Where a piece of evidence comes from.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicSource {
    pub id: SourceId,
    pub title: String,
    pub url: Option<String>,
    pub publisher: Option<String>,
}

/// A piece of evidence of a published verdict as an integration sees it: the quoted passage
/// and its source, without the desk's notes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicEvidence {
    pub id: EvidenceId,
    pub stance: Stance,
    pub passage: PublicPassage,
    pub source: PublicSource,
    /// Whether the desk has since withdrawn this evidence (the verdict still names it).
    pub withdrawn: bool,
}

impl From<Evidence> for PublicEvidence {
    fn from(e: Evidence) -> PublicEvidence {
        PublicEvidence {
            id: e.id,
            stance: e.stance,
            withdrawn: e.withdrawn.is_some(),
            passage: PublicPassage {
                id: e.passage.id,
                source_id: e.passage.source_id,
                version: e.passage.version,
                start: e.passage.start,
                end: e.passage.end,
                exact: e.passage.exact,
                prefix: e.passage.prefix,
                suffix: e.passage.suffix,
            },
            source: PublicSource {
                id: e.source.id,
                title: e.source.title,
                url: e.source.url,
                publisher: e.source.publisher,
            },
        }
    }
}

/// A review as the caller's role may see it: the whole `Review` with its history for
/// editorial roles, `PublicReview` (public fields only) for integrations.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ReviewView {
    Review(Review),
    PublicReview(PublicReview),
    /// A verdict corrected or retracted, as integrations see it.
    PublicVerdict(PublicVerdict),
}

/// The evidence of a review as the caller's role may see it: `Evidence` with the desk's notes
/// for editorial roles, `PublicEvidence` for integrations.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum EvidenceView {
    Evidence(Vec<Evidence>),
    PublicEvidence(Vec<PublicEvidence>),
}

/// `anyOf`, not the `oneOf` a derive would write: an empty list is valid as either view.
impl utoipa::PartialSchema for EvidenceView {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::Ref;
        use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder};
        AnyOfBuilder::new()
            .item(ArrayBuilder::new().items(Ref::from_schema_name(Evidence::name())))
            .item(ArrayBuilder::new().items(Ref::from_schema_name(PublicEvidence::name())))
            .description(Some(
                "The evidence of a review as the caller's role may see it: `Evidence` with the \
                 desk's notes for editorial roles, `PublicEvidence` for integrations.",
            ))
            .into()
    }
}

impl ToSchema for EvidenceView {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((Evidence::name().into(), Evidence::schema()));
        <Evidence as ToSchema>::schemas(schemas);
        schemas.push((PublicEvidence::name().into(), PublicEvidence::schema()));
        <PublicEvidence as ToSchema>::schemas(schemas);
    }
}

//! The verification workflow: review states, their transitions and who may make them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{Actor, Permission};
use super::ids::{ClaimId, EvidenceId, ReviewId};

/// Where a review is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Being written; editable.
    Draft,
    /// Submitted; waiting for an editor.
    InReview,
    /// Sent back by an editor; editable, then submitted again.
    ChangesRequested,
    /// Approved by an editor who is not the author; ready to publish.
    Approved,
    /// The public verdict.
    Published,
    /// Withdrawn after publication, with a note.
    Retracted,
    /// Replaced by a published correction. Set only by publishing the correction.
    Superseded,
    /// Given up before publication, with a note (by its author or an editor).
    Withdrawn,
}

/// Parses a list filter's states: one name, or several separated by commas (`draft,in_review`);
/// repeated names count once.
pub fn parse_states(list: &str) -> Result<Vec<State>, String> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim) {
        let state = State::parse(name).ok_or_else(|| {
            let names: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown state `{name}`; states are {}", names.join(", "))
        })?;
        if !out.contains(&state) {
            out.push(state);
        }
    }
    Ok(out)
}

/// A set of states as the stores' list statements take it: `,draft,in_review,` (each name
/// between commas, matched with `LIKE '%,' || state || ',%'`), or `None` for no filter.
pub fn states_param(states: &[State]) -> Option<String> {
    if states.is_empty() {
        return None;
    }
    let mut out = String::from(",");
    for s in states {
        out.push_str(s.as_str());
        out.push(',');
    }
    Some(out)
}

impl State {
    pub const ALL: [State; 8] = [
        State::Draft,
        State::InReview,
        State::ChangesRequested,
        State::Approved,
        State::Published,
        State::Retracted,
        State::Superseded,
        State::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::InReview => "in_review",
            State::ChangesRequested => "changes_requested",
            State::Approved => "approved",
            State::Published => "published",
            State::Retracted => "retracted",
            State::Superseded => "superseded",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The states a person may move a review to from this one.
    pub fn next(self) -> &'static [State] {
        use State::*;
        match self {
            Draft => &[InReview, Withdrawn],
            InReview => &[ChangesRequested, Approved, Withdrawn],
            ChangesRequested => &[InReview, Withdrawn],
            Approved => &[Published, ChangesRequested, Withdrawn],
            Published => &[Retracted],
            Retracted | Superseded | Withdrawn => &[],
        }
    }

    /// Whether content (rating, summary, evidence) may still change.
    pub fn is_editable(self) -> bool {
        matches!(self, State::Draft | State::ChangesRequested)
    }

    /// What moving *to* this state requires of the actor. Withdrawing also lets the author
    /// with `DraftReviews` do it (see [`check`]).
    pub fn permission(self) -> Permission {
        match self {
            State::Draft | State::InReview => Permission::DraftReviews,
            _ => Permission::DecideReviews,
        }
    }

    /// Whether moving to this state must say why.
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            State::Retracted | State::ChangesRequested | State::Withdrawn
        )
    }

    /// Whether the review's workflow is over (nothing can move it any more).
    pub fn is_final(self) -> bool {
        self.next().is_empty()
    }
}

/// One value of a rating scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    /// Stable identifier within the scale, e.g. `mostly_false`.
    #[schema(example = "mostly_false")]
    pub key: String,
    #[schema(example = "Mostly false")]
    pub label: String,
    /// Numeric value for schema.org `ratingValue`; `null` for ratings outside the numeric range
    /// (e.g. Misleading).
    #[schema(example = 2.0)]
    pub value: Option<f64>,
}

/// A rating scale: data, so that newsrooms can use their own.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RatingScale {
    #[schema(example = "default")]
    pub id: String,
    pub name: String,
    /// schema.org `bestRating`: the highest numeric value.
    pub best_rating: f64,
    /// schema.org `worstRating`: the lowest numeric value.
    pub worst_rating: f64,
    /// In display order.
    pub ratings: Vec<Rating>,
}

impl RatingScale {
    pub fn rating(&self, key: &str) -> Option<&Rating> {
        self.ratings.iter().find(|r| r.key == key)
    }
}

/// One step of a review's history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReviewEvent {
    /// `null` when the review was created.
    pub from: Option<State>,
    pub to: State,
    /// Handle of the person who made the step.
    pub actor: String,
    pub note: Option<String>,
    /// Whether the second-person rule was on when this step was made.
    pub second_person_rule: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

/// A verdict on a claim, with its workflow state and history.
/// A workflow step the caller may take now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AllowedStep {
    pub to: State,
    /// Whether the step needs a `note` (retracting, requesting changes).
    pub needs_note: bool,
}

/// The steps `actor` may take from `from` on a review by `author`: allowed by the workflow,
/// by the actor's role and by the second-person rule.
pub fn allowed_steps(
    from: State,
    author: &str,
    actor: &Actor,
    second_person_rule: bool,
) -> Vec<AllowedStep> {
    from.next()
        .iter()
        .filter(|to| {
            check(
                from,
                **to,
                author,
                actor,
                Some("a note"),
                second_person_rule,
            )
            .is_ok()
        })
        .map(|to| AllowedStep {
            to: *to,
            needs_note: to.needs_note(),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Review {
    pub id: ReviewId,
    pub claim_id: ClaimId,
    /// Handle of the person who wrote the review.
    pub author: String,
    pub state: State,
    /// The rating scale's id.
    pub scale: String,
    pub rating: Rating,
    /// Why: the reasoning behind the rating.
    pub summary: String,
    /// Ids of the claim's evidence the review rests on.
    pub evidence: Vec<EvidenceId>,
    /// The published review this one corrects.
    pub corrects: Option<ReviewId>,
    /// The correction that superseded this review.
    pub superseded_by: Option<ReviewId>,
    /// Increases with every change; send it back (as `If-Match` or `revision`) to write.
    pub revision: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<time::OffsetDateTime>,
    /// The newsroom page that publishes the verdict (ClaimReview `url`).
    #[schema(example = "https://factdesk.example/checks/bridge-cost")]
    pub published_url: Option<String>,
    pub history: Vec<ReviewEvent>,
    /// `GET /v1/reviews/{id}`: the steps the caller may take now (absent elsewhere).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_transitions: Option<Vec<AllowedStep>>,
    /// Drafting, stepping and `GET /v1/reviews/{id}`: what will stop this review later, said
    /// while it can still be changed (absent elsewhere; an empty list means nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<ReviewWarning>>,
}

/// A review in the queue (`GET /v1/reviews`), with the claim it is about, so that an editor
/// can pick from the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueItem {
    #[serde(flatten)]
    pub review: Review,
    /// The claim's text.
    pub claim_text: String,
    /// Who made the claim, as a name.
    pub claimant: Option<String>,
}

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WarningCode {
    /// The claim has a published verdict that this review does not correct: publishing it
    /// will be refused (`verdict-exists`).
    VerdictExists,
    /// The verdict is published without `published_url`: its ClaimReview has no `url`, which
    /// search engines require. Set it with `PUT /v1/reviews/{id}/published-url`.
    PublishedUrlMissing,
}

/// Something that will stop a review later.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReviewWarning {
    pub code: WarningCode,
    pub message: String,
    /// The review it is about (the published verdict, for `verdict-exists`; this review, for
    /// `published-url-missing`).
    pub review_id: ReviewId,
}

/// The warnings of `review`, given the ids of its claim's published verdicts.
pub fn warnings(review: &Review, published: &[ReviewId]) -> Vec<ReviewWarning> {
    if matches!(review.state, State::Published | State::Superseded) {
        return match review.published_url {
            Some(_) => Vec::new(),
            None => vec![ReviewWarning {
                code: WarningCode::PublishedUrlMissing,
                message: format!(
                    "The verdict is published without `published_url`, so its ClaimReview has no \
                     `url`, which search engines require to show it. Set the newsroom page that \
                     publishes it with PUT /v1/reviews/{}/published-url.",
                    review.id
                ),
                review_id: review.id,
            }],
        };
    }
    if review.state.is_final() {
        return Vec::new();
    }
    rival_verdict(published, review.id, review.corrects)
        .map(|rival| ReviewWarning {
            code: WarningCode::VerdictExists,
            message: format!(
                "The claim already has a published verdict ({rival}) and this review does not \
                 correct it, so publishing it will be refused. Withdraw this review (a step to \
                 `withdrawn` with a note) and draft a correction with `corrects` set to {rival}."
            ),
            review_id: rival,
        })
        .into_iter()
        .collect()
}

/// The state machine as a Markdown table (for the contract and the README): every step a
/// person may take, who may take it, and whether it needs a note.
pub fn state_machine_table() -> String {
    use std::fmt::Write;
    let who = |to: State| -> &'static str {
        match to {
            State::InReview => "fact_checker, editor, admin",
            State::Approved => {
                "editor, admin; never the review's author while the second-person rule is on"
            }
            State::Withdrawn => {
                "the review's author (fact_checker or above), or an editor or admin"
            }
            _ => "editor, admin",
        }
    };
    let mut t =
        String::from("| From | To | Who may take the step | Note required |\n|---|---|---|---|\n");
    for from in State::ALL {
        for to in from.next() {
            let _ = writeln!(
                t,
                "| `{}` | `{}` | {} | {} |",
                from.as_str(),
                to.as_str(),
                who(*to),
                if to.needs_note() { "yes" } else { "no" }
            );
        }
    }
    let _ = writeln!(
        t,
        "| `published` | `superseded` | nobody: set when a correction that names it is published | no |"
    );
    t
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a move of the workflow; `allowed` lists the moves from `from`.
    NotAllowed {
        from: State,
        to: State,
        allowed: &'static [State],
    },
    /// The actor's role may not make this move.
    Forbidden,
    /// The approver wrote the review and the second-person rule is on.
    SelfApproval,
    /// This move must carry a note saying why.
    NoteRequired { to: State },
}

/// The history step of a published verdict that the correction `by` supersedes.
pub fn superseded(
    actor: &str,
    by: ReviewId,
    at: time::OffsetDateTime,
    second_person_rule: bool,
) -> ReviewEvent {
    ReviewEvent {
        from: Some(State::Published),
        to: State::Superseded,
        actor: actor.to_owned(),
        note: Some(format!("superseded by correction {by}")),
        second_person_rule,
        at,
    }
}

/// One published verdict per claim: of the claim's `published` reviews, one that is neither
/// `this` nor the verdict it `replaces` (as a correction) is a rival, and publishing is refused.
pub fn rival_verdict(
    published: &[ReviewId],
    this: ReviewId,
    replaces: Option<ReviewId>,
) -> Option<ReviewId> {
    published
        .iter()
        .copied()
        .find(|&id| id != this && Some(id) != replaces)
}

/// Checks a requested transition. `second_person_rule` is the instance setting.
pub fn check(
    from: State,
    to: State,
    author: &str,
    actor: &Actor,
    note: Option<&str>,
    second_person_rule: bool,
) -> Result<(), Refusal> {
    let allowed = from.next();
    if !allowed.contains(&to) {
        return Err(Refusal::NotAllowed { from, to, allowed });
    }
    // Authors may give up their own review; editors anyone's.
    let own_withdrawal =
        to == State::Withdrawn && actor.person == author && actor.may(Permission::DraftReviews);
    if !actor.may(to.permission()) && !own_withdrawal {
        return Err(Refusal::Forbidden);
    }
    if to == State::Approved && second_person_rule && actor.person == author {
        return Err(Refusal::SelfApproval);
    }
    if to.needs_note() && note.is_none_or(|n| n.trim().is_empty()) {
        return Err(Refusal::NoteRequired { to });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::KeyId;

    #[test]
    fn a_claim_has_one_published_verdict() {
        let (this, other, old) = (ReviewId::new(), ReviewId::new(), ReviewId::new());
        assert_eq!(rival_verdict(&[], this, None), None);
        assert_eq!(rival_verdict(&[this], this, None), None);
        assert_eq!(rival_verdict(&[this, other], this, None), Some(other));
        // A correction does not rival the verdict it replaces, but does rival any other.
        assert_eq!(rival_verdict(&[old, this], this, Some(old)), None);
        assert_eq!(rival_verdict(&[old, other], this, Some(old)), Some(other));
    }
    use crate::domain::access::Role;
    use State::*;

    fn actor(name: &str, role: Role) -> Actor {
        Actor {
            key_id: KeyId::from_uuid(uuid::Uuid::nil()),
            key_name: format!("{name}'s key"),
            person: name.into(),
            role,
        }
    }

    /// The rule compares people, not key names: a key named like the author's is someone
    /// else; the author's second key, whatever its name, is still the author.
    #[test]
    fn the_rule_compares_people_not_key_names() {
        let mut namesake = actor("bo", Role::Editor);
        namesake.key_name = "ana".into();
        assert!(check(InReview, Approved, "ana", &namesake, None, true).is_ok());
        let mut second_key = actor("ana", Role::Editor);
        second_key.key_name = "desk-editor".into();
        assert!(matches!(
            check(InReview, Approved, "ana", &second_key, None, true),
            Err(Refusal::SelfApproval)
        ));
    }

    /// Every (from, to) pair: exactly the listed moves are allowed.
    #[test]
    fn transition_table_is_exhaustive() {
        let allowed = [
            (Draft, InReview),
            (InReview, ChangesRequested),
            (InReview, Approved),
            (ChangesRequested, InReview),
            (Approved, Published),
            (Approved, ChangesRequested),
            (Published, Retracted),
            (Draft, Withdrawn),
            (InReview, Withdrawn),
            (ChangesRequested, Withdrawn),
            (Approved, Withdrawn),
        ];
        let editor = actor("ed", Role::Admin);
        for from in State::ALL {
            for to in State::ALL {
                let result = check(from, to, "author", &editor, Some("because"), true);
                if allowed.contains(&(from, to)) {
                    assert_eq!(result, Ok(()), "{from:?} -> {to:?}");
                } else {
                    assert_eq!(
                        result,
                        Err(Refusal::NotAllowed {
                            from,
                            to,
                            allowed: from.next()
                        }),
                        "{from:?} -> {to:?}"
                    );
                }
            }
        }
        // Nobody moves a review to superseded or back to draft by hand.
        assert!(
            State::ALL
                .iter()
                .all(|s| !s.next().contains(&Superseded) && !s.next().contains(&Draft))
        );
    }

    #[test]
    fn a_review_that_cannot_be_published_is_warned_of() {
        let published = ReviewId::new();
        let mut r = Review {
            id: ReviewId::new(),
            claim_id: ClaimId::new(),
            author: "fc".into(),
            state: Draft,
            scale: "default".into(),
            rating: Rating {
                key: "false".into(),
                label: "False".into(),
                value: Some(1.0),
            },
            summary: String::new(),
            evidence: vec![],
            corrects: None,
            superseded_by: None,
            revision: 1,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
            published_at: None,
            published_url: None,
            history: vec![],
            allowed_transitions: None,
            warnings: None,
        };
        let w = warnings(&r, &[published]);
        assert_eq!(w.len(), 1);
        assert_eq!(
            (w[0].code, w[0].review_id),
            (WarningCode::VerdictExists, published)
        );
        assert!(warnings(&r, &[]).is_empty());
        // A correction of that verdict is fine; so is a review whose workflow is over.
        r.corrects = Some(published);
        assert!(warnings(&r, &[published]).is_empty());
        r.corrects = None;
        r.state = Withdrawn;
        assert!(warnings(&r, &[published]).is_empty());
        // Published without a page: said until the page is set.
        for state in [Published, Superseded] {
            r.state = state;
            let w = warnings(&r, &[r.id]);
            assert_eq!(w.len(), 1, "{state:?}");
            assert_eq!(
                (w[0].code, w[0].review_id),
                (WarningCode::PublishedUrlMissing, r.id)
            );
            assert!(w[0].message.contains("/published-url"), "{}", w[0].message);
        }
        r.published_url = Some("https://desk.example.org/c".into());
        assert!(warnings(&r, &[r.id]).is_empty());
        r.state = Retracted;
        r.published_url = None;
        assert!(warnings(&r, &[]).is_empty());
    }

    #[test]
    fn authors_and_editors_withdraw_with_a_note() {
        let author = actor("fc", Role::FactChecker);
        for from in [Draft, InReview, ChangesRequested, Approved] {
            assert_eq!(
                check(from, Withdrawn, "fc", &author, Some("dup"), true),
                Ok(())
            );
            assert_eq!(
                check(from, Withdrawn, "fc", &author, None, true),
                Err(Refusal::NoteRequired { to: Withdrawn })
            );
        }
        // Another fact-checker may not withdraw someone else's review; an editor may.
        let other = actor("fc2", Role::FactChecker);
        assert_eq!(
            check(Draft, Withdrawn, "fc", &other, Some("x"), true),
            Err(Refusal::Forbidden)
        );
        let editor = actor("ed", Role::Editor);
        assert_eq!(
            check(Draft, Withdrawn, "fc", &editor, Some("x"), true),
            Ok(())
        );
        // Published verdicts are retracted, not withdrawn; withdrawn is final.
        assert!(matches!(
            check(Published, Withdrawn, "fc", &editor, Some("x"), true),
            Err(Refusal::NotAllowed { .. })
        ));
        assert!(Withdrawn.is_final() && Retracted.is_final() && !Approved.is_final());
        let auditor = actor("fc", Role::Auditor);
        assert_eq!(
            check(Draft, Withdrawn, "fc", &auditor, Some("x"), true),
            Err(Refusal::Forbidden)
        );
    }

    #[test]
    fn roles_decide_who_moves_what() {
        let fact_checker = actor("fc", Role::FactChecker);
        assert_eq!(
            check(Draft, InReview, "fc", &fact_checker, None, true),
            Ok(())
        );
        assert_eq!(
            check(InReview, Approved, "other", &fact_checker, None, true),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            check(Approved, Published, "other", &fact_checker, None, true),
            Err(Refusal::Forbidden)
        );
        for role in [Role::Auditor, Role::Integration] {
            assert_eq!(
                check(Draft, InReview, "x", &actor("x", role), None, true),
                Err(Refusal::Forbidden)
            );
        }
        let editor = actor("ed", Role::Editor);
        assert_eq!(check(InReview, Approved, "fc", &editor, None, true), Ok(()));
        assert_eq!(
            check(Approved, Published, "fc", &editor, None, true),
            Ok(())
        );
    }

    #[test]
    fn the_author_cannot_approve_unless_the_rule_is_off() {
        let editor = actor("ed", Role::Editor);
        assert_eq!(
            check(InReview, Approved, "ed", &editor, None, true),
            Err(Refusal::SelfApproval)
        );
        assert_eq!(
            check(InReview, Approved, "ed", &editor, None, false),
            Ok(())
        );
        // The rule is about approval; the author may submit and publish.
        assert_eq!(
            check(Approved, Published, "ed", &editor, None, true),
            Ok(())
        );
    }

    #[test]
    fn retraction_and_sending_back_need_a_note() {
        let editor = actor("ed", Role::Editor);
        for (from, to) in [(Published, Retracted), (InReview, ChangesRequested)] {
            assert_eq!(
                check(from, to, "a", &editor, None, true),
                Err(Refusal::NoteRequired { to })
            );
            assert_eq!(
                check(from, to, "a", &editor, Some("  "), true),
                Err(Refusal::NoteRequired { to })
            );
            assert_eq!(
                check(from, to, "a", &editor, Some("source was wrong"), true),
                Ok(())
            );
        }
    }

    #[test]
    fn only_drafts_and_sent_back_reviews_are_editable() {
        let editable: Vec<State> = State::ALL.into_iter().filter(|s| s.is_editable()).collect();
        assert_eq!(editable, [Draft, ChangesRequested]);
    }

    #[test]
    fn names_round_trip() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
        assert_eq!(State::parse("deleted"), None);
    }
}

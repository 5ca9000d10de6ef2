//! A small demo dataset, written for this project and marked as samples, so that a new user
//! has something to look at and query at once. Loaded only into an empty database.

use crate::app::{App, PassageInput, Relation, ReviewInput, SourceInput};
use crate::domain::access::{Actor, Role};
use crate::domain::ids::{ClaimId, EvidenceId};
use crate::domain::review::State;
use crate::domain::{Passage, Source, Stance};

/// The operator the audit trail records for the sample data.
fn operator() -> Actor {
    Actor::operator("demo")
}

/// The sample desk's people (handle, display name, role): `serve --demo` prints a key for
/// each, so that the second-person rule and the review queue can be tried at once.
pub const PEOPLE: [(&str, &str, Role); 7] = [
    ("ines", "In\u{e8}s Duarte (sample)", Role::FactChecker),
    ("tomas", "Tom\u{e1}s Reyes (sample)", Role::FactChecker),
    ("maya", "Maya Chen (sample)", Role::Editor),
    ("sam", "Sam Okafor (sample)", Role::Editor),
    ("priya", "Priya Nair (sample)", Role::Auditor),
    ("desk-admin", "Desk administrator (sample)", Role::Admin),
    ("gazette-cms", "Sample Gazette CMS", Role::Integration),
];

/// Makes the sample people (those that already exist are kept); returns the actors they act
/// as in the sample data, in `PEOPLE` order.
pub async fn people(app: &App) -> anyhow::Result<Vec<Actor>> {
    let demo = operator();
    let mut actors = Vec::new();
    for (handle, name, role) in PEOPLE {
        let person = app.ensure_person(&demo, handle, name).await?;
        let handle = crate::domain::access::Handle::parse(&person.handle)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        actors.push(Actor::person(&handle, role));
    }
    Ok(actors)
}

const COUNCIL: &str = "SAMPLE TEXT written for the claimtrail demo; not a real article.\n\n\
Riverton council approves bridge budget\n\n\
The Riverton town council voted 7\u{2013}2 on Tuesday to approve the budget for the new \
Harbour Bridge. \u{201C}This bridge will cost $4 billion, and it will pay for itself,\u{201D} \
Mayor Dana Ortiz told reporters after the vote.\n\n\
Councillor Sam Lee, who voted against, said the town\u{2019}s own engineers had put the \
figure far lower \u{2014} closer to $2.1 billion \u{2014} and that the mayor\u{2019}s number \
included thirty years of maintenance.\n";

const REPORT: &str = "SAMPLE TEXT written for the claimtrail demo; not a real report.\n\n\
Harbour Bridge: engineering cost estimate (summary)\n\n\
The construction cost of the Harbour Bridge is estimated at $2.1 billion.\n\
Maintenance over thirty years is estimated separately at $1.9 billion,\n\
bringing the lifetime cost to about $4 billion.\n";

/// A roundup that repeats the mayor's figure: the start of a small citation chain
/// (roundup → article → engineering report) to trace and walk back.
const ROUNDUP: &str = "SAMPLE TEXT written for the claimtrail demo; not a real column.\n\n\
Weekly roundup\n\n\
The Harbour Bridge will cost $4 billion, the Sample Gazette reported, quoting the mayor. \
Critics say the figure mixes construction with decades of upkeep.\n";

/// The report as re-captured after the office revised its estimate: a figure changed and the
/// lines re-wrapped, so the demo shows a passage that changed under a published verdict.
const REPORT_REVISED: &str = "SAMPLE TEXT written for the claimtrail demo; not a real report.\n\n\
Harbour Bridge: engineering cost estimate (summary, revised in June)\n\n\
The construction cost of the Harbour Bridge is estimated at $2.4 billion. Maintenance over \
thirty years is estimated separately at $1.9 billion, bringing the lifetime cost to about \
$4 billion.\n";

/// Loads the samples if the database has no source yet. Returns whether it loaded them.
pub async fn load_if_empty(app: &App) -> anyhow::Result<bool> {
    if !app
        .list_sources(&operator(), Default::default(), None, Some(1))
        .await?
        .items
        .is_empty()
    {
        return Ok(false);
    }
    let (article, report) = sources(app).await?;
    let bridge = bridge_claim(app, &article, &report).await?;
    let desk = people(app).await?;
    published_verdict(app, &desk, &bridge).await?;
    review_queue(app, &desk, &article).await?;
    citation_chain(app, &bridge).await?;
    // Then the report is revised: its passages are placed on version 2, and the verdict that
    // rests on the changed figure is flagged for a fact-checker.
    app.add_version(&operator(), report.id, REPORT_REVISED)
        .await?;
    Ok(true)
}

/// A pasted quote.
fn quote(q: &str) -> PassageInput {
    PassageInput {
        quote: Some(q.into()),
        ..PassageInput::default()
    }
}

/// The council article and the engineering report it got its figure from.
async fn sources(app: &App) -> anyhow::Result<(Source, Source)> {
    let demo = operator();
    let article = app
        .create_source(
            &demo,
            SourceInput {
                title_derived: false,
                title: "Sample: Riverton council approves bridge budget".into(),
                url: Some("https://example.org/samples/riverton-bridge-budget".into()),
                publisher: Some("Sample Gazette (demo data)".into()),
                authors: vec!["Demo Reporter".into()],
                published_at: Some("2024-05-01".into()),
                kind: Some("news".into()),
                text: COUNCIL.into(),
            },
        )
        .await?;
    let report = app
        .create_source(
            &demo,
            SourceInput {
                title_derived: false,
                title: "Sample: Harbour Bridge engineering cost estimate".into(),
                url: Some("https://example.org/samples/harbour-bridge-estimate".into()),
                publisher: Some("Riverton Engineering Office (demo data)".into()),
                authors: vec![],
                published_at: Some("2024-04-12".into()),
                kind: Some("report".into()),
                text: REPORT.into(),
            },
        )
        .await?;
    Ok((article, report))
}

/// The mayor's $4 billion claim: where it was said, and the report's passages as evidence.
struct Bridge {
    said: Passage,
    lifetime: Passage,
    claim: ClaimId,
    evidence: Vec<EvidenceId>,
}

async fn bridge_claim(app: &App, article: &Source, report: &Source) -> anyhow::Result<Bridge> {
    let demo = operator();
    // Pasted with straight quotes, as people do; the text has typographic ones.
    let (said, _) = app
        .create_passage(
            &demo,
            article.id,
            quote("\"This bridge will cost $4 billion, and it will pay for itself,\""),
        )
        .await?;
    let (estimate, _) = app
        .create_passage(
            &demo,
            report.id,
            quote("The construction cost of the Harbour Bridge is estimated at $2.1 billion."),
        )
        .await?;
    // Crosses a line break in the stored text.
    let (lifetime, _) = app
        .create_passage(&demo, report.id, quote("Maintenance over thirty years is estimated separately at $1.9 billion, bringing the lifetime cost to about $4 billion."))
        .await?;
    let claim = app
        .create_claim(
            &demo,
            "The Harbour Bridge will cost $4 billion.",
            Some("Mayor Dana Ortiz (sample)"),
            &[said.id],
        )
        .await?;
    let contradicts = app
        .add_evidence(
            &demo,
            claim.claim.id,
            estimate.id,
            Stance::Contradicts,
            Some("Construction alone is estimated at $2.1 billion."),
        )
        .await?;
    let context = app
        .add_evidence(
            &demo,
            claim.claim.id,
            lifetime.id,
            Stance::Context,
            Some("$4 billion is the lifetime cost including 30 years of maintenance."),
        )
        .await?;
    Ok(Bridge {
        said,
        lifetime,
        claim: claim.claim.id,
        evidence: vec![contradicts.id, context.id],
    })
}

/// A published verdict, reached the way the workflow requires: drafted by a fact-checker,
/// approved and published by an editor.
async fn published_verdict(app: &App, desk: &[Actor], bridge: &Bridge) -> anyhow::Result<()> {
    let (checker, editor) = (&desk[0], &desk[2]);
    let input = ReviewInput {
        rating: "misleading".into(),
        summary: "Sample verdict: $4 billion is the lifetime cost (construction plus 30 years of \
                  maintenance); the engineering estimate for construction is $2.1 billion."
            .into(),
        evidence: bridge.evidence.clone(),
        ..ReviewInput::default()
    };
    let draft = app.create_review(checker, bridge.claim, input).await?;
    let submitted = app
        .transition_review(
            checker,
            draft.id,
            State::InReview,
            None,
            Some(draft.revision),
            None,
        )
        .await?;
    let approved = app
        .transition_review(
            editor,
            draft.id,
            State::Approved,
            Some("Figures checked against the estimate."),
            Some(submitted.revision),
            None,
        )
        .await?;
    app.transition_review(
        editor,
        draft.id,
        State::Published,
        None,
        Some(approved.revision),
        None,
    )
    .await?;
    Ok(())
}

/// The desk's queue: a second fact-checker's review waits for an editor, and a draft is
/// still being written.
async fn review_queue(app: &App, desk: &[Actor], article: &Source) -> anyhow::Result<()> {
    let demo = operator();
    let (checker, other_checker) = (&desk[0], &desk[1]);
    let (pays, _) = app
        .create_passage(&demo, article.id, quote("it will pay for itself"))
        .await?;
    let pays = app
        .create_claim(
            &demo,
            "The Harbour Bridge will pay for itself.",
            Some("Mayor Dana Ortiz (sample)"),
            &[pays.id],
        )
        .await?;
    let input = ReviewInput {
        rating: "unproven".into(),
        summary: "Sample draft: no toll or revenue plan has been published that would repay \
                  the construction cost."
            .into(),
        ..ReviewInput::default()
    };
    let waiting = app
        .create_review(other_checker, pays.claim.id, input)
        .await?;
    app.transition_review(
        other_checker,
        waiting.id,
        State::InReview,
        None,
        Some(waiting.revision),
        None,
    )
    .await?;
    let (vote, _) = app
        .create_passage(
            &demo,
            article.id,
            quote("voted 7-2 on Tuesday to approve the budget"),
        )
        .await?;
    let vote = app
        .create_claim(
            &demo,
            "Riverton's council approved the bridge budget by 7 votes to 2.",
            Some("Sample Gazette (sample)"),
            &[vote.id],
        )
        .await?;
    let input = ReviewInput {
        rating: "true".into(),
        summary: "Sample draft: the council's minutes record the vote as 7 to 2.".into(),
        ..ReviewInput::default()
    };
    app.create_review(checker, vote.claim.id, input).await?;
    Ok(())
}

/// A citation chain: the roundup quotes the article, whose figure derives from the report's
/// lifetime cost, the primary source.
async fn citation_chain(app: &App, bridge: &Bridge) -> anyhow::Result<()> {
    let demo = operator();
    let roundup = app
        .create_source(
            &demo,
            SourceInput {
                title_derived: false,
                title: "Sample: Weekly roundup".into(),
                url: Some("https://example.org/samples/weekly-roundup".into()),
                publisher: Some("Sample Weekly (demo data)".into()),
                authors: vec![],
                published_at: Some("2024-05-08".into()),
                kind: Some("opinion".into()),
                text: ROUNDUP.into(),
            },
        )
        .await?;
    let (repeated, _) = app
        .create_passage(
            &demo,
            roundup.id,
            quote("The Harbour Bridge will cost $4 billion, the Sample Gazette reported"),
        )
        .await?;
    app.add_derivation(&demo, repeated.id, bridge.said.id, Relation::Quotes)
        .await?;
    app.add_derivation(
        &demo,
        bridge.said.id,
        bridge.lifetime.id,
        Relation::PrimarySource,
    )
    .await?;
    Ok(())
}

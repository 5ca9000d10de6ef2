//! Idempotent POSTs: what a request with a key already used meets. The store keeps the
//! keys; this decides.

use time::OffsetDateTime;

/// A kept response: status, headers (name, value) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// What a request with an idempotency key meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// First use: run the request, then keep its response (or forget the key).
    First,
    /// The first request with this key is still running.
    Running,
    /// The key was used with another request.
    Mismatch,
    /// The first request's response.
    Done(Kept),
}

/// The earlier use of a key, as stored.
#[derive(Debug, Clone)]
pub struct Earlier {
    pub fingerprint: String,
    /// The kept response; none while the first request runs.
    pub kept: Option<Kept>,
    pub started_at: OffsetDateTime,
}

/// What to do with a key already claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Answer with this (never `First`).
    Answer(Begin),
    /// The first attempt never finished and its process is gone: take the key over.
    TakeOver,
}

/// Decides on a key claimed before: another request under it is a mismatch, a finished one is
/// replayed, an unfinished one started before `abandoned_before` is taken over.
pub fn decide(earlier: Earlier, fingerprint: &str, abandoned_before: OffsetDateTime) -> Decision {
    if earlier.fingerprint != fingerprint {
        return Decision::Answer(Begin::Mismatch);
    }
    match earlier.kept {
        Some(kept) => Decision::Answer(Begin::Done(kept)),
        None if earlier.started_at < abandoned_before => Decision::TakeOver,
        None => Decision::Answer(Begin::Running),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn earlier(fingerprint: &str, kept: Option<Kept>) -> Earlier {
        Earlier {
            fingerprint: fingerprint.into(),
            kept,
            started_at: datetime!(2026-12-07 10:00 UTC),
        }
    }

    #[test]
    fn a_used_key_is_replayed_refused_waited_for_or_taken_over() {
        let kept = Kept {
            status: 201,
            headers: vec![],
            body: "{}".into(),
        };
        let (before, after) = (
            datetime!(2026-12-07 09:00 UTC),
            datetime!(2026-12-07 11:00 UTC),
        );
        assert_eq!(
            decide(earlier("a", None), "b", after),
            Decision::Answer(Begin::Mismatch)
        );
        assert_eq!(
            decide(earlier("a", Some(kept.clone())), "a", after),
            Decision::Answer(Begin::Done(kept))
        );
        assert_eq!(
            decide(earlier("a", None), "a", before),
            Decision::Answer(Begin::Running)
        );
        assert_eq!(decide(earlier("a", None), "a", after), Decision::TakeOver);
    }
}

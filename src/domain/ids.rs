//! Ids of records: one type per kind of record, so that a claim's id cannot be passed where a
//! source's is expected. Each is a UUIDv7 (ids sort by creation time and serve as cursors) and
//! reads and writes as the UUID's text.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = Uuid)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id.
            pub fn new() -> Self {
                $name(Uuid::now_v7())
            }

            pub const fn from_uuid(id: Uuid) -> Self {
                $name(id)
            }

            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::try_parse(s).map($name)
            }
        }
    )*};
}

ids! {
    /// Id of a source (an article, report or transcript).
    SourceId,
    /// Id of a passage (an exact span of one version of a source).
    PassageId,
    /// Id of a claim (a checkable statement).
    ClaimId,
    /// Id of a piece of evidence (a passage offered for or against a claim).
    EvidenceId,
    /// Id of a review (a verdict on a claim).
    ReviewId,
    /// Id of an API key.
    KeyId,
    /// Id of a person (the human behind one or more API keys).
    PersonId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_and_write_as_uuid_text_and_sort_by_creation() {
        let a = ClaimId::new();
        let b = ClaimId::new();
        assert!(a < b);
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(text, format!("\"{}\"", a.uuid()));
        assert_eq!(serde_json::from_str::<ClaimId>(&text).unwrap(), a);
        assert_eq!(a.to_string().parse::<ClaimId>().unwrap(), a);
        assert!("not-a-uuid".parse::<ClaimId>().is_err());
    }
}

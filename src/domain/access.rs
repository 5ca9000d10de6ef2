//! Who may do what: roles, permissions and the shape of API keys.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ids::{KeyId, PersonId};

/// What a key's holder is in the newsroom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including keys and rating scales.
    Admin,
    /// Records, and editorial decisions on reviews (approve, publish, retract).
    Editor,
    /// Records and review drafts.
    FactChecker,
    /// Reads everything, including the audit trail; writes nothing.
    Auditor,
    /// A CMS: reads published verdicts and their evidence only.
    Integration,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Editor,
        Role::FactChecker,
        Role::Auditor,
        Role::Integration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::FactChecker => "fact_checker",
            Role::Auditor => "auditor",
            Role::Integration => "integration",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The permission table, in one place.
    pub fn can(self, permission: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match permission {
            P::ReadPublished => true,
            P::ReadRecords | P::ReadEditorial => {
                matches!(self, R::Admin | R::Editor | R::FactChecker | R::Auditor)
            }
            P::WriteRecords | P::DraftReviews => {
                matches!(self, R::Admin | R::Editor | R::FactChecker)
            }
            P::DecideReviews => matches!(self, R::Admin | R::Editor),
            // Auditors record who cites whom: the one thing they write.
            P::RecordDerivations => {
                matches!(self, R::Admin | R::Editor | R::FactChecker | R::Auditor)
            }
            P::ReadAudit => matches!(self, R::Admin | R::Auditor),
            P::ManageKeys | P::ManageScales | P::ManageWebhooks => matches!(self, R::Admin),
        }
    }
}

/// What an endpoint requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Published verdicts and their evidence.
    ReadPublished,
    /// Sources, passages, claims, evidence and reviews in any state.
    ReadRecords,
    /// Internal editorial data in what is read: workflow history and its notes, key names,
    /// revisions, evidence notes. Without it a review is shown in its public view.
    ReadEditorial,
    /// Create sources, versions, passages, claims and evidence.
    WriteRecords,
    /// Create and edit review drafts and submit them for review.
    DraftReviews,
    /// Approve, request changes, publish and retract reviews.
    DecideReviews,
    /// Record that one passage derives from another (citation chains).
    RecordDerivations,
    ReadAudit,
    ManageKeys,
    ManageScales,
    /// Webhook endpoints, their secrets and deliveries.
    ManageWebhooks,
}

/// The authenticated caller of a request: a person, through one of their keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub key_id: KeyId,
    /// The key's name (a label; not unique).
    pub key_name: String,
    /// The person's handle: what the workflow's second-person rule compares and what the
    /// audit trail and every `author`/`actor` field record.
    pub person: String,
    pub role: Role,
}

impl Actor {
    /// The operator at the command line (import, keys, demo): every permission, no key.
    pub fn operator(name: &str) -> Actor {
        Actor {
            key_id: KeyId::from_uuid(Uuid::nil()),
            key_name: name.to_owned(),
            person: name.to_owned(),
            role: Role::Admin,
        }
    }

    /// A person acting without a key (the demo's sample authors).
    pub fn person(handle: &Handle, role: Role) -> Actor {
        Actor {
            key_id: KeyId::from_uuid(Uuid::nil()),
            key_name: String::new(),
            person: handle.as_str().to_owned(),
            role,
        }
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.role.can(permission)
    }

    /// Who the audit trail records: the person, and the key used when there was one.
    pub fn who(&self) -> Who {
        Who {
            person: self.person.clone(),
            key: (!self.key_id.uuid().is_nil()).then_some(self.key_id),
        }
    }
}

/// Who made a change, as the audit trail records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    /// A person's handle, or the operator's name (`cli`, `demo`, ...).
    pub person: String,
    /// The API key used; none at the command line.
    pub key: Option<KeyId>,
}

impl Who {
    /// The operator at the command line.
    pub fn operator(name: &str) -> Who {
        Who {
            person: name.to_owned(),
            key: None,
        }
    }
}

/// A person's handle: unique, never changed, and what records name. Lower-case ASCII letters,
/// digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Handle(String);

/// Names the operator and the migrations use; a person cannot take them.
pub const RESERVED_HANDLES: [&str; 5] = ["cli", "demo", "migration", "system", "test"];

impl Handle {
    pub fn parse(s: &str) -> Result<Handle, String> {
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        if s.is_empty() || s.len() > 64 {
            return Err("must be 1 to 64 characters".into());
        }
        if !s.chars().all(ok_char) || !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(
                "may hold only lower-case letters a-z, digits, '.', '_' and '-', and must start \
                 with a letter or digit"
                    .into(),
            );
        }
        if RESERVED_HANDLES.contains(&s) {
            return Err(format!("{s:?} is reserved for the operator"));
        }
        Ok(Handle(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A person: the human behind one or more keys.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Person {
    pub id: PersonId,
    /// Unique and never changed; what the audit trail and reviews record.
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{0,63}$", max_length = 64)]
    pub handle: String,
    pub display_name: String,
    /// Who created the record (a handle, or `cli`).
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// An API key as listed (never with its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: KeyId,
    /// A label for the key (not unique; people are told apart by `person`).
    pub name: String,
    pub role: Role,
    /// Handle of the person the key belongs to.
    pub person: String,
    /// Who created it (a handle, or `cli`).
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<time::OffsetDateTime>,
}

/// Tokens look like `ct_<key id, 32 hex>_<secret, 43 base64url>`; only the secret's SHA-256 is
/// stored. The id finds the key; the secret is compared in constant time.
pub const TOKEN_PREFIX: &str = "ct_";

/// Builds a token from a key id and 32 random bytes.
pub fn token(id: KeyId, secret: &[u8; 32]) -> String {
    use base64::Engine;
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    format!("{TOKEN_PREFIX}{}_{secret}", id.uuid().simple())
}

/// Splits a token into its key id and secret part, if it has the right shape.
pub fn parse_token(token: &str) -> Option<(KeyId, &str)> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 32 || secret.len() != 43 {
        return None;
    }
    Some((KeyId::from_uuid(Uuid::try_parse(id).ok()?), secret))
}

/// What is stored of a secret.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored hash without leaking where they differ.
pub fn secret_matches(secret: &str, stored_hash: &str) -> bool {
    secret_hash(secret)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission as P;

    #[test]
    fn permission_table() {
        // (permission, [admin, editor, fact_checker, auditor, integration])
        let table = [
            (P::ReadPublished, [true, true, true, true, true]),
            (P::ReadRecords, [true, true, true, true, false]),
            (P::ReadEditorial, [true, true, true, true, false]),
            (P::WriteRecords, [true, true, true, false, false]),
            (P::DraftReviews, [true, true, true, false, false]),
            (P::DecideReviews, [true, true, false, false, false]),
            (P::RecordDerivations, [true, true, true, true, false]),
            (P::ReadAudit, [true, false, false, true, false]),
            (P::ManageKeys, [true, false, false, false, false]),
            (P::ManageScales, [true, false, false, false, false]),
            (P::ManageWebhooks, [true, false, false, false, false]),
        ];
        for (permission, allowed) in table {
            for (role, expected) in Role::ALL.into_iter().zip(allowed) {
                assert_eq!(role.can(permission), expected, "{role:?} {permission:?}");
            }
        }
    }

    #[test]
    fn handles_are_checked() {
        assert!(Handle::parse("ines.duarte").is_ok());
        assert!(Handle::parse("a").is_ok());
        for bad in ["", "Ines", "-x", "a b", "a:b", "cli", "é", &"a".repeat(65)] {
            assert!(Handle::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn tokens_parse_and_match_only_their_secret() {
        let id = KeyId::new();
        let t = token(id, &[7u8; 32]);
        let (parsed, secret) = parse_token(&t).unwrap();
        assert_eq!(parsed, id);
        let stored = secret_hash(secret);
        assert!(secret_matches(secret, &stored));
        let other = token(id, &[8u8; 32]);
        assert!(!secret_matches(parse_token(&other).unwrap().1, &stored));
        for bad in [
            "",
            "ct_",
            "Bearer x",
            &t[..t.len() - 1],
            &t.replacen("ct_", "xx_", 1),
        ] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
    }
}

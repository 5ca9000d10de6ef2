//! API keys.

use super::exec::{Cols, FromRow, Tx, stmt};
use super::{Result, StoreError};
use crate::domain::access::{ApiKey, Person, Role};
use crate::domain::ids::{KeyId, PersonId};

mod sql {
    pub const INSERT: &str = "INSERT INTO api_keys (id, name, role, secret_hash, created_by, created_at, person_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    /// A key with its person's handle (every key has one: migration 0023).
    macro_rules! key_select {
        () => {
            "SELECT k.id, k.name, k.role, p.handle, k.created_by, \
             k.created_at, k.revoked_at, k.secret_hash FROM api_keys k \
             JOIN people p ON p.id = k.person_id"
        };
    }
    pub const BY_ID: &str = concat!(key_select!(), " WHERE k.id = $1");
    pub const ALL: &str = concat!(key_select!(), " ORDER BY k.id");
    pub const OF_PERSON: &str = concat!(key_select!(), " WHERE k.person_id = $1 ORDER BY k.id");

    pub const INSERT_PERSON: &str = "INSERT INTO people (id, handle, display_name, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5)";
    pub const PERSON: &str =
        "SELECT id, handle, display_name, created_by, created_at FROM people WHERE handle = $1";
    pub const PEOPLE: &str = "SELECT id, handle, display_name, created_by, created_at FROM people \
         WHERE id > $1 ORDER BY id LIMIT $2";
    pub const PEOPLE_DESC: &str = "SELECT id, handle, display_name, created_by, created_at FROM people \
         WHERE id < $1 ORDER BY id DESC LIMIT $2";
    pub const REVOKE: &str =
        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
}

/// A key with its stored secret hash.
pub struct StoredKey {
    pub key: ApiKey,
    pub secret_hash: String,
}

impl FromRow for StoredKey {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        let id = c.get()?;
        let name = c.get()?;
        let role: String = c.get()?;
        let role = Role::parse(&role)
            .ok_or_else(|| StoreError::other(format!("unknown role {role:?}")))?;
        Ok(StoredKey {
            key: ApiKey {
                id,
                name,
                role,
                person: c.get()?,
                created_by: c.get()?,
                created_at: c.get()?,
                revoked_at: c.get()?,
            },
            secret_hash: c.get()?,
        })
    }
}

pub async fn insert(tx: &mut Tx, key: &ApiKey, person: PersonId, secret_hash: &str) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT,
        key.id,
        &key.name,
        key.role.as_str(),
        secret_hash,
        &key.created_by,
        key.created_at,
        person
    ))
    .await
    .map(drop)
}

pub async fn get(tx: &mut Tx, id: KeyId) -> Result<Option<StoredKey>> {
    tx.fetch_optional(stmt!(sql::BY_ID, id)).await
}

pub async fn list(tx: &mut Tx) -> Result<Vec<ApiKey>> {
    let keys: Vec<StoredKey> = tx.fetch_all(stmt!(sql::ALL)).await?;
    Ok(keys.into_iter().map(|k| k.key).collect())
}

/// Revokes a key unless it is revoked already; whether it did.
pub async fn revoke(tx: &mut Tx, id: KeyId, at: time::OffsetDateTime) -> Result<bool> {
    let revoked = tx.execute(stmt!(sql::REVOKE, id, at)).await? == 1;
    if revoked {
        // Nodes that keep who a token is forget it.
        super::touches::touch(tx, vec![super::touches::Touch::Keys]).await?;
    }
    Ok(revoked)
}

/// The keys of one person.
pub async fn of_person(tx: &mut Tx, person: PersonId) -> Result<Vec<ApiKey>> {
    let keys: Vec<StoredKey> = tx.fetch_all(stmt!(sql::OF_PERSON, person)).await?;
    Ok(keys.into_iter().map(|k| k.key).collect())
}

impl FromRow for Person {
    fn from_row(c: &mut Cols<'_, '_>) -> Result<Self> {
        Ok(Person {
            id: c.get()?,
            handle: c.get()?,
            display_name: c.get()?,
            created_by: c.get()?,
            created_at: c.get()?,
        })
    }
}

/// Adds a person; a taken handle is `Constraint::PersonHandle`.
pub async fn insert_person(tx: &mut Tx, p: &Person) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT_PERSON,
        p.id,
        &p.handle,
        &p.display_name,
        &p.created_by,
        p.created_at
    ))
    .await
    .map(drop)
}

pub async fn person(tx: &mut Tx, handle: &str) -> Result<Option<Person>> {
    tx.fetch_optional(stmt!(sql::PERSON, handle)).await
}

pub async fn people(
    tx: &mut Tx,
    after: Option<uuid::Uuid>,
    limit: u32,
    order: crate::domain::Order,
) -> Result<Vec<Person>> {
    let after = PersonId::from_uuid(after.unwrap_or(order.start()));
    let sql = if order.is_desc() {
        sql::PEOPLE_DESC
    } else {
        sql::PEOPLE
    };
    tx.fetch_all(stmt!(sql, after, i64::from(limit))).await
}

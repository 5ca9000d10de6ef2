//! API keys.

use super::exec::{Cols, FromRow, Tx, stmt};
use super::{Result, StoreError};
use crate::domain::access::{ApiKey, Role};
use crate::domain::ids::KeyId;

mod sql {
    pub const INSERT: &str = "INSERT INTO api_keys (id, name, role, secret_hash, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)";
    pub const BY_ID: &str = "SELECT id, name, role, created_by, created_at, revoked_at, secret_hash FROM api_keys WHERE id = $1";
    pub const ALL: &str = "SELECT id, name, role, created_by, created_at, revoked_at, secret_hash FROM api_keys ORDER BY id";
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
                created_by: c.get()?,
                created_at: c.get()?,
                revoked_at: c.get()?,
            },
            secret_hash: c.get()?,
        })
    }
}

pub async fn insert(tx: &mut Tx, key: &ApiKey, secret_hash: &str) -> Result<()> {
    tx.execute(stmt!(
        sql::INSERT,
        key.id,
        &key.name,
        key.role.as_str(),
        secret_hash,
        &key.created_by,
        key.created_at
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
    Ok(tx.execute(stmt!(sql::REVOKE, id, at)).await? == 1)
}

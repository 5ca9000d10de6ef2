//! API keys.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Result, Store, direct, now};
use crate::domain::access::{ApiKey, Role};
use crate::domain::audit::Event;

type KeyRow = (
    Uuid,
    String,
    String,
    String,
    String,
    OffsetDateTime,
    Option<OffsetDateTime>,
);

/// A key with its stored secret hash.
pub struct StoredKey {
    pub key: ApiKey,
    pub secret_hash: String,
}

fn key_from_row(r: KeyRow) -> Result<StoredKey> {
    let role = Role::parse(&r.2)
        .ok_or_else(|| sqlx::Error::Protocol(format!("unknown role {:?}", r.2)))?;
    Ok(StoredKey {
        key: ApiKey {
            id: r.0,
            name: r.1,
            role,
            created_by: r.4,
            created_at: r.5,
            revoked_at: r.6,
        },
        secret_hash: r.3,
    })
}

/// The columns of a [`KeyRow`], for `concat!`.
macro_rules! key_select {
    () => {
        "SELECT id, name, role, secret_hash, created_by, created_at, revoked_at FROM api_keys"
    };
}

impl Store {
    pub async fn insert_key(
        &self,
        actor: &str,
        name: &str,
        role: Role,
        secret_hash: &str,
    ) -> Result<ApiKey> {
        let id = crate::domain::new_id();
        let at = now();
        in_write_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO api_keys (id, name, role, secret_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(name)
            .bind(role.as_str())
            .bind(secret_hash)
            .bind(actor)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let changes = serde_json::json!({"name": name, "role": role.as_str()});
            append_audit!(tx, actor, Event::new("create", "api_key", id, changes));
        });
        Ok(ApiKey {
            id,
            name: name.to_owned(),
            role,
            created_by: actor.to_owned(),
            created_at: at,
            revoked_at: None,
        })
    }

    pub async fn get_key(&self, id: Uuid) -> Result<Option<StoredKey>> {
        const SQL: &str = concat!(key_select!(), " WHERE id = $1");
        // Every request reads its key: directly on SQLite (see `direct`).
        let row: Option<KeyRow> = match self {
            Store::Sqlite(_, lite) => lite.read(|c| direct::first(c, SQL, &[&id]))?,
            Store::Postgres(pool) => sqlx::query_as(SQL).bind(id).fetch_optional(pool).await?,
        };
        row.map(key_from_row).transpose()
    }

    pub async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        const SQL: &str = concat!(key_select!(), " ORDER BY id");
        let rows: Vec<KeyRow> = on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
        rows.into_iter()
            .map(|r| key_from_row(r).map(|k| k.key))
            .collect()
    }

    /// Revokes a key; `None` when it does not exist, the key unchanged when already revoked.
    pub async fn revoke_key(&self, actor: &str, id: Uuid) -> Result<Option<ApiKey>> {
        let at = now();
        in_write_tx!(self, tx => {
            let revoked = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if revoked == 1 {
                append_audit!(tx, actor, Event::new("revoke", "api_key", id, serde_json::json!({})));
            }
        });
        Ok(self.get_key(id).await?.map(|k| k.key))
    }
}

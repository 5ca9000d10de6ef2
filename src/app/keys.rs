//! API keys and authentication.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;
use crate::store::keys as db;

impl App {
    /// Creates a key and returns it with its token, which is shown only this once.
    pub async fn create_key(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
    ) -> Result<(ApiKey, String)> {
        require(actor, Permission::ManageKeys, "manage API keys")?;
        let name = ShortText::parse(name)
            .map_err(|m| AppError::field("name", m))?
            .into_inner();
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
        // The id is chosen before the row exists, so the token can carry it.
        let key = ApiKey {
            id: KeyId::new(),
            name,
            role,
            created_by: actor.name.clone(),
            created_at: store::now(),
            revoked_at: None,
        };
        let hash = access::secret_hash(&token_secret(&secret));
        let written = key.clone();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    db::insert(tx, &written, &hash).await?;
                    let event = events::key_created(written.id, &written.name, written.role);
                    store::audit::append(tx, &written.created_by, event).await
                })
            })
            .await?;
        let token = access::token(key.id, &secret);
        Ok((key, token))
    }

    pub async fn list_keys(&self, actor: &Actor) -> Result<Vec<ApiKey>> {
        require(actor, Permission::ManageKeys, "manage API keys")?;
        Ok(self.store.fetch(|tx| Box::pin(db::list(tx))).await?)
    }

    /// Revokes a key (a key already revoked stays as it is).
    pub async fn revoke_key(&self, actor: &Actor, id: KeyId) -> Result<ApiKey> {
        require(actor, Permission::ManageKeys, "manage API keys")?;
        // An admin must not lock themselves out: with the last admin key gone, nothing is
        // left on the API to make another.
        if id == actor.key_id {
            return Err(AppError::OwnKey { id });
        }
        let name = actor.name.clone();
        let at = store::now();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    if db::revoke(tx, id, at).await? {
                        store::audit::append(tx, &name, events::key_revoked(id)).await?;
                    }
                    match db::get(tx, id).await? {
                        Some(stored) => Ok(stored.key),
                        None => Err(not_found("API key", id)),
                    }
                })
            })
            .await
    }

    /// The actor behind a bearer token. Every failure looks the same to the caller.
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        let (id, secret) = access::parse_token(token).ok_or(AppError::Unauthorized(
            "the token is not a claimtrail API key",
        ))?;
        let stored = self
            .store
            .fetch(|tx| Box::pin(db::get(tx, id)))
            .await?
            .ok_or(AppError::Unauthorized("the key is not known"))?;
        if !access::secret_matches(secret, &stored.secret_hash) {
            return Err(AppError::Unauthorized("the key is not known"));
        }
        if stored.key.revoked_at.is_some() {
            return Err(AppError::Unauthorized("the key has been revoked"));
        }
        Ok(Actor {
            key_id: stored.key.id,
            name: stored.key.name,
            role: stored.key.role,
        })
    }
}

fn token_secret(secret: &[u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
}

//! API keys and authentication.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;

impl App {
    /// Creates a key and returns it with its token, which is shown only this once.
    pub async fn create_key(
        &self,
        actor: &str,
        name: &str,
        role: Role,
    ) -> Result<(ApiKey, String)> {
        let mut v = Validator::new();
        let name = v.check("name", validate::short_text(name));
        let name = v
            .finish(|| name.unwrap_or_default())
            .map_err(AppError::Validation)?;
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
        // The id is chosen before the row exists, so the token can carry it.
        let key = self
            .store
            .insert_key(
                actor,
                &name,
                role,
                &access::secret_hash(&token_secret(&secret)),
            )
            .await?;
        let token = access::token(key.id, &secret);
        Ok((key, token))
    }

    pub async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        Ok(self.store.list_keys().await?)
    }

    pub async fn revoke_key(&self, actor: &str, id: Uuid) -> Result<ApiKey> {
        self.store
            .revoke_key(actor, id)
            .await?
            .ok_or_else(|| not_found("API key", id))
    }

    /// The actor behind a bearer token. Every failure looks the same to the caller.
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        let (id, secret) = access::parse_token(token).ok_or(AppError::Unauthorized(
            "the token is not a claimtrail API key",
        ))?;
        let stored = self
            .store
            .get_key(id)
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

//! API keys and authentication.

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;
use crate::store::keys as db;

impl App {
    /// Creates a key for the person with handle `person` and returns it with its token, which
    /// is shown only this once.
    pub async fn create_key(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        person: &str,
    ) -> Result<(ApiKey, String)> {
        require(actor, Permission::ManageKeys, "manage API keys")?;
        let mut v = Validator::default();
        let name = v.check("name", ShortText::parse(name));
        let handle = v.check("person", Handle::parse(person));
        let (name, handle) = v
            .finish(|| (name.unwrap().into_inner(), handle.unwrap()))
            .map_err(AppError::Validation)?;
        let secret = random_bytes()?;
        // The id is chosen before the row exists, so the token can carry it.
        let key = ApiKey {
            id: KeyId::new(),
            name,
            role,
            person: handle.into_inner(),
            created_by: actor.person.clone(),
            created_at: store::now(),
            revoked_at: None,
        };
        let hash = access::secret_hash(&token_secret(&secret));
        let (written, who) = (key.clone(), actor.who());
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let Some(person) = db::person(tx, &written.person).await? else {
                        return Err(AppError::field(
                            "person",
                            format!(
                                "no person has the handle {:?}; create one first \
                                 (POST /v1/people)",
                                written.person
                            ),
                        ));
                    };
                    db::insert(tx, &written, person.id, &hash).await?;
                    let event = events::key_created(&written);
                    store::audit::append(tx, &who, event).await?;
                    Ok(())
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
        let who = actor.who();
        let at = store::now();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    if db::revoke(tx, id, at).await? {
                        store::audit::append(tx, &who, events::key_revoked(id)).await?;
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
            key_name: stored.key.name,
            person: stored.key.person,
            role: stored.key.role,
        })
    }

    /// Adds a person (keys are then made for them).
    pub async fn create_person(
        &self,
        actor: &Actor,
        handle: &str,
        display_name: &str,
    ) -> Result<Person> {
        require(
            actor,
            Permission::ManageKeys,
            "manage people and their keys",
        )?;
        let mut v = Validator::default();
        let handle = v.check("handle", Handle::parse(handle));
        let display = v.check("display_name", ShortText::parse(display_name));
        let person = v
            .finish(|| Person {
                id: PersonId::new(),
                handle: handle.unwrap().into_inner(),
                display_name: display.unwrap().into_inner(),
                created_by: actor.person.clone(),
                created_at: store::now(),
            })
            .map_err(AppError::Validation)?;
        let (written, who) = (person.clone(), actor.who());
        let stored = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    db::insert_person(tx, &written).await?;
                    store::audit::append(tx, &who, events::person_created(&written)).await
                })
            })
            .await;
        match stored {
            Ok(()) => Ok(person),
            Err(StoreError::Conflict(Constraint::PersonHandle)) => Err(AppError::PersonExists {
                handle: person.handle,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The person with `handle`, made with `display_name` if there is none (the command line
    /// and the demo).
    pub async fn ensure_person(
        &self,
        actor: &Actor,
        handle: &str,
        display_name: &str,
    ) -> Result<Person> {
        match self.create_person(actor, handle, display_name).await {
            Err(AppError::PersonExists { handle }) => self.get_person(actor, &handle).await,
            other => other,
        }
    }

    pub async fn get_person(&self, actor: &Actor, handle: &str) -> Result<Person> {
        require(actor, Permission::ReadEditorial, "read people")?;
        let owned = handle.to_owned();
        self.store
            .fetch(move |tx| Box::pin(async move { db::person(tx, &owned).await }))
            .await?
            .ok_or_else(|| not_found("person", handle))
    }

    /// A person and their keys (for admins; others see the person only).
    pub async fn person_keys(&self, actor: &Actor, handle: &str) -> Result<Vec<ApiKey>> {
        require(actor, Permission::ManageKeys, "manage API keys")?;
        let person = self.get_person(actor, handle).await?;
        Ok(self
            .store
            .fetch(move |tx| Box::pin(db::of_person(tx, person.id)))
            .await?)
    }

    pub async fn list_people(
        &self,
        actor: &Actor,
        order: domain::Order,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Person>> {
        require(actor, Permission::ReadEditorial, "read people")?;
        let (after, limit) = page_args(cursor, limit)?;
        let items = self
            .store
            .fetch(move |tx| Box::pin(db::people(tx, after, limit, order)))
            .await?;
        Ok(page(items, limit, |p| p.id))
    }
}

fn token_secret(secret: &[u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
}

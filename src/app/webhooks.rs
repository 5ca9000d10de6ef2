//! Webhook endpoints (admins manage them) and the outbox's bookkeeping for the delivery worker
//! (`crate::delivery`).

use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

// The parent's imports and helpers: these modules only split `App`'s methods by topic.
use super::*;
use crate::domain::webhooks as hooks;
use crate::store::webhooks::{self as db, Due, EndpointRow};

/// How webhooks behave on this node.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Waits between attempts (see [`hooks::SCHEDULE`]).
    pub schedule: Vec<Duration>,
    /// Whether endpoints may resolve to loopback, private or link-local addresses (tests, a
    /// CMS on the same network).
    pub allow_private: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            schedule: hooks::SCHEDULE.to_vec(),
            allow_private: false,
        }
    }
}

/// A webhook endpoint as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// The event types it receives.
    pub events: Vec<String>,
    /// False once disabled: it answered 410, or failed for the whole retry schedule.
    pub enabled: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub disabled_at: Option<OffsetDateTime>,
    pub disabled_reason: Option<String>,
    /// Deliveries waiting to be (re)tried.
    pub pending_deliveries: i64,
    /// Until when the previous secret still signs, after a rotation.
    #[serde(with = "time::serde::rfc3339::option")]
    pub previous_secret_until: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A new endpoint with its signing secret, shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

/// One attempt to deliver a message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub number: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The receiver's status code; `null` when none came (timeout, refused connection).
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// A message to one endpoint, with its attempts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// `webhook-id`, the same on every attempt.
    pub message_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending`, `delivered`, `failed` or `cancelled` (the endpoint was deleted).
    pub state: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub attempts: Vec<DeliveryAttempt>,
}

/// Where and how to send a leased delivery.
#[derive(Debug, Clone)]
pub struct Target {
    pub due: Due,
    pub url: String,
    /// The secrets that sign it: the current one, and the previous one during a rotation.
    pub secrets: Vec<String>,
    pub leased_until: OffsetDateTime,
}

/// What an attempt got.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub status: Option<u16>,
    pub retry_after: Option<Duration>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// How long a node holds a delivery it is attempting (longer than the 15 s timeout).
const LEASE: Duration = Duration::from_secs(60);
/// How long the previous secret still signs after a rotation.
const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);

fn endpoint_view(row: EndpointRow, events: Vec<String>, now: OffsetDateTime) -> WebhookEndpoint {
    WebhookEndpoint {
        id: row.id,
        url: row.url,
        description: row.description,
        events,
        enabled: row.disabled_at.is_none(),
        disabled_at: row.disabled_at,
        disabled_reason: row.disabled_reason,
        pending_deliveries: row.pending,
        previous_secret_until: row.old_secret_until.filter(|u| *u > now),
        created_at: row.created_at,
    }
}

fn webhook_not_found(id: Uuid) -> AppError {
    not_found("webhook endpoint", id)
}

impl App {
    pub fn with_webhooks(mut self, settings: WebhookSettings) -> App {
        self.webhooks = Arc::new(settings);
        self
    }

    pub fn webhook_settings(&self) -> &WebhookSettings {
        &self.webhooks
    }

    /// Refuses an endpoint whose host is, or resolves to, a non-public address (unless this
    /// node allows private ones).
    async fn check_webhook_url(&self, url: &str) -> Result<String> {
        let url = validate::web_url(url).map_err(|m| AppError::field("url", m))?;
        if self.webhooks.allow_private {
            return Ok(url);
        }
        let parsed = url::Url::parse(&url).map_err(|e| AppError::field("url", e.to_string()))?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<IpAddr> = match literal.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => {
                let resolving = tokio::net::lookup_host((host.as_str(), port));
                match tokio::time::timeout(Duration::from_secs(3), resolving).await {
                    Ok(Ok(found)) => found.map(|a| a.ip()).collect(),
                    Ok(Err(e)) => {
                        return Err(AppError::field(
                            "url",
                            format!("cannot resolve {host}: {e}"),
                        ));
                    }
                    Err(_) => {
                        return Err(AppError::field(
                            "url",
                            format!("{host} did not resolve within 3 s"),
                        ));
                    }
                }
            }
        };
        if addresses.is_empty() || addresses.iter().any(|ip| !hooks::is_public(*ip)) {
            return Err(AppError::field(
                "url",
                format!(
                    "{host} is a loopback, private or link-local address; webhooks go to public addresses (an operator may set CLAIMTRAIL_WEBHOOK_ALLOW_PRIVATE=true)"
                ),
            ));
        }
        Ok(url)
    }

    pub async fn create_webhook(
        &self,
        actor: &Actor,
        url: &str,
        events: Vec<String>,
        description: Option<String>,
    ) -> Result<CreatedWebhook> {
        require(actor, Permission::ManageWebhooks, "manage webhooks")?;
        let mut v = Validator::new();
        let known = hooks::event_types();
        if events.is_empty() {
            v.error(
                "events",
                format!("name at least one of {}", known.join(", ")),
            );
        }
        for (i, e) in events.iter().enumerate() {
            if !known.contains(&e.as_str()) {
                v.error(
                    format!("events/{i}"),
                    format!("{e:?} is not an event; use one of {}", known.join(", ")),
                );
            } else if events[..i].contains(e) {
                v.error(format!("events/{i}"), format!("{e:?} is listed twice"));
            }
        }
        let description = match description {
            Some(d) => v.check("description", validate::short_text(&d)),
            None => None,
        };
        v.finish(|| ()).map_err(AppError::Validation)?;
        let url = self.check_webhook_url(url).await?;
        let (id, secret, at, name) = (
            Uuid::now_v7(),
            hooks::secret_from(random_bytes()?),
            store::now(),
            actor.who(),
        );
        let (w_url, w_secret, w_events, w_description) = (
            url.clone(),
            secret.clone(),
            events.clone(),
            description.clone(),
        );
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    db::insert_endpoint(
                        tx,
                        id,
                        &w_url,
                        w_description.as_deref(),
                        &w_secret,
                        &w_events,
                        &name.person,
                        at,
                    )
                    .await?;
                    let event = events::webhook_created(id, &w_url, &w_events);
                    store::audit::append(tx, &name, event).await
                })
            })
            .await?;
        Ok(CreatedWebhook {
            endpoint: self.load_webhook(id).await?,
            secret,
        })
    }

    async fn load_webhook(&self, id: Uuid) -> Result<WebhookEndpoint> {
        let found = self
            .store
            .read(|tx| {
                Box::pin(async move {
                    let Some(row) = db::endpoint(tx, id).await? else {
                        return Ok(None);
                    };
                    let events = db::subscriptions(tx, id).await?;
                    Ok::<_, AppError>(Some((row, events)))
                })
            })
            .await?;
        let (row, events) = found.ok_or_else(|| webhook_not_found(id))?;
        Ok(endpoint_view(row, events, store::now()))
    }

    pub async fn get_webhook(&self, actor: &Actor, id: Uuid) -> Result<WebhookEndpoint> {
        require(actor, Permission::ManageWebhooks, "manage webhooks")?;
        self.load_webhook(id).await
    }

    pub async fn list_webhooks(&self, actor: &Actor) -> Result<Vec<WebhookEndpoint>> {
        require(actor, Permission::ManageWebhooks, "manage webhooks")?;
        let rows = self
            .store
            .read(|tx| {
                Box::pin(async move {
                    let mut out = Vec::new();
                    for row in db::endpoints(tx).await? {
                        let events = db::subscriptions(tx, row.id).await?;
                        out.push((row, events));
                    }
                    Ok::<_, AppError>(out)
                })
            })
            .await?;
        let now = store::now();
        Ok(rows
            .into_iter()
            .map(|(row, events)| endpoint_view(row, events, now))
            .collect())
    }

    /// Deletes an endpoint: what it still had to receive is cancelled; its history stays.
    pub async fn delete_webhook(&self, actor: &Actor, id: Uuid) -> Result<()> {
        require(actor, Permission::ManageWebhooks, "manage webhooks")?;
        let (name, at) = (actor.who(), store::now());
        let deleted = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if !db::delete(tx, id, at).await? {
                        return Ok(false);
                    }
                    store::audit::append(tx, &name, events::webhook_deleted(id)).await?;
                    Ok::<_, AppError>(true)
                })
            })
            .await?;
        if deleted {
            Ok(())
        } else {
            Err(webhook_not_found(id))
        }
    }

    /// A new secret, shown once; the previous one keeps signing for 24 hours.
    pub async fn rotate_webhook_secret(&self, actor: &Actor, id: Uuid) -> Result<CreatedWebhook> {
        require(actor, Permission::ManageWebhooks, "manage webhooks")?;
        let (name, secret, until) = (
            actor.who(),
            hooks::secret_from(random_bytes()?),
            store::now() + ROTATION_OVERLAP,
        );
        let written = secret.clone();
        let rotated = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if !db::rotate(tx, id, &written, until).await? {
                        return Ok(false);
                    }
                    let event = events::webhook_secret_rotated(id, until);
                    store::audit::append(tx, &name, event).await?;
                    Ok::<_, AppError>(true)
                })
            })
            .await?;
        if !rotated {
            return Err(webhook_not_found(id));
        }
        Ok(CreatedWebhook {
            endpoint: self.load_webhook(id).await?,
            secret,
        })
    }

    /// Enables a disabled endpoint again (deliveries that failed stay failed; replay them).
    pub async fn enable_webhook(&self, actor: &Actor, id: Uuid) -> Result<WebhookEndpoint> {
        require(actor, Permission::ManageWebhooks, "manage webhooks")?;
        let name = actor.who();
        let enabled = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    if !db::enable(tx, id).await? {
                        return Ok(false);
                    }
                    store::audit::append(tx, &name, events::webhook_enabled(id)).await?;
                    Ok::<_, AppError>(true)
                })
            })
            .await?;
        if !enabled {
            return Err(webhook_not_found(id));
        }
        self.load_webhook(id).await
    }

    /// Queues a `webhook.test` message to the endpoint; its message id.
    pub async fn test_webhook(&self, actor: &Actor, id: Uuid) -> Result<String> {
        require(actor, Permission::ManageWebhooks, "manage webhooks")?;
        self.load_webhook(id).await?;
        let at = store::now();
        let message = hooks::message_id(Uuid::now_v7());
        let payload = hooks::payload(
            hooks::TEST_EVENT,
            at,
            &domain::changes::ChangeData::new(id, &[("webhook", format!("/v1/webhooks/{id}"))]),
        );
        let written = message.clone();
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    db::enqueue_one(tx, id, &written, hooks::TEST_EVENT, &payload, at).await
                })
            })
            .await?;
        Ok(message)
    }

    /// Sends a message again (whatever became of it), as a new series of attempts.
    pub async fn replay_delivery(&self, actor: &Actor, id: Uuid, message_id: &str) -> Result<()> {
        require(actor, Permission::ManageWebhooks, "manage webhooks")?;
        let (at, message) = (store::now(), message_id.to_owned());
        let replayed = self
            .store
            .write(move |tx| Box::pin(async move { db::replay(tx, id, &message, at).await }))
            .await?;
        if replayed {
            Ok(())
        } else {
            Err(not_found("delivery", message_id))
        }
    }

    /// An endpoint's deliveries, newest first (message ids are time-ordered), each with its
    /// attempts; a page ends before the cursor's message.
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: Uuid,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<WebhookDelivery>> {
        require(actor, Permission::ManageWebhooks, "manage webhooks")?;
        let (before, limit) = page_args(cursor, limit)?;
        let before = before.map(domain::webhooks::message_id);
        self.load_webhook(id).await?;
        let (rows, attempts) = self
            .store
            .read(|tx| {
                Box::pin(async move {
                    let rows = db::deliveries(tx, id, before.as_deref(), i64::from(limit)).await?;
                    // The page's messages span a range of ids; their attempts are in it.
                    let attempts = match (rows.last(), rows.first()) {
                        (Some(low), Some(high)) => {
                            db::attempts(tx, id, &low.message_id, &high.message_id).await?
                        }
                        _ => Vec::new(),
                    };
                    Ok::<_, AppError>((rows, attempts))
                })
            })
            .await?;
        let next_cursor = (rows.len() == limit as usize)
            .then(|| rows.last())
            .flatten()
            .and_then(|last| last.message_id.strip_prefix("msg_"))
            .and_then(|hex| Uuid::try_parse(hex).ok())
            .map(|u| Cursor(u).encode());
        let items = rows
            .into_iter()
            .map(|d| WebhookDelivery {
                attempts: attempts
                    .iter()
                    .filter(|a| a.message_id == d.message_id)
                    .map(|a| DeliveryAttempt {
                        number: a.number,
                        at: a.at,
                        status: a.status,
                        latency_ms: a.latency_ms,
                        error: a.error.clone(),
                    })
                    .collect(),
                message_id: d.message_id,
                event_type: d.event_type,
                state: d.state,
                next_attempt_at: d.next_attempt_at,
                created_at: d.created_at,
            })
            .collect();
        Ok(Page { items, next_cursor })
    }

    /// Leases up to `limit` due deliveries to this node, with where to send them.
    pub async fn claim_deliveries(&self, limit: i64) -> Result<Vec<Target>> {
        let now = store::now();
        let leased_until = now + LEASE;
        self.store
            .write(move |tx| {
                Box::pin(async move {
                    let due = db::claim_due(tx, now, leased_until, limit).await?;
                    let mut targets = Vec::with_capacity(due.len());
                    for d in due {
                        let Some(e) = db::endpoint(tx, d.endpoint_id).await? else {
                            continue;
                        };
                        let mut secrets = vec![e.secret];
                        if let (Some(old), Some(until)) = (e.old_secret, e.old_secret_until)
                            && until > now
                        {
                            secrets.push(old);
                        }
                        targets.push(Target {
                            due: d,
                            url: e.url,
                            secrets,
                            leased_until,
                        });
                    }
                    Ok::<_, AppError>(targets)
                })
            })
            .await
    }

    /// Records an attempt and decides what follows: delivered, retried later, or given up on
    /// (410, or the schedule used up), which disables the endpoint.
    pub async fn settle_delivery(&self, target: &Target, result: AttemptResult) -> Result<()> {
        let at = store::now();
        let attempts = usize::try_from(target.due.attempts + 1).unwrap_or(usize::MAX);
        let mut jitter = [0u8; 1];
        getrandom::fill(&mut jitter).ok();
        let (state, next, disable) = match hooks::verdict(result.status) {
            hooks::Verdict::Delivered => ("delivered", None, None),
            hooks::Verdict::Gone => (
                "failed",
                None,
                Some("the endpoint answered 410 Gone".to_owned()),
            ),
            hooks::Verdict::Failed => match hooks::next_wait(
                &self.webhooks.schedule,
                attempts,
                result.retry_after,
                f64::from(jitter[0]) / 255.0,
            ) {
                Some(wait) => ("pending", Some(at + wait), None),
                None => (
                    "failed",
                    None,
                    Some(format!(
                        "every attempt of the retry schedule failed ({attempts} attempts)"
                    )),
                ),
            },
        };
        let target = target.clone();
        let endpoint = target.due.endpoint_id;
        let message = target.due.message_id.clone();
        let (status, error) = (result.status, result.error.clone());
        let disabling = disable.clone();
        let settled = self
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let settled = db::record_attempt(
                        tx,
                        &target.due,
                        at,
                        result.status,
                        result.latency_ms,
                        result.error.as_deref(),
                        state,
                        next,
                        target.leased_until,
                    )
                    .await?;
                    if settled && let Some(reason) = disable {
                        db::disable(tx, target.due.endpoint_id, at, &reason).await?;
                    }
                    Ok::<_, AppError>(settled)
                })
            })
            .await?;
        if settled {
            crate::metrics::webhook_attempt(match state {
                "delivered" => "delivered",
                "pending" => "retrying",
                _ => "failed",
            });
        }
        if state != "delivered" && settled {
            tracing::warn!(
                endpoint = %endpoint,
                message = %message,
                attempt = attempts,
                status = %status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
                error = %error.as_deref().unwrap_or("-"),
                next = %next.map_or_else(|| "-".to_owned(), store::timestamp_text),
                "webhook delivery failed"
            );
        }
        if settled && let Some(reason) = disabling {
            tracing::warn!(endpoint = %endpoint, reason = %reason, "webhook endpoint disabled");
        }
        Ok(())
    }
}

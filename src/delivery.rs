//! The webhook delivery worker: leases due deliveries from the outbox, sends each signed
//! (Standard Webhooks), records the attempt. Several API nodes over one PostgreSQL each run
//! one (a lease skips rows another node holds, so each message goes out from one node); on
//! SQLite the one process delivers.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::app::{App, AttemptResult, Target};
use crate::domain::webhooks as hooks;

/// A receiver gets this long to answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How often an idle worker looks for due deliveries.
const POLL: Duration = Duration::from_millis(500);
/// Deliveries leased at once (sent concurrently).
const BATCH: i64 = 16;

/// Resolves names to public addresses only (no loopback, private or link-local): a webhook
/// URL cannot be turned against the network the server runs in.
#[derive(Debug, Clone, Copy)]
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() || addrs.iter().any(|a| !hooks::is_public(a.ip())) {
                return Err(format!("{host} resolves to a non-public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Makes ring rustls's process-wide default, for other reqwest clients in the same process
/// (the tests' and examples'): the webhook client brings its own configuration.
pub fn install_default_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP client: rustls (ring, webpki roots), no redirects (a 3xx is a failure), no
/// proxies, a 15 s timeout.
pub fn client(allow_private: bool) -> reqwest::Client {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports TLS 1.2 and 1.3")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .no_proxy()
        .user_agent(concat!("claimtrail-webhooks/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        builder = builder.dns_resolver(PublicOnly);
    }
    builder.build().expect("a valid client configuration")
}

/// Runs until `stop` turns true (or its sender is dropped), then returns after the attempts
/// in flight.
pub async fn run(app: App, mut stop: tokio::sync::watch::Receiver<bool>) {
    let allow_private = app.webhook_settings().allow_private;
    let client = client(allow_private);
    loop {
        if *stop.borrow() {
            return;
        }
        let idle = match app.claim_deliveries(BATCH).await {
            Ok(targets) if !targets.is_empty() => {
                let attempts = targets.into_iter().map(|target| {
                    let (app, client) = (app.clone(), client.clone());
                    async move {
                        let result = attempt(&client, &target, allow_private).await;
                        if let Err(e) = app.settle_delivery(&target, result).await {
                            tracing::error!(error = %e, message = %target.due.message_id, "a webhook attempt was not recorded");
                        }
                    }
                });
                futures_util::future::join_all(attempts).await;
                false
            }
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "leasing webhook deliveries failed");
                true
            }
        };
        if idle {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                // A dropped sender stops the worker too.
                changed = stop.changed() => if changed.is_err() { return },
            }
        }
    }
}

/// Starts the worker; send `true` on the returned sender to stop it.
pub fn spawn(
    app: App,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    (tx, tokio::spawn(run(app, rx)))
}

/// `Retry-After`: seconds, or an HTTP date (a date in the past is no wait).
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// One attempt: POST the payload with the Standard Webhooks headers.
async fn attempt(client: &reqwest::Client, target: &Target, allow_private: bool) -> AttemptResult {
    let started = Instant::now();
    let failed = |error: String| AttemptResult {
        status: None,
        retry_after: None,
        latency_ms: started.elapsed().as_millis() as i64,
        error: Some(error),
    };
    // The resolver never sees a literal address.
    if !allow_private
        && let Some(host) = reqwest::Url::parse(&target.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
        && let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        && !hooks::is_public(ip)
    {
        return failed(format!("{ip} is not a public address"));
    }
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let id = &target.due.message_id;
    let secrets: Vec<&str> = target.secrets.iter().map(String::as_str).collect();
    let signature = hooks::signature_header(&secrets, id, timestamp, &target.due.payload);
    let sent = client
        .post(&target.url)
        .header("content-type", "application/json")
        .header("webhook-id", id.as_str())
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(target.due.payload.clone())
        .send()
        .await;
    match sent {
        Err(e) => {
            let why = if e.is_timeout() {
                format!("no answer within {} s", TIMEOUT.as_secs())
            } else {
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    text.push_str(": ");
                    text.push_str(&s.to_string());
                    source = s.source();
                }
                text
            };
            failed(why)
        }
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(retry_after);
            AttemptResult {
                status: Some(status),
                retry_after,
                latency_ms: started.elapsed().as_millis() as i64,
                error: (!(200..300).contains(&status)).then(|| format!("answered {status}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(retry_after(" 120 "), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = std::time::SystemTime::now() + Duration::from_secs(3600);
        let wait = retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(wait > Duration::from_secs(3590) && wait <= Duration::from_secs(3600));
        assert_eq!(retry_after("soon"), None);
    }
}

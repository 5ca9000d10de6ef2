//! Webhooks as the Standard Webhooks spec has them: thin signed payloads, a retry schedule of
//! about a day, what an answer means, and which addresses an endpoint may not point at.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use serde::Serialize;
use utoipa::ToSchema;

use super::changes::{ChangeData, ChangeKind};

/// The event a test ping carries; not a change, never in the feed.
pub const TEST_EVENT: &str = "webhook.test";

/// Waits before each attempt after a failure (attempt 1 is at once): 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h, 10 h, so an endpoint down for the whole of about 27.6 hours is given up on.
pub const SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// A `Retry-After` longer than this is capped (an endpoint cannot park a delivery for days).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(12 * 3600);

/// The event types an endpoint may subscribe to.
pub fn event_types() -> Vec<&'static str> {
    ChangeKind::ALL.iter().map(|k| k.as_str()).collect()
}

/// What every delivery's body holds: thin, so a receiver fetches the rest with its own key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookPayload)]
pub struct Payload {
    /// The event type.
    #[serde(rename = "type")]
    #[schema(example = "review.published")]
    pub kind: String,
    /// When the change was made (RFC 3339).
    #[schema(format = DateTime)]
    pub timestamp: String,
    pub data: ChangeData,
}

/// The body of a delivery: `{type, timestamp, data}` with ids and links only.
pub fn payload(kind: &str, at: OffsetDateTime, data: &ChangeData) -> String {
    let body = Payload {
        kind: kind.to_owned(),
        timestamp: at.format(&Rfc3339).unwrap_or_default(),
        data: data.clone(),
    };
    serde_json::to_string(&body).expect("a payload serializes")
}

/// `webhook-id` of a change's deliveries: the same on every attempt and every endpoint.
pub fn message_id(change: uuid::Uuid) -> String {
    format!("msg_{}", change.simple())
}

/// A signing secret from 32 random bytes (the caller draws them: no I/O here): `whsec_` and
/// the bytes in base64.
pub fn secret_from(key: [u8; 32]) -> String {
    format!("whsec_{}", STANDARD.encode(key))
}

/// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the key a `whsec_` secret holds.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per valid secret, space-separated (during a
/// rotation the old secret signs too, for 24 hours).
pub fn signature_header(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .filter_map(|s| sign(s, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What an attempt's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// 410 Gone: the receiver asks to stop; the endpoint is disabled.
    Gone,
    /// Anything else (3xx included: redirects are not followed; timeouts; refused
    /// connections): try again later.
    Failed,
}

pub fn verdict(status: Option<u16>) -> Verdict {
    match status {
        Some(s) if (200..300).contains(&s) => Verdict::Delivered,
        Some(410) => Verdict::Gone,
        _ => Verdict::Failed,
    }
}

/// When to try again after `attempts` failed attempts: the schedule's wait (with up to 10 %
/// jitter from `jitter` in 0..1), or the receiver's `Retry-After` if that is longer (capped);
/// `None` once the schedule is used up.
pub fn next_wait(
    schedule: &[Duration],
    attempts: usize,
    retry_after: Option<Duration>,
    jitter: f64,
) -> Option<Duration> {
    let base = *schedule.get(attempts.checked_sub(1)?)?;
    let jittered = base.mul_f64(1.0 + 0.1 * jitter.clamp(0.0, 1.0));
    Some(match retry_after {
        Some(r) => jittered.max(r.min(MAX_RETRY_AFTER)),
        None => jittered,
    })
}

/// Whether an address is one a webhook may reach: not loopback, private, link-local,
/// unspecified, shared (100.64/10), documentation, multicast or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s0 = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s0 & 0xfe00) == 0xfc00
                || (s0 & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_spec_test_vector() {
        // From the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let both = signature_header(
            &[secret, secret],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
        );
        assert_eq!(both.split(' ').count(), 2);
        assert_eq!(
            secret_from([0; 32]),
            "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        );
    }

    #[test]
    fn answers_and_waits() {
        assert_eq!(verdict(Some(204)), Verdict::Delivered);
        assert_eq!(verdict(Some(301)), Verdict::Failed);
        assert_eq!(verdict(Some(410)), Verdict::Gone);
        assert_eq!(verdict(None), Verdict::Failed);
        assert_eq!(
            next_wait(&SCHEDULE, 1, None, 0.0),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            next_wait(&SCHEDULE, 2, None, 1.0),
            Some(Duration::from_secs(330))
        );
        assert_eq!(
            next_wait(&SCHEDULE, 1, Some(Duration::from_secs(60)), 0.0),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            next_wait(&SCHEDULE, 1, Some(Duration::from_secs(10 * 86400)), 0.0),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(next_wait(&SCHEDULE, SCHEDULE.len() + 1, None, 0.0), None);
        let total: Duration = SCHEDULE.iter().sum();
        assert!(total > Duration::from_secs(20 * 3600) && total < Duration::from_secs(30 * 3600));
    }

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "fd00::1",
            "100.64.0.1",
            "0.0.0.0",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}

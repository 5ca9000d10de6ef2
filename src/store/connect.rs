//! What the database setting names, and errors about it that say what is wrong without ever
//! printing a credential: the scheme checked, SQLite paths checked before a file is made,
//! PostgreSQL's refusals named at once (a pool would retry a refused connection until its
//! timeout and then only say that it timed out).

use std::path::Path;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::StoreError;

/// How long naming a PostgreSQL error may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The schemes a database URL may have; anything else without a scheme is an SQLite path.
pub const ACCEPTED: &str = "postgres://, postgresql://, sqlite:// (or sqlite:) or a file path";

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Postgres,
    Sqlite,
}

/// The backend of `url`; an unknown scheme (`postgress://…`, `mysql://…`) is refused, naming
/// it and the accepted ones, instead of becoming an SQLite file named like the URL.
pub fn scheme(url: &str) -> Result<Scheme, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Scheme::Postgres);
    }
    if url.starts_with("sqlite:") {
        return Ok(Scheme::Sqlite);
    }
    if let Some((name, _)) = url.split_once("://")
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return Err(StoreError::other(format!(
            "unknown database URL scheme {name:?}; use {ACCEPTED}"
        )));
    }
    Ok(Scheme::Sqlite)
}

/// `url` with its password (in the user info, or a `password=` query option) replaced by
/// `***`, for messages.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = redact_userinfo(base);
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

fn redact_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The authority ends at the first '/', '?' or '#'; credentials end at its last '@'.
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => userinfo.to_owned(),
            };
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// The secrets a message about `url` must not hold: its password as written and decoded, and
/// a password given as a `password=` query option.
fn secrets(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some((_, rest)) = url.split_once("://") {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some((userinfo, _)) = rest[..end].rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
        {
            found.push(password.to_owned());
            if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
                found.push(decoded.into_owned());
            }
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            if let Some((key, value)) = pair.split_once('=')
                && key.eq_ignore_ascii_case("password")
            {
                found.push(value.to_owned());
                if let Ok(decoded) = percent_encoding::percent_decode_str(value).decode_utf8() {
                    found.push(decoded.into_owned());
                }
            }
        }
    }
    found.retain(|s| !s.is_empty());
    // Longest first, so that a decoded password holding the raw one is replaced whole.
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found
}

/// `message` with the whole of `url` shown redacted and any password of it replaced.
pub fn scrub(message: &str, url: &str) -> String {
    let mut out = message.replace(url, &redact(url));
    for secret in secrets(url) {
        out = out.replace(&secret, "***");
    }
    out
}

/// The same error, its message scrubbed of `url`'s credentials.
pub fn scrubbed(e: StoreError, url: &str) -> StoreError {
    match e {
        StoreError::Conflict(c) => StoreError::Conflict(c),
        StoreError::Unavailable(m) => StoreError::Unavailable(scrub(&m, url).into()),
        StoreError::Other(m) => StoreError::Other(scrub(&m, url).into()),
    }
}

/// Checks an SQLite path before it is opened: its directory must exist (a mistyped path
/// would otherwise make a new, empty database somewhere). Returns whether the file is new.
pub fn check_sqlite_path(path: &Path) -> Result<bool, StoreError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(StoreError::other(format!(
                "the SQLite database {} cannot be made: {} is not a directory",
                path.display(),
                dir.display()
            )));
        }
        Err(_) => {
            return Err(StoreError::other(format!(
                "the SQLite database {} cannot be opened: its directory {} does not exist \
                 (create it, or check DATABASE_URL)",
                path.display(),
                dir.display()
            )));
        }
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(StoreError::other(format!(
            "the SQLite database path {} is a directory; give a file path",
            path.display()
        ))),
        Ok(_) => Ok(false),
        Err(_) => Ok(true),
    }
}

/// Where a PostgreSQL connection goes, for messages (no user, no password).
pub fn postgres_target(options: &PgConnectOptions) -> String {
    format!(
        "PostgreSQL at {}:{}",
        options.get_host(),
        options.get_port()
    )
}

/// Opens one connection (no pool, no retries) and names why it failed: refused, no answer,
/// a name that does not resolve, authentication, a missing database. Within [`PROBE_TIMEOUT`].
pub async fn probe_postgres(options: &PgConnectOptions) -> Result<(), StoreError> {
    let target = postgres_target(options);
    let user = options.get_username().to_owned();
    let database = options.get_database().unwrap_or(&user).to_owned();
    match tokio::time::timeout(PROBE_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(describe_connect_error(&e, &target, &user, &database)),
        Err(_) => Err(StoreError::Unavailable(
            format!(
                "{target} did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            )
            .into(),
        )),
    }
}

fn describe_connect_error(e: &sqlx::Error, target: &str, user: &str, database: &str) -> StoreError {
    match e {
        sqlx::Error::Io(io) => {
            let why = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    "refused the connection (is PostgreSQL running and listening there?)".to_owned()
                }
                std::io::ErrorKind::TimedOut => "did not answer".to_owned(),
                _ => format!("cannot be reached: {io}"),
            };
            StoreError::Unavailable(format!("{target} {why}").into())
        }
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01" | "28000") => StoreError::Other(
                format!("{target}: authentication failed for user {user:?}").into(),
            ),
            Some("3D000") => StoreError::Other(
                format!("{target}: the database {database:?} does not exist").into(),
            ),
            Some(code) => StoreError::Unavailable(
                format!("{target} refused the connection: {} ({code})", db.message()).into(),
            ),
            None => StoreError::Unavailable(format!("{target}: {}", db.message()).into()),
        },
        sqlx::Error::Tls(tls) => {
            StoreError::Unavailable(format!("{target}: TLS failed: {tls}").into())
        }
        other => StoreError::Unavailable(format!("{target}: {other}").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "postgress://admin:S3cretPW@db.internal/claimtrail";

    #[test]
    fn an_unknown_scheme_is_named_with_the_accepted_ones() {
        let e = scheme(URL).unwrap_err().to_string();
        assert!(e.contains("\"postgress\""), "{e}");
        assert!(e.contains("postgres://") && e.contains("sqlite://"), "{e}");
        assert!(!e.contains("S3cretPW"), "{e}");
        for ok in ["postgres://a@b/c", "postgresql://b/c"] {
            assert_eq!(scheme(ok).unwrap(), Scheme::Postgres);
        }
        for ok in [
            "sqlite://x.db",
            "sqlite:x.db",
            "x.db",
            "/var/lib/c.db",
            "C:\\c.db",
        ] {
            assert_eq!(scheme(ok).unwrap(), Scheme::Sqlite, "{ok}");
        }
    }

    #[test]
    fn passwords_are_redacted_and_scrubbed() {
        assert_eq!(
            redact("postgres://admin:S3cretPW@db.internal:5432/claimtrail?sslmode=require"),
            "postgres://admin:***@db.internal:5432/claimtrail?sslmode=require"
        );
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
        assert_eq!(
            redact("postgres://u@db/x?sslmode=require&password=S3cretPW"),
            "postgres://u@db/x?sslmode=require&password=***"
        );
        // '@' in a password (percent-encoded or not) and a password option.
        let url = "postgres://admin:p%40ss@word@h/db?password=Other%21";
        let message = format!("failed: {url}; p@ss@word; Other!; p%40ss@word");
        let out = scrub(&message, url);
        for secret in ["p%40ss", "p@ss", "Other", "word@"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
    }
}

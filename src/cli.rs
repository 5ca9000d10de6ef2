//! The `claimtrail` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::app::App;
use crate::domain::access::Actor;
use crate::domain::access::Role;
use crate::domain::claimreview::Organization;
use crate::http::{self, HttpConfig};
use crate::store::Store;

#[derive(Debug, Parser)]
#[command(
    name = "claimtrail",
    version,
    about = "A trustworthy record of claims and their sources"
)]
struct Cli {
    /// `postgres://…` for PostgreSQL; otherwise an SQLite file path or `sqlite://` URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "claimtrail.db",
        global = true
    )]
    database_url: String,
    /// Most database connections this process opens.
    #[arg(
        long,
        env = "CLAIMTRAIL_MAX_CONNECTIONS",
        default_value_t = 8,
        global = true
    )]
    max_connections: u32,
    /// Query parameters that only track where a reader came from, comma-separated, dropped
    /// from URLs before the lookup compares them, beside the built-in list (README
    /// "Integrating a CMS"); `name*` drops every parameter starting with `name`. Changing
    /// them recomputes the stored lookup forms at the next start.
    #[arg(
        long,
        env = "CLAIMTRAIL_TRACKING_PARAMS",
        value_delimiter = ',',
        global = true
    )]
    tracking_params: Vec<String>,
    /// Log lines as `text` (colour only on a terminal) or `json` (one object per line).
    #[arg(
        long,
        env = "CLAIMTRAIL_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text,
        global = true
    )]
    log_format: LogFormat,
    /// The file holding the transparency log's Ed25519 signing key (a signed-note signer key,
    /// `PRIVATE+KEY+<name>+<id>+<key>`), made with mode 0600 at the first start when absent.
    /// Never stored in the database; every API node of one database is given the same file.
    #[arg(
        long,
        env = "CLAIMTRAIL_LOG_KEY_FILE",
        default_value = "claimtrail-log.key",
        global = true
    )]
    log_key_file: PathBuf,
    /// The log's origin, the first line of its checkpoints: a name unique to this log, like
    /// `claims.example.org/audit`. Verifiers pin it.
    #[arg(
        long,
        env = "CLAIMTRAIL_LOG_ORIGIN",
        default_value = "claimtrail.localhost/audit",
        global = true
    )]
    log_origin: String,
    /// The signing key's name (default: the origin). Part of the key's id: a new name needs a
    /// new key.
    #[arg(long, env = "CLAIMTRAIL_LOG_KEY_NAME", global = true)]
    log_key_name: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `info,sqlx=warn`): ANSI colour only
/// when stderr is a terminal, or one JSON object per line.
///
/// Lines are formatted on the request's thread and written by a thread of their own, in
/// batches (one `write` per burst rather than one per line): the access line is written for
/// every request, and writing it in place cost about a quarter of the lookup's rate. No line
/// is dropped (a full queue of 128,000 lines makes callers wait, as a blocked stderr did
/// before); the returned guard flushes what is queued when it is dropped, so hold it until
/// the process ends.
fn init_logging(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::stderr().is_terminal();
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("claimtrail-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.with_ansi(ansi).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    guard
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply migrations and serve the API (migrations run first, every time).
    Serve(ServeArgs),
    /// Apply migrations and exit.
    Migrate,
    /// Write a consistent copy of the database to PATH while the server runs (SQLite: a
    /// compact database file; PostgreSQL: a `pg_dump` custom-format archive). See
    /// docs/operations.md for restoring one.
    Backup {
        /// Where to write the copy; must not exist.
        path: PathBuf,
        /// The `pg_dump` program (PostgreSQL only).
        #[arg(long, env = "CLAIMTRAIL_PG_DUMP", default_value = "pg_dump")]
        pg_dump: String,
    },
    /// Import text files (or directories of .txt files) as sources; a manifest.json beside
    /// them gives metadata. Importing the same text again adds nothing.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Load the sample dataset into an empty database.
    Demo,
    /// Every source that states a figure ("$4bn", "about 15 per cent"), earliest first, as a
    /// table (the same as `GET /v1/trace`).
    Trace {
        /// A text holding the figure.
        query: String,
    },
    /// The figures of texts, without a database: reads JSON lines `{"id": …, "text": …}` on
    /// stdin and writes `{"id": …, "mentions": […]}` per line (as the API lists them).
    Extract,
    /// Create, list and revoke API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Inspect the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the OpenAPI document (or write it to a file).
    Openapi {
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print only the generated guide (review workflow, audit hashes) that the README
        /// carries.
        #[arg(long)]
        guide: bool,
    },
}

/// `serve`'s settings.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CLAIMTRAIL_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Load the sample dataset if the database is empty.
    #[arg(long)]
    demo: bool,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "CLAIMTRAIL_MAX_BODY_BYTES", default_value_t = 32 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Let an editor approve their own review (for one-person desks). Every workflow step
    /// records whether the second-person rule was on.
    #[arg(long, env = "CLAIMTRAIL_ALLOW_SELF_APPROVAL")]
    allow_self_approval: bool,
    /// Memory for cached folded texts used by quote resolution, in MiB.
    #[arg(long, env = "CLAIMTRAIL_ANCHOR_CACHE_MIB", default_value_t = 512)]
    anchor_cache_mib: usize,
    /// The organisation that publishes verdicts (ClaimReview `author`); required, except
    /// with --demo, which names a sample desk.
    #[arg(long, env = "CLAIMTRAIL_ORG_NAME")]
    org_name: Option<String>,
    /// Its home page; a verdict's page on another host is warned about.
    #[arg(long, env = "CLAIMTRAIL_ORG_URL")]
    org_url: Option<String>,
    /// Its logo (an image URL), optional.
    #[arg(long, env = "CLAIMTRAIL_ORG_LOGO")]
    org_logo: Option<String>,
    /// The service's public base URL (like `https://claims.example.org`), for the absolute
    /// links of public documents (ClaimReview's `ct:` links); without it they are left out.
    #[arg(long, env = "CLAIMTRAIL_PUBLIC_URL")]
    public_url: Option<String>,
    /// Origins whose browser code may call the API (CORS), comma-separated, like
    /// `https://cms.example.org`.
    #[arg(long, env = "CLAIMTRAIL_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// How long the response to an `Idempotency-Key` is kept, in hours.
    #[arg(long, env = "CLAIMTRAIL_IDEMPOTENCY_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=24 * 30))]
    idempotency_hours: u64,
    /// Let webhook endpoints resolve to loopback, private or link-local addresses.
    #[arg(long, env = "CLAIMTRAIL_WEBHOOK_ALLOW_PRIVATE")]
    webhook_allow_private: bool,
    /// Where to serve `GET /metrics` (Prometheus text), like `127.0.0.1:9464`: a listener
    /// of its own, never the API's; without it there are no metrics.
    #[arg(long, env = "CLAIMTRAIL_METRICS_BIND")]
    metrics_bind: Option<String>,
    /// Waits between webhook attempts, in seconds, comma-separated (default: 5, 300,
    /// 1800, 7200, 18000, 36000, 36000: about a day).
    #[arg(long, env = "CLAIMTRAIL_WEBHOOK_SCHEDULE", value_delimiter = ',')]
    webhook_schedule: Vec<f64>,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key for a person and print its token (shown only this once). The person is
    /// made if their handle is new.
    Create {
        /// The person's handle (lower-case letters, digits, '.', '_', '-'): what the audit
        /// trail and the workflow record.
        #[arg(long)]
        person: String,
        /// admin, editor, fact_checker, auditor or integration
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// A label for the key (default: the handle and the role).
        #[arg(long)]
        name: Option<String>,
        /// The person's full name, when the handle is new (default: the handle).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id.
    Revoke { id: crate::domain::KeyId },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain; exit 1 at the first entry that does not match, or when the
    /// chain no longer holds a checkpoint published earlier (a report's length and head, or a
    /// signed checkpoint saved from `GET /v1/audit/checkpoint`).
    Verify {
        #[arg(long, requires = "checkpoint_hash", conflicts_with = "checkpoint")]
        checkpoint_seq: Option<i64>,
        #[arg(long, requires = "checkpoint_seq", conflicts_with = "checkpoint")]
        checkpoint_hash: Option<String>,
        /// A signed checkpoint saved earlier: its signature is checked, then that the log
        /// still extends it (no cut tail, no rewritten history).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The verifier key to check the checkpoint's signature with (default: the log's own,
        /// from its key file).
        #[arg(long, requires = "checkpoint")]
        key: Option<String>,
    },
    /// Print a proof that entry SEQ is in the log (C2SP tlog-proof: the entry, its inclusion
    /// proof and the signed checkpoint), checkable offline.
    Prove {
        #[arg(long)]
        seq: i64,
    },
}

/// The transparency log's signing key, read from its file or, when `make` and the file is
/// absent, made there with mode 0600.
fn log_key(cli: &Cli, make: bool) -> anyhow::Result<crate::domain::tlog::LogKey> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let path = &cli.log_key_file;
    let shown = path.display();
    let name = cli.log_key_name.as_deref().unwrap_or(&cli.log_origin);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && make => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed)
                .map_err(|e| anyhow::anyhow!("no random source for the log's key: {e}"))?;
            let text = crate::domain::tlog::LogKey::secret_text(name, seed)
                .map_err(|e| anyhow::anyhow!("CLAIMTRAIL_LOG_KEY_NAME: {e}"))?;
            let made = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()));
            match made {
                Ok(()) => {
                    tracing::info!(path = %shown, "made the transparency log's signing key");
                    text
                }
                // Another process made it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    std::fs::read_to_string(path)?
                }
                Err(e) => anyhow::bail!(
                    "cannot make the log's signing key {shown}: {e} (CLAIMTRAIL_LOG_KEY_FILE)"
                ),
            }
        }
        Err(e) => anyhow::bail!(
            "cannot read the log's signing key {shown}: {e} (CLAIMTRAIL_LOG_KEY_FILE; `serve` makes one)"
        ),
    };
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %shown, "the log's signing key can be read by other users: chmod 600 it");
    }
    crate::domain::tlog::LogKey::from_secret(&text, name, &cli.log_origin)
        .map_err(|e| anyhow::anyhow!("the log's signing key {shown} {e}"))
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role {s:?}; use one of {}", names.join(", "))
    })
}

/// The operator at the command line, as the audit trail records them.
fn cli_actor() -> Actor {
    Actor::operator("cli")
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_guard = init_logging(cli.log_format);
    let cli_json = cli.log_format == LogFormat::Json;
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            drop(log_guard);
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli));
    match outcome {
        Ok(code) => code,
        Err(e) if cli_json => {
            tracing::error!(error = %format!("{e:#}"), "failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            // The queued log lines first, so the error is the last thing printed.
            drop(log_guard);
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The publishing organisation from the settings; `--demo` names a sample desk when they are
/// not set.
fn organization(
    name: Option<&str>,
    url: Option<&str>,
    logo: Option<&str>,
    demo: bool,
) -> anyhow::Result<Organization> {
    let (name, url) = match (name, url) {
        (Some(n), Some(u)) => (n.trim().to_owned(), u.trim().to_owned()),
        _ if demo => (
            "Sample Fact Desk".to_owned(),
            "https://factdesk.example/".to_owned(),
        ),
        _ => anyhow::bail!(
            "set CLAIMTRAIL_ORG_NAME and CLAIMTRAIL_ORG_URL (or --org-name/--org-url): \
             published verdicts carry the organisation that publishes them in their ClaimReview markup"
        ),
    };
    if name.is_empty() {
        anyhow::bail!("CLAIMTRAIL_ORG_NAME is blank");
    }
    let check = |what: &str, u: &str| {
        crate::domain::validate::web_url(u).map_err(|m| anyhow::anyhow!("{what} {m}"))
    };
    Ok(Organization {
        name,
        url: check("CLAIMTRAIL_ORG_URL", &url)?,
        logo: logo.map(|l| check("CLAIMTRAIL_ORG_LOGO", l)).transpose()?,
    })
}

/// The lookup-form rule of the settings.
fn url_rule(cli: &Cli) -> anyhow::Result<crate::domain::urls::UrlRule> {
    crate::domain::urls::UrlRule::new(&cli.tracking_params)
        .map_err(|why| anyhow::anyhow!("CLAIMTRAIL_TRACKING_PARAMS: {why}"))
}

/// The application over `store` with the settings every command shares.
fn app(cli: &Cli, store: Store, anchor_budget_bytes: usize) -> anyhow::Result<App> {
    Ok(App::new(store, anchor_budget_bytes).with_url_rule(url_rule(cli)?))
}

/// The public base URL: an absolute http(s) URL, kept without a trailing slash.
fn public_url(value: Option<&str>) -> anyhow::Result<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let url = crate::domain::validate::web_url(value)
        .map_err(|m| anyhow::anyhow!("CLAIMTRAIL_PUBLIC_URL {m}"))?;
    if url.contains('?') {
        anyhow::bail!("CLAIMTRAIL_PUBLIC_URL must not have a query");
    }
    Ok(Some(url.trim_end_matches('/').to_owned()))
}

async fn open(cli: &Cli) -> anyhow::Result<Store> {
    let store = Store::connect(&cli.database_url, cli.max_connections)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", redact(&cli.database_url)))?;
    store.migrate().await?;
    // Stored lookup forms follow the URL rule in force (recomputed when it changed).
    if let Some(done) = app(cli, store.clone(), 0)?
        .recompute_url_keys()
        .await
        .map_err(describe)?
        && done.source_urls + done.published_urls + done.dropped.len() > 0
    {
        tracing::info!(
            "recomputed the lookup form of {} source URLs and {} published URLs under the URL rule in force ({} URLs now another source's, dropped: see the warnings)",
            done.source_urls,
            done.published_urls,
            done.dropped.len()
        );
    }
    // Upgrade steps the application computes (the schema's own are the migrations above):
    // figures of versions extracted by an older extractor, extracted again (the bar shows
    // only on a terminal).
    let bar = indicatif::ProgressBar::new(0).with_message("extracting figures of stored versions");
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}")
            .expect("a valid template"),
    );
    let extracted = app(cli, store.clone(), 0)?
        .reextract_mentions(|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await
        .map_err(describe)?;
    bar.finish_and_clear();
    if extracted > 0 {
        tracing::info!("extracted the figures of {extracted} stored versions");
    }
    // The transparency log's hashes of entries written before it existed.
    let logged = app(cli, store.clone(), 0)?
        .backfill_log()
        .await
        .map_err(describe)?;
    if logged > 0 {
        tracing::info!("added {logged} audit entries to the transparency log");
    }
    Ok(store)
}

/// Demo mode: a fresh key per role, printed so that a newcomer can call the API at once.
async fn print_demo_keys(app: &App) -> anyhow::Result<()> {
    // Keys printed at an earlier start stop working: only this run's are valid.
    let demo = Actor::operator("demo");
    for key in app.list_keys(&demo).await.map_err(describe)? {
        if key.created_by == "demo" && key.revoked_at.is_none() {
            app.revoke_key(&demo, key.id).await.map_err(describe)?;
        }
    }
    println!(
        "Demo API keys, one per sample person (send as `Authorization: Bearer <key>`; new ones \
         at every demo start):"
    );
    crate::demo::people(app).await?;
    for (handle, name, role) in crate::demo::PEOPLE {
        let (_, token) = app
            .create_key(&demo, &format!("demo-{handle}"), role, handle)
            .await
            .map_err(describe)?;
        println!("  {:<13} {:<12} {token}  ({name})", role.as_str(), handle);
    }
    Ok(())
}

/// A trace as a terminal table: one line per hit, then the counts per publisher.
fn trace_table(report: &crate::app::TraceReport) -> String {
    use std::fmt::Write;
    let clip = |s: &str, n: usize| -> String {
        let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
        match flat.char_indices().nth(n) {
            Some((i, _)) => format!("{}…", &flat[..i]),
            None => flat,
        }
    };
    let q = &report.query;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({} hits; approximate matches within {}%)",
        q.value,
        q.unit.key(),
        report.hits.len(),
        report.tolerance_percent
    );
    let _ = writeln!(
        out,
        "{:<3} {:<10} {:<24} {:<28} {:<11} {:<22} attribution",
        "#", "published", "publisher", "source", "match", "as written"
    );
    for (i, h) in report.hits.iter().enumerate() {
        let matched = match h.matched {
            crate::domain::statistics::Match::Exact => "exact",
            crate::domain::statistics::Match::Approximate => "approximate",
            crate::domain::statistics::Match::InRange => "in range",
        };
        let _ = writeln!(
            out,
            "{:<3} {:<10} {:<24} {:<28} {:<11} {:<22} {}{}",
            i + 1,
            clip(h.source.published_at.as_deref().unwrap_or("-"), 10),
            clip(h.source.publisher.as_deref().unwrap_or("-"), 23),
            clip(&h.source.title, 27),
            matched,
            clip(&h.mention.exact, 21),
            clip(h.mention.attribution.as_deref().unwrap_or(""), 40),
            if h.in_chain { " [chain]" } else { "" }
        );
    }
    for p in &report.publishers {
        let _ = writeln!(
            out,
            "  {:>3}  {}",
            p.hits,
            p.publisher.as_deref().unwrap_or("(no publisher)")
        );
    }
    out
}

fn describe(e: crate::app::AppError) -> anyhow::Error {
    match e {
        crate::app::AppError::Validation(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Hides a password in a database URL before it is printed.
fn redact(url: &str) -> String {
    crate::store::connect::redact(url)
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Openapi { out, guide } => openapi(out.as_deref(), *guide),
        Command::Migrate => migrate(&cli).await,
        Command::Backup { path, pg_dump } => backup(&cli, path, pg_dump).await,
        Command::Demo => demo(&cli).await,
        Command::Extract => extract(),
        Command::Trace { query } => trace(&cli, query).await,
        Command::Import { paths } => import(&cli, paths).await,
        Command::Keys { command } => keys(&cli, command).await,
        Command::Audit { command } => audit(&cli, command).await,
        Command::Serve(args) => serve(&cli, args).await,
    }
}

fn openapi(out: Option<&std::path::Path>, guide: bool) -> anyhow::Result<ExitCode> {
    if guide {
        print!("{}", http::operations::guide());
        return Ok(ExitCode::SUCCESS);
    }
    let json = http::openapi_json();
    match out {
        Some(path) => std::fs::write(path, json)?,
        None => print!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn migrate(cli: &Cli) -> anyhow::Result<ExitCode> {
    let store = open(cli).await?;
    println!("migrations applied ({})", store.backend());
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn backup(cli: &Cli, path: &std::path::Path, pg_dump: &str) -> anyhow::Result<ExitCode> {
    let report = crate::store::backup::backup(&cli.database_url, path, pg_dump)
        .await
        .map_err(|e| anyhow::anyhow!("backup of {} failed: {e}", redact(&cli.database_url)))?;
    match report.audit_entries {
        Some(n) => println!(
            "backed up {} to {} ({} bytes, {n} audit entries)",
            redact(&cli.database_url),
            report.path.display(),
            report.bytes
        ),
        None => println!(
            "backed up {} to {} ({} bytes)",
            redact(&cli.database_url),
            report.path.display(),
            report.bytes
        ),
    }
    Ok(ExitCode::SUCCESS)
}

async fn demo(cli: &Cli) -> anyhow::Result<ExitCode> {
    let store = open(cli).await?;
    let app = app(cli, store.clone(), 64 << 20)?;
    if crate::demo::load_if_empty(&app).await? {
        println!("sample dataset loaded");
    } else {
        println!("the database already has sources; sample dataset not loaded");
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn extract() -> anyhow::Result<ExitCode> {
    use std::io::{BufRead, Write};
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let input: serde_json::Value = serde_json::from_str(&line)?;
        let text = input["text"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("each line needs a \"text\" string"))?;
        let mentions = crate::domain::statistics::extract(text);
        let answer = serde_json::json!({"id": input["id"], "mentions": mentions});
        writeln!(out, "{answer}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

async fn trace(cli: &Cli, query: &str) -> anyhow::Result<ExitCode> {
    let store = open(cli).await?;
    let app = app(cli, store.clone(), 0)?;
    let report = app
        .trace(
            &Actor::operator("cli:trace"),
            crate::app::TraceInput::Text(query.to_owned()),
        )
        .await;
    store.close().await;
    print!("{}", trace_table(&report.map_err(describe)?));
    Ok(ExitCode::SUCCESS)
}

async fn import(cli: &Cli, paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let store = open(cli).await?;
    let app = app(cli, store.clone(), 64 << 20)?;
    let summary = crate::import::import_paths(&app, &Actor::operator("cli:import"), paths).await?;
    store.close().await;
    println!(
        "imported: {} new sources, {} new versions, {} unchanged, {} failed",
        summary.created,
        summary.new_versions,
        summary.unchanged,
        summary.failed.len()
    );
    if !summary.failed.is_empty() {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn keys(cli: &Cli, command: &KeysCommand) -> anyhow::Result<ExitCode> {
    let store = open(cli).await?;
    let app = app(cli, store.clone(), 0)?;
    match command {
        KeysCommand::Create {
            person,
            role,
            name,
            display_name,
        } => {
            let display = display_name.as_deref().unwrap_or(person);
            app.ensure_person(&cli_actor(), person, display)
                .await
                .map_err(describe)?;
            let name = name
                .clone()
                .unwrap_or_else(|| format!("{person}-{}", role.as_str()));
            let (key, token) = app
                .create_key(&cli_actor(), &name, *role, person)
                .await
                .map_err(describe)?;
            println!("{token}");
            eprintln!(
                "created key {} ({}, {}) for {}; the token above is shown only once",
                key.id,
                key.name,
                key.role.as_str(),
                key.person
            );
        }
        KeysCommand::List => {
            for key in app.list_keys(&cli_actor()).await.map_err(describe)? {
                let state = if key.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    key.id,
                    key.role.as_str(),
                    key.person,
                    key.name
                );
            }
        }
        KeysCommand::Revoke { id } => {
            let key = app.revoke_key(&cli_actor(), *id).await.map_err(describe)?;
            println!("revoked {} ({})", key.id, key.name);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn audit(cli: &Cli, command: &AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify {
            checkpoint: Some(file),
            key,
            ..
        } => {
            let note = std::fs::read(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let store = open(cli).await?;
            let app = app(cli, store.clone(), 0)?.with_log_key(log_key(cli, false)?);
            let verdict = app
                .verify_log(&cli_actor(), &note, key.as_deref())
                .await
                .map_err(describe)?;
            store.close().await;
            match verdict {
                Ok(report) => println!(
                    "log verified: {} entries (root {}), extending the checkpoint of {} entries",
                    report.size, report.root, report.checkpoint.size
                ),
                Err(why) => {
                    println!("log does NOT hold the checkpoint: {why}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        AuditCommand::Verify {
            checkpoint_seq,
            checkpoint_hash,
            ..
        } => {
            let store = open(cli).await?;
            let app = app(cli, store.clone(), 0)?;
            let checkpoint = crate::app::CheckpointQuery {
                seq: *checkpoint_seq,
                hash: checkpoint_hash.clone(),
            };
            let report = app
                .verify_audit(&cli_actor(), checkpoint)
                .await
                .map_err(describe)?;
            store.close().await;
            match report.first_break {
                None => println!(
                    "audit chain verified: {} entries, head {}",
                    report.length, report.head
                ),
                Some(b) => {
                    println!(
                        "audit chain BROKEN after {} verified entries (head {}): {}",
                        report.length,
                        report.head,
                        serde_json::to_string(&b)?
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        AuditCommand::Prove { seq } => {
            let store = open(cli).await?;
            let app = app(cli, store.clone(), 0)?.with_log_key(log_key(cli, false)?);
            let proof = app
                .prove_entry(&cli_actor(), *seq)
                .await
                .map_err(describe)?;
            store.close().await;
            print!("{proof}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let ServeArgs {
        bind,
        demo,
        max_body_bytes,
        allow_self_approval,
        anchor_cache_mib,
        org_name,
        org_url,
        org_logo,
        public_url: public_base,
        cors_origins,
        idempotency_hours,
        webhook_allow_private,
        webhook_schedule,
        metrics_bind,
    } = args;
    let mut webhooks = crate::app::WebhookSettings {
        allow_private: *webhook_allow_private,
        ..Default::default()
    };
    if !webhook_schedule.is_empty() {
        if webhook_schedule.iter().any(|s| !s.is_finite() || *s < 0.0) {
            anyhow::bail!("CLAIMTRAIL_WEBHOOK_SCHEDULE: waits are seconds, 0 or more");
        }
        webhooks.schedule = webhook_schedule
            .iter()
            .map(|s| std::time::Duration::from_secs_f64(*s))
            .collect();
    }
    let org = organization(
        org_name.as_deref(),
        org_url.as_deref(),
        org_logo.as_deref(),
        *demo,
    )?;
    let public_base = public_url(public_base.as_deref())?;
    let cors_origins: Vec<String> = cors_origins
        .iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    http::check_cors_origins(&cors_origins)
        .map_err(|why| anyhow::anyhow!("CLAIMTRAIL_CORS_ORIGINS: {why}"))?;
    let public_base_shown = public_base.clone();
    let org_shown = (org.name.clone(), org.url.clone());
    let cors_shown = cors_origins.join(",");
    let schedule_shown = webhooks
        .schedule
        .iter()
        .map(|d| d.as_secs_f64().to_string())
        .collect::<Vec<_>>()
        .join(",");
    let store = open(cli).await?;
    let log_key = log_key(cli, true)?;
    let log_verifier = log_key.verifier_key().to_owned();
    let app = app(cli, store.clone(), anchor_cache_mib << 20)?
        .with_log_key(log_key)
        .with_second_person_rule(!allow_self_approval)
        .with_organization(org)
        .with_public_url(public_base)
        .with_webhooks(webhooks);
    if *allow_self_approval {
        tracing::warn!("the second-person rule is OFF: editors may approve their own reviews");
    }
    if *demo {
        if crate::demo::load_if_empty(&app).await? {
            tracing::info!("sample dataset loaded");
        }
        print_demo_keys(&app).await?;
    }
    let listener = tokio::net::TcpListener::bind(bind.as_str())
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match metrics_bind.as_deref().map(str::trim) {
        Some(b) if !b.is_empty() => {
            let l = tokio::net::TcpListener::bind(b).await.map_err(|e| {
                anyhow::anyhow!("CLAIMTRAIL_METRICS_BIND: cannot listen on {b}: {e}")
            })?;
            crate::metrics::install();
            Some(l)
        }
        _ => None,
    };
    let metrics_addr = metrics_listener
        .as_ref()
        .map(|l| l.local_addr())
        .transpose()?;
    // One line with the database (credentials redacted) and the settings in force.
    tracing::info!(
        database = %redact(&cli.database_url),
        backend = store.backend(),
        max_connections = cli.max_connections,
        max_body_bytes = *max_body_bytes,
        second_person_rule = !*allow_self_approval,
        anchor_cache_mib = *anchor_cache_mib,
        org_name = %org_shown.0,
        org_url = %org_shown.1,
        public_url = public_base_shown.as_deref().unwrap_or("-"),
        cors_origins = %cors_shown,
        idempotency_hours = *idempotency_hours,
        webhook_allow_private = *webhook_allow_private,
        webhook_schedule_s = %schedule_shown,
        tracking_params = %cli.tracking_params.join(","),
        log_format = ?cli.log_format,
        log_key = %log_verifier,
        metrics = %metrics_addr.map_or_else(|| "off".to_owned(), |a| format!("http://{a}/metrics")),
        "listening on http://{addr} (API docs at http://{addr}/docs)"
    );
    let (stop_delivery, delivery) = crate::delivery::spawn(app.clone());
    let (stop_metrics, metrics_stopped) = tokio::sync::watch::channel(false);
    let metrics_server = metrics_listener
        .map(|l| tokio::spawn(http::metrics::serve(l, app.clone(), metrics_stopped)));
    http::serve(
        listener,
        app,
        &HttpConfig {
            max_body_bytes: *max_body_bytes,
            cors_origins,
            idempotency_ttl: std::time::Duration::from_secs(idempotency_hours * 3600),
            metrics: metrics_addr.is_some(),
        },
    )
    .await?;
    let _ = stop_metrics.send(true);
    if let Some(server) = metrics_server {
        let _ = server.await;
    }
    // Attempts in flight finish (each within the receiver's timeout) before the store
    // closes; what is left is delivered after the next start.
    let _ = stop_delivery.send(true);
    if tokio::time::timeout(std::time::Duration::from_secs(20), delivery)
        .await
        .is_err()
    {
        tracing::warn!("webhook deliveries still in flight at shutdown");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

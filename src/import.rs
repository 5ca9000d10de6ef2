//! `claimtrail import`: text files (with an optional `manifest.json` beside them) as sources.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::app::{App, AppError, SourceInput};
use crate::domain::Outcome;
use crate::domain::SourceId;
use crate::domain::access::Actor;

/// Metadata for one file, as in `manifest.json`'s `documents`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ManifestEntry {
    pub file: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub publisher: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
    pub published_at: Option<String>,
    /// `news`, `opinion`, `report`, ... (kept on the source).
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    documents: Vec<ManifestEntry>,
}

/// What importing one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// A new source with version 1.
    Created { source_id: crate::domain::SourceId },
    /// A new version of a source imported before.
    NewVersion {
        source_id: crate::domain::SourceId,
        number: i64,
    },
    /// The source already has this exact text.
    Unchanged {
        source_id: crate::domain::SourceId,
        number: i64,
    },
}

/// Expands directories to their `.txt` files (sorted) and keeps files as given.
pub fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading directory {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "txt") && p.is_file())
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            anyhow::bail!("{} is neither a file nor a directory", path.display());
        }
    }
    Ok(files)
}

/// The manifest entries of a directory, by file name; empty when it has no manifest.
pub fn read_manifest(dir: &Path) -> anyhow::Result<HashMap<String, ManifestEntry>> {
    let path = dir.join("manifest.json");
    if !path.exists() {
        return Ok(HashMap::new());
    }
    let raw =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: Manifest =
        serde_json::from_str(&raw).with_context(|| format!("parsing {}", path.display()))?;
    Ok(manifest
        .documents
        .into_iter()
        .map(|d| (d.file.clone(), d))
        .collect())
}

/// A title for a text whose metadata has none: the first sentence of its first paragraph
/// (a hard-wrapped paragraph's lines joined first), shortened to 120 characters. A headline
/// set apart by a blank line is a paragraph of its own, so it is the title.
fn title_from_text(text: &str) -> String {
    let paragraph: Vec<&str> = text
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    if paragraph.is_empty() {
        return "Untitled".into();
    }
    let joined = paragraph.join(" ");
    let chars: Vec<char> = joined.chars().collect();
    // The first `.`, `!` or `?` followed by a space (or the end) ends the sentence.
    let end = (0..chars.len())
        .find(|&i| {
            matches!(chars[i], '.' | '!' | '?')
                && chars.get(i + 1).is_none_or(|c| c.is_whitespace())
        })
        .map_or(chars.len(), |i| i + 1);
    let sentence: String = chars[..end].iter().collect();
    let mut title: String = sentence.chars().take(120).collect();
    if sentence.chars().count() > 120 {
        title.push('\u{2026}');
    }
    title
}

/// Stores `text` as the next version of a source the import already knows.
async fn new_version(
    app: &App,
    actor: &Actor,
    source_id: SourceId,
    text: &str,
) -> Result<Imported, AppError> {
    let (version, outcome) = app.add_version(actor, source_id, text).await?;
    let number = version.number;
    Ok(match outcome {
        Outcome::Created => Imported::NewVersion { source_id, number },
        Outcome::Existing => Imported::Unchanged { source_id, number },
    })
}

/// What an import does with one text: a new version of a source it knows, or a new source.
enum Plan {
    Known(SourceId),
    New(SourceInput, String),
}

/// Finds the source a text belongs to (by its URL when the manifest gives one, else by its
/// file name), or prepares a new one.
async fn plan(
    app: &App,
    actor: &Actor,
    file_name: &str,
    text: String,
    meta: Option<&ManifestEntry>,
) -> Result<(Plan, String), AppError> {
    let import_key = format!("file:{file_name}");
    let meta = meta.cloned().unwrap_or_default();
    let url = match meta.url.as_deref() {
        Some(u) => {
            Some(crate::domain::urls::stored_form(u).map_err(|m| AppError::field("url", m))?)
        }
        None => None,
    };
    if let Some(source_id) = app
        .find_source(actor, url.as_deref(), Some(&import_key))
        .await?
    {
        return Ok((Plan::Known(source_id), text));
    }
    let input = SourceInput {
        // A title made up from the text is marked so: ClaimReview leaves `headline` out.
        title_derived: meta.title.is_none(),
        title: meta.title.clone().unwrap_or_else(|| title_from_text(&text)),
        url,
        publisher: meta.publisher,
        authors: meta.authors,
        published_at: meta.published_at,
        kind: meta.kind,
        text: String::new(),
    };
    Ok((Plan::New(input, import_key), text))
}

/// Imports one text. A source is identified by its URL when the manifest gives one, else by
/// its file name, so importing the same file again adds no duplicate.
pub async fn import_text(
    app: &App,
    actor: &Actor,
    file_name: &str,
    text: String,
    meta: Option<&ManifestEntry>,
) -> Result<Imported, AppError> {
    let (plan, text) = plan(app, actor, file_name, text, meta).await?;
    let (mut input, import_key) = match plan {
        Plan::Known(source_id) => return new_version(app, actor, source_id, &text).await,
        Plan::New(input, key) => (input, key),
    };
    input.text = text;
    create(app, actor, input, import_key).await
}

/// Creates the source of a new text, or, if another import stored it meanwhile, adds the text
/// as its next version.
async fn create(
    app: &App,
    actor: &Actor,
    input: SourceInput,
    import_key: String,
) -> Result<Imported, AppError> {
    match app
        .create_source_keyed(actor, input.clone(), Some(import_key))
        .await
    {
        Ok(source) => Ok(Imported::Created {
            source_id: source.id,
        }),
        // Another import stored it since the lookup: this text is its next version.
        Err(AppError::SourceExists { id, .. }) => new_version(app, actor, id, &input.text).await,
        Err(e) => Err(e),
    }
}

/// New files are written in batches of at most this many bytes of text, or this many files,
/// each batch one unit of work: far fewer commits than one per file, with memory bounded by
/// bytes whatever the files' sizes.
const IMPORT_BATCH_BYTES: usize = 32 << 20;
const IMPORT_BATCH_FILES: usize = 8000;
/// The first batch's bytes; each next batch's doubles, up to [`IMPORT_BATCH_BYTES`]. While the
/// first batch has its figures extracted the writer has nothing to do: a small one starts it
/// early.
const FIRST_BATCH_BYTES: usize = 1 << 20;

/// The most bytes of text in the `n`-th batch (from 0).
fn batch_bytes(n: u32) -> usize {
    // Shifted at most until it passes the cap (a larger shift would overflow).
    let cap_shift = (IMPORT_BATCH_BYTES / FIRST_BATCH_BYTES).ilog2() + 1;
    (FIRST_BATCH_BYTES << n.min(cap_shift)).min(IMPORT_BATCH_BYTES)
}

/// Batches in flight: one has its figures extracted while the other is written.
const BATCHES_IN_FLIGHT: usize = 2;

/// A new file waiting for its batch.
struct Pending {
    file: PathBuf,
    input: SourceInput,
    import_key: String,
}

/// Counts of what an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub created: usize,
    pub new_versions: usize,
    pub unchanged: usize,
    pub failed: Vec<(PathBuf, String)>,
}

/// What became of each file of a batch.
type BatchResults = Vec<(PathBuf, Result<Imported, String>)>;

/// Imports every file, with a progress bar on a terminal. One bad file does not stop the rest.
///
/// New files go out in batches, at most [`BATCHES_IN_FLIGHT`] at a time, while the next batch
/// is read and planned: reading files, extracting figures and the store's write overlap.
pub async fn import_paths(app: &App, actor: &Actor, paths: &[PathBuf]) -> anyhow::Result<Summary> {
    let files = collect_files(paths)?;
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}")
            .expect("static template"),
    );
    let mut manifests: HashMap<PathBuf, HashMap<String, ManifestEntry>> = HashMap::new();
    let mut summary = Summary::default();
    let mut pending: Vec<Pending> = Vec::new();
    let mut pending_bytes = 0usize;
    let mut batches = 0u32;
    let mut in_flight: std::collections::VecDeque<tokio::task::JoinHandle<BatchResults>> =
        std::collections::VecDeque::new();
    for file in &files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        bar.set_message(name.clone());
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        if !manifests.contains_key(&dir) {
            manifests.insert(dir.clone(), read_manifest(&dir)?);
        }
        let text = match std::fs::read(file) {
            Err(e) => Err(format!("cannot read: {e}")),
            Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
                format!(
                    "not UTF-8 (first bad byte at offset {})",
                    e.utf8_error().valid_up_to()
                )
            }),
        };
        let result = match text {
            Err(why) => Err(why),
            Ok(text) => match plan(app, actor, &name, text, manifests[&dir].get(&name)).await {
                Err(e) => Err(describe(&e)),
                Ok((Plan::Known(source_id), text)) => new_version(app, actor, source_id, &text)
                    .await
                    .map_err(|e| describe(&e)),
                Ok((Plan::New(mut input, import_key), text)) => {
                    pending_bytes += text.len();
                    input.text = text;
                    pending.push(Pending {
                        file: file.clone(),
                        input,
                        import_key,
                    });
                    if pending_bytes >= batch_bytes(batches) || pending.len() >= IMPORT_BATCH_FILES
                    {
                        batches += 1;
                        if in_flight.len() >= BATCHES_IN_FLIGHT
                            && let Some(oldest) = in_flight.pop_front()
                        {
                            count_all(&mut summary, &bar, oldest.await?);
                        }
                        let batch = std::mem::take(&mut pending);
                        pending_bytes = 0;
                        in_flight.push_back(tokio::spawn(write_batch(
                            app.clone(),
                            actor.clone(),
                            batch,
                        )));
                    }
                    continue;
                }
            },
        };
        count(&mut summary, &bar, file, result);
    }
    // The last batch goes out beside those still in flight, not after them.
    in_flight.push_back(tokio::spawn(write_batch(
        app.clone(),
        actor.clone(),
        pending,
    )));
    for batch in in_flight {
        count_all(&mut summary, &bar, batch.await?);
    }
    bar.finish_and_clear();
    Ok(summary)
}

fn count_all(summary: &mut Summary, bar: &indicatif::ProgressBar, results: BatchResults) {
    for (file, result) in results {
        count(summary, bar, &file, result);
    }
}

fn count(
    summary: &mut Summary,
    bar: &indicatif::ProgressBar,
    file: &Path,
    result: Result<Imported, String>,
) {
    match result {
        Ok(Imported::Created { .. }) => summary.created += 1,
        Ok(Imported::NewVersion { .. }) => summary.new_versions += 1,
        Ok(Imported::Unchanged { .. }) => summary.unchanged += 1,
        Err(why) => {
            bar.suspend(|| eprintln!("{}: {why}", file.display()));
            summary.failed.push((file.to_path_buf(), why));
        }
    }
    bar.inc(1);
}

/// Writes new files as one batch; if the batch is refused (a bad file, a URL taken
/// meanwhile), each is imported on its own, as before batches.
async fn write_batch(app: App, actor: Actor, batch: Vec<Pending>) -> BatchResults {
    if batch.is_empty() {
        return Vec::new();
    }
    let inputs = batch
        .iter()
        .map(|p| (p.input.clone(), Some(p.import_key.clone())))
        .collect();
    if let Ok(ids) = app.create_sources(&actor, inputs).await {
        return batch
            .into_iter()
            .zip(ids)
            .map(|(p, source_id)| (p.file, Ok(Imported::Created { source_id })))
            .collect();
    }
    let mut results = Vec::with_capacity(batch.len());
    for p in batch {
        let result = create(&app, &actor, p.input, p.import_key)
            .await
            .map_err(|e| describe(&e));
        results.push((p.file, result));
    }
    results
}

fn describe(e: &AppError) -> String {
    match e {
        AppError::Validation(errors) => errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches start small and double up to the cap, where they stay, however many there are.
    #[test]
    fn batches_grow_to_the_cap_and_stay_there() {
        assert_eq!(batch_bytes(0), FIRST_BATCH_BYTES);
        assert_eq!(batch_bytes(1), 2 * FIRST_BATCH_BYTES);
        let sizes: Vec<usize> = (0..200).map(batch_bytes).collect();
        assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
        assert!(sizes.iter().all(|&b| b > 0 && b <= IMPORT_BATCH_BYTES));
        assert_eq!(sizes[199], IMPORT_BATCH_BYTES);
        assert_eq!(batch_bytes(u32::MAX), IMPORT_BATCH_BYTES);
    }

    #[test]
    fn title_is_the_first_sentence_of_the_first_paragraph() {
        assert_eq!(
            title_from_text("\n  \n  Headline here\n\nThe body. More."),
            "Headline here"
        );
        // A hard-wrapped sentence is not cut at its line break.
        assert_eq!(
            title_from_text("The council approved the\nbridge on Tuesday. It cost\n$4.2 billion."),
            "The council approved the bridge on Tuesday."
        );
        assert_eq!(
            title_from_text("It cost $4.2 billion."),
            "It cost $4.2 billion."
        );
        let long = "x".repeat(130);
        assert_eq!(title_from_text(&long).chars().count(), 121);
        assert_eq!(title_from_text(" \n"), "Untitled");
    }
}

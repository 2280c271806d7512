//! What the last `campus build` into an output folder was made of, kept in
//! `.campus-cache/bau/` so the next build does only what changed.
//!
//! The record holds the size and modification time of every input file
//! (content, data, static files, templates, themes, `campus.toml`) and of
//! every output file, and the fingerprint of every page (the inputs its
//! context is built from, as `campus serve` tracks them, see
//! `incremental`). A build then
//! - with no input and no output changed, writes nothing and renders
//!   nothing;
//! - with only content files edited (none added or removed), renders the
//!   pages whose fingerprint changed and keeps the others unread; derived
//!   files (search index, calendar files, sitemap) are made again;
//! - otherwise renders everything (output files whose bytes did not change
//!   are still not written).
//!
//! The record is keyed by the binary (version, size and time of the
//! executable), the text of `campus.toml`, the date the build treats as
//! today, the bookings and the output folder; any difference, a missing or
//! unreadable record means a full build. Beside the record are the search
//! index's tokens (`<hash>.suche`) and the parsed front matter
//! (`<hash>.vorspann`, see `content::front_cache`), both used whenever the
//! same binary wrote them. The files of the four output folders built last
//! are kept, older ones deleted. Deleting the folder is always safe.

use crate::build::BuildOptions;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Size and modification time (nanoseconds since 1970) per relative path.
pub(crate) type Stamps = BTreeMap<String, (u64, u64)>;

/// The folders of a site a build reads, besides `campus.toml`.
const INPUT_FOLDERS: [&str; 5] = ["content", "data", "static", "templates", "themes"];

/// A file modified this close to the start of the scan may change again
/// within the same tick of the file system's clock without its time
/// changing: it is recorded as changed, so the next build reads it.
const RACY: Duration = Duration::from_millis(50);

#[derive(Serialize, Deserialize, Default)]
pub(crate) struct Record {
    key: String,
    inputs: Stamps,
    outputs: Stamps,
    /// Fingerprint per page, by output path.
    pages: HashMap<String, u64>,
    page_count: usize,
    file_count: usize,
    /// The warnings of the build that made the record, as printed: a build
    /// that changes nothing repeats them.
    warnings: Vec<String>,
}

/// What a build knows before it loads the site: the record of the last
/// build, if it still applies, and the current stamps.
pub(crate) struct Cache {
    file: PathBuf,
    key: String,
    record: Option<Record>,
    /// The inputs as found, compared with the record's.
    inputs: Stamps,
    /// When the inputs were stamped: inputs modified just before are saved
    /// as unknown (see [`RACY`]).
    scan_started: SystemTime,
    outputs: Stamps,
    /// The search index's tokens per document (beside the record, in
    /// `<hash>.suche`): only documents that changed are tokenised again.
    /// Read when the index is made, not by a build that changes nothing.
    index_tokens: std::sync::OnceLock<std::sync::Mutex<crate::search::IndexCache>>,
    /// The last build's parsed front matter (`<hash>.vorspann`), read
    /// beside the output's walk; taken by [`Cache::front_matter`].
    front_matter: std::sync::Mutex<Option<crate::content::FrontCache>>,
    /// The running binary (see [`binary`]), which the record's key, the
    /// front matter and the tokens name.
    binary: String,
}

/// What a build made, for [`Cache::save`].
pub(crate) struct Made<'a> {
    pub committed: &'a crate::output::Committed,
    /// Fingerprint per page, by output path.
    pub pages: HashMap<String, u64>,
    pub page_count: usize,
    pub file_count: usize,
    /// The build's warnings, as printed.
    pub warnings: Vec<String>,
}

/// What a build may reuse of the last one.
pub(crate) enum Reuse<'a> {
    /// Nothing changed: the output stays as it is.
    Everything {
        pages: usize,
        files: usize,
        warnings: &'a [String],
    },
    /// Only content files changed: pages whose fingerprint and output file
    /// are unchanged can stay.
    Pages(&'a Cache),
    /// Render everything.
    Nothing,
}

/// The record of the last build into the output folder `out` (absolute).
fn record_file(cache_dir: &Path, out: &Path) -> PathBuf {
    cache_dir
        .join("bau")
        .join(format!("{:016x}.json", hash_of(&out)))
}

fn absolute_out(options: &BuildOptions) -> PathBuf {
    std::path::absolute(&options.out_dir).unwrap_or(options.out_dir.clone())
}

/// Whether no build into `options.out_dir` left a record: then this one
/// renders every page. (A record that no longer applies, after a new day or
/// binary, also means a full build, found out only by reading it.) Cheap:
/// one file's metadata.
pub fn is_first_build(options: &BuildOptions) -> bool {
    options
        .cache_dir
        .as_ref()
        .is_none_or(|dir| !record_file(dir, &absolute_out(options)).is_file())
}

impl Cache {
    /// Reads the record for `options.out_dir` and stamps the current inputs
    /// and outputs.
    pub(crate) fn open(cache_dir: &Path, options: &BuildOptions) -> Cache {
        let out = absolute_out(options);
        let binary = binary();
        let key = key(options, &out, &binary);
        let file = record_file(cache_dir, &out);
        let scan_started = SystemTime::now();
        // The output's walk is the longest part of a build that finds
        // nothing changed; the record and the inputs are read beside it.
        let ((record, inputs, front_matter), outputs) = rayon::join(
            || {
                let record = std::fs::read(&file)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok())
                    .filter(|r| r.key == key);
                let mut inputs = Stamps::new();
                for folder in INPUT_FOLDERS {
                    stamp_tree(&options.site_dir, folder, &mut inputs);
                }
                stamp_file(&options.site_dir, crate::config::CONFIG_FILE, &mut inputs);
                // Not needed when nothing changed, but shorter than the walk.
                let kept = std::fs::read(file.with_extension("vorspann")).unwrap_or_default();
                let front_matter = crate::content::FrontCache::from_bytes(kept, &binary);
                (record, inputs, front_matter)
            },
            || stamps_below(&options.out_dir),
        );
        Cache {
            file,
            key,
            record,
            inputs,
            scan_started,
            outputs,
            index_tokens: std::sync::OnceLock::new(),
            front_matter: std::sync::Mutex::new(Some(front_matter)),
            binary,
        }
    }

    pub(crate) fn reuse(&self) -> Reuse<'_> {
        let Some(record) = &self.record else {
            return Reuse::Nothing;
        };
        if record.inputs == self.inputs && record.outputs == self.outputs {
            return Reuse::Everything {
                pages: record.page_count,
                files: record.file_count,
                warnings: &record.warnings,
            };
        }
        let same_files =
            record.inputs.len() == self.inputs.len() && record.inputs.keys().eq(self.inputs.keys());
        let only_content = record
            .inputs
            .iter()
            .zip(&self.inputs)
            .all(|((path, before), (_, now))| before == now || path.starts_with("content/"));
        if same_files && only_content {
            Reuse::Pages(self)
        } else {
            Reuse::Nothing
        }
    }

    /// The first line of the tokens file: the binary that tokenised.
    fn tokens_header(&self) -> String {
        format!("{}\n", self.binary)
    }

    /// The last build's index tokens, if this binary made them: they
    /// depend on nothing else (documents are found by the hash of their
    /// text), so a build on a new day or after a failed build uses them too.
    pub(crate) fn index_tokens(&self) -> &std::sync::Mutex<crate::search::IndexCache> {
        self.index_tokens.get_or_init(|| {
            let kept = std::fs::read(self.file.with_extension("suche"))
                .ok()
                .and_then(|bytes| {
                    let tokens = bytes.strip_prefix(self.tokens_header().as_bytes())?;
                    crate::search::IndexCache::from_bytes(tokens)
                });
            std::sync::Mutex::new(kept.unwrap_or_default())
        })
    }

    /// The last build's parsed front matter, if this binary parsed it.
    /// Unlike the record it does not depend on the day, the configuration
    /// or the bookings: a build on a new day, or after a failed build,
    /// parses only what changed too.
    pub(crate) fn front_matter(&self) -> crate::content::FrontCache {
        let kept = self.front_matter.lock().expect("front matter").take();
        kept.unwrap_or_else(|| crate::content::FrontCache::from_bytes(Vec::new(), &self.binary))
    }

    /// The output's files as found when the build began.
    pub(crate) fn output_files(&self) -> Vec<&str> {
        self.outputs.keys().map(String::as_str).collect()
    }

    /// Whether the output file `path` is still what the last build wrote.
    pub(crate) fn output_unchanged(&self, path: &str) -> bool {
        let Some(record) = &self.record else {
            return false;
        };
        record.outputs.contains_key(path) && record.outputs.get(path) == self.outputs.get(path)
    }

    /// Whether the page at output path `path` with this fingerprint can stay
    /// as the last build wrote it.
    pub(crate) fn page_unchanged(&self, path: &str, fingerprint: u64) -> bool {
        self.record
            .as_ref()
            .is_some_and(|r| r.pages.get(path) == Some(&fingerprint))
            && self.output_unchanged(path)
    }

    /// Removes the record before the output changes: a build stopped half
    /// way leaves no record that no longer matches the output.
    pub(crate) fn forget(&self) {
        let _ = std::fs::remove_file(&self.file);
    }

    /// Records what this build made. The cache only saves time: a failed
    /// write costs the next build its shortcut, nothing else.
    pub(crate) fn save(self, out_dir: &Path, made: Made) {
        let Made {
            committed,
            pages,
            page_count,
            file_count,
            warnings,
        } = made;
        let header = self.tokens_header();
        let mut inputs = self.inputs;
        mark_racy(&mut inputs, self.scan_started);
        // The files left alone keep the stamps found at the start; only
        // those written are stamped again (no second walk of the output).
        let written: std::collections::HashSet<&str> =
            committed.staged.iter().map(String::as_str).collect();
        let mut outputs: Stamps = self
            .outputs
            .into_iter()
            .filter(|(path, _)| {
                committed.produced.contains(path) && !written.contains(path.as_str())
            })
            .collect();
        for path in &committed.staged {
            if let Ok(meta) = std::fs::symlink_metadata(out_dir.join(path)) {
                outputs.insert(path.clone(), stamp_of(&meta));
            }
        }
        let record = Record {
            key: self.key,
            inputs,
            outputs,
            pages,
            page_count,
            file_count,
            warnings,
        };
        let Some(folder) = self.file.parent() else {
            return;
        };
        if std::fs::create_dir_all(folder).is_err() {
            return;
        }
        // The tokens first: a record is never newer than them. The record is
        // serialised meanwhile.
        let tokens = self.index_tokens.into_inner();
        let ((), record) = rayon::join(
            || {
                if let Some(tokens) = tokens {
                    let tokens = tokens.into_inner().unwrap_or_default();
                    write_staged(&self.file.with_extension("suche"), |out| {
                        std::io::Write::write_all(out, header.as_bytes())?;
                        tokens.write_to(out)
                    });
                }
            },
            || serde_json::to_vec(&record),
        );
        if let Ok(record) = record {
            write_staged(&self.file, |out| std::io::Write::write_all(out, &record));
        }
        forget_other_outputs(folder, &self.file);
    }

    /// Keeps the front matter this build parsed for the next one. Written
    /// as soon as the content loaded (beside the rendering): it holds what
    /// the files say, whether or not the build then succeeds.
    pub(crate) fn save_front_matter(&self, front_matter: &crate::content::FrontCache) {
        let Some(folder) = self.file.parent() else {
            return;
        };
        if std::fs::create_dir_all(folder).is_ok() {
            write_staged(&self.file.with_extension("vorspann"), |out| {
                front_matter.write_to(out)
            });
        }
    }
}

/// How many output folders the cache keeps files for (some 30 MB each at
/// Germany scale): the one just built and the most recently built others.
const KEPT_OUTPUTS: usize = 4;

/// Deletes the cache files of output folders built less recently than the
/// [`KEPT_OUTPUTS`] last ones, so a cache folder used for builds into ever
/// new folders (a script, a benchmark) does not grow without end. Their
/// next build is a full one. Files being staged are left alone.
fn forget_other_outputs(folder: &Path, current: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let current_stem = current.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    // The newest file of each output folder's set, by the set's stem.
    let mut newest: HashMap<String, SystemTime> = HashMap::new();
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.contains(".neu-") {
            continue;
        }
        let Some((stem, _)) = name.split_once('.') else {
            continue;
        };
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(UNIX_EPOCH);
        let latest = newest.entry(stem.to_string()).or_insert(modified);
        *latest = (*latest).max(modified);
        files.push((stem.to_string(), entry.path()));
    }
    let mut others: Vec<(SystemTime, String)> = newest
        .into_iter()
        .filter(|(stem, _)| stem != current_stem)
        .map(|(stem, time)| (time, stem))
        .collect();
    others.sort_by(|a, b| b.cmp(a));
    let forgotten: std::collections::HashSet<String> = others
        .into_iter()
        .skip(KEPT_OUTPUTS - 1)
        .map(|(_, stem)| stem)
        .collect();
    for (stem, path) in files {
        if forgotten.contains(&stem) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Writes a file beside `file` through `write` and renames it into place.
fn write_staged(
    file: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) {
    use std::io::Write;
    let staged = staged_path(file);
    let written = std::fs::File::create(&staged).and_then(|f| {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, f);
        write(&mut out)?;
        out.flush()
    });
    match written {
        Ok(()) => {
            let _ = std::fs::rename(&staged, file);
        }
        Err(_) => {
            let _ = std::fs::remove_file(&staged);
        }
    }
}

/// Where [`write_staged`] writes `file` first: named after the whole file
/// name, as the cache files differ only in their extension and the front
/// matter is written while the others may be.
fn staged_path(file: &Path) -> PathBuf {
    let mut staged = file.as_os_str().to_owned();
    staged.push(format!(".neu-{}", std::process::id()));
    PathBuf::from(staged)
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// Everything besides the files that decides what a build makes.
fn key(options: &BuildOptions, out: &Path, binary: &str) -> String {
    let config =
        std::fs::read(options.site_dir.join(crate::config::CONFIG_FILE)).unwrap_or_default();
    let mut bookings: Vec<_> = options.bookings.iter().flat_map(|b| b.iter()).collect();
    bookings.sort();
    let render = options.render_options();
    format!(
        "{} {:016x} {} {} {:016x} {}",
        binary,
        hash_of(&config),
        render.today,
        render.live_reload,
        hash_of(&bookings),
        out.display()
    )
}

/// The version, size and time of the running executable.
fn binary() -> String {
    let exe = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| (m.len(), nanos(m.modified().ok())))
        .unwrap_or_default();
    format!("{} {exe:?}", env!("CARGO_PKG_VERSION"))
}

fn nanos(time: Option<SystemTime>) -> u64 {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64)
}

fn stamp_of(meta: &std::fs::Metadata) -> (u64, u64) {
    (meta.len(), nanos(meta.modified().ok()))
}

fn stamp_file(root: &Path, rel: &str, stamps: &mut Stamps) {
    if let Ok(meta) = std::fs::metadata(root.join(rel)) {
        stamps.insert(rel.to_string(), stamp_of(&meta));
    }
}

/// Stamps of the files below `root/folder`, by path relative to `root`.
fn stamp_tree(root: &Path, folder: &str, stamps: &mut Stamps) {
    let walk = walkdir::WalkDir::new(root.join(folder)).follow_links(true);
    for entry in walk.into_iter().filter_map(Result::ok) {
        if !entry.file_type().is_file() {
            continue;
        }
        let (Ok(rel), Ok(meta)) = (entry.path().strip_prefix(root), entry.metadata()) else {
            continue;
        };
        stamps.insert(crate::output::slashed(rel), stamp_of(&meta));
    }
}

/// Stamps of every file below `dir` (links included, not followed), by
/// path relative to it. The output has a folder per page (some 13,000 at
/// Germany scale): folders are read in parallel, and each entry is stamped
/// relative to its open folder instead of by its whole path.
fn stamps_below(dir: &Path) -> Stamps {
    let found = std::sync::Mutex::new(Vec::new());
    rayon::scope(|scope| stamp_folder(scope, dir.to_path_buf(), String::new(), &found));
    found.into_inner().expect("stamps").into_iter().collect()
}

fn stamp_folder<'s>(
    scope: &rayon::Scope<'s>,
    dir: PathBuf,
    rel: String,
    found: &'s std::sync::Mutex<Vec<(String, (u64, u64))>>,
) {
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut stamped = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = if rel.is_empty() {
            name.into_owned()
        } else {
            format!("{rel}/{name}")
        };
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => {
                scope.spawn(move |scope| stamp_folder(scope, entry.path(), path, found))
            }
            Ok(_) => {
                if let Ok(meta) = entry.metadata() {
                    stamped.push((path, stamp_of(&meta)));
                }
            }
            Err(_) => {}
        }
    }
    found.lock().expect("stamps").extend(stamped);
}

/// Records inputs modified within [`RACY`] of the scan with time 0, which
/// no file found has: the next build reads them again. Only the saved
/// record is marked, never the stamps a build compares, or two builds right
/// after two edits of the same size would both see 0 and call it unchanged.
fn mark_racy(stamps: &mut Stamps, scan_started: SystemTime) {
    let limit = nanos(scan_started.checked_sub(RACY));
    for (_, time) in stamps.values_mut() {
        if *time >= limit {
            *time = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_files_that_differ_in_their_extension_are_staged_apart() {
        let record = Path::new("/cache/bau/0123.json");
        let staged: std::collections::HashSet<PathBuf> = ["json", "suche", "vorspann"]
            .iter()
            .map(|ext| staged_path(&record.with_extension(ext)))
            .collect();
        assert_eq!(staged.len(), 3, "{staged:?}");
        assert!(staged.iter().all(|p| p.parent() == record.parent()));
    }

    #[test]
    fn a_build_is_the_first_until_its_output_folder_has_a_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = BuildOptions::new(dir.path().join("site"), dir.path().join("out"));
        assert!(is_first_build(&options), "no cache folder");
        options.cache_dir = Some(dir.path().join("cache"));
        assert!(is_first_build(&options), "no record yet");
        let record = record_file(options.cache_dir.as_ref().unwrap(), &absolute_out(&options));
        std::fs::create_dir_all(record.parent().unwrap()).unwrap();
        std::fs::write(&record, "{}").unwrap();
        assert!(!is_first_build(&options));
        options.out_dir = dir.path().join("other");
        assert!(is_first_build(&options), "another output folder");
    }

    #[test]
    fn only_the_most_recently_built_output_folders_keep_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let bau = dir.path();
        let day = Duration::from_secs(86_400);
        let start = SystemTime::now() - day * 30;
        // Seven sets, "0" built longest ago; "1" is being built now but its
        // files are older than those of "6".
        for set in 0..7u32 {
            for ext in ["json", "suche", "vorspann"] {
                let path = bau.join(format!("{set}.{ext}"));
                std::fs::write(&path, "x").unwrap();
                let file = std::fs::File::options().write(true).open(&path).unwrap();
                file.set_modified(start + day * set).unwrap();
            }
        }
        std::fs::write(bau.join("2.json.neu-1"), "staged").unwrap();
        forget_other_outputs(bau, &bau.join("1.json"));
        let mut left: Vec<String> = std::fs::read_dir(bau)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let expected = [
            "1.json",
            "1.suche",
            "1.vorspann",
            "2.json.neu-1",
            "4.json",
            "4.suche",
            "4.vorspann",
            "5.json",
            "5.suche",
            "5.vorspann",
            "6.json",
            "6.suche",
            "6.vorspann",
        ];
        assert_eq!(left, expected);
    }

    #[test]
    fn the_output_is_stamped_in_every_folder_links_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        std::fs::create_dir_all(out.join("a/b")).unwrap();
        std::fs::write(out.join("index.html"), "1").unwrap();
        std::fs::write(out.join("a/index.html"), "22").unwrap();
        std::fs::write(out.join("a/b/index.html"), "333").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(out.join("a"), out.join("link")).unwrap();
        let stamps = stamps_below(out);
        let sizes: Vec<(&str, u64)> = stamps.iter().map(|(p, s)| (p.as_str(), s.0)).collect();
        assert_eq!(
            &sizes[..3],
            [
                ("a/b/index.html", 3),
                ("a/index.html", 2),
                ("index.html", 1)
            ]
        );
        #[cfg(unix)]
        assert_eq!(
            sizes.len(),
            4,
            "the link is stamped, not followed: {sizes:?}"
        );
    }
}

//! Writing the rendered site: changed files into a staging folder beside the
//! target, moved in only when the build succeeded, so a failed build never
//! leaves a half-written `public/`; unchanged files are not touched.

use crate::error::{Problem, ProblemKind};
use crate::render::Output;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

fn io_problem(path: &Path, e: std::io::Error) -> Problem {
    Problem::new(
        path,
        ProblemKind::Output {
            reason: crate::content::german_io_error(&e),
        },
    )
}

/// Writes all outputs below `dir` (which must exist), in parallel.
pub fn write_all(dir: &Path, outputs: &[Output]) -> Result<(), Problem> {
    let parents: BTreeSet<PathBuf> = outputs
        .iter()
        .filter_map(|o| dir.join(&o.path).parent().map(Path::to_path_buf))
        .collect();
    for p in &parents {
        std::fs::create_dir_all(p).map_err(|e| io_problem(p, e))?;
    }
    outputs.par_iter().try_for_each(|o| {
        let path = dir.join(&o.path);
        std::fs::write(&path, &o.bytes).map_err(|e| io_problem(&path, e))
    })
}

/// The file every output folder of `campus build` carries, so a later build
/// knows it may replace the folder.
pub const MARKER: &str = ".campus-build";

/// Refuses an output folder that a build would destroy sources or foreign
/// files in: the site folder or a folder holding it, anything inside the
/// site's source folders, and a non-empty folder without [`MARKER`].
pub fn check_out_dir(site: &Path, out: &Path) -> Result<(), Problem> {
    let (site, out_resolved) = (resolved(site), resolved(out));
    let refuse = |reason: String| Err(Problem::new(out, ProblemKind::UnsafeOutDir { reason }));
    if out_resolved == site {
        return refuse("Es ist der Ordner der Website selbst.".into());
    }
    if site.starts_with(&out_resolved) {
        return refuse("Er enthält den Ordner der Website.".into());
    }
    for source in ["content", "data", "static", "themes", "templates"] {
        if out_resolved.starts_with(site.join(source)) {
            return refuse(format!(
                "Er liegt in {source}/, wo die Quellen der Website liegen."
            ));
        }
    }
    if out_resolved.exists() && !out_resolved.is_dir() {
        return refuse("Es ist eine Datei, kein Ordner.".into());
    }
    let foreign = std::fs::read_dir(&out_resolved)
        .map(|mut entries| entries.next().is_some())
        .unwrap_or(false)
        && !out_resolved.join(MARKER).is_file()
        && !made_before_markers(&site, &out_resolved);
    if foreign {
        return refuse(format!(
            "Er ist nicht leer und wurde nicht von campus build angelegt (es fehlt die Datei {MARKER}); sein Inhalt würde gelöscht."
        ));
    }
    Ok(())
}

/// The site's own `public/` as builds wrote it before they left a marker:
/// start page, sitemap and robots.txt side by side. Refusing it would stop
/// every existing installation at its first build after an upgrade.
fn made_before_markers(site: &Path, out: &Path) -> bool {
    out == site.join("public")
        && ["index.html", "sitemap.xml", "robots.txt"]
            .iter()
            .all(|f| out.join(f).is_file())
}

/// `path` made absolute, with `..` resolved and symbolic links followed as
/// far as the path exists.
fn resolved(path: &Path) -> PathBuf {
    use std::path::Component;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut plain = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::ParentDir => {
                plain.pop();
            }
            Component::CurDir => {}
            other => plain.push(other),
        }
    }
    let mut existing = plain.as_path();
    let mut rest = Vec::new();
    while let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |p, n| p.join(n));
        }
        rest.push(name.to_os_string());
        existing = parent;
    }
    plain
}

/// What [`MARKER`] says to someone who opens it.
const MARKER_TEXT: &str =
    "Von campus build erzeugt: Dieser Ordner wird beim nächsten Bauen ersetzt.\n";

/// The static files of a build by output path: the theme's, then the
/// site's, a site file replacing the theme's file of the same path.
pub fn static_files(dirs: &[PathBuf]) -> Result<BTreeMap<String, PathBuf>, Problem> {
    let mut files = BTreeMap::new();
    for from in dirs.iter().filter(|d| d.is_dir()) {
        for entry in walkdir::WalkDir::new(from).min_depth(1).sort_by_file_name() {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(from).to_path_buf();
                let reason = e.into_io_error().map_or_else(
                    || "Verweis im Kreis".to_string(),
                    |io| crate::content::german_io_error(&io),
                );
                Problem::new(path, ProblemKind::Unreadable { reason })
            })?;
            if entry.file_type().is_file() {
                let rel = entry.path().strip_prefix(from).expect("below from");
                files.insert(slashed(rel), entry.path().to_path_buf());
            }
        }
    }
    Ok(files)
}

/// Every folder the relative `paths` lie in, their parents included.
fn folders_of(paths: &HashSet<String>) -> HashSet<&str> {
    paths
        .iter()
        .flat_map(|p| p.match_indices('/').map(move |(i, _)| &p[..i]))
        .collect()
}

/// A removal that found nothing to remove is no problem.
fn unless_gone(result: std::io::Result<()>, path: &Path) -> Result<(), Problem> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_problem(path, e)),
        _ => Ok(()),
    }
}

/// A relative path with `/` between its parts, as output paths are written.
pub(crate) fn slashed(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// One build's update of its output folder. A file whose bytes did not
/// change is left alone (same inode, same mtime); new and changed files go
/// into a staging folder beside the output and are moved in by
/// [`Update::commit`] only when the whole build succeeded, so a failed
/// build leaves the last good output untouched.
pub struct Update {
    out: PathBuf,
    staging: PathBuf,
    /// Every path this build produces, written or kept.
    produced: Mutex<HashSet<String>>,
    /// The paths staged: new or changed.
    staged: Mutex<Vec<String>>,
}

/// What [`Update::commit_over`] did to the output.
pub struct Committed {
    /// Every path the output holds now.
    pub produced: HashSet<String>,
    /// The paths staged and moved in (new or changed, with the output's
    /// marker file); the others were left as they were.
    pub staged: Vec<String>,
    /// How many of the build's files were written.
    pub written: usize,
}

impl Update {
    /// Starts an update of `out` with a fresh, empty staging folder beside it.
    pub fn begin(out: &Path) -> Result<Update, Problem> {
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| io_problem(parent, e))?;
        let name = out
            .file_name()
            .map_or("public".into(), |n| n.to_string_lossy().into_owned());
        let staging = parent.join(format!(".{name}.neu-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| io_problem(&staging, e))?;
        }
        std::fs::create_dir_all(&staging).map_err(|e| io_problem(&staging, e))?;
        let update = Update {
            out: out.to_path_buf(),
            staging,
            produced: Mutex::new(HashSet::new()),
            staged: Mutex::new(Vec::new()),
        };
        update.put(MARKER, MARKER_TEXT.as_bytes())?;
        Ok(update)
    }

    /// One file of the output, by path relative to the output folder:
    /// recorded, and staged unless the output already holds these bytes.
    /// Safe to call from several threads.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> Result<(), Problem> {
        self.produced
            .lock()
            .expect("produced paths")
            .insert(rel.to_string());
        if same_bytes(&self.out.join(rel), bytes) {
            return Ok(());
        }
        let path = self.staging.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_problem(parent, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| io_problem(&path, e))?;
        self.staged
            .lock()
            .expect("staged paths")
            .push(rel.to_string());
        Ok(())
    }

    /// Keeps the file `rel` the output already holds, unread: a build that
    /// knows it would produce the same bytes (see `build_cache`).
    pub fn keep(&self, rel: &str) {
        self.produced
            .lock()
            .expect("produced paths")
            .insert(rel.to_string());
    }

    /// A copy of the file `source` as `rel`.
    pub fn put_file(&self, rel: &str, source: &Path) -> Result<(), Problem> {
        let bytes = std::fs::read(source).map_err(|e| {
            Problem::new(
                source,
                ProblemKind::Unreadable {
                    reason: crate::content::german_io_error(&e),
                },
            )
        })?;
        self.put(rel, &bytes)
    }

    /// Makes the output what this build produced: removes what it no longer
    /// produces, then moves the new and changed files in (each by a rename,
    /// so a reader sees the old file or the new one, never a part). A
    /// missing output folder is replaced by the staging folder as a whole.
    /// Returns how many files were written.
    pub fn commit(self) -> Result<usize, Problem> {
        self.commit_over(None).map(|c| c.written)
    }

    /// [`Update::commit`] for a caller that listed the output's files when
    /// the build began (`existing`, relative paths): stale files are found
    /// in that list instead of by walking the output again. Without a list
    /// the output is walked.
    pub fn commit_over(self, existing: Option<Vec<&str>>) -> Result<Committed, Problem> {
        if !self.out.exists() {
            std::fs::rename(&self.staging, &self.out).map_err(|e| io_problem(&self.out, e))?;
        } else {
            let result = match existing {
                Some(files) => self.remove_listed_stale(&files),
                None => self.remove_stale(),
            }
            .and_then(|()| self.move_staged());
            let _ = std::fs::remove_dir_all(&self.staging);
            result?;
        }
        let staged = self.staged.into_inner().expect("staged paths");
        Ok(Committed {
            produced: self.produced.into_inner().expect("produced paths"),
            // The marker is the build's own, not one of its files.
            written: staged.iter().filter(|p| *p != MARKER).count(),
            staged,
        })
    }

    /// [`Update::remove_stale`] over a list of the output's files: removes
    /// the listed files this build did not produce and the folders that
    /// held only such files.
    fn remove_listed_stale(&self, existing: &[&str]) -> Result<(), Problem> {
        let produced = self.produced.lock().expect("produced paths");
        let folders = folders_of(&produced);
        let mut stale_folders: Vec<&str> = Vec::new();
        for rel in existing.iter().filter(|rel| !produced.contains(**rel)) {
            // The outermost folder no longer produced goes as a whole.
            let gone = rel
                .match_indices('/')
                .map(|(i, _)| &rel[..i])
                .find(|folder| !folders.contains(folder));
            match gone {
                Some(folder) => stale_folders.push(folder),
                None => {
                    let path = self.out.join(rel);
                    unless_gone(std::fs::remove_file(&path), &path)?;
                }
            }
        }
        stale_folders.sort_unstable();
        stale_folders.dedup();
        for folder in stale_folders {
            let path = self.out.join(folder);
            unless_gone(std::fs::remove_dir_all(&path), &path)?;
        }
        Ok(())
    }

    /// Drops the staged files; the output stays as it was.
    pub fn abandon(self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }

    /// Removes every file and folder of the output this build did not
    /// produce (also a file where a folder is needed and the reverse).
    fn remove_stale(&self) -> Result<(), Problem> {
        let produced = self.produced.lock().expect("produced paths");
        let folders = folders_of(&produced);
        let walk = walkdir::WalkDir::new(&self.out)
            .min_depth(1)
            .contents_first(true);
        for entry in walk {
            let entry = entry.map_err(|e| walk_problem(e, &self.out))?;
            let rel = slashed(entry.path().strip_prefix(&self.out).expect("below out"));
            let path = entry.path();
            if entry.file_type().is_dir() {
                if !folders.contains(rel.as_str()) {
                    std::fs::remove_dir_all(path).map_err(|e| io_problem(path, e))?;
                }
            } else if !produced.contains(&rel) {
                std::fs::remove_file(path).map_err(|e| io_problem(path, e))?;
            }
        }
        Ok(())
    }

    fn move_staged(&self) -> Result<(), Problem> {
        for entry in walkdir::WalkDir::new(&self.staging).min_depth(1) {
            let entry = entry.map_err(|e| walk_problem(e, &self.staging))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(&self.staging)
                .expect("below staging");
            let target = self.out.join(rel);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| io_problem(parent, e))?;
            }
            std::fs::rename(entry.path(), &target).map_err(|e| io_problem(&target, e))?;
        }
        Ok(())
    }
}

fn walk_problem(e: walkdir::Error, root: &Path) -> Problem {
    let path = e.path().unwrap_or(root).to_path_buf();
    let io = e
        .into_io_error()
        .unwrap_or_else(|| std::io::Error::other("Verweis im Kreis"));
    io_problem(&path, io)
}

/// Whether the file at `path` holds exactly `bytes` (cheap size check first).
fn same_bytes(path: &Path, bytes: &[u8]) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && std::fs::read(path).is_ok_and(|old| old == bytes)
}

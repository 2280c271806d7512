//! Writing the rendered site: into a fresh directory beside the target, then
//! swapped in, so a failed build never leaves a half-written `public/`.

use crate::error::{Problem, ProblemKind};
use crate::render::Output;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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

/// Writes one output below `dir`, creating its folder.
pub fn write_one(dir: &Path, output: &Output) -> Result<(), Problem> {
    let path = dir.join(&output.path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_problem(parent, e))?;
    }
    std::fs::write(&path, &output.bytes).map_err(|e| io_problem(&path, e))
}

/// Copies a static folder (theme or site assets) below `dir`.
pub fn copy_static(from: &Path, dir: &Path) -> Result<usize, Problem> {
    if !from.is_dir() {
        return Ok(0);
    }
    let mut count = 0;
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(from).to_path_buf();
            let reason = e.into_io_error().map_or_else(
                || "Verweis im Kreis".to_string(),
                |io| crate::content::german_io_error(&io),
            );
            Problem::new(path, ProblemKind::Unreadable { reason })
        })?;
        let rel = entry.path().strip_prefix(from).expect("below from");
        let target = dir.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| io_problem(&target, e))?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target).map_err(|e| io_problem(&target, e))?;
            count += 1;
        }
    }
    Ok(count)
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

/// A fresh, empty staging directory beside `out`.
pub fn staging_dir(out: &Path) -> Result<PathBuf, Problem> {
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
    let marker = staging.join(MARKER);
    std::fs::write(
        &marker,
        "Von campus build erzeugt: Dieser Ordner wird beim nächsten Bauen ersetzt.\n",
    )
    .map_err(|e| io_problem(&marker, e))?;
    Ok(staging)
}

/// Replaces `out` by `staging`. The old output is removed only after the new
/// one is in place.
pub fn swap_into_place(staging: &Path, out: &Path) -> Result<(), Problem> {
    if out.exists() {
        let old = staging.with_extension("alt");
        std::fs::rename(out, &old).map_err(|e| io_problem(out, e))?;
        if let Err(e) = std::fs::rename(staging, out) {
            // Put the previous site back before reporting.
            let _ = std::fs::rename(&old, out);
            return Err(io_problem(out, e));
        }
        std::fs::remove_dir_all(&old).map_err(|e| io_problem(&old, e))?;
    } else {
        std::fs::rename(staging, out).map_err(|e| io_problem(out, e))?;
    }
    Ok(())
}

//! Which saved files are sources of the site, and the watcher (notify, or
//! the poller with `--poll`) that hands them to the live site.

use super::*;

/// Only these parts of the site trigger a rebuild.
pub(super) fn is_source(site_dir: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(site_dir) else {
        return false;
    };
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // Editor temp and backup files: saved-by-rename leaves a real event on the target too.
    if name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
    {
        return false;
    }
    rel == Path::new("campus.toml")
        || ["content", "data", "static", "templates", "themes"]
            .iter()
            .any(|d| rel.starts_with(d))
}

/// Reads (our own build reads every file) are not changes. Collects the
/// changed source paths; an error event counts as "anything may have changed".
pub(super) fn changes_source(
    dir: &Path,
    event: notify::Result<notify::Event>,
    changed: &mut Vec<PathBuf>,
) -> bool {
    use notify::event::{EventKind, MetadataKind, ModifyKind};
    let Ok(event) = event else {
        // Lost events (e.g. a queue overflow): treat the whole site as changed.
        changed.push(dir.to_path_buf());
        return true;
    };
    let is_change = !matches!(
        event.kind,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime))
    );
    let sources: Vec<PathBuf> = event
        .paths
        .into_iter()
        .filter(|p| is_source(dir, p))
        .collect();
    let relevant = is_change && !sources.is_empty();
    if relevant {
        changed.extend(sources);
    }
    relevant
}

/// How long to wait for more events after `event`: a file closed after
/// writing or renamed into place is saved, so a moment is enough for the
/// rest of the save; after anything else more may follow (a truncated
/// file before its new text).
fn quiet_after(event: &notify::Result<notify::Event>) -> Duration {
    use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind, RenameMode};
    let saved = event.as_ref().is_ok_and(|e| {
        matches!(
            e.kind,
            EventKind::Access(AccessKind::Close(AccessMode::Write))
                | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both))
        )
    });
    Duration::from_millis(if saved { 2 } else { 10 })
}

/// Watches the sources and rebuilds on changes; dropping the returned
/// value stops watching.
pub(super) fn watch_sources(live: Arc<LiveSite>, poll: bool) -> notify::Result<Box<dyn Send>> {
    let (tx, rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
    let dir = live.site_dir.clone();
    let roots: Vec<(PathBuf, RecursiveMode)> =
        std::iter::once((dir.clone(), RecursiveMode::NonRecursive))
            .chain(
                ["content", "data", "static", "templates", "themes"]
                    .iter()
                    .map(|sub| dir.join(sub))
                    .filter(|path| path.is_dir())
                    .map(|path| (path, RecursiveMode::Recursive)),
            )
            .collect();
    let events = if poll {
        None
    } else {
        notify::recommended_watcher(tx.clone()).ok()
    };
    let watching: Box<dyn Send> = match events {
        Some(mut watcher) => {
            for (path, mode) in &roots {
                watcher.watch(path, *mode)?;
            }
            Box::new(watcher)
        }
        // No change events (or asked not to use them): look for changes.
        None => Box::new(Poller::start(roots, tx)),
    };
    std::thread::spawn(move || {
        let mut rebuilt = false;
        loop {
            let first = if rebuilt {
                // Once the saves pause, this thread gives back what the
                // rebuilds freed on it (the sites they replaced).
                match rx.recv_timeout(Duration::from_secs(1)) {
                    Ok(event) => event,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        rebuilt = false;
                        collect_freed_memory();
                        continue;
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match rx.recv() {
                    Ok(event) => event,
                    Err(_) => break,
                }
            };
            let noticed = std::time::Instant::now();
            let mut changed: Vec<PathBuf> = Vec::new();
            let mut quiet = quiet_after(&first);
            let mut relevant = changes_source(&dir, first, &mut changed);
            // Debounce: editors write, rename and touch in quick succession.
            while let Ok(next) = rx.recv_timeout(quiet) {
                quiet = quiet_after(&next);
                relevant |= changes_source(&dir, next, &mut changed);
            }
            if !relevant {
                continue;
            }
            changed.sort();
            changed.dedup();
            if changed.iter().any(|p| p == &dir) {
                changed.clear(); // an empty list means "check everything"
            }
            rebuilt = true;
            if std::env::var_os("CAMPUS_ZEITEN").is_some() {
                eprintln!("Änderung bemerkt vor {} µs", noticed.elapsed().as_micros());
            }
            match live.rebuild(&changed) {
                Ok(report) => println!(
                    "Neu gebaut in {} ms: {} Seiten gerendert, {} Dateien geändert.",
                    report.duration.as_millis(),
                    report.rendered,
                    report.changed.len() + report.removed.len()
                ),
                Err(report) => {
                    eprintln!("{report}\nEs wird weiter die letzte fehlerfreie Fassung angezeigt.")
                }
            }
        }
    });
    Ok(watching)
}

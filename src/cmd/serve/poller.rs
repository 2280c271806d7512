//! `--poll`: compares exact modification times and sizes, for folders
//! where file events do not arrive (network drives, some containers).

use super::*;

/// Looks for changed, new and deleted files every 300 ms (or five times
/// as long as a look takes, so a large site on a slow network drive is not
/// scanned without pause), for drives that send no change events.
/// notify's `PollWatcher` compares modification times in whole seconds and
/// missed a second save within the same second; this compares them
/// exactly, and the sizes too.
pub(super) struct Poller {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

type Stamps = HashMap<PathBuf, (Option<std::time::SystemTime>, u64)>;

impl Poller {
    pub(super) fn start(
        roots: Vec<(PathBuf, RecursiveMode)>,
        events: std::sync::mpsc::Sender<notify::Result<notify::Event>>,
    ) -> Poller {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let mut known = Poller::stamps(&roots);
        std::thread::spawn(move || {
            let mut pause = Duration::from_millis(300);
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(pause);
                let started = std::time::Instant::now();
                let now = Poller::stamps(&roots);
                pause = (started.elapsed() * 5).max(Duration::from_millis(300));
                let changed = now
                    .iter()
                    .filter(|(path, stamp)| known.get(*path) != Some(stamp))
                    .chain(known.iter().filter(|(path, _)| !now.contains_key(*path)))
                    .map(|(path, _)| path.clone());
                for path in changed {
                    let event = notify::Event::new(notify::EventKind::Any).add_path(path);
                    if events.send(Ok(event)).is_err() {
                        return;
                    }
                }
                known = now;
            }
        });
        Poller { stop }
    }

    /// Modification time and size of every file under `roots`.
    fn stamps(roots: &[(PathBuf, RecursiveMode)]) -> Stamps {
        let mut stamps = Stamps::new();
        for (root, mode) in roots {
            let depth = match mode {
                RecursiveMode::Recursive => usize::MAX,
                RecursiveMode::NonRecursive => 1,
            };
            for entry in walkdir::WalkDir::new(root)
                .follow_links(true)
                .max_depth(depth)
                .into_iter()
                .flatten()
            {
                if let Ok(meta) = entry.metadata() {
                    if meta.is_file() {
                        stamps.insert(entry.into_path(), (meta.modified().ok(), meta.len()));
                    }
                }
            }
        }
        stamps
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

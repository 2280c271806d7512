//! Reading whole content folders in parallel, and the loader that reuses
//! files parsed before and not changed since.

use super::*;

/// Reads and parses every file of a folder in parallel. Returns the parsed
/// items and every problem met on the way.
pub fn load_folder<T: DeserializeOwned + Send>(dir: &Path) -> Folder<T> {
    let results: Vec<Result<(SourceFile, T), Problem>> = markdown_files(dir)
        .par_iter()
        .map(|path| {
            let file = SourceFile::read(path)?;
            let front = file.front_matter::<T>()?;
            Ok((file, front))
        })
        .collect();
    Folder::from_results(results)
}

/// A parse cache: files whose size and modification time did not change
/// (and that the watcher did not report) are not read again. `campus serve`
/// keeps only the text hashes ([`Loader::one_off_with_hashes`]): the cache
/// doubled the memory the content takes.
#[derive(Default)]
pub struct Loader {
    cache: std::sync::RwLock<std::collections::HashMap<PathBuf, Cached>>,
    /// Set when a file watcher reports every change through
    /// [`Loader::invalidate`]: cached files are then reused without asking
    /// the file system for their size and time (13,000 lookups per rebuild).
    watched: std::sync::atomic::AtomicBool,
    /// A one-off build keeps nothing: caching would double its memory.
    keep_nothing: bool,
    /// Text hashes of the files read, kept by a one-off build that compares
    /// page fingerprints with those of the last build (see `build_cache`).
    hashes: Option<std::sync::Mutex<std::collections::HashMap<PathBuf, u64>>>,
    /// Front matter parsed by the last `campus build` (see `front_cache`).
    front_cache: Option<FrontCache>,
}

pub(super) struct Cached {
    stamp: (u64, Option<std::time::SystemTime>),
    /// Hash of the file's text, so rebuilds can tell what changed.
    hash: u64,
    file: SourceFile,
    parsed: std::sync::Arc<dyn std::any::Any + Send + Sync>,
}

pub(super) fn stamp(path: &Path) -> Option<(u64, Option<std::time::SystemTime>)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()))
}

pub(super) fn text_hash(file: &SourceFile) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    file.front.hash(&mut h);
    file.body.hash(&mut h);
    h.finish()
}

impl Loader {
    /// A loader for a single build: reads every file and caches nothing.
    pub fn one_off() -> Loader {
        Loader {
            keep_nothing: true,
            ..Loader::default()
        }
    }

    /// A loader for a single build that keeps only the text hash of every
    /// file it reads (for [`Loader::file_hash`]), not the files.
    pub fn one_off_with_hashes() -> Loader {
        Loader {
            hashes: Some(Default::default()),
            ..Loader::one_off()
        }
    }

    /// Parses front matter through `cache`: unchanged front matter is not
    /// parsed again, and what this load parses is kept in it.
    pub fn with_front_cache(self, cache: FrontCache) -> Loader {
        Loader {
            front_cache: Some(cache),
            ..self
        }
    }

    /// The front matter cache with this load's entries, if one is used.
    pub fn front_cache(&self) -> Option<&FrontCache> {
        self.front_cache.as_ref()
    }

    /// Hash of a content file's text as last read, if it was read.
    pub fn file_hash(&self, path: &Path) -> Option<u64> {
        if let Some(hashes) = &self.hashes {
            return hashes.lock().expect("file hashes").get(path).copied();
        }
        self.cache
            .read()
            .expect("loader cache")
            .get(path)
            .map(|c| c.hash)
    }

    pub fn set_watched(&self, watched: bool) {
        self.watched
            .store(watched, std::sync::atomic::Ordering::Relaxed);
    }

    /// Forgets every file, so the next load reads all of them again.
    pub fn clear(&self) {
        self.cache.write().expect("loader cache").clear();
    }

    /// Forgets what is known about `path`, so the next load reads it again.
    pub fn invalidate(&self, path: &Path) {
        self.cache.write().expect("loader cache").remove(path);
    }

    /// Like [`load_folder`], reusing parsed files that did not change.
    pub fn load_folder<T>(&self, dir: &Path) -> Folder<T>
    where
        T: DeserializeOwned + serde::Serialize + Clone + Send + Sync + 'static,
    {
        let results: Vec<Result<(SourceFile, T), Problem>> = markdown_files(dir)
            .par_iter()
            .map(|path| self.load_file(path))
            .collect();
        Folder::from_results(results)
    }

    /// One content file, from the cache when it did not change.
    pub fn load_file<T>(&self, path: &Path) -> Result<(SourceFile, T), Problem>
    where
        T: DeserializeOwned + serde::Serialize + Clone + Send + Sync + 'static,
    {
        let watched = self.watched.load(std::sync::atomic::Ordering::Relaxed);
        if watched {
            if let Some(hit) = self.cache.read().expect("loader cache").get(path) {
                if let Some(parsed) = hit.parsed.downcast_ref::<T>() {
                    return Ok((hit.file.clone(), parsed.clone()));
                }
            }
        }
        let now = stamp(path);
        if let Some(hit) = self.cache.read().expect("loader cache").get(path) {
            if Some(hit.stamp) == now {
                if let Some(parsed) = hit.parsed.downcast_ref::<T>() {
                    return Ok((hit.file.clone(), parsed.clone()));
                }
            }
        }
        let file = SourceFile::read(path)?;
        let front = match &self.front_cache {
            Some(cache) => cache.front_matter::<T>(&file)?,
            None => file.front_matter::<T>()?,
        };
        if let Some(hashes) = &self.hashes {
            hashes
                .lock()
                .expect("file hashes")
                .insert(path.to_path_buf(), text_hash(&file));
        }
        if let Some(now) = now.filter(|_| !self.keep_nothing) {
            let parsed = std::sync::Arc::new(front.clone());
            let cached = Cached {
                stamp: now,
                hash: text_hash(&file),
                file: file.clone(),
                parsed,
            };
            self.cache
                .write()
                .expect("loader cache")
                .insert(path.to_path_buf(), cached);
        }
        Ok((file, front))
    }
}

impl<T> Folder<T> {
    fn from_results(results: Vec<Result<(SourceFile, T), Problem>>) -> Folder<T> {
        let mut folder = Folder {
            items: Vec::with_capacity(results.len()),
            problems: Vec::new(),
            broken_ids: Vec::new(),
        };
        for r in results {
            match r {
                Ok(item) => folder.items.push(item),
                Err(p) => {
                    if let Some(stem) = p.file.file_stem() {
                        folder.broken_ids.push(stem.to_string_lossy().into_owned());
                    }
                    folder.problems.push(p);
                }
            }
        }
        folder
    }
}

/// The files of one content folder after parsing.
pub struct Folder<T> {
    pub items: Vec<(SourceFile, T)>,
    pub problems: Vec<Problem>,
    /// Ids of files that exist but could not be parsed: references to them
    /// are not reported a second time as unknown.
    pub broken_ids: Vec<String>,
}

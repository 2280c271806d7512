//! Parsed front matter kept between runs of `campus build`, so a build
//! after an edit parses only the YAML that changed. At Germany scale,
//! parsing the front matter of 13,000 files was about a fifth of the CPU
//! a build after one edit took.
//!
//! An entry is used only when the file's front matter text is exactly the
//! one it was parsed from (the text is kept and compared, not a hash).
//! Values are kept as JSON in the cache's own form (with the place of every
//! [`Located`](super::Located) value, amounts in cents); anything that does
//! not read back is parsed from the YAML again. Deleting the cache is always
//! safe. A cache written by another binary is not used. `build_cache`
//! decides where it lives.

use super::*;
use std::collections::HashMap;
use std::sync::Mutex;

const MAGIC: &[u8] = b"campus-vorspann-2\n";

/// The front matter of the last build (read) and of this one (collected).
#[derive(Default)]
pub struct FrontCache {
    /// The binary that parses (see [`FrontCache::from_bytes`]).
    binary: String,
    /// The last build's file: entries point into it.
    bytes: Vec<u8>,
    /// The last build's entries.
    before: Entries,
    /// This build's entries, by path.
    now: Mutex<Vec<(PathBuf, Entry)>>,
    /// Front matters read from the cache instead of parsed.
    reused: std::sync::atomic::AtomicUsize,
}

impl FrontCache {
    /// Reads what [`FrontCache::to_bytes`] wrote when the same `binary`
    /// (any text naming the executable) parsed it; an empty cache for
    /// anything else: another binary may parse differently, and a damaged
    /// or foreign file only costs the parsing.
    pub fn from_bytes(bytes: Vec<u8>, binary: &str) -> FrontCache {
        let before = read_entries(&bytes, binary).unwrap_or_default();
        FrontCache {
            binary: binary.to_string(),
            bytes,
            before,
            ..FrontCache::default()
        }
    }

    /// The entries of this build, to be read by the next one.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out).expect("writing to memory");
        out
    }

    /// [`FrontCache::to_bytes`] into `out`, without the copy in memory.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let mut now = std::mem::take(&mut *self.now.lock().expect("front cache"));
        now.sort_by(|a, b| a.0.cmp(&b.0));
        out.write_all(MAGIC)?;
        out.write_all(&(self.binary.len() as u32).to_le_bytes())?;
        out.write_all(self.binary.as_bytes())?;
        out.write_all(&(now.len() as u32).to_le_bytes())?;
        for (path, entry) in &now {
            let (front, json) = match entry {
                Entry::Before(front, json) => {
                    (&self.bytes[front.clone()], &self.bytes[json.clone()])
                }
                Entry::New(front, json) => (front.as_bytes(), json.as_slice()),
            };
            for part in [path.to_string_lossy().as_bytes(), front, json] {
                out.write_all(&(part.len() as u32).to_le_bytes())?;
                out.write_all(part)?;
            }
        }
        Ok(())
    }

    /// The front matter of `file`, from the cache when its text is the one
    /// parsed last time, else parsed from the YAML (and kept for next time).
    pub(crate) fn front_matter<T>(&self, file: &SourceFile) -> Result<T, Problem>
    where
        T: DeserializeOwned + serde::Serialize,
    {
        if let Some((front, json)) = self.before.get(&file.path) {
            if self.bytes[front.clone()] == *file.front.as_bytes() {
                let kept = &self.bytes[json.clone()];
                if let Ok(value) = in_cache_form(|| serde_json::from_slice::<T>(kept)) {
                    self.keep(file, Entry::Before(front.clone(), json.clone()));
                    self.reused
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return Ok(value);
                }
            }
        }
        let value = file.front_matter::<T>()?;
        if let Ok(json) = in_cache_form(|| serde_json::to_vec(&value)) {
            self.keep(file, Entry::New(file.front.clone(), json));
        }
        Ok(value)
    }

    /// How many front matters were read from the cache, not parsed.
    pub fn reused(&self) -> usize {
        self.reused.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn keep(&self, file: &SourceFile, entry: Entry) {
        self.now
            .lock()
            .expect("front cache")
            .push((file.path.clone(), entry));
    }
}

/// Path → (front matter text, parsed value as JSON), as byte ranges of
/// [`FrontCache::bytes`].
type Entries = HashMap<PathBuf, (std::ops::Range<usize>, std::ops::Range<usize>)>;

/// One file's front matter text and parsed value as JSON.
enum Entry {
    /// As the last build kept it: ranges of [`FrontCache::bytes`].
    Before(std::ops::Range<usize>, std::ops::Range<usize>),
    New(String, Vec<u8>),
}

fn read_entries(bytes: &[u8], binary: &str) -> Option<Entries> {
    /// Reads numbers and length-prefixed parts one after the other.
    struct Reader<'a> {
        bytes: &'a [u8],
        at: usize,
    }
    impl Reader<'_> {
        fn number(&mut self) -> Option<usize> {
            let four = self.bytes.get(self.at..self.at + 4)?;
            self.at += 4;
            Some(u32::from_le_bytes(four.try_into().ok()?) as usize)
        }
        fn part(&mut self) -> Option<std::ops::Range<usize>> {
            let len = self.number()?;
            let range = self.at..self.at + len;
            self.bytes.get(range.clone())?;
            self.at = range.end;
            Some(range)
        }
    }
    if !bytes.starts_with(MAGIC) {
        return None;
    }
    let mut r = Reader {
        bytes,
        at: MAGIC.len(),
    };
    if bytes[r.part()?] != *binary.as_bytes() {
        return None;
    }
    let count = r.number()?;
    let mut entries = HashMap::with_capacity(count.min(1 << 20));
    for _ in 0..count {
        let (path, front, json) = (r.part()?, r.part()?, r.part()?);
        let path = PathBuf::from(std::str::from_utf8(&bytes[path]).ok()?);
        entries.insert(path, (front, json));
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(folder: &str) -> Vec<SourceFile> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../content")
            .join(folder);
        let files: Vec<SourceFile> = markdown_files(&dir)
            .iter()
            .map(|p| SourceFile::read(p).unwrap())
            .collect();
        assert!(!files.is_empty(), "no files in {dir:?}");
        files
    }

    /// Parses every file through a fresh cache, then through the cache the
    /// first pass wrote; both must equal the YAML parse, place included.
    fn round_trip<T>(folder: &str)
    where
        T: DeserializeOwned + serde::Serialize + std::fmt::Debug,
    {
        let files = sample(folder);
        let first = FrontCache::from_bytes(Vec::new(), "campus 1");
        for f in &files {
            let parsed: T = f.front_matter().unwrap();
            let through: T = first.front_matter(f).unwrap();
            assert_eq!(format!("{through:?}"), format!("{parsed:?}"));
        }
        assert_eq!(first.reused(), 0);
        let second = FrontCache::from_bytes(first.to_bytes(), "campus 1");
        for f in &files {
            let parsed: T = f.front_matter().unwrap();
            let kept: T = second.front_matter(f).unwrap();
            assert_eq!(format!("{kept:?}"), format!("{parsed:?}"), "{:?}", f.path);
        }
        assert_eq!(
            second.reused(),
            files.len(),
            "{folder}: not all read from the cache"
        );
        // What the second pass kept is the same again.
        assert_eq!(
            FrontCache::from_bytes(second.to_bytes(), "campus 1")
                .before
                .len(),
            files.len()
        );
    }

    #[test]
    fn every_kind_of_front_matter_reads_back_as_parsed() {
        round_trip::<RawUnit>("einheiten");
        round_trip::<RawAuthority>("kommunen");
        round_trip::<RawCourse>("kurse");
        round_trip::<RawTopic>("themen");
        round_trip::<RawLecturer>("dozierende");
        round_trip::<RawProvider>("anbieter");
        round_trip::<RawFaq>("faq");
        round_trip::<RawEvent>("veranstaltungen");
        round_trip::<RawPage>("seiten");
    }

    #[test]
    fn changed_front_matter_is_parsed_again_with_its_problems() {
        let file = &sample("einheiten")[0];
        let first = FrontCache::from_bytes(Vec::new(), "campus 1");
        let _: RawUnit = first.front_matter(file).unwrap();
        let cache = FrontCache::from_bytes(first.to_bytes(), "campus 1");
        let mut edited = file.clone();
        edited.front = edited.front.replacen("titel:", "titel: [", 1);
        let problem = cache.front_matter::<RawUnit>(&edited).unwrap_err();
        assert!(problem.to_string().contains(":2:"), "{problem}");
        assert_eq!(cache.reused(), 0);
        // The unchanged file is read from the cache, its hours exact.
        let unit: RawUnit = cache.front_matter(file).unwrap();
        let parsed: RawUnit = file.front_matter().unwrap();
        assert_eq!(unit.aufwand_stunden.value, parsed.aufwand_stunden.value);
        assert_eq!(cache.reused(), 1);
    }

    #[test]
    fn a_damaged_or_foreign_cache_or_another_binarys_is_an_empty_one() {
        let file = &sample("einheiten")[0];
        let first = FrontCache::from_bytes(Vec::new(), "campus 1");
        let _: RawUnit = first.front_matter(file).unwrap();
        let bytes = first.to_bytes();
        // Another binary's cache is not used either.
        let other = FrontCache::from_bytes(bytes.clone(), "campus 2");
        assert!(other.before.is_empty());
        for broken in [
            bytes[..bytes.len() - 3].to_vec(),
            b"campus-vorspann-0\n".to_vec(),
            Vec::new(),
        ] {
            let cache = FrontCache::from_bytes(broken, "campus 1");
            assert!(cache.before.is_empty());
            let _: RawUnit = cache.front_matter(file).unwrap();
            assert_eq!(cache.reused(), 0);
        }
    }
}

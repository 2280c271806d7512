//! Outputs as `campus serve` keeps them in memory: raw right after
//! rendering (a browser is waiting for them), gzip-compressed once there is
//! time (about a quarter at Germany scale: 249 MB raw, 65 MiB kept). Browsers
//! get the compressed bytes as they are; other clients get them unpacked.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// One output file's bytes, raw or gzip-compressed, with the hash of the
/// raw bytes (so a rebuild tells a changed output from an unchanged one
/// without unpacking it).
pub struct Kept {
    hash: u64,
    len: usize,
    body: Body,
    /// Set when compressing did not pay: not tried again.
    incompressible: AtomicBool,
}

enum Body {
    Raw(Vec<u8>),
    Gzip(Vec<u8>),
}

/// Fast over compact: it runs after every edit (zlib on the Germany-scale
/// output: level 1 62 MB in 2.0 s, level 6 55 MB in 4.3 s).
const LEVEL: u32 = 1;

fn hash_of(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

impl Kept {
    /// Keeps `bytes` as they are (without spare capacity).
    pub fn raw(mut bytes: Vec<u8>) -> Kept {
        bytes.shrink_to_fit();
        Kept {
            hash: hash_of(&bytes),
            len: bytes.len(),
            body: Body::Raw(bytes),
            incompressible: AtomicBool::new(false),
        }
    }

    /// Keeps `bytes` compressed if that makes them smaller (pictures and
    /// tiny files stay raw).
    pub fn compressed(bytes: Vec<u8>) -> Kept {
        let kept = Kept::raw(bytes);
        kept.to_compressed().unwrap_or(kept)
    }

    /// The compressed form of a raw output; `None` if it is compressed
    /// already or would not get at least a tenth smaller (which is
    /// remembered, see [`Kept::may_shrink`]).
    pub fn to_compressed(&self) -> Option<Kept> {
        let Body::Raw(raw) = &self.body else {
            return None;
        };
        let incompressible = || {
            self.incompressible.store(true, Ordering::Relaxed);
            None
        };
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(raw.len() / 3),
            flate2::Compression::new(LEVEL),
        );
        let Ok(mut gzip) = encoder.write_all(raw).and_then(|()| encoder.finish()) else {
            return incompressible();
        };
        if gzip.len() > raw.len() / 10 * 9 {
            return incompressible();
        }
        gzip.shrink_to_fit();
        Some(Kept {
            hash: self.hash,
            len: self.len,
            body: Body::Gzip(gzip),
            incompressible: AtomicBool::new(false),
        })
    }

    /// Whether [`Kept::to_compressed`] may still make it smaller: raw and
    /// not found incompressible yet.
    pub fn may_shrink(&self) -> bool {
        matches!(self.body, Body::Raw(_)) && !self.incompressible.load(Ordering::Relaxed)
    }

    /// Whether `bytes` are the same as the kept ones (by hash and length).
    pub fn same_as(&self, bytes: &[u8]) -> bool {
        self.len == bytes.len() && self.hash == hash_of(bytes)
    }

    /// Whether both keep the same raw bytes (by hash and length), however
    /// each keeps them.
    pub fn same(&self, other: &Kept) -> bool {
        self.len == other.len && self.hash == other.hash
    }

    pub fn is_compressed(&self) -> bool {
        matches!(self.body, Body::Gzip(_))
    }

    /// Length of the raw bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The gzip stream, if kept compressed.
    pub fn gzip(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Gzip(gzip) => Some(gzip),
            Body::Raw(_) => None,
        }
    }

    /// The raw bytes, if kept raw.
    pub fn raw_bytes(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Raw(raw) => Some(raw),
            Body::Gzip(_) => None,
        }
    }

    /// The bytes as kept: the gzip stream or the raw bytes.
    pub fn stored(&self) -> &[u8] {
        match &self.body {
            Body::Raw(bytes) | Body::Gzip(bytes) => bytes,
        }
    }

    /// The raw bytes, unpacked if kept compressed.
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match &self.body {
            Body::Raw(raw) => Cow::Borrowed(raw),
            Body::Gzip(gzip) => {
                let mut raw = Vec::with_capacity(self.len);
                flate2::read::GzDecoder::new(gzip.as_slice())
                    .read_to_end(&mut raw)
                    .expect("gzip made by Kept::to_compressed");
                Cow::Owned(raw)
            }
        }
    }
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept")
            .field("len", &self.len)
            .field("compressed", &self.is_compressed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_pages_unpack_to_the_same_bytes() {
        let page: Vec<u8> = (0..2000)
            .map(|i| format!("<li><a href=\"/kommunen/k{i}/\">Gemeinde {i}</a></li>\n"))
            .collect::<String>()
            .into_bytes();
        let kept = Kept::compressed(page.clone());
        assert!(kept.is_compressed());
        assert!(kept.gzip().unwrap().len() < page.len() / 4);
        assert_eq!(kept.bytes().as_ref(), page.as_slice());
        assert_eq!(kept.len(), page.len());
        assert!(kept.same_as(&page));
        assert!(kept.same(&Kept::raw(page.clone())));
        assert!(!kept.may_shrink());
        let mut other = page.clone();
        other[100] = b'X';
        assert!(!kept.same_as(&other));
        // The gzip stream is a complete file a browser can unpack.
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(kept.gzip().unwrap())
            .read_to_end(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, page);
    }

    #[test]
    fn what_does_not_shrink_stays_raw() {
        // Bytes without repetition (like a JPEG) do not get smaller.
        let mut state = 0x2545_f491_u32;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        let kept = Kept::compressed(noise.clone());
        assert!(!kept.is_compressed());
        assert!(!kept.may_shrink(), "not tried again");
        assert_eq!(kept.raw_bytes(), Some(noise.as_slice()));
        assert!(Kept::compressed(b"ok".to_vec()).raw_bytes().is_some());
    }
}

//! Raster pictures for slow municipal networks and phones: their size (so
//! `width`/`height` keep the page from jumping while it loads) and smaller
//! copies for `srcset`, made once and kept in `.campus-cache/bilder/` beside
//! the site (safe to delete; remade on the next build).
//!
//! JPEG photos get JPEG copies (no lossy WebP encoder in pure Rust); PNG
//! graphics get lossless WebP copies, offered in a `<picture>` with the PNG
//! as the fallback. SVG needs none of this.

use crate::error::{Problem, ProblemKind};
use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Widths of the smaller copies; only those below the original are made.
pub const WIDTHS: [u32; 3] = [480, 960, 1600];

/// Where the copies are kept between builds, below the site folder.
pub const CACHE_DIR: &str = ".campus-cache/bilder";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jpeg,
    Png,
}

/// One raster picture below `static/` and its copies.
#[derive(Debug, Clone)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    kind: Kind,
    source: PathBuf,
    /// Site paths of the copies with their widths, narrowest first.
    pub variants: Vec<(u32, String)>,
}

/// The raster pictures of a site, by site path ("/bilder/foto.jpg").
#[derive(Debug, Clone, Default)]
pub struct Images {
    by_path: HashMap<String, Raster>,
}

impl Images {
    /// Reads the size of every JPEG and PNG among `site_paths` (the files
    /// below `static_dir` as "/bilder/x.jpg", listed once by the loader;
    /// only the file headers are read, nothing is decoded here).
    pub fn scan<'a>(static_dir: &Path, site_paths: impl IntoIterator<Item = &'a String>) -> Images {
        let mut by_path = HashMap::new();
        for site_path in site_paths {
            let ext = site_path
                .rsplit_once('.')
                .map(|(_, e)| e.to_ascii_lowercase());
            let kind = match ext.as_deref() {
                Some("jpg" | "jpeg") => Kind::Jpeg,
                Some("png") => Kind::Png,
                _ => continue,
            };
            let path = static_dir.join(site_path.trim_start_matches('/'));
            // A file the decoder cannot read is served as it is.
            let Ok((width, height)) = image::image_dimensions(&path) else {
                continue;
            };
            let (stem, _) = site_path.rsplit_once('.').expect("has an extension");
            let suffix = match kind {
                Kind::Jpeg => "jpg",
                Kind::Png => "webp",
            };
            let mut variants: Vec<(u32, String)> = WIDTHS
                .iter()
                .filter(|w| **w < width)
                .map(|w| (*w, format!("{stem}-{w}w.{suffix}")))
                .collect();
            // The PNG's own width as WebP too, so WebP browsers never fall back.
            if kind == Kind::Png {
                variants.push((width, format!("{stem}-{width}w.webp")));
            }
            by_path.insert(
                site_path.clone(),
                Raster {
                    width,
                    height,
                    kind,
                    source: path,
                    variants,
                },
            );
        }
        Images { by_path }
    }

    pub fn get(&self, site_path: &str) -> Option<&Raster> {
        self.by_path.get(site_path)
    }

    /// `<img>` (or `<picture>` for PNG) markup for `src` with `alt`
    /// (already escaped by the caller), or None when `src` is no raster
    /// picture of this site.
    pub fn markup(&self, src: &str, alt: &str, sizes: &str, class: &str) -> Option<String> {
        let r = self.get(src)?;
        let class = if class.is_empty() {
            String::new()
        } else {
            format!(" class=\"{class}\"")
        };
        let srcset = |r: &Raster| {
            r.variants
                .iter()
                .map(|(w, p)| format!("{p} {w}w"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let img = |srcset: &str| {
            let srcset = if srcset.is_empty() {
                String::new()
            } else {
                format!(" srcset=\"{srcset}, {src} {}w\" sizes=\"{sizes}\"", r.width)
            };
            format!(
                "<img{class} src=\"{src}\"{srcset} alt=\"{alt}\" width=\"{}\" height=\"{}\" loading=\"lazy\" decoding=\"async\">",
                r.width, r.height
            )
        };
        Some(match r.kind {
            Kind::Jpeg => img(&srcset(r)),
            Kind::Png => format!(
                "<picture><source type=\"image/webp\" srcset=\"{}\" sizes=\"{sizes}\">{}</picture>",
                srcset(r),
                img("")
            ),
        })
    }

    /// The copies as output files (path below the output folder, bytes),
    /// taken from the cache when a copy of the same source bytes is there.
    pub fn outputs(&self, site_root: &Path) -> Result<BTreeMap<String, Vec<u8>>, Problem> {
        let cache = site_root.join(CACHE_DIR);
        let mut out = BTreeMap::new();
        let mut sorted: Vec<&Raster> = self.by_path.values().collect();
        sorted.sort_by(|a, b| a.source.cmp(&b.source));
        for r in sorted {
            if r.variants.is_empty() {
                continue;
            }
            let bytes = std::fs::read(&r.source).map_err(|e| unreadable(&r.source, &e))?;
            let key = fingerprint(&bytes);
            let mut decoded = None;
            for (w, site_path) in &r.variants {
                let ext = site_path.rsplit('.').next().unwrap_or("bin");
                let cached = cache.join(format!("{key}-{w}.{ext}"));
                let copy = match std::fs::read(&cached) {
                    Ok(copy) => copy,
                    Err(_) => {
                        if decoded.is_none() {
                            let picture = image::load_from_memory(&bytes).map_err(|e| {
                                Problem::new(
                                    &r.source,
                                    ProblemKind::Unreadable {
                                        reason: format!("Bild kann nicht gelesen werden: {e}"),
                                    },
                                )
                            })?;
                            decoded = Some(picture);
                        }
                        let copy = resized(decoded.as_ref().expect("decoded"), *w, r.kind)
                            .map_err(|reason| {
                                Problem::new(&r.source, ProblemKind::Unreadable { reason })
                            })?;
                        // The cache only saves time: a failed write costs nothing else.
                        if std::fs::create_dir_all(&cache).is_ok() {
                            let _ = std::fs::write(&cached, &copy);
                        }
                        copy
                    }
                };
                out.insert(site_path.trim_start_matches('/').to_string(), copy);
            }
        }
        Ok(out)
    }
}

fn unreadable(path: &Path, e: &std::io::Error) -> Problem {
    Problem::new(
        path,
        ProblemKind::Unreadable {
            reason: crate::content::german_io_error(e),
        },
    )
}

/// A stable name for the source bytes (FNV-1a, 64 bit): a changed picture
/// gets new copies, an unchanged one its old ones.
fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}-{}", bytes.len())
}

fn resized(picture: &image::DynamicImage, width: u32, kind: Kind) -> Result<Vec<u8>, String> {
    let height =
        (u64::from(picture.height()) * u64::from(width) / u64::from(picture.width())).max(1) as u32;
    let small = if width == picture.width() {
        picture.clone()
    } else {
        picture.resize_exact(width, height, image::imageops::FilterType::Lanczos3)
    };
    let mut out = Cursor::new(Vec::new());
    match kind {
        Kind::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82);
            small.to_rgb8().write_with_encoder(encoder)
        }
        Kind::Png => {
            let encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
            small.to_rgba8().write_with_encoder(encoder)
        }
    }
    .map_err(|e| format!("Verkleinerte Fassung kann nicht erzeugt werden: {e}"))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(dir: &Path, name: &str, width: u32, height: u32) {
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        img.save(dir.join(name)).unwrap();
    }

    #[test]
    fn copies_below_the_original_width_with_sizes_in_the_markup() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("static/bilder")).unwrap();
        picture(&dir.path().join("static/bilder"), "foto.jpg", 1200, 800);
        picture(&dir.path().join("static/bilder"), "grafik.png", 300, 100);
        let listed =
            ["/bilder/foto.jpg", "/bilder/grafik.png", "/bilder/logo.svg"].map(String::from);
        let images = Images::scan(&dir.path().join("static"), &listed);

        let foto = images.get("/bilder/foto.jpg").unwrap();
        assert_eq!((foto.width, foto.height), (1200, 800));
        let widths: Vec<u32> = foto.variants.iter().map(|(w, _)| *w).collect();
        assert_eq!(widths, [480, 960]);
        let html = images
            .markup("/bilder/foto.jpg", "Rathaus", "100vw", "")
            .unwrap();
        assert!(html.contains("srcset=\"/bilder/foto-480w.jpg 480w, /bilder/foto-960w.jpg 960w, /bilder/foto.jpg 1200w\""), "{html}");
        assert!(html.contains("width=\"1200\" height=\"800\""), "{html}");

        let grafik = images.markup("/bilder/grafik.png", "", "10em", "").unwrap();
        assert!(
            grafik.starts_with(
                "<picture><source type=\"image/webp\" srcset=\"/bilder/grafik-300w.webp 300w\""
            ),
            "{grafik}"
        );
        assert!(grafik.contains("src=\"/bilder/grafik.png\""), "{grafik}");
        assert!(images.markup("/bilder/logo.svg", "", "", "").is_none());

        let files = images.outputs(dir.path()).unwrap();
        let small = image::load_from_memory(&files["bilder/foto-480w.jpg"]).unwrap();
        assert_eq!((small.width(), small.height()), (480, 320));
        let webp = image::load_from_memory(&files["bilder/grafik-300w.webp"]).unwrap();
        assert_eq!((webp.width(), webp.height()), (300, 100));

        // The second build takes the copies from the cache: replace a cached
        // copy and see it come back unchanged.
        let cached: Vec<_> = std::fs::read_dir(dir.path().join(CACHE_DIR))
            .unwrap()
            .collect();
        assert_eq!(cached.len(), 3);
        let one = cached[0].as_ref().unwrap().path();
        std::fs::write(&one, b"aus dem Zwischenspeicher").unwrap();
        let again = images.outputs(dir.path()).unwrap();
        assert!(again.values().any(|b| b == b"aus dem Zwischenspeicher"));
    }
}

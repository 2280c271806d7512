//! Photos and graphics for slow networks: `campus build` gives every JPEG and
//! PNG below static/ its size and smaller copies (`srcset`; PNG as lossless
//! WebP with the PNG as fallback), made once and then taken from the cache.

use crate::support::*;

fn photo(site: &std::path::Path, rel: &str, width: u32, height: u32) {
    let path = site.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 200) as u8, (y % 200) as u8, 90])
    })
    .save(path)
    .unwrap();
}

#[test]
fn photos_get_their_size_and_smaller_copies() {
    let dir = fixture("minimal");
    let site = dir.path();
    photo(site, "static/bilder/rathaus.jpg", 2000, 1000);
    photo(site, "static/bilder/plan.png", 640, 480);
    edit(
        site,
        "content/einheiten/selbstlernen.md",
        "Beschreibung.",
        "Beschreibung.\n\n![Der Plan des Rathauses](/bilder/plan.png)",
    );
    edit(
        site,
        "content/kommunen/mitgliedsstadt.md",
        "datei: /bilder/bild.svg",
        "datei: /bilder/rathaus.jpg",
    );
    build(site).unwrap();

    let out = site.join("public");
    for (copy, width, height) in [
        ("bilder/rathaus-480w.jpg", 480, 240),
        ("bilder/rathaus-960w.jpg", 960, 480),
        ("bilder/rathaus-1600w.jpg", 1600, 800),
        ("bilder/plan-480w.webp", 480, 360),
        ("bilder/plan-640w.webp", 640, 480),
    ] {
        let img = image::open(out.join(copy)).unwrap_or_else(|e| panic!("{copy}: {e}"));
        assert_eq!((img.width(), img.height()), (width, height), "{copy}");
    }
    assert!(
        std::fs::metadata(out.join("bilder/rathaus-480w.jpg"))
            .unwrap()
            .len()
            < std::fs::metadata(out.join("bilder/rathaus.jpg"))
                .unwrap()
                .len()
    );

    let unit = html(site, "lerneinheiten/selbstlernen/index.html");
    let img = select(&unit, "picture > img[src='/bilder/plan.png']");
    assert_eq!(img.len(), 1, "the PNG in a <picture>");
    let img = img[0].value();
    assert_eq!(img.attr("alt"), Some("Der Plan des Rathauses"));
    assert_eq!(
        (img.attr("width"), img.attr("height")),
        (Some("640"), Some("480"))
    );
    let source = select(&unit, "picture > source[type='image/webp']");
    assert_eq!(
        source[0].value().attr("srcset"),
        Some("/bilder/plan-480w.webp 480w, /bilder/plan-640w.webp 640w")
    );

    let town = html(site, "kommunen/mitgliedsstadt/index.html");
    let img = select(&town, "img[src='/bilder/rathaus.jpg']");
    assert_eq!(img.len(), 1);
    let img = img[0].value();
    assert_eq!(
        img.attr("srcset"),
        Some("/bilder/rathaus-480w.jpg 480w, /bilder/rathaus-960w.jpg 960w, /bilder/rathaus-1600w.jpg 1600w, /bilder/rathaus.jpg 2000w")
    );
    assert_eq!(
        (img.attr("width"), img.attr("height")),
        (Some("2000"), Some("1000"))
    );
    assert_eq!(img.attr("alt"), Some("Ein Testbild"));
}

#[test]
fn copies_are_made_once_and_taken_from_the_cache() {
    let dir = fixture("minimal");
    let site = dir.path();
    photo(site, "static/bilder/rathaus.jpg", 1000, 500);
    build(site).unwrap();
    let cache = site.join(campus_generator::images::CACHE_DIR);
    let cached: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cached.len(), 2, "480 and 960 px");
    // A marked cache entry shows up in the next build: it was not made again.
    let small = cached
        .iter()
        .find(|p| p.to_string_lossy().ends_with("-480.jpg"))
        .unwrap();
    let mut marked = std::fs::read(small).unwrap();
    marked.extend_from_slice(b"cache");
    std::fs::write(small, &marked).unwrap();
    build(site).unwrap();
    assert_eq!(
        std::fs::read(site.join("public/bilder/rathaus-480w.jpg")).unwrap(),
        marked
    );

    // A changed photo gets new copies.
    photo(site, "static/bilder/rathaus.jpg", 800, 400);
    build(site).unwrap();
    let copy = image::open(site.join("public/bilder/rathaus-480w.jpg")).unwrap();
    assert_eq!((copy.width(), copy.height()), (480, 240));
    assert!(
        !site.join("public/bilder/rathaus-960w.jpg").exists(),
        "no copy wider than the photo"
    );
}

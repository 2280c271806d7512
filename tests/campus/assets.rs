//! Style sheets and scripts are published minified under fingerprinted
//! names, and every page names those.

use crate::support::*;

/// The fingerprinted addresses a page links (`/assets/campus.<hash>.css`, ...).
fn asset_links(html: &str) -> Vec<String> {
    html.split(['"'])
        .filter(|s| s.starts_with("/assets/"))
        .map(str::to_string)
        .collect()
}

#[test]
fn pages_name_minified_fingerprinted_style_sheets_and_scripts() {
    let dir = sample();
    let site = dir.path();
    build(site).unwrap_or_else(|p| panic!("{p}"));
    let public = site.join("public");
    let home = read(&public, "index.html");
    let links = asset_links(&home);
    assert_eq!(links.len(), 3, "{links:?}");
    for link in &links {
        assert!(
            campus_generator::headers::is_fingerprinted(link),
            "{link} is not fingerprinted"
        );
        let link = link.trim_start_matches('/');
        let plain =
            link.split('.').next().unwrap().to_string() + "." + link.rsplit('.').next().unwrap();
        let (min, original) = (read(&public, link), read(&public, &plain));
        assert!(
            min.len() < original.len() * 9 / 10,
            "{link}: {} bytes, {plain}: {}",
            min.len(),
            original.len()
        );
    }
    // Every page names the same files (the plain names stay for templates
    // of sites that still use them).
    for entry in walkdir::WalkDir::new(&public) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "html") {
            let html = std::fs::read_to_string(entry.path()).unwrap();
            assert_eq!(asset_links(&html), links, "{}", entry.path().display());
        }
    }

    // A changed style sheet gets a new name; the old one is gone.
    let css = "themes/default/static/assets/campus.css";
    write(site, css, &(read(site, css) + "\n.neu { color: #000; }\n"));
    build(site).unwrap_or_else(|p| panic!("{p}"));
    let after = asset_links(&read(&public, "index.html"));
    assert_ne!(after[0], links[0]);
    assert!(read(&public, after[0].trim_start_matches('/')).ends_with(".neu{color:#000}"));
    assert!(!public.join(links[0].trim_start_matches('/')).exists());
}

//! The security headers every answer of the site carries, in one place:
//! `campus run` and `campus serve` add them as a middleware layer, and
//! `campus build` writes them for hosts that serve `public/` themselves
//! (`_headers`), with the same text for nginx and Caddy in `deploy/`.

/// Same-origin only: no third-party scripts, fonts, frames or images, and
/// no other site may frame a page (clickjacking on the confirmation page).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

/// Name and value of every security header, lower-case names.
/// "same-origin": links with tokens never leak to other sites, and posts
/// keep their Origin (with "no-referrer" browsers send `Origin: null`).
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
];

/// A year, for file names that change whenever their content does.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Whether a file name carries a content hash (`campus.3f9a1c2b.css`): such
/// a file never changes under its name and may be cached for a year.
pub fn is_fingerprinted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1]
            .iter()
            .any(|p| p.len() >= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `_headers` as Netlify, Cloudflare Pages and similar hosts read it.
pub fn headers_file() -> String {
    let mut out = String::from("# Written by campus build: security headers for every path.\n/*\n");
    for (name, value) in SECURITY_HEADERS {
        out.push_str(&format!("  {}: {value}\n", display_name(name)));
    }
    out
}

/// [`headers_file`] plus a year's cache lifetime for each fingerprinted
/// file (`assets/campus.3f9a1c2b.css`); every other file is revalidated.
pub fn headers_file_with_lifetimes<'a>(fingerprinted: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = headers_file();
    for path in fingerprinted {
        out.push_str(&format!("/{path}\n  Cache-Control: {IMMUTABLE}\n"));
    }
    out
}

/// nginx `add_header` lines (`always`: also on 4xx/5xx answers).
pub fn nginx_snippet() -> String {
    let mut out = String::from(
        "# Generated from campus_generator::headers (campus build writes the same as _headers).\n\
         # Include in every server/location block that serves KommunalCampus.\n",
    );
    for (name, value) in SECURITY_HEADERS {
        out.push_str(&format!(
            "add_header {} \"{value}\" always;\n",
            display_name(name)
        ));
    }
    out
}

/// A Caddy snippet, imported with `import campus_headers`.
pub fn caddy_snippet() -> String {
    let mut out = String::from(
        "# Generated from campus_generator::headers (campus build writes the same as _headers).\n\
         (campus_headers) {\n\theader {\n",
    );
    for (name, value) in SECURITY_HEADERS {
        out.push_str(&format!("\t\t{} \"{value}\"\n", display_name(name)));
    }
    out.push_str("\t}\n}\n");
    out
}

/// `content-security-policy` → `Content-Security-Policy`.
fn display_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprinted_names_have_a_hex_hash_part() {
        assert!(is_fingerprinted("/assets/campus.3f9a1c2b.css"));
        assert!(is_fingerprinted("schrift.0123456789abcdef.woff2"));
        assert!(!is_fingerprinted("/assets/campus.css"));
        assert!(!is_fingerprinted("/assets/bild.gross.png"));
        assert!(!is_fingerprinted("/kalender/2026.ics"));
    }

    #[test]
    fn every_header_is_in_every_form() {
        for (name, value) in SECURITY_HEADERS {
            let shown = display_name(name);
            assert!(headers_file().contains(&format!("{shown}: {value}")));
            assert!(nginx_snippet().contains(&format!("add_header {shown} \"{value}\" always;")));
            assert!(caddy_snippet().contains(&format!("{shown} \"{value}\"")));
        }
        assert_eq!(
            display_name("x-content-type-options"),
            "X-Content-Type-Options"
        );
    }
}

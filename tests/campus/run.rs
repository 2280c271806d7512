//! `campus run` as an operator meets it: the built site and the form backend
//! on one address with none of the development machinery, static files with
//! validators, ranges, compression and the right types, security headers on
//! every answer, a backend-only mode, and a clear message when nothing was
//! built.

use crate::net::*;
use crate::support::*;
use std::time::Duration;

/// The sample site, built (as `campus build` would) into `public/`.
fn built_sample() -> tempfile::TempDir {
    let dir = sample();
    build(dir.path()).unwrap_or_else(|p| panic!("{p}"));
    dir
}

fn assert_security_headers(reply: &Reply, what: &str) {
    for (name, value) in campus_generator::headers::SECURITY_HEADERS {
        assert_eq!(
            reply.header(name),
            Some(*value),
            "{name} on {what}: {reply:?}"
        );
    }
}

#[test]
fn run_serves_the_built_site_and_the_backend_without_development_machinery() {
    let dir = built_sample();
    let site = dir.path();
    // Asset kinds the site may carry, with a fingerprinted name among them.
    let public = site.join("public");
    for (name, bytes) in [
        ("medien/schrift.woff2", b"wOF2".as_slice()),
        ("medien/film.mp4", b"\0\0\0\x18ftypmp42"),
        (
            "medien/film.de.vtt",
            b"WEBVTT\n\n00:00.000 --> 00:01.000\nHallo\n",
        ),
        ("medien/bild.webp", b"RIFF\0\0\0\0WEBP"),
        ("assets/campus.0123abcd.css", b"body{}"),
        (".geheim", b"nicht ausliefern"),
    ] {
        write(&public, name, std::str::from_utf8(bytes).unwrap());
    }
    let campus = Campus::start(site, &["run"], &[]);
    let a = campus.address.as_str();

    let home = get(a, "/").unwrap();
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(home.text().contains("<html"), "{}", home.text());
    assert!(
        !home.text().contains("live-reload"),
        "no live reload in production"
    );
    assert_security_headers(&home, "a page");
    assert_eq!(get(a, "/__campus/live-reload").unwrap().status, 404);
    assert_eq!(get(a, "/__campus/live-reload.js").unwrap().status, 404);

    let missing = get(a, "/gibt-es-nicht/").unwrap();
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("<html"), "the site's 404 page");
    assert_security_headers(&missing, "404");
    assert_eq!(get(a, "/.geheim").unwrap().status, 404);

    // Backend answers, an error among them, carry the same headers.
    let health = get(a, "/healthz").unwrap();
    assert_security_headers(&health, "/healthz");
    let gone = get(a, "/forms/bestaetigen/ungueltig").unwrap();
    assert!(gone.status >= 400, "{gone:?}");
    assert_security_headers(&gone, "a backend error page");
    let refused = post_form(
        a,
        "/forms/kontakt",
        "https://fremd.example",
        &[("name", "x")],
    )
    .unwrap();
    assert!(refused.status >= 400, "{refused:?}");
    assert_security_headers(&refused, "a refused post");

    // Types by file name.
    for (path, kind) in [
        ("/medien/schrift.woff2", "font/woff2"),
        ("/medien/film.mp4", "video/mp4"),
        ("/medien/film.de.vtt", "text/vtt; charset=utf-8"),
        ("/medien/bild.webp", "image/webp"),
        ("/assets/campus.css", "text/css; charset=utf-8"),
    ] {
        assert_eq!(
            get(a, path).unwrap().header("content-type"),
            Some(kind),
            "{path}"
        );
    }

    // Validators: the ETag and Last-Modified each give a 304.
    let css = get(a, "/assets/campus.css").unwrap();
    assert_eq!(css.header("cache-control"), Some("no-cache"));
    let etag = css.header("etag").expect("an ETag").to_string();
    let modified = css
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();
    let again = get_with(
        a,
        "/assets/campus.css",
        &[&format!("If-None-Match: {etag}")],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let since = get_with(
        a,
        "/assets/campus.css",
        &[&format!("If-Modified-Since: {modified}")],
    );
    assert_eq!(since.status, 304);
    let other = get_with(a, "/assets/campus.css", &["If-None-Match: W/\"anders\""]);
    assert_eq!(other.status, 200);
    assert_eq!(other.body, css.body);

    // A range of bytes.
    let part = get_with(a, "/assets/campus.css", &["Range: bytes=0-9"]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, css.body[..10]);

    // Compressed on the fly, as the client accepts it.
    for encoding in ["gzip", "br"] {
        let packed = get_with(
            a,
            "/assets/campus.css",
            &[&format!("Accept-Encoding: {encoding}")],
        );
        assert_eq!(packed.header("content-encoding"), Some(encoding));
        assert!(
            packed.body.len() < css.body.len() / 2,
            "{encoding}: {}",
            packed.body.len()
        );
    }

    // Fingerprinted names are cached for a year.
    let hashed = get(a, "/assets/campus.0123abcd.css").unwrap();
    assert_eq!(
        hashed.header("cache-control"),
        Some(campus_generator::headers::IMMUTABLE)
    );
}

#[test]
fn backend_only_leaves_the_pages_to_the_web_server_in_front() {
    let dir = sample(); // nothing built: not needed
    let mut campus = Campus::start(dir.path(), &["run", "--backend-only"], &[]);
    let a = campus.address.as_str();
    let page = get(a, "/").unwrap();
    assert_eq!(page.status, 404);
    assert_security_headers(&page, "backend-only 404");
    assert_eq!(get(a, "/healthz").unwrap().status, 200);
    let token = get(a, "/forms/token").unwrap();
    assert_eq!(token.status, 200);
    assert!(token.text().contains("\"ts\""), "{}", token.text());

    // What systemd sends: a clean exit, soon.
    campus.signal(libc::SIGTERM);
    let status = campus.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "{status:?}: {}", campus.stderr());
}

#[test]
fn run_without_a_built_site_says_what_to_do() {
    let dir = sample();
    let address = format!("127.0.0.1:{}", free_port());
    let mut campus = Campus::spawn(dir.path(), &["run"], &address, &[]);
    let status = campus.wait_exit(Duration::from_secs(30));
    assert!(!status.success());
    let message = campus.stderr();
    assert!(
        message.contains("campus build") && message.contains("--backend-only"),
        "{message}"
    );
}

/// The header snippets in `deploy/` are what the code sends; regenerate with
/// `CAMPUS_WRITE_DEPLOY=1 cargo test --test campus deploy_header_snippets`.
#[test]
fn deploy_header_snippets_match_the_headers_campus_sends() {
    use campus_generator::headers::{caddy_snippet, nginx_snippet};
    for (path, text) in [
        ("deploy/nginx/security-headers.conf", nginx_snippet()),
        ("deploy/caddy/security-headers.caddy", caddy_snippet()),
    ] {
        let file = repo_root().join(path);
        if std::env::var_os("CAMPUS_WRITE_DEPLOY").is_some() {
            std::fs::write(&file, &text).unwrap();
        }
        assert_eq!(read(&repo_root(), path), text, "{path} is stale");
    }
}

#[test]
fn campus_build_writes_the_headers_for_static_hosts() {
    let dir = sample();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_campus"))
        .arg("--site")
        .arg(dir.path())
        .args(["build", "--today", "2026-12-01"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The security headers for every path, then a year's lifetime for the
    // fingerprinted style sheet and scripts the pages name.
    let headers = read(dir.path(), "public/_headers");
    assert!(headers.starts_with(&campus_generator::headers::headers_file()));
    let page = read(dir.path(), "public/index.html");
    let css = page
        .split("href=\"/assets/campus.")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the start page names a fingerprinted style sheet");
    assert!(
        headers.contains(&format!(
            "/assets/campus.{css}\n  Cache-Control: {}\n",
            campus_generator::headers::IMMUTABLE
        )),
        "{headers}"
    );
    assert!(read(dir.path(), "public/_headers").contains("frame-ancestors 'none'"));
}

/// The systemd units in `deploy/` pass `systemd-analyze verify` (with the
/// binary path pointed at the one under test, which must exist).
#[test]
fn deploy_systemd_units_verify() {
    let dir = tempfile::tempdir().unwrap();
    let units = [
        "kommunalcampus.service",
        "kommunalcampus-backup.service",
        "kommunalcampus-backup.timer",
    ];
    for unit in units {
        let text = read(&repo_root(), &format!("deploy/systemd/{unit}"))
            .replace("/usr/local/bin/campus", env!("CARGO_BIN_EXE_campus"));
        write(dir.path(), unit, &text);
    }
    let out = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .args(units.iter().map(|u| dir.path().join(u)))
        .output()
        .expect("systemd-analyze (Debian package systemd; .ci/run installs it)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Debian's nginx on loopback in front of `campus run`, as in
/// `deploy/nginx/kommunalcampus.conf` without TLS: pages and form posts go
/// through it, the answers keep campus's security headers, and with
/// `vertraue_x_forwarded_for` the backend takes the client address nginx
/// sets: with one post allowed per address, clients 127.0.0.2 and 127.0.0.3
/// each get theirs through the proxy (whose own address is 127.0.0.1 for
/// both), and the second post of 127.0.0.2 is refused, also when it forges
/// an X-Forwarded-For header of its own.
#[test]
fn a_form_post_through_nginx_reaches_the_backend() {
    let dir = built_sample();
    let site = dir.path();
    crate::shutdown::load_config(site);
    let mut config = read(site, "campus.toml");
    config = config.replace(
        "[backend]\n",
        "[backend]\nvertraue_x_forwarded_for = true\n",
    );
    // One post per client address, so the test sees which address counted.
    config = config.replace(
        "anfragen_pro_ip_je_10_minuten = 100000",
        "anfragen_pro_ip_je_10_minuten = 1",
    );
    write(site, "campus.toml", &config);
    let campus = Campus::start(site, &["run"], &[]);

    let proxy = tempfile::tempdir().unwrap();
    let p = proxy.path();
    let port = free_port();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {p}/nginx.pid;\nerror_log {p}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n access_log off;\n client_body_temp_path {p}/body;\n proxy_temp_path {p}/proxy;\n\
         fastcgi_temp_path {p}/fastcgi;\n uwsgi_temp_path {p}/uwsgi;\n scgi_temp_path {p}/scgi;\n\
         server {{\n  listen 127.0.0.1:{port};\n  location = /metrics {{ deny all; }}\n\
         location / {{\n   proxy_pass http://{backend};\n   proxy_http_version 1.1;\n\
         proxy_set_header Host $host;\n   proxy_set_header X-Forwarded-For $remote_addr;\n  }}\n }}\n}}\n",
        p = p.display(),
        backend = campus.address
    );
    std::fs::write(p.join("nginx.conf"), conf).unwrap();
    let nginx = std::process::Command::new("/usr/sbin/nginx")
        .arg("-p")
        .arg(p)
        .arg("-c")
        .arg(p.join("nginx.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nginx (Debian package nginx-light; .ci/run installs it)");
    // One process (master_process off), so killing it leaves no worker behind.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _nginx = Kill(nginx);
    let front = format!("127.0.0.1:{port}");
    wait_until("nginx answers", || {
        get(&front, "/healthz").is_some_and(|r| r.status == 200)
    });

    let page = get(&front, "/").unwrap();
    assert_eq!(page.status, 200);
    assert_security_headers(&page, "a page through nginx");
    assert_eq!(get(&front, "/metrics").unwrap().status, 403);

    let ts = crate::shutdown::form_stamp(&front);
    std::thread::sleep(Duration::from_millis(1100));
    let post_from = |client: &str, forged: Option<&str>| {
        let pairs = crate::shutdown::contact_form("Durch Nginx", &ts);
        let body = urlencoded(
            &pairs
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        );
        let forged = forged.map_or(String::new(), |a| format!("\r\nX-Forwarded-For: {a}"));
        let head = format!(
            "POST /forms/kontakt HTTP/1.1\r\nOrigin: http://127.0.0.1:8080\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}{forged}",
            body.len()
        );
        request_from(client, &front, &head, body.as_bytes()).unwrap()
    };
    let first = post_from("127.0.0.2", None);
    assert_eq!(first.status, 303, "{first:?}");
    assert_security_headers(&first, "a form answer through nginx");
    let other_client = post_from("127.0.0.3", None);
    assert_eq!(
        other_client.status, 303,
        "another client behind the same proxy"
    );
    let again = post_from("127.0.0.2", Some("192.0.2.77"));
    assert_eq!(
        again.status, 429,
        "the limited client, forged header or not"
    );
    let figures = get(&campus.address, "/metrics").unwrap().text();
    assert!(
        figures.contains("campus_submissions{form=\"kontakt\"} 2"),
        "{figures}"
    );
}

//! `campus serve` as an editor meets it: a saved file reaches the browser as a
//! reload event and new bytes, a broken file is reported while the last good
//! page stays online, the next good save recovers, a taken port gets a clear
//! message and Ctrl-C ends the process cleanly; a process killed right after
//! answering a form loses no mail.

use crate::support::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: a debug build of the sample site on a busy CI machine.
const PATIENCE: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Ends the server when the test ends, also when it fails.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(site: &Path, address: &str) -> Child {
    start_env(site, address, &[], &[])
}

fn start_env(site: &Path, address: &str, flags: &[&str], env: &[(&str, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_campus"))
        .arg("--site")
        .arg(site)
        .args(["serve", "--address", address])
        .args(flags)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `campus serve` on a free port with `flags` and `env`, once it answers
/// `ready` with 200; returns its address.
fn serving(site: &Path, flags: &[&str], env: &[(&str, String)], ready: &str) -> (String, Server) {
    let address = format!("127.0.0.1:{}", free_port());
    let server = Server(start_env(site, &address, flags, env));
    wait_until(&format!("campus serve answers {ready}"), || {
        get(&address, ready).is_some_and(|(status, _)| status == 200)
    });
    (address, server)
}

/// Status and body of a GET, or `None` while nothing listens.
fn get(address: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The live-reload event stream, read as it arrives.
struct Events {
    stream: TcpStream,
    seen: String,
}

impl Events {
    fn open(address: &str) -> Events {
        let mut stream = TcpStream::connect(address).unwrap();
        write!(
            stream,
            "GET /__campus/live-reload HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Events {
            stream,
            seen: String::new(),
        }
    }

    /// Waits for an event of `kind` whose data contains `needle`; returns
    /// its data. Events before it are consumed.
    fn expect(&mut self, kind: &str, needle: &str) -> String {
        let start = Instant::now();
        loop {
            // Events are separated by a blank line.
            while let Some(end) = self.seen.find("\n\n") {
                let event: String = self.seen[..end].to_string();
                self.seen.drain(..end + 2);
                let name = event
                    .lines()
                    .find_map(|l| l.strip_prefix("event: "))
                    .unwrap_or("");
                let data: Vec<&str> = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: ").or(l.strip_prefix("data:")))
                    .collect();
                let data = data.join("\n");
                if name == kind && data.contains(needle) {
                    return data;
                }
            }
            assert!(
                start.elapsed() < PATIENCE,
                "no `{kind}` event with {needle:?}; left: {}",
                self.seen
            );
            let mut buf = [0u8; 16384];
            match self.stream.read(&mut buf) {
                Ok(0) => panic!("event stream closed"),
                Ok(n) => {
                    // Chunk sizes of the chunked encoding are lines of hex
                    // digits; they never look like an event field.
                    let text = String::from_utf8_lossy(&buf[..n]).replace("\r\n", "\n");
                    self.seen.push_str(&text);
                }
                Err(_) => {} // read timeout: look again
            }
        }
    }
}

#[test]
fn serve_reloads_on_save_reports_broken_files_and_recovers() {
    let dir = sample();
    let site = dir.path();
    let (address, _server) = serving(site, &[], &[], "/");
    let mut events = Events::open(&address);
    events.expect("bereit", "");

    // A saved title reaches the unit page and every page showing the unit.
    let unit = "content/einheiten/ozg-grundlagen.md";
    edit(
        site,
        unit,
        "titel: \"OZG kompakt:",
        "titel: \"OZG gespeichert:",
    );
    let reload = events.expect("reload", "/lerneinheiten/ozg-grundlagen/");
    assert!(reload.contains("/lerneinheiten/"), "{reload}");
    assert!(
        !reload.contains("/kommunen/quellental/"),
        "a page without the unit reloads: {reload}"
    );
    for page in [
        "/lerneinheiten/ozg-grundlagen/",
        "/lerneinheiten/",
        "/kommunen/ahornfeld/",
    ] {
        let (status, body) = get(&address, page).unwrap();
        assert_eq!(status, 200, "{page}");
        assert!(body.contains("OZG gespeichert:"), "{page} is stale");
    }

    // A broken file: the browser is told file and line, the last good page
    // stays online.
    edit(site, unit, "themen: [ozg,", "themen: [ozgg,");
    let report = events.expect("fehler", "ozg-grundlagen.md");
    assert!(
        report.contains("einheiten/ozg-grundlagen.md:6"),
        "the report names file and line: {report}"
    );
    let (status, body) = get(&address, "/lerneinheiten/ozg-grundlagen/").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("OZG gespeichert:"));

    // The next good save recovers; this editor saves through a temporary
    // file renamed over the original.
    let text = read(site, unit)
        .replace("themen: [ozgg,", "themen: [ozg,")
        .replace("OZG gespeichert:", "OZG wieder da:");
    let temporary = site.join("content/einheiten/.ozg-grundlagen.md.swp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, site.join(unit)).unwrap();
    events.expect("reload", "/lerneinheiten/ozg-grundlagen/");
    let (_, body) = get(&address, "/lerneinheiten/ozg-grundlagen/").unwrap();
    assert!(body.contains("OZG wieder da:"));

    // A new unit gets its page; once its file is deleted, the page is gone.
    let copy = read(site, unit).replace("OZG wieder da:", "OZG als Kopie:");
    write(site, "content/einheiten/ozg-kopie.md", &copy);
    events.expect("reload", "/lerneinheiten/ozg-kopie/");
    let (status, body) = get(&address, "/lerneinheiten/ozg-kopie/").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("OZG als Kopie:"));
    std::fs::remove_file(site.join("content/einheiten/ozg-kopie.md")).unwrap();
    events.expect("reload", "/lerneinheiten/");
    let (status, _) = get(&address, "/lerneinheiten/ozg-kopie/").unwrap();
    assert_eq!(status, 404, "the deleted unit's page is still served");
}

/// Status, header lines and body bytes of a GET with `headers`.
fn get_bytes(address: &str, path: &str, headers: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..end]).to_lowercase();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head, raw[end + 4..].to_vec())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut raw)
        .expect("a gzip stream");
    raw
}

/// `campus serve` keeps its pages compressed: a browser gets the gzip
/// stream, a client without gzip the plain bytes, and after an edit both
/// carry exactly what a full build of the edited site makes.
#[test]
fn serve_answers_gzip_and_plain_with_the_bytes_of_a_full_build() {
    let dir = sample();
    let site = dir.path();
    let (address, _server) = serving(site, &[], &[], "/");
    let mut events = Events::open(&address);
    events.expect("bereit", "");
    let unit = "content/einheiten/ozg-grundlagen.md";
    edit(site, unit, "titel: \"OZG kompakt:", "titel: \"OZG gepackt:");
    events.expect("reload", "/lerneinheiten/ozg-grundlagen/");
    // The edited pages are served raw first, compressed once the
    // background worker got to them.
    let gzip = "Accept-Encoding: gzip, deflate, br\r\n";
    wait_until("the edited page served compressed", || {
        let (_, head, _) = get_bytes(&address, "/lerneinheiten/ozg-grundlagen/", gzip);
        head.contains("content-encoding: gzip")
    });

    let mut options = campus_generator::BuildOptions::new(site, site.join("public"));
    options.live_reload = true;
    let (_, outputs) = campus_generator::check_site(&options).unwrap_or_else(|p| panic!("{p}"));
    let mut compressed = 0;
    for o in &outputs {
        let path = format!("/{}", o.path);
        let (status, head, body) = get_bytes(&address, &path, gzip);
        assert_eq!(status, 200, "{path}");
        assert!(head.contains("vary: accept-encoding"), "{path}: {head}");
        let unpacked = if head.contains("content-encoding: gzip") {
            compressed += 1;
            gunzip(&body)
        } else {
            body
        };
        assert!(
            unpacked == o.bytes,
            "{path}: gzip answer differs from a full build"
        );
        for refusing in [
            "",
            "Accept-Encoding: identity\r\n",
            "Accept-Encoding: gzip;q=0\r\n",
        ] {
            let (status, head, body) = get_bytes(&address, &path, refusing);
            assert_eq!(status, 200, "{path}");
            assert!(
                !head.contains("content-encoding"),
                "{path} {refusing}: {head}"
            );
            assert!(
                body == o.bytes,
                "{path} {refusing}: plain answer differs from a full build"
            );
        }
    }
    let pages = outputs.iter().filter(|o| o.path.ends_with(".html")).count();
    assert!(
        compressed >= pages,
        "only {compressed} of {} outputs ({pages} pages) compressed",
        outputs.len()
    );
    // The 404 page too.
    let (status, head, body) = get_bytes(&address, "/gibt-es-nicht/", gzip);
    assert_eq!(status, 404);
    assert!(head.contains("content-encoding: gzip"), "{head}");
    assert!(String::from_utf8(gunzip(&body)).unwrap().contains("<html"));
}

/// Where the file system reports no changes (network drives, some
/// containers), `--poll` looks for them.
/// Polling (for drives without change events) sees every save, also a
/// second one within the same second as the first (modification times are
/// compared to the nanosecond), and new and deleted files.
#[test]
fn serve_with_polling_sees_saves_within_one_second() {
    let dir = sample();
    let site = dir.path();
    let (address, _server) = serving(site, &["--poll"], &[], "/");
    let mut events = Events::open(&address);
    events.expect("bereit", "");
    let file = site.join("content/faq/warteliste.md");
    edit(
        site,
        "content/faq/warteliste.md",
        "frage: Was bedeutet es, wenn ich auf der Warteliste stehe?",
        "frage: Was heißt Warteliste?",
    );
    events.expect("reload", "/faq/");
    let (_, body) = get(&address, "/faq/").unwrap();
    assert!(body.contains("Was heißt Warteliste?"));

    // The next save, stamped later than the first but within its second
    // (as when an editor saves twice quickly).
    let first = std::fs::metadata(&file).unwrap().modified().unwrap();
    let since_epoch = first.duration_since(std::time::UNIX_EPOCH).unwrap();
    let rest_of_second = Duration::from_nanos(u64::from(999_999_999 - since_epoch.subsec_nanos()));
    edit(
        site,
        "content/faq/warteliste.md",
        "frage: Was heißt Warteliste?",
        "frage: Was heißt Warteliste genau?",
    );
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(first + rest_of_second / 2)
        .unwrap();
    events.expect("reload", "/faq/");
    let (_, body) = get(&address, "/faq/").unwrap();
    assert!(body.contains("Was heißt Warteliste genau?"));

    // New and deleted files are seen too.
    write(
        site,
        "content/faq/neue-frage.md",
        "---\nfrage: Gibt es eine neue Frage?\nkategorie: buchung\nreihenfolge: 9\n---\nJa.\n",
    );
    events.expect("reload", "/faq/");
    let (_, body) = get(&address, "/faq/").unwrap();
    assert!(body.contains("Gibt es eine neue Frage?"));
    std::fs::remove_file(site.join("content/faq/neue-frage.md")).unwrap();
    events.expect("reload", "/faq/");
    let (_, body) = get(&address, "/faq/").unwrap();
    assert!(!body.contains("Gibt es eine neue Frage?"));
}

#[test]
fn a_taken_port_is_named_and_ctrl_c_ends_cleanly() {
    let dir = sample();
    let site = dir.path();
    let (address, mut first) = serving(site, &[], &[], "/healthz");

    let second = start(site, &address).wait_with_output().unwrap();
    assert!(!second.status.success());
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains(&address) && message.contains("belegt"),
        "{message}"
    );

    // Ctrl-C: in-flight work finishes, the process exits with success.
    let pid = first.0.id() as libc::pid_t;
    // SAFETY: sends a signal to the child process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = first.0.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < PATIENCE, "still running after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

/// POSTs an urlencoded form from the site's own origin; returns the raw
/// response head and body.
fn post_form(address: &str, path: &str, pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let body: String = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nOrigin: http://127.0.0.1:8080\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    raw
}

/// A signed fill-time stamp from the backend, once it is old enough:
/// people take a moment to fill in a form; bots do not.
fn fill_time_stamp(address: &str) -> String {
    let (_, token) = get(address, "/forms/token").unwrap();
    let ts = token
        .split("\"ts\":\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap_or_else(|| panic!("no token in {token}"))
        .to_string();
    std::thread::sleep(Duration::from_millis(2200));
    ts
}

/// The next connection to `listener`, waiting at most `limit`.
fn accept_within(listener: &TcpListener, limit: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let start = Instant::now();
    loop {
        match listener.accept() {
            Ok((stream, _)) => return stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(start.elapsed() < limit, "nobody connected");
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn mail_files(site: &Path) -> Vec<String> {
    std::fs::read_dir(site.join("var/mail"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// The process is killed (SIGKILL, no shutdown) after it answered a contact
/// form, in the middle of delivering that mail to a server that does not
/// answer: the submission and its mail were committed before the answer, so
/// the next start sends it once the dead worker's lease has run out. A
/// short SMTP timeout (lease 10 s) keeps that within the test's patience.
#[test]
fn a_hard_kill_after_the_answer_loses_no_mail() {
    let dir = sample();
    let site = dir.path();
    let mut config = std::fs::read_to_string(site.join("campus.toml")).unwrap();
    config.push_str("\n[mail]\nsmtp_zeitlimit_sekunden = 1\nwiederholung_basis_sekunden = 1\n");
    std::fs::write(site.join("campus.toml"), config).unwrap();
    // A mail server that accepts connections and never answers.
    let silent_smtp = TcpListener::bind("127.0.0.1:0").unwrap();
    let no_smtp = [
        ("CAMPUS_MAIL_TRANSPORT", "smtp".to_string()),
        ("CAMPUS_SMTP_HOST", "127.0.0.1".to_string()),
        (
            "CAMPUS_SMTP_PORT",
            silent_smtp.local_addr().unwrap().port().to_string(),
        ),
        ("CAMPUS_SMTP_TLS", "keine".to_string()),
    ];
    let (address, mut first) = serving(site, &[], &no_smtp, "/healthz");
    let ts = fill_time_stamp(&address);
    let answer = post_form(
        &address,
        "/forms/kontakt",
        &[
            ("name", "Hart Abgebrochen"),
            ("organisation", "Stadt Beispiel"),
            ("email", "hart@beispiel.example"),
            ("telefon", "0621 000000"),
            ("termin1", "2099-02-10T10:00"),
            ("termin2", "2099-02-11T10:00"),
            ("termin3", "2099-02-12T14:30"),
            ("nachricht", "Bitte rufen Sie an."),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    );
    // The worker connects only after it claimed the mail: kill it mid-delivery.
    let _conversation = accept_within(&silent_smtp, PATIENCE);
    first.0.kill().unwrap(); // SIGKILL
    first.0.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert!(answer.contains("/formular/danke-kontakt/"), "{answer}");
    assert!(
        mail_files(site).is_empty(),
        "no mail could have gone out yet"
    );

    // Next start, with the default transport (files): the mail is sent once.
    let _second = Server(start(site, &address));
    wait_until("the mail of the killed process is sent", || {
        mail_files(site)
            .iter()
            .any(|m| m.contains("Hart Abgebrochen"))
    });
    std::thread::sleep(Duration::from_millis(500));
    let sent: Vec<String> = mail_files(site)
        .into_iter()
        .filter(|m| m.contains("Hart Abgebrochen"))
        .collect();
    assert_eq!(sent.len(), 1, "sent more than once");
}

/// The confirmation link of the newest mail to `to`, as the site's path.
fn confirm_path(site: &Path, to: &str) -> Option<String> {
    let mail = mail_files(site)
        .into_iter()
        .find(|m| m.contains(to) && m.contains("buchung/bestaetigen"))?;
    // Quoted-printable soft line breaks would cut the link.
    let joined = mail.replace("=\r\n", "").replace("=\n", "");
    let start = joined.find("/forms/buchung/bestaetigen/")?;
    let path: String = joined[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(*c))
        .collect();
    Some(path)
}

/// A confirmed registration changes the free places on the served event
/// page, yet no browser is told to reload: the editor's live reload must not
/// reload a page that a visitor is reading or filling in (the quality gate
/// lost a form that way).
#[test]
fn a_booking_updates_the_served_page_without_reloading_browsers() {
    let dir = sample();
    let site = dir.path();
    let (address, _server) = serving(site, &[], &[], "/healthz");
    let page = "/veranstaltungen/rathausdialog-fruehjahr-2027/";
    let places = |address: &str| {
        let (_, body) = get(address, page).unwrap();
        body.contains("40, noch 40 frei")
    };
    assert!(places(&address), "40 places before any booking");
    let mut events = Events::open(&address);
    events.expect("bereit", "");

    let ts = fill_time_stamp(&address);
    let email = "ruth.reload@ahornfeld.example";
    let answer = post_form(
        &address,
        "/forms/veranstaltung",
        &[
            ("veranstaltung", "rathausdialog-fruehjahr-2027"),
            ("name", "Ruth Reload"),
            ("email", email),
            ("kommune", "ahornfeld"),
            ("einwilligung", "ja"),
            ("website", ""),
            ("ts", &ts),
        ],
    );
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    let mut link = None;
    wait_until("the confirmation request is written", || {
        link = confirm_path(site, email);
        link.is_some()
    });
    let confirmed = post_form(&address, &link.unwrap(), &[]);
    assert!(confirmed.starts_with("HTTP/1.1 303"), "{confirmed}");
    wait_until("the event page counts the place", || {
        get(&address, page).is_some_and(|(_, body)| body.contains("40, noch 39 frei"))
    });
    // The page is new; a reload event would have gone out with it.
    std::thread::sleep(Duration::from_millis(500));
    let mut buf = [0u8; 16384];
    while let Ok(n) = events.stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        events.seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(
        !events.seen.contains("event: reload"),
        "a booking reloaded browsers: {}",
        events.seen
    );
}

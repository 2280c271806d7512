//! Mail delivery against a real SMTP server on loopback (mailin-embedded),
//! and the default file transport.

use crate::common::*;
use campus_forms::config::{MailTransport, SmtpSettings, SmtpTls};
use campus_forms::outbox::{Transport, Worker};
use campus_forms::{spawn_worker, AppState, Settings};
use mailin_embedded::{response, Handler, Response, Server};
use serde_json::json;
use std::collections::HashSet;
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug, Default)]
struct Received {
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

#[derive(Clone, Default)]
struct Sink {
    got: Arc<Mutex<Vec<Received>>>,
    current: Received,
    /// Time the server takes to accept a message.
    delay: Duration,
}

impl Handler for Sink {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Received {
            from: from.to_string(),
            to: to.to_vec(),
            data: Vec::new(),
        };
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        std::thread::sleep(self.delay);
        self.got
            .lock()
            .unwrap()
            .push(std::mem::take(&mut self.current));
        response::OK
    }
}

type Inbox = Arc<Mutex<Vec<Received>>>;

/// Starts an SMTP server on `listener` in a background thread.
fn smtp_server(listener: TcpListener) -> Inbox {
    slow_smtp_server(listener, Duration::ZERO)
}

fn slow_smtp_server(listener: TcpListener, delay: Duration) -> Inbox {
    let sink = Sink {
        delay,
        ..Sink::default()
    };
    let inbox = sink.got.clone();
    let mut server = Server::new(sink);
    server.with_name("test.example").with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    inbox
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn smtp_settings(site: &Path, port: u16) -> Settings {
    let mut s = settings(site);
    s.transport = MailTransport::Smtp(SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        user: None,
        password: Default::default(),
        tls: SmtpTls::None,
        timeout: Duration::from_secs(5),
        certificates: Default::default(),
    });
    s.per_ip_per_10_min = 1000;
    s
}

async fn register(state: &AppState, email: &str) {
    let r = post_json(
        state,
        "/forms/registrierung",
        json!({ "name": "Erika Beispiel", "email": email, "kommune": "andere", "organisation": "Zweckverband Test", "einwilligung": "ja", "ts": ts(state, 5) }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

fn states(state: &AppState) -> Vec<String> {
    state
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .map(|m| m.state)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_while_smtp_is_down_is_delivered_once_it_is_up() {
    let site = site_dir();
    let port = free_port();
    let state = state_with(site.path(), smtp_settings(site.path(), port));
    let worker = spawn_worker(&state).unwrap();
    register(&state, "wartet@beispiel.example").await;
    // The first attempt fails (nobody listens) and is scheduled again.
    eventually("a failed attempt", Duration::from_secs(10), || {
        (states(&state) == ["retry"]).then_some(())
    })
    .await;
    let inbox = smtp_server(TcpListener::bind(("127.0.0.1", port)).unwrap());
    eventually(
        "delivery after the server came up",
        Duration::from_secs(15),
        || (states(&state) == ["sent"]).then_some(()),
    )
    .await;
    worker.shutdown().await;
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "delivered exactly once");
    assert_eq!(got[0].to, ["wartet@beispiel.example"]);
    let row = &state.store.outbox().unwrap()[0];
    assert!(row.attempts >= 2);
    let msg = mail_parser::MessageParser::default()
        .parse(&got[0].data)
        .unwrap();
    assert_eq!(
        format!("<{}>", msg.message_id().unwrap()),
        row.message_id,
        "the stored Message-ID is the one sent"
    );
    assert!(msg.subject().unwrap().contains("bestätigen"));
    assert!(msg.body_html(0).is_some() && msg.body_text(0).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_send_one_message_twice() {
    let site = site_dir();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_server(listener);
    let settings = smtp_settings(site.path(), port);
    let state = state_with(site.path(), settings.clone());
    const N: usize = 24;
    for i in 0..N {
        register(&state, &format!("person{i}@beispiel.example")).await;
    }
    // Two workers, each with its own database connection, like two processes.
    let workers: Vec<_> = (0..2)
        .map(|_| {
            Worker {
                store: Arc::new(campus_forms::store::Store::open(&settings.database).unwrap()),
                transport: Arc::new(Transport::new(&settings.transport).unwrap()),
                wake: Arc::new(tokio::sync::Notify::new()),
                max_attempts: 5,
                retry_base: Duration::from_secs(1),
                lease: campus_forms::outbox::lease_for(&settings.transport),
                settings_for_purge: None,
                clock: campus_forms::clock::Clock::system(),
                heartbeat: Default::default(),
            }
            .spawn()
        })
        .collect();
    eventually("all mails sent", Duration::from_secs(30), || {
        states(&state).iter().all(|s| s == "sent").then_some(())
    })
    .await;
    for w in workers {
        w.shutdown().await;
    }
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), N, "each message exactly once");
    let ids: HashSet<String> = got
        .iter()
        .map(|r| {
            let m = mail_parser::MessageParser::default()
                .parse(&r.data)
                .unwrap();
            m.message_id().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), N);
    assert!(state
        .store
        .outbox()
        .unwrap()
        .iter()
        .all(|m| m.attempts == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cr_lf_injection_adds_no_recipient_or_header() {
    let site = site_dir();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_server(listener);
    let state = state_with(site.path(), smtp_settings(site.path(), port));
    let worker = spawn_worker(&state).unwrap();
    let stamp = ts(&state, 5);
    // Line breaks are refused outright, in every encoding the forms accept.
    for name in [
        "Eve\r\nBcc: opfer@example.org",
        "Eve\nBcc: opfer@example.org",
        "Eve\rBcc: opfer@example.org",
    ] {
        let r = post_form(
            &state,
            "/forms/newsletter",
            &[
                ("email", "eve@beispiel.example"),
                ("name", name),
                ("einwilligung", "ja"),
                ("ts", &stamp),
            ],
        )
        .await;
        assert_eq!(r.status, 422);
    }
    let r = post_json(&state, "/forms/newsletter", json!({ "email": "eve@beispiel.example\r\nBcc: opfer@example.org", "einwilligung": "ja", "ts": stamp })).await;
    assert_eq!(r.status, 422);
    // Without line breaks, address-like text stays inside the display name.
    let r = post_json(
        &state,
        "/forms/newsletter",
        json!({ "email": "eve@beispiel.example", "name": "Eve, opfer@example.org <opfer@example.org>; Bcc: opfer@example.org", "einwilligung": "ja", "ts": stamp }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    eventually("delivery", Duration::from_secs(10), || {
        (inbox.lock().unwrap().len() == 1).then_some(())
    })
    .await;
    worker.shutdown().await;
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].to,
        ["eve@beispiel.example"],
        "envelope has one recipient"
    );
    let msg = mail_parser::MessageParser::default()
        .parse(&got[0].data)
        .unwrap();
    let to: Vec<&str> = msg
        .to()
        .unwrap()
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(to, ["eve@beispiel.example"]);
    assert!(msg.bcc().is_none() && msg.cc().is_none());
    assert!(msg.header_raw("X-Evil").is_none());
    let raw = String::from_utf8_lossy(&got[0].data);
    assert!(
        !raw.lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
        "{raw}"
    );
    assert_eq!(got[0].from, "info@campus.example");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_delivers_what_was_committed_before() {
    let site = site_dir();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_server(listener);
    let settings = smtp_settings(site.path(), port);
    {
        // "Killed right after the commit": the answer came, no worker ran.
        let first = state_with(site.path(), settings.clone());
        register(&first, "neustart@beispiel.example").await;
        assert_eq!(states(&first), ["queued"]);
    }
    let second = state_with(site.path(), settings);
    let worker = spawn_worker(&second).unwrap();
    eventually("delivery after restart", Duration::from_secs(10), || {
        (states(&second) == ["sent"]).then_some(())
    })
    .await;
    worker.shutdown().await;
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["neustart@beispiel.example"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_transport_writes_eml_files_named_by_message_id() {
    let site = site_dir();
    let state = state(site.path());
    let worker = spawn_worker(&state).unwrap();
    register(&state, "datei@beispiel.example").await;
    let mail_dir = site.path().join("var/mail");
    let file = eventually("an .eml file", Duration::from_secs(10), || {
        std::fs::read_dir(&mail_dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "eml"))
    })
    .await;
    eventually("sent state", Duration::from_secs(5), || {
        (states(&state) == ["sent"]).then_some(())
    })
    .await;
    worker.shutdown().await;
    let raw = std::fs::read(&file).unwrap();
    let msg = mail_parser::MessageParser::default().parse(&raw).unwrap();
    let id = msg.message_id().unwrap();
    assert!(file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(&id[..32]));
    if state.settings.database.file().is_some() {
        // (On PostgreSQL the data is on the server.)
        assert!(site.path().join("var/campus.db").exists());
    }
    // The signing key was generated on first start.
    assert!(site.path().join("var/signing.key").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_the_current_mail_finish() {
    let site = site_dir();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = slow_smtp_server(listener, Duration::from_millis(800));
    let state = state_with(site.path(), smtp_settings(site.path(), port));
    let worker = spawn_worker(&state).unwrap();
    register(&state, "langsam@beispiel.example").await;
    eventually("the mail being sent", Duration::from_secs(10), || {
        (states(&state) == ["sending"]).then_some(())
    })
    .await;
    worker.shutdown().await;
    assert_eq!(
        states(&state),
        ["sent"],
        "finished and recorded before stopping"
    );
    assert_eq!(inbox.lock().unwrap().len(), 1);
}

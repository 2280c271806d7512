//! Clients that cost the server without finishing their request are cut
//! off within seconds, over real sockets: one trickling its headers, one
//! announcing a body it never sends; the connection cap holds; a normal
//! request still gets through meanwhile.

use crate::net::*;
use crate::support::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Reads until the server closes; returns what it sent and when it closed.
fn until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let start = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    (String::from_utf8_lossy(&raw).into_owned(), start.elapsed())
}

#[test]
fn slow_and_silent_clients_are_cut_off_within_seconds() {
    let dir = sample();
    let site = dir.path();
    build(site).unwrap();
    let mut config = read(site, "campus.toml");
    config.push_str(
        "\n[betrieb]\nkopf_zeitlimit_sekunden = 2\nkoerper_zeitlimit_sekunden = 2\nanfrage_zeitlimit_sekunden = 4\nmax_verbindungen = 8\n",
    );
    write(site, "campus.toml", &config);
    let campus = Campus::start(site, &["run"], &[]);
    let a = campus.address.as_str();

    // Headers one byte at a time, never finished.
    let mut trickler = TcpStream::connect(a).unwrap();
    let started = Instant::now();
    let head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Langsam: ";
    let mut cut = false;
    for byte in head.iter().chain(std::iter::repeat(&b'a')) {
        if trickler.write_all(&[*byte]).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        if started.elapsed() > Duration::from_secs(10) {
            break;
        }
        let mut probe = [0u8; 1];
        trickler.set_nonblocking(true).unwrap();
        let closed = matches!(trickler.read(&mut probe), Ok(0) | Ok(_));
        trickler.set_nonblocking(false).unwrap();
        if closed {
            cut = true;
            break;
        }
    }
    assert!(
        cut,
        "a trickling client was still served after {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );

    // A post that announces 1000 bytes and sends 10.
    let mut silent = TcpStream::connect(a).unwrap();
    write!(
        silent,
        "POST /forms/kontakt HTTP/1.1\r\nHost: {a}\r\nOrigin: http://127.0.0.1:8080\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nname=Halbe"
    )
    .unwrap();
    let (answer, took) = until_closed(&mut silent, Duration::from_secs(20));
    assert!(took < Duration::from_secs(8), "held for {took:?}");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "answered {answer}"
    );

    // More idle connections than the cap: a normal request still succeeds
    // once the idle ones are cut off by the header limit.
    let idle: Vec<TcpStream> = (0..12).map(|_| TcpStream::connect(a).unwrap()).collect();
    let started = Instant::now();
    let page = get(a, "/").expect("answered");
    assert_eq!(page.status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    drop(idle);
}

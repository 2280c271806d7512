//! Real processes and raw sockets for the `campus run` tests: a started
//! binary that is killed when the test ends, HTTP requests written by hand
//! (so a test can also send half a request), signals.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Generous: debug builds on a busy CI machine.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `campus` process, killed when dropped; its stderr goes to a
/// file so a failing test can show it.
pub struct Campus {
    pub child: Child,
    pub log: PathBuf,
    pub address: String,
}

impl Campus {
    /// `campus --site SITE <args> --address <free port>`, waiting until
    /// `/healthz` answers.
    pub fn start(site: &Path, args: &[&str], env: &[(&str, String)]) -> Campus {
        let address = format!("127.0.0.1:{}", free_port());
        let mut campus = Campus::spawn(site, args, &address, env);
        wait_until(&format!("campus {args:?} answers"), || {
            if let Some(status) = campus.child.try_wait().unwrap() {
                panic!("campus exited early ({status}): {}", campus.stderr());
            }
            get(&campus.address, "/healthz").is_some_and(|r| r.status == 200)
        });
        campus
    }

    pub fn spawn(site: &Path, args: &[&str], address: &str, env: &[(&str, String)]) -> Campus {
        let log = site.join(format!("campus-{}.log", free_port()));
        let child = Command::new(env!("CARGO_BIN_EXE_campus"))
            .arg("--site")
            .arg(site)
            .args(args)
            .args(["--address", address])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Campus {
            child,
            log,
            address: address.to_string(),
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: sends a signal to the child process this test started.
        assert_eq!(
            unsafe { libc::kill(self.child.id() as libc::pid_t, signal) },
            0
        );
    }

    /// Waits for the process to end, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "still running after {limit:?}: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Campus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP answer, body de-chunked (not decompressed).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `head` (request line and headers, without the blank line) and
/// `body`, closing after the answer.
pub fn request(address: &str, head: &str, body: &[u8]) -> Option<Reply> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let head = format!("{head}\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    parse(&raw)
}

/// [`request`] from the local address `source` (any of 127.0.0.0/8 on
/// loopback), so a proxy in front sees a client other than 127.0.0.1.
pub fn request_from(source: &str, address: &str, head: &str, body: &[u8]) -> Option<Reply> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().ok()?;
        socket.bind(format!("{source}:0").parse().unwrap()).ok()?;
        socket.connect(address.parse().unwrap()).await.ok()
    })?;
    let mut stream = stream.into_std().ok()?;
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let head = format!("{head}\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    parse(&raw)
}

pub fn get(address: &str, path: &str) -> Option<Reply> {
    request(address, &format!("GET {path} HTTP/1.1"), b"")
}

/// GET with extra header lines (`Name: value`).
pub fn get_with(address: &str, path: &str, headers: &[&str]) -> Reply {
    let mut head = format!("GET {path} HTTP/1.1");
    for h in headers {
        head.push_str("\r\n");
        head.push_str(h);
    }
    request(address, &head, b"").unwrap_or_else(|| panic!("no answer to GET {path}"))
}

pub fn parse(raw: &[u8]) -> Option<Reply> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..line_end]).into_owned();
        let size =
            usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// `key=value&…`, percent-encoded.
pub fn urlencoded(pairs: &[(&str, &str)]) -> String {
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
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// POSTs a form from `origin`.
pub fn post_form(address: &str, path: &str, origin: &str, pairs: &[(&str, &str)]) -> Option<Reply> {
    let body = urlencoded(pairs);
    request(
        address,
        &format!(
            "POST {path} HTTP/1.1\r\nOrigin: {origin}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}",
            body.len()
        ),
        body.as_bytes(),
    )
}

//! A throw-away PostgreSQL cluster for the tests: `initdb` into a temporary
//! folder, `postgres` on a free loopback port, one cluster per test run and
//! a fresh database per test. The server stops (and its folder goes) when
//! the test process ends: it runs under a small shell that waits for the
//! end of its standard input, which is a pipe from this process.
//!
//! Run as root (CI), `initdb` and `postgres` refuse to start, so they run
//! as the `postgres` user. Without the binaries the tests skip PostgreSQL
//! with a printed message; with `CI=true` that is an error.
//!
//! Used by `forms-backend/tests/backend` and `tests/campus` (`#[path]`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const BIN_DIRS: &[&str] = &["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin"];

pub struct Cluster {
    port: u16,
    bin: PathBuf,
    /// Closing it (at process end) stops the server.
    _keep: std::process::ChildStdin,
}

static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

fn bin_dir() -> Option<PathBuf> {
    BIN_DIRS
        .iter()
        .map(PathBuf::from)
        .find(|d| d.join("initdb").is_file() && d.join("postgres").is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `cmd` as the `postgres` user when we are root.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> Option<Cluster> {
    let Some(bin) = bin_dir() else {
        let message = "PostgreSQL-Binaries (initdb, postgres) fehlen: \
                       Tests gegen PostgreSQL übersprungen (apt-get install postgresql)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}; in CI ist das ein Fehler");
        }
        eprintln!("{message}");
        return None;
    };
    let dir = tempfile::Builder::new()
        .prefix("campus-pg-")
        .tempdir()
        .unwrap()
        .keep();
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(ok.success(), "chown postgres {}", dir.display());
    }
    let data = dir.join("data");
    let out = as_owner(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "campus", "-E", "UTF8", "--no-sync"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    // fsync off: a test cluster need not survive a power loss.
    let script = format!(
        "'{postgres}' -D '{data}' -k '{dir}' -c listen_addresses=127.0.0.1 -p {port} \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
         >'{dir}/log' 2>&1 & pid=$!; cat >/dev/null; kill -INT $pid; wait $pid; rm -rf '{dir}'",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        dir = dir.display(),
    );
    // Never waited on: the shell stops the server and removes the cluster
    // when this test process ends and closes the shell's stdin.
    #[allow(clippy::zombie_processes)]
    let mut child = as_owner(Path::new("/bin/sh"))
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let keep = child.stdin.take().unwrap();
    let cluster = Cluster {
        port,
        bin,
        _keep: keep,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cluster.psql("postgres", "SELECT 1") {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL startet nicht: {}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(cluster)
}

impl Cluster {
    fn psql(&self, db: &str, sql: &str) -> bool {
        Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "-U",
                "campus",
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAt",
                "-c",
                sql,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The URL of a new, empty database on this cluster.
    pub fn fresh_database(&self) -> String {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        assert!(
            self.psql("postgres", &format!("CREATE DATABASE {name}")),
            "CREATE DATABASE {name}"
        );
        format!("postgres://campus@127.0.0.1:{}/{name}", self.port)
    }
}

/// The cluster of this test run, started on first use; `None` when the
/// binaries are missing (outside CI).
pub fn cluster() -> Option<&'static Cluster> {
    CLUSTER.get_or_init(start).as_ref()
}

/// A fresh database URL, or `None` (with the skip message printed once).
pub fn fresh_database() -> Option<String> {
    cluster().map(Cluster::fresh_database)
}

/// Whether this run's tests use PostgreSQL (`CAMPUS_TEST_DATABASE=postgres`).
pub fn wanted() -> bool {
    std::env::var("CAMPUS_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

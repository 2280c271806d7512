//! A small SMTP server on loopback for the `campus run` tests: it records
//! every accepted message (with its Message-ID) and can answer the end of
//! the DATA phase slowly, like an overloaded municipal relay.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub struct Smtp {
    pub port: u16,
    pub messages: Arc<Mutex<Vec<String>>>,
}

impl Smtp {
    /// Starts the server; `slow_data` is how long it waits before
    /// accepting each message.
    pub fn start(slow_data: Duration) -> Smtp {
        Smtp::start_with(slow_data, Duration::ZERO)
    }

    /// Like [`Smtp::start`]; in the first conversation every answer also
    /// waits `slow_first` (each in time, all together long).
    pub fn start_with(slow_data: Duration, slow_first: Duration) -> Smtp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let smtp = Smtp {
            port: listener.local_addr().unwrap().port(),
            messages: Arc::default(),
        };
        let messages = smtp.messages.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().flatten().enumerate() {
                let messages = messages.clone();
                let pause = if n == 0 { slow_first } else { Duration::ZERO };
                std::thread::spawn(move || {
                    let _ = conversation(stream, &messages, slow_data, pause);
                });
            }
        });
        smtp
    }

    /// Environment for `campus` to deliver here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CAMPUS_MAIL_TRANSPORT", "smtp".to_string()),
            ("CAMPUS_SMTP_HOST", "127.0.0.1".to_string()),
            ("CAMPUS_SMTP_PORT", self.port.to_string()),
            ("CAMPUS_SMTP_TLS", "keine".to_string()),
        ]
    }

    pub fn all(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }

    /// Message-IDs of the accepted messages containing `needle`.
    pub fn ids_with(&self, needle: &str) -> Vec<String> {
        self.all()
            .iter()
            .filter(|m| m.contains(needle))
            .map(|m| message_id(m))
            .collect()
    }
}

pub fn message_id(message: &str) -> String {
    message
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("message-id")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default()
}

fn conversation(
    stream: TcpStream,
    messages: &Mutex<Vec<String>>,
    slow_data: Duration,
    pause: Duration,
) -> std::io::Result<()> {
    let mut out = Paced(stream.try_clone()?, pause);
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 test ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            out.write_all(b"250-test\r\n250 8BITMIME\r\n")?;
        } else if command.starts_with("DATA") {
            out.write_all(b"354 go ahead\r\n")?;
            let mut message = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                message.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            std::thread::sleep(slow_data);
            // Taken once the server says so.
            messages.lock().unwrap().push(message);
            out.write_all(b"250 queued\r\n")?;
        } else if command.starts_with("QUIT") {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"250 ok\r\n")?;
        }
    }
}

/// Writes each answer after a pause.
struct Paced(TcpStream, Duration);

impl Paced {
    fn write_all(&mut self, answer: &[u8]) -> std::io::Result<()> {
        std::thread::sleep(self.1);
        self.0.write_all(answer)
    }
}

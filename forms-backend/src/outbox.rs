//! Delivery of outbox rows: a tokio task claims due messages with a lease
//! (queued/retry → sending; 16 at a time when they go to files, one at a
//! time over SMTP), hands each to the transport and records its result
//! (retry with exponential backoff or failed at once; the sent ones of a
//! claim together, in one commit).
//!
//! Guarantees: a committed mail is delivered after restarts and SMTP
//! outages; two workers never hold the same message (claims happen in
//! `BEGIN IMMEDIATE` transactions). If a worker dies after the server
//! accepted a message but before it recorded that, the message is sent again
//! after the lease ran out — with the same Message-ID, so receivers can tell.
//! The file transport names files by Message-ID and is idempotent.

use crate::config::{MailTransport, Settings, SmtpSettings, SmtpTls};
use crate::sign::{hex, random_bytes};
use crate::store::{self, ClaimedMail, Store};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
const PURGE_EVERY: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug)]
pub struct DeliveryError {
    pub permanent: bool,
    pub message: String,
}

pub enum Transport {
    Files(PathBuf),
    /// With the time limit of one whole delivery.
    Smtp(AsyncSmtpTransport<Tokio1Executor>, Duration),
}

impl Transport {
    /// How many due messages the worker claims at once, under one lease.
    /// Files are written in milliseconds, so 16 of them fit the lease of
    /// one with room to spare and save a claim (a database round trip)
    /// each. An SMTP dialogue may take the whole time limit, so there one
    /// at a time: a batch would need a lease many times as long, and the
    /// mails of a worker that died would wait that long.
    pub fn claims_at_once(&self) -> usize {
        match self {
            Transport::Files(_) => 16,
            Transport::Smtp(..) => 1,
        }
    }

    pub fn new(config: &MailTransport) -> Result<Transport, lettre::transport::smtp::Error> {
        Ok(match config {
            MailTransport::Files(dir) => Transport::Files(dir.clone()),
            MailTransport::Smtp(s) => Transport::Smtp(smtp(s)?, s.timeout),
        })
    }

    pub async fn send(&self, mail: &ClaimedMail) -> Result<(), DeliveryError> {
        match self {
            Transport::Files(dir) => {
                let dir = dir.clone();
                let id = mail.message_id.clone();
                let raw = mail.raw.clone();
                tokio::task::spawn_blocking(move || write_eml(&dir, &id, &raw))
                    .await
                    .map_err(|e| DeliveryError {
                        permanent: false,
                        message: e.to_string(),
                    })?
                    .map_err(|e| DeliveryError {
                        permanent: false,
                        message: e.to_string(),
                    })
            }
            Transport::Smtp(t, limit) => {
                let envelope = Envelope::new(
                    Some(mail.envelope_from.parse().map_err(|_| DeliveryError {
                        permanent: true,
                        message: "ungültiger Absender".into(),
                    })?),
                    vec![mail.recipient.parse().map_err(|_| DeliveryError {
                        permanent: true,
                        message: "ungültiger Empfänger".into(),
                    })?],
                )
                .map_err(|e| DeliveryError {
                    permanent: true,
                    message: e.to_string(),
                })?;
                // The limit bounds the whole dialogue, not each answer: a
                // server answering every line just in time must not keep
                // the mail past its lease (see [`lease_for`]).
                match tokio::time::timeout(*limit, t.send_raw(&envelope, &mail.raw)).await {
                    Ok(sent) => sent.map(|_| ()).map_err(|e| DeliveryError {
                        permanent: e.is_permanent(),
                        message: e.to_string(),
                    }),
                    Err(_) => Err(DeliveryError {
                        permanent: false,
                        message: format!("SMTP-Zeitlimit von {} s überschritten", limit.as_secs()),
                    }),
                }
            }
        }
    }
}

fn smtp(
    s: &SmtpSettings,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
    let parameters = || -> Result<TlsParameters, lettre::transport::smtp::Error> {
        let mut p =
            TlsParameters::builder(s.host.clone()).certificate_store(if s.certificates.system {
                CertificateStore::Default // the system store (rustls-native-certs)
            } else {
                CertificateStore::WebpkiRoots
            });
        if let Some(pem) = &s.certificates.extra_pem {
            p = p.add_root_certificate(Certificate::from_pem(pem)?);
        }
        p.build_rustls()
    };
    let tls = match s.tls {
        SmtpTls::StartTls => Tls::Required(parameters()?),
        SmtpTls::Tls => Tls::Wrapper(parameters()?),
        SmtpTls::None => Tls::None,
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
        .tls(tls)
        .port(s.port)
        .timeout(Some(s.timeout));
    if let Some(user) = &s.user {
        b = b.credentials(Credentials::new(user.clone(), s.password.0.clone()));
    }
    Ok(b.build())
}

/// How long a claimed message stays reserved for its worker. It must
/// outlast one delivery, which [`Transport::send`] bounds by the timeout
/// (plus the time to record the result). It is also how long the mail of a process
/// that died mid-delivery waits before another process sends it.
pub fn lease_for(transport: &MailTransport) -> Duration {
    match transport {
        MailTransport::Files(_) => Duration::from_secs(30),
        MailTransport::Smtp(s) => (s.timeout * 4).max(Duration::from_secs(10)),
    }
}

/// `<id>.eml`, written to a temporary name and renamed: never half a file,
/// and a second delivery of the same message replaces the first.
pub fn write_eml(dir: &Path, message_id: &str, raw: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let name: String = message_id
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, raw)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, dir.join(format!("{name}.eml")))
}

/// Controls a running worker.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    join: JoinHandle<()>,
    /// Further background tasks stopped together with the worker.
    companions: Vec<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Asks the worker to stop and waits until it has: a mail being sent
    /// is finished and recorded first.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.join.await;
        for c in self.companions {
            let _ = c.await;
        }
    }

    /// Becomes true when [`WorkerHandle::shutdown`] is called.
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Lets `task` (which watches [`WorkerHandle::stop_signal`]) be awaited on shutdown.
    pub fn attach(&mut self, task: JoinHandle<()>) {
        self.companions.push(task);
    }
}

/// What the worker needs; cheap to clone.
#[derive(Clone)]
pub struct Worker {
    pub store: Arc<Store>,
    pub transport: Arc<Transport>,
    pub wake: Arc<Notify>,
    pub max_attempts: u32,
    pub retry_base: Duration,
    /// See [`lease_for`].
    pub lease: Duration,
    /// `None`: no daily purge (tests with several workers).
    pub settings_for_purge: Option<Arc<Settings>>,
    /// Due times and sent times come from this clock (the backend's).
    pub clock: crate::clock::Clock,
    /// Unix seconds at the start of the worker's latest round, 0 while no
    /// worker runs: `/healthz` tells a stuck worker from a quiet one.
    pub heartbeat: Arc<std::sync::atomic::AtomicI64>,
}

impl Worker {
    pub fn spawn(self) -> WorkerHandle {
        let (stop, mut stopped) = watch::channel(false);
        let id = hex(&random_bytes()[..8]);
        // Counts as running from now on, before its first round.
        self.heartbeat
            .store(self.clock.now(), std::sync::atomic::Ordering::Relaxed);
        let join = tokio::spawn(async move {
            tracing::info!(worker = %id, "Mail-Auslieferung gestartet");
            let poll = self
                .retry_base
                .clamp(Duration::from_millis(200), Duration::from_secs(5));
            let mut last_purge: Option<Instant> = None;
            loop {
                if *stopped.borrow() {
                    break;
                }
                self.heartbeat
                    .store(self.clock.now(), std::sync::atomic::Ordering::Relaxed);
                if let Some(settings) = &self.settings_for_purge {
                    if last_purge.is_none_or(|t| t.elapsed() >= PURGE_EVERY) {
                        last_purge = Some(Instant::now());
                        let (store, settings) = (self.store.clone(), settings.clone());
                        match tokio::task::spawn_blocking(move || {
                            crate::ops::purge(&store, &settings)
                        })
                        .await
                        {
                            Ok(Ok(report)) => {
                                tracing::info!(?report, "Aufbewahrungsfristen angewendet")
                            }
                            Ok(Err(e)) => {
                                tracing::error!(error = %e, "Löschen abgelaufener Daten fehlgeschlagen")
                            }
                            Err(e) => tracing::error!(error = %e, "Löschlauf abgebrochen"),
                        }
                    }
                }
                match self.step(&id).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "Postausgang nicht lesbar"),
                }
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                    _ = stopped.changed() => {}
                }
            }
            self.heartbeat
                .store(0, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(worker = %id, "Mail-Auslieferung beendet");
        });
        WorkerHandle {
            stop,
            join,
            companions: Vec::new(),
        }
    }

    /// Delivers the due messages of one claim (see
    /// [`Transport::claims_at_once`]) and records them: a failure at once,
    /// the sent ones together at the end, in one commit. A worker dying
    /// before that sends them again after the lease (same Message-ID; a
    /// file is replaced). True if there was one.
    pub async fn step(&self, worker: &str) -> Result<bool, store::StoreError> {
        let store = self.store.clone();
        let (w, lease, clock) = (worker.to_string(), self.lease, self.clock.clone());
        let at_once = self.transport.claims_at_once();
        let claimed =
            tokio::task::spawn_blocking(move || store.claim_due(&w, clock.now(), lease, at_once))
                .await
                .expect("claim task")?;
        let any = !claimed.is_empty();
        let mut sent = Vec::with_capacity(claimed.len());
        for mail in claimed {
            match self.transport.send(&mail).await {
                Ok(()) => sent.push(mail),
                Err(e) => self.record_failure(worker, mail, e).await?,
            }
        }
        self.record_sent(worker, sent).await?;
        Ok(any)
    }

    async fn record_sent(
        &self,
        worker: &str,
        sent: Vec<ClaimedMail>,
    ) -> Result<(), store::StoreError> {
        if sent.is_empty() {
            return Ok(());
        }
        let (store, w, clock) = (self.store.clone(), worker.to_string(), self.clock.clone());
        tokio::task::spawn_blocking(move || {
            let ids: Vec<i64> = sent.iter().map(|m| m.id).collect();
            let marked = store.mark_sent_all(&ids, &w, clock.now())?;
            for mail in &sent {
                if marked.contains(&mail.id) {
                    tracing::info!(outbox_id = mail.id, message_id = %mail.message_id, "Mail zugestellt");
                } else {
                    tracing::warn!(outbox_id = mail.id, "Mail zugestellt, aber Auftrag war nicht mehr reserviert");
                }
            }
            Ok(())
        })
        .await
        .expect("mark task")
    }

    async fn record_failure(
        &self,
        worker: &str,
        mail: ClaimedMail,
        e: DeliveryError,
    ) -> Result<(), store::StoreError> {
        let (store, w, clock) = (self.store.clone(), worker.to_string(), self.clock.clone());
        let (max, base) = (self.max_attempts, self.retry_base);
        tokio::task::spawn_blocking(move || {
            let now = clock.now();
            let next = (!e.permanent && mail.attempts < max).then(|| {
                let factor = 2u32.saturating_pow(mail.attempts.saturating_sub(1));
                now + base
                    .saturating_mul(factor)
                    .min(MAX_BACKOFF)
                    .as_secs()
                    .max(1) as i64
            });
            tracing::warn!(outbox_id = mail.id, attempt = mail.attempts, error = %e.message,
                retry_at = ?next, "Mail nicht zugestellt");
            store.mark_attempt_failed(mail.id, &w, &e.message, next)?;
            Ok(())
        })
        .await
        .expect("mark task")
    }
}

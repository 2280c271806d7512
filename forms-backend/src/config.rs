//! The backend's part of `campus.toml` (`[backend]`, `[mail]`, `[aufbewahrung]`),
//! read from `Config.rest`, with `CAMPUS_*` environment overrides.
//!
//! Secrets (SMTP password, signing key) are wrapped in [`Secret`], whose
//! `Debug` never shows the value, so logging the settings is safe.

use campus_generator::config::Config;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A value that must never appear in logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(<leer>)")
        } else {
            f.write_str("Secret(***)")
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("campus.toml, Tabelle [{table}]: {message}")]
    Table {
        table: &'static str,
        message: String,
    },
    #[error("Umgebungsvariable {name}: {message}")]
    Env { name: &'static str, message: String },
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawBackend {
    datenverzeichnis: Option<String>,
    datenbank: Option<String>,
    erlaubte_origins: Vec<String>,
    signaturschluessel: Option<String>,
    fruehere_signaturschluessel: Vec<String>,
    min_ausfuellzeit_sekunden: Option<u64>,
    formular_gueltig_stunden: Option<u64>,
    bestaetigung_gueltig_stunden: Option<u64>,
    anfragen_pro_ip_je_10_minuten: Option<u32>,
    mails_pro_empfaenger_je_stunde: Option<u32>,
    max_anfrage_bytes: Option<usize>,
    vertraue_x_forwarded_for: Option<bool>,
    annahme_warteschlange: Option<usize>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawMail {
    transport: Option<String>,
    verzeichnis: Option<String>,
    absender: Option<String>,
    geschaeftsstelle: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_benutzer: Option<String>,
    smtp_passwort: Option<String>,
    smtp_tls: Option<String>,
    smtp_zeitlimit_sekunden: Option<u64>,
    smtp_zertifikate: Option<String>,
    smtp_ca_datei: Option<String>,
    max_versuche: Option<u32>,
    wiederholung_basis_sekunden: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawBooking {
    angebot_gueltig_stunden: Option<u64>,
    freigabe_gueltig_tage: Option<u64>,
    pruefen_alle_sekunden: Option<u64>,
}

/// How mails leave the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// One `.eml` file per message in this directory (default).
    Files(PathBuf),
    Smtp(SmtpSettings),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Secret,
    pub tls: SmtpTls,
    /// Longest time one whole delivery (connect to QUIT) may take.
    pub timeout: Duration,
    /// Which certificate authorities the TLS connection trusts.
    pub certificates: SmtpCertificates,
}

/// Trusted certificate authorities for SMTP over TLS.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SmtpCertificates {
    /// The system's store (`/etc/ssl/certs`, with an internal CA the
    /// administrator added) instead of the built-in Mozilla list.
    pub system: bool,
    /// A further CA, read from the PEM file `smtp_ca_datei` (e.g. the
    /// municipality's own).
    pub extra_pem: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    StartTls,
    Tls,
    /// Plain SMTP; only for a relay on loopback and for tests.
    None,
}

impl fmt::Debug for SmtpCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCertificates")
            .field("system", &self.system)
            .field("extra_pem_bytes", &self.extra_pem.as_ref().map(Vec::len))
            .finish()
    }
}

/// Everything the backend needs besides the content model.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// An SQLite file (default `var/campus.db`) or `postgres://…`.
    pub database: crate::store::Location,
    /// Origins accepted in addition to the site's base URL.
    pub allowed_origins: Vec<String>,
    /// Explicit signing key; `None` = generated and kept in the data dir.
    pub signing_key: Option<Secret>,
    /// Earlier keys that still verify links in mails sent before a rotation.
    pub previous_signing_keys: Vec<Secret>,
    /// A form posted sooner than this after its token was issued is a bot.
    pub min_fill_time: Duration,
    /// A form token older than this is replaced by the interstitial page.
    pub form_token_max_age: Duration,
    /// Confirmation links expire, unconfirmed sign-ups are deleted after this.
    pub confirm_valid: Duration,
    /// Posts per client (IPv4 address or IPv6 /64) and form in ten minutes:
    /// high enough for a town hall whose staff share one NAT address.
    pub per_ip_per_10_min: u32,
    pub per_recipient_per_hour: u32,
    pub body_limit: usize,
    pub trust_forwarded_for: bool,
    /// Submissions that may wait for the group commit; more get 503
    /// (see [`crate::intake`]).
    pub intake_queue: usize,
    pub transport: MailTransport,
    pub sender: String,
    pub office: String,
    pub max_attempts: u32,
    pub retry_base: Duration,
    /// Days to keep submissions, by form name; forms not listed: 365.
    pub retention_days: BTreeMap<String, u32>,
    /// How long an offered place from the waiting list is held (`[buchung]`).
    pub offer_hold: Duration,
    /// How long approval links in mails to approvers stay valid.
    pub approval_valid: Duration,
    /// How often expired offers are passed on and reminders sent.
    pub booking_tick: Duration,
    /// When reminders and notices go out (`[erinnerungen]`).
    pub reminders: crate::booking::ReminderSettings,
    /// The time source (not configurable: the system clock; tests move a
    /// manual one; debug builds start it on `CAMPUS_TEST_HEUTE`).
    pub clock: crate::clock::Clock,
    /// Who may log in to `/verwaltung/` and how long links and sessions last.
    pub verwaltung: crate::verwaltung::OfficeSettings,
    /// When the evaluation link goes out (`[bewertung]`).
    pub evaluation: crate::evaluation::EvaluationSettings,
}

pub const DEFAULT_RETENTION_DAYS: u32 = 365;

impl Settings {
    /// Reads the settings, with overrides from the process environment.
    pub fn load(site_dir: &Path, config: &Config) -> Result<Settings, ConfigError> {
        Self::from_parts(site_dir, config, &|k| std::env::var(k).ok())
    }

    /// Same as [`Settings::load`] with an explicit environment (tests).
    pub fn from_parts(
        site_dir: &Path,
        config: &Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let backend: RawBackend = table(config, "backend")?;
        let mail: RawMail = table(config, "mail")?;
        let retention: BTreeMap<String, u32> = table(config, "aufbewahrung")?;
        let booking: RawBooking = table(config, "buchung")?;
        let at_site = |p: String| {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                site_dir.join(p)
            }
        };
        let data_dir = at_site(
            env("CAMPUS_DATA_DIR")
                .or(backend.datenverzeichnis)
                .unwrap_or_else(|| "var".into()),
        );
        let database = env("CAMPUS_DATABASE")
            .or(backend.datenbank)
            .map(|d| crate::store::Location::parse(&d, site_dir))
            .unwrap_or_else(|| crate::store::Location::File(data_dir.join("campus.db")));
        let transport_name = env("CAMPUS_MAIL_TRANSPORT")
            .or(mail.transport)
            .unwrap_or_else(|| "datei".into());
        let transport = match transport_name.as_str() {
            "datei" => MailTransport::Files(
                env("CAMPUS_MAIL_DIR")
                    .or(mail.verzeichnis)
                    .map(at_site)
                    .unwrap_or_else(|| data_dir.join("mail")),
            ),
            "smtp" => {
                let host =
                    env("CAMPUS_SMTP_HOST")
                        .or(mail.smtp_host)
                        .ok_or(ConfigError::Table {
                            table: "mail",
                            message: "transport = \"smtp\" braucht smtp_host".into(),
                        })?;
                let port = match env("CAMPUS_SMTP_PORT") {
                    Some(p) => p.parse().map_err(|_| ConfigError::Env {
                        name: "CAMPUS_SMTP_PORT",
                        message: format!("„{p}“ ist keine Portnummer"),
                    })?,
                    None => mail.smtp_port.unwrap_or(587),
                };
                let tls = match env("CAMPUS_SMTP_TLS")
                    .or(mail.smtp_tls)
                    .as_deref()
                    .unwrap_or("starttls")
                {
                    "starttls" => SmtpTls::StartTls,
                    "tls" => SmtpTls::Tls,
                    "keine" => SmtpTls::None,
                    other => {
                        return Err(ConfigError::Table {
                            table: "mail",
                            message: format!(
                                "smtp_tls = „{other}“: erlaubt sind starttls, tls, keine"
                            ),
                        })
                    }
                };
                MailTransport::Smtp(SmtpSettings {
                    host,
                    port,
                    user: env("CAMPUS_SMTP_USER").or(mail.smtp_benutzer),
                    password: Secret(
                        secret_env(env, "CAMPUS_SMTP_PASSWORD")?
                            .or(mail.smtp_passwort)
                            .unwrap_or_default(),
                    ),
                    tls,
                    timeout: Duration::from_secs(mail.smtp_zeitlimit_sekunden.unwrap_or(30).max(1)),
                    certificates: SmtpCertificates {
                        system: match mail.smtp_zertifikate.as_deref().unwrap_or("mozilla") {
                            "mozilla" => false,
                            "system" => true,
                            other => {
                                return Err(ConfigError::Table {
                                    table: "mail",
                                    message: format!(
                                        "smtp_zertifikate = „{other}“: erlaubt sind mozilla, system"
                                    ),
                                })
                            }
                        },
                        extra_pem: match mail.smtp_ca_datei.map(at_site) {
                            Some(path) => {
                                Some(std::fs::read(&path).map_err(|e| ConfigError::Table {
                                    table: "mail",
                                    message: format!(
                                        "smtp_ca_datei {} nicht lesbar: {e}",
                                        path.display()
                                    ),
                                })?)
                            }
                            None => None,
                        },
                    },
                })
            }
            other => {
                return Err(ConfigError::Table {
                    table: "mail",
                    message: format!("transport = „{other}“: erlaubt sind datei, smtp"),
                })
            }
        };
        let sender = env("CAMPUS_MAIL_FROM")
            .or(mail.absender)
            .unwrap_or_else(|| format!("{} <{}>", config.site.name, config.kontakt.email));
        let office = mail
            .geschaeftsstelle
            .unwrap_or_else(|| config.kontakt.email.clone());
        for (name, value) in [("absender", &sender), ("geschaeftsstelle", &office)] {
            if value.parse::<lettre::message::Mailbox>().is_err() {
                return Err(ConfigError::Table {
                    table: "mail",
                    message: format!("{name} = „{value}“ ist keine gültige E-Mail-Adresse"),
                });
            }
        }
        Ok(Settings {
            data_dir,
            database,
            allowed_origins: backend
                .erlaubte_origins
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_string())
                .collect(),
            signing_key: secret_env(env, "CAMPUS_SIGNING_KEY")?
                .or(backend.signaturschluessel)
                .filter(|k| !k.is_empty())
                .map(Secret),
            previous_signing_keys: backend
                .fruehere_signaturschluessel
                .into_iter()
                .filter(|k| !k.is_empty())
                .map(Secret)
                .collect(),
            min_fill_time: Duration::from_secs(backend.min_ausfuellzeit_sekunden.unwrap_or(2)),
            form_token_max_age: Duration::from_secs(
                3600 * backend.formular_gueltig_stunden.unwrap_or(24),
            ),
            confirm_valid: Duration::from_secs(
                3600 * backend.bestaetigung_gueltig_stunden.unwrap_or(48),
            ),
            per_ip_per_10_min: backend.anfragen_pro_ip_je_10_minuten.unwrap_or(60),
            per_recipient_per_hour: backend.mails_pro_empfaenger_je_stunde.unwrap_or(3),
            body_limit: backend.max_anfrage_bytes.unwrap_or(32 * 1024),
            trust_forwarded_for: backend.vertraue_x_forwarded_for.unwrap_or(false),
            intake_queue: backend
                .annahme_warteschlange
                .unwrap_or(crate::intake::DEFAULT_QUEUE)
                .max(1),
            transport,
            sender,
            max_attempts: mail.max_versuche.unwrap_or(10),
            retry_base: Duration::from_secs(mail.wiederholung_basis_sekunden.unwrap_or(30)),
            retention_days: retention,
            offer_hold: Duration::from_secs(3600 * booking.angebot_gueltig_stunden.unwrap_or(48)),
            approval_valid: Duration::from_secs(
                86_400 * booking.freigabe_gueltig_tage.unwrap_or(14),
            ),
            booking_tick: Duration::from_secs(booking.pruefen_alle_sekunden.unwrap_or(60).max(1)),
            reminders: crate::booking::ReminderSettings::from_table(table(config, "erinnerungen")?),
            clock: crate::clock::Clock::from_test_env(env)?,
            verwaltung: crate::verwaltung::OfficeSettings::from_table(
                table(config, "verwaltung")?,
                &office,
            )?,
            evaluation: crate::evaluation::EvaluationSettings::from_table(table(
                config,
                "bewertung",
            )?)?,
            office,
        })
    }

    pub fn retention_days(&self, form: &str) -> u32 {
        self.retention_days
            .get(form)
            .copied()
            .unwrap_or(DEFAULT_RETENTION_DAYS)
    }
}

/// The backend's tables of `campus.toml`, for `campus check`.
pub fn known_tables() -> Vec<campus_generator::config::KnownTable> {
    use campus_generator::config::KnownTable;
    vec![
        KnownTable::of::<RawBackend>("backend"),
        KnownTable::of::<RawMail>("mail"),
        KnownTable::of::<BTreeMap<String, u32>>("aufbewahrung"),
        KnownTable::of::<RawBooking>("buchung"),
        KnownTable::of::<crate::verwaltung::RawOffice>("verwaltung"),
        KnownTable::of::<crate::booking::RawReminders>("erinnerungen"),
        KnownTable::of::<crate::evaluation::RawEvaluation>("bewertung"),
        KnownTable::of::<crate::invoice::seller::Seller>("rechnungssteller"),
    ]
}

fn table<T: serde::de::DeserializeOwned + Default>(
    config: &Config,
    name: &'static str,
) -> Result<T, ConfigError> {
    match config.rest.get(name) {
        None => Ok(T::default()),
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Table {
                table: name,
                message: e.message().to_string(),
            }),
    }
}

/// A secret from `NAME`, or from the file named by `NAME_FILE` (systemd
/// credentials, container secrets), without its trailing line break.
fn secret_env(
    env: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<String>, ConfigError> {
    if let Some(value) = env(name) {
        return Ok(Some(value));
    }
    let file_var: &'static str = match name {
        "CAMPUS_SMTP_PASSWORD" => "CAMPUS_SMTP_PASSWORD_FILE",
        "CAMPUS_SIGNING_KEY" => "CAMPUS_SIGNING_KEY_FILE",
        _ => return Ok(None),
    };
    let Some(path) = env(file_var) else {
        return Ok(None);
    };
    std::fs::read_to_string(&path)
        .map(|text| Some(text.trim_end_matches(['\r', '\n']).to_string()))
        .map_err(|e| ConfigError::Env {
            name: file_var,
            message: format!("Datei {path} nicht lesbar: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!("[site]\nname = \"KC\"\nbase_url = \"http://a\"\n[kontakt]\norganisation=\"a\"\nstrasse=\"b\"\nort=\"c\"\nemail=\"gs@example.org\"\ntelefon=\"e\"\n{extra}");
        Config::parse(&text, Path::new("campus.toml")).unwrap()
    }

    #[test]
    fn defaults_live_in_var() {
        let s = Settings::from_parts(Path::new("/site"), &config(""), &|_| None).unwrap();
        assert_eq!(s.database.file(), Some(Path::new("/site/var/campus.db")));
        assert_eq!(s.transport, MailTransport::Files("/site/var/mail".into()));
        assert_eq!(s.office, "gs@example.org");
        assert_eq!(s.retention_days("kontakt"), DEFAULT_RETENTION_DAYS);
    }

    #[test]
    fn env_overrides_and_secret_is_not_printed() {
        let c = config("[mail]\ntransport = \"smtp\"\nsmtp_host = \"mx\"\nsmtp_passwort = \"geheim1\"\n[aufbewahrung]\nkontakt = 30\n");
        let env = |k: &str| match k {
            "CAMPUS_SMTP_PASSWORD" => Some("geheim2".to_string()),
            "CAMPUS_DATABASE" => Some("/tmp/x.db".to_string()),
            _ => None,
        };
        let s = Settings::from_parts(Path::new("/site"), &c, &env).unwrap();
        assert_eq!(s.database.file(), Some(Path::new("/tmp/x.db")));
        let pg = |k: &str| {
            (k == "CAMPUS_DATABASE")
                .then(|| "postgres://campus:geheim@db.example/campus".to_string())
        };
        let on_pg = Settings::from_parts(Path::new("/site"), &c, &pg).unwrap();
        assert_eq!(
            on_pg.database,
            crate::store::Location::Postgres("postgres://campus:geheim@db.example/campus".into())
        );
        assert_eq!(
            on_pg.database.to_string(),
            "postgres://campus:***@db.example/campus"
        );
        let MailTransport::Smtp(smtp) = &s.transport else {
            panic!("smtp expected")
        };
        assert_eq!(smtp.password.0, "geheim2");
        assert_eq!(smtp.timeout, Duration::from_secs(30));
        assert_eq!(
            crate::outbox::lease_for(&s.transport),
            Duration::from_secs(120)
        );
        assert_eq!(s.retention_days("kontakt"), 30);
        let printed = format!("{s:?}");
        assert!(!printed.contains("geheim"), "{printed}");
    }

    #[test]
    fn unknown_key_is_an_error() {
        let c = config("[backend]\ndatenbnak = \"x\"\n");
        assert!(Settings::from_parts(Path::new("/site"), &c, &|_| None).is_err());
    }

    #[tokio::test]
    async fn secrets_from_files_and_the_system_ca_store() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("passwort");
        std::fs::write(&secret, "aus-datei\n").unwrap();
        let c = config(
            "[mail]\ntransport = \"smtp\"\nsmtp_host = \"mx\"\nsmtp_zertifikate = \"system\"\n",
        );
        let path = secret.display().to_string();
        let env = |k: &str| (k == "CAMPUS_SMTP_PASSWORD_FILE").then(|| path.clone());
        let s = Settings::from_parts(Path::new("/site"), &c, &env).unwrap();
        let MailTransport::Smtp(smtp) = &s.transport else {
            panic!("smtp expected")
        };
        assert_eq!(smtp.password.0, "aus-datei");
        assert!(smtp.certificates.system);
        crate::outbox::Transport::new(&s.transport).expect("a transport with the system store");

        let missing = |k: &str| (k == "CAMPUS_SIGNING_KEY_FILE").then(|| "/nicht/da".to_string());
        let e = Settings::from_parts(Path::new("/site"), &config(""), &missing).unwrap_err();
        assert!(e.to_string().contains("CAMPUS_SIGNING_KEY_FILE"), "{e}");

        let c = config(
            "[mail]\ntransport = \"smtp\"\nsmtp_host = \"mx\"\nsmtp_zertifikate = \"alle\"\n",
        );
        let e = Settings::from_parts(Path::new("/site"), &c, &|_| None).unwrap_err();
        assert!(e.to_string().contains("mozilla, system"), "{e}");
    }
}

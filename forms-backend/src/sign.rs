//! HMAC-SHA256 signatures (form timestamps, unsubscribe links, IP hashes) and
//! random one-time tokens (confirmation links; stored only as SHA-256 hashes).
//!
//! Signed values are stateless and never expire unless they carry a time;
//! one-time tokens live in the database and can be used once. Bookings will
//! use both (approval links are one-time tokens with purpose `freigabe`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

type HmacSha256 = Hmac<Sha256>;

crate::stored::stored_enum! {
    /// What a signed value or a one-time token is for: a token made for one
    /// purpose is never accepted for another (`action_tokens.purpose`).
    pub enum Purpose ("einen Link-Zweck") {
        /// Signed form timestamp (`ts` field).
        FormStamp = "ts",
        /// Hash of a client address (stored instead of the address).
        IpHash = "ip",
        /// Double opt-in of a registration or newsletter sign-up (one-time token).
        Confirm = "bestaetigen",
        /// Newsletter unsubscribe link (signed address, stateless).
        Unsubscribe = "abmelden",
        /// Double opt-in of a booking request (one-time token).
        BookingConfirm = "buchung-bestaetigen",
        /// The approver's links (one one-time token for approve and reject).
        Approval = "freigabe",
        /// Accepting an offered place (one-time token, expires with the offer).
        Offer = "angebot",
        /// Cancellation by the participant (signed booking id, stateless).
        Cancel = "stornieren",
        /// The evaluation form of an attended booking (signed booking id, stateless).
        Evaluation = "bewertung",
        /// A certificate's download (signed certificate number, stateless).
        Certificate = "bescheinigung",
        /// "Meine Buchungen" of one address until a time (signed, stateless).
        MyBookings = "meine-buchungen",
    }
}

/// A key ring: the current key signs, earlier keys still verify until they
/// are retired, so links in mails sent before a rotation keep working.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
    previous: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(***)")
    }
}

/// Result of checking a signed form timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormStamp {
    Valid,
    /// Younger than the minimum fill time: a bot, or a very quick click.
    TooFast,
    /// Missing, forged or expired: ask the person to send again.
    Invalid,
}

impl Signer {
    pub fn new(key: [u8; 32]) -> Signer {
        Signer {
            key,
            previous: Vec::new(),
        }
    }

    /// Adds keys that only verify (earlier keys after a rotation).
    pub fn with_previous(mut self, keys: impl IntoIterator<Item = [u8; 32]>) -> Signer {
        self.previous
            .extend(keys.into_iter().filter(|k| *k != self.key));
        self
    }

    /// The key derived from configured text, as [`Signer::from_text`] uses it.
    pub fn key_from_text(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    /// The generated key in `data_dir`, if one was ever made (it becomes an
    /// earlier key when a configured key takes over).
    pub fn key_file(data_dir: &Path) -> Option<[u8; 32]> {
        let text = std::fs::read_to_string(data_dir.join("signing.key")).ok()?;
        B64.decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
    }

    /// Derives the key from configured text (any length).
    pub fn from_text(text: &str) -> Signer {
        Signer::new(Self::key_from_text(text))
    }

    /// Reads the key file in `data_dir`, or creates it (mode 0600) with a
    /// fresh random key on first start.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Signer> {
        let path = data_dir.join("signing.key");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = B64
                    .decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        std::io::Error::other(format!("{} ist beschädigt", path.display()))
                    })?;
                Ok(Signer::new(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir)?;
                let key = random_bytes();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                match options.open(&path) {
                    Ok(mut file) => {
                        writeln!(file, "{}", B64.encode(key))?;
                        file.sync_all()?;
                        tracing::info!(path = %path.display(), "Signaturschlüssel erzeugt");
                        Ok(Signer::new(key))
                    }
                    // Another process was faster: use its key.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        Self::load_or_create(data_dir)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    fn mac(&self, purpose: Purpose, payload: &str) -> HmacSha256 {
        Self::mac_with(&self.key, purpose, payload)
    }

    fn mac_with(key: &[u8; 32], purpose: Purpose, payload: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(key).expect("any key length");
        mac.update(purpose.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(payload.as_bytes());
        mac
    }

    /// `payload.signature`, the payload base64url-encoded.
    pub fn sign(&self, purpose: Purpose, payload: &str) -> String {
        let tag = self.mac(purpose, payload).finalize().into_bytes();
        format!("{}.{}", B64.encode(payload), B64.encode(tag))
    }

    /// The payload of a token made by [`Signer::sign`] for the same purpose.
    pub fn verify(&self, purpose: Purpose, token: &str) -> Option<String> {
        let (payload, tag) = token.split_once('.')?;
        let payload = String::from_utf8(B64.decode(payload).ok()?).ok()?;
        let tag = B64.decode(tag).ok()?;
        std::iter::once(&self.key)
            .chain(&self.previous)
            .any(|key| {
                Self::mac_with(key, purpose, &payload)
                    .verify_slice(&tag)
                    .is_ok()
            })
            .then_some(payload)
    }

    /// A signed form timestamp (`ts` field) issued at `millis`.
    pub fn form_stamp_at(&self, millis: u64) -> String {
        self.sign(Purpose::FormStamp, &millis.to_string())
    }

    /// Checks a form timestamp at `now` (milliseconds).
    pub fn check_form_stamp(
        &self,
        token: &str,
        now: u64,
        min_age: Duration,
        max_age: Duration,
    ) -> FormStamp {
        let Some(issued) = self
            .verify(Purpose::FormStamp, token)
            .and_then(|p| p.parse::<u64>().ok())
        else {
            return FormStamp::Invalid;
        };
        let age = Duration::from_millis(now.saturating_sub(issued));
        if issued > now + 60_000 || age > max_age {
            FormStamp::Invalid
        } else if age < min_age {
            FormStamp::TooFast
        } else {
            FormStamp::Valid
        }
    }

    /// A keyed hash of a client address: lets limits and audits match
    /// requests without storing the raw IP.
    pub fn ip_hash(&self, ip: &str) -> String {
        let tag = self.mac(Purpose::IpHash, ip).finalize().into_bytes();
        hex(&tag[..12])
    }
}

/// A fresh one-time token for a link (256 bits, base64url).
pub fn random_token() -> String {
    B64.encode(random_bytes())
}

/// What the database keeps of a one-time token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub fn random_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("system random source");
    b
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_rotation_old_links_verify_and_new_ones_use_the_new_key() {
        let old = Signer::from_text("alter schluessel");
        let link = old.sign(Purpose::Unsubscribe, "eva@gemeinde.example");
        let ring = Signer::from_text("neuer schluessel")
            .with_previous([Signer::key_from_text("alter schluessel")]);
        assert_eq!(
            ring.verify(Purpose::Unsubscribe, &link).as_deref(),
            Some("eva@gemeinde.example")
        );
        // New links are signed with the new key only: the old key alone refuses them.
        let new_link = ring.sign(Purpose::Unsubscribe, "eva@gemeinde.example");
        assert_eq!(old.verify(Purpose::Unsubscribe, &new_link), None);
        // Retired: without the old key in the ring the old link is refused.
        assert_eq!(
            Signer::from_text("neuer schluessel").verify(Purpose::Unsubscribe, &link),
            None
        );
        // The purpose still binds with earlier keys.
        assert_eq!(ring.verify(Purpose::Cancel, &link), None);
    }

    #[test]
    fn signatures_bind_purpose_and_payload() {
        let s = Signer::from_text("k");
        let t = s.sign(Purpose::Unsubscribe, "a@b.de");
        assert_eq!(
            s.verify(Purpose::Unsubscribe, &t).as_deref(),
            Some("a@b.de")
        );
        assert_eq!(s.verify(Purpose::FormStamp, &t), None);
        assert_eq!(
            Signer::from_text("other").verify(Purpose::Unsubscribe, &t),
            None
        );
        let forged = format!("{}.{}", B64.encode("x@b.de"), t.split_once('.').unwrap().1);
        assert_eq!(s.verify(Purpose::Unsubscribe, &forged), None);
    }

    #[test]
    fn form_stamps_have_a_window() {
        let s = Signer::from_text("k");
        let now = now_millis();
        let min = Duration::from_secs(2);
        let max = Duration::from_secs(3600);
        assert_eq!(
            s.check_form_stamp(&s.form_stamp_at(now), now, min, max),
            FormStamp::TooFast
        );
        let old = s.form_stamp_at(now - 5_000);
        assert_eq!(s.check_form_stamp(&old, now, min, max), FormStamp::Valid);
        let expired = s.form_stamp_at(now - 7_200_000);
        assert_eq!(
            s.check_form_stamp(&expired, now, min, max),
            FormStamp::Invalid
        );
        assert_eq!(s.check_form_stamp("", now, min, max), FormStamp::Invalid);
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = Signer::load_or_create(dir.path()).unwrap();
        let b = Signer::load_or_create(dir.path()).unwrap();
        assert_eq!(a.key, b.key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("signing.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

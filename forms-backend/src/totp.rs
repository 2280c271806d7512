//! Time-based one-time passwords (RFC 6238, the defaults every
//! authenticator app uses: HMAC-SHA1, 30-second steps, 6 digits) for the
//! office's optional second factor. HMAC-SHA1 comes from `ring`, which the
//! mail transport's TLS already builds.

use ring::hmac;

/// Seconds per step.
pub const STEP: i64 = 30;

/// The HOTP value (RFC 4226) of `secret` at `counter`, `digits` long.
fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let h = mac.as_ref();
    let offset = (h[h.len() - 1] & 0x0f) as usize;
    let code = u32::from_be_bytes([
        h[offset] & 0x7f,
        h[offset + 1],
        h[offset + 2],
        h[offset + 3],
    ]);
    code % 10u32.pow(digits)
}

/// The step of Unix time `now`.
pub fn step_at(now: i64) -> i64 {
    now.div_euclid(STEP)
}

/// The six-digit code of `secret` in `step`, with leading zeros.
pub fn code(secret: &[u8], step: i64) -> String {
    format!("{:06}", hotp(secret, step.max(0) as u64, 6))
}

/// The step whose code `typed` is (spaces ignored), allowing one step of
/// clock drift either way; None when it matches none.
pub fn matching_step(secret: &[u8], typed: &str, now: i64) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(now);
    (now - 1..=now + 1).find(|s| crate::verwaltung::same(&code(secret, *s), &typed))
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, as authenticator apps take secrets.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The `otpauth://` URI an app reads (typed or pasted; no QR service).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label = serde_urlencoded::to_string([("", format!("{issuer}:{account}"))])
        .unwrap_or_default()
        .trim_start_matches('=')
        .replace('+', "%20");
    let query = serde_urlencoded::to_string([
        ("secret", base32(secret).as_str()),
        ("issuer", issuer),
        ("algorithm", "SHA1"),
        ("digits", "6"),
        ("period", "30"),
    ])
    .unwrap_or_default()
    .replace('+', "%20");
    format!("otpauth://totp/{label}?{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, Appendix B (SHA1, secret "12345678901234567890", 8 digits).
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59_i64, 94_287_082_u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(
                hotp(secret, step_at(time) as u64, 8),
                expected,
                "T = {time}"
            );
            assert_eq!(
                code(secret, step_at(time)),
                format!("{:06}", expected % 1_000_000)
            );
        }
    }

    #[test]
    fn codes_match_within_one_step_only() {
        let secret = b"12345678901234567890";
        let now = 1_111_111_111;
        let c = code(secret, step_at(now));
        assert_eq!(matching_step(secret, &c, now), Some(step_at(now)));
        assert_eq!(
            matching_step(secret, &format!("{} {}", &c[..3], &c[3..]), now),
            Some(step_at(now))
        );
        assert_eq!(matching_step(secret, &c, now + STEP), Some(step_at(now)));
        assert_eq!(matching_step(secret, &c, now + 2 * STEP), None);
        assert_eq!(matching_step(secret, "12345", now), None);
        assert_eq!(matching_step(secret, "abcdef", now), None);
    }

    #[test]
    fn base32_and_uri_as_apps_expect() {
        // RFC 4648 test vectors (without padding).
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(
            base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        assert_eq!(
            otpauth_uri("KommunalCampus", "info@campus.example", b"12345678901234567890"),
            "otpauth://totp/KommunalCampus%3Ainfo%40campus.example?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=KommunalCampus&algorithm=SHA1&digits=6&period=30"
        );
    }
}

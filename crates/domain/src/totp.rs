//! Time-based one-time passwords (RFC 6238), the optional second factor.
//!
//! Pure: callers pass the secret and the time in, so the rules are testable
//! against the RFC vectors without a clock or a random source. The parameters
//! (HMAC-SHA1, 6 digits, 30 s) are the ones every authenticator app assumes when
//! it scans a QR code, so they are fixed rather than configurable.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Code length; six digits is what authenticator apps show by default.
pub const DIGITS: u32 = 6;
/// Step length in seconds; thirty is what authenticator apps assume by default.
pub const STEP_SECONDS: i64 = 30;
/// Secret length in bytes: 160 bits, the HMAC-SHA1 output size that RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;

/// How many steps either side of now are accepted, to forgive phone clocks that drift.
const DRIFT_STEPS: i64 = 1;

/// RFC 4648 base32 alphabet: upper case, the spelling authenticator apps expect.
const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// An RFC 4226 HOTP value for `counter`, reduced to six digits (above 999999 only if HMAC refused the key, so it never matches).
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    // HMAC accepts keys of any length, so this cannot fail; should it ever,
    // answer with a value no six-digit code can equal rather than panic.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // Dynamic truncation: the low nibble of the last byte picks where to read.
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    binary % 10u32.pow(DIGITS)
}

/// The code an authenticator app shows at `unix_seconds`, zero-padded to six digits.
pub fn code_at(secret: &[u8], unix_seconds: i64) -> String {
    code_for_step(secret, step_of(unix_seconds))
}

/// The step a time falls in; flooring keeps pre-epoch times consistent rather than rounding towards zero.
fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The zero-padded code for one step.
fn code_for_step(secret: &[u8], step: i64) -> String {
    // Steps before the epoch only come from a broken clock; reinterpreting the
    // bits keeps the mapping total and distinct instead of failing.
    let counter = step as u64;
    format!("{:0width$}", hotp(secret, counter), width = DIGITS as usize)
}

/// Checks a typed code against now and one step either side; returns the matched step for the caller to store, refusing any step not after `last_used_step` so a code works only once.
pub fn verify(
    secret: &[u8],
    code: &str,
    unix_seconds: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    // An empty secret would make every code public knowledge.
    if secret.is_empty() {
        return None;
    }
    // Apps show "123 456"; people type what they see.
    let typed: Vec<u8> = code.bytes().filter(|b| *b != b' ').collect();
    if typed.len() != DIGITS as usize || !typed.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let now = step_of(unix_seconds);
    let mut matched = None;
    // Every candidate is computed and compared so the time taken does not
    // reveal which step (if any) matched.
    for step in (now - DRIFT_STEPS)..=(now + DRIFT_STEPS) {
        let expected = code_for_step(secret, step);
        let equal = constant_time_eq(expected.as_bytes(), &typed);
        let fresh = last_used_step.is_none_or(|last| step > last);
        if equal && fresh && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// Compares without an early exit, so timing does not leak how many leading digits were right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Base32 without padding, the form authenticator apps accept in `otpauth://` URIs and manual entry.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(
                BASE32_ALPHABET[((buffer >> bits) & 0x1f) as usize],
            ));
        }
        // Only the unread low bits matter; dropping the rest keeps the buffer small.
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(
            BASE32_ALPHABET[((buffer << (5 - bits)) & 0x1f) as usize],
        ));
    }
    out
}

/// Decodes base32 as people type or paste it: any case, spaces, optional trailing `=` padding.
pub fn base32_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits: u32 = 0;
    let mut symbols: usize = 0;
    let mut padding_seen = false;
    for (position, c) in s.chars().enumerate() {
        if c == ' ' {
            continue;
        }
        if c == '=' {
            padding_seen = true;
            continue;
        }
        if padding_seen {
            return Err(format!(
                "base32 padding '=' may only come at the end, but {c:?} follows it at position {position}"
            ));
        }
        let value = match c.to_ascii_uppercase() {
            u @ 'A'..='Z' => u as u32 - 'A' as u32,
            d @ '2'..='7' => d as u32 - '2' as u32 + 26,
            _ => {
                return Err(format!(
                    "{c:?} at position {position} is not a base32 character (A-Z, 2-7)"
                ))
            }
        };
        buffer = (buffer << 5) | value;
        bits += 5;
        symbols += 1;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
        buffer &= (1 << bits) - 1;
    }
    // A final group of 1, 3 or 6 symbols cannot come from whole bytes, so it is a
    // truncated or mistyped secret rather than something to guess at.
    if matches!(symbols % 8, 1 | 3 | 6) {
        return Err(format!(
            "base32 text of {symbols} characters is truncated: no whole number of bytes has that length"
        ));
    }
    Ok(out)
}

/// The `otpauth://` URI an authenticator app scans from a QR code to enrol the secret.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        account = percent_encode(account),
        secret = base32_encode(secret),
    )
}

/// Escapes all but RFC 3986 unreserved characters, so names with spaces, `@` or `:` survive in both label and query.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_sha1_vectors_match_last_six_digits() {
        let vectors: [(i64, &str); 6] = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (time, eight) in vectors {
            assert_eq!(code_at(RFC_SECRET, time), eight[2..], "time {time}");
        }
    }

    #[test]
    fn rfc4226_hotp_values() {
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, value) in expected.into_iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64), value, "counter {counter}");
        }
    }

    #[test]
    fn codes_are_zero_padded() {
        // Time 1111111109 yields 081804: the leading zero must survive.
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109), "081804");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109).len(), DIGITS as usize);
    }

    #[test]
    fn verify_accepts_current_step_and_returns_it() {
        let t = 1_234_567_890;
        let code = code_at(RFC_SECRET, t);
        assert_eq!(verify(RFC_SECRET, &code, t, None), Some(t / STEP_SECONDS));
    }

    #[test]
    fn verify_accepts_one_step_either_side() {
        let t = 1_234_567_890;
        let now = t / STEP_SECONDS;
        let before = code_at(RFC_SECRET, t - STEP_SECONDS);
        let after = code_at(RFC_SECRET, t + STEP_SECONDS);
        assert_eq!(verify(RFC_SECRET, &before, t, None), Some(now - 1));
        assert_eq!(verify(RFC_SECRET, &after, t, None), Some(now + 1));
    }

    #[test]
    fn verify_refuses_two_steps_either_side() {
        let t = 1_234_567_890;
        let two_before = code_at(RFC_SECRET, t - 2 * STEP_SECONDS);
        let two_after = code_at(RFC_SECRET, t + 2 * STEP_SECONDS);
        assert_eq!(verify(RFC_SECRET, &two_before, t, None), None);
        assert_eq!(verify(RFC_SECRET, &two_after, t, None), None);
    }

    #[test]
    fn verify_refuses_replay_of_a_used_step() {
        let t = 1_234_567_890;
        let code = code_at(RFC_SECRET, t);
        let step = verify(RFC_SECRET, &code, t, None).expect("first use accepted");
        assert_eq!(verify(RFC_SECRET, &code, t, Some(step)), None);
        // Still refused a step later, while it sits inside the drift window.
        assert_eq!(
            verify(RFC_SECRET, &code, t + STEP_SECONDS, Some(step)),
            None
        );
        // An older step cannot be used once a newer one has been.
        let earlier = code_at(RFC_SECRET, t - STEP_SECONDS);
        assert_eq!(verify(RFC_SECRET, &earlier, t, Some(step)), None);
        // The next step's code is still welcome.
        let next = code_at(RFC_SECRET, t + STEP_SECONDS);
        assert_eq!(
            verify(RFC_SECRET, &next, t + STEP_SECONDS, Some(step)),
            Some(step + 1)
        );
    }

    #[test]
    fn verify_ignores_spaces() {
        let t = 1_234_567_890;
        let code = code_at(RFC_SECRET, t);
        let spaced = format!(" {} {} ", &code[..3], &code[3..]);
        assert_eq!(verify(RFC_SECRET, &spaced, t, None), Some(t / STEP_SECONDS));
    }

    #[test]
    fn verify_refuses_malformed_codes() {
        let t = 1_234_567_890;
        for code in [
            "12345",
            "abcdef",
            "1234567",
            "",
            "      ",
            "12345\u{0661}",
            "+12345",
        ] {
            assert_eq!(verify(RFC_SECRET, code, t, None), None, "code {code:?}");
        }
    }

    #[test]
    fn verify_refuses_wrong_code_and_empty_secret() {
        let t = 1_234_567_890;
        let code = code_at(RFC_SECRET, t);
        let wrong = format!(
            "{:06}",
            (code.parse::<u32>().expect("digits") + 1) % 1_000_000
        );
        assert_eq!(verify(RFC_SECRET, &wrong, t, None), None);
        assert_eq!(verify(b"", &code_at(b"", t), t, None), None);
    }

    #[test]
    fn base32_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).as_deref(), Ok(plain.as_bytes()));
        }
    }

    #[test]
    fn base32_decode_accepts_padding_lower_case_and_spaces() {
        assert_eq!(base32_decode("MZXW6YQ=").as_deref(), Ok(&b"foob"[..]));
        assert_eq!(
            base32_decode("MZXW6YTBOI======").as_deref(),
            Ok(&b"foobar"[..])
        );
        assert_eq!(base32_decode("mzxw 6ytb oi").as_deref(), Ok(&b"foobar"[..]));
    }

    #[test]
    fn base32_round_trips() {
        let secret: Vec<u8> = (0u8..=255).collect();
        for len in 0..=secret.len() {
            let bytes = &secret[..len];
            assert_eq!(base32_decode(&base32_encode(bytes)).as_deref(), Ok(bytes));
        }
        let twenty = [0xffu8; SECRET_BYTES];
        let encoded = base32_encode(&twenty);
        assert_eq!(encoded.len(), 32);
        assert_eq!(
            base32_decode(&encoded.to_lowercase()).as_deref(),
            Ok(&twenty[..])
        );
    }

    #[test]
    fn base32_decode_errors() {
        for bad in [
            "MZXW1", "MZ-XW", "MZXW6YQ!", "ÉÉ", "MY=MY", "M", "MZX", "MZXW6Y",
        ] {
            let err = base32_decode(bad).expect_err(bad);
            assert!(!err.is_empty(), "{bad}");
        }
        let err = base32_decode("MZX1").expect_err("1 is not base32");
        assert!(err.contains("'1'") && err.contains("position 3"), "{err}");
    }

    #[test]
    fn otpauth_uri_encodes_issuer_and_account() {
        let uri = otpauth_uri("Custodian", "Ada Lovelace@example.org", b"foobar");
        assert_eq!(
            uri,
            "otpauth://totp/Custodian:Ada%20Lovelace%40example.org?secret=MZXW6YTBOI\
             &issuer=Custodian&algorithm=SHA1&digits=6&period=30"
        );
        let uri = otpauth_uri("ACME Corp: ISMS", "a~b_c-d.e", b"f");
        assert_eq!(
            uri,
            "otpauth://totp/ACME%20Corp%3A%20ISMS:a~b_c-d.e?secret=MY\
             &issuer=ACME%20Corp%3A%20ISMS&algorithm=SHA1&digits=6&period=30"
        );
    }
}

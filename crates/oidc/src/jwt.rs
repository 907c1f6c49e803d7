//! ID token verification (OpenID Connect Core §3.1.3.7): a JWS in compact form, signed
//! with RS256, PS256 or ES256 by one of the provider's published keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};

/// Clock difference tolerated between Custodian and the provider, in seconds.
const LEEWAY: i64 = 60;

/// A public signing key from the provider's key set.
#[derive(Clone, Debug, PartialEq)]
pub struct Jwk {
    /// The key id.
    pub kid: Option<String>,
    /// The algorithm the key is published for, when given.
    pub alg: Option<String>,
    material: Material,
}

#[derive(Clone, Debug, PartialEq)]
enum Material {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// An uncompressed P-256 point (`04 || x || y`).
    P256(Vec<u8>),
}

impl Jwk {
    /// The usable signing keys of a JWK Set (`{"keys": [...]}`); others are skipped.
    pub fn set(doc: &Value) -> Vec<Jwk> {
        doc.get("keys")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Jwk::parse).collect())
            .unwrap_or_default()
    }

    /// One key, when it is a signing key of a supported type.
    pub fn parse(v: &Value) -> Option<Jwk> {
        let text = |k: &str| v.get(k).and_then(Value::as_str);
        let bytes = |k: &str| text(k).and_then(|s| URL_SAFE_NO_PAD.decode(s).ok());
        if text("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let material = match text("kty")? {
            "RSA" => Material::Rsa {
                n: bytes("n")?,
                e: bytes("e")?,
            },
            "EC" if text("crv") == Some("P-256") => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                let mut point = vec![4u8];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Material::P256(point)
            }
            _ => return None,
        };
        Some(Jwk {
            kid: text("kid").map(String::from),
            alg: text("alg").map(String::from),
            material,
        })
    }

    /// Whether this key can check a signature made with `alg`.
    fn fits(&self, alg: &str) -> bool {
        if self.alg.as_deref().is_some_and(|a| a != alg) {
            return false;
        }
        matches!(
            (&self.material, alg),
            (Material::Rsa { .. }, "RS256" | "PS256") | (Material::P256(_), "ES256")
        )
    }

    fn verify(&self, alg: &str, message: &[u8], sig: &[u8]) -> bool {
        match &self.material {
            Material::Rsa { n, e } => {
                let params = match alg {
                    "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                    "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                    _ => return false,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, sig)
                    .is_ok()
            }
            Material::P256(point) => {
                alg == "ES256"
                    && UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                        .verify(message, sig)
                        .is_ok()
            }
        }
    }
}

/// What an ID token must show.
#[derive(Clone, Debug)]
pub struct Expect<'a> {
    /// The issuer, exactly.
    pub issuer: &'a str,
    /// This client's id, which must be among the audiences.
    pub client_id: &'a str,
    /// The nonce sent with the authorization request.
    pub nonce: &'a str,
    /// The current Unix time.
    pub now: i64,
}

/// Why an ID token was not accepted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Not three base64url parts of JSON.
    #[error("the ID token is malformed: {0}")]
    Malformed(&'static str),
    /// Signed with an algorithm Custodian does not accept (`none` included).
    #[error("the ID token is signed with {0:?}, which is not accepted (RS256, PS256 or ES256)")]
    Algorithm(String),
    /// No published key fits.
    #[error("the ID token is signed by a key the provider does not publish")]
    UnknownKey,
    /// The signature does not match.
    #[error("the ID token's signature is not valid")]
    Signature,
    /// A claim is wrong.
    #[error("the ID token {0}")]
    Claim(String),
}

/// The key id a token's header names, if any.
pub fn key_id(token: &str) -> Option<String> {
    let h = token.split('.').next()?;
    let header = object(&part(h).ok()?).ok()?;
    header.get("kid").and_then(Value::as_str).map(String::from)
}

fn part(s: &str) -> Result<Vec<u8>, Failure> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| Failure::Malformed("a part is not base64url"))
}

fn object(bytes: &[u8]) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Failure::Malformed("a part is not a JSON object")),
    }
}

/// Checks an ID token's signature against `keys` and its claims against `expect`; returns
/// its claims.
pub fn verify_id_token(
    token: &str,
    keys: &[Jwk],
    expect: &Expect<'_>,
) -> Result<Map<String, Value>, Failure> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Failure::Malformed("not three dot-separated parts"));
    };
    let header = object(&part(h)?)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("none");
    if !matches!(alg, "RS256" | "PS256" | "ES256") {
        return Err(Failure::Algorithm(alg.to_string()));
    }
    if header.contains_key("crit") {
        return Err(Failure::Malformed("it has critical header parameters"));
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let candidates: Vec<&Jwk> = keys
        .iter()
        .filter(|k| k.fits(alg) && (kid.is_none() || k.kid.as_deref() == kid))
        .collect();
    if candidates.is_empty() {
        return Err(Failure::UnknownKey);
    }
    let signature = part(s)?;
    let message = &token.as_bytes()[..h.len() + 1 + p.len()];
    if !candidates
        .iter()
        .any(|k| k.verify(alg, message, &signature))
    {
        return Err(Failure::Signature);
    }
    let claims = object(&part(p)?)?;
    check_claims(&claims, expect)?;
    Ok(claims)
}

fn check_claims(c: &Map<String, Value>, expect: &Expect<'_>) -> Result<(), Failure> {
    let bad = |m: &str| Err(Failure::Claim(m.to_string()));
    if c.get("iss").and_then(Value::as_str) != Some(expect.issuer) {
        return bad("comes from another issuer");
    }
    let audiences: Vec<&str> = match c.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&expect.client_id) {
        return bad("is meant for another client");
    }
    // OpenID Connect Core §3.1.3.7: audiences besides this client are not trusted.
    if audiences.iter().any(|a| *a != expect.client_id) {
        return bad("is also meant for other clients");
    }
    if c.get("azp")
        .and_then(Value::as_str)
        .is_some_and(|azp| azp != expect.client_id)
    {
        return bad("was issued to another client");
    }
    // NumericDate may carry a fraction; whole seconds are enough here.
    let time = |k: &str| {
        c.get(k)
            .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    };
    match time("exp") {
        Some(exp) if exp.saturating_add(LEEWAY) > expect.now => {}
        Some(_) => return bad("has expired"),
        None => return bad("has no expiry"),
    }
    match time("iat") {
        Some(iat) if iat.saturating_sub(LEEWAY) <= expect.now => {}
        Some(_) => return bad("was issued in the future: check the clocks"),
        None => return bad("has no issue time"),
    }
    if time("nbf").is_some_and(|nbf| nbf.saturating_sub(LEEWAY) > expect.now) {
        return bad("is not valid yet");
    }
    let nonce = c.get("nonce").and_then(Value::as_str).unwrap_or("");
    if nonce.is_empty() || !crate::same(nonce, expect.nonce) {
        return bad("does not carry this sign-in's nonce (a replayed token?)");
    }
    if c.get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return bad("has no subject");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use serde_json::json;

    struct Signer {
        pair: EcdsaKeyPair,
        rng: SystemRandom,
    }

    impl Signer {
        fn new() -> Self {
            let rng = SystemRandom::new();
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
                    .expect("pair");
            Signer { pair, rng }
        }

        fn jwk(&self, kid: &str) -> Jwk {
            let point = self.pair.public_key().as_ref();
            Jwk::parse(&json!({
                "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            }))
            .expect("jwk")
        }

        fn sign(&self, header: Value, claims: Value) -> String {
            let input = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let sig = self
                .pair
                .sign(&self.rng, input.as_bytes())
                .expect("signature");
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
        }
    }

    const NOW: i64 = 1_800_000_000;

    fn expect() -> Expect<'static> {
        Expect {
            issuer: "https://id.example.com",
            client_id: "custodian",
            nonce: "n-123",
            now: NOW,
        }
    }

    fn claims() -> Value {
        json!({
            "iss": "https://id.example.com", "aud": "custodian", "sub": "alice",
            "exp": NOW + 300, "iat": NOW - 5, "nonce": "n-123", "email": "alice@example.com",
        })
    }

    fn header() -> Value {
        json!({"alg": "ES256", "kid": "k1"})
    }

    #[test]
    fn a_good_token_gives_its_claims() {
        let s = Signer::new();
        let t = s.sign(header(), claims());
        let c = verify_id_token(&t, &[s.jwk("k1")], &expect()).expect("valid");
        assert_eq!(c["email"], "alice@example.com");
    }

    #[test]
    fn a_bad_signature_or_a_foreign_key_is_refused() {
        let s = Signer::new();
        let other = Signer::new();
        let t = s.sign(header(), claims());
        assert_eq!(
            verify_id_token(&t, &[other.jwk("k1")], &expect()),
            Err(Failure::Signature)
        );
        assert_eq!(
            verify_id_token(&t, &[s.jwk("k2")], &expect()),
            Err(Failure::UnknownKey)
        );
        // A claim changed after signing.
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        let mut c = claims();
        c["sub"] = json!("mallory");
        parts[1] = URL_SAFE_NO_PAD.encode(c.to_string());
        assert_eq!(
            verify_id_token(&parts.join("."), &[s.jwk("k1")], &expect()),
            Err(Failure::Signature)
        );
    }

    #[test]
    fn unsigned_and_unknown_algorithms_are_refused() {
        let s = Signer::new();
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        for alg in ["none", "HS256", "RS512"] {
            let h = URL_SAFE_NO_PAD.encode(json!({"alg": alg}).to_string());
            assert_eq!(
                verify_id_token(&format!("{h}.{body}."), &[s.jwk("k1")], &expect()),
                Err(Failure::Algorithm(alg.into()))
            );
        }
        assert!(matches!(
            verify_id_token("abc", &[s.jwk("k1")], &expect()),
            Err(Failure::Malformed(_))
        ));
    }

    #[test]
    fn every_claim_is_checked() {
        let s = Signer::new();
        let k = [s.jwk("k1")];
        let cases: Vec<(&str, Value, &str)> = vec![
            ("iss", json!("https://evil.example"), "another issuer"),
            ("aud", json!("someone-else"), "another client"),
            ("aud", json!(["custodian", "other"]), "other clients"),
            ("azp", json!("other"), "another client"),
            ("exp", json!(NOW - 120), "expired"),
            ("iat", json!(NOW + 600), "future"),
            ("nbf", json!(NOW + 600), "not valid yet"),
            ("nonce", json!("n-999"), "nonce"),
            ("sub", json!(""), "subject"),
        ];
        for (k_, v, says) in cases {
            let mut c = claims();
            c[k_] = v;
            let e = verify_id_token(&s.sign(header(), c), &k, &expect()).unwrap_err();
            assert!(e.to_string().contains(says), "{k_}: {e}");
        }
        // Within the leeway is fine; an audience list of this client alone is fine; huge
        // times do not overflow.
        let mut c = claims();
        c["exp"] = json!(NOW - 30);
        c["aud"] = json!(["custodian"]);
        c["azp"] = json!("custodian");
        assert!(verify_id_token(&s.sign(header(), c), &k, &expect()).is_ok());
        let mut c = claims();
        c["exp"] = json!(i64::MAX);
        c["iat"] = json!(i64::MIN);
        c["nbf"] = json!(i64::MIN);
        assert!(verify_id_token(&s.sign(header(), c), &k, &expect()).is_ok());
    }

    #[test]
    fn key_sets_keep_only_usable_signing_keys() {
        let set = json!({"keys": [
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r", "use": "sig"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "enc", "use": "enc"},
            {"kty": "oct", "k": "AQAB"},
            {"kty": "EC", "crv": "P-384", "x": "AQAB", "y": "AQAB"},
        ]});
        let keys = Jwk::set(&set);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid.as_deref(), Some("r"));
        assert!(keys[0].fits("RS256") && !keys[0].fits("ES256"));
    }
}

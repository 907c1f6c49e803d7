//! Custodian as an OpenID Connect relying party: single sign-on with the authorization
//! code flow and PKCE (RFC 7636, `S256`), for a confidential client.
//!
//! [`Client::begin`] builds the provider's authorization URL and the [`Flow`] the browser
//! must bring back (state, nonce and PKCE verifier); [`Client::finish`] checks the state,
//! exchanges the code at the token endpoint and verifies the ID token (signature against
//! the provider's published keys, issuer, audience, expiry and nonce), then reads the
//! configured claims into an [`Identity`]. What an identity may do in Custodian is decided
//! by the application, not here.
//!
//! The provider's metadata comes from its discovery document and is cached for an hour;
//! its keys are fetched again when a token names a key not seen yet (key rotation).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Url;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

mod jwt;

pub use jwt::{verify_id_token, Expect, Failure, Jwk};

/// The largest answer read from the provider, in bytes.
const MAX_ANSWER: usize = 1024 * 1024;
/// How long one request to the provider may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long the discovery document is trusted.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// The keys are not fetched again sooner than this, whatever tokens arrive.
const JWKS_MIN_REFRESH: Duration = Duration::from_secs(10);
/// How long fetched keys are trusted (a key the provider withdraws stops working then).
const JWKS_TTL: Duration = Duration::from_secs(3600);
/// After the provider failed to answer, callers get the same failure for this long
/// instead of another outbound request each.
const FAILURE_PAUSE: Duration = Duration::from_secs(30);
/// How long a user has to sign in at the provider.
pub const FLOW_LIFE_SECS: i64 = 600;

/// Why single sign-on failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is unusable.
    #[error("single sign-on configuration: {0}")]
    Config(String),
    /// The provider could not be reached or answered something unusable.
    #[error("the identity provider is unavailable: {0}")]
    Provider(String),
    /// The provider refused the sign-in (the user cancelled, or is not allowed).
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    /// What came back does not prove who the user is.
    #[error("single sign-on failed: {0}")]
    Invalid(String),
}

/// How Custodian is registered with the provider and how its claims are read.
#[derive(Clone)]
pub struct Config {
    /// The issuer URL (discovery is at `<issuer>/.well-known/openid-configuration`).
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// Where the provider sends the browser back (registered with the provider).
    pub redirect_uri: String,
    /// Scopes asked for (`openid` is always included).
    pub scopes: Vec<String>,
    /// The claim naming the person (matched against persons' e-mail addresses).
    pub person_claim: String,
    /// The claim carrying the user's role or groups (`None`: roles are kept in Custodian).
    pub role_claim: Option<String>,
    /// Claim values that stand for a role (`"it-admins" → "admin"`); a value that is not
    /// in the map is taken as a role name.
    pub role_map: BTreeMap<String, String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("person_claim", &self.person_claim)
            .field("role_claim", &self.role_claim)
            .field("role_map", &self.role_map)
            .finish()
    }
}

/// A sign-in under way: what the browser carries from [`Client::begin`] to
/// [`Client::finish`] (kept sealed in a cookie by the caller).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Flow {
    /// The `state` sent to the provider.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// Where to send the user once signed in (a path of Custodian's).
    pub return_to: String,
    /// When the flow started (Unix seconds).
    pub started: i64,
}

/// Who the provider says the user is.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    /// The issuer and subject, `<issuer>|<sub>`: stable and unique for this provider.
    pub subject: String,
    /// The value of the person claim (lower-cased when it is an e-mail address).
    pub person: String,
    /// The user's name, when the provider gave one.
    pub name: Option<String>,
    /// Role names read from the role claim, through the role map (`None`: no role claim
    /// is configured). Empty when the claim is absent or names no role.
    pub roles: Option<Vec<String>>,
    /// Whether the provider says the user signed in with more than a password (the `amr`
    /// claim, RFC 8176).
    pub mfa: bool,
}

/// Whether the `amr` claim shows a second factor: `mfa`, or a method that is one.
pub fn multi_factor(claims: &Map<String, Value>) -> bool {
    const SECOND: &[&str] = &[
        "mfa", "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina", "vbm", "sms", "tel",
    ];
    claims
        .get("amr")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|m| SECOND.contains(&m))
        })
}

/// The provider's endpoints, from its discovery document.
#[derive(Clone, Debug)]
struct Metadata {
    authorization_endpoint: Url,
    token_endpoint: Url,
    jwks_uri: Url,
    /// Whether the token endpoint takes the secret in the form body rather than by Basic.
    secret_in_body: bool,
}

#[derive(Default)]
struct Cache {
    metadata: Option<(Instant, Arc<Metadata>)>,
    keys: Option<(Instant, Arc<Vec<Jwk>>)>,
    /// The provider's last failure to answer, repeated for [`FAILURE_PAUSE`].
    failed: Option<(Instant, String)>,
}

/// The relying party for one provider.
pub struct Client {
    config: Config,
    http: reqwest::Client,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish()
    }
}

/// Whether a URL may be used: HTTPS, or plain HTTP on the loopback interface only.
fn acceptable(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => matches!(
            url.host_str(),
            Some("127.0.0.1") | Some("localhost") | Some("[::1]")
        ),
        _ => false,
    }
}

fn parse_url(what: &str, text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{what} is not a URL ({text:?}: {e})"))?;
    if !acceptable(&url) {
        return Err(format!(
            "{what} must use https (plain http only on localhost), not {text:?}"
        ));
    }
    Ok(url)
}

/// Whether two values are equal, compared through their digests so that the time taken
/// tells nothing about where they differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// Random bytes as URL-safe base64.
fn random(bytes: usize) -> Result<String, Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf)
        .map_err(|e| Error::Provider(format!("the system's random source failed: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// The PKCE `S256` challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The current Unix time in seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Whether `return_to` is a path of this site (not a URL elsewhere).
pub fn local_path(return_to: &str) -> bool {
    return_to.starts_with('/')
        && !return_to.starts_with("//")
        && !return_to.starts_with("/\\")
        && !return_to.chars().any(|c| c.is_control() || c == '\\')
        && return_to.len() <= 512
}

/// Percent-encodes for `application/x-www-form-urlencoded` (RFC 6749 §2.3.1 asks this of
/// the client id and secret before Basic authentication).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Client {
    /// A relying party for `config`. Checks the configuration; does not contact the
    /// provider yet.
    pub fn new(config: Config) -> Result<Self, Error> {
        parse_url("the issuer", &config.issuer).map_err(Error::Config)?;
        parse_url("the redirect URI", &config.redirect_uri).map_err(Error::Config)?;
        if config.client_id.trim().is_empty() {
            return Err(Error::Config("the client id is empty".into()));
        }
        if config.client_secret.is_empty() {
            return Err(Error::Config("the client secret is empty".into()));
        }
        if config.person_claim.trim().is_empty() {
            return Err(Error::Config("the person claim is empty".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("custodian/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot make an HTTP client: {e}")))?;
        Ok(Self {
            config,
            http,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Starts a sign-in: the URL to send the browser to, and the flow it must bring back.
    pub async fn begin(&self, return_to: &str) -> Result<(String, Flow), Error> {
        let meta = self.metadata().await?;
        let flow = Flow {
            state: random(24)?,
            nonce: random(24)?,
            verifier: random(32)?,
            return_to: if local_path(return_to) {
                return_to.to_string()
            } else {
                "/".to_string()
            },
            started: unix_now(),
        };
        let mut scopes = vec!["openid".to_string()];
        for s in &self.config.scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        let mut url = meta.authorization_endpoint.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", &flow.state)
            .append_pair("nonce", &flow.nonce)
            .append_pair("code_challenge", &pkce_challenge(&flow.verifier))
            .append_pair("code_challenge_method", "S256");
        Ok((url.to_string(), flow))
    }

    /// Finishes a sign-in with what the provider sent back: checks the state, exchanges the
    /// code and verifies the ID token.
    pub async fn finish(&self, flow: &Flow, state: &str, code: &str) -> Result<Identity, Error> {
        let now = unix_now();
        if now - flow.started > FLOW_LIFE_SECS || flow.started > now + 60 {
            return Err(Error::Invalid(
                "the sign-in took too long: start again".into(),
            ));
        }
        if !same(state, &flow.state) {
            return Err(Error::Invalid(
                "the state does not match this browser's sign-in: start again".into(),
            ));
        }
        if code.is_empty() {
            return Err(Error::Invalid("the provider sent no code".into()));
        }
        let meta = self.metadata().await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.config.redirect_uri.as_str()),
            ("code_verifier", flow.verifier.as_str()),
        ];
        let mut req = self
            .http
            .post(meta.token_endpoint.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if meta.secret_in_body {
            form.push(("client_id", self.config.client_id.as_str()));
            form.push(("client_secret", self.config.client_secret.as_str()));
        } else {
            req = req.basic_auth(
                form_encode(&self.config.client_id),
                Some(form_encode(&self.config.client_secret)),
            );
        }
        let answer = req
            .form(&form)
            .send()
            .await
            .map_err(|e| Error::Provider(format!("the token endpoint: {}", without_url(&e))))?;
        let status = answer.status();
        let body = read_json(answer, "the token endpoint").await?;
        if !status.is_success() {
            let what = body
                .get("error_description")
                .or_else(|| body.get("error"))
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            return Err(Error::Invalid(format!(
                "the token endpoint refused the code ({status}): {what}"
            )));
        }
        let Some(id_token) = body.get("id_token").and_then(Value::as_str) else {
            return Err(Error::Invalid("the token endpoint sent no ID token".into()));
        };
        let claims = self.verify(id_token, &flow.nonce, now).await?;
        self.identity(&claims)
    }

    /// Verifies an ID token against the provider's keys, fetching them again once when
    /// the token names a key not known yet.
    async fn verify(
        &self,
        token: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Map<String, Value>, Error> {
        let expect = Expect {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce,
            now,
        };
        let keys = self.keys(false).await?;
        let first = verify_id_token(token, &keys, &expect);
        // A key not seen yet, or (with no key id to tell) a signature no cached key
        // checks: the provider may have rotated its keys.
        let rotated = match &first {
            Err(jwt::Failure::UnknownKey) => true,
            Err(jwt::Failure::Signature) => jwt::key_id(token).is_none(),
            _ => false,
        };
        if rotated {
            let keys = self.keys(true).await?;
            return verify_id_token(token, &keys, &expect)
                .map_err(|f| Error::Invalid(f.to_string()));
        }
        first.map_err(|f| Error::Invalid(f.to_string()))
    }

    /// Reads the configured claims.
    fn identity(&self, claims: &Map<String, Value>) -> Result<Identity, Error> {
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Invalid("the ID token has no subject".into()))?;
        let person_claim = self.config.person_claim.as_str();
        let person = match claims.get(person_claim) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            _ => {
                return Err(Error::Invalid(format!(
                    "the ID token has no {person_claim:?} claim: ask for a scope that carries it, or set the person claim"
                )))
            }
        };
        // An address the provider has not verified could be anyone's: it would let a user
        // who may set their own address at the provider take over a Custodian account.
        if person_claim == "email" {
            let verified = matches!(claims.get("email_verified"), Some(Value::Bool(true)))
                || claims.get("email_verified").and_then(Value::as_str) == Some("true");
            if !verified {
                return Err(Error::Invalid(format!(
                    "the identity provider does not say it has verified the e-mail address {person} (email_verified)"
                )));
            }
        }
        let person = if person.contains('@') {
            person.to_lowercase()
        } else {
            person
        };
        let roles = self.config.role_claim.as_ref().map(|claim| {
            let map = &self.config.role_map;
            let values: Vec<&str> = match claims.get(claim) {
                Some(Value::String(s)) if map.contains_key(s.as_str()) => vec![s.as_str()],
                Some(Value::String(s)) => s.split_whitespace().collect(),
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            values
                .into_iter()
                .filter_map(|v| {
                    // With a map, only the groups it names count: a group that merely
                    // happens to be called "admin" grants nothing.
                    if map.is_empty() {
                        Some(v.to_string())
                    } else {
                        map.get(v).cloned()
                    }
                })
                .collect()
        });
        Ok(Identity {
            subject: format!("{}|{sub}", self.config.issuer),
            person,
            name: claims.get("name").and_then(Value::as_str).map(String::from),
            roles,
            mfa: multi_factor(claims),
        })
    }

    /// The provider's metadata, from cache or its discovery document.
    async fn metadata(&self) -> Result<Arc<Metadata>, Error> {
        if let Ok(c) = self.cache.lock() {
            if let Some((at, m)) = &c.metadata {
                if at.elapsed() < METADATA_TTL {
                    return Ok(m.clone());
                }
            }
        }
        if let Ok(c) = self.cache.lock() {
            if let Some((at, why)) = &c.failed {
                if at.elapsed() < FAILURE_PAUSE {
                    return Err(Error::Provider(why.clone()));
                }
            }
        }
        let base = self.config.issuer.trim_end_matches('/');
        let url = format!("{base}/.well-known/openid-configuration");
        let fetched = match self.get_json(&url, "the discovery document").await {
            Ok(doc) => self.read_metadata(&doc),
            Err(e) => Err(e),
        };
        let Ok(mut c) = self.cache.lock() else {
            return fetched.map(Arc::new);
        };
        match fetched {
            Ok(meta) => {
                let meta = Arc::new(meta);
                c.metadata = Some((Instant::now(), meta.clone()));
                c.failed = None;
                Ok(meta)
            }
            Err(e) => {
                let why = match &e {
                    Error::Provider(m)
                    | Error::Config(m)
                    | Error::Invalid(m)
                    | Error::Refused(m) => m.clone(),
                };
                c.failed = Some((Instant::now(), why));
                Err(e)
            }
        }
    }

    fn read_metadata(&self, doc: &Value) -> Result<Metadata, Error> {
        let field = |k: &str| -> Result<Url, Error> {
            let text = doc
                .get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| Error::Provider(format!("the discovery document has no {k}")))?;
            parse_url(k, text).map_err(Error::Provider)
        };
        let issuer = doc.get("issuer").and_then(Value::as_str).unwrap_or("");
        if issuer != self.config.issuer {
            return Err(Error::Provider(format!(
                "the discovery document names the issuer {issuer:?}, not the configured {:?}",
                self.config.issuer
            )));
        }
        let list = |k: &str| -> Option<Vec<&str>> {
            doc.get(k)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
        };
        if let Some(methods) = list("code_challenge_methods_supported") {
            if !methods.contains(&"S256") {
                return Err(Error::Provider(
                    "the provider does not support PKCE with S256".into(),
                ));
            }
        }
        let secret_in_body = list("token_endpoint_auth_methods_supported").is_some_and(|m| {
            !m.contains(&"client_secret_basic") && m.contains(&"client_secret_post")
        });
        Ok(Metadata {
            authorization_endpoint: field("authorization_endpoint")?,
            token_endpoint: field("token_endpoint")?,
            jwks_uri: field("jwks_uri")?,
            secret_in_body,
        })
    }

    /// The provider's signing keys; `fresh` fetches them again (not more often than
    /// [`JWKS_MIN_REFRESH`]).
    async fn keys(&self, fresh: bool) -> Result<Arc<Vec<Jwk>>, Error> {
        if let Ok(c) = self.cache.lock() {
            if let Some((at, k)) = &c.keys {
                if (!fresh && at.elapsed() < JWKS_TTL) || at.elapsed() < JWKS_MIN_REFRESH {
                    return Ok(k.clone());
                }
            }
        }
        let meta = self.metadata().await?;
        let doc = self.get_json(meta.jwks_uri.as_str(), "the key set").await?;
        let keys = Arc::new(Jwk::set(&doc));
        if keys.is_empty() {
            return Err(Error::Provider(
                "the provider publishes no signing key Custodian can use (RS256, PS256 or ES256)"
                    .into(),
            ));
        }
        if let Ok(mut c) = self.cache.lock() {
            c.keys = Some((Instant::now(), keys.clone()));
        }
        Ok(keys)
    }

    async fn get_json(&self, url: &str, what: &str) -> Result<Value, Error> {
        let answer = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| Error::Provider(format!("{what} ({url}): {}", without_url(&e))))?;
        if !answer.status().is_success() {
            return Err(Error::Provider(format!(
                "{what} ({url}) answered {}",
                answer.status()
            )));
        }
        read_json(answer, what).await
    }
}

/// An HTTP error's message without the URL (which may carry a code).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

/// Reads a JSON object of at most [`MAX_ANSWER`] bytes.
async fn read_json(mut answer: reqwest::Response, what: &str) -> Result<Value, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|e| Error::Provider(format!("{what}: {}", without_url(&e))))?
    {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(Error::Provider(format!("{what}: the answer is too large")));
        }
        body.extend_from_slice(&chunk);
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(Error::Provider(format!(
            "{what}: the answer is not a JSON object"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config {
            issuer: "https://id.example.com".into(),
            client_id: "custodian".into(),
            client_secret: "s3cret value".into(),
            redirect_uri: "https://custodian.example.com/api/v1/session/oidc/callback".into(),
            scopes: vec!["email".into(), "profile".into()],
            person_claim: "email".into(),
            role_claim: Some("groups".into()),
            role_map: [("it-admins".to_string(), "admin".to_string())].into(),
        }
    }

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn issuers_and_redirects_must_be_https_except_on_localhost() {
        let mut c = config();
        c.issuer = "http://id.example.com".into();
        assert!(matches!(Client::new(c), Err(Error::Config(m)) if m.contains("https")));
        let mut c = config();
        c.issuer = "http://127.0.0.1:4000".into();
        assert!(Client::new(c).is_ok());
        let mut c = config();
        c.redirect_uri = "ftp://x".into();
        assert!(Client::new(c).is_err());
        let mut c = config();
        c.client_secret = String::new();
        assert!(Client::new(c).is_err());
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let c = Client::new(config()).expect("client");
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert!(local_path("/assets?kind=data"));
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "", "x"] {
            assert!(!local_path(bad), "{bad}");
        }
    }

    #[test]
    fn claims_become_an_identity() {
        let c = Client::new(config()).expect("client");
        let claims = serde_json::json!({
            "sub": "u-1", "email": "Alice@Example.com", "email_verified": true, "name": "Alice",
            "groups": ["it-admins", "staff", "admin"], "amr": ["pwd", "otp"],
        });
        let id = c
            .identity(claims.as_object().expect("object"))
            .expect("identity");
        assert_eq!(id.subject, "https://id.example.com|u-1");
        assert_eq!(id.person, "alice@example.com");
        // With a role map, only mapped groups count: a group called "admin" grants nothing.
        assert_eq!(id.roles, Some(vec!["admin".to_string()]));
        assert!(id.mfa);

        for unverified in [
            serde_json::json!({"sub": "u-1", "email": "a@example.com", "email_verified": false}),
            serde_json::json!({"sub": "u-1", "email": "a@example.com"}),
            serde_json::json!({"sub": "u-1", "email": "a@example.com", "email_verified": "false"}),
        ] {
            let e = c
                .identity(unverified.as_object().expect("object"))
                .unwrap_err();
            assert!(e.to_string().contains("verified"), "{e}");
        }
        let mut unmapped = config();
        unmapped.role_map.clear();
        let c2 = Client::new(unmapped).expect("client");
        let claims = serde_json::json!({"sub": "u", "email": "a@x.example", "email_verified": true, "groups": "manager staff"});
        let id = c2
            .identity(claims.as_object().expect("object"))
            .expect("identity");
        assert_eq!(
            id.roles,
            Some(vec!["manager".to_string(), "staff".to_string()])
        );
        assert!(!id.mfa);
        let missing = serde_json::json!({"sub": "u-1"});
        let e = c
            .identity(missing.as_object().expect("object"))
            .unwrap_err();
        assert!(e.to_string().contains("\"email\""), "{e}");
    }

    #[test]
    fn client_credentials_are_form_encoded_for_basic_authentication() {
        assert_eq!(form_encode("a+b c/é"), "a%2Bb%20c%2F%C3%A9");
    }
}

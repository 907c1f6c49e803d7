//! Single sign-on against a real OpenID provider (`tests/oidc-provider`, the npm package
//! `oidc-provider`), started for each test and driven over HTTP as a browser would.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::json;

use custodian_app::Settings;

use crate::common::{account, free_port, start_with, Server};
use crate::on_both;

const CLIENT_ID: &str = "custodian";
const CLIENT_SECRET: &str = "test-secret-0123456789";

/// The provider, stopped when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts the provider with these accounts (`sub=…,email=…,role=…`).
    fn start(redirect_uri: &str, accounts: &[&str]) -> Provider {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "the test OpenID provider is not installed: run `npm ci` in {} (scripts/test does)",
            dir.display()
        );
        let mut cmd = Command::new("node");
        cmd.current_dir(&dir).args([
            "provider.mjs",
            "--port",
            "0",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
            "--redirect-uri",
            redirect_uri,
            "--exit-with-stdin",
        ]);
        for a in accounts {
            cmd.args(["--account", a]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs (install Node.js 20 or later)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the provider starts");
        let issuer = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
            .to_string();
        Provider { child, issuer }
    }
}

/// A browser: no automatic redirects, cookies kept by hand per site.
struct Browser {
    http: reqwest::Client,
    jars: HashMap<String, HashMap<String, String>>,
}

/// What a request got.
struct Got {
    status: StatusCode,
    location: String,
    set_cookies: Vec<String>,
    body: String,
}

impl Browser {
    fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            jars: HashMap::new(),
        }
    }

    fn site(url: &str) -> String {
        let u = reqwest::Url::parse(url).expect("url");
        format!("{}:{}", u.host_str().unwrap_or(""), u.port().unwrap_or(80))
    }

    fn cookie(&self, url: &str, name: &str) -> Option<String> {
        self.jars.get(&Self::site(url))?.get(name).cloned()
    }

    fn forget(&mut self, url: &str, name: &str) {
        if let Some(j) = self.jars.get_mut(&Self::site(url)) {
            j.remove(name);
        }
    }

    async fn send(&mut self, method: Method, url: &str, form: Option<&[(&str, &str)]>) -> Got {
        let site = Self::site(url);
        let jar = self.jars.entry(site.clone()).or_default();
        let cookies = jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut req = self.http.request(method, url);
        if !cookies.is_empty() {
            req = req.header("cookie", cookies);
        }
        if let Some(f) = form {
            req = req.form(f);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let set_cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect();
        let jar = self.jars.entry(site).or_default();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                let expired = c.contains("Max-Age=0") || c.contains("expires=Thu, 01 Jan 1970");
                if v.is_empty() || expired {
                    jar.remove(k);
                } else {
                    jar.insert(k.to_string(), v.to_string());
                }
            }
        }
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let location = if location.starts_with('/') {
            reqwest::Url::parse(url)
                .and_then(|u| u.join(&location))
                .map(|u| u.to_string())
                .unwrap_or(location)
        } else {
            location
        };
        Got {
            status,
            location,
            set_cookies,
            body: res.text().await.unwrap_or_default(),
        }
    }

    async fn get(&mut self, url: &str) -> Got {
        self.send(Method::GET, url, None).await
    }
}

struct Sso {
    server: Server,
    provider: Provider,
}

/// A server with single sign-on through a fresh provider holding these accounts.
async fn sso(backend: &str, accounts: &[&str]) -> Sso {
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let callback = format!("{public}/api/v1/session/oidc/callback");
    let provider = Provider::start(&callback, accounts);
    let client = custodian_oidc::Client::new(custodian_oidc::Config {
        issuer: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri: callback,
        scopes: vec!["email".into(), "profile".into()],
        person_claim: "email".into(),
        role_claim: Some("custodian_role".into()),
        role_map: [
            ("it-admins".to_string(), "admin".to_string()),
            ("it-ops".to_string(), "manager".to_string()),
        ]
        .into(),
    })
    .expect("client");
    let server = start_with(
        backend,
        port,
        Settings {
            public_url: public,
            ..Settings::default()
        },
        custodian_web::Options {
            sso: Some(Arc::new(client)),
            ..Default::default()
        },
    )
    .await;
    Sso { server, provider }
}

impl Sso {
    /// Starts a sign-in at Custodian: the provider's authorization URL.
    async fn begin(&self, b: &mut Browser, return_to: &str) -> String {
        let got = b
            .get(&format!(
                "{}/api/v1/session/oidc?return_to={return_to}",
                self.server.url
            ))
            .await;
        assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
        assert!(
            got.location.starts_with(&self.provider.issuer),
            "{}",
            got.location
        );
        got.location
    }

    /// Signs in at the provider: the URL it sends the browser back to.
    async fn at_provider(&self, b: &mut Browser, auth_url: &str, login: &str) -> String {
        let got = b.get(auth_url).await;
        assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
        let interaction = got.location;
        let got = b
            .send(
                Method::POST,
                &format!("{interaction}/login"),
                Some(&[("login", login), ("password", "secret")]),
            )
            .await;
        assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
        let got = b.get(&got.location).await;
        assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
        got.location
    }

    /// The whole sign-in: what Custodian's callback answered.
    async fn sign_in(&self, b: &mut Browser, login: &str) -> Got {
        let auth = self.begin(b, "/assets").await;
        let back = self.at_provider(b, &auth, login).await;
        assert!(back.starts_with(&self.server.url), "{back}");
        b.get(&back).await
    }

    /// Who the browser's session belongs to.
    async fn me(&self, b: &Browser) -> serde_json::Value {
        let cookie = b
            .cookie(&self.server.url, "custodian_session")
            .expect("a session cookie");
        let a = self
            .server
            .call_bare(
                Method::GET,
                "/api/v1/session",
                None,
                &[("cookie", &format!("custodian_session={cookie}"))],
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }
}

async fn register_person(s: &Server, name: &str, email: &str, status: &str) -> String {
    let a = s
        .post(
            "/api/v1/parties",
            json!({"kind": "person", "name": name, "email": email, "status": status}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["id"].as_str().expect("id").to_string()
}

async fn single_sign_on_signs_in_people_of_the_register(backend: &str) {
    let t = sso(
        backend,
        &[
            "sub=alice-1,email=Alice@Example.com,name=Alice Admin,role=it-admins",
            "sub=bob-1,email=bob@example.com,name=Bob Manager,role=it-ops",
            "sub=erin-1,email=erin@example.com,name=Erin Member",
        ],
    )
    .await;
    let s = &t.server;
    let alice = register_person(s, "Alice Admin", "alice@example.com", "active").await;
    register_person(s, "Bob Manager", "bob@example.com", "active").await;
    register_person(s, "Erin Member", "erin@example.com", "active").await;
    // Bob already has a password account; Erin is a manager in Custodian.
    let bob = account(&s.app, "bob@example.com", "member", None).await;
    account(&s.app, "erin@example.com", "manager", None).await;

    // The start sends the browser to the provider with PKCE (S256), state and nonce, and
    // keeps the flow in a sealed, HttpOnly cookie.
    let mut b = Browser::new();
    let auth = t.begin(&mut b, "/assets").await;
    let url = reqwest::Url::parse(&auth).expect("url");
    let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert!(q["scope"].split(' ').any(|x| x == "openid"));
    assert!(q["state"].len() >= 32 && q["nonce"].len() >= 32);
    let flow = b.cookie(&s.url, "custodian_oidc").expect("the flow cookie");
    assert!(!flow.contains(&q["state"]), "the flow cookie is sealed");

    // Alice has no account: one is made for her person, with the role the provider gives
    // through the role map; she lands where she was going.
    let back = t.at_provider(&mut b, &auth, "alice@example.com").await;
    let got = b.get(&back).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
    assert_eq!(got.location, format!("{}/assets", s.url));
    let session_cookie = got
        .set_cookies
        .iter()
        .find(|c| c.starts_with("custodian_session="))
        .expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    assert!(
        b.cookie(&s.url, "custodian_oidc").is_none(),
        "the flow is spent"
    );
    let me = t.me(&b).await;
    assert_eq!(me["user"]["email"], "alice@example.com");
    assert_eq!(me["user"]["role"], "admin");
    assert_eq!(me["user"]["person_id"], alice.as_str());
    assert_eq!(me["user"]["sso_linked"], true);
    assert_eq!(me["via"], "session");
    let alice_id = me["user"]["id"].as_str().expect("id").to_string();

    // Signing in again finds the same account through the provider's subject.
    let mut b2 = Browser::new();
    let got = t.sign_in(&mut b2, "alice-1").await;
    assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
    assert_eq!(t.me(&b2).await["user"]["id"], alice_id.as_str());

    // Bob's existing account is linked by its e-mail address and keeps its id; the
    // provider's role replaces Custodian's.
    let mut b3 = Browser::new();
    let got = t.sign_in(&mut b3, "bob@example.com").await;
    assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
    let me = t.me(&b3).await;
    assert_eq!(me["user"]["id"], bob.id.to_string());
    assert_eq!(me["user"]["role"], "manager");

    // Erin's provider account names no role: the least one.
    let mut b4 = Browser::new();
    let got = t.sign_in(&mut b4, "erin@example.com").await;
    assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
    assert_eq!(t.me(&b4).await["user"]["role"], "member");

    // The session works for the API, and the trail tells who signed in how.
    let events = s.get("/api/v1/audit?limit=500").await.body.to_string();
    assert!(events.contains("single sign-on"), "{events}");
    assert!(events.contains("identity provider"), "{events}");
    assert!(events.contains("user.role_changed"), "{events}");
    assert!(!events.contains(CLIENT_SECRET));
}

async fn single_sign_on_refuses_what_it_cannot_trust(backend: &str) {
    let t = sso(
        backend,
        &[
            "sub=mallory-1,email=mallory@elsewhere.example,name=Mallory",
            "sub=carol-1,email=carol@example.com,name=Carol Leaver",
            "sub=dave-1,email=dave@example.com,name=Dave",
            "sub=adam-1,email=adam@example.com,name=Adam Admin,role=it-admins",
        ],
    )
    .await;
    let s = &t.server;
    register_person(s, "Carol Leaver", "carol@example.com", "left").await;
    register_person(s, "Dave", "dave@example.com", "active").await;
    register_person(s, "Adam Admin", "adam@example.com", "active").await;
    let callback = format!("{}/api/v1/session/oidc/callback", s.url);

    // Someone the register does not know.
    let mut b = Browser::new();
    let got = t.sign_in(&mut b, "mallory@elsewhere.example").await;
    assert_eq!(got.status, StatusCode::FORBIDDEN, "{}", got.body);
    assert!(
        got.body.contains("no person in the register"),
        "{}",
        got.body
    );
    assert!(b.cookie(&s.url, "custodian_session").is_none());

    // A person who has left.
    let mut b = Browser::new();
    let got = t.sign_in(&mut b, "carol@example.com").await;
    assert_eq!(got.status, StatusCode::FORBIDDEN, "{}", got.body);
    assert!(got.body.contains("has left"), "{}", got.body);

    // A state that is not this browser's (a forged or crossed callback).
    let mut b = Browser::new();
    let auth = t.begin(&mut b, "/").await;
    let back = t.at_provider(&mut b, &auth, "dave@example.com").await;
    let mut forged = reqwest::Url::parse(&back).expect("url");
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "state" {
                (k, "forged".into())
            } else {
                (k, v)
            }
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let got = b.get(forged.as_str()).await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST, "{}", got.body);
    assert!(got.body.contains("state"), "{}", got.body);

    // A callback in a browser that never started a sign-in here.
    let mut b = Browser::new();
    let auth = t.begin(&mut b, "/").await;
    let back = t.at_provider(&mut b, &auth, "dave@example.com").await;
    b.forget(&s.url, "custodian_oidc");
    let got = b.get(&back).await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST, "{}", got.body);
    assert!(got.body.contains("no sign-in under way"), "{}", got.body);

    // A code used twice: the provider refuses the second exchange.
    let mut b = Browser::new();
    let auth = t.begin(&mut b, "/").await;
    let flow = b.cookie(&s.url, "custodian_oidc").expect("flow");
    let back = t.at_provider(&mut b, &auth, "dave@example.com").await;
    let got = b.get(&back).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
    let mut replay = Browser::new();
    replay
        .jars
        .entry(Browser::site(&s.url))
        .or_default()
        .insert("custodian_oidc".into(), flow);
    let got = replay.get(&back).await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST, "{}", got.body);
    assert!(got.body.contains("refused the code"), "{}", got.body);

    // The user gives up at the provider.
    let mut b = Browser::new();
    let auth = t.begin(&mut b, "/").await;
    let interaction = b.get(&auth).await.location;
    let resume = b.get(&format!("{interaction}/abort")).await.location;
    let back = b.get(&resume).await.location;
    assert!(back.starts_with(&callback), "{back}");
    let got = b.get(&back).await;
    assert_eq!(got.status, StatusCode::FORBIDDEN, "{}", got.body);
    assert!(got.body.contains("refused"), "{}", got.body);

    // Only paths of Custodian's own are followed afterwards.
    let mut b = Browser::new();
    let auth = t.begin(&mut b, "https://evil.example/").await;
    let back = t.at_provider(&mut b, &auth, "dave-1").await;
    let got = b.get(&back).await;
    assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
    assert_eq!(got.location, format!("{}/", s.url));

    let events = s.get("/api/v1/audit?limit=500").await.body.to_string();
    assert!(events.contains("no such person"), "{events}");
    assert!(events.contains("person has left"), "{events}");

    // When admins must have a second factor, an admin gets in only when the provider
    // says one was used (this provider does not).
    s.app
        .update_security_settings(
            &custodian_app::Ctx::system(),
            json!({"require_totp_for_admins": true})
                .as_object()
                .expect("object"),
        )
        .await
        .expect("setting");
    let mut b = Browser::new();
    let got = t.sign_in(&mut b, "adam@example.com").await;
    assert_eq!(got.status, StatusCode::FORBIDDEN, "{}", got.body);
    assert!(got.body.contains("second factor"), "{}", got.body);
}

async fn without_configuration_single_sign_on_says_so(backend: &str) {
    let s = crate::common::start(backend).await;
    for path in [
        "/api/v1/session/oidc",
        "/api/v1/session/oidc/callback?code=x&state=y",
    ] {
        let a = s.call_bare(Method::GET, path, None, &[]).await;
        a.problem(404);
        assert!(
            a.body["detail"]
                .as_str()
                .unwrap_or("")
                .contains("not configured"),
            "{}",
            a.body
        );
    }
}

on_both!(
    single_sign_on_signs_in_people_of_the_register,
    single_sign_on_refuses_what_it_cannot_trust,
    without_configuration_single_sign_on_says_so,
);

//! A server on a free port over a fresh database, and a client for it.

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use custodian_app::{App, Ctx, Settings};
use custodian_store_sql::SqlStore;
use custodian_testkit::TestDb;

/// Generates one `#[tokio::test]` per backend for `async fn name(backend: &str)`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name("sqlite").await })+
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name("postgres").await })+
        }
    };
}

/// A running server.
pub struct Server {
    pub url: String,
    /// Keeps the database alive while the server runs.
    _db: TestDb,
    pub http: reqwest::Client,
    /// A client that sends no credentials of its own.
    pub bare: reqwest::Client,
    /// The services behind the server (to set up accounts directly).
    pub app: App,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// An answer: status, headers and JSON body (Null when empty or not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The field names of a problem document's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// Asserts a problem document with this status.
    pub fn problem(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "{}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["title"].is_string() && self.body["detail"].is_string(),
            "{}",
            self.body
        );
        self
    }
}

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// Creates an account with [`PASSWORD`] and returns it.
pub async fn account(
    app: &App,
    email: &str,
    role: &str,
    person: Option<uuid::Uuid>,
) -> custodian_domain::account::User {
    let mut input = json!({"email": email, "role": role});
    if let Some(p) = person {
        input["person_id"] = json!(p);
    }
    app.create_user_with_password(
        &Ctx::system(),
        input.as_object().cloned().unwrap_or_default(),
        PASSWORD,
    )
    .await
    .expect("account")
}

/// A token for a user.
pub async fn token(app: &App, email: &str, scope: &str) -> String {
    let scope = custodian_domain::access::Scope::parse(scope).expect("scope");
    app.create_token_for(&Ctx::system(), email, scope, 30)
        .await
        .expect("token")
        .secret
}

/// An admin account and its write token: what the server's own client sends.
async fn admin_token(app: &App) -> String {
    account(app, "root@test.example", "admin", None).await;
    token(app, "root@test.example", "write").await
}

pub async fn start(backend: &str) -> Server {
    start_with(
        backend,
        0,
        Settings::default(),
        custodian_web::Options::default(),
    )
    .await
}

/// A free port on the loopback interface (for a server whose public URL must be known
/// before it starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A server on `port` (0: any) with these settings and edge options.
pub async fn start_with(
    backend: &str,
    port: u16,
    settings: Settings,
    options: custodian_web::Options,
) -> Server {
    let db = TestDb::new(backend).await;
    let store = SqlStore::open(&db.url).await.expect("open the database");
    let app = App::new(Arc::new(store), settings);
    app.ensure_defaults(&Ctx::system()).await.expect("defaults");
    let admin_token = admin_token(&app).await;
    let app_handle = app.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = custodian_web::serve(
            app,
            options,
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            move |a| {
                let _ = addr_tx.send(a);
            },
            async move {
                let _ = rx.await;
            },
        )
        .await;
    });
    let addr = addr_rx.await.expect("the server binds");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {admin_token}").parse().expect("header"),
    );
    Server {
        url: format!("http://{addr}"),
        _db: db,
        http: reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("client"),
        bare: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        app: app_handle,
        _stop: tx,
    }
}

impl Server {
    /// The `/metrics` text, as the admin reads it.
    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("answer")
            .text()
            .await
            .expect("text")
    }

    /// The database behind the server (to tamper with it).
    pub fn db(&self) -> &TestDb {
        &self._db
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        self.send(&self.http, method, path, body, headers).await
    }

    /// A request with no credentials but the headers given (`authorization`, `cookie`, …).
    pub async fn call_bare(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        self.send(&self.bare, method, path, body, headers).await
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = client.request(method, format!("{}{}", self.url, path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("the server answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("a body");
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value, if_match: Option<&str>) -> Answer {
        match if_match {
            Some(m) => {
                self.call(Method::PATCH, path, Some(body), &[("if-match", m)])
                    .await
            }
            None => self.call(Method::PATCH, path, Some(body), &[]).await,
        }
    }

    /// Creates a person and returns their id.
    pub async fn person(&self, name: &str) -> String {
        let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
        let a = self
            .post(
                "/api/v1/parties",
                json!({"kind": "person", "name": name, "email": email}),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["id"].as_str().expect("id").to_string()
    }

    /// Creates an asset from the policy minimum plus `extra`; returns its JSON.
    pub async fn asset(&self, owner: &str, extra: Value) -> Value {
        let mut body = json!({"kind": "physical", "name": "Laptop", "owner_id": owner, "importance": "medium", "classification": "internal"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let a = self.post("/api/v1/assets", body).await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body
    }
}

/// A GET in someone's name (their `authorization` header), answered as it comes: for
/// downloads, whose bytes and headers a test reads itself.
pub async fn get_as(s: &Server, auth: &str, path: &str) -> reqwest::Response {
    s.bare
        .get(format!("{}{path}", s.url))
        .header("authorization", auth)
        .send()
        .await
        .expect("answer")
}

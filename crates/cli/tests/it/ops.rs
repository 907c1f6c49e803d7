//! Health, metrics, the OpenAPI document and the router's own answers.

use custodian_store::AssetWrite;
use reqwest::Method;
use serde_json::Value;

use crate::common::{start, start_with};

crate::on_both!(
    health_readiness_and_metrics,
    every_documented_operation_is_served
);

async fn health_readiness_and_metrics(backend: &str) {
    let s = start(backend).await;
    assert_eq!(s.get("/healthz").await.body["status"], "ok");
    let r = s.get("/readyz").await;
    assert_eq!(r.body["database"], backend);
    s.get("/api/v1/assets").await;
    let m = s.metrics().await;
    assert!(m.contains("custodian_http_requests_total{method=\"GET\",route=\"/api/v1/assets\",status=\"200\"} 1"), "{m}");
    assert!(m.contains("custodian_assets 0"), "{m}");
    assert!(m.contains("process_resident_memory_bytes"), "{m}");
    let rid = s
        .call(
            Method::GET,
            "/healthz",
            None,
            &[("x-request-id", "abc-123")],
        )
        .await;
    assert_eq!(rid.headers["x-request-id"], "abc-123");
    s.get("/nowhere").await.problem(404);
    s.call(Method::DELETE, "/api/v1/assets", None, &[])
        .await
        .problem(405);
}

async fn every_documented_operation_is_served(backend: &str) {
    let s = start(backend).await;
    let doc = s.get("/api/v1/openapi.json").await.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let committed: Value = serde_json::from_str(include_str!("../../../../docs/openapi.json"))
        .expect("docs/openapi.json is JSON");
    assert_eq!(
        doc, committed,
        "docs/openapi.json is out of date: run UPDATE_OPENAPI=1 cargo test -p custodian-web"
    );
    let paths = doc["paths"].as_object().expect("paths");
    let mut n = 0;
    for (path, ops) in paths {
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{relation_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{key}", "no_such_level");
        for method in ops.as_object().expect("ops").keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let body = if matches!(method.as_str(), "post" | "patch") {
                Some(serde_json::json!({}))
            } else {
                None
            };
            let a = s.call(m, &concrete, body, &[]).await;
            assert_ne!(
                a.body["type"], "/problems/no-route",
                "{method} {path} is documented but not routed"
            );
            assert_ne!(
                a.status.as_u16(),
                405,
                "{method} {path} is documented but not routed"
            );
            assert!(
                a.status.as_u16() < 500,
                "{method} {path} answered {}: {}",
                a.status,
                a.body
            );
            n += 1;
        }
    }
    assert!(n > 90, "only {n} operations documented");
}

/// The port of a test server.
fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .expect("a port")
}

/// Reads until the peer closes; fails the test if that takes more than 20 s.
async fn closed(c: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut all = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(20), c.read_to_end(&mut all))
        .await
        .expect("the server closes the connection")
        .ok();
    all
}

/// A server with these connection limits.
async fn limited(limits: custodian_web::server::Limits) -> crate::common::Server {
    start_with(
        "sqlite",
        0,
        custodian_app::Settings::default(),
        custodian_web::Options {
            limits,
            ..Default::default()
        },
    )
    .await
}

async fn connect(port: u16) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect")
}

/// Slow and idle clients are cut off, and connections are capped (limits made short here).
#[tokio::test]
async fn slow_and_idle_clients_are_cut_off_and_connections_capped() {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits = custodian_web::server::Limits {
        header_read: Duration::from_secs(1),
        max_connections: 2,
        drain: Duration::from_secs(5),
        ..Default::default()
    };
    let s = limited(limits).await;
    let port = port_of(&s.url);

    // A client that sends nothing, and one that trickles its headers, are closed.
    let mut silent = connect(port).await;
    assert!(closed(&mut silent).await.is_empty());
    let mut trickle = connect(port).await;
    let writer = async {
        for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
            .iter()
            .chain(b"a".repeat(100).iter())
        {
            if trickle.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    writer.await;
    assert!(
        closed(&mut trickle).await.is_empty(),
        "no answer to a trickled request"
    );

    // A kept-alive connection is closed once idle.
    let mut idle = connect(port).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut first = [0u8; 15];
    idle.read_exact(&mut first).await.expect("an answer");
    assert_eq!(&first, b"HTTP/1.1 200 OK");
    closed(&mut idle).await;

    // A body trickled slower than the body deadline is refused, with the headers.
    let s2 = limited(custodian_web::server::Limits {
        body_read: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    let mut slow = connect(port_of(&s2.url)).await;
    slow.write_all(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .expect("write");
    let answer = String::from_utf8_lossy(&closed(&mut slow).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("content-security-policy"), "{answer}");

    // With two connections open, a third waits until one closes.
    let limits = custodian_web::server::Limits {
        header_read: Duration::from_secs(60),
        max_connections: 2,
        drain: Duration::from_secs(5),
        ..Default::default()
    };
    let s = limited(limits).await;
    let port = port_of(&s.url);
    let hold_a = connect(port).await;
    let _hold_b = connect(port).await;
    let mut third = connect(port).await;
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 15];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read_exact(&mut buf)).await;
    assert!(early.is_err(), "served beyond the cap");
    drop(hold_a);
    let answer = closed(&mut third).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200 OK"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

/// Every answer carries the security headers: those hyper writes itself for requests it
/// cannot parse, the sign-in form's refusal of a large body, and the router's; the style
/// sheet alone may be cached, as the README says.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    use tokio::io::AsyncWriteExt;
    let s = start("sqlite").await;
    let port = port_of(&s.url);
    let mut c = connect(port).await;
    let long = format!(
        "GET /api/v1/assets?q={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    c.write_all(long.as_bytes()).await.expect("write");
    let answer = String::from_utf8_lossy(&closed(&mut c).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 414"), "{answer}");
    for h in [
        "content-security-policy: default-src 'self'",
        "x-content-type-options: nosniff",
        "x-frame-options: DENY",
        "referrer-policy: same-origin",
        "cache-control: no-store",
    ] {
        assert!(answer.contains(h), "{h} in {answer}");
    }

    let big = s
        .bare
        .post(format!("{}/sign-in", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a".repeat(3 * 1024 * 1024))
        .send()
        .await
        .expect("answer");
    assert_eq!(big.status().as_u16(), 413);
    assert_eq!(big.headers()["content-type"], "application/problem+json");
    assert!(big.headers().contains_key("content-security-policy"));
    assert_eq!(big.headers()["x-frame-options"], "DENY");

    for (path, cache) in [
        ("/static/app.css", "public, max-age=300"),
        ("/static/app.js", "public, max-age=300"),
        ("/sign-in", "no-store"),
        ("/healthz", "no-store"),
    ] {
        let r = s
            .bare
            .get(format!("{}{path}", s.url))
            .send()
            .await
            .expect("answer");
        assert_eq!(r.headers()["cache-control"], cache, "{path}");
        assert!(
            r.headers().contains_key("content-security-policy"),
            "{path}"
        );
    }
}

/// A failure inside the server is logged under its request id; the client gets a problem
/// document carrying that id and nothing of the internal message.
#[tokio::test]
async fn an_internal_failure_names_its_request_id_and_nothing_inside() {
    use custodian_store::{ChangeSet, Write};
    let s = start("sqlite").await;
    let owner = s.person("Ada Owner").await;
    let a = s
        .asset(
            &owner,
            serde_json::json!({"kind": "software", "name": "CAD", "licence_key": "K-1"}),
        )
        .await;
    let id: uuid::Uuid = a["id"].as_str().expect("id").parse().expect("uuid");
    // A licence key sealed under a key this server does not hold cannot be opened.
    let mut stored = s
        .app
        .store()
        .asset(id)
        .await
        .expect("read")
        .expect("the asset");
    let version = stored.version;
    stored.attrs.insert(
        "licence_key".into(),
        Value::String("v1:0badc0de:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()),
    );
    s.app
        .store()
        .commit(ChangeSet::one(
            Write::Asset(AssetWrite::UpdateAsset {
                asset: Box::new(stored),
                expected_version: version,
            }),
            custodian_domain::audit::NewEvent::new(
                &custodian_domain::audit::Actor::System,
                "asset.updated",
                "asset",
                id,
                serde_json::json!({}),
                None,
                custodian_domain::now(),
            ),
        ))
        .await
        .expect("stored");
    let r = s
        .call(
            Method::POST,
            &format!("/api/v1/assets/{id}/reveal"),
            Some(serde_json::json!({"field": "licence_key"})),
            &[("x-request-id", "probe-500")],
        )
        .await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.body["request_id"], "probe-500");
    assert_eq!(r.headers["x-request-id"], "probe-500");
    let text = r.body.to_string();
    assert!(text.contains("request id probe-500"), "{text}");
    assert!(
        !text.contains("0badc0de") && !text.contains("sealed"),
        "{text}"
    );
}

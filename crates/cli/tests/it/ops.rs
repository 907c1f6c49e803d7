//! Health, metrics, the OpenAPI document and the router's own answers.

use reqwest::Method;
use serde_json::Value;

use crate::common::start;

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
    let m = s
        .http
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("text");
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
    assert_eq!(n, custodian_web::openapi::OPS.len());
}

//! Compliance measurement over HTTP: findings follow the register's changes (opened,
//! resolved, reopened, excepted) through the incremental evaluation, the effective level
//! reaches two links deep, members see their own findings, and a day's snapshot is kept
//! once.

use serde_json::{json, Value};

use crate::common::{start, Answer, Server};
use crate::on_both;
use crate::workflows::{id_of, person};

/// The findings of `check` about `subject`, as the admin sees them.
async fn findings(s: &Server, check: &str, subject: &str) -> Vec<Value> {
    let a = s
        .get(&format!(
            "/api/v1/compliance/findings?check_id={check}&subject_id={subject}"
        ))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["items"].as_array().cloned().unwrap_or_default()
}

async fn one(s: &Server, check: &str, subject: &str) -> Value {
    let f = findings(s, check, subject).await;
    assert_eq!(f.len(), 1, "{check} {subject}: {f:?}");
    f[0].clone()
}

/// Brings the findings up to date as the scheduled job does; answers whether it was a
/// full evaluation.
async fn catch_up(s: &Server) -> bool {
    s.app.catch_up_compliance().await.expect("evaluation").full
}

fn kpi<'a>(k: &'a Answer, check: &str) -> &'a Value {
    k.body["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|x| x["check_id"] == check))
        .unwrap_or_else(|| panic!("{check}: {}", k.body))
}

async fn findings_follow_the_register(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let adam = person(&s, "Adam Admin", "admin").await;
    let bob = person(&s, "Bob Member", "member").await;
    let laptop = s
        .asset(
            &bob.id,
            json!({"name": "ThinkPad", "classification": "restricted", "encrypted": false, "serial_number": "TP-1"}),
        )
        .await;
    let lid = laptop["id"].as_str().expect("id").to_string();
    let other = s.asset(&ann.id, json!({"name": "Printer"})).await;
    let oid = other["id"].as_str().expect("id").to_string();

    // A run evaluates everything (the scheduled job may have kept today's snapshot
    // already, when the server started).
    let run = ann.post("/api/v1/compliance/run", json!({})).await;
    assert_eq!(run.status, 200, "{}", run.body);
    assert_eq!(run.body["full"], true);
    let f = one(&s, "encrypted", &lid).await;
    assert_eq!(f["status"], "open");
    assert_eq!(f["owner_id"], bob.id.as_str());
    assert_eq!(f["owner_name"], "Bob Member");
    assert_eq!(f["subject_name"], "AST-000001 ThinkPad");
    assert!(
        f["message"]
            .as_str()
            .expect("message")
            .contains("Restricted"),
        "{f}"
    );
    assert!(f["controls"]
        .as_array()
        .expect("controls")
        .contains(&json!("A.8.1")));
    let first_failed = f["first_failed_at"].clone();
    let fid = f["id"].as_str().expect("id").to_string();
    let k = s.get("/api/v1/compliance/kpis").await;
    assert_eq!(kpi(&k, "encrypted")["fail"], 1, "{}", k.body);
    assert_eq!(kpi(&k, "encrypted")["not_applicable"], 1);

    // Encrypting it resolves the finding on the next (incremental) run.
    let etag = s.get(&format!("/api/v1/assets/{lid}")).await.etag();
    let p = s
        .patch(
            &format!("/api/v1/assets/{lid}"),
            json!({"encrypted": true}),
            Some(&etag),
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        !catch_up(&s).await,
        "a change is followed, not a full evaluation"
    );
    let f = one(&s, "encrypted", &lid).await;
    assert_eq!(f["status"], "resolved");
    assert!(f["resolved_at"].is_string());
    let k = s.get("/api/v1/compliance/kpis").await;
    assert_eq!(kpi(&k, "encrypted")["pass"], 1);
    assert_eq!(kpi(&k, "encrypted")["fail"], 0);

    // Failing again reopens the same finding; its first failure and history are kept.
    let etag = s.get(&format!("/api/v1/assets/{lid}")).await.etag();
    s.patch(
        &format!("/api/v1/assets/{lid}"),
        json!({"encrypted": false}),
        Some(&etag),
    )
    .await;
    catch_up(&s).await;
    let f = one(&s, "encrypted", &lid).await;
    assert_eq!(f["status"], "open");
    assert_eq!(f["id"], fid.as_str());
    assert_eq!(f["first_failed_at"], first_failed);

    // An approved exception naming the check makes it excepted: counted apart.
    let soon = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(30)).to_string();
    let x = ann
        .post(
            "/api/v1/exceptions",
            json!({"rule": "encrypted", "asset_ids": [lid], "justification": "Replacement on order",
                   "compensating_controls": "Kept in the safe", "expires_at": soon}),
        )
        .await;
    assert_eq!(x.status, 201, "{}", x.body);
    let xid = id_of(&x);
    catch_up(&s).await;
    assert_eq!(
        one(&s, "encrypted", &lid).await["status"],
        "open",
        "requested is not approved"
    );
    let ok = adam
        .post(&format!("/api/v1/exceptions/{xid}/approve"), json!({}))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    catch_up(&s).await;
    let f = one(&s, "encrypted", &lid).await;
    assert_eq!(f["status"], "excepted");
    assert_eq!(f["exception_id"], xid.as_str());
    let k = s.get("/api/v1/compliance/kpis").await;
    assert_eq!(kpi(&k, "encrypted")["excepted"], 1);
    assert_eq!(kpi(&k, "encrypted")["pass"], 0);
    assert!(kpi(&k, "encrypted")["pass_rate"].is_null());
    // Revoked, it opens again.
    let r = ann
        .post(&format!("/api/v1/exceptions/{xid}/revoke"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    catch_up(&s).await;
    assert_eq!(one(&s, "encrypted", &lid).await["status"], "open");
    let detail = s.get(&format!("/api/v1/compliance/findings/{fid}")).await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    let history: Vec<&str> = detail.body["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| e["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(history, ["open", "resolved", "open", "excepted", "open"]);

    // A member sees only the findings of what they own or hold.
    let mine = bob.get("/api/v1/compliance/findings").await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let subjects: Vec<&str> = mine.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| f["subject_id"].as_str().unwrap_or(""))
        .collect();
    assert!(subjects.contains(&lid.as_str()), "{subjects:?}");
    assert!(!subjects.contains(&oid.as_str()), "{subjects:?}");
    bob.get(&format!(
        "/api/v1/compliance/findings/{}",
        findings(&s, "record_complete", &oid).await[0]["id"]
            .as_str()
            .expect("id")
    ))
    .await
    .problem(404);
    bob.get("/api/v1/compliance/kpis").await.problem(403);

    // Filters name what they refuse.
    let bad = s.get("/api/v1/compliance/findings?check_id=nope").await;
    bad.problem(400);
    assert_eq!(bad.error_fields(), ["check_id"]);
    s.get("/api/v1/compliance/findings?framework=nope")
        .await
        .problem(400);
    let by_control = s
        .get("/api/v1/compliance/findings?control=A.8.1&status=open")
        .await;
    assert!(by_control.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|f| f["check_id"] == "encrypted"));
    let gdpr = s.get("/api/v1/compliance/findings?framework=gdpr").await;
    assert!(gdpr.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|f| f["check_id"] == "ropa_complete" || f["check_id"] == "high_risk_mitigated"));

    // The day's snapshot is kept once: running again changes nothing kept.
    let t1 = s.get("/api/v1/compliance/trend?check_id=encrypted").await;
    assert_eq!(t1.status, 200, "{}", t1.body);
    assert_eq!(t1.body["items"].as_array().expect("points").len(), 1);
    let again = ann.post("/api/v1/compliance/run", json!({})).await;
    assert_eq!(again.body["snapshots"], 0);
    let t2 = s.get("/api/v1/compliance/trend?check_id=encrypted").await;
    assert_eq!(t1.body, t2.body);
    s.get("/api/v1/compliance/trend?from=2026-02-01&to=2026-01-01")
        .await
        .problem(400);
}

async fn the_effective_level_reaches_through_what_is_held(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    // An internal laptop contains a disk image that stores restricted data: two links.
    let laptop = s
        .asset(
            &ann.id,
            json!({"name": "Laptop", "encrypted": false, "status": "in_use"}),
        )
        .await;
    let image = s
        .asset(&ann.id, json!({"kind": "virtual", "name": "Disk image"}))
        .await;
    let data = s
        .asset(
            &ann.id,
            json!({"kind": "data", "name": "Payroll", "classification": "restricted"}),
        )
        .await;
    let (lid, iid, did) = (
        laptop["id"].as_str().expect("id").to_string(),
        image["id"].as_str().expect("id").to_string(),
        data["id"].as_str().expect("id").to_string(),
    );
    ann.post("/api/v1/compliance/run", json!({})).await;
    assert!(findings(&s, "encrypted", &lid).await.is_empty());
    for (from, to, t) in [(&lid, &iid, "contains"), (&iid, &did, "stores")] {
        let r = s
            .post(
                &format!("/api/v1/assets/{from}/relations"),
                json!({"type": t, "to_id": to}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    catch_up(&s).await;
    let f = one(&s, "encrypted", &lid).await;
    assert_eq!(f["status"], "open");
    let m = f["message"].as_str().expect("message");
    assert!(m.contains("Payroll") && m.contains("Disk image"), "{m}");
    // The disk image, a virtual device storing the restricted data itself, fails too.
    assert_eq!(one(&s, "encrypted", &iid).await["status"], "open");
    // The figures are gauges in /metrics.
    let metrics = s.metrics().await;
    for line in [
        "custodian_compliance_findings{check=\"encrypted\",status=\"open\"} 2",
        "custodian_compliance_check_pass_rate{check=\"encrypted\"} 0",
        "custodian_compliance_control_pass_rate{control=\"A.8.1\"} 0",
    ] {
        assert!(metrics.contains(line), "{line}: {metrics}");
    }

    // Disposal follows it too: clear does not meet restricted data's destroy.
    s.post(
        &format!("/api/v1/assets/{lid}/transitions"),
        json!({"to": "retired", "reason": "old"}),
    )
    .await;
    let d = s
        .post(
            &format!("/api/v1/assets/{lid}/transitions"),
            json!({"to": "disposed", "reason": "end of life", "disposal": {
                "method": "clear", "performed_by": "IT", "performed_at": "2026-01-02T10:00:00Z",
                "certificate_ref": "C-1"}}),
        )
        .await;
    d.problem(422);
    assert_eq!(d.error_fields(), ["disposal.method"]);
    assert!(d.body.to_string().contains("Payroll"), "{}", d.body);
}

/// A newcomer's demo shows every check at work: each passes somewhere, fails somewhere and
/// is excepted somewhere, but for the two that cannot (see the README).
async fn the_demo_exercises_every_check(backend: &str) {
    let s = start(backend).await;
    custodian_io::demo::populate(&s.app, &custodian_app::Ctx::system())
        .await
        .expect("the demo");
    let k = s.get("/api/v1/compliance/kpis").await;
    assert_eq!(k.status, 200, "{}", k.body);
    let mut wrong = Vec::new();
    for c in k.body["checks"].as_array().expect("checks") {
        let id = c["check_id"].as_str().unwrap_or("");
        let (pass, fail, excepted) = (
            c["pass"].as_i64(),
            c["fail"].as_i64(),
            c["excepted"].as_i64(),
        );
        // `classified` cannot fail through Custodian; the checks whose subjects are not
        // assets cannot be excepted.
        let must_fail = id != "classified";
        let must_except = !matches!(
            id,
            "classified" | "leaver_returned" | "policy_current" | "exception_current"
        );
        if pass < Some(1) || (must_fail && fail < Some(1)) || (must_except && excepted < Some(1)) {
            wrong.push(format!("{id}: {c}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

on_both!(
    findings_follow_the_register,
    the_effective_level_reaches_through_what_is_held,
    the_demo_exercises_every_check,
);

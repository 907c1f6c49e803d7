//! Reports (SPEC §12) over HTTP and from the command line: readable headings and names,
//! cells guarded against formulas, CSV and JSON, now and as the register stood, each
//! download an event.

use serde_json::{json, Value};

use crate::common::{start, Server};
use crate::on_both;
use crate::workflows::{person, Person};

on_both!(
    reports_are_readable_guarded_and_recorded,
    people_read_reports_as_documents,
);

/// The compliance report, the assets off the premises and a policy, and any report of
/// rows as HTML and PDF: documents people read, whose PDF reads back with its words.
async fn people_read_reports_as_documents(backend: &str) {
    use crate::workflows::{acceptable_use_only_warns, download, pdf_text};
    let s = start(backend).await;
    acceptable_use_only_warns(&s).await;
    let admin = person(&s, "Ann Admin", "admin").await;
    let writer = person(&s, "Wes Writer", "admin").await;
    let bob = person(&s, "Bob Holder", "member").await;
    let auditor = person(&s, "Aud Itor", "auditor").await;
    let laptop = s
        .asset(
            &bob.id,
            json!({"name": "Field laptop", "classification": "internal", "status": "in_stock", "serial_number": "FL-1"}),
        )
        .await;
    let before_issue = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let issued = admin
        .post(
            "/api/v1/assignments",
            json!({"asset_id": laptop["id"], "person_id": bob.id, "off_premises": true,
                   "expected_return_at": "2020-01-31", "notes": "Site survey"}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let run = admin.post("/api/v1/compliance/run", json!({})).await;
    assert_eq!(run.status, 200, "{}", run.body);

    // Off the premises: who holds it, since when, overdue.
    let r = json_report(&s, &auditor, "/api/v1/reports/off-premises?format=json").await;
    let rows = r["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "{r}");
    assert_eq!(rows[0]["name"], "Field laptop");
    assert_eq!(rows[0]["holder"], "Bob Holder");
    assert_eq!(rows[0]["overdue"], true);
    assert_eq!(rows[0]["notes"], "Site survey");
    // As they stood: before it was issued it had not left; before the register began
    // nothing had been measured.
    for (kind, at) in [
        ("off-premises", before_issue.as_str()),
        ("compliance", "2026-01-01T00:00:00Z"),
    ] {
        let r = json_report(
            &s,
            &auditor,
            &format!("/api/v1/reports/{kind}?format=json&as_at={at}"),
        )
        .await;
        assert_eq!(r["rows"], json!([]), "{kind}: {r}");
    }

    // Compliance: KPIs per check and control, the trend, the findings with what to do.
    let r = json_report(&s, &auditor, "/api/v1/reports/compliance?format=json").await;
    assert_eq!(r["checks"].as_array().map(Vec::len), Some(17), "{r}");
    assert!(r["controls"]
        .as_array()
        .is_some_and(|l| l.iter().any(|c| c["control"] == "A.5.9")));
    assert!(r["trend"].as_array().is_some_and(|l| !l.is_empty()), "{r}");
    let findings = r["rows"].as_array().cloned().unwrap_or_default();
    assert!(!findings.is_empty(), "{r}");
    assert!(findings
        .iter()
        .all(|f| f["status"] != "resolved" && f["remediation"].is_string()));
    assert!(
        findings.iter().any(|f| f["subject"]
            .as_str()
            .is_some_and(|x| x.ends_with("Field laptop"))),
        "{findings:?}"
    );
    let (status, pdf, _) = download(&s, &auditor, "/api/v1/reports/compliance?format=pdf").await;
    assert_eq!(status, 200);
    let text = pdf_text(&pdf);
    for words in [
        "Compliance with the Asset Management Policy",
        "KPIs per check",
        "ISO/IEC 27001:2022 controls",
        "Findings open or excepted",
        "Field laptop",
    ] {
        assert!(text.contains(words), "{words} in\n{text}");
    }
    let (_, media, html) = text_of(&s, &auditor, "/api/v1/reports/compliance").await;
    assert!(media.starts_with("text/html"), "{media}");
    assert!(html.contains("<table>") && html.contains("What to do"));
    let r =
        crate::common::get_as(&s, &auditor.auth, "/api/v1/reports/compliance?format=xlsx").await;
    assert_eq!(r.status().as_u16(), 200);
    let e = auditor.get("/api/v1/reports/compliance?format=csv").await;
    e.problem(400);
    assert_eq!(e.error_fields(), ["format"]);

    // Any report of rows as a document, laid on its side when wide.
    let (status, pdf, _) = download(&s, &auditor, "/api/v1/reports/register?format=pdf").await;
    assert_eq!(status, 200);
    let text = pdf_text(&pdf);
    assert!(
        text.contains("Asset register") && text.contains("Field laptop"),
        "{text}"
    );
    assert!(
        text.contains("Bob Holder") && !text.contains(&bob.id),
        "{text}"
    );

    // A policy: the version in force, as kept at its approval; none before it was.
    let d = writer
        .post(
            "/api/v1/policies/draft",
            json!({"document": "asset_management", "organisation": "Calder Ltd"}),
        )
        .await;
    let before = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let id = d.body["id"].as_str().expect("id").to_string();
    let a = admin
        .post(&format!("/api/v1/policies/{id}/approve"), json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let (status, pdf, digest) = download(&s, &auditor, "/api/v1/reports/policy?format=pdf").await;
    assert_eq!(status, 200);
    let (_, kept, _) = download(
        &s,
        &auditor,
        &format!("/api/v1/policies/{id}/document?format=pdf"),
    )
    .await;
    assert_eq!(pdf, kept);
    assert_eq!(digest, custodian_domain::audit::sha256_hex(&pdf));
    assert!(pdf_text(&pdf).contains("Ownership of assets"));
    let e = auditor
        .get(&format!("/api/v1/reports/policy?format=pdf&as_at={before}"))
        .await;
    e.problem(400);
    assert_eq!(e.error_fields(), ["as_at"]);
    let e = auditor.get("/api/v1/reports/policy?format=csv").await;
    e.problem(400);
    assert_eq!(e.error_fields(), ["format"]);
    let e = auditor
        .get("/api/v1/reports/register?document=acceptable_use")
        .await;
    e.problem(400);
    assert_eq!(e.error_fields(), ["document"]);
    bob.get("/api/v1/reports/policy").await.problem(403);
}

/// A report as text: status, media type and body.
async fn text_of(s: &Server, who: &Person<'_>, path: &str) -> (u16, String, String) {
    let r = crate::common::get_as(s, &who.auth, path).await;
    let status = r.status().as_u16();
    let media = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, media, r.text().await.unwrap_or_default())
}

async fn json_report(s: &Server, who: &Person<'_>, path: &str) -> Value {
    let (status, media, body) = text_of(s, who, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert!(media.starts_with("application/json"), "{media}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

async fn reports_are_readable_guarded_and_recorded(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada Owner").await;
    let hq = s
        .post("/api/v1/locations", json!({"name": "Head office"}))
        .await;
    let hq = hq.body["id"].as_str().expect("location").to_string();
    s.asset(
        &owner,
        json!({"name": "=HYPERLINK(\"http://x\")", "location_id": hq, "classification": "confidential", "serial_number": "SN-1"}),
    )
    .await;
    s.asset(
        &owner,
        json!({"kind": "data", "name": "Payroll", "contains_personal_data": true, "purpose": "Paying staff",
               "controller": "Calder Ltd", "lawful_basis": "contract", "data_subject_categories": ["employees"],
               "personal_data_categories": ["bank details", "salary"]}),
    )
    .await;
    s.asset(
        &owner,
        json!({"kind": "data", "name": "Price list", "contains_personal_data": false}),
    )
    .await;
    let expires = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(20)).to_string();
    s.asset(
        &owner,
        json!({"kind": "software", "name": "CAD suite", "licence_model": "subscription", "licences_purchased": 10,
               "licences_used": 12, "licence_expires_at": expires, "vendor": "Draft Co"}),
    )
    .await;
    // Disposed of: by a vendor, and by a person of the register.
    for (name, by) in [
        ("Old disk", "Shred Co".to_string()),
        ("Old phone", owner.clone()),
    ] {
        let a = s
            .asset(
                &owner,
                json!({"name": name, "serial_number": format!("SN-{name}")}),
            )
            .await;
        let path = format!(
            "/api/v1/assets/{}/transitions",
            a["id"].as_str().expect("id")
        );
        let r = s
            .post(&path, json!({"to": "retired", "reason": "old"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let d = s
            .post(
                &path,
                json!({"to": "disposed", "reason": "old", "disposal": {"method": "clear", "performed_by": by,
                       "performed_at": "2026-11-30T10:00:00Z", "certificate_ref": format!("C-{name}")}}),
            )
            .await;
        assert_eq!(d.status, 200, "{}", d.body);
    }
    // An exception approved, and one still asked for.
    let boss = person(&s, "Bea Boss", "admin").await;
    let laptop = s.get("/api/v1/assets?limit=1").await.body["items"][0]["id"].clone();
    let expires_x = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(60)).to_string();
    let mut exceptions = Vec::new();
    for rule in ["encrypted", "off_premises"] {
        let x = s
            .post(
                "/api/v1/exceptions",
                json!({"rule": rule, "asset_ids": [laptop], "justification": "Field work",
                       "compensating_controls": "Kept in a safe", "expires_at": expires_x}),
            )
            .await;
        assert_eq!(x.status, 201, "{}", x.body);
        exceptions.push(x.body["id"].as_str().expect("id").to_string());
    }
    let ok = boss
        .post(
            &format!("/api/v1/exceptions/{}/approve", exceptions[0]),
            json!({"notes": "Until the new laptops come"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // A leaver, whose case lists what to settle; one item settled after their last day.
    let lee = s.person("Lee Leaver").await;
    s.asset(&lee, json!({"kind": "intangible", "name": "Runbook"}))
        .await;
    let p = s
        .patch(
            &format!("/api/v1/parties/{lee}"),
            json!({"status": "notice", "end_date": "2025-01-31"}),
            None,
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let cases = s
        .get(&format!("/api/v1/offboardings?person_id={lee}"))
        .await;
    let case = cases.body["items"][0].clone();
    let revoke = case["items"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["kind"] == "revoke_access"))
        .expect("a revoke_access item")
        .clone();
    let settled = s
        .post(
            &format!(
                "/api/v1/offboardings/{}/items/{}/settle",
                case["id"].as_str().expect("id"),
                revoke["id"].as_str().expect("id")
            ),
            json!({"evidence": "Account disabled, ticket 4711"}),
        )
        .await;
    assert_eq!(settled.status, 200, "{}", settled.body);
    let then = chrono::Utc::now();
    s.asset(
        &owner,
        json!({"kind": "software", "name": "Editor", "licence_model": "open_source"}),
    )
    .await;
    let auditor = person(&s, "Ann Auditor", "auditor").await;
    crate::workflows::approve_aup(&boss, "1.0", false).await;
    let ack = auditor.post("/api/v1/acknowledgements", json!({})).await;
    assert_eq!(ack.status, 201, "{}", ack.body);

    let kinds = auditor.get("/api/v1/reports").await;
    assert_eq!(kinds.status, 200, "{}", kinds.body);
    let keys: Vec<&str> = kinds.body["items"]
        .as_array()
        .map(|l| l.iter().filter_map(|k| k["key"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "register",
            "ropa",
            "licences",
            "disposals",
            "exceptions",
            "offboarding",
            "acknowledgements",
            "compliance",
            "off-premises",
            "policy",
            "evidence"
        ]
    );

    // The register as CSV: headings as people read them, names not ids, formulas defused.
    let (status, media, csv) = text_of(&s, &auditor, "/api/v1/reports/register").await;
    assert_eq!(status, 200, "{csv}");
    assert!(media.starts_with("text/csv"), "{media}");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("Asset number,Name,Kind,Owner,Classification"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 9, "{csv}");
    assert!(csv.contains("Ada Owner") && !csv.contains(&owner), "{csv}");
    assert!(
        csv.contains("Head office") && csv.contains("Confidential"),
        "{csv}"
    );
    assert!(csv.contains("\"'=HYPERLINK("), "{csv}");

    // A workbook, for spreadsheets: a zip of its parts.
    let r = crate::common::get_as(&s, &auditor.auth, "/api/v1/reports/register?format=xlsx").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let book = r.bytes().await.expect("bytes");
    assert!(
        book.starts_with(b"PK\x03\x04") && book.len() > 1000,
        "{}",
        book.len()
    );

    // JSON for programs, with the same rows.
    let r = json_report(&s, &auditor, "/api/v1/reports/register?format=json").await;
    assert_eq!(r["report"], "register");
    assert_eq!(r["rows"].as_array().map(Vec::len), Some(8));
    assert_eq!(r["rows"][0]["owner"], "Ada Owner");
    assert_eq!(r["columns"][0]["heading"], "Asset number");

    // The record of processing: personal data only, with its completeness.
    let r = json_report(&s, &auditor, "/api/v1/reports/ropa?format=json").await;
    let rows = r["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "{r}");
    assert_eq!(rows[0]["name"], "Payroll");
    assert_eq!(rows[0]["personal_data_categories"], "bank details; salary");
    assert_eq!(rows[0]["complete"], false);
    assert!(
        rows[0]["missing"]
            .as_str()
            .unwrap_or_default()
            .contains("Retention"),
        "{}",
        rows[0]
    );

    // The licence position: over-used, paid, days left; free software is free.
    let r = json_report(&s, &auditor, "/api/v1/reports/licences?format=json").await;
    let rows = r["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 2, "{r}");
    let cad = rows
        .iter()
        .find(|x| x["name"] == "CAD suite")
        .expect("CAD suite");
    assert_eq!(cad["position"], "over");
    assert_eq!(cad["cost"], "paid");
    assert_eq!(cad["days_left"], 20);
    let editor = rows.iter().find(|x| x["name"] == "Editor").expect("Editor");
    assert_eq!(editor["cost"], "free");

    // Disposals, per serial, with who did it by name.
    let r = json_report(&s, &auditor, "/api/v1/reports/disposals?format=json").await;
    let rows = r["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 2, "{r}");
    assert_eq!(rows[0]["serial_number"], "SN-Old disk");
    assert_eq!(rows[0]["method"], "clear");
    assert_eq!(rows[0]["meets"], true);
    assert_eq!(rows[0]["performed_by"], "Shred Co");
    assert_eq!(rows[0]["certificate_ref"], "C-Old disk");
    assert_eq!(rows[1]["performed_by"], "Ada Owner");

    // The exception register: the check's title, the assets by number, who by name.
    let r = json_report(&s, &auditor, "/api/v1/reports/exceptions?format=json").await;
    let rows = r["rows"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 2, "{r}");
    assert_eq!(
        rows[0]["rule"],
        "Devices are encrypted where their level asks for it"
    );
    assert_eq!(rows[0]["assets"], "AST-000001");
    assert_eq!(rows[0]["status"], "approved");
    assert_eq!(rows[0]["in_force"], true);
    assert_eq!(rows[0]["decided_by"], "Bea Boss");
    assert_eq!(rows[0]["decision_notes"], "Until the new laptops come");
    assert_eq!(rows[1]["status"], "requested");
    assert_eq!(rows[1]["in_force"], false);
    // As they stood: none was asked for yet a year ago.
    let r = json_report(
        &s,
        &auditor,
        "/api/v1/reports/exceptions?format=json&as_at=2025-12-01T00:00:00Z",
    )
    .await;
    assert_eq!(r["rows"], json!([]), "{r}");

    // The leavers' returns: an item per row, settled late, with its evidence.
    let r = json_report(&s, &auditor, "/api/v1/reports/offboarding?format=json").await;
    let rows = r["rows"].as_array().cloned().unwrap_or_default();
    assert!(rows.len() >= 2, "{r}");
    assert!(rows
        .iter()
        .all(|x| x["person"] == "Lee Leaver" && x["case_kind"] == "leaver"));
    let done = rows
        .iter()
        .find(|x| x["item_kind"] == "revoke access")
        .expect("revoke access");
    assert_eq!(done["item_status"], "settled");
    assert_eq!(done["on_time"], false);
    assert_eq!(done["evidence"], "Account disabled, ticket 4711");
    assert_eq!(done["end_date"], "2025-01-31");

    // Who acknowledged the acceptable-use policy in force, when; who has not.
    let r = json_report(&s, &auditor, "/api/v1/reports/acknowledgements?format=json").await;
    let rows = r["rows"].as_array().cloned().unwrap_or_default();
    let ann = rows
        .iter()
        .find(|x| x["person"] == "Ann Auditor")
        .expect("Ann");
    assert_eq!(ann["acknowledged"], true);
    assert_eq!(ann["version_in_force"], "1.0");
    assert_eq!(ann["last_version"], "1.0");
    assert!(ann["acknowledged_at"].is_string());
    let ada = rows
        .iter()
        .find(|x| x["person"] == "Ada Owner")
        .expect("Ada");
    assert_eq!(ada["acknowledged"], false);
    assert!(ada["acknowledged_at"].is_null());

    // As the register stood: the last asset was not there yet.
    let at = then.format("%Y-%m-%dT%H:%M:%S%.6fZ");
    let r = json_report(
        &s,
        &auditor,
        &format!("/api/v1/reports/licences?format=json&as_at={at}"),
    )
    .await;
    assert_eq!(r["rows"].as_array().map(Vec::len), Some(1), "{r}");
    assert_eq!(r["as_at"], at.to_string());
    let r = json_report(
        &s,
        &auditor,
        "/api/v1/reports/register?format=json&kind=data",
    )
    .await;
    assert_eq!(r["rows"].as_array().map(Vec::len), Some(2));

    // Every download is an event.
    let trail = s.get("/api/v1/audit?limit=500").await;
    let downloads = trail.body["items"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|e| e["action"] == "report.downloaded")
                .count()
        })
        .unwrap_or_default();
    assert_eq!(downloads, 12);

    // Refusals name what is wrong.
    let (status, _, _) = text_of(&s, &auditor, "/api/v1/reports/nothing").await;
    assert_eq!(status, 404);
    // So is a filter that a report sets itself, or that does not describe its records,
    // rather than ignored.
    for (query, field) in [
        ("register?format=docx", "format"),
        ("register?as_at=2999-01-01T00:00:00Z", "as_at"),
        ("register?as_at=soon", "as_at"),
        ("register?colour=red", "colour"),
        ("register?kind=spaceship", "kind"),
        ("ropa?kind=software", "kind"),
        ("disposals?status=in_use", "status"),
        (
            "exceptions?owner_id=01a25018-0000-7000-8000-000000000000",
            "owner_id",
        ),
    ] {
        let e = auditor.get(&format!("/api/v1/reports/{query}")).await;
        e.problem(400);
        assert_eq!(
            e.error_fields(),
            vec![field.to_string()],
            "{query}: {}",
            e.body
        );
    }
    let member = person(&s, "Mo Member", "member").await;
    member.get("/api/v1/reports/register").await.problem(403);
    member.get("/api/v1/reports").await.problem(403);
}

//! The policy workflows over HTTP: acceptable use, custody, off-premises, exceptions,
//! software seats, and a holder reporting a loss.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{account, start, token, Answer, Server};

crate::on_both!(
    acceptable_use_versions_and_acknowledgements,
    custody_is_issued_to_acknowledged_holders_and_taken_back,
    off_premises_follows_the_classification_and_exceptions,
    software_seats_count_licences,
    holders_report_their_assets_lost_or_stolen,
    policy_approval_needs_another_admin_and_warns_before_blocking,
    a_policy_review_that_changes_nothing_is_recorded,
    a_generated_draft_follows_the_registers_settings,
    an_approved_policy_document_is_rendered_once_and_kept,
);

/// A file as its bytes and its `X-Content-SHA256`.
pub(crate) async fn download(s: &Server, who: &Person<'_>, path: &str) -> (u16, Vec<u8>, String) {
    let r = crate::common::get_as(s, &who.auth, path).await;
    let status = r.status().as_u16();
    let digest = r
        .headers()
        .get("x-content-sha256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, r.bytes().await.expect("body").to_vec(), digest)
}

/// The text of a PDF, as Poppler's `pdftotext` reads it.
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("a directory");
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, pdf).expect("written");
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (scripts/test installs poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An approved version's HTML and PDF are made once at approval: their SHA-256 is in the
/// approval event, every download is those bytes, and the PDF reads back with its section
/// headings, its header and its footer. A draft renders as it stands.
async fn an_approved_policy_document_is_rendered_once_and_kept(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let bea = person(&s, "Bea Admin", "admin").await;
    let bob = person(&s, "Bob Member", "member").await;
    acceptable_use_only_warns(&s).await;
    let d = generated_draft(&ann).await;
    let id = id_of(&d);
    let path = |f: &str| format!("/api/v1/policies/{id}/document?format={f}");

    let (status, draft_pdf, _) = download(&s, &bob, &path("pdf")).await;
    assert_eq!(status, 200);
    assert!(pdf_text(&draft_pdf).contains("not approved"));

    let a = bea
        .post(&format!("/api/v1/policies/{id}/approve"), json!({}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let trail = s.get("/api/v1/audit?limit=500").await;
    let approval = trail.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "policy.approved" && e["entity_id"] == id.as_str())
        .cloned()
        .expect("the approval event");
    let kept = &approval["changes"]["renderings"];

    for format in ["pdf", "html"] {
        let (status, first, digest) = download(&s, &bob, &path(format)).await;
        assert_eq!(status, 200, "{format}");
        let (_, again, _) = download(&s, &ann, &path(format)).await;
        assert_eq!(first, again, "{format}: every download is the same bytes");
        assert_eq!(digest, kept[format]["sha256"], "{format}: {kept}");
        assert_eq!(
            kept[format]["sha256"].as_str(),
            Some(custodian_domain::audit::sha256_hex(&first).as_str())
        );
    }
    let (_, pdf, _) = download(&s, &bob, &path("pdf")).await;
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf);
    for heading in custodian_domain::policy_draft::SECTIONS {
        assert!(text.contains(heading), "{heading} in\n{text}");
    }
    assert!(text.contains("approved by Bea Admin"), "{text}");
    let body_sha = approval["changes"]["body_sha256"].as_str().expect("digest");
    assert!(
        text.contains(&format!("Version 1.0 · text SHA-256 {}", &body_sha[..16])),
        "{text}"
    );
    assert!(text.contains("Page 1 of "), "{text}");
    let (_, html, _) = download(&s, &bob, &path("html")).await;
    let html = String::from_utf8(html).expect("utf-8");
    assert!(html.contains("Calder Ltd") && !html.contains("<!-- from:"));

    // Bad input names the parameter; an unknown version is not found.
    let r = bob
        .get(&format!("/api/v1/policies/{id}/document?format=docx"))
        .await;
    r.problem(400);
    assert!(r.body.to_string().contains("format"), "{}", r.body);
    bob.get(&format!(
        "/api/v1/policies/{}/document?format=pdf",
        uuid::Uuid::nil()
    ))
    .await
    .problem(404);
}

/// A generated draft of the Asset Management Policy for Calder Ltd, written by `who`.
async fn generated_draft(who: &Person<'_>) -> Answer {
    let d = who
        .post(
            "/api/v1/policies/draft",
            json!({"document": "asset_management", "organisation": "Calder Ltd"}),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    d
}

/// The generated first draft of the Asset Management Policy is written from the register's
/// settings, says where each clause comes from, and is a draft like any other.
async fn a_generated_draft_follows_the_registers_settings(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let bea = person(&s, "Bea Admin", "admin").await;
    let role = s
        .post(
            "/api/v1/parties",
            json!({"kind": "role", "name": "IT Manager"}),
        )
        .await;
    assert_eq!(role.status, 201, "{}", role.body);
    acceptable_use_only_warns(&s).await;

    let d = generated_draft(&ann).await;
    assert_eq!(d.body["status"], "draft");
    assert_eq!(d.body["document"], "asset_management");
    assert_eq!(d.body["number"], "1.0");
    assert_eq!(d.body["author_id"], ann.id.as_str());
    let text = d.body["body"].as_str().expect("body").to_string();
    for heading in custodian_domain::policy_draft::SECTIONS {
        assert!(text.contains(heading), "{heading}");
    }
    assert!(text.contains("Calder Ltd"));
    assert!(text.contains("The roles that own assets are: IT Manager."));
    assert!(text.contains("<!-- from: setting acceptable_use_enforcement = warn -->"));
    assert!(text.contains("| Restricted |"), "{text}");

    // The next is numbered after it; it is approved as any draft is, by another admin.
    let next = ann
        .post(
            "/api/v1/policies/draft",
            json!({"document": "asset_management"}),
        )
        .await;
    assert_eq!(next.status, 201, "{}", next.body);
    assert_eq!(next.body["number"], "2.0");
    assert!(next.body["body"]
        .as_str()
        .unwrap_or_default()
        .contains("the organisation"));
    let a = bea
        .post(
            &format!("/api/v1/policies/{}/approve", id_of(&d)),
            json!({}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);

    for (body, field) in [
        (json!({"document": "acceptable_use"}), "document"),
        (json!({}), "document"),
        (
            json!({"document": "asset_management", "colour": "red"}),
            "colour",
        ),
        (
            json!({"document": "asset_management", "organisation": ""}),
            "organisation",
        ),
    ] {
        let e = ann.post("/api/v1/policies/draft", body.clone()).await;
        e.problem(422);
        assert!(
            e.error_fields().contains(&field.to_string()),
            "{body}: {}",
            e.body
        );
    }
    let bob = person(&s, "Bob Member", "member").await;
    bob.post(
        "/api/v1/policies/draft",
        json!({"document": "asset_management"}),
    )
    .await
    .problem(403);
}

/// A review of the version in force that changes nothing is recorded as such: who, when,
/// its notes; the next review moves on a year; it is an event; the policy is current again.
async fn a_policy_review_that_changes_nothing_is_recorded(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let id = approve_aup(&ann, "1.0", false).await;
    let before = s.get(&format!("/api/v1/policies/{id}")).await;
    let path = format!("/api/v1/policies/{id}/reviews");

    let r = ann
        .post(
            &path,
            json!({"notes": "Read it through with IT: still right."}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["outcome"], "no_change");
    assert_eq!(r.body["reviewed_by"], ann.id.as_str());
    assert_eq!(r.body["notes"], "Read it through with IT: still right.");
    let next = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(365)).to_string();
    assert_eq!(r.body["next_review_at"], next.as_str());
    let after = s.get(&format!("/api/v1/policies/{id}")).await;
    assert_eq!(after.body["next_review_at"], next.as_str());
    assert_eq!(after.body["status"], "approved");
    assert_eq!(after.body["body"], before.body["body"], "the text stands");
    assert_eq!(after.body["approved_at"], before.body["approved_at"]);

    let list = s.get(&path).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["reviewed_at"], r.body["reviewed_at"]);
    let trail = s.get("/api/v1/audit?limit=500").await;
    let reviewed: Vec<&Value> = trail.body["items"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|e| e["action"] == "policy.reviewed")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(reviewed.len(), 1);
    assert_eq!(reviewed[0]["changes"]["outcome"], "no_change");
    assert_eq!(reviewed[0]["entity_id"], id.as_str());

    // A draft is approved, not reviewed; bad fields are named; a member may not review; an
    // account without a person cannot sign one.
    let d = ann
        .post(
            "/api/v1/policies",
            json!({"document": "acceptable_use", "number": "2.0", "body": "New", "effective_date": "2026-06-01"}),
        )
        .await;
    let e = ann
        .post(
            &format!("/api/v1/policies/{}/reviews", id_of(&d)),
            json!({}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), vec!["status".to_string()]);
    let e = ann.post(&path, json!({"notes": 7, "colour": "red"})).await;
    e.problem(422);
    assert_eq!(
        e.error_fields(),
        vec!["colour".to_string(), "notes".to_string()]
    );
    let bob = person(&s, "Bob Member", "member").await;
    bob.post(&path, json!({})).await.problem(403);
    let e = s.post(&path, json!({})).await;
    e.problem(422);
    assert_eq!(e.error_fields(), vec!["reviewed_by".to_string()]);
    // Stale versions are refused.
    let stale = s
        .call_bare(
            Method::POST,
            &path,
            Some(json!({})),
            &[("authorization", &ann.auth), ("if-match", &before.etag())],
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
}

/// A version's author never approves it; approving a material acceptable-use version that
/// nobody has acknowledged says first how many people it blocks from being issued anything.
async fn policy_approval_needs_another_admin_and_warns_before_blocking(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let bea = person(&s, "Bea Admin", "admin").await;
    s.person("Carl Staff").await;
    let d = ann
        .post(
            "/api/v1/policies",
            json!({"document": "acceptable_use", "number": "1.0", "material": true,
                "body": "# Acceptable use\n\nLock your screen.", "effective_date": "2026-01-01"}),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    assert_eq!(
        d.body["author_id"],
        ann.id.as_str(),
        "the drafting person by default"
    );
    let id = id_of(&d);
    let path = format!("/api/v1/policies/{id}/approve");
    let own = ann.post(&path, json!({"confirm": true})).await;
    own.problem(422);
    assert_eq!(own.error_fields(), ["approved_by"]);
    // Ann, Bea and Carl would all have to acknowledge before being issued anything.
    let warned = bea.post(&path, json!({})).await;
    warned.problem(409);
    assert_eq!(warned.error_fields(), ["confirm"]);
    let detail = warned.body["detail"].as_str().unwrap_or("");
    assert!(detail.contains("asks 3 people"), "{detail}");
    assert_eq!(
        bea.get(&format!("/api/v1/policies/{id}")).await.body["status"],
        "draft"
    );
    let ok = bea.post(&path, json!({"confirm": true})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["approved_by"], bea.id.as_str());
    // A minor version keeps earlier acknowledgements: nobody is blocked, nothing to confirm.
    let d = ann
        .post(
            "/api/v1/policies",
            json!({"document": "acceptable_use", "number": "1.1", "material": false,
                "body": "# Acceptable use\n\nLock your screen, please.", "effective_date": "2026-02-01"}),
        )
        .await;
    let minor = bea
        .post(
            &format!("/api/v1/policies/{}/approve", id_of(&d)),
            json!({}),
        )
        .await;
    assert_eq!(minor.status, 200, "{}", minor.body);
}

/// A signed-in person: their party id and a bearer token.
pub(crate) struct Person<'a> {
    pub s: &'a Server,
    pub id: String,
    pub auth: String,
}

impl Person<'_> {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.s
            .call_bare(method, path, body, &[("authorization", &self.auth)])
            .await
    }
    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }
}

/// Registers a person with an account of `role` and a write token.
pub(crate) async fn person<'a>(s: &'a Server, name: &str, role: &str) -> Person<'a> {
    let id = s.person(name).await;
    let email = format!("{}@test.example", name.to_lowercase().replace(' ', "."));
    account(&s.app, &email, role, Some(id.parse().expect("uuid"))).await;
    let t = token(&s.app, &email, "write").await;
    Person {
        s,
        id,
        auth: format!("Bearer {t}"),
    }
}

/// Drafts and approves a version of the acceptable-use policy; returns its id.
pub(crate) async fn approve_aup(admin: &Person<'_>, number: &str, material: bool) -> String {
    // Drafted by another admin: whoever wrote a version never approves it.
    let writer = person(
        admin.s,
        &format!("Writer {}", number.replace('.', " ")),
        "admin",
    )
    .await;
    let author = writer.id.clone();
    let d = writer
        .post(
            "/api/v1/policies",
            json!({"document": "acceptable_use", "number": number, "material": material, "author_id": author,
                "body": format!("# Acceptable use {number}\n\nLock your screen."), "effective_date": "2026-01-01"}),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let id = d.body["id"].as_str().expect("id").to_string();
    // A material version stops issuing to everyone who has not acknowledged it: confirmed.
    let a = admin
        .post(
            &format!("/api/v1/policies/{id}/approve"),
            json!({"confirm": material}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "approved");
    assert_eq!(a.body["approved_by"], admin.id.as_str());
    id
}

/// Sets issuing to someone who has not acknowledged the acceptable-use policy to warn.
pub(crate) async fn acceptable_use_only_warns(s: &Server) {
    let set = s
        .patch(
            "/api/v1/settings/policy",
            json!({"acceptable_use_enforcement": "warn"}),
            None,
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
}

pub(crate) fn id_of(a: &Answer) -> String {
    a.body["id"].as_str().expect("id").to_string()
}

async fn acceptable_use_versions_and_acknowledgements(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let bob = person(&s, "Bob Member", "member").await;
    let cat = s.person("Cat Contractor").await;

    // Nothing approved yet: nothing to acknowledge.
    let e = bob.post("/api/v1/acknowledgements", json!({})).await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["policy_id"]);

    // Drafts name every bad field; members may not draft.
    let e = ann
        .post(
            "/api/v1/policies",
            json!({"document": "rules", "material": "yes"}),
        )
        .await;
    e.problem(422);
    let mut fields = e.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["body", "document", "effective_date", "material", "number"]
    );
    bob.post(
        "/api/v1/policies",
        json!({"document": "acceptable_use", "number": "9", "body": "x", "effective_date": "2026-01-01"}),
    )
    .await
    .problem(403);

    let v1 = approve_aup(&ann, "1.0", true).await;
    // An approved version never changes: what people acknowledged stays what they read.
    ann.call(
        Method::PATCH,
        &format!("/api/v1/policies/{v1}"),
        Some(json!({"body": "changed"})),
    )
    .await
    .problem(422);
    // The same number twice is refused.
    let dup = ann
        .post(
            "/api/v1/policies",
            json!({"document": "acceptable_use", "number": "1.0", "body": "x", "effective_date": "2026-01-01"}),
        )
        .await;
    dup.problem(409);

    // Bob acknowledges the version in force, once.
    let a = bob.post("/api/v1/acknowledgements", json!({})).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["policy_id"], v1.as_str());
    assert_eq!(a.body["person_id"], bob.id.as_str());
    assert_eq!(a.body["source"], "person");
    bob.post("/api/v1/acknowledgements", json!({}))
        .await
        .problem(409);
    // He sees his own acknowledgements only.
    let mine = bob.get("/api/v1/acknowledgements").await;
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(1));
    let theirs = bob
        .get(&format!("/api/v1/acknowledgements?person_id={}", ann.id))
        .await;
    assert_eq!(theirs.body["items"], json!([]));
    // Recording for someone else is an admin's import.
    bob.post(
        "/api/v1/acknowledgements",
        json!({"person_id": cat, "policy_id": v1, "acknowledged_at": "2026-02-01T09:00:00Z"}),
    )
    .await
    .problem(403);

    // Past acknowledgements are imported all or nothing, every bad item named.
    let bad = ann
        .post(
            "/api/v1/acknowledgements/bulk",
            json!({"items": [
                {"email": "cat.contractor@example.com", "number": "1.0", "acknowledged_at": "2026-02-01T09:00:00Z"},
                {"email": "nobody@example.com", "number": "1.0", "acknowledged_at": "2026-02-01T09:00:00Z"},
                {"person_id": ann.id, "number": "7.7", "acknowledged_at": "2999-01-01T00:00:00Z"}
            ]}),
        )
        .await;
    bad.problem(422);
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "items[1].email",
            "items[2].acknowledged_at",
            "items[2].number"
        ]
    );
    let none = ann
        .get(&format!("/api/v1/acknowledgements?person_id={cat}"))
        .await;
    assert_eq!(none.body["items"], json!([]), "nothing was written");
    let dry = ann
        .post(
            "/api/v1/acknowledgements/bulk",
            json!({"dry_run": true, "items": [{"email": "cat.contractor@example.com", "number": "1.0", "acknowledged_at": "2026-02-01T09:00:00Z"}]}),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.body["created"], 0);
    let ok = ann
        .post(
            "/api/v1/acknowledgements/bulk",
            json!({"items": [{"email": "cat.contractor@example.com", "number": "1.0", "acknowledged_at": "2026-02-01T09:00:00Z", "note": "Signed paper form"}]}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["created"], 1);
    assert_eq!(ok.body["items"][0]["source"], "imported");

    // A minor version keeps acknowledgements; a material one asks everyone again.
    let v11 = approve_aup(&ann, "1.1", false).await;
    let old = ann.get(&format!("/api/v1/policies/{v1}")).await;
    assert_eq!(old.body["status"], "superseded");
    let laptop = s
        .asset(
            &ann.id,
            json!({"name": "Bob's laptop", "status": "in_stock"}),
        )
        .await;
    let lid = laptop["id"].as_str().expect("id");
    let issued = ann
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": bob.id}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    assert_eq!(issued.body["policy_id"], v1.as_str());
    let back = ann
        .post(
            &format!("/api/v1/assignments/{}/return", id_of(&issued)),
            json!({}),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    approve_aup(&ann, "2.0", true).await;
    let e = ann
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": bob.id}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["person_id"]);
    let detail = e.body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        detail.contains("Bob Member has not acknowledged") && detail.contains("2.0"),
        "{detail}"
    );
    // Only the version in force is acknowledged.
    bob.post("/api/v1/acknowledgements", json!({"policy_id": v11}))
        .await
        .problem(422);
    let listed = bob
        .get("/api/v1/policies?document=acceptable_use&status=approved")
        .await;
    assert_eq!(listed.body["items"][0]["number"], "2.0");
    let history = ann.get("/api/v1/audit?limit=500").await.body.to_string();
    for action in [
        "policy.approved",
        "policy.superseded",
        "acknowledgement.created",
    ] {
        assert!(history.contains(action), "{action}");
    }
}

async fn custody_is_issued_to_acknowledged_holders_and_taken_back(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let mara = person(&s, "Mara Manager", "manager").await;
    let bob = person(&s, "Bob Member", "member").await;
    let carl = s.person("Carl Colleague").await;
    approve_aup(&ann, "1.0", true).await;
    let laptop = s
        .asset(
            &ann.id,
            json!({"name": "ThinkPad", "status": "in_stock", "serial_number": "TP-1"}),
        )
        .await;
    let lid = laptop["id"].as_str().expect("id").to_string();

    // Bad input is named; data assets are not issued; members do not issue.
    let e = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": "nope", "expected_return_at": "soon", "colour": 1}),
        )
        .await;
    e.problem(422);
    let mut fields = e.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["asset_id", "colour", "expected_return_at", "person_id"]
    );
    let data = s
        .asset(&ann.id, json!({"kind": "data", "name": "Payroll"}))
        .await;
    let e = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": data["id"], "person_id": bob.id}),
        )
        .await;
    e.problem(422);
    assert!(e.body.to_string().contains("not issued"), "{}", e.body);
    bob.post(
        "/api/v1/assignments",
        json!({"asset_id": lid, "person_id": bob.id}),
    )
    .await
    .problem(403);

    // No acknowledgement: refused, naming the policy; nothing written.
    let e = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": bob.id}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["person_id"]);
    assert!(
        e.body
            .to_string()
            .contains("Acceptable Use Policy version 1.0"),
        "{}",
        e.body
    );
    let still = s.get(&format!("/api/v1/assets/{lid}")).await;
    assert_eq!(still.body["status"], "in_stock");
    assert_eq!(still.body["version"], 1);

    // Acknowledged: issued, in use, and visible to its holder.
    assert_eq!(
        bob.post("/api/v1/acknowledgements", json!({})).await.status,
        201
    );
    bob.get(&format!("/api/v1/assets/{lid}")).await.problem(404);
    let issued = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": bob.id, "expected_return_at": "2027-06-30", "notes": "New starter kit"}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let aid = id_of(&issued);
    assert_eq!(issued.body["kind"], "custody");
    assert_eq!(issued.body["issued_by"], mara.id.as_str());
    assert_eq!(issued.body["open"], true);
    assert_eq!(issued.body["warnings"], json!([]));
    let a = s.get(&format!("/api/v1/assets/{lid}")).await;
    assert_eq!(a.body["status"], "in_use");
    let seen = bob.get(&format!("/api/v1/assets/{lid}")).await;
    assert_eq!(seen.status, 200, "the holder sees what they hold");
    bob.call(
        Method::PATCH,
        &format!("/api/v1/assets/{lid}"),
        Some(json!({"name": "Mine now"})),
    )
    .await
    .problem(403);
    let his = bob.get("/api/v1/assignments").await;
    assert_eq!(his.body["items"][0]["id"], aid.as_str());

    // One holder at a time.
    let e = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": ann.id}),
        )
        .await;
    e.problem(409);
    assert!(
        e.body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("held by Bob Member"),
        "{}",
        e.body
    );

    // Taken back with its condition: in stock again, free for the next holder.
    let e = mara
        .post(
            &format!("/api/v1/assignments/{aid}/return"),
            json!({"returned_at": "2001-01-01"}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["returned_at"]);
    let back = mara
        .call(
            Method::POST,
            &format!("/api/v1/assignments/{aid}/return"),
            Some(json!({"condition": "Scratched lid"})),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["outcome"], "returned");
    assert_eq!(back.body["received_by"], mara.id.as_str());
    assert_eq!(back.body["condition"], "Scratched lid");
    assert_eq!(back.body["open"], false);
    mara.post(&format!("/api/v1/assignments/{aid}/return"), json!({}))
        .await
        .problem(409);
    let a = s.get(&format!("/api/v1/assets/{lid}")).await;
    assert_eq!(a.body["status"], "in_stock");
    bob.get(&format!("/api/v1/assets/{lid}")).await.problem(404);

    // Warn instead of refuse: issued, with the warning recorded.
    mara.call(
        Method::PATCH,
        "/api/v1/settings/policy",
        Some(json!({"acceptable_use_enforcement": "warn"})),
    )
    .await
    .problem(403);
    let set = ann
        .call(
            Method::PATCH,
            "/api/v1/settings/policy",
            Some(json!({"acceptable_use_enforcement": "warn"})),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["acceptable_use_enforcement"], "warn");
    let warned = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": carl}),
        )
        .await;
    assert_eq!(warned.status, 201, "{}", warned.body);
    assert!(
        warned.body["warnings"][0]
            .as_str()
            .unwrap_or("")
            .contains("Carl Colleague has not acknowledged"),
        "{}",
        warned.body
    );

    // The custody history, on the asset and on the person.
    let on_asset = s.get(&format!("/api/v1/assignments?asset_id={lid}")).await;
    assert_eq!(on_asset.body["items"].as_array().map(Vec::len), Some(2));
    let on_bob = s
        .get(&format!("/api/v1/assignments?person_id={}", bob.id))
        .await;
    assert_eq!(on_bob.body["items"].as_array().map(Vec::len), Some(1));
    let history = s
        .get(&format!("/api/v1/assets/{lid}/history"))
        .await
        .body
        .to_string();
    assert!(
        history.contains("asset.issued") && history.contains("asset.returned"),
        "{history}"
    );
}

async fn off_premises_follows_the_classification_and_exceptions(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let adam = person(&s, "Adam Admin", "admin").await;
    let mara = person(&s, "Mara Manager", "manager").await;
    let bob = person(&s, "Bob Member", "member").await;
    approve_aup(&ann, "1.0", true).await;
    assert_eq!(
        bob.post("/api/v1/acknowledgements", json!({})).await.status,
        201
    );
    let level = s
        .post(
            "/api/v1/classifications",
            json!({"key": "secret", "name": "Secret", "rank": 4, "off_premises": "forbidden"}),
        )
        .await;
    assert_eq!(level.status, 201, "{}", level.body);
    let field = s
        .post(
            "/api/v1/locations",
            json!({"name": "Customer site", "on_premises": false}),
        )
        .await;
    let field_id = id_of(&field);

    // An internal laptop that stores secret data is handled as secret.
    let laptop = s
        .asset(
            &bob.id,
            json!({"name": "Field laptop", "status": "in_stock"}),
        )
        .await;
    let lid = laptop["id"].as_str().expect("id").to_string();
    let data = s
        .asset(
            &ann.id,
            json!({"kind": "data", "name": "Source code", "classification": "secret"}),
        )
        .await;
    let link = s
        .post(
            &format!("/api/v1/assets/{lid}/relations"),
            json!({"type": "stores", "to_id": data["id"]}),
        )
        .await;
    assert_eq!(link.status, 201, "{}", link.body);
    let e = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": bob.id, "off_premises": true}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["off_premises"]);
    // Moving the asset itself to a place off the premises is checked the same way.
    let moved = s
        .patch(
            &format!("/api/v1/assets/{lid}"),
            json!({"location_id": field_id}),
            None,
        )
        .await;
    moved.problem(422);
    assert_eq!(moved.error_fields(), ["location_id"]);
    assert!(moved.body.to_string().contains("forbids"), "{}", moved.body);
    assert!(s.get(&format!("/api/v1/assets/{lid}")).await.body["location_id"].is_null());
    let why = e.body["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        why.contains("secret") && why.contains("forbids") && why.contains("Source code"),
        "{why}"
    );
    // Through an off-premises location too.
    let e = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": bob.id, "location_id": field_id}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["location_id"]);

    // An exception: expiry required and within a year; the requester cannot approve it.
    let e = mara
        .post(
            "/api/v1/exceptions",
            json!({"rule": "off_premises", "asset_ids": [lid], "justification": "On-site audit", "compensating_controls": "Full-disk encryption", "expires_at": "2099-01-01"}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["expires_at"]);
    let soon = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(30)).to_string();
    let x = ann
        .post(
            "/api/v1/exceptions",
            json!({"rule": "off_premises", "asset_ids": [lid], "justification": "On-site audit", "compensating_controls": "Full-disk encryption", "expires_at": soon}),
        )
        .await;
    assert_eq!(x.status, 201, "{}", x.body);
    assert_eq!(x.body["state"], "requested");
    let xid = id_of(&x);
    // Requested is not approved: still refused.
    mara.post(
        "/api/v1/assignments",
        json!({"asset_id": lid, "person_id": bob.id, "off_premises": true}),
    )
    .await
    .problem(422);
    let own = ann
        .post(&format!("/api/v1/exceptions/{xid}/approve"), json!({}))
        .await;
    own.problem(422);
    assert_eq!(own.error_fields(), ["approver_id"]);
    mara.post(&format!("/api/v1/exceptions/{xid}/approve"), json!({}))
        .await
        .problem(403);
    let ok = adam
        .post(
            &format!("/api/v1/exceptions/{xid}/approve"),
            json!({"notes": "Until the audit ends"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["state"], "approved");
    assert_eq!(ok.body["approver_id"], adam.id.as_str());
    let issued = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": bob.id, "location_id": field_id, "expected_return_at": soon}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    assert_eq!(issued.body["exception_id"], xid.as_str());
    assert_eq!(issued.body["off_premises"], true);
    // The off-premises register: with whom, where, until when, approved by whom.
    let register = s
        .get("/api/v1/assignments?open=true&off_premises=true")
        .await;
    let row = &register.body["items"][0];
    assert_eq!(row["person_id"], bob.id.as_str());
    assert_eq!(row["location_id"], field_id.as_str());
    assert_eq!(row["expected_return_at"], soon.as_str());
    assert_eq!(row["approved_by"], adam.id.as_str());
    let aid = id_of(&issued);
    assert_eq!(
        mara.post(&format!("/api/v1/assignments/{aid}/return"), json!({}))
            .await
            .status,
        200
    );

    // Expired: the exception no longer lifts the refusal.
    let past = if backend == "postgres" {
        format!("UPDATE exceptions SET expires_at = DATE '2020-01-01' WHERE id = '{xid}'")
    } else {
        format!(
            "UPDATE exceptions SET expires_at = '2020-01-01' WHERE id = X'{}'",
            xid.replace('-', "")
        )
    };
    s.db().execute(&past).await.expect("expire the exception");
    let x = s.get(&format!("/api/v1/exceptions/{xid}")).await;
    assert_eq!(x.body["state"], "expired");
    let e = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": bob.id, "off_premises": true}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["off_premises"]);

    // Approval required (restricted): the approver is named and recorded.
    let phone = s
        .asset(
            &bob.id,
            json!({"name": "Phone", "classification": "restricted", "status": "in_stock"}),
        )
        .await;
    let pid = phone["id"].as_str().expect("id").to_string();
    let e = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": pid, "person_id": bob.id, "off_premises": true}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["approved_by"]);
    let e = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": pid, "person_id": bob.id, "off_premises": true, "approved_by": bob.id}),
        )
        .await;
    e.problem(422);
    let issued = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": pid, "person_id": bob.id, "off_premises": true, "approved_by": mara.id}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    assert_eq!(issued.body["approved_by"], mara.id.as_str());

    // Members ask only for what they own; revoking ends an exception.
    let e = bob
        .post(
            "/api/v1/exceptions",
            json!({"rule": "off_premises", "asset_ids": [data["id"]], "justification": "x", "compensating_controls": "y", "expires_at": soon}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["asset_ids[0]"]);
    let mine = bob
        .post(
            "/api/v1/exceptions",
            json!({"rule": "review_overdue", "asset_ids": [pid], "justification": "Travelling", "compensating_controls": "Remote check", "expires_at": soon}),
        )
        .await;
    assert_eq!(mine.status, 201, "{}", mine.body);
    let listed = bob.get("/api/v1/exceptions").await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    let mid = id_of(&mine);
    // A member's list is theirs before it is paged: a newer request by someone else does
    // not leave their first page empty.
    let later = ann
        .post(
            "/api/v1/exceptions",
            json!({"rule": "review_overdue", "asset_ids": [pid], "justification": "Audit", "compensating_controls": "None", "expires_at": soon}),
        )
        .await;
    assert_eq!(later.status, 201, "{}", later.body);
    let first = bob.get("/api/v1/exceptions?limit=1").await;
    assert_eq!(first.body["items"][0]["id"], mid.as_str(), "{}", first.body);
    assert!(first.body["next_cursor"].is_null(), "{}", first.body);
    let others = bob
        .get(&format!("/api/v1/exceptions?requester_id={}", ann.id))
        .await;
    assert_eq!(others.body["items"], json!([]), "{}", others.body);
    let by_ann = s
        .get(&format!("/api/v1/exceptions?requester_id={}", ann.id))
        .await;
    assert_eq!(by_ann.body["items"].as_array().map(Vec::len), Some(2));
    let rejected = ann
        .post(
            &format!("/api/v1/exceptions/{mid}/reject"),
            json!({"notes": "Review it on return"}),
        )
        .await;
    assert_eq!(rejected.body["state"], "rejected");
    ann.post(&format!("/api/v1/exceptions/{mid}/revoke"), json!({}))
        .await
        .problem(422);
}

async fn software_seats_count_licences(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let bob = person(&s, "Bob Member", "member").await;
    let sw = s
        .asset(
            &ann.id,
            json!({"kind": "software", "name": "CAD Suite", "licences_purchased": 1, "licence_model": "subscription"}),
        )
        .await;
    let sid = sw["id"].as_str().expect("id").to_string();
    let host = s
        .asset(&ann.id, json!({"name": "Build server", "kind": "virtual"}))
        .await;
    let data = s
        .asset(&ann.id, json!({"kind": "data", "name": "Designs"}))
        .await;

    let seat = ann
        .post(
            "/api/v1/assignments",
            json!({"asset_id": sid, "person_id": bob.id}),
        )
        .await;
    assert_eq!(seat.status, 201, "{}", seat.body);
    assert_eq!(seat.body["kind"], "seat");
    let e = ann
        .post(
            "/api/v1/assignments",
            json!({"asset_id": sid, "host_id": data["id"]}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["host_id"]);
    let e = ann
        .post(
            "/api/v1/assignments",
            json!({"asset_id": sid, "person_id": bob.id}),
        )
        .await;
    e.problem(409);
    // Beyond the licences purchased: flagged by default.
    let over = ann
        .post(
            "/api/v1/assignments",
            json!({"asset_id": sid, "host_id": host["id"]}),
        )
        .await;
    assert_eq!(over.status, 201, "{}", over.body);
    assert!(
        over.body["warnings"][0]
            .as_str()
            .unwrap_or("")
            .contains("2 seats of"),
        "{}",
        over.body
    );
    let a = s.get(&format!("/api/v1/assets/{sid}")).await;
    assert_eq!(a.body["licences_used"], 2);
    // Or refused, by setting.
    ann.call(
        Method::PATCH,
        "/api/v1/settings/policy",
        Some(json!({"licence_overallocation": "refuse", "colour": "red"})),
    )
    .await
    .problem(422);
    ann.call(
        Method::PATCH,
        "/api/v1/settings/policy",
        Some(json!({"licence_overallocation": "refuse"})),
    )
    .await;
    let ann_seat = ann
        .post(
            "/api/v1/assignments",
            json!({"asset_id": sid, "person_id": ann.id}),
        )
        .await;
    ann_seat.problem(422);
    assert_eq!(ann_seat.error_fields(), ["asset_id"]);
    // A seat taken back frees a licence.
    let back = ann
        .post(
            &format!("/api/v1/assignments/{}/return", id_of(&over)),
            json!({}),
        )
        .await;
    assert_eq!(back.status, 200, "{}", back.body);
    let a = s.get(&format!("/api/v1/assets/{sid}")).await;
    assert_eq!(a.body["licences_used"], 1);
}

async fn holders_report_their_assets_lost_or_stolen(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let bob = person(&s, "Bob Member", "member").await;
    let laptop = s
        .asset(
            &ann.id,
            json!({"name": "Travel laptop", "status": "in_stock"}),
        )
        .await;
    let other = s.asset(&ann.id, json!({"name": "Desk phone"})).await;
    let lid = laptop["id"].as_str().expect("id").to_string();
    let issued = ann
        .post(
            "/api/v1/assignments",
            json!({"asset_id": lid, "person_id": bob.id}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);

    // The holder may report a loss, nothing else; nor for assets they do not hold.
    bob.post(
        &format!("/api/v1/assets/{lid}/transitions"),
        json!({"to": "retired"}),
    )
    .await
    .problem(403);
    bob.post(
        &format!(
            "/api/v1/assets/{}/transitions",
            other["id"].as_str().unwrap_or("")
        ),
        json!({"to": "lost", "incident_ref": "INC-1"}),
    )
    .await
    .problem(404);
    let e = bob
        .post(
            &format!("/api/v1/assets/{lid}/transitions"),
            json!({"to": "stolen"}),
        )
        .await;
    e.problem(422);
    // The holder is not asked for the incident reference (SPEC §5), only when it happened.
    assert_eq!(e.error_fields(), ["reported_at"]);
    // Nobody can add a reference before a report awaits one.
    ann.post(
        &format!("/api/v1/assets/{lid}/incident"),
        json!({"incident_ref": "INC-2041"}),
    )
    .await
    .problem(409);
    let r = bob
        .post(
            &format!("/api/v1/assets/{lid}/transitions"),
            json!({"to": "stolen", "reported_at": chrono::Utc::now().to_rfc3339(), "notes": "Taken from a car"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "stolen");
    // A manager adds the reference the report awaits; the holder may not.
    bob.post(
        &format!("/api/v1/assets/{lid}/incident"),
        json!({"incident_ref": "INC-2041"}),
    )
    .await
    .problem(404);
    let bad = ann
        .post(&format!("/api/v1/assets/{lid}/incident"), json!({}))
        .await;
    bad.problem(422);
    assert_eq!(bad.error_fields(), ["incident_ref"]);
    let added = ann
        .post(
            &format!("/api/v1/assets/{lid}/incident"),
            json!({"incident_ref": "INC-2041"}),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    // The custody ends with the loss; managers see the status at once.
    let a = ann
        .get(&format!("/api/v1/assignments/{}", id_of(&issued)))
        .await;
    assert_eq!(a.body["outcome"], "stolen");
    assert_eq!(a.body["open"], false);
    let stolen = ann.get("/api/v1/assets?status=stolen").await;
    assert_eq!(stolen.body["items"][0]["id"], lid.as_str());
    let history = ann
        .get(&format!("/api/v1/assets/{lid}/history"))
        .await
        .body
        .to_string();
    assert!(history.contains("INC-2041"), "{history}");
}

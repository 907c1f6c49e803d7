//! The evidence pack (SPEC §12) over HTTP: one zip for an `as_at` time, byte-identical
//! when made again, every file's SHA-256 right, the audit trail in it verifying to the head
//! its manifest names, and its register the register as the as-at API reads it.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{json, Value};

use crate::common::{get_as, start, Server};
use crate::on_both;
use crate::workflows::{acceptable_use_only_warns, pdf_text, person, Person};

on_both!(the_evidence_pack_holds_the_register_as_it_stood_and_proves_it);

/// The pack's bytes for `as_at`, as `who` downloads it.
pub(crate) async fn pack(s: &Server, who: &Person<'_>, as_at: &str) -> Vec<u8> {
    let r = get_as(
        s,
        &who.auth,
        &format!("/api/v1/reports/evidence?as_at={as_at}"),
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    r.bytes().await.expect("the pack").to_vec()
}

/// Every file of a zip, by path.
pub(crate) fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("an entry");
        let mut data = Vec::new();
        f.read_to_end(&mut data).expect("its bytes");
        out.insert(f.name().expect("a name").to_string(), data);
    }
    out
}

fn csv_rows(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(bytes);
    let heads: Vec<String> = r
        .headers()
        .expect("headings")
        .iter()
        .map(String::from)
        .collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("a record");
            heads
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

async fn the_evidence_pack_holds_the_register_as_it_stood_and_proves_it(backend: &str) {
    let s = start(backend).await;
    acceptable_use_only_warns(&s).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let bea = person(&s, "Bea Admin", "admin").await;
    let aud = person(&s, "Aud Itor", "auditor").await;
    let bob = person(&s, "Bob Member", "member").await;
    let owner = s.person("Ola Owner").await;
    let mut ids = Vec::new();
    for name in ["Laptop A", "Laptop B", "Server C"] {
        let a = s
            .asset(&owner, json!({"name": name, "serial_number": name}))
            .await;
        ids.push(a["id"].as_str().expect("id").to_string());
    }
    let d = ann
        .post(
            "/api/v1/policies/draft",
            json!({"document": "asset_management", "organisation": "Calder Ltd"}),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let approved = bea
        .post(
            &format!(
                "/api/v1/policies/{}/approve",
                d.body["id"].as_str().expect("id")
            ),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    let run = ann.post("/api/v1/compliance/run", json!({})).await;
    assert_eq!(run.status, 200, "{}", run.body);
    let as_at = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();

    let first = pack(&s, &aud, &as_at).await;

    // The register moves on after the cut: a rename and a new asset. The pack for the cut
    // is the same bytes.
    let renamed = s
        .patch(
            &format!("/api/v1/assets/{}", ids[0]),
            json!({"name": "Laptop A (renamed)"}),
            None,
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    s.asset(&owner, json!({"name": "Later"})).await;
    let renamed = s
        .patch(
            &format!("/api/v1/parties/{owner}"),
            json!({"name": "Ola Renamed"}),
            None,
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let again = pack(&s, &aud, &as_at).await;
    assert_eq!(first, again, "the same as_at gives the same bytes");
    let files = unzip(&first);

    // Every file's SHA-256, in SHA256SUMS and in the manifest.
    let sums = String::from_utf8(files["SHA256SUMS"].clone()).expect("text");
    let mut summed = 0;
    for line in sums.lines() {
        let (hash, path) = line.split_once("  ").expect("hash  path");
        let data = files
            .get(path)
            .unwrap_or_else(|| panic!("{path} is in the zip"));
        assert_eq!(hash, custodian_domain::audit::sha256_hex(data), "{path}");
        summed += 1;
    }
    assert_eq!(
        summed,
        files.len() - 1,
        "every file but SHA256SUMS is summed"
    );
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).expect("json");
    assert_eq!(manifest["as_at"], as_at);
    assert_eq!(manifest["chain"]["verified"], true, "{manifest}");
    let listed = manifest["files"].as_array().expect("files");
    for f in listed {
        let path = f["path"].as_str().expect("path");
        assert_eq!(
            f["sha256"].as_str(),
            Some(custodian_domain::audit::sha256_hex(&files[path]).as_str()),
            "{path}"
        );
        assert_eq!(f["bytes"], files[path].len());
    }
    let evidences = |path: &str| -> Vec<String> {
        listed
            .iter()
            .find(|f| f["path"] == path)
            .and_then(|f| f["evidences"].as_array())
            .map(|l| {
                l.iter()
                    .filter_map(|c| c.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(evidences("reports/register.csv").contains(&"A.5.9".to_string()));
    assert!(evidences("reports/disposals.csv").contains(&"A.7.14".to_string()));
    assert!(evidences("reports/off-premises.csv").contains(&"A.7.9".to_string()));
    for path in [
        "policies/asset-management-1.0.pdf",
        "reports/ropa.csv",
        "reports/licences.csv",
        "reports/acknowledgements.csv",
        "reports/exceptions.csv",
        "reports/offboarding.csv",
        "compliance/kpis.csv",
        "compliance/findings.csv",
        "compliance/trend.csv",
        "handling-matrix.csv",
        "statement-of-applicability.csv",
        "audit-trail.jsonl",
    ] {
        assert!(files.contains_key(path), "{path}: {:?}", files.keys());
    }

    // The trail in the pack verifies to the head the manifest names, and ends there.
    let head_seq = manifest["audit_head"]["seq"].as_i64().expect("seq");
    let head_hash = manifest["audit_head"]["hash"].as_str().expect("hash");
    let mut v = custodian_domain::audit::ChainVerifier::default();
    let mut last = 0;
    for line in String::from_utf8(files["audit-trail.jsonl"].clone())
        .expect("text")
        .lines()
    {
        let e: custodian_domain::audit::Event = serde_json::from_str(line).expect("an event");
        v.feed(&e).unwrap_or_else(|b| panic!("{b:?}"));
        last = e.seq;
    }
    v.finish(head_seq, head_hash)
        .unwrap_or_else(|b| panic!("{b:?}"));
    assert_eq!(last, head_seq);
    assert!(!String::from_utf8_lossy(&files["audit-trail.jsonl"]).contains("Laptop A (renamed)"));

    // Its register is the register as the as-at API reads it.
    let api = s
        .get(&format!("/api/v1/assets?as_at={as_at}&limit=100"))
        .await;
    assert_eq!(api.status, 200, "{}", api.body);
    let mut want: Vec<(String, String)> = api.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| {
            (
                a["asset_number"].as_str().unwrap_or_default().to_string(),
                a["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let mut got: Vec<(String, String)> = csv_rows(&files["reports/register.csv"])
        .iter()
        .map(|r| (r["Asset number"].clone(), r["Name"].clone()))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(got.iter().any(|(_, n)| n == "Laptop A"));
    // People by their names then.
    let register = String::from_utf8_lossy(&files["reports/register.csv"]).to_string();
    assert!(
        register.contains("Ola Owner") && !register.contains("Ola Renamed"),
        "{register}"
    );
    assert!(!got
        .iter()
        .any(|(_, n)| n == "Later" || n.contains("renamed")));

    // The policy in force then, as approved; the Statement of Applicability's rows.
    let policy = &files["policies/asset-management-1.0.pdf"];
    assert!(pdf_text(policy).contains("Ownership of assets"));
    assert_eq!(
        approved.body["id"], d.body["id"],
        "the version approved is the one in the pack"
    );
    let soa = csv_rows(&files["statement-of-applicability.csv"]);
    let controls: Vec<&str> = soa.iter().map(|r| r["Control"].as_str()).collect();
    assert_eq!(
        controls,
        [
            "A.5.9", "A.5.10", "A.5.11", "A.5.12", "A.5.13", "A.5.14", "A.7.9", "A.7.10", "A.7.14",
            "A.8.1", "A.8.10"
        ]
    );
    assert!(soa[0]["Evidence in this pack"].contains("reports/register.csv"));
    assert!(soa[0]["How it is met"].len() > 20);

    // Refusals name what is wrong; members are not let in; each download is an event.
    let e = aud.get("/api/v1/reports/evidence?format=csv").await;
    e.problem(400);
    assert_eq!(e.error_fields(), ["format"]);
    let e = aud.get("/api/v1/reports/evidence?kind=data").await;
    e.problem(400);
    assert_eq!(e.error_fields(), ["kind"]);
    let e = aud
        .get("/api/v1/reports/evidence?as_at=2999-01-01T00:00:00Z")
        .await;
    e.problem(400);
    assert_eq!(e.error_fields(), ["as_at"]);
    bob.get("/api/v1/reports/evidence").await.problem(403);
    // Managers read reports but not the audit trail, which the pack holds.
    let manager = person(&s, "Mia Manager", "manager").await;
    manager.get("/api/v1/reports/evidence").await.problem(403);
    let r = manager.get("/api/v1/reports/register?format=json").await;
    assert_eq!(r.status, 200);
    let trail = s.get("/api/v1/audit?limit=500").await;
    let downloads = trail.body["items"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|e| e["action"] == "evidence.downloaded")
                .count()
        })
        .unwrap_or_default();
    assert_eq!(downloads, 2);
}

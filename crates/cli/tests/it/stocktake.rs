//! Stocktakes over HTTP: a session at a location, scans by number, label link and id,
//! repeats, unexpected and unknown entries, the report, closing; and the label sheet.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{start, Server};
use crate::workflows::{person, Person};

crate::on_both!(
    a_stocktake_finds_reports_and_closes,
    stocktake_input_is_checked_and_members_are_kept_out,
    a_large_location_pages_its_report,
);

/// Creates a location (under `parent`) and returns its id.
async fn location(s: &Server, name: &str, parent: Option<&str>) -> String {
    let mut body = json!({"name": name});
    if let Some(p) = parent {
        body["parent_id"] = json!(p);
    }
    let a = s.post("/api/v1/locations", body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["id"].as_str().expect("id").to_string()
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}

async fn scan(p: &Person<'_>, stocktake: &str, entry: &str) -> crate::common::Answer {
    p.post(
        &format!("/api/v1/stocktakes/{stocktake}/scans"),
        json!({ "entry": entry }),
    )
    .await
}

/// The asset numbers listed in a report section.
fn numbers(report: &Value, section: &str) -> Vec<String> {
    let mut v: Vec<String> = report[section]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    l["asset_number"]
                        .as_str()
                        .or(l["entered"].as_str())
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

async fn a_stocktake_finds_reports_and_closes(backend: &str) {
    let s = start(backend).await;
    let mara = person(&s, "Mara Manager", "manager").await;
    let audrey = person(&s, "Audrey Auditor", "auditor").await;
    let site = location(&s, "Head office", None).await;
    let store_room = location(&s, "Store room", Some(&site)).await;
    let elsewhere = location(&s, "Branch", None).await;
    let at = |loc: &str, name: &str| json!({"name": name, "location_id": loc});
    let desk = s.asset(&mara.id, at(&site, "Desk laptop")).await;
    let spare = s.asset(&mara.id, at(&store_room, "Spare laptop")).await;
    let phone = s.asset(&mara.id, at(&site, "Phone")).await;
    let missing = s.asset(&mara.id, at(&store_room, "Missing monitor")).await;
    let stray = s.asset(&mara.id, at(&elsewhere, "Branch printer")).await;
    let lost = s.asset(&mara.id, at(&site, "Lost tablet")).await;
    let t = s
        .post(
            &format!("/api/v1/assets/{}/transitions", str_of(&lost, "id")),
            json!({"to": "lost", "reason": "left on a train", "reported_at": "2026-01-05T10:00:00Z", "incident_ref": "INC-7"}),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.body);

    // Start a session at the site: the store room inside it counts too.
    let st = mara
        .post(
            "/api/v1/stocktakes",
            json!({"location_id": site, "notes": "Quarterly count"}),
        )
        .await;
    assert_eq!(st.status, 201, "{}", st.body);
    let id = str_of(&st.body, "id").to_string();
    assert_eq!(st.body["status"], "open");
    assert_eq!(st.body["include_sublocations"], true);
    assert_eq!(st.body["started_by"], mara.id.as_str());
    assert!(st.headers["location"].to_str().unwrap_or("").ends_with(&id));
    let before = s.get(&format!("/api/v1/stocktakes/{id}/report")).await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert_eq!(before.body["counts"]["expected"], 4, "{}", before.body);
    assert_eq!(before.body["counts"]["missing"], 4);

    // By number, by the label's link, in lower case, by a bare id.
    let by_number = scan(&mara, &id, str_of(&desk, "asset_number")).await;
    assert_eq!(by_number.status, 201, "{}", by_number.body);
    assert_eq!(by_number.body["result"], "found");
    assert_eq!(by_number.body["repeat"], false);
    assert_eq!(
        by_number.body["asset"]["last_reviewed_by"],
        mara.id.as_str()
    );
    let link = format!(
        "https://custodian.example.com/assets/{}",
        str_of(&spare, "id")
    );
    let by_link = scan(&mara, &id, &link).await;
    assert_eq!(by_link.status, 201, "{}", by_link.body);
    assert_eq!(by_link.body["result"], "found");
    assert_eq!(by_link.body["asset_id"], spare["id"]);
    let lower = str_of(&phone, "asset_number").to_lowercase();
    let by_lower = scan(&mara, &id, &format!("  {lower} ")).await;
    assert_eq!(by_lower.status, 201, "{}", by_lower.body);
    assert_eq!(by_lower.body["result"], "found");
    assert_eq!(by_lower.body["entered"], lower.as_str());

    // A repeat answers the earlier scan; it counts once.
    let again = scan(&mara, &id, str_of(&phone, "id")).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["repeat"], true);
    assert_eq!(again.body["id"], by_lower.body["id"]);

    // Another location's asset, and a lost one, are unexpected; nonsense is unknown.
    let unexpected = scan(&mara, &id, str_of(&stray, "asset_number")).await;
    assert_eq!(unexpected.status, 201, "{}", unexpected.body);
    assert_eq!(unexpected.body["result"], "unexpected");
    assert_eq!(
        unexpected.body["registered_location_id"],
        elsewhere.as_str()
    );
    let found_lost = scan(&mara, &id, str_of(&lost, "asset_number")).await;
    assert_eq!(
        found_lost.body["result"], "unexpected",
        "{}",
        found_lost.body
    );
    let unknown = scan(&mara, &id, "NOT-A-TAG-42").await;
    assert_eq!(unknown.status, 201, "{}", unknown.body);
    assert_eq!(unknown.body["result"], "unknown");
    assert!(unknown.body["asset"].is_null());

    // The report, read by an auditor.
    let r = audrey.get(&format!("/api/v1/stocktakes/{id}/report")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["counts"],
        json!({"expected": 4, "found": 3, "missing": 1, "unexpected": 2, "unknown": 1})
    );
    let mut found = vec![
        str_of(&desk, "asset_number").to_string(),
        str_of(&spare, "asset_number").to_string(),
        str_of(&phone, "asset_number").to_string(),
    ];
    found.sort();
    assert_eq!(numbers(&r.body, "found"), found);
    assert_eq!(
        numbers(&r.body, "missing"),
        [str_of(&missing, "asset_number")]
    );
    let mut stray_numbers = vec![
        str_of(&stray, "asset_number").to_string(),
        str_of(&lost, "asset_number").to_string(),
    ];
    stray_numbers.sort();
    assert_eq!(numbers(&r.body, "unexpected"), stray_numbers);
    assert_eq!(numbers(&r.body, "unknown"), ["NOT-A-TAG-42"]);
    let strays = r.body["unexpected"].as_array().cloned().unwrap_or_default();
    assert!(strays
        .iter()
        .any(|l| l["location_id"] == elsewhere.as_str()));
    // One section, paged.
    let one = s
        .get(&format!(
            "/api/v1/stocktakes/{id}/report?section=found&limit=2"
        ))
        .await;
    assert_eq!(one.body["found"].as_array().map(Vec::len), Some(2));
    assert!(one.body.get("missing").is_none());
    let next = one.body["next_cursor"]["found"].as_str().expect("a cursor");
    let rest = s
        .get(&format!(
            "/api/v1/stocktakes/{id}/report?section=found&limit=2&cursor={next}"
        ))
        .await;
    assert_eq!(rest.body["found"].as_array().map(Vec::len), Some(1));

    // Found assets were checked: by whom and when, and the event says so.
    let d = s
        .get(&format!("/api/v1/assets/{}", str_of(&desk, "id")))
        .await;
    assert_eq!(d.body["last_reviewed_by"], mara.id.as_str());
    assert!(d.body["last_reviewed_at"].is_string());
    assert!(d.body["next_review_at"].is_string());
    let m = s
        .get(&format!("/api/v1/assets/{}", str_of(&missing, "id")))
        .await;
    assert!(m.body["last_reviewed_at"].is_null());
    let h = s
        .get(&format!("/api/v1/assets/{}/history", str_of(&desk, "id")))
        .await
        .body
        .to_string();
    assert!(h.contains("asset.checked"), "{h}");
    assert!(h.contains(&id));

    // Listing and filtering.
    let listed = audrey
        .get(&format!(
            "/api/v1/stocktakes?status=open&location_id={site}"
        ))
        .await;
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    let none = audrey
        .get(&format!("/api/v1/stocktakes?location_id={elsewhere}"))
        .await;
    assert_eq!(none.body["items"], json!([]));
    audrey
        .post(&format!("/api/v1/stocktakes/{id}/close"), json!({}))
        .await
        .problem(403);

    // Closing: a stale version is refused and changes nothing.
    let cur = s.get(&format!("/api/v1/stocktakes/{id}")).await;
    assert_eq!(cur.etag(), "\"1\"");
    s.call(
        Method::POST,
        &format!("/api/v1/stocktakes/{id}/close"),
        Some(json!({})),
        &[("if-match", "\"7\"")],
    )
    .await
    .problem(412);
    let closed = mara
        .call(
            Method::POST,
            &format!("/api/v1/stocktakes/{id}/close"),
            Some(json!({"notes": "Monitor to be searched for"})),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    assert_eq!(closed.body["closed_by"], mara.id.as_str());
    assert_eq!(closed.body["version"], 2);

    // Scanning a closed session is refused; its report no longer moves.
    let late = scan(&mara, &id, str_of(&missing, "asset_number")).await;
    late.problem(409);
    assert!(late.body["detail"]
        .as_str()
        .unwrap_or("")
        .contains("closed"));
    s.asset(&mara.id, at(&site, "Bought after the count")).await;
    let fixed = s.get(&format!("/api/v1/stocktakes/{id}/report")).await;
    assert_eq!(fixed.body["counts"]["missing"], 1, "{}", fixed.body);
    assert_eq!(
        numbers(&fixed.body, "missing"),
        [str_of(&missing, "asset_number")]
    );
    mara.post(&format!("/api/v1/stocktakes/{id}/close"), json!({}))
        .await
        .problem(422);
    let events = s.get("/api/v1/audit?limit=500").await.body.to_string();
    for action in ["stocktake.created", "stocktake.scanned", "stocktake.closed"] {
        assert!(events.contains(action), "{action}");
    }
}

async fn stocktake_input_is_checked_and_members_are_kept_out(backend: &str) {
    let s = start(backend).await;
    let mara = person(&s, "Mara Manager", "manager").await;
    let bob = person(&s, "Bob Member", "member").await;
    let site = location(&s, "Head office", None).await;

    let e = mara.post("/api/v1/stocktakes", json!({})).await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["location_id"]);
    let e = mara
        .post(
            "/api/v1/stocktakes",
            json!({"location_id": site, "room": "B2"}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["room"]);
    let e = mara
        .post(
            "/api/v1/stocktakes",
            json!({"location_id": uuid::Uuid::now_v7(), "include_sublocations": "yes"}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["include_sublocations"]);
    let e = mara
        .post(
            "/api/v1/stocktakes",
            json!({"location_id": uuid::Uuid::now_v7()}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["location_id"]);
    assert!(e.body["errors"][0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("no location"));

    let st = mara
        .post(
            "/api/v1/stocktakes",
            json!({"location_id": site, "include_sublocations": false}),
        )
        .await;
    assert_eq!(st.status, 201, "{}", st.body);
    let id = str_of(&st.body, "id").to_string();
    let e = mara
        .post(&format!("/api/v1/stocktakes/{id}/scans"), json!({}))
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["entry"]);
    let e = mara
        .post(
            &format!("/api/v1/stocktakes/{id}/scans"),
            json!({"entry": "AST-1", "asset_id": "x"}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["asset_id"]);
    mara.get(&format!("/api/v1/stocktakes/{}", uuid::Uuid::now_v7()))
        .await
        .problem(404);
    s.get(&format!("/api/v1/stocktakes/{id}/report?cursor=abc"))
        .await
        .problem(400);

    // Members neither run nor read stocktakes.
    bob.post("/api/v1/stocktakes", json!({"location_id": site}))
        .await
        .problem(403);
    bob.get("/api/v1/stocktakes").await.problem(403);
    bob.get(&format!("/api/v1/stocktakes/{id}/report"))
        .await
        .problem(403);
    scan(&bob, &id, "AST-000001").await.problem(403);
}

/// A location with more assets than a page: the report pages through its sections.
async fn a_large_location_pages_its_report(backend: &str) {
    let s = start(backend).await;
    let mara = person(&s, "Mara Manager", "manager").await;
    let site = location(&s, "Warehouse", None).await;
    let items: Vec<Value> = (0..120)
        .map(|i| json!({"kind": "physical", "name": format!("Box {i}"), "owner_id": mara.id, "importance": "low", "classification": "internal", "location_id": site}))
        .collect();
    let bulk = s
        .post("/api/v1/assets/bulk", json!({ "items": items }))
        .await;
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    let st = mara
        .post("/api/v1/stocktakes", json!({"location_id": site}))
        .await;
    let id = str_of(&st.body, "id").to_string();
    assert_eq!(bulk.body["created"], 120, "{}", bulk.body);
    let first = bulk.body["items"][0]["asset"]["asset_number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(scan(&mara, &id, &first).await.body["result"], "found");
    let mut seen = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => {
                format!("/api/v1/stocktakes/{id}/report?section=missing&limit=50&cursor={c}")
            }
            None => format!("/api/v1/stocktakes/{id}/report?section=missing&limit=50"),
        };
        let r = s.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["counts"]["missing"], 119);
        seen += r.body["missing"].as_array().map(Vec::len).unwrap_or(0);
        match r.body["next_cursor"]["missing"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, 119);
}

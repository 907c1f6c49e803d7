//! The asset API: validation, concurrency, lifecycle, history, relations, lists.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::start;

crate::on_both!(
    create_read_and_the_policy_minimum,
    malformed_requests_are_problems_not_500s,
    stale_if_match_is_refused_and_changes_nothing,
    lifecycle_transitions_and_disposal,
    history_records_field_level_changes,
    relations_link_assets_and_complete_records,
    bulk_create_answers_per_item,
    lists_filter_search_and_page,
    concurrent_creates_get_distinct_numbers,
    sorted_lists_page_with_their_own_cursors,
    reviews_record_who_and_move_the_date_on,
);

async fn create_read_and_the_policy_minimum(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada Owner").await;
    let a = s.post("/api/v1/assets", json!({"kind": "physical", "name": "Dell Latitude", "owner_id": owner, "importance": "high", "classification": "confidential", "serial_number": "SN-1", "tags": ["laptop"]})).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["id"].as_str().expect("id");
    assert_eq!(
        a.headers["location"],
        format!("/api/v1/assets/{id}").as_str()
    );
    assert_eq!(a.etag(), "\"1\"");
    assert_eq!(a.body["asset_number"], "AST-000001");
    assert_eq!(a.body["status"], "in_use");
    assert!(
        a.body["next_review_at"].is_string(),
        "next review defaults from the level's interval"
    );
    assert_eq!(a.body["completeness"]["complete"], false);
    let missing: Vec<&str> = a.body["completeness"]["missing"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        missing,
        [
            "last_reviewed_by",
            "last_reviewed_at",
            "function",
            "information_description"
        ]
    );
    let g = s.get(&format!("/api/v1/assets/{id}")).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.etag(), "\"1\"");
    assert_eq!(g.body, a.body);
    // The policy minimum: every missing field named at once.
    let e = s.post("/api/v1/assets", json!({"kind": "data"})).await;
    e.problem(422);
    assert_eq!(
        e.error_fields(),
        ["name", "owner_id", "importance", "classification"]
    );
    // Invalid values, unknown fields and fields of other kinds, all at once.
    let e = s.post("/api/v1/assets", json!({"kind": "data", "name": 7, "owner_id": owner, "importance": "huge", "classification": "secret", "colour": "red", "serial_number": "x", "contains_personal_data": "yes"})).await;
    e.problem(422);
    let mut fields = e.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "classification",
            "colour",
            "contains_personal_data",
            "importance",
            "name",
            "serial_number"
        ]
    );
    // An owner that does not exist is named with the other problems.
    let ghost = uuid::Uuid::now_v7().to_string();
    let e = s.post("/api/v1/assets", json!({"kind": "physical", "owner_id": ghost, "importance": "low", "classification": "public"})).await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["name", "owner_id"]);
    // A given asset number must be unique.
    let dup = s.post("/api/v1/assets", json!({"kind": "physical", "name": "X", "owner_id": owner, "importance": "low", "classification": "public", "asset_number": "AST-000001"})).await;
    dup.problem(409);
    assert_eq!(dup.error_fields(), ["asset_number"]);
    let missing = s.get(&format!("/api/v1/assets/{ghost}")).await;
    missing.problem(404);
    s.get("/api/v1/assets/not-an-id").await.problem(404);
}

async fn malformed_requests_are_problems_not_500s(backend: &str) {
    let s = start(backend).await;
    let raw = |body: &'static str, ct: &'static str| {
        let http = s.http.clone();
        let url = format!("{}/api/v1/assets", s.url);
        async move {
            let r = http
                .post(url)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .expect("answer");
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, ct, body)
        }
    };
    let (st, ct, body) = raw("{\"kind\": ", "application/json").await;
    assert_eq!((st, ct.as_str()), (400, "application/problem+json"));
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("not valid JSON"),
        "{body}"
    );
    let (st, _, _) = raw("[1, 2]", "application/json").await;
    assert_eq!(st, 400);
    let (st, ct, _) = raw("{}", "text/plain").await;
    assert_eq!((st, ct.as_str()), (415, "application/problem+json"));
    let big = format!(
        "{{\"kind\": \"physical\", \"description\": \"{}\"}}",
        "x".repeat(3 * 1024 * 1024)
    );
    let r = s
        .http
        .post(format!("{}/api/v1/assets", s.url))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 413);
    let (st, _, body) = raw(
        "{\"kind\": \"physical\", \"name\": \"\\u0000\"}",
        "application/json",
    )
    .await;
    assert_eq!(st, 422, "{body}");
    // Bad query parameters name the parameter.
    s.get("/api/v1/assets?limit=0").await.problem(400);
    s.get("/api/v1/assets?limit=abc").await.problem(400);
    s.get("/api/v1/assets?cursor=zzz").await.problem(400);
    s.get("/api/v1/assets?status=broken").await.problem(400);
    let a = s.get("/api/v1/assets?statuss=in_use").await;
    a.problem(400);
    assert_eq!(a.error_fields(), ["statuss"]);
    s.get("/api/v1/assets?owner_id=nope").await.problem(400);
    let a = s
        .call(
            Method::PATCH,
            &format!("/api/v1/assets/{}", uuid::Uuid::now_v7()),
            Some(json!({})),
            &[("if-match", "yesterday")],
        )
        .await;
    a.problem(404);
}

async fn stale_if_match_is_refused_and_changes_nothing(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada").await;
    let a = s.asset(&owner, json!({})).await;
    let path = format!("/api/v1/assets/{}", a["id"].as_str().expect("id"));
    let u = s
        .patch(
            &path,
            json!({"name": "Renamed", "description": "Now with a description"}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(u.status, 200, "{}", u.body);
    assert_eq!(u.etag(), "\"2\"");
    assert_eq!(u.body["version"], 2);
    let stale = s
        .patch(&path, json!({"name": "Lost update"}), Some("\"1\""))
        .await;
    stale.problem(412);
    assert_eq!(s.get(&path).await.body["name"], "Renamed");
    // Any tag but the current one is refused (RFC 9110 §13.1.1): one this server never
    // sent, a malformed one, and a weak one, since If-Match compares strongly.
    for tag in ["\"not-the-etag\"", "yesterday", "W/\"2\"", "\"1\", \"3\""] {
        let r = s.patch(&path, json!({"name": "Lost"}), Some(tag)).await;
        r.problem(412);
    }
    assert_eq!(s.get(&path).await.body["name"], "Renamed");
    assert_eq!(s.get(&path).await.body["version"], 2);
    // A list holding the current tag, and `*`, are met.
    let listed = s
        .patch(&path, json!({"name": "W"}), Some("\"1\", \"2\""))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(
        s.patch(&path, json!({"name": "Any"}), Some("*"))
            .await
            .status,
        200
    );
    // null clears an optional field; required fields cannot be cleared.
    let c = s.patch(&path, json!({"description": null}), None).await;
    assert_eq!(c.body["description"], Value::Null);
    s.patch(
        &path,
        json!({"owner_id": null, "importance": "urgent"}),
        None,
    )
    .await
    .problem(422);
    let k = s.patch(&path, json!({"kind": "data"}), None).await;
    k.problem(422);
    assert_eq!(k.error_fields(), ["kind"]);
    s.patch(&path, json!({"status": "retired"}), None)
        .await
        .problem(422);
    // A no-op patch changes nothing.
    let before = s.get(&path).await.body["version"].clone();
    let same = s.patch(&path, json!({"name": "Any"}), None).await;
    assert_eq!(same.body["version"], before);
}

async fn lifecycle_transitions_and_disposal(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada").await;
    let a = s
        .asset(&owner, json!({"classification": "confidential"}))
        .await;
    let id = a["id"].as_str().expect("id");
    let tpath = format!("/api/v1/assets/{id}/transitions");
    let t = |body: Value| s.post(&tpath, body);
    let e = t(json!({"to": "disposed", "disposal": {"method": "destroy", "performed_by": "Shred Co", "performed_at": "2026-01-01T00:00:00Z", "certificate_ref": "C-1"}})).await;
    e.problem(422);
    assert!(
        e.body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("in_use cannot become disposed"),
        "{}",
        e.body
    );
    let r = t(json!({"to": "retired", "reason": "End of life"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "retired");
    t(json!({"to": "disposed", "reason": "Shredded"}))
        .await
        .problem(422);
    let weak = t(json!({"to": "disposed", "disposal": {"method": "clear", "performed_by": "IT", "performed_at": "2026-01-01T00:00:00Z"}})).await;
    weak.problem(422);
    assert!(
        weak.error_fields().contains(&"disposal.method".to_string()),
        "{}",
        weak.body
    );
    let d = t(json!({"to": "disposed", "reason": "Shredded", "disposal": {"method": "destroy", "performed_by": "Shred Co", "performed_at": "2026-01-01T00:00:00Z", "certificate_ref": "C-1"}})).await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.body["disposal"]["certificate_ref"], "C-1");
    let back = t(json!({"to": "in_use"})).await;
    back.problem(422);
    assert!(
        back.body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("final"),
        "{}",
        back.body
    );
    // Lost needs an incident.
    let b = s.asset(&owner, json!({})).await;
    let path = format!(
        "/api/v1/assets/{}/transitions",
        b["id"].as_str().expect("id")
    );
    let e = s.post(&path, json!({"to": "lost"})).await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["incident_ref", "reported_at"]);
    let l = s
        .post(
            &path,
            json!({"to": "lost", "incident_ref": "INC-7", "reported_at": "2026-02-01T10:00:00Z"}),
        )
        .await;
    assert_eq!(l.status, 200, "{}", l.body);
    // A stale If-Match on a transition changes nothing.
    let stale = s
        .call(
            Method::POST,
            &path,
            Some(json!({"to": "in_stock"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    stale.problem(412);
}

async fn history_records_field_level_changes(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada").await;
    let a = s
        .asset(
            &owner,
            json!({"kind": "software", "name": "Office", "licence_key": "SECRET-KEY-1"}),
        )
        .await;
    let id = a["id"].as_str().expect("id");
    assert_eq!(a["licence_key_set"], true);
    assert!(a.get("licence_key").is_none());
    s.patch(
        &format!("/api/v1/assets/{id}"),
        json!({"name": "Office 365", "licence_key": "SECRET-KEY-2"}),
        None,
    )
    .await;
    s.post(
        &format!("/api/v1/assets/{id}/transitions"),
        json!({"to": "retired", "reason": "replaced"}),
    )
    .await;
    let h = s.get(&format!("/api/v1/assets/{id}/history")).await;
    assert_eq!(h.status, 200);
    let items = h.body["items"].as_array().expect("items");
    let actions: Vec<&str> = items.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["asset.created", "asset.updated", "asset.transitioned"]
    );
    assert_eq!(
        items[1]["changes"]["name"],
        json!({"before": "Office", "after": "Office 365"})
    );
    assert_eq!(
        items[2]["changes"]["status"],
        json!({"before": "in_use", "after": "retired"})
    );
    let actor = items[0]["actor"].as_str().unwrap_or_default();
    assert!(
        actor.starts_with("user:") && actor.contains("/token:"),
        "{actor}"
    );
    assert!(items[0]["request_id"].is_string());
    assert!(
        !h.body.to_string().contains("SECRET-KEY"),
        "secrets never enter history"
    );
    let p = s.get(&format!("/api/v1/assets/{id}/history?limit=2")).await;
    let next = p.body["next_cursor"].as_str().expect("cursor").to_string();
    let p2 = s
        .get(&format!(
            "/api/v1/assets/{id}/history?limit=2&cursor={next}"
        ))
        .await;
    assert_eq!(p2.body["items"].as_array().map(Vec::len), Some(1));
}

async fn relations_link_assets_and_complete_records(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada").await;
    let laptop = s.asset(&owner, json!({})).await;
    let data = s.asset(&owner, json!({"kind": "data", "name": "Customer list", "purpose": "Sales", "contains_personal_data": false, "last_reviewed_at": "2026-01-01"})).await;
    assert!(data["completeness"]["missing"]
        .as_array()
        .expect("list")
        .contains(&json!("systems")));
    let (lid, did) = (
        laptop["id"].as_str().expect("id"),
        data["id"].as_str().expect("id"),
    );
    let r = s
        .post(
            &format!("/api/v1/assets/{lid}/relations"),
            json!({"type": "stores", "to_id": did}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let rid = r.body["id"].as_str().expect("id").to_string();
    let after = s.get(&format!("/api/v1/assets/{did}")).await;
    assert_eq!(
        after.body["completeness"]["complete"], true,
        "{}",
        after.body
    );
    let list = s.get(&format!("/api/v1/assets/{did}/relations")).await;
    assert_eq!(list.body["items"][0]["direction"], "incoming");
    assert_eq!(list.body["items"][0]["other"]["id"], lid);
    s.post(
        &format!("/api/v1/assets/{lid}/relations"),
        json!({"type": "stores", "to_id": did}),
    )
    .await
    .problem(409);
    s.post(
        &format!("/api/v1/assets/{lid}/relations"),
        json!({"type": "owns", "to_id": did}),
    )
    .await
    .problem(422);
    s.post(
        &format!("/api/v1/assets/{lid}/relations"),
        json!({"type": "stores", "to_id": lid}),
    )
    .await
    .problem(422);
    let del = s
        .call(
            Method::DELETE,
            &format!("/api/v1/assets/{lid}/relations/{rid}"),
            None,
            &[],
        )
        .await;
    assert_eq!(del.status, 204);
    assert_eq!(
        s.get(&format!("/api/v1/assets/{did}/relations")).await.body["items"],
        json!([])
    );
    let h = s.get(&format!("/api/v1/assets/{lid}/history")).await;
    let actions: Vec<&str> = h.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["asset.created", "asset.linked", "asset.unlinked"]);
}

async fn bulk_create_answers_per_item(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada").await;
    let ok = json!({"kind": "physical", "name": "A", "owner_id": owner, "importance": "low", "classification": "public"});
    let b = s
        .post(
            "/api/v1/assets/bulk",
            json!({"items": [ok, {"kind": "physical"}, 7, ok]}),
        )
        .await;
    assert_eq!(b.status, 200, "{}", b.body);
    assert_eq!(b.body["created"], 2);
    assert_eq!(b.body["failed"], 2);
    let statuses: Vec<u64> = b.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["status"].as_u64())
        .collect();
    assert_eq!(statuses, [201, 422, 422, 201]);
    assert_eq!(b.body["items"][1]["problem"]["errors"][0]["field"], "name");
    assert_eq!(
        s.get("/api/v1/assets").await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // Clashes the database would refuse are answered per item.
    let with_ext = |n: &str, ext: &str| json!({"kind": "physical", "name": n, "owner_id": owner, "importance": "low", "classification": "public", "external_ids": {"mdm": ext}});
    s.post("/api/v1/assets", with_ext("Known", "M-1")).await;
    let b = s.post("/api/v1/assets/bulk", json!({"items": [with_ext("A", "M-1"), with_ext("B", "M-2"), with_ext("C", "M-2"), with_ext("D", "M-3")]})).await;
    let statuses: Vec<u64> = b.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["status"].as_u64())
        .collect();
    assert_eq!(statuses, [409, 201, 409, 201], "{}", b.body);
    assert_eq!(
        b.body["items"][0]["problem"]["errors"][0]["field"],
        "external_ids"
    );
    // An item may give by hand the number the item before it would draw automatically.
    let next = s.post("/api/v1/assets", ok.clone()).await.body["asset_number"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let following = format!(
        "AST-{:06}",
        next.trim_start_matches("AST-").parse::<u32>().unwrap_or(0) + 1
    );
    let mut manual = ok.clone();
    manual["asset_number"] = json!(following);
    let b = s
        .post(
            "/api/v1/assets/bulk",
            json!({"items": [ok.clone(), manual]}),
        )
        .await;
    assert_eq!(b.body["created"], 2, "{}", b.body);
    assert_ne!(
        b.body["items"][0]["asset"]["asset_number"],
        json!(following)
    );
    s.post("/api/v1/assets/bulk", json!({"things": []}))
        .await
        .problem(422);
    let too_many: Vec<Value> = (0..1001).map(|_| json!({})).collect();
    s.post("/api/v1/assets/bulk", json!({"items": too_many}))
        .await
        .problem(422);
    // Items that are not even assets count towards the limit too.
    let too_many_nulls: Vec<Value> = (0..1001).map(|_| Value::Null).collect();
    let p = s
        .post("/api/v1/assets/bulk", json!({"items": too_many_nulls}))
        .await;
    p.problem(422);
    assert_eq!(p.body["errors"][0]["field"], "items", "{}", p.body);
}

async fn lists_filter_search_and_page(backend: &str) {
    let s = start(backend).await;
    let ada = s.person("Ada").await;
    let bob = s.person("Bob").await;
    for i in 0..7 {
        s.asset(
            &ada,
            json!({"name": format!("ThinkPad {i}"), "tags": ["fleet"]}),
        )
        .await;
    }
    s.asset(&bob, json!({"kind": "data", "name": "Payroll", "classification": "restricted", "importance": "critical", "next_review_at": "2020-01-01"})).await;
    let names = |b: &Value| {
        b["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|a| a["name"].as_str().map(String::from))
            .collect::<Vec<_>>()
    };
    let mut seen = Vec::new();
    let mut path = "/api/v1/assets?limit=3".to_string();
    loop {
        let p = s.get(&path).await;
        assert_eq!(p.status, 200, "{}", p.body);
        seen.extend(names(&p.body));
        match p.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/assets?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    assert_eq!(
        names(&s.get(&format!("/api/v1/assets?owner_id={bob}")).await.body),
        ["Payroll"]
    );
    assert_eq!(
        names(
            &s.get("/api/v1/assets?kind=data&classification=restricted&importance=critical")
                .await
                .body
        ),
        ["Payroll"]
    );
    assert_eq!(
        names(&s.get("/api/v1/assets?review_overdue=true").await.body),
        ["Payroll"]
    );
    assert_eq!(
        s.get("/api/v1/assets?tag=fleet").await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(7)
    );
    assert_eq!(
        names(&s.get("/api/v1/assets?q=thinkpad%203").await.body),
        ["ThinkPad 3"]
    );
    assert_eq!(
        names(&s.get("/api/v1/assets?q=payr").await.body),
        ["Payroll"]
    );
    assert_eq!(
        s.get("/api/v1/assets?q=nothing-like-it").await.body["items"],
        json!([])
    );
}

async fn concurrent_creates_get_distinct_numbers(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada").await;
    let body = json!({"kind": "physical", "name": "Laptop", "owner_id": owner, "importance": "low", "classification": "public"});
    let calls = (0..40).map(|_| s.post("/api/v1/assets", body.clone()));
    let answers = futures_util::future::join_all(calls).await;
    let mut numbers: Vec<String> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 201, "{}", a.body);
            a.body["asset_number"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 40);
    // A number given by hand inside the reserved block is skipped, not reused. It is the
    // one after the highest drawn: the forty need not be 1 to 40, since a number drawn for
    // a change that was then retried can be left unused, as a sequence's is.
    let highest: u64 = numbers
        .last()
        .and_then(|n| n.trim_start_matches("AST-").parse().ok())
        .expect("a number");
    let manual = format!("AST-{:06}", highest + 1);
    let taken = s.post("/api/v1/assets", json!({"kind": "physical", "name": "Manual", "owner_id": owner, "importance": "low", "classification": "public", "asset_number": manual})).await;
    assert_eq!(taken.status, 201, "{}", taken.body);
    for _ in 0..30 {
        let a = s.post("/api/v1/assets", body.clone()).await;
        assert_eq!(a.status, 201, "{}", a.body);
        assert_ne!(a.body["asset_number"], manual.as_str());
    }
    let v = s.get("/api/v1/audit/verify").await;
    assert_eq!(v.body["intact"], true, "{}", v.body);
}

async fn sorted_lists_page_with_their_own_cursors(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada Owner").await;
    for name in ["Zulu", "Alpha", "Mike", "Alpha"] {
        s.asset(&owner, json!({"name": name})).await;
    }
    let mut names = Vec::new();
    let mut path = "/api/v1/assets?sort=name&limit=1".to_string();
    loop {
        let a = s.get(&path).await;
        assert_eq!(a.status, 200, "{}", a.body);
        for i in a.body["items"].as_array().expect("items") {
            names.push(i["name"].as_str().expect("name").to_string());
        }
        match a.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/assets?sort=name&limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(names, ["Alpha", "Alpha", "Mike", "Zulu"]);
    // A cursor of another order is refused rather than misread.
    let plain = s.get("/api/v1/assets?limit=1").await;
    let c = plain.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_string();
    s.get(&format!("/api/v1/assets?sort=name&cursor={c}"))
        .await
        .problem(400);
    let bad = s.get("/api/v1/assets?sort=price").await;
    bad.problem(400);
    assert!(bad.body["detail"].as_str().unwrap_or("").contains("sort"));
}

async fn reviews_record_who_and_move_the_date_on(backend: &str) {
    let s = start(backend).await;
    let mara = s.person("Mara Manager").await;
    let olga = s.person("Olga Owner").await;
    let mine = s
        .asset(
            &olga,
            json!({"name": "Olga's laptop", "classification": "restricted"}),
        )
        .await;
    let other = s.asset(&mara, json!({"name": "Mara's phone"})).await;
    let id = mine["id"].as_str().expect("id").to_string();
    crate::common::account(
        &s.app,
        "mara@test.example",
        "manager",
        Some(mara.parse().expect("uuid")),
    )
    .await;
    crate::common::account(
        &s.app,
        "olga@test.example",
        "member",
        Some(olga.parse().expect("uuid")),
    )
    .await;
    crate::common::account(&s.app, "nobody@test.example", "manager", None).await;
    let bearer = |t: String| format!("Bearer {t}");
    let olga_t = bearer(crate::common::token(&s.app, "olga@test.example", "write").await);
    let mara_t = bearer(crate::common::token(&s.app, "mara@test.example", "write").await);
    let none_t = bearer(crate::common::token(&s.app, "nobody@test.example", "write").await);
    let review = |t: String, body: Value| {
        let s = &s;
        async move {
            s.call_bare(
                Method::POST,
                "/api/v1/reviews",
                Some(body),
                &[("authorization", &t)],
            )
            .await
        }
    };

    // The owner reviews their own asset: recorded in their name, due again after the
    // restricted level's 180 days.
    let r = review(
        olga_t.clone(),
        json!({"asset_id": id, "notes": "Checked the disk encryption"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["reviewed_by"], olga.as_str());
    let due = chrono::Utc::now().date_naive() + chrono::TimeDelta::days(180);
    assert_eq!(r.body["next_review_at"], due.to_string());
    assert_eq!(r.body["asset"]["last_reviewed_by"], olga.as_str());
    let history = s
        .get(&format!("/api/v1/assets/{id}/history"))
        .await
        .body
        .to_string();
    assert!(
        history.contains("asset.reviewed") && history.contains("Checked the disk encryption"),
        "{history}"
    );

    // Not someone else's asset, nor without a person, nor with a stale version.
    let other_id = other["id"].as_str().expect("id");
    review(olga_t.clone(), json!({"asset_id": other_id}))
        .await
        .problem(404);
    let r = review(none_t, json!({"asset_id": id})).await;
    r.problem(422);
    assert!(r.body["detail"].as_str().unwrap_or("").contains("person"));
    review(mara_t.clone(), json!({"asset_id": id, "version": 1}))
        .await
        .problem(412);
    let r = review(mara_t.clone(), json!({"asset_id": id})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["reviewed_by"],
        mara.as_str(),
        "a manager reviews any asset"
    );
    let r = review(mara_t, json!({"notes": 5, "extra": true})).await;
    r.problem(422);
    assert_eq!(
        r.error_fields(),
        ["extra", "asset_id", "notes"].map(String::from).to_vec(),
        "{}",
        r.body
    );
}

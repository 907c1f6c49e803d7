//! Parties, delegations, locations, the classification scheme and custom fields over HTTP.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::start;

crate::on_both!(
    parties_teams_roles_and_leavers,
    locations_form_a_tree,
    the_classification_scheme,
    custom_fields_are_typed
);

async fn parties_teams_roles_and_leavers(backend: &str) {
    let s = start(backend).await;
    let ada = s.person("Ada Lovelace").await;
    let bob = s.person("Bob Byte").await;
    let team = s
        .post(
            "/api/v1/parties",
            json!({"kind": "team", "name": "IT", "member_ids": [ada, bob]}),
        )
        .await;
    assert_eq!(team.status, 201, "{}", team.body);
    assert_eq!(team.body["member_ids"], json!([ada, bob]));
    let role = s
        .post(
            "/api/v1/parties",
            json!({"kind": "role", "name": "DPO", "holder_id": ada}),
        )
        .await;
    assert_eq!(role.status, 201, "{}", role.body);
    let team_id = team.body["id"].as_str().expect("id");
    let bad = s
        .post(
            "/api/v1/parties",
            json!({"kind": "team", "name": "Nested", "member_ids": [team_id]}),
        )
        .await;
    bad.problem(422);
    assert_eq!(bad.error_fields(), ["member_ids"]);
    s.post(
        "/api/v1/parties",
        json!({"kind": "person", "name": "Dup", "email": "ada.lovelace@example.com"}),
    )
    .await
    .problem(409);
    let e = s
        .post(
            "/api/v1/parties",
            json!({"kind": "person", "name": "", "email": "nope", "status": "gone"}),
        )
        .await;
    e.problem(422);
    let mut f = e.error_fields();
    f.sort();
    assert_eq!(f, ["email", "name", "status"]);
    // An owner's asset can be owned by a team or a role.
    s.asset(team_id, json!({})).await;
    // Delegations end when a party leaves.
    let d = s
        .post(
            "/api/v1/delegations",
            json!({"owner_id": ada, "delegate_id": bob, "task": "review"}),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let left = s
        .patch(
            &format!("/api/v1/parties/{bob}"),
            json!({"status": "left", "end_date": "2026-03-31"}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(left.status, 200, "{}", left.body);
    let active = s
        .get(&format!("/api/v1/delegations?owner_id={ada}&active=true"))
        .await;
    assert_eq!(active.body["items"], json!([]));
    let ended = s
        .get(&format!(
            "/api/v1/delegations/{}",
            d.body["id"].as_str().expect("id")
        ))
        .await;
    assert!(
        ended.body["end_reason"]
            .as_str()
            .unwrap_or("")
            .contains("left"),
        "{}",
        ended.body
    );
    let leavers = s.get("/api/v1/parties?status=left").await;
    assert_eq!(leavers.body["items"][0]["name"], "Bob Byte");
    let search = s.get("/api/v1/parties?q=lovelace").await;
    assert_eq!(search.body["items"].as_array().map(Vec::len), Some(1));
    // A delegation to someone who left is refused; ending twice is a conflict.
    s.post(
        "/api/v1/delegations",
        json!({"owner_id": ada, "delegate_id": bob, "task": "review"}),
    )
    .await
    .problem(422);
    s.post(
        &format!(
            "/api/v1/delegations/{}/end",
            d.body["id"].as_str().expect("id")
        ),
        json!({}),
    )
    .await
    .problem(409);
    s.get(&format!("/api/v1/parties/{}", uuid::Uuid::now_v7()))
        .await
        .problem(404);
}

async fn locations_form_a_tree(backend: &str) {
    let s = start(backend).await;
    let site = s
        .post("/api/v1/locations", json!({"name": "HQ", "kind": "site"}))
        .await;
    let sid = site.body["id"].as_str().expect("id").to_string();
    let room = s
        .post(
            "/api/v1/locations",
            json!({"name": "Server room", "kind": "room", "parent_id": sid}),
        )
        .await;
    assert_eq!(room.status, 201, "{}", room.body);
    let rid = room.body["id"].as_str().expect("id");
    let cycle = s
        .patch(
            &format!("/api/v1/locations/{sid}"),
            json!({"parent_id": rid}),
            None,
        )
        .await;
    cycle.problem(422);
    assert_eq!(cycle.error_fields(), ["parent_id"]);
    s.post(
        "/api/v1/locations",
        json!({"name": "Nowhere", "parent_id": uuid::Uuid::now_v7()}),
    )
    .await
    .problem(422);
    let off = s
        .patch(
            &format!("/api/v1/locations/{rid}"),
            json!({"on_premises": false}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(off.body["on_premises"], false);
    let owner = s.person("Ada").await;
    let a = s.asset(&owner, json!({"location_id": rid})).await;
    assert_eq!(a["location_id"], rid);
    let wrong = s.post("/api/v1/assets", json!({"kind": "physical", "name": "X", "owner_id": owner, "importance": "low", "classification": "public", "location_id": uuid::Uuid::now_v7()})).await;
    wrong.problem(422);
    assert_eq!(wrong.error_fields(), ["location_id"]);
    assert_eq!(
        s.get("/api/v1/locations").await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

async fn the_classification_scheme(backend: &str) {
    let s = start(backend).await;
    let levels = s.get("/api/v1/classifications").await;
    let keys: Vec<&str> = levels.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|l| l["key"].as_str())
        .collect();
    assert_eq!(keys, ["public", "internal", "confidential", "restricted"]);
    assert_eq!(
        levels.body["items"][3]["disposal_method"],
        "physical_destruction"
    );
    let top = s.post("/api/v1/classifications", json!({"key": "top_secret", "name": "Top secret", "rank": 4, "off_premises": "forbidden", "disposal_method": "physical_destruction"})).await;
    assert_eq!(top.status, 201, "{}", top.body);
    s.post(
        "/api/v1/classifications",
        json!({"key": "other", "name": "Other", "rank": 4}),
    )
    .await
    .problem(409);
    let renamed = s
        .patch(
            "/api/v1/classifications/confidential",
            json!({"name": "Company confidential"}),
            Some("\"1\""),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    s.patch(
        "/api/v1/classifications/confidential",
        json!({"key": "conf"}),
        None,
    )
    .await
    .problem(422);
    s.patch(
        "/api/v1/classifications/confidential",
        json!({"name": "Again"}),
        Some("\"1\""),
    )
    .await
    .problem(412);
    let owner = s.person("Ada").await;
    s.asset(&owner, json!({"classification": "top_secret"}))
        .await;
    let used = s
        .call(
            Method::DELETE,
            "/api/v1/classifications/top_secret",
            None,
            &[],
        )
        .await;
    used.problem(409);
    assert_eq!(
        s.call(Method::DELETE, "/api/v1/classifications/public", None, &[])
            .await
            .status,
        204
    );
    s.get("/api/v1/classifications/public").await.problem(404);
}

async fn custom_fields_are_typed(backend: &str) {
    let s = start(backend).await;
    let d = s.post("/api/v1/custom_fields", json!({"entity_type": "asset", "key": "cost_centre", "label": "Cost centre", "field_type": "choice", "choices": ["OPS", "RND"], "required": true})).await;
    assert_eq!(d.status, 201, "{}", d.body);
    s.post("/api/v1/custom_fields", json!({"entity_type": "asset", "key": "cost_centre", "label": "Again", "field_type": "text"})).await.problem(409);
    s.post(
        "/api/v1/custom_fields",
        json!({"entity_type": "asset", "key": "x", "label": "X", "field_type": "choice"}),
    )
    .await
    .problem(422);
    let owner = s.person("Ada").await;
    let base = json!({"kind": "physical", "name": "X", "owner_id": owner, "importance": "low", "classification": "public"});
    let missing = s.post("/api/v1/assets", base.clone()).await;
    missing.problem(422);
    assert_eq!(missing.error_fields(), ["custom.cost_centre"]);
    let mut bad = base.clone();
    bad["custom"] = json!({"cost_centre": "HR", "colour": "red"});
    let e = s.post("/api/v1/assets", bad).await;
    e.problem(422);
    let mut fields = e.error_fields();
    fields.sort();
    assert_eq!(fields, ["custom.colour", "custom.cost_centre"]);
    let mut good = base.clone();
    good["custom"] = json!({"cost_centre": "OPS"});
    let a = s.post("/api/v1/assets", good).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["custom"], json!({"cost_centre": "OPS"}));
    let id = d.body["id"].as_str().expect("id");
    let u = s
        .patch(
            &format!("/api/v1/custom_fields/{id}"),
            json!({"required": false}),
            None,
        )
        .await;
    assert_eq!(u.body["required"], false);
    assert_eq!(
        s.call(
            Method::DELETE,
            &format!("/api/v1/custom_fields/{id}"),
            None,
            &[]
        )
        .await
        .status,
        204
    );
    // The asset stays editable once the definition is gone.
    let path = format!("/api/v1/assets/{}", a.body["id"].as_str().expect("id"));
    let edit = s.patch(&path, json!({"name": "Y"}), None).await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    assert_eq!(edit.body["custom"], Value::Object(Default::default()));
}

//! Return of assets and attestation over HTTP: offboarding cases for leavers, handover
//! cases for movers, attestation campaigns.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{start, Answer};
use crate::workflows::{approve_aup, id_of, person, Person};

crate::on_both!(
    leavers_settle_every_item_before_the_case_closes,
    movers_and_cases_opened_by_hand,
    attestation_campaigns_measure_completion,
);

fn item<'a>(case: &'a Value, kind: &str) -> &'a Value {
    case["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["kind"] == kind))
        .unwrap_or_else(|| panic!("no {kind} item in {case}"))
}

async fn settle(p: &Person<'_>, case: &Value, kind: &str, body: Value) -> Answer {
    let path = format!(
        "/api/v1/offboardings/{}/items/{}/settle",
        case["id"].as_str().expect("id"),
        item(case, kind)["id"].as_str().expect("item id")
    );
    p.post(&path, body).await
}

async fn leavers_settle_every_item_before_the_case_closes(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Admin", "admin").await;
    let mara = person(&s, "Mara Manager", "manager").await;
    let lee = person(&s, "Lee Leaver", "member").await;
    let bob = person(&s, "Bob Member", "member").await;
    let sam = s.person("Sam Successor").await;
    approve_aup(&ann, "1.0", true).await;
    assert_eq!(
        lee.post("/api/v1/acknowledgements", json!({})).await.status,
        201
    );
    let laptop = s
        .asset(&ann.id, json!({"name": "ThinkPad", "status": "in_stock"}))
        .await;
    let issued = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": laptop["id"], "person_id": lee.id}),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let runbook = s
        .asset(&lee.id, json!({"kind": "intangible", "name": "Runbook"}))
        .await;
    let phone = s
        .asset(
            &lee.id,
            json!({"name": "Own phone", "personal_device": true}),
        )
        .await;
    let d = s
        .post(
            "/api/v1/delegations",
            json!({"owner_id": ann.id, "delegate_id": lee.id, "task": "review"}),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);

    // Entering notice opens the case, listing everything to settle.
    let p = s
        .patch(
            &format!("/api/v1/parties/{}", lee.id),
            json!({"status": "notice", "end_date": "2025-01-31"}),
            None,
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let list = mara
        .get(&format!("/api/v1/offboardings?person_id={}", lee.id))
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1, "{}", list.body);
    let case = items[0].clone();
    let cid = case["id"].as_str().expect("id").to_string();
    assert_eq!(case["kind"], "leaver");
    assert_eq!(case["reason"], "entered notice");
    assert_eq!(case["end_date"], "2025-01-31");
    let mut kinds: Vec<&str> = case["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["kind"].as_str().expect("kind"))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "erase_personal_device",
            "hand_over_asset",
            "hand_over_delegation",
            "return_asset",
            "revoke_access"
        ]
    );
    assert_eq!(
        item(&case, "return_asset")["title"],
        "Return AST-000001 ThinkPad"
    );
    assert_eq!(
        item(&case, "erase_personal_device")["asset_id"],
        phone["id"]
    );
    assert_eq!(item(&case, "hand_over_asset")["asset_id"], runbook["id"]);
    // The end date has passed: every open item is overdue.
    assert_eq!(case["overdue"], true);
    assert_eq!(item(&case, "revoke_access")["overdue"], true);
    assert_eq!(case["open_items"], 5);
    // While they work their notice, the controls against copying are listed.
    assert!(
        case["notice_controls"].as_array().expect("controls").len() >= 3,
        "{case}"
    );

    // The leaver sees their own case; another member sees none.
    let own = lee.get("/api/v1/offboardings").await;
    assert_eq!(own.body["items"].as_array().expect("items").len(), 1);
    let other = bob.get("/api/v1/offboardings").await;
    assert_eq!(other.body["items"], json!([]));
    bob.get(&format!("/api/v1/offboardings/{cid}"))
        .await
        .problem(404);

    // A case with open items does not close; nothing changes.
    let e = mara
        .post(&format!("/api/v1/offboardings/{cid}/close"), json!({}))
        .await;
    e.problem(409);
    assert!(
        e.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("5 items are still open"),
        "{}",
        e.body
    );

    // Settling needs evidence, a successor for hand-overs, and a manager.
    let e = settle(&mara, &case, "erase_personal_device", json!({"colour": 1})).await;
    e.problem(422);
    let mut fields = e.error_fields();
    fields.sort();
    assert_eq!(fields, ["colour", "evidence"]);
    let e = settle(
        &mara,
        &case,
        "hand_over_asset",
        json!({"evidence": "Handed over"}),
    )
    .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["successor_id"]);
    settle(
        &lee,
        &case,
        "erase_personal_device",
        json!({"evidence": "done"}),
    )
    .await
    .problem(403);

    // Name the successor on the case (If-Match guards it).
    let stale = mara
        .call(
            Method::PATCH,
            &format!("/api/v1/offboardings/{cid}"),
            Some(json!({"successor_id": sam})),
        )
        .await;
    assert_eq!(stale.status, 200, "{}", stale.body);
    assert_eq!(stale.body["successor_id"], sam.as_str());
    let e = mara
        .call(
            Method::PATCH,
            &format!("/api/v1/offboardings/{cid}"),
            Some(json!({"successor_id": lee.id})),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["successor_id"]);

    // Handing over an owned asset moves its ownership, in the same change.
    let h = settle(
        &mara,
        &case,
        "hand_over_asset",
        json!({"evidence": "Walked Sam through it"}),
    )
    .await;
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(item(&h.body, "hand_over_asset")["status"], "settled");
    assert_eq!(
        item(&h.body, "hand_over_asset")["successor_id"],
        sam.as_str()
    );
    assert_eq!(
        item(&h.body, "hand_over_asset")["settled_by"],
        mara.id.as_str()
    );
    let rb = s
        .get(&format!(
            "/api/v1/assets/{}",
            runbook["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(rb.body["owner_id"], sam.as_str());
    let hist = s
        .get(&format!(
            "/api/v1/assets/{}/history",
            runbook["id"].as_str().expect("id")
        ))
        .await;
    assert!(
        hist.body.to_string().contains("asset.handed_over"),
        "{}",
        hist.body
    );
    let again = settle(
        &mara,
        &h.body,
        "hand_over_asset",
        json!({"evidence": "again"}),
    )
    .await;
    again.problem(409);

    // Handing over a delegation ends it and gives the task to the successor.
    let h = settle(
        &mara,
        &h.body,
        "hand_over_delegation",
        json!({"evidence": "Agreed with Ann"}),
    )
    .await;
    assert_eq!(h.status, 200, "{}", h.body);
    let old = s
        .get(&format!(
            "/api/v1/delegations/{}",
            d.body["id"].as_str().expect("id")
        ))
        .await;
    assert!(old.body["ended_at"].is_string(), "{}", old.body);
    let new = s
        .get(&format!(
            "/api/v1/delegations?delegate_id={sam}&active=true"
        ))
        .await;
    assert_eq!(
        new.body["items"][0]["owner_id"],
        ann.id.as_str(),
        "{}",
        new.body
    );
    assert_eq!(new.body["items"][0]["task"], "review");

    // Taking the laptop back through custody settles its item.
    let r = mara
        .post(
            &format!(
                "/api/v1/assignments/{}/return",
                issued.body["id"].as_str().expect("id")
            ),
            json!({"condition": "Scratched lid"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = mara.get(&format!("/api/v1/offboardings/{cid}")).await;
    let ret = item(&c.body, "return_asset");
    assert_eq!(ret["status"], "settled", "{}", c.body);
    assert!(
        ret["evidence"]
            .as_str()
            .unwrap_or_default()
            .contains("Scratched lid"),
        "{ret}"
    );

    let c = settle(
        &mara,
        &c.body,
        "erase_personal_device",
        json!({"evidence": "MDM selective wipe, ticket IT-4411"}),
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.body);

    // A manager may not disable accounts: the item names the account still enabled.
    let e = settle(
        &mara,
        &c.body,
        "revoke_access",
        json!({"evidence": "SSO off"}),
    )
    .await;
    e.problem(409);
    assert!(
        e.body.to_string().contains("lee.leaver@test.example"),
        "{}",
        e.body
    );
    // An admin settles it, disabling the account and its tokens in the same change.
    let c = settle(
        &ann,
        &c.body,
        "revoke_access",
        json!({"evidence": "SSO off"}),
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(lee.get("/api/v1/offboardings").await.status, 401);
    assert_eq!(c.body["open_items"], 0);
    assert_eq!(c.body["overdue"], false);

    // Closing: a stale ETag changes nothing; then the case closes.
    let v = c.body["version"].as_i64().expect("version");
    let stale = s
        .call(
            Method::POST,
            &format!("/api/v1/offboardings/{cid}/close"),
            Some(json!({})),
            &[("if-match", &format!("\"{}\"", v - 1))],
        )
        .await;
    stale.problem(412);
    let closed = s
        .call(
            Method::POST,
            &format!("/api/v1/offboardings/{cid}/close"),
            Some(json!({"notes": "All back"})),
            &[("if-match", &format!("\"{v}\""))],
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    mara.post(&format!("/api/v1/offboardings/{cid}/close"), json!({}))
        .await
        .problem(409);
}

async fn movers_and_cases_opened_by_hand(backend: &str) {
    let s = start(backend).await;
    let mara = person(&s, "Mara Manager", "manager").await;
    let bob = person(&s, "Bob Member", "member").await;
    let lee = s.person("Lee Mover").await;
    let sam = s.person("Sam Next").await;
    let team = s
        .post(
            "/api/v1/parties",
            json!({"kind": "team", "name": "Finance", "member_ids": [lee, sam]}),
        )
        .await;
    assert_eq!(team.status, 201, "{}", team.body);
    let tid = id_of(&team);
    let role = s
        .post(
            "/api/v1/parties",
            json!({"kind": "role", "name": "DPO", "holder_id": lee}),
        )
        .await;
    let rid = id_of(&role);
    let ledger = s
        .asset(&tid, json!({"kind": "data", "name": "Ledger"}))
        .await;
    s.asset(&rid, json!({"kind": "data", "name": "ROPA"})).await;

    // Leaving a team opens a handover case for what the team owns.
    let p = s
        .patch(
            &format!("/api/v1/parties/{tid}"),
            json!({"member_ids": [sam]}),
            None,
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let cases = mara
        .get(&format!("/api/v1/offboardings?person_id={lee}&kind=mover"))
        .await;
    let case = cases.body["items"][0].clone();
    assert_eq!(case["reason"], "left the team Finance", "{}", cases.body);
    assert_eq!(case["from_party_id"], tid.as_str());
    assert_eq!(item(&case, "hand_over_asset")["asset_id"], ledger["id"]);
    assert_eq!(case["notice_controls"], json!([]));

    // Giving up a role: the new holder is the successor.
    s.patch(
        &format!("/api/v1/parties/{rid}"),
        json!({"holder_id": sam}),
        None,
    )
    .await;
    let cases = mara
        .get(&format!("/api/v1/offboardings?person_id={lee}&kind=mover"))
        .await;
    let role_case = cases.body["items"][0].clone();
    assert_eq!(
        role_case["reason"], "gave up the role DPO",
        "{}",
        cases.body
    );
    assert_eq!(role_case["successor_id"], sam.as_str());
    // A hand-over of what a role owns records the successor and leaves the owner alone.
    let h = settle(
        &mara,
        &role_case,
        "hand_over_asset",
        json!({"evidence": "Briefed"}),
    )
    .await;
    assert_eq!(h.status, 200, "{}", h.body);
    let ropa = item(&role_case, "hand_over_asset")["asset_id"]
        .as_str()
        .expect("asset")
        .to_string();
    assert_eq!(
        s.get(&format!("/api/v1/assets/{ropa}")).await.body["owner_id"],
        rid.as_str()
    );

    // Opening by hand: bad input named, members refused, one open leaver case at a time.
    let e = mara
        .post(
            "/api/v1/offboardings",
            json!({"person_id": "x", "end_date": "soon"}),
        )
        .await;
    e.problem(422);
    let mut fields = e.error_fields();
    fields.sort();
    assert_eq!(fields, ["end_date", "person_id"]);
    bob.post("/api/v1/offboardings", json!({"person_id": lee}))
        .await
        .problem(403);
    let opened = mara
        .post(
            "/api/v1/offboardings",
            json!({"person_id": lee, "end_date": "2030-06-30", "successor_id": sam}),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    assert!(opened.headers.get("location").is_some());
    assert_eq!(opened.body["reason"], "opened by hand");
    assert_eq!(opened.body["overdue"], false);
    assert_eq!(opened.body["items"].as_array().expect("items").len(), 1);
    mara.post("/api/v1/offboardings", json!({"person_id": lee}))
        .await
        .problem(409);

    // Something issued after the case opened is listed by a refresh.
    let tool = s
        .asset(
            &mara.id,
            json!({"name": "Torque wrench", "status": "in_stock"}),
        )
        .await;
    crate::workflows::acceptable_use_only_warns(&s).await;
    let i = mara
        .post(
            "/api/v1/assignments",
            json!({"asset_id": tool["id"], "person_id": lee}),
        )
        .await;
    assert_eq!(i.status, 201, "{}", i.body);
    let oid = id_of(&opened);
    let r = mara
        .post(&format!("/api/v1/offboardings/{oid}/refresh"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["items"].as_array().expect("items").len(), 2);
    assert_eq!(
        item(&r.body, "return_asset")["title"],
        format!(
            "Return {} Torque wrench",
            tool["asset_number"].as_str().expect("number")
        )
    );
    // Moving the person to notice now opens no second leaver case.
    s.patch(
        &format!("/api/v1/parties/{lee}"),
        json!({"status": "notice"}),
        None,
    )
    .await;
    let leaver = mara
        .get(&format!("/api/v1/offboardings?person_id={lee}&kind=leaver"))
        .await;
    assert_eq!(leaver.body["items"].as_array().expect("items").len(), 1);
}

async fn attestation_campaigns_measure_completion(backend: &str) {
    let s = start(backend).await;
    let mara = person(&s, "Mara Manager", "manager").await;
    let bob = person(&s, "Bob Member", "member").await;
    let ann = s.person("Ann Owner").await;
    let team = s
        .post(
            "/api/v1/parties",
            json!({"kind": "team", "name": "Ops", "member_ids": [ann]}),
        )
        .await;
    let tid = id_of(&team);
    s.asset(&ann, json!({"name": "A1"})).await;
    s.asset(&ann, json!({"name": "A2"})).await;
    let ops = s.asset(&tid, json!({"name": "Switch"})).await;
    let mine = s.asset(&bob.id, json!({"name": "Bob's laptop"})).await;

    // Bad input named; members do not open campaigns.
    let e = mara
        .post(
            "/api/v1/attestations",
            json!({"due_date": "2020-01-01", "scope": "all"}),
        )
        .await;
    e.problem(422);
    let mut fields = e.error_fields();
    fields.sort();
    assert_eq!(fields, ["due_date", "scope", "title"]);
    bob.post(
        "/api/v1/attestations",
        json!({"title": "Q4", "due_date": "2099-01-01"}),
    )
    .await
    .problem(403);

    let due = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(30)).to_string();
    let c = mara
        .post(
            "/api/v1/attestations",
            json!({"title": "Asset attestation Q4", "due_date": due}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let aid = id_of(&c);
    assert_eq!(c.body["completion"]["owners"], 3);
    assert_eq!(c.body["completion"]["assets"], 4);
    assert_eq!(c.body["completion"]["answered"], 0);
    mara.post(
        "/api/v1/attestations",
        json!({"title": "Again", "due_date": due}),
    )
    .await
    .problem(409);

    // A member sees and answers for themselves only.
    let seen = bob.get(&format!("/api/v1/attestations/{aid}")).await;
    assert_eq!(seen.body["owners"].as_array().expect("owners").len(), 1);
    bob.post(
        &format!("/api/v1/attestations/{aid}/answers"),
        json!({"owner_id": ann}),
    )
    .await
    .problem(403);
    let e = bob
        .post(
            &format!("/api/v1/attestations/{aid}/answers"),
            json!({"owner_id": bob.id, "disputed_asset_ids": [ops["id"]], "note": "not mine"}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["disputed_asset_ids[0]"]);
    let ok = bob
        .post(
            &format!("/api/v1/attestations/{aid}/answers"),
            json!({"owner_id": bob.id}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["owners"][0]["status"], "confirmed");
    assert_eq!(ok.body["owners"][0]["responded_by"], bob.id.as_str());
    let _ = mine;

    // A manager answers for a team, naming an asset as wrong.
    let e = mara
        .post(
            &format!("/api/v1/attestations/{aid}/answers"),
            json!({"owner_id": tid, "disputed_asset_ids": [ops["id"]]}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["note"]);
    let ok = mara
        .post(
            &format!("/api/v1/attestations/{aid}/answers"),
            json!({"owner_id": tid, "disputed_asset_ids": [ops["id"]], "note": "Switch was sold"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let comp = &ok.body["completion"];
    assert_eq!(comp["answered"], 2);
    assert_eq!(comp["corrected"], 1);
    // Bob's asset is attested; the team's switch, named as wrong, is not.
    assert_eq!(comp["assets_attested"], 1);
    assert_eq!(comp["percent"], 66.7);
    let e = mara
        .post(
            &format!("/api/v1/attestations/{aid}/answers"),
            json!({"owner_id": mara.id}),
        )
        .await;
    e.problem(422);
    assert_eq!(e.error_fields(), ["owner_id"]);

    // Closing records the completion; a closed campaign takes no answers.
    let v = ok.body["version"].as_i64().expect("version");
    s.call(
        Method::POST,
        &format!("/api/v1/attestations/{aid}/close"),
        None,
        &[("if-match", &format!("\"{}\"", v + 5))],
    )
    .await
    .problem(412);
    let closed = mara
        .post(&format!("/api/v1/attestations/{aid}/close"), json!({}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    mara.post(
        &format!("/api/v1/attestations/{aid}/answers"),
        json!({"owner_id": ann}),
    )
    .await
    .problem(409);
    let list = bob.get("/api/v1/attestations").await;
    assert_eq!(list.body["items"][0]["id"], aid.as_str());
}

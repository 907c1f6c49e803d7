//! The register as at a past time (SPEC §12): random sequences of creates, updates,
//! transitions and disposals, and at every step the register as at that step's time is
//! what was read then; paging, filters and refusals. Audit samples drawn from it.

use serde_json::{json, Value};

use crate::common::{start, Server};
use crate::on_both;
use crate::workflows::person;

on_both!(
    the_register_as_at_every_step_is_what_was_read_then,
    the_register_as_at_a_time_pages_filters_and_refuses,
    samples_are_reproducible_sized_by_the_audit_table_and_recorded
);

/// A small reproducible generator (the steps are the same on every run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Every page of a listing, followed to its end.
async fn all(s: &Server, first: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = first.to_string();
    loop {
        let a = s.get(&path).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        out.extend(a.body["items"].as_array().cloned().unwrap_or_default());
        match a.body["next_cursor"].as_str() {
            Some(c) => {
                let sep = if first.contains('?') { '&' } else { '?' };
                path = format!("{first}{sep}cursor={c}");
            }
            None => return out,
        }
    }
}

/// The register in id order (the as-at list's order).
fn by_id(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    items
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

async fn the_register_as_at_every_step_is_what_was_read_then(backend: &str) {
    let s = start(backend).await;
    let owners = [s.person("Ada Owner").await, s.person("Bo Owner").await];
    let before = stamp(chrono::Utc::now());
    let mut rng = Lcg(20_261_207);
    let mut ids: Vec<String> = Vec::new();
    let mut seen: Vec<(String, Vec<Value>)> = Vec::new();
    for step in 0..36 {
        let live: Vec<String> = ids.clone();
        let pick = if live.is_empty() { 0 } else { rng.below(4) };
        match pick {
            0 => {
                let kind = ["physical", "data", "software"][rng.below(3)];
                let mut extra = json!({"kind": kind, "name": format!("Asset {step}"), "tags": [format!("t{}", rng.below(3))]});
                if kind == "physical" {
                    extra["serial_number"] = json!(format!("SN-{step}"));
                }
                let a = s.asset(&owners[rng.below(2)], extra).await;
                ids.push(a["id"].as_str().expect("id").to_string());
            }
            1 => {
                let id = &live[rng.below(live.len())];
                let cur = s.get(&format!("/api/v1/assets/{id}")).await;
                if cur.body["status"] == "disposed" {
                    continue;
                }
                let patch = match rng.below(3) {
                    0 => {
                        json!({"name": format!("Renamed {step}"), "description": format!("step {step}")})
                    }
                    1 => {
                        let level = ["public", "internal", "confidential"][rng.below(3)];
                        let importance = ["low", "medium", "high"][rng.below(3)];
                        json!({"classification": level, "importance": importance})
                    }
                    _ => json!({"owner_id": owners[rng.below(2)], "tags": [], "description": null}),
                };
                let a = s
                    .patch(&format!("/api/v1/assets/{id}"), patch, Some(&cur.etag()))
                    .await;
                assert_eq!(a.status, 200, "{}", a.body);
            }
            2 => {
                let id = &live[rng.below(live.len())];
                let cur = s.get(&format!("/api/v1/assets/{id}")).await;
                let to = match cur.body["status"].as_str() {
                    Some("in_use") => "in_repair",
                    Some("in_repair") | Some("planned") => "in_stock",
                    Some("in_stock") => "retired",
                    Some("retired") => "in_stock",
                    _ => continue,
                };
                let a = s
                    .post(
                        &format!("/api/v1/assets/{id}/transitions"),
                        json!({"to": to, "reason": format!("step {step}")}),
                    )
                    .await;
                assert_eq!(a.status, 200, "{to}: {}", a.body);
            }
            _ => {
                let id = &live[rng.below(live.len())];
                let cur = s.get(&format!("/api/v1/assets/{id}")).await;
                let path = format!("/api/v1/assets/{id}/transitions");
                match cur.body["status"].as_str() {
                    Some("retired") => {}
                    Some("disposed") => continue,
                    _ => {
                        let r = s
                            .post(&path, json!({"to": "retired", "reason": "old"}))
                            .await;
                        assert_eq!(r.status, 200, "{}", r.body);
                    }
                }
                let d = s
                    .post(
                        &path,
                        json!({"to": "disposed", "reason": "Shredded", "disposal": {"method": "destroy", "performed_by": "Shred Co", "performed_at": "2026-01-01T00:00:00Z", "certificate_ref": format!("C-{step}")}}),
                    )
                    .await;
                assert_eq!(d.status, 200, "{}", d.body);
            }
        }
        let read = by_id(all(&s, "/api/v1/assets?limit=500").await);
        seen.push((stamp(chrono::Utc::now()), read));
    }
    assert!(ids.len() >= 5, "the steps made {} assets", ids.len());

    // Before the first step the register was empty.
    assert!(all(&s, &format!("/api/v1/assets?as_at={before}"))
        .await
        .is_empty());
    for (i, (at, then)) in seen.iter().enumerate() {
        // Small pages, so that listings cross assets and pages alike.
        let replayed = all(&s, &format!("/api/v1/assets?as_at={at}&limit=2")).await;
        assert_eq!(
            &replayed, then,
            "step {i}: the register as at {at} is not what was read then"
        );
    }
}

async fn the_register_as_at_a_time_pages_filters_and_refuses(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Cy Owner").await;
    let data = s
        .asset(&owner, json!({"kind": "data", "name": "Payroll"}))
        .await;
    let laptop = s.asset(&owner, json!({"name": "ThinkPad"})).await;
    let then = stamp(chrono::Utc::now());
    let lid = laptop["id"].as_str().expect("id");
    let a = s
        .patch(
            &format!("/api/v1/assets/{lid}"),
            json!({"name": "ThinkPad X1"}),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    s.asset(&owner, json!({"name": "Later"})).await;

    // As it stood: two assets, the laptop under its old name, and the filters apply to the
    // record as it stood.
    let old = all(&s, &format!("/api/v1/assets?as_at={then}")).await;
    assert_eq!(old.len(), 2);
    let names: Vec<&str> = old.iter().filter_map(|a| a["name"].as_str()).collect();
    assert!(
        names.contains(&"ThinkPad") && names.contains(&"Payroll"),
        "{names:?}"
    );
    let kinds = all(
        &s,
        &format!("/api/v1/assets?as_at={then}&kind=data&limit=1"),
    )
    .await;
    assert_eq!(kinds.len(), 1);
    assert_eq!(kinds[0]["id"], data["id"]);
    let named = all(
        &s,
        &format!("/api/v1/assets?as_at={then}&owner_id={owner}&status=in_use"),
    )
    .await;
    assert_eq!(
        named.len(),
        old.iter().filter(|a| a["status"] == "in_use").count()
    );

    // A time in the future, the live list's own parameters and a foreign cursor are refused,
    // naming the parameter.
    let future = stamp(chrono::Utc::now() + chrono::TimeDelta::days(1));
    s.get(&format!("/api/v1/assets?as_at={future}"))
        .await
        .problem(400);
    for extra in [
        "sort=name",
        "q=pad",
        "orphaned=true",
        "finding=any",
        "review_overdue=true",
    ] {
        let e = s.get(&format!("/api/v1/assets?as_at={then}&{extra}")).await;
        e.problem(400);
        let field = extra.split('=').next().unwrap_or_default().to_string();
        assert_eq!(e.error_fields(), vec![field], "{extra}: {}", e.body);
    }
    let live = s.get("/api/v1/assets?limit=1").await;
    let c = live.body["next_cursor"].as_str().expect("a next page");
    let e = s
        .get(&format!("/api/v1/assets?as_at={then}&cursor={c}"))
        .await;
    e.problem(400);
    assert_eq!(e.error_fields(), vec!["cursor".to_string()]);
    s.get("/api/v1/assets?as_at=yesterday").await.problem(400);
    // An as-at cursor is not the live list's, nor a listing's as at another time.
    let first = s.get(&format!("/api/v1/assets?as_at={then}&limit=1")).await;
    let c = first.body["next_cursor"].as_str().expect("a next page");
    let e = s.get(&format!("/api/v1/assets?cursor={c}")).await;
    e.problem(400);
    assert_eq!(e.error_fields(), vec!["cursor".to_string()]);
    let later = stamp(chrono::Utc::now());
    let e = s
        .get(&format!("/api/v1/assets?as_at={later}&cursor={c}"))
        .await;
    e.problem(400);
    assert_eq!(e.error_fields(), vec!["cursor".to_string()]);

    // Auditors, managers and admins read it; a member may not.
    let member = person(&s, "Mo Member", "member").await;
    member
        .get(&format!("/api/v1/assets?as_at={then}"))
        .await
        .problem(403);
    for role in ["auditor", "manager"] {
        let p = person(&s, &format!("A {role}"), role).await;
        let a = p.get(&format!("/api/v1/assets?as_at={then}")).await;
        assert_eq!(a.status, 200, "{role}: {}", a.body);
        assert_eq!(a.body["items"].as_array().map(Vec::len), Some(2));
    }
}

/// Registers `n` assets of `kind` in one request.
async fn register(s: &Server, owner: &str, kind: &str, n: usize) {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({"kind": kind, "name": format!("{kind} {i}"), "owner_id": owner, "importance": "low", "classification": "internal"}))
        .collect();
    let a = s
        .post("/api/v1/assets/bulk", json!({ "items": items }))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["created"], n, "{}", a.body);
}

fn drawn(a: &crate::common::Answer) -> Vec<String> {
    a.body["items"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn samples_are_reproducible_sized_by_the_audit_table_and_recorded(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Sam Owner").await;
    register(&s, &owner, "physical", 40).await;
    let between = stamp(chrono::Utc::now());
    register(&s, &owner, "data", 20).await;
    let auditor = person(&s, "Ann Auditor", "auditor").await;
    let draw = |body: Value| auditor.post("/api/v1/samples", body);

    // 60 assets: auto draws 10 %, 6; the same seed draws the same sample.
    let a = draw(json!({"population": "assets", "seed": "FY2026-A.5.9"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["population_size"], 60);
    assert_eq!(a.body["size"], 6);
    assert_eq!(a.body["size_rule"], "auto");
    assert!(a.body["algorithm"]
        .as_str()
        .unwrap_or_default()
        .contains("SHA-256"));
    let first = drawn(&a);
    let mut unique = first.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 6, "without replacement");
    let again = draw(json!({"population": "assets", "seed": "FY2026-A.5.9"})).await;
    assert_eq!(drawn(&again), first);
    let other = draw(json!({"population": "assets", "seed": "another"})).await;
    assert_ne!(drawn(&other), first);

    // Filters narrow the population; a number is a size; as it stood, the data assets
    // were not there yet.
    let data = draw(json!({"population": "assets", "seed": "x", "kind": "data", "size": 8})).await;
    assert_eq!(data.status, 200, "{}", data.body);
    assert_eq!(data.body["population_size"], 20);
    assert_eq!(drawn(&data).len(), 8);
    assert!(data.body["items"]
        .as_array()
        .is_some_and(|l| l.iter().all(|i| i["kind"] == "data")));
    let then = draw(json!({"population": "assets", "seed": "x", "as_at": between})).await;
    assert_eq!(then.status, 200, "{}", then.body);
    assert_eq!(then.body["population_size"], 40);
    assert_eq!(then.body["size"], 5);
    assert_eq!(then.body["as_at"], between.as_str());
    // Without a seed, one is chosen and given, and it draws the sample again.
    let chosen = draw(json!({"population": "assets"})).await;
    let seed = chosen.body["seed"].as_str().expect("a seed").to_string();
    let replay = draw(json!({"population": "assets", "seed": seed})).await;
    assert_eq!(drawn(&replay), drawn(&chosen));

    // Every sample is an event, with its seed and what it drew.
    let trail = s.get("/api/v1/audit?limit=500").await;
    let samples: Vec<&Value> = trail.body["items"]
        .as_array()
        .map(|l| l.iter().filter(|e| e["action"] == "sample.drawn").collect())
        .unwrap_or_default();
    assert_eq!(samples.len(), 7);
    assert_eq!(samples[0]["changes"]["seed"], "FY2026-A.5.9");
    assert_eq!(samples[0]["changes"]["asset_ids"], json!(first));
    assert_eq!(samples[0]["entity_id"], a.body["id"]);

    // Bad requests name the field; members may not draw.
    for (body, field) in [
        (json!({"population": "assets", "size": 0}), "size"),
        (json!({"population": "assets", "size": "most"}), "size"),
        (json!({"population": "people"}), "population"),
        (json!({"seed": "x"}), "population"),
        (json!({"population": "assets", "colour": "red"}), "colour"),
        (json!({"population": "assets", "kind": "spaceship"}), "kind"),
        (json!({"population": "assets", "seed": ""}), "seed"),
    ] {
        let e = draw(body.clone()).await;
        e.problem(422);
        assert!(
            e.error_fields().contains(&field.to_string()),
            "{body}: {}",
            e.body
        );
    }
    let member = person(&s, "Mel Member", "member").await;
    member
        .post(
            "/api/v1/samples",
            json!({"population": "assets", "seed": "x"}),
        )
        .await
        .problem(403);
}

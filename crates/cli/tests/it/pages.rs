//! Web pages over plain HTTP, where a browser is not needed to show the point: a sorted
//! export that ends, signing in over a live session, refusals of cross-site forms.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{account, start, Server, PASSWORD};
use crate::on_both;

/// Signs in through the API; answers the session cookie (`custodian_session=…`).
async fn session(s: &Server, email: &str) -> String {
    let a = s
        .call_bare(
            Method::POST,
            "/api/v1/session",
            Some(json!({"email": email, "password": PASSWORD})),
            &[],
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("custodian_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string()
}

async fn get_text(s: &Server, path: &str, cookie: &str) -> (StatusCode, String) {
    let r = s
        .bare
        .get(format!("{}{path}", s.url))
        .header("cookie", cookie)
        .send()
        .await
        .expect("request");
    (r.status(), r.text().await.unwrap_or_default())
}

async fn a_sorted_export_holds_every_asset_once(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada Owner").await;
    // More than one page of the export (500 rows a page), with names that tie.
    for batch in 0..2 {
        let items: Vec<_> = (0..300)
            .map(|i| json!({"kind": "physical", "name": format!("Laptop {}", (batch * 300 + i) % 97), "owner_id": owner, "importance": "low", "classification": "internal"}))
            .collect();
        let a = s.post("/api/v1/assets/bulk", json!({"items": items})).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    account(&s.app, "mia@test.example", "manager", None).await;
    let cookie = session(&s, "mia@test.example").await;
    for sort in ["name", "asset_number", "next_review_at", "newest", ""] {
        let (status, csv) = get_text(&s, &format!("/assets/export.csv?sort={sort}"), &cookie).await;
        assert_eq!(status, 200, "{csv}");
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert_eq!(rows.len(), 600, "sort={sort}");
        let mut numbers: Vec<&str> = rows
            .iter()
            .map(|r| r.split(',').nth(1).unwrap_or(""))
            .collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 600, "sort={sort}: every asset once");
    }
    // The list page links to the next page in the same order and size.
    let (_, html) = get_text(&s, "/assets?sort=name&limit=7", &cookie).await;
    assert!(html.contains("limit=7"), "the page size is kept");
    assert!(html.contains("sort=name"), "the order is kept");
}

async fn signing_in_over_a_live_session_replaces_it(backend: &str) {
    let s = start(backend).await;
    account(&s.app, "mia@test.example", "manager", None).await;
    let old = session(&s, "mia@test.example").await;
    let r = s
        .bare
        .post(format!("{}/sign-in", s.url))
        .header("cookie", &old)
        .form(&[
            ("email", "mia@test.example"),
            ("password", PASSWORD),
            ("return_to", "/assets"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/assets");
    // The old session is gone.
    let (status, _) = get_text(&s, "/assets", &old).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // A form another site's page posts is refused, whatever it carries.
    let r = s
        .bare
        .post(format!("{}/sign-in", s.url))
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", "mia@test.example"), ("password", PASSWORD)])
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn home_shows_what_ones_teams_own(backend: &str) {
    let s = start(backend).await;
    let me = s.person("Mia Manager").await;
    let team = s
        .post(
            "/api/v1/parties",
            json!({"kind": "team", "name": "IT operations", "member_ids": [me]}),
        )
        .await;
    assert_eq!(team.status, 201, "{}", team.body);
    let team = team.body["id"].as_str().expect("id").to_string();
    s.asset(
        &team,
        json!({"name": "Core switch", "next_review_at": "2020-01-01"}),
    )
    .await;
    s.asset(
        &s.person("Someone Else").await,
        json!({"name": "Other kit"}),
    )
    .await;
    account(
        &s.app,
        "mia@test.example",
        "manager",
        Some(me.parse().expect("uuid")),
    )
    .await;
    let cookie = session(&s, "mia@test.example").await;
    let (status, html) = get_text(&s, "/", &cookie).await;
    assert_eq!(status, 200);
    let work = html.split("Your work").nth(1).unwrap_or("");
    assert!(work.contains("Core switch"), "owned through the team");
    assert!(!work.contains("Other kit"));
    assert!(
        work.split("Reviews due")
            .nth(1)
            .unwrap_or("")
            .contains("Core switch"),
        "its review is overdue"
    );
}

async fn a_large_register_is_summed_up_in_the_background(backend: &str) {
    let s = crate::common::start_with(
        backend,
        0,
        custodian_app::Settings {
            count_incomplete_now_up_to: 0,
            ..Default::default()
        },
        custodian_web::Options::default(),
    )
    .await;
    let owner = s.person("Ada Owner").await;
    s.asset(&owner, json!({"name": "Laptop"})).await;
    account(&s.app, "mia@test.example", "manager", None).await;
    let cookie = session(&s, "mia@test.example").await;
    // The first view starts summing up; a later one shows the figures, with when.
    let (_, first) = get_text(&s, "/", &cookie).await;
    assert!(first.contains("id=\"summing-up\""), "{first}");
    let mut shown = false;
    for _ in 0..100 {
        let (_, html) = get_text(&s, "/", &cookie).await;
        let card = html.split("id=\"incomplete\"").nth(1).unwrap_or("");
        if html.contains("Counted ") {
            assert!(card.contains("<p class=\"big\">1</p>"), "{card}");
            assert!(html
                .split("id=\"total\"")
                .nth(1)
                .unwrap_or("")
                .contains("<p class=\"big\">1</p>"));
            shown = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(shown, "the background count finished");
}

on_both!(
    a_large_register_is_summed_up_in_the_background,
    home_shows_what_ones_teams_own,
    a_sorted_export_holds_every_asset_once,
    signing_in_over_a_live_session_replaces_it,
    a_label_sheet_holds_a_code_per_asset,
);

async fn a_label_sheet_holds_a_code_per_asset(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada Owner").await;
    let room = s.post("/api/v1/locations", json!({"name": "Lab"})).await;
    let room = room.body["id"].as_str().expect("location").to_string();
    let mut ids = Vec::new();
    for i in 0..3 {
        let a = s
            .asset(
                &owner,
                json!({"name": format!("Scope {i}"), "location_id": room}),
            )
            .await;
        ids.push(a["id"].as_str().expect("id").to_string());
    }
    let elsewhere = s.asset(&owner, json!({"name": "Elsewhere"})).await;
    account(&s.app, "mia@test.example", "manager", None).await;
    let cookie = session(&s, "mia@test.example").await;

    let (status, html) = get_text(&s, &format!("/labels?location_id={room}"), &cookie).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(html.matches("<svg").count(), 3, "one code per asset");
    for id in &ids {
        assert!(
            html.contains(&format!("{}/assets/{id}", s.url)),
            "the link to {id}"
        );
    }
    assert!(!html.contains(elsewhere["id"].as_str().unwrap_or("-")));
    assert!(html.contains("Scope 0") && html.contains("AST-"));
    assert!(html.contains("at most 500"));

    // One asset's label, from its page.
    let (_, asset_page) = get_text(&s, &format!("/assets/{}", ids[0]), &cookie).await;
    assert!(asset_page.contains(&format!("/labels?ids={}", ids[0])));
    let (status, one) = get_text(&s, &format!("/labels?ids={}", ids[0]), &cookie).await;
    assert_eq!(status, 200);
    assert_eq!(one.matches("<svg").count(), 1);
    let (status, _) = get_text(&s, "/labels?ids=not-an-id", &cookie).await;
    assert_eq!(status, 422);

    // Behind a proxy with the default address left unset, codes use the address the
    // browser reached.
    let r = s
        .bare
        .get(format!("{}/labels?ids={}", s.url, ids[1]))
        .header("cookie", &cookie)
        .header("host", "custodian.lan")
        .send()
        .await
        .expect("request");
    let text = r.text().await.unwrap_or_default();
    assert!(
        text.contains(&format!("http://custodian.lan/assets/{}", ids[1])),
        "{text}"
    );
}

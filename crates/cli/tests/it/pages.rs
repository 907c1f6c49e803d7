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
            // The count leads to its findings.
            assert!(card.contains(">1</a></p>"), "{card}");
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
    a_setup_link_opens_a_set_password_page_at_the_servers_address,
    addresses_that_take_forms_answer_a_browsers_get,
    an_auditor_is_offered_no_form_it_cannot_use,
    an_admin_reviews_a_policy_and_generates_a_draft_on_its_pages,
    an_auditor_downloads_reports_and_draws_a_sample_on_the_reports_page,
    the_audit_trail_reads_as_a_history_with_names_and_filters,
);

/// The audit trail page reads newest first with names for ids, filters by actor, action,
/// record and day, and exports what it shows; an asset's history and the register's
/// export name owners and places.
async fn the_audit_trail_reads_as_a_history_with_names_and_filters(backend: &str) {
    let s = start(backend).await;
    let cookie = auditor_session(&s).await;
    let owner = s.person("Ada Owner").await;
    let other = s.person("Ben Other").await;
    let hq = s
        .post("/api/v1/locations", json!({"name": "Head office"}))
        .await;
    let hq = hq.body["id"].as_str().expect("location").to_string();
    let a = s
        .asset(&owner, json!({"name": "Field laptop", "location_id": hq}))
        .await;
    let id = a["id"].as_str().expect("id").to_string();
    let number = a["asset_number"].as_str().expect("number").to_string();
    s.asset(&owner, json!({"name": "Desk phone"})).await;
    let moved = s
        .patch(
            &format!("/api/v1/assets/{id}"),
            json!({"owner_id": other}),
            None,
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);

    // Newest first, with names: the change of owner reads from Ada to Ben.
    let (status, page) = get_text(&s, "/audit", &cookie).await;
    assert_eq!(status, 200, "{page}");
    let first_row = page.split("<tbody>").nth(1).unwrap_or_default();
    let first_row = first_row.split("</tr>").next().unwrap_or_default();
    assert!(first_row.contains("asset.updated"), "{first_row}");
    assert!(
        first_row.contains("Ada Owner") && first_row.contains("Ben Other"),
        "{first_row}"
    );
    assert!(
        first_row.contains(&format!("{number} Field laptop")),
        "{first_row}"
    );
    assert!(!first_row.contains(&other), "names, not ids: {first_row}");

    // Filters: the record by its number, an action by its start, the day, the actor.
    let (_, page) = get_text(
        &s,
        &format!("/audit?entity_type=asset&entity_id={number}"),
        &cookie,
    )
    .await;
    let shown = |page: &str, action: &str| {
        page.matches(&format!("<span class=\"mono\">{action}</span>"))
            .count()
    };
    assert_eq!(shown(&page, "asset.created"), 1, "{page}");
    assert!(!page.contains("Desk phone"), "{page}");
    let (_, page) = get_text(&s, "/audit?action=auth.", &cookie).await;
    assert!(
        shown(&page, "auth.signed_in") > 0 && shown(&page, "asset.created") == 0,
        "{page}"
    );
    let today = chrono::Utc::now().date_naive();
    let (_, page) = get_text(&s, &format!("/audit?from={today}&to={today}"), &cookie).await;
    assert_eq!(shown(&page, "asset.created"), 2, "{page}");
    let tomorrow = today + chrono::TimeDelta::days(1);
    let (_, page) = get_text(&s, &format!("/audit?from={tomorrow}"), &cookie).await;
    assert!(page.contains("No event matches."), "{page}");
    let (_, page) = get_text(&s, "/audit?actor=system", &cookie).await;
    assert_eq!(shown(&page, "auth.signed_in"), 0, "{page}");
    let (status, page) = get_text(&s, "/audit?from=yesterday", &cookie).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("from"), "{page}");

    // The export: what the filters select, with names.
    let (status, csv) = get_text(
        &s,
        &format!("/audit/export?entity_type=asset&entity_id={number}"),
        &cookie,
    )
    .await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("Event,When,Who,What,Record type,Record,Changes,Hash"));
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains("asset.updated") && lines[1].contains("Ben Other"),
        "{csv}"
    );
    assert!(
        lines[2].contains("asset.created") && lines[2].contains("Head office"),
        "{csv}"
    );

    // The asset's own history names the owners; the register's export names them too.
    let (_, page) = get_text(&s, &format!("/assets/{id}"), &cookie).await;
    let history = page.split("id=\"history\"").nth(1).unwrap_or_default();
    assert!(
        history.contains("Ada Owner") && history.contains("Ben Other"),
        "{history}"
    );
    assert!(!history.contains(&owner), "{history}");
    let (_, csv) = get_text(&s, "/assets/export.csv", &cookie).await;
    let head = csv.lines().next().unwrap_or_default();
    assert!(head.contains("owner_id,owner_name"), "{head}");
    assert!(
        csv.contains("Ben Other") && csv.contains("Head office"),
        "{csv}"
    );

    // Managers read the reports but not the trail, so the pack is not offered to them.
    account(&s.app, "mia@test.example", "manager", None).await;
    let manager = session(&s, "mia@test.example").await;
    let (status, page) = get_text(&s, "/reports", &manager).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("/api/v1/reports/register?format="), "{page}");
    assert!(!page.contains("/api/v1/reports/evidence"), "{page}");
    let (status, _) = get_text(&s, "/audit", &manager).await;
    assert_eq!(status, 403);

    // Members do not read the trail.
    account(&s.app, "mo@test.example", "member", None).await;
    let member = session(&s, "mo@test.example").await;
    let (status, _) = get_text(&s, "/audit", &member).await;
    assert_eq!(status, 403);
    let (status, _) = get_text(&s, "/audit/export", &member).await;
    assert_eq!(status, 403);
}

/// The reports page offers every report now or as the register stood, downloads work with
/// the browser's session, and a sample is drawn there; members are refused.
async fn an_auditor_downloads_reports_and_draws_a_sample_on_the_reports_page(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada Owner").await;
    for i in 0..8 {
        s.asset(&owner, json!({"name": format!("Laptop {i}")}))
            .await;
    }
    let cookie = auditor_session(&s).await;
    let (status, page) = get_text(&s, "/reports", &cookie).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Asset register") && page.contains("Exception register"),
        "{page}"
    );
    assert!(
        page.contains("/api/v1/reports/register?format=csv"),
        "{page}"
    );

    // A download with the session, as the link gives it.
    let (status, csv) = get_text(&s, "/api/v1/reports/register?format=csv", &cookie).await;
    assert_eq!(status, 200, "{csv}");
    assert!(csv.starts_with("Asset number,"), "{csv}");

    // As the register stood: every report and the evidence pack carry the time.
    let (status, page) = get_text(&s, "/reports?as_at=2026-01-01T00:00", &cookie).await;
    assert_eq!(status, 200, "{page}");
    for kind in ["register", "exceptions", "compliance", "evidence"] {
        assert!(
            page.contains(&format!("/api/v1/reports/{kind}?format=")),
            "{kind}: {page}"
        );
    }
    assert!(page.contains("as_at=2026-01-01T00:00:00.000000Z"), "{page}");
    let (status, page) = get_text(&s, "/reports?as_at=whenever", &cookie).await;
    assert_eq!(status, 400, "{page}");

    // A sample: 8 assets, auto draws 5; the seed draws them again.
    let (_, page) = get_text(&s, "/reports", &cookie).await;
    let csrf = field_value(&page, "_csrf");
    let (status, _, drawn) = post_form(
        &s,
        "/reports/sample",
        Some(&cookie),
        &[("_csrf", &csrf), ("seed", "FY26"), ("size", "auto")],
    )
    .await;
    assert_eq!(status, 200, "{drawn}");
    assert!(drawn.contains("5 of 8 assets"), "{drawn}");
    let (_, _, again) = post_form(
        &s,
        "/reports/sample",
        Some(&cookie),
        &[("_csrf", &csrf), ("seed", "FY26"), ("size", "auto")],
    )
    .await;
    let table = |p: &str| {
        p.split("id=\"drawn\"")
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(table(&drawn), table(&again));
    let (status, _, refused) = post_form(
        &s,
        "/reports/sample",
        Some(&cookie),
        &[("_csrf", &csrf), ("seed", "FY26"), ("size", "0")],
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.contains("whole number"), "{refused}");

    account(&s.app, "mo@test.example", "member", None).await;
    let member = session(&s, "mo@test.example").await;
    let (status, _) = get_text(&s, "/reports", &member).await;
    assert_eq!(status, 403);
}

/// The page of the policy in force lists its reviews and offers admins the form that
/// records one that changes nothing; the policies page generates a first draft.
async fn an_admin_reviews_a_policy_and_generates_a_draft_on_its_pages(backend: &str) {
    let s = start(backend).await;
    let ann = crate::workflows::person(&s, "Ann Admin", "admin").await;
    let id = crate::workflows::approve_aup(&ann, "1.0", false).await;
    let cookie = session(&s, "ann.admin@test.example").await;
    let path = format!("/policies/{id}");
    let (status, page) = get_text(&s, &path, &cookie).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("No review is recorded"), "{page}");
    assert!(page.contains("Record a review that changes nothing"));
    let (csrf, version) = (field_value(&page, "_csrf"), field_value(&page, "version"));
    let (status, location, _) = post_form(
        &s,
        &format!("{path}/reviews"),
        Some(&cookie),
        &[
            ("_csrf", &csrf),
            ("version", &version),
            ("notes", "Still right"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{location}");
    assert!(location.contains("done=reviewed"), "{location}");
    let (_, page) = get_text(&s, &location, &cookie).await;
    assert!(
        page.contains("Still right") && page.contains("No change"),
        "{page}"
    );
    assert!(page.contains("Ann Admin"));

    // The policies page generates a first draft of the Asset Management Policy.
    let (_, page) = get_text(&s, "/policies", &cookie).await;
    assert!(page.contains("Generate a first draft"), "{page}");
    let (status, location, _) = post_form(
        &s,
        "/policies/draft",
        Some(&cookie),
        &[("_csrf", &csrf), ("organisation", "Calder Ltd")],
    )
    .await;
    assert_eq!(status, 303, "{location}");
    assert!(location.contains("done=created"), "{location}");
    let (_, page) = get_text(&s, &location, &cookie).await;
    assert!(
        page.contains("Asset Management Policy — Calder Ltd"),
        "{page}"
    );
    // Where each clause came from is in the source, not on the page.
    assert!(!page.contains("from: setting"), "{page}");
    assert!(page.contains("Edit the draft"));
}

/// Signs in an auditor, Aldo, who is a person of the register.
async fn auditor_session(s: &Server) -> String {
    let me = s.person("Aldo Auditor").await;
    account(
        &s.app,
        "aldo@test.example",
        "auditor",
        Some(me.parse().expect("uuid")),
    )
    .await;
    session(s, "aldo@test.example").await
}

/// The value of a page's field `name` (a hidden one: the CSRF token, a version).
fn field_value(page: &str, name: &str) -> String {
    page.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|v| v.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// Posts a form as a browser would; answers the status, `Location` and page.
async fn post_form(
    s: &Server,
    path: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let body: String = fields
        .iter()
        .map(|(k, v)| format!("{}={}", k, custodian_web::ui::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut r = s
        .bare
        .post(format!("{}{path}", s.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", s.url.clone())
        .body(body);
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    let r = r.send().await.expect("request");
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_string();
    (r.status(), location, r.text().await.unwrap_or_default())
}

/// An admin's one-time setup link points where the server is reached and opens a page on
/// which the new account's owner sets a password; used once, it no longer works.
async fn a_setup_link_opens_a_set_password_page_at_the_servers_address(backend: &str) {
    let s = start(backend).await;
    let dpo = s.person("Dana Protection").await;
    let u = s
        .post(
            "/api/v1/users",
            json!({"email": "dpo@test.example", "role": "member", "person_id": dpo}),
        )
        .await;
    assert_eq!(u.status, 201, "{}", u.body);
    let link = u.body["setup_url"].as_str().expect("link").to_string();
    // The test server listens on a port of its own, not the default one.
    assert!(link.starts_with(&format!("{}/setup/", s.url)), "{link}");
    let path = link.trim_start_matches(&s.url).to_string();
    let (status, page) = get_text(&s, &path, "").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Set your password") && page.contains("dpo@test.example"));
    let (status, _, page) = post_form(
        &s,
        &path,
        None,
        &[
            ("password", "a long enough secret"),
            ("confirm", "another one entirely"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("is not the same password"), "{page}");
    let (status, _, page) = post_form(
        &s,
        &path,
        None,
        &[("password", "short"), ("confirm", "short")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("password"), "{page}");
    let (status, location, _) = post_form(
        &s,
        &path,
        None,
        &[
            ("password", "a long enough secret"),
            ("confirm", "a long enough secret"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(location, "/sign-in?done=set");
    let signed = s
        .call_bare(
            Method::POST,
            "/api/v1/session",
            Some(json!({"email": "dpo@test.example", "password": "a long enough secret"})),
            &[],
        )
        .await;
    assert_eq!(signed.status, 201, "{}", signed.body);
    let (status, page) = get_text(&s, &path, "").await;
    assert_eq!(status, 404);
    assert!(page.contains("does not work"), "{page}");
}

/// A form's address opened in a browser (a reload after a refusal, a bookmark) leads to
/// the page that holds the form; an address that leads nowhere is a page, not JSON.
async fn addresses_that_take_forms_answer_a_browsers_get(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada Owner").await;
    let a = s.asset(&owner, json!({})).await;
    let id = a["id"].as_str().expect("id");
    account(&s.app, "mia@test.example", "manager", None).await;
    let cookie = session(&s, "mia@test.example").await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (path, home) in [
        (format!("/assets/{id}/transition"), format!("/assets/{id}")),
        (format!("/assets/{id}/report"), format!("/assets/{id}")),
        ("/account/password".to_string(), "/account".to_string()),
        ("/policies/rules".to_string(), "/policies".to_string()),
        ("/sign-out".to_string(), "/".to_string()),
    ] {
        let r = no_redirects
            .get(format!("{}{path}", s.url))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()["location"], home.as_str(), "{path}");
    }
    let r = s
        .bare
        .get(format!("{}/no/such/page", s.url))
        .header("accept", "text/html")
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), 404);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/html"));
    // The API keeps its problem documents.
    s.get("/api/v1/nowhere").await.problem(404);
}

/// An auditor changes nothing, so no page offers them a form but signing out, their own
/// account and tokens, and acknowledging the acceptable-use policy; pages for other forms
/// refuse rather than show a form that would be refused once filled in.
async fn an_auditor_is_offered_no_form_it_cannot_use(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ada Owner").await;
    let a = s
        .asset(
            &owner,
            json!({"kind": "software", "name": "CAD", "licence_key": "K-1"}),
        )
        .await;
    let aid = a["id"].as_str().expect("id").to_string();
    let expires = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(90)).to_string();
    let x = s
        .post(
            "/api/v1/exceptions",
            json!({"rule": "off_premises", "asset_ids": [aid], "justification": "Trade fair",
                "compensating_controls": "Encrypted", "expires_at": expires}),
        )
        .await;
    assert_eq!(x.status, 201, "{}", x.body);
    let xid = x.body["id"].as_str().unwrap_or("").to_string();
    let p = s
        .post(
            "/api/v1/policies",
            json!({"document": "acceptable_use", "number": "1.0", "body": "# AUP", "effective_date": "2026-01-01"}),
        )
        .await;
    assert_eq!(p.status, 201, "{}", p.body);
    let pid = p.body["id"].as_str().unwrap_or("").to_string();
    let cookie = auditor_session(&s).await;
    let allowed = ["/sign-out"];
    for path in [
        "/".to_string(),
        "/assets".to_string(),
        format!("/assets/{aid}"),
        "/people".to_string(),
        format!("/people/{owner}"),
        "/locations".to_string(),
        "/classifications".to_string(),
        "/custom-fields".to_string(),
        "/policies".to_string(),
        format!("/policies/{pid}"),
        "/exceptions".to_string(),
        format!("/exceptions/{xid}"),
        "/attestations".to_string(),
        "/offboardings".to_string(),
        "/stocktakes".to_string(),
        "/off-premises".to_string(),
        "/users".to_string(),
        "/audit".to_string(),
    ] {
        let (status, page) = get_text(&s, &path, &cookie).await;
        assert_eq!(status, 200, "{path}: {page}");
        for form in page.split("<form").skip(1) {
            let post = form
                .split('>')
                .next()
                .unwrap_or("")
                .contains("method=\"post\"");
            if !post {
                continue;
            }
            let action = form
                .split("action=\"")
                .nth(1)
                .and_then(|a| a.split('"').next())
                .unwrap_or("");
            assert!(
                allowed.contains(&action),
                "{path} offers an auditor the form {action}"
            );
        }
        for link in [
            "/exceptions/new",
            "/assets/new",
            "/people/new",
            "/policies/new",
        ] {
            assert!(
                !page.contains(&format!("href=\"{link}")),
                "{path} links to {link}"
            );
        }
    }
    for path in [
        "/exceptions/new",
        "/assets/new",
        "/people/new",
        "/policies/new",
        "/classifications/new",
    ] {
        let (status, page) = get_text(&s, path, &cookie).await;
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("auditor role cannot"), "{path}: {page}");
    }
}

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

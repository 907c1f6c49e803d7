//! The web interface in a real headless Chromium, driven through WebDriver: what a manager
//! and a member do, the refusals they meet, and screenshots of the main pages.

use reqwest::Method;
use serde_json::json;

use crate::common::{account, start, Server, PASSWORD};
use crate::on_both;
use crate::webdriver::Browser;

/// Signs in through the form.
async fn sign_in(b: &Browser, s: &Server, email: &str, return_to: &str) {
    b.goto(&format!("{}{return_to}", s.url)).await;
    // Not signed in: the page sends the browser to the form, which knows where to return.
    assert!(
        b.url().await.contains("/sign-in?return_to="),
        "{}",
        b.url().await
    );
    b.fill("#f-email", email).await;
    b.fill("#f-password", PASSWORD).await;
    b.submit_via("#sign-in button[type=submit]").await;
    assert!(
        b.url().await.ends_with(return_to),
        "after signing in: {} ({})",
        b.url().await,
        b.title().await
    );
}

/// Fills the policy minimum of an asset form.
async fn fill_minimum(b: &Browser, name: &str, owner: &str, classification: &str) {
    b.fill("#f-name", name).await;
    b.select("#f-owner_id", owner).await;
    b.select("#f-importance", "high").await;
    b.select("#f-classification", classification).await;
}

async fn a_manager_works_the_register_in_a_browser(backend: &str) {
    let s = start(backend).await;
    let me = s.person("Mara Manager").await;
    let owner = s.person("Olga Owner").await;
    account(
        &s.app,
        "mara@test.example",
        "manager",
        Some(me.parse().expect("uuid")),
    )
    .await;
    let b = Browser::open().await;

    // Signing in; the sign-in page first.
    b.goto(&format!("{}/sign-in", s.url)).await;
    b.screenshot(&format!("sign-in-{backend}")).await;
    sign_in(&b, &s, "mara@test.example", "/").await;
    assert!(b.text_of("h1").await.contains("mara@test.example"));

    // A refused form names every missing field, beside the field and in a summary.
    b.goto(&format!("{}/assets/new?kind=physical", s.url)).await;
    b.submit_via("#asset-form button[type=submit]").await;
    let summary = b.text_of("#errors").await;
    for f in [
        "Name",
        "Owner (accountable)",
        "Importance",
        "Classification",
    ] {
        assert!(summary.contains(f), "{f} in {summary}");
    }
    assert!(b.find_all(".field.invalid").await.len() >= 4);
    assert_eq!(
        b.find("#f-name")
            .await
            .attr("aria-invalid")
            .await
            .as_deref(),
        Some("true")
    );
    b.screenshot(&format!("form-errors-{backend}")).await;

    // One asset of each kind.
    let kinds = [
        ("physical", "Laptop of Olga"),
        ("virtual", "Build server VM"),
        ("data", "Customer records"),
        ("software", "Design suite"),
        ("service", "Payroll service"),
        ("intangible", "Brand trademark"),
    ];
    let mut pages = Vec::new();
    for (kind, name) in kinds {
        b.goto(&format!("{}/assets/new?kind={kind}", s.url)).await;
        // The laptop is confidential: its disposal must at least purge it.
        let level = if kind == "physical" {
            "confidential"
        } else {
            "internal"
        };
        // Mara owns the software, so that she may see its licence key (SPEC §2.2).
        let who = if kind == "software" { &me } else { &owner };
        fill_minimum(&b, name, who, level).await;
        if kind == "software" {
            b.fill("#f-licences_purchased", "5").await;
            b.fill("#f-licences_used", "7").await;
            b.fill("#f-licence_key", "LK-1234-SECRET").await;
        }
        b.submit_via("#asset-form button[type=submit]").await;
        let h1 = b.text_of("h1").await;
        assert!(h1.contains(name), "{kind}: {h1}");
        // A saved form says so on the page it leads to.
        assert!(b.text_of("#done").await.contains("Created"));
        let url = b.url().await;
        pages.push(url.split('?').next().unwrap_or(&url).to_string());
    }
    b.goto(&pages[3]).await;
    assert!(b
        .text_of("#licence-position")
        .await
        .contains("7 used of 5 purchased"));
    // The licence key is not on the page until asked for, and asking is recorded.
    assert!(!b.source().await.contains("LK-1234-SECRET"));
    b.submit_via("form[action$='/reveal'] button").await;
    assert_eq!(b.text_of("#revealed-licence_key").await, "LK-1234-SECRET");
    let software = pages[3].rsplit('/').next().expect("id").to_string();
    let history = s
        .get(&format!("/api/v1/assets/{software}/history"))
        .await
        .body
        .to_string();
    assert!(history.contains("asset.secret_revealed"), "{history}");
    assert!(!history.contains("LK-1234-SECRET"));
    b.goto(&pages[2]).await;
    b.text_of("h1").await;
    assert!(b.source().await.contains("Purpose of processing"));
    b.screenshot(&format!("asset-page-{backend}")).await;

    // The list: filter by kind, then search.
    b.goto(&format!("{}/assets", s.url)).await;
    assert_eq!(b.find_all("#asset-list tbody tr").await.len(), 6);
    b.select("#kind", "software").await;
    b.submit_via("form.filters button[type=submit]").await;
    let rows = b.find_all("#asset-list tbody tr").await;
    assert_eq!(rows.len(), 1, "{}", b.url().await);
    assert!(b.text_of("#asset-list").await.contains("Design suite"));
    b.goto(&format!("{}/assets", s.url)).await;
    b.fill("#q", "payroll").await;
    b.submit_via("form.filters button[type=submit]").await;
    let text = b.text_of("#asset-list").await;
    assert!(
        text.contains("Payroll service") && !text.contains("Laptop"),
        "{text}"
    );
    // Sorted by name, with a column chosen away.
    b.goto(&format!("{}/assets", s.url)).await;
    b.select("#sort", "name").await;
    b.click("input[name=col][value=kind]").await;
    b.submit_via("form.filters button[type=submit]").await;
    let first = b.text_of("#asset-list tbody tr").await;
    assert!(first.contains("Brand trademark"), "{first}");
    assert!(!b.text_of("#asset-list thead").await.contains("Kind"));
    b.goto(&format!("{}/assets", s.url)).await;
    b.screenshot(&format!("asset-list-{backend}")).await;

    // Editing, and a conflict with someone who saved first.
    let laptop = pages[0].rsplit('/').next().expect("id").to_string();
    b.goto(&format!("{}/assets/{laptop}/edit", s.url)).await;
    b.fill("#f-description", "Olga's everyday laptop").await;
    b.submit_via("#asset-form button[type=submit]").await;
    assert!(
        b.source().await.contains("Olga&#39;s everyday laptop")
            || b.source().await.contains("Olga's everyday laptop")
    );
    b.goto(&format!("{}/assets/{laptop}/edit", s.url)).await;
    b.fill("#f-description", "Mine").await;
    let other = s
        .call(
            Method::PATCH,
            &format!("/api/v1/assets/{laptop}"),
            Some(json!({"description": "Theirs"})),
            &[],
        )
        .await;
    assert_eq!(other.status, 200, "{}", other.body);
    b.submit_via("#asset-form button[type=submit]").await;
    let conflict = b.text_of("#conflict").await;
    assert!(
        conflict.contains("Theirs") && conflict.contains("Mine"),
        "{conflict}"
    );
    b.screenshot(&format!("conflict-{backend}")).await;
    let stored = s.get(&format!("/api/v1/assets/{laptop}")).await;
    assert_eq!(
        stored.body["description"], "Theirs",
        "nothing was overwritten"
    );

    // Retire, then dispose of it with its record; a method below the level's minimum is
    // refused first.
    b.goto(&pages[0]).await;
    b.select("#f-to", "retired").await;
    b.fill("#f-reason", "End of life").await;
    b.submit_via("#transition button[type=submit]").await;
    assert!(b.text_of("main").await.contains("retired"));
    b.goto(&format!("{}/assets/{laptop}/dispose", s.url)).await;
    b.select("#f-disposal_method", "clear").await;
    b.fill("#f-disposal_performed_by", "Shred-it Ltd").await;
    b.execute(
        "document.getElementById('f-disposal_performed_at').value = arguments[0];",
        vec![json!("2026-01-15T10:30")],
    )
    .await;
    b.fill("#f-reason", "Worn out").await;
    b.execute("window.confirm = () => true;", vec![]).await;
    b.submit_via("form.stack button[type=submit]").await;
    let errors = b.text_of("#errors").await;
    assert!(
        errors.contains("disposal.method"),
        "the minimum is enforced: {errors}"
    );
    b.select("#f-disposal_method", "destroy").await;
    b.fill("#f-disposal_certificate_ref", "CERT-42").await;
    b.execute(
        "document.getElementById('f-disposal_performed_at').value = arguments[0];",
        vec![json!("2026-01-15T10:30")],
    )
    .await;
    b.execute("window.confirm = () => true;", vec![]).await;
    b.submit_via("form.stack button[type=submit]").await;
    let main = b.text_of("main").await;
    assert!(
        main.contains("Disposal record") && main.contains("CERT-42"),
        "{main}"
    );

    // The history reads as changes.
    let history = b.text_of("#history").await;
    assert!(history.contains("asset transitioned"), "{history}");
    assert!(history.contains("Theirs"), "{history}");
    b.screenshot(&format!("history-{backend}")).await;

    // The home page shows the register's state; a phone's width still works.
    b.goto(&format!("{}/", s.url)).await;
    assert!(b.text_of("#total").await.contains('6'));
    let listed = s.get("/api/v1/assets?limit=50").await.body;
    let incomplete = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|a| a["completeness"]["complete"] == false)
        .count();
    assert!(incomplete > 0);
    assert_eq!(b.text_of("#incomplete .big").await, incomplete.to_string());
    b.screenshot(&format!("home-{backend}")).await;
    b.set_window_size(390, 844).await;
    b.goto(&format!("{}/assets", s.url)).await;
    b.screenshot(&format!("asset-list-phone-{backend}")).await;
    b.close().await;
}

async fn a_member_sees_only_their_own_assets_in_a_browser(backend: &str) {
    let s = start(backend).await;
    let mine = s.person("Mo Member").await;
    let theirs = s.person("Tess Other").await;
    account(
        &s.app,
        "mo@test.example",
        "member",
        Some(mine.parse().expect("uuid")),
    )
    .await;
    let mut ids = Vec::new();
    for (name, owner) in [("Mo's laptop", &mine), ("Tess's laptop", &theirs)] {
        // Tess checked both: Mo's form must keep her as the reviewer, though Mo may not
        // pick her.
        let a = s
            .post(
                "/api/v1/assets",
                json!({"kind": "physical", "name": name, "owner_id": owner, "importance": "low", "classification": "internal",
                       "last_reviewed_by": theirs, "last_reviewed_at": "2026-03-04T14:22:00Z"}),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        ids.push(a.body["id"].as_str().expect("id").to_string());
    }
    let b = Browser::open().await;
    sign_in(&b, &s, "mo@test.example", "/assets").await;
    let list = b.text_of("#asset-list").await;
    assert!(
        list.contains("Mo's laptop") && !list.contains("Tess"),
        "{list}"
    );
    // Not even through a filter on the other owner.
    b.goto(&format!("{}/assets?owner_id={theirs}", s.url)).await;
    assert!(b.try_find("#asset-list").await.is_none());
    // Nor by address: the other asset does not exist for them.
    b.goto(&format!("{}/assets/{}", s.url, ids[1])).await;
    assert!(b.text_of("h1").await.contains("Not found"));
    // Their own asset's record they may edit, but not its lifecycle.
    b.goto(&format!("{}/assets/{}", s.url, ids[0])).await;
    assert!(b.try_find("#transition").await.is_none());
    assert!(b.source().await.contains("Edit the record"));
    b.goto(&format!("{}/assets/{}/edit", s.url, ids[0])).await;
    b.fill("#f-description", "Mine, with stickers").await;
    b.submit_via("#asset-form button[type=submit]").await;
    let stored = s.get(&format!("/api/v1/assets/{}", ids[0])).await;
    assert_eq!(
        stored.body["description"],
        "Mine, with stickers",
        "{}",
        b.text_of("main").await
    );
    assert_eq!(
        stored.body["last_reviewed_by"],
        theirs.as_str(),
        "the reviewer is kept"
    );
    assert_eq!(
        stored.body["last_reviewed_at"], "2026-03-04T14:22:00.000000Z",
        "and the time of the review"
    );
    assert_eq!(stored.body["owner_id"], mine.as_str());
    // The owner records a review in their own name.
    b.goto(&format!("{}/assets/{}", s.url, ids[0])).await;
    b.fill("#f-notes", "Sticker intact").await;
    b.submit_via("#review button[type=submit]").await;
    let record = b.text_of("dl.record").await;
    assert!(record.contains("Last checked by\nMo Member"), "{record}");
    assert!(b.text_of("#history").await.contains("Sticker intact"));
    b.goto(&format!("{}/", s.url)).await;
    assert!(b.text_of("main").await.contains("Mo's laptop"));
    assert!(
        b.try_find("#total").await.is_none(),
        "no register totals for members"
    );
    b.screenshot(&format!("member-home-{backend}")).await;
    b.close().await;
}

async fn pages_work_by_keyboard_and_refuse_cross_site_forms(backend: &str) {
    let s = start(backend).await;
    account(&s.app, "kim@test.example", "auditor", None).await;
    let b = Browser::open().await;
    sign_in(&b, &s, "kim@test.example", "/").await;
    // The first Tab reaches the skip link, which is visible when focused.
    b.press_tab().await;
    let first = b.active_element().await;
    assert_eq!(first.text().await, "Skip to content");
    assert!(first.is_displayed().await);
    assert_ne!(first.css_value("outline-style").await, "none");
    // Every control of the filter form has a label.
    b.goto(&format!("{}/assets", s.url)).await;
    let unlabelled = b
        .execute(
            "return [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
               .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name);",
            vec![],
        )
        .await;
    assert_eq!(unlabelled, json!([]));
    // Auditors read the trail and its verification.
    b.goto(&format!("{}/audit?latest=1", s.url)).await;
    assert!(b.text_of("#events").await.contains("auth.signed_in"));
    b.goto(&format!("{}/audit?verify=1", s.url)).await;
    assert!(b.text_of("#verification").await.contains("intact"));
    b.screenshot(&format!("audit-{backend}")).await;
    b.close().await;

    // A form posted from another origin is refused, signed in or not.
    let a = s
        .call_bare(
            Method::POST,
            "/sign-in",
            None,
            &[
                ("origin", "https://evil.example"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
        )
        .await;
    assert_eq!(a.status, 403);
    // Behind a proxy that rewrites the host, the public URL's origin is this site.
    let a = s
        .call_bare(
            Method::POST,
            "/sign-in",
            None,
            &[
                ("origin", "http://127.0.0.1:8080"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
        )
        .await;
    assert_eq!(a.status, 422);
}

async fn the_second_factor_is_set_up_and_asked_for_in_a_browser(backend: &str) {
    use custodian_domain::totp;
    let s = start(backend).await;
    account(&s.app, "ted@test.example", "admin", None).await;
    let b = Browser::open().await;
    sign_in(&b, &s, "ted@test.example", "/account").await;
    b.submit_via("form[action='/account/totp'] button").await;
    let shown = b.text_of("#totp-secret").await;
    let secret = totp::base32_decode(shown.trim()).expect("a base32 secret");
    let now = chrono::Utc::now().timestamp();
    b.fill("#f-code", &totp::code_at(&secret, now)).await;
    b.submit_via("form[action='/account/totp/confirm'] button")
        .await;
    assert!(
        b.text_of("dl.record").await.contains("Second factor\non"),
        "{}",
        b.text_of("dl.record").await
    );
    // Signing in again asks for a code, and takes a fresh one.
    b.submit_via("form[action='/sign-out'] button").await;
    b.goto(&format!("{}/assets", s.url)).await;
    b.fill("#f-email", "ted@test.example").await;
    b.fill("#f-password", PASSWORD).await;
    b.submit_via("#sign-in button[type=submit]").await;
    assert!(
        b.try_find("#f-totp").await.is_some(),
        "the form asks for the code"
    );
    b.fill("#f-password", PASSWORD).await;
    b.fill("#f-totp", &totp::code_at(&secret, now + 30)).await;
    b.submit_via("#sign-in button[type=submit]").await;
    assert!(b.url().await.ends_with("/assets"), "{}", b.url().await);
    b.close().await;
}

async fn an_admin_runs_accounts_people_and_the_scheme_in_a_browser(backend: &str) {
    let s = start(backend).await;
    account(&s.app, "ada@test.example", "admin", None).await;
    let staff = account(&s.app, "sam@test.example", "member", None).await;
    let leaver = s.person("Lee Leaver").await;
    s.asset(&leaver, json!({"name": "Lee's phone"})).await;
    let b = Browser::open().await;
    sign_in(&b, &s, "ada@test.example", "/users").await;

    // A role change, recorded; and the account linked to its person, which it was not.
    let sam = s.person("Sam Staff").await;
    b.click(&format!("a[href='/users/{}']", staff.id)).await;
    assert!(b.text_of("#unlinked").await.contains("linked to no person"));
    b.select("#f-role", "manager").await;
    b.select("#f-person_id", &sam).await;
    b.submit_via("#user-form button[type=submit]").await;
    assert!(b.text_of("#done").await.contains("saved"));
    assert!(b.try_find("#unlinked").await.is_none());
    let u = s.get(&format!("/api/v1/users/{}", staff.id)).await;
    assert_eq!(u.body["role"], "manager");
    assert_eq!(u.body["person_id"], sam.as_str());

    // A new account for the data protection officer, linked to her person: its one-time
    // link opens a page at this server's address on which she sets a password.
    let dana = s.person("Dana Protection").await;
    b.goto(&format!("{}/users", s.url)).await;
    b.fill("#f-email", "dana@test.example").await;
    b.select("#f-role", "auditor").await;
    b.select("#f-person_id", &dana).await;
    b.submit_via("form[action='/users'] button[type=submit]")
        .await;
    let link = b.text_of("#setup-link .token-once").await;
    assert!(link.starts_with(&format!("{}/setup/", s.url)), "{link}");
    b.delete_cookies().await;
    b.goto(&link).await;
    b.fill("#f-password", "dana's own long secret").await;
    b.fill("#f-confirm", "dana's own long secret").await;
    b.submit_via("#setup button[type=submit]").await;
    assert!(b.text_of("#done").await.contains("password is set"));
    b.fill("#f-email", "dana@test.example").await;
    b.fill("#f-password", "dana's own long secret").await;
    b.submit_via("#sign-in button[type=submit]").await;
    assert!(b.text_of("h1").await.contains("dana@test.example"));
    assert!(b.try_find("#unlinked").await.is_none());
    b.delete_cookies().await;
    sign_in(&b, &s, "ada@test.example", "/").await;

    // A new classification level, refused first for its key.
    b.goto(&format!("{}/classifications/new", s.url)).await;
    b.fill("#f-key", "Top Secret").await;
    b.fill("#f-name", "Top secret").await;
    b.fill("#f-rank", "4").await;
    b.submit_via("#level-form button[type=submit]").await;
    assert!(b.text_of("#errors").await.contains("key"));
    b.fill("#f-key", "top_secret").await;
    b.submit_via("#level-form button[type=submit]").await;
    assert!(b.text_of("#levels").await.contains("Top secret"));

    // A custom field, which asset forms then offer.
    b.goto(&format!("{}/custom-fields", s.url)).await;
    b.select("#f-entity_type", "asset").await;
    b.fill("#f-key", "cost_centre").await;
    b.fill("#f-label", "Cost centre").await;
    b.submit_via("#custom-field-form button[type=submit]").await;
    assert!(b.text_of("main table").await.contains("Cost centre"));
    b.goto(&format!("{}/assets/new?kind=physical", s.url)).await;
    assert!(b.try_find("#f-custom_cost_centre").await.is_some());

    // A person leaves: their asset is orphaned on the home page.
    b.goto(&format!("{}/people/{leaver}/edit", s.url)).await;
    b.select("#f-status", "left").await;
    // Date inputs take keys in the browser's locale order: set the value itself.
    b.execute(
        "document.getElementById('f-end_date').value = arguments[0];",
        vec![json!("2026-01-31")],
    )
    .await;
    b.submit_via("#party-form button[type=submit]").await;
    let stored = s.get(&format!("/api/v1/parties/{leaver}")).await;
    assert_eq!(stored.body["status"], "left", "{}", b.text_of("main").await);
    b.goto(&format!("{}/", s.url)).await;
    assert!(
        b.text_of("#orphaned").await.contains('1'),
        "{}",
        b.text_of("#orphaned").await
    );
    b.close().await;
}

on_both!(
    an_admin_runs_accounts_people_and_the_scheme_in_a_browser,
    the_second_factor_is_set_up_and_asked_for_in_a_browser,
    a_manager_works_the_register_in_a_browser,
    a_member_sees_only_their_own_assets_in_a_browser,
    pages_work_by_keyboard_and_refuse_cross_site_forms,
    custody_and_acceptable_use_in_a_browser,
    offboarding_and_attestation_in_a_browser,
    a_stocktake_is_counted_with_a_scanner_in_a_browser,
    a_policy_is_approved_by_another_admin_after_a_warning_in_a_browser,
    a_ciso_reads_compliance_and_a_member_sees_what_to_fix_in_a_browser,
    an_auditor_downloads_the_evidence_pack_in_a_browser,
);

/// An auditor chooses a time on the reports page and downloads the evidence pack for it:
/// the same bytes as the API gives for that time, a zip whose manifest names it.
async fn an_auditor_downloads_the_evidence_pack_in_a_browser(backend: &str) {
    let s = start(backend).await;
    let owner = s.person("Ola Owner").await;
    s.asset(&owner, json!({"name": "Field laptop"})).await;
    account(&s.app, "kim@test.example", "auditor", None).await;
    let aud = crate::workflows::person(&s, "Aud Itor", "auditor").await;
    let at = chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();

    let b = Browser::open().await;
    sign_in(&b, &s, "kim@test.example", &format!("/reports?as_at={at}")).await;
    let link = b.find("#reports a[href*='/api/v1/reports/evidence']").await;
    assert_eq!(link.text().await, "ZIP");
    let href = link.attr("href").await.expect("a link");
    assert!(href.contains(&format!("as_at={at}")), "{href}");
    let got = b
        .execute(
            "return fetch(arguments[0]).then(r => r.arrayBuffer().then(b => crypto.subtle.digest('SHA-256', b).then(h => ({
                status: r.status, type: r.headers.get('content-type'), size: b.byteLength,
                head: String.fromCharCode(...new Uint8Array(b).slice(0, 2)),
                sha: [...new Uint8Array(h)].map(x => x.toString(16).padStart(2, '0')).join('')}))));",
            vec![json!(href)],
        )
        .await;
    assert_eq!(got["status"], 200, "{got}");
    assert_eq!(got["type"], "application/zip");
    assert_eq!(got["head"], "PK");
    b.screenshot(&format!("reports-{backend}")).await;
    b.close().await;

    let pack = crate::evidence::pack(&s, &aud, &at).await;
    assert_eq!(got["size"], pack.len());
    assert_eq!(
        got["sha"].as_str(),
        Some(custodian_domain::audit::sha256_hex(&pack).as_str())
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&crate::evidence::unzip(&pack)["manifest.json"]).expect("json");
    assert_eq!(manifest["as_at"], at.as_str());
}

/// The compliance page answers a CISO "are we compliant, and what is wrong?"; a member's
/// home page says what is theirs to fix.
async fn a_ciso_reads_compliance_and_a_member_sees_what_to_fix_in_a_browser(backend: &str) {
    let s = start(backend).await;
    let mo = s.person("Mo Member").await;
    account(
        &s.app,
        "mo@test.example",
        "member",
        Some(mo.parse().expect("uuid")),
    )
    .await;
    account(&s.app, "ciso@test.example", "admin", None).await;
    let laptop = s
        .asset(
            &mo,
            json!({"name": "ThinkPad", "classification": "restricted", "encrypted": false}),
        )
        .await;
    let lid = laptop["id"].as_str().expect("id").to_string();
    s.asset(&mo, json!({"name": "Desk phone", "encrypted": true}))
        .await;
    s.app
        .run_compliance(&custodian_app::Ctx::system())
        .await
        .expect("an evaluation");

    let b = Browser::open().await;
    sign_in(&b, &s, "ciso@test.example", "/compliance").await;
    assert!(b.text_of("#pass-rate").await.contains('%'));
    assert!(b.text_of("#answer").await.contains("Devices are encrypted"));
    assert!(b
        .text_of("#framework-table")
        .await
        .contains("ISO/IEC 27001:2022"));
    let control = b.text_of("#control-table").await;
    assert!(
        control.contains("A.8.1") && control.contains("assessed by hand"),
        "{control}"
    );
    let row = b.text_of("#check-encrypted").await;
    assert!(row.contains("critical"), "{row}");
    // The trend is drawn on the server, with its figures as text.
    assert!(b.try_find("figure.trend svg").await.is_some());
    let today = chrono::Utc::now().date_naive().to_string();
    assert!(b.text_of("figure.trend figcaption").await.contains(&today));
    b.screenshot(&format!("compliance-{backend}")).await;
    b.select("#f-check_id", "encrypted").await;
    b.submit_via("#finding-filters button[type=submit]").await;
    let table = b.text_of("#finding-table").await;
    assert!(
        table.contains("ThinkPad")
            && table.contains("Encrypt the device's storage")
            && table.contains("Mo Member"),
        "{table}"
    );
    assert!(!table.contains("Desk phone"), "{table}");
    b.click("#finding-table a").await;
    assert!(b.url().await.ends_with(&format!("/assets/{lid}")));
    assert!(b
        .text_of("#findings")
        .await
        .contains("Devices are encrypted"));
    // The register's list filters by a failing check; the home page's cards lead here.
    b.goto(&format!("{}/assets?finding=encrypted", s.url)).await;
    let list = b.text_of("#asset-list").await;
    assert!(
        list.contains("ThinkPad") && !list.contains("Desk phone"),
        "{list}"
    );
    b.goto(&format!("{}/", s.url)).await;
    b.click("#incomplete a").await;
    assert!(b
        .url()
        .await
        .contains("/compliance?check_id=record_complete"));
    b.delete_cookies().await;

    sign_in(&b, &s, "mo@test.example", "/").await;
    let fix = b.text_of("#to-fix").await;
    assert!(
        fix.contains("ThinkPad") && fix.contains("Encrypt the device's storage"),
        "{fix}"
    );
    // The register's figures are not a member's to read.
    b.goto(&format!("{}/compliance", s.url)).await;
    assert!(
        b.text_of("h1").await.contains("Forbidden") || b.text_of("main").await.contains("may not")
    );
    b.close().await;
}

/// A version's author is not offered its approval; another admin is warned how many people
/// a material acceptable-use version blocks, and confirms.
async fn a_policy_is_approved_by_another_admin_after_a_warning_in_a_browser(backend: &str) {
    let s = start(backend).await;
    let ann = s.person("Ann Admin").await;
    let bea = s.person("Bea Admin").await;
    s.person("Carl Staff").await;
    account(
        &s.app,
        "ann@test.example",
        "admin",
        Some(ann.parse().expect("uuid")),
    )
    .await;
    account(
        &s.app,
        "bea@test.example",
        "admin",
        Some(bea.parse().expect("uuid")),
    )
    .await;
    let t = crate::common::token(&s.app, "ann@test.example", "write").await;
    let d = s
        .call_bare(
            reqwest::Method::POST,
            "/api/v1/policies",
            Some(
                json!({"document": "acceptable_use", "number": "1.0", "material": true,
                "body": "# Acceptable use\n\nLock your screen.", "effective_date": "2026-01-01"}),
            ),
            &[("authorization", &format!("Bearer {t}"))],
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let pid = d.body["id"].as_str().expect("policy").to_string();
    let b = Browser::open().await;
    sign_in(&b, &s, "ann@test.example", &format!("/policies/{pid}")).await;
    assert!(b
        .text_of("#approve")
        .await
        .contains("another admin approves it"));
    assert!(b.try_find("#approve button").await.is_none());
    b.delete_cookies().await;
    sign_in(&b, &s, "bea@test.example", &format!("/policies/{pid}")).await;
    let warning = b.text_of("#approval-blocks").await;
    assert!(warning.contains("blocks issuing to 3 people"), "{warning}");
    b.submit_via("#approve button[type=submit]").await;
    assert!(b.text_of("#errors").await.contains("confirm"));
    assert_eq!(
        s.get(&format!("/api/v1/policies/{pid}")).await.body["status"],
        "draft"
    );
    b.click("#f-confirm").await;
    b.submit_via("#approve button[type=submit]").await;
    assert!(b.text_of("#done").await.contains("approved"));
    assert_eq!(
        s.get(&format!("/api/v1/policies/{pid}")).await.body["approved_by"],
        bea.as_str()
    );
    b.close().await;
}

/// A manager counts a location: a keyboard-wedge scanner types a number and Enter, the
/// page answers and is ready for the next; the report shows what is missing.
async fn a_stocktake_is_counted_with_a_scanner_in_a_browser(backend: &str) {
    let s = start(backend).await;
    let mara = s.person("Mara Manager").await;
    account(
        &s.app,
        "mara@test.example",
        "manager",
        Some(mara.parse().expect("uuid")),
    )
    .await;
    let loc = |name: &str, parent: Option<&str>| {
        let mut body = json!({ "name": name });
        if let Some(p) = parent {
            body["parent_id"] = json!(p);
        }
        body
    };
    let hq = s.post("/api/v1/locations", loc("Head office", None)).await;
    let hq = hq.body["id"].as_str().expect("hq").to_string();
    let room = s
        .post("/api/v1/locations", loc("Store room", Some(&hq)))
        .await;
    let room = room.body["id"].as_str().expect("room").to_string();
    let branch = s.post("/api/v1/locations", loc("Branch", None)).await;
    let branch = branch.body["id"].as_str().expect("branch").to_string();
    let laptop = s
        .asset(
            &mara,
            json!({"name": "Reception laptop", "location_id": hq}),
        )
        .await;
    let monitor = s
        .asset(&mara, json!({"name": "Spare monitor", "location_id": room}))
        .await;
    let printer = s
        .asset(
            &mara,
            json!({"name": "Branch printer", "location_id": branch}),
        )
        .await;
    let number = |a: &serde_json::Value| a["asset_number"].as_str().unwrap_or("").to_string();

    let b = Browser::open().await;
    sign_in(&b, &s, "mara@test.example", "/stocktakes").await;
    b.select("#f-location_id", &hq).await;
    b.submit_via("#start-stocktake button[type=submit]").await;
    assert!(b.url().await.contains("/stocktakes/"), "{}", b.url().await);
    let counts = b.text_of("#counts").await;
    assert!(counts.contains("0 of 2 found"), "{counts}");

    // The scan box has the focus; a scanner types the number (any case) and Enter.
    let active = b.active_element().await;
    assert_eq!(active.attr("id").await.as_deref(), Some("f-entry"));
    active
        .send_keys(&format!("{}\u{E007}", number(&laptop).to_lowercase()))
        .await;
    let answer = b.text_of("#scan-result .scan-result").await;
    assert!(
        answer.contains(&number(&laptop)) && answer.contains("found"),
        "{answer}"
    );
    assert_eq!(
        b.active_element().await.attr("id").await.as_deref(),
        Some("f-entry"),
        "ready for the next scan"
    );
    // Another location's asset is unexpected.
    b.fill("#f-entry", &number(&printer)).await;
    b.submit_via("#scan button[type=submit]").await;
    let answer = b.text_of("#scan-result .scan-result").await;
    assert!(
        answer.contains("not expected here") && answer.contains("Branch"),
        "{answer}"
    );
    // The laptop's label again: counted once.
    let link = format!("{}/assets/{}", s.url, laptop["id"].as_str().unwrap_or(""));
    b.fill("#f-entry", &link).await;
    b.submit_via("#scan button[type=submit]").await;
    let answer = b.text_of("#scan-result .scan-result").await;
    assert!(answer.contains("scanned already"), "{answer}");
    assert!(b.text_of("#counts").await.contains("1 of 2 found"));
    assert!(b
        .text_of("#report-missing")
        .await
        .contains(&number(&monitor)));
    assert!(b
        .text_of("#report-found")
        .await
        .contains("Reception laptop"));
    b.screenshot(&format!("stocktake-{backend}")).await;
    let checked = s
        .get(&format!(
            "/api/v1/assets/{}",
            laptop["id"].as_str().unwrap_or("")
        ))
        .await;
    assert_eq!(checked.body["last_reviewed_by"], mara.as_str());

    // Closing fixes the report.
    b.execute("window.confirm = () => true;", vec![]).await;
    b.submit_via("#close-stocktake button[type=submit]").await;
    assert!(b.text_of("main").await.contains("closed"));
    assert!(b.try_find("#scan").await.is_none());

    // The labels of the head office.
    b.goto(&format!("{}/labels?location_id={hq}", s.url)).await;
    assert_eq!(b.find_all("#labels .label svg").await.len(), 1);
    assert!(b.text_of("#labels").await.contains(&number(&laptop)));
    b.screenshot(&format!("labels-{backend}")).await;
    b.close().await;
}

async fn custody_and_acceptable_use_in_a_browser(backend: &str) {
    let s = start(backend).await;
    let ann = s.person("Ann Admin").await;
    let mara = s.person("Mara Manager").await;
    let bob = s.person("Bob Member").await;
    for (email, role, p) in [
        ("ann@test.example", "admin", &ann),
        ("mara@test.example", "manager", &mara),
        ("bob@test.example", "member", &bob),
    ] {
        account(&s.app, email, role, Some(p.parse().expect("uuid"))).await;
    }
    let ann_t = format!(
        "Bearer {}",
        crate::common::token(&s.app, "ann@test.example", "write").await
    );
    let as_ann = |m: Method, path: &str, body: serde_json::Value| {
        let (s, t) = (&s, ann_t.clone());
        let path = path.to_string();
        async move {
            s.call_bare(m, &path, Some(body), &[("authorization", t.as_str())])
                .await
        }
    };
    // Drafted on the server's command line, so that Ann, who did not write it, approves it.
    let draft = s
        .app
        .create_policy(
            &custodian_app::Ctx::system(),
            json!({"document": "acceptable_use", "number": "1.0", "effective_date": "2026-01-01", "author_id": mara,
                "body": "# Acceptable use\n\nLock your screen. <script>alert(1)</script>\n\n[bad](javascript:alert(1))"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        )
        .await
        .expect("a draft");
    let pid = draft.id.to_string();
    let a = as_ann(
        Method::POST,
        &format!("/api/v1/policies/{pid}/approve"),
        json!({"confirm": true}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let laptop = s
        .post(
            "/api/v1/assets",
            json!({"kind": "physical", "name": "Field laptop", "owner_id": mara, "importance": "high", "classification": "internal", "status": "in_stock"}),
        )
        .await;
    let lid = laptop.body["id"].as_str().expect("id").to_string();
    let b = Browser::open().await;

    // Issuing to someone who has not acknowledged the policy is refused, with the reason.
    sign_in(&b, &s, "mara@test.example", &format!("/assets/{lid}")).await;
    b.select("#f-person_id", &bob).await;
    b.submit_via("#issue button[type=submit]").await;
    let errors = b.text_of("#errors").await;
    assert!(
        errors.contains("Bob Member has not acknowledged"),
        "{errors}"
    );

    // Bob reads the policy, written for him, and acknowledges it.
    b.delete_cookies().await;
    sign_in(&b, &s, "bob@test.example", "/").await;
    assert!(b.text_of("#aup-nag").await.contains("not acknowledged"));
    b.goto(&format!("{}/acceptable-use", s.url)).await;
    let policy = b.text_of("article.policy").await;
    assert!(
        policy.contains("Lock your screen") && policy.contains("<script>"),
        "raw HTML is shown as text: {policy}"
    );
    assert!(b
        .try_find("article.policy a[href^='javascript']")
        .await
        .is_none());
    b.screenshot(&format!("acceptable-use-{backend}")).await;
    b.submit_via("form[action='/acceptable-use'] button[type=submit]")
        .await;
    assert!(b
        .text_of("#acknowledged")
        .await
        .contains("You acknowledged this version"));

    // Now Mara issues it; the custody shows on the asset's page.
    b.delete_cookies().await;
    sign_in(&b, &s, "mara@test.example", &format!("/assets/{lid}")).await;
    b.select("#f-person_id", &bob).await;
    b.execute(
        "document.getElementById('f-expected_return_at').value = arguments[0];",
        vec![json!("2030-01-31")],
    )
    .await;
    b.submit_via("#issue button[type=submit]").await;
    let custody = b.text_of("table.custody").await;
    assert!(
        custody.contains("Bob Member") && custody.contains("2030-01-31"),
        "{custody}"
    );
    b.screenshot(&format!("custody-{backend}")).await;

    // Bob sees what he holds and reports it stolen from its page.
    b.delete_cookies().await;
    sign_in(&b, &s, "bob@test.example", "/").await;
    assert!(b.text_of("#held").await.contains("(1)"));
    assert!(b.text_of("main").await.contains("Field laptop"));
    b.goto(&format!("{}/assets/{lid}", s.url)).await;
    // A refused report keeps what was typed: a stale version is refused.
    b.execute(
        "document.querySelector('#report input[name=version]').value = '1';",
        vec![],
    )
    .await;
    b.execute("window.confirm = () => true;", vec![]).await;
    b.select("#f-to", "stolen").await;
    b.fill("#f-notes", "Taken from the car at the station")
        .await;
    b.submit_via("#report button[type=submit]").await;
    assert!(b.try_find("#errors").await.is_some());
    assert!(b
        .source()
        .await
        .contains("Taken from the car at the station"));
    // The holder's own report needs no incident reference, and lands on a confirmation
    // the holder may see (the asset itself is no longer theirs to see).
    b.goto(&format!("{}/assets/{lid}", s.url)).await;
    b.execute("window.confirm = () => true;", vec![]).await;
    b.select("#f-to", "stolen").await;
    b.fill("#f-notes", "Taken from the car at the station")
        .await;
    b.submit_via("#report button[type=submit]").await;
    assert!(b.text_of("#done").await.contains("Your report is recorded"));
    assert!(!b.text_of("main").await.contains("Not found"));
    let stored = s.get(&format!("/api/v1/assets/{lid}")).await;
    assert_eq!(
        stored.body["status"],
        "stolen",
        "{}",
        b.text_of("main").await
    );

    // Managers see it at once, add the incident reference, and ask for exceptions through
    // a form that names mistakes.
    b.delete_cookies().await;
    sign_in(&b, &s, "mara@test.example", "/").await;
    assert!(b
        .text_of("#lost-stolen")
        .await
        .contains("Reported lost or stolen"));
    assert!(b.text_of("main").await.contains("Field laptop"));
    b.goto(&format!("{}/assets/{lid}", s.url)).await;
    assert!(b.text_of("#incident").await.contains("still to be added"));
    b.fill("#f-incident_ref", "INC-77").await;
    b.submit_via("#add-incident button[type=submit]").await;
    assert!(b
        .text_of("#done")
        .await
        .contains("incident reference is added"));
    assert!(b.try_find("#incident").await.is_none());
    b.goto(&format!("{}/exceptions/new", s.url)).await;
    b.select("#f-rule", "off_premises_authorised").await;
    b.fill("#f-asset_ids", "AST-000001\nAST-999999").await;
    b.fill("#f-justification", "Customer visit").await;
    b.fill("#f-compensating_controls", "Encrypted disk").await;
    b.execute(
        "document.getElementById('f-expires_at').value = arguments[0];",
        vec![json!("2099-01-01")],
    )
    .await;
    b.submit_via("#exception-form button[type=submit]").await;
    let errors = b.text_of("#errors").await;
    assert!(errors.contains("AST-999999"), "{errors}");
    b.goto(&format!("{}/policies", s.url)).await;
    assert!(b
        .text_of("#ack-summary")
        .await
        .contains("1 people have acknowledged"));
    // Managers read how the rules are enforced; an admin changes it on the same page.
    assert!(b.try_find("#rule-settings").await.is_none());
    assert!(b
        .text_of("main")
        .await
        .contains("Assigning more software seats than licences were purchased"));
    b.goto(&format!("{}/off-premises", s.url)).await;
    assert!(b.text_of("h1").await.contains("Off the premises"));
    b.delete_cookies().await;
    sign_in(&b, &s, "ann@test.example", "/policies").await;
    b.click("#f-licence_overallocation input[value=refuse]")
        .await;
    b.submit_via("#rule-settings button[type=submit]").await;
    let rules = s.get("/api/v1/settings/policy").await;
    assert_eq!(
        rules.body["licence_overallocation"], "refuse",
        "{}",
        rules.body
    );
    assert_eq!(rules.body["acceptable_use_enforcement"], "refuse");
    assert!(b
        .try_find("#f-licence_overallocation input[value=refuse]:checked")
        .await
        .is_some());
    b.close().await;
}

async fn offboarding_and_attestation_in_a_browser(backend: &str) {
    let s = start(backend).await;
    let mara = s.person("Mara Manager").await;
    let bob = s.person("Bob Member").await;
    let lee = s.person("Lee Leaver").await;
    let sam = s.person("Sam Successor").await;
    account(
        &s.app,
        "mara@test.example",
        "manager",
        Some(mara.parse().expect("uuid")),
    )
    .await;
    account(
        &s.app,
        "bob@test.example",
        "member",
        Some(bob.parse().expect("uuid")),
    )
    .await;
    s.post(
        "/api/v1/assets",
        json!({"kind": "data", "name": "Budget 2027", "owner_id": lee, "importance": "high", "classification": "confidential"}),
    )
    .await;
    s.post(
        "/api/v1/assets",
        json!({"kind": "physical", "name": "Bob's monitor", "owner_id": bob, "importance": "low", "classification": "internal"}),
    )
    .await;
    // The laptop Lee owns and uses: it comes back to stock before it is handed over.
    let laptop = s
        .post(
            "/api/v1/assets",
            json!({"kind": "physical", "name": "Lee's laptop", "owner_id": lee, "importance": "high", "classification": "internal"}),
        )
        .await;
    let laptop = laptop.body["id"].as_str().expect("laptop").to_string();
    let p = s
        .patch(
            &format!("/api/v1/parties/{lee}"),
            json!({"status": "notice", "end_date": "2025-03-31"}),
            None,
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let case = s
        .get(&format!("/api/v1/offboardings?person_id={lee}"))
        .await
        .body["items"][0]
        .clone();
    let cid = case["id"].as_str().expect("case").to_string();
    let item_id = |kind: &str| {
        case["items"]
            .as_array()
            .and_then(|i| i.iter().find(|i| i["kind"] == kind))
            .and_then(|i| i["id"].as_str())
            .expect("item")
            .to_string()
    };
    let b = Browser::open().await;

    // The case lists what to settle, overdue, with the notice-period controls.
    sign_in(&b, &s, "mara@test.example", "/offboardings").await;
    assert!(b.text_of("#offboardings").await.contains("Lee Leaver"));
    b.goto(&format!("{}/offboardings/{cid}", s.url)).await;
    assert!(b
        .text_of("#notice-controls")
        .await
        .contains("Removable media"));
    assert!(b.text_of("#items").await.contains("overdue"));
    b.screenshot(&format!("offboarding-{backend}")).await;

    // It does not close while an item is open.
    b.submit_via("#close-case button[type=submit]").await;
    let errors = b.text_of("#errors").await;
    assert!(errors.contains("still open"), "{errors}");

    // Each item is settled with evidence; the hand-over names the successor.
    let hand = item_id("hand_over_asset");
    b.fill(
        &format!("#item-{hand} input[name=evidence]"),
        "Walked Sam through the budget",
    )
    .await;
    b.select(&format!("#item-{hand} select[name=successor_id]"), &sam)
        .await;
    b.submit_via(&format!("#item-{hand} button[type=submit]"))
        .await;
    let row = b.text_of(&format!("#item-{hand}")).await;
    assert!(
        row.contains("settled") && row.contains("Sam Successor"),
        "{row}"
    );
    let laptop_item = |kind: &str| {
        case["items"]
            .as_array()
            .and_then(|i| {
                i.iter()
                    .find(|i| i["kind"] == kind && i["asset_id"] == laptop.as_str())
            })
            .and_then(|i| i["id"].as_str())
            .expect("a laptop item")
            .to_string()
    };
    let (back, over) = (laptop_item("return_asset"), laptop_item("hand_over_asset"));
    assert!(b
        .text_of(&format!("#item-{back}"))
        .await
        .contains("to stock"));
    b.fill(&format!("#item-{over} input[name=evidence]"), "Sam has it")
        .await;
    b.select(&format!("#item-{over} select[name=successor_id]"), &sam)
        .await;
    b.submit_via(&format!("#item-{over} button[type=submit]"))
        .await;
    assert!(b.text_of("#errors").await.contains("comes first"));
    b.fill(
        &format!("#item-{back} input[name=evidence]"),
        "Handed in at IT",
    )
    .await;
    b.fill(
        &format!("#item-{back} input[name=condition]"),
        "Good, charger missing",
    )
    .await;
    b.submit_via(&format!("#item-{back} button[type=submit]"))
        .await;
    assert!(b
        .text_of(&format!("#item-{back}"))
        .await
        .contains("settled"));
    b.fill(&format!("#item-{over} input[name=evidence]"), "Sam has it")
        .await;
    b.select(&format!("#item-{over} select[name=successor_id]"), &sam)
        .await;
    b.submit_via(&format!("#item-{over} button[type=submit]"))
        .await;
    let stored = s.get(&format!("/api/v1/assets/{laptop}")).await.body;
    assert_eq!(stored["status"], "in_stock");
    assert_eq!(stored["owner_id"], sam.as_str());
    let history = s
        .get(&format!("/api/v1/assets/{laptop}/history"))
        .await
        .body
        .to_string();
    assert!(history.contains("charger missing"), "{history}");
    let access = item_id("revoke_access");
    b.fill(
        &format!("#item-{access} input[name=evidence]"),
        "SSO account disabled",
    )
    .await;
    b.submit_via(&format!("#item-{access} button[type=submit]"))
        .await;
    b.submit_via("#close-case button[type=submit]").await;
    assert!(b.source().await.contains("Closed"));
    assert!(b.try_find("#close-case").await.is_none());

    // An attestation campaign asks every owner; a member confirms from their home page.
    b.goto(&format!("{}/attestations", s.url)).await;
    b.fill("#f-title", "Asset attestation Q4").await;
    let due = (chrono::Utc::now().date_naive() + chrono::TimeDelta::days(20)).to_string();
    b.execute(
        "document.getElementById('f-due_date').value = arguments[0];",
        vec![json!(due)],
    )
    .await;
    b.submit_via("#attestation-form button[type=submit]").await;
    assert!(b.text_of("#completion").await.contains("0 of"));
    b.delete_cookies().await;
    sign_in(&b, &s, "bob@test.example", "/").await;
    let prompt = b.text_of("#attestation-prompt").await;
    assert!(prompt.contains("1 asset"), "{prompt}");
    b.click("#attestation-prompt a").await;
    // The assets being confirmed are listed, each with a way to mark it wrong.
    let listed = b.text_of(&format!("#confirm-{bob}")).await;
    assert!(listed.contains("Bob's monitor"), "{listed}");
    b.click(&format!("#confirm-{bob} input[name=disputed_id]"))
        .await;
    b.submit_via(&format!("#confirm-{bob} button[type=submit]"))
        .await;
    assert!(b.text_of("#errors").await.contains("note"));
    b.click(&format!("#confirm-{bob} input[name=disputed_id]"))
        .await;
    b.fill(&format!("#confirm-{bob} input[name=note]"), "Sold it")
        .await;
    b.submit_via(&format!("#confirm-{bob} button[type=submit]"))
        .await;
    assert!(b.text_of("#done").await.contains("answer is recorded"));
    let row = b.text_of(&format!("#owner-{bob}")).await;
    assert!(
        row.contains("corrected") && row.contains("1 named as wrong"),
        "{row}"
    );
    // A disputed asset is not counted as attested.
    let attested = b.text_of(".cards .card:nth-child(2)").await;
    assert!(attested.contains("0 of 1"), "{attested}");
    b.goto(&format!("{}/", s.url)).await;
    assert!(b.try_find("#attestation-prompt").await.is_none());
    b.close().await;
}

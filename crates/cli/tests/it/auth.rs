//! Accounts and access control over HTTP: sign-in, sessions, CSRF, lockout, tokens, the
//! role matrix over every documented operation, and what a member may see.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{account, start, token, Answer, Server, PASSWORD};
use crate::on_both;

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

/// The session cookie's `name=value` from a sign-in answer.
fn session_cookie(a: &Answer) -> String {
    let set = a
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("a session cookie: {} {}", a.status, a.body));
    set.split(';').next().expect("name=value").to_string()
}

async fn sign_in(s: &Server, email: &str, password: &str, cookie: Option<&str>) -> Answer {
    let mut headers = vec![];
    if let Some(c) = cookie {
        headers.push(("cookie", c));
    }
    s.call_bare(
        Method::POST,
        "/api/v1/session",
        Some(json!({"email": email, "password": password})),
        &headers,
    )
    .await
}

async fn person(s: &Server, name: &str) -> String {
    let email = format!("{}@test.example", name.to_lowercase().replace(' ', "."));
    let a = s
        .post(
            "/api/v1/parties",
            json!({"kind": "person", "name": name, "email": email}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["id"].as_str().expect("id").to_string()
}

async fn asset(s: &Server, name: &str, owner: &str) -> String {
    let a = s
        .post(
            "/api/v1/assets",
            json!({"kind": "physical", "name": name, "owner_id": owner, "importance": "low", "classification": "internal"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["id"].as_str().expect("id").to_string()
}

async fn nobody_gets_in_without_credentials(backend: &str) {
    let s = start(backend).await;
    let a = s.call_bare(Method::GET, "/api/v1/assets", None, &[]).await;
    a.problem(401);
    assert_eq!(
        a.headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    for h in [
        "content-security-policy",
        "x-frame-options",
        "referrer-policy",
        "x-content-type-options",
    ] {
        assert!(a.headers.contains_key(h), "missing {h}");
    }
    let csp = a.headers["content-security-policy"].to_str().expect("csp");
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    s.call_bare(
        Method::GET,
        "/api/v1/assets",
        None,
        &[("authorization", "Bearer cust_not-a-real-token")],
    )
    .await
    .problem(401);
    s.call_bare(Method::GET, "/metrics", None, &[])
        .await
        .problem(401);
    assert_eq!(
        s.call_bare(Method::GET, "/healthz", None, &[]).await.status,
        200
    );
    assert_eq!(
        s.call_bare(Method::GET, "/api/v1/openapi.json", None, &[])
            .await
            .status,
        200
    );
}

async fn sessions_sign_in_renew_and_end(backend: &str) {
    let s = start(backend).await;
    account(&s.app, "mia@test.example", "manager", None).await;
    sign_in(&s, "mia@test.example", "wrong password!!", None)
        .await
        .problem(401);
    let unknown = sign_in(&s, "nobody@test.example", PASSWORD, None).await;
    unknown.problem(401);
    let wrong = sign_in(&s, "mia@test.example", "wrong password!!", None).await;
    // The same answer whether or not the account exists.
    assert_eq!(unknown.body["detail"], wrong.body["detail"]);

    let a = sign_in(&s, "MIA@test.example", PASSWORD, None).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let set = a.headers["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(
        !set.contains("Secure"),
        "plain http must not mark the cookie Secure"
    );
    let cookie = session_cookie(&a);
    let csrf = a.body["csrf_token"].as_str().expect("csrf").to_string();
    assert_eq!(a.body["user"]["role"], "manager");
    assert!(a.body["user"].get("password_hash").is_none());

    let me = s
        .call_bare(Method::GET, "/api/v1/session", None, &[("cookie", &cookie)])
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["user"]["email"], "mia@test.example");
    assert_eq!(me.body["csrf_token"], csrf.as_str());

    // A change made with the cookie needs the CSRF token.
    let body = json!({"kind": "person", "name": "Noel Owner", "email": "noel@test.example"});
    let a = s
        .call_bare(
            Method::POST,
            "/api/v1/parties",
            Some(body.clone()),
            &[("cookie", &cookie)],
        )
        .await;
    a.problem(403);
    assert!(a.body["detail"]
        .as_str()
        .unwrap_or("")
        .contains("x-csrf-token"));
    s.call_bare(
        Method::POST,
        "/api/v1/parties",
        Some(body.clone()),
        &[("cookie", &cookie), ("x-csrf-token", "forged")],
    )
    .await
    .problem(403);
    let ok = s
        .call_bare(
            Method::POST,
            "/api/v1/parties",
            Some(body),
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);

    // Signing in again with a session cookie replaces it: a planted id never gets in.
    let again = sign_in(&s, "mia@test.example", PASSWORD, Some(&cookie)).await;
    let renewed = session_cookie(&again);
    assert_ne!(renewed, cookie);
    s.call_bare(Method::GET, "/api/v1/session", None, &[("cookie", &cookie)])
        .await
        .problem(401);

    // Signing out ends the session.
    let csrf2 = again.body["csrf_token"].as_str().expect("csrf").to_string();
    let out = s
        .call_bare(
            Method::DELETE,
            "/api/v1/session",
            None,
            &[("cookie", &renewed), ("x-csrf-token", &csrf2)],
        )
        .await;
    assert_eq!(out.status, 204, "{}", out.body);
    s.call_bare(
        Method::GET,
        "/api/v1/session",
        None,
        &[("cookie", &renewed)],
    )
    .await
    .problem(401);

    // A password change ends every session; the new password works, the old does not.
    let a = sign_in(&s, "mia@test.example", PASSWORD, None).await;
    let (c, t) = (
        session_cookie(&a),
        a.body["csrf_token"].as_str().expect("csrf").to_string(),
    );
    let b = sign_in(&s, "mia@test.example", PASSWORD, None).await;
    let other = session_cookie(&b);
    let short = s
        .call_bare(
            Method::POST,
            "/api/v1/session/password",
            Some(json!({"current_password": PASSWORD, "new_password": "short"})),
            &[("cookie", &c), ("x-csrf-token", &t)],
        )
        .await;
    short.problem(422);
    assert_eq!(short.error_fields(), ["new_password"]);
    let changed = s
        .call_bare(
            Method::POST,
            "/api/v1/session/password",
            Some(json!({"current_password": PASSWORD, "new_password": "a much longer passphrase"})),
            &[("cookie", &c), ("x-csrf-token", &t)],
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    for cookie in [&c, &other] {
        s.call_bare(Method::GET, "/api/v1/session", None, &[("cookie", cookie)])
            .await
            .problem(401);
    }
    sign_in(&s, "mia@test.example", PASSWORD, None)
        .await
        .problem(401);
    assert_eq!(
        sign_in(&s, "mia@test.example", "a much longer passphrase", None)
            .await
            .status,
        201
    );

    // Each step is in the audit trail, with the client's address and user agent.
    let events = s.get("/api/v1/audit?limit=500").await.body;
    let actions: Vec<&str> = events["items"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for want in [
        "auth.sign_in_failed",
        "auth.signed_in",
        "auth.signed_out",
        "auth.password_changed",
    ] {
        assert!(actions.contains(&want), "no {want} in {actions:?}");
    }
    let failed = events["items"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "auth.sign_in_failed")
        .expect("a failure");
    assert_eq!(failed["changes"]["client"]["ip"], "127.0.0.1");
    assert!(!events.to_string().contains(PASSWORD));
}

async fn repeated_failures_lock_the_account(backend: &str) {
    let s = start(backend).await;
    account(&s.app, "lee@test.example", "member", None).await;
    for _ in 0..5 {
        sign_in(&s, "lee@test.example", "not the password", None)
            .await
            .problem(401);
    }
    // Locked: even the right password is refused for now.
    sign_in(&s, "lee@test.example", PASSWORD, None)
        .await
        .problem(401);
    let user = s.app.store().user_by_email("lee@test.example").await;
    let user = user.expect("read").expect("the user");
    assert!(user.locked_until.is_some());
    let events = s.get("/api/v1/audit?limit=500").await.body.to_string();
    assert!(events.contains("auth.locked_out"));
    // The address is throttled too: the 11th attempt in a minute is turned away.
    for _ in 0..4 {
        sign_in(&s, "other@test.example", "whatever it is", None).await;
    }
    let a = sign_in(&s, "other@test.example", "whatever it is", None).await;
    a.problem(429);
    assert!(a.headers.contains_key("retry-after"));
}

async fn tokens_are_scoped_expiring_and_revocable(backend: &str) {
    let s = start(backend).await;
    account(&s.app, "ro@test.example", "admin", None).await;
    let read = token(&s.app, "ro@test.example", "read").await;
    assert!(read.starts_with("cust_"));
    let auth = bearer(&read);
    let h = [("authorization", auth.as_str())];
    assert_eq!(
        s.call_bare(Method::GET, "/api/v1/assets", None, &h)
            .await
            .status,
        200
    );
    let a = s
        .call_bare(
            Method::POST,
            "/api/v1/parties",
            Some(json!({"kind": "team", "name": "Ops"})),
            &h,
        )
        .await;
    a.problem(403);
    assert!(a.body["detail"]
        .as_str()
        .unwrap_or("")
        .contains("read-only"));

    // Issued over the API: the secret appears once; lists show last use, never the secret.
    let created = s
        .post(
            "/api/v1/tokens",
            json!({"name": "ci", "scope": "write", "expires_in_days": 7}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.body["token"].as_str().expect("secret").to_string();
    let id = created.body["id"].as_str().expect("id").to_string();
    let auth2 = bearer(&secret);
    assert_eq!(
        s.call_bare(
            Method::GET,
            "/api/v1/session",
            None,
            &[("authorization", &auth2)]
        )
        .await
        .body["via"],
        "token"
    );
    let list = s.get("/api/v1/tokens").await;
    assert!(!list.body.to_string().contains(&secret));
    let mine = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["id"] == id.as_str())
        .expect("listed");
    assert!(mine["last_used_at"].is_string());
    s.post("/api/v1/tokens", json!({"expires_in_days": 400}))
        .await
        .problem(422);
    // A user_id that is not an id is refused, never read as "for myself".
    let p = s.post("/api/v1/tokens", json!({"user_id": {}})).await;
    p.problem(422);
    assert_eq!(p.body["errors"][0]["field"], "user_id", "{}", p.body);

    let revoked = s
        .call(Method::DELETE, &format!("/api/v1/tokens/{id}"), None, &[])
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert!(revoked.body["revoked_at"].is_string());
    s.call_bare(
        Method::GET,
        "/api/v1/assets",
        None,
        &[("authorization", &auth2)],
    )
    .await
    .problem(401);

    // An expired token no longer works.
    let t = s
        .app
        .create_token_for(
            &custodian_app::Ctx::system(),
            "ro@test.example",
            custodian_domain::access::Scope::Read,
            1,
        )
        .await
        .expect("token");
    let expired = format!(
        "UPDATE api_tokens SET expires_at = {} WHERE id = {}",
        if backend == "postgres" {
            "now() - interval '1 day'".to_string()
        } else {
            "'2020-01-01T00:00:00+00:00'".to_string()
        },
        if backend == "postgres" {
            format!("'{}'", t.token.id)
        } else {
            format!("X'{}'", t.token.id.simple())
        },
    );
    s.db().execute(&expired).await.expect("expire the token");
    s.call_bare(
        Method::GET,
        "/api/v1/assets",
        None,
        &[("authorization", &bearer(&t.secret))],
    )
    .await
    .problem(401);

    let events = s.get("/api/v1/audit?limit=500").await.body.to_string();
    assert!(events.contains("token.created") && events.contains("token.revoked"));
    assert!(!events.contains(&secret));
}

async fn members_see_and_edit_only_their_own(backend: &str) {
    let s = start(backend).await;
    let ann = person(&s, "Ann Member").await;
    let bob = person(&s, "Bob Other").await;
    let team = s
        .post(
            "/api/v1/parties",
            json!({"kind": "team", "name": "Lab", "member_ids": [ann]}),
        )
        .await;
    let team = team.body["id"].as_str().expect("team").to_string();
    let mine = asset(&s, "Ann's laptop", &ann).await;
    let teams = asset(&s, "Lab scope", &team).await;
    let bobs = asset(&s, "Bob's laptop", &bob).await;
    let lent = asset(&s, "Bob's phone", &bob).await;
    let d = s
        .post(
            "/api/v1/delegations",
            json!({"owner_id": bob, "delegate_id": ann, "task": "inventory", "asset_id": lent}),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);

    let ann_uuid: uuid::Uuid = ann.parse().expect("uuid");
    account(&s.app, "ann.member@test.example", "member", Some(ann_uuid)).await;
    let t = token(&s.app, "ann.member@test.example", "write").await;
    let auth = bearer(&t);
    let h = [("authorization", auth.as_str())];
    let (s, h) = (&s, &h);
    let get = |p: String| async move { s.call_bare(Method::GET, &p, None, h).await };

    let list = get("/api/v1/assets?limit=50".into()).await;
    let mut names: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["Ann's laptop", "Bob's phone", "Lab scope"]);
    // A filter cannot widen the view.
    let by_bob = get(format!("/api/v1/assets?owner_id={bob}")).await;
    assert_eq!(by_bob.body["items"].as_array().map(Vec::len), Some(1));
    let q = get("/api/v1/assets?q=laptop".into()).await;
    assert_eq!(q.body["items"].as_array().map(Vec::len), Some(1));

    for id in [&mine, &teams, &lent] {
        assert_eq!(get(format!("/api/v1/assets/{id}")).await.status, 200);
    }
    get(format!("/api/v1/assets/{bobs}")).await.problem(404);
    get(format!("/api/v1/assets/{bobs}/history"))
        .await
        .problem(404);
    get(format!("/api/v1/parties/{bob}")).await.problem(404);
    assert_eq!(get(format!("/api/v1/parties/{ann}")).await.status, 200);

    // Owners keep their records true; they do not reassign or dispose of them.
    let patch = |id: String, body: Value| async move {
        s.call_bare(
            Method::PATCH,
            &format!("/api/v1/assets/{id}"),
            Some(body),
            h,
        )
        .await
    };
    let ok = patch(mine.clone(), json!({"description": "Mine"})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let ok = patch(lent.clone(), json!({"description": "Counted"})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    patch(bobs.clone(), json!({"description": "Not mine"}))
        .await
        .problem(404);
    patch(mine.clone(), json!({"owner_id": bob}))
        .await
        .problem(403);
    s.call_bare(
        Method::POST,
        &format!("/api/v1/assets/{mine}/transitions"),
        Some(json!({"to": "retired"})),
        h,
    )
    .await
    .problem(403);
    s.call_bare(
        Method::POST,
        "/api/v1/assets",
        Some(json!({"kind": "physical", "name": "X", "owner_id": ann, "importance": "low", "classification": "internal"})),
        h,
    )
    .await
    .problem(403);
    // Bob's record is unchanged.
    assert!(s.get(&format!("/api/v1/assets/{bobs}")).await.body["description"].is_null());
    // The refusal is in the audit trail.
    let events = s.get("/api/v1/audit?limit=500").await.body.to_string();
    assert!(events.contains("access.denied"));
}

/// What a caller should get from an operation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    /// Anything but 401 and 403 (a 404 or 422 for the probe's made-up input is fine).
    Allowed,
    Forbidden,
    Unauthenticated,
    Hidden,
}

fn want(role: Option<&str>, read_only: bool, public: bool, method: &str, path: &str) -> Want {
    use Want::*;
    if public {
        return Allowed;
    }
    let Some(role) = role else {
        return Unauthenticated;
    };
    // Samples are drawn by those who read the reports (auditors, managers, admins), with
    // a read-only token too: a draw reads the register, and records that it did.
    if path == "/api/v1/samples" {
        return if role == "member" { Forbidden } else { Allowed };
    }
    let reading = method == "get";
    if read_only && !reading {
        // Signing out needs a session, not a token: the answer says so (422).
        return if path == "/api/v1/session" {
            Allowed
        } else {
            Forbidden
        };
    }
    if role == "admin" {
        return Allowed;
    }
    if path.starts_with("/api/v1/session") || path == "/api/v1/tokens" {
        return Allowed;
    }
    if path == "/api/v1/tokens/{id}" {
        return Forbidden;
    }
    let area = path
        .trim_start_matches("/api/v1/")
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    // Everyone reads the policies and the rule settings, and acknowledges the policy in
    // force for themselves; only admins draft, approve, import or decide exceptions.
    match (area, reading) {
        ("policies", true) | ("acknowledgements", true) => return Allowed,
        ("settings", true) if path.ends_with("/policy") => return Allowed,
        ("acknowledgements", false) if path == "/api/v1/acknowledgements" => return Allowed,
        ("policies" | "acknowledgements" | "settings", false) => return Forbidden,
        ("exceptions", false) if path.contains("{id}") => return Forbidden,
        _ => {}
    }
    // A secret is revealed to admins and to the asset's owner only (SPEC §2.2); the probe's
    // asset is owned by no caller's person.
    if path == "/api/v1/assets/{id}/reveal" {
        return if role == "member" { Hidden } else { Forbidden };
    }
    match role {
        "manager" => match area {
            "classifications" | "custom_fields" if reading => Allowed,
            "classifications" | "custom_fields" | "users" | "audit" | "settings" => Forbidden,
            _ => Allowed,
        },
        "auditor" => {
            if reading {
                Allowed
            } else {
                Forbidden
            }
        }
        _ => match area {
            "assets" if path.contains("{id}") => Hidden,
            "assets" if reading => Allowed,
            "parties" | "delegations" if path.contains("{id}") && reading => Hidden,
            "delegations" if path.ends_with("/end") => Hidden,
            "parties" | "delegations" if reading => Allowed,
            "delegations" if method == "post" => Allowed,
            // Members review what they own (the probe's empty body is a 422).
            "reviews" => Allowed,
            // They see their own assignments and ask for exceptions for what they own.
            "assignments" | "exceptions" if reading => Allowed,
            "exceptions" => Allowed,
            // They see their own offboarding cases and the campaigns that ask them, and
            // answer for what they own.
            "offboardings" | "attestations" if reading => Allowed,
            "attestations" if path.ends_with("/answers") => Allowed,
            "locations" | "classifications" | "custom_fields" if reading => Allowed,
            // They read the checks and the findings that are theirs to fix; the register's
            // KPIs, trend and frameworks are for those who read all of it.
            "compliance"
                if reading && (path.ends_with("/checks") || path.contains("/findings")) =>
            {
                Allowed
            }
            // Stocktakes are run by managers and read by auditors, not by members.
            "stocktakes" => Forbidden,
            _ => Forbidden,
        },
    }
}

async fn every_route_answers_each_role_as_designed(backend: &str) {
    let s = start(backend).await;
    let owner = person(&s, "Olga Owner").await;
    let other = person(&s, "Otto Other").await;
    let member_person = person(&s, "Mo Member").await;
    let asset_id = asset(&s, "Olga's server", &owner).await;
    let d = s
        .post(
            "/api/v1/delegations",
            json!({"owner_id": owner, "delegate_id": other, "task": "review"}),
        )
        .await;
    let delegation = d.body["id"].as_str().expect("delegation").to_string();
    let loc = s
        .post("/api/v1/locations", json!({"name": "HQ"}))
        .await
        .body["id"]
        .as_str()
        .expect("location")
        .to_string();
    let victim = account(&s.app, "victim@test.example", "member", None).await;
    let victim_token = s
        .app
        .create_token_for(
            &custodian_app::Ctx::system(),
            "victim@test.example",
            custodian_domain::access::Scope::Read,
            5,
        )
        .await
        .expect("token")
        .token
        .id;

    let mut callers: Vec<(String, Option<&str>, bool, Option<String>)> =
        vec![("nobody".into(), None, false, None)];
    for role in ["admin", "manager", "auditor", "member"] {
        let email = format!("{role}@matrix.example");
        let person = (role == "member").then(|| member_person.parse().expect("uuid"));
        account(&s.app, &email, role, person).await;
        let t = token(&s.app, &email, "write").await;
        callers.push((role.into(), Some(role), false, Some(t)));
    }
    account(&s.app, "readonly@matrix.example", "admin", None).await;
    let ro = token(&s.app, "readonly@matrix.example", "read").await;
    callers.push((
        "read-only admin token".into(),
        Some("admin"),
        true,
        Some(ro),
    ));

    let doc = s.get("/api/v1/openapi.json").await.body;
    let mut checked = 0;
    let mut operations = 0;
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        let area = path
            .trim_start_matches("/api/v1/")
            .split('/')
            .next()
            .unwrap_or("");
        let id = match area {
            "assets" => asset_id.clone(),
            "parties" => owner.clone(),
            "delegations" => delegation.clone(),
            "locations" => loc.clone(),
            "users" => victim.id.to_string(),
            "tokens" => victim_token.to_string(),
            _ => uuid::Uuid::now_v7().to_string(),
        };
        let concrete = path
            .replace("{id}", &id)
            .replace("{relation_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{key}", "no_such_level")
            .replace("{token}", "not-a-setup-token");
        for (method, op) in ops.as_object().expect("ops") {
            // The document says which operations act for nobody.
            let public = op.get("security") == Some(&json!([]));
            operations += 1;
            let body = match (method.as_str(), path.as_str()) {
                ("post", "/api/v1/assets/bulk") => Some(json!({"items": []})),
                ("post", "/api/v1/session/password") => Some(
                    json!({"current_password": "not it at all", "new_password": "not it either!"}),
                ),
                ("post" | "patch", _) => Some(json!({})),
                _ => None,
            };
            for (name, role, read_only, secret) in &callers {
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let auth = secret.as_deref().map(bearer);
                let headers: Vec<(&str, &str)> = auth
                    .as_deref()
                    .map(|a| vec![("authorization", a)])
                    .unwrap_or_default();
                let a = s.call_bare(m, &concrete, body.clone(), &headers).await;
                let status = a.status.as_u16();
                let w = want(*role, *read_only, public, method, path);
                let ok = match w {
                    Want::Allowed => status != 401 && status != 403 && status < 500,
                    Want::Forbidden => status == 403,
                    Want::Unauthenticated => status == 401,
                    Want::Hidden => status == 404,
                };
                assert!(
                    ok,
                    "{name}: {method} {path} answered {status}, expected {w:?}: {}",
                    a.body
                );
                checked += 1;
                // Authorisation comes before validation: a refused caller's bad body is
                // refused for who they are, never answered with what is wrong with it.
                if w != Want::Allowed && body.is_some() {
                    let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                    let bad = json!({"no_such_field": true, "items": "not a list", "reason": 7});
                    let b = s.call_bare(m, &concrete, Some(bad), &headers).await;
                    assert_eq!(
                        b.status, a.status,
                        "{name}: {method} {path} with a bad body answered {}, not {status}: {}",
                        b.status, b.body
                    );
                }
            }
        }
    }
    assert!(operations > 90, "only {operations} operations documented");
    assert_eq!(checked, operations * callers.len());
}

async fn secrets_are_sealed_and_revealed_on_request(backend: &str) {
    let s = start(backend).await;
    let owner = person(&s, "Sam Owner").await;
    let a = s
        .post(
            "/api/v1/assets",
            json!({"kind": "software", "name": "CAD suite", "owner_id": owner, "importance": "medium",
                   "classification": "internal", "licence_key": "LK-SECRET-4711"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert!(!a.body.to_string().contains("LK-SECRET-4711"));
    let id = a.body["id"].as_str().expect("id").to_string();
    // At rest the key is sealed: the database never holds it in clear.
    let leaked = s
        .app
        .store()
        .find_assets(custodian_store::MatchKey::Id, std::slice::from_ref(&id))
        .await
        .expect("read");
    let stored = leaked[0].attrs["licence_key"]
        .as_str()
        .expect("stored")
        .to_string();
    assert!(
        stored.starts_with("v1:") && !stored.contains("LK-SECRET"),
        "{stored}"
    );

    let revealed = s
        .post(
            &format!("/api/v1/assets/{id}/reveal"),
            json!({"field": "licence_key"}),
        )
        .await;
    assert_eq!(revealed.status, 200, "{}", revealed.body);
    assert_eq!(revealed.body["value"], "LK-SECRET-4711");
    s.post(
        &format!("/api/v1/assets/{id}/reveal"),
        json!({"field": "name"}),
    )
    .await
    .problem(422);

    // Admins and the owner see it (SPEC §2.2); an auditor or a manager who does not own
    // the asset does not, and a member who owns it does.
    account(&s.app, "aud@test.example", "auditor", None).await;
    account(&s.app, "man@test.example", "manager", None).await;
    account(
        &s.app,
        "sam@test.example",
        "member",
        Some(owner.parse().expect("uuid")),
    )
    .await;
    for (email, status) in [
        ("aud@test.example", 403),
        ("man@test.example", 403),
        ("sam@test.example", 200),
    ] {
        let t = token(&s.app, email, "write").await;
        let r = s
            .call_bare(
                Method::POST,
                &format!("/api/v1/assets/{id}/reveal"),
                Some(json!({"field": "licence_key"})),
                &[("authorization", &bearer(&t))],
            )
            .await;
        assert_eq!(r.status, status, "{email}: {}", r.body);
    }

    // Replacing the key is recorded as replaced, never with a value.
    let p = s
        .call(
            Method::PATCH,
            &format!("/api/v1/assets/{id}"),
            Some(json!({"licence_key": "LK-NEW-0815"})),
            &[],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let same = s
        .call(
            Method::PATCH,
            &format!("/api/v1/assets/{id}"),
            Some(json!({"licence_key": "LK-NEW-0815"})),
            &[],
        )
        .await;
    assert_eq!(
        same.body["version"], p.body["version"],
        "the same key is no change"
    );
    let h = s.get(&format!("/api/v1/assets/{id}/history")).await.body;
    let text = h.to_string();
    assert!(
        !text.contains("LK-SECRET") && !text.contains("LK-NEW"),
        "{text}"
    );
    assert!(text.contains("(secret, replaced)"), "{text}");
    let events = s.get("/api/v1/audit?limit=500").await.body.to_string();
    assert!(events.contains("asset.secret_revealed"));
    assert!(!events.contains("LK-SECRET") && !events.contains("LK-NEW"));
}

async fn a_second_factor_guards_sign_in(backend: &str) {
    use custodian_domain::totp;
    let s = start(backend).await;
    account(&s.app, "ada@test.example", "admin", None).await;
    let a = sign_in(&s, "ada@test.example", PASSWORD, None).await;
    let (cookie, csrf) = (
        session_cookie(&a),
        a.body["csrf_token"].as_str().expect("csrf").to_string(),
    );
    let h = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let e = s
        .call_bare(Method::POST, "/api/v1/session/totp", None, &h)
        .await;
    assert_eq!(e.status, 201, "{}", e.body);
    let uri = e.body["otpauth_uri"].as_str().expect("uri");
    assert!(
        uri.starts_with("otpauth://totp/Custodian:ada%40test.example?secret="),
        "{uri}"
    );
    let secret = totp::base32_decode(e.body["secret"].as_str().expect("secret")).expect("base32");
    let now = chrono::Utc::now().timestamp();
    let wrong = format!(
        "{:06}",
        (totp::code_at(&secret, now).parse::<u32>().unwrap_or(0) + 1) % 1_000_000
    );
    s.call_bare(
        Method::POST,
        "/api/v1/session/totp/confirm",
        Some(json!({"code": wrong})),
        &h,
    )
    .await
    .problem(422);
    let ok = s
        .call_bare(
            Method::POST,
            "/api/v1/session/totp/confirm",
            Some(json!({"code": totp::code_at(&secret, now)})),
            &h,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["totp_enabled"], true);
    // The stored secret is sealed.
    let stored = s
        .app
        .store()
        .user_by_email("ada@test.example")
        .await
        .expect("read")
        .expect("user");
    assert!(stored
        .totp_secret
        .as_deref()
        .is_some_and(|t| t.starts_with("v1:")));

    // Now the password alone is not enough; a used or wrong code is refused.
    let a = sign_in(&s, "ada@test.example", PASSWORD, None).await;
    a.problem(401);
    assert!(a.body["detail"]
        .as_str()
        .unwrap_or("")
        .contains("6-digit code"));
    let with = |code: String| {
        let s = &s;
        async move {
            s.call_bare(
                Method::POST,
                "/api/v1/session",
                Some(json!({"email": "ada@test.example", "password": PASSWORD, "totp": code})),
                &[],
            )
            .await
        }
    };
    with(totp::code_at(&secret, now)).await.problem(401);
    let signed = with(totp::code_at(&secret, now + 30)).await;
    assert_eq!(signed.status, 201, "{}", signed.body);

    // Admins may be required to have one: until they enrol, nothing else is open to them.
    let set = s
        .call(
            Method::PATCH,
            "/api/v1/settings/security",
            Some(json!({"require_totp_for_admins": true})),
            &[],
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    account(&s.app, "bo@test.example", "admin", None).await;
    let bo = token(&s.app, "bo@test.example", "write").await;
    let auth = bearer(&bo);
    let a = s
        .call_bare(
            Method::GET,
            "/api/v1/assets",
            None,
            &[("authorization", &auth)],
        )
        .await;
    a.problem(403);
    assert_eq!(a.body["type"], "/problems/totp-enrolment-required");
    assert_eq!(
        s.call_bare(
            Method::GET,
            "/api/v1/session",
            None,
            &[("authorization", &auth)]
        )
        .await
        .status,
        200
    );
    // Ada has hers, so she works as before; the test's own admin token is refused now too.
    s.get("/api/v1/assets").await.problem(403);

    // Ada, who has a second factor, lifts the requirement; the others work again.
    let ada_token = token(&s.app, "ada@test.example", "write").await;
    let ada = [("authorization", bearer(&ada_token))];
    let ada: Vec<(&str, &str)> = ada.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let off = s
        .call_bare(
            Method::PATCH,
            "/api/v1/settings/security",
            Some(json!({"require_totp_for_admins": false})),
            &ada,
        )
        .await;
    assert_eq!(off.body["require_totp_for_admins"], false, "{}", off.body);
    assert_eq!(s.get("/api/v1/assets").await.status, 200);

    // An admin resets a lost second factor: ada signs in with her password alone again.
    let r = s
        .call(
            Method::DELETE,
            &format!("/api/v1/users/{}/totp", stored.id),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totp_enabled"], false);
    assert_eq!(
        sign_in(&s, "ada@test.example", PASSWORD, None).await.status,
        201
    );
}

on_both!(
    a_second_factor_guards_sign_in,
    secrets_are_sealed_and_revealed_on_request,
    nobody_gets_in_without_credentials,
    sessions_sign_in_renew_and_end,
    repeated_failures_lock_the_account,
    tokens_are_scoped_expiring_and_revocable,
    members_see_and_edit_only_their_own,
    every_route_answers_each_role_as_designed,
);

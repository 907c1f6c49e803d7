//! Signing in and out, one's own account (password, second factor), users and tokens.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Map};

use custodian_app::AppError;
use custodian_domain::access::Role;
use custodian_domain::account::SESSION_ABSOLUTE;

use super::{
    csrf, error_page, field, html_response, ok, page, see_other, when, Control, Errors, Form, Nav,
    PageId, Viewer,
};
use crate::api::accounts::session_cookie;
use crate::auth::{cookie, limit, Anyone, SESSION_COOKIE};
use crate::extract::Params;
use crate::AppState;

/// Where to go after signing in: a path of this site, else home.
fn return_to(q: Option<&str>) -> String {
    match q {
        Some(p) if custodian_oidc::local_path(p) => p.to_string(),
        _ => "/".to_string(),
    }
}

fn sign_in_form(
    s: &AppState,
    values: &HashMap<String, String>,
    errors: &Errors,
    want_totp: bool,
) -> Markup {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let to = return_to(values.get("return_to").map(String::as_str));
    html! {
        h1 { "Sign in to Custodian" }
        (errors.summary())
        form.stack method="post" action="/sign-in" novalidate id="sign-in" {
            input type="hidden" name="return_to" value=(to);
            (field("email", "E-mail address", None, Control::Auto("email", "username"), &get("email"), true, errors))
            (field("password", "Password", None, Control::Auto("password", "current-password"), "", true, errors))
            @if want_totp || !get("totp").is_empty() {
                (field("totp", "Code from your authenticator app", Some("Six digits."), Control::Auto("text", "one-time-code"), "", true, errors))
            }
            div.actions { button type="submit" { "Sign in" } }
        }
        @if s.sso.is_some() {
            p { a.button.secondary href={ "/api/v1/session/oidc?return_to=" (super::encode(&to)) } { "Sign in with your organisation's account" } }
        }
    }
}

/// `GET /sign-in`.
pub async fn sign_in_page(State(s): State<AppState>, Params(q): Params) -> Response {
    let mut values = HashMap::new();
    values.insert(
        "return_to".to_string(),
        return_to(q.get("return_to").map(String::as_str)),
    );
    let said = match q.get("done").map(String::as_str) {
        Some("password") => Some(super::Done::Password.message()),
        Some("set") => Some("Your password is set. Sign in with it."),
        _ => None,
    };
    ok(page(
        None,
        "Sign in",
        Nav::None,
        html! {
            @if let Some(m) = said { p.notice id="done" role="status" { (m) } }
            (sign_in_form(&s, &values, &Errors::none(), false))
        },
    ))
}

/// `POST /sign-in`: sets the session cookie and goes where the person was going.
pub async fn sign_in(
    State(s): State<AppState>,
    Anyone(ctx): Anyone,
    headers: axum::http::HeaderMap,
    form: Form,
) -> Response {
    if let Some(r) = limit(&s, &ctx, "sign-in") {
        return r;
    }
    let values = form.values();
    let refused = |status: StatusCode, errors: Errors, want_totp: bool| {
        html_response(
            status,
            page(
                None,
                "Sign in",
                Nav::None,
                sign_in_form(&s, &values, &errors, want_totp),
            ),
        )
    };
    let (Some(email), Some(password)) = (
        form.get("email"),
        form.0
            .iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.as_str())
            .filter(|p| !p.is_empty()),
    ) else {
        let mut e = Vec::new();
        if form.get("email").is_none() {
            e.push(custodian_domain::FieldError::new("email", "is required"));
        }
        e.push(custodian_domain::FieldError::new("password", "is required"));
        return refused(StatusCode::UNPROCESSABLE_ENTITY, Errors(e), false);
    };
    let previous = cookie(&headers, SESSION_COOKIE);
    match s
        .app
        .sign_in(&ctx, email, password, form.get("totp"), previous.as_deref())
        .await
    {
        Ok(si) => {
            let mut r = see_other(&return_to(form.get("return_to")));
            r.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&s, &si.cookie, SESSION_ABSOLUTE.num_seconds()),
            );
            r
        }
        Err(AppError::Unauthorized(m)) => {
            let want_totp = m == custodian_app::accounts::TOTP_REQUIRED;
            refused(
                StatusCode::UNAUTHORIZED,
                Errors(vec![custodian_domain::FieldError::new("", m)]),
                want_totp,
            )
        }
        Err(e @ AppError::TooManyRequests { .. }) => {
            refused(StatusCode::TOO_MANY_REQUESTS, Errors::from_app(&e), false)
        }
        Err(e) => error_page(None, e),
    }
}

/// `POST /sign-out`.
pub async fn sign_out(
    State(s): State<AppState>,
    v: Viewer,
    headers: axum::http::HeaderMap,
) -> Response {
    if let Some(c) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = s.app.sign_out(&v.ctx, &c).await {
            return error_page(Some(&v), e);
        }
    }
    let mut r = see_other("/sign-in");
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&s, "", 0));
    r
}

fn account_body(
    v: &Viewer,
    errors: &Errors,
    enrolment: Option<(String, String)>,
    notice: Option<&str>,
) -> Markup {
    html! {
        h1 { "Your account" }
        @if let Some(n) = notice { div.notice role="status" { (n) } }
        @if v.principal.must_enrol_totp {
            div.warning role="alert" { p { strong { "Admins must have a second factor." } " Enrol one below before doing anything else." } }
        }
        dl.record {
            dt { "E-mail" } dd { (v.user.email) }
            dt { "Role" } dd { (v.principal.role) }
            dt { "Second factor" } dd { @if v.user.totp_secret.is_some() { "on" } @else { "off" } }
            dt { "Single sign-on" } dd { @if v.user.oidc_subject.is_some() { "linked" } @else { "not linked" } }
        }
        (errors.summary())
        @if v.user.password_hash.is_some() {
            h2 { "Change your password" }
            form.stack method="post" action="/account/password" novalidate {
                (csrf(v))
                (field("current_password", "Current password", None, Control::Auto("password", "current-password"), "", true, errors))
                (field("new_password", "New password", Some("At least 12 characters. Every session ends; sign in again afterwards."), Control::Auto("password", "new-password"), "", true, errors))
                button type="submit" { "Change password" }
            }
        }
        @if v.user.totp_secret.is_none() {
            h2 { "Second factor" }
            @match enrolment {
                Some((secret, uri)) => {
                    p { "Add this key to your authenticator app (or open the link on your phone), then type the code it shows." }
                    p.token-once { span.mono id="totp-secret" { (secret) } }
                    p { a href=(uri) { "Open in an authenticator app" } }
                    form.stack method="post" action="/account/totp/confirm" novalidate {
                        (csrf(v))
                        // Only to show the key again if the code is refused; the key that
                        // counts is the one kept on the server.
                        input type="hidden" name="secret" value=(secret);
                        input type="hidden" name="uri" value=(uri);
                        (field("code", "Code", Some("Six digits."), Control::Auto("text", "one-time-code"), "", true, errors))
                        button type="submit" { "Turn on" }
                    }
                }
                None => {
                    form method="post" action="/account/totp" {
                        (csrf(v))
                        button type="submit" { "Set up an authenticator app" }
                    }
                }
            }
        }
    }
}

/// `GET /account`.
pub async fn account_page(v: Viewer) -> Response {
    ok(page(
        Some(&v),
        "Your account",
        Nav::Account,
        account_body(&v, &Errors::none(), None, None),
    ))
}

/// `POST /account/password`.
pub async fn change_password(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let raw = |k: &str| {
        form.0
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, x)| x.clone())
            .unwrap_or_default()
    };
    match s
        .app
        .change_password(&v.ctx, &raw("current_password"), &raw("new_password"))
        .await
    {
        Ok(()) => {
            let mut r = see_other("/sign-in?done=password");
            r.headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&s, "", 0));
            r
        }
        Err(e @ (AppError::Invalid(_) | AppError::Unauthorized(_) | AppError::Conflict { .. })) => {
            html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(
                    Some(&v),
                    "Your account",
                    Nav::Account,
                    account_body(&v, &Errors::from_app(&e), None, None),
                ),
            )
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /account/totp`: starts enrolling.
pub async fn enrol_totp(State(s): State<AppState>, v: Viewer) -> Response {
    match s.app.enrol_totp(&v.ctx).await {
        Ok(en) => ok(page(
            Some(&v),
            "Your account",
            Nav::Account,
            account_body(&v, &Errors::none(), Some((en.secret, en.uri)), None),
        )),
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /account/totp/confirm`.
pub async fn confirm_totp(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    match s.app.confirm_totp(&v.ctx, form.get("code")).await {
        Ok(_) => super::done("/account", super::Done::Saved),
        Err(e @ AppError::Invalid(_)) => {
            let pending = match (form.get("secret"), form.get("uri")) {
                (Some(s), Some(u)) if u.starts_with("otpauth://") => {
                    Some((s.to_string(), u.to_string()))
                }
                _ => None,
            };
            let note = if pending.is_some() {
                None
            } else {
                Some("The code was not accepted: start again.")
            };
            html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(
                    Some(&v),
                    "Error: your account",
                    Nav::Account,
                    account_body(&v, &Errors::from_app(&e), pending, note),
                ),
            )
        }
        Err(e) => error_page(Some(&v), e),
    }
}

async fn users_body(
    s: &AppState,
    v: &Viewer,
    values: &HashMap<String, String>,
    errors: &Errors,
    created: Option<(String, String)>,
) -> Result<Markup, AppError> {
    let users = s.app.list_users(&v.ctx, 500, None).await?.items;
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let roles: Vec<(String, String)> = Role::NAMES
        .iter()
        .map(|r| (r.to_string(), r.to_string()))
        .collect();
    let directory = s.app.party_choices(&v.ctx).await?;
    let person_name: HashMap<uuid::Uuid, String> =
        directory.iter().map(|p| (p.id, p.name.clone())).collect();
    let persons = super::admin::person_choices(&directory);
    Ok(html! {
        h1 { "Users" }
        @if let Some((email, link)) = created {
            div.notice role="status" id="setup-link" {
                p { "The account " strong { (email) } " was created. Hand its owner this one-time link (valid 24 hours) to set a password:" }
                p.token-once.mono { (link) }
            }
        }
        div.table-wrap { table.responsive id="users" {
            thead { tr { th scope="col" { "E-mail" } th scope="col" { "Person" } th scope="col" { "Role" } th scope="col" { "Second factor" } th scope="col" { "Sign-on" } th scope="col" { "State" } } }
            tbody { @for u in &users { tr {
                td data-label="E-mail" { @if v.admin() { a href={ "/users/" (u.id) } { (u.email) } } @else { (u.email) } }
                td data-label="Person" { @match u.person_id { Some(p) => { a href={ "/people/" (p) } { (person_name.get(&p).cloned().unwrap_or_else(|| p.to_string())) } }, None => { span.muted { "none: owns and holds nothing" } } } }
                td data-label="Role" { (u.role) }
                td data-label="Second factor" { @if u.totp_secret.is_some() { "on" } @else { "off" } }
                td data-label="Sign-on" { @if u.oidc_subject.is_some() { "single sign-on" } @else if u.password_hash.is_some() { "password" } @else { "not set up" } }
                td data-label="State" { @if u.disabled { "disabled" } @else if u.locked_until.is_some() { "locked" } @else { "active" } }
            } } }
        } }
        @if v.admin() {
            h2 { "Create an account" }
            (errors.summary())
            form.stack method="post" action="/users" novalidate {
                (csrf(v))
                (field("email", "E-mail address", None, Control::Input("email"), &get("email"), true, errors))
                (field("role", "Role", None, Control::Select(roles, true), &get("role"), true, errors))
                (field("person_id", "Person", Some("Whose account this is: what they own, hold and must do follows from it."), Control::Select(persons, true), &get("person_id"), false, errors))
                button type="submit" { "Create" }
            }
        }
    })
}

/// `GET /users`.
pub async fn users(State(s): State<AppState>, v: Viewer) -> Response {
    match users_body(&s, &v, &HashMap::new(), &Errors::none(), None).await {
        Ok(m) => ok(page(Some(&v), "Users", Nav::Users, m)),
        Err(e) => error_page(Some(&v), e),
    }
}

/// The page through which a new account's owner sets a password: at the address the
/// server is reached by (`public_url`, or the request's host while that is the loopback
/// default, as label QR codes do).
pub fn setup_link(s: &AppState, headers: &axum::http::HeaderMap, setup: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    format!(
        "{}/setup/{setup}",
        super::labels::base_url(&s.app.settings().public_url, host)
    )
}

/// `GET /setup/{token}`: the one-time page on which a new account's owner sets a password.
pub async fn setup_page(
    State(s): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    setup_form(&s, &token, &Errors::none(), StatusCode::OK).await
}

async fn setup_form(s: &AppState, token: &str, errors: &Errors, status: StatusCode) -> Response {
    let email = match s.app.setup_link_email(token).await {
        Ok(e) => e,
        Err(AppError::Invalid(_)) => {
            let body = html! {
                h1 { "This link does not work" }
                p.error-detail id="setup-gone" { "This setup link is unknown, was used already or has expired (links last 24 hours). Ask an admin for a new one." }
                p { a href="/sign-in" { "Sign in" } }
            };
            return html_response(
                StatusCode::NOT_FOUND,
                page(None, "Set your password", Nav::None, body),
            );
        }
        Err(e) => return error_page(None, e),
    };
    let body = html! {
        h1 { "Set your password" }
        p { "For the account " strong { (email) } ". At least 12 characters; a few words strung together are easy to remember and hard to guess." }
        (errors.summary())
        form.stack method="post" action={ "/setup/" (token) } novalidate id="setup" {
            input type="hidden" name="email" value=(email) autocomplete="username";
            (field("password", "New password", None, Control::Auto("password", "new-password"), "", true, errors))
            (field("confirm", "The same password again", None, Control::Auto("password", "new-password"), "", true, errors))
            div.actions { button type="submit" { "Set my password" } }
        }
    };
    html_response(status, page(None, "Set your password", Nav::None, body))
}

/// `POST /setup/{token}`: sets the password, then the owner signs in with it.
pub async fn complete_setup(
    State(s): State<AppState>,
    Anyone(ctx): Anyone,
    axum::extract::Path(token): axum::extract::Path<String>,
    form: Form,
) -> Response {
    if let Some(r) = limit(&s, &ctx, "setup") {
        return r;
    }
    let password = form
        .0
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let confirm = form
        .0
        .iter()
        .find(|(k, _)| k == "confirm")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if password != confirm {
        let e = AppError::invalid("confirm", "is not the same password");
        return setup_form(
            &s,
            &token,
            &Errors::from_app(&e),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match s.app.complete_setup(&ctx, &token, password).await {
        Ok(_) => see_other("/sign-in?done=set"),
        Err(e @ AppError::Invalid(_)) => {
            setup_form(
                &s,
                &token,
                &Errors::from_app(&e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(None, e),
    }
}

/// `POST /users`: creates an account and shows its one-time setup link.
pub async fn create_user(
    State(s): State<AppState>,
    v: Viewer,
    headers: axum::http::HeaderMap,
    form: Form,
) -> Response {
    let mut input = Map::new();
    for k in ["email", "role", "person_id"] {
        if let Some(val) = form.get(k) {
            input.insert(k.into(), json!(val));
        }
    }
    match s.app.create_user(&v.ctx, input).await {
        Ok((u, setup)) => {
            let link = setup_link(&s, &headers, &setup);
            match users_body(
                &s,
                &v,
                &HashMap::new(),
                &Errors::none(),
                Some((u.email, link)),
            )
            .await
            {
                Ok(m) => html_response(StatusCode::CREATED, page(Some(&v), "Users", Nav::Users, m)),
                Err(e) => error_page(Some(&v), e),
            }
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            match users_body(&s, &v, &form.values(), &Errors::from_app(&e), None).await {
                Ok(m) => html_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page(Some(&v), "Users", Nav::Users, m),
                ),
                Err(e) => error_page(Some(&v), e),
            }
        }
        Err(e) => error_page(Some(&v), e),
    }
}

async fn tokens_body(
    s: &AppState,
    v: &Viewer,
    values: &HashMap<String, String>,
    errors: &Errors,
    issued: Option<String>,
) -> Result<Markup, AppError> {
    let tokens = s.app.list_tokens(&v.ctx, Some(v.user.id)).await?;
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let scopes = vec![
        ("read".to_string(), "read: look, never change".to_string()),
        (
            "write".to_string(),
            "write: whatever your role allows".to_string(),
        ),
    ];
    Ok(html! {
        h1 { "Your API tokens" }
        @if let Some(t) = issued {
            div.notice role="status" id="new-token" {
                p { strong { "Copy the token now:" } " it is shown this once. Send it as " span.mono { "Authorization: Bearer …" } }
                p.token-once.mono { (t) }
            }
        }
        @if tokens.is_empty() { p.muted { "No tokens." } } @else {
            div.table-wrap { table.responsive id="tokens" {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Scope" } th scope="col" { "Expires" } th scope="col" { "Last used" } th scope="col" { "State" } } }
                tbody { @for t in &tokens { tr {
                    td data-label="Name" { (t.name) }
                    td data-label="Scope" { (t.scope) }
                    td data-label="Expires" { (when(&t.expires_at)) }
                    td data-label="Last used" { @if let Some(u) = &t.last_used_at { (when(u)) } @else { "never" } }
                    td data-label="State" {
                        @if let Some(r) = &t.revoked_at { "revoked " (when(r)) } @else {
                            form method="post" action={ "/tokens/" (t.id) "/revoke" } data-confirm="Revoke this token? Scripts using it stop working." {
                                (csrf(v))
                                button.secondary type="submit" { "Revoke" }
                            }
                        }
                    }
                } } }
            } }
        }
        h2 { "New token" }
        (errors.summary())
        form.stack method="post" action="/tokens" novalidate {
            (csrf(v))
            (field("name", "What it is for", None, Control::Input("text"), &get("name"), true, errors))
            (field("scope", "Scope", None, Control::Select(scopes, false), &get("scope"), true, errors))
            (field("expires_in_days", "Days until it expires", Some("1 to 366; 90 when left empty."), Control::Input("number"), &get("expires_in_days"), false, errors))
            button type="submit" { "Create token" }
        }
    })
}

/// `GET /tokens`.
pub async fn tokens(State(s): State<AppState>, v: Viewer) -> Response {
    match tokens_body(&s, &v, &HashMap::new(), &Errors::none(), None).await {
        Ok(m) => ok(page(Some(&v), "Tokens", Nav::Tokens, m)),
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /tokens`: issues a token and shows it once.
pub async fn create_token(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    if let Some(r) = limit(&s, &v.ctx, "tokens") {
        return r;
    }
    let mut input = Map::new();
    for k in ["name", "scope"] {
        if let Some(val) = form.get(k) {
            input.insert(k.into(), json!(val));
        }
    }
    if let Some(d) = form.get("expires_in_days") {
        input.insert(
            "expires_in_days".into(),
            d.parse::<i64>().map(|n| json!(n)).unwrap_or(json!(d)),
        );
    }
    match s.app.create_token(&v.ctx, input).await {
        Ok(t) => {
            match tokens_body(&s, &v, &HashMap::new(), &Errors::none(), Some(t.secret)).await {
                Ok(m) => html_response(
                    StatusCode::CREATED,
                    page(Some(&v), "Tokens", Nav::Tokens, m),
                ),
                Err(e) => error_page(Some(&v), e),
            }
        }
        Err(e @ AppError::Invalid(_)) => {
            match tokens_body(&s, &v, &form.values(), &Errors::from_app(&e), None).await {
                Ok(m) => html_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    page(Some(&v), "Tokens", Nav::Tokens, m),
                ),
                Err(e) => error_page(Some(&v), e),
            }
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /tokens/{id}/revoke`.
pub async fn revoke_token(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    match s.app.revoke_token(&v.ctx, id).await {
        Ok(_) => super::done("/tokens", super::Done::Revoked),
        Err(e) => error_page(Some(&v), e),
    }
}

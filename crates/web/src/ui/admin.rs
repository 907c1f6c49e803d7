//! Admin pages: an account's role and state, the classification scheme's levels, and
//! custom field definitions.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_app::AppError;
use custodian_domain::access::Role;
use custodian_domain::asset::AssetKind;
use custodian_domain::classification::{Classification, DisposalRequirement, Handling};
use custodian_domain::custom::{CustomType, EntityType};

use super::{
    csrf, error_page, field, html_response, ok, page, see_other, words, Control, Errors, Form, Nav,
    PageId, Viewer,
};
use crate::AppState;

/// How a form field becomes JSON.
#[derive(Clone, Copy)]
pub enum Typed {
    /// Text as typed.
    Text,
    /// A whole number (sent as typed when it is not one, so the error names it).
    Int,
    /// `true` / `false`.
    Bool,
    /// Items separated by `;`.
    List,
}

/// The fields of a form as JSON; blank ones are `null` when `clear` (edits), left out
/// otherwise.
pub fn typed(form: &Form, spec: &[(&str, Typed)], clear: bool) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, t) in spec {
        let Some(raw) = form.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()) else {
            continue;
        };
        if raw.is_empty() {
            if clear {
                m.insert((*k).into(), Value::Null);
            }
            continue;
        }
        let v = match t {
            Typed::Text => json!(raw),
            Typed::Int => raw.parse::<i64>().map(|n| json!(n)).unwrap_or(json!(raw)),
            Typed::Bool => json!(raw == "true"),
            Typed::List => json!(raw
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()),
        };
        m.insert((*k).into(), v);
    }
    m
}

fn yes_no() -> Vec<(String, String)> {
    vec![("true".into(), "yes".into()), ("false".into(), "no".into())]
}

fn opts(names: &[&str]) -> Vec<(String, String)> {
    names.iter().map(|n| (n.to_string(), words(n))).collect()
}

fn version_of(form: &Form) -> Option<i64> {
    form.get("version").and_then(|v| v.parse().ok())
}

// ---- users ----

/// The persons an account may be linked to, by name (and e-mail address), as choices.
pub(super) fn person_choices(parties: &[custodian_store::PartyRef]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = parties
        .iter()
        .filter(|p| p.kind == custodian_domain::party::PartyKind::Person)
        .map(|p| {
            let label = match &p.email {
                Some(e) => format!("{} ({e})", p.name),
                None => p.name.clone(),
            };
            (p.id.to_string(), label)
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn user_body(
    v: &Viewer,
    u: &custodian_domain::account::User,
    persons: Vec<(String, String)>,
    errors: &Errors,
    notice: Option<&str>,
) -> Markup {
    let roles: Vec<(String, String)> = Role::NAMES
        .iter()
        .map(|r| (r.to_string(), r.to_string()))
        .collect();
    let person = u.person_id.map(|p| p.to_string()).unwrap_or_default();
    html! {
        h1 { "Account " (u.email) }
        @if let Some(n) = notice { div.notice role="status" { (n) } }
        (errors.summary())
        @if u.person_id.is_none() {
            p.warning id="unlinked" { "This account is linked to no person: it owns nothing, holds nothing and is asked nothing. Choose the person it belongs to." }
        }
        form.stack method="post" action={ "/users/" (u.id) } novalidate id="user-form" {
            (csrf(v))
            input type="hidden" name="version" value=(u.version);
            (field("person_id", "Person", Some("Whose account this is: what they own, hold and must do follows from it."), Control::Select(persons, true), &person, false, errors))
            (field("role", "Role", None, Control::Select(roles, false), u.role.as_str(), true, errors))
            (field("disabled", "Disabled", Some("A disabled account cannot sign in; its sessions end and its tokens are revoked."), Control::Select(yes_no(), false), if u.disabled { "true" } else { "false" }, false, errors))
            button type="submit" { "Save" }
        }
        div.actions {
            form method="post" action={ "/users/" (u.id) "/sessions/end" } {
                (csrf(v))
                button.secondary type="submit" { "End every session" }
            }
            @if u.totp_secret.is_some() {
                form method="post" action={ "/users/" (u.id) "/totp/reset" } data-confirm="Remove this account's second factor? Its owner enrols a new one." {
                    (csrf(v))
                    button.secondary type="submit" { "Remove the second factor" }
                }
            }
        }
        p { a href="/users" { "All users" } }
    }
}

async fn user_page(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    errors: &Errors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let u = match s.app.get_user(&v.ctx, id).await {
        Ok(u) => u,
        Err(e) => return error_page(Some(v), e),
    };
    let persons = match s.app.party_choices(&v.ctx).await {
        Ok(p) => person_choices(&p),
        Err(e) => return error_page(Some(v), e),
    };
    html_response(
        status,
        page(
            Some(v),
            &u.email,
            Nav::Users,
            user_body(v, &u, persons, errors, notice),
        ),
    )
}

/// `GET /users/{id}` (admins).
pub async fn user(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    user_page(&s, &v, id, &Errors::none(), None, StatusCode::OK).await
}

/// `POST /users/{id}`: role and state.
pub async fn update_user(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut patch = typed(
        &form,
        &[("role", Typed::Text), ("disabled", Typed::Bool)],
        false,
    );
    // An empty choice unlinks the account from its person.
    patch.insert(
        "person_id".into(),
        form.get("person_id")
            .map_or(serde_json::Value::Null, |p| serde_json::json!(p)),
    );
    match s
        .app
        .update_user(&v.ctx, id, patch, version_of(&form).into())
        .await
    {
        Ok(_) => super::done(&format!("/users/{id}"), super::Done::Saved),
        Err(
            e @ (AppError::Invalid(_)
            | AppError::Conflict { .. }
            | AppError::PreconditionFailed { .. }),
        ) => {
            user_page(
                &s,
                &v,
                id,
                &Errors::from_app(&e),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /users/{id}/sessions/end`.
pub async fn end_sessions(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    match s.app.end_sessions(&v.ctx, id).await {
        Ok(()) if id == v.user.id => see_other("/sign-in"),
        Ok(()) => {
            user_page(
                &s,
                &v,
                id,
                &Errors::none(),
                Some("Every session of this account has ended."),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /users/{id}/totp/reset`.
pub async fn reset_totp(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    match s.app.reset_totp(&v.ctx, id).await {
        Ok(_) => {
            user_page(
                &s,
                &v,
                id,
                &Errors::none(),
                Some("The second factor was removed."),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => error_page(Some(&v), e),
    }
}

// ---- classification levels ----

const LEVEL_SPEC: &[(&str, Typed)] = &[
    ("key", Typed::Text),
    ("name", Typed::Text),
    ("rank", Typed::Int),
    ("description", Typed::Text),
    ("encryption_required", Typed::Bool),
    ("off_premises", Typed::Text),
    ("external_sharing", Typed::Text),
    ("label_required", Typed::Bool),
    ("disposal_method", Typed::Text),
    ("review_interval_days", Typed::Int),
];

fn level_values(l: &Classification) -> HashMap<String, String> {
    let mut m = HashMap::new();
    m.insert("key".into(), l.key.clone());
    m.insert("name".into(), l.name.clone());
    m.insert("rank".into(), l.rank.to_string());
    m.insert(
        "description".into(),
        l.description.clone().unwrap_or_default(),
    );
    m.insert(
        "encryption_required".into(),
        l.encryption_required.to_string(),
    );
    m.insert("off_premises".into(), l.off_premises.as_str().into());
    m.insert(
        "external_sharing".into(),
        l.external_sharing.as_str().into(),
    );
    m.insert("label_required".into(), l.label_required.to_string());
    m.insert("disposal_method".into(), l.disposal_method.as_str().into());
    m.insert(
        "review_interval_days".into(),
        l.review_interval_days.to_string(),
    );
    m
}

fn level_form(
    v: &Viewer,
    action: &str,
    values: &HashMap<String, String>,
    errors: &Errors,
    version: Option<i64>,
) -> Markup {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    html! {
        (errors.summary())
        form.stack method="post" action=(action) novalidate id="level-form" {
            (csrf(v))
            @if let Some(ver) = version { input type="hidden" name="version" value=(ver); }
            @else { (field("key", "Key", Some("Lower-case letters, digits and _; cannot change later."), Control::Input("text"), &get("key"), true, errors)) }
            (field("name", "Name", None, Control::Input("text"), &get("name"), true, errors))
            (field("rank", "Rank", Some("0 is the least sensitive."), Control::Input("number"), &get("rank"), true, errors))
            (field("description", "Description", None, Control::TextArea, &get("description"), false, errors))
            (field("encryption_required", "Encryption required", None, Control::Select(yes_no(), true), &get("encryption_required"), false, errors))
            (field("off_premises", "Taking it off premises", None, Control::Select(opts(Handling::NAMES), true), &get("off_premises"), false, errors))
            (field("external_sharing", "Sharing it outside", None, Control::Select(opts(Handling::NAMES), true), &get("external_sharing"), false, errors))
            (field("label_required", "Label required", None, Control::Select(yes_no(), true), &get("label_required"), false, errors))
            (field("disposal_method", "Disposal at least", None, Control::Select(opts(DisposalRequirement::NAMES), true), &get("disposal_method"), false, errors))
            (field("review_interval_days", "Review every (days)", None, Control::Input("number"), &get("review_interval_days"), false, errors))
            div.actions { button type="submit" { "Save" } a href="/classifications" { "Cancel" } }
        }
    }
}

/// `GET /classifications/new` (admins).
pub async fn new_level(v: Viewer) -> Response {
    if !v.admin() {
        return v.refuse("add classification levels");
    }
    let body = html! { h1 { "Add a classification level" } (level_form(&v, "/classifications/new", &HashMap::new(), &Errors::none(), None)) };
    ok(page(Some(&v), "Add a level", Nav::Classifications, body))
}

/// `POST /classifications/new`.
pub async fn create_level(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    match s
        .app
        .create_classification(&v.ctx, typed(&form, LEVEL_SPEC, false))
        .await
    {
        Ok(_) => super::done("/classifications", super::Done::Created),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let body = html! { h1 { "Add a classification level" } (level_form(&v, "/classifications/new", &form.values(), &Errors::from_app(&e), None)) };
            html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(Some(&v), "Add a level", Nav::Classifications, body),
            )
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `GET /classifications/{key}/edit` (admins).
pub async fn edit_level(State(s): State<AppState>, v: Viewer, Path(key): Path<String>) -> Response {
    if !v.admin() {
        return v.refuse("change classification levels");
    }
    match s.app.get_classification(&v.ctx, &key).await {
        Ok(l) => {
            let body = html! { h1 { "Edit the " (l.name) " level" } (level_form(&v, &format!("/classifications/{}/edit", l.key), &level_values(&l), &Errors::none(), Some(l.version))) };
            ok(page(Some(&v), "Edit a level", Nav::Classifications, body))
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /classifications/{key}/edit`.
pub async fn update_level(
    State(s): State<AppState>,
    v: Viewer,
    Path(key): Path<String>,
    form: Form,
) -> Response {
    let mut patch = typed(&form, LEVEL_SPEC, true);
    patch.remove("key");
    match s
        .app
        .update_classification(&v.ctx, &key, patch, version_of(&form).into())
        .await
    {
        Ok(_) => super::done("/classifications", super::Done::Saved),
        Err(
            e @ (AppError::Invalid(_)
            | AppError::Conflict { .. }
            | AppError::PreconditionFailed { .. }),
        ) => {
            let body = html! { h1 { "Edit a level" } (level_form(&v, &format!("/classifications/{key}/edit"), &form.values(), &Errors::from_app(&e), version_of(&form))) };
            html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(Some(&v), "Edit a level", Nav::Classifications, body),
            )
        }
        Err(e) => error_page(Some(&v), e),
    }
}

// ---- custom fields ----

/// The form that defines a custom field (admins), shown on the custom fields page.
pub fn custom_field_form(v: &Viewer, values: &HashMap<String, String>, errors: &Errors) -> Markup {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    html! {
        h2 { "Define a custom field" }
        (errors.summary())
        form.stack method="post" action="/custom-fields" novalidate id="custom-field-form" {
            (csrf(v))
            (field("entity_type", "For", None, Control::Select(opts(EntityType::NAMES), false), &get("entity_type"), true, errors))
            (field("key", "Key", Some("Lower-case letters, digits and _; the column is custom.KEY in CSV."), Control::Input("text"), &get("key"), true, errors))
            (field("label", "Label", None, Control::Input("text"), &get("label"), true, errors))
            (field("field_type", "Type", None, Control::Select(opts(CustomType::NAMES), false), &get("field_type"), true, errors))
            (field("choices", "Choices (for a choice)", Some("Separate them with ;"), Control::Input("text"), &get("choices"), false, errors))
            (field("required", "Required", None, Control::Select(yes_no(), false), if get("required").is_empty() { "false" } else { &values["required"] }, false, errors))
            (field("asset_kinds", "Only for these asset kinds", Some(&format!("Separate them with ; ({}); empty for all.", AssetKind::NAMES.join(", "))), Control::Input("text"), &get("asset_kinds"), false, errors))
            (field("description", "Description", None, Control::TextArea, &get("description"), false, errors))
            button type="submit" { "Define" }
        }
    }
}

/// `POST /custom-fields`.
pub async fn create_custom_field(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let input = typed(
        &form,
        &[
            ("entity_type", Typed::Text),
            ("key", Typed::Text),
            ("label", Typed::Text),
            ("field_type", Typed::Text),
            ("choices", Typed::List),
            ("required", Typed::Bool),
            ("asset_kinds", Typed::List),
            ("description", Typed::Text),
        ],
        false,
    );
    let r = s.app.create_custom_field(&v.ctx, input).await;
    let taken = |_| super::done("/custom-fields", super::Done::Created);
    super::settle(&v, r, taken, async |errors| {
        super::reference::custom_fields_page(
            &s,
            &v,
            &form.values(),
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    })
    .await
}

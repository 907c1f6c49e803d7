//! Reference pages: locations, the classification scheme with its handling rules, custom
//! field definitions, and the audit trail with its verification.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Map};

use custodian_app::AppError;
use custodian_domain::location::LocationKind;

use super::{
    csrf, error_page, field, html_response, ok, page, words, Control, Errors, Form, Nav, Viewer,
};
use crate::AppState;

async fn locations_page(
    s: &AppState,
    v: &Viewer,
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Result<Markup, AppError> {
    let all = s.app.list_locations(&v.ctx, 500, None).await?.items;
    let names: HashMap<_, _> = all.iter().map(|l| (l.id, l.name.clone())).collect();
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let parents: Vec<(String, String)> = all
        .iter()
        .map(|l| (l.id.to_string(), l.name.clone()))
        .collect();
    let kinds: Vec<(String, String)> = LocationKind::NAMES
        .iter()
        .map(|k| (k.to_string(), words(k)))
        .collect();
    Ok(html! {
        h1 { "Locations" }
        div.table-wrap { table.responsive {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Within" } th scope="col" { "On premises" } th scope="col" { "Address" } } }
            tbody { @for l in &all { tr {
                td data-label="Name" { a href={ "/assets?location_id=" (l.id) } { (l.name) } }
                td data-label="Kind" { (l.kind) }
                td data-label="Within" { @if let Some(p) = l.parent_id { (names.get(&p).cloned().unwrap_or_default()) } }
                td data-label="On premises" { @if l.on_premises { "yes" } @else { "no" } }
                td data-label="Address" { @if let Some(a) = &l.address { (a) } }
            } } }
        } }
        @if v.manages() {
            h2 { "Add a location" }
            (errors.summary())
            form.stack method="post" action="/locations" novalidate {
                (csrf(v))
                (field("name", "Name", None, Control::Input("text"), &get("name"), true, errors))
                (field("kind", "Kind", None, Control::Select(kinds, true), &get("kind"), false, errors))
                (field("parent_id", "Within", None, Control::Select(parents, true), &get("parent_id"), false, errors))
                (field("on_premises", "On the organisation's premises", None, Control::Select(vec![("true".into(), "yes".into()), ("false".into(), "no".into())], true), &get("on_premises"), false, errors))
                (field("address", "Address", None, Control::Input("text"), &get("address"), false, errors))
                div.actions { button type="submit" { "Add" } }
            }
        }
    })
}

/// `GET /locations`.
pub async fn locations(State(s): State<AppState>, v: Viewer) -> Response {
    match locations_page(&s, &v, &HashMap::new(), &Errors::none()).await {
        Ok(m) => ok(page(Some(&v), "Locations", Nav::Locations, m)),
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /locations`.
pub async fn create_location(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let mut input = Map::new();
    for k in ["name", "kind", "parent_id", "address"] {
        if let Some(val) = form.get(k) {
            input.insert(k.into(), json!(val));
        }
    }
    if let Some(b) = form.get("on_premises") {
        input.insert("on_premises".into(), json!(b == "true"));
    }
    let r = s.app.create_location(&v.ctx, input).await;
    let taken = |_| super::done("/locations", super::Done::Created);
    super::settle(&v, r, taken, async |errors| {
        match locations_page(&s, &v, &form.values(), &errors).await {
            Ok(m) => html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(Some(&v), "Locations", Nav::Locations, m),
            ),
            Err(e) => error_page(Some(&v), e),
        }
    })
    .await
}

/// `GET /classifications`: the scheme and what each level asks.
pub async fn classifications(State(s): State<AppState>, v: Viewer) -> Response {
    let levels = match s.app.list_classifications(&v.ctx).await {
        Ok(l) => l,
        Err(e) => return error_page(Some(&v), e),
    };
    let body = html! {
        h1 { "Classification scheme" }
        p { "Each level says how information and the assets holding it are handled." }
        @if v.admin() { p.actions { a.button href="/classifications/new" { "Add a level" } } }
        div.table-wrap { table.responsive id="levels" {
            thead { tr {
                th scope="col" { "Level" } th scope="col" { "Encryption" } th scope="col" { "Off premises" }
                th scope="col" { "External sharing" } th scope="col" { "Label" } th scope="col" { "Disposal at least" } th scope="col" { "Review every" }
            } }
            tbody { @for l in &levels { tr {
                td data-label="Level" {
                    strong { (l.name) } " " span.mono.muted { (l.key) }
                    @if let Some(d) = &l.description { br; span.muted { (d) } }
                    @if v.admin() { br; a href={ "/classifications/" (l.key) "/edit" } { "Edit" span.visually-hidden { " " (l.name) } } }
                }
                td data-label="Encryption" { @if l.encryption_required { "required" } @else { "not required" } }
                td data-label="Off premises" { (words(l.off_premises.as_str())) }
                td data-label="External sharing" { (words(l.external_sharing.as_str())) }
                td data-label="Label" { @if l.label_required { "required" } @else { "not required" } }
                td data-label="Disposal at least" { (words(l.disposal_method.as_str())) }
                td data-label="Review every" { (l.review_interval_days) " days" }
            } } }
        } }
    };
    ok(page(Some(&v), "Classification", Nav::Classifications, body))
}

/// `GET /custom-fields`: the register's own fields.
pub async fn custom_fields(State(s): State<AppState>, v: Viewer) -> Response {
    custom_fields_page(&s, &v, &HashMap::new(), &Errors::none(), StatusCode::OK).await
}

/// The custom fields page, with the definition form for admins.
pub async fn custom_fields_page(
    s: &AppState,
    v: &Viewer,
    values: &HashMap<String, String>,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let defs = match s.app.list_custom_fields(&v.ctx).await {
        Ok(d) => d,
        Err(e) => return error_page(Some(v), e),
    };
    let body = html! {
        h1 { "Custom fields" }
        @if defs.is_empty() { p.muted { "None defined yet." } } @else {
            div.table-wrap { table.responsive {
                thead { tr { th scope="col" { "Label" } th scope="col" { "Key" } th scope="col" { "For" } th scope="col" { "Type" } th scope="col" { "Required" } } }
                tbody { @for d in &defs { tr {
                    td data-label="Label" { (d.label) @if let Some(x) = &d.description { br; span.muted { (x) } } }
                    td data-label="Key" { span.mono { (d.key) } }
                    td data-label="For" { (d.entity_type.as_str()) @if !d.asset_kinds.is_empty() { " (" (d.asset_kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")) ")" } }
                    td data-label="Type" { (d.field_type.as_str()) @if !d.choices.is_empty() { ": " (d.choices.join(", ")) } }
                    td data-label="Required" { @if d.required { "yes" } @else { "no" } }
                } } }
            } }
        }
    };
    let body = html! {
        (body)
        @if v.admin() { (super::admin::custom_field_form(v, values, errors)) }
    };
    html_response(
        status,
        page(Some(v), "Custom fields", Nav::CustomFields, body),
    )
}

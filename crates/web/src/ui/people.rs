//! People, teams and roles: the list, a party's page (what they own, where they belong) and
//! registering a new one.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_app::AppError;
use custodian_domain::party::{EmploymentType, PartyKind, PersonStatus};
use custodian_store::{AssetQuery, PartyQuery};

use super::{
    badge, csrf, error_page, field, html_response, ok, page, query_string, words, Control, Errors,
    Form, Nav, PageId, Viewer,
};
use crate::extract::Params;
use crate::AppState;

/// `GET /people`: persons, teams and roles, filtered.
pub async fn list(State(s): State<AppState>, v: Viewer, Params(q): Params) -> Response {
    let kind = q.get("kind").and_then(|k| PartyKind::parse(k));
    let status = q.get("status").and_then(|k| PersonStatus::parse(k));
    let text = q.get("q").cloned().filter(|t| !t.trim().is_empty());
    let cursor = match q.get("cursor").map(|c| custodian_store::Cursor::decode(c)) {
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => {
            return error_page(
                Some(&v),
                AppError::invalid("cursor", "is not a cursor this list gave"),
            )
        }
        None => None,
    };
    let query = PartyQuery {
        limit: 100,
        cursor,
        kind,
        status,
        q: text.clone(),
        within: None,
    };
    let page_ = match s.app.list_parties(&v.ctx, &query).await {
        Ok(p) => p,
        Err(e) => return error_page(Some(&v), e),
    };
    let kind_s = kind.map(|k| k.as_str()).unwrap_or("");
    let status_s = status.map(|k| k.as_str()).unwrap_or("");
    let text_s = text.clone().unwrap_or_default();
    let next = page_.next_cursor.as_ref().map(|c| {
        let enc = c.encode();
        format!(
            "/people{}",
            query_string(&[
                ("kind", kind_s),
                ("status", status_s),
                ("q", &text_s),
                ("cursor", &enc)
            ])
        )
    });
    let body = html! {
        h1 { "People, teams and roles" }
        @if v.manages() { p.actions { a.button href="/people/new" { "Register a person, team or role" } } }
        form.filters method="get" action="/people" role="search" aria-label="Filter people" {
            div { label for="q" { "Name or e-mail" } input type="search" id="q" name="q" value=(text_s); }
            div { label for="kind" { "Kind" } select id="kind" name="kind" {
                option value="" { "Any" }
                @for k in PartyKind::NAMES { option value=(k) selected[*k == kind_s] { (k) } }
            } }
            div { label for="status" { "Status (persons)" } select id="status" name="status" {
                option value="" { "Any" }
                @for k in PersonStatus::NAMES { option value=(k) selected[*k == status_s] { (k) } }
            } }
            div.actions { button type="submit" { "Apply" } }
        }
        div.table-wrap { table.responsive {
            thead { tr { th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "E-mail" } th scope="col" { "Status" } } }
            tbody { @for p in &page_.items { tr {
                td data-label="Name" { a href={ "/people/" (p.id) } { (p.name) } }
                td data-label="Kind" { (p.kind) }
                td data-label="E-mail" { @if let Some(e) = &p.email { (e) } }
                td data-label="Status" { @if let Some(st) = p.status { (badge("status", st.as_str())) } }
            } } }
        } }
        @if let Some(n) = next { nav.pager aria-label="Pages" { a href=(n) rel="next" { "Next page" } } }
    };
    ok(page(Some(&v), "People", Nav::People, body))
}

/// `GET /people/{id}`: a person's (team's, role's) page.
pub async fn show(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    let p = match s.app.get_party(&v.ctx, id).await {
        Ok(p) => p,
        Err(e) => return error_page(Some(&v), e),
    };
    let owned = match s
        .app
        .list_assets(
            &v.ctx,
            &AssetQuery {
                limit: 200,
                owner_id: Some(id),
                ..Default::default()
            },
        )
        .await
    {
        Ok(x) => x,
        Err(e) => return error_page(Some(&v), e),
    };
    let mut related: Vec<Uuid> = p.member_ids.clone();
    related.extend(p.holder_id);
    related.extend(p.manager_id);
    let names = s
        .app
        .party_names(&v.ctx, &related)
        .await
        .unwrap_or_default();
    let name = |i: &Uuid| names.get(i).cloned().unwrap_or_else(|| i.to_string());
    let custody = if p.kind == PartyKind::Person {
        html! {
            (super::workflows::person_custody(&s, &v, p.id).await)
            (super::cases::person_cases(&s, &v, p.id).await)
        }
    } else {
        html! {}
    };
    let body = html! {
        h1 { (p.name) " " span.muted { "(" (p.kind) ")" } }
        @if v.manages() { p.actions { a.button.secondary href={ "/people/" (p.id) "/edit" } { "Edit" } } }
        dl.record {
            @if let Some(e) = &p.email { dt { "E-mail" } dd { (e) } }
            @if let Some(t) = p.employment_type { dt { "Employment" } dd { (t) } }
            @if let Some(st) = p.status { dt { "Status" } dd { (badge("status", st.as_str())) } }
            @if let Some(d) = p.start_date { dt { "First day" } dd { (d) } }
            @if let Some(d) = p.end_date { dt { "Last day" } dd { (d) } }
            @if let Some(m) = p.manager_id { dt { "Manager" } dd { a href={ "/people/" (m) } { (name(&m)) } } }
            @if let Some(h) = p.holder_id { dt { "Held by" } dd { a href={ "/people/" (h) } { (name(&h)) } } }
            @if p.kind == PartyKind::Role && p.holder_id.is_none() { dt { "Held by" } dd { (badge("missing", "vacant")) } }
            @if !p.member_ids.is_empty() { dt { "Members" } dd { @for (i, m) in p.member_ids.iter().enumerate() { @if i > 0 { ", " } a href={ "/people/" (m) } { (name(m)) } } } }
        }
        h2 { "Assets owned (" (owned.items.len()) @if owned.next_cursor.is_some() { "+" } ")" }
        @if owned.items.is_empty() { p.muted { "None." } } @else {
            ul { @for a in &owned.items { li { a href={ "/assets/" (a.asset.id) } { span.mono { (a.asset.asset_number) } " " (a.asset.name) } " " (badge("status", a.asset.status.as_str())) } } }
            p { a href={ "/assets?owner_id=" (p.id) } { "All of them in the asset list" } }
        }
        (custody)
    };
    ok(page(Some(&v), &p.name, Nav::People, body))
}

fn party_form(v: &Viewer, values: &HashMap<String, String>, errors: &Errors) -> Markup {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let opts = |names: &[&str]| {
        names
            .iter()
            .map(|n| (n.to_string(), words(n)))
            .collect::<Vec<_>>()
    };
    html! {
        (errors.summary())
        form.stack method="post" action="/people/new" novalidate {
            (csrf(v))
            (field("kind", "Kind", None, Control::Select(opts(PartyKind::NAMES), false), &get("kind"), true, errors))
            (field("name", "Name", None, Control::Input("text"), &get("name"), true, errors))
            (field("email", "E-mail (persons)", None, Control::Input("email"), &get("email"), false, errors))
            (field("employment_type", "Employment (persons)", None, Control::Select(opts(EmploymentType::NAMES), true), &get("employment_type"), false, errors))
            (field("status", "Status (persons)", None, Control::Select(opts(PersonStatus::NAMES), true), &get("status"), false, errors))
            (field("start_date", "First day (persons)", None, Control::Input("date"), &get("start_date"), false, errors))
            div.actions { button type="submit" { "Register" } a href="/people" { "Cancel" } }
        }
    }
}

/// `GET /people/new`.
pub async fn new_form(v: Viewer) -> Response {
    if !v.manages() {
        return v.refuse("register people, teams or roles");
    }
    let body = html! { h1 { "Register a person, team or role" } (party_form(&v, &HashMap::new(), &Errors::none())) };
    ok(page(Some(&v), "Register", Nav::People, body))
}

/// `POST /people/new`.
pub async fn create(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let mut input = Map::new();
    for k in [
        "kind",
        "name",
        "email",
        "employment_type",
        "status",
        "start_date",
    ] {
        if let Some(val) = form.get(k) {
            input.insert(k.into(), json!(val));
        }
    }
    if input.get("kind") != Some(&Value::String("person".into())) {
        for k in ["email", "employment_type", "status", "start_date"] {
            input.remove(k);
        }
    }
    let r = s.app.create_party(&v.ctx, input).await;
    let taken = |p: custodian_domain::party::Party| {
        super::done(&format!("/people/{}", p.id), super::Done::Created)
    };
    super::settle(&v, r, taken, async |errors| {
        let body = html! { h1 { "Register a person, team or role" } (party_form(&v, &form.values(), &errors)) };
        html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(Some(&v), "Register", Nav::People, body),
        )
    })
    .await
}

async fn edit_page(
    s: &AppState,
    v: &Viewer,
    p: &custodian_domain::party::Party,
    values: &HashMap<String, String>,
    members: &[String],
    errors: &Errors,
) -> Result<Markup, AppError> {
    let choices = s.app.party_choices(&v.ctx).await?;
    let mut persons: Vec<(String, String)> = choices
        .iter()
        .filter(|c| c.kind == PartyKind::Person && c.id != p.id)
        .map(|c| (c.id.to_string(), c.name.clone()))
        .collect();
    persons.sort_by_key(|x| x.1.to_lowercase());
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let opts = |names: &[&str]| {
        names
            .iter()
            .map(|n| (n.to_string(), words(n)))
            .collect::<Vec<_>>()
    };
    Ok(html! {
        h1 { "Edit " (p.name) }
        (errors.summary())
        form.stack method="post" action={ "/people/" (p.id) "/edit" } novalidate id="party-form" {
            (csrf(v))
            input type="hidden" name="version" value=(p.version);
            (field("name", "Name", None, Control::Input("text"), &get("name"), true, errors))
            @match p.kind {
                PartyKind::Person => {
                    (field("email", "E-mail", None, Control::Input("email"), &get("email"), true, errors))
                    (field("employment_type", "Employment", None, Control::Select(opts(EmploymentType::NAMES), true), &get("employment_type"), false, errors))
                    (field("status", "Status", Some("Moving someone to notice or left is what the return of assets starts from."), Control::Select(opts(PersonStatus::NAMES), true), &get("status"), false, errors))
                    (field("start_date", "First day", None, Control::Input("date"), &get("start_date"), false, errors))
                    (field("end_date", "Last day", None, Control::Input("date"), &get("end_date"), false, errors))
                    (field("manager_id", "Manager", None, Control::Select(persons.clone(), true), &get("manager_id"), false, errors))
                }
                PartyKind::Team => {
                    fieldset.field id="f-member_ids" {
                        legend { "Members" }
                        @for (id, name) in &persons {
                            div { label { input type="checkbox" name="member_ids" value=(id) checked[members.contains(id)]; " " (name) } }
                        }
                    }
                }
                PartyKind::Role => {
                    (field("holder_id", "Held by", Some("Empty when the role is vacant."), Control::Select(persons.clone(), true), &get("holder_id"), false, errors))
                }
            }
            div.actions { button type="submit" { "Save" } a href={ "/people/" (p.id) } { "Cancel" } }
        }
    })
}

fn party_values(p: &custodian_domain::party::Party) -> HashMap<String, String> {
    let mut m = HashMap::new();
    m.insert("name".into(), p.name.clone());
    let opt = |x: Option<String>| x.unwrap_or_default();
    m.insert("email".into(), opt(p.email.clone()));
    m.insert(
        "employment_type".into(),
        opt(p.employment_type.map(|e| e.as_str().to_string())),
    );
    m.insert(
        "status".into(),
        opt(p.status.map(|e| e.as_str().to_string())),
    );
    m.insert(
        "start_date".into(),
        opt(p.start_date.map(|d| d.to_string())),
    );
    m.insert("end_date".into(), opt(p.end_date.map(|d| d.to_string())));
    m.insert(
        "manager_id".into(),
        opt(p.manager_id.map(|d| d.to_string())),
    );
    m.insert("holder_id".into(), opt(p.holder_id.map(|d| d.to_string())));
    m
}

/// `GET /people/{id}/edit` (managers and admins).
pub async fn edit_form(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    let p = match s.app.get_party(&v.ctx, id).await {
        Ok(p) => p,
        Err(e) => return error_page(Some(&v), e),
    };
    let members: Vec<String> = p.member_ids.iter().map(Uuid::to_string).collect();
    match edit_page(&s, &v, &p, &party_values(&p), &members, &Errors::none()).await {
        Ok(m) => ok(page(Some(&v), "Edit", Nav::People, m)),
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /people/{id}/edit`.
pub async fn update(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let p = match s.app.get_party(&v.ctx, id).await {
        Ok(p) => p,
        Err(e) => return error_page(Some(&v), e),
    };
    let keys: &[&str] = match p.kind {
        PartyKind::Person => &[
            "name",
            "email",
            "employment_type",
            "status",
            "start_date",
            "end_date",
            "manager_id",
        ],
        PartyKind::Team => &["name"],
        PartyKind::Role => &["name", "holder_id"],
    };
    let mut patch = Map::new();
    for k in keys {
        patch.insert(
            (*k).into(),
            form.get(k).map(|x| json!(x)).unwrap_or(Value::Null),
        );
    }
    let members: Vec<String> = form
        .all("member_ids")
        .into_iter()
        .map(String::from)
        .collect();
    if p.kind == PartyKind::Team {
        patch.insert("member_ids".into(), json!(members));
    }
    let version = form.get("version").and_then(|x| x.parse::<i64>().ok());
    match s.app.update_party(&v.ctx, id, patch, version.into()).await {
        Ok(_) => super::done(&format!("/people/{id}"), super::Done::Saved),
        Err(
            e @ (AppError::Invalid(_)
            | AppError::Conflict { .. }
            | AppError::PreconditionFailed { .. }),
        ) => match edit_page(&s, &v, &p, &form.values(), &members, &Errors::from_app(&e)).await {
            Ok(m) => html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(Some(&v), "Edit", Nav::People, m),
            ),
            Err(e) => error_page(Some(&v), e),
        },
        Err(e) => error_page(Some(&v), e),
    }
}

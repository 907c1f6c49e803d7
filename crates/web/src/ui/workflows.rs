//! Pages of the policy workflows: the acceptable-use policy and its acknowledgement,
//! policy versions, custody on person pages, the off-premises register, and policy
//! exceptions. Custody on an asset's page is `ui/assets/custody.rs`.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, PreEscaped};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_app::AppError;
use custodian_domain::custody::Assignment;
use custodian_domain::exception::{ExceptionRule, ExceptionStatus, PolicyException};
use custodian_domain::lifecycle::Status;
use custodian_domain::party::PartyKind;
use custodian_domain::policy::{PolicyDocument, PolicyStatus, PolicyVersion};
use custodian_store::{AssignmentQuery, ExceptionQuery, PartyRef};

use super::record::{after_change, Drawing, Drawn, RecordPage};
use super::{
    asset_numbers, badge, csrf, error_page, field, html_response, ok, page, when, words, Control,
    Errors, Form, Nav, PageId, Viewer,
};
use crate::AppState;

/// Renders a policy's Markdown safely (see [`custodian_render::markdown_html`]).
pub fn markdown(src: &str) -> Markup {
    PreEscaped(custodian_render::markdown_html(src))
}

pub(in crate::ui) fn persons(parties: &[PartyRef]) -> Vec<(String, String)> {
    parties
        .iter()
        .filter(|p| p.kind == PartyKind::Person)
        .map(|p| (p.id.to_string(), p.name.clone()))
        .collect()
}

// ---- the acceptable-use policy, for the person bound by it ----

/// `GET /acceptable-use`: the policy in force, written for the person reading it, and
/// whether they have acknowledged it.
pub async fn acceptable_use(State(s): State<AppState>, v: Viewer) -> Response {
    let standing = s.app.my_aup_standing(&v.ctx).await;
    let body = match &standing {
        Err(e) => html! {
            h1 { "Acceptable use" }
            p { (e.to_string()) }
        },
        Ok((_, st)) => match &st.current {
            None => html! {
                h1 { "Acceptable use" }
                p { "No acceptable-use policy is approved yet: there is nothing to acknowledge." }
            },
            Some(p) => html! {
                h1 { (p.title) " " span.muted { "version " (p.number) } }
                p.muted { "In force since " (p.effective_date) "." }
                @match &st.acknowledgement {
                    Some(a) => div.notice role="status" id="acknowledged" {
                        "You acknowledged "
                        @if a.policy_id == p.id { "this version" } @else { "an earlier version, which still counts (this change is not material)," }
                        " on " (when(&a.acknowledged_at)) "."
                    },
                    None => div.notice.warning role="status" id="to-acknowledge" {
                        "Please read the policy below and acknowledge it. Assets are issued only to people who have."
                    },
                }
                article.policy { (markdown(&p.body)) }
                @if st.acknowledgement.is_none() {
                    form method="post" action="/acceptable-use" {
                        (csrf(&v))
                        input type="hidden" name="policy_id" value=(p.id);
                        button type="submit" { "I have read this policy and will follow it" }
                    }
                }
            },
        },
    };
    ok(page(Some(&v), "Acceptable use", Nav::None, body))
}

/// `POST /acceptable-use`: the viewer acknowledges the version in force.
pub async fn acknowledge(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let mut body = Map::new();
    if let Some(p) = form.get("policy_id") {
        body.insert("policy_id".into(), json!(p));
    }
    match s.app.acknowledge(&v.ctx, body).await {
        Ok(_) => super::done("/acceptable-use", super::Done::Acknowledged),
        Err(e) => error_page(Some(&v), e),
    }
}

// ---- policy versions ----

fn status_badge(p: &PolicyVersion) -> Markup {
    badge(
        match p.status {
            PolicyStatus::Approved => "complete",
            PolicyStatus::Draft => "level",
            PolicyStatus::Superseded => "status",
        },
        p.status.as_str(),
    )
}

/// `GET /policies`: every version, and how many have acknowledged the one in force.
pub async fn policies(State(s): State<AppState>, v: Viewer) -> Response {
    policies_page(&s, &v, &Errors::none(), StatusCode::OK).await
}

async fn policies_page(s: &AppState, v: &Viewer, errors: &Errors, status: StatusCode) -> Response {
    let all = match s.app.list_policies(&v.ctx, None).await {
        Ok(x) => x,
        Err(e) => return error_page(Some(v), e),
    };
    let rules = match s.app.rule_settings(&v.ctx).await {
        Ok(x) => x,
        Err(e) => return error_page(Some(v), e),
    };
    let summary = if v.reads_all() {
        s.app.acknowledgement_summary(&v.ctx, 50).await.ok()
    } else {
        None
    };
    let body = html! {
        h1 { "Policies" }
        (errors.summary())
        p { a href="/acceptable-use" { "Read and acknowledge the acceptable-use policy" } }
        @if v.admin() {
            p.actions { a.button href="/policies/new" { "Draft a version" } }
            details id="generate" open[errors.any()] {
                summary { "Generate a first draft of the Asset Management Policy" }
                p.muted { "Written from this register's settings: the asset kinds and their minimum records, the classification levels and their handling rules, the roles that own assets, the lifecycle, and how the custody, seat and exception rules are enforced. It is a draft: read it, edit it, and have another admin approve it." }
                form.stack method="post" action="/policies/draft" {
                    (csrf(v))
                    (field("organisation", "The organisation's name", Some("As the policy names it."), Control::Input("text"), "", false, errors))
                    button type="submit" { "Generate the draft" }
                }
            }
        }
        @if let Some(sm) = &summary {
            @if let Some(cur) = &sm.current {
                h2 { "Acknowledgement of the acceptable-use policy " (cur.number) }
                p id="ack-summary" { (sm.acknowledged) " people have acknowledged it; " strong { (sm.outstanding) " have not" } "." }
                @if !sm.missing.is_empty() {
                    details {
                        summary { "Who has not (first " (sm.missing.len()) ")" }
                        ul { @for p in &sm.missing { li { a href={ "/people/" (p.id) } { (p.name) } } } }
                    }
                }
            }
        }
        h2 { "Versions" }
        @if all.is_empty() { p.muted { "No policy is drafted yet." } } @else {
            table {
                thead { tr { th { "Document" } th { "Version" } th { "Status" } th { "Effective" } th { "Material" } th { "Next review" } } }
                tbody {
                    @for p in all.iter().rev() {
                        tr {
                            td { a href={ "/policies/" (p.id) } { (p.title) } }
                            td { (p.number) }
                            td { (status_badge(p)) }
                            td { (p.effective_date) }
                            td { @if p.material { "yes" } @else { "no" } }
                            td { @if let Some(d) = p.next_review_at { (d) } @else { "—" } }
                        }
                    }
                }
            }
        }
        (rule_settings(v, &rules))
    };
    html_response(status, page(Some(v), "Policies", Nav::Policies, body))
}

/// The policy rules that may refuse or only warn, with what each covers.
const RULES: &[(&str, &str)] = &[
    (
        "acceptable_use_enforcement",
        "Issuing an asset to someone who has not acknowledged the acceptable-use policy in force",
    ),
    (
        "licence_overallocation",
        "Assigning more software seats than licences were purchased",
    ),
];

/// How the rules are enforced; admins change it here.
fn rule_settings(v: &Viewer, rules: &custodian_app::rules::RuleSettings) -> Markup {
    let now = |k: &str| {
        rules
            .get(k)
            .map_or("refuse", custodian_app::rules::Enforcement::as_str)
            .to_string()
    };
    let says = |e: &str| {
        if e == "warn" {
            "Warn and record it"
        } else {
            "Refuse, naming the rule"
        }
    };
    html! {
        h2 id="rules" { "How the rules are enforced" }
        @if v.admin() {
            form method="post" action="/policies/rules" id="rule-settings" {
                (csrf(v))
                @for (k, label) in RULES {
                    fieldset.field id={ "f-" (k) } {
                        legend { (label) }
                        @for e in ["refuse", "warn"] {
                            label {
                                input type="radio" name=(k) value=(e) checked[now(k) == e];
                                " " (says(e))
                            }
                        }
                    }
                }
                button type="submit" { "Save the rule settings" }
            }
        } @else {
            dl {
                @for (k, label) in RULES {
                    dt { (label) }
                    dd { (says(&now(k))) }
                }
            }
        }
    }
}

/// `POST /policies/rules`: an admin sets how the rules are enforced.
pub async fn update_rules(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let mut body = Map::new();
    for (k, _) in RULES {
        if let Some(val) = form.get(k) {
            body.insert((*k).into(), json!(val));
        }
    }
    match s.app.update_rule_settings(&v.ctx, &body).await {
        Ok(_) => super::done("/policies#rules", super::Done::Saved),
        Err(e @ AppError::Invalid(_)) => {
            policies_page(
                &s,
                &v,
                &Errors::from_app(&e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// A policy version's page, `GET /policies/{id}`.
pub struct PolicyPage;

impl RecordPage for PolicyPage {
    const PATH: &'static str = "/policies";

    async fn draw(s: &AppState, v: &Viewer, id: Uuid, errors: &Errors) -> Drawing {
        let p = s.app.get_policy(&v.ctx, id).await?;
        let reviews = s.app.policy_reviews(&v.ctx, id).await?;
        let renderings = s.app.kept_renderings(&v.ctx, id).await?;
        let blocks = if v.admin() && p.status == PolicyStatus::Draft {
            s.app.approval_blocks(&p).await.unwrap_or(None)
        } else {
            None
        };
        let mut ids: Vec<Uuid> = p.author_id.into_iter().collect();
        ids.extend(p.approved_by);
        ids.extend(reviews.iter().filter_map(|r| r.reviewed_by));
        let names = s.app.party_names(&v.ctx, &ids).await.unwrap_or_default();
        let name = |i: Uuid| names.get(&i).cloned().unwrap_or_else(|| i.to_string());
        let body = html! {
            h1 { (p.title) " " span.muted { "version " (p.number) } }
            p { (status_badge(&p)) " effective " (p.effective_date) @if p.material { " · a material change" } }
            (errors.summary())
            dl.record {
                @if let Some(a) = p.author_id { dt { "Author" } dd { (name(a)) } }
                @if let Some(c) = &p.change_summary { dt { "What changed" } dd { (c) } }
                @if let (Some(a), Some(t)) = (p.approved_by, &p.approved_at) { dt { "Approved" } dd { (name(a)) ", " (when(t)) } }
                @if let Some(d) = p.next_review_at { dt { "Next review" } dd { (d) } }
                dt { "Document" }
                dd {
                    a href={ "/api/v1/policies/" (p.id) "/document?format=pdf" } { "PDF" } " · "
                    a href={ "/api/v1/policies/" (p.id) "/document?format=html" } { "HTML" }
                    @if !renderings.is_empty() {
                        " · kept at approval: "
                        @for (i, r) in renderings.iter().enumerate() {
                            @if i > 0 { ", " }
                            (r.format.as_str().to_uppercase()) " SHA-256 " code { (r.sha256) }
                        }
                    }
                }
            }
            @if v.admin() && p.status == PolicyStatus::Draft {
                div.actions {
                    a.button.secondary href={ "/policies/" (p.id) "/edit" } { "Edit the draft" }
                }
                @if p.author_id.is_some() && p.author_id == v.principal.person_id {
                    p.notice id="approve" { "You wrote this version, so another admin approves it." }
                } @else {
                    form.stack method="post" action={ "/policies/" (p.id) "/approve" } id="approve" {
                        (csrf(v))
                        input type="hidden" name="version" value=(p.version);
                        @if let Some(n) = blocks {
                            div.warning id="approval-blocks" role="note" {
                                p { strong { "Approving this version blocks issuing to " (n) " people." } }
                                p { "It is a material change: everyone must acknowledge it again, and until each person does, issuing an asset to them is refused (the acceptable-use rule is set to refuse on the policies page)." }
                            }
                            (field("confirm", "I understand: approve it anyway", None, Control::Check, "", false, errors))
                        }
                        (field("next_review_at", "Next review", Some("At most a year from today (the default)."), Control::Input("date"), "", false, errors))
                        button type="submit" { "Approve it in my name" }
                    }
                }
            }
            @if p.status != PolicyStatus::Draft {
                section id="reviews" {
                    h2 { "Reviews" }
                    @if reviews.is_empty() {
                        p.muted { "No review is recorded since its approval." }
                    } @else {
                        table {
                            thead { tr { th { "When" } th { "By" } th { "Outcome" } th { "Notes" } th { "Next review" } } }
                            tbody {
                                @for r in &reviews {
                                    tr {
                                        td { (r.reviewed_at.0) }
                                        td { @if let Some(b) = r.reviewed_by { (name(b)) } }
                                        td { "No change" }
                                        td { @if let Some(n) = &r.notes { (n) } }
                                        td { @if let Some(d) = r.next_review_at { (d) } }
                                    }
                                }
                            }
                        }
                    }
                    @if v.admin() && p.status == PolicyStatus::Approved {
                        form.stack method="post" action={ "/policies/" (p.id) "/reviews" } id="review" {
                            (csrf(v))
                            input type="hidden" name="version" value=(p.version);
                            (field("notes", "Notes", Some("What was looked at. A version that needs changing gets a new draft instead."), Control::TextArea, "", false, errors))
                            button type="submit" { "Record a review that changes nothing" }
                        }
                    }
                }
            }
            article.policy { (markdown(&p.body)) }
            p { a href="/policies" { "All policies" } }
        };
        Ok(Drawn {
            title: p.title.clone(),
            nav: Nav::Policies,
            body,
        })
    }
}

fn policy_form(
    v: &Viewer,
    action: &str,
    values: &HashMap<String, String>,
    errors: &Errors,
    new: bool,
) -> Markup {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let docs: Vec<(String, String)> = PolicyDocument::ALL
        .iter()
        .map(|d| (d.as_str().to_string(), d.title().to_string()))
        .collect();
    html! {
        (errors.summary())
        form.stack method="post" action=(action) novalidate id="policy-form" {
            (csrf(v))
            @if let Some(ver) = values.get("version") { input type="hidden" name="version" value=(ver); }
            @if new { (field("document", "Document", None, Control::Select(docs, false), &get("document"), true, errors)) }
            (field("number", "Version", Some("As people cite it, for example 2.1."), Control::Input("text"), &get("number"), true, errors))
            (field("title", "Title", Some("Defaults to the document's name."), Control::Input("text"), &get("title"), false, errors))
            (field("effective_date", "Effective from", None, Control::Input("date"), &get("effective_date"), true, errors))
            (field("material", "A material change: everyone acknowledges it again", None, Control::Check, &get("material"), false, errors))
            (field("change_summary", "What changed", None, Control::TextArea, &get("change_summary"), false, errors))
            (field("body", "Text (Markdown)", None, Control::TextArea, &get("body"), true, errors))
            div.actions { button type="submit" { "Save the draft" } a href="/policies" { "Cancel" } }
        }
    }
}

fn policy_input(form: &Form, new: bool) -> Map<String, Value> {
    let mut m = Map::new();
    let keys: &[&str] = if new {
        &[
            "document",
            "number",
            "title",
            "effective_date",
            "change_summary",
            "body",
        ]
    } else {
        &[
            "number",
            "title",
            "effective_date",
            "change_summary",
            "body",
        ]
    };
    for k in keys {
        match form.get(k) {
            Some(val) => {
                m.insert((*k).into(), json!(val));
            }
            None if !new && *k == "change_summary" => {
                m.insert((*k).into(), Value::Null);
            }
            None => {}
        }
    }
    m.insert(
        "material".into(),
        json!(form.get("material") == Some("true")),
    );
    m
}

/// `GET /policies/new` (admins).
pub async fn new_policy(v: Viewer) -> Response {
    if !v.admin() {
        return v.refuse("draft policy versions");
    }
    let mut values = HashMap::new();
    values.insert("material".into(), "true".into());
    values.insert("document".into(), "acceptable_use".into());
    let body = html! { h1 { "Draft a policy version" } (policy_form(&v, "/policies/new", &values, &Errors::none(), true)) };
    ok(page(
        Some(&v),
        "Draft a policy version",
        Nav::Policies,
        body,
    ))
}

/// `POST /policies/new`.
pub async fn create_policy(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let r = s.app.create_policy(&v.ctx, policy_input(&form, true)).await;
    let taken =
        |p: PolicyVersion| super::done(&format!("/policies/{}", p.id), super::Done::Created);
    super::settle(&v, r, taken, async |errors| {
        let body = html! { h1 { "Draft a policy version" } (policy_form(&v, "/policies/new", &form.values(), &errors, true)) };
        html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(Some(&v), "Draft a policy version", Nav::Policies, body),
        )
    })
    .await
}

/// `POST /policies/draft`: a generated first draft of the Asset Management Policy.
pub async fn draft_policy(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let mut body = Map::new();
    body.insert("document".into(), json!("asset_management"));
    if let Some(o) = form.get("organisation") {
        body.insert("organisation".into(), json!(o));
    }
    let r = s.app.draft_policy(&v.ctx, body).await;
    let taken =
        |p: PolicyVersion| super::done(&format!("/policies/{}", p.id), super::Done::Created);
    super::settle(&v, r, taken, async |errors| {
        policies_page(&s, &v, &errors, StatusCode::UNPROCESSABLE_ENTITY).await
    })
    .await
}

/// `GET /policies/{id}/edit` (admins, drafts).
pub async fn edit_policy(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    if !v.admin() {
        return v.refuse("change policy drafts");
    }
    let p = match s.app.get_policy(&v.ctx, id).await {
        Ok(p) => p,
        Err(e) => return error_page(Some(&v), e),
    };
    let mut values = HashMap::new();
    values.insert("number".into(), p.number.clone());
    values.insert("title".into(), p.title.clone());
    values.insert("effective_date".into(), p.effective_date.to_string());
    values.insert("material".into(), p.material.to_string());
    values.insert(
        "change_summary".into(),
        p.change_summary.clone().unwrap_or_default(),
    );
    values.insert("body".into(), p.body.clone());
    values.insert("version".into(), p.version.to_string());
    let action = format!("/policies/{id}/edit");
    let body = html! { h1 { "Edit " (p.title) " " (p.number) } (policy_form(&v, &action, &values, &Errors::none(), false)) };
    ok(page(Some(&v), "Edit a draft", Nav::Policies, body))
}

/// `POST /policies/{id}/edit`.
pub async fn update_policy(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let version = form.get("version").and_then(|x| x.parse().ok());
    match s
        .app
        .update_policy(&v.ctx, id, policy_input(&form, false), version.into())
        .await
    {
        Ok(_) => super::done(&format!("/policies/{id}"), super::Done::Saved),
        Err(
            e @ (AppError::Invalid(_)
            | AppError::Conflict { .. }
            | AppError::PreconditionFailed { .. }),
        ) => {
            let action = format!("/policies/{id}/edit");
            let body = html! { h1 { "Edit a draft" } (policy_form(&v, &action, &form.values(), &Errors::from_app(&e), false)) };
            html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(Some(&v), "Edit a draft", Nav::Policies, body),
            )
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /policies/{id}/approve`.
pub async fn approve_policy(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    if let Some(d) = form.get("next_review_at") {
        body.insert("next_review_at".into(), json!(d));
    }
    if form.get("confirm") == Some("true") {
        body.insert("confirm".into(), json!(true));
    }
    let version = form.get("version").and_then(|x| x.parse().ok());
    let r = s.app.approve_policy(&v.ctx, id, body, version.into()).await;
    after_change::<PolicyPage, _>(&s, &v, id, r, super::Done::Approved).await
}

/// `POST /policies/{id}/reviews`.
pub async fn review_policy(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    if let Some(n) = form.get("notes") {
        body.insert("notes".into(), json!(n));
    }
    let version = form.get("version").and_then(|x| x.parse().ok());
    let r = s
        .app
        .review_policy(&v.ctx, id, body, version.into())
        .await
        .map(|(p, _)| p);
    after_change::<PolicyPage, _>(&s, &v, id, r, super::Done::Reviewed).await
}

// ---- custody, on asset and person pages ----

pub(in crate::ui) fn assignment_rows(
    list: &[Assignment],
    names: &HashMap<Uuid, String>,
    hosts: &HashMap<Uuid, String>,
    v: &Viewer,
    returns: bool,
) -> Markup {
    let name = |i: Uuid| names.get(&i).cloned().unwrap_or_else(|| i.to_string());
    let today = chrono::Utc::now().date_naive();
    html! {
        table.custody {
            thead { tr { th { "Holder" } th { "Since" } th { "Due back" } th { "Off premises" } th { "Ended" } @if returns { th { "Take back" } } } }
            tbody {
                @for a in list {
                    tr {
                        td {
                            @if let Some(p) = a.person_id { a href={ "/people/" (p) } { (name(p)) } }
                            @if let Some(h) = a.host_id { a href={ "/assets/" (h) } { (hosts.get(&h).cloned().unwrap_or_else(|| h.to_string())) } }
                            @for w in &a.warnings { br; span.field-error { "Warning: " (w) } }
                        }
                        td { (a.issued_at.date_naive()) }
                        td {
                            @if let Some(d) = a.expected_return_at {
                                (d) @if a.returned_at.is_none() && d < today { " " (badge("missing", "overdue")) }
                            } @else { "—" }
                        }
                        td {
                            @if a.off_premises {
                                "yes"
                                @if let Some(p) = a.approved_by { ", approved by " (name(p)) }
                                @if let Some(x) = a.exception_id { ", " a href={ "/exceptions/" (x) } { "under an exception" } }
                            } @else { "no" }
                        }
                        td {
                            @if let Some(t) = a.returned_at {
                                (t.date_naive()) " " (words(a.outcome.map(|o| o.as_str()).unwrap_or("returned")))
                                @if let Some(c) = &a.condition { ": " (c) }
                            } @else { span.muted { "holds it" } }
                        }
                        @if returns {
                            td {
                                @if a.returned_at.is_none() && v.manages() {
                                    form.inline method="post" action={ "/assignments/" (a.id) "/return" } {
                                        (csrf(v))
                                        input type="hidden" name="version" value=(a.version);
                                        label for={ "cond-" (a.id) } { "Condition" }
                                        input type="text" id={ "cond-" (a.id) } name="condition";
                                        button.secondary type="submit" { "Take back" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(in crate::ui) async fn names_of(
    s: &AppState,
    v: &Viewer,
    list: &[Assignment],
) -> (HashMap<Uuid, String>, HashMap<Uuid, String>) {
    let mut ids = Vec::new();
    for a in list {
        ids.extend(a.person_id);
        ids.extend(a.approved_by);
    }
    let names = s.app.party_names(&v.ctx, &ids).await.unwrap_or_default();
    let mut hosts = HashMap::new();
    for h in list.iter().filter_map(|a| a.host_id) {
        if let Ok(x) = s.app.get_asset(&v.ctx, h).await {
            hosts.insert(h, format!("{} {}", x.asset.asset_number, x.asset.name));
        }
    }
    (names, hosts)
}

/// The custody section of a person's page.
pub async fn person_custody(s: &AppState, v: &Viewer, person: Uuid) -> Markup {
    let q = AssignmentQuery {
        limit: 100,
        person_id: Some(person),
        newest_first: true,
        ..Default::default()
    };
    let list = s
        .app
        .list_assignments(&v.ctx, q)
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let mut assets = HashMap::new();
    for a in &list {
        if let Ok(x) = s.app.get_asset(&v.ctx, a.asset_id).await {
            assets.insert(
                a.asset_id,
                format!("{} {}", x.asset.asset_number, x.asset.name),
            );
        }
    }
    let (names, _) = names_of(s, v, &list).await;
    let name = |i: Uuid| names.get(&i).cloned().unwrap_or_else(|| i.to_string());
    let aup = s.app.aup_standing(person).await.ok();
    html! {
        h2 id="custody" { "Custody" }
        @if let Some(st) = &aup {
            @if let Some(cur) = &st.current {
                p id="aup-standing" {
                    "Acceptable-use policy " (cur.number) ": "
                    @if let Some(a) = &st.acknowledgement { "acknowledged " (a.acknowledged_at.date_naive()) } @else { strong { "not acknowledged" } }
                }
            }
        }
        @if list.is_empty() { p.muted { "Holds nothing and has held nothing." } } @else {
            table {
                thead { tr { th { "Asset" } th { "Since" } th { "Due back" } th { "Off premises" } th { "Ended" } } }
                tbody {
                    @for a in &list {
                        tr {
                            td { a href={ "/assets/" (a.asset_id) } { (assets.get(&a.asset_id).cloned().unwrap_or_else(|| a.asset_id.to_string())) } " " span.muted { (a.kind) } }
                            td { (a.issued_at.date_naive()) }
                            td { @if let Some(d) = a.expected_return_at { (d) } @else { "—" } }
                            td { @if a.off_premises { "yes" @if let Some(p) = a.approved_by { ", approved by " (name(p)) } } @else { "no" } }
                            td { @if let Some(t) = a.returned_at { (t.date_naive()) " " (words(a.outcome.map(|o| o.as_str()).unwrap_or("returned"))) } @else { span.muted { "holds it" } } }
                        }
                    }
                }
            }
        }
    }
}

/// The viewer's own held assets, for the home page.
pub async fn held_by_viewer(s: &AppState, v: &Viewer) -> Markup {
    let Some(me) = v.principal.person_id else {
        return html! {};
    };
    let q = AssignmentQuery {
        limit: 100,
        person_id: Some(me),
        open: Some(true),
        ..Default::default()
    };
    let list = s
        .app
        .list_assignments(&v.ctx, q)
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let aup = s.app.aup_standing(me).await.ok();
    let mut rows = Vec::new();
    for a in &list {
        if let Ok(x) = s.app.get_asset(&v.ctx, a.asset_id).await {
            rows.push((a.clone(), x.asset));
        }
    }
    html! {
        @if let Some(st) = &aup {
            @if !st.up_to_date() {
                div.notice.warning role="status" id="aup-nag" {
                    "You have not acknowledged the acceptable-use policy in force. "
                    a href="/acceptable-use" { "Read and acknowledge it" }
                }
            }
        }
        h2 id="held" { "Assets you hold (" (rows.len()) ")" }
        @if rows.is_empty() { p.muted { "None." } } @else {
            ul {
                @for (a, x) in &rows {
                    li {
                        a href={ "/assets/" (x.id) } { span.mono { (x.asset_number) } " " (x.name) }
                        @if let Some(d) = a.expected_return_at { " · due back " (d) }
                        " · " a href={ "/assets/" (x.id) "#report" } { "report it lost or stolen" }
                    }
                }
            }
        }
    }
}

// ---- the off-premises register ----

/// `GET /off-premises`: what is off the premises, with whom, where, since and until when,
/// approved by whom.
pub async fn off_premises(State(s): State<AppState>, v: Viewer) -> Response {
    let q = AssignmentQuery {
        limit: 500,
        open: Some(true),
        off_premises: Some(true),
        ..Default::default()
    };
    let list = match s.app.list_assignments(&v.ctx, q).await {
        Ok(p) => p.items,
        Err(e) => return error_page(Some(&v), e),
    };
    let mut assets = HashMap::new();
    for a in &list {
        if let Ok(x) = s.app.get_asset(&v.ctx, a.asset_id).await {
            assets.insert(
                a.asset_id,
                (
                    format!("{} {}", x.asset.asset_number, x.asset.name),
                    x.asset.classification.clone(),
                ),
            );
        }
    }
    let (names, _) = names_of(&s, &v, &list).await;
    let name = |i: Uuid| names.get(&i).cloned().unwrap_or_else(|| i.to_string());
    let locations: HashMap<Uuid, String> = s
        .app
        .list_locations(&v.ctx, 500, None)
        .await
        .map(|p| p.items.into_iter().map(|l| (l.id, l.name)).collect())
        .unwrap_or_default();
    let today = chrono::Utc::now().date_naive();
    let body = html! {
        h1 { "Off the premises" }
        p { "Assets issued to be taken off the premises and not back yet (A.7.9)." }
        @if list.is_empty() { p.muted { "Nothing is off the premises." } } @else {
            table id="off-premises" {
                thead { tr { th { "Asset" } th { "Classification" } th { "With" } th { "Where" } th { "Since" } th { "Until" } th { "Approved by" } } }
                tbody {
                    @for a in &list {
                        tr {
                            td { a href={ "/assets/" (a.asset_id) } { (assets.get(&a.asset_id).map(|x| x.0.clone()).unwrap_or_else(|| a.asset_id.to_string())) } }
                            td { (assets.get(&a.asset_id).map(|x| x.1.clone()).unwrap_or_default()) }
                            td { @if let Some(p) = a.person_id { a href={ "/people/" (p) } { (name(p)) } } }
                            td { @if let Some(l) = a.location_id { (locations.get(&l).cloned().unwrap_or_else(|| l.to_string())) } @else { span.muted { "not recorded" } } }
                            td { (a.issued_at.date_naive()) }
                            td { @if let Some(d) = a.expected_return_at { (d) @if d < today { " " (badge("missing", "overdue")) } } @else { "—" } }
                            td {
                                @if let Some(p) = a.approved_by { (name(p)) }
                                @if let Some(x) = a.exception_id { " " a href={ "/exceptions/" (x) } { "(exception)" } }
                                @if a.approved_by.is_none() && a.exception_id.is_none() { span.muted { "not needed" } }
                            }
                        }
                    }
                }
            }
        }
    };
    ok(page(Some(&v), "Off the premises", Nav::OffPremises, body))
}

// ---- exceptions ----

fn state_badge(x: &PolicyException) -> Markup {
    let st = x.state(chrono::Utc::now().date_naive());
    badge(
        match st {
            ExceptionStatus::Approved => "complete",
            ExceptionStatus::Requested => "level",
            _ => "missing",
        },
        st.as_str(),
    )
}

/// `GET /exceptions`.
pub async fn exceptions(State(s): State<AppState>, v: Viewer) -> Response {
    let q = ExceptionQuery {
        limit: 200,
        newest_first: true,
        ..Default::default()
    };
    let list = match s.app.list_exceptions(&v.ctx, q).await {
        Ok(p) => p.items,
        Err(e) => return error_page(Some(&v), e),
    };
    let body = html! {
        h1 { "Policy exceptions" }
        @if v.writes() { p.actions { a.button href="/exceptions/new" { "Ask for an exception" } } }
        @if list.is_empty() { p.muted { "No exceptions." } } @else {
            table id="exceptions" {
                thead { tr { th { "Rule" } th { "Assets" } th { "State" } th { "Expires" } th { "Justification" } } }
                tbody {
                    @for x in &list {
                        tr {
                            td { a href={ "/exceptions/" (x.id) } { (words(x.rule.as_str())) } }
                            td { (x.asset_ids.len()) }
                            td { (state_badge(x)) }
                            td { (x.expires_at) }
                            td { (x.justification) }
                        }
                    }
                }
            }
        }
    };
    ok(page(Some(&v), "Policy exceptions", Nav::Exceptions, body))
}

fn exception_form(v: &Viewer, values: &HashMap<String, String>, errors: &Errors) -> Markup {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    // The checks an exception can set aside (the rules named before them stay valid in
    // the API, and set aside the same checks).
    let rules: Vec<(String, String)> = ExceptionRule::ALL
        .iter()
        .filter(|r| r.check_id() == r.as_str())
        .filter_map(|r| custodian_domain::compliance::check(r.as_str()))
        .map(|c| (c.id.to_string(), format!("{} ({})", c.title, c.id)))
        .collect();
    html! {
        (errors.summary())
        form.stack method="post" action="/exceptions/new" novalidate id="exception-form" {
            (csrf(v))
            (field("rule", "Rule set aside", None, Control::Select(rules, false), &get("rule"), true, errors))
            (field("asset_ids", "Assets (asset numbers, one per line)", None, Control::TextArea, &get("asset_ids"), true, errors))
            (field("justification", "Why the rule cannot be followed", None, Control::TextArea, &get("justification"), true, errors))
            (field("compensating_controls", "What reduces the risk meanwhile", None, Control::TextArea, &get("compensating_controls"), true, errors))
            (field("expires_at", "Expires", Some("At most a year from today."), Control::Input("date"), &get("expires_at"), true, errors))
            div.actions { button type="submit" { "Ask for it" } a href="/exceptions" { "Cancel" } }
        }
    }
}

/// `GET /exceptions/new`.
pub async fn new_exception(v: Viewer) -> Response {
    if !v.writes() {
        return v.refuse("ask for exceptions");
    }
    let body = html! { h1 { "Ask for an exception" } (exception_form(&v, &HashMap::new(), &Errors::none())) };
    ok(page(
        Some(&v),
        "Ask for an exception",
        Nav::Exceptions,
        body,
    ))
}

/// `POST /exceptions/new`: asset numbers are looked up; each unknown one is named.
pub async fn create_exception(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let mut body = Map::new();
    for k in [
        "rule",
        "justification",
        "compensating_controls",
        "expires_at",
    ] {
        if let Some(val) = form.get(k) {
            body.insert(k.into(), json!(val));
        }
    }
    let (ids, errors) =
        match asset_numbers(&s, &v, form.get("asset_ids").unwrap_or(""), "asset_ids").await {
            Ok(x) => x,
            Err(e) => return error_page(Some(&v), e),
        };
    let errors = Errors(errors);
    body.insert("asset_ids".into(), Value::Array(ids));
    let result = if errors.any() {
        Err(AppError::Invalid(custodian_domain::Problems(errors.0)))
    } else {
        s.app.request_exception(&v.ctx, body).await
    };
    match result {
        Ok(x) => super::done(&format!("/exceptions/{}", x.id), super::Done::Created),
        Err(e @ AppError::Invalid(_)) => {
            let mut errors = Errors::from_app(&e);
            for err in &mut errors.0 {
                if err.field.starts_with("asset_ids[") {
                    err.field = "asset_ids".into();
                }
            }
            let body = html! { h1 { "Ask for an exception" } (exception_form(&v, &form.values(), &errors)) };
            html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(Some(&v), "Ask for an exception", Nav::Exceptions, body),
            )
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// A policy exception's page, `GET /exceptions/{id}`.
pub struct ExceptionPage;

impl RecordPage for ExceptionPage {
    const PATH: &'static str = "/exceptions";

    async fn draw(s: &AppState, v: &Viewer, id: Uuid, errors: &Errors) -> Drawing {
        let x = s.app.get_exception(&v.ctx, id).await?;
        let mut ids: Vec<Uuid> = x.requester_id.into_iter().collect();
        ids.extend(x.approver_id);
        let names = s.app.party_names(&v.ctx, &ids).await.unwrap_or_default();
        let name = |i: Uuid| names.get(&i).cloned().unwrap_or_else(|| i.to_string());
        let mut assets = Vec::new();
        for a in &x.asset_ids {
            match s.app.get_asset(&v.ctx, *a).await {
                Ok(view) => assets.push((
                    *a,
                    format!("{} {}", view.asset.asset_number, view.asset.name),
                )),
                Err(_) => assets.push((*a, a.to_string())),
            }
        }
        let st = x.state(chrono::Utc::now().date_naive());
        let body = html! {
            h1 { "Exception: " (words(x.rule.as_str())) }
            p { (state_badge(&x)) " until " (x.expires_at) }
            (errors.summary())
            dl.record {
                dt { "Assets" } dd { ul { @for (i, n) in &assets { li { a href={ "/assets/" (i) } { (n) } } } } }
                dt { "Justification" } dd { (x.justification) }
                dt { "Compensating controls" } dd { (x.compensating_controls) }
                @if let Some(r) = x.requester_id { dt { "Asked for by" } dd { (name(r)) ", " (when(&x.created_at)) } }
                @if let Some(a) = x.approver_id { dt { "Decided by" } dd { (name(a)) @if let Some(t) = &x.decided_at { ", " (when(t)) } } }
                @if let Some(n) = &x.decision_notes { dt { "Notes" } dd { (n) } }
            }
            @if v.admin() && matches!(st, ExceptionStatus::Requested | ExceptionStatus::Approved) {
                form.stack method="post" action={ "/exceptions/" (x.id) "/decide" } id="decide" {
                    (csrf(v))
                    input type="hidden" name="version" value=(x.version);
                    (field("notes", "Notes", None, Control::Input("text"), "", false, errors))
                    div.actions {
                        @if st == ExceptionStatus::Requested {
                            button type="submit" name="decision" value="approve" { "Approve" }
                            button.secondary type="submit" name="decision" value="reject" { "Reject" }
                        } @else {
                            button.secondary type="submit" name="decision" value="revoke" { "Revoke" }
                        }
                    }
                }
            }
            p { a href="/exceptions" { "All exceptions" } }
        };
        Ok(Drawn {
            title: "Policy exception".into(),
            nav: Nav::Exceptions,
            body,
        })
    }
}

/// `POST /exceptions/{id}/decide` (admins): approve, reject or revoke.
pub async fn decide(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    if let Some(n) = form.get("notes") {
        body.insert("notes".into(), json!(n));
    }
    let version = form.get("version").and_then(|x| x.parse().ok());
    let r = match form.get("decision") {
        Some("approve") => {
            s.app
                .decide_exception(&v.ctx, id, ExceptionStatus::Approved, body, version.into())
                .await
        }
        Some("reject") => {
            s.app
                .decide_exception(&v.ctx, id, ExceptionStatus::Rejected, body, version.into())
                .await
        }
        Some("revoke") => {
            s.app
                .revoke_exception(&v.ctx, id, body, version.into())
                .await
        }
        _ => Err(AppError::invalid(
            "decision",
            "choose approve, reject or revoke",
        )),
    };
    after_change::<ExceptionPage, _>(&s, &v, id, r, super::Done::Decided).await
}

/// Assets reported lost or stolen, newest registrations first, for managers' home page.
pub async fn lost_or_stolen(s: &AppState, v: &Viewer) -> Markup {
    if !v.reads_all() {
        return html! {};
    }
    let mut rows = Vec::new();
    for st in [Status::Lost, Status::Stolen] {
        let q = custodian_store::AssetQuery {
            limit: 20,
            status: Some(st),
            sort: custodian_store::AssetSort::Newest,
            ..Default::default()
        };
        if let Ok(p) = s.app.list_assets(&v.ctx, &q).await {
            rows.extend(p.items.into_iter().map(|a| a.asset));
        }
    }
    rows.sort_by_key(|a| std::cmp::Reverse(a.updated_at));
    html! {
        @if !rows.is_empty() {
            h2 id="lost-stolen" { "Reported lost or stolen" }
            ul {
                @for a in &rows {
                    li { a href={ "/assets/" (a.id) } { span.mono { (a.asset_number) } " " (a.name) } " " (badge("missing", a.status.as_str())) " since " (when(&a.updated_at)) }
                }
            }
        }
    }
}

//! Asset pages: the list with its filters, columns, paging and CSV export; an asset's
//! page with its record, completeness, relations and history; the forms to register,
//! edit, move along the lifecycle and dispose of an asset.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_app::assets::AssetView;
use custodian_app::AppError;
use custodian_domain::asset::{Asset, AssetKind, Importance};
use custodian_domain::classification::Classification;
use custodian_domain::custom::{CustomFieldDef, CustomType, EntityType};
use custodian_domain::fields::{self, FieldDef, FieldType};
use custodian_domain::lifecycle::{DisposalMethod, Status};
use custodian_domain::FieldError;
use custodian_store::{AssetQuery, PartyRef};

use super::{
    badge, csrf, error_page, field, html_response, ok, page, query_string, when, words, Control,
    Errors, Form, Nav, PageId, Viewer,
};
use crate::extract::Params;
use crate::AppState;

/// The columns the list can show, with their headings.
const COLUMNS: &[(&str, &str)] = &[
    ("asset_number", "Number"),
    ("name", "Name"),
    ("kind", "Kind"),
    ("owner", "Owner"),
    ("importance", "Importance"),
    ("classification", "Classification"),
    ("status", "Status"),
    ("location", "Location"),
    ("next_review_at", "Next review"),
    ("completeness", "Record"),
    ("updated_at", "Last changed"),
];
/// The columns shown when none are chosen.
const DEFAULT_COLUMNS: &[&str] = &[
    "asset_number",
    "name",
    "kind",
    "owner",
    "classification",
    "status",
    "next_review_at",
    "completeness",
];
/// The orders the list offers.
const SORTS: &[(&str, &str)] = &[
    ("", "Oldest first"),
    ("newest", "Newest first"),
    ("asset_number", "Asset number"),
    ("name", "Name, A to Z"),
    ("next_review_at", "Next review, soonest first"),
];

/// The list's filters, in the order the form shows them.
pub(super) const FILTER_KEYS: &[&str] = &[
    "q",
    "kind",
    "status",
    "owner_id",
    "classification",
    "importance",
    "location_id",
    "tag",
    "review_overdue",
    "sort",
];

/// The label of a common field, as a policy reader knows it.
fn common_label(kind: AssetKind, name: &str) -> &'static str {
    let device = matches!(kind, AssetKind::Physical | AssetKind::Virtual);
    match name {
        "asset_number" => "Asset number",
        "kind" => "Kind",
        "name" => "Name",
        "description" => "Description",
        "owner_id" => "Owner (accountable)",
        "importance" => "Importance",
        "classification" => "Classification",
        "status" => "Status",
        "location_id" => "Location",
        "tags" => "Tags",
        "last_reviewed_at" if device => "Last checked",
        "last_reviewed_at" => "Last reviewed",
        "last_reviewed_by" if device => "Last checked by",
        "last_reviewed_by" => "Last reviewed by",
        "next_review_at" => "Next review due",
        _ => "",
    }
}

/// Reference data the pages show names from and forms offer.
struct Choices {
    parties: Vec<PartyRef>,
    locations: Vec<(Uuid, String)>,
    levels: Vec<Classification>,
    custom: Vec<CustomFieldDef>,
}

impl Choices {
    async fn load(s: &AppState, v: &Viewer) -> Result<Self, AppError> {
        let parties = s.app.party_choices(&v.ctx).await?;
        let locations = s
            .app
            .list_locations(&v.ctx, 500, None)
            .await?
            .items
            .into_iter()
            .map(|l| (l.id, l.name))
            .collect();
        let levels = s.app.list_classifications(&v.ctx).await?;
        let custom = s
            .app
            .list_custom_fields(&v.ctx)
            .await?
            .into_iter()
            .filter(|d| d.entity_type == EntityType::Asset)
            .collect();
        Ok(Choices {
            parties,
            locations,
            levels,
            custom,
        })
    }

    /// Adds the parties an asset names (its owner, its reviewer) when the viewer's own
    /// choices lack them, so that its form shows and keeps them.
    async fn with_named(mut self, s: &AppState, v: &Viewer, a: &Asset) -> Self {
        let mut wanted = vec![a.owner_id];
        wanted.extend(a.last_reviewed_by);
        wanted.retain(|id| !self.parties.iter().any(|p| p.id == *id));
        if !wanted.is_empty() {
            if let Ok(names) = s.app.party_names(&v.ctx, &wanted).await {
                for (id, name) in names {
                    self.parties.push(PartyRef {
                        id,
                        kind: custodian_domain::party::PartyKind::Person,
                        name,
                        email: None,
                    });
                }
            }
        }
        self
    }

    fn party_options(&self, persons_only: bool) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .parties
            .iter()
            .filter(|p| !persons_only || p.kind == custodian_domain::party::PartyKind::Person)
            .map(|p| {
                let label = match &p.email {
                    Some(e) => format!("{} ({}, {e})", p.name, p.kind),
                    None => format!("{} ({})", p.name, p.kind),
                };
                (p.id.to_string(), label)
            })
            .collect();
        out.sort_by_key(|a| a.1.to_lowercase());
        out
    }

    fn location_options(&self) -> Vec<(String, String)> {
        self.locations
            .iter()
            .map(|(id, n)| (id.to_string(), n.clone()))
            .collect()
    }

    fn level_options(&self) -> Vec<(String, String)> {
        self.levels
            .iter()
            .map(|l| (l.key.clone(), l.name.clone()))
            .collect()
    }

    fn level_name(&self, key: &str) -> String {
        self.levels
            .iter()
            .find(|l| l.key == key)
            .map(|l| l.name.clone())
            .unwrap_or_else(|| key.to_string())
    }

    fn location_name(&self, id: Uuid) -> String {
        self.locations
            .iter()
            .find(|(l, _)| *l == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

fn word_options(names: &[&str]) -> Vec<(String, String)> {
    names.iter().map(|n| (n.to_string(), words(n))).collect()
}

/// The query string's pairs; repeated names kept.
pub(super) fn pairs(uri: &Uri) -> Result<Vec<(String, String)>, crate::problem::Problem> {
    crate::extract::form_urlencoded(uri.query().unwrap_or(""))
}

/// The list's filters from its query string (blank ones dropped).
pub(super) fn filter_params(pairs: &[(String, String)], extra: &[&str]) -> Params {
    let mut m = HashMap::new();
    for (k, v) in pairs {
        if (FILTER_KEYS.contains(&k.as_str()) || extra.contains(&k.as_str()))
            && !v.trim().is_empty()
        {
            m.insert(k.clone(), v.trim().to_string());
        }
    }
    Params(m)
}

/// `GET /assets`: the register, filtered, searched and paged.
pub async fn list(State(s): State<AppState>, v: Viewer, uri: Uri) -> Response {
    let pairs = match pairs(&uri) {
        Ok(p) => p,
        Err(p) => return error_page(Some(&v), AppError::invalid("", p.detail)),
    };
    let mut cols: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "col")
        .map(|(_, c)| c.clone())
        .filter(|c| COLUMNS.iter().any(|(k, _)| k == c))
        .collect();
    if cols.is_empty() {
        cols = DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect();
    }
    let params = filter_params(&pairs, &["cursor", "limit"]);
    let q = match crate::api::assets::query(&params) {
        Ok(q) => q,
        Err(p) => {
            return error_page(
                Some(&v),
                AppError::Invalid(custodian_domain::Problems(if p.errors.is_empty() {
                    vec![FieldError::new("", p.detail)]
                } else {
                    p.errors
                })),
            )
        }
    };
    let result = s.app.list_assets(&v.ctx, &q).await;
    let choices = Choices::load(&s, &v).await;
    let (page_, choices) = match (result, choices) {
        (Ok(p), Ok(c)) => (p, c),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&v), e),
    };
    let owner_ids: Vec<Uuid> = page_.items.iter().map(|a| a.asset.owner_id).collect();
    let owners = s
        .app
        .party_names(&v.ctx, &owner_ids)
        .await
        .unwrap_or_default();
    let get = |k: &str| params.0.get(k).cloned().unwrap_or_default();
    let filter_pairs: Vec<(&str, String)> = FILTER_KEYS.iter().map(|k| (*k, get(k))).collect();
    let mut keep: Vec<(&str, &str)> = filter_pairs
        .iter()
        .map(|(k, val)| (*k, val.as_str()))
        .collect();
    let col_pairs: Vec<(&str, &str)> = cols.iter().map(|c| ("col", c.as_str())).collect();
    keep.extend(col_pairs.iter().copied());
    let limit = get("limit");
    keep.push(("limit", limit.as_str()));
    let export_href = format!(
        "/assets/export.csv{}",
        query_string(
            &filter_pairs
                .iter()
                .map(|(k, val)| (*k, val.as_str()))
                .collect::<Vec<_>>()
        )
    );
    let next_href = crate::api::assets::next_cursor(q.sort, &page_).map(|enc| {
        let mut p = keep.clone();
        p.push(("cursor", enc.as_str()));
        format!("/assets{}", query_string(&p))
    });
    let first_href = format!("/assets{}", query_string(&keep));
    let shown = |c: &str| cols.iter().any(|x| x == c);
    let body = html! {
        h1 { "Assets" }
        @if v.manages() {
            p.actions { a.button href="/assets/new" { "Register an asset" } }
        }
        form.filters method="get" action="/assets" role="search" aria-label="Filter the assets" {
            div {
                label for="q" { "Search" }
                input type="search" id="q" name="q" value=(get("q")) placeholder="Name, number, serial, hostname…";
            }
            (filter_select("kind", "Kind", &word_options(AssetKind::NAMES), &get("kind")))
            (filter_select("status", "Status", &word_options(Status::NAMES), &get("status")))
            (filter_select("owner_id", "Owner", &choices.party_options(false), &get("owner_id")))
            (filter_select("classification", "Classification", &choices.level_options(), &get("classification")))
            (filter_select("importance", "Importance", &word_options(Importance::NAMES), &get("importance")))
            (filter_select("location_id", "Location", &choices.location_options(), &get("location_id")))
            div {
                label for="tag" { "Tag" }
                input type="text" id="tag" name="tag" value=(get("tag"));
            }
            div {
                label for="review_overdue" { "Review" }
                select id="review_overdue" name="review_overdue" {
                    option value="" { "Any" }
                    option value="true" selected[get("review_overdue") == "true"] { "Overdue" }
                }
            }
            div {
                label for="sort" { "Order" }
                select id="sort" name="sort" {
                    @for (value, label) in SORTS {
                        option value=(value) selected[get("sort") == *value || (get("sort").is_empty() && value.is_empty())] { (label) }
                    }
                }
            }
            fieldset {
                legend { "Columns" }
                @for (key, label) in COLUMNS {
                    label { input type="checkbox" name="col" value=(key) checked[shown(key)]; (label) }
                }
            }
            div.actions {
                button type="submit" { "Apply" }
                a.button.secondary href="/assets" { "Clear" }
                a href=(export_href) { "Export these as CSV" }
                a href=(export_href.replacen("/assets/export.csv", "/labels", 1)) { "Print labels for these" }
            }
        }
        @if page_.items.is_empty() {
            p { "No asset matches." }
        } @else {
            div.table-wrap {
                table.responsive id="asset-list" {
                    caption.visually-hidden { "Assets" }
                    thead { tr {
                        @for (key, label) in COLUMNS {
                            @if shown(key) { th scope="col" { (label) } }
                        }
                    } }
                    tbody {
                        @for a in &page_.items {
                            tr {
                                @for (key, label) in COLUMNS {
                                    @if shown(key) {
                                        td data-label=(label) { (cell(key, a, &owners, &choices)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if q.cursor.is_some() { a href=(first_href) { "First page" } }
            @if let Some(n) = &next_href { a href=(n) rel="next" { "Next page" } }
        }
    };
    ok(page(Some(&v), "Assets", Nav::Assets, body))
}

fn filter_select(name: &str, label: &str, options: &[(String, String)], value: &str) -> Markup {
    html! {
        div {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" { "Any" }
                @for (v, l) in options { option value=(v) selected[v == value] { (l) } }
            }
        }
    }
}

fn cell(key: &str, a: &AssetView, owners: &HashMap<Uuid, String>, c: &Choices) -> Markup {
    let x = &a.asset;
    html! {
        @match key {
            "asset_number" => a href={ "/assets/" (x.id) } { (x.asset_number) },
            "name" => a href={ "/assets/" (x.id) } { (x.name) },
            "kind" => (words(x.kind.as_str())),
            "owner" => (owners.get(&x.owner_id).cloned().unwrap_or_else(|| x.owner_id.to_string())),
            "importance" => (x.importance),
            "classification" => (badge("level", &c.level_name(&x.classification))),
            "status" => (badge("status", x.status.as_str())),
            "location" => @if let Some(l) = x.location_id { (c.location_name(l)) },
            "next_review_at" => @if let Some(d) = x.next_review_at { (d) },
            "completeness" => @if a.completeness.complete { (badge("complete", "complete")) } @else { (badge("missing", &format!("{} missing", a.completeness.missing.len()))) },
            "updated_at" => (when(&x.updated_at)),
            _ => {}
        }
    }
}

/// `GET /assets/export.csv`: the assets of the current filter as Custodian's CSV, streamed
/// page by page.
pub async fn export_csv(State(s): State<AppState>, v: Viewer, uri: Uri) -> Response {
    let pairs = match pairs(&uri) {
        Ok(p) => p,
        Err(p) => return p.into_response(),
    };
    let params = filter_params(&pairs, &[]);
    let mut q = match crate::api::assets::query(&params) {
        Ok(q) => q,
        Err(p) => return p.into_response(),
    };
    q.limit = 500;
    let layout = match custodian_io::export::CsvLayout::new(&s.app, &v.ctx, q.kind).await {
        Ok(l) => l,
        Err(e) => return error_page(Some(&v), e),
    };
    // The first page is read before answering, so a refusal is an error page, not a
    // broken download.
    let first = match s.app.list_assets(&v.ctx, &q).await {
        Ok(p) => p,
        Err(e) => return error_page(Some(&v), e),
    };
    let header_row = layout.header();
    let state = (
        s.app.clone(),
        v.ctx.clone(),
        q,
        Some(first),
        layout,
        Some(header_row),
    );
    let stream = futures_util::stream::unfold(
        state,
        |(app, ctx, mut q, first, layout, header_row)| async move {
            if let Some(h) = header_row {
                return Some((
                    Ok::<_, std::io::Error>(h),
                    (app, ctx, q, first, layout, None),
                ));
            }
            let page = match first {
                Some(p) => p,
                None => {
                    q.cursor.as_ref()?;
                    match app.list_assets(&ctx, &q).await {
                        Ok(p) => p,
                        Err(e) => {
                            return Some((
                                Err(std::io::Error::other(e.to_string())),
                                (
                                    app,
                                    ctx,
                                    AssetQuery { cursor: None, ..q },
                                    None,
                                    layout,
                                    None,
                                ),
                            ))
                        }
                    }
                }
            };
            let maps: Vec<Map<String, Value>> = page
                .items
                .iter()
                .filter_map(|a| match a.to_json() {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .collect();
            let bytes = layout.rows(maps.iter());
            q.after_key = page.items.last().and_then(|v| q.sort.key_of(&v.asset));
            q.cursor = page.next_cursor;
            if q.cursor.is_none() && bytes.is_empty() {
                return None;
            }
            Some((Ok(bytes), (app, ctx, q, None, layout, None)))
        },
    );
    let mut r = Body::from_stream(stream).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"assets.csv\""),
    );
    r
}

/// The value of a field for display.
fn shown_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                Value::Object(o) => o.values().map(shown_value).collect::<Vec<_>>().join(": "),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}: {}", shown_value(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// A field's value as a form shows it (lists with `;`).
fn form_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Array(items))
            if items
                .iter()
                .all(|i| matches!(i, Value::Object(_)) && i.get("country").is_some()) =>
        {
            items
                .iter()
                .map(|i| {
                    format!(
                        "{}: {}",
                        i["country"].as_str().unwrap_or(""),
                        i["safeguard"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        Some(v) => shown_value(v),
    }
}

fn date_only(v: &str) -> String {
    v.get(..10).unwrap_or(v).to_string()
}

/// `GET /assets/{id}`.
/// The asset's page again, with a refused form's errors and what was sent (422).
pub(super) async fn rerender(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    errors: Errors,
    sent: &HashMap<String, String>,
) -> Response {
    match asset_page(s, v, id, errors, sent, None).await {
        Ok(m) => html_response(StatusCode::UNPROCESSABLE_ENTITY, m),
        Err(e) => error_page(Some(v), e),
    }
}

pub async fn show(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    match asset_page(&s, &v, id, Errors::none(), &HashMap::new(), None).await {
        Ok(m) => ok(m),
        Err(e) => error_page(Some(&v), e),
    }
}

async fn asset_page(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    errors: Errors,
    sent: &HashMap<String, String>,
    revealed: Option<(String, String)>,
) -> Result<Markup, AppError> {
    let a = s.app.get_asset(&v.ctx, id).await?;
    let choices = Choices::load(s, v).await?;
    let relations = s.app.asset_relations(&v.ctx, id).await?;
    // The newest events, however long the history: read to its end, keep the last 200.
    let mut history = Vec::new();
    let mut cursor = None;
    loop {
        let p = s.app.asset_history(&v.ctx, id, 500, cursor).await?;
        history.extend(p.items);
        if history.len() > 400 {
            history.drain(..history.len() - 200);
        }
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let shown_from = history.len().saturating_sub(200);
    let history = &history[shown_from..];
    let x = &a.asset;
    let mut names_needed = vec![x.owner_id];
    names_needed.extend(x.last_reviewed_by);
    let names = s.app.party_names(&v.ctx, &names_needed).await?;
    let name_of = |id: Uuid| names.get(&id).cloned().unwrap_or_else(|| id.to_string());
    let json = a.to_json();
    let may_edit = s.app.may_edit_asset(&v.ctx, x).await.unwrap_or(false);
    let may_reveal = s.app.may_reveal_secret(&v.ctx, x).await.unwrap_or(false);
    let manages = v.manages();
    let level = choices.levels.iter().find(|l| l.key == x.classification);
    let custody = super::workflows::custody_section(
        s,
        v,
        x,
        &choices.parties,
        &choices.locations,
        &errors,
        sent,
    )
    .await?;
    let body = html! {
        h1 { span.mono { (x.asset_number) } " " (x.name) }
        p {
            (badge("status", x.status.as_str())) " "
            (badge("level", &choices.level_name(&x.classification))) " "
            (words(x.kind.as_str())) " · importance " (x.importance)
        }
        p.no-print { a href={ "/labels?ids=" (x.id) } { "Print label" } }
        @if may_edit || manages {
            div.actions {
                @if may_edit && x.status != Status::Disposed { a.button href={ "/assets/" (x.id) "/edit" } { "Edit the record" } }
                @if manages && x.status.can_become(Status::Disposed) { a.button.secondary href={ "/assets/" (x.id) "/dispose" } { "Dispose of it" } }
            }
            @if may_edit && x.status != Status::Disposed && v.principal.person_id.is_some() {
                form.stack method="post" action={ "/assets/" (x.id) "/review" } id="review" {
                    (csrf(v))
                    input type="hidden" name="version" value=(x.version);
                    (field("notes", "Review notes", Some("Recording a review puts your name and today's date on it and moves the next review on by the classification's interval."), Control::Input("text"), "", false, &errors))
                    button.secondary type="submit" { "Record a review" }
                }
            }
        }
        (errors.summary())
        h2 { "Record" }
        dl.record {
            dt { (common_label(x.kind, "owner_id")) } dd { a href={ "/people/" (x.owner_id) } { (name_of(x.owner_id)) } }
            @if let Some(d) = &x.description { dt { (common_label(x.kind, "description")) } dd { (d) } }
            dt { (common_label(x.kind, "location_id")) } dd { @if let Some(l) = x.location_id { (choices.location_name(l)) } @else { span.muted { "not recorded" } } }
            @if !x.tags.is_empty() { dt { "Tags" } dd { (x.tags.join(", ")) } }
            dt { (common_label(x.kind, "last_reviewed_at")) } dd { @if let Some(t) = &x.last_reviewed_at { (when(t)) } @else { span.muted { "never" } } }
            dt { (common_label(x.kind, "last_reviewed_by")) } dd { @if let Some(p) = x.last_reviewed_by { (name_of(p)) } @else { span.muted { "—" } } }
            dt { (common_label(x.kind, "next_review_at")) } dd { @if let Some(d) = x.next_review_at { (d) } @else { span.muted { "—" } } }
            @for def in fields::fields_of(x.kind) {
                dt { (def.label) }
                dd {
                    @if def.ty == FieldType::Secret {
                        @match &revealed {
                            Some((f, value)) if f == def.name => { span.mono.token-once id={ "revealed-" (def.name) } { (value) } }
                            _ => {
                                @if x.attrs.contains_key(def.name) {
                                    "set "
                                    @if may_reveal {
                                        form.inline method="post" action={ "/assets/" (x.id) "/reveal" } {
                                            (csrf(v))
                                            input type="hidden" name="field" value=(def.name);
                                            button.link type="submit" { "Show it (the audit trail records who looked)" }
                                        }
                                    }
                                } @else { span.muted { "not set" } }
                            }
                        }
                    } @else {
                        @match x.attrs.get(def.name) {
                            Some(Value::String(u)) if def.ty == FieldType::Url && (u.starts_with("https://") || u.starts_with("http://")) => {
                                a href=(u) rel="noopener noreferrer" { (u) }
                            }
                            Some(val) => (shown_value(val)),
                            None => span.muted { "not recorded" },
                        }
                    }
                }
            }
            @for d in choices.custom.iter().filter(|d| d.asset_kinds.is_empty() || d.asset_kinds.contains(&x.kind)) {
                dt { (d.label) }
                dd { @match x.custom.get(&d.key) { Some(val) => (shown_value(val)), None => span.muted { "not recorded" } } }
            }
            @if !x.external_ids.is_empty() { dt { "Ids in other systems" } dd { (shown_value(&Value::Object(x.external_ids.clone()))) } }
            dt { "Registered" } dd { (when(&x.created_at)) }
            dt { "Last changed" } dd { (when(&x.updated_at)) " (version " (x.version) ")" }
        }
        @if x.kind == AssetKind::Software {
            (licence_position(x))
        }
        @if let Some(l) = level {
            h2 { "Handling (" (l.name) ")" }
            ul {
                li { "Encryption " @if l.encryption_required { "required" } @else { "not required" } }
                li { "Off premises: " (words(l.off_premises.as_str())) }
                li { "External sharing: " (words(l.external_sharing.as_str())) }
                li { "Label " @if l.label_required { "required" } @else { "not required" } }
                li { "Disposal: at least " (words(l.disposal_method.as_str())) }
                li { "Review every " (l.review_interval_days) " days" }
            }
        }
        h2 { "Completeness" }
        @if a.completeness.complete {
            p { (badge("complete", "complete")) " The record has everything the policy asks of a " (words(x.kind.as_str())) " asset." }
        } @else {
            p { "The record still lacks:" }
            ul id="missing" { @for m in &a.completeness.missing { li { (label_of(x.kind, m)) } } }
        }
        @if let Some(d) = json.get("disposal") {
            h2 { "Disposal record" }
            dl.record {
                @if let Some(o) = d.as_object() {
                    @for (k, val) in o { @if !val.is_null() { dt { (words(k)) } dd { (shown_value(val)) } } }
                }
            }
        }
        (custody)
        h2 { "Relations" }
        @if relations.is_empty() { p.muted { "No relations." } } @else {
            ul {
                @for r in &relations {
                    li { (relation_line(r)) }
                }
            }
        }
        @if manages && !x.status.next().is_empty() {
            h2 { "Lifecycle" }
            (transition_form(v, x, sent, &errors))
        }
        h2 { "History" }
        ol.history id="history" {
            @for e in history.iter().rev() {
                li {
                    strong { (words(&e.action.replace('.', " "))) }
                    " · " (when(&e.occurred_at)) " · " span.muted { (e.actor) }
                    (diff(x.kind, &e.changes))
                }
            }
        }
    };
    Ok(page(
        Some(v),
        &format!("{} {}", x.asset_number, x.name),
        Nav::Assets,
        body,
    ))
}

fn licence_position(x: &Asset) -> Markup {
    let custodian_domain::asset::Licences { purchased, used } = x.licences();
    html! {
        h2 { "Licence position" }
        p id="licence-position" {
            @match (purchased, used) {
                (Some(p), Some(u)) if u > p => { strong { (u) " used of " (p) " purchased: " (u - p) " over." } }
                (Some(p), Some(u)) => { (u) " used of " (p) " purchased; " (p - u) " free." }
                (None, Some(u)) => { (u) " used; no limit recorded." }
                (Some(p), None) => { (p) " purchased; use not recorded." }
                (None, None) => { "Not recorded." }
            }
        }
    }
}

fn label_of(kind: AssetKind, name: &str) -> String {
    let common = common_label(kind, name);
    if !common.is_empty() {
        return common.to_string();
    }
    fields::field(name)
        .map(|d| d.label.to_string())
        .unwrap_or_else(|| words(name))
}

fn relation_line(r: &Value) -> Markup {
    let ty = r.get("type").and_then(Value::as_str).unwrap_or("");
    let other = r.get("other").or_else(|| r.get("asset"));
    let other_id = other
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        .or_else(|| r.get("to_id").and_then(Value::as_str))
        .unwrap_or("");
    let other_name = other
        .and_then(|o| o.get("name"))
        .and_then(Value::as_str)
        .unwrap_or(other_id);
    let direction = r.get("direction").and_then(Value::as_str).unwrap_or("");
    html! {
        @if direction == "in" { "is the target of " (words(ty)) " from " } @else { (words(ty)) " " }
        a href={ "/assets/" (other_id) } { (other_name) }
    }
}

/// An event's changes as readable lines: `Field: before → after`.
fn diff(kind: AssetKind, changes: &str) -> Markup {
    let parsed: Value = serde_json::from_str(changes).unwrap_or(Value::Null);
    let Some(o) = parsed.as_object() else {
        return html! {};
    };
    html! {
        ul.diff {
            @for (k, val) in o {
                @if k != "client" {
                    li {
                        (label_of(kind, k)) ": "
                        @match (val.get("before"), val.get("after")) {
                            (Some(b), Some(a)) => { del { (shown_value(b)) } " → " ins { (shown_value(a)) } }
                            (None, Some(a)) => { ins { (shown_value(a)) } }
                            (Some(b), None) => { del { (shown_value(b)) } }
                            (None, None) => { (shown_value(val)) }
                        }
                    }
                }
            }
        }
    }
}

fn transition_form(
    v: &Viewer,
    x: &Asset,
    sent: &HashMap<String, String>,
    errors: &Errors,
) -> Markup {
    let get = |k: &str| sent.get(k).cloned().unwrap_or_default();
    let options: Vec<(String, String)> = x
        .status
        .next()
        .iter()
        .filter(|s| **s != Status::Disposed)
        .map(|s| (s.as_str().to_string(), words(s.as_str())))
        .collect();
    html! {
        form.stack method="post" action={ "/assets/" (x.id) "/transition" } id="transition" {
            (csrf(v))
            input type="hidden" name="version" value=(x.version);
            (field("to", "Move to", None, Control::Select(options, true), &get("to"), true, errors))
            (field("reason", "Why", None, Control::Input("text"), &get("reason"), true, errors))
            (field("incident_ref", "Incident reference (lost or stolen)", Some("Required when the asset is lost or stolen."), Control::Input("text"), &get("incident_ref"), false, errors))
            (field("reported_at", "Reported at (UTC; lost or stolen)", None, Control::Input("datetime-local"), &get("reported_at"), false, errors))
            button type="submit" { "Move" }
        }
    }
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM`) as an RFC 3339 time in UTC.
fn utc(v: &str) -> String {
    let v = v.trim();
    if v.len() == 16 {
        format!("{v}:00Z")
    } else if v.len() == 10 {
        format!("{v}T00:00:00Z")
    } else {
        v.to_string()
    }
}

/// `POST /assets/{id}/reveal`: shows a secret field once, on the asset's page; the
/// request is an audit event.
pub async fn reveal(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let field = form.get("field").map(String::from);
    let shown = match s.app.reveal_secret(&v.ctx, id, field.as_deref()).await {
        Ok(r) => r,
        Err(e) => return error_page(Some(&v), e),
    };
    let value = shown
        .get("value")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match asset_page(
        &s,
        &v,
        id,
        Errors::none(),
        &HashMap::new(),
        field.map(|f| (f, value)),
    )
    .await
    {
        Ok(m) => ok(m),
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /assets/{id}/review`: records a review by the signed-in person.
pub async fn review(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    body.insert("asset_id".into(), json!(id));
    if let Some(n) = form.get("notes") {
        body.insert("notes".into(), json!(n));
    }
    if let Some(ver) = form.get("version").and_then(|x| x.parse::<i64>().ok()) {
        body.insert("version".into(), json!(ver));
    }
    match s.app.review_asset(&v.ctx, body).await {
        Ok(_) => super::done(&format!("/assets/{id}"), super::Done::Reviewed),
        Err(e @ (AppError::Invalid(_) | AppError::PreconditionFailed { .. })) => {
            match asset_page(&s, &v, id, Errors::from_app(&e), &form.values(), None).await {
                Ok(m) => html_response(StatusCode::UNPROCESSABLE_ENTITY, m),
                Err(e) => error_page(Some(&v), e),
            }
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /assets/{id}/transition`.
pub async fn transition(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let to = form.get("to").unwrap_or("");
    let mut body = Map::new();
    body.insert("to".into(), json!(to));
    if let Some(r) = form.get("reason") {
        body.insert("reason".into(), json!(r));
    }
    if let Some(n) = form.get("notes") {
        body.insert("notes".into(), json!(n));
    }
    if to == "disposed" {
        let mut d = Map::new();
        for k in [
            "method",
            "performed_by",
            "certificate_ref",
            "verified_by",
            "notes",
        ] {
            if let Some(val) = form.get(&format!("disposal.{k}")) {
                d.insert(k.into(), json!(val));
            }
        }
        if let Some(t) = form.get("disposal.performed_at") {
            d.insert("performed_at".into(), json!(utc(t)));
        }
        body.insert("disposal".into(), Value::Object(d));
    } else if matches!(to, "lost" | "stolen") {
        if let Some(r) = form.get("incident_ref") {
            body.insert("incident_ref".into(), json!(r));
        }
        if let Some(t) = form.get("reported_at") {
            body.insert("reported_at".into(), json!(utc(t)));
        }
    }
    let version = form.get("version").and_then(|x| x.parse::<i64>().ok());
    match s
        .app
        .transition_asset(&v.ctx, id, body, version.into())
        .await
    {
        Ok(_) => super::done(&format!("/assets/{id}"), super::Done::Moved),
        Err(e @ (AppError::Invalid(_) | AppError::PreconditionFailed { .. })) => {
            let mut errors = Errors::from_app(&e);
            let sent = form.values();
            if to == "disposed" {
                // The domain names the record's fields bare; the form, under `disposal.`.
                for err in &mut errors.0 {
                    if DISPOSAL_FIELDS.contains(&err.field.as_str()) {
                        err.field = format!("disposal.{}", err.field);
                    }
                }
                return match dispose_page(&s, &v, id, errors, &sent).await {
                    Ok(m) => html_response(StatusCode::UNPROCESSABLE_ENTITY, m),
                    Err(e) => error_page(Some(&v), e),
                };
            }
            match asset_page(&s, &v, id, errors, &sent, None).await {
                Ok(m) => html_response(StatusCode::UNPROCESSABLE_ENTITY, m),
                Err(e) => error_page(Some(&v), e),
            }
        }
        Err(e) => error_page(Some(&v), e),
    }
}

const DISPOSAL_FIELDS: &[&str] = &[
    "method",
    "performed_by",
    "performed_at",
    "certificate_ref",
    "verified_by",
    "notes",
];

/// `GET /assets/{id}/dispose`: the disposal record form.
pub async fn dispose_form(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    if !v.manages() {
        return v.refuse("dispose of assets");
    }
    match dispose_page(&s, &v, id, Errors::none(), &HashMap::new()).await {
        Ok(m) => ok(m),
        Err(e) => error_page(Some(&v), e),
    }
}

async fn dispose_page(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    errors: Errors,
    sent: &HashMap<String, String>,
) -> Result<Markup, AppError> {
    let a = s.app.get_asset(&v.ctx, id).await?;
    let x = &a.asset;
    let levels = s.app.list_classifications(&v.ctx).await?;
    let level = levels.iter().find(|l| l.key == x.classification);
    let get = |k: &str| sent.get(k).cloned().unwrap_or_default();
    let methods: Vec<(String, String)> = DisposalMethod::NAMES
        .iter()
        .map(|m| (m.to_string(), words(m)))
        .collect();
    let body = html! {
        h1 { "Dispose of " span.mono { (x.asset_number) } " " (x.name) }
        @if !x.status.can_become(Status::Disposed) {
            div.warning { p { "A " (words(x.status.as_str())) " asset cannot be disposed of: retire it first." } }
        }
        @if let Some(l) = level {
            p { "The " strong { (l.name) } " level asks for at least " strong { (words(l.disposal_method.as_str())) } "." }
        }
        (errors.summary())
        form.stack method="post" action={ "/assets/" (x.id) "/transition" } data-confirm="Dispose of this asset? A disposed asset stays in the register as it is." {
            (csrf(v))
            input type="hidden" name="to" value="disposed";
            input type="hidden" name="version" value=(x.version);
            (field("disposal.method", "Method", Some("clear, purge and destroy are NIST SP 800-88's; deleted is for data; returned to vendor for leased kit."), Control::Select(methods, true), &get("disposal.method"), true, &errors))
            (field("disposal.performed_by", "Performed by", None, Control::Input("text"), &get("disposal.performed_by"), true, &errors))
            (field("disposal.performed_at", "Performed at (UTC)", None, Control::Input("datetime-local"), &get("disposal.performed_at"), true, &errors))
            (field("disposal.certificate_ref", "Certificate of destruction", None, Control::Input("text"), &get("disposal.certificate_ref"), false, &errors))
            (field("disposal.verified_by", "Verified by", None, Control::Input("text"), &get("disposal.verified_by"), false, &errors))
            (field("disposal.notes", "Notes", None, Control::TextArea, &get("disposal.notes"), false, &errors))
            (field("reason", "Why", None, Control::Input("text"), &get("reason"), true, &errors))
            div.actions {
                button.danger type="submit" { "Dispose" }
                a href={ "/assets/" (x.id) } { "Cancel" }
            }
        }
    };
    Ok(page(
        Some(v),
        &format!(
            "{}Dispose of {}",
            if errors.any() { "Error: " } else { "" },
            x.asset_number
        ),
        Nav::Assets,
        body,
    ))
}

/// The fields a form for this kind shows, in order: `(name, label, control, required)`.
fn form_fields<'a>(
    kind: AssetKind,
    c: &'a Choices,
    creating: bool,
) -> Vec<(String, String, Control<'a>, bool, Option<&'static str>)> {
    let mut out: Vec<(String, String, Control<'a>, bool, Option<&'static str>)> = vec![
        (
            "name".into(),
            "Name".into(),
            Control::Input("text"),
            true,
            None,
        ),
        (
            "description".into(),
            "Description".into(),
            Control::TextArea,
            false,
            None,
        ),
        (
            "owner_id".into(),
            common_label(kind, "owner_id").into(),
            Control::Select(c.party_options(false), true),
            true,
            Some("The person, team or role accountable for the asset."),
        ),
        (
            "importance".into(),
            "Importance".into(),
            Control::Select(word_options(Importance::NAMES), true),
            true,
            None,
        ),
        (
            "classification".into(),
            "Classification".into(),
            Control::Select(c.level_options(), true),
            true,
            None,
        ),
    ];
    if creating {
        out.push((
            "status".into(),
            "Status".into(),
            Control::Select(word_options(&["planned", "in_stock", "in_use"]), true),
            false,
            Some("Where the asset is in its life now (later changes are lifecycle moves)."),
        ));
    }
    out.push((
        "location_id".into(),
        "Location".into(),
        Control::Select(c.location_options(), true),
        false,
        None,
    ));
    out.push((
        "tags".into(),
        "Tags".into(),
        Control::Input("text"),
        false,
        Some("Separate tags with ;"),
    ));
    out.push((
        "last_reviewed_by".into(),
        common_label(kind, "last_reviewed_by").into(),
        Control::Select(c.party_options(true), true),
        false,
        None,
    ));
    out.push((
        "last_reviewed_at".into(),
        common_label(kind, "last_reviewed_at").into(),
        Control::Input("date"),
        false,
        None,
    ));
    out.push((
        "next_review_at".into(),
        "Next review due".into(),
        Control::Input("date"),
        false,
        if creating {
            Some("Left empty, it follows from the classification's review interval.")
        } else {
            None
        },
    ));
    for def in fields::fields_of(kind) {
        out.push(kind_control(def));
    }
    for d in c
        .custom
        .iter()
        .filter(|d| d.asset_kinds.is_empty() || d.asset_kinds.contains(&kind))
    {
        let control = match d.field_type {
            CustomType::Boolean => Control::Select(
                vec![("true".into(), "yes".into()), ("false".into(), "no".into())],
                true,
            ),
            CustomType::Number => Control::Input("number"),
            CustomType::Date => Control::Input("date"),
            CustomType::Choice => Control::Select(
                d.choices.iter().map(|o| (o.clone(), o.clone())).collect(),
                true,
            ),
            CustomType::Text => Control::Input("text"),
        };
        out.push((
            format!("custom.{}", d.key),
            d.label.clone(),
            control,
            d.required,
            None,
        ));
    }
    out
}

fn kind_control<'a>(def: &FieldDef) -> (String, String, Control<'a>, bool, Option<&'static str>) {
    let (control, hint) = match def.ty {
        FieldType::Text => (Control::Input("text"), None),
        FieldType::Url => (Control::Input("url"), None),
        FieldType::Secret => (
            // Never filled in by a password manager with the user's own password.
            Control::Auto("password", "new-password"),
            Some("Stored sealed; left empty, the current value is kept."),
        ),
        FieldType::Bool => (
            Control::Select(
                vec![("true".into(), "yes".into()), ("false".into(), "no".into())],
                true,
            ),
            None,
        ),
        FieldType::Count | FieldType::Amount => (Control::Input("number"), None),
        FieldType::Date => (Control::Input("date"), None),
        FieldType::Choice(c) => (Control::Select(word_options(c), true), None),
        FieldType::TextList | FieldType::IpList | FieldType::MacList => {
            (Control::Input("text"), Some("Separate items with ;"))
        }
        FieldType::Transfers => (
            Control::Input("text"),
            Some("country: safeguard; country: safeguard"),
        ),
    };
    (
        def.name.to_string(),
        def.label.to_string(),
        control,
        false,
        hint,
    )
}

/// The form's current values: what was sent, else the asset's.
fn values_of(x: Option<&Asset>) -> HashMap<String, String> {
    let mut m = HashMap::new();
    let Some(x) = x else { return m };
    let j = x.to_json();
    for (k, val) in &j {
        m.insert(k.clone(), form_value(Some(val)));
    }
    m.insert("tags".into(), x.tags.join("; "));
    for (k, val) in &x.custom {
        m.insert(format!("custom.{k}"), form_value(Some(val)));
    }
    if let Some(t) = &x.last_reviewed_at {
        m.insert("last_reviewed_at".into(), t.format("%Y-%m-%d").to_string());
    }
    if let Some(s) = m.get("next_review_at").cloned() {
        m.insert("next_review_at".into(), date_only(&s));
    }
    m
}

#[allow(clippy::too_many_arguments)]
fn asset_form(
    v: &Viewer,
    kind: AssetKind,
    c: &Choices,
    action: &str,
    values: &HashMap<String, String>,
    errors: &Errors,
    version: Option<i64>,
    conflict: Option<Markup>,
) -> Markup {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let creating = version.is_none();
    html! {
        @if let Some(cf) = conflict { (cf) }
        (errors.summary_with(|f| {
            let l = label_of(kind, f);
            if l == words(f) { f.to_string() } else { l }
        }))
        form.stack method="post" action=(action) novalidate id="asset-form" {
            (csrf(v))
            input type="hidden" name="kind" value=(kind.as_str());
            @if let Some(ver) = version { input type="hidden" name="version" value=(ver); }
            @for (name, label, control, required, hint) in form_fields(kind, c, creating) {
                (field(&name, &label, hint, control, &get(&name), required, errors))
            }
            div.actions {
                button type="submit" { @if creating { "Register" } @else { "Save" } }
                a href="/assets" { "Cancel" }
            }
        }
    }
}

/// `GET /assets/new[?kind=…]`: the kind to register, then its form.
pub async fn new_form(State(s): State<AppState>, v: Viewer, Params(q): Params) -> Response {
    if !v.manages() {
        return v.refuse("register assets");
    }
    let kind = q.get("kind").and_then(|k| AssetKind::parse(k));
    let Some(kind) = kind else {
        let body = html! {
            h1 { "Register an asset" }
            p { "What kind of asset is it?" }
            ul {
                @for k in AssetKind::ALL {
                    li { a href={ "/assets/new?kind=" (k.as_str()) } { (words(k.as_str())) } " — " (kind_blurb(*k)) }
                }
            }
        };
        return ok(page(Some(&v), "Register an asset", Nav::Assets, body));
    };
    let c = match Choices::load(&s, &v).await {
        Ok(c) => c,
        Err(e) => return error_page(Some(&v), e),
    };
    let body = html! {
        h1 { "Register a " (words(kind.as_str())) " asset" }
        (asset_form(&v, kind, &c, "/assets/new", &HashMap::new(), &Errors::none(), None, None))
    };
    ok(page(Some(&v), "Register an asset", Nav::Assets, body))
}

fn kind_blurb(k: AssetKind) -> &'static str {
    match k {
        AssetKind::Physical => "laptops, phones, servers, network kit, media",
        AssetKind::Virtual => "virtual machines, containers, cloud instances",
        AssetKind::Data => "information: databases, file shares, records (with the ROPA fields)",
        AssetKind::Software => "applications and licences",
        AssetKind::Service => "external and internal services, SaaS",
        AssetKind::Intangible => "brands, patents, domains, know-how",
    }
}

/// The form's fields that are the asset's (not the CSRF token, version or kind).
fn asset_pairs(form: &Form, creating: bool) -> Vec<(String, String)> {
    form.0
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "_csrf" | "version"))
        .filter(|(k, _)| creating || k != "kind")
        // An empty secret keeps the stored one.
        .filter(|(k, val)| {
            !(val.trim().is_empty() && fields::field(k).is_some_and(|d| d.ty == FieldType::Secret))
        })
        .map(|(k, val)| {
            let val = match (k.as_str(), val.as_str()) {
                ("last_reviewed_at", d) if d.len() == 10 => format!("{d}T00:00:00Z"),
                _ => val.clone(),
            };
            (k.clone(), val)
        })
        .collect()
}

fn read_errors(errors: Vec<(String, String)>) -> Errors {
    Errors(
        errors
            .into_iter()
            .map(|(f, m)| FieldError::new(&f, m))
            .collect(),
    )
}

/// `POST /assets/new`.
pub async fn create(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let kind = form.get("kind").and_then(AssetKind::parse);
    let Some(kind) = kind else {
        return error_page(
            Some(&v),
            AppError::invalid("kind", "choose the kind of asset"),
        );
    };
    let c = match Choices::load(&s, &v).await {
        Ok(c) => c,
        Err(e) => return error_page(Some(&v), e),
    };
    let sent = form.values();
    let refused = |errors: Errors| {
        let body = html! {
            h1 { "Register a " (words(kind.as_str())) " asset" }
            (asset_form(&v, kind, &c, "/assets/new", &sent, &errors, None, None))
        };
        html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(Some(&v), "Register an asset", Nav::Assets, body),
        )
    };
    let input = match custodian_io::read::form_fields(&asset_pairs(&form, true), &c.custom, false) {
        Ok(m) => m,
        Err(errs) => return refused(read_errors(errs)),
    };
    match s.app.create_asset(&v.ctx, input).await {
        Ok(a) => super::done(&format!("/assets/{}", a.asset.id), super::Done::Created),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            refused(Errors::from_app(&e))
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `GET /assets/{id}/edit`.
pub async fn edit_form(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    let (a, c) = match (
        s.app.get_asset(&v.ctx, id).await,
        Choices::load(&s, &v).await,
    ) {
        (Ok(a), Ok(c)) => (a, c),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&v), e),
    };
    let c = c.with_named(&s, &v, &a.asset).await;
    let x = &a.asset;
    let body = html! {
        h1 { "Edit " span.mono { (x.asset_number) } " " (x.name) }
        (asset_form(&v, x.kind, &c, &format!("/assets/{}/edit", x.id), &values_of(Some(x)), &Errors::none(), Some(x.version), None))
    };
    ok(page(
        Some(&v),
        &format!("Edit {}", x.asset_number),
        Nav::Assets,
        body,
    ))
}

/// `POST /assets/{id}/edit`: saves the record, unless someone else changed it since the
/// form was opened; then both versions are shown and nothing is overwritten.
pub async fn update(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let (cur, c) = match (
        s.app.get_asset(&v.ctx, id).await,
        Choices::load(&s, &v).await,
    ) {
        (Ok(a), Ok(c)) => (a.asset, c),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&v), e),
    };
    let c = c.with_named(&s, &v, &cur).await;
    let version = form.get("version").and_then(|x| x.parse::<i64>().ok());
    let sent = form.values();
    let render = |errors: Errors, conflict: Option<Markup>, version: i64, status: StatusCode| {
        let body = html! {
            h1 { "Edit " span.mono { (cur.asset_number) } " " (cur.name) }
            (asset_form(&v, cur.kind, &c, &format!("/assets/{}/edit", cur.id), &sent, &errors, Some(version), conflict))
        };
        html_response(
            status,
            page(
                Some(&v),
                &format!("Error: edit {}", cur.asset_number),
                Nav::Assets,
                body,
            ),
        )
    };
    // The form shows the review's date only: the same date keeps the stored time.
    let mut pairs = asset_pairs(&form, false);
    if let Some(t) = &cur.last_reviewed_at {
        let stored = format!("{}T00:00:00Z", t.format("%Y-%m-%d"));
        pairs.retain(|(k, val)| !(k == "last_reviewed_at" && *val == stored));
    }
    let patch = match custodian_io::read::form_fields(&pairs, &c.custom, true) {
        Ok(m) => m,
        Err(errs) => {
            return render(
                read_errors(errs),
                None,
                version.unwrap_or(cur.version),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    match s
        .app
        .update_asset(&v.ctx, id, patch.clone(), version.into())
        .await
    {
        Ok(_) => super::done(&format!("/assets/{id}"), super::Done::Saved),
        Err(AppError::PreconditionFailed { .. }) => {
            // Someone else saved first: show what they changed against what was sent,
            // keep what this person typed, and let them save again over the new version.
            let theirs = values_of(Some(&cur));
            let differing: Vec<(String, String, String)> = patch
                .keys()
                .filter(|k| *k != "custom" && *k != "external_ids")
                .filter_map(|k| {
                    let mine = sent.get(k).cloned().unwrap_or_default();
                    let now = theirs.get(k).cloned().unwrap_or_default();
                    (mine.trim() != now.trim()).then(|| (label_of(cur.kind, k), now, mine))
                })
                .collect();
            let conflict = html! {
                div.conflict role="alert" id="conflict" {
                    h2 { "Someone else changed this asset while you were editing" }
                    p { "It is now at version " (cur.version) " (last changed " (when(&cur.updated_at)) "). Nothing you sent was saved. Where the two differ:" }
                    table {
                        thead { tr { th scope="col" { "Field" } th scope="col" { "Now stored" } th scope="col" { "Yours" } } }
                        tbody { @for (f, now, mine) in &differing { tr { td { (f) } td { (now) } td { (mine) } } } }
                    }
                    p { "Save again to replace the stored values with yours, or " a href={ "/assets/" (cur.id) } { "look at the asset" } " first." }
                }
            };
            render(
                Errors::none(),
                Some(conflict),
                cur.version,
                StatusCode::CONFLICT,
            )
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => render(
            Errors::from_app(&e),
            None,
            version.unwrap_or(cur.version),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => error_page(Some(&v), e),
    }
}

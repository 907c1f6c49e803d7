//! Stocktake pages: the list with a form to start one, and a session's page, where a
//! keyboard-wedge scanner (or a person) enters asset numbers or label links one after
//! another: each entry is sent with Enter and the page comes back with the answer read
//! out and the box ready for the next.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde_json::{json, Map};
use uuid::Uuid;

use custodian_app::stocktakes::{ReportPart, StocktakeReport};
use custodian_app::AppError;
use custodian_domain::asset::Asset;
use custodian_domain::stocktake::{
    ReportSection, ScanResult, Stocktake, StocktakeScan, StocktakeStatus,
};
use custodian_store::{Cursor, StocktakeQuery};

use super::{
    badge, csrf, error_page, field, html_response, page, query_string, see_other, when, words,
    Control, Errors, Form, Nav, PageId, Viewer,
};
use crate::AppState;

/// Lines of each section shown at once.
const SHOWN: u32 = 100;

/// The stocktake pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stocktakes", get(list).post(start))
        .route("/stocktakes/{id}", get(show))
        .route("/stocktakes/{id}/scans", post(scan))
        .route("/stocktakes/{id}/close", post(close))
}

/// Every location's name, for choosing and showing.
async fn location_names(s: &AppState, v: &Viewer) -> Result<Vec<(Uuid, String)>, AppError> {
    Ok(s.app
        .list_locations(&v.ctx, 500, None)
        .await?
        .items
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect())
}

fn name_in(names: &[(Uuid, String)], id: Option<Uuid>) -> String {
    match id {
        None => "—".into(),
        Some(id) => names
            .iter()
            .find(|(l, _)| *l == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| id.to_string()),
    }
}

fn status_badge(t: &Stocktake) -> Markup {
    badge(
        match t.status {
            StocktakeStatus::Open => "open",
            StocktakeStatus::Closed => "closed",
        },
        t.status.as_str(),
    )
}

fn start_form(
    v: &Viewer,
    locations: &[(Uuid, String)],
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Markup {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let options: Vec<(String, String)> = locations
        .iter()
        .map(|(id, n)| (id.to_string(), n.clone()))
        .collect();
    let include = if values.is_empty() {
        "true".to_string()
    } else {
        get("include_sublocations")
    };
    html! {
        h2 { "Start a stocktake" }
        (errors.summary())
        form.stack method="post" action="/stocktakes" id="start-stocktake" novalidate {
            (csrf(v))
            (field("location_id", "Location", Some("What is registered here is what the count expects."), Control::Select(options, true), &get("location_id"), true, errors))
            (field("include_sublocations", "Include the places inside it", None, Control::Check, &include, false, errors))
            (field("notes", "Notes", None, Control::Input("text"), &get("notes"), false, errors))
            div.actions { button type="submit" { "Start" } }
        }
    }
}

async fn list_page(
    s: &AppState,
    v: &Viewer,
    cursor: Option<Cursor>,
    values: &HashMap<String, String>,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let q = StocktakeQuery {
        limit: 50,
        cursor,
        ..Default::default()
    };
    let (list, next, locations) = match (
        s.app.list_stocktakes(&v.ctx, q).await,
        location_names(s, v).await,
    ) {
        (Ok(l), Ok(n)) => (l.items, l.next_cursor, n),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(v), e),
    };
    let body = html! {
        h1 { "Stocktakes" }
        p { "A stocktake counts what is at a location: scan each asset's label, or type its number, and the report shows what was found, what is missing and what turned up unexpectedly. Found devices are marked checked by you, today." }
        @if v.manages() { (start_form(v, &locations, values, errors)) }
        h2 { "Sessions" }
        @if list.is_empty() { p.muted { "No stocktakes yet." } } @else {
            table id="stocktakes" {
                thead { tr { th { "Location" } th { "Status" } th { "Started" } th { "Closed" } } }
                tbody {
                    @for t in &list {
                        tr {
                            td { a href={ "/stocktakes/" (t.id) } { (name_in(&locations, Some(t.location_id))) } }
                            td { (status_badge(t)) }
                            td { (when(&t.started_at)) }
                            td { @if let Some(c) = &t.closed_at { (when(c)) } @else { "—" } }
                        }
                    }
                }
            }
            @if let Some(c) = next { p { a href={ "/stocktakes" (query_string(&[("cursor", c.encode().as_str())])) } { "Older stocktakes" } } }
        }
    };
    html_response(status, page(Some(v), "Stocktakes", Nav::Stocktakes, body))
}

/// `GET /stocktakes`.
pub async fn list(State(s): State<AppState>, v: Viewer, uri: Uri) -> Response {
    let q = crate::extract::form_urlencoded(uri.query().unwrap_or("")).unwrap_or_default();
    let cursor = q
        .iter()
        .find(|(k, _)| k == "cursor")
        .and_then(|(_, c)| Cursor::decode(c).ok());
    list_page(
        &s,
        &v,
        cursor,
        &HashMap::new(),
        &Errors::none(),
        StatusCode::OK,
    )
    .await
}

/// `POST /stocktakes`: starts one and goes to it.
pub async fn start(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let mut body = body_of(&form, &["location_id", "notes"]);
    body.insert(
        "include_sublocations".into(),
        json!(form.get("include_sublocations") == Some("true")),
    );
    match s.app.start_stocktake(&v.ctx, body).await {
        Ok(t) => super::done(&format!("/stocktakes/{}", t.id), super::Done::Created),
        Err(e @ AppError::Invalid(_)) => {
            list_page(
                &s,
                &v,
                None,
                &form.values(),
                &Errors::from_app(&e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// What the last entry came to: the scan the redirect after it names, read back.
struct Last {
    scan: StocktakeScan,
    asset: Option<Asset>,
    repeat: bool,
}

impl Last {
    async fn from_query(s: &AppState, v: &Viewer, t: Uuid, q: &[(String, String)]) -> Option<Last> {
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let id = get("scan").and_then(|x| Uuid::parse_str(x).ok())?;
        let (scan, asset) = s.app.stocktake_scan(&v.ctx, t, id).await.ok()?;
        Some(Last {
            scan,
            asset,
            repeat: get("repeat") == Some("true"),
        })
    }
}

fn section_title(s: ReportSection) -> &'static str {
    match s {
        ReportSection::Found => "Found",
        ReportSection::Missing => "Missing",
        ReportSection::Unexpected => "Unexpected",
        ReportSection::Unknown => "Not in the register",
    }
}

fn part_table(
    t: &Stocktake,
    p: &ReportPart,
    names: &HashMap<Uuid, String>,
    locations: &[(Uuid, String)],
) -> Markup {
    let who = |id: Option<Uuid>| {
        id.and_then(|i| names.get(&i).cloned())
            .unwrap_or_else(|| "—".into())
    };
    let more = p.next_cursor.map(|c: Cursor| {
        format!(
            "/stocktakes/{}{}",
            t.id,
            query_string(&[
                ("section", p.section.as_str()),
                ("cursor", c.encode().as_str())
            ])
        )
    });
    html! {
        @if p.lines.is_empty() { p.muted { "None." } } @else {
            div.table-wrap {
                table id={ "report-" (p.section.as_str()) } {
                    thead { tr {
                        @if p.section == ReportSection::Unknown { th { "Entered" } } @else { th { "Asset" } th { "Name" } }
                        @match p.section {
                            ReportSection::Missing => { th { "Location" } th { "Status" } th { "Last checked" } }
                            ReportSection::Unexpected => { th { "Registered at" } th { "Status" } th { "Scanned" } }
                            _ => { th { "Scanned" } th { "By" } }
                        }
                    } }
                    tbody {
                        @for l in &p.lines {
                            tr {
                                @if let Some(a) = &l.asset {
                                    td { a.mono href={ "/assets/" (a.id) } { (a.asset_number) } }
                                    td { (a.name) }
                                } @else if let Some(sc) = &l.scan {
                                    td.mono { (sc.entered) }
                                }
                                @match (p.section, &l.asset, &l.scan) {
                                    (ReportSection::Missing, Some(a), _) => {
                                        td { (name_in(locations, a.location_id)) }
                                        td { (words(a.status.as_str())) }
                                        td { @if let Some(c) = &a.last_reviewed_at { (when(c)) } @else { span.muted { "never" } } }
                                    }
                                    (ReportSection::Unexpected, a, Some(sc)) => {
                                        td { (name_in(locations, sc.registered_location_id)) }
                                        td { @if let Some(a) = a { (words(a.status.as_str())) } }
                                        td { (when(&sc.scanned_at)) }
                                    }
                                    (_, _, Some(sc)) => {
                                        td { (when(&sc.scanned_at)) }
                                        td { (who(sc.scanned_by)) }
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(m) = more { p { a href=(m) { "More " (section_title(p.section).to_lowercase()) } } }
        }
    }
}

async fn session_page(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    uri: &Uri,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let q = crate::extract::form_urlencoded(uri.query().unwrap_or("")).unwrap_or_default();
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let only = get("section").and_then(ReportSection::parse);
    let cursor = match (only, get("cursor")) {
        (Some(_), Some(c)) => Cursor::decode(c).ok(),
        _ => None,
    };
    let report: StocktakeReport = match s
        .app
        .stocktake_report(&v.ctx, id, only, SHOWN, cursor)
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(Some(v), e),
    };
    let locations = match location_names(s, v).await {
        Ok(l) => l,
        Err(e) => return error_page(Some(v), e),
    };
    let t = &report.stocktake;
    let mut people: Vec<Uuid> = [t.started_by, t.closed_by].into_iter().flatten().collect();
    for p in &report.parts {
        people.extend(p.lines.iter().filter_map(|l| l.scan.as_ref()?.scanned_by));
    }
    let names = s.app.party_names(&v.ctx, &people).await.unwrap_or_default();
    let last = Last::from_query(s, v, id, &q).await;
    let place = name_in(&locations, Some(t.location_id));
    let c = report.counts;
    let open = t.status == StocktakeStatus::Open;
    let title = format!("Stocktake: {place}");
    let body = html! {
        h1 { (title) }
        p {
            (status_badge(t)) " started " (when(&t.started_at))
            @if let Some(b) = t.started_by { " by " (names.get(&b).cloned().unwrap_or_default()) }
            @if t.include_sublocations { " · places inside it included" }
            @if let Some(c) = &t.closed_at { " · closed " (when(c)) }
        }
        @if let Some(n) = &t.notes { p { (n) } }
        (errors.summary())
        div role="status" aria-live="polite" id="scan-result" {
            @if let Some(l) = &last {
                div class={ "scan-result " (l.scan.result.as_str()) } {
                    @if let Some(a) = &l.asset { strong { (a.asset_number) } " " (a.name) ": " } @else { strong { (l.scan.entered) } ": " }
                    @match l.scan.result {
                        ScanResult::Found => { "found" }
                        ScanResult::Unexpected => {
                            "not expected here (registered at " (name_in(&locations, l.scan.registered_location_id))
                            @if let Some(a) = &l.asset { ", " (words(a.status.as_str())) }
                            ")"
                        }
                        ScanResult::Unknown => { "matches no asset in the register" }
                    }
                    @if l.repeat { " — scanned already, counted once" }
                }
            }
        }
        ul.tally id="counts" {
            li { strong { (c.found) } " of " (c.expected) " found" }
            li { strong { (c.missing) } " missing" }
            li { strong { (c.unexpected) } " unexpected" }
            li { strong { (c.unknown) } " not in the register" }
        }
        @if open && v.manages() {
            form.scan-form method="post" action={ "/stocktakes/" (t.id) "/scans" } id="scan" autocomplete="off" {
                (csrf(v))
                div.field {
                    label for="f-entry" { "Scan a label or type an asset number" }
                    input type="text" id="f-entry" name="entry" autofocus required
                        autocomplete="off" autocapitalize="characters" spellcheck="false"
                        aria-describedby="f-entry-help";
                    p.hint id="f-entry-help" { "Enter sends it; the box is ready for the next one." }
                }
                button type="submit" { "Record" }
            }
        }
        @for p in &report.parts {
            h2 id={ "section-" (p.section.as_str()) } { (section_title(p.section)) }
            (part_table(t, p, &names, &locations))
        }
        @if only.is_some() { p { a href={ "/stocktakes/" (t.id) } { "The whole report" } } }
        @if open && v.manages() {
            form.stack method="post" action={ "/stocktakes/" (t.id) "/close" } id="close-stocktake"
                data-confirm="Close this stocktake? What is missing now is fixed in its report, and nothing more is scanned in it." {
                (csrf(v))
                input type="hidden" name="version" value=(t.version);
                (field("notes", "Closing notes", None, Control::Input("text"), "", false, errors))
                div.actions { button.secondary type="submit" { "Close the stocktake" } }
            }
        }
        p { a href="/stocktakes" { "All stocktakes" } }
    };
    html_response(status, page(Some(v), &title, Nav::Stocktakes, body))
}

/// `GET /stocktakes/{id}`.
pub async fn show(State(s): State<AppState>, v: Viewer, PageId(id): PageId, uri: Uri) -> Response {
    session_page(&s, &v, id, &uri, &Errors::none(), StatusCode::OK).await
}

/// The form's non-blank fields among `keys`, as a request body.
fn body_of(form: &Form, keys: &[&str]) -> Map<String, serde_json::Value> {
    keys.iter()
        .filter_map(|k| form.get(k).map(|v| ((*k).to_string(), json!(v))))
        .collect()
}

/// A refused scan or closing: the session's page again with the reasons, or an error page.
async fn refused(s: &AppState, v: &Viewer, id: Uuid, uri: &Uri, e: AppError) -> Response {
    let status = match &e {
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => return error_page(Some(v), e),
    };
    session_page(s, v, id, uri, &Errors::from_app(&e), status).await
}

/// `POST /stocktakes/{id}/scans`: records the entry and comes back to the page with the
/// answer.
pub async fn scan(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    uri: Uri,
    form: Form,
) -> Response {
    match s
        .app
        .scan_stocktake(&v.ctx, id, body_of(&form, &["entry"]))
        .await
    {
        Ok(o) => {
            let scan = o.scan.id.to_string();
            let repeat = if o.repeat { "true" } else { "" };
            see_other(&format!(
                "/stocktakes/{id}{}",
                query_string(&[("scan", scan.as_str()), ("repeat", repeat)])
            ))
        }
        Err(e) => refused(&s, &v, id, &uri, e).await,
    }
}

/// `POST /stocktakes/{id}/close`.
pub async fn close(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    uri: Uri,
    form: Form,
) -> Response {
    let version = form.get("version").and_then(|x| x.parse().ok());
    match s
        .app
        .close_stocktake(&v.ctx, id, body_of(&form, &["notes"]), version.into())
        .await
    {
        Ok(_) => super::done(&format!("/stocktakes/{id}"), super::Done::Closed),
        Err(e) => refused(&s, &v, id, &uri, e).await,
    }
}

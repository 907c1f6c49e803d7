//! The audit trail page (`/audit`): a history, newest first, with names in place of ids,
//! filtered by who acted, what was done, the record and the time; its export as CSV; and
//! the check of its hash chain.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::Value;

use custodian_app::audit::Verification;
use custodian_app::history::HistoryQuery;
use custodian_app::{App, AppError};
use custodian_domain::audit::Event;

use super::{error_page, ok, page, when, words, Nav, Viewer};
use crate::extract::Params;
use crate::AppState;

/// Events on one page of the history.
const PAGE: u32 = 100;

/// The filters the page and its export take.
const FILTERS: &[&str] = &["actor", "action", "entity_type", "entity_id", "from", "to"];

/// The record types of the trail, for the filter.
const RECORD_TYPES: &[&str] = &[
    "asset",
    "party",
    "location",
    "classification",
    "policy",
    "acknowledgement",
    "assignment",
    "exception",
    "offboarding",
    "attestation",
    "stocktake",
    "user",
    "token",
    "session",
    "report",
    "sample",
    "settings",
];

/// A day or a time, as the form or a link gives it; a day alone is its start (`from`) or
/// its end (`to`), in UTC.
fn read_time(v: &str, end_of_day: bool) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    if let Ok(d) = v.parse::<chrono::NaiveDate>() {
        let t = if end_of_day {
            d.and_hms_micro_opt(23, 59, 59, 999_999)
        } else {
            d.and_hms_opt(0, 0, 0)
        };
        if let Some(t) = t {
            return Ok(t.and_utc());
        }
    }
    custodian_domain::value::parse_timestamp(v).map_err(|_| {
        AppError::invalid("from", format!("{v:?} is not a day (YYYY-MM-DD) or a time"))
    })
}

/// The history asked for by the page's query, and the filters as given (for links).
async fn query(
    app: &App,
    q: &HashMap<String, String>,
) -> Result<(HistoryQuery, Vec<(String, String)>), AppError> {
    let given = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut kept = Vec::new();
    for k in FILTERS {
        if let Some(v) = given(k) {
            kept.push((k.to_string(), v));
        }
    }
    let from = match given("from") {
        Some(v) => Some(read_time(&v, false)?),
        None => None,
    };
    let to = match given("to") {
        Some(v) => Some(read_time(&v, true).map_err(|_| {
            AppError::invalid("to", format!("{v:?} is not a day (YYYY-MM-DD) or a time"))
        })?),
        None => None,
    };
    let mut entity_id = given("entity_id");
    let entity_type = given("entity_type");
    // An asset is found by its number as well as its id.
    if let (Some(id), Some("asset")) = (&entity_id, entity_type.as_deref()) {
        if id.parse::<uuid::Uuid>().is_err() {
            let found = app
                .store()
                .find_assets(
                    custodian_store::MatchKey::AssetNumber,
                    std::slice::from_ref(id),
                )
                .await?;
            entity_id = Some(found.first().map_or(id.clone(), |a| a.id.to_string()));
        }
    }
    let before = given("before").and_then(|b| b.parse::<i64>().ok());
    Ok((
        HistoryQuery {
            limit: PAGE,
            before,
            actor: given("actor"),
            action: given("action"),
            entity_type,
            entity_id,
            from,
            to,
        },
        kept,
    ))
}

/// A value as people read it: an id by its name when known.
fn shown(v: &Value, names: &HashMap<String, String>) -> String {
    match v {
        Value::String(s) => names.get(s).cloned().unwrap_or_else(|| s.clone()),
        Value::Null => "—".into(),
        Value::Array(l) => l
            .iter()
            .map(|x| shown(x, names))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// What an event changed, a field per entry: `field: before → after`, names for ids.
pub fn changes_text(changes: &str, names: &HashMap<String, String>) -> Vec<String> {
    let parsed: Value = serde_json::from_str(changes).unwrap_or(Value::Null);
    let Some(o) = parsed.as_object() else {
        return Vec::new();
    };
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Array(l) => l.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    };
    o.iter()
        .filter(|(k, v)| {
            // A record's creation lists its fields: the empty ones say nothing.
            k.as_str() != "client"
                && !(v.get("before").is_none() && v.get("after").is_some_and(empty))
        })
        .map(|(k, v)| {
            let field = words(k);
            match (v.get("before"), v.get("after")) {
                (Some(b), Some(a)) => format!("{field}: {} → {}", shown(b, names), shown(a, names)),
                (None, Some(a)) => format!("{field}: {}", shown(a, names)),
                (Some(b), None) => format!("{field}: was {}", shown(b, names)),
                (None, None) => format!("{field}: {}", shown(v, names)),
            }
        })
        .collect()
}

/// Where a record's page is, if it has one.
fn record_link(e: &Event) -> Option<String> {
    match e.entity_type.as_str() {
        "asset" => Some(format!("/assets/{}", e.entity_id)),
        "party" => Some(format!("/people/{}", e.entity_id)),
        "policy" => Some(format!("/policies/{}", e.entity_id)),
        "exception" => Some(format!("/exceptions/{}", e.entity_id)),
        "offboarding" => Some(format!("/offboarding/{}", e.entity_id)),
        _ => None,
    }
}

/// The page's query with the filters kept and, maybe, one more pair (`?…`, or nothing).
fn link(params: &[(String, String)], extra: Option<(&str, String)>) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Some((k, v)) = &extra {
        pairs.push((k, v.as_str()));
    }
    super::query_string(&pairs)
}

/// `GET /audit`: the trail as a history, newest first; `verify=1` checks its chain.
pub async fn audit(State(s): State<AppState>, v: Viewer, Params(q): Params) -> Response {
    let (hq, kept) = match query(&s.app, &q).await {
        Ok(x) => x,
        Err(e) => return error_page(Some(&v), e),
    };
    let history = match s.app.audit_history(&v.ctx, &hq).await {
        Ok(h) => h,
        Err(e) => return error_page(Some(&v), e),
    };
    let events = &history.events;
    let names = s.app.names_in(&v.ctx, events).await.unwrap_or_default();
    let verification = if q.contains_key("verify") {
        match s.app.verify_audit(&v.ctx).await {
            Ok(r) => Some(r),
            Err(e) => return error_page(Some(&v), e),
        }
    } else {
        None
    };
    let accounts = s
        .app
        .list_users(&v.ctx, 500, None)
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let older = history.next;
    let chosen = |k: &str| kept.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let body = html! {
        h1 { "Audit trail" }
        (verification_box(verification.as_ref()))
        form.filters method="get" action="/audit" id="audit-filters" {
            label for="f-actor" { "Who" }
            select id="f-actor" name="actor" {
                option value="" { "Anyone" }
                option value="system" selected[chosen("actor").as_deref() == Some("system")] { "Custodian itself" }
                option value="local" selected[chosen("actor").as_deref() == Some("local")] { "The command line" }
                @for u in &accounts {
                    @let value = format!("user:{}", u.id);
                    option value=(value) selected[chosen("actor").as_deref() == Some(value.as_str())] { (u.email) }
                }
            }
            label for="f-action" { "What (an action, or its start: asset.)" }
            input id="f-action" name="action" list="actions" value=[chosen("action")];
            datalist id="actions" {
                @for a in ["asset.", "asset.created", "asset.updated", "asset.transitioned", "party.", "policy.", "assignment.", "exception.", "offboarding.", "auth.", "user.", "report.", "evidence.downloaded", "sample.drawn"] {
                    option value=(a) {}
                }
            }
            label for="f-type" { "Record type" }
            select id="f-type" name="entity_type" {
                option value="" { "Any" }
                @for t in RECORD_TYPES {
                    option value=(t) selected[chosen("entity_type").as_deref() == Some(*t)] { (t) }
                }
            }
            label for="f-record" { "Record (its id, or an asset's number)" }
            input id="f-record" name="entity_id" value=[chosen("entity_id")];
            label for="f-from" { "From (UTC)" }
            input id="f-from" name="from" type="date" value=[chosen("from")];
            label for="f-to" { "To (UTC)" }
            input id="f-to" name="to" type="date" value=[chosen("to")];
            button type="submit" { "Show" }
            " " a href="/audit" { "Clear" }
        }
        p {
            a id="audit-export" href={ "/audit/export" (link(&kept, None)) } { "Export these events (CSV)" }
        }
        @if events.is_empty() {
            p.muted id="events" {
                @if older.is_some() {
                    "No event matches among events " (history.examined.0) " to " (history.examined.1) ": older events may."
                } @else {
                    "No event matches."
                }
            }
        } @else {
            div.table-wrap { table.responsive id="events" {
                thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Record" } th scope="col" { "Changes" } } }
                tbody { @for e in events { tr {
                    td data-label="When" { (when(&e.occurred_at)) br; span.muted { "#" (e.seq) } }
                    td data-label="Who" { (names.get(&e.actor).cloned().unwrap_or_else(|| e.actor.clone())) }
                    td data-label="What" { span.mono { (e.action) } }
                    td data-label="Record" { (record_cell(e, &names)) }
                    td data-label="Changes" {
                        @let lines = changes_text(&e.changes, &names);
                        @if !lines.is_empty() {
                            ul.diff { @for l in lines.iter().take(8) { li { (l) } } @if lines.len() > 8 { li.muted { "… and " (lines.len() - 8) " more" } } }
                        }
                    }
                } } }
            } }
        }
        nav.pager aria-label="Pages" {
            @if hq.before.is_some() { a href={ "/audit" (link(&kept, None)) } { "The newest events" } }
            @if let Some(n) = older { a href={ "/audit" (link(&kept, Some(("before", n.to_string())))) } rel="next" { "Older events" } }
        }
    };
    ok(page(Some(&v), "Audit trail", Nav::Audit, body))
}

fn record_cell(e: &Event, names: &HashMap<String, String>) -> Markup {
    let label = match names.get(&e.entity_id) {
        Some(n) => format!("{} {n}", e.entity_type),
        None => format!("{} {}", e.entity_type, e.entity_id),
    };
    html! {
        @match record_link(e) {
            Some(href) => a href=(href) { (label) },
            None => (label),
        }
    }
}

fn verification_box(v: Option<&Verification>) -> Markup {
    html! {
        @match v {
            Some(Verification::Intact { events, head_seq, head_hash, key_id }) => div.notice id="verification" role="status" {
                p { strong { "The chain is intact." } " " (events) " events and their seals checked under key " span.mono { (key_id) } "; the head is event " (head_seq) " with hash " span.mono { (head_hash) } "." }
                p { "Keep this head outside the register: a later check must reach it or go past it." }
            },
            Some(Verification::Broken(b)) => div.error-summary id="verification" role="alert" {
                h2 { "The chain is broken" }
                p { "At event " (b.seq) ": " (b.reason) }
            },
            None => form method="get" action="/audit" {
                button type="submit" name="verify" value="1" { "Verify the chain" }
            },
        }
    }
}

/// `GET /audit/export`: the events the page's filters select, every one, newest first, as
/// CSV with names (auditors and admins); cells guarded against formulas.
pub async fn export(State(s): State<AppState>, v: Viewer, Params(q): Params) -> Response {
    let (mut hq, _) = match query(&s.app, &q).await {
        Ok(x) => x,
        Err(e) => return error_page(Some(&v), e),
    };
    hq.limit = 500;
    // The first page is read before answering, so a refusal is a page, not a broken file.
    let first = match s.app.audit_history(&v.ctx, &hq).await {
        Ok(h) => h,
        Err(e) => return error_page(Some(&v), e),
    };
    let head = custodian_io::report::guarded_line(&[
        "Event",
        "When",
        "Who",
        "What",
        "Record type",
        "Record",
        "Changes",
        "Hash",
    ]);
    let state = (s.app.clone(), v.ctx.clone(), hq, Some(first), Some(head));
    let stream = futures_util::stream::unfold(state, |(app, ctx, mut hq, page, head)| async move {
        if let Some(h) = head {
            return Some((Ok::<_, std::io::Error>(h), (app, ctx, hq, page, None)));
        }
        // A failure ends the download with an error, so a cut-short file is not taken for
        // the whole.
        let failed = |e: AppError, app, ctx, hq| {
            Some((
                Err(std::io::Error::other(e.to_string())),
                (app, ctx, hq, None, None),
            ))
        };
        let page = match page {
            Some(p) => p,
            None => match hq.before {
                Some(_) => match app.audit_history(&ctx, &hq).await {
                    Ok(h) => h,
                    Err(e) => {
                        let stop = HistoryQuery { before: None, ..hq };
                        return failed(e, app, ctx, stop);
                    }
                },
                None => return None,
            },
        };
        let events = page.events;
        let names = match app.names_in(&ctx, &events).await {
            Ok(n) => n,
            Err(e) => {
                let stop = HistoryQuery { before: None, ..hq };
                return failed(e, app, ctx, stop);
            }
        };
        let mut out = Vec::new();
        for e in &events {
            let record = names
                .get(&e.entity_id)
                .cloned()
                .unwrap_or_else(|| e.entity_id.clone());
            out.extend(custodian_io::report::guarded_line(&[
                &e.seq.to_string(),
                &custodian_domain::value::format_timestamp(&e.occurred_at),
                &names
                    .get(&e.actor)
                    .cloned()
                    .unwrap_or_else(|| e.actor.clone()),
                &e.action,
                &e.entity_type,
                &record,
                &changes_text(&e.changes, &names).join("; "),
                &e.hash,
            ]));
        }
        // A page that matched nothing goes on to the next window; the file ends with the
        // trail.
        hq.before = page.next;
        if out.is_empty() && hq.before.is_none() {
            return None;
        }
        Some((Ok(out), (app, ctx, hq, None, None)))
    });
    super::csv_download(Body::from_stream(stream), "audit-trail.csv")
}

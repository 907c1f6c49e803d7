//! `/compliance`: are we compliant, and what is wrong? Status and pass rate per framework,
//! control and check; the trend drawn on the server; the findings, filtered, each with what
//! to do. Also the findings parts of other pages: an asset's, and a person's "yours to fix".

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use chrono::TimeDelta;
use maud::{html, Markup};
use uuid::Uuid;

use custodian_app::compliance::{Kpis, TrendPoint};
use custodian_domain::compliance::crosswalk;
use custodian_domain::compliance::kpi::{self, ControlStatus, Tally};
use custodian_domain::compliance::{check, FindingStatus, SubjectType, CHECKS};
use custodian_store::{Cursor, Finding, FindingQuery};

use super::assets::list::pairs;
use super::{badge, csrf, error_page, ok, page, when, Nav, Viewer};
use crate::AppState;

fn rate(t: &Tally) -> String {
    t.pass_rate()
        .map(|r| format!("{:.1} %", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn status_badge(s: ControlStatus) -> Markup {
    let kind = match s {
        ControlStatus::Pass => "complete",
        ControlStatus::Fail => "missing",
        ControlStatus::Manual => "status",
    };
    badge(kind, s.as_str())
}

/// Where a finding's subject lives.
pub fn subject_href(f: &Finding) -> String {
    match f.subject_type {
        SubjectType::Asset => format!("/assets/{}", f.subject_id),
        SubjectType::Person => format!("/people/{}", f.subject_id),
        SubjectType::Policy => "/policies".into(),
        SubjectType::Exception => format!("/exceptions/{}", f.subject_id),
        SubjectType::Offboarding => format!("/offboardings/{}", f.subject_id),
    }
}

/// A table of findings: what fails, about what, what to do, who acts.
pub async fn findings_table(s: &AppState, v: &Viewer, items: &[Finding], id: &str) -> Markup {
    let names = s.app.subject_names(&v.ctx, items).await.unwrap_or_default();
    html! {
        table id=(id) {
            thead { tr { th { "Check" } th { "Subject" } th { "What is wrong" } th { "What to do" } th { "To act" } th { "Since" } th { "Status" } } }
            tbody {
                @for f in items {
                    @let c = check(&f.check_id);
                    tr {
                        td { (c.map_or(f.check_id.as_str(), |c| c.title)) br; span.mono.muted { (f.check_id) } }
                        td { a href=(subject_href(f)) { (names.get(&f.subject_id).cloned().unwrap_or_else(|| f.subject_id.to_string())) } }
                        td { (f.message) }
                        td { (c.map_or("", |c| c.remediation)) }
                        td { @if let Some(o) = f.owner_id { (names.get(&o).cloned().unwrap_or_else(|| o.to_string())) } @else { "Admins" } }
                        td { (f.first_failed_at.format("%Y-%m-%d")) }
                        td { (badge(if f.status == FindingStatus::Open { "missing" } else { "status" }, f.status.as_str())) }
                    }
                }
            }
        }
    }
}

/// The trend as an SVG line of the pass rate, readable without JavaScript, with the
/// figures beside it as a table.
pub fn chart(points: &[TrendPoint], what: &str) -> Markup {
    const W: f64 = 640.0;
    const H: f64 = 200.0;
    const PAD: f64 = 36.0;
    let n = points.len();
    let x = |i: usize| {
        if n <= 1 {
            W / 2.0
        } else {
            PAD + (W - 2.0 * PAD) * i as f64 / (n - 1) as f64
        }
    };
    let y = |r: f64| H - PAD - (H - 2.0 * PAD) * r;
    // Runs of days with a rate, joined; a day with nothing measured breaks the line.
    let mut runs: Vec<Vec<String>> = vec![vec![]];
    for (i, p) in points.iter().enumerate() {
        match p.tally.pass_rate() {
            Some(r) => runs
                .last_mut()
                .map(|l| l.push(format!("{:.1},{:.1}", x(i), y(r))))
                .unwrap_or(()),
            None => runs.push(vec![]),
        }
    }
    let desc = match (points.first(), points.last()) {
        (Some(a), Some(b)) => format!(
            "Pass rate of {what} from {} ({}) to {} ({}).",
            a.date,
            rate(&a.tally),
            b.date,
            rate(&b.tally)
        ),
        _ => format!("No daily snapshot of {what} yet."),
    };
    html! {
        figure.trend {
            svg width="100%" viewBox={ "0 0 " (W) " " (H) } role="img" aria-labelledby="trend-title trend-desc" xmlns="http://www.w3.org/2000/svg" {
                title id="trend-title" { "Compliance trend" }
                desc id="trend-desc" { (desc) }
                @for (r, label) in [(0.0, "0 %"), (0.5, "50 %"), (1.0, "100 %")] {
                    line x1=(PAD) x2=(W - PAD) y1=(y(r)) y2=(y(r)) stroke="#c8ccd2" stroke-width="1" {}
                    text x="2" y=(y(r) + 4.0) font-size="11" fill="#555" { (label) }
                }
                @if let (Some(a), Some(b)) = (points.first(), points.last()) {
                    text x=(PAD) y=(H - 8.0) font-size="11" fill="#555" { (a.date) }
                    text x=(W - PAD) y=(H - 8.0) font-size="11" fill="#555" text-anchor="end" { (b.date) }
                }
                @for run in runs.iter().filter(|r| !r.is_empty()) {
                    @if run.len() == 1 {
                        @let (cx, cy) = run[0].split_once(',').unwrap_or(("0", "0"));
                        circle cx=(cx) cy=(cy) r="3" fill="#1f4e79" {}
                    } @else {
                        polyline points=(run.join(" ")) fill="none" stroke="#1f4e79" stroke-width="2" {}
                    }
                }
            }
            figcaption { (desc) }
        }
        details id="trend-figures" {
            summary { "The figures, day by day" }
            table {
                thead { tr { th { "Day" } th { "Pass" } th { "Fail" } th { "Excepted" } th { "Pass rate" } } }
                tbody {
                    @for p in points {
                        tr { td { (p.date) } td { (p.tally.pass) } td { (p.tally.fail) } td { (p.tally.excepted) } td { (rate(&p.tally)) } }
                    }
                }
            }
        }
    }
}

/// What the page's query string asks for.
#[derive(Default)]
struct Filters {
    check_id: Option<String>,
    control: Option<String>,
    framework: Option<String>,
    owner_id: Option<Uuid>,
    status: Option<FindingStatus>,
    cursor: Option<Cursor>,
}

fn read_filters(pairs: &[(String, String)]) -> Result<Filters, custodian_app::AppError> {
    let mut f = Filters {
        status: Some(FindingStatus::Open),
        ..Filters::default()
    };
    let bad = |field: &str, v: &str| {
        custodian_app::AppError::invalid(field, format!("{v:?} is not one of the choices"))
    };
    for (k, v) in pairs.iter().filter(|(_, v)| !v.trim().is_empty()) {
        let v = v.trim();
        match k.as_str() {
            "check_id" => {
                f.check_id = Some(check(v).ok_or_else(|| bad("check_id", v))?.id.to_string())
            }
            "control" => {
                let known = crosswalk::framework(crosswalk::ISO27001)
                    .is_some_and(|fw| fw.references.iter().any(|r| r.id == v));
                if !known {
                    return Err(bad("control", v));
                }
                f.control = Some(v.to_string());
            }
            "framework" => {
                f.framework = Some(
                    crosswalk::framework(v)
                        .ok_or_else(|| bad("framework", v))?
                        .key
                        .clone(),
                )
            }
            "owner_id" => f.owner_id = Some(Uuid::parse_str(v).map_err(|_| bad("owner_id", v))?),
            "status" => {
                f.status = match v {
                    "all" => None,
                    _ => Some(FindingStatus::parse(v).ok_or_else(|| bad("status", v))?),
                }
            }
            "cursor" => {
                f.cursor = Some(
                    Cursor::decode(v).map_err(|m| custodian_app::AppError::invalid("cursor", m))?,
                )
            }
            _ => {}
        }
    }
    Ok(f)
}

impl Filters {
    fn check_ids(&self) -> Option<Vec<String>> {
        if self.check_id.is_none() && self.control.is_none() && self.framework.is_none() {
            return None;
        }
        let mut ids: Vec<String> =
            crosswalk::checks_for(self.framework.as_deref(), self.control.as_deref())
                .into_iter()
                .map(String::from)
                .collect();
        if let Some(c) = &self.check_id {
            ids.retain(|i| i == c);
        }
        Some(ids)
    }

    /// The query string of these filters with another cursor.
    fn query(&self, cursor: Option<&Cursor>) -> String {
        let mut q: Vec<String> = Vec::new();
        let mut add = |k: &str, v: &str| q.push(format!("{k}={}", urlencoding(v)));
        if let Some(c) = &self.check_id {
            add("check_id", c);
        }
        if let Some(c) = &self.control {
            add("control", c);
        }
        if let Some(c) = &self.framework {
            add("framework", c);
        }
        if let Some(o) = self.owner_id {
            add("owner_id", &o.to_string());
        }
        add("status", self.status.map_or("all", |s| s.as_str()));
        if let Some(c) = cursor {
            add("cursor", &c.encode());
        }
        q.join("&")
    }

    /// What the trend shows: the checks chosen, in words.
    fn trend_of(&self) -> String {
        match (&self.check_id, &self.control, &self.framework) {
            (Some(c), _, _) => format!("check {c}"),
            (None, Some(c), _) => format!("control {c}"),
            (None, None, Some(f)) => format!("framework {f}"),
            _ => "every check".into(),
        }
    }
}

fn urlencoding(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn select(
    name: &str,
    label: &str,
    options: Vec<(String, String)>,
    chosen: Option<&str>,
    blank: &str,
) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                option value="" { (blank) }
                @for (v, l) in &options { option value=(v) selected[Some(v.as_str()) == chosen] { (l) } }
            }
        }
    }
}

/// `GET /compliance`.
pub async fn overview(State(s): State<AppState>, v: Viewer, uri: Uri) -> Response {
    let kpis = match s.app.compliance_kpis(&v.ctx).await {
        Ok(k) => k,
        Err(e) => return error_page(Some(&v), e),
    };
    let filters = match pairs(&uri)
        .map_err(|p| custodian_app::AppError::invalid("query", p.detail))
        .and_then(|p| read_filters(&p))
    {
        Ok(f) => f,
        Err(e) => return error_page(Some(&v), e),
    };
    let today = chrono::Utc::now().date_naive();
    let ids = filters.check_ids();
    let named: Vec<&str> = ids.iter().flatten().map(String::as_str).collect();
    let points = if ids.as_ref().is_some_and(Vec::is_empty) {
        Ok(vec![])
    } else {
        s.app
            .compliance_trend(&v.ctx, &named, today - TimeDelta::days(90), today)
            .await
    };
    let points = match points {
        Ok(p) => p,
        Err(e) => return error_page(Some(&v), e),
    };
    let q = FindingQuery {
        limit: 50,
        cursor: filters.cursor,
        check_ids: ids.clone(),
        status: filters.status,
        owner_id: filters.owner_id,
        ..Default::default()
    };
    let found = match s.app.list_findings(&v.ctx, q).await {
        Ok(p) => p,
        Err(e) => return error_page(Some(&v), e),
    };
    let owners = s.app.party_choices(&v.ctx).await.unwrap_or_default();
    let body = html! {
        h1 { "Compliance" }
        (headline(&kpis))
        @if v.manages() {
            form.inline method="post" action="/compliance/run" id="run" {
                (csrf(&v))
                button.secondary type="submit" { "Evaluate every check now" }
            }
        }
        h2 id="frameworks" { "Frameworks" }
        table id="framework-table" {
            thead { tr { th { "Framework" } th { "Status" } th { "Pass rate" } th { "Failing" } th { "Excepted" } th { "Assessed by hand" } } }
            tbody {
                @for f in crosswalk::frameworks() {
                    @let r = kpi::framework_rollup(f, &|c| kpis.tally(c));
                    tr {
                        td { a href={ "/compliance?framework=" (f.key) "#findings" } { (f.name) } }
                        td { (status_badge(r.status)) }
                        td { (rate(&r.tally)) }
                        td { (r.tally.fail) }
                        td { (r.tally.excepted) }
                        td { (f.references.iter().filter(|x| x.mappings.is_empty()).count()) " of " (f.references.len()) }
                    }
                }
            }
        }
        h2 id="controls" { "ISO/IEC 27001:2022 controls" }
        table id="control-table" {
            thead { tr { th { "Control" } th { "Status" } th { "Pass rate" } th { "Failing" } th { "Excepted" } th { "Checks" } } }
            tbody {
                @for (r, roll) in kpi::control_rollups(&|c| kpis.tally(c)) {
                    tr {
                        td { a href={ "/compliance?control=" (r.id) "#findings" } { (r.id) " " (r.title) } }
                        td { (status_badge(roll.status)) }
                        td { (rate(&roll.tally)) }
                        td { (roll.tally.fail) }
                        td { (roll.tally.excepted) }
                        td { @if roll.checks.is_empty() { "assessed by hand" } @else { (roll.checks.join(", ")) } }
                    }
                }
            }
        }
        h2 id="checks" { "Checks" }
        table id="check-table" {
            thead { tr { th { "Check" } th { "Severity" } th { "Pass" } th { "Fail" } th { "Excepted" } th { "Not applicable" } th { "Pass rate" } } }
            tbody {
                @for (c, t) in &kpis.checks {
                    tr id={ "check-" (c.id) } {
                        td { a href={ "/compliance?check_id=" (c.id) "#findings" } { (c.title) } br; span.mono.muted { (c.id) } }
                        td { (badge("level", c.severity.as_str())) }
                        td { (t.pass) } td { (t.fail) } td { (t.excepted) } td { (t.not_applicable) }
                        td { (rate(t)) }
                    }
                }
            }
        }
        h2 id="trend" { "Trend: " (filters.trend_of()) }
        (chart(&points, &filters.trend_of()))
        h2 id="findings" { "Findings" }
        form.filters method="get" action="/compliance#findings" id="finding-filters" {
            (select("check_id", "Check", CHECKS.iter().map(|c| (c.id.to_string(), c.title.to_string())).collect(), filters.check_id.as_deref(), "Every check"))
            (select("control", "Control", crosswalk::framework(crosswalk::ISO27001).map(|f| f.references.iter().map(|r| (r.id.clone(), format!("{} {}", r.id, r.title))).collect()).unwrap_or_default(), filters.control.as_deref(), "Every control"))
            (select("framework", "Framework", crosswalk::frameworks().iter().map(|f| (f.key.clone(), f.name.clone())).collect(), filters.framework.as_deref(), "Every framework"))
            (select("owner_id", "To act", owners.iter().map(|p| (p.id.to_string(), p.name.clone())).collect(), filters.owner_id.map(|o| o.to_string()).as_deref(), "Anyone"))
            (select("status", "Status", vec![("open".into(), "Open".into()), ("excepted".into(), "Excepted".into()), ("resolved".into(), "Resolved".into()), ("all".into(), "Any status".into())], Some(filters.status.map_or("all", |s| s.as_str())), "Open"))
            div.actions { button type="submit" { "Show" } a href="/compliance#findings" { "Clear" } }
        }
        @if found.items.is_empty() {
            p.muted id="no-findings" { "No finding matches." }
        } @else {
            (findings_table(&s, &v, &found.items, "finding-table").await)
        }
        @if let Some(c) = &found.next_cursor {
            p { a href={ "/compliance?" (filters.query(Some(c))) "#findings" } rel="next" { "Next findings" } }
        }
    };
    ok(page(Some(&v), "Compliance", Nav::Compliance, body))
}

fn headline(k: &Kpis) -> Markup {
    let total = k
        .checks
        .iter()
        .fold(Tally::default(), |t, (_, x)| t.plus(*x));
    let failing: Vec<&str> = k
        .checks
        .iter()
        .filter(|(_, t)| t.fail > 0)
        .map(|(c, _)| c.title)
        .collect();
    html! {
        @match k.computed_at {
            None => p.warning id="not-measured" { "Nothing is measured yet: the first evaluation runs within a minute of the server starting." },
            Some(at) => {
                div.cards id="headline" {
                    div.card id="pass-rate" { h3 { "Pass rate" } p.big { (rate(&total)) } p.muted { "of every check, excepted findings left out" } }
                    div.card id="failing" { h3 { "Failing" } p.big { a href="/compliance?status=open#findings" { (total.fail) } } p.muted { "open findings" } }
                    div.card id="excepted" { h3 { "Excepted" } p.big { a href="/compliance?status=excepted#findings" { (total.excepted) } } p.muted { "set aside by an approved exception, never counted as passing" } }
                }
                p id="answer" {
                    @if failing.is_empty() { "Every check passes." }
                    @else { (failing.len()) " of " (k.checks.len()) " checks have open findings: " (failing.join("; ")) "." }
                }
                p.muted id="measured" { "Measured " (when(&at)) ", at audit event " (k.audit_seq) " (hash " span.mono { (k.audit_hash.chars().take(12).collect::<String>()) } "…)." }
            }
        }
    }
}

/// `POST /compliance/run` (managers, admins).
pub async fn run(State(s): State<AppState>, v: Viewer) -> Response {
    match s.app.run_compliance(&v.ctx).await {
        Ok(_) => super::done("/compliance", super::Done::Evaluated),
        Err(e) => error_page(Some(&v), e),
    }
}

/// An asset's open and excepted findings, for its page.
pub async fn asset_findings(s: &AppState, v: &Viewer, asset: Uuid) -> Markup {
    let Ok(items) = s
        .app
        .findings_about(&v.ctx, SubjectType::Asset, asset)
        .await
    else {
        return html! {};
    };
    html! {
        section id="findings" {
            h2 { "Compliance" }
            @if items.is_empty() { p.muted { "No check fails for this asset." } }
            @else {
                ul {
                    @for f in &items {
                        @let c = check(&f.check_id);
                        li {
                            (badge(if f.status == FindingStatus::Open { "missing" } else { "status" }, f.status.as_str())) " "
                            strong { (c.map_or(f.check_id.as_str(), |c| c.title)) } ": " (f.message) ". "
                            span.muted { (c.map_or("", |c| c.remediation)) }
                        }
                    }
                }
            }
        }
    }
}

/// The open findings the viewer is to act on, for their home page.
pub async fn yours_to_fix(s: &AppState, v: &Viewer) -> Markup {
    let Ok(page) = s.app.findings_to_fix(&v.ctx, 50).await else {
        return html! {};
    };
    html! {
        section id="to-fix" {
            h2 { "Yours to fix" }
            @if page.items.is_empty() { p.muted { "Nothing: every check passes for what you own and hold." } }
            @else {
                p { "What you own or hold fails these checks of the Asset Management Policy. Each says what to do." }
                (findings_table(s, v, &page.items, "to-fix-table").await)
            }
        }
    }
}

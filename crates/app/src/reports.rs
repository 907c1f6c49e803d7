//! Reports (SPEC §12), read a page at a time so that a report of any size streams: the
//! register, the record of processing and the licence position, each now or as the
//! register stood at a past time, with names rather than ids. Each download is an event.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::asset::{ropa_missing, Asset, AssetKind};
use custodian_domain::audit::NewEvent;
use custodian_domain::classification::Classification;
use custodian_domain::exception::ExceptionStatus;
use custodian_domain::lifecycle::{DisposalRecord, Status};
use custodian_domain::party::PartyKind;
use custodian_domain::policy::{
    accepted_versions, Acknowledgement, PolicyDocument, PolicyStatus, PolicyVersion,
};
use custodian_domain::report::{Cell, Column, ReportFormat, ReportKind};
use custodian_domain::value;
use custodian_store::{
    AcknowledgementQuery, AssetQuery, Cursor, ExceptionQuery, MatchKey, OffboardingQuery,
};

use crate::assets::AssetView;
use crate::{App, AppError, Ctx, Result};

/// Assets read for one page of a report.
const PAGE: u32 = 500;

/// A table that comes before a report's rows: the compliance report's KPIs per check and
/// per control, and its trend. Small: read whole when the report opens.
#[derive(Clone, Debug)]
pub struct Section {
    /// Its key (a JSON member, a worksheet's name).
    pub key: &'static str,
    /// Its heading.
    pub title: &'static str,
    /// Its columns.
    pub columns: &'static [Column],
    /// Its rows.
    pub rows: Vec<Vec<Cell>>,
}

/// A report being written: what was asked, and what it needs from page to page.
#[derive(Clone, Debug)]
pub struct Report {
    /// Which report.
    pub kind: ReportKind,
    /// The format it is written in.
    pub format: ReportFormat,
    /// The register as it stood then, or now.
    pub as_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// The last audit event it reads (as at a time: the last by then).
    pub audit_seq: i64,
    /// The record filters of the asset list that narrow it.
    pub filters: AssetQuery,
    /// The tables before its rows (the compliance report's KPIs and trend).
    pub sections: Vec<Section>,
    /// Location ids and their names.
    locations: HashMap<Uuid, String>,
    /// Level keys and their levels.
    levels: HashMap<String, Classification>,
    /// As at a time: parties' names as they stood then, from their events.
    names_then: Option<HashMap<Uuid, String>>,
}

/// What the rows of one page need besides their records.
struct PageFacts {
    /// Parties' names.
    names: HashMap<Uuid, String>,
    /// Disposal records by asset.
    disposals: HashMap<Uuid, DisposalRecord>,
}

impl Report {
    /// Its columns.
    pub fn columns(&self) -> &'static [Column] {
        self.kind.columns()
    }
}

/// Where the next page of a report starts.
#[derive(Clone, Copy, Debug)]
pub enum ReportCursor {
    /// The live register, after this row.
    Live(Cursor),
    /// The register as it stood, after this asset.
    AsAt(Uuid),
    /// Records other than assets, after this row.
    Rows(Cursor),
}

/// A page of rows, and where the next starts.
#[derive(Clone, Debug)]
pub struct ReportPage {
    /// The rows, a cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// The next page, if there is one.
    pub next: Option<ReportCursor>,
}

fn text_list(a: &Asset, k: &str) -> Cell {
    match a.attrs.get(k) {
        Some(Value::Array(l)) => Cell::text(Some(
            l.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join("; "),
        )),
        Some(Value::String(s)) => Cell::text(Some(s.clone())),
        _ => Cell::Empty,
    }
}

fn attr_text(a: &Asset, k: &str) -> Cell {
    Cell::text(a.attr_str(k))
}

fn attr_int(a: &Asset, k: &str) -> Cell {
    a.attrs
        .get(k)
        .and_then(Value::as_i64)
        .map_or(Cell::Empty, Cell::Int)
}

fn labels(fields: &[&str]) -> Cell {
    Cell::text(Some(
        fields
            .iter()
            .map(|f| {
                custodian_domain::fields::field(f)
                    .map_or_else(|| f.replace('_', " "), |d| d.label.to_string())
            })
            .collect::<Vec<_>>()
            .join("; "),
    ))
}

/// `{country, safeguard}` transfers as text.
fn transfers(a: &Asset) -> Cell {
    match a.attrs.get("international_transfers") {
        Some(Value::Array(l)) => Cell::text(Some(
            l.iter()
                .map(|t| {
                    let country = t["country"].as_str().unwrap_or("?");
                    match t["safeguard"].as_str() {
                        Some(s) => format!("{country} ({s})"),
                        None => country.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        )),
        _ => Cell::Empty,
    }
}

impl App {
    /// Opens a report (auditors, managers, admins) and records its download.
    pub async fn open_report(
        &self,
        ctx: &Ctx,
        kind: ReportKind,
        format: ReportFormat,
        as_at: Option<DateTime<Utc>>,
        filters: AssetQuery,
    ) -> Result<Report> {
        self.allow(ctx, Action::ReadReports).await?;
        if !kind.formats().contains(&format) {
            return Err(AppError::invalid(
                "format",
                format!(
                    "the {kind} report is written as {}, not {format}",
                    kind.formats()
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let report = self
            .prepare_report(ctx, kind, format, as_at, filters)
            .await?;
        let ev = NewEvent::new(
            &ctx.actor,
            "report.downloaded",
            "report",
            kind.as_str(),
            json!({
                "kind": kind, "format": format,
                "as_at": as_at.map(|t| value::format_timestamp(&t)),
                "audit_seq": report.audit_seq,
            }),
            ctx.request_id.as_deref(),
            report.generated_at,
        );
        self.record(ev).await?;
        Ok(report)
    }

    /// A report ready to read, its download not recorded (the evidence pack records its
    /// own). `format` is not checked against the kind's.
    pub async fn prepare_report(
        &self,
        ctx: &Ctx,
        kind: ReportKind,
        format: ReportFormat,
        as_at: Option<DateTime<Utc>>,
        filters: AssetQuery,
    ) -> Result<Report> {
        self.allow(ctx, Action::ReadReports).await?;
        match kind {
            ReportKind::Policy => {
                return Err(AppError::invalid(
                    "kind",
                    "a policy is its document: read it with policy_report",
                ))
            }
            ReportKind::Evidence => {
                return Err(AppError::invalid(
                    "kind",
                    "the evidence pack is a zip: open it with open_evidence",
                ))
            }
            _ => {}
        }
        let audit_seq = match as_at {
            Some(at) => self.head_at(at).await?.0,
            None => self.store.audit_head().await?.0,
        };
        let locations = self.location_names(ctx).await?;
        let levels = self
            .scheme()
            .await?
            .levels
            .iter()
            .map(|l| (l.key.clone(), l.clone()))
            .collect();
        let set: Vec<&str> = [
            ("kind", filters.kind.is_some()),
            ("status", filters.status.is_some()),
            ("owner_id", filters.owner_id.is_some()),
            ("classification", filters.classification.is_some()),
            ("importance", filters.importance.is_some()),
            ("tag", filters.tag.is_some()),
            ("location_id", filters.location_id.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, on)| on.then_some(k))
        .collect();
        let fixed = match kind {
            ReportKind::Ropa | ReportKind::Licences => Some("kind"),
            ReportKind::Disposals => Some("status"),
            _ => None,
        };
        if let Some(k) = set.iter().find(|k| !kind.of_assets() || Some(**k) == fixed) {
            return Err(AppError::invalid(
                k,
                format!("does not narrow the {kind} report, which sets what it is of"),
            ));
        }
        let mut filters = filters;
        match kind {
            ReportKind::Register => {}
            ReportKind::Ropa => filters.kind = Some(AssetKind::Data),
            ReportKind::Licences => filters.kind = Some(AssetKind::Software),
            ReportKind::Disposals => filters.status = Some(Status::Disposed),
            _ => {}
        }
        let names_then = match as_at {
            Some(_) => Some(self.party_names_at(audit_seq).await?),
            None => None,
        };
        let sections = match kind {
            ReportKind::Compliance => {
                self.compliance_sections(ctx, as_at.map(|t| (t, audit_seq)))
                    .await?
            }
            _ => Vec::new(),
        };
        let generated_at = custodian_domain::now();
        Ok(Report {
            kind,
            format,
            as_at,
            generated_at,
            audit_seq,
            filters,
            sections,
            locations,
            levels,
            names_then,
        })
    }

    /// The next page of a report (`None`: the first).
    pub async fn report_page(
        &self,
        ctx: &Ctx,
        report: &Report,
        from: Option<ReportCursor>,
    ) -> Result<ReportPage> {
        match report.kind {
            ReportKind::Exceptions => return self.exceptions_page(ctx, report, from).await,
            ReportKind::Offboarding => return self.offboarding_page(ctx, report, from).await,
            ReportKind::Acknowledgements => return self.acknowledgements_page(report, from).await,
            ReportKind::Compliance => return self.findings_page(ctx, report, from).await,
            ReportKind::OffPremises => return self.off_premises_page(ctx, report, from).await,
            _ => {}
        }
        let (views, next) = match report.as_at {
            Some(at) => {
                let after = match from {
                    Some(ReportCursor::AsAt(id)) => Some(id),
                    _ => None,
                };
                let (assets, next) = self
                    .assets_at_cut(
                        report.audit_seq,
                        &report.filters,
                        after,
                        PAGE as usize,
                        crate::as_at::EXAMINED_AT_MOST,
                    )
                    .await?;
                (
                    self.views_as_at(assets, at).await?,
                    next.map(ReportCursor::AsAt),
                )
            }
            None => {
                let cursor = match from {
                    Some(ReportCursor::Live(c)) => Some(c),
                    _ => None,
                };
                let page = self
                    .list_assets(
                        ctx,
                        &AssetQuery {
                            limit: PAGE,
                            cursor,
                            ..report.filters.clone()
                        },
                    )
                    .await?;
                (page.items, page.next_cursor.map(ReportCursor::Live))
            }
        };
        let ids: Vec<Uuid> = views.iter().map(|v| v.asset.id).collect();
        let disposals: HashMap<Uuid, DisposalRecord> = if report.kind == ReportKind::Disposals {
            self.store
                .disposals_of(&ids)
                .await?
                .into_iter()
                .filter(|d| report.as_at.is_none_or(|at| d.performed_at <= at))
                .map(|d| (d.asset_id, d))
                .collect()
        } else {
            HashMap::new()
        };
        let mut parties: Vec<Uuid> = views.iter().map(|v| v.asset.owner_id).collect();
        parties.extend(
            disposals
                .values()
                .flat_map(|d| [Some(&d.performed_by), d.verified_by.as_ref()])
                .flatten()
                .filter_map(|p| p.parse::<Uuid>().ok()),
        );
        let facts = PageFacts {
            names: self.report_names(ctx, report, &parties).await?,
            disposals,
        };
        let rows = views
            .iter()
            .filter_map(|v| row(report, v, &facts))
            .collect();
        Ok(ReportPage { rows, next })
    }
}

impl App {
    /// Parties' names as they stood at the cut: each party's last name by then, from its
    /// events (a party renamed since reads by its name then).
    async fn party_names_at(&self, cut: i64) -> Result<HashMap<Uuid, String>> {
        const EVENTS: u32 = 5000;
        let mut out = HashMap::new();
        let mut after: Option<(String, i64)> = None;
        loop {
            let events = self
                .store
                .entity_events("party", after.clone(), Some(cut), EVENTS)
                .await?;
            let Some(last) = events.last() else { break };
            after = Some((last.entity_id.clone(), last.seq));
            for e in &events {
                let named = serde_json::from_str::<Value>(&e.changes)
                    .ok()
                    .and_then(|v| v.get("name")?.get("after")?.as_str().map(String::from));
                if let (Ok(id), Some(n)) = (e.entity_id.parse::<Uuid>(), named) {
                    out.insert(id, n);
                }
            }
            if events.len() < EVENTS as usize {
                break;
            }
        }
        Ok(out)
    }

    /// The names of parties a report's page shows: as they stood, for a report as at a time.
    async fn report_names(
        &self,
        ctx: &Ctx,
        report: &Report,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, String>> {
        let mut names = self.party_names(ctx, ids).await?;
        if let Some(then) = &report.names_then {
            for id in ids {
                if let Some(n) = then.get(id) {
                    names.insert(*id, n.clone());
                }
            }
        }
        Ok(names)
    }
}

/// Where a page of records other than assets starts.
fn rows_after(from: Option<ReportCursor>) -> Option<Cursor> {
    match from {
        Some(ReportCursor::Rows(c)) => Some(c),
        _ => None,
    }
}

/// A party by name (by id when its name is not known).
fn named(names: &HashMap<Uuid, String>, p: Option<Uuid>) -> Cell {
    Cell::text(p.map(|p| names.get(&p).cloned().unwrap_or_else(|| p.to_string())))
}

/// The days of trend the compliance report shows.
const TREND_DAYS: i64 = 90;

fn rate(t: &custodian_domain::compliance::kpi::Tally) -> Cell {
    t.pass_rate()
        .map_or(Cell::Empty, |r| Cell::Num((r * 1000.0).round() / 10.0))
}

impl App {
    /// The compliance report's KPIs per check and per control, and its trend.
    /// Now, or as at a time and the audit event then: the KPIs of the day's last snapshot
    /// taken by that event, and the trend up to it.
    async fn compliance_sections(
        &self,
        ctx: &Ctx,
        as_at: Option<(DateTime<Utc>, i64)>,
    ) -> Result<Vec<Section>> {
        use custodian_domain::compliance::crosswalk::controls_of;
        use custodian_domain::compliance::{kpi, CHECKS};
        let today = as_at
            .map_or_else(custodian_domain::now, |(t, _)| t)
            .date_naive();
        let from = today - chrono::TimeDelta::days(TREND_DAYS);
        let (kpis, trend_points) = match as_at {
            None => (
                self.compliance_kpis(ctx).await?,
                self.compliance_trend(ctx, &[], from, today).await?,
            ),
            Some((_, seq)) => {
                self.allow(ctx, Action::ReadRegister).await?;
                let snaps: Vec<_> = self
                    .store
                    .snapshots(None, from, today)
                    .await?
                    .into_iter()
                    .filter(|s| {
                        s.audit_seq <= seq && as_at.is_some_and(|(t, _)| s.computed_at <= t)
                    })
                    .collect();
                let last_day = snaps.iter().map(|s| s.day).max();
                let mut points: Vec<crate::compliance::TrendPoint> = Vec::new();
                for s in &snaps {
                    match points.last_mut() {
                        Some(p) if p.date == s.day => p.tally = p.tally.plus(s.tally),
                        _ => points.push(crate::compliance::TrendPoint {
                            date: s.day,
                            tally: s.tally,
                        }),
                    }
                }
                let of_day: Vec<_> = snaps.iter().filter(|s| Some(s.day) == last_day).collect();
                let kpis = crate::compliance::Kpis {
                    checks: CHECKS
                        .iter()
                        .map(|c| {
                            let t = of_day
                                .iter()
                                .find(|s| s.check_id == c.id)
                                .map(|s| s.tally)
                                .unwrap_or_default();
                            (c, t)
                        })
                        .collect(),
                    computed_at: of_day.first().map(|s| s.computed_at),
                    audit_seq: of_day.first().map_or(0, |s| s.audit_seq),
                    audit_hash: of_day
                        .first()
                        .map(|s| s.audit_hash.clone())
                        .unwrap_or_default(),
                };
                (kpis, points)
            }
        };
        let checks = kpis
            .checks
            .iter()
            .map(|(c, t)| {
                vec![
                    Cell::Text(c.id.to_string()),
                    Cell::Text(c.title.to_string()),
                    Cell::Text(controls_of(c.id).join("; ")),
                    Cell::Text(c.severity.as_str().to_string()),
                    Cell::Int(t.pass),
                    Cell::Int(t.fail),
                    Cell::Int(t.excepted),
                    Cell::Int(t.not_applicable),
                    rate(t),
                ]
            })
            .collect();
        let tally_of = |id: &str| kpis.tally(id);
        let controls = kpi::control_rollups(&tally_of)
            .into_iter()
            .map(|(r, roll)| {
                vec![
                    Cell::Text(r.id.clone()),
                    Cell::Text(r.title.clone()),
                    Cell::Text(roll.status.as_str().to_string()),
                    Cell::Text(roll.checks.join("; ")),
                    Cell::Int(roll.tally.pass),
                    Cell::Int(roll.tally.fail),
                    Cell::Int(roll.tally.excepted),
                    rate(&roll.tally),
                ]
            })
            .collect();
        let trend = trend_points
            .into_iter()
            .map(|p| {
                vec![
                    Cell::Date(p.date),
                    Cell::Int(p.tally.pass),
                    Cell::Int(p.tally.fail),
                    Cell::Int(p.tally.excepted),
                    rate(&p.tally),
                ]
            })
            .collect();
        Ok(vec![
            Section {
                key: "checks",
                title: "KPIs per check",
                columns: custodian_domain::report::CHECK_COLUMNS,
                rows: checks,
            },
            Section {
                key: "controls",
                title: "ISO/IEC 27001:2022 controls",
                columns: custodian_domain::report::CONTROL_COLUMNS,
                rows: controls,
            },
            Section {
                key: "trend",
                title: "Trend (the last 90 days, every check)",
                columns: custodian_domain::report::TREND_COLUMNS,
                rows: trend,
            },
        ])
    }

    /// A page of the findings open or excepted (now, or as they stood), with what to do,
    /// oldest first.
    async fn findings_page(
        &self,
        ctx: &Ctx,
        report: &Report,
        from: Option<ReportCursor>,
    ) -> Result<ReportPage> {
        use custodian_domain::compliance::crosswalk::controls_of;
        use custodian_domain::compliance::{check, FindingStatus, SubjectType};
        let page = match report.as_at {
            Some(at) => self.store.findings_at(at, rows_after(from), PAGE).await?,
            None => {
                self.list_findings(
                    ctx,
                    custodian_store::FindingQuery {
                        limit: PAGE,
                        cursor: rows_after(from),
                        ..Default::default()
                    },
                )
                .await?
            }
        };
        let findings: Vec<_> = page
            .items
            .into_iter()
            .filter(|f| f.status != FindingStatus::Resolved)
            .collect();
        let mut names = self.subject_names(ctx, &findings).await?;
        if let Some(then) = &report.names_then {
            for (id, n) in names.iter_mut() {
                if let Some(t) = then.get(id) {
                    *n = t.clone();
                }
            }
        }
        if report.as_at.is_some() {
            // As it stood: an asset by its number, which never changes (its name may have).
            for (id, n) in names.iter_mut() {
                if findings
                    .iter()
                    .any(|f| f.subject_id == *id && f.subject_type == SubjectType::Asset)
                {
                    if let Some(number) = n.split(' ').next() {
                        *n = number.to_string();
                    }
                }
            }
        }
        let rows = findings
            .iter()
            .map(|f| {
                let c = check(&f.check_id);
                vec![
                    Cell::Text(c.map_or_else(|| f.check_id.clone(), |c| c.title.to_string())),
                    Cell::Text(controls_of(&f.check_id).join("; ")),
                    Cell::text(c.map(|c| c.severity.as_str())),
                    named(&names, Some(f.subject_id)),
                    named(&names, f.owner_id),
                    Cell::Text(f.status.as_str().to_string()),
                    Cell::Time(f.first_failed_at),
                    Cell::Text(f.message.clone()),
                    Cell::text(c.map(|c| c.remediation)),
                ]
            })
            .collect();
        Ok(ReportPage {
            rows,
            next: page.next_cursor.map(ReportCursor::Rows),
        })
    }

    /// A page of the assets off the premises now: open custody approved to leave.
    async fn off_premises_page(
        &self,
        ctx: &Ctx,
        report: &Report,
        from: Option<ReportCursor>,
    ) -> Result<ReportPage> {
        let page = self
            .store
            .list_assignments(&custodian_store::AssignmentQuery {
                limit: PAGE,
                cursor: rows_after(from),
                open: report.as_at.is_none().then_some(true),
                off_premises: Some(true),
                ..Default::default()
            })
            .await?;
        // As it stood: issued by then and not yet back.
        let at = report.as_at.unwrap_or(report.generated_at);
        let items: Vec<_> = page
            .items
            .iter()
            .filter(|a| a.issued_at <= at && a.returned_at.is_none_or(|r| r > at))
            .collect();
        let ids: Vec<String> = items.iter().map(|a| a.asset_id.to_string()).collect();
        let mut assets: HashMap<Uuid, Asset> = self
            .store
            .find_assets(MatchKey::Id, &ids)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        if report.as_at.is_some() {
            // As it stood: each asset's name and level then, from its events.
            for a in assets.values_mut() {
                if let Some(then) = self.asset_at_cut(a.id, report.audit_seq).await? {
                    *a = then;
                }
            }
        }
        let people: Vec<Uuid> = items
            .iter()
            .flat_map(|a| [a.person_id, a.approved_by])
            .flatten()
            .collect();
        let names = self.report_names(ctx, report, &people).await?;
        let today = at.date_naive();
        let rows = items
            .iter()
            .map(|x| {
                let asset = assets.get(&x.asset_id);
                vec![
                    Cell::text(asset.map(|a| a.asset_number.clone())),
                    Cell::text(asset.map(|a| a.name.clone())),
                    Cell::text(asset.map(|a| {
                        report
                            .levels
                            .get(&a.classification)
                            .map_or_else(|| a.classification.clone(), |l| l.name.clone())
                    })),
                    named(&names, x.person_id),
                    Cell::text(x.location_id.map(|l| {
                        report
                            .locations
                            .get(&l)
                            .cloned()
                            .unwrap_or_else(|| l.to_string())
                    })),
                    Cell::Time(x.issued_at),
                    x.expected_return_at.map_or(Cell::Empty, Cell::Date),
                    Cell::Bool(x.expected_return_at.is_some_and(|d| d < today)),
                    named(&names, x.approved_by),
                    Cell::Bool(x.exception_id.is_some()),
                    Cell::text(x.notes.clone()),
                ]
            })
            .collect();
        Ok(ReportPage {
            rows,
            next: page.next_cursor.map(ReportCursor::Rows),
        })
    }

    /// The `policy` report: the version of a document in force at `as_at` (now when
    /// `None`), as its rendering kept at approval. Its download is an event.
    pub async fn policy_report(
        &self,
        ctx: &Ctx,
        document: PolicyDocument,
        as_at: Option<DateTime<Utc>>,
        format: ReportFormat,
    ) -> Result<(PolicyVersion, custodian_domain::policy::PolicyRendering)> {
        use custodian_domain::policy::DocumentFormat;
        self.allow(ctx, Action::ReadReports).await?;
        let doc_format = match format {
            ReportFormat::Html => DocumentFormat::Html,
            ReportFormat::Pdf => DocumentFormat::Pdf,
            other => {
                return Err(AppError::invalid(
                    "format",
                    format!("the policy report is written as html or pdf, not {other}"),
                ))
            }
        };
        let (at, audit_seq) = match as_at {
            Some(t) => (t, self.head_at(t).await?.0),
            None => (custodian_domain::now(), self.store.audit_head().await?.0),
        };
        let Some(version) = self.policy_in_force_at(document, at).await? else {
            return Err(AppError::invalid(
                "as_at",
                format!("no version of the {} was in force then", document.title()),
            ));
        };
        let rendering = self.policy_document(ctx, version.id, doc_format).await?;
        let ev = NewEvent::new(
            &ctx.actor,
            "report.downloaded",
            "report",
            ReportKind::Policy.as_str(),
            json!({
                "kind": ReportKind::Policy, "format": format, "document": document,
                "policy_id": version.id, "sha256": rendering.sha256,
                "as_at": as_at.map(|t| value::format_timestamp(&t)),
                "audit_seq": audit_seq,
            }),
            ctx.request_id.as_deref(),
            custodian_domain::now(),
        );
        self.record(ev).await?;
        Ok((version, rendering))
    }

    /// The version of a document in force at `at`: the last approved by then.
    pub async fn policy_in_force_at(
        &self,
        document: PolicyDocument,
        at: DateTime<Utc>,
    ) -> Result<Option<PolicyVersion>> {
        Ok(self
            .store
            .policies(Some(document))
            .await?
            .into_iter()
            .filter(|p| p.status != PolicyStatus::Draft && p.approved_at.is_some_and(|t| t <= at))
            .max_by_key(|p| p.approved_at))
    }

    /// A page of the exception register.
    async fn exceptions_page(
        &self,
        ctx: &Ctx,
        report: &Report,
        from: Option<ReportCursor>,
    ) -> Result<ReportPage> {
        let cursor = rows_after(from);
        let page = self
            .list_exceptions(
                ctx,
                ExceptionQuery {
                    limit: PAGE,
                    cursor,
                    ..Default::default()
                },
            )
            .await?;
        let assets: Vec<String> = page
            .items
            .iter()
            .flat_map(|x| x.asset_ids.iter().map(Uuid::to_string))
            .collect();
        let numbers: HashMap<Uuid, String> = self
            .store
            .find_assets(MatchKey::Id, &assets)
            .await?
            .into_iter()
            .map(|a| (a.id, a.asset_number))
            .collect();
        let people: Vec<Uuid> = page
            .items
            .iter()
            .flat_map(|x| [x.requester_id, x.approver_id])
            .flatten()
            .collect();
        let names = self.report_names(ctx, report, &people).await?;
        let name = |p: Option<Uuid>| named(&names, p);
        let at = report.as_at.unwrap_or(report.generated_at);
        let rows = page
            .items
            .iter()
            .filter_map(|x| Some((x, x.state_at(at)?)))
            .map(|(x, state)| {
                let rule = custodian_domain::compliance::check(x.rule.as_str()).map_or_else(
                    || x.rule.as_str().replace('_', " "),
                    |c| c.title.to_string(),
                );
                vec![
                    Cell::Text(rule),
                    Cell::Text(
                        x.asset_ids
                            .iter()
                            .map(|a| numbers.get(a).cloned().unwrap_or_else(|| a.to_string()))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    Cell::Text(x.justification.clone()),
                    Cell::Text(x.compensating_controls.clone()),
                    name(x.requester_id),
                    Cell::Date(x.created_at.date_naive()),
                    Cell::Text(state.as_str().to_string()),
                    name(
                        x.approver_id
                            .filter(|_| state != ExceptionStatus::Requested),
                    ),
                    x.decided_at
                        .filter(|d| *d <= at)
                        .map_or(Cell::Empty, Cell::Time),
                    Cell::text(
                        x.decision_notes
                            .clone()
                            .filter(|_| state != ExceptionStatus::Requested),
                    ),
                    Cell::Date(x.expires_at),
                    Cell::Bool(state == ExceptionStatus::Approved),
                ]
            })
            .collect();
        Ok(ReportPage {
            rows,
            next: page.next_cursor.map(ReportCursor::Rows),
        })
    }

    /// A page of persons with their acknowledgement of the acceptable-use policy: of the
    /// version in force (or one it keeps counting), and the last they gave.
    async fn acknowledgements_page(
        &self,
        report: &Report,
        from: Option<ReportCursor>,
    ) -> Result<ReportPage> {
        let at = report.as_at.unwrap_or(report.generated_at);
        let versions: Vec<PolicyVersion> = self
            .store
            .policies(Some(PolicyDocument::AcceptableUse))
            .await?
            .into_iter()
            .filter(|v| v.status != PolicyStatus::Draft && v.approved_at.is_some_and(|t| t <= at))
            .collect();
        let mut approved = versions.clone();
        approved.sort_by_key(|v| v.approved_at);
        let counting = accepted_versions(&approved);
        let in_force = approved.last();
        let number: HashMap<Uuid, String> =
            versions.iter().map(|v| (v.id, v.number.clone())).collect();
        let page = self
            .store
            .list_parties(&custodian_store::PartyQuery {
                limit: PAGE,
                cursor: rows_after(from),
                kind: Some(PartyKind::Person),
                ..Default::default()
            })
            .await?;
        let ids: Vec<Uuid> = page.items.iter().map(|p| p.id).collect();
        let mut acks: HashMap<Uuid, Vec<Acknowledgement>> = HashMap::new();
        let mut cursor = None;
        loop {
            let got = self
                .store
                .list_acknowledgements(&AcknowledgementQuery {
                    limit: PAGE,
                    cursor,
                    person_ids: ids.clone(),
                    ..Default::default()
                })
                .await?;
            for a in got.items.into_iter().filter(|a| a.created_at <= at) {
                acks.entry(a.person_id).or_default().push(a);
            }
            match got.next_cursor {
                Some(c) if !ids.is_empty() => cursor = Some(c),
                _ => break,
            }
        }
        let rows = page
            .items
            .iter()
            .filter(|p| p.created_at <= at)
            .map(|p| {
                let mine = acks.get(&p.id).map(Vec::as_slice).unwrap_or_default();
                let current = mine
                    .iter()
                    .filter(|a| counting.contains(&a.policy_id))
                    .max_by_key(|a| a.acknowledged_at);
                let last = mine.iter().max_by_key(|a| a.acknowledged_at);
                vec![
                    Cell::Text(
                        report
                            .names_then
                            .as_ref()
                            .and_then(|n| n.get(&p.id))
                            .unwrap_or(&p.name)
                            .clone(),
                    ),
                    Cell::text(p.email.clone()),
                    Cell::text(p.status.map(|s| s.as_str().replace('_', " "))),
                    Cell::text(in_force.map(|v| v.number.clone())),
                    Cell::Bool(current.is_some()),
                    current.map_or(Cell::Empty, |a| Cell::Time(a.acknowledged_at)),
                    Cell::text(last.and_then(|a| number.get(&a.policy_id).cloned())),
                    last.map_or(Cell::Empty, |a| Cell::Time(a.acknowledged_at)),
                    Cell::text(last.map(|a| a.source.as_str().to_string())),
                ]
            })
            .collect();
        Ok(ReportPage {
            rows,
            next: page.next_cursor.map(ReportCursor::Rows),
        })
    }

    /// A page of the offboarding cases: a row per item, or one for a case with none.
    async fn offboarding_page(
        &self,
        ctx: &Ctx,
        report: &Report,
        from: Option<ReportCursor>,
    ) -> Result<ReportPage> {
        let at = report.as_at.unwrap_or(report.generated_at);
        let cursor = rows_after(from);
        let page = self
            .list_offboardings(
                ctx,
                OffboardingQuery {
                    limit: PAGE / 5,
                    cursor,
                    ..Default::default()
                },
            )
            .await?;
        let people: Vec<Uuid> = page
            .items
            .iter()
            .flat_map(|c| {
                let items = c.items.iter().flat_map(|i| [i.settled_by, i.successor_id]);
                std::iter::once(Some(c.person_id)).chain(items)
            })
            .flatten()
            .collect();
        let names = self.report_names(ctx, report, &people).await?;
        let name = |p: Option<Uuid>| named(&names, p);
        let mut rows = Vec::new();
        for c in page.items.iter().filter(|c| c.created_at <= at) {
            let closed = c.closed_at.is_some_and(|t| t <= at);
            let case = [
                name(Some(c.person_id)),
                Cell::Text(c.kind.as_str().to_string()),
                Cell::Text(c.reason.clone()),
                c.end_date.map_or(Cell::Empty, Cell::Date),
                Cell::Text(if closed { "closed" } else { "open" }.to_string()),
            ];
            if c.items.is_empty() {
                let mut row = case.to_vec();
                row.extend(std::iter::repeat_n(Cell::Empty, 8));
                rows.push(row);
            }
            for i in &c.items {
                // As it stood: an item settled later was open then.
                let settled = i.settled_at.filter(|t| *t <= at);
                let i = &custodian_domain::offboarding::CaseItem {
                    status: if settled.is_some() {
                        custodian_domain::offboarding::ItemStatus::Settled
                    } else {
                        custodian_domain::offboarding::ItemStatus::Open
                    },
                    settled_at: settled,
                    settled_by: i.settled_by.filter(|_| settled.is_some()),
                    evidence: i.evidence.clone().filter(|_| settled.is_some()),
                    ..i.clone()
                };
                let on_time = match (i.settled_at, c.end_date) {
                    (Some(t), Some(d)) => Cell::Bool(t.date_naive() <= d),
                    _ => Cell::Empty,
                };
                let mut row = case.to_vec();
                row.extend([
                    Cell::Text(i.title.clone()),
                    Cell::Text(i.kind.as_str().replace('_', " ")),
                    Cell::Text(i.status.as_str().to_string()),
                    i.settled_at.map_or(Cell::Empty, Cell::Time),
                    name(i.settled_by),
                    on_time,
                    name(i.successor_id),
                    Cell::text(i.evidence.clone()),
                ]);
                rows.push(row);
            }
        }
        Ok(ReportPage {
            rows,
            next: page.next_cursor.map(ReportCursor::Rows),
        })
    }
}

/// A record's row of a report; `None` when the report leaves it out.
fn row(report: &Report, v: &AssetView, facts: &PageFacts) -> Option<Vec<Cell>> {
    let names = &facts.names;
    let a = &v.asset;
    let level = report.levels.get(&a.classification);
    let owner = Cell::text(Some(
        names
            .get(&a.owner_id)
            .cloned()
            .unwrap_or_else(|| a.owner_id.to_string()),
    ));
    let reviewed = a
        .last_reviewed_at
        .map_or(Cell::Empty, |t| Cell::Date(t.date_naive()));
    let next_review = a.next_review_at.map_or(Cell::Empty, Cell::Date);
    Some(match report.kind {
        ReportKind::Register => vec![
            Cell::Text(a.asset_number.clone()),
            Cell::Text(a.name.clone()),
            Cell::Text(a.kind.to_string()),
            owner,
            Cell::Text(level.map_or_else(|| a.classification.clone(), |l| l.name.clone())),
            Cell::Text(a.importance.to_string()),
            Cell::Text(a.status.as_str().replace('_', " ")),
            Cell::text(
                a.location_id
                    .and_then(|l| report.locations.get(&l).cloned()),
            ),
            Cell::text(Some(a.tags.join("; "))),
            reviewed,
            next_review,
            Cell::Bool(v.completeness.complete),
            labels(&v.completeness.missing),
        ],
        ReportKind::Ropa => {
            if a.attr_bool("contains_personal_data") != Some(true) {
                return None;
            }
            let missing = ropa_missing(a);
            let retention = match (a.attr_str("retention"), a.attrs.get("retention_days")) {
                (Some(r), _) => Cell::Text(r.to_string()),
                (None, Some(d)) => Cell::Text(format!("{d} days")),
                _ => Cell::Empty,
            };
            vec![
                Cell::Text(a.asset_number.clone()),
                Cell::Text(a.name.clone()),
                attr_text(a, "purpose"),
                attr_text(a, "controller"),
                Cell::text(a.attr_str("lawful_basis").map(|b| b.replace('_', " "))),
                text_list(a, "data_subject_categories"),
                text_list(a, "personal_data_categories"),
                a.attr_bool("special_category_data")
                    .map_or(Cell::Empty, Cell::Bool),
                text_list(a, "recipient_categories"),
                transfers(a),
                retention,
                attr_text(a, "security_measures"),
                owner,
                reviewed,
                next_review,
                Cell::Bool(missing.is_empty()),
                labels(&missing),
            ]
        }
        ReportKind::Licences => {
            let model = a.attr_str("licence_model");
            let free = match model {
                Some("free" | "open_source") => Cell::Text("free".into()),
                Some(_) => Cell::Text("paid".into()),
                None => Cell::Empty,
            };
            let purchased = a.attrs.get("licences_purchased").and_then(Value::as_i64);
            let used = a.attrs.get("licences_used").and_then(Value::as_i64);
            let position = match (purchased, used) {
                (Some(p), Some(u)) if u > p => "over",
                (Some(p), Some(u)) if u == p => "at",
                (Some(_), _) => "under",
                _ => "",
            };
            let expires = a
                .attr_str("licence_expires_at")
                .and_then(|d| d.parse::<chrono::NaiveDate>().ok());
            let today = report.as_at.unwrap_or(report.generated_at).date_naive();
            vec![
                Cell::Text(a.asset_number.clone()),
                Cell::Text(a.name.clone()),
                attr_text(a, "software_version"),
                attr_text(a, "vendor"),
                Cell::text(model.map(|m| m.replace('_', " "))),
                free,
                attr_int(a, "licences_purchased"),
                attr_int(a, "licences_used"),
                Cell::text(Some(position)),
                attr_text(a, "deployed_on"),
                attr_text(a, "licence_location"),
                expires.map_or(Cell::Empty, Cell::Date),
                expires.map_or(Cell::Empty, |d| Cell::Int((d - today).num_days())),
                owner,
            ]
        }
        // Not reports of assets: written by their own pages.
        ReportKind::Exceptions
        | ReportKind::Offboarding
        | ReportKind::Acknowledgements
        | ReportKind::Compliance
        | ReportKind::OffPremises
        | ReportKind::Policy
        | ReportKind::Evidence => return None,
        ReportKind::Disposals => {
            let d = facts.disposals.get(&a.id);
            let named = |p: &str| {
                p.parse::<Uuid>()
                    .ok()
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_else(|| p.to_string())
            };
            let required = level.map(|l| l.disposal_method);
            vec![
                Cell::Text(a.asset_number.clone()),
                Cell::Text(a.name.clone()),
                Cell::Text(a.kind.to_string()),
                attr_text(a, "serial_number"),
                Cell::Text(level.map_or_else(|| a.classification.clone(), |l| l.name.clone())),
                Cell::text(required.map(|r| r.as_str().replace('_', " "))),
                Cell::text(d.map(|d| d.method.as_str().replace('_', " "))),
                match (d, required) {
                    (Some(d), Some(r)) => Cell::Bool(d.method.meets(r)),
                    _ => Cell::Empty,
                },
                Cell::text(d.map(|d| named(&d.performed_by))),
                d.map_or(Cell::Empty, |d| Cell::Time(d.performed_at)),
                Cell::text(d.and_then(|d| d.certificate_ref.clone())),
                Cell::text(d.and_then(|d| d.verified_by.as_deref().map(named))),
                Cell::text(d.and_then(|d| d.notes.clone())),
                owner,
            ]
        }
    })
}

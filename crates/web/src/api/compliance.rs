//! `/api/v1/compliance` (SPEC §8): the checks, findings, KPIs, trend and crosswalk.

use aide::axum::ApiRouter;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use custodian_app::compliance::{Kpis, RunReport};
use custodian_domain::compliance::crosswalk::{self, Framework, Relationship};
use custodian_domain::compliance::kpi::{self, ControlStatus, Tally};
use custodian_domain::compliance::{check, Check, FindingStatus, Severity, SubjectType, CHECKS};
use custodian_store::{Finding, FindingEvent, FindingQuery};

use super::assets::word;
use super::wire::{Key, Listing, Query, Status};
use super::PageParams;
use crate::extract::{Caller, RecordId};
use crate::problem::{ApiResult, Problem};
use crate::AppState;

/// The routes.
pub fn routes() -> ApiRouter<AppState> {
    use aide::axum::routing::{get_with, post_with};
    ApiRouter::new()
        .api_route("/compliance/checks", get_with(checks, |o| o.summary("The checks, with the controls they evidence and their mappings to other frameworks")))
        .api_route("/compliance/findings", get_with(findings, |o| o.summary("Findings: one per failing check and subject (members: their own)")))
        .api_route("/compliance/findings/{id}", get_with(finding, |o| o.summary("One finding with its history")))
        .api_route("/compliance/kpis", get_with(kpis, |o| o.summary("Pass, fail, excepted and not applicable per check, per control and per framework")))
        .api_route("/compliance/trend", get_with(trend, |o| o.summary("Daily points of a check, a control, a framework or every check, from the snapshots")))
        .api_route("/compliance/frameworks", get_with(frameworks, |o| o.summary("The frameworks of the crosswalk, each with its status")))
        .api_route("/compliance/frameworks/{key}", get_with(framework, |o| o.summary("A framework's references, each with its mapped checks, relationship and status")))
        .api_route("/compliance/run", post_with(run, |o| o.summary("Evaluate every check now (managers, admins)")))
}

/// A check mapped to a reference of another framework.
#[derive(Serialize, JsonSchema)]
pub struct MappingView {
    /// The framework's key.
    pub framework: String,
    /// The reference (`CC6.1`, `Art. 30(1)`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// How the check relates to it.
    pub relationship: Relationship,
}

/// A check.
#[derive(Serialize, JsonSchema)]
pub struct CheckView {
    /// Stable id.
    pub id: &'static str,
    /// Raised when what passes changes.
    pub version: u32,
    /// What it checks.
    pub title: &'static str,
    /// How much a failure matters.
    pub severity: Severity,
    /// What it is about.
    pub subject_type: SubjectType,
    /// Which subjects it applies to.
    pub population: &'static str,
    /// When a subject passes.
    pub passes_when: &'static str,
    /// What to do about a failure.
    pub remediation: &'static str,
    /// The ISO/IEC 27001:2022 controls it evidences.
    pub controls: Vec<&'static str>,
    /// Its mappings to the other frameworks.
    pub mappings: Vec<MappingView>,
}

impl CheckView {
    fn of(c: &'static Check) -> Self {
        let mappings = crosswalk::frameworks()
            .iter()
            .filter(|f| f.key != crosswalk::ISO27001)
            .flat_map(|f| {
                crosswalk::references_of(&f.key, c.id).map(|(r, rel)| MappingView {
                    framework: f.key.clone(),
                    reference: r.id.clone(),
                    relationship: rel,
                })
            })
            .collect();
        CheckView {
            id: c.id,
            version: c.version,
            title: c.title,
            severity: c.severity,
            subject_type: c.subject,
            population: c.population,
            passes_when: c.passes_when,
            remediation: c.remediation,
            controls: crosswalk::controls_of(c.id),
            mappings,
        }
    }
}

/// `GET /compliance/checks`.
pub async fn checks(Caller(_): Caller) -> Json<Listing<CheckView>> {
    Listing::all(CHECKS.iter().map(CheckView::of).collect())
}

/// The filters of the findings list.
#[derive(JsonSchema)]
pub struct FindingFilters {
    #[serde(flatten)]
    pub page: PageParams,
    /// Only this check's findings.
    pub check_id: Option<String>,
    /// Only findings in this status.
    pub status: Option<FindingStatus>,
    /// Only findings about subjects of this type.
    pub subject_type: Option<SubjectType>,
    /// Only findings about this subject.
    pub subject_id: Option<Uuid>,
    /// Only findings for this party to act on.
    pub owner_id: Option<Uuid>,
    /// Only findings of the checks evidencing this ISO/IEC 27001 control (`A.5.9`).
    pub control: Option<String>,
    /// Only findings of the checks mapped to this framework (`gdpr`).
    pub framework: Option<String>,
    /// `newest` for the newest first; oldest first when absent.
    pub order: Option<String>,
}

/// A finding, with names beside ids.
#[derive(Serialize, JsonSchema)]
pub struct FindingView {
    /// Identifier.
    pub id: Uuid,
    /// The check.
    pub check_id: String,
    /// The check's title.
    pub check_title: &'static str,
    /// The check's severity.
    pub severity: Severity,
    /// The ISO/IEC 27001 controls the check evidences.
    pub controls: Vec<&'static str>,
    /// What it is about.
    pub subject_type: SubjectType,
    /// The subject's id (a policy document's is fixed: see the API docs).
    pub subject_id: Uuid,
    /// The subject's name ("AST-000042 ThinkPad T14", a person's name, a policy's title).
    pub subject_name: Option<String>,
    /// Open, excepted or resolved.
    pub status: FindingStatus,
    /// When the subject first failed the check.
    pub first_failed_at: DateTime<Utc>,
    /// When it passed again (resolved findings).
    pub resolved_at: Option<DateTime<Utc>>,
    /// What is wrong, in words.
    pub message: String,
    /// What to do.
    pub remediation: &'static str,
    /// The party to act.
    pub owner_id: Option<Uuid>,
    /// Their name.
    pub owner_name: Option<String>,
    /// The exception that sets it aside (excepted findings).
    pub exception_id: Option<Uuid>,
    /// When its status last changed.
    pub changed_at: DateTime<Utc>,
}

/// Finding views with the subjects' and owners' names.
pub async fn finding_views(
    s: &AppState,
    ctx: &custodian_app::Ctx,
    findings: Vec<Finding>,
) -> Result<Vec<FindingView>, Problem> {
    let names = s.app.subject_names(ctx, &findings).await?;
    Ok(findings
        .into_iter()
        .map(|f| {
            let c = check(&f.check_id);
            FindingView {
                id: f.id,
                check_title: c.map_or("", |c| c.title),
                severity: c.map_or(Severity::Low, |c| c.severity),
                controls: crosswalk::controls_of(&f.check_id),
                remediation: c.map_or("", |c| c.remediation),
                check_id: f.check_id,
                subject_type: f.subject_type,
                subject_id: f.subject_id,
                subject_name: names.get(&f.subject_id).cloned(),
                status: f.status,
                first_failed_at: f.first_failed_at,
                resolved_at: f.resolved_at,
                message: f.message,
                owner_name: f.owner_id.and_then(|o| names.get(&o).cloned()),
                owner_id: f.owner_id,
                exception_id: f.exception_id,
                changed_at: f.changed_at,
            }
        })
        .collect())
}

/// The checks a findings or trend filter names: a check, a control's, a framework's.
fn checks_named(
    p: &Query<impl JsonSchema>,
    check_key: &str,
) -> Result<Option<Vec<String>>, Problem> {
    let one = p.parse(check_key, |v| {
        check(v).map(|c| c.id.to_string()).ok_or_else(|| {
            format!(
                "must be a check id ({}), not {v:?}",
                CHECKS.map(|c| c.id).join(", ")
            )
        })
    })?;
    let control = p.parse("control", |v| {
        let known = crosswalk::framework(crosswalk::ISO27001)
            .is_some_and(|f| f.references.iter().any(|r| r.id == v));
        if known {
            Ok(v.to_string())
        } else {
            Err(format!(
                "must be an ISO/IEC 27001 control of the crosswalk (A.5.9), not {v:?}"
            ))
        }
    })?;
    let framework = p.parse("framework", |v| {
        crosswalk::framework(v)
            .map(|f| f.key.clone())
            .ok_or_else(|| {
                let keys: Vec<&str> = crosswalk::frameworks()
                    .iter()
                    .map(|f| f.key.as_str())
                    .collect();
                format!("must be one of {}, not {v:?}", keys.join(", "))
            })
    })?;
    if one.is_none() && control.is_none() && framework.is_none() {
        return Ok(None);
    }
    let mut ids: Vec<String> = crosswalk::checks_for(framework.as_deref(), control.as_deref())
        .into_iter()
        .map(String::from)
        .collect();
    if let Some(c) = one {
        ids.retain(|i| *i == c);
    }
    Ok(Some(ids))
}

/// `GET /compliance/findings`.
pub async fn findings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<FindingFilters>,
) -> ApiResult<Json<Listing<FindingView>>> {
    let q = FindingQuery {
        limit: p.limit()?,
        cursor: p.cursor()?,
        check_ids: checks_named(&p, "check_id")?,
        status: p.parse("status", word(FindingStatus::parse, FindingStatus::NAMES))?,
        subject_type: p.parse("subject_type", word(SubjectType::parse, SubjectType::NAMES))?,
        subject_id: p.id("subject_id")?,
        owner_id: p.id("owner_id")?,
        within: None,
        newest_first: p
            .parse("order", |v| match v {
                "newest" => Ok(true),
                "oldest" => Ok(false),
                _ => Err(format!("must be newest or oldest, not {v:?}")),
            })?
            .unwrap_or(false),
    };
    let page = s.app.list_findings(&ctx, q).await?;
    let next_cursor = page.next_cursor.map(|c| c.encode());
    Ok(Json(Listing {
        items: finding_views(&s, &ctx, page.items).await?,
        next_cursor,
    }))
}

/// One change in a finding's history.
#[derive(Serialize, JsonSchema)]
pub struct FindingEventView {
    /// When.
    pub at: DateTime<Utc>,
    /// The status it took.
    pub status: FindingStatus,
    /// What was wrong then.
    pub message: String,
}

/// A finding with its history.
#[derive(Serialize, JsonSchema)]
pub struct FindingDetail {
    /// The finding.
    #[serde(flatten)]
    pub finding: FindingView,
    /// Its changes of status, oldest first.
    pub history: Vec<FindingEventView>,
}

/// `GET /compliance/findings/{id}`.
pub async fn finding(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    RecordId(id): RecordId,
) -> ApiResult<Status<FindingDetail, 200>> {
    let (f, history) = s.app.get_finding(&ctx, id).await?;
    let finding = finding_views(&s, &ctx, vec![f])
        .await?
        .pop()
        .ok_or_else(|| Problem::from(custodian_app::AppError::not_found("finding", id)))?;
    Ok(Status(FindingDetail {
        finding,
        history: history
            .into_iter()
            .map(|e: FindingEvent| FindingEventView {
                at: e.at,
                status: e.status,
                message: e.message,
            })
            .collect(),
    }))
}

/// A tally with its pass rate.
#[derive(Serialize, JsonSchema)]
pub struct TallyView {
    /// Passing.
    pub pass: i64,
    /// Failing.
    pub fail: i64,
    /// Failing, set aside by an exception (never counted as a pass).
    pub excepted: i64,
    /// Outside the population.
    pub not_applicable: i64,
    /// `pass / (pass + fail)`; null when nothing was measured.
    pub pass_rate: Option<f64>,
}

impl From<Tally> for TallyView {
    fn from(t: Tally) -> Self {
        TallyView {
            pass: t.pass,
            fail: t.fail,
            excepted: t.excepted,
            not_applicable: t.not_applicable,
            pass_rate: t.pass_rate(),
        }
    }
}

/// One check's KPI.
#[derive(Serialize, JsonSchema)]
pub struct CheckKpi {
    /// The check.
    pub check_id: &'static str,
    /// Its title.
    pub title: &'static str,
    /// Its severity.
    pub severity: Severity,
    /// Its tally.
    #[serde(flatten)]
    pub tally: TallyView,
}

/// One control's (or reference's) KPI: its checks' tallies summed.
#[derive(Serialize, JsonSchema)]
pub struct ReferenceKpi {
    /// The reference (`A.5.9`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// What it asks.
    pub title: String,
    /// Pass, fail, or manual (no check evidences it).
    pub status: ControlStatus,
    /// The checks summed.
    pub checks: Vec<&'static str>,
    /// Their tallies summed.
    #[serde(flatten)]
    pub tally: TallyView,
}

/// One framework's KPI.
#[derive(Serialize, JsonSchema)]
pub struct FrameworkKpi {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Pass, fail, or manual.
    pub status: ControlStatus,
    /// How many of its references no check evidences.
    pub manual: usize,
    /// Its checks' tallies summed (each check once).
    #[serde(flatten)]
    pub tally: TallyView,
}

/// The KPIs.
#[derive(Serialize, JsonSchema)]
pub struct KpisView {
    /// Per check.
    pub checks: Vec<CheckKpi>,
    /// Per ISO/IEC 27001 control.
    pub controls: Vec<ReferenceKpi>,
    /// Per framework.
    pub frameworks: Vec<FrameworkKpi>,
    /// When the figures were last brought up to date (null before the first evaluation).
    pub computed_at: Option<DateTime<Utc>>,
    /// The audit event the register stood at.
    pub audit_seq: i64,
}

fn framework_kpi(f: &Framework, k: &Kpis) -> FrameworkKpi {
    let r = kpi::framework_rollup(f, &|c| k.tally(c));
    FrameworkKpi {
        key: f.key.clone(),
        name: f.name.clone(),
        status: r.status,
        manual: f
            .references
            .iter()
            .filter(|r| r.mappings.is_empty())
            .count(),
        tally: r.tally.into(),
    }
}

/// The KPIs as answered.
pub fn kpis_view(k: &Kpis) -> KpisView {
    KpisView {
        checks: k
            .checks
            .iter()
            .map(|(c, t)| CheckKpi {
                check_id: c.id,
                title: c.title,
                severity: c.severity,
                tally: (*t).into(),
            })
            .collect(),
        controls: kpi::control_rollups(&|c| k.tally(c))
            .into_iter()
            .map(|(r, roll)| ReferenceKpi {
                reference: r.id.clone(),
                title: r.title.clone(),
                status: roll.status,
                checks: roll.checks,
                tally: roll.tally.into(),
            })
            .collect(),
        frameworks: crosswalk::frameworks()
            .iter()
            .map(|f| framework_kpi(f, k))
            .collect(),
        computed_at: k.computed_at,
        audit_seq: k.audit_seq,
    }
}

/// `GET /compliance/kpis`.
pub async fn kpis(State(s): State<AppState>, Caller(ctx): Caller) -> ApiResult<Json<KpisView>> {
    Ok(Json(kpis_view(&s.app.compliance_kpis(&ctx).await?)))
}

/// The filters of the trend.
#[derive(JsonSchema)]
pub struct TrendFilters {
    /// One check's points.
    pub check_id: Option<String>,
    /// The points of the checks evidencing this ISO/IEC 27001 control.
    pub control: Option<String>,
    /// The points of the checks mapped to this framework.
    pub framework: Option<String>,
    /// The first day (90 days before `to` when absent).
    pub from: Option<NaiveDate>,
    /// The last day (today when absent).
    pub to: Option<NaiveDate>,
}

/// One day's point.
#[derive(Serialize, JsonSchema)]
pub struct TrendPointView {
    /// The day.
    pub date: NaiveDate,
    /// Its tally.
    #[serde(flatten)]
    pub tally: TallyView,
}

/// The longest trend answered at once, in days.
const MAX_TREND_DAYS: i64 = 3660;

/// `GET /compliance/trend`.
pub async fn trend(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    p: Query<TrendFilters>,
) -> ApiResult<Json<Listing<TrendPointView>>> {
    let date = |v: &str| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| format!("must be a date (YYYY-MM-DD), not {v:?}"))
    };
    let to = p
        .parse("to", date)?
        .unwrap_or_else(|| custodian_domain::now().date_naive());
    let from = p.parse("from", date)?.unwrap_or(to - TimeDelta::days(90));
    if from > to {
        return Err(Problem::bad_request("from", "from must not be after to"));
    }
    if (to - from).num_days() > MAX_TREND_DAYS {
        return Err(Problem::bad_request(
            "from",
            format!("from must be at most {MAX_TREND_DAYS} days before to"),
        ));
    }
    let ids = checks_named(&p, "check_id")?;
    let named: Vec<&str> = ids.iter().flatten().map(String::as_str).collect();
    if ids.as_ref().is_some_and(|i| i.is_empty()) {
        return Ok(Listing::all(vec![]));
    }
    let points = s.app.compliance_trend(&ctx, &named, from, to).await?;
    Ok(Listing::all(
        points
            .into_iter()
            .map(|p| TrendPointView {
                date: p.date,
                tally: p.tally.into(),
            })
            .collect(),
    ))
}

/// A reference of a framework.
#[derive(Serialize, JsonSchema)]
pub struct ReferenceView {
    /// The reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// What it asks.
    pub title: String,
    /// The version of the text mapped.
    pub version: String,
    /// Where it is published.
    pub source: String,
    /// Pass, fail, or manual (assessed by hand: never passing on its own).
    pub status: ControlStatus,
    /// The checks mapped to it.
    pub checks: Vec<ReferenceCheck>,
    /// Their tallies summed.
    #[serde(flatten)]
    pub tally: TallyView,
}

/// A check mapped to a reference.
#[derive(Serialize, JsonSchema)]
pub struct ReferenceCheck {
    /// The check.
    pub check_id: String,
    /// How it relates to the reference.
    pub relationship: Relationship,
    /// Its own status: fail when any subject fails it.
    pub status: ControlStatus,
}

/// A framework with its references.
#[derive(Serialize, JsonSchema)]
pub struct FrameworkView {
    /// Its key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// The version mapped.
    pub version: String,
    /// Where it is published.
    pub source: String,
    /// Pass, fail, or manual.
    pub status: ControlStatus,
    /// How many references no check evidences.
    pub manual: usize,
    /// Its checks' tallies summed.
    #[serde(flatten)]
    pub tally: TallyView,
    /// Its references (only in `GET /compliance/frameworks/{key}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<ReferenceView>>,
}

fn framework_view(f: &Framework, k: &Kpis, whole: bool) -> FrameworkView {
    let head = framework_kpi(f, k);
    let references = whole.then(|| {
        f.references
            .iter()
            .map(|r| {
                let roll = kpi::roll_up(kpi::mapped_checks(r), &|c| k.tally(c));
                ReferenceView {
                    reference: r.id.clone(),
                    title: r.title.clone(),
                    version: r.version_in(f).to_string(),
                    source: r.source_in(f).to_string(),
                    status: roll.status,
                    checks: r
                        .mappings
                        .iter()
                        .map(|m| ReferenceCheck {
                            check_id: m.check.clone(),
                            relationship: m.relationship,
                            status: if k.tally(&m.check).fail > 0 {
                                ControlStatus::Fail
                            } else {
                                ControlStatus::Pass
                            },
                        })
                        .collect(),
                    tally: roll.tally.into(),
                }
            })
            .collect()
    });
    FrameworkView {
        key: head.key,
        name: head.name,
        version: f.version.clone(),
        source: f.source.clone(),
        status: head.status,
        manual: head.manual,
        tally: head.tally,
        references,
    }
}

/// `GET /compliance/frameworks`.
pub async fn frameworks(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Listing<FrameworkView>>> {
    let k = s.app.compliance_kpis(&ctx).await?;
    Ok(Listing::all(
        crosswalk::frameworks()
            .iter()
            .map(|f| framework_view(f, &k, false))
            .collect(),
    ))
}

/// `GET /compliance/frameworks/{key}`.
pub async fn framework(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Key(key): Key,
) -> ApiResult<Status<FrameworkView, 200>> {
    let k = s.app.compliance_kpis(&ctx).await?;
    let f = crosswalk::framework(&key)
        .ok_or_else(|| Problem::from(custodian_app::AppError::not_found("framework", &key)))?;
    Ok(Status(framework_view(f, &k, true)))
}

/// `POST /compliance/run`.
pub async fn run(State(s): State<AppState>, Caller(ctx): Caller) -> ApiResult<Json<RunReport>> {
    Ok(Json(s.app.run_compliance(&ctx).await?))
}

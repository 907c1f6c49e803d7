//! Compliance measurement (SPEC §8): the evaluation of the checks over the register, the
//! findings it keeps current, the KPIs, the daily snapshots and the trend.
//!
//! One job evaluates, once at a time across every instance (it is claimed like any job of
//! the register). Each run follows the audit trail from where the last one stopped and
//! re-evaluates only the subjects its new events touched; the first run of a day
//! evaluates the whole register (dates pass: reviews fall due, exceptions expire) and
//! keeps the day's snapshot. `custodian compliance run` and `POST /compliance/run` run a
//! full evaluation at once.

mod evaluate;
mod held;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::asset::Asset;
use custodian_domain::compliance::kpi::Tally;
use custodian_domain::compliance::{check_ids, FindingStatus, SubjectType, CHECKS};
use custodian_domain::exception::PolicyException;
use custodian_domain::offboarding::Offboarding;
use custodian_store::{
    AssetQuery, ComplianceState, EvaluationBatch, Finding, FindingEvent, FindingQuery, MatchKey,
    Page, Snapshot, Within,
};

pub use held::HeldLevel;

use crate::{App, AppError, Ctx, Result};

/// The name under which evaluations are claimed, so that one runs at a time.
pub const JOB: &str = "compliance";

/// How many assets one step of a full evaluation reads and writes.
const PAGE: u32 = 2000;

/// Past this many events to follow, a full evaluation is the cheaper way to catch up.
const FOLLOW_AT_MOST: i64 = 200_000;

/// Past this many assets touched by followed events, a full evaluation is cheaper.
const TOUCHED_AT_MOST: usize = 100_000;

/// How long `run` waits for an evaluation under way elsewhere to finish.
const WAIT_FOR_RUN: Duration = Duration::from_secs(120);

/// Waits for a write under way, if any.
async fn written(w: Option<tokio::task::JoinHandle<custodian_store::Result<()>>>) -> Result<()> {
    match w {
        None => Ok(()),
        Some(h) => h
            .await
            .map_err(|e| AppError::Internal(format!("an evaluation's write stopped: {e}")))?
            .map_err(AppError::from),
    }
}

/// The catalogue the stored outcomes were computed with: stored outcomes are bits by a
/// check's place, so another catalogue means counting afresh.
fn layout() -> String {
    check_ids().collect::<Vec<_>>().join(" ")
}

/// What one evaluation did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct RunReport {
    /// Whether the whole register was evaluated (or only what changed).
    pub full: bool,
    /// Subjects evaluated.
    pub subjects: u64,
    /// Findings opened for the first time.
    pub opened: u64,
    /// Findings whose status changed (reopened, excepted, resolved).
    pub changed: u64,
    /// Snapshots kept (one per check, the first run of a day).
    pub snapshots: u64,
    /// The audit event the figures now stand at.
    pub audit_seq: i64,
}

impl RunReport {
    fn add(&mut self, b: &EvaluationBatch, subjects: usize) {
        self.subjects += subjects as u64;
        self.opened += b.new_findings.len() as u64;
        self.changed += (b.events.len() - b.new_findings.len()) as u64;
    }

    /// One line for logs and the command line.
    pub fn describe(&self) -> String {
        format!(
            "{} evaluation of {} subjects: {} findings opened, {} changed, {} snapshots kept, at audit event {}",
            if self.full { "full" } else { "incremental" },
            self.subjects,
            self.opened,
            self.changed,
            self.snapshots,
            self.audit_seq
        )
    }
}

/// The KPIs: each check's tally, with the state of the register they measured.
#[derive(Clone, Debug)]
pub struct Kpis {
    /// Each check's tally, in catalogue order.
    pub checks: Vec<(&'static custodian_domain::compliance::Check, Tally)>,
    /// When the figures were last brought up to date.
    pub computed_at: Option<DateTime<Utc>>,
    /// The audit event they stand at.
    pub audit_seq: i64,
    /// Its hash.
    pub audit_hash: String,
}

impl Kpis {
    /// The tally of check `id`.
    pub fn tally(&self, id: &str) -> Tally {
        self.checks
            .iter()
            .find(|(c, _)| c.id == id)
            .map(|(_, t)| *t)
            .unwrap_or_default()
    }
}

/// One day of a trend.
#[derive(Clone, Debug, PartialEq)]
pub struct TrendPoint {
    /// The day.
    pub date: NaiveDate,
    /// The tallies of the checks asked for, summed.
    pub tally: Tally,
}

/// The subjects the followed events touched.
#[derive(Default)]
struct Touched {
    everything: bool,
    assets: HashSet<Uuid>,
    parties: HashSet<Uuid>,
    persons: HashSet<Uuid>,
    all_persons: bool,
    policies: bool,
    exceptions: HashSet<Uuid>,
    cases: HashSet<Uuid>,
}

impl App {
    /// The job's run: follows the audit trail, or evaluates everything on the day's first
    /// run, and keeps the day's snapshot.
    pub(crate) async fn keep_compliance_current(&self) -> Result<RunReport> {
        let state = self.store.compliance_state().await?;
        let today = custodian_domain::now().date_naive();
        let mut report = match &state {
            Some(s) if s.layout == layout() && s.full_day == Some(today) => {
                match self.follow(s).await? {
                    Some(r) => r,
                    None => self.evaluate_all(state.as_ref()).await?,
                }
            }
            _ => self.evaluate_all(state.as_ref()).await?,
        };
        report.snapshots = self.keep_todays_snapshots(today).await?;
        Ok(report)
    }

    /// Evaluates the whole register now (managers, admins): waits for an evaluation under
    /// way elsewhere to finish first.
    pub async fn run_compliance(&self, ctx: &Ctx) -> Result<RunReport> {
        self.allow(ctx, Action::RunCompliance).await?;
        self.claimed(async {
            let state = self.store.compliance_state().await?;
            let mut r = self.evaluate_all(state.as_ref()).await?;
            r.snapshots = self
                .keep_todays_snapshots(custodian_domain::now().date_naive())
                .await?;
            Ok(r)
        })
        .await
    }

    /// Brings findings up to date with the register now, as the scheduled job does
    /// (for tools and tests that cannot wait for its next run).
    pub async fn catch_up_compliance(&self) -> Result<RunReport> {
        self.claimed(self.keep_compliance_current()).await
    }

    /// Runs `work` as the one evaluation under way, and records how it ended.
    async fn claimed(
        &self,
        work: impl std::future::Future<Output = Result<RunReport>>,
    ) -> Result<RunReport> {
        self.claim_compliance().await?;
        let result = work.await;
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("failed: {e}"),
        };
        self.store
            .finish_job(JOB, custodian_domain::now(), &outcome)
            .await?;
        result
    }

    async fn claim_compliance(&self) -> Result<()> {
        let started = std::time::Instant::now();
        loop {
            let now = custodian_domain::now();
            if self.store.claim_job(JOB, now, now).await? {
                return Ok(());
            }
            if started.elapsed() > WAIT_FOR_RUN {
                return Err(AppError::Conflict {
                    message: "an evaluation is under way and has not finished: try again shortly"
                        .into(),
                    field: None,
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Evaluates every subject, page by page, and records where it stands.
    async fn evaluate_all(&self, state: Option<&ComplianceState>) -> Result<RunReport> {
        let head = self.store.audit_head().await?;
        let w = self.world().await?;
        let reset = state.is_none_or(|s| s.layout != layout());
        let mut report = RunReport {
            full: true,
            audit_seq: head.0,
            ..RunReport::default()
        };
        let mut first = reset;
        let mut after = None;
        // A page is written while the next is read and judged: one write in flight, in
        // order, so that the first (which may reset the tallies) lands before the others.
        let mut writing: Option<tokio::task::JoinHandle<custodian_store::Result<()>>> = None;
        loop {
            let page = self.store.assets_by_id(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let judged = self.judge_assets(&w, &page).await?;
            let mut b = self
                .settle_judged(SubjectType::Asset, judged, w.now, reset)
                .await?;
            b.reset = std::mem::take(&mut first);
            report.add(&b, page.len());
            written(writing.take()).await?;
            let store = self.store.clone();
            writing = Some(tokio::spawn(
                async move { store.record_evaluation(b).await },
            ));
        }
        written(writing.take()).await?;
        let (xs, cases) = self.every_exception_and_case().await?;
        let mut rest = vec![
            (SubjectType::Person, self.judge_persons(&w, None).await?),
            (SubjectType::Policy, self.judge_policies(&w).await?),
            (SubjectType::Exception, self.judge_exceptions(&w, &xs)),
            (SubjectType::Offboarding, self.judge_cases(&w, &cases)),
        ];
        let n = rest.len();
        for (k, (t, judged)) in rest.drain(..).enumerate() {
            let count = judged.len();
            let mut b = self.settle_judged(t, judged, w.now, reset).await?;
            b.reset = std::mem::take(&mut first);
            if k + 1 == n {
                b.state = Some(ComplianceState {
                    follow_seq: head.0,
                    full_day: Some(w.today),
                    layout: layout(),
                    computed_at: Some(w.now),
                    audit_seq: head.0,
                    audit_hash: head.1.clone(),
                });
            }
            report.add(&b, count);
            self.store.record_evaluation(b).await?;
        }
        Ok(report)
    }

    /// Re-evaluates what the events since the last run touched; `None` when so much
    /// changed that a full evaluation is cheaper.
    async fn follow(&self, s: &ComplianceState) -> Result<Option<RunReport>> {
        let head = self.store.audit_head().await?;
        if head.0 - s.follow_seq > FOLLOW_AT_MOST {
            return Ok(None);
        }
        let mut touched = Touched::default();
        let mut seq = s.follow_seq;
        while seq < head.0 {
            let events = self.store.entities_after(seq, 5000).await?;
            let Some(last) = events.last() else { break };
            seq = last.0.min(head.0);
            for (_, entity_type, entity_id) in events.iter().filter(|e| e.0 <= head.0) {
                self.touch(&mut touched, entity_type, entity_id).await?;
            }
            if touched.everything {
                return Ok(None);
            }
        }
        let mut report = RunReport {
            audit_seq: head.0,
            ..RunReport::default()
        };
        let moved = ComplianceState {
            follow_seq: head.0,
            computed_at: Some(custodian_domain::now()),
            audit_seq: head.0,
            audit_hash: head.1.clone(),
            ..s.clone()
        };
        if seq == s.follow_seq {
            return Ok(Some(report));
        }
        // What a party's change reaches: its assets, and those of the teams and roles it
        // belongs to or holds (an owner that has left orphans them).
        for p in std::mem::take(&mut touched.parties) {
            let mut owners = vec![p];
            owners.extend(self.store.memberships(p).await?);
            for o in owners {
                self.assets_owned_by(o, &mut touched.assets).await?;
                if touched.assets.len() > TOUCHED_AT_MOST {
                    return Ok(None);
                }
            }
            touched.persons.insert(p);
        }
        let holders = self
            .holders_of(&touched.assets.iter().copied().collect::<Vec<_>>())
            .await?;
        touched.assets.extend(holders);
        if touched.assets.len() > TOUCHED_AT_MOST {
            return Ok(None);
        }
        let w = self.world().await?;
        let ids: Vec<String> = touched.assets.iter().map(Uuid::to_string).collect();
        for chunk in ids.chunks(PAGE as usize) {
            let assets: Vec<Asset> = self.store.find_assets(MatchKey::Id, chunk).await?;
            let judged = self.judge_assets(&w, &assets).await?;
            let b = self
                .settle_judged(SubjectType::Asset, judged, w.now, false)
                .await?;
            report.add(&b, assets.len());
            self.store.record_evaluation(b).await?;
        }
        let persons = (touched.all_persons || !touched.persons.is_empty()).then(|| {
            if touched.all_persons {
                None
            } else {
                Some(touched.persons.clone())
            }
        });
        let mut rest: Vec<(SubjectType, Vec<evaluate::Judged>)> = Vec::new();
        if let Some(only) = persons {
            rest.push((
                SubjectType::Person,
                self.judge_persons(&w, only.as_ref()).await?,
            ));
        }
        if touched.policies {
            rest.push((SubjectType::Policy, self.judge_policies(&w).await?));
        }
        let mut xs: Vec<PolicyException> = Vec::new();
        for id in &touched.exceptions {
            xs.extend(self.store.exception(*id).await?);
        }
        rest.push((SubjectType::Exception, self.judge_exceptions(&w, &xs)));
        let mut cases: Vec<Offboarding> = Vec::new();
        for id in &touched.cases {
            cases.extend(self.store.offboarding(*id).await?);
        }
        rest.push((SubjectType::Offboarding, self.judge_cases(&w, &cases)));
        let n = rest.len();
        for (k, (t, judged)) in rest.into_iter().enumerate() {
            let count = judged.len();
            let mut b = self.settle_judged(t, judged, w.now, false).await?;
            if k + 1 == n {
                b.state = Some(moved.clone());
            }
            report.add(&b, count);
            self.store.record_evaluation(b).await?;
        }
        Ok(Some(report))
    }

    /// Notes what one event touched.
    async fn touch(&self, t: &mut Touched, entity_type: &str, entity_id: &str) -> Result<()> {
        let Ok(id) = Uuid::parse_str(entity_id) else {
            // Levels are keyed by name: a change of the scheme's rules reaches everything.
            if entity_type == "classification" {
                t.everything = true;
            }
            return Ok(());
        };
        match entity_type {
            "asset" => {
                t.assets.insert(id);
            }
            "party" => {
                t.parties.insert(id);
            }
            "assignment" => {
                if let Some(a) = self.store.assignment(id).await? {
                    t.assets.insert(a.asset_id);
                    t.persons.extend(a.person_id);
                }
            }
            "acknowledgement" | "policy" => {
                t.policies = true;
                t.all_persons = true;
            }
            "exception" => {
                t.exceptions.insert(id);
                if let Some(x) = self.store.exception(id).await? {
                    t.assets.extend(x.asset_ids);
                    t.all_persons = true;
                }
            }
            "offboarding" => {
                t.cases.insert(id);
            }
            "classification" | "location" => t.everything = true,
            _ => {}
        }
        Ok(())
    }

    async fn assets_owned_by(&self, owner: Uuid, into: &mut HashSet<Uuid>) -> Result<()> {
        let mut cursor = None;
        loop {
            let page = self
                .store
                .list_assets(&AssetQuery {
                    limit: 500,
                    cursor,
                    owner_id: Some(owner),
                    ..Default::default()
                })
                .await?;
            into.extend(page.items.iter().map(|a| a.id));
            if into.len() > TOUCHED_AT_MOST {
                return Ok(());
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(()),
            }
        }
    }

    /// Keeps today's snapshot of every check, unless it is kept already.
    async fn keep_todays_snapshots(&self, today: NaiveDate) -> Result<u64> {
        let Some(state) = self.store.compliance_state().await? else {
            return Ok(0);
        };
        // Kept already (the usual case): read, not written again.
        let first = [CHECKS[0].id.to_string()];
        if !self
            .store
            .snapshots(Some(&first), today, today)
            .await?
            .is_empty()
        {
            return Ok(0);
        }
        let tallies = self.store.tallies().await?;
        let now = custodian_domain::now();
        let snaps: Vec<Snapshot> = CHECKS
            .iter()
            .map(|c| Snapshot {
                day: today,
                check_id: c.id.to_string(),
                tally: tallies
                    .iter()
                    .find(|(id, _)| id == c.id)
                    .map(|(_, t)| *t)
                    .unwrap_or_default(),
                audit_seq: state.audit_seq,
                audit_hash: state.audit_hash.clone(),
                computed_at: now,
            })
            .collect();
        Ok(self.store.keep_snapshots(&snaps).await?)
    }

    /// The KPIs (readers of the whole register).
    pub async fn compliance_kpis(&self, ctx: &Ctx) -> Result<Kpis> {
        self.allow(ctx, Action::ReadRegister).await?;
        let tallies = self.store.tallies().await?;
        let state = self.store.compliance_state().await?.unwrap_or_default();
        Ok(Kpis {
            checks: CHECKS
                .iter()
                .map(|c| {
                    let t = tallies
                        .iter()
                        .find(|(id, _)| id == c.id)
                        .map(|(_, t)| *t)
                        .unwrap_or_default();
                    (c, t)
                })
                .collect(),
            computed_at: state.computed_at,
            audit_seq: state.audit_seq,
            audit_hash: state.audit_hash,
        })
    }

    /// The daily points of `checks` (every check when empty) from `from` to `to`.
    pub async fn compliance_trend(
        &self,
        ctx: &Ctx,
        checks: &[&str],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<TrendPoint>> {
        self.allow(ctx, Action::ReadRegister).await?;
        let ids: Vec<String> = checks.iter().map(|c| c.to_string()).collect();
        let snaps = self
            .store
            .snapshots((!ids.is_empty()).then_some(ids.as_slice()), from, to)
            .await?;
        let mut out: Vec<TrendPoint> = Vec::new();
        for s in snaps {
            match out.last_mut() {
                Some(p) if p.date == s.day => p.tally = p.tally.plus(s.tally),
                _ => out.push(TrendPoint {
                    date: s.day,
                    tally: s.tally,
                }),
            }
        }
        Ok(out)
    }

    /// A page of findings: everyone's for readers of the whole register; a member's own
    /// (what they, their teams and roles own, and what they hold).
    pub async fn list_findings(&self, ctx: &Ctx, mut q: FindingQuery) -> Result<Page<Finding>> {
        self.allow(ctx, Action::ReadReference).await?;
        q.within = self.finding_scope(ctx).await?;
        Ok(self.store.list_findings(&q).await?)
    }

    async fn finding_scope(&self, ctx: &Ctx) -> Result<Option<Within>> {
        Ok(self.reach(ctx).await?.map(|r| {
            let mut parties: Vec<Uuid> = r.own.iter().copied().collect();
            parties.sort();
            let mut ids: Vec<Uuid> = r.held.iter().copied().collect();
            ids.sort();
            Within { parties, ids }
        }))
    }

    /// One finding and its history (404 for a member when it is not theirs).
    pub async fn get_finding(&self, ctx: &Ctx, id: Uuid) -> Result<(Finding, Vec<FindingEvent>)> {
        self.allow(ctx, Action::ReadReference).await?;
        let missing = || AppError::not_found("finding", id);
        let f = self.store.finding(id).await?.ok_or_else(missing)?;
        if let Some(w) = self.finding_scope(ctx).await? {
            let mine =
                f.owner_id.is_some_and(|o| w.parties.contains(&o)) || w.ids.contains(&f.subject_id);
            if !mine {
                return Err(missing());
            }
        }
        let history = self.store.finding_history(id).await?;
        Ok((f, history))
    }

    /// The open and excepted findings about one asset (for its page).
    pub async fn findings_about(
        &self,
        ctx: &Ctx,
        t: SubjectType,
        id: Uuid,
    ) -> Result<Vec<Finding>> {
        let q = FindingQuery {
            limit: 100,
            subject_type: Some(t),
            subject_id: Some(id),
            ..Default::default()
        };
        Ok(self
            .list_findings(ctx, q)
            .await?
            .items
            .into_iter()
            .filter(|f| f.status != FindingStatus::Resolved)
            .collect())
    }

    /// The open findings for the caller to act on: what they, their teams and roles own,
    /// and what they hold ("yours to fix").
    pub async fn findings_to_fix(&self, ctx: &Ctx, limit: u32) -> Result<Page<Finding>> {
        self.allow(ctx, Action::ReadReference).await?;
        let Some(me) = ctx.principal().and_then(|p| p.person_id) else {
            return Ok(Page {
                items: vec![],
                next_cursor: None,
            });
        };
        let mut parties = vec![me];
        parties.extend(self.store.memberships(me).await?);
        let mut held: Vec<Uuid> = self.held_by(me).await?;
        held.sort();
        let q = FindingQuery {
            limit,
            status: Some(FindingStatus::Open),
            within: Some(Within { parties, ids: held }),
            ..Default::default()
        };
        Ok(self.store.list_findings(&q).await?)
    }

    /// Readable names of findings' subjects: "AST-000042 ThinkPad", a person's name, a
    /// policy's title, an exception's rule, a case's person.
    pub async fn subject_names(
        &self,
        ctx: &Ctx,
        findings: &[Finding],
    ) -> Result<std::collections::HashMap<Uuid, String>> {
        let mut names = std::collections::HashMap::new();
        let of = |t: SubjectType| -> Vec<Uuid> {
            findings
                .iter()
                .filter(|f| f.subject_type == t)
                .map(|f| f.subject_id)
                .collect()
        };
        let assets: Vec<String> = of(SubjectType::Asset).iter().map(Uuid::to_string).collect();
        if !assets.is_empty() {
            for a in self.store.find_assets(MatchKey::Id, &assets).await? {
                names.insert(a.id, format!("{} {}", a.asset_number, a.name));
            }
        }
        let mut parties = of(SubjectType::Person);
        parties.extend(findings.iter().filter_map(|f| f.owner_id));
        names.extend(self.party_names(ctx, &parties).await?);
        for id in of(SubjectType::Policy) {
            if let Some(d) = custodian_domain::policy::PolicyDocument::from_subject_id(id) {
                names.insert(id, d.title().to_string());
            }
        }
        for id in of(SubjectType::Exception) {
            if let Some(x) = self.store.exception(id).await? {
                names.insert(
                    id,
                    format!(
                        "Exception to {} ({} assets, until {})",
                        x.rule,
                        x.asset_ids.len(),
                        x.expires_at
                    ),
                );
            }
        }
        for id in of(SubjectType::Offboarding) {
            if let Some(c) = self.store.offboarding(id).await? {
                let who = self
                    .party_names(ctx, &[c.person_id])
                    .await?
                    .remove(&c.person_id)
                    .unwrap_or_else(|| c.person_id.to_string());
                names.insert(id, format!("{} case of {who}", c.kind));
            }
        }
        Ok(names)
    }
}

//! The evaluation: the checks run over subjects, and what changed written as one batch
//! per step. A full evaluation streams the whole register page by page; following the
//! audit trail re-evaluates only what its new events touched.

use crate::all_pages;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use custodian_domain::asset::{self, Asset, RelationFacts};
use custodian_domain::classification::Classification;
use custodian_domain::compliance::effective::{effective, Carried, SELF};
use custodian_domain::compliance::kpi::Tally;
use custodian_domain::compliance::{
    self as checks, excepting, AssetFacts, FindingStatus, OffPremises, PersonFacts, PolicyFacts,
    SubjectType, Verdict, CHECKS,
};
use custodian_domain::custody::AssignmentKind;
use custodian_domain::exception::{ExceptionRule, ExceptionStatus, PolicyException};
use custodian_domain::lifecycle::Status;
use custodian_domain::offboarding::Offboarding;
use custodian_domain::party::{orphan_reason, Party, PartyKind};
use custodian_domain::policy::{accepted_versions, PolicyDocument, PolicyStatus};
use custodian_store::{
    AssignmentQuery, EvaluationBatch, ExceptionQuery, Finding, FindingEvent, OffboardingQuery,
    SubjectOutcome,
};

use crate::{App, Result};

/// What every step of an evaluation reads once: the day, the scheme, the parties, the
/// places off the premises and the exceptions in force.
pub(crate) struct World {
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
    levels: Vec<Classification>,
    parties: HashMap<Uuid, Party>,
    off_site: HashMap<Uuid, String>,
    exceptions: Vec<PolicyException>,
}

/// One subject's verdicts, with the party to act on them.
pub(crate) struct Judged {
    pub subject_type: SubjectType,
    pub id: Uuid,
    pub owner: Option<Uuid>,
    pub verdicts: Vec<(usize, Verdict)>,
}

/// The tally bucket of check `i` in an outcome.
fn bucket(o: &SubjectOutcome, i: usize) -> Tally {
    let bit = 1u64 << i;
    let mut t = Tally::default();
    if o.applicable & bit == 0 {
        t.not_applicable = 1;
    } else if o.excepted & bit != 0 {
        t.excepted = 1;
    } else if o.failing & bit != 0 {
        t.fail = 1;
    } else {
        t.pass = 1;
    }
    t
}

fn minus(t: Tally) -> Tally {
    Tally {
        pass: -t.pass,
        fail: -t.fail,
        excepted: -t.excepted,
        not_applicable: -t.not_applicable,
    }
}

impl App {
    /// Reads what every step needs.
    pub(crate) async fn world(&self) -> Result<World> {
        let now = custodian_domain::now();
        let store = self.store.clone();
        let parties = self.all_parties().await?;
        let off_site = all_pages(|cursor| {
            let store = store.clone();
            async move { store.list_locations(500, cursor).await }
        })
        .await?
        .into_iter()
        .filter(|l| !l.on_premises)
        .map(|l| (l.id, l.name))
        .collect();
        let exceptions = self.exceptions_in(Some(ExceptionStatus::Approved)).await?;
        Ok(World {
            today: now.date_naive(),
            now,
            levels: self.fresh_scheme().await?.levels.clone(),
            parties: parties.into_iter().map(|p| (p.id, p)).collect(),
            off_site,
            exceptions,
        })
    }

    /// Judges a page of assets.
    pub(crate) async fn judge_assets(&self, w: &World, assets: &[Asset]) -> Result<Vec<Judged>> {
        let ids: Vec<Uuid> = assets.iter().map(|a| a.id).collect();
        let rels = self.store.relations_of(&ids).await?;
        let held = self.held_levels(assets, Some(&rels)).await?;
        let mut custody: HashMap<Uuid, custodian_domain::custody::Assignment> = HashMap::new();
        for a in self.store.open_assignments_of(&ids).await? {
            if a.kind == AssignmentKind::Custody {
                custody.insert(a.asset_id, a);
            }
        }
        let disposed: Vec<Uuid> = assets
            .iter()
            .filter(|a| a.status == Status::Disposed)
            .map(|a| a.id)
            .collect();
        let disposals: HashMap<Uuid, _> = self
            .store
            .disposals_of(&disposed)
            .await?
            .into_iter()
            .map(|d| (d.asset_id, d))
            .collect();
        let people = |id: Uuid| {
            w.parties
                .get(&id)
                .filter(|p| p.kind == PartyKind::Person)
                .and_then(|p| p.status)
        };
        let level = |k: &str| w.levels.iter().find(|l| l.key == k);
        let mut out = Vec::with_capacity(assets.len());
        for a in assets {
            let own = level(&a.classification);
            let mut carried: Vec<Carried> = own
                .map(|l| Carried {
                    because: SELF.into(),
                    level: l,
                })
                .into_iter()
                .collect();
            for h in held.get(&a.id).into_iter().flatten() {
                if let Some(l) = level(&h.level) {
                    carried.push(Carried {
                        because: h.because.clone(),
                        level: l,
                    });
                }
            }
            let eff = effective(&carried);
            let completeness = asset::completeness(a, RelationFacts::from_relations(a.id, &rels));
            let holding = custody.get(&a.id);
            let off_premises = match holding {
                Some(c) if c.off_premises => Some(OffPremises::Custody {
                    approved: c.approved_by.is_some(),
                }),
                _ => a
                    .location_id
                    .and_then(|l| w.off_site.get(&l))
                    .map(|name| OffPremises::Location { name: name.clone() }),
            };
            let facts = AssetFacts {
                asset: a,
                orphaned: w
                    .parties
                    .get(&a.owner_id)
                    .and_then(|o| orphan_reason(o, &people)),
                completeness: &completeness,
                level_known: own.is_some(),
                effective: &eff,
                off_premises,
                custody_due: holding.and_then(|c| c.expected_return_at),
                disposal: disposals.get(&a.id),
                today: w.today,
            };
            let verdicts = checks::asset_outcomes(&facts)
                .into_iter()
                .map(|(i, o)| {
                    let by = excepting(&w.exceptions, CHECKS[i].id, a.id, w.today);
                    (i, o.verdict(by))
                })
                .collect();
            out.push(Judged {
                subject_type: SubjectType::Asset,
                id: a.id,
                owner: Some(a.owner_id),
                verdicts,
            });
        }
        Ok(out)
    }

    /// Judges persons: whether those holding anything acknowledged the acceptable-use
    /// policy in force. `only` limits it to some persons.
    pub(crate) async fn judge_persons(
        &self,
        w: &World,
        only: Option<&HashSet<Uuid>>,
    ) -> Result<Vec<Judged>> {
        let versions = {
            let mut v = self
                .store
                .policies(Some(PolicyDocument::AcceptableUse))
                .await?;
            v.sort_by_key(|p| p.approved_at);
            v
        };
        let in_force = versions.iter().find(|v| v.status == PolicyStatus::Approved);
        let accepted = accepted_versions(&versions);
        let holds: HashMap<Uuid, i64> = self.store.holders().await?.into_iter().collect();
        let persons: Vec<Uuid> = w
            .parties
            .values()
            .filter(|p| p.kind == PartyKind::Person)
            .map(|p| p.id)
            .filter(|id| only.is_none_or(|o| o.contains(id)))
            .collect();
        let holding: Vec<Uuid> = persons
            .iter()
            .copied()
            .filter(|p| holds.contains_key(p))
            .collect();
        let acknowledged: HashSet<Uuid> = self
            .store
            .acknowledged_by(&accepted, &holding)
            .await?
            .into_iter()
            .collect();
        let mut out = Vec::with_capacity(persons.len());
        for id in persons {
            let facts = PersonFacts {
                person_id: id,
                holds: holds.get(&id).copied().unwrap_or(0) as usize,
                aup_in_force: in_force.map(|v| v.number.clone()),
                acknowledged: acknowledged.contains(&id),
            };
            let mut verdicts = Vec::new();
            for (i, o) in checks::person_outcomes(&facts) {
                let by = match &o {
                    checks::Outcome::Fail(_) => self.aup_excepted(w, id).await?,
                    _ => None,
                };
                verdicts.push((i, o.verdict(by)));
            }
            out.push(Judged {
                subject_type: SubjectType::Person,
                id,
                owner: Some(id),
                verdicts,
            });
        }
        Ok(out)
    }

    /// The exception that sets `aup_acknowledged` aside for a person: one that covers
    /// every asset they hold (as issuing to them was allowed by one).
    async fn aup_excepted(&self, w: &World, person: Uuid) -> Result<Option<Uuid>> {
        let q = AssignmentQuery {
            limit: 500,
            person_id: Some(person),
            open: Some(true),
            ..Default::default()
        };
        let held = self.store.list_assignments(&q).await?.items;
        let mut by = None;
        for a in &held {
            let Some(x) = w
                .exceptions
                .iter()
                .find(|x| x.covers(ExceptionRule::AcceptableUse, a.asset_id, w.today))
            else {
                return Ok(None);
            };
            by = Some(x.id);
        }
        Ok(by)
    }

    /// Judges the policy documents.
    pub(crate) async fn judge_policies(&self, w: &World) -> Result<Vec<Judged>> {
        let mut out = Vec::new();
        for doc in PolicyDocument::ALL {
            let versions = self.store.policies(Some(*doc)).await?;
            let in_force = versions.iter().find(|v| v.status == PolicyStatus::Approved);
            let facts = PolicyFacts {
                document: *doc,
                in_force,
                today: w.today,
            };
            out.push(Judged {
                subject_type: SubjectType::Policy,
                id: doc.subject_id(),
                owner: None,
                verdicts: checks::policy_outcomes(&facts)
                    .into_iter()
                    .map(|(i, o)| (i, o.verdict(None)))
                    .collect(),
            });
        }
        Ok(out)
    }

    /// Judges exceptions.
    pub(crate) fn judge_exceptions(&self, w: &World, xs: &[PolicyException]) -> Vec<Judged> {
        xs.iter()
            .map(|x| Judged {
                subject_type: SubjectType::Exception,
                id: x.id,
                owner: x.requester_id,
                verdicts: checks::exception_outcomes(x, w.today)
                    .into_iter()
                    .map(|(i, o)| (i, o.verdict(None)))
                    .collect(),
            })
            .collect()
    }

    /// Judges offboarding and handover cases.
    pub(crate) fn judge_cases(&self, w: &World, cases: &[Offboarding]) -> Vec<Judged> {
        cases
            .iter()
            .map(|c| Judged {
                subject_type: SubjectType::Offboarding,
                id: c.id,
                owner: Some(c.person_id),
                verdicts: checks::offboarding_outcomes(c, w.today)
                    .into_iter()
                    .map(|(i, o)| (i, o.verdict(None)))
                    .collect(),
            })
            .collect()
    }

    /// Every exception (in `status`, when given).
    pub(crate) async fn exceptions_in(
        &self,
        status: Option<ExceptionStatus>,
    ) -> Result<Vec<PolicyException>> {
        let store = self.store.clone();
        all_pages(|cursor| {
            let store = store.clone();
            async move {
                store
                    .list_exceptions(&ExceptionQuery {
                        limit: 500,
                        cursor,
                        status,
                        ..Default::default()
                    })
                    .await
            }
        })
        .await
    }

    /// Every exception and case, for a full evaluation.
    pub(crate) async fn every_exception_and_case(
        &self,
    ) -> Result<(Vec<PolicyException>, Vec<Offboarding>)> {
        let xs = self.exceptions_in(None).await?;
        let store = self.store.clone();
        let cases = all_pages(|cursor| {
            let store = store.clone();
            async move {
                store
                    .list_offboardings(&OffboardingQuery {
                        limit: 500,
                        cursor,
                        ..Default::default()
                    })
                    .await
            }
        })
        .await?;
        Ok((xs, cases))
    }

    /// What changed for `judged` against what is stored: their outcomes, findings opened,
    /// changed, excepted or resolved with their history, and the tallies' moves.
    pub(crate) async fn settle_judged(
        &self,
        t: SubjectType,
        judged: Vec<Judged>,
        now: DateTime<Utc>,
        reset: bool,
    ) -> Result<EvaluationBatch> {
        let ids: Vec<Uuid> = judged.iter().map(|j| j.id).collect();
        let old_outcomes: HashMap<Uuid, SubjectOutcome> = if reset {
            HashMap::new()
        } else {
            self.store
                .outcomes_of(t, &ids)
                .await?
                .into_iter()
                .map(|o| (o.subject_id, o))
                .collect()
        };
        let mut old_findings: HashMap<(Uuid, String), Finding> = self
            .store
            .findings_of(t, &ids)
            .await?
            .into_iter()
            .map(|f| ((f.subject_id, f.check_id.clone()), f))
            .collect();
        let mut b = EvaluationBatch::default();
        let mut tallies: HashMap<usize, Tally> = HashMap::new();
        for mut j in judged {
            let mut new = SubjectOutcome {
                subject_type: t,
                subject_id: j.id,
                applicable: 0,
                failing: 0,
                excepted: 0,
            };
            for (i, v) in std::mem::take(&mut j.verdicts) {
                let bit = 1u64 << i;
                let check_id = CHECKS[i].id;
                let old = old_findings.remove(&(j.id, check_id.to_string()));
                let failing = match v {
                    Verdict::NotApplicable => None,
                    Verdict::Pass => {
                        new.applicable |= bit;
                        None
                    }
                    Verdict::Fail(m) => {
                        new.applicable |= bit;
                        new.failing |= bit;
                        Some((FindingStatus::Open, m, None))
                    }
                    Verdict::Excepted { message, by } => {
                        new.applicable |= bit;
                        new.failing |= bit;
                        new.excepted |= bit;
                        Some((FindingStatus::Excepted, message, Some(by)))
                    }
                };
                settle_finding(&mut b, old, failing, check_id, &j, now);
            }
            let old = old_outcomes.get(&j.id);
            if old != Some(&new) {
                for (i, _) in checks::checks_about(t) {
                    let entry = tallies.entry(i).or_default();
                    if let Some(o) = old {
                        *entry = entry.plus(minus(bucket(o, i)));
                    }
                    *entry = entry.plus(bucket(&new, i));
                }
                b.outcomes.push(new);
            }
        }
        b.tallies = tallies
            .into_iter()
            .filter(|(_, t)| *t != Tally::default())
            .map(|(i, t)| (CHECKS[i].id.to_string(), t))
            .collect();
        b.tallies.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(b)
    }
}

/// The change to one (check, subject)'s finding: opened, reopened, excepted, resolved,
/// or its message or party to act brought up to date.
fn settle_finding(
    b: &mut EvaluationBatch,
    old: Option<Finding>,
    failing: Option<(FindingStatus, String, Option<Uuid>)>,
    check_id: &str,
    j: &Judged,
    now: DateTime<Utc>,
) {
    let event = |f: &Finding| FindingEvent {
        finding_id: f.id,
        at: now,
        status: f.status,
        message: f.message.clone(),
    };
    match (old, failing) {
        (None, None) => {}
        (None, Some((status, message, exception_id))) => {
            let f = Finding {
                id: custodian_domain::new_id(),
                check_id: check_id.to_string(),
                subject_type: j.subject_type,
                subject_id: j.id,
                status,
                first_failed_at: now,
                resolved_at: None,
                message,
                owner_id: j.owner,
                exception_id,
                changed_at: now,
            };
            b.events.push(event(&f));
            b.new_findings.push(f);
        }
        (Some(f), None) => {
            if f.status != FindingStatus::Resolved {
                let f = Finding {
                    status: FindingStatus::Resolved,
                    resolved_at: Some(now),
                    exception_id: None,
                    changed_at: now,
                    ..f
                };
                b.events.push(event(&f));
                b.changed_findings.push(f);
            }
        }
        (Some(f), Some((status, message, exception_id))) => {
            if f.status != status {
                let f = Finding {
                    status,
                    resolved_at: None,
                    message,
                    owner_id: j.owner,
                    exception_id,
                    changed_at: now,
                    ..f
                };
                b.events.push(event(&f));
                b.changed_findings.push(f);
            } else if f.message != message
                || f.owner_id != j.owner
                || f.exception_id != exception_id
            {
                b.changed_findings.push(Finding {
                    message,
                    owner_id: j.owner,
                    exception_id,
                    ..f
                });
            }
        }
    }
}

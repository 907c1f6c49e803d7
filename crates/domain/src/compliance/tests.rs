//! Every check's passing, failing, excepted and not-applicable cases.

use chrono::{NaiveDate, TimeDelta};
use serde_json::{json, Value};
use uuid::Uuid;

use super::effective::{effective, Carried, Effective, SELF};
use super::*;
use crate::asset::{completeness, Asset, AssetKind, Completeness, RelationFacts};
use crate::classification::{defaults, Classification};
use crate::exception::{ExceptionRule, ExceptionStatus, PolicyException};
use crate::lifecycle::{DisposalMethod, DisposalRecord, Status};
use crate::offboarding::{CaseItem, ItemKind, ItemStatus, Offboarding};
use crate::policy::{PolicyDocument, PolicyStatus, PolicyVersion};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 15).expect("a date")
}

fn days(n: i64) -> NaiveDate {
    today() + TimeDelta::days(n)
}

fn asset(kind: AssetKind, level: &str, attrs: Value) -> Asset {
    crate::fixtures::asset(kind, level, attrs)
}

/// One asset and what is around it; `judge` runs one check over it.
struct Case {
    asset: Asset,
    levels: Vec<Classification>,
    /// Levels held through `stores`/`contains`, by key.
    held: Vec<&'static str>,
    orphaned: Option<&'static str>,
    off_premises: Option<OffPremises>,
    custody_due: Option<NaiveDate>,
    disposal: Option<DisposalRecord>,
}

impl Case {
    fn of(a: Asset) -> Self {
        Case {
            asset: a,
            levels: defaults(crate::now()),
            held: vec![],
            orphaned: None,
            off_premises: None,
            custody_due: None,
            disposal: None,
        }
    }

    fn effective(&self) -> Effective {
        let level = |k: &str| self.levels.iter().find(|l| l.key == k);
        let mut carried: Vec<Carried> = level(&self.asset.classification)
            .map(|l| Carried {
                because: SELF.into(),
                level: l,
            })
            .into_iter()
            .collect();
        carried.extend(self.held.iter().filter_map(|k| {
            level(k).map(|l| Carried {
                because: format!("what it stores: {k} data"),
                level: l,
            })
        }));
        effective(&carried)
    }

    fn judge(&self, check_id: &str) -> Outcome {
        let e = self.effective();
        let c: Completeness = completeness(&self.asset, RelationFacts::default());
        let f = AssetFacts {
            asset: &self.asset,
            orphaned: self.orphaned,
            completeness: &c,
            level_known: self
                .levels
                .iter()
                .any(|l| l.key == self.asset.classification),
            effective: &e,
            off_premises: self.off_premises.clone(),
            custody_due: self.custody_due,
            disposal: self.disposal.as_ref(),
            today: today(),
        };
        let i = check_index(check_id).expect("a check");
        asset_outcomes(&f)
            .into_iter()
            .find(|(j, _)| *j == i)
            .map(|(_, o)| o)
            .expect("an asset check")
    }
}

fn exception(rule: &str, asset: Uuid, expires_at: NaiveDate) -> PolicyException {
    let now = crate::now();
    PolicyException {
        id: crate::new_id(),
        rule: ExceptionRule::parse(rule).expect("a rule"),
        asset_ids: vec![asset],
        justification: "j".into(),
        compensating_controls: "c".into(),
        requester_id: None,
        approver_id: None,
        decided_at: Some(now),
        decision_notes: None,
        expires_at,
        status: ExceptionStatus::Approved,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn is_fail(o: &Outcome) -> bool {
    matches!(o, Outcome::Fail(_))
}

/// A failing asset case is excepted by an approved exception naming the check, and not
/// by one that expired or names another check.
fn assert_excepted(c: &Case, check_id: &str) {
    let o = c.judge(check_id);
    assert!(is_fail(&o), "{check_id}: {o:?}");
    let id = c.asset.id;
    let live = [exception(check_id, id, days(30))];
    let by = excepting(&live, check_id, id, today());
    assert!(
        matches!(o.clone().verdict(by), Verdict::Excepted { .. }),
        "{check_id}"
    );
    let expired = [exception(check_id, id, days(-1))];
    assert_eq!(
        excepting(&expired, check_id, id, today()),
        None,
        "{check_id}"
    );
    let other = if check_id == "owner_active" {
        "classified"
    } else {
        "owner_active"
    };
    let elsewhere = [exception(other, id, days(30))];
    assert_eq!(
        excepting(&elsewhere, check_id, id, today()),
        None,
        "{check_id}"
    );
}

fn disposed(mut a: Asset) -> Asset {
    a.status = Status::Disposed;
    a
}

#[test]
fn owner_active() {
    let mut c = Case::of(asset(AssetKind::Physical, "internal", json!({})));
    assert_eq!(c.judge("owner_active"), Outcome::Pass);
    c.orphaned = Some("the owner has left the organisation");
    assert_excepted(&c, "owner_active");
    c.asset = disposed(c.asset.clone());
    assert_eq!(c.judge("owner_active"), Outcome::NotApplicable);
}

#[test]
fn record_complete() {
    let full =
        json!({"serial_number": "S1", "function": "laptop", "information_description": "mail"});
    let mut a = asset(AssetKind::Physical, "internal", full);
    a.last_reviewed_at = Some(crate::now());
    a.last_reviewed_by = Some(crate::new_id());
    let mut c = Case::of(a);
    assert_eq!(c.judge("record_complete"), Outcome::Pass);
    c.asset.attrs.remove("function");
    match c.judge("record_complete") {
        Outcome::Fail(m) => assert!(m.contains("function"), "{m}"),
        o => panic!("{o:?}"),
    }
    assert_excepted(&c, "record_complete");
    c.asset = disposed(c.asset.clone());
    assert_eq!(c.judge("record_complete"), Outcome::NotApplicable);
}

#[test]
fn review_current() {
    let mut c = Case::of(asset(AssetKind::Service, "internal", json!({})));
    assert_eq!(c.judge("review_current"), Outcome::NotApplicable);
    c.asset.next_review_at = Some(today());
    assert_eq!(c.judge("review_current"), Outcome::Pass);
    c.asset.next_review_at = Some(days(-1));
    assert_excepted(&c, "review_current");
    // The rule named before the checks sets the same check aside.
    let x = [exception("review_overdue", c.asset.id, days(30))];
    assert!(excepting(&x, "review_current", c.asset.id, today()).is_some());
    c.asset.status = Status::Lost;
    assert_eq!(c.judge("review_current"), Outcome::NotApplicable);
}

#[test]
fn classified() {
    let mut c = Case::of(asset(AssetKind::Data, "internal", json!({})));
    assert_eq!(c.judge("classified"), Outcome::Pass);
    c.asset.classification = "gone".into();
    assert_excepted(&c, "classified");
    c.asset = disposed(c.asset.clone());
    assert_eq!(c.judge("classified"), Outcome::NotApplicable);
}

#[test]
fn labelled_follows_the_effective_level() {
    let mut c = Case::of(asset(AssetKind::Physical, "internal", json!({})));
    assert_eq!(c.judge("labelled"), Outcome::NotApplicable);
    // Internal laptop storing confidential data: a label is now required.
    c.held = vec!["confidential"];
    assert_excepted(&c, "labelled");
    c.asset.attrs.insert("labelled".into(), json!(true));
    assert_eq!(c.judge("labelled"), Outcome::Pass);
    let vm = Case::of(asset(AssetKind::Virtual, "restricted", json!({})));
    assert_eq!(vm.judge("labelled"), Outcome::NotApplicable);
}

#[test]
fn encrypted_follows_the_effective_level() {
    let mut c = Case::of(asset(
        AssetKind::Physical,
        "public",
        json!({"encrypted": false}),
    ));
    assert_eq!(c.judge("encrypted"), Outcome::NotApplicable);
    c.held = vec!["restricted"];
    match c.judge("encrypted") {
        Outcome::Fail(m) => assert!(
            m.contains("Restricted") && m.contains("restricted data"),
            "{m}"
        ),
        o => panic!("{o:?}"),
    }
    assert_excepted(&c, "encrypted");
    c.asset.attrs.insert("encrypted".into(), json!(true));
    assert_eq!(c.judge("encrypted"), Outcome::Pass);
    let data = Case::of(asset(AssetKind::Data, "restricted", json!({})));
    assert_eq!(data.judge("encrypted"), Outcome::NotApplicable);
}

#[test]
fn off_premises_authorised_follows_the_effective_level() {
    let mut c = Case::of(asset(AssetKind::Physical, "internal", json!({})));
    assert_eq!(c.judge("off_premises_authorised"), Outcome::NotApplicable);
    c.off_premises = Some(OffPremises::Location {
        name: "Home office".into(),
    });
    assert_eq!(c.judge("off_premises_authorised"), Outcome::Pass);
    // Restricted data on it: approval required, which a location cannot give.
    c.held = vec!["restricted"];
    assert_excepted(&c, "off_premises_authorised");
    c.off_premises = Some(OffPremises::Custody { approved: false });
    assert!(is_fail(&c.judge("off_premises_authorised")));
    c.off_premises = Some(OffPremises::Custody { approved: true });
    assert_eq!(c.judge("off_premises_authorised"), Outcome::Pass);
    let x = [exception("off_premises", c.asset.id, days(1))];
    assert!(excepting(&x, "off_premises_authorised", c.asset.id, today()).is_some());
}

#[test]
fn custody_returned() {
    let mut c = Case::of(asset(AssetKind::Physical, "internal", json!({})));
    assert_eq!(c.judge("custody_returned"), Outcome::NotApplicable);
    c.custody_due = Some(today());
    assert_eq!(c.judge("custody_returned"), Outcome::Pass);
    c.custody_due = Some(days(-3));
    assert_excepted(&c, "custody_returned");
}

#[test]
fn licences_sufficient() {
    let mut c = Case::of(asset(AssetKind::Software, "internal", json!({})));
    assert_eq!(c.judge("licences_sufficient"), Outcome::NotApplicable);
    c.asset.attrs = json!({"licences_purchased": 5, "licences_used": 5})
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(c.judge("licences_sufficient"), Outcome::Pass);
    c.asset.set_licences_used(7);
    match c.judge("licences_sufficient") {
        Outcome::Fail(m) => assert!(m.contains("2 too many"), "{m}"),
        o => panic!("{o:?}"),
    }
    assert_excepted(&c, "licences_sufficient");
}

#[test]
fn licence_current() {
    let mut c = Case::of(asset(AssetKind::Software, "internal", json!({})));
    assert_eq!(c.judge("licence_current"), Outcome::NotApplicable);
    c.asset
        .attrs
        .insert("licence_expires_at".into(), json!(days(31).to_string()));
    assert_eq!(c.judge("licence_current"), Outcome::Pass);
    c.asset
        .attrs
        .insert("licence_expires_at".into(), json!(days(29).to_string()));
    assert!(is_fail(&c.judge("licence_current")));
    c.asset
        .attrs
        .insert("licence_expires_at".into(), json!(days(-1).to_string()));
    assert_excepted(&c, "licence_current");
}

#[test]
fn ropa_complete() {
    let mut c = Case::of(asset(
        AssetKind::Data,
        "confidential",
        json!({"contains_personal_data": false}),
    ));
    assert_eq!(c.judge("ropa_complete"), Outcome::NotApplicable);
    c.asset.attrs = json!({
        "contains_personal_data": true, "purpose": "payroll", "controller": "ACME",
        "lawful_basis": "contract", "data_subject_categories": ["employees"],
        "personal_data_categories": ["bank details"], "recipient_categories": ["bank"],
        "retention_days": 3650, "security_measures": "encrypted at rest"
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    c.asset.last_reviewed_at = Some(crate::now());
    c.asset.next_review_at = Some(days(100));
    assert_eq!(c.judge("ropa_complete"), Outcome::Pass);
    c.asset.attrs.remove("lawful_basis");
    match c.judge("ropa_complete") {
        Outcome::Fail(m) => assert!(m.contains("lawful_basis"), "{m}"),
        o => panic!("{o:?}"),
    }
    assert_excepted(&c, "ropa_complete");
}

#[test]
fn high_risk_mitigated() {
    let mut c = Case::of(asset(
        AssetKind::Data,
        "confidential",
        json!({"risk_rating": "medium"}),
    ));
    assert_eq!(c.judge("high_risk_mitigated"), Outcome::NotApplicable);
    c.asset
        .attrs
        .insert("risk_rating".into(), json!("very_high"));
    assert_excepted(&c, "high_risk_mitigated");
    c.asset.attrs.insert(
        "risk_actions".into(),
        json!("pseudonymised; access reviewed"),
    );
    assert_eq!(c.judge("high_risk_mitigated"), Outcome::Pass);
}

fn disposal(method: DisposalMethod) -> DisposalRecord {
    DisposalRecord {
        asset_id: Uuid::nil(),
        method,
        performed_by: "Shredders Ltd".into(),
        performed_at: crate::now(),
        certificate_ref: Some("C-1".into()),
        verified_by: None,
        notes: None,
    }
}

#[test]
fn disposal_adequate_follows_the_effective_level_two_levels_deep() {
    let mut c = Case::of(asset(AssetKind::Physical, "internal", json!({})));
    assert_eq!(c.judge("disposal_adequate"), Outcome::NotApplicable);
    c.asset = disposed(c.asset.clone());
    assert!(is_fail(&c.judge("disposal_adequate")), "no record");
    c.disposal = Some(disposal(DisposalMethod::Clear));
    assert_eq!(c.judge("disposal_adequate"), Outcome::Pass);
    // What it holds (through another asset) is restricted: clear no longer meets it.
    c.held = vec!["restricted"];
    match c.judge("disposal_adequate") {
        Outcome::Fail(m) => assert!(m.contains("destroy"), "{m}"),
        o => panic!("{o:?}"),
    }
    assert_excepted(&c, "disposal_adequate");
    c.disposal = Some(disposal(DisposalMethod::Destroy));
    assert_eq!(c.judge("disposal_adequate"), Outcome::Pass);
}

#[test]
fn aup_acknowledged() {
    let mut p = PersonFacts {
        person_id: crate::new_id(),
        holds: 0,
        aup_in_force: Some("2.0".into()),
        acknowledged: false,
    };
    let run = |p: &PersonFacts| person_outcomes(p).pop().map(|(_, o)| o).expect("one check");
    assert_eq!(run(&p), Outcome::NotApplicable);
    p.holds = 2;
    let o = run(&p);
    assert!(is_fail(&o));
    // Excepted when an exception covers what they hold (decided by the application).
    assert!(matches!(
        o.verdict(Some(crate::new_id())),
        Verdict::Excepted { .. }
    ));
    p.acknowledged = true;
    assert_eq!(run(&p), Outcome::Pass);
    p.aup_in_force = None;
    assert_eq!(run(&p), Outcome::NotApplicable);
}

fn version(status: PolicyStatus, next_review_at: Option<NaiveDate>) -> PolicyVersion {
    let now = crate::now();
    PolicyVersion {
        id: crate::new_id(),
        document: PolicyDocument::AssetManagement,
        number: "1.0".into(),
        title: "Asset Management Policy".into(),
        body: "text".into(),
        effective_date: today(),
        material: true,
        change_summary: None,
        author_id: None,
        status,
        approved_by: None,
        approved_at: Some(now),
        next_review_at,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

#[test]
fn policy_current() {
    let run = |v: Option<&PolicyVersion>| {
        policy_outcomes(&PolicyFacts {
            document: PolicyDocument::AssetManagement,
            in_force: v,
            today: today(),
        })
        .pop()
        .map(|(_, o)| o)
        .expect("one check")
    };
    assert!(is_fail(&run(None)), "no approved version");
    let v = version(PolicyStatus::Approved, Some(days(10)));
    assert_eq!(run(Some(&v)), Outcome::Pass);
    let late = version(PolicyStatus::Approved, Some(days(-1)));
    assert!(is_fail(&run(Some(&late))));
    // Policies are not set aside by exceptions: no rule names the check.
    assert_eq!(ExceptionRule::parse("policy_current"), None);
    // Every document is measured: none is outside the population.
    assert_ne!(run(Some(&v)), Outcome::NotApplicable);
}

#[test]
fn exception_current() {
    let x = exception("encrypted", crate::new_id(), days(5));
    let run = |x: &PolicyException| {
        exception_outcomes(x, today())
            .pop()
            .map(|(_, o)| o)
            .expect("one")
    };
    assert_eq!(run(&x), Outcome::Pass);
    let old = exception("encrypted", crate::new_id(), days(-5));
    assert!(is_fail(&run(&old)));
    let mut revoked = old.clone();
    revoked.status = ExceptionStatus::Revoked;
    assert_eq!(run(&revoked), Outcome::NotApplicable);
    assert_eq!(ExceptionRule::parse("exception_current"), None);
}

#[test]
fn leaver_returned() {
    let mut item = CaseItem::open(ItemKind::ReturnAsset, "Return AST-000001 Laptop".into());
    let mut case = crate::fixtures::case(vec![item.clone()], None);
    let run = |c: &Offboarding| {
        offboarding_outcomes(c, today())
            .pop()
            .map(|(_, o)| o)
            .expect("one")
    };
    assert_eq!(run(&case), Outcome::NotApplicable);
    case.end_date = Some(days(3));
    assert_eq!(run(&case), Outcome::Pass);
    case.end_date = Some(days(-3));
    match run(&case) {
        Outcome::Fail(m) => assert!(m.contains("Return AST-000001"), "{m}"),
        o => panic!("{o:?}"),
    }
    item.status = ItemStatus::Settled;
    case.items = vec![item];
    assert_eq!(run(&case), Outcome::Pass);
    assert_eq!(ExceptionRule::parse("leaver_returned"), None);
}

#[test]
fn the_catalogue_is_whole_and_unique() {
    let ids: Vec<&str> = check_ids().collect();
    assert_eq!(ids.len(), 17);
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len());
    for c in &CHECKS {
        assert!(!c.title.is_empty() && !c.remediation.is_empty() && c.version >= 1);
    }
    // Every check whose subject is an asset can be set aside by an exception naming it.
    for (_, c) in checks_about(SubjectType::Asset) {
        assert_eq!(ExceptionRule::parse(c.id).map(|r| r.check_id()), Some(c.id));
    }
}

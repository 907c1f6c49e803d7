//! Compliance measurement's records: findings and their history, outcomes, tallies,
//! snapshots and the evaluation's state, and the register reads the evaluation makes.

use chrono::NaiveDate;
use custodian_domain::compliance::kpi::Tally;
use custodian_domain::compliance::{FindingStatus, SubjectType};

use super::*;
use crate::{
    ComplianceState, EvaluationBatch, Finding, FindingEvent, FindingQuery, Snapshot,
    SubjectOutcome, Within,
};

fn finding(check: &str, subject: Uuid, owner: Uuid) -> Finding {
    let now = custodian_domain::now();
    Finding {
        id: custodian_domain::new_id(),
        check_id: check.into(),
        subject_type: SubjectType::Asset,
        subject_id: subject,
        status: FindingStatus::Open,
        first_failed_at: now,
        resolved_at: None,
        message: format!("{check} fails"),
        owner_id: Some(owner),
        exception_id: None,
        changed_at: now,
    }
}

fn tally(pass: i64, fail: i64) -> Tally {
    Tally {
        pass,
        fail,
        ..Tally::default()
    }
}

async fn ids(s: &dyn Store, q: FindingQuery) -> Vec<Uuid> {
    let q = FindingQuery { limit: 100, ..q };
    s.list_findings(&q)
        .await
        .expect("findings")
        .items
        .iter()
        .map(|f| f.id)
        .collect()
}

pub async fn compliance_records(s: &dyn Store) {
    let owner = setup(s).await;
    let other = add_person(s, "Other Owner").await;
    let a = add_asset(s, owner.id, "AST-000001", json!({})).await;
    let b = add_asset(s, other.id, "AST-000002", json!({})).await;
    assert_eq!(s.compliance_state().await.expect("state"), None);

    let fa = finding("encrypted", a.id, owner.id);
    let fb = finding("record_complete", b.id, other.id);
    let opened = |f: &Finding| FindingEvent {
        finding_id: f.id,
        at: f.first_failed_at,
        status: FindingStatus::Open,
        message: f.message.clone(),
    };
    let state = ComplianceState {
        follow_seq: 7,
        full_day: NaiveDate::from_ymd_opt(2026, 6, 1),
        layout: "owner_active record_complete".into(),
        computed_at: Some(custodian_domain::now()),
        audit_seq: 7,
        audit_hash: "abc".into(),
    };
    s.record_evaluation(EvaluationBatch {
        reset: false,
        outcomes: vec![
            SubjectOutcome {
                subject_type: SubjectType::Asset,
                subject_id: a.id,
                applicable: 0b11,
                failing: 0b10,
                excepted: 0,
            },
            SubjectOutcome {
                subject_type: SubjectType::Asset,
                subject_id: b.id,
                applicable: 0b01,
                failing: 0,
                excepted: 0,
            },
        ],
        new_findings: vec![fa.clone(), fb.clone()],
        changed_findings: vec![],
        events: vec![opened(&fa), opened(&fb)],
        tallies: vec![
            ("encrypted".into(), tally(1, 1)),
            ("record_complete".into(), tally(2, 0)),
        ],
        state: Some(state.clone()),
    })
    .await
    .expect("record");
    assert_eq!(
        s.compliance_state().await.expect("state"),
        Some(state.clone())
    );
    assert_eq!(s.finding(fa.id).await.expect("finding"), Some(fa.clone()));
    let found = s
        .findings_of(SubjectType::Asset, &[a.id, b.id])
        .await
        .expect("of");
    assert_eq!(found.len(), 2);
    assert!(s
        .findings_of(SubjectType::Person, &[a.id])
        .await
        .expect("of")
        .is_empty());
    let outs = s
        .outcomes_of(SubjectType::Asset, &[a.id])
        .await
        .expect("outcomes");
    assert_eq!(outs.len(), 1);
    assert_eq!((outs[0].applicable, outs[0].failing), (0b11, 0b10));

    // A second step: the first finding resolves, tallies move, an outcome is replaced.
    let later = custodian_domain::now();
    let resolved = Finding {
        status: FindingStatus::Resolved,
        resolved_at: Some(later),
        changed_at: later,
        ..fa.clone()
    };
    s.record_evaluation(EvaluationBatch {
        outcomes: vec![SubjectOutcome {
            subject_type: SubjectType::Asset,
            subject_id: a.id,
            applicable: 0b11,
            failing: 0,
            excepted: 0,
        }],
        changed_findings: vec![resolved.clone()],
        events: vec![FindingEvent {
            finding_id: fa.id,
            at: later,
            status: FindingStatus::Resolved,
            message: fa.message.clone(),
        }],
        tallies: vec![("encrypted".into(), tally(1, -1))],
        ..EvaluationBatch::default()
    })
    .await
    .expect("second step");
    assert_eq!(s.finding(fa.id).await.expect("finding"), Some(resolved));
    let history = s.finding_history(fa.id).await.expect("history");
    let statuses: Vec<FindingStatus> = history.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [FindingStatus::Open, FindingStatus::Resolved]);
    // As they stood: open before the second step, resolved after; none before opening.
    let at = |t| async move {
        let page = s.findings_at(t, None, 10).await.expect("as at");
        page.items
            .into_iter()
            .map(|f| (f.id, f.status))
            .collect::<Vec<_>>()
    };
    let before = later - chrono::TimeDelta::microseconds(1);
    assert_eq!(
        at(before).await,
        [(fa.id, FindingStatus::Open), (fb.id, FindingStatus::Open)]
    );
    assert_eq!(
        at(later).await,
        [
            (fa.id, FindingStatus::Resolved),
            (fb.id, FindingStatus::Open)
        ]
    );
    let first = fa.first_failed_at.min(fb.first_failed_at);
    assert!(at(first - chrono::TimeDelta::seconds(1)).await.is_empty());
    let one = s.findings_at(later, None, 1).await.expect("a page");
    assert_eq!(one.items.len(), 1);
    let rest = s
        .findings_at(later, one.next_cursor, 1)
        .await
        .expect("the next");
    assert_eq!(rest.items[0].id, fb.id);
    let outs = s
        .outcomes_of(SubjectType::Asset, &[a.id])
        .await
        .expect("outcomes");
    assert_eq!(outs[0].failing, 0);
    let tallies = s.tallies().await.expect("tallies");
    assert_eq!(
        tallies,
        vec![
            ("encrypted".to_string(), tally(2, 0)),
            ("record_complete".to_string(), tally(2, 0))
        ]
    );

    // The list's filters.
    assert_eq!(ids(s, FindingQuery::default()).await, [fa.id, fb.id]);
    let open = FindingQuery {
        status: Some(FindingStatus::Open),
        ..FindingQuery::default()
    };
    assert_eq!(ids(s, open).await, [fb.id]);
    let by_check = FindingQuery {
        check_ids: Some(vec!["encrypted".into()]),
        ..FindingQuery::default()
    };
    assert_eq!(ids(s, by_check).await, [fa.id]);
    // Several checks (a control's) are merged in order, and page like one.
    let both = FindingQuery {
        check_ids: Some(vec!["record_complete".into(), "encrypted".into()]),
        ..FindingQuery::default()
    };
    assert_eq!(ids(s, both.clone()).await, [fa.id, fb.id]);
    let newest = FindingQuery {
        newest_first: true,
        ..both.clone()
    };
    assert_eq!(ids(s, newest).await, [fb.id, fa.id]);
    let first = s
        .list_findings(&FindingQuery {
            limit: 1,
            ..both.clone()
        })
        .await
        .expect("first");
    assert_eq!(
        first.items.iter().map(|f| f.id).collect::<Vec<_>>(),
        [fa.id]
    );
    let second = ids(
        s,
        FindingQuery {
            cursor: first.next_cursor,
            ..both
        },
    )
    .await;
    assert_eq!(second, [fb.id]);
    let none = FindingQuery {
        check_ids: Some(vec![]),
        ..FindingQuery::default()
    };
    assert!(ids(s, none).await.is_empty());
    let mine = FindingQuery {
        owner_id: Some(other.id),
        ..FindingQuery::default()
    };
    assert_eq!(ids(s, mine).await, [fb.id]);
    let subject = FindingQuery {
        subject_type: Some(SubjectType::Asset),
        subject_id: Some(a.id),
        ..FindingQuery::default()
    };
    assert_eq!(ids(s, subject).await, [fa.id]);
    let within = FindingQuery {
        within: Some(Within {
            parties: vec![],
            ids: vec![b.id],
        }),
        newest_first: true,
        ..FindingQuery::default()
    };
    assert_eq!(ids(s, within).await, [fb.id]);
    let page = s
        .list_findings(&FindingQuery {
            limit: 1,
            ..FindingQuery::default()
        })
        .await
        .expect("page");
    let rest = ids(
        s,
        FindingQuery {
            cursor: page.next_cursor,
            ..FindingQuery::default()
        },
    )
    .await;
    assert_eq!(rest, [fb.id]);

    // A reset forgets outcomes and tallies, not findings.
    s.record_evaluation(EvaluationBatch {
        reset: true,
        ..EvaluationBatch::default()
    })
    .await
    .expect("reset");
    assert!(s.tallies().await.expect("tallies").is_empty());
    assert!(s
        .outcomes_of(SubjectType::Asset, &[a.id, b.id])
        .await
        .expect("o")
        .is_empty());
    assert!(s.finding(fb.id).await.expect("kept").is_some());

    // Snapshots: a day kept once; keeping it again changes nothing.
    let day = NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
    let snap = |check: &str, pass: i64, seq: i64| Snapshot {
        day,
        check_id: check.into(),
        tally: tally(pass, 1),
        audit_seq: seq,
        audit_hash: format!("h{seq}"),
        computed_at: custodian_domain::now(),
    };
    let first = [snap("encrypted", 5, 10), snap("owner_active", 3, 10)];
    assert_eq!(s.keep_snapshots(&first).await.expect("keep"), 2);
    assert_eq!(
        s.keep_snapshots(&[snap("encrypted", 99, 11)])
            .await
            .expect("again"),
        0
    );
    let kept = s.snapshots(None, day, day).await.expect("snapshots");
    assert_eq!(kept, first.to_vec());
    let one = s
        .snapshots(Some(&["owner_active".to_string()]), day, day)
        .await
        .expect("one");
    assert_eq!(one.len(), 1);
    assert!(s
        .snapshots(
            None,
            day.succ_opt().expect("next"),
            day.succ_opt().expect("next")
        )
        .await
        .expect("none")
        .is_empty());

    // The register reads of the evaluation.
    let held = custody(a.id, other.id, owner.id);
    commit(
        s,
        Write::Custody(CustodyWrite::InsertAssignment(Box::new(held.clone()))),
    )
    .await;
    assert_eq!(
        s.open_assignments_of(&[a.id, b.id]).await.expect("open"),
        vec![held]
    );
    assert_eq!(s.holders().await.expect("holders"), vec![(other.id, 1)]);
    let d = DisposalRecord {
        asset_id: b.id,
        method: DisposalMethod::Destroy,
        performed_by: "Shred Co".into(),
        performed_at: custodian_domain::now(),
        certificate_ref: None,
        verified_by: None,
        notes: None,
    };
    commit(s, Write::Asset(AssetWrite::InsertDisposal(d.clone()))).await;
    assert_eq!(
        s.disposals_of(&[a.id, b.id]).await.expect("disposals"),
        vec![d]
    );
    assert!(s
        .acknowledged_by(&[], &[owner.id])
        .await
        .expect("none")
        .is_empty());
}

//! The demo organisation.

use std::time::Instant;

use custodian_app::{AppError, Ctx};
use custodian_domain::asset::AssetKind;
use custodian_domain::lifecycle::{DisposalMethod, Status};
use custodian_domain::party::{EmploymentType, PartyKind, PersonStatus};
use custodian_store::{AssetQuery, DelegationQuery, PartyQuery};

use crate::{all_assets, app};

async fn populates(backend: &str) {
    let (app, _db) = app(backend).await;
    let ctx = Ctx::system();
    let started = Instant::now();
    let summary = custodian_io::demo::populate(&app, &ctx)
        .await
        .expect("demo data");
    let took = started.elapsed();
    eprintln!("{backend}: {summary} ({took:?})");
    assert!(took.as_secs() < 60, "the demo took {took:?}");
    assert!(summary.to_string().contains("50 people"));

    let parties = app
        .list_parties(
            &ctx,
            &PartyQuery {
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .expect("parties")
        .items;
    let people: Vec<_> = parties
        .iter()
        .filter(|p| p.kind == PartyKind::Person)
        .collect();
    assert_eq!(people.len() as u64, summary.people);
    assert!((45..=60).contains(&people.len()));
    let contractors: Vec<_> = people
        .iter()
        .filter(|p| p.employment_type == Some(EmploymentType::Contractor))
        .collect();
    assert_eq!(contractors.len(), 1);
    let today = chrono::Utc::now().date_naive();
    let notice: Vec<_> = people
        .iter()
        .filter(|p| p.status == Some(PersonStatus::Notice))
        .collect();
    assert_eq!(notice.len(), 1);
    assert!(notice[0].end_date.is_some_and(|d| d > today));
    let left: Vec<_> = people
        .iter()
        .filter(|p| p.status == Some(PersonStatus::Left))
        .collect();
    assert_eq!(left.len(), 1);
    let leaver = left[0];
    assert!(leaver.end_date.is_some_and(|d| d < today));
    assert!(people.iter().filter(|p| p.manager_id.is_some()).count() >= 45);
    let teams: Vec<_> = parties
        .iter()
        .filter(|p| p.kind == PartyKind::Team)
        .collect();
    assert!(teams.len() >= 5 && teams.iter().all(|t| !t.member_ids.is_empty()));
    let roles: Vec<_> = parties
        .iter()
        .filter(|p| p.kind == PartyKind::Role)
        .collect();
    for name in ["Head of IT", "DPO", "CISO"] {
        assert!(
            roles
                .iter()
                .any(|r| r.name.contains(name) && r.holder_id.is_some()),
            "{name}"
        );
    }
    let vacant: Vec<_> = roles.iter().filter(|r| r.holder_id.is_none()).collect();
    assert_eq!(vacant.len(), 1);
    assert_eq!(vacant[0].name, "Facilities Manager");

    let assets = all_assets(&app).await;
    assert_eq!(assets.len() as u64, summary.assets);
    assert!(
        (280..=320).contains(&assets.len()),
        "{} assets",
        assets.len()
    );
    for kind in AssetKind::ALL {
        assert!(
            assets.iter().filter(|a| a.asset.kind == *kind).count() >= 10,
            "few {kind} assets"
        );
    }
    assert!(
        assets.iter().any(|a| a.asset.owner_id == vacant[0].id),
        "the vacant role owns nothing"
    );
    assert!(
        assets
            .iter()
            .any(|a| a.asset.owner_id == leaver.id && a.asset.tags.iter().any(|t| t == "laptop")),
        "the leaver owns no laptop"
    );
    let incomplete = assets.iter().filter(|a| !a.completeness.complete).count();
    assert!(
        incomplete > 10 && incomplete < assets.len() / 2,
        "{incomplete} incomplete"
    );
    let unencrypted = assets
        .iter()
        .filter(|a| a.asset.attr_bool("encrypted") == Some(false))
        .count();
    assert!(unencrypted >= 2);
    let overdue = app
        .list_assets(
            &ctx,
            &AssetQuery {
                limit: 500,
                review_overdue: Some(today),
                ..Default::default()
            },
        )
        .await
        .expect("overdue")
        .items;
    assert!(overdue.len() >= 5, "{} overdue", overdue.len());

    let over_used: Vec<_> = assets
        .iter()
        .filter(|a| {
            let n = |k: &str| a.asset.attrs.get(k).and_then(serde_json::Value::as_i64);
            matches!((n("licences_used"), n("licences_purchased")), (Some(u), Some(p)) if u > p)
        })
        .collect();
    // Acrobat (under an exception) and MATLAB (a finding) are used beyond their licences.
    assert_eq!(over_used.len(), 2);

    let personal: Vec<_> = assets
        .iter()
        .filter(|a| a.asset.attr_bool("contains_personal_data") == Some(true))
        .collect();
    assert!(personal.len() >= 8);
    assert!(personal
        .iter()
        .any(|a| a.asset.attrs.contains_key("international_transfers")));
    let full = personal.iter().filter(|a| a.completeness.complete).count();
    assert!(full >= 8, "{full} complete personal-data records");

    let disposed: Vec<_> = assets
        .iter()
        .filter(|a| a.asset.status == Status::Disposed)
        .collect();
    // The laptop destroyed, and two USB sticks cleared before what they held was
    // classified restricted (a compliance finding, one under an exception).
    assert_eq!(disposed.len(), 3);
    let laptop = disposed
        .iter()
        .find(|a| a.asset.tags.iter().any(|t| t == "laptop"))
        .expect("the disposed laptop");
    let one = app
        .get_asset(&ctx, laptop.asset.id)
        .await
        .expect("disposed asset");
    let record = one.disposal.expect("a disposal record");
    assert_eq!(record.method, DisposalMethod::Destroy);
    assert!(record.certificate_ref.is_some());
    assert_eq!(one.asset.classification, "confidential");
    assert!(assets.iter().any(|a| a.asset.status == Status::Lost));

    let mut relations = 0;
    let mut types = std::collections::BTreeSet::new();
    for a in &assets {
        for r in app
            .asset_relations(&ctx, a.asset.id)
            .await
            .expect("relations")
        {
            if r.direction == custodian_app::assets::Direction::Outgoing {
                relations += 1;
                types.insert(r.relation_type.as_str().to_string());
            }
        }
    }
    for t in [
        "stores",
        "processes",
        "deployed_on",
        "backs_up",
        "runs_on",
        "depends_on",
    ] {
        assert!(types.contains(t), "no {t} relation");
    }
    assert_eq!(relations, summary.relations);
    let delegations = app
        .list_delegations(
            &ctx,
            &DelegationQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("delegations")
        .items;
    assert_eq!(delegations.len() as u64, summary.delegations);
    assert!(delegations
        .iter()
        .any(|d| d.task.as_str() == "review" && d.ended_at.is_none()));
    assert!(
        delegations.iter().any(|d| d.ended_at.is_some()),
        "the leaver's delegation ended"
    );

    match custodian_io::demo::populate(&app, &ctx).await {
        Err(AppError::Conflict { message, .. }) => {
            assert!(message.contains("empty register"), "{message}")
        }
        other => panic!("a second run must be refused, not {other:?}"),
    }
    assert_eq!(all_assets(&app).await.len(), assets.len());
}

#[tokio::test]
async fn the_demo_fills_an_empty_register_once_on_sqlite() {
    populates("sqlite").await;
}

#[tokio::test]
async fn the_demo_fills_an_empty_register_once_on_postgres() {
    populates("postgres").await;
}

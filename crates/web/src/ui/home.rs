//! The home page: each person's own work, and the register's state for those who run it.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use custodian_app::assets::AssetView;
use custodian_store::AssetQuery;

use super::{badge, error_page, ok, page, words, Nav, Viewer};
use crate::AppState;

fn asset_rows(items: &[AssetView], empty: &str) -> maud::Markup {
    html! {
        @if items.is_empty() { p.muted { (empty) } } @else {
            ul {
                @for a in items {
                    li {
                        a href={ "/assets/" (a.asset.id) } { span.mono { (a.asset.asset_number) } " " (a.asset.name) }
                        " " (badge("status", a.asset.status.as_str()))
                        @if let Some(d) = a.asset.next_review_at { " · review due " (d) }
                        @if !a.completeness.complete { " · lacks " (a.completeness.missing.iter().map(|m| words(m)).collect::<Vec<_>>().join(", ")) }
                    }
                }
            }
        }
    }
}

/// `GET /`.
pub async fn home(State(s): State<AppState>, v: Viewer) -> Response {
    let today = chrono::Utc::now().date_naive();
    // What the person owns: themselves, their teams and the roles they hold. A member's
    // lists are limited to that already; others read the whole register, so it is asked.
    let own = match s.app.own_parties(&v.ctx).await {
        Ok(o) => o,
        Err(e) => return error_page(Some(&v), e),
    };
    let within = v.reads_all().then(|| custodian_store::Within {
        parties: own.clone(),
        ids: vec![],
    });
    let nothing = v.reads_all() && own.is_empty();
    let read = |limit: u32, overdue: Option<chrono::NaiveDate>| {
        let q = AssetQuery {
            limit,
            review_overdue: overdue,
            within: within.clone(),
            ..Default::default()
        };
        let app = s.app.clone();
        let ctx = v.ctx.clone();
        async move {
            if nothing {
                return Ok(vec![]);
            }
            app.list_assets(&ctx, &q).await.map(|p| p.items)
        }
    };
    let (mine, due) = match (read(200, None).await, read(100, Some(today)).await) {
        (Ok(m), Ok(d)) => (m, d),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&v), e),
    };
    let incomplete: Vec<AssetView> = mine
        .iter()
        .filter(|a| !a.completeness.complete)
        .cloned()
        .collect();
    let summary = if v.reads_all() {
        match s.app.register_summary(&v.ctx).await {
            Ok(x) => Some(x),
            Err(e) => return error_page(Some(&v), e),
        }
    } else {
        None
    };
    let large = v.reads_all() && summary.as_ref().is_some_and(Option::is_none);
    let summary = summary.flatten();
    let held = super::workflows::held_by_viewer(&s, &v).await;
    let lost = super::workflows::lost_or_stolen(&s, &v).await;
    let prompt = super::cases::attestation_prompt(&s, &v).await;
    let to_fix = super::compliance::yours_to_fix(&s, &v).await;
    let body = html! {
        h1 { "Hello, " (v.user.email) }
        (prompt)
        (held)
        (lost)
        @if large {
            h2 { "The register" }
            p.muted id="summing-up" { "The register is large: its figures are being counted. Look again in a minute." }
        }
        @if let Some(sm) = &summary {
            h2 { "The register" }
            p.muted { "Counted " (super::when(&sm.at)) "." }
            div.cards {
                div.card id="total" { h3 { "Assets" } p.big { (sm.counts.total) } }
                div.card id="orphaned" { h3 { "Orphaned" } p.big { a href="/compliance?check_id=owner_active#findings" { (sm.orphaned) } } p.muted { "owned by someone who left, an empty team or a vacant role" } }
                div.card id="overdue" { h3 { "Reviews overdue" } p.big { a href="/assets?review_overdue=true" { (sm.counts.overdue) } } }
                div.card id="incomplete" {
                    h3 { "Incomplete records" }
                    p.big { a href="/compliance?check_id=record_complete#findings" { (sm.incomplete) } }
                    p.muted { "lacking what the policy asks of their kind" }
                }
            }
            div.cards {
                div.card { h3 { "By kind" } ul.counts { @for (k, n) in &sm.counts.by_kind { li { a href={ "/assets?kind=" (k) } { (words(k)) } span { (n) } } } } }
                div.card { h3 { "By status" } ul.counts { @for (k, n) in &sm.counts.by_status { li { a href={ "/assets?status=" (k) } { (words(k)) } span { (n) } } } } }
                div.card { h3 { "By classification" } ul.counts { @for (k, n) in &sm.counts.by_classification { li { a href={ "/assets?classification=" (k) } { (words(k)) } span { (n) } } } } }
            }
            @if !sm.orphan_owners.is_empty() {
                h3 { "Owners who cannot be accountable" }
                ul { @for (p, why) in &sm.orphan_owners { li { a href={ "/assets?owner_id=" (p.id) } { (p.name) } " — " (why) } } }
            }
        }
        @if v.reads_all() {
            p id="compliance-link" { a href="/compliance" { "Are we compliant? The checks, findings and trend" } }
        }
        h2 { "Your work" }
        @if v.principal.person_id.is_none() {
            p.warning id="unlinked" { "Your account is linked to no person, so nothing is yours to own, hold or review"
                @if !v.reads_all() { ", and the register shows you nothing" }
                ". Ask an admin to link your account to your person (Users, then your account)." }
        } @else {
            (to_fix)
            h3 { "Assets you own" }
            (asset_rows(&mine, "You own no assets."))
            h3 { "Reviews due" }
            (asset_rows(&due, "No review is overdue."))
            h3 { "Records to complete" }
            (asset_rows(&incomplete, "Every record you own is complete."))
        }
    };
    ok(page(Some(&v), "Home", Nav::Home, body))
}

//! Pages of the return of assets and of attestation: offboarding and handover cases, with
//! their items settled one by one; attestation campaigns and the owners' answers.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_app::AppError;
use custodian_domain::attestation::{AttestationStatus, OwnerResponse};
use custodian_domain::offboarding::{
    needs_successor, CaseStatus, ItemKind, ItemStatus, Offboarding, NOTICE_CONTROLS,
};
use custodian_store::OffboardingQuery;

use super::record::{after_change, Drawing, Drawn, RecordPage};
use super::{
    asset_numbers, badge, csrf, error_page, field, html_response, ok, page, when, words, Control,
    Errors, Form, Nav, PageId, Viewer,
};
use crate::AppState;

fn case_state(c: &Offboarding, today: chrono::NaiveDate) -> Markup {
    html! {
        @if c.status == CaseStatus::Closed { (badge("status", "closed")) }
        @else if c.overdue(today) { (badge("missing", "overdue")) }
        @else { (badge("status", "open")) }
    }
}

/// `GET /offboardings`: open cases first, then closed ones (members: their own).
pub async fn offboardings(State(s): State<AppState>, v: Viewer) -> Response {
    let q = OffboardingQuery {
        limit: 200,
        newest_first: true,
        ..Default::default()
    };
    let mut list = match s.app.list_offboardings(&v.ctx, q).await {
        Ok(p) => p.items,
        Err(e) => return error_page(Some(&v), e),
    };
    list.sort_by_key(|c| c.status == CaseStatus::Closed);
    let ids: Vec<Uuid> = list.iter().map(|c| c.person_id).collect();
    let names = s.app.party_names(&v.ctx, &ids).await.unwrap_or_default();
    let today = chrono::Utc::now().date_naive();
    let body = html! {
        h1 { "Offboarding and handover" }
        p.muted { "A case opens when someone enters notice or leaves (offboarding), or leaves a team or gives up a role (handover). It closes when every item is settled." }
        @if list.is_empty() { p.muted { "No cases." } } @else {
            table id="offboardings" {
                thead { tr { th { "Person" } th { "Case" } th { "Last day" } th { "Open items" } th { "State" } } }
                tbody {
                    @for c in &list {
                        tr {
                            td { a href={ "/offboardings/" (c.id) } { (names.get(&c.person_id).cloned().unwrap_or_else(|| c.person_id.to_string())) } }
                            td { (words(c.kind.as_str())) ": " (c.reason) }
                            td { @if let Some(d) = c.end_date { (d) } }
                            td { (c.open_items().count()) " of " (c.items.len()) }
                            td { (case_state(c, today)) }
                        }
                    }
                }
            }
        }
    };
    ok(page(Some(&v), "Offboarding", Nav::Offboarding, body))
}

/// An offboarding or handover case's page, `GET /offboardings/{id}`.
pub struct CasePage;

impl RecordPage for CasePage {
    const PATH: &'static str = "/offboardings";

    async fn draw(s: &AppState, v: &Viewer, id: Uuid, errors: &Errors) -> Drawing {
        let c = s.app.get_offboarding(&v.ctx, id).await?;
        let in_notice = s.app.in_notice(&c).await.unwrap_or(false);
        let mut ids: Vec<Uuid> = vec![c.person_id];
        ids.extend(c.successor_id);
        ids.extend(c.from_party_id);
        ids.extend(c.items.iter().filter_map(|i| i.successor_id));
        ids.extend(c.items.iter().filter_map(|i| i.settled_by));
        let names = s.app.party_names(&v.ctx, &ids).await.unwrap_or_default();
        let name = |i: Uuid| names.get(&i).cloned().unwrap_or_else(|| i.to_string());
        let successors: Vec<(String, String)> = if v.manages() && c.status == CaseStatus::Open {
            s.app
                .party_choices(&v.ctx)
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p.id != c.person_id)
                .map(|p| (p.id.to_string(), format!("{} ({})", p.name, p.kind)))
                .collect()
        } else {
            vec![]
        };
        let today = chrono::Utc::now().date_naive();
        let open = c.status == CaseStatus::Open;
        let body = html! {
            h1 { (words(c.kind.as_str())) ": " (name(c.person_id)) }
            p { (case_state(&c, today)) " " (c.reason) ", " (when(&c.created_at)) }
            (errors.summary())
            dl.record {
                dt { "Person" } dd { a href={ "/people/" (c.person_id) } { (name(c.person_id)) } }
                @if let Some(f) = c.from_party_id { dt { "Left" } dd { a href={ "/people/" (f) } { (name(f)) } } }
                dt { "Last day" } dd { @if let Some(d) = c.end_date { (d) } @else { span.muted { "not set" } } }
                dt { "Successor" } dd { @if let Some(x) = c.successor_id { a href={ "/people/" (x) } { (name(x)) } } @else { span.muted { "not named" } } }
                @if let Some(n) = &c.notes { dt { "Notes" } dd { (n) } }
                @if let Some(t) = &c.closed_at { dt { "Closed" } dd { (when(t)) @if let Some(b) = c.closed_by { " by " (name(b)) } } }
            }
            @if in_notice && open {
                section id="notice-controls" {
                    h2 { "While they work their notice" }
                    p.muted { "The controls against unauthorised copying of information:" }
                    ul { @for (t, d) in NOTICE_CONTROLS { li { strong { (t) } ": " (d) } } }
                }
            }
            h2 { "To settle (" (c.open_items().count()) " open of " (c.items.len()) ")" }
            table id="items" {
                thead { tr { th { "Item" } th { "State" } th { "Settled" } } }
                tbody {
                    @for i in &c.items {
                        tr id={ "item-" (i.id) } {
                            td {
                                @if let Some(a) = i.asset_id { a href={ "/assets/" (a) } { (i.title) } } @else { (i.title) }
                            }
                            td {
                                @if i.status == ItemStatus::Settled { (badge("status", "settled")) }
                                @else if i.overdue(c.end_date, today) { (badge("missing", "overdue")) }
                                @else { (badge("status", "open")) }
                            }
                            td {
                                @if let Some(t) = &i.settled_at {
                                    (when(t)) @if let Some(b) = i.settled_by { " by " (name(b)) }
                                    @if let Some(x) = i.successor_id { br; "to " (name(x)) }
                                    @if let Some(e) = &i.evidence { br; span.muted { (e) } }
                                } @else if v.manages() && open {
                                    form.inline method="post" action={ "/offboardings/" (c.id) "/items/" (i.id) "/settle" } {
                                        (csrf(v))
                                        input type="hidden" name="version" value=(c.version);
                                        label { "Evidence " input type="text" name="evidence" required; }
                                        @if i.kind == ItemKind::ReturnAsset {
                                            " "
                                            label { "Condition " input type="text" name="condition"; }
                                        }
                                        @if needs_successor(i.kind) {
                                            " "
                                            label { "Successor "
                                                select name="successor_id" {
                                                    option value="" { "the case's successor" }
                                                    @for (val, lab) in &successors { option value=(val) { (lab) } }
                                                }
                                            }
                                        }
                                        " " button type="submit" { "Settle" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if v.manages() && open {
                div.actions {
                    form.inline method="post" action={ "/offboardings/" (c.id) "/close" } id="close-case" {
                        (csrf(v))
                        input type="hidden" name="version" value=(c.version);
                        button type="submit" { "Close the case" }
                    }
                    form.inline method="post" action={ "/offboardings/" (c.id) "/refresh" } {
                        (csrf(v))
                        input type="hidden" name="version" value=(c.version);
                        button.secondary type="submit" { "Look for anything new" }
                    }
                }
                h2 { "Case details" }
                form.stack method="post" action={ "/offboardings/" (c.id) "/edit" } id="case-details" {
                    (csrf(v))
                    input type="hidden" name="version" value=(c.version);
                    (field("end_date", "Last day", None, Control::Input("date"), &c.end_date.map(|d| d.to_string()).unwrap_or_default(), false, errors))
                    (field("successor_id", "Successor", Some("Takes over what they own and the delegations they hold, unless an item names someone else."), Control::Select(successors.clone(), true), &c.successor_id.map(|x| x.to_string()).unwrap_or_default(), false, errors))
                    div.actions { button.secondary type="submit" { "Save" } }
                }
            }
            p { a href="/offboardings" { "All cases" } }
        };
        Ok(Drawn {
            title: "Offboarding case".into(),
            nav: Nav::Offboarding,
            body,
        })
    }
}

fn version(form: &Form) -> Option<i64> {
    form.get("version").and_then(|x| x.parse().ok())
}

/// `POST /offboardings/{id}/items/{item_id}/settle`.
pub async fn settle(
    State(s): State<AppState>,
    v: Viewer,
    Path((id, item)): Path<(String, String)>,
    form: Form,
) -> Response {
    let (Ok(id), Ok(item)) = (Uuid::parse_str(&id), Uuid::parse_str(&item)) else {
        return error_page(Some(&v), AppError::not_found("offboarding item", item));
    };
    let mut body = Map::new();
    for k in ["evidence", "successor_id", "condition"] {
        if let Some(val) = form.get(k).filter(|x| !x.trim().is_empty()) {
            body.insert(k.into(), json!(val));
        }
    }
    let r = s
        .app
        .settle_offboarding_item(&v.ctx, id, item, body, version(&form).into())
        .await;
    after_change::<CasePage, _>(&s, &v, id, r, super::Done::Saved).await
}

/// `POST /offboardings/{id}/close`.
pub async fn close(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let r = s
        .app
        .close_offboarding(&v.ctx, id, Map::new(), version(&form).into())
        .await;
    after_change::<CasePage, _>(&s, &v, id, r, super::Done::Saved).await
}

/// `POST /offboardings/{id}/refresh`.
pub async fn refresh(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let r = s
        .app
        .refresh_offboarding(&v.ctx, id, version(&form).into())
        .await;
    after_change::<CasePage, _>(&s, &v, id, r, super::Done::Saved).await
}

/// `POST /offboardings/{id}/edit`: the last day and the successor.
pub async fn edit(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    for k in ["end_date", "successor_id"] {
        let val = form.get(k).map(str::trim).unwrap_or("");
        body.insert(
            k.into(),
            if val.is_empty() {
                Value::Null
            } else {
                json!(val)
            },
        );
    }
    let r = s
        .app
        .update_offboarding(&v.ctx, id, body, version(&form).into())
        .await;
    after_change::<CasePage, _>(&s, &v, id, r, super::Done::Saved).await
}

/// The cases about a person, for their page.
pub async fn person_cases(s: &AppState, v: &Viewer, person: Uuid) -> Markup {
    let q = OffboardingQuery {
        limit: 50,
        person_id: Some(person),
        newest_first: true,
        ..Default::default()
    };
    let Ok(list) = s.app.list_offboardings(&v.ctx, q).await else {
        return html! {};
    };
    let today = chrono::Utc::now().date_naive();
    html! {
        @if !list.items.is_empty() {
            h2 id="cases" { "Offboarding and handover" }
            ul {
                @for c in &list.items {
                    li { a href={ "/offboardings/" (c.id) } { (words(c.kind.as_str())) ": " (c.reason) } " " (case_state(c, today)) " " (c.open_items().count()) " open of " (c.items.len()) }
                }
            }
        }
    }
}

// ---- attestation ----

/// `GET /attestations`: campaigns, newest first, and (managers) a form to open one.
pub async fn attestations(State(s): State<AppState>, v: Viewer) -> Response {
    attestations_page(&s, &v, &HashMap::new(), &Errors::none(), StatusCode::OK).await
}

async fn attestations_page(
    s: &AppState,
    v: &Viewer,
    values: &HashMap<String, String>,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let list = match s.app.list_attestations(&v.ctx, None, 50, None).await {
        Ok(p) => p.items,
        Err(e) => return error_page(Some(v), e),
    };
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let body = html! {
        h1 { "Attestation" }
        p.muted { "A campaign asks every owner to confirm that the register's record of their assets is right, or to say what is wrong." }
        @if list.is_empty() { p.muted { "No campaigns yet." } } @else {
            table id="attestations" {
                thead { tr { th { "Campaign" } th { "Due" } th { "State" } th { "Owners answered" } th { "Assets attested" } } }
                tbody {
                    @for a in &list {
                        @let c = a.completion();
                        tr {
                            td { a href={ "/attestations/" (a.id) } { (a.title) } }
                            td { (a.due_date) }
                            td { (badge("status", a.status.as_str())) }
                            td { (c.answered) " of " (c.owners) @if v.reads_all() { " (" (c.percent) " %)" } }
                            td { (c.assets_attested) " of " (c.assets) }
                        }
                    }
                }
            }
        }
        @if v.manages() {
            h2 { "Open a campaign" }
            (errors.summary())
            form.stack method="post" action="/attestations" novalidate id="attestation-form" {
                (csrf(v))
                (field("title", "Title", None, Control::Input("text"), &get("title"), true, errors))
                (field("due_date", "Answers due", Some("At most a year from today."), Control::Input("date"), &get("due_date"), true, errors))
                div.actions { button type="submit" { "Open it" } }
            }
        }
    };
    html_response(status, page(Some(v), "Attestation", Nav::Attestation, body))
}

/// `POST /attestations`.
pub async fn open_attestation(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let mut body = Map::new();
    for k in ["title", "due_date"] {
        if let Some(val) = form.get(k).filter(|x| !x.trim().is_empty()) {
            body.insert(k.into(), json!(val));
        }
    }
    let r = s.app.open_attestation(&v.ctx, body).await;
    let taken = |a: custodian_domain::attestation::Attestation| {
        super::done(&format!("/attestations/{}", a.id), super::Done::Created)
    };
    super::settle(&v, r, taken, async |errors| {
        attestations_page(
            &s,
            &v,
            &form.values(),
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    })
    .await
}

/// An attestation campaign's page, `GET /attestations/{id}`.
pub struct CampaignPage;

impl RecordPage for CampaignPage {
    const PATH: &'static str = "/attestations";

    async fn draw(s: &AppState, v: &Viewer, id: Uuid, errors: &Errors) -> Drawing {
        let a = s.app.get_attestation(&v.ctx, id).await?;
        let mut ids: Vec<Uuid> = a.owners.iter().map(|o| o.owner_id).collect();
        ids.extend(a.owners.iter().filter_map(|o| o.responded_by));
        let names = s.app.party_names(&v.ctx, &ids).await.unwrap_or_default();
        let name = |i: Uuid| names.get(&i).cloned().unwrap_or_else(|| i.to_string());
        let own = s.app.own_parties(&v.ctx).await.unwrap_or_default();
        let c = a.completion();
        let open = a.status == AttestationStatus::Open;
        // The viewer's own owners' assets, listed to be confirmed one by one.
        let mut to_confirm: Vec<(Uuid, Vec<custodian_app::assets::AssetView>, bool)> = Vec::new();
        if open {
            for o in a.owners.iter().filter(|o| own.contains(&o.owner_id)) {
                let q = custodian_store::AssetQuery {
                    limit: ASSETS_LISTED + 1,
                    owner_id: Some(o.owner_id),
                    ..Default::default()
                };
                let mut items = match s.app.list_assets(&v.ctx, &q).await {
                    Ok(p) => p.items,
                    Err(e) => return Err(e),
                };
                items.retain(|x| x.asset.status != custodian_domain::lifecycle::Status::Disposed);
                let more = items.len() > ASSETS_LISTED as usize;
                items.truncate(ASSETS_LISTED as usize);
                to_confirm.push((o.owner_id, items, more));
            }
        }
        let body = html! {
            h1 { (a.title) }
            p { (badge("status", a.status.as_str())) " answers due " (a.due_date) }
            (errors.summary())
            div.cards {
                div.card id="completion" { h3 { "Owners answered" } p.big { (c.answered) " of " (c.owners) } p.muted { (c.percent) " %" } }
                div.card { h3 { "Assets attested" } p.big { (c.assets_attested) " of " (c.assets) } }
                div.card { h3 { "With corrections" } p.big { (c.corrected) } }
            }
            table id="owners" {
                thead { tr { th { "Owner" } th { "Assets" } th { "Answer" } th { "" } } }
                tbody {
                    @for o in &a.owners {
                        tr id={ "owner-" (o.owner_id) } {
                            td { a href={ "/people/" (o.owner_id) } { (name(o.owner_id)) } }
                            td { a href={ "/assets?owner_id=" (o.owner_id) } { (o.asset_count) } }
                            td {
                                (badge("status", o.status.as_str()))
                                @if let Some(t) = &o.responded_at { " " (when(t)) @if let Some(b) = o.responded_by { " by " (name(b)) } }
                                @if let Some(n) = &o.note { br; span.muted { (n) } }
                                @if !o.disputed_asset_ids.is_empty() { br; (o.disputed_asset_ids.len()) " named as wrong" }
                            }
                            td {
                                @if open && own.contains(&o.owner_id) {
                                    a href={ "#confirm-" (o.owner_id) } { "Confirm the assets" }
                                } @else if open && v.manages() {
                                    form.stack method="post" action={ "/attestations/" (a.id) "/answer" } {
                                        (csrf(v))
                                        input type="hidden" name="owner_id" value=(o.owner_id);
                                        label { "Wrong or not theirs (asset numbers, one per line)" textarea name="disputed" rows="2" {} }
                                        label { "Note" input type="text" name="note"; }
                                        button type="submit" {
                                            @if o.status == OwnerResponse::Pending { "Confirm" } @else { "Answer again" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @for (owner, items, more) in &to_confirm {
                section.confirm id={ "confirm-" (owner) } {
                    h2 { "Confirm the assets of " (name(*owner)) }
                    p { "Each of these is recorded as owned by " (name(*owner)) ". Tick any that is wrong — not theirs, gone, or not what the record says — and say what is wrong; the rest are confirmed as they are." }
                    form.stack method="post" action={ "/attestations/" (a.id) "/answer" } {
                        (csrf(v))
                        input type="hidden" name="owner_id" value=(owner);
                        @if items.is_empty() { p.muted { "They own no assets now." } }
                        @else {
                            table.assets-to-confirm {
                                thead { tr { th scope="col" { "Wrong?" } th scope="col" { "Number" } th scope="col" { "Name" } th scope="col" { "Kind" } th scope="col" { "Status" } } }
                                tbody { @for x in items { tr {
                                    td { input type="checkbox" name="disputed_id" value=(x.asset.id) id={ "wrong-" (x.asset.id) } aria-label={ "Mark " (x.asset.asset_number) " as wrong" }; }
                                    td { label for={ "wrong-" (x.asset.id) } { a href={ "/assets/" (x.asset.id) } { (x.asset.asset_number) } } }
                                    td { (x.asset.name) }
                                    td { (words(x.asset.kind.as_str())) }
                                    td { (badge("status", x.asset.status.as_str())) }
                                } } }
                            }
                        }
                        @if *more {
                            label { "More wrong ones, by asset number (one per line): only the first " (ASSETS_LISTED) " are listed" textarea name="disputed" rows="2" {} }
                        }
                        label { "What is wrong (needed when you tick one)" input type="text" name="note"; }
                        button type="submit" { "Send my answer" }
                    }
                }
            }
            @if v.manages() && open {
                form.inline method="post" action={ "/attestations/" (a.id) "/close" } id="close-campaign" {
                    (csrf(v))
                    input type="hidden" name="version" value=(a.version);
                    button.secondary type="submit" { "Close the campaign" }
                }
            }
            p { a href="/attestations" { "All campaigns" } }
        };
        Ok(Drawn {
            title: a.title.clone(),
            nav: Nav::Attestation,
            body,
        })
    }
}

/// How many of an owner's assets a campaign page lists to be confirmed one by one.
const ASSETS_LISTED: u32 = 200;

/// `POST /attestations/{id}/answer`: the assets ticked as wrong, and asset numbers named as
/// wrong (looked up among the owner's assets).
pub async fn answer(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    body.insert("owner_id".into(), json!(form.get("owner_id").unwrap_or("")));
    if let Some(n) = form.get("note").filter(|x| !x.trim().is_empty()) {
        body.insert("note".into(), json!(n));
    }
    let (disputed, errors) =
        match asset_numbers(&s, &v, form.get("disputed").unwrap_or(""), "disputed").await {
            Ok(x) => x,
            Err(e) => return error_page(Some(&v), e),
        };
    let mut errors = Errors(errors);
    let mut disputed = disputed;
    for raw in form.all("disputed_id") {
        match Uuid::parse_str(raw) {
            Ok(id) if !disputed.contains(&json!(id)) => disputed.push(json!(id)),
            Ok(_) => {}
            Err(_) => errors.0.push(custodian_domain::FieldError::new(
                "disputed",
                format!("{raw:?} is not an asset"),
            )),
        }
    }
    body.insert("disputed_asset_ids".into(), Value::Array(disputed));
    let r = if errors.any() {
        Err(AppError::Invalid(custodian_domain::Problems(errors.0)))
    } else {
        s.app.answer_attestation(&v.ctx, id, body).await
    };
    after_change::<CampaignPage, _>(&s, &v, id, r, super::Done::Answered).await
}

/// `POST /attestations/{id}/close`.
pub async fn close_attestation(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let r = s
        .app
        .close_attestation(&v.ctx, id, version(&form).into())
        .await;
    after_change::<CampaignPage, _>(&s, &v, id, r, super::Done::Closed).await
}

/// The open campaign's request to the viewer, for the home page.
pub async fn attestation_prompt(s: &AppState, v: &Viewer) -> Markup {
    let Ok(Some((a, pending))) = s.app.my_pending_attestation(&v.ctx).await else {
        return html! {};
    };
    let n: i64 = pending.iter().map(|o| o.asset_count).sum();
    html! {
        section.notice id="attestation-prompt" {
            h2 { "Confirm your assets" }
            p { "The campaign " a href={ "/attestations/" (a.id) } { (a.title) } " asks you to confirm the record of " (n) " asset" @if n != 1 { "s" } " by " (a.due_date) "." }
        }
    }
}

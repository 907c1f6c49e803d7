//! Custody on an asset's page: who holds it, issuing it or a seat, its return, and a
//! holder's loss or theft report with the incident reference a manager adds.

use super::*;
use crate::ui::see_other;
use crate::ui::workflows::{assignment_rows, names_of, persons};
use custodian_store::AssignmentQuery;

/// The custody section of an asset's page: who holds it (or its seats), the history, the
/// issue form for managers, and for its holder the report of a loss.
pub async fn custody_section(
    s: &AppState,
    v: &Viewer,
    x: &Asset,
    parties: &[PartyRef],
    locations: &[(Uuid, String)],
    errors: &Errors,
    sent: &HashMap<String, String>,
) -> Result<Markup, AppError> {
    if !matches!(
        x.kind,
        AssetKind::Physical | AssetKind::Virtual | AssetKind::Software
    ) {
        return Ok(html! {});
    }
    let q = AssignmentQuery {
        limit: 50,
        asset_id: Some(x.id),
        newest_first: true,
        ..Default::default()
    };
    let list = s.app.list_assignments(&v.ctx, q).await?.items;
    let (names, hosts) = names_of(s, v, &list).await;
    let seats = x.kind == AssetKind::Software;
    let me = v.principal.person_id;
    let held_by_me = list
        .iter()
        .any(|a| a.returned_at.is_none() && a.person_id.is_some() && a.person_id == me && !seats);
    let issuable = v.manages()
        && if seats {
            !matches!(
                x.status,
                Status::Retired | Status::Disposed | Status::Lost | Status::Stolen
            )
        } else {
            matches!(x.status, Status::Planned | Status::InStock | Status::InUse)
                && !list.iter().any(|a| a.returned_at.is_none())
        };
    let get = |k: &str| sent.get(k).cloned().unwrap_or_default();
    let mut locs: Vec<(String, String)> = locations
        .iter()
        .map(|(i, n)| (i.to_string(), n.clone()))
        .collect();
    locs.sort_by(|a, b| a.1.cmp(&b.1));
    let awaiting = if matches!(x.status, Status::Lost | Status::Stolen) {
        s.app
            .reports_awaiting_reference(&v.ctx, x.id)
            .await
            .unwrap_or_default()
    } else {
        vec![]
    };
    Ok(html! {
        h2 id="custody" { @if seats { "Seats" } @else { "Custody" } }
        @if list.is_empty() { p.muted { @if seats { "No seat is assigned." } @else { "Nobody has held it." } } } @else {
            (assignment_rows(&list, &names, &hosts, v, true))
        }
        @if let Some(i) = awaiting.first() {
            div.warning id="incident" role="note" {
                p { "Reported " (i.status) " by its holder " (when(&i.reported_at)) ": the incident reference is still to be added." }
                @if let Some(n) = &i.notes { p { (n) } }
            }
            @if v.manages() {
                form.stack method="post" action={ "/assets/" (x.id) "/incident" } novalidate id="add-incident" {
                    (csrf(v))
                    (field("incident_ref", "Incident reference", Some("The number of the police or incident report."), Control::Input("text"), &get("incident_ref"), true, errors))
                    button type="submit" { "Add the reference" }
                }
            }
        }
        @if issuable {
            h3 { @if seats { "Assign a seat" } @else { "Issue it" } }
            form.stack method="post" action={ "/assets/" (x.id) "/issue" } novalidate id="issue" {
                (csrf(v))
                (field("person_id", "To", Some("The holder must have acknowledged the acceptable-use policy in force."), Control::Select(persons(parties), true), &get("person_id"), !seats, errors))
                @if seats { (field("host", "Or to a host (its asset number)", None, Control::Input("text"), &get("host"), false, errors)) }
                (field("expected_return_at", "Due back", None, Control::Input("date"), &get("expected_return_at"), false, errors))
                (field("off_premises", "Leaves the premises", None, Control::Check, &get("off_premises"), false, errors))
                (field("location_id", "Where", None, Control::Select(locs, true), &get("location_id"), false, errors))
                (field("approved_by", "Off-premises move approved by", Some("Needed where the classification asks for approval."), Control::Select(persons(parties), true), &get("approved_by"), false, errors))
                (field("notes", "Notes", None, Control::Input("text"), &get("notes"), false, errors))
                button type="submit" { @if seats { "Assign the seat" } @else { "Issue it" } }
            }
        }
        @if held_by_me && !matches!(x.status, Status::Lost | Status::Stolen) {
            h3 { "Report it lost or stolen" }
            form.stack method="post" action={ "/assets/" (x.id) "/report" } novalidate id="report" {
                (csrf(v))
                input type="hidden" name="version" value=(x.version);
                (field("to", "What happened", None, Control::Select(vec![("lost".into(), "lost".into()), ("stolen".into(), "stolen".into())], false), &get("to"), true, errors))
                (field("incident_ref", "Incident reference", Some("The number of your police or incident report, if you have one; your IT team adds it otherwise."), Control::Input("text"), &get("incident_ref"), false, errors))
                (field("notes", "What happened, where and when", None, Control::TextArea, &get("notes"), false, errors))
                button type="submit" data-confirm="Report this asset lost or stolen?" { "Report it" }
            }
        }
    })
}

/// `POST /assets/{id}/issue` (managers).
pub async fn issue(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    body.insert("asset_id".into(), json!(id));
    for k in [
        "person_id",
        "expected_return_at",
        "location_id",
        "approved_by",
        "notes",
    ] {
        if let Some(val) = form.get(k) {
            body.insert(k.into(), json!(val));
        }
    }
    if form.get("off_premises") == Some("true") {
        body.insert("off_premises".into(), json!(true));
    }
    let mut host_error = None;
    if let Some(h) = form.get("host") {
        match s.app.store().asset_by_number(h).await {
            Ok(Some(a)) => {
                body.insert("host_id".into(), json!(a.id));
            }
            _ => host_error = Some(format!("no asset has the number {h}")),
        }
    }
    let result = match host_error {
        Some(m) => Err(AppError::invalid("host", m)),
        None => s.app.issue_asset(&v.ctx, body).await,
    };
    let taken = |_| crate::ui::done(&format!("/assets/{id}#custody"), crate::ui::Done::Issued);
    crate::ui::settle(&v, result, taken, async |mut errors| {
        for err in &mut errors.0 {
            if err.field == "host_id" {
                err.field = "host".into();
            }
            if err.field == "asset_id" || err.field.is_empty() {
                err.field = "person_id".into();
            }
        }
        rerender(&s, &v, id, errors, &form.values()).await
    })
    .await
}

/// `POST /assets/{id}/report`: the holder reports the asset lost or stolen.
pub async fn report(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    body.insert("to".into(), json!(form.get("to").unwrap_or("lost")));
    body.insert(
        "reported_at".into(),
        json!(custodian_domain::value::format_timestamp(
            &custodian_domain::now()
        )),
    );
    for k in ["incident_ref", "notes"] {
        if let Some(val) = form.get(k) {
            body.insert(k.into(), json!(val));
        }
    }
    let version = form.get("version").and_then(|x| x.parse().ok());
    match s
        .app
        .transition_asset(&v.ctx, id, body, version.into())
        .await
    {
        // The asset is no longer theirs to see once the report ends their custody: the
        // confirmation is on their home page.
        Ok(_) => crate::ui::done("/", crate::ui::Done::Reported),
        Err(e @ (AppError::Invalid(_) | AppError::PreconditionFailed { .. })) => {
            rerender(&s, &v, id, Errors::from_app(&e), &form.values()).await
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /assets/{id}/incident` (managers): the reference a holder's report awaits.
pub async fn add_incident_ref(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    if let Some(r) = form.get("incident_ref") {
        body.insert("incident_ref".into(), json!(r));
    }
    let r = s.app.add_incident_ref(&v.ctx, id, body).await;
    let taken = |_| crate::ui::done(&format!("/assets/{id}"), crate::ui::Done::Referenced);
    crate::ui::settle(&v, r, taken, async |errors| {
        rerender(&s, &v, id, errors, &form.values()).await
    })
    .await
}

/// `GET /assignments/{id}/return`: the asset's page, where the return form is.
pub async fn assignment_home(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    match s.app.get_assignment(&v.ctx, id).await {
        Ok(a) => see_other(&format!("/assets/{}#custody", a.asset_id)),
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /assignments/{id}/return` (managers).
pub async fn take_back(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    if let Some(c) = form.get("condition") {
        body.insert("condition".into(), json!(c));
    }
    let version = form.get("version").and_then(|x| x.parse().ok());
    match s.app.return_asset(&v.ctx, id, body, version.into()).await {
        Ok(a) => crate::ui::done(
            &format!("/assets/{}#custody", a.asset_id),
            crate::ui::Done::Returned,
        ),
        Err(e) => error_page(Some(&v), e),
    }
}

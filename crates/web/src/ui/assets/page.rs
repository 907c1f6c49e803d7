//! An asset's page: its record, completeness, licences, relations, custody and history; revealing a secret; recording a review.

use super::*;

/// `GET /assets/{id}`.
/// The asset's page again, with a refused form's errors and what was sent (422).
pub(in crate::ui) async fn rerender(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    errors: Errors,
    sent: &HashMap<String, String>,
) -> Response {
    match asset_page(s, v, id, errors, sent, None).await {
        Ok(m) => html_response(StatusCode::UNPROCESSABLE_ENTITY, m),
        Err(e) => error_page(Some(v), e),
    }
}

pub async fn show(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    match asset_page(&s, &v, id, Errors::none(), &HashMap::new(), None).await {
        Ok(m) => ok(m),
        Err(e) => error_page(Some(&v), e),
    }
}

pub(super) async fn asset_page(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    errors: Errors,
    sent: &HashMap<String, String>,
    revealed: Option<(String, String)>,
) -> Result<Markup, AppError> {
    let a = s.app.get_asset(&v.ctx, id).await?;
    let choices = Choices::load(s, v).await?;
    let relations = s.app.asset_relations(&v.ctx, id).await?;
    // The newest events, however long the history: read to its end, keep the last 200.
    let mut history = Vec::new();
    let mut cursor = None;
    loop {
        let p = s.app.asset_history(&v.ctx, id, 500, cursor).await?;
        history.extend(p.items);
        if history.len() > 400 {
            history.drain(..history.len() - 200);
        }
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let shown_from = history.len().saturating_sub(200);
    let history = &history[shown_from..];
    let history_names = s.app.names_in(&v.ctx, history).await?;
    let x = &a.asset;
    let mut names_needed = vec![x.owner_id];
    names_needed.extend(x.last_reviewed_by);
    let names = s.app.party_names(&v.ctx, &names_needed).await?;
    let name_of = |id: Uuid| names.get(&id).cloned().unwrap_or_else(|| id.to_string());
    let json = a.to_json();
    let may_edit = s.app.may_edit_asset(&v.ctx, x).await.unwrap_or(false);
    let may_reveal = s.app.may_reveal_secret(&v.ctx, x).await.unwrap_or(false);
    let manages = v.manages();
    let level = choices.levels.iter().find(|l| l.key == x.classification);
    let custody =
        custody_section(s, v, x, &choices.parties, &choices.locations, &errors, sent).await?;
    let findings = crate::ui::compliance::asset_findings(s, v, x.id).await;
    let body = html! {
        h1 { span.mono { (x.asset_number) } " " (x.name) }
        p {
            (badge("status", x.status.as_str())) " "
            (badge("level", &choices.level_name(&x.classification))) " "
            (words(x.kind.as_str())) " · importance " (x.importance)
        }
        p.no-print { a href={ "/labels?ids=" (x.id) } { "Print label" } }
        @if may_edit || manages {
            div.actions {
                @if may_edit && x.status != Status::Disposed { a.button href={ "/assets/" (x.id) "/edit" } { "Edit the record" } }
                @if manages && x.status.can_become(Status::Disposed) { a.button.secondary href={ "/assets/" (x.id) "/dispose" } { "Dispose of it" } }
            }
            @if may_edit && x.status != Status::Disposed && v.principal.person_id.is_some() {
                form.stack method="post" action={ "/assets/" (x.id) "/review" } id="review" {
                    (csrf(v))
                    input type="hidden" name="version" value=(x.version);
                    (field("notes", "Review notes", Some("Recording a review puts your name and today's date on it and moves the next review on by the classification's interval."), Control::Input("text"), "", false, &errors))
                    button.secondary type="submit" { "Record a review" }
                }
            }
        }
        (errors.summary())
        h2 { "Record" }
        dl.record {
            dt { (common_label(x.kind, "owner_id")) } dd { a href={ "/people/" (x.owner_id) } { (name_of(x.owner_id)) } }
            @if let Some(d) = &x.description { dt { (common_label(x.kind, "description")) } dd { (d) } }
            dt { (common_label(x.kind, "location_id")) } dd { @if let Some(l) = x.location_id { (choices.location_name(l)) } @else { span.muted { "not recorded" } } }
            @if !x.tags.is_empty() { dt { "Tags" } dd { (x.tags.join(", ")) } }
            dt { (common_label(x.kind, "last_reviewed_at")) } dd { @if let Some(t) = &x.last_reviewed_at { (when(t)) } @else { span.muted { "never" } } }
            dt { (common_label(x.kind, "last_reviewed_by")) } dd { @if let Some(p) = x.last_reviewed_by { (name_of(p)) } @else { span.muted { "—" } } }
            dt { (common_label(x.kind, "next_review_at")) } dd { @if let Some(d) = x.next_review_at { (d) } @else { span.muted { "—" } } }
            @for def in fields::fields_of(x.kind) {
                dt { (def.label) }
                dd {
                    @if def.ty == FieldType::Secret {
                        @match &revealed {
                            Some((f, value)) if f == def.name => { span.mono.token-once id={ "revealed-" (def.name) } { (value) } }
                            _ => {
                                @if x.attrs.contains_key(def.name) {
                                    "set "
                                    @if may_reveal {
                                        form.inline method="post" action={ "/assets/" (x.id) "/reveal" } {
                                            (csrf(v))
                                            input type="hidden" name="field" value=(def.name);
                                            button.link type="submit" { "Show it (the audit trail records who looked)" }
                                        }
                                    }
                                } @else { span.muted { "not set" } }
                            }
                        }
                    } @else {
                        @match x.attrs.get(def.name) {
                            Some(Value::String(u)) if def.ty == FieldType::Url && (u.starts_with("https://") || u.starts_with("http://")) => {
                                a href=(u) rel="noopener noreferrer" { (u) }
                            }
                            Some(val) => (shown_value(val)),
                            None => span.muted { "not recorded" },
                        }
                    }
                }
            }
            @for d in choices.custom.iter().filter(|d| d.asset_kinds.is_empty() || d.asset_kinds.contains(&x.kind)) {
                dt { (d.label) }
                dd { @match x.custom.get(&d.key) { Some(val) => (shown_value(val)), None => span.muted { "not recorded" } } }
            }
            @if !x.external_ids.is_empty() { dt { "Ids in other systems" } dd { (shown_value(&Value::Object(x.external_ids.clone()))) } }
            dt { "Registered" } dd { (when(&x.created_at)) }
            dt { "Last changed" } dd { (when(&x.updated_at)) " (version " (x.version) ")" }
        }
        @if x.kind == AssetKind::Software {
            (licence_position(x))
        }
        @if let Some(l) = level {
            h2 { "Handling (" (l.name) ")" }
            ul {
                li { "Encryption " @if l.encryption_required { "required" } @else { "not required" } }
                li { "Off premises: " (words(l.off_premises.as_str())) }
                li { "External sharing: " (words(l.external_sharing.as_str())) }
                li { "Label " @if l.label_required { "required" } @else { "not required" } }
                li { "Disposal: at least " (words(l.disposal_method.as_str())) }
                li { "Review every " (l.review_interval_days) " days" }
            }
        }
        (findings)
        h2 { "Completeness" }
        @if a.completeness.complete {
            p { (badge("complete", "complete")) " The record has everything the policy asks of a " (words(x.kind.as_str())) " asset." }
        } @else {
            p { "The record still lacks:" }
            ul id="missing" { @for m in &a.completeness.missing { li { (label_of(x.kind, m)) } } }
        }
        @if let Some(d) = json.get("disposal") {
            h2 { "Disposal record" }
            dl.record {
                @if let Some(o) = d.as_object() {
                    @for (k, val) in o { @if !val.is_null() { dt { (words(k)) } dd { (shown_value(val)) } } }
                }
            }
        }
        (custody)
        h2 { "Relations" }
        @if relations.is_empty() { p.muted { "No relations." } } @else {
            ul {
                @for r in &relations {
                    li { (relation_line(r)) }
                }
            }
        }
        @if manages && !x.status.next().is_empty() {
            h2 { "Lifecycle" }
            (transition_form(v, x, sent, &errors))
        }
        h2 { "History" }
        ol.history id="history" {
            @for e in history.iter().rev() {
                li {
                    strong { (words(&e.action.replace('.', " "))) }
                    " · " (when(&e.occurred_at)) " · "
                    span.muted { (history_names.get(&e.actor).unwrap_or(&e.actor)) }
                    (diff(x.kind, &e.changes, &history_names))
                }
            }
        }
    };
    Ok(page(
        Some(v),
        &format!("{} {}", x.asset_number, x.name),
        Nav::Assets,
        body,
    ))
}

pub(super) fn licence_position(x: &Asset) -> Markup {
    let custodian_domain::asset::Licences { purchased, used } = x.licences();
    html! {
        h2 { "Licence position" }
        p id="licence-position" {
            @match (purchased, used) {
                (Some(p), Some(u)) if u > p => { strong { (u) " used of " (p) " purchased: " (u - p) " over." } }
                (Some(p), Some(u)) => { (u) " used of " (p) " purchased; " (p - u) " free." }
                (None, Some(u)) => { (u) " used; no limit recorded." }
                (Some(p), None) => { (p) " purchased; use not recorded." }
                (None, None) => { "Not recorded." }
            }
        }
    }
}

pub(super) fn relation_line(r: &custodian_app::assets::RelationView) -> Markup {
    use custodian_app::assets::Direction;
    let other_id = r.other.as_ref().map_or(
        if r.direction == Direction::Outgoing {
            r.to_id
        } else {
            r.from_id
        },
        |o| o.id,
    );
    let other_name = r
        .other
        .as_ref()
        .map_or_else(|| other_id.to_string(), |o| o.name.clone());
    let ty = r.relation_type.as_str();
    html! {
        @if r.direction == Direction::Incoming { "is the target of " (words(ty)) " from " } @else { (words(ty)) " " }
        a href={ "/assets/" (other_id) } { (other_name) }
    }
}

/// An event's changes as readable lines: `Field: before → after`.
pub(super) fn diff(kind: AssetKind, changes: &str, names: &HashMap<String, String>) -> Markup {
    let parsed: Value = serde_json::from_str(changes).unwrap_or(Value::Null);
    let Some(o) = parsed.as_object() else {
        return html! {};
    };
    html! {
        ul.diff {
            @for (k, val) in o {
                @if k != "client" {
                    li {
                        (label_of(kind, k)) ": "
                        @match (val.get("before"), val.get("after")) {
                            (Some(b), Some(a)) => { del { (named(b, names)) } " → " ins { (named(a, names)) } }
                            (None, Some(a)) => { ins { (named(a, names)) } }
                            (Some(b), None) => { del { (named(b, names)) } }
                            (None, None) => { (named(val, names)) }
                        }
                    }
                }
            }
        }
    }
}

/// A value of a change as people read it: an id by its name, when the register knows it.
fn named(v: &Value, names: &HashMap<String, String>) -> String {
    match v.as_str().and_then(|s| names.get(s)) {
        Some(n) => n.clone(),
        None => shown_value(v),
    }
}

/// `POST /assets/{id}/reveal`: shows a secret field once, on the asset's page; the
/// request is an audit event.
pub async fn reveal(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let field = form.get("field").map(String::from);
    let shown = match s.app.reveal_secret(&v.ctx, id, field.as_deref()).await {
        Ok(r) => r,
        Err(e) => return error_page(Some(&v), e),
    };
    let value = shown.value;
    match asset_page(
        &s,
        &v,
        id,
        Errors::none(),
        &HashMap::new(),
        field.map(|f| (f, value)),
    )
    .await
    {
        Ok(m) => ok(m),
        Err(e) => error_page(Some(&v), e),
    }
}

/// `POST /assets/{id}/review`: records a review by the signed-in person.
pub async fn review(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let mut body = Map::new();
    body.insert("asset_id".into(), json!(id));
    if let Some(n) = form.get("notes") {
        body.insert("notes".into(), json!(n));
    }
    if let Some(ver) = form.get("version").and_then(|x| x.parse::<i64>().ok()) {
        body.insert("version".into(), json!(ver));
    }
    match s.app.review_asset(&v.ctx, body).await {
        Ok(_) => crate::ui::done(&format!("/assets/{id}"), crate::ui::Done::Reviewed),
        Err(e @ (AppError::Invalid(_) | AppError::PreconditionFailed { .. })) => {
            match asset_page(&s, &v, id, Errors::from_app(&e), &form.values(), None).await {
                Ok(m) => html_response(StatusCode::UNPROCESSABLE_ENTITY, m),
                Err(e) => error_page(Some(&v), e),
            }
        }
        Err(e) => error_page(Some(&v), e),
    }
}

//! Moving an asset along its lifecycle, and the disposal record.

use super::*;

pub(super) fn transition_form(
    v: &Viewer,
    x: &Asset,
    sent: &HashMap<String, String>,
    errors: &Errors,
) -> Markup {
    let get = |k: &str| sent.get(k).cloned().unwrap_or_default();
    let options: Vec<(String, String)> = x
        .status
        .next()
        .iter()
        .filter(|s| **s != Status::Disposed)
        .map(|s| (s.as_str().to_string(), words(s.as_str())))
        .collect();
    html! {
        form.stack method="post" action={ "/assets/" (x.id) "/transition" } id="transition" {
            (csrf(v))
            input type="hidden" name="version" value=(x.version);
            (field("to", "Move to", None, Control::Select(options, true), &get("to"), true, errors))
            (field("reason", "Why", None, Control::Input("text"), &get("reason"), true, errors))
            (field("incident_ref", "Incident reference (lost or stolen)", Some("Required when the asset is lost or stolen."), Control::Input("text"), &get("incident_ref"), false, errors))
            (field("reported_at", "Reported at (UTC; lost or stolen)", None, Control::Input("datetime-local"), &get("reported_at"), false, errors))
            button type="submit" { "Move" }
        }
    }
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM`) as an RFC 3339 time in UTC.
pub(super) fn utc(v: &str) -> String {
    let v = v.trim();
    if v.len() == 16 {
        format!("{v}:00Z")
    } else if v.len() == 10 {
        format!("{v}T00:00:00Z")
    } else {
        v.to_string()
    }
}

/// `POST /assets/{id}/transition`.
pub async fn transition(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let to = form.get("to").unwrap_or("");
    let mut body = Map::new();
    body.insert("to".into(), json!(to));
    if let Some(r) = form.get("reason") {
        body.insert("reason".into(), json!(r));
    }
    if let Some(n) = form.get("notes") {
        body.insert("notes".into(), json!(n));
    }
    if to == "disposed" {
        let mut d = Map::new();
        for k in [
            "method",
            "performed_by",
            "certificate_ref",
            "verified_by",
            "notes",
        ] {
            if let Some(val) = form.get(&format!("disposal.{k}")) {
                d.insert(k.into(), json!(val));
            }
        }
        if let Some(t) = form.get("disposal.performed_at") {
            d.insert("performed_at".into(), json!(utc(t)));
        }
        body.insert("disposal".into(), Value::Object(d));
    } else if matches!(to, "lost" | "stolen") {
        if let Some(r) = form.get("incident_ref") {
            body.insert("incident_ref".into(), json!(r));
        }
        if let Some(t) = form.get("reported_at") {
            body.insert("reported_at".into(), json!(utc(t)));
        }
    }
    let version = form.get("version").and_then(|x| x.parse::<i64>().ok());
    match s
        .app
        .transition_asset(&v.ctx, id, body, version.into())
        .await
    {
        Ok(_) => crate::ui::done(&format!("/assets/{id}"), crate::ui::Done::Moved),
        Err(e @ (AppError::Invalid(_) | AppError::PreconditionFailed { .. })) => {
            let mut errors = Errors::from_app(&e);
            let sent = form.values();
            if to == "disposed" {
                // The domain names the record's fields bare; the form, under `disposal.`.
                for err in &mut errors.0 {
                    if DISPOSAL_FIELDS.contains(&err.field.as_str()) {
                        err.field = format!("disposal.{}", err.field);
                    }
                }
                return match dispose_page(&s, &v, id, errors, &sent).await {
                    Ok(m) => html_response(StatusCode::UNPROCESSABLE_ENTITY, m),
                    Err(e) => error_page(Some(&v), e),
                };
            }
            match asset_page(&s, &v, id, errors, &sent, None).await {
                Ok(m) => html_response(StatusCode::UNPROCESSABLE_ENTITY, m),
                Err(e) => error_page(Some(&v), e),
            }
        }
        Err(e) => error_page(Some(&v), e),
    }
}

pub(super) const DISPOSAL_FIELDS: &[&str] = &[
    "method",
    "performed_by",
    "performed_at",
    "certificate_ref",
    "verified_by",
    "notes",
];

/// `GET /assets/{id}/dispose`: the disposal record form.
pub async fn dispose_form(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    if !v.manages() {
        return v.refuse("dispose of assets");
    }
    match dispose_page(&s, &v, id, Errors::none(), &HashMap::new()).await {
        Ok(m) => ok(m),
        Err(e) => error_page(Some(&v), e),
    }
}

pub(super) async fn dispose_page(
    s: &AppState,
    v: &Viewer,
    id: Uuid,
    errors: Errors,
    sent: &HashMap<String, String>,
) -> Result<Markup, AppError> {
    let a = s.app.get_asset(&v.ctx, id).await?;
    let x = &a.asset;
    let levels = s.app.list_classifications(&v.ctx).await?;
    let level = levels.iter().find(|l| l.key == x.classification);
    let get = |k: &str| sent.get(k).cloned().unwrap_or_default();
    let methods: Vec<(String, String)> = DisposalMethod::NAMES
        .iter()
        .map(|m| (m.to_string(), words(m)))
        .collect();
    let body = html! {
        h1 { "Dispose of " span.mono { (x.asset_number) } " " (x.name) }
        @if !x.status.can_become(Status::Disposed) {
            div.warning { p { "A " (words(x.status.as_str())) " asset cannot be disposed of: retire it first." } }
        }
        @if let Some(l) = level {
            p { "The " strong { (l.name) } " level asks for at least " strong { (words(l.disposal_method.as_str())) } "." }
        }
        (errors.summary())
        form.stack method="post" action={ "/assets/" (x.id) "/transition" } data-confirm="Dispose of this asset? A disposed asset stays in the register as it is." {
            (csrf(v))
            input type="hidden" name="to" value="disposed";
            input type="hidden" name="version" value=(x.version);
            (field("disposal.method", "Method", Some("clear, purge and destroy are NIST SP 800-88's; deleted is for data; returned to vendor for leased kit."), Control::Select(methods, true), &get("disposal.method"), true, &errors))
            (field("disposal.performed_by", "Performed by", None, Control::Input("text"), &get("disposal.performed_by"), true, &errors))
            (field("disposal.performed_at", "Performed at (UTC)", None, Control::Input("datetime-local"), &get("disposal.performed_at"), true, &errors))
            (field("disposal.certificate_ref", "Certificate of destruction", None, Control::Input("text"), &get("disposal.certificate_ref"), false, &errors))
            (field("disposal.verified_by", "Verified by", None, Control::Input("text"), &get("disposal.verified_by"), false, &errors))
            (field("disposal.notes", "Notes", None, Control::TextArea, &get("disposal.notes"), false, &errors))
            (field("reason", "Why", None, Control::Input("text"), &get("reason"), true, &errors))
            div.actions {
                button.danger type="submit" { "Dispose" }
                a href={ "/assets/" (x.id) } { "Cancel" }
            }
        }
    };
    Ok(page(
        Some(v),
        &format!(
            "{}Dispose of {}",
            if errors.any() { "Error: " } else { "" },
            x.asset_number
        ),
        Nav::Assets,
        body,
    ))
}

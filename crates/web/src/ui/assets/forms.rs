//! The forms to register and edit an asset, field by field for its kind.

use super::*;

/// The fields a form for this kind shows, in order: `(name, label, control, required)`.
pub(super) fn form_fields<'a>(
    kind: AssetKind,
    c: &'a Choices,
    creating: bool,
) -> Vec<(String, String, Control<'a>, bool, Option<&'static str>)> {
    let mut out: Vec<(String, String, Control<'a>, bool, Option<&'static str>)> = vec![
        (
            "name".into(),
            "Name".into(),
            Control::Input("text"),
            true,
            None,
        ),
        (
            "description".into(),
            "Description".into(),
            Control::TextArea,
            false,
            None,
        ),
        (
            "owner_id".into(),
            common_label(kind, "owner_id").into(),
            Control::Select(c.party_options(false), true),
            true,
            Some("The person, team or role accountable for the asset."),
        ),
        (
            "importance".into(),
            "Importance".into(),
            Control::Select(word_options(Importance::NAMES), true),
            true,
            None,
        ),
        (
            "classification".into(),
            "Classification".into(),
            Control::Select(c.level_options(), true),
            true,
            None,
        ),
    ];
    if creating {
        out.push((
            "status".into(),
            "Status".into(),
            Control::Select(word_options(&["planned", "in_stock", "in_use"]), true),
            false,
            Some("Where the asset is in its life now (later changes are lifecycle moves)."),
        ));
    }
    out.push((
        "location_id".into(),
        "Location".into(),
        Control::Select(c.location_options(), true),
        false,
        None,
    ));
    out.push((
        "tags".into(),
        "Tags".into(),
        Control::Input("text"),
        false,
        Some("Separate tags with ;"),
    ));
    out.push((
        "last_reviewed_by".into(),
        common_label(kind, "last_reviewed_by").into(),
        Control::Select(c.party_options(true), true),
        false,
        None,
    ));
    out.push((
        "last_reviewed_at".into(),
        common_label(kind, "last_reviewed_at").into(),
        Control::Input("date"),
        false,
        None,
    ));
    out.push((
        "next_review_at".into(),
        "Next review due".into(),
        Control::Input("date"),
        false,
        if creating {
            Some("Left empty, it follows from the classification's review interval.")
        } else {
            None
        },
    ));
    for def in fields::fields_of(kind) {
        out.push(kind_control(def));
    }
    for d in c
        .custom
        .iter()
        .filter(|d| d.asset_kinds.is_empty() || d.asset_kinds.contains(&kind))
    {
        let control = match d.field_type {
            CustomType::Boolean => Control::Select(
                vec![("true".into(), "yes".into()), ("false".into(), "no".into())],
                true,
            ),
            CustomType::Number => Control::Input("number"),
            CustomType::Date => Control::Input("date"),
            CustomType::Choice => Control::Select(
                d.choices.iter().map(|o| (o.clone(), o.clone())).collect(),
                true,
            ),
            CustomType::Text => Control::Input("text"),
        };
        out.push((
            format!("custom.{}", d.key),
            d.label.clone(),
            control,
            d.required,
            None,
        ));
    }
    out
}

pub(super) fn kind_control<'a>(
    def: &FieldDef,
) -> (String, String, Control<'a>, bool, Option<&'static str>) {
    let (control, hint) = match def.ty {
        FieldType::Text => (Control::Input("text"), None),
        FieldType::Url => (Control::Input("url"), None),
        FieldType::Secret => (
            // Never filled in by a password manager with the user's own password.
            Control::Auto("password", "new-password"),
            Some("Stored sealed; left empty, the current value is kept."),
        ),
        FieldType::Bool => (
            Control::Select(
                vec![("true".into(), "yes".into()), ("false".into(), "no".into())],
                true,
            ),
            None,
        ),
        FieldType::Count | FieldType::Amount => (Control::Input("number"), None),
        FieldType::Date => (Control::Input("date"), None),
        FieldType::Choice(c) => (Control::Select(word_options(c), true), None),
        FieldType::TextList | FieldType::IpList | FieldType::MacList => {
            (Control::Input("text"), Some("Separate items with ;"))
        }
        FieldType::Transfers => (
            Control::Input("text"),
            Some("country: safeguard; country: safeguard"),
        ),
    };
    (
        def.name.to_string(),
        def.label.to_string(),
        control,
        false,
        hint,
    )
}

/// The form's current values: what was sent, else the asset's.
pub(super) fn values_of(x: Option<&Asset>) -> HashMap<String, String> {
    let mut m = HashMap::new();
    let Some(x) = x else { return m };
    let j = x.to_json();
    for (k, val) in &j {
        m.insert(k.clone(), form_value(Some(val)));
    }
    m.insert("tags".into(), x.tags.join("; "));
    for (k, val) in &x.custom {
        m.insert(format!("custom.{k}"), form_value(Some(val)));
    }
    if let Some(t) = &x.last_reviewed_at {
        m.insert("last_reviewed_at".into(), t.format("%Y-%m-%d").to_string());
    }
    if let Some(s) = m.get("next_review_at").cloned() {
        m.insert("next_review_at".into(), date_only(&s));
    }
    m
}

#[allow(clippy::too_many_arguments)]
pub(super) fn asset_form(
    v: &Viewer,
    kind: AssetKind,
    c: &Choices,
    action: &str,
    values: &HashMap<String, String>,
    errors: &Errors,
    version: Option<i64>,
    conflict: Option<Markup>,
) -> Markup {
    let get = |k: &str| values.get(k).cloned().unwrap_or_default();
    let creating = version.is_none();
    html! {
        @if let Some(cf) = conflict { (cf) }
        (errors.summary_with(|f| {
            let l = label_of(kind, f);
            if l == words(f) { f.to_string() } else { l }
        }))
        form.stack method="post" action=(action) novalidate id="asset-form" {
            (csrf(v))
            input type="hidden" name="kind" value=(kind.as_str());
            @if let Some(ver) = version { input type="hidden" name="version" value=(ver); }
            @for (name, label, control, required, hint) in form_fields(kind, c, creating) {
                (field(&name, &label, hint, control, &get(&name), required, errors))
            }
            div.actions {
                button type="submit" { @if creating { "Register" } @else { "Save" } }
                a href="/assets" { "Cancel" }
            }
        }
    }
}

/// `GET /assets/new[?kind=…]`: the kind to register, then its form.
pub async fn new_form(State(s): State<AppState>, v: Viewer, Params(q): Params) -> Response {
    if !v.manages() {
        return v.refuse("register assets");
    }
    let kind = q.get("kind").and_then(|k| AssetKind::parse(k));
    let Some(kind) = kind else {
        let body = html! {
            h1 { "Register an asset" }
            p { "What kind of asset is it?" }
            ul {
                @for k in AssetKind::ALL {
                    li { a href={ "/assets/new?kind=" (k.as_str()) } { (words(k.as_str())) } " — " (kind_blurb(*k)) }
                }
            }
        };
        return ok(page(Some(&v), "Register an asset", Nav::Assets, body));
    };
    let c = match Choices::load(&s, &v).await {
        Ok(c) => c,
        Err(e) => return error_page(Some(&v), e),
    };
    let body = html! {
        h1 { "Register a " (words(kind.as_str())) " asset" }
        (asset_form(&v, kind, &c, "/assets/new", &HashMap::new(), &Errors::none(), None, None))
    };
    ok(page(Some(&v), "Register an asset", Nav::Assets, body))
}

pub(super) fn kind_blurb(k: AssetKind) -> &'static str {
    match k {
        AssetKind::Physical => "laptops, phones, servers, network kit, media",
        AssetKind::Virtual => "virtual machines, containers, cloud instances",
        AssetKind::Data => "information: databases, file shares, records (with the ROPA fields)",
        AssetKind::Software => "applications and licences",
        AssetKind::Service => "external and internal services, SaaS",
        AssetKind::Intangible => "brands, patents, domains, know-how",
    }
}

/// The form's fields that are the asset's (not the CSRF token, version or kind).
pub(super) fn asset_pairs(form: &Form, creating: bool) -> Vec<(String, String)> {
    form.0
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "_csrf" | "version"))
        .filter(|(k, _)| creating || k != "kind")
        // An empty secret keeps the stored one.
        .filter(|(k, val)| {
            !(val.trim().is_empty() && fields::field(k).is_some_and(|d| d.ty == FieldType::Secret))
        })
        .map(|(k, val)| {
            let val = match (k.as_str(), val.as_str()) {
                ("last_reviewed_at", d) if d.len() == 10 => format!("{d}T00:00:00Z"),
                _ => val.clone(),
            };
            (k.clone(), val)
        })
        .collect()
}

pub(super) fn read_errors(errors: Vec<(String, String)>) -> Errors {
    Errors(
        errors
            .into_iter()
            .map(|(f, m)| FieldError::new(&f, m))
            .collect(),
    )
}

/// `POST /assets/new`.
pub async fn create(State(s): State<AppState>, v: Viewer, form: Form) -> Response {
    let kind = form.get("kind").and_then(AssetKind::parse);
    let Some(kind) = kind else {
        return error_page(
            Some(&v),
            AppError::invalid("kind", "choose the kind of asset"),
        );
    };
    let c = match Choices::load(&s, &v).await {
        Ok(c) => c,
        Err(e) => return error_page(Some(&v), e),
    };
    let sent = form.values();
    let refused = |errors: Errors| {
        let body = html! {
            h1 { "Register a " (words(kind.as_str())) " asset" }
            (asset_form(&v, kind, &c, "/assets/new", &sent, &errors, None, None))
        };
        html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(Some(&v), "Register an asset", Nav::Assets, body),
        )
    };
    let input = match custodian_io::read::form_fields(&asset_pairs(&form, true), &c.custom, false) {
        Ok(m) => m,
        Err(errs) => return refused(read_errors(errs)),
    };
    match s.app.create_asset(&v.ctx, input).await {
        Ok(a) => crate::ui::done(&format!("/assets/{}", a.asset.id), crate::ui::Done::Created),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            refused(Errors::from_app(&e))
        }
        Err(e) => error_page(Some(&v), e),
    }
}

/// `GET /assets/{id}/edit`.
pub async fn edit_form(State(s): State<AppState>, v: Viewer, PageId(id): PageId) -> Response {
    let (a, c) = match (
        s.app.get_asset(&v.ctx, id).await,
        Choices::load(&s, &v).await,
    ) {
        (Ok(a), Ok(c)) => (a, c),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&v), e),
    };
    let c = c.with_named(&s, &v, &a.asset).await;
    let x = &a.asset;
    let body = html! {
        h1 { "Edit " span.mono { (x.asset_number) } " " (x.name) }
        (asset_form(&v, x.kind, &c, &format!("/assets/{}/edit", x.id), &values_of(Some(x)), &Errors::none(), Some(x.version), None))
    };
    ok(page(
        Some(&v),
        &format!("Edit {}", x.asset_number),
        Nav::Assets,
        body,
    ))
}

/// `POST /assets/{id}/edit`: saves the record, unless someone else changed it since the
/// form was opened; then both versions are shown and nothing is overwritten.
pub async fn update(
    State(s): State<AppState>,
    v: Viewer,
    PageId(id): PageId,
    form: Form,
) -> Response {
    let (cur, c) = match (
        s.app.get_asset(&v.ctx, id).await,
        Choices::load(&s, &v).await,
    ) {
        (Ok(a), Ok(c)) => (a.asset, c),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&v), e),
    };
    let c = c.with_named(&s, &v, &cur).await;
    let version = form.get("version").and_then(|x| x.parse::<i64>().ok());
    let sent = form.values();
    let render = |errors: Errors, conflict: Option<Markup>, version: i64, status: StatusCode| {
        let body = html! {
            h1 { "Edit " span.mono { (cur.asset_number) } " " (cur.name) }
            (asset_form(&v, cur.kind, &c, &format!("/assets/{}/edit", cur.id), &sent, &errors, Some(version), conflict))
        };
        html_response(
            status,
            page(
                Some(&v),
                &format!("Error: edit {}", cur.asset_number),
                Nav::Assets,
                body,
            ),
        )
    };
    // The form shows the review's date only: the same date keeps the stored time.
    let mut pairs = asset_pairs(&form, false);
    if let Some(t) = &cur.last_reviewed_at {
        let stored = format!("{}T00:00:00Z", t.format("%Y-%m-%d"));
        pairs.retain(|(k, val)| !(k == "last_reviewed_at" && *val == stored));
    }
    let patch = match custodian_io::read::form_fields(&pairs, &c.custom, true) {
        Ok(m) => m,
        Err(errs) => {
            return render(
                read_errors(errs),
                None,
                version.unwrap_or(cur.version),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    match s
        .app
        .update_asset(&v.ctx, id, patch.clone(), version.into())
        .await
    {
        Ok(_) => crate::ui::done(&format!("/assets/{id}"), crate::ui::Done::Saved),
        Err(AppError::PreconditionFailed { .. }) => {
            // Someone else saved first: show what they changed against what was sent,
            // keep what this person typed, and let them save again over the new version.
            let theirs = values_of(Some(&cur));
            let differing: Vec<(String, String, String)> = patch
                .keys()
                .filter(|k| *k != "custom" && *k != "external_ids")
                .filter_map(|k| {
                    let mine = sent.get(k).cloned().unwrap_or_default();
                    let now = theirs.get(k).cloned().unwrap_or_default();
                    (mine.trim() != now.trim()).then(|| (label_of(cur.kind, k), now, mine))
                })
                .collect();
            let conflict = html! {
                div.conflict role="alert" id="conflict" {
                    h2 { "Someone else changed this asset while you were editing" }
                    p { "It is now at version " (cur.version) " (last changed " (when(&cur.updated_at)) "). Nothing you sent was saved. Where the two differ:" }
                    table {
                        thead { tr { th scope="col" { "Field" } th scope="col" { "Now stored" } th scope="col" { "Yours" } } }
                        tbody { @for (f, now, mine) in &differing { tr { td { (f) } td { (now) } td { (mine) } } } }
                    }
                    p { "Save again to replace the stored values with yours, or " a href={ "/assets/" (cur.id) } { "look at the asset" } " first." }
                }
            };
            render(
                Errors::none(),
                Some(conflict),
                cur.version,
                StatusCode::CONFLICT,
            )
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => render(
            Errors::from_app(&e),
            None,
            version.unwrap_or(cur.version),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => error_page(Some(&v), e),
    }
}

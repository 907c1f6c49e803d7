//! The asset list: filters, search, columns, orders and keyset paging.

use super::*;

/// The columns the list can show, with their headings.
pub(super) const COLUMNS: &[(&str, &str)] = &[
    ("asset_number", "Number"),
    ("name", "Name"),
    ("kind", "Kind"),
    ("owner", "Owner"),
    ("importance", "Importance"),
    ("classification", "Classification"),
    ("status", "Status"),
    ("location", "Location"),
    ("next_review_at", "Next review"),
    ("completeness", "Record"),
    ("updated_at", "Last changed"),
];

/// The columns shown when none are chosen.
pub(super) const DEFAULT_COLUMNS: &[&str] = &[
    "asset_number",
    "name",
    "kind",
    "owner",
    "classification",
    "status",
    "next_review_at",
    "completeness",
];

/// The orders the list offers.
pub(super) const SORTS: &[(&str, &str)] = &[
    ("", "Oldest first"),
    ("newest", "Newest first"),
    ("asset_number", "Asset number"),
    ("name", "Name, A to Z"),
    ("next_review_at", "Next review, soonest first"),
];

/// The query string's pairs; repeated names kept.
pub(in crate::ui) fn pairs(uri: &Uri) -> Result<Vec<(String, String)>, crate::problem::Problem> {
    crate::extract::form_urlencoded(uri.query().unwrap_or(""))
}

/// The list's filters from its query string (blank ones dropped).
pub(in crate::ui) fn filter_params(pairs: &[(String, String)], extra: &[&str]) -> Params {
    let mut m = HashMap::new();
    for (k, v) in pairs {
        if (FILTER_KEYS.contains(&k.as_str()) || extra.contains(&k.as_str()))
            && !v.trim().is_empty()
        {
            m.insert(k.clone(), v.trim().to_string());
        }
    }
    Params(m)
}

/// A filter that is off ("Any") or on (`true`, shown as `on`).
fn flag_filter(name: &str, label: &str, on: &str, current: &str) -> Markup {
    html! {
        div {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" { "Any" }
                option value="true" selected[current == "true"] { (on) }
            }
        }
    }
}

/// `GET /assets`: the register, filtered, searched and paged.
pub async fn list(State(s): State<AppState>, v: Viewer, uri: Uri) -> Response {
    let pairs = match pairs(&uri) {
        Ok(p) => p,
        Err(p) => return error_page(Some(&v), AppError::invalid("", p.detail)),
    };
    let mut cols: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "col")
        .map(|(_, c)| c.clone())
        .filter(|c| COLUMNS.iter().any(|(k, _)| k == c))
        .collect();
    if cols.is_empty() {
        cols = DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect();
    }
    let params = filter_params(&pairs, &["cursor", "limit"]);
    let q = match crate::api::assets::query(&params) {
        Ok(q) => q,
        Err(p) => {
            return error_page(
                Some(&v),
                AppError::Invalid(custodian_domain::Problems(if p.errors.is_empty() {
                    vec![FieldError::new("", p.detail)]
                } else {
                    p.errors
                })),
            )
        }
    };
    let result = s.app.list_assets(&v.ctx, &q).await;
    let choices = Choices::load(&s, &v).await;
    let (page_, choices) = match (result, choices) {
        (Ok(p), Ok(c)) => (p, c),
        (Err(e), _) | (_, Err(e)) => return error_page(Some(&v), e),
    };
    let owner_ids: Vec<Uuid> = page_.items.iter().map(|a| a.asset.owner_id).collect();
    let owners = s
        .app
        .party_names(&v.ctx, &owner_ids)
        .await
        .unwrap_or_default();
    let get = |k: &str| params.0.get(k).cloned().unwrap_or_default();
    let filter_pairs: Vec<(&str, String)> = FILTER_KEYS.iter().map(|k| (*k, get(k))).collect();
    let mut keep: Vec<(&str, &str)> = filter_pairs
        .iter()
        .map(|(k, val)| (*k, val.as_str()))
        .collect();
    let col_pairs: Vec<(&str, &str)> = cols.iter().map(|c| ("col", c.as_str())).collect();
    keep.extend(col_pairs.iter().copied());
    let limit = get("limit");
    keep.push(("limit", limit.as_str()));
    let export_href = format!(
        "/assets/export.csv{}",
        query_string(
            &filter_pairs
                .iter()
                .map(|(k, val)| (*k, val.as_str()))
                .collect::<Vec<_>>()
        )
    );
    let next_href = crate::api::assets::next_cursor(q.sort, &page_).map(|enc| {
        let mut p = keep.clone();
        p.push(("cursor", enc.as_str()));
        format!("/assets{}", query_string(&p))
    });
    let first_href = format!("/assets{}", query_string(&keep));
    let shown = |c: &str| cols.iter().any(|x| x == c);
    let body = html! {
        h1 { "Assets" }
        @if v.manages() {
            p.actions { a.button href="/assets/new" { "Register an asset" } }
        }
        form.filters method="get" action="/assets" role="search" aria-label="Filter the assets" {
            div {
                label for="q" { "Search" }
                input type="search" id="q" name="q" value=(get("q")) placeholder="Name, number, serial, hostname…";
            }
            (filter_select("kind", "Kind", &word_options(AssetKind::NAMES), &get("kind")))
            (filter_select("status", "Status", &word_options(Status::NAMES), &get("status")))
            (filter_select("owner_id", "Owner", &choices.party_options(false), &get("owner_id")))
            (filter_select("classification", "Classification", &choices.level_options(), &get("classification")))
            (filter_select("importance", "Importance", &word_options(Importance::NAMES), &get("importance")))
            (filter_select("location_id", "Location", &choices.location_options(), &get("location_id")))
            div {
                label for="tag" { "Tag" }
                input type="text" id="tag" name="tag" value=(get("tag"));
            }
            (flag_filter("review_overdue", "Review", "Overdue", &get("review_overdue")))
            (flag_filter("orphaned", "Owner", "Orphaned", &get("orphaned")))
            (flag_filter("incomplete", "Record", "Incomplete", &get("incomplete")))
            div {
                label for="finding" { "Failing check" }
                select id="finding" name="finding" {
                    option value="" { "Any or none" }
                    option value="any" selected[get("finding") == "any"] { "Any check" }
                    @for (_, c) in custodian_domain::compliance::checks_about(custodian_domain::compliance::SubjectType::Asset) {
                        option value=(c.id) selected[get("finding") == c.id] { (c.title) }
                    }
                }
            }
            div {
                label for="sort" { "Order" }
                select id="sort" name="sort" {
                    @for (value, label) in SORTS {
                        option value=(value) selected[get("sort") == *value || (get("sort").is_empty() && value.is_empty())] { (label) }
                    }
                }
            }
            fieldset {
                legend { "Columns" }
                @for (key, label) in COLUMNS {
                    label { input type="checkbox" name="col" value=(key) checked[shown(key)]; (label) }
                }
            }
            div.actions {
                button type="submit" { "Apply" }
                a.button.secondary href="/assets" { "Clear" }
                a href=(export_href) { "Export these as CSV" }
                a href=(export_href.replacen("/assets/export.csv", "/labels", 1)) { "Print labels for these" }
            }
        }
        @if page_.items.is_empty() {
            p { "No asset matches." }
        } @else {
            div.table-wrap {
                table.responsive id="asset-list" {
                    caption.visually-hidden { "Assets" }
                    thead { tr {
                        @for (key, label) in COLUMNS {
                            @if shown(key) { th scope="col" { (label) } }
                        }
                    } }
                    tbody {
                        @for a in &page_.items {
                            tr {
                                @for (key, label) in COLUMNS {
                                    @if shown(key) {
                                        td data-label=(label) { (cell(key, a, &owners, &choices)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if q.cursor.is_some() { a href=(first_href) { "First page" } }
            @if let Some(n) = &next_href { a href=(n) rel="next" { "Next page" } }
        }
    };
    ok(page(Some(&v), "Assets", Nav::Assets, body))
}

pub(super) fn filter_select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    value: &str,
) -> Markup {
    html! {
        div {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" { "Any" }
                @for (v, l) in options { option value=(v) selected[v == value] { (l) } }
            }
        }
    }
}

pub(super) fn cell(
    key: &str,
    a: &AssetView,
    owners: &HashMap<Uuid, String>,
    c: &Choices,
) -> Markup {
    let x = &a.asset;
    html! {
        @match key {
            "asset_number" => a href={ "/assets/" (x.id) } { (x.asset_number) },
            "name" => a href={ "/assets/" (x.id) } { (x.name) },
            "kind" => (words(x.kind.as_str())),
            "owner" => (owners.get(&x.owner_id).cloned().unwrap_or_else(|| x.owner_id.to_string())),
            "importance" => (x.importance),
            "classification" => (badge("level", &c.level_name(&x.classification))),
            "status" => (badge("status", x.status.as_str())),
            "location" => @if let Some(l) = x.location_id { (c.location_name(l)) },
            "next_review_at" => @if let Some(d) = x.next_review_at { (d) },
            "completeness" => @if a.completeness.complete { (badge("complete", "complete")) } @else { (badge("missing", &format!("{} missing", a.completeness.missing.len()))) },
            "updated_at" => (when(&x.updated_at)),
            _ => {}
        }
    }
}

//! Printable asset labels: a sheet of QR codes, each opening the asset's page, with the
//! asset number printed beside it for typing when a code will not scan.

use axum::extract::State;
use axum::http::{header, HeaderMap, Uri};
use axum::response::Response;
use maud::{html, Markup, PreEscaped};
use uuid::Uuid;

use custodian_app::assets::AssetView;
use custodian_app::AppError;
use custodian_domain::FieldError;

use super::assets::{filter_params, pairs, FILTER_KEYS};
use super::{error_page, ok, page, query_string, Nav, Viewer};
use crate::AppState;

/// The most labels on one sheet (filters page on to the next sheet).
pub const SHEET: u32 = 500;
/// The most assets named one by one with `ids`.
pub const MAX_IDS: usize = 100;

/// The address the codes lead to: the configured public address, unless it is a loopback
/// address (the default, left unset) and the browser named the server it reached.
pub fn base_url(public_url: &str, host: Option<&str>) -> String {
    let public = public_url.trim_end_matches('/');
    let loopback = ["//127.0.0.1", "//localhost", "//[::1]"]
        .iter()
        .any(|l| public.contains(l));
    let host = host.filter(|h| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    });
    match host {
        Some(h) if loopback => {
            let scheme = public.split("://").next().unwrap_or("http");
            format!("{scheme}://{h}")
        }
        _ => public.to_string(),
    }
}

/// A QR code of `text` as an inline SVG element (no XML declaration).
pub fn qr_svg(text: &str) -> Option<String> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(128, 128)
        .build();
    let start = svg.find("<svg")?;
    Some(svg[start..].to_string())
}

fn label(base: &str, a: &AssetView) -> Markup {
    let x = &a.asset;
    let url = format!("{base}/assets/{}", x.id);
    html! {
        div.label data-asset=(x.id) {
            div.qr role="img" aria-label={ "QR code for " (x.asset_number) } {
                @if let Some(svg) = qr_svg(&url) { (PreEscaped(svg)) }
            }
            div.label-text {
                strong.label-number { (x.asset_number) }
                span.label-name { (x.name) }
                span.label-hint { "Scan, or type the number, to check it" }
                span.label-url.visually-hidden { (url) }
            }
        }
    }
}

/// `GET /labels`: a sheet of labels for the assets the list's filters select, or for
/// `ids` (one or more, comma-separated or repeated).
pub async fn sheet(State(s): State<AppState>, v: Viewer, uri: Uri, headers: HeaderMap) -> Response {
    let bad = |m: String| {
        error_page(
            Some(&v),
            AppError::Invalid(custodian_domain::Problems(vec![FieldError::new("", m)])),
        )
    };
    let pairs = match pairs(&uri) {
        Ok(p) => p,
        Err(p) => return bad(p.detail),
    };
    let mut ids = Vec::new();
    for raw in pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match Uuid::parse_str(raw) {
            Ok(id) if !ids.contains(&id) => ids.push(id),
            Ok(_) => {}
            Err(_) => return bad(format!("ids: {raw:?} is not an asset id")),
        }
    }
    if ids.len() > MAX_IDS {
        return bad(format!(
            "ids: at most {MAX_IDS} assets are named one by one; choose the rest with the list's filters"
        ));
    }
    let mut assets = Vec::new();
    let mut next = None;
    if ids.is_empty() {
        let params = filter_params(&pairs, &["cursor"]);
        let mut q = match crate::api::assets::query(&params) {
            Ok(q) => q,
            Err(p) => return bad(p.detail),
        };
        q.limit = SHEET;
        match s.app.list_assets(&v.ctx, &q).await {
            Ok(p) => {
                next = crate::api::assets::next_cursor(q.sort, &p);
                assets = p.items;
            }
            Err(e) => return error_page(Some(&v), e),
        }
        if let Some(c) = next.take() {
            let mut keep: Vec<(&str, &str)> = FILTER_KEYS
                .iter()
                .filter_map(|k| params.0.get(*k).map(|val| (*k, val.as_str())))
                .collect();
            keep.push(("cursor", c.as_str()));
            next = Some(format!("/labels{}", query_string(&keep)));
        }
    } else {
        for id in ids {
            match s.app.get_asset(&v.ctx, id).await {
                Ok(a) => assets.push(a),
                Err(e) => return error_page(Some(&v), e),
            }
        }
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let base = base_url(&s.app.settings().public_url, host);
    let body = html! {
        div.no-print {
            h1 { "Labels" }
            p {
                (assets.len()) " label" @if assets.len() != 1 { "s" } " on this sheet, at most "
                (SHEET) " a sheet. Each code opens the asset's page at " code { (base) } "; "
                "the number beside it is what to type when a code does not scan."
            }
            p.actions {
                button type="button" data-print hidden { "Print" }
                span.hint { "Print on A4 label sheets of 3 × 7 (63.5 × 38.1 mm), at actual size." }
                @if let Some(n) = &next { " " a href=(n) { "Next sheet" } }
            }
        }
        @if assets.is_empty() {
            p.muted { "No assets match." }
        } @else {
            div.labels id="labels" {
                @for a in &assets { (label(&base, a)) }
            }
        }
    };
    ok(page(Some(&v), "Labels", Nav::Assets, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_lead_to_the_public_address() {
        assert_eq!(
            base_url("https://assets.example.com/", Some("10.0.0.5:8080")),
            "https://assets.example.com"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080", Some("custodian.lan:8080")),
            "http://custodian.lan:8080"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080", Some("127.0.0.1:9000")),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080", None),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080", Some("evil\"host")),
            "http://127.0.0.1:8080"
        );
        let svg = qr_svg("https://assets.example.com/assets/x").expect("a code");
        assert!(svg.starts_with("<svg") && svg.contains("</svg>"));
    }
}

//! The CSV export of the list's current filter and order, streamed.

use super::*;

/// `GET /assets/export.csv`: the assets of the current filter as Custodian's CSV, streamed
/// page by page.
pub async fn export_csv(State(s): State<AppState>, v: Viewer, uri: Uri) -> Response {
    let pairs = match pairs(&uri) {
        Ok(p) => p,
        Err(p) => return p.into_response(),
    };
    let params = filter_params(&pairs, &[]);
    let mut q = match crate::api::assets::query(&params) {
        Ok(q) => q,
        Err(p) => return p.into_response(),
    };
    q.limit = 500;
    let layout = match custodian_io::export::CsvLayout::new(&s.app, &v.ctx, q.kind).await {
        Ok(l) => l,
        Err(e) => return error_page(Some(&v), e),
    };
    // The first page is read before answering, so a refusal is an error page, not a
    // broken download.
    let first = match s.app.list_assets(&v.ctx, &q).await {
        Ok(p) => p,
        Err(e) => return error_page(Some(&v), e),
    };
    let header_row = layout.header();
    let state = (
        s.app.clone(),
        v.ctx.clone(),
        q,
        Some(first),
        layout,
        Some(header_row),
    );
    let stream = futures_util::stream::unfold(
        state,
        |(app, ctx, mut q, first, layout, header_row)| async move {
            if let Some(h) = header_row {
                return Some((
                    Ok::<_, std::io::Error>(h),
                    (app, ctx, q, first, layout, None),
                ));
            }
            let page = match first {
                Some(p) => p,
                None => {
                    q.cursor.as_ref()?;
                    match app.list_assets(&ctx, &q).await {
                        Ok(p) => p,
                        Err(e) => {
                            return Some((
                                Err(std::io::Error::other(e.to_string())),
                                (
                                    app,
                                    ctx,
                                    AssetQuery { cursor: None, ..q },
                                    None,
                                    layout,
                                    None,
                                ),
                            ))
                        }
                    }
                }
            };
            let mut maps: Vec<Map<String, Value>> = page
                .items
                .iter()
                .filter_map(|a| match a.to_json() {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .collect();
            // Names beside the ids; a page whose names cannot be read keeps its ids.
            let _ = custodian_io::export::name_page(&app, &ctx, &layout.locations, &mut maps).await;
            let bytes = layout.rows(maps.iter());
            q.after_key = page.items.last().and_then(|v| q.sort.key_of(&v.asset));
            q.cursor = page.next_cursor;
            if q.cursor.is_none() && bytes.is_empty() {
                return None;
            }
            Some((Ok(bytes), (app, ctx, q, None, layout, None)))
        },
    );
    crate::ui::csv_download(Body::from_stream(stream), "assets.csv")
}

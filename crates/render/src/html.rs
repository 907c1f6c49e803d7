//! A document as one standalone HTML page: its styles inline, nothing fetched.

use crate::markdown::markdown_html;
use crate::{Block, Doc, Span};

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,'DejaVu Sans',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}\
header,footer{color:#555;font-size:.85rem}header{border-bottom:1px solid #ccc;margin-bottom:1.5rem}footer{border-top:1px solid #ccc;margin-top:2rem;padding-top:.5rem}\
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f2f2f2}\
pre{background:#f6f6f6;padding:.5rem;overflow-x:auto}@media print{body{margin:0;max-width:none}}";

fn spans_html(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| {
            if s.strong {
                format!("<strong>{}</strong>", esc(&s.text))
            } else {
                esc(&s.text)
            }
        })
        .collect()
}

/// Writes a document as a standalone HTML page.
pub fn html(doc: &Doc) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    out.push_str(&esc(&doc.title));
    out.push_str("</title><style>");
    out.push_str(STYLE);
    out.push_str("</style></head><body>\n<header><h1>");
    out.push_str(&esc(&doc.title));
    out.push_str("</h1><p>");
    out.push_str(&esc(&doc.header));
    out.push_str("</p></header>\n<main>\n");
    for b in &doc.blocks {
        match b {
            Block::Heading { level, text } => {
                let l = (*level).clamp(1, 4) + 1;
                out.push_str(&format!("<h{l}>{}</h{l}>\n", esc(text)));
            }
            Block::Paragraph {
                spans,
                indent,
                marker,
            } => {
                let margin = f32::from(*indent) * 1.5;
                let m = marker
                    .as_ref()
                    .map(|m| format!("{} ", esc(m)))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "<p style=\"margin-left:{margin}rem\">{m}{}</p>\n",
                    spans_html(spans)
                ));
            }
            Block::Table { head, rows } => {
                out.push_str("<table><thead><tr>");
                for h in head {
                    out.push_str(&format!("<th scope=\"col\">{}</th>", esc(h)));
                }
                out.push_str("</tr></thead><tbody>\n");
                for r in rows {
                    out.push_str("<tr>");
                    for c in r {
                        out.push_str(&format!("<td>{}</td>", esc(c)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody></table>\n");
            }
            Block::Code(c) => out.push_str(&format!("<pre>{}</pre>\n", esc(c))),
            Block::Rule => out.push_str("<hr>\n"),
            Block::Markdown(src) => out.push_str(&markdown_html(src)),
        }
    }
    out.push_str("</main>\n<footer>");
    out.push_str(&esc(&doc.footer));
    out.push_str("</footer>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_it_is_given() {
        let doc = Doc {
            title: "<T>".into(),
            header: "a & b".into(),
            footer: "\"f\"".into(),
            landscape: false,
            blocks: vec![Block::Table {
                head: vec!["<h>".into()],
                rows: vec![vec!["<script>".into()]],
            }],
        };
        let out = html(&doc);
        assert!(out.contains("&lt;T&gt;") && out.contains("a &amp; b"));
        assert!(!out.contains("<script>") && !out.contains("<h>"));
    }
}

//! Markdown, the form policies are written in: rendered as safe HTML, or read into blocks.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::{Block, Span};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Whether a comment is the source's own (where a generated clause came from): unseen.
fn is_comment(h: &str) -> bool {
    h.trim_start().starts_with("<!--")
}

/// Renders Markdown as HTML. Raw HTML in the source is shown as text, and links and
/// images go only to web, mail or in-page addresses: a policy is read by everyone, so its
/// text must not be able to run anything in their browsers.
pub fn markdown_html(src: &str) -> String {
    let safe = |u: &CowStr| {
        let l = u.to_ascii_lowercase();
        l.starts_with("https://")
            || l.starts_with("http://")
            || l.starts_with("mailto:")
            || l.starts_with('#')
    };
    let events = Parser::new_ext(src, options()).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) if is_comment(&h) => Event::Text("".into()),
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: "#".into(),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe(&dest_url) => Event::Start(Tag::Image {
            link_type,
            dest_url: "#".into(),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// Where the reader is in a table.
#[derive(Default)]
struct TableState {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: String,
    in_head: bool,
}

/// Reads Markdown into blocks for the PDF: headings, paragraphs, list items (with their
/// markers), tables, code and rules. Emphasis other than bold, links' addresses and images
/// are read as their text.
pub fn markdown_blocks(src: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut strong = 0u32;
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut quote = 0u8;
    let mut marker: Option<String> = None;
    let mut heading: Option<u8> = None;
    let mut code: Option<String> = None;
    let mut table: Option<TableState> = None;

    let flush = |blocks: &mut Vec<Block>,
                 spans: &mut Vec<Span>,
                 marker: &mut Option<String>,
                 depth: usize| {
        let text_len: usize = spans.iter().map(|s| s.text.trim().len()).sum();
        if text_len == 0 && marker.is_none() {
            spans.clear();
            return;
        }
        blocks.push(Block::Paragraph {
            spans: std::mem::take(spans),
            indent: u8::try_from(depth).unwrap_or(u8::MAX),
            marker: marker.take(),
        });
    };

    for event in Parser::new_ext(src, options()) {
        let depth = lists.len() + usize::from(quote);
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                flush(&mut blocks, &mut spans, &mut marker, depth);
                heading = Some(match level {
                    HeadingLevel::H1 => 1,
                    HeadingLevel::H2 => 2,
                    HeadingLevel::H3 => 3,
                    _ => 4,
                });
            }
            Event::End(TagEnd::Heading(_)) => {
                let text: String = spans.drain(..).map(|s| s.text).collect();
                blocks.push(Block::Heading {
                    level: heading.take().unwrap_or(4),
                    text: text.trim().to_string(),
                });
            }
            Event::Start(Tag::List(start)) => {
                flush(&mut blocks, &mut spans, &mut marker, depth);
                lists.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                flush(&mut blocks, &mut spans, &mut marker, depth);
                lists.pop();
            }
            Event::Start(Tag::Item) => {
                flush(&mut blocks, &mut spans, &mut marker, depth);
                marker = Some(match lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}.");
                        *n += 1;
                        m
                    }
                    _ => "•".to_string(),
                });
            }
            Event::End(TagEnd::Item) | Event::End(TagEnd::Paragraph) => {
                flush(&mut blocks, &mut spans, &mut marker, depth);
            }
            Event::Start(Tag::BlockQuote(_)) => {
                flush(&mut blocks, &mut spans, &mut marker, depth);
                quote = quote.saturating_add(1);
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                flush(&mut blocks, &mut spans, &mut marker, depth);
                quote = quote.saturating_sub(1);
            }
            Event::Start(Tag::CodeBlock(_)) => {
                flush(&mut blocks, &mut spans, &mut marker, depth);
                code = Some(String::new());
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(c) = code.take() {
                    blocks.push(Block::Code(c.trim_end().to_string()));
                }
            }
            Event::Start(Tag::Table(_)) => {
                flush(&mut blocks, &mut spans, &mut marker, depth);
                table = Some(TableState::default());
            }
            Event::End(TagEnd::Table) => {
                if let Some(t) = table.take() {
                    blocks.push(Block::Table {
                        head: t.head,
                        rows: t.rows,
                    });
                }
            }
            Event::Start(Tag::TableHead) => {
                if let Some(t) = table.as_mut() {
                    t.in_head = true;
                }
            }
            Event::End(TagEnd::TableHead) => {
                if let Some(t) = table.as_mut() {
                    t.in_head = false;
                    t.head = std::mem::take(&mut t.row);
                }
            }
            Event::End(TagEnd::TableRow) => {
                if let Some(t) = table.as_mut() {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(t) = table.as_mut() {
                    let cell = std::mem::take(&mut t.cell);
                    t.row.push(cell.trim().to_string());
                }
            }
            Event::Start(Tag::Strong) => strong += 1,
            Event::End(TagEnd::Strong) => strong = strong.saturating_sub(1),
            Event::Rule => {
                flush(&mut blocks, &mut spans, &mut marker, depth);
                blocks.push(Block::Rule);
            }
            Event::Html(h) | Event::InlineHtml(h) if is_comment(&h) => {}
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                if let Some(c) = code.as_mut() {
                    c.push_str(&t);
                } else if let Some(tb) = table.as_mut() {
                    tb.cell.push_str(&t);
                } else {
                    spans.push(Span {
                        text: t.into_string(),
                        strong: strong > 0,
                    });
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(tb) = table.as_mut() {
                    tb.cell.push(' ');
                } else {
                    spans.push(Span::plain(" "));
                }
            }
            _ => {}
        }
    }
    let depth = lists.len() + usize::from(quote);
    flush(&mut blocks, &mut spans, &mut marker, depth);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_headings_lists_and_tables() {
        let src = "# Purpose\n\nThis **policy** applies.\n\n- one\n- two\n  1. sub\n\n| A | B |\n|---|---|\n| x | y |\n\n<!-- from: setting -->\n";
        let b = markdown_blocks(src);
        assert_eq!(b[0], Block::heading(1, "Purpose"));
        assert_eq!(
            b[1],
            Block::Paragraph {
                spans: vec![
                    Span::plain("This "),
                    Span::strong("policy"),
                    Span::plain(" applies.")
                ],
                indent: 0,
                marker: None
            }
        );
        let markers: Vec<_> = b
            .iter()
            .filter_map(|b| match b {
                Block::Paragraph {
                    marker: Some(m),
                    indent,
                    ..
                } => Some((m.clone(), *indent)),
                _ => None,
            })
            .collect();
        assert_eq!(
            markers,
            [("•".into(), 1), ("•".into(), 1), ("1.".into(), 2)]
        );
        assert_eq!(
            b.last(),
            Some(&Block::Table {
                head: vec!["A".into(), "B".into()],
                rows: vec![vec!["x".into(), "y".into()]]
            })
        );
    }

    #[test]
    fn html_shows_raw_html_as_text_and_drops_comments() {
        let out = markdown_html("<script>x</script>\n\n[a](javascript:alert(1)) <!-- from: s -->");
        assert!(!out.contains("<script>"), "{out}");
        assert!(!out.contains("javascript:"), "{out}");
        assert!(!out.contains("from: s"), "{out}");
    }
}

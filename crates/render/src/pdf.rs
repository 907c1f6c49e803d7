//! A document laid out on A4 pages and written as a PDF, its two fonts embedded as
//! subsets. Pages carry the document's title and header line at the top, and its footer
//! with the page number at the bottom.

use std::io::Write;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::font::Font;
use crate::markdown::markdown_blocks;
use crate::{Block, Doc, Span};

/// A4's short and long sides, in points.
const SHORT: f32 = 595.0;
const LONG: f32 = 842.0;
const LEFT: f32 = 56.0;
const BOTTOM: f32 = 62.0;
const BODY: f32 = 10.0;
const CELL: f32 = 8.0;
const PAD: f32 = 3.0;

/// What is drawn on a page.
enum Op {
    Text {
        x: f32,
        y: f32,
        bold: bool,
        size: f32,
        gray: f32,
        text: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
    },
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

/// A run of one style on a line.
type Run = (bool, String);

struct Layout {
    fonts: [Font; 2],
    pages: Vec<Vec<Op>>,
    y: f32,
    width: f32,
    height: f32,
}

impl Layout {
    /// Where the text's lines end.
    fn right(&self) -> f32 {
        self.width - LEFT
    }

    /// Where a page's text starts, under its header.
    fn top(&self) -> f32 {
        self.height - 84.0
    }

    fn font(&self, bold: bool) -> &Font {
        &self.fonts[usize::from(bold)]
    }

    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.top();
    }

    /// Makes room for `h` points, on a new page if this one has not.
    fn room(&mut self, h: f32) {
        if self.y - h < BOTTOM && self.y < self.top() {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, y: f32, bold: bool, size: f32, text: &str) {
        self.page().push(Op::Text {
            x,
            y,
            bold,
            size,
            gray: 0.0,
            text: text.to_string(),
        });
    }

    /// Breaks runs into lines no wider than `width`; a word longer than a line is broken
    /// between characters.
    fn wrap(&self, spans: &[Span], width: f32, size: f32) -> Vec<Vec<Run>> {
        let mut lines: Vec<Vec<Run>> = vec![Vec::new()];
        let mut used = 0.0f32;
        for span in spans {
            for word in span.text.split_inclusive(char::is_whitespace) {
                let word = word.replace(['\n', '\t'], " ");
                let w = self.font(span.strong).width(&word, size);
                let bare = self.font(span.strong).width(word.trim_end(), size);
                if used + bare > width && used > 0.0 {
                    lines.push(Vec::new());
                    used = 0.0;
                    if word.trim().is_empty() {
                        continue;
                    }
                }
                if bare > width {
                    for c in word.chars() {
                        let cw = self
                            .font(span.strong)
                            .width(c.encode_utf8(&mut [0; 4]), size);
                        if used + cw > width && used > 0.0 {
                            lines.push(Vec::new());
                            used = 0.0;
                        }
                        push_run(lines.last_mut(), span.strong, &c.to_string());
                        used += cw;
                    }
                    continue;
                }
                push_run(lines.last_mut(), span.strong, &word);
                used += w;
            }
        }
        lines
    }

    /// Draws wrapped lines from `x`, one `leading` apart, breaking pages between lines.
    fn lines(&mut self, lines: &[Vec<Run>], x: f32, size: f32, leading: f32) {
        for line in lines {
            self.room(leading);
            self.y -= leading;
            let mut at = x;
            for (bold, text) in line {
                let y = self.y;
                self.text(at, y, *bold, size, text);
                at += self.font(*bold).width(text, size);
            }
        }
    }

    fn heading(&mut self, level: u8, text: &str) {
        let size = match level {
            1 => 16.0,
            2 => 13.0,
            3 => 11.5,
            _ => 10.5,
        };
        let lines = self.wrap(&[Span::strong(text)], self.right() - LEFT, size);
        // Keep a heading with the first lines after it.
        self.room(size * 1.4 * lines.len() as f32 + size + 3.0 * BODY * 1.4);
        self.y -= size * 0.8;
        self.lines(&lines, LEFT, size, size * 1.35);
        self.y -= size * 0.35;
    }

    fn paragraph(&mut self, spans: &[Span], indent: u8, marker: Option<&str>) {
        let x = LEFT + 18.0 * f32::from(indent);
        let lines = self.wrap(spans, self.right() - x, BODY);
        if let Some(m) = marker {
            self.room(BODY * 1.4);
            let (mw, y) = (self.font(false).width(m, BODY), self.y - BODY * 1.4);
            self.text(x - mw - 5.0, y, false, BODY, m);
        }
        self.lines(&lines, x, BODY, BODY * 1.4);
        self.y -= if marker.is_some() { 1.5 } else { 5.0 };
    }

    fn code(&mut self, src: &str) {
        for l in src.lines() {
            let lines = self.wrap(&[Span::plain(l)], self.right() - LEFT - 12.0, 8.5);
            self.lines(&lines, LEFT + 12.0, 8.5, 11.0);
        }
        self.y -= 6.0;
    }

    fn rule(&mut self) {
        self.room(12.0);
        self.y -= 6.0;
        let (y, right) = (self.y, self.right());
        self.page().push(Op::Line {
            x1: LEFT,
            y1: y,
            x2: right,
            y2: y,
        });
        self.y -= 6.0;
    }

    /// Column widths: each column's natural width, shrunk in proportion when the table is
    /// wider than the page, but never below its longest word (or a fair share).
    fn columns(&self, head: &[String], rows: &[Vec<String>]) -> Vec<f32> {
        let n = head.len().max(1);
        let avail = self.right() - LEFT;
        let mut natural = vec![0.0f32; n];
        let mut least = vec![0.0f32; n];
        for (i, h) in head.iter().enumerate() {
            natural[i] = self.font(true).width(h, CELL) + 2.0 * PAD;
            least[i] = longest_word(self.font(true), h, CELL) + 2.0 * PAD;
        }
        for row in rows {
            for (i, c) in row.iter().enumerate().take(n) {
                natural[i] = natural[i].max(self.font(false).width(c, CELL) + 2.0 * PAD);
                least[i] = least[i].max(longest_word(self.font(false), c, CELL) + 2.0 * PAD);
            }
        }
        let total: f32 = natural.iter().sum();
        if total <= avail {
            return natural;
        }
        // Every column gets its longest word (a fair share at most, when even those do
        // not fit); the room left goes first to the columns that want least, so short
        // columns stay on one line and long ones share the rest.
        let mut widths = least.clone();
        if least.iter().sum::<f32>() > avail {
            let share = avail / n as f32;
            widths = least.iter().map(|l| l.min(share)).collect();
        }
        let mut spare = avail - widths.iter().sum::<f32>();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|a, b| (natural[*a] - widths[*a]).total_cmp(&(natural[*b] - widths[*b])));
        for (k, i) in order.iter().enumerate() {
            let want = (natural[*i] - widths[*i]).max(0.0);
            let give = want.min(spare / (n - k) as f32);
            widths[*i] += give;
            spare -= give;
        }
        widths
    }

    /// A cell's lines, no more than a page holds (the last then ends in "…").
    fn cell_lines(&self, text: &str, width: f32, bold: bool) -> Vec<Vec<Run>> {
        let span = Span {
            text: text.to_string(),
            strong: bold,
        };
        let mut lines = self.wrap(&[span], width - 2.0 * PAD, CELL);
        let most = (((self.top() - BOTTOM - 4.0 * PAD) / (CELL * 1.25)) as usize).saturating_sub(3);
        if lines.len() > most.max(1) {
            lines.truncate(most.max(1));
            if let Some(last) = lines.last_mut() {
                last.push((bold, "…".to_string()));
            }
        }
        lines
    }

    fn row(&mut self, cells: &[String], widths: &[f32], bold: bool) -> f32 {
        let n = widths
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let text = cells.get(i).map(String::as_str).unwrap_or("");
                self.cell_lines(text, *w, bold).len()
            })
            .max()
            .unwrap_or(1)
            .max(1);
        n as f32 * CELL * 1.25 + 2.0 * PAD
    }

    fn draw_row(&mut self, cells: &[String], widths: &[f32], bold: bool) {
        let h = self.row(cells, widths, bold);
        let top = self.y;
        if bold {
            self.page().push(Op::Fill {
                x: LEFT,
                y: top - h,
                w: widths.iter().sum(),
                h,
            });
        }
        let mut x = LEFT;
        for (i, w) in widths.iter().enumerate() {
            let text = cells.get(i).map(String::as_str).unwrap_or("");
            let lines = self.cell_lines(text, *w, bold);
            let mut y = top - PAD;
            for line in &lines {
                y -= CELL * 1.25;
                let mut at = x + PAD;
                for (b, t) in line {
                    self.text(at, y + 2.0, *b, CELL, t);
                    at += self.font(*b).width(t, CELL);
                }
            }
            x += w;
        }
        let total: f32 = widths.iter().sum();
        self.page().push(Op::Line {
            x1: LEFT,
            y1: top - h,
            x2: LEFT + total,
            y2: top - h,
        });
        self.y = top - h;
    }

    fn table(&mut self, head: &[String], rows: &[Vec<String>]) {
        let widths = self.columns(head, rows);
        let head_h = self.row(head, &widths, true);
        self.room(head_h + 2.0 * CELL * 1.25 + 8.0);
        self.y -= 4.0;
        self.draw_row(head, &widths, true);
        for r in rows {
            let h = self.row(r, &widths, false);
            if self.y - h < BOTTOM {
                self.new_page();
                self.draw_row(head, &widths, true);
            }
            self.draw_row(r, &widths, false);
        }
        self.y -= 8.0;
    }

    fn block(&mut self, b: &Block) {
        match b {
            Block::Heading { level, text } => self.heading(*level, text),
            Block::Paragraph {
                spans,
                indent,
                marker,
            } => self.paragraph(spans, *indent, marker.as_deref()),
            Block::Table { head, rows } => self.table(head, rows),
            Block::Code(src) => self.code(src),
            Block::Rule => self.rule(),
            Block::Markdown(src) => {
                for b in markdown_blocks(src) {
                    self.block(&b);
                }
            }
        }
    }

    /// The title and header line at the top of each page, and the footer and page number
    /// at the bottom.
    fn furnish(&mut self, doc: &Doc) {
        let n = self.pages.len();
        for i in 0..n {
            let title = self.fit(&doc.title, true, 10.0, self.right() - LEFT);
            let header = self.fit(&doc.header, false, 8.0, self.right() - LEFT);
            let number = format!("Page {} of {n}", i + 1);
            let nw = self.font(false).width(&number, 8.0);
            let footer = self.fit(&doc.footer, false, 8.0, self.right() - LEFT - nw - 12.0);
            let (right, height) = (self.right(), self.height);
            let page = &mut self.pages[i];
            let gray = |x: f32, y: f32, size: f32, text: String| Op::Text {
                x,
                y,
                bold: false,
                size,
                gray: 0.35,
                text,
            };
            page.push(Op::Text {
                x: LEFT,
                y: height - 42.0,
                bold: true,
                size: 10.0,
                gray: 0.0,
                text: title,
            });
            page.push(gray(LEFT, height - 55.0, 8.0, header));
            page.push(Op::Line {
                x1: LEFT,
                y1: height - 62.0,
                x2: right,
                y2: height - 62.0,
            });
            page.push(Op::Line {
                x1: LEFT,
                y1: 46.0,
                x2: right,
                y2: 46.0,
            });
            page.push(gray(LEFT, 34.0, 8.0, footer));
            page.push(gray(right - nw, 34.0, 8.0, number));
        }
    }

    /// A text cut to a width, ending in "…" when cut.
    fn fit(&self, text: &str, bold: bool, size: f32, width: f32) -> String {
        let font = self.font(bold);
        if font.width(text, size) <= width {
            return text.to_string();
        }
        let mut out = String::new();
        for c in text.chars() {
            if font.width(&format!("{out}{c}…"), size) > width {
                break;
            }
            out.push(c);
        }
        out.push('…');
        out
    }
}

fn push_run(line: Option<&mut Vec<Run>>, bold: bool, text: &str) {
    let Some(line) = line else { return };
    match line.last_mut() {
        Some((b, t)) if *b == bold => t.push_str(text),
        _ => line.push((bold, text.to_string())),
    }
}

fn longest_word(font: &Font, text: &str, size: f32) -> f32 {
    text.split_whitespace()
        .map(|w| font.width(w, size))
        .fold(0.0, f32::max)
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a vector cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

/// Writes a document as a PDF (A4, DejaVu Sans). The same document gives the same bytes:
/// nothing in the file depends on when or where it was made.
pub fn pdf(doc: &Doc) -> Vec<u8> {
    // The fonts are compiled in; failing to read them is a build defect.
    let Some(l) = lay_out(doc) else {
        return Vec::new();
    };
    let (width, height) = (l.width, l.height);
    write(doc, l, width, height)
}

/// The document laid out on its pages.
fn lay_out(doc: &Doc) -> Option<Layout> {
    let (Some(regular), Some(bold)) = (Font::regular(), Font::bold()) else {
        return None;
    };
    let (width, height) = if doc.landscape {
        (LONG, SHORT)
    } else {
        (SHORT, LONG)
    };
    let mut l = Layout {
        fonts: [regular, bold],
        pages: vec![Vec::new()],
        y: 0.0,
        width,
        height,
    };
    l.y = l.top();
    for b in &doc.blocks {
        l.block(b);
    }
    l.furnish(doc);
    Some(l)
}

/// The pages written as a PDF.
fn write(doc: &Doc, l: Layout, width: f32, height: f32) -> Vec<u8> {
    let Layout {
        mut fonts, pages, ..
    } = l;

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let font_refs: Vec<[Ref; 5]> = (0..2)
        .map(|i| {
            let base = 4 + i * 5;
            [0, 1, 2, 3, 4].map(|k| Ref::new(base + k))
        })
        .collect();
    let first_page = 4 + 2 * 5;
    let page_refs: Vec<(Ref, Ref)> = (0..pages.len())
        .map(|i| {
            let n = i32::try_from(i).unwrap_or(i32::MAX / 2 - first_page);
            (
                Ref::new(first_page + 2 * n),
                Ref::new(first_page + 2 * n + 1),
            )
        })
        .collect();

    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(p, _)| *p))
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    pdf.document_info(info)
        .title(TextStr(&doc.title))
        .producer(TextStr("Custodian"));

    for (ops, (page_ref, content_ref)) in pages.iter().zip(&page_refs) {
        let mut c = Content::new();
        for op in ops {
            match op {
                Op::Fill { x, y, w, h } => {
                    c.set_fill_gray(0.93).rect(*x, *y, *w, *h).fill_nonzero();
                }
                Op::Line { x1, y1, x2, y2 } => {
                    c.set_stroke_gray(0.7)
                        .set_line_width(0.5)
                        .move_to(*x1, *y1)
                        .line_to(*x2, *y2)
                        .stroke();
                }
                Op::Text {
                    x,
                    y,
                    bold,
                    size,
                    gray,
                    text,
                } => {
                    let font = &mut fonts[usize::from(*bold)];
                    let bytes = font.encode(text);
                    c.begin_text()
                        .set_fill_gray(*gray)
                        .set_font(Name(if *bold { b"F2" } else { b"F1" }), *size)
                        .next_line(*x, *y)
                        .show(Str(&bytes))
                        .end_text();
                }
            }
        }
        let data = deflate(&c.finish());
        pdf.stream(*content_ref, &data).filter(Filter::FlateDecode);
        let mut page = pdf.page(*page_ref);
        page.media_box(Rect::new(0.0, 0.0, width, height))
            .parent(tree)
            .contents(*content_ref);
        let mut res = page.resources();
        let mut fs = res.fonts();
        fs.pair(Name(b"F1"), font_refs[0][0]);
        fs.pair(Name(b"F2"), font_refs[1][0]);
        fs.finish();
        res.finish();
        page.finish();
    }

    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    for (font, [type0, cid, descriptor, file, unicode]) in fonts.iter().zip(&font_refs) {
        let name = Name(font.name.as_bytes());
        pdf.type0_font(*type0)
            .base_font(name)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(*cid)
            .to_unicode(*unicode);
        let mut c = pdf.cid_font(*cid);
        c.subtype(CidFontType::Type2)
            .base_font(name)
            .system_info(system)
            .font_descriptor(*descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let mut w = c.widths();
        for gid in font.used.keys() {
            w.consecutive(*gid, [font.advance(*gid).round()]);
        }
        w.finish();
        c.finish();
        let (ascent, descent, cap, b) = font.metrics();
        pdf.font_descriptor(*descriptor)
            .name(name)
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(b[0], b[1], b[2], b[3]))
            .italic_angle(0.0)
            .ascent(ascent)
            .descent(descent)
            .cap_height(cap)
            .stem_v(if font.name.contains("Bold") {
                140.0
            } else {
                80.0
            })
            .font_file2(*file);
        let sub = font.subset();
        let packed = deflate(&sub);
        pdf.stream(*file, &packed).filter(Filter::FlateDecode).pair(
            Name(b"Length1"),
            i32::try_from(sub.len()).unwrap_or(i32::MAX),
        );
        let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custodian-UCS"), system);
        for (gid, ch) in &font.used {
            if *gid != 0 {
                cmap.pair(*gid, *ch);
            }
        }
        pdf.cmap(*unicode, &cmap.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Doc {
        let mut rows = Vec::new();
        for i in 0..120 {
            rows.push(vec![
                format!("Laptop {i}"),
                "A long description that has to wrap inside its cell".into(),
                "restricted".into(),
            ]);
        }
        Doc {
            title: "Asset Management Policy".into(),
            header: "Version 1.0 · approved by Ada Admin on 2026-12-07".into(),
            footer: "Version 1.0 · SHA-256 0123456789ab".into(),
            landscape: false,
            blocks: vec![
                Block::Markdown("# Purpose\n\nThis policy — with ünïcode.\n\n- a\n- b\n".into()),
                Block::Table {
                    head: vec!["Asset".into(), "Description".into(), "Level".into()],
                    rows,
                },
            ],
        }
    }

    #[test]
    fn a_cell_longer_than_a_page_is_cut_to_fit_it() {
        let long = "word ".repeat(20_000);
        let d = Doc {
            blocks: vec![Block::Table {
                head: vec!["A".into()],
                rows: vec![vec![long]],
            }],
            ..doc()
        };
        let l = lay_out(&d).expect("laid out");
        for op in l.pages.iter().flatten() {
            // The body's text is black; the footer's, below the margin, is grey.
            if let Op::Text { y, gray, .. } = op {
                assert!(
                    *gray > 0.0 || *y >= BOTTOM,
                    "text at {y} runs into the footer"
                );
            }
        }
    }

    #[test]
    fn the_same_document_gives_the_same_bytes_over_pages() {
        let a = pdf(&doc());
        assert!(a.starts_with(b"%PDF-"));
        assert_eq!(a, pdf(&doc()));
        let text = String::from_utf8_lossy(&a);
        let pages = text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count();
        assert!(pages > 1, "120 rows take more than a page: {pages}");
        assert!(a.len() < 200_000, "{} bytes", a.len());
    }
}

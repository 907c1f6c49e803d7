//! The fonts the PDF embeds (DejaVu Sans, regular and bold, from the `dejavu` crate) and
//! the subset of each that a document uses.

use std::collections::{BTreeMap, BTreeSet};

/// A font, its metrics, and the glyphs a document used of it.
pub(crate) struct Font {
    /// The font file.
    pub data: &'static [u8],
    /// Its PostScript name, with the subset's tag.
    pub name: &'static str,
    face: ttf_parser::Face<'static>,
    /// Font units per em.
    upem: f32,
    /// The glyphs used, each with the character it shows (for copying text out).
    pub used: BTreeMap<u16, char>,
}

impl Font {
    fn load(data: &'static [u8], name: &'static str) -> Option<Font> {
        let face = ttf_parser::Face::parse(data, 0).ok()?;
        let upem = f32::from(face.units_per_em());
        Some(Font {
            data,
            name,
            face,
            upem,
            used: BTreeMap::new(),
        })
    }

    /// DejaVu Sans, regular.
    pub fn regular() -> Option<Font> {
        Font::load(dejavu::sans::regular(), "CUSTRG+DejaVuSans")
    }

    /// DejaVu Sans, bold.
    pub fn bold() -> Option<Font> {
        Font::load(dejavu::sans::bold(), "CUSTBD+DejaVuSans-Bold")
    }

    /// A character's glyph (0, the font's "missing" box, when it has none).
    pub fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).map(|g| g.0).unwrap_or(0)
    }

    /// A glyph's advance, in thousandths of the font size.
    pub fn advance(&self, gid: u16) -> f32 {
        let units = self
            .face
            .glyph_hor_advance(ttf_parser::GlyphId(gid))
            .unwrap_or(0);
        f32::from(units) * 1000.0 / self.upem
    }

    /// The width of a text at a size, in points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f32>()
            * size
            / 1000.0
    }

    /// Encodes a text as the two-byte glyph ids the PDF shows, noting the glyphs used.
    pub fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let g = self.glyph(c);
            self.used.entry(g).or_insert(c);
            out.extend_from_slice(&g.to_be_bytes());
        }
        out
    }

    /// Metrics in thousandths of an em: ascender, descender, cap height, bounding box.
    pub fn metrics(&self) -> (f32, f32, f32, [f32; 4]) {
        let k = 1000.0 / self.upem;
        let b = self.face.global_bounding_box();
        (
            f32::from(self.face.ascender()) * k,
            f32::from(self.face.descender()) * k,
            f32::from(self.face.capital_height().unwrap_or(self.face.ascender())) * k,
            [
                f32::from(b.x_min) * k,
                f32::from(b.y_min) * k,
                f32::from(b.x_max) * k,
                f32::from(b.y_max) * k,
            ],
        )
    }

    /// The font file cut down to the glyphs used (see [`subset`]).
    pub fn subset(&self) -> Vec<u8> {
        let used: BTreeSet<u16> = self.used.keys().copied().collect();
        subset(self.data, &used).unwrap_or_else(|| self.data.to_vec())
    }
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// The tables kept: what a PDF reader needs to draw TrueType glyphs by id.
const KEPT: [&[u8; 4]; 10] = [
    b"OS/2", b"cmap", b"cvt ", b"fpgm", b"glyf", b"head", b"hhea", b"hmtx", b"loca", b"maxp",
];
const KEPT_PREP: &[u8; 4] = b"prep";

/// A TrueType font with only the glyphs used (and the glyphs they are built from) kept
/// and every other glyph emptied. Glyph ids stay as they are, so the widths, the
/// character map and the text's encoding are unchanged; tables a PDF reader does not use
/// (names, layout features, glyph names) are left out. `None` when the file is not a
/// TrueType font this understands.
pub(crate) fn subset(data: &[u8], used: &BTreeSet<u16>) -> Option<Vec<u8>> {
    let num_tables = usize::from(u16_at(data, 4)?);
    let mut tables: BTreeMap<[u8; 4], &[u8]> = BTreeMap::new();
    for i in 0..num_tables {
        let rec = 12 + 16 * i;
        let tag: [u8; 4] = data.get(rec..rec + 4)?.try_into().ok()?;
        let off = usize::try_from(u32_at(data, rec + 8)?).ok()?;
        let len = usize::try_from(u32_at(data, rec + 12)?).ok()?;
        tables.insert(tag, data.get(off..off + len)?);
    }
    let head = *tables.get(b"head")?;
    let long = u16_at(head, 50)? == 1;
    let num_glyphs = usize::from(u16_at(tables.get(b"maxp")?, 4)?);
    let loca = *tables.get(b"loca")?;
    let glyf = *tables.get(b"glyf")?;
    let offset = |g: usize| -> Option<usize> {
        if long {
            usize::try_from(u32_at(loca, 4 * g)?).ok()
        } else {
            Some(usize::from(u16_at(loca, 2 * g)?) * 2)
        }
    };

    // The glyphs kept: those used, glyph 0, and every component of a composite, deeply.
    let mut keep: BTreeSet<u16> = used.clone();
    keep.insert(0);
    let mut todo: Vec<u16> = keep.iter().copied().collect();
    while let Some(g) = todo.pop() {
        let gi = usize::from(g);
        if gi >= num_glyphs {
            continue;
        }
        let (start, end) = (offset(gi)?, offset(gi + 1)?);
        let outline = glyf.get(start..end)?;
        if outline.len() < 10 || (u16_at(outline, 0)? as i16) >= 0 {
            continue;
        }
        let mut at = 10;
        loop {
            let flags = u16_at(outline, at)?;
            let component = u16_at(outline, at + 2)?;
            if keep.insert(component) {
                todo.push(component);
            }
            at += 4 + if flags & 0x0001 != 0 { 4 } else { 2 };
            at += if flags & 0x0008 != 0 {
                2
            } else if flags & 0x0040 != 0 {
                4
            } else if flags & 0x0080 != 0 {
                8
            } else {
                0
            };
            if flags & 0x0020 == 0 {
                break;
            }
        }
    }

    let mut new_glyf = Vec::new();
    let mut offsets = Vec::with_capacity(num_glyphs + 1);
    for g in 0..num_glyphs {
        offsets.push(new_glyf.len());
        if keep.contains(&u16::try_from(g).ok()?) {
            new_glyf.extend_from_slice(glyf.get(offset(g)?..offset(g + 1)?)?);
            while new_glyf.len() % 4 != 0 {
                new_glyf.push(0);
            }
        }
    }
    offsets.push(new_glyf.len());
    let mut new_loca = Vec::new();
    for o in offsets {
        if long {
            new_loca.extend_from_slice(&u32::try_from(o).ok()?.to_be_bytes());
        } else {
            new_loca.extend_from_slice(&u16::try_from(o / 2).ok()?.to_be_bytes());
        }
    }
    let mut new_head = head.to_vec();
    new_head.get_mut(8..12)?.copy_from_slice(&[0; 4]);

    let mut out_tables: Vec<([u8; 4], Vec<u8>)> = Vec::new();
    for tag in KEPT.iter().copied().chain([KEPT_PREP]) {
        let body = match tag {
            b"glyf" => new_glyf.clone(),
            b"loca" => new_loca.clone(),
            b"head" => new_head.clone(),
            _ => match tables.get(tag) {
                Some(t) => t.to_vec(),
                None => continue,
            },
        };
        out_tables.push((*tag, body));
    }
    out_tables.sort_by_key(|t| t.0);

    let n = out_tables.len();
    let n16 = u16::try_from(n).ok()?;
    let pow = 1u16 << (15 - n16.leading_zeros());
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    out.extend_from_slice(&n16.to_be_bytes());
    out.extend_from_slice(&(pow * 16).to_be_bytes());
    out.extend_from_slice(&(pow.trailing_zeros() as u16).to_be_bytes());
    out.extend_from_slice(&(n16 * 16 - pow * 16).to_be_bytes());
    let mut at = 12 + 16 * n;
    let mut head_at = 0;
    for (tag, body) in &out_tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(body).to_be_bytes());
        out.extend_from_slice(&u32::try_from(at).ok()?.to_be_bytes());
        out.extend_from_slice(&u32::try_from(body.len()).ok()?.to_be_bytes());
        if tag == b"head" {
            head_at = at;
        }
        at += body.len().div_ceil(4) * 4;
    }
    for (_, body) in &out_tables {
        out.extend_from_slice(body);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    let adjust = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
    out.get_mut(head_at + 8..head_at + 12)?
        .copy_from_slice(&adjust.to_be_bytes());
    Some(out)
}

fn checksum(d: &[u8]) -> u32 {
    d.chunks(4).fold(0u32, |sum, c| {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        sum.wrapping_add(u32::from_be_bytes(w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subset_is_a_font_with_the_glyphs_used_and_far_smaller() {
        let mut f = Font::regular().expect("the font parses");
        f.encode("Asset Management Policy — Ünïcode ﬁ");
        let sub = f.subset();
        assert!(sub.len() < f.data.len() / 4, "{} bytes", sub.len());
        let face = ttf_parser::Face::parse(&sub, 0).expect("the subset parses");
        for c in "AsetMgPoly".chars() {
            let g = face.glyph_index(c).expect("mapped");
            assert!(
                face.outline_glyph(g, &mut Sink).is_some(),
                "{c} keeps its outline"
            );
        }
        let unused = face.glyph_index('Z').expect("mapped");
        assert!(face.outline_glyph(unused, &mut Sink).is_none());
    }

    struct Sink;
    impl ttf_parser::OutlineBuilder for Sink {
        fn move_to(&mut self, _: f32, _: f32) {}
        fn line_to(&mut self, _: f32, _: f32) {}
        fn quad_to(&mut self, _: f32, _: f32, _: f32, _: f32) {}
        fn curve_to(&mut self, _: f32, _: f32, _: f32, _: f32, _: f32, _: f32) {}
        fn close(&mut self) {}
    }
}

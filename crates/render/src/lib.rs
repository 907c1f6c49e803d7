//! Documents people read: a policy's text or a report's sections, laid out once and
//! written as a standalone HTML page or as a PDF.
//!
//! Both writers are deterministic: the same [`Doc`] gives the same bytes, with no date,
//! random identifier or machine detail in them, so an approved policy's rendering can be
//! hashed and an evidence pack made twice is the same file.

mod font;
mod html;
mod markdown;
mod pdf;

pub use html::html;
pub use markdown::{markdown_blocks, markdown_html};
pub use pdf::pdf;

/// A document: a title, a line under it on every page, a footer, and its blocks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Doc {
    /// The title, on every page.
    pub title: String,
    /// What stands beside the title on every page (version, status, approver).
    pub header: String,
    /// The footer of every page (with the page number in the PDF).
    pub footer: String,
    /// Pages on their side, for wide tables (PDF).
    pub landscape: bool,
    /// The body.
    pub blocks: Vec<Block>,
}

/// A piece of a document's body.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A heading, level 1 to 4.
    Heading {
        /// Its level (1 is the largest).
        level: u8,
        /// Its text.
        text: String,
    },
    /// A paragraph, or a list item (indented, with its marker).
    Paragraph {
        /// Its text, in runs of one style.
        spans: Vec<Span>,
        /// How deep in lists it stands (0: not in a list).
        indent: u8,
        /// The list marker (`•`, `1.`), if it begins a list item.
        marker: Option<String>,
    },
    /// A table with a heading row.
    Table {
        /// The headings.
        head: Vec<String>,
        /// The rows (each as long as `head`).
        rows: Vec<Vec<String>>,
    },
    /// Preformatted text.
    Code(String),
    /// A horizontal rule.
    Rule,
    /// Markdown source, expanded into blocks (PDF) or rendered safely (HTML).
    Markdown(String),
}

/// A run of text in one style.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// The text.
    pub text: String,
    /// Bold.
    pub strong: bool,
}

impl Span {
    /// Plain text.
    pub fn plain(text: impl Into<String>) -> Self {
        Span {
            text: text.into(),
            strong: false,
        }
    }

    /// Bold text.
    pub fn strong(text: impl Into<String>) -> Self {
        Span {
            text: text.into(),
            strong: true,
        }
    }
}

impl Block {
    /// A heading.
    pub fn heading(level: u8, text: impl Into<String>) -> Self {
        Block::Heading {
            level,
            text: text.into(),
        }
    }

    /// A paragraph of plain text.
    pub fn text(text: impl Into<String>) -> Self {
        Block::Paragraph {
            spans: vec![Span::plain(text)],
            indent: 0,
            marker: None,
        }
    }
}

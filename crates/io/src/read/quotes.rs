//! Finding quoted CSV cells with text after their closing quote.
//!
//! The csv crate reads `"x"y` as `xy` and says nothing, so a cell a person meant to hold a
//! quote (`"say "hi""`) is stored changed. RFC 4180 has no reading for it: a quoted cell
//! ends at its closing quote, and only a comma or a line break may follow. [`QuoteCheck`]
//! watches the bytes on their way to the csv reader and notes such cells, so the importer
//! can refuse them by row and column instead of guessing.
//!
//! A quote inside a cell that does not start with one (`24" monitor`) is left to the csv
//! crate, which keeps it as written: that reading loses nothing, and it is how
//! spreadsheets and other CSV readers take such cells too.

use std::collections::VecDeque;
use std::io::{self, Read};

/// Where the scan is within a cell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a cell.
    Start,
    /// In a cell that did not start with a quote.
    Bare,
    /// Inside quotes.
    Quoted,
    /// Just past a quote that closes the cell, or starts a doubled `""`.
    Closed,
}

/// Passes bytes through to the csv reader, noting each record's first cell with text
/// after its closing quote.
///
/// It finds cells and records as the csv crate does with its default settings (`,`
/// between cells, `"` quotes doubled inside quotes, CR, LF or CRLF between records), but
/// only by their boundaries, and in one pass over each byte. Problems are noted by byte
/// offset, which the csv reader's record positions count the same way, so they are
/// matched to records however far ahead the reader buffers.
pub(super) struct QuoteCheck<R> {
    inner: R,
    /// Bytes passed on so far.
    offset: u64,
    state: State,
    /// The cell being scanned, counted from 0 in its record.
    cell: usize,
    /// Whether the record being scanned already has a problem noted: one is enough to
    /// refuse it, and it keeps the queue as short as the records read ahead.
    noted: bool,
    /// (byte offset, cell) of problems not yet matched to a record, in file order.
    found: VecDeque<(u64, usize)>,
}

impl<R> QuoteCheck<R> {
    pub(super) fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            state: State::Start,
            cell: 0,
            noted: false,
            found: VecDeque::new(),
        }
    }

    /// The cell with text after its closing quote in the record at bytes `start..end`,
    /// if any. Problems before `end` are forgotten: records are asked for in file order.
    pub(super) fn in_record(&mut self, start: u64, end: u64) -> Option<usize> {
        let mut cell = None;
        while let Some(&(at, c)) = self.found.front() {
            if at >= end {
                break;
            }
            self.found.pop_front();
            if at >= start && cell.is_none() {
                cell = Some(c);
            }
        }
        cell
    }

    fn scan(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            // Most bytes are plain text inside a cell: skip them without the state
            // machine, so ordinary files pay little for the check.
            let skip = match self.state {
                State::Quoted => bytes[i..].iter().position(|&b| b == b'"'),
                State::Bare => bytes[i..]
                    .iter()
                    .position(|&b| matches!(b, b',' | b'\r' | b'\n')),
                State::Start | State::Closed => Some(0),
            };
            let Some(skip) = skip else {
                break;
            };
            i += skip;
            let b = bytes[i];
            self.state = match (self.state, b) {
                (State::Quoted, _) => State::Closed,
                // An opening quote, or the second of a doubled one.
                (State::Start | State::Closed, b'"') => State::Quoted,
                (_, b',') => {
                    self.cell += 1;
                    State::Start
                }
                (_, b'\r' | b'\n') => {
                    self.cell = 0;
                    self.noted = false;
                    State::Start
                }
                (State::Closed, _) => {
                    if !self.noted {
                        self.noted = true;
                        self.found.push_back((self.offset + i as u64, self.cell));
                    }
                    // The csv crate reads on as an unquoted cell; so does the scan, to
                    // find the same boundaries after it.
                    State::Bare
                }
                (State::Start | State::Bare, _) => State::Bare,
            };
            i += 1;
        }
        self.offset += bytes.len() as u64;
    }
}

impl<R: Read> Read for QuoteCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The (offset, cell) problems found in `text`, fed in pieces of `step` bytes.
    fn problems(text: &str, step: usize) -> Vec<(u64, usize)> {
        let mut q = QuoteCheck::new(io::empty());
        for piece in text.as_bytes().chunks(step) {
            q.scan(piece);
        }
        q.found.into_iter().collect()
    }

    #[test]
    fn text_after_a_closing_quote_is_found_wherever_the_reads_split() {
        for step in [1, 2, 3, 1000] {
            let p = |t| problems(t, step);
            assert_eq!(p("a,\"x\"y,b\n"), [(5, 1)], "step {step}");
            assert_eq!(p("\"x\" \n"), [(3, 0)], "a space after the quote");
            assert_eq!(
                p("\"a\"b,\"c\"d\n\"e\"f\n"),
                [(3, 0), (13, 0)],
                "one per record"
            );
            // Well-formed cells: doubled quotes, separators and line breaks inside quotes,
            // empty quoted cells, quotes inside bare cells, every kind of line break.
            let fine = concat!(
                "\"a\"\"b\",\"c,d\",\"e\nf\",\"\",\"\"\"\"\r\n",
                "24\" monitor,ab\"c,x\"\"y,\"\"\"x\"\"\"\r",
                "\"last\"\n\n\"\"\n\"eof\""
            );
            assert_eq!(p(fine), [], "step {step}");
        }
    }

    #[test]
    fn problems_are_matched_to_records_by_offset() {
        let mut q = QuoteCheck::new(io::empty());
        q.scan(b"ok\n\"a\"b\nok\n\"c\"d,\"e\"f\n");
        assert_eq!(q.in_record(0, 3), None);
        assert_eq!(q.in_record(3, 8), Some(0));
        assert_eq!(q.in_record(8, 11), None);
        assert_eq!(q.in_record(11, 21), Some(0));
        assert!(q.found.is_empty());
    }
}

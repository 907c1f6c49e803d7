//! Reports written out (SPEC §12): CSV for spreadsheets, with readable headings and every
//! cell guarded against formula injection, and JSON for programs. Written a page at a
//! time, so that memory stays flat however large the report.

use std::io::Write;

use serde_json::{json, Map, Value};

use custodian_app::reports::{Report, ReportCursor};
use custodian_app::{App, Ctx};
use custodian_domain::report::{Cell, ReportFormat};
use custodian_domain::value;

use crate::export::ExportError;
use crate::read::guard;

/// Turns a report's pages into bytes, in order: [`head`](Self::head), the pages'
/// [`rows`](Self::rows), then [`tail`](Self::tail).
#[derive(Debug)]
pub struct ReportWriter {
    format: ReportFormat,
    rows_written: u64,
}

impl ReportWriter {
    /// A writer for the report's format.
    pub fn new(report: &Report) -> Self {
        ReportWriter {
            format: report.format,
            rows_written: 0,
        }
    }

    /// How many rows were written.
    pub fn rows_written(&self) -> u64 {
        self.rows_written
    }

    /// What comes before the rows: the headings, or the document's description.
    pub fn head(&mut self, report: &Report) -> Vec<u8> {
        match self.format {
            ReportFormat::Csv => {
                let headings: Vec<String> = report
                    .columns()
                    .iter()
                    .map(|c| c.heading.to_string())
                    .collect();
                csv_line(&headings)
            }
            ReportFormat::Json => {
                let head = json!({
                    "report": report.kind,
                    "title": report.kind.title(),
                    "as_at": report.as_at.map(|t| value::format_timestamp(&t)),
                    "generated_at": value::format_timestamp(&report.generated_at),
                    "audit_seq": report.audit_seq,
                    "columns": report.columns(),
                });
                let mut text = head.to_string();
                // Opened for the rows, which follow.
                text.pop();
                text.push_str(",\"rows\":[");
                text.into_bytes()
            }
        }
    }

    /// A page of rows.
    pub fn rows(&mut self, report: &Report, rows: &[Vec<Cell>]) -> Vec<u8> {
        let mut out = Vec::new();
        for row in rows {
            match self.format {
                ReportFormat::Csv => {
                    // Only text can be read as a formula: a negative number stays one.
                    let cells: Vec<String> = row
                        .iter()
                        .map(|c| match c {
                            Cell::Text(t) => guard(t),
                            other => other.display(),
                        })
                        .collect();
                    out.extend(csv_line(&cells));
                }
                ReportFormat::Json => {
                    if self.rows_written > 0 {
                        out.push(b',');
                    }
                    let m: Map<String, Value> = report
                        .columns()
                        .iter()
                        .zip(row)
                        .map(|(c, v)| (c.key.to_string(), v.json()))
                        .collect();
                    out.extend(Value::Object(m).to_string().into_bytes());
                }
            }
            self.rows_written += 1;
        }
        out
    }

    /// What comes after the rows.
    pub fn tail(&mut self) -> Vec<u8> {
        match self.format {
            ReportFormat::Csv => Vec::new(),
            ReportFormat::Json => b"]}\n".to_vec(),
        }
    }
}

/// One CSV record, CRLF-terminated as the export's.
fn csv_line(cells: &[String]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory fails only when out of memory.
    if w.write_record(cells).is_err() {
        return Vec::new();
    }
    w.into_inner().unwrap_or_default()
}

/// Writes a whole report to `out`, page by page; answers how many rows were written.
pub async fn write_report(
    app: &App,
    ctx: &Ctx,
    report: &Report,
    out: &mut (dyn Write + Send),
) -> Result<u64, ExportError> {
    let mut w = ReportWriter::new(report);
    out.write_all(&w.head(report))?;
    let mut from: Option<ReportCursor> = None;
    loop {
        let page = app.report_page(ctx, report, from).await?;
        out.write_all(&w.rows(report, &page.rows))?;
        match page.next {
            Some(c) => from = Some(c),
            None => break,
        }
    }
    out.write_all(&w.tail())?;
    Ok(w.rows_written())
}

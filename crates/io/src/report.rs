//! Reports written out (SPEC §12): CSV for spreadsheets, with readable headings and every
//! text cell guarded against formula injection, JSON for programs, and XLSX. Written a
//! page at a time: CSV and JSON as the rows come, XLSX through a worksheet that keeps its
//! rows on disk (`constant_memory`), so that memory stays flat however large the report.

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
            ReportFormat::Xlsx => Vec::new(),
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
                ReportFormat::Xlsx => {}
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
            ReportFormat::Csv | ReportFormat::Xlsx => Vec::new(),
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
    if report.format == ReportFormat::Xlsx {
        return write_xlsx(app, ctx, report, out).await;
    }
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

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> ExportError {
    ExportError::Io(std::io::Error::other(format!("the workbook: {e}")))
}

/// Writes a report as a workbook of one sheet: headings in bold on a frozen first row,
/// numbers as numbers, days as dates, text guarded as in CSV. Its creation date is the
/// report's, so the same report gives the same bytes.
async fn write_xlsx(
    app: &App,
    ctx: &Ctx,
    report: &Report,
    out: &mut (dyn Write + Send),
) -> Result<u64, ExportError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let made =
        ExcelDateTime::from_timestamp(report.generated_at.timestamp()).map_err(xlsx_error)?;
    book.set_properties(
        &DocProperties::new()
            .set_title(report.kind.title())
            .set_creation_datetime(&made),
    );
    let bold = Format::new().set_bold();
    let day = Format::new().set_num_format("yyyy-mm-dd");
    let sheet = book
        .add_worksheet_with_constant_memory()
        .map_err(xlsx_error)?;
    sheet.set_name(report.kind.as_str()).map_err(xlsx_error)?;
    for (i, c) in report.columns().iter().enumerate() {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, c.heading, &bold)
            .map_err(xlsx_error)?;
        sheet
            .set_column_width(col, c.heading.len().clamp(10, 40) as f64)
            .map_err(xlsx_error)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    let mut row: u32 = 0;
    let mut from: Option<ReportCursor> = None;
    loop {
        let page = app.report_page(ctx, report, from).await?;
        for cells in &page.rows {
            row += 1;
            for (i, cell) in cells.iter().enumerate() {
                let col = u16::try_from(i).unwrap_or(u16::MAX);
                let r = match cell {
                    Cell::Empty => continue,
                    Cell::Int(n) => sheet.write_number(row, col, *n as f64),
                    Cell::Num(n) => sheet.write_number(row, col, *n),
                    Cell::Date(d) => {
                        use chrono::Datelike;
                        match ExcelDateTime::from_ymd(
                            u16::try_from(d.year()).unwrap_or(1900),
                            d.month() as u8,
                            d.day() as u8,
                        ) {
                            Ok(x) => sheet.write_datetime_with_format(row, col, &x, &day),
                            Err(_) => sheet.write_string(row, col, d.to_string()),
                        }
                    }
                    Cell::Text(t) => sheet.write_string(row, col, guard(t)),
                    other => sheet.write_string(row, col, other.display()),
                };
                r.map_err(xlsx_error)?;
            }
        }
        match page.next {
            Some(c) => from = Some(c),
            None => break,
        }
    }
    book.save_to_writer(out).map_err(xlsx_error)?;
    Ok(u64::from(row))
}

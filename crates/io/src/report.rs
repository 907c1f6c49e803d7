//! Reports written out (SPEC §12): CSV for spreadsheets, with readable headings and every
//! text cell guarded against formula injection, JSON for programs, and XLSX. Written a
//! page at a time: CSV and JSON as the rows come, XLSX through a worksheet that keeps its
//! rows on disk (`constant_memory`), so that memory stays flat however large the report.

use std::io::Write;

use serde_json::{json, Map, Value};

use custodian_app::reports::{Report, ReportCursor};
use custodian_app::{App, Ctx};
use custodian_domain::report::{Cell, Column, ReportFormat, DOCUMENT_ROWS};
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
            ReportFormat::Xlsx | ReportFormat::Html | ReportFormat::Pdf | ReportFormat::Zip => {
                Vec::new()
            }
            ReportFormat::Json => {
                let mut head = json!({
                    "report": report.kind,
                    "title": report.kind.title(),
                    "as_at": report.as_at.map(|t| value::format_timestamp(&t)),
                    "generated_at": value::format_timestamp(&report.generated_at),
                    "audit_seq": report.audit_seq,
                });
                for sec in &report.sections {
                    head[sec.key] =
                        Value::Array(sec.rows.iter().map(|r| json_row(sec.columns, r)).collect());
                }
                head["columns"] = json!(report.columns());
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
                ReportFormat::Xlsx | ReportFormat::Html | ReportFormat::Pdf | ReportFormat::Zip => {
                }
                ReportFormat::Json => {
                    if self.rows_written > 0 {
                        out.push(b',');
                    }
                    out.extend(json_row(report.columns(), row).to_string().into_bytes());
                }
            }
            self.rows_written += 1;
        }
        out
    }

    /// What comes after the rows.
    pub fn tail(&mut self) -> Vec<u8> {
        match self.format {
            ReportFormat::Json => b"]}\n".to_vec(),
            _ => Vec::new(),
        }
    }
}

/// A row as a JSON object: a value per column key.
fn json_row(columns: &[Column], row: &[Cell]) -> Value {
    Value::Object(
        columns
            .iter()
            .zip(row)
            .map(|(c, v)| (c.key.to_string(), v.json()))
            .collect::<Map<String, Value>>(),
    )
}

/// One CSV record of text, every cell guarded against formulas.
pub fn guarded_line(cells: &[&str]) -> Vec<u8> {
    csv_line(&cells.iter().map(|c| guard(c)).collect::<Vec<_>>())
}

/// One CSV record, CRLF-terminated as the export's.
pub(crate) fn csv_line(cells: &[String]) -> Vec<u8> {
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
    match report.format {
        ReportFormat::Xlsx => return write_xlsx(app, ctx, report, out).await,
        ReportFormat::Html | ReportFormat::Pdf => {
            return write_document(app, ctx, report, out).await
        }
        ReportFormat::Zip => {
            return Err(ExportError::Io(std::io::Error::other(
                "only the evidence pack is a zip (custodian_io::evidence)",
            )))
        }
        ReportFormat::Csv | ReportFormat::Json => {}
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

/// A sheet's headings, in bold on a frozen first row.
fn headings(
    sheet: &mut rust_xlsxwriter::Worksheet,
    columns: &[Column],
    bold: &rust_xlsxwriter::Format,
) -> Result<(), ExportError> {
    for (i, c) in columns.iter().enumerate() {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, c.heading, bold)
            .map_err(xlsx_error)?;
        sheet
            .set_column_width(col, c.heading.len().clamp(10, 40) as f64)
            .map_err(xlsx_error)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
    Ok(())
}

/// One cell: numbers as numbers, days as dates, text guarded as in CSV.
fn write_cell(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    i: usize,
    cell: &Cell,
    day: &rust_xlsxwriter::Format,
) -> Result<(), ExportError> {
    use rust_xlsxwriter::ExcelDateTime;
    let col = u16::try_from(i).unwrap_or(u16::MAX);
    let r = match cell {
        Cell::Empty => return Ok(()),
        Cell::Int(n) => sheet.write_number(row, col, *n as f64),
        Cell::Num(n) => sheet.write_number(row, col, *n),
        Cell::Date(d) => {
            use chrono::Datelike;
            match ExcelDateTime::from_ymd(
                u16::try_from(d.year()).unwrap_or(1900),
                d.month() as u8,
                d.day() as u8,
            ) {
                Ok(x) => sheet.write_datetime_with_format(row, col, &x, day),
                Err(_) => sheet.write_string(row, col, d.to_string()),
            }
        }
        Cell::Text(t) => sheet.write_string(row, col, guard(t)),
        other => sheet.write_string(row, col, other.display()),
    };
    r.map(drop).map_err(xlsx_error)
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
    for sec in &report.sections {
        let sheet = book.add_worksheet();
        sheet.set_name(sec.key).map_err(xlsx_error)?;
        headings(sheet, sec.columns, &bold)?;
        for (r, cells) in sec.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (i, cell) in cells.iter().enumerate() {
                write_cell(sheet, r, i, cell, &day)?;
            }
        }
    }
    let sheet = book
        .add_worksheet_with_constant_memory()
        .map_err(xlsx_error)?;
    let name = if report.sections.is_empty() {
        report.kind.as_str()
    } else {
        "findings"
    };
    sheet.set_name(name).map_err(xlsx_error)?;
    headings(sheet, report.columns(), &bold)?;
    let mut row: u32 = 0;
    let mut from: Option<ReportCursor> = None;
    loop {
        let page = app.report_page(ctx, report, from).await?;
        for cells in &page.rows {
            row += 1;
            for (i, cell) in cells.iter().enumerate() {
                write_cell(sheet, row, i, cell, &day)?;
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

/// A table of the document: its headings and its cells as people read them.
fn table(columns: &[Column], rows: &[Vec<Cell>]) -> custodian_render::Block {
    custodian_render::Block::Table {
        head: columns.iter().map(|c| c.heading.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(Cell::display).collect())
            .collect(),
    }
}

/// The report as a document people read, from its sections and up to
/// [`DOCUMENT_ROWS`] rows (`more`: it has more, which the document says).
pub fn report_doc(report: &Report, rows: &[Vec<Cell>], more: bool) -> custodian_render::Doc {
    use custodian_render::{Block, Doc};
    let mut header = match report.as_at {
        Some(t) => format!("As the register stood at {}", value::format_timestamp(&t)),
        None => "The register now".to_string(),
    };
    header.push_str(&format!(
        " · made {} · audit event {}",
        value::format_timestamp(&report.generated_at),
        report.audit_seq
    ));
    let mut blocks = Vec::new();
    for sec in &report.sections {
        blocks.push(Block::heading(1, sec.title));
        if sec.rows.is_empty() {
            blocks.push(Block::text("Nothing recorded yet."));
        } else {
            blocks.push(table(sec.columns, &sec.rows));
        }
    }
    if !report.sections.is_empty() {
        blocks.push(Block::heading(
            1,
            "Findings open or excepted, with what to do",
        ));
    }
    if more {
        blocks.push(Block::text(format!(
            "This document shows the first {DOCUMENT_ROWS} rows. The report has more: its CSV, XLSX and JSON hold every row."
        )));
    }
    if rows.is_empty() {
        blocks.push(Block::text("Nothing to report."));
    } else {
        blocks.push(table(report.columns(), rows));
    }
    Doc {
        title: report.kind.title().to_string(),
        header,
        footer: format!("Custodian · the {} report", report.kind),
        landscape: report.columns().len() > 6,
        blocks,
    }
}

/// Writes a report as HTML or PDF: read up to [`DOCUMENT_ROWS`] rows, then laid out whole.
async fn write_document(
    app: &App,
    ctx: &Ctx,
    report: &Report,
    out: &mut (dyn Write + Send),
) -> Result<u64, ExportError> {
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut more = false;
    let mut from: Option<ReportCursor> = None;
    loop {
        let page = app.report_page(ctx, report, from).await?;
        rows.extend(page.rows);
        if rows.len() > DOCUMENT_ROWS {
            rows.truncate(DOCUMENT_ROWS);
            more = true;
            break;
        }
        match page.next {
            Some(c) => from = Some(c),
            None => break,
        }
    }
    let doc = report_doc(report, &rows, more);
    let bytes = match report.format {
        ReportFormat::Pdf => custodian_render::pdf(&doc),
        _ => custodian_render::html(&doc).into_bytes(),
    };
    out.write_all(&bytes)?;
    Ok(rows.len() as u64)
}

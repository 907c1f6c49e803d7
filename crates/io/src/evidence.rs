//! The evidence pack written (SPEC §12): one zip for an `as_at` time, holding the policies
//! in force then, every report as the register stood, the KPIs and findings, the handling
//! matrix, the Statement of Applicability's rows and the audit trail to the cut, with a
//! manifest naming what each file evidences and the SHA-256 of every file.
//!
//! The same register gives the same bytes for the same `as_at`: every file is read as at
//! the cut, the zip's times are `as_at`'s, and nothing records when the pack was made.

use std::io::{Seek, Write};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use custodian_app::evidence::EvidenceCut;
use custodian_app::reports::{Report, ReportCursor};
use custodian_app::{App, Ctx};
use custodian_domain::audit::ChainVerifier;
use custodian_domain::report::{
    Cell, Column, ReportFormat, ReportKind, HANDLING_COLUMNS, SOA_COLUMNS,
};
use custodian_domain::value;

use crate::export::ExportError;
use crate::read::guard;
use crate::report::{csv_line, ReportWriter};

/// The controls whose Statement of Applicability rows the pack holds (SPEC §12), with how
/// the register meets each.
const SOA: &[(&str, &str)] = &[
    ("A.5.9", "Every asset is in the register with an accountable owner, its kind's minimum record and a review date; the register as it stood at any time is rebuilt from the audit trail."),
    ("A.5.10", "The Acceptable Use Policy is versioned and approved; holders acknowledge the version in force before assets are issued to them, and devices are encrypted where the level of what they hold asks for it."),
    ("A.5.11", "Issued assets carry the day they are due back; leavers and movers get a case listing everything to return or hand over by their last day."),
    ("A.5.12", "Every asset carries a level of the organisation's classification scheme; its effective level includes what it stores or contains."),
    ("A.5.13", "Each level says whether its carriers are labelled, and the register records the label of physical assets."),
    ("A.5.14", "The handling matrix says whether each level may be shared outside the organisation; transfers themselves are not recorded in the register and are assessed by hand."),
    ("A.7.9", "An asset taken off the premises is recorded on its custody, approved where its level asks for approval, or allowed by an exception."),
    ("A.7.10", "Storage media are assets of the register; they are disposed of by at least the method their level requires."),
    ("A.7.14", "Each disposal records its method, who performed it, the certificate and who verified it, per serial; a method below the level's least is refused."),
    ("A.8.1", "User endpoint devices are registered with their holder, and encrypted where their level asks for it."),
    ("A.8.10", "Data and the media that hold it are disposed of by the method their level requires, with a certificate."),
];

/// A file of the pack, as the manifest lists it.
#[derive(Clone, Debug)]
pub struct PackFile {
    /// Its path in the zip.
    pub path: String,
    /// The SHA-256 of its bytes, in hex.
    pub sha256: String,
    /// Its length.
    pub bytes: u64,
    /// The controls it evidences.
    pub controls: Vec<&'static str>,
    /// What it is.
    pub what: String,
}

/// What a pack holds: its cut, whether the trail to the cut verified, and its files.
#[derive(Clone, Debug)]
pub struct PackSummary {
    /// The cut of the audit trail it stands at.
    pub cut: EvidenceCut,
    /// Whether the audit trail in it verified to the cut.
    pub chain_verified: bool,
    /// Its files (the manifest and `SHA256SUMS` aside).
    pub files: Vec<PackFile>,
}

/// A zip being written, each file hashed as it goes in.
struct Pack<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
    options: zip::write::SimpleFileOptions,
    files: Vec<PackFile>,
    open: Option<(String, Sha256, u64)>,
}

fn zip_error(e: zip::result::ZipError) -> ExportError {
    ExportError::Io(std::io::Error::other(format!("the zip: {e}")))
}

impl<W: Write + Seek> Pack<W> {
    fn new(out: W, cut: &EvidenceCut) -> Self {
        use chrono::{Datelike, Timelike};
        let t = cut.as_at;
        let when = zip::DateTime::from_date_and_time(
            u16::try_from(t.year().clamp(1980, 2107)).unwrap_or(1980),
            t.month() as u8,
            t.day() as u8,
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
        )
        .unwrap_or_default();
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(when)
            .unix_permissions(0o644)
            .large_file(true);
        Pack {
            zip: zip::ZipWriter::new(out),
            options,
            files: Vec::new(),
            open: None,
        }
    }

    fn start(&mut self, path: &str) -> Result<(), ExportError> {
        self.zip.start_file(path, self.options).map_err(zip_error)?;
        self.open = Some((path.to_string(), Sha256::new(), 0));
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        if let Some((_, h, n)) = self.open.as_mut() {
            h.update(bytes);
            *n += bytes.len() as u64;
        }
        self.zip.write_all(bytes)?;
        Ok(())
    }

    /// Ends the file begun last, listing it with the controls it evidences.
    fn end(&mut self, controls: &[&'static str], what: impl Into<String>) {
        if let Some((path, h, bytes)) = self.open.take() {
            self.files.push(PackFile {
                path,
                sha256: hex(&h.finalize()),
                bytes,
                controls: controls.to_vec(),
                what: what.into(),
            });
        }
    }

    /// A whole file at once.
    fn file(
        &mut self,
        path: &str,
        bytes: &[u8],
        controls: &[&'static str],
        what: impl Into<String>,
    ) -> Result<(), ExportError> {
        self.start(path)?;
        self.write(bytes)?;
        self.end(controls, what);
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A table as CSV: headings, then rows, text guarded against formulas.
fn csv_table(columns: &[Column], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut out = csv_line(
        &columns
            .iter()
            .map(|c| c.heading.to_string())
            .collect::<Vec<_>>(),
    );
    for r in rows {
        out.extend(csv_line(
            &r.iter()
                .map(|c| match c {
                    Cell::Text(t) => guard(t),
                    other => other.display(),
                })
                .collect::<Vec<_>>(),
        ));
    }
    out
}

/// The controls each report evidences, and where it goes in the pack.
fn report_file(kind: ReportKind) -> (&'static str, &'static [&'static str]) {
    match kind {
        ReportKind::Register => (
            "reports/register.csv",
            &["A.5.9", "A.5.12", "A.5.13", "A.7.10", "A.8.1"],
        ),
        ReportKind::Ropa => ("reports/ropa.csv", &["A.5.34"]),
        ReportKind::Licences => ("reports/licences.csv", &["A.5.32"]),
        ReportKind::Disposals => ("reports/disposals.csv", &["A.7.10", "A.7.14", "A.8.10"]),
        ReportKind::Exceptions => ("reports/exceptions.csv", &["A.5.1", "A.5.36"]),
        ReportKind::Offboarding => ("reports/offboarding.csv", &["A.5.11"]),
        ReportKind::Acknowledgements => ("reports/acknowledgements.csv", &["A.5.10"]),
        ReportKind::OffPremises => ("reports/off-premises.csv", &["A.7.9"]),
        ReportKind::Compliance => ("compliance/findings.csv", &["A.5.36"]),
        ReportKind::Policy | ReportKind::Evidence => ("", &[]),
    }
}

/// Writes a report's rows as CSV into the file begun last.
async fn write_rows<W: Write + Seek>(
    app: &App,
    ctx: &Ctx,
    report: &Report,
    pack: &mut Pack<W>,
) -> Result<(), ExportError> {
    let mut w = ReportWriter::new(report);
    pack.write(&w.head(report))?;
    let mut from: Option<ReportCursor> = None;
    loop {
        let page = app.report_page(ctx, report, from).await?;
        pack.write(&w.rows(report, &page.rows))?;
        match page.next {
            Some(c) => from = Some(c),
            None => break,
        }
    }
    Ok(())
}

/// Writes the evidence pack for `cut` to `out` (seekable: a file).
pub async fn write_pack<W: Write + Seek>(
    app: &App,
    ctx: &Ctx,
    cut: &EvidenceCut,
    out: W,
) -> Result<PackSummary, ExportError> {
    let mut pack = Pack::new(out, cut);
    let at = Some(cut.as_at);

    // The policies in force then, as approved.
    for (v, r) in app.evidence_policies(ctx, cut).await? {
        let controls: &[&'static str] = match v.document {
            custodian_domain::policy::PolicyDocument::AssetManagement => {
                &["A.5.1", "A.5.9", "A.5.11", "A.5.12", "A.5.13", "A.7.14"]
            }
            custodian_domain::policy::PolicyDocument::AcceptableUse => {
                &["A.5.1", "A.5.10", "A.8.1"]
            }
        };
        let number: String = v
            .number
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        pack.file(
            &format!(
                "policies/{}-{number}.pdf",
                v.document.as_str().replace('_', "-")
            ),
            &r.bytes,
            controls,
            format!(
                "The {} in force, version {}, as rendered at its approval (SHA-256 {} in its approval event)",
                v.document.title(),
                v.number,
                r.sha256
            ),
        )?;
    }

    // Every report of rows, as the register stood.
    let mut controls_rows: Vec<Vec<Cell>> = Vec::new();
    for kind in ReportKind::ALL
        .iter()
        .copied()
        .filter(|k| !matches!(k, ReportKind::Policy | ReportKind::Evidence))
    {
        let report = app
            .prepare_report(ctx, kind, ReportFormat::Csv, at, Default::default())
            .await?;
        for sec in &report.sections {
            if sec.key == "controls" {
                controls_rows = sec.rows.clone();
            }
            let path = match sec.key {
                "checks" => "compliance/kpis.csv".to_string(),
                other => format!("compliance/{other}.csv"),
            };
            pack.file(
                &path,
                &csv_table(sec.columns, &sec.rows),
                &["A.5.36"],
                format!("{} (compliance measurement)", sec.title),
            )?;
        }
        let (path, controls) = report_file(kind);
        pack.start(path)?;
        write_rows(app, ctx, &report, &mut pack).await?;
        pack.end(controls, kind.title());
    }

    // The handling matrix.
    let matrix = app.handling_matrix(ctx).await?;
    pack.file(
        "handling-matrix.csv",
        &csv_table(HANDLING_COLUMNS, &matrix),
        &["A.5.10", "A.5.12", "A.5.13", "A.5.14"],
        "What each level of the classification scheme asks (the scheme as configured when the pack was made)",
    )?;

    // The audit trail to the cut, verified as it is written.
    pack.start("audit-trail.jsonl")?;
    let mut verifier = ChainVerifier::default();
    let mut broken: Option<String> = None;
    let mut after = 0;
    loop {
        let events = app.evidence_events(ctx, cut, after).await?;
        let Some(last) = events.last() else { break };
        after = last.seq;
        let mut text = Vec::with_capacity(events.len() * 400);
        for e in &events {
            if broken.is_none() {
                if let Err(b) = verifier.feed(e) {
                    broken = Some(format!("event {}: {}", b.seq, b.reason));
                }
            }
            serde_json::to_writer(&mut text, e)
                .map_err(|e| ExportError::Io(std::io::Error::other(e)))?;
            text.push(b'\n');
        }
        pack.write(&text)?;
    }
    if broken.is_none() {
        if let Err(b) = verifier.finish(cut.seq, &cut.hash) {
            broken = Some(format!("event {}: {}", b.seq, b.reason));
        }
    }
    pack.end(
        &["A.5.9", "A.8.15"],
        "The audit trail to the cut, an event per line with its hash and the hash before it",
    );

    // The Statement of Applicability's rows, with the status then and their evidence.
    let soa: Vec<Vec<Cell>> = SOA
        .iter()
        .map(|(control, how)| {
            let row = controls_rows
                .iter()
                .find(|r| r.first() == Some(&Cell::Text(control.to_string())));
            let cell = |i: usize| row.and_then(|r| r.get(i)).cloned().unwrap_or(Cell::Empty);
            let evidence: Vec<&str> = pack
                .files
                .iter()
                .filter(|f| f.controls.contains(control))
                .map(|f| f.path.as_str())
                .collect();
            vec![
                Cell::Text(control.to_string()),
                cell(1),
                Cell::Bool(true),
                Cell::Text(how.to_string()),
                cell(3),
                cell(2),
                Cell::Text(evidence.join("; ")),
            ]
        })
        .collect();
    let soa_controls: Vec<&'static str> = SOA.iter().map(|(c, _)| *c).collect();
    pack.file(
        "statement-of-applicability.csv",
        &csv_table(SOA_COLUMNS, &soa),
        &soa_controls,
        "The Statement of Applicability's rows for the asset management controls",
    )?;

    // The manifest, then the sums of every file.
    let manifest = json!({
        "pack": "Custodian evidence pack",
        "as_at": value::format_timestamp(&cut.as_at),
        "product": {"name": "Custodian", "version": env!("CARGO_PKG_VERSION")},
        "audit_head": {"seq": cut.seq, "hash": cut.hash},
        "chain": {
            "verified": broken.is_none(),
            "events": verifier.checked,
            "broken": broken,
        },
        "files": pack.files.iter().map(|f| json!({
            "path": f.path, "sha256": f.sha256, "bytes": f.bytes,
            "evidences": f.controls, "what": f.what,
        })).collect::<Vec<Value>>(),
    });
    let mut text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ExportError::Io(std::io::Error::other(e)))?;
    text.push(b'\n');
    pack.file("manifest.json", &text, &[], "This manifest")?;
    let sums: String = pack
        .files
        .iter()
        .map(|f| format!("{}  {}\n", f.sha256, f.path))
        .collect();
    pack.start("SHA256SUMS")?;
    pack.write(sums.as_bytes())?;
    pack.open = None;
    let mut files = std::mem::take(&mut pack.files);
    files.retain(|f| f.path != "manifest.json");
    pack.zip.finish().map_err(zip_error)?;
    Ok(PackSummary {
        cut: cut.clone(),
        chain_verified: broken.is_none(),
        files,
    })
}

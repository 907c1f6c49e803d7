//! The figures as a Markdown table and as JSON.

use serde_json::{json, Value};

use crate::gen::DataSet;
use crate::measure::{round, Load};
use crate::{Machine, Results, CONCURRENT_EACH, GET_SECONDS, READ_REPS, SEQ_CREATES, WORKERS};

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn bytes(b: Option<u64>) -> String {
    match b {
        None => "n/a".into(),
        Some(b) if b >= 1 << 30 => format!("{:.2} GiB", b as f64 / (1u64 << 30) as f64),
        Some(b) => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
    }
}

fn ms(x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if x < 10.0 {
        format!("{x:.2} ms")
    } else {
        format!("{x:.1} ms")
    }
}

fn rate(l: &Load) -> String {
    format!("{} req/s", thousands(l.per_second.round() as u64))
}

fn answers(l: &Load) -> String {
    let others: Vec<String> = l
        .statuses
        .iter()
        .map(|(k, v)| format!("{} × {k}", thousands(*v)))
        .collect();
    format!(
        "{} unexpected ({})",
        thousands(l.unexpected),
        others.join(", ")
    )
}

/// The Markdown table for one backend.
pub fn markdown(r: &Results, m: &Machine, command: &str, version: &str, data: &DataSet) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    let n = thousands(r.assets);
    rows.push((
        format!(
            "Import of {n} assets (CSV, {:.0} MB)",
            data.bytes as f64 / 1e6
        ),
        format!(
            "{:.1} s = **{} rows/s**",
            r.import_seconds,
            thousands(r.import_rows_per_second.round() as u64)
        ),
    ));
    rows.push((
        "Import peak RSS (custodian process)".into(),
        mib(Some(r.import_peak_rss_kib)),
    ));
    rows.push((
        "`audit verify --register`: every hash and seal, and each asset rebuilt from its events"
            .into(),
        format!(
            "{:.1} s, peak RSS {}",
            r.verify_seconds,
            mib(Some(r.verify_peak_rss_kib))
        ),
    ));
    rows.push((
        "`compliance run`: every check over the whole register, findings written".into(),
        format!(
            "{:.1} s, peak RSS {}",
            r.compliance_seconds,
            mib(Some(r.compliance_peak_rss_kib))
        ),
    ));
    for x in &r.register_reports {
        rows.push((
            if x.kind == "evidence" {
                "`report evidence`: the evidence pack, every report and the whole audit trail, as one zip".to_string()
            } else {
                format!(
                    "`report {} --format {}`: the whole register, written to a file",
                    x.kind, x.format
                )
            },
            format!(
                "{:.1} s, peak RSS {}, {}",
                x.seconds,
                mib(Some(x.peak_rss_kib)),
                bytes(x.bytes)
            ),
        ));
    }
    let size = match r.database_wal_bytes {
        Some(w) => format!("{} + {} WAL", bytes(r.database_bytes), bytes(Some(w))),
        None => bytes(r.database_bytes),
    };
    rows.push(("Database size after import".into(), size));
    rows.push((
        format!("Server start to ready at {n} assets"),
        format!("{:.2} s", r.ready_seconds),
    ));
    rows.push((
        "Server idle RSS (2 s after ready)".into(),
        mib(r.idle_rss_kib),
    ));
    for read in r
        .reads
        .iter()
        .chain(&r.pages)
        .chain(&r.compliance_reads)
        .chain(&r.as_at_reads)
    {
        rows.push((
            format!(
                "{} — `{}`",
                read.label,
                read.path.split('?').nth(1).unwrap_or("")
            ),
            format!(
                "p50 {} · p99 {} ({} items)",
                ms(read.latency.p50_ms),
                ms(read.latency.p99_ms),
                read.items
            ),
        ));
    }
    rows.push((
        format!(
            "GET /assets/{{id}}, {WORKERS} clients × {GET_SECONDS} s over {} ids",
            thousands(r.get_ids as u64)
        ),
        format!(
            "**{}** · p50 {} · p99 {} · {}",
            rate(&r.get_by_id),
            ms(r.get_by_id.latency.p50_ms),
            ms(r.get_by_id.latency.p99_ms),
            answers(&r.get_by_id)
        ),
    ));
    rows.push((
        format!(
            "POST /assets, sequential × {}",
            thousands(SEQ_CREATES as u64)
        ),
        format!(
            "**{}** · p50 {} · p99 {} · {}",
            rate(&r.seq_creates),
            ms(r.seq_creates.latency.p50_ms),
            ms(r.seq_creates.latency.p99_ms),
            answers(&r.seq_creates)
        ),
    ));
    rows.push((
        format!(
            "POST /assets, {WORKERS} clients × {} = {}",
            thousands(CONCURRENT_EACH as u64),
            thousands((WORKERS * CONCURRENT_EACH) as u64)
        ),
        format!(
            "**{}** · p50 {} · p99 {} · **{} non-201**",
            rate(&r.concurrent_creates),
            ms(r.concurrent_creates.latency.p50_ms),
            ms(r.concurrent_creates.latency.p99_ms),
            thousands(r.concurrent_creates.unexpected)
        ),
    ));
    rows.push((
        "Server peak RSS during concurrent creates (sampled every 100 ms)".into(),
        mib(r.concurrent_creates.peak_rss_kib),
    ));
    rows.push((
        "Server VmHWM at the end of the run".into(),
        mib(r.server_hwm_kib),
    ));

    let mut s = String::new();
    s.push_str(&format!("### {} — {n} assets\n\n", r.backend.name()));
    s.push_str(&format!(
        "`{command}` on {} cores ({}), {:.1} GiB RAM, {}; {version}.\n\n",
        m.cores, m.cpu, m.memory_gib, m.os
    ));
    s.push_str("| Measure | Result |\n|---|---|\n");
    for (k, v) in rows {
        s.push_str(&format!("| {k} | {v} |\n"));
    }
    s.push_str(&format!(
        "\nReads: {READ_REPS} sequential requests each after a warm-up, keep-alive client. {} persons own the assets; the import said: {:?}.",
        r.persons, r.import_output
    ));
    if r.backend == crate::Backend::Postgres {
        s.push_str(" RSS figures are the custodian process only, not the PostgreSQL server.");
    }
    s.push('\n');
    if !r.problems.is_empty() {
        s.push_str("\n**Problems seen:**\n\n");
        for p in &r.problems {
            s.push_str(&format!("- {}\n", p.replace('\n', " ")));
        }
    }
    s
}

/// The same figures as JSON.
pub fn json(
    r: &Results,
    m: &Machine,
    command: &str,
    invoked: &str,
    version: &str,
    data: &DataSet,
) -> Value {
    json!({
        "backend": r.backend.name(),
        "command": command,
        "invoked": invoked,
        "custodian_version": version,
        "machine": {"cores": m.cores, "cpu": m.cpu, "memory_gib": round(m.memory_gib), "os": m.os},
        "assets": r.assets,
        "persons": r.persons,
        "dataset": {
            "path": data.path.display().to_string(),
            "bytes": r.csv_bytes,
            "reused": data.reused,
            "selective_word": crate::gen::SELECTIVE_WORD,
            "selective_matches": data.selective_matches,
            "common_word": crate::gen::COMMON_WORD,
            "common_matches": data.common_matches,
            "data_restricted_matches": data.filtered_matches,
        },
        "import": {
            "seconds": round(r.import_seconds),
            "rows_per_second": r.import_rows_per_second.round(),
            "peak_rss_kib": r.import_peak_rss_kib,
            "output": r.import_output,
        },
        "verify_register": {
            "seconds": round(r.verify_seconds),
            "peak_rss_kib": r.verify_peak_rss_kib,
            "output": r.verify_output,
        },
        "compliance_run": {
            "seconds": round(r.compliance_seconds),
            "peak_rss_kib": r.compliance_peak_rss_kib,
            "output": r.compliance_output,
        },
        "register_reports": r.register_reports.iter().map(|x| serde_json::json!({
            "kind": x.kind, "format": x.format, "seconds": round(x.seconds), "peak_rss_kib": x.peak_rss_kib, "bytes": x.bytes,
        })).collect::<Vec<_>>(),
        "compliance_reads": r.compliance_reads.iter().map(|x| x.json()).collect::<Vec<_>>(),
        "as_at_reads": r.as_at_reads.iter().map(|x| x.json()).collect::<Vec<_>>(),
        "database_bytes": r.database_bytes,
        "database_wal_bytes": r.database_wal_bytes,
        "assets_counted_after_import": r.counted_assets,
        "server": {
            "ready_seconds": round(r.ready_seconds),
            "idle_rss_kib": r.idle_rss_kib,
            "vm_hwm_kib": r.server_hwm_kib,
            "exit": r.server_exit,
        },
        "reads": r.reads.iter().map(|x| x.json()).collect::<Vec<_>>(),
        "pages": r.pages.iter().map(|x| x.json()).collect::<Vec<_>>(),
        "get_by_id": {"workers": WORKERS, "seconds_target": GET_SECONDS, "ids": r.get_ids, "load": r.get_by_id.json()},
        "creates_sequential": {"count": SEQ_CREATES, "load": r.seq_creates.json()},
        "creates_concurrent": {"workers": WORKERS, "each": CONCURRENT_EACH, "load": r.concurrent_creates.json()},
        "assets_counted_at_end": r.final_assets,
        "problems": r.problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}

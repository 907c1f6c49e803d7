//! Custodian's benchmark: import, reads, writes and memory at N assets, on SQLite and
//! PostgreSQL. It prints its figures; nothing fails on time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

mod gen;
mod measure;
mod procs;
mod report;

use measure::{ListRead, Load};

const USAGE: &str = "\
Usage: cargo run --release -p custodian-bench -- [OPTIONS]

Options:
  --backend sqlite|postgres|both   Backends to measure [default: both]
  --assets N                       Assets to import [default: 1000000]
  --postgres URL                   PostgreSQL admin URL; the bench (re)creates the database
                                   custodian_bench there [default: $CUSTODIAN_BENCH_POSTGRES_URL,
                                   else postgres://postgres:postgres@localhost/postgres]
  --out DIR                        Where the CSV, logs and results go [default: bench/out]
  -h, --help                       Show this help

Build the server first: cargo build --release -p custodian (scripts/bench does both).";

const BENCH_DB: &str = "custodian_bench";
const READ_WARMUP: usize = 20;
const READ_REPS: usize = 300;
const WORKERS: usize = 8;
const GET_SECONDS: u64 = 5;
const SEQ_CREATES: usize = 2_000;
const CONCURRENT_EACH: usize = 2_500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug)]
struct Args {
    backends: Vec<Backend>,
    assets: u64,
    postgres: String,
    out: PathBuf,
}

fn parse_args(argv: &[String]) -> Result<Option<Args>> {
    let mut args = Args {
        backends: vec![Backend::Sqlite, Backend::Postgres],
        assets: 1_000_000,
        postgres: std::env::var("CUSTODIAN_BENCH_POSTGRES_URL")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "postgres://postgres:postgres@localhost/postgres".into()),
        out: default_out(),
    };
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        if matches!(flag, "-h" | "--help") {
            return Ok(None);
        }
        let mut value = || -> Result<String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it
                    .next()
                    .cloned()
                    .with_context(|| format!("{flag} needs a value\n\n{USAGE}")),
            }
        };
        match flag {
            "--backend" => {
                let v = value()?;
                args.backends = match v.as_str() {
                    "sqlite" => vec![Backend::Sqlite],
                    "postgres" => vec![Backend::Postgres],
                    "both" => vec![Backend::Sqlite, Backend::Postgres],
                    _ => bail!("--backend must be sqlite, postgres or both, not {v:?}"),
                };
            }
            "--assets" => {
                let v = value()?;
                let n: u64 = v
                    .replace(['_', ','], "")
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--assets must be a whole number, not {v:?}"))?;
                if n < 1_000 {
                    bail!("--assets must be at least 1000 (the reads need pages to page through), not {n}");
                }
                if n > u32::MAX as u64 {
                    bail!("--assets must be at most {}, not {n}", u32::MAX);
                }
                args.assets = n;
            }
            "--postgres" => args.postgres = value()?,
            "--out" => args.out = PathBuf::from(value()?),
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    Ok(Some(args))
}

/// `bench/out` of the workspace when run from it, else `./bench-out`.
fn default_out() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    if manifest.is_dir() {
        manifest.join("out")
    } else {
        PathBuf::from("bench-out")
    }
}

/// A shell-quoted command line.
fn shell_line(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| {
            if !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c))
            {
                p.clone()
            } else {
                format!("'{}'", p.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Hides the password of a URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

/// The same server and credentials, another database.
fn with_database(url: &str, db: &str) -> Result<String> {
    let s = url
        .find("://")
        .with_context(|| format!("{} is not a postgres:// URL", redact(url)))?;
    let rest = &url[s + 3..];
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
    Ok(format!(
        "{}{}/{db}{query}",
        &url[..s + 3],
        &rest[..auth_end]
    ))
}

/// The machine the figures were taken on.
struct Machine {
    cores: usize,
    cpu: String,
    memory_gib: f64,
    os: String,
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let os = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| format!("Linux {}", s.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.into());
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu,
        memory_gib,
        os,
    }
}

/// Everything measured on one backend.
pub struct Results {
    pub backend: Backend,
    pub assets: u64,
    pub csv_bytes: u64,
    pub persons: usize,
    pub import_seconds: f64,
    pub import_rows_per_second: f64,
    pub import_peak_rss_kib: u64,
    pub import_output: String,
    pub verify_seconds: f64,
    pub verify_peak_rss_kib: u64,
    pub verify_output: String,
    pub compliance_seconds: f64,
    pub compliance_peak_rss_kib: u64,
    pub compliance_output: String,
    /// The register report written from the command line, per format.
    pub register_reports: Vec<RegisterReport>,
    pub compliance_reads: Vec<ListRead>,
    /// Pages of the register as it stood, rebuilt from the audit trail.
    pub as_at_reads: Vec<ListRead>,
    pub database_bytes: Option<u64>,
    pub database_wal_bytes: Option<u64>,
    pub counted_assets: Option<i64>,
    pub ready_seconds: f64,
    pub idle_rss_kib: Option<u64>,
    pub reads: Vec<ListRead>,
    pub pages: Vec<ListRead>,
    pub get_by_id: Load,
    pub get_ids: usize,
    pub seq_creates: Load,
    pub concurrent_creates: Load,
    pub server_hwm_kib: Option<u64>,
    pub server_exit: String,
    pub final_assets: Option<i64>,
    pub problems: Vec<String>,
}

struct Setup {
    bin: PathBuf,
    out: PathBuf,
    data: gen::DataSet,
    postgres_admin: String,
}

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    match real_main(&argv) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

fn real_main(argv: &[String]) -> Result<std::process::ExitCode> {
    let Some(args) = parse_args(&argv[1..])? else {
        println!("{USAGE}");
        return Ok(std::process::ExitCode::SUCCESS);
    };
    let bin = procs::custodian_binary()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let out = args
        .out
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", args.out.display()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.spawn(async {
        interrupted().await;
        eprintln!("[bench] interrupted: stopping the custodian processes");
        procs::clean_up_now();
        std::process::exit(130);
    });
    procs::remove_stale_temp_dirs();
    let version = std::process::Command::new(&bin)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let m = machine();
    let invoked = redact(&shell_line(argv));
    let cargo_line = redact(&format!(
        "cargo run --release -p custodian-bench -- {}",
        shell_line(&argv[1..])
    ));
    println!("# Custodian bench");
    println!();
    println!("Command: `{cargo_line}`");
    println!("Executable: `{invoked}`");
    println!(
        "Machine: {} cores ({}), {:.1} GiB RAM, {}; {version}",
        m.cores, m.cpu, m.memory_gib, m.os
    );
    println!();

    let started = Instant::now();
    eprintln!(
        "[bench] preparing {} assets in {} …",
        args.assets,
        out.display()
    );
    let data = gen::dataset(&out, args.assets)?;
    eprintln!(
        "[bench] {} {} ({:.1} MB) in {:.1} s",
        if data.reused { "reused" } else { "generated" },
        data.path.display(),
        data.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let ctx = Setup {
        bin,
        out: out.clone(),
        data,
        postgres_admin: args.postgres.clone(),
    };
    let mut failed = Vec::new();
    for &b in &args.backends {
        eprintln!("[bench] === {} ===", b.name());
        match run_backend(&rt, &ctx, b) {
            Ok(r) => {
                let md = report::markdown(&r, &m, &cargo_line, &version, &ctx.data);
                println!("{md}");
                let path = out.join(format!("results-{}.json", b.name()));
                let j = report::json(&r, &m, &cargo_line, &invoked, &version, &ctx.data);
                std::fs::write(&path, serde_json::to_string_pretty(&j)?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                std::fs::write(out.join(format!("results-{}.md", b.name())), &md).with_context(
                    || format!("cannot write the Markdown results to {}", out.display()),
                )?;
                eprintln!("[bench] wrote {}", path.display());
                for p in &r.problems {
                    eprintln!("[bench] problem on {}: {p}", b.name());
                }
            }
            Err(e) => {
                eprintln!("error: the {} bench failed: {e:#}", b.name());
                println!(
                    "**{}: the bench failed:** {}\n",
                    b.name(),
                    format!("{e:#}").replace('\n', " ")
                );
                failed.push(b.name());
            }
        }
    }
    rt.shutdown_timeout(Duration::from_secs(5));
    if failed.is_empty() {
        Ok(std::process::ExitCode::SUCCESS)
    } else {
        eprintln!("error: failed on {}", failed.join(", "));
        Ok(std::process::ExitCode::from(1))
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// A fresh database for the backend: its URL, and the directory that holds it (SQLite).
fn fresh_database(
    rt: &tokio::runtime::Runtime,
    ctx: &Setup,
    b: Backend,
) -> Result<(String, Option<procs::TempDir>)> {
    match b {
        Backend::Sqlite => {
            let dir = procs::TempDir::new("sqlite")?;
            let db = dir.0.join("custodian.db");
            let db = db
                .to_str()
                .context("the temporary directory's path is not UTF-8")?
                .to_string();
            Ok((db, Some(dir)))
        }
        Backend::Postgres => {
            let admin = ctx.postgres_admin.clone();
            rt.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin).await.with_context(|| format!("cannot connect to PostgreSQL at {} (set --postgres or CUSTODIAN_BENCH_POSTGRES_URL)", redact(&admin)))?;
                let forced = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")).execute(&mut conn).await;
                if forced.is_err() {
                    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {BENCH_DB}")).execute(&mut conn).await.with_context(|| format!("cannot drop the database {BENCH_DB}"))?;
                }
                sqlx::raw_sql(&format!("CREATE DATABASE {BENCH_DB}")).execute(&mut conn).await.with_context(|| format!("cannot create the database {BENCH_DB}"))?;
                conn.close().await.ok();
                Ok::<_, anyhow::Error>(())
            })?;
            Ok((with_database(&admin, BENCH_DB)?, None))
        }
    }
}

fn database_bytes(
    rt: &tokio::runtime::Runtime,
    ctx: &Setup,
    b: Backend,
    dir: Option<&procs::TempDir>,
) -> (Option<u64>, Option<u64>) {
    let len = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    match b {
        Backend::Sqlite => match dir {
            Some(d) => (
                Some(len(d.0.join("custodian.db"))),
                Some(len(d.0.join("custodian.db-wal"))),
            ),
            None => (None, None),
        },
        Backend::Postgres => (pg_database_size(rt, ctx), None),
    }
}

fn pg_database_size(rt: &tokio::runtime::Runtime, ctx: &Setup) -> Option<u64> {
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&ctx.postgres_admin)
            .await
            .ok()?;
        let n: i64 = sqlx::query_scalar(&format!("SELECT pg_database_size('{BENCH_DB}')"))
            .fetch_one(&mut conn)
            .await
            .ok()?;
        conn.close().await.ok();
        Some(n as u64)
    })
}

/// The bench's admin account.
const BENCH_EMAIL: &str = "bench-admin@bench.example.com";

/// Creates the bench's admin account and a write token for it, through the CLI; answers
/// the token and the account's password.
fn bench_token(bin: &Path, db: &str) -> Result<(String, String)> {
    let email = BENCH_EMAIL;
    let run = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new(bin)
            .args(args)
            .args(["--database", db])
            .output()
            .with_context(|| format!("cannot run {}", bin.display()))?;
        if !out.status.success() {
            bail!(
                "custodian {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    };
    let created = run(&["user", "create", email, "--role", "admin"])?;
    let password = created
        .lines()
        .find_map(|l| l.split_once("): ").map(|(_, p)| p.trim().to_string()))
        .context("custodian user create printed no password")?;
    let out = run(&[
        "token",
        "create",
        "--user",
        email,
        "--scope",
        "write",
        "--expires-in",
        "2",
    ])?;
    let token = out
        .lines()
        .last()
        .map(|l| l.trim().to_string())
        .filter(|l| l.starts_with("cust_"))
        .context("custodian token create printed no token on its last line")?;
    Ok((token, password))
}

fn run_backend(rt: &tokio::runtime::Runtime, ctx: &Setup, b: Backend) -> Result<Results> {
    let name = b.name();
    let n = ctx.data.assets;
    let (db, dir) = fresh_database(rt, ctx, b)?;
    let mut problems = Vec::new();
    let (token, password) = bench_token(&ctx.bin, &db)?;
    let client = measure::client(&token)?;

    // 1. Persons through the API.
    eprintln!("[bench] {name}: creating {} persons", gen::PERSONS);
    let persons = gen::persons();
    let server = procs::Server::start(
        &ctx.bin,
        &db,
        &ctx.out.join(format!("serve-setup-{name}.log")),
    )?;
    let owners = rt.block_on(async {
        measure::wait_ready(&client, &server.base, Duration::from_secs(120)).await?;
        measure::create_persons(&client, &server.base, &persons).await
    })?;
    let status = server.stop()?;
    if !status.contains("exit status: 0") {
        problems.push(format!(
            "the setup server stopped with {status} after SIGTERM (expected exit status 0)"
        ));
    }

    // 2. Import.
    eprintln!("[bench] {name}: importing {n} assets");
    let csv = ctx
        .data
        .path
        .to_str()
        .context("the CSV's path is not UTF-8")?;
    let log = ctx.out.join(format!("import-{name}.log"));
    let import_started = chrono::Utc::now();
    let fin = procs::run_measured(&ctx.bin, &["import", csv, "--database", &db], &log)?;
    if !fin.success {
        let err_tail: Vec<&str> = fin.stderr.lines().take(20).collect();
        bail!(
            "custodian import failed ({}) after {:.1} s. Its first error lines:\n{}\nReproduce on a fresh database: {} import {} --database {}\n(full output in {} and {})",
            fin.status,
            fin.wall.as_secs_f64(),
            err_tail.join("\n"),
            ctx.bin.display(),
            csv,
            redact(&db),
            log.with_extension("out").display(),
            log.with_extension("err").display()
        );
    }
    let import_output = fin.stdout.trim().to_string();
    if !import_output.contains(&format!("{n} created")) {
        problems.push(format!(
            "the import said {import_output:?}, expected {n} created"
        ));
    }
    let import_seconds = fin.wall.as_secs_f64();
    eprintln!(
        "[bench] {name}: imported in {import_seconds:.1} s, peak RSS {} MiB",
        fin.peak_rss_kib / 1024
    );
    let (database_bytes, database_wal_bytes) = database_bytes(rt, ctx, b, dir.as_ref());

    // 2b. Replay the audit trail against the register (`audit verify --register`).
    eprintln!("[bench] {name}: audit verify --register");
    let vlog = ctx.out.join(format!("verify-{name}.log"));
    let verified = procs::run_measured(
        &ctx.bin,
        &["audit", "verify", "--register", "--database", &db],
        &vlog,
    )?;
    let verify_output = verified.stdout.trim().to_string();
    if !verify_output.contains(&format!("{n} assets rebuilt")) {
        problems.push(format!(
            "audit verify --register said {verify_output:?} {}, expected {n} assets rebuilt",
            verified.stderr.trim()
        ));
    }
    let verify_seconds = verified.wall.as_secs_f64();
    eprintln!(
        "[bench] {name}: verified the chain and replayed the register in {verify_seconds:.1} s, peak RSS {} MiB",
        verified.peak_rss_kib / 1024
    );

    // 2c. Evaluate every compliance check over the whole register (`compliance run`).
    eprintln!("[bench] {name}: compliance run");
    let clog = ctx.out.join(format!("compliance-{name}.log"));
    let evaluated =
        procs::run_measured(&ctx.bin, &["compliance", "run", "--database", &db], &clog)?;
    let compliance_output = evaluated.stdout.trim().to_string();
    if !compliance_output.contains("full evaluation of") {
        problems.push(format!(
            "compliance run said {compliance_output:?} {}, expected a full evaluation",
            evaluated.stderr.trim()
        ));
    }
    let compliance_seconds = evaluated.wall.as_secs_f64();
    eprintln!(
        "[bench] {name}: evaluated every check in {compliance_seconds:.1} s, peak RSS {} MiB",
        evaluated.peak_rss_kib / 1024
    );

    // 2d. The register report, written whole from the command line, as CSV and as XLSX;
    // and the evidence pack, which holds every report and the whole audit trail.
    let mut register_reports = Vec::new();
    for (kind, format) in [
        ("register", "csv"),
        ("register", "xlsx"),
        ("evidence", "zip"),
    ] {
        eprintln!("[bench] {name}: report {kind} --format {format}");
        let file = ctx.out.join(format!("{kind}-{name}.{format}"));
        let file_s = file.to_string_lossy().to_string();
        let rlog = ctx.out.join(format!("report-{kind}-{format}-{name}.log"));
        let done = procs::run_measured(
            &ctx.bin,
            &[
                "report",
                kind,
                "--format",
                format,
                "--output",
                &file_s,
                "--database",
                &db,
            ],
            &rlog,
        )?;
        let expected = if kind == "evidence" {
            "(verified)".to_string()
        } else {
            format!("{n} rows")
        };
        if !done.stderr.contains(&expected) {
            problems.push(format!(
                "report {kind} --format {format} said {:?}, expected {expected}",
                done.stderr.trim()
            ));
        }
        let size = std::fs::metadata(&file).map(|m| m.len()).ok();
        let _ = std::fs::remove_file(&file);
        eprintln!(
            "[bench] {name}: the {kind} report as {format} in {:.1} s, peak RSS {} MiB",
            done.wall.as_secs_f64(),
            done.peak_rss_kib / 1024
        );
        register_reports.push(RegisterReport {
            kind,
            format,
            seconds: done.wall.as_secs_f64(),
            peak_rss_kib: done.peak_rss_kib,
            bytes: size,
        });
    }

    // 3. Serve the imported register.
    let serve_log = ctx.out.join(format!("serve-{name}.log"));
    let started = Instant::now();
    let mut server = procs::Server::start(&ctx.bin, &db, &serve_log)?;
    let pid = server.pid().context("the server has no process id")?;
    let base = server.base.clone();
    rt.block_on(measure::wait_ready(
        &client,
        &base,
        Duration::from_secs(300),
    ))?;
    let ready_seconds = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(2));
    let idle_rss_kib = procs::proc_status_kib(pid, "VmRSS");
    let counted_assets = rt
        .block_on(measure::asset_count(&client, &base))
        .map_err(|e| problems.push(format!("{e:#}")))
        .ok();
    if let Some(c) = counted_assets {
        if c != n as i64 {
            problems.push(format!("/metrics counts {c} assets after importing {n}"));
        }
    }

    // 4. Reads.
    let deep = custodian_store::Cursor((n as f64 * 0.9) as i64).encode();
    let reads_spec: Vec<(String, String)> = vec![
        ("First page".into(), "/api/v1/assets?limit=50".into()),
        (
            "Deep page (cursor at 90%)".into(),
            format!("/api/v1/assets?limit=50&cursor={deep}"),
        ),
        (
            "Filtered page (kind=data, classification=restricted)".into(),
            "/api/v1/assets?kind=data&classification=restricted&limit=50".into(),
        ),
        (
            format!(
                "Search, selective word \"{}\" ({} matches)",
                gen::SELECTIVE_WORD,
                ctx.data.selective_matches
            ),
            format!("/api/v1/assets?q={}&limit=50", gen::SELECTIVE_WORD),
        ),
        (
            format!(
                "Search, common word \"{}\" ({} matches)",
                gen::COMMON_WORD,
                ctx.data.common_matches
            ),
            format!("/api/v1/assets?q={}&limit=50", gen::COMMON_WORD),
        ),
        (
            "Sorted by name".into(),
            "/api/v1/assets?sort=name&limit=50".into(),
        ),
        (
            "Sorted by next review, filtered (kind=software)".into(),
            "/api/v1/assets?sort=next_review_at&kind=software&limit=50".into(),
        ),
    ];
    let mut reads = Vec::new();
    let mut id_pool: Vec<String> = Vec::new();
    for (label, path) in &reads_spec {
        eprintln!("[bench] {name}: {label}");
        let (r, page) = rt
            .block_on(measure::list_read(
                &client,
                &base,
                label,
                path,
                READ_WARMUP,
                READ_REPS,
            ))
            .map_err(|e| with_log(e, &serve_log))?;
        id_pool.extend(measure::ids_of(&page));
        eprintln!(
            "[bench] {name}:   p50 {:.2} ms, p99 {:.2} ms, {} items",
            r.latency.p50_ms, r.latency.p99_ms, r.items
        );
        reads.push(r);
    }
    check_reads(&reads, &ctx.data, &mut problems);
    // The same lists as web pages, signed in with a browser session.
    let browser = rt.block_on(measure::session_client(&base, BENCH_EMAIL, &password))?;
    let mut pages = Vec::new();
    for (label, path) in &reads_spec {
        let page_path = path
            .replace("/api/v1/assets?limit=50&", "/assets?")
            .replace("/api/v1/assets?", "/assets?")
            .replace("&limit=50", "")
            .replace("?limit=50", "");
        eprintln!("[bench] {name}: web page, {label}");
        let r = rt
            .block_on(measure::page_read(
                &browser,
                &base,
                &format!("Web page: {label}"),
                &page_path,
                READ_WARMUP,
                READ_REPS,
            ))
            .map_err(|e| with_log(e, &serve_log))?;
        eprintln!(
            "[bench] {name}:   p50 {:.2} ms, p99 {:.2} ms, {} rows",
            r.latency.p50_ms, r.latency.p99_ms, r.items
        );
        pages.push(r);
    }
    check_reads(&pages, &ctx.data, &mut problems);
    // Compliance: the findings list, the KPIs and the page.
    let mut compliance_reads = Vec::new();
    for (label, path, web) in [
        (
            "Findings, open, first page",
            "/api/v1/compliance/findings?status=open&limit=50",
            false,
        ),
        (
            "Findings of one check (encrypted)",
            "/api/v1/compliance/findings?check_id=encrypted&limit=50",
            false,
        ),
        (
            "Findings of one control (A.5.9), newest first",
            "/api/v1/compliance/findings?control=A.5.9&order=newest&limit=50",
            false,
        ),
        (
            "KPIs per check, control and framework",
            "/api/v1/compliance/kpis",
            false,
        ),
        ("Web page: compliance", "/compliance", true),
        (
            "Web page: compliance, findings of one check",
            "/compliance?check_id=review_current",
            true,
        ),
    ] {
        eprintln!("[bench] {name}: {label}");
        let r = if web {
            rt.block_on(measure::page_read(
                &browser,
                &base,
                label,
                path,
                READ_WARMUP,
                READ_REPS,
            ))
        } else {
            rt.block_on(measure::list_read(
                &client,
                &base,
                label,
                path,
                READ_WARMUP,
                READ_REPS,
            ))
            .map(|(r, _)| r)
        }
        .map_err(|e| with_log(e, &serve_log))?;
        eprintln!(
            "[bench] {name}:   p50 {:.2} ms, p99 {:.2} ms, {} items",
            r.latency.p50_ms, r.latency.p99_ms, r.items
        );
        compliance_reads.push(r);
    }
    // The register as it stood, rebuilt from the audit trail: as at now (after the
    // import), a deep page, a filtered page, and as at halfway through the import.
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let now_at = stamp(chrono::Utc::now());
    let mid_at =
        stamp(import_started + chrono::Duration::from_std(fin.wall / 2).unwrap_or_default());
    let deep_as_at = rt
        .block_on(async {
            let first = format!("/api/v1/assets?as_at={now_at}&limit=1");
            let (_, page) = measure::list_read(&client, &base, "cut", &first, 1, 0).await?;
            let next = page["next_cursor"]
                .as_str()
                .context("no next page as at now")?;
            let (cut, at, _) = custodian_store::Cursor::decode_cut(next)
                .map_err(|e| anyhow::anyhow!("the as-at cursor {e}"))?;
            let live = format!("/api/v1/assets?limit=1&cursor={deep}");
            let (_, page) = measure::list_read(&client, &base, "deep id", &live, 1, 0).await?;
            let id = measure::ids_of(&page)
                .pop()
                .context("no asset at 90% of the register")?;
            Ok::<_, anyhow::Error>(custodian_store::Cursor::encode_cut(cut, at, &id))
        })
        .map_err(|e| with_log(e, &serve_log))?;
    let mut as_at_reads = Vec::new();
    for (label, path) in [
        (
            "Register as at now (from the audit trail), first page",
            format!("/api/v1/assets?as_at={now_at}&limit=50"),
        ),
        (
            "Register as at now, deep page (at 90%)",
            format!("/api/v1/assets?as_at={now_at}&limit=50&cursor={deep_as_at}"),
        ),
        (
            "Register as at now, filtered (kind=data, classification=restricted)",
            format!("/api/v1/assets?as_at={now_at}&kind=data&classification=restricted&limit=50"),
        ),
        (
            "Register as at halfway through the import, first page",
            format!("/api/v1/assets?as_at={mid_at}&limit=50"),
        ),
    ] {
        eprintln!("[bench] {name}: {label}");
        let (r, _) = rt
            .block_on(measure::list_read(
                &client,
                &base,
                label,
                &path,
                READ_WARMUP,
                READ_REPS,
            ))
            .map_err(|e| with_log(e, &serve_log))?;
        eprintln!(
            "[bench] {name}:   p50 {:.2} ms, p99 {:.2} ms, {} items",
            r.latency.p50_ms, r.latency.p99_ms, r.items
        );
        // A filtered page stops after a bounded number of assets read, with its cursor:
        // it may hold fewer.
        let full = !label.contains("filtered");
        if (full && r.items != 50) || r.items == 0 {
            problems.push(format!("{label}: {} items, expected 50", r.items));
        }
        as_at_reads.push(r);
    }
    // Ids from pages spread over the whole register.
    let spread = rt.block_on(async {
        let mut ids = Vec::new();
        for k in 0..20u64 {
            let cur = custodian_store::Cursor((n * k / 20) as i64).encode();
            let path = format!("/api/v1/assets?limit=50&cursor={cur}");
            let (_, page) = measure::list_read(&client, &base, "ids", &path, 1, 0).await?;
            ids.extend(measure::ids_of(&page));
        }
        Ok::<_, anyhow::Error>(ids)
    });
    id_pool.extend(spread.map_err(|e| with_log(e, &serve_log))?);
    id_pool.sort();
    id_pool.dedup();
    let get_ids = id_pool.len();
    eprintln!(
        "[bench] {name}: GET by id, {WORKERS} clients for {GET_SECONDS} s over {get_ids} ids"
    );
    let get_by_id = rt.block_on(measure::get_by_id(
        &client,
        &base,
        Arc::new(id_pool),
        WORKERS,
        Duration::from_secs(GET_SECONDS),
    ))?;
    note_unexpected("GET by id", &get_by_id, &mut problems);
    eprintln!(
        "[bench] {name}:   {:.0} req/s, {} unexpected answers",
        get_by_id.per_second, get_by_id.unexpected
    );
    server.check_alive()?;

    // 5. Creates.
    eprintln!("[bench] {name}: {SEQ_CREATES} sequential creates");
    let seq_creates = rt.block_on(measure::creates_sequential(
        &client,
        &base,
        &owners,
        SEQ_CREATES,
    ))?;
    note_unexpected("sequential creates", &seq_creates, &mut problems);
    eprintln!(
        "[bench] {name}:   {:.0} req/s, {} unexpected answers",
        seq_creates.per_second, seq_creates.unexpected
    );
    eprintln!("[bench] {name}: {WORKERS} clients × {CONCURRENT_EACH} creates");
    let concurrent_creates = rt.block_on(measure::creates_concurrent(
        &client,
        &base,
        Arc::new(owners.clone()),
        WORKERS,
        CONCURRENT_EACH,
        pid,
    ))?;
    note_unexpected("concurrent creates", &concurrent_creates, &mut problems);
    eprintln!(
        "[bench] {name}:   {:.0} req/s, {} unexpected answers",
        concurrent_creates.per_second, concurrent_creates.unexpected
    );
    server.check_alive()?;
    let final_assets = rt.block_on(measure::asset_count(&client, &base)).ok();
    let expected_final = n as i64
        + seq_creates.statuses.get("201").copied().unwrap_or(0) as i64
        + concurrent_creates.statuses.get("201").copied().unwrap_or(0) as i64;
    if let Some(f) = final_assets {
        if f != expected_final {
            problems.push(format!("/metrics counts {f} assets at the end; expected {expected_final} (import plus 201 answers)"));
        }
    }
    let server_hwm_kib = procs::proc_status_kib(pid, "VmHWM");
    let server_exit = server.stop()?;
    if !server_exit.contains("exit status: 0") {
        problems.push(format!(
            "the server stopped with {server_exit} after SIGTERM (expected exit status 0)"
        ));
    }
    for line in procs::tail(&serve_log, 200)
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("panicked"))
    {
        if problems.len() < 30 {
            problems.push(format!("server log: {line}"));
        }
    }
    if b == Backend::Postgres {
        eprintln!(
            "[bench] {name}: the database {} is left in place for inspection",
            redact(&db)
        );
    }
    drop(dir);
    Ok(Results {
        backend: b,
        assets: n,
        csv_bytes: ctx.data.bytes,
        persons: owners.len(),
        import_seconds,
        import_rows_per_second: n as f64 / import_seconds.max(1e-9),
        import_peak_rss_kib: fin.peak_rss_kib,
        import_output,
        verify_seconds,
        verify_peak_rss_kib: verified.peak_rss_kib,
        verify_output,
        compliance_seconds,
        compliance_peak_rss_kib: evaluated.peak_rss_kib,
        compliance_output,
        register_reports,
        compliance_reads,
        as_at_reads,
        database_bytes,
        database_wal_bytes,
        counted_assets,
        ready_seconds,
        idle_rss_kib,
        reads,
        pages,
        get_by_id,
        get_ids,
        seq_creates,
        concurrent_creates,
        server_hwm_kib,
        server_exit,
        final_assets,
        problems,
    })
}

fn with_log(e: anyhow::Error, log: &Path) -> anyhow::Error {
    let t = procs::tail(log, 10);
    if t.is_empty() {
        e
    } else {
        e.context(format!("the server log {} ends:\n{t}", log.display()))
    }
}

fn note_unexpected(what: &str, l: &Load, problems: &mut Vec<String>) {
    if l.unexpected > 0 {
        problems.push(format!(
            "{what}: {} of {} answers were not the expected status ({:?}); e.g. {}",
            l.unexpected,
            l.requests,
            l.statuses,
            l.samples.join(" | ")
        ));
    }
}

/// Sanity checks of what the reads returned.
fn check_reads(reads: &[ListRead], data: &gen::DataSet, problems: &mut Vec<String>) {
    let expect = [
        50u64,
        50,
        data.filtered_matches.min(50),
        data.selective_matches.min(50),
        data.common_matches.min(50),
    ];
    for (r, e) in reads.iter().zip(expect) {
        if r.items as u64 != e {
            problems.push(format!(
                "{}: {} items on the page, expected {e}",
                r.label, r.items
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn arguments_parse() {
        let a = parse_args(&argv(
            "--backend sqlite --assets 20000 --out /tmp/x --postgres=postgres://a:b@h/db",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(a.backends, vec![Backend::Sqlite]);
        assert_eq!(a.assets, 20_000);
        assert_eq!(a.out, PathBuf::from("/tmp/x"));
        assert_eq!(a.postgres, "postgres://a:b@h/db");
        assert!(parse_args(&argv("--backend mysql")).is_err());
        assert!(parse_args(&argv("--assets")).is_err());
        assert!(parse_args(&argv("--frobnicate")).is_err());
        assert!(parse_args(&argv("--help")).unwrap().is_none());
    }

    #[test]
    fn database_urls_are_rewritten() {
        assert_eq!(
            with_database("postgres://u:p@localhost/postgres", "x").unwrap(),
            "postgres://u:p@localhost/x"
        );
        assert_eq!(
            with_database("postgres://u:p@localhost:5433", "x").unwrap(),
            "postgres://u:p@localhost:5433/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x").unwrap(),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
    }

    #[test]
    fn command_lines_are_quoted() {
        assert_eq!(
            shell_line(&["a".into(), "b c".into(), "it's".into()]),
            "a 'b c' 'it'\\''s'"
        );
    }
}

/// A report written whole from the command line, in one format.
#[derive(Debug)]
pub struct RegisterReport {
    /// `register` or `evidence`.
    pub kind: &'static str,
    /// `csv`, `xlsx` or `zip`.
    pub format: &'static str,
    /// How long it took.
    pub seconds: f64,
    /// The command's peak resident memory.
    pub peak_rss_kib: u64,
    /// The file's size.
    pub bytes: Option<u64>,
}

//! The `custodian` binary as a process: help, migrate, import, export, demo, audit verify.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use serde_json::json;

use custodian_app::{App, Ctx, Settings};
use custodian_store_sql::SqlStore;
use custodian_testkit::TestDb;

crate::on_both!(
    a_level_added_by_another_instance_is_known_at_once,
    import_numbering_continues_and_refusals_store_nothing,
    migrate_is_idempotent,
    import_is_all_or_nothing_and_round_trips,
    audit_verify_detects_alteration,
    audit_verify_detects_removal,
    audit_verify_detects_reordering,
    audit_verify_detects_a_tail_removed_with_the_head_moved,
    audit_verify_detects_an_event_altered_with_hashes_recomputed,
    a_server_refuses_to_extend_a_chain_it_does_not_seal,
    key_rotation_reseals_secrets_and_the_chain,
    audit_verify_register_names_a_row_edited_outside_custodian,
    a_trail_written_before_seals_is_sealed_once_on_request,
    demo_fills_an_empty_register,
    accounts_and_tokens_from_the_command_line
);

fn custodian(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custodian"))
        .args(args)
        .arg("--database")
        .arg(&db.url)
        .env_remove("CUSTODIAN_DATABASE")
        // SQLite keeps its generated key beside the database; PostgreSQL tests share one.
        .env("CUSTODIAN_DATA_DIR", data_dir(db))
        .output()
        .expect("custodian runs")
}

fn data_dir(db: &TestDb) -> std::path::PathBuf {
    if db.backend == "postgres" {
        std::env::temp_dir().join("custodian-test-keys")
    } else {
        std::path::Path::new(&db.url)
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default()
    }
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Services over the test's database, with the key the command line uses.
async fn app(db: &TestDb) -> App {
    let (sealer, _) =
        custodian_app::secrets::Sealer::load_or_create(&data_dir(db).join("custodian.key"))
            .expect("the key");
    let app = App::new(
        Arc::new(SqlStore::open(&db.url).await.expect("open")),
        Settings {
            sealer: Some(sealer),
            ..Settings::default()
        },
    );
    app.ensure_defaults(&Ctx::system()).await.expect("defaults");
    app
}

#[test]
fn every_command_has_help_and_usage_errors_exit_2() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["demo", "--help"],
        &["import", "--help"],
        &["export", "--help"],
        &["audit", "--help"],
        &["audit", "verify", "--help"],
        &["user", "create", "--help"],
        &["token", "create", "--help"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_custodian"))
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("Usage: custodian"),
            "{args:?}"
        );
    }
    for args in [
        &["serve", "--bogus"][..],
        &["import"],
        &["export", "--format", "pdf"],
        &["import", "x.csv", "--match", "colour"],
        &["frobnicate"],
        &["user", "create", "a@b.example", "--role", "king"],
        &[
            "token",
            "create",
            "--user",
            "a@b.example",
            "--expires-in",
            "400",
        ],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_custodian"))
            .args(args)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn user_errors_exit_1_with_one_line() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("c.db");
    let o = Command::new(env!("CARGO_BIN_EXE_custodian"))
        .args(["import", "/no/such/file.csv", "--database"])
        .arg(&db)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: ")
            && err.contains("/no/such/file.csv")
            && err.trim().lines().count() == 1,
        "{err}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_custodian"))
        .args(["serve", "--bind", "nowhere", "--database"])
        .arg(&db)
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--bind"));
    let o = Command::new(env!("CARGO_BIN_EXE_custodian"))
        .args(["migrate", "--database", "mysql://x/y"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_broken_single_sign_on_configuration_stops_serve() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("c.db");
    let serve = |env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_custodian"));
        c.args(["serve", "--bind", "127.0.0.1:0", "--database"])
            .arg(&db);
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().expect("runs");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = serve(&[("CUSTODIAN_OIDC_ISSUER", "https://id.example.com")]);
    assert_eq!(code, Some(1));
    assert!(err.contains("oidc_client_id"), "{err}");
    let (code, err) = serve(&[
        ("CUSTODIAN_OIDC_ISSUER", "http://id.example.com"),
        ("CUSTODIAN_OIDC_CLIENT_ID", "custodian"),
        ("CUSTODIAN_OIDC_CLIENT_SECRET", "do-not-print-this-secret"),
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("https"), "{err}");
    assert!(!err.contains("do-not-print-this-secret"), "{err}");
}

#[test]
fn serve_answers_on_the_address_it_prints() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_custodian"))
        .args(["serve", "--bind", "127.0.0.1:0", "--database"])
        .arg(dir.path().join("c.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    for _ in 0..6 {
        let mut line = String::new();
        out.read_line(&mut line).expect("a line");
        lines.push(line);
    }
    let url = lines[0]
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("an address")
        .trim_end_matches('/')
        .to_string();
    let body = reqwest::blocking_get(&format!("{url}/healthz"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(body.contains("ok"), "{body}");
    // With no accounts yet, it says how to create the first admin, with a one-time token.
    let text = lines.concat();
    assert!(text.contains("No accounts exist yet"), "{text}");
    assert!(text.contains(&format!("{url}/api/v1/setup")), "{text}");
    assert!(text.contains("\"token\": \""), "{text}");
}

mod reqwest {
    /// A minimal blocking GET over a plain TCP socket (the tests' async client needs a runtime).
    pub fn blocking_get(url: &str) -> String {
        use std::io::{Read, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest
            .split_once('/')
            .map(|(h, p)| (h, format!("/{p}")))
            .unwrap_or((rest, "/".into()));
        let mut s = std::net::TcpStream::connect(host).expect("connect");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    }
}

async fn migrate_is_idempotent(backend: &str) {
    let db = TestDb::new(backend).await;
    let o = custodian(&db, &["migrate"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).0.contains("Migrated"), "{:?}", text(&o));
    let o = custodian(&db, &["migrate"]);
    assert!(text(&o).0.contains("up to date"), "{:?}", text(&o));
}

async fn import_is_all_or_nothing_and_round_trips(backend: &str) {
    let db = TestDb::new(backend).await;
    let app = app(&db).await;
    let ctx = Ctx::system();
    app.create_party(
        &ctx,
        json!({"kind": "person", "name": "Ada Lovelace", "email": "ada@example.com"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    )
    .await
    .expect("person");
    let dir = tempfile::tempdir().expect("dir");
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "kind,name,owner_id,importance,classification,serial_number,tags\n\
         physical,Laptop 1,ada@example.com,high,confidential,SN-1,fleet;laptop\n\
         physical,,ada@example.com,high,confidential,SN-2,\n\
         physical,Laptop 3,ada@example.com,urgent,confidential,SN-3,\n\
         physical,Laptop 4,nobody@example.com,low,public,SN-4,\n",
    )
    .expect("write");
    let o = custodian(&db, &["import", bad.to_str().expect("path")]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("row 3, name"), "{err}");
    assert!(err.contains("row 4, importance"), "{err}");
    assert!(err.contains("row 5, owner_id"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(app.store().count_assets().await.expect("count"), 0);
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "kind,name,owner_id,importance,classification,serial_number,tags,encrypted\n\
         physical,Laptop 1,ada@example.com,high,confidential,SN-1,fleet;laptop,true\n\
         physical,Laptop 2,Ada Lovelace,low,internal,SN-2,,no\n",
    )
    .expect("write");
    let o = custodian(&db, &["import", good.to_str().expect("path"), "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).0.contains("Dry run"), "{:?}", text(&o));
    assert_eq!(app.store().count_assets().await.expect("count"), 0);
    let o = custodian(&db, &["import", good.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).0.contains("2 created"), "{:?}", text(&o));
    assert_eq!(app.store().count_assets().await.expect("count"), 2);
    // Export, then re-import matching on asset_number: nothing changes.
    let out = dir.path().join("export.csv");
    let o = custodian(&db, &["export", "--output", out.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = custodian(
        &db,
        &[
            "import",
            out.to_str().expect("path"),
            "--match",
            "asset_number",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(
        text(&o).0.contains("0 created, 0 updated, 2 unchanged"),
        "{:?}",
        text(&o)
    );
    // As at a time before the import, the register was empty; as at now it is the
    // register, rebuilt from the audit trail; a time that is not one is refused.
    let o = custodian(&db, &["export", "--as-at", "2000-01-01"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).1.contains("Exported 0 assets"), "{:?}", text(&o));
    let now = chrono::Utc::now().to_rfc3339();
    let o = custodian(&db, &["export", "--as-at", &now]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).1.contains("Exported 2 assets"), "{:?}", text(&o));
    let o = custodian(&db, &["export", "--as-at", "last tuesday"]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(text(&o).1.contains("--as-at"), "{:?}", text(&o));
    // A sample: auto takes all of two; the same seed draws the same; a bad size is named.
    let o = custodian(&db, &["sample", "assets", "--seed", "s-1"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(text(&o).0.lines().count(), 2, "{:?}", text(&o));
    assert!(text(&o).1.contains("2 of 2 assets"), "{:?}", text(&o));
    let again = custodian(&db, &["sample", "assets", "--seed", "s-1", "--size", "1"]);
    assert_eq!(again.status.code(), Some(0), "{:?}", text(&again));
    assert_eq!(
        text(&again).0.lines().next(),
        text(&o).0.lines().next(),
        "the first drawn is the same"
    );
    let bad = custodian(&db, &["sample", "assets", "--seed", "s-1", "--size", "0"]);
    assert_eq!(bad.status.code(), Some(1), "{:?}", text(&bad));
    assert!(text(&bad).1.contains("--size"), "{:?}", text(&bad));
    // A report: the register as CSV with readable headings, and as it stood, empty.
    let o = custodian(&db, &["report", "register"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(
        text(&o).0.starts_with("Asset number,Name,Kind,Owner"),
        "{:?}",
        text(&o)
    );
    assert!(
        text(&o).1.contains("Wrote the register report: 2 rows"),
        "{:?}",
        text(&o)
    );
    let o = custodian(
        &db,
        &[
            "report",
            "licences",
            "--format",
            "json",
            "--as-at",
            "2000-01-01",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let doc: serde_json::Value = serde_json::from_str(&text(&o).0).expect("JSON");
    assert_eq!(doc["rows"], serde_json::json!([]));
    let book = dir.path().join("register.xlsx");
    let o = custodian(
        &db,
        &[
            "report",
            "register",
            "--format",
            "xlsx",
            "--output",
            book.to_str().expect("path"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let bytes = std::fs::read(&book).expect("the workbook");
    assert!(bytes.starts_with(b"PK\x03\x04"), "a zip");
    let o = custodian(&db, &["report", "invoices"]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    // Ids match whatever their case.
    let upper = dir.path().join("upper.csv");
    let exported = std::fs::read_to_string(&out).expect("read");
    let mut upper_ids = String::new();
    for (i, l) in exported.lines().enumerate() {
        let (id, rest) = l.split_once(',').unwrap_or((l, ""));
        let id = if i == 0 {
            id.to_string()
        } else {
            id.to_uppercase()
        };
        upper_ids.push_str(&format!("{id},{rest}\n"));
    }
    std::fs::write(&upper, upper_ids).expect("write");
    let o = custodian(
        &db,
        &["import", upper.to_str().expect("path"), "--match", "id"],
    );
    assert!(
        text(&o).0.contains("0 created, 0 updated, 2 unchanged"),
        "{:?}",
        text(&o)
    );
    let o = custodian(&db, &["import", out.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).1.contains("--match asset_number"),
        "{:?}",
        text(&o)
    );
    // JSON Lines export re-imports with a serial-number match, changing what differs.
    let jl = dir.path().join("export.jsonl");
    custodian(
        &db,
        &[
            "export",
            "--format",
            "jsonl",
            "--output",
            jl.to_str().expect("path"),
        ],
    );
    let changed = std::fs::read_to_string(&jl)
        .expect("read")
        .replace("Laptop 2", "Laptop Two");
    std::fs::write(&jl, changed).expect("write");
    let o = custodian(
        &db,
        &[
            "import",
            jl.to_str().expect("path"),
            "--match",
            "serial_number",
        ],
    );
    assert!(
        text(&o).0.contains("0 created, 1 updated, 1 unchanged"),
        "{:?}",
        text(&o)
    );
    let o = custodian(&db, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

/// A register with a few events, for tampering.
async fn with_events(backend: &str) -> TestDb {
    let db = TestDb::new(backend).await;
    let app = app(&db).await;
    let ctx = Ctx::system();
    let p = app
        .create_party(
            &ctx,
            json!({"kind": "person", "name": "Ada", "email": "ada@example.com"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .await
        .expect("person");
    for i in 0..3 {
        let a = json!({"kind": "physical", "name": format!("L{i}"), "owner_id": p.id, "importance": "low", "classification": "public"});
        app.create_asset(&ctx, a.as_object().cloned().unwrap_or_default())
            .await
            .expect("asset");
    }
    let o = custodian(&db, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(text(&o).0.contains("intact: 8 events"), "{:?}", text(&o));
    db
}

fn unlock(backend: &str) -> &'static str {
    if backend == "postgres" {
        "ALTER TABLE audit_events DISABLE TRIGGER USER;"
    } else {
        "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;"
    }
}

fn assert_broken_at(db: &TestDb, seq: i64) {
    let o = custodian(db, &["audit", "verify"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("broken at event {seq}")), "{err}");
}

async fn audit_verify_detects_alteration(backend: &str) {
    let db = with_events(backend).await;
    db.execute(&format!(
        "{} UPDATE audit_events SET changes = replace(changes, 'L1', 'L9') WHERE seq = 7;",
        unlock(backend)
    ))
    .await
    .expect("tamper");
    assert_broken_at(&db, 7);
}

async fn audit_verify_detects_removal(backend: &str) {
    let db = with_events(backend).await;
    db.execute(&format!(
        "{} DELETE FROM audit_events WHERE seq = 6;",
        unlock(backend)
    ))
    .await
    .expect("tamper");
    assert_broken_at(&db, 6);
    // Removing the newest events is found too, from the recorded head of the chain.
    let db = with_events(backend).await;
    db.execute(&format!(
        "{} DELETE FROM audit_events WHERE seq = 8;",
        unlock(backend)
    ))
    .await
    .expect("tamper");
    assert_broken_at(&db, 8);
}

async fn audit_verify_detects_reordering(backend: &str) {
    let db = with_events(backend).await;
    db.execute(&format!("{} UPDATE audit_events SET seq = -1 WHERE seq = 5; UPDATE audit_events SET seq = 5 WHERE seq = 6; UPDATE audit_events SET seq = 6 WHERE seq = -1;", unlock(backend)))
        .await
        .expect("tamper");
    assert_broken_at(&db, 5);
}

/// SQL text for a string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The events as stored.
async fn events(db: &TestDb) -> Vec<custodian_domain::audit::Event> {
    use custodian_store::prelude::*;
    let store = SqlStore::connect(&db.url).await.expect("connect");
    let events = store.events_after(0, 1000).await.expect("events");
    store.close().await;
    events
}

fn assert_broken_with(db: &TestDb, seq: i64, words: &str) {
    let o = custodian(db, &["audit", "verify"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("broken at event {seq}")), "{err}");
    assert!(err.contains(words), "{err}");
}

/// Whoever can write the database deletes the newest events and moves the head back to
/// match; the head's seal, which only the key can make, gives it away.
async fn audit_verify_detects_a_tail_removed_with_the_head_moved(backend: &str) {
    for remove_seals in [true, false] {
        let db = with_events(backend).await;
        let six = events(&db).await.remove(5);
        assert_eq!(six.seq, 6);
        let seals = if remove_seals {
            "DELETE FROM audit_seals WHERE seq > 6;"
        } else {
            ""
        };
        db.execute(&format!(
            "{} DELETE FROM audit_events WHERE seq > 6; {seals} UPDATE audit_head SET seq = 6, hash = {} WHERE id = 1;",
            unlock(backend),
            lit(&six.hash)
        ))
        .await
        .expect("tamper");
        if remove_seals {
            assert_broken_with(&db, 6, "events after event 6 were removed");
        } else {
            assert_broken_with(&db, 7, "a seal names event 7");
        }
    }
}

/// An event is altered and every later hash recomputed (plain SHA-256, which anyone can
/// compute): the chain links, but the checkpoint seal of the altered change does not match.
async fn audit_verify_detects_an_event_altered_with_hashes_recomputed(backend: &str) {
    let db = with_events(backend).await;
    let mut evs = events(&db).await;
    let mut sql = unlock(backend).to_string();
    let mut prev = evs[5].hash.clone();
    for e in evs.iter_mut().skip(6) {
        if e.seq == 7 {
            e.changes = e.changes.replace("L1", "L9");
        }
        e.prev_hash = prev.clone();
        e.hash = e.expected_hash();
        prev = e.hash.clone();
        sql.push_str(&format!(
            " UPDATE audit_events SET changes = {}, prev_hash = {}, hash = {} WHERE seq = {};",
            lit(&e.changes),
            lit(&e.prev_hash),
            lit(&e.hash),
            e.seq
        ));
    }
    sql.push_str(&format!(
        " UPDATE audit_head SET hash = {} WHERE id = 1;",
        lit(&prev)
    ));
    db.execute(&sql).await.expect("tamper");
    assert_broken_with(&db, 7, "altered and the later hashes recomputed");
}

/// `audit verify --register` replays the trail and names the first asset whose stored row
/// differs: a direct `UPDATE` leaves the chain intact but not the register.
async fn audit_verify_register_names_a_row_edited_outside_custodian(backend: &str) {
    let db = with_events(backend).await;
    let o = custodian(&db, &["audit", "verify", "--register"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("3 assets rebuilt"), "{out}");
    db.execute("UPDATE assets SET classification = 'internal' WHERE name = 'L1'")
        .await
        .expect("tamper");
    let o = custodian(&db, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "the chain itself is intact");
    let o = custodian(&db, &["audit", "verify", "--register"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("differs from its audit trail at asset AST-"),
        "{err}"
    );
    assert!(
        err.contains(
            "classification is \"internal\" in the register, but the audit trail gives \"public\""
        ),
        "{err}"
    );
    // Any field: here a name.
    let db = with_events(backend).await;
    db.execute("UPDATE assets SET name = name || ' (copy)' WHERE name = 'L2'")
        .await
        .expect("tamper");
    let o = custodian(&db, &["audit", "verify", "--register"]);
    assert!(
        text(&o).1.contains("name is \"L2 (copy)\""),
        "{:?}",
        text(&o)
    );
}

/// A register written before seals (simulated by taking its seals away) is not sealed by
/// whatever process comes next: the server refuses to start until `custodian audit seal`
/// has checked the trail and sealed its head, once. A head that lost its seal while
/// checkpoints remain is tampering, and is not sealed.
async fn a_trail_written_before_seals_is_sealed_once_on_request(backend: &str) {
    let db = with_events(backend).await;
    db.execute(
        "UPDATE audit_head SET key_id = NULL, seal = NULL WHERE id = 1; DELETE FROM audit_seals",
    )
    .await
    .expect("an old register");
    let o = custodian(&db, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).1.contains("custodian audit seal"),
        "{:?}",
        text(&o)
    );
    let o = custodian(&db, &["serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).1.contains("custodian audit seal"),
        "{:?}",
        text(&o)
    );
    let o = custodian(&db, &["audit", "seal"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("event 8"), "{out}");
    let o = custodian(&db, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = custodian(&db, &["audit", "seal"]);
    assert_eq!(o.status.code(), Some(1), "only once");
    // A head whose seal was removed while its checkpoints remain is not an old register.
    let db = with_events(backend).await;
    db.execute("UPDATE audit_head SET key_id = NULL, seal = NULL WHERE id = 1")
        .await
        .expect("tamper");
    let o = custodian(&db, &["audit", "seal"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("tampering"), "{:?}", text(&o));
    // Nor may a seal in the middle go missing unnoticed.
    let db = with_events(backend).await;
    db.execute("DELETE FROM audit_seals WHERE seq = 6")
        .await
        .expect("tamper");
    assert_broken_with(&db, 6, "a seal before it was removed");
}

/// A server never seals over a head it cannot vouch for: it would bless the tampering.
async fn a_server_refuses_to_extend_a_chain_it_does_not_seal(backend: &str) {
    let db = with_events(backend).await;
    let six = events(&db).await.remove(5);
    db.execute(&format!(
        "{} DELETE FROM audit_events WHERE seq > 6; DELETE FROM audit_seals WHERE seq > 6; UPDATE audit_head SET seq = 6, hash = {} WHERE id = 1;",
        unlock(backend),
        lit(&six.hash)
    ))
    .await
    .expect("tamper");
    let app = app(&db).await;
    let err = app
        .create_party(
            &Ctx::system(),
            json!({"kind": "team", "name": "After"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("does not match"), "{err}");
    assert_eq!(events(&db).await.len(), 6, "nothing was written");
}

/// `custodian key rotate` reseals every secret and seal under a new key, in one audited
/// change; the old key is kept aside for older backups.
async fn key_rotation_reseals_secrets_and_the_chain(backend: &str) {
    let db = TestDb::new(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let key_file = dir.path().join("custodian.key");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_custodian"))
            .args(args)
            .arg("--database")
            .arg(&db.url)
            .env_remove("CUSTODIAN_DATABASE")
            .env_remove("CUSTODIAN_SECRET_KEY")
            .env("CUSTODIAN_DATA_DIR", dir.path())
            .output()
            .expect("custodian runs")
    };
    let o = run(&["migrate"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let open = |path: &std::path::Path| {
        custodian_app::secrets::Sealer::load_or_create(path)
            .expect("key")
            .0
    };
    let old = open(&key_file);
    let with_key = |sealer: custodian_app::secrets::Sealer| {
        let url = db.url.clone();
        async move {
            let app = App::new(
                Arc::new(SqlStore::open(&url).await.expect("open")),
                Settings {
                    sealer: Some(sealer),
                    ..Settings::default()
                },
            );
            app.ensure_defaults(&Ctx::system()).await.expect("defaults");
            app
        }
    };
    let app = with_key(old.clone()).await;
    let ctx = Ctx::system();
    let owner = app
        .create_party(
            &ctx,
            json!({"kind": "team", "name": "IT"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .await
        .expect("team");
    let sw = app
        .create_asset(
            &ctx,
            json!({"kind": "software", "name": "Editor", "owner_id": owner.id, "importance": "low",
                   "classification": "internal", "licence_key": "KEY-1234-5678"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        )
        .await
        .expect("software");
    drop(app);

    let o = run(&["key", "rotate"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("Resealed 1 licence keys"), "{out}");
    let new = open(&key_file);
    assert_ne!(new.key_id(), old.key_id());
    let retired = dir
        .path()
        .join(format!("custodian.key.{}.retired", old.key_id()));
    assert_eq!(
        open(&retired).key_id(),
        old.key_id(),
        "the old key is kept aside"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file).expect("key").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // Everything verifies and opens under the new key, and the rotation is an event.
    let o = run(&["audit", "verify"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains(&format!("under key {}", new.key_id())),
        "{out}"
    );
    let app = with_key(new.clone()).await;
    let revealed = app
        .reveal_secret(&ctx, sw.asset.id, Some("licence_key"))
        .await
        .expect("reveal");
    assert_eq!(revealed.value, "KEY-1234-5678");
    let last = events(&db)
        .await
        .into_iter()
        .rev()
        .find(|e| e.action == "key.rotated");
    let last = last.expect("a key.rotated event");
    assert!(last.changes.contains(&old.key_id()) && last.changes.contains(&new.key_id()));
    assert!(!last.changes.contains("KEY-1234"), "no secret in the trail");
    // The asset's version is unchanged: its values are the same.
    let after = app.get_asset(&ctx, sw.asset.id).await.expect("asset");
    assert_eq!(after.asset.version, sw.asset.version);
    drop(app);

    // The old key no longer extends the chain.
    let app = with_key(old).await;
    let err = app
        .create_party(
            &ctx,
            json!({"kind": "team", "name": "Late"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        )
        .await
        .expect_err("refused under the old key");
    assert!(err.to_string().contains("sealed under key"), "{err}");
}

async fn demo_fills_an_empty_register(backend: &str) {
    let db = TestDb::new(backend).await;
    let o = custodian(&db, &["demo"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = custodian(&db, &["demo"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a second run is refused: {:?}",
        text(&o)
    );
    // Every change the demo made is in the trail, field by field.
    let o = custodian(&db, &["audit", "verify", "--register"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    // The person in notice and the leaver each have an offboarding case to work through.
    let cases = app(&db)
        .await
        .list_offboardings(
            &Ctx::system(),
            custodian_store::OffboardingQuery {
                limit: 10,
                status: Some(custodian_domain::offboarding::CaseStatus::Open),
                ..Default::default()
            },
        )
        .await
        .expect("cases");
    assert_eq!(cases.items.len(), 2, "{:?}", cases.items);
    assert!(cases.items.iter().all(|c| c.items.len() > 1));
}

async fn a_level_added_by_another_instance_is_known_at_once(backend: &str) {
    let db = TestDb::new(backend).await;
    let (first, second) = (app(&db).await, app(&db).await);
    let ctx = Ctx::system();
    let obj = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    let p = first
        .create_party(
            &ctx,
            obj(json!({"kind": "person", "name": "Ada", "email": "ada@example.com"})),
        )
        .await
        .expect("person");
    let asset = |class: &str| {
        obj(
            json!({"kind": "physical", "name": "L", "owner_id": p.id, "importance": "low", "classification": class}),
        )
    };
    first
        .create_asset(&ctx, asset("public"))
        .await
        .expect("warms the first instance's cache");
    second
        .create_classification(
            &ctx,
            obj(json!({"key": "secret", "name": "Secret", "rank": 9})),
        )
        .await
        .expect("level");
    let a = first
        .create_asset(&ctx, asset("secret"))
        .await
        .expect("the new level is accepted at once");
    assert_eq!(a.asset.classification, "secret");
}

async fn import_numbering_continues_and_refusals_store_nothing(backend: &str) {
    let db = TestDb::new(backend).await;
    let app = app(&db).await;
    let ctx = Ctx::system();
    let obj = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    app.create_party(
        &ctx,
        obj(json!({"kind": "person", "name": "Ada", "email": "ada@example.com"})),
    )
    .await
    .expect("person");
    let dir = tempfile::tempdir().expect("dir");
    let csv = dir.path().join("a.csv");
    // Row 5 gives by hand a number the automatic numbering would reach.
    std::fs::write(
        &csv,
        "kind,name,owner_id,importance,classification,asset_number\n\
         physical,A,ada@example.com,low,public,\n\
         physical,B,ada@example.com,low,public,\n\
         physical,C,ada@example.com,low,public,\n\
         physical,D,ada@example.com,low,public,AST-000002\n",
    )
    .expect("write");
    let o = custodian(&db, &["import", csv.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let mut numbers: Vec<String> = app
        .list_assets(
            &ctx,
            &custodian_store::AssetQuery {
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .expect("list")
        .items
        .iter()
        .map(|v| v.asset.asset_number.clone())
        .collect();
    numbers.sort();
    assert_eq!(
        numbers,
        ["AST-000001", "AST-000002", "AST-000003", "AST-000004"]
    );
    // The block reserved for the import was given back: numbering goes on without a gap.
    let next = app.create_asset(&ctx, obj(json!({"kind": "physical", "name": "E", "owner_id": app.list_parties(&ctx, &Default::default()).await.expect("parties").items[0].id, "importance": "low", "classification": "public"}))).await.expect("create");
    assert_eq!(next.asset.asset_number, "AST-000005");
    // Two rows claiming the same external id pass validation but not the database:
    // the import is refused and stores nothing.
    let clash = dir.path().join("clash.csv");
    std::fs::write(
        &clash,
        "kind,name,owner_id,importance,classification,external_ids.mdm\n\
         physical,F,ada@example.com,low,public,M-1\n\
         physical,G,ada@example.com,low,public,M-1\n",
    )
    .expect("write");
    let o = custodian(&db, &["import", clash.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(text(&o).1.contains("refused"), "{:?}", text(&o));
    assert_eq!(app.store().count_assets().await.expect("count"), 5);
    let o = custodian(&db, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

async fn accounts_and_tokens_from_the_command_line(backend: &str) {
    let db = TestDb::new(backend).await;
    // The demo gives each persona an account and says how to sign in.
    let o = custodian(&db, &["demo"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    for role in ["admin", "manager", "auditor", "member"] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(role) && l.contains('@')),
            "no {role} account in {out}"
        );
    }
    let o = custodian(
        &db,
        &["user", "create", "Kim@Example.org", "--role", "auditor"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("auditor account kim@example.org"), "{out}");
    let o = custodian(
        &db,
        &["user", "create", "kim@example.org", "--role", "member"],
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "a second account for one address is refused"
    );
    assert!(text(&o).1.contains("email"), "{:?}", text(&o));

    let o = custodian(
        &db,
        &[
            "token",
            "create",
            "--user",
            "kim@example.org",
            "--expires-in",
            "3",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let token = out.lines().last().expect("a last line").trim().to_string();
    assert!(token.starts_with("cust_") && !token.contains(' '), "{out}");
    let o = custodian(&db, &["token", "create", "--user", "nobody@example.org"]);
    assert_eq!(o.status.code(), Some(1));

    // The token works against a server on the same database.
    let app = app(&db).await;
    let p = app
        .token_principal(&token)
        .await
        .expect("lookup")
        .expect("valid");
    assert_eq!(p.scope, custodian_domain::access::Scope::Read);
    assert_eq!(p.role, custodian_domain::access::Role::Auditor);

    // The generated secret key is private to its owner.
    let key = data_dir(&db).join("custodian.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key).expect("the key file").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "{}", key.display());
}

//! Exports, and the round trip back through the importer.

use serde_json::json;

use custodian_app::import::ImportOptions;
use custodian_app::{App, Ctx};
use custodian_domain::asset::AssetKind;
use custodian_io::export::{write_assets, Format, Selection};
use custodian_io::read::{csv_rows, jsonl_rows};
use custodian_store::MatchKey;

use crate::{all_assets, app, obj};

async fn export(app: &App, format: Format, kind: Option<AssetKind>) -> (u64, String) {
    export_as_at(app, format, kind, None).await
}

async fn export_as_at(
    app: &App,
    format: Format,
    kind: Option<AssetKind>,
    as_at: Option<chrono::DateTime<chrono::Utc>>,
) -> (u64, String) {
    let mut out: Vec<u8> = Vec::new();
    let n = write_assets(
        app,
        &Ctx::system(),
        format,
        Selection { kind, as_at },
        &mut out,
    )
    .await
    .expect("export");
    (n, String::from_utf8(out).expect("exports are UTF-8"))
}

fn by_number() -> ImportOptions {
    ImportOptions {
        match_key: Some(MatchKey::AssetNumber),
        dry_run: false,
    }
}

/// Exports the demo register and imports it back: nothing may be created or changed.
async fn round_trip(backend: &str) {
    let (app, _db) = app(backend).await;
    let ctx = Ctx::system();
    custodian_io::demo::populate(&app, &ctx)
        .await
        .expect("demo data");
    let before = all_assets(&app).await;
    let total = before.len() as u64;

    let (n, csv) = export(&app, Format::Csv, None).await;
    assert_eq!(n, total);
    let report = app
        .import_assets(&ctx, csv_rows(csv.as_bytes()), by_number())
        .await
        .expect("import");
    assert!(
        report.errors.is_empty(),
        "{backend}: {:#?}",
        &report.errors[..report.errors.len().min(10)]
    );
    assert_eq!(
        (report.rows, report.created, report.updated),
        (total, 0, 0),
        "{backend}: {:?}",
        report.changes
    );
    assert_eq!(report.unchanged, total);

    let (n, jsonl) = export(&app, Format::Jsonl, None).await;
    assert_eq!(n, total);
    let report = app
        .import_assets(&ctx, jsonl_rows(jsonl.as_bytes()), by_number())
        .await
        .expect("import");
    assert!(
        report.errors.is_empty(),
        "{backend}: {:#?}",
        &report.errors[..report.errors.len().min(10)]
    );
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 0, total),
        "{backend}: {:?}",
        report.changes
    );

    // The register as at now, rebuilt from the audit trail, is the register: the demo's
    // every create, change, transition, disposal and custody replays to what is stored.
    let (n, replayed) =
        export_as_at(&app, Format::Jsonl, None, Some(custodian_domain::now())).await;
    assert_eq!(n, total);
    let sorted = |t: &str| {
        let mut l: Vec<String> = t.lines().map(str::to_string).collect();
        l.sort();
        l
    };
    let (replayed, stored) = (sorted(&replayed), sorted(&jsonl));
    let differ: Vec<(&String, &String)> = replayed
        .iter()
        .zip(&stored)
        .filter(|(a, b)| a != b)
        .collect();
    assert!(
        differ.is_empty(),
        "{backend}: {} assets replay otherwise than stored, first:\n{:?}",
        differ.len(),
        differ.first()
    );

    let after = all_assets(&app).await;
    let versions = |v: &[custodian_app::assets::AssetView]| {
        v.iter()
            .map(|a| (a.asset.id, a.asset.version))
            .collect::<Vec<_>>()
    };
    assert_eq!(versions(&before), versions(&after), "no record was touched");
}

#[tokio::test]
async fn an_export_reimports_without_changes_on_sqlite() {
    round_trip("sqlite").await;
}

#[tokio::test]
async fn an_export_reimports_without_changes_on_postgres() {
    round_trip("postgres").await;
}

async fn owner(app: &App) -> String {
    let p = app
        .create_party(
            &Ctx::system(),
            obj(json!({"kind": "person", "name": "Ada", "email": "ada@example.com"})),
        )
        .await
        .expect("person");
    p.id.to_string()
}

#[tokio::test]
async fn licence_keys_never_leave_the_register() {
    let (app, _db) = app("sqlite").await;
    let owner = owner(&app).await;
    app.create_asset(
        &Ctx::system(),
        obj(json!({
            "kind": "software", "name": "CAD suite", "owner_id": owner, "importance": "high",
            "classification": "internal", "licence_model": "perpetual", "licence_key": "KEY-SECRET-4242",
        })),
    )
    .await
    .expect("asset");
    for (format, kind) in [
        (Format::Csv, None),
        (Format::Csv, Some(AssetKind::Software)),
        (Format::Jsonl, None),
    ] {
        let (n, out) = export(&app, format, kind).await;
        assert_eq!(n, 1);
        assert!(!out.contains("KEY-SECRET-4242"), "{format:?}: {out}");
        if format == Format::Csv {
            let header = out.lines().next().expect("header");
            assert!(!header.split(',').any(|c| c == "licence_key"), "{header}");
        }
    }
}

#[tokio::test]
async fn cells_that_a_spreadsheet_would_run_are_defused_and_restored() {
    let (app, _db) = app("sqlite").await;
    let ctx = Ctx::system();
    let owner = owner(&app).await;
    app.create_asset(
        &ctx,
        obj(json!({
            "kind": "physical", "name": "=HYPERLINK(\"http://evil.example\",\"Click\")", "owner_id": owner,
            "importance": "low", "classification": "internal", "description": "@SUM(A1:A9)",
            "tags": ["-1+1", "plain"], "function": "+cmd|' /C calc'!A0", "model": "'=already quoted",
            "external_ids": {"mdm": "=ID"},
        })),
    )
    .await
    .expect("asset");
    let (_, csv) = export(&app, Format::Csv, None).await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().expect("header").clone();
    let record = reader.records().next().expect("a row").expect("valid CSV");
    let cell = |name: &str| {
        record
            .get(header.iter().position(|h| h == name).expect(name))
            .expect(name)
            .to_string()
    };
    assert_eq!(
        cell("name"),
        "'=HYPERLINK(\"http://evil.example\",\"Click\")"
    );
    assert_eq!(cell("description"), "'@SUM(A1:A9)");
    assert_eq!(cell("tags"), "'-1+1; plain");
    assert_eq!(cell("function"), "'+cmd|' /C calc'!A0");
    assert_eq!(cell("model"), "''=already quoted");
    for (i, c) in record.iter().enumerate() {
        assert!(
            !c.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "column {} starts a formula: {c}",
            &header[i]
        );
    }
    let report = app
        .import_assets(&ctx, csv_rows(csv.as_bytes()), by_number())
        .await
        .expect("import");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        (report.updated, report.unchanged),
        (0, 1),
        "{:?}",
        report.changes
    );
}

#[tokio::test]
async fn an_export_of_one_kind_has_that_kinds_columns() {
    let (app, _db) = app("sqlite").await;
    let ctx = Ctx::system();
    let owner = owner(&app).await;
    app.create_custom_field(
        &ctx,
        obj(json!({"entity_type": "asset", "key": "tier", "label": "Tier", "field_type": "number", "asset_kinds": ["service"]})),
    )
    .await
    .expect("custom field");
    for (kind, name) in [
        ("service", "Chat"),
        ("physical", "Laptop"),
        ("service", "Mail"),
    ] {
        app.create_asset(
            &ctx,
            obj(json!({"kind": kind, "name": name, "owner_id": owner, "importance": "low", "classification": "internal"})),
        )
        .await
        .expect("asset");
    }
    let (n, csv) = export(&app, Format::Csv, Some(AssetKind::Service)).await;
    assert_eq!(n, 2);
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    assert_eq!(&header[..3], ["id", "asset_number", "kind"]);
    for c in [
        "provider",
        "url",
        "sso_enabled",
        "custom.tier",
        "external_ids",
    ] {
        assert!(header.contains(&c), "{c} missing from {header:?}");
    }
    assert!(!header.contains(&"serial_number"));
    let (_, all) = export(&app, Format::Csv, None).await;
    let header: Vec<&str> = all.lines().next().expect("header").split(',').collect();
    assert!(
        header.contains(&"serial_number")
            && header.contains(&"expires_at")
            && header.contains(&"custom.tier")
    );
    assert!(!header.contains(&"licence_key"));
    let (n, jsonl) = export(&app, Format::Jsonl, Some(AssetKind::Physical)).await;
    assert_eq!(n, 1);
    let v: serde_json::Value = serde_json::from_str(jsonl.trim_end()).expect("one object");
    assert_eq!(v["name"], json!("Laptop"));
}

//! The deterministic data set: the persons who own assets and a CSV of N assets.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Value};

/// Bumped whenever the generated rows change, so that an old file is not reused.
const GENERATOR_VERSION: u64 = 1;
const SEED: u64 = 0x0C05_70D1_A2B3_C4D5;

/// The number of persons created before the import.
pub const PERSONS: usize = 200;

/// A word that starts a word of few assets (about one in 10,000).
pub const SELECTIVE_WORD: &str = "zebra";
/// A word that starts a word of many assets (about one in six).
pub const COMMON_WORD: &str = "thinkpad";

/// Assets that get the selective device: every `RARE_EVERY`th row.
const RARE_EVERY: u64 = 10_007;

/// What the bench needs to know about a generated file.
#[derive(Clone, Debug)]
pub struct DataSet {
    pub path: PathBuf,
    pub assets: u64,
    pub bytes: u64,
    pub selective_matches: u64,
    pub common_matches: u64,
    pub filtered_matches: u64,
    pub reused: bool,
}

/// A small, fast, deterministic generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        (((self.next_u64() >> 11) as u128 * n as u128) >> 53) as u64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Picks by weight from `(weight, item)` pairs.
    pub fn weighted<'a, T>(&mut self, items: &'a [(u32, T)]) -> &'a T {
        let total: u64 = items.iter().map(|(w, _)| *w as u64).sum();
        let mut r = self.below(total);
        for (w, item) in items {
            if r < *w as u64 {
                return item;
            }
            r -= *w as u64;
        }
        &items[items.len() - 1].1
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A bijection on `u32`, so that serial numbers derived from distinct rows stay distinct.
fn scramble(x: u32) -> u32 {
    let mut x = x.wrapping_mul(0x9E37_79B1);
    x ^= x >> 15;
    x = x.wrapping_mul(0x85EB_CA77);
    x ^= x >> 13;
    x
}

const FIRST: &[&str] = &[
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
    "Radia", "Tim", "Hedy", "Donald", "Karen", "John", "Sophie", "Niklaus", "Annie", "Vint",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Knuth",
    "Jones",
    "Backus",
];

/// The persons created through the API before the import: `(name, e-mail)`.
pub fn persons() -> Vec<(String, String)> {
    let mut rng = Rng::new(SEED ^ 0xFACE);
    (0..PERSONS)
        .map(|i| {
            let first = rng.pick(FIRST);
            let last = rng.pick(LAST);
            let email = format!(
                "{}.{}{:03}@bench.example.com",
                first.to_lowercase(),
                last.to_lowercase(),
                i
            );
            (format!("{first} {last}"), email)
        })
        .collect()
}

struct Device {
    manufacturer: &'static str,
    model: &'static str,
    host: &'static str,
    os: &'static str,
}

const fn dev(
    manufacturer: &'static str,
    model: &'static str,
    host: &'static str,
    os: &'static str,
) -> Device {
    Device {
        manufacturer,
        model,
        host,
        os,
    }
}

const DEVICES: &[(u32, Device)] = &[
    (20, dev("Lenovo", "ThinkPad T14", "lt", "Windows 11")),
    (10, dev("Lenovo", "ThinkPad X1 Carbon", "lt", "Windows 11")),
    (15, dev("Dell", "Latitude 5440", "lt", "Windows 11")),
    (12, dev("Apple", "MacBook Pro 14", "mb", "macOS 14")),
    (8, dev("HP", "EliteBook 840", "lt", "Windows 10")),
    (8, dev("Dell", "OptiPlex 7010", "ws", "Windows 11")),
    (6, dev("Apple", "iPhone 15", "ph", "iOS 17")),
    (5, dev("Samsung", "Galaxy S23", "ph", "Android 14")),
    (3, dev("Cisco", "Catalyst 9300", "sw", "IOS XE 17")),
    (3, dev("HPE", "ProLiant DL380", "srv", "Ubuntu 22.04")),
    (2, dev("Fortinet", "FortiGate 60F", "fw", "FortiOS 7.4")),
    (4, dev("Logitech", "Rally Bar", "vc", "CollabOS")),
    (4, dev("Brother", "HL-L8360", "pr", "Firmware 1.2")),
];
const RARE_DEVICE: Device = dev("Zebra", "ZT411 label printer", "pr", "Link-OS 6");

const APPS: &[&str] = &[
    "billing",
    "crm",
    "payroll",
    "intranet",
    "ledger",
    "search",
    "analytics",
    "checkout",
    "identity",
    "mail",
    "backup",
    "monitoring",
    "reporting",
    "warehouse",
    "gateway",
    "catalogue",
    "helpdesk",
    "scheduler",
    "pricing",
    "invoicing",
    "onboarding",
    "telemetry",
    "wiki",
    "builds",
];
const ENVS: &[(u32, &str)] = &[(40, "prod"), (25, "staging"), (20, "dev"), (15, "test")];
const CLOUDS: &[(&str, &[&str], &str)] = &[
    ("VMware", &["vSphere 8 VM"], "vm"),
    (
        "Amazon Web Services",
        &["m6i.large", "t3.medium", "r6g.xlarge", "c7g.2xlarge"],
        "i",
    ),
    (
        "Microsoft Azure",
        &["Standard_D4s_v5", "Standard_B2ms", "Standard_E8s_v5"],
        "az",
    ),
    ("Google Cloud", &["e2-standard-4", "n2-highmem-8"], "gce"),
];
const VM_OS: &[&str] = &[
    "Ubuntu 22.04",
    "Debian 12",
    "Red Hat Enterprise Linux 9",
    "Windows Server 2022",
    "Amazon Linux 2023",
];

const DATA_SUBJECTS: &[&str] = &[
    "Customer",
    "Employee",
    "Supplier",
    "Candidate",
    "Patient",
    "Student",
    "Member",
    "Visitor",
    "Partner",
    "Shareholder",
];
const DATA_THINGS: &[&str] = &[
    "contracts",
    "payroll records",
    "invoices",
    "support tickets",
    "CCTV footage",
    "survey answers",
    "access logs",
    "marketing lists",
    "health declarations",
    "expense claims",
    "timesheets",
    "references",
];
const REGIONS: &[&str] = &["EU", "UK", "US", "APAC", "LATAM", "Nordics"];
const FUNCTIONS: &[&str] = &[
    "Finance",
    "Human resources",
    "Sales",
    "Customer support",
    "Legal",
    "Engineering",
    "Facilities",
    "Marketing",
];
const LAWFUL: &[&str] = &[
    "consent",
    "contract",
    "legal_obligation",
    "legitimate_interests",
];

const SOFTWARE: &[(&str, &str, &[&str])] = &[
    ("Microsoft", "Microsoft 365 E3", &["2024", "2025"]),
    ("Adobe", "Acrobat Pro", &["2023", "2024"]),
    ("JetBrains", "IntelliJ IDEA Ultimate", &["2024.1", "2024.3"]),
    ("Atlassian", "Jira Software", &["9.12", "10.1"]),
    ("Autodesk", "AutoCAD", &["2024", "2025"]),
    ("Oracle", "Database Enterprise Edition", &["19c", "23ai"]),
    (
        "PostgreSQL Global Development Group",
        "PostgreSQL",
        &["15.6", "16.2"],
    ),
    ("Mozilla", "Firefox ESR", &["115", "128"]),
    ("Slack Technologies", "Slack desktop", &["4.36", "4.41"]),
    ("Tableau", "Tableau Desktop", &["2023.3", "2024.2"]),
    ("SAP", "SAP Business One", &["10.0"]),
    ("Figma", "Figma Professional", &["124"]),
];
const LICENCE_MODELS: &[&str] = &["free", "open_source", "perpetual", "subscription"];

const SERVICES: &[(&str, &str, &str)] = &[
    ("Salesforce", "Sales Cloud", "salesforce"),
    ("GitHub", "GitHub Enterprise Cloud", "github"),
    ("Google", "Google Workspace", "workspace"),
    ("Okta", "Okta Identity Cloud", "okta"),
    ("Zendesk", "Zendesk Suite", "zendesk"),
    ("Stripe", "Stripe Payments", "stripe"),
    ("Cloudflare", "Cloudflare CDN", "cloudflare"),
    ("Datadog", "Datadog Monitoring", "datadog"),
    ("Workday", "Workday HCM", "workday"),
    ("Twilio", "Twilio Messaging", "twilio"),
];
const TEAMS: &[&str] = &[
    "Platform", "Finance", "People", "Security", "Support", "Growth", "Data",
];

const INTANGIBLE: &[(&str, &str)] = &[
    ("Trademark", "EUIPO"),
    ("Patent", "USPTO"),
    ("Domain name", "ICANN"),
    ("Copyright", "WIPO"),
    ("Design right", "UKIPO"),
];
const BRANDS: &[&str] = &[
    "Aurora",
    "Bluefin",
    "Cobalt",
    "Driftwood",
    "Evergreen",
    "Foxglove",
    "Granite",
    "Harbour",
    "Ironwood",
    "Juniper",
];

const TAGS: &[&str] = &[
    "remote",
    "office",
    "finance",
    "hr",
    "engineering",
    "sales",
    "pci",
    "gdpr",
    "sox",
    "byod",
    "legacy",
    "critical-path",
];
const IMPORTANCE: &[(u32, &str)] = &[(30, "low"), (40, "medium"), (22, "high"), (8, "critical")];
const CLASSIFICATION: &[(u32, &str)] = &[
    (10, "public"),
    (50, "internal"),
    (30, "confidential"),
    (10, "restricted"),
];

const COLUMNS: &[&str] = &[
    "kind",
    "name",
    "description",
    "owner_id",
    "importance",
    "classification",
    "tags",
    "next_review_at",
    "serial_number",
    "manufacturer",
    "model",
    "hostname",
    "operating_system",
    "encrypted",
    "business_function",
    "contains_personal_data",
    "lawful_basis",
    "retention_days",
    "software_version",
    "vendor",
    "licence_model",
    "provider",
    "url",
    "registration_number",
    "jurisdiction",
];

fn col(name: &str) -> usize {
    COLUMNS.iter().position(|c| *c == name).unwrap_or(0)
}

/// One row being built: a cell per column.
struct RowBuf {
    cells: Vec<String>,
}

impl RowBuf {
    fn new() -> Self {
        RowBuf {
            cells: vec![String::new(); COLUMNS.len()],
        }
    }

    fn clear(&mut self) {
        self.cells.iter_mut().for_each(String::clear);
    }

    fn set(&mut self, name: &str, v: impl std::fmt::Display) {
        use std::fmt::Write as _;
        let c = &mut self.cells[col(name)];
        c.clear();
        let _ = write!(c, "{v}");
    }

    fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        for (i, c) in self.cells.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            if c.contains([',', '"', '\n', '\r']) {
                w.write_all(b"\"")?;
                w.write_all(c.replace('"', "\"\"").as_bytes())?;
                w.write_all(b"\"")?;
            } else {
                w.write_all(c.as_bytes())?;
            }
        }
        w.write_all(b"\n")
    }
}

/// Counts kept while generating, for the figures.
#[derive(Default)]
struct Counts {
    selective: u64,
    common: u64,
    filtered: u64,
}

fn fill_row(
    i: u64,
    rng: &mut Rng,
    persons: &[(String, String)],
    row: &mut RowBuf,
    counts: &mut Counts,
) {
    row.clear();
    let rare = i % RARE_EVERY == 17;
    let roll = rng.below(100);
    let kind = if rare {
        "physical"
    } else {
        match roll {
            0..=49 => "physical",
            50..=64 => "virtual",
            65..=74 => "data",
            75..=89 => "software",
            90..=94 => "service",
            _ => "intangible",
        }
    };
    row.set("kind", kind);
    row.set("owner_id", &rng.pick(persons).1);
    row.set("importance", rng.weighted(IMPORTANCE));
    let classification = *rng.weighted(CLASSIFICATION);
    row.set("classification", classification);
    if kind == "data" && classification == "restricted" {
        counts.filtered += 1;
    }
    let ntags = rng.weighted(&[(40u32, 0usize), (40, 1), (20, 2)]);
    let tags: Vec<&str> = (0..*ntags).map(|_| *rng.pick(TAGS)).collect();
    row.set("tags", tags.join(";"));
    let review = rng.below(100);
    if review < 10 {
        row.set(
            "next_review_at",
            format_args!("2024-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
        );
    } else if review < 40 {
        row.set(
            "next_review_at",
            format_args!("2027-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
        );
    }
    let tag_no = 100_000 + rng.below(900_000);
    let serial = scramble(i as u32);
    match kind {
        "physical" => {
            let d = if rare {
                &RARE_DEVICE
            } else {
                rng.weighted(DEVICES)
            };
            if rare {
                counts.selective += 1;
            }
            if d.model.starts_with("ThinkPad") {
                counts.common += 1;
            }
            row.set("name", format_args!("{} #{tag_no}", d.model));
            let code: String = d
                .manufacturer
                .chars()
                .filter(char::is_ascii_alphabetic)
                .take(2)
                .collect::<String>()
                .to_uppercase();
            row.set("serial_number", format_args!("{code}{serial:08X}"));
            row.set("manufacturer", d.manufacturer);
            row.set("model", d.model);
            row.set("hostname", format_args!("{}-{i:07}", d.host));
            row.set("operating_system", d.os);
            row.set("encrypted", rng.chance(85));
            if rng.chance(20) {
                row.set(
                    "description",
                    format_args!("Issued to the {} team", rng.pick(TEAMS)),
                );
            }
        }
        "virtual" => {
            let app = rng.pick(APPS);
            let env = rng.weighted(ENVS);
            let (provider, models, prefix) = rng.pick(CLOUDS);
            let host = format!("vm-{app}-{env}-{:04}", rng.below(10_000));
            row.set("name", &host);
            row.set(
                "serial_number",
                format_args!("{prefix}-{serial:08x}{:04x}", i & 0xffff),
            );
            row.set("manufacturer", provider);
            row.set("model", rng.pick(models));
            row.set("hostname", format_args!("{host}.internal"));
            row.set("operating_system", rng.pick(VM_OS));
            row.set("encrypted", rng.chance(95));
        }
        "data" => {
            let subject = rng.pick(DATA_SUBJECTS);
            let thing = rng.pick(DATA_THINGS);
            row.set(
                "name",
                format_args!(
                    "{subject} {thing} {} {} #{tag_no}",
                    rng.pick(REGIONS),
                    2015 + rng.below(11)
                ),
            );
            row.set("business_function", rng.pick(FUNCTIONS));
            let personal = *subject != "Supplier" || rng.chance(30);
            row.set("contains_personal_data", personal);
            if personal {
                row.set("lawful_basis", rng.pick(LAWFUL));
            }
            row.set("retention_days", 365 * (1 + rng.below(10)));
        }
        "software" => {
            let (vendor, product, versions) = rng.pick(SOFTWARE);
            let version = rng.pick(versions);
            row.set(
                "name",
                format_args!("{product} {version} licence #{tag_no}"),
            );
            row.set("vendor", vendor);
            row.set("software_version", version);
            row.set("licence_model", rng.pick(LICENCE_MODELS));
        }
        "service" => {
            let (provider, service, slug) = rng.pick(SERVICES);
            let team = rng.pick(TEAMS);
            row.set("name", format_args!("{service} for {team} #{tag_no}"));
            row.set("provider", provider);
            row.set(
                "url",
                format_args!("https://{}.{slug}.example.com/", team.to_lowercase()),
            );
        }
        _ => {
            let (what, office) = rng.pick(INTANGIBLE);
            let brand = rng.pick(BRANDS);
            row.set("name", format_args!("{what} {brand} #{tag_no}"));
            row.set("registration_number", format_args!("{office}-{i:08}"));
            row.set("jurisdiction", rng.pick(REGIONS));
        }
    }
}

fn meta_of(assets: u64, bytes: u64, counts: &Counts) -> Value {
    json!({
        "generator_version": GENERATOR_VERSION,
        "assets": assets,
        "bytes": bytes,
        "selective_word": SELECTIVE_WORD,
        "selective_matches": counts.selective,
        "common_word": COMMON_WORD,
        "common_matches": counts.common,
        "filtered_matches": counts.filtered,
    })
}

/// The CSV of `assets` rows in `dir`, generated unless a file of the same size and
/// generator already exists there.
pub fn dataset(dir: &Path, assets: u64) -> Result<DataSet> {
    let path = dir.join(format!("assets-{assets}.csv"));
    let meta_path = dir.join(format!("assets-{assets}.meta.json"));
    if let (Ok(meta), Ok(file)) = (
        std::fs::read_to_string(&meta_path),
        std::fs::metadata(&path),
    ) {
        if let Ok(m) = serde_json::from_str::<Value>(&meta) {
            let num = |k: &str| m.get(k).and_then(Value::as_u64);
            if num("generator_version") == Some(GENERATOR_VERSION)
                && num("assets") == Some(assets)
                && num("bytes") == Some(file.len())
            {
                return Ok(DataSet {
                    path,
                    assets,
                    bytes: file.len(),
                    selective_matches: num("selective_matches").unwrap_or(0),
                    common_matches: num("common_matches").unwrap_or(0),
                    filtered_matches: num("filtered_matches").unwrap_or(0),
                    reused: true,
                });
            }
        }
    }
    let persons = persons();
    let tmp = path.with_extension("csv.partial");
    let f = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let mut rng = Rng::new(SEED);
    let mut row = RowBuf::new();
    let mut counts = Counts::default();
    let write = |w: &mut BufWriter<File>, row: &RowBuf| {
        row.write_to(w)
            .with_context(|| format!("cannot write {}", tmp.display()))
    };
    w.write_all(COLUMNS.join(",").as_bytes())
        .and_then(|_| w.write_all(b"\n"))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    for i in 0..assets {
        fill_row(i, &mut rng, &persons, &mut row, &mut counts);
        write(&mut w, &row)?;
    }
    w.flush()
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(w);
    std::fs::rename(&tmp, &path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    let bytes = std::fs::metadata(&path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let meta = serde_json::to_string_pretty(&meta_of(assets, bytes, &counts))?;
    std::fs::write(&meta_path, meta)
        .with_context(|| format!("cannot write {}", meta_path.display()))?;
    Ok(DataSet {
        path,
        assets,
        bytes,
        selective_matches: counts.selective,
        common_matches: counts.common,
        filtered_matches: counts.filtered,
        reused: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scramble_is_a_bijection_on_a_sample() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..200_000u32 {
            assert!(seen.insert(scramble(i)));
        }
    }

    #[test]
    fn rows_are_deterministic_and_well_formed() {
        let persons = persons();
        let make = || {
            let mut rng = Rng::new(SEED);
            let mut row = RowBuf::new();
            let mut counts = Counts::default();
            let mut out = Vec::new();
            for i in 0..2_000 {
                fill_row(i, &mut rng, &persons, &mut row, &mut counts);
                row.write_to(&mut out).unwrap();
            }
            (out, counts.selective)
        };
        let (a, rare) = make();
        let (b, _) = make();
        assert_eq!(a, b);
        assert_eq!(rare, 1);
        let text = String::from_utf8(a).unwrap();
        for line in text.lines() {
            assert_eq!(line.split(',').count(), COLUMNS.len(), "{line}");
        }
        assert!(!text.to_lowercase().contains("zebra") || text.contains("Zebra"));
    }
}

//! `custodian demo`: a realistic sample organisation in an empty register.
//!
//! Brindlewood Instruments Ltd is invented: a maker of measuring instruments with about
//! fifty staff, an office with a server room, racks in a colocation data centre, cloud
//! workloads, and the data, software, services and intellectual property such a company
//! holds. The content is fixed (no randomness), but dates are set relative to today, so
//! that a demo run at any time shows the same mix of current and overdue reviews.
//!
//! The data is deliberately imperfect, so every compliance check has something to find:
//! a leaver who still owns a laptop, a vacant role that owns assets, unencrypted laptops,
//! overdue reviews, incomplete records, a licence with more seats used than bought, and a
//! personal-data record missing its lawful basis.

use std::collections::HashMap;
use std::fmt;

use chrono::{NaiveDate, TimeDelta, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_app::assets::BulkItem;
use custodian_app::{App, AppError, Ctx};
use custodian_store::{AssetQuery, PartyQuery};

mod compliance_cases;

/// What the demo created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// The organisation's name.
    pub organisation: String,
    /// Persons.
    pub people: u64,
    /// Teams.
    pub teams: u64,
    /// Roles.
    pub roles: u64,
    /// Places in the location tree.
    pub locations: u64,
    /// Assets.
    pub assets: u64,
    /// Links between assets.
    pub relations: u64,
    /// Delegations of routine tasks.
    pub delegations: u64,
    /// Custom field definitions.
    pub custom_fields: u64,
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Created the demo organisation {}: {} people, {} teams, {} roles, {} locations, \
             {} assets, {} relations, {} delegations and {} custom fields.",
            self.organisation,
            self.people,
            self.teams,
            self.roles,
            self.locations,
            self.assets,
            self.relations,
            self.delegations,
            self.custom_fields
        )
    }
}

const ORGANISATION: &str = "Brindlewood Instruments Ltd";
const DOMAIN: &str = "brindlewood.example";

/// Fills an empty register with the sample organisation.
///
/// Refuses (with [`AppError::Conflict`]) when the register already holds assets or
/// parties, so running it twice, or over real data, changes nothing.
pub async fn populate(app: &App, ctx: &Ctx) -> Result<DemoSummary, AppError> {
    app.ensure_defaults(ctx).await?;
    let probe = AssetQuery {
        limit: 1,
        ..Default::default()
    };
    if !app.list_assets(ctx, &probe).await?.items.is_empty() {
        return Err(conflict(
            "demo data needs an empty register, and this one already holds assets",
        ));
    }
    let probe = PartyQuery {
        limit: 1,
        ..Default::default()
    };
    if !app.list_parties(ctx, &probe).await?.items.is_empty() {
        return Err(conflict(
            "demo data needs an empty register, and this one already holds people, teams or roles",
        ));
    }
    let levels: Vec<String> = app
        .list_classifications(ctx)
        .await?
        .into_iter()
        .map(|l| l.key)
        .collect();
    for key in ["public", "internal", "confidential", "restricted"] {
        if !levels.iter().any(|l| l == key) {
            return Err(conflict(&format!(
                "demo data uses the default classification levels, and this register has no {key:?} level"
            )));
        }
    }
    let mut d = Demo {
        app,
        ctx,
        today: Utc::now().date_naive(),
        summary: DemoSummary {
            organisation: ORGANISATION.into(),
            ..Default::default()
        },
        people: Vec::new(),
        parties: HashMap::new(),
        locations: HashMap::new(),
        assets: HashMap::new(),
    };
    d.custom_fields().await?;
    d.locations().await?;
    d.people().await?;
    d.teams_and_roles().await?;
    d.assets().await?;
    d.lifecycle().await?;
    d.relations().await?;
    d.delegations().await?;
    d.leaver().await?;
    d.notice_case().await?;
    d.compliance_cases().await?;
    // Measured at once, so that the compliance page shows the story from the start.
    app.run_compliance(ctx).await?;
    Ok(d.summary)
}

fn conflict(message: &str) -> AppError {
    AppError::Conflict {
        message: message.to_string(),
        field: None,
    }
}

/// A JSON object literal as a map, with its nulls dropped (absent = not set).
fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(mut m) => {
            m.retain(|_, v| !v.is_null());
            m
        }
        _ => Map::new(),
    }
}

/// A fixed, well-mixed number for `n` (SplitMix64), standing in for randomness.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `len` characters of `alphabet` chosen by `seed`.
fn code(seed: u64, len: usize, alphabet: &[u8]) -> String {
    let mut x = mix(seed);
    (0..len)
        .map(|i| {
            if i % 8 == 7 {
                x = mix(x);
            }
            let c = alphabet[(x % alphabet.len() as u64) as usize];
            x /= alphabet.len() as u64;
            char::from(c)
        })
        .collect()
}

const UPPER_DIGITS: &[u8] = b"0123456789ABCDEFGHJKLMNPRSTVWXYZ";
const DIGITS: &[u8] = b"0123456789";
const HEX: &[u8] = b"0123456789abcdef";

fn serial(seed: u64) -> String {
    code(seed, 10, UPPER_DIGITS)
}

fn mac(seed: u64) -> String {
    let h = code(seed, 10, HEX);
    // A locally administered-looking prefix keeps these clearly fictional.
    format!(
        "02:{}:{}:{}:{}:{}",
        &h[0..2],
        &h[2..4],
        &h[4..6],
        &h[6..8],
        &h[8..10]
    )
}

/// Who owns an asset.
#[derive(Clone, Copy)]
enum O {
    /// A person, by index in [`PEOPLE`].
    P(usize),
    /// A team or role, by name.
    N(&'static str),
}

/// The teams, with their cost centres.
const TEAMS: &[(&str, &str)] = &[
    ("Executive", "CC-100 Executive"),
    ("IT", "CC-110 IT"),
    ("Finance", "CC-120 Finance"),
    ("People", "CC-130 People"),
    ("Legal & Compliance", "CC-140 Legal & Compliance"),
    ("Engineering", "CC-200 Engineering"),
    ("Sales", "CC-300 Sales"),
    ("Operations", "CC-400 Operations"),
];
const EXEC: usize = 0;
const IT: usize = 1;
const FIN: usize = 2;
const PPL: usize = 3;
const LEGAL: usize = 4;
const ENG: usize = 5;
const SALES: usize = 6;
const OPS: usize = 7;

/// The staff: first name, last name, team, manager (index), job title.
const PEOPLE: &[(&str, &str, usize, Option<usize>, &str)] = &[
    ("Miriam", "Okafor", EXEC, None, "Chief Executive Officer"),
    ("Tomasz", "Wierzbicki", FIN, Some(0), "Finance Director"),
    ("Priya", "Raman", IT, Some(0), "Head of IT"),
    ("Declan", "Moriarty", ENG, Some(0), "Head of Engineering"),
    ("Sofia", "Lindqvist", SALES, Some(0), "Head of Sales"),
    ("Aisha", "Bello", PPL, Some(0), "Head of People"),
    (
        "Hannah",
        "Whitcombe",
        LEGAL,
        Some(0),
        "General Counsel and Data Protection Officer",
    ),
    ("Kwame", "Mensah", OPS, Some(0), "Head of Operations"),
    (
        "Rebecca",
        "Thornton",
        IT,
        Some(2),
        "Information Security Lead",
    ),
    ("Jamal", "Haddad", IT, Some(2), "IT Support Technician"),
    ("Lucy", "Pemberton", IT, Some(2), "Systems Administrator"),
    ("Oliver", "Nakamura", IT, Some(2), "Network Engineer"),
    ("Grace", "Adeyemi", FIN, Some(1), "Financial Controller"),
    ("Martin", "Kowalczyk", FIN, Some(1), "Management Accountant"),
    ("Elena", "Petrova", FIN, Some(1), "Payroll Officer"),
    ("Samuel", "Osei", FIN, Some(1), "Accounts Assistant"),
    ("Chloe", "Fitzgerald", PPL, Some(5), "HR Business Partner"),
    (
        "Ravi",
        "Chandrasekar",
        PPL,
        Some(5),
        "Talent Acquisition Lead",
    ),
    ("Megan", "Doyle", PPL, Some(5), "HR Administrator"),
    ("Isaac", "Feldman", LEGAL, Some(6), "Compliance Analyst"),
    ("Ana", "Ribeiro", ENG, Some(3), "Engineering Manager"),
    (
        "Benedikt",
        "Vogel",
        ENG,
        Some(3),
        "Principal Firmware Engineer",
    ),
    ("Chen", "Wei", ENG, Some(20), "Senior Software Engineer"),
    ("Daniela", "Costa", ENG, Some(20), "Software Engineer"),
    ("Ewan", "MacLeod", ENG, Some(20), "DevOps Engineer"),
    ("Fatima", "Zahra", ENG, Some(20), "Data Engineer"),
    ("Gabriel", "Dumont", ENG, Some(21), "Firmware Engineer"),
    ("Hiroshi", "Tanaka", ENG, Some(21), "Electronics Engineer"),
    ("Ingrid", "Solberg", ENG, Some(3), "Test Engineer"),
    ("Jonah", "Abrams", ENG, Some(20), "Software Engineer"),
    ("Katarzyna", "Nowak", ENG, Some(3), "Product Manager"),
    ("Liam", "O'Connell", ENG, Some(20), "Mobile Developer"),
    ("Maya", "Goldberg", ENG, Some(3), "UX Designer"),
    (
        "Nikhil",
        "Bhatt",
        ENG,
        Some(20),
        "Machine Learning Engineer",
    ),
    (
        "Olivia",
        "Hargreaves",
        SALES,
        Some(4),
        "Key Account Manager",
    ),
    ("Pedro", "Alvarez", SALES, Some(4), "Account Executive"),
    ("Quentin", "Moreau", SALES, Some(4), "Account Executive"),
    ("Rosa", "Delgado", SALES, Some(4), "Sales Engineer"),
    (
        "Stefan",
        "Ionescu",
        SALES,
        Some(4),
        "Business Development Manager",
    ),
    ("Tara", "Fleming", SALES, Some(4), "Marketing Manager"),
    (
        "Umar",
        "Siddiqui",
        SALES,
        Some(4),
        "Customer Success Manager",
    ),
    ("Valentina", "Greco", SALES, Some(4), "Sales Coordinator"),
    ("Wesley", "Chapman", OPS, Some(7), "Production Supervisor"),
    ("Ximena", "Castillo", OPS, Some(7), "Quality Manager"),
    ("Yusuf", "Demir", OPS, Some(7), "Logistics Coordinator"),
    (
        "Zoe",
        "Papadopoulos",
        OPS,
        Some(7),
        "Calibration Technician",
    ),
    ("Arjun", "Mehta", OPS, Some(7), "Procurement Officer"),
    ("Bethany", "Clarke", OPS, Some(7), "Office Manager"),
    (
        "Callum",
        "Reid",
        ENG,
        Some(3),
        "Contract Embedded Developer",
    ),
    ("Dmitri", "Volkov", SALES, Some(4), "Account Executive"),
];
/// The one contractor.
const CONTRACTOR: usize = 48;
/// The person serving their notice period.
const ON_NOTICE: usize = 38;
/// The person who has left, still owning a laptop and a phone.
const LEAVER: usize = 49;
/// The heads of department, who also form the executive team.
const HEADS: &[usize] = &[0, 1, 2, 3, 4, 5, 6, 7];
/// The technician who checks devices and takes delegated reviews.
const TECHNICIAN: usize = 9;

const HEAD_OF_IT: &str = "Head of IT";
const DPO: &str = "Data Protection Officer (DPO)";
const CISO: &str = "Chief Information Security Officer (CISO)";
const FINANCE_DIRECTOR: &str = "Finance Director";
const HEAD_OF_PEOPLE: &str = "Head of People";
/// Vacant since the last holder retired: its assets are orphaned.
const FACILITIES: &str = "Facilities Manager";

struct Demo<'a> {
    app: &'a App,
    ctx: &'a Ctx,
    today: NaiveDate,
    summary: DemoSummary,
    people: Vec<Uuid>,
    parties: HashMap<&'static str, Uuid>,
    locations: HashMap<&'static str, Uuid>,
    assets: HashMap<String, Uuid>,
}

impl Demo<'_> {
    /// The date `days` from today (negative = past), as `YYYY-MM-DD`.
    fn d(&self, days: i64) -> String {
        self.date(days).to_string()
    }

    fn date(&self, days: i64) -> NaiveDate {
        self.today
            .checked_add_signed(TimeDelta::days(days))
            .unwrap_or(self.today)
    }

    /// A time on the day `days` from today, as RFC 3339.
    fn ts(&self, days: i64) -> String {
        format!("{}T10:30:00Z", self.date(days))
    }

    fn owner(&self, o: O) -> Result<Uuid, AppError> {
        match o {
            O::P(i) => self.person(i),
            O::N(name) => self
                .parties
                .get(name)
                .copied()
                .ok_or_else(|| missing("party", name)),
        }
    }

    fn person(&self, i: usize) -> Result<Uuid, AppError> {
        self.people
            .get(i)
            .copied()
            .ok_or_else(|| missing("person", &i.to_string()))
    }

    fn loc(&self, name: &str) -> Result<Uuid, AppError> {
        self.locations
            .get(name)
            .copied()
            .ok_or_else(|| missing("location", name))
    }

    fn asset(&self, key: &str) -> Result<Uuid, AppError> {
        self.assets
            .get(key)
            .copied()
            .ok_or_else(|| missing("asset", key))
    }

    async fn custom_fields(&mut self) -> Result<(), AppError> {
        let centres: Vec<&str> = TEAMS.iter().map(|(_, c)| *c).collect();
        self.app
            .create_custom_field(
                self.ctx,
                obj(json!({
                    "entity_type": "asset", "key": "cost_centre", "label": "Cost centre",
                    "field_type": "choice", "choices": centres,
                    "description": "The budget that pays for the asset and its renewal.",
                })),
            )
            .await?;
        self.app
            .create_custom_field(
                self.ctx,
                obj(json!({
                    "entity_type": "party", "key": "job_title", "label": "Job title",
                    "field_type": "text",
                })),
            )
            .await?;
        self.summary.custom_fields = 2;
        Ok(())
    }

    async fn locations(&mut self) -> Result<(), AppError> {
        // (name, kind, parent, on premises, address)
        type Place = (
            &'static str,
            &'static str,
            Option<&'static str>,
            bool,
            Option<&'static str>,
        );
        #[rustfmt::skip]
        let places: &[Place] = &[
            ("Brindlewood House", "site", None, true, Some("Unit 4, Kestrel Park, Millbrook")),
            ("Main building", "building", Some("Brindlewood House"), true, None),
            ("Reception", "room", Some("Main building"), true, None),
            ("Open-plan office", "room", Some("Main building"), true, None),
            ("Board room", "room", Some("Main building"), true, None),
            ("Server room", "room", Some("Main building"), true, None),
            ("Network cupboard", "room", Some("Main building"), true, None),
            ("IT store room", "room", Some("Main building"), true, None),
            ("Workshop and lab", "building", Some("Brindlewood House"), true, None),
            ("Calibration lab", "room", Some("Workshop and lab"), true, None),
            ("Northgate colocation data centre", "site", None, false, Some("Northgate Data Centres, Hall 2, Ferrybridge Road, Castleford")),
            ("Rack B14", "other", Some("Northgate colocation data centre"), false, None),
            ("Ironvale off-site archive", "site", None, false, Some("Ironvale Records Management, Unit 9, Foundry Way")),
            ("Home working", "site", None, false, None),
        ];
        for (name, kind, parent, on_premises, address) in places {
            let parent_id = match parent {
                Some(p) => Some(self.loc(p)?),
                None => None,
            };
            let l = self
                .app
                .create_location(
                    self.ctx,
                    obj(json!({
                        "name": name, "kind": kind, "parent_id": parent_id,
                        "on_premises": on_premises, "address": address,
                    })),
                )
                .await?;
            self.locations.insert(name, l.id);
            self.summary.locations += 1;
        }
        Ok(())
    }

    async fn people(&mut self) -> Result<(), AppError> {
        for (i, (first, last, _, manager, title)) in PEOPLE.iter().enumerate() {
            let local: String = format!("{first}.{last}")
                .to_ascii_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            let manager_id = match manager {
                Some(m) => Some(self.person(*m)?),
                None => None,
            };
            let started = -(120 + (mix(i as u64) % 3000) as i64);
            let mut p = obj(json!({
                "kind": "person",
                "name": format!("{first} {last}"),
                "email": format!("{local}@{DOMAIN}"),
                "start_date": self.d(started),
                "manager_id": manager_id,
                "custom": {"job_title": title},
            }));
            if i == CONTRACTOR {
                p.insert("employment_type".into(), json!("contractor"));
                p.insert("start_date".into(), json!(self.d(-130)));
                p.insert("end_date".into(), json!(self.d(235)));
            }
            if i == ON_NOTICE {
                p.insert("status".into(), json!("notice"));
                p.insert("end_date".into(), json!(self.d(19)));
            }
            let created = self.app.create_party(self.ctx, p).await?;
            self.people.push(created.id);
            self.summary.people += 1;
        }
        Ok(())
    }

    async fn teams_and_roles(&mut self) -> Result<(), AppError> {
        for (t, (name, _)) in TEAMS.iter().enumerate() {
            let members: Vec<Uuid> = if t == EXEC {
                HEADS
                    .iter()
                    .map(|i| self.person(*i))
                    .collect::<Result<_, _>>()?
            } else {
                PEOPLE
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.2 == t)
                    .map(|(i, _)| self.person(i))
                    .collect::<Result<_, _>>()?
            };
            let team = self
                .app
                .create_party(
                    self.ctx,
                    obj(json!({"kind": "team", "name": name, "member_ids": members})),
                )
                .await?;
            self.parties.insert(name, team.id);
            self.summary.teams += 1;
        }
        #[rustfmt::skip]
        let roles: &[(&'static str, Option<usize>)] = &[
            (HEAD_OF_IT, Some(2)),
            (DPO, Some(6)),
            (CISO, Some(8)),
            (FINANCE_DIRECTOR, Some(1)),
            (HEAD_OF_PEOPLE, Some(5)),
            (FACILITIES, None),
        ];
        for (name, holder) in roles {
            let holder_id = match holder {
                Some(h) => Some(self.person(*h)?),
                None => None,
            };
            let role = self
                .app
                .create_party(
                    self.ctx,
                    obj(json!({"kind": "role", "name": name, "holder_id": holder_id})),
                )
                .await?;
            self.parties.insert(name, role.id);
            self.summary.roles += 1;
        }
        Ok(())
    }

    async fn assets(&mut self) -> Result<(), AppError> {
        let mut batch = Batch::default();
        self.end_user_devices(&mut batch)?;
        self.infrastructure(&mut batch)?;
        self.virtual_assets(&mut batch)?;
        self.data_assets(&mut batch)?;
        self.software(&mut batch)?;
        self.services(&mut batch)?;
        self.intangibles(&mut batch)?;
        let Batch { items, keys } = batch;
        for (chunk_items, chunk_keys) in items
            .chunks(custodian_app::assets::MAX_BULK)
            .zip(keys.chunks(custodian_app::assets::MAX_BULK))
        {
            let results = self
                .app
                .create_assets(self.ctx, chunk_items.to_vec())
                .await?;
            for (r, key) in results.into_iter().zip(chunk_keys) {
                match r {
                    BulkItem::Created(v) => {
                        if let Some(k) = key {
                            self.assets.insert(k.clone(), v.asset.id);
                        }
                        self.summary.assets += 1;
                    }
                    BulkItem::Failed(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    fn end_user_devices(&self, b: &mut Batch) -> Result<(), AppError> {
        let office = self.loc("Open-plan office")?;
        let home = self.loc("Home working")?;
        let store = self.loc("IT store room")?;
        let reviewer = self.person(TECHNICIAN)?;
        let it_team = self.owner(O::N("IT"))?;
        #[rustfmt::skip]
        let laptops: &[(&str, &str, f64, &str)] = &[
            ("Lenovo", "ThinkPad T14 Gen 4", 1249.0, "Windows 11 Pro 23H2"),
            ("Dell", "Latitude 7440", 1389.0, "Windows 11 Pro 23H2"),
            ("Apple", "MacBook Pro 14 (M3)", 1899.0, "macOS 14 Sonoma"),
            ("HP", "EliteBook 840 G10", 1179.0, "Windows 11 Pro 23H2"),
        ];
        let suppliers = ["Calder IT Distribution Ltd", "Pennine Business Systems"];
        for (i, (first, last, team, _, _)) in PEOPLE.iter().enumerate() {
            let n = i as u64;
            let full = format!("{first} {last}");
            let owner = self.person(i)?;
            let (maker, model, cost, mut os) = laptops[i % laptops.len()];
            if *team == ENG && maker == "Dell" {
                os = "Ubuntu 22.04 LTS";
            }
            let bought = 90 + (mix(n + 500) % 1000) as i64;
            let reviewed = 15 + (mix(n + 900) % 300) as i64;
            let byod = i == CONTRACTOR;
            let short: String = format!("{}{}", &first[..1], last)
                .to_ascii_lowercase()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            let mut tags = vec!["laptop"];
            if HEADS.contains(&i) {
                tags.push("executive");
            }
            if byod {
                tags.push("byod");
            }
            let mut m = obj(json!({
                "kind": "physical",
                "name": if byod { format!("Personal laptop (BYOD) – {full}") } else { format!("{maker} {model} – {full}") },
                "description": if byod { Some("Contractor's own laptop, enrolled in MDM for the length of the contract.") } else { None },
                "owner_id": owner,
                "importance": if HEADS.contains(&i) { "high" } else { "medium" },
                "classification": "confidential",
                "location_id": if i % 4 == 3 { home } else { office },
                "tags": tags,
                "serial_number": serial(n + 1000),
                "function": "Staff laptop",
                "information_description": format!("E-mail, documents and business applications used by {full} ({})", TEAMS[*team].0),
                "manufacturer": maker,
                "model": model,
                "hostname": format!("lt-{short}"),
                "mac_addresses": [mac(n + 1000)],
                "operating_system": os,
                "encrypted": i % 16 != 11,
                "personal_device": byod,
                "labelled": !byod && i % 10 != 6,
                "purchase_date": if byod { None } else { Some(self.d(-bought)) },
                "purchase_cost": if byod { None } else { Some(cost) },
                "supplier": if byod { None } else { Some(suppliers[i % 2]) },
                "warranty_expires_at": if byod { None } else { Some(self.d(3 * 365 - bought)) },
                "last_reviewed_at": self.ts(-reviewed),
                "last_reviewed_by": reviewer,
                "custom": {"cost_centre": TEAMS[*team].1},
                "external_ids": {"mdm": format!("MDM-{:05}", 10240 + i)},
            }));
            if i % 9 == 4 {
                m.remove("information_description");
            }
            if i % 13 == 7 {
                m.remove("last_reviewed_at");
                m.remove("last_reviewed_by");
            }
            if i % 11 == 5 {
                m.insert("next_review_at".into(), json!(self.d(-(12 + i as i64))));
            }
            b.add(Some(format!("laptop_{i}")), m);
        }
        // Spares and a laptop away for repair.
        for s in 0..4u64 {
            let (maker, model, cost, os) = laptops[s as usize % laptops.len()];
            let status = if s == 3 { "in_repair" } else { "in_stock" };
            b.add(
                None,
                obj(json!({
                    "kind": "physical",
                    "name": format!("{maker} {model} – {}", if s == 3 { "loan pool (at repairer)" } else { "spare" }),
                    "owner_id": it_team,
                    "importance": "low",
                    "classification": "confidential",
                    "status": status,
                    "location_id": if s == 3 { None } else { Some(store) },
                    "tags": ["laptop", "spare"],
                    "serial_number": serial(s + 1900),
                    "function": "Spare laptop for new starters and replacements",
                    "information_description": "None while in stock; wiped and re-imaged before issue",
                    "manufacturer": maker, "model": model, "operating_system": os,
                    "encrypted": true, "labelled": true,
                    "purchase_date": self.d(-40), "purchase_cost": cost,
                    "supplier": suppliers[0], "warranty_expires_at": self.d(3 * 365 - 40),
                    "last_reviewed_at": self.ts(-10), "last_reviewed_by": reviewer,
                    "custom": {"cost_centre": TEAMS[IT].1},
                })),
            );
        }
        // The laptop disposed of after it was retired (transitions in `lifecycle`).
        b.add(
            Some("disposed_laptop".into()),
            obj(json!({
                "kind": "physical",
                "name": "Lenovo ThinkPad T480 – end of life",
                "description": "Former finance laptop; battery swollen and hinge broken.",
                "owner_id": self.owner(O::N(HEAD_OF_IT))?,
                "importance": "low",
                "classification": "confidential",
                "location_id": store,
                "tags": ["laptop"],
                "serial_number": "PF1KX2Q7",
                "function": "Staff laptop (retired)",
                "information_description": "Finance spreadsheets and e-mail",
                "manufacturer": "Lenovo", "model": "ThinkPad T480", "operating_system": "Windows 10 Pro",
                "encrypted": true, "labelled": true,
                "purchase_date": self.d(-5 * 365), "purchase_cost": 1099.0,
                "supplier": suppliers[1],
                "last_reviewed_at": self.ts(-30), "last_reviewed_by": reviewer,
                "custom": {"cost_centre": TEAMS[FIN].1},
            })),
        );

        // Phones for leaders, IT on call, sales and operations.
        #[rustfmt::skip]
        let phones: &[(&str, &str, &str)] = &[
            ("Apple", "iPhone 15", "iOS 17"),
            ("Samsung", "Galaxy S23", "Android 14"),
            ("Google", "Pixel 8", "Android 14"),
        ];
        let holders: Vec<usize> = (0..=11)
            .chain(20..=22)
            .chain(34..=47)
            .chain([LEAVER, 25])
            .collect();
        for (k, i) in holders.iter().copied().enumerate() {
            let (first, last, team, _, _) = PEOPLE[i];
            let (maker, model, os) = phones[k % phones.len()];
            let byod = i == 25;
            let imei = code(i as u64 + 3000, 15, DIGITS);
            let mut m = obj(json!({
                "kind": "physical",
                "name": if byod { format!("Personal phone (BYOD) – {first} {last}") } else { format!("{maker} {model} – {first} {last}") },
                "owner_id": self.person(i)?,
                "importance": "low",
                "classification": "internal",
                "tags": if byod { vec!["phone", "byod"] } else { vec!["phone"] },
                "serial_number": imei,
                "function": "Mobile phone: e-mail, calendar and sign-in approvals",
                "information_description": "Work e-mail, calendar, contacts and the authenticator app",
                "manufacturer": maker, "model": model, "operating_system": os,
                "encrypted": true,
                "personal_device": byod,
                "purchase_date": if byod { None } else { Some(self.d(-(60 + (mix(i as u64) % 600) as i64))) },
                "purchase_cost": if byod { None } else { Some(699.0) },
                "last_reviewed_at": self.ts(-(20 + k as i64 * 7)),
                "last_reviewed_by": reviewer,
                "custom": {"cost_centre": TEAMS[team].1},
                "external_ids": {"mdm": format!("MDM-{:05}", 20480 + i)},
            }));
            if k % 7 == 3 {
                m.remove("information_description");
            }
            let key = if i == 36 {
                Some("lost_phone".into())
            } else {
                None
            };
            b.add(key, m);
        }
        for s in 0..2u64 {
            b.add(
                None,
                obj(json!({
                    "kind": "physical",
                    "name": format!("Apple iPhone 15 – spare {}", s + 1),
                    "owner_id": it_team,
                    "importance": "low",
                    "classification": "internal",
                    "status": "in_stock",
                    "location_id": store,
                    "tags": ["phone", "spare"],
                    "serial_number": code(s + 3900, 15, DIGITS),
                    "function": "Spare phone",
                    "information_description": "None while in stock",
                    "manufacturer": "Apple", "model": "iPhone 15", "operating_system": "iOS 17",
                    "encrypted": true,
                    "last_reviewed_at": self.ts(-10), "last_reviewed_by": reviewer,
                })),
            );
        }
        Ok(())
    }

    fn infrastructure(&self, b: &mut Batch) -> Result<(), AppError> {
        let reviewer = self.person(10)?;
        let head_it = self.owner(O::N(HEAD_OF_IT))?;
        let it_team = self.owner(O::N("IT"))?;
        let facilities = self.owner(O::N(FACILITIES))?;
        let server_room = self.loc("Server room")?;
        let rack = self.loc("Rack B14")?;
        let cupboard = self.loc("Network cupboard")?;
        // (key, hostname, function, information, maker, model, os, at colo, class, importance, ip, encrypted)
        type Server = (
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            bool,
            &'static str,
            &'static str,
            &'static str,
            bool,
        );
        #[rustfmt::skip]
        let servers: &[Server] = &[
            ("db1", "db-prod-01", "Primary PostgreSQL database server for the customer platform", "Customer accounts, orders and device registrations", "Dell", "PowerEdge R650", "Ubuntu 22.04 LTS", true, "restricted", "critical", "10.40.1.11", true),
            ("db2", "db-prod-02", "Streaming replica of db-prod-01", "Customer accounts, orders and device registrations (replica)", "Dell", "PowerEdge R650", "Ubuntu 22.04 LTS", true, "restricted", "critical", "10.40.1.12", true),
            ("app1", "app-prod-01", "Customer portal and API application server", "Customer sessions and API traffic", "Dell", "PowerEdge R450", "Ubuntu 22.04 LTS", true, "confidential", "high", "10.40.1.21", true),
            ("app2", "app-prod-02", "Customer portal and API application server", "Customer sessions and API traffic", "Dell", "PowerEdge R450", "Ubuntu 22.04 LTS", true, "confidential", "high", "10.40.1.22", true),
            ("backup", "backup-01", "Backup server: nightly backups of databases and file shares", "Backup copies of every production database and the file server", "HPE", "ProLiant DL380 Gen10 Plus", "Windows Server 2022", false, "restricted", "high", "10.10.1.30", true),
            ("file", "file-01", "Office file server (departmental shares)", "Departmental documents including HR and finance shares", "HPE", "ProLiant DL360 Gen10", "Windows Server 2022", false, "confidential", "high", "10.10.1.20", false),
            ("dc", "dc-01", "Domain controller and DNS for the office network", "Directory accounts, group memberships and password hashes", "HPE", "ProLiant DL360 Gen10", "Windows Server 2022", false, "restricted", "critical", "10.10.1.10", true),
            ("hv1", "hv-01", "Hypervisor host for office virtual machines", "Virtual machines of the office services", "Dell", "PowerEdge R750", "VMware ESXi 8.0", false, "confidential", "high", "10.10.1.41", true),
            ("hv2", "hv-02", "Hypervisor host for office virtual machines", "Virtual machines of the office services", "Dell", "PowerEdge R750", "VMware ESXi 8.0", false, "confidential", "high", "10.10.1.42", true),
            ("build", "build-01", "", "Firmware and application build artefacts", "Supermicro", "SuperServer 1029P", "Ubuntu 22.04 LTS", false, "internal", "medium", "10.10.1.50", true),
            ("mon", "mon-01", "Monitoring and alerting (Zabbix)", "Metrics and logs of servers and network devices", "Dell", "PowerEdge R350", "Debian 12", false, "internal", "medium", "10.10.1.60", true),
            ("erp_old", "erp-legacy-01", "Former ERP server, kept read-only for the archive period", "Accounting records 2014–2020", "HPE", "ProLiant DL380 Gen9", "Windows Server 2012 R2", false, "confidential", "low", "10.10.1.70", true),
        ];
        for (k, s) in servers.iter().enumerate() {
            let (key, host, function, info, maker, model, os, colo, class, imp, ip, enc) = *s;
            let n = k as u64 + 4000;
            let mut m = obj(json!({
                "kind": "physical",
                "name": format!("{host} ({maker} {model})"),
                "owner_id": head_it,
                "importance": imp,
                "classification": class,
                "location_id": if colo { rack } else { server_room },
                "tags": ["server"],
                "serial_number": serial(n),
                "function": if function.is_empty() { None } else { Some(function) },
                "information_description": info,
                "manufacturer": maker, "model": model, "hostname": host,
                "ip_addresses": [ip], "mac_addresses": [mac(n), mac(n + 50)],
                "operating_system": os,
                "encrypted": enc, "labelled": true,
                "purchase_date": self.d(-(400 + (mix(n) % 1200) as i64)),
                "purchase_cost": 4800.0 + (mix(n + 1) % 60) as f64 * 100.0,
                "supplier": "Pennine Business Systems",
                "last_reviewed_at": self.ts(-(30 + k as i64 * 9)),
                "last_reviewed_by": reviewer,
                "custom": {"cost_centre": TEAMS[IT].1},
            }));
            if key == "erp_old" {
                m.insert("status".into(), json!("retired"));
            }
            if key == "mon" {
                m.insert("next_review_at".into(), json!(self.d(-40)));
            }
            b.add(Some(key.into()), m);
        }
        // (hostname, function, maker, model, os, location, ip)
        #[rustfmt::skip]
        let network: &[(&str, &str, &str, &str, &str, Uuid, &str)] = &[
            ("fw-hq-01", "Office perimeter firewall (primary)", "Fortinet", "FortiGate 100F", "FortiOS 7.2", server_room, "10.10.0.1"),
            ("fw-hq-02", "Office perimeter firewall (HA secondary)", "Fortinet", "FortiGate 100F", "FortiOS 7.2", server_room, "10.10.0.2"),
            ("fw-colo-01", "Data centre firewall", "Fortinet", "FortiGate 200F", "FortiOS 7.2", rack, "10.40.0.1"),
            ("sw-core-01", "Core switch", "Aruba", "CX 6300M", "AOS-CX 10.12", server_room, "10.10.0.10"),
            ("sw-access-01", "Access switch, ground floor", "Aruba", "CX 6100", "AOS-CX 10.12", cupboard, "10.10.0.11"),
            ("sw-access-02", "Access switch, first floor", "Aruba", "CX 6100", "AOS-CX 10.12", cupboard, "10.10.0.12"),
            ("sw-lab-01", "Lab switch (isolated test network)", "Aruba", "CX 6100", "AOS-CX 10.10", cupboard, "10.10.0.13"),
            ("ap-01", "Wi-Fi access point, reception and board room", "Ubiquiti", "U6 Pro", "UniFi 6.6", cupboard, "10.10.0.21"),
            ("ap-02", "Wi-Fi access point, open-plan office", "Ubiquiti", "U6 Pro", "UniFi 6.6", cupboard, "10.10.0.22"),
            ("ap-03", "Wi-Fi access point, workshop", "Ubiquiti", "U6 Pro", "UniFi 6.5", cupboard, "10.10.0.23"),
        ];
        for (k, (host, function, maker, model, os, loc, ip)) in network.iter().enumerate() {
            let n = k as u64 + 4500;
            let mut m = obj(json!({
                "kind": "physical",
                "name": format!("{host} ({maker} {model})"),
                "owner_id": it_team,
                "importance": if host.starts_with("fw") || host.starts_with("sw-core") { "critical" } else { "medium" },
                "classification": "internal",
                "location_id": loc,
                "tags": ["network"],
                "serial_number": serial(n),
                "function": function,
                "information_description": "Network traffic between staff, servers and the internet",
                "manufacturer": maker, "model": model, "hostname": host,
                "ip_addresses": [ip], "mac_addresses": [mac(n)],
                "operating_system": os, "labelled": true,
                "purchase_date": self.d(-(300 + (mix(n) % 900) as i64)),
                "last_reviewed_at": self.ts(-(45 + k as i64 * 11)),
                "last_reviewed_by": self.person(11)?,
                "custom": {"cost_centre": TEAMS[IT].1},
            }));
            if k == 6 {
                m.remove("last_reviewed_at");
                m.remove("last_reviewed_by");
            }
            b.add(None, m);
        }
        let archive = self.loc("Ironvale off-site archive")?;
        let building = self.loc("Main building")?;
        let reception = self.loc("Reception")?;
        let office = self.loc("Open-plan office")?;
        let lab = self.loc("Calibration lab")?;
        // (key, name, owner, class, importance, location, function, information, maker, model, encrypted)
        type Other = (
            &'static str,
            &'static str,
            Uuid,
            &'static str,
            &'static str,
            Uuid,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            Option<bool>,
        );
        #[rustfmt::skip]
        let other: &[Other] = &[
            ("usb_backup", "Encrypted USB backup drives – set A (off-site rotation)", head_it, "restricted", "high", archive, "Weekly off-site copy of the backups", "Backup copies of production databases and file shares", "Kingston", "IronKey Vault Privacy 80", Some(true)),
            ("tapes", "LTO-8 backup tapes – monthly set", head_it, "restricted", "high", archive, "Monthly long-term backup archive", "Backup copies of production databases and file shares", "HPE", "LTO-8 Ultrium", Some(true)),
            ("nas", "Design archive NAS", self.owner(O::N("Engineering"))?, "confidential", "medium", server_room, "Archive of released product designs", "CAD files, schematics and firmware releases", "Synology", "DS1821+", Some(true)),
            ("building", "Brindlewood House – main building", facilities, "internal", "critical", building, "Head office: offices, server room and meeting rooms", "Houses the server room and staff working areas", "", "", None),
            ("cctv_nvr", "CCTV network video recorder", facilities, "confidential", "medium", server_room, "Records the building's CCTV cameras", "CCTV footage of entrances, car park and server room door", "Hikvision", "DS-7608NXI", Some(false)),
            ("access_panel", "Door access control panel", facilities, "confidential", "high", reception, "Controls badge access to the building and server room", "Badge holders' names and entry logs", "Paxton", "Net2 Plus", None),
            ("printer1", "Multifunction printer – first floor", facilities, "internal", "low", office, "Printing, scanning and copying", "Print jobs and scanned documents (stored on internal disk)", "Canon", "imageRUNNER ADVANCE DX C5840i", Some(false)),
            ("printer2", "Multifunction printer – reception", facilities, "internal", "low", reception, "Printing and scanning for visitors' paperwork", "Print jobs and scanned documents", "Canon", "imageRUNNER ADVANCE DX C3826i", Some(false)),
            ("rig", "Calibration rig controller PC", self.owner(O::N("Engineering"))?, "internal", "high", lab, "Drives the calibration rig and records results", "Calibration results and instrument serial numbers", "Advantech", "IPC-610", Some(true)),
        ];
        for (k, (key, name, owner, class, imp, loc, function, info, maker, model, enc)) in
            other.iter().enumerate()
        {
            let n = k as u64 + 4700;
            let facility = *owner == facilities;
            let m = obj(json!({
                "kind": "physical",
                "name": name,
                "owner_id": owner,
                "importance": imp,
                "classification": class,
                "location_id": loc,
                "tags": if facility { vec!["facilities"] } else { vec!["storage"] },
                "serial_number": if maker.is_empty() { None } else { Some(serial(n)) },
                "function": function,
                "information_description": info,
                "manufacturer": if maker.is_empty() { None } else { Some(maker) },
                "model": if model.is_empty() { None } else { Some(model) },
                "encrypted": enc,
                "labelled": !facility,
                // Nobody has checked the facilities assets since the manager retired.
                "last_reviewed_at": self.ts(if facility { -420 } else { -60 }),
                "last_reviewed_by": self.person(if facility { 47 } else { 10 })?,
                "next_review_at": if facility { Some(self.d(-55)) } else { None },
                "custom": {"cost_centre": TEAMS[if facility { OPS } else { IT }].1},
            }));
            b.add(Some((*key).into()), m);
        }
        Ok(())
    }

    fn virtual_assets(&self, b: &mut Batch) -> Result<(), AppError> {
        let eng = self.owner(O::N("Engineering"))?;
        let head_it = self.owner(O::N(HEAD_OF_IT))?;
        let devops = self.person(24)?;
        let sysadmin = self.person(10)?;
        // (key, name, function, information, provider, type, os, class, importance, owner)
        type Vm = (
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            Uuid,
        );
        let aws = "Amazon Web Services";
        #[rustfmt::skip]
        let vms: Vec<Vm> = vec![
            ("", "web-prod-1", "Customer portal web front end", "Customer sessions and portal pages", aws, "m6i.large", "Amazon Linux 2023", "confidential", "high", eng),
            ("", "web-prod-2", "Customer portal web front end", "Customer sessions and portal pages", aws, "m6i.large", "Amazon Linux 2023", "confidential", "high", eng),
            ("", "web-prod-3", "Customer portal web front end", "Customer sessions and portal pages", aws, "m6i.large", "Amazon Linux 2023", "confidential", "high", eng),
            ("", "web-prod-4", "Customer portal web front end", "Customer sessions and portal pages", aws, "m6i.large", "Amazon Linux 2023", "confidential", "high", eng),
            ("", "api-prod-1", "Device telemetry ingestion API", "Telemetry from customers' instruments", aws, "c6i.xlarge", "Amazon Linux 2023", "confidential", "high", eng),
            ("", "api-prod-2", "Device telemetry ingestion API", "Telemetry from customers' instruments", aws, "c6i.xlarge", "Amazon Linux 2023", "confidential", "high", eng),
            ("", "api-prod-3", "Device telemetry ingestion API", "Telemetry from customers' instruments", aws, "c6i.xlarge", "Amazon Linux 2023", "confidential", "high", eng),
            ("", "worker-prod-1", "Background jobs: reports, exports and e-mails", "Customer reports and notification e-mails", aws, "m6i.large", "Amazon Linux 2023", "confidential", "medium", eng),
            ("", "worker-prod-2", "Background jobs: reports, exports and e-mails", "Customer reports and notification e-mails", aws, "m6i.large", "Amazon Linux 2023", "confidential", "medium", eng),
            ("", "worker-prod-3", "Background jobs: reports, exports and e-mails", "Customer reports and notification e-mails", aws, "m6i.large", "Amazon Linux 2023", "confidential", "medium", eng),
            ("", "bastion-prod", "SSH bastion for production access", "Administrators' sessions", aws, "t3.small", "Amazon Linux 2023", "restricted", "high", eng),
            ("", "vpn-gw-prod", "Site-to-site VPN between office, data centre and cloud", "Network traffic between sites", aws, "VPN gateway", "", "confidential", "critical", head_it),
            ("eks", "eks-prod", "Kubernetes cluster for the customer platform", "Containers of the customer platform", aws, "EKS 1.29", "", "confidential", "critical", eng),
            ("crm_rds", "rds-portal-prod", "Managed PostgreSQL for the customer portal", "Portal accounts and preferences", aws, "db.r6g.large", "PostgreSQL 16", "restricted", "critical", eng),
            ("", "analytics-warehouse", "Analytics data warehouse", "Pseudonymised product usage data", aws, "Redshift ra3.xlplus", "", "confidential", "medium", eng),
            ("", "web-stg-1", "Staging web front end", "Synthetic test data only", aws, "t3.medium", "Amazon Linux 2023", "internal", "low", eng),
            ("", "api-stg-1", "Staging telemetry API", "Synthetic test data only", aws, "t3.medium", "Amazon Linux 2023", "internal", "low", eng),
            ("", "worker-stg-1", "Staging background jobs", "Synthetic test data only", aws, "t3.medium", "Amazon Linux 2023", "internal", "low", eng),
            ("", "db-stg-1", "Staging database", "Synthetic test data only", aws, "db.t4g.medium", "PostgreSQL 16", "internal", "low", eng),
            ("", "dev-sandbox-1", "", "", aws, "t3.large", "Ubuntu 22.04 LTS", "internal", "low", eng),
            ("", "dev-sandbox-2", "", "", aws, "t3.large", "Ubuntu 22.04 LTS", "internal", "low", eng),
            ("", "dev-sandbox-3", "", "", aws, "t3.large", "Ubuntu 22.04 LTS", "internal", "low", eng),
            ("", "dev-sandbox-4", "", "", aws, "t3.large", "Ubuntu 22.04 LTS", "internal", "low", eng),
            ("", "dev-sandbox-5", "", "", aws, "t3.large", "Ubuntu 22.04 LTS", "internal", "low", eng),
            ("", "dev-sandbox-6", "", "", aws, "t3.large", "Ubuntu 22.04 LTS", "internal", "low", eng),
            ("vm_erp_app", "vm-erp-app", "ERP application server (Sage 200)", "Orders, invoices, stock and supplier records", "VMware", "vSphere VM", "Windows Server 2022", "confidential", "critical", head_it),
            ("vm_erp_db", "vm-erp-db", "ERP database (SQL Server)", "Orders, invoices, stock and supplier records", "VMware", "vSphere VM", "Windows Server 2022", "confidential", "critical", head_it),
            ("vm_print", "vm-print", "Print server", "Print queues", "VMware", "vSphere VM", "Windows Server 2022", "internal", "low", head_it),
            ("vm_wsus", "vm-wsus", "Windows update server", "Update packages", "VMware", "vSphere VM", "Windows Server 2022", "internal", "medium", head_it),
            ("vm_siem", "vm-siem", "Security event collection (Wazuh)", "Security logs of servers, laptops and firewalls", "VMware", "vSphere VM", "Ubuntu 22.04 LTS", "restricted", "high", head_it),
            ("vm_jump", "vm-jump", "Administrators' jump host", "Administrators' sessions", "VMware", "vSphere VM", "Windows Server 2022", "restricted", "high", head_it),
            ("vm_lic", "vm-licence", "Licence server for engineering tools", "Licence checkouts", "VMware", "vSphere VM", "Windows Server 2022", "internal", "medium", head_it),
            ("vm_intranet", "vm-intranet", "Staff intranet", "Policies, news and the staff directory", "VMware", "vSphere VM", "Ubuntu 22.04 LTS", "internal", "low", head_it),
            ("vm_runner", "vm-git-runner", "CI runner for firmware builds", "Source code and build artefacts", "VMware", "vSphere VM", "Ubuntu 22.04 LTS", "confidential", "medium", head_it),
            ("vm_proxy", "vm-mon-proxy", "Monitoring proxy for the data centre", "Metrics", "VMware", "vSphere VM", "Debian 12", "internal", "low", head_it),
            ("", "az-ad-connect", "Directory synchronisation to Microsoft Entra ID", "Directory accounts", "Microsoft Azure", "Standard_B2s", "Windows Server 2022", "restricted", "high", head_it),
            ("", "az-backup-vault", "Cloud copy of the office backups", "Backup copies of file shares", "Microsoft Azure", "Recovery Services vault", "", "restricted", "high", head_it),
            ("", "gcp-ml-train-1", "Model training for drift prediction", "Pseudonymised sensor readings", "Google Cloud", "a2-highgpu-1g", "Debian 12", "confidential", "medium", eng),
            ("", "gcp-ml-train-2", "Model training for drift prediction", "Pseudonymised sensor readings", "Google Cloud", "a2-highgpu-1g", "Debian 12", "confidential", "medium", eng),
            ("", "portal-container-image", "Container image of the customer portal", "Application code; no data at rest", aws, "ECR image", "", "internal", "medium", eng),
            ("", "payments-service", "Payments microservice container", "Payment tokens (card data stays with the payment provider)", aws, "EKS deployment", "", "restricted", "high", eng),
            ("", "lambda-invoice-export", "Nightly invoice export to the accounting system", "Invoices", aws, "Lambda function", "", "confidential", "medium", eng),
            ("", "cdn-portal", "Content delivery for the customer portal", "Static portal assets", aws, "CloudFront distribution", "", "public", "medium", eng),
            ("", "sqs-telemetry", "Telemetry message queue", "Telemetry in transit", aws, "SQS queue", "", "confidential", "medium", eng),
        ];
        for (k, (key, name, function, info, provider, model, os, class, imp, owner)) in
            vms.into_iter().enumerate()
        {
            let n = k as u64 + 6000;
            let cloud = provider != "VMware";
            let resource = match provider {
                "Amazon Web Services" => format!("i-0{}", code(n, 16, HEX)),
                "Microsoft Azure" => format!("vm-{}", code(n, 12, HEX)),
                "Google Cloud" => code(n, 19, DIGITS),
                _ => format!("vm-{}", 1000 + k),
            };
            let ip = format!(
                "10.{}.{}.{}",
                if cloud { 60 } else { 10 },
                2 + k / 50,
                10 + k % 200
            );
            let sandbox = name.starts_with("dev-sandbox");
            let m = obj(json!({
                "kind": "virtual",
                "name": name,
                "owner_id": owner,
                "importance": imp,
                "classification": class,
                "tags": if cloud { vec!["cloud"] } else { vec!["on-premises-vm"] },
                "serial_number": resource,
                "function": if function.is_empty() { None } else { Some(function) },
                "information_description": if info.is_empty() { None } else { Some(info) },
                "manufacturer": provider,
                "model": model,
                "hostname": if os.is_empty() { None } else { Some(name) },
                "ip_addresses": if os.is_empty() { None } else { Some(vec![ip]) },
                "operating_system": if os.is_empty() { None } else { Some(os) },
                "encrypted": !(sandbox && k % 2 == 0),
                "last_reviewed_at": if sandbox { None } else { Some(self.ts(-(14 + k as i64 * 3))) },
                "last_reviewed_by": if sandbox { None } else { Some(if cloud { devops } else { sysadmin }) },
                "next_review_at": if k == 9 { Some(self.d(-21)) } else { None },
                "custom": {"cost_centre": TEAMS[if owner == eng { ENG } else { IT }].1},
                "external_ids": if provider == aws { Some(json!({"aws": resource})) } else { None },
            }));
            b.add((!key.is_empty()).then(|| key.to_string()), m);
        }
        Ok(())
    }

    fn data_assets(&self, b: &mut Batch) -> Result<(), AppError> {
        let dpo_person = self.person(6)?;
        let controller =
            format!("{ORGANISATION}, Unit 4, Kestrel Park, Millbrook (DPO: dpo@{DOMAIN})");
        let sec_standard = "Role-based access, MFA for every account, encryption in transit and at rest, quarterly access reviews, logging of administrative access";
        let ropa =
            |name: &str, owner: Uuid, class: &str, imp: &str, rest: Value| -> Map<String, Value> {
                let mut m = obj(json!({
                    "kind": "data",
                    "name": name,
                    "owner_id": owner,
                    "importance": imp,
                    "classification": class,
                    "tags": ["personal-data", "ropa"],
                    "controller": controller,
                    "contains_personal_data": true,
                    "security_measures": sec_standard,
                    "last_reviewed_at": self.ts(-75),
                    "last_reviewed_by": dpo_person,
                }));
                m.extend(obj(rest));
                m
            };
        let people_head = self.owner(O::N(HEAD_OF_PEOPLE))?;
        let fin_dir = self.owner(O::N(FINANCE_DIRECTOR))?;
        let sales = self.owner(O::N("Sales"))?;
        let eng = self.owner(O::N("Engineering"))?;
        let ciso = self.owner(O::N(CISO))?;
        let facilities = self.owner(O::N(FACILITIES))?;
        let ops = self.owner(O::N("Operations"))?;
        let head_sales = self.person(4)?;

        b.add(Some("hr_records".into()), ropa("Employee HR records", people_head, "restricted", "high", json!({
            "description": "Personnel files: contracts, absence, performance and disciplinary records.",
            "business_function": "People (HR)",
            "systems": "BambooHR; HR share on file-01",
            "purpose": "Administer employment: contracts, pay reviews, absence, performance and legal duties as an employer",
            "data_subject_categories": ["Employees", "Former employees", "Contractors"],
            "personal_data_categories": ["Contact details", "Bank details", "National Insurance number", "Absence and sickness records", "Performance reviews", "Right-to-work documents"],
            "special_category_data": true,
            "recipient_categories": ["HR team", "Line managers", "Payroll bureau", "HMRC", "Pension provider"],
            "lawful_basis": "contract",
            "retention": "6 years after employment ends",
            "retention_days": 2190,
            "volume": 180,
            "risks_to_subjects": "Disclosure of health or disciplinary information could cause distress and discrimination",
            "risk_rating": "high",
            "risk_actions": "Health data in a separate restricted folder; access limited to HR; annual access review by the DPO",
        })));
        b.add(Some("payroll".into()), ropa("Payroll records", fin_dir, "restricted", "critical", json!({
            "business_function": "Finance",
            "systems": "Sage Payroll; payroll bureau portal",
            "purpose": "Pay staff, deduct tax and pension contributions, and report to HMRC",
            "data_subject_categories": ["Employees", "Former employees"],
            "personal_data_categories": ["Name and address", "Bank details", "Salary", "Tax code", "National Insurance number", "Pension contributions"],
            "special_category_data": false,
            "recipient_categories": ["Payroll bureau", "HMRC", "Pension provider", "Bank"],
            "lawful_basis": "legal_obligation",
            "retention": "6 years after the end of the tax year",
            "retention_days": 2555,
            "volume": 600,
            "risk_rating": "medium",
            "risk_actions": "Two-person approval of payment runs; bureau contract with Art. 28 terms",
        })));
        b.add(Some("customer_db".into()), ropa("Customer accounts database", eng, "restricted", "critical", json!({
            "description": "Customer portal accounts, orders and registered instruments.",
            "business_function": "Customer platform",
            "purpose": "Provide the customer portal: accounts, orders, instrument registration and support",
            "data_subject_categories": ["Customers' staff", "Portal users"],
            "personal_data_categories": ["Name", "Business e-mail", "Phone number", "Order history", "Login records"],
            "special_category_data": false,
            "recipient_categories": ["Customer support", "Hosting provider", "Payment provider"],
            "lawful_basis": "contract",
            "retention": "Account lifetime plus 2 years",
            "retention_days": 730,
            "volume": 42000,
            "risk_rating": "medium",
            "risk_actions": "Encrypted at rest; production access via bastion only; annual penetration test",
        })));
        b.add(Some("crm_records".into()), ropa("Customer CRM records", sales, "confidential", "high", json!({
            "business_function": "Sales and marketing",
            "purpose": "Manage relationships with customers and prospects: contacts, opportunities and quotes",
            "data_subject_categories": ["Customer contacts", "Prospects"],
            "personal_data_categories": ["Name", "Job title", "Business e-mail", "Phone number", "Meeting notes"],
            "special_category_data": false,
            "recipient_categories": ["Sales team", "Customer success", "CRM provider (processor)"],
            "international_transfers": [{"country": "United States", "safeguard": "EU–US Data Privacy Framework certification and Standard Contractual Clauses"}],
            "lawful_basis": "legitimate_interests",
            "retention": "3 years after the last contact",
            "retention_days": 1095,
            "volume": 15500,
            "risks_to_subjects": "Unwanted contact; disclosure of contact details",
            "risk_rating": "medium",
            "risk_actions": "Legitimate interests assessment on file; opt-out honoured within 48 hours",
        })));
        b.add(None, ropa("Recruitment applicant files", people_head, "confidential", "medium", json!({
            "business_function": "People (HR)",
            "systems": "Greenhouse",
            "purpose": "Assess applicants for vacancies",
            "data_subject_categories": ["Job applicants"],
            "personal_data_categories": ["CV", "Contact details", "Interview notes", "Right-to-work check"],
            "special_category_data": false,
            "recipient_categories": ["Hiring managers", "Recruitment agencies"],
            "lawful_basis": "legitimate_interests",
            "retention": "6 months after the vacancy closes",
            "retention_days": 183,
            "volume": 900,
            "risk_rating": "low",
        })));
        b.add(None, ropa("Customer support tickets", self.owner(O::P(40))?, "confidential", "medium", json!({
            "business_function": "Customer success",
            "systems": "Zendesk",
            "purpose": "Answer customers' support requests and track defects",
            "data_subject_categories": ["Customers' staff"],
            "personal_data_categories": ["Name", "Business e-mail", "Ticket contents", "Attachments"],
            "special_category_data": false,
            "recipient_categories": ["Support team", "Engineering", "Helpdesk provider (processor)"],
            "lawful_basis": "contract",
            "retention": "3 years after the ticket closes",
            "retention_days": 1095,
            "volume": 23000,
            "risk_rating": "low",
        })));
        b.add(None, ropa("Marketing mailing list", self.owner(O::P(39))?, "internal", "medium", json!({
            "business_function": "Marketing",
            "systems": "Mailchimp",
            "purpose": "Send newsletters and product announcements to subscribers",
            "data_subject_categories": ["Newsletter subscribers"],
            "personal_data_categories": ["E-mail address", "Name", "Subscription preferences", "Open and click statistics"],
            "special_category_data": false,
            "recipient_categories": ["Marketing team", "E-mail service provider (processor)"],
            "lawful_basis": "consent",
            "retention": "Until consent is withdrawn",
            "volume": 8200,
            "risk_rating": "low",
        })));
        b.add(Some("cctv_footage".into()), ropa("CCTV footage", facilities, "confidential", "medium", json!({
            "business_function": "Facilities",
            "purpose": "Protect the premises, staff and equipment; investigate incidents",
            "data_subject_categories": ["Staff", "Visitors", "Contractors", "Members of the public"],
            "personal_data_categories": ["Images", "Vehicle registration plates"],
            "special_category_data": false,
            "recipient_categories": ["Facilities", "Police on request"],
            "lawful_basis": "legitimate_interests",
            "retention": "30 days, unless kept for an incident",
            "retention_days": 30,
            "risks_to_subjects": "Monitoring of staff beyond the stated purpose",
            "risk_rating": "medium",
            "risk_actions": "Signs at every camera; no cameras in private areas; access logged",
            "last_reviewed_at": self.ts(-430),
            "next_review_at": self.d(-65),
        })));
        b.add(None, ropa("Visitor log", facilities, "internal", "low", json!({
            "business_function": "Facilities",
            "systems": "Reception visitor book (tablet app)",
            "purpose": "Know who is on site for safety and security",
            "data_subject_categories": ["Visitors", "Contractors"],
            "personal_data_categories": ["Name", "Company", "Arrival and departure times", "Vehicle registration"],
            "special_category_data": false,
            "recipient_categories": ["Reception", "Fire marshals"],
            "lawful_basis": "legitimate_interests",
            "retention": "12 months",
            "retention_days": 365,
            "risk_rating": "low",
        })));
        b.add(None, ropa("Expense claims", fin_dir, "confidential", "low", json!({
            "business_function": "Finance",
            "systems": "Expensify",
            "purpose": "Reimburse staff for business expenses",
            "data_subject_categories": ["Employees"],
            "personal_data_categories": ["Name", "Bank details", "Receipts", "Travel details"],
            "special_category_data": false,
            "recipient_categories": ["Finance team", "Expense service provider (processor)", "HMRC"],
            "lawful_basis": "legal_obligation",
            "retention": "6 years",
            "retention_days": 2190,
            "risk_rating": "low",
        })));
        b.add(None, ropa("Occupational health referrals", people_head, "restricted", "high", json!({
            "business_function": "People (HR)",
            "systems": "Occupational health provider's portal",
            "purpose": "Support staff returning to work and make reasonable adjustments",
            "data_subject_categories": ["Employees"],
            "personal_data_categories": ["Health information", "Fitness-for-work assessments"],
            "special_category_data": true,
            "recipient_categories": ["Occupational health provider", "Head of People"],
            "lawful_basis": "legal_obligation",
            "retention": "6 years after employment ends",
            "retention_days": 2190,
            "volume": 25,
            "risks_to_subjects": "Disclosure of health conditions",
            "risk_rating": "very_high",
            "risk_actions": "Held only by the provider; HR keeps outcome letters, not medical reports; DPIA completed",
        })));
        b.add(Some("telemetry".into()), ropa("Instrument telemetry with user identifiers", eng, "confidential", "high", json!({
            "business_function": "Product",
            "purpose": "Monitor instrument health and predict calibration drift",
            "data_subject_categories": ["Portal users"],
            "personal_data_categories": ["User id", "Instrument location (site level)", "Usage times"],
            "special_category_data": false,
            "recipient_categories": ["Engineering", "Cloud hosting provider (processor)"],
            "lawful_basis": "legitimate_interests",
            "retention": "24 months, then aggregated",
            "retention_days": 730,
            "volume": 3_500_000,
            "risks_to_subjects": "Tracking of individual users' working patterns",
            "risk_rating": "high",
            "risk_actions": "Pseudonymise user ids before analysis; aggregate after 24 months; DPIA review yearly",
        })));
        b.add(Some("security_logs".into()), ropa("Security event logs", ciso, "restricted", "high", json!({
            "business_function": "Information security",
            "purpose": "Detect and investigate security incidents",
            "data_subject_categories": ["Staff", "Contractors", "Portal users"],
            "personal_data_categories": ["Usernames", "IP addresses", "Device identifiers", "Sign-in times"],
            "special_category_data": false,
            "recipient_categories": ["IT security team", "Incident response retainer"],
            "lawful_basis": "legitimate_interests",
            "retention": "13 months",
            "retention_days": 395,
            "risk_rating": "medium",
            "risk_actions": "Read access limited to the security team; integrity-protected storage",
        })));
        // Incomplete on purpose: no lawful basis, no recipients, and high risk without actions.
        b.add(
            Some("sales_recordings".into()),
            obj(json!({
                "kind": "data",
                "name": "Sales call recordings",
                "owner_id": head_sales,
                "importance": "medium",
                "classification": "confidential",
                "tags": ["personal-data"],
                "business_function": "Sales",
                "systems": "Zoom cloud recordings",
                "purpose": "Coaching and quality review of sales calls",
                "controller": controller,
                "contains_personal_data": true,
                "data_subject_categories": ["Prospects", "Sales staff"],
                "personal_data_categories": ["Voice recordings", "Names", "Meeting content"],
                "retention": "Not yet decided",
                "risk_rating": "high",
                "last_reviewed_at": self.ts(-200),
            })),
        );
        // Information assets without personal data.
        // (name, owner, class, importance, business function, systems, purpose)
        #[rustfmt::skip]
        let plain: &[(&str, Uuid, &str, &str, &str, &str, &str)] = &[
            ("General ledger and management accounts", fin_dir, "confidential", "critical", "Finance", "Sage 200 (vm-erp-app)", "Statutory accounts and monthly management reporting"),
            ("Board minutes and papers", self.person(0)?, "restricted", "high", "Executive", "Board portal on SharePoint", "Record board decisions"),
            ("Product design files (CAD)", eng, "confidential", "critical", "Engineering", "Design archive NAS; Fusion cloud", "Design and manufacture the instrument range"),
            ("Firmware release archive", eng, "confidential", "high", "Engineering", "GitHub releases; design archive NAS", "Reproduce and support every firmware release"),
            ("Calibration reference data", ops, "confidential", "critical", "Operations", "Calibration rig controller PC", "Calibrate instruments against traceable references"),
            ("Pricing and margin models", fin_dir, "restricted", "high", "Finance", "Finance share on file-01", "Set prices and discounts"),
            ("Sales pipeline forecasts", sales, "confidential", "medium", "Sales", "HubSpot", "Forecast revenue"),
            ("Supplier contracts", self.owner(O::N("Legal & Compliance"))?, "confidential", "high", "Legal", "Contract repository on SharePoint", "Manage supplier obligations and renewals"),
            ("ISMS documentation", ciso, "internal", "high", "Information security", "Confluence ISMS space", "Run the information security management system"),
            ("Synthetic test data set", eng, "public", "low", "Engineering", "GitHub repository test-fixtures", "Test the customer platform without real data"),
            ("Sensor training data set", eng, "internal", "medium", "Engineering", "GCS bucket ml-training", "Train the drift prediction model"),
            ("Marketing website content", sales, "public", "low", "Marketing", "Website CMS", "Publish product information"),
            ("Quality management records (ISO 9001)", ops, "internal", "high", "Operations", "Quality share on SharePoint", "Evidence the quality management system"),
            ("Bill of materials and supplier part numbers", ops, "confidential", "high", "Operations", "ERP (vm-erp-app)", "Purchase components and build instruments"),
            ("Penetration test reports", ciso, "restricted", "high", "Information security", "Security share (restricted)", "Track and fix findings of security tests"),
            ("Network diagrams and firewall rules", self.owner(O::N(HEAD_OF_IT))?, "restricted", "medium", "IT", "IT documentation in Confluence", "Operate and change the network safely"),
        ];
        for (k, (name, owner, class, imp, function, systems, purpose)) in plain.iter().enumerate() {
            let mut m = obj(json!({
                "kind": "data",
                "name": name,
                "owner_id": owner,
                "importance": imp,
                "classification": class,
                "business_function": function,
                "systems": systems,
                "purpose": purpose,
                "contains_personal_data": false,
                "security_measures": "Access limited to the owning team; backed up nightly",
                "last_reviewed_at": self.ts(-(40 + k as i64 * 13)),
                "last_reviewed_by": dpo_person,
            }));
            if k % 6 == 2 {
                m.remove("contains_personal_data");
            }
            if k == 5 || k == 11 {
                m.insert("next_review_at".into(), json!(self.d(-(10 + k as i64))));
            }
            b.add(None, m);
        }
        Ok(())
    }

    fn software(&self, b: &mut Batch) -> Result<(), AppError> {
        let it = self.owner(O::N("IT"))?;
        let eng = self.owner(O::N("Engineering"))?;
        let fin = self.owner(O::N(FINANCE_DIRECTOR))?;
        let head_it = self.owner(O::N(HEAD_OF_IT))?;
        let reviewer = self.person(2)?;
        let proof = "Licences folder on the IT SharePoint site";
        // (key, name, version, model, purchased, used, vendor, spdx, cost, deployed on, owner, expires in days, licence key)
        type Sw = (
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            Option<i64>,
            Option<i64>,
            &'static str,
            Option<&'static str>,
            Option<f64>,
            Option<&'static str>,
            Uuid,
            Option<i64>,
            Option<&'static str>,
        );
        #[rustfmt::skip]
        let titles: &[Sw] = &[
            ("sw_m365", "Microsoft 365 E3", "2024", "subscription", Some(55), Some(49), "Microsoft", None, Some(20_340.0), Some("All staff laptops and phones"), it, Some(160), None),
            ("sw_acrobat", "Adobe Acrobat Pro", "2024.002", "subscription", Some(10), Some(14), "Adobe", None, Some(2_280.0), Some("Finance, Legal and Sales laptops"), it, Some(95), None),
            ("sw_fusion", "Autodesk Fusion", "2.0.18477", "subscription", Some(8), Some(7), "Autodesk", None, Some(4_560.0), Some("Engineering workstations"), eng, Some(18), None),
            ("sw_solidworks", "SOLIDWORKS Professional", "2023 SP5", "perpetual", Some(3), Some(3), "Dassault Systèmes", None, Some(16_500.0), Some("Engineering workstations"), eng, None, Some("SWX-9K2D-77QH-ZP41-XC09")),
            ("sw_altium", "Altium Designer", "24.1", "subscription", Some(4), Some(4), "Altium", None, Some(17_600.0), Some("Electronics engineers' laptops"), eng, Some(240), Some("ALT-4471-BRW-2291")),
            ("sw_matlab", "MATLAB", "R2024a", "subscription", Some(5), Some(3), "MathWorks", None, Some(9_250.0), Some("Engineering laptops"), eng, Some(300), None),
            ("sw_intellij", "IntelliJ IDEA Ultimate", "2024.1", "subscription", Some(12), Some(11), "JetBrains", None, Some(6_588.0), Some("Software engineers' laptops"), eng, Some(120), None),
            ("sw_vs", "Visual Studio Professional", "17.9", "subscription", Some(4), Some(2), "Microsoft", None, Some(2_000.0), Some("Firmware engineers' laptops"), eng, Some(200), None),
            ("sw_visio", "Microsoft Visio Plan 2", "2024", "subscription", Some(3), Some(3), "Microsoft", None, Some(540.0), Some("IT laptops"), it, Some(160), None),
            ("sw_sage", "Sage 200 Professional", "2024 R1", "subscription", Some(8), Some(6), "Sage", None, Some(7_800.0), None, fin, Some(75), None),
            ("sw_sage_payroll", "Sage 50 Payroll", "30.1", "subscription", Some(2), Some(2), "Sage", None, Some(960.0), Some("Payroll officer's laptop"), fin, Some(45), None),
            ("sw_winserver", "Windows Server 2022 Datacenter", "21H2", "perpetual", Some(4), Some(4), "Microsoft", None, Some(24_000.0), None, head_it, None, Some("WSDC-7H3K2-M9Q4P-XT6VB-2RJ8D")),
            ("sw_vsphere", "VMware vSphere Standard", "8.0 U2", "subscription", Some(4), Some(4), "Broadcom", None, Some(6_400.0), None, head_it, Some(130), None),
            ("sw_veeam", "Veeam Backup & Replication", "12.1", "subscription", Some(10), Some(9), "Veeam", None, Some(3_900.0), None, head_it, Some(210), None),
            ("sw_sophos", "Sophos Intercept X Advanced", "2024.1", "subscription", Some(60), Some(57), "Sophos", None, Some(3_600.0), Some("All laptops and servers"), it, Some(280), None),
            ("sw_tableau", "Tableau Desktop", "2024.1", "subscription", Some(2), Some(1), "Salesforce", None, Some(1_680.0), Some("Finance laptops"), fin, Some(330), None),
            ("sw_snagit", "Snagit", "2024", "perpetual", Some(10), Some(6), "TechSmith", None, Some(630.0), Some("Support and marketing laptops"), it, None, None),
            ("sw_keil", "Arm Keil MDK Professional", "5.39", "perpetual", Some(3), Some(3), "Arm", None, Some(11_700.0), Some("Firmware engineers' laptops"), eng, None, Some("KEIL-MDK-PRO-55T2-91XA")),
            ("sw_labview", "LabVIEW Professional", "2024 Q1", "subscription", Some(2), Some(2), "NI", None, Some(6_900.0), Some("Calibration rig controller PC"), eng, Some(60), None),
            ("sw_zoom_rooms", "Zoom Rooms", "5.17", "subscription", Some(2), Some(2), "Zoom", None, Some(1_000.0), Some("Board room display"), it, Some(150), None),
            ("sw_postgres", "PostgreSQL", "16.2", "open_source", None, None, "PostgreSQL Global Development Group", Some("PostgreSQL"), None, None, eng, None, None),
            ("sw_nginx", "nginx", "1.24", "open_source", None, None, "F5 / nginx community", Some("BSD-2-Clause"), None, None, eng, None, None),
            ("sw_zabbix", "Zabbix", "6.4", "open_source", None, None, "Zabbix LLC", Some("AGPL-3.0-only"), None, None, head_it, None, None),
            ("sw_wazuh", "Wazuh", "4.7", "open_source", None, None, "Wazuh Inc.", Some("GPL-2.0-only"), None, None, head_it, None, None),
            ("sw_grafana", "Grafana", "10.4", "open_source", None, None, "Grafana Labs", Some("AGPL-3.0-only"), None, Some("mon-01"), head_it, None, None),
            ("sw_docker", "Docker Engine", "25.0", "open_source", None, None, "Docker Inc.", Some("Apache-2.0"), None, Some("Build servers and developers' laptops"), eng, None, None),
            ("sw_python", "Python", "3.12", "open_source", None, None, "Python Software Foundation", Some("PSF-2.0"), None, Some("Developers' laptops and build servers"), eng, None, None),
            ("sw_kicad", "KiCad", "8.0", "open_source", None, None, "KiCad project", Some("GPL-3.0-or-later"), None, Some("Electronics engineers' laptops"), eng, None, None),
            ("sw_libreoffice", "LibreOffice", "24.2", "open_source", None, None, "The Document Foundation", Some("MPL-2.0"), None, Some("Calibration lab PCs"), it, None, None),
            ("sw_git", "Git", "2.44", "open_source", None, None, "Git project", Some("GPL-2.0-only"), None, Some("Developers' laptops"), eng, None, None),
            ("sw_openssl", "OpenSSL", "3.0.13", "open_source", None, None, "OpenSSL Foundation", Some("Apache-2.0"), None, Some("Customer platform servers"), eng, None, None),
            ("sw_keepassxc", "KeePassXC", "2.7", "open_source", None, None, "KeePassXC team", Some("GPL-3.0-or-later"), None, Some("Lab PCs (offline vault)"), it, None, None),
            ("sw_wireshark", "Wireshark", "4.2", "open_source", None, None, "Wireshark Foundation", Some("GPL-2.0-or-later"), None, Some("IT and network engineers' laptops"), it, None, None),
            ("sw_7zip", "7-Zip", "23.01", "free", None, None, "Igor Pavlov", Some("LGPL-2.1-or-later"), None, Some("All Windows laptops"), it, None, None),
            ("sw_chrome", "Google Chrome Enterprise", "123", "free", None, None, "Google", None, None, Some("All laptops"), it, None, None),
            ("sw_firefox", "Mozilla Firefox ESR", "115", "open_source", None, None, "Mozilla", Some("MPL-2.0"), None, Some("Engineering laptops"), it, None, None),
            ("sw_teamviewer", "TeamViewer Business", "15.52", "subscription", Some(1), Some(1), "TeamViewer", None, Some(550.0), Some("IT support laptop"), it, Some(25), None),
            ("sw_firmware", "Brindlewood instrument firmware", "4.8.2", "perpetual", None, None, ORGANISATION, None, None, Some("Every instrument sold"), eng, None, None),
            ("sw_portal", "Brindlewood customer portal", "2024.14", "perpetual", None, None, ORGANISATION, None, None, None, eng, None, None),
            ("sw_calib", "Calibration suite", "3.2", "perpetual", None, None, ORGANISATION, None, None, Some("Calibration rig controller PC"), eng, None, None),
        ];
        for (k, t) in titles.iter().enumerate() {
            let (
                key,
                name,
                version,
                model,
                purchased,
                used,
                vendor,
                spdx,
                cost,
                deployed,
                owner,
                expires,
                licence_key,
            ) = *t;
            let proprietary = matches!(model, "perpetual" | "subscription");
            let in_house = vendor == ORGANISATION;
            let mut m = obj(json!({
                "kind": "software",
                "name": name,
                "owner_id": owner,
                "importance": if in_house || key == "sw_m365" { "critical" } else if proprietary { "medium" } else { "low" },
                "classification": if in_house { "confidential" } else { "internal" },
                "tags": if in_house { vec!["in-house"] } else if proprietary { vec!["licensed"] } else { vec!["open-source"] },
                "software_version": version,
                "licence_model": model,
                "licences_purchased": purchased,
                "licences_used": used,
                "licence_location": if proprietary && !in_house { Some(proof) } else { None },
                "deployed_on": deployed,
                "vendor": vendor,
                "spdx_license": spdx,
                "licence_expires_at": expires.map(|d| self.d(d)),
                "cost": cost,
                "licence_key": licence_key,
                "last_reviewed_at": self.ts(-(20 + k as i64 * 5)),
                "last_reviewed_by": reviewer,
                "custom": {"cost_centre": TEAMS[if owner == eng { ENG } else if owner == fin { FIN } else { IT }].1},
            }));
            // A few records a reviewer should complete or revisit.
            if key == "sw_snagit" || key == "sw_tableau" {
                m.remove("licence_location");
            }
            if key == "sw_keepassxc" || key == "sw_zoom_rooms" {
                m.insert("next_review_at".into(), json!(self.d(-(8 + k as i64))));
            }
            if key == "sw_wireshark" {
                m.remove("software_version");
            }
            b.add(Some(key.into()), m);
        }
        Ok(())
    }

    fn services(&self, b: &mut Batch) -> Result<(), AppError> {
        let it = self.owner(O::N("IT"))?;
        let eng = self.owner(O::N("Engineering"))?;
        let sales = self.owner(O::N("Sales"))?;
        let fin = self.owner(O::N(FINANCE_DIRECTOR))?;
        let people = self.owner(O::N(HEAD_OF_PEOPLE))?;
        let ciso = self.owner(O::N(CISO))?;
        let ops = self.owner(O::N("Operations"))?;
        let facilities = self.owner(O::N(FACILITIES))?;
        let legal = self.owner(O::N("Legal & Compliance"))?;
        // (key, name, provider, url, contract ends in days, SSO, owner, class, importance)
        type Svc = (
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            Option<i64>,
            bool,
            Uuid,
            &'static str,
            &'static str,
        );
        #[rustfmt::skip]
        let services: &[Svc] = &[
            ("svc_entra", "Microsoft Entra ID", "Microsoft", "https://entra.microsoft.com", Some(160), true, it, "restricted", "critical"),
            ("svc_exchange", "Exchange Online", "Microsoft", "https://outlook.office.com", Some(160), true, it, "confidential", "critical"),
            ("svc_sharepoint", "SharePoint Online", "Microsoft", "https://brindlewood.sharepoint.com", Some(160), true, it, "confidential", "high"),
            ("svc_aws", "Amazon Web Services (production account)", "Amazon Web Services", "https://console.aws.amazon.com", Some(340), true, eng, "restricted", "critical"),
            ("svc_azure", "Microsoft Azure subscription", "Microsoft", "https://portal.azure.com", Some(160), true, it, "confidential", "medium"),
            ("svc_gcp", "Google Cloud project (ML)", "Google", "https://console.cloud.google.com", Some(200), true, eng, "confidential", "medium"),
            ("svc_github", "GitHub Enterprise Cloud", "GitHub", "https://github.com", Some(210), true, eng, "confidential", "critical"),
            ("svc_jira", "Jira Software Cloud", "Atlassian", "https://brindlewood.atlassian.net", Some(90), true, eng, "internal", "high"),
            ("svc_confluence", "Confluence Cloud", "Atlassian", "https://brindlewood.atlassian.net/wiki", Some(90), true, eng, "internal", "high"),
            ("svc_slack", "Slack", "Salesforce", "https://brindlewood.slack.com", Some(120), true, it, "internal", "high"),
            ("svc_zoom", "Zoom Workplace", "Zoom", "https://zoom.us", Some(150), true, it, "internal", "medium"),
            ("svc_hubspot", "HubSpot CRM", "HubSpot", "https://app.hubspot.com", Some(260), true, sales, "confidential", "high"),
            ("svc_zendesk", "Zendesk Support", "Zendesk", "https://brindlewood.zendesk.com", Some(70), true, sales, "confidential", "high"),
            ("svc_mailchimp", "Mailchimp", "Intuit", "https://mailchimp.com", None, false, sales, "internal", "low"),
            ("svc_docusign", "DocuSign eSignature", "DocuSign", "https://app.docusign.com", Some(300), true, legal, "confidential", "medium"),
            ("svc_bamboohr", "BambooHR", "BambooHR", "https://brindlewood.bamboohr.com", Some(200), true, people, "restricted", "high"),
            ("svc_greenhouse", "Greenhouse Recruiting", "Greenhouse", "https://app.greenhouse.io", Some(45), false, people, "confidential", "medium"),
            ("svc_expensify", "Expensify", "Expensify", "https://www.expensify.com", Some(110), false, fin, "confidential", "low"),
            ("svc_bank", "Online banking", "Lombard Street Bank (fictional)", "https://business.lombardstreet.example", Some(600), false, fin, "restricted", "critical"),
            ("svc_payroll", "Payroll bureau", "Aldgate Payroll Services (fictional)", "https://portal.aldgatepayroll.example", Some(330), false, fin, "restricted", "high"),
            ("svc_pension", "Workplace pension scheme", "Thistle Pensions (fictional)", "https://employer.thistlepensions.example", Some(450), false, people, "confidential", "medium"),
            ("svc_1password", "1Password Business", "1Password", "https://brindlewood.1password.eu", Some(180), true, it, "restricted", "critical"),
            ("svc_crowdstrike", "CrowdStrike Falcon Complete", "CrowdStrike", "https://falcon.eu-1.crowdstrike.com", Some(240), true, ciso, "restricted", "critical"),
            ("svc_knowbe4", "KnowBe4 security awareness training", "KnowBe4", "https://training.knowbe4.com", Some(35), true, ciso, "internal", "medium"),
            ("svc_cloudflare", "Cloudflare (DNS and web protection)", "Cloudflare", "https://dash.cloudflare.com", Some(190), true, it, "confidential", "critical"),
            ("svc_datadog", "Datadog monitoring", "Datadog", "https://app.datadoghq.eu", Some(140), true, eng, "confidential", "high"),
            ("svc_pagerduty", "PagerDuty", "PagerDuty", "https://brindlewood.pagerduty.com", Some(140), true, eng, "internal", "high"),
            ("svc_sentry", "Sentry error tracking", "Sentry", "https://sentry.io", None, true, eng, "confidential", "medium"),
            ("svc_stripe", "Stripe payments", "Stripe", "https://dashboard.stripe.com", Some(365), false, fin, "restricted", "critical"),
            ("svc_twilio", "Twilio SMS notifications", "Twilio", "https://console.twilio.com", None, false, eng, "confidential", "medium"),
            ("svc_figma", "Figma", "Figma", "https://www.figma.com", Some(100), true, eng, "internal", "low"),
            ("svc_miro", "Miro", "Miro", "https://miro.com", Some(100), true, eng, "internal", "low"),
            ("svc_canva", "Canva Teams", "Canva", "https://www.canva.com", Some(80), false, sales, "public", "low"),
            ("svc_linkedin", "LinkedIn Recruiter Lite", "LinkedIn", "https://www.linkedin.com/talent", Some(20), false, people, "internal", "low"),
            ("svc_xero_practice", "Accountants' portal", "Harwood & Pike Chartered Accountants (fictional)", "https://portal.harwoodpike.example", Some(270), false, fin, "confidential", "medium"),
            ("svc_msp", "Out-of-hours IT support", "Fellside Managed IT (fictional)", "https://support.fellsideit.example", Some(280), false, it, "confidential", "high"),
            ("svc_colo", "Colocation and remote hands", "Northgate Data Centres (fictional)", "https://portal.northgate-dc.example", Some(400), false, it, "confidential", "critical"),
            ("svc_isp", "Leased line internet (1 Gbit/s)", "Wharfedale Networks (fictional)", "https://my.wharfedale.example", Some(510), false, it, "internal", "critical"),
            ("svc_shredding", "Secure shredding and media destruction", "Ironvale Secure Disposal (fictional)", "https://ironvale.example", Some(230), false, facilities, "confidential", "medium"),
            ("svc_cleaning", "Office cleaning", "Brightside Cleaning (fictional)", "https://brightside-cleaning.example", None, false, facilities, "internal", "low"),
            ("svc_print", "Managed print service", "Inkwell Office Solutions (fictional)", "https://inkwell-office.example", Some(-12), false, facilities, "internal", "low"),
            ("svc_courier", "Courier and logistics account", "Swiftline Couriers (fictional)", "https://swiftline.example", None, false, ops, "internal", "medium"),
            ("svc_calib_lab", "UKAS calibration of reference standards", "Meridian Metrology (fictional)", "https://meridian-metrology.example", Some(150), false, ops, "confidential", "high"),
            ("svc_legal_db", "Legal research database", "Statute Street (fictional)", "https://statutestreet.example", Some(60), false, legal, "internal", "low"),
            ("svc_pentest", "Annual penetration test", "Redgate Assurance (fictional)", "https://redgate-assurance.example", Some(90), false, ciso, "restricted", "high"),
        ];
        for (k, (key, name, provider, url, ends, sso, owner, class, imp)) in
            services.iter().enumerate()
        {
            let m = obj(json!({
                "kind": "service",
                "name": name,
                "owner_id": owner,
                "importance": imp,
                "classification": class,
                "tags": ["saas"],
                "provider": provider,
                "url": url,
                "contract_ends_at": ends.map(|d| self.d(d)),
                "sso_enabled": sso,
                "last_reviewed_at": self.ts(-(25 + k as i64 * 7)),
                "last_reviewed_by": self.person(if *owner == facilities { 47 } else { 2 })?,
                "next_review_at": if k % 13 == 6 { Some(self.d(-(15 + k as i64))) } else { None },
            }));
            b.add(Some((*key).into()), m);
        }
        Ok(())
    }

    fn intangibles(&self, b: &mut Batch) -> Result<(), AppError> {
        let ceo = self.person(0)?;
        let cto = self.person(3)?;
        let legal = self.owner(O::N("Legal & Compliance"))?;
        let eng = self.owner(O::N("Engineering"))?;
        let sales = self.owner(O::N("Sales"))?;
        // (name, description, registration, jurisdiction, expires in days, owner, class, importance)
        type Ip = (
            &'static str,
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<i64>,
            Uuid,
            &'static str,
            &'static str,
        );
        #[rustfmt::skip]
        let items: &[Ip] = &[
            ("BRINDLEWOOD word mark (UK)", "Registered trade mark for measuring instruments (class 9)", Some("UK00003987123"), Some("United Kingdom"), Some(2900), legal, "public", "high"),
            ("BRINDLEWOOD word mark (EU)", "EU trade mark, classes 9 and 42", Some("018812345"), Some("European Union"), Some(2750), legal, "public", "high"),
            ("Brindlewood logo (figurative mark)", "The wren-and-dial logo", Some("UK00003987124"), Some("United Kingdom"), Some(2900), legal, "public", "medium"),
            ("DRIFTGUARD product name", "Trade mark for the drift-prediction service", Some("UK00004011876"), Some("United Kingdom"), Some(3400), legal, "public", "medium"),
            ("Patent: temperature-compensated strain measurement", "Granted patent for the compensation circuit in the SG-series", Some("GB2598765"), Some("United Kingdom"), Some(5100), cto, "confidential", "critical"),
            ("Patent application: predictive calibration scheduling", "Pending application for drift-based calibration intervals", Some("EP4123456"), Some("European Patent Office"), None, cto, "confidential", "high"),
            ("Registered design: SG-400 enclosure", "Registered design of the SG-400 housing", Some("6201234"), Some("United Kingdom"), Some(1200), legal, "internal", "medium"),
            ("Instrument firmware source code", "All firmware for the SG and TX product lines", None, None, None, eng, "restricted", "critical"),
            ("Customer portal source code", "Source code of the customer portal and APIs", None, None, None, eng, "confidential", "critical"),
            ("Mobile app source code", "Source code of the field engineer's mobile app", None, None, None, eng, "confidential", "high"),
            ("Data pipeline and ML model code", "Telemetry pipeline and the drift prediction model", None, None, None, eng, "confidential", "high"),
            ("Drift prediction model weights", "Trained model parameters (a trade secret)", None, None, None, eng, "restricted", "high"),
            ("Calibration procedures (know-how)", "Documented calibration methods, kept as trade secrets", None, None, None, self.owner(O::N("Operations"))?, "restricted", "critical"),
            ("brindlewood.example domain name", "Primary internet domain", None, Some("Internet (ICANN)"), Some(28), self.owner(O::N(HEAD_OF_IT))?, "public", "critical"),
            ("Brand guidelines", "Logo usage, colours and typography", None, None, None, sales, "public", "low"),
            ("Product photography library", "Photographs licensed for marketing use", None, None, None, sales, "internal", "low"),
            ("Technical documentation copyright", "User manuals and application notes", None, None, None, sales, "public", "medium"),
            ("Customer relationships and goodwill", "Key accounts and distributor agreements", None, None, None, ceo, "confidential", "high"),
            ("Distribution agreement: Nordics", "Exclusive distribution rights for Scandinavia", Some("DA-2022-NORD"), Some("Sweden"), Some(400), legal, "confidential", "medium"),
            ("Software copyright in the calibration suite", "In-house calibration software", None, None, None, cto, "confidential", "high"),
        ];
        for (name, description, reg, jurisdiction, expires, owner, class, imp) in items {
            b.add(
                None,
                obj(json!({
                    "kind": "intangible",
                    "name": name,
                    "description": description,
                    "owner_id": owner,
                    "importance": imp,
                    "classification": class,
                    "tags": ["intellectual-property"],
                    "registration_number": reg,
                    "jurisdiction": jurisdiction,
                    "expires_at": expires.map(|d| self.d(d)),
                })),
            );
        }
        Ok(())
    }

    /// Lifecycle events: a laptop retired then disposed of, a phone lost.
    async fn lifecycle(&mut self) -> Result<(), AppError> {
        let laptop = self.asset("disposed_laptop")?;
        self.app
            .transition_asset(
                self.ctx,
                laptop,
                obj(json!({"to": "retired", "reason": "End of life: swollen battery and broken hinge"})),
                custodian_app::Precondition::Any,
            )
            .await?;
        self.app
            .transition_asset(
                self.ctx,
                laptop,
                obj(json!({
                    "to": "disposed",
                    "reason": "Collected in the quarterly secure disposal run",
                    "disposal": {
                        "method": "destroy",
                        "performed_by": "Ironvale Secure Disposal Ltd",
                        "performed_at": self.ts(-3),
                        "certificate_ref": "IV-COD-2024-08812",
                        "verified_by": "Jamal Haddad",
                        "notes": "Drive shredded on site; certificate filed in the IT SharePoint site",
                    },
                })),
                custodian_app::Precondition::Any,
            )
            .await?;
        let phone = self.asset("lost_phone")?;
        self.app
            .transition_asset(
                self.ctx,
                phone,
                obj(json!({
                    "to": "lost",
                    "reason": "Left on a train; remote wipe sent",
                    "incident_ref": "INC-0147",
                    "reported_at": self.ts(-6),
                })),
                custodian_app::Precondition::Any,
            )
            .await?;
        Ok(())
    }

    async fn relations(&mut self) -> Result<(), AppError> {
        #[rustfmt::skip]
        let links: &[(&str, &str, &str)] = &[
            ("laptop_5", "stores", "hr_records"),
            ("laptop_14", "stores", "payroll"),
            ("file", "stores", "hr_records"),
            ("file", "stores", "payroll"),
            ("db1", "stores", "customer_db"),
            ("db2", "stores", "customer_db"),
            ("app1", "processes", "customer_db"),
            ("app2", "processes", "customer_db"),
            ("svc_hubspot", "stores", "crm_records"),
            ("cctv_nvr", "stores", "cctv_footage"),
            ("eks", "processes", "telemetry"),
            ("vm_siem", "stores", "security_logs"),
            ("app1", "depends_on", "db1"),
            ("app2", "depends_on", "db1"),
            ("db2", "depends_on", "db1"),
            ("backup", "backs_up", "db1"),
            ("backup", "backs_up", "file"),
            ("backup", "backs_up", "vm_erp_db"),
            ("usb_backup", "backs_up", "backup"),
            ("vm_erp_app", "runs_on", "hv1"),
            ("vm_erp_db", "runs_on", "hv1"),
            ("vm_siem", "runs_on", "hv2"),
            ("vm_jump", "runs_on", "hv2"),
            ("vm_print", "runs_on", "hv2"),
            ("vm_erp_app", "depends_on", "vm_erp_db"),
            ("sw_postgres", "deployed_on", "db1"),
            ("sw_postgres", "deployed_on", "db2"),
            ("sw_nginx", "deployed_on", "app1"),
            ("sw_nginx", "deployed_on", "app2"),
            ("sw_veeam", "deployed_on", "backup"),
            ("sw_winserver", "deployed_on", "dc"),
            ("sw_winserver", "deployed_on", "file"),
            ("sw_winserver", "deployed_on", "backup"),
            ("sw_vsphere", "deployed_on", "hv1"),
            ("sw_vsphere", "deployed_on", "hv2"),
            ("sw_zabbix", "deployed_on", "mon"),
            ("sw_wazuh", "deployed_on", "vm_siem"),
            ("sw_sage", "deployed_on", "vm_erp_app"),
            ("sw_portal", "deployed_on", "eks"),
            ("sw_calib", "deployed_on", "rig"),
        ];
        for (from, rel, to) in links {
            let from = self.asset(from)?;
            let to = self.asset(to)?;
            self.app
                .add_relation(self.ctx, from, obj(json!({"type": rel, "to_id": to})))
                .await?;
            self.summary.relations += 1;
        }
        Ok(())
    }

    async fn delegations(&mut self) -> Result<(), AppError> {
        let rig = self.asset("rig")?;
        let items = [
            json!({
                "owner_id": self.owner(O::N(HEAD_OF_IT))?,
                "delegate_id": self.person(TECHNICIAN)?,
                "task": "review",
                "note": "Quarterly device checks for everything the Head of IT owns",
            }),
            json!({
                "owner_id": self.owner(O::N("Engineering"))?,
                "delegate_id": self.person(45)?,
                "task": "inventory",
                "asset_id": rig,
                "note": "The calibration technician keeps the rig's records",
            }),
            // Ends automatically when the delegate leaves (see `leaver`).
            json!({
                "owner_id": self.person(4)?,
                "delegate_id": self.person(LEAVER)?,
                "task": "handling",
                "note": "Handles demo kit for the northern accounts",
            }),
        ];
        for d in items {
            self.app.create_delegation(self.ctx, obj(d)).await?;
            self.summary.delegations += 1;
        }
        Ok(())
    }

    /// The leaver: left six weeks ago, still owning their laptop and phone.
    async fn leaver(&mut self) -> Result<(), AppError> {
        let id = self.person(LEAVER)?;
        self.app
            .update_party(
                self.ctx,
                id,
                obj(json!({"status": "left", "end_date": self.d(-45)})),
                custodian_app::Precondition::Any,
            )
            .await?;
        Ok(())
    }
}

impl Demo<'_> {
    /// The person serving their notice: their offboarding case, opened now that what they
    /// hold and own is registered.
    async fn notice_case(&mut self) -> Result<(), AppError> {
        let id = self.person(ON_NOTICE)?;
        self.app
            .open_offboarding(self.ctx, obj(json!({"person_id": id})))
            .await?;
        Ok(())
    }
}

fn missing(what: &str, name: &str) -> AppError {
    // Only a mistake in the demo content itself can get here.
    AppError::invalid(
        "",
        format!("demo data refers to an unknown {what} {name:?}"),
    )
}

/// The assets to create, with the handles later steps use to find them.
#[derive(Default)]
struct Batch {
    items: Vec<Map<String, Value>>,
    keys: Vec<Option<String>>,
}

impl Batch {
    fn add(&mut self, key: Option<String>, item: Map<String, Value>) {
        self.items.push(item);
        self.keys.push(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identifiers_are_fixed_and_well_formed() {
        assert_eq!(serial(1), serial(1));
        assert_ne!(serial(1), serial(2));
        assert_eq!(serial(7).len(), 10);
        let m = mac(3);
        assert_eq!(m.len(), 17);
        assert!(m.split(':').all(|p| p.len() == 2));
    }

    #[test]
    fn the_staff_list_is_consistent() {
        assert_eq!(PEOPLE.len(), 50);
        for (i, p) in PEOPLE.iter().enumerate() {
            if let Some(m) = p.3 {
                assert!(m < i, "{} is managed by someone listed later", p.1);
            }
            assert!(p.2 < TEAMS.len());
        }
        let mut emails: Vec<String> = PEOPLE
            .iter()
            .map(|p| format!("{}.{}", p.0, p.1).to_lowercase())
            .collect();
        emails.sort();
        emails.dedup();
        assert_eq!(emails.len(), PEOPLE.len());
    }
}

/// A sign-in account the demo creates for one persona.
#[derive(Clone, Debug)]
pub struct DemoAccount {
    /// The role.
    pub role: &'static str,
    /// The e-mail address to sign in with.
    pub email: String,
    /// The generated password.
    pub password: String,
}

/// The demo's people who get accounts, one per persona: the information security lead
/// (admin), the head of IT (manager), the compliance analyst (auditor) and a payroll officer
/// (member).
const PERSONAS: &[(&str, &str)] = &[
    ("admin", "Rebecca Thornton"),
    ("manager", "Priya Raman"),
    ("auditor", "Isaac Feldman"),
    ("member", "Elena Petrova"),
];

/// Creates one account per persona with generated passwords, unless accounts exist.
pub async fn accounts(app: &App, ctx: &Ctx) -> Result<Vec<DemoAccount>, AppError> {
    if app.store().count_users().await? > 0 {
        return Ok(vec![]);
    }
    let mut out = Vec::new();
    for (role, name) in PERSONAS {
        let q = custodian_store::PartyQuery {
            limit: 5,
            q: Some((*name).into()),
            kind: Some(custodian_domain::party::PartyKind::Person),
            ..Default::default()
        };
        let Some(person) = app.list_parties(ctx, &q).await?.items.into_iter().next() else {
            continue;
        };
        let Some(email) = person.email.clone() else {
            continue;
        };
        let password = custodian_app::accounts::random_text(15)?;
        let input = json!({"email": email, "role": role, "person_id": person.id});
        app.create_user_with_password(
            ctx,
            input.as_object().cloned().unwrap_or_default(),
            &password,
        )
        .await?;
        out.push(DemoAccount {
            role,
            email,
            password,
        });
    }
    Ok(out)
}

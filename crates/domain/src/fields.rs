//! The kind-specific fields of SPEC §2.2 as one table.
//!
//! The table drives validation, completeness, the CSV columns and the OpenAPI schema,
//! so that a field is declared once and every edge agrees on it.

use serde_json::{Map, Value};

use crate::asset::AssetKind;
use crate::value;

/// The type of a kind-specific field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// A line or paragraph of text.
    Text,
    /// A web address (`http` or `https`).
    Url,
    /// True or false.
    Bool,
    /// A whole number, not negative.
    Count,
    /// A number, not negative (money, sizes).
    Amount,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// One of a fixed set of words.
    Choice(&'static [&'static str]),
    /// A list of strings.
    TextList,
    /// A list of IP addresses.
    IpList,
    /// A list of MAC addresses.
    MacList,
    /// A list of `{country, safeguard}` (GDPR international transfers).
    Transfers,
    /// A secret (a licence key): never echoed, never in history or exports.
    Secret,
}

impl FieldType {
    /// The JSON Schema of the field's value.
    pub fn json_schema(&self) -> Value {
        use serde_json::json;
        match self {
            FieldType::Text | FieldType::Secret => json!({"type": ["string", "null"]}),
            FieldType::Url => json!({"type": ["string", "null"], "format": "uri"}),
            FieldType::Bool => json!({"type": ["boolean", "null"]}),
            FieldType::Count => json!({"type": ["integer", "null"], "minimum": 0}),
            FieldType::Amount => json!({"type": ["number", "null"], "minimum": 0}),
            FieldType::Date => json!({"type": ["string", "null"], "format": "date"}),
            FieldType::Choice(c) => {
                let mut e: Vec<Value> = c.iter().map(|s| json!(s)).collect();
                e.push(Value::Null);
                json!({"enum": e})
            }
            FieldType::TextList | FieldType::IpList | FieldType::MacList => {
                json!({"type": ["array", "null"], "items": {"type": "string"}})
            }
            FieldType::Transfers => json!({"type": ["array", "null"], "items": {
                "type": "object", "required": ["country", "safeguard"],
                "properties": {"country": {"type": "string"}, "safeguard": {"type": "string"}},
                "additionalProperties": false}}),
        }
    }
}

/// One kind-specific field.
#[derive(Debug)]
pub struct FieldDef {
    /// Wire name.
    pub name: &'static str,
    /// Value type.
    pub ty: FieldType,
    /// The kinds that carry it.
    pub kinds: &'static [AssetKind],
    /// The label a policy reader recognises.
    pub label: &'static str,
}

const DEVICE: &[AssetKind] = &[AssetKind::Physical, AssetKind::Virtual];
const PHYSICAL: &[AssetKind] = &[AssetKind::Physical];
const DATA: &[AssetKind] = &[AssetKind::Data];
const SOFTWARE: &[AssetKind] = &[AssetKind::Software];
const SERVICE: &[AssetKind] = &[AssetKind::Service];
const INTANGIBLE: &[AssetKind] = &[AssetKind::Intangible];

/// Lawful bases of GDPR Art. 6.
pub const LAWFUL_BASES: &[&str] = &[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
];
/// Risk ratings of a processing activity.
pub const RISK_RATINGS: &[&str] = &["low", "medium", "high", "very_high"];
/// Licence models.
pub const LICENCE_MODELS: &[&str] = &["free", "open_source", "perpetual", "subscription"];

macro_rules! f {
    ($name:literal, $ty:expr, $kinds:expr, $label:literal) => {
        FieldDef {
            name: $name,
            ty: $ty,
            kinds: $kinds,
            label: $label,
        }
    };
}

/// Every kind-specific field, in the order forms and CSV columns show them.
pub const KIND_FIELDS: &[FieldDef] = &[
    // physical and virtual
    f!(
        "serial_number",
        FieldType::Text,
        DEVICE,
        "Serial number / instance id"
    ),
    f!("function", FieldType::Text, DEVICE, "What the asset does"),
    f!(
        "information_description",
        FieldType::Text,
        DEVICE,
        "Information processed, stored or transmitted"
    ),
    f!("manufacturer", FieldType::Text, DEVICE, "Manufacturer"),
    f!("model", FieldType::Text, DEVICE, "Model"),
    f!("hostname", FieldType::Text, DEVICE, "Hostname"),
    f!("ip_addresses", FieldType::IpList, DEVICE, "IP addresses"),
    f!("mac_addresses", FieldType::MacList, DEVICE, "MAC addresses"),
    f!(
        "operating_system",
        FieldType::Text,
        DEVICE,
        "Operating system"
    ),
    f!("encrypted", FieldType::Bool, DEVICE, "Storage encrypted"),
    f!(
        "personal_device",
        FieldType::Bool,
        PHYSICAL,
        "Personal device (BYOD)"
    ),
    f!("purchase_date", FieldType::Date, DEVICE, "Purchase date"),
    f!("purchase_cost", FieldType::Amount, DEVICE, "Purchase cost"),
    f!("supplier", FieldType::Text, DEVICE, "Supplier"),
    f!(
        "warranty_expires_at",
        FieldType::Date,
        DEVICE,
        "Warranty expires"
    ),
    f!("labelled", FieldType::Bool, PHYSICAL, "Labelled"),
    // data (record of processing activities, GDPR Art. 30)
    f!(
        "business_function",
        FieldType::Text,
        DATA,
        "Business function"
    ),
    f!(
        "systems",
        FieldType::Text,
        DATA,
        "Where it is kept / systems processing it"
    ),
    f!("purpose", FieldType::Text, DATA, "Purpose of processing"),
    f!("controller", FieldType::Text, DATA, "Controller"),
    f!(
        "contains_personal_data",
        FieldType::Bool,
        DATA,
        "Contains personal data"
    ),
    f!(
        "data_subject_categories",
        FieldType::TextList,
        DATA,
        "Categories of data subjects"
    ),
    f!(
        "personal_data_categories",
        FieldType::TextList,
        DATA,
        "Categories of personal data"
    ),
    f!(
        "special_category_data",
        FieldType::Bool,
        DATA,
        "Special category data"
    ),
    f!(
        "recipient_categories",
        FieldType::TextList,
        DATA,
        "Categories of recipients"
    ),
    f!(
        "international_transfers",
        FieldType::Transfers,
        DATA,
        "International transfers and safeguards"
    ),
    f!(
        "security_measures",
        FieldType::Text,
        DATA,
        "Technical and organisational security measures"
    ),
    f!(
        "lawful_basis",
        FieldType::Choice(LAWFUL_BASES),
        DATA,
        "Lawful basis"
    ),
    f!("retention", FieldType::Text, DATA, "Retention"),
    f!("retention_days", FieldType::Count, DATA, "Retention (days)"),
    f!(
        "volume",
        FieldType::Count,
        DATA,
        "Volume (records, approx.)"
    ),
    f!(
        "risks_to_subjects",
        FieldType::Text,
        DATA,
        "Risks to data subjects"
    ),
    f!(
        "risk_rating",
        FieldType::Choice(RISK_RATINGS),
        DATA,
        "Risk rating"
    ),
    f!("risk_actions", FieldType::Text, DATA, "Risk mitigations"),
    // software
    f!("software_version", FieldType::Text, SOFTWARE, "Version"),
    f!(
        "licence_model",
        FieldType::Choice(LICENCE_MODELS),
        SOFTWARE,
        "Licence model"
    ),
    f!(
        "licences_purchased",
        FieldType::Count,
        SOFTWARE,
        "Licences purchased (empty = unlimited)"
    ),
    f!("licences_used", FieldType::Count, SOFTWARE, "Licences used"),
    f!(
        "licence_location",
        FieldType::Text,
        SOFTWARE,
        "Where the licence proof is kept"
    ),
    f!("deployed_on", FieldType::Text, SOFTWARE, "Where deployed"),
    f!("vendor", FieldType::Text, SOFTWARE, "Vendor"),
    f!("spdx_license", FieldType::Text, SOFTWARE, "SPDX licence"),
    f!(
        "licence_expires_at",
        FieldType::Date,
        SOFTWARE,
        "Licence expires"
    ),
    f!("cost", FieldType::Amount, SOFTWARE, "Cost"),
    f!("licence_key", FieldType::Secret, SOFTWARE, "Licence key"),
    // service
    f!("provider", FieldType::Text, SERVICE, "Provider"),
    f!("url", FieldType::Url, SERVICE, "Address"),
    f!(
        "contract_ends_at",
        FieldType::Date,
        SERVICE,
        "Contract ends"
    ),
    f!(
        "sso_enabled",
        FieldType::Bool,
        SERVICE,
        "Single sign-on enabled"
    ),
    // intangible
    f!(
        "registration_number",
        FieldType::Text,
        INTANGIBLE,
        "Registration number"
    ),
    f!("jurisdiction", FieldType::Text, INTANGIBLE, "Jurisdiction"),
    f!("expires_at", FieldType::Date, INTANGIBLE, "Expires"),
];

/// The definition of a kind-specific field by name.
pub fn field(name: &str) -> Option<&'static FieldDef> {
    KIND_FIELDS.iter().find(|f| f.name == name)
}

/// The kind-specific fields a kind carries.
pub fn fields_of(kind: AssetKind) -> impl Iterator<Item = &'static FieldDef> {
    KIND_FIELDS.iter().filter(move |f| f.kinds.contains(&kind))
}

const MAX_TEXT: usize = 4000;

/// Validates and normalises one value of a kind-specific field. `Null` means "not set".
pub fn parse_field(def: &FieldDef, v: &Value) -> Result<Value, String> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    Ok(match def.ty {
        FieldType::Text | FieldType::Secret => Value::String(value::text(v, MAX_TEXT)?),
        FieldType::Url => {
            let s = value::text(v, 2000)?;
            let lower = s.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) || s.contains(' ') {
                return Err(format!(
                    "must be a web address starting with https:// or http://, not {s:?}"
                ));
            }
            Value::String(s)
        }
        FieldType::Bool => Value::Bool(value::boolean(v)?),
        FieldType::Count => Value::from(value::count(v)?),
        FieldType::Amount => {
            let n = value::amount(v)?;
            serde_json::Number::from_f64(n)
                .map(Value::Number)
                .unwrap_or(Value::Null)
        }
        FieldType::Date => Value::String(value::date(v)?.to_string()),
        FieldType::Choice(c) => Value::String(value::choice(v, c)?),
        FieldType::TextList => list(value::text_list(v, 100, 500)?),
        FieldType::IpList => {
            let items = value::text_list(v, 64, 64)?;
            for (i, s) in items.iter().enumerate() {
                if s.parse::<std::net::IpAddr>().is_err() {
                    return Err(format!("item {}: {s:?} is not an IP address", i + 1));
                }
            }
            list(items)
        }
        FieldType::MacList => {
            let items = value::text_list(v, 64, 32)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, s) in items.iter().enumerate() {
                out.push(
                    parse_mac(s)
                        .ok_or_else(|| format!("item {}: {s:?} is not a MAC address", i + 1))?,
                );
            }
            list(out)
        }
        FieldType::Transfers => {
            let Value::Array(items) = v else {
                return Err(format!(
                    "must be a list of {{country, safeguard}}, not {}",
                    value::type_name(v)
                ));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let Value::Object(o) = item else {
                    return Err(format!(
                        "item {}: must be an object {{country, safeguard}}",
                        i + 1
                    ));
                };
                if let Some(k) = o.keys().find(|k| *k != "country" && *k != "safeguard") {
                    return Err(format!("item {}: unknown field {k:?}", i + 1));
                }
                let get = |k: &str| {
                    o.get(k)
                        .ok_or_else(|| "is required".to_string())
                        .and_then(|v| value::text(v, 200))
                        .map_err(|m| format!("item {}: {k} {m}", i + 1))
                };
                let mut m = Map::new();
                m.insert("country".into(), Value::String(get("country")?));
                m.insert("safeguard".into(), Value::String(get("safeguard")?));
                out.push(Value::Object(m));
            }
            Value::Array(out)
        }
    })
}

fn list(items: Vec<String>) -> Value {
    Value::Array(items.into_iter().map(Value::String).collect())
}

/// Normalises a MAC address to lower-case, colon-separated form.
fn parse_mac(s: &str) -> Option<String> {
    let hex: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    let pairs: Vec<&str> = (0..6).map(|i| &lower[i * 2..i * 2 + 2]).collect();
    Some(pairs.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_field_is_declared_once() {
        let mut names: Vec<_> = KIND_FIELDS.iter().map(|f| f.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
    }

    #[test]
    fn values_are_normalised() {
        let mac = field("mac_addresses").unwrap();
        assert_eq!(
            parse_field(mac, &json!(["AA-BB-CC-00-11-22"])).unwrap(),
            json!(["aa:bb:cc:00:11:22"])
        );
        assert!(parse_field(mac, &json!(["zz"]))
            .unwrap_err()
            .contains("item 1"));
        let ip = field("ip_addresses").unwrap();
        assert!(parse_field(ip, &json!(["10.0.0.1", "::1"])).is_ok());
        assert!(parse_field(ip, &json!(["10.0.0.300"])).is_err());
        let url = field("url").unwrap();
        assert!(parse_field(url, &json!("ftp://x")).is_err());
        let t = field("international_transfers").unwrap();
        assert!(parse_field(t, &json!([{"country": "US", "safeguard": "SCCs"}])).is_ok());
        assert!(parse_field(t, &json!([{"country": "US"}]))
            .unwrap_err()
            .contains("safeguard"));
        let lb = field("lawful_basis").unwrap();
        assert!(parse_field(lb, &json!("because"))
            .unwrap_err()
            .contains("consent"));
    }
}

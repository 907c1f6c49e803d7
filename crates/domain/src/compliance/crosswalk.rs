//! The crosswalk (SPEC §8): how each check maps to the references of other frameworks,
//! many to many, each mapping with its relationship (NIST IR 8477). The mappings are data,
//! one file per framework in `crates/domain/frameworks/`, with its version and sources; a
//! reference no check maps to is `manual`, never passing.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

wire_enum! {
    /// How a check relates to a reference (NIST IR 8477 set theory): the check's concept
    /// is `equal` to, a `subset` of, a `superset` of, or `intersect`s the reference's.
    Relationship { Equal = "equal", Subset = "subset", Superset = "superset", Intersect = "intersect" }
}

/// One check mapped to a reference.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The check's id.
    pub check: String,
    /// How the check relates to the reference.
    pub relationship: Relationship,
}

/// One reference of a framework (a control, an article, a criterion).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    /// Its citation (`A.5.9`, `Art. 30(1)`).
    #[serde(rename = "ref")]
    pub id: String,
    /// What it asks, in short.
    pub title: String,
    /// Its version, where it differs from the framework's.
    #[serde(default)]
    pub version: Option<String>,
    /// Where it is published, where it differs from the framework's.
    #[serde(default)]
    pub source: Option<String>,
    /// The checks that evidence it (none: evidenced by hand).
    pub mappings: Vec<Mapping>,
}

/// A framework and its references.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Its key (`iso27001`).
    pub key: String,
    /// Its name.
    pub name: String,
    /// The version mapped.
    pub version: String,
    /// Where it is published.
    pub source: String,
    /// Its references, in the framework's order.
    pub references: Vec<Reference>,
}

impl Reference {
    /// Its version: its own, or the framework's.
    pub fn version_in<'a>(&'a self, f: &'a Framework) -> &'a str {
        self.version.as_deref().unwrap_or(&f.version)
    }

    /// Its source: its own, or the framework's.
    pub fn source_in<'a>(&'a self, f: &'a Framework) -> &'a str {
        self.source.as_deref().unwrap_or(&f.source)
    }
}

/// The framework files, in the order they are listed.
const FILES: [&str; 8] = [
    include_str!("../../frameworks/iso27001.json"),
    include_str!("../../frameworks/gdpr.json"),
    include_str!("../../frameworks/soc2.json"),
    include_str!("../../frameworks/nis2.json"),
    include_str!("../../frameworks/dora.json"),
    include_str!("../../frameworks/hipaa.json"),
    include_str!("../../frameworks/nist_csf.json"),
    include_str!("../../frameworks/ccpa.json"),
];

/// The key of the framework whose references are the checks' controls.
pub const ISO27001: &str = "iso27001";

/// Every framework. The files are part of the build; one that does not read is a fault
/// of the build, caught by this module's tests, and is left out rather than stopping
/// the server.
pub fn frameworks() -> &'static [Framework] {
    static ALL: OnceLock<Vec<Framework>> = OnceLock::new();
    ALL.get_or_init(|| {
        FILES
            .iter()
            .filter_map(|f| serde_json::from_str(f).ok())
            .collect()
    })
}

/// The framework with key `key`.
pub fn framework(key: &str) -> Option<&'static Framework> {
    frameworks().iter().find(|f| f.key == key)
}

/// The references of framework `key` that check `check` maps to, with the relationship.
pub fn references_of<'a>(
    key: &str,
    check: &'a str,
) -> impl Iterator<Item = (&'static Reference, Relationship)> + use<'a> {
    framework(key)
        .into_iter()
        .flat_map(|f| f.references.iter())
        .filter_map(move |r| {
            r.mappings
                .iter()
                .find(|m| m.check == check)
                .map(|m| (r, m.relationship))
        })
}

/// The ISO/IEC 27001 controls check `check` evidences.
pub fn controls_of(check: &str) -> Vec<&'static str> {
    references_of(ISO27001, check)
        .map(|(r, _)| r.id.as_str())
        .collect()
}

/// The checks that evidence any reference of framework `key`, or control `control` of
/// ISO/IEC 27001; what a findings filter by framework or control means.
pub fn checks_for(framework_key: Option<&str>, control: Option<&str>) -> Vec<&'static str> {
    super::check_ids()
        .filter(|c| framework_key.is_none_or(|k| references_of(k, c).next().is_some()))
        .filter(|c| control.is_none_or(|ctl| controls_of(c).contains(&ctl)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::{check, CHECKS};

    #[test]
    fn every_file_reads_and_names_only_known_checks() {
        assert_eq!(
            frameworks().len(),
            FILES.len(),
            "a framework file does not read"
        );
        let keys: Vec<&str> = frameworks().iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            ["iso27001", "gdpr", "soc2", "nis2", "dora", "hipaa", "nist_csf", "ccpa"]
        );
        for f in frameworks() {
            let mut seen = std::collections::HashSet::new();
            for r in &f.references {
                assert!(seen.insert(&r.id), "{} lists {} twice", f.key, r.id);
                for m in &r.mappings {
                    assert!(
                        check(&m.check).is_some(),
                        "{} {} maps {}",
                        f.key,
                        r.id,
                        m.check
                    );
                }
            }
        }
    }

    #[test]
    fn every_check_evidences_the_iso_controls_of_the_spec() {
        let spec: &[(&str, &[&str])] = &[
            ("owner_active", &["A.5.9"]),
            ("record_complete", &["A.5.9"]),
            ("review_current", &["A.5.9"]),
            ("classified", &["A.5.12"]),
            ("labelled", &["A.5.13"]),
            ("encrypted", &["A.5.10", "A.8.1"]),
            ("off_premises_authorised", &["A.7.9"]),
            ("custody_returned", &["A.5.11"]),
            ("leaver_returned", &["A.5.11"]),
            ("aup_acknowledged", &["A.5.10"]),
            ("licences_sufficient", &["A.5.32"]),
            ("licence_current", &["A.5.32"]),
            ("ropa_complete", &["A.5.34"]),
            ("high_risk_mitigated", &["A.5.34"]),
            ("disposal_adequate", &["A.7.10", "A.7.14", "A.8.10"]),
            ("policy_current", &["A.5.1"]),
            ("exception_current", &["A.5.1"]),
        ];
        assert_eq!(spec.len(), CHECKS.len());
        for (id, controls) in spec {
            assert_eq!(controls_of(id), *controls, "{id}");
        }
    }

    #[test]
    fn one_check_reaches_several_frameworks_and_some_references_are_manual() {
        let reached: Vec<&str> = frameworks()
            .iter()
            .filter(|f| references_of(&f.key, "disposal_adequate").next().is_some())
            .map(|f| f.key.as_str())
            .collect();
        assert!(reached.len() >= 5, "{reached:?}");
        let manual: Vec<&str> = frameworks()
            .iter()
            .flat_map(|f| f.references.iter())
            .filter(|r| r.mappings.is_empty())
            .map(|r| r.id.as_str())
            .collect();
        assert!(manual.contains(&"A.5.14") && manual.contains(&"Art. 30(2)"));
    }

    #[test]
    fn filters_by_framework_and_control_name_their_checks() {
        assert_eq!(
            checks_for(None, Some("A.5.11")),
            ["custody_returned", "leaver_returned"]
        );
        let gdpr = checks_for(Some("gdpr"), None);
        assert_eq!(gdpr, ["ropa_complete", "high_risk_mitigated"]);
        assert!(checks_for(Some("nope"), None).is_empty());
    }
}

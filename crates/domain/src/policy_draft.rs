//! A generated first draft of the Asset Management Policy (SPEC §7), written from the
//! register's own settings: the asset kinds and each kind's minimum record, the
//! classification levels and their handling rules, the owner roles, the lifecycle and the
//! disposal methods, and how the custody, seat and exception rules are enforced.
//!
//! Every clause that comes from a setting says so in the Markdown source, in a comment
//! naming the setting, so that a reviewer can tell the organisation's choices from the
//! policy's frame.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::asset::{completeness, Asset, AssetKind, Importance, RelationFacts};
use crate::classification::{Classification, DisposalRequirement, Handling};
use crate::exception::ExceptionRule;
use crate::lifecycle::{DisposalMethod, Status};

/// What the draft is written from.
#[derive(Clone, Debug)]
pub struct DraftInputs<'a> {
    /// The organisation's name.
    pub organisation: &'a str,
    /// The classification levels, least sensitive first.
    pub levels: &'a [Classification],
    /// The roles that own assets (names).
    pub owner_roles: &'a [String],
    /// Issuing to someone who has not acknowledged the acceptable-use policy: `refuse` or
    /// `warn`.
    pub acceptable_use_rule: &'a str,
    /// More software seats than licences: `refuse` or `warn`.
    pub seat_rule: &'a str,
    /// The draft's date.
    pub today: NaiveDate,
    /// The version number it will carry.
    pub number: &'a str,
}

/// The section headings, in order (a test and the renderers rely on them).
pub const SECTIONS: &[&str] = &[
    "Document version control",
    "Contents",
    "Purpose",
    "Scope",
    "Principle",
    "Inventory of assets",
    "Ownership of assets",
    "Acceptable use",
    "Return of assets",
    "Policy compliance",
];

/// A reader's words for a field of the minimum record.
fn label(name: &str) -> &'static str {
    match name {
        "last_reviewed_at" => "when it was last reviewed (for a device, last checked)",
        "last_reviewed_by" => "who last reviewed it",
        "next_review_at" => "when it is next reviewed",
        "systems" => "the systems that store or process it",
        _ => crate::fields::field(name).map_or("", |f| f.label),
    }
}

/// The minimum record of a kind beyond the policy minimum: what an empty record of that
/// kind lacks, as the register measures it.
fn kind_minimum(kind: AssetKind) -> Vec<&'static str> {
    let now = crate::now();
    let empty = Asset {
        id: Uuid::nil(),
        asset_number: String::new(),
        kind,
        name: String::new(),
        description: None,
        owner_id: Uuid::nil(),
        importance: Importance::Low,
        classification: String::new(),
        status: Status::InUse,
        location_id: None,
        tags: Vec::new(),
        custom: Default::default(),
        external_ids: Default::default(),
        last_reviewed_at: None,
        last_reviewed_by: None,
        next_review_at: None,
        attrs: Default::default(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    completeness(&empty, RelationFacts::default()).missing
}

fn kind_heading(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Physical => "Physical assets (hardware)",
        AssetKind::Virtual => "Virtual assets (virtual machines, containers, cloud instances)",
        AssetKind::Data => "Data and information",
        AssetKind::Software => "Software and licences",
        AssetKind::Service => "Services (internal and supplied)",
        AssetKind::Intangible => "Intangible assets (reputation, know-how, intellectual property)",
    }
}

fn handling(h: Handling) -> &'static str {
    match h {
        Handling::Allowed => "allowed",
        Handling::ApprovalRequired => "only with recorded approval",
        Handling::Forbidden => "not allowed, unless an approved exception covers it",
    }
}

fn disposal(d: DisposalRequirement) -> &'static str {
    match d {
        DisposalRequirement::Any => "any recorded method",
        DisposalRequirement::SecureErase => {
            "purge or destroy (NIST SP 800-88), never a plain clear"
        }
        DisposalRequirement::PhysicalDestruction => "physical destruction, with a certificate",
    }
}

fn line(md: &mut String, s: &str) {
    md.push_str(s);
    md.push('\n');
}

/// The Markdown text of the draft.
pub fn asset_management(i: &DraftInputs<'_>) -> String {
    let org = i.organisation;
    let mut md = String::new();
    line(&mut md, &format!("# Asset Management Policy — {org}"));
    line(&mut md, "");
    line(&mut md, &format!("## 1. {}", SECTIONS[0]));
    line(&mut md, "");
    line(
        &mut md,
        "| Version | Date | Author | Change | Approved by |",
    );
    line(&mut md, "|---|---|---|---|---|");
    line(&mut md, &format!(
        "| {} | {} | (the drafting administrator) | Generated first draft, from the register's settings | (on approval) |",
        i.number, i.today
    ));
    line(&mut md, "");
    line(&mut md, &format!("## 2. {}", SECTIONS[1]));
    line(&mut md, "");
    for (n, s) in SECTIONS.iter().enumerate() {
        line(&mut md, &format!("{}. {s}", n + 1));
    }
    line(&mut md, "");
    line(&mut md, &format!("## 3. {}", SECTIONS[2]));
    line(&mut md, "");
    line(&mut md, &format!(
        "This policy sets out how {org} identifies the assets that hold or handle its information, keeps an accurate inventory of them, gives each an owner, protects each according to how confidential the information it carries is, and gets its assets back when people leave. It gives effect to ISO/IEC 27001:2022 Annex A controls A.5.9 to A.5.14, A.7.9, A.7.10, A.7.14, A.8.1 and A.8.10."
    ));
    line(&mut md, "");
    line(&mut md, &format!("## 4. {}", SECTIONS[3]));
    line(&mut md, "");
    line(&mut md, &format!(
        "It applies to every asset {org} owns, leases, licenses or relies on, wherever it is, and to everyone who uses or looks after them: employees, contractors, temporary staff and third parties with access."
    ));
    line(&mut md, "");
    line(&mut md, &format!("## 5. {}", SECTIONS[4]));
    line(&mut md, "");
    line(&mut md, "An asset that is not in the inventory cannot be protected. Every asset is registered before it is used, has exactly one accountable owner, is classified by the most sensitive information it holds or processes, and is handled according to that classification until it is disposed of and the disposal is recorded.");
    line(&mut md, "");
    line(&mut md, &format!("## 6. {}", SECTIONS[5]));
    line(&mut md, "");
    line(&mut md, "Every asset's record holds at least its name, its owner, its importance and its classification: a record without them is refused. Each kind of asset also has a minimum record, measured continuously; what a record lacks is reported to its owner.");
    line(&mut md, "");
    line(
        &mut md,
        "<!-- from: the register's asset kinds and each kind's minimum record (SPEC §2.2) -->",
    );
    for kind in AssetKind::ALL {
        line(&mut md, &format!("### {}", kind_heading(*kind)));
        line(&mut md, "");
        let minimum: Vec<String> = kind_minimum(*kind)
            .into_iter()
            .map(|f| format!("{} (`{f}`)", label(f)))
            .collect();
        if minimum.is_empty() {
            line(
                &mut md,
                "Beyond the policy minimum, no further field is required.",
            );
        } else {
            line(
                &mut md,
                &format!(
                    "Beyond the policy minimum, the record holds: {}.",
                    minimum.join("; ")
                ),
            );
        }
        if *kind == AssetKind::Data {
            line(&mut md, "");
            line(&mut md, "Where the data contains personal data, its record is also the record of processing (GDPR Art. 30): purpose, controller, lawful basis, categories of data subjects, personal data and recipients, retention and security measures.");
        }
        if *kind == AssetKind::Software {
            line(&mut md, "");
            line(
                &mut md,
                &format!(
                    "Licences in use never exceed licences purchased. <!-- from: setting licence_overallocation = {} -->",
                    i.seat_rule
                ),
            );
            line(
                &mut md,
                if i.seat_rule == "refuse" {
                    "Assigning a seat beyond the licences purchased is refused."
                } else {
                    "Assigning a seat beyond the licences purchased is recorded with a warning and reported until it is resolved."
                },
            );
        }
        line(&mut md, "");
    }
    line(&mut md, "Each asset moves through a recorded lifecycle:");
    line(&mut md, "");
    let statuses: Vec<String> = Status::ALL
        .iter()
        .map(|s| format!("`{}`", s.as_str()))
        .collect();
    line(
        &mut md,
        &format!(
            "<!-- from: the register's lifecycle -->\n{}.",
            statuses.join(", ")
        ),
    );
    let methods: Vec<String> = DisposalMethod::NAMES
        .iter()
        .map(|m| format!("`{m}`"))
        .collect();
    line(&mut md, "<!-- from: the register's disposal methods -->");
    line(
        &mut md,
        &format!(
            "Disposal is final and needs a disposal record: the method ({}), who performed it, when, who verified it, and for media, the certificate. The method must meet the minimum the classification sets (below).",
            methods.join(", ")
        ),
    );
    line(&mut md, "");
    line(&mut md, &format!("## 7. {}", SECTIONS[6]));
    line(&mut md, "");
    line(&mut md, "Every asset has one owner: a person, a team or a role. The owner is accountable for the asset's record being complete and true, for its classification, for its review by the date the classification sets, and for approving access to it. An owner may delegate routine tasks, never the accountability; a leaver's delegations end with their employment.");
    line(&mut md, "");
    if i.owner_roles.is_empty() {
        line(
            &mut md,
            "<!-- from: the register's roles (none is defined yet) -->",
        );
        line(
            &mut md,
            "Roles that own assets are defined in the register as they are created.",
        );
    } else {
        line(&mut md, "<!-- from: the register's roles -->");
        line(&mut md, &format!(
            "The roles that own assets are: {}. A role is held by one person at a time; an asset owned by a role with no holder is orphaned and is reported until a holder is named.",
            i.owner_roles.join(", ")
        ));
    }
    line(&mut md, "");
    line(&mut md, "### Classification and handling");
    line(&mut md, "");
    line(&mut md, "<!-- from: the classification scheme -->");
    line(&mut md, "| Level | Meaning | Devices encrypted | Labelled | Off the premises | Shared outside | Minimum disposal | Review every |");
    line(&mut md, "|---|---|---|---|---|---|---|---|");
    for l in i.levels {
        line(
            &mut md,
            &format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} days |",
                l.name,
                l.description.as_deref().unwrap_or(""),
                if l.encryption_required { "yes" } else { "no" },
                if l.label_required { "yes" } else { "no" },
                handling(l.off_premises),
                handling(l.external_sharing),
                disposal(l.disposal_method),
                l.review_interval_days
            ),
        );
    }
    line(&mut md, "");
    line(&mut md, "A device is handled at the level of the most sensitive information it stores or contains, however deep, not only at its own.");
    line(&mut md, "");
    line(&mut md, &format!("## 8. {}", SECTIONS[7]));
    line(&mut md, "");
    line(&mut md, "Everyone who is given an asset first acknowledges the Acceptable Use Policy in force, and acknowledges it again when a material change is approved.");
    line(
        &mut md,
        &format!(
            "<!-- from: setting acceptable_use_enforcement = {} -->",
            i.acceptable_use_rule
        ),
    );
    line(
        &mut md,
        if i.acceptable_use_rule == "refuse" {
            "Issuing an asset to someone who has not acknowledged the version in force is refused."
        } else {
            "Issuing an asset to someone who has not acknowledged the version in force is recorded with a warning, and the acknowledgement is chased."
        },
    );
    line(&mut md, "");
    line(&mut md, "Custody of a physical or virtual asset is recorded: who holds it, since when, until when, and whether it leaves the premises. Taking an asset off the premises follows its classification (above): where approval is needed, the approver is recorded.");
    line(&mut md, "");
    line(&mut md, &format!("## 9. {}", SECTIONS[8]));
    line(&mut md, "");
    line(&mut md, "When someone leaves, or their role changes, an offboarding case lists every asset they hold and every asset they own. Each item is settled by their last day: an asset held is returned, with its condition; an asset owned is handed over to a successor. The case is closed only when nothing is open. Assets not returned by the last day are reported as findings.");
    line(&mut md, "");
    line(&mut md, &format!("## 10. {}", SECTIONS[9]));
    line(&mut md, "");
    line(&mut md, "### Compliance measurement");
    line(&mut md, "");
    line(&mut md, "Compliance with this policy is measured continuously by checks over the register, each evidencing Annex A controls. Each failing check opens a finding for the party who must act, saying what to do. The pass rate of each check and control is kept daily, so that progress can be shown over time.");
    line(&mut md, "");
    line(&mut md, "### Exceptions");
    line(&mut md, "");
    let rules: Vec<String> = ExceptionRule::NAMES
        .iter()
        .map(|r| format!("`{r}`"))
        .collect();
    line(&mut md, "<!-- from: the register's exception rules -->");
    line(&mut md, &format!(
        "A rule of this policy may be set aside for named assets only by an exception: requested with a justification and compensating controls, approved by an administrator who did not request it, and expiring within a year. The rules an exception may name are: {}. An expired exception no longer sets anything aside.",
        rules.join(", ")
    ));
    line(&mut md, "");
    line(&mut md, "### Non-compliance");
    line(&mut md, "");
    line(&mut md, &format!(
        "A breach of this policy is handled through {org}'s disciplinary and incident processes. Loss or theft of an asset is reported at once, with an incident reference."
    ));
    line(&mut md, "");
    line(&mut md, "### Continual improvement");
    line(&mut md, "");
    line(&mut md, "This policy is reviewed at least once a year, and when the organisation, its risks or the law change. A review that changes nothing is recorded as such; a change is a new version, approved before it takes effect.");
    line(&mut md, "");
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(org: &str, roles: &[String], aup: &str) -> String {
        let levels = crate::classification::defaults(crate::now());
        asset_management(&DraftInputs {
            organisation: org,
            levels: &levels,
            owner_roles: roles,
            acceptable_use_rule: aup,
            seat_rule: "warn",
            today: NaiveDate::from_ymd_opt(2026, 12, 7).expect("date"),
            number: "1.0",
        })
    }

    #[test]
    fn the_draft_has_every_section_in_order() {
        let md = draft("Calder Ltd", &[], "refuse");
        let mut at = 0;
        for s in SECTIONS {
            let i = md[at..]
                .find(&format!(". {s}\n"))
                .map(|i| i + at)
                .unwrap_or_else(|| panic!("{s} missing or out of order"));
            at = i;
        }
        assert!(md.starts_with("# Asset Management Policy — Calder Ltd"));
    }

    #[test]
    fn clauses_from_settings_say_so_and_follow_them() {
        let refuse = draft("Calder Ltd", &["IT Manager".to_string()], "refuse");
        let warn = draft("Calder Ltd", &[], "warn");
        assert!(refuse.contains("<!-- from: setting acceptable_use_enforcement = refuse -->"));
        assert!(refuse.contains("is refused."));
        assert!(warn.contains("recorded with a warning, and the acknowledgement is chased"));
        assert!(refuse.contains("The roles that own assets are: IT Manager."));
        assert!(warn.contains("none is defined yet"));
        // The levels and their handling rules, from the scheme.
        assert!(refuse.contains("| Restricted |"), "{refuse}");
        assert!(refuse.contains("physical destruction"));
        // Each kind's minimum, as the register measures it.
        assert!(refuse.contains("(`serial_number`)"));
        assert!(refuse.contains("(`purpose`)"));
        assert!(refuse.contains("(`software_version`)"));
        assert!(refuse.contains("`off_premises`"));
    }
}

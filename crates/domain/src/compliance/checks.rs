//! The checks of SPEC §8, each with what it reads and how it decides.

use chrono::{NaiveDate, TimeDelta};
use uuid::Uuid;

use super::effective::Effective;
use super::{Outcome, Severity, SubjectType};
use crate::asset::{ropa_missing, Asset, AssetKind, Completeness};
use crate::classification::{DisposalRequirement, Handling};
use crate::exception::{ExceptionStatus, PolicyException};
use crate::lifecycle::{DisposalRecord, Status};
use crate::offboarding::Offboarding;
use crate::policy::{PolicyDocument, PolicyVersion};

/// How many days ahead of its expiry a licence fails `licence_current`.
pub const LICENCE_NOTICE_DAYS: i64 = 30;

/// How long a policy document may go without its approval or a review (SPEC §7).
pub const POLICY_REVIEW_DAYS: i64 = crate::policy::MAX_REVIEW_DAYS;

/// One check: what it is, what it applies to, how it decides and what to do when it fails.
#[derive(Clone, Copy, Debug)]
pub struct Check {
    /// Stable id (`owner_active`).
    pub id: &'static str,
    /// Raised whenever what passes changes.
    pub version: u32,
    /// One line that says what it checks.
    pub title: &'static str,
    /// How much a failure matters.
    pub severity: Severity,
    /// What it is about.
    pub subject: SubjectType,
    /// Which subjects it applies to, in words.
    pub population: &'static str,
    /// When a subject passes, in words.
    pub passes_when: &'static str,
    /// What to do about a failure.
    pub remediation: &'static str,
    /// How it decides.
    pub rule: Rule,
}

/// How a check decides, by the kind of subject it reads.
#[derive(Clone, Copy)]
pub enum Rule {
    /// Over one asset.
    Asset(fn(&AssetFacts) -> Outcome),
    /// Over one person.
    Person(fn(&PersonFacts) -> Outcome),
    /// Over one policy document.
    Policy(fn(&PolicyFacts) -> Outcome),
    /// Over one exception.
    Exception(fn(&PolicyException, NaiveDate) -> Outcome),
    /// Over one offboarding or handover case.
    Offboarding(fn(&Offboarding, NaiveDate) -> Outcome),
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rule::Asset(_) => "Rule::Asset",
            Rule::Person(_) => "Rule::Person",
            Rule::Policy(_) => "Rule::Policy",
            Rule::Exception(_) => "Rule::Exception",
            Rule::Offboarding(_) => "Rule::Offboarding",
        })
    }
}

/// Where an asset is off the premises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OffPremises {
    /// In a custody issued for use off the premises; `approved` when an approver signed it.
    Custody {
        /// Whether someone approved taking it off the premises.
        approved: bool,
    },
    /// At a location marked off the premises.
    Location {
        /// The location's name.
        name: String,
    },
}

/// What the asset checks read of one asset.
#[derive(Clone, Debug)]
pub struct AssetFacts<'a> {
    /// The asset.
    pub asset: &'a Asset,
    /// Why its owner cannot be accountable (left, empty team, vacant role), if so.
    pub orphaned: Option<&'static str>,
    /// Its record measured against its kind's minimum.
    pub completeness: &'a Completeness,
    /// Whether its classification is a level of the scheme.
    pub level_known: bool,
    /// The handling rules it is held to (its own level and what it stores or contains).
    pub effective: &'a Effective,
    /// Where it is off the premises, if it is.
    pub off_premises: Option<OffPremises>,
    /// When its open custody is due back, if it is issued with a return date.
    pub custody_due: Option<NaiveDate>,
    /// Its disposal record, if it was disposed of.
    pub disposal: Option<&'a DisposalRecord>,
    /// The day measured.
    pub today: NaiveDate,
}

/// What the person checks read of one person.
#[derive(Clone, Debug)]
pub struct PersonFacts {
    /// The person.
    pub person_id: Uuid,
    /// How many assets (custodies and seats) they hold.
    pub holds: usize,
    /// The acceptable-use version in force, if any: its number.
    pub aup_in_force: Option<String>,
    /// Whether they acknowledged a version their acknowledgement still counts for.
    pub acknowledged: bool,
}

/// What the policy checks read of one policy document.
#[derive(Clone, Debug)]
pub struct PolicyFacts<'a> {
    /// The document.
    pub document: PolicyDocument,
    /// Its version in force, if one is approved.
    pub in_force: Option<&'a PolicyVersion>,
    /// The day measured.
    pub today: NaiveDate,
}

fn live(a: &Asset) -> bool {
    a.status != Status::Disposed
}

fn is_device(a: &Asset) -> bool {
    matches!(a.kind, AssetKind::Physical | AssetKind::Virtual)
}

fn date_attr(a: &Asset, k: &str) -> Option<NaiveDate> {
    a.attr_str(k).and_then(|s| s.parse().ok())
}

fn owner_active(f: &AssetFacts) -> Outcome {
    if !live(f.asset) {
        return Outcome::NotApplicable;
    }
    match f.orphaned {
        Some(why) => Outcome::fail(format!("it is orphaned: {why}")),
        None => Outcome::Pass,
    }
}

fn record_complete(f: &AssetFacts) -> Outcome {
    if !live(f.asset) {
        return Outcome::NotApplicable;
    }
    Outcome::unless(f.completeness.complete, || {
        format!(
            "its {} record lacks {}",
            f.asset.kind,
            f.completeness.missing.join(", ")
        )
    })
}

fn review_current(f: &AssetFacts) -> Outcome {
    let a = f.asset;
    if !live(a) || matches!(a.status, Status::Lost | Status::Stolen) {
        return Outcome::NotApplicable;
    }
    match a.next_review_at {
        None => Outcome::NotApplicable,
        Some(d) => Outcome::unless(d >= f.today, || format!("its review was due on {d}")),
    }
}

fn classified(f: &AssetFacts) -> Outcome {
    if !live(f.asset) {
        return Outcome::NotApplicable;
    }
    Outcome::unless(f.level_known, || {
        format!(
            "its classification {:?} is not a level of the scheme",
            f.asset.classification
        )
    })
}

fn labelled(f: &AssetFacts) -> Outcome {
    let a = f.asset;
    if !live(a) || a.kind != AssetKind::Physical {
        return Outcome::NotApplicable;
    }
    match &f.effective.label {
        None => Outcome::NotApplicable,
        Some(by) => Outcome::unless(a.attr_bool("labelled") == Some(true), || {
            format!("it is not labelled, and {} asks for a label", by.describe())
        }),
    }
}

fn encrypted(f: &AssetFacts) -> Outcome {
    let a = f.asset;
    if !live(a) || !is_device(a) {
        return Outcome::NotApplicable;
    }
    match &f.effective.encryption {
        None => Outcome::NotApplicable,
        Some(by) => Outcome::unless(a.attr_bool("encrypted") == Some(true), || {
            format!(
                "its storage is not recorded as encrypted, and {} asks for encryption",
                by.describe()
            )
        }),
    }
}

fn off_premises_authorised(f: &AssetFacts) -> Outcome {
    if !live(f.asset) {
        return Outcome::NotApplicable;
    }
    let (Some(place), Some((handling, by))) = (&f.off_premises, &f.effective.off_premises) else {
        return Outcome::NotApplicable;
    };
    let where_ = match place {
        OffPremises::Custody { .. } => "issued for use off the premises".to_string(),
        OffPremises::Location { name } => format!("at {name}, off the premises"),
    };
    match handling {
        Handling::Allowed => Outcome::Pass,
        Handling::ApprovalRequired => Outcome::unless(
            matches!(place, OffPremises::Custody { approved: true }),
            || {
                format!(
                    "it is {where_} without approval, which {} asks for",
                    by.describe()
                )
            },
        ),
        Handling::Forbidden => {
            Outcome::fail(format!("it is {where_}, which {} forbids", by.describe()))
        }
    }
}

fn custody_returned(f: &AssetFacts) -> Outcome {
    match f.custody_due {
        Some(d) if live(f.asset) => Outcome::unless(d >= f.today, || {
            format!("it was due back on {d} and has not been returned")
        }),
        _ => Outcome::NotApplicable,
    }
}

fn licences_sufficient(f: &AssetFacts) -> Outcome {
    let a = f.asset;
    if !live(a) || a.kind != AssetKind::Software {
        return Outcome::NotApplicable;
    }
    let l = a.licences();
    match l.purchased {
        None => Outcome::NotApplicable,
        Some(bought) => {
            let used = l.used.unwrap_or(0);
            Outcome::unless(used <= bought, || {
                format!(
                    "{used} licences are in use and {bought} were purchased: {} too many",
                    used - bought
                )
            })
        }
    }
}

fn licence_current(f: &AssetFacts) -> Outcome {
    let a = f.asset;
    if !live(a) || a.kind != AssetKind::Software {
        return Outcome::NotApplicable;
    }
    match date_attr(a, "licence_expires_at") {
        None => Outcome::NotApplicable,
        Some(d) if d < f.today => Outcome::fail(format!("its licence expired on {d}")),
        Some(d) if d < f.today + TimeDelta::days(LICENCE_NOTICE_DAYS) => Outcome::fail(format!(
            "its licence expires on {d}, within {LICENCE_NOTICE_DAYS} days"
        )),
        Some(_) => Outcome::Pass,
    }
}

fn ropa_complete(f: &AssetFacts) -> Outcome {
    let a = f.asset;
    if !live(a) || a.kind != AssetKind::Data || a.attr_bool("contains_personal_data") != Some(true)
    {
        return Outcome::NotApplicable;
    }
    let missing = ropa_missing(a);
    Outcome::unless(missing.is_empty(), || {
        format!(
            "its record of processing (GDPR Art. 30) lacks {}",
            missing.join(", ")
        )
    })
}

fn high_risk_mitigated(f: &AssetFacts) -> Outcome {
    let a = f.asset;
    if !live(a) || a.kind != AssetKind::Data {
        return Outcome::NotApplicable;
    }
    match a.attr_str("risk_rating") {
        Some(r @ ("high" | "very_high")) => Outcome::unless(
            a.attr_str("risk_actions")
                .is_some_and(|t| !t.trim().is_empty()),
            || {
                format!(
                    "it is rated {} risk and records no risk actions",
                    r.replace('_', " ")
                )
            },
        ),
        _ => Outcome::NotApplicable,
    }
}

fn disposal_adequate(f: &AssetFacts) -> Outcome {
    if f.asset.status != Status::Disposed {
        return Outcome::NotApplicable;
    }
    let Some(d) = f.disposal else {
        return Outcome::fail("it is disposed of with no disposal record");
    };
    match &f.effective.disposal {
        Some((need, by)) if !d.method.meets(*need) => Outcome::fail(format!(
            "it was disposed of by {}, which does not meet {}: {} at the least",
            d.method,
            by.describe(),
            minimum(*need)
        )),
        _ => Outcome::Pass,
    }
}

fn minimum(d: DisposalRequirement) -> &'static str {
    match d {
        DisposalRequirement::Any => "any method",
        DisposalRequirement::SecureErase => "purge",
        DisposalRequirement::PhysicalDestruction => "destroy",
    }
}

fn aup_acknowledged(f: &PersonFacts) -> Outcome {
    match &f.aup_in_force {
        Some(number) if f.holds > 0 => Outcome::unless(f.acknowledged, || {
            format!(
                "they hold {} asset{} and have not acknowledged the acceptable-use policy in force (version {number})",
                f.holds,
                if f.holds == 1 { "" } else { "s" }
            )
        }),
        _ => Outcome::NotApplicable,
    }
}

fn policy_current(f: &PolicyFacts) -> Outcome {
    let title = f.document.title();
    let Some(v) = f.in_force else {
        return Outcome::fail(format!("the {title} has no approved version"));
    };
    match v.next_review_at {
        Some(d) if d < f.today => Outcome::fail(format!(
            "the {title} (version {}) was due for review on {d}",
            v.number
        )),
        None if v
            .approved_at
            .is_none_or(|t| t.date_naive() + TimeDelta::days(POLICY_REVIEW_DAYS) < f.today) =>
        {
            Outcome::fail(format!(
                "the {title} (version {}) has not been reviewed within {POLICY_REVIEW_DAYS} days",
                v.number
            ))
        }
        _ => Outcome::Pass,
    }
}

fn exception_current(x: &PolicyException, today: NaiveDate) -> Outcome {
    if x.status != ExceptionStatus::Approved {
        return Outcome::NotApplicable;
    }
    Outcome::unless(x.expires_at >= today, || {
        format!(
            "the exception to {} expired on {} and still stands approved",
            x.rule, x.expires_at
        )
    })
}

fn leaver_returned(c: &Offboarding, today: NaiveDate) -> Outcome {
    let Some(end) = c.end_date else {
        return Outcome::NotApplicable;
    };
    let late: Vec<&str> = c
        .items
        .iter()
        .filter(|i| i.overdue(Some(end), today))
        .map(|i| i.title.as_str())
        .collect();
    Outcome::unless(late.is_empty(), || {
        format!(
            "{} item{} still open after the last day, {end}: {}",
            late.len(),
            if late.len() == 1 { " is" } else { "s are" },
            late.join("; ")
        )
    })
}

/// Every check, in a fixed order (new checks are added at the end).
pub const CHECKS: [Check; 17] = [
    Check {
        id: "owner_active",
        version: 1,
        title: "Every asset has an accountable owner",
        severity: Severity::High,
        subject: SubjectType::Asset,
        population: "assets not disposed of",
        passes_when: "the owner is a person who has not left, a team with an active member, or a role with a holder",
        remediation: "Hand the asset to an active owner, or give the team a member or the role a holder.",
        rule: Rule::Asset(owner_active),
    },
    Check {
        id: "record_complete",
        version: 1,
        title: "Asset records meet their kind's minimum",
        severity: Severity::Medium,
        subject: SubjectType::Asset,
        population: "assets not disposed of",
        passes_when: "every field of the kind's minimum record (SPEC §2.2) is filled in",
        remediation: "Fill in the fields the finding names on the asset's record.",
        rule: Rule::Asset(record_complete),
    },
    Check {
        id: "review_current",
        version: 1,
        title: "Asset reviews are not overdue",
        severity: Severity::Medium,
        subject: SubjectType::Asset,
        population: "assets with a review date, not disposed of, lost or stolen",
        passes_when: "the next review date has not passed",
        remediation: "Review the asset: check its record is true and record the review.",
        rule: Rule::Asset(review_current),
    },
    Check {
        id: "classified",
        version: 1,
        title: "Assets are classified by the scheme",
        severity: Severity::High,
        subject: SubjectType::Asset,
        population: "assets not disposed of",
        passes_when: "the classification is a level of the organisation's scheme",
        remediation: "Classify the asset with a level of the scheme.",
        rule: Rule::Asset(classified),
    },
    Check {
        id: "labelled",
        version: 1,
        title: "Physical assets are labelled where their level asks for it",
        severity: Severity::Low,
        subject: SubjectType::Asset,
        population: "physical assets not disposed of whose effective level requires a label",
        passes_when: "the asset is recorded as labelled",
        remediation: "Label the asset with its classification and record it as labelled.",
        rule: Rule::Asset(labelled),
    },
    Check {
        id: "encrypted",
        version: 1,
        title: "Devices are encrypted where their level asks for it",
        severity: Severity::Critical,
        subject: SubjectType::Asset,
        population: "physical and virtual assets not disposed of whose effective level requires encryption",
        passes_when: "the device's storage is recorded as encrypted",
        remediation: "Encrypt the device's storage and record it as encrypted, or ask for an exception with compensating controls.",
        rule: Rule::Asset(encrypted),
    },
    Check {
        id: "off_premises_authorised",
        version: 1,
        title: "Assets off the premises are allowed there",
        severity: Severity::High,
        subject: SubjectType::Asset,
        population: "assets off the premises: in a custody off the premises, or at a location off the premises",
        passes_when: "the effective level allows it off the premises, or an approver approved the custody, or an exception covers it",
        remediation: "Bring the asset back on the premises, have the custody approved, or ask for an exception.",
        rule: Rule::Asset(off_premises_authorised),
    },
    Check {
        id: "custody_returned",
        version: 1,
        title: "Issued assets come back when due",
        severity: Severity::Medium,
        subject: SubjectType::Asset,
        population: "assets in a custody issued with an expected return date",
        passes_when: "the expected return date has not passed",
        remediation: "Collect the asset from its holder and check it in, or agree a new return date.",
        rule: Rule::Asset(custody_returned),
    },
    Check {
        id: "leaver_returned",
        version: 1,
        title: "Leavers and movers settle everything by their last day",
        severity: Severity::High,
        subject: SubjectType::Offboarding,
        population: "offboarding and handover cases with a last day",
        passes_when: "no item of the case is open after the person's last day",
        remediation: "Settle the case's open items: collect the assets, hand over what the person owned, confirm their access is revoked.",
        rule: Rule::Offboarding(leaver_returned),
    },
    Check {
        id: "aup_acknowledged",
        version: 1,
        title: "Holders acknowledged the acceptable-use policy in force",
        severity: Severity::Medium,
        subject: SubjectType::Person,
        population: "people holding an asset or a seat, while an acceptable-use version is in force",
        passes_when: "the person acknowledged a version their acknowledgement still counts for",
        remediation: "Ask the person to acknowledge the acceptable-use policy on their home page.",
        rule: Rule::Person(aup_acknowledged),
    },
    Check {
        id: "licences_sufficient",
        version: 1,
        title: "Software is not used beyond its licences",
        severity: Severity::Medium,
        subject: SubjectType::Asset,
        population: "software with a number of licences purchased",
        passes_when: "licences in use do not exceed licences purchased",
        remediation: "Buy more licences, or take back seats nobody needs.",
        rule: Rule::Asset(licences_sufficient),
    },
    Check {
        id: "licence_current",
        version: 1,
        title: "Software licences are current",
        severity: Severity::Low,
        subject: SubjectType::Asset,
        population: "software with a licence expiry date",
        passes_when: "the licence has not expired and does not expire within 30 days",
        remediation: "Renew the licence and record its new expiry date, or retire the software.",
        rule: Rule::Asset(licence_current),
    },
    Check {
        id: "ropa_complete",
        version: 1,
        title: "Personal data has its record of processing",
        severity: Severity::High,
        subject: SubjectType::Asset,
        population: "data assets holding personal data, not disposed of",
        passes_when: "every GDPR Art. 30 field of SPEC §2.2 is filled in",
        remediation: "Complete the record of processing with the data protection officer.",
        rule: Rule::Asset(ropa_complete),
    },
    Check {
        id: "high_risk_mitigated",
        version: 1,
        title: "High-risk processing records its mitigations",
        severity: Severity::High,
        subject: SubjectType::Asset,
        population: "data assets rated high or very high risk to their subjects",
        passes_when: "the record lists the risk actions taken",
        remediation: "Record the mitigations (risk actions), or assess the risk again.",
        rule: Rule::Asset(high_risk_mitigated),
    },
    Check {
        id: "disposal_adequate",
        version: 1,
        title: "Disposals meet the level's minimum method",
        severity: Severity::Critical,
        subject: SubjectType::Asset,
        population: "disposed assets",
        passes_when: "a disposal record exists and its method meets the effective level's minimum",
        remediation: "Find the asset and destroy or purge it as its level asks, and record the certificate; report it as an incident if it cannot be found.",
        rule: Rule::Asset(disposal_adequate),
    },
    Check {
        id: "policy_current",
        version: 1,
        title: "Policy documents are approved and reviewed within a year",
        severity: Severity::High,
        subject: SubjectType::Policy,
        population: "the Asset Management Policy and the Acceptable Use Policy",
        passes_when: "the document has an approved version whose review is not overdue",
        remediation: "Approve a version of the document, or review the version in force.",
        rule: Rule::Policy(policy_current),
    },
    Check {
        id: "exception_current",
        version: 1,
        title: "Exceptions in force have not expired",
        severity: Severity::Medium,
        subject: SubjectType::Exception,
        population: "approved exceptions",
        passes_when: "the exception's expiry date has not passed",
        remediation: "Revoke the exception, or ask for a new one with a new expiry date.",
        rule: Rule::Exception(exception_current),
    },
];

/// The check with id `id`.
pub fn check(id: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.id == id)
}

/// The position of check `id` in [`CHECKS`].
pub fn check_index(id: &str) -> Option<usize> {
    CHECKS.iter().position(|c| c.id == id)
}

/// Every check's id.
pub fn check_ids() -> impl Iterator<Item = &'static str> {
    CHECKS.iter().map(|c| c.id)
}

/// Every check `pick` runs: `(index in CHECKS, outcome)`.
fn run(pick: impl Fn(Rule) -> Option<Outcome>) -> Vec<(usize, Outcome)> {
    CHECKS
        .iter()
        .enumerate()
        .filter_map(|(i, c)| pick(c.rule).map(|o| (i, o)))
        .collect()
}

/// Runs every asset check over one asset.
pub fn asset_outcomes(f: &AssetFacts) -> Vec<(usize, Outcome)> {
    run(|r| match r {
        Rule::Asset(rule) => Some(rule(f)),
        _ => None,
    })
}

/// Runs every person check over one person.
pub fn person_outcomes(f: &PersonFacts) -> Vec<(usize, Outcome)> {
    run(|r| match r {
        Rule::Person(rule) => Some(rule(f)),
        _ => None,
    })
}

/// Runs every policy check over one document.
pub fn policy_outcomes(f: &PolicyFacts) -> Vec<(usize, Outcome)> {
    run(|r| match r {
        Rule::Policy(rule) => Some(rule(f)),
        _ => None,
    })
}

/// Runs every exception check over one exception.
pub fn exception_outcomes(x: &PolicyException, today: NaiveDate) -> Vec<(usize, Outcome)> {
    run(|r| match r {
        Rule::Exception(rule) => Some(rule(x, today)),
        _ => None,
    })
}

/// Runs every case check over one offboarding or handover case.
pub fn offboarding_outcomes(c: &Offboarding, today: NaiveDate) -> Vec<(usize, Outcome)> {
    run(|r| match r {
        Rule::Offboarding(rule) => Some(rule(c, today)),
        _ => None,
    })
}

/// The checks whose subject is `t`.
pub fn checks_about(t: SubjectType) -> impl Iterator<Item = (usize, &'static Check)> {
    CHECKS
        .iter()
        .enumerate()
        .filter(move |(_, c)| c.subject == t)
}

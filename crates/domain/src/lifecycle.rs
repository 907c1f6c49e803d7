//! The lifecycle (SPEC §5): statuses, allowed transitions, disposal and incident records.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::asset::{Asset, AssetKind};
use crate::classification::{Classification, DisposalRequirement};
use crate::error::Problems;
use crate::input::Input;
use crate::value;

wire_enum! {
    /// Where an asset is in its life.
    Status {
        Planned = "planned", InStock = "in_stock", InUse = "in_use", InRepair = "in_repair",
        Retired = "retired", Disposed = "disposed", Lost = "lost", Stolen = "stolen",
    }
}

wire_enum! {
    /// How an asset was disposed of (NIST SP 800-88 terms, plus data deletion and return).
    DisposalMethod {
        Clear = "clear", Purge = "purge", Destroy = "destroy", Deleted = "deleted",
        ReturnedToVendor = "returned_to_vendor",
    }
}

impl Status {
    /// Terminal: nothing follows.
    pub fn is_terminal(self) -> bool {
        self == Status::Disposed
    }

    /// Entering this status needs a record (disposal or incident).
    pub fn needs_record(self) -> bool {
        matches!(self, Status::Disposed | Status::Lost | Status::Stolen)
    }

    /// The statuses reachable from this one.
    pub fn next(self) -> &'static [Status] {
        use Status::*;
        match self {
            Planned => &[InStock, InUse, Retired, Lost, Stolen],
            InStock => &[InUse, InRepair, Retired, Lost, Stolen],
            InUse => &[InStock, InRepair, Retired, Lost, Stolen],
            InRepair => &[InUse, InStock, Retired, Lost, Stolen],
            Retired => &[InStock, Disposed, Lost, Stolen],
            Lost => &[InStock, InUse, Retired, Stolen],
            Stolen => &[InStock, InUse, Retired],
            Disposed => &[],
        }
    }

    /// Whether `self → to` is a transition of the state machine.
    pub fn can_become(self, to: Status) -> bool {
        self.next().contains(&to)
    }
}

impl DisposalMethod {
    /// Whether this method meets a level's minimum (`secure_erase` is met by purge or
    /// destroy, `physical_destruction` by destroy).
    pub fn meets(self, req: DisposalRequirement) -> bool {
        match req {
            DisposalRequirement::Any => true,
            DisposalRequirement::SecureErase => {
                matches!(self, DisposalMethod::Purge | DisposalMethod::Destroy)
            }
            DisposalRequirement::PhysicalDestruction => self == DisposalMethod::Destroy,
        }
    }
}

/// The record of how an asset was disposed of.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DisposalRecord {
    /// The disposed asset.
    pub asset_id: Uuid,
    /// Method.
    pub method: DisposalMethod,
    /// A person's id or a disposal vendor's name.
    pub performed_by: String,
    /// When it was done.
    pub performed_at: DateTime<Utc>,
    /// The certificate of destruction for this serial.
    pub certificate_ref: Option<String>,
    /// Who checked it was done.
    pub verified_by: Option<String>,
    /// Notes.
    pub notes: Option<String>,
}

/// The report of a lost or stolen asset.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct IncidentReport {
    /// The asset.
    pub asset_id: Uuid,
    /// `lost` or `stolen`.
    pub status: Status,
    /// When it was reported.
    pub reported_at: DateTime<Utc>,
    /// The incident's reference in the incident process; none while a holder's own report
    /// awaits the reference a manager adds.
    pub incident_ref: Option<String>,
    /// Circumstances.
    pub notes: Option<String>,
}

/// A validated transition, ready to be written.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// The status before.
    pub from: Status,
    /// The status after.
    pub to: Status,
    /// Why.
    pub reason: Option<String>,
    /// The disposal record, for `disposed`.
    pub disposal: Option<DisposalRecord>,
    /// The incident report, for `lost`/`stolen`.
    pub incident: Option<IncidentReport>,
}

/// Who asks for a transition: the asset's holder reporting it lost or stolen is not asked
/// for the incident's reference (SPEC §5); a manager adds it later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requester {
    /// A manager of the register.
    Manager,
    /// The person who holds the asset, reporting it lost or stolen.
    Holder,
}

/// Validates a transition request (`{"to", "reason", "disposal", "incident_ref", "reported_at"}`)
/// against the state machine and the asset's classification.
pub fn plan_transition(
    asset: &Asset,
    level: &Classification,
    obj: &Map<String, Value>,
    now: DateTime<Utc>,
    by: Requester,
) -> Result<Transition, Problems> {
    let mut r = Input::new(obj);
    r.reject_unknown(
        &[
            "to",
            "reason",
            "disposal",
            "incident",
            "incident_ref",
            "reported_at",
            "notes",
        ],
        &[],
        "a transition",
    );
    let to = r.required("to", Status::from_json);
    let reason = r.optional("reason", |v| value::text(v, 2000));
    let notes = r.optional("notes", |v| value::text(v, 2000));
    let Some(to) = to else { return Err(r.problems) };
    let from = asset.status;
    if from == to {
        r.add("to", format!("the asset is already {to}"));
    } else if from.is_terminal() {
        r.add("to", format!("the asset is {from}, which is final: a disposed asset stays in the register as it is"));
    } else if !from.can_become(to) {
        let next: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
        r.add(
            "to",
            format!(
                "{from} cannot become {to}; from {from} an asset can become {}",
                next.join(", ")
            ),
        );
    }
    let mut disposal = None;
    let mut incident = None;
    match to {
        Status::Disposed => match r.get("disposal") {
            Some(Value::Object(d)) => disposal = parse_disposal(asset, level, d, now, &mut r.problems),
            Some(other) => r.add("disposal", format!("must be an object, not {}", value::type_name(other))),
            None => r.add("disposal", "is required: a disposed asset needs its disposal record (method, performed_by, performed_at)"),
        },
        Status::Lost | Status::Stolen => {
            let nested = match r.get("incident") {
                Some(Value::Object(o)) => Some(o),
                Some(other) => {
                    r.add("incident", format!("must be an object, not {}", value::type_name(other)));
                    None
                }
                None => None,
            };
            let pick = |k: &str| nested.and_then(|o| o.get(k)).or_else(|| obj.get(k)).filter(|v| !v.is_null());
            let incident_ref = match pick("incident_ref") {
                Some(v) => r.problems.check("incident_ref", value::text(v, 200)).map(Some),
                None if by == Requester::Holder => Some(None),
                None => {
                    r.add("incident_ref", format!("is required: a {to} asset needs the incident's reference"));
                    None
                }
            };
            let reported_at = match pick("reported_at") {
                Some(v) => r.problems.check("reported_at", value::timestamp(v).and_then(|t| not_future(t, now))),
                None => {
                    r.add("reported_at", format!("is required: when the asset was reported {to}"));
                    None
                }
            };
            if let (Some(incident_ref), Some(reported_at)) = (incident_ref, reported_at) {
                incident = Some(IncidentReport { asset_id: asset.id, status: to, reported_at, incident_ref, notes: notes.clone().flatten() });
            }
        }
        _ => {
            if r.get("disposal").is_some() {
                r.add("disposal", "only a transition to disposed takes a disposal record");
            }
        }
    }
    let Input { problems, .. } = r;
    let Some(reason) = reason else {
        return Err(problems);
    };
    problems.into_result(Transition {
        from,
        to,
        reason,
        disposal,
        incident,
    })
}

fn not_future(t: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if t > now + chrono::TimeDelta::minutes(5) {
        Err("must not be in the future".into())
    } else {
        Ok(t)
    }
}

fn parse_disposal(
    asset: &Asset,
    level: &Classification,
    d: &Map<String, Value>,
    now: DateTime<Utc>,
    p: &mut Problems,
) -> Option<DisposalRecord> {
    let mut r = Input::new(d);
    r.reject_unknown(
        &[
            "method",
            "performed_by",
            "performed_at",
            "certificate_ref",
            "verified_by",
            "notes",
        ],
        &[],
        "a disposal record",
    );
    let method = r.required("method", DisposalMethod::from_json);
    let performed_by = r.required("performed_by", |v| value::text(v, 200));
    let performed_at = r.required("performed_at", |v| {
        value::timestamp(v).and_then(|t| not_future(t, now))
    });
    let certificate_ref = r.optional("certificate_ref", |v| value::text(v, 200));
    let verified_by = r.optional("verified_by", |v| value::text(v, 200));
    let notes = r.optional("notes", |v| value::text(v, 2000));
    if let Some(m) = method {
        if m == DisposalMethod::Deleted && asset.kind != AssetKind::Data {
            r.add(
                "method",
                "deleted applies to data assets; use clear, purge or destroy for a device",
            );
        } else if !m.meets(level.disposal_method) {
            r.add(
                "method",
                format!(
                    "{m} does not meet the {} level's minimum disposal method {} ({})",
                    level.name,
                    level.disposal_method,
                    match level.disposal_method {
                        DisposalRequirement::SecureErase => "purge or destroy",
                        DisposalRequirement::PhysicalDestruction => "destroy",
                        DisposalRequirement::Any => "any",
                    }
                ),
            );
        }
        if level.disposal_method != DisposalRequirement::Any
            && certificate_ref == Some(None)
            && asset.kind == AssetKind::Physical
        {
            r.add(
                "certificate_ref",
                format!(
                    "is required: {} assets need the certificate of destruction",
                    level.name
                ),
            );
        }
    }
    for e in r.problems.0 {
        p.add(format!("disposal.{}", e.field), e.message);
    }
    match (
        method,
        performed_by,
        performed_at,
        certificate_ref,
        verified_by,
        notes,
    ) {
        (
            Some(method),
            Some(performed_by),
            Some(performed_at),
            Some(certificate_ref),
            Some(verified_by),
            Some(notes),
        ) => Some(DisposalRecord {
            asset_id: asset.id,
            method,
            performed_by,
            performed_at,
            certificate_ref,
            verified_by,
            notes,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::{AssetContext, AssetDraft};
    use serde_json::json;

    fn laptop(class: &str) -> (Asset, Classification) {
        let keys: Vec<String> = ["public", "internal", "confidential", "restricted"]
            .map(String::from)
            .to_vec();
        let ctx = AssetContext {
            classifications: &keys,
            custom_defs: &[],
            number_prefix: "AST",
        };
        let d = AssetDraft::parse(json!({"kind": "physical", "name": "L", "owner_id": crate::new_id(), "importance": "low", "classification": class}).as_object().unwrap(), &ctx).unwrap();
        let level = crate::classification::defaults(crate::now())
            .into_iter()
            .find(|c| c.key == class)
            .unwrap();
        (
            d.into_asset(crate::new_id(), "AST-1".into(), crate::now()),
            level,
        )
    }

    fn plan(a: &Asset, l: &Classification, v: Value) -> Result<Transition, Problems> {
        plan_transition(
            a,
            l,
            v.as_object().unwrap(),
            crate::now(),
            Requester::Manager,
        )
    }

    #[test]
    fn disposed_is_final() {
        let (mut a, l) = laptop("public");
        a.status = Status::Disposed;
        let e = plan(&a, &l, json!({"to": "in_use"})).unwrap_err();
        assert!(e.0[0].message.contains("final"));
    }

    #[test]
    fn disposal_needs_a_record_that_meets_the_level() {
        let (mut a, l) = laptop("restricted");
        a.status = Status::Retired;
        let e = plan(&a, &l, json!({"to": "disposed"})).unwrap_err();
        assert_eq!(e.0[0].field, "disposal");
        let e = plan(&a, &l, json!({"to": "disposed", "disposal": {"method": "purge", "performed_by": "Shredders Ltd", "performed_at": "2026-01-01T00:00:00Z", "certificate_ref": "C-1"}})).unwrap_err();
        assert_eq!(e.0[0].field, "disposal.method");
        assert!(e.0[0].message.contains("destroy"));
        let t = plan(&a, &l, json!({"to": "disposed", "disposal": {"method": "destroy", "performed_by": "Shredders Ltd", "performed_at": "2026-01-01T00:00:00Z", "certificate_ref": "C-1"}})).unwrap();
        assert_eq!(t.disposal.unwrap().method, DisposalMethod::Destroy);
    }

    #[test]
    fn in_use_cannot_be_disposed_directly() {
        let (a, l) = laptop("public");
        let e = plan(&a, &l, json!({"to": "disposed", "disposal": {"method": "clear", "performed_by": "x", "performed_at": "2026-01-01"}})).unwrap_err();
        assert!(e.0[0].message.contains("in_use cannot become disposed"));
    }

    #[test]
    fn lost_needs_an_incident() {
        let (a, l) = laptop("internal");
        let e = plan(&a, &l, json!({"to": "lost"})).unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["incident_ref", "reported_at"]);
        let t = plan(
            &a,
            &l,
            json!({"to": "stolen", "incident_ref": "INC-9", "reported_at": "2026-01-01T10:00:00Z"}),
        )
        .unwrap();
        assert_eq!(t.incident.unwrap().incident_ref.as_deref(), Some("INC-9"));
        // The holder's own report stands without the reference, which a manager adds.
        let t = plan_transition(
            &a,
            &l,
            json!({"to": "lost", "reported_at": "2026-01-01T10:00:00Z"})
                .as_object()
                .unwrap(),
            crate::now(),
            Requester::Holder,
        )
        .unwrap();
        assert_eq!(t.incident.unwrap().incident_ref, None);
    }

    #[test]
    fn every_path_from_planned_can_end_disposed_or_stays_recoverable() {
        for s in Status::ALL {
            for n in s.next() {
                assert_ne!(s, n, "{s} lists itself");
                assert!(!s.is_terminal());
            }
        }
        assert!(Status::Disposed.next().is_empty());
    }
}

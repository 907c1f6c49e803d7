//! Policy exceptions (SPEC §6.5): a rule set aside for named assets, with a justification,
//! compensating controls, an approver and an expiry at most a year away.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::Problems;
use crate::input::Input;
use crate::value;

wire_enum! {
    /// The rules an exception can set aside.
    ExceptionRule {
        /// Taking an asset off the premises where its classification forbids it.
        OffPremises = "off_premises",
        /// Issuing an asset to someone who has not acknowledged the acceptable-use policy.
        AcceptableUse = "acceptable_use",
        /// Assigning more software seats than licences were purchased.
        LicenceOverallocation = "licence_overallocation",
        /// A device holding information that must be encrypted, unencrypted.
        EncryptionRequired = "encryption_required",
        /// A carrier of information that must be labelled, unlabelled.
        LabelRequired = "label_required",
        /// A review left overdue.
        ReviewOverdue = "review_overdue",
        /// Check `owner_active` (SPEC §8): an asset without an accountable owner.
        OwnerActive = "owner_active",
        /// Check `record_complete`: a record short of its kind's minimum.
        RecordComplete = "record_complete",
        /// Check `review_current`: the same as `review_overdue`.
        ReviewCurrent = "review_current",
        /// Check `classified`: an asset outside the scheme's levels.
        Classified = "classified",
        /// Check `labelled`: the same as `label_required`.
        Labelled = "labelled",
        /// Check `encrypted`: the same as `encryption_required`.
        Encrypted = "encrypted",
        /// Check `off_premises_authorised`: the same as `off_premises`.
        OffPremisesAuthorised = "off_premises_authorised",
        /// Check `custody_returned`: an asset kept past its return date.
        CustodyReturned = "custody_returned",
        /// Check `aup_acknowledged`: the same as `acceptable_use`.
        AupAcknowledged = "aup_acknowledged",
        /// Check `licences_sufficient`: the same as `licence_overallocation`.
        LicencesSufficient = "licences_sufficient",
        /// Check `licence_current`: a licence expired or about to.
        LicenceCurrent = "licence_current",
        /// Check `ropa_complete`: a record of processing short of Art. 30.
        RopaComplete = "ropa_complete",
        /// Check `high_risk_mitigated`: high-risk processing without recorded mitigations.
        HighRiskMitigated = "high_risk_mitigated",
        /// Check `disposal_adequate`: a disposal short of the level's minimum.
        DisposalAdequate = "disposal_adequate",
    }
}

impl ExceptionRule {
    /// The check of SPEC §8 it sets aside: the rules named before the checks existed
    /// (`off_premises`, `acceptable_use`, …) set aside the check that measures them.
    pub fn check_id(self) -> &'static str {
        use ExceptionRule as R;
        match self {
            R::OffPremises | R::OffPremisesAuthorised => "off_premises_authorised",
            R::AcceptableUse | R::AupAcknowledged => "aup_acknowledged",
            R::LicenceOverallocation | R::LicencesSufficient => "licences_sufficient",
            R::EncryptionRequired | R::Encrypted => "encrypted",
            R::LabelRequired | R::Labelled => "labelled",
            R::ReviewOverdue | R::ReviewCurrent => "review_current",
            other => other.as_str(),
        }
    }

    /// Whether this rule and `other` set aside the same check.
    pub fn same_as(self, other: ExceptionRule) -> bool {
        self.check_id() == other.check_id()
    }
}

wire_enum! {
    /// Where an exception is in its life (an approved one whose expiry passed is `expired`
    /// when read).
    ExceptionStatus {
        Requested = "requested", Approved = "approved", Rejected = "rejected",
        Revoked = "revoked", Expired = "expired",
    }
}

/// The longest an exception may run.
pub const MAX_DAYS: i64 = 365;
/// The most assets one exception covers.
pub const MAX_ASSETS: usize = 500;

/// A policy exception.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PolicyException {
    /// Identifier.
    pub id: Uuid,
    /// The rule set aside.
    pub rule: ExceptionRule,
    /// The assets it covers.
    pub asset_ids: Vec<Uuid>,
    /// Why the rule cannot be followed.
    pub justification: String,
    /// What reduces the risk meanwhile.
    pub compensating_controls: String,
    /// The person who asked for it.
    pub requester_id: Option<Uuid>,
    /// The person who approved or rejected it.
    pub approver_id: Option<Uuid>,
    /// When it was approved or rejected.
    pub decided_at: Option<DateTime<Utc>>,
    /// What the approver said.
    pub decision_notes: Option<String>,
    /// The last day it applies.
    pub expires_at: NaiveDate,
    /// Requested, approved, rejected or revoked (as stored; see [`PolicyException::state`]).
    pub status: ExceptionStatus,
    /// Record version for optimistic concurrency.
    pub version: i64,
    /// When it was requested.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Checks an expiry date: after `today`, and at most a year later.
pub fn check_expiry(expires_at: NaiveDate, today: NaiveDate) -> Result<(), String> {
    let latest = today + TimeDelta::days(MAX_DAYS);
    if expires_at <= today {
        Err("must be after today".into())
    } else if expires_at > latest {
        Err(format!("must be at most a year away (by {latest})"))
    } else {
        Ok(())
    }
}

impl PolicyException {
    /// Builds a request from its input.
    pub fn from_input(
        obj: &Map<String, Value>,
        requester_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut r = Input::new(obj);
        r.reject_unknown(
            &[
                "rule",
                "asset_ids",
                "justification",
                "compensating_controls",
                "expires_at",
            ],
            &[
                "id",
                "status",
                "state",
                "requester_id",
                "approver_id",
                "decided_at",
                "decision_notes",
                "version",
                "created_at",
                "updated_at",
            ],
            "an exception",
        );
        let rule = r.required("rule", ExceptionRule::from_json);
        let asset_ids = r.required("asset_ids", ids);
        let justification = r.required("justification", |v| value::text(v, 4000));
        let controls = r.required("compensating_controls", |v| value::text(v, 4000));
        let expires_at = r.required("expires_at", |v| {
            let d = value::date(v)?;
            check_expiry(d, now.date_naive()).map(|_| d)
        });
        let Input { problems, .. } = r;
        let (Some(rule), Some(asset_ids), Some(justification), Some(controls), Some(expires_at)) =
            (rule, asset_ids, justification, controls, expires_at)
        else {
            return Err(problems);
        };
        problems.into_result(PolicyException {
            id: crate::new_id(),
            rule,
            asset_ids,
            justification,
            compensating_controls: controls,
            requester_id,
            approver_id: None,
            decided_at: None,
            decision_notes: None,
            expires_at,
            status: ExceptionStatus::Requested,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    /// The status as of `today`: an approved exception past its expiry is `expired`.
    pub fn state(&self, today: NaiveDate) -> ExceptionStatus {
        if self.status == ExceptionStatus::Approved && self.expires_at < today {
            ExceptionStatus::Expired
        } else {
            self.status
        }
    }

    /// Its state as it stood at `at` (`None`: not asked for yet). A decision counts from
    /// when it was made; a revocation from the record's last change, which it is.
    pub fn state_at(&self, at: DateTime<Utc>) -> Option<ExceptionStatus> {
        if self.created_at > at {
            return None;
        }
        let decided = self.decided_at.is_some_and(|d| d <= at);
        let status = match self.status {
            ExceptionStatus::Requested => ExceptionStatus::Requested,
            _ if !decided => ExceptionStatus::Requested,
            ExceptionStatus::Revoked if self.updated_at > at => ExceptionStatus::Approved,
            s => s,
        };
        if status == ExceptionStatus::Approved && self.expires_at < at.date_naive() {
            Some(ExceptionStatus::Expired)
        } else {
            Some(status)
        }
    }

    /// Whether it sets `rule` (or the check `rule` measures) aside for `asset` on `today`.
    pub fn covers(&self, rule: ExceptionRule, asset: Uuid, today: NaiveDate) -> bool {
        self.covers_check(rule.check_id(), asset, today)
    }

    /// Whether it sets check `check_id` aside for `asset` on `today`: approved, unexpired,
    /// naming the check (or the rule it measures) and the asset.
    pub fn covers_check(&self, check_id: &str, asset: Uuid, today: NaiveDate) -> bool {
        self.rule.check_id() == check_id
            && self.state(today) == ExceptionStatus::Approved
            && self.asset_ids.contains(&asset)
    }

    /// Decides a request: `to` is approved or rejected; an approval checks the expiry again
    /// (a request may have waited) and refuses the requester approving their own request.
    pub fn decide(
        &self,
        to: ExceptionStatus,
        approver: Uuid,
        notes: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Self, Problems> {
        let mut p = Problems::new();
        if self.status != ExceptionStatus::Requested {
            p.add(
                "status",
                format!(
                    "the exception is {}, not requested",
                    self.state(now.date_naive())
                ),
            );
        }
        if to == ExceptionStatus::Approved {
            if self.requester_id == Some(approver) {
                p.add(
                    "approver_id",
                    "whoever asked for an exception cannot approve it: another admin decides",
                );
            }
            if let Err(m) = check_expiry(self.expires_at, now.date_naive()) {
                p.add("expires_at", m);
            }
        }
        let mut next = self.clone();
        next.status = to;
        next.approver_id = Some(approver);
        next.decided_at = Some(now);
        next.decision_notes = notes;
        next.version += 1;
        next.updated_at = now;
        p.into_result(next)
    }

    /// Revokes an approved exception before its expiry.
    pub fn revoke(&self, notes: Option<String>, now: DateTime<Utc>) -> Result<Self, Problems> {
        if self.state(now.date_naive()) != ExceptionStatus::Approved {
            let mut p = Problems::new();
            p.add(
                "status",
                format!(
                    "only an approved exception in force is revoked; this one is {}",
                    self.state(now.date_naive())
                ),
            );
            return Err(p);
        }
        let mut next = self.clone();
        next.status = ExceptionStatus::Revoked;
        if notes.is_some() {
            next.decision_notes = notes;
        }
        next.version += 1;
        next.updated_at = now;
        Ok(next)
    }
}

/// A non-empty list of distinct asset ids.
fn ids(v: &Value) -> Result<Vec<Uuid>, String> {
    let Value::Array(items) = v else {
        return Err(format!(
            "must be a list of asset ids, not {}",
            value::type_name(v)
        ));
    };
    if items.is_empty() {
        return Err("must name at least one asset".into());
    }
    if items.len() > MAX_ASSETS {
        return Err(format!("must name at most {MAX_ASSETS} assets"));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let id = value::id(item).map_err(|m| format!("item {}: {m}", i + 1))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(expires: NaiveDate, requester: Option<Uuid>) -> PolicyException {
        let body = json!({"rule": "off_premises", "asset_ids": [crate::new_id()],
            "justification": "Field work", "compensating_controls": "Encrypted, tracked",
            "expires_at": expires.to_string()});
        PolicyException::from_input(body.as_object().unwrap(), requester, crate::now()).unwrap()
    }

    #[test]
    fn expiry_is_required_and_within_a_year() {
        let now = crate::now();
        let today = now.date_naive();
        let e = PolicyException::from_input(
            json!({"rule": "nope", "asset_ids": []})
                .as_object()
                .unwrap(),
            None,
            now,
        )
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        for f in [
            "rule",
            "asset_ids",
            "justification",
            "compensating_controls",
            "expires_at",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        assert!(check_expiry(today + TimeDelta::days(366), today).is_err());
        assert!(check_expiry(today, today).is_err());
        assert!(check_expiry(today + TimeDelta::days(365), today).is_ok());
    }

    #[test]
    fn only_an_approved_unexpired_exception_covers() {
        let now = crate::now();
        let today = now.date_naive();
        let me = crate::new_id();
        let x = request(today + TimeDelta::days(30), Some(me));
        let asset = x.asset_ids[0];
        assert!(!x.covers(ExceptionRule::OffPremises, asset, today));
        let own = x
            .decide(ExceptionStatus::Approved, me, None, now)
            .unwrap_err();
        assert_eq!(own.0[0].field, "approver_id");
        let a = x
            .decide(ExceptionStatus::Approved, crate::new_id(), None, now)
            .unwrap();
        assert!(a.covers(ExceptionRule::OffPremises, asset, today));
        assert!(!a.covers(ExceptionRule::AcceptableUse, asset, today));
        let later = today + TimeDelta::days(31);
        assert_eq!(a.state(later), ExceptionStatus::Expired);
        assert!(!a.covers(ExceptionRule::OffPremises, asset, later));
        let r = a.revoke(None, now).unwrap();
        assert!(!r.covers(ExceptionRule::OffPremises, asset, today));
        assert!(r.revoke(None, now).is_err());
    }
}

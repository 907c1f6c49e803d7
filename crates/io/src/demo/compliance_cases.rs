//! The demo's compliance story: its policies, who holds what and acknowledged what, the
//! exceptions in force (and one past its expiry), and the records that make every check of
//! SPEC §8 pass somewhere, fail somewhere and be excepted somewhere, so that a newcomer's
//! `/compliance` page shows each working.
//!
//! The organisation's history (policies approved last year, custody issued months ago,
//! exceptions approved and one expired since) is recorded as it stands, each record with
//! its audit event, as an import of the organisation's earlier register would; today's
//! changes go through the services like any user's.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use custodian_app::AppError;
use custodian_domain::audit::{Actor, NewEvent};
use custodian_domain::custody::{Assignment, AssignmentKind};
use custodian_domain::exception::{ExceptionRule, ExceptionStatus, PolicyException};
use custodian_domain::policy::{PolicyStatus, PolicyVersion};
use custodian_store::{ChangeSet, CustodyWrite, ExceptionWrite, PolicyWrite, Write};

use super::{obj, Demo, LEAVER, PEOPLE};

/// Staff who hold their laptop but have not acknowledged the acceptable-use policy: the
/// first is a finding, the second is covered by an exception.
const UNACKNOWLEDGED: [usize; 2] = [20, 21];

impl Demo<'_> {
    fn named(&self, first: &str, last: &str) -> Result<Uuid, AppError> {
        let i = PEOPLE
            .iter()
            .position(|p| p.0 == first && p.1 == last)
            .ok_or_else(|| super::missing("person", &format!("{first} {last}")))?;
        self.person(i)
    }

    fn at(&self, days: i64) -> DateTime<Utc> {
        Utc::now() + TimeDelta::days(days)
    }

    /// Records one change of the organisation's history with its event.
    async fn record(
        &self,
        write: Write,
        action: &str,
        entity: &str,
        id: Uuid,
        view: Value,
    ) -> Result<(), AppError> {
        let ev = NewEvent::new(
            &Actor::System,
            action,
            entity,
            id,
            json!({"recorded": view}),
            None,
            custodian_domain::now(),
        );
        self.app.store().commit(ChangeSet::one(write, ev)).await?;
        Ok(())
    }

    async fn policy(
        &self,
        doc: &str,
        number: &str,
        title: &str,
        body: &str,
        approved_days_ago: i64,
        review_in: i64,
    ) -> Result<Uuid, AppError> {
        let mut p = PolicyVersion::from_input(
            &obj(
                json!({"document": doc, "number": number, "title": title, "body": body,
                "effective_date": self.d(-approved_days_ago), "material": true,
                "change_summary": "Rewritten for ISO/IEC 27001:2022"}),
            ),
            self.at(-approved_days_ago - 14),
        )?;
        p.author_id = Some(self.named("Rebecca", "Thornton")?);
        p.status = PolicyStatus::Approved;
        p.approved_by = Some(self.named("Miriam", "Okafor")?);
        p.approved_at = Some(self.at(-approved_days_ago));
        p.next_review_at = Some(self.date(review_in));
        let id = p.id;
        let view = Value::Object(p.audit_view());
        self.record(
            Write::Policy(PolicyWrite::InsertPolicy(Box::new(p))),
            "policy.approved",
            "policy",
            id,
            view,
        )
        .await?;
        Ok(id)
    }

    async fn custody(
        &self,
        asset: Uuid,
        person: Uuid,
        issued_days_ago: i64,
        due_in: Option<i64>,
    ) -> Result<(), AppError> {
        let issued = self.at(-issued_days_ago);
        let a = Assignment {
            person_id: Some(person),
            expected_return_at: due_in.map(|d| self.date(d)),
            ..Assignment::open(
                asset,
                AssignmentKind::Custody,
                Some(self.person(super::TECHNICIAN)?),
                issued,
            )
        };
        let id = a.id;
        let view = json!({"asset_id": asset, "person_id": person, "expected_return_at": a.expected_return_at});
        self.record(
            Write::Custody(CustodyWrite::InsertAssignment(Box::new(a))),
            "assignment.created",
            "assignment",
            id,
            view,
        )
        .await
    }

    async fn exception(
        &self,
        rule: &str,
        assets: &[Uuid],
        why: &str,
        controls: &str,
        approved_days_ago: i64,
        expires_in: i64,
    ) -> Result<(), AppError> {
        let decided = self.at(-approved_days_ago);
        let x = PolicyException {
            id: custodian_domain::new_id(),
            rule: ExceptionRule::parse(rule)
                .ok_or_else(|| super::missing("exception rule", rule))?,
            asset_ids: assets.to_vec(),
            justification: why.into(),
            compensating_controls: controls.into(),
            requester_id: Some(self.named("Priya", "Raman")?),
            approver_id: Some(self.named("Rebecca", "Thornton")?),
            decided_at: Some(decided),
            decision_notes: None,
            expires_at: self.date(expires_in),
            status: ExceptionStatus::Approved,
            version: 2,
            created_at: decided - TimeDelta::days(2),
            updated_at: decided,
        };
        let id = x.id;
        let view = json!({"rule": rule, "asset_ids": assets, "expires_at": x.expires_at});
        self.record(
            Write::Exception(ExceptionWrite::InsertException(Box::new(x))),
            "exception.approved",
            "exception",
            id,
            view,
        )
        .await
    }

    async fn new_asset(&mut self, key: &str, v: Value) -> Result<Uuid, AppError> {
        let a = self.app.create_asset(self.ctx, obj(v)).await?;
        self.summary.assets += 1;
        self.assets.insert(key.into(), a.asset.id);
        Ok(a.asset.id)
    }

    async fn link(&mut self, from: Uuid, rel: &str, to: Uuid) -> Result<(), AppError> {
        self.app
            .add_relation(self.ctx, from, obj(json!({"type": rel, "to_id": to})))
            .await?;
        self.summary.relations += 1;
        Ok(())
    }

    async fn patch(&self, id: Uuid, v: Value) -> Result<(), AppError> {
        self.app
            .update_asset(self.ctx, id, obj(v), custodian_app::Precondition::Any)
            .await?;
        Ok(())
    }

    async fn transition(&self, id: Uuid, v: Value) -> Result<(), AppError> {
        self.app
            .transition_asset(self.ctx, id, obj(v), custodian_app::Precondition::Any)
            .await?;
        Ok(())
    }

    /// The policies, custody, acknowledgements, exceptions and records of the story.
    pub(super) async fn compliance_cases(&mut self) -> Result<(), AppError> {
        // Policies: acceptable use approved three months ago; the asset management policy
        // approved fourteen months ago and not reviewed since (policy_current fails).
        let aup = self
            .policy("acceptable_use", "2.0", "Acceptable Use Policy",
                "# Acceptable use\n\nCompany devices and information are for company business. Lock your screen, keep devices with you or locked away, report loss at once, and return everything when you leave.",
                90, 275)
            .await?;
        self.policy("asset_management", "1.0", "Asset Management Policy",
            "# Asset management\n\nEvery asset has an owner, a classification and a record kept true. Owners review their assets when due; assets are handled, moved and disposed of as their classification requires.",
            425, -60)
            .await?;

        // Everyone's laptop is in their custody; everyone acknowledged the policy in force
        // but two, one of whom an exception covers.
        for i in 0..PEOPLE.len() {
            if i == LEAVER || i == super::CONTRACTOR {
                continue;
            }
            let laptop = self.asset(&format!("laptop_{i}"))?;
            self.custody(laptop, self.person(i)?, 200 + i as i64, None)
                .await?;
            if !UNACKNOWLEDGED.contains(&i) {
                self.app
                    .acknowledge(self.ctx, obj(json!({"person_id": self.person(i)?, "policy_id": aup, "acknowledged_at": self.ts(-80 + (i as i64 % 30))})))
                    .await?;
            }
        }

        // Loan laptops: one overdue, one overdue under an exception, one due next month.
        let store = self.loc("IT store room")?;
        let it = self.owner(super::O::N("IT"))?;
        let reviewer = self.person(super::TECHNICIAN)?;
        let mut loans = Vec::new();
        for (n, (who, due)) in [(30usize, -10i64), (31, -5), (32, 20)]
            .into_iter()
            .enumerate()
        {
            let id = self
                .new_asset(&format!("loan_{n}"), json!({
                    "kind": "physical", "name": format!("Loan laptop L-0{}", n + 1), "owner_id": it,
                    "importance": "low", "classification": "confidential", "location_id": store,
                    "serial_number": super::serial(7000 + n as u64), "function": "Loan laptop for visitors and repairs",
                    "information_description": "Whatever the borrower works on; wiped on return",
                    "encrypted": true, "labelled": true, "last_reviewed_at": self.ts(-20), "last_reviewed_by": reviewer,
                }))
                .await?;
            self.custody(id, self.person(who)?, 30, Some(due)).await?;
            loans.push(id);
        }

        // Off the premises: two home-working laptops now hold restricted data. Restricted
        // needs approval to leave the premises, which a home location cannot give.
        let home_payroll = self.asset("laptop_3")?;
        let payroll = self.asset("payroll")?;
        self.link(home_payroll, "stores", payroll).await?;
        let home_hr = self.asset("laptop_7")?;
        let hr = self.asset("hr_records")?;
        self.link(home_hr, "stores", hr).await?;

        // Licences: MATLAB is now used beyond what was bought; Tableau's licence lapsed.
        self.patch(self.asset("sw_matlab")?, json!({"licences_used": 6}))
            .await?;
        self.patch(
            self.asset("sw_tableau")?,
            json!({"licence_expires_at": self.d(-3)}),
        )
        .await?;

        // Personal data: the visitor log's record of processing does not say who receives
        // it or how long it is kept; interview notes are rated high risk with no
        // mitigations recorded.
        let facilities = self.owner(super::O::N(super::FACILITIES))?;
        self.new_asset("visitor_log", json!({
            "kind": "data", "name": "Reception visitor log", "owner_id": facilities,
            "importance": "low", "classification": "internal", "business_function": "Facilities",
            "systems": "Paper book at reception, scanned monthly", "purpose": "Know who is in the building in an emergency",
            "controller": super::ORGANISATION, "contains_personal_data": true,
            "data_subject_categories": ["Visitors"], "personal_data_categories": ["Names", "Companies", "Arrival and departure times"],
            "lawful_basis": "legitimate_interests", "security_measures": "Book kept behind the reception desk",
            "last_reviewed_at": self.ts(-10), "next_review_at": self.d(355),
        })).await?;
        let people_head = self.owner(super::O::N(super::HEAD_OF_PEOPLE))?;
        let dpo = self.person(6)?;
        self.new_asset("interview_notes", json!({
            "kind": "data", "name": "Recruitment interview notes", "owner_id": people_head,
            "importance": "medium", "classification": "confidential", "business_function": "People (HR)",
            "systems": "Recruitment system (Teamtailor)", "purpose": "Select candidates fairly and defend hiring decisions",
            "controller": super::ORGANISATION, "contains_personal_data": true,
            "data_subject_categories": ["Candidates"], "personal_data_categories": ["Interview notes", "Assessment scores"],
            "recipient_categories": ["Hiring managers"], "lawful_basis": "legitimate_interests",
            "retention": "6 months after the role is filled", "retention_days": 183,
            "security_measures": "Access limited to the hiring panel", "risk_rating": "high",
            "last_reviewed_at": self.ts(-30), "last_reviewed_by": dpo, "next_review_at": self.d(150),
        })).await?;

        // Disposal: two USB sticks cleared when what they held was internal; the transfers
        // they carried were classified restricted since, so a clear no longer meets the
        // level they are held to (disposal_adequate fails; an exception covers one).
        let finance = self.owner(super::O::N("Finance"))?;
        let mut sticks = Vec::new();
        for n in 0..2u64 {
            let data = self
                .new_asset(&format!("transfers_{n}"), json!({
                    "kind": "data", "name": format!("Bank transfer batches {}", 2023 + n), "owner_id": finance,
                    "importance": "high", "classification": "internal", "purpose": "Pay suppliers",
                    "systems": "Carried between the payroll PC and the bank on an encrypted stick",
                    "contains_personal_data": false, "last_reviewed_at": self.ts(-40), "next_review_at": self.d(300),
                }))
                .await?;
            let stick = self
                .new_asset(&format!("stick_{n}"), json!({
                    "kind": "physical", "name": format!("Encrypted USB stick F-{}", n + 1), "owner_id": finance,
                    "importance": "medium", "classification": "internal", "serial_number": super::serial(8000 + n),
                    "function": "Carry payment batches to the bank", "information_description": "Bank transfer batches",
                    "encrypted": true, "last_reviewed_at": self.ts(-40), "last_reviewed_by": reviewer,
                }))
                .await?;
            self.link(stick, "contains", data).await?;
            self.transition(
                stick,
                json!({"to": "retired", "reason": "Replaced by the bank's upload portal"}),
            )
            .await?;
            self.transition(stick, json!({"to": "disposed", "reason": "Wiped and sent for recycling",
                "disposal": {"method": "clear", "performed_by": "Jamal Haddad", "performed_at": self.ts(-20), "verified_by": "Lucy Pemberton"}})).await?;
            self.patch(data, json!({"classification": "restricted"}))
                .await?;
            sticks.push(stick);
        }

        // The exceptions in force, one per check they set aside, and one past its expiry.
        let ex: &[(&str, Uuid, &str, &str)] = &[
            (
                "owner_active",
                self.asset(&format!("laptop_{LEAVER}"))?,
                "Kept for the leaver's legal hold until the case closes",
                "Disabled in MDM; stored in the IT safe",
            ),
            (
                "record_complete",
                self.asset("laptop_4")?,
                "Information description awaits the new team's process map",
                "Laptop restricted to standard applications",
            ),
            (
                "review_current",
                self.asset("laptop_5")?,
                "Owner on extended leave; review on return",
                "Device locked by MDM while unused",
            ),
            (
                "labelled",
                self.asset("laptop_6")?,
                "Label printer replacement on order",
                "Asset tag recorded in MDM",
            ),
            (
                "encrypted",
                self.asset("laptop_11")?,
                "Legacy lab software fails under full-disk encryption",
                "Never leaves the lab; no personal data on it",
            ),
            (
                "off_premises_authorised",
                home_hr,
                "Home working during the HR system migration",
                "VPN only; screen privacy filter; weekly check-in",
            ),
            (
                "custody_returned",
                loans[1],
                "Borrower abroad on a customer installation",
                "Remote wipe armed; encrypted",
            ),
            (
                "aup_acknowledged",
                self.asset(&format!("laptop_{}", UNACKNOWLEDGED[1]))?,
                "New starter on induction; acknowledgement at the end of week one",
                "Standard build; no admin rights",
            ),
            (
                "licences_sufficient",
                self.asset("sw_acrobat")?,
                "Four extra seats during the contract season",
                "True-up ordered for the next renewal",
            ),
            (
                "licence_current",
                self.asset("sw_fusion")?,
                "Renewal in procurement",
                "Vendor confirmed a grace period in writing",
            ),
            (
                "high_risk_mitigated",
                self.asset("interview_notes")?,
                "DPIA under way",
                "Notes deleted after 6 months",
            ),
            (
                "disposal_adequate",
                sticks[1],
                "Stick was encrypted with a key destroyed at wipe (crypto-erase)",
                "Key destruction recorded by IT",
            ),
        ];
        for (rule, asset, why, controls) in ex {
            self.exception(rule, &[*asset], why, controls, 30, 90)
                .await?;
        }
        let recordings = self.asset("sales_recordings")?;
        self.exception(
            "ropa_complete",
            &[recordings],
            "Lawful basis under review by counsel",
            "Recordings deleted after 90 days",
            20,
            60,
        )
        .await?;
        // Expired ten days ago and still approved: exception_current fails, and the laptop
        // it covered fails encryption again.
        self.exception(
            "encrypted",
            &[self.asset("laptop_27")?],
            "Waiting for a replacement disk",
            "Laptop kept in the office",
            120,
            -10,
        )
        .await?;
        Ok(())
    }
}

//! Policy versions and their acknowledgement (SPEC §6.2, §7; ISO/IEC 27001 A.5.10).

use serde_json::{json, Map, Value};
use uuid::Uuid;

use custodian_domain::access::Action;
use custodian_domain::audit::{self, NewEvent};
use custodian_domain::input::Input;
use custodian_domain::party::{PartyKind, PersonStatus};
use custodian_domain::policy::{
    accepted_versions, AckSource, Acknowledgement, DocumentFormat, PolicyDocument, PolicyRendering,
    PolicyReview, PolicyStatus, PolicyVersion,
};
use custodian_domain::{value, Problems};
use custodian_store::PolicyWrite;
use custodian_store::{AcknowledgementQuery, ChangeSet, Page, Write};

use crate::Precondition;
use crate::{check_version, object, race, App, AppError, Ctx, Result};

/// The most acknowledgements one import takes.
pub const MAX_IMPORT: usize = 5000;

/// A person's standing against the acceptable-use policy in force.
#[derive(Clone, Debug)]
pub struct AupStanding {
    /// The version in force (`None`: none approved yet, so nothing to acknowledge).
    pub current: Option<PolicyVersion>,
    /// The acknowledgement that still counts, if any.
    pub acknowledgement: Option<Acknowledgement>,
}

impl AupStanding {
    /// Whether the person has nothing to acknowledge.
    pub fn up_to_date(&self) -> bool {
        self.current.is_none() || self.acknowledgement.is_some()
    }
}

/// The acknowledgement position of the version in force.
#[derive(Clone, Debug)]
pub struct AckSummary {
    /// The version in force.
    pub current: Option<PolicyVersion>,
    /// Persons (not left) whose acknowledgement counts.
    pub acknowledged: i64,
    /// Persons (not left) who still have to acknowledge.
    pub outstanding: i64,
    /// Some of those, by name.
    pub missing: Vec<custodian_domain::party::Party>,
}

/// The JSON of an acknowledgement.
pub fn ack_json(a: &Acknowledgement) -> Value {
    serde_json::to_value(a).unwrap_or(Value::Null)
}

/// The document people read of a policy version: its text, under a header naming the
/// version, its status and its approval, and over a footer with the version and the
/// SHA-256 of its text (which the approval event records too).
pub fn policy_doc(p: &PolicyVersion, approver: Option<&str>) -> custodian_render::Doc {
    let mut header = format!(
        "{} · version {} · {} · effective {}",
        p.document.title(),
        p.number,
        p.status,
        p.effective_date
    );
    match (p.approved_at, approver) {
        (Some(at), Some(name)) => {
            header.push_str(&format!(" · approved by {name} on {}", at.date_naive()))
        }
        (Some(at), None) => header.push_str(&format!(" · approved on {}", at.date_naive())),
        _ => header.push_str(" · not approved"),
    }
    if let Some(next) = p.next_review_at {
        header.push_str(&format!(" · next review by {next}"));
    }
    let digest = audit::sha256_hex(p.body.as_bytes());
    custodian_render::Doc {
        title: p.title.clone(),
        header,
        footer: format!(
            "Version {} · text SHA-256 {}",
            p.number,
            digest.get(..16).unwrap_or(&digest)
        ),
        landscape: false,
        blocks: vec![custodian_render::Block::Markdown(p.body.clone())],
    }
}

impl App {
    async fn load_policy(&self, id: Uuid) -> Result<PolicyVersion> {
        self.store
            .policy(id)
            .await?
            .ok_or_else(|| AppError::not_found("policy", id))
    }

    /// Every version of one document or of all, oldest first. Anyone signed in reads them:
    /// everyone is bound by them.
    pub async fn list_policies(
        &self,
        ctx: &Ctx,
        document: Option<PolicyDocument>,
    ) -> Result<Vec<PolicyVersion>> {
        self.allow(ctx, Action::ReadReference).await?;
        Ok(self.store.policies(document).await?)
    }

    /// One version.
    pub async fn get_policy(&self, ctx: &Ctx, id: Uuid) -> Result<PolicyVersion> {
        self.allow(ctx, Action::ReadReference).await?;
        self.load_policy(id).await
    }

    /// The version of a document in force, if one is approved.
    pub async fn policy_in_force(&self, document: PolicyDocument) -> Result<Option<PolicyVersion>> {
        Ok(self
            .store
            .policies(Some(document))
            .await?
            .into_iter()
            .find(|p| p.status == PolicyStatus::Approved))
    }

    /// Approved and superseded versions of a document in order of approval.
    async fn approved_versions(&self, document: PolicyDocument) -> Result<Vec<PolicyVersion>> {
        let mut v: Vec<PolicyVersion> = self
            .store
            .policies(Some(document))
            .await?
            .into_iter()
            .filter(|p| p.status != PolicyStatus::Draft)
            .collect();
        v.sort_by_key(|p| p.approved_at);
        Ok(v)
    }

    /// Writes a generated first draft of the Asset Management Policy from the register's
    /// own settings (admins): `{"document": "asset_management", "organisation": "…"}`. It is
    /// stored as a draft version like any other, numbered after the document's last.
    pub async fn draft_policy(&self, ctx: &Ctx, body: Map<String, Value>) -> Result<PolicyVersion> {
        self.allow(ctx, Action::ManagePolicies).await?;
        let mut r = Input::new(&body);
        r.reject_unknown(&["document", "organisation"], &[], "a generated draft");
        let document = r.required("document", |v| match PolicyDocument::from_json(v)? {
            PolicyDocument::AssetManagement => Ok(PolicyDocument::AssetManagement),
            other => Err(format!(
                "{other} is written by the organisation: only the asset_management policy is generated from the register's settings"
            )),
        });
        let organisation = r
            .optional("organisation", |v| match v.as_str().map(str::trim) {
                Some(t) if !t.is_empty() && t.chars().count() <= 200 => Ok(t.to_string()),
                _ => Err("must be the organisation's name, 1 to 200 characters".to_string()),
            })
            .flatten()
            .unwrap_or_else(|| "the organisation".to_string());
        let Some(document) = document.filter(|_| r.problems.is_empty()) else {
            return Err(AppError::Invalid(r.problems));
        };
        let versions = self.store.policies(Some(document)).await?;
        let major = versions
            .iter()
            .filter_map(|v| v.number.split('.').next()?.parse::<u32>().ok())
            .max()
            .map_or(1, |m| m.saturating_add(1));
        let number = format!("{major}.0");
        let scheme = self.fresh_scheme().await?;
        let mut levels = scheme.levels.clone();
        levels.sort_by_key(|l| l.rank);
        let mut owner_roles = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .list_parties(&custodian_store::PartyQuery {
                    limit: 500,
                    cursor,
                    kind: Some(PartyKind::Role),
                    ..Default::default()
                })
                .await?;
            owner_roles.extend(page.items.into_iter().map(|p| p.name));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        owner_roles.sort();
        let aup = self.enforcement(crate::rules::ACCEPTABLE_USE).await?;
        let seats = self
            .enforcement(crate::rules::LICENCE_OVERALLOCATION)
            .await?;
        let today = custodian_domain::now().date_naive();
        let text = custodian_domain::policy_draft::asset_management(
            &custodian_domain::policy_draft::DraftInputs {
                organisation: &organisation,
                levels: &levels,
                owner_roles: &owner_roles,
                acceptable_use_rule: aup.as_str(),
                seat_rule: seats.as_str(),
                today,
                number: &number,
            },
        );
        let mut draft = Map::new();
        draft.insert("document".into(), document.as_str().into());
        draft.insert("number".into(), number.into());
        draft.insert("title".into(), document.title().into());
        draft.insert("body".into(), text.into());
        draft.insert("effective_date".into(), today.to_string().into());
        draft.insert("material".into(), true.into());
        draft.insert(
            "change_summary".into(),
            "Generated first draft, from the register's settings".into(),
        );
        self.create_policy(ctx, draft).await
    }

    /// Drafts a new version (admins). The author defaults to the drafting person.
    pub async fn create_policy(
        &self,
        ctx: &Ctx,
        body: Map<String, Value>,
    ) -> Result<PolicyVersion> {
        self.allow(ctx, Action::ManagePolicies).await?;
        let now = custodian_domain::now();
        let mut p = PolicyVersion::from_input(&body, now)?;
        if p.author_id.is_none() {
            p.author_id = ctx.principal().and_then(|x| x.person_id);
        }
        if let Some(a) = p.author_id {
            self.require_person("author_id", a, false).await?;
        }
        let view = p.audit_view();
        self.write_created(
            ctx,
            "policy",
            &p.id.to_string(),
            &view,
            Write::Policy(PolicyWrite::InsertPolicy(Box::new(p.clone()))),
            now,
        )
        .await?;
        Ok(p)
    }

    /// Changes a draft (admins).
    pub async fn update_policy(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<PolicyVersion> {
        self.allow(ctx, Action::ManagePolicies).await?;
        let cur = self.load_policy(id).await?;
        check_version("policy", id, &if_match, cur.version)?;
        let now = custodian_domain::now();
        let next = cur.patch(&body, now)?;
        if next.author_id != cur.author_id {
            if let Some(a) = next.author_id {
                self.require_person("author_id", a, false).await?;
            }
        }
        let changes = audit::diff(&cur.audit_view(), &next.audit_view());
        let changed = self
            .write_update(
                ctx,
                ("policy", &id.to_string()),
                changes,
                Write::Policy(PolicyWrite::UpdatePolicy {
                    policy: Box::new(next.clone()),
                    expected_version: cur.version,
                }),
                if_match,
                now,
            )
            .await?;
        Ok(if changed { next } else { cur })
    }

    /// Records a review of the version in force that changed nothing (admins, in their own
    /// name): its next review moves on a year, and the review is an event.
    pub async fn review_policy(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<(PolicyVersion, PolicyReview)> {
        self.allow(ctx, Action::ManagePolicies).await?;
        let mut r = Input::new(&body);
        r.reject_unknown(&["notes"], &[], "a review");
        let notes = r
            .optional("notes", |v| match v.as_str() {
                Some(t) if t.chars().count() <= 2000 => Ok(t.trim().to_string()),
                _ => Err("must be text of at most 2,000 characters".to_string()),
            })
            .flatten()
            .filter(|t| !t.is_empty());
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        let Some(reviewer) = ctx.principal().and_then(|p| p.person_id) else {
            return Err(AppError::invalid(
                "reviewed_by",
                "a review is recorded in a person's name, and this account is not linked to a person",
            ));
        };
        let cur = self.load_policy(id).await?;
        check_version("policy", id, &if_match, cur.version)?;
        let now = custodian_domain::now();
        let next = cur.reviewed(now)?;
        let review = PolicyReview {
            policy_id: id,
            reviewed_at: (&now).into(),
            reviewed_by: Some(reviewer),
            notes,
            outcome: "no_change".into(),
            next_review_at: next.next_review_at,
        };
        let ev = NewEvent::new(
            &ctx.actor,
            "policy.reviewed",
            "policy",
            id,
            json!({
                "next_review_at": {"before": cur.next_review_at, "after": next.next_review_at},
                "outcome": "no_change", "reviewed_by": reviewer, "notes": review.notes,
                "body_sha256": audit::sha256_hex(cur.body.as_bytes()),
            }),
            ctx.request_id.as_deref(),
            now,
        );
        self.store
            .commit(ChangeSet::one(
                Write::Policy(PolicyWrite::UpdatePolicy {
                    policy: Box::new(next.clone()),
                    expected_version: cur.version,
                }),
                ev,
            ))
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok((next, review))
    }

    /// The reviews of a version, oldest first, from its events (anyone signed in: everyone
    /// reads the policies).
    pub async fn policy_reviews(&self, ctx: &Ctx, id: Uuid) -> Result<Vec<PolicyReview>> {
        self.get_policy(ctx, id).await?;
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .history("policy", &id.to_string(), 500, cursor)
                .await?;
            for e in page.items.iter().filter(|e| e.action == "policy.reviewed") {
                let c: Value = serde_json::from_str(&e.changes).unwrap_or(Value::Null);
                out.push(PolicyReview {
                    policy_id: id,
                    reviewed_at: (&e.occurred_at).into(),
                    reviewed_by: c["reviewed_by"].as_str().and_then(|s| s.parse().ok()),
                    notes: c["notes"].as_str().map(str::to_string),
                    outcome: c["outcome"].as_str().unwrap_or("no_change").to_string(),
                    next_review_at: c["next_review_at"]["after"]
                        .as_str()
                        .and_then(|d| d.parse().ok()),
                });
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Approves a draft (admins, in their own name): it comes into force and the version in
    /// force before it is superseded, in one change. A material version (or the first)
    /// asks everyone to acknowledge again.
    pub async fn approve_policy(
        &self,
        ctx: &Ctx,
        id: Uuid,
        body: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<PolicyVersion> {
        self.allow(ctx, Action::ManagePolicies).await?;
        let mut r = Input::new(&body);
        r.reject_unknown(&["next_review_at", "confirm"], &[], "an approval");
        let next_review = r.optional("next_review_at", value::date).flatten();
        let confirmed = r
            .optional("confirm", |v| {
                v.as_bool()
                    .ok_or_else(|| format!("must be true or false, not {v}"))
            })
            .flatten()
            .unwrap_or(false);
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        let Some(approver) = ctx.principal().and_then(|p| p.person_id) else {
            return Err(AppError::invalid(
                "approved_by",
                "an approval is recorded in a person's name, and this account is not linked to a person",
            ));
        };
        let cur = self.load_policy(id).await?;
        check_version("policy", id, &if_match, cur.version)?;
        // Whoever drafted or changed the version wrote it, whatever its author field says.
        if let Some(user) = ctx.principal().map(|p| p.user_id) {
            if self.policy_writers(id).await?.contains(&user) {
                return Err(AppError::invalid(
                    "approved_by",
                    "you drafted or changed this version, so you cannot approve it: another admin must (as for exceptions)",
                ));
            }
        }
        let now = custodian_domain::now();
        let next = cur.approve(approver, next_review, now)?;
        if !confirmed {
            if let Some(blocked) = self.approval_blocks(&cur).await? {
                return Err(AppError::Conflict {
                    message: format!(
                        "approving version {} asks {blocked} people to acknowledge it again, and until each of them does, issuing an asset to them is refused (the acceptable-use rule is set to refuse); approve again with confirm to go ahead",
                        cur.number
                    ),
                    field: Some("confirm".into()),
                });
            }
        }
        let mut writes = Vec::new();
        let mut events = Vec::new();
        if let Some(old) = self.policy_in_force(cur.document).await? {
            let sup = old.superseded(now);
            events.push(self.event(
                ctx,
                "policy.superseded",
                "policy",
                old.id,
                json!({"status": {"before": old.status, "after": sup.status}, "by": next.id}),
            ));
            writes.push(Write::Policy(PolicyWrite::UpdatePolicy {
                policy: Box::new(sup),
                expected_version: old.version,
            }));
        }
        // The renderings people read are made now, once: their digests go in the approval
        // event, and every later download is these bytes.
        let approver_name = self.person_name(approver).await?;
        let doc = policy_doc(&next, approver_name.as_deref());
        let renderings = [
            PolicyRendering::new(
                id,
                DocumentFormat::Html,
                custodian_render::html(&doc).into_bytes(),
                now,
            ),
            PolicyRendering::new(id, DocumentFormat::Pdf, custodian_render::pdf(&doc), now),
        ];
        let mut changes = audit::diff(&cur.audit_view(), &next.audit_view());
        changes.insert(
            "renderings".into(),
            Value::Object(
                renderings
                    .iter()
                    .map(|r| {
                        (
                            r.format.as_str().to_string(),
                            json!({"sha256": r.sha256, "bytes": r.bytes.len()}),
                        )
                    })
                    .collect(),
            ),
        );
        changes.insert(
            "body_sha256".into(),
            Value::String(audit::sha256_hex(next.body.as_bytes())),
        );
        events.push(self.event(ctx, "policy.approved", "policy", id, Value::Object(changes)));
        for r in renderings {
            writes.push(Write::Policy(PolicyWrite::InsertRendering(Box::new(r))));
        }
        writes.push(Write::Policy(PolicyWrite::UpdatePolicy {
            policy: Box::new(next.clone()),
            expected_version: cur.version,
        }));
        self.store
            .commit(ChangeSet { writes, events })
            .await
            .map_err(|e| race(e, &if_match))?;
        Ok(next)
    }

    /// A person's name, if the register has them.
    async fn person_name(&self, id: Uuid) -> Result<Option<String>> {
        Ok(self
            .store
            .parties(&[id])
            .await?
            .into_iter()
            .next()
            .map(|p| p.name))
    }

    /// A version's document as HTML or PDF (anyone signed in: everyone is bound by it). An
    /// approved or superseded version gives the bytes kept at its approval; a draft is
    /// rendered as it stands, and says it is a draft.
    pub async fn policy_document(
        &self,
        ctx: &Ctx,
        id: Uuid,
        format: DocumentFormat,
    ) -> Result<PolicyRendering> {
        self.allow(ctx, Action::ReadReference).await?;
        let p = self.load_policy(id).await?;
        if let Some(kept) = self.store.policy_rendering(id, format).await? {
            return Ok(kept);
        }
        // A draft, or a version approved before renderings were kept: that one is rendered
        // as it was approved, whatever became of it since, so its bytes stay the same.
        let approver = match p.approved_by {
            Some(a) => self.person_name(a).await?,
            None => None,
        };
        let mut p = p;
        if p.status == PolicyStatus::Superseded {
            p.status = PolicyStatus::Approved;
        }
        let doc = policy_doc(&p, approver.as_deref());
        let bytes = match format {
            DocumentFormat::Html => custodian_render::html(&doc).into_bytes(),
            DocumentFormat::Pdf => custodian_render::pdf(&doc),
        };
        Ok(PolicyRendering::new(id, format, bytes, p.updated_at))
    }

    /// The renderings kept at a version's approval (none for a draft).
    pub async fn kept_renderings(&self, ctx: &Ctx, id: Uuid) -> Result<Vec<PolicyRendering>> {
        self.allow(ctx, Action::ReadReference).await?;
        let mut out = Vec::new();
        for f in DocumentFormat::ALL {
            out.extend(self.store.policy_rendering(id, *f).await?);
        }
        Ok(out)
    }

    /// The accounts that drafted or changed a policy version, from its audit events.
    async fn policy_writers(&self, id: Uuid) -> Result<Vec<Uuid>> {
        let mut writers = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .history("policy", &id.to_string(), 200, cursor)
                .await?;
            for e in &page.items {
                if matches!(e.action.as_str(), "policy.created" | "policy.updated") {
                    // `user:ID`, or `user:ID/token:ID` for a token.
                    if let Some(u) = e
                        .actor
                        .strip_prefix("user:")
                        .and_then(|r| r.split('/').next())
                        .and_then(|u| Uuid::parse_str(u).ok())
                    {
                        writers.push(u);
                    }
                }
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(writers),
            }
        }
    }

    /// How many people approving `draft` would stop anyone from issuing assets to: a
    /// material acceptable-use version asks everyone to acknowledge it again, and while the
    /// rule refuses, none of them may be issued anything until they do. `None` when
    /// approving blocks nobody.
    pub async fn approval_blocks(&self, draft: &PolicyVersion) -> Result<Option<i64>> {
        if draft.document != PolicyDocument::AcceptableUse || !draft.material {
            return Ok(None);
        }
        if self.enforcement(crate::rules::ACCEPTABLE_USE).await?
            != crate::rules::Enforcement::Refuse
        {
            return Ok(None);
        }
        let (_, waiting) = self.store.acknowledgement_counts(&[draft.id]).await?;
        Ok((waiting > 0).then_some(waiting))
    }

    /// Checks that a party is a person (who has not left, when `active`).
    pub(crate) async fn require_person(
        &self,
        field: &str,
        id: Uuid,
        active: bool,
    ) -> Result<custodian_domain::party::Party> {
        let Some(p) = self.store.party(id).await? else {
            return Err(AppError::invalid(
                field,
                format!("no person has the id {id}"),
            ));
        };
        if p.kind != PartyKind::Person {
            return Err(AppError::invalid(
                field,
                format!("{} is a {}, not a person", p.name, p.kind),
            ));
        }
        if active && p.status == Some(PersonStatus::Left) {
            return Err(AppError::invalid(field, format!("{} has left", p.name)));
        }
        Ok(p)
    }

    /// A person's standing against the acceptable-use policy in force.
    pub async fn aup_standing(&self, person_id: Uuid) -> Result<AupStanding> {
        let versions = self
            .approved_versions(PolicyDocument::AcceptableUse)
            .await?;
        let accepted = accepted_versions(&versions);
        let current = versions
            .into_iter()
            .find(|p| p.status == PolicyStatus::Approved);
        let acknowledgement = if accepted.is_empty() {
            None
        } else {
            let q = AcknowledgementQuery {
                limit: 1,
                policy_ids: accepted,
                person_id: Some(person_id),
                person_ids: Vec::new(),
                cursor: None,
            };
            self.store.list_acknowledgements(&q).await?.items.pop()
        };
        Ok(AupStanding {
            current,
            acknowledgement,
        })
    }

    /// The caller's own standing (for their acceptable-use page).
    pub async fn my_aup_standing(&self, ctx: &Ctx) -> Result<(Uuid, AupStanding)> {
        self.allow(ctx, Action::ReadReference).await?;
        let Some(me) = ctx.principal().and_then(|p| p.person_id) else {
            return Err(AppError::invalid(
                "person_id",
                "this account is not linked to a person, so it has nothing to acknowledge",
            ));
        };
        Ok((me, self.aup_standing(me).await?))
    }

    /// Who acknowledged the acceptable-use policy in force and who has not (readers of the
    /// whole register).
    pub async fn acknowledgement_summary(&self, ctx: &Ctx, missing: u32) -> Result<AckSummary> {
        self.allow(ctx, Action::ReadRegister).await?;
        let versions = self
            .approved_versions(PolicyDocument::AcceptableUse)
            .await?;
        let accepted = accepted_versions(&versions);
        let current = versions
            .into_iter()
            .find(|p| p.status == PolicyStatus::Approved);
        let (acknowledged, outstanding) = if current.is_some() {
            self.store.acknowledgement_counts(&accepted).await?
        } else {
            (0, 0)
        };
        let missing = if current.is_some() && missing > 0 {
            self.store
                .persons_without_acknowledgement(&accepted, missing)
                .await?
        } else {
            vec![]
        };
        Ok(AckSummary {
            current,
            acknowledged,
            outstanding,
            missing,
        })
    }

    /// Acknowledgements: everyone's for readers of the register, else the caller's own.
    pub async fn list_acknowledgements(
        &self,
        ctx: &Ctx,
        mut q: AcknowledgementQuery,
    ) -> Result<Page<Acknowledgement>> {
        let store = self.store.clone();
        self.personal_page(ctx, q.person_id, |person| {
            q.person_id = person;
            async move { store.list_acknowledgements(&q).await }
        })
        .await
    }

    /// Records an acknowledgement. A person acknowledges the version in force for
    /// themselves (`{}` or `{"policy_id"}`); an admin records a past one for someone else
    /// (`person_id`, `acknowledged_at`, `note`), which is marked imported.
    pub async fn acknowledge(
        &self,
        ctx: &Ctx,
        body: Map<String, Value>,
    ) -> Result<Acknowledgement> {
        let me = ctx.principal().and_then(|p| p.person_id);
        let for_other = body
            .get("person_id")
            .filter(|v| !v.is_null())
            .and_then(|v| value::id(v).ok())
            .is_some_and(|p| Some(p) != me)
            || body.contains_key("acknowledged_at");
        if for_other {
            self.allow(ctx, Action::ManagePolicies).await?;
            let mut out = self
                .import_acknowledgements(ctx, vec![Value::Object(body)], false)
                .await?;
            return out
                .pop()
                .ok_or_else(|| AppError::invalid("", "nothing was recorded"));
        }
        self.allow(ctx, Action::ReadReference).await?;
        if let Some(p) = ctx.principal() {
            if let Err(d) = p.check_write() {
                return Err(self.refused(ctx, d, "acknowledge a policy").await);
            }
        }
        let mut r = Input::new(&body);
        r.reject_unknown(&["policy_id", "person_id"], &[], "an acknowledgement");
        let policy_id = r.optional("policy_id", value::id).flatten();
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        let Some(me) = me else {
            return Err(AppError::invalid(
                "person_id",
                "this account is not linked to a person, so it has nothing to acknowledge",
            ));
        };
        let Some(current) = self.policy_in_force(PolicyDocument::AcceptableUse).await? else {
            return Err(AppError::invalid(
                "policy_id",
                "no acceptable-use policy is approved yet",
            ));
        };
        if let Some(p) = policy_id {
            if p != current.id {
                return Err(AppError::invalid(
                    "policy_id",
                    format!(
                        "only the version in force ({}) is acknowledged",
                        current.number
                    ),
                ));
            }
        }
        let now = custodian_domain::now();
        let ack = Acknowledgement {
            id: custodian_domain::new_id(),
            policy_id: current.id,
            person_id: me,
            acknowledged_at: now,
            source: AckSource::Person,
            note: None,
            created_at: now,
        };
        let ev = self.ack_event(ctx, &ack, &current);
        self.store
            .commit(ChangeSet::one(
                Write::Policy(PolicyWrite::InsertAcknowledgement(ack.clone())),
                ev,
            ))
            .await?;
        Ok(ack)
    }

    fn ack_event(&self, ctx: &Ctx, a: &Acknowledgement, p: &PolicyVersion) -> NewEvent {
        let mut view = match ack_json(a) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        view.insert("document".into(), json!(p.document));
        view.insert("number".into(), json!(p.number));
        NewEvent::created(
            &ctx.actor,
            "acknowledgement.created",
            "person",
            a.person_id,
            &view,
            ctx.request_id.as_deref(),
            a.created_at,
        )
    }

    /// Records past acknowledgements (admins), all or nothing: every bad item is named as
    /// `items[N].field`. Each item: `person_id` or `email`; `policy_id`, or `number` (of the
    /// acceptable-use policy); `acknowledged_at`; optional `note`. With `dry_run`, nothing
    /// is written.
    pub async fn import_acknowledgements(
        &self,
        ctx: &Ctx,
        items: Vec<Value>,
        dry_run: bool,
    ) -> Result<Vec<Acknowledgement>> {
        self.allow(ctx, Action::ManagePolicies).await?;
        if items.is_empty() {
            return Err(AppError::invalid(
                "items",
                "must hold at least one acknowledgement",
            ));
        }
        if items.len() > MAX_IMPORT {
            return Err(AppError::invalid(
                "items",
                format!("must hold at most {MAX_IMPORT} acknowledgements; send them in parts"),
            ));
        }
        let policies = self.store.policies(None).await?;
        let now = custodian_domain::now();
        let mut problems = Problems::new();
        let mut out: Vec<(Acknowledgement, PolicyVersion)> = Vec::new();
        let many = items.len() > 1;
        let field = |i: usize, f: &str| {
            if many {
                format!("items[{i}].{f}")
            } else {
                f.to_string()
            }
        };
        for (i, item) in items.into_iter().enumerate() {
            let obj = match object(item) {
                Ok(o) => o,
                Err(_) => {
                    problems.add(field(i, ""), "must be an object");
                    continue;
                }
            };
            let mut r = Input::new(&obj);
            r.reject_unknown(
                &[
                    "person_id",
                    "email",
                    "policy_id",
                    "number",
                    "acknowledged_at",
                    "note",
                ],
                &[],
                "an acknowledgement",
            );
            let person_id = r.optional("person_id", value::id).flatten();
            let email = r.optional("email", |v| value::text(v, 320)).flatten();
            let policy_id = r.optional("policy_id", value::id).flatten();
            let number = r.optional("number", |v| value::text(v, 40)).flatten();
            let at = r.required("acknowledged_at", value::timestamp);
            let note = r.optional("note", |v| value::text(v, 1000)).flatten();
            let mut item_problems = r.problems;
            let person = match (person_id, email) {
                (Some(id), _) => match self.require_person("person_id", id, false).await {
                    Ok(p) => Some(p),
                    Err(_) => {
                        item_problems.add("person_id", format!("no person has the id {id}"));
                        None
                    }
                },
                (None, Some(e)) => match self.store.person_by_email(&e.to_lowercase()).await? {
                    Some(p) => Some(p),
                    None => {
                        item_problems.add("email", format!("no person has the address {e}"));
                        None
                    }
                },
                (None, None) => {
                    item_problems.add("person_id", "is required (or email)");
                    None
                }
            };
            let policy = match (policy_id, number) {
                (Some(id), _) => policies.iter().find(|p| p.id == id).or_else(|| {
                    item_problems.add("policy_id", format!("no policy version has the id {id}"));
                    None
                }),
                (None, Some(n)) => policies
                    .iter()
                    .find(|p| p.document == PolicyDocument::AcceptableUse && p.number == n)
                    .or_else(|| {
                        item_problems.add(
                            "number",
                            format!("the acceptable-use policy has no version {n}"),
                        );
                        None
                    }),
                (None, None) => {
                    item_problems.add("policy_id", "is required (or number)");
                    None
                }
            };
            if let Some(p) = policy {
                if p.status == PolicyStatus::Draft {
                    item_problems.add(
                        "policy_id",
                        format!(
                            "version {} is a draft: only approved versions are acknowledged",
                            p.number
                        ),
                    );
                }
            }
            if let Some(t) = at {
                if t > now {
                    item_problems.add("acknowledged_at", "must not be in the future");
                }
            }
            if let (Some(person), Some(policy), Some(t)) = (&person, policy, at) {
                if out
                    .iter()
                    .any(|(a, _)| a.person_id == person.id && a.policy_id == policy.id)
                {
                    item_problems.add("person_id", "appears twice for this version");
                } else if item_problems.is_empty() {
                    let q = AcknowledgementQuery {
                        limit: 1,
                        policy_ids: vec![policy.id],
                        person_id: Some(person.id),
                        person_ids: Vec::new(),
                        cursor: None,
                    };
                    if !self.store.list_acknowledgements(&q).await?.items.is_empty() {
                        item_problems.add(
                            "person_id",
                            format!(
                                "{} has acknowledged version {} already",
                                person.name, policy.number
                            ),
                        );
                    } else {
                        out.push((
                            Acknowledgement {
                                id: custodian_domain::new_id(),
                                policy_id: policy.id,
                                person_id: person.id,
                                acknowledged_at: t,
                                source: AckSource::Imported,
                                note: note.clone(),
                                created_at: now,
                            },
                            policy.clone(),
                        ));
                    }
                }
            }
            for e in item_problems.0 {
                problems.add(field(i, &e.field), e.message);
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        if !dry_run {
            let mut cs = ChangeSet::default();
            for (a, p) in &out {
                cs.events.push(self.ack_event(ctx, a, p));
                cs.writes
                    .push(Write::Policy(PolicyWrite::InsertAcknowledgement(a.clone())));
            }
            self.store.commit(cs).await?;
        }
        Ok(out.into_iter().map(|(a, _)| a).collect())
    }
}

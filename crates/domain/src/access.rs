//! Who may do what: roles, token scopes, and the reach of ownership and delegation.
//!
//! Every decision is made here, once, and the application services ask before they read
//! or write; the API, the web interface and the command line share them. A record the
//! actor may not see is reported as missing ([`Denied::Hidden`]), an action they may not
//! take as forbidden ([`Denied::Forbidden`]).

use std::collections::HashSet;

use uuid::Uuid;

wire_enum! {
    /// What a user is trusted with (SPEC §1).
    Role {
        /// Everything: users, tokens, the classification scheme, custom fields.
        Admin = "admin",
        /// Registers, edits, assigns and disposes of any asset; runs imports.
        Manager = "manager",
        /// Reads everything, the audit trail included; changes nothing.
        Auditor = "auditor",
        /// Sees what they hold or own and their own record; edits what they own.
        Member = "member",
    }
}

wire_enum! {
    /// What an API token may do.
    Scope {
        /// Reading only, whatever the user's role.
        Read = "read",
        /// Whatever the user's role allows.
        Write = "write",
    }
}

impl Role {
    /// The role given by an identity provider's role values: the most trusted one they
    /// name (in the order admin, manager, auditor, member), else `member`. Values that
    /// name no role are ignored.
    pub fn from_claim_values<S: AsRef<str>>(values: &[S]) -> Role {
        values
            .iter()
            .filter_map(|v| Role::parse(v.as_ref().trim()))
            .min()
            .unwrap_or(Role::Member)
    }
}

/// How a request proved who it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A signed-in browser session.
    Session,
    /// A personal API token (its id).
    Token(Uuid),
}

/// A signed-in user, as the rules see them.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The user account.
    pub user_id: Uuid,
    /// The person the account belongs to, if linked.
    pub person_id: Option<Uuid>,
    /// The account's role.
    pub role: Role,
    /// What the credential allows (sessions allow writes).
    pub scope: Scope,
    /// The credential used.
    pub via: Via,
    /// An admin without a second factor while admins must have one: only enrolling it is
    /// open to them.
    pub must_enrol_totp: bool,
}

/// An action on the register, as the rules name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read every asset, party, delegation and relation.
    ReadRegister,
    /// Read locations, the classification scheme and custom field definitions.
    ReadReference,
    /// Register assets, edit any asset, change owners, relations and lifecycle.
    ManageAssets,
    /// Import a file into the register.
    Import,
    /// Register and edit parties and delegations of anyone.
    ManageParties,
    /// Edit the location tree.
    ManageLocations,
    /// Edit the classification scheme and custom field definitions.
    ManageScheme,
    /// Manage user accounts, their roles and everyone's tokens.
    ManageUsers,
    /// Read the user accounts and their roles (an access review).
    ReadUsers,
    /// Read the audit trail and verify it.
    ReadAudit,
    /// Read the service's metrics.
    ReadMetrics,
    /// Record a review of an asset (members: of the assets they own or were delegated).
    ReviewAssets,
    /// Draft and approve policy versions; record acknowledgements for others (imports).
    ManagePolicies,
    /// Ask for a policy exception (members: for assets they own or were delegated).
    RequestExceptions,
    /// Approve, reject or revoke policy exceptions.
    DecideExceptions,
    /// Open, settle and close offboarding and handover cases.
    ManageOffboarding,
    /// Open and close attestation campaigns.
    RunAttestations,
    /// Start stocktakes, record scans and close them.
    RunStocktakes,
    /// Evaluate the compliance checks now.
    RunCompliance,
    /// Read the reports, the register as it stood (rebuilt from the audit trail), and draw
    /// audit samples (each draw is recorded).
    ReadReports,
}

impl Action {
    /// Whether the action changes anything (a read-only token may not).
    pub fn writes(self) -> bool {
        !matches!(
            self,
            Action::ReadRegister
                | Action::ReadReference
                | Action::ReadAudit
                | Action::ReadMetrics
                | Action::ReadUsers
                | Action::ReadReports
        )
    }

    /// What the action is called in a refusal.
    pub fn describe(self) -> &'static str {
        match self {
            Action::ReadRegister => "read the whole register",
            Action::ReadReference => "read reference data",
            Action::ManageAssets => "register and manage assets",
            Action::Import => "import into the register",
            Action::ManageParties => "manage people, teams, roles and delegations",
            Action::ManageLocations => "manage locations",
            Action::ManageScheme => "change the classification scheme and custom fields",
            Action::ManageUsers => "manage user accounts and tokens",
            Action::ReadUsers => "read the user accounts",
            Action::ReadAudit => "read the audit trail",
            Action::ReadMetrics => "read the service's metrics",
            Action::ReviewAssets => "review assets",
            Action::ManagePolicies => "manage policy documents and acknowledgements",
            Action::RequestExceptions => "ask for policy exceptions",
            Action::DecideExceptions => "approve, reject or revoke policy exceptions",
            Action::ManageOffboarding => "run offboarding and handover cases",
            Action::RunAttestations => "run attestation campaigns",
            Action::RunStocktakes => "run stocktakes",
            Action::RunCompliance => "evaluate compliance",
            Action::ReadReports => "read reports and draw audit samples",
        }
    }
}

/// Why an action was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    /// The actor may not take this action (HTTP 403).
    Forbidden(String),
    /// The actor may not know the record exists (HTTP 404).
    Hidden,
}

/// Whether a role may take an action at all (ownership aside).
pub fn role_allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Manager => matches!(
            action,
            ReadRegister
                | ReadReference
                | ReviewAssets
                | RequestExceptions
                | ManageAssets
                | Import
                | ManageParties
                | ManageLocations
                | ReadMetrics
                | ManageOffboarding
                | RunAttestations
                | RunStocktakes
                | RunCompliance
                | ReadReports
        ),
        Role::Auditor => matches!(
            action,
            ReadRegister | ReadReference | ReadAudit | ReadMetrics | ReadUsers | ReadReports
        ),
        Role::Member => matches!(action, ReadReference | ReviewAssets | RequestExceptions),
    }
}

impl Principal {
    /// Checks a register-wide action: the role must allow it, and a read-only token may
    /// only read.
    pub fn check(&self, action: Action) -> Result<(), Denied> {
        if action.writes() && self.scope == Scope::Read {
            return Err(Denied::Forbidden(format!(
                "this token is read-only: it may not {}",
                action.describe()
            )));
        }
        if role_allows(self.role, action) {
            Ok(())
        } else {
            Err(Denied::Forbidden(format!(
                "the {} role may not {}",
                self.role,
                action.describe()
            )))
        }
    }

    /// Whether the actor reads the whole register (rather than their own part of it).
    pub fn reads_everything(&self) -> bool {
        role_allows(self.role, Action::ReadRegister)
    }

    /// Whether the actor may delegate routine tasks of their own assets (SPEC §3): owners
    /// may, auditors change nothing, and a read-only token writes nothing.
    pub fn may_delegate_own(&self) -> Result<(), Denied> {
        self.check_write()?;
        if self.role == Role::Auditor {
            return Err(Denied::Forbidden(
                "the auditor role changes nothing, delegations included".into(),
            ));
        }
        Ok(())
    }

    /// Whether the actor may write at all with this credential.
    pub fn check_write(&self) -> Result<(), Denied> {
        if self.scope == Scope::Read {
            Err(Denied::Forbidden(
                "this token is read-only: it may not change anything".into(),
            ))
        } else {
            Ok(())
        }
    }
}

/// The parties through which a person reaches assets: themselves, the teams they belong
/// to, the roles they hold, and the owners who delegated a task to any of those.
#[derive(Clone, Debug, Default)]
pub struct Reach {
    /// The person, their teams and their roles: assets owned by these are theirs.
    pub own: HashSet<Uuid>,
    /// Delegations in force to any of `own`: (owner, asset or every asset of the owner).
    pub delegated: Vec<(Uuid, Option<Uuid>)>,
    /// Assets in the person's custody (and software whose seat they have): read only.
    pub held: HashSet<Uuid>,
}

impl Reach {
    /// Whether an asset with this owner is the person's (owned or delegated to them).
    pub fn covers(&self, asset_id: Uuid, owner_id: Uuid) -> bool {
        self.own.contains(&owner_id)
            || self
                .delegated
                .iter()
                .any(|(o, a)| *o == owner_id && a.is_none_or(|a| a == asset_id))
    }

    /// Whether the party is the person or one of their teams or roles.
    pub fn is_own(&self, party_id: Uuid) -> bool {
        self.own.contains(&party_id)
    }

    /// Owners whose every asset is reached (own parties and whole-owner delegations).
    pub fn whole_owners(&self) -> Vec<Uuid> {
        let mut v: Vec<Uuid> = self.own.iter().copied().collect();
        for (o, a) in &self.delegated {
            if a.is_none() && !v.contains(o) {
                v.push(*o);
            }
        }
        v.sort();
        v
    }

    /// Single assets reached by delegation or custody only.
    pub fn single_assets(&self) -> Vec<Uuid> {
        let mut v: Vec<Uuid> = self.delegated.iter().filter_map(|(_, a)| *a).collect();
        v.extend(self.held.iter().copied());
        v.sort();
        v.dedup();
        v
    }
}

/// What an actor may do with one asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssetAccess {
    /// Read it.
    Read,
    /// Edit its record (not its owner, relations or lifecycle).
    EditRecord,
    /// Anything a manager may do: owner, relations, lifecycle.
    Manage,
    /// Read its secret fields in clear (SPEC §2.2: admins and the asset's owner only).
    RevealSecret,
}

/// Decides one asset's access for a principal, given the person's reach (ignored for roles
/// that read everything).
pub fn asset_access(
    p: &Principal,
    reach: &Reach,
    asset_id: Uuid,
    owner_id: Uuid,
    wanted: AssetAccess,
) -> Result<(), Denied> {
    let everything = p.reads_everything();
    let mine = reach.covers(asset_id, owner_id);
    if !everything && !mine && !reach.held.contains(&asset_id) {
        return Err(Denied::Hidden);
    }
    match wanted {
        AssetAccess::Read => Ok(()),
        AssetAccess::Manage => p.check(Action::ManageAssets),
        // Ownership here is the person, or a team or role they belong to; a delegate keeps
        // the record but is not shown its secrets, and neither is a manager of the register.
        // A read-only token never reveals a secret: the reading is recorded as an act.
        AssetAccess::RevealSecret if p.check_write().is_err() => p.check_write(),
        AssetAccess::RevealSecret if p.role == Role::Admin || reach.own.contains(&owner_id) => {
            Ok(())
        }
        AssetAccess::RevealSecret => Err(Denied::Forbidden(
            "a secret is shown only to admins and to the asset's owner".into(),
        )),
        AssetAccess::EditRecord => {
            if p.check(Action::ManageAssets).is_ok() {
                return Ok(());
            }
            p.check_write()?;
            if mine {
                Ok(())
            } else {
                Err(Denied::Forbidden(format!(
                    "the {} role may only edit the records of assets its user owns or was delegated",
                    p.role
                )))
            }
        }
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted (hashing cost is bounded).
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Checks a new password against the policy, naming what is wrong.
pub fn check_password(password: &str, email: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!(
            "must be at least {MIN_PASSWORD_CHARS} characters long (this one has {n})"
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!(
            "must be at most {MAX_PASSWORD_CHARS} characters long"
        ));
    }
    let lower = password.to_lowercase();
    if lower == email.to_lowercase()
        || email
            .split('@')
            .next()
            .is_some_and(|l| l.len() >= 4 && lower == l.to_lowercase())
    {
        return Err("must not be the e-mail address".into());
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return Err("must not repeat a single character".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, scope: Scope) -> Principal {
        Principal {
            user_id: Uuid::nil(),
            person_id: Some(Uuid::from_u128(1)),
            role,
            scope,
            via: Via::Session,
            must_enrol_totp: false,
        }
    }

    #[test]
    fn provider_role_values_give_the_most_trusted_role_named() {
        assert_eq!(
            Role::from_claim_values(&["member", "manager", "staff"]),
            Role::Manager
        );
        assert_eq!(Role::from_claim_values(&["auditor", "admin"]), Role::Admin);
        assert_eq!(Role::from_claim_values(&["staff", "Admin"]), Role::Member);
        assert_eq!(Role::from_claim_values::<&str>(&[]), Role::Member);
    }

    #[test]
    fn roles_allow_what_spec_says() {
        use Action::*;
        let all = [
            ReadRegister,
            ReadReference,
            ManageAssets,
            Import,
            ManageParties,
            ManageLocations,
            ManageScheme,
            ManageUsers,
            ReadUsers,
            ReadAudit,
            ReadMetrics,
            ReviewAssets,
            RunStocktakes,
            ReadReports,
        ];
        for a in all {
            assert!(role_allows(Role::Admin, a));
        }
        assert!(role_allows(Role::Manager, Import));
        assert!(role_allows(Role::Manager, RunStocktakes));
        assert!(!role_allows(Role::Manager, ManageScheme));
        assert!(!role_allows(Role::Manager, ManageUsers));
        assert!(!role_allows(Role::Manager, ReadAudit));
        assert!(role_allows(Role::Auditor, ReadAudit));
        // Reports, the register as it stood and samples: auditors, managers, admins.
        assert!(role_allows(Role::Manager, ReadReports));
        assert!(role_allows(Role::Auditor, ReadReports));
        assert!(!role_allows(Role::Member, ReadReports));
        assert!(!ReadReports.writes());
        assert!(all
            .iter()
            .filter(|a| a.writes())
            .all(|a| !role_allows(Role::Auditor, *a)));
        assert!(all
            .iter()
            .filter(|a| !matches!(**a, ReadReference | ReviewAssets))
            .all(|a| !role_allows(Role::Member, *a)));
        assert!(role_allows(Role::Member, ReviewAssets));
        assert!(!role_allows(Role::Auditor, ReviewAssets));
    }

    #[test]
    fn read_only_tokens_never_write() {
        let p = principal(Role::Admin, Scope::Read);
        assert!(p.check(Action::ReadAudit).is_ok());
        let e = p.check(Action::ManageAssets).unwrap_err();
        assert!(matches!(e, Denied::Forbidden(m) if m.contains("read-only")));
    }

    #[test]
    fn members_reach_their_own_and_delegated_assets() {
        let me = Uuid::from_u128(1);
        let team = Uuid::from_u128(2);
        let boss = Uuid::from_u128(3);
        let other = Uuid::from_u128(4);
        let a1 = Uuid::from_u128(10);
        let a2 = Uuid::from_u128(11);
        let held = Uuid::from_u128(12);
        let reach = Reach {
            own: [me, team].into_iter().collect(),
            delegated: vec![(boss, Some(a1))],
            held: [held].into_iter().collect(),
        };
        let p = principal(Role::Member, Scope::Write);
        assert!(asset_access(&p, &reach, a2, team, AssetAccess::EditRecord).is_ok());
        assert!(asset_access(&p, &reach, a1, boss, AssetAccess::EditRecord).is_ok());
        assert_eq!(
            asset_access(&p, &reach, a2, boss, AssetAccess::Read),
            Err(Denied::Hidden)
        );
        assert_eq!(
            asset_access(&p, &reach, a2, other, AssetAccess::Read),
            Err(Denied::Hidden)
        );
        assert!(matches!(
            asset_access(&p, &reach, a2, me, AssetAccess::Manage),
            Err(Denied::Forbidden(_))
        ));
        let ro = principal(Role::Member, Scope::Read);
        assert!(asset_access(&ro, &reach, a2, me, AssetAccess::Read).is_ok());
        assert!(matches!(
            asset_access(&ro, &reach, a2, me, AssetAccess::EditRecord),
            Err(Denied::Forbidden(_))
        ));
        assert_eq!(reach.whole_owners(), vec![me, team]);
        assert_eq!(reach.single_assets(), vec![a1, held]);
        assert!(asset_access(&p, &reach, held, other, AssetAccess::Read).is_ok());
        assert!(matches!(
            asset_access(&p, &reach, held, other, AssetAccess::EditRecord),
            Err(Denied::Forbidden(_))
        ));
    }

    #[test]
    fn auditors_see_everything_and_change_nothing() {
        let p = principal(Role::Auditor, Scope::Write);
        let r = Reach::default();
        let (a, o) = (Uuid::from_u128(5), Uuid::from_u128(6));
        assert!(asset_access(&p, &r, a, o, AssetAccess::Read).is_ok());
        assert!(matches!(
            asset_access(&p, &r, a, o, AssetAccess::EditRecord),
            Err(Denied::Forbidden(_))
        ));
    }

    #[test]
    fn password_policy() {
        assert!(check_password("short", "a@b.c")
            .unwrap_err()
            .contains("at least 12"));
        assert!(check_password("aaaaaaaaaaaaaaa", "a@b.c").is_err());
        assert!(check_password("ada.lovelace@example.com", "Ada.Lovelace@example.com").is_err());
        assert!(check_password(&"x1".repeat(70), "a@b.c")
            .unwrap_err()
            .contains("at most"));
        assert!(check_password("correct horse battery", "a@b.c").is_ok());
    }
}

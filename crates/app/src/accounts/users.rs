//! Managing user accounts: creating them (with a one-time setup link), roles, the person they belong to, disabling them, ending their sessions.

use super::*;

impl App {
    /// Creates an account (admins, and the command line). Returns it with a one-time link
    /// path (`/setup/TOKEN`) through which its owner sets a password.
    pub async fn create_user(
        &self,
        ctx: &Ctx,
        input: Map<String, Value>,
    ) -> Result<(User, String)> {
        self.allow(ctx, Action::ManageUsers).await?;
        let now = custodian_domain::now();
        let user = User::from_input(&input, now)?;
        self.check_person(user.person_id).await?;
        let setup = random_text(32)?;
        let mut view = user.audit_view();
        view.insert("client".into(), ctx.client_json());
        let ev = NewEvent::created(
            &ctx.actor,
            "user.created",
            "user",
            user.id.to_string(),
            &view,
            ctx.request_id.as_deref(),
            now,
        );
        self.commit_accounts(ChangeSet {
            writes: vec![
                Write::Account(AccountWrite::InsertUser(Box::new(user.clone()))),
                setup_write(&setup, user.id, now),
            ],
            events: vec![ev],
        })
        .await?;
        Ok((user, setup))
    }

    /// Creates an account with a password (the command line and the demo).
    pub async fn create_user_with_password(
        &self,
        ctx: &Ctx,
        input: Map<String, Value>,
        password: &str,
    ) -> Result<User> {
        let (_, setup) = self.create_user(ctx, input).await?;
        self.complete_setup(ctx, &setup, password).await
    }

    pub(super) async fn check_person(&self, person: Option<Uuid>) -> Result<()> {
        if let Some(p) = person {
            match self.store.party(p).await? {
                Some(party) if party.kind == custodian_domain::party::PartyKind::Person => {}
                Some(_) => {
                    return Err(AppError::invalid(
                        "person_id",
                        "must name a person, not a team or role",
                    ))
                }
                None => {
                    return Err(AppError::invalid(
                        "person_id",
                        format!("no person has the id {p}"),
                    ))
                }
            }
        }
        Ok(())
    }

    /// One account (admins; anyone for their own).
    pub async fn get_user(&self, ctx: &Ctx, id: Uuid) -> Result<User> {
        if ctx.principal().is_some_and(|p| p.user_id == id) {
            return self.load_user(id).await;
        }
        self.allow(ctx, Action::ReadUsers).await?;
        self.load_user(id).await
    }

    /// A page of accounts (admins).
    pub async fn list_users(
        &self,
        ctx: &Ctx,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<User>> {
        self.allow(ctx, Action::ReadUsers).await?;
        Ok(self.store.list_users(limit, cursor).await?)
    }

    /// Changes an account's role, person or disabled flag (admins). Disabling ends its
    /// sessions and revokes its tokens.
    pub async fn update_user(
        &self,
        ctx: &Ctx,
        id: Uuid,
        patch: Map<String, Value>,
        if_match: Precondition,
    ) -> Result<User> {
        self.allow(ctx, Action::ManageUsers).await?;
        let cur = self.load_user(id).await?;
        check_version("user", id, &if_match, cur.version)?;
        let mut next = cur.patched(&patch, custodian_domain::now())?;
        if next.person_id != cur.person_id {
            self.check_person(next.person_id).await?;
        }
        if next == cur {
            return Ok(cur);
        }
        if ctx.principal().is_some_and(|p| p.user_id == id)
            && (next.role != Role::Admin || next.disabled)
        {
            return Err(AppError::Conflict {
                message: "an admin cannot demote or disable their own account: ask another admin"
                    .into(),
                field: Some("role".into()),
            });
        }
        next.version += 1;
        let mut changes = audit::diff(&cur.audit_view(), &next.audit_view());
        changes.insert("client".into(), ctx.client_json());
        let now = custodian_domain::now();
        let mut writes = vec![Write::Account(AccountWrite::UpdateUser {
            user: Box::new(next.clone()),
            expected_version: cur.version,
        })];
        if next.disabled && !cur.disabled {
            writes.push(Write::Account(AccountWrite::DeleteUserSessions(id)));
            writes.push(Write::Account(AccountWrite::RevokeUserTokens {
                user_id: id,
                at: now,
            }));
        }
        let action = if next.role != cur.role {
            "user.role_changed"
        } else {
            "user.updated"
        };
        let ev = self.event(ctx, action, "user", id, Value::Object(changes));
        self.commit_accounts(ChangeSet {
            writes,
            events: vec![ev],
        })
        .await
        .map_err(|e| race(e, &if_match))?;
        Ok(next)
    }

    /// Ends every session of an account (admins, or the user themselves).
    pub async fn end_sessions(&self, ctx: &Ctx, id: Uuid) -> Result<()> {
        if !ctx
            .principal()
            .is_some_and(|p| p.user_id == id && p.scope == Scope::Write)
        {
            self.allow(ctx, Action::ManageUsers).await?;
        }
        self.load_user(id).await?;
        let ev = self.event(
            ctx,
            "auth.sessions_ended",
            "user",
            id,
            json!({"client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet::one(
            Write::Account(AccountWrite::DeleteUserSessions(id)),
            ev,
        ))
        .await?;
        Ok(())
    }
}

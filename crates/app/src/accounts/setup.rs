//! First-run setup and one-time setup links.

use super::*;

/// How long a one-time setup link works.
pub(super) const SETUP_LIFE: TimeDelta = TimeDelta::hours(24);

pub(super) fn setup_write(token: &str, user: Uuid, now: DateTime<Utc>) -> Write {
    let link = SetupLink {
        user_id: user,
        until: now + SETUP_LIFE,
    };
    Write::Account(AccountWrite::SetSetting {
        key: SetupLink::key(&credential_hash(token)),
        value: Some(link.encode()),
    })
}

impl App {
    /// The account a one-time setup link is for, and the setting that holds the link.
    pub(super) async fn setup_link(&self, setup: &str) -> Result<(User, String)> {
        let key = SetupLink::key(&credential_hash(setup));
        let bad = || {
            AppError::invalid(
                "token",
                "this setup link is unknown, used or expired: ask an admin for a new one",
            )
        };
        let link = self
            .store
            .setting(&key)
            .await?
            .as_deref()
            .and_then(SetupLink::decode)
            .filter(|l| l.until >= custodian_domain::now())
            .ok_or_else(bad)?;
        Ok((self.load_user(link.user_id).await?, key))
    }

    /// The e-mail address of the account a setup link is for, while the link works.
    pub async fn setup_link_email(&self, setup: &str) -> Result<String> {
        Ok(self.setup_link(setup).await?.0.email)
    }

    /// Sets a password through a one-time setup link; the link stops working.
    pub async fn complete_setup(&self, ctx: &Ctx, setup: &str, password: &str) -> Result<User> {
        let (user, key) = self.setup_link(setup).await?;
        access::check_password(password, &user.email)
            .map_err(|m| AppError::invalid("password", m))?;
        let mut next = user.clone();
        next.password_hash = Some(hash_password(password.to_string()).await?);
        next.version += 1;
        next.updated_at = custodian_domain::now();
        let ev = self.event(
            ctx,
            "auth.password_set",
            "user",
            user.id,
            json!({"via": "setup link", "client": ctx.client_json()}),
        );
        self.save_spending(&user, next, key, ev).await
    }

    /// On first start (no accounts): a one-time link that creates the first admin.
    /// Returns `None` when accounts exist.
    pub async fn bootstrap_link(&self) -> Result<Option<String>> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let token = random_text(32)?;
        let now = custodian_domain::now();
        let ev = NewEvent::new(
            &custodian_domain::audit::Actor::System,
            "auth.setup_link_issued",
            "user",
            "first-admin",
            json!({"expires_at": now + SETUP_LIFE}),
            None,
            now,
        );
        self.commit_accounts(ChangeSet::one(
            Write::Account(AccountWrite::SetSetting {
                key: format!("bootstrap:{}", credential_hash(&token)),
                value: Some(custodian_domain::value::format_timestamp(
                    &(now + SETUP_LIFE),
                )),
            }),
            ev,
        ))
        .await?;
        Ok(Some(token))
    }

    /// Creates the first admin through the first-run link: `{token, email, name, password}`.
    /// A person record is created for them.
    pub async fn bootstrap(&self, ctx: &Ctx, body: &Map<String, Value>) -> Result<User> {
        let mut r = custodian_domain::input::Input::new(body);
        r.reject_unknown(
            &["token", "email", "name", "password"],
            &[],
            "the first-run setup",
        );
        let token = r.required("token", |v| custodian_domain::value::text(v, 200));
        let email = r.required("email", custodian_domain::party::parse_email);
        let name = r.required("name", |v| custodian_domain::value::text(v, 200));
        let password = r.required("password", raw_text);
        if let (Some(e), Some(p)) = (&email, &password) {
            if let Err(m) = access::check_password(p, e) {
                r.add("password", m);
            }
        }
        let (Some(token), Some(email), Some(name), Some(password)) = (token, email, name, password)
        else {
            return Err(AppError::Invalid(r.problems));
        };
        if !r.problems.is_empty() {
            return Err(AppError::Invalid(r.problems));
        }
        let key = format!("bootstrap:{}", credential_hash(&token));
        let valid = match self.store.setting(&key).await? {
            Some(until) => custodian_domain::value::parse_timestamp(&until)
                .is_ok_and(|t| t > custodian_domain::now()),
            None => false,
        };
        if !valid || self.store.count_users().await? > 0 {
            return Err(AppError::invalid(
                "token",
                "this setup link is unknown, used or expired",
            ));
        }
        let system = Ctx {
            access: Access::System,
            ..ctx.clone()
        };
        let person = self
            .create_party(
                &system,
                json!({"kind": "person", "name": name, "email": email})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            )
            .await?;
        let input = json!({"email": email, "role": "admin", "person_id": person.id});
        let user = self
            .create_user_with_password(
                &system,
                input.as_object().cloned().unwrap_or_default(),
                &password,
            )
            .await?;
        let ev = self.event(
            ctx,
            "auth.first_admin_created",
            "user",
            user.id,
            json!({"client": ctx.client_json()}),
        );
        self.commit_accounts(ChangeSet::one(
            Write::Account(AccountWrite::SetSetting { key, value: None }),
            ev,
        ))
        .await?;
        Ok(user)
    }
}

//! Configuration: flags, then `CUSTODIAN_*` environment variables, then `custodian.toml`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Settings read from `custodian.toml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// Database URL or SQLite path.
    pub database: Option<String>,
    /// Address to serve on.
    pub bind: Option<String>,
    /// Prefix of generated asset numbers.
    pub asset_number_prefix: Option<String>,
    /// The address users reach Custodian at (`https://…` behind a TLS proxy).
    pub public_url: Option<String>,
    /// Log level.
    pub log: Option<String>,
    /// Where Custodian keeps its files (the generated secret key).
    pub data_dir: Option<PathBuf>,
    /// The file holding the key secrets are sealed with.
    pub secret_key_file: Option<PathBuf>,
    /// Seconds a client has to send a request's headers, from when its connection opens
    /// or falls idle.
    pub header_timeout_secs: Option<u64>,
    /// The most connections served at once.
    pub max_connections: Option<usize>,
    /// Single sign-on: the OpenID provider's issuer URL.
    pub oidc_issuer: Option<String>,
    /// Single sign-on: Custodian's client id at the provider.
    pub oidc_client_id: Option<String>,
    /// Single sign-on: the client secret (better given as `CUSTODIAN_OIDC_CLIENT_SECRET`).
    pub oidc_client_secret: Option<String>,
    /// Single sign-on: the claim matched against persons' e-mail addresses.
    pub oidc_person_claim: Option<String>,
    /// Single sign-on: the claim that carries the role (unset: roles are kept in Custodian).
    pub oidc_role_claim: Option<String>,
    /// Single sign-on: scopes asked for besides `openid`.
    pub oidc_scopes: Option<Vec<String>>,
    /// Single sign-on: role claim values that stand for a role (`"it-admins" = "admin"`).
    pub oidc_roles: Option<std::collections::BTreeMap<String, String>>,
}

/// A setting from its environment variable, else from the file.
fn setting(var: &str, file: &Option<String>) -> Option<String> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| file.clone())
}

impl File {
    /// The connection limits: `CUSTODIAN_HEADER_TIMEOUT_SECS` and
    /// `CUSTODIAN_MAX_CONNECTIONS`, else the file, else the defaults.
    pub fn limits(&self) -> anyhow::Result<custodian_web::server::Limits> {
        let mut limits = custodian_web::server::Limits::default();
        let number = |var: &str, file: Option<u64>, range: std::ops::RangeInclusive<u64>| {
            let v =
                match std::env::var(var).ok().filter(|v| !v.is_empty()) {
                    Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
                        anyhow::anyhow!("{var} must be a whole number, not {text:?}")
                    })?),
                    None => file,
                };
            match v {
                Some(n) if !range.contains(&n) => bail!(
                    "{var} must be from {} to {}, not {n}",
                    range.start(),
                    range.end()
                ),
                other => Ok(other),
            }
        };
        if let Some(n) = number(
            "CUSTODIAN_HEADER_TIMEOUT_SECS",
            self.header_timeout_secs,
            1..=300,
        )? {
            limits.header_read = std::time::Duration::from_secs(n);
        }
        if let Some(n) = number(
            "CUSTODIAN_MAX_CONNECTIONS",
            self.max_connections.map(|n| n as u64),
            1..=65_536,
        )? {
            limits.max_connections = n as usize;
        }
        Ok(limits)
    }

    /// The single sign-on configuration, when an issuer is set; the redirect URI is the
    /// callback under `public_url`.
    pub fn sso(&self, public_url: &str) -> anyhow::Result<Option<custodian_oidc::Config>> {
        let Some(issuer) = setting("CUSTODIAN_OIDC_ISSUER", &self.oidc_issuer) else {
            return Ok(None);
        };
        let need = |var: &str, key: &str, v: Option<String>| {
            v.ok_or_else(|| {
                anyhow::anyhow!("single sign-on needs {key} (or {var}) as well as the issuer")
            })
        };
        let client_id = need(
            "CUSTODIAN_OIDC_CLIENT_ID",
            "oidc_client_id",
            setting("CUSTODIAN_OIDC_CLIENT_ID", &self.oidc_client_id),
        )?;
        let client_secret = need(
            "CUSTODIAN_OIDC_CLIENT_SECRET",
            "oidc_client_secret",
            setting("CUSTODIAN_OIDC_CLIENT_SECRET", &self.oidc_client_secret),
        )?;
        let scopes = match std::env::var("CUSTODIAN_OIDC_SCOPES") {
            Ok(s) => s.split_whitespace().map(String::from).collect(),
            Err(_) => self
                .oidc_scopes
                .clone()
                .unwrap_or_else(|| vec!["email".into(), "profile".into()]),
        };
        let roles = self.oidc_roles.clone().unwrap_or_default();
        for (value, role) in &roles {
            if !["admin", "manager", "auditor", "member"].contains(&role.as_str()) {
                bail!("oidc_roles maps {value:?} to {role:?}: the roles are admin, manager, auditor and member");
            }
        }
        Ok(Some(custodian_oidc::Config {
            issuer,
            client_id,
            client_secret,
            redirect_uri: format!(
                "{}/api/v1/session/oidc/callback",
                public_url.trim_end_matches('/')
            ),
            scopes,
            person_claim: setting("CUSTODIAN_OIDC_PERSON_CLAIM", &self.oidc_person_claim)
                .unwrap_or_else(|| "email".into()),
            role_claim: setting("CUSTODIAN_OIDC_ROLE_CLAIM", &self.oidc_role_claim),
            role_map: roles,
        }))
    }
}

impl File {
    /// Reads the file named by `--config`/`CUSTODIAN_CONFIG`, or `./custodian.toml` if present.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let path: PathBuf = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = PathBuf::from("custodian.toml");
                if !p.exists() {
                    return Ok(Self::default());
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        let file: File = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))?;
        if let Some(p) = &file.asset_number_prefix {
            check_prefix(p)?;
        }
        Ok(file)
    }
}

/// An asset number prefix: 1–10 upper-case letters or digits.
pub fn check_prefix(p: &str) -> anyhow::Result<()> {
    if p.is_empty()
        || p.len() > 10
        || !p
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        bail!("asset_number_prefix must be 1 to 10 upper-case letters or digits, not {p:?}");
    }
    Ok(())
}

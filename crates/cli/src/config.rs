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

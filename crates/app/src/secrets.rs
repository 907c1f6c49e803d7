//! Secrets at rest: sealed with an AEAD under a key from configuration.
//!
//! Secret fields (software licence keys, TOTP secrets) are stored as text of the form
//! `v1:<key id>:<base64 of nonce || ciphertext>`, sealed with XChaCha20-Poly1305 under a
//! 32-byte key. The caller's context (e.g. `asset:<uuid>:licence_key`) is bound in as
//! associated data, so a sealed value copied to another record or field fails to open.
//! When no key is configured, [`Sealer::load_or_create`] generates one into the data
//! directory, readable by its owner only.

use custodian_store::{AccountWrite, AssetWrite};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

/// Length of a key in bytes.
const KEY_LEN: usize = 32;
/// Length of an XChaCha20 nonce in bytes.
const NONCE_LEN: usize = 24;
/// Length of a Poly1305 tag in bytes.
const TAG_LEN: usize = 16;
/// Prefix of the current sealed-value format.
const VERSION: &str = "v1";
/// Domain separator hashed in front of the key to derive its id.
const KEY_ID_LABEL: &[u8] = b"custodian key id";
/// Number of hex characters in a key id.
const KEY_ID_LEN: usize = 8;
/// Ids of keys that were once published (a key file tracked in the source repository by
/// mistake): anyone can open what they seal, so no server may run with them.
const PUBLISHED_KEY_IDS: &[&str] = &["1b3eac27"];

/// Why a key could not be loaded or a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The key text is neither 64 hex characters nor 44 base64 characters for 32 bytes.
    #[error(
        "the secret key must be 32 bytes written as 64 hex characters or 44 base64 characters"
    )]
    InvalidKeyText,
    /// The key file does not hold a valid key.
    #[error("the key file {} does not hold a valid key: it must hold 32 bytes as 64 hex characters or 44 base64 characters", path.display())]
    InvalidKeyFile {
        /// The key file.
        path: PathBuf,
    },
    /// The key file can be read by group or others.
    #[error("the key file {} is accessible by group or others (mode {mode:o}); restrict it with `chmod 600`", path.display())]
    KeyFileTooOpen {
        /// The key file.
        path: PathBuf,
        /// The file's permission bits.
        mode: u32,
    },
    /// Reading or writing the key file (or its directory) failed.
    #[error("could not {action} {}: {source}", path.display())]
    KeyFileIo {
        /// What was being done, e.g. "read the key file".
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    /// Encryption failed.
    #[error("a secret could not be sealed")]
    Seal,
    /// The sealed value is not in a format this version understands.
    #[error("the sealed value is not in a supported format (expected `v1:<key id>:<data>`)")]
    UnsupportedFormat,
    /// The sealed value is structurally broken.
    #[error("the sealed value is malformed: {0}")]
    Malformed(&'static str),
    /// The value was sealed under a different key from the configured one.
    #[error("the value was sealed under key {sealed_with}, but the configured key is {current}")]
    WrongKey {
        /// Id of the key the value was sealed under.
        sealed_with: String,
        /// Id of the configured key.
        current: String,
    },
    /// Authentication failed: the value was altered or belongs to another record or field.
    #[error("the sealed value failed authentication: it was altered, or it belongs to another record or field")]
    Unauthentic,
}

/// The key material and its id, shared between clones of a [`Sealer`].
struct Inner {
    /// The 32-byte key.
    key: [u8; KEY_LEN],
    /// The key's public id.
    id: String,
}

/// Seals and opens secret fields under one key; cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    /// The shared key.
    inner: Arc<Inner>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("key_id", &self.inner.id)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// Builds a sealer from raw key bytes.
    fn from_bytes(key: [u8; KEY_LEN]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(KEY_ID_LABEL);
        hasher.update(key);
        let digest = hasher.finalize();
        let mut id = hex::encode(digest);
        id.truncate(KEY_ID_LEN);
        Self {
            inner: Arc::new(Inner { key, id }),
        }
    }

    /// A random key that lives as long as the process (tests; never for stored data that
    /// must outlive it).
    pub fn ephemeral() -> Sealer {
        let mut key = [0u8; KEY_LEN];
        if getrandom::getrandom(&mut key).is_err() {
            // Without a random source nothing sealed could be trusted; a fixed key at least
            // keeps the process answering (and this constructor is for tests).
            key = [7u8; KEY_LEN];
        }
        Self::from_bytes(key)
    }

    /// Parses a 32-byte key given as 64 hex characters or standard base64; whitespace around it is ignored.
    pub fn from_key_text(text: &str) -> Result<Sealer, SecretError> {
        let text = text.trim();
        let bytes = match text.len() {
            64 => hex::decode(text).map_err(|_| SecretError::InvalidKeyText)?,
            44 => STANDARD
                .decode(text)
                .map_err(|_| SecretError::InvalidKeyText)?,
            _ => return Err(SecretError::InvalidKeyText),
        };
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SecretError::InvalidKeyText)?;
        Ok(Self::from_bytes(key))
    }

    /// Loads the key file at `path`, or generates a new key there (mode 0600); the flag says whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(Sealer, bool), SecretError> {
        match fs::metadata(path) {
            Ok(_) => return Ok((Self::load(path)?, false)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(SecretError::KeyFileIo {
                    action: "inspect the key file",
                    path: path.to_path_buf(),
                    source,
                })
            }
        }

        let sealer = Self::generate()?;
        match sealer.write_new(path) {
            Ok(()) => Ok((sealer, true)),
            // Someone else created it between our check and now: use theirs.
            Err(SecretError::KeyFileIo { source, .. })
                if source.kind() == io::ErrorKind::AlreadyExists =>
            {
                Ok((Self::load(path)?, false))
            }
            Err(e) => Err(e),
        }
    }

    /// Writes this key into a new file at `path`, readable by its owner only; an existing
    /// file is never replaced.
    pub fn write_new(&self, path: &Path) -> Result<(), SecretError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_dir(dir)?;
        }
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(path)
            .map_err(|source| SecretError::KeyFileIo {
                action: "create the key file",
                path: path.to_path_buf(),
                source,
            })?;
        let written = file
            .write_all(self.key_text().as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(source) = written {
            drop(file);
            // Do not leave a partial key behind for the next start to trip over.
            let _ = fs::remove_file(path);
            return Err(SecretError::KeyFileIo {
                action: "write the key file",
                path: path.to_path_buf(),
                source,
            });
        }
        sync_parent(path)
    }

    /// Reads an existing key file, refusing one that group or others can access.
    pub fn load(path: &Path) -> Result<Sealer, SecretError> {
        let io_err = |source| SecretError::KeyFileIo {
            action: "read the key file",
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata().map_err(io_err)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(SecretError::KeyFileTooOpen {
                    path: path.to_path_buf(),
                    mode,
                });
            }
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|e| {
            if e.kind() == io::ErrorKind::InvalidData {
                SecretError::InvalidKeyFile {
                    path: path.to_path_buf(),
                }
            } else {
                io_err(e)
            }
        })?;
        Self::from_key_text(&text).map_err(|_| SecretError::InvalidKeyFile {
            path: path.to_path_buf(),
        })
    }

    /// The key's public id: the first 8 hex characters of SHA-256("custodian key id" || key).
    pub fn key_id(&self) -> String {
        self.inner.id.clone()
    }

    /// The key that seals the audit chain, derived from this one (so that one key file is
    /// all there is to keep), with this key's id.
    pub fn chain_key(&self) -> custodian_domain::audit::ChainKey {
        use hmac::{Hmac, Mac};
        let mut derived = [0u8; KEY_LEN];
        if let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(&self.inner.key) {
            m.update(b"custodian audit chain key v1");
            derived.copy_from_slice(&m.finalize().into_bytes());
        }
        custodian_domain::audit::ChainKey::new(derived, self.inner.id.clone())
    }

    /// Whether this key was published, so that it protects nothing.
    pub fn is_published(&self) -> bool {
        is_published_id(&self.inner.id)
    }

    /// Generates a new random key.
    pub fn generate() -> Result<Sealer, SecretError> {
        let mut key = [0u8; KEY_LEN];
        getrandom::getrandom(&mut key).map_err(|e| SecretError::Random(e.to_string()))?;
        Ok(Self::from_bytes(key))
    }

    /// The key as written in a key file: 64 hex characters and a line break.
    pub fn key_text(&self) -> String {
        let mut text = hex::encode(self.inner.key);
        text.push('\n');
        text
    }

    /// The AEAD cipher under this key.
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.inner.key))
    }

    /// Seals `plaintext` bound to `context` (e.g. `asset:<uuid>:licence_key`) as `v1:<key id>:<base64>`.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).map_err(|e| SecretError::Random(e.to_string()))?;
        let ciphertext = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Seal)?;
        let mut data = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&ciphertext);
        Ok(format!(
            "{VERSION}:{}:{}",
            self.inner.id,
            STANDARD_NO_PAD.encode(data)
        ))
    }

    /// Opens a value made by [`Sealer::seal`] with the same key and `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SecretError> {
        let mut parts = sealed.split(':');
        let (Some(version), Some(key_id), Some(data), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SecretError::UnsupportedFormat);
        };
        if version != VERSION {
            return Err(SecretError::UnsupportedFormat);
        }
        if key_id.len() != KEY_ID_LEN || !key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SecretError::Malformed("the key id is not 8 hex characters"));
        }
        if !key_id.eq_ignore_ascii_case(&self.inner.id) {
            return Err(SecretError::WrongKey {
                sealed_with: key_id.to_ascii_lowercase(),
                current: self.inner.id.clone(),
            });
        }
        let data = STANDARD_NO_PAD
            .decode(data)
            .map_err(|_| SecretError::Malformed("the data is not valid base64"))?;
        if data.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretError::Malformed("the data is too short"));
        }
        let (nonce, ciphertext) = data.split_at(NONCE_LEN);
        let plaintext = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Unauthentic)?;
        String::from_utf8(plaintext)
            .map_err(|_| SecretError::Malformed("the opened secret is not UTF-8 text"))
    }
}

/// Whether the key with this id was published, so that it protects nothing.
pub fn is_published_id(id: &str) -> bool {
    PUBLISHED_KEY_IDS.contains(&id)
}

/// Whether `s` looks like a sealed value: `v1:` followed by a key id and data.
pub fn is_sealed(s: &str) -> bool {
    let mut parts = s.split(':');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(VERSION), Some(id), Some(data), None) if !id.is_empty() && !data.is_empty()
    )
}

/// Creates `dir` and its missing parents (owner-only on Unix).
fn create_dir(dir: &Path) -> Result<(), SecretError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|source| SecretError::KeyFileIo {
            action: "create the key directory",
            path: dir.to_path_buf(),
            source,
        })
}

/// Flushes the directory entry of a newly created file to disk (Unix only).
fn sync_parent(path: &Path) -> Result<(), SecretError> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| SecretError::KeyFileIo {
                action: "sync the key directory",
                path: dir.to_path_buf(),
                source,
            })?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

impl crate::App {
    /// Seals the secret fields of an asset about to be written, so that no secret reaches
    /// the database in clear. A value equal to the one already stored keeps its sealed form;
    /// the answer names the secret fields that changed (their change is recorded as
    /// "replaced", never with a value).
    pub(crate) fn seal_asset_secrets(
        &self,
        next: &mut custodian_domain::asset::Asset,
        prev: Option<&custodian_domain::asset::Asset>,
    ) -> crate::Result<Vec<String>> {
        use custodian_domain::fields::{field, FieldType};
        let mut changed = Vec::new();
        let secret_keys: Vec<String> = next
            .attrs
            .keys()
            .chain(prev.map(|p| p.attrs.keys()).into_iter().flatten())
            .filter(|k| field(k).is_some_and(|d| d.ty == FieldType::Secret))
            .cloned()
            .collect();
        for k in secret_keys {
            if changed.contains(&k) {
                continue;
            }
            let context = format!("asset:{}:{k}", next.id);
            let old = prev.and_then(|p| p.attrs.get(&k)).and_then(|v| v.as_str());
            match next
                .attrs
                .get(&k)
                .and_then(|v| v.as_str())
                .map(String::from)
            {
                Some(v) if is_sealed(&v) => {
                    if old != Some(v.as_str()) {
                        changed.push(k);
                    }
                }
                Some(plain) => {
                    let same = old.is_some_and(|o| {
                        self.open_secret(o, &context).ok().as_deref() == Some(plain.as_str())
                    });
                    if same {
                        if let Some(o) = old {
                            next.attrs
                                .insert(k.clone(), serde_json::Value::String(o.to_string()));
                        }
                    } else {
                        let sealed = self.sealer().seal(&plain, &context).map_err(secret_error)?;
                        next.attrs
                            .insert(k.clone(), serde_json::Value::String(sealed));
                        changed.push(k);
                    }
                }
                None => {
                    if old.is_some() {
                        changed.push(k);
                    }
                }
            }
        }
        Ok(changed)
    }

    /// Opens a stored secret; a value stored before secrets were sealed reads as it is.
    pub(crate) fn open_secret(&self, stored: &str, context: &str) -> crate::Result<String> {
        if is_sealed(stored) {
            self.sealer().open(stored, context).map_err(secret_error)
        } else {
            Ok(stored.to_string())
        }
    }
}

/// What a key rotation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// The retired key's id.
    pub from: String,
    /// The new key's id.
    pub to: String,
    /// Asset secrets resealed.
    pub asset_secrets: u64,
    /// Second-factor secrets resealed.
    pub totp_secrets: u64,
    /// Audit checkpoints resealed.
    pub checkpoints: u64,
}

impl crate::App {
    /// Reseals every secret, and the audit chain's seals, under `new` in one transaction,
    /// recorded as a `key.rotated` event. The chain must verify under the current key
    /// first: resealing an altered chain would bless the alteration. Secrets are rewritten
    /// with their record's version unchanged: the values they hold are the same.
    pub async fn rotate_key(&self, ctx: &crate::Ctx, new: &Sealer) -> crate::Result<Rotation> {
        use custodian_domain::fields::{fields_of, FieldType};
        use custodian_store::{AssetQuery, ChangeSet, Write};
        if !matches!(ctx.access, crate::Access::System) {
            return Err(crate::AppError::Forbidden(
                "keys are rotated from the server's command line only".into(),
            ));
        }
        let old = self.sealer();
        if new.key_id() == old.key_id() {
            return Err(crate::AppError::invalid(
                "key",
                "the new key is the key in use",
            ));
        }
        if let crate::audit::Verification::Broken(b) = self.verify_audit(ctx).await? {
            return Err(crate::AppError::invalid(
                "audit",
                format!(
                    "the audit trail is broken at event {}: {}; nothing was rotated",
                    b.seq, b.reason
                ),
            ));
        }
        let mut writes = Vec::new();
        let mut asset_secrets = 0;
        for kind in custodian_domain::asset::AssetKind::NAMES
            .iter()
            .filter_map(|k| custodian_domain::asset::AssetKind::parse(k))
        {
            let secret: Vec<&str> = fields_of(kind)
                .filter(|f| f.ty == FieldType::Secret)
                .map(|f| f.name)
                .collect();
            if secret.is_empty() {
                continue;
            }
            let mut q = AssetQuery {
                limit: 500,
                kind: Some(kind),
                ..Default::default()
            };
            loop {
                let page = self.store.list_assets(&q).await?;
                for a in page.items {
                    let mut next = a.clone();
                    let mut changed = false;
                    for f in &secret {
                        let Some(stored) = a.attrs.get(*f).and_then(|v| v.as_str()) else {
                            continue;
                        };
                        let context = format!("asset:{}:{f}", a.id);
                        let plain = self.open_secret(stored, &context)?;
                        let sealed = new.seal(&plain, &context).map_err(secret_error)?;
                        next.attrs
                            .insert((*f).to_string(), serde_json::Value::String(sealed));
                        changed = true;
                        asset_secrets += 1;
                    }
                    if changed {
                        writes.push(Write::Asset(AssetWrite::UpdateAsset {
                            expected_version: a.version,
                            asset: Box::new(next),
                        }));
                    }
                }
                match page.next_cursor {
                    Some(c) => q.cursor = Some(c),
                    None => break,
                }
            }
        }
        let mut totp_secrets = 0;
        let mut cursor = None;
        loop {
            let page = self.store.list_users(500, cursor).await?;
            for u in page.items {
                // A second factor being enrolled waits, sealed, in a setting.
                use custodian_domain::account::PendingTotp;
                let pending_key = PendingTotp::key(u.id);
                let pending = self.store.setting(&pending_key).await?;
                if let Some(pending) = pending.as_deref().and_then(PendingTotp::decode) {
                    let context = Self::totp_context(u.id);
                    let plain = self.open_secret(&pending.sealed, &context)?;
                    let resealed = PendingTotp {
                        sealed: new.seal(&plain, &context).map_err(secret_error)?,
                        ..pending
                    };
                    writes.push(Write::Account(AccountWrite::SetSetting {
                        key: pending_key,
                        value: Some(resealed.encode()),
                    }));
                    totp_secrets += 1;
                }
                let Some(stored) = &u.totp_secret else {
                    continue;
                };
                let context = Self::totp_context(u.id);
                let plain = self.open_secret(stored, &context)?;
                let mut next = u.clone();
                next.totp_secret = Some(new.seal(&plain, &context).map_err(secret_error)?);
                totp_secrets += 1;
                writes.push(Write::Account(AccountWrite::UpdateUser {
                    expected_version: u.version,
                    user: Box::new(next),
                }));
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let (from, to) = (old.key_id(), new.key_id());
        let event = custodian_domain::audit::NewEvent::new(
            &ctx.actor,
            "key.rotated",
            "key",
            &to,
            serde_json::json!({
                "key_id": {"before": from, "after": to},
                "asset_secrets": asset_secrets,
                "totp_secrets": totp_secrets,
            }),
            ctx.request_id.as_deref(),
            custodian_domain::now(),
        );
        let mut tx = self.store.begin().await?;
        let checkpoints = match tx.reseal_chain(new.chain_key()).await {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.rollback().await;
                return Err(e.into());
            }
        };
        if let Err(e) = tx
            .apply(ChangeSet {
                writes,
                events: vec![event],
            })
            .await
        {
            let _ = tx.rollback().await;
            return Err(e.into());
        }
        tx.commit().await?;
        Ok(Rotation {
            from,
            to,
            asset_secrets,
            totp_secrets,
            checkpoints,
        })
    }
}

/// How a secret-handling failure reaches the caller: as a storage-side error that names no
/// secret material.
fn secret_error(e: SecretError) -> crate::AppError {
    crate::AppError::Internal(format!("a secret could not be processed: {e}"))
}

/// The change entry of a secret field: that it was set, replaced or removed, never a value.
pub(crate) fn secret_change(had: bool, has: bool) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    if had {
        m.insert("before".into(), serde_json::json!("(secret)"));
    }
    if has {
        m.insert(
            "after".into(),
            serde_json::json!(if had {
                "(secret, replaced)"
            } else {
                "(secret)"
            }),
        );
    }
    serde_json::Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const CTX: &str = "asset:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0:licence_key";

    fn sealer() -> Sealer {
        Sealer::from_key_text(HEX_KEY).unwrap()
    }

    /// A unique scratch directory under the system temp dir, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let dir = std::env::temp_dir().join(format!(
                "custodian-secrets-{name}-{}-{nanos}",
                std::process::id()
            ));
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn round_trip() {
        let s = sealer();
        for text in ["", "ABCD-EFGH-1234", "JBSWY3DPEHPK3PXP", "ünïcødé ✓"] {
            let sealed = s.seal(text, CTX).unwrap();
            assert!(is_sealed(&sealed), "{sealed}");
            assert!(sealed.starts_with(&format!("v1:{}:", s.key_id())));
            assert!(!sealed.contains(text) || text.is_empty());
            assert_eq!(s.open(&sealed, CTX).unwrap(), text);
        }
    }

    #[test]
    fn clones_share_the_key() {
        let s = sealer();
        let c = s.clone();
        let sealed = s.seal("secret", CTX).unwrap();
        assert_eq!(c.open(&sealed, CTX).unwrap(), "secret");
    }

    #[test]
    fn two_seals_differ() {
        let s = sealer();
        let a = s.seal("same text", CTX).unwrap();
        let b = s.seal("same text", CTX).unwrap();
        assert_ne!(a, b);
        assert_eq!(s.open(&a, CTX).unwrap(), s.open(&b, CTX).unwrap());
    }

    #[test]
    fn wrong_context_fails() {
        let s = sealer();
        let sealed = s.seal("licence", CTX).unwrap();
        let err = s.open(&sealed, "asset:other:licence_key").unwrap_err();
        assert!(matches!(err, SecretError::Unauthentic), "{err:?}");
        assert!(!err.to_string().contains("licence"));
    }

    #[test]
    fn flipped_byte_fails() {
        let s = sealer();
        let sealed = s.seal("top secret", CTX).unwrap();
        let (prefix, data) = sealed.rsplit_once(':').unwrap();
        let bytes = STANDARD_NO_PAD.decode(data).unwrap();
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            let value = format!("{prefix}:{}", STANDARD_NO_PAD.encode(&tampered));
            let err = s.open(&value, CTX).unwrap_err();
            assert!(matches!(err, SecretError::Unauthentic), "byte {i}: {err:?}");
            assert!(!err.to_string().contains("top secret"));
            assert!(!err.to_string().contains(HEX_KEY));
        }
    }

    #[test]
    fn truncated_value_fails() {
        let s = sealer();
        let sealed = s.seal("top secret", CTX).unwrap();
        for len in 0..sealed.len() {
            assert!(s.open(&sealed[..len], CTX).is_err(), "length {len}");
        }
    }

    #[test]
    fn wrong_key_fails_naming_both_ids() {
        let a = sealer();
        let b = Sealer::from_key_text(&"ab".repeat(32)).unwrap();
        assert_ne!(a.key_id(), b.key_id());
        let sealed = a.seal("secret", CTX).unwrap();
        let err = b.open(&sealed, CTX).unwrap_err();
        assert!(matches!(err, SecretError::WrongKey { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(&a.key_id()), "{msg}");
        assert!(msg.contains(&b.key_id()), "{msg}");

        // Same id forged onto a value sealed under another key still fails.
        let forged = sealed.replacen(&a.key_id(), &b.key_id(), 1);
        assert!(matches!(
            b.open(&forged, CTX).unwrap_err(),
            SecretError::Unauthentic
        ));
    }

    #[test]
    fn garbage_fails() {
        let s = sealer();
        let id = s.key_id();
        let cases = [
            String::new(),
            "plain licence key".to_string(),
            "v1:".to_string(),
            "v1::".to_string(),
            "v2:abcdef01:AAAA".to_string(),
            "v1:nothex!!:AAAA".to_string(),
            format!("v1:{id}:"),
            format!("v1:{id}:not base64 at all!"),
            format!("v1:{id}:AAAA"),
            format!("v1:{id}:AAAA:extra"),
            format!("v1:{id}:{}", "A".repeat(200)),
            "\u{0}\u{ffff}:::".to_string(),
        ];
        for case in &cases {
            let err = s.open(case, CTX).unwrap_err();
            if case.len() > 8 {
                assert!(!err.to_string().contains(case.as_str()), "{err}");
            }
        }
        assert!(!is_sealed("plain licence key"));
        assert!(!is_sealed("v1:abc"));
        assert!(!is_sealed("v1::data"));
        assert!(!is_sealed("v2:abcdef01:data"));
        assert!(is_sealed("v1:abcdef01:data"));
    }

    #[test]
    fn key_text_parsing() {
        let from_hex = Sealer::from_key_text(HEX_KEY).unwrap();
        let bytes = hex::decode(HEX_KEY).unwrap();
        let b64 = STANDARD.encode(&bytes);
        assert_eq!(b64.len(), 44);
        let from_b64 = Sealer::from_key_text(&format!("  {b64}\n")).unwrap();
        assert_eq!(from_hex.key_id(), from_b64.key_id());
        let upper = Sealer::from_key_text(&format!("\t{}\r\n", HEX_KEY.to_uppercase())).unwrap();
        assert_eq!(from_hex.key_id(), upper.key_id());

        // The key id is the documented hash prefix.
        let mut h = Sha256::new();
        h.update(b"custodian key id");
        h.update(&bytes);
        assert_eq!(from_hex.key_id(), hex::encode(h.finalize())[..8]);

        let bad = [
            "",
            "too-short-secret",
            &HEX_KEY[..62],
            &format!("{}zz", &HEX_KEY[..62]),
            &format!("{HEX_KEY}00"),
            "this is not base64 but has 44 characters!!!",
            // 33 bytes of base64 (44 chars, no padding): wrong length.
            &STANDARD.encode([7u8; 33]),
        ];
        for input in bad {
            let err = Sealer::from_key_text(input).unwrap_err();
            assert!(matches!(err, SecretError::InvalidKeyText), "{err:?}");
            let msg = err.to_string();
            let dbg = format!("{err:?}");
            if !input.is_empty() {
                assert!(!msg.contains(input), "{msg}");
                assert!(!dbg.contains(input), "{dbg}");
            }
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let s = sealer();
        let dbg = format!("{s:?}");
        assert!(dbg.contains(&s.key_id()), "{dbg}");
        assert!(!dbg.contains(HEX_KEY), "{dbg}");
        assert!(!dbg.contains(&HEX_KEY[..16]), "{dbg}");
        assert!(!dbg.contains("[0, 1, 2"), "{dbg}");
    }

    #[cfg(unix)]
    #[test]
    fn load_or_create_makes_a_private_key_file_and_reloads_it() {
        use std::os::unix::fs::PermissionsExt;

        let scratch = Scratch::new("create");
        let path = scratch.0.join("data").join("secret.key");

        let (first, created) = Sealer::load_or_create(&path).unwrap();
        assert!(created);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "mode {mode:o}");
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), 65);
        assert!(text.ends_with('\n'));
        assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!format!("{first:?}").contains(text.trim()));

        let (second, created) = Sealer::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first.key_id(), second.key_id());
        let sealed = first.seal("persisted", CTX).unwrap();
        assert_eq!(second.open(&sealed, CTX).unwrap(), "persisted");
    }

    #[cfg(unix)]
    #[test]
    fn load_or_create_refuses_an_open_key_file() {
        use std::os::unix::fs::PermissionsExt;

        let scratch = Scratch::new("open");
        let path = scratch.0.join("secret.key");
        fs::write(&path, format!("{HEX_KEY}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

        let err = Sealer::load_or_create(&path).unwrap_err();
        assert!(matches!(err, SecretError::KeyFileTooOpen { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(!msg.contains(HEX_KEY), "{msg}");

        // Once restricted, the same file loads.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let (s, created) = Sealer::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(s.key_id(), sealer().key_id());
    }

    #[cfg(unix)]
    #[test]
    fn load_or_create_rejects_a_bad_key_file_without_echoing_it() {
        use std::os::unix::fs::PermissionsExt;

        let scratch = Scratch::new("bad");
        let path = scratch.0.join("secret.key");
        fs::write(&path, "hunter2-not-a-key\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();

        let err = Sealer::load_or_create(&path).unwrap_err();
        assert!(matches!(err, SecretError::InvalidKeyFile { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }
}

//! `custodian`: the asset register for ISO/IEC 27001:2022.

use std::io::{BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};

use custodian_app::import::ImportOptions;
use custodian_app::{App, Ctx, Settings};
use custodian_store::MatchKey;
use custodian_store_sql::SqlStore;

mod config;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Custodian keeps an organisation's ISO/IEC 27001 asset inventory: every asset, its owner,
/// importance, classification and lifecycle, with a tamper-evident audit trail.
#[derive(Parser, Debug)]
#[command(
    name = "custodian",
    version,
    propagate_version = true,
    after_help = "Configuration: flags, then CUSTODIAN_* environment variables, then custodian.toml.\nExit status: 0 on success, 1 on a user error, 2 on a usage error."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
struct Global {
    /// Database: a SQLite path or sqlite:// URL, or a postgres:// URL [default: ./custodian.db]
    #[arg(long, global = true, env = "CUSTODIAN_DATABASE", value_name = "URL")]
    database: Option<String>,
    /// Configuration file [default: ./custodian.toml when present]
    #[arg(long, global = true, env = "CUSTODIAN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API (migrates the database first).
    Serve {
        /// Address to listen on; keep it on loopback unless a proxy in front adds TLS [default: 127.0.0.1:8080]
        #[arg(long, env = "CUSTODIAN_BIND", value_name = "ADDR")]
        bind: Option<String>,
        /// Fill the demo organisation first when the register is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Fill an empty register with a realistic sample organisation.
    Demo,
    /// Import assets from Custodian's CSV or JSON Lines; all rows or none.
    #[command(
        after_help = "Columns (CSV) and keys (JSON Lines) are the API's wire names. owner_id and\nlast_reviewed_by may be given as an id, an e-mail address or a name.\nCSV lists are separated by ';'; custom fields are columns named custom.KEY."
    )]
    Import {
        /// The file to read.
        file: PathBuf,
        /// File format [default: from the file's extension, else csv]
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Update the asset with the same key instead of creating another.
        #[arg(long = "match", value_enum, value_name = "KEY")]
        match_key: Option<Match>,
        /// Check every row and report what would change; store nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export assets as CSV or JSON Lines.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Only assets of this kind.
        #[arg(long, value_name = "KIND", value_parser = ["physical", "virtual", "data", "software", "service", "intangible"])]
        kind: Option<String>,
        /// The register as it stood at this time (RFC 3339, or a date for its start in
        /// UTC), rebuilt from the audit trail.
        #[arg(long, value_name = "TIME", value_parser = parse_as_at)]
        as_at: Option<chrono::DateTime<chrono::Utc>>,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write a report (SPEC §12), now or as the register stood; the download is recorded
    /// in the audit trail.
    Report {
        /// Which report.
        #[arg(value_parser = ["register", "ropa", "licences", "disposals", "exceptions", "offboarding", "acknowledgements", "compliance", "off-premises", "policy", "evidence"])]
        kind: String,
        /// Output format (the default: csv for reports of rows, html for compliance and
        /// policy, zip for the evidence pack).
        #[arg(long, value_parser = ["csv", "json", "xlsx", "html", "pdf", "zip"])]
        format: Option<String>,
        /// The policy report's document (asset_management or acceptable_use).
        #[arg(long, value_parser = ["asset_management", "acceptable_use"])]
        document: Option<String>,
        /// The register as it stood at this time (RFC 3339, or a date for its start in
        /// UTC), rebuilt from the audit trail.
        #[arg(long, value_name = "TIME", value_parser = parse_as_at)]
        as_at: Option<chrono::DateTime<chrono::Utc>>,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Draw a reproducible audit sample (recorded in the audit trail).
    #[command(subcommand)]
    Sample(SampleCommand),
    /// Work with the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Measure compliance with the Asset Management Policy.
    #[command(subcommand)]
    Compliance(ComplianceCommand),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the secret key that seals secrets and the audit trail.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Reseal every secret and the audit trail's seals under a new key, in one transaction.
    #[command(
        after_help = "Stop every server first. The new key replaces the key file; the old one is kept beside it as\ncustodian.key.<old key id>.retired for backups taken before the rotation. When the key comes\nfrom CUSTODIAN_SECRET_KEY, the new key is written to custodian.key.new in the data directory."
    )]
    Rotate,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create an account with a generated password, shown once.
    Create {
        /// The e-mail address the user signs in with.
        email: String,
        /// What the user is trusted with.
        #[arg(long, value_parser = ["admin", "manager", "auditor", "member"])]
        role: String,
        /// The person (party id) the account belongs to.
        #[arg(long, value_name = "ID")]
        person_id: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Issue a token for a user; prints the token alone on its last line.
    Create {
        /// The user's e-mail address.
        #[arg(long, value_name = "EMAIL")]
        user: String,
        /// What the token may do.
        #[arg(long, value_parser = ["read", "write"], default_value = "read")]
        scope: String,
        /// Days until the token stops working (1 to 366).
        #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(i64).range(1..=366))]
        expires_in: i64,
    },
}

#[derive(Subcommand, Debug)]
enum SampleCommand {
    /// Draw from the register: the same seed, population and size draw the same sample.
    Assets {
        /// How many: a number (at most 1000), or auto (the common audit table: under 6,
        /// all; 6 to 50, 5; 51 to 250, 10 %; over 250, 25).
        #[arg(long, default_value = "auto")]
        size: String,
        /// The seed.
        #[arg(long)]
        seed: String,
        /// The register as it stood at this time (RFC 3339, or a date for its start in
        /// UTC), rebuilt from the audit trail.
        #[arg(long, value_name = "TIME", value_parser = parse_as_at)]
        as_at: Option<chrono::DateTime<chrono::Utc>>,
        /// Only assets of this kind.
        #[arg(long)]
        kind: Option<String>,
        /// Only assets in this lifecycle status.
        #[arg(long)]
        status: Option<String>,
        /// Only assets owned by this party (its id).
        #[arg(long, value_name = "ID")]
        owner_id: Option<String>,
        /// Only assets at this classification level (its key).
        #[arg(long)]
        classification: Option<String>,
        /// Only assets of this importance.
        #[arg(long)]
        importance: Option<String>,
        /// Only assets with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Only assets at this location (its id).
        #[arg(long, value_name = "ID")]
        location_id: Option<String>,
        /// Print the whole sample as JSON instead of a line per asset.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ComplianceCommand {
    /// Evaluate every check over the whole register now, keep the day's snapshot, and
    /// print what changed (waits for an evaluation under way in a server to finish).
    Run,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Seal, once, the head of a trail written before seals (after upgrading to them),
    /// once every link and hash checks out.
    Seal,
    /// Check the hash chain and its seals: exit 0 when intact, 1 naming the first bad event.
    Verify {
        /// Also replay the trail and compare it with the register, naming the first asset
        /// whose stored record differs.
        #[arg(long)]
        register: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Jsonl,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
#[value(rename_all = "snake_case")]
enum Match {
    AssetNumber,
    SerialNumber,
    Id,
    ExternalId,
}

impl From<Match> for MatchKey {
    fn from(m: Match) -> Self {
        match m {
            Match::AssetNumber => MatchKey::AssetNumber,
            Match::SerialNumber => MatchKey::SerialNumber,
            Match::Id => MatchKey::Id,
            Match::ExternalId => MatchKey::ExternalId,
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) if broken_pipe(&e) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            std::process::ExitCode::from(1)
        }
    }
}

/// The error and its causes on one line, skipping a cause its parent already quotes.
/// `--as-at`: an RFC 3339 time, or a date (its start, in UTC).
fn parse_as_at(v: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    custodian_domain::value::parse_timestamp(v).or_else(|e| {
        custodian_domain::value::parse_date(v)
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .ok_or(e)
    })
}

fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain().map(|c| c.to_string()) {
        if !out.contains(&cause) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&cause);
        }
    }
    out.replace('\n', " ")
}

/// A reader that stopped reading (`custodian export | head`) is not worth a message.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

struct Env {
    database: String,
    file: config::File,
    /// The store opened by a command, closed (its WAL folded back) when the command ends.
    opened: std::sync::Mutex<Option<SqlStore>>,
}

impl Env {
    fn new(g: &Global) -> anyhow::Result<Self> {
        let file = config::File::load(g.config.as_deref())?;
        let database = g
            .database
            .clone()
            .or_else(|| file.database.clone())
            .unwrap_or_else(|| "custodian.db".into());
        let level = std::env::var("CUSTODIAN_LOG")
            .ok()
            .or_else(|| file.log.clone())
            .unwrap_or_else(|| "info".into());
        let filter: tracing_subscriber::filter::LevelFilter = level.parse().map_err(|_| {
            anyhow::anyhow!(
                "CUSTODIAN_LOG must be one of error, warn, info, debug, trace, not {level:?}"
            )
        })?;
        let _ = tracing_subscriber::fmt()
            .with_max_level(filter)
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init();
        Ok(Self {
            database,
            file,
            opened: Default::default(),
        })
    }

    async fn app(&self) -> anyhow::Result<App> {
        let sealer = self.sealer()?;
        if sealer.key.is_published() {
            bail!("{}", published_key_message(&sealer.source));
        }
        self.app_with(sealer.key).await
    }

    /// The services over the database, sealing with `sealer`.
    async fn app_with(&self, sealer: custodian_app::secrets::Sealer) -> anyhow::Result<App> {
        let store = SqlStore::open(&self.database)
            .await
            .with_context(|| format!("cannot open the database {}", redact(&self.database)))?;
        if let Ok(mut o) = self.opened.lock() {
            *o = Some(store.clone());
        }
        let prefix = std::env::var("CUSTODIAN_ASSET_NUMBER_PREFIX")
            .ok()
            .or_else(|| self.file.asset_number_prefix.clone())
            .unwrap_or_else(|| "AST".into());
        config::check_prefix(&prefix)?;
        let app = App::new(
            Arc::new(store),
            Settings {
                asset_number_prefix: prefix,
                public_url: std::env::var("CUSTODIAN_PUBLIC_URL")
                    .ok()
                    .or_else(|| self.file.public_url.clone())
                    .unwrap_or_else(|| "http://127.0.0.1:8080".into()),
                sealer: Some(sealer),
                ..Settings::default()
            },
        );
        app.ensure_defaults(&Ctx::system()).await?;
        Ok(app)
    }
}

impl Env {
    /// The key secrets are sealed with: `CUSTODIAN_SECRET_KEY` (64 hex characters or
    /// base64), else the key file (`secret_key_file`, default `custodian.key` in the data
    /// directory, created with mode 0600 on first run).
    fn sealer(&self) -> anyhow::Result<LoadedKey> {
        use custodian_app::secrets::Sealer;
        if let Ok(text) = std::env::var("CUSTODIAN_SECRET_KEY") {
            let key = Sealer::from_key_text(&text).context("CUSTODIAN_SECRET_KEY")?;
            return Ok(LoadedKey {
                key,
                source: KeySource::Env(self.data_dir()),
            });
        }
        let path = self.key_path();
        let (key, created) = Sealer::load_or_create(&path)?;
        if created {
            tracing::warn!(
                "generated a new secret key in {} (key id {}): back it up apart from the database, or the secrets and audit seals stored with it cannot be read or checked",
                path.display(),
                key.key_id()
            );
        }
        Ok(LoadedKey {
            key,
            source: KeySource::File(path),
        })
    }

    /// The key, which must exist already: checking or sealing the trail never makes one
    /// (a new key would only say that everything is sealed under another).
    fn existing_key(&self) -> anyhow::Result<custodian_app::secrets::Sealer> {
        use custodian_app::secrets::Sealer;
        if let Ok(text) = std::env::var("CUSTODIAN_SECRET_KEY") {
            return Sealer::from_key_text(&text).context("CUSTODIAN_SECRET_KEY");
        }
        let path = self.key_path();
        if !path.exists() {
            bail!(
                "there is no key file at {}: set CUSTODIAN_SECRET_KEY, or point secret_key_file or CUSTODIAN_DATA_DIR at the register's key",
                path.display()
            );
        }
        Ok(Sealer::load(&path)?)
    }

    /// The key file's path.
    fn key_path(&self) -> PathBuf {
        match &self.file.secret_key_file {
            Some(p) => p.clone(),
            None => self.data_dir().join("custodian.key"),
        }
    }

    /// Where Custodian keeps its files: `CUSTODIAN_DATA_DIR`, `data_dir` in the
    /// configuration, else the SQLite database's directory, else the working directory.
    fn data_dir(&self) -> PathBuf {
        if let Ok(d) = std::env::var("CUSTODIAN_DATA_DIR") {
            return PathBuf::from(d);
        }
        if let Some(d) = &self.file.data_dir {
            return d.clone();
        }
        let db = &self.database;
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            return PathBuf::from(".");
        }
        let path = db.strip_prefix("sqlite://").unwrap_or(db);
        let path = path.split('?').next().unwrap_or(path);
        match std::path::Path::new(path).parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// A key and where it came from.
struct LoadedKey {
    key: custodian_app::secrets::Sealer,
    source: KeySource,
}

/// Where the key came from.
enum KeySource {
    /// A key file.
    File(PathBuf),
    /// `CUSTODIAN_SECRET_KEY`; the data directory a rotation writes the new key to.
    Env(PathBuf),
}

impl KeySource {
    fn describe(&self) -> String {
        match self {
            KeySource::File(p) => p.display().to_string(),
            KeySource::Env(_) => "CUSTODIAN_SECRET_KEY".into(),
        }
    }
}

/// Why a published key is refused, and how to replace it.
fn published_key_message(source: &KeySource) -> String {
    let fresh = match source {
        KeySource::File(p) => format!(
            "delete {} and start again (a key of its own is generated)",
            p.display()
        ),
        KeySource::Env(_) => {
            "unset CUSTODIAN_SECRET_KEY and start again (a key file of its own is generated)".into()
        }
    };
    format!(
        "the secret key in {} (key id {}) was published in Custodian's source repository, so it protects nothing. If this register holds no secrets yet, {fresh}; otherwise run `custodian key rotate` to reseal every secret under a new key",
        source.describe(),
        PUBLISHED
    )
}

/// The id of the published key, for messages.
const PUBLISHED: &str = "1b3eac27";

/// Rotates the key: a new key is written beside the old one, everything is resealed in one
/// transaction, and only then does the new key take the old one's place.
async fn rotate_key(env: &Env) -> anyhow::Result<()> {
    use custodian_app::secrets::Sealer;
    let loaded = env.sealer()?;
    let (staged, target) = match &loaded.source {
        KeySource::File(p) => (with_suffix(p, ".new"), Some(p.clone())),
        KeySource::Env(dir) => (dir.join("custodian.key.new"), None),
    };
    if staged.exists() {
        bail!(
            "{} exists: an earlier rotation did not finish. If `custodian audit verify` passes with the key in {}, delete it and rotate again; if it names that file's key, move it into place",
            staged.display(),
            loaded.source.describe()
        );
    }
    let new = Sealer::generate()?;
    new.write_new(&staged)?;
    let app = env.app_with(loaded.key.clone()).await?;
    let rotation = match app.rotate_key(&Ctx::system(), &new).await {
        Ok(r) => r,
        Err(e) => {
            // A failed commit may still have landed (a connection lost while committing):
            // the staged key goes only when the register is certainly not sealed under it.
            let head = app.store().sealed_head().await;
            let landed = head
                .as_ref()
                .ok()
                .and_then(|h| h.seal.as_ref())
                .is_some_and(|s| s.key_id == new.key_id());
            if head.is_ok() && !landed {
                let _ = std::fs::remove_file(&staged);
                return Err(e.into());
            }
            if !landed {
                return Err(anyhow::Error::from(e).context(format!(
                    "the rotation may or may not have been committed: keep {} until `custodian audit verify` says which key seals the register",
                    staged.display()
                )));
            }
            eprintln!("warning: the rotation reported an error but is committed ({e})");
            custodian_app::secrets::Rotation {
                from: loaded.key.key_id(),
                to: new.key_id(),
                asset_secrets: 0,
                totp_secrets: 0,
                checkpoints: 0,
            }
        }
    };
    println!(
        "Resealed {} licence keys, {} second-factor secrets and {} audit checkpoints under key {} (was {}).",
        rotation.asset_secrets, rotation.totp_secrets, rotation.checkpoints, rotation.to, rotation.from
    );
    match target {
        Some(path) => {
            let retired = with_suffix(&path, &format!(".{}.retired", rotation.from));
            std::fs::rename(&path, &retired)
                .and_then(|()| std::fs::rename(&staged, &path))
                .with_context(|| {
                    format!(
                        "the register is sealed under the new key, which is in {}: move it to {} by hand",
                        staged.display(),
                        path.display()
                    )
                })?;
            println!(
                "The new key is in {}; the old one is kept in {} for backups taken before now: destroy it once they are gone. Restart every server.",
                path.display(),
                retired.display()
            );
        }
        None => println!(
            "The new key is in {}: set CUSTODIAN_SECRET_KEY to its contents on every server, restart them, then delete the file.",
            staged.display()
        ),
    }
    Ok(())
}

/// `path` with `suffix` added to its file name.
fn with_suffix(path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Tells how to create the first admin (no accounts exist yet).
fn print_first_run(base: &str, token: &str) {
    println!("No accounts exist yet. Create the first admin within 24 hours, either with");
    println!("  custodian user create EMAIL --role admin");
    println!("or with this one-time setup request:");
    println!("  curl -X POST {base}/api/v1/setup -H 'content-type: application/json' \\");
    println!("    -d '{{\"token\": \"{token}\", \"email\": \"you@example.com\", \"name\": \"Your Name\", \"password\": \"at least 12 characters\"}}'");
}

/// Prints the demo's sign-in accounts.
fn print_accounts(accounts: &[custodian_io::demo::DemoAccount]) {
    if accounts.is_empty() {
        return;
    }
    println!("Sign in as one of the demo's people (passwords are shown only now):");
    for a in accounts {
        println!("  {:<8} {:<40} {}", a.role, a.email, a.password);
    }
}

/// Hides a password in a database URL.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    let env = Env::new(&cli.global)?;
    let result = dispatch(&env, cli.command).await;
    let opened = env.opened.lock().ok().and_then(|mut o| o.take());
    if let Some(store) = opened {
        store.close().await;
    }
    result
}

async fn dispatch(env: &Env, command: Command) -> anyhow::Result<std::process::ExitCode> {
    let ctx = Ctx::system();
    match command {
        Command::Migrate => {
            let store = SqlStore::connect(&env.database)
                .await
                .with_context(|| format!("cannot open the database {}", redact(&env.database)))?;
            let applied = store.migrate().await?;
            // A new database, or the upgrade that added seals, has its head sealed now.
            custodian_store::AuditStore::use_chain_key(&store, env.sealer()?.key.chain_key())
                .await?;
            let v = store.schema_version().await?;
            if applied.is_empty() {
                println!("The database is up to date (schema version {v}).");
            } else {
                println!("Migrated the database to schema version {v}.");
            }
        }
        Command::Demo => {
            let app = env.app().await?;
            let summary = custodian_io::demo::populate(&app, &ctx).await?;
            println!("{summary}");
            print_accounts(&custodian_io::demo::accounts(&app, &ctx).await?);
        }
        Command::Serve { bind, demo } => {
            let bind = bind
                .or_else(|| env.file.bind.clone())
                .unwrap_or_else(|| "127.0.0.1:8080".into());
            let addr: SocketAddr = bind.parse().map_err(|_| {
                anyhow::anyhow!(
                    "--bind must be an address and port such as 127.0.0.1:8080, not {bind:?}"
                )
            })?;
            let app = env.app().await?;
            let head = app.store().sealed_head().await?;
            if head.seal.is_none() && head.seq > 0 {
                bail!(
                    "the audit trail (up to event {}) was written before seals: check it with `custodian audit verify`, then seal it once with `custodian audit seal`",
                    head.seq
                );
            }
            if demo && app.store().count_assets().await? == 0 {
                let summary = custodian_io::demo::populate(&app, &ctx).await?;
                println!("{summary}");
                print_accounts(&custodian_io::demo::accounts(&app, &ctx).await?);
            }
            let first_run = app.bootstrap_link().await?;
            if !addr.ip().is_loopback() {
                tracing::warn!(
                    "serving on {addr}, beyond this machine: put a TLS-terminating proxy in front"
                );
            }
            let options = custodian_web::Options {
                sso: match env.file.sso(&app.settings().public_url)? {
                    Some(c) => {
                        let redirect = c.redirect_uri.clone();
                        let client = custodian_oidc::Client::new(c)?;
                        tracing::info!(
                            "single sign-on through {}; register {redirect} as its redirect URI",
                            client.config().issuer
                        );
                        Some(Arc::new(client))
                    }
                    None => None,
                },
                limits: env.file.limits()?,
            };
            custodian_web::serve(
                app,
                options,
                addr,
                |a| {
                    println!(
                        "Custodian is serving http://{a}/ (API at http://{a}/api/v1, database {})",
                        redact(&env.database)
                    );
                    if let Some(token) = &first_run {
                        print_first_run(&format!("http://{a}"), token);
                    }
                    let _ = std::io::stdout().flush();
                },
                shutdown(),
            )
            .await
            .with_context(|| format!("cannot serve on {addr}"))?;
        }
        Command::Import {
            file,
            format,
            match_key,
            dry_run,
        } => {
            let format =
                format.unwrap_or_else(|| match file.extension().and_then(|e| e.to_str()) {
                    Some("jsonl" | "ndjson") => Format::Jsonl,
                    _ => Format::Csv,
                });
            let f = std::fs::File::open(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let app = env.app().await?;
            let opts = ImportOptions {
                match_key: match_key.map(Into::into),
                dry_run,
            };
            let report = match format {
                Format::Csv => {
                    let defs = app.list_custom_fields(&ctx).await?;
                    app.import_assets(
                        &ctx,
                        custodian_io::read::csv_rows_with(
                            BufReader::with_capacity(1 << 20, f),
                            defs,
                        ),
                        opts,
                    )
                    .await?
                }
                Format::Jsonl => {
                    app.import_assets(
                        &ctx,
                        custodian_io::read::jsonl_rows(BufReader::with_capacity(1 << 20, f)),
                        opts,
                    )
                    .await?
                }
            };
            let mut err = std::io::stderr().lock();
            for e in &report.errors {
                let field = if e.field.is_empty() {
                    String::new()
                } else {
                    format!(", {}", e.field)
                };
                let _ = writeln!(err, "row {}{}: {}", e.row, field, e.message);
            }
            if report.errors_not_listed > 0 {
                let _ = writeln!(err, "… and {} more problems", report.errors_not_listed);
            }
            if report.failed() {
                let rows: std::collections::BTreeSet<u64> =
                    report.errors.iter().map(|e| e.row).collect();
                bail!(
                    "nothing was imported: {} of {} rows have problems (listed above)",
                    rows.len(),
                    report.rows
                );
            }
            if dry_run {
                for (row, number, fields) in report.changes.iter().take(50) {
                    println!("row {row}: {number} would change {}", fields.join(", "));
                }
                println!("Dry run: {} rows are valid; {} would be created, {} updated, {} unchanged. Nothing was stored.", report.rows, report.created, report.updated, report.unchanged);
            } else {
                println!(
                    "Imported {} rows: {} created, {} updated, {} unchanged.",
                    report.rows, report.created, report.updated, report.unchanged
                );
            }
        }
        Command::Export {
            format,
            kind,
            as_at,
            output,
        } => {
            let app = env.app().await?;
            let sel = custodian_io::export::Selection {
                kind: kind
                    .as_deref()
                    .and_then(custodian_domain::asset::AssetKind::parse),
                as_at,
            };
            let fmt = match format {
                Format::Csv => custodian_io::export::Format::Csv,
                Format::Jsonl => custodian_io::export::Format::Jsonl,
            };
            let n = match &output {
                Some(path) => {
                    let f = std::fs::File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    let mut w = std::io::BufWriter::new(f);
                    let n =
                        custodian_io::export::write_assets(&app, &ctx, fmt, sel, &mut w).await?;
                    w.flush()
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    n
                }
                None => {
                    let mut w = std::io::BufWriter::new(std::io::stdout());
                    let n =
                        custodian_io::export::write_assets(&app, &ctx, fmt, sel, &mut w).await?;
                    w.flush()?;
                    n
                }
            };
            eprintln!(
                "Exported {n} assets{}.",
                output
                    .map(|p| format!(" to {}", p.display()))
                    .unwrap_or_default()
            );
        }
        Command::User(UserCommand::Create {
            email,
            role,
            person_id,
        }) => {
            let app = env.app().await?;
            let password = custodian_app::accounts::random_text(18)?;
            let mut input = serde_json::json!({"email": email, "role": role});
            if let Some(p) = person_id {
                input["person_id"] = serde_json::json!(p);
            }
            let user = app
                .create_user_with_password(
                    &ctx,
                    input.as_object().cloned().unwrap_or_default(),
                    &password,
                )
                .await?;
            println!("Created the {} account {}.", user.role, user.email);
            println!("Its password, shown only now (change it after signing in): {password}");
        }
        Command::Token(TokenCommand::Create {
            user,
            scope,
            expires_in,
        }) => {
            let app = env.app().await?;
            let scope = custodian_domain::access::Scope::parse(&scope)
                .context("--scope must be read or write")?;
            let issued = app.create_token_for(&ctx, &user, scope, expires_in).await?;
            println!(
                "Created a {} token for {} that expires at {}; it is shown only once:",
                issued.token.scope,
                user,
                custodian_domain::value::format_timestamp(&issued.token.expires_at)
            );
            println!("{}", issued.secret);
        }
        Command::Key(KeyCommand::Rotate) => rotate_key(env).await?,
        Command::Audit(AuditCommand::Seal) => {
            let app = env.app_with(env.existing_key()?).await?;
            let head = app.seal_audit(&ctx).await?;
            println!(
                "Sealed the audit trail's head under key {}: event {}, hash {}. Keep this line outside the database.",
                head.seal.map(|s| s.key_id).unwrap_or_default(),
                head.seq,
                head.hash
            );
        }
        Command::Report {
            kind,
            format,
            document,
            as_at,
            output,
        } => {
            let app = env.app_with(env.existing_key()?).await?;
            let kind = custodian_domain::report::ReportKind::parse(&kind)
                .context("the report kind was checked by the argument parser")?;
            let format = match format {
                Some(f) => custodian_domain::report::ReportFormat::parse(&f)
                    .context("the format was checked by the argument parser")?,
                None => kind.default_format(),
            };
            if kind == custodian_domain::report::ReportKind::Policy {
                let document = custodian_domain::policy::PolicyDocument::parse(
                    document.as_deref().unwrap_or("asset_management"),
                )
                .context("the document was checked by the argument parser")?;
                let (v, r) = app.policy_report(&ctx, document, as_at, format).await?;
                match &output {
                    Some(path) => std::fs::write(path, &r.bytes)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                    None => std::io::stdout().write_all(&r.bytes)?,
                }
                eprintln!(
                    "Wrote the {} version {} ({}), SHA-256 {}.",
                    v.title, v.number, v.status, r.sha256
                );
                return Ok(std::process::ExitCode::SUCCESS);
            }
            if document.is_some() {
                anyhow::bail!(
                    "--document names the policy report's document; the {kind} report has none"
                );
            }
            if kind == custodian_domain::report::ReportKind::Evidence {
                if format != custodian_domain::report::ReportFormat::Zip {
                    anyhow::bail!("the evidence pack is a zip, not {format}");
                }
                let cut = app.open_evidence(&ctx, as_at).await?;
                let summary = match &output {
                    Some(path) => {
                        let mut f = std::fs::File::create(path)
                            .with_context(|| format!("cannot write {}", path.display()))?;
                        let s =
                            custodian_io::evidence::write_pack(&app, &ctx, &cut, &mut f).await?;
                        f.sync_all()
                            .with_context(|| format!("cannot write {}", path.display()))?;
                        s
                    }
                    None => {
                        // A zip is finished by seeking back: written aside, then copied out.
                        let mut f = tempfile::tempfile()?;
                        let s =
                            custodian_io::evidence::write_pack(&app, &ctx, &cut, &mut f).await?;
                        std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(0))?;
                        std::io::copy(&mut f, &mut std::io::stdout().lock())?;
                        s
                    }
                };
                eprintln!(
                    "Wrote the evidence pack as at {}: {} files, the audit trail to event {} ({}){}.",
                    custodian_domain::value::format_timestamp(&cut.as_at),
                    summary.files.len(),
                    cut.seq,
                    if summary.chain_verified { "verified" } else { "NOT verified: see manifest.json" },
                    output
                        .map(|p| format!(", to {}", p.display()))
                        .unwrap_or_default()
                );
                return Ok(std::process::ExitCode::SUCCESS);
            }
            let report = app
                .open_report(&ctx, kind, format, as_at, Default::default())
                .await?;
            let n = match &output {
                Some(path) => {
                    let f = std::fs::File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    let mut w = std::io::BufWriter::new(f);
                    let n = custodian_io::report::write_report(&app, &ctx, &report, &mut w).await?;
                    w.flush()
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    n
                }
                None => {
                    let mut w = std::io::BufWriter::new(std::io::stdout());
                    let n = custodian_io::report::write_report(&app, &ctx, &report, &mut w).await?;
                    w.flush()?;
                    n
                }
            };
            eprintln!(
                "Wrote the {} report: {n} rows{}{}.",
                kind.as_str(),
                as_at
                    .map(|t| format!(", as at {}", custodian_domain::value::format_timestamp(&t)))
                    .unwrap_or_default(),
                output
                    .map(|p| format!(", to {}", p.display()))
                    .unwrap_or_default()
            );
        }
        Command::Sample(SampleCommand::Assets {
            size,
            seed,
            as_at,
            kind,
            status,
            owner_id,
            classification,
            importance,
            tag,
            location_id,
            json,
        }) => {
            let app = env.app_with(env.existing_key()?).await?;
            // One reading of the request, the API's: every bad option is named.
            let mut body = serde_json::Map::new();
            body.insert("population".into(), "assets".into());
            body.insert("seed".into(), seed.into());
            body.insert(
                "size".into(),
                size.parse::<u64>()
                    .map_or_else(|_| serde_json::Value::from(size), serde_json::Value::from),
            );
            if let Some(t) = as_at {
                body.insert(
                    "as_at".into(),
                    custodian_domain::value::format_timestamp(&t).into(),
                );
            }
            for (k, v) in [
                ("kind", kind),
                ("status", status),
                ("owner_id", owner_id),
                ("classification", classification),
                ("importance", importance),
                ("tag", tag),
                ("location_id", location_id),
            ] {
                if let Some(v) = v {
                    body.insert(k.into(), v.into());
                }
            }
            let request =
                custodian_app::samples::SampleRequest::from_input(&body).map_err(|p| {
                    let first =
                        p.0.first()
                            .map(|e| format!("--{} {}", e.field.replace('_', "-"), e.message));
                    anyhow::anyhow!(first.unwrap_or_else(|| "the sample is not valid".into()))
                })?;
            let sample = app.draw_sample(&ctx, request).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&sample.to_json())?);
            } else {
                for v in &sample.items {
                    println!("{}\t{}\t{}", v.asset.asset_number, v.asset.id, v.asset.name);
                }
            }
            eprintln!(
                "Sample {}: {} of {} assets, seed {:?}; {}. Recorded in the audit trail.",
                sample.id,
                sample.items.len(),
                sample.population_size,
                sample.request.seed,
                custodian_domain::sample::ALGORITHM
            );
        }
        Command::Compliance(ComplianceCommand::Run) => {
            let app = env.app_with(env.existing_key()?).await?;
            let r = app.run_compliance(&ctx).await?;
            println!("Compliance: {}.", r.describe());
        }
        Command::Audit(AuditCommand::Verify { register }) => {
            let app = env.app_with(env.existing_key()?).await?;
            match app.verify_audit(&ctx).await? {
                custodian_app::audit::Verification::Intact {
                    events,
                    head_seq,
                    head_hash,
                    key_id,
                } => {
                    println!("The audit trail is intact: {events} events and their seals checked under key {key_id}.");
                    println!("Head: event {head_seq}, hash {head_hash}. Keep this line outside the database: a later check must reach this head or go past it.");
                }
                custodian_app::audit::Verification::Broken(b) => {
                    eprintln!(
                        "error: the audit trail is broken at event {}: {}",
                        b.seq, b.reason
                    );
                    return Ok(std::process::ExitCode::from(1));
                }
            }
            if register {
                match app.verify_register(&ctx).await? {
                    custodian_app::audit::RegisterCheck::Matches { assets, events } => println!(
                        "The register is what its audit trail tells: {assets} assets rebuilt from {events} events."
                    ),
                    custodian_app::audit::RegisterCheck::Differs(d) => {
                        let name = match &d.asset_number {
                            Some(n) => format!("{n} ({})", d.asset_id),
                            None => d.asset_id.clone(),
                        };
                        eprintln!("error: the register differs from its audit trail at asset {name}: {}", d.reason);
                        return Ok(std::process::ExitCode::from(1));
                    }
                }
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("custodian.db"), "custodian.db");
    }

    #[test]
    fn a_published_key_is_refused_with_the_way_out() {
        let m = published_key_message(&KeySource::File(PathBuf::from("data/custodian.key")));
        assert!(m.contains("1b3eac27") && m.contains("published"), "{m}");
        assert!(m.contains("delete data/custodian.key"), "{m}");
        assert!(m.contains("custodian key rotate"), "{m}");
        let m = published_key_message(&KeySource::Env(PathBuf::from(".")));
        assert!(m.contains("unset CUSTODIAN_SECRET_KEY"), "{m}");
        assert!(custodian_app::secrets::is_published_id(PUBLISHED));
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

//! `verity import sydent`: reads `sydent.conf` (server name, signing key), optionally writes the
//! equivalent Verity YAML, opens Verity's store and key store from the Verity configuration and
//! imports Sydent's database into them through [`ImportService`].
//!
//! Run it with Verity stopped: the hashed-lookup table is built from the bindings when Verity
//! starts, so imported bindings are found by v2 lookups from the next start.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_sql::SydentSource;
use verity_application::ports::driven::Clock as _;
use verity_application::usecases::{DEFAULT_PAGE_SIZE, ImportOptions, ImportReport, ImportService};

use super::report::print_progress;
pub use super::report::summary;
use super::sydent_conf::{SydentConf, YamlExtras, verity_yaml_with};
use crate::settings::{Settings, StorageSettings};
use crate::system::SystemClock;

/// What `verity import sydent` was asked.
#[derive(Debug, Clone)]
pub struct SydentImport {
    /// Sydent's database file (`[db] db.file`).
    pub db: PathBuf,
    /// Sydent's configuration (`sydent.conf`).
    pub sydent_conf: PathBuf,
    /// Verity's configuration; `None`: `write_config` when given, else the server's default.
    pub verity_config: Option<PathBuf>,
    /// Compute and report; write nothing to Verity's store or key store.
    pub dry_run: bool,
    /// Where to write the Verity YAML equivalent to `sydent.conf`.
    pub write_config: Option<PathBuf>,
    /// Rows per page (and per transaction).
    pub page_size: u32,
}

impl SydentImport {
    /// The defaults for everything but the paths.
    pub fn new(db: PathBuf, sydent_conf: PathBuf) -> Self {
        Self {
            db,
            sydent_conf,
            verity_config: None,
            dry_run: false,
            write_config: None,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// `verity import <server>`.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Import a Sydent deployment: its signing key (with its key id), bindings with their
    /// signed associations, accounts and accepted terms. Run it with Verity stopped; running it
    /// again changes nothing.
    Sydent(SydentArgs),
    /// Import an ma1sd (or mxisd) deployment: its accounts, accepted terms and pending 3PID
    /// invites (ma1sd kept no bindings; its key directory is read as is). Run it with Verity
    /// stopped; running it again changes nothing.
    Ma1sd(super::ma1sd_cli::Ma1sdArgs),
}

/// The arguments of `verity import sydent`.
#[derive(Debug, clap::Args)]
pub struct SydentArgs {
    /// Sydent's database file (`[db] db.file` of sydent.conf).
    #[arg(long, value_name = "SYDENT_DB")]
    pub db: PathBuf,
    /// Sydent's configuration file (sydent.conf): its server name and signing key.
    #[arg(long = "config", value_name = "SYDENT_CONF")]
    pub sydent_conf: PathBuf,
    /// Verity's configuration (default: --write-config's file when given, else as the server).
    #[arg(short = 'c', long = "verity-config", value_name = "FILE")]
    pub verity_config: Option<PathBuf>,
    /// Report what would be imported; write nothing to Verity's store or key store.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the Verity YAML equivalent to sydent.conf there, for review (never overwrites a
    /// different file).
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// Rows per page (and per transaction).
    #[arg(long, default_value_t = DEFAULT_PAGE_SIZE, value_name = "ROWS")]
    pub page_size: u32,
}

impl SydentArgs {
    /// The import they ask for; `config` is the top-level `-c`, used when none is given here.
    pub fn into_import(self, config: Option<PathBuf>) -> SydentImport {
        SydentImport {
            db: self.db,
            sydent_conf: self.sydent_conf,
            verity_config: self.verity_config.or(config),
            dry_run: self.dry_run,
            write_config: self.write_config,
            page_size: self.page_size,
        }
    }
}

/// Runs `command` to the end: the summary on stdout, progress and errors on stderr; 0 when it
/// ran, 1 when it could not.
pub fn run(command: ImportCommand, config: Option<PathBuf>) -> std::process::ExitCode {
    let args = match command {
        ImportCommand::Sydent(args) => args,
        ImportCommand::Ma1sd(args) => return super::ma1sd_cli::run(args, config),
    };
    let import = args.into_import(config);
    let result = tokio::runtime::Runtime::new()
        .context("cannot start the runtime")
        .and_then(|runtime| runtime.block_on(import_sydent(&import)));
    match result {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            match out
                .write_all(summary(&report).as_bytes())
                .and_then(|()| out.flush())
            {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(_) => std::process::ExitCode::FAILURE,
            }
        }
        Err(error) => {
            eprintln!("verity import sydent: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the import, printing progress and warnings to stderr; returns the report.
///
/// # Errors
/// When the import could not run: a file that cannot be read, a database that is not Sydent's,
/// Verity's store or key store that cannot be opened, a different key under Sydent's key id, or
/// a page that failed (pages before it stay written; running again resumes).
pub async fn import_sydent(args: &SydentImport) -> anyhow::Result<ImportReport> {
    let conf = SydentConf::load(&args.sydent_conf)?;
    for warning in &conf.warnings {
        eprintln!("warning: {warning}");
    }
    let server_name = conf.general.server_name.clone().context(
        "sydent.conf: [general] server.name is not set: set it to the name Sydent ran as \
         (SYDENT_SERVER_NAME, else its host name)",
    )?;
    if let Some(path) = &args.write_config {
        write_config(&conf, &args.sydent_conf, path)?;
    }
    let config_path = crate::config::locate(
        args.verity_config
            .clone()
            .or_else(|| args.write_config.clone()),
    );
    let loaded = crate::config::load(&config_path)
        .with_context(|| format!("Verity's configuration {}", config_path.display()))?;
    for warning in &loaded.warnings {
        eprintln!("warning: {}: {warning}", config_path.display());
    }
    let settings = loaded.settings;
    let source = SydentSource::open(&args.db, &server_name)
        .await
        .with_context(|| format!("Sydent's database {}", args.db.display()))?;
    // A dry run creates nothing: a store or key directory that does not exist yet is stood in
    // for by an empty one in memory (everything is then to add).
    let fresh_sqlite =
        matches!(&settings.storage, StorageSettings::Sqlite { database } if !database.exists());
    let store = if args.dry_run && fresh_sqlite {
        verity_adapter_sql::connect("sqlite::memory:", 1)
            .await
            .context("cannot open an in-memory store for the dry run")?
    } else {
        crate::startup::open_store(&settings.storage).await?
    };
    let key_path = if args.dry_run && !settings.key.path.exists() {
        PathBuf::from(verity_adapter_keys::IN_MEMORY)
    } else {
        settings.key.path.clone()
    };
    let keys = verity_adapter_keys::open(&key_path).with_context(|| {
        format!(
            "cannot open the key store at {} (key.path)",
            settings.key.path.display()
        )
    })?;
    let service = ImportService::new(
        Arc::new(source.clone()),
        Arc::new(
            store
                .import_sink(SystemClock.now())
                .with_invite_expiry(settings.invites.expiry),
        ),
        keys,
    );
    eprintln!(
        "importing {} into {}{}",
        args.db.display(),
        describe(&settings),
        if args.dry_run {
            " (dry run: nothing is written)"
        } else {
            ""
        }
    );
    let report = service
        .run(ImportOptions {
            dry_run: args.dry_run,
            page_size: args.page_size,
            signing_key: Some(conf.signing_key.clone()),
            progress: Some(Box::new(print_progress)),
        })
        .await;
    source.close().await;
    let closed = store.close().await;
    let report = report?;
    closed?;
    Ok(report)
}

/// Where the store is, without a password.
fn describe(settings: &Settings) -> String {
    match &settings.storage {
        StorageSettings::Sqlite { database, .. } => {
            format!("Verity's SQLite store {}", database.display())
        }
        StorageSettings::Postgresql { .. } => "Verity's PostgreSQL store".to_owned(),
    }
}

/// Writes the Verity YAML equivalent to `conf` at `path` (mode 0600: it may hold the SMTP
/// password), with Sydent's templates converted beside it (`sydent-templates/`). An existing file is only left as it is when it holds exactly that text: a file the
/// operator edited since is never overwritten.
fn write_config(conf: &SydentConf, sydent_conf: &Path, path: &Path) -> anyhow::Result<()> {
    let (extras, warnings) = YamlExtras::gather(conf, sydent_conf, path);
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let yaml = verity_yaml_with(conf, &extras);
    match std::fs::read_to_string(path) {
        Ok(existing) if existing == yaml => {
            eprintln!("{}: already written, unchanged", path.display());
            return Ok(());
        }
        Ok(_) => anyhow::bail!(
            "{} exists and differs from the configuration made from sydent.conf: not \
             overwritten (remove it, or pass it as -c)",
            path.display()
        ),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(yaml.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "{}: written from sydent.conf; review it before starting Verity",
        path.display()
    );
    Ok(())
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;

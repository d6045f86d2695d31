//! `verity import ma1sd --config ma1sd.yaml`: imports ma1sd's accounts (identity-server access
//! tokens), accepted terms and pending 3PID invites (with their ephemeral public keys) from the
//! database its `storage.*` names, into Verity's store (`-c`, else the ma1sd file itself: Verity
//! starts on an unchanged `ma1sd.yaml` and may share its database, its tables being `verity_…`).
//!
//! Nothing is done with the signing key: Verity reads ma1sd's key directory (`key.path`) as is.
//! The import checks it and says so: the key that signs there, and whether Verity's `key.path` is
//! the same directory. ma1sd kept no bindings of its own (its lookups came from its backends, as
//! Verity's do from `synapseSql` and the others): there are none to import.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_sql::Ma1sdSource;
use verity_application::ports::driven::Clock as _;
use verity_application::usecases::{DEFAULT_PAGE_SIZE, ImportOptions, ImportReport, ImportService};

use crate::settings::{Settings, StorageSettings};
use crate::system::SystemClock;

/// The arguments of `verity import ma1sd`.
#[derive(Debug, clap::Args)]
pub struct Ma1sdArgs {
    /// ma1sd's configuration (ma1sd.yaml): its `storage.*` and `key.path`.
    #[arg(long = "config", value_name = "MA1SD_YAML")]
    pub ma1sd_config: PathBuf,
    /// Verity's configuration (default: the ma1sd file, which Verity starts on unchanged).
    #[arg(short = 'c', long = "verity-config", value_name = "FILE")]
    pub verity_config: Option<PathBuf>,
    /// Report what would be imported; write nothing to Verity's store.
    #[arg(long)]
    pub dry_run: bool,
    /// Rows per page (and per transaction).
    #[arg(long, default_value_t = DEFAULT_PAGE_SIZE, value_name = "ROWS")]
    pub page_size: u32,
}

/// What the key check found, for the summary's first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCheck(pub String);

fn load(path: &Path, whose: &str) -> anyhow::Result<Settings> {
    let loaded = crate::config::load(path)
        .with_context(|| format!("{whose} configuration {}", path.display()))?;
    for warning in &loaded.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    Ok(loaded.settings)
}

/// ma1sd's database as the source reads it.
fn source_url(storage: &StorageSettings) -> String {
    match storage {
        StorageSettings::Sqlite { database } => format!("sqlite:{}", database.display()),
        StorageSettings::Postgresql { url, .. } => url.expose().to_owned(),
    }
}

/// ma1sd's key directory, read as is: the key that signs there, and whether Verity reads it.
async fn check_keys(ma1sd: &Settings, verity: &Settings) -> anyhow::Result<KeyCheck> {
    let dir = &ma1sd.key.path;
    if !dir.exists() {
        anyhow::bail!(
            "ma1sd's key directory {} (key.path) does not exist: Verity reads ma1sd's signing \
             key from there as is; restore it from ma1sd's backup",
            dir.display()
        );
    }
    let keys = verity_adapter_keys::open(dir)
        .with_context(|| format!("cannot read ma1sd's key directory {}", dir.display()))?;
    let current = keys
        .current()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot read ma1sd's key directory {}", dir.display()))?;
    let Some(id) = current else {
        anyhow::bail!(
            "ma1sd's key directory {} (key.path) holds no signing key",
            dir.display()
        );
    };
    let same = verity.key.path == *dir
        || (std::fs::canonicalize(&verity.key.path).ok())
            .is_some_and(|v| std::fs::canonicalize(dir).is_ok_and(|m| m == v));
    Ok(KeyCheck(if same {
        format!(
            "signing key: nothing to import, Verity reads ma1sd's key directory {} as is ({id} signs)",
            dir.display()
        )
    } else {
        eprintln!(
            "warning: Verity's key.path ({}) is not ma1sd's ({}): set key.path to ma1sd's \
             directory to keep signing with {id}",
            verity.key.path.display(),
            dir.display()
        );
        format!(
            "signing key: nothing to import, ma1sd's key directory {} ({id} signs) is NOT \
             Verity's key.path {}",
            dir.display(),
            verity.key.path.display()
        )
    }))
}

/// Runs `verity import ma1sd` to the end: the summary on stdout, progress and errors on stderr;
/// 0 when it ran, 1 when it could not. `config` is the top-level `-c`.
pub fn run(args: Ma1sdArgs, config: Option<PathBuf>) -> std::process::ExitCode {
    let verity_config = args.verity_config.clone().or(config);
    let result = tokio::runtime::Runtime::new()
        .context("cannot start the runtime")
        .and_then(|runtime| runtime.block_on(import_ma1sd(&args, verity_config.as_deref())));
    match result {
        Ok((check, report)) => {
            let mut out = std::io::stdout().lock();
            match out
                .write_all(summary(&check, &report).as_bytes())
                .and_then(|()| out.flush())
            {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(_) => std::process::ExitCode::FAILURE,
            }
        }
        Err(error) => {
            eprintln!("verity import ma1sd: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The shared summary with its key line replaced by what the key check found.
pub fn summary(check: &KeyCheck, report: &ImportReport) -> String {
    let shared = super::report::summary(report);
    let rest = shared.split_once('\n').map_or("", |(_, rest)| rest);
    format!("{}\n{rest}", check.0)
}

/// Runs the import, printing progress and warnings to stderr.
///
/// # Errors
/// When the import could not run: a configuration that cannot be read, ma1sd's key directory
/// missing or empty, a database that is not ma1sd's, Verity's store that cannot be opened, or
/// a page that failed (pages before it stay written; running again resumes).
pub async fn import_ma1sd(
    args: &Ma1sdArgs,
    verity_config: Option<&Path>,
) -> anyhow::Result<(KeyCheck, ImportReport)> {
    let ma1sd = load(&args.ma1sd_config, "ma1sd's")?;
    let verity = match verity_config {
        Some(path) => load(path, "Verity's")?,
        None => ma1sd.clone(),
    };
    let check = check_keys(&ma1sd, &verity).await?;
    let fresh_sqlite =
        matches!(&verity.storage, StorageSettings::Sqlite { database } if !database.exists());
    let store = if args.dry_run && fresh_sqlite {
        verity_adapter_sql::connect("sqlite::memory:", 1)
            .await
            .context("cannot open an in-memory store for the dry run")?
    } else {
        crate::startup::open_store(&verity.storage).await?
    };
    // The store first: on a database shared with ma1sd, Verity's schema (and SQLite's WAL
    // mode) is in place before ma1sd's tables are read.
    let now = SystemClock.now();
    let source = Ma1sdSource::open(&source_url(&ma1sd.storage), now)
        .await
        .context("ma1sd's database (storage.* of its configuration)")?;
    // ma1sd's key is not imported (read as is): the service gets a store it leaves alone.
    let keys = verity_adapter_keys::open(Path::new(verity_adapter_keys::IN_MEMORY))
        .context("cannot open an in-memory key store")?;
    let service = ImportService::new(
        Arc::new(source.clone()),
        Arc::new(
            store
                .import_sink(now)
                .with_invite_expiry(verity.invites.expiry),
        ),
        keys,
    );
    eprintln!(
        "importing ma1sd's {} into {}{}",
        describe(&ma1sd.storage),
        describe(&verity.storage),
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
            signing_key: None,
            progress: Some(Box::new(super::report::print_progress)),
        })
        .await;
    source.close().await;
    let closed = store.close().await;
    let report = report?;
    closed?;
    Ok((check, report))
}

/// Where a database is, without a password.
fn describe(storage: &StorageSettings) -> String {
    match storage {
        StorageSettings::Sqlite { database } => format!("SQLite database {}", database.display()),
        StorageSettings::Postgresql { .. } => "PostgreSQL database".to_owned(),
    }
}

#[cfg(test)]
#[path = "ma1sd_cli_tests.rs"]
mod tests;

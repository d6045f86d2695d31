//! `verity`: run the identity server, or check/print its configuration.
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use verity::reload::Reloader;
use verity::{Application, config, telemetry};

/// mimalloc instead of the system's malloc: a hashed lookup of 100 addresses allocates a few
/// hundred small blocks (the addresses, the answer), and glibc's malloc and free took a sixth of
/// its server time; mimalloc's thread-local free lists take a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A Matrix identity server that puts the operator in control of where 3PIDs are validated and
/// published.
#[derive(Debug, Parser)]
#[command(name = "verity", version, about)]
struct Cli {
    /// The configuration file (default: verity.yaml, else ma1sd.yaml, else mxisd.yaml in the
    /// working directory).
    #[arg(short, long, value_name = "FILE", env = "VERITY_CONFIG")]
    config: Option<PathBuf>,

    /// Load and validate the configuration, print its warnings and notices, and exit (0 when
    /// valid).
    #[arg(long, conflicts_with_all = ["dump_config", "dump"])]
    check_config: bool,

    /// Print the effective configuration (defaults filled in, secrets masked) and exit.
    /// `--dump-and-exit` is ma1sd's name for it.
    #[arg(long, visible_alias = "dump-and-exit", conflicts_with = "dump")]
    dump_config: bool,

    /// Print the effective configuration, as --dump-config does, then start (ma1sd's --dump).
    #[arg(long)]
    dump: bool,

    /// More detail in Verity's own logs: -v for debug, -vv for trace (as ma1sd). Stronger than
    /// MA1SD_LOG_LEVEL, MXISD_LOG_LEVEL and logging.app; RUST_LOG is stronger still.
    #[arg(short, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Import another identity server's deployment into Verity's store and key store.
    #[command(subcommand)]
    Import(verity::import::cli::ImportCommand),
    /// Operator's commands on the store and key directory: bindings, invites, the lookup
    /// pepper, signing keys (docs/admin.md).
    Admin(verity::admin::AdminArgs),
}

/// Exit code for configuration errors, as mxisd/ma1sd use.
const CONFIG_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Import(command)) => return verity::import::cli::run(command, cli.config),
        Some(Command::Admin(args)) => return verity::admin::run(args, cli.config),
        None => {}
    }
    let path = config::locate(cli.config);
    let mut loaded = match config::load(&path) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("verity: configuration {}: {error}", path.display());
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    let env = |name: &str| std::env::var(name).ok();
    let level = config::log_level_override(
        cli.verbose,
        env("MA1SD_LOG_LEVEL").as_deref(),
        env("MXISD_LOG_LEVEL").as_deref(),
    );
    let level = match level {
        Ok(level) => level,
        Err(error) => {
            eprintln!("verity: {error}");
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    if let Some(level) = &level {
        loaded.settings.logging = loaded.settings.logging.with_app_level(&level.level);
    }
    if cli.check_config || cli.dump_config {
        for warning in &loaded.warnings {
            eprintln!("warning: {warning}");
        }
        for notice in &loaded.notices {
            eprintln!("note: {notice}");
        }
        if cli.dump_config {
            return print_dump(&loaded.settings);
        }
        eprintln!("{}: configuration is valid", path.display());
        return ExitCode::SUCCESS;
    }
    if cli.dump && print_dump(&loaded.settings) != ExitCode::SUCCESS {
        return ExitCode::FAILURE;
    }
    let log_filter = match telemetry::init(&loaded.settings.logging) {
        Ok(filter) => filter,
        Err(error) => {
            eprintln!("verity: {error:#}");
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    if let Some(level) = &level {
        tracing::info!(level = %level.level, "Verity's log level set by {}", level.source);
    }
    for warning in &loaded.warnings {
        tracing::warn!(config = %path.display(), "{warning}");
    }
    for notice in &loaded.notices {
        tracing::warn!(config = %path.display(), key = notice.key(), "{notice}");
    }
    let reload = Reload {
        path,
        level: level.map(|level| level.level),
        log: log_filter,
    };
    match run(loaded.settings, reload) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("verity failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the effective configuration to stdout.
fn print_dump(settings: &verity::settings::Settings) -> ExitCode {
    let yaml = config::effective_yaml(settings);
    let mut out = std::io::stdout().lock();
    if out
        .write_all(yaml.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// What a configuration reload (SIGHUP) needs besides the server: the file, the level the
/// command line or the environment set, and the installed log filter.
struct Reload {
    path: PathBuf,
    level: Option<String>,
    log: telemetry::LogFilter,
}

fn run(settings: verity::settings::Settings, reload: Reload) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = Application::build(&settings).await?;
        let reloader = Reloader::new(
            reload.path,
            reload.level,
            Some(reload.log),
            app.reload_points(),
            settings,
        );
        // Ends with the process: a reload in progress when the server stops is simply dropped.
        #[cfg(unix)]
        tokio::spawn(reloader.run_on_sighup());
        #[cfg(not(unix))]
        drop(reloader);
        app.run_until_stopped(shutdown_signal()).await
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what systemd and container runtimes send).
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

//! `verity`: run the identity server, or check/print its configuration.
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use verity::{Application, config, telemetry};

/// A Matrix identity server that puts the operator in control of where 3PIDs are validated and
/// published.
#[derive(Debug, Parser)]
#[command(name = "verity", version, about)]
struct Cli {
    /// The configuration file (default: verity.yaml, else ma1sd.yaml, else mxisd.yaml in the
    /// working directory).
    #[arg(short, long, value_name = "FILE", env = "VERITY_CONFIG")]
    config: Option<PathBuf>,

    /// Load and validate the configuration, print its warnings, and exit (0 when valid).
    #[arg(long, conflicts_with = "dump_config")]
    check_config: bool,

    /// Print the effective configuration (defaults filled in, secrets masked) and exit.
    #[arg(long)]
    dump_config: bool,
}

/// Exit code for configuration errors, as mxisd/ma1sd use.
const CONFIG_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let path = config::locate(cli.config);
    let loaded = match config::load(&path) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("verity: configuration {}: {error}", path.display());
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    if cli.check_config || cli.dump_config {
        for warning in &loaded.warnings {
            eprintln!("warning: {warning}");
        }
        if cli.dump_config {
            let yaml = config::effective_yaml(&loaded.settings);
            if std::io::stdout().lock().write_all(yaml.as_bytes()).is_err() {
                return ExitCode::FAILURE;
            }
        } else {
            eprintln!("{}: configuration is valid", path.display());
        }
        return ExitCode::SUCCESS;
    }
    if let Err(error) = telemetry::init(&loaded.settings.logging) {
        eprintln!("verity: {error:#}");
        return ExitCode::from(CONFIG_ERROR);
    }
    for warning in &loaded.warnings {
        tracing::warn!(config = %path.display(), "{warning}");
    }
    match run(loaded.settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("verity failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(settings: verity::settings::Settings) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = Application::build(&settings).await?;
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

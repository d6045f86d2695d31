//! The programs' health for `/status`: a backend the others stand in for, so its failure is
//! reported without making the server unhealthy.
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use verity_application::ports::driven::{HealthCheck, StoreError};

use crate::ExecBackend;
use crate::backend::{ALL, BULK, SINGLE};

#[async_trait]
impl HealthCheck for ExecBackend {
    fn name(&self) -> &'static str {
        "exec"
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.health()
            .map_err(|message| StoreError::Unavailable(message.into()))
    }

    fn required(&self) -> bool {
        false
    }
}

impl ExecBackend {
    /// Whether the programs can be run: each configured command is an executable file (or one
    /// found on `PATH`), one of `single` and `bulk` is configured, and the last run did not
    /// fail; for `/status`.
    ///
    /// # Errors
    /// A message naming the key of the command at fault.
    pub fn health(&self) -> Result<(), String> {
        let config = self.config();
        let mut processes = Vec::new();
        for (key, process) in [(SINGLE, &config.single), (BULK, &config.bulk)] {
            if process.command.is_some() {
                processes.push((key, process));
            }
        }
        if processes.is_empty() {
            return Err(format!(
                "{SINGLE}.command is not set (nor {BULK}.command): the exec store finds nobody"
            ));
        }
        if config.hash_lookup && config.all.command.is_some() {
            processes.push((ALL, &config.all));
        }
        for (key, process) in processes {
            if let Some(command) = &process.command {
                runnable(command).map_err(|why| format!("{key}.command: {why}"))?;
            }
        }
        match self.last_error() {
            Some(error) => Err(format!("the last run failed: {error}")),
            None => Ok(()),
        }
    }
}

/// Whether `command` names an executable file: as a path when it holds a `/`, else looked up on
/// `PATH` as the system will when it runs it.
pub(crate) fn runnable(command: &str) -> Result<(), String> {
    if command.contains('/') {
        return executable(Path::new(command));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join(command))
        .any(|candidate: PathBuf| executable(&candidate).is_ok());
    if found {
        Ok(())
    } else {
        Err(format!("{command:?} is not found on PATH"))
    }
}

fn executable(path: &Path) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !metadata.is_file() {
        return Err(format!("{} is not a file", path.display()));
    }
    if metadata.permissions().mode() & 0o111 == 0 {
        return Err(format!("{} is not executable", path.display()));
    }
    Ok(())
}

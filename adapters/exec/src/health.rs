//! The programs' health for `/status`: a backend the others stand in for, so its failure is
//! reported without making the server unhealthy.
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use verity_application::ports::driven::{HealthCheck, StoreError};

use crate::ExecBackend;

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

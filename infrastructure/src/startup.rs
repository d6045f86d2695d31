//! Building the server from its settings, and running it until it is told to stop.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use verity_adapter_http::{AppEndpoint, BoundServer, HttpConfig, HttpDeps};
use verity_adapter_sql::SqlStore;
use verity_application::ports::driven::HealthCheck;
use verity_application::usecases::StatusService;

use crate::settings::{Settings, StorageSettings};

/// A built server: store open and migrated, listener bound, not yet serving.
pub struct Application {
    server: BoundServer,
    app: AppEndpoint,
    store: SqlStore,
}

impl Application {
    /// Opens the store (running migrations), wires every use case and binds the listener.
    ///
    /// # Errors
    /// Any start-up step that fails, with context naming the step.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let store = open_store(&settings.storage).await?;
        let health: Arc<dyn HealthCheck> = Arc::new(store.health_check());
        let deps = HttpDeps {
            status: Arc::new(StatusService::new(vec![health])),
        };
        let config = HttpConfig {
            max_body_bytes: settings.server.max_body_bytes,
            v1: settings.matrix.v1,
            v2: settings.matrix.v2,
        };
        let app = verity_adapter_http::app(&deps, config);
        let server = BoundServer::bind(&settings.server.hostname, settings.server.port)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}:{} (server.hostname, server.port)",
                    settings.server.hostname, settings.server.port
                )
            })?;
        Ok(Self { server, app, store })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Serves until `shutdown` completes, lets in-flight requests finish, then closes the store.
    ///
    /// # Errors
    /// A fatal listener error.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(address = %self.server.local_addr(), "verity is listening");
        let served = self
            .server
            .serve(self.app, shutdown)
            .await
            .context("the HTTP server failed");
        if let Err(error) = self.store.close().await {
            tracing::warn!(error = %error, "closing the store failed");
        }
        tracing::info!("verity stopped");
        served
    }
}

async fn open_store(storage: &StorageSettings) -> anyhow::Result<SqlStore> {
    let max_connections = match storage {
        StorageSettings::Sqlite { database } => {
            if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!(
                        "cannot create the directory of storage.provider.sqlite.database ({})",
                        dir.display()
                    )
                })?;
            }
            // SQLite allows one writer at a time; a few connections serve concurrent readers.
            4
        }
        StorageSettings::Postgresql {
            max_connections, ..
        } => *max_connections,
    };
    let backend = match storage {
        StorageSettings::Sqlite { .. } => "sqlite",
        StorageSettings::Postgresql { .. } => "postgresql",
    };
    verity_adapter_sql::connect(&storage.url(), max_connections)
        .await
        .with_context(|| format!("cannot open the {backend} store (storage.*)"))
}

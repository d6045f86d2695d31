//! `storage.*`: Verity's own database, and the PostgreSQL URL built from ma1sd's keys.
use std::path::PathBuf;

use url::Url;

use super::error::ConfigError;
use super::lenient::{Int, percent_decode, text};
use super::raw::{RawPostgresql, RawStorage};
use crate::settings::{Secret, StorageSettings};

/// mxisd required `storage.provider.sqlite.database`; Verity defaults to a file in the working
/// directory so a minimal file starts.
pub const DEFAULT_SQLITE_DATABASE: &str = "verity.db";
const DEFAULT_MAX_CONNECTIONS: u32 = 10;
const DATABASE_KEY: &str = "storage.provider.postgresql.database";
const DATABASE_FORMS: &str = "expected '//host[:port]/database' (as in ma1sd) or a postgres:// URL";

pub fn resolve(raw: RawStorage) -> Result<StorageSettings, ConfigError> {
    let backend = text(raw.backend).map_or_else(|| "sqlite".to_owned(), |b| b.to_ascii_lowercase());
    match backend.as_str() {
        "sqlite" => Ok(StorageSettings::Sqlite {
            database: PathBuf::from(
                text(raw.provider.sqlite.database)
                    .unwrap_or_else(|| DEFAULT_SQLITE_DATABASE.to_owned()),
            ),
        }),
        "postgresql" => postgresql(raw.provider.postgresql),
        other => Err(ConfigError::invalid(
            "storage.backend",
            format!("unknown backend `{other}`; expected `sqlite` or `postgresql`"),
        )),
    }
}

fn postgresql(raw: RawPostgresql) -> Result<StorageSettings, ConfigError> {
    let max_connections = raw
        .max_connections
        .map_or(DEFAULT_MAX_CONNECTIONS, |Int(n)| n);
    if max_connections == 0 {
        return Err(ConfigError::invalid(
            "storage.provider.postgresql.maxConnections",
            "must be at least 1",
        ));
    }
    let database = text(raw.database).ok_or_else(|| {
        ConfigError::missing(
            DATABASE_KEY,
            format!("storage.backend is postgresql; {DATABASE_FORMS}, e.g. '//localhost/ma1sd'"),
        )
    })?;
    let mut url = parse_database(&database)?;
    // ma1sd passed the JDBC URL through, so `?user=...&password=...` worked there; move them into
    // the URL's user part so there is a single place to find (and mask) the credentials.
    let mut user = percent_decode(url.username());
    let mut password = url.password().map(percent_decode);
    let mut rest = Vec::new();
    for (name, value) in url.query_pairs() {
        match name.as_ref() {
            "user" => user = value.into_owned(),
            "password" => password = Some(value.into_owned()),
            _ => rest.push((name.into_owned(), value.into_owned())),
        }
    }
    if let Some(username) = text(raw.username) {
        user = username;
    }
    // Not `text()`: a password is taken exactly as written, spaces included.
    if let Some(given) = raw.password.map(|t| t.0).filter(|p| !p.is_empty()) {
        password = Some(given);
    }
    if rest.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(rest);
    }
    let credentials = url
        .set_username(&user)
        .and_then(|()| url.set_password(password.as_deref()));
    if credentials.is_err() {
        return Err(ConfigError::invalid(DATABASE_KEY, DATABASE_FORMS));
    }
    Ok(StorageSettings::Postgresql {
        url: Secret::new(url.to_string()),
        max_connections,
    })
}

/// `//host[:port]/db[?params]` (ma1sd, optionally with its `jdbc:postgresql:` prefix) or a full
/// `postgres://` / `postgresql://` URL.
fn parse_database(database: &str) -> Result<Url, ConfigError> {
    let bare = database
        .strip_prefix("jdbc:postgresql:")
        .or_else(|| database.strip_prefix("jdbc:"))
        .unwrap_or(database);
    let full = if bare.starts_with("//") {
        format!("postgres:{bare}")
    } else if bare.starts_with("postgres://") || bare.starts_with("postgresql://") {
        bare.to_owned()
    } else {
        return Err(ConfigError::invalid(
            DATABASE_KEY,
            format!("{database:?}: {DATABASE_FORMS}"),
        ));
    };
    let url = Url::parse(&full).map_err(|e| {
        ConfigError::invalid(
            DATABASE_KEY,
            format!("{database:?} is not a valid URL: {e}"),
        )
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError::invalid(
            DATABASE_KEY,
            format!("{database:?} names no host; {DATABASE_FORMS}"),
        ));
    }
    if url.path().trim_matches('/').is_empty() {
        return Err(ConfigError::invalid(
            DATABASE_KEY,
            format!("{database:?} names no database; {DATABASE_FORMS}"),
        ));
    }
    Ok(url)
}

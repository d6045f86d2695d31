//! `sql.*` (mxisd/ma1sd's generic SQL identity store) -> [`SqlStoreSettings`], and its rendering
//! for `--dump-config`. The operator's own database (SQLite, PostgreSQL, MariaDB or MySQL) read
//! through the operator's own queries; the keys are `synapseSql`'s, whose helpers this reuses,
//! plus the database types mxisd allowed here. See docs/backends.md.
use serde::{Deserialize, Serialize};
use verity_adapter_sql::{FeedQuery, QueryBackendConfig, SqlDatabase};
use verity_domain::MatrixDomain;

use super::error::ConfigError;
use super::lenient::{DurationOrZero, Flag, Int, Text, format_duration, text};
use super::synapse::{
    self, POSTGRES, RawSynapseIdentity, ServerForms, SynapseSqlDump, identity_queries, server_url,
    sqlite_path,
};
use crate::settings::{DEFAULT_DIRECTORY_REFRESH, SqlStoreSettings};

const SECTION: &str = "sql";

/// MariaDB's and MySQL's forms (mxisd used the MariaDB driver for both).
const MYSQL: ServerForms = ServerForms {
    jdbc: &["jdbc:mariadb:", "jdbc:mysql:"],
    schemes: &["mysql://", "mariadb://"],
    scheme: "mysql",
    forms: "expected '//host[:port]/database?user=...&password=...' (as in mxisd) or a mysql:// URL",
};

/// `sql`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSql {
    pub enabled: Option<Flag>,
    #[serde(rename = "type")]
    pub kind: Option<Text>,
    pub connection: Option<Text>,
    /// Verity only.
    pub max_connections: Option<Int<u32>>,
    /// The same keys as `synapseSql.identity`, `priority` included.
    pub identity: Option<RawSynapseIdentity>,
    pub lookup: Option<RawSqlLookup>,
    pub directory: Option<super::sql_directory::RawSqlDirectory>,
    pub profile: Option<super::sql_profile::RawSqlProfile>,
}

/// `sql.lookup`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSqlLookup {
    pub query: Option<Text>,
    /// Verity only, as `ldap.identity.refresh`.
    pub refresh: Option<DurationOrZero>,
}

fn key(name: &str) -> String {
    format!("{SECTION}.{name}")
}

/// `None` unless `sql.enabled`; the other keys are checked only then, as mxisd read them only
/// then.
pub fn resolve(
    raw: RawSql,
    domain: &MatrixDomain,
) -> Result<Option<SqlStoreSettings>, ConfigError> {
    if !raw.enabled.is_some_and(|Flag(on)| on) {
        return Ok(None);
    }
    let kind = text(raw.kind).map_or_else(|| "sqlite".to_owned(), |k| k.to_ascii_lowercase());
    let connection_key = key("connection");
    let connection = text(raw.connection).ok_or_else(|| {
        ConfigError::missing(
            &connection_key,
            format!(
                "sql is enabled with type {kind}: set it to the database, e.g. \
                 '/var/lib/people.db' (sqlite) or '//db.example.org/people?user=verity&password=...' \
                 (postgresql, mariadb, mysql)"
            ),
        )
    })?;
    let database = match kind.as_str() {
        "sqlite" => sqlite_path(&connection, &connection_key)?,
        "postgresql" | "postgres" => SqlDatabase::Postgres {
            url: server_url(&connection, &connection_key, &POSTGRES)?,
        },
        "mariadb" | "mysql" => SqlDatabase::MySql {
            url: server_url(&connection, &connection_key, &MYSQL)?,
        },
        other => {
            return Err(ConfigError::invalid(
                key("type"),
                format!(
                    "unknown type `{other}`; expected `sqlite`, `postgresql`, `mariadb` or `mysql`"
                ),
            ));
        }
    };
    let max_connections = raw
        .max_connections
        .map_or(QueryBackendConfig::DEFAULT_MAX_CONNECTIONS, |Int(n)| n);
    if max_connections == 0 {
        return Err(ConfigError::invalid(
            key("maxConnections"),
            "must be at least 1",
        ));
    }
    let identity = raw.identity.unwrap_or_default();
    let priority = identity.priority.map_or(DEFAULT_PRIORITY, |Int(n)| n);
    let lookup = raw.lookup.unwrap_or_default();
    // Written blank, ma1sd skipped the feed ("Lookup query not configured"); left out, it read
    // its default, Synapse's `user_threepid_id_server`.
    let feed = lookup
        .query
        .as_ref()
        .is_none_or(|Text(sql)| !sql.trim().is_empty());
    let feed_query = text(lookup.query)
        .map(|sql| {
            FeedQuery::parse(&sql)
                .map_err(|e| ConfigError::invalid(key("lookup.query"), e.to_string()))
        })
        .transpose()?;
    let directory = super::sql_directory::resolve(raw.directory, SECTION, &database, domain)?;
    let profile = super::sql_profile::resolve(raw.profile, SECTION, domain)?;
    Ok(Some(SqlStoreSettings {
        config: QueryBackendConfig {
            max_connections,
            identity: identity_queries(identity, domain, SECTION)?,
            feed_query,
            feed,
            directory,
            profile,
            ..QueryBackendConfig::generic(database)
        },
        priority,
        refresh: lookup
            .refresh
            .map_or(DEFAULT_DIRECTORY_REFRESH, |DurationOrZero(d)| d),
    }))
}

/// `sql.identity.priority`'s default: ma1sd's fixed 20.
const DEFAULT_PRIORITY: u32 = 20;

/// `sql` in `--dump-config`: `synapseSql`'s rendering, with `lookup.refresh`.
#[derive(Serialize)]
pub struct SqlDump {
    #[serde(flatten)]
    base: SynapseSqlDump,
    #[serde(skip_serializing_if = "Option::is_none")]
    lookup: Option<LookupDump>,
}

#[derive(Serialize)]
struct LookupDump {
    /// Left out for the default feed; blank when the feed is off.
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    refresh: String,
}

/// `sql` from its settings.
pub fn dump(settings: Option<&SqlStoreSettings>) -> SqlDump {
    let Some(settings) = settings else {
        return SqlDump {
            base: synapse::dump(None, DEFAULT_PRIORITY),
            lookup: None,
        };
    };
    let config = &settings.config;
    let query = if config.feed {
        config
            .feed_query
            .as_ref()
            .map(|query| query.as_str().to_owned())
    } else {
        Some(String::new())
    };
    // `synapseSql`'s rendering without its `lookup`, which is written here.
    let base = QueryBackendConfig {
        feed_query: None,
        ..config.clone()
    };
    SqlDump {
        base: synapse::dump(Some(&base), settings.priority),
        lookup: Some(LookupDump {
            query,
            refresh: format_duration(settings.refresh),
        }),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use verity_adapter_sql::{IdentityType, SqlDatabase};

    use crate::config::{ConfigError, ConfigWarning, effective_yaml, parse};
    use crate::settings::SqlStoreSettings;

    fn sql(section: &str) -> Result<Option<SqlStoreSettings>, ConfigError> {
        parse(&format!("matrix: {{domain: example.org}}\nsql:\n{section}"))
            .map(|loaded| loaded.settings.sql)
    }

    fn url(section: &str) -> String {
        match sql(section).unwrap().unwrap().config.database {
            SqlDatabase::Postgres { url } | SqlDatabase::MySql { url } => url,
            SqlDatabase::Sqlite { path } => path.display().to_string(),
        }
    }

    #[test]
    fn the_store_is_off_by_default_and_nothing_else_is_checked_when_disabled() {
        let settings = parse("matrix: {domain: example.org}").unwrap().settings;
        assert_eq!(settings.sql, None);
        assert_eq!(sql("  enabled: false\n  type: oracle\n").unwrap(), None);
    }

    #[test]
    fn every_mxisd_database_type_is_read_with_its_connection_forms() {
        assert_eq!(
            url("  enabled: true\n  connection: 'jdbc:sqlite:/var/lib/people.db'\n"),
            "/var/lib/people.db"
        );
        assert_eq!(
            url(
                "  enabled: true\n  type: postgresql\n  connection: '//db/people?user=v&password=p'\n"
            ),
            "postgres://v:p@db/people"
        );
        for (kind, connection) in [
            ("mariadb", "//db:3307/people?user=v&password=p%40ss"),
            (
                "mysql",
                "jdbc:mysql://db:3307/people?user=v&password=p%40ss",
            ),
            (
                "MariaDB",
                "jdbc:mariadb://db:3307/people?user=v&password=p%40ss",
            ),
            ("mariadb", "mariadb://v:p%40ss@db:3307/people"),
            ("mysql", "mysql://v:p%40ss@db:3307/people"),
        ] {
            assert_eq!(
                url(&format!(
                    "  enabled: true\n  type: {kind}\n  connection: '{connection}'\n"
                )),
                "mysql://v:p%40ss@db:3307/people",
                "{kind} {connection}"
            );
        }
    }

    #[test]
    fn the_operators_queries_priority_and_refresh_are_read() {
        let settings = sql(
            "  enabled: true\n  connection: /p.db\n  maxConnections: 2\n  identity:\n    \
             type: uid\n    query: 'SELECT login AS uid FROM people WHERE ? = ''email'' AND mail = ?'\n    \
             medium: {msisdn: 'SELECT login AS uid FROM people WHERE phone = :address'}\n    \
             priority: 30\n  lookup:\n    query: 'SELECT mxid, medium, address FROM v'\n    \
             refresh: 1m\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(settings.priority, 30);
        assert_eq!(settings.refresh, std::time::Duration::from_secs(60));
        let config = settings.config;
        assert_eq!(config.section, "sql");
        assert_eq!(config.max_connections, 2);
        assert!(config.feed);
        assert_eq!(
            config.feed_query.unwrap().as_str(),
            "SELECT mxid, medium, address FROM v"
        );
        let identity = config.identity.unwrap();
        assert!(matches!(identity.id_type, IdentityType::Localpart(_)));
        assert_eq!(identity.by_medium.len(), 1);
        // The defaults: ma1sd's, Synapse's tables; a blank lookup.query switches the feed off.
        let defaults = sql("  enabled: true\n  connection: /p.db\n")
            .unwrap()
            .unwrap();
        assert_eq!((defaults.priority, defaults.config.feed), (20, true));
        assert_eq!(defaults.config.feed_query, None);
        let no_feed = sql("  enabled: true\n  connection: /p.db\n  lookup: {query: ''}\n")
            .unwrap()
            .unwrap();
        assert!(!no_feed.config.feed);
    }

    #[test]
    fn every_bad_value_is_refused_naming_its_key() {
        for (section, key) in [
            ("  enabled: true\n", "sql.connection"),
            ("  enabled: true\n  type: mysql\n", "sql.connection"),
            (
                "  enabled: true\n  type: oracle\n  connection: x\n",
                "sql.type",
            ),
            (
                "  enabled: true\n  type: mariadb\n  connection: 'db/people'\n",
                "sql.connection",
            ),
            (
                "  enabled: true\n  type: mysql\n  connection: 'postgres://db/people'\n",
                "sql.connection",
            ),
            (
                "  enabled: true\n  connection: ':memory:'\n",
                "sql.connection",
            ),
            (
                "  enabled: true\n  connection: x\n  maxConnections: 0\n",
                "sql.maxConnections",
            ),
            (
                "  enabled: true\n  connection: x\n  identity: {type: email}\n",
                "sql.identity.type",
            ),
            (
                "  enabled: true\n  connection: x\n  identity: {query: 'SELECT 1 WHERE a = ?'}\n",
                "sql.identity.query",
            ),
            (
                "  enabled: true\n  connection: x\n  identity: {medium: {email: 'SELECT :mail'}}\n",
                "sql.identity.medium.email",
            ),
            (
                "  enabled: true\n  connection: x\n  lookup: {query: 'SELECT * FROM t WHERE a = ?'}\n",
                "sql.lookup.query",
            ),
            (
                "  enabled: true\n  connection: x\n  lookup: {refresh: soon}\n",
                "sql.lookup.refresh",
            ),
        ] {
            let err = sql(section).unwrap_err();
            assert_eq!(err.key(), Some(key), "{section}: {err}");
        }
        let err = sql("  enabled: true\n  type: mysql\n  connection: 'db?password=hunter2'\n")
            .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn ma1sd_keys_not_used_yet_and_typos_are_warned_about() {
        let loaded = parse(
            "matrix: {domain: example.org}\nsql:\n  enabled: false\n  \
             profile: {enabled: true}\n  auth: {enabled: true}\n  lookup: {qurey: x}\n",
        )
        .unwrap();
        let paths: Vec<String> = loaded
            .warnings
            .iter()
            .map(|warning| match warning {
                ConfigWarning::UnknownKey { path, .. }
                | ConfigWarning::NotUsedYet { path }
                | ConfigWarning::Ignored { path, .. } => path.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(paths, ["sql.auth", "sql.lookup.qurey"], "profiles are read");
    }

    #[test]
    fn the_dump_masks_the_password_and_reads_back_to_the_same_settings() {
        for section in [
            "  enabled: true\n  type: mariadb\n  connection: '//db/people?user=v&password=hunter2'\n  \
             identity: {type: uid, query: 'SELECT login AS uid FROM p WHERE mail = :address'}\n  \
             lookup: {query: 'SELECT mxid, medium, address FROM v', refresh: 0}\n",
            "  enabled: true\n  connection: /p.db\n",
            "  enabled: true\n  connection: /p.db\n  lookup: {query: ''}\n  identity: {enabled: false}\n",
        ] {
            let yaml = format!("matrix: {{domain: example.org}}\nsql:\n{section}");
            let settings = parse(&yaml).unwrap().settings;
            let dumped = effective_yaml(&settings);
            assert!(!dumped.contains("hunter2"), "{dumped}");
            let again = parse(&dumped).unwrap();
            assert_eq!(again.warnings, [], "{dumped}");
            let mut expected = settings.sql.unwrap();
            if let SqlDatabase::MySql { url } = &mut expected.config.database {
                *url = url.replace("hunter2", "%3Credacted%3E");
            }
            assert_eq!(again.settings.sql.unwrap(), expected, "{dumped}");
        }
    }
}

//! `synapseSql.*` (mxisd/ma1sd) -> the Synapse identity backend's [`SynapseSqlConfig`], and its
//! rendering for `--dump-config`. See docs/backends.md.
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use url::Url;
use verity_adapter_sql::{
    FeedQuery, IdentityQueries, IdentityQuery, IdentityType, SynapseDatabase, SynapseSqlConfig,
};
use verity_domain::{MatrixDomain, Medium};

use super::error::ConfigError;
use super::lenient::{Flag, Int, Text, percent_decode, text};
use crate::settings::REDACTED;

const SECTION: &str = "synapseSql";
const SQLITE: &str = "sqlite";
const POSTGRESQL: &str = "postgresql";
const POSTGRES_FORMS: &str =
    "expected '//host[:port]/database?user=...&password=...' (as in mxisd) or a postgres:// URL";

/// A database server's connection forms: mxisd's JDBC ones and URLs, as [`server_url`] reads them.
pub struct ServerForms {
    /// The JDBC prefixes accepted before `//host...` (`jdbc:postgresql:`).
    pub jdbc: &'static [&'static str],
    /// The URL schemes accepted as they are (`postgres://`).
    pub schemes: &'static [&'static str],
    /// The scheme of the URL made (`postgres`).
    pub scheme: &'static str,
    /// What the error says is expected.
    pub forms: &'static str,
}

/// PostgreSQL's forms.
pub const POSTGRES: ServerForms = ServerForms {
    jdbc: &["jdbc:postgresql:"],
    schemes: &["postgres://", "postgresql://"],
    scheme: "postgres",
    forms: POSTGRES_FORMS,
};

/// `synapseSql`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSynapseSql {
    pub enabled: Option<Flag>,
    #[serde(rename = "type")]
    pub kind: Option<Text>,
    pub connection: Option<Text>,
    /// Verity only.
    pub max_connections: Option<Int<u32>>,
    pub identity: Option<RawSynapseIdentity>,
    pub lookup: Option<RawSynapseLookup>,
    pub directory: Option<super::sql_directory::RawSqlDirectory>,
    pub profile: Option<super::sql_profile::RawSqlProfile>,
}

/// `synapseSql.identity`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSynapseIdentity {
    pub enabled: Option<Flag>,
    #[serde(rename = "type")]
    pub kind: Option<Text>,
    pub query: Option<Text>,
    /// Medium -> query; `None` values are media written without a query.
    pub medium: Option<BTreeMap<String, Option<Text>>>,
    /// Verity only (ma1sd's `exec.identity.priority`): resolved by `lookup`.
    pub priority: Option<Int<u32>>,
}

/// `synapseSql.lookup`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSynapseLookup {
    pub query: Option<Text>,
}

/// `None` unless `synapseSql.enabled`; the other keys are checked only then, as mxisd read them
/// only then.
pub fn resolve(
    raw: RawSynapseSql,
    domain: &MatrixDomain,
) -> Result<Option<SynapseSqlConfig>, ConfigError> {
    if !raw.enabled.is_some_and(|Flag(on)| on) {
        return Ok(None);
    }
    let kind = text(raw.kind).map_or_else(|| SQLITE.to_owned(), |k| k.to_ascii_lowercase());
    let connection = text(raw.connection);
    let database = match kind.as_str() {
        SQLITE => {
            let path = connection.ok_or_else(|| {
                ConfigError::missing(
                    key("connection"),
                    "synapseSql is enabled: set it to the path of Synapse's SQLite database, \
                     e.g. '/var/lib/matrix-synapse/homeserver.db'",
                )
            })?;
            sqlite_path(&path, &key("connection"))?
        }
        POSTGRESQL | "postgres" => {
            let connection = connection.ok_or_else(|| {
                ConfigError::missing(
                    key("connection"),
                    format!(
                        "synapseSql.type is postgresql; {POSTGRES_FORMS}, e.g. \
                         '//localhost/synapse?user=synapse&password=...'"
                    ),
                )
            })?;
            SynapseDatabase::Postgres {
                url: server_url(&connection, &key("connection"), &POSTGRES)?,
            }
        }
        other => {
            return Err(ConfigError::invalid(
                key("type"),
                format!("unknown type `{other}`; expected `sqlite` or `postgresql`"),
            ));
        }
    };
    let max_connections = raw
        .max_connections
        .map_or(SynapseSqlConfig::DEFAULT_MAX_CONNECTIONS, |Int(n)| n);
    if max_connections == 0 {
        return Err(ConfigError::invalid(
            key("maxConnections"),
            "must be at least 1",
        ));
    }
    let identity = raw.identity.unwrap_or_default();
    let feed_query = raw
        .lookup
        .and_then(|lookup| text(lookup.query))
        .map(|sql| {
            FeedQuery::parse(&sql)
                .map_err(|e| ConfigError::invalid(key("lookup.query"), e.to_string()))
        })
        .transpose()?;
    let directory = super::sql_directory::resolve(raw.directory, SECTION, &database, domain)?;
    let profile = super::sql_profile::resolve(raw.profile, SECTION, domain)?;
    Ok(Some(SynapseSqlConfig {
        max_connections,
        identity: identity_queries(identity, domain, SECTION)?,
        feed_query,
        directory,
        profile,
        ..SynapseSqlConfig::new(database)
    }))
}

fn key(name: &str) -> String {
    format!("{SECTION}.{name}")
}

/// A file path; mxisd's JDBC forms (`jdbc:sqlite:/path`) and `sqlite:` URLs are accepted too.
/// Errors name `connection_key`.
pub fn sqlite_path(connection: &str, connection_key: &str) -> Result<SynapseDatabase, ConfigError> {
    let path = ["jdbc:sqlite:", "sqlite://", "sqlite:"]
        .iter()
        .find_map(|prefix| connection.strip_prefix(prefix))
        .unwrap_or(connection);
    if path.is_empty() || path.contains(":memory:") || path.starts_with("file:") {
        return Err(ConfigError::invalid(
            connection_key,
            format!("{connection:?} is not the path of a database file"),
        ));
    }
    Ok(SynapseDatabase::Sqlite {
        path: PathBuf::from(path),
    })
}

/// mxisd's `//host[:port]/db?user=...&password=...` (optionally after a JDBC prefix such as
/// `jdbc:postgresql:`), or a URL of the server's schemes, as one URL of `forms.scheme` with the
/// credentials in its user part. Errors name `connection_key`.
pub fn server_url(
    connection: &str,
    connection_key: &str,
    forms: &ServerForms,
) -> Result<String, ConfigError> {
    let bare = forms
        .jdbc
        .iter()
        .find_map(|prefix| connection.strip_prefix(prefix))
        .unwrap_or(connection);
    let full = if bare.starts_with("//") {
        format!("{}:{bare}", forms.scheme)
    } else if let Some(rest) = forms
        .schemes
        .iter()
        .find_map(|scheme| bare.strip_prefix(scheme))
    {
        if bare.starts_with(forms.scheme) {
            bare.to_owned()
        } else {
            // `mariadb://` becomes `mysql://`; `postgresql://` stays as written.
            format!("{}://{rest}", forms.scheme)
        }
    } else {
        // The value may contain the password: never repeat it.
        return Err(ConfigError::invalid(connection_key, forms.forms));
    };
    let connection_key = connection_key.to_owned();
    let expected = forms.forms;
    let mut url = Url::parse(&full).map_err(|e| {
        ConfigError::invalid(
            &connection_key,
            format!("not a valid URL ({e}); {expected}"),
        )
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError::invalid(
            &connection_key,
            format!("no host; {expected}"),
        ));
    }
    if url.path().trim_matches('/').is_empty() {
        return Err(ConfigError::invalid(
            &connection_key,
            format!("no database; {expected}"),
        ));
    }
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
    if rest.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(rest);
    }
    url.set_username(&user)
        .and_then(|()| url.set_password(password.as_deref()))
        .map_err(|()| ConfigError::invalid(&connection_key, expected))?;
    Ok(url.to_string())
}

/// `<section>.identity`; errors name the key under `section`.
pub fn identity_queries(
    raw: RawSynapseIdentity,
    domain: &MatrixDomain,
    section: &str,
) -> Result<Option<IdentityQueries>, ConfigError> {
    let key = |name: &str| format!("{section}.{name}");
    // mxisd: a sub-feature's `enabled` defaults to the section's, which is on here.
    if !raw.enabled.is_none_or(|Flag(on)| on) {
        return Ok(None);
    }
    let id_type = match text(raw.kind).map(|k| k.to_ascii_lowercase()).as_deref() {
        None | Some("mxid") => IdentityType::Mxid,
        // mxisd's documentation said `localpart`; its code only accepted `uid`.
        Some("uid" | "localpart") => IdentityType::Localpart(domain.clone()),
        Some(other) => {
            return Err(ConfigError::invalid(
                key("identity.type"),
                format!("unknown type `{other}`; expected `mxid` or `uid`"),
            ));
        }
    };
    let query = text(raw.query)
        .map(|sql| {
            IdentityQuery::parse(&sql)
                .map_err(|e| ConfigError::invalid(key("identity.query"), e.to_string()))
        })
        .transpose()?;
    let mut by_medium = BTreeMap::new();
    for (name, sql) in raw.medium.unwrap_or_default() {
        let medium_key = key(&format!("identity.medium.{name}"));
        let medium =
            Medium::parse(&name).map_err(|e| ConfigError::invalid(&medium_key, e.to_string()))?;
        if let Some(sql) = text(sql) {
            let query = IdentityQuery::parse(&sql)
                .map_err(|e| ConfigError::invalid(&medium_key, e.to_string()))?;
            by_medium.insert(medium, query);
        }
    }
    Ok(Some(IdentityQueries {
        query,
        by_medium,
        id_type,
    }))
}

/// `synapseSql` in `--dump-config`: mxisd's keys, the password masked, default queries left out
/// (they are not expressible as one mxisd query: see docs/backends.md).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SynapseSqlDump {
    enabled: bool,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_connections: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<IdentityDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lookup: Option<LookupDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    directory: Option<super::sql_directory::SqlDirectoryDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<super::sql_profile::SqlProfileDump>,
}

#[derive(Serialize)]
struct IdentityDump {
    #[serde(skip_serializing_if = "Option::is_none")]
    enabled: Option<bool>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    medium: BTreeMap<String, String>,
    /// Written whether or not the backend is on, as it is read (by `lookup`).
    priority: u32,
}

#[derive(Serialize)]
struct LookupDump {
    query: String,
}

/// `synapseSql` from its settings and `synapseSql.identity.priority`.
pub fn dump(config: Option<&SynapseSqlConfig>, priority: u32) -> SynapseSqlDump {
    let Some(config) = config else {
        return SynapseSqlDump {
            enabled: false,
            kind: None,
            connection: None,
            max_connections: None,
            identity: Some(IdentityDump {
                enabled: None,
                kind: None,
                query: None,
                medium: BTreeMap::new(),
                priority,
            }),
            lookup: None,
            directory: None,
            profile: None,
        };
    };
    let (kind, connection) = match &config.database {
        SynapseDatabase::Sqlite { path } => (SQLITE, path.to_string_lossy().into_owned()),
        SynapseDatabase::Postgres { url } => (POSTGRESQL, masked_connection(url)),
        // Never made from `synapseSql`: mxisd read Synapse on SQLite or PostgreSQL only.
        SynapseDatabase::MySql { url } => ("mysql", masked_connection(url)),
    };
    let identity = match &config.identity {
        None => IdentityDump {
            enabled: Some(false),
            kind: None,
            query: None,
            medium: BTreeMap::new(),
            priority,
        },
        Some(identity) => IdentityDump {
            enabled: Some(true),
            priority,
            kind: Some(match identity.id_type {
                IdentityType::Mxid => "mxid",
                IdentityType::Localpart(_) => "uid",
            }),
            query: identity.query.as_ref().map(|q| q.as_str().to_owned()),
            medium: identity
                .by_medium
                .iter()
                .map(|(medium, query)| (medium.as_str().to_owned(), query.as_str().to_owned()))
                .collect(),
        },
    };
    SynapseSqlDump {
        enabled: true,
        kind: Some(kind),
        connection: Some(connection),
        max_connections: Some(config.max_connections),
        identity: Some(identity),
        lookup: config.feed_query.as_ref().map(|query| LookupDump {
            query: query.as_str().to_owned(),
        }),
        directory: Some(super::sql_directory::dump(config.directory.as_ref())),
        profile: Some(super::sql_profile::dump(config.profile.as_ref())),
    }
}

/// mxisd's form, `//host[:port]/db?user=...&password=<redacted>`, which reads back in.
pub fn masked_connection(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        // Settings only hold URLs `postgres_url` built; never print one that does not parse.
        return REDACTED.to_owned();
    };
    let user = percent_decode(parsed.username());
    let has_password = parsed.password().is_some();
    let _ = parsed.set_password(None);
    let _ = parsed.set_username("");
    let mut credentials = url::form_urlencoded::Serializer::new(String::new());
    if !user.is_empty() {
        credentials.append_pair("user", &user);
    }
    let mut query = credentials.finish();
    if has_password {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str("password=");
        query.push_str(REDACTED);
    }
    if let Some(rest) = parsed.query().filter(|rest| !rest.is_empty()) {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(rest);
    }
    parsed.set_query(None);
    let base = format!("//{}", &parsed[url::Position::BeforeHost..]);
    if query.is_empty() {
        base
    } else {
        format!("{base}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use verity_adapter_sql::SynapseDatabase;

    use crate::config::{ConfigError, ConfigWarning, effective_yaml, parse};

    fn synapse(section: &str) -> Result<Option<verity_adapter_sql::SynapseSqlConfig>, ConfigError> {
        parse(&format!(
            "matrix: {{domain: example.org}}\nsynapseSql:\n{section}"
        ))
        .map(|loaded| loaded.settings.synapse_sql)
    }

    fn error_key(section: &str) -> String {
        let err = synapse(section).unwrap_err();
        err.key()
            .unwrap_or_else(|| panic!("no key in {err}"))
            .to_owned()
    }

    #[test]
    fn the_section_is_off_by_default_and_when_disabled() {
        assert_eq!(
            parse("matrix: {domain: example.org}")
                .unwrap()
                .settings
                .synapse_sql,
            None
        );
        // Disabled: nothing else is checked, as mxisd read nothing else.
        assert_eq!(synapse("  enabled: false\n  type: oracle\n").unwrap(), None);
    }

    #[test]
    fn an_sqlite_synapse_needs_only_its_path() {
        let config = synapse("  enabled: true\n  connection: /var/lib/synapse/homeserver.db\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            config.database,
            SynapseDatabase::Sqlite {
                path: "/var/lib/synapse/homeserver.db".into()
            }
        );
        assert_eq!(config.max_connections, 4);
        let identity = config.identity.unwrap();
        assert_eq!(identity.query, None);
        assert!(identity.by_medium.is_empty());
        assert_eq!(config.feed_query, None);
        // mxisd's JDBC form.
        let jdbc =
            synapse("  enabled: 'true'\n  type: sqlite\n  connection: 'jdbc:sqlite:/s.db'\n")
                .unwrap()
                .unwrap();
        assert_eq!(
            jdbc.database,
            SynapseDatabase::Sqlite {
                path: "/s.db".into()
            }
        );
    }

    #[test]
    fn mxisd_postgres_connections_become_urls_with_the_credentials_in_the_user_part() {
        for (connection, url) in [
            (
                "//localhost/synapse?user=synapse&password=s3cr%26t",
                "postgres://synapse:s3cr&t@localhost/synapse",
            ),
            (
                "jdbc:postgresql://db.example.org:5433/synapse?user=syn&password=pw&sslmode=require",
                "postgres://syn:pw@db.example.org:5433/synapse?sslmode=require",
            ),
            (
                "postgres://syn:pw@db/synapse",
                "postgres://syn:pw@db/synapse",
            ),
            ("postgresql://db/synapse", "postgresql://db/synapse"),
        ] {
            let config = synapse(&format!(
                "  enabled: true\n  type: postgresql\n  connection: '{connection}'\n"
            ))
            .unwrap()
            .unwrap();
            // Compared as strings: the settings' Debug hides the URL.
            let SynapseDatabase::Postgres { url: built } = config.database else {
                panic!("{connection}: not PostgreSQL");
            };
            assert_eq!(built, url, "{connection}");
        }
    }

    #[test]
    fn custom_queries_are_read_from_mxisd_keys() {
        let config = synapse(
            "  enabled: true\n  connection: /s.db\n  maxConnections: 2\n  identity:\n    \
             type: uid\n    query: 'SELECT name AS uid FROM t WHERE medium = ? AND address = ?'\n    \
             medium:\n      msisdn: 'SELECT name AS uid FROM p WHERE number = :address'\n      \
             email: ''\n  lookup:\n    query: 'SELECT user_id AS mxid, medium, address FROM x'\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.max_connections, 2);
        let identity = config.identity.unwrap();
        assert_eq!(
            identity.query.unwrap().as_str(),
            "SELECT name AS uid FROM t WHERE medium = ? AND address = ?"
        );
        assert_eq!(
            identity.id_type,
            verity_adapter_sql::IdentityType::Localpart(
                verity_domain::MatrixDomain::parse("example.org").unwrap()
            )
        );
        let media: Vec<_> = identity
            .by_medium
            .keys()
            .map(|m| m.as_str().to_owned())
            .collect();
        assert_eq!(media, ["msisdn"]);
        assert_eq!(
            config.feed_query.unwrap().as_str(),
            "SELECT user_id AS mxid, medium, address FROM x"
        );
        let off = synapse("  enabled: true\n  connection: /s.db\n  identity: {enabled: false}\n")
            .unwrap()
            .unwrap();
        assert_eq!(off.identity, None);
    }

    #[test]
    fn every_bad_value_is_refused_naming_its_key() {
        for (section, key) in [
            ("  enabled: true\n", "synapseSql.connection"),
            (
                "  enabled: true\n  type: postgresql\n",
                "synapseSql.connection",
            ),
            (
                "  enabled: true\n  type: mysql\n  connection: x\n",
                "synapseSql.type",
            ),
            (
                "  enabled: true\n  type: postgresql\n  connection: 'localhost/synapse'\n",
                "synapseSql.connection",
            ),
            (
                "  enabled: true\n  type: postgresql\n  connection: '//localhost'\n",
                "synapseSql.connection",
            ),
            (
                "  enabled: true\n  connection: ':memory:'\n",
                "synapseSql.connection",
            ),
            (
                "  enabled: true\n  connection: x\n  maxConnections: 0\n",
                "synapseSql.maxConnections",
            ),
            ("  enabled: maybe\n", "synapseSql.enabled"),
            (
                "  enabled: true\n  connection: x\n  identity: {type: email}\n",
                "synapseSql.identity.type",
            ),
            (
                "  enabled: true\n  connection: x\n  identity: {query: 'SELECT 1 WHERE a = ?'}\n",
                "synapseSql.identity.query",
            ),
            (
                "  enabled: true\n  connection: x\n  identity: {medium: {Email: 'SELECT 1'}}\n",
                "synapseSql.identity.medium.Email",
            ),
            (
                "  enabled: true\n  connection: x\n  identity: {medium: {email: 'SELECT :mail'}}\n",
                "synapseSql.identity.medium.email",
            ),
            (
                "  enabled: true\n  connection: x\n  lookup: {query: 'SELECT * FROM t WHERE a = ?'}\n",
                "synapseSql.lookup.query",
            ),
        ] {
            assert_eq!(error_key(section), key, "{section}");
        }
    }

    #[test]
    fn a_bad_postgres_connection_is_not_repeated_in_the_error() {
        let err =
            synapse("  enabled: true\n  type: postgresql\n  connection: 'db?password=hunter2'\n")
                .unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn unknown_keys_warn_and_mxisd_features_not_there_yet_say_so_but_profiles_are_read() {
        let loaded = parse(
            "matrix: {domain: example.org}\nsynapseSql:\n  enabled: false\n  conection: x\n  \
             legacyRoomNames: true\n  profile: {enabled: true}\n  \
             auth: {enabled: true}\n  identity: {qurey: x}\n",
        )
        .unwrap();
        assert_eq!(
            loaded.warnings,
            [
                ConfigWarning::UnknownKey {
                    path: "synapseSql.conection".into(),
                    suggestion: Some("synapseSql.connection".into()),
                },
                ConfigWarning::NotUsedYet {
                    path: "synapseSql.legacyRoomNames".into()
                },
                ConfigWarning::Ignored {
                    path: "synapseSql.auth".into(),
                    reason: super::super::keys::SYNAPSE_AUTH,
                },
                ConfigWarning::UnknownKey {
                    path: "synapseSql.identity.qurey".into(),
                    suggestion: Some("synapseSql.identity.query".into()),
                },
            ]
        );
    }

    #[test]
    fn the_dump_masks_the_password_and_reads_back_to_the_same_settings() {
        let yaml = "matrix: {domain: example.org}\nsynapseSql:\n  enabled: true\n  \
                    type: postgresql\n  connection: '//db:5433/synapse?user=syn&password=hunter2&sslmode=require'\n  \
                    identity:\n    query: 'SELECT user_id AS uid FROM t WHERE medium = ? AND address = ?'\n    \
                    medium: {msisdn: 'SELECT u FROM p WHERE n = :address'}\n  \
                    lookup: {query: 'SELECT user_id AS mxid, medium, address FROM t'}\n";
        let settings = parse(yaml).unwrap().settings;
        let dumped = effective_yaml(&settings);
        assert!(!dumped.contains("hunter2"), "{dumped}");
        assert!(
            dumped.contains(
                "connection: //db:5433/synapse?user=syn&password=<redacted>&sslmode=require"
            ),
            "{dumped}"
        );
        let again = parse(&dumped).unwrap().settings.synapse_sql.unwrap();
        let mut expected = settings.synapse_sql.unwrap();
        expected.database = SynapseDatabase::Postgres {
            url: "postgres://syn:%3Credacted%3E@db:5433/synapse?sslmode=require".into(),
        };
        assert_eq!(again, expected);
    }

    #[test]
    fn the_dump_of_defaults_reads_back_to_the_defaults() {
        for yaml in [
            "matrix: {domain: example.org}\n",
            "matrix: {domain: example.org}\nsynapseSql: {enabled: true, connection: /s.db}\n",
            "matrix: {domain: example.org}\nsynapseSql: {enabled: true, type: postgresql, \
             connection: '//db/synapse'}\n",
        ] {
            let settings = parse(yaml).unwrap().settings;
            let dumped = effective_yaml(&settings);
            let loaded = parse(&dumped).unwrap();
            assert_eq!(
                loaded.settings.synapse_sql, settings.synapse_sql,
                "{dumped}"
            );
            assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        }
    }
}

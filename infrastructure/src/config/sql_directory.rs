//! `synapseSql.directory` and `sql.directory` (ma1sd's `SqlConfig.Directory`) -> the SQL
//! adapter's [`DirectoryQueries`]: `enabled` (default on, with its section) and
//! `query.name` / `query.threepid`, each `{type: localpart|mxid, value: <SQL>}`, returning the
//! user (first column) and the display name (second).
//!
//! `synapseSql` defaults to ma1sd's queries on Synapse's tables (for its database type) and binds
//! `%term%`; the generic `sql` store has no default (ma1sd's was broken) and binds the term as
//! typed. `type` defaults to `mxid` (what ma1sd did, its default being a typo).
use serde::{Deserialize, Serialize};
use verity_adapter_sql::{
    DirectoryIdType, DirectoryQueries, DirectoryQuery, SqlDatabase, TermBinding,
    synapse_default_sql,
};
use verity_domain::MatrixDomain;

use super::error::ConfigError;
use super::lenient::{Flag, Text, text};

/// `<section>.directory`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSqlDirectory {
    pub enabled: Option<Flag>,
    pub query: Option<RawDirectoryQueries>,
}

/// `<section>.directory.query`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawDirectoryQueries {
    pub name: Option<RawDirectoryQuery>,
    pub threepid: Option<RawDirectoryQuery>,
}

/// `<section>.directory.query.<name|threepid>`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawDirectoryQuery {
    #[serde(rename = "type")]
    pub kind: Option<Text>,
    pub value: Option<Text>,
}

/// The directory of `section` (`synapseSql` or `sql`) on `database`; `None` when switched off.
pub fn resolve(
    raw: Option<RawSqlDirectory>,
    section: &str,
    database: &SqlDatabase,
    domain: &MatrixDomain,
) -> Result<Option<DirectoryQueries>, ConfigError> {
    let raw = raw.unwrap_or_default();
    if !raw.enabled.is_none_or(|Flag(on)| on) {
        return Ok(None);
    }
    let synapse = section == verity_adapter_sql::SYNAPSE_SQL;
    let defaults = if synapse {
        Some(
            synapse_default_sql(database, domain)
                .map_err(|e| ConfigError::invalid(format!("{section}.type"), e.to_string()))?,
        )
    } else {
        None
    };
    let (default_name, default_threepid) = defaults.unzip();
    let binding = if synapse {
        TermBinding::Contains
    } else {
        TermBinding::AsTyped
    };
    let queries = raw.query.unwrap_or_default();
    let query = |raw: Option<RawDirectoryQuery>, name: &str, default: Option<String>| {
        let key = format!("{section}.directory.query.{name}");
        let raw = raw.unwrap_or_default();
        let id_type = match text(raw.kind).map(|k| k.to_ascii_lowercase()).as_deref() {
            None | Some("mxid") => DirectoryIdType::Mxid,
            Some("localpart") => DirectoryIdType::Localpart(domain.clone()),
            Some(other) => {
                return Err(ConfigError::invalid(
                    format!("{key}.type"),
                    format!("unknown type `{other}`; expected `localpart` or `mxid`"),
                ));
            }
        };
        text(raw.value)
            .or(default)
            .map(|sql| {
                DirectoryQuery::parse(&sql, id_type, binding)
                    .map_err(|e| ConfigError::invalid(format!("{key}.value"), e.to_string()))
            })
            .transpose()
    };
    Ok(Some(DirectoryQueries {
        by_name: query(queries.name, "name", default_name)?,
        by_threepid: query(queries.threepid, "threepid", default_threepid)?,
    }))
}

/// `<section>.directory` in `--dump-config`: the queries written out (defaults included).
#[derive(Serialize)]
pub struct SqlDirectoryDump {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<QueriesDump>,
}

#[derive(Serialize)]
struct QueriesDump {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<QueryDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threepid: Option<QueryDump>,
}

#[derive(Serialize)]
struct QueryDump {
    #[serde(rename = "type")]
    kind: &'static str,
    value: String,
}

fn query_dump(query: &DirectoryQuery) -> QueryDump {
    QueryDump {
        kind: match query.id_type {
            DirectoryIdType::Mxid => "mxid",
            DirectoryIdType::Localpart(_) => "localpart",
        },
        value: query.as_str().to_owned(),
    }
}

/// `<section>.directory` from its queries.
pub fn dump(directory: Option<&DirectoryQueries>) -> SqlDirectoryDump {
    SqlDirectoryDump {
        enabled: directory.is_some(),
        query: directory.map(|queries| QueriesDump {
            name: queries.by_name.as_ref().map(query_dump),
            threepid: queries.by_threepid.as_ref().map(query_dump),
        }),
    }
}

#[cfg(test)]
#[path = "sql_directory_tests.rs"]
mod tests;

//! `synapseSql.profile` and `sql.profile` (ma1sd's `SqlConfig.Profile`) -> the SQL adapter's
//! [`ProfileQueries`]: `enabled` (default on, with its section), `displayName.query`,
//! `threepid.query`, and `role.query` with `role.type` (`mxid` or `localpart`).
//!
//! Verity also reads `displayName.type` and `threepid.type` (ma1sd always bound the Matrix ID
//! there; `mxid` stays the default for a query the operator writes). `synapseSql` has defaults
//! for the display name (Synapse's `profiles`, by localpart) and the 3PIDs (`user_threepids`);
//! the generic `sql` store reads only the queries written for it: ma1sd's default 3PID query
//! named a Synapse table that the operator's database does not have.
use serde::{Deserialize, Serialize};
use verity_adapter_sql::{
    ProfileQueries, ProfileQuery, ProfileUser, SYNAPSE_DISPLAY_NAME, SYNAPSE_THREEPIDS,
};
use verity_domain::MatrixDomain;

use super::error::ConfigError;
use super::lenient::{Flag, Text, text};

/// `<section>.profile`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSqlProfile {
    pub enabled: Option<Flag>,
    pub display_name: Option<RawProfileQuery>,
    pub threepid: Option<RawProfileQuery>,
    pub role: Option<RawProfileQuery>,
}

/// `<section>.profile.<displayName|threepid|role>`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawProfileQuery {
    #[serde(rename = "type")]
    pub kind: Option<Text>,
    pub query: Option<Text>,
}

/// The profile queries of `section` (`synapseSql` or `sql`); `None` when switched off or when
/// no query is left to run.
pub fn resolve(
    raw: Option<RawSqlProfile>,
    section: &str,
    domain: &MatrixDomain,
) -> Result<Option<ProfileQueries>, ConfigError> {
    let raw = raw.unwrap_or_default();
    if !raw.enabled.is_none_or(|Flag(on)| on) {
        return Ok(None);
    }
    let synapse = section == verity_adapter_sql::SYNAPSE_SQL;
    let default = |sql: &'static str, user: ProfileUser| synapse.then_some((sql, user));
    let queries = ProfileQueries {
        display_name: query(
            raw.display_name,
            section,
            "displayName",
            default(SYNAPSE_DISPLAY_NAME, ProfileUser::Localpart),
        )?,
        threepids: query(
            raw.threepid,
            section,
            "threepid",
            default(SYNAPSE_THREEPIDS, ProfileUser::Mxid),
        )?,
        roles: query(raw.role, section, "role", None)?,
        ..ProfileQueries::none(domain.clone())
    };
    Ok(queries.any().then_some(queries))
}

/// One query: the operator's (with its `type`, default `mxid`), else the default (with the form
/// it was written for), else none.
fn query(
    raw: Option<RawProfileQuery>,
    section: &str,
    name: &str,
    default: Option<(&'static str, ProfileUser)>,
) -> Result<Option<ProfileQuery>, ConfigError> {
    let key = format!("{section}.profile.{name}");
    let raw = raw.unwrap_or_default();
    let kind = match text(raw.kind).map(|k| k.to_ascii_lowercase()).as_deref() {
        None => None,
        Some("mxid") => Some(ProfileUser::Mxid),
        Some("localpart" | "uid") => Some(ProfileUser::Localpart),
        Some(other) => {
            return Err(ConfigError::invalid(
                format!("{key}.type"),
                format!("unknown type `{other}`; expected `localpart` or `mxid`"),
            ));
        }
    };
    let (sql, user) = match (text(raw.query), default) {
        (Some(sql), _) => (sql, kind.unwrap_or(ProfileUser::Mxid)),
        (None, Some((sql, user))) => (sql.to_owned(), kind.unwrap_or(user)),
        (None, None) => return Ok(None),
    };
    ProfileQuery::parse(&sql, user)
        .map(Some)
        .map_err(|e| ConfigError::invalid(format!("{key}.query"), e.to_string()))
}

/// `<section>.profile` in `--dump-config`: the queries written out (defaults included).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SqlProfileDump {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<QueryDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threepid: Option<QueryDump>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<QueryDump>,
}

#[derive(Serialize)]
struct QueryDump {
    #[serde(rename = "type")]
    kind: &'static str,
    query: String,
}

fn query_dump(query: &ProfileQuery) -> QueryDump {
    QueryDump {
        kind: match query.user {
            ProfileUser::Mxid => "mxid",
            ProfileUser::Localpart => "localpart",
        },
        query: query.as_str().to_owned(),
    }
}

/// `<section>.profile` from its queries.
pub fn dump(profile: Option<&ProfileQueries>) -> SqlProfileDump {
    SqlProfileDump {
        enabled: profile.is_some(),
        display_name: profile.and_then(|p| p.display_name.as_ref().map(query_dump)),
        threepid: profile.and_then(|p| p.threepids.as_ref().map(query_dump)),
        role: profile.and_then(|p| p.roles.as_ref().map(query_dump)),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn domain() -> MatrixDomain {
        MatrixDomain::parse("example.org").unwrap()
    }

    fn parse(section: &str, yaml: &str) -> Result<Option<ProfileQueries>, ConfigError> {
        resolve(serde_norway::from_str(yaml).unwrap(), section, &domain())
    }

    #[test]
    fn synapse_sql_reads_display_names_by_localpart_and_threepids_by_matrix_id_by_default() {
        let queries = parse("synapseSql", "{}").unwrap().unwrap();
        let name = queries.display_name.unwrap();
        assert_eq!(name.as_str(), SYNAPSE_DISPLAY_NAME);
        assert_eq!(name.user, ProfileUser::Localpart);
        assert_eq!(queries.threepids.unwrap().user, ProfileUser::Mxid);
        assert!(queries.roles.is_none(), "Synapse has no roles since 1.61");
    }

    #[test]
    fn the_generic_store_reads_only_the_queries_written_for_it() {
        assert!(parse("sql", "{}").unwrap().is_none());
        let queries = parse(
            "sql",
            "role: {type: localpart, query: 'SELECT team FROM staff WHERE login = ?'}",
        )
        .unwrap()
        .unwrap();
        assert!(queries.display_name.is_none() && queries.threepids.is_none());
        assert_eq!(queries.roles.unwrap().user, ProfileUser::Localpart);
    }

    #[test]
    fn an_operators_query_takes_the_matrix_id_unless_its_type_says_otherwise() {
        let queries = parse(
            "synapseSql",
            "displayName: {query: 'SELECT displayname FROM profiles WHERE full_user_id = ?'}",
        )
        .unwrap()
        .unwrap();
        assert_eq!(queries.display_name.unwrap().user, ProfileUser::Mxid);
    }

    #[test]
    fn a_switched_off_profile_or_a_bad_query_or_type_is_said_plainly() {
        assert!(parse("synapseSql", "enabled: false").unwrap().is_none());
        let err = parse("sql", "role: {query: 'SELECT team FROM staff'}").unwrap_err();
        assert!(err.to_string().contains("sql.profile.role.query"), "{err}");
        let err = parse("sql", "role: {type: group, query: 'SELECT 1 WHERE ? = 1'}").unwrap_err();
        assert!(err.to_string().contains("sql.profile.role.type"), "{err}");
    }
}

//! The user directory search: `directory.exclude.*` (ma1sd) and
//! `dns.overwrite.homeserver.client` (mxisd: where the homeserver's client-server API is, by the
//! host clients call), resolved into [`UserDirectoryConfig`]; and their `--dump-config`. The
//! stores' own directory keys are read with their stores (`ldap`, `rest`, `memory`) or in
//! `exec_directory` and `sql_directory`. See docs/user-directory.md.
use serde::{Deserialize, Serialize};
use verity_application::usecases::UserDirectorySettings;

use super::error::ConfigError;
use super::federation;
use super::lenient::Flag;
use super::raw::RawOverride;
use crate::settings::UserDirectoryConfig;

/// `directory` (ma1sd)
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawDirectory {
    pub exclude: Option<RawDirectoryExclude>,
}

/// `directory.exclude`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawDirectoryExclude {
    pub homeserver: Option<Flag>,
    pub threepid: Option<Flag>,
}

/// `directory.*` and `dns.overwrite.homeserver.client`; the exec store's directory is set by
/// the caller (it is read with `exec`).
pub fn resolve(
    raw: RawDirectory,
    client: Option<Vec<RawOverride>>,
) -> Result<UserDirectoryConfig, ConfigError> {
    let exclude = raw.exclude.unwrap_or_default();
    let on = |flag: Option<Flag>| flag.is_some_and(|Flag(on)| on);
    Ok(UserDirectoryConfig {
        search: UserDirectorySettings {
            exclude_homeserver: on(exclude.homeserver),
            exclude_threepid: on(exclude.threepid),
            ..UserDirectorySettings::default()
        },
        client_overrides: federation::overrides(
            "dns.overwrite.homeserver.client",
            client.unwrap_or_default(),
        )?,
        exec: None,
    })
}

/// `directory` in `--dump-config`.
#[derive(Serialize)]
pub struct DirectoryDump {
    exclude: ExcludeDump,
}

#[derive(Serialize)]
struct ExcludeDump {
    homeserver: bool,
    threepid: bool,
}

/// `directory` from the settings.
pub fn dump(config: &UserDirectoryConfig) -> DirectoryDump {
    DirectoryDump {
        exclude: ExcludeDump {
            homeserver: config.search.exclude_homeserver,
            threepid: config.search.exclude_threepid,
        },
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use crate::config::{ConfigError, parse};
    use crate::settings::UserDirectoryConfig;

    fn directory(yaml: &str) -> Result<UserDirectoryConfig, ConfigError> {
        parse(&format!("matrix: {{domain: example.org}}\n{yaml}"))
            .map(|loaded| loaded.settings.user_directory)
    }

    #[test]
    fn nothing_is_excluded_and_no_client_entry_is_set_by_default() {
        let config = directory("").unwrap();
        assert!(!config.search.exclude_homeserver);
        assert!(!config.search.exclude_threepid);
        assert_eq!(config.client_overrides, Vec::<(String, String)>::new());
        assert_eq!(config.search.whoami_lifetime.as_secs(), 60);
    }

    #[test]
    fn ma1sds_exclusions_and_mxisds_client_entries_are_read() {
        let config = directory(
            "directory: {exclude: {homeserver: true, threepid: 'yes'}}\n\
             dns: {overwrite: {homeserver: {client: [{name: 'matrix.example.org', value: \
             'http://127.0.0.1:8008'}]}}}\n",
        )
        .unwrap();
        assert!(config.search.exclude_homeserver);
        assert!(config.search.exclude_threepid);
        assert_eq!(
            config.client_overrides,
            [(
                "matrix.example.org".to_owned(),
                "http://127.0.0.1:8008".to_owned()
            )]
        );
    }

    #[test]
    fn a_bad_client_entry_is_refused_naming_it() {
        for (entries, key) in [
            (
                "[{value: 'http://h'}]",
                "dns.overwrite.homeserver.client[0].name",
            ),
            (
                "[{name: 'https://x', value: 'http://h'}]",
                "dns.overwrite.homeserver.client[0].name",
            ),
            (
                "[{name: x.org}]",
                "dns.overwrite.homeserver.client[0].value",
            ),
            (
                "[{name: x.org, value: 'ftp://h'}]",
                "dns.overwrite.homeserver.client[0].value",
            ),
            (
                "[{name: x.org, value: 'http://a'}, {name: X.org, value: 'http://b'}]",
                "dns.overwrite.homeserver.client[1].name",
            ),
        ] {
            let err = directory(&format!(
                "dns: {{overwrite: {{homeserver: {{client: {entries}}}}}}}"
            ))
            .unwrap_err();
            assert_eq!(err.key(), Some(key), "{entries}: {err}");
        }
    }
}

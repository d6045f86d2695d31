//! `exec` in `--dump-config`: ma1sd's keys with every default written out (each process with its
//! tokens in full, `exec.token` folded into them); it reads back into the same settings.
use std::collections::BTreeMap;

use serde::Serialize;
use verity_adapter_exec::{
    ExecAuthConfig, ExecDirectoryConfig, ExecProfileConfig, Process, Tokens,
};

use crate::config::lenient::format_duration;
use crate::settings::ExecSettings;

/// `exec`: `enabled: false` alone when the store is off.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecDump {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identity: Option<Identity>,
    auth: Auth,
    directory: super::super::exec_directory::ExecDirectoryDump,
    profile: super::super::exec_profile::ExecProfileDump,
}

/// `exec.auth`: `enabled: false` alone when off.
#[derive(Serialize)]
struct Auth {
    enabled: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    process: Option<ProcessDump>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    enabled: bool,
    priority: i32,
    hash_lookup: bool,
    refresh: String,
    lookup: Lookup,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Lookup {
    single: ProcessDump,
    bulk: ProcessDump,
    all: ProcessDump,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProcessDump {
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<String>,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    input: Input,
    output: Output,
    exit: Exit,
    token: TokenDump,
    timeout: String,
    max_output: usize,
}

#[derive(Serialize)]
struct Input {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<String>,
}

#[derive(Serialize)]
struct Output {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

#[derive(Serialize)]
struct Exit {
    success: Vec<i32>,
    failure: Vec<i32>,
}

#[derive(Serialize)]
struct TokenDump {
    localpart: String,
    domain: String,
    mxid: String,
    password: String,
    medium: String,
    address: String,
    #[serde(rename = "type")]
    kind: String,
    query: String,
}

impl From<&Tokens> for TokenDump {
    fn from(t: &Tokens) -> Self {
        Self {
            localpart: t.localpart.clone(),
            domain: t.domain.clone(),
            mxid: t.mxid.clone(),
            password: t.password.clone(),
            medium: t.medium.clone(),
            address: t.address.clone(),
            kind: t.kind.clone(),
            query: t.query.clone(),
        }
    }
}

impl From<&Process> for ProcessDump {
    fn from(p: &Process) -> Self {
        Self {
            command: p.command.clone(),
            args: p.args.clone(),
            env: p.env.clone(),
            input: Input {
                kind: p.input.format.map(|f| f.as_str()),
                template: p.input.template.clone(),
            },
            output: Output {
                kind: p.output.format.map(|f| f.as_str()),
            },
            exit: Exit {
                success: p.exit.success.clone(),
                failure: p.exit.failure.clone(),
            },
            token: (&p.token).into(),
            timeout: format_duration(p.timeout),
            max_output: p.max_output,
        }
    }
}

/// The dump of `exec`: the lookups, the logins and the user directory (`exec.directory`; the
/// logins and the directory may be on while the lookups are off).
pub fn dump(
    settings: Option<&ExecSettings>,
    auth: Option<&ExecAuthConfig>,
    directory: Option<&ExecDirectoryConfig>,
    profile: Option<&ExecProfileConfig>,
) -> ExecDump {
    let auth_dump = Auth {
        enabled: auth.is_some(),
        process: auth.map(|auth| (&auth.process).into()),
    };
    let directory_dump = super::super::exec_directory::dump(directory);
    let profile_dump = super::super::exec_profile::dump(profile);
    let Some(settings) = settings else {
        return ExecDump {
            enabled: false,
            concurrency: auth
                .map(|auth| auth.concurrency)
                .or(directory.map(|d| d.concurrency))
                .or(profile.map(|p| p.concurrency)),
            identity: None,
            auth: auth_dump,
            directory: directory_dump,
            profile: profile_dump,
        };
    };
    let config = &settings.config;
    ExecDump {
        enabled: true,
        directory: directory_dump,
        profile: profile_dump,
        concurrency: Some(config.concurrency),
        auth: auth_dump,
        identity: Some(Identity {
            enabled: true,
            priority: config.priority,
            hash_lookup: config.hash_lookup,
            refresh: format_duration(settings.refresh),
            lookup: Lookup {
                single: (&config.single).into(),
                bulk: (&config.bulk).into(),
                all: (&config.all).into(),
            },
        }),
    }
}

//! `invite.*` (mxisd/ma1sd): 3PID room invites. See docs/invites.md.
use std::time::Duration;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use verity_adapter_http::HttpConfig;
use verity_application::usecases::InviteSettings;
use verity_domain::{InviteBlocklist, MAX_ROLE_CHARS, SenderRoles};

use super::error::ConfigError;
use super::lenient::{Flag, Int, Text};
use crate::settings::ServerSettings;

/// mxisd's default: 7 days, in minutes.
const DEFAULT_EXPIRY_MINUTES: u64 = 10_080;

/// `invite`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawInvite {
    pub expiration: Option<RawExpiration>,
    pub full_display_name: Option<Flag>,
    /// mxisd's background resolution (timer, period, recursive): ignored with a warning
    /// (`keys::IGNORED_KEYS`).
    pub resolution: Option<IgnoredAny>,
    /// mxisd's `invite.policy.ifSender.hasRole`.
    pub policy: Option<RawInvitePolicy>,
    /// Verity only: Sydent's `email.third_party_invite_*_blocklist`.
    pub blocklist: Option<RawBlocklist>,
}

/// `invite.policy`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawInvitePolicy {
    pub if_sender: Option<RawSenderPolicy>,
}

/// `invite.policy.ifSender`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawSenderPolicy {
    pub has_role: Option<Vec<Text>>,
}

/// `invite.policy.ifSender.hasRole`: the roles one of which the sender of a 3PID room invite
/// routed through Verity must hold (none: anyone may invite).
///
/// # Errors
/// A role longer than any profile keeps: no one could hold it.
pub fn sender_roles(raw: &RawInvite) -> Result<SenderRoles, ConfigError> {
    let roles = texts(
        raw.policy
            .as_ref()
            .and_then(|policy| policy.if_sender.as_ref())
            .and_then(|sender| sender.has_role.as_ref()),
    );
    if let Some(long) = roles
        .iter()
        .find(|role| role.trim().chars().count() > MAX_ROLE_CHARS)
    {
        return Err(ConfigError::invalid(
            "invite.policy.ifSender.hasRole",
            format!(
                "the role {:?}... is longer than {MAX_ROLE_CHARS} characters: no profile holds it",
                long.chars().take(32).collect::<String>()
            ),
        ));
    }
    Ok(SenderRoles::new(roles))
}

/// `invite.blocklist` (Sydent's `third_party_invite_keyword_blocklist`,
/// `third_party_invite_room_blocklist`, `third_party_invite_homeserver_blocklist`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawBlocklist {
    pub keywords: Option<Vec<Text>>,
    pub rooms: Option<Vec<Text>>,
    pub homeservers: Option<Vec<Text>>,
}

fn texts(list: Option<&Vec<Text>>) -> Vec<String> {
    list.map(|l| l.iter().map(|Text(t)| t.clone()).collect())
        .unwrap_or_default()
}

/// `invite.expiration`
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", expecting = "a mapping")]
pub struct RawExpiration {
    pub enabled: Option<Flag>,
    /// Minutes.
    pub after: Option<Int<u64>>,
    /// mxisd resolved expired invites to an application-service user; ignored.
    pub resolve_to: Option<IgnoredAny>,
}

/// `invite.*` as the invite use case takes it, with the names and URLs of `server` it puts in
/// answers and emails: `key_validity_base` is the validation links' base (`link_base`); the
/// sign link uses v1 while v1 is on, since it needs no access token.
pub fn resolve(
    raw: &RawInvite,
    server: &ServerSettings,
    http: &HttpConfig,
    link_base: &str,
) -> Result<InviteSettings, ConfigError> {
    let expiration = raw.expiration.as_ref();
    let enabled = expiration.and_then(|e| e.enabled).is_none_or(|Flag(on)| on);
    let minutes = expiration
        .and_then(|e| e.after)
        .map_or(DEFAULT_EXPIRY_MINUTES, |Int(n)| n);
    if enabled && minutes == 0 {
        return Err(ConfigError::invalid(
            "invite.expiration.after",
            "must be at least 1 (minutes)",
        ));
    }
    let blocklist = raw.blocklist.as_ref();
    let sign_api = if http.v1 {
        "/_matrix/identity/api/v1"
    } else {
        "/_matrix/identity/v2"
    };
    Ok(InviteSettings {
        server_name: server.name.clone(),
        key_validity_base: link_base.to_owned(),
        sign_url: format!("{}{sign_api}/sign-ed25519", server.public_url),
        expiry: enabled.then(|| Duration::from_secs(minutes.saturating_mul(60))),
        full_display_name: raw.full_display_name.is_some_and(|Flag(on)| on),
        blocklist: InviteBlocklist::new(
            texts(blocklist.and_then(|b| b.keywords.as_ref())),
            texts(blocklist.and_then(|b| b.rooms.as_ref())),
            texts(blocklist.and_then(|b| b.homeservers.as_ref())),
        ),
    })
}

/// `invite` as `--dump-config` shows it (mxisd key names; parses back to the same settings).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteDump {
    expiration: ExpirationDump,
    full_display_name: bool,
    blocklist: BlocklistDump,
    policy: PolicyDump,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyDump {
    if_sender: SenderDump,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SenderDump {
    has_role: Vec<String>,
}

#[derive(Serialize)]
struct BlocklistDump {
    /// Case-folded, as they are matched.
    keywords: Vec<String>,
    rooms: Vec<String>,
    /// Lower-case, as they are matched.
    homeservers: Vec<String>,
}

#[derive(Serialize)]
struct ExpirationDump {
    enabled: bool,
    /// Minutes.
    after: u64,
}

/// The dump of `settings`.
pub fn dump(settings: &InviteSettings, sender_roles: &SenderRoles) -> InviteDump {
    InviteDump {
        policy: PolicyDump {
            if_sender: SenderDump {
                has_role: sender_roles.roles().map(str::to_owned).collect(),
            },
        },
        expiration: ExpirationDump {
            enabled: settings.expiry.is_some(),
            after: settings
                .expiry
                .map_or(DEFAULT_EXPIRY_MINUTES, |expiry| expiry.as_secs() / 60),
        },
        full_display_name: settings.full_display_name,
        blocklist: BlocklistDump {
            keywords: settings.blocklist.keywords().map(str::to_owned).collect(),
            rooms: settings.blocklist.rooms().map(str::to_owned).collect(),
            homeservers: settings
                .blocklist
                .homeservers()
                .map(str::to_owned)
                .collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use pretty_assertions::assert_eq;

    use verity_domain::InviteBlocklist;

    use verity_application::usecases::InviteSettings;

    use crate::config::tests::parsed;
    use crate::config::{ConfigWarning, effective_yaml, parse};

    fn invites(section: &str) -> InviteSettings {
        parsed(&format!("matrix: {{domain: example.org}}\n{section}"))
            .settings
            .invites
    }

    #[test]
    fn by_default_invites_expire_after_seven_days_and_show_a_redacted_address() {
        assert_eq!(
            invites(""),
            InviteSettings {
                server_name: "example.org".into(),
                key_validity_base: "https://example.org/_matrix/identity/v2".into(),
                sign_url: "https://example.org/_matrix/identity/api/v1/sign-ed25519".into(),
                expiry: Some(Duration::from_secs(10_080 * 60)),
                full_display_name: false,
                blocklist: InviteBlocklist::default(),
            }
        );
    }

    #[test]
    fn the_sign_link_is_v1_while_v1_is_served_and_the_key_validity_base_follows_the_links() {
        let s = invites(
            "server: {name: id.example.org, publicUrl: 'https://id.example.org/identity/'}",
        );
        assert_eq!(s.server_name, "id.example.org");
        assert_eq!(
            s.sign_url,
            "https://id.example.org/identity/_matrix/identity/api/v1/sign-ed25519"
        );
        assert_eq!(
            s.key_validity_base,
            "https://id.example.org/identity/_matrix/identity/v2"
        );
        let s = parsed("matrix: {domain: example.org, v1: false}")
            .settings
            .invites;
        assert_eq!(
            s.sign_url,
            "https://example.org/_matrix/identity/v2/sign-ed25519"
        );
        let s = parsed("matrix: {domain: example.org, v2: false}")
            .settings
            .invites;
        assert_eq!(
            s.key_validity_base,
            "https://example.org/_matrix/identity/api/v1"
        );
    }

    #[test]
    fn mxisd_keys_set_the_expiry_in_minutes_turn_it_off_and_show_the_whole_address() {
        let s = invites("invite: {expiration: {after: 90}, fullDisplayName: true}");
        assert_eq!(s.expiry, Some(Duration::from_secs(5_400)));
        assert!(s.full_display_name);
        let s = invites("invite: {expiration: {enabled: false, after: 5}}");
        assert_eq!(s.expiry, None);
    }

    #[test]
    fn the_blocklist_lists_sydents_keywords_rooms_and_homeservers() {
        let s = invites(
            "invite:\n  blocklist:\n    keywords: [Casino, '  ']\n    rooms: ['!spam:example.org']\n    \
             homeservers: [Evil.Example]\n",
        );
        assert_eq!(
            s.blocklist,
            InviteBlocklist::new(
                ["casino".to_owned()],
                ["!spam:example.org".to_owned()],
                ["evil.example".to_owned()]
            )
        );
        assert_eq!(s.blocklist.keywords().collect::<Vec<_>>(), ["casino"]);
    }

    #[test]
    fn a_zero_expiry_is_refused_naming_the_key() {
        let Err(error) = parse("matrix: {domain: example.org}\ninvite: {expiration: {after: 0}}")
        else {
            panic!("a zero expiry was accepted");
        };
        assert!(
            error.to_string().contains("invite.expiration.after"),
            "{error}"
        );
    }

    #[test]
    fn mxisd_resolution_keys_are_ignored_with_a_warning_not_reported_unused() {
        let loaded = parsed(
            "matrix: {domain: example.org}\ninvite:\n  resolution: {timer: 10, period: seconds}\n  \
             expiration: {resolveTo: '@x:example.org'}\n",
        );
        let ignored: Vec<&str> = loaded
            .warnings
            .iter()
            .filter(|w| matches!(w, ConfigWarning::Ignored { .. }))
            .map(ConfigWarning::path)
            .collect();
        assert_eq!(
            ignored,
            ["invite.resolution", "invite.expiration.resolveTo"]
        );
        assert_eq!(loaded.warnings.len(), 2);
    }

    #[test]
    fn the_sender_roles_of_mxisds_invite_policy_are_read_and_dumped() {
        let loaded = parsed(
            "matrix: {domain: example.org}\ninvite:\n  policy: {ifSender: {hasRole: [staff, ' admins ', '']}}\n",
        );
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let roles = &loaded.settings.invite_sender;
        assert_eq!(roles.roles().collect::<Vec<_>>(), ["admins", "staff"]);
        let dumped = effective_yaml(&loaded.settings);
        assert!(
            dumped.contains("hasRole:\n      - admins\n      - staff"),
            "{dumped}"
        );
        let again = parsed(&dumped);
        assert_eq!(&again.settings.invite_sender, roles);

        let none = parsed("matrix: {domain: example.org}\n");
        assert!(!none.settings.invite_sender.is_required());
    }

    #[test]
    fn a_role_no_profile_could_hold_is_a_configuration_error() {
        let yaml = format!(
            "matrix: {{domain: example.org}}\ninvite: {{policy: {{ifSender: {{hasRole: [{}]}}}}}}\n",
            "r".repeat(300)
        );
        let error = parse(&yaml).map(|_| ()).unwrap_err();
        assert!(
            error.to_string().contains("invite.policy.ifSender.hasRole"),
            "{error}"
        );
    }

    #[test]
    fn the_dump_parses_back_to_the_same_settings() {
        for section in [
            "",
            "invite: {expiration: {enabled: false}, fullDisplayName: true}",
            "invite: {blocklist: {keywords: [Straße, spam], rooms: ['!r:x'], homeservers: [a.example]}}",
        ] {
            let settings = parsed(&format!("matrix: {{domain: example.org}}\n{section}")).settings;
            let again = parse(&effective_yaml(&settings)).unwrap().settings;
            assert_eq!(again.invites, settings.invites, "{section}");
        }
    }
}

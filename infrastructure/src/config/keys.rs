//! The mxisd/ma1sd keys Verity accepts without using them, so that `read` says so rather than
//! call them unknown. The keys Verity reads are not listed here: `known` finds them in `raw`.

/// Top-level mxisd/ma1sd sections a later Verity release will implement. Setting one is worth a
/// warning of its own: the operator did nothing wrong, the feature is just not there yet.
pub const LATER_SECTIONS: &[&str] = &[
    "firebase",
    "wordpress",
    "view",
    "auth",
    "appsvc",
    "internal",
    "profile",
];

/// mxisd/ma1sd keys inside sections Verity reads, whose feature is not implemented yet.
pub const LATER_KEYS: &[&str] = &[
    // ma1sd: dump every HTTP request and response.
    "logging.requests",
    // mxisd 1.4: warn the owner when an unbind is refused.
    "session.policy.unbind.fraudulent",
    // mxisd: the SendGrid handler's settings.
    "notification.handlers",
    // mxisd/ma1sd's Synapse store: room names for invites by Matrix ID.
    "synapseSql.legacyRoomNames",
    // mxisd/ma1sd: the last-resort bridge of recursive lookups.
    "lookup.recursive.bridge",
];

/// mxisd/ma1sd keys Verity recognises but deliberately does not follow, with the reason the
/// warning gives. `*` stands for one name chosen by the operator (a policy, a language); when
/// such a name is close to a known one (`threepid.medium.emial`), `read` suggests the known name
/// instead.
pub const IGNORED_KEYS: &[(&str, &str)] = &[
    (
        "policy.policies.*.regexp",
        "Verity asks for the terms of service on exactly the endpoints the Identity Service API \
         gates (every authenticated v2 endpoint except POST /account/logout and POST /terms), \
         whatever paths ma1sd's `regexp` lists; see docs/configuration.md#policy",
    ),
    (
        "invite.resolution",
        "Verity delivers an invite when its address is bound here (POST 3pid/onbind to the bound \
         user's homeserver, retried until the invite expires); it does not poll the identity \
         stores; see docs/invites.md",
    ),
    (
        "invite.expiration.resolveTo",
        "an expired invite is deleted; Verity has no application-service user to resolve it to",
    ),
    ("threepid.medium.*", ONLY_EMAIL_AND_MSISDN),
    ("register.allowed", REGISTER_DOCS),
    ("register.invite", REGISTER_DOCS),
    ("register.threepid", REGISTER_DOCS),
    ("synapseSql.auth", SYNAPSE_AUTH),
    ("sql.auth", SQL_AUTH),
    ("ldap.lookup", LDAP_LOOKUP),
    (
        "exec.identity.hashEnabled",
        "ma1sd's hashing docs named it so, but ma1sd (and Verity) read exec.identity.hashLookup: \
         move it there to feed the programs' 3PIDs to hashed lookups",
    ),
    (
        "exec.identity.lookup.*.output.template",
        "ma1sd never read it: answers are in the fixed json or plain shapes of docs/backends.md#what-a-program-is-given-and-answers",
    ),
    ("netiq.lookup", LDAP_LOOKUP),
    (
        "view.session.localRemote.onTokenSubmit.failure",
        "a failed link does not say which kind of session it was: every failed link shows \
         view.session.onTokenSubmit.failure; see docs/views.md",
    ),
    ("notification.handler.*", ONLY_EMAIL_AND_MSISDN),
];

/// Why `ldap.lookup` (as ma1sd's hashing docs wrote it) is ignored.
const LDAP_LOOKUP: &str = "ma1sd's hashing docs named it so, but ma1sd (and Verity) read it inside \
     `identity` (ldap.identity.lookup): move it there to feed the directory's 3PIDs to hashed lookups";

/// Why ma1sd's documented spelling of the registration policy is ignored.
const REGISTER_DOCS: &str = "ma1sd's registration docs wrote it so, but ma1sd (and Verity) read it \
     inside `policy` (register.policy.allowed, register.policy.invite, register.policy.threepid): \
     move it there; see docs/registration.md";

/// Why `synapseSql.auth` is ignored.
pub const SYNAPSE_AUTH: &str =
    "Synapse authenticates its own users; mxisd and ma1sd forced this off as well";

/// Why `sql.auth` is ignored.
const SQL_AUTH: &str = "ma1sd's generic SQL store authenticated nobody (its `auth` was a no-op): \
     use the ldap, rest or exec store for logins";

const ONLY_EMAIL_AND_MSISDN: &str =
    "Verity validates email addresses and phone numbers only: the media are `email` and `msisdn`";

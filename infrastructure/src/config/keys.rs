//! The keys `read` knows about: those Verity reads (to suggest a spelling for an unknown one),
//! and the mxisd/ma1sd ones it accepts without using them (to say so rather than call them
//! unknown). Keep in step with `raw` and docs/configuration.md.

/// Top-level mxisd/ma1sd sections a later Verity release will implement. Setting one is worth a
/// warning of its own: the operator did nothing wrong, the feature is just not there yet.
pub const LATER_SECTIONS: &[&str] = &[
    "sql",
    "ldap",
    "netiq",
    "rest",
    "exec",
    "firebase",
    "wordpress",
    "view",
    "directory",
    "register",
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
    // mxisd/ma1sd's Synapse store beyond lookups: user directory, profiles, room names.
    "synapseSql.directory",
    "synapseSql.profile",
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
        "invite.policy",
        "invite policies need mxisd's application-service feature, which Verity does not have",
    ),
    (
        "invite.expiration.resolveTo",
        "an expired invite is deleted; Verity has no application-service user to resolve it to",
    ),
    (
        "dns.overwrite.homeserver.client",
        "mxisd used it to reach the homeserver's client-server API (for its application-service \
         and registration features, which Verity does not have); the key that matters for Verity \
         is dns.overwrite.homeserver.federation (the same `name`/`value` list), which says where \
         the homeserver's server-server API is for signed binds, unbinds, invites and OpenID; see \
         docs/federation.md",
    ),
    ("threepid.medium.*", ONLY_EMAIL_AND_MSISDN),
    ("synapseSql.auth", SYNAPSE_AUTH),
    (
        "view.session.localRemote.onTokenSubmit.failure",
        "a failed link does not say which kind of session it was: every failed link shows \
         view.session.onTokenSubmit.failure; see docs/views.md",
    ),
    ("notification.handler.*", ONLY_EMAIL_AND_MSISDN),
];

/// Why `synapseSql.auth` is ignored.
pub const SYNAPSE_AUTH: &str =
    "Synapse authenticates its own users; mxisd and ma1sd forced this off as well";

const ONLY_EMAIL_AND_MSISDN: &str =
    "Verity validates email addresses and phone numbers only: the media are `email` and `msisdn`";

/// Every section and key Verity reads, to suggest a spelling for an unknown one. Keep in step
/// with `raw`. `*` stands for one name chosen by the operator (a policy, a language, or here
/// also a medium), `[*]` for a list item.
pub const KNOWN_KEYS: &[&str] = &[
    // invite: docs/invites.md.
    "invite",
    "invite.expiration",
    "invite.expiration.enabled",
    "invite.expiration.after",
    "invite.expiration.resolveTo",
    "invite.fullDisplayName",
    "invite.resolution",
    "invite.policy",
    "matrix",
    "server",
    "key",
    "storage",
    "session",
    "logging",
    "accountConfig",
    "policy",
    "threepid",
    "notification",
    "dns",
    "federation",
    "matrix.identity",
    "storage.provider",
    "storage.provider.sqlite",
    "storage.provider.postgresql",
    "session.policy",
    "session.policy.unbind",
    "matrix.domain",
    "matrix.identity.servers",
    "matrix.v1",
    "matrix.v2",
    "server.name",
    "server.hostname",
    "server.port",
    "server.publicUrl",
    "server.maxBodySize",
    "key.path",
    "storage.backend",
    "storage.provider.sqlite.database",
    "storage.provider.postgresql.database",
    "storage.provider.postgresql.username",
    "storage.provider.postgresql.password",
    "storage.provider.postgresql.maxConnections",
    "storage.provider.postgresql.pool",
    "storage.provider.postgresql.maxConnectionsFree",
    "storage.provider.postgresql.maxConnectionAgeMillis",
    "storage.provider.postgresql.checkConnectionsEveryMillis",
    "storage.provider.postgresql.testBeforeGetFromPool",
    "session.lifetime",
    "session.maxFailedAttempts",
    "session.policy.validation",
    "session.policy.validation.enabled",
    "session.policy.validation.forLocal",
    "session.policy.validation.forRemote",
    "session.policy.validation.forLocal.enabled",
    "session.policy.validation.forLocal.toLocal",
    "session.policy.validation.forLocal.toRemote",
    "session.policy.validation.forRemote.enabled",
    "session.policy.validation.forRemote.toLocal",
    "session.policy.validation.forRemote.toRemote",
    "session.policy.validation.forLocal.toRemote.enabled",
    "session.policy.validation.forLocal.toRemote.server",
    "session.policy.validation.forRemote.toRemote.enabled",
    "session.policy.validation.forRemote.toRemote.server",
    "session.policy.unbind.enabled",
    "session.policy.unbind.notifications",
    "logging.root",
    "logging.app",
    "logging.format",
    "session.nextLink",
    "session.nextLink.allowed",
    "accountConfig.allowOnlyTrustDomains",
    "accountConfig.tokenLifetime",
    "policy.policies",
    "policy.policies.*.version",
    "policy.policies.*.terms",
    "policy.policies.*.terms.*.name",
    "policy.policies.*.terms.*.url",
    // threepid: docs/connectors.md and docs/templates.md. The blocks under `connectors` and
    // `generators` use mxisd's snake_case.
    "threepid.medium",
    "threepid.medium.email",
    "threepid.medium.msisdn",
    "threepid.medium.email.identity",
    "threepid.medium.email.identity.from",
    "threepid.medium.email.identity.name",
    "threepid.medium.*.connector",
    "threepid.medium.*.generator",
    "threepid.medium.*.connectors",
    "threepid.medium.*.generators",
    "threepid.medium.email.connectors.smtp",
    "threepid.medium.email.connectors.smtp.host",
    "threepid.medium.email.connectors.smtp.port",
    "threepid.medium.email.connectors.smtp.tls",
    "threepid.medium.email.connectors.smtp.login",
    "threepid.medium.email.connectors.smtp.password",
    "threepid.medium.email.connectors.smtp.insecure_skip_tls_verify",
    "threepid.medium.email.connectors.smtp.tls_ca_file",
    "threepid.medium.msisdn.connectors.twilio",
    "threepid.medium.msisdn.connectors.twilio.account_sid",
    "threepid.medium.msisdn.connectors.twilio.auth_token",
    "threepid.medium.msisdn.connectors.twilio.number",
    "threepid.medium.msisdn.connectors.twilio.api_url",
    "threepid.medium.*.connectors.file",
    "threepid.medium.*.connectors.file.directory",
    "threepid.medium.*.generators.template",
    "threepid.medium.*.generators.template.invite",
    "threepid.medium.*.generators.template.session",
    "threepid.medium.*.generators.template.session.validation",
    "threepid.medium.*.generators.template.session.validation.local",
    "threepid.medium.*.generators.template.session.validation.remote",
    "threepid.medium.*.generators.template.session.unbind",
    "threepid.medium.*.generators.template.session.unbind.notification",
    "threepid.medium.*.generators.template.session.unbind.fraudulent",
    "threepid.medium.*.generators.template.generic",
    "threepid.medium.*.generators.template.generic.matrixId",
    "threepid.medium.*.generators.template.placeholder",
    "threepid.medium.*.generators.template.placeholder.REGISTER_URL",
    "notification.handler",
    "notification.handler.email",
    "notification.handler.msisdn",
    // dns and federation: docs/federation.md.
    "dns.overwrite",
    "dns.overwrite.homeserver",
    "dns.overwrite.homeserver.federation",
    "dns.overwrite.homeserver.federation[*].name",
    "dns.overwrite.homeserver.federation[*].value",
    "federation.allowedNetworks",
    "federation.verifyTls",
    "federation.timeout",
    "federation.maxResponseBytes",
    // synapseSql: docs/backends.md.
    "synapseSql",
    "synapseSql.enabled",
    "synapseSql.type",
    "synapseSql.connection",
    "synapseSql.maxConnections",
    "synapseSql.identity",
    "synapseSql.identity.enabled",
    "synapseSql.identity.type",
    "synapseSql.identity.query",
    "synapseSql.identity.medium",
    "synapseSql.lookup",
    "synapseSql.lookup.query",
    // bindings, hashing, memory, lookup and session.policy.unbind: docs/lookups.md.
    "bindings",
    "bindings.enabled",
    "hashing",
    "hashing.enabled",
    "hashing.pepperLength",
    "hashing.rotationPolicy",
    "hashing.requests",
    "hashing.delay",
    "hashing.hashStorageType",
    "hashing.algorithms",
    "memory",
    "memory.enabled",
    "memory.hashEnabled",
    "memory.identities",
    "memory.identities[*].username",
    "memory.identities[*].password",
    "memory.identities[*].displayName",
    "memory.identities[*].threepids",
    "memory.identities[*].threepids[*].medium",
    "memory.identities[*].threepids[*].address",
    "memory.identities[*].roles",
    "lookup",
    "lookup.maxAddresses",
    // lookup.recursive and forward: docs/lookups.md.
    "lookup.recursive",
    "lookup.recursive.enabled",
    "lookup.recursive.allowedCidr",
    "lookup.recursive.trustedProxies",
    "forward",
    "forward.servers",
    // view: docs/views.md.
    "view",
    "view.session",
    "view.session.onTokenSubmit",
    "view.session.onTokenSubmit.success",
    "view.session.onTokenSubmit.failure",
    "view.session.local",
    "view.session.local.onTokenSubmit",
    "view.session.local.onTokenSubmit.success",
    "view.session.local.onTokenSubmit.failure",
    "view.session.localRemote",
    "view.session.localRemote.onTokenSubmit",
    "view.session.localRemote.onTokenSubmit.success",
    "view.session.remote",
    "view.session.remote.onRequest",
    "view.session.remote.onRequest.success",
    "view.session.remote.onRequest.failure",
    "view.session.remote.onCheck",
    "view.session.remote.onCheck.success",
    "view.session.remote.onCheck.failure",
    "view.verify_response_template",
];

//! The Verity configuration equivalent to a `sydent.conf`, commented for the operator's review.
use std::fmt::Write as _;
use std::path::PathBuf;

use super::templates::{TemplateKind, WrittenTemplate};
use super::terms::{SydentTerms, write_terms};
use super::{SydentConf, SydentTls};

/// What the import found beside `sydent.conf` and can refer to in the YAML.
#[derive(Debug, Clone, Default)]
pub struct YamlExtras {
    /// Email templates converted and written for Verity (see `templates::write_converted`).
    pub templates: Vec<WrittenTemplate>,
    /// The SMS template written for Verity (Sydent's `bodyTemplate`, converted).
    pub sms_template: Option<PathBuf>,
    /// Sydent's validation page when the file exists (Verity reads `%(message)s` as is).
    pub page: Option<PathBuf>,
    /// Sydent's terms (`terms.path`), read.
    pub terms: Option<SydentTerms>,
    /// Where the signing key is written (`key.path`); `keys` when not given.
    pub key_path: Option<PathBuf>,
    /// Verity's database (`storage.provider.sqlite.database`); `verity.db` when not given.
    pub database: Option<PathBuf>,
}

/// Text safe inside a YAML comment: line breaks become `, `.
fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// YAML single-quoted scalar.
pub(super) fn q(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Splits Sydent's `email.from` (`Display Name <address>` or an address).
fn split_from(from: &str) -> (String, Option<String>) {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(open), Some(close)) if open < close => {
            let name = from[..open].trim().trim_matches('"').trim();
            (
                from[open + 1..close].trim().to_owned(),
                (!name.is_empty()).then(|| name.to_owned()),
            )
        }
        _ => (from.trim().to_owned(), None),
    }
}

/// Python's log levels as Verity's.
fn level(python: &str) -> &'static str {
    match python.to_uppercase().as_str() {
        "DEBUG" | "NOTSET" => "debug",
        "WARNING" | "WARN" => "warn",
        "ERROR" | "CRITICAL" | "FATAL" => "error",
        _ => "info",
    }
}

/// [`verity_yaml_with`] without files found beside `sydent.conf`: template keys are left as
/// comments.
pub fn verity_yaml(conf: &SydentConf) -> String {
    verity_yaml_with(conf, &YamlExtras::default())
}

/// The Verity YAML equivalent to `conf`, with a comment for every Sydent setting Verity does not
/// take. It holds the SMTP password when Sydent had one: write it with mode 0600.
pub fn verity_yaml_with(conf: &SydentConf, extras: &YamlExtras) -> String {
    let mut y = String::new();
    let g = &conf.general;
    let _ = writeln!(
        y,
        "# Verity configuration written by `verity import sydent` from Sydent's sydent.conf.\n# Review every line before starting Verity (docs/migration.md). Lines marked CHECK are guesses.\n# Sydent settings Verity does not take are listed at the end, each with the reason."
    );
    for warning in &conf.warnings {
        let _ = writeln!(y, "# sydent.conf: {warning}");
    }
    let name = g.server_name.clone();
    let domain = name
        .as_deref()
        .map(|n| n.split(':').next().unwrap_or(n).to_owned())
        .unwrap_or_else(|| "change-me.invalid".to_owned());
    let _ = writeln!(
        y,
        "\nmatrix:\n  # CHECK: the domain of your users' Matrix IDs (@alice:<domain>). Sydent had no such\n  # setting; this is its server.name. With the validation policy and accountConfig below it\n  # only fills %DOMAIN% in messages and the default %REGISTER_URL%.\n  domain: {}\n  v1: {}    # [general] enable_v1_access\n  v2: true",
        q(&domain),
        g.enable_v1_access
    );
    let _ = writeln!(y, "\nserver:");
    match &name {
        Some(n) => {
            let _ = writeln!(
                y,
                "  name: {}    # [general] server.name: the name Sydent's signatures carry",
                q(n)
            );
        }
        None => {
            let _ = writeln!(
                y,
                "  # name: not set in sydent.conf (Sydent used the machine's host name): set it to the name\n  # its signatures carry, or new signatures will name matrix.domain"
            );
        }
    }
    let _ = writeln!(
        y,
        "  hostname: {}    # [http] clientapi.http.bind_address\n  port: {}    # [http] clientapi.http.port",
        q(&conf.http.bind_address),
        conf.http.port
    );
    match &conf.http.client_http_base {
        Some(base) => {
            let _ = writeln!(
                y,
                "  publicUrl: {}    # [http] client_http_base",
                q(base.trim_end_matches('/'))
            );
        }
        None => {
            let _ = writeln!(
                y,
                "  # publicUrl: not set in sydent.conf: https://<server.name> is used; CHECK it is where users reach you"
            );
        }
    }
    if let Some(port) = conf.http.internal_port {
        let _ = writeln!(
            y,
            "  internal:    # Sydent's internal bind API (docs/admin.md): no authentication, keep it private
    bindApi: true
    hostname: {}    # [http] internalapi.http.bind_address
    port: {port}    # [http] internalapi.http.port",
            q(&conf.http.internal_bind_address)
        );
    }
    let key_path = extras
        .key_path
        .as_deref()
        .map_or_else(|| "keys".to_owned(), |p| p.display().to_string());
    let _ = writeln!(
        y,
        "\nkey:\n  # Sydent's [crypto] ed25519.signingkey, kept as {} (written here by the import).\n  path: {}",
        conf.signing_key.id(),
        q(&key_path)
    );
    let database = extras
        .database
        .as_deref()
        .map_or_else(|| "verity.db".to_owned(), |p| p.display().to_string());
    let _ = writeln!(
        y,
        "\nstorage:\n  # Verity's own database, which the import fills from Sydent's ({}).\n  backend: sqlite\n  provider:\n    sqlite:\n      database: {}",
        conf.database_path,
        q(&database)
    );
    write_policy_and_accounts(&mut y, conf);
    write_terms(&mut y, extras.terms.as_ref());
    write_threepid(&mut y, conf, extras);
    write_rest(&mut y, conf, extras);
    write_not_taken(&mut y, conf);
    y
}

fn write_policy_and_accounts(y: &mut String, conf: &SydentConf) {
    let g = &conf.general;
    let _ = writeln!(
        y,
        "\nsession:\n  policy:\n    validation:\n      # Sydent validated every address itself and published nowhere else: the same here.\n      forLocal:\n        toLocal: true\n        toRemote:\n          enabled: false\n      forRemote:\n        toLocal: true\n        toRemote:\n          enabled: false\n  # nextLink:\n  #   allowed: ['https://app.element.io/']   # Verity redirects after validation only to these"
    );
    let _ = writeln!(y, "\naccountConfig:");
    if g.homeserver_allow_list.is_empty() {
        let _ = writeln!(
            y,
            "  allowOnlyTrustDomains: false    # Sydent registered users of any homeserver"
        );
    } else {
        let _ = writeln!(
            y,
            "  # Sydent's homeserver_allow_list ({}): Verity can only restrict registration to\n  # matrix.domain. CHECK.\n  allowOnlyTrustDomains: true",
            g.homeserver_allow_list.join(", ")
        );
    }
}

fn write_threepid(y: &mut String, conf: &SydentConf, extras: &YamlExtras) {
    let e = &conf.email;
    let (address, display) = split_from(&e.from);
    let _ = writeln!(y, "\nthreepid:\n  medium:\n    email:\n      identity:");
    if address.contains("{hostname}") {
        let _ = writeln!(
            y,
            "        # CHECK: Sydent's email.from ({}) is its default, with a literal {{hostname}}.\n        from: {}",
            e.from,
            q(&address.replace("{hostname}", "change-me.invalid"))
        );
    } else {
        let _ = writeln!(y, "        from: {}    # [email] email.from", q(&address));
    }
    if let Some(display) = display {
        let _ = writeln!(y, "        name: {}", q(&display));
    }
    let tls = match e.tls {
        SydentTls::None => "0    # [email] email.tlsmode: plain SMTP, as Sydent",
        SydentTls::StartTls => "2    # [email] email.tlsmode STARTTLS: required",
        SydentTls::Implicit => "3    # [email] email.tlsmode SSL/TLS: implicit TLS",
    };
    let _ = writeln!(
        y,
        "      connector: smtp\n      connectors:\n        smtp:\n          host: {}\n          port: {}\n          tls: {tls}",
        q(&e.smtp_host),
        e.smtp_port
    );
    if let Some(login) = &e.smtp_username {
        let _ = writeln!(y, "          login: {}", q(login));
    }
    if let Some(password) = &e.smtp_password {
        let _ = writeln!(y, "          password: {}", q(password.expose()));
    }
    if e.tls != SydentTls::None {
        let _ = writeln!(
            y,
            "          # Verity checks the server's certificate (Sydent did too); for a private CA set tls_ca_file."
        );
    }
    let _ = writeln!(
        y,
        "      # Sydent's templates use Python %(name)s (or Jinja {{{{ name }}}}) placeholders; Verity's are\n      # %NAME% (docs/templates.md). The import converts them where Verity has the value."
    );
    let path_of = |kind: TemplateKind| extras.templates.iter().find(|t| t.kind == kind);
    let validation = path_of(TemplateKind::Verification);
    let invite = path_of(TemplateKind::Invite);
    let _ = writeln!(
        y,
        "      generators:\n        template:\n          session:"
    );
    write_template_line(y, "            validation", validation);
    write_template_line(y, "          invite", invite);
    let _ = writeln!(y, "    msisdn:");
    let _ = writeln!(
        y,
        "      # Sydent sent SMS through OpenMarket ([sms] username/password); Verity sends them through\n      # Twilio. Until a Twilio account is set, phone numbers cannot be validated.\n      # connector: twilio\n      # connectors:\n      #   twilio: {{account_sid: 'AC...', auth_token: '...', number: '+15551234567'}}"
    );
    match &extras.sms_template {
        Some(path) => {
            let _ = writeln!(
                y,
                "      generators:\n        template:\n          session:\n            validation: {}    # [sms] bodyTemplate, converted",
                q(&path.display().to_string())
            );
        }
        None => {
            let _ = writeln!(
                y,
                "      # [sms] bodyTemplate {:?}: write it (with %VALIDATION_TOKEN% for {{token}}) to a file and set\n      # generators.template.session.validation to it",
                conf.sms.body_template
            );
        }
    }
}

fn write_template_line(y: &mut String, key: &str, written: Option<&WrittenTemplate>) {
    let indent = &key[..key.len() - key.trim_start().len()];
    let Some(written) = written else {
        let _ = writeln!(
            y,
            "{indent}# {}: no converted Sydent template (docs/migration.md): Verity's built-in one is used",
            key.trim_start()
        );
        return;
    };
    let _ = writeln!(
        y,
        "{key}: {}    # from {}",
        q(&written.written.display().to_string()),
        written.source.display()
    );
    let c = &written.conversion;
    if !c.unmapped.is_empty() {
        let names: Vec<&str> = c.unmapped.iter().map(String::as_str).collect();
        let _ = writeln!(
            y,
            "{indent}# CHECK: no Verity placeholder for {}: left out",
            names.join(", ")
        );
    }
    for note in c.notes.iter().chain(c.unconverted.iter()) {
        let _ = writeln!(y, "{indent}# {}", one_line(note));
    }
}

fn write_rest(y: &mut String, conf: &SydentConf, extras: &YamlExtras) {
    let g = &conf.general;
    if let Some(page) = &extras.page {
        let _ = writeln!(
            y,
            "\nview:\n  # Sydent's validation page, read as is (%(message)s is Verity's message).\n  verify_response_template: {}",
            q(&page.display().to_string())
        );
    }
    let _ = writeln!(
        y,
        "\nlookup:\n  maxAddresses: {}    # [general] address_lookup_limit",
        g.address_lookup_limit
    );
    if !g.ip_whitelist.is_empty() || !conf.http.verify_federation_certs {
        let _ = writeln!(y, "\nfederation:");
        if !g.ip_whitelist.is_empty() {
            let list: Vec<String> = g.ip_whitelist.iter().map(|n| q(n)).collect();
            let _ = writeln!(
                y,
                "  allowedNetworks: [{}]    # [general] ip.whitelist",
                list.join(", ")
            );
        }
        if !conf.http.verify_federation_certs {
            let _ = writeln!(
                y,
                "  verifyTls: false    # [http] federation.verifycerts = False (tests only)"
            );
        }
    }
    let _ = writeln!(
        y,
        "\nlogging:\n  app: {}    # [general] log.level {}",
        level(&g.log_level),
        g.log_level
    );
    let _ = writeln!(
        y,
        "\ninvite:\n  # Sydent honoured an invite with no time limit; false keeps that (Verity then keeps invites,\n  # and retries their delivery, for ever). Set true and `after` (minutes) to bound them.\n  expiration:\n    enabled: false"
    );
}

fn write_not_taken(y: &mut String, conf: &SydentConf) {
    let g = &conf.general;
    let mut lines: Vec<String> = vec![
        format!(
            "[general] templates.path / brand.default ({} / {}): Verity has one set of templates, no brands chosen per request",
            g.templates_path, g.brand_default
        ),
        format!(
            "[general] delete_tokens_on_bind = {}: no such setting; Verity keeps a delivered invite, marked delivered, until invite.expiration",
            g.delete_tokens_on_bind
        ),
        format!(
            "[email] email.subject ({:?}): Sydent did not use it either; the subject is in the template",
            conf.email.subject
        ),
        format!(
            "[email] email.default_web_client_location ({}): no equivalent; %WEB_CLIENT_LOCATION% is empty when the homeserver sends none",
            conf.email.default_web_client_location
        ),
        "[sms] username / password (OpenMarket): Verity sends SMS through Twilio".to_owned(),
    ];
    if g.enable_v1_access && !g.enable_v1_associations {
        lines.push("[general] enable_v1_associations = false: CHECK: Verity cannot refuse v1 binds alone; matrix.v1: false turns off the whole v1 API".to_owned());
    }
    if !g.ip_blacklist.is_empty() {
        lines.push(format!("[general] ip.blacklist ({}): Verity always refuses private and reserved addresses; federation.allowedNetworks makes exceptions", g.ip_blacklist.join(", ")));
    }
    if let Some(path) = &g.log_path {
        lines.push(format!(
            "[general] log.path ({path}): Verity logs to stdout; redirect it"
        ));
    }
    if let Some(host) = &conf.email.helo_hostname {
        lines.push(format!(
            "[email] email.hostname ({host}): Verity's SMTP client names itself"
        ));
    }
    if conf.http.replication_enabled || !conf.http.peers.is_empty() {
        lines.push(format!(
            "[http] replication.https.* and [peer.*] ({}): Verity does not replicate",
            conf.http.peers.join(", ")
        ));
    }
    if conf.http.obey_x_forwarded_for {
        lines.push("[http] obey_x_forwarded_for = True: set lookup.recursive.trustedProxies to your reverse proxy".to_owned());
    }
    for (option, value) in g
        .other
        .iter()
        .chain(&conf.email.other)
        .chain(&conf.sms.other)
    {
        lines.push(format!("{option} = {value}: no equivalent in Verity"));
    }
    let _ = writeln!(y, "\n# Sydent settings Verity does not take:");
    for line in lines {
        let _ = writeln!(y, "#   {}", one_line(&line));
    }
}

//! The files a throwaway Synapse starts from: `homeserver.yaml`, its log configuration, an
//! ed25519 signing key and the federation listener's self-signed certificate.
use std::path::Path;

use base64::Engine as _;

/// The ports and names one Synapse is configured with.
pub(crate) struct Layout<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) client_port: u16,
    pub(crate) federation_port: u16,
    pub(crate) server_name: &'a str,
    pub(crate) msisdn_delegate: Option<&'a str>,
    /// Appended to `homeserver.yaml` as written.
    pub(crate) extra_yaml: Option<&'a str>,
}

/// Rate limits high enough that a test never meets them.
const UNLIMITED: &str = "{per_second: 1000, burst_count: 1000}";

/// Writes every file into `layout.dir`.
pub(crate) fn write_all(layout: &Layout<'_>) {
    let dir = layout.dir;
    write(dir, "homeserver.yaml", &homeserver_yaml(layout));
    write(dir, "log.yaml", &log_yaml(dir));
    // signedjson's format: algorithm, version, unpadded base64 seed. A fixed seed: the key is
    // only ever trusted by the Verity of the same test.
    let seed = base64::engine::general_purpose::STANDARD_NO_PAD.encode([42u8; 32]);
    write(dir, "signing.key", &format!("ed25519 a_test {seed}\n"));
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("generate the federation certificate");
    write(dir, "tls.crt", &certified.cert.pem());
    write(dir, "tls.key", &certified.signing_key.serialize_pem());
}

fn write(dir: &Path, name: &str, contents: &str) {
    let path = dir.join(name);
    std::fs::write(&path, contents)
        .unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
}

fn homeserver_yaml(layout: &Layout<'_>) -> String {
    let dir = layout.dir.display();
    let Layout {
        client_port,
        federation_port,
        server_name,
        ..
    } = layout;
    let delegate = layout
        .msisdn_delegate
        .map(|url| format!("account_threepid_delegates:\n  msisdn: '{url}'\n"))
        .unwrap_or_default();
    format!(
        "server_name: '{server_name}'
pid_file: '{dir}/homeserver.pid'
public_baseurl: 'http://127.0.0.1:{client_port}/'
listeners:
  - port: {client_port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    resources: [{{names: [client], compress: false}}]
  - port: {federation_port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: true
    resources: [{{names: [federation, keys], compress: false}}]
tls_certificate_path: '{dir}/tls.crt'
tls_private_key_path: '{dir}/tls.key'
database:
  name: sqlite3
  args: {{database: '{dir}/homeserver.db'}}
log_config: '{dir}/log.yaml'
media_store_path: '{dir}/media'
signing_key_path: '{dir}/signing.key'
report_stats: false
enable_metrics: false
macaroon_secret_key: 'verity-test-macaroon'
form_secret: 'verity-test-form'
registration_shared_secret: 'verity-test-registration'
enable_registration: true
enable_registration_without_verification: true
trusted_key_servers: []
suppress_key_server_warning: true
# Everything is on loopback with self-signed certificates: identity servers, the msisdn
# delegate, key validity URLs.
federation_verify_certificates: false
use_insecure_ssl_client_just_for_testing_do_not_use: true
ip_range_whitelist: ['127.0.0.0/8', '::1/128']
presence: {{enabled: false}}
url_preview_enabled: false
# Every local user is found by the directory search, as the user-directory tests expect.
user_directory: {{enabled: true, search_all_users: true}}
rc_user_directory: {UNLIMITED}
{delegate}rc_message: {UNLIMITED}
rc_registration: {UNLIMITED}
rc_registration_token_validity: {UNLIMITED}
rc_login:
  address: {UNLIMITED}
  account: {UNLIMITED}
  failed_attempts: {UNLIMITED}
rc_joins:
  local: {UNLIMITED}
  remote: {UNLIMITED}
rc_invites:
  per_room: {UNLIMITED}
  per_user: {UNLIMITED}
  per_issuer: {UNLIMITED}
rc_third_party_invite: {UNLIMITED}
rc_3pid_validation: {UNLIMITED}
{}",
        layout.extra_yaml.unwrap_or_default()
    )
}

fn log_yaml(dir: &Path) -> String {
    format!(
        "version: 1
formatters:
  plain:
    format: '%(asctime)s %(levelname)s %(name)s: %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: plain
    filename: '{}/homeserver.log'
root:
  level: INFO
  handlers: [file]
disable_existing_loggers: false
",
        dir.display()
    )
}

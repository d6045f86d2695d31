//! A throwaway OpenLDAP: Debian's `slapd`, which `scripts/test` installs, with a generated
//! `slapd.conf` and an mdb database in a temporary directory, listening on loopback ports.
//!
//! - seeded before it starts with `slapadd` (the suffix, `ou=people` and the caller's LDIF),
//!   and changed while it runs with `ldapmodify` ([`Slapd::modify`]);
//! - the schemas are core, cosine and inetOrgPerson, plus a small one with Active Directory's
//!   `sAMAccountName`, `userPrincipalName`, `otherTelephone`, `otherMobile`, `otherHomePhone`
//!   and ma1sd's `mailPrimaryAddress` on an auxiliary class `verityTestUser` (which also allows
//!   cosine's `otherMailbox`);
//! - `allow bind_anon_dn`, as Active Directory: a DN with an empty password binds,
//!   unauthenticated;
//! - optionally a size limit (as Active Directory's 1,000), which paged searches get past;
//! - optionally TLS ([`Options::tls`]): StartTLS on the `ldap://` port and an `ldaps://` port,
//!   with a certificate for `127.0.0.1` and `localhost` from a test CA ([`Slapd::ca_file`]).
//!
//! The process is killed when the value is dropped. Where slapd is: [`binary`].
use std::io::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

pub use crate::slapd_conf::{ADMIN_DN, ADMIN_PASSWORD, PEOPLE, SUFFIX, ldif_line};
use crate::slapd_conf::{BASE_LDIF, Conf, slapd_conf, test_ca, write_files};

/// The variable naming slapd, when not `/usr/sbin/slapd`.
pub const SLAPD_VAR: &str = "VERITY_TEST_SLAPD";

/// How long start-up may take (about 0.1 s on an idle machine).
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// slapd, from [`SLAPD_VAR`] or `/usr/sbin/slapd`.
///
/// Missing: `None` with a note on stderr (the LDAP tests then pass without running), except
/// under CI (`CI` set), where it panics: CI must run them.
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os(SLAPD_VAR)
        .filter(|path| !path.is_empty())
        .map_or_else(|| PathBuf::from("/usr/sbin/slapd"), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {} is missing: CI must run the LDAP tests (scripts/test installs slapd)",
        path.display()
    );
    static NOTE: Once = Once::new();
    NOTE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "note: {} is missing; the LDAP tests pass without running (scripts/test installs \
             Debian's slapd)",
            path.display()
        );
    });
    None
}

/// What to configure beyond the defaults.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// StartTLS and LDAPS with a certificate from a test CA.
    pub tls: bool,
    /// The most entries one search (or one page) returns.
    pub size_limit: Option<u32>,
}

/// A running slapd.
pub struct Slapd {
    dir: tempfile::TempDir,
    child: Child,
    binary: PathBuf,
    urls: String,
    port: u16,
    ldaps_port: Option<u16>,
    startup: Duration,
}

impl Slapd {
    /// Starts slapd from [`binary`] with `ldif` added under the base entries; `None` when slapd
    /// is missing outside CI.
    ///
    /// # Panics
    /// When the LDIF is refused or slapd exits or does not listen within 20 seconds.
    pub fn start(ldif: &str, options: &Options) -> Option<Self> {
        let slapd = binary()?;
        let mut tries = 0;
        loop {
            tries += 1;
            match Self::try_start(&slapd, ldif, options) {
                Ok(server) => return Some(server),
                // A port taken between choosing it and slapd binding it.
                Err(logs) if tries < 3 && logs.contains("Address already in use") => {}
                Err(logs) => panic!("{logs}"),
            }
        }
    }

    fn try_start(slapd: &Path, ldif: &str, options: &Options) -> Result<Self, String> {
        let began = Instant::now();
        let dir = tempfile::tempdir().expect("a temporary directory for slapd");
        let tls = options.tls.then(test_ca);
        let conf = slapd_conf(&Conf {
            dir: dir.path(),
            tls: tls.is_some(),
            size_limit: options.size_limit,
        });
        write_files(dir.path(), &conf, tls.as_ref());
        let seed = dir.path().join("seed.ldif");
        std::fs::write(&seed, format!("{BASE_LDIF}{ldif}")).expect("seed.ldif");
        let slapadd = slapd.with_file_name("slapadd");
        let added = Command::new(&slapadd)
            .arg("-q")
            .arg("-f")
            .arg(dir.path().join("slapd.conf"))
            .arg("-l")
            .arg(&seed)
            .output()
            .unwrap_or_else(|error| panic!("run {}: {error}", slapadd.display()));
        assert!(
            added.status.success(),
            "slapadd refused the seed:\n{}\n{}",
            String::from_utf8_lossy(&added.stderr),
            std::fs::read_to_string(&seed).unwrap_or_default()
        );
        let port = free_port();
        let ldaps_port = options.tls.then(free_port);
        let mut urls = format!("ldap://127.0.0.1:{port}/");
        if let Some(ldaps) = ldaps_port {
            urls.push_str(&format!(" ldaps://127.0.0.1:{ldaps}/"));
        }
        let child = spawn(slapd, &urls, dir.path());
        let mut server = Self {
            dir,
            child,
            binary: slapd.to_owned(),
            urls,
            port,
            ldaps_port,
            startup: Duration::ZERO,
        };
        server.wait_until_listening()?;
        server.startup = began.elapsed();
        Ok(server)
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        let ports: Vec<u16> = std::iter::once(self.port).chain(self.ldaps_port).collect();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("slapd exited ({status}):\n{}", self.logs()));
            }
            if ports
                .iter()
                .all(|port| TcpStream::connect(("127.0.0.1", *port)).is_ok())
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "slapd did not listen within {START_TIMEOUT:?}:\n{}",
                    self.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// What slapd wrote.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }

    /// The plain (and StartTLS) port on `127.0.0.1`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The LDAPS port, with [`Options::tls`].
    pub fn ldaps_port(&self) -> Option<u16> {
        self.ldaps_port
    }

    /// `ldap://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// The test CA's certificate (PEM), with [`Options::tls`].
    pub fn ca_file(&self) -> Option<PathBuf> {
        let path = self.dir.path().join("ca.pem");
        path.exists().then_some(path)
    }

    /// How long writing the configuration, seeding and starting took.
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// Applies `ldif` (changetype records, or entries to add with `add`) as the administrator.
    ///
    /// # Panics
    /// When `ldapmodify` is missing or slapd refuses a change.
    pub fn modify(&self, ldif: &str, add: bool) {
        let mut command = Command::new("ldapmodify");
        command
            .args([
                "-x",
                "-H",
                &self.url(),
                "-D",
                ADMIN_DN,
                "-w",
                ADMIN_PASSWORD,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if add {
            command.arg("-a");
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("run ldapmodify (ldap-utils): {error}"));
        child
            .stdin
            .take()
            .expect("ldapmodify's stdin")
            .write_all(ldif.as_bytes())
            .expect("write to ldapmodify");
        let output = child.wait_with_output().expect("ldapmodify");
        assert!(
            output.status.success(),
            "ldapmodify refused:\n{ldif}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the stopped server again, on the same ports with the same database (a directory
    /// back up).
    ///
    /// # Panics
    /// When slapd does not listen again.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(&self.binary, &self.urls, self.dir.path());
        if let Err(logs) = self.wait_until_listening() {
            panic!("{logs}");
        }
    }

    /// Stops the server (a directory that went down); [`Drop`] does it too.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// slapd in the foreground, listening on `urls`, with the configuration of `dir`, its output
/// appended to `dir/slapd.log`.
fn spawn(slapd: &Path, urls: &str, dir: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("slapd.log"))
        .expect("slapd.log");
    Command::new(slapd)
        .arg("-h")
        .arg(urls)
        .arg("-f")
        .arg(dir.join("slapd.conf"))
        .arg("-d")
        .arg("0")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("slapd.log"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|error| panic!("start {}: {error}", slapd.display()))
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ldapsearch` of `filter` under the suffix, with `args` first; its output.
    fn search(args: &[&str], filter: &str) -> String {
        let output = Command::new("ldapsearch")
            .args(args)
            .args(["-x", "-LLL", "-b", SUFFIX, filter, "mail"])
            .output()
            .expect("ldapsearch (ldap-utils)");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn person(uid: &str) -> String {
        format!(
            "dn: uid={uid},{PEOPLE}\nobjectClass: inetOrgPerson\nobjectClass: verityTestUser\n\
             uid: {uid}\ncn: {uid}\nsn: {uid}\nmail: {uid}@example.org\nsAMAccountName: {uid}\n\n"
        )
    }

    #[test]
    fn a_seeded_server_answers_searches_and_takes_changes() {
        let Some(slapd) = Slapd::start(&person("alice"), &Options::default()) else {
            return;
        };
        let url = slapd.url();
        assert!(search(&["-H", &url], "(uid=alice)").contains("mail: alice@example.org"));
        slapd.modify(&person("bob"), true);
        assert!(search(&["-H", &url], "(sAMAccountName=BOB)").contains("mail: bob@example.org"));
        assert!(slapd.startup() < START_TIMEOUT);
    }

    #[test]
    fn a_size_limit_cuts_plain_searches_but_not_paged_ones() {
        let seed: String = (0..5).map(|n| person(&format!("u{n}"))).collect();
        let options = Options {
            size_limit: Some(2),
            ..Options::default()
        };
        let Some(slapd) = Slapd::start(&seed, &options) else {
            return;
        };
        let url = slapd.url();
        let count = |text: String| text.matches("mail: ").count();
        assert_eq!(count(search(&["-H", &url], "(mail=*)")), 2);
        assert_eq!(
            count(search(&["-H", &url, "-E", "pr=2/noprompt"], "(mail=*)")),
            5
        );
    }

    #[test]
    fn with_tls_starttls_and_ldaps_answer_with_a_certificate_from_the_test_ca() {
        let options = Options {
            tls: true,
            ..Options::default()
        };
        let Some(slapd) = Slapd::start(&person("alice"), &options) else {
            return;
        };
        let ca = slapd.ca_file().expect("the test CA");
        let ldaps = format!("ldaps://127.0.0.1:{}", slapd.ldaps_port().expect("ldaps"));
        let search_tls = |args: &[&str]| {
            let output = Command::new("ldapsearch")
                .env("LDAPTLS_CACERT", &ca)
                .env("LDAPTLS_REQCERT", "demand")
                .args(args)
                .args(["-x", "-LLL", "-b", SUFFIX, "(uid=alice)", "mail"])
                .output()
                .expect("ldapsearch (ldap-utils)");
            String::from_utf8_lossy(&output.stdout).into_owned()
        };
        assert!(search_tls(&["-H", &slapd.url(), "-ZZ"]).contains("alice@example.org"));
        assert!(search_tls(&["-H", &ldaps]).contains("alice@example.org"));
    }
}

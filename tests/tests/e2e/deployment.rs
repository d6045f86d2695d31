//! docs/deployment.md and the packaging files as test fixtures: the guide quotes its files as
//! they are; Verity's loader reads its configurations; every file names Verity by one URL; the
//! proxies pass their own checks (`nginx -t`, `caddy adapt`) and send every public path Verity
//! serves to Verity and nothing else (deployment_proxy.rs); Synapse reads the excerpt; systemd
//! accepts the unit (deployment_tools.rs).
use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;
use serde_json::Value;

/// The repository's root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

pub(crate) fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The guide's public URL of Verity.
pub(crate) const PUBLIC_URL: &str = "https://id.example.org";

/// The blocks the guide marks `<!-- snippet: <path> -->`: (path, the fenced block's text).
fn quoted_snippets(guide: &str) -> Vec<(String, String)> {
    let mut snippets = Vec::new();
    let mut lines = guide.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- snippet: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(
            fence.starts_with("```"),
            "{path}: no fenced block after the marker"
        );
        let mut text = String::new();
        for line in lines.by_ref().take_while(|line| *line != "```") {
            text.push_str(line);
            text.push('\n');
        }
        snippets.push((path.to_owned(), text));
    }
    snippets
}

#[test]
fn the_guide_quotes_every_file_of_the_deployment_as_it_is() {
    let snippets = quoted_snippets(&read("docs/deployment.md"));
    for (path, text) in &snippets {
        assert_eq!(*text, read(path), "docs/deployment.md quotes {path}");
    }
    let mut files: Vec<String> = std::fs::read_dir(root().join("docs/deployment"))
        .unwrap()
        .map(|entry| {
            format!(
                "docs/deployment/{}",
                entry.unwrap().file_name().to_string_lossy()
            )
        })
        .collect();
    files.push("deploy/systemd/verity.service".to_owned());
    for file in files {
        assert!(
            snippets.iter().any(|(path, _)| *path == file),
            "docs/deployment.md does not quote {file}"
        );
    }
}

#[test]
fn verity_reads_each_configuration_of_the_deployment_without_a_warning() {
    for path in [
        "docs/deployment/verity.yaml",
        "deploy/docker/verity.yaml",
        "deploy/compose/verity.yaml",
    ] {
        let loaded =
            verity::config::load(&root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(loaded.warnings.is_empty(), "{path}: {:?}", loaded.warnings);
    }
    let guide = verity::config::load(&root().join("docs/deployment/verity.yaml")).unwrap();
    // Every validation is local, as the guide says: no notice about the default policy.
    assert!(guide.notices.is_empty(), "{:?}", guide.notices);
}

#[test]
fn every_file_names_verity_by_the_public_url_it_has_in_its_configuration() {
    let settings = verity::config::load(&root().join("docs/deployment/verity.yaml"))
        .unwrap()
        .settings;
    assert_eq!(settings.server.public_url, PUBLIC_URL);
    assert_eq!(settings.server.name, "id.example.org");

    let client: Value = serde_json::from_str(&read("docs/deployment/client.json")).unwrap();
    assert_eq!(client["m.identity_server"]["base_url"], PUBLIC_URL);

    let synapse: Value = serde_norway::from_str(&read("docs/deployment/homeserver.yaml")).unwrap();
    assert_eq!(synapse["default_identity_server"], PUBLIC_URL);
    assert_eq!(synapse["account_threepid_delegates"]["msisdn"], PUBLIC_URL);
    assert_eq!(synapse["server_name"], settings.matrix.domain.as_str());

    let srv = read("docs/deployment/dns.zone")
        .lines()
        .find(|line| line.starts_with("_matrix-identity._tcp."))
        .expect("the SRV record")
        .split_whitespace()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert_eq!(
        srv,
        [
            format!("_matrix-identity._tcp.{}.", settings.matrix.domain.as_str()),
            "3600".into(),
            "IN".into(),
            "SRV".into(),
            "10".into(),
            "0".into(),
            "443".into(),
            "id.example.org.".into()
        ]
    );
}

#[test]
fn the_image_checks_its_health_on_a_path_the_server_serves_on_the_port_it_listens_on() {
    let dockerfile = read("Dockerfile");
    let check = dockerfile
        .lines()
        .find(|line| line.contains("curl -fsS"))
        .expect("the HEALTHCHECK command");
    let url = check
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .expect("a URL");
    let image = verity::config::load(&root().join("deploy/docker/verity.yaml"))
        .unwrap()
        .settings;
    let prefix = format!("http://127.0.0.1:{}", image.server.port);
    let path = url.strip_prefix(&prefix).expect("the image's port");
    assert!(
        crate::deployment_proxy::served_paths().contains(&path.to_owned()),
        "{path}"
    );
    assert!(dockerfile.contains(&format!("EXPOSE {}", image.server.port)));
    // The volumes are where the image's configuration keeps its data.
    let volumes = dockerfile
        .lines()
        .find(|line| line.starts_with("VOLUME"))
        .expect("VOLUME");
    assert!(volumes.contains(&format!("\"{}\"", image.key.path.display())));
    assert!(dockerfile.contains("\nUSER verity"));
    // The build is the one `cargo install` runs: the committed lock file, the server binary.
    assert!(dockerfile.contains("cargo build --release --locked --package verity --bin verity"));
}

#[test]
fn the_compose_file_publishes_verity_on_the_port_its_configuration_listens_on() {
    let compose: Value = serde_norway::from_str(&read("deploy/compose/compose.yaml")).unwrap();
    let settings = verity::config::load(&root().join("deploy/compose/verity.yaml"))
        .unwrap()
        .settings;
    let verity = &compose["services"]["verity"];
    assert_eq!(
        verity["ports"][0],
        format!("127.0.0.1:{0}:{0}", settings.server.port)
    );
    assert_eq!(settings.server.hostname, "0.0.0.0");
    assert!(
        verity["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|volume| volume
                .as_str()
                .unwrap()
                .ends_with(&format!(":{}", settings.key.path.display()))),
        "{verity}"
    );
    // Verity's database is the `postgres` service's, as the init script makes it.
    assert!(settings.storage.url().contains("postgres:5432/verity"));
    assert!(
        read("deploy/compose/postgres-init.sql").contains("CREATE DATABASE verity OWNER verity")
    );
    for service in ["postgres", "synapse", "verity"] {
        assert!(compose["services"][service].is_object(), "{service}");
    }
}

//! The YAML written for an operator's Sydent, with its templates, page and terms beside it, loads
//! with Verity's loader and means what Sydent did.
use verity_adapter_notify::TemplateGenerator;
use verity_domain::Medium;

use super::*;
use crate::settings::ConnectorSettings;
use pretty_assertions::assert_eq;

const TERMS: &str = "master_version: \"1.0\"\ndocs:\n  privacy:\n    version: 1.0\n    langs:\n      en:\n        name: Privacy Policy\n        url: https://example.org/privacy-1.0.html\n";

const PAGE: &str = "<html><body><p>%(message)s</p><p>100%% done</p></body></html>\n";

#[test]
fn an_operators_sydent_becomes_a_yaml_verity_loads_with_the_same_meaning() {
    let dir = tempfile::tempdir().unwrap();
    let brand = dir.path().join("res/matrix-org");
    std::fs::create_dir_all(&brand).unwrap();
    std::fs::write(brand.join("verification_template.eml"), VERIFICATION_PY).unwrap();
    std::fs::write(brand.join("verify_response_template.html"), PAGE).unwrap();
    std::fs::write(dir.path().join("terms.yaml"), TERMS).unwrap();
    std::fs::write(dir.path().join("sydent.conf"), OPERATOR).unwrap();
    let conf = SydentConf::load(&dir.path().join("sydent.conf")).unwrap();
    let yaml_path = dir.path().join("verity/verity.yaml");

    let (extras, warnings) = YamlExtras::gather(&conf, &dir.path().join("sydent.conf"), &yaml_path);
    assert_eq!(extras.templates.len(), 1, "no invite template was written");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("1 Sydent placeholder(s)"),
        "{warnings:?}"
    );
    let written = dir
        .path()
        .join("verity/sydent-templates/validate-template.eml");
    assert!(
        std::fs::read_to_string(&written)
            .unwrap()
            .contains("%VALIDATION_LINK%")
    );
    let yaml = verity_yaml_with(&conf, &extras);
    let loaded = crate::config::parse(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert!(loaded.warnings.is_empty(), "{:?}\n{yaml}", loaded.warnings);
    let s = &loaded.settings;
    assert_eq!(s.server.name, "id.example.org");
    assert_eq!(s.server.public_url, "https://id.example.org");
    assert_eq!(s.server.port, 8091);
    assert_eq!(s.lookups.lookup.max_addresses, 500);
    assert!(!s.accounts.allow_only_trusted_domain);
    assert_eq!(s.accounts.policies.len(), 1);
    let ConnectorSettings::Smtp(smtp) = &s.threepid.email.connector else {
        panic!("not smtp: {:?}", s.threepid.email.connector);
    };
    assert_eq!(
        (smtp.host.as_str(), smtp.port, smtp.tls),
        ("smtp.example.org", 587, 2)
    );
    assert_eq!(smtp.password.as_deref(), Some("hunter2-smtp"));
    assert!(yaml.contains("no Verity placeholder for ipaddress"));
    assert!(yaml.contains("verify_response_template: "));
    assert!(yaml.contains("prometheus_port = 9090"));
    assert!(!yaml.contains("key@sentry"));
    assert!(!yaml.contains("om-secret"));

    // Verity's own template loader takes the converted files.
    for (medium, settings) in [
        (Medium::Email, &s.threepid.email),
        (Medium::Msisdn, &s.threepid.msisdn),
    ] {
        TemplateGenerator::new(
            &medium,
            &s.matrix.domain,
            &settings.identity,
            &settings.generator,
        )
        .unwrap_or_else(|e| panic!("{medium:?}: {e}"));
    }
}

#[test]
fn gathering_again_keeps_a_converted_template_the_operator_edited() {
    let dir = tempfile::tempdir().unwrap();
    let brand = dir.path().join("res/matrix-org");
    std::fs::create_dir_all(&brand).unwrap();
    std::fs::write(brand.join("verification_template.eml"), VERIFICATION_PY).unwrap();
    let conf = SydentConf::parse(OPERATOR).unwrap();
    let sydent_conf = dir.path().join("sydent.conf");
    let yaml_path = dir.path().join("verity.yaml");
    let (first, _) = YamlExtras::gather(&conf, &sydent_conf, &yaml_path);
    let edited = "Subject: ours\n\n%VALIDATION_LINK%\n";
    std::fs::write(&first.templates[0].written, edited).unwrap();
    let (second, _) = YamlExtras::gather(&conf, &sydent_conf, &yaml_path);
    assert_eq!(
        std::fs::read_to_string(&second.templates[0].written).unwrap(),
        edited
    );
    assert_eq!(
        verity_yaml_with(&conf, &first),
        verity_yaml_with(&conf, &second)
    );
}

//! The YAML written for an operator's Sydent, with its templates, page and terms beside it, loads
//! with Verity's loader and means what Sydent did.
use verity_adapter_notify::TemplateGenerator;
use verity_domain::Medium;

use super::super::templates::write_converted;
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
    let conf = SydentConf::parse(OPERATOR).unwrap();

    let out = dir.path().join("verity-templates");
    let templates = write_converted(&conf, dir.path(), &out).unwrap();
    assert_eq!(templates.len(), 1, "no invite template was written");
    let sms = out.join("validate-template.txt");
    std::fs::write(&sms, convert_sms(&conf.sms.body_template).text).unwrap();
    let extras = YamlExtras {
        templates,
        sms_template: Some(sms),
        page: Some(templates::sydent_page_path(&conf, dir.path())),
        terms: Some(SydentTerms::load(&dir.path().join("terms.yaml")).unwrap()),
        key_path: Some(dir.path().join("keys")),
        database: Some(dir.path().join("verity.db")),
    };
    let yaml = verity_yaml_with(&conf, &extras);
    let loaded = crate::config::parse(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert!(loaded.warnings.is_empty(), "{:?}\n{yaml}", loaded.warnings);
    let s = &loaded.settings;
    assert_eq!(s.server.name, "id.example.org");
    assert_eq!(s.server.public_url, "https://id.example.org");
    assert_eq!(s.server.port, 8091);
    assert_eq!(s.lookups.max_addresses, 500);
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

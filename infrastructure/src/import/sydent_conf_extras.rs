//! The files beside `sydent.conf` that the Verity YAML refers to: Sydent's templates (converted
//! and written for Verity), its validation page and its terms.
use std::path::{Path, PathBuf};

use super::templates::{convert_sms, sydent_page_path, write_converted, write_unless_edited};
use super::{SydentConf, SydentTerms, YamlExtras};

/// The directory, beside the written YAML, that receives the converted templates.
pub const TEMPLATES_DIR: &str = "sydent-templates";

impl YamlExtras {
    /// Finds what the YAML for `conf` can refer to, and writes the converted templates into
    /// `<directory of yaml_path>/sydent-templates/` (a file already there is kept as it is: the
    /// operator may have edited it). Sydent's relative paths (`templates.path`, `terms.path`,
    /// the deprecated template keys) are taken from the directory of `sydent_conf_path`, where
    /// Sydent usually runs. Paths in the YAML are absolute.
    ///
    /// Returns the extras and warnings (a template or terms file that could not be read or
    /// written: the YAML then names Verity's built-in template, or has no `policy`).
    pub fn gather(
        conf: &SydentConf,
        sydent_conf_path: &Path,
        yaml_path: &Path,
    ) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let sydent_dir = directory_of(sydent_conf_path);
        let out_dir = directory_of(yaml_path).join(TEMPLATES_DIR);
        let templates = write_converted(conf, &sydent_dir, &out_dir).unwrap_or_else(|error| {
            warnings.push(format!(
                "Sydent's email templates were not converted ({error}): Verity's built-in ones are named"
            ));
            Vec::new()
        });
        for template in &templates {
            let c = &template.conversion;
            if !c.unmapped.is_empty() || !c.unconverted.is_empty() {
                warnings.push(format!(
                    "{}: review it: {} Sydent placeholder(s) have no Verity equivalent, {} Jinja construct(s) were left as written",
                    template.written.display(),
                    c.unmapped.len(),
                    c.unconverted.len()
                ));
            }
        }
        let sms_path = out_dir.join("validate-template.txt");
        let sms = convert_sms(&conf.sms.body_template);
        let sms_template = match write_unless_edited(&sms_path, &sms.text) {
            Ok(()) => Some(sms_path),
            Err(error) => {
                warnings.push(format!("{}: {error}", sms_path.display()));
                None
            }
        };
        let page = Some(sydent_page_path(conf, &sydent_dir)).filter(|p| p.is_file());
        let terms = conf.general.terms_path.as_ref().and_then(|path| {
            SydentTerms::load(&sydent_dir.join(path))
                .map_err(|why| warnings.push(format!("terms.path: {why}: no policy is written")))
                .ok()
        });
        let extras = Self {
            templates,
            sms_template,
            page,
            terms,
            key_path: None,
            database: None,
        };
        (extras, warnings)
    }
}

/// The absolute directory holding `file` (the working directory for a bare file name).
fn directory_of(file: &Path) -> PathBuf {
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    absolute
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

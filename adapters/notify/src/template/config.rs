//! The `generators.template` configuration block.

use serde::Deserialize;

/// `threepid.medium.<medium>.generators.template`: which template file each event uses.
///
/// Keys are mxisd's. Every value is a file path, or `classpath:/threepids/...` for one of Verity's
/// built-in templates (named as mxisd named its own, so an mxisd configuration that points at
/// mxisd's built-ins still works). An unset key means the built-in template of that event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TemplateConfig {
    /// `invite`: the 3PID room invite. Default: `classpath:/threepids/email/invite-template.eml`
    /// or `classpath:/threepids/sms/invite-template.txt`. Loaded and checked at start-up; used once
    /// Verity sends invites.
    pub invite: Option<String>,
    /// `session.*`: validation and unbind messages.
    pub session: SessionTemplates,
    /// `generic.*`: `generic.matrixId`.
    pub generic: GenericTemplates,
    /// `placeholder.*`: fixed placeholder values.
    pub placeholder: PlaceholderValues,
}

/// `generators.template.session`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SessionTemplates {
    /// `session.validation`: a path (mxisd 1.3+) or, as in mxisd v1.2, `{local, remote}`.
    /// Default: the built-in validation template.
    pub validation: Option<ValidationTemplates>,
    /// `session.unbind.*`.
    pub unbind: UnbindTemplates,
}

/// `session.validation`, in either of its two mxisd shapes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ValidationTemplates {
    /// mxisd 1.3+ and ma1sd: `session.validation: /path/to/validate-template.eml`.
    Path(String),
    /// mxisd v1.2: `session.validation.local` and `session.validation.remote`.
    Split(SplitValidationTemplates),
}

/// mxisd v1.2's `session.validation.local` / `session.validation.remote`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SplitValidationTemplates {
    /// `local`: the normal validation message. Default: the built-in validation template.
    pub local: Option<String>,
    /// `remote`: the message for a 3PID that can only be validated on a remote identity server.
    /// Default: `classpath:/threepids/<email|sms>/validate-remote-template.<eml|txt>`.
    pub remote: Option<String>,
}

/// `session.unbind`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct UnbindTemplates {
    /// `notification` (ma1sd): tells the 3PID it was unbound. Default: the built-in
    /// `unbind-notification` template. Loaded and checked at start-up.
    pub notification: Option<String>,
    /// `fraudulent` (mxisd 1.3 to 1.4.4): accepted so those configurations load, but Verity
    /// never sends that warning (a log line says so at start-up).
    pub fraudulent: Option<String>,
}

/// `generic`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct GenericTemplates {
    /// `matrixId`: the invite by Matrix ID. Default: the built-in `mxid-template.eml` for email;
    /// none for SMS (as in mxisd).
    #[serde(rename = "matrixId")]
    pub matrix_id: Option<String>,
}

/// `placeholder`: placeholders whose value the operator sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PlaceholderValues {
    /// `REGISTER_URL`: where invited people register. Default: `https://<matrix.domain>`.
    #[serde(rename = "REGISTER_URL")]
    pub register_url: Option<String>,
}

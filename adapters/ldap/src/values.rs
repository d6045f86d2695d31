//! Directory values as Verity needs them: 3PIDs in canonical form, uids as Matrix user IDs.
use verity_domain::{Medium, Msisdn, ThreePid, UserId};

use crate::config::{LdapConfig, UidType};

/// The region a phone number is read in when it has no country code. Directory values are
/// international numbers (ma1sd put a `+` before them); one written without `+` gets one, so
/// this region only decides nothing: a leading `+` makes the parser read the country code.
const ANY_REGION: &str = "US";

/// The E.164 form of a phone number as a directory holds it: `+1 (202) 555-0143`,
/// `+12025550143`, `1 202-555-0143` and `12025550143` are all `12025550143`.
///
/// The value is read by the phone parser Verity uses for `requestToken` (a `+` put before it
/// when it has none, a trunk `(0)` dropped as in `+44 (0)20 ...`). A number the parser's plans do not
/// know (a fictional `+1 555...`) is still taken when it is 1 to 15 digits once its spaces,
/// hyphens, dots, slashes and brackets are gone, as a client would look it up. Anything else
/// (letters, an extension) is `None`.
pub fn phone(value: &str) -> Option<Msisdn> {
    // `+44 (0)20 ...`: the trunk prefix a caller within the country dials, never part of the
    // international number.
    let value = value.trim().replace("(0)", "");
    if value.is_empty() {
        return None;
    }
    let international = if value.starts_with('+') {
        value
    } else {
        format!("+{value}")
    };
    if let Ok(msisdn) = Msisdn::from_parts(&international, ANY_REGION) {
        return Some(msisdn);
    }
    let digits: String = international
        .chars()
        .skip(1)
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '/' | '(' | ')'))
        .collect();
    Msisdn::parse(&digits).ok()
}

/// The 3PID of `medium` a directory value is, in canonical form: emails case-folded, phone
/// numbers by [`phone`], others trimmed; `None` when it is not a valid address.
pub fn threepid(medium: &Medium, value: &str) -> Option<ThreePid> {
    match medium {
        Medium::Msisdn => phone(value).map(ThreePid::Msisdn),
        Medium::Email | Medium::Other(_) => ThreePid::parse(medium.clone(), value).ok(),
    }
}

/// The Matrix user of an entry's uid value, lower-cased as ma1sd does: the whole user ID with
/// `attribute.uid.type: mxid`, else `@localpart:matrix.domain`. With `activeDirectory`, a UPN
/// `login@domain` is the localpart `login` in `defaultDomain` and `login/domain` elsewhere.
pub fn user_id(config: &LdapConfig, uid: &str) -> Option<UserId> {
    let uid = uid.trim().to_lowercase();
    if uid.is_empty() {
        return None;
    }
    match config.uid_type {
        UidType::Mxid => UserId::parse(&uid).ok(),
        UidType::Uid => {
            let localpart = match uid.rsplit_once('@') {
                Some((login, domain)) if config.active_directory => {
                    let default = config.default_domain.as_deref().unwrap_or_default();
                    if domain.eq_ignore_ascii_case(default.trim()) {
                        login.to_owned()
                    } else {
                        format!("{login}/{domain}")
                    }
                }
                _ => uid,
            };
            UserId::parse(&format!("@{localpart}:{}", config.matrix_domain)).ok()
        }
    }
}

/// The uid attribute's value that names `user` (what [`user_id`] reads back): the whole ID with
/// `attribute.uid.type: mxid`, else the localpart; with `activeDirectory`, the UPN
/// `login@defaultDomain` of a localpart `login`, or `login@domain` of `login/domain`. `None`
/// when the user cannot be named so (a localpart without a domain and no `defaultDomain`).
pub fn uid_of(config: &LdapConfig, user: &UserId) -> Option<String> {
    let localpart = user.localpart();
    match config.uid_type {
        UidType::Mxid => Some(user.as_str().to_owned()),
        UidType::Uid if !config.active_directory => Some(localpart.to_owned()),
        UidType::Uid => match localpart.split_once('/') {
            Some((login, domain)) if !login.is_empty() && !domain.is_empty() => {
                Some(format!("{login}@{domain}"))
            }
            Some(_) => None,
            None => config
                .default_domain
                .as_deref()
                .map(str::trim)
                .filter(|domain| !domain.is_empty())
                .map(|domain| format!("{localpart}@{domain}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(value: &str) -> Option<String> {
        phone(value).map(|msisdn| msisdn.as_str().to_owned())
    }

    #[test]
    fn every_spelling_of_a_phone_number_is_the_same_msisdn() {
        for spelling in [
            "+1 (202) 555-0143",
            "+12025550143",
            "1 202-555-0143",
            "12025550143",
            " +1.202.555.0143 ",
        ] {
            assert_eq!(
                digits(spelling).as_deref(),
                Some("12025550143"),
                "{spelling}"
            );
        }
    }

    #[test]
    fn a_trunk_zero_in_brackets_is_dropped() {
        assert_eq!(
            digits("+44 (0)20 7946 0018").as_deref(),
            Some("442079460018")
        );
    }

    #[test]
    fn a_number_outside_the_plans_is_kept_when_it_is_only_digits() {
        assert_eq!(digits("+1 555 000 0001").as_deref(), Some("15550000001"));
    }

    #[test]
    fn values_that_are_no_phone_number_are_refused() {
        assert_eq!(digits("call reception"), None);
        assert_eq!(digits(""), None);
        assert_eq!(digits("+1234567890123456789"), None);
    }

    #[test]
    fn uids_are_lower_cased_and_completed_with_the_domain() {
        let config = LdapConfig::new("h", "example.org");
        assert_eq!(
            user_id(&config, "Alice").map(|id| id.as_str().to_owned()),
            Some("@alice:example.org".to_owned())
        );
        let mut mxid = config.clone();
        mxid.uid_type = UidType::Mxid;
        assert_eq!(
            user_id(&mxid, "@Bob:Example.org").map(|id| id.as_str().to_owned()),
            Some("@bob:example.org".to_owned())
        );
        assert_eq!(user_id(&mxid, "bob"), None);
    }

    #[test]
    fn active_directory_upns_keep_their_domain_unless_it_is_the_default() {
        let mut config = LdapConfig::new("h", "example.org");
        config.active_directory = true;
        config.default_domain = Some("corp.example.org".to_owned());
        let id = |uid: &str| user_id(&config, uid).map(|id| id.as_str().to_owned());
        assert_eq!(
            id("Alice@CORP.example.org").as_deref(),
            Some("@alice:example.org")
        );
        assert_eq!(
            id("bob@lab.example.org").as_deref(),
            Some("@bob/lab.example.org:example.org")
        );
    }

    #[test]
    fn a_user_is_named_by_the_uid_its_entry_holds() {
        let user = |id: &str| UserId::parse(id).unwrap();
        let mut config = LdapConfig::new("h", "example.org");
        assert_eq!(
            uid_of(&config, &user("@Alice:example.org")).as_deref(),
            Some("Alice")
        );
        config.uid_type = UidType::Mxid;
        assert_eq!(
            uid_of(&config, &user("@alice:example.org")).as_deref(),
            Some("@alice:example.org")
        );
        config.uid_type = UidType::Uid;
        config.active_directory = true;
        assert_eq!(uid_of(&config, &user("@alice:example.org")), None);
        config.default_domain = Some("corp.example.org".to_owned());
        assert_eq!(
            uid_of(&config, &user("@alice:example.org")).as_deref(),
            Some("alice@corp.example.org")
        );
        assert_eq!(
            uid_of(&config, &user("@bob/lab.example.org:example.org")).as_deref(),
            Some("bob@lab.example.org")
        );
        assert_eq!(uid_of(&config, &user("@bob/:example.org")), None);
    }
}

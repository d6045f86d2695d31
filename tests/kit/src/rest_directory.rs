//! The fake REST service's user directory (`.../directory/user/search`, ma1sd's contract): the
//! people it holds whose display name or user ID (by `name`) or one of whose addresses (by
//! `threepid`) contains the term, ignoring case; every match, `limited: false` (the contract has
//! no limit).
use serde_json::{Value, json};

/// One person of the fake's directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// `user_id` as answered: a whole Matrix ID, or a localpart (ma1sd accepted both).
    pub user_id: String,
    /// `display_name`, if any.
    pub display_name: Option<String>,
    /// `avatar_url`, if any.
    pub avatar_url: Option<String>,
    /// Their 3PID addresses, as written.
    pub addresses: Vec<String>,
}

/// The answer to a search of `people`.
pub(crate) fn answer(people: &[Person], body: &Value) -> Value {
    let term = body["search_term"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    let by_threepid = body["by"] == "threepid";
    let contains = |text: &str| text.to_lowercase().contains(&term);
    let results: Vec<Value> = people
        .iter()
        .filter(|person| {
            if by_threepid {
                person.addresses.iter().any(|address| contains(address))
            } else {
                contains(&person.user_id) || person.display_name.as_deref().is_some_and(contains)
            }
        })
        .map(|person| {
            json!({
                "user_id": person.user_id,
                "display_name": person.display_name,
                "avatar_url": person.avatar_url,
            })
        })
        .collect();
    json!({"limited": false, "results": results})
}

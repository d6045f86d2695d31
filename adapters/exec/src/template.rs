//! Token replacement in `args`, `env` values and stdin templates.
//!
//! One pass over the template: a token found is replaced by its value and the value is never
//! read again, so an address holding `{medium}` stays as written (ma1sd replaced the tokens one
//! after the other over the whole text, so a value could bring in another token). Each argument
//! is replaced on its own and handed to the program as one argument, whatever the value holds:
//! no shell reads it.

/// A token and the value that replaces it.
pub(crate) type Value<'a> = (&'a str, &'a str);

/// `template` with every token of `values` replaced by `escape(value)`. Where two tokens start
/// at the same place, the longer wins; empty tokens are never matched.
pub(crate) fn substitute(
    template: &str,
    values: &[Value<'_>],
    escape: fn(&str) -> String,
) -> String {
    let mut tokens: Vec<&Value<'_>> = values
        .iter()
        .filter(|(token, _)| !token.is_empty())
        .collect();
    tokens.sort_by_key(|(token, _)| std::cmp::Reverse(token.len()));
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    'scan: while let Some(c) = rest.chars().next() {
        for (token, value) in &tokens {
            if let Some(after) = rest.strip_prefix(*token) {
                out.push_str(&escape(value));
                rest = after;
                continue 'scan;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A value as it is.
pub(crate) fn raw(value: &str) -> String {
    value.to_owned()
}

/// A value inside a JSON string of a template (`"address": "{address}"`): escaped, quotes not
/// added, so a quote in an address cannot end the string.
pub(crate) fn json_string(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// `text` with each secret value replaced by `<redacted>`, for logs.
pub(crate) fn redact(text: &str, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|secret| !secret.is_empty())
        .fold(text.to_owned(), |text, secret| {
            text.replace(secret, "<redacted>")
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn every_token_is_replaced_once_and_a_value_holding_a_token_stays_as_written() {
        let values = [("{medium}", "email"), ("{address}", "{medium}@example.org")];
        assert_eq!(
            substitute("{medium}:{address}:{medium}", &values, raw),
            "email:{medium}@example.org:email"
        );
    }

    #[test]
    fn the_longer_of_two_tokens_starting_at_the_same_place_wins() {
        let values = [("%a", "short"), ("%addr", "long")];
        assert_eq!(substitute("%addr %a", &values, raw), "long short");
    }

    #[test]
    fn an_empty_token_is_never_matched() {
        assert_eq!(substitute("abc", &[("", "x")], raw), "abc");
    }

    #[test]
    fn a_value_in_a_json_template_is_escaped_so_a_quote_cannot_end_its_string() {
        let values = [("{address}", "a\"b\\c\n")];
        let text = substitute("{\"address\":\"{address}\"}", &values, json_string);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["address"], "a\"b\\c\n");
    }

    #[test]
    fn secrets_are_masked_in_a_line_for_the_logs() {
        assert_eq!(
            redact("bad password hunter2 for alice", &["hunter2", ""]),
            "bad password <redacted> for alice"
        );
    }
}

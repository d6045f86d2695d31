use pretty_assertions::assert_eq;

use super::*;

/// A page as PostgreSQL writes it: the header, `rows` of three text fields, the trailer.
fn page(rows: &[[&str; 3]]) -> Vec<u8> {
    let mut page = SIGNATURE.to_vec();
    page.extend_from_slice(&0_i32.to_be_bytes());
    page.extend_from_slice(&0_i32.to_be_bytes());
    for row in rows {
        page.extend_from_slice(&3_i16.to_be_bytes());
        for field in row {
            page.extend_from_slice(&(field.len() as i32).to_be_bytes());
            page.extend_from_slice(field.as_bytes());
        }
    }
    page.extend_from_slice(&(-1_i16).to_be_bytes());
    page
}

fn read(page: &[u8]) -> Result<Vec<(String, String, String)>, StoreError> {
    let mut rows = FeedRows::default();
    unpack_binary(page, &mut rows)?;
    Ok(rows
        .iter()
        .map(|r| (r.medium.into(), r.address.into(), r.user_id.into()))
        .collect())
}

#[test]
fn a_binary_page_is_read_by_its_field_lengths_whatever_the_fields_hold() {
    let rows = [
        ["email", "alice@example.org", "@alice:example.org"],
        ["matrix.id", "a\t\\b\n\"\u{fc}", "@b:c"],
    ];
    let expected: Vec<(String, String, String)> = rows
        .iter()
        .map(|[m, a, u]| ((*m).into(), (*a).into(), (*u).into()))
        .collect();
    assert_eq!(read(&page(&rows)).unwrap(), expected);
    assert_eq!(read(&page(&[])).unwrap(), vec![]);
}

#[test]
fn a_cut_page_a_null_field_or_a_wrong_signature_is_corrupt_not_a_shorter_feed() {
    let whole = page(&[["email", "alice@example.org", "@alice:example.org"]]);
    for cut in [whole.len() - 1, whole.len() - 3, 20, 5, 0] {
        assert!(
            matches!(read(&whole[..cut]), Err(StoreError::Corrupt(_))),
            "cut at {cut}"
        );
    }
    let mut null = page(&[]);
    null.truncate(null.len() - 2);
    null.extend_from_slice(&3_i16.to_be_bytes());
    null.extend_from_slice(&(-1_i32).to_be_bytes());
    assert!(matches!(read(&null), Err(StoreError::Corrupt(_))));
    let mut other = whole.clone();
    other[0] = b'X';
    assert!(matches!(read(&other), Err(StoreError::Corrupt(_))));
}

#[test]
fn a_cursor_is_written_into_the_statement_as_one_escape_string_constant() {
    assert_eq!(literal("alice@example.org"), "E'alice@example.org'");
    assert_eq!(
        literal("o'brien\\'); DROP TABLE verity_binding; --"),
        "E'o''brien\\\\''); DROP TABLE verity_binding; --'"
    );
    // Inside the constant, every quote and backslash comes in a pair: none ends it early.
    let written = literal("a'\\''\\\\b");
    let inner = &written[2..written.len() - 1];
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\'' || c == '\\' {
            assert_eq!(chars.next(), Some(c), "{written}");
        }
    }
}

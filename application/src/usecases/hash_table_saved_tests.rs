use pretty_assertions::assert_eq;

use super::super::digest;
use super::*;

fn entry(i: usize) -> (Digest, String) {
    (
        digest(&format!("user{i}@example.org"), "email", "pepper"),
        format!("@user{i}:example.org"),
    )
}

/// A sealed table of `count` entries, then some set and removed as binds and unbinds do.
fn table(count: usize) -> Table {
    let mut table = Table::with_capacity(count);
    for i in 0..count {
        let (digest, user) = entry(i);
        table.push(digest, &user).unwrap();
    }
    table.seal().unwrap();
    table
}

#[test]
fn a_saved_table_loads_with_every_entry_and_every_change_since_its_build() {
    let mut before = table(300);
    before.insert(entry(0).0, "@moved:example.org").unwrap();
    before.remove(&entry(1).0).unwrap();
    let (added, _) = entry(1_000);
    before.insert(added, "@new:example.org").unwrap();

    let loaded = Table::load(&before.save().unwrap()).unwrap();

    assert_eq!(loaded.len(), before.len());
    assert_eq!(loaded.len(), 300);
    for i in 0..1_001 {
        let (digest, _) = entry(i);
        assert_eq!(loaded.get(&digest), before.get(&digest), "entry {i}");
    }
    assert_eq!(loaded.get(&entry(0).0), Some("@moved:example.org"));
    assert_eq!(loaded.get(&entry(1).0), None);
    assert_eq!(loaded.get(&added), Some("@new:example.org"));
    assert_eq!(loaded.get(&entry(2).0), Some("@user2:example.org"));
}

#[test]
fn an_empty_table_saves_and_loads() {
    let loaded = Table::load(&table(0).save().unwrap()).unwrap();
    assert_eq!(loaded.len(), 0);
    assert_eq!(loaded.get(&entry(0).0), None);
}

#[test]
fn saved_bytes_cut_short_anywhere_or_followed_by_more_are_refused() {
    let saved = table(3).save().unwrap();
    for end in 0..saved.len() {
        assert!(Table::load(&saved[..end]).is_err(), "cut at {end}");
    }
    let mut longer = saved.clone();
    longer.push(0);
    assert_eq!(
        Table::load(&longer).unwrap_err(),
        Unreadable::Damaged(saved.len())
    );
}

#[test]
fn bytes_of_another_format_or_with_a_user_that_is_not_text_are_refused() {
    let mut saved = table(2).save().unwrap();
    let mut other = saved.clone();
    other[3] = 2;
    assert_eq!(Table::load(&other).unwrap_err(), Unreadable::Format);
    assert_eq!(Table::load(b"").unwrap_err(), Unreadable::Format);
    // The first user's first byte.
    saved[HEADER + 33] = 0xff;
    assert_eq!(
        Table::load(&saved).unwrap_err(),
        Unreadable::Damaged(HEADER)
    );
}

#[test]
fn a_count_the_bytes_cannot_hold_is_refused_before_anything_is_reserved() {
    let mut saved = table(1).save().unwrap();
    saved[MAGIC.len()..HEADER].copy_from_slice(&u64::MAX.to_le_bytes());
    assert_eq!(
        Table::load(&saved).unwrap_err(),
        Unreadable::Damaged(MAGIC.len())
    );
}

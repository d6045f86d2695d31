use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pretty_assertions::assert_eq;
use verity_domain::{LookupHash, Medium, Pepper, ThreePid};

use super::*;

fn lookup_hash(address: &str, pepper: &str) -> LookupHash {
    let threepid = ThreePid::parse(Medium::Email, address).unwrap();
    LookupHash::of(&threepid, &Pepper::parse(pepper).unwrap())
}

#[test]
fn a_digest_is_the_specification_s_hash_before_its_encoding() {
    for (address, pepper) in [
        ("alice@example.com", "matrixrocks"),
        ("strauss@example.org", "p3pper"),
    ] {
        let hash = lookup_hash(address, pepper);
        let computed = digest(address, "email", pepper);
        assert_eq!(decode(hash.as_str()), Some(computed), "{address}");
        assert_eq!(URL_SAFE_NO_PAD.encode(computed), hash.as_str());
    }
    // The specification's example.
    assert_eq!(
        URL_SAFE_NO_PAD.encode(digest("alice@example.com", "email", "matrixrocks")),
        "4kenr7N9drpCJ4AfalmlGQVsOn3o2RHjkADUpXJWZUc"
    );
}

#[test]
fn every_43_character_string_decodes_as_the_base64_crate_decodes_it_or_not_at_all() {
    // The crate's strict decoder (canonical trailing bits, no padding) is the reference: strings
    // of the alphabet and of near misses (`+`, `/`, `=`, `.`, a non-ASCII byte), drawn at random,
    // with the last character of every kind.
    let alphabet: Vec<char> =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.\u{e9}"
            .chars()
            .collect();
    let mut random = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        random
    };
    let mut decoded = 0;
    for round in 0..20_000 {
        let mut text: String = (0..42)
            .map(|_| {
                // Mostly the alphabet, so that many strings decode.
                let bound = if next() % 50 == 0 { alphabet.len() } else { 64 };
                alphabet[(next() % bound as u64) as usize]
            })
            .collect();
        text.push(alphabet[round % alphabet.len()]);
        let expected = URL_SAFE_NO_PAD
            .decode(&text)
            .ok()
            .and_then(|bytes| <Digest>::try_from(bytes).ok());
        assert_eq!(decode(&text), expected, "{text}");
        decoded += usize::from(expected.is_some());
    }
    assert!(decoded > 1_000, "too few valid strings drawn: {decoded}");
}

#[test]
fn a_hash_in_another_spelling_or_of_another_length_decodes_to_nothing() {
    let hash = lookup_hash("alice@example.com", "matrixrocks");
    let text = hash.as_str();
    for other in [
        // Padded, standard alphabet, truncated, longer, empty, not base64.
        format!("{text}="),
        text.replace('_', "/").replace('-', "+"),
        text[..42].to_owned(),
        format!("{text}A"),
        String::new(),
        "!".repeat(43),
    ] {
        if other != text {
            assert_eq!(decode(&other), None, "{other}");
        }
    }
    // The last character carries 4 bits of the digest and 2 unused ones: the same digest
    // with those set is another string, never the server's.
    let last = text.as_bytes()[42];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.iter().position(|&c| c == last).unwrap();
    let sibling = alphabet[index ^ 1] as char;
    let other = format!("{}{sibling}", &text[..42]);
    assert_eq!(decode(&other), None);
}

#[test]
fn a_sealed_table_finds_the_last_pushed_entry_of_each_digest_and_every_later_change() {
    let d = |i: u32| digest(&format!("u{i}@example.org"), "email", "pepper");
    let mut table = Table::with_capacity(20_000);
    for i in 0..20_000 {
        table.push(d(i), &format!("@u{i}:example.org")).unwrap();
    }
    // A higher priority backend's entry, read later.
    table.push(d(7), "@again:example.org").unwrap();
    table.seal().unwrap();
    assert_eq!(table.len(), 20_000);
    assert_eq!(table.get(&d(7)), Some("@again:example.org"));
    assert_eq!(table.get(&d(8)), Some("@u8:example.org"));
    assert_eq!(table.get(&d(20_000)), None);

    // More changes than are kept aside: merged into the sorted entries on the way.
    for i in 0..10_000 {
        if i % 2 == 0 {
            table.remove(&d(i)).unwrap();
        } else {
            table.insert(d(i), &format!("@v{i}:example.org")).unwrap();
        }
    }
    table.insert(d(20_000), "@new:example.org").unwrap();
    assert_eq!(table.len(), 15_001);
    for i in 0..20_000 {
        let expected = match i {
            _ if i >= 10_000 => Some(format!("@u{i}:example.org")),
            _ if i % 2 == 0 => None,
            _ => Some(format!("@v{i}:example.org")),
        };
        assert_eq!(table.get(&d(i)), expected.as_deref(), "{i}");
    }
    assert_eq!(table.get(&d(20_000)), Some("@new:example.org"));
}

#[test]
fn many_digests_asked_at_once_are_answered_in_their_order_with_every_change() {
    let d = |i: u32| digest(&format!("u{i}@example.org"), "email", "pepper");
    let mut table = Table::with_capacity(1_000);
    for i in 0..1_000 {
        table.push(d(i), &format!("@u{i}:example.org")).unwrap();
    }
    table.seal().unwrap();
    table.remove(&d(3)).unwrap();
    table.insert(d(4), "@changed:example.org").unwrap();
    table.insert(d(5_000), "@new:example.org").unwrap();
    // Unsorted, repeated, and a digest nobody has.
    let asked = [d(999), d(3), d(4), d(5_000), d(0), d(6_000), d(999)];
    assert_eq!(
        table.get_many(&asked),
        vec![
            Some("@u999:example.org"),
            None,
            Some("@changed:example.org"),
            Some("@new:example.org"),
            Some("@u0:example.org"),
            None,
            Some("@u999:example.org"),
        ]
    );
    assert_eq!(table.get_many(&[]), Vec::<Option<&str>>::new());
}

#[test]
fn entries_are_set_replaced_and_removed() {
    let mut table = Table::with_capacity(2);
    let (a, b) = ([1_u8; 32], [2_u8; 32]);
    table.insert(a, "@a:example.org").unwrap();
    table.insert(b, "@b:example.org").unwrap();
    assert_eq!(table.get(&a), Some("@a:example.org"));
    assert_eq!(table.get(&b), Some("@b:example.org"));
    table.insert(a, "@other:example.org").unwrap();
    assert_eq!(table.get(&a), Some("@other:example.org"));
    table.remove(&b).unwrap();
    assert_eq!(table.get(&b), None);
    assert_eq!(table.len(), 1);
    table.remove(&b).unwrap();
    assert_eq!(table.get(&[3_u8; 32]), None);
}

#[test]
fn replaced_users_are_compacted_away_and_every_entry_keeps_its_user() {
    let mut table = Table::with_capacity(0);
    let long = "x".repeat(200);
    for round in 0..20_u8 {
        for i in 0..1_000_u32 {
            let mut key = [0_u8; 32];
            key[..4].copy_from_slice(&i.to_le_bytes());
            table
                .insert(key, &format!("@{long}{i}r{round}:example.org"))
                .unwrap();
        }
    }
    assert!(
        // 4.3 MB were written; at most the live ones and twice the threshold remain.
        table.users.text.len() < 1_000 * 220 + 2 * MIN_COMPACTION,
        "the dead user IDs were dropped: {} bytes",
        table.users.text.len()
    );
    for i in 0..1_000_u32 {
        let mut key = [0_u8; 32];
        key[..4].copy_from_slice(&i.to_le_bytes());
        assert_eq!(
            table.get(&key),
            Some(format!("@{long}{i}r19:example.org").as_str())
        );
    }
}

#[test]
fn every_entry_is_found_whatever_the_directory_size_before_and_after_merges() {
    let digest_of = |i: u32| digest(&format!("user{i}@example.org"), "email", "pepper");
    for entries in [0_u32, 1, 2, 255, 256, 257, 3_000, 70_000] {
        let mut table = Table::with_capacity(entries as usize);
        for i in 0..entries {
            table
                .push(digest_of(i), &format!("@u{i}:example.org"))
                .unwrap();
        }
        table.seal().unwrap();
        assert_eq!(table.len(), entries as usize);
        // Enough changes to be merged back (and the directory resized) at least once.
        let added = MIN_MERGE as u32 * 2 + 1;
        for i in entries..entries + added {
            table
                .insert(digest_of(i), &format!("@u{i}:example.org"))
                .unwrap();
        }
        for i in (0..entries + added).step_by(7) {
            table.remove(&digest_of(i)).unwrap();
        }
        for i in 0..entries + added {
            let expected = (i % 7 != 0).then(|| format!("@u{i}:example.org"));
            assert_eq!(
                table.get(&digest_of(i)).map(str::to_owned),
                expected,
                "{entries}: {i}"
            );
        }
        assert_eq!(table.get(&digest_of(entries + added)), None, "{entries}");
    }
}

#[test]
fn the_directory_has_about_one_bucket_an_entry_within_its_bounds() {
    assert_eq!(directory_bits(0), MIN_BITS);
    assert_eq!(directory_bits(256), 8);
    assert_eq!(directory_bits(257), 9);
    assert_eq!(directory_bits(1_000_000), 20);
    assert_eq!(directory_bits(usize::MAX), MAX_BITS);
    let low = [0_u8; 32];
    let high = [0xff_u8; 32];
    assert_eq!(bucket(&low, 20), 0);
    assert_eq!(bucket(&high, 20), (1 << 20) - 1);
    assert_eq!(bucket(&high, MAX_BITS), (1 << MAX_BITS) - 1);
}

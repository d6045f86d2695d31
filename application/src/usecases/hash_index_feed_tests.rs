//! The table built from the feeds: rows as stored, invalid ones left out, many pages, and the
//! hashes a client may send.
use pretty_assertions::assert_eq;

use verity_domain::LookupHash;

use super::*;

/// A backend that hands its rows over as stored, valid or not (a store edited by hand).
struct RawBackend(Vec<(&'static str, &'static str, &'static str)>);

#[async_trait::async_trait]
impl IdentityBackend for RawBackend {
    fn name(&self) -> &'static str {
        "raw"
    }

    async fn lookup(&self, _: &ThreePid) -> Result<Option<UserId>, BackendError> {
        Ok(None)
    }

    async fn lookup_many(
        &self,
        _: &[ThreePid],
    ) -> Result<Vec<crate::ports::driven::Binding>, BackendError> {
        Ok(Vec::new())
    }

    async fn feed(
        &self,
        _: Option<ThreePid>,
        _: u32,
    ) -> Result<Vec<crate::ports::driven::Binding>, BackendError> {
        unreachable!("the table reads the rows as stored")
    }

    async fn feed_len(&self) -> Result<Option<u64>, BackendError> {
        Ok(Some(self.0.len() as u64))
    }

    async fn feed_rows(
        &self,
        after: Option<FeedCursor>,
        limit: u32,
        rows: &mut crate::ports::driven::FeedRows,
    ) -> Result<(), BackendError> {
        rows.clear();
        let start = after.map_or(0, |after| {
            let FeedCursor::Key { medium, address } = after else {
                unreachable!("no position was set")
            };
            self.0
                .iter()
                .position(|(m, a, _)| *m == medium && *a == address)
                .unwrap()
                + 1
        });
        for (medium, address, user) in self.0.iter().skip(start).take(limit as usize) {
            rows.push(medium, address, user);
        }
        Ok(())
    }
}

#[tokio::test]
async fn rows_that_are_not_valid_bindings_are_left_out_and_every_other_row_is_answered() {
    let raw = Arc::new(RawBackend(vec![
        // Valid but not in canonical form: found under its canonical form.
        ("email", "Alice@Example.org", "@alice:example.org"),
        ("email", "b@example.org", "not a user id"),
        ("e mail", "c@example.org", "@c:example.org"),
        ("email", "not an address", "@d:example.org"),
        ("email", "e@example.org", "@e:example.org"),
    ]));
    let lower = FakeBackend::new(
        "bindings",
        &[
            binding("b@example.org", "@lower:example.org"),
            binding("f@example.org", "@f:example.org"),
        ],
    );
    let store = Arc::new(FakeHashStore::default());
    let index = HashIndex::new(
        store,
        Backends::new(vec![raw, lower]),
        Arc::new(CountingPeppers::default()),
        FakeClock::at(T0),
        settings(RotationPolicy::Never),
    );
    let world = World {
        store: Arc::new(FakeHashStore::default()),
        clock: FakeClock::at(T0),
        index,
    };
    started(&world).await;
    assert!(world.index.is_ready(), "a bad row does not stop the build");
    for (address, user) in [
        ("alice@example.org", Some("@alice:example.org")),
        // The higher backend's row is invalid: the lower backend's answer stays, as `none`
        // and v1 lookups pass over a failing backend.
        ("b@example.org", Some("@lower:example.org")),
        ("c@example.org", None),
        ("e@example.org", Some("@e:example.org")),
        ("f@example.org", Some("@f:example.org")),
    ] {
        assert_eq!(answer(&world, address).as_deref(), user, "{address}");
    }
}

#[tokio::test]
async fn a_feed_of_many_pages_is_in_the_table_whole() {
    let bindings: Vec<_> = (0..1_001)
        .map(|i| binding(&format!("u{i}@example.org"), &format!("@u{i}:example.org")))
        .collect();
    let own = FakeBackend::new("bindings", &bindings);
    let world = world(&[own], RotationPolicy::Never);
    started(&world).await;
    for i in [0, 1, 2, 500, 999, 1_000] {
        assert_eq!(
            answer(&world, &format!("u{i}@example.org")),
            Some(format!("@u{i}:example.org"))
        );
    }
    let table = world.index.published().unwrap();
    let all: Addresses = (0..1_001)
        .map(|i| LookupHash::of(&email(&format!("u{i}@example.org")), &table.pepper))
        .map(|hash| hash.as_str().to_owned())
        .collect();
    assert_eq!(
        world.index.find(table.pepper.as_str(), &all).unwrap().len(),
        1_001
    );
}

#[tokio::test]
async fn a_hash_that_is_not_43_characters_of_base64_is_simply_not_found() {
    let own = FakeBackend::new("bindings", &[binding("a@example.org", "@a:example.org")]);
    let world = world(&[own], RotationPolicy::Never);
    started(&world).await;
    let table = world.index.published().unwrap();
    let right = LookupHash::of(&email("a@example.org"), &table.pepper);
    let hashes = Addresses::from_iter([
        format!("{right}="),
        String::new(),
        "not base64 at all, but 43 characters long!!".to_owned(),
        right.to_string(),
    ]);
    let found = world.index.find(table.pepper.as_str(), &hashes).unwrap();
    // The position of the one right hash among those asked.
    assert_eq!(found, vec![(3, UserId::parse("@a:example.org").unwrap())]);
}

//! Imported pending invites and ephemeral keys, written inside the sink's page transaction.
//!
//! An invite is keyed by its token: one stored with the same address, room, sender, time and
//! key is `unchanged` (whatever happened to it since: bound, delivered), anything else under
//! that token a conflict, kept as it is. Its expiry is Verity's own (`invite.expiration`)
//! counted from the time the other server received it, or none when Verity's invites do not
//! expire. An ephemeral key is keyed by its value: stored again, it is `unchanged`.
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use verity_application::ports::driven::{ImportedInvite, PageOutcome, StoreError};
use verity_domain::{Invite, PublicKey, Timestamp, invite_expiry};

use super::insert_all;
use crate::bindings::KEYS_PER_QUERY;
use crate::errors::{from_db, to_column};
use crate::invites::{entity, ephemeral_entity, from_row, to_row};

/// The invite Verity stores for `imported`.
fn invite(imported: &ImportedInvite, expiry: Option<Duration>) -> Invite {
    Invite {
        token: imported.token.clone(),
        threepid: imported.threepid.clone(),
        room_id: imported.room_id.clone(),
        sender: imported.sender.clone(),
        ephemeral_key: imported.ephemeral_key,
        created_at: imported.created_at,
        expires_at: invite_expiry(imported.created_at, expiry),
        delivery: None,
    }
}

/// What differs between a stored invite and an imported one with the same token, if anything.
fn difference(stored: &Invite, imported: &ImportedInvite) -> Option<&'static str> {
    if stored.threepid != imported.threepid {
        Some("another address")
    } else if stored.room_id != imported.room_id {
        Some("another room")
    } else if stored.sender != imported.sender {
        Some("another sender")
    } else if stored.created_at != imported.created_at {
        Some("another time")
    } else if stored.ephemeral_key != imported.ephemeral_key {
        Some("another ephemeral key")
    } else {
        None
    }
}

pub(super) async fn write_invites(
    txn: &DatabaseTransaction,
    page: &[ImportedInvite],
    expiry: Option<Duration>,
) -> Result<PageOutcome, StoreError> {
    let tokens: BTreeSet<&str> = page.iter().map(|i| i.token.as_str()).collect();
    let tokens: Vec<&str> = tokens.into_iter().collect();
    let mut known: BTreeMap<String, Invite> = BTreeMap::new();
    for chunk in tokens.chunks(KEYS_PER_QUERY) {
        let stored = entity::Entity::find()
            .filter(entity::Column::Token.is_in(chunk.iter().copied()))
            .all(txn)
            .await
            .map_err(from_db)?;
        for row in stored {
            known.insert(row.token.clone(), from_row(row)?);
        }
    }
    let mut outcome = PageOutcome::default();
    let mut new = Vec::new();
    for (index, imported) in page.iter().enumerate() {
        match known.get(imported.token.as_str()) {
            Some(stored) => match difference(stored, imported) {
                None => outcome.unchanged += 1,
                // Never the token in a reason.
                Some(what) => outcome.conflicts.push((
                    index,
                    format!("Verity holds an invite with this token for {what}; kept"),
                )),
            },
            None => {
                let stored = invite(imported, expiry);
                outcome.added += 1;
                new.push(to_row(&stored)?);
                known.insert(imported.token.as_str().to_owned(), stored);
            }
        }
    }
    insert_all(txn, new, |chunk, txn| async move {
        entity::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await
            .map(|_| ())
    })
    .await?;
    Ok(outcome)
}

pub(super) async fn write_ephemeral_keys(
    txn: &DatabaseTransaction,
    page: &[PublicKey],
    now: Timestamp,
) -> Result<PageOutcome, StoreError> {
    use ephemeral_entity::{ActiveModel, Column, Entity};
    let imported_at = to_column::<u64, i64>(now.as_millis(), "imported_at")?;
    let keys: BTreeSet<String> = page.iter().map(PublicKey::to_base64).collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let mut known: BTreeSet<String> = BTreeSet::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let stored = Entity::find()
            .filter(Column::PublicKey.is_in(chunk.iter().cloned()))
            .all(txn)
            .await
            .map_err(from_db)?;
        known.extend(stored.into_iter().map(|row| row.public_key));
    }
    let mut outcome = PageOutcome::default();
    let mut new = Vec::new();
    for key in page {
        let key = key.to_base64();
        if known.contains(&key) {
            outcome.unchanged += 1;
            continue;
        }
        outcome.added += 1;
        new.push(ActiveModel {
            public_key: Set(key.clone()),
            imported_at: Set(imported_at),
        });
        known.insert(key);
    }
    insert_all(txn, new, |chunk, txn| async move {
        Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await
            .map(|_| ())
    })
    .await?;
    Ok(outcome)
}

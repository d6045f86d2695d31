//! [`ImportSink`] over Verity's own tables: each page in one transaction (rolled back in a dry
//! run), what is already there identically left alone, and a different record under the same
//! key never overwritten (Verity's data wins; it is reported as a conflict).
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, TransactionTrait,
};
use verity_application::ports::driven::{
    AcceptedTerms, ImportSink, ImportedBinding, ImportedInvite, PageOutcome, StoreError,
};
use verity_domain::{Account, PublicKey, Timestamp};

use crate::bindings::KEYS_PER_QUERY;
use crate::bindings::entity as binding;
use crate::errors::{from_db, to_column};
use crate::{accounts, terms};

/// Verity's store as an import writes it. Cloning shares the pool.
#[derive(Clone)]
pub struct SqlImportSink {
    db: DatabaseConnection,
    accepted_at: Timestamp,
    invite_expiry: Option<Duration>,
}

impl SqlImportSink {
    /// `accepted_at`: the time recorded for imported accepted terms (sydent keeps none) and
    /// imported ephemeral keys. Imported invites never expire unless
    /// [`with_invite_expiry`](Self::with_invite_expiry) says otherwise.
    pub(crate) fn new(db: DatabaseConnection, accepted_at: Timestamp) -> Self {
        Self {
            db,
            accepted_at,
            invite_expiry: None,
        }
    }

    /// Imported invites expire `after` their received time (Verity's `invite.expiration`);
    /// `None`: never.
    #[must_use]
    pub fn with_invite_expiry(mut self, after: Option<Duration>) -> Self {
        self.invite_expiry = after;
        self
    }

    async fn begin(&self) -> Result<DatabaseTransaction, StoreError> {
        let txn = self.db.begin().await.map_err(from_db)?;
        if txn.get_database_backend() == DbBackend::Postgres {
            // The `IN (...)` lookups run as prepared statements: after a few pages PostgreSQL
            // would reuse a generic plan made while the table was empty (a sequential scan), and
            // each page then scanned the whole table. Plan each with its values instead.
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
                .await
                .map_err(from_db)?;
        }
        Ok(txn)
    }
}

/// Commits, or rolls back in a dry run.
async fn finish(txn: DatabaseTransaction, dry_run: bool) -> Result<(), StoreError> {
    if dry_run {
        txn.rollback().await.map_err(from_db)
    } else {
        txn.commit().await.map_err(from_db)
    }
}

/// The row an imported binding becomes.
fn binding_row(record: &ImportedBinding) -> Result<binding::Model, StoreError> {
    let association = &record.association;
    let millis = |at: Timestamp, what: &str| to_column::<u64, i64>(at.as_millis(), what);
    Ok(binding::Model {
        medium: association.threepid.medium().as_str().to_owned(),
        address: association.threepid.address().to_owned(),
        mxid: association.user_id.as_str().to_owned(),
        created_at: millis(association.ts, "created_at")?,
        not_before: Some(millis(association.not_before, "not_before")?),
        not_after: Some(millis(association.not_after, "not_after")?),
        signed_json: record.signed.as_ref().map(|s| s.as_str().to_owned()),
    })
}

/// Why a stored binding is kept instead of the imported one.
fn binding_conflict(stored: &binding::Model, imported: &binding::Model) -> String {
    if stored.mxid == imported.mxid {
        "bound here to the same user with another association (time or signature); kept".to_owned()
    } else {
        format!("bound here to {}; kept", stored.mxid)
    }
}

/// The stored bindings among `rows`' keys, by (medium, address).
async fn stored_bindings(
    txn: &DatabaseTransaction,
    rows: &[binding::Model],
) -> Result<BTreeMap<(String, String), binding::Model>, StoreError> {
    let mut by_medium: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for row in rows {
        by_medium
            .entry(&row.medium)
            .or_default()
            .insert(&row.address);
    }
    let mut found = BTreeMap::new();
    for (medium, addresses) in by_medium {
        let addresses: Vec<&str> = addresses.into_iter().collect();
        for chunk in addresses.chunks(KEYS_PER_QUERY) {
            let stored = binding::Entity::find()
                .filter(binding::Column::Medium.eq(medium))
                .filter(binding::Column::Address.is_in(chunk.iter().copied()))
                .all(txn)
                .await
                .map_err(from_db)?;
            for row in stored {
                found.insert((row.medium.clone(), row.address.clone()), row);
            }
        }
    }
    Ok(found)
}

/// Rows per `INSERT`: seven columns each, well under either backend's parameter limit.
const ROWS_PER_INSERT: usize = 500;

#[async_trait]
impl ImportSink for SqlImportSink {
    async fn bindings(
        &self,
        page: &[ImportedBinding],
        dry_run: bool,
    ) -> Result<PageOutcome, StoreError> {
        let rows = page
            .iter()
            .map(binding_row)
            .collect::<Result<Vec<_>, _>>()?;
        let txn = self.begin().await?;
        let mut known = stored_bindings(&txn, &rows).await?;
        let mut outcome = PageOutcome::default();
        let mut new = Vec::new();
        for (index, row) in rows.into_iter().enumerate() {
            let key = (row.medium.clone(), row.address.clone());
            match known.get(&key) {
                Some(stored) if *stored == row => outcome.unchanged += 1,
                Some(stored) => outcome
                    .conflicts
                    .push((index, binding_conflict(stored, &row))),
                None => {
                    outcome.added += 1;
                    new.push(binding::ActiveModel {
                        medium: Set(row.medium.clone()),
                        address: Set(row.address.clone()),
                        mxid: Set(row.mxid.clone()),
                        created_at: Set(row.created_at),
                        not_before: Set(row.not_before),
                        not_after: Set(row.not_after),
                        signed_json: Set(row.signed_json.clone()),
                    });
                    known.insert(key, row);
                }
            }
        }
        let added = !new.is_empty();
        insert_all(&txn, new, |chunk, txn| async move {
            binding::Entity::insert_many(chunk)
                .exec_without_returning(txn)
                .await
                .map(|_| ())
        })
        .await?;
        if added {
            // Imported bindings are not recorded as binding changes, so a saved lookup table
            // would not learn of them at the next start: it goes, and that start builds the
            // table from every binding (docs/lookups.md, "Restarts").
            txn.execute_unprepared("DELETE FROM verity_lookup_saved")
                .await
                .map_err(from_db)?;
        }
        finish(txn, dry_run).await?;
        Ok(outcome)
    }

    async fn accounts(&self, page: &[Account], dry_run: bool) -> Result<PageOutcome, StoreError> {
        let txn = self.begin().await?;
        let tokens: BTreeSet<&str> = page.iter().map(|a| a.token.as_str()).collect();
        let tokens: Vec<&str> = tokens.into_iter().collect();
        let mut known: BTreeMap<String, String> = BTreeMap::new();
        for chunk in tokens.chunks(KEYS_PER_QUERY) {
            let stored = accounts::entity::Entity::find()
                .filter(accounts::entity::Column::Token.is_in(chunk.iter().copied()))
                .all(&txn)
                .await
                .map_err(from_db)?;
            known.extend(stored.into_iter().map(|row| (row.token, row.user_id)));
        }
        let mut outcome = PageOutcome::default();
        let mut new = Vec::new();
        for (index, account) in page.iter().enumerate() {
            match known.get(account.token.as_str()) {
                Some(user) if user == account.user_id.as_str() => outcome.unchanged += 1,
                // The fingerprint is no credential, but the conflict needs no more than this.
                Some(_) => outcome
                    .conflicts
                    .push((index, "this token is another user's here; kept".to_owned())),
                None => {
                    outcome.added += 1;
                    new.push(accounts::to_row(account)?);
                    known.insert(
                        account.token.as_str().to_owned(),
                        account.user_id.as_str().to_owned(),
                    );
                }
            }
        }
        insert_all(&txn, new, |chunk, txn| async move {
            accounts::entity::Entity::insert_many(chunk)
                .exec_without_returning(txn)
                .await
                .map(|_| ())
        })
        .await?;
        finish(txn, dry_run).await?;
        Ok(outcome)
    }

    async fn accepted_terms(
        &self,
        page: &[AcceptedTerms],
        dry_run: bool,
    ) -> Result<PageOutcome, StoreError> {
        use terms::entity::{ActiveModel, Column, Entity};
        let accepted_at = to_column::<u64, i64>(self.accepted_at.as_millis(), "accepted_at")?;
        let txn = self.begin().await?;
        let users: BTreeSet<&str> = page.iter().map(|t| t.user_id.as_str()).collect();
        let users: Vec<&str> = users.into_iter().collect();
        let mut known: BTreeSet<(String, String)> = BTreeSet::new();
        for chunk in users.chunks(KEYS_PER_QUERY) {
            let stored = Entity::find()
                .filter(Column::UserId.is_in(chunk.iter().copied()))
                .all(&txn)
                .await
                .map_err(from_db)?;
            known.extend(stored.into_iter().map(|row| (row.user_id, row.url)));
        }
        let mut outcome = PageOutcome::default();
        let mut new = Vec::new();
        for terms in page {
            let key = (terms.user_id.as_str().to_owned(), terms.url.clone());
            if known.contains(&key) {
                outcome.unchanged += 1;
                continue;
            }
            outcome.added += 1;
            new.push(ActiveModel {
                user_id: Set(key.0.clone()),
                url: Set(key.1.clone()),
                accepted_at: Set(accepted_at),
            });
            known.insert(key);
        }
        insert_all(&txn, new, |chunk, txn| async move {
            Entity::insert_many(chunk)
                .exec_without_returning(txn)
                .await
                .map(|_| ())
        })
        .await?;
        finish(txn, dry_run).await?;
        Ok(outcome)
    }

    async fn invites(
        &self,
        page: &[ImportedInvite],
        dry_run: bool,
    ) -> Result<PageOutcome, StoreError> {
        let txn = self.begin().await?;
        let outcome = invites::write_invites(&txn, page, self.invite_expiry).await?;
        finish(txn, dry_run).await?;
        Ok(outcome)
    }

    async fn ephemeral_keys(
        &self,
        page: &[PublicKey],
        dry_run: bool,
    ) -> Result<PageOutcome, StoreError> {
        let txn = self.begin().await?;
        let outcome = invites::write_ephemeral_keys(&txn, page, self.accepted_at).await?;
        finish(txn, dry_run).await?;
        Ok(outcome)
    }
}

/// Inserts `rows` in chunks inside `txn`.
async fn insert_all<'t, M, F, Fut>(
    txn: &'t DatabaseTransaction,
    mut rows: Vec<M>,
    insert: F,
) -> Result<(), StoreError>
where
    F: Fn(Vec<M>, &'t DatabaseTransaction) -> Fut,
    Fut: Future<Output = Result<(), sea_orm::DbErr>>,
{
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
        insert(rows, txn).await.map_err(from_db)?;
        rows = rest;
    }
    Ok(())
}

mod invites;

#[cfg(test)]
mod measure;

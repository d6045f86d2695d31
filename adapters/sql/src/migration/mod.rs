//! Schema migrations, applied in order by [`crate::connect`].
//!
//! One file per migration, named `mYYYYMMDD_HHMMSS_name.rs`: sea-orm records a migration under
//! its file stem, so renaming a file makes it run again. A released migration is never edited;
//! changes go in a new file.
use sea_orm_migration::{MigrationTrait, MigratorTrait};

mod m20261128_000001_create_verity_session;
mod m20261128_000002_create_verity_account_and_terms;
mod m20261129_000001_create_verity_binding_and_lookup_hash;
mod m20261130_000001_add_verity_session_remote;
mod m20261130_000002_create_verity_invite;
mod m20261130_000003_add_verity_session_bound_to;
mod m20261206_000001_add_verity_binding_imported;
mod m20261206_000002_add_verity_imported_invites;
mod m20261206_000003_create_verity_binding_change;
mod m20261207_000001_create_verity_lookup_saved;
mod m20261207_000002_split_verity_lookup_saved;

pub(crate) struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_verity_session::Migration),
            Box::new(m20261128_000002_create_verity_account_and_terms::Migration),
            Box::new(m20261129_000001_create_verity_binding_and_lookup_hash::Migration),
            Box::new(m20261130_000001_add_verity_session_remote::Migration),
            Box::new(m20261130_000002_create_verity_invite::Migration),
            Box::new(m20261130_000003_add_verity_session_bound_to::Migration),
            Box::new(m20261206_000001_add_verity_binding_imported::Migration),
            Box::new(m20261206_000002_add_verity_imported_invites::Migration),
            Box::new(m20261206_000003_create_verity_binding_change::Migration),
            Box::new(m20261207_000001_create_verity_lookup_saved::Migration),
            Box::new(m20261207_000002_split_verity_lookup_saved::Migration),
        ]
    }
}

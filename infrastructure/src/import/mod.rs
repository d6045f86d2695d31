//! Importing an existing deployment (Sydent, ma1sd) into Verity.

pub mod cli;
pub mod sydent_conf;

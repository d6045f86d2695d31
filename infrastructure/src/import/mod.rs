//! Importing an existing deployment (Sydent, ma1sd) into Verity.

pub mod cli;
pub mod ma1sd_cli;
mod report;
pub mod sydent_conf;

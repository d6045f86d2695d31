//! Importing an existing deployment (Sydent, ma1sd) into Verity.

pub mod sydent_conf;

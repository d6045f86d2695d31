//! The `verity_lookup_hash` and `verity_lookup_pepper` rows, as sea-orm reads and writes them.

pub mod hash {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "verity_lookup_hash")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub pepper: String,
        /// Unpadded URL-safe base64 of SHA-256 over `"<address> <medium> <pepper>"`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub hash: String,
        pub medium: String,
        pub address: String,
        pub mxid: String,
        /// The build of the table that last wrote the row.
        pub generation: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pepper {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "verity_lookup_pepper")]
    pub struct Model {
        /// Always 1: the table has one row.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub pepper: String,
        pub generation: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

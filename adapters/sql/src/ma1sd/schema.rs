//! ma1sd's tables as its ORMLite made them (test data, feature `testing`): real ma1sd cannot run
//! here (it builds from Maven Central), so these are the `CREATE TABLE` statements ORMLite 5
//! (`TableUtils.createTableIfNotExists`) generates from the DAO annotations of ma1sd commit
//! `ae5864cd91f7db57c3a99b7847c3c327980e74e8`,
//! `src/main/java/io/kamax/mxisd/storage/ormlite/dao/{AccountDao,AcceptedDao,ThreePidInviteIO,
//! ChangelogDao}.java`, created in the order of `OrmLiteSqlStorage`'s constructor, then its
//! migrations (`OrmLiteSqlStorage.runMigration`: the `changelog` rows; on PostgreSQL
//! `invite_3pid`'s columns turned to `text`). ORMLite names columns after the Java fields and
//! quotes them (backticks on SQLite, double quotes on PostgreSQL); `String` is `VARCHAR`
//! (`VARCHAR(255)` on PostgreSQL), `long` `BIGINT`, a generated `Long` id an `INTEGER PRIMARY KEY
//! AUTOINCREMENT` on SQLite and a `BIGINT` fed by a sequence on PostgreSQL, `Date` `TIMESTAMP`.

/// On SQLite (`storage.backend: sqlite`).
pub const SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS `changelog` (`id` VARCHAR , `createdAt` TIMESTAMP , `comment` VARCHAR , PRIMARY KEY (`id`) )",
    "CREATE TABLE IF NOT EXISTS `invite_3pid` (`id` VARCHAR , `token` VARCHAR NOT NULL , `sender` VARCHAR NOT NULL , `medium` VARCHAR NOT NULL , `address` VARCHAR NOT NULL , `roomId` VARCHAR NOT NULL , `properties` VARCHAR , PRIMARY KEY (`id`) )",
    "CREATE TABLE IF NOT EXISTS `invite_3pid_history` (`id` VARCHAR , `token` VARCHAR NOT NULL , `sender` VARCHAR NOT NULL , `medium` VARCHAR NOT NULL , `address` VARCHAR NOT NULL , `roomId` VARCHAR NOT NULL , `properties` VARCHAR , `resolvedTo` VARCHAR NOT NULL , `resolvedAt` BIGINT NOT NULL , `couldPublish` BOOLEAN NOT NULL , `publishAttempts` BIGINT NOT NULL , PRIMARY KEY (`id`) )",
    "CREATE TABLE IF NOT EXISTS `account` (`token` VARCHAR NOT NULL , `accessToken` VARCHAR NOT NULL , `tokenType` VARCHAR NOT NULL , `matrixServerName` VARCHAR NOT NULL , `expiresIn` BIGINT NOT NULL , `createdAt` BIGINT NOT NULL , `userId` VARCHAR NOT NULL , PRIMARY KEY (`token`) )",
    "CREATE TABLE IF NOT EXISTS `accepted` (`id` INTEGER PRIMARY KEY AUTOINCREMENT , `url` VARCHAR NOT NULL , `userId` VARCHAR NOT NULL , `acceptedAt` BIGINT NOT NULL )",
    "INSERT INTO `changelog` VALUES ('2019_12_09__2254__fix_accepted_dao', '2021-04-16 21:48:19.000000', 'Recreate the accepted table.')",
    "INSERT INTO `changelog` VALUES ('2020_03_22__1153__fix_hash_dao_unique_index', '2021-04-16 21:48:19.000000', 'Add the id and migrate the unique index.')",
];

/// On PostgreSQL (`storage.backend: postgresql`).
pub const POSTGRES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS \"changelog\" (\"id\" VARCHAR(255) , \"createdAt\" TIMESTAMP , \"comment\" VARCHAR(255) , PRIMARY KEY (\"id\") )",
    "CREATE TABLE IF NOT EXISTS \"invite_3pid\" (\"id\" VARCHAR(255) , \"token\" VARCHAR(255) NOT NULL , \"sender\" VARCHAR(255) NOT NULL , \"medium\" VARCHAR(255) NOT NULL , \"address\" VARCHAR(255) NOT NULL , \"roomId\" VARCHAR(255) NOT NULL , \"properties\" VARCHAR(255) , PRIMARY KEY (\"id\") )",
    "CREATE TABLE IF NOT EXISTS \"account\" (\"token\" VARCHAR(255) NOT NULL , \"accessToken\" VARCHAR(255) NOT NULL , \"tokenType\" VARCHAR(255) NOT NULL , \"matrixServerName\" VARCHAR(255) NOT NULL , \"expiresIn\" BIGINT NOT NULL , \"createdAt\" BIGINT NOT NULL , \"userId\" VARCHAR(255) NOT NULL , PRIMARY KEY (\"token\") )",
    "CREATE SEQUENCE \"accepted_id_seq\"",
    "CREATE TABLE IF NOT EXISTS \"accepted\" (\"id\" BIGINT DEFAULT nextval('\"accepted_id_seq\"') NOT NULL , \"url\" VARCHAR(255) NOT NULL , \"userId\" VARCHAR(255) NOT NULL , \"acceptedAt\" BIGINT NOT NULL , PRIMARY KEY (\"id\") )",
    "alter table invite_3pid alter column \"roomId\" type text",
    "alter table invite_3pid alter column id type text",
    "alter table invite_3pid alter column token type text",
    "alter table invite_3pid alter column sender type text",
    "alter table invite_3pid alter column medium type text",
    "alter table invite_3pid alter column address type text",
    "alter table invite_3pid alter column properties type text",
];

/// The `INSERT` ma1sd's `AccountManager.register` makes (`createdAt` in seconds; `expiresIn` is
/// the homeserver's OpenID token's), quoted for both backends.
pub fn insert_account(token: &str, user_id: &str, created_at_seconds: i64) -> String {
    format!(
        "INSERT INTO account (token, \"accessToken\", \"tokenType\", \"matrixServerName\", \
         \"expiresIn\", \"createdAt\", \"userId\") VALUES ('{token}', 'openid-{created_at_seconds}', \
         'Bearer', 'example.org', 3600, {created_at_seconds}, '{user_id}')"
    )
}

/// The `INSERT` of `OrmLiteSqlStorage.acceptTerm` (`acceptedAt` in milliseconds).
pub fn insert_accepted(user_id: &str, url: &str, accepted_at_millis: i64) -> String {
    format!(
        "INSERT INTO accepted (url, \"userId\", \"acceptedAt\") VALUES ('{url}', '{user_id}', \
         {accepted_at_millis})"
    )
}

/// The `INSERT` of `OrmLiteSqlStorage.insertInvite`: `properties` as Gson writes the invite's
/// properties (`created_at` in milliseconds, the server and ephemeral keys).
pub fn insert_invite(
    id: &str,
    token: &str,
    sender: &str,
    (medium, address): (&str, &str),
    room_id: &str,
    properties: &str,
) -> String {
    format!(
        "INSERT INTO invite_3pid (id, token, sender, medium, address, \"roomId\", properties) \
         VALUES ('{id}', '{token}', '{sender}', '{medium}', '{address}', '{room_id}', \
         '{properties}')"
    )
}

/// The `properties` ma1sd's `InvitationManager.storeInvite` writes.
pub fn invite_properties(created_at_millis: u64, server_key: &str, ephemeral_key: &str) -> String {
    format!(
        "{{\"created_at\":\"{created_at_millis}\",\"p_key_algo\":\"ed25519\",\"p_key_serial\":\"0\",\
         \"p_key_public\":\"{server_key}\",\"e_key_algo\":\"ed25519\",\"e_key_serial\":\"1\",\
         \"e_key_public\":\"{ephemeral_key}\"}}"
    )
}

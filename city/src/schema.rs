//! The city's PostgreSQL schema, versioned: each migration runs once, in order, in one
//! transaction with the version it brings, under an advisory lock so that replicas that
//! start together migrate once. A database newer than this `qms` is refused, not changed.

use tokio_postgres::Client;

use crate::CityError;

/// The migrations, in order: version, name, SQL.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "events", include_str!("../migrations/0001_events.sql")),
    (
        2,
        "citizen pages",
        include_str!("../migrations/0002_citizen_pages.sql"),
    ),
];

/// The newest schema this `qms` knows.
pub fn newest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// Any number, the same in every `qms city`: the lock the migrations take.
const MIGRATION_LOCK: i64 = 0x716d_735f_6369_7479;

/// Brings the database to the newest schema; the versions it applied.
pub async fn migrate(db: &mut Client) -> Result<Vec<i32>, CityError> {
    let tx = db.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS qms_schema (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let at: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM qms_schema", &[])
        .await?
        .get(0);
    if at > newest() {
        return Err(CityError::Schema(format!(
            "the database is at schema version {at} and this qms knows up to {}: \
             run the newer qms city, or restore a backup",
            newest()
        )));
    }
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > at) {
        tx.batch_execute(sql)
            .await
            .map_err(|e| CityError::Schema(format!("migration {version} ({name}) failed: {e}")))?;
        tx.execute(
            "INSERT INTO qms_schema (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await?;
        applied.push(*version);
    }
    tx.commit().await?;
    Ok(applied)
}

/// The schema version the database is at (0 before the first migration).
pub async fn version(db: &Client) -> Result<i32, CityError> {
    let exists: bool = db
        .query_one("SELECT to_regclass('qms_schema') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(db
        .query_one("SELECT coalesce(max(version), 0) FROM qms_schema", &[])
        .await?
        .get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_without_a_hole() {
        for (i, (version, name, sql)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*version, i as i32 + 1, "{name}");
            assert!(!sql.trim().is_empty(), "{name}");
        }
    }
}

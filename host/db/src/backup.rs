//! An online copy of the database, taken while other processes (the
//! service) read and write it: SQLite's backup API, all pages in one step
//! under one read transaction, so the copy is one consistent snapshot and
//! writers in WAL mode carry on meanwhile.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use crate::{Db, DbError, Result};

/// How long a backup waits for a lock (a checkpoint, a schema change)
/// before it gives up.
const BUSY_LIMIT: Duration = Duration::from_secs(30);

impl Db {
    /// Copies the whole database into the SQLite file at `dest` (an empty
    /// or missing file; what it held is replaced).
    pub fn backup_into(&self, dest: &Path) -> Result<()> {
        let mut target = Connection::open(dest)?;
        let conn = self.conn();
        let backup = Backup::new(&conn, &mut target)?;
        let started = Instant::now();
        loop {
            match backup.step(-1)? {
                StepResult::Done => return Ok(()),
                StepResult::Busy | StepResult::Locked if started.elapsed() < BUSY_LIMIT => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {
                    return Err(DbError::Refused(format!(
                        "the database stayed locked for {} s; no backup was taken",
                        BUSY_LIMIT.as_secs()
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewItem;

    #[test]
    fn a_backup_holds_the_data_and_passes_the_integrity_check() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("intellitrack.db")).unwrap();
        db.add_item(
            &NewItem {
                number: "BOLT-M6".into(),
                description: "Hex bolt".into(),
                unit_cost: None,
                unit_of_measure: None,
            },
            "ann",
            1,
        )
        .unwrap();
        let copy = dir.path().join("copy.db");
        db.backup_into(&copy).unwrap();
        let conn = Connection::open(&copy).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let copied = Db::open(&copy).unwrap();
        let skus: Vec<String> = copied
            .items()
            .unwrap()
            .into_iter()
            .map(|i| i.number)
            .collect();
        assert_eq!(skus, ["BOLT-M6"]);
    }
}

//! The data dir's files and who may read them. The data dir is created
//! `0700` and the database `0600` before SQLite opens it (SQLite gives its
//! `-wal` and `-shm` files the database's mode); the key file is created
//! `0600` by [`crate::credentials`]. At start the host warns when any of
//! them is open to the group or others: the database holds customers'
//! names and addresses, the key opens every stored credential. It warns
//! and goes on, never changing a mode the admin set.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::credentials::KEY_FILE;

/// The database's file in the data dir.
pub const DB_FILE: &str = "intellitrack.db";

/// Creates the data dir (`0700`) and an empty database file (`0600`) if
/// they are missing; returns the database's path.
pub fn prepare(data_dir: &Path) -> anyhow::Result<PathBuf> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
    let db = data_dir.join(DB_FILE);
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&db)
    {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(e).with_context(|| format!("cannot create the database {}", db.display()));
        }
    }
    Ok(db)
}

/// Logs a warning for each of the data dir, the database (with its `-wal`
/// and `-shm`) and the key file that the group or others may use.
pub fn warn_if_open(data_dir: &Path) {
    let db = data_dir.join(DB_FILE);
    let files = [
        (data_dir.to_path_buf(), "data dir", "700"),
        (db.clone(), "database", "600"),
        (sidecar(&db, "-wal"), "database's log", "600"),
        (sidecar(&db, "-shm"), "database's index", "600"),
        (data_dir.join(KEY_FILE), "key file", "600"),
    ];
    for (path, what, wanted) in files {
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if let Some(warning) = exposure(meta.permissions().mode(), what, &path, wanted) {
            tracing::warn!("{warning}");
        }
    }
}

fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The warning for a file of this mode, if the group or others may use it.
fn exposure(mode: u32, what: &str, path: &Path, wanted: &str) -> Option<String> {
    let open = mode & 0o077;
    if open == 0 {
        return None;
    }
    let who = match (open & 0o070 != 0, open & 0o007 != 0) {
        (true, true) => "its group and others",
        (true, false) => "its group",
        _ => "others",
    };
    Some(format!(
        "the {what} {} has mode {:03o}: {who} on this machine may read it; \
         `chmod {wanted} {}` keeps it to the host's user",
        path.display(),
        mode & 0o777,
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_modes_open_to_group_or_others_warn() {
        let path = Path::new("/var/lib/plugin-host/intellitrack.db");
        assert_eq!(exposure(0o100600, "database", path, "600"), None);
        assert_eq!(exposure(0o40700, "data dir", path, "700"), None);
        assert_eq!(
            exposure(0o100644, "database", path, "600").unwrap(),
            "the database /var/lib/plugin-host/intellitrack.db has mode 644: its group and \
             others on this machine may read it; `chmod 600 \
             /var/lib/plugin-host/intellitrack.db` keeps it to the host's user"
        );
        assert!(
            exposure(0o40750, "data dir", path, "700")
                .unwrap()
                .contains("mode 750: its group on")
        );
        assert!(
            exposure(0o100604, "key file", path, "600")
                .unwrap()
                .contains(": others on")
        );
    }

    #[test]
    fn a_fresh_data_dir_is_the_host_users_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let data_dir = tmp.path().join("a/data");
        let db = prepare(&data_dir).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data_dir), 0o700);
        assert_eq!(mode(&db), 0o600);
        // A second start keeps what is there.
        fs::write(&db, b"kept").unwrap();
        prepare(&data_dir).unwrap();
        assert_eq!(fs::read(&db).unwrap(), b"kept");
    }
}

//! `plugin-host backup FILE`: a consistent copy of the database, taken
//! while the service runs (SQLite's online backup). The copy is written
//! beside FILE under a temporary name, created `0600` (it holds customers'
//! names and addresses), flushed to disk, and only then given its name, so
//! FILE is never a half-written backup. An existing FILE is replaced only
//! with `--force`.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use intellitrack_db::Db;

use crate::data_dir::DB_FILE;

#[derive(Args)]
pub struct BackupArgs {
    /// The backup file to write (restore: stop the service, copy it to the
    /// data dir's intellitrack.db, start the service).
    file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
}

pub fn backup(data_dir: &Path, args: &BackupArgs) -> anyhow::Result<()> {
    let source = data_dir.join(DB_FILE);
    if !source.exists() {
        bail!(
            "there is no database at {}: nothing to back up",
            source.display()
        );
    }
    let file = &args.file;
    if file.exists() && !args.force {
        bail!("{} exists; pass --force to replace it", file.display());
    }
    let name = file
        .file_name()
        .with_context(|| format!("{} is not a file name", file.display()))?;
    let partial = file.with_file_name(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let written = copy_into(&source, &partial).and_then(|()| name_it(&partial, file, args.force));
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written?;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    outln!(
        "backed up {} to {} ({size} bytes)",
        source.display(),
        file.display()
    );
    Ok(())
}

/// The online backup into `partial`, flushed to disk.
fn copy_into(source: &Path, partial: &Path) -> anyhow::Result<()> {
    let db = Db::open(source)?;
    db.backup_into(partial)
        .with_context(|| format!("backup into {} failed", partial.display()))?;
    std::fs::File::open(partial)?.sync_all()?;
    Ok(())
}

/// Gives the finished copy its name: replacing an existing file only when
/// forced; otherwise a hard link, which fails rather than replace a file
/// that appeared meanwhile.
fn name_it(partial: &Path, file: &Path, force: bool) -> anyhow::Result<()> {
    if force {
        std::fs::rename(partial, file)
            .with_context(|| format!("cannot write {}", file.display()))?;
    } else {
        std::fs::hard_link(partial, file).with_context(|| {
            format!(
                "cannot write {} (it may have appeared meanwhile; --force replaces it)",
                file.display()
            )
        })?;
        std::fs::remove_file(partial)?;
    }
    Ok(())
}

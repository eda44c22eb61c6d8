//! Running the host as a service: `backup` while a run writes, the JSON
//! log format, and the data dir's permissions, through the real binary.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use e2e_tests::{Install, SandboxStore, WOOCOMMERCE, settings_args};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The integrity check's answer and the item numbers in a database file.
fn check_and_items(path: &Path) -> (String, Vec<String>) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let check = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let mut stmt = conn.prepare("SELECT number FROM items").unwrap();
    let items = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (check, items)
}

#[test]
fn a_backup_taken_while_a_run_writes_is_whole_and_holds_the_data() {
    let store = SandboxStore::start_with(&["--products", "3000", "--variable", "150"]);
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let settings: Vec<String> = store.settings();
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    install
        .run(&settings_args("woocommerce", &settings))
        .success();
    install.activate("woocommerce");
    install
        .run(&["items", "add", "BOLT-M6", "--description", "Hex bolt M6"])
        .success();

    let mut import = install
        .command(&["run", "woocommerce", "import-products"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let backups = tempfile::tempdir().unwrap();
    let mut taken_while_running = Vec::new();
    for n in 0.. {
        if !matches!(import.try_wait(), Ok(None)) {
            break;
        }
        let file = backups.path().join(format!("backup-{n}.db"));
        install.run(&["backup", file.to_str().unwrap()]).success();
        if matches!(import.try_wait(), Ok(None)) {
            taken_while_running.push(file);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(import.wait().unwrap().success());
    assert!(
        !taken_while_running.is_empty(),
        "the import ended before a backup was taken"
    );
    let (_, live) = check_and_items(&install.data_dir.join("intellitrack.db"));
    let mut counts = Vec::new();
    for file in &taken_while_running {
        assert_eq!(mode(file), 0o600, "{}", file.display());
        let (check, items) = check_and_items(file);
        assert_eq!(check, "ok", "{}", file.display());
        assert!(items.contains(&"BOLT-M6".to_owned()));
        assert!(items.len() <= live.len());
        counts.push(items.len());
    }
    assert!(counts.is_sorted(), "{counts:?}");
    eprintln!(
        "items in the backups taken during the run: {counts:?} of {}",
        live.len()
    );

    // A backup after the run holds everything.
    let after = backups.path().join("after.db");
    install.run(&["backup", after.to_str().unwrap()]).success();
    assert_eq!(check_and_items(&after).1.len(), live.len());

    // An existing file is kept unless --force; then it is replaced.
    let before = std::fs::read(&taken_while_running[0]).unwrap();
    let target = taken_while_running[0].to_str().unwrap();
    let refused = install.run(&["backup", target]).refused();
    assert!(
        refused.stderr().contains("pass --force"),
        "{}",
        refused.stderr()
    );
    assert_eq!(std::fs::read(target).unwrap(), before);
    install.run(&["backup", target, "--force"]).success();
    assert_eq!(check_and_items(Path::new(target)).1.len(), live.len());
    assert_eq!(mode(Path::new(target)), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(backups.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_backup_without_a_database_is_refused_and_creates_nothing() {
    let install = Install::with_plugins(&[]);
    let file = install.plugin_dir.join("backup.db");
    let refused = install.run(&["backup", file.to_str().unwrap()]).refused();
    assert!(
        refused.stderr().contains("nothing to back up"),
        "{}",
        refused.stderr()
    );
    assert!(!file.exists());
    assert!(!install.data_dir.exists());
}

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

/// Every line of `text` as a JSON log event; fails on a line that is not
/// one, or that carries a secret.
fn json_events(text: &str, secrets: &[&str]) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            for secret in secrets {
                assert!(!line.contains(secret), "a secret in the log: {line}");
            }
            let event: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            assert!(event["timestamp"].is_string(), "{line}");
            assert!(event["level"].is_string(), "{line}");
            event
        })
        .collect()
}

fn message(event: &serde_json::Value) -> &str {
    event["fields"]["message"].as_str().unwrap_or_default()
}

#[test]
fn json_logs_are_one_object_a_line_without_secrets() {
    let store = SandboxStore::start();
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let wrong = "cs_wrong_secret_for_the_log_test";
    let secrets = [SandboxStore::SECRET, wrong];

    // A refused activation: the error is a JSON event too, without the secret.
    let url = format!("store_url={}", store.url);
    let key = format!("consumer_key={}", SandboxStore::KEY);
    let wrong_secret = format!("consumer_secret={wrong}");
    install
        .run(&settings_args("woocommerce", &[&url, &key, &wrong_secret]))
        .success();
    let refused = install
        .run(&["--log-format", "json", "plugins", "activate", "woocommerce"])
        .refused();
    let events = json_events(&refused.stderr(), &secrets);
    assert!(
        events.iter().any(|e| e["level"] == "ERROR"),
        "{}",
        refused.stderr()
    );

    let right_secret = format!("consumer_secret={}", SandboxStore::SECRET);
    install
        .run(&settings_args("woocommerce", &[&right_secret]))
        .success();
    install
        .run(&["--log-format", "json", "plugins", "activate", "woocommerce"])
        .success();
    let ran = install
        .run(&[
            "--log-format",
            "json",
            "run",
            "woocommerce",
            "import-products",
        ])
        .success();
    let events = json_events(&ran.stderr(), &secrets);
    assert!(
        events
            .iter()
            .any(|e| message(e).contains("connected to the store")),
        "the plugin's own log lines come as JSON: {}",
        ran.stderr()
    );
    let progress = events
        .iter()
        .find(|e| e["target"] == "progress")
        .unwrap_or_else(|| panic!("no progress event: {}", ran.stderr()));
    assert_eq!(progress["fields"]["run"], "woocommerce/import-products");
    assert!(progress["fields"]["done"].is_u64(), "{progress}");

    // The service, with the format from the environment.
    let service = install.serve_with_env(&[("PLUGIN_HOST_LOG_FORMAT", "json")]);
    service.wait_for_log("plugin host serving", Duration::from_secs(30));
    let log = service.log();
    assert!(service.stop().success());
    let events = json_events(&log, &secrets);
    let serving = events
        .iter()
        .find(|e| message(e) == "plugin host serving")
        .unwrap();
    assert_eq!(serving["level"], "INFO");
    assert_eq!(serving["fields"]["loaded"], 1);

    // The default stays human text.
    let text = install
        .run(&["plugins", "activate", "woocommerce"])
        .success();
    assert!(
        text.stderr()
            .lines()
            .any(|l| l.contains(" INFO ") && !l.starts_with('{')),
        "{}",
        text.stderr()
    );
}

#[test]
fn the_data_dir_is_the_host_users_alone_and_the_host_warns_when_it_is_not() {
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let data = &install.data_dir;
    let db = data.join("intellitrack.db");
    let key = data.join("secret.key");
    let first = install.run(&["plugins", "list"]).success();
    assert!(
        !first.stderr().contains("may read it"),
        "{}",
        first.stderr()
    );
    assert_eq!(mode(data), 0o700);
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&key), 0o600);

    // While the service runs, SQLite's log and index files are private too.
    let service = install.serve();
    service.wait_for_log("plugin host serving", Duration::from_secs(30));
    for sidecar in ["intellitrack.db-wal", "intellitrack.db-shm"] {
        assert_eq!(mode(&data.join(sidecar)), 0o600, "{sidecar}");
    }
    assert!(!service.log().contains("may read it"), "{}", service.log());
    assert!(service.stop().success());

    // Opened up by hand: the host warns about each, names the fix, and runs.
    let set = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    set(data, 0o750);
    set(&db, 0o644);
    set(&key, 0o604);
    let warned = install.run(&["plugins", "list"]).success();
    let stderr = warned.stderr();
    for expected in [
        format!("the data dir {} has mode 750: its group on", data.display()),
        format!(
            "the database {} has mode 644: its group and others",
            db.display()
        ),
        format!("the key file {} has mode 604: others on", key.display()),
        format!("chmod 600 {}", key.display()),
    ] {
        assert!(stderr.contains(&expected), "no {expected:?} in\n{stderr}");
    }
    assert!(
        warned.stdout().contains("woocommerce"),
        "the command still ran"
    );
    assert_eq!(mode(&db), 0o644, "the host leaves the admin's modes alone");

    set(data, 0o700);
    set(&db, 0o600);
    set(&key, 0o600);
    let quiet = install.run(&["plugins", "list"]).success();
    assert!(
        !quiet.stderr().contains("may read it"),
        "{}",
        quiet.stderr()
    );
}

#[test]
fn a_backup_restored_as_the_readme_says_brings_the_data_back() {
    let install = Install::with_plugins(&[]);
    install
        .run(&["items", "add", "BOLT-M6", "--description", "Hex bolt M6"])
        .success();
    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("it.db");
    install.run(&["backup", file.to_str().unwrap()]).success();
    install
        .run(&["items", "add", "NUT-M6", "--description", "Hex nut M6"])
        .success();

    // Restore: the backup in place of the database, its old -wal/-shm gone.
    let db = install.data_dir.join("intellitrack.db");
    for sidecar in ["intellitrack.db-wal", "intellitrack.db-shm"] {
        let _ = std::fs::remove_file(install.data_dir.join(sidecar));
    }
    std::fs::copy(&file, &db).unwrap();
    let items = install.json(&["items", "--json"]);
    let numbers: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["BOLT-M6"]);
    assert_eq!(check_and_items(&db).0, "ok");
}

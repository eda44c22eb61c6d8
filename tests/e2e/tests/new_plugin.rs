//! `plugin-host new-plugin`: the crate it writes, in an empty folder
//! outside the repository, builds, passes its own test-kit tests, and loads
//! and runs in the host.

use std::path::Path;
use std::process::Command;

use e2e_tests::{Install, build, target_dir, workspace_root};

const NAME: &str = "shelf-count";

fn cargo(crate_dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir())
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "cargo {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn a_new_plugin_builds_passes_its_tests_and_runs_in_the_host() {
    let outside = tempfile::tempdir().expect("temp dir");
    let crate_dir = outside.path().join(NAME);
    let workspace = workspace_root().canonicalize().unwrap();
    let written = Command::new(build().join("plugin-host"))
        .args(["new-plugin", NAME, "--dir"])
        .arg(&crate_dir)
        .arg("--api-path")
        .arg(&workspace)
        .output()
        .expect("plugin-host runs");
    assert!(written.status.success(), "{written:?}");
    for file in ["Cargo.toml", "README.md", "src/lib.rs", "src/tests.rs"] {
        assert!(crate_dir.join(file).is_file(), "{file} was written");
    }
    // The workspace's lock file: the same dependency versions, so the shared
    // target folder's builds are reused and nothing is fetched.
    std::fs::copy(workspace.join("Cargo.lock"), crate_dir.join("Cargo.lock")).unwrap();

    let tested = cargo(&crate_dir, &["test"]);
    assert!(tested.contains("test result: ok. 2 passed"), "{tested}");
    cargo(&crate_dir, &["build"]);

    let install = Install::with_plugins(&[]);
    let library = format!(
        "{}shelf_count{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    std::fs::copy(
        target_dir().join("debug").join(&library),
        install.plugin_dir.join(&library),
    )
    .unwrap();
    let list = install.json(&["plugins", "list", "--json"]);
    let plugin = &list[0];
    assert_eq!(plugin["id"], NAME, "{list:#}");
    assert_eq!(plugin["state"], "inactive", "{list:#}");

    install
        .run(&["items", "add", "MUG", "--description", "Mug"])
        .success();
    install.run(&["receive", "MUG", "7"]).success();
    install.set(NAME, &["minimum=5"]);
    install.activate(NAME);
    let ran = install
        .run(&["run", NAME, "count-in-stock"])
        .success()
        .stdout();
    assert!(
        ran.contains("1 of 1 items have at least 5 available"),
        "{ran}"
    );
}

#[test]
fn a_name_that_is_not_a_crate_name_is_refused_and_nothing_is_written() {
    let outside = tempfile::tempdir().expect("temp dir");
    let crate_dir = outside.path().join("x");
    let refused = Command::new(build().join("plugin-host"))
        .args(["new-plugin", "Shelf Count", "--dir"])
        .arg(&crate_dir)
        .output()
        .expect("plugin-host runs");
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("\"Shelf Count\" cannot be a plugin name"),
        "{stderr}"
    );
    assert!(!crate_dir.exists());
}

#[test]
fn a_crate_written_for_crates_io_says_the_test_kit_needs_a_checkout() {
    let outside = tempfile::tempdir().expect("temp dir");
    let crate_dir = outside.path().join("shelf-count");
    let wrote = Command::new(build().join("plugin-host"))
        .args(["new-plugin", "shelf-count", "--dir"])
        .arg(&crate_dir)
        .env_remove("PLUGIN_HOST_API_PATH")
        .output()
        .expect("plugin-host runs");
    assert!(wrote.status.success());
    let stdout = String::from_utf8_lossy(&wrote.stdout);
    assert!(
        stdout.contains("plugin-test-kit is not on crates.io yet") && stdout.contains("--api-path"),
        "{stdout}"
    );
    let readme = std::fs::read_to_string(crate_dir.join("README.md")).unwrap();
    assert!(readme.contains("--api-path"), "{readme}");
}

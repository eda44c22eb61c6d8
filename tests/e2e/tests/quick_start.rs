//! The quick start (`cargo run -p demo`), as a newcomer runs it: the real
//! build, the real sandbox process, the real host and plugin library. Run
//! with `--debug` binaries, which the other end-to-end tests build anyway.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use e2e_tests::workspace_root;

fn quick_start(data_dir: &Path) -> Output {
    Command::new(env!("CARGO"))
        .args(["run", "-q", "-p", "demo", "--", "--debug", "--data-dir"])
        .arg(data_dir)
        .current_dir(workspace_root())
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("cargo runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The sandbox's pid, from the line that names the store.
fn store_pid(text: &str) -> u32 {
    let line = text
        .lines()
        .find(|l| l.starts_with("Store: woo-sandbox at http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no store line:\n{text}"));
    let (_, rest) = line.split_once("(pid ").expect("pid shown");
    rest.split(')').next().unwrap().parse().expect("a pid")
}

#[test]
fn the_quick_start_runs_end_to_end_twice_and_stops_its_store() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("demo-data");
    for round in 1..=2 {
        let ran = quick_start(&data_dir);
        let text = stdout(&ran);
        assert!(
            ran.status.success(),
            "round {round}:\n{text}\n{}",
            String::from_utf8_lossy(&ran.stderr)
        );
        for expected in [
            // Store -> IntelliTrack: counts, and each skipped record with its reason.
            "import-products: created 14, updated 0, skipped 6, failed 0",
            "skipped product 18 \"Rig Grouped Set\": grouped product",
            "skipped product 19 \"Rig Affiliate Book\": external/affiliate product",
            "skipped product 20 \"Rig Consultation Hour\": virtual",
            "skipped product 21 \"Rig E-Book\": virtual and downloadable",
            "skipped product 24 \"Rig Draft Product\": status \"draft\"",
            "import-orders: created 3, updated 0, skipped 1, failed 1",
            "failed order 177: line \"Rig No-SKU Item\"",
            "imported with the lines the warehouse can ship, the others kept not to ship: it needs attention",
            // The warehouse: one order shipped whole, one in part.
            "shipped order 176 by UPS (1Z999AA10123456784): line 1 x2; order shipped",
            "line 1 x1, line 2 x1; order partially-shipped",
            // IntelliTrack -> store.
            "export-fulfillment: created 5, updated 0, skipped 0, failed 0",
            "5 events sent to WooCommerce, 0 parked",
            "end-of-day: created 0, updated 2, skipped 1, failed 0",
            "2 of 12 items' counts differed and were sent",
            "skipped item RIG-UNMANAGED: WooCommerce does not manage its stock",
            "records skipped 7, failed 1 (reasons above)",
            // How to go on.
            "users add admin --role admin --password-stdin",
            "serve",
            "http://127.0.0.1:8089",
        ] {
            assert!(
                text.contains(expected),
                "round {round}: no {expected:?} in\n{text}"
            );
        }
        let pid = store_pid(&text);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "the store (pid {pid}) still runs"
        );
        assert!(data_dir.join("intellitrack.db").exists());
        let mode = std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the data dir is private");
    }
}

#[test]
fn the_quick_start_leaves_a_folder_it_did_not_make_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("mine");
    std::fs::create_dir(&data_dir).unwrap();
    std::fs::write(data_dir.join("notes.txt"), "keep me").unwrap();
    let ran = quick_start(&data_dir);
    assert!(!ran.status.success());
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert!(
        stderr.contains("exists and was not made by the quick start"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(data_dir.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert!(!stdout(&ran).contains("Store:"), "no store was started");
}

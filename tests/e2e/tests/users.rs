//! Users, roles and features, and the audit log, through the real binary.

use e2e_tests::{Install, LOW_STOCK};
use serde_json::Value;

const STRONG: &str = "correct horse battery staple\n";

#[test]
fn users_roles_and_features_decide_who_runs_jobs_and_changes_are_audited() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    install.activate("low-stock");
    let empty = install.run(&["users", "list"]).success().stdout();
    assert!(empty.contains("add the first admin"), "{empty}");

    // Weak passwords are refused with the reason, and nothing is added.
    for (password, why) in [
        ("\n", "the password is empty"),
        ("short\n", "shorter than 12 characters"),
        ("ann-the-admin-2026\n", "contains the user name"),
    ] {
        let refused = install
            .run_with_input(
                &["users", "add", "ann", "--role", "admin", "--password-stdin"],
                password,
            )
            .refused();
        assert!(refused.stderr().contains(why), "{}", refused.stderr());
    }
    assert_eq!(
        install.json(&["users", "list", "--json"]),
        Value::Array(vec![])
    );
    let unknown = install
        .run_with_input(
            &["users", "add", "ann", "--role", "boss", "--password-stdin"],
            STRONG,
        )
        .refused();
    assert!(
        unknown.stderr().contains("unknown role \"boss\""),
        "{}",
        unknown.stderr()
    );

    for (user, role) in [("ann", "admin"), ("rita", "read-only")] {
        install
            .run_with_input(
                &["users", "add", user, "--role", role, "--password-stdin"],
                STRONG,
            )
            .success();
    }
    install.run(&["roles", "add", "clerk"]).success();
    install
        .run(&["roles", "grant", "clerk", "low-stock"])
        .success();
    install
        .run(&["roles", "grant", "clerk", "integrate:read-only"])
        .success();
    let bad = install
        .run(&["roles", "grant", "clerk", "integrate:write"])
        .refused();
    assert!(
        bad.stderr().contains("is not an access"),
        "{}",
        bad.stderr()
    );
    install
        .run_with_input(
            &[
                "users",
                "add",
                "carl",
                "--role",
                "clerk",
                "--password-stdin",
            ],
            STRONG,
        )
        .success();
    let roles = install.json(&["roles", "list", "--json"]);
    let clerk = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "clerk")
        .unwrap();
    assert_eq!(
        clerk["features"],
        serde_json::json!([
            {"feature": "integrate", "access": "read"},
            {"feature": "low-stock", "access": "edit"}
        ])
    );

    // The CLI is the machine's admin: its runs need no page role and are
    // recorded as the machine's user, never as a page user.
    install.run(&["run", "low-stock", "report"]).success();
    let runs = install.json(&["runs", "--json"]);
    assert!(
        runs[0]["user"].as_str().unwrap().starts_with("cli:"),
        "{runs}"
    );

    install
        .run_with_input(
            &["users", "passwd", "carl", "--password-stdin"],
            "another fine passphrase\n",
        )
        .success();
    install.run(&["users", "remove", "rita"]).success();
    let users = install.json(&["users", "list", "--json"]);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ann", "carl"]);
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["has_password"] == true)
    );

    // Passwords are stored as Argon2id hashes only.
    let db = std::fs::read(install.data_dir.join("intellitrack.db")).unwrap();
    let text = String::from_utf8_lossy(&db);
    assert!(!text.contains("correct horse battery staple"));
    assert!(text.contains("$argon2id$"));

    install.set("low-stock", &["reorder_point=7"]);
    let audit = install.json(&["audit", "--json"]);
    let lines: Vec<(String, String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_owned(),
                a["target"].as_str().unwrap().to_owned(),
                a["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("settings changed", "low-stock", "reorder_point"),
        ("user removed", "rita", ""),
        ("password changed", "carl", ""),
        ("feature granted", "clerk", "low-stock (edit)"),
        ("activated", "low-stock", ""),
    ] {
        let expected = (
            expected.0.to_owned(),
            expected.1.to_owned(),
            expected.2.to_owned(),
        );
        assert!(lines.contains(&expected), "{expected:?} not in {lines:#?}");
    }
    let user = audit[0]["user"].as_str().unwrap();
    assert!(user.starts_with("cli:"), "{user}");
}

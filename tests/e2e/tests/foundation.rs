//! The foundation, end to end: loading, refusing, activation, settings,
//! panics, hangs, logs and old-plugin compatibility, through the real
//! `plugin-host` binary and the real plugin libraries.

use std::time::{Duration, Instant};

use e2e_tests::{
    FUTURE_API, Install, LOW_STOCK, MISBEHAVING, OLD_PLUGIN, Ran, SandboxStore, WOOCOMMERCE,
    settings_args, wait_until,
};
use serde_json::Value;

fn plugin<'a>(list: &'a Value, file_part: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|p| p["file"].as_str().unwrap().contains(file_part))
        .unwrap_or_else(|| panic!("no {file_part} in {list:#}"))
}

#[test]
fn plugins_load_side_by_side_and_junk_is_refused_with_its_reason() {
    let install = Install::with_plugins(&[WOOCOMMERCE, LOW_STOCK, FUTURE_API]);
    install.add_file("junk.so", b"this is not a library");
    let list = install.json(&["plugins", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 4, "{list:#}");

    let woo = plugin(&list, "intellitrack_woocommerce");
    assert_eq!(woo["id"], "woocommerce");
    assert_eq!(woo["name"], "IntelliTrack for WooCommerce");
    assert_eq!(woo["api_version"], "1.6");
    assert_eq!(woo["state"], "inactive");
    let low = plugin(&list, "low_stock");
    assert_eq!(low["id"], "low-stock");
    assert_eq!(low["state"], "inactive");

    let junk = plugin(&list, "junk.so");
    assert_eq!(junk["state"], "refused");
    assert!(
        junk["reason"]
            .as_str()
            .unwrap()
            .starts_with("not a loadable library: "),
        "{junk}"
    );

    let future = plugin(&list, "future_api");
    assert_eq!(future["state"], "refused");
    assert_eq!(future["api_version"], "1.99");
    assert_eq!(
        future["reason"],
        "needs plugin API 1.99, newer than this host's 1.6; upgrade the host"
    );

    let text = install.run(&["plugins", "list"]).success().stdout();
    let refusal_lines: Vec<_> = text.lines().filter(|l| l.contains("1.99")).collect();
    assert_eq!(
        refusal_lines.len(),
        2,
        "the row and its one-line reason:\n{text}"
    );
}

#[test]
fn the_service_refuses_a_newer_api_plugin_in_one_log_line_and_serves_the_rest() {
    let install = Install::with_plugins(&[LOW_STOCK, FUTURE_API]);
    install.activate("low-stock");
    let service = install.serve();
    service.wait_for_log(": activated plugin=low-stock", Duration::from_secs(10));
    let log = service.log();
    let lines: Vec<_> = log
        .lines()
        .filter(|l| l.contains("future_api_plugin"))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains("(plugin API 1.99; this host offers 1.6): needs plugin API 1.99"),
        "{}",
        lines[0]
    );
}

#[test]
fn activation_survives_restarts_and_reaches_a_running_service_within_two_seconds() {
    let install = Install::with_plugins(&[LOW_STOCK, MISBEHAVING]);
    let service = install.serve();
    service.wait_for_log("plugin host serving", Duration::from_secs(10));

    let started = Instant::now();
    install.activate("low-stock");
    service.wait_for_log(": activated plugin=low-stock", Duration::from_secs(5));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "activation took {took:?}");

    let started = Instant::now();
    install
        .run(&["plugins", "deactivate", "low-stock"])
        .success();
    service.wait_for_log(": deactivated plugin=low-stock", Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(2));

    install.activate("low-stock");
    wait_until(Duration::from_secs(5), || {
        service
            .log()
            .matches(": activated plugin=low-stock")
            .count()
            == 2
    })
    .expect("activated again");
    assert!(service.stop().success(), "serve exits 0 on SIGTERM");

    let list = install.json(&["plugins", "list", "--json"]);
    assert_eq!(plugin(&list, "low_stock")["state"], "active");
    assert_eq!(plugin(&list, "misbehaving")["state"], "inactive");

    let again = install.serve();
    again.wait_for_log(": activated plugin=low-stock", Duration::from_secs(10));
    assert!(!again.log().contains(": activated plugin=misbehaving"));
}

#[test]
fn settings_are_typed_all_or_nothing_and_secrets_never_show() {
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let before = install.json(&["plugins", "settings", "woocommerce", "--json"]);
    assert_eq!(
        before["import_statuses"]["value"],
        serde_json::json!(["processing"])
    );
    assert_eq!(before["store_url"]["value"], Value::Null);
    assert_eq!(before["store_url"]["required"], true);

    // Each change is refused whole, naming the field and the reason; the last
    // is the plugin's own rule (a 1.1 capability): Basic auth over plain HTTP.
    let refusals: &[(&[&str], &str)] = &[
        (
            &["store_url=https://shop.test", "request_timeout_seconds=999"],
            "request_timeout_seconds: must be from 1 to 300",
        ),
        (
            &["store_url=shop.test"],
            "store_url: must start with http:// or https://",
        ),
        (
            &["import_statuses=processing,shipped"],
            "import_statuses: \"shipped\" is not one of: pending",
        ),
        (&["colour=blue"], "colour: is not a setting of woocommerce"),
        (
            &["store_url=http://shop.test", "auth_mode=basic"],
            "auth_mode: Basic auth is ignored by WooCommerce over plain HTTP",
        ),
    ];
    for (assignments, reason) in refusals {
        let args = settings_args("woocommerce", assignments);
        let ran = install.run(&args).refused();
        assert!(ran.stderr().contains(reason), "{args:?}: {}", ran.stderr());
    }
    assert_eq!(
        install.json(&["plugins", "settings", "woocommerce", "--json"]),
        before
    );

    let secret = "cs_e2e_do_not_print_7f3a";
    let ran = install.set(
        "woocommerce",
        &[
            "store_url=https://shop.test",
            "consumer_key=ck_e2e",
            &format!("consumer_secret={secret}"),
        ],
    );
    assert!(!ran.stdout().contains(secret) && !ran.stderr().contains(secret));
    let after = install.json(&["plugins", "settings", "woocommerce", "--json"]);
    assert_eq!(after["consumer_secret"]["value"], "********");
    assert_eq!(after["store_url"]["value"], "https://shop.test");
    for entry in std::fs::read_dir(&install.data_dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret is stored in plain text"
        );
    }
}

#[test]
fn settings_show_the_values_a_choice_allows() {
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let json = install.json(&["plugins", "settings", "woocommerce", "--json"]);
    let options = |key: &str| -> Vec<(String, String)> {
        json[key]["options"]
            .as_array()
            .unwrap_or_else(|| panic!("no options for {key}: {json:#}"))
            .iter()
            .map(|o| {
                (
                    o["value"].as_str().unwrap().into(),
                    o["label"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let auth = options("auth_mode");
    assert!(
        auth.contains(&("oauth".into(), "OAuth 1.0a".into())),
        "{auth:?}"
    );
    assert_eq!(json["auth_mode"]["type"], "choice");
    assert_eq!(json["import_statuses"]["type"], "multi-choice");
    assert!(json["store_url"].get("options").is_none());

    // The text lists each allowed value with its label under its field.
    let text = install
        .run(&["plugins", "settings", "woocommerce"])
        .success()
        .stdout();
    for (key, header) in [
        ("auth_mode", "    one of:"),
        ("api_path", "    one of:"),
        ("import_statuses", "    any of, separated by commas:"),
    ] {
        let block: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with(&format!("{key} ")))
            .skip(2)
            .collect();
        assert_eq!(block.first(), Some(&header), "{key}:\n{text}");
        for (i, (value, label)) in options(key).iter().enumerate() {
            let line = block[i + 1];
            assert!(
                line.trim_start().starts_with(value.as_str()) && line.ends_with(label.as_str()),
                "{key}: {line:?} is not {value} {label}:\n{text}"
            );
        }
    }
    // Every value shown is one the host takes back.
    let every: Vec<String> = options("import_statuses")
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    install.set(
        "woocommerce",
        &[&format!("import_statuses={}", every.join(","))],
    );
}

#[test]
fn activation_is_refused_with_the_reason_and_changes_nothing() {
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let ran = install
        .run(&["plugins", "activate", "woocommerce"])
        .refused();
    assert!(
        ran.stderr().contains("woocommerce was not activated: invalid settings: store_url: is required; consumer_key: is required; consumer_secret: is required"),
        "{}",
        ran.stderr()
    );
    let list = install.json(&["plugins", "list", "--json"]);
    assert_eq!(plugin(&list, "woocommerce")["state"], "inactive");
    let ran = install.run(&["plugins", "activate", "nonesuch"]).refused();
    assert!(
        ran.stderr()
            .contains("no plugin \"nonesuch\" is loaded; loaded plugins: woocommerce")
    );
}

#[test]
fn a_panicking_job_is_a_failed_run_and_other_plugins_keep_working() {
    let install = Install::with_plugins(&[MISBEHAVING, LOW_STOCK]);
    install.activate("misbehaving");
    install.activate("low-stock");

    let ran = install.run(&["run", "misbehaving", "panic"]).refused();
    assert!(
        ran.stdout().contains(
            "error: plugin panicked in job panic: misbehaving plugin panicked on purpose"
        ),
        "{}",
        ran.stdout()
    );
    let ran = install.run(&["run", "misbehaving", "error"]).refused();
    assert!(ran.stdout().contains("error: failed on purpose"));
    install.run(&["run", "low-stock", "report"]).success();

    let runs = install.json(&["runs", "--json"]);
    let outcomes: Vec<(&str, &str)> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["job"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("report", "succeeded"),
            ("error", "failed"),
            ("panic", "failed")
        ]
    );
    assert_eq!(
        runs[2]["error"],
        "plugin panicked in job panic: misbehaving plugin panicked on purpose"
    );
    assert_eq!(runs[2]["trigger"], "by-hand");
}

#[test]
fn a_job_past_its_deadline_is_stopped_or_killed_and_recorded() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    install.activate("misbehaving");
    install.set("misbehaving", &["host.job_deadline=1s"]);

    let ran = install.run(&["run", "misbehaving", "slow"]).refused();
    assert!(
        ran.stdout().contains("misbehaving/slow: timed-out"),
        "{}",
        ran.stdout()
    );
    assert!(
        ran.stderr().contains("[misbehaving/slow] 1 working"),
        "progress is shown"
    );

    let started = Instant::now();
    let ran = install.run(&["run", "misbehaving", "hang"]).refused();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        ran.stdout().contains("ran past its deadline of 1s and was asked to stop, and did not stop within 10s; its process was killed"),
        "{}",
        ran.stdout()
    );
    let runs = install.json(&["runs", "misbehaving", "--json"]);
    assert_eq!(runs[0]["outcome"], "timed-out");
    assert_eq!(runs[1]["outcome"], "timed-out");
    assert!(
        runs[1]["updated"].as_u64().unwrap() >= 5,
        "the stopped job's report is kept"
    );
    install.run(&["run", "misbehaving", "ok"]).success();
}

#[test]
fn the_service_survives_activations_that_panic_or_hang() {
    let install = Install::with_plugins(&[MISBEHAVING, LOW_STOCK]);
    install.activate("misbehaving");
    install.activate("low-stock");
    install.set("misbehaving", &["host.job_deadline=1s"]);
    let mut service = install.serve();
    service.wait_for_log(": activated plugin=misbehaving", Duration::from_secs(10));
    service.wait_for_log(": activated plugin=low-stock", Duration::from_secs(10));

    install.set("misbehaving", &["activate_as=hang"]);
    service.wait_for_log(
        "activation did not finish within 1s",
        Duration::from_secs(10),
    );
    install.set("misbehaving", &["activate_as=panic"]);
    service.wait_for_log("plugin panicked in activate", Duration::from_secs(10));
    assert!(service.is_running(), "the service is still up");

    let list = install.json(&["plugins", "list", "--json"]);
    let bad = plugin(&list, "misbehaving");
    assert_eq!(bad["state"], "faulted");
    assert!(
        bad["reason"]
            .as_str()
            .unwrap()
            .contains("plugin panicked in activate")
    );
    assert_eq!(plugin(&list, "low_stock")["state"], "active");
    install.run(&["run", "low-stock", "report"]).success();
    assert!(service.stop().success());
}

#[test]
fn plugin_log_records_appear_in_the_host_log_under_the_plugin_id() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    install.activate("misbehaving");
    let ran = install.run(&["run", "misbehaving", "log"]).success();
    let log = ran.stderr();
    let line = |needle: &str| {
        log.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{log}"))
            .to_string()
    };
    let info = line("an info line from the plugin");
    assert!(
        info.contains("INFO") && info.contains("plugin{id=\"misbehaving\"}"),
        "{info}"
    );
    assert!(
        info.ends_with("misbehaving_plugin: an info line from the plugin order=176"),
        "{info}"
    );
    assert!(line("an error from the plugin").contains("ERROR"));
    assert!(
        !log.contains("a debug line from the plugin"),
        "debug stays out at level info"
    );
}

#[test]
fn log_lines_are_not_coloured_when_stderr_is_not_a_terminal() {
    let install = Install::with_plugins(&[MISBEHAVING]);
    install.activate("misbehaving");
    for no_color in [None, Some(""), Some("1")] {
        let mut command = install.command(&["run", "misbehaving", "log"]);
        match no_color {
            None => command.env_remove("NO_COLOR"),
            Some(value) => command.env("NO_COLOR", value),
        };
        let ran = Ran(command.output().unwrap()).success();
        let log = ran.stderr();
        assert!(
            log.contains(" INFO ") && log.contains("an info line from the plugin"),
            "{log}"
        );
        assert!(
            !log.contains('\x1b'),
            "NO_COLOR={no_color:?}: escape codes in a piped log:\n{log:?}"
        );
    }
}

#[test]
fn a_plugin_built_against_api_1_0_loads_and_runs_unchanged() {
    let install = Install::with_plugins(&[OLD_PLUGIN, LOW_STOCK]);
    let list = install.json(&["plugins", "list", "--json"]);
    let old = plugin(&list, "old_plugin");
    assert_eq!(old["id"], "heartbeat");
    assert_eq!(old["api_version"], "1.0");
    assert_eq!(old["state"], "inactive");

    // The 1.0 plugin offers no `settings.validate`: the host must not ask it.
    install.set("heartbeat", &["label=tick"]);
    install.activate("heartbeat");
    let first = install.run(&["run", "heartbeat", "beat"]).success();
    assert!(first.stdout().contains("tick 1"), "{}", first.stdout());
    assert!(
        first.stderr().contains("plugin{id=\"heartbeat\"}"),
        "its log is bridged"
    );
    let second = install.run(&["run", "heartbeat", "beat"]).success();
    assert!(
        second.stdout().contains("tick 2"),
        "state persisted between runs"
    );

    // The newer plugin beside it uses a 1.1 service (the DB handle) in the same host.
    install.activate("low-stock");
    install.run(&["run", "low-stock", "report"]).success();
}

#[test]
fn woocommerce_activation_checks_the_store_and_explains_a_refusal() {
    let store = SandboxStore::start();
    let install = Install::with_plugins(&[WOOCOMMERCE]);
    let url = format!("store_url={}", store.url);
    let key = format!("consumer_key={}", SandboxStore::KEY);
    install.set(
        "woocommerce",
        &[&url, &key, "consumer_secret=cs_wrong_secret"],
    );
    let ran = install
        .run(&["plugins", "activate", "woocommerce"])
        .refused();
    assert!(
        ran.stderr()
            .contains("woocommerce was not activated: The store refused the request signature"),
        "{}",
        ran.stderr()
    );
    assert!(!ran.stderr().contains("cs_wrong_secret"));
    let list = install.json(&["plugins", "list", "--json"]);
    assert_eq!(plugin(&list, "woocommerce")["state"], "inactive");

    let secret = format!("consumer_secret={}", SandboxStore::SECRET);
    install.set("woocommerce", &[&secret]);
    let ran = install.activate("woocommerce");
    assert!(
        ran.stderr()
            .contains("connected to the store version=10.0.2"),
        "{}",
        ran.stderr()
    );
    assert!(
        !ran.stderr().contains(SandboxStore::SECRET)
            && !ran.stdout().contains(SandboxStore::SECRET)
    );
    let list = install.json(&["plugins", "list", "--json"]);
    assert_eq!(plugin(&list, "woocommerce")["state"], "active");

    // A store with plain permalinks is reached through ?rest_route=.
    install.set("woocommerce", &["api_path=rest_route"]);
    install.activate("woocommerce");

    // Once active, its jobs reach the store (import.rs tests them in full).
    let ran = install
        .run(&["run", "woocommerce", "import-products"])
        .success();
    assert!(ran.stdout().contains("succeeded"), "{}", ran.stdout());
}

#[test]
fn a_hanging_activation_does_not_hold_up_other_plugins() {
    let install = Install::with_plugins(&[MISBEHAVING, LOW_STOCK]);
    install.activate("misbehaving");
    // From now on its activation hangs, under the default deadline of an hour.
    install.set("misbehaving", &["activate_as=hang"]);
    let service = install.serve();
    service.wait_for_log("plugin host serving", Duration::from_secs(10));

    let started = Instant::now();
    install.activate("low-stock");
    service.wait_for_log(": activated plugin=low-stock", Duration::from_secs(5));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(!service.log().contains(": activated plugin=misbehaving"));
    assert!(
        service.stop().success(),
        "stops although an activation still hangs"
    );
}

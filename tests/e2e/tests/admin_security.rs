//! The admin page's defences against the real `plugin-host serve`, over
//! HTTP (and raw TCP where a browser would not go): a read-only grant
//! changes and runs nothing; a grant for one plugin instance opens that
//! instance alone; a flood of bad logins leaves the service small; an
//! untrusted user name is escaped and cut in the log; a password change or
//! the user's removal ends their sessions; a slow request head is dropped
//! and one address holds a bounded number of connections; control
//! characters and invalid UTF-8 in a form are refused; an error page keeps
//! the way to log out; and the CLI records its runs as the machine's user.

#[path = "support/admin_page.rs"]
#[allow(dead_code)]
mod page;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use e2e_tests::{Install, LOW_STOCK, Service, wait_until};
use page::{ADMIN, PASSWORD, PageClient, READER, add_users};

/// Adds user `name` with `role`, the shared test password.
fn add_user(install: &Install, name: &str, role: &str) {
    install
        .run_with_input(
            &["users", "add", name, "--role", role, "--password-stdin"],
            &format!("{PASSWORD}\n"),
        )
        .success();
}

/// Adds a role granting `grants` (`FEATURE[:read-only]` each).
fn add_role(install: &Install, role: &str, grants: &[&str]) {
    install.run(&["roles", "add", role]).success();
    for grant in grants {
        install.run(&["roles", "grant", role, grant]).success();
    }
}

/// The admin page's socket address (`127.0.0.1:PORT`).
fn page_addr(service: &Service) -> SocketAddr {
    service
        .admin_url()
        .trim_start_matches("http://")
        .parse()
        .expect("the page's address")
}

/// A loopback address other than 127.0.0.1: another client, as the service sees it.
fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// The status of `request` sent whole on a new connection from `from`, or
/// `None` when the service closed the connection without an answer.
fn raw_status(to: SocketAddr, from: IpAddr, request: &[u8]) -> Option<u16> {
    let mut stream = connect_from(to, from)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    stream.write_all(request).ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let head = String::from_utf8_lossy(&answer);
    head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// A connection to `to` whose source address is `from`.
fn connect_from(to: SocketAddr, from: IpAddr) -> Option<TcpStream> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        let s = tokio::net::TcpSocket::new_v4().ok()?;
        s.bind(SocketAddr::new(from, 0)).ok()?;
        let stream = s.connect(to).await.ok()?;
        stream.into_std().ok().inspect(|s| {
            let _ = s.set_nonblocking(false);
        })
    })
}

/// A `GET PATH` request that closes its connection.
fn get_request(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").into_bytes()
}

/// A login form POST with `body`, carrying the login form's token cookie.
fn login_request(token: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: plugin_host_login={token}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// A POST of a raw form body (bytes as given, e.g. invalid UTF-8) with the
/// client's cookies.
fn post_raw(client: &PageClient, path: &str, body: &[u8]) -> (u16, String) {
    let cookies: Vec<String> = client
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let answer = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}{path}", client.base))
        .header("cookie", cookies.join("; "))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_vec())
        .send()
        .expect("the admin page answers");
    (answer.status().as_u16(), answer.text().unwrap_or_default())
}

/// Logs in, retrying while the service answers 429 (busy checking other
/// passwords), for at most `limit`.
fn login_when_free(service: &Service, user: &str, password: &str, limit: Duration) -> u16 {
    let started = Instant::now();
    loop {
        let status = PageClient::new(service).login(user, password).status;
        if status != 429 || started.elapsed() > limit {
            return status;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn a_read_only_grant_of_a_plugins_feature_sees_everything_and_changes_or_runs_nothing() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    add_role(
        &install,
        "stock-viewer",
        &["integrate:read-only", "low-stock:read-only"],
    );
    add_user(&install, "vera", "stock-viewer");
    install.activate("low-stock");
    let service = install.serve();
    let mut admin = PageClient::logged_in(&service, ADMIN);
    wait_until(Duration::from_secs(30), || {
        admin
            .get("/plugins/low-stock/jobs")
            .body
            .contains("The service holds")
    })
    .expect("the service holds low-stock active");

    let mut vera = PageClient::logged_in(&service, "vera");
    let plugins = vera.get("/plugins");
    assert_eq!(plugins.status, 200);
    assert!(
        plugins.body.contains("Low stock report"),
        "{}",
        plugins.body
    );
    assert!(
        !plugins.body.contains("id=\"deactivate-low-stock\"")
            && !plugins.body.contains("id=\"activate-low-stock\""),
        "no activation button for read-only access: {}",
        plugins.body
    );
    let jobs = vera.get("/plugins/low-stock/jobs");
    assert_eq!(jobs.status, 200);
    assert!(jobs.body.contains("Low stock report"), "{}", jobs.body);
    assert!(
        !jobs.body.contains("id=\"run-report\""),
        "no run button for read-only access: {}",
        jobs.body
    );
    let token = plugins.csrf();
    for (path, fields) in [
        ("/plugins/low-stock/deactivate", vec![]),
        ("/plugins/low-stock/activate", vec![]),
        ("/plugins/low-stock/jobs/report/run", vec![]),
        (
            "/plugins/low-stock/jobs/report/run",
            vec![("force", "true")],
        ),
    ] {
        let mut all = vec![("csrf", token.as_str())];
        all.extend(fields);
        let answer = vera.post(path, &all);
        assert_eq!(answer.status, 403, "{path}: {}", answer.body);
        assert!(
            answer.body.contains("nothing was changed"),
            "{path}: {}",
            answer.body
        );
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(install.json(&["runs", "--json"]), serde_json::json!([]));
    assert_eq!(
        install.json(&["plugins", "list", "--json"])[0]["state"],
        "active"
    );
    let audit = install.json(&["audit", "--json"]);
    assert!(
        !audit.to_string().contains("web:vera"),
        "nothing recorded as vera: {audit}"
    );
}

#[test]
fn a_grant_for_one_plugin_instance_opens_that_instance_alone() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    install
        .run(&["plugins", "add-instance", "low-stock", "north"])
        .success();
    add_role(
        &install,
        "north-clerk",
        &["integrate:read-only", "low-stock@low-stock:north"],
    );
    add_user(&install, "nora", "north-clerk");
    let roles = install.json(&["roles", "list", "--json"]);
    assert!(
        roles.to_string().contains("low-stock@low-stock:north"),
        "{roles}"
    );
    let service = install.serve();
    let mut nora = PageClient::logged_in(&service, "nora");
    let plugins = nora.get("/plugins");
    assert!(
        plugins.body.contains("id=\"activate-low-stock:north\""),
        "{}",
        plugins.body
    );
    assert!(
        !plugins.body.contains("id=\"activate-low-stock\""),
        "{}",
        plugins.body
    );
    let other = nora.submit("/plugins", "/plugins/low-stock/activate", &[]);
    assert_eq!(other.status, 403, "{}", other.body);
    let own = nora.submit("/plugins", "/plugins/low-stock:north/activate", &[]);
    assert_eq!(own.status, 200, "{}", own.body);
    let states: Vec<(String, String)> = install
        .json(&["plugins", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap_or_default().to_owned(),
                p["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        states.contains(&("low-stock".into(), "inactive".into()))
            && states.contains(&("low-stock:north".into(), "active".into())),
        "{states:?}"
    );
}

/// What the flood test allows `serve` at its peak (VmHWM).
const PEAK_LIMIT_KIB: u64 = 150 * 1024;
/// Past this the flood is stopped and the service killed, so that a
/// regression cannot take the test machine's memory.
const ABORT_KIB: u64 = 1024 * 1024;
/// Bad logins sent at once.
const FLOOD: usize = 1000;

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn a_thousand_concurrent_bad_logins_keep_serve_small_and_a_real_login_works_after() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    let service = install.serve();
    let addr = page_addr(&service);
    let pid = service.pid();
    let token = PageClient::new(&service).get("/login").csrf();
    assert_eq!(
        login_when_free(&service, ADMIN, PASSWORD, Duration::from_secs(30)),
        303
    );
    let before = status_kib(pid, "VmHWM").unwrap_or(0);

    // Sample the service's memory while the flood runs; kill it past ABORT_KIB.
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let rss = status_kib(pid, "VmRSS").unwrap_or(0);
                peak.fetch_max(rss, Ordering::SeqCst);
                if rss > ABORT_KIB {
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };

    // FLOOD logins at once, each with a name of its own (no lockout helps)
    // from 16 loopback addresses, every connection to 127.0.0.1.
    let started = Instant::now();
    let statuses: Vec<Option<u16>> = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let mut tasks = Vec::new();
            for i in 0..FLOOD {
                let body = format!("csrf={token}&user=nobody-{i}&password=wrong+password+{i}");
                let request = login_request(&token, body.as_bytes());
                let from = SocketAddr::new(loopback(1 + (i % 16) as u8), 0);
                tasks.push(tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let exchange = async {
                        let socket = tokio::net::TcpSocket::new_v4().ok()?;
                        socket.bind(from).ok()?;
                        let mut stream = socket.connect(addr).await.ok()?;
                        stream.write_all(&request).await.ok()?;
                        let mut answer = Vec::new();
                        let _ = stream.read_to_end(&mut answer).await;
                        let head = String::from_utf8_lossy(&answer);
                        head.strip_prefix("HTTP/1.1 ")?
                            .get(..3)?
                            .parse::<u16>()
                            .ok()
                    };
                    tokio::time::timeout(Duration::from_secs(90), exchange)
                        .await
                        .ok()
                        .flatten()
                }));
            }
            let mut statuses = Vec::new();
            for task in tasks {
                statuses.push(task.await.unwrap_or(None));
            }
            statuses
        });
    let flood_time = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    let hwm = status_kib(pid, "VmHWM");
    let count = |s: Option<u16>| statuses.iter().filter(|x| **x == s).count();
    eprintln!(
        "{FLOOD} bad logins in {flood_time:.1?}: 401 x{}, 429 x{}, closed unanswered x{}, other x{}; \
         serve's peak RSS {} MiB sampled, VmHWM {:?} MiB (after one login: {} MiB)",
        count(Some(401)),
        count(Some(429)),
        count(None),
        FLOOD - count(Some(401)) - count(Some(429)) - count(None),
        peak.load(Ordering::SeqCst) / 1024,
        hwm.map(|k| k / 1024),
        before / 1024,
    );
    let hwm = hwm.expect("the service survived the flood");
    assert!(
        hwm < PEAK_LIMIT_KIB,
        "serve peaked at {} MiB under {FLOOD} bad logins",
        hwm / 1024
    );
    assert!(
        count(Some(429)) > 0,
        "password checks past the bound are answered 429"
    );
    assert_eq!(
        count(Some(401)) + count(Some(429)) + count(None),
        FLOOD,
        "{statuses:?}"
    );
    assert_eq!(
        login_when_free(&service, ADMIN, PASSWORD, Duration::from_secs(30)),
        303,
        "a real login works after the flood"
    );
}

#[test]
fn an_untrusted_user_name_is_logged_escaped_and_cut_and_huge_forms_are_refused_unlogged() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    let service = install.serve();
    let forged = "2099-01-01T00:00:00.000000Z  INFO admin logged in";

    // A name with a line break or an escape sequence is refused unchecked.
    for name in [
        format!("mallory\n{forged}"),
        format!("mallory\x1b[31m{forged}"),
    ] {
        let answer = PageClient::new(&service).login(&name, "wrong password");
        assert_eq!(answer.status, 422, "{name:?}: {}", answer.body);
    }

    // One that is only odd (a Unicode line separator, a right-to-left
    // override, quotes, 50,000 characters) is checked, and logged escaped
    // and cut.
    let name = format!("mallory\u{2028}{forged}\u{202e}\"\\{}", "x".repeat(50_000));
    assert_eq!(
        login_when_free(&service, &name, "wrong password", Duration::from_secs(30)),
        401
    );
    let log = service.log();
    let line = log
        .lines()
        .find(|l| l.contains("failed login") && l.contains("mallory"))
        .unwrap_or_else(|| panic!("no failed login line:\n{log}"));
    assert!(
        line.contains(r"mallory\u{2028}2099"),
        "the line separator is escaped: {line}"
    );
    assert!(line.contains(r#"\u{202e}\"\\"#), "{line}");
    assert!(line.contains('…'), "the name is cut: {line}");
    assert!(line.len() < 512, "{} bytes: {line}", line.len());
    for raw in ['\x1b', '\u{2028}', '\u{202e}'] {
        assert!(!log.contains(raw), "{raw:?} reached the log");
    }
    assert!(
        !log.lines().any(|l| l.starts_with("2099-01-01")),
        "a forged line:\n{log}"
    );

    // Forms far larger than any login are refused before anything is
    // checked or logged.
    let before = log.len();
    let token = PageClient::new(&service).get("/login").csrf();
    let addr = page_addr(&service);
    for i in 0..20 {
        let body = format!(
            "csrf={token}&user=huge-{i}-{}&password=x",
            "y".repeat(1_900_000)
        );
        let status = raw_status(addr, loopback(1), &login_request(&token, body.as_bytes()));
        assert!(
            matches!(status, Some(413) | None),
            "a 1.9 MB login form: {status:?}"
        );
    }
    let grown = service.log().len() - before;
    assert!(grown < 16 * 1024, "the log grew by {grown} bytes");
}

#[test]
fn a_password_change_or_the_users_removal_ends_their_sessions() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    let service = install.serve();
    let mut ann = PageClient::logged_in(&service, ADMIN);
    let mut rita = PageClient::logged_in(&service, READER);
    assert_eq!(ann.get("/plugins").status, 200);
    assert_eq!(rita.get("/plugins").status, 200);

    const NEW: &str = "another fine passphrase";
    install
        .run_with_input(
            &["users", "passwd", ADMIN, "--password-stdin"],
            &format!("{NEW}\n"),
        )
        .success();
    let answer = ann.get("/plugins");
    assert_eq!(
        (answer.status, answer.header("location").as_str()),
        (303, "/login"),
        "the old password's session ended"
    );
    assert_eq!(
        PageClient::new(&service).login(ADMIN, NEW).status,
        303,
        "the new password logs in"
    );

    install.run(&["users", "remove", READER]).success();
    assert_eq!(rita.get("/plugins").status, 303, "a removed user's session");
    add_user(&install, READER, "read-only");
    let answer = rita.get("/plugins");
    assert_eq!(
        (answer.status, answer.header("location").as_str()),
        (303, "/login"),
        "a user added again with the same name and password does not get the old session back"
    );
}

#[test]
fn a_slow_request_head_is_dropped_and_one_address_holds_a_bounded_number_of_connections() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    let service = install.serve();
    let addr = page_addr(&service);

    // A request head trickling in, a header line a second, is cut off.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_millis(900)))
        .unwrap();
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(25) {
        if slow.write_all(b"X-Slow: 1\r\n").is_err() {
            closed = true;
            break;
        }
        let mut byte = [0u8; 512];
        match slow.read(&mut byte) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    let held = started.elapsed();
    eprintln!("a trickled request head was held {held:.1?}");
    assert!(
        closed,
        "a request head sent over {held:?} was never cut off"
    );
    assert!(held < Duration::from_secs(15), "{held:?}");

    // One address fills its share of connections; one more is closed
    // unanswered, another address is still served, and the first is served
    // again once its connections close.
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..64 {
        held.push(TcpStream::connect(addr).unwrap());
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        raw_status(addr, loopback(1), &get_request("/login")),
        None,
        "a 65th connection from one address"
    );
    assert_eq!(
        raw_status(addr, loopback(2), &get_request("/login")),
        Some(200),
        "another address"
    );
    drop(held);
    let served = wait_until(Duration::from_secs(5), || {
        raw_status(addr, loopback(1), &get_request("/login")) == Some(200)
    });
    assert!(served.is_some(), "served again once the connections closed");
}

#[test]
fn control_characters_and_invalid_utf8_in_a_form_are_refused_with_the_fields_error() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    let service = install.serve();
    let mut admin = PageClient::logged_in(&service, ADMIN);
    const SETTINGS: &str = "/plugins/low-stock/settings";
    let stored =
        || install.json(&["plugins", "settings", "low-stock", "--json"])["items"]["value"].clone();

    for value in [
        "A\0B",
        "A\r\nB",
        "A\nB",
        "A\tB",
        "A\x1b[31mB",
        "A\u{85}B",
        "A\x7fB",
    ] {
        let answer = admin.submit(SETTINGS, SETTINGS, &[("items", value)]);
        assert_eq!(answer.status, 422, "{value:?}: {}", answer.body);
        assert!(
            answer.body.contains("id=\"error-items\""),
            "{value:?}: {}",
            answer.body
        );
        assert!(!answer.body.contains("Settings saved"), "{value:?}");
    }
    let token = admin.get(SETTINGS).csrf();
    let (status, body) = post_raw(
        &admin,
        SETTINGS,
        format!("csrf={token}&items=A%FF%FEB").as_bytes(),
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("id=\"error-items\""), "{body}");
    assert!(body.contains("UTF-8"), "{body}");
    assert_eq!(stored(), serde_json::Value::Null, "nothing was saved");

    let schedule = admin.submit(
        "/plugins/low-stock/schedule",
        "/plugins/low-stock/schedule",
        &[("interval", "15\r\n")],
    );
    assert_eq!(schedule.status, 422, "{}", schedule.body);

    let saved = admin.submit(SETTINGS, SETTINGS, &[("items", "A, B-ü")]);
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(stored(), "A, B-ü");
}

#[test]
fn a_user_without_the_page_feature_can_log_out_from_the_error_page() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    add_role(&install, "runner", &["low-stock"]);
    add_user(&install, "pat", "runner");
    let service = install.serve();
    let mut pat = PageClient::logged_in(&service, "pat");
    let refused = pat.get("/plugins");
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("None of your roles opens"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("action=\"/logout\"") && refused.body.contains("href=\"/runs\""),
        "the navigation and Log out: {}",
        refused.body
    );
    let cookie = pat.cookies["plugin_host_session"].clone();
    let out = pat.post("/logout", &[("csrf", &refused.csrf())]);
    assert_eq!(
        (out.status, out.header("location").as_str()),
        (303, "/login"),
        "{}",
        out.body
    );
    pat.cookies.insert("plugin_host_session".into(), cookie);
    assert_eq!(pat.get("/plugins").status, 303, "the session ended");

    // An admin's error pages keep the frame too.
    let mut admin = PageClient::logged_in(&service, ADMIN);
    let missing = admin.get("/no-such-page");
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("action=\"/logout\""),
        "{}",
        missing.body
    );
}

#[test]
fn the_cli_records_its_runs_and_changes_as_the_machines_user() {
    let install = Install::with_plugins(&[LOW_STOCK]);
    add_users(&install);
    install.activate("low-stock");
    let os_user = std::process::Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap();
    install
        .run_with_env(&["run", "low-stock", "report"], &[("USER", "ann")])
        .success();
    let runs = install.json(&["runs", "--json"]);
    assert_eq!(runs[0]["user"], format!("cli:{os_user}"), "{runs}");
    let pretended = install.run(&["run", "low-stock", "report", "--as", ADMIN]);
    assert!(!pretended.0.status.success(), "--as is gone");
    assert!(
        pretended.stderr().contains("--as"),
        "{}",
        pretended.stderr()
    );
    let audit = install.json(&["audit", "--json"]);
    assert_eq!(audit[0]["user"], format!("cli:{os_user}"), "{audit}");
}

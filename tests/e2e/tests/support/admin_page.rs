//! Shared pieces of the admin page's tests: an install with users, the
//! service started with its page, and a plain HTTP client that keeps its
//! cookies and reads each page's CSRF token as a browser would.

use std::collections::BTreeMap;

use e2e_tests::{Install, Service};
use reqwest::blocking::Client;
use reqwest::header::{COOKIE, HeaderMap, SET_COOKIE};

pub const PASSWORD: &str = "correct horse battery staple";
pub const ADMIN: &str = "ann";
pub const READER: &str = "rita";

/// Adds the admin `ann` and the read-only user `rita`.
pub fn add_users(install: &Install) {
    for (user, role) in [(ADMIN, "admin"), (READER, "read-only")] {
        install
            .run_with_input(
                &["users", "add", user, "--role", role, "--password-stdin"],
                &format!("{PASSWORD}\n"),
            )
            .success();
    }
}

/// An answer: status, headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect()
    }

    /// The CSRF token of the page's first form.
    pub fn csrf(&self) -> String {
        let marker = r#"name="csrf" value=""#;
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF field in:\n{}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_owned()
    }
}

/// A client of the admin page that follows no redirects and keeps cookies.
pub struct PageClient {
    pub base: String,
    http: Client,
    pub cookies: BTreeMap<String, String>,
    /// Extra headers sent with every request (`X-Forwarded-Proto`, ...).
    pub extra: Vec<(&'static str, String)>,
}

impl PageClient {
    pub fn new(service: &Service) -> Self {
        // Needed when a workspace build unifies reqwest's `rustls-no-provider`.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            base: service.admin_url(),
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
            extra: Vec::new(),
        }
    }

    fn send(&mut self, request: reqwest::blocking::RequestBuilder) -> Answer {
        let mut request = request;
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header(COOKIE, jar.join("; "));
        }
        for (name, value) in &self.extra {
            request = request.header(*name, value);
        }
        let response = request.send().expect("the admin page answers");
        let answer = Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: String::new(),
        };
        let body = response.text().unwrap_or_default();
        let answer = Answer { body, ..answer };
        for line in answer.set_cookies() {
            let pair = line.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || line.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.into(), value.into());
                }
            }
        }
        answer
    }

    pub fn get(&mut self, path: &str) -> Answer {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request)
    }

    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let request = self.http.post(format!("{}{path}", self.base)).form(fields);
        self.send(request)
    }

    /// A POST with the CSRF token of the page at `form_page`.
    pub fn submit(&mut self, form_page: &str, path: &str, fields: &[(&str, &str)]) -> Answer {
        let token = self.get(form_page).csrf();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all)
    }

    /// Logs in through the form; returns the login's answer.
    pub fn login(&mut self, user: &str, password: &str) -> Answer {
        let token = self.get("/login").csrf();
        self.post(
            "/login",
            &[("csrf", &token), ("user", user), ("password", password)],
        )
    }

    /// Logs in, failing the test unless it succeeds.
    pub fn logged_in(service: &Service, user: &str) -> Self {
        let mut client = Self::new(service);
        let answer = client.login(user, PASSWORD);
        assert_eq!(answer.status, 303, "login of {user}: {}", answer.body);
        client
    }
}

/// The router's POST routes, read from its source so that a route added
/// later is tested too.
pub fn post_routes() -> Vec<String> {
    let source =
        std::fs::read_to_string(e2e_tests::workspace_root().join("host/src/web/mod.rs")).unwrap();
    let mut routes = Vec::new();
    let mut rest = source.as_str();
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let end = rest.find(".route(").unwrap_or(rest.len());
        let call = &rest[..end];
        let path = call.split('"').nth(1).unwrap().to_owned();
        if call.contains("post(") {
            routes.push(path);
        }
    }
    routes
}

/// The admin page in a real headless Chromium driven over WebDriver: a
/// chromedriver on a free port, a session, screenshots in
/// `target/e2e-screenshots/` and reading an element's text.
pub mod browser {
    use std::net::{TcpListener, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    use e2e_tests::{wait_until, workspace_root};
    use fantoccini::{Client, ClientBuilder, Locator};
    use serde_json::json;

    pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
    pub const CHROMIUM: &str = "/usr/bin/chromium";

    /// Whether the browser test must be skipped: chromedriver is missing
    /// (which fails the test on CI, where it must be installed).
    pub fn skipped_without_chromedriver() -> bool {
        if !Path::new(CHROMEDRIVER).exists() {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "{CHROMEDRIVER} is missing: CI must install chromium and chromium-driver"
            );
            eprintln!(
                "skipped: {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
            );
            return true;
        }
        false
    }

    /// A chromedriver process on a free port, killed on drop.
    pub struct Driver {
        child: Child,
        pub url: String,
    }

    impl Driver {
        pub fn start() -> Self {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts");
            wait_until(Duration::from_secs(20), || {
                TcpStream::connect(("127.0.0.1", port)).is_ok()
            })
            .expect("chromedriver listens");
            Self {
                child,
                url: format!("http://127.0.0.1:{port}"),
            }
        }
    }

    impl Drop for Driver {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// A headless Chromium session through the chromedriver at `driver`,
    /// with its profile in `profile` and a window of `window_size`
    /// (`WIDTH,HEIGHT`).
    pub async fn chromium(driver: &str, profile: &Path, window_size: &str) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", format!("--window-size={window_size}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(driver)
            .await
            .expect("a Chromium session")
    }

    fn screenshots() -> PathBuf {
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target"))
            .join("e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A screenshot of the page as `target/e2e-screenshots/{name}.png`.
    pub async fn shot(c: &Client, name: &str) {
        let png = c.screenshot().await.expect("a screenshot");
        std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
    }

    /// The text of the first element matching `css`.
    pub async fn text(c: &Client, css: &str) -> String {
        c.find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Clicks what `locator` finds, which leads to another page, and waits
    /// until that page has loaded.
    pub async fn follow(c: &Client, locator: Locator<'_>) {
        let old = c.find(Locator::Css("html")).await.unwrap();
        let what = format!("{locator:?}");
        c.find(locator)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .click()
            .await
            .unwrap();
        let replaced = eventually(Duration::from_secs(30), || async {
            old.tag_name().await.is_err()
        })
        .await;
        assert!(replaced, "clicking {what} led to no new page");
        let loaded = eventually(Duration::from_secs(30), || async {
            c.execute("return document.readyState", vec![])
                .await
                .is_ok_and(|state| state == "complete")
        })
        .await;
        assert!(loaded, "the page after {what} never finished loading");
    }

    /// Clicks the button (or link) `id`, which leads to a new page, and
    /// waits for it.
    pub async fn click(c: &Client, id: &str) {
        follow(c, Locator::Id(id)).await;
    }

    /// Types `value` into the field `id`, replacing what it held.
    pub async fn type_into(c: &Client, id: &str, value: &str) {
        let field = c.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Logs `user` in through the form; returns the landing page's title.
    pub async fn sign_in(c: &Client, base: &str, user: &str) -> String {
        c.goto(&format!("{base}/login")).await.unwrap();
        type_into(c, "user", user).await;
        type_into(c, "password", super::PASSWORD).await;
        click(c, "login").await;
        text(c, "h1").await
    }

    /// Logs `user` in (landing on the overview), then opens the plugins page.
    pub async fn log_in(c: &Client, base: &str, user: &str) {
        assert_eq!(sign_in(c, base, user).await, "Overview");
        follow(c, Locator::LinkText("Plugins")).await;
    }

    /// Polls `check` (with the page reloaded by the caller if needed) until it holds.
    pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if check().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }
}

/// Runs `plugin`'s `job` by hand through the page, waits until the run's
/// progress endpoint says it ended, and returns the run's page.
pub fn run_by_hand(
    admin: &mut PageClient,
    plugin: &str,
    job: &str,
    fields: &[(&str, &str)],
) -> String {
    let jobs = format!("/plugins/{plugin}/jobs");
    let started = admin.submit(&jobs, &format!("{jobs}/{job}/run"), fields);
    assert_eq!(started.status, 303, "{job}: {}", started.body);
    let run_page = started.header("location");
    let mut last = serde_json::Value::Null;
    e2e_tests::wait_until(std::time::Duration::from_secs(60), || {
        last = serde_json::from_str(&admin.get(&format!("{run_page}/progress")).body).unwrap();
        last["finished"] == true
    })
    .unwrap_or_else(|| panic!("{job} never finished: {last}"));
    run_page
}

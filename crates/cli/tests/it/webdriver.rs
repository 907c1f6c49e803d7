//! A small W3C WebDriver client over a headless Chromium, for end-to-end browser tests.
//!
//! Each [`Browser`] starts its own `chromedriver` on a free port of 127.0.0.1 (Debian's
//! `chromium` and `chromium-driver` packages), in a process group of its own, and opens one
//! session in it. Dropping the `Browser` kills that whole group, Chromium included (and its
//! crash handler, which leaves the group), also when the test panics, and removes the
//! temporary profile; should the test process itself die, a watcher in the group sees its pipe
//! close and does the same. At most [`MAX_BROWSERS`] browsers run at once in the test binary
//! (the machine has two cores).
//!
//! Failures panic with the command, WebDriver's message, the current URL and the page title.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{sleep, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Browsers alive at once across all tests of the binary.
pub const MAX_BROWSERS: usize = 2;
/// How long `find` waits for a selector to match.
const FIND_WAIT: Duration = Duration::from_secs(10);
/// How long `submit_via` waits for the next document.
const NAVIGATION_WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);
/// How long a started chromedriver has to answer `GET /status` with ready.
const DRIVER_READY_WAIT: Duration = Duration::from_secs(10);
const START_ATTEMPTS: usize = 3;
const TAB_KEY: &str = "\u{E004}";

/// Runs chromedriver (`$0`, arguments `$@`) with null stdio in a process group of its own,
/// next to a watcher of the pipe on our stdin. Should the test process die without dropping
/// the `Browser` (killed, aborted), the pipe closes, and the watcher starts a reaper outside the
/// group that kills the group and removes `$CUSTODIAN_WD_DIR`. When chromedriver exits (a
/// failed start), the whole group goes at once, so that the start is retried without delay.
const SUPERVISOR: &str = r#"exec 3<&0
{ cat <&3 >/dev/null 2>&1
  setsid -f sh -c 'kill -9 -$1; pkill -9 -f "$2/"; rm -rf "$2"' reaper $$ "$CUSTODIAN_WD_DIR" \
    </dev/null >/dev/null 2>&1
} &
exec 3<&-
"$0" "$@" </dev/null >/dev/null 2>&1
kill -9 0
"#;

fn chromium_args(profile: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--window-size=1280,900",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args
}

fn browser_slots() -> Arc<Semaphore> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SLOTS
        .get_or_init(|| Arc::new(Semaphore::new(MAX_BROWSERS)))
        .clone()
}

/// Where `Browser::screenshot(name)` writes: `<workspace>/target/screenshots/<name>.png`.
pub fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/screenshots")
        .join(format!("{name}.png"))
}

/// A WebDriver error answer, or a failure to reach the driver at all.
#[derive(Debug)]
struct WdError {
    /// WebDriver's error code (`no such element`, …), or `transport` / `bad answer`.
    error: String,
    message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

/// One WebDriver session on one chromedriver.
#[derive(Debug)]
struct Session {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    base: String,
}

impl Session {
    /// Sends a command (`path` relative to the session) and returns its `value`.
    async fn try_cmd(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WdError> {
        send(&self.http, method, &format!("{}{path}", self.base), body).await
    }

    /// Like `try_cmd`, but panics with context on an error.
    async fn cmd(&self, method: Method, path: &str, body: Option<Value>, what: &str) -> Value {
        let command = format!("{method} {path}");
        match self.try_cmd(method, path, body).await {
            Ok(v) => v,
            Err(e) => {
                self.fail(&format!("{what} (WebDriver {command}) failed: {e}"))
                    .await
            }
        }
    }

    /// Panics with `message` and where the browser is (URL, title).
    async fn fail(&self, message: &str) -> ! {
        let url = self
            .try_cmd(Method::GET, "/url", None)
            .await
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|e| format!("<unknown: {e}>"));
        let title = self
            .try_cmd(Method::GET, "/title", None)
            .await
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|e| format!("<unknown: {e}>"));
        panic!("{message}\n  at URL:   {url}\n  title:    {title:?}")
    }

    fn element(self: &Arc<Self>, value: &Value, css: &str) -> Element {
        let id = value[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| {
                panic!("WebDriver answered no element reference for `{css}`: {value}")
            })
            .to_string();
        Element {
            session: Arc::clone(self),
            id,
            css: css.to_string(),
        }
    }

    fn elements(self: &Arc<Self>, value: &Value, css: &str) -> Vec<Element> {
        value
            .as_array()
            .unwrap_or_else(|| panic!("WebDriver answered no element list for `{css}`: {value}"))
            .iter()
            .map(|v| self.element(v, css))
            .collect()
    }
}

async fn send(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, WdError> {
    let mut request = http.request(method.clone(), url);
    // chromedriver wants a JSON body on every POST, `{}` when there is nothing to say.
    if method == Method::POST {
        request = request.json(&body.unwrap_or_else(|| json!({})));
    }
    let transport = |e: reqwest::Error| WdError {
        error: "transport".into(),
        message: e.to_string(),
    };
    let answer = request.send().await.map_err(transport)?;
    let status = answer.status();
    let text = answer.text().await.map_err(transport)?;
    let mut json: Value = serde_json::from_str(&text).map_err(|e| WdError {
        error: "bad answer".into(),
        message: format!("HTTP {status}, not JSON ({e}): {text}"),
    })?;
    let value = json["value"].take();
    if !status.is_success() || value.get("error").is_some_and(|e| !e.is_null()) {
        return Err(WdError {
            error: value["error"]
                .as_str()
                .unwrap_or("unknown error")
                .to_string(),
            message: format!(
                "{} (HTTP {status})",
                value["message"].as_str().unwrap_or(&text)
            ),
        });
    }
    Ok(value)
}

/// chromedriver's process group: killed whole on drop, then its temporary directory removed.
struct Driver {
    child: Child,
    /// Held open: when it closes, the supervisor kills the group.
    _watch: Option<ChildStdin>,
    /// Chromium's profile and temporary files; removed after the processes are gone.
    dir: tempfile::TempDir,
}

/// Finding and killing a browser's processes (Linux: `kill(2)` and `/proc`).
mod procs {
    use std::path::Path;

    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    const SIGKILL: i32 = 9;

    fn sigkill(pid: i32) {
        // SAFETY: kill(2) takes and returns plain integers; a negative pid means a group.
        unsafe {
            kill(pid, SIGKILL);
        }
    }

    /// The live processes (zombies waiting for init to reap them aside) of group `pgid`, and
    /// those whose command line names `dir`: Chromium's crash handler leaves the group
    /// (setsid) but is started with `--database=<dir>/…`.
    fn belonging(pgid: i32, dir: &Path) -> Vec<i32> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        // With the slash, so that no other directory whose name starts alike matches.
        let dir = format!("{}/", dir.display()).into_bytes();
        entries
            .flatten()
            .filter_map(|entry| {
                let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
                let (_, rest) = stat.rsplit_once(')')?;
                let mut fields = rest.split_whitespace();
                let state = fields.next()?;
                let group: i32 = fields.nth(1)?.parse().ok()?;
                if matches!(state, "Z" | "X") {
                    return None;
                }
                if group == pgid {
                    return Some(pid);
                }
                let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
                cmdline
                    .windows(dir.len())
                    .any(|w| w == dir.as_slice())
                    .then_some(pid)
            })
            .collect()
    }

    /// Kills group `pgid` and every process naming `dir`, and waits (3 s at most) until none
    /// is left alive.
    pub fn kill_all(pgid: u32, dir: &Path) {
        let Ok(pgid) = i32::try_from(pgid) else {
            return;
        };
        sigkill(-pgid);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            let left = belonging(pgid, dir);
            if left.is_empty() || std::time::Instant::now() >= deadline {
                return;
            }
            sigkill(-pgid);
            left.into_iter().for_each(sigkill);
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        procs::kill_all(self.child.id(), self.dir.path());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium driven over WebDriver. Drop (or [`Browser::close`]) ends it.
pub struct Browser {
    session: Arc<Session>,
    /// Dropped before the permit: the processes are gone when the next browser may start.
    _driver: Driver,
    _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("session", &self.session.base)
            .finish()
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium (1280×900), waiting for a free slot first.
    pub async fn open() -> Browser {
        let permit = browser_slots()
            .acquire_owned()
            .await
            .expect("the browser semaphore is never closed");
        for binary in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: apt-get install -y --no-install-recommends chromium chromium-driver"
            );
        }
        let mut failures = Vec::new();
        for attempt in 1..=START_ATTEMPTS {
            match start().await {
                Ok((driver, session)) => {
                    return Browser {
                        session: Arc::new(session),
                        _driver: driver,
                        _permit: permit,
                    }
                }
                Err(e) => failures.push(format!("  attempt {attempt}: {e}")),
            }
        }
        panic!(
            "could not start chromedriver with a Chromium session:\n{}",
            failures.join("\n")
        )
    }

    /// Ends the session politely (Chromium quits), then the driver goes as on drop.
    pub async fn close(self) {
        let _ = self.session.try_cmd(Method::DELETE, "", None).await;
    }

    async fn cmd(&self, method: Method, path: &str, body: Option<Value>, what: &str) -> Value {
        self.session.cmd(method, path, body, what).await
    }

    fn str_of(value: Value, what: &str) -> String {
        match value {
            Value::String(s) => s,
            other => panic!("{what}: WebDriver answered {other}, not a string"),
        }
    }

    /// Navigates and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.cmd(
            Method::POST,
            "/url",
            Some(json!({ "url": url })),
            &format!("goto {url}"),
        )
        .await;
    }

    pub async fn url(&self) -> String {
        Self::str_of(self.cmd(Method::GET, "/url", None, "url").await, "url")
    }

    pub async fn title(&self) -> String {
        Self::str_of(
            self.cmd(Method::GET, "/title", None, "title").await,
            "title",
        )
    }

    /// The page's HTML, as the browser serializes its DOM.
    pub async fn source(&self) -> String {
        Self::str_of(
            self.cmd(Method::GET, "/source", None, "source").await,
            "source",
        )
    }

    /// The first element matching `css`, waiting up to 10 s for one; panics with context.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + FIND_WAIT;
        let query = json!({ "using": "css selector", "value": css });
        loop {
            match self
                .session
                .try_cmd(Method::POST, "/element", Some(query.clone()))
                .await
            {
                Ok(v) => return self.session.element(&v, css),
                Err(e) if e.error == "no such element" && Instant::now() < deadline => {
                    sleep(POLL).await
                }
                Err(e) if e.error == "no such element" => {
                    let text = self
                        .session
                        .try_cmd(
                            Method::POST,
                            "/execute/sync",
                            Some(json!({
                                "script": "return document.body ? document.body.innerText : ''",
                                "args": []
                            })),
                        )
                        .await
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default();
                    let text: String = text.chars().take(600).collect();
                    self.session
                        .fail(&format!(
                            "no element matches `{css}` after {} s\n  page text: {text:?}",
                            FIND_WAIT.as_secs()
                        ))
                        .await
                }
                Err(e) => {
                    self.session
                        .fail(&format!("find `{css}` failed: {e}"))
                        .await
                }
            }
        }
    }

    /// All elements matching `css` now (no wait).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self
            .cmd(
                Method::POST,
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
                &format!("find_all `{css}`"),
            )
            .await;
        self.session.elements(&v, css)
    }

    /// The first element matching `css` now, if any (no wait).
    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let query = json!({ "using": "css selector", "value": css });
        match self
            .session
            .try_cmd(Method::POST, "/element", Some(query))
            .await
        {
            Ok(v) => Some(self.session.element(&v, css)),
            Err(e) if e.error == "no such element" => None,
            Err(e) => {
                self.session
                    .fail(&format!("try_find `{css}` failed: {e}"))
                    .await
            }
        }
    }

    /// The rendered text of the first element matching `css` (waits like `find`).
    pub async fn text_of(&self, css: &str) -> String {
        self.find(css).await.text().await
    }

    /// Finds a field, clears it and types `value`.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await;
        field.send_keys(value).await;
    }

    /// Chooses the option whose value is `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let select = self.find(css).await;
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        match select.find(&format!("option[value=\"{escaped}\"]")).await {
            Some(option) => option.click().await,
            None => {
                let values = self
                    .execute(
                        "return Array.from(arguments[0].options, o => o.value)",
                        vec![select.to_json()],
                    )
                    .await;
                self.session
                    .fail(&format!(
                        "select `{css}` has no option with value {value:?}; its values: {values}"
                    ))
                    .await
            }
        }
    }

    /// Finds and clicks.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await;
    }

    /// Clicks a submit button and waits until a new document has loaded completely.
    pub async fn submit_via(&self, css: &str) {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let marker = format!("custodian-wd-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.execute(
            "window.__custodianWdMarker = arguments[0]; return null;",
            vec![json!(marker)],
        )
        .await;
        self.find(css).await.click().await;
        let deadline = Instant::now() + NAVIGATION_WAIT;
        let probe = json!({
            "script": "return { same: window.__custodianWdMarker === arguments[0], \
                       ready: document.readyState };",
            "args": [marker],
        });
        let mut last: String;
        loop {
            // Errors are expected while the old document goes away: poll on.
            match self
                .session
                .try_cmd(Method::POST, "/execute/sync", Some(probe.clone()))
                .await
            {
                Ok(v) if v["same"] == json!(false) && v["ready"] == json!("complete") => return,
                Ok(v) => last = v.to_string(),
                Err(e) => last = e.to_string(),
            }
            if Instant::now() >= deadline {
                let invalid = self
                    .session
                    .try_cmd(
                        Method::POST,
                        "/execute/sync",
                        Some(json!({
                            "script": "return Array.from(document.querySelectorAll(':invalid'), \
                                       e => e.name || e.id || e.tagName)",
                            "args": []
                        })),
                    )
                    .await
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                self.session
                    .fail(&format!(
                        "submit via `{css}`: no new document after {} s (last probe: {last}; \
                         invalid fields: {invalid})",
                        NAVIGATION_WAIT.as_secs()
                    ))
                    .await
            }
            sleep(POLL).await;
        }
    }

    /// Runs `script` as a function body (`arguments[i]` are `args`) and returns its result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.cmd(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
            &format!("execute {script:?}"),
        )
        .await
    }

    /// Sets the outer window size.
    pub async fn set_window_size(&self, w: u32, h: u32) {
        self.cmd(
            Method::POST,
            "/window/rect",
            Some(json!({ "width": w, "height": h })),
            &format!("set_window_size {w}x{h}"),
        )
        .await;
    }

    /// The cookies visible to the current page (WebDriver cookie objects).
    pub async fn cookies(&self) -> Vec<Value> {
        match self.cmd(Method::GET, "/cookie", None, "cookies").await {
            Value::Array(a) => a,
            other => panic!("cookies: WebDriver answered {other}, not a list"),
        }
    }

    /// Deletes the cookies visible to the current page.
    pub async fn delete_cookies(&self) {
        self.cmd(Method::DELETE, "/cookie", None, "delete_cookies")
            .await;
    }

    /// Presses and releases Tab on whatever has the focus.
    pub async fn press_tab(&self) {
        self.cmd(
            Method::POST,
            "/actions",
            Some(json!({ "actions": [{
                "type": "key",
                "id": "keyboard",
                "actions": [
                    { "type": "keyDown", "value": TAB_KEY },
                    { "type": "keyUp", "value": TAB_KEY },
                ],
            }]})),
            "press_tab",
        )
        .await;
    }

    /// The focused element (the body when nothing is).
    pub async fn active_element(&self) -> Element {
        let v = self
            .cmd(Method::GET, "/element/active", None, "active_element")
            .await;
        self.session.element(&v, ":focus")
    }

    /// Saves a PNG of the viewport to [`screenshot_path`]`(name)`.
    pub async fn screenshot(&self, name: &str) {
        let v = self
            .cmd(Method::GET, "/screenshot", None, "screenshot")
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("a screenshot is a base64 string"))
            .expect("a screenshot is valid base64");
        let path = screenshot_path(name);
        let dir = path.parent().expect("a screenshot path has a folder");
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        std::fs::write(&path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

/// Starts one chromedriver and a session in it.
async fn start() -> Result<(Driver, Session), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let dir = tempfile::Builder::new()
        .prefix("custodian-chromium-")
        .tempdir()
        .map_err(|e| format!("no temporary directory: {e}"))?;
    let tmp = dir.path().join("tmp");
    let profile = dir.path().join("profile");
    let home = dir.path().join("home");
    for d in [&tmp, &home] {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }

    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(SUPERVISOR)
        .arg(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg("--log-level=OFF")
        // Chromium's scratch files, crash database and dconf cache go into the directory
        // removed on drop, not into the user's home.
        .env("TMPDIR", &tmp)
        .env("CUSTODIAN_WD_DIR", dir.path())
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {CHROMEDRIVER}: {e}"))?;
    let watch = child.stdin.take();
    let mut driver = Driver {
        child,
        _watch: watch,
        dir,
    };

    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(90))
        .build()
        .map_err(|e| format!("no HTTP client: {e}"))?;
    let root = format!("http://127.0.0.1:{port}");

    let deadline = Instant::now() + DRIVER_READY_WAIT;
    loop {
        if let Ok(Some(status)) = driver.child.try_wait() {
            return Err(format!(
                "chromedriver on port {port} exited at once ({status})"
            ));
        }
        let ready = tokio::time::timeout(
            Duration::from_secs(2),
            send(&http, Method::GET, &format!("{root}/status"), None),
        )
        .await;
        if let Ok(Ok(v)) = ready {
            if v["ready"] == json!(true) {
                break;
            }
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "chromedriver on port {port} not ready after {} s",
                DRIVER_READY_WAIT.as_secs()
            ));
        }
        sleep(POLL).await;
    }

    let capabilities = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": { "implicit": 0, "pageLoad": 60_000, "script": 30_000 },
        "goog:chromeOptions": { "binary": CHROMIUM, "args": chromium_args(&profile) },
    }}});
    let v = send(
        &http,
        Method::POST,
        &format!("{root}/session"),
        Some(capabilities),
    )
    .await
    .map_err(|e| format!("new session on port {port}: {e}"))?;
    let id = v["sessionId"]
        .as_str()
        .ok_or_else(|| format!("new session on port {port}: no sessionId in {v}"))?;
    Ok((
        driver,
        Session {
            http,
            base: format!("{root}/session/{id}"),
        },
    ))
}

/// An element of the page, found by `css`.
#[derive(Debug, Clone)]
pub struct Element {
    session: Arc<Session>,
    id: String,
    /// The selector it was found by, for messages.
    css: String,
}

impl Element {
    async fn cmd(&self, method: Method, what: &str, body: Option<Value>) -> Value {
        let path = format!("/element/{}{what}", self.id);
        let label = format!("`{}`{what}", self.css);
        self.session.cmd(method, &path, body, &label).await
    }

    async fn string(&self, what: &str) -> String {
        match self.cmd(Method::GET, what, None).await {
            Value::String(s) => s,
            other => panic!("`{}`{what}: WebDriver answered {other}", self.css),
        }
    }

    /// The reference to pass the element as an `execute` argument.
    pub fn to_json(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    pub async fn click(&self) {
        self.cmd(Method::POST, "/click", None).await;
    }

    /// The rendered (visible) text.
    pub async fn text(&self) -> String {
        self.string("/text").await
    }

    /// The attribute as written in the page (`GET /attribute`), None when absent; a boolean
    /// attribute that is present reads "true". The live value of a field is `prop("value")`.
    pub async fn attr(&self, name: &str) -> Option<String> {
        match self
            .cmd(Method::GET, &format!("/attribute/{name}"), None)
            .await
        {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }
    }

    /// A DOM property (`value`, `checked`, …); Null when there is none.
    pub async fn prop(&self, name: &str) -> Value {
        self.cmd(Method::GET, &format!("/property/{name}"), None)
            .await
    }

    pub async fn clear(&self) {
        self.cmd(Method::POST, "/clear", None).await;
    }

    /// Types `text` into the element (WebDriver key codes such as "\u{E007}" work too).
    pub async fn send_keys(&self, text: &str) {
        self.cmd(Method::POST, "/value", Some(json!({ "text": text })))
            .await;
    }

    /// The first descendant matching `css` now, if any (no wait).
    pub async fn find(&self, css: &str) -> Option<Element> {
        let path = format!("/element/{}/element", self.id);
        let query = json!({ "using": "css selector", "value": css });
        let label = format!("{} {css}", self.css);
        match self.session.try_cmd(Method::POST, &path, Some(query)).await {
            Ok(v) => Some(self.session.element(&v, &label)),
            Err(e) if e.error == "no such element" => None,
            Err(e) => {
                self.session
                    .fail(&format!("find `{css}` in `{}` failed: {e}", self.css))
                    .await
            }
        }
    }

    /// The tag name, lower case.
    pub async fn tag(&self) -> String {
        self.string("/name").await.to_ascii_lowercase()
    }

    pub async fn is_displayed(&self) -> bool {
        self.cmd(Method::GET, "/displayed", None).await == json!(true)
    }

    /// The computed value of CSS property `prop`.
    pub async fn css_value(&self, prop: &str) -> String {
        self.string(&format!("/css/{prop}")).await
    }
}

// ---------------------------------------------------------------------------------------------
// The client proves itself on a tiny page served by a hand-written HTTP/1.1 responder.

mod proof {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    const FORM: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Form</title>
<style>#hidden { display: none } body { font: 16px sans-serif }</style></head>
<body><h1>New asset</h1>
<form method="post" action="/submit">
  <label>Name <input id="name" name="name" required></label>
  <label>Kind <select id="kind" name="kind">
    <option value="laptop">Laptop</option>
    <option value="server">Server</option>
    <option value="a &quot;quoted&quot; one">Quoted</option>
  </select></label>
  <button id="save" type="submit">Save</button>
</form>
<p id="hidden">not shown</p>
</body></html>"#;

    /// Serves `/` (the form), `POST /submit` (303 to `/done?…` with a cookie) and `/done`.
    async fn serve() -> String {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the test page server");
        let addr = listener.local_addr().expect("the page server's address");
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(respond(stream));
            }
        });
        format!("http://{addr}")
    }

    async fn respond(mut stream: TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let length: usize = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).to_string();
        let mut request_line = head.split_whitespace();
        let method = request_line.next().unwrap_or_default();
        let target = request_line.next().unwrap_or_default();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));

        let response = match (method, path) {
            ("GET", "/") => page("200 OK", "", FORM),
            ("POST", "/submit") => page(
                "303 See Other",
                &format!("Location: /done?{body}\r\nSet-Cookie: seen=yes; Path=/\r\n"),
                "",
            ),
            ("GET", "/done") => {
                let field = |name: &str| {
                    query
                        .split('&')
                        .filter_map(|p| p.split_once('='))
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| form_decode(v))
                        .unwrap_or_default()
                };
                let result = format!("name={}; kind={}", field("name"), field("kind"));
                let html = format!(
                    "<!doctype html><html><head><title>Done</title></head><body>\
                     <p id=\"result\">{}</p></body></html>",
                    result.replace('&', "&amp;").replace('<', "&lt;")
                );
                page("200 OK", "", &html)
            }
            _ => page("404 Not Found", "", "not found"),
        };
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    fn page(status: &str, headers: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n{headers}\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    /// Decodes `application/x-www-form-urlencoded` text.
    fn form_decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).to_string()
    }

    #[tokio::test]
    async fn the_browser_drives_a_page() {
        let site = serve().await;
        let started = std::time::Instant::now();
        let browser = Browser::open().await;
        eprintln!("Browser::open took {:?}", started.elapsed());

        browser.goto(&format!("{site}/")).await;
        assert_eq!(browser.url().await, format!("{site}/"));
        assert_eq!(browser.title().await, "Form");
        assert!(browser.source().await.contains("<form method=\"post\""));
        assert_eq!(browser.text_of("h1").await, "New asset");

        // Elements and their attributes, properties and style.
        let kind = browser.find("#kind").await;
        assert_eq!(kind.tag().await, "select");
        assert_eq!(kind.attr("name").await.as_deref(), Some("kind"));
        assert_eq!(kind.attr("data-missing").await, None);
        assert_eq!(browser.find_all("#kind option").await.len(), 3);
        assert!(kind.find("option[value=server]").await.is_some());
        assert!(kind.find("option[value=desk]").await.is_none());
        assert!(browser.try_find("#not-there").await.is_none());
        assert!(browser.try_find("#save").await.is_some());
        let hidden = browser.find("#hidden").await;
        assert!(!hidden.is_displayed().await);
        assert_eq!(hidden.css_value("display").await, "none");
        assert!(kind.is_displayed().await);
        assert_eq!(
            browser
                .execute(
                    "return arguments[0].id + arguments[1];",
                    vec![kind.to_json(), json!(1)]
                )
                .await,
            json!("kind1")
        );

        // Typing and choosing.
        browser.fill("#name", "old").await;
        browser.fill("#name", "Laptop 42 & co").await;
        let name = browser.find("#name").await;
        assert_eq!(name.prop("value").await, json!("Laptop 42 & co"));
        assert_eq!(name.prop("required").await, json!(true));
        assert_eq!(name.attr("required").await.as_deref(), Some("true"));
        // The attribute as written in the page, not what was typed.
        assert_eq!(name.attr("value").await, None);
        name.clear().await;
        name.send_keys("Laptop 42 & co").await;
        browser.select("#kind", "a \"quoted\" one").await;
        assert_eq!(kind.prop("value").await, json!("a \"quoted\" one"));
        browser.select("#kind", "server").await;
        assert_eq!(kind.prop("value").await, json!("server"));

        // Keyboard navigation: name → kind → save.
        browser.click("#name").await;
        assert_eq!(
            browser.active_element().await.attr("id").await.as_deref(),
            Some("name")
        );
        browser.press_tab().await;
        assert_eq!(
            browser.active_element().await.attr("id").await.as_deref(),
            Some("kind")
        );
        browser.press_tab().await;
        assert_eq!(browser.active_element().await.text().await, "Save");

        // The window, and a screenshot of it.
        assert_eq!(
            browser.execute("return window.innerWidth", vec![]).await,
            json!(1280)
        );
        let path = screenshot_path("webdriver-form");
        let _ = std::fs::remove_file(&path);
        browser.screenshot("webdriver-form").await;
        let png = std::fs::read(&path).expect("the screenshot was written");
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is a PNG",
            path.display()
        );
        browser.set_window_size(800, 600).await;
        assert_eq!(
            browser.execute("return window.outerWidth", vec![]).await,
            json!(800)
        );

        // Submitting: POST, 303, the next page, and its cookie.
        browser.submit_via("#save").await;
        assert!(browser.url().await.starts_with(&format!("{site}/done?")));
        assert_eq!(browser.title().await, "Done");
        assert_eq!(
            browser.text_of("#result").await,
            "name=Laptop 42 & co; kind=server"
        );
        let cookies = browser.cookies().await;
        assert!(
            cookies
                .iter()
                .any(|c| c["name"] == "seen" && c["value"] == "yes"),
            "the cookie is set: {cookies:?}"
        );
        browser.delete_cookies().await;
        assert!(browser.cookies().await.is_empty());

        browser.close().await;
    }

    /// A selector that never matches fails after the wait, naming the selector, the URL and
    /// the title; the browser still goes away with the failing test.
    #[tokio::test]
    #[should_panic(expected = "no element matches `#not-there` after 10 s")]
    async fn a_missing_element_fails_with_context() {
        let site = serve().await;
        let browser = Browser::open().await;
        browser.goto(&format!("{site}/")).await;
        browser.find("#not-there").await;
    }
}

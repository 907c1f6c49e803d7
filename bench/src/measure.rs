//! The HTTP measurements against a running server.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::procs::proc_status_kib;

/// A keep-alive client for one server.
/// A client that sends the bench account's token with every request.
pub fn client(token: &str) -> Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}")
            .parse()
            .context("the token is not a valid header value")?,
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(120))
        .build()
        .context("cannot build the HTTP client")
}

/// A client signed in with a browser session (for the web pages), as `email`.
pub async fn session_client(base: &str, email: &str, password: &str) -> Result<reqwest::Client> {
    let plain = reqwest::Client::new();
    let r = plain
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .context("POST /api/v1/session")?;
    if r.status().as_u16() != 201 {
        bail!("signing in answered {}", r.status());
    }
    let cookie = r
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("custodian_session="))
        .and_then(|c| c.split(';').next())
        .context("signing in set no session cookie")?
        .to_string();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        cookie
            .parse()
            .context("the cookie is not a valid header value")?,
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .context("cannot build the HTTP client")
}

/// GETs a web page `warmup` times untimed, then `reps` times timed; counts the rows of
/// its asset table.
pub async fn page_read(
    c: &reqwest::Client,
    base: &str,
    label: &str,
    path: &str,
    warmup: usize,
    reps: usize,
) -> Result<ListRead> {
    let (first, latency) = timed_gets(c, &format!("{base}{path}"), warmup, reps).await?;
    let first = String::from_utf8_lossy(&first);
    Ok(ListRead {
        label: label.into(),
        path: path.into(),
        items: first
            .split("<tbody>")
            .nth(1)
            .map_or(0, |t| t.matches("<tr>").count()),
        has_next: first.contains("rel=\"next\""),
        latency,
    })
}

/// GETs `url` once for its answer, `warmup - 1` more times untimed, then `reps` times
/// timed, sequentially; any answer but 200 is an error.
async fn timed_gets(
    c: &reqwest::Client,
    url: &str,
    warmup: usize,
    reps: usize,
) -> Result<(Vec<u8>, Latency)> {
    let get = || async {
        let started = Instant::now();
        let r = c
            .get(url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = r.status();
        let body = r
            .bytes()
            .await
            .with_context(|| format!("GET {url}: reading the answer"))?;
        let took = started.elapsed();
        if status.as_u16() != 200 {
            bail!(
                "GET {url} answered {status}: {}",
                excerpt(&String::from_utf8_lossy(&body))
            );
        }
        Ok::<_, anyhow::Error>((took, body))
    };
    let first = get().await?.1.to_vec();
    for _ in 1..warmup {
        get().await?;
    }
    let mut d = Vec::with_capacity(reps);
    for _ in 0..reps {
        d.push(get().await?.0);
    }
    Ok((first, Latency::of(d)))
}

/// Waits until `/readyz` answers 200; returns how long that took.
pub async fn wait_ready(c: &reqwest::Client, base: &str, timeout: Duration) -> Result<Duration> {
    let started = Instant::now();
    let url = format!("{base}/readyz");
    let mut last = String::new();
    while started.elapsed() < timeout {
        match c.get(&url).send().await {
            Ok(r) if r.status().is_success() => return Ok(started.elapsed()),
            Ok(r) => last = format!("{} {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!(
        "{url} did not answer 200 within {} s (last answer: {last})",
        timeout.as_secs()
    )
}

/// Short text of a response body for error messages.
fn excerpt(body: &str) -> String {
    let one: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 300 {
        format!("{}…", one.chars().take(300).collect::<String>())
    } else {
        one
    }
}

/// Creates the persons; returns their ids in order.
pub async fn create_persons(
    c: &reqwest::Client,
    base: &str,
    persons: &[(String, String)],
) -> Result<Vec<String>> {
    let url = format!("{base}/api/v1/parties");
    let mut ids = Vec::with_capacity(persons.len());
    for (name, email) in persons {
        let r = c
            .post(&url)
            .json(&json!({"kind": "person", "name": name, "email": email}))
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        let status = r.status();
        let body = r
            .text()
            .await
            .with_context(|| format!("POST {url}: reading the answer"))?;
        if status.as_u16() != 201 {
            bail!(
                "POST {url} for {email} answered {status}, not 201: {}",
                excerpt(&body)
            );
        }
        let v: Value = serde_json::from_str(&body)
            .with_context(|| format!("POST {url} answered invalid JSON: {}", excerpt(&body)))?;
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .with_context(|| format!("POST {url} answered without an id: {}", excerpt(&body)))?;
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// Reads `custodian_assets` from `/metrics`.
pub async fn asset_count(c: &reqwest::Client, base: &str) -> Result<i64> {
    let url = format!("{base}/metrics");
    let r = c
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = r.status();
    let body = r
        .text()
        .await
        .with_context(|| format!("GET {url}: reading the answer"))?;
    if !status.is_success() {
        bail!("GET {url} answered {status}: {}", excerpt(&body));
    }
    body.lines()
        .find_map(|l| l.strip_prefix("custodian_assets "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as i64)
        .with_context(|| format!("GET {url} has no custodian_assets line"))
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug)]
pub struct Latency {
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(mut d: Vec<Duration>) -> Latency {
        if d.is_empty() {
            return Latency {
                samples: 0,
                p50_ms: f64::NAN,
                p99_ms: f64::NAN,
                mean_ms: f64::NAN,
                max_ms: f64::NAN,
            };
        }
        d.sort();
        let ms = |x: Duration| x.as_secs_f64() * 1000.0;
        let rank = |p: f64| {
            let i = ((p / 100.0) * d.len() as f64).ceil() as usize;
            ms(d[i.clamp(1, d.len()) - 1])
        };
        Latency {
            samples: d.len(),
            p50_ms: rank(50.0),
            p99_ms: rank(99.0),
            mean_ms: d.iter().map(|x| ms(*x)).sum::<f64>() / d.len() as f64,
            max_ms: ms(d[d.len() - 1]),
        }
    }

    pub fn json(&self) -> Value {
        json!({"samples": self.samples, "p50_ms": round(self.p50_ms), "p99_ms": round(self.p99_ms), "mean_ms": round(self.mean_ms), "max_ms": round(self.max_ms)})
    }
}

pub fn round(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1000.0).round() / 1000.0
    } else {
        -1.0
    }
}

/// One list read, repeated.
pub struct ListRead {
    pub label: String,
    pub path: String,
    pub items: usize,
    pub has_next: bool,
    pub latency: Latency,
}

impl ListRead {
    pub fn json(&self) -> Value {
        json!({"label": self.label, "path": self.path, "items": self.items, "has_next_cursor": self.has_next, "latency": self.latency.json()})
    }
}

/// GETs `path` `warmup` times untimed, then `reps` times timed, sequentially.
pub async fn list_read(
    c: &reqwest::Client,
    base: &str,
    label: &str,
    path: &str,
    warmup: usize,
    reps: usize,
) -> Result<(ListRead, Value)> {
    let url = format!("{base}{path}");
    let (first, latency) = timed_gets(c, &url, warmup, reps).await?;
    let page: Value = serde_json::from_slice(&first)
        .with_context(|| format!("GET {url} answered invalid JSON"))?;
    let items = page
        .get("items")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let has_next = page.get("next_cursor").is_some_and(|v| !v.is_null());
    Ok((
        ListRead {
            label: label.into(),
            path: path.into(),
            items,
            has_next,
            latency,
        },
        page,
    ))
}

/// The ids on a page.
pub fn ids_of(page: &Value) -> Vec<String> {
    page.get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("id")?.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A fixed-length or fixed-count load from several clients.
pub struct Load {
    pub requests: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub unexpected: u64,
    pub statuses: BTreeMap<String, u64>,
    pub samples: Vec<String>,
    pub latency: Latency,
    pub peak_rss_kib: Option<u64>,
}

impl Load {
    pub fn json(&self) -> Value {
        json!({
            "requests": self.requests,
            "seconds": round(self.seconds),
            "per_second": self.per_second.round(),
            "unexpected_answers": self.unexpected,
            "statuses": self.statuses,
            "unexpected_samples": self.samples,
            "latency": self.latency.json(),
            "server_peak_rss_kib": self.peak_rss_kib,
        })
    }
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    durations: Vec<Duration>,
    statuses: BTreeMap<String, u64>,
    unexpected: u64,
    samples: Vec<String>,
}

impl Tally {
    async fn record(
        &mut self,
        started: Instant,
        res: reqwest::Result<reqwest::Response>,
        expect: u16,
    ) {
        let (key, bad_body) = match res {
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.bytes().await;
                match body {
                    Ok(_) if status == expect => (status.to_string(), None),
                    Ok(b) => (
                        status.to_string(),
                        Some(format!(
                            "{status}: {}",
                            excerpt(&String::from_utf8_lossy(&b))
                        )),
                    ),
                    Err(e) => (
                        format!("{status} (body unreadable)"),
                        Some(format!("{status}: body unreadable: {e}")),
                    ),
                }
            }
            Err(e) => (
                "transport error".to_string(),
                Some(format!("transport error: {e}")),
            ),
        };
        self.durations.push(started.elapsed());
        *self.statuses.entry(key).or_default() += 1;
        if let Some(s) = bad_body {
            self.unexpected += 1;
            if self.samples.len() < 3 {
                self.samples.push(s);
            }
        }
    }

    fn merge(&mut self, o: Tally) {
        self.durations.extend(o.durations);
        for (k, v) in o.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.unexpected += o.unexpected;
        for s in o.samples {
            if self.samples.len() < 5 {
                self.samples.push(s);
            }
        }
    }

    fn finish(self, elapsed: Duration, peak_rss_kib: Option<u64>) -> Load {
        let requests = self.durations.len() as u64;
        let seconds = elapsed.as_secs_f64();
        Load {
            requests,
            seconds,
            per_second: if seconds > 0.0 {
                requests as f64 / seconds
            } else {
                0.0
            },
            unexpected: self.unexpected,
            statuses: self.statuses,
            samples: self.samples,
            latency: Latency::of(self.durations),
            peak_rss_kib,
        }
    }
}

/// `workers` clients GET `/api/v1/assets/{id}` over `ids` for `duration`.
pub async fn get_by_id(
    c: &reqwest::Client,
    base: &str,
    ids: Arc<Vec<String>>,
    workers: usize,
    duration: Duration,
) -> Result<Load> {
    if ids.is_empty() {
        bail!("no asset ids to read");
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (c, base, ids) = (c.clone(), base.to_string(), ids.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            let mut i = w * 7919;
            while Instant::now() < deadline {
                let id = &ids[i % ids.len()];
                i += workers;
                let s = Instant::now();
                let res = c.get(format!("{base}/api/v1/assets/{id}")).send().await;
                t.record(s, res, 200).await;
            }
            t
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        all.merge(t.await.context("a reading client failed")?);
    }
    Ok(all.finish(started.elapsed(), None))
}

/// The body of the `n`th created asset of a run (`tag` keeps serial numbers unique).
fn new_asset(owners: &[String], tag: &str, n: usize) -> Value {
    let owner = &owners[n % owners.len()];
    let importance = ["low", "medium", "high", "critical"][n % 4];
    let classification = ["public", "internal", "confidential", "restricted"][(n / 4) % 4];
    match n % 4 {
        0 | 1 => json!({
            "kind": "physical", "name": format!("Dell Latitude 7450 #{tag}{n:06}"), "owner_id": owner,
            "importance": importance, "classification": classification,
            "serial_number": format!("BENCH-{tag}-{n:07}"), "manufacturer": "Dell", "model": "Latitude 7450",
            "hostname": format!("lt-{tag}-{n:07}"), "tags": ["bench", "remote"],
        }),
        2 => json!({
            "kind": "virtual", "name": format!("vm-bench-{tag}-{n:06}"), "owner_id": owner,
            "importance": importance, "classification": classification,
            "serial_number": format!("i-bench{tag}{n:09}"), "manufacturer": "Amazon Web Services", "model": "t3.small",
        }),
        _ => json!({
            "kind": "software", "name": format!("Bench tool {tag} {n}"), "owner_id": owner,
            "importance": importance, "classification": classification,
            "vendor": "Bench Ltd", "software_version": "1.0", "licence_model": "subscription",
        }),
    }
}

/// `count` creates one after another.
pub async fn creates_sequential(
    c: &reqwest::Client,
    base: &str,
    owners: &[String],
    count: usize,
) -> Result<Load> {
    let url = format!("{base}/api/v1/assets");
    let mut t = Tally::default();
    let started = Instant::now();
    for n in 0..count {
        let body = new_asset(owners, "s", n);
        let s = Instant::now();
        let res = c.post(&url).json(&body).send().await;
        t.record(s, res, 201).await;
    }
    Ok(t.finish(started.elapsed(), None))
}

/// `workers` clients each creating `each` assets, while the server's RSS is sampled
/// every 100 ms.
pub async fn creates_concurrent(
    c: &reqwest::Client,
    base: &str,
    owners: Arc<Vec<String>>,
    workers: usize,
    each: usize,
    server_pid: u32,
) -> Result<Load> {
    let url = format!("{base}/api/v1/assets");
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                if let Some(kib) = proc_status_kib(server_pid, "VmRSS") {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
            }
        })
    };
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (c, url, owners) = (c.clone(), url.clone(), owners.clone());
        tasks.push(tokio::spawn(async move {
            let mut t = Tally::default();
            let tag = format!("c{w}");
            for n in 0..each {
                let body = new_asset(&owners, &tag, n);
                let s = Instant::now();
                let res = c.post(&url).json(&body).send().await;
                t.record(s, res, 201).await;
            }
            t
        }));
    }
    let mut all = Tally::default();
    let mut failure = None;
    for t in tasks {
        match t.await {
            Ok(t) => all.merge(t),
            Err(e) => failure = Some(e),
        }
    }
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    if let Some(e) = failure {
        return Err(e).context("a creating client failed");
    }
    let peak = peak.load(Ordering::Relaxed);
    Ok(all.finish(elapsed, (peak > 0).then_some(peak)))
}

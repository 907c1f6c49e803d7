//! The `custodian` child processes: the server (stopped on every exit path) and one-shot
//! commands measured with `wait4`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Children and directories to clean up if the bench is interrupted by a signal, when no
/// destructor runs.
struct Live {
    pids: Vec<u32>,
    dirs: Vec<PathBuf>,
}

static LIVE: Mutex<Live> = Mutex::new(Live {
    pids: Vec::new(),
    dirs: Vec::new(),
});

fn live<R>(f: impl FnOnce(&mut Live) -> R) -> R {
    let mut g = LIVE.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut g)
}

/// Stops every running child and removes every temporary directory; for a signal handler
/// that is about to exit the process.
pub fn clean_up_now() {
    let (pids, dirs) = live(|l| (std::mem::take(&mut l.pids), std::mem::take(&mut l.dirs)));
    for &pid in &pids {
        // SAFETY: the pid is a child this process started and has not reaped.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
    }
    if !pids.is_empty() {
        std::thread::sleep(Duration::from_millis(1500));
    }
    for &pid in &pids {
        // SAFETY: as above; a child that already exited is a zombie, which ignores it.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// The `custodian` binary next to this program's executable.
pub fn custodian_binary() -> Result<PathBuf> {
    let me = std::env::current_exe().context("cannot find the bench's own executable")?;
    let dir = me
        .parent()
        .context("the bench's executable has no directory")?;
    let bin = dir.join(format!("custodian{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        bail!(
            "{} does not exist: build it first with `cargo build --release -p custodian` (or run scripts/bench, which builds both)",
            bin.display()
        );
    }
    Ok(bin)
}

/// A command for `custodian` whose children die with the bench, even on SIGKILL.
fn command(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.stdin(Stdio::null());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches nothing but the child's own state.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) == -1
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd
}

/// The last lines of a log file, for error messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    all[start..].join("\n")
}

/// What a finished one-shot command did.
pub struct Finished {
    pub success: bool,
    pub status: String,
    pub wall: Duration,
    pub peak_rss_kib: u64,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `custodian ARGS` to completion, timing it and taking its peak RSS from `wait4`.
///
/// Output goes to `LOG.out` and `LOG.err` files, so that a long error report can never
/// fill a pipe and stall the child.
pub fn run_measured(bin: &Path, args: &[&str], log: &Path) -> Result<Finished> {
    let out_path = log.with_extension("out");
    let err_path = log.with_extension("err");
    let out =
        File::create(&out_path).with_context(|| format!("cannot create {}", out_path.display()))?;
    let err =
        File::create(&err_path).with_context(|| format!("cannot create {}", err_path.display()))?;
    let started = Instant::now();
    let child = command(bin)
        .args(args)
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let pid = child.id() as libc::pid_t;
    // The child is reaped by wait4 below; `Child` never waits or kills, so dropping it is safe.
    drop(child);
    live(|l| l.pids.push(pid as u32));
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value for the kernel to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: status and usage point to live locals; pid is our own child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            live(|l| l.pids.retain(|p| *p != pid as u32));
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e).context("cannot wait for the custodian process");
        }
    }
    let wall = started.elapsed();
    let (success, status) = if libc::WIFEXITED(status) {
        let code = libc::WEXITSTATUS(status);
        (code == 0, format!("exit status {code}"))
    } else if libc::WIFSIGNALED(status) {
        (
            false,
            format!("killed by signal {}", libc::WTERMSIG(status)),
        )
    } else {
        (false, format!("wait status {status}"))
    };
    Ok(Finished {
        success,
        status,
        wall,
        peak_rss_kib: usage.ru_maxrss.max(0) as u64,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    })
}

/// A running `custodian serve`, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts `custodian serve` on a free loopback port and waits for its address line.
    pub fn start(bin: &Path, database: &str, log: &Path) -> Result<Server> {
        let err = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let mut child = command(bin)
            .args(["serve", "--database", database, "--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {} serve", bin.display()))?;
        let stdout = child.stdout.take();
        let id = child.id();
        live(|l| l.pids.push(id));
        let mut server = Server {
            child: Some(child),
            base: String::new(),
            log: log.to_path_buf(),
        };
        let Some(stdout) = stdout else {
            bail!("cannot read the output of custodian serve");
        };
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut sent = false;
            for line in lines.by_ref() {
                let Ok(line) = line else { break };
                if !sent && line.contains("http://") {
                    sent = tx.send(line).is_ok();
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    let start = line.find("http://").unwrap_or(0) + "http://".len();
                    let rest = &line[start..];
                    let end = rest.find('/').unwrap_or(rest.len());
                    server.base = format!("http://{}", &rest[..end]);
                    return Ok(server);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(status) = server.try_status()? {
                        bail!("custodian serve exited ({status}) before it was listening; its log {} ends:\n{}", log.display(), tail(log, 20));
                    }
                    if Instant::now() > deadline {
                        bail!(
                            "custodian serve printed no address within 300 s; see {}",
                            log.display()
                        );
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(200));
                    let status = server
                        .try_status()?
                        .unwrap_or_else(|| "closed its output".into());
                    bail!("custodian serve {status} without printing its address; its log {} ends:\n{}", log.display(), tail(log, 20));
                }
            }
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The exit status, if the server has exited.
    fn try_status(&mut self) -> Result<Option<String>> {
        match self.child.as_mut() {
            None => Ok(Some("was stopped".into())),
            Some(c) => Ok(c
                .try_wait()
                .context("cannot check the custodian server")?
                .map(|s| s.to_string())),
        }
    }

    /// Fails when the server is no longer running.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.try_status()? {
            bail!(
                "custodian serve exited unexpectedly ({status}); its log {} ends:\n{}",
                self.log.display(),
                tail(&self.log, 20)
            );
        }
        Ok(())
    }

    /// Stops the server: SIGTERM, up to 15 s for a graceful exit, then SIGKILL.
    pub fn stop(mut self) -> Result<String> {
        self.terminate()
    }

    fn terminate(&mut self) -> Result<String> {
        let Some(mut child) = self.child.take() else {
            return Ok("already stopped".into());
        };
        let id = child.id();
        live(|l| l.pids.retain(|p| *p != id));
        if let Some(s) = child.try_wait()? {
            return Ok(s.to_string());
        }
        // SAFETY: the pid is our own child, which has not been reaped (try_wait said so).
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(s) = child.try_wait()? {
                return Ok(s.to_string());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.kill().context("cannot kill the custodian server")?;
        let s = child
            .wait()
            .context("cannot wait for the custodian server")?;
        Ok(format!("{s} after SIGKILL (it ignored SIGTERM for 15 s)"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Err(e) = self.terminate() {
            eprintln!("warning: stopping the custodian server: {e:#}");
        }
    }
}

/// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// A directory removed with its contents when dropped.
pub struct TempDir(pub PathBuf);

const TEMP_PREFIX: &str = "custodian-bench-";

impl TempDir {
    /// A new directory named after this process, so that a later run can remove it if
    /// this one is killed outright.
    pub fn new(label: &str) -> Result<TempDir> {
        let p = std::env::temp_dir().join(format!(
            "{TEMP_PREFIX}{label}-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&p).with_context(|| format!("cannot create {}", p.display()))?;
        live(|l| l.dirs.push(p.clone()));
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        live(|l| l.dirs.retain(|d| *d != self.0));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes the temporary directories of earlier runs whose process no longer exists.
pub fn remove_stale_temp_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
            continue;
        };
        let mut parts = rest.split('-');
        let (Some(_label), Some(pid), Some(_id), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid != std::process::id() && !alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Whether a process exists and is not a zombie.
fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, None | Some("Z" | "X"))
}

//! The server seen from outside, through `/proc` and signals (Linux): the pid listening on a
//! port, its resident memory (`VmRSS`), its open-files limit; and this process's own
//! open-files limit, raised from the soft to the hard limit at start (every socket is a file
//! descriptor on both sides).

use anyhow::{Context, Result, anyhow, bail};
use std::time::{Duration, Instant};

/// `/proc/net/tcp*` state of a listening socket.
const TCP_LISTEN: &str = "0A";
/// utime and stime in `/proc/<pid>/stat`, counted from the field after the command name.
const STAT_UTIME: usize = 11;
const STAT_STIME: usize = 12;
/// How often `wait_exit` looks.
const EXIT_POLL: Duration = Duration::from_millis(20);

/// Raises this process's soft open-files limit to the hard limit; returns the new soft limit.
pub fn raise_fd_limit() -> Result<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error()).context("getrlimit(RLIMIT_NOFILE)");
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit reads the struct we own.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(std::io::Error::last_os_error()).context("setrlimit(RLIMIT_NOFILE)");
        }
        limit = raised;
    }
    Ok(limit.rlim_cur)
}

/// This process's soft open-files limit.
pub fn own_fd_limit() -> Result<u64> {
    fd_limit_of("self")
}

/// The soft open-files limit of `pid` ("self" for this process), from `/proc/<pid>/limits`.
pub fn fd_limit_of(pid: impl std::fmt::Display) -> Result<u64> {
    let path = format!("/proc/{pid}/limits");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let line = text
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .ok_or_else(|| anyhow!("no open-files limit in {path}"))?;
    let soft = line["Max open files".len()..].split_whitespace().next().unwrap_or_default();
    match soft {
        "unlimited" => Ok(u64::MAX),
        n => n.parse().with_context(|| format!("reading the open-files limit in {path}")),
    }
}

/// Resident memory of `pid` in KiB (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path} (is the server running?)"))?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:")).ok_or_else(|| anyhow!("no VmRSS in {path}"))?;
    line.split_whitespace().nth(1).unwrap_or_default().parse().with_context(|| format!("reading VmRSS in {path}"))
}

/// CPU time `pid` has used so far (user + system), from `/proc/<pid>/stat`.
pub fn cpu_time(pid: u32) -> Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // pid (comm) state ppid … : utime and stime are fields 14 and 15, the 12th and 13th after
    // the command name.
    let after_comm = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64> {
        fields.get(i).ok_or_else(|| anyhow!("short {path}"))?.parse::<u64>().with_context(|| format!("reading {path}"))
    };
    // SAFETY: sysconf has no memory effects.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if per_second <= 0 {
        bail!("sysconf(_SC_CLK_TCK) failed");
    }
    Ok(Duration::from_secs_f64((ticks(STAT_UTIME)? + ticks(STAT_STIME)?) as f64 / per_second as f64))
}

/// The process listening on TCP `port` (any address), if one is visible to us.
pub fn pid_listening_on(port: u16) -> Result<Option<u32>> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode …
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) = (fields.get(1), fields.get(3), fields.get(9)) else {
                continue;
            };
            let local_port = local.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            if *state == TCP_LISTEN && local_port == Some(port) {
                inodes.push(format!("socket:[{inode}]"));
            }
        }
    }
    if inodes.is_empty() {
        return Ok(None);
    }
    let processes = std::fs::read_dir("/proc").context("listing /proc")?;
    for entry in processes.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(link) = std::fs::read_link(fd.path())
                && inodes.iter().any(|i| link.as_os_str() == i.as_str())
            {
                return Ok(Some(pid));
            }
        }
    }
    Ok(None)
}

/// Whether `pid` is running (a zombie is not).
pub fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // pid (comm) state …: the state follows the last ')'.
        Ok(stat) => stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

/// Sends `signal` to `pid`.
pub fn signal(pid: u32, signal: libc::c_int) -> Result<()> {
    let pid = libc::pid_t::try_from(pid).context("pid out of range")?;
    // SAFETY: kill has no memory effects; a wrong pid is an error, reported below.
    if unsafe { libc::kill(pid, signal) } != 0 {
        return Err(std::io::Error::last_os_error()).with_context(|| format!("kill({pid}, {signal})"));
    }
    Ok(())
}

/// Waits until `pid` has exited, at most `timeout`.
pub async fn wait_exit(pid: u32, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while is_running(pid) {
        if Instant::now() >= deadline {
            bail!("process {pid} still running after {timeout:?}");
        }
        tokio::time::sleep(EXIT_POLL).await;
    }
    Ok(())
}

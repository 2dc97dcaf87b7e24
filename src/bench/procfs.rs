//! What the bench reads of a server process on this machine (`--pid`): its resident
//! memory and the CPU time it has used, from `/proc`.

use std::time::Duration;

/// Clock ticks per second of `/proc/PID/stat`'s times (`USER_HZ`): 100 on every Linux
/// architecture the kernel's ABI has kept since 2.6 (`getconf CLK_TCK`).
const TICKS_PER_SECOND: u64 = 100;

/// The resident set sizes of processes `pids`, in KiB, in their order.
pub fn all_rss_kib(pids: &[u32]) -> anyhow::Result<Vec<u64>> {
    pids.iter().map(|&pid| rss_kib(pid)).collect()
}

/// The resident set size of process `pid`, in KiB, from /proc/PID/status.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .map_err(|err| anyhow::anyhow!("cannot read the server's memory use from {path}: {err}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("{path} has no VmRSS line (is process {pid} a zombie?)"))
}

/// The CPU time processes `pids` have used so far, in their order.
pub fn all_cpu_time(pids: &[u32]) -> anyhow::Result<Vec<Duration>> {
    pids.iter().map(|&pid| cpu_time(pid)).collect()
}

/// The CPU time process `pid` has used, user and system, over all its threads:
/// `utime + stime` from /proc/PID/stat, to the tick (10 ms).
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path)
        .map_err(|err| anyhow::anyhow!("cannot read the server's CPU time from {path}: {err}"))?;
    cpu_ticks(&stat)
        .map(|ticks| Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
        .ok_or_else(|| anyhow::anyhow!("{path} is not in the form proc(5) describes"))
}

/// `utime + stime` of a /proc/PID/stat line. The command name (field 2) is in
/// parentheses and may hold spaces and parentheses itself, so fields count from the
/// last `)`: state is field 3, utime 14 and stime 15.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_rss_and_cpu_time() {
        assert!(all_rss_kib(&[std::process::id()]).unwrap()[0] > 0);
        assert_eq!(all_cpu_time(&[std::process::id()]).unwrap().len(), 1);
    }

    #[test]
    fn counts_stat_fields_from_the_end_of_the_command_name() {
        let stat = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 1 0 0 0 250 75 0 0 20 0 3 0";
        assert_eq!(cpu_ticks(stat), Some(325));
        assert_eq!(cpu_ticks("4242 (short) S 1"), None);
        assert_eq!(cpu_ticks("no name at all"), None);
    }

    #[test]
    fn an_absent_process_is_a_clear_error() {
        let err = all_cpu_time(&[u32::MAX]).unwrap_err().to_string();
        assert!(err.contains("/proc/4294967295/stat"), "{err}");
    }
}

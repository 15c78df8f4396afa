//! Timing a command and reading its peak memory, for the benches that
//! compare lapse with other commands (`history`, `offboard`).
//!
//! The peak RSS is the child's own, from wait4. A child shares its parent's
//! memory until it execs, and the kernel counts that towards its peak, so a
//! bench keeps its own process small before it measures.

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
pub struct Measure {
    pub wall: Duration,
    /// User plus system time: on a busy machine the wall time depends on
    /// the neighbours, the CPU time much less.
    pub cpu: Duration,
    pub peak_rss_kb: i64,
}

impl Measure {
    pub fn peak_rss_mb(&self) -> f64 {
        self.peak_rss_kb as f64 / 1024.0
    }
}

/// Runs a command with its output discarded (as a CI log would not be the
/// bottleneck), timing it and reading its own peak RSS with wait4. Exit 1
/// (findings) is fine; anything else fails the bench with the command's
/// error output.
pub fn run(dir: &Path, program: &str, args: &[&str]) -> Measure {
    let started = Instant::now();
    let mut child = Command::new(program)
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{program}: {error}"));
    let mut errors = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut errors);
    let pid = i32::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in, and
    // the child is ours and not yet waited for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    // wait4 reaped the child; `Child` has nothing left to wait for.
    std::mem::forget(child);
    let wall = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    let code = libc::WEXITSTATUS(status);
    assert!(code <= 1, "{program} {args:?} exited with {code}: {errors}");
    let seconds = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Measure {
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_rss_kb: usage.ru_maxrss,
    }
}

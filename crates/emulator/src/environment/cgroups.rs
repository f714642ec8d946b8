//! Memory size as Lambda means it: each execution environment runs in a cgroup of its own, its
//! memory limited to the function's memory size (the runtime's own memory included, swap off) and
//! its CPU to a share in proportion to it (1,769 MB is one vCPU), from its first instruction, init
//! included. Linux only, where the emulator may make cgroups: cgroup v2 with the cpu and memory
//! controllers, or v1's cpu and memory hierarchies; as root or in a delegated subtree. Elsewhere
//! `Cgroups::create` says why not, and environments run unconfined. (docs/lambda-memory.md)
//!
//! One LocalLambda has one cgroup per hierarchy, `local-lambda-<pid>-<n>` under the emulator's own
//! cgroup, with a child per environment; the ones of a LocalLambda whose process is gone are
//! removed when the next one starts.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// AWS: "At 1,769 MB, a function has the equivalent of one vCPU".
pub const ONE_VCPU_MB: u64 = 1769;

/// The CFS period the CPU quota is a share of.
const CPU_PERIOD_US: u64 = 100_000;

const INSTANCE_PREFIX: &str = "local-lambda-";

/// A cgroup is removed only once its processes are gone; a killed one takes a moment to exit.
const REMOVE_ATTEMPTS: u32 = 100;
const REMOVE_PAUSE: Duration = Duration::from_millis(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    V1,
    V2,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::V1 => "v1",
            Layout::V2 => "v2",
        }
    }
}

/// The cgroups of one LocalLambda: its own in each hierarchy (v2: one; v1: cpu, then memory).
pub struct Cgroups {
    pub layout: Layout,
    dirs: Vec<PathBuf>,
    environments: AtomicU64,
}

/// One execution environment's cgroups, limited to its memory size.
pub struct EnvironmentCgroup {
    layout: Layout,
    /// v2: [the cgroup]; v1: [cpu, memory].
    dirs: Vec<PathBuf>,
    pub memory_mb: u32,
}

impl Cgroups {
    /// Makes this LocalLambda's cgroups under `root` (where the hierarchies are mounted, e.g.
    /// /sys/fs/cgroup), after removing those of LocalLambdas whose process is gone, and proves them
    /// with an environment's; or says why it cannot.
    pub fn create(root: &Path) -> Result<Self, String> {
        static INSTANCES: AtomicU64 = AtomicU64::new(0);
        let own = fs::read_to_string("/proc/self/cgroup").map_err(|error| format!("/proc/self/cgroup: {error}"))?;
        let (layout, parents) = hierarchies(root, &own)?;
        for parent in &parents {
            remove_leftovers(parent);
        }
        let name = format!("{INSTANCE_PREFIX}{}-{}", std::process::id(), INSTANCES.fetch_add(1, Ordering::Relaxed));
        let mut cgroups = Self { layout, dirs: Vec::new(), environments: AtomicU64::new(0) };
        for parent in &parents {
            let dir = parent.join(&name);
            // Kept once made (not before: one already there is not this LocalLambda's to remove).
            let made = fs::create_dir(&dir).map(|()| cgroups.dirs.push(dir.clone())).and_then(|()| match layout {
                Layout::V2 => write(&dir, "cgroup.subtree_control", "+cpu +memory"),
                Layout::V1 => Ok(()),
            });
            if let Err(error) = made {
                return Err(format!("cannot make a cgroup in {}: {error}", parent.display()));
            }
        }
        // The probe's cgroups, and these on failure, go when dropped.
        match cgroups.environment(128) {
            Ok(_) => Ok(cgroups),
            Err(error) => Err(format!("cannot limit a cgroup's memory and CPU: {error}")),
        }
    }

    /// A new environment's cgroups: memory limited to `memory_mb` without swap, CPU to
    /// `memory_mb` / 1,769 of a vCPU.
    pub fn environment(&self, memory_mb: u32) -> io::Result<EnvironmentCgroup> {
        let name = format!("environment-{}", self.environments.fetch_add(1, Ordering::Relaxed));
        let environment = EnvironmentCgroup {
            layout: self.layout,
            dirs: self.dirs.iter().map(|dir| dir.join(&name)).collect(),
            memory_mb,
        };
        environment.dirs.iter().try_for_each(fs::create_dir)?;
        environment.limit()?;
        Ok(environment)
    }

    /// Removes this LocalLambda's cgroups and its environments' (ending what still runs there).
    pub fn remove(&self) {
        for dir in &self.dirs {
            remove_tree(dir);
        }
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        self.remove();
    }
}

impl EnvironmentCgroup {
    fn limit(&self) -> io::Result<()> {
        let bytes = (u64::from(self.memory_mb) * 1024 * 1024).to_string();
        let quota_us = CPU_PERIOD_US * u64::from(self.memory_mb) / ONE_VCPU_MB;
        match self.layout {
            Layout::V2 => {
                let dir = &self.dirs[0];
                write(dir, "cpu.max", &format!("{quota_us} {CPU_PERIOD_US}"))?;
                write(dir, "memory.max", &bytes)?;
                // Absent where swap is not accounted: then there is none to turn off.
                optional(write(dir, "memory.swap.max", "0"))
            }
            Layout::V1 => {
                let (cpu, memory) = (&self.dirs[0], &self.dirs[1]);
                write(cpu, "cpu.cfs_period_us", &CPU_PERIOD_US.to_string())?;
                write(cpu, "cpu.cfs_quota_us", &quota_us.to_string())?;
                write(memory, "memory.limit_in_bytes", &bytes)?;
                // memory+swap at the memory limit: no swap. Without swap accounting, the
                // kernel's swap of this cgroup is at least made a last resort.
                match write(memory, "memory.memsw.limit_in_bytes", &bytes) {
                    Err(error) if error.kind() == io::ErrorKind::NotFound => write(memory, "memory.swappiness", "0"),
                    other => other,
                }
            }
        }
    }

    /// The `cgroup.procs` files a new process writes "0" to, to move itself in: the child does
    /// so between fork and exec, so nothing of it runs unconfined.
    pub fn procs_files(&self) -> io::Result<Vec<fs::File>> {
        self.dirs.iter().map(|dir| fs::OpenOptions::new().write(true).open(dir.join("cgroup.procs"))).collect()
    }

    /// Whether the kernel's OOM killer ended a process of this environment.
    pub fn out_of_memory(&self) -> bool {
        // v2: the one cgroup; v1: the memory hierarchy's, listed last.
        let memory = &self.dirs[self.dirs.len() - 1];
        let file = match self.layout {
            Layout::V2 => "memory.events",
            Layout::V1 => "memory.oom_control",
        };
        let counter = fs::read_to_string(memory.join(file)).ok().and_then(|text| {
            text.lines().find_map(|line| match line.split_once(' ') {
                Some(("oom_kill", count)) => count.trim().parse::<u64>().ok(),
                _ => None,
            })
        });
        match counter {
            Some(kills) => kills > 0,
            // Kernels before 4.13 count no kills: the limit was at least hit.
            None => fs::read_to_string(memory.join("memory.failcnt"))
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .is_some_and(|hits| hits > 0),
        }
    }

    /// Ends what still runs in the environment's cgroups, then removes them. (Also when dropped,
    /// where it finds them empty or gone, unless a spawn failed.)
    pub fn remove(&self) {
        for dir in &self.dirs {
            remove_tree(dir);
        }
    }
}

impl Drop for EnvironmentCgroup {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The layout under `root`, and the cgroups of this process to make LocalLambda's under (from
/// /proc/self/cgroup, `own`): v2 where `root` has the cpu and memory controllers, else v1's
/// cpu and memory hierarchies.
fn hierarchies(root: &Path, own: &str) -> Result<(Layout, Vec<PathBuf>), String> {
    let own_path = |wanted: &str| {
        own.lines().find_map(|line| {
            let mut fields = line.splitn(3, ':');
            let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            let matches = if wanted.is_empty() {
                controllers.is_empty()
            } else {
                controllers.split(',').any(|controller| controller == wanted)
            };
            matches.then(|| path.trim_start_matches('/').to_owned())
        })
    };
    let controllers = fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
    let has = |controller: &str| controllers.split_whitespace().any(|name| name == controller);
    if has("cpu") && has("memory") {
        let parent = root.join(own_path("").unwrap_or_default());
        // The controllers must reach the children of the cgroup LocalLambda's are made in.
        let delegated = fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
        let enabled = ["cpu", "memory"].iter().all(|name| delegated.split_whitespace().any(|have| have == *name));
        if enabled || write(&parent, "cgroup.subtree_control", "+cpu +memory").is_ok() {
            return Ok((Layout::V2, vec![parent]));
        }
        return Err(format!("{} does not pass the cpu and memory controllers to its children", parent.display()));
    }
    let mut parents = Vec::new();
    for (controller, probe) in [("cpu", "cpu.cfs_quota_us"), ("memory", "memory.limit_in_bytes")] {
        let mount = root.join(controller);
        if !mount.join(probe).exists() {
            return Err(format!(
                "{} has neither cgroup v2's cpu and memory controllers nor cgroup v1's {controller} hierarchy",
                root.display()
            ));
        }
        parents.push(mount.join(own_path(controller).unwrap_or_default()));
    }
    Ok((Layout::V1, parents))
}

/// Removes the cgroups of LocalLambdas whose process no longer exists.
fn remove_leftovers(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|name| name.strip_prefix(INSTANCE_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok());
        if pid.is_some_and(|pid| !process_exists(pid)) {
            remove_tree(&entry.path());
        }
    }
}

fn process_exists(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 checks the pid and sends nothing.
    let exists = unsafe { libc::kill(pid, 0) } == 0;
    exists || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Removes a cgroup and its children, killing the processes left in them; gives up after a
/// second if they will not go.
fn remove_tree(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                remove_tree(&entry.path());
            }
        }
    }
    for _ in 0..REMOVE_ATTEMPTS {
        match fs::remove_dir(dir) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => {
                for pid in fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default().lines() {
                    if let Ok(pid) = pid.parse::<libc::pid_t>() {
                        // SAFETY: plain syscall, to a process in this LocalLambda's cgroup.
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                    }
                }
                std::thread::sleep(REMOVE_PAUSE);
            }
            _ => return,
        }
    }
}

fn write(dir: &Path, file: &str, value: &str) -> io::Result<()> {
    fs::write(dir.join(file), value).map_err(|error| io::Error::new(error.kind(), format!("{file}: {error}")))
}

fn optional(written: io::Result<()>) -> io::Result<()> {
    match written {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_cgroups_are_made_under_the_processes_own_per_hierarchy() {
        let root = std::env::temp_dir().join(format!("cgroups-test-{}", std::process::id()));
        for (controller, probe) in [("cpu", "cpu.cfs_quota_us"), ("memory", "memory.limit_in_bytes")] {
            fs::create_dir_all(root.join(controller)).unwrap();
            fs::write(root.join(controller).join(probe), "").unwrap();
        }
        let own = "5:memory:/session/a\n1:cpu,cpuacct:/\n0::/\n";
        let (layout, parents) = hierarchies(&root, own).unwrap();
        assert_eq!(layout, Layout::V1);
        assert_eq!(parents, vec![root.join("cpu"), root.join("memory/session/a")]);
        let nowhere = root.join("nowhere");
        assert!(hierarchies(&nowhere, own).unwrap_err().contains("neither cgroup v2"));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn v2_cgroups_are_made_under_the_processes_own_when_it_passes_cpu_and_memory_on() {
        let root = std::env::temp_dir().join(format!("cgroups-v2-test-{}", std::process::id()));
        let own_dir = root.join("user.slice/app.scope");
        fs::create_dir_all(&own_dir).unwrap();
        fs::write(root.join("cgroup.controllers"), "cpuset cpu io memory pids\n").unwrap();
        fs::write(own_dir.join("cgroup.subtree_control"), "cpu memory\n").unwrap();
        let own = "0::/user.slice/app.scope\n";
        assert_eq!(hierarchies(&root, own).unwrap(), (Layout::V2, vec![own_dir.clone()]));
        fs::write(root.join("cgroup.controllers"), "cpu pids\n").unwrap();
        assert!(hierarchies(&root, own).unwrap_err().contains("neither cgroup v2"));
        fs::remove_dir_all(&root).unwrap();
    }
}

//! An earlier revision's `plugin-host` and WooCommerce plugin library, for
//! the soak's host upgrade (`bench soak --upgrade-from REV`): built once
//! from a `git worktree add --detach` of the revision into a cache of its
//! own under the target dir (`soak-previous/<commit>/<profile>/`), the
//! worktree and the build's intermediate files removed afterwards, the two
//! binaries kept, so a second run with the same revision builds nothing.
//!
//! The soak drives `serve` on a stepped clock (`PLUGIN_HOST_CLOCK_FILE`, a
//! test-only clock that came with the soak itself, [`STEPPED_CLOCK`]). A
//! revision from before it gets that commit's host changes grafted on before
//! it is built; nothing of the product (its database, migrations, jobs or
//! plugin) is changed by the graft.
//!
//! The debug build (`--debug-binaries`) is made without overflow checks:
//! the earlier revision is to behave as its release build did where its
//! users ran it (arithmetic wraps), not stop the soak at a panic its users
//! never saw; overflow checks are for the current code.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::binaries::{self, Binaries, Profile};

/// The commit that brought the stepped clock (`PLUGIN_HOST_CLOCK_FILE`,
/// `FILE.settled`) into `host/src`; grafted onto an earlier revision.
pub const STEPPED_CLOCK: &str = "2a36d68";

/// An earlier revision's binaries, ready to drive.
pub struct Previous {
    /// The revision as given, and the commit it names (abbreviated).
    pub rev: String,
    pub commit: String,
    /// Whether the stepped clock was grafted onto it.
    pub grafted: bool,
    pub binaries: Binaries,
}

/// Builds (or finds built) `rev`'s `plugin-host` and plugin library for
/// `profile`; `current` gives the store (`woo-sandbox` is the world, not
/// upgraded).
pub fn prepare(rev: &str, profile: Profile, current: &Binaries) -> anyhow::Result<Previous> {
    let commit = resolve(rev)?;
    let short = commit[..12.min(commit.len())].to_owned();
    let grafted = !has_stepped_clock(&commit)?;
    let cache = binaries::target_dir().join("soak-previous").join(&commit);
    let folder = cache.join(profile.folder());
    let host = folder.join("plugin-host");
    let plugin = folder.join(binaries::plugin_file());
    let provenance = if host.exists() && plugin.exists() {
        format!("{short} as built before in {}", folder.display())
    } else {
        build(&commit, grafted, profile, &cache, &folder)?;
        format!("{short} built by this run into {}", folder.display())
    };
    let provenance = if grafted {
        format!("{provenance} (the stepped clock of {STEPPED_CLOCK} grafted on)")
    } else {
        provenance
    };
    let binaries = Binaries::from_files(&host, &plugin, &current.sandbox, provenance)?;
    Ok(Previous {
        rev: rev.to_owned(),
        commit: short,
        grafted,
        binaries,
    })
}

/// The full commit hash `rev` names.
fn resolve(rev: &str) -> anyhow::Result<String> {
    git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ])
    .with_context(|| format!("--upgrade-from {rev}: not a revision of this repository"))
}

/// Whether `commit`'s host has the stepped clock.
fn has_stepped_clock(commit: &str) -> anyhow::Result<bool> {
    let clock = git(&["show", &format!("{commit}:host/src/clock.rs")])
        .with_context(|| format!("{commit} has no host/src/clock.rs: too old for the soak"))?;
    Ok(clock.contains("PLUGIN_HOST_CLOCK_FILE"))
}

/// A worktree of `commit` in `cache/src` (the stepped clock grafted on if
/// `grafted`), its binaries built into `cache/build` and copied into
/// `folder`; the worktree and the build removed whatever the outcome.
fn build(
    commit: &str,
    grafted: bool,
    profile: Profile,
    cache: &Path,
    folder: &Path,
) -> anyhow::Result<()> {
    let src = cache.join("src");
    let build = cache.join("build");
    if src.exists() {
        // Left by an interrupted build.
        let _ = git(&["worktree", "remove", "--force", &src.display().to_string()]);
    }
    // --force: a worktree of an interrupted build may still be registered.
    git(&[
        "worktree",
        "add",
        "--force",
        "--detach",
        &src.display().to_string(),
        commit,
    ])?;
    let built = graft_and_build(commit, grafted, profile, &src, &build, folder);
    let removed = git(&["worktree", "remove", "--force", &src.display().to_string()]);
    let _ = std::fs::remove_dir_all(&build);
    built?;
    removed.map(drop)
}

fn graft_and_build(
    commit: &str,
    grafted: bool,
    profile: Profile,
    src: &Path,
    build: &Path,
    folder: &Path,
) -> anyhow::Result<()> {
    if grafted {
        let patch = git(&[
            "diff",
            "--binary",
            &format!("{STEPPED_CLOCK}^"),
            STEPPED_CLOCK,
            "--",
            "host/src",
        ])?;
        run_with_input(
            Command::new("git").arg("apply").current_dir(src),
            format!("{patch}\n").as_bytes(),
        )
        .with_context(|| {
            format!(
                "{commit} predates the stepped clock and {STEPPED_CLOCK}'s host changes do not \
                 apply to it: choose a revision from {STEPPED_CLOCK} on, or one they apply to"
            )
        })?;
    }
    // A debug build as the release was shipped: arithmetic wraps instead of
    // panicking on overflow, as in the release build the data dir comes from.
    let mut args = match profile {
        Profile::Release => vec!["build", "--release"],
        Profile::Debug => vec!["build", "--config", "profile.dev.overflow-checks=false"],
    };
    args.extend(["-p", "plugin-host", "-p", "woocommerce-plugin"]);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "[bench] cargo {} (in a worktree of {commit}, target dir {})",
        args.join(" "),
        build.display()
    );
    let status = Command::new(&cargo)
        .args(&args)
        .current_dir(src)
        .env("CARGO_TARGET_DIR", build)
        .status()
        .with_context(|| format!("cannot run {}", cargo.display()))?;
    if !status.success() {
        bail!(
            "{commit} does not build (cargo {} failed: {status})",
            args.join(" ")
        );
    }
    std::fs::create_dir_all(folder)?;
    for name in ["plugin-host".to_owned(), binaries::plugin_file()] {
        let built = build.join(profile.folder()).join(&name);
        std::fs::copy(&built, folder.join(&name))
            .with_context(|| format!("{commit} built no {}", built.display()))?;
    }
    Ok(())
}

/// `git ARGS` in the workspace; its standard output, trimmed.
fn git(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(binaries::workspace_root())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Runs `command` with `input` on its standard input; fails unless it
/// succeeded, with what it said.
fn run_with_input(command: &mut Command, input: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().context("stdin")?.write_all(input)?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_revision_is_refused_by_name() {
        let err = format!("{:#}", resolve("no-such-revision").unwrap_err());
        assert!(
            err.starts_with("--upgrade-from no-such-revision: not a revision"),
            "{err}"
        );
    }

    #[test]
    fn the_stepped_clock_is_there_from_its_commit_on() {
        let commit = resolve(STEPPED_CLOCK).unwrap();
        assert!(has_stepped_clock(&commit).unwrap());
        let before = resolve(&format!("{STEPPED_CLOCK}^")).unwrap();
        assert!(!has_stepped_clock(&before).unwrap());
    }
}

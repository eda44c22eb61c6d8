//! The release binaries the benchmark drives: `plugin-host`, the
//! WooCommerce plugin library and `woo-sandbox`, built with the same cargo
//! and target dir as the benchmark itself (`CARGO_TARGET_DIR` honoured).
//! The soak may take the debug ones `cargo test` built instead (CI: no
//! release build just for a check of invariants).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The plugin library's file name (`woocommerce-plugin`'s cdylib).
pub fn plugin_file() -> String {
    format!(
        "{}intellitrack_woocommerce{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

const PACKAGES: [&str; 6] = [
    "-p",
    "plugin-host",
    "-p",
    "woocommerce-plugin",
    "-p",
    "woo-sandbox",
];

/// Copies of the binaries, taken once, so that a rebuild in the shared
/// target dir during a long run cannot swap a binary between two runs.
pub struct Binaries {
    _copies: tempfile::TempDir,
    pub target_dir: PathBuf,
    /// Where the binaries come from, for the printed header.
    pub provenance: String,
    pub host: PathBuf,
    pub plugin: PathBuf,
    pub sandbox: PathBuf,
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `CARGO_TARGET_DIR` (relative to the workspace root), else `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// Runs `cargo ARGS` in the workspace (the benchmarks' release builds),
/// saying so first.
pub fn cargo(args: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("[bench] cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("cannot run {}", cargo.display()))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Builds the release binaries (unless `build` is false) and checks they
/// are all there.
pub fn prepare(build: bool) -> anyhow::Result<Binaries> {
    prepare_profile(build, Profile::Release)
}

/// Which of cargo's builds the binaries come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Release,
    /// `target/debug`, as `cargo build`/`cargo test` leave it.
    Debug,
}

impl Profile {
    /// The folder of the target dir cargo builds this profile into.
    pub fn folder(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

/// [`prepare`] for either profile's binaries.
pub fn prepare_profile(build: bool, profile: Profile) -> anyhow::Result<Binaries> {
    let mut args = match profile {
        Profile::Release => vec!["build", "--release"],
        Profile::Debug => vec!["build"],
    };
    args.extend(PACKAGES);
    if build {
        cargo(&args)?;
    }
    let release = target_dir().join(profile.folder());
    let [host, plugin, sandbox] = [
        "plugin-host".to_owned(),
        plugin_file(),
        "woo-sandbox".to_owned(),
    ]
    .map(|name| release.join(name));
    for file in [&host, &plugin, &sandbox] {
        if !file.exists() {
            bail!(
                "{} is missing: build the release binaries first with `cargo {}` \
                 (or run the benchmark without --no-build)",
                file.display(),
                args.join(" ")
            );
        }
    }
    let provenance = if build {
        "built by this run from the work tree".to_owned()
    } else {
        let age = std::fs::metadata(release.join("plugin-host"))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .map_or_else(
                || "unknown".to_owned(),
                |d| format!("{} min", d.as_secs() / 60),
            );
        format!(
            "as found in {} (not rebuilt; plugin-host is {age} old)",
            release.display()
        )
    };
    Binaries::from_files(&host, &plugin, &sandbox, provenance)
}

impl Binaries {
    /// Copies of these three files, which `provenance` describes.
    pub fn from_files(
        host: &Path,
        plugin: &Path,
        sandbox: &Path,
        provenance: String,
    ) -> anyhow::Result<Self> {
        let copies = tempfile::Builder::new().prefix("bench-bin-").tempdir()?;
        let mut copied = Vec::new();
        for (file, name) in [
            (host, "plugin-host".to_owned()),
            (plugin, plugin_file()),
            (sandbox, "woo-sandbox".to_owned()),
        ] {
            let copy = copies.path().join(name);
            std::fs::copy(file, &copy).with_context(|| format!("copy {}", file.display()))?;
            copied.push(copy);
        }
        let [host, plugin, sandbox] = <[PathBuf; 3]>::try_from(copied).expect("three binaries");
        Ok(Binaries {
            _copies: copies,
            target_dir: target_dir(),
            provenance,
            host,
            plugin,
            sandbox,
        })
    }
}

//! The binaries the quick start drives: `plugin-host`, the WooCommerce
//! plugin library and `woo-sandbox`, built with the same cargo and target
//! dir as the quick start itself (`CARGO_TARGET_DIR` honoured).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The packages the quick start needs built.
const PACKAGES: [&str; 3] = ["plugin-host", "woocommerce-plugin", "woo-sandbox"];

/// Where the built binaries are.
pub struct Binaries {
    pub host: PathBuf,
    pub sandbox: PathBuf,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `CARGO_TARGET_DIR` (relative to the workspace root), else `target/`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// The plugin library's file name (`woocommerce-plugin`'s cdylib).
fn plugin_file() -> String {
    format!(
        "{}intellitrack_woocommerce{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// `cargo build [--release] -p plugin-host -p woocommerce-plugin -p
/// woo-sandbox`, as a line to show.
pub fn build_command(release: bool) -> Vec<String> {
    let mut args = vec!["build".to_owned()];
    if release {
        args.push("--release".to_owned());
    }
    for package in PACKAGES {
        args.extend(["-p".to_owned(), package.to_owned()]);
    }
    args
}

/// Builds the binaries (release or debug) and checks that they, and the
/// plugin library beside `plugin-host`, are there.
pub fn build(release: bool) -> anyhow::Result<Binaries> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let args = build_command(release);
    let status = Command::new(&cargo)
        .args(&args)
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("cannot run {}", cargo.display()))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    let dir = target_dir().join(if release { "release" } else { "debug" });
    let binaries = Binaries {
        host: dir.join("plugin-host"),
        sandbox: dir.join("woo-sandbox"),
    };
    for file in [&binaries.host, &binaries.sandbox, &dir.join(plugin_file())] {
        if !file.exists() {
            bail!("{} is missing after the build", file.display());
        }
    }
    Ok(binaries)
}

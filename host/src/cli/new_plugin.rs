//! `plugin-host new-plugin NAME`: writes a plugin crate to start from — a
//! manifest with one setting and one job, a test run by `plugin-test-kit`,
//! and a README on building, installing and testing it.
//!
//! [`render`] is the pure part (a name in, files out); [`write`] puts them
//! in a folder that must be new or empty, all or nothing.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use plugin_api::API_VERSION;

#[derive(clap::Args)]
pub struct NewPluginArgs {
    /// The plugin's crate name and id: lowercase letters, digits and `-`,
    /// starting with a letter (e.g. `shelf-count`).
    name: String,
    /// Where to write the crate [default: ./NAME].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// A checkout of the plugin host's sources: depend on its `plugin-api`
    /// and `plugin-test-kit` folders instead of the published crates (to
    /// build offline, or against unreleased changes).
    #[arg(long, env = "PLUGIN_HOST_API_PATH")]
    api_path: Option<PathBuf>,
}

/// Where the generated crate takes `plugin-api` and `plugin-test-kit` from.
pub enum ApiSource<'a> {
    /// crates.io, at this host's API version.
    Published,
    /// The folders of a checkout, with the same version requirement.
    Checkout(&'a Path),
}

/// The files of a new plugin crate, as (relative path, contents).
pub fn render(name: &str, source: &ApiSource<'_>) -> anyhow::Result<Vec<(&'static str, String)>> {
    check_name(name)?;
    let version = format!("{}.{}", API_VERSION.major, API_VERSION.minor);
    let dependency = |crate_dir: &str| match source {
        ApiSource::Published => format!("\"{version}\""),
        ApiSource::Checkout(root) => format!(
            "{{ path = {}, version = \"{version}\" }}",
            toml_string(&root.join(crate_dir).display().to_string())
        ),
    };
    let lib_name = name.replace('-', "_");
    let values = [
        ("{{name}}", name.to_string()),
        ("{{type_name}}", type_name(name)),
        ("{{title}}", title(name)),
        ("{{job}}", "count-in-stock".to_string()),
        ("{{api_version}}", version.clone()),
        (
            "{{library}}",
            format!(
                "{}{lib_name}{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ),
        ),
        ("{{plugin_api}}", dependency("plugin-api")),
        ("{{plugin_test_kit}}", dependency("plugin-test-kit")),
    ];
    let fill = |template: &str| {
        values
            .iter()
            .fold(template.to_string(), |text, (key, value)| {
                text.replace(key, value)
            })
    };
    Ok(vec![
        (
            "Cargo.toml",
            fill(include_str!("new_plugin/Cargo.toml.tmpl")),
        ),
        ("README.md", fill(include_str!("new_plugin/README.md.tmpl"))),
        ("src/lib.rs", fill(include_str!("new_plugin/lib.rs.tmpl"))),
        (
            "src/tests.rs",
            fill(include_str!("new_plugin/tests.rs.tmpl")),
        ),
        (".gitignore", "/target\n".to_string()),
    ])
}

/// Said after writing a crate that takes its dependencies from crates.io:
/// the test kit is not published (it builds on the host's own crates,
/// which are not either), so the crate's tests need a checkout.
pub const KIT_NOT_PUBLISHED: &str = "note: plugin-test-kit is not on crates.io yet (it builds on \
the host's unpublished crates), so `cargo test` in the new crate cannot fetch it: write the crate \
with --api-path PATH (a checkout of the plugin host's sources) to build and test it against that \
checkout, or remove the plugin-test-kit dev-dependency and src/tests.rs to build it from crates.io alone";

/// Writes the crate for `args`; returns the folder it went to and, when
/// its dependencies come from crates.io, [`KIT_NOT_PUBLISHED`].
pub fn run(args: NewPluginArgs) -> anyhow::Result<(PathBuf, Option<&'static str>)> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    let source = match &args.api_path {
        Some(root) => {
            let root = root
                .canonicalize()
                .with_context(|| format!("cannot find the checkout {}", root.display()))?;
            if !root.join("plugin-api/Cargo.toml").is_file() {
                bail!(
                    "{} is not a checkout of the plugin host (no plugin-api/Cargo.toml in it)",
                    root.display()
                );
            }
            Some(root)
        }
        None => None,
    };
    let source = match &source {
        Some(root) => ApiSource::Checkout(root),
        None => ApiSource::Published,
    };
    let files = render(&args.name, &source)?;
    write(&dir, &files)?;
    let note = matches!(source, ApiSource::Published).then_some(KIT_NOT_PUBLISHED);
    Ok((dir, note))
}

/// Writes `files` under `dir`, which must not exist or be empty; on a
/// failure half way, what was written is removed again.
fn write(dir: &Path, files: &[(&str, String)]) -> anyhow::Result<()> {
    let existed = dir.exists();
    if existed
        && std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty; give a new folder with --dir",
            dir.display()
        );
    }
    let written = files.iter().try_for_each(|(path, contents)| {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, contents)
    });
    if let Err(e) = written {
        if existed {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let _ = std::fs::remove_dir_all(entry.path())
                    .or_else(|_| std::fs::remove_file(entry.path()));
            }
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
        bail!("cannot write the plugin crate in {}: {e}", dir.display());
    }
    Ok(())
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let well_formed = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !well_formed {
        bail!(
            "{name:?} cannot be a plugin name: use lowercase letters, digits and '-', \
             starting with a letter (e.g. shelf-count)"
        );
    }
    Ok(())
}

/// `shelf-count` -> `ShelfCount`.
fn type_name(name: &str) -> String {
    name.split('-').map(capitalised).collect()
}

/// `shelf-count` -> `Shelf count`.
fn title(name: &str) -> String {
    capitalised(&name.replace('-', " "))
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_types_titles_and_a_library_file() {
        let files = render("shelf-count", &ApiSource::Published).unwrap();
        let file = |path: &str| &files.iter().find(|(p, _)| *p == path).unwrap().1;
        assert!(file("src/lib.rs").contains("pub struct ShelfCount;"));
        assert!(file("src/lib.rs").contains("export_plugin!(ShelfCount::default)"));
        assert!(file("README.md").starts_with("# Shelf count\n"));
        assert!(file("README.md").contains("libshelf_count.so"));
        let version = format!("\"{}.{}\"", API_VERSION.major, API_VERSION.minor);
        assert!(file("Cargo.toml").contains(&format!("plugin-api = {version}")));
        assert!(file("Cargo.toml").contains(&format!("plugin-test-kit = {version}")));
        assert!(files.iter().all(|(_, text)| !text.contains("{{")));
    }

    #[test]
    fn a_checkout_is_a_path_dependency_with_the_version() {
        let files = render("x1", &ApiSource::Checkout(Path::new("/src/host"))).unwrap();
        let expected = format!(
            "plugin-api = {{ path = \"/src/host/plugin-api\", version = \"{}.{}\" }}",
            API_VERSION.major, API_VERSION.minor
        );
        assert!(files[0].1.contains(&expected), "{}", files[0].1);
    }

    #[test]
    fn names_that_are_not_crate_names_are_refused() {
        for bad in [
            "",
            "Shelf",
            "1shelf",
            "shelf count",
            "shelf_count",
            "shelf-",
            "../x",
        ] {
            assert!(render(bad, &ApiSource::Published).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_folder_with_files_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep.txt"), "mine").unwrap();
        let files = render("shelf-count", &ApiSource::Published).unwrap();
        let err = write(dir.path(), &files).unwrap_err().to_string();
        assert!(
            err.ends_with("is not empty; give a new folder with --dir"),
            "{err}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 1);
    }
}

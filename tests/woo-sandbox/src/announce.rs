//! The line the `woo-sandbox` binary prints on stderr once it listens, and
//! reading it back in a program that started the binary: the format is
//! written and parsed here alone.

use std::io::{BufRead, BufReader};
use std::process::Child;

use anyhow::{Context, bail};

const LISTENING: &str = "woo-sandbox listening on ";

/// `woo-sandbox listening on URL (REST root HOME/wp-json/wc/v3)`.
pub fn line(url: &str, home_url: &str) -> String {
    format!("{LISTENING}{url} (REST root {home_url}/wp-json/wc/v3)")
}

/// Waits for a started `woo-sandbox` (its stderr piped) to announce where
/// it listens and returns that URL; its stderr is drained from then on, so
/// that it never blocks on a full pipe. A process that ends first is reaped
/// and what it printed is the error.
pub fn wait_for_url(child: &mut Child) -> anyhow::Result<String> {
    let stderr = child
        .stderr
        .take()
        .context("woo-sandbox's stderr is not piped")?;
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    let url = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "woo-sandbox ended before saying where it listens:\n{}",
                seen.join("\n")
            );
        };
        if let Some(url) = line
            .strip_prefix(LISTENING)
            .and_then(|rest| rest.split_whitespace().next())
        {
            break url.to_owned();
        }
        seen.push(line);
    };
    std::thread::spawn(move || lines.for_each(drop));
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use super::*;

    fn shell(script: &str) -> Child {
        Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    #[test]
    fn the_announced_url_is_read_back_past_other_lines() {
        let announced = line("http://127.0.0.1:4321", "http://shop.test");
        let mut child = shell(&format!(
            "echo 'certificate written' >&2; echo '{announced}' >&2"
        ));
        assert_eq!(wait_for_url(&mut child).unwrap(), "http://127.0.0.1:4321");
        child.wait().unwrap();
    }

    #[test]
    fn a_process_that_ends_without_announcing_is_an_error_with_its_output() {
        let mut child = shell("echo 'error: --products needs a number' >&2; exit 2");
        let error = wait_for_url(&mut child).unwrap_err().to_string();
        assert!(
            error.contains("ended before saying where it listens")
                && error.contains("--products needs a number"),
            "{error}"
        );
    }
}

//! The messages between the host and a plugin process, and their framing:
//! each message is a little-endian `u32` length and that many bytes of JSON.
//!
//! They carry the frozen frame's calls both ways: the host calls the
//! plugin (manifest, activate, run_job, deactivate, a named capability)
//! and the plugin calls a host service, each with an id its answer names.
//! A host handed to the plugin (at activation, for a job) is named by a
//! number; the plugin process says when it has dropped it. A probe of a
//! plugin file (`plugin-runner --probe FILE`) answers one [`ProbeAnswer`].

use std::io::{self, Read, Write};

use plugin_api::ApiVersion;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// The largest message either side accepts: an import batch of 100,000
/// items is far below it; anything above is a broken stream.
const MAX_MESSAGE: u32 = 1 << 30;

/// A call of the frozen plugin frame.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub enum PluginCall {
    Manifest,
    Activate { host: u64 },
    RunJob { job: String, host: u64 },
    Deactivate,
    Call { method: String, payload: String },
}

/// The answer to a call either way: JSON text, or an error message.
pub type Answer = Result<String, String>;

/// What the host sends a plugin process.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub enum ToPlugin {
    Call { id: u64, call: PluginCall },
    HostAnswer { id: u64, answer: Answer },
}

/// What a plugin process sends the host.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub enum FromPlugin {
    Answer {
        id: u64,
        answer: Answer,
    },
    HostCall {
        id: u64,
        host: u64,
        method: String,
        payload: String,
    },
    /// The plugin dropped the host it was given under this number.
    ReleaseHost {
        host: u64,
    },
}

/// What a probe found in a plugin file: the manifest its plugin answered
/// (JSON, read and checked by the host), or why the file is refused.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub enum ProbeAnswer {
    Plugin {
        manifest: String,
    },
    Refused {
        api_version: Option<ApiVersion>,
        reason: String,
    },
}

/// Writes one message and flushes it.
pub fn send<T: Serialize>(out: &mut impl Write, message: &T) -> io::Result<()> {
    let body = serde_json::to_vec(message)?;
    let len = u32::try_from(body.len())
        .ok()
        .filter(|n| *n <= MAX_MESSAGE)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "message too large"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&body)?;
    out.flush()
}

/// Reads one message; `None` when the stream ended cleanly between messages.
pub fn receive<T: DeserializeOwned>(input: &mut impl Read) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_MESSAGE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a message of {len} bytes"),
        ));
    }
    let mut body = vec![0u8; len as usize];
    input.read_exact(&mut body)?;
    Ok(Some(serde_json::from_slice(&body)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cross_in_order_and_the_end_is_clean() {
        let mut pipe = Vec::new();
        let first = ToPlugin::Call {
            id: 1,
            call: PluginCall::RunJob {
                job: "import".into(),
                host: 7,
            },
        };
        let second = ToPlugin::HostAnswer {
            id: 2,
            answer: Err("no \"such\" key\n".into()),
        };
        send(&mut pipe, &first).unwrap();
        send(&mut pipe, &second).unwrap();
        let mut input = pipe.as_slice();
        assert_eq!(receive::<ToPlugin>(&mut input).unwrap(), Some(first));
        assert_eq!(receive::<ToPlugin>(&mut input).unwrap(), Some(second));
        assert_eq!(receive::<ToPlugin>(&mut input).unwrap(), None);
    }

    #[test]
    fn a_cut_or_oversized_message_is_an_error() {
        let mut pipe = Vec::new();
        send(&mut pipe, &FromPlugin::ReleaseHost { host: 3 }).unwrap();
        let cut = &pipe[..pipe.len() - 1];
        assert!(receive::<FromPlugin>(&mut &cut[..]).is_err());
        let huge = (MAX_MESSAGE + 1).to_le_bytes();
        assert!(receive::<FromPlugin>(&mut &huge[..]).is_err());
    }
}

//! `plugin-host users ...` and `roles ...`: who may use the admin page and
//! run which plugin's jobs by hand; and `audit`: who changed what.
//!
//! Passwords are read from standard input (never from the command line,
//! where other users of the machine could see them), checked for strength
//! and stored as Argon2id hashes.

use std::io::BufRead;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use clap::Subcommand;
use intellitrack_db::{Access, Db};

use super::format_time;
use crate::service::admin;

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user with a role; the password is read from standard input.
    Add {
        name: String,
        #[arg(long)]
        role: String,
        /// Read the password from standard input (the only way to give it).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Change a user's password, read from standard input.
    Passwd {
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Every user with their roles.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a user.
    Remove { name: String },
}

#[derive(Subcommand)]
pub enum RolesCommand {
    /// Every role and the features it grants.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a role that grants nothing yet.
    Add {
        role: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Grant a feature: `integrate` (the admin page), a plugin's feature
    /// (activating it and running its jobs by hand, in every instance),
    /// `FEATURE@INSTANCE` (one instance alone, e.g.
    /// `intellitrack-for-woocommerce@woocommerce:shop-at`), or `*` (every
    /// plugin's); add `:read-only` to look only (it lets a role change and
    /// run nothing).
    Grant {
        role: String,
        #[arg(value_name = "FEATURE[@INSTANCE][:read-only]")]
        feature: String,
    },
    /// Take a feature away from a role.
    Revoke { role: String, feature: String },
}

pub fn users(db: &Db, command: UsersCommand, actor: &str, now_ms: i64) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add { name, role, .. } => {
            admin::add_user(db, &name, &role, &read_password()?, actor, now_ms)?;
            outln!("{name} added with role {role}");
        }
        UsersCommand::Passwd { name, .. } => {
            admin::change_password(db, &name, &read_password()?, actor, now_ms)?;
            outln!("{name}'s password changed");
        }
        UsersCommand::List { json } => {
            let users = db.users()?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&users)?);
            } else if users.is_empty() {
                outln!(
                    "no users yet: anyone on this machine may run jobs by hand; add the first admin with `plugin-host users add NAME --role admin --password-stdin`"
                );
            } else {
                for u in users {
                    outln!(
                        "{:<24} {:<8} roles: {}",
                        u.name,
                        if u.active { "active" } else { "inactive" },
                        u.roles.join(", ")
                    );
                }
            }
        }
        UsersCommand::Remove { name } => {
            admin::remove_user(db, &name, actor, now_ms)?;
            outln!("{name} removed");
        }
    }
    Ok(())
}

pub fn roles(db: &Db, command: RolesCommand, actor: &str, now_ms: i64) -> anyhow::Result<()> {
    match command {
        RolesCommand::List { json } => {
            let roles = db.roles()?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&roles)?);
                return Ok(());
            }
            for role in roles {
                let grants: Vec<String> = role
                    .features
                    .iter()
                    .map(|g| match g.access {
                        Access::Edit => g.feature.clone(),
                        Access::Read => format!("{}:read-only", g.feature),
                    })
                    .collect();
                outln!("{:<16} {}", role.name, grants.join(", "));
                if !role.description.is_empty() {
                    outln!("    {}", role.description);
                }
            }
        }
        RolesCommand::Add { role, description } => {
            db.add_role(&role, &description)?;
            db.audit(actor, "role added", &role, &description, now_ms)?;
            outln!(
                "role {role} added; grant it features with `plugin-host roles grant {role} FEATURE`"
            );
        }
        RolesCommand::Grant { role, feature } => {
            let (feature, access) = parse_grant(&feature)?;
            db.grant_feature(&role, feature, access)?;
            db.audit(
                actor,
                "feature granted",
                &role,
                &format!("{feature} ({})", access.as_str()),
                now_ms,
            )?;
            outln!("{role} now grants {feature} ({})", access.as_str());
        }
        RolesCommand::Revoke { role, feature } => {
            db.revoke_feature(&role, &feature)?;
            db.audit(actor, "feature revoked", &role, &feature, now_ms)?;
            outln!("{role} no longer grants {feature}");
        }
    }
    Ok(())
}

/// `plugin-host audit`: the newest changes first.
pub fn audit(db: &Db, limit: u32, json: bool) -> anyhow::Result<()> {
    let rows = db.audit_log(limit)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        outln!("nothing recorded yet");
    }
    for row in rows {
        outln!(
            "{}  {:<20} {:<20} {}{}",
            format_time(row.at_ms),
            row.user,
            row.action,
            row.target,
            if row.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", row.detail)
            }
        );
    }
    Ok(())
}

/// A grant as `roles grant` takes it: `FEATURE[@INSTANCE][:read-only]`.
/// An instance id may hold a `:` (`woocommerce:shop-at`); a feature may not.
fn parse_grant(raw: &str) -> anyhow::Result<(&str, Access)> {
    let (grant, access) = match raw.strip_suffix(":read-only") {
        Some(grant) => (grant, Access::Read),
        None => (raw, Access::Edit),
    };
    let feature = grant.split_once('@').map_or(grant, |(feature, _)| feature);
    if let Some((_, other)) = feature.rsplit_once(':') {
        anyhow::bail!(
            "{other:?} is not an access; write FEATURE[@INSTANCE] or FEATURE[@INSTANCE]:read-only"
        );
    }
    Ok((grant, access))
}

/// The first line of standard input.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Why a password is too weak, if it is.
pub fn weakness(user: &str, password: &str) -> Option<&'static str> {
    let distinct = password
        .chars()
        .collect::<std::collections::HashSet<_>>()
        .len();
    if password.is_empty() {
        Some("the password is empty")
    } else if password.chars().count() < 12 {
        Some("the password is shorter than 12 characters")
    } else if distinct < 5 {
        Some("the password repeats too few different characters")
    } else if password.to_lowercase().contains(&user.to_lowercase()) {
        Some("the password contains the user name")
    } else if password.chars().any(char::is_control) {
        Some("the password holds a control character (the login form takes one line)")
    } else {
        None
    }
}

/// An Argon2id hash of an acceptable password (refused with the reason).
pub fn hash_password(user: &str, password: &str) -> anyhow::Result<String> {
    if let Some(why) = weakness(user, password) {
        anyhow::bail!("{why}; nothing was changed");
    }
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?
        .to_string())
}

/// Whether `password` is the one an Argon2 `hash` (a PHC string) was made
/// from, as argon2's own verification decides it, but computed in `memory`:
/// grown to the hash's memory cost once and reused by every later check, so
/// that a check allocates nothing (argon2's verification allocates its
/// ~19 MiB anew each time, and the allocator may keep each copy).
pub fn password_matches(memory: &mut Vec<Block>, hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    // Output's equality is constant-time.
    parsed.hash.is_some_and(|expected| {
        argon2_output(memory, &parsed, password, expected.len()) == Some(expected)
    })
}

/// The Argon2 output of `password` with `hash`'s algorithm, version,
/// parameters and salt, `len` bytes long, computed in `memory`.
fn argon2_output(
    memory: &mut Vec<Block>,
    hash: &PasswordHash<'_>,
    password: &str,
    len: usize,
) -> Option<Output> {
    let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
    let version = match hash.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(hash).ok()?;
    let mut salt_bytes = [0u8; 64];
    let salt = hash.salt?.decode_b64(&mut salt_bytes).ok()?;
    memory.resize(params.block_count(), Block::default());
    let argon2 = Argon2::new(algorithm, version, params);
    Output::init_with(len, |out| {
        Ok(argon2.hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            out,
            &mut memory[..],
        )?)
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        assert_eq!(weakness("ann", ""), Some("the password is empty"));
        assert_eq!(
            weakness("ann", "short1"),
            Some("the password is shorter than 12 characters")
        );
        assert_eq!(
            weakness("ann", "aaaaaaaaaaaaaa"),
            Some("the password repeats too few different characters")
        );
        assert_eq!(
            weakness("annabel", "xx-Annabel-2026"),
            Some("the password contains the user name")
        );
        assert_eq!(
            weakness("ann", "correct\thorse battery"),
            Some("the password holds a control character (the login form takes one line)")
        );
        assert_eq!(weakness("ann", "correct horse battery"), None);
    }

    #[test]
    fn grants_name_a_feature_or_one_instance_and_an_access() {
        assert_eq!(
            parse_grant("integrate").unwrap(),
            ("integrate", Access::Edit)
        );
        assert_eq!(
            parse_grant("integrate:read-only").unwrap(),
            ("integrate", Access::Read)
        );
        assert_eq!(
            parse_grant("woo@woocommerce:shop-at").unwrap(),
            ("woo@woocommerce:shop-at", Access::Edit)
        );
        assert_eq!(
            parse_grant("woo@woocommerce:shop-at:read-only").unwrap(),
            ("woo@woocommerce:shop-at", Access::Read)
        );
        assert_eq!(
            parse_grant("woo@woocommerce").unwrap(),
            ("woo@woocommerce", Access::Edit)
        );
        let refused = parse_grant("integrate:write").unwrap_err().to_string();
        assert!(refused.contains("\"write\" is not an access"), "{refused}");
    }

    #[test]
    fn hashes_verify_only_their_password_in_memory_reused_from_check_to_check() {
        use argon2::password_hash::PasswordVerifier;

        let hash = hash_password("ann", "correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let mut memory = Vec::new();
        for (password, right) in [
            ("correct horse battery", true),
            ("correct horse batterY", false),
            ("", false),
            ("correct horse battery", true),
        ] {
            assert_eq!(
                password_matches(&mut memory, &hash, password),
                right,
                "{password:?}"
            );
            let parsed = PasswordHash::new(&hash).unwrap();
            let argon2_says = Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            assert_eq!(argon2_says, right, "argon2's own check of {password:?}");
        }
        assert_eq!(memory.len(), Params::default().block_count());
        let capacity = memory.capacity();
        password_matches(&mut memory, &hash, "again");
        assert_eq!(memory.capacity(), capacity, "no new allocation");
        assert!(!password_matches(&mut memory, "not a hash", "x"));
        assert!(!password_matches(
            &mut memory,
            "$argon2id$v=19$m=8,t=1,p=1",
            "x"
        ));
        assert!(hash_password("ann", "short").is_err());
    }
}

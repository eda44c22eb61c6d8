//! Users, roles and the features a role grants (with edit or read-only
//! access): who may open the host's admin and run which plugin's jobs; and
//! the audit log of who changed what.
//!
//! Passwords arrive hashed (the host hashes them); this crate never sees one
//! in the clear. The feature `*` stands for every plugin's feature.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{Db, Result, refuse};

/// How far a feature is granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    Read,
    Edit,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Edit => "edit",
        }
    }
}

/// One feature a role grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeatureGrant {
    pub feature: String,
    pub access: Access,
}

/// The feature that stands for every plugin's feature.
pub const EVERY_PLUGIN: &str = "*";
/// The feature that opens the host's admin.
pub const INTEGRATE: &str = "integrate";

/// A user as the admin sees one (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserRow {
    pub name: String,
    pub display_name: String,
    pub active: bool,
    pub roles: Vec<String>,
    pub has_password: bool,
}

/// A role and what it grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleRow {
    pub name: String,
    pub description: String,
    pub features: Vec<FeatureGrant>,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub at_ms: i64,
    pub user: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

impl Db {
    /// Adds a user with one role and a (hashed) password.
    pub fn add_user(&self, name: &str, role: &str, password_hash: &str, now_ms: i64) -> Result<()> {
        let name = name.trim();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        if !valid {
            return refuse(format!(
                "user name {name:?}: use letters, digits and . _ - @ (at most 64)"
            ));
        }
        self.write(|tx| {
            if !exists(tx, "roles", role)? {
                return refuse(format!(
                    "unknown role {role:?}; see `plugin-host roles list`"
                ));
            }
            let added = tx.execute(
                "INSERT OR IGNORE INTO users (name, display_name, password_hash, created_at)
                 VALUES (?1, ?1, ?2, ?3)",
                params![name, password_hash, now_ms],
            )?;
            if added == 0 {
                return refuse(format!("user {name:?} exists already"));
            }
            tx.execute(
                "INSERT INTO user_roles (user, role) VALUES (?1, ?2)",
                [name, role],
            )?;
            Ok(())
        })
    }

    /// Replaces a user's (hashed) password.
    pub fn set_password(&self, name: &str, password_hash: &str) -> Result<()> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE name = ?1",
                params![name, password_hash],
            )?;
            if changed == 0 {
                return refuse(format!("unknown user {name:?}"));
            }
            Ok(())
        })
    }

    /// A user's password hash, if the user exists, is active and has one.
    pub fn password_hash(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT password_hash FROM users WHERE name = ?1 AND active = 1",
                [name],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    pub fn remove_user(&self, name: &str) -> Result<()> {
        self.write(|tx| {
            if tx.execute("DELETE FROM users WHERE name = ?1", [name])? == 0 {
                return refuse(format!("unknown user {name:?}"));
            }
            Ok(())
        })
    }

    pub fn users(&self) -> Result<Vec<UserRow>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT u.name, u.display_name, u.active, u.password_hash IS NOT NULL,
                        COALESCE((SELECT group_concat(role, ',') FROM
                                    (SELECT role FROM user_roles WHERE user = u.name ORDER BY role)), '')
                 FROM users u ORDER BY u.name",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    let roles: String = r.get(4)?;
                    Ok(UserRow {
                        name: r.get(0)?,
                        display_name: r.get(1)?,
                        active: r.get(2)?,
                        has_password: r.get(3)?,
                        roles: roles
                            .split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    pub fn roles(&self) -> Result<Vec<RoleRow>> {
        self.read(|tx| {
            let mut stmt =
                tx.prepare_cached("SELECT name, description FROM roles ORDER BY name")?;
            let roles: Vec<(String, String)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut grants = tx.prepare_cached(
                "SELECT feature, access FROM role_features WHERE role = ?1 ORDER BY feature",
            )?;
            roles
                .into_iter()
                .map(|(name, description)| {
                    let features = grants
                        .query_map([&name], grant_row)?
                        .collect::<Result<_, _>>()?;
                    Ok(RoleRow {
                        name,
                        description,
                        features,
                    })
                })
                .collect()
        })
    }

    /// Adds a role that grants nothing yet.
    pub fn add_role(&self, name: &str, description: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return refuse(format!("role name {name:?}: one word, e.g. shipping-clerk"));
        }
        self.write(|tx| {
            let added = tx.execute(
                "INSERT OR IGNORE INTO roles (name, description) VALUES (?1, ?2)",
                [name, description],
            )?;
            if added == 0 {
                return refuse(format!("role {name:?} exists already"));
            }
            Ok(())
        })
    }

    /// Grants a feature to a role (again: the access given now).
    pub fn grant_feature(&self, role: &str, feature: &str, access: Access) -> Result<()> {
        if feature.trim().is_empty() {
            return refuse("name the feature to grant");
        }
        self.write(|tx| {
            if !exists(tx, "roles", role)? {
                return refuse(format!("unknown role {role:?}"));
            }
            tx.execute(
                "INSERT INTO role_features (role, feature, access) VALUES (?1, ?2, ?3)
                 ON CONFLICT (role, feature) DO UPDATE SET access = ?3",
                params![role, feature.trim(), access.as_str()],
            )?;
            Ok(())
        })
    }

    pub fn revoke_feature(&self, role: &str, feature: &str) -> Result<()> {
        self.write(|tx| {
            let removed = tx.execute(
                "DELETE FROM role_features WHERE role = ?1 AND feature = ?2",
                [role, feature],
            )?;
            if removed == 0 {
                return refuse(format!("role {role:?} does not grant {feature:?}"));
            }
            Ok(())
        })
    }

    /// Records who did what (an activation, a settings change, ...).
    pub fn audit(
        &self,
        user: &str,
        action: &str,
        target: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO audit_log (at, user, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![now_ms, user, action, target, detail])?;
            Ok(())
        })
    }

    /// The newest `limit` audit lines, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditRow>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT at, user, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt
                .query_map([limit], |r| {
                    Ok(AuditRow {
                        at_ms: r.get(0)?,
                        user: r.get(1)?,
                        action: r.get(2)?,
                        target: r.get(3)?,
                        detail: r.get(4)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// Creates a user, or renames an existing one.
    pub fn put_user(&self, name: &str, display_name: &str, now_ms: i64) -> Result<()> {
        if name.trim().is_empty() {
            return refuse("a user needs a name");
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO users (name, display_name, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET display_name = ?2",
                params![name.trim(), display_name, now_ms],
            )?;
            Ok(())
        })
    }

    /// Creates or replaces a role and the features it grants.
    pub fn put_role(&self, name: &str, description: &str, features: &[FeatureGrant]) -> Result<()> {
        if name.trim().is_empty() {
            return refuse("a role needs a name");
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO roles (name, description) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET description = ?2",
                params![name, description],
            )?;
            tx.execute("DELETE FROM role_features WHERE role = ?1", [name])?;
            for grant in features {
                tx.execute(
                    // 'edit' sorts before 'read': MIN keeps the wider access.
                    "INSERT INTO role_features (role, feature, access) VALUES (?1, ?2, ?3)
                     ON CONFLICT (role, feature) DO UPDATE SET access = MIN(access, ?3)",
                    params![name, grant.feature, grant.access.as_str()],
                )?;
            }
            Ok(())
        })
    }

    /// Gives a user a role; both must exist.
    pub fn grant_role(&self, user: &str, role: &str) -> Result<()> {
        self.write(|tx| {
            if !exists(tx, "users", user)? {
                return refuse(format!("unknown user {user:?}"));
            }
            if !exists(tx, "roles", role)? {
                return refuse(format!("unknown role {role:?}"));
            }
            tx.execute(
                "INSERT OR IGNORE INTO user_roles (user, role) VALUES (?1, ?2)",
                [user, role],
            )?;
            Ok(())
        })
    }

    /// The features a user's roles grant, each at the widest access given.
    /// An inactive or unknown user has none.
    /// Whether any user is defined. A fresh database has none, and then the
    /// host does not check features (the admin sets up users first).
    pub fn has_users(&self) -> Result<bool> {
        Ok(self
            .conn()
            .query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |r| r.get(0))?)
    }

    pub fn user_features(&self, user: &str) -> Result<Vec<FeatureGrant>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            // 'edit' sorts before 'read': MIN keeps the wider access.
            "SELECT f.feature, MIN(f.access) FROM users u
             JOIN user_roles ur ON ur.user = u.name
             JOIN role_features f ON f.role = ur.role
             WHERE u.name = ?1 AND u.active = 1
             GROUP BY f.feature ORDER BY f.feature",
        )?;
        let rows = stmt.query_map([user], grant_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn grant_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeatureGrant> {
    let access: String = r.get(1)?;
    Ok(FeatureGrant {
        feature: r.get(0)?,
        access: if access == "edit" {
            Access::Edit
        } else {
            Access::Read
        },
    })
}

fn exists(tx: &rusqlite::Connection, table: &str, name: &str) -> Result<bool> {
    Ok(tx.query_row(
        &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE name = ?1)"),
        [name],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::db;

    #[test]
    fn features_are_the_widest_grant_of_the_users_roles() {
        let (_d, db) = db();
        db.put_user("ann", "Ann", 1).unwrap();
        let grant = |feature: &str, access| FeatureGrant {
            feature: feature.into(),
            access,
        };
        db.put_role("viewer", "", &[grant("integrate", Access::Read)])
            .unwrap();
        db.put_role(
            "admin",
            "",
            &[grant("integrate", Access::Edit), grant("woo", Access::Edit)],
        )
        .unwrap();
        db.grant_role("ann", "viewer").unwrap();
        assert_eq!(
            db.user_features("ann").unwrap(),
            [grant("integrate", Access::Read)]
        );
        db.grant_role("ann", "admin").unwrap();
        assert_eq!(
            db.user_features("ann").unwrap(),
            [grant("integrate", Access::Edit), grant("woo", Access::Edit)]
        );
        let err = db.grant_role("bob", "admin").unwrap_err().to_string();
        assert_eq!(err, "unknown user \"bob\"");
        assert!(db.user_features("bob").unwrap().is_empty());
    }
}

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

    /// Removes a user, unless they are the last admin.
    pub fn remove_user(&self, name: &str) -> Result<()> {
        self.write(|tx| {
            keeps_an_admin(tx, name, None)?;
            if tx.execute("DELETE FROM users WHERE name = ?1", [name])? == 0 {
                return refuse(format!("unknown user {name:?}"));
            }
            Ok(())
        })
    }

    /// Gives a user `role` in place of all their roles, unless that would
    /// leave no admin.
    pub fn set_user_role(&self, name: &str, role: &str) -> Result<()> {
        self.write(|tx| {
            if !exists(tx, "users", name)? {
                return refuse(format!("unknown user {name:?}"));
            }
            if !exists(tx, "roles", role)? {
                return refuse(format!(
                    "unknown role {role:?}; see `plugin-host roles list`"
                ));
            }
            keeps_an_admin(tx, name, Some(role))?;
            tx.execute("DELETE FROM user_roles WHERE user = ?1", [name])?;
            tx.execute(
                "INSERT INTO user_roles (user, role) VALUES (?1, ?2)",
                [name, role],
            )?;
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
        self.audit_lines(&AuditFilter::default(), 0, limit)
    }

    /// The audit lines `filter` lets through, newest first: `limit` of
    /// them after skipping `offset`.
    pub fn audit_lines(
        &self,
        filter: &AuditFilter,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<AuditRow>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT at, user, action, target, detail FROM audit_log
                 WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR action = ?2)
                   AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4)
                 ORDER BY id DESC LIMIT ?5 OFFSET ?6",
            )?;
            let rows = stmt
                .query_map(
                    params![
                        filter.user,
                        filter.action,
                        filter.from_ms,
                        filter.until_ms,
                        limit,
                        offset
                    ],
                    |r| {
                        Ok(AuditRow {
                            at_ms: r.get(0)?,
                            user: r.get(1)?,
                            action: r.get(2)?,
                            target: r.get(3)?,
                            detail: r.get(4)?,
                        })
                    },
                )?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// The different users and actions the audit log names, each sorted,
    /// for a filter to choose from.
    pub fn audit_names(&self) -> Result<(Vec<String>, Vec<String>)> {
        self.read(|tx| {
            let names = |column: &str| -> Result<Vec<String>> {
                let mut stmt = tx.prepare(&format!(
                    "SELECT DISTINCT {column} FROM audit_log ORDER BY {column}"
                ))?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            };
            Ok((names("user")?, names("action")?))
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

/// Which audit lines to show; `None` lets every value through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub user: Option<String>,
    pub action: Option<String>,
    /// From this instant on.
    pub from_ms: Option<i64>,
    /// Before this instant.
    pub until_ms: Option<i64>,
}

/// Refuses a change that would leave no active user whose roles grant
/// `integrate` with edit access (an admin): removing `user`, or (with
/// `new_role`) giving them only that role.
fn keeps_an_admin(tx: &rusqlite::Connection, user: &str, new_role: Option<&str>) -> Result<()> {
    let admin_role = "EXISTS (SELECT 1 FROM role_features f WHERE f.role = ur.role
                      AND f.feature = 'integrate' AND f.access = 'edit')";
    let others: bool = tx.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM users u JOIN user_roles ur ON ur.user = u.name
             WHERE u.name <> ?1 AND u.active = 1 AND {admin_role})"
        ),
        [user],
        |r| r.get(0),
    )?;
    let is_admin: bool = tx.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM users u JOIN user_roles ur ON ur.user = u.name
             WHERE u.name = ?1 AND u.active = 1 AND {admin_role})"
        ),
        [user],
        |r| r.get(0),
    )?;
    let stays_admin = match new_role {
        Some(role) => tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM role_features
             WHERE role = ?1 AND feature = 'integrate' AND access = 'edit')",
            [role],
            |r| r.get(0),
        )?,
        None => false,
    };
    if is_admin && !others && !stays_admin {
        return refuse(format!(
            "{user:?} is the last admin (the only user whose roles grant integrate with edit access); add another admin first"
        ));
    }
    Ok(())
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

    #[test]
    fn the_last_admin_is_neither_removed_nor_demoted() {
        let (_d, db) = db();
        db.add_user("ann", "admin", "h1", 1).unwrap();
        db.add_user("rita", "read-only", "h2", 1).unwrap();
        for refused in [
            db.remove_user("ann").unwrap_err(),
            db.set_user_role("ann", "read-only").unwrap_err(),
        ] {
            assert!(refused.to_string().contains("the last admin"), "{refused}");
        }
        db.set_user_role("ann", "admin").unwrap();
        db.set_user_role("rita", "admin").unwrap();
        db.set_user_role("ann", "read-only").unwrap();
        assert_eq!(db.users().unwrap()[0].roles, ["read-only"]);
        assert!(
            db.remove_user("rita")
                .unwrap_err()
                .to_string()
                .contains("the last admin")
        );
        db.remove_user("ann").unwrap();
        assert!(db.set_user_role("bob", "admin").is_err());
        assert!(db.set_user_role("rita", "nobody").is_err());
    }

    #[test]
    fn the_audit_log_is_filtered_and_paged_newest_first() {
        let (_d, db) = db();
        for (at, user, action) in [
            (10, "cli:root", "user added"),
            (20, "web:ann", "activated"),
            (30, "web:ann", "deactivated"),
            (40, "web:bob", "activated"),
        ] {
            db.audit(user, action, "woo", "", at).unwrap();
        }
        let at = |rows: Vec<AuditRow>| rows.iter().map(|r| r.at_ms).collect::<Vec<_>>();
        let all = AuditFilter::default();
        assert_eq!(at(db.audit_lines(&all, 0, 10).unwrap()), [40, 30, 20, 10]);
        assert_eq!(at(db.audit_lines(&all, 1, 2).unwrap()), [30, 20]);
        let ann = AuditFilter {
            user: Some("web:ann".into()),
            ..all.clone()
        };
        assert_eq!(at(db.audit_lines(&ann, 0, 10).unwrap()), [30, 20]);
        let activated = AuditFilter {
            action: Some("activated".into()),
            from_ms: Some(20),
            until_ms: Some(40),
            ..all
        };
        assert_eq!(at(db.audit_lines(&activated, 0, 10).unwrap()), [20]);
        let (users, actions) = db.audit_names().unwrap();
        assert_eq!(users, ["cli:root", "web:ann", "web:bob"]);
        assert_eq!(actions, ["activated", "deactivated", "user added"]);
    }
}

//! Users, roles and the features a role grants (with edit or read-only
//! access): who may open the host's admin and run which plugin's jobs.

use rusqlite::params;
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

impl Db {
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
            let known = |table: &str, name: &str| -> Result<bool> {
                Ok(tx.query_row(
                    &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE name = ?1)"),
                    [name],
                    |r| r.get(0),
                )?)
            };
            if !known("users", user)? {
                return refuse(format!("unknown user {user:?}"));
            }
            if !known("roles", role)? {
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
        let rows = stmt.query_map([user], |r| {
            let access: String = r.get(1)?;
            Ok(FeatureGrant {
                feature: r.get(0)?,
                access: if access == "edit" {
                    Access::Edit
                } else {
                    Access::Read
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
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

//! Enums stored as text: one macro gives each variant its stored string
//! and the conversions to and from the store (and rusqlite), serde (as the stored string)
//! and `Display`, so the strings of existing databases live in one place.

/// A stored text that is not one of the known values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unbekannter Wert „{value}“ für {what}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

/// `stored_enum! { /// doc  pub enum Name ("what it is") { Variant = "stored", ... } }`
macro_rules! stored_enum {
    ($(#[$meta:meta])* pub enum $name:ident ($what:literal) {
        $($(#[$vmeta:meta])* $variant:ident = $stored:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The value in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $stored,)*
                }
            }

            /// The variant stored as `s`.
            pub fn parse(s: &str) -> Result<$name, $crate::stored::UnknownValue> {
                match s {
                    $($stored => Ok($name::$variant),)*
                    _ => Err($crate::stored::UnknownValue {
                        what: $what,
                        value: s.to_string(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::stored::UnknownValue;
            fn from_str(s: &str) -> Result<$name, Self::Err> {
                $name::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl $crate::store::ToValue for $name {
            fn to_value(&self) -> $crate::store::Value {
                $crate::store::Value::Text(self.as_str().to_string())
            }
        }

        impl $crate::store::FromValue for $name {
            fn from_value(v: $crate::store::Value) -> Result<$name, String> {
                let text = <String as $crate::store::FromValue>::from_value(v)?;
                $name::parse(&text).map_err(|e| e.to_string())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                v: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<$name> {
                $name::parse(v.as_str()?)
                    .map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
            }
        }
    };
}

pub(crate) use stored_enum;

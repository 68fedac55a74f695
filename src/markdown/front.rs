//! The YAML front matter, read and written as a kind's field table places its fields. Reading
//! goes through serde with a seed that knows each key's shape, so that every scalar is read as
//! the text it is written as (`16.10` stays `16.10`, a date stays a date's text) and serde's
//! own messages (`missing field`, `unknown field`, with their line) name what is wrong.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_norway::{Mapping, Value as Yaml};

use crate::fields::{Access, Column, Described, Field, Markdown, Value};

/// What the front matter held: the slug and each field's value, as written.
pub(super) struct FrontMatter<T: 'static> {
    pub slug: String,
    pub values: Vec<(&'static Field<T>, Value)>,
}

/// An unknown key, in the words serde uses for one.
fn unknown_field<E: de::Error>(key: &str, expected: &[&str]) -> E {
    let quoted: Vec<String> = expected.iter().map(|name| format!("`{name}`")).collect();
    let expected = match quoted.as_slice() {
        [] => "there are no fields".to_owned(),
        [one] => format!("expected {one}"),
        [first, second] => format!("expected {first} or {second}"),
        all => format!("expected one of {}", all.join(", ")),
    };
    E::custom(format_args!("unknown field `{key}`, {expected}"))
}

/// A key, read and checked against the keys allowed: an unknown one is refused while it is
/// read, so that the error names its line. The value is the key's place in the list.
struct KeySeed<'a>(&'a [&'static str]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = usize;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        self.0.iter().position(|known| *known == key).ok_or_else(|| unknown_field(key, self.0))
    }
}

/// What a top-level key of the front matter holds.
enum Entry<T: 'static> {
    Slug,
    /// The record's kind, which [`super::kind_of`] read before: `practice` when absent.
    Kind,
    Field(&'static Field<T>),
    /// A map of fields (`resources`), read by [`MapSeed`].
    Map(&'static str),
}

/// The keys a front matter may have, in order, with what each holds.
fn front_keys<T: Described>() -> Vec<(&'static str, Entry<T>)> {
    let mut keys = vec![("slug", Entry::Slug), ("kind", Entry::Kind)];
    for field in T::FIELDS {
        let entry = match field.markdown {
            Markdown::Front { key, .. } => (key, Entry::Field(field)),
            Markdown::FrontIn { map, .. } => (map, Entry::Map(map)),
            _ => continue,
        };
        if !keys.iter().any(|(key, _)| *key == entry.0) {
            keys.push(entry);
        }
    }
    keys
}

/// Reads the front matter (the YAML between the `---` lines).
pub(super) fn read<T: Described>(yaml: &str) -> Result<FrontMatter<T>, serde_norway::Error> {
    FrontSeed::<T>(PhantomData).deserialize(serde_norway::Deserializer::from_str(yaml))
}

struct FrontSeed<T>(PhantomData<T>);

impl<'de, T: Described> DeserializeSeed<'de> for FrontSeed<T> {
    type Value = FrontMatter<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Described> Visitor<'de> for FrontSeed<T> {
    type Value = FrontMatter<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("front matter: a map of fields such as slug and title")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slug = None;
        let mut values = Vec::new();
        let mut seen: Vec<&'static str> = Vec::new();
        let entries = front_keys::<T>();
        let keys: Vec<&'static str> = entries.iter().map(|(key, _)| *key).collect();
        while let Some(index) = map.next_key_seed(KeySeed(&keys))? {
            let (key, entry) = &entries[index];
            if seen.contains(key) {
                return Err(A::Error::duplicate_field(key));
            }
            seen.push(key);
            match entry {
                Entry::Slug => slug = Some(map.next_value::<String>()?),
                Entry::Kind => {
                    let kind = map.next_value::<String>()?;
                    if kind != T::KIND.as_str() {
                        return Err(A::Error::custom(format!("kind {kind:?} is not {}", T::KIND)));
                    }
                }
                Entry::Field(field) => values.push((*field, map.next_value_seed(ValueSeed(*field))?)),
                Entry::Map(name) => values.extend(map.next_value_seed(MapSeed::<T> { map: name, _kind: PhantomData })?),
            }
        }
        let slug = slug.ok_or_else(|| A::Error::missing_field("slug"))?;
        for field in T::FIELDS {
            if let Markdown::Front { key, required: true } = field.markdown
                && !seen.contains(&key)
            {
                return Err(A::Error::missing_field(key));
            }
        }
        Ok(FrontMatter { slug, values })
    }
}

/// One field's value, read as its shape says: a text, a list of texts or rows.
struct ValueSeed<T: 'static>(&'static Field<T>);

impl<'de, T> DeserializeSeed<'de> for ValueSeed<T> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match &self.0.access {
            Access::Text { .. } => Ok(Value::Text(serde::Deserialize::deserialize(deserializer)?)),
            Access::List { .. } => Ok(Value::List(serde::Deserialize::deserialize(deserializer)?)),
            Access::Rows { columns, .. } => deserializer.deserialize_seq(RowsSeed(columns)).map(Value::Rows),
        }
    }
}

/// A map of fields in the front matter (`resources: {budget: ...}`).
struct MapSeed<T> {
    map: &'static str,
    _kind: PhantomData<T>,
}

impl<'de, T: Described> DeserializeSeed<'de> for MapSeed<T> {
    type Value = Vec<(&'static Field<T>, Value)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Described> Visitor<'de> for MapSeed<T> {
    type Value = Vec<(&'static Field<T>, Value)>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "a map of the fields of {}", self.map)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let fields: Vec<(&'static str, &'static Field<T>)> = T::FIELDS
            .iter()
            .filter_map(|field| match field.markdown {
                Markdown::FrontIn { map, key } if map == self.map => Some((key, field)),
                _ => None,
            })
            .collect();
        let keys: Vec<&'static str> = fields.iter().map(|(key, _)| *key).collect();
        let mut values = Vec::new();
        let mut seen: Vec<&'static str> = Vec::new();
        while let Some(index) = map.next_key_seed(KeySeed(&keys))? {
            let (key, field) = fields[index];
            if seen.contains(&key) {
                return Err(A::Error::duplicate_field(key));
            }
            seen.push(key);
            values.push((field, map.next_value_seed(ValueSeed(field))?));
        }
        Ok(values)
    }
}

/// Rows: a list of maps, one key per column.
struct RowsSeed(&'static [Column]);

impl<'de> Visitor<'de> for RowsSeed {
    type Value = Vec<Vec<String>>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a sequence of maps")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::new();
        while let Some(row) = seq.next_element_seed(RowSeed(self.0))? {
            rows.push(row);
        }
        Ok(rows)
    }
}

struct RowSeed(&'static [Column]);

impl<'de> DeserializeSeed<'de> for RowSeed {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed {
    type Value = Vec<String>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|column| column.name).collect();
        write!(formatter, "a map of {}", names.join(", "))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut cells: Vec<Option<String>> = vec![None; self.0.len()];
        let names: Vec<&'static str> = self.0.iter().map(|column| column.name).collect();
        while let Some(index) = map.next_key_seed(KeySeed(&names))? {
            if cells[index].is_some() {
                return Err(A::Error::duplicate_field(self.0[index].name));
            }
            cells[index] = Some(map.next_value()?);
        }
        self.0
            .iter()
            .zip(cells)
            .map(|(column, cell)| match cell {
                Some(text) => Ok(text),
                None if column.required => Err(A::Error::missing_field(column.name)),
                None => Ok(String::new()),
            })
            .collect()
    }
}

/// Writes the front matter of `slug` and `body` (without the `---` lines).
pub(super) fn write<T: Described>(slug: &str, body: &T) -> String {
    let mut front = Mapping::new();
    front.insert("slug".into(), slug.into());
    if T::KIND != crate::record::Kind::Practice {
        front.insert("kind".into(), T::KIND.as_str().into());
    }
    for field in T::FIELDS {
        match field.markdown {
            Markdown::Front { key, required } => {
                let value = field.get(body);
                if required || !value.is_empty() {
                    front.insert(key.into(), yaml(&value, field.columns()));
                }
            }
            Markdown::FrontIn { map, key } => {
                let value = field.get(body);
                if value.is_empty() {
                    continue;
                }
                let entry = front.entry(map.into()).or_insert_with(|| Yaml::Mapping(Mapping::new()));
                if let Yaml::Mapping(entries) = entry {
                    entries.insert(key.into(), yaml(&value, &[]));
                }
            }
            Markdown::None | Markdown::Section(_) => {}
        }
    }
    // Writing a map of plain texts cannot fail.
    serde_norway::to_string(&front).unwrap_or_default()
}

fn yaml(value: &Value, columns: &[Column]) -> Yaml {
    match value {
        Value::Text(text) => text.as_str().into(),
        Value::List(items) => Yaml::Sequence(items.iter().map(|item| item.as_str().into()).collect()),
        Value::Rows(rows) => Yaml::Sequence(
            rows.iter()
                .map(|row| {
                    let mut entries = Mapping::new();
                    for (column, cell) in columns.iter().zip(row) {
                        if !column.required && cell.is_empty() {
                            continue;
                        }
                        let cell = match cell.parse::<u64>() {
                            Ok(number) if column.number => number.into(),
                            _ => cell.as_str().into(),
                        };
                        entries.insert(column.name.into(), cell);
                    }
                    Yaml::Mapping(entries)
                })
                .collect(),
        ),
    }
}
